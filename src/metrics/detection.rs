//! Detection at an operating point: per-class precision, recall and F1 at a score threshold, a
//! confusion matrix across classes, and per-case true/false positives and misses.
//!
//! Precision, recall and F1 reuse the COCO evaluation's matching (area "all", largest maxDets,
//! one IoU threshold): greedy matching in score order means the detections above a threshold are
//! matched exactly as they were in the full evaluation, so any threshold is answered from one
//! sorted list per class, without matching again.

use super::coco_eval::{CocoEval, IouType};
use crate::geometry::Rle;
use crate::pack::{ClassId, Instance, Pack, Source};
use rayon::prelude::*;
use serde::Serialize;

/// Counts and ratios at one threshold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Prf {
    pub tp: u64,
    pub fp: u64,
    #[serde(rename = "fn")]
    pub fn_: u64,
    pub precision: Option<f64>,
    pub recall: Option<f64>,
    pub f1: Option<f64>,
}

impl Prf {
    pub fn new(tp: u64, fp: u64, fn_: u64) -> Prf {
        let precision = (tp + fp > 0).then(|| tp as f64 / (tp + fp) as f64);
        let recall = (tp + fn_ > 0).then(|| tp as f64 / (tp + fn_) as f64);
        let f1 = (tp + fp + fn_ > 0).then(|| 2.0 * tp as f64 / (2 * tp + fp + fn_) as f64);
        Prf {
            tp,
            fp,
            fn_,
            precision,
            recall,
            f1,
        }
    }
}

/// Per class, every counted detection by descending score with whether it is a true positive.
#[derive(Debug, Clone)]
pub struct OperatingCurves {
    pub iou: f64,
    pub classes: Vec<ClassId>,
    /// Per class: `(score, is_tp)` in descending score order.
    detections: Vec<Vec<(f64, bool)>>,
    /// Per class: ground truth that counts.
    positives: Vec<u64>,
}

impl OperatingCurves {
    /// From an evaluation, at IoU threshold index `t`.
    pub fn new(eval: &CocoEval, t: usize) -> OperatingCurves {
        let nk = eval.categories.len();
        let mut detections: Vec<Vec<(f64, bool)>> = vec![Vec::new(); nk];
        let mut positives = vec![0u64; nk];
        let bit = 1u64 << t;
        for im in &eval.images {
            for ic in &im.categories {
                let k = ic.category as usize;
                let a = &ic.areas[0];
                positives[k] += a.npig as u64;
                for (d, &s) in ic.scores.iter().enumerate() {
                    if a.dt_ignore[d] & bit == 0 {
                        detections[k].push((s, a.dt_matched[d] & bit != 0));
                    }
                }
            }
        }
        for v in &mut detections {
            v.sort_by(|a, b| b.0.total_cmp(&a.0));
        }
        OperatingCurves {
            iou: eval.params.iou_thrs[t],
            classes: eval.categories.clone(),
            detections,
            positives,
        }
    }

    /// Class `k` calling detections with `score ≥ thr`.
    pub fn at(&self, k: usize, thr: f64) -> Prf {
        let d = &self.detections[k];
        let n = d.partition_point(|x| x.0 >= thr);
        let tp = d[..n].iter().filter(|x| x.1).count() as u64;
        Prf::new(tp, n as u64 - tp, self.positives[k].saturating_sub(tp))
    }

    /// Every class pooled (micro average).
    pub fn overall(&self, thr: f64) -> Prf {
        let (mut tp, mut fp, mut fn_) = (0, 0, 0);
        for k in 0..self.classes.len() {
            let p = self.at(k, thr);
            tp += p.tp;
            fp += p.fp;
            fn_ += p.fn_;
        }
        Prf::new(tp, fp, fn_)
    }

    /// Whether class `k` has anything to report (ground truth or detections).
    pub fn is_used(&self, k: usize) -> bool {
        self.positives[k] > 0 || !self.detections[k].is_empty()
    }

    /// The (recall, precision) curve of class `k`, one point per detection.
    pub fn curve(&self, k: usize) -> Vec<(f64, f64)> {
        let pos = self.positives[k].max(1) as f64;
        let mut tp = 0u64;
        self.detections[k]
            .iter()
            .enumerate()
            .map(|(i, &(_, hit))| {
                tp += hit as u64;
                (tp as f64 / pos, tp as f64 / (i + 1) as f64)
            })
            .collect()
    }
}

/// A confusion matrix across classes: rows are the ground truth's class (and a last row,
/// "background", for detections that match nothing), columns the detection's class (and a last
/// column, "missed", for ground truth nothing matched).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Confusion {
    pub classes: Vec<ClassId>,
    pub iou: f64,
    pub threshold: f64,
    /// `(n+1) × (n+1)`, row-major.
    pub matrix: Vec<u64>,
}

impl Confusion {
    pub fn get(&self, gt_row: usize, dt_col: usize) -> u64 {
        self.matrix[gt_row * (self.classes.len() + 1) + dt_col]
    }
}

fn iou_of(iou_type: IouType, d: &Instance, g: &Instance, h: u32, w: u32) -> f64 {
    match (iou_type, &d.segmentation, &g.segmentation) {
        (IouType::Segm, Some(ds), Some(gs)) => Rle::iou(&ds.to_rle(h, w), &gs.to_rle(h, w), g.iscrowd),
        _ => d.bbox.iou(&g.bbox, g.iscrowd),
    }
}

