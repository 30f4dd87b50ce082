//! Synthetic radiographs built from a simple attenuation model: each structure adds (or, for
//! air-filled lungs, removes) density, and the detector value is `1 - exp(-k·density)` plus
//! quantum noise. Chest phantoms carry exact masks of both lungs and the heart and the
//! outlines of planted opacities; two out-of-distribution phantoms (a calibration bottle and a
//! knee) share the same physics.

use super::rng::Rng;
use crate::geometry::{BinaryMask, polygon};

/// An opacity drawn into a phantom (its ground truth).
#[derive(Debug, Clone)]
pub struct Opacity {
    pub cx: f64,
    pub cy: f64,
    pub rx: f64,
    pub ry: f64,
    /// Outline as a flat `[x0, y0, ...]` polygon (COCO segmentation).
    pub outline: Vec<f64>,
}

impl Opacity {
    pub fn bbox(&self) -> [f64; 4] {
        [self.cx - self.rx, self.cy - self.ry, 2.0 * self.rx, 2.0 * self.ry]
    }
}

pub struct Phantom {
    pub width: u32,
    pub height: u32,
    /// Detector values in [0, 1], row-major.
    pub image: Vec<f32>,
    pub right_lung: BinaryMask,
    pub left_lung: BinaryMask,
    pub heart: BinaryMask,
    pub opacities: Vec<Opacity>,
}

impl Phantom {
    /// An input with no chest anatomy (out-of-distribution phantoms): empty masks, no opacities.
    fn without_anatomy(width: u32, height: u32, image: Vec<f32>) -> Phantom {
        let empty = || BinaryMask::new(width, height);
        Phantom {
            width,
            height,
            image,
            right_lung: empty(),
            left_lung: empty(),
            heart: empty(),
            opacities: vec![],
        }
    }
}

/// Catmull–Rom spline through closed control points, `per` samples per segment.
fn spline(ctrl: &[(f64, f64)], per: usize) -> Vec<f64> {
    let n = ctrl.len();
    let mut out = Vec::with_capacity(n * per * 2);
    for i in 0..n {
        let p0 = ctrl[(i + n - 1) % n];
        let p1 = ctrl[i];
        let p2 = ctrl[(i + 1) % n];
        let p3 = ctrl[(i + 2) % n];
        for s in 0..per {
            let t = s as f64 / per as f64;
            let (t2, t3) = (t * t, t * t * t);
            let f = |a: f64, b: f64, c: f64, d: f64| {
                0.5 * (2.0 * b
                    + (-a + c) * t
                    + (2.0 * a - 5.0 * b + 4.0 * c - d) * t2
                    + (-a + 3.0 * b - 3.0 * c + d) * t3)
            };
            out.push(f(p0.0, p1.0, p2.0, p3.0));
            out.push(f(p0.1, p1.1, p2.1, p3.1));
        }
    }
    out
}

fn fill_polygon(xy: &[f64], w: u32, h: u32) -> BinaryMask {
    polygon::rasterize(xy, h, w).decode()
}

fn ellipse_mask(w: u32, h: u32, cx: f64, cy: f64, rx: f64, ry: f64, angle: f64) -> BinaryMask {
    let mut m = BinaryMask::new(w, h);
    let (s, c) = angle.sin_cos();
    for y in 0..h {
        for x in 0..w {
            let (dx, dy) = (x as f64 + 0.5 - cx, y as f64 + 0.5 - cy);
            let (u, v) = ((dx * c + dy * s) / rx, (-dx * s + dy * c) / ry);
            if u * u + v * v <= 1.0 {
                m.set(x, y, true);
            }
        }
    }
    m
}

