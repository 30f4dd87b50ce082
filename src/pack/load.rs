//! Loading a pack: resolve the manifest's paths, read every annotation file, convert each
//! format into lightbox's types and attach it to its case. Nothing here decodes an image;
//! every wrong value becomes a [`Problem`] naming the file and the field, and loading goes on.
//! COCO files are attached in `load/coco.rs`, YOLO files in `load/yolo.rs`; label masks,
//! probability maps and class scores here.

mod coco;
mod yolo;

use super::annotation::{CaseAnnotations, ProbabilitySource};
use super::classes::{self, CategoryMap};
use super::manifest::{MANIFEST_FILE, Manifest, Sources};
use super::mask_pattern::MaskPattern;
use super::paths::{join_inside, relative_slash, walk_files};
use super::problem::{Problem, Problems};
use super::{Case, CaseId, Class, Pack, Run, RunName};
use crate::formats::coco::{CocoId, CocoInstances};
use crate::formats::{image as img, json, scores};
use coco::CocoCtx;
use rustc_hash::FxHashMap as HashMap;
use std::path::{Path, PathBuf};

pub(crate) fn load(manifest: Manifest, root: Option<&Path>) -> Pack {
    let mut l = Loader {
        root: root.map(Path::to_path_buf),
        manifest_file: root
            .map(|_| PathBuf::from(MANIFEST_FILE))
            .unwrap_or_else(|| PathBuf::from("(command line)")),
        problems: Problems::default(),
    };
    let mut classes = classes::declared(&manifest, &l.manifest_file, &mut l.problems);
    let image_root = l
        .resolve("images", &manifest.images)
        .unwrap_or_else(|| PathBuf::from(&manifest.images));
    if !image_root.is_dir() {
        l.problems.push(
            Problem::error(
                &l.manifest_file,
                "images",
                format!("the image folder {} does not exist", image_root.display()),
            )
            .hint("Set `images` in lightbox.toml (or --images) to the folder holding the images"),
        );
    }

    // Ground-truth COCO defines the cases and (when the manifest has none) the classes.
    let gt_coco_path = manifest
        .ground_truth
        .coco
        .as_ref()
        .and_then(|p| l.resolve("ground_truth.coco", p));
    let gt_coco = gt_coco_path.as_ref().and_then(|p| l.read_json::<CocoInstances>(p));
    let mut category_map: CategoryMap = classes.iter().map(|c| (c.id.0 as i64, c.id)).collect();
    if let (Some(coco), Some(path)) = (&gt_coco, &gt_coco_path) {
        let shown = l.shown(path);
        classes::reconcile_categories(
            &coco.categories,
            &shown,
            &mut classes,
            &mut category_map,
            &mut l.problems,
        );
    }
    let cases = match (&gt_coco, &gt_coco_path) {
        (Some(coco), Some(path)) => l.cases_from_coco(coco, path, &image_root),
        _ => {
            let patterns: Vec<MaskPattern> = std::iter::once(&manifest.ground_truth)
                .chain(manifest.runs.values())
                .filter_map(|src| src.masks.as_ref())
                .filter_map(|p| l.root_join(p))
                .map(|p| MaskPattern::new(&p))
                .filter(|m| !m.is_default() || m.dir != image_root)
                .collect();
            l.cases_from_folder(&image_root, &patterns)
        }
    };
    let index = CaseIndex::new(&cases);
    let mut cases = cases;

    // classes declared by YOLO lists and score columns, when nothing declared them before
    if classes.is_empty() {
        classes::from_sources(&manifest, l.root.as_deref(), &mut classes, &mut category_map);
    }

    let mut gt = vec![CaseAnnotations::default(); cases.len()];
    if let (Some(coco), Some(path)) = (gt_coco, &gt_coco_path) {
        let ctx = CocoCtx::new(l.shown(path), "annotations", false, &index, &cases, &category_map);
        l.attach_coco_annotations(&coco.annotations, &ctx, &mut gt);
    }
    let env = Env {
        classes: &classes,
        index: &index,
        key: "ground_truth",
        is_gt: true,
    };
    l.attach_sources(&manifest.ground_truth, &env, &mut cases, &mut gt);

    let mut runs = Vec::new();
    for (name, sources) in &manifest.runs {
        let key = format!("runs.{name}");
        let mut ann = vec![CaseAnnotations::default(); cases.len()];
        if let Some(path) = sources.coco.as_ref().and_then(|p| l.resolve(&format!("{key}.coco"), p)) {
            l.attach_run_coco(&path, &index, &cases, &category_map, &mut ann);
        }
        let env = Env {
            classes: &classes,
            index: &index,
            key: &key,
            is_gt: false,
        };
        l.attach_sources(sources, &env, &mut cases, &mut ann);
        runs.push(Run {
            name: RunName(name.clone()),
            sources: sources.clone(),
            annotations: ann,
        });
    }

    let mut pack = Pack {
        root: root.map(Path::to_path_buf),
        manifest,
        image_root,
        classes,
        cases,
        ground_truth: gt,
        runs,
        problems: l.problems.finish(),
    };
    let mut outside = super::boundary::check_manifest(&pack);
    // the rules file the manifest names: `check` reads it, so `info` says when it cannot
    if let (Some(root), Some(r)) = (&pack.root, &pack.manifest.rules) {
        match join_inside(root, r) {
            Err(msg) => outside
                .push(Problem::error(MANIFEST_FILE, "rules", msg).hint("Keep the rules file inside the pack's folder")),
            Ok(p) if !p.is_file() => outside.push(
                Problem::error(MANIFEST_FILE, "rules", format!("{} does not exist", r.display()))
                    .hint("Fix `rules` in lightbox.toml, or write the rules file (docs/rules.md)"),
            ),
            Ok(_) => {}
        }
    }
    outside.extend(super::boundary::check(&pack));
    pack.problems.extend(outside);
    pack
}

