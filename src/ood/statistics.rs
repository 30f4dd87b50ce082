//! What an image's content looks like, in numbers computed on its normalised view
//! ([`super::view`]): intensity distribution (mean, contrast, median, empty and saturated
//! fractions, histogram entropy), texture (edge density), colour where grey is expected, layout
//! (left-right mirror symmetry, top-bottom balance, row/column profile anisotropy, uniform
//! padding at the borders) and a coarse 16×16 layout grid that the reference compares with its
//! own typical layout. Rotating, flipping or inverting a radiograph moves the layout statistics;
//! a photograph moves colour and texture; a flat or mostly padded image moves the fractions.

use super::view::{self, View};
use crate::formats::pixels::PixelImage;
use serde::{Deserialize, Serialize};

/// How many content statistics an image has (the reference adds its likeness, see
/// [`super::FEATURES`]).
pub const CONTENT: usize = 12;

/// The content statistics, in a fixed order.
pub const CONTENT_NAMES: [&str; CONTENT] = [
    "mean",
    "contrast (std)",
    "median",
    "empty fraction",
    "saturated fraction",
    "edge density",
    "histogram entropy",
    "colour",
    "left-right symmetry",
    "top-bottom balance",
    "profile anisotropy",
    "uniform border",
];

/// The coarse layout grid's side.
pub const GRID: usize = 16;

/// One image's statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageStats {
    /// In the order of [`CONTENT_NAMES`].
    pub content: [f64; CONTENT],
    /// The view area-averaged to [`GRID`]×[`GRID`] (aspect ignored), row-major.
    pub grid: Vec<f32>,
    /// The image's own size (the acquisition check's).
    pub width: u32,
    pub height: u32,
}

impl ImageStats {
    /// log₂ of the pixel count.
    pub fn log2_pixels(&self) -> f64 {
        ((self.width as f64) * (self.height as f64)).max(1.0).log2()
    }

    /// Width / height.
    pub fn aspect(&self) -> f64 {
        self.width as f64 / self.height.max(1) as f64
    }
}

/// Pearson correlation of two equally long series; 0 where either is constant.
pub fn correlation(a: &[f32], b: &[f32]) -> f64 {
    let n = a.len().min(b.len());
    if n == 0 {
        return 0.0;
    }
    let ma = a[..n].iter().map(|&x| x as f64).sum::<f64>() / n as f64;
    let mb = b[..n].iter().map(|&x| x as f64).sum::<f64>() / n as f64;
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (&x, &y) in a[..n].iter().zip(&b[..n]) {
        let (dx, dy) = (x as f64 - ma, y as f64 - mb);
        sab += dx * dy;
        saa += dx * dx;
        sbb += dy * dy;
    }
    if saa <= 1e-12 || sbb <= 1e-12 {
        0.0
    } else {
        sab / (saa * sbb).sqrt()
    }
}