/// Separable box blur of radius `r`, repeated `passes` times (≈ Gaussian).
pub fn blur(data: &mut [f32], w: usize, h: usize, r: usize, passes: usize) {
    let mut tmp = vec![0f32; data.len()];
    for _ in 0..passes {
        for y in 0..h {
            let row = &data[y * w..(y + 1) * w];
            let mut acc = 0f32;
            acc += row[..=r.min(w - 1)].iter().sum::<f32>();
            for x in 0..w {
                let lo = x.saturating_sub(r);
                let hi = (x + r).min(w - 1);
                tmp[y * w + x] = acc / (hi - lo + 1) as f32;
                if x + r + 1 < w {
                    acc += row[x + r + 1];
                }
                if x >= r {
                    acc -= row[x - r];
                }
            }
        }
        for x in 0..w {
            let mut acc = 0f32;
            for y in 0..=r.min(h - 1) {
                acc += tmp[y * w + x];
            }
            for y in 0..h {
                let lo = y.saturating_sub(r);
                let hi = (y + r).min(h - 1);
                data[y * w + x] = acc / (hi - lo + 1) as f32;
                if y + r + 1 < h {
                    acc += tmp[(y + r + 1) * w + x];
                }
                if y >= r {
                    acc -= tmp[(y - r) * w + x];
                }
            }
        }
    }
}

/// Smooth random field in [-1, 1] with features about `cell` pixels across.
fn value_noise(rng: &mut Rng, w: usize, h: usize, cell: f64) -> Vec<f32> {
    let gw = (w as f64 / cell).ceil() as usize + 2;
    let gh = (h as f64 / cell).ceil() as usize + 2;
    let grid: Vec<f64> = (0..gw * gh).map(|_| rng.range(-1.0, 1.0)).collect();
    let mut out = vec![0f32; w * h];
    for y in 0..h {
        let gy = y as f64 / cell;
        let (y0, fy) = (gy.floor() as usize, gy.fract());
        let sy = fy * fy * (3.0 - 2.0 * fy);
        for x in 0..w {
            let gx = x as f64 / cell;
            let (x0, fx) = (gx.floor() as usize, gx.fract());
            let sx = fx * fx * (3.0 - 2.0 * fx);
            let g = |i: usize, j: usize| grid[j * gw + i];
            let top = g(x0, y0) * (1.0 - sx) + g(x0 + 1, y0) * sx;
            let bot = g(x0, y0 + 1) * (1.0 - sx) + g(x0 + 1, y0 + 1) * sx;
            out[y * w + x] = (top * (1.0 - sy) + bot * sy) as f32;
        }
    }
    out
}

fn to_f32(m: &BinaryMask) -> Vec<f32> {
    m.as_slice().iter().map(|&v| v as f32).collect()
}

/// Turn densities into detector values with noise.
fn expose(density: &[f32], rng: &mut Rng, w: usize, h: usize, gain: f64, noise: f64) -> Vec<f32> {
    let mut grain: Vec<f32> = (0..w * h).map(|_| rng.normal() as f32).collect();
    blur(&mut grain, w, h, 1, 1);
    density
        .iter()
        .zip(&grain)
        .map(|(&d, &g)| {
            let v = 1.0 - (-gain * d as f64).exp();
            (v + noise * g as f64 * (0.3 + v)).clamp(0.0, 1.0) as f32
        })
        .collect()
}

