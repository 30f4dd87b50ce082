//! Checking a pack: anatomy rules on the ground truth and every run, and out-of-distribution
//! inputs, as one list of flags. `lightbox check` prints it; the dashboard shows it on cases.

use crate::ood;
use crate::pack::{MANIFEST_FILE, Pack, Source};
use crate::rules::{Flag, RuleSet, Severity};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The id of out-of-distribution flags.
pub const OOD_RULE: &str = "input-out-of-distribution";

/// The id of flags on how an image was acquired (size, aspect, pixel format) rather than what
/// it shows: unusual, worth a look, never a major alarm by default.
pub const ACQUISITION_RULE: &str = "input-unusual-acquisition";

/// The lock file beside a pack that keeps its out-of-distribution reference.
pub const OOD_LOCK: &str = "ood.lock.json";

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub rules_file: Option<PathBuf>,
    pub sources: Vec<String>,
    pub flags: Vec<Flag>,
    pub ood_reference: Option<ood::Reference>,
}

impl Report {
    /// The report as JSON, with cases and sources by name.
    pub fn to_json(&self, pack: &Pack) -> serde_json::Value {
        let flags: Vec<serde_json::Value> = self
            .flags
            .iter()
            .map(|f| {
                serde_json::json!({
                    "rule": f.rule,
                    "severity": f.severity,
                    "case": pack.cases[f.case].id.0,
                    "source": f.source.map(|s| pack.source_name(s)).unwrap_or_else(|| "input".into()),
                    "instance": f.instance.map(|i| i + 1),
                    "value": f.value,
                    "bound": f.bound,
                    "message": f.message,
                    "highlight_px": f.highlight.as_ref().map(|r| r.area()),
                    "slice": f.slice.map(|k| k + 1),
                })
            })
            .collect();
        serde_json::json!({
            "rules_file": self.rules_file,
            "sources": self.sources,
            "flags": flags,
            "critical": self.critical().count(),
            "ood_reference": self.ood_reference,
        })
    }

    pub fn critical(&self) -> impl Iterator<Item = &Flag> {
        self.flags.iter().filter(|f| f.severity == Severity::Critical)
    }
}

