//! Review mode (`lightbox review`): one-key verdicts that record and advance to the next required
//! case, reject reasons on the number keys, notes, undo, and signing. The app holds a mirror of
//! the journal's state; the journal itself lives on its own thread, which appends and fsyncs each
//! action and answers with the new state — only then does the action show as recorded.

use super::action::ReviewAction;
use super::app::{App, Effect, Overlay, PromptKind};
use crate::review::{Plan, Progress, State, Verdict};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
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
    /// Reject was pressed: the number keys pick a reason.
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
    /// The flag key chose one of the case's flags: the next verdict is on that flag (its rule id).
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

/// Review mode's part of the app: verdicts, notes, undo and signing become journal actions
/// ([`Effect::Review`]); the journal's replies update the mirror.
impl App {
    /// Enter review mode: the plan's required cases first, in plan order, then the rest; the
    /// first unreviewed required case on screen.
    pub fn start_review(&mut self, mode: ReviewMode) {
        let order = mode.plan.review_order(&self.pack, mode.blind_seed);
        if mode.blind_seed.is_some() {
            // blind: the run's name and scores hidden (the plan shuffled the order)
            self.style.scores = false;
        }
        self.review_order = Some(order.clone());
        self.order = order;
        self.pos = self
            .order
            .iter()
            .position(|&c| {
                let id = &self.pack.cases[c].id.0;
                mode.required(id) && !mode.state.reviewed(id)
            })
            .unwrap_or(0);
        self.show_details = false;
        self.review = Some(mode);
        // the verdict keys are under the image; the help has the rest
        let help = self.key_or(super::action::Action::Help, "");
        self.say(if help.is_empty() {
            "review started".to_string()
        } else {
            format!("review started · {help} lists every key")
        });
    }

    /// Seconds the current case has been on screen.
    pub(crate) fn seconds_on_screen(&self) -> f64 {
        match (self.review.as_ref().and_then(|r| r.on_screen), self.case()) {
            (Some((c, since)), Some(now)) if c == now => since.elapsed().as_secs_f64(),
            _ => 0.0,
        }
    }

    /// A verdict on the current case: sent to the journal, then on to the next required case.
    pub fn give_verdict(&mut self, verdict: crate::review::Verdict, reason: Option<String>) {
        let Some(c) = self.case() else { return };
        let case = self.pack.cases[c].id.0.clone();
        let seconds = (self.seconds_on_screen() * 10.0).round() / 10.0;
        let Some(r) = self.review.as_mut() else { return };
        r.choosing_reason = false;
        r.pending += 1;
        let flag = r.flag.take();
        let on_flag = flag.is_some();
        self.effects
            .push(Effect::Review(ReviewCmd::Record(crate::review::Event::Verdict {
                case: case.clone(),
                verdict,
                flag,
                reason,
                note: None,
                seconds,
            })));
        // a verdict on one flag stays on the case: the case still needs its own verdict
        if on_flag {
            return;
        }
        // advance to the next required case without a verdict (this one counts as done)
        let n = self.order.len();
        let next = (1..n).map(|d| (self.pos + d) % n).find(|&p| {
            let id = &self.pack.cases[self.order[p]].id.0;
            id != &case && r.required(id) && r.state.case_verdict(id).is_none()
        });
        if let Some(p) = next {
            self.pos = p;
            self.selected = None;
            // the next case is seen first: its image, not the details in its place
            self.details_instead = false;
        }
    }

    /// Review mode's part of a key press, before the dashboard's keymap: while a reject waits
    /// for its reason, the number keys pick it and any other key cancels it; `esc` takes a chosen
    /// flag back; then the keymap's review layer. `true` when the key was taken.
    pub fn review_key(&mut self, k: KeyEvent) -> bool {
        use crate::review::Verdict;
        let Some(r) = self.review.as_mut() else { return false };
        if r.choosing_reason {
            r.choosing_reason = false;
            let plain = !k.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
            if let KeyCode::Char(c) = k.code
                && plain
                && let Some(d) = c.to_digit(10)
                && let Some(reason) = r.reasons.get((d as usize).wrapping_sub(1)).cloned()
            {
                self.give_verdict(Verdict::Reject, Some(reason));
                return true;
            }
            self.say("reject cancelled: nothing recorded");
            // quitting still quits; every other key only cancels
            return self.config.keymap.action(&k) != Some(super::action::Action::Quit);
        }
        if k.code == KeyCode::Esc && r.flag.take().is_some() {
            self.say("verdicts apply to the whole case");
            return true;
        }
        match self.config.keymap.review_action(&k) {
            Some(a) => {
                self.review_action(a);
                true
            }
            None => false,
        }
    }

