//! A triage list written out: the cases as listed (filtered and sorted), one row each, as CSV
//! for a spreadsheet or JSON for a script or a ticket (`:export FILE.csv` in the dashboard).
//!
//! The CSV is RFC 4180 (a header row, fields with a comma, quote or line break quoted, quotes
//! doubled). A text field that a spreadsheet would run as a formula (starting with `=`, `+`,
//! `-`, `@`, a tab or a carriage return) is written with a leading `'`, as OWASP advises;
//! the JSON has every value exactly.

use crate::rules::Severity;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The list, with what it is a list of.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseList {
    pub lightbox_case_list: u32,
    pub pack: String,
    /// The run whose predictions, flags and errors the rows give.
    pub run: Option<String>,
    /// Compare mode's baseline, when the list is a comparison.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<String>,
    /// The filter as typed; `None`: every case.
    pub filter: Option<String>,
    /// The sort key's name; `None`: pack order.
    pub sort: Option<String>,
    pub score_threshold: f64,
    /// Cases in the pack (the list may hold fewer).
    pub of: usize,
    pub cases: Vec<Row>,
}

/// One case as listed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// Its place in the list, from 1.
    pub position: usize,
    pub case: String,
    /// The image's path in the pack (absolute when it is outside the pack's folder).
    pub image: String,
    /// The sort key's value (as the list shows it); `None` where it does not apply.
    pub sort_value: Option<f64>,
    /// The run's predictions on the case, and the highest score among them.
    pub predictions: Option<usize>,
    pub max_score: Option<f64>,
    /// False positives + misses at the score threshold, plus Σ(1 − Dice) (the error sort key).
    pub error: Option<f64>,
    pub flags: Vec<FlagRow>,
    pub tags: Vec<String>,
    /// The pack's problems with the case's files.
    pub problems: Problems,
}

#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Problems {
    pub errors: u32,
    pub warnings: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlagRow {
    pub rule: String,
    pub severity: Severity,
    /// `ground truth`, a run's name, or `image` (a flag on the input itself).
    pub on: String,
    pub message: String,
}

/// How a list is written, from its file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
}

impl Format {
    pub fn from_path(p: &Path) -> Option<Format> {
        match p.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" => Some(Format::Csv),
            "json" => Some(Format::Json),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ListError {
    #[error("{}: its folder does not exist (create it, or give another path)", path.display())]
    NoFolder { path: PathBuf },
    #[error("{}: is a folder; give a file name ending .csv or .json", path.display())]
    IsFolder { path: PathBuf },
    #[error("{}: {format:?} wanted a file name ending .csv or .json", path.display())]
    Format { path: PathBuf, format: String },
    #[error("{}: cannot write: {source}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
}

impl CaseList {
    /// The list as CSV: a header row, then one row per case.
    pub fn to_csv(&self) -> String {
        let mut out = String::new();
        let header = [
            "position",
            "case",
            "image",
            "run",
            "sorted_by",
            "sort_value",
            "predictions",
            "max_score",
            "error",
            "flags",
            "worst_flag",
            "rules",
            "tags",
            "problem_errors",
            "problem_warnings",
        ];
        out.push_str(&header.join(","));
        out.push_str("\r\n");
        let num = |v: Option<f64>| v.filter(|x| x.is_finite()).map(|x| format!("{x}")).unwrap_or_default();
        for r in &self.cases {
            let worst = r.flags.iter().map(|f| f.severity).max();
            let mut rules: Vec<&str> = r.flags.iter().map(|f| f.rule.as_str()).collect();
            rules.dedup();
            let fields = [
                r.position.to_string(),
                text(&r.case),
                text(&r.image),
                text(self.run.as_deref().unwrap_or("")),
                text(self.sort.as_deref().unwrap_or("")),
                num(r.sort_value),
                r.predictions.map(|n| n.to_string()).unwrap_or_default(),
                num(r.max_score),
                num(r.error),
                r.flags.len().to_string(),
                worst.map(|s| s.name().to_string()).unwrap_or_default(),
                text(&rules.join(" ")),
                text(&r.tags.join(" ")),
                r.problems.errors.to_string(),
                r.problems.warnings.to_string(),
            ];
            out.push_str(&fields.join(","));
            out.push_str("\r\n");
        }
        out
    }

    #[allow(clippy::expect_used)] // cannot fail: plain data (strings, numbers) always serialises to JSON
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("serialisable");
        s.push('\n');
        s
    }

    /// Write the list to `path` (atomically; a file there is replaced) in the format its
    /// extension names. Returns the format written.
    pub fn write(&self, path: &Path) -> Result<Format, ListError> {
        let format = Format::from_path(path).ok_or_else(|| ListError::Format {
            path: path.to_path_buf(),
            format: path
                .extension()
                .map(|e| e.to_string_lossy().into_owned())
                .unwrap_or_default(),
        })?;
        if path.is_dir() {
            return Err(ListError::IsFolder {
                path: path.to_path_buf(),
            });
        }
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        if !dir.is_dir() {
            return Err(ListError::NoFolder {
                path: path.to_path_buf(),
            });
        }
        let text = match format {
            Format::Csv => self.to_csv(),
            Format::Json => self.to_json(),
        };
        crate::fsutil::write_atomic(path, text.as_bytes()).map_err(|source| ListError::Write {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(format)
    }
}

/// A CSV text field: quoted when it must be, defused when a spreadsheet would run it.
fn text(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) || s.starts_with(' ') || s.ends_with(' ') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn list(cases: Vec<Row>) -> CaseList {
        CaseList {
            lightbox_case_list: 1,
            pack: "p".into(),
            run: Some("candidate".into()),
            baseline: None,
            filter: Some("critical".into()),
            sort: Some("error".into()),
            score_threshold: 0.5,
            of: 40,
            cases,
        }
    }

    fn row(case: &str) -> Row {
        Row {
            position: 1,
            case: case.into(),
            image: format!("images/{case}"),
            sort_value: Some(2.5),
            predictions: Some(3),
            max_score: Some(0.91),
            error: Some(2.5),
            flags: vec![FlagRow {
                rule: "opacity-in-lungs".into(),
                severity: Severity::Critical,
                on: "candidate".into(),
                message: "100% outside, \"lung_fields\"".into(),
            }],
            tags: vec!["hard".into(), "outside-lungs".into()],
            problems: Problems { errors: 0, warnings: 1 },
        }
    }

    /// A minimal RFC 4180 reader: what a spreadsheet would read back.
    fn parse_csv(s: &str) -> Vec<Vec<String>> {
        let mut rows = vec![];
        let mut row = vec![];
        let mut field = String::new();
        let mut quoted = false;
        let mut chars = s.chars().peekable();
        while let Some(c) = chars.next() {
            match (quoted, c) {
                (true, '"') if chars.peek() == Some(&'"') => {
                    field.push('"');
                    chars.next();
                }
                (true, '"') => quoted = false,
                (true, c) => field.push(c),
                (false, '"') => quoted = true,
                (false, ',') => row.push(std::mem::take(&mut field)),
                (false, '\r') if chars.peek() == Some(&'\n') => {
                    chars.next();
                    row.push(std::mem::take(&mut field));
                    rows.push(std::mem::take(&mut row));
                }
                (false, c) => field.push(c),
            }
        }
        rows
    }

    #[test]
    fn csv_rows_carry_the_list_and_read_back() {
        let l = list(vec![row("case-007.jpg")]);
        let rows = parse_csv(&l.to_csv());
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0][0], "position");
        assert_eq!(rows[0].len(), rows[1].len());
        let get = |name: &str| rows[1][rows[0].iter().position(|h| h == name).unwrap()].clone();
        assert_eq!(get("case"), "case-007.jpg");
        assert_eq!(get("sorted_by"), "error");
        assert_eq!(get("sort_value"), "2.5");
        assert_eq!(get("worst_flag"), "critical");
        assert_eq!(get("rules"), "opacity-in-lungs");
        assert_eq!(get("tags"), "hard outside-lungs");
        assert_eq!(get("problem_warnings"), "1");
    }

