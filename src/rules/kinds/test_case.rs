//! A tiny pack for the rule kinds' unit tests: one 32×32 case whose ground truth is a label mask
//! drawn with rectangles (classes `a` = 1, `b` = 2, `c` = 3) and, optionally, `lesion` boxes (a
//! COCO file, class 4), checked with one rule given as the body of a `[[rule]]`.

use crate::pack::{Pack, Source};
use crate::rules::RuleSet;
use crate::rules::eval::{CaseMasks, Finding};
use std::path::Path;

pub(super) const W: u32 = 32;

/// A label mask, drawn with [`Canvas::rect`].
pub(super) struct Canvas(Vec<u8>);

impl Canvas {
    /// All background.
    pub fn new() -> Canvas {
        Canvas(vec![0; (W * W) as usize])
    }

    /// `[x0, x1) × [y0, y1)` set to `value` (0 clears).
    pub fn rect(mut self, x0: u32, y0: u32, x1: u32, y1: u32, value: u8) -> Canvas {
        for y in y0..y1 {
            for x in x0..x1 {
                self.0[(y * W + x) as usize] = value;
            }
        }
        self
    }
}

/// What the rule (`kind = ...` and its parameters) finds on the canvas with `lesions` boxes
/// (COCO `[x, y, w, h]`), the rules file's `[settings]` being `settings`.
pub(super) fn findings_with(settings: &str, rule: &str, canvas: &Canvas, lesions: &[[f64; 4]]) -> Vec<Finding> {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    std::fs::create_dir_all(d.join("images")).unwrap();
    std::fs::create_dir_all(d.join("gt")).unwrap();
    image::GrayImage::from_pixel(W, W, image::Luma([90]))
        .save(d.join("images/case.png"))
        .unwrap();
    image::GrayImage::from_raw(W, W, canvas.0.clone())
        .unwrap()
        .save(d.join("gt/case.png"))
        .unwrap();
    let mut manifest = String::from("name = \"kinds\"\n");
    for (id, name, kind) in [
        (1, "a", "region"),
        (2, "b", "region"),
        (3, "c", "region"),
        (4, "lesion", "finding"),
    ] {
        manifest.push_str(&format!(
            "[[classes]]\nid = {id}\nname = \"{name}\"\nkind = \"{kind}\"\n"
        ));
    }
    manifest.push_str("[ground_truth]\nmasks = \"gt\"\n");
    if !lesions.is_empty() {
        let anns: Vec<serde_json::Value> = lesions
            .iter()
            .enumerate()
            .map(|(i, b)| {
                serde_json::json!({"id": i + 1, "image_id": 1, "category_id": 4, "bbox": b, "area": b[2] * b[3], "iscrowd": 0})
            })
            .collect();
        let coco = serde_json::json!({
            "images": [{"id": 1, "file_name": "case.png", "width": W, "height": W}],
            "annotations": anns,
            "categories": [{"id": 4, "name": "lesion"}],
        });
        std::fs::write(d.join("gt.json"), coco.to_string()).unwrap();
        manifest.push_str("coco = \"gt.json\"\n");
    }
    std::fs::write(d.join("lightbox.toml"), manifest).unwrap();
    let pack = Pack::open(d).unwrap();
    assert!(pack.problems.is_empty(), "{:?}", pack.problems);
    let text = format!("{settings}\n[[rule]]\nid = \"r\"\nseverity = \"major\"\n{rule}");
    let rules = RuleSet::parse(&text, Path::new("rules.toml"), &pack).unwrap();
    let masks = CaseMasks::load(&pack, &rules, 0, &[Source::GroundTruth]).unwrap();
    super::check(&rules.rules[0], &masks, Source::GroundTruth, Source::GroundTruth)
}

/// [`findings_with`] without settings.
pub(super) fn findings(rule: &str, canvas: &Canvas, lesions: &[[f64; 4]]) -> Vec<Finding> {
    findings_with("", rule, canvas, lesions)
}

/// The sentences of [`findings_with`].
pub(super) fn messages_with(settings: &str, rule: &str, canvas: &Canvas, lesions: &[[f64; 4]]) -> Vec<String> {
    findings_with(settings, rule, canvas, lesions)
        .into_iter()
        .map(|f| f.message)
        .collect()
}

/// The sentences of [`findings`].
pub(super) fn messages(rule: &str, canvas: &Canvas, lesions: &[[f64; 4]]) -> Vec<String> {
    messages_with("", rule, canvas, lesions)
}
