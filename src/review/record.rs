//! The sign-off record: who signed what, when, meaning what — tied by SHA-256 to every file of
//! the pack (manifest, images, ground truth, rules), every run file and the whole journal — and
//! its verification.
//!
//! The record and the journal bind each other completely. The record's *content* (its canonical
//! JSON without the `seal`) is hashed into the journal's `signed` entry; the record's `seal`
//! holds the SHA-256 of the journal's bytes up to and including that entry. So changing any
//! journal line, the signed one included, or any byte of the record's content, or adding an
//! entry after the signature, fails verification. Without an SSH signature this is integrity
//! only: whoever can write the files can recompute every hash (`verify` says so).

use super::hash::{sha256_file, sha256_hex, utc_now};
use super::journal::{self, Event};
use super::{Progress, Session, State, Verdict};
use crate::pack::Pack;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The record format written now.
pub const FORMAT: u32 = 2;

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

/// A case the reviewer rejected (whole-case verdicts only; verdicts on flags are in `verdicts`).
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

/// A standing verdict, on a case or on one of its flags, worded as what it means.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerdictRecord {
    pub case: String,
    /// The rule id, for a verdict on one flag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flag: Option<String>,
    /// The flag's sentence as the reviewer saw it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flag_message: Option<String>,
    /// `accept`, `reject` or `unsure`, as journaled.
    pub verdict: String,
    /// What it means: "accepted", "rejected", "flag confirmed: a real error", "flag dismissed:
    /// a false alarm", ...
    pub meaning: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub seconds: f64,
}

/// A note on a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteRecord {
    pub case: String,
    pub text: String,
}

/// A flag at signing time, with its sentence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlagRecord {
    pub case: String,
    pub rule: String,
    pub severity: String,
    /// "input", "ground truth" or the run's name.
    pub source: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slice: Option<u32>,
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

/// The SSH key a record is signed with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SshKey {
    /// `SHA256:…`, as `ssh-keygen -l` prints it.
    pub fingerprint: String,
    /// `KEYTYPE BASE64`.
    pub public_key: String,
}

/// What binds the record to the journal after the `signed` entry is written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seal {
    /// The `signed` entry's sequence number.
    pub signed_entry: u64,
    /// SHA-256 of the `signed` entry's line.
    pub signed_entry_sha256: String,
    /// SHA-256 of the journal's bytes from its first line to the `signed` entry, newline included.
    pub journal_sha256: String,
}

/// The record written when a reviewer signs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// The record format ([`FORMAT`]).
    pub lightbox_record: u32,
    pub lightbox: String,
    pub release: String,
    pub reviewer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// The key the record is signed with, when it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh_key: Option<SshKey>,
    /// UTC, RFC 3339.
    pub time: String,
    /// `approve` or `reject`.
    pub decision: String,
    /// In words: "approved for release", "approved for release with 2 rejected cases noted",
    /// "rejected".
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
    /// Cases rejected as a whole.
    pub rejected: Vec<RejectedCase>,
    /// Every standing verdict, on cases and on flags.
    pub verdicts: Vec<VerdictRecord>,
    /// Every note.
    pub notes: Vec<NoteRecord>,
    /// Some verdicts came from a script (`review --batch`): their times on screen are the
    /// script's word, not measured.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub scripted: bool,
    /// Verdicts given faster than the policy's minimum: the case (and `flag RULE` for a verdict
    /// on a flag), in seconds.
    pub fast_verdicts: Vec<(String, f64)>,
    /// Required cases not reviewed, and why signing went ahead.
    pub unreviewed: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub override_reason: Option<String>,
    /// Flags at signing time, by severity (the reviewed run's and the inputs').
    pub flags: BTreeMap<String, usize>,
    /// Every flag on the reviewed run, the ground truth and the inputs, with its sentence.
    pub flag_list: Vec<FlagRecord>,
    /// Metric figures at signing time (`lightbox metrics` names).
    pub metrics: BTreeMap<String, Option<f64>>,
    /// Known-answer cases: the correct verdict and the reviewer's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub known_answers: Vec<KnownAnswer>,
    pub journal: JournalRef,
    /// Written after the `signed` entry; not part of the content the journal hashes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seal: Option<Seal>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnownAnswer {
    pub case: String,
    pub expected: String,
    pub given: Option<String>,
}

impl Record {
    /// SHA-256 of the record's content: its compact JSON without the seal.
    #[allow(clippy::expect_used)] // cannot fail: a record is plain data, which always serialises
    pub fn content_sha256(&self) -> String {
        let mut c = self.clone();
        c.seal = None;
        sha256_hex(serde_json::to_string(&c).expect("records serialise").as_bytes())
    }

    pub fn approves(&self) -> bool {
        self.decision == "approve"
    }

    /// Agreement with known-answer cases: (agreed, total).
    pub fn known_score(&self) -> Option<(usize, usize)> {
        if self.known_answers.is_empty() {
            return None;
        }
        let agreed = self
            .known_answers
            .iter()
            .filter(|k| k.given.as_deref() == Some(k.expected.as_str()))
            .count();
        Some((agreed, self.known_answers.len()))
    }

    /// Agreement with known-answer cases, in words.
    pub fn known_agreement(&self) -> Option<String> {
        self.known_score()
            .map(|(a, n)| format!("{a} of {n} known-answer cases agreed"))
    }
}

/// The pack's folder, as it was named and as it resolves, so that every stored path is relative
/// to it however the pack was given (`.`, `dir`, `./dir`, `a/b/dir`, absolute, a symlink).
struct Root {
    named: PathBuf,
    real: Option<PathBuf>,
}

impl Root {
    fn of(pack: &Pack) -> Root {
        let named = pack.root.clone().unwrap_or_else(|| PathBuf::from("."));
        let real = named.canonicalize().ok();
        Root { named, real }
    }

