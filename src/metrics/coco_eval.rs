//! COCO evaluation (bbox and segm) with exactly pycocotools' `COCOeval` semantics: the same
//! matching, the same accumulation, the same 12 summary figures, bit for bit.
//!
//! What "exactly" takes, point by point (see `../shared/reference/pycocotools.md`):
//! IoU thresholds `i*step + 0.5` and recall thresholds `i*0.01` as numpy's `linspace` computes
//! them; detections stable-sorted by score and cut to the largest maxDets *per image and
//! category*; area ranges inclusive at both ends and read from the ground truth's `area` field;
//! crowd regions matched many times with intersection over detection area; ignored ground truth
//! sorted last and only matched when nothing better is left; ties in IoU going to the later
//! ground truth; a ground truth with id 0 counting as unmatched; accumulation over images in
//! sorted id order with a stable sort; 101-point interpolation whose tail stays 0; -1 where a
//! figure is undefined; and means taken with numpy's pairwise summation.
//!
//! The work is split over images (matching) and categories (accumulation) with rayon.

use super::pairwise;
use crate::geometry::{BBox, Rle, polygon};
use crate::pack::{ClassId, Instance, Pack, Segmentation};
use rayon::prelude::*;
use serde::Serialize;
use std::borrow::Cow;

/// Which geometry is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IouType {
    Bbox,
    Segm,
}

impl std::str::FromStr for IouType {
    type Err = ParamsError;
    fn from_str(s: &str) -> Result<Self, ParamsError> {
        match s {
            "bbox" => Ok(IouType::Bbox),
            "segm" => Ok(IouType::Segm),
            _ => Err(ParamsError::UnknownIouType(s.to_string())),
        }
    }
}

/// Evaluation parameters the evaluation cannot work with.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParamsError {
    #[error("unknown IoU type {0:?}; use bbox or segm")]
    UnknownIouType(String),
    #[error("{0} IoU thresholds given; give between 1 and 64")]
    IouThresholdCount(usize),
    #[error("IoU threshold {0} is outside [0, 1]")]
    IouThresholdRange(f64),
    #[error("maxDets must be one or more positive numbers")]
    MaxDets,
    #[error("at least one area range is needed")]
    NoAreaRange,
}

/// An area range as pycocotools names it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AreaRange {
    pub label: String,
    pub lo: f64,
    pub hi: f64,
}

/// Evaluation parameters (pycocotools `Params.setDetParams` by default).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Params {
    pub iou_type: IouType,
    pub iou_thrs: Vec<f64>,
    pub rec_thrs: Vec<f64>,
    /// Sorted ascending, as `evaluate()` sorts them.
    pub max_dets: Vec<usize>,
    pub area_rngs: Vec<AreaRange>,
}

/// `np.linspace(.5, .95, 10)` exactly: `i*step + .5`, the last value forced.
pub fn default_iou_thrs() -> Vec<f64> {
    linspace(0.5, 0.95, 10)
}

/// `np.linspace(0, 1, 101)` exactly.
pub fn default_rec_thrs() -> Vec<f64> {
    linspace(0.0, 1.0, 101)
}

/// numpy's `linspace(start, stop, num)` for `num ≥ 2`: `i*step + start`, last value = `stop`.
pub fn linspace(start: f64, stop: f64, num: usize) -> Vec<f64> {
    if num == 1 {
        return vec![start];
    }
    let step = (stop - start) / (num - 1) as f64;
    let mut v: Vec<f64> = (0..num).map(|i| i as f64 * step + start).collect();
    v[num - 1] = stop;
    v
}

impl Params {
    pub fn new(iou_type: IouType) -> Self {
        Params {
            iou_type,
            iou_thrs: default_iou_thrs(),
            rec_thrs: default_rec_thrs(),
            max_dets: vec![1, 10, 100],
            area_rngs: vec![
                AreaRange {
                    label: "all".into(),
                    lo: 0.0,
                    hi: 1e10,
                },
                AreaRange {
                    label: "small".into(),
                    lo: 0.0,
                    hi: 1024.0,
                },
                AreaRange {
                    label: "medium".into(),
                    lo: 1024.0,
                    hi: 9216.0,
                },
                AreaRange {
                    label: "large".into(),
                    lo: 9216.0,
                    hi: 1e10,
                },
            ],
        }
    }

