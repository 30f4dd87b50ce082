//! Metrics: exact COCO evaluation, segmentation overlap and boundary distance, classification
//! curves with bootstrap intervals, per-case figures, warnings about suspicious outputs, and
//! reference checks for release gates. Knows nothing about the terminal.

pub mod coco_eval;
pub mod pairwise;

pub use coco_eval::{CocoEval, IouType, Params};
