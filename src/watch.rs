//! Watching a pack while people look at it: when a training job rewrites a run's files (or
//! someone edits the ground truth, the rules or the manifest), the pack is reloaded in the
//! background.
//!
//! - [`spawn`] watches the pack folder (`notify`), ignores what lightbox itself writes there
//!   (`.lightbox/`, `reviews/`, the out-of-distribution lock, atomic-write temporaries) and
//!   reports a burst of changes once it has been quiet for a moment (debounced).
//! - [`reload`] reopens the pack and decides whether the change has *settled*: a file that is
//!   being written is half a JSON document or a truncated PNG for a while, so new errors in the
//!   changed files are retried with backoff; only when they persist is one error reported, and
//!   the caller keeps the last good pack.

use crate::pack::{MANIFEST_FILE, Pack, Problem};
use notify::{EventKind, RecursiveMode, Watcher};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

/// What a changed file belongs to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    Manifest,
    Rules,
    GroundTruth,
    Run(String),
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Manifest => f.write_str("the manifest"),
            Target::Rules => f.write_str("the rules"),
            Target::GroundTruth => f.write_str("the ground truth"),
            Target::Run(r) => f.write_str(r),
        }
    }
}

/// Every file or folder of `pack` that matters, with what it belongs to (absolute paths).
pub fn targets(pack: &Pack) -> Vec<(PathBuf, Target)> {
    let Some(root) = &pack.root else {
        return Vec::new();
    };
    let abs = |p: &Path| std::fs::canonicalize(root.join(p)).unwrap_or_else(|_| root.join(p));
    let mut v = vec![(abs(Path::new(MANIFEST_FILE)), Target::Manifest)];
    if let Some(r) = &pack.manifest.rules {
        v.push((abs(r), Target::Rules));
    }
    for (_, p) in pack.manifest.ground_truth.paths() {
        v.push((abs(mask_dir(p)), Target::GroundTruth));
    }
    for (name, sources) in &pack.manifest.runs {
        for (_, p) in sources.paths() {
            v.push((abs(mask_dir(p)), Target::Run(name.clone())));
        }
    }
    v
}

/// A mask pattern (`images/{stem}-mask.png`) is watched as its folder.
fn mask_dir(p: &Path) -> &Path {
    if p.to_string_lossy().contains("{stem}") {
        p.parent().unwrap_or(p)
    } else {
        p
    }
}

/// What `changed` paths touch, given the pack's [`targets`].
pub fn affected(targets: &[(PathBuf, Target)], changed: &[PathBuf]) -> BTreeSet<Target> {
    let mut out = BTreeSet::new();
    for c in changed {
        let c = canonical_or_parent(c);
        for (p, t) in targets {
            if c == *p || c.starts_with(p) {
                out.insert(t.clone());
            }
        }
    }
    out
}

/// A path made absolute through its nearest existing ancestor (a deleted file has none itself).
fn canonical_or_parent(p: &Path) -> PathBuf {
    if let Ok(c) = std::fs::canonicalize(p) {
        return c;
    }
    match (p.parent(), p.file_name()) {
        (Some(dir), Some(name)) => canonical_or_parent(dir).join(name),
        _ => p.to_path_buf(),
    }
}

/// Whether lightbox wrote this itself (and must not reload for it).
pub fn is_own_file(root: &Path, p: &Path) -> bool {
    let rel = p.strip_prefix(root).unwrap_or(p);
    let mut parts = rel.components().map(|c| c.as_os_str().to_string_lossy());
    let first = parts.next().unwrap_or_default();
    let name = p.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    first == ".lightbox"
        || first == "reviews"
        || name == crate::check::OOD_LOCK
        || name == crate::export::PROVENANCE_FILE
        || (name.starts_with('.') && name.contains(".tmp-"))
}

/// Why a watch could not start (changes to the pack are then not seen).
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{}: {source}", root.display())]
    Root { root: PathBuf, source: std::io::Error },
    #[error("cannot watch {}: {source}", root.display())]
    Watch { root: PathBuf, source: notify::Error },
    /// The thread that reports changes could not start.
    #[error("{0}")]
    Thread(std::io::Error),
}

/// Why a changed pack was not taken: the first error the change brought, once retries are over.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    #[error(transparent)]
    Open(#[from] crate::pack::PackError),
    /// A problem the previous pack did not have (it names the file and the field).
    #[error("{0}")]
    Problem(Box<Problem>),
    /// A changed label mask that does not decode (`path` as the pack shows it).
    #[error("{}: {source}", path.display())]
    Mask {
        path: PathBuf,
        source: crate::formats::image::ImageError,
    },
}

/// What a watch reports instead of a reopened pack; callers match on which it is.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// The watch never started: the pack's files are not watched this session.
    #[error("not watching the pack's files: {0}")]
    NotWatching(StartError),
    /// A change that did not settle: the last good pack is kept.
    #[error(transparent)]
    NotReloaded(ReloadError),
}

/// A running watch; dropping it stops watching.
pub struct Watch {
    _watcher: notify::RecommendedWatcher,
}

