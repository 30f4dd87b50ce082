//! The `chest-phantom` sample pack: synthetic PA chest radiographs (8-bit JPEG and 12-bit data
//! in 16-bit PNG), ground-truth masks for both lungs and the heart, opacity boxes and outlines,
//! image-level labels, and two runs (`baseline`, `candidate`) with realistic errors (border
//! wobble, missed and extra opacities) and a few anatomically impossible predictions planted on
//! purpose. `planted.toml` records every planted case and why, for tests of later features.

use super::phantom::{self, Phantom};
use super::rng::Rng;
use crate::formats::coco::{
    CocoAnnotationOut, CocoCategory, CocoId, CocoImage, CocoInstancesOut, CocoResultOut, RleOut,
};
use crate::formats::label_png;
use crate::fsutil::write_atomic;
use crate::geometry::{BinaryMask, LabelMask, Rle, polygon};
use crate::pack::{ClassKind, ClassSpec, Manifest, Sources};
use indexmap::IndexMap;
use serde::Serialize;
use std::io;
use std::path::{Path, PathBuf};

pub const DEFAULT_SEED: u64 = 20261125;

/// The sample's anatomy rules (also the chest example in docs/rules.md).
pub const RULES: &str = include_str!("chest_rules.toml");
pub const SIZE: u32 = 512;

/// Class ids (also label-mask values).
const RIGHT_LUNG: u32 = 1;
const LEFT_LUNG: u32 = 2;
const HEART: u32 = 3;
const OPACITY: u32 = 4;

/// One planted error or out-of-distribution input, as recorded in `planted.toml`.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct Planted {
    pub case: String,
    /// The run that carries it (`baseline`, `candidate`), or `input` for the image itself.
    pub run: String,
    /// `finding_outside_region`, `fragmented_region`, `wrong_side`, `hole_in_region`, `out_of_distribution`.
    pub kind: String,
    pub classes: Vec<String>,
    pub why: String,
}

#[derive(Serialize, serde::Deserialize)]
pub struct PlantedFile {
    pub planted: Vec<Planted>,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Chest,
    Bottle,
    Knee,
}

fn case_kind(i: usize) -> Kind {
    match i {
        17 => Kind::Bottle,
        33 => Kind::Knee,
        _ => Kind::Chest,
    }
}

fn is_16bit(i: usize) -> bool {
    i.is_multiple_of(5)
}

fn file_name(i: usize) -> String {
    format!("case-{i:03}.{}", if is_16bit(i) { "png" } else { "jpg" })
}

fn stem(i: usize) -> String {
    format!("case-{i:03}")
}

/// A mask's border moved by up to about `amp` pixels, smoothly varying along the border.
#[allow(clippy::expect_used)] // cannot fail: the masks combined here are made at one size
fn wobble(m: &BinaryMask, rng: &mut Rng, amp: f64, bias: f64) -> BinaryMask {
    let (w, h) = (m.width() as usize, m.height() as usize);
    if m.area() == 0 {
        return m.clone();
    }
    let mut f: Vec<f32> = m.as_slice().iter().map(|&v| v as f32).collect();
    phantom::blur(&mut f, w, h, amp.max(1.0) as usize, 2);
    let mut noise: Vec<f32> = (0..w * h).map(|_| rng.normal() as f32).collect();
    phantom::blur(&mut noise, w, h, 12, 2);
    let max = noise.iter().fold(0f32, |a, &b| a.max(b.abs())).max(1e-6);
    let data = f
        .iter()
        .zip(&noise)
        .map(|(&v, &n)| (v as f64 > 0.5 - bias - 0.35 * (n / max) as f64) as u8)
        .collect();
    BinaryMask::from_row_major(m.width(), m.height(), data).expect("same size")
}

/// Cut horizontal gaps through a region so it falls apart into `pieces` pieces.
fn fragment(m: &BinaryMask, pieces: usize) -> BinaryMask {
    let Some(b) = m.bbox() else { return m.clone() };
    let mut out = m.clone();
    for k in 1..pieces {
        let yc = b.y + b.h * k as f64 / pieces as f64;
        for y in (yc - 4.0) as u32..(yc + 4.0) as u32 {
            for x in 0..m.width() {
                out.set(x, y, false);
            }
        }
    }
    out
}

