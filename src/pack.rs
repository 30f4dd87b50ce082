//! Test packs: a folder of images, ground truth and model runs described by `lightbox.toml`,
//! loaded into lightbox's own types. Opening a pack reads the manifest and annotation files and
//! never decodes an image; problems are collected, not fatal, so a broken pack still opens.

pub mod annotation;
pub mod boundary;
pub mod classes;
pub mod flags;
pub mod load;
pub mod manifest;
pub mod mask_pattern;
pub mod paths;
pub mod problem;
pub mod summary;
pub mod validate;

pub use annotation::{CaseAnnotations, Instance, ProbabilitySource, Segmentation};
pub use manifest::{ClassKind, ClassSpec, MANIFEST_FILE, Manifest, Sources};
pub use problem::{Level, Problem};

use crate::formats::coco::CocoId;
use serde::Serialize;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// A class's identity: its id in the manifest (and COCO `category_id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ClassId(pub u32);

/// A case's identity: its image path relative to the image root, `/`-separated.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct CaseId(pub String);

impl CaseId {
    /// The id without its extension: how masks, YOLO files and probability maps are named.
    pub fn stem(&self) -> &str {
        let s = self.0.as_str();
        // the one double extension images have: `ct.nii.gz` is case `ct`
        if s.len() > 7 && s.is_char_boundary(s.len() - 7) && s[s.len() - 7..].eq_ignore_ascii_case(".nii.gz") {
            return &s[..s.len() - 7];
        }
        match s.rfind('.') {
            Some(i) if !s[i..].contains('/') => &s[..i],
            _ => s,
        }
    }
}

impl std::fmt::Display for CaseId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where annotations come from: the ground truth or one of the runs (by index).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Source {
    GroundTruth,
    Run(usize),
}

impl Pack {
    /// The annotations of `source` for `case`.
    pub fn annotations(&self, source: Source, case: usize) -> Option<&CaseAnnotations> {
        match source {
            Source::GroundTruth => self.ground_truth.get(case),
            Source::Run(r) => self.runs.get(r)?.annotations.get(case),
        }
    }

    /// A source's name as people read it.
    pub fn source_name(&self, source: Source) -> String {
        match source {
            Source::GroundTruth => "ground truth".into(),
            Source::Run(r) => self
                .runs
                .get(r)
                .map(|x| x.name.0.clone())
                .unwrap_or_else(|| format!("run {r}")),
        }
    }
}

/// A run's name, as in `[runs.<name>]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct RunName(pub String);

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Class {
    pub id: ClassId,
    pub name: String,
    pub kind: ClassKind,
    pub color: Option<String>,
    /// Pixel value in label masks.
    pub mask_value: u16,
}

/// One image under review.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Case {
    pub id: CaseId,
    /// Where the image file is.
    pub image: PathBuf,
    /// Size as declared by COCO or read from the header; `None` until known.
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// The COCO `image_id`, when the ground truth is COCO.
    pub coco_id: Option<CocoId>,
}

impl Case {
    pub fn size(&self) -> Option<(u32, u32)> {
        Some((self.width?, self.height?))
    }
}

/// One model's predictions on the pack.
#[derive(Debug, Clone)]
pub struct Run {
    pub name: RunName,
    pub sources: Sources,
    /// Per case, in case order.
    pub annotations: Vec<CaseAnnotations>,
}

/// A loaded pack.
#[derive(Debug, Clone)]
pub struct Pack {
    /// The pack folder; `None` for a pack assembled from command-line flags.
    pub root: Option<PathBuf>,
    pub manifest: Manifest,
    pub image_root: PathBuf,
    pub classes: Vec<Class>,
    pub cases: Vec<Case>,
    /// Ground truth per case, in case order.
    pub ground_truth: Vec<CaseAnnotations>,
    pub runs: Vec<Run>,
    pub problems: Vec<Problem>,
}

/// Errors that stop a pack from opening at all (everything else is a [`Problem`]).
#[derive(Debug, Error)]
pub enum PackError {
    #[error("{path}: no such pack. Give a folder holding lightbox.toml, or use --images/--gt/--run")]
    NotFound { path: PathBuf },
    #[error("{path}: no lightbox.toml in this folder. Write one with `lightbox init`, or use --images/--gt/--run")]
    NoManifest { path: PathBuf },
    #[error("{path}: cannot read: {message}")]
    Io { path: PathBuf, message: String },
    #[error("{path}: {source}")]
    Manifest {
        path: PathBuf,
        source: manifest::ManifestError,
    },
}

/// A run or case named that the pack does not have; the message lists what it has.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum LookupError {
    #[error("no run {name:?} in the pack (runs: {})", if runs.is_empty() { "none".to_string() } else { runs.join(", ") })]
    NoRun { name: String, runs: Vec<String> },
    #[error("no case {key:?} in the pack ({cases} cases; give a file name, a stem or a position 1..={cases})")]
    NoCase { key: String, cases: usize },
    #[error("lightbox.toml: {key}: {error}")]
    Manifest { key: String, error: String },
}

impl Pack {
    /// Open a pack from its folder (or its `lightbox.toml`).
    pub fn open(path: &Path) -> Result<Pack, PackError> {
        let (dir, file) = if path.is_dir() {
            (path.to_path_buf(), path.join(MANIFEST_FILE))
        } else if path.is_file() {
            (
                path.parent().map(Path::to_path_buf).unwrap_or_default(),
                path.to_path_buf(),
            )
        } else {
            return Err(PackError::NotFound {
                path: path.to_path_buf(),
            });
        };
        if !file.is_file() {
            return Err(PackError::NoManifest { path: dir });
        }
        let text = std::fs::read_to_string(&file).map_err(|e| PackError::Io {
            path: file.clone(),
            message: e.to_string(),
        })?;
        let manifest = Manifest::parse(&text).map_err(|source| PackError::Manifest {
            path: file.clone(),
            source,
        })?;
        Ok(load::load(manifest, Some(&dir)))
    }

