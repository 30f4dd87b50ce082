//! Sign-off end to end through `lightbox review --batch` and `lightbox verify`: acknowledged
//! verdicts survive SIGKILL at random moments, every hashed input is tamper-evident, sessions
//! resume, two reviewers never collide, a damaged last line is set aside.
// tests: a failed unwrap is a failed run, not a crash in a user's hands
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::{copy_dir, sample};

use assert_cmd::Command;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;

fn pack_copy() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("pack");
    copy_dir(&sample(), &p);
    (tmp, p)
}

/// Run a batch review with `input`; returns (exit code, stdout, stderr).
fn batch(pack: &Path, reviewer: &str, input: &str) -> (i32, String, String) {
    let out = Command::cargo_bin("lightbox")
        .unwrap()
        .args(review_args(pack))
        .args(["--reviewer", reviewer, "--role", "radiologist", "--batch"])
        .write_stdin(input.to_string())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn verify(record: &Path) -> (i32, String) {
    let out = Command::cargo_bin("lightbox")
        .unwrap()
        .arg("verify")
        .arg(record)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// `review PACK --release v2.3.0 --run candidate`: what every session here starts with.
fn review_args(pack: &Path) -> [String; 6] {
    [
        "review",
        &pack.display().to_string(),
        "--release",
        "v2.3.0",
        "--run",
        "candidate",
    ]
    .map(String::from)
}

/// The plan's required cases, from `--plan`.
fn required(pack: &Path) -> Vec<String> {
    let out = Command::cargo_bin("lightbox")
        .unwrap()
        .args(review_args(pack))
        .args(["--reviewer", "alice", "--plan"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .skip(1)
        .filter_map(|l| {
            l.split_whitespace()
                .next()
                .filter(|w| w.starts_with("case-"))
                .map(String::from)
        })
        .collect()
}

/// Review every required case (rejecting the critical ones) and sign.
fn full_review(pack: &Path, reviewer: &str) -> PathBuf {
    let cases = required(pack);
    assert!(cases.len() >= 20, "{cases:?}");
    let mut input = String::new();
    for (i, c) in cases.iter().enumerate() {
        input.push_str(&format!("shown {c}\n"));
        if i < 4 {
            input.push_str(&format!("reject {c} reason=2 seconds=12.5 impossible anatomy\n"));
        } else {
            input.push_str(&format!("accept {c} seconds=6\n"));
        }
    }
    input.push_str("sign reject\n");
    let (code, out, err) = batch(pack, reviewer, &input);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("signed"), "{out}");
    assert!(!out.contains("err "), "{out}");
    pack.join(format!("reviews/v2.3.0/{reviewer}.record.json"))
}

#[test]
fn a_full_review_signs_and_verifies_and_every_hashed_input_is_tamper_evident() {
    let (_tmp, pack) = pack_copy();
    let record = full_review(&pack, "alice");
    let (code, out) = verify(&record);
    assert_eq!(code, 0, "{out}");
    let r: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&record).unwrap()).unwrap();
    assert_eq!(r["meaning"], "rejected");
    assert_eq!(r["rejected"].as_array().unwrap().len(), 4);
    assert_eq!(r["rejected"][0]["reason"], "outside anatomy");
    assert_eq!(r["progress"]["reviewed_required"], r["progress"]["required"]);
    assert!(r["sample_statement"].as_str().unwrap().contains("95% confidence"));
    assert!(r["metrics"]["bbox/AP"].as_f64().is_some());

    // each hashed input, changed by one byte, is named by verify
    let targets = [
        "images/case-001.jpg",
        "ground_truth/instances.json",
        "ground_truth/masks/case-002.png",
        "ground_truth/labels.csv",
        "runs/candidate/detections.json",
        "runs/candidate/masks/case-003.png",
        "runs/baseline/scores.csv",
        "rules.toml",
        "lightbox.toml",
        "ood.lock.json",
    ];
    for t in targets {
        let f = pack.join(t);
        let original = std::fs::read(&f).unwrap();
        let mut changed = original.clone();
        let i = changed.len() / 2;
        changed[i] ^= 0x01;
        std::fs::write(&f, &changed).unwrap();
        let (code, out) = verify(&record);
        assert_eq!(code, 1, "{t}: {out}");
        assert!(out.contains(t), "{t} is named: {out}");
        std::fs::write(&f, &original).unwrap();
    }
    // an added image, a removed run file
    std::fs::write(pack.join("images/extra.png"), b"x").unwrap();
    let (code, out) = verify(&record);
    assert!(
        code == 1 && out.contains("images/extra.png") && out.contains("added"),
        "{out}"
    );
    std::fs::remove_file(pack.join("images/extra.png")).unwrap();
    assert_eq!(verify(&record).0, 0);

    // the journal: one byte in a middle line
    let journal = pack.join("reviews/v2.3.0/alice.jsonl");
    let text = std::fs::read_to_string(&journal).unwrap();
    let tampered = text.replacen("\"accept\"", "\"reject\"", 1);
    std::fs::write(&journal, &tampered).unwrap();
    let (code, out) = verify(&record);
    assert!(code == 1 && out.contains("line"), "{out}");
    std::fs::write(&journal, &text).unwrap();
    // the record itself
    let rtext = std::fs::read_to_string(&record).unwrap();
    std::fs::write(
        &record,
        rtext.replace("\"meaning\": \"rejected\"", "\"meaning\": \"approved for release\""),
    )
    .unwrap();
    let (code, out) = verify(&record);
    assert!(code == 1 && out.contains("record was changed"), "{out}");
    std::fs::write(&record, &rtext).unwrap();
    assert_eq!(verify(&record).0, 0);
}

#[test]
fn signing_with_required_cases_open_needs_a_reason() {
    let (_tmp, pack) = pack_copy();
    let (code, out, _) = batch(&pack, "carol", "shown case-007\naccept case-007\nsign approve\n");
    assert_eq!(code, 1, "a refused action fails the batch: {out}");
    assert!(out.contains("err 3 ") && out.contains("not reviewed yet"), "{out}");
    assert!(!pack.join("reviews/v2.3.0/carol.record.json").exists());
    let (_, out, _) = batch(
        &pack,
        "carol",
        "sign approve override emergency release, remaining cases reviewed on paper\n",
    );
    assert!(out.contains("signed"), "{out}");
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(pack.join("reviews/v2.3.0/carol.record.json")).unwrap()).unwrap();
    assert!(r["override_reason"].as_str().unwrap().contains("emergency"));
    assert!(r["unreviewed"].as_array().unwrap().len() >= 20);
    // a verdict without the image shown does not count
    assert_eq!(r["progress"]["reviewed_required"], 1);
}

#[test]
fn closing_and_reopening_resumes_where_the_reviewer_stopped() {
    let (_tmp, pack) = pack_copy();
    let (_, out, _) = batch(
        &pack,
        "dave",
        "shown case-007\naccept case-007\nshown case-013\nreject case-013 reason=2\n",
    );
    assert!(
        out.trim_end()
            .ends_with("2 of 26 required reviewed · 1 rejected · 0 unsure"),
        "{out}"
    );
    let (_, out, _) = batch(&pack, "dave", "status\nundo\nstatus\n");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].contains("ready 2 of 26"), "{out}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("status 1 of 26 required reviewed · 0 rejected")),
        "{out}"
    );
}

