//! The sign-off record: who signed what, when, meaning what — tied by SHA-256 to every file of
//! the pack (manifest, images, ground truth, rules), every run file and the journal's last entry —
//! and its verification.

use super::hash::{sha256_file, sha256_hex, utc_now};
use super::journal::{self, Event};
use super::{Progress, Session, State};
use crate::pack::Pack;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A file and its SHA-256, the path relative to the pack (`/`-separated).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FileHash {
    pub path: String,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunFiles {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    pub files: Vec<FileHash>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RejectedCase {
    pub case: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalRef {
    /// The journal file, relative to the record.
    pub file: String,
    /// Entries before signing.
    pub entries: u64,
    /// SHA-256 of the journal's last line before the `signed` entry.
    pub last_entry_sha256: String,
}

/// The record written when a reviewer signs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// Always 1.
    pub lightbox_record: u32,
    pub lightbox: String,
    pub release: String,
    pub reviewer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// UTC, RFC 3339.
    pub time: String,
    /// "approved for release" or "rejected".
    pub meaning: String,
    pub pack: String,
    pub run: String,
    /// The score threshold the reviewer looked at (predictions below it were hidden).
    pub reviewed_threshold: f64,
    /// The score threshold that ships with the run (`[runs.NAME] threshold`), when declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_threshold: Option<f64>,
    /// Set when the reviewer looked at another threshold than the one that ships.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold_note: Option<String>,
    /// Blind review: the seed of the shuffled order (the run's name and scores were hidden).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blind_seed: Option<u64>,
    /// Every file of the pack: manifest, rules, images, ground truth, lock files.
    pub pack_files: Vec<FileHash>,
    /// Every run's files (the reviewed one and the others the pack holds).
    pub runs: Vec<RunFiles>,
    pub plan: super::Plan,
    pub plan_sha256: String,
    pub progress: Progress,
    /// What the random sample proves.
    pub sample_statement: String,
    pub rejected: Vec<RejectedCase>,
    /// Verdicts given faster than the policy's minimum, in seconds.
    pub fast_verdicts: Vec<(String, f64)>,
    /// Required cases not reviewed, and why signing went ahead.
    pub unreviewed: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub override_reason: Option<String>,
    /// Flags at signing time, by severity.
    pub flags: BTreeMap<String, usize>,
    /// Metric figures at signing time (`lightbox metrics` names).
    pub metrics: BTreeMap<String, Option<f64>>,
    /// Known-answer cases: the correct verdict and the reviewer's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub known_answers: Vec<KnownAnswer>,
    pub journal: JournalRef,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnownAnswer {
    pub case: String,
    pub expected: String,
    pub given: Option<String>,
}

fn rel(pack: &Pack, p: &Path) -> String {
    let root = pack.root.clone().unwrap_or_else(|| PathBuf::from("."));
    crate::pack::paths::relative_slash(&root, p).unwrap_or_else(|| p.display().to_string())
}

fn resolve(pack: &Pack, p: &Path) -> PathBuf {
    match &pack.root {
        Some(r) if p.is_relative() => r.join(p),
        _ => p.to_path_buf(),
    }
}

/// Hash a source's files (each file, or every file under a folder).
fn source_files(pack: &Pack, s: &crate::pack::Sources, out: &mut Vec<FileHash>) -> Result<(), String> {
    for (_, p) in s.paths() {
        let p = resolve(pack, p);
        let files = if p.is_dir() {
            crate::pack::paths::walk_files(&p).map_err(|e| format!("{}: {e}", p.display()))?
        } else if p.to_string_lossy().contains("{stem}") {
            // masks beside the images: hashed with the images' folder below
            Vec::new()
        } else {
            vec![p]
        };
        for f in files {
            out.push(FileHash {
                path: rel(pack, &f),
                sha256: sha256_file(&f).map_err(|e| format!("{}: cannot read: {e}", f.display()))?,
            });
        }
    }
    Ok(())
}

/// SHA-256 of every file the pack is made of (runs apart), sorted by path.
pub fn pack_files(pack: &Pack) -> Result<Vec<FileHash>, String> {
    let mut out = Vec::new();
    let mut add = |p: PathBuf| -> Result<(), String> {
        if p.is_file() {
            out.push(FileHash {
                path: rel(pack, &p),
                sha256: sha256_file(&p).map_err(|e| format!("{}: cannot read: {e}", p.display()))?,
            });
        }
        Ok(())
    };
    if let Some(root) = &pack.root {
        add(root.join(crate::pack::MANIFEST_FILE))?;
        add(root.join(crate::check::OOD_LOCK))?;
    }
    if let Some(r) = &pack.manifest.rules {
        add(resolve(pack, r))?;
    }
    let image_root = resolve(pack, &pack.image_root);
    if image_root.is_dir() {
        // the reviews themselves (journals, records) are not part of what was reviewed
        // nor is the workspace (tags people add while triaging)
        let reviews = pack.root.as_ref().map(|r| r.join("reviews"));
        let workspace = pack.root.as_ref().map(|r| r.join(".lightbox"));
        for f in crate::pack::paths::walk_files(&image_root).map_err(|e| format!("{}: {e}", image_root.display()))? {
            if reviews.as_ref().is_some_and(|r| f.starts_with(r))
                || workspace.as_ref().is_some_and(|w| f.starts_with(w))
            {
                continue;
            }
            add(f)?;
        }
    }
    source_files(pack, &pack.manifest.ground_truth, &mut out)?;
    out.sort();
    out.dedup();
    Ok(out)
}

/// SHA-256 of every run's files.
pub fn run_files(pack: &Pack) -> Result<Vec<RunFiles>, String> {
    pack.manifest
        .runs
        .iter()
        .map(|(name, s)| {
            let mut files = Vec::new();
            source_files(pack, s, &mut files)?;
            // the model itself and its card, when the run names them
            if let Some(m) = &s.model_file {
                let m = resolve(pack, m);
                let card = crate::infer::ModelSpec::beside(&m);
                let mut model_files = vec![m.clone(), card.clone()];
                // a cascade's further stages are part of the model too
                if let Ok(spec) = crate::infer::ModelSpec::read(&card)
                    && let Some(c) = &spec.cascade
                {
                    let dir = m.parent().unwrap_or(Path::new("."));
                    model_files.extend([dir.join(&c.rnet), dir.join(&c.onet)]);
                }
                for f in model_files {
                    if f.is_file() {
                        files.push(FileHash {
                            path: rel(pack, &f),
                            sha256: sha256_file(&f).map_err(|e| format!("{}: cannot read: {e}", f.display()))?,
                        });
                    }
                }
            }
            files.sort();
            Ok(RunFiles {
                name: name.clone(),
                model: s.model.clone(),
                files,
            })
        })
        .collect()
}

/// The record's file beside its journal: `<reviewer>.record.json`.
pub fn record_path(journal: &Path) -> PathBuf {
    journal.with_extension("record.json")
}

/// Why signing was refused.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error(
        "{n} required case(s) not reviewed yet ({first}…): review them, or sign with an override reason saying why not"
    )]
    Unreviewed { n: usize, first: String },
    #[error("{0}")]
    Files(String),
    #[error(transparent)]
    Journal(#[from] journal::JournalError),
}

/// What the signer says.
#[derive(Debug, Clone, PartialEq)]
pub struct Signing {
    pub approve: bool,
    pub override_reason: Option<String>,
    pub threshold: f64,
    pub min_seconds: f64,
    pub flags: BTreeMap<String, usize>,
    pub metrics: BTreeMap<String, Option<f64>>,
    /// Known-answer cases (case → expected verdict).
    pub known: Vec<(String, String)>,
    /// Sign the record with this SSH key as well.
    pub ssh_key: Option<PathBuf>,
}

/// Sign: write the record (atomically) and append a `signed` entry holding its SHA-256.
pub fn sign(pack: &Pack, session: &mut Session, s: Signing) -> Result<(PathBuf, Record), SignError> {
    let unreviewed: Vec<String> = session.unreviewed().iter().map(|c| c.to_string()).collect();
    if !unreviewed.is_empty() && s.override_reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
        return Err(SignError::Unreviewed {
            n: unreviewed.len(),
            first: unreviewed[0].clone(),
        });
    }
    let state = &session.state;
    let rejected = state
        .verdicts
        .iter()
        .filter(|(_, g)| g.verdict == super::Verdict::Reject)
        .map(|((case, flag), g)| RejectedCase {
            case: case.clone(),
            flag: flag.clone(),
            reason: g.reason.clone(),
            note: g.note.clone(),
        })
        .collect();
    let fast_verdicts = state
        .verdicts
        .iter()
        .filter(|(_, g)| g.seconds < s.min_seconds)
        .map(|((case, _), g)| (case.clone(), (g.seconds * 10.0).round() / 10.0))
        .collect();
    let sampled: Vec<&str> = session
        .plan
        .required
        .iter()
        .filter(|r| r.reasons.iter().any(|x| x == "random sample"))
        .map(|r| r.case.as_str())
        .collect();
    let sample_rejects = sampled
        .iter()
        .filter(|c| {
            state
                .case_verdict(c)
                .is_some_and(|g| g.verdict == super::Verdict::Reject)
        })
        .count();
    let journal_file = session
        .journal
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let record = Record {
        lightbox_record: 1,
        lightbox: env!("CARGO_PKG_VERSION").into(),
        release: session.identity.release.clone(),
        reviewer: session.identity.reviewer.clone(),
        role: session.identity.role.clone(),
        time: utc_now(),
        meaning: if s.approve { "approved for release" } else { "rejected" }.into(),
        pack: pack.manifest.name.clone(),
        run: session.run_name.clone(),
        reviewed_threshold: s.threshold,
        shipping_threshold: pack.manifest.runs.get(&session.run_name).and_then(|r| r.threshold),
        threshold_note: pack
            .manifest
            .runs
            .get(&session.run_name)
            .and_then(|r| r.threshold)
            .filter(|t| (t - s.threshold).abs() > 1e-9)
            .map(|t| {
                format!(
                    "reviewed with predictions scoring below {:.2} hidden; the run ships with threshold {t:.2}",
                    s.threshold
                )
            }),
        blind_seed: session.blind_seed,
        pack_files: pack_files(pack).map_err(SignError::Files)?,
        runs: run_files(pack).map_err(SignError::Files)?,
        plan: session.plan.clone(),
        plan_sha256: session.plan.digest(),
        progress: session.progress(),
        sample_statement: session.plan.sample_statement(sample_rejects),
        rejected,
        fast_verdicts,
        unreviewed: if s.override_reason.is_some() {
            unreviewed
        } else {
            Vec::new()
        },
        override_reason: s.override_reason.clone(),
        flags: s.flags,
        metrics: s.metrics,
        known_answers: s
            .known
            .iter()
            .map(|(case, expected)| {
                let id = crate::pack::find_case(pack, case)
                    .map(|c| pack.cases[c].id.0.clone())
                    .unwrap_or(case.clone());
                KnownAnswer {
                    case: id.clone(),
                    expected: expected.clone(),
                    given: state.case_verdict(&id).map(|g| g.verdict.name().to_string()),
                }
            })
            .collect(),
        journal: JournalRef {
            file: journal_file,
            entries: session.journal.entries.len() as u64,
            last_entry_sha256: session.journal.last_hash.clone(),
        },
    };
    let path = record_path(&session.journal.path);
    let text = serde_json::to_string_pretty(&record).expect("record serialises") + "\n";
    crate::fsutil::write_atomic(&path, text.as_bytes())
        .map_err(|e| SignError::Files(format!("{}: cannot write the record: {e}", path.display())))?;
    session.record(Event::Signed {
        meaning: record.meaning.clone(),
        record: sha256_hex(text.as_bytes()),
        override_reason: s.override_reason,
    })?;
    if let Some(key) = &s.ssh_key {
        ssh_sign(&path, key).map_err(|e| {
            SignError::Files(format!(
                "the record {} is written and journaled, but not SSH-signed: {e}. Sign it later with: ssh-keygen -Y sign -n {SSH_NAMESPACE} -f KEY {}",
                path.display(),
                path.display()
            ))
        })?;
    }
    Ok((path, record))
}

