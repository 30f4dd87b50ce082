//! Out-of-distribution inputs: what an image *shows*, compared with a reference (by default the
//! pack itself), so a calibration bottle, a knee, a photograph, a rotated, flipped or inverted
//! radiograph stands out in a chest stream, and a chest radiograph from another hospital at
//! another resolution does not.
//!
//! Every statistic is computed on a normalised view ([`view`]: 256 px on the longer side,
//! intensities from the image's own 0.5th to 99.5th percentile), so resolution and bit depth move
//! none of them; size and aspect are a separate, minor *acquisition* check. Each statistic is
//! compared with the reference by a robust z-score (median and scaled MAD, with a floor per
//! statistic so a statistic that hardly varies in the reference does not alarm on noise); an
//! image's score is its largest |z|. The bound is *calibrated*: the leave-one-out scores of the
//! reference's own images, with an exponential tail fitted to their upper half, give the score
//! that in-distribution images exceed at the stated false-alarm rate (1 in 200 by default).
//! The reference, the calibration scores and the bound are written to a lock file beside the
//! pack: the same images give the same flags tomorrow.

pub mod drift;
pub mod statistics;
pub mod view;

use crate::formats::image;
use crate::pack::Pack;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use statistics::{CONTENT, CONTENT_NAMES, GRID};
use std::path::{Path, PathBuf};

pub use statistics::ImageStats;

/// The version of the statistics; a lock or reference of another version is refused.
pub const VERSION: u32 = 2;

/// How many statistics an image is compared by.
pub const N: usize = CONTENT + 2;

/// The statistics, in a fixed order: the content statistics and the likeness of the image's
/// coarse layout to the reference's typical layout.
pub const FEATURES: [&str; N] = [
    CONTENT_NAMES[0],
    CONTENT_NAMES[1],
    CONTENT_NAMES[2],
    CONTENT_NAMES[3],
    CONTENT_NAMES[4],
    CONTENT_NAMES[5],
    CONTENT_NAMES[6],
    CONTENT_NAMES[7],
    CONTENT_NAMES[8],
    CONTENT_NAMES[9],
    CONTENT_NAMES[10],
    CONTENT_NAMES[11],
    "likeness to the reference",
    "upright likeness",
];

/// Which way a statistic is unusual.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Side {
    Both,
    /// Only below the reference (less symmetric, less alike).
    Low,
    /// Only above it (more empty, more colour, more border).
    High,
}

const SIDES: [Side; N] = [
    Side::Both, // mean
    Side::Both, // contrast
    Side::Both, // median
    Side::High, // empty fraction
    Side::High, // saturated fraction
    Side::Both, // edge density
    Side::Both, // entropy
    Side::High, // colour
    Side::Low,  // left-right symmetry
    Side::Both, // top-bottom balance
    Side::Both, // profile anisotropy
    Side::High, // uniform border
    Side::Low,  // likeness
    Side::Low,  // upright likeness
];

/// The smallest spread a statistic is given: differences below these are noise (JPEG chroma,
/// a few saturated pixels), whatever a uniform reference says.
pub const MIN_SPREAD: [f64; N] = [
    0.02, 0.01, 0.02, 0.01, 0.005, 0.005, 0.05, 0.01, 0.02, 0.02, 0.1, 0.01, 0.02, 0.02,
];

/// The acquisition statistics (never a major alarm on their own).
pub const ACQUISITION: [&str; 2] = ["size (log2 pixels)", "aspect ratio"];
const ACQUISITION_MIN_SPREAD: [f64; 2] = [0.25, 0.05];
/// Robust z beyond which size or aspect is reported as an unusual acquisition.
pub const ACQUISITION_MAX_Z: f64 = 6.0;

/// The default false-alarm rate the bound is calibrated for.
pub const DEFAULT_FALSE_ALARM_RATE: f64 = 0.005;

/// The lowest calibrated bound: below it, a reference too alike for its own good would flag
/// ordinary variation.
pub const MIN_BOUND: f64 = 3.0;

/// At most this many reference images are scored leave-one-out; beyond it a sample of them is
/// scored against the whole reference (one image moves a median of hundreds by nothing).
const CALIBRATION_SAMPLE: usize = 300;

/// How the bound was chosen (what the rules or the command line ask for).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OodBound {
    /// Calibrated on the reference for this false-alarm rate on in-distribution images.
    FalseAlarmRate(f64),
    /// A fixed robust z.
    MaxZ(f64),
}

