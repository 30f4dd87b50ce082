//! The model card: how a model's input is prepared and its output read, declared in a TOML file
//! beside the model (`model.onnx.toml`) or given with `--spec`. Every key has a default that fits
//! the common case; a mistake is an error with its line.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    #[default]
    Nchw,
    Nhwc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Resize {
    /// Scale to the size, ignoring the aspect ratio.
    #[default]
    Stretch,
    /// Scale to fit, keeping the aspect ratio, and pad the rest (centred) with `pad`.
    Letterbox,
    /// Scale to cover, keeping the aspect ratio, and cut the centre.
    Crop,
    /// Keep the image size (padded on the right and bottom up to `multiple_of`).
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Color {
    Gray,
    #[default]
    Rgb,
    Bgr,
}

/// Which values preprocessing starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Values {
    /// Pixel units 0–255 (16-bit images brought to 0–255): what PNG/JPEG pipelines use.
    #[default]
    Pixels,
    /// The image's own units: Hounsfield units for CT (DICOM Rescale, NIfTI scl_slope), the
    /// stored value for other images.
    Modality,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSpec {
    /// The model input to feed (default: its first input).
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub layout: Layout,
    /// `[height, width]` of the tensor; omit to follow the image (see `multiple_of`).
    #[serde(default)]
    pub size: Option<[u32; 2]>,
    /// Without `size`: the image size rounded down to a multiple of this (up, with `resize = "none"`,
    /// which pads instead).
    #[serde(default)]
    pub multiple_of: Option<u32>,
    #[serde(default)]
    pub resize: Resize,
    /// Padding value, in pixel units (0–255) before scaling.
    #[serde(default)]
    pub pad: f32,
    #[serde(default)]
    pub color: Color,
    /// `pixels` (0–255, default) or `modality` (HU for CT).
    #[serde(default)]
    pub values: Values,
    /// Clip values to [low, high] (in `values` units) before scaling: a CT model's HU window.
    #[serde(default)]
    pub clip: Option<[f32; 2]>,
    /// Multiply pixel values (0–255) by this first (e.g. 1/255).
    #[serde(default = "one")]
    pub scale: f32,
    /// Then subtract `mean` and divide by `std`, per channel.
    #[serde(default)]
    pub mean: Vec<f32>,
    #[serde(default)]
    pub std: Vec<f32>,
    /// The model takes the image with x and y swapped (tensor rows are image columns): models
    /// ported from Caffe/MATLAB, such as the Keras MTCNN. Outputs are swapped back.
    #[serde(default)]
    pub transpose: bool,
}

fn one() -> f32 {
    1.0
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputKind {
    Segmentation,
    Classification,
    Detection,
}

/// How a detection model writes a box.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum BoxFormat {
    /// Corners `x1, y1, x2, y2`.
    #[default]
    Xyxy,
    /// Corner and size `x, y, w, h`.
    Xywh,
    /// Centre and size `cx, cy, w, h`.
    Cxcywh,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    #[default]
    None,
    Sigmoid,
    Softmax,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSpec {
    pub kind: OutputKind,
    /// The model output to read (default: its first output).
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub activation: Activation,
    /// Segmentation with one channel: the probability above which a pixel is the class.
    /// With several channels the class is the argmax (channel 0 is background unless
    /// `classes` says otherwise).
    #[serde(default = "half")]
    pub threshold: f32,
    /// The pack's class name for each output channel (segmentation) or logit
    /// (classification), or each label (detection); `""` for background.
    pub classes: Vec<String>,
    /// Detection: the output holding boxes (`[N, 4]` or `[1, N, 4]`).
    #[serde(default)]
    pub boxes: Option<String>,
    /// Detection: the output holding scores (`[N]`, `[1, N]`, or `[1, N, K]` per class).
    #[serde(default)]
    pub scores: Option<String>,
    /// Detection: the output holding class labels (`[N]` or `[1, N]`), if any.
    #[serde(default)]
    pub labels: Option<String>,
    #[serde(default)]
    pub box_format: BoxFormat,
    /// Detection: boxes in 0–1 of the tensor's size rather than tensor pixels.
    #[serde(default)]
    pub normalized: bool,
    /// Detection: drop detections scoring below this.
    #[serde(default)]
    pub score_threshold: f32,
    /// Detection: non-maximum suppression per class at this IoU (none when absent).
    #[serde(default)]
    pub nms_iou: Option<f64>,
}

fn half() -> f32 {
    0.5
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CascadeKind {
    /// Zhang et al.'s MTCNN: a proposal net over an image pyramid, then a refine net on 24×24
    /// crops and an output net on 48×48 crops.
    Mtcnn,
}

/// A detector made of several networks run one after another. The model given to `infer` is
/// the first stage; the card names the others (paths relative to the first stage's folder).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CascadeSpec {
    pub kind: CascadeKind,
    /// MTCNN's refine net (input N×24×24×3).
    pub rnet: PathBuf,
    /// MTCNN's output net (input N×48×48×3).
    pub onet: PathBuf,
    /// The smallest object to find, in image pixels: the pyramid starts at 12 / min_size.
    #[serde(default = "twenty")]
    pub min_size: f64,
    /// Each pyramid level is this much smaller than the one before.
    #[serde(default = "mtcnn_factor")]
    pub factor: f64,
    /// Score each stage needs (proposal, refine, output).
    #[serde(default = "mtcnn_thresholds")]
    pub thresholds: [f32; 3],
}

fn twenty() -> f64 {
    20.0
}

fn mtcnn_factor() -> f64 {
    0.709
}

fn mtcnn_thresholds() -> [f32; 3] {
    [0.6, 0.7, 0.7]
}

/// A model card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    pub input: InputSpec,
    pub output: OutputSpec,
    /// Further stages of a cascaded detector (MTCNN).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cascade: Option<CascadeSpec>,
}

/// Why a model card could not be used; names the card, and the key where one is wrong.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error(
        "{}: cannot read the model card: {source}. Write one beside the model (docs/inference.md) or give --spec FILE",
        path.display()
    )]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{}{}: {message}", path.display(), line.map(|l| format!(" (line {l})")).unwrap_or_default())]
    Toml {
        path: PathBuf,
        line: Option<usize>,
        message: String,
    },
    #[error("{}: {source}", path.display())]
    Invalid { path: PathBuf, source: CardProblem },
}

