//! The review plan: which cases must be seen before signing, and why — every flagged case, every
//! out-of-distribution input, every case tagged in the plan file, and a seeded random sample of the
//! rest — with what the sample proves: an exact (Clopper–Pearson) upper bound on the share of
//! unflagged cases a reviewer would reject.

use crate::pack::{Pack, Source};
use crate::rules::Flag;
use crate::sample::rng::Rng;
use serde::{Deserialize, Serialize};

/// The reason given to known-answer cases (never shown to the reviewer: see
/// [`Plan::for_reviewer`]).
pub const KNOWN_ANSWER: &str = "known answer";

/// How a plan is made: the sample size, its seed, the baseline run.
#[derive(Debug, Clone, PartialEq)]
pub struct Making {
    pub sample: usize,
    pub seed: u64,
    pub baseline: Option<String>,
}

/// Why a case is in the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Required {
    pub case: String,
    pub reasons: Vec<String>,
}

/// The plan, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub run: String,
    /// Required cases in review order: flagged and out-of-distribution first (by severity), then
    /// the random sample.
    pub required: Vec<Required>,
    /// Cases neither flagged nor out of distribution: the population the sample is drawn from.
    pub unflagged: usize,
    pub sample: usize,
    pub seed: u64,
    /// The sample size asked for (`--sample`, or the policy's), before it was capped by the
    /// number of unflagged cases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_sample: Option<usize>,
    /// The run regressions were looked for against (`--baseline`, or the policy's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<String>,
}

/// `P(X ≤ k)` for `X ~ Binomial(n, p)`.
fn binom_cdf(k: usize, n: usize, p: f64) -> f64 {
    if p <= 0.0 {
        return 1.0;
    }
    if p >= 1.0 {
        return if k >= n { 1.0 } else { 0.0 };
    }
    // sum in log space for stability
    let (lp, lq) = (p.ln(), (1.0 - p).ln());
    let mut log_c = 0.0; // log C(n, 0)
    let mut s = 0.0;
    for i in 0..=k.min(n) {
        if i > 0 {
            log_c += ((n - i + 1) as f64).ln() - (i as f64).ln();
        }
        s += (log_c + i as f64 * lp + (n - i) as f64 * lq).exp();
    }
    s.min(1.0)
}

