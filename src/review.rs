//! Reviewer sign-off: a review plan, a hash-chained journal of every action, and a signed record
//! tied by SHA-256 to the exact pack, run files, rules and journal the reviewer saw, which
//! `lightbox verify` checks. Knows nothing about the terminal: the dashboard's review mode and
//! `lightbox review --batch` both drive a [`Session`].

pub mod action;
pub mod hash;
pub mod journal;
pub mod plan;
pub mod policy;
pub mod record;
pub mod report;
pub mod ssh;

pub use journal::{Event, Journal, JournalError, Verdict};
pub use plan::Plan;
pub use record::Record;

use indexmap::IndexMap;
use std::collections::HashSet;

/// A verdict as it stands after replaying the journal.
#[derive(Debug, Clone, PartialEq)]
pub struct Given {
    pub seq: u64,
    pub verdict: Verdict,
    pub reason: Option<String>,
    pub note: Option<String>,
    pub seconds: f64,
}

/// The state the journal describes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct State {
    /// Per (case, flag): the standing verdict (a flag of `None` is the whole case).
    pub verdicts: IndexMap<(String, Option<String>), Given>,
    /// Cases whose image was displayed, with the entry that first says so.
    pub shown: std::collections::HashMap<String, u64>,
    pub notes: Vec<(String, String)>,
    /// Sequence numbers of verdict entries still standing, in order (what `undo` takes back).
    pub undoable: Vec<u64>,
}

impl State {
    /// Replay journal entries (undo included).
    pub fn replay(entries: &[journal::Entry]) -> State {
        let mut s = State::default();
        // every verdict ever given per key, to restore on undo
        let mut history: IndexMap<(String, Option<String>), Vec<Given>> = IndexMap::new();
        for e in entries {
            match &e.event {
                Event::Shown { case } => {
                    s.shown.entry(case.clone()).or_insert(e.seq);
                }
                Event::Verdict {
                    case,
                    verdict,
                    flag,
                    reason,
                    note,
                    seconds,
                } => {
                    let key = (case.clone(), flag.clone());
                    let g = Given {
                        seq: e.seq,
                        verdict: *verdict,
                        reason: reason.clone(),
                        note: note.clone(),
                        seconds: *seconds,
                    };
                    history.entry(key.clone()).or_default().push(g.clone());
                    s.verdicts.insert(key, g);
                    s.undoable.push(e.seq);
                }
                Event::Note { case, text } => s.notes.push((case.clone(), text.clone())),
                Event::Undo { undoes } => {
                    s.undoable.retain(|q| q != undoes);
                    for (key, h) in history.iter_mut() {
                        if let Some(i) = h.iter().position(|g| g.seq == *undoes) {
                            h.remove(i);
                            match h.last() {
                                Some(g) => {
                                    s.verdicts.insert(key.clone(), g.clone());
                                }
                                None => {
                                    s.verdicts.shift_remove(key);
                                }
                            }
                            break;
                        }
                    }
                }
                Event::Session { .. } | Event::Signed { .. } | Event::Reopen { .. } => {}
            }
        }
        s
    }

    /// The whole-case verdict, if any.
    pub fn case_verdict(&self, case: &str) -> Option<&Given> {
        self.verdicts.get(&(case.to_string(), None))
    }

    /// A case counts as reviewed when its image was displayed and, after that, it was given a
    /// whole-case verdict.
    pub fn reviewed(&self, case: &str) -> bool {
        match (self.shown.get(case), self.case_verdict(case)) {
            (Some(shown), Some(g)) => g.seq > *shown,
            _ => false,
        }
    }
}

/// Where a review stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Progress {
    pub required: usize,
    pub reviewed_required: usize,
    pub accepted: usize,
    pub rejected: usize,
    pub unsure: usize,
    /// Verdicts on cases outside the plan.
    pub extra: usize,
}

impl std::fmt::Display for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} of {} required reviewed · {} rejected · {} unsure",
            self.reviewed_required, self.required, self.rejected, self.unsure
        )
    }
}

/// Where a review of `plan` stands in `state`.
pub fn progress_of(plan: &Plan, state: &State) -> Progress {
    let required: HashSet<&str> = plan.required.iter().map(|r| r.case.as_str()).collect();
    let mut p = Progress {
        required: required.len(),
        reviewed_required: required.iter().filter(|c| state.reviewed(c)).count(),
        accepted: 0,
        rejected: 0,
        unsure: 0,
        extra: 0,
    };
    for ((case, flag), g) in &state.verdicts {
        if flag.is_some() {
            continue;
        }
        match g.verdict {
            Verdict::Accept => p.accepted += 1,
            Verdict::Reject => p.rejected += 1,
            Verdict::Unsure => p.unsure += 1,
        }
        if !required.contains(case.as_str()) {
            p.extra += 1;
        }
    }
    p
}

