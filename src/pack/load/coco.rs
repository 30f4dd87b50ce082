//! Attaching COCO files: a ground-truth instances file's images become the pack's cases, and
//! every annotation or detection (ground truth, or a run's results or instances file) is
//! converted by [`formats::coco::convert`](crate::formats::coco::convert) and attached to its
//! case by image id, each problem reported with its JSON path.

use super::{CaseIndex, Loader};
use crate::formats::coco::convert::to_instance;
use crate::formats::coco::{CocoAnnotation, CocoId, CocoInstances};
use crate::formats::image as img;
use crate::pack::annotation::CaseAnnotations;
use crate::pack::classes::CategoryMap;
use crate::pack::paths::join_inside;
use crate::pack::problem::Problem;
use crate::pack::{Case, CaseId};
use rustc_hash::FxHashMap as HashMap;
use std::path::{Path, PathBuf};

impl Loader {
    pub(super) fn cases_from_coco(&mut self, coco: &CocoInstances, path: &Path, image_root: &Path) -> Vec<Case> {
        let shown = self.shown(path);
        let mut cases = Vec::with_capacity(coco.images.len());
        let mut seen_ids: HashMap<&CocoId, usize> = HashMap::default();
        let mut seen_names: HashMap<&str, usize> = HashMap::default();
        for (i, im) in coco.images.iter().enumerate() {
            let field = format!("images[{i}]");
            if let Some(first) = seen_ids.insert(&im.id, i) {
                self.problems.push_capped(
                    "duplicate image id",
                    Problem::error(
                        &shown,
                        format!("{field}.id"),
                        format!("image id {} is also images[{first}]", im.id),
                    )
                    .hint("Image ids must be unique; this entry is skipped"),
                );
                continue;
            }
            if let Some(first) = seen_names.insert(im.file_name.as_str(), i) {
                self.problems.push_capped(
                    "duplicate file_name",
                    Problem::error(
                        &shown,
                        format!("{field}.file_name"),
                        format!("{:?} is also images[{first}]", im.file_name),
                    )
                    .hint("Each image may be listed once; this entry is skipped"),
                );
                continue;
            }
            let image = match join_inside(image_root, Path::new(&im.file_name)) {
                Ok(p) => p,
                Err(msg) => {
                    self.problems.push_capped(
                        "file_name escapes",
                        Problem::error(&shown, format!("{field}.file_name"), msg)
                            .hint("file_name is relative to the image folder and must stay inside the pack"),
                    );
                    continue;
                }
            };
            let idx = cases.len();
            let id = CaseId(im.file_name.trim_start_matches("./").to_string());
            let (w, h) = (im.width, im.height);
            if w == 0 || h == 0 {
                self.problems.push_capped(
                    "zero size",
                    Problem::error(
                        &shown,
                        format!("{field}.width"),
                        format!("declared size {w}×{h} is empty"),
                    )
                    .hint("Set width and height to the image's pixel size")
                    .on_case(idx),
                );
            } else if let Err(e) = img::check_dimensions(w, h) {
                self.problems.push_capped(
                    "too large",
                    Problem::error(&shown, format!("{field}.width"), format!("declared size: {e}"))
                        .hint(e.hint())
                        .on_case(idx),
                );
            }
            let fits = |v: u64| u32::try_from(v).ok().filter(|&v| v > 0);
            cases.push(Case {
                id,
                image,
                width: fits(w),
                height: fits(h),
                coco_id: Some(im.id.clone()),
            });
        }
        cases
    }

    pub(super) fn attach_coco_annotations(
        &mut self,
        anns: &[CocoAnnotation],
        ctx: &CocoCtx,
        out: &mut [CaseAnnotations],
    ) {
        let prefix = ctx.prefix;
        // pycocotools indexes ground truth by id (`anns[id] = ann`): of two annotations with one
        // id it evaluates the later one twice and never the earlier
        let mut ids: HashMap<i64, usize> = HashMap::default();
        for (i, a) in anns.iter().enumerate() {
            if !ctx.is_result
                && let Some(CocoId::Int(id)) = &a.id
                && let Some(first) = ids.insert(*id, i)
            {
                ids.insert(*id, first);
                let case = ctx.index.by_coco.get(&a.image_id).copied();
                let mut p = Problem::error(
                    &ctx.shown,
                    format!("{prefix}[{i}].id"),
                    format!("annotation id {id} is also the id of {prefix}[{first}]"),
                )
                .hint("Give every annotation its own id: pycocotools keeps one annotation per id, so evaluation would differ from the file");
                if let Some(c) = case {
                    p = p.on_case(c);
                }
                self.problems.push_capped("duplicate annotation id", p);
                continue;
            }
            self.attach_one(ctx, i, a, out);
        }
    }