    /// Check what the evaluation cannot work with.
    pub fn validate(&self) -> Result<(), ParamsError> {
        if self.iou_thrs.is_empty() || self.iou_thrs.len() > 64 {
            return Err(ParamsError::IouThresholdCount(self.iou_thrs.len()));
        }
        if let Some(&t) = self.iou_thrs.iter().find(|t| !(0.0..=1.0).contains(*t)) {
            return Err(ParamsError::IouThresholdRange(t));
        }
        if self.max_dets.is_empty() || self.max_dets.contains(&0) {
            return Err(ParamsError::MaxDets);
        }
        if self.area_rngs.is_empty() {
            return Err(ParamsError::NoAreaRange);
        }
        Ok(())
    }

    #[allow(clippy::expect_used)] // cannot fail: Params::validate refuses an empty maxDets
    fn max_det(&self) -> usize {
        *self.max_dets.last().expect("validated")
    }
}

/// One image to evaluate: the case it is, its size (to rasterise polygons) and its annotations.
#[derive(Debug, Clone, Copy)]
pub struct EvalImage<'a> {
    pub case: usize,
    pub width: u32,
    pub height: u32,
    pub gt: &'a [Instance],
    pub dt: &'a [Instance],
}

/// Matching results for one area range of one (image, category).
#[derive(Debug, Clone, PartialEq)]
pub struct AreaMatch {
    /// Ground truth (indices into [`ImageCategory::gt`]) in the order matching saw them:
    /// stable-sorted so the ignored ones come last.
    pub gt_order: Vec<u32>,
    /// Whether each ground truth in `gt_order` is ignored (crowd or out of the area range).
    pub gt_ignore: Vec<bool>,
    /// Per ground truth in `gt_order`: bit t set when matched at IoU threshold t.
    pub gt_matched: Vec<u64>,
    /// Per detection (score order): bit t set when matched at threshold t to a ground truth whose
    /// id is not 0 (pycocotools' `dtm != 0`).
    pub dt_matched: Vec<u64>,
    /// Per detection: bit t set when ignored at threshold t (matched to an ignored ground truth,
    /// or unmatched and out of the area range).
    pub dt_ignore: Vec<u64>,
    /// Ground truth that counts (`gtIgnore == 0`).
    pub npig: u32,
}

/// Everything evaluated for one category on one image.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageCategory {
    /// Category position in [`CocoEval::categories`].
    pub category: u32,
    /// Detections (indices into the case's run instances) in score order, cut to the largest
    /// maxDets.
    pub dt: Vec<u32>,
    pub scores: Vec<f64>,
    /// Ground truth (indices into the case's ground-truth instances) in file order.
    pub gt: Vec<u32>,
    /// One per area range.
    pub areas: Vec<AreaMatch>,
    /// For the first area range ("all"): per threshold t, per detection, the ground truth it
    /// matched (index into `gt`), or -1. Laid out `[t * dt.len() + d]`.
    pub matches: Vec<i32>,
}

impl ImageCategory {
    /// The ground truth (index into `gt`) matched by detection `d` at threshold `t`, area "all".
    pub fn matched_gt(&self, t: usize, d: usize) -> Option<usize> {
        let m = self.matches[t * self.dt.len() + d];
        (m >= 0).then_some(m as usize)
    }
}

/// One image's evaluation: the (image, category) pairs that have ground truth or detections.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageEval {
    pub case: usize,
    pub categories: Vec<ImageCategory>,
}

/// True/false positives and misses on one image at one IoU threshold (area "all", largest
/// maxDets), as pycocotools' evalImgs define them: crowd-matched detections are neither.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub tp: u32,
    pub fp: u32,
    #[serde(rename = "fn")]
    pub fn_: u32,
}

impl ImageEval {
    pub fn counts(&self, t: usize) -> Counts {
        let mut c = Counts::default();
        let bit = 1u64 << t;
        for ic in &self.categories {
            let a = &ic.areas[0];
            for d in 0..ic.dt.len() {
                if a.dt_ignore[d] & bit != 0 {
                    continue;
                }
                if a.dt_matched[d] & bit != 0 {
                    c.tp += 1;
                } else {
                    c.fp += 1;
                }
            }
            for (g, &ig) in a.gt_ignore.iter().enumerate() {
                if !ig && a.gt_matched[g] & bit == 0 {
                    c.fn_ += 1;
                }
            }
        }
        c
    }
}

