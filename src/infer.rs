//! Running ONNX models on a pack with ONNX Runtime (loaded at run time): the model card, the
//! preprocessing shared with the network's-eye view, postprocessing back onto the image grid.

pub mod cascade;
pub mod eye;
pub mod model;
pub mod runtime;
pub mod spec;
pub mod tensor;

pub use model::{Model, Output};
pub use spec::ModelSpec;
