//! `lightbox export`: the exported pack opens cleanly, its metrics and flags equal those of the
//! same cases in the source, `--append` de-duplicates by image content and keeps every origin,
//! a name taken by another image is renamed, tags travel, and bad requests are refused.
// tests: a failed unwrap is a failed run, not a crash in a user's hands
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use lightbox::metrics::report::{Options, compute};
use lightbox::pack::{Pack, Source};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn lightbox(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_lightbox"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn export(pack: &Path, out: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["export", pack.to_str().unwrap(), "-o", out.to_str().unwrap(), "--json"];
    args.extend_from_slice(extra);
    let (code, stdout, stderr) = lightbox(&args);
    assert_eq!(code, 0, "{stderr}");
    serde_json::from_str(&stdout).unwrap()
}

/// A metrics report as JSON without the pack's name.
fn figures(pack: &Pack, run: usize) -> Value {
    let mut v = serde_json::to_value(compute(pack, run, &Options::default()).unwrap()).unwrap();
    v.as_object_mut().unwrap().remove("pack");
    v
}

fn case_ids(pack: &Pack) -> Vec<String> {
    pack.cases.iter().map(|c| c.id.0.clone()).collect()
}

fn assert_same_as_source(src: &Pack, selected: &[&str], out: &Path) {
    let exported = Pack::open(out).unwrap();
    assert_eq!(exported.problems, vec![], "the exported pack opens without problems");
    assert_eq!(case_ids(&exported), selected);
    let idx: Vec<usize> = selected
        .iter()
        .map(|id| lightbox::pack::find_case(src, id).unwrap())
        .collect();
    let sub = src.subset(&idx);
    assert_eq!(exported.runs.len(), src.runs.len());
    for r in 0..src.runs.len() {
        assert_eq!(exported.runs[r].name, src.runs[r].name);
        assert_eq!(figures(&exported, r), figures(&sub, r), "run {}", src.runs[r].name.0);
    }
    // the rules travelled: the same flags on the same cases
    let flags = |p: &Pack| -> Vec<(String, String, String, String)> {
        let rules = lightbox::check::load_rules(p, None).unwrap().unwrap();
        let sources = lightbox::rules::eval::all_sources(p);
        lightbox::rules::evaluate(p, &rules, &sources)
            .into_iter()
            .map(|f| {
                (
                    p.cases[f.case].id.0.clone(),
                    f.source.map(|s| p.source_name(s)).unwrap_or_default(),
                    f.rule,
                    f.message,
                )
            })
            .collect()
    };
    assert_eq!(flags(&exported), flags(&sub));
}

#[test]
fn exported_hard_cases_open_with_the_same_metrics_and_flags() {
    let src_dir = common::sample();
    let src = Pack::open(&src_dir).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("hard");
    let o = export(&src_dir, &out, &["--filter", "critical", "--reason", "outside anatomy"]);
    // the planted impossible predictions of both runs
    let planted = [
        "case-007.jpg",
        "case-013.jpg",
        "case-021.jpg",
        "case-024.jpg",
        "case-029.jpg",
    ];
    let added: Vec<&str> = o["added"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[1].as_str().unwrap())
        .collect();
    assert_eq!(added, planted);
    assert_eq!(o["total"], 5);
    assert_same_as_source(&src, &planted, &out);
    // images byte for byte, provenance names the source, case and reason
    for id in planted {
        assert_eq!(
            std::fs::read(out.join("images").join(id)).unwrap(),
            std::fs::read(src_dir.join("images").join(id)).unwrap()
        );
    }
    let prov: Value = serde_json::from_str(&std::fs::read_to_string(out.join("provenance.json")).unwrap()).unwrap();
    let o7 = &prov["cases"]["case-007.jpg"]["origins"][0];
    assert_eq!(o7["pack"], "chest-phantom");
    assert_eq!(o7["case"], "case-007.jpg");
    assert_eq!(o7["reason"], "outside anatomy");
    assert_eq!(o7["filter"], "critical");
    assert_eq!(o7["release"], "1.0.0");
    // `lightbox check` on the exported pack gates exactly as on the source
    let (code, stdout, _) = lightbox(&["check", out.to_str().unwrap(), "--json"]);
    assert_eq!(code, 1);
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["critical"], 5);
    assert!(
        v["flags"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["rule"] != "input-out-of-distribution"),
        "the source's reference travelled with the cases: {v}"
    );
}

