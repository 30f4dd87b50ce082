//! `lightbox check` on the sample pack finds every planted impossible prediction and
//! out-of-distribution input recorded by the generator, and raises no other critical flag;
//! on real chest X-rays with true lung masks it raises no critical flag.
// tests: a failed unwrap is a failed run, not a crash in a user's hands
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use assert_cmd::Command;
use lightbox::sample::chest::PlantedFile;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/chest-phantom")
}

fn check(args: &[&str]) -> (i32, Value) {
    let out = Command::cargo_bin("lightbox")
        .unwrap()
        .arg("check")
        .arg("--json")
        .args(args)
        .output()
        .unwrap();
    let v =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap(), v)
}

#[test]
fn check_finds_every_planted_error_and_nothing_else_critical() {
    let (code, v) = check(&[sample().to_str().unwrap()]);
    assert_eq!(code, 1, "a critical flag in a run fails the gate");
    let planted: PlantedFile =
        toml::from_str(&std::fs::read_to_string(sample().join("planted.toml")).unwrap()).unwrap();
    let flags = v["flags"].as_array().unwrap();
    for p in &planted.planted {
        let rule = match p.kind.as_str() {
            "finding_outside_region" => "opacity-in-lungs",
            "fragmented_region" => "lung-one-piece",
            "wrong_side" => "heart-on-patient-left",
            "hole_in_region" => "lung-no-holes",
            "out_of_distribution" => "input-out-of-distribution",
            other => panic!("unknown planted kind {other}"),
        };
        let found = flags
            .iter()
            .any(|f| f["case"] == p.case && f["rule"] == rule && f["source"] == p.run.as_str());
        assert!(
            found,
            "planted {} on {} ({}) was not flagged by {rule}",
            p.kind, p.case, p.run
        );
    }
    for f in flags.iter().filter(|f| f["severity"] == "critical") {
        let is_planted = planted
            .planted
            .iter()
            .any(|p| f["case"] == p.case && f["source"] == p.run.as_str());
        assert!(is_planted, "critical flag on an unplanted case: {f}");
    }
    let ood: Vec<&Value> = flags
        .iter()
        .filter(|f| f["rule"] == "input-out-of-distribution")
        .collect();
    assert_eq!(
        ood.len(),
        2,
        "only the bottle and the knee are out of distribution: {ood:?}"
    );
    let outside = flags.iter().find(|f| f["rule"] == "opacity-in-lungs").unwrap();
    assert!(
        outside["message"]
            .as_str()
            .unwrap()
            .contains("100% of its area lies outside lung_fields"),
        "{outside}"
    );
    assert!(outside["highlight_px"].as_u64().unwrap() > 1000);
}

#[test]
fn checking_one_run_prints_a_table_and_gates_on_that_run() {
    let out = Command::cargo_bin("lightbox")
        .unwrap()
        .args(["check", sample().to_str().unwrap(), "--run", "baseline"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("checked: ground truth, baseline")
            && text.contains("lung-one-piece")
            && text.contains("case-024.jpg"),
        "{text}"
    );
    assert_eq!(out.status.code(), Some(1), "baseline has the planted fragmented lung");
}

#[test]
fn a_broken_rules_file_is_bad_input() {
    let t = tempfile::tempdir().unwrap();
    let rules = t.path().join("r.toml");
    std::fs::write(
        &rules,
        "[[rule]]\nid = \"x\"\nkind = \"holes\"\nseverity = \"critical\"\nsubject = \"lungs\"\n",
    )
    .unwrap();
    let out = Command::cargo_bin("lightbox")
        .unwrap()
        .args(["check", sample().to_str().unwrap(), "--rules"])
        .arg(&rules)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("r.toml:5:") && err.contains("\"lungs\" is not a class"),
        "{err}"
    );
}

