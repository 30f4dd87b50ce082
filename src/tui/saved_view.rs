//! Saved views: where the dashboard was on a pack — run, comparison, layout, error view,
//! filter, sort, score threshold and case — kept in `.lightbox/views.json` inside the pack,
//! beside the tags and like them outside what a sign-off record hashes. The last view is
//! restored when the pack is opened again; `:view save NAME` keeps named ones.
//!
//! ```json
//! {"lightbox_views": 1,
//!  "last": {"run": "candidate", "filter": "flag:critical", "sort": "error", "case": "case-007.jpg"},
//!  "named": {"outside-lungs": {"run": "candidate", "filter": "flag:opacity-in-lungs"}}}
//! ```
//!
//! The file is written by one background thread, atomically, after reading it again so that
//! views another dashboard saved meanwhile are kept; a damaged file is reported and never
//! overwritten.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where a pack's saved views live, relative to its root.
pub const VIEWS_FILE: &str = ".lightbox/views.json";

/// One view of the dashboard, by names (runs, cases, sort keys), so that it survives a pack
/// whose runs or cases were reordered. Every field is optional: what is missing stays as the
/// dashboard opens.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SavedView {
    /// The run shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    /// Compare mode's baseline (`:compare NAME`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compare: Option<String>,
    /// The run beside the one shown (run | run outside compare mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub beside: Option<String>,
    /// `single`, `gt-run` or `run-run`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layout: Option<String>,
    /// The error view (`e`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub errors: bool,
    /// The filter expression as typed after `/`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// A sort key's name as `:sort` takes it (`error`, `max score`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
    /// The score threshold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// The case the cursor was on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    lightbox_views: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last: Option<SavedView>,
    #[serde(default)]
    named: BTreeMap<String, SavedView>,
}

/// A pack's saved views as read from its file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Views {
    /// `None` for a pack without a folder (flag form): views are not kept.
    pub path: Option<PathBuf>,
    /// The view when the pack was last closed.
    pub last: Option<SavedView>,
    pub named: BTreeMap<String, SavedView>,
}

/// A change to the views file, applied by the writer thread to the file as it is then.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Last(SavedView),
    Save(String, SavedView),
    Delete(String),
}

#[derive(Debug, thiserror::Error)]
pub enum ViewsError {
    #[error(transparent)]
    File(#[from] crate::fsutil::ReadJsonError),
    #[error(
        "{}: lightbox_views: version {version} is not supported (this lightbox reads 1)",
        path.display()
    )]
    Version { path: PathBuf, version: u32 },
    #[error("{}: cannot create: {source}", dir.display())]
    CreateDir { dir: PathBuf, source: std::io::Error },
    #[error("{}: cannot write: {source}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
}

/// A view's name: one word people can type after `:view`.
pub fn valid_name(n: &str) -> bool {
    crate::workspace::valid_tag(n) && !matches!(n, "save" | "delete" | "reset")
}

impl Views {
    /// The saved views of the pack at `root`; none when there is no file yet.
    pub fn load(root: Option<&Path>) -> Result<Views, ViewsError> {
        match root {
            None => Ok(Views::default()),
            Some(r) => Views::open(&r.join(VIEWS_FILE)),
        }
    }

    pub fn open(path: &Path) -> Result<Views, ViewsError> {
        let f = read(path)?.unwrap_or_default();
        Ok(Views {
            path: Some(path.to_path_buf()),
            last: f.last,
            named: f.named,
        })
    }

    /// Apply `changes` to the file as it is on disk now (views another dashboard saved are
    /// kept) and write it atomically; returns the views now in the file.
    #[allow(clippy::expect_used)] // cannot fail: plain data (strings, numbers, maps) always serialises to JSON
    pub fn write(path: &Path, changes: &[Change]) -> Result<Views, ViewsError> {
        let mut f = read(path)?.unwrap_or(File {
            lightbox_views: 1,
            ..File::default()
        });
        for c in changes {
            match c {
                Change::Last(v) => f.last = Some(v.clone()),
                Change::Save(name, v) => {
                    f.named.insert(name.clone(), v.clone());
                }
                Change::Delete(name) => {
                    f.named.remove(name);
                }
            }
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| ViewsError::CreateDir {
                dir: dir.to_path_buf(),
                source,
            })?;
        }
        let mut text = serde_json::to_string_pretty(&f).expect("serialisable");
        text.push('\n');
        crate::fsutil::write_atomic(path, text.as_bytes()).map_err(|source| ViewsError::Write {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Views {
            path: Some(path.to_path_buf()),
            last: f.last,
            named: f.named,
        })
    }
}

/// The file, `None` when there is none.
fn read(path: &Path) -> Result<Option<File>, ViewsError> {
    let f: Option<File> = crate::fsutil::read_json(path)?;
    match f {
        Some(f) if f.lightbox_views != 1 => Err(ViewsError::Version {
            path: path.to_path_buf(),
            version: f.lightbox_views,
        }),
        f => Ok(f),
    }
}

