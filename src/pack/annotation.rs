//! Annotations in lightbox's own terms, whatever file they came from: instances (boxes with
//! optional masks and scores), a label mask, probability maps and class scores, per case.

use super::ClassId;
use crate::geometry::{BBox, Rle, polygon};
use serde::Serialize;
use std::path::PathBuf;

/// An instance mask as stored: polygons are kept as drawn and rasterised on demand.
#[derive(Debug, Clone, PartialEq)]
pub enum Segmentation {
    Polygons(Vec<Vec<f64>>),
    Rle(Rle),
}

impl Segmentation {
    /// The mask on an `h` × `w` grid, as pycocotools' `annToRLE` makes it.
    pub fn to_rle(&self, h: u32, w: u32) -> Rle {
        match self {
            Segmentation::Polygons(parts) => polygon::rasterize_parts(parts, h, w),
            Segmentation::Rle(r) => r.clone(),
        }
    }
}

/// One box or instance mask: a ground-truth object or a detection.
#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    /// Annotation id (ground truth) or 1-based position in the results file (detections).
    pub id: i64,
    pub class: ClassId,
    pub bbox: BBox,
    pub segmentation: Option<Segmentation>,
    /// Detection score; `None` for ground truth.
    pub score: Option<f64>,
    pub iscrowd: bool,
    /// Area as COCO evaluation uses it: the GT `area` field, or for detections the box area
    /// (box results) or mask area (mask results), as pycocotools' `loadRes` sets it.
    pub area: f64,
}

/// A probability map file for a case.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ProbabilitySource {
    /// One class's map (`<stem>.<class>.png` or `.npy`).
    Class { class: ClassId, path: PathBuf },
    /// Every class in manifest order (`<stem>.npy` with shape `(C, H, W)`).
    AllClasses { path: PathBuf },
}

/// Everything one source set (ground truth or a run) says about one case.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaseAnnotations {
    pub instances: Vec<Instance>,
    /// PNG label mask (decoded on demand).
    pub label_mask: Option<PathBuf>,
    pub probabilities: Vec<ProbabilitySource>,
    /// Class scores (classification), or 0/1 labels in ground truth.
    pub scores: Vec<(ClassId, f64)>,
}

impl CaseAnnotations {
    pub fn is_empty(&self) -> bool {
        self.instances.is_empty()
            && self.label_mask.is_none()
            && self.probabilities.is_empty()
            && self.scores.is_empty()
    }
}