    #[test]
    fn a_formula_in_a_case_name_is_defused_in_csv_and_exact_in_json() {
        let l = list(vec![row("=HYPERLINK(\"http://x\",\"y\").png")]);
        let rows = parse_csv(&l.to_csv());
        assert_eq!(rows[1][1], "'=HYPERLINK(\"http://x\",\"y\").png");
        let j: serde_json::Value = serde_json::from_str(&l.to_json()).unwrap();
        assert_eq!(j["cases"][0]["case"], "=HYPERLINK(\"http://x\",\"y\").png");
        assert_eq!(j["cases"][0]["flags"][0]["severity"], "critical");
        assert_eq!(j["filter"], "critical");
    }

    #[test]
    fn write_picks_the_format_and_says_what_is_wrong_with_a_path() {
        let t = tempfile::tempdir().unwrap();
        let l = list(vec![row("a.png")]);
        assert_eq!(l.write(&t.path().join("x.CSV")).unwrap(), Format::Csv);
        assert_eq!(l.write(&t.path().join("x.json")).unwrap(), Format::Json);
        let e = l.write(&t.path().join("x.txt")).unwrap_err().to_string();
        assert!(e.contains("x.txt") && e.contains(".csv or .json"), "{e}");
        let e = l.write(&t.path().join("no/such/x.csv")).unwrap_err().to_string();
        assert!(e.contains("folder does not exist"), "{e}");
        std::fs::create_dir(t.path().join("d.csv")).unwrap();
        let e = l.write(&t.path().join("d.csv")).unwrap_err().to_string();
        assert!(e.contains("is a folder"), "{e}");
    }

    proptest! {
        /// Whatever a case is called, the CSV reads back to the same number of fields per row
        /// and the same name (defused names aside).
        #[test]
        fn any_case_name_survives_csv(name in "\\PC{0,40}", tag in "[a-z,\" ]{0,10}") {
            let mut r = row(&name);
            r.tags = vec![tag.clone()];
            let rows = parse_csv(&list(vec![r]).to_csv());
            prop_assert_eq!(rows.len(), 2);
            prop_assert_eq!(rows[1].len(), rows[0].len());
            let back = &rows[1][1];
            let defused = name.starts_with(['=', '+', '-', '@', '\t', '\r']);
            prop_assert_eq!(back.clone(), if defused { format!("'{name}") } else { name.clone() });
        }
    }
}
