//! Reference checks: a run's figures compared with saved reference values, the pre-release
//! metric test. A figure regresses when it is worse than the reference by more than the
//! tolerance (absolute; distances such as HD95 have their own tolerance in pixels); a figure the
//! reference has and the run lacks fails too.

use super::MetricsError;
use super::report::Figure;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The reference file (`--save-reference` writes it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reference {
    /// Always 1.
    pub lightbox_reference: u32,
    pub pack: String,
    pub run: String,
    /// Figure name → value (`null` where undefined).
    pub figures: BTreeMap<String, Option<f64>>,
}

impl Reference {
    pub fn from_figures(pack: &str, run: &str, figures: &[Figure]) -> Reference {
        Reference {
            lightbox_reference: 1,
            pack: pack.into(),
            run: run.into(),
            figures: figures.iter().map(|f| (f.name.clone(), f.value)).collect(),
        }
    }

    pub fn read(path: &Path) -> Result<Reference, MetricsError> {
        let bytes = std::fs::read(path).map_err(|source| MetricsError::ReadReference {
            path: path.to_path_buf(),
            source,
        })?;
        let r: Reference = crate::formats::json::parse(&bytes).map_err(|e| MetricsError::ReferenceSyntax {
            path: path.to_path_buf(),
            message: e.message,
            field: e.path,
        })?;
        if r.lightbox_reference != 1 {
            return Err(MetricsError::ReferenceVersion {
                path: path.to_path_buf(),
                version: r.lightbox_reference,
            });
        }
        Ok(r)
    }

    #[allow(clippy::expect_used)] // cannot fail: plain data (strings, numbers, maps) always serialises to JSON
    pub fn write(&self, path: &Path) -> Result<(), MetricsError> {
        let text = serde_json::to_string_pretty(self).expect("serialisable") + "\n";
        crate::fsutil::write_atomic(path, text.as_bytes()).map_err(|source| MetricsError::WriteReference {
            path: path.to_path_buf(),
            source,
        })
    }
}

/// The outcome for one figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Within tolerance.
    Ok,
    /// Better than the reference by more than the tolerance.
    Improved,
    /// Worse than the reference by more than the tolerance.
    Regressed,
    /// The reference has a value, the run does not.
    Missing,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub name: String,
    pub value: Option<f64>,
    pub reference: Option<f64>,
    pub delta: Option<f64>,
    pub verdict: Verdict,
}

/// Tolerances: absolute for ratios, in pixels for distances.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Tolerance {
    pub ratio: f64,
    pub distance: f64,
}

/// Compare every figure of the reference with the run's.
pub fn compare(reference: &Reference, figures: &[Figure], tol: Tolerance) -> Vec<Comparison> {
    reference
        .figures
        .iter()
        .map(|(name, &r)| {
            let f = figures.iter().find(|f| &f.name == name);
            let v = f.and_then(|f| f.value);
            let lower_better = f.map(|f| !f.higher_is_better).unwrap_or(name.contains("hd95"));
            let t = if name.contains("hd95") { tol.distance } else { tol.ratio };
            let (delta, verdict) = match (v, r) {
                (Some(v), Some(r)) => {
                    let d = v - r;
                    let worse = if lower_better { d } else { -d };
                    let verdict = if worse > t {
                        Verdict::Regressed
                    } else if -worse > t {
                        Verdict::Improved
                    } else {
                        Verdict::Ok
                    };
                    (Some(d), verdict)
                }
                (None, Some(_)) => (None, Verdict::Missing),
                (_, None) => (None, Verdict::Ok),
            };
            Comparison {
                name: name.clone(),
                value: v,
                reference: r,
                delta,
                verdict,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fig(name: &str, v: Option<f64>, hib: bool) -> Figure {
        Figure {
            name: name.into(),
            value: v,
            higher_is_better: hib,
        }
    }

    #[test]
    fn verdicts_respect_direction_and_tolerance() {
        let r = Reference::from_figures(
            "p",
            "r",
            &[
                fig("bbox/AP", Some(0.5), true),
                fig("segmentation/lung/hd95", Some(4.0), false),
                fig("classification/x/roc_auc", Some(0.9), true),
                fig("gone", Some(0.1), true),
            ],
        );
        let now = [
            fig("bbox/AP", Some(0.496), true),
            fig("segmentation/lung/hd95", Some(6.5), false),
            fig("classification/x/roc_auc", Some(0.95), true),
        ];
        let c = compare(
            &r,
            &now,
            Tolerance {
                ratio: 0.005,
                distance: 1.0,
            },
        );
        let v: BTreeMap<&str, Verdict> = c.iter().map(|c| (c.name.as_str(), c.verdict)).collect();
        assert_eq!(v["bbox/AP"], Verdict::Ok);
        assert_eq!(v["segmentation/lung/hd95"], Verdict::Regressed);
        assert_eq!(v["classification/x/roc_auc"], Verdict::Improved);
        assert_eq!(v["gone"], Verdict::Missing);
        let c = compare(
            &r,
            &now,
            Tolerance {
                ratio: 0.001,
                distance: 5.0,
            },
        );
        let v: BTreeMap<&str, Verdict> = c.iter().map(|c| (c.name.as_str(), c.verdict)).collect();
        assert_eq!(v["bbox/AP"], Verdict::Regressed);
        assert_eq!(v["segmentation/lung/hd95"], Verdict::Ok);
    }
}
