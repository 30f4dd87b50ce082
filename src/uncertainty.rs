//! Where a model is unsure, or two runs disagree: triage sort keys that need pixels (label
//! masks, probability maps), computed off the UI thread.
//!
//! - Disagreement between runs A and B on a case: predictions scoring at least the threshold
//!   are matched one-to-one within each class, greedily by IoU (mask IoU where both have masks,
//!   else box IoU); every prediction left unmatched counts 1 and every matched pair 1 − IoU.
//!   Label masks add, for each class present in either run, 1 − IoU of its pixels. 0 means the
//!   runs say the same thing.
//! - Entropy of a case's probability maps: the mean over pixels of the binary entropy (bits)
//!   of each class map, or of the categorical entropy across classes for an all-classes `.npy`;
//!   averaged over the maps. 1 bit is a coin toss everywhere; a confident map is near 0.

use crate::formats::probability::{self, ProbabilityMap};
use crate::pack::{Instance, Pack, ProbabilitySource};
use rayon::prelude::*;

/// [`case_disagreement`] for every case.
pub fn disagreement(pack: &Pack, a: usize, b: usize, threshold: f64) -> Vec<Option<f64>> {
    (0..pack.cases.len())
        .into_par_iter()
        .map(|c| case_disagreement(pack, a, b, threshold, c))
        .collect()
}

/// How much runs `a` and `b` disagree on `case` (see the module documentation); `None` when
/// neither run says anything about it.
pub fn case_disagreement(pack: &Pack, a: usize, b: usize, threshold: f64, case: usize) -> Option<f64> {
    let (aa, ab) = (&pack.runs[a].annotations[case], &pack.runs[b].annotations[case]);
    if aa.is_empty() && ab.is_empty() {
        return None;
    }
    let size = pack.cases[case].size();
    let keep = |v: &[Instance]| -> Vec<Instance> {
        v.iter()
            .filter(|i| i.score.is_none_or(|s| s >= threshold))
            .cloned()
            .collect()
    };
    let mut total = instance_disagreement(&keep(&aa.instances), &keep(&ab.instances), size);
    match (&aa.label_mask, &ab.label_mask) {
        (Some(pa), Some(pb)) => {
            let (ma, mb) = (
                crate::formats::label_png::read(pa).ok()?,
                crate::formats::label_png::read(pb).ok()?,
            );
            if (ma.width(), ma.height()) != (mb.width(), mb.height()) {
                return Some(total + pack.classes.len().max(1) as f64);
            }
            for class in &pack.classes {
                let v = class.mask_value;
                let (mut inter, mut union) = (0u64, 0u64);
                for (&x, &y) in ma.as_slice().iter().zip(mb.as_slice()) {
                    let (p, q) = (x == v, y == v);
                    inter += (p && q) as u64;
                    union += (p || q) as u64;
                }
                if union > 0 {
                    total += 1.0 - inter as f64 / union as f64;
                }
            }
        }
        // one run has a mask and the other none: every class it shows is disagreement
        (Some(p), None) | (None, Some(p)) => {
            if let Ok(m) = crate::formats::label_png::read(p) {
                total += m.histogram().iter().filter(|(v, _)| *v != 0).count() as f64;
            }
        }
        (None, None) => {}
    }
    Some(total)
}

/// Greedy one-to-one matching within classes: unmatched count 1, matched pairs 1 − IoU.
fn instance_disagreement(a: &[Instance], b: &[Instance], size: Option<(u32, u32)>) -> f64 {
    let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
    for (i, x) in a.iter().enumerate() {
        for (j, y) in b.iter().enumerate() {
            if x.class != y.class {
                continue;
            }
            let iou = match (&x.segmentation, &y.segmentation, size) {
                (Some(sx), Some(sy), Some((w, h))) => {
                    crate::geometry::Rle::iou(&sx.to_rle(h, w), &sy.to_rle(h, w), false)
                }
                _ => x.bbox.iou(&y.bbox, false),
            };
            if iou > 0.0 {
                pairs.push((iou, i, j));
            }
        }
    }
    pairs.sort_by(|p, q| q.0.total_cmp(&p.0).then(p.1.cmp(&q.1)).then(p.2.cmp(&q.2)));
    let (mut used_a, mut used_b) = (vec![false; a.len()], vec![false; b.len()]);
    let mut total = 0.0;
    let mut matched = 0;
    for (iou, i, j) in pairs {
        if !used_a[i] && !used_b[j] {
            used_a[i] = true;
            used_b[j] = true;
            matched += 1;
            total += 1.0 - iou;
        }
    }
    total + (a.len() + b.len() - 2 * matched) as f64
}