#[test]
fn two_reviewers_at_once_never_overwrite_each_other() {
    let (_tmp, pack) = pack_copy();
    let a = {
        let pack = pack.clone();
        std::thread::spawn(move || full_review(&pack, "alice"))
    };
    let b = {
        let pack = pack.clone();
        std::thread::spawn(move || full_review(&pack, "bob"))
    };
    let (ra, rb) = (a.join().unwrap(), b.join().unwrap());
    assert_ne!(ra, rb);
    assert_eq!(verify(&ra).0, 0);
    assert_eq!(verify(&rb).0, 0);
}

#[test]
fn a_damaged_last_line_is_kept_aside_and_the_rest_loads() {
    let (_tmp, pack) = pack_copy();
    batch(&pack, "erin", "shown case-007\naccept case-007\n");
    let journal = pack.join("reviews/v2.3.0/erin.jsonl");
    let mut f = std::fs::OpenOptions::new().append(true).open(&journal).unwrap();
    f.write_all(b"{\"seq\":4,\"time\":\"2026-11-25T0").unwrap();
    drop(f);
    let (code, out, err) = batch(&pack, "erin", "status\n");
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("incomplete") && err.contains("corrupt"), "{err}");
    assert!(out.contains("ready 1 of 26"), "{out}");
    let aside: Vec<_> = std::fs::read_dir(pack.join("reviews/v2.3.0"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("corrupt"))
        .collect();
    assert_eq!(aside.len(), 1);
    assert_eq!(
        std::fs::read(aside[0].path()).unwrap(),
        b"{\"seq\":4,\"time\":\"2026-11-25T0"
    );
}

/// Kill the recorder with SIGKILL at random moments while it records a burst of verdicts: every
/// verdict acknowledged before the kill is in the journal, with the acknowledged hash, and the
/// journal opens (chain intact; at most a torn last line, set aside).
#[test]
fn acknowledged_verdicts_survive_sigkill() {
    let (_tmp, pack) = pack_copy();
    let cases: Vec<String> = (1..=40).map(|i| format!("case-{i:03}")).collect();
    let bin = assert_cmd::cargo::cargo_bin("lightbox");
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut acked: Vec<(u64, String)> = Vec::new();
    for round in 0..12 {
        let mut child = std::process::Command::new(&bin)
            .args(review_args(&pack))
            .args(["--reviewer", "frank", "--batch"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let cases2 = cases.clone();
        let writer = std::thread::spawn(move || {
            for i in 0..400 {
                let c = &cases2[i % cases2.len()];
                let v = ["accept", "reject reason=1", "unsure"][i % 3];
                if writeln!(stdin, "shown {c}\n{v} {c} seconds=1").is_err() {
                    break;
                }
            }
        });
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let kill_after = 5 + (seed % 120) as usize;
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let mut n = 0;
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap_or(0) > 0 {
            if let Some(rest) = line.strip_prefix("ok ") {
                let mut it = rest.split_whitespace();
                let seq: u64 = it.next().unwrap().parse().unwrap();
                acked.push((seq, it.next().unwrap().to_string()));
                n += 1;
                if n >= kill_after {
                    break;
                }
            }
            line.clear();
        }
        child.kill().unwrap(); // SIGKILL
        let _ = child.wait();
        let _ = writer.join();
        // reopen: the chain is intact and every acknowledged entry is there
        let j = lightbox::review::Journal::open(&pack.join("reviews/v2.3.0/frank.jsonl"))
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
        let lines: Vec<String> = std::fs::read_to_string(&j.path)
            .unwrap()
            .lines()
            .map(String::from)
            .collect();
        for (seq, hash) in &acked {
            let l = lines
                .get(*seq as usize)
                .unwrap_or_else(|| panic!("round {round}: acknowledged entry {seq} lost"));
            assert_eq!(
                &lightbox::review::hash::sha256_hex(l.as_bytes()),
                hash,
                "round {round}: entry {seq}"
            );
        }
        drop(j);
    }
    assert!(acked.len() > 12 * 5);
}

#[test]
fn a_second_session_of_the_same_reviewer_is_refused_while_the_first_runs() {
    let (_tmp, pack) = pack_copy();
    let bin = assert_cmd::cargo::cargo_bin("lightbox");
    let mut first = std::process::Command::new(&bin)
        .args(review_args(&pack))
        .args(["--reviewer", "gina", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut r = BufReader::new(first.stdout.take().unwrap());
    let mut l = String::new();
    r.read_line(&mut l).unwrap();
    assert!(l.starts_with("ready"), "{l}");
    let (code, _, err) = batch(&pack, "gina", "status\n");
    assert_eq!(code, 2);
    assert!(err.contains("another lightbox session"), "{err}");
    drop(first.stdin.take());
    first.wait().unwrap();
    let (code, _, _) = batch(&pack, "gina", "status\n");
    assert_eq!(code, 0, "free again once the first has closed");
}

/// Review as `reviewer` with `role`: every required case accepted, except `rejects`; approving
/// with rejected cases is confirmed (`noted=N`).
fn review_as(pack: &Path, reviewer: &str, role: Option<&str>, rejects: &[&str], approve: bool) -> String {
    let cases = required(pack);
    let mut input = String::new();
    for c in &cases {
        let (verb, why) = if rejects.contains(&c.as_str()) {
            ("reject", "reason=2")
        } else {
            ("accept", "")
        };
        input.push_str(&format!("shown {c}\n{verb} {c} {why} seconds=5\n"));
    }
    let n = cases.iter().filter(|c| rejects.contains(&c.as_str())).count();
    input.push_str(&match (approve, n) {
        (false, _) => "sign reject\n".to_string(),
        (true, 0) => "sign approve\n".to_string(),
        (true, n) => format!("sign approve noted={n}\n"),
    });
    let mut cmd = Command::cargo_bin("lightbox").unwrap();
    cmd.args(review_args(pack)).args(["--reviewer", reviewer, "--batch"]);
    if let Some(r) = role {
        cmd.args(["--role", r]);
    }
    let out = cmd.write_stdin(input).output().unwrap();
    let s = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(s.contains("signed"), "{s}{}", String::from_utf8_lossy(&out.stderr));
    s
}

fn verify_release(pack: &Path) -> (i32, String) {
    let out = Command::cargo_bin("lightbox")
        .unwrap()
        .args(["verify", "--release", "v2.3.0", "--pack", pack.to_str().unwrap()])
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// Append a `[review]` policy and make alice the candidate's author.
fn with_policy(pack: &Path, policy: &str) {
    let m = pack.join("lightbox.toml");
    let text = std::fs::read_to_string(&m)
        .unwrap()
        .replace("[runs.candidate]\n", "[runs.candidate]\nauthor = \"alice\"\n");
    std::fs::write(&m, text + "\n" + policy).unwrap();
}

const POLICY: &str = "[review]\nsignatures = 2\nroles = [\"radiologist\"]\nbaseline = \"baseline\"\nsample = 5\n\n[review.known]\n\"case-007.jpg\" = \"reject\"\n\"case-013.jpg\" = \"reject\"\n";

#[test]
fn the_sign_off_policy_needs_two_reviewers_a_radiologist_and_not_the_author_alone() {
    let (_tmp, pack) = pack_copy();
    with_policy(&pack, POLICY);
    // the plan holds the regressions against the baseline; the known-answer cases are in it,
    // but not told apart from the random sample
    let out = Command::cargo_bin("lightbox")
        .unwrap()
        .args(review_args(&pack))
        .args(["--reviewer", "alice", "--plan"])
        .output()
        .unwrap();
    let plan = String::from_utf8_lossy(&out.stdout);
    assert!(plan.contains("regression vs baseline"), "{plan}");
    assert!(!plan.contains("known"), "{plan}");
    let both = ["case-007.jpg", "case-013.jpg"];

    review_as(&pack, "alice", Some("radiologist"), &both, true);
    let (code, out) = verify_release(&pack);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("needs 2") && out.contains("run's author"), "{out}");
    assert!(out.contains("2 of 2 known-answer cases agreed"), "{out}");

    // the author (a radiologist) and a second reviewer with no role: not enough
    review_as(&pack, "bob", None, &both, true);
    let (code, out) = verify_release(&pack);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("1 approving reviewer(s) who count (bob)")
            && out.contains("no approving reviewer who counts has the role \"radiologist\""),
        "{out}"
    );

    // a radiologist who missed a known answer does not count either
    review_as(&pack, "carol", Some("radiologist"), &["case-007.jpg"], true);
    let (code, out) = verify_release(&pack);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("carol agreed with 1 of 2 known-answer cases; the policy needs 100%"),
        "{out}"
    );

    // one who got both: satisfied
    review_as(&pack, "dana", Some("radiologist"), &both, true);
    let (code, out) = verify_release(&pack);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("policy satisfied"), "{out}");

    // a rejection by anyone stops the release
    review_as(&pack, "erin", Some("radiologist"), &both, false);
    let (code, out) = verify_release(&pack);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("erin signed \"rejected\""), "{out}");
}

