//! The triage queue: the case list filtered (`/`) and sorted (`s`), and moving through it.

use super::*;

/// Keys for sorting the case list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// Pack order.
    Case,
    /// Highest prediction score first.
    MaxScore,
    /// Scores nearest the threshold first (most uncertain).
    Uncertain,
    /// Most predictions first.
    Predictions,
    /// Cases with problems first (errors before warnings).
    Problems,
    /// Flagged cases first, by severity.
    Flags,
    /// Worst errors first: false positives + misses at the score threshold, plus Σ(1 − Dice).
    Error,
    /// Compare mode: how much worse the candidate is than the baseline (`lightbox diff`'s
    /// ranking: error change plus the weight of new flags minus fixed ones), worst first.
    Regression,
    /// Where two runs disagree most (unmatched predictions, 1 − IoU of matched ones and of
    /// label masks); computed in the background.
    Disagreement,
    /// Highest mean entropy of the run's probability maps first; computed in the background.
    Entropy,
    /// Most out-of-distribution inputs first (the largest robust z-score of a flagged input).
    Ood,
    /// Review session: what still needs a verdict first — required and open, then unsure,
    /// rejected, other open cases, accepted.
    Review,
}
impl SortKey {
    pub const ALL: [SortKey; 12] = [
        SortKey::Case,
        SortKey::MaxScore,
        SortKey::Uncertain,
        SortKey::Predictions,
        SortKey::Problems,
        SortKey::Flags,
        SortKey::Error,
        SortKey::Regression,
        SortKey::Disagreement,
        SortKey::Entropy,
        SortKey::Ood,
        SortKey::Review,
    ];

    /// The key that picks it in the sort menu: 1–9, then a, b, ...
    pub fn menu_key(i: usize) -> char {
        if i < 9 {
            char::from(b'1' + i as u8)
        } else {
            char::from(b'a' + (i - 9) as u8)
        }
    }

    /// The sort key a menu key picks.
    pub fn from_menu_key(c: char) -> Option<SortKey> {
        let i = match c {
            '1'..='9' => c as usize - '1' as usize,
            'a'..='z' => 9 + (c as usize - 'a' as usize),
            _ => return None,
        };
        SortKey::ALL.get(i).copied()
    }

    pub fn name(&self) -> &'static str {
        match self {
            SortKey::Case => "case",
            SortKey::MaxScore => "max score",
            SortKey::Uncertain => "uncertain",
            SortKey::Predictions => "predictions",
            SortKey::Problems => "problems",
            SortKey::Flags => "flags",
            SortKey::Error => "error",
            SortKey::Regression => "regression",
            SortKey::Disagreement => "disagreement",
            SortKey::Entropy => "entropy",
            SortKey::Ood => "ood",
            SortKey::Review => "review",
        }
    }
}

impl App {
    /// Rebuild the queue after a filter or sort change, keeping the current case when it stays.
    pub fn refresh_order(&mut self) {
        let current = self.case();
        if self.sort == SortKey::Regression {
            self.regression = self.pair().and_then(|(b, c)| {
                let (rb, rc) = (self.metrics.get(b)?.as_ref()?, self.metrics.get(c)?.as_ref()?);
                let d = crate::compare::diff_reports(&self.pack, b, c, rb, rc, &self.flags);
                let mut v = vec![0.0; self.pack.cases.len()];
                for x in &d.cases {
                    v[x.index] = x.worse_by;
                }
                Some(v)
            });
        }
        let review_state = self.review.as_ref().map(|r| &r.state);
        let verdict = move |id: &str| review_state.and_then(|s| s.case_verdict(id)).map(|g| g.verdict);
        let ctx = Ctx {
            pack: &self.pack,
            run: self.run,
            problems: &self.problems,
            flags: &self.flags,
            workspace: Some(&self.workspace),
            verdicts: self.review.is_some().then_some(&verdict as &crate::query::VerdictOf),
        };
        // the base order: the pack's, or in a review session the plan's (required cases first)
        let base: Vec<usize> = match &self.review_order {
            Some(o) if self.review.is_some() => o.clone(),
            _ => (0..self.pack.cases.len()).collect(),
        };
        let mut order: Vec<usize> = base
            .into_iter()
            .filter(|&c| self.filter.as_ref().is_none_or(|(_, e)| e.matches(&ctx, c)))
            .collect();
        let key = |c: usize| -> f64 { self.sort_value(c).unwrap_or(f64::NEG_INFINITY) };
        if self.sort != SortKey::Case {
            // stable: ties keep the base order
            order.sort_by(|&a, &b| key(b).partial_cmp(&key(a)).unwrap_or(std::cmp::Ordering::Equal));
        }
        self.order = order;
        self.pos = current
            .and_then(|c| self.order.iter().position(|&x| x == c))
            .unwrap_or(0);
        self.selected = None;
    }

