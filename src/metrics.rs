//! Metrics: exact COCO evaluation, segmentation overlap and boundary distance, classification
//! curves with bootstrap intervals, per-case figures, warnings about suspicious outputs, and
//! reference checks for release gates. Knows nothing about the terminal.

pub mod classification;
pub mod coco_eval;
pub mod detection;
pub mod operating;
pub mod pairwise;
pub mod segmentation;
pub mod table;

pub use coco_eval::{CocoEval, IouType, Params};
pub mod reference;
pub mod report;
pub mod suspicious;

pub use report::{Options, Report, compute};
