//! The review journal: every reviewer action as one JSON line, each holding the SHA-256 of the
//! line before it, appended and fsync'd before it counts as recorded.
//!
//! One file per release and reviewer (`reviews/<release>/<reviewer>.jsonl`), so two reviewers
//! never write the same file; an exclusive lock on the journal file itself (taken atomically by the
//! operating system, released when the process ends however it ends) stops a second session of
//! the same reviewer.
//! On opening, the chain is checked line by line. A last line that is truncated or corrupt (a
//! power cut mid-write) is moved aside to `<journal>.corrupt-<seq>` and reported — never silently
//! dropped — and everything before it loads. Damage anywhere else is tampering or a broken disk:
//! the journal is refused, with the line named.

use super::hash::sha256_hex;
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// `prev` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A reviewer's decision on a case (or on one of its flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Accept,
    Reject,
    Unsure,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Accept => "accept",
            Verdict::Reject => "reject",
            Verdict::Unsure => "unsure",
        }
    }
}

impl std::str::FromStr for Verdict {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "accept" | "a" => Ok(Verdict::Accept),
            "reject" | "r" => Ok(Verdict::Reject),
            "unsure" | "u" => Ok(Verdict::Unsure),
            _ => Err(format!("unknown verdict {s:?}: accept, reject or unsure")),
        }
    }
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A session opened (the first one, or a resumption).
    Session {
        release: String,
        reviewer: String,
        role: Option<String>,
        run: String,
        pack: String,
        lightbox: String,
        /// SHA-256 of the review plan's canonical JSON.
        plan: String,
        /// Blind review: the run's name and scores hidden, the order shuffled with `seed`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        blind_seed: Option<u64>,
        /// SHA-256 of every pack and run file's hash as the session opened (see
        /// [`super::record::files_digest`]): verdicts are about these files.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        files: Option<String>,
        /// `dashboard`, or `batch` for actions read from a script (whose times on screen are
        /// the script's word).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        interface: Option<String>,
    },
    /// A case's image was displayed to the reviewer (a case only counts as reviewed after this).
    Shown { case: String },
    /// A verdict on a case, or on one flag of it (`flag`: the rule id).
    Verdict {
        case: String,
        verdict: Verdict,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        flag: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
        /// Seconds the case was on screen before the verdict.
        seconds: f64,
    },
    /// A note on a case, without a verdict.
    Note { case: String, text: String },
    /// Takes back the entry with this sequence number.
    Undo { undoes: u64 },
    /// The reviewer signed; `record` is the SHA-256 of the record's content (its canonical JSON
    /// without the `seal`, which in turn holds the hash of the journal up to this line).
    Signed {
        meaning: String,
        record: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        override_reason: Option<String>,
    },
    /// A signed review opened again on purpose (`lightbox review --reopen`): the signature of
    /// entry `signed` no longer stands, and its record no longer verifies.
    Reopen { signed: u64 },
}

/// One line of the journal (the hash chain, not field checks, guards its integrity).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub seq: u64,
    /// UTC, RFC 3339.
    pub time: String,
    /// SHA-256 of the previous line's bytes (without its newline); [`GENESIS`] for the first.
    pub prev: String,
    #[serde(flatten)]
    pub event: Event,
}

/// Why a journal cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("{path}: {message}")]
    Io { path: PathBuf, message: String },
    #[error(
        "{path}: line {line}: {message}. The journal has been altered or damaged before its last line; it is left untouched. Restore it from a backup, or start a new journal with --journal"
    )]
    Broken {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error(
        "{path}: another lightbox session is recording in this journal. Close it first (its lock is released as soon as that process ends)"
    )]
    Locked { path: PathBuf },
}

/// An open journal, ready to append.
#[derive(Debug)]
pub struct Journal {
    pub path: PathBuf,
    pub entries: Vec<Entry>,
    /// SHA-256 of the last line ([`GENESIS`] when empty).
    pub last_hash: String,
    /// Set when a damaged last line was moved aside on opening: where to, and why.
    pub set_aside: Option<(PathBuf, String)>,
    file: Option<File>,
    /// The journal, locked; the lock is released when it is closed (or the process ends).
    _lock: File,
}