#[test]
fn append_deduplicates_by_image_content_and_keeps_every_origin() {
    let src_dir = common::sample();
    let src = Pack::open(&src_dir).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("hard");
    export(&src_dir, &out, &["--filter", "critical", "--run", "candidate"]);
    // the same pack again, a wider filter, another release
    let o = export(
        &src_dir,
        &out,
        &[
            "--filter",
            "critical or id:case-00",
            "--run",
            "candidate",
            "--append",
            "--release",
            "2.3.0-rc2",
        ],
    );
    let dups: Vec<&str> = o["duplicates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[1].as_str().unwrap())
        .collect();
    assert_eq!(dups, ["case-007.jpg", "case-013.jpg", "case-021.jpg", "case-029.jpg"]);
    let added: Vec<&str> = o["added"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[1].as_str().unwrap())
        .collect();
    assert_eq!(
        added,
        [
            "case-001.jpg",
            "case-002.jpg",
            "case-003.jpg",
            "case-004.jpg",
            "case-005.png",
            "case-006.jpg",
            "case-008.jpg",
            "case-009.jpg"
        ]
    );
    assert_eq!(o["total"], 12);
    let mut all: Vec<&str> = vec!["case-007.jpg", "case-013.jpg", "case-021.jpg", "case-029.jpg"];
    all.extend(&added);
    let exported = Pack::open(&out).unwrap();
    assert_eq!(exported.problems, vec![]);
    assert_eq!(case_ids(&exported), all);
    let idx: Vec<usize> = all
        .iter()
        .map(|id| lightbox::pack::find_case(&src, id).unwrap())
        .collect();
    let cand = src.run_index("candidate").unwrap();
    assert_eq!(figures(&exported, 0), figures(&src.subset(&idx), cand));
    let prov: Value = serde_json::from_str(&std::fs::read_to_string(out.join("provenance.json")).unwrap()).unwrap();
    let origins = prov["cases"]["case-013.jpg"]["origins"].as_array().unwrap();
    assert_eq!(origins.len(), 2, "a duplicate adds its origin");
    assert_eq!(origins[1]["release"], "2.3.0-rc2");
    assert_eq!(prov["cases"]["case-001.jpg"]["origins"].as_array().unwrap().len(), 1);
    // appending the same selection again adds nothing
    let o = export(
        &src_dir,
        &out,
        &["--filter", "critical", "--run", "candidate", "--append"],
    );
    assert_eq!(o["added"].as_array().unwrap().len(), 0);
    assert_eq!(o["total"], 12);
    assert_eq!(case_ids(&Pack::open(&out).unwrap()), all);
}

#[test]
fn a_different_image_under_a_taken_name_is_renamed_and_tags_travel() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    common::copy_dir(&common::sample(), &a);
    let _ = std::fs::remove_dir_all(a.join(".lightbox"));
    // pack b: the same cases, but case-007's image has other bytes (and b tags it)
    let b = tmp.path().join("b");
    common::copy_dir(&common::sample(), &b);
    let _ = std::fs::remove_dir_all(b.join(".lightbox"));
    let img = b.join("images/case-007.jpg");
    let mut bytes = std::fs::read(&img).unwrap();
    bytes.extend_from_slice(b"trailing bytes a JPEG decoder ignores");
    std::fs::write(&img, bytes).unwrap();
    std::fs::create_dir_all(b.join(".lightbox")).unwrap();
    std::fs::write(
        b.join(".lightbox/workspace.json"),
        r#"{"lightbox_workspace": 1, "tags": {"case-007.jpg": ["outside-lungs"]}}"#,
    )
    .unwrap();
    let out = tmp.path().join("hard");
    export(&a, &out, &["--case", "case-007", "--case", "case-013"]);
    let o = export(&b, &out, &["--case", "case-007", "--case", "case-013", "--append"]);
    let added = o["added"].as_array().unwrap();
    assert_eq!(added.len(), 1);
    let renamed = added[0][1].as_str().unwrap();
    assert!(
        renamed.starts_with("case-007-") && renamed.ends_with(".jpg"),
        "{renamed}"
    );
    assert_eq!(o["duplicates"][0][1], "case-013.jpg");
    let exported = Pack::open(&out).unwrap();
    assert_eq!(exported.problems, vec![]);
    assert_eq!(case_ids(&exported), ["case-007.jpg", "case-013.jpg", renamed]);
    // the renamed case keeps its own masks and predictions
    let r = lightbox::pack::find_case(&exported, renamed).unwrap();
    assert!(exported.ground_truth[r].label_mask.is_some());
    // (detection ids are positions in the results file, so they differ)
    let strip = |v: &[lightbox::pack::Instance]| -> Vec<lightbox::pack::Instance> {
        v.iter()
            .map(|i| lightbox::pack::Instance { id: 0, ..i.clone() })
            .collect()
    };
    assert_eq!(
        strip(&exported.annotations(Source::Run(1), r).unwrap().instances),
        strip(&Pack::open(&b).unwrap().runs[1].annotations[6].instances)
    );
    let ws = lightbox::workspace::Workspace::load(&exported).unwrap();
    assert_eq!(ws.tags(renamed).collect::<Vec<_>>(), ["outside-lungs"]);
    assert_eq!(ws.tags("case-007.jpg").count(), 0);
}

