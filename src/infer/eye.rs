//! The network's-eye view: the tensor a model receives for a case, denormalised for display at
//! its own resolution (padding and all), with the label masks carried into tensor coordinates,
//! and the tensor's statistics next to what the card declares. Uses the same preprocessing as
//! `infer`.

use super::spec::{Color, ModelSpec};
use super::tensor::{self, Placement};
use crate::formats::image::{PixelImage, Pixels};
use crate::geometry::BBox;
use crate::geometry::LabelMask;
use crate::pack::Instance;
use crate::render::CaseData;
use crate::render::case_data::Carried;

/// What the details pane shows about the tensor.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorInfo {
    pub shape: Vec<i64>,
    pub dtype: &'static str,
    /// Per channel: (min, max, mean, std) of the values fed to the model.
    pub channels: Vec<(f32, f32, f64, f64)>,
    pub declared_mean: Vec<f32>,
    pub declared_std: Vec<f32>,
    pub scale: f32,
    pub placement: Placement,
    pub image_size: (u32, u32),
    /// The tensor's rows are the image's columns (the card's `input.transpose`): shown so.
    pub transposed: bool,
    /// What else to know about this tensor (a cascade's first stage of several).
    pub note: Option<String>,
}

/// A mask carried into tensor coordinates (nearest pixel; outside the image: background).
/// `tw`×`th` is the tensor as shown: for a transposed tensor its columns are the image's rows.
#[allow(clippy::expect_used)] // cannot fail: sizes agree
fn mask_to_tensor(m: &LabelMask, tw: u32, th: u32, p: &Placement, transposed: bool) -> LabelMask {
    let mut out = vec![0u16; (tw * th) as usize];
    for y in 0..th {
        for x in 0..tw {
            let (tx, ty) = if transposed { (y, x) } else { (x, y) };
            let (ix, iy) = p.to_image(tx as f64 + 0.5, ty as f64 + 0.5);
            if ix >= 0.0 && iy >= 0.0 && (ix as u32) < m.width() && (iy as u32) < m.height() {
                out[(y * tw + x) as usize] = m.get(ix as u32, iy as u32);
            }
        }
    }
    LabelMask::new(tw, th, out).expect("sizes agree")
}

/// An instance's box carried into tensor coordinates as shown (`transposed`: x and y swapped).
/// Its outline goes with it; an instance mask does not (it stays on the image grid).
fn instance_to_tensor(i: &Instance, p: &Placement, transposed: bool) -> Instance {
    let (x1, y1) = p.to_tensor(i.bbox.x, i.bbox.y);
    let (x2, y2) = p.to_tensor(i.bbox.x2(), i.bbox.y2());
    let (x1, y1, x2, y2) = if transposed { (y1, x1, y2, x2) } else { (x1, y1, x2, y2) };
    Instance {
        bbox: BBox::from_corners(x1, y1, x2, y2),
        segmentation: None,
        ..i.clone()
    }
}

/// The case as the network sees it: a new `CaseData` whose image is the denormalised tensor and
/// whose masks and boxes (`instances`: the ground truth's, then every run's) are in tensor
/// coordinates.
pub fn network_view(
    data: &CaseData,
    spec: &ModelSpec,
    instances: (&[Instance], Vec<&[Instance]>),
) -> Result<(CaseData, TensorInfo), String> {
    let img = data.image.as_ref().map_err(|e| e.clone())?;
    let (t, note) = match &spec.cascade {
        Some(c) => {
            let scales = super::cascade::pyramid(img.width, img.height, c);
            (
                super::cascade::first_stage_input(img, &spec.input, c),
                Some(format!(
                    "P-net at pyramid level 1 of {} (×{:.3}); R-net and O-net see 24×24 and 48×48 crops",
                    scales.len(),
                    scales.first().copied().unwrap_or(1.0)
                )),
            )
        }
        None => (tensor::prepare(img, &spec.input), None),
    };
    // the tensor as laid out: a transposed one is shown lying on its side, as the model gets it
    let (shown_w, shown_h) = if t.transposed {
        (t.height, t.width)
    } else {
        (t.width, t.height)
    };
    let n = (t.width * t.height) as usize;
    let c = t.channels;
    let nhwc = matches!(spec.input.layout, super::spec::Layout::Nhwc);
    let value = |ch: usize, i: usize| if nhwc { t.data[i * c + ch] } else { t.data[ch * n + i] };
    // back to pixel units: (v * std + mean) / scale
    let denorm = |ch: usize, v: f32| {
        let m = spec.input.mean.get(ch).copied().unwrap_or(0.0);
        let s = spec.input.std.get(ch).copied().unwrap_or(1.0);
        ((v * s + m) / spec.input.scale).round().clamp(0.0, 255.0) as u8
    };
    let pixels = if c == 1 {
        Pixels::Gray8((0..n).map(|i| denorm(0, value(0, i))).collect())
    } else {
        // shown as RGB whatever order the model takes
        let order = match spec.input.color {
            Color::Bgr => [2, 1, 0],
            _ => [0, 1, 2],
        };
        let mut v = Vec::with_capacity(n * 3);
        for i in 0..n {
            for &ch in &order {
                v.push(denorm(ch, value(ch, i)));
            }
        }
        Pixels::Rgb8(v)
    };
    let image = PixelImage {
        width: shown_w,
        height: shown_h,
        pixels,
        scan: None,
    };
    let carry = |m: &Option<Result<LabelMask, String>>| {
        m.as_ref().map(|r| {
            r.as_ref()
                .map(|m| mask_to_tensor(m, shown_w, shown_h, &t.placement, t.transposed))
                .map_err(|e| e.clone())
        })
    };
    let info = TensorInfo {
        shape: t.shape.clone(),
        dtype: "float32",
        channels: tensor::channel_stats(&t),
        declared_mean: spec.input.mean.clone(),
        declared_std: spec.input.std.clone(),
        scale: spec.input.scale,
        placement: t.placement,
        image_size: (img.width, img.height),
        transposed: t.transposed,
        note,
    };
    let stats = Some(crate::render::window::ValueStats::of(&image));
    Ok((
        CaseData {
            slice: data.slice,
            frames: 1,
            case: data.case,
            stats,
            gt_mask: carry(&data.gt_mask),
            run_masks: data.run_masks.iter().map(carry).collect(),
            label_pixels: Vec::new(),
            carried: Some(Carried {
                ground_truth: instances
                    .0
                    .iter()
                    .map(|i| instance_to_tensor(i, &t.placement, t.transposed))
                    .collect(),
                runs: instances
                    .1
                    .iter()
                    .map(|r| {
                        r.iter()
                            .map(|i| instance_to_tensor(i, &t.placement, t.transposed))
                            .collect()
                    })
                    .collect(),
            }),
            image: Ok(image),
        },
        info,
    ))
}