    /// The active sort key's value for a case (larger sorts first), as shown in the list.
    pub fn sort_value(&self, c: usize) -> Option<f64> {
        let preds = self.run.map(|r| &self.pack.runs[r].annotations[c].instances);
        match self.sort {
            SortKey::Case => None,
            SortKey::MaxScore => preds?.iter().filter_map(|i| i.score).reduce(f64::max),
            SortKey::Uncertain => {
                let t = if self.style.score_threshold > 0.0 {
                    self.style.score_threshold
                } else {
                    0.5
                };
                preds?
                    .iter()
                    .filter_map(|i| i.score)
                    .map(|s| -(s - t).abs())
                    .reduce(f64::max)
            }
            SortKey::Predictions => Some(preds?.len() as f64),
            SortKey::Problems => {
                let (e, w) = self.problem_counts[c];
                Some(e as f64 * 1000.0 + w as f64)
            }
            SortKey::Error => self.case_error(c),
            SortKey::Flags => Some(
                self.case_flags(c)
                    .map(|f| match f.severity {
                        crate::rules::Severity::Critical => 10000.0,
                        crate::rules::Severity::Major => 100.0,
                        crate::rules::Severity::Minor => 1.0,
                    })
                    .sum(),
            ),
            SortKey::Regression => self.regression.as_ref()?.get(c).copied(),
            SortKey::Disagreement => {
                let (key, v) = self.disagreement.as_ref()?;
                (Some(*key) == self.disagreement_key()).then_some(())?;
                *v.get(c)?
            }
            SortKey::Entropy => {
                let ((epoch, run), v) = self.entropy.as_ref()?;
                (*epoch == self.pack_epoch && Some(*run) == self.run).then_some(())?;
                *v.get(c)?
            }
            SortKey::Review => {
                let r = self.review.as_ref()?;
                let id = &self.pack.cases[c].id.0;
                Some(match r.state.case_verdict(id).map(|g| g.verdict) {
                    None if r.required(id) => 4.0,
                    Some(crate::review::Verdict::Unsure) => 3.0,
                    Some(crate::review::Verdict::Reject) => 2.0,
                    None => 1.0,
                    Some(crate::review::Verdict::Accept) => 0.0,
                })
            }
            SortKey::Ood => self
                .flags
                .iter()
                .filter(|f| f.case == c && f.rule == crate::check::OOD_RULE && f.source.is_none())
                .map(|f| f.value)
                .reduce(f64::max),
        }
    }

    pub(crate) fn move_to(&mut self, pos: usize) {
        if self.order.is_empty() {
            return;
        }
        let pos = pos.min(self.order.len() - 1);
        if pos != self.pos {
            self.pos = pos;
            self.selected = None;
            self.pixel_cursor = self.pixel_cursor.map(|_| self.image_center());
        }
    }

    pub fn set_filter(&mut self, text: &str) {
        if text.trim().is_empty() {
            self.filter = None;
            self.refresh_order();
            return;
        }
        match query::parse(text, &self.pack) {
            Ok(e) => {
                let unknown = self.unknown_rules(&e);
                self.filter = Some((text.trim().to_string(), e));
                self.refresh_order();
                let matched = format!("{} of {} cases match", self.order.len(), self.pack.cases.len());
                match (unknown.first(), &self.rule_ids) {
                    (Some(r), Some(ids)) => {
                        self.warn(format!("{matched}: no rule named {r:?} (rules: {})", ids.join(", ")))
                    }
                    _ => self.say(matched),
                }
            }
            Err(e) => self.warn(format!("filter: {e}")),
        }
    }

    pub fn set_sort(&mut self, key: SortKey) {
        self.sort = key;
        self.refresh_order();
        // a new order starts at its top (the worst case first), not where the old one was
        self.pos = 0;
        let pending = match key {
            SortKey::Disagreement => match self.disagreement_key() {
                None => return self.warn("disagreement compares two runs: this pack has fewer"),
                Some(k) if self.disagreement.as_ref().is_some_and(|(have, _)| *have == k) => false,
                Some(k) => {
                    self.effects.push(Effect::Disagreement(k));
                    true
                }
            },
            SortKey::Entropy => match self.run {
                None => {
                    let key = self.key_or(Action::CycleRun, ":run NAME");
                    return self.warn(format!(
                        "entropy is of a run's probability maps: choose a run with {key}"
                    ));
                }
                Some(r)
                    if self
                        .entropy
                        .as_ref()
                        .is_some_and(|(have, _)| *have == (self.pack_epoch, r)) =>
                {
                    false
                }
                Some(r) => {
                    self.effects.push(Effect::Entropy(self.pack_epoch, r));
                    true
                }
            },
            SortKey::Review if self.review.is_none() => {
                return self.warn("review order is for a review session (lightbox review)");
            }
            SortKey::Regression if self.pair().is_none() => {
                return self.warn("regression compares two runs: :compare NAME picks the baseline");
            }
            _ => false,
        };
        self.say(if pending {
            format!("sorting by {} (computing…)", key.name())
        } else {
            format!("sorted by {}", key.name())
        });
    }
}
