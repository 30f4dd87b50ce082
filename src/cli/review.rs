//! `lightbox review`: a sign-off session for a release — in the dashboard, or `--batch` from
//! standard input (scripts, imports) — and `lightbox verify`, which checks a signed record.

use super::source::PackArgs;
use super::{EXIT_INPUT, EXIT_OK};
use anyhow::Context;
use lightbox::pack::Pack;
use lightbox::review::action::{self, Action, Did, SignRequest};
use lightbox::review::record;
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
    /// The release repository's allowed-signers file: with --ssh-key, the reviewer's name is the
    /// one this file gives the key (see docs/signoff.md).
    #[arg(long, value_name = "FILE", requires = "ssh_key")]
    pub allowed_signers: Option<PathBuf>,
    /// Open a signed review again to change verdicts: recorded in the journal, and the signed
    /// record no longer verifies until the review is signed again.
    #[arg(long)]
    pub reopen: bool,
    /// How to draw images (dashboard).
    #[arg(long, value_enum)]
    pub graphics: Option<lightbox::tui::Graphics>,
    /// Largest image to send the terminal, WIDTHxHEIGHT pixels (default: what the terminal says;
    /// 1000x1000 for sixel when it does not say, xterm's default maxGraphicSize).
    #[arg(long, value_name = "WxH", value_parser = lightbox::tui::graphic_limit::parse)]
    pub max_graphic: Option<(u32, u32)>,
}