/// A parsed journal: its entries, the last line's hash, and a damaged last line (byte offset,
/// why) if any.
pub type Parsed = (Vec<Entry>, String, Option<(usize, String)>);

/// Read and check a journal without opening it for writing (verification, reports).
pub fn read(path: &Path) -> Result<Parsed, JournalError> {
    match std::fs::metadata(path) {
        Ok(m) if !m.is_file() => {
            return Err(JournalError::Io {
                path: path.into(),
                message: "not a regular file: a journal is a file of JSON lines".into(),
            });
        }
        _ => {}
    }
    let bytes = std::fs::read(path).map_err(|e| JournalError::Io {
        path: path.into(),
        message: format!("cannot read: {e}"),
    })?;
    parse(path, &bytes)
}

/// Parse journal bytes: the entries, the last hash, and a damaged tail (byte offset, why).
fn parse(path: &Path, bytes: &[u8]) -> Result<Parsed, JournalError> {
    let mut entries = Vec::new();
    let mut prev = GENESIS.to_string();
    let mut offset = 0;
    let mut lines: Vec<(usize, &[u8], bool)> = Vec::new();
    while offset < bytes.len() {
        match bytes[offset..].iter().position(|&b| b == b'\n') {
            Some(n) => {
                lines.push((offset, &bytes[offset..offset + n], true));
                offset += n + 1;
            }
            None => {
                lines.push((offset, &bytes[offset..], false));
                offset = bytes.len();
            }
        }
    }
    let n = lines.len();
    for (i, (start, line, complete)) in lines.into_iter().enumerate() {
        let last = i + 1 == n;
        let problem = if !complete {
            Some("the last line is incomplete (no newline: the write was cut off)".to_string())
        } else {
            match serde_json::from_slice::<Entry>(line) {
                Err(e) => Some(format!("not a journal entry: {e}")),
                Ok(e) if e.prev != prev => {
                    Some(format!("its `prev` is {} but the line before hashes to {prev}", e.prev))
                }
                Ok(e) if e.seq != entries.len() as u64 => {
                    Some(format!("`seq` is {} where {} was expected", e.seq, entries.len()))
                }
                Ok(e) => {
                    prev = sha256_hex(line);
                    entries.push(e);
                    None
                }
            }
        };
        if let Some(message) = problem {
            if last {
                return Ok((entries, prev, Some((start, message))));
            }
            return Err(JournalError::Broken {
                path: path.into(),
                line: i + 1,
                message,
            });
        }
    }
    Ok((entries, prev, None))
}

