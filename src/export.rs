//! Exporting cases into a pack of their own — the hard cases a team keeps as its most valuable
//! test set — or appending them to one that exists.
//!
//! The exported pack is written in lightbox's own layout from what lightbox loaded (so any input
//! format comes out the same way and opens with the same metrics):
//!
//! ```text
//! OUT/lightbox.toml                       classes, sources, rules, review policy
//! OUT/images/<case>                       the image files, byte for byte
//! OUT/ground_truth/instances.json         COCO instances: every case (defines the pack's cases)
//! OUT/ground_truth/masks/<stem>.png       label masks, copied
//! OUT/ground_truth/scores.json            class labels
//! OUT/runs/<run>/results.json             COCO results (boxes, masks, scores)
//! OUT/runs/<run>/masks|probabilities/...  copied
//! OUT/rules.toml, OUT/ood.lock.json       the source's rules and out-of-distribution reference
//! OUT/provenance.json                     where each case came from: pack, case, release, reason
//! ```
//!
//! Appending de-duplicates by the SHA-256 of the image bytes: an image already in the pack
//! gains one more origin in `provenance.json` and keeps its annotations; a new image whose name
//! is taken gets its hash in its name. Files are written new-data-first and the manifest last,
//! each atomically, so an interrupted export leaves the pack as it was or as it will be.

use crate::fsutil::write_atomic;
use crate::pack::{
    CaseAnnotations, ClassSpec, Instance, MANIFEST_FILE, Manifest, Pack, ProbabilitySource, Segmentation, Sources,
};
use crate::review::hash::{sha256_file, utc_now};
use crate::workspace::Workspace;
use indexmap::IndexMap;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// The provenance file of an exported pack, relative to its root.
pub const PROVENANCE_FILE: &str = "provenance.json";

/// Where one case came from, and why it was kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Origin {
    /// The source pack's name (`name` in its manifest).
    pub pack: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pack_version: Option<String>,
    /// The source pack's folder when it was exported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The case's id in the source pack.
    pub case: String,
    /// The release under review when the case was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    /// Why it was kept (`--reason`, else the filter).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The filter that selected it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// The runs exported with it, with their models.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runs: Vec<String>,
    /// When (UTC).
    pub exported: String,
}

/// The provenance of one case of an exported pack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseProvenance {
    /// SHA-256 of the image file: what appending de-duplicates by.
    pub sha256: String,
    /// Every time this image was exported into the pack, oldest first.
    pub origins: Vec<Origin>,
}

/// `provenance.json`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    pub lightbox_provenance: u32,
    /// Case id in the exported pack → its provenance.
    pub cases: IndexMap<String, CaseProvenance>,
}

