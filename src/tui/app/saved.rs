//! Saved views: the dashboard's state as a [`SavedView`], restoring one, `:view`, and asking
//! for the last view to be written whenever it changes (see [`crate::tui::saved_view`]).

use super::*;
use crate::tui::saved_view::{Change, SavedView};

impl Layout {
    pub fn name(self) -> &'static str {
        match self {
            Layout::Single => "single",
            Layout::GtRun => "gt-run",
            Layout::RunRun => "run-run",
        }
    }

    pub fn from_name(name: &str) -> Option<Layout> {
        [Layout::Single, Layout::GtRun, Layout::RunRun]
            .into_iter()
            .find(|l| l.name() == name)
    }
}

impl App {
    /// The view on screen, by names.
    pub fn saved_view(&self) -> SavedView {
        let name = |r: usize| self.pack.runs.get(r).map(|x| x.name.0.clone());
        SavedView {
            run: self.run.and_then(name),
            compare: self.compare_pair().and_then(|(b, _)| name(b)),
            beside: match self.compare {
                Some(Compare::Beside(b)) => name(b),
                _ => None,
            },
            layout: (self.layout != Layout::Single).then(|| self.layout.name().to_string()),
            errors: self.error_view,
            filter: self.filter.as_ref().map(|(t, _)| t.clone()),
            sort: (self.sort != SortKey::Case).then(|| self.sort.name().to_string()),
            threshold: Some(self.style.score_threshold),
            case: self.case().map(|c| self.pack.cases[c].id.0.clone()),
        }
    }

    /// Put the dashboard in the view `v`. `run`, `threshold` and `case` left out stay as they
    /// are; the rest left out is the default (no comparison, one panel, no filter, pack order).
    /// Returns what could not be restored, in words (a run or case the pack no longer has, a
    /// filter that no longer parses); the rest is restored all the same.
    pub fn restore_view(&mut self, v: &SavedView) -> Vec<String> {
        let mut missed = Vec::new();
        let current = self.case();
        let run_named = |name: &Option<String>, what: &str, missed: &mut Vec<String>| {
            let n = name.as_ref()?;
            match self.pack.run_index(n) {
                Ok(r) => Some(r),
                Err(_) => {
                    missed.push(format!("{what} {n:?} (no such run now)"));
                    None
                }
            }
        };
        if let Some(r) = run_named(&v.run, "run", &mut missed) {
            self.run = Some(r);
        }
        self.compare = None;
        self.regression = None;
        match (
            run_named(&v.compare, "compare against", &mut missed),
            run_named(&v.beside, "the run beside", &mut missed),
        ) {
            (Some(b), _) => match self.run {
                Some(c) if c != b => {
                    self.compare = Some(Compare::Mode {
                        baseline: b,
                        candidate: c,
                    })
                }
                _ => missed.push(format!(
                    "compare against {:?} (it is the run shown)",
                    v.compare.as_deref().unwrap_or("")
                )),
            },
            (None, Some(b)) if Some(b) != self.run => self.compare = Some(Compare::Beside(b)),
            _ => {}
        }
        self.layout = match v.layout.as_deref().map(|l| (l, Layout::from_name(l))) {
            None => Layout::Single,
            Some((_, Some(Layout::GtRun))) if self.run.is_some() => Layout::GtRun,
            Some((_, Some(Layout::RunRun))) if self.pack.runs.len() >= 2 && self.run.is_some() => Layout::RunRun,
            Some((_, Some(Layout::Single))) => Layout::Single,
            Some((l, _)) => {
                missed.push(format!("layout {l:?}"));
                Layout::Single
            }
        };
        self.error_view = v.errors && self.run.is_some();
        if let Some(t) = v.threshold {
            if t.is_finite() && (0.0..=1.0).contains(&t) {
                self.style.score_threshold = t;
            } else {
                missed.push(format!("threshold {t} (not from 0 to 1)"));
            }
        }
        self.filter = None;
        if let Some(text) = v.filter.as_deref().filter(|t| !t.trim().is_empty()) {
            match query::parse(text, &self.pack) {
                Ok(e) => self.filter = Some((text.trim().to_string(), e)),
                Err(e) => missed.push(format!("filter {text:?}: {e}")),
            }
        }
        self.selected = None;
        let sort = match v.sort.as_deref() {
            None => Some(SortKey::Case),
            Some(name) => match SortKey::ALL.iter().find(|k| k.name() == name) {
                Some(SortKey::Review) => {
                    missed.push("sort review (for a review session)".to_string());
                    Some(SortKey::Case)
                }
                Some(SortKey::Regression) if self.pair().is_none() => {
                    missed.push("sort regression (it needs two runs)".to_string());
                    Some(SortKey::Case)
                }
                Some(k) => Some(*k),
                None => {
                    missed.push(format!("sort {name:?} (no such sort key)"));
                    Some(SortKey::Case)
                }
            },
        };
        // set_sort starts what a background sort key needs (disagreement, entropy)
        let notice = self.notice.clone();
        self.set_sort(sort.unwrap_or(SortKey::Case));
        self.notice = notice;
        let case = match &v.case {
            Some(id) => match self.pack.cases.iter().position(|c| &c.id.0 == id) {
                Some(c) => Some(c),
                None => {
                    missed.push(format!("case {id:?} (not in the pack now)"));
                    None
                }
            },
            None => current,
        };
        // the case, when the list still has it (else the top of the list)
        if let Some(p) = case.and_then(|c| self.order.iter().position(|&x| x == c)) {
            self.pos = p;
        }
        self.pixel_cursor = None;
        missed
    }

