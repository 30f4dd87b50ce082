//! Out-of-distribution inputs: cheap per-image statistics compared with a reference, by default
//! the pack itself (robust z-scores: median and MAD), so a calibration bottle or a knee in a chest
//! stream stands out. The statistics are scale-invariant (values are divided by the image's own
//! 99.5th percentile), so 12-bit data stored in 16-bit files is not "unusual" for its depth alone.
//! The reference is written to a lock file beside the pack: the same images give the same flags
//! tomorrow.

use crate::formats::image::{self, PixelImage};
use crate::pack::Pack;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// How many statistics describe an image.
pub const N: usize = 10;

/// One image's statistics, in the order of [`FEATURES`].
pub type Stats = [f64; N];

/// The statistics, in a fixed order.
pub const FEATURES: [&str; N] = [
    "aspect ratio",
    "mean",
    "contrast (std)",
    "median",
    "5th percentile",
    "dark fraction",
    "bright fraction",
    "edge density",
    "histogram entropy",
    "size (log2 pixels)",
];

/// Per-image statistics (values relative to the image's 99.5th percentile).
pub fn stats(img: &PixelImage) -> Stats {
    let (w, h) = (img.width as usize, img.height as usize);
    // subsample big images: statistics of a 256-wide grid are enough and cost little
    let step = (w.max(h) / 256).max(1);
    let mut v: Vec<f64> = Vec::with_capacity((w / step + 1) * (h / step + 1));
    for y in (0..h).step_by(step) {
        for x in (0..w).step_by(step) {
            v.push(img.value(x as u32, y as u32) as f64);
        }
    }
    let gw = w.div_ceil(step);
    let mut sorted = v.clone();
    sorted.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let q = |p: f64| sorted[((sorted.len() - 1) as f64 * p) as usize];
    let top = q(0.995).max(1.0);
    let n = v.len() as f64;
    let norm: Vec<f64> = v.iter().map(|x| (x / top).min(1.0)).collect();
    let mean = norm.iter().sum::<f64>() / n;
    let std = (norm.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
    let dark = norm.iter().filter(|&&x| x < 0.1).count() as f64 / n;
    let bright = norm.iter().filter(|&&x| x > 0.9).count() as f64 / n;
    let mut edges = 0usize;
    let mut pairs = 0usize;
    for i in 0..norm.len() {
        if (i + 1) % gw != 0 && i + 1 < norm.len() {
            pairs += 1;
            if (norm[i + 1] - norm[i]).abs() > 0.08 {
                edges += 1;
            }
        }
    }
    let mut hist = [0usize; 32];
    for &x in &norm {
        hist[((x * 31.999) as usize).min(31)] += 1;
    }
    let entropy = -hist
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| c as f64 / n)
        .map(|p| p * p.log2())
        .sum::<f64>();
    [
        w as f64 / h as f64,
        mean,
        std,
        q(0.5) / top,
        q(0.05) / top,
        dark,
        bright,
        edges as f64 / pairs.max(1) as f64,
        entropy,
        ((w * h) as f64).log2(),
    ]
}

/// Reference distribution: per feature, the median and the scaled MAD.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Reference {
    pub features: Vec<String>,
    pub median: Vec<f64>,
    pub mad: Vec<f64>,
    /// Robust z beyond which an input is flagged.
    pub max_z: f64,
    /// How many images the reference was computed from.
    pub images: usize,
    /// Where the images came from (a folder given to `lightbox stats`); absent: the pack itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    if v.is_empty() { 0.0 } else { v[v.len() / 2] }
}

impl Reference {
    pub fn from_stats(all: &[Stats], max_z: f64) -> Reference {
        let mut med = Vec::new();
        let mut mad = Vec::new();
        for k in 0..N {
            let mut col: Vec<f64> = all.iter().map(|s| s[k]).collect();
            let m = median(&mut col);
            let mut dev: Vec<f64> = col.iter().map(|x| (x - m).abs()).collect();
            // 1.4826·MAD estimates σ for normal data; a floor keeps near-constant features sane
            let d = (1.4826 * median(&mut dev)).max(0.01 * m.abs()).max(1e-3);
            med.push(m);
            mad.push(d);
        }
        Reference {
            features: FEATURES.iter().map(|s| s.to_string()).collect(),
            median: med,
            mad,
            max_z,
            images: all.len(),
            origin: None,
        }
    }

