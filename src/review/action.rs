//! One review action — a display, a verdict, a note, an undo, a signature — applied to a
//! [`Session`]: checked, appended to the journal and fsync'd before [`apply`] returns, with a
//! typed answer. `lightbox review --batch` and the dashboard's journal thread both call [`apply`],
//! so a verdict means the same whichever way it was given.

use super::journal::{Event, JournalError};
use super::record::{self, SignError, Signing};
use super::{Session, Verdict};
use crate::pack::{Pack, Source};
use std::path::PathBuf;

/// What the reviewer does.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Record a journal event (a case shown, a verdict, a note).
    Record(Event),
    /// Take back the last verdict or note.
    Undo,
    /// Sign the review.
    Sign(SignRequest),
}

/// What a signature says.
#[derive(Debug, Clone, PartialEq)]
pub struct SignRequest {
    pub approve: bool,
    /// Why required cases are still open, when some are.
    pub override_reason: Option<String>,
    /// The rejected and unsure cases the signer confirmed seeing (approving with them).
    pub noted: Option<usize>,
    /// The score threshold the reviewer looked at.
    pub threshold: f64,
}

/// What was done, as written to the journal.
#[derive(Debug, Clone, PartialEq)]
pub enum Did {
    /// A case was shown.
    Shown {
        case: String,
    },
    /// A verdict or note, in words (`case-003: rejected (wrong side)`).
    Recorded(String),
    Undone,
    /// The review was signed: the record written, and what the signature means.
    Signed {
        record: PathBuf,
        meaning: String,
    },
}

/// An applied action: what it did and the journal entry that holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Done {
    pub did: Did,
    /// The journal entry's sequence number and hash.
    pub seq: u64,
    pub hash: String,
}

impl Done {
    /// What to tell the reviewer.
    pub fn said(&self) -> String {
        match &self.did {
            Did::Shown { case } => format!("{case} shown"),
            Did::Recorded(what) => what.clone(),
            Did::Undone => "undone".into(),
            Did::Signed { record, meaning } => format!("signed \"{meaning}\": record {}", record.display()),
        }
    }
}

/// Why an action was not recorded (nothing was written).
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Sign(#[from] SignError),
    #[error("nothing to undo")]
    NothingToUndo,
    #[error("no case {0:?} in this pack")]
    NoSuchCase(String),
    #[error("flag={rule}: {case} has no such flag ({})", flag_list(known))]
    NoSuchFlag {
        case: String,
        rule: String,
        /// The flags the case has.
        known: Vec<String>,
    },
    #[error("note: the note is empty")]
    EmptyNote,
    #[error("note: control characters and invisible characters are not allowed")]
    InvisibleInNote,
}

fn flag_list(known: &[String]) -> String {
    if known.is_empty() {
        "it has none".to_string()
    } else {
        format!("its flags: {}", known.join(", "))
    }
}

/// Characters that change how text looks without being seen: control characters, zero-width
/// characters and joiners, bidirectional overrides, the soft hyphen, the byte-order mark. Refused
/// in notes and names, which are signed as written.
pub fn invisible(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{00ad}' | '\u{180e}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// The rules of the flags a reviewer may give a verdict on for `case`: the inputs', the ground
/// truth's and the reviewed run's.
pub fn case_flag_rules<'a>(session: &Session, flags: &'a [crate::rules::Flag], case: usize) -> Vec<&'a str> {
    flags
        .iter()
        .filter(|x| x.case == case)
        .filter(|x| {
            x.source
                .is_none_or(|s| s == Source::GroundTruth || s == Source::Run(session.run))
        })
        .map(|x| x.rule.as_str())
        .collect()
}

