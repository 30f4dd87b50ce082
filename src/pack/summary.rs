//! A pack in figures: what `lightbox info` prints (as a table or JSON) and the dashboard's
//! pack overview shows. Built from a loaded pack and its validation.

use super::validate::Validation;
use super::{ClassKind, Pack, Problem};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub name: String,
    pub version: Option<String>,
    pub description: Option<String>,
    pub pack: Option<String>,
    pub images: String,
    pub cases: usize,
    /// `"512×512"` → number of cases.
    pub sizes: BTreeMap<String, usize>,
    /// `"gray 16-bit"` → number of cases.
    pub pixel_formats: BTreeMap<String, usize>,
    pub unreadable_images: usize,
    pub classes: Vec<ClassSummary>,
    pub ground_truth: SetSummary,
    pub runs: Vec<RunSummary>,
    pub errors: usize,
    pub warnings: usize,
    pub problems: Vec<Problem>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClassSummary {
    pub id: u32,
    pub name: String,
    pub kind: ClassKind,
    pub mask_value: u16,
    /// Ground-truth instances (boxes / instance masks) of this class.
    pub gt_instances: usize,
    /// Cases whose ground-truth label mask holds this class.
    pub gt_mask_cases: usize,
    /// Cases with a ground-truth score (label) for this class.
    pub gt_labels: usize,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct SetSummary {
    pub instances: usize,
    pub instance_masks: usize,
    pub label_masks: usize,
    pub probability_maps: usize,
    pub scored_cases: usize,
    pub cases_with_annotations: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub name: String,
    pub model: Option<String>,
    #[serde(flatten)]
    pub set: SetSummary,
    /// Predictions per class name.
    pub per_class: BTreeMap<String, usize>,
}

fn set_summary(anns: &[super::CaseAnnotations]) -> SetSummary {
    let mut s = SetSummary::default();
    for a in anns {
        s.instances += a.instances.len();
        s.instance_masks += a.instances.iter().filter(|i| i.segmentation.is_some()).count();
        s.label_masks += a.label_mask.is_some() as usize;
        s.probability_maps += a.probabilities.len();
        s.scored_cases += (!a.scores.is_empty()) as usize;
        s.cases_with_annotations += (!a.is_empty()) as usize;
    }
    s
}

impl Summary {
    pub fn new(pack: &Pack, v: &Validation) -> Summary {
        let mut sizes = BTreeMap::new();
        let mut formats = BTreeMap::new();
        let mut unreadable = 0;
        for h in &v.headers {
            match h {
                Some(h) => {
                    *sizes.entry(format!("{}×{}", h.width, h.height)).or_insert(0) += 1;
                    *formats.entry(h.format.to_string()).or_insert(0) += 1;
                }
                None => unreadable += 1,
            }
        }
        let classes = pack
            .classes
            .iter()
            .map(|c| ClassSummary {
                id: c.id.0,
                name: c.name.clone(),
                kind: c.kind,
                mask_value: c.mask_value,
                gt_instances: pack
                    .ground_truth
                    .iter()
                    .map(|a| a.instances.iter().filter(|i| i.class == c.id).count())
                    .sum(),
                gt_mask_cases: v.mask_cases.get(&(None, c.id)).copied().unwrap_or(0),
                gt_labels: pack
                    .ground_truth
                    .iter()
                    .filter(|a| a.scores.iter().any(|(k, _)| *k == c.id))
                    .count(),
            })
            .collect();
        let runs = pack
            .runs
            .iter()
            .map(|r| {
                let mut per_class = BTreeMap::new();
                for a in &r.annotations {
                    for i in &a.instances {
                        let name = pack
                            .class(i.class)
                            .map(|c| c.name.clone())
                            .unwrap_or_else(|| i.class.0.to_string());
                        *per_class.entry(name).or_insert(0) += 1;
                    }
                }
                RunSummary {
                    name: r.name.0.clone(),
                    model: r.sources.model.clone(),
                    set: set_summary(&r.annotations),
                    per_class,
                }
            })
            .collect();
        let mut problems: Vec<Problem> = pack.problems.iter().chain(&v.problems).cloned().collect();
        problems.sort_by_key(|p| std::cmp::Reverse(p.severity));
        Summary {
            name: pack.manifest.name.clone(),
            version: pack.manifest.version.clone(),
            description: pack.manifest.description.clone(),
            pack: pack.root.as_ref().map(|r| r.display().to_string()),
            images: pack.image_root.display().to_string(),
            cases: pack.cases.len(),
            sizes,
            pixel_formats: formats,
            unreadable_images: unreadable,
            classes,
            ground_truth: set_summary(&pack.ground_truth),
            runs,
            errors: problems.iter().filter(|p| p.is_error()).count(),
            warnings: problems.iter().filter(|p| !p.is_error()).count(),
            problems,
        }
    }
}
