//! Preprocessing: an image into the tensor the model receives, exactly as the model card says,
//! and the mapping between tensor and image coordinates. `infer` and the network's-eye view
//! both use this one implementation.

use super::spec::{Color, InputSpec, Layout, Resize, Values};
use crate::formats::image::{PixelImage, Pixels};

/// Where the image landed in the tensor: `tensor = image * scale + offset`, per axis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placement {
    pub scale_x: f64,
    pub scale_y: f64,
    pub offset_x: f64,
    pub offset_y: f64,
}

impl Placement {
    pub fn to_tensor(&self, x: f64, y: f64) -> (f64, f64) {
        (x * self.scale_x + self.offset_x, y * self.scale_y + self.offset_y)
    }

    pub fn to_image(&self, x: f64, y: f64) -> (f64, f64) {
        ((x - self.offset_x) / self.scale_x, (y - self.offset_y) / self.scale_y)
    }
}

/// A prepared input.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    /// `[1, C, H, W]` or `[1, H, W, C]`.
    pub shape: Vec<i64>,
    pub data: Vec<f32>,
    /// Tensor height and width.
    pub height: u32,
    pub width: u32,
    pub channels: usize,
    pub placement: Placement,
    /// The image's size.
    pub image_width: u32,
    pub image_height: u32,
}

/// Planar f32 channels in pixel units (0–255) or, with `values = "modality"`, in the image's own
/// units (HU for CT), in the card's colour order.
fn planes(img: &PixelImage, color: Color, values: Values) -> Vec<Vec<f32>> {
    let n = (img.width * img.height) as usize;
    if values == Values::Modality {
        let modality = |v: f64| img.scan.as_ref().map(|s| s.modality(v)).unwrap_or(v) as f32;
        let gray: Option<Vec<f32>> = match &img.pixels {
            Pixels::Gray8(v) => Some(v.iter().map(|&x| modality(x as f64)).collect()),
            Pixels::Gray16(v) => Some(v.iter().map(|&x| modality(x as f64)).collect()),
            _ => None,
        };
        if let Some(g) = gray {
            return match color {
                Color::Gray => vec![g],
                _ => vec![g.clone(), g.clone(), g],
            };
        }
    }
    let (rgb, gray): (Option<[Vec<f32>; 3]>, Option<Vec<f32>>) = match &img.pixels {
        Pixels::Gray8(v) => (None, Some(v.iter().map(|&x| x as f32).collect())),
        Pixels::Gray16(v) => (None, Some(v.iter().map(|&x| x as f32 / 257.0).collect())),
        Pixels::Rgb8(v) => (
            Some(std::array::from_fn(|c| (0..n).map(|i| v[i * 3 + c] as f32).collect())),
            None,
        ),
        Pixels::Rgb16(v) => (
            Some(std::array::from_fn(|c| {
                (0..n).map(|i| v[i * 3 + c] as f32 / 257.0).collect()
            })),
            None,
        ),
    };
    match (color, rgb, gray) {
        (Color::Gray, Some([r, g, b]), _) => {
            vec![(0..n).map(|i| 0.299 * r[i] + 0.587 * g[i] + 0.114 * b[i]).collect()]
        }
        (Color::Gray, None, Some(g)) => vec![g],
        (Color::Rgb, Some([r, g, b]), _) => vec![r, g, b],
        (Color::Bgr, Some([r, g, b]), _) => vec![b, g, r],
        (_, None, Some(g)) => vec![g.clone(), g.clone(), g],
        _ => unreachable!("an image is grey or RGB"),
    }
}

/// Bilinear resampling with pixel centres aligned (OpenCV's INTER_LINEAR), of the source region
/// mapped through `placement`; outside the image the value is `pad`.
fn resample(src: &[f32], sw: u32, sh: u32, dw: u32, dh: u32, p: &Placement, pad: f32) -> Vec<f32> {
    let mut out = vec![pad; (dw * dh) as usize];
    for y in 0..dh {
        let (_, sy) = p.to_image(0.0, y as f64 + 0.5);
        let sy = sy - 0.5;
        for x in 0..dw {
            let (sx, _) = p.to_image(x as f64 + 0.5, 0.0);
            let sx = sx - 0.5;
            // outside the placed image: padding
            let (ix, iy) = p.to_image(x as f64 + 0.5, y as f64 + 0.5);
            if ix < 0.0 || iy < 0.0 || ix > sw as f64 || iy > sh as f64 {
                continue;
            }
            let x0 = sx.floor().clamp(0.0, (sw - 1) as f64);
            let y0 = sy.floor().clamp(0.0, (sh - 1) as f64);
            let fx = (sx - sx.floor()).clamp(0.0, 1.0) as f32;
            let fy = (sy - sy.floor()).clamp(0.0, 1.0) as f32;
            let (x0, y0) = (x0 as u32, y0 as u32);
            let x1 = if sx < 0.0 { 0 } else { (x0 + 1).min(sw - 1) };
            let y1 = if sy < 0.0 { 0 } else { (y0 + 1).min(sh - 1) };
            let (fx, fy) = (if sx < 0.0 { 0.0 } else { fx }, if sy < 0.0 { 0.0 } else { fy });
            let at = |xx: u32, yy: u32| src[(yy * sw + xx) as usize];
            let top = at(x0, y0) * (1.0 - fx) + at(x1, y0) * fx;
            let bottom = at(x0, y1) * (1.0 - fx) + at(x1, y1) * fx;
            out[(y * dw + x) as usize] = top * (1.0 - fy) + bottom * fy;
        }
    }
    out
}