/// The result: pycocotools' `eval` arrays, `stats`, and the per-image matches.
#[derive(Debug, Clone)]
pub struct CocoEval {
    pub params: Params,
    pub categories: Vec<ClassId>,
    /// Per image in evaluation order (sorted COCO image id).
    pub images: Vec<ImageEval>,
    /// `precision[t][r][k][a][m]`, flat; -1 where undefined.
    pub precision: Vec<f64>,
    /// `recall[t][k][a][m]`, flat; -1 where undefined.
    pub recall: Vec<f64>,
    /// `scores[t][r][k][a][m]`, flat: the score at which each recall threshold is reached.
    pub scores: Vec<f64>,
    /// The 12 summary figures of `COCOeval.summarize()`.
    pub stats: Vec<f64>,
}

/// Names of the 12 summary figures, in `stats` order.
pub const STAT_NAMES: [&str; 12] = [
    "AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl",
];

/// Why an evaluation could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EvalError {
    #[error(transparent)]
    Params(#[from] ParamsError),
    #[error("case {case}: image size unknown, needed to rasterise polygons for segm evaluation")]
    UnknownSize { case: String },
    #[error("the pack has no run {0:?}")]
    NoRun(String),
}

impl CocoEval {
    fn dims(&self) -> (usize, usize, usize, usize, usize) {
        (
            self.params.iou_thrs.len(),
            self.params.rec_thrs.len(),
            self.categories.len(),
            self.params.area_rngs.len(),
            self.params.max_dets.len(),
        )
    }

    /// `precision[t, r, k, a, m]`.
    pub fn precision_at(&self, t: usize, r: usize, k: usize, a: usize, m: usize) -> f64 {
        let (_, nr, nk, na, nm) = self.dims();
        self.precision[(((t * nr + r) * nk + k) * na + a) * nm + m]
    }

    /// `recall[t, k, a, m]`.
    pub fn recall_at(&self, t: usize, k: usize, a: usize, m: usize) -> f64 {
        let (_, _, nk, na, nm) = self.dims();
        self.recall[((t * nk + k) * na + a) * nm + m]
    }

    /// Per-category AP (area "all", largest maxDets), Detectron2's convention: the mean of
    /// `precision[:, :, k, 0, -1]` over defined entries; `None` without non-crowd ground truth.
    pub fn class_ap(&self, k: usize) -> Option<f64> {
        self.class_ap_at(k, None)
    }

    /// As [`CocoEval::class_ap`], at one IoU threshold index (e.g. AP50) or over all.
    pub fn class_ap_at(&self, k: usize, t: Option<usize>) -> Option<f64> {
        let (nt, nr, _, _, nm) = self.dims();
        let ts: Vec<usize> = match t {
            Some(t) => vec![t],
            None => (0..nt).collect(),
        };
        let mut v = Vec::with_capacity(ts.len() * nr);
        for t in ts {
            for r in 0..nr {
                let p = self.precision_at(t, r, k, 0, nm - 1);
                if p > -1.0 {
                    v.push(p);
                }
            }
        }
        pairwise::mean(&v)
    }

    /// Per-category recall (area "all", largest maxDets), averaged over IoU thresholds.
    pub fn class_ar(&self, k: usize) -> Option<f64> {
        let (nt, _, _, _, nm) = self.dims();
        let v: Vec<f64> = (0..nt)
            .map(|t| self.recall_at(t, k, 0, nm - 1))
            .filter(|&r| r > -1.0)
            .collect();
        pairwise::mean(&v)
    }

    /// The precision–recall curve of category `k` at threshold index `t` (area "all", largest
    /// maxDets): `(recall threshold, precision, score)` for each recall threshold reached.
    pub fn pr_curve(&self, k: usize, t: usize) -> Vec<(f64, f64, f64)> {
        let (_, nr, nk, na, nm) = self.dims();
        (0..nr)
            .filter_map(|r| {
                let i = (((t * nr + r) * nk + k) * na) * nm + nm - 1;
                let p = self.precision[i];
                (p > -1.0 && self.scores[i] > -1.0 && !(p == 0.0 && self.scores[i] == 0.0))
                    .then(|| (self.params.rec_thrs[r], p, self.scores[i]))
            })
            .collect()
    }

    /// The index of an IoU threshold, by exact equality (as `np.where(iouThr == p.iouThrs)`).
    pub fn iou_index(&self, thr: f64) -> Option<usize> {
        self.params.iou_thrs.iter().position(|&t| t == thr)
    }
}