impl Default for OodBound {
    fn default() -> Self {
        OodBound::FalseAlarmRate(DEFAULT_FALSE_ALARM_RATE)
    }
}

/// Where a reference's bound came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BoundOrigin {
    /// From the calibration scores, for this rate.
    Calibrated { false_alarm_rate: f64 },
    /// Given (`by` says where: the rules' `ood_max_z`, `lightbox stats --max-z`).
    Fixed { by: String },
}

/// The acquisition part of a reference: size and aspect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AcquisitionReference {
    pub features: Vec<String>,
    pub median: Vec<f64>,
    pub mad: Vec<f64>,
    pub max_z: f64,
}

/// A reference distribution.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Reference {
    pub version: u32,
    pub features: Vec<String>,
    pub median: Vec<f64>,
    /// Per statistic, the spread: 1.4826 × MAD, at least [`MIN_SPREAD`].
    pub mad: Vec<f64>,
    /// The typical coarse layout: per cell of the 16×16 grid, the reference images' median.
    pub template: Vec<f64>,
    /// Per statistic, the |z| beyond which an input is flagged.
    pub bounds: Vec<f64>,
    pub bound: BoundOrigin,
    /// Per statistic, the reference images' own leave-one-out |z|, ascending: what the bounds
    /// are calibrated on.
    pub calibration: Vec<Vec<f64>>,
    pub acquisition: AcquisitionReference,
    /// How many images the reference was computed from.
    pub images: usize,
    /// Where the images came from (a folder given to `lightbox stats`); absent: the pack itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => 0.5 * (v[n / 2 - 1] + v[n / 2]),
    }
}

fn robust(col: &mut [f64], floor: f64) -> (f64, f64) {
    let m = median(col);
    let mut dev: Vec<f64> = col.iter().map(|x| (x - m).abs()).collect();
    (m, (1.4826 * median(&mut dev)).max(floor))
}

/// Median and spread of every statistic, and the template (no bound yet).
#[derive(Debug, Clone)]
struct Fit {
    median: [f64; N],
    mad: [f64; N],
    template: Vec<f64>,
}

impl Fit {
    fn of<'a>(all: impl Iterator<Item = &'a ImageStats> + Clone) -> Fit {
        let mut template = vec![0.0; GRID * GRID];
        for (k, t) in template.iter_mut().enumerate() {
            let mut cell: Vec<f64> = all
                .clone()
                .map(|s| s.grid.get(k).copied().unwrap_or(0.0) as f64)
                .collect();
            *t = median(&mut cell);
        }
        let values: Vec<[f64; N]> = all.clone().map(|s| features(s, &template)).collect();
        let mut median = [0.0; N];
        let mut mad = [0.0; N];
        for k in 0..N {
            let mut col: Vec<f64> = values.iter().map(|v| v[k]).collect();
            (median[k], mad[k]) = robust(&mut col, MIN_SPREAD[k]);
        }
        Fit { median, mad, template }
    }

    fn z(&self, s: &ImageStats) -> [f64; N] {
        z_scores(s, &self.median, &self.mad, &self.template)
    }
}

/// The reference's layout and the same layout turned (90°, 180°, 270°) and upside down.
struct Templates {
    upright: Vec<f32>,
    turned: [Vec<f32>; 4],
}

impl Templates {
    fn of(template: &[f64]) -> Templates {
        let g = GRID;
        let at = |x: usize, y: usize| template.get(y * g + x).copied().unwrap_or(0.0) as f32;
        let make = |f: &dyn Fn(usize, usize) -> f32| -> Vec<f32> { (0..g * g).map(|k| f(k % g, k / g)).collect() };
        Templates {
            upright: make(&|x, y| at(x, y)),
            turned: [
                make(&|x, y| at(y, g - 1 - x)),
                make(&|x, y| at(g - 1 - x, g - 1 - y)),
                make(&|x, y| at(g - 1 - y, x)),
                make(&|x, y| at(x, g - 1 - y)),
            ],
        }
    }
}

/// Every statistic of `s`: its content statistics, the likeness (correlation) of its coarse
/// layout to the reference's, and its upright likeness: how much better it matches the layout
/// upright than turned or upside down (negative: it looks like a turned or flipped one).
fn features(s: &ImageStats, template: &[f64]) -> [f64; N] {
    let t = Templates::of(template);
    let likeness = statistics::correlation(&s.grid, &t.upright);
    let turned = t
        .turned
        .iter()
        .map(|u| statistics::correlation(&s.grid, u))
        .fold(f64::NEG_INFINITY, f64::max);
    std::array::from_fn(|k| match k {
        k if k < CONTENT => s.content[k],
        k if k == CONTENT => likeness,
        _ => likeness - turned,
    })
}

