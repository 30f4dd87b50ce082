//! Everything `lightbox metrics` computes for one run, and the flat list of named figures that
//! reference checks compare.

use super::MetricsError;
use super::classification::{self, Bootstrap, ClassFigures};
use super::coco_eval::{self, CocoEval, IouType, Params, STAT_NAMES};
use super::detection::{self, CaseDetections, Confusion, OperatingCurves, Prf};
use super::segmentation::{self, SegmentationEval};
use super::suspicious;
use crate::pack::{Pack, Segmentation, Source};
use serde::Serialize;

/// What to compute.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Operating score threshold: detections and class scores at or above it are positive calls.
    pub threshold: f64,
    /// IoU at which detections count as true positives for precision/recall/F1, the confusion
    /// matrix and per-case figures.
    pub iou: f64,
    /// IoU thresholds of the COCO evaluation (default 0.50:0.05:0.95).
    pub iou_thrs: Option<Vec<f64>>,
    /// maxDets of the COCO evaluation (default 1, 10, 100).
    pub max_dets: Option<Vec<usize>>,
    /// Compute HD95 (needs a distance transform per class and case).
    pub boundary: bool,
    pub bootstrap: Bootstrap,
    /// Where a background job reads how far the computation has got (not part of what is
    /// computed: two options that differ only here are equal).
    pub progress: ProgressRef,
}

/// A [`crate::job::Progress`] to report to, or none.
#[derive(Debug, Clone, Default)]
pub struct ProgressRef(pub Option<std::sync::Arc<crate::job::Progress>>);

impl PartialEq for ProgressRef {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl ProgressRef {
    /// Begin a stage (nothing when there is no one to tell).
    pub fn stage(&self, name: impl Into<String>, total: usize) {
        if let Some(p) = &self.0 {
            p.stage(name, total);
        }
    }

    /// One item done; also where background work steps aside for the dashboard's frame.
    pub fn step(&self) {
        match &self.0 {
            Some(p) => p.step(),
            None => crate::job::priority::yield_to_foreground(),
        }
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            threshold: 0.5,
            iou: 0.5,
            iou_thrs: None,
            max_dets: None,
            boundary: true,
            bootstrap: Bootstrap::default(),
            progress: ProgressRef::default(),
        }
    }
}

/// One COCO evaluation with its per-class figures.
#[derive(Debug, Clone, Serialize)]
pub struct CocoSection {
    pub iou_type: IouType,
    pub iou_thrs: Vec<f64>,
    pub max_dets: Vec<usize>,
    /// The 12 figures by name (AP, AP50, ...); -1 where undefined, as pycocotools prints.
    pub stats: Vec<(String, f64)>,
    pub classes: Vec<CocoClass>,
    #[serde(skip)]
    pub eval: CocoEval,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CocoClass {
    pub name: String,
    pub ap: Option<f64>,
    pub ap50: Option<f64>,
    pub ar100: Option<f64>,
}

/// Precision, recall and F1 at the operating point.
#[derive(Debug, Clone, Serialize)]
pub struct Operating {
    pub threshold: f64,
    pub iou: f64,
    pub classes: Vec<(String, Prf)>,
    pub overall: Prf,
    #[serde(skip)]
    pub curves: OperatingCurves,
    #[serde(skip)]
    pub classes_names: Vec<String>,
}

impl Operating {
    pub fn recompute(&mut self, threshold: f64) {
        self.threshold = threshold;
        self.classes = (0..self.curves.classes.len())
            .filter(|&k| self.curves.is_used(k))
            .map(|k| (self.classes_names[k].clone(), self.curves.at(k, threshold)))
            .collect();
        self.overall = self.curves.overall(threshold);
    }
}

/// A case's figures, for sorting by error.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseFigures {
    pub case: String,
    #[serde(skip)]
    pub index: usize,
    pub tp: Option<u32>,
    pub fp: Option<u32>,
    #[serde(rename = "fn")]
    pub fn_: Option<u32>,
    /// Mean Dice over the classes defined on the case.
    pub dice: Option<f64>,
    /// The worst error on the case, in words.
    pub worst: Option<String>,
    /// A single number to sort by: false positives + misses + Σ(1 − Dice).
    pub error: f64,
    /// The segmentation part of `error`: Σ(1 − Dice) over the classes defined on the case.
    pub seg_error: f64,
    /// Matched pairs `[detection, ground truth]` (0-based indices into the case's run and
    /// ground-truth instances) at the operating IoU and score threshold.
    pub matches: Vec<(u32, u32)>,
}