/// Check a record against its journal and the pack as it is now. Empty: everything matches.
pub fn verify(record_path: &Path, pack: &Pack) -> Result<(Record, Vec<String>), String> {
    let bytes = std::fs::read(record_path).map_err(|e| format!("{}: cannot read: {e}", record_path.display()))?;
    let record: Record = crate::formats::json::parse(&bytes).map_err(|e| {
        format!(
            "{}: not a sign-off record: {} at `{}`",
            record_path.display(),
            e.message,
            e.path
        )
    })?;
    let mut bad = Vec::new();
    let record_sha = sha256_hex(&bytes);
    // the journal: intact chain, a `signed` entry holding this record's hash, right after the
    // entry the record names
    let jpath = record_path.with_file_name(&record.journal.file);
    match journal::read(&jpath) {
        Err(e) => bad.push(format!("journal: {e}")),
        Ok((entries, _, tail)) => {
            if let Some((_, why)) = tail {
                bad.push(format!("journal {}: its last line is damaged: {why}", jpath.display()));
            }
            let signed = entries
                .iter()
                .find(|e| matches!(&e.event, Event::Signed { record, .. } if *record == record_sha));
            match signed {
                None => bad.push(format!(
                    "journal {}: no `signed` entry holds this record's SHA-256 ({record_sha}): the record was changed after signing, or belongs to another journal",
                    jpath.display()
                )),
                Some(s) => {
                    if s.seq != record.journal.entries || s.prev != record.journal.last_entry_sha256 {
                        bad.push(format!(
                            "journal {}: the record names entry {} ({}) as the last before signing, the journal has {} ({})",
                            jpath.display(),
                            record.journal.entries,
                            record.journal.last_entry_sha256,
                            s.seq,
                            s.prev
                        ));
                    }
                    let state = State::replay(&entries[..s.seq as usize]);
                    let rejected: usize = state
                        .verdicts
                        .values()
                        .filter(|g| g.verdict == super::Verdict::Reject)
                        .count();
                    if rejected != record.rejected.len() {
                        bad.push(format!(
                            "the record lists {} rejected verdict(s), the journal {rejected}",
                            record.rejected.len()
                        ));
                    }
                }
            }
        }
    }
    // the files as they are now
    let compare = |what: &str, then: &[FileHash], now: &[FileHash], bad: &mut Vec<String>| {
        let now_map: BTreeMap<&str, &str> = now.iter().map(|f| (f.path.as_str(), f.sha256.as_str())).collect();
        let then_map: BTreeMap<&str, &str> = then.iter().map(|f| (f.path.as_str(), f.sha256.as_str())).collect();
        for (p, h) in &then_map {
            match now_map.get(p) {
                None => bad.push(format!("{what}: {p} is gone")),
                Some(n) if n != h => bad.push(format!("{what}: {p} changed (SHA-256 {h} when signed, {n} now)")),
                _ => {}
            }
        }
        for p in now_map.keys() {
            if !then_map.contains_key(p) {
                bad.push(format!("{what}: {p} was added after signing"));
            }
        }
    };
    match pack_files(pack) {
        Ok(now) => compare("pack", &record.pack_files, &now, &mut bad),
        Err(e) => bad.push(format!("pack: {e}")),
    }
    match run_files(pack) {
        Ok(now) => {
            for r in &record.runs {
                match now.iter().find(|n| n.name == r.name) {
                    Some(n) => compare(&format!("run {}", r.name), &r.files, &n.files, &mut bad),
                    None => bad.push(format!("run {}: no longer in the pack", r.name)),
                }
            }
        }
        Err(e) => bad.push(format!("runs: {e}")),
    }
    if pack.manifest.name != record.pack {
        bad.push(format!(
            "the pack is {:?}, the record is for {:?}",
            pack.manifest.name, record.pack
        ));
    }
    Ok((record, bad))
}