    /// A review action (from the keymap's review layer).
    pub fn review_action(&mut self, action: ReviewAction) {
        use crate::review::Verdict;
        let key = |a: ReviewAction| self.config.keymap.review_key(a);
        let (reject_key, accept_key, flag_key) = (
            key(ReviewAction::Reject),
            key(ReviewAction::Accept),
            key(ReviewAction::Flag),
        );
        let Some(r) = self.review.as_mut() else { return };
        match action {
            ReviewAction::Accept => self.give_verdict(Verdict::Accept, None),
            ReviewAction::Unsure => self.give_verdict(Verdict::Unsure, None),
            ReviewAction::Reject => {
                r.choosing_reason = true;
                let list: Vec<String> = r
                    .reasons
                    .iter()
                    .enumerate()
                    .map(|(i, x)| format!("{} {x}", i + 1))
                    .collect();
                self.say(format!("reject because: {} (esc cancels)", list.join(" · ")));
            }
            ReviewAction::Flag => {
                // the next flag of this case (input, ground truth or this run), then none
                let rules: Vec<(String, String)> = self
                    .case()
                    .map(|c| {
                        self.case_flags(c)
                            .map(|f| (f.rule.clone(), f.message.clone()))
                            .collect()
                    })
                    .unwrap_or_default();
                let Some(r) = self.review.as_mut() else { return };
                let next = match &r.flag {
                    None => rules.first(),
                    Some(cur) => rules
                        .iter()
                        .position(|(id, _)| id == cur)
                        .and_then(|i| rules.get(i + 1)),
                };
                match next {
                    Some((id, msg)) => {
                        r.flag = Some(id.clone());
                        // the keys first: they must be read; the sentence is in the details too
                        let text = format!(
                            "flag {id}: {accept_key} real error · {reject_key} false alarm · {flag_key} next · esc whole case — {msg}"
                        );
                        self.say(text);
                    }
                    None => {
                        r.flag = None;
                        self.say(if rules.is_empty() {
                            "this case has no flags"
                        } else {
                            "verdicts apply to the whole case"
                        });
                    }
                }
            }
            ReviewAction::Undo => {
                // back to the case whose verdict is taken back
                let last = r.state.undoable.last().copied();
                let case = last.and_then(|seq| {
                    r.state
                        .verdicts
                        .iter()
                        .find(|(_, g)| g.seq == seq)
                        .map(|((c, _), _)| c.clone())
                });
                r.pending += 1;
                self.effects.push(Effect::Review(ReviewCmd::Undo));
                if let Some(case) = case
                    && let Some(p) = self.order.iter().position(|&k| self.pack.cases[k].id.0 == case)
                {
                    self.pos = p;
                    self.selected = None;
                }
            }
            ReviewAction::Note => {
                self.overlay = Overlay::Prompt {
                    kind: PromptKind::Note,
                    input: String::new(),
                }
            }
            ReviewAction::Sign => {
                self.overlay = Overlay::Prompt {
                    kind: PromptKind::Sign,
                    input: String::new(),
                }
            }
        }
    }

    /// The review keys in force, as the hint line shows them: `a accept · r reject · …`; with a
    /// flag chosen, what they mean for it.
    pub fn review_hints(&self) -> Vec<(String, &'static str)> {
        let key = |a: ReviewAction| self.config.keymap.review_key(a);
        if self.review.as_ref().is_some_and(|r| r.flag.is_some()) {
            return vec![
                (key(ReviewAction::Accept), "real error"),
                (key(ReviewAction::Reject), "false alarm"),
                (key(ReviewAction::Flag), "next flag"),
                ("esc".to_string(), "whole case"),
            ];
        }
        ReviewAction::ALL
            .iter()
            .filter(|(a, _, _)| *a != ReviewAction::Flag)
            .map(|(a, name, _)| (self.config.keymap.review_key(*a), *name))
            .collect()
    }