/// Everything for one run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub pack: String,
    pub run: String,
    pub coco: Vec<CocoSection>,
    pub detection: Option<Operating>,
    pub confusion: Option<Confusion>,
    pub segmentation: Option<SegmentationEval>,
    pub classification: Vec<ClassFigures>,
    pub cases: Vec<CaseFigures>,
    pub warnings: Vec<String>,
}

/// A named figure for reference checks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figure {
    pub name: String,
    pub value: Option<f64>,
    pub higher_is_better: bool,
}

fn instances_present(pack: &Pack, s: Source, segm: bool) -> bool {
    (0..pack.cases.len()).any(|c| {
        pack.annotations(s, c)
            .is_some_and(|a| a.instances.iter().any(|i| !segm || i.segmentation.is_some()))
    })
}

/// Compute every metric that the pack's ground truth and the run support.
pub fn compute(pack: &Pack, run: usize, o: &Options) -> Result<Report, MetricsError> {
    let run_name = pack.source_name(Source::Run(run));
    let mut coco = Vec::new();
    let mut warnings = Vec::new();
    let gt_inst = instances_present(pack, Source::GroundTruth, false);
    let dt_inst = instances_present(pack, Source::Run(run), false);
    let mut types = Vec::new();
    if gt_inst && dt_inst {
        types.push(IouType::Bbox);
        if instances_present(pack, Source::GroundTruth, true) && instances_present(pack, Source::Run(run), true) {
            types.push(IouType::Segm);
        }
    } else if gt_inst && !dt_inst {
        warnings.push(format!(
            "{run_name}: the ground truth has boxes or instances but the run has no detections on any case"
        ));
    }
    if !types.is_empty()
        && let Some(c) =
            (0..pack.cases.len()).find(|&c| pack.ground_truth[c].instances.iter().any(|i| i.id == 0 && !i.iscrowd))
    {
        warnings.push(format!(
            "the ground truth has an annotation with id 0 (on {}): COCO evaluation, exactly like pycocotools, counts a detection matched to it as a false positive. Number annotation ids from 1",
            pack.cases[c].id
        ));
    }
    for t in types {
        let mut p = Params::new(t);
        if let Some(v) = &o.iou_thrs {
            p.iou_thrs = v.clone();
        }
        if let Some(v) = &o.max_dets {
            let mut v = v.clone();
            v.sort();
            p.max_dets = v;
        }
        let eval = coco_eval::evaluate_pack(pack, run, &p)?;
        let t50 = eval.iou_index(0.5);
        let classes = eval
            .categories
            .iter()
            .enumerate()
            .filter(|(k, _)| {
                eval.class_ap(*k).is_some()
                    || eval
                        .images
                        .iter()
                        .any(|im| im.categories.iter().any(|c| c.category as usize == *k))
            })
            .map(|(k, c)| CocoClass {
                name: pack.class_name(*c),
                ap: eval.class_ap(k),
                ap50: t50.and_then(|t| eval.class_ap_at(k, Some(t))),
                ar100: eval.class_ar(k),
            })
            .collect();
        coco.push(CocoSection {
            iou_type: t,
            iou_thrs: p.iou_thrs.clone(),
            max_dets: p.max_dets.clone(),
            stats: STAT_NAMES
                .iter()
                .map(|s| s.to_string())
                .zip(eval.stats.iter().copied())
                .collect(),
            classes,
            eval,
        });
    }

    // the operating point: matching at the operating IoU, from a bbox evaluation with that
    // threshold added if the main one lacks it
    let mut detection = None;
    let mut per_case_det: Vec<CaseDetections> = Vec::new();
    if let Some(main) = coco.first() {
        let op_eval;
        let (eval, t) = match main.eval.iou_index(o.iou) {
            Some(t) => (&main.eval, t),
            None => {
                let mut p = Params::new(main.iou_type);
                p.iou_thrs = vec![o.iou];
                op_eval = coco_eval::evaluate_pack(pack, run, &p)?;
                (&op_eval, 0)
            }
        };
        let curves = OperatingCurves::new(eval, t);
        let names = eval.categories.iter().map(|c| pack.class_name(*c)).collect();
        let mut op = Operating {
            threshold: o.threshold,
            iou: o.iou,
            classes: Vec::new(),
            overall: Prf::new(0, 0, 0),
            curves,
            classes_names: names,
        };
        op.recompute(o.threshold);
        detection = Some(op);
        per_case_det = detection::per_case(pack, eval, t, o.threshold);
    }
    let confusion = coco
        .first()
        .map(|m| detection::confusion(pack, run, m.iou_type, o.iou, o.threshold));

    o.progress.stage(format!("metrics {run_name}: masks"), pack.cases.len());
    let segmentation = segmentation::evaluate_pack(pack, run, o.boundary, &o.progress);
    if let Some(s) = &segmentation {
        if !s.cases.is_empty() && s.cases.iter().all(|c| c.classes.iter().all(|k| k.pred == 0)) {
            warnings.push(format!("{run_name}: every predicted label mask is empty"));
        }
        if !s.missing.is_empty() {
            warnings.push(format!(
                "{run_name}: {} case(s) with a ground-truth mask have no usable predicted mask (missing, unreadable or of another size); `lightbox info` names them",
                s.missing.len()
            ));
        }
    }
    let classification = classification::evaluate_pack(pack, run, o.threshold, o.bootstrap);

    // suspicious outputs
    let r = &pack.runs[run];
    let det_scores: Vec<f64> = r
        .annotations
        .iter()
        .flat_map(|a| a.instances.iter().filter_map(|i| i.score))
        .collect();
    warnings.extend(suspicious::score_warnings(
        &format!("{run_name} detection scores"),
        &det_scores,
    ));
    let mut score_classes: Vec<_> = r
        .annotations
        .iter()
        .flat_map(|a| a.scores.iter().map(|s| s.0))
        .collect();
    score_classes.sort();
    score_classes.dedup();
    for k in score_classes {
        let v: Vec<f64> = r
            .annotations
            .iter()
            .flat_map(|a| a.scores.iter().filter(|s| s.0 == k).map(|s| s.1))
            .collect();
        warnings.extend(suspicious::score_warnings(
            &format!("{run_name} {} scores", pack.class_name(k)),
            &v,
        ));
    }
    let masks: Vec<&Segmentation> = r
        .annotations
        .iter()
        .flat_map(|a| a.instances.iter().filter_map(|i| i.segmentation.as_ref()))
        .collect();
    if masks.len() > 1 && masks.iter().all(|m| matches!(m, Segmentation::Rle(r) if r.area() == 0)) {
        warnings.push(format!("{run_name}: every instance mask is empty"));
    }

    let cases = case_figures(pack, run, &per_case_det, segmentation.as_ref(), !coco.is_empty());
    Ok(Report {
        pack: pack.manifest.name.clone(),
        run: run_name,
        coco,
        detection,
        confusion,
        segmentation,
        classification,
        cases,
        warnings,
    })
}

