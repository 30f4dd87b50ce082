//! `lightbox metrics` end to end: the sample pack's figures, the reference check that passes for
//! `baseline` and fails for a degraded copy, bad reference files, and the COCO figures of the
//! command line equal to pycocotools'.
// tests: a failed unwrap is a failed run, not a crash in a user's hands
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::{copy_dir, sample};

use assert_cmd::Command;
use serde_json::Value;
use std::path::Path;

fn metrics(args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("lightbox")
        .unwrap()
        .arg("metrics")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn sample_pack_metrics_cover_detection_segmentation_and_classification() {
    let s = sample();
    let (code, out, err) = metrics(&[
        s.to_str().unwrap(),
        "--run",
        "candidate",
        "--json",
        "--bootstrap",
        "200",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["run"], "candidate");
    let coco = v["coco"].as_array().unwrap();
    assert_eq!(coco.len(), 2, "bbox and segm");
    let ap = coco[0]["stats"][0][1].as_f64().unwrap();
    assert!(ap > 0.2 && ap < 1.0, "AP {ap}");
    let seg = v["segmentation"]["classes"].as_array().unwrap();
    let names: Vec<&str> = seg.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["right_lung", "left_lung", "heart"]);
    for c in seg {
        let d = c["mean_dice"].as_f64().unwrap();
        assert!(d > 0.8 && d <= 1.0, "{d}");
        assert!(c["median_hd95"].as_f64().unwrap() >= 0.0);
    }
    let cls = &v["classification"][0];
    assert_eq!(cls["name"], "opacity");
    let auc = cls["roc_auc"]["value"].as_f64().unwrap();
    let [lo, hi] = [
        cls["roc_auc"]["ci95"][0].as_f64().unwrap(),
        cls["roc_auc"]["ci95"][1].as_f64().unwrap(),
    ];
    assert!(lo <= auc && auc <= hi);
    // per-case figures for every case, and the planted bottle (no lungs at all) among the worst
    let cases = v["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 40);
    let mut by_error: Vec<&Value> = cases.iter().collect();
    by_error.sort_by(|a, b| b["error"].as_f64().unwrap().total_cmp(&a["error"].as_f64().unwrap()));
    let top: Vec<&str> = by_error[..5].iter().map(|c| c["case"].as_str().unwrap()).collect();
    assert!(top.contains(&"case-017.jpg"), "{top:?}");
    // the confusion matrix agrees with the operating point
    let det = &v["detection"]["overall"];
    let m = v["confusion"]["matrix"].as_array().unwrap();
    let n = v["confusion"]["classes"].as_array().unwrap().len();
    let total_tp: u64 = (0..n).map(|k| m[k * (n + 1) + k].as_u64().unwrap()).sum();
    assert_eq!(total_tp, det["tp"].as_u64().unwrap());
}

#[test]
fn reference_check_passes_for_baseline_and_fails_for_a_degraded_copy() {
    let tmp = tempfile::tempdir().unwrap();
    let reference = tmp.path().join("baseline.json");
    let s = sample();
    let (code, _, err) = metrics(&[
        s.to_str().unwrap(),
        "--run",
        "baseline",
        "--save-reference",
        reference.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&reference).unwrap()).unwrap();
    assert!(saved["figures"].as_object().unwrap().len() > 20);

    let (code, out, err) = metrics(&[
        s.to_str().unwrap(),
        "--run",
        "baseline",
        "--reference",
        reference.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("PASSED"), "{out}");

    // the incident: a backend that rounds probabilities to 0 or 1
    let copy = tmp.path().join("degraded");
    copy_dir(&s, &copy);
    let csv = copy.join("runs/baseline/scores.csv");
    let text = std::fs::read_to_string(&csv).unwrap();
    let rounded: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                return l.to_string();
            }
            let (name, v) = l.split_once(',').unwrap();
            format!("{name},{}", v.parse::<f64>().unwrap().round())
        })
        .collect();
    std::fs::write(&csv, rounded.join("\n") + "\n").unwrap();
    let det = copy.join("runs/baseline/detections.json");
    let mut d: Value = serde_json::from_str(&std::fs::read_to_string(&det).unwrap()).unwrap();
    for x in d.as_array_mut().unwrap() {
        let s = x["score"].as_f64().unwrap();
        x["score"] = serde_json::json!(s.round());
    }
    std::fs::write(&det, serde_json::to_vec(&d).unwrap()).unwrap();

    let (code, out, err) = metrics(&[
        copy.to_str().unwrap(),
        "--run",
        "baseline",
        "--reference",
        reference.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "a regression fails the test: {out}{err}");
    assert!(out.contains("FAILED"), "{out}");
    let regressed: Vec<&str> = out.lines().filter(|l| l.ends_with("REGRESSED")).collect();
    assert!(
        regressed.iter().any(|l| l.contains("classification/opacity/roc_auc")),
        "{out}"
    );
    assert!(regressed.iter().any(|l| l.contains("bbox/AP ")), "{out}");
    // and the cause is pointed out
    assert!(out.contains("binarised"), "{out}");
    // segmentation did not change: not regressed
    assert!(!regressed.iter().any(|l| l.contains("segmentation/")), "{out}");
}

#[test]
fn a_broken_reference_file_is_bad_input_named_with_its_field() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path().join("ref.json");
    std::fs::write(
        &r,
        r#"{"lightbox_reference": 1, "pack": "x", "run": "baseline", "figures": {"bbox/AP": "high"}}"#,
    )
    .unwrap();
    let s = sample();
    let (code, _, err) = metrics(&[s.to_str().unwrap(), "--reference", r.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("ref.json") && err.contains("figures"), "{err}");
    std::fs::write(&r, "{\"lightbox_reference\": 1,").unwrap();
    let (code, _, err) = metrics(&[s.to_str().unwrap(), "--reference", r.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("ref.json"), "{err}");
    let (code, _, err) = metrics(&[s.to_str().unwrap(), "--run", "nosuch"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("baseline") && err.contains("candidate"),
        "lists the runs: {err}"
    );
}

#[test]
fn command_line_coco_figures_equal_pycocotools() {
    let path = std::env::var("LIGHTBOX_COCOEVAL_VECTORS")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/cocoeval.json").to_string());
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let ds = &v["datasets"][0];
    let tmp = tempfile::tempdir().unwrap();
    let gt = tmp.path().join("gt.json");
    let res = tmp.path().join("results.json");
    std::fs::write(&gt, serde_json::to_vec(&ds["gt"]).unwrap()).unwrap();
    std::fs::write(&res, serde_json::to_vec(&ds["results"]).unwrap()).unwrap();
    let (code, out, err) = metrics(&[
        "--gt",
        gt.to_str().unwrap(),
        "--run",
        &format!("dt={}", res.display()),
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let got: Value = serde_json::from_str(&out).unwrap();
    let expect = &ds["evals"][0];
    assert_eq!(expect["iou_type"], "bbox");
    for (i, e) in expect["stats"].as_array().unwrap().iter().enumerate() {
        assert_eq!(got["coco"][0]["stats"][i][1].as_f64(), e.as_f64(), "stat {i}");
    }
}

/// Real COCO polygons (PASCAL VOC images annotated with labelme, `../shared/data`): the ground
/// truth evaluated against itself. Its annotation ids start at 0, and pycocotools counts a match
/// with id 0 as a false positive (its stats on this file: AP 0.949, APl 0.891, AR1 0.778);
/// lightbox gives the same figures, says why, and gives 1 once the ids are renumbered.
#[test]
fn real_coco_polygons_against_themselves() {
    let Some(dir) = common::shared_file("coco_labelme_voc") else {
        return;
    };
    let ann = dir.join("annotations.json");
    let run = |gt: &Path, res: &Path| {
        let (code, out, err) = metrics(&[
            "--gt",
            gt.to_str().unwrap(),
            "--images",
            dir.to_str().unwrap(),
            "--run",
            &format!("self={}", res.display()),
            "--json",
        ]);
        assert_eq!(code, 0, "{err}");
        serde_json::from_str::<Value>(&out).unwrap()
    };
    let v = run(&ann, &ann);
    let pycocotools = [
        0.949, 0.949, 0.949, 1.0, 1.0, 0.891, 0.778, 0.972, 0.972, 1.0, 1.0, 0.938,
    ];
    for s in v["coco"].as_array().unwrap() {
        for (i, want) in pycocotools.iter().enumerate() {
            let got = s["stats"][i][1].as_f64().unwrap();
            assert!(
                (got - want).abs() < 5e-4,
                "{} stat {i}: {got} vs pycocotools {want}",
                s["iou_type"]
            );
        }
    }
    assert!(
        v["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("id 0"))
    );
    // renumbered from 1: a perfect score
    let mut gt: Value = serde_json::from_str(&std::fs::read_to_string(&ann).unwrap()).unwrap();
    for a in gt["annotations"].as_array_mut().unwrap() {
        a["id"] = serde_json::json!(a["id"].as_i64().unwrap() + 1);
    }
    let tmp = tempfile::tempdir().unwrap();
    let fixed = tmp.path().join("annotations.json");
    std::fs::write(&fixed, serde_json::to_vec(&gt).unwrap()).unwrap();
    let v = run(&fixed, &fixed);
    for s in v["coco"].as_array().unwrap() {
        assert!(
            (s["stats"][0][1].as_f64().unwrap() - 1.0).abs() < 1e-12,
            "{}",
            s["stats"]
        );
    }
    assert_eq!(
        v["detection"]["overall"]["fp"], 0,
        "unscored predictions are always called"
    );
}

/// The figures at a threshold recount precision, recall and F1 from the operating curves (what
/// the dashboard compares two runs with): at the report's own threshold they are the report's
/// figures exactly, at another one the detection figures move and nothing else does.
#[test]
fn figures_at_a_threshold_recount_detection_only() {
    let pack = lightbox::pack::Pack::open(&sample()).unwrap();
    let run = pack.run_index("candidate").unwrap();
    let options = lightbox::metrics::Options {
        bootstrap: lightbox::metrics::classification::Bootstrap {
            resamples: 0,
            ..Default::default()
        },
        ..Default::default()
    };
    let r = lightbox::metrics::compute(&pack, run, &options).unwrap();
    assert_eq!(r.figures_at(options.threshold, None), r.figures());
    let at = r.figures_at(0.95, None);
    let own = r.figures();
    assert_eq!(at.len(), own.len());
    let mut moved = 0;
    for (a, b) in at.iter().zip(&own) {
        assert_eq!(a.name, b.name);
        if a.value != b.value {
            assert!(a.name.starts_with("detection/"), "{} moved with the threshold", a.name);
            moved += 1;
        }
    }
    assert!(moved > 0, "nothing moved between score ≥ 0.50 and ≥ 0.95");
    // the classification figures given take the report's place
    let none = r.figures_at(0.95, Some(&[]));
    assert!(none.iter().all(|f| !f.name.starts_with("classification/")));
    assert!(own.iter().any(|f| f.name.starts_with("classification/")));
}