/// A PA chest radiograph phantom with `n_opacities` opacities in the lungs.
#[allow(clippy::expect_used)] // cannot fail: the masks combined here are made at one size
pub fn chest(rng: &mut Rng, w: u32, h: u32, n_opacities: usize) -> Phantom {
    let (wf, hf) = (w as f64, h as f64);
    let (wu, hu) = (w as usize, h as usize);
    // per-patient variation
    let scale = rng.range(0.93, 1.05);
    let shift_x = rng.range(-0.015, 0.015);
    let shift_y = rng.range(-0.02, 0.02);
    let heart_size = rng.range(0.9, 1.25);
    let tx = |x: f64| ((x - 0.5) * scale + 0.5 + shift_x) * wf;
    let ty = |y: f64| ((y - 0.45) * scale + 0.45 + shift_y) * hf;
    let jitter = |rng: &mut Rng, p: (f64, f64)| (p.0 + rng.range(-0.008, 0.008), p.1 + rng.range(-0.008, 0.008));

    // right lung (patient's right = image left), clockwise from the apex
    let right_ctrl = [
        (0.33, 0.14),
        (0.39, 0.17),
        (0.43, 0.25),
        (0.445, 0.37),
        (0.45, 0.50),
        (0.445, 0.61),
        (0.425, 0.665),
        (0.35, 0.655),
        (0.27, 0.695),
        (0.185, 0.745),
        (0.16, 0.62),
        (0.165, 0.43),
        (0.2, 0.27),
        (0.265, 0.175),
    ];
    let left_ctrl = [
        (0.67, 0.145),
        (0.735, 0.18),
        (0.80, 0.27),
        (0.835, 0.43),
        (0.84, 0.62),
        (0.815, 0.755),
        (0.73, 0.71),
        (0.66, 0.69),
        (0.625, 0.62),
        (0.585, 0.50),
        (0.565, 0.37),
        (0.57, 0.25),
        (0.61, 0.17),
    ];
    let pts = |ctrl: &[(f64, f64)], rng: &mut Rng| -> Vec<f64> {
        let c: Vec<(f64, f64)> = ctrl
            .iter()
            .map(|&p| jitter(rng, p))
            .map(|(x, y)| (tx(x), ty(y)))
            .collect();
        spline(&c, 10)
    };
    let right_poly = pts(&right_ctrl, rng);
    let left_poly = pts(&left_ctrl, rng);
    let heart = ellipse_mask(
        w,
        h,
        tx(0.55),
        ty(0.595),
        0.15 * wf * scale * heart_size,
        0.115 * hf * scale * heart_size.sqrt(),
        rng.range(-0.4, -0.2),
    );
    let right_lung = fill_polygon(&right_poly, w, h).minus(&heart).expect("same size");
    let left_lung = fill_polygon(&left_poly, w, h).minus(&heart).expect("same size");
    let lungs = right_lung.union(&left_lung).expect("same size");

    let mut d = vec![0f32; wu * hu];
    // torso: soft tissue, thicker in the middle; shoulders at the top
    for y in 0..hu {
        let yn = y as f64 / hf;
        let shoulder = ((yn + 0.03) / 0.16).clamp(0.0, 1.0).sqrt();
        let half = (0.47 - 0.04 * (yn - 0.5).abs()) * shoulder * scale;
        for x in 0..wu {
            let u = (x as f64 / wf - 0.5 - shift_x) / half;
            if u.abs() < 1.0 {
                d[y * wu + x] = (0.85 * (1.0 - u * u).sqrt()) as f32;
            }
        }
    }
    blur(&mut d, wu, hu, 3, 2);
    // air in the lungs (soft edges), with vascular markings denser towards the hila
    let mut air = to_f32(&lungs);
    blur(&mut air, wu, hu, 4, 2);
    let vessels = value_noise(rng, wu, hu, 7.0);
    let vessels2 = value_noise(rng, wu, hu, 3.0);
    for i in 0..wu * hu {
        let (x, y) = ((i % wu) as f64 / wf, (i / wu) as f64 / hf);
        let hilum = (-(((x - 0.5).abs() - 0.08).powi(2) / 0.02 + (y - 0.45).powi(2) / 0.03)).exp();
        let markings = 0.05 + 0.12 * hilum;
        d[i] -= air[i] * (0.64 - (markings * (vessels[i] as f64 * 0.7 + vessels2[i] as f64 * 0.5).abs()) as f32);
    }
    // heart and mediastinum
    let mut heart_d = to_f32(&heart);
    blur(&mut heart_d, wu, hu, 3, 2);
    let mut med = vec![0f32; wu * hu];
    for y in 0..hu {
        let yn = y as f64 / hf;
        if !(0.05..0.7).contains(&yn) {
            continue;
        }
        let half = (0.055 + 0.02 * yn) * scale;
        for x in 0..wu {
            let u = (x as f64 / wf - 0.5 - shift_x) / half;
            if u.abs() < 1.0 {
                med[y * wu + x] = (1.0 - u * u).sqrt() as f32;
            }
        }
    }
    blur(&mut med, wu, hu, 4, 2);
    for i in 0..wu * hu {
        d[i] += 0.3 * heart_d[i] + 0.4 * med[i];
    }
    // spine: vertebrae as periodic bands behind the mediastinum
    for y in 0..hu {
        let yn = y as f64 / hf;
        let band = 0.5 + 0.5 * (yn * 70.0).sin();
        for x in 0..wu {
            let u = (x as f64 / wf - 0.5 - shift_x) / (0.032 * scale);
            if u.abs() < 1.0 {
                d[y * wu + x] += (0.22 + 0.1 * band) as f32 * (1.0 - u * u).sqrt() as f32;
            }
        }
    }
    // ribs: posterior arcs from the spine outwards and down; bright cortical edges
    let n_ribs = 10;
    let thick = 0.0135 * hf * scale;
    for side in [-1.0f64, 1.0] {
        for k in 0..n_ribs {
            let y0 = 0.11 + k as f64 * 0.052 + 0.0016 * (k * k) as f64 + rng.range(-0.004, 0.004);
            let reach = 0.33 - 0.01 * k as f64;
            for x in 0..wu {
                let xn = x as f64 / wf;
                let t = (xn - 0.5 - shift_x) * side / (reach * scale);
                if !(0.06..=1.0).contains(&t) {
                    continue;
                }
                let yc = ty(y0 - 0.045 * (std::f64::consts::PI * t * 0.8).sin() + 0.17 * t * t);
                let y_lo = (yc - thick).max(0.0) as usize;
                let y_hi = ((yc + thick) as usize).min(hu - 1);
                for y in y_lo..=y_hi {
                    let r = (y as f64 - yc).abs() / thick;
                    if r < 1.0 {
                        let cortex = if r > 0.65 { 0.16 } else { 0.09 };
                        d[y * wu + x] += (cortex * (1.0 - 0.4 * t)) as f32;
                    }
                }
            }
        }
        // clavicle
        for x in 0..wu {
            let t = (x as f64 / wf - 0.5 - shift_x) * side / 0.3;
            if !(0.08..=1.0).contains(&t) {
                continue;
            }
            let yc = ty(0.11 + 0.03 * t - 0.05 * t * t);
            for y in ((yc - thick * 1.1).max(0.0) as usize)..=((yc + thick * 1.1) as usize).min(hu - 1) {
                if (y as f64 - yc).abs() < thick * 1.1 {
                    d[y * wu + x] += 0.22;
                }
            }
        }
    }
    // opacities inside the lungs
    let mut opacities = Vec::new();
    let lung_pixels: Vec<usize> = (0..wu * hu).filter(|&i| lungs.as_slice()[i] != 0).collect();
    let mut tries = 0;
    while opacities.len() < n_opacities && tries < 200 && !lung_pixels.is_empty() {
        tries += 1;
        let i = lung_pixels[rng.below(lung_pixels.len())];
        let (cx, cy) = ((i % wu) as f64 + 0.5, (i / wu) as f64 + 0.5);
        let (rx, ry) = (rng.range(0.025, 0.07) * wf, rng.range(0.025, 0.06) * hf);
        // keep the opacity mostly inside the lung: its box corners must be lung (or heart-adjacent)
        let inside = [
            (cx - rx * 0.7, cy),
            (cx + rx * 0.7, cy),
            (cx, cy - ry * 0.7),
            (cx, cy + ry * 0.7),
        ]
        .iter()
        .all(|&(x, y)| lungs.get(x as u32, y as u32));
        if !inside
            || opacities
                .iter()
                .any(|o: &Opacity| (o.cx - cx).abs() < o.rx + rx && (o.cy - cy).abs() < o.ry + ry)
        {
            continue;
        }
        let strength = rng.range(0.25, 0.45);
        let lobes = rng.range(0.1, 0.25);
        let phase = rng.range(0.0, 6.3);
        let outline: Vec<f64> = (0..24)
            .flat_map(|k| {
                let a = k as f64 / 24.0 * std::f64::consts::TAU;
                let r = 1.0 + lobes * (3.0 * a + phase).sin() * 0.5;
                [cx + rx * r * a.cos() * 0.92, cy + ry * r * a.sin() * 0.92]
            })
            .collect();
        for y in ((cy - ry * 1.6).max(0.0) as usize)..((cy + ry * 1.6) as usize).min(hu) {
            for x in ((cx - rx * 1.6).max(0.0) as usize)..((cx + rx * 1.6) as usize).min(wu) {
                let (u, v) = ((x as f64 + 0.5 - cx) / rx, (y as f64 + 0.5 - cy) / ry);
                let r2 = u * u + v * v;
                d[y * wu + x] +=
                    (strength * (-1.6 * r2 * r2).exp() * (0.8 + 0.4 * vessels2[y * wu + x].abs() as f64)) as f32;
            }
        }
        opacities.push(Opacity {
            cx,
            cy,
            rx,
            ry,
            outline,
        });
    }
    let gain = rng.range(1.3, 1.7);
    let noise = rng.range(0.012, 0.022);
    let image = expose(&d, rng, wu, hu, gain, noise);
    Phantom {
        width: w,
        height: h,
        image,
        right_lung,
        left_lung,
        heart,
        opacities,
    }
}