/// Why an export stopped (nothing is half-written: see the module documentation).
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// A file of the source pack lies outside it.
    #[error("{problem}; export copies only the pack's own files")]
    Outside { problem: Box<crate::pack::Problem> },
    #[error(transparent)]
    OpenTarget(#[from] crate::pack::PackError),
    #[error(
        "{}: the pack to append to has errors ({count} in all; first: {first}). Fix them (`lightbox info {}`) before appending",
        out.display(),
        out.display()
    )]
    TargetHasErrors {
        out: PathBuf,
        count: usize,
        first: Box<crate::pack::Problem>,
    },
    #[error(
        "{}: the folder exists and is not empty. Give a new folder, or --append to merge into the pack there",
        out.display()
    )]
    NotEmpty { out: PathBuf },
    #[error("{}: {}: {}. {}", path.display(), error.path, error.message, error.hint)]
    ProvenanceSyntax {
        path: PathBuf,
        error: crate::formats::json::JsonError,
    },
    #[error(
        "{}: lightbox_provenance {version} is newer than this lightbox understands (1); update lightbox",
        path.display()
    )]
    ProvenanceVersion { path: PathBuf, version: u32 },
    #[error("{}: cannot read the image: {source}", path.display())]
    ReadImage { path: PathBuf, source: std::io::Error },
    #[error("{}: cannot read: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{}: cannot create the folder: {source}", dir.display())]
    CreateDir { dir: PathBuf, source: std::io::Error },
    #[error("{}: cannot write: {source}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
    /// The workspace's folder in the new pack.
    #[error("{}: {source}", dir.display())]
    WorkspaceDir { dir: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Workspace(#[from] crate::workspace::WorkspaceError),
    #[error("{0}")]
    Serialise(#[from] serde_json::Error),
    /// A class id names another class in the target pack.
    #[error(
        "{}: class {id} is {there:?} there but {here:?} in {source_pack}. Class ids must mean the same in both packs",
        manifest.display()
    )]
    ClassId {
        manifest: PathBuf,
        id: u32,
        there: String,
        here: String,
        source_pack: String,
    },
    /// A class name has another id in the target pack.
    #[error(
        "{}: class {name:?} has id {there} there but {here} in {source_pack}. Class ids must mean the same in both packs",
        manifest.display()
    )]
    ClassName {
        manifest: PathBuf,
        name: String,
        there: u32,
        here: u32,
        source_pack: String,
    },
    #[error(
        "{}: class {name:?} has mask value {there} there but {here} in {source_pack}; label masks could not be merged",
        manifest.display()
    )]
    MaskValue {
        manifest: PathBuf,
        name: String,
        there: u16,
        here: u16,
        source_pack: String,
    },
}

fn read_error(path: &Path) -> impl FnOnce(std::io::Error) -> ExportError + '_ {
    move |source| ExportError::Read {
        path: path.to_path_buf(),
        source,
    }
}

fn create_dir(dir: &Path) -> Result<(), ExportError> {
    std::fs::create_dir_all(dir).map_err(|source| ExportError::CreateDir {
        dir: dir.to_path_buf(),
        source,
    })
}

fn image_hash(path: &Path) -> Result<String, ExportError> {
    sha256_file(path).map_err(|source| ExportError::ReadImage {
        path: path.to_path_buf(),
        source,
    })
}

impl Provenance {
    /// A pack's provenance; empty when it has none. A damaged file is an error naming it.
    pub fn load(root: &Path) -> Result<Provenance, ExportError> {
        let path = root.join(PROVENANCE_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => {
                let p: Provenance =
                    crate::formats::json::parse(&bytes).map_err(|error| ExportError::ProvenanceSyntax {
                        path: path.clone(),
                        error,
                    })?;
                if p.lightbox_provenance != 1 {
                    return Err(ExportError::ProvenanceVersion {
                        path,
                        version: p.lightbox_provenance,
                    });
                }
                Ok(p)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Provenance {
                lightbox_provenance: 1,
                cases: IndexMap::new(),
            }),
            Err(source) => Err(ExportError::Read { path, source }),
        }
    }
}

/// What to export, and where.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Request {
    /// Cases of the source pack, in the order they should appear.
    pub cases: Vec<usize>,
    /// Runs of the source pack to take along.
    pub runs: Vec<usize>,
    pub out: PathBuf,
    /// Merge into the pack at `out` instead of creating it.
    pub append: bool,
    /// The new pack's name (default: the folder's name).
    pub name: Option<String>,
    pub reason: Option<String>,
    /// Default: the source pack's version.
    pub release: Option<String>,
    pub filter: Option<String>,
    /// The rules file to copy (default: the source manifest's).
    pub rules: Option<PathBuf>,
}

/// What an export did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Outcome {
    pub out: PathBuf,
    /// Cases added: (id in the source, id in the exported pack).
    pub added: Vec<(String, String)>,
    /// Cases whose image was already in the pack: (id in the source, id it already has).
    pub duplicates: Vec<(String, String)>,
    /// Cases in the exported pack now.
    pub total: usize,
    pub runs: Vec<String>,
    /// Things the user should know (kept rules, carried-over settings).
    pub notes: Vec<String>,
}

