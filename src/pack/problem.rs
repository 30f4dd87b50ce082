//! Problems found while loading or checking a pack: each names the file that holds the wrong
//! value, the field, what is wrong and what to do. Loading collects them instead of stopping,
//! so `lightbox info` can report every problem at once and the dashboard can open the pack
//! anyway and show each problem on its case.

use serde::Serialize;
use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
/// How bad a problem in a pack's files is: an error (the value could not be used) or a warning.
/// (A flag's severity, minor to critical, is `rules::Severity`: another scale for another thing.)
pub enum Level {
    Warning,
    Error,
}

/// One thing wrong with a pack's files.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    pub severity: Level,
    /// The file that holds the wrong value, as the user named it (relative to the pack).
    pub file: PathBuf,
    /// Where in the file: a JSON path (`annotations[12].bbox`), a line (`line 7`), a manifest key.
    pub field: String,
    /// What is wrong, with the offending value.
    pub message: String,
    /// What to do about it.
    pub hint: String,
    /// The case it belongs to (its index in the pack), when it belongs to one.
    pub case: Option<usize>,
}

impl Problem {
    pub fn error(file: impl AsRef<Path>, field: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            severity: Level::Error,
            file: file.as_ref().to_path_buf(),
            field: field.into(),
            message: message.into(),
            hint: String::new(),
            case: None,
        }
    }

    pub fn warning(file: impl AsRef<Path>, field: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            severity: Level::Warning,
            ..Problem::error(file, field, message)
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = hint.into();
        self
    }

    pub fn on_case(mut self, case: usize) -> Self {
        self.case = Some(case);
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Level::Error
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if !self.field.is_empty() {
            write!(f, ": {}", self.field)?;
        }
        write!(f, ": {}", self.message.trim_end_matches('.'))?;
        if !self.hint.is_empty() {
            write!(f, ". {}", self.hint)?;
        }
        Ok(())
    }
}

/// Problems of one load, with a cap per kind so a file with a million bad rows does not
/// produce a million lines: after `MAX_PER_FIELD_KIND` of one (file, message kind) the rest are
/// counted and summarised.
#[derive(Debug, Default, Clone)]
pub struct Problems {
    list: Vec<Problem>,
    suppressed: std::collections::HashMap<(PathBuf, &'static str), usize>,
}

pub const MAX_PER_KIND: usize = 20;

impl Problems {
    pub fn push(&mut self, p: Problem) {
        self.list.push(p);
    }

    /// Push unless `MAX_PER_KIND` problems of this `kind` were already pushed for this file.
    pub fn push_capped(&mut self, kind: &'static str, p: Problem) {
        let key = (p.file.clone(), kind);
        let n = self.suppressed.entry(key).or_insert(0);
        *n += 1;
        if *n <= MAX_PER_KIND {
            self.list.push(p);
        }
    }

    pub fn extend(&mut self, ps: impl IntoIterator<Item = Problem>) {
        self.list.extend(ps);
    }

    /// The problems, with one summary line per capped kind.
    pub fn finish(mut self) -> Vec<Problem> {
        let mut extra: Vec<_> = self.suppressed.iter().filter(|(_, n)| **n > MAX_PER_KIND).collect();
        extra.sort();
        for ((file, kind), n) in extra {
            let sev = self
                .list
                .iter()
                .rev()
                .find(|p| &p.file == file)
                .map(|p| p.severity)
                .unwrap_or(Level::Error);
            self.list.push(Problem {
                severity: sev,
                file: file.clone(),
                field: String::new(),
                message: format!("{} more problems of the kind \"{kind}\" not shown", n - MAX_PER_KIND),
                hint: "Fix the ones listed first; the rest are likely the same mistake".into(),
                case: None,
            });
        }
        self.list
    }
}