/// Evaluate one run of a pack against its ground truth, over every case.
pub fn evaluate_pack(pack: &Pack, run: usize, params: &Params) -> Result<CocoEval, EvalError> {
    let Some(r) = pack.runs.get(run) else {
        return Err(EvalError::NoRun(format!("#{run}")));
    };
    // images in sorted COCO id order when the ground truth is COCO (pycocotools sorts imgIds),
    // else in case order
    let mut order: Vec<usize> = (0..pack.cases.len()).collect();
    if pack.cases.iter().all(|c| c.coco_id.is_some()) {
        order.sort_by(|&a, &b| pack.cases[a].coco_id.cmp(&pack.cases[b].coco_id));
    }
    let mut images = Vec::with_capacity(order.len());
    for &i in &order {
        let case = &pack.cases[i];
        let gt = pack.ground_truth.get(i).map(|a| a.instances.as_slice()).unwrap_or(&[]);
        let dt = r.annotations.get(i).map(|a| a.instances.as_slice()).unwrap_or(&[]);
        let (width, height) = match case.size() {
            Some(s) => s,
            None if params.iou_type == IouType::Segm && (!gt.is_empty() || !dt.is_empty()) => {
                return Err(EvalError::UnknownSize {
                    case: case.id.0.clone(),
                });
            }
            None => (0, 0),
        };
        images.push(EvalImage {
            case: i,
            width,
            height,
            gt,
            dt,
        });
    }
    // every class, as pycocotools takes every category listed: one without ground truth is
    // undefined (-1) and changes no figure
    let mut categories: Vec<ClassId> = pack.classes.iter().map(|c| c.id).collect();
    categories.sort();
    evaluate(&images, &categories, params)
}

/// Evaluate `images` (in the order accumulation must see them: sorted image id) over
/// `categories` (sorted category id).
pub fn evaluate(images: &[EvalImage], categories: &[ClassId], params: &Params) -> Result<CocoEval, EvalError> {
    params.validate()?;
    let cat_index: rustc_hash::FxHashMap<ClassId, u32> =
        categories.iter().enumerate().map(|(k, c)| (*c, k as u32)).collect();
    let evals: Vec<ImageEval> = images
        .par_iter()
        .with_min_len(8)
        .map(|im| {
            crate::job::priority::yield_to_foreground();
            evaluate_image(im, &cat_index, params)
        })
        .collect();

    let (nt, nr, nk, na, nm) = (
        params.iou_thrs.len(),
        params.rec_thrs.len(),
        categories.len(),
        params.area_rngs.len(),
        params.max_dets.len(),
    );
    // per category: the (image, category) entries in image order
    let mut by_cat: Vec<Vec<(u32, u32)>> = vec![Vec::new(); nk];
    for (i, e) in evals.iter().enumerate() {
        for (j, ic) in e.categories.iter().enumerate() {
            by_cat[ic.category as usize].push((i as u32, j as u32));
        }
    }
    let per_cat: Vec<CatAccum> = by_cat
        .par_iter()
        .map(|entries| accumulate_category(&evals, entries, params))
        .collect();

    let mut precision = vec![-1.0; nt * nr * nk * na * nm];
    let mut scores = vec![-1.0; nt * nr * nk * na * nm];
    let mut recall = vec![-1.0; nt * nk * na * nm];
    for (k, acc) in per_cat.iter().enumerate() {
        for a in 0..na {
            for m in 0..nm {
                let Some(cell) = &acc.cells[a * nm + m] else {
                    continue;
                };
                for t in 0..nt {
                    recall[((t * nk + k) * na + a) * nm + m] = cell.recall[t];
                    for r in 0..nr {
                        let i = (((t * nr + r) * nk + k) * na + a) * nm + m;
                        precision[i] = cell.precision[t * nr + r];
                        scores[i] = cell.scores[t * nr + r];
                    }
                }
            }
        }
    }
    let mut eval = CocoEval {
        params: params.clone(),
        categories: categories.to_vec(),
        images: evals,
        precision,
        recall,
        scores,
        stats: Vec::new(),
    };
    eval.stats = summarize(&eval);
    Ok(eval)
}

/// Sort key for "descending score, stable": numpy's `argsort(-scores, kind='mergesort')`.
fn by_score_desc(a: f64, b: f64) -> std::cmp::Ordering {
    // -a vs -b ascending; NaN sorts last in numpy
    match (a.is_nan(), b.is_nan()) {
        (false, false) => b.partial_cmp(&a).unwrap_or(std::cmp::Ordering::Equal),
        (true, false) => std::cmp::Ordering::Greater,
        (false, true) => std::cmp::Ordering::Less,
        (true, true) => std::cmp::Ordering::Equal,
    }
}

