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
    /// The tensor's rows are the image's columns (the card's `input.transpose`); `width` and
    /// `height` still follow the image.
    pub transposed: bool,
}

/// Planar f32 channels in pixel units (0–255) or, with `values = "modality"`, in the image's own
/// units (HU for CT), in the card's colour order.
pub(crate) fn planes(img: &PixelImage, color: Color, values: Values) -> Vec<Vec<f32>> {
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
    let resampled: Vec<Vec<f32>> = planes
        .iter()
        .map(|plane| resample(plane, img.width, img.height, tw, th, &p, spec.pad))
        .collect();
    let (shape, data) = to_tensor(&resampled, tw, th, spec);
    Prepared {
        shape,
        data,
        height: th,
        width: tw,
        channels: c,
        placement: p,
        image_width: img.width,
        image_height: img.height,
        transposed: spec.transpose,
    }
}

/// Planes in pixel units (`w`×`h`, row by row) into one tensor of batch 1: scaled, normalised
/// (`(v * scale − mean) / std` per channel), laid out and transposed as the card says.
pub fn to_tensor(planes: &[Vec<f32>], w: u32, h: u32, spec: &InputSpec) -> (Vec<i64>, Vec<f32>) {
    let c = planes.len();
    let n = (w * h) as usize;
    // the tensor's own rows and columns
    let (rows, cols) = if spec.transpose { (w, h) } else { (h, w) };
    let mut data = vec![0f32; n * c];
    for (ci, plane) in planes.iter().enumerate() {
        let mean = spec.mean.get(ci).copied().unwrap_or(0.0);
        let std = spec.std.get(ci).copied().unwrap_or(1.0);
        for y in 0..h as usize {
            for x in 0..w as usize {
                let v = (plane[y * w as usize + x] * spec.scale - mean) / std;
                let i = if spec.transpose {
                    x * cols as usize + y
                } else {
                    y * cols as usize + x
                };
                match spec.layout {
                    Layout::Nchw => data[ci * n + i] = v,
                    Layout::Nhwc => data[i * c + ci] = v,
                }
            }
        }
    }
    let shape = match spec.layout {
        Layout::Nchw => vec![1, c as i64, rows as i64, cols as i64],
        Layout::Nhwc => vec![1, rows as i64, cols as i64, c as i64],
    };
    (shape, data)
}

/// Resampling by pixel area exactly as OpenCV's `cv2.resize(..., interpolation=INTER_AREA)`
/// does it, on one plane: when both axes shrink, each output pixel is the area-weighted mean of
/// the source pixels its footprint covers; otherwise OpenCV's area-mode bilinear weights. Models
/// trained through OpenCV (MTCNN) see the same pixels here as there.
pub fn resize_area(src: &[f32], sw: usize, sh: usize, dw: usize, dh: usize) -> Vec<f32> {
    let (scale_x, scale_y) = (sw as f64 / dw as f64, sh as f64 / dh as f64);
    let mut out = vec![0f32; dw * dh];
    if sw == 0 || sh == 0 {
        return out;
    }
    if scale_x >= 1.0 && scale_y >= 1.0 {
        let tx = area_table(sw, dw, scale_x);
        let ty = area_table(sh, dh, scale_y);
        let mut row = vec![0f64; dw];
        let mut acc = vec![0f64; dw];
        let mut current = usize::MAX;
        let flush = |acc: &mut Vec<f64>, out: &mut Vec<f32>, dy: usize| {
            for (o, a) in out[dy * dw..(dy + 1) * dw].iter_mut().zip(acc.iter_mut()) {
                *o = *a as f32;
                *a = 0.0;
            }
        };
        for &(dy, sy, ay) in &ty {
            if dy != current {
                if current != usize::MAX {
                    flush(&mut acc, &mut out, current);
                }
                current = dy;
            }
            row.iter_mut().for_each(|v| *v = 0.0);
            let s = &src[sy * sw..(sy + 1) * sw];
            for &(dx, sx, ax) in &tx {
                row[dx] += s[sx] as f64 * ax;
            }
            for (a, r) in acc.iter_mut().zip(&row) {
                *a += r * ay;
            }
        }
        if current != usize::MAX {
            flush(&mut acc, &mut out, current);
        }
        return out;
    }
    let lx = area_linear(sw, dw);
    let ly = area_linear(sh, dh);
    for (dy, &(y0, y1, fy)) in ly.iter().enumerate() {
        for (dx, &(x0, x1, fx)) in lx.iter().enumerate() {
            let at = |x: usize, y: usize| src[y * sw + x];
            let top = at(x0, y0) * (1.0 - fx) + at(x1, y0) * fx;
            let bottom = at(x0, y1) * (1.0 - fx) + at(x1, y1) * fx;
            out[dy * dw + dx] = top * (1.0 - fy) + bottom * fy;
        }
    }
    out
}