/// Punch a round hole of radius `r` at the region's centroid.
fn punch_hole(m: &BinaryMask, r: f64) -> BinaryMask {
    let Some((cx, cy)) = m.centroid() else {
        return m.clone();
    };
    let mut out = m.clone();
    for y in 0..m.height() {
        for x in 0..m.width() {
            if ((x as f64 + 0.5 - cx).powi(2) + (y as f64 + 0.5 - cy).powi(2)).sqrt() < r {
                out.set(x, y, false);
            }
        }
    }
    out
}

fn mirror(m: &BinaryMask) -> BinaryMask {
    let mut out = BinaryMask::new(m.width(), m.height());
    for y in 0..m.height() {
        for x in 0..m.width() {
            if m.get(x, y) {
                out.set(m.width() - 1 - x, y, true);
            }
        }
    }
    out
}

fn ellipse(w: u32, h: u32, b: [f64; 4]) -> BinaryMask {
    let (cx, cy, rx, ry) = (b[0] + b[2] / 2.0, b[1] + b[3] / 2.0, b[2] / 2.0, b[3] / 2.0);
    let mut m = BinaryMask::new(w, h);
    for y in (b[1].max(0.0) as u32)..((b[1] + b[3]).min(h as f64) as u32) {
        for x in (b[0].max(0.0) as u32)..((b[0] + b[2]).min(w as f64) as u32) {
            let (u, v) = ((x as f64 + 0.5 - cx) / rx, (y as f64 + 0.5 - cy) / ry);
            if u * u + v * v <= 1.0 {
                m.set(x, y, true);
            }
        }
    }
    m
}

/// Label mask from region masks; the heart wins where they overlap (lung masks exclude it).
#[allow(clippy::expect_used)] // cannot fail: the masks combined here are made at one size
fn label_mask(right: &BinaryMask, left: &BinaryMask, heart: &BinaryMask) -> LabelMask {
    let n = right.as_slice().len();
    let mut data = vec![0u16; n];
    for (i, v) in data.iter_mut().enumerate() {
        *v = if heart.as_slice()[i] != 0 {
            HEART as u16
        } else if right.as_slice()[i] != 0 {
            RIGHT_LUNG as u16
        } else if left.as_slice()[i] != 0 {
            LEFT_LUNG as u16
        } else {
            0
        };
    }
    LabelMask::new(right.width(), right.height(), data).expect("same size")
}

#[allow(clippy::expect_used)] // cannot fail: the phantom holds w*h values
fn write_image(path: &Path, p: &Phantom, sixteen: bool) -> io::Result<()> {
    let to_io = |e: image::ImageError| io::Error::other(e.to_string());
    if sixteen {
        // 12-bit detector data stored in 16-bit PNG, as many DR exports do
        let data: Vec<u16> = p.image.iter().map(|&v| (v * 4095.0).round() as u16).collect();
        image::ImageBuffer::<image::Luma<u16>, Vec<u16>>::from_raw(p.width, p.height, data)
            .expect("w*h values")
            .save(path)
            .map_err(to_io)
    } else {
        let data: Vec<u8> = p.image.iter().map(|&v| (v * 255.0).round() as u8).collect();
        let file = std::fs::File::create(path)?;
        let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(io::BufWriter::new(file), 88);
        enc.encode(&data, p.width, p.height, image::ExtendedColorType::L8)
            .map_err(to_io)
    }
}

struct RunErrors {
    name: &'static str,
    border: f64,
    p_detect: f64,
    p_false: f64,
}