/// Who reviews: --reviewer, the signers file's name for --ssh-key, $LIGHTBOX_REVIEWER, the config's
/// `reviewer`, $USER.
fn reviewer(a: &Args, config: &lightbox::config::UserConfig) -> anyhow::Result<String> {
    // with a key and the team's allowed-signers file, the name is the one the file gives the key
    if let (Some(key), Some(allowed)) = (&a.ssh_key, &a.allowed_signers) {
        let public = lightbox::review::ssh::public_key(key).map_err(anyhow::Error::msg)?;
        let text =
            std::fs::read_to_string(allowed).with_context(|| format!("--allowed-signers {}", allowed.display()))?;
        let names = lightbox::review::ssh::principals_for(&text, &public);
        return match (names.as_slice(), &a.reviewer) {
            ([], _) => anyhow::bail!(
                "--ssh-key {}: this key is not in {}; add a line for the reviewer, e.g. \"Dr Bo Chen\" {public}",
                key.display(),
                allowed.display()
            ),
            (names, Some(r)) if !names.contains(r) => anyhow::bail!(
                "--reviewer {r:?}, but {} gives the key {} to {}",
                allowed.display(),
                key.display(),
                names.join(", ")
            ),
            (_, Some(r)) => Ok(r.clone()),
            ([one], None) => Ok(one.clone()),
            (names, None) => anyhow::bail!(
                "{} gives the key {} to several names ({}): choose one with --reviewer",
                allowed.display(),
                key.display(),
                names.join(", ")
            ),
        };
    }
    a.reviewer
        .clone()
        .or_else(|| std::env::var("LIGHTBOX_REVIEWER").ok())
        .or(config.reviewer.clone())
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

pub use lightbox::review::action::invisible;

/// A name as a person types it, checked: no control characters (they could forge lines of
/// `verify`'s output), no space around it.
fn plain_name(what: &str, s: &str) -> anyhow::Result<String> {
    if s.chars().any(invisible) {
        anyhow::bail!(
            "{what} {:?}: control characters and invisible characters (newlines, escapes, zero-width or bidirectional marks) are not allowed in names",
            s.escape_default().to_string()
        );
    }
    let t = s.trim();
    if t.is_empty() {
        anyhow::bail!("{what}: empty");
    }
    Ok(t.to_string())
}

pub fn prepare(a: &Args) -> anyhow::Result<(Pack, usize, Plan, PathBuf, Identity, Vec<lightbox::rules::Flag>)> {
    if a.source.pack.is_none() {
        anyhow::bail!(
            "a sign-off is bound to a pack folder (its lightbox.toml, images, ground truth and runs): make one with `lightbox init`, then review it"
        );
    }
    let pack = a.source.open()?;
    let errors: Vec<String> = super::source::pack_errors(&pack)
        .iter()
        .map(|p| p.to_string())
        .collect();
    if !errors.is_empty() {
        anyhow::bail!(
            "a sign-off needs a pack that loads whole, and this one has {} error(s) (`lightbox info PACK` lists them): {}",
            errors.len(),
            errors.iter().take(3).cloned().collect::<Vec<_>>().join("; ")
        );
    }
    if let Some(r) = &a.source.from.rules {
        // the manifest's own rules, read again (the pack now holds --rules in their place)
        let root = pack.root.clone().unwrap_or_default();
        let manifest_rules = std::fs::read_to_string(root.join(lightbox::pack::MANIFEST_FILE))
            .ok()
            .and_then(|t| lightbox::pack::manifest::Manifest::parse(&t).ok())
            .and_then(|m| m.rules)
            .and_then(|m| root.join(m).canonicalize().ok());
        let given = r.canonicalize().ok();
        let same = given.is_some() && given == manifest_rules;
        if !same {
            anyhow::bail!(
                "--rules {}: a sign-off is checked against the pack's own rules; name this file as `rules` in lightbox.toml (inside the pack) instead",
                r.display()
            );
        }
    }
    // the run named, else the manifest's [review] run, else the newest that is not the baseline
    let run = match a.source.selected_runs().first() {
        Some(_) => a.source.selected_run(&pack)?,
        None => pack.review_run()?,
    };
    let Some(run) = run else {
        anyhow::bail!("the pack has no runs to review; add one under [runs.NAME] in lightbox.toml");
    };
    let config = lightbox::config::UserConfig::load(None)?;
    let who = plain_name("--reviewer", &reviewer(a, &config)?)?;
    let role = match (&a.role, &config.role) {
        (Some(r), _) => Some(plain_name("--role", r)?),
        (None, Some(r)) => Some(plain_name("role (in the config file)", r)?),
        (None, None) => None,
    };
    plain_name("--release", &a.release)?;
    let policy = &pack.manifest.review;
    let how = plan::Making {
        sample: a.sample.unwrap_or(policy.sample_size()),
        seed: a.seed.unwrap_or(policy.seed),
        baseline: a.baseline.clone().or(policy.baseline.clone()),
    };
    let (plan, flags) = Plan::for_review(&pack, run, &how).map_err(anyhow::Error::msg)?;
    let path = match (&a.journal, &pack.root) {
        (Some(j), _) => j.clone(),
        (None, Some(root)) => journal::default_path(root, &a.release, &who),
        (None, None) => anyhow::bail!("give --journal FILE: a pack given by flags has no folder for reviews/"),
    };
    let identity = Identity {
        release: a.release.trim().to_string(),
        reviewer: who,
        role,
    };
    Ok((pack, run, plan, path, identity, flags))
}

fn start(
    (pack, run, plan, path, identity, flags): (Pack, usize, Plan, PathBuf, Identity, Vec<lightbox::rules::Flag>),
    blind: bool,
    reopen: bool,
    batch: bool,
) -> anyhow::Result<Prepared> {
    let blind_seed = blind.then(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
    });
    let how = lightbox::review::Start {
        blind_seed,
        reopen,
        batch,
    };
    let session = Session::start_with(&pack, run, identity, plan, &path, how).map_err(anyhow::Error::msg)?;
    if reopen {
        eprintln!(
            "note: {}: the review is open again; its earlier record no longer verifies until it is signed again",
            session.journal.path.display()
        );
    }
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
        // as the reviewer sees it: known-answer cases look like the random sample
        let plan = &prepared.2.for_reviewer();
        out(&format!(
            "review plan for {} · run {} · {} required ({} flagged, out of distribution, regressions or tagged; {} sampled at random from {} unflagged, seed {})",
            a.release,
            if a.blind {
                "(hidden: blind review)"
            } else {
                plan.run.as_str()
            },
            plan.required.len(),
            plan.required.len() - plan.sample,
            plan.sample,
            plan.unflagged,
            plan.seed
        ));
        let mut listed = plan.required.clone();
        if a.blind {
            // blind: the order is shuffled when the session starts; here, case order
            listed.sort_by(|x, y| x.case.cmp(&y.case));
        }
        for r in &listed {
            out(&format!("  {:<20} {}", r.case, r.reasons.join("; ")));
        }
        // what the sample would prove with no rejection (the plan's own sample, without the
        // known-answer cases listed among it)
        let real = &prepared.2;
        out(&real
            .sample_statement(0, real.sample)
            .replace("0 rejected or unsure of", "if none is rejected or unsure of"));
        return Ok(EXIT_OK);
    }
    let mut p = match start(prepared, a.blind, a.reopen, a.batch) {
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
    let mut config = lightbox::tui::config::Config::load(None)?;
    if a.max_graphic.is_some() {
        config.max_graphic = a.max_graphic;
    }
    let run = p.session.run;
    let Prepared { pack, session, flags } = p;
    lightbox::tui::run_review(
        pack,
        config,
        a.graphics.unwrap_or(lightbox::tui::Graphics::Auto),
        run,
        a.source.from.rules.clone(),
        session,
        flags,
    )
    .context("the review stopped")?;
    Ok(EXIT_OK)
}