impl Journal {
    /// Open (creating it if needed) for appending: check the chain, set a damaged last line
    /// aside, take the lock.
    pub fn open(path: &Path) -> Result<Journal, JournalError> {
        let io = |message: String| JournalError::Io {
            path: path.into(),
            message,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| io(format!("cannot create {}: {e}", dir.display())))?;
        }
        // the journal must be a plain file (not a FIFO, a device, a folder)
        if let Ok(m) = std::fs::metadata(path)
            && !m.is_file()
        {
            return Err(io("not a regular file: a journal is a file of JSON lines".into()));
        }
        let lock = take_lock(path)?;
        let result = (|| {
            let bytes = match std::fs::read(path) {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
                Err(e) => return Err(io(format!("cannot read: {e}"))),
            };
            let (entries, last_hash, tail) = parse(path, &bytes)?;
            let mut set_aside = None;
            if let Some((start, why)) = tail {
                let aside = keep_aside(path, entries.len(), &bytes[start..]).map_err(|e| {
                    io(format!(
                        "cannot keep the damaged last line aside beside the journal: {e}"
                    ))
                })?;
                let f = OpenOptions::new()
                    .write(true)
                    .open(path)
                    .map_err(|e| io(format!("cannot open for writing: {e}")))?;
                f.set_len(start as u64)
                    .and_then(|_| f.sync_all())
                    .map_err(|e| io(format!("cannot cut the damaged last line: {e}")))?;
                set_aside = Some((aside, why));
            }
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| io(format!("cannot open for appending: {e}")))?;
            Ok((entries, last_hash, set_aside, file))
        })();
        match result {
            Ok((entries, last_hash, set_aside, file)) => Ok(Journal {
                path: path.into(),
                entries,
                last_hash,
                set_aside,
                file: Some(file),
                _lock: lock,
            }),
            Err(e) => Err(e),
        }
    }

    /// Append an event: written and fsync'd before this returns. Returns the new entry's
    /// sequence number and the line's SHA-256.
    #[allow(clippy::expect_used)] // cannot fail: an entry is strings and numbers, which serialise
    pub fn append(&mut self, event: Event) -> Result<(u64, String), JournalError> {
        let entry = Entry {
            seq: self.entries.len() as u64,
            time: super::hash::utc_now(),
            prev: self.last_hash.clone(),
            event,
        };
        let line = serde_json::to_string(&entry).expect("entries serialise");
        let Some(file) = self.file.as_mut() else {
            return Err(JournalError::Io {
                path: self.path.clone(),
                message: "this journal was opened to read, not to record".into(),
            });
        };
        let mut bytes = line.clone().into_bytes();
        bytes.push(b'\n');
        file.write_all(&bytes)
            .and_then(|_| file.sync_data())
            .map_err(|e| JournalError::Io {
                path: self.path.clone(),
                message: format!("cannot record (disk full or removed?): {e}. The last action was NOT recorded"),
            })?;
        self.last_hash = sha256_hex(line.as_bytes());
        let seq = entry.seq;
        self.entries.push(entry);
        Ok((seq, self.last_hash.clone()))
    }
}

/// Keep a damaged last line in a new file beside the journal (`<journal>.corrupt-<seq>`, then
/// `-2`, `-3`, ... when that name is taken): created exclusively, so an earlier one is never
/// overwritten and nothing is written through a symlink of that name.
fn keep_aside(path: &Path, seq: usize, bytes: &[u8]) -> std::io::Result<PathBuf> {
    for k in 1..1000 {
        let mut name = path.as_os_str().to_owned();
        name.push(format!(".corrupt-{seq}"));
        if k > 1 {
            name.push(format!("-{k}"));
        }
        let aside = PathBuf::from(name);
        match OpenOptions::new().write(true).create_new(true).open(&aside) {
            Ok(mut f) => {
                f.write_all(bytes)?;
                f.sync_all()?;
                return Ok(aside);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("too many damaged lines kept aside already"))
}

/// Take an exclusive lock on the journal file itself. The operating system grants it to one
/// process at a time, atomically, and releases it when that process ends, crashed or not; so
/// there is no stale lock to take over and no window between "is it free?" and "take it". It
/// locks the file, not its name, so a symlink or hard link to the same journal is the same lock.
fn take_lock(path: &Path) -> Result<File, JournalError> {
    let f = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)
        .map_err(|e| JournalError::Io {
            path: path.into(),
            message: format!("cannot open: {e}"),
        })?;
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(std::fs::TryLockError::WouldBlock) => Err(JournalError::Locked { path: path.into() }),
        Err(std::fs::TryLockError::Error(e)) => Err(JournalError::Io {
            path: path.into(),
            message: format!("cannot lock: {e}. The journal must be on a file system that supports file locks"),
        }),
    }
}

/// The bytes of the journal's first `n` lines (newlines included), as read from disk.
pub fn prefix(bytes: &[u8], n: usize) -> Option<&[u8]> {
    if n == 0 {
        return Some(&bytes[..0]);
    }
    let mut seen = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' {
            seen += 1;
            if seen == n {
                return Some(&bytes[..=i]);
            }
        }
    }
    None
}

/// The journal's path for a release and reviewer: `reviews/<release>/<reviewer>.jsonl` beside
/// the pack's manifest (names made safe for a file system).
pub fn default_path(pack_root: &Path, release: &str, reviewer: &str) -> PathBuf {
    pack_root
        .join("reviews")
        .join(safe(release))
        .join(format!("{}.jsonl", safe(reviewer)))
}