    /// `p` relative to the pack, `/`-separated; a file outside it keeps its path as given.
    fn rel(&self, p: &Path) -> String {
        let clean = |p: &Path| -> PathBuf {
            p.components()
                .filter(|c| !matches!(c, std::path::Component::CurDir))
                .collect()
        };
        if let Some(r) = crate::pack::paths::relative_slash(&clean(&self.named), &clean(p)) {
            return r;
        }
        if let (Some(real), Ok(pr)) = (&self.real, p.canonicalize())
            && let Some(r) = crate::pack::paths::relative_slash(real, &pr)
        {
            return r;
        }
        p.display().to_string()
    }

    /// A path from the manifest (relative to the pack) as a path to open.
    fn join(&self, p: &Path) -> PathBuf {
        if p.is_relative() {
            self.named.join(p)
        } else {
            p.to_path_buf()
        }
    }
}

/// Why the pack's or runs' files could not be hashed, or would not all be bound by a record.
#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    #[error("{}: cannot read: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{}: {source}", dir.display())]
    Walk { dir: PathBuf, source: std::io::Error },
    #[error(
        "the image of case {case} ({}) is not among the pack's hashed files; refusing to sign a record that would not bind it (is it outside the pack's folder?)",
        image.display()
    )]
    ImageNotBound { case: String, image: PathBuf },
}

fn walk(dir: &Path) -> Result<Vec<PathBuf>, FilesError> {
    crate::pack::paths::walk_files(dir).map_err(|source| FilesError::Walk {
        dir: dir.to_path_buf(),
        source,
    })
}

fn hash(root: &Root, f: &Path) -> Result<FileHash, FilesError> {
    Ok(FileHash {
        path: root.rel(f),
        sha256: sha256_file(f).map_err(|source| FilesError::Read {
            path: f.to_path_buf(),
            source,
        })?,
    })
}

/// The folder a `{stem}` mask pattern lies in (`masks/{stem}.png` → `masks`).
fn pattern_dir(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        if c.as_os_str().to_string_lossy().contains("{stem}") {
            break;
        }
        out.push(c);
    }
    out
}

/// Hash files on every core, in order.
fn hash_all(root: &Root, files: &[PathBuf]) -> Result<Vec<FileHash>, FilesError> {
    use rayon::prelude::*;
    files.par_iter().map(|f| hash(root, f)).collect()
}

/// Hash a source's files (each file, or every file under a folder).
fn source_files(root: &Root, s: &crate::pack::Sources, out: &mut Vec<FileHash>) -> Result<(), FilesError> {
    let mut all = Vec::new();
    for (_, p) in s.paths() {
        let p = root.join(p);
        let files = if p.to_string_lossy().contains("{stem}") {
            // masks named after the images: every file of the folder they are in
            let dir = pattern_dir(&p);
            if dir.is_dir() { walk(&dir)? } else { Vec::new() }
        } else if p.is_dir() {
            walk(&p)?
        } else {
            vec![p]
        };
        all.extend(files);
    }
    out.extend(hash_all(root, &all)?);
    Ok(())
}

/// SHA-256 of every file the pack is made of (runs apart), sorted by path.
pub fn pack_files(pack: &Pack) -> Result<Vec<FileHash>, FilesError> {
    let root = Root::of(pack);
    let mut out = Vec::new();
    if pack.root.is_some() {
        for f in [crate::pack::MANIFEST_FILE, crate::check::OOD_LOCK] {
            let p = root.join(Path::new(f));
            if p.is_file() {
                out.push(hash(&root, &p)?);
            }
        }
    }
    if let Some(r) = &pack.manifest.rules {
        let p = root.join(r);
        if p.is_file() {
            out.push(hash(&root, &p)?);
        }
    }
    // `pack.image_root` is already resolved against the pack's folder
    let image_root = &pack.image_root;
    if image_root.is_dir() {
        // the reviews themselves (journals, records) are not part of what was reviewed,
        // nor is the workspace (tags people add while triaging)
        let files: Vec<PathBuf> = walk(image_root)?
            .into_iter()
            .filter(|f| {
                let r = root.rel(f);
                pack.root.is_none() || !(r.starts_with("reviews/") || r.starts_with(".lightbox/"))
            })
            .collect();
        out.extend(hash_all(&root, &files)?);
    }
    source_files(&root, &pack.manifest.ground_truth, &mut out)?;
    out.sort();
    out.dedup();
    Ok(out)
}

/// SHA-256 of every run's files.
pub fn run_files(pack: &Pack) -> Result<Vec<RunFiles>, FilesError> {
    let root = Root::of(pack);
    pack.manifest
        .runs
        .iter()
        .map(|(name, s)| {
            let mut files = Vec::new();
            source_files(&root, s, &mut files)?;
            // the model itself and its card, when the run names them
            if let Some(m) = &s.model_file {
                let m = root.join(m);
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
                        files.push(hash(&root, &f)?);
                    }
                }
            }
            files.sort();
            files.dedup();
            Ok(RunFiles {
                name: name.clone(),
                model: s.model.clone(),
                files,
            })
        })
        .collect()
}

/// Whether any session of the journal read its actions from a script.
fn scripted(entries: &[journal::Entry]) -> bool {
    entries
        .iter()
        .any(|e| matches!(&e.event, Event::Session { interface: Some(i), .. } if i == "batch"))
}

/// One SHA-256 over every pack and run file's hash: what a session's verdicts are about.
pub fn files_digest(pack: &Pack) -> Result<String, FilesError> {
    Ok(digest_of(&pack_files(pack)?, &run_files(pack)?))
}

fn digest_of(pack_files: &[FileHash], runs: &[RunFiles]) -> String {
    let mut text = String::new();
    for f in pack_files {
        text.push_str(&format!("pack\0{}\0{}\n", f.path, f.sha256));
    }
    for r in runs {
        for f in &r.files {
            text.push_str(&format!("run {}\0{}\0{}\n", r.name, f.path, f.sha256));
        }
    }
    sha256_hex(text.as_bytes())
}

