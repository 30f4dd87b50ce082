//! Warnings about outputs that look wrong before any metric is read: scores rounded or
//! binarised by a backend (the ROC-AUC-0.53 incident), constant scores, scores outside [0, 1]
//! (logits written as probabilities), and masks that are empty on every case.

/// What is suspicious about a list of scores, in words; empty when nothing is.
pub fn score_warnings(what: &str, scores: &[f64]) -> Vec<String> {
    let mut out = Vec::new();
    let n = scores.len();
    if n == 0 {
        return out;
    }
    let finite: Vec<f64> = scores.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.len() < n {
        out.push(format!(
            "{what}: {} of {n} scores are not finite numbers (NaN or infinite)",
            n - finite.len()
        ));
    }
    let (lo, hi) = finite
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    let outside = finite.iter().filter(|v| !(0.0..=1.0).contains(*v)).count();
    if outside > 0 {
        out.push(format!(
            "{what}: {outside} of {n} scores lie outside [0, 1] (from {lo} to {hi}): logits instead of probabilities? Thresholds and calibration assume probabilities"
        ));
    }
    let mut distinct = finite.clone();
    distinct.sort_by(|a, b| a.total_cmp(b));
    distinct.dedup();
    if n >= 2 && distinct.len() == 1 {
        out.push(format!(
            "{what}: every score is {} — constant scores cannot rank anything; AP and ROC-AUC are meaningless",
            distinct[0]
        ));
    } else if n >= 20 && distinct.len() == 2 {
        out.push(format!(
            "{what}: only two distinct scores ({} and {}) in {n}: the scores look binarised, so ranking metrics (AP, ROC-AUC) measure one operating point only",
            distinct[0], distinct[1]
        ));
    } else if n >= 50 && distinct.len() <= 10 {
        out.push(format!(
            "{what}: only {} distinct scores in {n}: the scores look quantised (rounded by a backend?); ranking metrics will be lower than the model's",
            distinct.len()
        ));
    } else if n >= 50 && finite.iter().all(|v| ((v * 100.0).round() - v * 100.0).abs() < 1e-9) {
        out.push(format!(
            "{what}: every one of {n} scores has at most two decimals: rounded somewhere between the model and this file?"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binarised_constant_outside_and_rounded_scores_are_named() {
        let bin: Vec<f64> = (0..40).map(|i| (i % 2) as f64).collect();
        assert!(score_warnings("run", &bin)[0].contains("binarised"));
        assert!(score_warnings("run", &[0.3, 0.3, 0.3])[0].contains("constant"));
        let logits = [-2.0, 0.5, 3.1];
        assert!(score_warnings("run", &logits)[0].contains("outside [0, 1]"));
        let rounded: Vec<f64> = (0..100).map(|i| (i % 37) as f64 / 100.0).collect();
        assert!(score_warnings("run", &rounded)[0].contains("two decimals"));
        let q: Vec<f64> = (0..100).map(|i| (i % 5) as f64 / 5.0).collect();
        assert!(score_warnings("run", &q)[0].contains("quantised"));
    }

    #[test]
    fn healthy_scores_are_quiet() {
        let s: Vec<f64> = (0..100).map(|i| (i as f64 * 0.618_033_988_7) % 1.0).collect();
        assert!(score_warnings("run", &s).is_empty());
        assert!(score_warnings("run", &[]).is_empty());
    }
}