#[test]
fn the_known_answer_threshold_and_role_holders_are_the_policys() {
    let (_tmp, pack) = pack_copy();
    with_policy(
        &pack,
        &POLICY.replace(
            "sample = 5\n",
            "sample = 5\nknown_agreement = 0.5\n\n[review.role_holders]\nradiologist = [\"carol\", \"Dr Bo Chen\"]\n",
        ),
    );
    // dana says she is a radiologist; the policy does not list her
    review_as(&pack, "bob", None, &["case-007.jpg"], true);
    review_as(&pack, "dana", Some("radiologist"), &["case-007.jpg"], true);
    let (code, out) = verify_release(&pack);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("dana gave the role \"radiologist\" but the policy's role_holders do not list them"),
        "{out}"
    );
    // carol is listed; 1 of 2 known answers is enough at known_agreement = 0.5
    review_as(&pack, "carol", Some("radiologist"), &["case-007.jpg"], true);
    let (code, out) = verify_release(&pack);
    assert_eq!(code, 0, "{out}");
}

/// A record signed with the reviewer's ed25519 key verifies with `lightbox verify
/// --allowed-signers` and with `ssh-keygen -Y verify` itself; another key does not.
#[test]
fn records_signed_with_an_ssh_key_verify_with_ssh_keygen() {
    let (tmp, pack) = pack_copy();
    let key = tmp.path().join("id_ed25519");
    let keygen = |k: &Path| {
        let ok = std::process::Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", "alice", "-f"])
            .arg(k)
            .status()
            .unwrap()
            .success();
        assert!(ok);
    };
    keygen(&key);
    let pubkey = std::fs::read_to_string(tmp.path().join("id_ed25519.pub")).unwrap();
    let allowed = tmp.path().join("allowed_signers");
    std::fs::write(&allowed, format!("alice {}", pubkey.trim())).unwrap();

    let out = Command::cargo_bin("lightbox")
        .unwrap()
        .args(review_args(&pack))
        .args(["--reviewer", "alice", "--batch", "--ssh-key", key.to_str().unwrap()])
        .write_stdin("shown case-007\nreject case-007 reason=2\nsign reject override demo\n")
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(s.contains("signed"), "{s}{}", String::from_utf8_lossy(&out.stderr));
    let record = pack.join("reviews/v2.3.0/alice.record.json");
    assert!(pack.join("reviews/v2.3.0/alice.record.json.sig").exists());

    let verify = |allowed: &Path| {
        let o = Command::cargo_bin("lightbox")
            .unwrap()
            .arg("verify")
            .arg(&record)
            .arg("--allowed-signers")
            .arg(allowed)
            .output()
            .unwrap();
        (
            o.status.code().unwrap(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
        )
    };
    let (code, out) = verify(&allowed);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("SSH signature") && out.contains("good"), "{out}");
    // the standard tool agrees
    let st = std::process::Command::new("ssh-keygen")
        .args(["-Y", "verify", "-n", "lightbox-signoff", "-I", "alice", "-f"])
        .arg(&allowed)
        .arg("-s")
        .arg(pack.join("reviews/v2.3.0/alice.record.json.sig"))
        .stdin(std::fs::File::open(&record).unwrap())
        .status()
        .unwrap();
    assert!(st.success());
    // someone else's key in the allowed signers: refused
    let other = tmp.path().join("other");
    keygen(&other);
    let other_allowed = tmp.path().join("other_allowed");
    std::fs::write(
        &other_allowed,
        format!(
            "alice {}",
            std::fs::read_to_string(tmp.path().join("other.pub")).unwrap().trim()
        ),
    )
    .unwrap();
    let (code, out) = verify(&other_allowed);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("does not give the key") && out.contains("to \"alice\" by name"),
        "{out}"
    );
}

#[test]
fn the_report_has_the_overlays_verdicts_metrics_and_hashes() {
    let (tmp, pack) = pack_copy();
    batch(
        &pack,
        "alice",
        "shown case-007\nreject case-007 reason=2 opacity below the diaphragm\nsign reject override demo\n",
    );
    let out = tmp.path().join("report");
    let o = Command::cargo_bin("lightbox")
        .unwrap()
        .arg("report")
        .arg(pack.join("reviews/v2.3.0/alice.record.json"))
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        md.starts_with("# Sign-off v2.3.0: rejected\n\n**rejected by alice"),
        "{md}"
    );
    assert!(
        md.contains("Verdict: **rejected — outside anatomy — “opacity below the diaphragm”**"),
        "{md}"
    );
    assert!(md.contains("images/case-007.jpg.png") && out.join("images/case-007.jpg.png").exists());
    assert!(md.contains("| bbox/AP |") && md.contains("ground_truth/instances.json"));
    assert!(md.contains("verified now"));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.matches("data:image/png;base64,").count() >= 5,
        "every flagged case, embedded"
    );
    assert!(!html.contains("src=\"images/"), "standalone: no external images");
}

// ---- issue 17: what a release auditor and an attacker tried ------------------------------

/// The images a record binds.
fn bound_images(record: &Path) -> usize {
    let r: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(record).unwrap()).unwrap();
    r["pack_files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["path"].as_str().unwrap().starts_with("images/"))
        .count()
}