/// `--batch`: one action per line; each is acknowledged (`ok SEQ SHA256`) only once it is on
/// disk, and each that fails is answered `err LINE MESSAGE` (LINE: its line number in the
/// input). The exit status is 1 when any action failed.
fn batch(p: &mut Prepared) -> anyhow::Result<u8> {
    let stdin = std::io::stdin();
    let mut out = std::io::stdout().lock();
    let reasons = p.pack.manifest.review.reasons.clone();
    writeln!(out, "ready {}", p.session.progress())?;
    out.flush()?;
    let mut failed = 0usize;
    for (n, line) in stdin.lock().split(b'\n').enumerate() {
        let line = line?;
        let Ok(line) = String::from_utf8(line) else {
            failed += 1;
            writeln!(out, "err {} not UTF-8 text", n + 1)?;
            out.flush()?;
            continue;
        };
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some(&cmd) = words.first() else { continue };
        if cmd.starts_with('#') {
            continue;
        }
        let result = batch_action(p, &reasons, cmd, &words, &mut out);
        match result {
            Ok(Some((seq, hash))) => writeln!(out, "ok {seq} {hash}")?,
            Ok(None) => {}
            Err(e) => {
                failed += 1;
                writeln!(out, "err {} {e}", n + 1)?;
            }
        }
        out.flush()?;
    }
    writeln!(out, "done {}", p.session.progress())?;
    if failed > 0 {
        writeln!(out, "failed {failed} action(s)")?;
        return Ok(1);
    }
    Ok(EXIT_OK)
}

