//! A pack's workspace: what people add while triaging — free-text tags on cases — kept apart
//! from what is reviewed, in `.lightbox/workspace.json` inside the pack (not among the files a
//! sign-off record hashes), written atomically so a crash never leaves half a file.
//!
//! ```json
//! {"lightbox_workspace": 1, "tags": {"case-007.jpg": ["hard", "outside-lungs"]}}
//! ```

use crate::pack::Pack;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Where a pack's workspace lives, relative to its root.
pub const WORKSPACE_FILE: &str = ".lightbox/workspace.json";

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    lightbox_workspace: u32,
    #[serde(default)]
    tags: BTreeMap<String, BTreeSet<String>>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Workspace {
    /// `None` for a pack without a folder (flag form): tags live only in memory.
    pub path: Option<PathBuf>,
    tags: BTreeMap<String, BTreeSet<String>>,
}

/// Why a workspace could not be read, changed or written.
#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    #[error(transparent)]
    File(#[from] crate::fsutil::ReadJsonError),
    #[error(
        "{}: lightbox_workspace: version {version} is not supported (this lightbox reads 1)",
        path.display()
    )]
    Version { path: PathBuf, version: u32 },
    /// A stored tag that is not one word.
    #[error("{}: tags.{case}: {tag:?} is not a tag (one word)", path.display())]
    StoredTag { path: PathBuf, case: String, tag: String },
    /// A tag given to add that is not one word.
    #[error("{0:?} is not a tag: one word of letters, digits, -, _ or .")]
    BadTag(String),
    #[error("{}: cannot create: {source}", dir.display())]
    CreateDir { dir: PathBuf, source: std::io::Error },
    #[error("{}: cannot write: {source}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
}