/// `lightbox ARGS` run in `dir`: (exit code, stdout + stderr).
fn lightbox_in(dir: &Path, args: &[&str], stdin: &str) -> (i32, String) {
    let out = Command::cargo_bin("lightbox")
        .unwrap()
        .current_dir(dir)
        .args(args)
        .write_stdin(stdin.to_string())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn every_way_of_naming_the_pack_binds_every_image_and_verifies_from_anywhere() {
    let tmp = tempfile::tempdir().unwrap();
    let a_b = tmp.path().join("a/b");
    std::fs::create_dir_all(&a_b).unwrap();
    let real = a_b.join("dir");
    copy_dir(&sample(), &real);
    let link = tmp.path().join("link");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let abs = real.display().to_string();
    let via_link = link.display().to_string();
    // (working directory, the pack as named)
    let ways: [(&Path, &str); 6] = [
        (&real, "."),
        (&a_b, "dir"),
        (&a_b, "./dir"),
        (tmp.path(), "a/b/dir"),
        (elsewhere.path(), &abs),
        (elsewhere.path(), &via_link),
    ];
    for (i, (cwd, named)) in ways.iter().enumerate() {
        let release = format!("v{i}");
        let input = "shown case-007\nreject case-007 reason=2\nsign reject override spot check\n";
        let (code, out) = lightbox_in(
            cwd,
            &[
                "review",
                named,
                "--release",
                &release,
                "--run",
                "candidate",
                "--reviewer",
                "alice",
                "--batch",
            ],
            input,
        );
        assert_eq!(code, 0, "{named}: {out}");
        let record = real.join(format!("reviews/{release}/alice.record.json"));
        assert_eq!(bound_images(&record), 40, "{named}: every image bound");
        // plain verify of the record, and the release from another folder, by another name
        let rec = record.display().to_string();
        let (code, out) = lightbox_in(elsewhere.path(), &["verify", &rec], "");
        assert_eq!(code, 0, "{named}: {out}");
        let (code, out) = lightbox_in(tmp.path(), &["verify", "--release", &release, "--pack", "a/b/dir"], "");
        assert!(out.contains("verified: alice"), "{named}: {out}");
        assert_eq!(code, 1, "a rejection is not a sign-off: {out}");
        let (code, out) = lightbox_in(&a_b, &["verify", "--release", &release, "--pack", "./dir"], "");
        assert!(code == 1 && out.contains("verified: alice"), "{named}: {out}");
    }
    // a swapped image is caught however the pack is named
    let img = real.join("images/case-001.jpg");
    let original = std::fs::read(&img).unwrap();
    std::fs::copy(real.join("images/case-002.jpg"), &img).unwrap();
    for (cwd, pack) in [
        (tmp.path(), "a/b/dir"),
        (&a_b, "dir"),
        (elsewhere.path(), via_link.as_str()),
    ] {
        let (code, out) = lightbox_in(cwd, &["verify", "--release", "v1", "--pack", pack], "");
        assert!(
            code == 1 && out.contains("images/case-001.jpg changed"),
            "{pack}: {out}"
        );
    }
    std::fs::write(&img, original).unwrap();
}

/// A signed review of the sample by `who`: (pack folder guard, pack, record).
fn signed(who: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let (tmp, pack) = pack_copy();
    let (code, out, err) = batch(
        &pack,
        who,
        "shown case-007\nreject case-007 reason=2\nnote case-007 check with the original DICOM\nsign reject override spot check\n",
    );
    assert_eq!(code, 0, "{out}{err}");
    let record = pack.join(format!("reviews/v2.3.0/{who}.record.json"));
    (tmp, pack, record)
}

#[test]
fn the_signed_journal_line_and_the_record_bind_each_other() {
    let (_tmp, pack, record) = signed("alice");
    let journal = pack.join("reviews/v2.3.0/alice.jsonl");
    let (code, out) = verify(&record);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("Integrity only: anyone with write access could have produced this record"),
        "an unsigned record says what it proves: {out}"
    );
    let jtext = std::fs::read_to_string(&journal).unwrap();
    let rtext = std::fs::read_to_string(&record).unwrap();
    // one byte of the last (signed) line: its meaning
    let last = jtext.lines().last().unwrap().to_string();
    assert!(last.contains("\"type\":\"signed\""), "{last}");
    std::fs::write(
        &journal,
        jtext.replace(&last, &last.replace("\"rejected\"", "\"rejectet\"")),
    )
    .unwrap();
    let (code, out) = verify(&record);
    assert!(code == 1 && out.contains("changed after signing"), "{out}");
    std::fs::write(&journal, &jtext).unwrap();

    // the forger without a key: swap an image, put its new hash in the record, and patch the
    // `record` field of the signed line to the record's new content hash
    let img = pack.join("images/case-001.jpg");
    std::fs::copy(pack.join("images/case-002.jpg"), &img).unwrap();
    let new_hash = lightbox::review::hash::sha256_file(&img).unwrap();
    let mut r: lightbox::review::Record = serde_json::from_str(&rtext).unwrap();
    let old_hash = r
        .pack_files
        .iter()
        .find(|f| f.path == "images/case-001.jpg")
        .unwrap()
        .sha256
        .clone();
    r.pack_files
        .iter_mut()
        .find(|f| f.path == "images/case-001.jpg")
        .unwrap()
        .sha256 = new_hash;
    let forged = serde_json::to_string_pretty(&r).unwrap();
    std::fs::write(&record, &forged).unwrap();
    let signed_line = jtext.lines().last().unwrap();
    let v: serde_json::Value = serde_json::from_str(signed_line).unwrap();
    let old_content = v["record"].as_str().unwrap().to_string();
    std::fs::write(&journal, jtext.replace(&old_content, &r.content_sha256())).unwrap();
    let (code, out) = verify(&record);
    assert!(code == 1 && out.contains("changed after signing"), "{out}");
    assert!(!out.contains(&old_hash), "the forged record is what is checked: {out}");
}

#[test]
fn a_signed_review_is_closed_and_reopening_invalidates_the_record() {
    let (_tmp, pack, record) = signed("alice");
    // the record holds the note, and each verdict worded as what it means
    let r: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&record).unwrap()).unwrap();
    assert_eq!(r["notes"][0]["text"], "check with the original DICOM");
    assert_eq!(r["verdicts"][0]["meaning"], "rejected");
    // resuming a signed review is refused, and nothing is written
    let journal = pack.join("reviews/v2.3.0/alice.jsonl");
    let before = std::fs::read(&journal).unwrap();
    let (code, out, err) = batch(&pack, "alice", "accept case-007\n");
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("the review is closed") && err.contains("--reopen"),
        "{err}"
    );
    assert_eq!(std::fs::read(&journal).unwrap(), before);
    assert_eq!(verify(&record).0, 0);
    // an explicit reopen: the verdict is recorded, and the record no longer verifies
    let out = Command::cargo_bin("lightbox")
        .unwrap()
        .args(review_args(&pack))
        .args(["--reviewer", "alice", "--role", "radiologist", "--batch", "--reopen"])
        .write_stdin("accept case-007\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let (code, out) = verify(&record);
    assert!(code == 1 && out.contains("changed after signing"), "{out}");
    assert!(
        out.contains("a reopening of the review") && out.contains("a verdict (accept) on case-007.jpg"),
        "{out}"
    );
    // signing again closes it anew, and the new record verifies
    let (code, out, _) = batch(&pack, "alice", "accept case-013\n");
    assert_eq!(code, 0, "still open: {out}");
    let out = Command::cargo_bin("lightbox")
        .unwrap()
        .args(review_args(&pack))
        .args(["--reviewer", "alice", "--batch"])
        .write_stdin("sign approve override re-reviewed case-007\nunsure case-013\n")
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(s.contains("signed") && s.contains("closed"), "{s}");
    assert_eq!(out.status.code(), Some(1), "the verdict after signing failed: {s}");
    let (code, out) = verify(&record);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn batch_failures_are_err_lines_and_a_non_zero_exit() {
    let (_tmp, pack) = pack_copy();
    let (code, out, _) = batch(
        &pack,
        "alice",
        "shown case-007\nfrobnicate case-007\naccept case-999\nreject case-007 reason=9\naccept case-007 flag=no-such-rule\nshown case-013\naccept case-013\n",
    );
    assert_eq!(code, 1, "{out}");
    for l in [
        "err 2 unknown action",
        "err 3 no case",
        "err 4 reason 9",
        "err 5 flag=no-such-rule",
    ] {
        assert!(out.contains(l), "{l}: {out}");
    }
    assert_eq!(out.matches("\nok ").count(), 3, "{out}");
    assert!(out.contains("failed 4 action(s)"), "{out}");
}

#[test]
fn approving_with_rejected_cases_is_confirmed_and_says_so() {
    let (_tmp, pack) = pack_copy();
    let (code, out, _) = batch(
        &pack,
        "alice",
        "shown case-007\nreject case-007 reason=2\nshown case-013\nunsure case-013\nsign approve override spot check\n",
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("approved for release with 1 rejected case and 1 unsure case noted")
            && out.contains("case-007.jpg: rejected (outside anatomy)")
            && out.contains("sign approve noted=2"),
        "{out}"
    );
    // a count that is not the number of noted cases confirms nothing
    let (code, out, _) = batch(
        &pack,
        "alice",
        "sign approve noted=5 override spot check
",
    );
    assert!(code == 1 && out.contains("sign approve noted=2"), "{out}");
    let (code, out, _) = batch(&pack, "alice", "sign approve noted=2 override spot check\n");
    assert_eq!(code, 0, "{out}");
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(pack.join("reviews/v2.3.0/alice.record.json")).unwrap()).unwrap();
    assert_eq!(r["decision"], "approve");
    assert_eq!(
        r["meaning"],
        "approved for release with 1 rejected case and 1 unsure case noted"
    );
}

