//! Drift between two sets of images (a test pack and a batch of production inputs): a new
//! X-ray machine or a new client shifts the inputs before any one image looks odd. Per statistic,
//! the two-sample Kolmogorov–Smirnov distance D and its p-value (asymptotic, with the effective
//! sample size n·m/(n+m)), and the shift of the batch's median in the reference's robust SDs.
//! A statistic has drifted when its p-value is below `alpha` divided by the number of content
//! statistics (Bonferroni: `alpha` is the chance of any false alarm on an undrifted batch) *and*
//! D is at least `min_effect` (a batch of 100,000 images would otherwise alarm on a shift nobody
//! cares about). Size and aspect are reported, but drift of them alone is a note, not an alarm.

use super::{FEATURES, ImageStats, N, OodBound, Reference, fmt_z};
use serde::Serialize;

/// The default family-wise false-alarm probability.
pub const DEFAULT_ALPHA: f64 = 0.01;
/// The default smallest KS distance that counts.
pub const DEFAULT_MIN_EFFECT: f64 = 0.2;

/// One statistic's shift.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Shift {
    pub statistic: String,
    /// Content (counts for the verdict) or acquisition (size, aspect: a note).
    pub acquisition: bool,
    /// The KS distance: the largest gap between the two empirical distributions (0..1).
    pub ks: f64,
    pub p_value: f64,
    /// (batch median − reference median) / the reference's robust SD.
    pub median_shift_sd: f64,
    pub drifted: bool,
}

/// A batch image that moves a drifted statistic most.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Driver {
    /// Its index in the batch.
    pub index: usize,
    pub statistic: String,
    pub value: f64,
    /// Its robust z against the reference.
    pub z: f64,
}

/// Drift of a batch against a reference.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DriftReport {
    pub reference_images: usize,
    pub batch_images: usize,
    pub alpha: f64,
    pub min_effect: f64,
    /// Every statistic, the most significant first.
    pub shifts: Vec<Shift>,
    /// Whether any content statistic drifted.
    pub drifted: bool,
    /// The batch images that move the most drifted statistic most (at most 5).
    pub drivers: Vec<Driver>,
}

/// Kolmogorov's Q_KS(λ) = 2 Σ (−1)^(j−1) exp(−2 j² λ²).
fn q_ks(lambda: f64) -> f64 {
    if lambda < 0.2 {
        return 1.0;
    }
    let mut sum = 0.0;
    let mut sign = 1.0;
    for j in 1..=100 {
        let term = sign * (-2.0 * (j as f64).powi(2) * lambda * lambda).exp();
        sum += term;
        if term.abs() < 1e-12 {
            break;
        }
        sign = -sign;
    }
    (2.0 * sum).clamp(0.0, 1.0)
}

/// The two-sample KS distance and its asymptotic p-value (Numerical Recipes' small-sample
/// correction of λ).
pub fn ks_test(a: &[f64], b: &[f64]) -> (f64, f64) {
    if a.is_empty() || b.is_empty() {
        return (0.0, 1.0);
    }
    let mut a = a.to_vec();
    let mut b = b.to_vec();
    a.sort_by(f64::total_cmp);
    b.sort_by(f64::total_cmp);
    let (n, m) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j, mut d) = (0usize, 0usize, 0f64);
    while i < a.len() && j < b.len() {
        let x = a[i].min(b[j]);
        while i < a.len() && a[i] <= x {
            i += 1;
        }
        while j < b.len() && b[j] <= x {
            j += 1;
        }
        d = d.max((i as f64 / n - j as f64 / m).abs());
    }
    let ne = n * m / (n + m);
    let lambda = (ne.sqrt() + 0.12 + 0.11 / ne.sqrt()) * d;
    (d, q_ks(lambda))
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    super::median(&mut v)
}