/// Check and carry out one action: appended and fsync'd before this returns.
pub fn apply(
    pack: &Pack,
    session: &mut Session,
    flags: &[crate::rules::Flag],
    action: Action,
) -> Result<Done, ActionError> {
    let did = match action {
        Action::Record(ev) => {
            let did = describe(pack, session, flags, &ev)?;
            let (seq, hash) = session.record(ev)?;
            return Ok(Done { did, seq, hash });
        }
        Action::Undo => {
            let (seq, hash) = session.undo()?.ok_or(ActionError::NothingToUndo)?;
            return Ok(Done {
                did: Did::Undone,
                seq,
                hash,
            });
        }
        Action::Sign(s) => {
            let signing = Signing::new(pack, session, flags, s.approve, s.override_reason, s.noted, s.threshold);
            let (path, rec) = record::sign(pack, session, signing)?;
            Did::Signed {
                record: path,
                meaning: rec.meaning,
            }
        }
    };
    Ok(Done {
        did,
        seq: session.journal.entries.len().saturating_sub(1) as u64,
        hash: session.journal.last_hash.clone(),
    })
}

/// Check an event against the pack and the flags, and say what it records.
fn describe(pack: &Pack, session: &Session, flags: &[crate::rules::Flag], ev: &Event) -> Result<Did, ActionError> {
    let index = |case: &str| {
        pack.cases
            .iter()
            .position(|c| c.id.0 == case)
            .ok_or_else(|| ActionError::NoSuchCase(case.to_string()))
    };
    Ok(match ev {
        Event::Shown { case } => {
            index(case)?;
            Did::Shown { case: case.clone() }
        }
        Event::Verdict {
            case,
            verdict,
            reason,
            flag,
            ..
        } => {
            let c = index(case)?;
            if let Some(f) = flag {
                let known = case_flag_rules(session, flags, c);
                if !known.contains(&f.as_str()) {
                    return Err(ActionError::NoSuchFlag {
                        case: case.clone(),
                        rule: f.clone(),
                        known: known.into_iter().map(String::from).collect(),
                    });
                }
            }
            Did::Recorded(verdict_words(case, *verdict, flag.as_deref(), reason.as_deref()))
        }
        Event::Note { case, text } => {
            index(case)?;
            if text.trim().is_empty() {
                return Err(ActionError::EmptyNote);
            }
            if text.chars().any(invisible) {
                return Err(ActionError::InvisibleInNote);
            }
            Did::Recorded(format!("note on {case}"))
        }
        _ => Did::Recorded("recorded".into()),
    })
}

/// `case-003 flag lung_count: flag dismissed: a false alarm (wrong side)`.
fn verdict_words(case: &str, verdict: Verdict, flag: Option<&str>, reason: Option<&str>) -> String {
    let meaning = record::meaning_of(verdict, flag.is_some());
    let on = match flag {
        Some(f) => format!("{case} flag {f}"),
        None => case.to_string(),
    };
    match reason {
        Some(r) => format!("{on}: {meaning} ({r})"),
        None => format!("{on}: {meaning}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_characters_are_the_ones_a_terminal_hides() {
        for c in [
            '\n', '\u{7}', '\u{ad}', '\u{200b}', '\u{202e}', '\u{2067}', '\u{feff}', '\u{2060}',
        ] {
            assert!(invisible(c), "{c:?}");
        }
        for c in ['a', 'é', ' ', '–', '✓'] {
            assert!(!invisible(c), "{c:?}");
        }
    }

    #[test]
    fn verdicts_are_told_in_words() {
        assert_eq!(verdict_words("c1", Verdict::Accept, None, None), "c1: accepted");
        assert_eq!(
            verdict_words("c1", Verdict::Reject, Some("lung_count"), Some("wrong side")),
            "c1 flag lung_count: flag dismissed: a false alarm (wrong side)"
        );
        let d = Done {
            did: Did::Signed {
                record: PathBuf::from("reviews/v1/a.record.json"),
                meaning: "approved".into(),
            },
            seq: 4,
            hash: "h".into(),
        };
        assert_eq!(d.said(), "signed \"approved\": record reviews/v1/a.record.json");
    }

    #[test]
    fn a_flag_list_says_when_there_is_none() {
        let e = ActionError::NoSuchFlag {
            case: "c2".into(),
            rule: "x".into(),
            known: vec![],
        };
        assert_eq!(e.to_string(), "flag=x: c2 has no such flag (it has none)");
        let e = ActionError::NoSuchFlag {
            case: "c2".into(),
            rule: "x".into(),
            known: vec!["a".into(), "b".into()],
        };
        assert_eq!(e.to_string(), "flag=x: c2 has no such flag (its flags: a, b)");
    }
}