fn case_figures(
    pack: &Pack,
    run: usize,
    det: &[CaseDetections],
    seg: Option<&SegmentationEval>,
    has_det: bool,
) -> Vec<CaseFigures> {
    let mut out: Vec<CaseFigures> = pack
        .cases
        .iter()
        .enumerate()
        .map(|(i, c)| CaseFigures {
            case: c.id.0.clone(),
            index: i,
            tp: has_det.then_some(0),
            fp: has_det.then_some(0),
            fn_: has_det.then_some(0),
            dice: None,
            worst: None,
            error: 0.0,
            seg_error: 0.0,
            matches: Vec::new(),
        })
        .collect();
    let mut worst: Vec<Vec<(f64, String)>> = vec![Vec::new(); out.len()];
    for d in det {
        let c = &mut out[d.case];
        (c.tp, c.fp, c.fn_) = (Some(d.tp), Some(d.fp), Some(d.fn_));
        c.matches = d.pairs.clone();
        c.error += (d.fp + d.fn_) as f64;
        if let Some((g, area)) = d.worst_fn {
            let inst = &pack.ground_truth[d.case].instances[g as usize];
            worst[d.case].push((
                1.0 + area.sqrt() / 100.0,
                format!(
                    "missed {} #{} ({} px²)",
                    pack.class_name(inst.class),
                    g + 1,
                    area.round()
                ),
            ));
        }
        if let Some((k, s)) = d.worst_fp {
            let class = pack
                .annotations(Source::Run(run), d.case)
                .and_then(|a| a.instances.get(k as usize))
                .map(|i| pack.class_name(i.class))
                .unwrap_or_default();
            worst[d.case].push((s, format!("false {class} #{} (score {s:.2})", k + 1)));
        }
    }
    if let Some(seg) = seg {
        for co in &seg.cases {
            let c = &mut out[co.case];
            c.dice = co.mean_dice();
            c.seg_error = co.classes.iter().filter_map(|k| k.dice()).map(|d| 1.0 - d).sum::<f64>();
            c.error += c.seg_error;
            if let Some((k, d)) = co.worst()
                && d < 0.9
            {
                worst[co.case].push((1.0 - d, format!("{} Dice {d:.2}", pack.class_name(k))));
            }
        }
    }
    for (c, w) in out.iter_mut().zip(worst) {
        c.worst = w.into_iter().max_by(|a, b| a.0.total_cmp(&b.0)).map(|x| x.1);
    }
    out
}