/// What one source's files (ground truth or a run) are attached with: the pack's classes and
/// cases, the source's key in lightbox.toml (`ground_truth`, `runs.<name>`) and whether it is
/// the ground truth.
struct Env<'a> {
    classes: &'a [Class],
    index: &'a CaseIndex,
    key: &'a str,
    is_gt: bool,
}

/// Case lookup by COCO image id, by image path and by stem.
struct CaseIndex {
    by_coco: HashMap<CocoId, usize>,
    by_name: HashMap<String, usize>,
}

impl CaseIndex {
    fn new(cases: &[Case]) -> Self {
        let mut by_name = HashMap::with_capacity_and_hasher(cases.len() * 2, Default::default());
        let mut by_coco = HashMap::default();
        for (i, c) in cases.iter().enumerate() {
            by_name.entry(c.id.0.clone()).or_insert(i);
            by_name.entry(c.id.stem().to_string()).or_insert(i);
            if let Some(id) = &c.coco_id {
                by_coco.entry(id.clone()).or_insert(i);
            }
        }
        CaseIndex { by_coco, by_name }
    }

    /// A case's name (its id, the longest name it is known by).
    fn name_of(&self, case: usize) -> String {
        self.by_name
            .iter()
            .filter(|(_, v)| **v == case)
            .map(|(k, _)| k.as_str())
            .max_by_key(|k| k.len())
            .unwrap_or("?")
            .to_string()
    }

    fn name(&self, key: &str) -> Option<usize> {
        let key = key.trim_start_matches("./");
        self.by_name.get(key).copied().or_else(|| {
            let stem = CaseId(key.to_string());
            self.by_name.get(stem.stem()).copied()
        })
    }
}

struct Loader {
    root: Option<PathBuf>,
    manifest_file: PathBuf,
    problems: Problems,
}

impl Loader {
    /// A path from the manifest, checked to stay inside the pack.
    fn resolve(&mut self, key: &str, p: &Path) -> Option<PathBuf> {
        match &self.root {
            None => Some(p.to_path_buf()),
            Some(root) => match join_inside(root, p) {
                Ok(path) => Some(path),
                Err(msg) => {
                    self.problems.push(
                        Problem::error(&self.manifest_file, key, msg)
                            .hint("Keep every file of the pack inside the pack's folder"),
                    );
                    None
                }
            },
        }
    }