/// The exact one-sided upper confidence bound on a proportion after `k` events in `n` trials
/// (Clopper–Pearson): the `p` with `P(X ≤ k; n, p) = 1 − confidence`.
pub fn upper_bound(k: usize, n: usize, confidence: f64) -> f64 {
    if n == 0 {
        return 1.0;
    }
    if k >= n {
        return 1.0;
    }
    let alpha = 1.0 - confidence;
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    for _ in 0..100 {
        let mid = (lo + hi) / 2.0;
        if binom_cdf(k, n, mid) > alpha {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    hi
}

/// The smallest sample with no rejection that bounds the reject rate by `target`.
pub fn sample_for_bound(target: f64, confidence: f64) -> usize {
    sample_for_bound_f64(target, confidence) as usize
}

/// [`sample_for_bound`] before rounding to a count: infinite or NaN for targets outside (0, 1).
pub fn sample_for_bound_f64(target: f64, confidence: f64) -> f64 {
    // ln(1 - target) through ln_1p, exact for tiny targets
    ((1.0 - confidence).ln() / (-target).ln_1p()).ceil()
}

impl Plan {
    /// Build the plan for `run`: `flags` from the check (input, ground truth and run flags all
    /// count), `tagged` cases from the plan file, and a random sample of `sample` unflagged cases.
    pub fn make(pack: &Pack, run: usize, flags: &[Flag], tagged: &[String], sample: usize, seed: u64) -> Plan {
        Self::make_with(pack, run, flags, tagged, &[], sample, seed)
    }

    /// As [`Plan::make`], with more required cases and why (regressions, known answers).
    pub fn make_with(
        pack: &Pack,
        run: usize,
        flags: &[Flag],
        tagged: &[String],
        extra: &[(usize, String)],
        sample: usize,
        seed: u64,
    ) -> Plan {
        let mut reasons: Vec<Vec<(u8, String)>> = vec![Vec::new(); pack.cases.len()];
        for f in flags {
            let relevant = match f.source {
                None | Some(Source::GroundTruth) => true,
                Some(Source::Run(r)) => r == run,
            };
            if !relevant || f.case >= pack.cases.len() {
                continue;
            }
            let rank = match f.severity {
                crate::rules::Severity::Critical => 0,
                crate::rules::Severity::Major => 1,
                crate::rules::Severity::Minor => 2,
            };
            let text = if f.rule == crate::check::OOD_RULE {
                "out of distribution".to_string()
            } else {
                format!("flag {} ({})", f.rule, f.severity.name())
            };
            if !reasons[f.case].iter().any(|r| r.1 == text) {
                reasons[f.case].push((rank, text));
            }
        }
        for t in tagged {
            if let Some(c) = pack.cases.iter().position(|c| &c.id.0 == t || c.id.stem() == t) {
                reasons[c].push((3, "tagged hard".into()));
            }
        }
        for (c, why) in extra {
            if let Some(r) = reasons.get_mut(*c) {
                r.push((3, why.clone()));
            }
        }
        let mut flagged: Vec<usize> = (0..pack.cases.len()).filter(|&c| !reasons[c].is_empty()).collect();
        flagged.sort_by_key(|&c| (reasons[c].iter().map(|r| r.0).min(), c));
        let mut rest: Vec<usize> = (0..pack.cases.len()).filter(|&c| reasons[c].is_empty()).collect();
        let unflagged = rest.len();
        // a seeded partial Fisher–Yates shuffle: the same seed draws the same sample
        let mut rng = Rng::new(seed);
        let k = sample.min(rest.len());
        for i in 0..k {
            let j = i + rng.below(rest.len() - i);
            rest.swap(i, j);
        }
        let mut sampled = rest[..k].to_vec();
        sampled.sort();
        let mut required: Vec<Required> = flagged
            .into_iter()
            .map(|c| Required {
                case: pack.cases[c].id.0.clone(),
                reasons: reasons[c].iter().map(|r| r.1.clone()).collect(),
            })
            .collect();
        required.extend(sampled.into_iter().map(|c| Required {
            case: pack.cases[c].id.0.clone(),
            reasons: vec!["random sample".into()],
        }));
        Plan {
            run: pack.source_name(Source::Run(run)),
            required,
            unflagged,
            sample: k,
            seed,
            requested_sample: Some(sample),
            baseline: None,
        }
    }

    /// The plan a review of `run` needs, made from the pack as it is: its rules' flags on the
    /// ground truth, the run and the inputs, the regressions against the baseline, the policy's
    /// hard and known-answer cases, and the seeded sample. `lightbox review` makes it, and
    /// `lightbox verify --release` makes it again to check a record's plan. Also returns the flags.
    pub fn for_review(pack: &Pack, run: usize, how: &Making) -> Result<(Plan, Vec<Flag>), String> {
        let rules = crate::check::load_rules(pack, None)
            .map_err(|e| e.to_string())?
            .unwrap_or_else(crate::rules::RuleSet::empty);
        let report = crate::check::check(pack, &rules, &[Source::GroundTruth, Source::Run(run)], false)
            .map_err(|e| e.to_string())?;
        let policy = &pack.manifest.review;
        let mut extra: Vec<(usize, String)> = Vec::new();
        // regressions against the baseline run: cases where the reviewed run's error is larger
        if let Some(base) = &how.baseline {
            let b = pack.run_index(base).map_err(|e| format!("baseline: {e}"))?;
            if b != run {
                let options = crate::metrics::Options {
                    boundary: false,
                    bootstrap: crate::metrics::classification::Bootstrap {
                        resamples: 0,
                        ..Default::default()
                    },
                    ..Default::default()
                };
                let now = crate::metrics::compute(pack, run, &options).map_err(|e| e.to_string())?;
                let then = crate::metrics::compute(pack, b, &options).map_err(|e| e.to_string())?;
                for (c, (x, y)) in now.cases.iter().zip(&then.cases).enumerate() {
                    if x.error > y.error + 1e-9 {
                        extra.push((
                            c,
                            format!("regression vs {base} (error {:.2} vs {:.2})", x.error, y.error),
                        ));
                    }
                }
            }
        }
        for h in &policy.hard {
            crate::pack::find_case(pack, h).map_err(|e| format!("lightbox.toml: review.hard {h:?}: {e}"))?;
        }
        for (key, v) in &policy.known {
            if v != "accept" && v != "reject" {
                return Err(format!(
                    "lightbox.toml: review.known.{key:?} = {v:?}: give accept or reject"
                ));
            }
            let c =
                crate::pack::find_case(pack, key).map_err(|e| format!("lightbox.toml: review.known.{key:?}: {e}"))?;
            extra.push((c, KNOWN_ANSWER.into()));
        }
        let mut plan = Plan::make_with(pack, run, &report.flags, &policy.hard, &extra, how.sample, how.seed);
        plan.baseline = how.baseline.clone();
        Ok((plan, report.flags))
    }

    /// The order a review session shows `pack`'s cases in: the required cases as the reviewer's
    /// plan lists them (known answers inside the random sample's block), shuffled with the seed
    /// in a blind review so that the order tells nothing, then every other case in pack order.
    pub fn review_order(&self, pack: &crate::pack::Pack, blind_seed: Option<u64>) -> Vec<usize> {
        let mut order: Vec<usize> = self
            .for_reviewer()
            .required
            .iter()
            .filter_map(|r| pack.cases.iter().position(|c| c.id.0 == r.case))
            .collect();
        if let Some(seed) = blind_seed {
            let mut rng = crate::sample::rng::Rng::new(seed);
            for i in (1..order.len()).rev() {
                let j = rng.below(i + 1);
                order.swap(i, j);
            }
        }
        let rest: Vec<usize> = (0..pack.cases.len()).filter(|c| !order.contains(c)).collect();
        order.extend(rest);
        order
    }

    /// The plan as the reviewer may see it: known-answer cases are not told apart from the
    /// random sample (their reason reads "random sample", and they sit in the sample's block in
    /// case order), so a reviewer cannot tell which verdicts are being checked.
    pub fn for_reviewer(&self) -> Plan {
        let mut required = Vec::new();
        let mut sample = Vec::new();
        for r in &self.required {
            let reasons: Vec<String> = r.reasons.iter().filter(|x| *x != KNOWN_ANSWER).cloned().collect();
            if reasons.is_empty() || reasons.iter().all(|x| x == "random sample") {
                sample.push(Required {
                    case: r.case.clone(),
                    reasons: vec!["random sample".into()],
                });
            } else {
                required.push(Required {
                    case: r.case.clone(),
                    reasons,
                });
            }
        }
        sample.sort_by(|a, b| a.case.cmp(&b.case));
        let shown = sample.len();
        required.extend(sample);
        Plan {
            required,
            sample: shown,
            ..self.clone()
        }
    }

    /// SHA-256 of the plan's JSON (recorded in the journal's session entries).
    #[allow(clippy::expect_used)] // cannot fail: a plan is plain data, which always serialises
    pub fn digest(&self) -> String {
        super::hash::sha256_hex(serde_json::to_string(self).expect("plan serialises").as_bytes())
    }

    /// What the random sample proves, in words: `bad` of the `reviewed` sampled cases were
    /// rejected or left unsure (an unsure case counts against the bound; a sampled case not
    /// reviewed counts for nothing).
    pub fn sample_statement(&self, bad: usize, reviewed: usize) -> String {
        if self.sample == 0 {
            return "no random sample was reviewed: nothing is claimed about unflagged cases".into();
        }
        if reviewed == 0 {
            return format!(
                "none of the {} cases sampled from {} unflagged cases was reviewed: nothing is claimed about unflagged cases",
                self.sample, self.unflagged
            );
        }
        let b = upper_bound(bad, reviewed, 0.95);
        let of = if reviewed < self.sample {
            format!("{reviewed} reviewed of {} sampled", self.sample)
        } else {
            format!("{reviewed} sampled")
        };
        format!(
            "{bad} rejected or unsure of {of} from {} unflagged cases: at most {:.1}% of unflagged cases would be rejected or unsure (95% confidence, exact binomial bound)",
            self.unflagged,
            b * 100.0
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_of_sixty_bounds_at_4_9_percent() {
        let b = upper_bound(0, 60, 0.95);
        assert!((b - (1.0 - 0.05f64.powf(1.0 / 60.0))).abs() < 1e-9);
        assert!((b * 100.0 - 4.87).abs() < 0.01, "{b}");
        assert_eq!(sample_for_bound(0.05, 0.95), 59);
    }

    #[test]
    fn bounds_with_rejections_match_clopper_pearson() {
        // scipy.stats.beta.ppf(0.95, 2, 49) == 0.091398 (k = 1 of n = 50)
        let b = upper_bound(1, 50, 0.95);
        assert!((b - 0.091398).abs() < 1e-5, "{b}");
        assert_eq!(upper_bound(3, 3, 0.95), 1.0);
    }
}