/// A mask for segm evaluation, as pycocotools' `annToRLE` makes it: polygons rasterised on the
/// image grid; a box-only detection becomes the box's polygon (`loadRes` adds it).
fn instance_rle(inst: &Instance, h: u32, w: u32) -> Cow<'_, Rle> {
    match &inst.segmentation {
        Some(Segmentation::Rle(r)) => Cow::Borrowed(r),
        Some(Segmentation::Polygons(p)) => Cow::Owned(polygon::rasterize_parts(p, h, w)),
        None => {
            let b = inst.bbox;
            let (x1, y1, x2, y2) = (b.x, b.y, b.x + b.w, b.y + b.h);
            Cow::Owned(polygon::rasterize_parts(&[vec![x1, y1, x1, y2, x2, y2, x2, y1]], h, w))
        }
    }
}

fn evaluate_image(im: &EvalImage, cat_index: &rustc_hash::FxHashMap<ClassId, u32>, p: &Params) -> ImageEval {
    // group by category, keeping file order within each
    let mut gt: Vec<(u32, u32)> = im
        .gt
        .iter()
        .enumerate()
        .filter_map(|(i, g)| cat_index.get(&g.class).map(|&k| (k, i as u32)))
        .collect();
    let mut dt: Vec<(u32, u32)> = im
        .dt
        .iter()
        .enumerate()
        .filter_map(|(i, d)| cat_index.get(&d.class).map(|&k| (k, i as u32)))
        .collect();
    gt.sort_by_key(|x| x.0);
    dt.sort_by_key(|x| x.0);
    let mut out = Vec::new();
    let (mut gi, mut di) = (0, 0);
    while gi < gt.len() || di < dt.len() {
        let k = match (gt.get(gi), dt.get(di)) {
            (Some(g), Some(d)) => g.0.min(d.0),
            (Some(g), None) => g.0,
            (None, Some(d)) => d.0,
            (None, None) => unreachable!(),
        };
        let g0 = gi;
        while gi < gt.len() && gt[gi].0 == k {
            gi += 1;
        }
        let d0 = di;
        while di < dt.len() && dt[di].0 == k {
            di += 1;
        }
        let gts: Vec<u32> = gt[g0..gi].iter().map(|x| x.1).collect();
        let dts: Vec<u32> = dt[d0..di].iter().map(|x| x.1).collect();
        out.push(evaluate_image_category(im, k, gts, dts, p));
    }
    ImageEval {
        case: im.case,
        categories: out,
    }
}