/// OpenCV's `computeResizeAreaTab`: (destination, source, weight) along one axis.
fn area_table(ssize: usize, dsize: usize, scale: f64) -> Vec<(usize, usize, f64)> {
    let mut tab = Vec::with_capacity(ssize * 2);
    for d in 0..dsize {
        let f1 = d as f64 * scale;
        let f2 = f1 + scale;
        let cell = scale.min(ssize as f64 - f1);
        let s2 = (f2.floor() as usize).min(ssize - 1);
        let s1 = (f1.ceil() as usize).min(s2);
        if s1 as f64 - f1 > 1e-3 {
            tab.push((d, s1 - 1, ((s1 as f64 - f1) / cell) as f32 as f64));
        }
        for s in s1..s2 {
            tab.push((d, s, (1.0 / cell) as f32 as f64));
        }
        if f2 - s2 as f64 > 1e-3 {
            tab.push((d, s2, ((f2 - s2 as f64).min(1.0).min(cell) / cell) as f32 as f64));
        }
    }
    tab
}

/// OpenCV's area-mode bilinear weights along one axis (when an axis grows): (s0, s1, weight of s1).
fn area_linear(ssize: usize, dsize: usize) -> Vec<(usize, usize, f32)> {
    let scale = ssize as f64 / dsize as f64;
    let inv = dsize as f64 / ssize as f64;
    (0..dsize)
        .map(|d| {
            let mut s = (d as f64 * scale).floor() as i64;
            let mut f = ((d + 1) as f64 - (s + 1) as f64 * inv) as f32;
            f = if f <= 0.0 { 0.0 } else { f - f.floor() };
            if s < 0 {
                (s, f) = (0, 0.0);
            }
            if s >= ssize as i64 - 1 {
                (s, f) = (ssize as i64 - 1, 0.0);
            }
            let s = s as usize;
            (s, (s + 1).min(ssize - 1), f)
        })
        .collect()
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
            transpose: false,
        }
    }

    #[test]
    fn area_resize_averages_footprints_like_opencv() {
        // 4 → 2: plain 2×2 means
        let src: Vec<f32> = (0..16).map(|v| v as f32).collect();
        assert_eq!(resize_area(&src, 4, 4, 2, 2), vec![2.5, 4.5, 10.5, 12.5]);
        // 3 → 2 along x (one row): footprints [0, 1.5) and [1.5, 3)
        let out = resize_area(&[0.0, 3.0, 6.0], 3, 1, 2, 1);
        assert!((out[0] - 1.0).abs() < 1e-6 && (out[1] - 5.0).abs() < 1e-6, "{out:?}");
        // growing: OpenCV's area-mode weights (cv2.resize([[0, 10]], (4, 1), INTER_AREA) = 0 0 10 10)
        assert_eq!(resize_area(&[0.0, 10.0], 2, 1, 4, 1), vec![0.0, 0.0, 10.0, 10.0]);
        // 2 → 3 (cv2: 0, 5, 10)
        assert_eq!(resize_area(&[0.0, 10.0], 2, 1, 3, 1), vec![0.0, 5.0, 10.0]);
        // fractional footprints both ways, and one axis shrinking while the other grows, against
        // cv2.resize(a, (w, h), interpolation=cv2.INTER_AREA) with OpenCV 4.12
        let a: Vec<f32> = (0..35).map(|i| ((i * 37) % 101) as f32).collect();
        let shrink = [40.543, 48.543, 47.857, 55.857, 55.171, 45.857];
        let mixed = [
            14.8, 66.6, 32.2, 33.486, 59.314, 42.229, 58.4, 49.6, 55.6, 43.829, 35.029, 41.029, 48.086, 33.514, 51.057,
            64.8, 35.8, 82.2, 52.657, 23.657, 70.057, 45.371, 27.914, 62.771, 30.8, 82.6, 48.2, 55.714, 72.886, 38.486,
            74.4, 65.6, 31.2,
        ];
        for (got, want) in [
            (resize_area(&a, 5, 7, 2, 3), &shrink[..]),
            (resize_area(&a, 5, 7, 3, 11), &mixed[..]),
        ] {
            assert_eq!(got.len(), want.len());
            for (g, w) in got.iter().zip(want) {
                assert!((g - w).abs() < 2e-3, "{got:?}");
            }
        }
    }

    #[test]
    fn a_transposed_tensor_has_image_columns_as_rows() {
        let img = PixelImage {
            width: 3,
            height: 2,
            pixels: Pixels::Gray8(vec![1, 2, 3, 4, 5, 6]),
            scan: None,
        };
        let mut s = spec(Resize::None, [2, 3]);
        s.size = None;
        s.transpose = true;
        let t = prepare(&img, &s);
        assert_eq!(t.shape, vec![1, 1, 3, 2]);
        assert_eq!(t.data, vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
        assert!(t.transposed && (t.width, t.height) == (3, 2));
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
