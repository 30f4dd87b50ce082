//! Painchaud et al.'s 16 anatomical criteria: lightbox against the Python computation
//! (`scripts/painchaud_vectors.py`, the `vital` library's semantics with SciPy and
//! scikit-image) on 72 generated short-axis masks with holes, fragments, gaps, detached and
//! touching ventricles, open myocardia, dents, star shapes, noise, absent structures and
//! structures cut by the image border.
//!
//! Two checks: every measured value equals Python's (integers exactly, distances and ratios to
//! 1e-9), and the rule engine with `examples/rules/painchaud-acdc.toml` fires exactly the
//! criteria that fail in Python, case by case. The committed copy of the vectors runs
//! everywhere; `scripts/test.sh` regenerates it with a live SciPy / scikit-image first.
// tests: a failed unwrap is a failed run, not a crash in a user's hands
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lightbox::geometry::{BinaryMask, LabelMask, measure};
use lightbox::pack::{Pack, Source};
use lightbox::rules::{RuleSet, evaluate};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

fn vectors() -> Value {
    let path = std::env::var("LIGHTBOX_PAINCHAUD_VECTORS")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/painchaud.json").to_string());
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).expect("vectors are JSON")
}

fn labels(case: &Value) -> LabelMask {
    let (w, h) = (
        case["width"].as_u64().unwrap() as u32,
        case["height"].as_u64().unwrap() as u32,
    );
    let runs: Vec<u64> = case["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    let mut data = Vec::with_capacity((w * h) as usize);
    for pair in runs.chunks(2) {
        data.extend(std::iter::repeat_n(pair[0] as u16, pair[1] as usize));
    }
    LabelMask::new(w, h, data).expect("size")
}

const RV: u16 = 1;
const MYO: u16 = 2;
const LV: u16 = 3;

/// The 16 criteria from lightbox's measurements, before thresholds (as vital reports them).
fn criteria(seg: &LabelMask, spacing: f64) -> BTreeMap<&'static str, Option<f64>> {
    let (lv, rv, myo, bg) = (seg.binary(LV), seg.binary(RV), seg.binary(MYO), seg.binary(0));
    let floor = (seg.width() * seg.height()) as f64 / 16384.0;
    let holes_myo = {
        let n = measure::hole_pixels(&myo).0;
        if n == 0 {
            0
        } else {
            n - measure::first_component_area(&lv)
        }
    };
    let gap = |a: &BinaryMask, b: &BinaryMask| {
        let n = measure::gap_between(a, b).0 as f64;
        if n > floor { n } else { 0.0 }
    };
    let frontier = |a: &BinaryMask, b: &BinaryMask| {
        let n = measure::frontier(a, b).0;
        if n > 1 { n as f64 } else { 0.0 }
    };
    let concavity = |m: &BinaryMask| measure::concavity_depth(m).map(|(d, _)| d * spacing);
    BTreeMap::from([
        ("holes_in_lv", Some(measure::hole_pixels(&lv).0 as f64)),
        ("holes_in_rv", Some(measure::hole_pixels(&rv).0 as f64)),
        ("holes_in_myo", Some(holes_myo as f64)),
        (
            "disconnectivity_in_lv",
            Some(measure::disconnected_pixels(&lv).0 as f64),
        ),
        (
            "disconnectivity_in_rv",
            Some(measure::disconnected_pixels(&rv).0 as f64),
        ),
        (
            "disconnectivity_in_myo",
            Some(measure::disconnected_pixels(&myo).0 as f64),
        ),
        ("holes_between_lv_and_myo", Some(gap(&lv, &myo))),
        ("holes_between_rv_and_myo", Some(gap(&rv, &myo))),
        (
            "rv_disconnected_from_myo",
            Some(measure::gap_distance(&rv, &myo).map(|d| d * spacing).unwrap_or(0.0)),
        ),
        ("frontier_between_lv_and_rv", Some(frontier(&lv, &rv))),
        ("frontier_between_lv_and_background", Some(frontier(&lv, &bg))),
        ("lv_concavity", concavity(&lv)),
        ("rv_concavity", concavity(&rv)),
        ("myo_concavity", concavity(&myo)),
        ("lv_circularity", measure::circularity(&lv)),
        ("myo_circularity", measure::circularity(&myo)),
    ])
}

