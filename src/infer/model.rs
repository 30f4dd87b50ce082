//! A model opened with ONNX Runtime, checked against its card, run on images: preprocessing
//! (tensor.rs), the session, and postprocessing back onto the image grid.

use super::cascade::CascadeError;
use super::runtime::Device;
use super::spec::{Activation, Layout, ModelSpec, OutputKind};
use super::tensor::{self, Prepared};
use crate::formats::image::PixelImage;
use ort::session::Session;
use ort::value::{Tensor, TensorElementType, ValueType};
use std::path::{Path, PathBuf};

/// What a model gives for one image.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Per class (in card order, background excluded): probabilities on the image grid; and the
    /// label (index into the card's classes, or none) per pixel.
    Segmentation {
        width: u32,
        height: u32,
        probabilities: Vec<(String, Vec<f32>)>,
        labels: Vec<Option<u16>>,
    },
    Classification(Vec<(String, f32)>),
    /// Boxes in image pixels: (class name, score, box).
    Detection(Vec<(String, f32, crate::geometry::BBox)>),
}

/// Why a model could not be opened or run, or its outputs read; names the model file and the
/// input or output where that helps.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error(transparent)]
    Runtime(#[from] super::runtime::RuntimeError),
    #[error(transparent)]
    Cascade(#[from] super::cascade::CascadeError),
    /// ONNX Runtime refused a session setting or a tensor.
    #[error("{0}")]
    Ort(#[from] ort::Error),
    #[error("{}: no such model file", path.display())]
    NoFile { path: PathBuf },
    #[error("{}: not a model ONNX Runtime can load: {source}", path.display())]
    NotLoadable { path: PathBuf, source: ort::Error },
    #[error(
        "this ONNX Runtime has no CUDA execution provider (it is the CPU build): {}",
        super::runtime::HOW_TO_GET_CUDA
    )]
    NoCuda,
    #[error(
        "the CUDA execution provider would not start on GPU {gpu}: {source}. Check the GPU (nvidia-smi) and that the CUDA and cuDNN libraries this ONNX Runtime was built for can be loaded (LD_LIBRARY_PATH), or {}",
        super::runtime::HOW_TO_GET_CUDA
    )]
    CudaStart { gpu: i32, source: ort::Error },
    /// The model has no inputs (`what` = "input") or outputs.
    #[error("{}: the model has no {what}s", path.display())]
    NoPort { path: PathBuf, what: &'static str },
    #[error("{}: the card's {what}.name {name:?} is not in the model; it has {have}", path.display())]
    UnknownName {
        path: PathBuf,
        what: &'static str,
        name: String,
        /// The model's inputs or outputs, with their types.
        have: String,
    },
    #[error(
        "{}: input {input} takes {ty:?}; lightbox feeds float32 tensors. The model has {inputs}",
        path.display()
    )]
    InputType {
        path: PathBuf,
        input: String,
        ty: TensorElementType,
        inputs: String,
    },
    #[error(
        "{}: input {input} has rank {rank} ({ty}); an image input is 4-D (N, C, H, W or N, H, W, C)",
        path.display()
    )]
    InputRank {
        path: PathBuf,
        input: String,
        rank: usize,
        ty: String,
    },
    #[error(
        "{}: input {input} is {ty} but the card gives {channels} channel(s) in {layout:?} layout: check input.color and input.layout",
        path.display()
    )]
    InputChannels {
        path: PathBuf,
        input: String,
        ty: String,
        channels: i64,
        layout: Layout,
    },
    #[error("{}: input {input} is {ty} but the card's input.size is [{}, {}]", path.display(), size[0], size[1])]
    InputSize {
        path: PathBuf,
        input: String,
        ty: String,
        size: [u32; 2],
    },
    #[error(
        "{}: input {input} is {ty}; this cascade stage takes float32 crops of [N, {}, {}, {}] ({layout:?})",
        path.display(),
        want[0],
        want[1],
        want[2]
    )]
    StageInput {
        path: PathBuf,
        input: String,
        ty: String,
        want: [i64; 3],
        layout: Layout,
    },
    #[error("not a cascade: run prepared tensors with Model::run")]
    NotACascade,
    /// A cascade stage failed to run.
    #[error("{}: running the model: {source}", path.display())]
    RunStage { path: PathBuf, source: ort::Error },
    #[error("running the model: {0}")]
    Run(ort::Error),
    #[error("{}: output {name} is not float32: {source}", path.display())]
    StageOutput {
        path: PathBuf,
        name: String,
        source: ort::Error,
    },
    #[error("the model has no output {0:?}")]
    NoOutput(String),
    #[error("output {name}: neither float32 nor int64: {source}")]
    OutputType { name: String, source: ort::Error },
    #[error("output.scores: name the output holding scores")]
    NoScores,
    #[error("output {name}: {source}")]
    Output { name: String, source: ort::Error },
    #[error("boxes output has shape {0:?}; expected [N, 4] or [1, N, 4]")]
    BoxesShape(Vec<i64>),
    #[error("scores output has shape {shape:?} for {boxes} boxes")]
    ScoresShape { shape: Vec<i64>, boxes: usize },
    #[error("detection outputs are read by Model::run")]
    DetectionInPost,
    #[error("output {output} has {values} values ({shape:?}) but the card names {classes} classes")]
    ClassCount {
        output: String,
        values: usize,
        shape: Vec<i64>,
        classes: usize,
    },
    #[error("segmentation output has shape {0:?}; expected [1, C, H, W] or [1, H, W]")]
    SegmentationShape(Vec<i64>),
    #[error("segmentation output has {channels} channel(s) ({shape:?}) but the card names {classes} classes")]
    SegmentationChannels {
        channels: usize,
        shape: Vec<i64>,
        classes: usize,
    },
}