/// One case of the pack being written: where its data comes from and its id there.
struct Entry<'p> {
    pack: &'p Pack,
    case: usize,
    id: String,
    /// Runs this entry has data for: output run name → run index in `pack`.
    runs: HashMap<String, usize>,
    /// Added by this export (its image must be copied).
    new: bool,
}

/// A run name as a folder name.
fn folder_name(run: &str) -> String {
    run.chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// `case-007.jpg` → `case-007-1a2b3c4d.jpg`.
fn with_hash(id: &str, sha: &str) -> String {
    let (stem, ext) = match id.rfind('.') {
        Some(i) if !id[i..].contains('/') => (&id[..i], &id[i..]),
        _ => (id, ""),
    };
    format!("{stem}-{}{ext}", &sha[..8])
}

fn stem(id: &str) -> &str {
    match id.rfind('.') {
        Some(i) if !id[i..].contains('/') => &id[..i],
        _ => id,
    }
}

/// Export `req.cases` of `src` (see the module documentation).
pub fn export(src: &Pack, req: &Request) -> Result<Outcome, ExportError> {
    let out = &req.out;
    // never copy a file from outside the pack into a new one, --allow-problems or not
    if let Some(p) = crate::pack::boundary::check(src).first() {
        return Err(ExportError::Outside {
            problem: Box::new(p.clone()),
        });
    }
    let target = if req.append && out.join(MANIFEST_FILE).is_file() {
        let t = Pack::open(out)?;
        if let Some(p) = t.errors().next() {
            return Err(ExportError::TargetHasErrors {
                out: out.clone(),
                count: t.errors().count(),
                first: Box::new(p.clone()),
            });
        }
        Some(t)
    } else {
        if out.exists() && std::fs::read_dir(out).map(|mut d| d.next().is_some()).unwrap_or(true) {
            return Err(ExportError::NotEmpty { out: out.clone() });
        }
        None
    };
    let mut provenance = match &target {
        Some(_) => Provenance::load(out)?,
        None => Provenance {
            lightbox_provenance: 1,
            cases: IndexMap::new(),
        },
    };
    let classes = merge_classes(src, target.as_ref(), out)?;

    // images by content
    let src_hashes: Vec<String> = req
        .cases
        .par_iter()
        .map(|&c| image_hash(&src.cases[c].image))
        .collect::<Result<_, _>>()?;
    let mut entries: Vec<Entry> = Vec::new();
    let mut by_hash: HashMap<String, String> = HashMap::new();
    let mut taken: HashSet<String> = HashSet::new();
    if let Some(t) = &target {
        let hashes: Vec<String> = t
            .cases
            .par_iter()
            .map(|c| match provenance.cases.get(&c.id.0) {
                Some(p) => Ok(p.sha256.clone()),
                None => image_hash(&c.image),
            })
            .collect::<Result<_, _>>()?;
        for (i, (c, h)) in t.cases.iter().zip(hashes).enumerate() {
            by_hash.entry(h.clone()).or_insert_with(|| c.id.0.clone());
            taken.insert(c.id.0.clone());
            provenance.cases.entry(c.id.0.clone()).or_insert(CaseProvenance {
                sha256: h,
                origins: Vec::new(),
            });
            entries.push(Entry {
                pack: t,
                case: i,
                id: c.id.0.clone(),
                runs: t
                    .runs
                    .iter()
                    .enumerate()
                    .map(|(r, run)| (run.name.0.clone(), r))
                    .collect(),
                new: false,
            });
        }
    }
    let origin = |case: &str| Origin {
        pack: src.manifest.name.clone(),
        pack_version: src.manifest.version.clone(),
        path: src.root.as_ref().map(|r| {
            std::fs::canonicalize(r)
                .unwrap_or_else(|_| r.clone())
                .display()
                .to_string()
        }),
        case: case.to_string(),
        release: req.release.clone().or_else(|| src.manifest.version.clone()),
        reason: req.reason.clone().or_else(|| req.filter.clone()),
        filter: req.filter.clone(),
        runs: req
            .runs
            .iter()
            .map(|&r| {
                let run = &src.runs[r];
                match &run.sources.model {
                    Some(m) => format!("{} ({m})", run.name.0),
                    None => run.name.0.clone(),
                }
            })
            .collect(),
        exported: utc_now(),
    };
    let mut outcome = Outcome {
        out: out.clone(),
        ..Outcome::default()
    };
    for (&c, h) in req.cases.iter().zip(&src_hashes) {
        let src_id = &src.cases[c].id.0;
        if let Some(existing) = by_hash.get(h) {
            provenance.cases[existing].origins.push(origin(src_id));
            outcome.duplicates.push((src_id.clone(), existing.clone()));
            continue;
        }
        let id = if taken.contains(src_id) {
            with_hash(src_id, h)
        } else {
            src_id.clone()
        };
        taken.insert(id.clone());
        by_hash.insert(h.clone(), id.clone());
        provenance.cases.insert(
            id.clone(),
            CaseProvenance {
                sha256: h.clone(),
                origins: vec![origin(src_id)],
            },
        );
        outcome.added.push((src_id.clone(), id.clone()));
        entries.push(Entry {
            pack: src,
            case: c,
            id,
            runs: req.runs.iter().map(|&r| (src.runs[r].name.0.clone(), r)).collect(),
            new: true,
        });
    }

    // the output's runs: the target's, then the source's chosen ones
    let mut runs: IndexMap<String, Sources> = target.as_ref().map(|t| t.manifest.runs.clone()).unwrap_or_default();
    for &r in &req.runs {
        let run = &src.runs[r];
        runs.entry(run.name.0.clone()).or_insert_with(|| Sources {
            description: run.sources.description.clone(),
            model: run.sources.model.clone(),
            author: run.sources.author.clone(),
            threshold: run.sources.threshold,
            ..Sources::default()
        });
    }
    outcome.runs = runs.keys().cloned().collect();

    create_dir(out)?;
    let image_dir_rel = target
        .as_ref()
        .map(|t| t.manifest.images.clone())
        .unwrap_or_else(|| "images".into());
    let image_dir = out.join(&image_dir_rel);
    // files are copied (in parallel) before any annotation file that names them is written,
    // and those before the manifest
    let mut w = Writes::default();
    for e in entries.iter().filter(|e| e.new) {
        w.copies
            .push((e.pack.cases[e.case].image.clone(), image_dir.join(&e.id)));
    }

    // ground truth
    let mut gt = Sources {
        description: target
            .as_ref()
            .map(|t| t.manifest.ground_truth.description.clone())
            .unwrap_or_else(|| src.manifest.ground_truth.description.clone()),
        ..Sources::default()
    };
    let gt_files = write_source(out, "ground_truth", &entries, None, &classes, true, &mut w)?;
    gt.coco = gt_files.coco;
    gt.masks = gt_files.masks;
    gt.probabilities = gt_files.probabilities;
    gt.scores = gt_files.scores;
    for (name, sources) in runs.iter_mut() {
        let detections = entries.iter().any(|e| {
            e.runs
                .get(name)
                .is_some_and(|&r| e.pack.runs[r].sources.coco.is_some() || e.pack.runs[r].sources.yolo.is_some())
        });
        let files = write_source(
            out,
            &format!("runs/{}", folder_name(name)),
            &entries,
            Some(name),
            &classes,
            detections,
            &mut w,
        )?;
        sources.coco = files.coco;
        sources.masks = files.masks;
        sources.probabilities = files.probabilities;
        sources.scores = files.scores;
        sources.yolo = None;
        sources.yolo_classes = None;
        sources.model_file = None;
    }
    w.copies.par_iter().try_for_each(|(from, to)| copy_file(from, to))?;
    w.docs.par_iter().try_for_each(|(path, bytes)| write(path, bytes))?;

    // rules and the out-of-distribution reference travel with the cases
    let mut rules_rel = target.as_ref().and_then(|t| t.manifest.rules.clone());
    let src_rules = req.rules.clone().or_else(|| {
        let p = src.manifest.rules.as_ref()?;
        Some(match &src.root {
            Some(r) => crate::pack::paths::join_inside(r, p).ok()?,
            None => p.clone(),
        })
    });
    match (&rules_rel, &src_rules) {
        (None, Some(p)) => {
            copy_file(p, &out.join("rules.toml"))?;
            rules_rel = Some("rules.toml".into());
        }
        (Some(kept), Some(p)) => {
            let same = std::fs::read(p).ok() == std::fs::read(out.join(kept)).ok();
            if !same {
                outcome.notes.push(format!(
                    "kept the pack's own rules ({}); {} differs and was not copied",
                    kept.display(),
                    p.display()
                ));
            }
        }
        _ => {}
    }
    if let Some(root) = &src.root {
        let lock = root.join(crate::check::OOD_LOCK);
        let dest = out.join(crate::check::OOD_LOCK);
        if lock.is_file() && !dest.exists() {
            copy_file(&lock, &dest)?;
            outcome.notes.push(format!(
                "copied {} so inputs are judged against the source pack's distribution",
                crate::check::OOD_LOCK
            ));
        }
    }

    // tags go with their cases
    let src_ws = Workspace::load(src).ok();
    if let Some(src_ws) = src_ws {
        let mut ws = Workspace::open(&out.join(crate::workspace::WORKSPACE_FILE))?;
        let mut changed = false;
        for e in entries.iter().filter(|e| e.new) {
            for t in src_ws.tags(&src.cases[e.case].id.0) {
                changed |= ws.add(&e.id, t)?;
            }
        }
        if changed {
            if let Some(dir) = out.join(crate::workspace::WORKSPACE_FILE).parent() {
                std::fs::create_dir_all(dir).map_err(|source| ExportError::WorkspaceDir {
                    dir: dir.to_path_buf(),
                    source,
                })?;
            }
            ws.save()?;
        }
    }

    let text = serde_json::to_string_pretty(&provenance)? + "\n";
    write(&out.join(PROVENANCE_FILE), text.as_bytes())?;

    let manifest = Manifest {
        name: target.as_ref().map(|t| t.manifest.name.clone()).unwrap_or_else(|| {
            req.name.clone().unwrap_or_else(|| {
                out.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "hard-cases".into())
            })
        }),
        version: target.as_ref().and_then(|t| t.manifest.version.clone()),
        description: target
            .as_ref()
            .and_then(|t| t.manifest.description.clone())
            .or_else(|| {
                Some(format!(
                    "Cases exported from {}{} by `lightbox export`; provenance.json says where each came from.",
                    src.manifest.name,
                    src.manifest
                        .version
                        .as_ref()
                        .map(|v| format!(" {v}"))
                        .unwrap_or_default()
                ))
            }),
        images: image_dir_rel,
        rules: rules_rel,
        classes,
        ground_truth: gt,
        runs,
        review: target.as_ref().map(|t| t.manifest.review.clone()).unwrap_or_default(),
        read_outside: Vec::new(),
    };
    let text = format!(
        "# lightbox pack manifest; every key is described in docs/formats.md.\n# Written by `lightbox export`.\n{}",
        manifest.to_toml()
    );
    write(&out.join(MANIFEST_FILE), text.as_bytes())?;
    outcome.total = entries.len();
    Ok(outcome)
}

