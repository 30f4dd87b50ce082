//! `lightbox check`: anatomy rules and out-of-distribution inputs; a summary per rule and
//! source, then every flag. Exit status 1 when a run or an input has a critical flag (a release gate), 2 on
//! bad input.

use super::source::PackArgs;
use super::{EXIT_INPUT, EXIT_OK};
use lightbox::check::{self, OOD_RULE};
use lightbox::pack::Source;
use lightbox::rules::{RuleSet, Severity};
use std::collections::BTreeMap;
use std::fmt::Write;

pub const EXIT_GATE: u8 = 1;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub source: PackArgs,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// List every flag (default: the first 60).
    #[arg(long)]
    pub all: bool,
    /// Recompute the out-of-distribution reference instead of reading ood.lock.json.
    #[arg(long)]
    pub refresh_lock: bool,
    /// Compare inputs with this reference (from `lightbox stats`) instead of the pack itself.
    #[arg(long, value_name = "FILE")]
    pub ood_reference: Option<std::path::PathBuf>,
    /// Keep watching the pack: check again whenever a run, the ground truth, the rules or the
    /// manifest changes (ctrl-c stops; the exit status is that of the last check).
    #[arg(long)]
    pub watch: bool,
}

pub fn run(a: Args) -> anyhow::Result<u8> {
    let pack = a.source.open()?;
    if let Some(code) = super::source::gate(&pack, "check", a.source.from.allow_problems) {
        return Ok(code);
    }
    let code = check_pack(&pack, &a)?;
    if !a.watch {
        return Ok(code);
    }
    let Some(root) = pack.root.clone() else {
        eprintln!("error: --watch needs a pack folder (not --images/--gt/--run)");
        return Ok(EXIT_INPUT);
    };
    let (tx, rx) = std::sync::mpsc::channel();
    let _watch = lightbox::watch::spawn(&root, std::time::Duration::from_millis(300), move |paths| {
        let _ = tx.send(paths);
    })
    .map_err(anyhow::Error::msg)?;
    eprintln!("watching {} for changes (ctrl-c stops)", root.display());
    let mut last = pack;
    let mut code = code;
    let mut reported: Option<String> = None;
    while let Ok(paths) = rx.recv() {
        match lightbox::watch::reload(&root, &last, &paths, &lightbox::watch::BACKOFF) {
            Ok(r) if r.changed.is_empty() => {}
            Ok(r) => {
                reported = None;
                let what: Vec<String> = r.changed.iter().map(|t| t.to_string()).collect();
                println!(
                    "\n── {} changed ({}) ──",
                    what.join(", "),
                    lightbox::review::hash::utc_now()
                );
                last = r.pack;
                code = check_pack(&last, &a)?;
            }
            Err(e) if reported.as_ref() == Some(&e.to_string()) => {}
            Err(e) => {
                eprintln!("not checked again, the file does not parse yet: {e}");
                reported = Some(e.to_string());
            }
        }
        use std::io::Write as _;
        let _ = std::io::stdout().flush();
    }
    Ok(code)
}

/// One check of `pack`, printed; the exit status it implies.
fn check_pack(pack: &lightbox::pack::Pack, a: &Args) -> anyhow::Result<u8> {
    let rules = match check::load_rules(pack, a.source.from.rules.as_deref()) {
        Ok(Some(r)) => r,
        Ok(None) => RuleSet::empty(),
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(EXIT_INPUT);
        }
    };
    // the ground truth is always checked (a broken ground truth means a labelling error); runs:
    // the ones named with --run, else all
    let mut sources = vec![Source::GroundTruth];
    let selected = a.source.selected_runs();
    if selected.is_empty() {
        sources.extend((0..pack.runs.len()).map(Source::Run));
    } else {
        for name in selected {
            let r = pack.run_index(name).map_err(anyhow::Error::msg)?;
            if !sources.contains(&Source::Run(r)) {
                sources.push(Source::Run(r));
            }
        }
    }
    let reference = match &a.ood_reference {
        Some(p) => match lightbox::ood::read_reference(p) {
            Ok(r) => Some(r),
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(EXIT_INPUT);
            }
        },
        None => None,
    };
    let report = check::check_with(
        pack,
        &rules,
        &sources,
        a.refresh_lock,
        reference.as_ref(),
        &lightbox::job::Progress::default(),
    )
    .map_err(anyhow::Error::msg)?;
    let gate = report
        .flags
        .iter()
        .any(|f| f.severity == Severity::Critical && !matches!(f.source, Some(Source::GroundTruth)));
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report.to_json(pack))?);
    } else {
        print!("{}", table(pack, &rules, &sources, &report, a.all));
    }
    let bad_files = pack.errors().count();
    if bad_files > 0 && !a.json {
        eprintln!("note: {bad_files} problem(s) in the pack's files; `lightbox info` lists them");
    }
    Ok(if gate { EXIT_GATE } else { EXIT_OK })
}

