//! Semantic segmentation: per-class Dice and IoU (per image and pooled over the pack) and the
//! 95th-percentile Hausdorff distance, from PNG label masks.
//!
//! Conventions (also in docs/metrics.md):
//! - A class's mask on a case is the pixels of its `mask_value` in the label mask.
//! - Per image, a class absent from both ground truth and prediction is *undefined* for that
//!   image (left out of the per-image mean, `null` in JSON), not counted as a perfect 1; a class
//!   present in only one of them scores 0.
//! - Pooled Dice/IoU sum intersections and sizes over every case first (one figure for the whole
//!   pack, dominated by large structures); the per-image mean weighs every case equally.
//! - HD95 follows medpy's `hd95`: boundary pixels are the mask minus its erosion by the
//!   4-neighbour cross (outside the image counts as background), distances are Euclidean in
//!   pixels from each boundary pixel to the other mask's boundary, both directions pooled, and
//!   the 95th percentile is numpy's linear interpolation. Undefined when either mask is empty.

use crate::formats::label_png;
use crate::geometry::{BinaryMask, LabelMask, morphology};
use crate::pack::{ClassId, Pack, Source};
use rayon::prelude::*;
use serde::Serialize;

/// One class on one case.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ClassOverlap {
    pub class: ClassId,
    pub intersection: u64,
    pub gt: u64,
    pub pred: u64,
    /// 95th-percentile Hausdorff distance in pixels; `None` when either mask is empty.
    pub hd95: Option<f64>,
}

impl ClassOverlap {
    /// `2|A∩B| / (|A|+|B|)`; `None` when both are empty.
    pub fn dice(&self) -> Option<f64> {
        let s = self.gt + self.pred;
        (s > 0).then(|| 2.0 * self.intersection as f64 / s as f64)
    }

    /// `|A∩B| / |A∪B|`; `None` when both are empty.
    pub fn iou(&self) -> Option<f64> {
        let u = self.gt + self.pred - self.intersection;
        (u > 0).then(|| self.intersection as f64 / u as f64)
    }
}

/// Overlap of every class in `classes` (`(class, mask value)`) between two label masks of the
/// same size; `None` when the sizes differ.
pub fn overlaps(
    gt: &LabelMask,
    pred: &LabelMask,
    classes: &[(ClassId, u16)],
    boundary: bool,
) -> Option<Vec<ClassOverlap>> {
    if (gt.width(), gt.height()) != (pred.width(), pred.height()) {
        return None;
    }
    Some(
        classes
            .iter()
            .map(|&(class, v)| {
                let (mut i, mut g, mut p) = (0u64, 0u64, 0u64);
                for (&a, &b) in gt.as_slice().iter().zip(pred.as_slice()) {
                    let (a, b) = (a == v, b == v);
                    g += a as u64;
                    p += b as u64;
                    i += (a && b) as u64;
                }
                let hd95 = if boundary && g > 0 && p > 0 {
                    hd95(&gt.binary(v), &pred.binary(v))
                } else {
                    None
                };
                ClassOverlap {
                    class,
                    intersection: i,
                    gt: g,
                    pred: p,
                    hd95,
                }
            })
            .collect(),
    )
}

/// Pixels of `m` whose 4-neighbourhood leaves the mask (image border counts as outside).
fn boundary(m: &BinaryMask) -> BinaryMask {
    let (w, h) = (m.width(), m.height());
    let mut out = BinaryMask::new(w, h);
    for y in 0..h {
        for x in 0..w {
            if !m.get(x, y) {
                continue;
            }
            let edge = x == 0
                || y == 0
                || x + 1 == w
                || y + 1 == h
                || !m.get(x - 1, y)
                || !m.get(x + 1, y)
                || !m.get(x, y - 1)
                || !m.get(x, y + 1);
            if edge {
                out.set(x, y, true);
            }
        }
    }
    out
}

/// Crop both masks to the union of their boxes (exact: every boundary pixel lies inside it).
fn crop_pair(a: &BinaryMask, b: &BinaryMask) -> Option<(BinaryMask, BinaryMask)> {
    let (ba, bb) = (a.bbox()?, b.bbox()?);
    let x0 = ba.x.min(bb.x) as u32;
    let y0 = ba.y.min(bb.y) as u32;
    let x1 = ba.x2().max(bb.x2()) as u32;
    let y1 = ba.y2().max(bb.y2()) as u32;
    let crop = |m: &BinaryMask| {
        // one pixel of (empty) margin, except where the image ends: boundary() treats the crop
        // edge as outside, as medpy treats the image edge
        let (px0, py0) = (x0.saturating_sub(1), y0.saturating_sub(1));
        let (px1, py1) = ((x1 + 1).min(m.width()), (y1 + 1).min(m.height()));
        let mut out = BinaryMask::new(px1 - px0, py1 - py0);
        for y in py0..py1 {
            for x in px0..px1 {
                if m.get(x, y) {
                    out.set(x - px0, y - py0, true);
                }
            }
        }
        out
    };
    Some((crop(a), crop(b)))
}

