//! The normalised view every out-of-distribution statistic is computed on: the image's
//! intensities (luma for colour) area-averaged to [`SIDE`] pixels on its longer side with its
//! aspect kept, put the right way round (MONOCHROME1: bright is dense, as displayed), and scaled
//! from its own 0.5th to 99.5th percentile to 0..1. A radiograph at 4000² and the same one at 512²
//! give (nearly) the same view, so resolution alone moves no content statistic; bit depth and
//! a 12-bit range stored in 16 bits do not either.

use crate::formats::pixels::{PixelImage, Pixels};

/// The longer side of the view, in pixels.
pub const SIDE: usize = 256;

/// An image's normalised view.
#[derive(Debug, Clone, PartialEq)]
pub struct View {
    pub width: usize,
    pub height: usize,
    /// Row-major values in 0..=1.
    pub values: Vec<f32>,
    /// The mean chroma of the original pixels, (max − min of R, G, B) / full scale: 0 for grey.
    pub chroma: f64,
    /// Every pixel (nearly) the same value: nothing to scale.
    pub flat: bool,
}

/// For each source index, the destination cells it covers and by how much (in destination
/// units), so that every destination cell's weights add up to 1 (an exact box filter; an image
/// smaller than the view is enlarged by nearest neighbour).
fn box_weights(src: usize, dst: usize) -> Vec<Vec<(usize, f32)>> {
    let scale = dst as f64 / src as f64;
    (0..src)
        .map(|i| {
            let (a, b) = (i as f64 * scale, (i + 1) as f64 * scale);
            let mut out = Vec::with_capacity(2);
            let mut j = a.floor() as usize;
            while (j as f64) < b && j < dst {
                let overlap = (b.min((j + 1) as f64) - a.max(j as f64)).max(0.0);
                if overlap > 0.0 {
                    out.push((j, overlap as f32));
                }
                j += 1;
            }
            out
        })
        .collect()
}

/// Area-average a `w`×`h` grid whose rows `row(y, buf)` fills to `dw`×`dh`.
fn resample(w: usize, h: usize, dw: usize, dh: usize, mut row: impl FnMut(usize, &mut [f32])) -> Vec<f32> {
    let yw = box_weights(h, dh);
    let mut out = vec![0f32; dw * dh];
    let mut src = vec![0f32; w];
    let mut acc = vec![0f32; dw];
    // shrinking (the usual case): each source column reaches at most two destination columns;
    // flat arrays instead of a list per column keep the inner loop tight
    let shrinking = dw <= w;
    let xw = box_weights(w, dw);
    let (first, w0, w1): (Vec<usize>, Vec<f32>, Vec<f32>) = if shrinking {
        let mut f = Vec::with_capacity(w);
        let mut a = Vec::with_capacity(w);
        let mut b = Vec::with_capacity(w);
        for xs in &xw {
            f.push(xs.first().map_or(0, |c| c.0));
            a.push(xs.first().map_or(0.0, |c| c.1));
            b.push(xs.get(1).map_or(0.0, |c| c.1));
        }
        (f, a, b)
    } else {
        (vec![], vec![], vec![])
    };
    for (y, ys) in yw.iter().enumerate() {
        row(y, &mut src);
        acc.fill(0.0);
        if shrinking {
            for x in 0..w {
                let (j, v) = (first[x], src[x]);
                acc[j] += w0[x] * v;
                if w1[x] != 0.0 {
                    acc[j + 1] += w1[x] * v;
                }
            }
        } else {
            for (x, xs) in xw.iter().enumerate() {
                let v = src[x];
                for &(j, wx) in xs {
                    acc[j] += wx * v;
                }
            }
        }
        for &(k, wy) in ys {
            let line = &mut out[k * dw..(k + 1) * dw];
            for (o, a) in line.iter_mut().zip(&acc) {
                *o += wy * a;
            }
        }
    }
    out
}