/// The classes of the pack being written: the target's, then the source's it lacks. A class
/// that means different things in the two packs stops the export.
fn merge_classes(src: &Pack, target: Option<&Pack>, out: &Path) -> Result<Vec<ClassSpec>, ExportError> {
    let spec = |c: &crate::pack::Class| ClassSpec {
        id: c.id.0,
        name: c.name.clone(),
        kind: c.kind,
        color: c.color.clone(),
        mask_value: (c.mask_value as u32 != c.id.0).then_some(c.mask_value),
    };
    let Some(t) = target else {
        return Ok(src.classes.iter().map(spec).collect());
    };
    let mut classes: Vec<ClassSpec> = t.classes.iter().map(spec).collect();
    for c in &src.classes {
        match (t.class(c.id), t.class_by_name(&c.name)) {
            (Some(k), _) if k.name != c.name => {
                return Err(ExportError::ClassId {
                    manifest: out.join(MANIFEST_FILE),
                    id: c.id.0,
                    there: k.name.clone(),
                    here: c.name.clone(),
                    source_pack: src.manifest.name.clone(),
                });
            }
            (_, Some(k)) if k.id != c.id => {
                return Err(ExportError::ClassName {
                    manifest: out.join(MANIFEST_FILE),
                    name: c.name.clone(),
                    there: k.id.0,
                    here: c.id.0,
                    source_pack: src.manifest.name.clone(),
                });
            }
            (Some(k), _) if k.mask_value != c.mask_value => {
                return Err(ExportError::MaskValue {
                    manifest: out.join(MANIFEST_FILE),
                    name: c.name.clone(),
                    there: k.mask_value,
                    here: c.mask_value,
                    source_pack: src.manifest.name.clone(),
                });
            }
            (Some(_), _) => {}
            (None, _) => classes.push(spec(c)),
        }
    }
    Ok(classes)
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), ExportError> {
    if let Some(dir) = path.parent() {
        create_dir(dir)?;
    }
    write_atomic(path, bytes).map_err(|source| ExportError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Copy a file, unless `to` already is `from`.
fn copy_file(from: &Path, to: &Path) -> Result<(), ExportError> {
    if to.exists()
        && let (Ok(a), Ok(b)) = (std::fs::canonicalize(from), std::fs::canonicalize(to))
        && a == b
    {
        return Ok(());
    }
    if from.is_dir() {
        // a DICOM series folder: its files
        for e in std::fs::read_dir(from).map_err(read_error(from))? {
            let e = e.map_err(read_error(from))?;
            if e.file_type().is_ok_and(|t| t.is_file()) {
                copy_file(&e.path(), &to.join(e.file_name()))?;
            }
        }
        return Ok(());
    }
    let bytes = std::fs::read(from).map_err(read_error(from))?;
    if let Some(dir) = to.parent() {
        create_dir(dir)?;
    }
    crate::fsutil::write_replace(to, &bytes).map_err(|source| ExportError::Write {
        path: to.to_path_buf(),
        source,
    })
}

/// What an export will write: files to copy, then annotation documents.
#[derive(Default)]
struct Writes {
    copies: Vec<(PathBuf, PathBuf)>,
    docs: Vec<(PathBuf, Vec<u8>)>,
}

/// The files written for one source (ground truth or a run), relative to the pack.
#[derive(Default)]
struct Written {
    coco: Option<PathBuf>,
    masks: Option<PathBuf>,
    probabilities: Option<PathBuf>,
    scores: Option<PathBuf>,
}

/// Write the ground truth (`run: None`) or one run of every entry under `dir`.
fn write_source(
    out: &Path,
    dir: &str,
    entries: &[Entry],
    run: Option<&str>,
    classes: &[ClassSpec],
    detections: bool,
    writes: &mut Writes,
) -> Result<Written, ExportError> {
    fn ann<'p>(e: &Entry<'p>, run: Option<&str>) -> Option<&'p CaseAnnotations> {
        match run {
            None => e.pack.ground_truth.get(e.case),
            Some(name) => e.runs.get(name).and_then(|&r| e.pack.runs[r].annotations.get(e.case)),
        }
    }
    let class_name = |e: &Entry, id: crate::pack::ClassId| e.pack.class_name(id);
    let mut w = Written::default();

    let mut images = Vec::new();
    let mut annotations = Vec::new();
    let mut results = Vec::new();
    let mut scores: IndexMap<String, IndexMap<String, f64>> = IndexMap::new();
    // ids as the sources had them (pycocotools' results depend on them: an annotation id 0
    // never matches, ties in score are broken in image-id order), new ones where they clash
    let image_ids = keep_ids(entries.iter().map(|e| match &e.pack.cases[e.case].coco_id {
        Some(crate::formats::coco::CocoId::Int(i)) => Some(*i),
        _ => None,
    }));
    let ann_ids = keep_ids(
        entries
            .iter()
            .filter_map(|e| ann(e, None))
            .flat_map(|a| a.instances.iter().map(|i| Some(i.id))),
    );
    let mut ann_ids = ann_ids.into_iter();
    for (e, &image_id) in entries.iter().zip(&image_ids) {
        let case = &e.pack.cases[e.case];
        let size = match case.size() {
            Some(s) => Some(s),
            None => crate::formats::image::read_header(&case.image)
                .ok()
                .map(|h| (h.width, h.height)),
        };
        if run.is_none() {
            let mut im = json!({"id": image_id, "file_name": e.id});
            if let Some((wd, ht)) = size {
                im["width"] = json!(wd);
                im["height"] = json!(ht);
            }
            images.push(im);
        }
        let Some(a) = ann(e, run) else { continue };
        for inst in &a.instances {
            match run {
                None => {
                    let mut v = instance_json(inst, true);
                    v["id"] = json!(ann_ids.next());
                    v["image_id"] = json!(image_id);
                    annotations.push(v);
                }
                Some(_) => {
                    let mut v = instance_json(inst, false);
                    v["image_id"] = json!(image_id);
                    results.push(v);
                }
            }
        }
        if let Some(m) = &a.label_mask {
            // a slice folder stays a folder
            let rel = if m.is_dir() {
                format!("{dir}/masks/{}", stem(&e.id))
            } else {
                format!("{dir}/masks/{}.png", stem(&e.id))
            };
            writes.copies.push((m.clone(), out.join(&rel)));
            w.masks = Some(format!("{dir}/masks").into());
        }
        for p in &a.probabilities {
            let (path, name) = match p {
                ProbabilitySource::Class { class, path } => {
                    let ext = path.extension().and_then(|x| x.to_str()).unwrap_or("png");
                    (path, format!("{}.{}.{ext}", stem(&e.id), class_name(e, *class)))
                }
                ProbabilitySource::AllClasses { path } => (path, format!("{}.npy", stem(&e.id))),
            };
            writes
                .copies
                .push((path.clone(), out.join(format!("{dir}/probabilities/{name}"))));
            w.probabilities = Some(format!("{dir}/probabilities").into());
        }
        if !a.scores.is_empty() {
            scores.insert(
                e.id.clone(),
                a.scores.iter().map(|(c, s)| (class_name(e, *c), *s)).collect(),
            );
        }
    }
    if run.is_none() {
        let categories: Vec<Value> = classes.iter().map(|c| json!({"id": c.id, "name": c.name})).collect();
        let doc = json!({"images": images, "annotations": annotations, "categories": categories});
        let rel = format!("{dir}/instances.json");
        writes.docs.push((out.join(&rel), json_bytes(&doc)?));
        w.coco = Some(rel.into());
    } else if detections || !results.is_empty() {
        let rel = format!("{dir}/results.json");
        writes.docs.push((out.join(&rel), json_bytes(&Value::Array(results))?));
        w.coco = Some(rel.into());
    }
    if !scores.is_empty() {
        let rel = format!("{dir}/scores.json");
        let text = serde_json::to_string_pretty(&scores)? + "\n";
        writes.docs.push((out.join(&rel), text.into_bytes()));
        w.scores = Some(rel.into());
    }
    Ok(w)
}