/// The sessions whose files were not these: (entry, why).
fn sessions_on_other_files(entries: &[journal::Entry], digest: &str) -> Vec<(u64, &'static str)> {
    entries
        .iter()
        .filter_map(|e| match &e.event {
            Event::Session { files: Some(f), .. } if f == digest => None,
            Event::Session { files: Some(_), .. } => Some((e.seq, "other files")),
            Event::Session { files: None, .. } => Some((e.seq, "files not recorded (an older lightbox)")),
            _ => None,
        })
        .collect()
}

/// Every case's image must be among the hashed files: a record that does not bind the images
/// would verify after any image was swapped.
fn check_images_bound(pack: &Pack, files: &[FileHash]) -> Result<(), FilesError> {
    let root = Root::of(pack);
    let have: std::collections::HashSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
    for c in &pack.cases {
        let r = root.rel(&c.image);
        let bound = have.contains(r.as_str()) || have.iter().any(|h| h.starts_with(&format!("{r}/")));
        if !bound {
            return Err(FilesError::ImageNotBound {
                case: c.id.0.clone(),
                image: c.image.clone(),
            });
        }
    }
    Ok(())
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
    #[error("not signed: approving now means \"{meaning}\" ({list}). Confirm that this is what you mean: {how}")]
    Unconfirmed { meaning: String, list: String, how: String },
    #[error("the review is already signed (\"{meaning}\", entry {seq}); start it again with --reopen to sign anew")]
    AlreadySigned { meaning: String, seq: u64 },
    #[error(transparent)]
    Ssh(#[from] super::ssh::SshError),
    #[error(transparent)]
    Files(#[from] FilesError),
    /// Sessions of the journal opened other files: (entry, why) for each.
    #[error(
        "not signed: the pack's or runs' files are not the ones this journal's sessions opened ({}). Verdicts given then concern other files. `lightbox verify` on an earlier record names what changed; review these files in a new journal (--journal FILE, or another --release)",
        entries.iter().map(|(seq, why)| format!("entry {seq}: {why}")).collect::<Vec<_>>().join(", ")
    )]
    OtherFiles { entries: Vec<(u64, &'static str)> },
    #[error("record does not read back: {0}")]
    ReadBack(serde_json::Error),
    #[error("the record does not read back as written (a value that JSON cannot hold?); not signed")]
    NotAsWritten,
    #[error("{}: cannot read back: {source}", journal.display())]
    ReadJournal { journal: PathBuf, source: std::io::Error },
    #[error("{}: the signed entry is not on disk", journal.display())]
    EntryMissing { journal: PathBuf },
    #[error(
        "{}: cannot write the record: {source}. The journal holds the signature but the record is missing: the review stays open; sign again",
        record.display()
    )]
    WriteRecord { record: PathBuf, source: std::io::Error },
    #[error(
        "the record {} is written and journaled, but not SSH-signed: {source}. It will not verify until it is: ssh-keygen -Y sign -n {} -f KEY {}",
        record.display(),
        super::ssh::NAMESPACE,
        record.display()
    )]
    NotSshSigned {
        record: PathBuf,
        source: super::ssh::SshError,
    },
    #[error(transparent)]
    Journal(#[from] journal::JournalError),
}

/// What the signer says.
#[derive(Debug, Clone, PartialEq)]
pub struct Signing {
    pub approve: bool,
    pub override_reason: Option<String>,
    /// Approving with rejected or unsure cases needs this confirmation: the number of such
    /// cases the signer was shown.
    pub noted: Option<usize>,
    pub threshold: f64,
    pub min_seconds: f64,
    /// Flags at signing time (the reviewed run's, the ground truth's, the inputs').
    pub flags: Vec<FlagRecord>,
    pub metrics: BTreeMap<String, Option<f64>>,
    /// Known-answer cases (case → expected verdict).
    pub known: Vec<(String, String)>,
    /// Sign the record with this SSH key as well.
    pub ssh_key: Option<PathBuf>,
}

impl Signing {
    /// What the signer says in `session`: the flags and metric figures at signing time and the
    /// manifest's known answers and minimum time are gathered here, the same for every interface.
    pub fn new(
        pack: &Pack,
        session: &Session,
        flags: &[crate::rules::Flag],
        approve: bool,
        override_reason: Option<String>,
        noted: Option<usize>,
        threshold: f64,
    ) -> Signing {
        let (flags, metrics) = signing_context(pack, session.run, flags);
        Signing {
            approve,
            override_reason,
            noted,
            threshold,
            min_seconds: pack.manifest.review.min_seconds,
            flags,
            metrics,
            known: pack
                .manifest
                .review
                .known
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            ssh_key: session.ssh_key.clone(),
        }
    }
}

/// The flags (the reviewed run's, the ground truth's, the inputs') with their sentences, and the
/// metric figures, at signing time.
pub fn signing_context(
    pack: &Pack,
    run: usize,
    flags: &[crate::rules::Flag],
) -> (Vec<FlagRecord>, BTreeMap<String, Option<f64>>) {
    use crate::pack::Source;
    let list = flags
        .iter()
        .filter(|f| matches!(f.source, None | Some(Source::GroundTruth)) || f.source == Some(Source::Run(run)))
        .filter(|f| f.case < pack.cases.len())
        .map(|f| FlagRecord {
            case: pack.cases[f.case].id.0.clone(),
            rule: f.rule.clone(),
            severity: f.severity.name().to_string(),
            source: match f.source {
                None => "input".to_string(),
                Some(s) => pack.source_name(s),
            },
            message: f.message.clone(),
            slice: f.slice,
        })
        .collect();
    let options = crate::metrics::Options {
        bootstrap: crate::metrics::classification::Bootstrap {
            resamples: 0,
            ..Default::default()
        },
        ..Default::default()
    };
    let metrics = crate::metrics::compute(pack, run, &options)
        .map(|r| r.figures().into_iter().map(|f| (f.name, f.value)).collect())
        .unwrap_or_default();
    (list, metrics)
}