    /// How a file is named in messages: relative to the pack when inside it.
    fn shown(&self, p: &Path) -> PathBuf {
        match &self.root {
            Some(r) => p
                .strip_prefix(r)
                .map(Path::to_path_buf)
                .unwrap_or_else(|_| p.to_path_buf()),
            None => p.to_path_buf(),
        }
    }

    fn read_bytes(&mut self, path: &Path) -> Option<Vec<u8>> {
        match std::fs::read(path) {
            Ok(b) => Some(b),
            Err(e) => {
                let (msg, hint) = if e.kind() == std::io::ErrorKind::NotFound {
                    (
                        "file not found".to_string(),
                        "Check the path in lightbox.toml (or on the command line)",
                    )
                } else {
                    (format!("cannot read: {e}"), "Check the file's permissions")
                };
                self.problems.push(Problem::error(self.shown(path), "", msg).hint(hint));
                None
            }
        }
    }

    fn read_json<T: serde::de::DeserializeOwned>(&mut self, path: &Path) -> Option<T> {
        let bytes = self.read_bytes(path)?;
        match json::parse::<T>(&bytes) {
            Ok(v) => Some(v),
            Err(e) => {
                self.problems
                    .push(Problem::error(self.shown(path), e.path, e.message).hint(e.hint));
                None
            }
        }
    }

    fn root_join(&self, p: &Path) -> Option<PathBuf> {
        match &self.root {
            Some(r) => join_inside(r, p).ok(),
            None => Some(p.to_path_buf()),
        }
    }

    fn cases_from_folder(&mut self, image_root: &Path, masks: &[MaskPattern]) -> Vec<Case> {
        let Ok(files) = walk_files(image_root) else {
            return Vec::new();
        };
        // a folder of DICOM slices of one series is one case, a volume
        let series = crate::formats::series::folders(image_root, &files);
        let in_series = |p: &Path| p.parent().is_some_and(|d| series.iter().any(|s| s == d));
        let mut cases: Vec<Case> = files
            .iter()
            .filter(|p| !in_series(p))
            .filter(|p| img::is_image_path(p))
            .filter(|p| !masks.iter().any(|m| m.stem_of(p).is_some()))
            .chain(series.iter())
            .filter_map(|p| {
                let rel = relative_slash(image_root, p)?;
                Some(Case {
                    id: CaseId(rel),
                    image: p.clone(),
                    width: None,
                    height: None,
                    coco_id: None,
                })
            })
            .collect();
        cases.sort_by(|a, b| a.image.cmp(&b.image));
        cases
    }

    fn attach_sources(&mut self, src: &Sources, env: &Env, cases: &mut [Case], out: &mut [CaseAnnotations]) {
        let key = env.key;
        if let Some(dir) = src
            .masks
            .as_ref()
            .and_then(|p| self.resolve(&format!("{key}.masks"), p))
        {
            self.attach_masks(&dir, env, cases.len(), out);
        }
        if let Some(dir) = src
            .probabilities
            .as_ref()
            .and_then(|p| self.resolve(&format!("{key}.probabilities"), p))
        {
            self.attach_probabilities(&dir, env, out);
        }
        if let Some(dir) = src.yolo.as_ref().and_then(|p| self.resolve(&format!("{key}.yolo"), p)) {
            self.attach_yolo(&dir, src.yolo_classes.as_deref(), env, cases, out);
        }
        if let Some(file) = src
            .scores
            .as_ref()
            .and_then(|p| self.resolve(&format!("{key}.scores"), p))
        {
            self.attach_scores(&file, env, out);
        }
    }

    fn missing_dir(&mut self, key: &str, dir: &Path) -> bool {
        if dir.is_dir() {
            return false;
        }
        self.problems.push(
            Problem::error(
                &self.manifest_file,
                key.to_string(),
                format!("folder {} does not exist", self.shown(dir).display()),
            )
            .hint("Check the path; it is relative to the pack folder"),
        );
        true
    }