/// medpy's `hd95` between two non-empty masks, in pixels.
pub fn hd95(a: &BinaryMask, b: &BinaryMask) -> Option<f64> {
    let (a, b) = crop_pair(a, b)?;
    let (ba, bb) = (boundary(&a), boundary(&b));
    let (da, db) = (
        morphology::squared_distance_to(&ba),
        morphology::squared_distance_to(&bb),
    );
    let mut d: Vec<f64> = Vec::new();
    for (i, (&x, &y)) in ba.as_slice().iter().zip(bb.as_slice()).enumerate() {
        if x != 0 {
            d.push(db[i].sqrt());
        }
        if y != 0 {
            d.push(da[i].sqrt());
        }
    }
    percentile(&mut d, 95.0)
}

/// numpy's `percentile(v, q)` with linear interpolation.
pub fn percentile(v: &mut [f64], q: f64) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let idx = (v.len() - 1) as f64 * q / 100.0;
    let lo = idx.floor() as usize;
    let hi = (lo + 1).min(v.len() - 1);
    Some(v[lo] + (v[hi] - v[lo]) * (idx - lo as f64))
}

/// Per-class figures over the pack.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassSummary {
    pub class: ClassId,
    pub name: String,
    /// Cases where the class is defined (present in ground truth or prediction).
    pub cases: usize,
    pub mean_dice: Option<f64>,
    pub mean_iou: Option<f64>,
    pub pooled_dice: Option<f64>,
    pub pooled_iou: Option<f64>,
    /// Median and mean of the per-case HD95 (pixels).
    pub median_hd95: Option<f64>,
    pub mean_hd95: Option<f64>,
}

/// One case's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseOverlaps {
    pub case: usize,
    pub classes: Vec<ClassOverlap>,
}

impl CaseOverlaps {
    /// Mean Dice over the classes defined on this case.
    pub fn mean_dice(&self) -> Option<f64> {
        let v: Vec<f64> = self.classes.iter().filter_map(|c| c.dice()).collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    }