impl Report {
    /// Every figure by name, for reference files.
    pub fn figures(&self) -> Vec<Figure> {
        let detection = self.detection.as_ref().map(|d| d.classes.as_slice()).unwrap_or(&[]);
        self.figures_with(detection, &self.classification)
    }

    /// Every figure by name as at score threshold `threshold`: precision, recall and F1
    /// recounted from the operating curves (no new matching), sensitivity and specificity from
    /// `classification` (computed at that threshold, e.g. by an operating point; the report's
    /// own when `None`). The other figures do not depend on the threshold.
    pub fn figures_at(&self, threshold: f64, classification: Option<&[ClassFigures]>) -> Vec<Figure> {
        let detection: Vec<(String, Prf)> = self
            .detection
            .as_ref()
            .map(|d| {
                let c = &d.curves;
                (0..c.classes.len())
                    .filter(|&k| c.is_used(k))
                    .map(|k| (d.classes_names[k].clone(), c.at(k, threshold)))
                    .collect()
            })
            .unwrap_or_default();
        self.figures_with(&detection, classification.unwrap_or(&self.classification))
    }

    fn figures_with(&self, detection: &[(String, Prf)], classification: &[ClassFigures]) -> Vec<Figure> {
        let mut f = Vec::new();
        let mut push = |name: String, value: Option<f64>, higher_is_better: bool| {
            f.push(Figure {
                name,
                value,
                higher_is_better,
            })
        };
        for s in &self.coco {
            let t = match s.iou_type {
                IouType::Bbox => "bbox",
                IouType::Segm => "segm",
            };
            for (n, v) in &s.stats {
                push(format!("{t}/{n}"), (*v > -1.0).then_some(*v), true);
            }
            for c in &s.classes {
                push(format!("{t}/AP/{}", c.name), c.ap, true);
            }
        }
        for (n, p) in detection {
            push(format!("detection/{n}/precision"), p.precision, true);
            push(format!("detection/{n}/recall"), p.recall, true);
            push(format!("detection/{n}/f1"), p.f1, true);
        }
        if let Some(s) = &self.segmentation {
            for c in &s.classes {
                push(format!("segmentation/{}/dice", c.name), c.mean_dice, true);
                push(format!("segmentation/{}/iou", c.name), c.mean_iou, true);
                push(format!("segmentation/{}/pooled_dice", c.name), c.pooled_dice, true);
                push(format!("segmentation/{}/hd95", c.name), c.median_hd95, false);
            }
        }
        for c in classification {
            push(format!("classification/{}/roc_auc", c.name), c.roc_auc.value, true);
            push(
                format!("classification/{}/average_precision", c.name),
                c.average_precision.value,
                true,
            );
            push(
                format!("classification/{}/sensitivity", c.name),
                c.sensitivity.value,
                true,
            );
            push(
                format!("classification/{}/specificity", c.name),
                c.specificity.value,
                true,
            );
        }
        f
    }
}