/// The tensor size and where the image goes in it.
pub fn placement(spec: &InputSpec, w: u32, h: u32) -> (u32, u32, Placement) {
    // down to a multiple (PaddleOCR's DBNet preprocessing: 999×816 → 992×800)
    let round = |v: u32, m: u32| (v / m).max(1) * m;
    let (th, tw) = match (spec.size, spec.multiple_of) {
        (Some([th, tw]), _) => (th, tw),
        (None, Some(m)) if spec.resize == Resize::None => (h.div_ceil(m) * m, w.div_ceil(m) * m),
        (None, Some(m)) => (round(h, m), round(w, m)),
        (None, None) => (h, w),
    };
    let (sx, sy) = (tw as f64 / w as f64, th as f64 / h as f64);
    let p = match spec.resize {
        Resize::Stretch => Placement {
            scale_x: sx,
            scale_y: sy,
            offset_x: 0.0,
            offset_y: 0.0,
        },
        Resize::Letterbox => {
            let s = sx.min(sy);
            Placement {
                scale_x: s,
                scale_y: s,
                offset_x: (tw as f64 - w as f64 * s) / 2.0,
                offset_y: (th as f64 - h as f64 * s) / 2.0,
            }
        }
        Resize::Crop => {
            let s = sx.max(sy);
            Placement {
                scale_x: s,
                scale_y: s,
                offset_x: (tw as f64 - w as f64 * s) / 2.0,
                offset_y: (th as f64 - h as f64 * s) / 2.0,
            }
        }
        Resize::None => Placement {
            scale_x: 1.0,
            scale_y: 1.0,
            offset_x: 0.0,
            offset_y: 0.0,
        },
    };
    (tw, th, p)
}

/// Prepare an image as the card says.
pub fn prepare(img: &PixelImage, spec: &InputSpec) -> Prepared {
    let (tw, th, p) = placement(spec, img.width, img.height);
    let mut planes = planes(img, spec.color, spec.values);
    if let Some([lo, hi]) = spec.clip {
        planes.iter_mut().flatten().for_each(|v| *v = v.clamp(lo, hi.max(lo)));
    }
    let c = planes.len();
    let n = (tw * th) as usize;
    let mut data = vec![0f32; n * c];
    for (ci, plane) in planes.iter().enumerate() {
        let r = resample(plane, img.width, img.height, tw, th, &p, spec.pad);
        let mean = spec.mean.get(ci).copied().unwrap_or(0.0);
        let std = spec.std.get(ci).copied().unwrap_or(1.0);
        for (i, v) in r.into_iter().enumerate() {
            let v = (v * spec.scale - mean) / std;
            match spec.layout {
                Layout::Nchw => data[ci * n + i] = v,
                Layout::Nhwc => data[i * c + ci] = v,
            }
        }
    }
    let shape = match spec.layout {
        Layout::Nchw => vec![1, c as i64, th as i64, tw as i64],
        Layout::Nhwc => vec![1, th as i64, tw as i64, c as i64],
    };
    Prepared {
        shape,
        data,
        height: th,
        width: tw,
        channels: c,
        placement: p,
        image_width: img.width,
        image_height: img.height,
    }
}

/// A tensor-sized map back onto the image grid (bilinear), for outputs at the tensor's size.
pub fn to_image_grid(map: &[f32], mw: u32, mh: u32, prepared: &Prepared) -> Vec<f32> {
    // the map may be smaller than the tensor (a stride): scale placement accordingly
    let (kx, ky) = (mw as f64 / prepared.width as f64, mh as f64 / prepared.height as f64);
    let p = &prepared.placement;
    let (w, h) = (prepared.image_width, prepared.image_height);
    // image → map: map = (image * scale + offset) * k; resample the map at image pixel centres
    let inv = Placement {
        scale_x: 1.0 / (p.scale_x * kx),
        scale_y: 1.0 / (p.scale_y * ky),
        offset_x: -p.offset_x / p.scale_x,
        offset_y: -p.offset_y / p.scale_y,
    };
    resample(map, mw, mh, w, h, &inv, 0.0)
}