/// A standing verdict as compared: case, flag, verdict, meaning, reason, note, seconds.
type VerdictRow = (
    String,
    Option<String>,
    String,
    String,
    Option<String>,
    Option<String>,
    f64,
);

/// What the journal says, as the record states it: derived the same way when signing and when
/// verifying, so that a record that says anything else fails.
#[derive(Debug, Clone, PartialEq)]
struct Derived {
    progress: Progress,
    rejected: Vec<RejectedCase>,
    verdicts: Vec<VerdictRow>,
    notes: Vec<NoteRecord>,
    fast: Vec<(String, f64)>,
    unreviewed: Vec<String>,
    known: Vec<KnownAnswer>,
    /// Sampled cases rejected or unsure, and sampled cases reviewed.
    sample_bad: usize,
    sample_reviewed: usize,
}

/// What a verdict means, in words.
pub fn meaning_of(verdict: Verdict, on_flag: bool) -> &'static str {
    match (verdict, on_flag) {
        (Verdict::Accept, false) => "accepted",
        (Verdict::Reject, false) => "rejected",
        (Verdict::Unsure, false) => "unsure",
        (Verdict::Accept, true) => "flag confirmed: a real error",
        (Verdict::Reject, true) => "flag dismissed: a false alarm",
        (Verdict::Unsure, true) => "flag: unsure",
    }
}

fn derive(
    pack: &Pack,
    plan: &super::Plan,
    state: &State,
    min_seconds: f64,
    known: &[(String, String)],
    override_given: bool,
) -> Derived {
    let progress = super::progress_of(plan, state);
    let rejected = state
        .verdicts
        .iter()
        .filter(|((_, flag), g)| flag.is_none() && g.verdict == Verdict::Reject)
        .map(|((case, flag), g)| RejectedCase {
            case: case.clone(),
            flag: flag.clone(),
            reason: g.reason.clone(),
            note: g.note.clone(),
        })
        .collect();
    let verdicts = state
        .verdicts
        .iter()
        .map(|((case, flag), g)| {
            (
                case.clone(),
                flag.clone(),
                g.verdict.name().to_string(),
                meaning_of(g.verdict, flag.is_some()).to_string(),
                g.reason.clone(),
                g.note.clone(),
                g.seconds,
            )
        })
        .collect();
    let notes = state
        .notes
        .iter()
        .map(|(case, text)| NoteRecord {
            case: case.clone(),
            text: text.clone(),
        })
        .collect();
    let fast = state
        .verdicts
        .iter()
        .filter(|(_, g)| g.seconds < min_seconds)
        .map(|((case, flag), g)| {
            let what = match flag {
                Some(f) => format!("{case} flag {f}"),
                None => case.clone(),
            };
            (what, (g.seconds * 10.0).round() / 10.0)
        })
        .collect();
    let unreviewed: Vec<String> = plan
        .required
        .iter()
        .map(|r| r.case.clone())
        .filter(|c| !state.reviewed(c))
        .collect();
    let known = known
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
        .collect();
    let sampled: Vec<&str> = plan
        .required
        .iter()
        .filter(|r| r.reasons.iter().any(|x| x == "random sample"))
        .map(|r| r.case.as_str())
        .filter(|c| state.reviewed(c))
        .collect();
    let sample_bad = sampled
        .iter()
        .filter(|c| state.case_verdict(c).is_some_and(|g| g.verdict != Verdict::Accept))
        .count();
    Derived {
        progress,
        rejected,
        verdicts,
        notes,
        fast,
        unreviewed: if override_given { unreviewed } else { Vec::new() },
        known,
        sample_bad,
        sample_reviewed: sampled.len(),
    }
}

/// What approving means, given the cases rejected or left unsure and the flags confirmed as
/// real errors.
pub fn approval_meaning(rejected: usize, unsure: usize, confirmed: usize) -> String {
    let plural = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut parts = Vec::new();
    if rejected > 0 {
        parts.push(plural(rejected, "rejected case", "rejected cases"));
    }
    if unsure > 0 {
        parts.push(plural(unsure, "unsure case", "unsure cases"));
    }
    if confirmed > 0 {
        parts.push(plural(
            confirmed,
            "flag confirmed as a real error",
            "flags confirmed as real errors",
        ));
    }
    match parts.len() {
        0 => "approved for release".into(),
        1 => format!("approved for release with {} noted", parts[0]),
        n => format!(
            "approved for release with {} and {} noted",
            parts[..n - 1].join(", "),
            parts[n - 1]
        ),
    }
}

/// A verdict the signer must have seen before approving: a case rejected or left unsure, or a
/// flag confirmed as a real error.
#[derive(Debug, Clone, PartialEq)]
pub struct Noted {
    pub case: String,
    pub flag: Option<String>,
    pub verdict: Verdict,
    pub reason: Option<String>,
}

impl Noted {
    pub fn describe(&self) -> String {
        let what = match &self.flag {
            Some(f) => format!("{} flag {f}: {}", self.case, meaning_of(self.verdict, true)),
            None => format!("{}: {}", self.case, meaning_of(self.verdict, false)),
        };
        match &self.reason {
            Some(r) => format!("{what} ({r})"),
            None => what,
        }
    }
}

/// The verdicts that approving must acknowledge.
pub fn noted_cases(state: &State) -> Vec<Noted> {
    state
        .verdicts
        .iter()
        .filter(|((_, flag), g)| match flag {
            None => g.verdict != Verdict::Accept,
            Some(_) => g.verdict == Verdict::Accept,
        })
        .map(|((case, flag), g)| Noted {
            case: case.clone(),
            flag: flag.clone(),
            verdict: g.verdict,
            reason: g.reason.clone(),
        })
        .collect()
}

