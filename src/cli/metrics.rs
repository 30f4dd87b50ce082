//! `lightbox metrics`: every metric the pack supports for one run, as a table or JSON; with
//! `--reference`, the pre-release metric test (exit 1 on a regression beyond tolerance).

use super::source::PackArgs;
use super::{EXIT_INPUT, EXIT_OK};
use lightbox::metrics::classification::Bootstrap;
use lightbox::metrics::reference::{self, Reference, Tolerance, Verdict};
use lightbox::metrics::table::{self, f3};
use lightbox::metrics::{Options, Report};
use std::fmt::Write;
use std::path::PathBuf;

pub const EXIT_REGRESSION: u8 = 1;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub source: PackArgs,
    /// Print JSON (every figure, per-class and per-case).
    #[arg(long)]
    pub json: bool,
    /// Operating score threshold: detections and class scores at or above it are positive calls.
    #[arg(long, default_value_t = 0.5, value_name = "SCORE")]
    pub threshold: f64,
    /// IoU at which a detection is a true positive (precision/recall/F1, confusion, per case).
    #[arg(long, default_value_t = 0.5)]
    pub iou: f64,
    /// COCO IoU thresholds, comma-separated (default .50:.05:.95); e.g. `--iou-thrs 0.5` for AP50 only.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub iou_thrs: Option<Vec<f64>>,
    /// COCO maxDets, comma-separated (default 1,10,100).
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub max_dets: Option<Vec<usize>>,
    /// Skip boundary distances (HD95).
    #[arg(long)]
    pub no_boundary: bool,
    /// Bootstrap resamples for confidence intervals (0: none).
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub bootstrap: usize,
    /// Compare with a reference file; exit 1 when a figure regressed beyond tolerance.
    #[arg(long, value_name = "FILE")]
    pub reference: Option<PathBuf>,
    /// Largest allowed drop of a ratio (AP, Dice, AUC, ...) against the reference.
    #[arg(long, default_value_t = 0.005)]
    pub tolerance: f64,
    /// Largest allowed growth of a distance (HD95, pixels) against the reference.
    #[arg(long, default_value_t = 1.0, value_name = "PX")]
    pub distance_tolerance: f64,
    /// Write this run's figures as a reference file.
    #[arg(long, value_name = "FILE")]
    pub save_reference: Option<PathBuf>,
    /// Include the full COCO precision/recall/scores arrays in the JSON.
    #[arg(long)]
    pub arrays: bool,
}