#[test]
fn every_criterion_value_equals_the_python_computation() {
    let v = vectors();
    let cases = v["cases"].as_array().unwrap();
    assert!(cases.len() >= 60);
    let mut compared = 0;
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let spacing = case["spacing"].as_f64().unwrap();
        let ours = criteria(&labels(case), spacing);
        for (key, want) in case["values"].as_object().unwrap() {
            let got = ours[key.as_str()];
            match (want.as_f64(), got) {
                (None, None) => {}
                (Some(w), Some(g)) => assert!(
                    (w - g).abs() <= 1e-9 * w.abs().max(1.0),
                    "{name} {key}: Python {w}, lightbox {g} (defects {})",
                    case["defects"]
                ),
                (w, g) => panic!("{name} {key}: Python {w:?}, lightbox {g:?}"),
            }
            compared += 1;
        }
    }
    assert_eq!(compared, cases.len() * 16);
}

#[test]
fn the_rule_engine_fires_exactly_the_failing_criteria() {
    let v = vectors();
    let cases = v["cases"].as_array().unwrap();
    let rules_text = include_str!("../examples/rules/painchaud-acdc.toml");
    let mut by_spacing: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for c in cases {
        by_spacing
            .entry(format!("{}", c["spacing"].as_f64().unwrap()))
            .or_default()
            .push(c);
    }
    let mut failing_cases = 0;
    let mut fired_total = 0;
    for (spacing, group) in by_spacing {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("images")).unwrap();
        std::fs::create_dir_all(root.join("masks")).unwrap();
        for c in &group {
            let seg = labels(c);
            let name = format!("{}.png", c["name"].as_str().unwrap());
            let grey: Vec<u8> = seg.as_slice().iter().map(|&l| (l * 60) as u8).collect();
            image::GrayImage::from_raw(seg.width(), seg.height(), grey)
                .unwrap()
                .save(root.join("images").join(&name))
                .unwrap();
            lightbox::formats::label_png::write(&root.join("masks").join(&name), &seg).unwrap();
        }
        std::fs::write(
            root.join("lightbox.toml"),
            "name = \"sax\"\nimages = \"images\"\nrules = \"rules.toml\"\n\
             [[classes]]\nid = 1\nname = \"rv\"\nkind = \"region\"\n\
             [[classes]]\nid = 2\nname = \"myo\"\nkind = \"region\"\n\
             [[classes]]\nid = 3\nname = \"lv\"\nkind = \"region\"\n\
             [ground_truth]\nmasks = \"masks\"\n",
        )
        .unwrap();
        let rules = rules_text.replace("pixel_spacing_mm = 1.25", &format!("pixel_spacing_mm = {spacing}"));
        assert_ne!(
            rules,
            rules_text.replace("1.25", "x"),
            "the spacing line is where the test expects it"
        );
        std::fs::write(root.join("rules.toml"), &rules).unwrap();
        let pack = Pack::open(root).unwrap();
        let rs = RuleSet::load(&root.join("rules.toml"), &pack).unwrap();
        assert_eq!(rs.rules.len(), 16);
        let flags = evaluate(&pack, &rs, &[Source::GroundTruth]);
        for c in group {
            let name = c["name"].as_str().unwrap();
            let idx = pack
                .cases
                .iter()
                .position(|k| k.id.0.trim_end_matches(".png") == name)
                .expect("case in pack");
            let fired: BTreeSet<&str> = flags
                .iter()
                .filter(|f| f.case == idx)
                .map(|f| f.rule.as_str())
                .collect();
            let want: BTreeSet<&str> = c["errors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e.as_str().unwrap())
                .collect();
            assert_eq!(fired, want, "{name} (defects {}, spacing {spacing})", c["defects"]);
            failing_cases += !want.is_empty() as usize;
            fired_total += fired.len();
            for f in flags.iter().filter(|f| f.case == idx) {
                assert!(f.message.contains(&f.rule), "{}", f.message);
            }
        }
    }
    // the vectors exercise every criterion
    assert!(
        failing_cases >= 40 && fired_total >= 150,
        "{failing_cases} {fired_total}"
    );
}
