//! A reload of the pack while the dashboard is open (watch): the new pack taken in, the case
//! and run on screen kept, and what the reload brought counted for the status bar.

use super::*;

/// A reload of the pack: when, what changed, and (once the check is back) the flags it brought.
#[derive(Debug, Clone, PartialEq)]
pub struct ReloadNote {
    pub at: std::time::Instant,
    /// What changed, in words (`candidate`, `the rules`).
    pub what: String,
    /// Sources whose flags may have changed (by name).
    pub sources: Vec<String>,
    /// Flags of those sources before the reload: (case id, source, rule).
    pub before: std::collections::HashSet<(String, String, String)>,
    /// Flags of those sources after it that were not there before; `None` until checked.
    pub new_flags: Option<usize>,
    /// Flags that went away.
    pub gone_flags: Option<usize>,
}
impl ReloadNote {
    /// `candidate reloaded 2 s ago: 3 new flags`.
    pub fn text(&self, now: std::time::Instant) -> String {
        let secs = now.saturating_duration_since(self.at).as_secs();
        let ago = match secs {
            0 => "just now".to_string(),
            s if s < 90 => format!("{s} s ago"),
            s => format!("{} min ago", s / 60),
        };
        let flags = match (self.new_flags, self.gone_flags) {
            (None, _) => " · checking…".to_string(),
            (Some(0), Some(0) | None) => ": no new flags".to_string(),
            (Some(n), Some(0) | None) => format!(": {n} new flag{}", if n == 1 { "" } else { "s" }),
            (Some(n), Some(g)) => format!(": {n} new flag{}, {g} gone", if n == 1 { "" } else { "s" }),
        };
        format!("{} reloaded {ago}{flags}", self.what)
    }
}

/// The background analysis of a pack in progress: validation then the check (rules,
/// out-of-distribution), and every run's metrics.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    pub check: Arc<crate::job::Progress>,
    pub metrics: Arc<crate::job::Progress>,
}

impl App {
    /// What the background analysis is doing, while it runs: `checking: rules 2,345/10,000`.
    pub fn analysis_text(&self) -> Option<String> {
        let a = self.analysis.as_ref()?;
        if self.checked.is_none() {
            return Some(format!("checking: {}", a.check.snapshot().text()));
        }
        let pending = self.metrics_error.is_none()
            && (0..self.pack.runs.len()).any(|r| self.metrics.get(r).is_none_or(Option::is_none));
        pending.then(|| match a.metrics.snapshot() {
            s if s.stage.is_empty() => "metrics…".to_string(),
            s => s.text(),
        })
    }

    /// Attach problems (from loading or background validation) to their cases.
    pub fn add_problems(&mut self, ps: Vec<crate::pack::Problem>) {
        for p in &ps {
            if let Some(c) = p.case
                && let Some(n) = self.problem_counts.get_mut(c)
            {
                match p.severity {
                    Level::Error => n.0 += 1,
                    Level::Warning => n.1 += 1,
                }
            }
        }
        self.problems.extend(ps);
    }

    /// Take a reloaded pack (watch): the same case, run, comparison and view stay on screen;
    /// problems, flags and metrics are recomputed in the background (the event loop starts that).
    pub fn replace_pack(&mut self, pack: Arc<Pack>, changed: &std::collections::BTreeSet<crate::watch::Target>) {
        use crate::watch::Target;
        let case_id = self.case().map(|c| self.pack.cases[c].id.clone());
        let name = |p: &Pack, r: Option<usize>| r.and_then(|r| p.runs.get(r)).map(|r| r.name.0.clone());
        let run_name = name(&self.pack, self.run);
        let old_names: Vec<String> = self.pack.runs.iter().map(|r| r.name.0.clone()).collect();
        let everything = changed.contains(&Target::Manifest) || changed.contains(&Target::Rules);
        let sources: Vec<String> = if everything {
            crate::rules::eval::all_sources(&pack)
                .into_iter()
                .map(|s| pack.source_name(s))
                .collect()
        } else {
            changed
                .iter()
                .map(|t| match t {
                    Target::Run(r) => r.clone(),
                    _ => pack.source_name(crate::pack::Source::GroundTruth),
                })
                .collect()
        };
        let mut before = flags::flag_keys(&self.pack, &self.flags, &sources).collect();
        let mut what = changed.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(", ");
        // reloaded again before the last reload was checked: count from the flags before that
        if let Some(prev) = self.reloaded.take().filter(|n| n.new_flags.is_none()) {
            before = prev.before;
            if prev.what != what {
                what = format!("{}, {what}", prev.what);
            }
        }
        self.pack = pack;
        self.pack_epoch += 1;
        self.problem_counts = vec![(0, 0); self.pack.cases.len()];
        self.problems.clear();
        self.validated = false;
        let loaded = self.pack.problems.clone();
        self.add_problems(loaded);
        self.flags.clear();
        self.checked = None;
        self.metrics = Vec::new();
        self.metrics_error = None;
        self.operating.clear();
        self.selected = None;
        let find = |n: Option<String>| n.and_then(|n| self.pack.run_index(&n).ok());
        self.run = find(run_name).or((!self.pack.runs.is_empty()).then_some(0));
        self.compare = self.compare.and_then(|c| c.remap(|r| find(old_names.get(r).cloned())));
        if self.compare.is_none() && self.layout == Layout::RunRun {
            self.layout = Layout::Single;
        }
        if let Some((text, _)) = self.filter.take() {
            // re-parsed: a class may have come or gone with the manifest
            if let Ok(e) = crate::query::parse(&text, &self.pack) {
                self.filter = Some((text, e));
            }
        }
        self.refresh_order();
        if let Some(id) = case_id
            && let Some(p) = self.order.iter().position(|&c| self.pack.cases[c].id == id)
        {
            self.pos = p;
        }
        self.pos = self.pos.min(self.order.len().saturating_sub(1));
        self.notice = None;
        self.reloaded = Some(ReloadNote {
            at: std::time::Instant::now(),
            what,
            sources,
            before,
            new_flags: None,
            gone_flags: None,
        });
    }
}