/// Watch `root` recursively; after changes have been quiet for `quiet`, call `on_change` once
/// with the changed paths (never for lightbox's own files). Runs on its own thread.
pub fn spawn(
    root: &Path,
    quiet: Duration,
    on_change: impl FnMut(Vec<PathBuf>) + Send + 'static,
) -> Result<Watch, StartError> {
    let root = std::fs::canonicalize(root).map_err(|source| StartError::Root {
        root: root.to_path_buf(),
        source,
    })?;
    let (tx, rx) = mpsc::channel::<PathBuf>();
    let filter_root = root.clone();
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        let Ok(ev) = res else { return };
        if matches!(ev.kind, EventKind::Access(_)) {
            return;
        }
        for p in ev.paths {
            if !is_own_file(&filter_root, &p) {
                let _ = tx.send(p);
            }
        }
    })
    .map_err(|source| StartError::Watch {
        root: root.clone(),
        source,
    })?;
    watcher
        .watch(&root, RecursiveMode::Recursive)
        .map_err(|source| StartError::Watch {
            root: root.clone(),
            source,
        })?;
    let mut on_change = on_change;
    // a bug in a reload is reported where the changes go, as a reload that failed
    crate::job::spawn(
        "watch",
        move || {
            // the first change of a burst, then everything until it has been quiet
            while let Ok(first) = rx.recv() {
                let mut paths = BTreeSet::from([first]);
                loop {
                    match rx.recv_timeout(quiet) {
                        Ok(p) => {
                            paths.insert(p);
                        }
                        Err(mpsc::RecvTimeoutError::Timeout) => break,
                        Err(mpsc::RecvTimeoutError::Disconnected) => return,
                    }
                }
                on_change(paths.into_iter().collect());
            }
        },
        |message| eprintln!("lightbox: the file watch stopped on a bug: {message} (please report this)"),
    )
    .map_err(StartError::Thread)?;
    Ok(Watch { _watcher: watcher })
}

/// A pack reopened after a change.
#[derive(Debug)]
pub struct Reloaded {
    pub pack: Pack,
    /// What the change touched (by the previous pack's files).
    pub changed: BTreeSet<Target>,
}

/// How long to wait for a file being written to parse, between attempts.
pub const BACKOFF: [Duration; 5] = [
    Duration::from_millis(100),
    Duration::from_millis(250),
    Duration::from_millis(500),
    Duration::from_millis(1000),
    Duration::from_millis(2000),
];

/// Reopen the pack at `root` after `changed`; retry after each of `backoff` while the change
/// has not settled (see the module documentation). The error names the file and the field.
pub fn reload(
    root: &Path,
    previous: &Pack,
    changed: &[PathBuf],
    backoff: &[Duration],
) -> Result<Reloaded, ReloadError> {
    let touched = affected(&targets(previous), changed);
    let mut attempt = 0;
    loop {
        let outcome =
            Pack::open(root)
                .map_err(ReloadError::from)
                .and_then(|pack| match unsettled(&pack, previous, changed) {
                    Some(e) => Err(e),
                    None => Ok(pack),
                });
        match outcome {
            Ok(pack) => {
                let mut changed_targets = touched.clone();
                changed_targets.extend(affected(&targets(&pack), changed));
                return Ok(Reloaded {
                    pack,
                    changed: changed_targets,
                });
            }
            Err(e) if attempt >= backoff.len() => return Err(e),
            Err(_) => {
                std::thread::sleep(backoff[attempt]);
                attempt += 1;
            }
        }
    }
}

/// The first error the change brought: a problem the previous pack did not have, in a changed
/// file, or a changed label mask that does not decode.
fn unsettled(pack: &Pack, previous: &Pack, changed: &[PathBuf]) -> Option<ReloadError> {
    let same = |a: &Problem, b: &Problem| a.file == b.file && a.field == b.field && a.message == b.message;
    if let Some(p) = pack.errors().find(|p| !previous.problems.iter().any(|q| same(p, q))) {
        return Some(ReloadError::Problem(Box::new(p.clone())));
    }
    for c in changed {
        let is_png = c.extension().is_some_and(|e| e.eq_ignore_ascii_case("png"));
        let is_mask = pack
            .ground_truth
            .iter()
            .chain(pack.runs.iter().flat_map(|r| r.annotations.iter()))
            .any(|a| {
                // a mask file, or a slice of a volume's slice folder
                a.label_mask
                    .as_deref()
                    .is_some_and(|m| same_file(m, c) || c.parent().is_some_and(|p| same_file(m, p)))
            });
        if is_png
            && is_mask
            && let Err(e) = crate::formats::label_png::read(c)
        {
            return Some(ReloadError::Mask {
                path: pack.display_path(c),
                source: e,
            });
        }
    }
    None
}

fn same_file(a: &Path, b: &Path) -> bool {
    a == b || canonical_or_parent(a) == canonical_or_parent(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lightbox_own_files_are_ignored() {
        let root = Path::new("/p");
        assert!(is_own_file(root, Path::new("/p/.lightbox/workspace.json")));
        assert!(is_own_file(root, Path::new("/p/reviews/1.0/journal.jsonl")));
        assert!(is_own_file(root, Path::new("/p/ood.lock.json")));
        assert!(is_own_file(root, Path::new("/p/runs/.results.json.tmp-42")));
        assert!(!is_own_file(root, Path::new("/p/runs/candidate/detections.json")));
        assert!(!is_own_file(root, Path::new("/p/lightbox.toml")));
    }

    #[test]
    fn a_watch_that_did_not_start_says_so() {
        let e = WatchError::NotWatching(StartError::Root {
            root: PathBuf::from("/gone/pack"),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory"),
        });
        assert_eq!(
            e.to_string(),
            "not watching the pack's files: /gone/pack: No such file or directory"
        );
        let e = ReloadError::Mask {
            path: PathBuf::from("runs/baseline/masks/case-003.png"),
            source: crate::formats::image::ImageError::NotFound,
        };
        assert!(e.to_string().starts_with("runs/baseline/masks/case-003.png: "), "{e}");
    }
}
