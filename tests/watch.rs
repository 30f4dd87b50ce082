//! Watching a pack: a rewritten run file is noticed (once per burst), the reload sees the new
//! predictions, a file caught half-written is retried until it parses, a file that stays broken
//! is one clear error naming it, and lightbox's own writes do not trigger reloads.
// tests: a failed unwrap is a failed run, not a crash in a user's hands
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use lightbox::pack::Pack;
use lightbox::watch::{self, BACKOFF, Target};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

fn watched(root: &Path) -> (watch::Watch, mpsc::Receiver<Vec<PathBuf>>) {
    let (tx, rx) = mpsc::channel();
    let w = watch::spawn(root, Duration::from_millis(150), move |paths| {
        let _ = tx.send(paths);
    })
    .unwrap();
    (w, rx)
}

fn next(rx: &mpsc::Receiver<Vec<PathBuf>>) -> Vec<PathBuf> {
    rx.recv_timeout(Duration::from_secs(20)).expect("a change is reported")
}

/// The candidate's detections without the opacity planted outside the lungs on case-007.
fn fixed_detections(root: &Path) -> Vec<u8> {
    let path = root.join("runs/candidate/detections.json");
    let v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let pack = Pack::open(root).unwrap();
    let id7 = match &pack.cases[6].coco_id {
        Some(lightbox::formats::coco::CocoId::Int(i)) => *i,
        other => panic!("{other:?}"),
    };
    let kept: Vec<Value> = v
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["image_id"].as_i64() != Some(id7) || d["score"].as_f64() != Some(0.91))
        .cloned()
        .collect();
    assert_eq!(kept.len() + 1, v.as_array().unwrap().len());
    serde_json::to_vec(&kept).unwrap()
}

#[test]
fn a_rewritten_run_is_reloaded_and_a_truncated_write_is_retried() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("pack");
    common::copy_dir(&common::sample(), &root);
    let before = Pack::open(&root).unwrap();
    let file = root.join("runs/candidate/detections.json");
    let fixed = fixed_detections(&root);
    let (_w, rx) = watched(&root);

    // a plain rewrite
    std::fs::write(&file, &fixed).unwrap();
    let paths = next(&rx);
    let r = watch::reload(&root, &before, &paths, &BACKOFF).unwrap();
    assert_eq!(r.changed.iter().collect::<Vec<_>>(), [&Target::Run("candidate".into())]);
    assert_eq!(
        r.pack.runs[1].annotations[6].instances.len() + 1,
        before.runs[1].annotations[6].instances.len()
    );
    assert_eq!(
        r.pack.runs[0].annotations, before.runs[0].annotations,
        "the baseline is as it was"
    );
    let good = r.pack;

    // a writer caught half-way: the first half lands, the rest 600 ms later
    let original = std::fs::read(common::sample().join("runs/candidate/detections.json")).unwrap();
    let writer = {
        let (file, original) = (file.clone(), original.clone());
        std::thread::spawn(move || {
            std::fs::write(&file, &original[..original.len() / 2]).unwrap();
            std::thread::sleep(Duration::from_millis(600));
            std::fs::write(&file, &original).unwrap();
        })
    };
    let paths = next(&rx);
    let r = watch::reload(&root, &good, &paths, &BACKOFF).expect("retried until it parses");
    writer.join().unwrap();
    assert_eq!(
        r.pack.runs[1].annotations, before.runs[1].annotations,
        "the whole file, not half"
    );
    while rx.recv_timeout(Duration::from_millis(500)).is_ok() {} // the rest of that burst

    // a file that stays truncated: one error, naming the file and the place
    std::fs::write(&file, &original[..original.len() / 3]).unwrap();
    let paths = next(&rx);
    let e = watch::reload(&root, &r.pack, &paths, &BACKOFF[..2]).unwrap_err();
    assert!(e.to_string().contains("runs/candidate/detections.json"), "{e}");
}