/// [`case_entropy`] of `run` for every case.
pub fn entropies(pack: &Pack, run: usize) -> Vec<Option<f64>> {
    (0..pack.cases.len())
        .into_par_iter()
        .map(|c| case_entropy(&pack.runs[run].annotations[c].probabilities))
        .collect()
}

/// Mean entropy in bits of a case's probability maps; `None` without maps (or unreadable ones).
pub fn case_entropy(sources: &[ProbabilitySource]) -> Option<f64> {
    let mut per_map = Vec::new();
    for s in sources {
        match s {
            ProbabilitySource::Class { path, .. } => {
                let map = if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("npy")) {
                    probability::read_npy(path).ok()?.into_iter().next()?
                } else {
                    probability::read_png(path).ok()?
                };
                per_map.push(binary_entropy(&map));
            }
            ProbabilitySource::AllClasses { path } => {
                let maps = probability::read_npy(path).ok()?;
                per_map.push(categorical_entropy(&maps)?);
            }
        }
    }
    (!per_map.is_empty()).then(|| per_map.iter().sum::<f64>() / per_map.len() as f64)
}

fn h(p: f64) -> f64 {
    if p <= 0.0 || p >= 1.0 { 0.0 } else { -p * p.log2() }
}

/// Mean binary entropy of one class's map.
pub fn binary_entropy(m: &ProbabilityMap) -> f64 {
    if m.data.is_empty() {
        return 0.0;
    }
    let s: f64 = m
        .data
        .iter()
        .map(|&p| {
            let p = (p as f64).clamp(0.0, 1.0);
            h(p) + h(1.0 - p)
        })
        .sum();
    s / m.data.len() as f64
}

/// Mean categorical entropy across class maps of the same size (normalised per pixel).
pub fn categorical_entropy(maps: &[ProbabilityMap]) -> Option<f64> {
    let first = maps.first()?;
    let n = first.data.len();
    if n == 0 || maps.iter().any(|m| m.data.len() != n) {
        return None;
    }
    let mut s = 0.0;
    for px in 0..n {
        let total: f64 = maps.iter().map(|m| (m.data[px] as f64).max(0.0)).sum();
        if total > 0.0 {
            s += maps
                .iter()
                .map(|m| h((m.data[px] as f64).max(0.0) / total))
                .sum::<f64>();
        }
    }
    Some(s / n as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::BBox;
    use crate::pack::ClassId;

    fn inst(class: u32, x: f64, score: f64) -> Instance {
        Instance {
            id: 1,
            class: ClassId(class),
            bbox: BBox::new(x, 0.0, 10.0, 10.0),
            segmentation: None,
            score: Some(score),
            iscrowd: false,
            area: 100.0,
        }
    }

    #[test]
    fn identical_runs_agree_and_each_difference_counts() {
        let a = vec![inst(1, 0.0, 0.9), inst(2, 50.0, 0.8)];
        assert_eq!(instance_disagreement(&a, &a, None), 0.0);
        // one box shifted by half its width: IoU 5·10 / 150 = 1/3
        let b = vec![inst(1, 5.0, 0.9), inst(2, 50.0, 0.8)];
        assert!((instance_disagreement(&a, &b, None) - 2.0 / 3.0).abs() < 1e-12);
        // a missing box counts 1; another class never matches
        assert_eq!(instance_disagreement(&a, &a[..1], None), 1.0);
        assert_eq!(instance_disagreement(&a[..1], &[inst(3, 0.0, 0.9)], None), 2.0);
        // greedy: the best pair first, so two boxes over one count 1 extra, not 2
        let two = vec![inst(1, 0.0, 0.9), inst(1, 1.0, 0.9)];
        assert!((instance_disagreement(&two, &a[..1], None) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn entropy_is_zero_when_sure_and_one_bit_at_a_coin_toss() {
        let m = |v: Vec<f32>| ProbabilityMap {
            width: v.len() as u32,
            height: 1,
            data: v,
        };
        assert_eq!(binary_entropy(&m(vec![0.0, 1.0, 1.0])), 0.0);
        assert!((binary_entropy(&m(vec![0.5, 0.5])) - 1.0).abs() < 1e-12);
        assert!((binary_entropy(&m(vec![0.5, 0.0])) - 0.5).abs() < 1e-12);
        let c = categorical_entropy(&[m(vec![0.25]), m(vec![0.25]), m(vec![0.25]), m(vec![0.25])]).unwrap();
        assert!((c - 2.0).abs() < 1e-12, "four equal classes: 2 bits");
        assert!(categorical_entropy(&[m(vec![0.5]), m(vec![0.5, 0.5])]).is_none());
    }
}