    /// Robust z-score of each feature.
    pub fn z(&self, s: &Stats) -> Stats {
        std::array::from_fn(|k| (s[k] - self.median[k]) / self.mad[k])
    }
}

/// One input out of distribution.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct OodFinding {
    pub case: usize,
    /// (feature, value, robust z), the furthest first.
    pub outliers: Vec<(String, f64, f64)>,
    pub max_z: f64,
}

impl OodFinding {
    pub fn sentence(&self, reference: &Reference) -> String {
        let parts: Vec<String> = self
            .outliers
            .iter()
            .take(3)
            .map(|(f, v, z)| format!("{f} {v:.2} ({}{z:.1} robust SD)", if *z > 0.0 { "+" } else { "" }))
            .collect();
        let against = match &reference.origin {
            Some(o) => format!("the reference images ({o}, {})", reference.images),
            None => "the rest of the pack".to_string(),
        };
        format!(
            "unlike {against}: {}; flagged beyond {} SD",
            parts.join(", "),
            reference.max_z
        )
    }
}

/// Why a reference could not be computed, read or kept.
#[derive(Debug, thiserror::Error)]
pub enum OodError {
    #[error("{}: {source}", dir.display())]
    Walk { dir: PathBuf, source: std::io::Error },
    #[error("{}: {count} images; a reference needs at least 5", dir.display())]
    TooFewImages { dir: PathBuf, count: usize },
    #[error("{}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{}: {source}. Write it with `lightbox stats DIR -o FILE`", path.display())]
    Syntax { path: PathBuf, source: serde_json::Error },
    #[error("{}: {source}; recompute it with `lightbox stats`", path.display())]
    Invalid { path: PathBuf, source: ReferenceProblem },
    #[error("{}: {source}. Delete it or pass --refresh-lock to recompute", path.display())]
    LockSyntax { path: PathBuf, source: serde_json::Error },
    #[error("{}: {source}. Delete it or pass --refresh-lock to recompute", path.display())]
    LockInvalid { path: PathBuf, source: ReferenceProblem },
    #[error("{0}")]
    Serialise(#[from] serde_json::Error),
}

/// What is wrong with a reference's figures.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReferenceProblem {
    #[error("{features} statistics ({medians} medians, {spreads} spreads) where lightbox computes {}", FEATURES.len())]
    Count {
        features: usize,
        medians: usize,
        spreads: usize,
    },
    #[error("statistic {index} is {found:?}; lightbox computes {expected:?} there")]
    Name {
        index: usize,
        found: String,
        expected: &'static str,
    },
    #[error("median of {name} is {value}")]
    Median { name: &'static str, value: f64 },
    #[error("spread (mad) of {name} is {value}; it must be a number above 0")]
    Spread { name: &'static str, value: f64 },
    #[error("max_z is {0}; it must be a number above 0")]
    MaxZ(f64),
}

/// Statistics of every image under `dir` (a reference from training data).
pub fn folder_stats(dir: &Path) -> Result<Vec<Stats>, OodError> {
    let files: Vec<PathBuf> = crate::pack::paths::walk_files(dir)
        .map_err(|source| OodError::Walk {
            dir: dir.to_path_buf(),
            source,
        })?
        .into_iter()
        .filter(|p| image::is_image_path(p))
        .collect();
    if files.len() < 5 {
        return Err(OodError::TooFewImages {
            dir: dir.to_path_buf(),
            count: files.len(),
        });
    }
    Ok(files
        .par_iter()
        .filter_map(|p| image::decode(p).ok().map(|i| stats(&i)))
        .collect())
}

/// Read a reference written by `lightbox stats`.
pub fn read_reference(path: &Path) -> Result<Reference, OodError> {
    let text = std::fs::read_to_string(path).map_err(|source| OodError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let r: Reference = serde_json::from_str(&text).map_err(|source| OodError::Syntax {
        path: path.to_path_buf(),
        source,
    })?;
    check_reference(&r).map_err(|source| OodError::Invalid {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(r)
}

/// A reference read from a file holds one finite median and one positive, finite spread per
/// statistic lightbox computes, under the names it computes them by: a short list made `check`
/// index past its end, a negative spread switched the check off, a zero one flagged everything.
pub fn check_reference(r: &Reference) -> Result<(), ReferenceProblem> {
    if r.median.len() != FEATURES.len() || r.mad.len() != FEATURES.len() || r.features.len() != FEATURES.len() {
        return Err(ReferenceProblem::Count {
            features: r.features.len(),
            medians: r.median.len(),
            spreads: r.mad.len(),
        });
    }
    for (k, name) in FEATURES.iter().enumerate() {
        if r.features[k] != *name {
            return Err(ReferenceProblem::Name {
                index: k,
                found: r.features[k].clone(),
                expected: name,
            });
        }
        if !r.median[k].is_finite() {
            return Err(ReferenceProblem::Median {
                name,
                value: r.median[k],
            });
        }
        if !(r.mad[k].is_finite() && r.mad[k] > 0.0) {
            return Err(ReferenceProblem::Spread { name, value: r.mad[k] });
        }
    }
    if !(r.max_z.is_finite() && r.max_z > 0.0) {
        return Err(ReferenceProblem::MaxZ(r.max_z));
    }
    Ok(())
}

/// Statistics of every case's image (decoded in parallel); `None` where it cannot be read.
pub fn pack_stats(pack: &Pack) -> Vec<Option<Stats>> {
    pack_stats_with(pack, &crate::job::Progress::default())
}

/// As [`pack_stats`], saying how far it has got in `progress`.
pub fn pack_stats_with(pack: &Pack, progress: &crate::job::Progress) -> Vec<Option<Stats>> {
    progress.stage("image statistics", pack.cases.len());
    pack.cases
        .par_iter()
        .map(|c| {
            progress.step();
            image::decode(&c.image).ok().map(|i| stats(&i))
        })
        .collect()
}

/// Compare every case with `reference`.
pub fn find(stats: &[Option<Stats>], reference: &Reference) -> Vec<OodFinding> {
    let mut out = Vec::new();
    for (case, s) in stats.iter().enumerate() {
        let Some(s) = s else { continue };
        let z = reference.z(s);
        let mut outliers: Vec<(String, f64, f64)> = (0..N)
            .filter(|&k| z[k].abs() > reference.max_z)
            .map(|k| (FEATURES[k].to_string(), s[k], z[k]))
            .collect();
        if outliers.is_empty() {
            continue;
        }
        outliers.sort_by(|a, b| b.2.abs().partial_cmp(&a.2.abs()).unwrap_or(std::cmp::Ordering::Equal));
        let max_z = outliers[0].2.abs();
        out.push(OodFinding { case, outliers, max_z });
    }
    out
}

/// A pack's reference: read from its lock file when present, else computed from the pack's
/// statistics and written there.
pub fn pack_reference(
    stats: &[Option<Stats>],
    max_z: f64,
    lock: Option<&Path>,
    refresh: bool,
) -> Result<Reference, OodError> {
    if let Some(p) = lock
        && !refresh
        && let Ok(text) = std::fs::read_to_string(p)
    {
        // the lock keeps the reference statistics; the bound is the rules file's (ood_max_z)
        let locked: Reference = serde_json::from_str(&text).map_err(|source| OodError::LockSyntax {
            path: p.to_path_buf(),
            source,
        })?;
        check_reference(&locked).map_err(|source| OodError::LockInvalid {
            path: p.to_path_buf(),
            source,
        })?;
        return Ok(Reference { max_z, ..locked });
    }
    let all: Vec<Stats> = stats.iter().flatten().copied().collect();
    let reference = Reference::from_stats(&all, max_z);
    if let Some(p) = lock {
        // a read-only pack still gets its flags; only the lock is not kept
        let text = serde_json::to_string_pretty(&reference)? + "\n";
        let _ = crate::fsutil::write_atomic(p, text.as_bytes());
    }
    Ok(reference)
}

#[cfg(test)]
mod error_tests {
    use super::*;

    #[test]
    fn a_bad_lock_names_the_file_the_statistic_and_what_to_do() {
        let e = OodError::LockInvalid {
            path: PathBuf::from("pack/ood.lock.json"),
            source: ReferenceProblem::Spread {
                name: "mean",
                value: -1.0,
            },
        };
        assert_eq!(
            e.to_string(),
            "pack/ood.lock.json: spread (mad) of mean is -1; it must be a number above 0. Delete it or pass --refresh-lock to recompute"
        );
    }
}
