//! Sign-off end to end through `lightbox review --batch` and `lightbox verify`: acknowledged
//! verdicts survive SIGKILL at random moments, every hashed input is tamper-evident, sessions
//! resume, two reviewers never collide, a damaged last line is set aside.

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
    assert!(!out.contains("error"), "{out}");
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
    assert_eq!(code, 0);
    assert!(out.contains("error: ") && out.contains("not reviewed yet"), "{out}");
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

/// Review as `reviewer` with `role`: every required case accepted, except known rejects.
fn review_all(pack: &Path, reviewer: &str, role: &str, sign: &str) -> String {
    let cases = required(pack);
    let mut input = String::new();
    for c in &cases {
        let (verb, why) = if c == "case-007.jpg" {
            ("reject", "reason=2")
        } else {
            ("accept", "")
        };
        input.push_str(&format!("shown {c}\n{verb} {c} {why} seconds=5\n"));
    }
    input.push_str(&format!("sign {sign}\n"));
    let out = Command::cargo_bin("lightbox")
        .unwrap()
        .args(review_args(pack))
        .args(["--reviewer", reviewer, "--role", role, "--batch"])
        .write_stdin(input)
        .output()
        .unwrap();
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

#[test]
fn the_sign_off_policy_needs_two_reviewers_a_radiologist_and_not_the_author_alone() {
    let (_tmp, pack) = pack_copy();
    let m = pack.join("lightbox.toml");
    let text = std::fs::read_to_string(&m)
        .unwrap()
        .replace("[runs.candidate]\n", "[runs.candidate]\nauthor = \"alice\"\n");
    std::fs::write(
        &m,
        text + "\n[review]\nsignatures = 2\nroles = [\"radiologist\"]\nbaseline = \"baseline\"\nsample = 5\n\n[review.known]\n\"case-007.jpg\" = \"reject\"\n\"case-013.jpg\" = \"reject\"\n",
    )
    .unwrap();
    // the plan holds the regressions against the baseline and the known-answer cases
    let out = Command::cargo_bin("lightbox")
        .unwrap()
        .args(review_args(&pack))
        .args(["--reviewer", "alice", "--plan"])
        .output()
        .unwrap();
    let plan = String::from_utf8_lossy(&out.stdout);
    assert!(plan.contains("regression vs baseline"), "{plan}");
    assert!(plan.contains("known answer"), "{plan}");

    review_all(&pack, "alice", "radiologist", "approve");
    let (code, out) = verify_release(&pack);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("needs 2") && out.contains("run's author"), "{out}");
    // agreement with the known answers: case-007 rejected (agrees), case-013 accepted (does not)
    assert!(out.contains("1 of 2 known-answer cases agreed"), "{out}");

    review_all(&pack, "bob", "engineer", "approve");
    let (code, out) = verify_release(&pack);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("policy satisfied"), "{out}");

    // a rejection by anyone stops the release
    review_all(&pack, "carol", "radiologist", "reject");
    let (code, out) = verify_release(&pack);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("carol signed \"rejected\""), "{out}");
}

/// A record signed with the reviewer's ed25519 key verifies with `lightbox verify
/// --allowed-signers` and with `ssh-keygen -Y verify` itself; another key does not.
#[test]
fn records_signed_with_an_ssh_key_verify_with_ssh_keygen() {
    if std::process::Command::new("ssh-keygen").arg("-?").output().is_err() {
        eprintln!("skipped: no ssh-keygen");
        return;
    }
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
    assert!(out.contains("does not verify"), "{out}");
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
    assert!(md.contains("# Sign-off: v2.3.0 — rejected"));
    assert!(
        md.contains("reject — outside anatomy — “opacity below the diaphragm”"),
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