/// Write what arrives on `rx`, in order, coalescing the latest view: a burst of cursor moves is
/// one write. Returns when every sender is gone, after the last write, so that the view at quit
/// is on disk before the process ends. `failed` hears each distinct error once.
pub fn writer(path: &Path, rx: std::sync::mpsc::Receiver<Change>, failed: impl Fn(String)) {
    let mut reported: Option<String> = None;
    while let Ok(first) = rx.recv() {
        let mut changes = vec![first];
        changes.extend(rx.try_iter());
        // only the newest `last` matters
        if let Some(newest) = changes.iter().rposition(|c| matches!(c, Change::Last(_))) {
            let mut i = 0;
            changes.retain(|c| {
                let keep = !matches!(c, Change::Last(_)) || i == newest;
                i += 1;
                keep
            });
        }
        match Views::write(path, &changes) {
            Ok(_) => reported = None,
            Err(e) if reported.as_ref() == Some(&e.to_string()) => {}
            Err(e) => {
                reported = Some(e.to_string());
                failed(e.to_string());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(run: &str, case: &str) -> SavedView {
        SavedView {
            run: Some(run.into()),
            case: Some(case.into()),
            ..SavedView::default()
        }
    }

    #[test]
    fn views_round_trip_and_keep_what_another_session_saved() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join(VIEWS_FILE);
        assert_eq!(Views::open(&p).unwrap().last, None);
        Views::write(&p, &[Change::Last(view("a", "case-1"))]).unwrap();
        // another dashboard saves a named view meanwhile
        Views::write(&p, &[Change::Save("hard".into(), view("b", "case-9"))]).unwrap();
        let back = Views::write(&p, &[Change::Last(view("a", "case-2"))]).unwrap();
        assert_eq!(back.last, Some(view("a", "case-2")));
        assert_eq!(back.named.get("hard"), Some(&view("b", "case-9")));
        assert_eq!(Views::open(&p).unwrap(), back);
        let gone = Views::write(&p, &[Change::Delete("hard".into())]).unwrap();
        assert!(gone.named.is_empty());
        // no temporary file left behind
        assert_eq!(std::fs::read_dir(p.parent().unwrap()).unwrap().count(), 1);
        // only the fields set are written
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(!text.contains("filter") && !text.contains("errors"), "{text}");
    }

    #[test]
    fn a_damaged_file_names_itself_and_is_never_overwritten() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join(VIEWS_FILE);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        for (text, says) in [
            ("{\"lightbox_views\": 1, \"last\": {\"run\": ", "views.json:1:"),
            ("{\"lightbox_views\": 1, \"last\": {\"run\": 3}}", "invalid type"),
            (
                "{\"lightbox_views\": 1, \"last\": {\"zoom\": 3}}",
                "unknown field `zoom`",
            ),
            ("{\"lightbox_views\": 2}", "lightbox_views: version 2"),
        ] {
            std::fs::write(&p, text).unwrap();
            let e = Views::open(&p).unwrap_err().to_string();
            assert!(e.contains(says), "{text}: {e}");
            let e = Views::write(&p, &[Change::Last(view("a", "b"))])
                .unwrap_err()
                .to_string();
            assert!(e.contains(says), "{e}");
            assert_eq!(std::fs::read_to_string(&p).unwrap(), text);
        }
    }

    #[test]
    fn the_writer_coalesces_a_burst_into_the_newest_view_and_reports_errors_once() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join(VIEWS_FILE);
        let (tx, rx) = std::sync::mpsc::channel();
        for i in 0..50 {
            tx.send(Change::Last(view("a", &format!("case-{i}")))).unwrap();
        }
        tx.send(Change::Save("x".into(), view("b", "case-1"))).unwrap();
        drop(tx);
        let errors = std::sync::Mutex::new(Vec::new());
        writer(&p, rx, |e| errors.lock().unwrap().push(e));
        let v = Views::open(&p).unwrap();
        assert_eq!(v.last, Some(view("a", "case-49")));
        assert!(v.named.contains_key("x"));
        assert!(errors.lock().unwrap().is_empty());
        // a folder where the file should be: one report for many failed writes
        let bad = t.path().join("bad");
        std::fs::create_dir_all(bad.join(VIEWS_FILE)).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let h = std::thread::spawn({
            let bad = bad.join(VIEWS_FILE);
            move || {
                let errors = std::sync::Mutex::new(Vec::new());
                writer(&bad, rx, |e| errors.lock().unwrap().push(e));
                errors.into_inner().unwrap()
            }
        });
        for i in 0..5 {
            tx.send(Change::Last(view("a", &format!("case-{i}")))).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        drop(tx);
        let errors = h.join().unwrap();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("views.json"), "{errors:?}");
    }

    #[test]
    fn view_names_are_one_word_and_not_a_subcommand() {
        assert!(valid_name("outside-lungs"));
        for bad in ["", "two words", "save", "reset", "delete", "a/b"] {
            assert!(!valid_name(bad), "{bad:?}");
        }
    }
}