/// Drift of `batch` against `reference` (the reference's images' statistics).
pub fn drift(reference: &[ImageStats], batch: &[ImageStats], alpha: f64, min_effect: f64) -> DriftReport {
    let r = Reference::fit(reference, OodBound::default());
    let values = |set: &[ImageStats]| -> Vec<[f64; N + 2]> {
        set.iter()
            .map(|s| {
                let v = r.values(s);
                std::array::from_fn(|k| match k {
                    k if k < N => v[k],
                    k if k == N => s.log2_pixels(),
                    _ => s.aspect(),
                })
            })
            .collect()
    };
    // the reference's own images are compared with a layout they are part of: each one with
    // the layout of the others (leave-one-out), or they would look more alike than any batch
    let n = reference.len();
    let rv: Vec<[f64; N + 2]> = if n <= 300 {
        use rayon::prelude::*;
        (0..n)
            .into_par_iter()
            .map(|i| {
                let rest: Vec<ImageStats> = reference
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .map(|(_, s)| s.clone())
                    .collect();
                let own = Reference::fit_template(&rest);
                let s = &reference[i];
                let v = super::features(s, &own);
                std::array::from_fn(|k| match k {
                    k if k < N => v[k],
                    k if k == N => s.log2_pixels(),
                    _ => s.aspect(),
                })
            })
            .collect()
    } else {
        values(reference)
    };
    // a batch image that is also a reference image is compared as that reference image is
    // (leave-one-out), so a batch that is the reference has drifted by exactly nothing
    let key = |s: &ImageStats| -> Vec<u64> {
        s.content
            .iter()
            .map(|x| x.to_bits())
            .chain(s.grid.iter().map(|g| g.to_bits() as u64))
            .chain([s.width as u64, s.height as u64])
            .collect()
    };
    let own: std::collections::HashMap<Vec<u64>, usize> =
        reference.iter().enumerate().map(|(i, s)| (key(s), i)).collect();
    let bv: Vec<[f64; N + 2]> = values(batch)
        .into_iter()
        .zip(batch)
        .map(|(v, s)| own.get(&key(s)).map_or(v, |&i| rv[i]))
        .collect();
    let spread = |k: usize| if k < N { r.mad[k] } else { r.acquisition.mad[k - N] };
    let centre = |k: usize| {
        if k < N {
            r.median[k]
        } else {
            r.acquisition.median[k - N]
        }
    };
    let tests = N as f64;
    let mut shifts: Vec<Shift> = (0..N + 2)
        .map(|k| {
            let a: Vec<f64> = rv.iter().map(|v| v[k]).collect();
            let b: Vec<f64> = bv.iter().map(|v| v[k]).collect();
            let (ks, p_value) = ks_test(&a, &b);
            let acquisition = k >= N;
            Shift {
                statistic: if acquisition {
                    super::ACQUISITION[k - N].to_string()
                } else {
                    FEATURES[k].to_string()
                },
                acquisition,
                ks,
                p_value,
                median_shift_sd: (median(&b) - centre(k)) / spread(k),
                drifted: p_value < alpha / tests && ks >= min_effect,
            }
        })
        .collect();
    shifts.sort_by(|a, b| a.p_value.total_cmp(&b.p_value).then(b.ks.total_cmp(&a.ks)));
    let drifted = shifts.iter().any(|s| s.drifted && !s.acquisition);
    let drivers = match shifts.iter().find(|s| s.drifted) {
        Some(top) => {
            let k = (0..N + 2)
                .find(|&k| (if k < N { FEATURES[k] } else { super::ACQUISITION[k - N] }) == top.statistic)
                .unwrap_or(0);
            let dir = top.median_shift_sd.signum();
            let mut d: Vec<Driver> = bv
                .iter()
                .enumerate()
                .map(|(index, v)| Driver {
                    index,
                    statistic: top.statistic.clone(),
                    value: v[k],
                    z: (v[k] - centre(k)) / spread(k),
                })
                .filter(|d| d.z * dir > 0.0)
                .collect();
            d.sort_by(|a, b| (b.z * dir).total_cmp(&(a.z * dir)));
            d.truncate(5);
            d
        }
        None => vec![],
    };
    DriftReport {
        reference_images: reference.len(),
        batch_images: batch.len(),
        alpha,
        min_effect,
        shifts,
        drifted,
        drivers,
    }
}

impl DriftReport {
    /// The report in a few lines for a pane: the verdict, the drifted statistics (or the three
    /// most shifted), and the images that drive it (`names`: the batch's, by index).
    pub fn summary(&self, against: &str, names: &[String]) -> Vec<String> {
        let mut out = vec![format!(
            "{} against {against} ({} images here, {} there)",
            if self.drifted { "DRIFTED" } else { "no drift" },
            self.batch_images,
            self.reference_images
        )];
        let drifted: Vec<&Shift> = self.shifts.iter().filter(|s| s.drifted && !s.acquisition).collect();
        let shown: Vec<&Shift> = if drifted.is_empty() {
            self.shifts.iter().filter(|s| !s.acquisition).take(3).collect()
        } else {
            drifted.iter().take(3).copied().collect()
        };
        out.extend(shown.iter().map(|s| format!("  {}", s.line_for("this pack"))));
        if drifted.len() > shown.len() {
            out.push(format!(
                "  and {} more drifted statistics (`lightbox drift` lists every one)",
                drifted.len() - shown.len()
            ));
        }
        let acquisition: Vec<&str> = self
            .shifts
            .iter()
            .filter(|s| s.drifted && s.acquisition)
            .map(|s| s.statistic.as_str())
            .collect();
        if !acquisition.is_empty() {
            out.push(format!(
                "  {} shifted too (a note, not an alarm)",
                acquisition.join(" and ")
            ));
        }
        if !self.drivers.is_empty() {
            let who: Vec<&str> = self
                .drivers
                .iter()
                .filter_map(|d| names.get(d.index).map(String::as_str))
                .collect();
            out.push(format!(
                "  most unlike the reference in {}: {}",
                self.drivers[0].statistic,
                who.join(", ")
            ));
        }
        if self.batch_images.min(self.reference_images) < 20 {
            out.push("  (fewer than 20 images on a side: only large shifts can be seen)".into());
        }
        out
    }
}