/// Who reviews, for what.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    pub release: String,
    pub reviewer: String,
    pub role: Option<String>,
}

/// A review session: the plan, the journal, and the state it describes.
pub struct Session {
    pub identity: Identity,
    pub run: usize,
    pub run_name: String,
    pub plan: Plan,
    pub journal: Journal,
    pub state: State,
    /// Sign records with this SSH key too.
    pub ssh_key: Option<std::path::PathBuf>,
    /// Blind review, with the seed of its order.
    pub blind_seed: Option<u64>,
    /// Set once the review is signed: (the `signed` entry's seq, what it meant). A closed review
    /// takes no more actions; `lightbox review --reopen` opens it again.
    pub closed: Option<(u64, String)>,
}

/// The signature that closes a journal: its last `signed` entry not followed by a `reopen`
/// (whether or not its record still exists: deleting a record does not reopen a review).
/// Returns the entry's seq and what it meant.
pub fn closing_signature(entries: &[journal::Entry]) -> Option<(u64, String)> {
    let (i, meaning) = entries.iter().enumerate().rev().find_map(|(i, e)| match &e.event {
        Event::Signed { meaning, .. } => Some((i, meaning.clone())),
        _ => None,
    })?;
    if entries[i + 1..]
        .iter()
        .any(|e| matches!(e.event, Event::Reopen { signed } if signed == i as u64))
    {
        return None;
    }
    Some((i as u64, meaning))
}

/// How a session starts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Start {
    /// Blind review: the run's name and scores hidden, the order shuffled with this seed.
    pub blind_seed: Option<u64>,
    /// Open a signed review again (journaled; its record no longer verifies).
    pub reopen: bool,
    /// Actions come from a script (`--batch`), not the dashboard.
    pub batch: bool,
}

/// Why a session cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(
        "{journal}: release {release} was signed (\"{meaning}\", journal entry {seq}) and the review is closed. {what}; to change verdicts, start again with --reopen (the signed record then no longer verifies, until the review is signed again)"
    )]
    Closed {
        journal: std::path::PathBuf,
        release: String,
        meaning: String,
        seq: u64,
        /// What to do with the record (or that it is missing).
        what: String,
    },
    #[error(transparent)]
    Files(#[from] record::FilesError),
}

impl StartError {
    /// The refusal of a signed journal: how to check or read its record (or that it is
    /// missing), and whether its last line is damaged.
    fn closed(journal: &std::path::Path, release: &str, seq: u64, meaning: String, damaged: bool) -> StartError {
        let rec = record::record_path(journal);
        let what = if rec.is_file() {
            format!(
                "Check it with `lightbox verify {}`, read it with `lightbox report {} -o DIR`",
                rec.display(),
                rec.display()
            )
        } else {
            format!(
                "Its record {} is missing (the signing was cut off, or the record was removed)",
                rec.display()
            )
        };
        StartError::Closed {
            what: if damaged {
                what + ". Its last line is damaged: something was written after the signature (left as it is)"
            } else {
                what
            },
            journal: journal.to_path_buf(),
            release: release.to_string(),
            meaning,
            seq,
        }
    }
}

impl Session {
    /// Open the journal (resuming it when it exists) and record the session's start.
    pub fn start(
        pack: &crate::pack::Pack,
        run: usize,
        identity: Identity,
        plan: Plan,
        journal_path: &std::path::Path,
    ) -> Result<Session, StartError> {
        Self::start_with(pack, run, identity, plan, journal_path, Start::default())
    }

