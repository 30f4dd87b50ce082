//! The pack manifest `lightbox.toml`: what a pack is made of. Every key is documented in
//! `docs/formats.md`; unknown keys are refused so that a misspelled key is an error, not a
//! silently ignored setting.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const MANIFEST_FILE: &str = "lightbox.toml";

/// Why a manifest's text is not a manifest: one line naming the line, the key and what to do.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ManifestError {
    /// Not TOML, or a key misspelled, missing or of the wrong type.
    #[error("{}{message}.{hint}", line.map(|l| format!("line {l}: ")).unwrap_or_default())]
    Toml {
        line: Option<usize>,
        message: String,
        hint: &'static str,
    },
    #[error(transparent)]
    Policy(#[from] PolicyError),
}

/// A `[review]` value that would weaken the policy without a word.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PolicyError {
    #[error("review.known_agreement = {0}: give the share of known answers to get right, from 0 to 1 (1: all)")]
    KnownAgreement(f64),
    #[error(
        "review.target_bound = {0}: give the share of unflagged cases that may be rejected, between 0 and 1 (e.g. 0.05; at most a million sampled cases)"
    )]
    TargetBound(f64),
    #[error("review.min_seconds = {0}: give the seconds below which a verdict is pointed out (0 or more)")]
    MinSeconds(f64),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Folder holding the images, relative to the pack.
    #[serde(default = "default_images")]
    pub images: PathBuf,
    /// Rules file (anatomical plausibility), relative to the pack.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<ClassSpec>,
    #[serde(default, skip_serializing_if = "Sources::is_empty")]
    pub ground_truth: Sources,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub runs: IndexMap<String, Sources>,
    /// How a release is reviewed and signed off (`lightbox review`).
    #[serde(default, skip_serializing_if = "ReviewPolicy::is_default")]
    pub review: ReviewPolicy,
    /// Absolute folders outside the pack that its symbolic links may point into (e.g. a
    /// read-only image archive). Without it, every file the pack reads must lie inside the
    /// pack's folder once symbolic links are resolved.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub read_outside: Vec<PathBuf>,
}

/// `[review]`: the sign-off policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewPolicy {
    /// The run a release review is of, and the one the dashboard opens on the first time
    /// (default: the newest run that is not the baseline, the last such listed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    /// Reject reasons, on the number keys in review order.
    #[serde(default = "default_reasons")]
    pub reasons: Vec<String>,
    /// Unflagged cases drawn at random into the plan.
    #[serde(default = "default_sample")]
    pub sample: usize,
    /// Size the random sample so that no rejection in it bounds the reject rate of unflagged
    /// cases by this (e.g. 0.05); overrides `sample`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_bound: Option<f64>,
    /// Seed of the random sample (recorded in the plan).
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Cases tagged hard: always in the plan.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hard: Vec<String>,
    /// Verdicts given faster than this (seconds) are pointed out in the record.
    #[serde(default = "default_min_seconds")]
    pub min_seconds: f64,
    /// A run to compare with: cases where the reviewed run does worse than it are required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<String>,
    /// Known-answer cases: case → the correct verdict (`accept` or `reject`). They are mixed
    /// into the plan and the record reports the reviewer's agreement with them.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub known: IndexMap<String, String>,
    /// Distinct reviewers who must sign "approved for release".
    #[serde(default = "default_signatures")]
    pub signatures: usize,
    /// Roles that must be among the approving signers (e.g. ["radiologist"]). The run's author
    /// never counts towards them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// Who may hold a role (`radiologist = ["Dr Ann Lee", "Dr Bo Chen"]`): when a role is listed
    /// here, only these names count for it, whatever `--role` a reviewer gave.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub role_holders: IndexMap<String, Vec<String>>,
    /// The share of known-answer cases an approving reviewer must have got right (0–1; default 1:
    /// all of them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known_agreement: Option<f64>,
    /// Every record must carry an SSH signature that verifies for its reviewer against the
    /// allowed-signers file given to `lightbox verify --allowed-signers`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub require_ssh: bool,
    /// Approvals signed with required cases unreviewed (an override reason) count towards the
    /// policy. Default: they do not.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_override: bool,
}

fn default_signatures() -> usize {
    1
}

fn default_reasons() -> Vec<String> {
    [
        "missed finding",
        "outside anatomy",
        "artefact",
        "ground truth wrong",
        "other",
    ]
    .into_iter()
    .map(String::from)
    .collect()
}

fn default_sample() -> usize {
    20
}

fn default_seed() -> u64 {
    1
}

fn default_min_seconds() -> f64 {
    2.0
}

impl Default for ReviewPolicy {
    fn default() -> Self {
        ReviewPolicy {
            run: None,
            reasons: default_reasons(),
            sample: default_sample(),
            target_bound: None,
            seed: default_seed(),
            hard: Vec::new(),
            min_seconds: default_min_seconds(),
            baseline: None,
            known: IndexMap::new(),
            signatures: default_signatures(),
            roles: Vec::new(),
            role_holders: IndexMap::new(),
            known_agreement: None,
            require_ssh: false,
            allow_override: false,
        }
    }
}

impl ReviewPolicy {
    pub fn is_default(&self) -> bool {
        *self == ReviewPolicy::default()
    }