    /// The view in words, for the status bar: what differs from a fresh dashboard.
    pub fn describe_view(&self, v: &SavedView) -> String {
        let mut parts = Vec::new();
        if let Some(r) = &v.run {
            parts.push(format!("run {r}"));
        }
        if let Some(b) = &v.compare {
            parts.push(format!("compared with {b}"));
        } else if let Some(b) = &v.beside {
            parts.push(format!("{b} beside"));
        }
        if v.errors {
            parts.push("errors".to_string());
        }
        if let Some(f) = &v.filter {
            parts.push(format!(
                "filter {f} ({} of {})",
                self.order.len(),
                self.pack.cases.len()
            ));
        }
        if let Some(s) = &v.sort {
            parts.push(format!("sort {s}"));
        }
        let default = self.default_view.as_ref().and_then(|d| d.threshold);
        if let Some(t) = v.threshold.filter(|t| default.is_none_or(|d| (t - d).abs() > 1e-9)) {
            parts.push(format!("threshold {t:.2}"));
        }
        if let Some(c) = &v.case {
            parts.push(format!("at {c}"));
        }
        parts.join(" · ")
    }

    /// Open the view the pack was closed with (at start); says so in the status bar.
    pub fn restore_last_view(&mut self) {
        self.default_view = Some(SavedView {
            case: None,
            ..self.saved_view()
        });
        if let Some(v) = self.saved_views.last.clone() {
            // the status bar shows the run, filter and sort restored; the notice says so
            let missed = self.restore_view(&v);
            let reset = ":view reset for the default";
            if missed.is_empty() {
                self.say(format!("opened as you left it · {reset}"));
            } else {
                self.caution(format!(
                    "opened as you left it, but for {} · {reset}",
                    missed.join("; ")
                ));
            }
        }
        self.last_view = Some(self.saved_view());
    }

    /// Whether views are kept: a pack with a folder, outside a review session (a sign-off's
    /// order is the plan's, and a blind review must not show run names).
    fn keeps_views(&self) -> bool {
        self.saved_views.path.is_some() && self.review.is_none()
    }

    /// Ask for the last view to be written when it changed since the last time.
    pub(super) fn note_view_change(&mut self) {
        if !self.keeps_views() || self.last_view.is_none() {
            return;
        }
        let v = self.saved_view();
        if self.last_view.as_ref() != Some(&v) {
            self.last_view = Some(v.clone());
            self.effects.push(Effect::SaveView(Change::Last(v)));
        }
    }

    /// `:view` — list the named views; `:view NAME` opens one; `:view save NAME`,
    /// `:view delete NAME`; `:view reset`: the default view.
    pub(crate) fn view_command(&mut self, arg: &str) {
        if self.review.is_some() {
            return self.warn("views are not kept in a review session: its order is the sign-off plan's");
        }
        let words: Vec<&str> = arg.split_whitespace().collect();
        match words.as_slice() {
            [] if self.saved_views.named.is_empty() => self.say("no saved views: :view save NAME keeps this one"),
            [] => {
                let names: Vec<&str> = self.saved_views.named.keys().map(String::as_str).collect();
                self.say(format!(
                    "views: {} · :view NAME opens one, :view save NAME keeps this one",
                    names.join(", ")
                ))
            }
            ["reset"] => {
                let v = self.default_view.clone().unwrap_or_default();
                let missed = self.restore_view(&v);
                if missed.is_empty() {
                    self.say("the default view");
                } else {
                    self.caution(format!("the default view; not restored: {}", missed.join("; ")));
                }
            }
            ["save", name] | ["delete", name] if !crate::tui::saved_view::valid_name(name) => self.warn(format!(
                "{name:?} is not a view name: one word of letters, digits, -, _ or ."
            )),
            [_, _] if !self.keeps_views() => self.warn("this pack has no folder: views cannot be kept"),
            ["save", name] => {
                let v = self.saved_view();
                let what = self.describe_view(&v);
                self.saved_views.named.insert(name.to_string(), v.clone());
                self.effects.push(Effect::SaveView(Change::Save(name.to_string(), v)));
                self.say(format!("view {name} saved: {what}"));
            }
            ["delete", name] => {
                if self.saved_views.named.remove(*name).is_some() {
                    self.effects.push(Effect::SaveView(Change::Delete(name.to_string())));
                    self.say(format!("view {name} deleted"));
                } else {
                    self.warn(format!("no view named {name:?}"));
                }
            }
            [name] => match self.saved_views.named.get(*name).cloned() {
                Some(v) => {
                    let missed = self.restore_view(&v);
                    let what = self.describe_view(&v);
                    if missed.is_empty() {
                        self.say(format!("view {name}: {what}"));
                    } else {
                        self.caution(format!("view {name}: {what}; not restored: {}", missed.join("; ")));
                    }
                }
                None => {
                    let names: Vec<&str> = self.saved_views.named.keys().map(String::as_str).collect();
                    self.warn(format!(
                        "no view named {name:?} (views: {})",
                        if names.is_empty() {
                            "none".to_string()
                        } else {
                            names.join(", ")
                        }
                    ))
                }
            },
            _ => self.warn("view takes NAME, save NAME, delete NAME or reset"),
        }
    }
}
