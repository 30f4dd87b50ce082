//! The cost of the out-of-distribution statistics per image, side by side with the statistics
//! before the normalised view (version 1, kept here only to be timed), on the same decoded
//! images, and the decoding itself. Usage: ood_speed PACK [REPEATS]
#![allow(clippy::unwrap_used, clippy::expect_used)]
use lightbox::formats::pixels::PixelImage;
use std::time::Instant;

/// Version 1: ten statistics on the raw image subsampled to about 256 columns.
fn stats_v1(img: &PixelImage) -> [f64; 10] {
    let (w, h) = (img.width as usize, img.height as usize);
    let step = (w.max(h) / 256).max(1);
    let mut v: Vec<f64> = Vec::with_capacity((w / step + 1) * (h / step + 1));
    for y in (0..h).step_by(step) {
        for x in (0..w).step_by(step) {
            v.push(img.value(x as u32, y as u32) as f64);
        }
    }
    let gw = w.div_ceil(step);
    let mut sorted = v.clone();
    sorted.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let q = |p: f64| sorted[((sorted.len() - 1) as f64 * p) as usize];
    let top = q(0.995).max(1.0);
    let n = v.len() as f64;
    let norm: Vec<f64> = v.iter().map(|x| (x / top).min(1.0)).collect();
    let mean = norm.iter().sum::<f64>() / n;
    let std = (norm.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
    let dark = norm.iter().filter(|&&x| x < 0.1).count() as f64 / n;
    let bright = norm.iter().filter(|&&x| x > 0.9).count() as f64 / n;
    let mut edges = 0usize;
    let mut pairs = 0usize;
    for i in 0..norm.len() {
        if (i + 1) % gw != 0 && i + 1 < norm.len() {
            pairs += 1;
            if (norm[i + 1] - norm[i]).abs() > 0.08 {
                edges += 1;
            }
        }
    }
    let mut hist = [0usize; 32];
    for &x in &norm {
        hist[((x * 31.999) as usize).min(31)] += 1;
    }
    let entropy = -hist
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| c as f64 / n)
        .map(|p| p * p.log2())
        .sum::<f64>();
    [
        w as f64 / h as f64,
        mean,
        std,
        q(0.5) / top,
        q(0.05) / top,
        dark,
        bright,
        edges as f64 / pairs.max(1) as f64,
        entropy,
        ((w * h) as f64).log2(),
    ]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let pack = lightbox::pack::Pack::open(std::path::Path::new(&args.next().unwrap())).unwrap();
    let repeats: usize = args.next().map(|s| s.parse().unwrap()).unwrap_or(5);
    let t = Instant::now();
    let images: Vec<PixelImage> = pack
        .cases
        .iter()
        .map(|c| lightbox::formats::image::decode(&c.image).unwrap())
        .collect();
    let decode = t.elapsed().as_secs_f64() / images.len() as f64;
    let time = |f: &dyn Fn(&PixelImage)| {
        let t = Instant::now();
        for _ in 0..repeats {
            for i in &images {
                f(i);
            }
        }
        t.elapsed().as_secs_f64() / (repeats * images.len()) as f64
    };
    let v1 = time(&|i| {
        std::hint::black_box(stats_v1(i));
    });
    let v2 = time(&|i| {
        std::hint::black_box(lightbox::ood::statistics::of_image(i));
    });
    println!(
        "{} images ({}×{} first), one thread: decode {:.2} ms; statistics v1 {:.3} ms, v2 {:.3} ms ({:.1}× v1); decode + statistics v2 / v1 {:.2}×",
        images.len(),
        images[0].width,
        images[0].height,
        decode * 1e3,
        v1 * 1e3,
        v2 * 1e3,
        v2 / v1,
        (decode + v2) / (decode + v1)
    );
}