#[test]
fn bad_requests_are_refused_and_name_what_is_wrong() {
    let src_dir = common::sample();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("hard");
    let s = src_dir.to_str().unwrap();
    let o = out.to_str().unwrap();
    // no selection
    let (code, _, err) = lightbox(&["export", s, "-o", o]);
    assert_eq!(code, 2);
    assert!(err.contains("--filter"), "{err}");
    // a filter that does not parse
    let (code, _, err) = lightbox(&["export", s, "-o", o, "--filter", "score>>"]);
    assert_eq!(code, 2);
    assert!(err.contains("--filter"), "{err}");
    // an unknown run
    let (code, _, err) = lightbox(&["export", s, "-o", o, "--all", "--run", "nope"]);
    assert_eq!(code, 2);
    assert!(err.contains("nope") && err.contains("candidate"), "{err}");
    // no runs and a run at once
    let (code, _, err) = lightbox(&["export", s, "-o", o, "--all", "--no-runs", "--run", "baseline"]);
    assert_eq!(code, 2);
    assert!(err.contains("--no-runs") && err.contains("baseline"), "{err}");
    assert!(!out.exists(), "nothing written on a refused request");
    // an existing folder without --append
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    let (code, _, err) = lightbox(&["export", s, "-o", o, "--all"]);
    assert_eq!(code, 2);
    assert!(err.contains("--append"), "{err}");
    assert_eq!(std::fs::read_to_string(out.join("notes.txt")).unwrap(), "mine");
    // appending to a pack whose class 3 means something else
    let other = tmp.path().join("other");
    export(&src_dir, &other, &["--case", "1"]);
    let m = std::fs::read_to_string(other.join("lightbox.toml")).unwrap();
    std::fs::write(
        other.join("lightbox.toml"),
        m.replace("name = \"heart\"", "name = \"cardiac\""),
    )
    .unwrap();
    let before = std::fs::read(other.join("ground_truth/instances.json")).unwrap();
    let (code, _, err) = lightbox(&["export", s, "-o", other.to_str().unwrap(), "--case", "2", "--append"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("class 3") && err.contains("cardiac") && err.contains("heart"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(other.join("ground_truth/instances.json")).unwrap(),
        before,
        "untouched"
    );
    // a source image that went missing
    let broken = tmp.path().join("broken");
    common::copy_dir(&src_dir, &broken);
    std::fs::remove_file(broken.join("images/case-003.jpg")).unwrap();
    let (code, _, err) = lightbox(&[
        "export",
        broken.to_str().unwrap(),
        "-o",
        tmp.path().join("x").to_str().unwrap(),
        "--case",
        "3",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("case-003.jpg"), "{err}");
}

/// Real COCO polygons (PASCAL VOC images annotated with labelme, `../shared/data`), image paths
/// in a subfolder and annotation ids from 0: every case exported, box detections alongside, the
/// same metrics — pycocotools' id-0 quirk included.
#[test]
fn real_coco_polygons_round_trip() {
    let Some(dir) = common::shared_file("coco_labelme_voc") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let pack = tmp.path().join("voc");
    common::copy_dir(&dir, &pack);
    let gt: Value = serde_json::from_str(&std::fs::read_to_string(pack.join("annotations.json")).unwrap()).unwrap();
    let dets: Vec<Value> = gt["annotations"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let b = a["bbox"].as_array().unwrap();
            let shift = (i % 3) as f64 * 4.0;
            serde_json::json!({
                "image_id": a["image_id"], "category_id": a["category_id"], "score": 0.5 + (i % 5) as f64 / 10.0,
                "bbox": [b[0].as_f64().unwrap() + shift, b[1], b[2], b[3]],
            })
        })
        .collect();
    std::fs::write(pack.join("dets.json"), serde_json::to_vec(&dets).unwrap()).unwrap();
    std::fs::write(
        pack.join("lightbox.toml"),
        "name = \"voc\"\nimages = \".\"\n[ground_truth]\ncoco = \"annotations.json\"\n[runs.boxes]\ncoco = \"dets.json\"\n",
    )
    .unwrap();
    let src = Pack::open(&pack).unwrap();
    assert!(src.errors().next().is_none(), "{:?}", src.problems);
    let out = tmp.path().join("out");
    export(&pack, &out, &["--all"]);
    let exported = Pack::open(&out).unwrap();
    assert!(exported.errors().next().is_none(), "{:?}", exported.problems);
    assert_eq!(case_ids(&exported), case_ids(&src));
    assert_eq!(figures(&exported, 0), figures(&src, 0));
    assert!(
        exported
            .ground_truth
            .iter()
            .flat_map(|a| &a.instances)
            .any(|i| i.id == 0)
    );
}

#[test]
fn a_pack_given_by_flags_exports_as_its_folder_does() {
    let src = common::sample();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("hard");
    let p = |rel: &str| src.join(rel).to_str().unwrap().to_string();
    let run = format!("candidate=coco:{}", p("runs/candidate/detections.json"));
    let args = [
        "export",
        "--images",
        &p("images"),
        "--gt",
        &p("ground_truth/instances.json"),
        "--run",
        &run,
        "-o",
        out.to_str().unwrap(),
        "--case",
        "case-007.jpg",
        "--case",
        "case-013.jpg",
        "--json",
    ];
    let (code, stdout, stderr) = lightbox(&args);
    assert_eq!(code, 0, "{stderr}");
    let o: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(o["total"].as_u64(), Some(2), "{o}");
    let exported = Pack::open(&out).unwrap();
    assert_eq!(case_ids(&exported), vec!["case-007.jpg", "case-013.jpg"]);
    assert_eq!(exported.runs.len(), 1);
    assert_eq!(exported.runs[0].name.0, "candidate");
    assert!(exported.errors().next().is_none(), "{:?}", exported.problems);
}
