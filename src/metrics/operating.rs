//! The operating point: per-case detection figures and the confusion matrix of one run at one
//! score threshold, counted from a run's metrics (the matching is reused, only counting happens
//! here). The dashboard recomputes it in the background when the run or threshold changes.

/// Per-case detection figures and the confusion matrix at one run and score threshold.
#[derive(Debug, Clone)]
pub struct OperatingAt {
    pub run: usize,
    pub threshold: f64,
    /// Indexed by case.
    pub cases: Vec<super::detection::CaseDetections>,
    pub confusion: Option<super::detection::Confusion>,
    /// Sensitivity and specificity (with the report's AUC and AP) at this threshold, for the
    /// classes with image-level scores.
    pub classification: Vec<super::classification::ClassFigures>,
}

impl OperatingAt {
    /// Compute from a run's metrics (matching is reused; only counting happens here).
    pub fn compute(pack: &crate::pack::Pack, report: &super::Report, run: usize, threshold: f64) -> OperatingAt {
        use super::detection;
        let (mut cases, mut confusion) = (Vec::new(), None);
        if let (Some(section), Some(d)) = (report.coco.first(), &report.detection) {
            let eval = &section.eval;
            if let Some(t) = eval.iou_index(d.iou) {
                let mut per = vec![None; pack.cases.len()];
                for c in detection::per_case(pack, eval, t, threshold) {
                    let i = c.case;
                    per[i] = Some(c);
                }
                cases = per
                    .into_iter()
                    .enumerate()
                    .map(|(i, c)| {
                        c.unwrap_or(detection::CaseDetections {
                            case: i,
                            tp: 0,
                            fp: 0,
                            fn_: 0,
                            pairs: Vec::new(),
                            worst_fp: None,
                            worst_fn: None,
                        })
                    })
                    .collect();
            }
            confusion = Some(detection::confusion(pack, run, section.iou_type, d.iou, threshold));
        }
        let classification = if report.classification.is_empty() {
            Vec::new()
        } else if report.classification.iter().all(|c| c.threshold == threshold) {
            report.classification.clone()
        } else {
            super::classification::evaluate_pack(pack, run, threshold, super::classification::Bootstrap::default())
        };
        OperatingAt {
            run,
            threshold,
            cases,
            confusion,
            classification,
        }
    }
}