#[test]
fn verdicts_on_flags_are_worded_as_what_they_mean_in_the_record_and_report() {
    let (tmp, pack) = pack_copy();
    // case-007's candidate has a critical flag (opacity outside the lungs)
    let check = Command::cargo_bin("lightbox")
        .unwrap()
        .args(["check", pack.to_str().unwrap(), "--json"])
        .output()
        .unwrap();
    let flags: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap();
    let rule = flags["flags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["case"] == "case-007.jpg" && f["source"] == "candidate")
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .expect("a candidate flag on case-007");
    let (code, out, _) = batch(
        &pack,
        "alice",
        &format!(
            "shown case-007\nconfirm case-007 flag={rule}\nreject case-007 reason=2\nnote case-007 see the lateral view\nsign reject override spot check\n"
        ),
    );
    assert_eq!(code, 0, "{out}");
    let record = pack.join("reviews/v2.3.0/alice.record.json");
    let r: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&record).unwrap()).unwrap();
    let on_flag = r["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["flag"] == rule.as_str())
        .unwrap();
    assert_eq!(on_flag["meaning"], "flag confirmed: a real error");
    assert!(on_flag["flag_message"].as_str().unwrap().len() > 10);
    assert_eq!(
        r["rejected"].as_array().unwrap().len(),
        1,
        "a verdict on a flag is not a rejected case"
    );
    let out = tmp.path().join("report");
    let o = Command::cargo_bin("lightbox")
        .unwrap()
        .arg("report")
        .arg(&record)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    // Markdown shows the sentence literally (`_` escaped)
    let sentence = on_flag["flag_message"].as_str().unwrap().replace('_', "\\_");
    assert!(
        md.contains(&sentence) && md.contains("**flag confirmed: a real error**"),
        "{md}"
    );
    assert!(md.contains("note: “see the lateral view”"), "{md}");
    assert!(md.contains("left: ground truth · right: candidate"), "{md}");
    let appendix = md.find("## Appendix: hashes").unwrap();
    assert!(md.find("## Cases").unwrap() < appendix && md.find("images/case-001.jpg").unwrap() > appendix);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<div class=\"panels\"><div>ground truth</div><div>candidate (run)</div></div>"));
    assert!(html.contains("Legend:") && html.contains("right_lung (filled and outlined)"));
}

/// Make an ed25519 key; returns its public line.
fn keygen(k: &Path, comment: &str) -> String {
    let ok = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f"])
        .arg(k)
        .status()
        .expect("ssh-keygen (openssh-client) is needed: scripts/test.sh installs it")
        .success();
    assert!(ok);
    let mut p = k.as_os_str().to_owned();
    p.push(".pub");
    std::fs::read_to_string(PathBuf::from(p)).unwrap().trim().to_string()
}