    /// Assemble a pack from a manifest built in memory (the `--images/--gt/--run` form); paths
    /// are taken as given, relative to the working directory.
    pub fn from_manifest(manifest: Manifest) -> Pack {
        load::load(manifest, None)
    }

    pub fn class(&self, id: ClassId) -> Option<&Class> {
        self.classes.iter().find(|c| c.id == id)
    }

    /// A class's name, or its id when the pack does not know it.
    pub fn class_name(&self, id: ClassId) -> String {
        self.class(id)
            .map(|c| c.name.clone())
            .unwrap_or_else(|| format!("class {}", id.0))
    }

    pub fn class_by_name(&self, name: &str) -> Option<&Class> {
        self.classes.iter().find(|c| c.name == name)
    }

    /// A run's index by name; the error lists the pack's runs.
    pub fn run_index(&self, name: &str) -> Result<usize, LookupError> {
        self.runs
            .iter()
            .position(|r| r.name.0 == name)
            .ok_or_else(|| LookupError::NoRun {
                name: name.to_string(),
                runs: self.runs.iter().map(|r| r.name.0.clone()).collect(),
            })
    }

    /// The run a reviewer most likely wants: the manifest's `[review] run`, else the newest run
    /// that is not the `[review] baseline` (runs are listed oldest first; `lightbox infer` adds
    /// its run last), else the newest. `None`: the pack has no runs. A `[review] run` naming no
    /// run is an error that names it.
    pub fn review_run(&self) -> Result<Option<usize>, LookupError> {
        if let Some(name) = &self.manifest.review.run {
            return self.run_index(name).map(Some).map_err(|e| LookupError::Manifest {
                key: "[review] run".to_string(),
                error: e.to_string(),
            });
        }
        let baseline = self.manifest.review.baseline.as_deref();
        Ok(self
            .runs
            .iter()
            .rposition(|r| Some(r.name.0.as_str()) != baseline)
            .or(self.runs.len().checked_sub(1)))
    }

    pub fn run(&self, name: &str) -> Option<&Run> {
        self.runs.iter().find(|r| r.name.0 == name)
    }

    /// The pack restricted to `cases` (in that order), with their annotations and problems:
    /// how metrics of a selection are computed, and what an exported pack must reproduce.
    pub fn subset(&self, cases: &[usize]) -> Pack {
        let pos: std::collections::HashMap<usize, usize> = cases.iter().enumerate().map(|(i, &c)| (c, i)).collect();
        Pack {
            root: self.root.clone(),
            manifest: self.manifest.clone(),
            image_root: self.image_root.clone(),
            classes: self.classes.clone(),
            cases: cases.iter().map(|&c| self.cases[c].clone()).collect(),
            ground_truth: cases.iter().map(|&c| self.ground_truth[c].clone()).collect(),
            runs: self
                .runs
                .iter()
                .map(|r| Run {
                    name: r.name.clone(),
                    sources: r.sources.clone(),
                    annotations: cases.iter().map(|&c| r.annotations[c].clone()).collect(),
                })
                .collect(),
            problems: self
                .problems
                .iter()
                .filter(|p| p.case.is_none_or(|c| pos.contains_key(&c)))
                .map(|p| Problem {
                    case: p.case.map(|c| pos[&c]),
                    ..p.clone()
                })
                .collect(),
        }
    }

    /// Problems that are errors (the pack is usable, but something in it is wrong).
    pub fn errors(&self) -> impl Iterator<Item = &Problem> {
        self.problems.iter().filter(|p| p.is_error())
    }

    /// Problems attached to one case.
    pub fn case_problems(&self, case: usize) -> impl Iterator<Item = &Problem> {
        self.problems.iter().filter(move |p| p.case == Some(case))
    }

    /// A path as the user should see it in messages: relative to the pack when inside it.
    pub fn display_path(&self, p: &Path) -> PathBuf {
        match &self.root {
            Some(root) => p
                .strip_prefix(root)
                .map(Path::to_path_buf)
                .unwrap_or_else(|_| p.to_path_buf()),
            None => p.to_path_buf(),
        }
    }
}

/// Find a case by id (`case-007.jpg`), stem (`case-007`) or 1-based position (`7`).
pub fn find_case(pack: &Pack, key: &str) -> Result<usize, LookupError> {
    if let Some(i) = pack.cases.iter().position(|c| c.id.0 == key || c.id.stem() == key) {
        return Ok(i);
    }
    if let Ok(n) = key.parse::<usize>()
        && (1..=pack.cases.len()).contains(&n)
    {
        return Ok(n - 1);
    }
    Err(LookupError::NoCase {
        key: key.to_string(),
        cases: pack.cases.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_drop_only_the_extension() {
        assert_eq!(CaseId("a/b.c/d.png".into()).stem(), "a/b.c/d");
        assert_eq!(CaseId("a.b/noext".into()).stem(), "a.b/noext");
        assert_eq!(CaseId("x.tar.png".into()).stem(), "x.tar");
    }

    #[test]
    fn an_unknown_run_lists_the_runs() {
        let e = LookupError::NoRun {
            name: "cand".into(),
            runs: vec!["baseline".into(), "candidate".into()],
        };
        assert_eq!(e.to_string(), "no run \"cand\" in the pack (runs: baseline, candidate)");
        let e = LookupError::NoRun {
            name: "x".into(),
            runs: vec![],
        };
        assert_eq!(e.to_string(), "no run \"x\" in the pack (runs: none)");
    }
}