fn z_scores(s: &ImageStats, median: &[f64], mad: &[f64], template: &[f64]) -> [f64; N] {
    let v = features(s, template);
    std::array::from_fn(|k| {
        let z = (v[k] - median[k]) / mad[k];
        match SIDES[k] {
            Side::Both => z,
            Side::Low => z.min(0.0),
            Side::High => z.max(0.0),
        }
    })
}

/// The bound for `rate` from calibration scores (|z|, ascending): an exponential tail fitted to the
/// scores above their median (its scale from the median excess, so a few true outliers among
/// the reference's own images do not widen it), extrapolated to `rate`; at least [`MIN_BOUND`].
pub fn calibrated_bound(scores: &[f64], rate: f64) -> f64 {
    if scores.is_empty() {
        return 6.0;
    }
    let mut s = scores.to_vec();
    let u = median(&mut s);
    let mut excess: Vec<f64> = s.iter().filter(|&&x| x > u).map(|x| x - u).collect();
    let scale = if excess.is_empty() {
        0.25
    } else {
        (median(&mut excess) / std::f64::consts::LN_2).max(0.25)
    };
    (u + scale * (0.5 / rate).ln()).max(MIN_BOUND)
}

/// The expected false-alarm rate of `bound` on in-distribution images, by the same tail.
pub fn expected_rate(scores: &[f64], bound: f64) -> f64 {
    if scores.is_empty() {
        return f64::NAN;
    }
    let mut s = scores.to_vec();
    let u = median(&mut s);
    let mut excess: Vec<f64> = s.iter().filter(|&&x| x > u).map(|x| x - u).collect();
    let scale = if excess.is_empty() {
        0.25
    } else {
        (median(&mut excess) / std::f64::consts::LN_2).max(0.25)
    };
    (0.5 * (-(bound - u) / scale).exp()).min(1.0)
}

/// Per statistic, the reference images' leave-one-out |z|, ascending.
fn loo_scores(all: &[ImageStats]) -> Vec<Vec<f64>> {
    let n = all.len();
    let zs: Vec<[f64; N]> = if n <= CALIBRATION_SAMPLE {
        (0..n)
            .into_par_iter()
            .map(|i| {
                let rest = all.iter().enumerate().filter(move |(j, _)| *j != i).map(|(_, s)| s);
                Fit::of(rest).z(&all[i])
            })
            .collect()
    } else {
        let fit = Fit::of(all.iter());
        (0..CALIBRATION_SAMPLE)
            .into_par_iter()
            .map(|k| fit.z(&all[k * n / CALIBRATION_SAMPLE]))
            .collect()
    };
    (0..N)
        .map(|k| {
            let mut col: Vec<f64> = zs.iter().map(|z| z[k].abs()).collect();
            col.sort_by(f64::total_cmp);
            col
        })
        .collect()
}

impl Reference {
    /// The reference of `all`, its bound chosen by `bound`.
    pub fn fit(all: &[ImageStats], bound: OodBound) -> Reference {
        let fit = Fit::of(all.iter());
        let mut acq_median = Vec::new();
        let mut acq_mad = Vec::new();
        for (k, floor) in ACQUISITION_MIN_SPREAD.iter().enumerate() {
            let mut col: Vec<f64> = all
                .iter()
                .map(|s| if k == 0 { s.log2_pixels() } else { s.aspect() })
                .collect();
            let (m, d) = robust(&mut col, *floor);
            acq_median.push(m);
            acq_mad.push(d);
        }
        let r = Reference {
            version: VERSION,
            features: FEATURES.iter().map(|s| s.to_string()).collect(),
            median: fit.median.to_vec(),
            mad: fit.mad.to_vec(),
            template: fit.template,
            bounds: vec![],
            bound: BoundOrigin::Calibrated {
                false_alarm_rate: DEFAULT_FALSE_ALARM_RATE,
            },
            calibration: loo_scores(all),
            acquisition: AcquisitionReference {
                features: ACQUISITION.iter().map(|s| s.to_string()).collect(),
                median: acq_median,
                mad: acq_mad,
                max_z: ACQUISITION_MAX_Z,
            },
            images: all.len(),
            origin: None,
        };
        r.bounded(bound, "the rules' ood_max_z")
    }

