//! Classification: ROC-AUC, average precision, sensitivity and specificity at a threshold, with
//! percentile bootstrap confidence intervals.
//!
//! Definitions match scikit-learn: ROC-AUC is the area under the ROC curve with ties handled as
//! the trapezoid (equivalently the Mann–Whitney statistic with average ranks); average precision
//! is `Σ (R_n − R_{n−1}) P_n` over distinct score thresholds, without interpolation. A score at or
//! above the threshold is a positive call.

use crate::pack::{ClassId, Pack, Source};
use crate::sample::rng::Rng;
use rayon::prelude::*;
use serde::Serialize;

/// ROC-AUC; `None` unless both classes are present.
pub fn roc_auc(labels: &[bool], scores: &[f64]) -> Option<f64> {
    let pos = labels.iter().filter(|&&l| l).count();
    let neg = labels.len() - pos;
    if pos == 0 || neg == 0 {
        return None;
    }
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    // average ranks over ties
    let mut rank_sum_pos = 0.0;
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && scores[idx[j + 1]] == scores[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            if labels[k] {
                rank_sum_pos += avg;
            }
        }
        i = j + 1;
    }
    let (p, n) = (pos as f64, neg as f64);
    Some((rank_sum_pos - p * (p + 1.0) / 2.0) / (p * n))
}

/// Average precision (scikit-learn's `average_precision_score`); `None` without positives.
pub fn average_precision(labels: &[bool], scores: &[f64]) -> Option<f64> {
    let pos = labels.iter().filter(|&&l| l).count();
    if pos == 0 {
        return None;
    }
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let (mut tp, mut fp) = (0usize, 0usize);
    let (mut ap, mut prev_r) = (0.0, 0.0);
    let mut i = 0;
    while i < idx.len() {
        let s = scores[idx[i]];
        while i < idx.len() && scores[idx[i]] == s {
            if labels[idx[i]] {
                tp += 1;
            } else {
                fp += 1;
            }
            i += 1;
        }
        let r = tp as f64 / pos as f64;
        let p = tp as f64 / (tp + fp) as f64;
        ap += (r - prev_r) * p;
        prev_r = r;
    }
    Some(ap)
}

/// Sensitivity (true-positive rate) and specificity (true-negative rate) calling `score ≥ thr`
/// positive; each `None` without cases of its kind.
pub fn sensitivity_specificity(labels: &[bool], scores: &[f64], thr: f64) -> (Option<f64>, Option<f64>) {
    let (mut tp, mut pos, mut tn, mut neg) = (0usize, 0usize, 0usize, 0usize);
    for (&l, &s) in labels.iter().zip(scores) {
        if l {
            pos += 1;
            tp += (s >= thr) as usize;
        } else {
            neg += 1;
            tn += (s < thr) as usize;
        }
    }
    (
        (pos > 0).then(|| tp as f64 / pos as f64),
        (neg > 0).then(|| tn as f64 / neg as f64),
    )
}

/// A figure with its 95% percentile bootstrap interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    pub value: Option<f64>,
    pub ci95: Option<[f64; 2]>,
}

/// One class's classification figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassFigures {
    pub class: ClassId,
    pub name: String,
    pub cases: usize,
    pub positives: usize,
    pub roc_auc: Estimate,
    pub average_precision: Estimate,
    pub sensitivity: Estimate,
    pub specificity: Estimate,
    pub threshold: f64,
}

/// Bootstrap settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Bootstrap {
    pub resamples: usize,
    pub seed: u64,
}

impl Default for Bootstrap {
    fn default() -> Self {
        Bootstrap {
            resamples: 1000,
            seed: 20261125,
        }
    }
}

