//! Comparing two runs of the same pack: metric deltas, cases improved / unchanged / worse,
//! flags new in the candidate and flags it fixed, and the cases ranked by how much worse the
//! candidate is. What `lightbox diff` prints and what the dashboard's compare order uses.
//!
//! How much worse a case is: the change of its error (false positives + misses + Σ(1 − Dice),
//! `metrics::CaseFigures::error`) plus the weight of the flags that are new in the candidate
//! minus those it fixed (critical 4, major 2, minor 0.5): one anatomically impossible
//! prediction outweighs a few counting errors, because it is the kind of error that costs a
//! product its users' trust. A case is worse above [`UNCHANGED`], improved below minus it.

use crate::metrics::report::{CaseFigures, Figure};
use crate::metrics::table::{Align, Table, f4};
use crate::metrics::{self, Options, Report};
use crate::pack::{Pack, Source};
use crate::rules::{Flag, Severity};
use serde::Serialize;
use std::collections::BTreeSet;

/// Changes of at most this size leave a case unchanged.
pub const UNCHANGED: f64 = 0.01;

fn weight(s: Severity) -> f64 {
    match s {
        Severity::Critical => 4.0,
        Severity::Major => 2.0,
        Severity::Minor => 0.5,
    }
}

/// One metric in both runs.
#[derive(Debug, Clone, Serialize)]
pub struct FigureDelta {
    pub name: String,
    pub baseline: Option<f64>,
    pub candidate: Option<f64>,
    pub delta: Option<f64>,
    pub higher_is_better: bool,
}

impl FigureDelta {
    /// Positive when the candidate is better, negative when worse.
    pub fn gain(&self) -> Option<f64> {
        self.delta.map(|d| if self.higher_is_better { d } else { -d })
    }
}

/// A flag as the diff reports it.
#[derive(Debug, Clone, Serialize)]
pub struct FlagChange {
    pub case: String,
    pub rule: String,
    pub severity: Severity,
    pub message: String,
}

/// One case in both runs.
#[derive(Debug, Clone, Serialize)]
pub struct CaseDelta {
    pub case: String,
    #[serde(skip)]
    pub index: usize,
    /// How much worse the candidate is (negative: better).
    pub worse_by: f64,
    pub error_baseline: f64,
    pub error_candidate: f64,
    pub dice_baseline: Option<f64>,
    pub dice_candidate: Option<f64>,
    /// (tp, fp, fn) in each run, where the pack has detections.
    pub counts_baseline: Option<(u32, u32, u32)>,
    pub counts_candidate: Option<(u32, u32, u32)>,
    pub new_flags: Vec<String>,
    pub fixed_flags: Vec<String>,
    /// The candidate's worst error, in words.
    pub worst: Option<String>,
}

impl CaseDelta {
    pub fn verdict(&self) -> &'static str {
        if self.worse_by > UNCHANGED {
            "worse"
        } else if self.worse_by < -UNCHANGED {
            "improved"
        } else {
            "unchanged"
        }
    }
}

/// The whole comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Diff {
    pub pack: String,
    pub baseline: String,
    pub candidate: String,
    pub figures: Vec<FigureDelta>,
    pub improved: usize,
    pub unchanged: usize,
    pub worse: usize,
    pub new_flags: Vec<FlagChange>,
    pub fixed_flags: Vec<FlagChange>,
    /// Every case, worst first.
    pub cases: Vec<CaseDelta>,
}

fn flag_key(f: &Flag) -> (usize, String) {
    (f.case, f.rule.clone())
}

/// Compare `candidate` with `baseline` (run indices), with `flags` evaluated on both runs.
pub fn diff(
    pack: &Pack,
    baseline: usize,
    candidate: usize,
    flags: &[Flag],
    options: &Options,
) -> Result<Diff, metrics::MetricsError> {
    let rb = metrics::compute(pack, baseline, options)?;
    let rc = metrics::compute(pack, candidate, options)?;
    Ok(diff_reports(pack, baseline, candidate, &rb, &rc, flags))
}

/// Each figure in both runs, in the baseline's order (then those only the candidate has).
pub fn figure_deltas(fb: &[Figure], fc: &[Figure]) -> Vec<FigureDelta> {
    let mut figures: Vec<FigureDelta> = fb
        .iter()
        .map(|b| {
            let c = fc.iter().find(|c| c.name == b.name);
            let cv = c.and_then(|c| c.value);
            FigureDelta {
                name: b.name.clone(),
                baseline: b.value,
                candidate: cv,
                delta: b.value.zip(cv).map(|(x, y)| y - x),
                higher_is_better: b.higher_is_better,
            }
        })
        .collect();
    for c in fc.iter().filter(|c| !fb.iter().any(|b| b.name == c.name)) {
        figures.push(FigureDelta {
            name: c.name.clone(),
            baseline: None,
            candidate: c.value,
            delta: None,
            higher_is_better: c.higher_is_better,
        });
    }
    figures
}

