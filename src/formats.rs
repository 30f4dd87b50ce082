//! On-disk formats at the edge of lightbox. Each module mirrors one format exactly (warts
//! included) and converts it once, at load, into lightbox's own types; nothing past `pack`
//! sees a format quirk.

pub mod coco;
pub mod dicom;
pub mod dicom_structure;
pub mod grey_png;
pub mod image;
pub mod integrity;
pub mod json;
pub mod label_png;
pub mod nifti;
pub mod npy;
pub mod pixels;
pub mod probability;
pub mod scan;
pub mod scores;
pub mod series;
pub mod yolo;