/// A calibration phantom: a water bottle with inserts, photographed instead of a patient.
pub fn bottle(rng: &mut Rng, w: u32, h: u32) -> Phantom {
    let (wu, hu) = (w as usize, h as usize);
    let (wf, hf) = (w as f64, h as f64);
    let mut d = vec![0f32; wu * hu];
    let (cx, top, bottom, half) = (0.5 * wf, 0.2 * hf, 0.88 * hf, 0.2 * wf);
    for y in 0..hu {
        let yf = y as f64;
        let hw = if yf < top {
            if yf > 0.08 * hf { 0.06 * wf } else { 0.0 }
        } else if yf < top + 0.08 * hf {
            0.06 * wf + (half - 0.06 * wf) * ((yf - top) / (0.08 * hf)).sqrt()
        } else if yf < bottom {
            half
        } else {
            0.0
        };
        for x in 0..wu {
            if hw <= 0.0 {
                break;
            }
            let u = (x as f64 - cx) / hw;
            if u.abs() < 1.0 {
                d[y * wu + x] = (1.6 * (1.0 - u * u).sqrt()) as f32;
            }
        }
    }
    for (k, dens) in [0.3f32, 0.6, 0.9, 1.2].iter().enumerate() {
        let (ix, iy) = (cx + (k as f64 - 1.5) * 0.08 * wf, 0.6 * hf);
        for y in 0..hu {
            for x in 0..wu {
                if ((x as f64 - ix).powi(2) + (y as f64 - iy).powi(2)).sqrt() < 0.025 * wf {
                    d[y * wu + x] += dens;
                }
            }
        }
    }
    blur(&mut d, wu, hu, 2, 2);
    let image = expose(&d, rng, wu, hu, 1.2, 0.015);
    Phantom::without_anatomy(w, h, image)
}