/// Write the sample pack into `out` (created if needed). Returns the planted list.
#[allow(clippy::expect_used, clippy::unwrap_used)] // cannot fail: the masks combined here are made at one size
pub fn write(out: &Path, n_cases: usize, seed: u64) -> io::Result<Vec<Planted>> {
    let dirs = [
        "images",
        "ground_truth/masks",
        "runs/baseline/masks",
        "runs/candidate/masks",
    ];
    for d in dirs {
        std::fs::create_dir_all(out.join(d))?;
    }
    let mut rng = Rng::new(seed);
    let runs = [
        RunErrors {
            name: "baseline",
            border: 4.0,
            p_detect: 0.72,
            p_false: 0.45,
        },
        RunErrors {
            name: "candidate",
            border: 2.5,
            p_detect: 0.88,
            p_false: 0.25,
        },
    ];
    let mut planted: Vec<Planted> = Vec::new();
    let mut plant = |case: usize, run: &str, kind: &str, classes: &[&str], why: &str| {
        planted.push(Planted {
            case: file_name(case),
            run: run.into(),
            kind: kind.into(),
            classes: classes.iter().map(|s| s.to_string()).collect(),
            why: why.into(),
        })
    };
    plant(
        17,
        "input",
        "out_of_distribution",
        &[],
        "A water-bottle calibration phantom, not a chest: no lungs, no heart, and a density histogram unlike any chest",
    );
    plant(
        33,
        "input",
        "out_of_distribution",
        &[],
        "A knee radiograph: another body part in a chest X-ray stream",
    );
    plant(
        7,
        "candidate",
        "finding_outside_region",
        &["opacity"],
        "An opacity detected below the diaphragm, outside both lungs (score 0.91): anatomically impossible",
    );
    plant(
        13,
        "candidate",
        "fragmented_region",
        &["right_lung"],
        "The right lung mask falls apart into four pieces; a lung is one piece",
    );
    plant(
        21,
        "candidate",
        "wrong_side",
        &["heart"],
        "The heart mask is mirrored onto the patient's right (image left), right of the right lung's centroid",
    );
    plant(
        29,
        "candidate",
        "hole_in_region",
        &["left_lung"],
        "The left lung mask has a round hole in its middle; lung masks have no holes",
    );
    plant(
        24,
        "baseline",
        "fragmented_region",
        &["left_lung"],
        "The left lung mask falls apart into three pieces",
    );

    let mut gt = CocoInstancesOut {
        categories: [
            (RIGHT_LUNG, "right_lung"),
            (LEFT_LUNG, "left_lung"),
            (HEART, "heart"),
            (OPACITY, "opacity"),
        ]
        .iter()
        .map(|&(id, n)| CocoCategory {
            id: id as i64,
            name: n.into(),
            supercategory: Some(if id == OPACITY { "finding" } else { "anatomy" }.into()),
        })
        .collect(),
        ..Default::default()
    };
    let mut results: Vec<Vec<CocoResultOut>> = vec![Vec::new(), Vec::new()];
    let mut gt_labels = String::from("image,opacity\n");
    let mut run_scores = [String::from("image,opacity\n"), String::from("image,opacity\n")];
    let mut ann_id = 1i64;

    for i in 1..=n_cases {
        let (w, h) = (SIZE, SIZE);
        let kind = case_kind(i);
        let p = match kind {
            Kind::Chest => {
                let n_op = if rng.chance(0.55) { 1 + rng.below(3) } else { 0 };
                phantom::chest(&mut rng, w, h, n_op)
            }
            Kind::Bottle => phantom::bottle(&mut rng, w, h),
            Kind::Knee => phantom::knee(&mut rng, w, h),
        };
        write_image(&out.join("images").join(file_name(i)), &p, is_16bit(i))?;
        label_png::write(
            &out.join("ground_truth/masks").join(format!("{}.png", stem(i))),
            &label_mask(&p.right_lung, &p.left_lung, &p.heart),
        )
        .map_err(|e| io::Error::other(e.to_string()))?;
        gt.images.push(CocoImage {
            id: CocoId::Int(i as i64),
            file_name: file_name(i),
            width: w as u64,
            height: h as u64,
        });
        for o in &p.opacities {
            let rle = polygon::rasterize(&o.outline, h, w);
            gt.annotations.push(CocoAnnotationOut {
                id: ann_id,
                image_id: i as i64,
                category_id: OPACITY as i64,
                bbox: o.bbox().map(round2),
                area: rle.area() as f64,
                iscrowd: 0,
                segmentation: Some(serde_json::json!([o
                    .outline
                    .iter()
                    .map(|v| round2(*v))
                    .collect::<Vec<_>>()])),
            });
            ann_id += 1;
        }
        gt_labels.push_str(&format!("{},{}\n", file_name(i), (!p.opacities.is_empty()) as u8));

        let lungs = p.right_lung.union(&p.left_lung).expect("same size");
        let lung_pixels: Vec<usize> = lungs
            .as_slice()
            .iter()
            .enumerate()
            .filter(|(_, v)| **v != 0)
            .map(|(k, _)| k)
            .collect();
        for (r, run) in runs.iter().enumerate() {
            // region masks: border wobble; garbage on inputs that are not chests
            let (mut right, mut left, mut heart) = if kind == Kind::Chest {
                let biases = [rng.range(-0.05, 0.05), rng.range(-0.05, 0.05), rng.range(-0.1, 0.05)];
                (
                    wobble(&p.right_lung, &mut rng, run.border, biases[0]),
                    wobble(&p.left_lung, &mut rng, run.border, biases[1]),
                    wobble(&p.heart, &mut rng, run.border * 1.5, biases[2]),
                )
            } else {
                let blob = |rng: &mut Rng, x: f64| {
                    ellipse(
                        w,
                        h,
                        [
                            x * w as f64,
                            rng.range(0.3, 0.5) * h as f64,
                            rng.range(40.0, 90.0),
                            rng.range(60.0, 140.0),
                        ],
                    )
                };
                (blob(&mut rng, 0.25), blob(&mut rng, 0.6), BinaryMask::new(w, h))
            };
            match (run.name, i) {
                ("candidate", 13) => right = fragment(&right, 4),
                ("candidate", 21) => heart = mirror(&heart),
                ("candidate", 29) => left = punch_hole(&left, 18.0),
                ("baseline", 24) => left = fragment(&left, 3),
                _ => {}
            }
            label_png::write(
                &out.join("runs")
                    .join(run.name)
                    .join("masks")
                    .join(format!("{}.png", stem(i))),
                &label_mask(&right, &left, &heart),
            )
            .map_err(|e| io::Error::other(e.to_string()))?;

            // opacity detections
            let mut best = 0f64;
            let mut push = |bbox: [f64; 4], score: f64, with_mask: bool, results: &mut Vec<CocoResultOut>| {
                let bbox = clip([bbox[0], bbox[1], bbox[2], bbox[3]], w, h);
                let segmentation = with_mask.then(|| {
                    let r = Rle::encode(&ellipse(w, h, bbox));
                    RleOut {
                        size: [h, w],
                        counts: r.to_compressed(),
                    }
                });
                best = best.max(score);
                results.push(CocoResultOut {
                    image_id: i as i64,
                    category_id: OPACITY as i64,
                    bbox: bbox.map(round2),
                    score: round3(score),
                    segmentation,
                });
            };
            let with_mask = run.name == "candidate";
            for o in &p.opacities {
                if rng.chance(run.p_detect) {
                    let b = o.bbox();
                    let j = |rng: &mut Rng, s: f64| rng.range(-0.12, 0.12) * s;
                    let jb = [
                        b[0] + j(&mut rng, b[2]),
                        b[1] + j(&mut rng, b[3]),
                        b[2] * rng.range(0.85, 1.2),
                        b[3] * rng.range(0.85, 1.2),
                    ];
                    let s = rng.range(0.55, 0.97);
                    push(jb, s, with_mask, &mut results[r]);
                }
            }
            if !lung_pixels.is_empty() && rng.chance(run.p_false) {
                let k = lung_pixels[rng.below(lung_pixels.len())];
                let (cx, cy) = ((k % w as usize) as f64, (k / w as usize) as f64);
                let (bw, bh) = (rng.range(18.0, 50.0), rng.range(18.0, 45.0));
                let s = rng.range(0.12, 0.6);
                push([cx - bw / 2.0, cy - bh / 2.0, bw, bh], s, with_mask, &mut results[r]);
            }
            if kind != Kind::Chest && rng.chance(0.7) {
                let s = rng.range(0.3, 0.8);
                push(
                    [rng.range(150.0, 300.0), rng.range(150.0, 300.0), 60.0, 50.0],
                    s,
                    with_mask,
                    &mut results[r],
                );
            }
            if run.name == "candidate" && i == 7 {
                // planted: an opacity in the upper abdomen, below the left hemidiaphragm
                push([300.0, 430.0, 56.0, 40.0], 0.91, with_mask, &mut results[r]);
            }
            let image_score = if best > 0.0 { best } else { rng.range(0.02, 0.3) };
            run_scores[r].push_str(&format!("{},{:.3}\n", file_name(i), image_score));
        }
    }

    write_atomic(&out.join("ground_truth/instances.json"), to_json(&gt).as_bytes())?;
    write_atomic(&out.join("ground_truth/labels.csv"), gt_labels.as_bytes())?;
    for (r, run) in runs.iter().enumerate() {
        let dir = out.join("runs").join(run.name);
        write_atomic(&dir.join("detections.json"), to_json(&results[r]).as_bytes())?;
        write_atomic(&dir.join("scores.csv"), run_scores[r].as_bytes())?;
    }
    write_atomic(&out.join("lightbox.toml"), manifest_text(n_cases).as_bytes())?;
    write_atomic(&out.join("rules.toml"), RULES.as_bytes())?;
    let planted_text = format!(
        "# Errors and inputs planted on purpose by `lightbox sample` (seed {seed}).\n# Tests check that lightbox's flags find each of them.\n{}",
        toml::to_string_pretty(&PlantedFile {
            planted: planted.clone()
        })
        .expect("serialisable")
    );
    write_atomic(&out.join("planted.toml"), planted_text.as_bytes())?;
    Ok(planted)
}

