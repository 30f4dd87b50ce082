//! `lightbox export PACK -o OUT --filter EXPR`: the selected cases, with their images, ground
//! truth, chosen runs and the rules, as a new pack (or merged into one with `--append`,
//! de-duplicated by image content, each case's origin kept in provenance.json).

use super::{EXIT_INPUT, EXIT_OK};
use lightbox::export::{self, Request};
use lightbox::pack::{Pack, Source};
use lightbox::query::{self, Ctx, Term};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The pack: a folder, or --images/--gt/--run; `--run NAME` (repeatable) picks the runs to
    /// take along (default: every run). The filter is evaluated for each, and a case is
    /// exported when it matches for any of them.
    #[command(flatten)]
    pub source: super::source::PackArgs,
    /// The folder to write the new pack to (or, with --append, the pack to merge into).
    #[arg(short, long, value_name = "OUT")]
    pub out: PathBuf,
    /// Which cases: a filter as typed after `/` in the dashboard, e.g. 'critical or tag:hard'.
    #[arg(long, value_name = "EXPR")]
    pub filter: Option<String>,
    /// A case to export (file name, stem or position); repeat for more. Combines with --filter.
    #[arg(long = "case", value_name = "ID")]
    pub cases: Vec<String>,
    /// Export every case.
    #[arg(long, conflicts_with_all = ["filter", "cases"])]
    pub all: bool,
    /// Take no runs along: images and ground truth only.
    #[arg(long)]
    pub no_runs: bool,
    /// Merge into the pack at OUT: images already there (same bytes) are not added again.
    #[arg(long)]
    pub append: bool,
    /// Why these cases are kept (recorded per case; default: the filter).
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// The release these cases come from (default: the source pack's version).
    #[arg(long, value_name = "TEXT")]
    pub release: Option<String>,
    /// The new pack's name (default: OUT's folder name).
    #[arg(long)]
    pub name: Option<String>,
    /// Print what was done as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: Args) -> anyhow::Result<u8> {
    let pack = a.source.open()?;
    if let Some(code) = super::source::gate(&pack, "export", a.source.from.allow_problems) {
        return Ok(code);
    }
    match select_and_export(&pack, &a) {
        Ok(Some(o)) => {
            if a.json {
                println!("{}", serde_json::to_string_pretty(&o)?);
            } else {
                println!("{}", export::describe(&o));
                for n in &o.notes {
                    println!("note: {n}");
                }
            }
            Ok(EXIT_OK)
        }
        Ok(None) => {
            eprintln!("no case matches; nothing written");
            Ok(EXIT_OK)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Ok(EXIT_INPUT)
        }
    }
}

fn select_and_export(pack: &Pack, a: &Args) -> Result<Option<export::Outcome>, String> {
    let runs: Vec<usize> = if a.no_runs {
        if let Some(r) = a.source.selected_runs().first() {
            return Err(format!(
                "--no-runs takes no run along, but --run {r} asks for one: give one or the other"
            ));
        }
        vec![]
    } else if a.source.selected_runs().is_empty() {
        (0..pack.runs.len()).collect()
    } else {
        a.source
            .selected_runs()
            .iter()
            .map(|r| pack.run_index(r))
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?
    };
    if a.filter.is_none() && a.cases.is_empty() && !a.all {
        return Err("say which cases: --filter EXPR (e.g. 'critical or tag:hard'), --case ID or --all".into());
    }
    let mut selected = vec![a.all; pack.cases.len()];
    for c in &a.cases {
        selected[lightbox::pack::find_case(pack, c).map_err(|e| e.to_string())?] = true;
    }
    if let Some(text) = &a.filter {
        let expr = query::parse(text, pack).map_err(|e| format!("--filter {text:?}: {e}"))?;
        let flags = if expr.any_term(&Term::needs_flags) {
            let rules = lightbox::check::load_rules(pack, a.source.from.rules.as_deref())
                .map_err(|e| e.to_string())?
                .unwrap_or_else(lightbox::rules::RuleSet::empty);
            let sources: Vec<Source> = std::iter::once(Source::GroundTruth)
                .chain(runs.iter().map(|&r| Source::Run(r)))
                .collect();
            lightbox::check::check(pack, &rules, &sources, false)
                .map_err(|e| e.to_string())?
                .flags
        } else {
            vec![]
        };
        let mut problems = pack.problems.clone();
        if expr.any_term(&|t| matches!(t, Term::Problem(_))) {
            problems.extend(lightbox::pack::validate::validate(pack).problems);
        }
        let workspace = lightbox::workspace::Workspace::load(pack).map_err(|e| e.to_string())?;
        let contexts: Vec<Option<usize>> = if runs.is_empty() {
            vec![None]
        } else {
            runs.iter().map(|&r| Some(r)).collect()
        };
        for (c, sel) in selected.iter_mut().enumerate() {
            *sel |= contexts.iter().any(|&run| {
                let ctx = Ctx {
                    pack,
                    run,
                    problems: &problems,
                    flags: &flags,
                    workspace: Some(&workspace),
                    verdicts: None,
                };
                expr.matches(&ctx, c)
            });
        }
    }
    let cases: Vec<usize> = (0..pack.cases.len()).filter(|&c| selected[c]).collect();
    if cases.is_empty() {
        return Ok(None);
    }
    let req = Request {
        cases,
        runs,
        out: a.out.clone(),
        append: a.append,
        name: a.name.clone(),
        reason: a.reason.clone(),
        release: a.release.clone(),
        filter: a.filter.clone(),
        rules: a.source.from.rules.clone(),
    };
    export::export(pack, &req).map(Some).map_err(|e| e.to_string())
}