    /// Convert one COCO annotation or detection and attach it to its case; its field path is
    /// only formatted when there is a problem to report.
    fn attach_one(&mut self, ctx: &CocoCtx, i: usize, a: &CocoAnnotation, out: &mut [CaseAnnotations]) {
        let field = || {
            if ctx.prefix.is_empty() {
                format!("[{i}]")
            } else {
                format!("{}[{i}]", ctx.prefix)
            }
        };
        let Some(&case) = ctx.index.by_coco.get(&a.image_id) else {
            self.problems.push_capped(
                "unknown image_id",
                Problem::error(&ctx.shown, format!("{}.image_id", field()), format!("image_id {} is not in the ground truth's images", a.image_id))
                    .hint("Results must use the image ids of the ground-truth COCO file; check that both come from the same dataset version"),
            );
            return;
        };
        let Some(&class) = ctx.map.get(&a.category_id) else {
            self.problems.push_capped(
                "unknown category",
                Problem::error(
                    &ctx.shown,
                    format!("{}.category_id", field()),
                    format!(
                        "category_id {} is not in the pack's classes (known: {})",
                        a.category_id, ctx.known
                    ),
                )
                .hint("Check the category mapping in lightbox.toml [classes]")
                .on_case(case),
            );
            return;
        };
        match to_instance(a, ctx.is_result, class, ctx.cases[case].size(), i as i64 + 1) {
            Ok((inst, warnings)) => {
                for w in warnings {
                    self.problems.push_capped(
                        w.kind(),
                        Problem::warning(&ctx.shown, format!("{}{}", field(), w.field()), w.to_string())
                            .hint(w.hint())
                            .on_case(case),
                    );
                }
                out[case].instances.push(inst);
            }
            Err(e) => self.problems.push_capped(
                e.kind(),
                Problem::error(&ctx.shown, format!("{}{}", field(), e.field()), e.to_string())
                    .hint(e.hint())
                    .on_case(case),
            ),
        }
    }

    pub(super) fn attach_run_coco(
        &mut self,
        path: &Path,
        index: &CaseIndex,
        cases: &[Case],
        map: &CategoryMap,
        out: &mut [CaseAnnotations],
    ) {
        let Some(bytes) = self.read_bytes(path) else {
            return;
        };
        let shown = self.shown(path);
        let ctx = CocoCtx::new(shown.clone(), "", true, index, cases, map);
        let no_ids = index.by_coco.is_empty();
        let mut unmappable = false;
        let parsed = crate::formats::coco::parse_run_file(&bytes, |i, a| {
            if no_ids {
                unmappable = true;
            } else {
                self.attach_one(&ctx, i, &a, out);
            }
        });
        if unmappable {
            self.problems.push(
                Problem::error(&shown, "[0].image_id", "COCO results refer to images by image_id, but the pack's ground truth has no COCO images list")
                    .hint("Add the COCO instances file as `ground_truth.coco` (or --gt) so image ids can be matched to image files"),
            );
        }
        let inst = match parsed {
            Ok(None) => return,
            Ok(Some(inst)) => inst,
            Err(e) => {
                self.problems
                    .push(Problem::error(&shown, e.path, e.message).hint(e.hint));
                return;
            }
        };
        // An instances-shaped run file has its own image ids: match its images to the pack's
        // cases by file name. Without an images list, its ids are the ground truth's.
        let local;
        let ids = if inst.images.is_empty() {
            index
        } else {
            let mut by_coco = HashMap::default();
            for (i, im) in inst.images.iter().enumerate() {
                match index.name(&im.file_name) {
                    Some(c) => {
                        by_coco.insert(im.id.clone(), c);
                    }
                    None => self.problems.push_capped(
                        "unknown image",
                        Problem::warning(
                            &shown,
                            format!("images[{i}].file_name"),
                            format!("{:?} is not an image of the pack", im.file_name),
                        )
                        .hint("Its annotations are skipped"),
                    ),
                }
            }
            local = CaseIndex {
                by_coco,
                by_name: HashMap::default(),
            };
            &local
        };
        let is_result = inst.annotations.iter().any(|a| a.score.is_some());
        let ctx = CocoCtx::new(shown, "annotations", is_result, ids, cases, map);
        self.attach_coco_annotations(&inst.annotations, &ctx, out);
    }
}

fn list_ids(ids: &[i64]) -> String {
    if ids.is_empty() {
        return "none".into();
    }
    let contiguous = ids.windows(2).all(|w| w[1] == w[0] + 1);
    if contiguous && ids.len() > 2 {
        format!("{}..={}", ids[0], ids[ids.len() - 1])
    } else {
        ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", ")
    }
}

/// What every annotation of one COCO file is checked against.
pub(super) struct CocoCtx<'a> {
    shown: PathBuf,
    prefix: &'static str,
    is_result: bool,
    index: &'a CaseIndex,
    cases: &'a [Case],
    map: &'a CategoryMap,
    known: String,
}

impl<'a> CocoCtx<'a> {
    pub(super) fn new(
        shown: PathBuf,
        prefix: &'static str,
        is_result: bool,
        index: &'a CaseIndex,
        cases: &'a [Case],
        map: &'a CategoryMap,
    ) -> Self {
        let mut ids: Vec<i64> = map.keys().copied().collect();
        ids.sort_unstable();
        CocoCtx {
            shown,
            prefix,
            is_result,
            index,
            cases,
            map,
            known: list_ids(&ids),
        }
    }
}
