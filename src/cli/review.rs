//! `lightbox review`: a sign-off session for a release — in the dashboard, or `--batch` from
//! standard input (scripts, imports) — and `lightbox verify`, which checks a signed record.

use super::source::PackArgs;
use super::{EXIT_INPUT, EXIT_OK};
use anyhow::Context;
use lightbox::pack::{Pack, Source};
use lightbox::review::record::{self, Signing};
use lightbox::review::{Event, Identity, Plan, Session, Verdict, journal, plan};
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub source: PackArgs,
    /// The release under review (e.g. v2.3.0): names the journal and the record.
    #[arg(long)]
    pub release: String,
    /// Who reviews (default: $LIGHTBOX_REVIEWER, the user config's `reviewer`, then $USER).
    #[arg(long)]
    pub reviewer: Option<String>,
    /// The reviewer's role (e.g. radiologist).
    #[arg(long)]
    pub role: Option<String>,
    /// Journal file (default: reviews/<release>/<reviewer>.jsonl beside the manifest).
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,
    /// Unflagged cases drawn at random into the plan (default: the manifest's [review] sample).
    #[arg(long)]
    pub sample: Option<usize>,
    /// Seed of the random sample (default: the manifest's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// A run to compare with: cases where the reviewed run does worse are required (default: the
    /// manifest's [review] baseline).
    #[arg(long, value_name = "RUN")]
    pub baseline: Option<String>,
    /// Blind review: the run's name and scores are hidden and the required cases shuffled (the
    /// seed is recorded).
    #[arg(long)]
    pub blind: bool,
    /// Print the review plan and exit.
    #[arg(long)]
    pub plan: bool,
    /// Read actions from standard input, one per line, and acknowledge each once it is on disk
    /// (see docs/signoff.md).
    #[arg(long)]
    pub batch: bool,
    /// Also sign the record with this SSH key (standard SSH signature, `<record>.sig`; check it
    /// with `lightbox verify --allowed-signers` or `ssh-keygen -Y verify`).
    #[arg(long, value_name = "KEY")]
    pub ssh_key: Option<PathBuf>,
    /// How to draw images (dashboard).
    #[arg(long, value_enum)]
    pub graphics: Option<lightbox::tui::Graphics>,
}

fn reviewer(a: &Args) -> anyhow::Result<String> {
    let config =
        lightbox::tui::config::Config::load(None).unwrap_or_else(|_| lightbox::tui::config::Config::defaults());
    a.reviewer
        .clone()
        .or_else(|| std::env::var("LIGHTBOX_REVIEWER").ok())
        .or(config.reviewer)
        .or_else(|| std::env::var("USER").ok())
        .filter(|s| !s.trim().is_empty())
        .context("who is reviewing? Give --reviewer NAME (or set LIGHTBOX_REVIEWER)")
}

/// Everything a session needs, prepared from the command line.
pub struct Prepared {
    pub pack: Pack,
    pub session: Session,
    pub flags: Vec<lightbox::rules::Flag>,
}