/// Compact JSON with a trailing newline.
#[allow(clippy::expect_used)] // cannot fail: plain data (strings, numbers, maps) always serialises to JSON
pub fn to_json<T: Serialize>(v: &T) -> String {
    let mut s = serde_json::to_string(v).expect("serialisable");
    s.push('\n');
    s
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

fn clip(b: [f64; 4], w: u32, h: u32) -> [f64; 4] {
    let x1 = b[0].clamp(0.0, w as f64);
    let y1 = b[1].clamp(0.0, h as f64);
    let x2 = (b[0] + b[2]).clamp(0.0, w as f64);
    let y2 = (b[1] + b[3]).clamp(0.0, h as f64);
    [x1, y1, x2 - x1, y2 - y1]
}

/// The sample's manifest, also a worked example of every common key.
pub fn manifest(n_cases: usize) -> Manifest {
    let class = |id: u32, name: &str, kind: ClassKind, color: &str| ClassSpec {
        id,
        name: name.into(),
        kind,
        color: Some(color.into()),
        mask_value: None,
    };
    let run = |name: &str, desc: &str, model: &str| {
        (
            name.to_string(),
            Sources {
                description: Some(desc.into()),
                model: Some(model.into()),
                coco: Some(PathBuf::from(format!("runs/{name}/detections.json"))),
                masks: Some(PathBuf::from(format!("runs/{name}/masks"))),
                scores: Some(PathBuf::from(format!("runs/{name}/scores.csv"))),
                ..Default::default()
            },
        )
    };
    Manifest {
        name: "chest-phantom".into(),
        version: Some("1.0.0".into()),
        description: Some(format!(
            "{n_cases} synthetic PA chest radiograph phantoms: lungs, heart and opacities as ground truth, and two model runs with realistic and planted errors. Generated by `lightbox sample`."
        )),
        images: PathBuf::from("images"),
        rules: Some(PathBuf::from("rules.toml")),
        // Okabe–Ito colours: distinguishable with the common colour-vision deficiencies
        classes: vec![
            class(RIGHT_LUNG, "right_lung", ClassKind::Region, "#0072b2"),
            class(LEFT_LUNG, "left_lung", ClassKind::Region, "#009e73"),
            class(HEART, "heart", ClassKind::Region, "#cc79a7"),
            class(OPACITY, "opacity", ClassKind::Finding, "#e69f00"),
        ],
        ground_truth: Sources {
            description: Some("Exact masks and opacity outlines from the phantom generator".into()),
            coco: Some(PathBuf::from("ground_truth/instances.json")),
            masks: Some(PathBuf::from("ground_truth/masks")),
            scores: Some(PathBuf::from("ground_truth/labels.csv")),
            ..Default::default()
        },
        runs: IndexMap::from([
            run(
                "baseline",
                "The released model: looser borders, misses more opacities",
                "chest-seg 2.2.0 (synthetic)",
            ),
            run(
                "candidate",
                "The release candidate: tighter borders, better recall, and a few impossible outputs",
                "chest-seg 2.3.0-rc1 (synthetic)",
            ),
        ]),
        review: Default::default(),
        read_outside: Vec::new(),
    }
}

fn manifest_text(n_cases: usize) -> String {
    format!(
        "# lightbox pack manifest; every key is described in docs/formats.md.\n# Generated by `lightbox sample`: regenerate rather than edit.\n{}",
        manifest(n_cases).to_toml()
    )
}