    /// The layout template of `all` (per cell of the grid, the median).
    pub fn fit_template(all: &[ImageStats]) -> Vec<f64> {
        (0..GRID * GRID)
            .map(|k| {
                let mut cell: Vec<f64> = all
                    .iter()
                    .map(|s| s.grid.get(k).copied().unwrap_or(0.0) as f64)
                    .collect();
                median(&mut cell)
            })
            .collect()
    }

    /// The same reference with its bound chosen by `bound` (`by`: who gave a fixed one).
    pub fn bounded(self, bound: OodBound, by: &str) -> Reference {
        match bound {
            OodBound::MaxZ(z) => Reference {
                bounds: vec![z; N],
                bound: BoundOrigin::Fixed { by: by.to_string() },
                ..self
            },
            // each statistic gets rate / N: together no more than `rate` (the union bound)
            OodBound::FalseAlarmRate(rate) => Reference {
                bounds: (0..N)
                    .map(|k| calibrated_bound(self.calibration.get(k).map_or(&[][..], |c| &c[..]), rate / N as f64))
                    .collect(),
                bound: BoundOrigin::Calibrated { false_alarm_rate: rate },
                ..self
            },
        }
    }

    /// Robust z-score of each statistic (0 on a statistic's harmless side).
    pub fn z(&self, s: &ImageStats) -> [f64; N] {
        z_scores(s, &self.median, &self.mad, &self.template)
    }

    /// The value of each statistic for `s` (the likenesses against this reference's layout).
    pub fn values(&self, s: &ImageStats) -> [f64; N] {
        features(s, &self.template)
    }

    /// An image's score: its largest |z| as a share of that statistic's bound (above 1:
    /// flagged).
    pub fn score(&self, s: &ImageStats) -> f64 {
        let z = self.z(s);
        (0..N).fold(0.0, |a: f64, k| a.max(z[k].abs() / self.bounds[k]))
    }

    /// The expected false-alarm rate on in-distribution images at these bounds (the sum over
    /// the statistics of each one's fitted tail).
    pub fn expected_rate(&self) -> f64 {
        (0..N)
            .map(|k| expected_rate(&self.calibration[k], self.bounds[k]))
            .sum::<f64>()
            .min(1.0)
    }

    /// The bound in words.
    pub fn bound_text(&self) -> String {
        match &self.bound {
            BoundOrigin::Calibrated { false_alarm_rate } => format!(
                "each statistic's bound, calibrated on the reference for 1 false alarm in {} in-distribution images",
                (1.0 / false_alarm_rate).round()
            ),
            BoundOrigin::Fixed { by } => {
                format!(
                    "{} robust SD ({by})",
                    fmt_z(self.bounds.first().copied().unwrap_or(0.0))
                )
            }
        }
    }
}

/// A bound or score in words: one decimal, two below 1 (0.5 is not "0").
pub fn fmt_z(z: f64) -> String {
    if z.abs() < 1.0 {
        format!("{z:.2}")
    } else {
        format!("{z:.1}")
    }
}

/// One input out of distribution.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct OodFinding {
    pub case: usize,
    /// (statistic, value, robust z, its bound) beyond the bound, the furthest (relative to its
    /// bound) first.
    pub outliers: Vec<(String, f64, f64, f64)>,
    /// The image's score (its largest |z| relative to that statistic's bound; above 1).
    pub score: f64,
}

impl OodFinding {
    pub fn sentence(&self, reference: &Reference) -> String {
        let parts: Vec<String> = self
            .outliers
            .iter()
            .take(3)
            .map(|(f, v, z, b)| {
                format!(
                    "{f} {v:.2} ({}{} robust SD, bound {})",
                    if *z > 0.0 { "+" } else { "" },
                    fmt_z(*z),
                    fmt_z(*b)
                )
            })
            .collect();
        let against = match &reference.origin {
            Some(o) => format!("the reference images ({o}, {})", reference.images),
            None => "the rest of the pack".to_string(),
        };
        format!(
            "unlike {against}: {}; flagged beyond {}",
            parts.join(", "),
            reference.bound_text()
        )
    }
}

/// One input whose size or aspect is unusual for the reference.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AcquisitionFinding {
    pub case: usize,
    /// (statistic, value, reference median, robust z).
    pub outliers: Vec<(String, f64, f64, f64)>,
}