pub struct Model {
    session: Session,
    pub spec: ModelSpec,
    pub input: String,
    pub output: String,
    path: std::path::PathBuf,
    /// The later stages of a cascaded detector (MTCNN's R-net and O-net).
    cascade: Option<[Stage; 2]>,
    runs: usize,
    /// Where it runs, in words: "CPU", "CUDA GPU 0", "CPU (why not CUDA)".
    pub runs_on: String,
}

/// A further network of a cascade.
struct Stage {
    session: Session,
    input: String,
    path: std::path::PathBuf,
}

/// A session seen as one network of a cascade.
struct SessionNet<'a> {
    session: &'a mut Session,
    input: &'a str,
    path: &'a Path,
}

impl super::cascade::Net for SessionNet<'_> {
    fn forward(&mut self, shape: Vec<i64>, data: Vec<f32>) -> Result<super::cascade::Outputs, CascadeError> {
        let net = |e: ModelError| CascadeError::Net(Box::new(e));
        let t = Tensor::from_array((shape, data)).map_err(|e| net(e.into()))?;
        let outputs = self.session.run(ort::inputs![self.input => t]).map_err(|source| {
            net(ModelError::RunStage {
                path: self.path.to_path_buf(),
                source,
            })
        })?;
        outputs
            .iter()
            .map(|(name, v)| {
                let (s, d) = v.try_extract_tensor::<f32>().map_err(|source| {
                    net(ModelError::StageOutput {
                        path: self.path.to_path_buf(),
                        name: name.to_string(),
                        source,
                    })
                })?;
                Ok((s.iter().copied().collect(), d.to_vec()))
            })
            .collect()
    }

    fn label(&self) -> String {
        self.path.display().to_string()
    }
}