    /// Values that would weaken the policy without a word (`nan`, out of range) are errors.
    pub fn validate(&self) -> Result<(), PolicyError> {
        if let Some(k) = self.known_agreement
            && !(k.is_finite() && (0.0..=1.0).contains(&k))
        {
            return Err(PolicyError::KnownAgreement(k));
        }
        if let Some(b) = self.target_bound
            && !(b.is_finite()
                && b > 0.0
                && b < 1.0
                && (1.0..=1_000_000.0).contains(&crate::review::plan::sample_for_bound_f64(b, 0.95)))
        {
            return Err(PolicyError::TargetBound(b));
        }
        if !(self.min_seconds.is_finite() && self.min_seconds >= 0.0) {
            return Err(PolicyError::MinSeconds(self.min_seconds));
        }
        Ok(())
    }

    /// The random sample the policy asks for: sized from `target_bound` when set, else `sample`.
    pub fn sample_size(&self) -> usize {
        match self.target_bound {
            Some(b) if b > 0.0 && b < 1.0 => crate::review::plan::sample_for_bound(b, 0.95),
            _ => self.sample,
        }
    }
}

fn default_images() -> PathBuf {
    PathBuf::from("images")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ClassKind {
    /// An anatomical region (lung, heart): usually a semantic mask.
    Region,
    /// A finding (opacity, nodule): usually boxes or instance masks.
    #[default]
    Finding,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassSpec {
    pub id: u32,
    pub name: String,
    #[serde(default)]
    pub kind: ClassKind,
    /// `#rrggbb`; the theme's colour-blind-safe palette is used when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    /// Pixel value of this class in PNG label masks; defaults to `id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mask_value: Option<u16>,
}

/// Where annotations come from: ground truth, or one run's predictions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Sources {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The model that produced a run (name, version or file), recorded in reviews.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Who made the run: their signature alone cannot approve it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// The ONNX model that made the run (its card beside it, `<model>.toml`): the dashboard's
    /// network's-eye view (`v`) shows the tensor it receives, and sign-offs hash it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_file: Option<PathBuf>,
    /// The score threshold that will ship with this run (recorded in sign-offs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// COCO instances JSON (ground truth) or COCO results JSON (runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coco: Option<PathBuf>,
    /// Folder of PNG label masks, one per image, named like the image (`<stem>.png`), or a
    /// pattern such as `images/{stem}-mask.png` for masks kept beside their images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub masks: Option<PathBuf>,
    /// Folder of per-pixel probability maps (`<stem>.<class>.png` 16-bit, or `.npy`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probabilities: Option<PathBuf>,
    /// Folder of YOLO text files, one per image (`<stem>.txt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub yolo: Option<PathBuf>,
    /// YOLO class list (index → class name); else `classes.txt` in the YOLO folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub yolo_classes: Option<Vec<String>>,
    /// Per-image class scores, JSON or CSV.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scores: Option<PathBuf>,
}

impl Sources {
    pub fn is_empty(&self) -> bool {
        self.coco.is_none()
            && self.masks.is_none()
            && self.probabilities.is_none()
            && self.yolo.is_none()
            && self.scores.is_none()
    }

    /// The files and folders this source reads, with the manifest key that names each.
    pub fn paths(&self) -> Vec<(&'static str, &Path)> {
        let mut v = Vec::new();
        for (k, p) in [
            ("coco", &self.coco),
            ("masks", &self.masks),
            ("probabilities", &self.probabilities),
            ("yolo", &self.yolo),
            ("scores", &self.scores),
        ] {
            if let Some(p) = p {
                v.push((k, p.as_path()));
            }
        }
        v
    }
}

impl Manifest {
    /// Parse a manifest's text; the error is one line naming the line, the key and what to do.
    pub fn parse(text: &str) -> Result<Manifest, ManifestError> {
        let m = Self::parse_toml(text)?;
        m.review.validate()?;
        Ok(m)
    }

    fn parse_toml(text: &str) -> Result<Manifest, ManifestError> {
        toml::from_str::<Manifest>(text).map_err(|e| {
            let line = e.span().map(|s| {
                text.as_bytes()[..s.start.min(text.len())]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count()
                    + 1
            });
            let message = e.message().trim().replace('\n', " ");
            let hint = if message.contains("unknown field") {
                " Check the spelling against docs/formats.md"
            } else if message.contains("missing field") {
                " Add the key; docs/formats.md has a complete example"
            } else {
                ""
            };
            ManifestError::Toml { line, message, hint }
        })
    }

    #[allow(clippy::expect_used)] // cannot fail: a manifest always serialises
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("a manifest always serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misspelled_key_is_refused_with_its_line() {
        let err = Manifest::parse("name = \"x\"\n\n[grund_truth]\ncoco = \"a.json\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("line 3:"), "{err}");
        assert!(err.contains("grund_truth"), "{err}");
        let err = Manifest::parse("name = \"x\"\n[ground_truth]\ncocoo = \"a.json\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("cocoo") && err.contains("line 3"), "{err}");
    }

    #[test]
    fn runs_keep_manifest_order() {
        let m =
            Manifest::parse("name = \"x\"\n[runs.zeta]\ncoco = \"z.json\"\n[runs.alpha]\ncoco = \"a.json\"\n").unwrap();
        assert_eq!(m.runs.keys().collect::<Vec<_>>(), ["zeta", "alpha"]);
        assert_eq!(Manifest::parse(&m.to_toml()).unwrap(), m);
    }

    #[test]
    fn a_weak_policy_value_names_the_key() {
        let e = Manifest::parse("name = \"x\"\n[review]\nmin_seconds = -1.0\n").unwrap_err();
        assert_eq!(e, ManifestError::Policy(PolicyError::MinSeconds(-1.0)));
        assert_eq!(
            e.to_string(),
            "review.min_seconds = -1: give the seconds below which a verdict is pointed out (0 or more)"
        );
    }
}