    fn attach_masks(&mut self, pattern_path: &Path, env: &Env, n: usize, out: &mut [CaseAnnotations]) {
        let key = format!("{}.masks", env.key);
        let what = if env.is_gt { "ground truth" } else { "run" };
        let index = env.index;
        let dir = &MaskPattern::new(pattern_path).dir;
        if self.missing_dir(&key, dir) {
            return;
        }
        let pattern = MaskPattern::new(pattern_path);
        let files = walk_files(dir).unwrap_or_default();
        let looks_like_mask = |f: &Path| pattern.stem_of(f).is_some();
        for f in files.iter().filter(|f| looks_like_mask(f)) {
            let Some(stem) = pattern.stem_of(f) else {
                continue;
            };
            let stem = CaseId(stem + ".png");
            // `<case stem>/<n>.png`: slice n of a volume's slice folder
            let slice_of = || {
                let (parent, _) = stem.stem().rsplit_once('/')?;
                crate::formats::label_png::slice_number(f)?;
                index.name(parent)
            };
            match index.name(stem.stem()) {
                Some(c) => out[c].label_mask = Some(f.clone()),
                None if let Some(c) = slice_of() => out[c].label_mask = f.parent().map(Path::to_path_buf),
                None => self.problems.push_capped(
                    "orphan mask",
                    Problem::warning(
                        self.shown(f),
                        "",
                        format!("no image in the pack is named like this mask ({}.*)", stem.stem()),
                    )
                    .hint("Masks are matched to images by name: <image stem>.png"),
                ),
            }
        }
        let missing: Vec<usize> = (0..n).filter(|&c| out[c].label_mask.is_none()).collect();
        if !missing.is_empty() && missing.len() < n {
            for c in missing {
                self.problems.push_capped(
                    "missing mask",
                    Problem::warning(self.shown(dir), "", format!("no {what} mask for this case"))
                        .hint("Add <image stem>.png, or the case is reviewed without a mask")
                        .on_case(c),
                );
            }
        } else if missing.len() == n && n > 0 {
            self.problems.push(
                Problem::error(
                    self.shown(dir),
                    "",
                    "no mask in this folder matches an image of the pack",
                )
                .hint("Masks are matched to images by name: <image stem>.png"),
            );
        }
    }

