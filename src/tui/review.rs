//! Review mode (`lightbox review`): one-key verdicts that record and advance to the next required
//! case, reject reasons on the number keys, notes, undo, and signing. The app holds a mirror of
//! the journal's state; the journal itself lives on its own thread, which appends and fsyncs each
//! action and answers with the new state — only then does the action show as recorded.

use crate::review::{Plan, Progress, State, Verdict};
use std::time::Instant;

/// What the journal thread is asked to do: the review core's actions.
pub use crate::review::action::Action as ReviewCmd;

/// The journal thread's answer.
#[derive(Debug, Clone)]
pub enum ReviewReply {
    /// Recorded: the state after it, and what was done.
    Recorded {
        state: Box<State>,
        progress: Progress,
        done: crate::review::action::Done,
    },
    Failed(String),
}

/// Review-mode state in the app.
#[derive(Debug, Clone)]
pub struct ReviewMode {
    pub release: String,
    pub reviewer: String,
    pub plan: Plan,
    /// The journal's state as last acknowledged.
    pub state: State,
    pub progress: Progress,
    pub reasons: Vec<String>,
    /// `r` was pressed: the number keys pick a reason.
    pub choosing_reason: bool,
    /// Actions sent to the journal and not acknowledged yet.
    pub pending: usize,
    /// The case on screen and since when (for the time spent per case).
    pub on_screen: Option<(usize, Instant)>,
    /// Cases whose display has been recorded (or asked to be).
    pub shown_sent: std::collections::HashSet<String>,
    pub signed: Option<String>,
    /// Blind review: the run's name and scores hidden, the order shuffled with this seed.
    pub blind_seed: Option<u64>,
    /// `f` chose one of the case's flags: the next verdict is on that flag (its rule id).
    pub flag: Option<String>,
}

impl ReviewMode {
    pub fn new(
        release: String,
        reviewer: String,
        plan: Plan,
        state: State,
        progress: Progress,
        reasons: Vec<String>,
    ) -> Self {
        let shown_sent = state.shown.keys().cloned().collect();
        ReviewMode {
            release,
            reviewer,
            plan,
            state,
            progress,
            reasons,
            choosing_reason: false,
            pending: 0,
            on_screen: None,
            shown_sent,
            signed: None,
            blind_seed: None,
            flag: None,
        }
    }

    /// Whether `case` is required by the plan.
    pub fn required(&self, case: &str) -> bool {
        self.plan.required.iter().any(|r| r.case == case)
    }

    /// A short mark for the case list: ✓ accepted, ✗ rejected, ? unsure, • required and open.
    pub fn mark(&self, case: &str) -> Option<&'static str> {
        match self.state.case_verdict(case).map(|g| g.verdict) {
            Some(Verdict::Accept) => Some("✓"),
            Some(Verdict::Reject) => Some("✗"),
            Some(Verdict::Unsure) => Some("?"),
            None if self.required(case) => Some("•"),
            None => None,
        }
    }
}