#[test]
fn signatures_are_checked_by_plain_verify_and_required_by_policy() {
    let (tmp, pack) = pack_copy();
    with_policy(&pack, "[review]\nsample = 3\nrequire_ssh = true\n");
    let key = tmp.path().join("bo");
    let public = keygen(&key, "bo@lab");
    let allowed = tmp.path().join("allowed_signers");
    // names with spaces are quoted, as OpenSSH reads them
    std::fs::write(
        &allowed,
        format!("# the release repository's reviewers\n\"Dr Bo Chen\" {public}\n"),
    )
    .unwrap();
    // the key's name comes from the allowed-signers file
    let out = Command::cargo_bin("lightbox")
        .unwrap()
        .args(review_args(&pack))
        .args([
            "--batch",
            "--ssh-key",
            key.to_str().unwrap(),
            "--allowed-signers",
            allowed.to_str().unwrap(),
        ])
        .write_stdin("shown case-007\nreject case-007 reason=2\nsign reject override spot check\n")
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(s.contains("signed"), "{s}{}", String::from_utf8_lossy(&out.stderr));
    let record = pack.join("reviews/v2.3.0/Dr_Bo_Chen.record.json");
    let r: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&record).unwrap()).unwrap();
    assert_eq!(r["reviewer"], "Dr Bo Chen");
    let fp = r["ssh_key"]["fingerprint"].as_str().unwrap().to_string();
    assert!(fp.starts_with("SHA256:"));
    let verify_with = |extra: &[&str]| {
        let o = Command::cargo_bin("lightbox")
            .unwrap()
            .arg("verify")
            .arg(&record)
            .args(extra)
            .output()
            .unwrap();
        (
            o.status.code().unwrap(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
        )
    };
    let (code, out) = verify_with(&["--allowed-signers", allowed.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("good SSH signature by \"Dr Bo Chen\"") && out.contains(&fp),
        "{out}"
    );
    let (code, out) = verify_with(&[]);
    assert!(code == 0 && out.contains("whose key that is was NOT checked"), "{out}");
    // the report shows the key
    let o = Command::cargo_bin("lightbox")
        .unwrap()
        .arg("report")
        .arg(&record)
        .arg("-o")
        .arg(tmp.path().join("rep"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(
        std::fs::read_to_string(tmp.path().join("rep/report.md"))
            .unwrap()
            .contains(&fp)
    );

    // an invalid signature beside the record fails plain verify
    let sig = pack.join("reviews/v2.3.0/Dr_Bo_Chen.record.json.sig");
    let good_sig = std::fs::read(&sig).unwrap();
    let other = tmp.path().join("other.txt");
    std::fs::write(&other, b"something else").unwrap();
    let st = std::process::Command::new("ssh-keygen")
        .args(["-Y", "sign", "-n", "lightbox-signoff", "-f"])
        .arg(&key)
        .arg(&other)
        .output()
        .unwrap();
    assert!(st.status.success());
    std::fs::copy(tmp.path().join("other.txt.sig"), &sig).unwrap();
    let (code, out) = verify_with(&[]);
    assert!(code == 1 && out.contains("is not a valid SSH signature"), "{out}");
    // a signature removed from a record that names its key fails too
    std::fs::remove_file(&sig).unwrap();
    let (code, out) = verify_with(&[]);
    assert!(
        code == 1 && out.contains("signature") && out.contains("is missing"),
        "{out}"
    );
    std::fs::write(&sig, &good_sig).unwrap();

    // the policy requires a signature from every signer: an unsigned second record fails it
    let (code, _, _) = batch(
        &pack,
        "erin",
        "shown case-007\nreject case-007 reason=2\nsign reject override spot check\n",
    );
    assert_eq!(code, 0);
    let o = Command::cargo_bin("lightbox")
        .unwrap()
        .args([
            "verify",
            "--release",
            "v2.3.0",
            "--pack",
            pack.to_str().unwrap(),
            "--allowed-signers",
        ])
        .arg(&allowed)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("erin's record has no SSH signature; the policy requires one"),
        "{out}"
    );
    // and without the allowed-signers file, it cannot be satisfied
    let (code, out) = verify_release(&pack);
    assert!(code == 1 && out.contains("give --allowed-signers FILE"), "{out}");
}

#[test]
fn the_plan_does_not_tell_known_answers_from_the_random_sample() {
    let (_tmp, pack) = pack_copy();
    with_policy(
        &pack,
        "[review]\nsample = 4\nseed = 3\n\n[review.known]\n\"case-002.jpg\" = \"accept\"\n",
    );
    let out = Command::cargo_bin("lightbox")
        .unwrap()
        .args(review_args(&pack))
        .args(["--reviewer", "bob", "--plan"])
        .output()
        .unwrap();
    let plan = String::from_utf8_lossy(&out.stdout);
    assert!(!plan.contains("known"), "{plan}");
    let line = plan.lines().find(|l| l.contains("case-002.jpg")).unwrap();
    assert!(line.contains("random sample"), "{plan}");
    // it sits among the sampled cases in case order
    let sampled: Vec<&str> = plan
        .lines()
        .filter(|l| l.contains("random sample"))
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    let mut sorted = sampled.clone();
    sorted.sort();
    assert_eq!(sampled, sorted, "{plan}");
    assert_eq!(sampled.len(), 5, "{plan}");
}

#[test]
fn simultaneous_sessions_on_one_journal_never_both_write() {
    let (_tmp, pack) = pack_copy();
    let journal = pack.join("reviews/v2.3.0/alice.jsonl");
    let mut acknowledged = 0;
    for round in 0..8 {
        let spawn = || {
            std::process::Command::new(assert_cmd::cargo::cargo_bin("lightbox"))
                .args(review_args(&pack))
                .args(["--reviewer", "alice", "--batch"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        };
        let mut a = spawn();
        let mut b = spawn();
        for c in [&mut a, &mut b] {
            let mut i = c.stdin.take().unwrap();
            let _ = writeln!(i, "note case-00{} round {round}", round % 9 + 1);
        }
        let (oa, ob) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
        let codes = [oa.status.code(), ob.status.code()];
        let won = codes.iter().filter(|c| **c == Some(0)).count();
        assert!(won >= 1, "{codes:?}");
        for o in [&oa, &ob] {
            let s = String::from_utf8_lossy(&o.stdout);
            acknowledged += s.matches("\nok ").count();
            if o.status.code() != Some(0) {
                assert!(
                    String::from_utf8_lossy(&o.stderr).contains("another lightbox session"),
                    "{}",
                    String::from_utf8_lossy(&o.stderr)
                );
            }
        }
        // the journal opens, its chain intact, and holds every acknowledged note
        let (entries, _, tail) = lightbox::review::journal::read(&journal).unwrap();
        assert!(tail.is_none());
        let notes = entries
            .iter()
            .filter(|e| matches!(e.event, lightbox::review::Event::Note { .. }))
            .count();
        assert_eq!(notes, acknowledged, "round {round}");
    }
}

// ---- what a hostile audit of the first fix found ----------------------------------------

#[test]
fn a_record_signs_off_its_own_release_only_and_verify_takes_a_record_or_a_release() {
    let (_tmp, pack) = pack_copy();
    review_as(&pack, "alice", Some("radiologist"), &[], true);
    let v = pack.join("reviews/v2.3.0");
    copy_dir(&v, &pack.join("reviews/v9"));
    let out = Command::cargo_bin("lightbox")
        .unwrap()
        .args(["verify", "--release", "v9", "--pack", pack.to_str().unwrap()])
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{s}");
    assert!(
        s.contains("the record is for release \"v2.3.0\", not \"v9\"") && s.contains("NOT signed off"),
        "{s}"
    );
    let out = Command::cargo_bin("lightbox")
        .unwrap()
        .arg("verify")
        .arg(v.join("alice.record.json"))
        .args(["--release", "v9"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not both"));
}

#[test]
fn a_symlinked_reviews_folder_is_checked_against_the_pack_it_sits_in() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("A"), tmp.path().join("B"));
    copy_dir(&sample(), &a);
    copy_dir(&sample(), &b);
    batch(
        &a,
        "alice",
        "shown case-007\nreject case-007 reason=2\nsign reject override spot check\n",
    );
    std::fs::create_dir_all(b.join("reviews")).unwrap();
    std::os::unix::fs::symlink(a.join("reviews/v2.3.0"), b.join("reviews/v2.3.0")).unwrap();
    std::fs::copy(b.join("images/case-003.jpg"), b.join("images/case-002.jpg")).unwrap();
    let (code, out) = verify(&b.join("reviews/v2.3.0/alice.record.json"));
    assert!(code == 1 && out.contains("images/case-002.jpg changed"), "{out}");
    assert!(
        out.contains(&format!("at {}", b.canonicalize().unwrap().display())),
        "it says which pack: {out}"
    );
}

#[test]
fn files_changed_between_sessions_cannot_be_signed_for() {
    let (_tmp, pack) = pack_copy();
    let (code, _, _) = batch(&pack, "alice", "shown case-001\naccept case-001\n");
    assert_eq!(code, 0);
    // the training job rewrote the candidate's detections before the reviewer came back
    let det = pack.join("runs/candidate/detections.json");
    let text = std::fs::read_to_string(&det).unwrap();
    std::fs::write(&det, text.replacen("0.", "0.0", 1)).unwrap();
    let (code, out, _) = batch(&pack, "alice", "sign approve override spot check\n");
    assert!(
        code == 1 && out.contains("not the ones this journal's sessions opened"),
        "{out}"
    );
    assert!(!pack.join("reviews/v2.3.0/alice.record.json").exists());
}

#[test]
fn overrides_and_unreviewed_samples_are_said_and_do_not_count_by_default() {
    let (_tmp, pack) = pack_copy();
    with_policy(&pack, "[review]\nsample = 5\n");
    let (code, out, _) = batch(
        &pack,
        "carol",
        "shown case-007\nreject case-007 reason=2\nsign approve noted=1 override read on paper\n",
    );
    assert_eq!(code, 0, "{out}");
    let record = pack.join("reviews/v2.3.0/carol.record.json");
    let r: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&record).unwrap()).unwrap();
    // none of the sampled cases was looked at: nothing is claimed
    assert!(
        r["sample_statement"]
            .as_str()
            .unwrap()
            .starts_with("none of the 5 cases sampled"),
        "{}",
        r["sample_statement"]
    );
    let (code, out) = verify_release(&pack);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("OVERRIDE: ") && out.contains("read on paper"), "{out}");
    assert!(
        out.contains("carol approved with") && out.contains("does not count"),
        "{out}"
    );
    // a policy with allow_override lets the same approval count (a changed manifest is a new
    // pack, so the release is reviewed again under it)
    let m = pack.join("lightbox.toml");
    let text = std::fs::read_to_string(&m).unwrap();
    std::fs::write(&m, text.replace("sample = 5\n", "sample = 5\nallow_override = true\n")).unwrap();
    std::fs::remove_dir_all(pack.join("reviews")).unwrap();
    let (code, out, _) = batch(
        &pack,
        "carol",
        "shown case-007\nreject case-007 reason=2\nsign approve noted=1 override read on paper\n",
    );
    assert_eq!(code, 0, "{out}");
    let (code, out) = verify_release(&pack);
    assert!(code == 0 && out.contains("OVERRIDE: "), "{out}");
}

#[test]
fn a_plan_made_smaller_on_the_command_line_does_not_count() {
    let (_tmp, pack) = pack_copy();
    with_policy(&pack, "[review]\nsample = 5\n");
    let input = required_with(&pack, &["--sample", "0"])
        .iter()
        .map(|c| format!("shown {c}\naccept {c} seconds=5\n"))
        .collect::<String>()
        + "sign approve\n";
    let out = Command::cargo_bin("lightbox")
        .unwrap()
        .args(review_args(&pack))
        .args(["--reviewer", "dana", "--batch", "--sample", "0"])
        .write_stdin(input)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("signed"));
    let (code, out) = verify_release(&pack);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("dana's plan was made with a random sample of 0 (the policy asks for 5)"),
        "{out}"
    );
}