fn evaluate_image_category(im: &EvalImage, k: u32, gts: Vec<u32>, mut dts: Vec<u32>, p: &Params) -> ImageCategory {
    dts.sort_by(|&a, &b| by_score_desc(score(&im.dt[a as usize]), score(&im.dt[b as usize])));
    dts.truncate(p.max_det());
    let (nd, ng, nt) = (dts.len(), gts.len(), p.iou_thrs.len());
    let crowd: Vec<bool> = gts.iter().map(|&g| im.gt[g as usize].iscrowd).collect();

    // IoU matrix, row per detection (score order), column per ground truth (file order)
    let mut ious = vec![0.0f64; nd * ng];
    if nd > 0 && ng > 0 {
        match p.iou_type {
            IouType::Bbox => {
                for (d, &di) in dts.iter().enumerate() {
                    let db = &im.dt[di as usize].bbox;
                    for (g, &gi) in gts.iter().enumerate() {
                        ious[d * ng + g] = db.iou(&im.gt[gi as usize].bbox, crowd[g]);
                    }
                }
            }
            IouType::Segm => {
                let (h, w) = (im.height, im.width);
                let gm: Vec<(Cow<Rle>, BBox)> = gts
                    .iter()
                    .map(|&g| {
                        let r = instance_rle(&im.gt[g as usize], h, w);
                        let b = r.to_bbox();
                        (r, b)
                    })
                    .collect();
                for (d, &di) in dts.iter().enumerate() {
                    let r = instance_rle(&im.dt[di as usize], h, w);
                    let b = r.to_bbox();
                    for (g, (gr, gb)) in gm.iter().enumerate() {
                        ious[d * ng + g] = Rle::iou_with_boxes(&r, &b, gr, gb, crowd[g]);
                    }
                }
            }
        }
    }

    let gt_ids: Vec<i64> = gts.iter().map(|&g| im.gt[g as usize].id).collect();
    let dt_area: Vec<f64> = dts.iter().map(|&d| im.dt[d as usize].area).collect();
    let mut areas = Vec::with_capacity(p.area_rngs.len());
    let mut matches = Vec::new();
    for (a, rng) in p.area_rngs.iter().enumerate() {
        let ignore: Vec<bool> = gts
            .iter()
            .map(|&g| {
                let g = &im.gt[g as usize];
                g.iscrowd || g.area < rng.lo || g.area > rng.hi
            })
            .collect();
        // stable: non-ignored first, file order within each
        let mut order: Vec<u32> = (0..ng as u32).collect();
        order.sort_by_key(|&g| ignore[g as usize]);
        let gt_ignore: Vec<bool> = order.iter().map(|&g| ignore[g as usize]).collect();
        let mut gt_matched = vec![0u64; ng];
        let mut dt_matched = vec![0u64; nd];
        let mut dt_ignore = vec![0u64; nd];
        // matched ground truth per (t, d) as an index into `order`, for area "all"
        let mut m_of = if a == 0 { vec![-1i32; nt * nd] } else { Vec::new() };
        if nd > 0 && ng > 0 {
            for (t, &thr) in p.iou_thrs.iter().enumerate() {
                let bit = 1u64 << t;
                for d in 0..nd {
                    let mut best = thr.min(1.0 - 1e-10);
                    let mut m: isize = -1;
                    for (gs, &g) in order.iter().enumerate() {
                        if gt_matched[gs] & bit != 0 && !crowd[g as usize] {
                            continue;
                        }
                        if m > -1 && !gt_ignore[m as usize] && gt_ignore[gs] {
                            break;
                        }
                        let iou = ious[d * ng + g as usize];
                        if iou < best {
                            continue;
                        }
                        best = iou;
                        m = gs as isize;
                    }
                    if m == -1 {
                        continue;
                    }
                    let m = m as usize;
                    if gt_ignore[m] {
                        dt_ignore[d] |= bit;
                    }
                    if gt_ids[order[m] as usize] != 0 {
                        dt_matched[d] |= bit;
                    }
                    gt_matched[m] |= bit;
                    if a == 0 {
                        m_of[t * nd + d] = order[m] as i32;
                    }
                }
            }
        }
        // unmatched detections out of the area range are ignored
        for d in 0..nd {
            if dt_area[d] < rng.lo || dt_area[d] > rng.hi {
                for t in 0..nt {
                    let bit = 1u64 << t;
                    if dt_matched[d] & bit == 0 {
                        dt_ignore[d] |= bit;
                    }
                }
            }
        }
        let npig = gt_ignore.iter().filter(|&&i| !i).count() as u32;
        if a == 0 {
            matches = m_of;
        }
        areas.push(AreaMatch {
            gt_order: order,
            gt_ignore,
            gt_matched,
            dt_matched,
            dt_ignore,
            npig,
        });
    }
    let scores = dts.iter().map(|&d| score(&im.dt[d as usize])).collect();
    ImageCategory {
        category: k,
        dt: dts,
        scores,
        gt: gts,
        areas,
        matches,
    }
}

fn score(i: &Instance) -> f64 {
    // a prediction without a score is always called (and ranks with every other unscored one)
    i.score.unwrap_or(1.0)
}

/// One category's accumulated arrays, per (area, maxDet) cell; `None` where pycocotools skips.
struct CatAccum {
    cells: Vec<Option<Cell>>,
}

struct Cell {
    /// `[t * R + r]`
    precision: Vec<f64>,
    scores: Vec<f64>,
    recall: Vec<f64>,
}