pub fn run(a: Args) -> anyhow::Result<u8> {
    let pack = a.source.open()?;
    if let Some(code) = super::source::gate_loaded(&pack, "metrics", a.source.from.allow_problems) {
        return Ok(code);
    }
    let Some(run) = a.source.selected_run(&pack)? else {
        eprintln!(
            "error: the pack has no runs to evaluate. Add one under [runs.NAME] in lightbox.toml or with --run NAME=FILE"
        );
        return Ok(EXIT_INPUT);
    };
    if !(0.0..=1.0).contains(&a.iou) {
        eprintln!("error: --iou {} is outside [0, 1]", a.iou);
        return Ok(EXIT_INPUT);
    }
    let options = Options {
        threshold: a.threshold,
        iou: a.iou,
        iou_thrs: a.iou_thrs.clone(),
        max_dets: a.max_dets.clone(),
        boundary: !a.no_boundary,
        bootstrap: Bootstrap {
            resamples: a.bootstrap,
            ..Bootstrap::default()
        },
        ..Options::default()
    };
    let reference = match &a.reference {
        Some(p) => match Reference::read(p) {
            Ok(r) => Some(r),
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(EXIT_INPUT);
            }
        },
        None => None,
    };
    let report = match lightbox::metrics::compute(&pack, run, &options) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(EXIT_INPUT);
        }
    };
    let figures = report.figures();
    if let Some(path) = &a.save_reference {
        let r = Reference::from_figures(&report.pack, &report.run, &figures);
        if let Err(e) = r.write(path) {
            eprintln!("error: {e}");
            return Ok(EXIT_INPUT);
        }
        eprintln!("wrote {} figures to {}", r.figures.len(), path.display());
    }
    let tol = Tolerance {
        ratio: a.tolerance,
        distance: a.distance_tolerance,
    };
    let comparisons = reference.as_ref().map(|r| reference::compare(r, &figures, tol));
    let failed = comparisons.as_ref().is_some_and(|c| {
        c.iter()
            .any(|c| matches!(c.verdict, Verdict::Regressed | Verdict::Missing))
    });
    if a.json {
        let mut v = serde_json::to_value(&report)?;
        v["figures"] = serde_json::to_value(&figures)?;
        if let Some(c) = &comparisons {
            v["reference"] = serde_json::json!({
                "file": a.reference.as_ref().map(|p| p.display().to_string()),
                "tolerance": tol,
                "passed": !failed,
                "figures": c,
            });
        }
        if a.arrays {
            for (i, s) in report.coco.iter().enumerate() {
                v["coco"][i]["precision"] = serde_json::to_value(&s.eval.precision)?;
                v["coco"][i]["recall"] = serde_json::to_value(&s.eval.recall)?;
                v["coco"][i]["scores"] = serde_json::to_value(&s.eval.scores)?;
                v["coco"][i]["shape"] = serde_json::json!([
                    s.eval.params.iou_thrs.len(),
                    s.eval.params.rec_thrs.len(),
                    s.eval.categories.len(),
                    s.eval.params.area_rngs.len(),
                    s.eval.params.max_dets.len()
                ]);
            }
        }
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        let text = table(&report, pack.cases.len(), pack.errors().next().is_some());
        for line in text.lines() {
            println!("{}", line.trim_end());
        }
        if let Some(c) = &comparisons {
            print!(
                "{}",
                reference_table(a.reference.as_deref().unwrap_or(std::path::Path::new("")), c, tol)
            );
        }
    }
    let bad_files = pack.errors().count();
    if bad_files > 0 && !a.json {
        eprintln!("note: {bad_files} problem(s) in the pack's files; `lightbox info` lists them");
    }
    Ok(if failed { EXIT_REGRESSION } else { EXIT_OK })
}

/// The width of a name column: the longest name, at least `min`.
fn column_width<'a>(names: impl Iterator<Item = &'a str>, min: usize) -> usize {
    names.map(|n| n.chars().count()).max().unwrap_or(min).max(min)
}

fn stat(v: f64) -> String {
    if v > -1.0 { format!("{v:.3}") } else { "—".into() }
}