/// The plan's required cases with extra `review` arguments.
fn required_with(pack: &Path, extra: &[&str]) -> Vec<String> {
    let out = Command::cargo_bin("lightbox")
        .unwrap()
        .args(review_args(pack))
        .args(["--reviewer", "x", "--plan"])
        .args(extra)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .skip(1)
        .filter_map(|l| {
            l.split_whitespace()
                .next()
                .filter(|w| w.starts_with("case-"))
                .map(String::from)
        })
        .collect()
}

#[test]
fn confirmed_flags_are_noted_in_what_an_approval_means() {
    let (_tmp, pack) = pack_copy();
    let (code, out, _) = batch(
        &pack,
        "alice",
        "shown case-007\nconfirm case-007 flag=opacity-in-lungs\naccept case-007\nsign approve override spot check\n",
    );
    assert!(
        code == 1 && out.contains("1 flag confirmed as a real error") && out.contains("noted=1"),
        "{out}"
    );
    let (code, out, _) = batch(&pack, "alice", "sign approve noted=1 override spot check\n");
    assert_eq!(code, 0, "{out}");
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(pack.join("reviews/v2.3.0/alice.record.json")).unwrap()).unwrap();
    assert_eq!(
        r["meaning"],
        "approved for release with 1 flag confirmed as a real error noted"
    );
}

#[test]
fn a_removed_record_neither_reopens_a_review_nor_hides_its_rejection() {
    let (_tmp, pack, record) = signed("mallory");
    review_as(&pack, "alice", Some("radiologist"), &[], true);
    std::fs::remove_file(&record).unwrap();
    // the rejection's journal still speaks
    let (code, out) = verify_release(&pack);
    assert!(
        code == 1 && out.contains("mallory's journal holds a signature (\"rejected\"") && out.contains("is missing"),
        "{out}"
    );
    // and the review stays closed
    let (code, _, err) = batch(&pack, "mallory", "accept case-007\n");
    assert!(
        code == 2 && err.contains("is missing") && err.contains("--reopen"),
        "{err}"
    );
}

#[test]
fn links_and_special_files_neither_bypass_the_lock_nor_hang_nor_get_written_through() {
    let (tmp, pack) = pack_copy();
    let bin = assert_cmd::cargo::cargo_bin("lightbox");
    // a session on the default journal, and another through a symlink to it
    let mut first = std::process::Command::new(&bin)
        .args(review_args(&pack))
        .args(["--reviewer", "alice", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut r = BufReader::new(first.stdout.take().unwrap());
    let mut l = String::new();
    r.read_line(&mut l).unwrap();
    let link = tmp.path().join("jl");
    std::os::unix::fs::symlink(pack.join("reviews/v2.3.0/alice.jsonl"), &link).unwrap();
    let out = Command::cargo_bin("lightbox")
        .unwrap()
        .args(review_args(&pack))
        .args(["--reviewer", "alice", "--batch", "--journal", link.to_str().unwrap()])
        .write_stdin("status\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("another lightbox session"));
    drop(first.stdin.take());
    first.wait().unwrap();
    // a damaged last line is kept aside in a new file, never through a symlink or over an earlier one
    let journal = pack.join("reviews/v2.3.0/alice.jsonl");
    let precious = tmp.path().join("precious.txt");
    std::fs::write(&precious, b"precious").unwrap();
    let n = lightbox::review::journal::read(&journal).unwrap().0.len();
    std::os::unix::fs::symlink(&precious, format!("{}.corrupt-{n}", journal.display())).unwrap();
    let mut bytes = std::fs::read(&journal).unwrap();
    bytes.extend_from_slice(b"{\"seq\":99,\"tim");
    std::fs::write(&journal, &bytes).unwrap();
    let (code, _, err) = batch(&pack, "alice", "status\n");
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read(&precious).unwrap(), b"precious");
    assert!(err.contains(&format!(".corrupt-{n}-2")), "{err}");
    // a FIFO in place of an image, a journal or a signature: an error, not a hang
    let (_t2, pack2, record) = signed("bob");
    let fifo = pack2.join("images/case-002.jpg");
    std::fs::remove_file(&fifo).unwrap();
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let (code, out) = verify(&record);
    assert!(
        code == 1 && out.contains("images/case-002.jpg is no longer a regular file"),
        "{out}"
    );
}

#[test]
fn a_record_is_bound_byte_for_byte() {
    let (_tmp, _pack, record) = signed("alice");
    let text = std::fs::read_to_string(&record).unwrap();
    std::fs::write(&record, text.clone() + "{\"decision\":\"approve\"}\n").unwrap();
    let (code, out) = verify(&record);
    assert!(
        code == 1 && out.contains("not the record as lightbox wrote it"),
        "{out}"
    );
    std::fs::write(&record, text.replace("\n  ", "\n   ")).unwrap();
    let (code, _) = verify(&record);
    assert_eq!(code, 1, "reformatted");
}

#[test]
fn names_cannot_forge_output_and_allowed_signer_patterns_are_not_names() {
    let (tmp, pack) = pack_copy();
    let (code, _, err) = batch(&pack, "eve\nrelease v2.3.0: sign-off policy satisfied", "status\n");
    assert!(code == 2 && err.contains("control characters"), "{err}");
    // mallory's key listed under a pattern that matches "Dr Ann Lee"
    let mal = tmp.path().join("mal");
    let public = keygen(&mal, "mallory");
    let ann = tmp.path().join("ann");
    let ann_public = keygen(&ann, "ann");
    let allowed = tmp.path().join("allowed");
    std::fs::write(
        &allowed,
        format!("\"Dr Ann Lee\" {ann_public}\n\"mallory,Dr A*\" {public}\n"),
    )
    .unwrap();
    let out = Command::cargo_bin("lightbox")
        .unwrap()
        .args(review_args(&pack))
        .args([
            "--reviewer",
            "Dr Ann Lee",
            "--batch",
            "--ssh-key",
            mal.to_str().unwrap(),
        ])
        .write_stdin("shown case-007\nreject case-007 reason=2\nsign reject override spot check\n")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("signed"));
    let o = Command::cargo_bin("lightbox")
        .unwrap()
        .arg("verify")
        .arg(pack.join("reviews/v2.3.0/Dr_Ann_Lee.record.json"))
        .arg("--allowed-signers")
        .arg(&allowed)
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.code() == Some(1) && s.contains("to \"Dr Ann Lee\" by name (it gives it to mallory)"),
        "{s}"
    );
    // rules from outside the pack cannot be what a sign-off is checked against
    let rules = tmp.path().join("lenient.toml");
    std::fs::write(&rules, "").unwrap();
    let o = Command::cargo_bin("lightbox")
        .unwrap()
        .args(review_args(&pack))
        .args(["--reviewer", "x", "--batch", "--rules", rules.to_str().unwrap()])
        .write_stdin("status\n")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("the pack's own rules"));
}