pub fn prepare(a: &Args) -> anyhow::Result<(Pack, usize, Plan, PathBuf, Identity, Vec<lightbox::rules::Flag>)> {
    let pack = a.source.open()?;
    let Some(run) = a.source.selected_run(&pack)? else {
        anyhow::bail!("the pack has no runs to review; add one under [runs.NAME] in lightbox.toml");
    };
    let who = reviewer(a)?;
    let rules = lightbox::check::load_rules(&pack, a.source.rules.as_deref())
        .map_err(anyhow::Error::msg)?
        .unwrap_or_else(lightbox::rules::RuleSet::empty);
    let report = lightbox::check::check(&pack, &rules, &[Source::GroundTruth, Source::Run(run)], false)
        .map_err(anyhow::Error::msg)?;
    let policy = &pack.manifest.review;
    let sample = match (a.sample, policy.target_bound) {
        (Some(n), _) => n,
        (None, Some(b)) if b > 0.0 && b < 1.0 => plan::sample_for_bound(b, 0.95),
        _ => policy.sample,
    };
    let mut extra: Vec<(usize, String)> = Vec::new();
    // regressions against the baseline run: cases where the reviewed run's error is larger
    if let Some(base) = a.baseline.as_ref().or(policy.baseline.as_ref()) {
        let b = pack.run_index(base).map_err(|e| anyhow::anyhow!("baseline: {e}"))?;
        if b != run {
            let options = lightbox::metrics::Options {
                boundary: false,
                bootstrap: lightbox::metrics::classification::Bootstrap {
                    resamples: 0,
                    ..Default::default()
                },
                ..Default::default()
            };
            let now = lightbox::metrics::compute(&pack, run, &options).map_err(anyhow::Error::msg)?;
            let then = lightbox::metrics::compute(&pack, b, &options).map_err(anyhow::Error::msg)?;
            for (c, (x, y)) in now.cases.iter().zip(&then.cases).enumerate() {
                if x.error > y.error + 1e-9 {
                    extra.push((
                        c,
                        format!("regression vs {base} (error {:.2} vs {:.2})", x.error, y.error),
                    ));
                }
            }
        }
    }
    // known-answer cases
    for (key, v) in &policy.known {
        if v != "accept" && v != "reject" {
            anyhow::bail!("lightbox.toml: review.known.{key:?} = {v:?}: give accept or reject");
        }
        let c = lightbox::pack::find_case(&pack, key)
            .map_err(|e| anyhow::anyhow!("lightbox.toml: review.known.{key:?}: {e}"))?;
        extra.push((c, "known answer".into()));
    }
    let plan = Plan::make_with(
        &pack,
        run,
        &report.flags,
        &policy.hard,
        &extra,
        sample,
        a.seed.unwrap_or(policy.seed),
    );
    let path = match (&a.journal, &pack.root) {
        (Some(j), _) => j.clone(),
        (None, Some(root)) => journal::default_path(root, &a.release, &who),
        (None, None) => anyhow::bail!("give --journal FILE: a pack given by flags has no folder for reviews/"),
    };
    let identity = Identity {
        release: a.release.clone(),
        reviewer: who,
        role: a.role.clone(),
    };
    Ok((pack, run, plan, path, identity, report.flags))
}

fn start(
    (pack, run, plan, path, identity, flags): (Pack, usize, Plan, PathBuf, Identity, Vec<lightbox::rules::Flag>),
    blind: bool,
) -> anyhow::Result<Prepared> {
    let blind_seed = blind.then(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
    });
    let session = Session::start_blind(&pack, run, identity, plan, &path, blind_seed).map_err(anyhow::Error::msg)?;
    if let Some((aside, why)) = &session.journal.set_aside {
        eprintln!(
            "warning: {}: {why}; the damaged line is kept in {} and everything before it was loaded",
            session.journal.path.display(),
            aside.display()
        );
    }
    Ok(Prepared { pack, session, flags })
}

pub fn run(a: Args) -> anyhow::Result<u8> {
    let prepared = match prepare(&a) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e:#}");
            return Ok(EXIT_INPUT);
        }
    };
    if a.plan {
        let plan = &prepared.2;
        println!(
            "review plan for {} · run {} · {} required ({} flagged, out of distribution, regressions, tagged or known answers; {} sampled at random from {} unflagged, seed {})",
            a.release,
            plan.run,
            plan.required.len(),
            plan.required.len() - plan.sample,
            plan.sample,
            plan.unflagged,
            plan.seed
        );
        for r in &plan.required {
            println!("  {:<20} {}", r.case, r.reasons.join("; "));
        }
        println!(
            "{}",
            plan.sample_statement(0)
                .replace("0 rejected of", "if 0 are rejected of")
        );
        return Ok(EXIT_OK);
    }
    let mut p = match start(prepared, a.blind) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e:#}");
            return Ok(EXIT_INPUT);
        }
    };
    if let Some(k) = &a.ssh_key {
        if !k.is_file() {
            eprintln!("error: --ssh-key {}: no such key file", k.display());
            return Ok(EXIT_INPUT);
        }
        p.session.ssh_key = Some(k.clone());
    }
    if a.batch {
        return batch(&mut p);
    }
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        eprintln!("error: the review dashboard needs a terminal; for scripts use --batch (docs/signoff.md)");
        return Ok(EXIT_INPUT);
    }
    let config = lightbox::tui::config::Config::load(None).map_err(anyhow::Error::msg)?;
    let run = p.session.run;
    let Prepared { pack, session, flags } = p;
    lightbox::tui::run_review(
        pack,
        config,
        a.graphics.unwrap_or(lightbox::tui::Graphics::Auto),
        run,
        a.source.rules.clone(),
        session,
        flags,
    )
    .context("the review stopped")?;
    Ok(EXIT_OK)
}