/// Ids in order: each wanted one unless taken earlier, else one past the largest.
fn keep_ids(wanted: impl Iterator<Item = Option<i64>>) -> Vec<i64> {
    let wanted: Vec<Option<i64>> = wanted.collect();
    let mut used = HashSet::new();
    let kept: Vec<Option<i64>> = wanted.iter().map(|w| w.filter(|&i| used.insert(i))).collect();
    let mut next = used.iter().max().map_or(1, |m| m + 1);
    kept.into_iter()
        .map(|k| {
            k.unwrap_or_else(|| {
                next += 1;
                next - 1
            })
        })
        .collect()
}

fn json_bytes(v: &Value) -> Result<Vec<u8>, ExportError> {
    let mut b = serde_json::to_vec(v)?;
    b.push(b'\n');
    Ok(b)
}

/// An instance as COCO writes it: ground truth with its `area` and `iscrowd`; a detection so
/// that pycocotools' `loadRes` (and lightbox) gives back the same box and area — a mask result
/// whose area was the mask's is written without its box.
fn instance_json(inst: &Instance, gt: bool) -> Value {
    let b = inst.bbox;
    let mut v = json!({"category_id": inst.class.0});
    let seg = inst.segmentation.as_ref().map(|s| match s {
        Segmentation::Polygons(p) => json!(p),
        Segmentation::Rle(r) => json!({"size": [r.h, r.w], "counts": r.to_compressed()}),
    });
    let box_area = inst.area == b.w * b.h;
    if gt || seg.is_none() || box_area {
        v["bbox"] = json!([b.x, b.y, b.w, b.h]);
    }
    if let Some(s) = seg {
        v["segmentation"] = s;
    }
    if gt {
        v["area"] = json!(inst.area);
        v["iscrowd"] = json!(u8::from(inst.iscrowd));
    } else {
        v["score"] = json!(inst.score.unwrap_or(1.0));
    }
    v
}