impl Record {
    /// Agreement with known-answer cases, in words.
    pub fn known_agreement(&self) -> Option<String> {
        if self.known_answers.is_empty() {
            return None;
        }
        let agreed = self
            .known_answers
            .iter()
            .filter(|k| k.given.as_deref() == Some(k.expected.as_str()))
            .count();
        Some(format!(
            "{agreed} of {} known-answer cases agreed",
            self.known_answers.len()
        ))
    }
}

/// Whether a release's signatures satisfy the policy: enough distinct approving reviewers, the
/// required roles among them, not the run's author alone, and no rejection. Empty: satisfied.
pub fn check_policy(
    records: &[Record],
    policy: &crate::pack::manifest::ReviewPolicy,
    author: Option<&str>,
) -> Vec<String> {
    let mut bad = Vec::new();
    let approving: Vec<&Record> = records.iter().filter(|r| r.meaning == "approved for release").collect();
    for r in records.iter().filter(|r| r.meaning != "approved for release") {
        bad.push(format!("{} signed \"{}\"", r.reviewer, r.meaning));
    }
    let mut who: Vec<&str> = approving.iter().map(|r| r.reviewer.as_str()).collect();
    who.sort();
    who.dedup();
    if who.len() < policy.signatures {
        bad.push(format!(
            "{} approving reviewer(s) ({}); the policy needs {}",
            who.len(),
            if who.is_empty() {
                "none".to_string()
            } else {
                who.join(", ")
            },
            policy.signatures
        ));
    }
    for role in &policy.roles {
        if !approving.iter().any(|r| r.role.as_deref() == Some(role.as_str())) {
            bad.push(format!("no approving reviewer has the role {role:?}"));
        }
    }
    if let Some(a) = author
        && !who.is_empty()
        && who.iter().all(|w| *w == a)
    {
        bad.push(format!("the only approval is by the run's author ({a})"));
    }
    bad
}

