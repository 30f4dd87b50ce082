//! `lightbox diff PACK BASELINE CANDIDATE`: where a candidate run differs from the baseline —
//! metric deltas, cases improved / unchanged / worse, new and fixed flags, and the cases ranked
//! by how much worse the candidate is. Exit 1 when the candidate adds a critical flag or a
//! figure drops by more than the tolerance (a release gate), 2 on bad input.

use super::{EXIT_INPUT, EXIT_OK};
use lightbox::compare::{self, Diff};
use lightbox::metrics::Options;
use lightbox::metrics::classification::Bootstrap;
use lightbox::pack::Source;
use std::fmt::Write;
use std::path::PathBuf;

pub const EXIT_WORSE: u8 = 1;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// `[PACK] BASELINE CANDIDATE`: the pack folder (left out when --images/--gt/--run give the
    /// pack), the run to compare against (the one in production) and the run that would
    /// replace it.
    #[arg(required = true, num_args = 2..=3, value_name = "[PACK] BASELINE CANDIDATE")]
    pub names: Vec<String>,
    #[command(flatten)]
    pub from: super::source::SourceFlags,
    /// Print JSON (every figure and every case).
    #[arg(long)]
    pub json: bool,
    /// How many of the worst cases to list (0: all).
    #[arg(long, default_value_t = 15, value_name = "N")]
    pub top: usize,
    /// Largest allowed drop of a figure before the exit status says the candidate is worse.
    #[arg(long, default_value_t = 0.01)]
    pub tolerance: f64,
    /// Operating score threshold for per-case counts.
    #[arg(long, default_value_t = 0.5, value_name = "SCORE")]
    pub threshold: f64,
}

pub fn render(d: &Diff, top: usize, tolerance: f64) -> String {
    let mut s = String::new();
    // the same table as the dashboard's metrics view comparing two runs
    let t = compare::figures_table(
        format!("{}: {} → {}", d.pack, d.baseline, d.candidate),
        &d.figures,
        &d.baseline,
        &d.candidate,
        tolerance,
    );
    let (header, rows) = t.lines();
    let _ = writeln!(s, "{}", t.title);
    let _ = writeln!(s);
    let _ = writeln!(s, "{header}");
    for r in rows {
        let _ = writeln!(s, "{r}");
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "cases: {} worse, {} unchanged, {} improved",
        d.worse, d.unchanged, d.improved
    );
    let _ = writeln!(
        s,
        "flags: {} new in {}, {} fixed",
        d.new_flags.len(),
        d.candidate,
        d.fixed_flags.len()
    );
    for fl in &d.new_flags {
        let _ = writeln!(
            s,
            "  + {:8} {} {}: {}",
            format!("{:?}", fl.severity).to_lowercase(),
            fl.case,
            fl.rule,
            fl.message
        );
    }
    for fl in &d.fixed_flags {
        let _ = writeln!(
            s,
            "  - {:8} {} {}: {}",
            format!("{:?}", fl.severity).to_lowercase(),
            fl.case,
            fl.rule,
            fl.message
        );
    }
    let worse: Vec<_> = d.cases.iter().filter(|c| c.verdict() == "worse").collect();
    if !worse.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(s, "worse in {}, worst first:", d.candidate);
        let n = if top == 0 { worse.len() } else { top.min(worse.len()) };
        for c in &worse[..n] {
            let mut why = vec![format!("error {:.2} → {:.2}", c.error_baseline, c.error_candidate)];
            if let (Some(a), Some(b)) = (c.dice_baseline, c.dice_candidate)
                && (a - b).abs() > 1e-4
            {
                why.push(format!("Dice {a:.3} → {b:.3}"));
            }
            if let (Some(a), Some(b)) = (c.counts_baseline, c.counts_candidate)
                && a != b
            {
                why.push(format!("TP/FP/FN {}/{}/{} → {}/{}/{}", a.0, a.1, a.2, b.0, b.1, b.2));
            }
            if !c.new_flags.is_empty() {
                why.push(format!("new flags: {}", c.new_flags.join(", ")));
            }
            let _ = writeln!(s, "  {:+6.2}  {}  {}", c.worse_by, c.case, why.join("; "));
            if let Some(wst) = &c.worst {
                let _ = writeln!(s, "          {wst}");
            }
        }
        if n < worse.len() {
            let _ = writeln!(s, "  … {} more (--top 0 lists all)", worse.len() - n);
        }
    }
    s
}

pub fn run(a: Args) -> anyhow::Result<u8> {
    let (folder, baseline, candidate) = match a.names.as_slice() {
        [p, b, c] => (Some(PathBuf::from(p)), b.clone(), c.clone()),
        [b, c] => (None, b.clone(), c.clone()),
        _ => anyhow::bail!("diff takes [PACK] BASELINE CANDIDATE"),
    };
    let source = super::source::PackArgs {
        pack: folder,
        from: a.from.clone(),
    };
    let pack = source.open()?;
    if let Some(code) = super::source::gate(&pack, "diff", a.from.allow_problems) {
        return Ok(code);
    }
    let (b, c) = match (pack.run_index(&baseline), pack.run_index(&candidate)) {
        (Ok(b), Ok(c)) => (b, c),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: {e}");
            return Ok(EXIT_INPUT);
        }
    };
    if b == c {
        eprintln!("error: the baseline and the candidate are the same run ({})", baseline);
        return Ok(EXIT_INPUT);
    }
    let flags = match lightbox::check::load_rules(&pack, a.from.rules.as_deref()) {
        Ok(Some(rules)) => lightbox::rules::evaluate(&pack, &rules, &[Source::Run(b), Source::Run(c)]),
        Ok(None) => vec![],
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(EXIT_INPUT);
        }
    };
    let options = Options {
        threshold: a.threshold,
        bootstrap: Bootstrap {
            resamples: 0,
            ..Bootstrap::default()
        },
        ..Options::default()
    };
    let d = match compare::diff(&pack, b, c, &flags, &options) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(EXIT_INPUT);
        }
    };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&d)?);
    } else {
        print!("{}", render(&d, a.top, a.tolerance));
    }
    let regressions = d.regressions(a.tolerance);
    let critical = d.new_critical();
    if !a.json && (critical > 0 || !regressions.is_empty()) {
        let names: Vec<&str> = regressions.iter().map(|r| r.name.as_str()).collect();
        eprintln!(
            "{} is worse: {} new critical flag(s){}",
            d.candidate,
            critical,
            if names.is_empty() {
                String::new()
            } else {
                format!("; dropped beyond {}: {}", a.tolerance, names.join(", "))
            }
        );
    }
    Ok(if critical > 0 || !regressions.is_empty() {
        EXIT_WORSE
    } else {
        EXIT_OK
    })
}
