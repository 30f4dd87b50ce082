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

pub use coco_eval::{CocoEval, EvalError, IouType, Params, ParamsError};
pub mod reference;
pub mod report;
pub mod suspicious;

pub use report::{Options, Report, compute};

use std::path::PathBuf;

/// Why metrics could not be computed, or a reference file read or written.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error(transparent)]
    Eval(#[from] EvalError),
    #[error("{}: cannot read: {source}", path.display())]
    ReadReference { path: PathBuf, source: std::io::Error },
    #[error(
        "{}: {message} at `{field}`. A reference file is written by `lightbox metrics PACK --run NAME --save-reference FILE`",
        path.display()
    )]
    ReferenceSyntax {
        path: PathBuf,
        message: String,
        /// The JSON path of the offending value.
        field: String,
    },
    #[error("{}: lightbox_reference is {version}, this lightbox reads version 1", path.display())]
    ReferenceVersion { path: PathBuf, version: u32 },
    #[error("{}: cannot write: {source}", path.display())]
    WriteReference { path: PathBuf, source: std::io::Error },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_errors_name_the_file_and_field() {
        let e = MetricsError::ReferenceVersion {
            path: PathBuf::from("ref.json"),
            version: 2,
        };
        assert_eq!(
            e.to_string(),
            "ref.json: lightbox_reference is 2, this lightbox reads version 1"
        );
        let e = MetricsError::ReferenceSyntax {
            path: PathBuf::from("ref.json"),
            message: "invalid type: string \"x\", expected f64".into(),
            field: "figures.bbox/AP".into(),
        };
        assert!(e.to_string().starts_with("ref.json: invalid type"), "{e}");
        assert!(
            e.to_string()
                .contains("at `figures.bbox/AP`. A reference file is written by"),
            "{e}"
        );
        let e = MetricsError::from(EvalError::from(ParamsError::IouThresholdRange(1.5)));
        assert_eq!(e.to_string(), "IoU threshold 1.5 is outside [0, 1]");
    }
}