    /// A note typed at the prompt.
    pub fn review_note(&mut self, text: &str) {
        let (Some(c), Some(r)) = (self.case(), self.review.as_mut()) else {
            return;
        };
        if text.trim().is_empty() {
            return;
        }
        r.pending += 1;
        self.effects
            .push(Effect::Review(ReviewCmd::Record(crate::review::Event::Note {
                case: self.pack.cases[c].id.0.clone(),
                text: text.trim().to_string(),
            })));
    }

    /// The sign prompt: `approve` or `reject`, and an override reason if required cases are open.
    /// Approving with rejected or unsure cases asks for a confirmation that lists them first.
    pub fn review_sign(&mut self, line: &str) {
        let Some(r) = self.review.as_mut() else { return };
        let line = line.trim();
        let (word, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let approve = match word {
            "approve" => true,
            "reject" => false,
            _ => {
                self.warn("not signed: type approve or reject (then, if required cases are open, why)");
                return;
            }
        };
        let override_reason = (!rest.trim().is_empty()).then(|| rest.trim().to_string());
        let noted = crate::review::record::noted_cases(&r.state);
        if approve && !noted.is_empty() {
            let meaning = crate::review::record::approval_meaning_of(&noted);
            let list: Vec<String> = noted.iter().map(|n| n.describe()).collect();
            self.overlay = Overlay::Prompt {
                kind: PromptKind::ConfirmApproval {
                    noted: noted.len(),
                    override_reason,
                    question: format!("type approve to sign \"{meaning}\", esc cancels · {}", list.join(", ")),
                },
                input: String::new(),
            };
            return;
        }
        self.send_sign(approve, override_reason, None);
    }

    /// The answer to the approval confirmation.
    pub fn review_confirm(&mut self, line: &str, noted: usize, override_reason: Option<String>) {
        if line.trim() == "approve" {
            self.send_sign(true, override_reason, Some(noted));
        } else {
            self.warn("not signed: type approve to confirm, or esc");
        }
    }

    pub(crate) fn send_sign(&mut self, approve: bool, override_reason: Option<String>, noted: Option<usize>) {
        let Some(r) = self.review.as_mut() else { return };
        r.pending += 1;
        let threshold = self.style.score_threshold;
        self.effects
            .push(Effect::Review(ReviewCmd::Sign(crate::review::action::SignRequest {
                approve,
                override_reason,
                noted,
                threshold,
            })));
    }

    /// The journal's answer.
    pub fn review_reply(&mut self, reply: ReviewReply) {
        let Some(r) = self.review.as_mut() else { return };
        r.pending = r.pending.saturating_sub(1);
        match reply {
            ReviewReply::Recorded { state, progress, done } => {
                use crate::review::action::Did;
                r.state = *state;
                r.progress = progress;
                let said = done.said();
                if matches!(done.did, Did::Signed { .. }) {
                    r.signed = Some(said.clone());
                }
                // a display being recorded is not news
                if !matches!(done.did, Did::Shown { .. }) {
                    self.say(format!("✓ recorded {said}"));
                }
            }
            ReviewReply::Failed(e) => self.warn(format!("NOT recorded: {e}")),
        }
    }

    /// The image the terminal was sent for the current case is one it draws: the frame is the
    /// one wanted now (same case, views and pane size) and no larger than the terminal's
    /// largest graphic. Only then does a review record the case as shown.
    pub fn image_drawn(&self) -> bool {
        let (Some(fr), Some(want)) = (self.frame.as_ref(), self.frame_key()) else {
            return false;
        };
        // the details are in the image's place (narrow terminals): it is not on screen
        if self.details_instead && self.narrow() {
            return false;
        }
        fr.key == want
            && fr.data.image.is_ok()
            && !fr.bands.is_empty()
            && super::graphic_limit::accepted(fr.panel_pixels(), self.max_graphic)
    }

    /// The current case's image is on screen: note the time, and record the display once.
    pub fn review_displayed(&mut self, case: usize) {
        let id = self.pack.cases[case].id.0.clone();
        let Some(r) = self.review.as_mut() else { return };
        if r.on_screen.is_none_or(|(c, _)| c != case) {
            r.on_screen = Some((case, std::time::Instant::now()));
        }
        if r.shown_sent.insert(id.clone()) {
            r.pending += 1;
            self.effects
                .push(Effect::Review(ReviewCmd::Record(crate::review::Event::Shown {
                    case: id,
                })));
        }
    }
}
