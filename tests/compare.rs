//! `lightbox diff`: the sample's planted regressions rank first, flags new and fixed are the
//! planted ones, the exit status gates, bad input is refused.
// tests: a failed unwrap is a failed run, not a crash in a user's hands
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

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

#[test]
fn planted_regressions_rank_first_and_the_gate_fails() {
    let pack = common::sample();
    let (code, out, _) = lightbox(&["diff", pack.to_str().unwrap(), "baseline", "candidate", "--json"]);
    assert_eq!(code, 1, "new critical flags make the candidate worse");
    let d: serde_json::Value = serde_json::from_str(&out).unwrap();
    let cases = d["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 40);
    let n = |k: &str| d[k].as_u64().unwrap();
    assert_eq!(n("worse") + n("unchanged") + n("improved"), 40);
    // the four errors planted in the candidate come first
    let first: std::collections::BTreeSet<&str> = cases[..4].iter().map(|c| c["case"].as_str().unwrap()).collect();
    let planted = ["case-007.jpg", "case-013.jpg", "case-021.jpg", "case-029.jpg"];
    assert_eq!(first, planted.into_iter().collect(), "{:?}", &cases[..6]);
    // ranked: worse_by never increases down the list
    let w: Vec<f64> = cases.iter().map(|c| c["worse_by"].as_f64().unwrap()).collect();
    assert!(w.windows(2).all(|p| p[0] >= p[1]));
    // new flags: exactly the planted critical ones; fixed: the baseline's planted one among them
    let new: Vec<(String, String)> = d["new_flags"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "critical")
        .map(|f| {
            (
                f["case"].as_str().unwrap().to_string(),
                f["rule"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(new.len(), 4, "{new:?}");
    for p in planted {
        assert!(new.iter().any(|(c, _)| c == p), "{p} {new:?}");
    }
    let fixed = d["fixed_flags"].as_array().unwrap();
    assert!(
        fixed
            .iter()
            .any(|f| f["case"] == "case-024.jpg" && f["rule"] == "lung-one-piece"),
        "{fixed:?}"
    );
    // the baseline's planted fragment is an improvement in the candidate
    let c24 = cases.iter().find(|c| c["case"] == "case-024.jpg").unwrap();
    assert!(c24["worse_by"].as_f64().unwrap() < 0.0);
    // metric deltas are candidate − baseline
    let f = d["figures"].as_array().unwrap();
    let ap = f.iter().find(|x| x["name"] == "bbox/AP").unwrap();
    let delta = ap["candidate"].as_f64().unwrap() - ap["baseline"].as_f64().unwrap();
    assert!((ap["delta"].as_f64().unwrap() - delta).abs() < 1e-12);
}

#[test]
fn the_table_names_the_new_flags_and_the_worst_cases() {
    let pack = common::sample();
    let (code, out, err) = lightbox(&["diff", pack.to_str().unwrap(), "baseline", "candidate", "--top", "3"]);
    assert_eq!(code, 1);
    assert!(
        out.contains("cases: ") && out.contains("worse, ") && out.contains("improved"),
        "{out}"
    );
    assert!(out.contains("+ critical case-007.jpg opacity-in-lungs"), "{out}");
    assert!(out.contains("- critical case-024.jpg lung-one-piece"), "{out}");
    assert!(out.contains("more (--top 0 lists all)"), "{out}");
    assert!(err.contains("candidate is worse: 4 new critical flag(s)"), "{err}");
    // the other way round the candidate's errors are fixed: no new critical flag but the
    // baseline's fragment, and the gate still fails on the metric drops
    let (code, out, _) = lightbox(&["diff", pack.to_str().unwrap(), "candidate", "baseline", "--json"]);
    assert_eq!(code, 1);
    let d: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(d["cases"][0]["case"], "case-024.jpg");
}

#[test]
fn bad_input_is_refused_with_exit_2() {
    let pack = common::sample();
    let p = pack.to_str().unwrap();
    let (code, _, err) = lightbox(&["diff", p, "baseline", "baseline"]);
    assert_eq!(code, 2);
    assert!(err.contains("same run"), "{err}");
    let (code, _, err) = lightbox(&["diff", p, "baseline", "nope"]);
    assert_eq!(code, 2);
    assert!(err.contains("nope") && err.contains("candidate"), "{err}");
    let (code, _, err) = lightbox(&["diff", "/nonexistent/pack", "a", "b"]);
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/pack"), "{err}");
}

#[test]
fn a_pack_given_by_flags_diffs_as_its_folder_does() {
    let pack = common::sample();
    let p = |rel: &str| pack.join(rel).to_str().unwrap().to_string();
    let (images, gt) = (p("images"), p("ground_truth/instances.json"));
    let (b, c) = (
        format!("baseline=coco:{}", p("runs/baseline/detections.json")),
        format!("candidate=coco:{}", p("runs/candidate/detections.json")),
    );
    let (code, out, err) = lightbox(&[
        "diff",
        "--images",
        &images,
        "--gt",
        &gt,
        "--run",
        &b,
        "--run",
        &c,
        "baseline",
        "candidate",
        "--json",
    ]);
    assert!(code == 0 || code == 1, "{err}");
    let d: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(d["cases"].as_array().unwrap().len(), 40);
    assert_eq!(
        (d["baseline"].as_str(), d["candidate"].as_str()),
        (Some("baseline"), Some("candidate"))
    );
    // a folder and flags at once is refused, as everywhere
    let (code, _, err) = lightbox(&[
        "diff",
        pack.to_str().unwrap(),
        "baseline",
        "candidate",
        "--images",
        &images,
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("not both"), "{err}");
}

/// The figures table (the one the dashboard's metrics view shows for two runs): a row per
/// figure with both runs' values, the change and the verdict, as the JSON has them.
#[test]
fn the_figure_table_has_both_runs_the_change_and_the_verdict() {
    let pack = common::sample();
    let p = pack.to_str().unwrap();
    let (_, out, _) = lightbox(&["diff", p, "baseline", "candidate"]);
    let (_, json, _) = lightbox(&["diff", p, "baseline", "candidate", "--json"]);
    let d: serde_json::Value = serde_json::from_str(&json).unwrap();
    let header = out.lines().find(|l| l.starts_with("metric")).unwrap();
    let cols: Vec<&str> = header.split_whitespace().collect();
    assert_eq!(cols, ["metric", "baseline", "candidate", "change"]);
    let f4 = |v: &serde_json::Value| v.as_f64().map(|x| format!("{x:.4}")).unwrap_or_else(|| "—".into());
    for fig in d["figures"].as_array().unwrap() {
        let name = fig["name"].as_str().unwrap();
        let row = out
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no row for {name}:\n{out}"));
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cells[1], f4(&fig["baseline"]), "{row}");
        assert_eq!(cells[2], f4(&fig["candidate"]), "{row}");
        let delta = fig["delta"]
            .as_f64()
            .map(|x| format!("{x:+.4}"))
            .unwrap_or_else(|| "—".into());
        assert_eq!(cells[3], delta, "{row}");
        // worse / better beyond the default tolerance (0.01), in the figure's own direction
        let gain = fig["delta"].as_f64().map(|x| {
            if fig["higher_is_better"].as_bool().unwrap() {
                x
            } else {
                -x
            }
        });
        let verdict = match gain {
            Some(g) if g < -0.01 => Some("worse"),
            Some(g) if g > 0.01 => Some("better"),
            _ => None,
        };
        assert_eq!(cells.get(4).copied(), verdict, "{row}");
    }
}