#[test]
fn a_truncated_label_mask_is_not_taken_and_own_files_are_ignored() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("pack");
    common::copy_dir(&common::sample(), &root);
    let before = Pack::open(&root).unwrap();
    let (_w, rx) = watched(&root);

    // what lightbox writes itself does not count as a change
    std::fs::create_dir_all(root.join(".lightbox")).unwrap();
    std::fs::write(root.join(".lightbox/workspace.json"), "{}").unwrap();
    std::fs::write(root.join("ood.lock.json"), "{}").unwrap();
    std::fs::create_dir_all(root.join("reviews/1.0")).unwrap();
    std::fs::write(root.join("reviews/1.0/journal.jsonl"), "").unwrap();
    assert!(
        rx.recv_timeout(Duration::from_millis(1500)).is_err(),
        "no reload for lightbox's own files"
    );

    let mask = root.join("runs/baseline/masks/case-003.png");
    let bytes = std::fs::read(&mask).unwrap();
    std::fs::write(&mask, &bytes[..bytes.len() / 2]).unwrap();
    let paths = next(&rx);
    let e = watch::reload(&root, &before, &paths, &BACKOFF[..1]).unwrap_err();
    assert!(e.to_string().contains("case-003.png"), "{e}");
    // once whole again, it reloads
    std::fs::write(&mask, &bytes).unwrap();
    let paths = next(&rx);
    let r = watch::reload(&root, &before, &paths, &BACKOFF[..1]).unwrap();
    assert_eq!(r.changed.iter().collect::<Vec<_>>(), [&Target::Run("baseline".into())]);
}

#[test]
fn rules_and_manifest_changes_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("pack");
    common::copy_dir(&common::sample(), &root);
    let pack = Pack::open(&root).unwrap();
    let t = watch::targets(&pack);
    let at = |p: &str| vec![root.join(p)];
    let names = |c: std::collections::BTreeSet<Target>| c.into_iter().collect::<Vec<_>>();
    assert_eq!(names(watch::affected(&t, &at("rules.toml"))), [Target::Rules]);
    assert_eq!(names(watch::affected(&t, &at("lightbox.toml"))), [Target::Manifest]);
    assert_eq!(
        names(watch::affected(&t, &at("ground_truth/masks/case-001.png"))),
        [Target::GroundTruth]
    );
    assert_eq!(
        names(watch::affected(&t, &at("runs/candidate/scores.csv"))),
        [Target::Run("candidate".into())]
    );
    // a file deleted (no longer there to canonicalise) still belongs to its run
    assert_eq!(
        names(watch::affected(&t, &at("runs/baseline/masks/gone.png"))),
        [Target::Run("baseline".into())]
    );
    assert!(watch::affected(&t, &at("images/case-001.jpg")).is_empty());
}

/// `lightbox check --watch`: the report again after a run file is rewritten; a truncated
/// write is one message, not a crash, and the next good write is checked.
#[test]
fn check_watch_reports_again_after_a_rewrite() {
    use std::io::BufRead;
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("pack");
    common::copy_dir(&common::sample(), &root);
    let fixed = fixed_detections(&root);
    let file = root.join("runs/candidate/detections.json");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_lightbox"))
        .args(["check", root.to_str().unwrap(), "--watch"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, lines) = mpsc::channel::<String>();
    let (out, err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let tx2 = tx.clone();
    std::thread::spawn(move || {
        std::io::BufReader::new(out)
            .lines()
            .map_while(Result::ok)
            .for_each(|l| drop(tx.send(l)))
    });
    std::thread::spawn(move || {
        std::io::BufReader::new(err)
            .lines()
            .map_while(Result::ok)
            .for_each(|l| drop(tx2.send(l)))
    });
    let wait_for = |want: &str| loop {
        let l = lines
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("no line containing {want:?}"));
        if l.contains(want) {
            return l;
        }
    };
    // the first report (stdout) and the watch starting (stderr), in either order
    let (mut report, mut watching) = (false, false);
    while !(report && watching) {
        let l = lines
            .recv_timeout(Duration::from_secs(30))
            .expect("the first check and the watch");
        report |= l.contains("(5 critical)");
        watching |= l.contains("watching");
    }
    std::fs::write(&file, &fixed[..fixed.len() / 2]).unwrap();
    let l = wait_for("does not parse yet");
    assert!(l.contains("detections.json"), "{l}");
    std::fs::write(&file, &fixed).unwrap();
    assert!(wait_for("changed").contains("candidate"));
    wait_for("(4 critical)");
    let _ = child.kill();
    let _ = child.wait();
}