/// A knee radiograph (another body part in a chest stream).
pub fn knee(rng: &mut Rng, w: u32, h: u32) -> Phantom {
    let (wu, hu) = (w as usize, h as usize);
    let (wf, hf) = (w as f64, h as f64);
    let mut d = vec![0f32; wu * hu];
    for y in 0..hu {
        let yn = y as f64 / hf;
        for x in 0..wu {
            let xn = x as f64 / wf;
            let soft = (xn - 0.5).abs() / 0.3;
            let mut v = if soft < 1.0 {
                0.7 * (1.0 - soft * soft).sqrt()
            } else {
                0.0
            };
            // femur (top) and tibia (bottom) with a joint space; condyles widen towards the joint
            let (bone_half, in_bone) = if yn < 0.47 {
                (0.09 + 0.07 * ((yn - 0.3).max(0.0) / 0.17).powi(2), true)
            } else if yn > 0.52 {
                (0.085 + 0.06 * ((0.7 - yn).max(0.0) / 0.18).powi(2), true)
            } else {
                (0.0, false)
            };
            if in_bone {
                let u = (xn - 0.5).abs() / bone_half;
                if u < 1.0 {
                    v += if u > 0.8 { 0.9 } else { 0.45 };
                }
            }
            // patella
            if ((xn - 0.56) / 0.05).powi(2) + ((yn - 0.42) / 0.07).powi(2) < 1.0 {
                v += 0.35;
            }
            d[y * wu + x] = v as f32;
        }
    }
    blur(&mut d, wu, hu, 2, 2);
    let image = expose(&d, rng, wu, hu, 1.5, 0.018);
    Phantom::without_anatomy(w, h, image)
}
