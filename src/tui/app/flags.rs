//! The flags of the rules and input checks: those of a case, the rules a filter names, and the
//! status line that counts critical flags per source.

use super::*;

/// Flags of the named sources as (case id, source, rule): what "new flags" are counted by.
pub(super) fn flag_keys<'a>(
    pack: &'a Pack,
    flags: &'a [crate::rules::Flag],
    sources: &'a [String],
) -> impl Iterator<Item = (String, String, String)> + 'a {
    flags.iter().filter_map(move |f| {
        let source = f.source.map(|s| pack.source_name(s)).unwrap_or_else(|| "input".into());
        (f.source.is_none() || sources.contains(&source))
            .then(|| (pack.cases[f.case].id.0.clone(), source, f.rule.clone()))
    })
}
/// The status line after the check: critical flags counted per source that has them (the
/// input images, the ground truth, each run), and which of them the list marks (the input's,
/// the ground truth's and the run on screen's). `None` without critical flags.
pub fn critical_summary(
    pack: &Pack,
    flags: &[crate::rules::Flag],
    run: Option<usize>,
    keys: &super::super::keymap::Keymap,
) -> Option<String> {
    let mut by: Vec<(Option<crate::pack::Source>, usize)> = Vec::new();
    for f in flags.iter().filter(|f| f.severity == crate::rules::Severity::Critical) {
        match by.iter_mut().find(|(s, _)| *s == f.source) {
            Some((_, n)) => *n += 1,
            None => by.push((f.source, 1)),
        }
    }
    if by.is_empty() {
        return None;
    }
    let name = |s: Option<crate::pack::Source>| s.map_or("the input images".to_string(), |s| pack.source_name(s));
    let parts: Vec<String> = by.iter().map(|(s, n)| format!("{} {n}", name(*s))).collect();
    let total: usize = by.iter().map(|(_, n)| n).sum();
    let hidden = by
        .iter()
        .any(|(s, _)| matches!(s, Some(crate::pack::Source::Run(r)) if Some(*r) != run));
    // short enough for an 80-column status bar's remainder at 120 columns
    let tail = match run {
        Some(r) if hidden => format!(
            "list: {}'s{}",
            pack.source_name(crate::pack::Source::Run(r)),
            keys.keys_for(Action::CycleRun)
                .first()
                .map_or(String::new(), |k| format!(" ({k}: next run)"))
        ),
        _ => keys
            .keys_for(Action::Sort)
            .first()
            .map_or("sort by flags puts them first".to_string(), |k| {
                format!("{k} 6 puts them first")
            }),
    };
    Some(format!(
        "{total} critical{}: {} · {tail}",
        if hidden {
            ""
        } else if total == 1 {
            " flag"
        } else {
            " flags"
        },
        parts.join(", "),
    ))
}

impl App {
    /// Flags that concern a case under the current run: the input's, the ground truth's, the run's.
    pub fn case_flags(&self, case: usize) -> impl Iterator<Item = &crate::rules::Flag> {
        crate::rules::eval::case_flags(&self.flags, case, self.run)
    }

    /// Take the check's flags (from the background thread).
    pub fn set_flags(&mut self, flags: Vec<crate::rules::Flag>) {
        self.checked = Some(Ok(flags.len()));
        self.flags = flags;
        if let Some(note) = self.reloaded.as_mut().filter(|n| n.new_flags.is_none()) {
            let after: std::collections::HashSet<(String, String, String)> =
                flag_keys(&self.pack, &self.flags, &note.sources).collect();
            note.new_flags = Some(after.difference(&note.before).count());
            note.gone_flags = Some(note.before.difference(&after).count());
        }
        if matches!(self.sort, SortKey::Flags | SortKey::Regression | SortKey::Ood) || self.filter.is_some() {
            self.refresh_order();
        }
    }

    /// The rules a filter names (`flag:RULE`) that the check does not know; empty before the
    /// check has run.
    pub fn unknown_rules(&self, e: &query::Expr) -> Vec<String> {
        let Some(ids) = &self.rule_ids else { return Vec::new() };
        let found = std::cell::RefCell::new(Vec::new());
        e.any_term(&|t: &query::Term| {
            if let Some(r) = t.rule()
                && !ids.iter().any(|i| i == r)
            {
                found.borrow_mut().push(r.to_string());
            }
            false
        });
        found.into_inner()
    }
}