impl AcquisitionFinding {
    pub fn sentence(&self) -> String {
        let parts: Vec<String> = self
            .outliers
            .iter()
            .map(|(f, v, m, z)| {
                if f == ACQUISITION[0] {
                    format!(
                        "{:.2} megapixels where the reference's median is {:.2} ({}{} robust SD)",
                        v.exp2() / 1e6,
                        m.exp2() / 1e6,
                        if *z > 0.0 { "+" } else { "" },
                        fmt_z(*z)
                    )
                } else {
                    format!(
                        "aspect ratio {v:.2} where the reference's median is {m:.2} ({}{} robust SD)",
                        if *z > 0.0 { "+" } else { "" },
                        fmt_z(*z)
                    )
                }
            })
            .collect();
        format!("the image was acquired unusually: {}", parts.join("; "))
    }
}

/// Inputs whose size or aspect is beyond the acquisition bound.
pub fn find_acquisition(stats: &[Option<ImageStats>], reference: &Reference) -> Vec<AcquisitionFinding> {
    let a = &reference.acquisition;
    stats
        .iter()
        .enumerate()
        .filter_map(|(case, s)| {
            let s = s.as_ref()?;
            let outliers: Vec<(String, f64, f64, f64)> = [s.log2_pixels(), s.aspect()]
                .iter()
                .enumerate()
                .filter_map(|(k, &v)| {
                    let z = (v - a.median[k]) / a.mad[k];
                    (z.abs() > a.max_z).then(|| (ACQUISITION[k].to_string(), v, a.median[k], z))
                })
                .collect();
            (!outliers.is_empty()).then_some(AcquisitionFinding { case, outliers })
        })
        .collect()
}

/// Why a reference could not be computed, read or kept.
#[derive(Debug, thiserror::Error)]
pub enum OodError {
    #[error("{}: {source}", dir.display())]
    Walk { dir: PathBuf, source: std::io::Error },
    #[error("{}: {count} images that decode; at least 5 are needed", dir.display())]
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
    #[error("a bound is {0}; it must be a number above 0")]
    MaxZ(f64),
    #[error("{0} bounds where lightbox computes 14 statistics")]
    Bounds(usize),
    #[error(
        "it holds version {0} statistics; this lightbox computes version 2 (content on a normalised view, not image size)"
    )]
    Version(u64),
    #[error("the layout template has {0} cells where lightbox computes 256 finite values")]
    Template(usize),
    #[error("the calibration is not 14 non-empty, ascending lists of finite scores")]
    Calibration,
    #[error("images is {0}; a reference is computed from at least 5")]
    Images(usize),
    #[error("the layout template is flat (every cell the same): every input would be unlike it")]
    FlatTemplate,
    #[error("bound.false_alarm_rate is {0}; it must lie between 0 and 0.5")]
    Rate(f64),
    #[error(
        "the acquisition part is not the statistics {ACQUISITION:?} with two finite medians and two positive spreads with a positive max_z"
    )]
    Acquisition,
}

/// Statistics of every image under `dir` (a reference from training data), with each one's
/// path; the files that are images by name but cannot be decoded, with why.
pub type FolderStats = (Vec<(PathBuf, ImageStats)>, Vec<(PathBuf, String)>);

/// Statistics of every image under `dir`.
pub fn folder_stats(dir: &Path) -> Result<FolderStats, OodError> {
    let files: Vec<PathBuf> = crate::pack::paths::walk_files(dir)
        .map_err(|source| OodError::Walk {
            dir: dir.to_path_buf(),
            source,
        })?
        .into_iter()
        .filter(|p| image::is_image_path(p))
        .collect();
    let decoded: Vec<Result<(PathBuf, ImageStats), (PathBuf, String)>> = files
        .par_iter()
        .map(|p| match image::decode(p) {
            Ok(i) => Ok((p.clone(), statistics::of_image(&i))),
            Err(e) => Err((p.clone(), e.to_string())),
        })
        .collect();
    let (ok, bad): (Vec<_>, Vec<_>) = decoded.into_iter().partition(|r| r.is_ok());
    let ok: Vec<(PathBuf, ImageStats)> = ok.into_iter().flatten().collect();
    let bad: Vec<(PathBuf, String)> = bad.into_iter().filter_map(|r| r.err()).collect();
    if ok.len() < 5 {
        return Err(OodError::TooFewImages {
            dir: dir.to_path_buf(),
            count: ok.len(),
        });
    }
    Ok((ok, bad))
}

/// The images of a pack or of a folder, each by name, and the ones left out with why.
#[derive(Debug, Clone)]
pub struct ImageSet {
    pub images: Vec<(String, ImageStats)>,
    pub left_out: Vec<(String, String)>,
}