#[test]
fn real_lung_masks_raise_no_critical_flag() {
    let Some(s) = common::shared_file("cxr_lung_masks_imlab") else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let rules = t.path().join("rules.toml");
    std::fs::write(
        &rules,
        "[[rule]]\nid = \"two-lungs\"\nkind = \"components\"\nseverity = \"critical\"\nsubject = \"lung\"\nmin = 2\nmax = 2\nmin_area = 200\n\n\
         [[rule]]\nid = \"no-holes\"\nkind = \"holes\"\nseverity = \"critical\"\nsubject = \"lung\"\nmax = 0\nmin_area = 30\n\n\
         [[rule]]\nid = \"present\"\nkind = \"presence\"\nseverity = \"critical\"\nsubject = \"lung\"\nmin_area = 5000\n",
    )
    .unwrap();
    let pattern = format!("masks:{}/{{stem}}-mask.png", s.display());
    let (code, v) = check(&[
        "--images",
        s.to_str().unwrap(),
        "--gt",
        &pattern,
        "--class",
        "255=lung:region",
        "--rules",
        rules.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["critical"], 0);
}

#[test]
fn a_reference_from_training_images_replaces_the_pack() {
    let t = tempfile::tempdir().unwrap();
    let train = t.path().join("train");
    std::fs::create_dir(&train).unwrap();
    // normal chest phantoms only: not the bottle (17) or the knee (33)
    for i in [1, 2, 3, 4, 6, 7, 8, 9, 11, 12] {
        let f = format!("case-{i:03}.jpg");
        std::fs::copy(sample().join("images").join(&f), train.join(&f)).unwrap();
    }
    let reference = t.path().join("ref.json");
    Command::cargo_bin("lightbox")
        .unwrap()
        .args(["stats"])
        .arg(&train)
        .arg("-o")
        .arg(&reference)
        .assert()
        .success();
    let (_, v) = check(&[
        sample().to_str().unwrap(),
        "--ood-reference",
        reference.to_str().unwrap(),
    ]);
    let ood: Vec<&str> = v["flags"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "input-out-of-distribution")
        .map(|f| f["case"].as_str().unwrap())
        .collect();
    assert_eq!(ood, ["case-017.jpg", "case-033.jpg"]);
    let msg = v["flags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "input-out-of-distribution")
        .unwrap()["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(msg.contains("reference images"), "{msg}");
    // a reference that is not one is bad input
    std::fs::write(&reference, "{}").unwrap();
    let out = Command::cargo_bin("lightbox")
        .unwrap()
        .args(["check", sample().to_str().unwrap(), "--ood-reference"])
        .arg(&reference)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("lightbox stats"));
}

#[test]
fn a_colour_image_and_an_image_of_another_size_are_unusual_acquisitions_not_unusual_content() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    std::fs::create_dir(d.join("images")).unwrap();
    for i in [1, 2, 3, 4, 6, 7, 8, 9, 11, 12, 13, 14, 16, 18, 19, 21, 22, 23, 24, 26] {
        let f = format!("case-{i:03}.jpg");
        std::fs::copy(sample().join("images").join(&f), d.join("images").join(&f)).unwrap();
    }
    // the same chest, but colour: only its format is unusual
    let chest = image::open(sample().join("images/case-027.jpg")).unwrap();
    chest.to_rgb8().save(d.join("images/colour.png")).unwrap();
    // the same kind of chest at 256×256: only its size is unusual
    image::open(sample().join("images/case-028.jpg"))
        .unwrap()
        .resize_exact(256, 256, image::imageops::FilterType::Triangle)
        .to_luma8()
        .save(d.join("images/small.png"))
        .unwrap();
    std::fs::write(d.join("lightbox.toml"), "name = \"mixed\"\n").unwrap();
    let (code, v) = check(&[d.to_str().unwrap()]);
    assert_eq!(
        code, 0,
        "out-of-distribution inputs are major, not a failed gate: {v:#}"
    );
    let flags = v["flags"].as_array().unwrap();
    // what they show is a chest like the others: no out-of-distribution flag
    assert!(
        flags
            .iter()
            .all(|f| f["rule"] == "input-unusual-acquisition" && f["severity"] == "minor"),
        "{flags:#?}"
    );
    let ood: Vec<(String, String)> = flags
        .iter()
        .map(|f| {
            (
                f["case"].as_str().unwrap().to_string(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(ood.len(), 2, "{ood:#?}");
    assert!(
        ood.iter()
            .any(|(c, m)| c == "colour.png" && m.contains("RGB 8-bit") && m.contains("gray 8-bit")),
        "{ood:#?}"
    );
    assert!(
        ood.iter()
            .any(|(c, m)| c == "small.png" && m.contains("0.07 megapixels where the reference's median is 0.26")),
        "{ood:#?}"
    );
}

/// The candidate's mask of case-004 with the heart (3) grown 8-connected into the lungs (1, 2)
/// `steps` times, in a copy of the sample; the number of lung pixels that became heart.
fn heart_grown(d: &Path, steps: usize) -> usize {
    common::copy_dir(&sample(), d);
    let gt = image::open(sample().join("ground_truth/masks/case-004.png"))
        .unwrap()
        .to_luma8();
    let (w, h) = gt.dimensions();
    let mut m = gt.clone();
    let mut grown = 0usize;
    for _ in 0..steps {
        let before = m.clone();
        for y in 1..h - 1 {
            for x in 1..w - 1 {
                let v = before.get_pixel(x, y)[0];
                if (v == 1 || v == 2)
                    && (-1i32..=1).any(|dy| {
                        (-1i32..=1).any(|dx| before.get_pixel((x as i32 + dx) as u32, (y as i32 + dy) as u32)[0] == 3)
                    })
                {
                    m.put_pixel(x, y, image::Luma([3]));
                    grown += 1;
                }
            }
        }
    }
    m.save(d.join("runs/candidate/masks/case-004.png")).unwrap();
    grown
}

/// The rules that fire on case-004's candidate, with their sentences.
fn case_004_candidate_flags(d: &Path) -> Vec<(String, String)> {
    let (_, v) = check(&[d.to_str().unwrap(), "--run", "candidate"]);
    assert!(
        !v["flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["case"] == "case-004.jpg" && f["source"] == "ground truth"),
        "the untouched ground truth raises nothing: {v:#}"
    );
    v["flags"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["case"] == "case-004.jpg" && f["source"] == "candidate")
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// One label per pixel hides a heart grown into the lungs: the lungs just get smaller, and
/// `heart-not-in-lungs` (heart and lungs of the same mask) can never fire. The sample's chest
/// rules catch it with the ground truth (the run's heart on the ground truth's lungs) from a
/// small overgrowth, and without it (cardiothoracic ratio, lungs against their hull) once the
/// heart is implausibly wide.
#[test]
fn a_heart_grown_into_the_lungs_is_caught_though_label_masks_hide_the_overlap() {
    let t = tempfile::tempdir().unwrap();
    let fired = |flags: &[(String, String)], rule: &str| flags.iter().any(|(r, _)| r == rule);
    // small: 10 steps
    let small = t.path().join("small");
    let grown = heart_grown(&small, 10);
    let flags = case_004_candidate_flags(&small);
    eprintln!("10 steps: {grown} lung pixels became heart: {flags:?}");
    assert!(
        !fired(&flags, "heart-not-in-lungs"),
        "one label per pixel: no overlap to see {flags:#?}"
    );
    assert!(fired(&flags, "heart-not-in-true-lungs"), "{flags:#?}");
    let msg = &flags.iter().find(|(r, _)| r == "heart-not-in-true-lungs").unwrap().1;
    assert!(msg.contains("the ground truth's lungs"), "{msg}");
    // large: 60 steps; without the ground truth too
    let large = t.path().join("large");
    let grown = heart_grown(&large, 60);
    let flags = case_004_candidate_flags(&large);
    eprintln!("60 steps: {grown} lung pixels became heart: {flags:?}");
    assert!(!fired(&flags, "heart-not-in-lungs"), "{flags:#?}");
    for rule in [
        "cardiothoracic-ratio",
        "lungs-fill-the-chest",
        "heart-not-in-true-lungs",
    ] {
        assert!(fired(&flags, rule), "{rule} did not fire: {flags:#?}");
    }
}

fn lightbox(args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("lightbox").unwrap().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn drift_of_a_pack_against_itself_is_nothing_and_of_turned_images_is_drift_with_its_drivers() {
    let s = sample();
    let (code, out, err) = lightbox(&["drift", s.to_str().unwrap(), s.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("the same folder"), "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert!(v["shifts"].as_array().unwrap().iter().all(|s| s["ks"] == 0.0), "{v:#}");
    // a batch of the same chests turned on their side
    let t = tempfile::tempdir().unwrap();
    for i in 1..=20 {
        let f = format!("case-{i:03}");
        let src = ["jpg", "png"]
            .iter()
            .map(|e| s.join(format!("images/{f}.{e}")))
            .find(|p| p.exists())
            .unwrap();
        image::open(&src)
            .unwrap()
            .rotate90()
            .save(t.path().join(format!("{f}.png")))
            .unwrap();
    }
    let (code, out, _) = lightbox(&["drift", s.to_str().unwrap(), t.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("DRIFTED"), "{out}");
    assert!(out.contains("the images that move"), "{out}");
    assert!(out.contains("case-0"), "the drivers are named: {out}");
    // not a folder: says what to give
    let (code, _, err) = lightbox(&["drift", s.join("rules.toml").to_str().unwrap(), s.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        err.contains("rules.toml") && err.contains("a pack or a folder of images"),
        "{err}"
    );
}

#[test]
fn a_bound_given_to_stats_is_the_bound_check_uses() {
    let s = sample();
    let t = tempfile::tempdir().unwrap();
    let fixed = t.path().join("fixed.json");
    let (code, out, err) = lightbox(&[
        "stats",
        s.to_str().unwrap(),
        "-o",
        fixed.to_str().unwrap(),
        "--max-z",
        "0.5",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("statistics of 40 images"),
        "a pack's images, not its masks: {out}"
    );
    let (_, v) = check(&[s.to_str().unwrap(), "--ood-reference", fixed.to_str().unwrap()]);
    let ood: Vec<&Value> = v["flags"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "input-out-of-distribution")
        .collect();
    assert!(ood.len() > 2, "0.5 SD flags most of the pack: {}", ood.len());
    let m = ood[0]["message"].as_str().unwrap();
    assert!(m.contains("0.50 robust SD (lightbox stats --max-z)"), "{m}");
    // a rate given to stats: kept where the rules file names none (the sample's rules name
    // one, so a copy without it)
    let d = t.path().join("pack");
    common::copy_dir(&s, &d);
    let rules = std::fs::read_to_string(d.join("rules.toml")).unwrap();
    std::fs::write(
        d.join("rules.toml"),
        rules
            .lines()
            .filter(|l| !l.starts_with("ood_false_alarm_rate"))
            .collect::<Vec<_>>()
            .join("\n"),
    )
    .unwrap();
    let loose = t.path().join("loose.json");
    let (code, _, err) = lightbox(&[
        "stats",
        s.to_str().unwrap(),
        "-o",
        loose.to_str().unwrap(),
        "--false-alarm-rate",
        "0.2",
    ]);
    assert_eq!(code, 0, "{err}");
    let (_, v) = check(&[d.to_str().unwrap(), "--ood-reference", loose.to_str().unwrap()]);
    let m = v["flags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "input-out-of-distribution")
        .unwrap()["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(m.contains("1 false alarm in 5 "), "{m}");
}