/// `dropped`: the pack had errors (run with `--allow-problems`), so some annotations were not
/// loaded and the figures are not what pycocotools computes on the files.
fn table(r: &Report, n_cases: usize, dropped: bool) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "{} · run {} · {n_cases} cases", r.pack, r.run);
    for s in &r.coco {
        let ious = if s.iou_thrs.len() == 1 {
            format!("IoU {:.2}", s.iou_thrs[0])
        } else {
            format!("IoU {:.2}–{:.2}", s.iou_thrs[0], s.iou_thrs[s.iou_thrs.len() - 1])
        };
        let _ = writeln!(
            o,
            "\nCOCO {} ({ious}, maxDets {}; {})",
            match s.iou_type {
                lightbox::metrics::IouType::Bbox => "bbox",
                lightbox::metrics::IouType::Segm => "segm",
            },
            s.max_dets.iter().map(|m| m.to_string()).collect::<Vec<_>>().join("/"),
            if dropped {
                "on what loaded only: NOT what pycocotools computes on these files"
            } else {
                "identical to pycocotools"
            }
        );
        for row in s.stats.chunks(6) {
            let line: Vec<String> = row.iter().map(|(n, v)| format!("{n:<5} {:>6}", stat(*v))).collect();
            let _ = writeln!(o, "  {}", line.join("   "));
        }
        if !s.classes.is_empty() {
            let w = column_width(s.classes.iter().map(|c| c.name.as_str()), 5);
            let _ = writeln!(o, "  {:<w$}  {:>6}  {:>6}  {:>6}", "class", "AP", "AP50", "AR100");
            for c in &s.classes {
                let _ = writeln!(
                    o,
                    "  {:<w$}  {:>6}  {:>6}  {:>6}",
                    c.name,
                    f3(c.ap),
                    f3(c.ap50),
                    f3(c.ar100)
                );
            }
        }
    }
    // the tables the dashboard's metrics view shows too (lightbox::metrics::table)
    let mut tables: Vec<table::Table> = Vec::new();
    if let Some(d) = &r.detection {
        tables.push(table::detection(r, d, d.threshold));
    }
    if let Some(c) = &r.confusion {
        let names = r
            .detection
            .as_ref()
            .map(|d| d.classes_names.clone())
            .unwrap_or_default();
        tables.extend(table::confusion(c, &names, 12));
    }
    if let Some(s) = &r.segmentation {
        tables.push(table::segmentation(s));
    }
    tables.extend(table::classification(&r.classification));
    for t in &tables {
        let (header, rows) = t.lines();
        let _ = writeln!(o, "\n{}", t.title);
        let _ = writeln!(o, "  {header}");
        for row in rows {
            let _ = writeln!(o, "  {row}");
        }
    }
    let mut worst: Vec<_> = r.cases.iter().filter(|c| c.error > 0.0).collect();
    worst.sort_by(|a, b| b.error.total_cmp(&a.error));
    if !worst.is_empty() {
        let _ = writeln!(o, "\nWorst cases (false positives + misses + Σ(1 − Dice))");
        let w = worst.iter().take(8).map(|c| c.case.chars().count()).max().unwrap_or(4);
        for c in worst.iter().take(8) {
            let counts = match (c.tp, c.fp, c.fn_) {
                (Some(tp), Some(fp), Some(fn_)) => format!("TP {tp:>2} FP {fp:>2} FN {fn_:>2}  "),
                _ => String::new(),
            };
            let dice = c.dice.map(|d| format!("Dice {d:.2}  ")).unwrap_or_default();
            let _ = writeln!(
                o,
                "  {:<w$}  {counts}{dice}{}",
                c.case,
                c.worst.as_deref().unwrap_or("")
            );
        }
    }
    if !r.warnings.is_empty() {
        let _ = writeln!(o, "\nWarnings");
        for w in &r.warnings {
            let _ = writeln!(o, "  ! {w}");
        }
    }
    o
}

fn reference_table(path: &std::path::Path, c: &[reference::Comparison], tol: Tolerance) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "\nReference check against {} (tolerance {} for ratios, {} px for distances)",
        path.display(),
        tol.ratio,
        tol.distance
    );
    let w = column_width(c.iter().map(|c| c.name.as_str()), 6);
    let _ = writeln!(
        o,
        "  {:<w$}  {:>9}  {:>9}  {:>9}  verdict",
        "figure", "value", "reference", "delta"
    );
    let num = |v: Option<f64>| v.map(|v| format!("{v:.4}")).unwrap_or_else(|| "—".into());
    for x in c {
        let verdict = match x.verdict {
            Verdict::Ok => "ok",
            Verdict::Improved => "improved",
            Verdict::Regressed => "REGRESSED",
            Verdict::Missing => "MISSING",
        };
        let delta = x.delta.map(|d| format!("{d:+.4}")).unwrap_or_else(|| "—".into());
        let _ = writeln!(
            o,
            "  {:<w$}  {:>9}  {:>9}  {:>9}  {verdict}",
            x.name,
            num(x.value),
            num(x.reference),
            delta
        );
    }
    let bad = c
        .iter()
        .filter(|x| matches!(x.verdict, Verdict::Regressed | Verdict::Missing))
        .count();
    if bad == 0 {
        let _ = writeln!(o, "PASSED: {} figures within tolerance of the reference", c.len());
    } else {
        let _ = writeln!(o, "FAILED: {bad} of {} figures regressed or missing", c.len());
    }
    o
}