    /// The class with the lowest Dice.
    pub fn worst(&self) -> Option<(ClassId, f64)> {
        self.classes
            .iter()
            .filter_map(|c| Some((c.class, c.dice()?)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
    }
}

/// Semantic segmentation evaluation of one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SegmentationEval {
    pub classes: Vec<ClassSummary>,
    pub cases: Vec<CaseOverlaps>,
    /// Cases with a ground-truth mask but no usable prediction (missing, unreadable, wrong size).
    pub missing: Vec<usize>,
}

/// Evaluate a run's label masks against the ground truth's; `None` when either has none.
pub fn evaluate_pack(
    pack: &Pack,
    run: usize,
    boundary: bool,
    progress: &super::report::ProgressRef,
) -> Option<SegmentationEval> {
    let has = |s: Source| (0..pack.cases.len()).any(|c| pack.annotations(s, c).is_some_and(|a| a.label_mask.is_some()));
    if !has(Source::GroundTruth) || !has(Source::Run(run)) {
        return None;
    }
    let classes: Vec<(ClassId, u16)> = pack.classes.iter().map(|c| (c.id, c.mask_value)).collect();
    let read = |s: Source, c: usize| {
        pack.annotations(s, c)
            .and_then(|a| a.label_mask.as_deref())
            .and_then(|p| label_png::read(p).ok())
    };
    let per_case: Vec<(usize, Option<Vec<ClassOverlap>>)> = (0..pack.cases.len())
        .into_par_iter()
        .filter_map(|c| {
            progress.step();
            let gt = read(Source::GroundTruth, c)?;
            let o = read(Source::Run(run), c).and_then(|p| overlaps(&gt, &p, &classes, boundary));
            Some((c, o))
        })
        .collect();
    let mut cases = Vec::new();
    let mut missing = Vec::new();
    for (c, o) in per_case {
        match o {
            Some(classes) => cases.push(CaseOverlaps { case: c, classes }),
            None => missing.push(c),
        }
    }
    let summaries = classes
        .iter()
        .enumerate()
        .filter_map(|(k, &(class, _))| {
            let all: Vec<&ClassOverlap> = cases.iter().map(|c| &c.classes[k]).collect();
            let defined: Vec<&&ClassOverlap> = all.iter().filter(|o| o.gt + o.pred > 0).collect();
            if defined.is_empty() {
                return None;
            }
            let mean = |f: &dyn Fn(&ClassOverlap) -> Option<f64>| {
                let v: Vec<f64> = defined.iter().filter_map(|o| f(o)).collect();
                (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
            };
            let (i, g, p) = all.iter().fold((0u64, 0u64, 0u64), |s, o| {
                (s.0 + o.intersection, s.1 + o.gt, s.2 + o.pred)
            });
            let pooled = ClassOverlap {
                class,
                intersection: i,
                gt: g,
                pred: p,
                hd95: None,
            };
            let mut hd: Vec<f64> = defined.iter().filter_map(|o| o.hd95).collect();
            let mean_hd95 = (!hd.is_empty()).then(|| hd.iter().sum::<f64>() / hd.len() as f64);
            Some(ClassSummary {
                class,
                name: pack.class_name(class),
                cases: defined.len(),
                mean_dice: mean(&|o| o.dice()),
                mean_iou: mean(&|o| o.iou()),
                pooled_dice: pooled.dice(),
                pooled_iou: pooled.iou(),
                median_hd95: percentile(&mut hd, 50.0),
                mean_hd95,
            })
        })
        .collect();
    Some(SegmentationEval {
        classes: summaries,
        cases,
        missing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(w: u32, h: u32, f: impl Fn(u32, u32) -> u16) -> LabelMask {
        let mut d = Vec::new();
        for y in 0..h {
            for x in 0..w {
                d.push(f(x, y));
            }
        }
        LabelMask::new(w, h, d).unwrap()
    }

    #[test]
    fn dice_and_iou_of_overlapping_squares() {
        // gt: x in 0..4, pred: x in 2..6, rows 0..4 → |A|=|B|=16, |A∩B|=8
        let gt = label(8, 4, |x, _| (x < 4) as u16);
        let pred = label(8, 4, |x, _| (2..6).contains(&x) as u16);
        let o = overlaps(&gt, &pred, &[(ClassId(1), 1)], true).unwrap()[0];
        assert_eq!((o.intersection, o.gt, o.pred), (8, 16, 16));
        assert_eq!(o.dice(), Some(0.5));
        assert_eq!(o.iou(), Some(8.0 / 24.0));
        assert!(o.hd95.unwrap() > 0.0);
    }

    #[test]
    fn empty_in_both_is_undefined_and_in_one_is_zero() {
        let empty = label(4, 4, |_, _| 0);
        let full = label(4, 4, |_, _| 1);
        let o = overlaps(&empty, &empty, &[(ClassId(1), 1)], true).unwrap()[0];
        assert_eq!(o.dice(), None);
        assert_eq!(o.hd95, None);
        let o = overlaps(&empty, &full, &[(ClassId(1), 1)], true).unwrap()[0];
        assert_eq!(o.dice(), Some(0.0));
        assert_eq!(o.hd95, None);
    }

    #[test]
    fn hd95_of_identical_masks_is_zero_and_of_a_shift_is_the_shift() {
        let a = label(20, 20, |x, y| ((5..12).contains(&x) && (5..12).contains(&y)) as u16).binary(1);
        assert_eq!(hd95(&a, &a), Some(0.0));
        let b = label(20, 20, |x, y| ((8..15).contains(&x) && (5..12).contains(&y)) as u16).binary(1);
        // every boundary pixel is at most 3 px from the other boundary; most are exactly 3 or
        // less, and the 95th percentile of the pooled distances is 3
        assert_eq!(hd95(&a, &b), Some(3.0));
    }

    #[test]
    fn percentile_interpolates_like_numpy() {
        // np.percentile([1, 2, 3, 4], 95) == 3.85
        assert!((percentile(&mut [4.0, 1.0, 3.0, 2.0], 95.0).unwrap() - 3.85).abs() < 1e-12);
        assert_eq!(percentile(&mut [], 95.0), None);
    }

    #[test]
    fn different_sizes_are_refused() {
        assert!(
            overlaps(
                &label(4, 4, |_, _| 1),
                &label(5, 4, |_, _| 1),
                &[(ClassId(1), 1)],
                false
            )
            .is_none()
        );
    }
}