/// Per-channel statistics of a tensor: (min, max, mean, std).
pub fn channel_stats(p: &Prepared) -> Vec<(f32, f32, f64, f64)> {
    let n = (p.width * p.height) as usize;
    let shape_nhwc = p.shape.len() == 4 && p.shape[3] as usize == p.channels && p.shape[1] as usize != p.channels;
    (0..p.channels)
        .map(|c| {
            let it = (0..n).map(|i| {
                if shape_nhwc {
                    p.data[i * p.channels + c]
                } else {
                    p.data[c * n + i]
                }
            });
            let (mut lo, mut hi, mut s, mut s2) = (f32::INFINITY, f32::NEG_INFINITY, 0f64, 0f64);
            for v in it {
                lo = lo.min(v);
                hi = hi.max(v);
                s += v as f64;
                s2 += (v as f64) * (v as f64);
            }
            let m = s / n as f64;
            (lo, hi, m, (s2 / n as f64 - m * m).max(0.0).sqrt())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_ct_model_can_take_hounsfield_units_clipped_to_its_window() {
        use crate::formats::scan::Scan;
        // signed CT stored offset by 32768, intercept −1024: stored 32768+24 → −1000 HU
        let scan = Scan {
            format: "DICOM",
            slope: 1.0,
            intercept: -1024.0 - 32768.0,
            unit: Some("HU"),
            invert: false,
            stored_min: 0,
            stored_max: 65535,
            bits_stored: 16,
            signed: true,
            windows: vec![],
            voi_function: Default::default(),
            voi_lut: None,
            spacing: None,
            modality: Some("CT".into()),
            body_part: None,
            view_position: None,
            photometric: "MONOCHROME2".into(),
            transfer_syntax: None,
            orientation: None,
            frames: 1,
        };
        let hu = [-3000.0f64, -1000.0, 40.0, 2000.0];
        let img = PixelImage {
            width: 4,
            height: 1,
            pixels: Pixels::Gray16(hu.iter().map(|h| (h + 1024.0 + 32768.0) as u16).collect()),
            scan: Some(std::sync::Arc::new(scan)),
        };
        let mut s = spec(Resize::Stretch, [1, 4]);
        s.values = Values::Modality;
        s.clip = Some([-1000.0, 400.0]);
        s.scale = 1.0 / 1400.0;
        s.mean = vec![-1000.0 / 1400.0];
        let t = prepare(&img, &s);
        let want = [0.0, 0.0, 1040.0 / 1400.0, 1.0];
        for (a, b) in t.data.iter().zip(want) {
            assert!((a - b).abs() < 1e-6, "{:?}", t.data);
        }
    }

    use super::*;

    fn spec(resize: Resize, size: [u32; 2]) -> InputSpec {
        InputSpec {
            name: None,
            layout: Layout::Nchw,
            size: Some(size),
            multiple_of: None,
            resize,
            pad: 114.0,
            color: Color::Gray,
            values: Values::Pixels,
            clip: None,
            scale: 1.0,
            mean: vec![],
            std: vec![],
        }
    }

    #[test]
    fn letterbox_keeps_the_aspect_and_pads_centred() {
        let (tw, th, p) = placement(&spec(Resize::Letterbox, [64, 64]), 200, 100);
        assert_eq!((tw, th), (64, 64));
        assert_eq!((p.scale_x, p.scale_y), (0.32, 0.32));
        assert_eq!(p.offset_y, 16.0);
        // a box's corners go there and back
        let (x, y) = p.to_tensor(100.0, 50.0);
        assert_eq!((x, y), (32.0, 32.0));
        assert_eq!(p.to_image(x, y), (100.0, 50.0));
    }

    #[test]
    fn padding_is_visible_in_the_tensor() {
        let img = PixelImage {
            width: 4,
            height: 2,
            pixels: Pixels::Gray8(vec![200; 8]),
            scan: None,
        };
        let t = prepare(&img, &spec(Resize::Letterbox, [4, 4]));
        assert_eq!(t.shape, vec![1, 1, 4, 4]);
        assert_eq!(&t.data[0..4], &[114.0; 4], "top row: padding");
        assert_eq!(&t.data[4..8], &[200.0; 4], "image rows");
        assert_eq!(&t.data[12..16], &[114.0; 4], "bottom row: padding");
    }

    #[test]
    fn normalisation_and_layout() {
        let img = PixelImage {
            width: 2,
            height: 1,
            pixels: Pixels::Rgb8(vec![255, 0, 0, 0, 255, 0]),
            scan: None,
        };
        let mut s = spec(Resize::Stretch, [1, 2]);
        s.color = Color::Bgr;
        s.scale = 1.0 / 255.0;
        s.mean = vec![0.5, 0.5, 0.5];
        s.std = vec![0.5, 0.5, 0.5];
        s.layout = Layout::Nhwc;
        let t = prepare(&img, &s);
        assert_eq!(t.shape, vec![1, 1, 2, 3]);
        // pixel 0 is red: BGR = (0, 0, 1) → (-1, -1, 1)
        assert_eq!(&t.data[0..3], &[-1.0, -1.0, 1.0]);
        assert_eq!(&t.data[3..6], &[-1.0, 1.0, -1.0]);
    }
}