fn variance(v: &[f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let m = v.iter().sum::<f64>() / v.len() as f64;
    v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len() as f64
}

/// The statistics of a normalised view (of an image `width`×`height`).
pub fn of_view(v: &View, width: u32, height: u32) -> ImageStats {
    let (w, h) = (v.width, v.height);
    let n = v.values.len().max(1) as f64;
    let vals = &v.values;
    let mean = vals.iter().map(|&x| x as f64).sum::<f64>() / n;
    let std = (vals.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n).sqrt();
    let median = view::quantile(&mut vals.clone(), 0.5) as f64;
    let empty = vals.iter().filter(|&&x| x <= 0.02).count() as f64 / n;
    let saturated = vals.iter().filter(|&&x| x >= 0.98).count() as f64 / n;
    // edges: neighbours (right and below) that differ by more than 5% of the range
    let (mut edges, mut pairs) = (0usize, 0usize);
    for y in 0..h {
        let r = &vals[y * w..(y + 1) * w];
        pairs += w.saturating_sub(1);
        edges += r.windows(2).filter(|p| (p[1] - p[0]).abs() > 0.05).count();
        if y + 1 < h {
            let next = &vals[(y + 1) * w..(y + 2) * w];
            pairs += w;
            edges += r.iter().zip(next).filter(|(a, b)| (**b - **a).abs() > 0.05).count();
        }
    }
    let mut hist = [0usize; 32];
    for &x in vals {
        hist[((x * 31.999) as usize).min(31)] += 1;
    }
    let entropy = -hist
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| c as f64 / n)
        .map(|p| p * p.log2())
        .sum::<f64>();
    // layout
    // correlation with the mirrored view: same mean and variance, so only the cross term
    let var: f64 = vals.iter().map(|&x| (x as f64 - mean).powi(2)).sum();
    let mut cross = 0f64;
    for y in 0..h {
        let r = &vals[y * w..(y + 1) * w];
        cross += r
            .iter()
            .zip(r.iter().rev())
            .map(|(&a, &b)| (a as f64 - mean) * (b as f64 - mean))
            .sum::<f64>();
    }
    let symmetry = if var <= 1e-12 { 0.0 } else { cross / var };
    let row_means: Vec<f64> = (0..h)
        .map(|y| vals[y * w..(y + 1) * w].iter().map(|&x| x as f64).sum::<f64>() / w.max(1) as f64)
        .collect();
    let mut col_means = vec![0f64; w];
    for r in vals.chunks_exact(w.max(1)) {
        for (c, &x) in col_means.iter_mut().zip(r) {
            *c += x as f64;
        }
    }
    for c in col_means.iter_mut() {
        *c /= h.max(1) as f64;
    }
    let third = (h / 3).max(1).min(h);
    let band = |r: &[f64]| {
        if r.is_empty() {
            0.0
        } else {
            r.iter().sum::<f64>() / r.len() as f64
        }
    };
    let balance = band(&row_means[..third]) - band(&row_means[h - third..]);
    let anisotropy = ((variance(&col_means) + 1e-4) / (variance(&row_means) + 1e-4)).ln();
    // uniform border: leading and trailing rows and columns whose values barely vary
    let row_flat = |y: usize| {
        let r = &vals[y * w..(y + 1) * w];
        let (lo, hi) = r.iter().fold((1f32, 0f32), |(a, b), &x| (a.min(x), b.max(x)));
        hi - lo < 0.03
    };
    let col_flat = |x: usize| {
        let (lo, hi) = (0..h).fold((1f32, 0f32), |(a, b), y| {
            (a.min(vals[y * w + x]), b.max(vals[y * w + x]))
        });
        hi - lo < 0.03
    };
    let top = (0..h).take_while(|&y| row_flat(y)).count();
    let bottom = (0..h).rev().take_while(|&y| row_flat(y)).count();
    let left = (0..w).take_while(|&x| col_flat(x)).count();
    let right = (0..w).rev().take_while(|&x| col_flat(x)).count();
    let inner_h = h.saturating_sub(top + bottom) as f64;
    let inner_w = w.saturating_sub(left + right) as f64;
    let border = 1.0 - (inner_w * inner_h) / (w * h).max(1) as f64;
    let grid = if w == 0 || h == 0 {
        vec![0.0; GRID * GRID]
    } else {
        view::shrink(vals, w, h, GRID, GRID)
    };
    ImageStats {
        content: [
            mean,
            std,
            median,
            empty,
            saturated,
            edges as f64 / pairs.max(1) as f64,
            entropy,
            v.chroma,
            symmetry,
            balance,
            anisotropy,
            border.clamp(0.0, 1.0),
        ],
        grid,
        width,
        height,
    }
}