    fn attach_probabilities(&mut self, dir: &Path, env: &Env, out: &mut [CaseAnnotations]) {
        let key = format!("{}.probabilities", env.key);
        let index = env.index;
        if self.missing_dir(&key, dir) {
            return;
        }
        for f in walk_files(dir).unwrap_or_default() {
            let Some(rel) = relative_slash(dir, &f) else {
                continue;
            };
            let ext = f
                .extension()
                .and_then(|e| e.to_str())
                .unwrap_or("")
                .to_ascii_lowercase();
            if ext != "png" && ext != "npy" {
                continue;
            }
            let base = &rel[..rel.len() - ext.len() - 1];
            // `<stem>.<class>` or `<stem>` (npy with every class)
            let per_class = base.rsplit_once('.').and_then(|(stem, cls)| {
                let class = env.classes.iter().find(|c| c.name == cls)?;
                Some((stem.to_string(), class.id))
            });
            match per_class {
                Some((stem, class)) => match index.name(&stem) {
                    Some(c) => out[c]
                        .probabilities
                        .push(ProbabilitySource::Class { class, path: f.clone() }),
                    None => self.orphan_probability(&f),
                },
                None if ext == "npy" => match index.name(base) {
                    Some(c) => out[c]
                        .probabilities
                        .push(ProbabilitySource::AllClasses { path: f.clone() }),
                    None => self.orphan_probability(&f),
                },
                None => self.problems.push_capped(
                    "probability name",
                    Problem::warning(
                        self.shown(&f),
                        "",
                        "a PNG probability map must be named <image stem>.<class name>.png",
                    )
                    .hint(format!(
                        "Known classes: {}",
                        env.classes
                            .iter()
                            .map(|c| c.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                ),
            }
        }
    }

    fn orphan_probability(&mut self, f: &Path) {
        self.problems.push_capped(
            "orphan probability map",
            Problem::warning(
                self.shown(f),
                "",
                "no image in the pack is named like this probability map",
            )
            .hint("Name maps <image stem>.<class>.png|npy or <image stem>.npy"),
        );
    }

    fn attach_scores(&mut self, file: &Path, env: &Env, out: &mut [CaseAnnotations]) {
        let (is_gt, index) = (env.is_gt, env.index);
        let shown = self.shown(file);
        let Some(bytes) = self.read_bytes(file) else {
            return;
        };
        let is_csv = file.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
        let rows = if is_csv {
            let (rows, errors) = scores::parse_csv(&String::from_utf8_lossy(&bytes));
            for e in errors {
                self.problems
                    .push_capped("scores row", Problem::error(&shown, e.field, e.message).hint(e.hint));
            }
            rows
        } else {
            match scores::parse_json(&bytes) {
                Ok(r) => r,
                Err(e) => {
                    self.problems
                        .push(Problem::error(&shown, e.field, e.message).hint(e.hint));
                    return;
                }
            }
        };
        if rows.is_empty() {
            self.problems.push(
                Problem::warning(
                    &shown,
                    "",
                    "holds no scores: classification figures have nothing to use",
                )
                .hint("Write one row (CSV) or entry (JSON) per image"),
            );
        }
        let before: Vec<bool> = out.iter().map(|a| !a.scores.is_empty()).collect();
        for (image, list) in rows.iter().cloned() {
            let Some(c) = index.name(&image) else {
                self.problems.push_capped(
                    "scores image",
                    Problem::warning(
                        &shown,
                        image.clone(),
                        "no image of the pack has this name; its scores are skipped",
                    )
                    .hint("Name images by file name relative to the image folder, or by stem"),
                );
                continue;
            };
            for (name, s) in list {
                match env.classes.iter().find(|k| k.name == name) {
                    Some(k) => match out[c].scores.iter().find(|(id, _)| *id == k.id) {
                        Some(&(_, first)) => self.problems.push_capped(
                            "duplicate score",
                            Problem::error(
                                &shown,
                                format!("{image}.{name}"),
                                format!("a second score for {image}, {name}: {s} (the first is {first})"),
                            )
                            .hint("Keep one row per image: which score counts would be a guess")
                            .on_case(c),
                        ),
                        None => {
                            if is_gt && s != 0.0 && s != 1.0 {
                                self.problems.push_capped(
                                    "label value",
                                    Problem::error(
                                        &shown,
                                        format!("{image}.{name}"),
                                        format!("ground-truth label {s}: a label is 0 (absent) or 1 (present)"),
                                    )
                                    .hint("Write 0 or 1; a reader's certainty belongs in a run's scores")
                                    .on_case(c),
                                );
                                continue;
                            }
                            if !is_gt && !(0.0..=1.0).contains(&s) {
                                self.problems.push_capped(
                                    "score range",
                                    Problem::warning(
                                        &shown,
                                        format!("{image}.{name}"),
                                        format!("score {s} is outside [0, 1]"),
                                    )
                                    .hint("Thresholds, calibration and AUC read scores as probabilities; export probabilities")
                                    .on_case(c),
                                );
                            }
                            out[c].scores.push((k.id, s))
                        }
                    },
                    None => self.problems.push_capped(
                        "scores class",
                        Problem::error(
                            &shown,
                            format!("{image}.{name}"),
                            format!("{name:?} is not a class of the pack"),
                        )
                        .hint("Name score columns as in lightbox.toml [classes]")
                        .on_case(c),
                    ),
                }
            }
        }
        // cases the file has no row for: classification figures would quietly use the others
        if !rows.is_empty() {
            let missing: Vec<usize> = (0..out.len())
                .filter(|&c| !before[c] && out[c].scores.is_empty())
                .collect();
            if let Some(&first) = missing.first() {
                self.problems.push(
                    Problem::warning(
                        &shown,
                        "",
                        format!(
                            "{} of {} cases have no scores here (the first: {}); classification figures leave them out",
                            missing.len(),
                            out.len(),
                            index.name_of(first)
                        ),
                    )
                    .hint("Add a row for every image of the pack"),
                );
            }
        }
    }
}