/// A tag is one word people can type in a filter: letters, digits, `-`, `_`, `.`.
pub fn valid_tag(t: &str) -> bool {
    !t.is_empty() && t.len() <= 64 && t.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

impl Workspace {
    /// The pack's workspace; empty when there is none yet. A damaged file is an error that names
    /// it (and is never overwritten by an empty workspace).
    pub fn load(pack: &Pack) -> Result<Workspace, WorkspaceError> {
        let Some(root) = &pack.root else {
            return Ok(Workspace::default());
        };
        Workspace::open(&root.join(WORKSPACE_FILE))
    }

    pub fn open(path: &Path) -> Result<Workspace, WorkspaceError> {
        let Some(f) = crate::fsutil::read_json::<File>(path)? else {
            return Ok(Workspace {
                path: Some(path.to_path_buf()),
                tags: BTreeMap::new(),
            });
        };
        if f.lightbox_workspace != 1 {
            return Err(WorkspaceError::Version {
                path: path.to_path_buf(),
                version: f.lightbox_workspace,
            });
        }
        for (case, tags) in &f.tags {
            if let Some(bad) = tags.iter().find(|t| !valid_tag(t)) {
                return Err(WorkspaceError::StoredTag {
                    path: path.to_path_buf(),
                    case: case.clone(),
                    tag: bad.clone(),
                });
            }
        }
        Ok(Workspace {
            path: Some(path.to_path_buf()),
            tags: f.tags,
        })
    }

    /// The case's tags, sorted.
    pub fn tags(&self, case: &str) -> impl Iterator<Item = &str> {
        self.tags.get(case).into_iter().flatten().map(String::as_str)
    }

    pub fn has(&self, case: &str, tag: &str) -> bool {
        self.tags.get(case).is_some_and(|t| t.contains(tag))
    }

    /// Every tag in use, with how many cases carry it.
    pub fn all(&self) -> BTreeMap<&str, usize> {
        let mut out = BTreeMap::new();
        for t in self.tags.values().flatten() {
            *out.entry(t.as_str()).or_insert(0) += 1;
        }
        out
    }

    /// Add a tag; false when the case had it already.
    pub fn add(&mut self, case: &str, tag: &str) -> Result<bool, WorkspaceError> {
        if !valid_tag(tag) {
            return Err(WorkspaceError::BadTag(tag.to_string()));
        }
        Ok(self.tags.entry(case.to_string()).or_default().insert(tag.to_string()))
    }

    /// Remove a tag; false when the case did not have it.
    pub fn remove(&mut self, case: &str, tag: &str) -> bool {
        let Some(t) = self.tags.get_mut(case) else { return false };
        let removed = t.remove(tag);
        if t.is_empty() {
            self.tags.remove(case);
        }
        removed
    }

    /// Apply `+tag`/`tag` (add) and `-tag` (remove) words to a case; returns what changed.
    pub fn apply(&mut self, case: &str, words: &str) -> Result<Vec<String>, WorkspaceError> {
        let mut changed = Vec::new();
        for w in words.split_whitespace() {
            if let Some(t) = w.strip_prefix('-') {
                if self.remove(case, t) {
                    changed.push(format!("-{t}"));
                }
            } else {
                let t = w.strip_prefix('+').unwrap_or(w);
                if self.add(case, t)? {
                    changed.push(format!("+{t}"));
                }
            }
        }
        Ok(changed)
    }

    /// Write the workspace atomically (a temporary file renamed over the old one).
    #[allow(clippy::expect_used)] // cannot fail: plain data (strings, numbers, maps) always serialises to JSON
    pub fn save(&self) -> Result<(), WorkspaceError> {
        let Some(path) = &self.path else { return Ok(()) };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| WorkspaceError::CreateDir {
                dir: dir.to_path_buf(),
                source,
            })?;
        }
        let f = File {
            lightbox_workspace: 1,
            tags: self.tags.clone(),
        };
        let mut text = serde_json::to_string_pretty(&f).expect("serialisable");
        text.push('\n');
        crate::fsutil::write_atomic(path, text.as_bytes()).map_err(|source| WorkspaceError::Write {
            path: path.clone(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_round_trip_atomically_and_damage_is_refused() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join(WORKSPACE_FILE);
        let mut w = Workspace::open(&p).unwrap();
        assert_eq!(
            w.apply("case-1", "hard +outside-lungs hard").unwrap(),
            vec!["+hard", "+outside-lungs"]
        );
        assert_eq!(w.apply("case-2", "hard").unwrap(), vec!["+hard"]);
        assert_eq!(w.apply("case-1", "-hard -nothing").unwrap(), vec!["-hard"]);
        assert!(w.apply("case-1", "two/words").is_err());
        w.save().unwrap();
        let back = Workspace::open(&p).unwrap();
        assert_eq!(back, w);
        assert_eq!(back.tags("case-1").collect::<Vec<_>>(), vec!["outside-lungs"]);
        assert_eq!(back.all().get("hard"), Some(&1));
        // no temporary file left behind
        assert_eq!(std::fs::read_dir(p.parent().unwrap()).unwrap().count(), 1);
        // a damaged file names itself, line and column, and is not replaced
        std::fs::write(&p, "{\"lightbox_workspace\": 1, \"tags\": {\"a\": [\"x\"]").unwrap();
        let e = Workspace::open(&p).unwrap_err().to_string();
        assert!(
            e.contains("workspace.json:1:") && e.contains("will not overwrite"),
            "{e}"
        );
        std::fs::write(&p, "{\"lightbox_workspace\": 1, \"tags\": {\"a\": \"x\"}}").unwrap();
        assert!(Workspace::open(&p).unwrap_err().to_string().contains("invalid type"));
        std::fs::write(&p, "{\"lightbox_workspace\": 2}").unwrap();
        assert!(
            Workspace::open(&p)
                .unwrap_err()
                .to_string()
                .contains("lightbox_workspace: version 2")
        );
    }

    #[test]
    fn a_bad_stored_tag_names_the_file_and_the_case() {
        let e = WorkspaceError::StoredTag {
            path: PathBuf::from("pack/.lightbox/workspace.json"),
            case: "case-1".into(),
            tag: "two words".into(),
        };
        assert_eq!(
            e.to_string(),
            "pack/.lightbox/workspace.json: tags.case-1: \"two words\" is not a tag (one word)"
        );
    }
}