/// What approving would mean now.
pub fn approval_meaning_of(noted: &[Noted]) -> String {
    let count = |f: &dyn Fn(&Noted) -> bool| noted.iter().filter(|n| f(n)).count();
    approval_meaning(
        count(&|n| n.flag.is_none() && n.verdict == Verdict::Reject),
        count(&|n| n.flag.is_none() && n.verdict == Verdict::Unsure),
        count(&|n| n.flag.is_some()),
    )
}

/// Sign: write the `signed` entry (holding the record content's SHA-256), then the record with
/// its seal (atomically), then the SSH signature.
#[allow(clippy::expect_used)] // cannot fail: a record is plain data, which always serialises
pub fn sign(pack: &Pack, session: &mut Session, s: Signing) -> Result<(PathBuf, Record), SignError> {
    if let Some((seq, meaning)) = &session.closed {
        return Err(SignError::AlreadySigned {
            meaning: meaning.clone(),
            seq: *seq,
        });
    }
    let unreviewed = session.unreviewed();
    if !unreviewed.is_empty() && s.override_reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
        return Err(SignError::Unreviewed {
            n: unreviewed.len(),
            first: unreviewed[0].to_string(),
        });
    }
    let noted = noted_cases(&session.state);
    let meaning = if s.approve {
        approval_meaning_of(&noted)
    } else {
        "rejected".to_string()
    };
    if s.approve && s.noted.is_some_and(|n| n != noted.len()) || s.approve && !noted.is_empty() && s.noted.is_none() {
        let list = noted.iter().map(Noted::describe).collect::<Vec<_>>().join(", ");
        return Err(SignError::Unconfirmed {
            meaning,
            list: if list.is_empty() {
                "nothing to note".into()
            } else {
                list
            },
            how: if noted.is_empty() {
                "sign approve (there is nothing to note)".into()
            } else {
                format!("sign approve noted={}", noted.len())
            },
        });
    }
    let ssh_key = match &s.ssh_key {
        Some(k) => {
            let public_key = super::ssh::public_key(k)?;
            Some(SshKey {
                fingerprint: super::ssh::fingerprint(&public_key)?,
                public_key,
            })
        }
        None => None,
    };
    let override_given = s.override_reason.as_deref().is_some_and(|r| !r.trim().is_empty());
    let d = derive(
        pack,
        &session.plan,
        &session.state,
        s.min_seconds,
        &s.known,
        override_given,
    );
    let flag_message = |case: &str, rule: &str| {
        s.flags
            .iter()
            .find(|f| f.case == case && f.rule == rule)
            .map(|f| f.message.clone())
    };
    let pack_files = pack_files(pack)?;
    check_images_bound(pack, &pack_files)?;
    let runs = run_files(pack)?;
    // every verdict must be about these files: a pack or run file changed between (or during)
    // sessions would bind earlier verdicts to predictions the reviewer never saw
    let other = sessions_on_other_files(&session.journal.entries, &digest_of(&pack_files, &runs));
    if !other.is_empty() {
        return Err(SignError::OtherFiles { entries: other });
    }
    let shipping = pack.manifest.runs.get(&session.run_name).and_then(|r| r.threshold);
    let mut record = Record {
        lightbox_record: FORMAT,
        lightbox: env!("CARGO_PKG_VERSION").into(),
        release: session.identity.release.clone(),
        reviewer: session.identity.reviewer.clone(),
        role: session.identity.role.clone(),
        ssh_key,
        time: utc_now(),
        decision: if s.approve { "approve" } else { "reject" }.into(),
        meaning,
        pack: pack.manifest.name.clone(),
        run: session.run_name.clone(),
        reviewed_threshold: s.threshold,
        shipping_threshold: shipping,
        threshold_note: shipping.filter(|t| (t - s.threshold).abs() > 1e-9).map(|t| {
            format!(
                "reviewed with predictions scoring below {:.2} hidden; the run ships with threshold {t:.2}",
                s.threshold
            )
        }),
        blind_seed: session.blind_seed,
        pack_files,
        runs,
        plan: session.plan.clone(),
        plan_sha256: session.plan.digest(),
        progress: d.progress,
        sample_statement: session.plan.sample_statement(d.sample_bad, d.sample_reviewed),
        rejected: d.rejected,
        verdicts: d
            .verdicts
            .into_iter()
            .map(|(case, flag, verdict, meaning, reason, note, seconds)| VerdictRecord {
                flag_message: flag.as_deref().and_then(|f| flag_message(&case, f)),
                case,
                flag,
                verdict,
                meaning,
                reason,
                note,
                seconds,
            })
            .collect(),
        notes: d.notes,
        scripted: scripted(&session.journal.entries),
        fast_verdicts: d.fast,
        unreviewed: d.unreviewed,
        override_reason: s.override_reason.clone().filter(|_| override_given),
        flags: {
            let mut by = BTreeMap::new();
            for f in s.flags.iter().filter(|f| f.source != "ground truth") {
                *by.entry(f.severity.clone()).or_insert(0) += 1;
            }
            by
        },
        flag_list: s.flags.clone(),
        metrics: s.metrics,
        known_answers: d.known,
        journal: JournalRef {
            file: session
                .journal
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            entries: session.journal.entries.len() as u64,
            last_entry_sha256: session.journal.last_hash.clone(),
        },
        seal: None,
    };
    // the content hash must survive a write and a read (it is recomputed from the file)
    let content = record.content_sha256();
    let text = serde_json::to_string(&record).expect("records serialise");
    let back: Record = serde_json::from_str(&text).map_err(SignError::ReadBack)?;
    if back.content_sha256() != content {
        return Err(SignError::NotAsWritten);
    }
    let (seq, line_hash) = session.record(Event::Signed {
        meaning: record.meaning.clone(),
        record: content,
        override_reason: record.override_reason.clone(),
    })?;
    let journal_bytes = std::fs::read(&session.journal.path).map_err(|source| SignError::ReadJournal {
        journal: session.journal.path.clone(),
        source,
    })?;
    let upto = journal::prefix(&journal_bytes, seq as usize + 1).ok_or_else(|| SignError::EntryMissing {
        journal: session.journal.path.clone(),
    })?;
    record.seal = Some(Seal {
        signed_entry: seq,
        signed_entry_sha256: line_hash,
        journal_sha256: sha256_hex(upto),
    });
    let path = record_path(&session.journal.path);
    let text = serde_json::to_string_pretty(&record).expect("record serialises") + "\n";
    crate::fsutil::write_atomic(&path, text.as_bytes()).map_err(|source| SignError::WriteRecord {
        record: path.clone(),
        source,
    })?;
    session.closed = Some((seq, record.meaning.clone()));
    if let Some(key) = &s.ssh_key {
        super::ssh::sign(&path, key).map_err(|source| SignError::NotSshSigned {
            record: path.clone(),
            source,
        })?;
    }
    Ok((path, record))
}