/// A summary of an outcome, for people.
pub fn describe(o: &Outcome) -> String {
    let mut s = format!(
        "{}: {} case{} added, {} already there (by image content), {} in the pack now",
        o.out.display(),
        o.added.len(),
        if o.added.len() == 1 { "" } else { "s" },
        o.duplicates.len(),
        o.total
    );
    let renamed: Vec<String> = o
        .added
        .iter()
        .filter(|(a, b)| a != b)
        .map(|(a, b)| format!("{a} → {b}"))
        .collect();
    if !renamed.is_empty() {
        s.push_str(&format!(
            "; renamed (name taken by another image): {}",
            renamed.join(", ")
        ));
    }
    s
}

/// The origins of a case, one line each (the dashboard's details pane).
pub fn origin_lines(p: &CaseProvenance) -> Vec<String> {
    p.origins
        .iter()
        .map(|o| {
            let mut s = format!("{} {}", o.pack, o.case);
            if let Some(r) = &o.release {
                s.push_str(&format!(" · {r}"));
            }
            if let Some(r) = &o.reason {
                s.push_str(&format!(" · {r}"));
            }
            s
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_kept_unless_taken() {
        assert_eq!(
            keep_ids([Some(0), Some(5), Some(5), None, Some(2)].into_iter()),
            [0, 5, 6, 7, 2]
        );
        assert_eq!(keep_ids([None, None].into_iter()), [1, 2]);
    }

    #[test]
    fn taken_names_get_the_image_hash() {
        let h = "1a2b3c4d5e6f";
        assert_eq!(with_hash("case-007.jpg", h), "case-007-1a2b3c4d.jpg");
        assert_eq!(with_hash("a.b/noext", h), "a.b/noext-1a2b3c4d");
        assert_eq!(stem("dir/x.tar.png"), "dir/x.tar");
        assert_eq!(folder_name("cand/idate v2"), "cand_idate_v2");
    }

    #[test]
    fn a_class_clash_names_the_manifest_and_the_class() {
        let e = ExportError::ClassId {
            manifest: PathBuf::from("hard/lightbox.toml"),
            id: 2,
            there: "heart".into(),
            here: "left_lung".into(),
            source_pack: "chest".into(),
        };
        assert_eq!(
            e.to_string(),
            "hard/lightbox.toml: class 2 is \"heart\" there but \"left_lung\" in chest. Class ids must mean the same in both packs"
        );
    }
}
