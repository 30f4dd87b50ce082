//! Two runs side by side and compare mode (`:compare NAME`): which run is the baseline, which
//! the candidate, flipping them, and the per-case measures that set one against the other.

use super::*;

/// The second run the dashboard shows, and in what role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    /// run | run: this run beside the one shown.
    Beside(usize),
    /// Compare mode (`:compare NAME`): the baseline and the candidate; whichever is not shown is
    /// beside the one shown.
    Mode { baseline: usize, candidate: usize },
}

impl Compare {
    /// The same comparison in another pack (after a reload), through `index` from old run
    /// indices to new ones; `None` when a run is gone.
    pub fn remap(self, index: impl Fn(usize) -> Option<usize>) -> Option<Compare> {
        match self {
            Compare::Beside(b) => index(b).map(Compare::Beside),
            Compare::Mode { baseline, candidate } => Some(Compare::Mode {
                baseline: index(baseline)?,
                candidate: index(candidate)?,
            }),
        }
    }
}

impl App {
    /// The run shown beside the current one, if one was chosen.
    pub fn beside(&self) -> Option<usize> {
        match self.compare? {
            Compare::Beside(b) => Some(b),
            Compare::Mode { baseline, candidate } => Some(if self.run == Some(candidate) {
                baseline
            } else {
                candidate
            }),
        }
    }

    /// Compare mode's (baseline, candidate), when it is on.
    pub fn compare_pair(&self) -> Option<(usize, usize)> {
        match self.compare? {
            Compare::Mode { baseline, candidate } => Some((baseline, candidate)),
            Compare::Beside(_) => None,
        }
    }

    /// (baseline, candidate): compare mode's pair, else the run shown against the other run
    /// (the one on the right side by side, or the next one).
    pub fn pair(&self) -> Option<(usize, usize)> {
        if let Some(p) = self.compare_pair() {
            return Some(p);
        }
        let r = self.run?;
        let n = self.pack.runs.len();
        let b = self.beside().filter(|&b| b != r).unwrap_or((r + 1) % n.max(1));
        (n >= 2 && b != r).then_some((b, r))
    }

    pub(crate) fn disagreement_key(&self) -> Option<DisagreementKey> {
        let (b, c) = self.pair()?;
        Some((
            self.pack_epoch,
            b,
            c,
            (self.style.score_threshold * 1000.0).round() as u32,
        ))
    }

    /// Take a background disagreement computation (dropped when it is for another pack/pair).
    pub fn set_disagreement(&mut self, key: DisagreementKey, values: Arc<Vec<Option<f64>>>) {
        if key.0 == self.pack_epoch {
            self.disagreement = Some((key, values));
            if self.sort == SortKey::Disagreement {
                self.refresh_order();
                self.say("sorted by disagreement");
            }
        }
    }

    /// Take a background entropy computation.
    pub fn set_entropy(&mut self, epoch: u64, run: usize, values: Arc<Vec<Option<f64>>>) {
        if epoch == self.pack_epoch {
            let none = values.iter().all(Option::is_none);
            self.entropy = Some(((epoch, run), values));
            if self.sort == SortKey::Entropy {
                self.refresh_order();
                if none {
                    self.caution("this run has no probability maps: nothing to sort by entropy");
                } else {
                    self.say("sorted by entropy");
                }
            }
        }
    }

    /// In compare mode, whether a flag is new in the candidate or fixed by it (no flag of the
    /// same rule on the case in the other run).
    pub fn flag_change(&self, f: &crate::rules::Flag) -> Option<&'static str> {
        use crate::pack::Source;
        let (b, c) = self.compare_pair()?;
        let other = match f.source {
            Some(Source::Run(r)) if r == c => b,
            Some(Source::Run(r)) if r == b => c,
            _ => return None,
        };
        let in_other = self
            .flags
            .iter()
            .any(|g| g.case == f.case && g.rule == f.rule && g.source == Some(Source::Run(other)));
        match (in_other, f.source == Some(Source::Run(c))) {
            (true, _) => None,
            (false, true) => Some("new"),
            (false, false) => Some("fixed"),
        }
    }

    /// `:compare NAME`: compare mode — the run shown (the candidate) against NAME (the
    /// baseline), side by side, regressions first; `A` flips which run is where.
    pub fn start_compare(&mut self, baseline: &str) {
        if baseline.is_empty() {
            self.compare = None;
            self.regression = None;
            if self.layout == Layout::RunRun {
                self.layout = Layout::Single;
            }
            if self.sort == SortKey::Regression {
                self.sort = SortKey::Case;
            }
            self.refresh_order();
            self.say("compare mode off");
            return;
        }
        let b = match self.pack.run_index(baseline) {
            Ok(b) => b,
            Err(e) => return self.warn(e.to_string()),
        };
        let c = match self.run {
            Some(r) if r != b => r,
            _ => match (0..self.pack.runs.len()).find(|&r| r != b) {
                Some(r) => r,
                None => return self.warn("compare needs a second run to set against the baseline"),
            },
        };
        self.compare = Some(Compare::Mode {
            baseline: b,
            candidate: c,
        });
        self.run = Some(c);
        self.layout = Layout::RunRun;
        self.sort = SortKey::Regression;
        self.refresh_order();
        self.pos = 0;
        self.say(format!(
            "compare: {} against {} — regressions first · A flips the runs · :compare alone ends it",
            self.pack.runs[c].name.0, self.pack.runs[b].name.0
        ));
    }

    /// `A`: swap the two runs in place (same case, zoom and window): side by side they change
    /// sides; alone, the other run is shown.
    pub fn flip_runs(&mut self) {
        let Some((b, c)) = self.pair() else {
            return self.warn("nothing to flip: :compare NAME sets a baseline against the run shown");
        };
        let shown = self.run.unwrap_or(c);
        let other = if shown == c { b } else { c };
        self.run = Some(other);
        // in compare mode the run not shown is beside the one shown already
        if self.compare_pair().is_none() {
            self.compare = Some(Compare::Beside(shown));
        }
        self.selected = None;
        let role = if other == c { "candidate" } else { "baseline" };
        self.say(format!(
            "showing {} ({role}) · A flips back",
            self.pack.runs[other].name.0
        ));
    }
}