/// The state of a record's SSH signature.
#[derive(Debug, Clone, PartialEq)]
pub enum Signature {
    /// No `.sig` beside the record: integrity only.
    None,
    /// A valid signature by the key with this fingerprint; `principal` when it was also checked
    /// against an allowed-signers file for the record's reviewer.
    Good {
        fingerprint: String,
        principal: Option<String>,
    },
    /// A signature that is invalid or could not be checked (also listed among the problems).
    Bad(String),
}

/// Why a file could not be verified as a record at all (a record that does not match is a
/// [`Verification`] with problems, not an error).
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("{}: not a regular file", path.display())]
    NotAFile { path: PathBuf },
    #[error("{}: cannot read: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error(
        "{}: a sign-off record of format {format}; this lightbox verifies format {FORMAT} only. Records of format 1 did not bind the signed journal line and cannot be trusted: review and sign the release again",
        path.display()
    )]
    Format { path: PathBuf, format: u64 },
    #[error("{}: not a sign-off record: {message} at `{field}`", path.display())]
    NotARecord {
        path: PathBuf,
        message: String,
        /// The JSON path of the offending value.
        field: String,
    },
}

/// A record checked against its journal and the pack as it is now.
#[derive(Debug, Clone)]
pub struct Verification {
    pub record: Record,
    /// Empty: everything matches.
    pub problems: Vec<String>,
    pub signature: Signature,
}

impl Verification {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Check a record against its journal, its signature and the pack as it is now. `Err`: the file
/// is not a record at all.
#[allow(clippy::expect_used)] // cannot fail: a record is plain data, which always serialises
pub fn verify(record_path: &Path, pack: &Pack, allowed_signers: Option<&Path>) -> Result<Verification, VerifyError> {
    if !std::fs::metadata(record_path).is_ok_and(|m| m.is_file()) {
        return Err(VerifyError::NotAFile {
            path: record_path.to_path_buf(),
        });
    }
    let bytes = std::fs::read(record_path).map_err(|source| VerifyError::Read {
        path: record_path.to_path_buf(),
        source,
    })?;
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes)
        && let Some(n) = v.get("lightbox_record").and_then(|n| n.as_u64())
        && n != FORMAT as u64
    {
        return Err(VerifyError::Format {
            path: record_path.to_path_buf(),
            format: n,
        });
    }
    let record: Record = crate::formats::json::parse(&bytes).map_err(|e| VerifyError::NotARecord {
        path: record_path.to_path_buf(),
        message: e.message,
        field: e.path,
    })?;
    let mut bad = Vec::new();
    // byte for byte as written: no trailing data, no reformatting, no re-escaping
    let canonical = serde_json::to_string_pretty(&record).expect("records serialise") + "\n";
    if canonical.as_bytes() != bytes.as_slice() {
        let at = canonical
            .bytes()
            .zip(bytes.iter())
            .position(|(a, b)| a != *b)
            .unwrap_or(canonical.len().min(bytes.len()));
        bad.push(format!(
            "{}: the file is not the record as lightbox wrote it (it differs from byte {at} on): the record was changed after signing",
            record_path.display()
        ));
    }
    check_journal(record_path, &record, pack, &mut bad);
    check_files(&record, pack, &mut bad);
    if pack.manifest.name != record.pack {
        bad.push(format!(
            "the pack is {:?}, the record is for {:?}",
            pack.manifest.name, record.pack
        ));
    }
    let signature = check_signature(record_path, &record, allowed_signers, &mut bad);
    Ok(Verification {
        record,
        problems: bad,
        signature,
    })
}