/// `--batch`: one action per line; each is acknowledged (`ok SEQ SHA256`) only once it is on disk.
fn batch(p: &mut Prepared) -> anyhow::Result<u8> {
    let stdin = std::io::stdin();
    let mut out = std::io::stdout().lock();
    let reasons = p.pack.manifest.review.reasons.clone();
    let min_seconds = p.pack.manifest.review.min_seconds;
    writeln!(out, "ready {}", p.session.progress())?;
    out.flush()?;
    for line in stdin.lock().lines() {
        let line = line?;
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some(&cmd) = words.first() else { continue };
        let case_arg = |i: usize| -> Result<String, String> {
            let key = words.get(i).ok_or_else(|| format!("{cmd}: which case?"))?;
            lightbox::pack::find_case(&p.pack, key).map(|c| p.pack.cases[c].id.0.clone())
        };
        let result: Result<Option<(u64, String)>, String> = match cmd {
            "shown" => case_arg(1).and_then(|case| {
                p.session
                    .record(Event::Shown { case })
                    .map(Some)
                    .map_err(|e| e.to_string())
            }),
            "accept" | "reject" | "unsure" => case_arg(1).and_then(|case| {
                let verdict: Verdict = cmd.parse()?;
                // reject CASE [REASON-NUMBER|flag=RULE] [note...]
                let mut flag = None;
                let mut reason = None;
                let mut rest = Vec::new();
                for w in &words[2..] {
                    if let Some(r) = w.strip_prefix("flag=") {
                        flag = Some(r.to_string());
                    } else if let Some(n) = w.strip_prefix("reason=") {
                        let i: usize = n.parse().map_err(|_| format!("reason={n}: give the reason's number"))?;
                        reason = Some(
                            reasons
                                .get(i.wrapping_sub(1))
                                .cloned()
                                .ok_or_else(|| format!("reason {i}: the reasons are 1–{}", reasons.len()))?,
                        );
                    } else {
                        rest.push(*w);
                    }
                }
                let seconds = rest
                    .iter()
                    .position(|w| w.starts_with("seconds="))
                    .map(|i| rest.remove(i)[8..].parse::<f64>().unwrap_or(0.0))
                    .unwrap_or(0.0);
                let note = (!rest.is_empty()).then(|| rest.join(" "));
                p.session
                    .record(Event::Verdict {
                        case,
                        verdict,
                        flag,
                        reason,
                        note,
                        seconds,
                    })
                    .map(Some)
                    .map_err(|e| e.to_string())
            }),
            "note" => case_arg(1).and_then(|case| {
                p.session
                    .record(Event::Note {
                        case,
                        text: words[2..].join(" "),
                    })
                    .map(Some)
                    .map_err(|e| e.to_string())
            }),
            "undo" => p.session.undo().map_err(|e| e.to_string()),
            "status" => {
                writeln!(out, "status {}", p.session.progress())?;
                Ok(None)
            }
            "sign" => {
                let approve = match words.get(1) {
                    Some(&"approve") => Ok(true),
                    Some(&"reject") => Ok(false),
                    _ => Err("sign approve|reject [override REASON...]".to_string()),
                };
                approve.and_then(|approve| {
                    let override_reason = (words.get(2) == Some(&"override")).then(|| words[3..].join(" "));
                    let (flags, metrics) = lightbox::tui::signing_context(&p.pack, p.session.run, &p.flags);
                    let ssh_key = p.session.ssh_key.clone();
                    record::sign(
                        &p.pack,
                        &mut p.session,
                        Signing {
                            approve,
                            override_reason,
                            threshold: 0.0,
                            min_seconds,
                            flags,
                            metrics,
                            known: p
                                .pack
                                .manifest
                                .review
                                .known
                                .iter()
                                .map(|(k, v)| (k.clone(), v.clone()))
                                .collect(),
                            ssh_key,
                        },
                    )
                    .map(|(path, _)| {
                        let _ = writeln!(out, "signed {}", path.display());
                        Some((
                            p.session.journal.entries.len() as u64 - 1,
                            p.session.journal.last_hash.clone(),
                        ))
                    })
                    .map_err(|e| e.to_string())
                })
            }
            other => Err(format!(
                "unknown action {other:?}: shown, accept, reject, unsure, note, undo, status, sign"
            )),
        };
        match result {
            Ok(Some((seq, hash))) => writeln!(out, "ok {seq} {hash}")?,
            Ok(None) => {}
            Err(e) => writeln!(out, "error: {e}")?,
        }
        out.flush()?;
    }
    writeln!(out, "done {}", p.session.progress())?;
    Ok(EXIT_OK)
}