/// The statistics of an image.
pub fn of_image(img: &PixelImage) -> ImageStats {
    of_view(&view::normalise(img), img.width, img.height)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::pixels::Pixels;

    /// A chest-like picture: two dark lung fields either side of a bright mediastinum, bright
    /// shoulders above and a bright abdomen below, with a texture that scales with the image.
    fn chest(w: u32, h: u32) -> PixelImage {
        let mut p = Vec::new();
        for y in 0..h {
            for x in 0..w {
                let (u, v) = (x as f64 / w as f64, y as f64 / h as f64);
                let lung = |cx: f64| ((u - cx) / 0.17).powi(2) + ((v - 0.45) / 0.3).powi(2) < 1.0;
                let mut val = 150.0 + 60.0 * v - 60.0 * (u - 0.5).abs();
                if lung(0.3) || lung(0.7) {
                    val = 50.0 + 20.0 * ((x * 32 / w + y * 32 / h) % 2) as f64;
                }
                p.push(val as u8);
            }
        }
        PixelImage {
            width: w,
            height: h,
            pixels: Pixels::Gray8(p),
            scan: None,
        }
    }

    fn transformed(img: &PixelImage, f: impl Fn(u32, u32, u32, u32) -> (u32, u32), out: (u32, u32)) -> PixelImage {
        let Pixels::Gray8(p) = &img.pixels else { unreachable!() };
        let mut q = vec![0u8; (out.0 * out.1) as usize];
        for y in 0..out.1 {
            for x in 0..out.0 {
                let (sx, sy) = f(x, y, img.width, img.height);
                q[(y * out.0 + x) as usize] = p[(sy * img.width + sx) as usize];
            }
        }
        PixelImage {
            width: out.0,
            height: out.1,
            pixels: Pixels::Gray8(q),
            scan: None,
        }
    }

    #[test]
    fn a_chest_is_mirror_symmetric_and_a_rotated_one_is_anisotropic_the_other_way() {
        let img = chest(300, 360);
        let s = of_image(&img);
        assert!(s.content[8] > 0.9, "symmetry {}", s.content[8]);
        let rot = transformed(&img, |x, y, _, h| (y, h - 1 - x), (360, 300));
        let r = of_image(&rot);
        assert!(r.content[8] < 0.8, "rotated symmetry {}", r.content[8]);
        assert!(
            (s.content[10] > 0.0) != (r.content[10] > 0.0),
            "anisotropy {} vs {}",
            s.content[10],
            r.content[10]
        );
    }

    #[test]
    fn flipping_upside_down_turns_the_balance_round_and_inverting_moves_the_median() {
        let img = chest(256, 256);
        let s = of_image(&img);
        let flip = of_image(&transformed(&img, |x, y, _, h| (x, h - 1 - y), (256, 256)));
        assert!(
            s.content[9].signum() != flip.content[9].signum() && s.content[9].abs() > 0.05,
            "balance {} vs {}",
            s.content[9],
            flip.content[9]
        );
        let Pixels::Gray8(p) = &img.pixels else { unreachable!() };
        let inv = of_image(&PixelImage {
            pixels: Pixels::Gray8(p.iter().map(|v| 255 - v).collect()),
            ..img.clone()
        });
        assert!(
            (s.content[2] - inv.content[2]).abs() > 0.2,
            "{} {}",
            s.content[2],
            inv.content[2]
        );
        assert!(correlation(&s.grid, &inv.grid) < -0.9);
    }

    #[test]
    fn padding_shows_as_a_uniform_border_and_an_empty_fraction() {
        let img = chest(200, 200);
        let padded = transformed(
            &img,
            |x, y, w, h| {
                if x < 200 && y < 200 {
                    (x.min(w - 1), y.min(h - 1))
                } else {
                    (0, 0)
                }
            },
            (200, 600),
        );
        // (0,0) of the chest is the abdomen's colour at the top: paint it black instead
        let Pixels::Gray8(mut q) = padded.pixels.clone() else {
            unreachable!()
        };
        for v in q.iter_mut().skip(200 * 200) {
            *v = 0;
        }
        let s = of_image(&PixelImage {
            pixels: Pixels::Gray8(q),
            ..padded
        });
        assert!(s.content[11] > 0.6, "uniform border {}", s.content[11]);
        assert!(s.content[3] > 0.6, "empty {}", s.content[3]);
        let plain = of_image(&img);
        assert!(plain.content[11] < 0.05, "{}", plain.content[11]);
    }

    #[test]
    fn resolution_alone_moves_no_content_statistic() {
        let a = of_image(&chest(2048, 2048));
        let b = of_image(&chest(512, 512));
        for (name, (x, y)) in CONTENT_NAMES.iter().zip(a.content.iter().zip(&b.content)) {
            assert!((x - y).abs() < 0.05, "{name}: {x} vs {y}");
        }
    }
}