/// A name made safe as one path component.
pub fn safe(s: &str) -> String {
    let t: String = s
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if t.is_empty() || t.starts_with('.') {
        format!("_{t}")
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(case: &str) -> Event {
        Event::Verdict {
            case: case.into(),
            verdict: Verdict::Accept,
            flag: None,
            reason: None,
            note: None,
            seconds: 1.5,
        }
    }

    #[test]
    fn entries_chain_and_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r/alice.jsonl");
        {
            let mut j = Journal::open(&p).unwrap();
            j.append(verdict("a")).unwrap();
            j.append(verdict("b")).unwrap();
        }
        let j = Journal::open(&p).unwrap();
        assert_eq!(j.entries.len(), 2);
        assert_eq!(j.entries[0].prev, GENESIS);
        assert_eq!(
            j.entries[1].prev,
            sha256_hex(std::fs::read_to_string(&p).unwrap().lines().next().unwrap().as_bytes())
        );
    }

    #[test]
    fn a_truncated_last_line_is_set_aside_and_the_rest_loads() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("j.jsonl");
        {
            let mut j = Journal::open(&p).unwrap();
            j.append(verdict("a")).unwrap();
            j.append(verdict("b")).unwrap();
        }
        let mut bytes = std::fs::read(&p).unwrap();
        bytes.extend_from_slice(b"{\"seq\":2,\"time\":\"2026");
        std::fs::write(&p, &bytes).unwrap();
        let mut j = Journal::open(&p).unwrap();
        assert_eq!(j.entries.len(), 2);
        let (aside, why) = j.set_aside.clone().unwrap();
        assert!(why.contains("incomplete"));
        assert_eq!(std::fs::read(&aside).unwrap(), b"{\"seq\":2,\"time\":\"2026");
        j.append(verdict("c")).unwrap();
        drop(j);
        assert_eq!(Journal::open(&p).unwrap().entries.len(), 3);
    }

    #[test]
    fn a_changed_middle_line_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("j.jsonl");
        {
            let mut j = Journal::open(&p).unwrap();
            for c in ["a", "b", "c"] {
                j.append(verdict(c)).unwrap();
            }
        }
        let text = std::fs::read_to_string(&p)
            .unwrap()
            .replacen("\"accept\"", "\"reject\"", 1);
        std::fs::write(&p, &text).unwrap();
        let e = Journal::open(&p).unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains("prev"), "{e}");
        assert_eq!(std::fs::read_to_string(&p).unwrap(), text, "untouched");
    }

    #[test]
    fn one_session_per_journal() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("j.jsonl");
        let _a = Journal::open(&p).unwrap();
        let e = Journal::open(&p).unwrap_err().to_string();
        assert!(e.contains("another lightbox session"), "{e}");
    }

    #[test]
    fn simultaneous_opens_give_the_lock_to_exactly_one() {
        // the old pid-file lock let two openers through when the second read the file before the
        // first had written its pid; the operating system's lock has no such window
        for _ in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let p = dir.path().join("j.jsonl");
            let barrier = std::sync::Arc::new(std::sync::Barrier::new(8));
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    let (p, b) = (p.clone(), barrier.clone());
                    std::thread::spawn(move || {
                        b.wait();
                        let j = Journal::open(&p);
                        // hold it until every thread has tried
                        std::thread::sleep(std::time::Duration::from_millis(30));
                        j.is_ok()
                    })
                })
                .collect();
            let won = handles.into_iter().map(|h| h.join().unwrap()).filter(|ok| *ok).count();
            assert_eq!(won, 1);
        }
    }

    #[test]
    fn names_are_safe() {
        assert_eq!(safe("v2.3.0"), "v2.3.0");
        assert_eq!(safe("../etc"), "_.._etc");
        assert_eq!(safe("Dr. Ann Lee"), "Dr._Ann_Lee");
    }
}
