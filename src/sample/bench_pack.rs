//! Large synthetic packs for benchmarks: COCO ground truth and a results file with a chosen
//! number of cases and predictions (boxes with scores), no image files (opening a pack never
//! touches pixels). Deterministic for a seed.

use super::chest::to_json;
use super::rng::Rng;
use crate::formats::coco::{CocoAnnotationOut, CocoCategory, CocoId, CocoImage, CocoInstancesOut, CocoResultOut};
use crate::fsutil::write_atomic;
use std::io;
use std::path::Path;

pub const CLASSES: [&str; 5] = ["opacity", "nodule", "effusion", "pneumothorax", "device"];

/// Write `lightbox.toml`, `gt.json` and `results.json` into `out`.
pub fn write(out: &Path, cases: usize, predictions: usize, seed: u64) -> io::Result<()> {
    std::fs::create_dir_all(out.join("images"))?;
    let mut rng = Rng::new(seed);
    let mut gt = CocoInstancesOut {
        categories: CLASSES
            .iter()
            .enumerate()
            .map(|(k, n)| CocoCategory {
                id: k as i64 + 1,
                name: (*n).into(),
                supercategory: None,
            })
            .collect(),
        ..Default::default()
    };
    let (w, h) = (1024u32, 1024u32);
    let mut ann_id = 1;
    for i in 0..cases {
        gt.images.push(CocoImage {
            id: CocoId::Int(i as i64 + 1),
            file_name: format!("img-{i:06}.png"),
            width: w as u64,
            height: h as u64,
        });
        for _ in 0..rng.below(6) {
            let (bw, bh) = (rng.range(8.0, 200.0), rng.range(8.0, 200.0));
            let b = [rng.range(0.0, w as f64 - bw), rng.range(0.0, h as f64 - bh), bw, bh]
                .map(|v| (v * 100.0f64).round() / 100.0);
            gt.annotations.push(CocoAnnotationOut {
                id: ann_id,
                image_id: i as i64 + 1,
                category_id: 1 + rng.below(CLASSES.len()) as i64,
                bbox: b,
                area: b[2] * b[3],
                iscrowd: 0,
                segmentation: None,
            });
            ann_id += 1;
        }
    }
    let mut results = Vec::with_capacity(predictions);
    for k in 0..predictions {
        let image_id = (k % cases.max(1)) as i64 + 1;
        let (bw, bh) = (rng.range(8.0, 200.0), rng.range(8.0, 200.0));
        let b = [rng.range(0.0, w as f64 - bw), rng.range(0.0, h as f64 - bh), bw, bh]
            .map(|v| (v * 100.0f64).round() / 100.0);
        results.push(CocoResultOut {
            image_id,
            category_id: 1 + rng.below(CLASSES.len()) as i64,
            bbox: b,
            score: (rng.f64() * 1000.0).round() / 1000.0,
            segmentation: None,
        });
    }
    write_atomic(&out.join("gt.json"), to_json(&gt).as_bytes())?;
    write_atomic(&out.join("results.json"), to_json(&results).as_bytes())?;
    let manifest = "name = \"bench\"\nimages = \"images\"\n\n[ground_truth]\ncoco = \"gt.json\"\n\n[runs.model]\ncoco = \"results.json\"\n";
    write_atomic(&out.join("lightbox.toml"), manifest.as_bytes())?;
    Ok(())
}