/// The images of `path`: a pack (a folder with lightbox.toml: its cases' images, not its
/// masks) or a folder of images (searched recursively). At least 5 must decode.
pub fn image_set(path: &Path) -> Result<ImageSet, String> {
    if path.join(crate::pack::MANIFEST_FILE).is_file() {
        let pack = Pack::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut images = Vec::new();
        let mut left_out = Vec::new();
        let decoded: Vec<Result<ImageStats, String>> = pack
            .cases
            .par_iter()
            .map(|c| {
                image::decode(&c.image)
                    .map(|i| statistics::of_image(&i))
                    .map_err(|e| e.to_string())
            })
            .collect();
        for (c, r) in pack.cases.iter().zip(decoded) {
            match r {
                Ok(s) => images.push((c.id.0.clone(), s)),
                Err(e) => left_out.push((c.image.display().to_string(), e)),
            }
        }
        if images.len() < 5 {
            return Err(format!(
                "{}: {} of the pack's images decode; at least 5 are needed",
                path.display(),
                images.len()
            ));
        }
        Ok(ImageSet { images, left_out })
    } else if path.is_dir() {
        let (ok, bad) = folder_stats(path).map_err(|e| e.to_string())?;
        Ok(ImageSet {
            images: ok
                .into_iter()
                .map(|(p, s)| (p.strip_prefix(path).unwrap_or(&p).display().to_string(), s))
                .collect(),
            left_out: bad.into_iter().map(|(p, e)| (p.display().to_string(), e)).collect(),
        })
    } else if path.is_file() {
        Err(format!(
            "{}: a file; give a pack or a folder of images (a reference from `lightbox stats` is for `lightbox check --ood-reference`)",
            path.display()
        ))
    } else {
        Err(format!("{}: no such folder", path.display()))
    }
}

/// Why a reference's text is not a reference lightbox can use.
enum Unusable {
    Syntax(serde_json::Error),
    Problem(ReferenceProblem),
}

/// A reference from its JSON text: the version first (an older lightbox's statistics are
/// refused as such, not as a missing field), then the fields, then their figures.
fn parse_reference(text: &str) -> Result<Reference, Unusable> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(Unusable::Syntax)?;
    let version = value.get("version").and_then(|v| v.as_u64()).unwrap_or(1);
    if version != VERSION as u64 {
        return Err(Unusable::Problem(ReferenceProblem::Version(version)));
    }
    // from the text, not the value: a wrong field's error then names its line and column
    let r: Reference = serde_json::from_str(text).map_err(Unusable::Syntax)?;
    check_reference(&r).map_err(Unusable::Problem)?;
    Ok(r)
}