fn accumulate_category(evals: &[ImageEval], entries: &[(u32, u32)], p: &Params) -> CatAccum {
    let (nt, nr, na, nm) = (p.iou_thrs.len(), p.rec_thrs.len(), p.area_rngs.len(), p.max_dets.len());
    let mut cells: Vec<Option<Cell>> = (0..na * nm).map(|_| None).collect();
    if entries.is_empty() {
        return CatAccum { cells };
    }
    let ic = |e: &(u32, u32)| &evals[e.0 as usize].categories[e.1 as usize];
    // every detection of the category in concatenation order (image order, then score order
    // within the image), stable-sorted by descending score once; a smaller maxDets keeps the
    // subsequence with rank < maxDets, which is what a stable sort of that subset gives
    let mut all: Vec<(f64, u32, u32)> = Vec::new();
    for (e, entry) in entries.iter().enumerate() {
        for (d, &s) in ic(entry).scores.iter().enumerate() {
            all.push((s, e as u32, d as u32));
        }
    }
    all.sort_by(|a, b| by_score_desc(a.0, b.0));
    let eps = f64::EPSILON; // np.spacing(1)
    let mut tp_sum: Vec<f64> = Vec::new();
    let mut rc: Vec<f64> = Vec::new();
    let mut pr: Vec<f64> = Vec::new();
    // per area: (matched, ignored) bit sets of every detection, in sorted order
    let mut flags: Vec<(u64, u64)> = Vec::with_capacity(all.len());
    let mut sel_flags: Vec<(u64, u64)> = Vec::with_capacity(all.len());
    let mut sel_scores: Vec<f64> = Vec::with_capacity(all.len());
    for a in 0..na {
        let npig: u64 = entries.iter().map(|e| ic(e).areas[a].npig as u64).sum();
        if npig == 0 {
            continue;
        }
        flags.clear();
        flags.extend(all.iter().map(|x| {
            let am = &ic(&entries[x.1 as usize]).areas[a];
            (am.dt_matched[x.2 as usize], am.dt_ignore[x.2 as usize])
        }));
        for (m, &max_det) in p.max_dets.iter().enumerate() {
            sel_flags.clear();
            sel_scores.clear();
            for (x, f) in all.iter().zip(&flags) {
                if (x.2 as usize) < max_det {
                    sel_flags.push(*f);
                    sel_scores.push(x.0);
                }
            }
            let nd = sel_flags.len();
            let mut cell = Cell {
                precision: vec![0.0; nt * nr],
                scores: vec![0.0; nt * nr],
                recall: vec![0.0; nt],
            };
            if nd == 0 {
                cells[a * nm + m] = Some(cell);
                continue;
            }
            for t in 0..nt {
                let bit = 1u64 << t;
                tp_sum.clear();
                pr.clear();
                let (mut tp, mut fp) = (0u64, 0u64);
                for &(matched, ignored) in &sel_flags {
                    if ignored & bit == 0 {
                        if matched & bit != 0 {
                            tp += 1;
                        } else {
                            fp += 1;
                        }
                    }
                    let (tpf, fpf) = (tp as f64, fp as f64);
                    tp_sum.push(tpf);
                    pr.push(tpf / ((fpf + tpf) + eps));
                }
                rc.clear();
                rc.extend(tp_sum.iter().map(|&tp| tp / npig as f64));
                cell.recall[t] = rc[nd - 1];
                for i in (1..nd).rev() {
                    if pr[i] > pr[i - 1] {
                        pr[i - 1] = pr[i];
                    }
                }
                // searchsorted(rc, recThrs, 'left'); recall thresholds ascend, so the search
                // can start where the last one ended
                let mut pi = 0;
                for (r, &thr) in p.rec_thrs.iter().enumerate() {
                    pi += rc[pi..].partition_point(|&v| v < thr);
                    if pi >= nd {
                        break;
                    }
                    cell.precision[t * nr + r] = pr[pi];
                    cell.scores[t * nr + r] = sel_scores[pi];
                }
            }
            cells[a * nm + m] = Some(cell);
        }
    }
    CatAccum { cells }
}

/// `COCOeval.summarize()`'s 12 figures (for the default parameters; with others, a figure whose
/// IoU threshold, area range or maxDets is absent is -1, as in pycocotools).
fn summarize(e: &CocoEval) -> Vec<f64> {
    let md = &e.params.max_dets;
    let md_at = |i: usize| md.get(i).copied().unwrap_or(usize::MAX);
    vec![
        summarize_one(e, true, None, "all", 100),
        summarize_one(e, true, Some(0.5), "all", md_at(2)),
        summarize_one(e, true, Some(0.75), "all", md_at(2)),
        summarize_one(e, true, None, "small", md_at(2)),
        summarize_one(e, true, None, "medium", md_at(2)),
        summarize_one(e, true, None, "large", md_at(2)),
        summarize_one(e, false, None, "all", md_at(0)),
        summarize_one(e, false, None, "all", md_at(1)),
        summarize_one(e, false, None, "all", md_at(2)),
        summarize_one(e, false, None, "small", md_at(2)),
        summarize_one(e, false, None, "medium", md_at(2)),
        summarize_one(e, false, None, "large", md_at(2)),
    ]
}