/// A value of a model card that inference cannot work with (the key named first).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CardProblem {
    #[error("input.{what} has {values} values; the input has {channels} channel(s)")]
    ChannelValues {
        what: &'static str,
        values: usize,
        channels: usize,
    },
    #[error("input.std has a 0: division by zero")]
    ZeroStd,
    #[error("input.size [{}, {}] must be between 1 and 16384 per side", .0[0], .0[1])]
    Size([u32; 2]),
    #[error(
        "input.size is missing: give [height, width], or multiple_of (to follow the image size), or resize = \"none\""
    )]
    NoSize,
    #[error("output.classes is empty: name the pack class of each output channel")]
    NoClasses,
    #[error("[cascade] needs output.kind = \"detection\": a cascade finds boxes")]
    CascadeKind,
    #[error("[cascade] finds one class: give output.classes = [\"face\"] (a class of the pack)")]
    CascadeClasses,
    #[error(
        "[cascade] sizes its own inputs (an image pyramid, then fixed crops): leave input.size out and set input.resize = \"none\""
    )]
    CascadeSize,
    #[error("cascade.factor {0} must be between 0 and 1 (MTCNN uses 0.709)")]
    CascadeFactor(f64),
    #[error("cascade.min_size {0} must be at least 1 pixel (MTCNN uses 20)")]
    CascadeMinSize(f64),
    #[error("cascade.thresholds: {0} is not a score between 0 and 1")]
    CascadeThreshold(f32),
}

impl ModelSpec {
    /// The card beside a model: `model.onnx.toml`.
    pub fn beside(model: &Path) -> PathBuf {
        let mut p = model.as_os_str().to_owned();
        p.push(".toml");
        PathBuf::from(p)
    }

    pub fn read(path: &Path) -> Result<ModelSpec, SpecError> {
        let text = std::fs::read_to_string(path).map_err(|source| SpecError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let spec: ModelSpec = toml::from_str(&text).map_err(|e| SpecError::Toml {
            path: path.to_path_buf(),
            line: e.span().map(|s| text[..s.start].matches('\n').count() + 1),
            message: e.message().to_string(),
        })?;
        spec.validate().map_err(|source| SpecError::Invalid {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(spec)
    }

    pub fn validate(&self) -> Result<(), CardProblem> {
        let ch = self.channels();
        for (what, v) in [("mean", &self.input.mean), ("std", &self.input.std)] {
            if !v.is_empty() && v.len() != ch {
                return Err(CardProblem::ChannelValues {
                    what,
                    values: v.len(),
                    channels: ch,
                });
            }
        }
        if self.input.std.contains(&0.0) {
            return Err(CardProblem::ZeroStd);
        }
        if let Some([h, w]) = self.input.size
            && (h == 0 || w == 0 || h > 16384 || w > 16384)
        {
            return Err(CardProblem::Size([h, w]));
        }
        if self.input.size.is_none() && self.input.resize != Resize::None && self.input.multiple_of.is_none() {
            return Err(CardProblem::NoSize);
        }
        if self.output.classes.is_empty() {
            return Err(CardProblem::NoClasses);
        }
        if let Some(c) = &self.cascade {
            if self.output.kind != OutputKind::Detection {
                return Err(CardProblem::CascadeKind);
            }
            if self.output.classes.len() != 1 || self.output.classes[0].is_empty() {
                return Err(CardProblem::CascadeClasses);
            }
            if self.input.size.is_some() || self.input.resize != Resize::None {
                return Err(CardProblem::CascadeSize);
            }
            if !(c.factor > 0.0 && c.factor < 1.0) {
                return Err(CardProblem::CascadeFactor(c.factor));
            }
            if c.min_size.is_nan() || c.min_size < 1.0 {
                return Err(CardProblem::CascadeMinSize(c.min_size));
            }
            if let Some(&t) = c.thresholds.iter().find(|t| !(0.0..=1.0).contains(*t)) {
                return Err(CardProblem::CascadeThreshold(t));
            }
        }
        Ok(())
    }

    pub fn channels(&self) -> usize {
        match self.input.color {
            Color::Gray => 1,
            _ => 3,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_card_value_names_the_card_and_the_key() {
        let e = SpecError::Invalid {
            path: PathBuf::from("models/unet.onnx.toml"),
            source: CardProblem::ChannelValues {
                what: "mean",
                values: 3,
                channels: 1,
            },
        };
        assert_eq!(
            e.to_string(),
            "models/unet.onnx.toml: input.mean has 3 values; the input has 1 channel(s)"
        );
        let e = SpecError::Toml {
            path: PathBuf::from("m.toml"),
            line: Some(4),
            message: "unknown field `sise`".into(),
        };
        assert_eq!(e.to_string(), "m.toml (line 4): unknown field `sise`");
    }
}