fn check_journal(record_path: &Path, record: &Record, pack: &Pack, bad: &mut Vec<String>) {
    let jpath = record_path.with_file_name(&record.journal.file);
    let Some(seal) = &record.seal else {
        bad.push("the record has no seal: it was never completed by signing".into());
        return;
    };
    // the record must sit beside its own journal: a record copied over another reviewer's
    // (say, an approval over a rejection) names another journal
    if record_path.file_name() != self::record_path(&jpath).file_name() {
        bad.push(format!(
            "{}: this is the record of journal {}, not of the journal beside this name; the record was copied or renamed",
            record_path.display(),
            record.journal.file
        ));
    }
    if !std::fs::metadata(&jpath).is_ok_and(|m| m.is_file()) {
        bad.push(format!("journal {}: missing or not a regular file", jpath.display()));
        return;
    }
    let bytes = match std::fs::read(&jpath) {
        Ok(b) => b,
        Err(e) => {
            bad.push(format!("journal {}: cannot read: {e}", jpath.display()));
            return;
        }
    };
    let (entries, _, tail) = match journal::read(&jpath) {
        Ok(p) => p,
        Err(e) => {
            bad.push(format!("journal: {e}"));
            return;
        }
    };
    if let Some((_, why)) = tail {
        bad.push(format!(
            "journal {}: its last line is damaged ({why}): changed after signing",
            jpath.display()
        ));
    }
    let content = record.content_sha256();
    let Some(signed) = entries.get(seal.signed_entry as usize) else {
        bad.push(format!(
            "journal {}: the record was sealed by entry {}, but the journal has only {} entries (0–{}): entries were removed after signing",
            jpath.display(),
            seal.signed_entry,
            entries.len(),
            entries.len().saturating_sub(1)
        ));
        return;
    };
    match &signed.event {
        Event::Signed { meaning, record: r, .. } => {
            if *r != content {
                bad.push(format!(
                    "journal {} entry {}: the signed entry holds record content {r}, the record's content hashes to {content}: the record was changed after signing, or belongs to another journal",
                    jpath.display(),
                    signed.seq
                ));
            }
            if *meaning != record.meaning {
                bad.push(format!(
                    "journal entry {}: signed \"{meaning}\", the record says \"{}\"",
                    signed.seq, record.meaning
                ));
            }
        }
        other => bad.push(format!(
            "journal entry {} is not a signature but a {} entry: the journal was changed after signing",
            signed.seq,
            serde_json::to_value(other)
                .ok()
                .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(String::from))
                .unwrap_or_default()
        )),
    }
    // the seal: the journal's bytes up to the signed entry, and that entry's line
    match journal::prefix(&bytes, seal.signed_entry as usize + 1) {
        Some(upto) if sha256_hex(upto) == seal.journal_sha256 => {}
        _ => bad.push(format!(
            "journal {}: its lines up to the signed entry {} hash differently than when signed: changed after signing",
            jpath.display(),
            seal.signed_entry
        )),
    }
    let line = journal::prefix(&bytes, seal.signed_entry as usize + 1).map(|upto| {
        let without = &upto[..upto.len().saturating_sub(1)];
        let start = without.iter().rposition(|&b| b == b'\n').map(|i| i + 1).unwrap_or(0);
        sha256_hex(&without[start..])
    });
    if line.as_deref() != Some(seal.signed_entry_sha256.as_str()) {
        bad.push(format!(
            "journal entry {}: the signed line hashes differently than when signed: changed after signing",
            seal.signed_entry
        ));
    }
    if signed.seq != record.journal.entries || signed.prev != record.journal.last_entry_sha256 {
        bad.push(format!(
            "journal {}: the record names entry {} ({}) as the last before signing, the journal has {} ({})",
            jpath.display(),
            record.journal.entries,
            record.journal.last_entry_sha256,
            signed.seq,
            signed.prev
        ));
    }
    // nothing may follow the signature
    let after: Vec<String> = entries[signed.seq as usize + 1..]
        .iter()
        .map(|e| {
            let what = match &e.event {
                Event::Verdict { case, verdict, .. } => format!("a verdict ({}) on {case}", verdict.name()),
                Event::Reopen { .. } => "a reopening of the review".into(),
                Event::Session { .. } => "a new session".into(),
                Event::Shown { case } => format!("a display of {case}"),
                Event::Note { case, .. } => format!("a note on {case}"),
                Event::Undo { undoes } => format!("an undo of entry {undoes}"),
                Event::Signed { .. } => "another signature".into(),
            };
            format!("entry {} ({what})", e.seq)
        })
        .collect();
    if !after.is_empty() {
        bad.push(format!(
            "journal {}: changed after signing: {} recorded after the signed entry {}; sign the review again",
            jpath.display(),
            after.join(", "),
            signed.seq
        ));
    }
    let other = sessions_on_other_files(
        &entries[..signed.seq as usize],
        &digest_of(&record.pack_files, &record.runs),
    );
    if !other.is_empty() {
        bad.push(format!(
            "journal {}: sessions opened on other pack or run files than the record binds ({}): their verdicts concern other files",
            jpath.display(),
            other
                .iter()
                .map(|(seq, why)| format!("entry {seq}: {why}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    // who, and what the record says the journal holds
    for e in &entries[..signed.seq as usize] {
        if let Event::Session {
            release, reviewer, run, ..
        } = &e.event
            && (release != &record.release || reviewer != &record.reviewer || run != &record.run)
        {
            bad.push(format!(
                "journal entry {}: a session of release {release} by {reviewer} of run {run}; the record is release {} by {} of run {}",
                e.seq, record.release, record.reviewer, record.run
            ));
        }
    }
    let state = State::replay(&entries[..signed.seq as usize]);
    let known: Vec<(String, String)> = pack
        .manifest
        .review
        .known
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let d = derive(
        pack,
        &record.plan,
        &state,
        pack.manifest.review.min_seconds,
        &known,
        record.override_reason.is_some(),
    );
    let mut differ = |what: &str, same: bool| {
        if !same {
            bad.push(format!(
                "the record's {what} differ from what the journal holds: the record was changed after signing"
            ));
        }
    };
    differ("progress figures", d.progress == record.progress);
    differ("rejected cases", d.rejected == record.rejected);
    let theirs: Vec<_> = record
        .verdicts
        .iter()
        .map(|v| {
            (
                v.case.clone(),
                v.flag.clone(),
                v.verdict.clone(),
                v.meaning.clone(),
                v.reason.clone(),
                v.note.clone(),
                v.seconds,
            )
        })
        .collect();
    differ("verdicts", d.verdicts == theirs);
    differ("notes", d.notes == record.notes);
    differ(
        "interface (scripted)",
        scripted(&entries[..signed.seq as usize]) == record.scripted,
    );
    differ("fast verdicts", d.fast == record.fast_verdicts);
    differ("unreviewed cases", d.unreviewed == record.unreviewed);
    differ("known-answer results", d.known == record.known_answers);
    differ(
        "sample statement",
        record.plan.sample_statement(d.sample_bad, d.sample_reviewed) == record.sample_statement,
    );
    differ("plan (its hash)", record.plan.digest() == record.plan_sha256);
    let session_plans: Vec<&String> = entries[..signed.seq as usize]
        .iter()
        .filter_map(|e| match &e.event {
            Event::Session { plan, .. } => Some(plan),
            _ => None,
        })
        .collect();
    if session_plans.last().is_some_and(|p| **p != record.plan_sha256) {
        bad.push("the record's plan is not the plan the journal's last session reviewed".into());
    }
}

fn check_files(record: &Record, pack: &Pack, bad: &mut Vec<String>) {
    let root = Root::of(pack);
    let compare = |what: &str, then: &[FileHash], now: &[FileHash], bad: &mut Vec<String>| {
        let now_map: BTreeMap<&str, &str> = now.iter().map(|f| (f.path.as_str(), f.sha256.as_str())).collect();
        let then_map: BTreeMap<&str, &str> = then.iter().map(|f| (f.path.as_str(), f.sha256.as_str())).collect();
        for (p, h) in &then_map {
            match now_map.get(p) {
                None if std::fs::symlink_metadata(root.join(Path::new(p))).is_ok() => bad.push(format!(
                    "{what}: {p} is no longer a regular file (a FIFO, a device, a folder?)"
                )),
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
        Ok(now) => compare("pack", &record.pack_files, &now, bad),
        Err(e) => bad.push(format!("pack: {e}")),
    }
    if let Err(e) = check_images_bound(pack, &record.pack_files) {
        bad.push(format!("pack: {e}"));
    }
    match run_files(pack) {
        Ok(now) => {
            for r in &record.runs {
                match now.iter().find(|n| n.name == r.name) {
                    Some(n) => compare(&format!("run {}", r.name), &r.files, &n.files, bad),
                    None => bad.push(format!("run {}: no longer in the pack", r.name)),
                }
            }
            for n in &now {
                if !record.runs.iter().any(|r| r.name == n.name) {
                    bad.push(format!("run {}: added to the pack after signing", n.name));
                }
            }
        }
        Err(e) => bad.push(format!("runs: {e}")),
    }
}

fn check_signature(
    record_path: &Path,
    record: &Record,
    allowed_signers: Option<&Path>,
    bad: &mut Vec<String>,
) -> Signature {
    let sig = super::ssh::signature_path(record_path);
    if !sig.exists() {
        if let Some(k) = &record.ssh_key {
            let e = format!(
                "the record says it is signed with SSH key {}, but its signature {} is missing",
                k.fingerprint,
                sig.display()
            );
            bad.push(e.clone());
            return Signature::Bad(e);
        }
        return Signature::None;
    }
    match std::fs::metadata(&sig) {
        Ok(m) if !m.is_file() => {
            let e = format!("{}: not a regular file", sig.display());
            bad.push(e.clone());
            return Signature::Bad(e);
        }
        // an SSH signature is a few kilobytes; a huge file would keep ssh-keygen busy for hours
        Ok(m) if m.len() > 64 * 1024 => {
            let e = format!(
                "{}: {} bytes is far too large to be an SSH signature (a few kB)",
                sig.display(),
                m.len()
            );
            bad.push(e.clone());
            return Signature::Bad(e);
        }
        _ => {}
    }
    let Some(key) = &record.ssh_key else {
        let e = format!(
            "{} is beside a record that names no SSH key: the record was not signed by lightbox with --ssh-key",
            sig.display()
        );
        bad.push(e.clone());
        return Signature::Bad(e);
    };
    let fingerprint = match super::ssh::check(record_path) {
        Ok(f) => f,
        Err(e) => {
            let e = e.to_string();
            bad.push(e.clone());
            return Signature::Bad(e);
        }
    };
    if key.fingerprint != fingerprint {
        let e = format!(
            "the record names SSH key {}, its signature is by {fingerprint}",
            key.fingerprint
        );
        bad.push(e.clone());
        return Signature::Bad(e);
    }
    match allowed_signers {
        None => Signature::Good {
            fingerprint,
            principal: None,
        },
        Some(allowed) => {
            // the reviewer's exact name must be on a line of this key: ssh-keygen also matches
            // patterns ("Dr A*"), which would let any key listed with a pattern sign as anyone
            let names = std::fs::read_to_string(allowed)
                .map(|t| super::ssh::principals_for(&t, &key.public_key))
                .unwrap_or_default();
            if !names.contains(&record.reviewer) {
                let e = format!(
                    "{} does not give the key {} to {:?} by name{}",
                    allowed.display(),
                    key.fingerprint,
                    record.reviewer,
                    if names.is_empty() {
                        String::new()
                    } else {
                        format!(" (it gives it to {})", names.join(", "))
                    }
                );
                bad.push(e.clone());
                return Signature::Bad(e);
            }
            match super::ssh::verify(record_path, allowed, &record.reviewer) {
                Ok(_) => Signature::Good {
                    fingerprint,
                    principal: Some(record.reviewer.clone()),
                },
                Err(e) => {
                    let e = e.to_string();
                    bad.push(e.clone());
                    Signature::Bad(e)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_record_and_what_to_do() {
        let e = VerifyError::NotARecord {
            path: PathBuf::from("reviews/1.0/alice.record.json"),
            message: "missing field `seal`".into(),
            field: ".".into(),
        };
        assert_eq!(
            e.to_string(),
            "reviews/1.0/alice.record.json: not a sign-off record: missing field `seal` at `.`"
        );
        let e = SignError::OtherFiles {
            entries: vec![(0, "other files"), (7, "files not recorded (an older lightbox)")],
        };
        assert!(
            e.to_string().starts_with(
                "not signed: the pack's or runs' files are not the ones this journal's sessions opened (entry 0: other files, entry 7: files not recorded (an older lightbox))."
            ),
            "{e}"
        );
    }
}
