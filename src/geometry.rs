//! Exact 2-D geometry on the pixel grid: binary and label masks, COCO run-length encoding,
//! polygon rasterisation, boxes and connected components.
//!
//! Everything that pycocotools also computes (RLE strings, areas, boxes, IoUs, polygon
//! rasterisation, merges) is bit-for-bit identical to `pycocotools.mask`; the tests in
//! `tests/pycocotools_equality.rs` check that against vectors made by pycocotools itself.

pub mod bbox;
pub mod components;
pub mod mask;
pub mod measure;
pub mod morphology;
pub mod polygon;
pub mod rle;
pub mod runs;

pub use bbox::BBox;
pub use components::{Component, Connectivity};
pub use mask::{BinaryMask, LabelMask};
pub use rle::Rle;
pub use runs::Runs;