#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    /// A sign-off record (reviews/<release>/<reviewer>.record.json); or give --release.
    pub record: Option<PathBuf>,
    /// Verify every record of this release and check the manifest's sign-off policy
    /// (signatures, roles, not the run's author alone).
    #[arg(long)]
    pub release: Option<String>,
    /// The pack (default: the folder holding reviews/, or the current folder with --release).
    #[arg(long, value_name = "DIR")]
    pub pack: Option<PathBuf>,
    /// Also check each record's SSH signature against this allowed-signers file (principal: the
    /// reviewer's name; see `man ssh-keygen`, ALLOWED SIGNERS).
    #[arg(long, value_name = "FILE")]
    pub allowed_signers: Option<PathBuf>,
}

/// Open the pack for verification; a manifest that no longer parses is reported as changed
/// when the record says it was different.
fn open_for_verify(pack_dir: &std::path::Path, records: &[PathBuf]) -> anyhow::Result<Result<Pack, String>> {
    match Pack::open(pack_dir) {
        Ok(p) => Ok(Ok(p)),
        Err(e) => {
            let manifest = pack_dir.join(lightbox::pack::MANIFEST_FILE);
            let now = lightbox::review::hash::sha256_file(&manifest).ok();
            for r in records {
                let then = std::fs::read(r)
                    .ok()
                    .and_then(|b| serde_json::from_slice::<lightbox::review::Record>(&b).ok())
                    .and_then(|r| {
                        r.pack_files
                            .into_iter()
                            .find(|f| f.path == lightbox::pack::MANIFEST_FILE)
                    });
                if let (Some(then), Some(now)) = (then, now.as_ref())
                    && &then.sha256 != now
                {
                    return Ok(Err(format!(
                        "pack: {} changed (SHA-256 {} when signed, {now} now) and no longer opens: {e}",
                        lightbox::pack::MANIFEST_FILE,
                        then.sha256
                    )));
                }
            }
            Err(e.into())
        }
    }
}

/// The pack a record belongs to: `--pack`, else the folder holding `reviews/<release>/`.
fn pack_of_record(record: &std::path::Path, pack: Option<&PathBuf>) -> anyhow::Result<PathBuf> {
    match pack {
        Some(p) => Ok(p.clone()),
        None => record
            .canonicalize()
            .ok()
            .and_then(|p| p.parent()?.parent()?.parent().map(|x| x.to_path_buf()))
            .context("give --pack DIR"),
    }
}