/// pycocotools `_summarize`: the pairwise mean of the defined entries (C order t, r, k), or -1.
pub fn summarize_one(e: &CocoEval, ap: bool, iou: Option<f64>, area: &str, max_det: usize) -> f64 {
    let (nt, nr, nk, na, nm) = e.dims();
    let ts: Vec<usize> = match iou {
        Some(thr) => (0..nt).filter(|&t| e.params.iou_thrs[t] == thr).collect(),
        None => (0..nt).collect(),
    };
    let aind: Vec<usize> = (0..na).filter(|&a| e.params.area_rngs[a].label == area).collect();
    let mind: Vec<usize> = (0..nm).filter(|&m| e.params.max_dets[m] == max_det).collect();
    let mut v = Vec::new();
    for &t in &ts {
        if ap {
            for r in 0..nr {
                for k in 0..nk {
                    for &a in &aind {
                        for &m in &mind {
                            let x = e.precision_at(t, r, k, a, m);
                            if x > -1.0 {
                                v.push(x);
                            }
                        }
                    }
                }
            }
        } else {
            for k in 0..nk {
                for &a in &aind {
                    for &m in &mind {
                        let x = e.recall_at(t, k, a, m);
                        if x > -1.0 {
                            v.push(x);
                        }
                    }
                }
            }
        }
    }
    pairwise::mean(&v).unwrap_or(-1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inst(id: i64, class: u32, b: [f64; 4], score: Option<f64>) -> Instance {
        Instance {
            id,
            class: ClassId(class),
            bbox: BBox::new(b[0], b[1], b[2], b[3]),
            segmentation: None,
            score,
            iscrowd: false,
            area: b[2] * b[3],
        }
    }

    #[test]
    fn thresholds_are_numpys() {
        let t = default_iou_thrs();
        assert_eq!(t[8], 0.8999999999999999);
        assert_eq!(t[9], 0.95);
        let r = default_rec_thrs();
        assert_eq!(r[35], 0.35000000000000003);
        assert_eq!(r[100], 1.0);
    }

    #[test]
    fn a_perfect_detector_scores_one_and_a_blind_one_zero() {
        let gt = vec![inst(1, 1, [10.0, 10.0, 50.0, 50.0], None)];
        let dt = vec![inst(1, 1, [10.0, 10.0, 50.0, 50.0], Some(0.9))];
        let im = [EvalImage {
            case: 0,
            width: 100,
            height: 100,
            gt: &gt,
            dt: &dt,
        }];
        let e = evaluate(&im, &[ClassId(1)], &Params::new(IouType::Bbox)).unwrap();
        // precision is tp / (tp + fp + eps), so a perfect detector gets 1/(1+eps), as in
        // pycocotools
        assert_eq!(e.stats[0], 1.0 / (1.0 + f64::EPSILON));
        assert_eq!(e.stats[3], -1.0, "no small objects: undefined");
        assert_eq!(e.images[0].counts(0), Counts { tp: 1, fp: 0, fn_: 0 });
        let far = vec![inst(1, 1, [60.0, 60.0, 10.0, 10.0], Some(0.9))];
        let im = [EvalImage { dt: &far, ..im[0] }];
        let e = evaluate(&im, &[ClassId(1)], &Params::new(IouType::Bbox)).unwrap();
        assert_eq!(e.stats[0], 0.0);
        assert_eq!(e.images[0].counts(0), Counts { tp: 0, fp: 1, fn_: 1 });
    }

    #[test]
    fn equal_iou_goes_to_the_later_ground_truth() {
        let gt = vec![
            inst(7, 1, [0.0, 0.0, 10.0, 10.0], None),
            inst(8, 1, [0.0, 0.0, 10.0, 10.0], None),
        ];
        let dt = vec![inst(1, 1, [0.0, 0.0, 10.0, 10.0], Some(0.5))];
        let im = [EvalImage {
            case: 0,
            width: 20,
            height: 20,
            gt: &gt,
            dt: &dt,
        }];
        let e = evaluate(&im, &[ClassId(1)], &Params::new(IouType::Bbox)).unwrap();
        assert_eq!(e.images[0].categories[0].matched_gt(0, 0), Some(1));
    }

    #[test]
    fn a_ground_truth_with_id_zero_never_counts_as_matched() {
        let gt = vec![inst(0, 1, [0.0, 0.0, 10.0, 10.0], None)];
        let dt = vec![inst(1, 1, [0.0, 0.0, 10.0, 10.0], Some(0.5))];
        let im = [EvalImage {
            case: 0,
            width: 20,
            height: 20,
            gt: &gt,
            dt: &dt,
        }];
        let e = evaluate(&im, &[ClassId(1)], &Params::new(IouType::Bbox)).unwrap();
        assert_eq!(e.stats[0], 0.0);
    }
}