impl Shift {
    /// "likeness to the reference: the batch's median −4.1 robust SD from the reference's;
    /// distributions 0.62 apart (KS), p = 3.0e-9 — drifted".
    pub fn line(&self) -> String {
        self.line_for("the batch")
    }

    /// As [`Shift::line`], naming the compared set `who` ("this pack").
    pub fn line_for(&self, who: &str) -> String {
        format!(
            "{}: {who}'s median {}{} robust SD from the reference's; distributions {:.2} apart (KS), p = {:.1e}{}",
            self.statistic,
            if self.median_shift_sd > 0.0 { "+" } else { "" },
            fmt_z(self.median_shift_sd),
            self.ks,
            self.p_value,
            match (self.drifted, self.acquisition) {
                (true, false) => " — drifted",
                (true, true) => " — shifted (acquisition: a note, not an alarm)",
                _ => "",
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ood::statistics::{CONTENT, GRID};

    fn sample(n: usize, seed: u64, mean_shift: f64) -> Vec<ImageStats> {
        let mut x = seed;
        let mut u = move || {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((x >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        };
        (0..n)
            .map(|_| {
                let mut content: [f64; CONTENT] = std::array::from_fn(|_| 0.5 + 0.1 * (u() - 0.5));
                content[0] += mean_shift;
                ImageStats {
                    content,
                    grid: (0..GRID * GRID).map(|k| (k % 5) as f32 + 0.2 * u() as f32).collect(),
                    width: 512,
                    height: 512,
                }
            })
            .collect()
    }

    #[test]
    fn ks_distance_and_p_value_match_known_values() {
        // identical samples: no distance
        let a: Vec<f64> = (0..50).map(|i| i as f64).collect();
        let (d, p) = ks_test(&a, &a);
        assert_eq!(d, 0.0);
        assert_eq!(p, 1.0);
        // disjoint samples of 50: D = 1, p tiny
        let b: Vec<f64> = (100..150).map(|i| i as f64).collect();
        let (d, p) = ks_test(&a, &b);
        assert_eq!(d, 1.0);
        assert!(p < 1e-15, "{p}");
        // scipy.stats.kstest(range(0,50), range(10,60), method="asymp") gives D = 0.2, p ≈ 0.27
        let c: Vec<f64> = (10..60).map(|i| i as f64).collect();
        let (d, p) = ks_test(&a, &c);
        assert!((d - 0.2).abs() < 1e-12);
        assert!((0.2..0.32).contains(&p), "{p}");
    }

    #[test]
    fn a_batch_like_the_reference_has_not_drifted_and_a_shifted_one_has_with_its_drivers() {
        let reference = sample(200, 1, 0.0);
        let same = drift(&reference, &sample(300, 2, 0.0), DEFAULT_ALPHA, DEFAULT_MIN_EFFECT);
        assert!(!same.drifted, "{:#?}", same.shifts);
        assert!(same.drivers.is_empty());
        let shifted = drift(&reference, &sample(100, 3, 0.05), DEFAULT_ALPHA, DEFAULT_MIN_EFFECT);
        assert!(shifted.drifted);
        assert_eq!(shifted.shifts[0].statistic, "mean");
        assert!(shifted.shifts[0].median_shift_sd > 0.0);
        assert_eq!(shifted.drivers.len(), 5);
        assert!(shifted.drivers.iter().all(|d| d.statistic == "mean" && d.z > 0.0));
    }

    #[test]
    fn a_batch_that_is_the_reference_has_not_drifted_at_all() {
        for n in [6, 40] {
            let reference = sample(n, 8, 0.0);
            let r = drift(&reference, &reference, 0.5, 0.0);
            assert!(r.shifts.iter().all(|s| s.ks == 0.0), "{n}: {:#?}", r.shifts);
            assert!(!r.drifted);
        }
    }

    #[test]
    fn a_large_batch_does_not_alarm_on_a_shift_too_small_to_matter() {
        let reference = sample(2000, 4, 0.0);
        // a 1% of the range shift: significant with 20,000 images, but D is small
        let r = drift(&reference, &sample(20_000, 5, 0.001), DEFAULT_ALPHA, DEFAULT_MIN_EFFECT);
        assert!(!r.drifted, "{:#?}", r.shifts[0]);
    }

    #[test]
    fn a_new_resolution_alone_is_a_note_not_an_alarm() {
        let reference = sample(100, 6, 0.0);
        let mut batch = sample(100, 7, 0.0);
        for s in batch.iter_mut() {
            (s.width, s.height) = (2048, 2048);
        }
        let r = drift(&reference, &batch, DEFAULT_ALPHA, DEFAULT_MIN_EFFECT);
        assert!(!r.drifted, "{:#?}", r.shifts);
        let size = r.shifts.iter().find(|s| s.statistic == "size (log2 pixels)").unwrap();
        assert!(size.drifted && size.acquisition);
        assert!(size.line().contains("a note, not an alarm"), "{}", size.line());
    }
}