/// A session for `path` on `device`; with it, where it runs in words.
fn session(
    env: &ort::environment::Environment,
    path: &Path,
    threads: usize,
    device: Device,
) -> Result<(Session, String), ModelError> {
    if !path.is_file() {
        return Err(ModelError::NoFile {
            path: path.to_path_buf(),
        });
    }
    let builder = || -> Result<_, ModelError> {
        Session::builder(env)?
            .with_intra_threads(threads.max(1))
            .map_err(|e| ModelError::Ort(e.into()))
    };
    let load = |mut b: ort::session::builder::SessionBuilder| {
        b.commit_from_file(path).map_err(|source| ModelError::NotLoadable {
            path: path.to_path_buf(),
            source,
        })
    };
    let cuda = |id: i32| -> Result<Session, ModelError> {
        if !super::runtime::has_cuda() {
            return Err(ModelError::NoCuda);
        }
        let b = builder()?
            .with_execution_providers([ort::ep::CUDA::default().with_device_id(id).build().error_on_failure()])
            .map_err(|source| ModelError::CudaStart {
                gpu: id,
                source: source.into(),
            })?;
        load(b)
    };
    match device {
        Device::Cpu => Ok((load(builder()?)?, "CPU".into())),
        Device::Cuda(id) => Ok((cuda(id)?, format!("CUDA GPU {id}"))),
        Device::Auto => match cuda(0) {
            Ok(s) => Ok((s, "CUDA GPU 0".into())),
            Err(why) if !matches!(why, ModelError::NotLoadable { .. }) => {
                let reason = if super::runtime::has_cuda() {
                    "CUDA would not start; --device cuda says why"
                } else {
                    "this ONNX Runtime has no CUDA"
                };
                Ok((load(builder()?)?, format!("CPU ({reason})")))
            }
            Err(e) => Err(e),
        },
    }
}

/// Open a cascade's further stage and check its input takes `side`×`side` crops.
fn open_stage(
    env: &ort::environment::Environment,
    path: &Path,
    threads: usize,
    device: Device,
    side: i64,
    spec: &ModelSpec,
) -> Result<Stage, ModelError> {
    let (session, _) = session(env, path, threads, device)?;
    let inputs: Vec<(String, ValueType)> = session
        .inputs()
        .iter()
        .map(|o| (o.name().to_string(), o.dtype().clone()))
        .collect();
    let (input, ty) = inputs.first().cloned().ok_or_else(|| ModelError::NoPort {
        path: path.to_path_buf(),
        what: "input",
    })?;
    let want = match spec.input.layout {
        Layout::Nhwc => [side, side, spec.channels() as i64],
        Layout::Nchw => [spec.channels() as i64, side, side],
    };
    if let ValueType::Tensor { ty: et, shape, .. } = &ty {
        let fits = *et == TensorElementType::Float32
            && shape.len() == 4
            && shape[1..].iter().zip(want).all(|(&have, w)| have <= 0 || have == w);
        if !fits {
            return Err(ModelError::StageInput {
                path: path.to_path_buf(),
                ty: describe(&ty),
                input,
                want,
                layout: spec.input.layout,
            });
        }
    }
    Ok(Stage {
        session,
        input,
        path: path.to_path_buf(),
    })
}

fn describe(v: &ValueType) -> String {
    match v {
        ValueType::Tensor { ty, shape, .. } => format!("{ty:?} {:?}", &**shape),
        other => format!("{other:?}"),
    }
}