/// Every figure for one class, with percentile bootstrap intervals (cases resampled with
/// replacement; resamples where a figure is undefined are left out of its interval).
pub fn class_figures(labels: &[bool], scores: &[f64], thr: f64, boot: Bootstrap) -> [Estimate; 4] {
    let f = |l: &[bool], s: &[f64]| -> [Option<f64>; 4] {
        let (se, sp) = sensitivity_specificity(l, s, thr);
        [roc_auc(l, s), average_precision(l, s), se, sp]
    };
    let point = f(labels, scores);
    let n = labels.len();
    let samples: Vec<[Option<f64>; 4]> = (0..boot.resamples)
        .into_par_iter()
        .map(|b| {
            crate::job::priority::yield_to_foreground();
            let mut rng = Rng::new(boot.seed ^ (b as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
            let mut l = Vec::with_capacity(n);
            let mut s = Vec::with_capacity(n);
            for _ in 0..n {
                let i = rng.below(n);
                l.push(labels[i]);
                s.push(scores[i]);
            }
            f(&l, &s)
        })
        .collect();
    std::array::from_fn(|k| {
        let mut v: Vec<f64> = samples.iter().filter_map(|s| s[k]).collect();
        let ci95 = if v.len() >= 20 {
            let lo = super::segmentation::percentile(&mut v, 2.5);
            let hi = super::segmentation::percentile(&mut v, 97.5);
            lo.zip(hi).map(|(a, b)| [a, b])
        } else {
            None
        };
        Estimate { value: point[k], ci95 }
    })
}

/// Classification figures of a run: one entry per class that the ground truth labels.
pub fn evaluate_pack(pack: &Pack, run: usize, thr: f64, boot: Bootstrap) -> Vec<ClassFigures> {
    let mut classes: Vec<ClassId> = Vec::new();
    for c in 0..pack.cases.len() {
        if let Some(a) = pack.annotations(Source::GroundTruth, c) {
            for (k, _) in &a.scores {
                if !classes.contains(k) {
                    classes.push(*k);
                }
            }
        }
    }
    classes.sort();
    classes
        .into_iter()
        .filter_map(|class| {
            let (mut labels, mut scores) = (Vec::new(), Vec::new());
            for c in 0..pack.cases.len() {
                let get = |s: Source| {
                    pack.annotations(s, c)
                        .and_then(|a| a.scores.iter().find(|(k, _)| *k == class).map(|x| x.1))
                };
                if let (Some(l), Some(s)) = (get(Source::GroundTruth), get(Source::Run(run))) {
                    labels.push(l >= 0.5);
                    scores.push(s);
                }
            }
            if labels.is_empty() {
                return None;
            }
            let [roc_auc, average_precision, sensitivity, specificity] = class_figures(&labels, &scores, thr, boot);
            Some(ClassFigures {
                class,
                name: pack.class_name(class),
                cases: labels.len(),
                positives: labels.iter().filter(|&&l| l).count(),
                roc_auc,
                average_precision,
                sensitivity,
                specificity,
                threshold: thr,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_matches_scikit_learn_with_ties() {
        // sklearn.metrics.roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75
        let l = [false, false, true, true];
        assert_eq!(roc_auc(&l, &[0.1, 0.4, 0.35, 0.8]), Some(0.75));
        // a tie between a positive and a negative counts one half:
        // roc_auc_score([0, 1], [0.5, 0.5]) == 0.5
        assert_eq!(roc_auc(&[false, true], &[0.5, 0.5]), Some(0.5));
        assert_eq!(roc_auc(&[true, true], &[0.5, 0.1]), None);
    }

    #[test]
    fn average_precision_matches_scikit_learn() {
        // sklearn.metrics.average_precision_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
        // == 0.8333333333333333
        let ap = average_precision(&[false, false, true, true], &[0.1, 0.4, 0.35, 0.8]).unwrap();
        assert!((ap - 0.8333333333333333).abs() < 1e-15);
        assert_eq!(average_precision(&[false], &[0.3]), None);
    }

    #[test]
    fn rounding_scores_to_zero_and_one_costs_auc() {
        // the client incident: the same ranking, rounded by a backend
        let l: Vec<bool> = (0..100).map(|i| i % 2 == 0).collect();
        let s: Vec<f64> = (0..100)
            .map(|i| {
                if i % 2 == 0 {
                    0.45 + i as f64 / 1000.0
                } else {
                    0.05 + i as f64 / 250.0
                }
            })
            .collect();
        let rounded: Vec<f64> = s.iter().map(|v| v.round()).collect();
        assert!(roc_auc(&l, &s).unwrap() > 0.8);
        assert!(roc_auc(&l, &rounded).unwrap() < roc_auc(&l, &s).unwrap());
    }

    #[test]
    fn sensitivity_and_specificity_at_a_threshold() {
        let (se, sp) = sensitivity_specificity(&[true, true, false, false], &[0.9, 0.4, 0.6, 0.1], 0.5);
        assert_eq!((se, sp), (Some(0.5), Some(0.5)));
    }

    #[test]
    fn bootstrap_interval_contains_the_estimate_and_is_reproducible() {
        let l: Vec<bool> = (0..200).map(|i| i % 3 == 0).collect();
        let s: Vec<f64> = (0..200)
            .map(|i| ((i * 37) % 100) as f64 / 100.0 + if i % 3 == 0 { 0.3 } else { 0.0 })
            .collect();
        let a = class_figures(&l, &s, 0.5, Bootstrap::default());
        let b = class_figures(&l, &s, 0.5, Bootstrap::default());
        assert_eq!(a, b);
        let auc = a[0];
        let [lo, hi] = auc.ci95.unwrap();
        assert!(lo <= auc.value.unwrap() && auc.value.unwrap() <= hi && lo < hi);
    }
}