fn table(pack: &lightbox::pack::Pack, rules: &RuleSet, sources: &[Source], r: &check::Report, all: bool) -> String {
    let mut o = String::new();
    let names: Vec<String> = sources.iter().map(|s| pack.source_name(*s)).collect();
    let _ = writeln!(
        o,
        "{} · {} cases · rules: {} · checked: {}",
        pack.manifest.name,
        pack.cases.len(),
        r.rules_file
            .as_ref()
            .map(|p| pack.display_path(p).display().to_string())
            .unwrap_or_else(|| "none (only out-of-distribution inputs)".into()),
        names.join(", ")
    );
    o.push('\n');
    // per rule and source
    let mut counts: BTreeMap<(String, Option<Source>), usize> = BTreeMap::new();
    for f in &r.flags {
        *counts.entry((f.rule.clone(), f.source)).or_default() += 1;
    }
    let mut rows: Vec<Vec<String>> = vec![
        std::iter::once("rule".to_string())
            .chain(std::iter::once("severity".into()))
            .chain(names.iter().cloned())
            .collect(),
    ];
    for rule in &rules.rules {
        let mut row = vec![rule.id.clone(), rule.severity.name().into()];
        for s in sources {
            row.push(
                counts
                    .get(&(rule.id.clone(), Some(*s)))
                    .copied()
                    .unwrap_or(0)
                    .to_string(),
            );
        }
        rows.push(row);
    }
    if let Some(settings) = rules.ood {
        for (rule, sev, what) in [
            (OOD_RULE, settings.severity, "content"),
            (check::ACQUISITION_RULE, settings.acquisition_severity, "acquisition"),
        ] {
            let n = counts.get(&(rule.to_string(), None)).copied().unwrap_or(0);
            let text = match &r.ood_reference {
                None => "skipped: needs 5 cases".to_string(),
                Some(reference) if what == "content" => format!(
                    "{n} input{} (expected false alarms: {:.1})",
                    if n == 1 { "" } else { "s" },
                    reference.expected_rate() * pack.cases.len() as f64
                ),
                Some(_) => format!("{n} input{}", if n == 1 { "" } else { "s" }),
            };
            let mut row = vec![rule.to_string(), sev.name().into(), text];
            row.extend(std::iter::repeat_n(String::new(), sources.len() - 1));
            rows.push(row);
        }
    }
    if let Some(expect) = &rules.expect {
        let n = counts
            .get(&(check::EXPECT_RULE.to_string(), None))
            .copied()
            .unwrap_or(0);
        let sev = expect.severity.unwrap_or(Severity::Major);
        let mut row = vec![
            check::EXPECT_RULE.to_string(),
            sev.name().into(),
            format!("{n} input{}", if n == 1 { "" } else { "s" }),
        ];
        row.extend(std::iter::repeat_n(String::new(), sources.len() - 1));
        rows.push(row);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|i| {
            rows.iter()
                .map(|r| r.get(i).map(|c| c.chars().count()).unwrap_or(0))
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in &rows {
        let line: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i < 2 {
                    format!("{c:<w$}", w = widths[i])
                } else {
                    format!("{c:>w$}", w = widths[i])
                }
            })
            .collect();
        let _ = writeln!(o, "  {}", line.join("  ").trim_end());
    }
    let crit = r.critical().count();
    let _ = writeln!(
        o,
        "\n{} flag{} ({crit} critical)",
        r.flags.len(),
        if r.flags.len() == 1 { "" } else { "s" }
    );
    let limit = if all { usize::MAX } else { 60 };
    for f in r.flags.iter().take(limit) {
        let who = match f.source {
            Some(Source::GroundTruth) => "ground truth (labelling?)".to_string(),
            Some(s) => pack.source_name(s),
            None => "input".into(),
        };
        let _ = writeln!(
            o,
            "  {:<8} {:<13} {:<10} {}: {}",
            f.severity.name(),
            pack.cases[f.case].id,
            who,
            f.rule,
            f.message
        );
    }
    if r.flags.len() > limit {
        let _ = writeln!(o, "  ... {} more (--all lists every flag)", r.flags.len() - limit);
    }
    o
}