/// Read a reference written by `lightbox stats`.
pub fn read_reference(path: &Path) -> Result<Reference, OodError> {
    let text = std::fs::read_to_string(path).map_err(|source| OodError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let path = path.to_path_buf();
    parse_reference(&text).map_err(|e| match e {
        Unusable::Syntax(source) => OodError::Syntax { path, source },
        Unusable::Problem(source) => OodError::Invalid { path, source },
    })
}

/// A reference read from a file holds one finite median and one positive, finite spread per
/// statistic lightbox computes, under the names it computes them by, a whole finite template,
/// finite calibration scores and a positive bound: a short list made `check` index past its end,
/// a negative spread switched the check off, a zero one flagged everything.
pub fn check_reference(r: &Reference) -> Result<(), ReferenceProblem> {
    if r.version != VERSION {
        return Err(ReferenceProblem::Version(r.version as u64));
    }
    if r.median.len() != N || r.mad.len() != N || r.features.len() != N {
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
    if r.template.len() != GRID * GRID || r.template.iter().any(|t| !t.is_finite()) {
        return Err(ReferenceProblem::Template(r.template.len()));
    }
    if r.calibration.len() != N
        || r.calibration
            .iter()
            .any(|c| c.is_empty() || c.windows(2).any(|w| w[0] > w[1]))
        || r.calibration.iter().flatten().any(|t| !(t.is_finite() && *t >= 0.0))
    {
        return Err(ReferenceProblem::Calibration);
    }
    if r.images < 5 {
        return Err(ReferenceProblem::Images(r.images));
    }
    let spread = {
        let m = r.template.iter().sum::<f64>() / r.template.len().max(1) as f64;
        r.template.iter().map(|t| (t - m).abs()).fold(0.0, f64::max)
    };
    if spread == 0.0 {
        return Err(ReferenceProblem::FlatTemplate);
    }
    if let BoundOrigin::Calibrated { false_alarm_rate } = r.bound
        && !(false_alarm_rate.is_finite() && false_alarm_rate > 0.0 && false_alarm_rate < 0.5)
    {
        return Err(ReferenceProblem::Rate(false_alarm_rate));
    }
    if r.bounds.len() != N {
        return Err(ReferenceProblem::Bounds(r.bounds.len()));
    }
    if let Some(b) = r.bounds.iter().find(|b| !(b.is_finite() && **b > 0.0)) {
        return Err(ReferenceProblem::MaxZ(*b));
    }
    let a = &r.acquisition;
    if a.features.iter().map(String::as_str).ne(ACQUISITION)
        || a.median.len() != ACQUISITION.len()
        || a.mad.len() != ACQUISITION.len()
        || a.median.iter().any(|m| !m.is_finite())
        || a.mad.iter().any(|m| !(m.is_finite() && *m > 0.0))
        || !(a.max_z.is_finite() && a.max_z > 0.0)
    {
        return Err(ReferenceProblem::Acquisition);
    }
    Ok(())
}

/// Statistics of every case's image (decoded in parallel); `None` where it cannot be read.
pub fn pack_stats(pack: &Pack) -> Vec<Option<ImageStats>> {
    pack_stats_with(pack, &crate::job::Progress::default())
}

/// As [`pack_stats`], saying how far it has got in `progress`.
pub fn pack_stats_with(pack: &Pack, progress: &crate::job::Progress) -> Vec<Option<ImageStats>> {
    progress.stage("image statistics", pack.cases.len());
    pack.cases
        .par_iter()
        .map(|c| {
            progress.step();
            image::decode(&c.image).ok().map(|i| statistics::of_image(&i))
        })
        .collect()
}

/// Compare every case with `reference`.
pub fn find(stats: &[Option<ImageStats>], reference: &Reference) -> Vec<OodFinding> {
    let mut out = Vec::new();
    for (case, s) in stats.iter().enumerate() {
        let Some(s) = s else { continue };
        let z = reference.z(s);
        let v = reference.values(s);
        let b = &reference.bounds;
        let mut outliers: Vec<(String, f64, f64, f64)> = (0..N)
            .filter(|&k| z[k].abs() > b[k])
            .map(|k| (FEATURES[k].to_string(), v[k], z[k], b[k]))
            .collect();
        if outliers.is_empty() {
            continue;
        }
        outliers.sort_by(|a, b| (b.2.abs() / b.3).total_cmp(&(a.2.abs() / a.3)));
        let score = outliers[0].2.abs() / outliers[0].3;
        out.push(OodFinding { case, outliers, score });
    }
    out
}

/// A pack's reference: read from its lock file when present (its bound chosen again by
/// `bound`, from the kept calibration scores), else computed from the pack's statistics and
/// written there.
pub fn pack_reference(
    stats: &[Option<ImageStats>],
    bound: OodBound,
    lock: Option<&Path>,
    refresh: bool,
) -> Result<Reference, OodError> {
    if let Some(p) = lock
        && !refresh
        && let Ok(text) = std::fs::read_to_string(p)
    {
        let path = p.to_path_buf();
        let locked = parse_reference(&text).map_err(|e| match e {
            Unusable::Syntax(source) => OodError::LockSyntax { path, source },
            Unusable::Problem(source) => OodError::LockInvalid { path, source },
        })?;
        return Ok(locked.bounded(bound, "the rules' ood_max_z"));
    }
    let all: Vec<ImageStats> = stats.iter().flatten().cloned().collect();
    let reference = Reference::fit(&all, bound);
    if let Some(p) = lock {
        // a read-only pack still gets its flags; only the lock is not kept
        let text = serde_json::to_string_pretty(&reference)? + "\n";
        let _ = crate::fsutil::write_atomic(p, text.as_bytes());
    }
    Ok(reference)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats_with(content: [f64; CONTENT], grid: f32) -> ImageStats {
        ImageStats {
            content,
            grid: (0..GRID * GRID).map(|k| (k % 7) as f32 * grid).collect(),
            width: 512,
            height: 512,
        }
    }

    /// 200 in-distribution images: each statistic normal around a centre (a fixed seed).
    fn population(n: usize, seed: u64) -> Vec<ImageStats> {
        let mut x = seed;
        let mut normal = move || {
            // Box–Muller on a 64-bit LCG
            let mut u = || {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((x >> 11) as f64 + 0.5) / (1u64 << 53) as f64
            };
            let (a, b) = (u(), u());
            (-2.0 * a.ln()).sqrt() * (std::f64::consts::TAU * b).cos()
        };
        (0..n)
            .map(|_| {
                let c: [f64; CONTENT] = std::array::from_fn(|k| 0.5 + 0.05 * normal() + 0.001 * k as f64);
                let mut s = stats_with(c, 1.0);
                for g in s.grid.iter_mut() {
                    *g += 0.3 * normal() as f32;
                }
                s
            })
            .collect()
    }

    #[test]
    fn the_calibrated_bound_holds_its_false_alarm_rate_on_images_it_was_not_fitted_on() {
        let reference = Reference::fit(&population(200, 7), OodBound::FalseAlarmRate(0.01));
        let held_back = population(5000, 99);
        let alarms = held_back.iter().filter(|s| reference.score(s) > 1.0).count();
        let rate = alarms as f64 / held_back.len() as f64;
        // stated 1 in 100; the tails fitted on 200 images are allowed a factor of 3
        assert!(rate < 0.03, "{alarms} alarms in {} ({rate})", held_back.len());
        // the bounds' own fitted tails add up to the stated rate, or less where a bound is at
        // its floor
        assert!(
            reference.expected_rate() <= 0.01 + 1e-9 && reference.expected_rate() > 0.002,
            "{}",
            reference.expected_rate()
        );
        for b in &reference.bounds {
            assert!(*b >= MIN_BOUND && *b < 9.0, "{b}");
        }
        // and the bounds are not so loose that a real shift passes: 6 SD on one statistic
        let mut far = held_back[0].clone();
        far.content[0] += 0.05 * 8.0;
        assert!(reference.score(&far) > 1.0, "{}", reference.score(&far));
    }

    #[test]
    fn a_fixed_bound_is_kept_and_said_and_small_bounds_are_not_rounded_to_zero() {
        let r = Reference::fit(&population(20, 1), OodBound::MaxZ(0.5));
        assert_eq!(r.bounds, vec![0.5; N]);
        assert_eq!(r.bound_text(), "0.50 robust SD (the rules' ood_max_z)");
        let c = r.bounded(OodBound::FalseAlarmRate(0.005), "");
        assert!(c.bound_text().contains("1 false alarm in 200"), "{}", c.bound_text());
        assert_eq!(fmt_z(0.5), "0.50");
        assert_eq!(fmt_z(-4.04), "-4.0");
    }

    #[test]
    fn one_sided_statistics_do_not_flag_an_image_for_being_more_typical() {
        let pop = population(50, 3);
        let r = Reference::fit(&pop, OodBound::MaxZ(4.0));
        let mut s = pop[0].clone();
        s.content[8] = 5.0; // far more symmetric than any
        s.content[3] = -5.0; // far less empty
        let z = r.z(&s);
        assert_eq!(z[8], 0.0);
        assert_eq!(z[3], 0.0);
        s.content[8] = -5.0;
        assert!(r.z(&s)[8] < -10.0);
    }

    #[test]
    fn an_upside_down_layout_is_unlike_the_template() {
        let pop = population(50, 5);
        let r = Reference::fit(&pop, OodBound::default());
        let mut s = pop[1].clone();
        s.grid.reverse();
        let upright = r.values(&s)[N - 1];
        assert!(upright < 0.0, "{upright} vs {}", r.median[N - 1]);
        assert!(r.score(&s) > 1.0);
    }

    #[test]
    fn size_and_aspect_are_an_acquisition_finding_not_an_ood_one() {
        let pop = population(30, 11);
        let r = Reference::fit(&pop, OodBound::default());
        let mut big = pop[2].clone();
        (big.width, big.height) = (8192, 2048);
        let all = vec![Some(pop[3].clone()), Some(big)];
        assert!(find(&all, &r).is_empty());
        let acq = find_acquisition(&all, &r);
        assert_eq!(acq.len(), 1);
        assert_eq!(acq[0].case, 1);
        assert!(acq[0].sentence().contains("16.78 megapixels"), "{}", acq[0].sentence());
    }

    #[test]
    fn a_lock_of_the_old_statistics_is_refused_with_what_to_do() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("ood.lock.json");
        std::fs::write(
            &p,
            r#"{"features":["aspect ratio"],"median":[1],"mad":[1],"max_z":6,"images":40}"#,
        )
        .unwrap();
        let e = pack_reference(&[], OodBound::default(), Some(&p), false).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("ood.lock.json") && text.contains("--refresh-lock"),
            "{text}"
        );
        assert!(text.contains("version 1"), "{text}");
    }
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