#[test]
fn a_report_of_a_record_that_does_not_verify_exits_1() {
    let (tmp, pack, record) = signed("alice");
    std::fs::copy(pack.join("images/case-003.jpg"), pack.join("images/case-001.jpg")).unwrap();
    let o = Command::cargo_bin("lightbox")
        .unwrap()
        .arg("report")
        .arg(&record)
        .arg("-o")
        .arg(tmp.path().join("rep"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let md = std::fs::read_to_string(tmp.path().join("rep/report.md")).unwrap();
    assert!(md.contains("NOT verified now"), "{md}");
}

// ---- what the second audit found --------------------------------------------------------

#[test]
fn an_approval_copied_over_a_rejection_does_not_hide_it() {
    let (_tmp, pack, _) = signed("ann");
    review_as(&pack, "bo", Some("radiologist"), &[], true);
    let dir = pack.join("reviews/v2.3.0");
    std::fs::copy(dir.join("bo.record.json"), dir.join("ann.record.json")).unwrap();
    let (code, out) = verify_release(&pack);
    assert!(
        code == 1 && out.contains("this is the record of journal bo.jsonl"),
        "{out}"
    );
    assert!(out.contains("NOT signed off"), "{out}");
}

#[test]
fn special_files_and_huge_signatures_fail_fast() {
    let (_tmp, pack, record) = signed("alice");
    let journal = pack.join("reviews/v2.3.0/alice.jsonl");
    let saved = std::fs::read(&journal).unwrap();
    std::fs::remove_file(&journal).unwrap();
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&journal)
            .status()
            .unwrap()
            .success()
    );
    let (code, out) = verify(&record);
    assert!(code == 1 && out.contains("not a regular file"), "{out}");
    std::fs::remove_file(&journal).unwrap();
    std::fs::write(&journal, saved).unwrap();
    // a 1 MB "signature"
    let sig = pack.join("reviews/v2.3.0/alice.record.json.sig");
    std::fs::write(&sig, vec![b'A'; 1 << 20]).unwrap();
    let t = std::time::Instant::now();
    let (code, out) = verify(&record);
    assert!(
        code == 1 && out.contains("far too large to be an SSH signature"),
        "{out}"
    );
    assert!(t.elapsed().as_secs() < 60);
}

#[test]
fn a_plan_that_leaves_out_required_cases_does_not_count() {
    use lightbox::pack::Pack;
    use lightbox::review::{Identity, Plan, Session, record};
    let (_tmp, pack_dir) = pack_copy();
    let pack = Pack::open(&pack_dir).unwrap();
    let run = pack.run_index("candidate").unwrap();
    let how = lightbox::review::plan::Making {
        sample: pack.manifest.review.sample_size(),
        seed: pack.manifest.review.seed,
        baseline: None,
    };
    let (mut plan, flags) = Plan::for_review(&pack, run, &how).unwrap();
    // the critical case-007 quietly left out of the plan
    plan.required.retain(|r| r.case != "case-007.jpg");
    let identity = Identity {
        release: "v2.3.0".into(),
        reviewer: "zed".into(),
        role: None,
    };
    let journal = pack_dir.join("reviews/v2.3.0/zed.jsonl");
    let mut s = Session::start(&pack, run, identity, plan.clone(), &journal).unwrap();
    for r in &plan.required {
        s.record(lightbox::review::Event::Shown { case: r.case.clone() })
            .unwrap();
        s.record(lightbox::review::Event::Verdict {
            case: r.case.clone(),
            verdict: lightbox::review::Verdict::Accept,
            flag: None,
            reason: None,
            note: None,
            seconds: 5.0,
        })
        .unwrap();
    }
    let signing = record::Signing::new(&pack, &s, &flags, true, None, None, 0.0);
    record::sign(&pack, &mut s, signing).unwrap();
    drop(s);
    // the record itself is consistent, but it is not the plan the pack gives
    let (code, out) = verify(&journal.with_extension("record.json"));
    assert_eq!(code, 0, "{out}");
    let (code, out) = verify_release(&pack_dir);
    assert!(
        code == 1 && out.contains("zed's plan is not the plan the pack and its parameters give; it lacks case-007.jpg"),
        "{out}"
    );
}

#[test]
fn policy_values_that_would_weaken_it_are_errors() {
    for (policy, says) in [
        ("known_agreement = nan", "review.known_agreement"),
        ("known_agreement = -1.0", "review.known_agreement"),
        ("target_bound = 1e-17", "review.target_bound"),
        ("target_bound = 1.0", "review.target_bound"),
        ("min_seconds = inf", "review.min_seconds"),
        ("hard = [\"case-999.jpg\"]", "review.hard"),
    ] {
        let (_tmp, pack) = pack_copy();
        with_policy(&pack, &format!("[review]\n{policy}\n"));
        let (code, _, err) = batch(&pack, "alice", "status\n");
        assert!(code == 2 && err.contains(says), "{policy}: {err}");
    }
}

#[test]
fn batch_input_is_taken_strictly() {
    let (_tmp, pack) = pack_copy();
    let mut input = b"shown case-007\nundo undo\naccept case-007 seconds=1 seconds=2\n".to_vec();
    input.extend_from_slice(b"note case-007 caf\xe9\n");
    let out = Command::cargo_bin("lightbox")
        .unwrap()
        .args(review_args(&pack))
        .args(["--reviewer", "alice", "--batch"])
        .write_stdin(input)
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{s}");
    assert!(
        s.contains("err 2 undo takes nothing after it")
            && s.contains("err 3 seconds= given twice")
            && s.contains("err 4 not UTF-8"),
        "{s}"
    );
    // a name with a zero-width space cannot pass for another
    let (code, _, err) = batch(&pack, "b\u{200b}ob", "status\n");
    assert!(code == 2 && err.contains("invisible"), "{err}");
}

#[test]
fn a_refused_start_on_a_signed_journal_leaves_it_exactly_as_it_was() {
    let (_tmp, pack, record) = signed("alice");
    let journal = pack.join("reviews/v2.3.0/alice.jsonl");
    let mut bytes = std::fs::read(&journal).unwrap();
    bytes.extend_from_slice(b"{\"seq\":99");
    std::fs::write(&journal, &bytes).unwrap();
    let (code, _, err) = batch(&pack, "alice", "status\n");
    assert!(code == 2 && err.contains("last line is damaged"), "{err}");
    assert_eq!(std::fs::read(&journal).unwrap(), bytes, "untouched");
    let (code, out) = verify(&record);
    assert!(code == 1 && out.contains("changed after signing"), "{out}");
}