pub fn verify(a: VerifyArgs) -> anyhow::Result<u8> {
    let (records, pack_dir): (Vec<PathBuf>, PathBuf) = match (&a.record, &a.release) {
        (Some(r), _) if !r.is_file() => {
            eprintln!(
                "error: {}: no such record. Records are written when a reviewer signs: reviews/<release>/<reviewer>.record.json",
                r.display()
            );
            return Ok(EXIT_INPUT);
        }
        (Some(r), _) => (vec![r.clone()], pack_of_record(r, a.pack.as_ref())?),
        (None, Some(rel)) => {
            let dir = a.pack.clone().unwrap_or_else(|| PathBuf::from("."));
            let folder = dir.join("reviews").join(journal::safe(rel));
            let mut v: Vec<PathBuf> = std::fs::read_dir(&folder)
                .with_context(|| format!("{}: no reviews for release {rel}", folder.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.to_string_lossy().ends_with(".record.json"))
                .collect();
            v.sort();
            (v, dir)
        }
        (None, None) => anyhow::bail!("give a record file, or --release NAME to verify a whole release"),
    };
    let pack = match open_for_verify(&pack_dir, &records)? {
        Ok(p) => p,
        Err(changed) => {
            println!("NOT verified: 1 difference(s)");
            println!("  {changed}");
            return Ok(1);
        }
    };
    let mut failed = false;
    let mut verified = Vec::new();
    for r in &records {
        let mut result = record::verify(r, &pack);
        if let (Some(allowed), Ok((rec, bad))) = (&a.allowed_signers, &mut result) {
            match record::ssh_verify(r, allowed, &rec.reviewer) {
                Ok(_) => println!("SSH signature of {} by {} is good", r.display(), rec.reviewer),
                Err(e) => bad.push(e),
            }
        }
        match result {
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(EXIT_INPUT);
            }
            Ok((rec, bad)) if bad.is_empty() => {
                println!(
                    "verified: {}{} signed \"{}\" for release {} of run {} at {}; journal chain intact; {} pack files and {} run files unchanged{}",
                    rec.reviewer,
                    rec.role.as_deref().map(|r| format!(" ({r})")).unwrap_or_default(),
                    rec.meaning,
                    rec.release,
                    rec.run,
                    rec.time,
                    rec.pack_files.len(),
                    rec.runs.iter().map(|x| x.files.len()).sum::<usize>(),
                    rec.known_agreement().map(|k| format!("; {k}")).unwrap_or_default()
                );
                verified.push(rec);
            }
            Ok((rec, bad)) => {
                failed = true;
                println!(
                    "NOT verified: {} ({}): {} difference(s)",
                    r.display(),
                    rec.reviewer,
                    bad.len()
                );
                for b in &bad {
                    println!("  {b}");
                }
            }
        }
    }
    if a.release.is_some() && a.record.is_none() {
        let author = verified
            .first()
            .and_then(|r| pack.manifest.runs.get(&r.run))
            .and_then(|s| s.author.clone());
        let bad = record::check_policy(&verified, &pack.manifest.review, author.as_deref());
        if bad.is_empty() && !failed {
            println!(
                "release {}: sign-off policy satisfied",
                a.release.as_deref().unwrap_or("")
            );
        } else {
            failed = true;
            for b in &bad {
                println!("policy: {b}");
            }
            println!("release {}: NOT signed off", a.release.as_deref().unwrap_or(""));
        }
    }
    Ok(if failed { 1 } else { EXIT_OK })
}

#[derive(clap::Args, Debug)]
pub struct ReportArgs {
    /// The sign-off record.
    pub record: PathBuf,
    /// Folder to write report.md, report.html (standalone) and images/ into.
    #[arg(short, long, value_name = "DIR")]
    pub out: PathBuf,
    /// The pack (default: the folder holding reviews/).
    #[arg(long, value_name = "DIR")]
    pub pack: Option<PathBuf>,
}

pub fn report(a: ReportArgs) -> anyhow::Result<u8> {
    let pack = Pack::open(&pack_of_record(&a.record, a.pack.as_ref())?)?;
    match lightbox::review::report::write(&a.record, &pack, &a.out) {
        Ok((md, html)) => {
            println!("wrote {} and {}", md.display(), html.display());
            Ok(EXIT_OK)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Ok(EXIT_INPUT)
        }
    }
}