impl Model {
    /// Open `path` and check it against the card: names, element type, rank and fixed sizes.
    pub fn open(
        path: &Path,
        spec: ModelSpec,
        threads: usize,
        device: Device,
        configured: Option<&Path>,
    ) -> Result<Model, ModelError> {
        let (_, env) = super::runtime::init(configured)?;
        let (session, runs_on) = session(&env, path, threads, device)?;
        let inputs: Vec<(String, ValueType)> = session
            .inputs()
            .iter()
            .map(|o| (o.name().to_string(), o.dtype().clone()))
            .collect();
        let outputs: Vec<(String, ValueType)> = session
            .outputs()
            .iter()
            .map(|o| (o.name().to_string(), o.dtype().clone()))
            .collect();
        let list = |v: &[(String, ValueType)]| {
            v.iter()
                .map(|(n, t)| format!("{n} ({})", describe(t)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let pick = |want: &Option<String>,
                    have: &[(String, ValueType)],
                    what: &'static str|
         -> Result<(String, ValueType), ModelError> {
            match want {
                Some(n) => have
                    .iter()
                    .find(|(h, _)| h == n)
                    .cloned()
                    .ok_or_else(|| ModelError::UnknownName {
                        path: path.to_path_buf(),
                        what,
                        name: n.clone(),
                        have: list(have),
                    }),
                None => have.first().cloned().ok_or_else(|| ModelError::NoPort {
                    path: path.to_path_buf(),
                    what,
                }),
            }
        };
        let (input, itype) = pick(&spec.input.name, &inputs, "input")?;
        let (output, _) = pick(&spec.output.name, &outputs, "output")?;
        if let ValueType::Tensor { ty, shape, .. } = &itype {
            if *ty != TensorElementType::Float32 {
                return Err(ModelError::InputType {
                    path: path.to_path_buf(),
                    input,
                    ty: *ty,
                    inputs: list(&inputs),
                });
            }
            if shape.len() != 4 {
                return Err(ModelError::InputRank {
                    path: path.to_path_buf(),
                    input,
                    rank: shape.len(),
                    ty: describe(&itype),
                });
            }
            let c = spec.channels() as i64;
            let (ci, hi, wi) = match spec.input.layout {
                Layout::Nchw => (1, 2, 3),
                Layout::Nhwc => (3, 1, 2),
            };
            if shape[ci] > 0 && shape[ci] != c {
                return Err(ModelError::InputChannels {
                    path: path.to_path_buf(),
                    input,
                    ty: describe(&itype),
                    channels: c,
                    layout: spec.input.layout,
                });
            }
            if let Some([h, w]) = spec.input.size
                && ((shape[hi] > 0 && shape[hi] != h as i64) || (shape[wi] > 0 && shape[wi] != w as i64))
            {
                return Err(ModelError::InputSize {
                    path: path.to_path_buf(),
                    input,
                    ty: describe(&itype),
                    size: [h, w],
                });
            }
        }
        let cascade = match &spec.cascade {
            None => None,
            Some(c) => {
                let dir = path.parent().unwrap_or(Path::new("."));
                Some([
                    open_stage(&env, &dir.join(&c.rnet), threads, device, 24, &spec)?,
                    open_stage(&env, &dir.join(&c.onet), threads, device, 48, &spec)?,
                ])
            }
        };
        Ok(Model {
            session,
            spec,
            input,
            output,
            path: path.to_path_buf(),
            cascade,
            runs: 0,
            runs_on,
        })
    }

    /// Whether this is a cascade, which runs on images (`detect`) rather than one tensor.
    pub fn is_cascade(&self) -> bool {
        self.cascade.is_some()
    }

    /// Run a cascaded detector on an image.
    pub fn detect(&mut self, img: &PixelImage) -> Result<Output, ModelError> {
        let (Some([r, o]), Some(c)) = (self.cascade.as_mut(), self.spec.cascade.as_ref()) else {
            return Err(ModelError::NotACascade);
        };
        let mut pnet = SessionNet {
            session: &mut self.session,
            input: &self.input,
            path: &self.path,
        };
        let mut rnet = SessionNet {
            session: &mut r.session,
            input: &r.input,
            path: &r.path,
        };
        let mut onet = SessionNet {
            session: &mut o.session,
            input: &o.input,
            path: &o.path,
        };
        let found = super::cascade::mtcnn(&mut pnet, &mut rnet, &mut onet, img, &self.spec.input, c)?;
        let class = self.spec.output.classes[0].clone();
        Ok(Output::Detection(
            found
                .into_iter()
                .filter(|(s, _)| *s >= self.spec.output.score_threshold)
                .map(|(s, b)| (class.clone(), s, b))
                .collect(),
        ))
    }

    /// Prepare an image as this model's card says (the network's-eye view shows this).
    pub fn prepare(&self, img: &PixelImage) -> Prepared {
        tensor::prepare(img, &self.spec.input)
    }

    /// Run on a prepared input.
    pub fn run(&mut self, p: &Prepared) -> Result<Output, ModelError> {
        let t = Tensor::from_array((p.shape.clone(), p.data.clone()))?;
        let outputs = self
            .session
            .run(ort::inputs![self.input.as_str() => t])
            .map_err(ModelError::Run)?;
        self.runs += 1;
        if self.spec.output.kind == OutputKind::Detection {
            let get = |name: &str| -> Result<(Vec<i64>, Vec<f32>), ModelError> {
                let v = outputs
                    .get(name)
                    .ok_or_else(|| ModelError::NoOutput(name.to_string()))?;
                if let Ok((s, d)) = v.try_extract_tensor::<f32>() {
                    return Ok((s.iter().copied().collect(), d.to_vec()));
                }
                let (s, d) = v.try_extract_tensor::<i64>().map_err(|source| ModelError::OutputType {
                    name: name.to_string(),
                    source,
                })?;
                Ok((s.iter().copied().collect(), d.iter().map(|&x| x as f32).collect()))
            };
            let o = &self.spec.output;
            let boxes = get(o.boxes.as_deref().unwrap_or(self.output.as_str()))?;
            let scores = get(o.scores.as_deref().ok_or(ModelError::NoScores)?)?;
            let labels = match &o.labels {
                Some(l) => Some(get(l)?),
                None => None,
            };
            return detections(&self.spec, boxes, scores, labels, p);
        }
        let (shape, data) = outputs[self.output.as_str()]
            .try_extract_tensor::<f32>()
            .map_err(|source| ModelError::Output {
                name: self.output.clone(),
                source,
            })?;
        let shape: Vec<i64> = shape.iter().copied().collect();
        post(&self.spec, &shape, data, p)
    }

    /// Run several prepared inputs as one batch when the model allows it (equal tensor shapes, a
    /// free batch dimension, outputs that carry it); else one by one. One result per input, in
    /// order.
    pub fn run_batch(&mut self, ps: &[Prepared]) -> Vec<Result<Output, ModelError>> {
        let same = ps.windows(2).all(|w| w[0].shape == w[1].shape);
        if ps.len() < 2 || !same {
            return ps.iter().map(|p| self.run(p)).collect();
        }
        let n = ps.len();
        let mut shape = ps[0].shape.clone();
        shape[0] = n as i64;
        let data: Vec<f32> = ps.iter().flat_map(|p| p.data.iter().copied()).collect();
        let o = &self.spec.output;
        // the outputs to read: detection's boxes, scores and labels, or the one output
        let names: Vec<String> = if o.kind == OutputKind::Detection {
            let Some(scores) = o.scores.clone() else {
                return ps.iter().map(|p| self.run(p)).collect();
            };
            let mut v = vec![o.boxes.clone().unwrap_or_else(|| self.output.clone()), scores];
            v.extend(o.labels.clone());
            v
        } else {
            vec![self.output.clone()]
        };
        let batched = (|| -> Result<super::cascade::Outputs, ModelError> {
            let t = Tensor::from_array((shape, data))?;
            let outputs = self
                .session
                .run(ort::inputs![self.input.as_str() => t])
                .map_err(ModelError::Run)?;
            self.runs += 1;
            names
                .iter()
                .map(|name| {
                    let v = outputs.get(name).ok_or_else(|| ModelError::NoOutput(name.clone()))?;
                    if let Ok((s, d)) = v.try_extract_tensor::<f32>() {
                        return Ok((s.iter().copied().collect(), d.to_vec()));
                    }
                    let (s, d) = v.try_extract_tensor::<i64>()?;
                    Ok((s.iter().copied().collect(), d.iter().map(|&x| x as f32).collect()))
                })
                .collect()
        })();
        // every output must hold one slice per input along its first dimension
        let split = match batched {
            Ok(outs)
                if outs
                    .iter()
                    .all(|(s, d)| s.first() == Some(&(n as i64)) && d.len() % n == 0) =>
            {
                outs
            }
            // a model with a fixed batch of 1, or outputs without a batch dimension: one by one
            _ => return ps.iter().map(|p| self.run(p)).collect(),
        };
        let item = |k: usize, i: usize| -> (Vec<i64>, Vec<f32>) {
            let (s, d) = &split[k];
            let per = d.len() / n;
            let mut one = s.clone();
            one[0] = 1;
            (one, d[i * per..(i + 1) * per].to_vec())
        };
        ps.iter()
            .enumerate()
            .map(|(i, p)| {
                if o.kind == OutputKind::Detection {
                    let labels = (split.len() > 2).then(|| item(2, i));
                    detections(&self.spec, item(0, i), item(1, i), labels, p)
                } else {
                    let (one, d) = item(0, i);
                    post(&self.spec, &one, &d, p)
                }
            })
            .collect()
    }

    /// How many times a network has been run (a batch counts once).
    pub fn runs(&self) -> usize {
        self.runs
    }
}

/// Detection outputs to boxes on the image: decode, threshold, map back through the placement,
/// non-maximum suppression per class.
pub fn detections(
    spec: &ModelSpec,
    (bshape, b): (Vec<i64>, Vec<f32>),
    (sshape, s): (Vec<i64>, Vec<f32>),
    labels: Option<(Vec<i64>, Vec<f32>)>,
    p: &Prepared,
) -> Result<Output, ModelError> {
    use super::spec::BoxFormat;
    let o = &spec.output;
    if bshape.last() != Some(&4) {
        return Err(ModelError::BoxesShape(bshape));
    }
    let n = b.len() / 4;
    // scores: one per box, or one per class per box
    let per_class = s.len() == n * o.classes.len() && o.classes.len() > 1 && labels.is_none();
    if !per_class && s.len() != n {
        return Err(ModelError::ScoresShape {
            shape: sshape,
            boxes: n,
        });
    }
    let act = |x: f32| match o.activation {
        Activation::Sigmoid => sigmoid(x),
        _ => x,
    };
    let (kx, ky) = if o.normalized && p.transposed {
        (p.height as f64, p.width as f64)
    } else if o.normalized {
        (p.width as f64, p.height as f64)
    } else {
        (1.0, 1.0)
    };
    let mut found: Vec<(usize, f32, crate::geometry::BBox)> = Vec::new();
    for i in 0..n {
        let (k, score) = if per_class {
            let row = &s[i * o.classes.len()..(i + 1) * o.classes.len()];
            row.iter()
                .enumerate()
                .map(|(k, &v)| (k, act(v)))
                .fold((0, f32::NEG_INFINITY), |a, c| if c.1 > a.1 { c } else { a })
        } else {
            let k = labels.as_ref().map(|(_, l)| l[i] as usize).unwrap_or(0);
            (k, act(s[i]))
        };
        if score < o.score_threshold || o.classes.get(k).is_none_or(|c| c.is_empty()) {
            continue;
        }
        let v: Vec<f64> = b[i * 4..i * 4 + 4].iter().map(|&x| x as f64).collect();
        let (x1, y1, x2, y2) = match o.box_format {
            BoxFormat::Xyxy => (v[0], v[1], v[2], v[3]),
            BoxFormat::Xywh => (v[0], v[1], v[0] + v[2], v[1] + v[3]),
            BoxFormat::Cxcywh => (
                v[0] - v[2] / 2.0,
                v[1] - v[3] / 2.0,
                v[0] + v[2] / 2.0,
                v[1] + v[3] / 2.0,
            ),
        };
        // a transposed tensor's x is the image's y
        let (x1, y1, x2, y2) = if p.transposed {
            (y1, x1, y2, x2)
        } else {
            (x1, y1, x2, y2)
        };
        let (ax, ay) = p.placement.to_image(x1 * kx, y1 * ky);
        let (bx, by) = p.placement.to_image(x2 * kx, y2 * ky);
        let bbox = crate::geometry::BBox::from_corners(ax, ay, bx, by).clip(p.image_width, p.image_height);
        if bbox.w > 0.0 && bbox.h > 0.0 {
            found.push((k, score, bbox));
        }
    }
    found.sort_by(|a, b| b.1.total_cmp(&a.1));
    if let Some(t) = o.nms_iou {
        let mut kept: Vec<(usize, f32, crate::geometry::BBox)> = Vec::new();
        for d in found {
            if !kept.iter().any(|k| k.0 == d.0 && k.2.iou(&d.2, false) > t) {
                kept.push(d);
            }
        }
        found = kept;
    }
    Ok(Output::Detection(
        found
            .into_iter()
            .map(|(k, s, b)| (o.classes[k].clone(), s, b))
            .collect(),
    ))
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Postprocessing: activation, threshold or argmax, back onto the image grid.
pub fn post(spec: &ModelSpec, shape: &[i64], data: &[f32], p: &Prepared) -> Result<Output, ModelError> {
    let o = &spec.output;
    match o.kind {
        OutputKind::Detection => Err(ModelError::DetectionInPost),
        OutputKind::Classification => {
            let k = data.len();
            if k != o.classes.len() {
                return Err(ModelError::ClassCount {
                    output: o.name.as_deref().unwrap_or("0").to_string(),
                    values: k,
                    shape: shape.to_vec(),
                    classes: o.classes.len(),
                });
            }
            let probs: Vec<f32> = match o.activation {
                Activation::None => data.to_vec(),
                Activation::Sigmoid => data.iter().map(|&x| sigmoid(x)).collect(),
                Activation::Softmax => {
                    let m = data.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
                    let e: Vec<f32> = data.iter().map(|x| (x - m).exp()).collect();
                    let s: f32 = e.iter().sum();
                    e.iter().map(|x| x / s).collect()
                }
            };
            Ok(Output::Classification(o.classes.iter().cloned().zip(probs).collect()))
        }
        OutputKind::Segmentation => {
            // [1, C, h, w] or [1, h, w]
            let (c, h, w) = match shape {
                [1, c, h, w] => (*c as usize, *h as u32, *w as u32),
                [1, h, w] => (1, *h as u32, *w as u32),
                _ => {
                    return Err(ModelError::SegmentationShape(shape.to_vec()));
                }
            };
            if c != o.classes.len() {
                return Err(ModelError::SegmentationChannels {
                    channels: c,
                    shape: shape.to_vec(),
                    classes: o.classes.len(),
                });
            }
            let n = (w * h) as usize;
            let mut chans: Vec<Vec<f32>> = (0..c).map(|k| data[k * n..(k + 1) * n].to_vec()).collect();
            // a transposed model's map has the image's columns as rows: turn it back
            let (w, h) = if p.transposed {
                for ch in chans.iter_mut() {
                    let t: Vec<f32> = (0..n)
                        .map(|i| ch[(i % h as usize) * w as usize + i / h as usize])
                        .collect();
                    *ch = t;
                }
                (h, w)
            } else {
                (w, h)
            };
            match o.activation {
                Activation::None => {}
                Activation::Sigmoid => chans
                    .iter_mut()
                    .for_each(|ch| ch.iter_mut().for_each(|x| *x = sigmoid(*x))),
                Activation::Softmax => {
                    for i in 0..n {
                        let m = chans.iter().map(|ch| ch[i]).fold(f32::NEG_INFINITY, f32::max);
                        let s: f32 = chans.iter().map(|ch| (ch[i] - m).exp()).sum();
                        for ch in chans.iter_mut() {
                            ch[i] = (ch[i] - m).exp() / s;
                        }
                    }
                }
            }
            let grid: Vec<Vec<f32>> = chans.iter().map(|ch| tensor::to_image_grid(ch, w, h, p)).collect();
            let m = (p.image_width * p.image_height) as usize;
            let labels: Vec<Option<u16>> = (0..m)
                .map(|i| {
                    if c == 1 {
                        (grid[0][i] >= o.threshold).then_some(0)
                    } else {
                        let (k, _) = grid
                            .iter()
                            .enumerate()
                            .map(|(k, g)| (k, g[i]))
                            .fold((0, f32::NEG_INFINITY), |a, b| if b.1 > a.1 { b } else { a });
                        (!o.classes[k].is_empty()).then_some(k as u16)
                    }
                })
                .collect();
            Ok(Output::Segmentation {
                width: p.image_width,
                height: p.image_height,
                probabilities: o
                    .classes
                    .iter()
                    .cloned()
                    .zip(grid)
                    .filter(|(name, _)| !name.is_empty())
                    .collect(),
                labels,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::image::Pixels;
    use crate::infer::spec::{BoxFormat, Color, InputSpec, OutputSpec, Resize, Values};

    fn card(kind: OutputKind, classes: &[&str]) -> ModelSpec {
        ModelSpec {
            input: InputSpec {
                name: None,
                layout: Layout::Nchw,
                size: None,
                multiple_of: None,
                resize: Resize::None,
                pad: 0.0,
                color: Color::Gray,
                values: Values::Pixels,
                clip: None,
                scale: 1.0,
                mean: vec![],
                std: vec![],
                transpose: true,
            },
            output: OutputSpec {
                kind,
                name: None,
                activation: Activation::None,
                threshold: 0.5,
                classes: classes.iter().map(|c| c.to_string()).collect(),
                boxes: None,
                scores: None,
                labels: None,
                box_format: BoxFormat::Xyxy,
                normalized: false,
                score_threshold: 0.0,
                nms_iou: None,
            },
            cascade: None,
        }
    }

    /// A 3×2 image (3 wide, 2 high) prepared transposed: the tensor is 3 rows × 2 columns.
    fn prepared(spec: &ModelSpec) -> Prepared {
        let img = PixelImage {
            width: 3,
            height: 2,
            pixels: Pixels::Gray8(vec![0; 6]),
            scan: None,
        };
        tensor::prepare(&img, &spec.input)
    }

    #[test]
    fn a_transposed_models_map_is_turned_back_onto_the_image() {
        let spec = card(OutputKind::Segmentation, &["blob"]);
        let p = prepared(&spec);
        assert_eq!(p.shape, vec![1, 1, 3, 2]);
        // the model marks tensor row 2 (image column 2), column 0 (image row 0)
        let mut map = vec![0f32; 6];
        map[2 * 2] = 1.0;
        let Output::Segmentation {
            width, height, labels, ..
        } = post(&spec, &[1, 1, 3, 2], &map, &p).unwrap()
        else {
            panic!("segmentation")
        };
        assert_eq!((width, height), (3, 2));
        let marked: Vec<usize> = (0..6).filter(|&i| labels[i].is_some()).collect();
        assert_eq!(marked, vec![2], "image pixel (x 2, y 0)");
    }

    #[test]
    fn a_transposed_models_boxes_swap_back() {
        let mut spec = card(OutputKind::Detection, &["blob"]);
        spec.output.scores = Some("s".into());
        let p = prepared(&spec);
        // a box in tensor coordinates: x (tensor columns = image rows) 0..1, y (tensor rows =
        // image columns) 1..3
        let Output::Detection(found) = detections(
            &spec,
            (vec![1, 1, 4], vec![0.0, 1.0, 1.0, 3.0]),
            (vec![1, 1], vec![0.9]),
            None,
            &p,
        )
        .unwrap() else {
            panic!("detection")
        };
        let b = found[0].2;
        assert_eq!((b.x, b.y, b.w, b.h), (1.0, 0.0, 2.0, 1.0));
    }

    #[test]
    fn an_output_that_does_not_fit_the_card_says_so() {
        let spec = card(OutputKind::Classification, &["a", "b"]);
        let p = prepared(&spec);
        let e = post(&spec, &[1, 3], &[0.1, 0.2, 0.7], &p).unwrap_err();
        assert!(
            matches!(
                e,
                ModelError::ClassCount {
                    values: 3,
                    classes: 2,
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            "output 0 has 3 values ([1, 3]) but the card names 2 classes"
        );
        let e = ModelError::NoFile {
            path: PathBuf::from("models/unet.onnx"),
        };
        assert_eq!(e.to_string(), "models/unet.onnx: no such model file");
    }
}