/// One batch action: parsed here, checked and recorded by the review core (as the dashboard's).
fn batch_action(
    p: &mut Prepared,
    reasons: &[String],
    cmd: &str,
    words: &[&str],
    out: &mut impl Write,
) -> Result<Option<(u64, String)>, String> {
    let case_arg = |i: usize| -> Result<String, String> {
        let key = words.get(i).ok_or_else(|| format!("{cmd}: which case?"))?;
        lightbox::pack::find_case(&p.pack, key)
            .map(|c| p.pack.cases[c].id.0.clone())
            .map_err(|e| e.to_string())
    };
    let action = match cmd {
        "shown" => Action::Record(Event::Shown { case: case_arg(1)? }),
        "accept" | "reject" | "unsure" | "confirm" | "dismiss" => {
            let case = case_arg(1)?;
            // confirm / dismiss: a verdict on one flag (a real error / a false alarm)
            let verdict: Verdict = match cmd {
                "confirm" => Verdict::Accept,
                "dismiss" => Verdict::Reject,
                c => c.parse()?,
            };
            // reject CASE [reason=N] [flag=RULE] [seconds=S] [note...]
            let mut flag = None;
            let mut reason = None;
            let mut seconds = 0.0;
            let mut rest = Vec::new();
            for key in ["flag=", "reason=", "seconds="] {
                if words[2..].iter().filter(|w| w.starts_with(key)).count() > 1 {
                    return Err(format!("{key} given twice"));
                }
            }
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
                } else if let Some(x) = w.strip_prefix("seconds=") {
                    seconds = x
                        .parse::<f64>()
                        .ok()
                        .filter(|s| s.is_finite() && (0.0..=86_400.0).contains(s))
                        .map(|s: f64| s.abs())
                        .ok_or_else(|| format!("seconds={x}: give the seconds the case was on screen"))?;
                } else {
                    rest.push(*w);
                }
            }
            if matches!(cmd, "confirm" | "dismiss") && flag.is_none() {
                return Err(format!("{cmd} is a verdict on a flag: give flag=RULE"));
            }
            let note = (!rest.is_empty()).then(|| rest.join(" "));
            Action::Record(Event::Verdict {
                case,
                verdict,
                flag,
                reason,
                note,
                seconds,
            })
        }
        "note" => Action::Record(Event::Note {
            case: case_arg(1)?,
            text: words[2..].join(" "),
        }),
        "undo" | "status" if words.len() > 1 => return Err(format!("{cmd} takes nothing after it")),
        "undo" => Action::Undo,
        "status" => {
            let _ = writeln!(out, "status {}", p.session.progress());
            return Ok(None);
        }
        "sign" => {
            let approve = match words.get(1) {
                Some(&"approve") => true,
                Some(&"reject") => false,
                _ => return Err("sign approve|reject [noted=N] [override REASON...]".into()),
            };
            let mut noted = None;
            let mut i = 2;
            if let Some(n) = words.get(2).and_then(|w| w.strip_prefix("noted=")) {
                noted = Some(n.parse::<usize>().map_err(|_| format!("noted={n}: give a number"))?);
                i = 3;
            }
            let override_reason = match words.get(i) {
                Some(&"override") => Some(words[i + 1..].join(" ")),
                Some(w) => {
                    return Err(format!(
                        "sign: unexpected {w:?}: sign approve|reject [noted=N] [override REASON...]"
                    ));
                }
                None => None,
            };
            Action::Sign(SignRequest {
                approve,
                override_reason,
                noted,
                threshold: 0.0,
            })
        }
        other => {
            return Err(format!(
                "unknown action {other:?}: shown, accept, reject, unsure, confirm, dismiss, note, undo, status, sign"
            ));
        }
    };
    let done = action::apply(&p.pack, &mut p.session, &p.flags, action).map_err(|e| e.to_string())?;
    if let Did::Signed { record, .. } = &done.did {
        let _ = writeln!(out, "signed {}", record.display());
    }
    Ok(Some((done.seq, done.hash)))
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
    /// Check each record's SSH signature against this allowed-signers file, for the reviewer's
    /// name (`"Dr Bo Chen" ssh-ed25519 AAAA…`; see docs/signoff.md). Without it, a signature is
    /// still checked against the key it carries, and a bad one fails.
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

/// The pack a record belongs to: `--pack`, else the folder holding `reviews/<release>/`, read
/// from the record's path as given (a symlinked `reviews/<release>` folder does not lead to
/// another pack).
fn pack_of_record(record: &std::path::Path, pack: Option<&PathBuf>) -> anyhow::Result<PathBuf> {
    if let Some(p) = pack {
        return Ok(p.clone());
    }
    let abs = if record.is_absolute() {
        record.to_path_buf()
    } else {
        std::env::current_dir()?.join(record)
    };
    // lexically: `.` dropped, `..` taken back
    let mut clean = PathBuf::new();
    for c in abs.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                clean.pop();
            }
            c => clean.push(c),
        }
    }
    let release_dir = clean.parent();
    let reviews = release_dir.and_then(|d| d.parent());
    match reviews {
        Some(r) if r.file_name().is_some_and(|n| n == "reviews") => Ok(r
            .parent()
            .map(|p| p.to_path_buf())
            .unwrap_or_else(|| PathBuf::from("/"))),
        _ => anyhow::bail!(
            "{}: the record is not in PACK/reviews/<release>/: give --pack DIR",
            record.display()
        ),
    }
}