/// The SSH signature namespace of sign-off records (`ssh-keygen -Y ... -n lightbox-signoff`).
pub const SSH_NAMESPACE: &str = "lightbox-signoff";

/// The signature file beside a record: `<record>.sig`.
pub fn signature_path(record: &Path) -> PathBuf {
    let mut p = record.as_os_str().to_owned();
    p.push(".sig");
    PathBuf::from(p)
}

/// Sign a record with an SSH key (ed25519 or any key ssh-keygen takes) in the standard SSH
/// signature format, with `ssh-keygen -Y sign`; anyone can check it with `ssh-keygen -Y verify`.
pub fn ssh_sign(record: &Path, key: &Path) -> Result<PathBuf, String> {
    let sig = signature_path(record);
    let _ = std::fs::remove_file(&sig);
    let out = std::process::Command::new("ssh-keygen")
        .args(["-Y", "sign", "-n", SSH_NAMESPACE, "-f"])
        .arg(key)
        .arg(record)
        .output()
        .map_err(|e| format!("cannot run ssh-keygen (OpenSSH 8.1 or later is needed to sign): {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "ssh-keygen could not sign with {}: {}",
            key.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(sig)
}

/// Check a record's SSH signature against an allowed-signers file, for the reviewer's name as
/// the principal (`ssh-keygen -Y verify`).
pub fn ssh_verify(record: &Path, allowed_signers: &Path, principal: &str) -> Result<String, String> {
    let sig = signature_path(record);
    if !sig.exists() {
        return Err(format!(
            "{}: no SSH signature (the record was not signed with --ssh-key)",
            sig.display()
        ));
    }
    let input = std::fs::File::open(record).map_err(|e| format!("{}: {e}", record.display()))?;
    let out = std::process::Command::new("ssh-keygen")
        .args(["-Y", "verify", "-n", SSH_NAMESPACE, "-I", principal, "-f"])
        .arg(allowed_signers)
        .arg("-s")
        .arg(&sig)
        .stdin(input)
        .output()
        .map_err(|e| format!("cannot run ssh-keygen: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string() + String::from_utf8_lossy(&out.stderr).trim();
    if out.status.success() {
        Ok(text)
    } else {
        Err(format!(
            "SSH signature of {} does not verify for {principal:?}: {text}",
            record.display()
        ))
    }
}