/// The confusion matrix of `run` at IoU `iou` and score threshold `thr`: per image, detections in
/// descending score order take the unmatched ground truth (of any class) they overlap most.
/// Detections over a crowd region are not counted; crowd regions are not rows.
pub fn confusion(pack: &Pack, run: usize, iou_type: IouType, iou: f64, thr: f64) -> Confusion {
    let mut classes: Vec<ClassId> = pack.classes.iter().map(|c| c.id).collect();
    classes.sort();
    let n = classes.len();
    let index = |c: ClassId| classes.iter().position(|&k| k == c);
    let per_case: Vec<Vec<u64>> = (0..pack.cases.len())
        .into_par_iter()
        .map(|c| {
            crate::job::priority::yield_to_foreground();
            let mut m = vec![0u64; (n + 1) * (n + 1)];
            let gt = pack
                .annotations(Source::GroundTruth, c)
                .map(|a| a.instances.as_slice())
                .unwrap_or(&[]);
            let dt = pack
                .annotations(Source::Run(run), c)
                .map(|a| a.instances.as_slice())
                .unwrap_or(&[]);
            let (w, h) = pack.cases[c].size().unwrap_or((0, 0));
            let mut dts: Vec<&Instance> = dt.iter().filter(|d| d.score.unwrap_or(1.0) >= thr).collect();
            dts.sort_by(|a, b| b.score.unwrap_or(1.0).total_cmp(&a.score.unwrap_or(1.0)));
            let mut taken = vec![false; gt.len()];
            for d in dts {
                let Some(dk) = index(d.class) else { continue };
                let mut best = (iou, None);
                let mut over_crowd = false;
                for (g, gi) in gt.iter().enumerate() {
                    let o = iou_of(iou_type, d, gi, h, w);
                    if gi.iscrowd {
                        over_crowd |= o >= iou;
                        continue;
                    }
                    if !taken[g] && o >= best.0 {
                        best = (o, Some(g));
                    }
                }
                match best.1 {
                    Some(g) => {
                        taken[g] = true;
                        if let Some(gk) = index(gt[g].class) {
                            m[gk * (n + 1) + dk] += 1;
                        }
                    }
                    None if over_crowd => {}
                    None => m[n * (n + 1) + dk] += 1,
                }
            }
            for (g, gi) in gt.iter().enumerate() {
                if !taken[g]
                    && !gi.iscrowd
                    && let Some(gk) = index(gi.class)
                {
                    m[gk * (n + 1) + n] += 1;
                }
            }
            m
        })
        .collect();
    let mut matrix = vec![0u64; (n + 1) * (n + 1)];
    for m in per_case {
        for (a, b) in matrix.iter_mut().zip(m) {
            *a += b;
        }
    }
    Confusion {
        classes,
        iou,
        threshold: thr,
        matrix,
    }
}

/// One case's detection figures at the operating point.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseDetections {
    pub case: usize,
    pub tp: u32,
    pub fp: u32,
    #[serde(rename = "fn")]
    pub fn_: u32,
    /// `(detection, ground truth)` index pairs into the case's instances.
    pub pairs: Vec<(u32, u32)>,
    /// The highest-scoring false positive: (detection index, score).
    pub worst_fp: Option<(u32, f64)>,
    /// The largest missed ground truth: (index, area).
    pub worst_fn: Option<(u32, f64)>,
}

/// Per-case figures at IoU threshold index `t` and score threshold `thr`.
pub fn per_case(pack: &Pack, eval: &CocoEval, t: usize, thr: f64) -> Vec<CaseDetections> {
    let bit = 1u64 << t;
    let mut out: Vec<CaseDetections> = eval
        .images
        .iter()
        .map(|im| {
            let mut c = CaseDetections {
                case: im.case,
                tp: 0,
                fp: 0,
                fn_: 0,
                pairs: Vec::new(),
                worst_fp: None,
                worst_fn: None,
            };
            for ic in &im.categories {
                let a = &ic.areas[0];
                let mut matched_gt = vec![false; ic.gt.len()];
                for (d, &s) in ic.scores.iter().enumerate() {
                    if s < thr {
                        break; // score order
                    }
                    if let Some(g) = ic.matched_gt(t, d) {
                        matched_gt[g] = true;
                    }
                    if a.dt_ignore[d] & bit != 0 {
                        continue;
                    }
                    if a.dt_matched[d] & bit != 0 {
                        c.tp += 1;
                        if let Some(g) = ic.matched_gt(t, d) {
                            c.pairs.push((ic.dt[d], ic.gt[g]));
                        }
                    } else {
                        c.fp += 1;
                        if c.worst_fp.is_none_or(|w| s > w.1) {
                            c.worst_fp = Some((ic.dt[d], s));
                        }
                    }
                }
                for (gs, &g) in a.gt_order.iter().enumerate() {
                    if !a.gt_ignore[gs] && !matched_gt[g as usize] {
                        c.fn_ += 1;
                        let gi = ic.gt[g as usize];
                        let area = pack.ground_truth[im.case].instances[gi as usize].area;
                        if c.worst_fn.is_none_or(|w| area > w.1) {
                            c.worst_fn = Some((gi, area));
                        }
                    }
                }
            }
            c
        })
        .collect();
    out.sort_by_key(|c| c.case);
    out
}