/// A line of output with control characters shown escaped: names and notes come from files
/// that anyone could have written, and must not forge or hide lines of the verdict.
fn out(line: &str) {
    let safe: String = line
        .chars()
        .flat_map(|c| {
            if invisible(c) {
                c.escape_unicode().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect();
    let mut o = std::io::stdout().lock();
    let _ = writeln!(o, "{safe}");
}

pub fn verify(a: VerifyArgs) -> anyhow::Result<u8> {
    let (records, pack_dir): (Vec<PathBuf>, PathBuf) = match (&a.record, &a.release) {
        (Some(_), Some(_)) => {
            eprintln!(
                "error: give a RECORD (that record alone), or --release V (every record of the release, and the sign-off policy), not both"
            );
            return Ok(EXIT_INPUT);
        }
        (Some(r), _) if !std::fs::metadata(r).is_ok_and(|m| m.is_file()) => {
            if std::fs::symlink_metadata(r).is_ok() {
                eprintln!(
                    "error: {}: not a regular file (a FIFO, a device, a folder?)",
                    r.display()
                );
            } else {
                eprintln!(
                    "error: {}: no such record file. Records are written when a reviewer signs: reviews/<release>/<reviewer>.record.json",
                    r.display()
                );
            }
            return Ok(EXIT_INPUT);
        }
        (Some(r), _) => match pack_of_record(r, a.pack.as_ref()) {
            Ok(p) => (vec![r.clone()], p),
            Err(e) => {
                eprintln!("error: {e:#}");
                return Ok(EXIT_INPUT);
            }
        },
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
    if let Some(f) = &a.allowed_signers
        && !f.is_file()
    {
        eprintln!("error: --allowed-signers {}: no such file", f.display());
        return Ok(EXIT_INPUT);
    }
    let pack = match open_for_verify(&pack_dir, &records)? {
        Ok(p) => p,
        Err(changed) => {
            out("NOT verified: 1 difference(s)");
            out(&format!("  {changed}"));
            return Ok(1);
        }
    };
    out(&format!(
        "pack {:?} at {}",
        pack.manifest.name,
        pack_dir.canonicalize().unwrap_or(pack_dir.clone()).display()
    ));
    let mut failed = false;
    let mut verified = Vec::new();
    for r in &records {
        let mut v = match record::verify(r, &pack, a.allowed_signers.as_deref()) {
            Ok(v) => v,
            Err(e) => {
                out(&format!("NOT verified: {e}"));
                failed = true;
                continue;
            }
        };
        if let Some(rel) = &a.release
            && v.record.release != *rel
        {
            v.problems.push(format!(
                "the record is for release {:?}, not {rel:?}: a record of one release does not sign off another",
                v.record.release
            ));
        }
        let rec = &v.record;
        if v.ok() {
            out(&format!(
                "verified: {}{} signed \"{}\" for release {} of run {} at {}; journal chain intact and sealed by the record, nothing recorded after signing; {} pack files and {} run files unchanged{}",
                rec.reviewer,
                rec.role.as_deref().map(|r| format!(" ({r})")).unwrap_or_default(),
                rec.meaning,
                rec.release,
                rec.run,
                rec.time,
                rec.pack_files.len(),
                rec.runs.iter().map(|x| x.files.len()).sum::<usize>(),
                rec.known_agreement().map(|k| format!("; {k}")).unwrap_or_default()
            ));
        } else {
            failed = true;
            out(&format!(
                "NOT verified: {} ({}): {} difference(s)",
                r.display(),
                rec.reviewer,
                v.problems.len()
            ));
            for b in &v.problems {
                out(&format!("  {b}"));
            }
        }
        if !rec.unreviewed.is_empty() {
            out(&format!(
                "  OVERRIDE: {} of {} required cases were not reviewed; the signer's reason: {}",
                rec.unreviewed.len(),
                rec.progress.required,
                rec.override_reason.as_deref().unwrap_or("")
            ));
        }
        for n in earlier_signatures(r, rec) {
            out(&format!("  note: {n}"));
        }
        match &v.signature {
            record::Signature::None => out(
                "  signature: none. Integrity only: anyone with write access could have produced this record (sign with `review --ssh-key`, check with `verify --allowed-signers`)",
            ),
            record::Signature::Good {
                fingerprint,
                principal: Some(p),
            } => out(&format!(
                "  signature: good SSH signature by {p:?}, key {fingerprint}, as the allowed-signers file gives it"
            )),
            record::Signature::Good {
                fingerprint,
                principal: None,
            } => out(&format!(
                "  signature: a valid SSH signature by key {fingerprint}; whose key that is was NOT checked: give --allowed-signers FILE"
            )),
            record::Signature::Bad(e) => out(&format!("  signature: BAD: {e}")),
        }
        if v.ok() {
            verified.push(v);
        }
    }
    if let (Some(rel), None) = (&a.release, &a.record) {
        let mut bad = unsigned_journals(&pack_dir.join("reviews").join(journal::safe(rel)), &records);
        let author = verified
            .first()
            .and_then(|v| pack.manifest.runs.get(&v.record.run))
            .and_then(|s| s.author.clone());
        // each record's plan is made again from the pack (once per run and parameters)
        let made: std::cell::RefCell<Vec<MadePlan>> = Default::default();
        let plan_for = |run: &str, how: &plan::Making| -> Result<Plan, String> {
            if let Some((_, _, p)) = made.borrow().iter().find(|(r, m, _)| r == run && m == how) {
                return p.clone();
            }
            let p = pack
                .run_index(run)
                .map_err(|e| e.to_string())
                .and_then(|r| Plan::for_review(&pack, r, how).map(|(p, _)| p));
            made.borrow_mut().push((run.to_string(), how.clone(), p.clone()));
            p
        };
        let outcome = lightbox::review::policy::check(
            &verified,
            &pack.manifest.review,
            author.as_deref(),
            a.allowed_signers.is_some(),
            &plan_for,
        );
        bad.extend(outcome.failures);
        for n in &outcome.notes {
            out(&format!("policy note: {n}"));
        }
        if bad.is_empty() && !failed {
            out(&format!("release {rel}: sign-off policy satisfied"));
        } else {
            failed = true;
            for b in &bad {
                out(&format!("policy: {b}"));
            }
            out(&format!("release {rel}: NOT signed off"));
        }
    }
    Ok(if failed { 1 } else { EXIT_OK })
}

/// A plan made again for `verify --release`: the run, how, and the plan (or why not).
type MadePlan = (String, plan::Making, Result<Plan, String>);

/// Earlier signatures in a record's journal that were reopened, in words.
fn earlier_signatures(record_path: &std::path::Path, rec: &lightbox::review::Record) -> Vec<String> {
    let Ok((entries, _, _)) = journal::read(&record_path.with_file_name(&rec.journal.file)) else {
        return Vec::new();
    };
    let last = rec.seal.as_ref().map(|s| s.signed_entry);
    entries
        .iter()
        .filter(|e| Some(e.seq) != last)
        .filter_map(|e| match &e.event {
            Event::Signed { meaning, .. } => Some(format!(
                "this journal was signed before (entry {}, \"{meaning}\", at {}) and reopened",
                e.seq, e.time
            )),
            _ => None,
        })
        .collect()
}

/// Journals of a release whose signature has no record (a rejection cannot disappear by
/// removing its record), and journals never signed.
fn unsigned_journals(folder: &std::path::Path, records: &[PathBuf]) -> Vec<String> {
    let mut bad = Vec::new();
    let Ok(dir) = std::fs::read_dir(folder) else {
        return bad;
    };
    let mut journals: Vec<PathBuf> = dir
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    journals.sort();
    for j in journals {
        let rec = record::record_path(&j);
        let name = j
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        match journal::read(&j) {
            Err(e) => bad.push(format!("{e}")),
            Ok((entries, _, _)) => match lightbox::review::closing_signature(&entries) {
                Some((seq, meaning)) if !records.contains(&rec) => bad.push(format!(
                    "{}: {name}'s journal holds a signature (\"{meaning}\", entry {seq}) whose record {} is missing",
                    j.display(),
                    rec.display()
                )),
                Some(_) => {}
                None if entries.iter().any(|e| matches!(e.event, Event::Verdict { .. })) => bad.push(format!(
                    "{}: {name}'s review is not signed (or was reopened and not signed again)",
                    j.display()
                )),
                None => {}
            },
        }
    }
    bad
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
        Ok((md, html, verified)) => {
            println!("wrote {} and {}", md.display(), html.display());
            if verified {
                Ok(EXIT_OK)
            } else {
                eprintln!("the record does NOT verify now: the report says so at its top; `lightbox verify` says why");
                Ok(1)
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            Ok(EXIT_INPUT)
        }
    }
}