/// The figures of both runs as a table (metric, the baseline's, the candidate's, the change,
/// and "worse" or "better" where it moved by more than `tolerance` in that direction): what
/// `lightbox diff` prints and the dashboard's metrics view shows when two runs are compared.
pub fn figures_table(title: String, figures: &[FigureDelta], baseline: &str, candidate: &str, tolerance: f64) -> Table {
    use Align::*;
    let mut t = Table::new(
        title,
        &[
            ("metric", Left),
            (baseline, Right),
            (candidate, Right),
            ("change", Right),
            ("", Left),
        ],
    );
    for x in figures {
        let mark = match x.gain() {
            Some(g) if g < -tolerance => "worse",
            Some(g) if g > tolerance => "better",
            _ => "",
        };
        t.rows.push(vec![
            x.name.clone(),
            f4(x.baseline),
            f4(x.candidate),
            x.delta.map(|v| format!("{v:+.4}")).unwrap_or_else(|| "—".into()),
            mark.to_string(),
        ]);
    }
    t
}

/// The comparison from two metric reports already computed.
pub fn diff_reports(pack: &Pack, baseline: usize, candidate: usize, rb: &Report, rc: &Report, flags: &[Flag]) -> Diff {
    let figures = figure_deltas(&rb.figures(), &rc.figures());
    let of = |src: usize| -> Vec<&Flag> { flags.iter().filter(|f| f.source == Some(Source::Run(src))).collect() };
    let (flb, flc) = (of(baseline), of(candidate));
    let kb: BTreeSet<(usize, String)> = flb.iter().map(|f| flag_key(f)).collect();
    let kc: BTreeSet<(usize, String)> = flc.iter().map(|f| flag_key(f)).collect();
    let change = |f: &Flag| FlagChange {
        case: pack.cases[f.case].id.0.clone(),
        rule: f.rule.clone(),
        severity: f.severity,
        message: f.message.clone(),
    };
    let new: Vec<&Flag> = flc.iter().copied().filter(|f| !kb.contains(&flag_key(f))).collect();
    let fixed: Vec<&Flag> = flb.iter().copied().filter(|f| !kc.contains(&flag_key(f))).collect();
    let by_index = |r: &'_ Report| -> Vec<Option<usize>> {
        let mut v = vec![None; pack.cases.len()];
        for (k, c) in r.cases.iter().enumerate() {
            if let Some(slot) = v.get_mut(c.index) {
                slot.get_or_insert(k);
            }
        }
        v
    };
    let (ib, ic) = (by_index(rb), by_index(rc));
    let mut cases: Vec<CaseDelta> = (0..pack.cases.len())
        .map(|i| {
            let b = ib[i].map(|k| &rb.cases[k]);
            let c = ic[i].map(|k| &rc.cases[k]);
            let eb = b.map(|x| x.error).unwrap_or(0.0);
            let ec = c.map(|x| x.error).unwrap_or(0.0);
            // one flag per rule and case: a rule broken by several instances counts once
            let once = |v: &[&Flag]| -> Vec<(String, Severity)> {
                let mut seen = BTreeSet::new();
                v.iter()
                    .filter(|f| f.case == i && seen.insert(f.rule.clone()))
                    .map(|f| (f.rule.clone(), f.severity))
                    .collect()
            };
            let (n, x) = (once(&new), once(&fixed));
            let flags_weight: f64 =
                n.iter().map(|(_, s)| weight(*s)).sum::<f64>() - x.iter().map(|(_, s)| weight(*s)).sum::<f64>();
            let counts = |f: Option<&CaseFigures>| f.and_then(|f| Some((f.tp?, f.fp?, f.fn_?)));
            CaseDelta {
                case: pack.cases[i].id.0.clone(),
                index: i,
                worse_by: (ec - eb) + flags_weight,
                error_baseline: eb,
                error_candidate: ec,
                dice_baseline: b.and_then(|x| x.dice),
                dice_candidate: c.and_then(|x| x.dice),
                counts_baseline: counts(b),
                counts_candidate: counts(c),
                new_flags: n.into_iter().map(|(r, _)| r).collect(),
                fixed_flags: x.into_iter().map(|(r, _)| r).collect(),
                worst: c.and_then(|x| x.worst.clone()),
            }
        })
        .collect();
    cases.sort_by(|a, b| b.worse_by.total_cmp(&a.worse_by).then(a.index.cmp(&b.index)));
    let count = |v: &str| cases.iter().filter(|c| c.verdict() == v).count();
    Diff {
        pack: pack.manifest.name.clone(),
        baseline: pack.runs[baseline].name.0.clone(),
        candidate: pack.runs[candidate].name.0.clone(),
        improved: count("improved"),
        unchanged: count("unchanged"),
        worse: count("worse"),
        figures,
        new_flags: new.into_iter().map(change).collect(),
        fixed_flags: fixed.into_iter().map(change).collect(),
        cases,
    }
}

impl Diff {
    /// Figures that got worse by more than `tolerance`.
    pub fn regressions(&self, tolerance: f64) -> Vec<&FigureDelta> {
        self.figures
            .iter()
            .filter(|f| f.gain().is_some_and(|g| g < -tolerance))
            .collect()
    }

    /// New critical flags in the candidate.
    pub fn new_critical(&self) -> usize {
        self.new_flags
            .iter()
            .filter(|f| f.severity == Severity::Critical)
            .count()
    }

    /// The order in which the dashboard's compare mode lists cases: worst first.
    pub fn order(&self) -> Vec<usize> {
        self.cases.iter().map(|c| c.index).collect()
    }
}