    /// As [`Session::start`], blind, reopening or from a script as `how` says. A signed journal
    /// is refused unless `how.reopen`, which records a `reopen` entry: the signature no longer
    /// stands. The session entry holds the digest of every pack and run file as they are now.
    pub fn start_with(
        pack: &crate::pack::Pack,
        run: usize,
        identity: Identity,
        plan: Plan,
        journal_path: &std::path::Path,
        how: Start,
    ) -> Result<Session, StartError> {
        let Start {
            blind_seed,
            reopen,
            batch,
        } = how;
        // a signed journal is refused before it is opened for writing: opening would set a
        // damaged last line aside, and a closed review must be left exactly as it is
        if !reopen
            && std::fs::metadata(journal_path).is_ok_and(|m| m.is_file())
            && let Ok((entries, _, tail)) = journal::read(journal_path)
            && let Some((seq, meaning)) = closing_signature(&entries)
        {
            return Err(StartError::closed(
                journal_path,
                &identity.release,
                seq,
                meaning,
                tail.is_some(),
            ));
        }
        let mut journal = Journal::open(journal_path)?;
        let closed = closing_signature(&journal.entries);
        let run_name = pack.source_name(crate::pack::Source::Run(run));
        // a journal belongs to one release, reviewer and run
        if let Some(Event::Session {
            release,
            reviewer,
            run: r,
            ..
        }) = journal
            .entries
            .iter()
            .map(|e| &e.event)
            .find(|e| matches!(e, Event::Session { .. }))
            && (release != &identity.release || reviewer != &identity.reviewer || r != &run_name)
        {
            return Err(JournalError::Io {
                path: journal.path.clone(),
                message: format!(
                    "this journal records release {release} by {reviewer} of run {r}, not release {} by {} of run {run_name}; give another --journal",
                    identity.release, identity.reviewer
                ),
            }
            .into());
        }
        if let Some((seq, meaning)) = &closed
            && !reopen
        {
            // signed by another session between the look above and the lock
            return Err(StartError::closed(
                &journal.path,
                &identity.release,
                *seq,
                meaning.clone(),
                false,
            ));
        }
        let files = record::files_digest(pack)?;
        journal.append(Event::Session {
            release: identity.release.clone(),
            reviewer: identity.reviewer.clone(),
            role: identity.role.clone(),
            run: run_name.clone(),
            pack: pack.manifest.name.clone(),
            lightbox: env!("CARGO_PKG_VERSION").into(),
            plan: plan.digest(),
            blind_seed,
            files: Some(files),
            interface: Some(if batch { "batch" } else { "dashboard" }.into()),
        })?;
        if let Some((seq, _)) = closed {
            journal.append(Event::Reopen { signed: seq })?;
        }
        let state = State::replay(&journal.entries);
        Ok(Session {
            identity,
            run,
            run_name,
            plan,
            journal,
            state,
            ssh_key: None,
            blind_seed,
            closed: None,
        })
    }

    /// Record an event (fsync'd) and update the state; returns the entry's hash. A signed
    /// (closed) session takes nothing more.
    pub fn record(&mut self, event: Event) -> Result<(u64, String), JournalError> {
        if let Some((seq, meaning)) = &self.closed {
            return Err(JournalError::Io {
                path: self.journal.path.clone(),
                message: format!(
                    "the review is signed (\"{meaning}\", entry {seq}) and closed: nothing more is recorded. To change verdicts, start `lightbox review` again with --reopen (the signed record then no longer verifies)"
                ),
            });
        }
        if let Event::Undo { undoes } = &event
            && !self.state.undoable.contains(undoes)
        {
            return Err(JournalError::Io {
                path: self.journal.path.clone(),
                message: format!("entry {undoes} is not a standing verdict; nothing to undo"),
            });
        }
        let r = self.journal.append(event)?;
        self.state = State::replay(&self.journal.entries);
        Ok(r)
    }

    /// Take back the last standing verdict.
    pub fn undo(&mut self) -> Result<Option<(u64, String)>, JournalError> {
        match self.state.undoable.last().copied() {
            Some(undoes) => self.record(Event::Undo { undoes }).map(Some),
            None => Ok(None),
        }
    }

    pub fn progress(&self) -> Progress {
        progress_of(&self.plan, &self.state)
    }

    /// The first required case not yet reviewed, in plan order.
    pub fn next_required(&self) -> Option<&str> {
        self.plan
            .required
            .iter()
            .map(|r| r.case.as_str())
            .find(|c| !self.state.reviewed(c))
    }

    /// Required cases not reviewed yet.
    pub fn unreviewed(&self) -> Vec<&str> {
        self.plan
            .required
            .iter()
            .map(|r| r.case.as_str())
            .filter(|c| !self.state.reviewed(c))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::journal::Entry;
    use super::*;

    fn e(seq: u64, event: Event) -> Entry {
        Entry {
            seq,
            time: String::new(),
            prev: String::new(),
            event,
        }
    }

    fn v(case: &str, verdict: Verdict) -> Event {
        Event::Verdict {
            case: case.into(),
            verdict,
            flag: None,
            reason: None,
            note: None,
            seconds: 3.0,
        }
    }

    #[test]
    fn undo_restores_the_previous_verdict() {
        let entries = vec![
            e(0, Event::Shown { case: "a".into() }),
            e(1, v("a", Verdict::Accept)),
            e(2, v("a", Verdict::Reject)),
            e(3, Event::Undo { undoes: 2 }),
        ];
        let s = State::replay(&entries);
        assert_eq!(s.case_verdict("a").unwrap().verdict, Verdict::Accept);
        assert!(s.reviewed("a"));
        let s = State::replay(&[entries.clone(), vec![e(4, Event::Undo { undoes: 1 })]].concat());
        assert!(s.case_verdict("a").is_none());
        assert!(!s.reviewed("a"));
    }

    #[test]
    fn a_verdict_without_the_image_shown_does_not_count_as_reviewed() {
        let s = State::replay(&[e(0, v("b", Verdict::Accept))]);
        assert!(!s.reviewed("b"));
        // nor one given before the image was shown
        let s = State::replay(&[e(0, v("b", Verdict::Accept)), e(1, Event::Shown { case: "b".into() })]);
        assert!(!s.reviewed("b"));
    }
}