/// The value at quantile `p` of `v` (reordered in the process), in O(n).
pub fn quantile(v: &mut [f32], p: f64) -> f32 {
    if v.is_empty() {
        return 0.0;
    }
    let k = ((v.len() - 1) as f64 * p).round() as usize;
    *v.select_nth_unstable_by(k, f32::total_cmp).1
}

/// The view's size for an image of `w`×`h`: the longer side [`SIDE`], the other in proportion
/// (at least 1).
pub fn view_size(w: usize, h: usize) -> (usize, usize) {
    let long = w.max(h).max(1) as f64;
    let s = SIDE as f64 / long;
    (
        ((w as f64 * s).round() as usize).clamp(1, SIDE),
        ((h as f64 * s).round() as usize).clamp(1, SIDE),
    )
}

/// Area-average any grid of values to `dw`×`dh` (the coarse layout grid).
pub fn shrink(values: &[f32], w: usize, h: usize, dw: usize, dh: usize) -> Vec<f32> {
    resample(w, h, dw, dh, |y, buf| buf.copy_from_slice(&values[y * w..(y + 1) * w]))
}

/// The normalised view of `img`.
pub fn normalise(img: &PixelImage) -> View {
    let (w, h) = (img.width as usize, img.height as usize);
    if w == 0 || h == 0 {
        return View {
            width: 0,
            height: 0,
            values: vec![],
            chroma: 0.0,
            flat: true,
        };
    }
    let (dw, dh) = view_size(w, h);
    let mut chroma = 0.0f64;
    let values = match &img.pixels {
        Pixels::Gray8(p) => resample(w, h, dw, dh, |y, buf| {
            for (b, &v) in buf.iter_mut().zip(&p[y * w..(y + 1) * w]) {
                *b = v as f32;
            }
        }),
        Pixels::Gray16(p) => resample(w, h, dw, dh, |y, buf| {
            for (b, &v) in buf.iter_mut().zip(&p[y * w..(y + 1) * w]) {
                *b = v as f32;
            }
        }),
        Pixels::Rgb8(p) => resample(w, h, dw, dh, |y, buf| {
            let line = &p[3 * y * w..3 * (y + 1) * w];
            let mut c = 0u64;
            for (b, px) in buf.iter_mut().zip(line.chunks_exact(3)) {
                let (r, g, bl) = (px[0] as u32, px[1] as u32, px[2] as u32);
                *b = ((299 * r + 587 * g + 114 * bl) / 1000) as f32;
                c += (r.max(g).max(bl) - r.min(g).min(bl)) as u64;
            }
            chroma += c as f64 / 255.0;
        }),
        Pixels::Rgb16(p) => resample(w, h, dw, dh, |y, buf| {
            let line = &p[3 * y * w..3 * (y + 1) * w];
            let mut c = 0u64;
            for (b, px) in buf.iter_mut().zip(line.chunks_exact(3)) {
                let (r, g, bl) = (px[0] as u32, px[1] as u32, px[2] as u32);
                *b = ((299 * r + 587 * g + 114 * bl) / 1000) as f32;
                c += (r.max(g).max(bl) - r.min(g).min(bl)) as u64;
            }
            chroma += c as f64 / 65535.0;
        }),
    };
    let chroma = chroma / (w * h) as f64;
    let mut scratch = values.clone();
    let (lo, hi) = (quantile(&mut scratch, 0.005), quantile(&mut scratch, 0.995));
    // a scanner's full scale: 8-bit data 255, else the stored range
    let full = match img.pixels {
        Pixels::Gray8(_) | Pixels::Rgb8(_) => 255.0,
        _ => 65535.0,
    };
    let invert = img.scan.as_ref().is_some_and(|s| s.invert != (s.slope < 0.0));
    if hi - lo <= full * 1e-4 {
        return View {
            width: dw,
            height: dh,
            values: vec![0.0; dw * dh],
            chroma,
            flat: true,
        };
    }
    let span = hi - lo;
    let values = values
        .into_iter()
        .map(|v| {
            let x = ((v - lo) / span).clamp(0.0, 1.0);
            if invert { 1.0 - x } else { x }
        })
        .collect();
    View {
        width: dw,
        height: dh,
        values,
        chroma,
        flat: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gray(w: u32, h: u32, f: impl Fn(u32, u32) -> u8) -> PixelImage {
        let mut p = Vec::with_capacity((w * h) as usize);
        for y in 0..h {
            for x in 0..w {
                p.push(f(x, y));
            }
        }
        PixelImage {
            width: w,
            height: h,
            pixels: Pixels::Gray8(p),
            scan: None,
        }
    }

    #[test]
    fn every_destination_cell_gets_a_whole_pixel_of_weight() {
        for (src, dst) in [(512, 256), (1000, 256), (300, 256), (7, 3), (3, 7), (1, 5), (2828, 256)] {
            let mut total = vec![0f64; dst];
            for xs in box_weights(src, dst) {
                for (j, wgt) in xs {
                    total[j] += wgt as f64;
                }
            }
            for (j, t) in total.iter().enumerate() {
                assert!((t - 1.0).abs() < 1e-4, "{src}->{dst}: cell {j} weighs {t}");
            }
        }
    }

    #[test]
    fn the_view_keeps_the_aspect_and_its_longer_side_is_256() {
        assert_eq!(view_size(2000, 1000), (256, 128));
        assert_eq!(view_size(1841, 1955), (241, 256));
        assert_eq!(view_size(100, 50), (256, 128));
        assert_eq!(view_size(10_000, 1), (256, 1));
    }

    #[test]
    fn the_same_picture_at_four_resolutions_gives_nearly_the_same_view() {
        // a smooth picture: a bright disc on a gradient
        let pic = |n: u32| {
            gray(n, n, move |x, y| {
                let (u, v) = (x as f64 / n as f64 - 0.5, y as f64 / n as f64 - 0.5);
                let disc = if u * u + v * v < 0.09 { 120.0 } else { 0.0 };
                (60.0 + 70.0 * (u + 0.5) + disc) as u8
            })
        };
        let base = normalise(&pic(1024));
        for n in [256, 512, 2048] {
            let v = normalise(&pic(n));
            assert_eq!((v.width, v.height), (256, 256));
            let mean_diff: f32 = v
                .values
                .iter()
                .zip(&base.values)
                .map(|(a, b)| (a - b).abs())
                .sum::<f32>()
                / v.values.len() as f32;
            assert!(mean_diff < 0.01, "{n}²: mean difference {mean_diff}");
        }
    }

    #[test]
    fn values_span_zero_to_one_and_monochrome1_is_turned_round() {
        let img = gray(64, 32, |x, _| (x * 4) as u8);
        let v = normalise(&img);
        assert!(!v.flat);
        let (lo, hi) = v.values.iter().fold((1f32, 0f32), |(a, b), &x| (a.min(x), b.max(x)));
        assert!(lo == 0.0 && hi == 1.0, "{lo}..{hi}");
        assert!(v.values[0] < v.values[v.width - 1], "left is dark");
        let mut scan = crate::formats::scan::Scan::plain_for_tests();
        scan.invert = true;
        let inv = normalise(&PixelImage {
            scan: Some(std::sync::Arc::new(scan)),
            ..img
        });
        assert!(inv.values[0] > inv.values[inv.width - 1], "MONOCHROME1: left is bright");
    }

    #[test]
    fn a_flat_image_is_flat_and_grey_has_no_chroma() {
        let v = normalise(&gray(40, 40, |_, _| 77));
        assert!(v.flat);
        assert!(v.values.iter().all(|&x| x == 0.0));
        assert_eq!(v.chroma, 0.0);
        let colour = PixelImage {
            width: 2,
            height: 1,
            pixels: Pixels::Rgb8(vec![255, 0, 0, 0, 0, 255]),
            scan: None,
        };
        assert!((normalise(&colour).chroma - 1.0).abs() < 1e-9);
    }
}