/// Why a pack could not be checked.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The manifest's `rules` path leaves the pack or is absolute (`reason` says which).
    #[error("{}: rules: {reason}", MANIFEST_FILE)]
    RulesOutside { rules: PathBuf, reason: String },
    #[error(transparent)]
    Rules(#[from] crate::rules::spec::RuleError),
    #[error(transparent)]
    Ood(#[from] ood::OodError),
}

/// The rules file a pack names (or `override_path`), loaded and checked against the pack.
pub fn load_rules(pack: &Pack, override_path: Option<&Path>) -> Result<Option<RuleSet>, CheckError> {
    let path = match (override_path, &pack.manifest.rules) {
        (Some(p), _) => p.to_path_buf(),
        (None, Some(p)) => match &pack.root {
            Some(root) => crate::pack::paths::join_inside(root, p).map_err(|reason| CheckError::RulesOutside {
                rules: p.clone(),
                reason,
            })?,
            None => p.clone(),
        },
        (None, None) => return Ok(None),
    };
    Ok(Some(RuleSet::load(&path, pack)?))
}

/// Flag images whose pixel format (depth and channels) fewer than 5% of the pack share.
/// The rule id of `[expect]` mismatches.
pub const EXPECT_RULE: &str = "input-unexpected-acquisition";

/// DICOM inputs whose Modality, BodyPartExamined, ViewPosition or PhotometricInterpretation is
/// not one the pack expects (headers only; images in other formats carry no such tags).
fn unexpected_acquisitions(pack: &Pack, expect: &crate::rules::spec::Expect) -> Vec<Flag> {
    use rayon::prelude::*;
    let severity = expect.severity.unwrap_or(Severity::Major);
    pack.cases
        .par_iter()
        .enumerate()
        .filter_map(|(case, c)| {
            let file = crate::formats::image::dicom_header_file(&c.image)?;
            let scan = crate::formats::dicom::read_scan(&file).ok()?;
            let checks: [(&str, &Vec<String>, Option<&str>); 4] = [
                ("Modality", &expect.modality, scan.modality.as_deref()),
                ("BodyPartExamined", &expect.body_part, scan.body_part.as_deref()),
                ("ViewPosition", &expect.view_position, scan.view_position.as_deref()),
                (
                    "PhotometricInterpretation",
                    &expect.photometric,
                    Some(scan.photometric.as_str()),
                ),
            ];
            let wrong: Vec<String> = checks
                .iter()
                .filter(|(_, want, _)| !want.is_empty())
                .filter_map(|(tag, want, got)| {
                    let ok = got.is_some_and(|g| want.iter().any(|w| w.eq_ignore_ascii_case(g)));
                    (!ok).then(|| match got {
                        Some(g) => format!("{tag} is {g}, the pack expects {}", want.join(" or ")),
                        None => format!("{tag} is not stated, the pack expects {}", want.join(" or ")),
                    })
                })
                .collect();
            (!wrong.is_empty()).then(|| Flag {
                rule: EXPECT_RULE.into(),
                severity,
                case,
                source: None,
                instance: None,
                value: wrong.len() as f64,
                bound: "tags as [expect] declares".into(),
                message: format!("the image was not acquired as expected: {}", wrong.join("; ")),
                highlight: None,
                slice: None,
            })
        })
        .collect()
}

fn rare_formats(pack: &Pack, severity: Severity) -> Vec<Flag> {
    use rayon::prelude::*;
    let formats: Vec<Option<String>> = pack
        .cases
        .par_iter()
        .map(|c| {
            crate::formats::image::read_header(&c.image)
                .ok()
                .map(|h| h.format.to_string())
        })
        .collect();
    let mut counts: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for f in formats.iter().flatten() {
        *counts.entry(f.as_str()).or_default() += 1;
    }
    let total: usize = counts.values().sum();
    let Some((common, n_common)) = counts.iter().max_by_key(|(_, n)| **n).map(|(k, n)| (*k, *n)) else {
        return vec![];
    };
    formats
        .iter()
        .enumerate()
        .filter_map(|(case, f)| {
            let f = f.as_ref()?;
            let share = counts[f.as_str()] as f64 / total as f64;
            (share < 0.05).then(|| Flag {
                rule: ACQUISITION_RULE.into(),
                severity,
                case,
                source: None,
                instance: None,
                value: share,
                bound: "≥ 5% of the pack".into(),
                message: format!(
                    "the image is {f}, a format {:.0}% of the pack shares; {:.0}% is {common}",
                    share * 100.0,
                    n_common as f64 * 100.0 / total as f64
                ),
                highlight: None,
                slice: None,
            })
        })
        .collect()
}

/// Run the rules (for `sources`) and the out-of-distribution check.
pub fn check(pack: &Pack, rules: &RuleSet, sources: &[Source], refresh_lock: bool) -> Result<Report, CheckError> {
    check_with(
        pack,
        rules,
        sources,
        refresh_lock,
        None,
        &crate::job::Progress::default(),
    )
}

/// As [`check`], comparing inputs with `reference` (e.g. from training data, `lightbox stats`)
/// instead of the pack itself.
pub fn check_with(
    pack: &Pack,
    rules: &RuleSet,
    sources: &[Source],
    refresh_lock: bool,
    reference: Option<&ood::Reference>,
    progress: &crate::job::Progress,
) -> Result<Report, CheckError> {
    let mut flags = crate::rules::eval::evaluate_with(pack, rules, sources, progress);
    let mut ood_reference = None;
    if let Some(settings) = rules.ood
        && (pack.cases.len() >= 5 || reference.is_some())
    {
        let stats = ood::pack_stats_with(pack, progress);
        let reference = match reference {
            // a bound fixed when the reference was made (`lightbox stats --max-z`) is kept; a
            // calibrated one is re-chosen only where the rules file says how
            Some(r) if matches!(r.bound, ood::BoundOrigin::Fixed { .. }) => r.clone(),
            Some(r) => match settings.bound {
                Some(b) => r.clone().bounded(b, "the rules' ood_max_z"),
                None => r.clone(),
            },
            None => {
                let lock = pack.root.as_ref().map(|r| r.join(OOD_LOCK));
                ood::pack_reference(
                    &stats,
                    settings.bound.unwrap_or_default(),
                    lock.as_deref(),
                    refresh_lock,
                )?
            }
        };
        for f in ood::find(&stats, &reference) {
            flags.push(Flag {
                rule: OOD_RULE.into(),
                severity: settings.severity,
                case: f.case,
                source: None,
                instance: None,
                value: f.outliers[0].2.abs(),
                bound: format!("|z| ≤ {} ({})", ood::fmt_z(f.outliers[0].3), f.outliers[0].0),
                message: format!("the image is {}", f.sentence(&reference)),
                highlight: None,
                slice: None,
            });
        }
        for f in ood::find_acquisition(&stats, &reference) {
            flags.push(Flag {
                rule: ACQUISITION_RULE.into(),
                severity: settings.acquisition_severity,
                case: f.case,
                source: None,
                instance: None,
                value: f.outliers.iter().fold(0.0, |a: f64, o| a.max(o.3.abs())),
                bound: format!("|z| ≤ {}", ood::fmt_z(reference.acquisition.max_z)),
                message: f.sentence(),
                highlight: None,
                slice: None,
            });
        }
        ood_reference = Some(reference);
        // pixel formats: a colour image in a grayscale stream, an 8-bit image among 16-bit ones
        flags.extend(rare_formats(pack, settings.acquisition_severity));
    }
    if let Some(expect) = &rules.expect {
        flags.extend(unexpected_acquisitions(pack, expect));
    }
    flags.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.case.cmp(&b.case))
            .then(a.rule.cmp(&b.rule))
    });
    Ok(Report {
        rules_file: (!rules.path.as_os_str().is_empty()).then(|| rules.path.clone()),
        sources: sources.iter().map(|s| pack.source_name(*s)).collect(),
        flags,
        ood_reference,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rules_path_outside_the_pack_names_the_manifest_and_field() {
        let e = CheckError::RulesOutside {
            rules: PathBuf::from("../rules.toml"),
            reason: "../rules.toml leaves the pack (`..` climbs above it)".into(),
        };
        assert_eq!(
            e.to_string(),
            "lightbox.toml: rules: ../rules.toml leaves the pack (`..` climbs above it)"
        );
    }
}
