//! Polygon rasterisation exactly as pycocotools' `rleFrPoly` does it: the outline is
//! upsampled ×5, walked with a DDA, and pixel centres are kept where the boundary crosses them.
//! Ported line for line; it is easy to be off by one here, and pycocotools is the reference.

use super::rle::Rle;

/// Rasterise one polygon given as a flat `[x0, y0, x1, y1, ...]` list into an `h` × `w` RLE.
/// An odd trailing coordinate is ignored, as pycocotools does (`len(poly) // 2` points).
pub fn rasterize(xy: &[f64], h: u32, w: u32) -> Rle {
    let k = xy.len() / 2;
    let scale = 5.0f64;
    // (int)(scale*x + .5): C truncation toward zero, not floor
    let mut x: Vec<i32> = (0..k).map(|j| c_int(scale * xy[j * 2] + 0.5)).collect();
    let mut y: Vec<i32> = (0..k).map(|j| c_int(scale * xy[j * 2 + 1] + 0.5)).collect();
    if k == 0 {
        return finish(&mut Vec::new(), h, w);
    }
    x.push(x[0]);
    y.push(y[0]);
    let mut total = 0usize;
    for j in 0..k {
        total += (x[j] - x[j + 1]).unsigned_abs().max((y[j] - y[j + 1]).unsigned_abs()) as usize + 1;
    }
    let mut u: Vec<i32> = Vec::with_capacity(total);
    let mut v: Vec<i32> = Vec::with_capacity(total);
    for j in 0..k {
        let (mut xs, mut xe, mut ys, mut ye) = (x[j], x[j + 1], y[j], y[j + 1]);
        let dx = (xe - xs).abs();
        let dy = (ys - ye).abs();
        let flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
        if flip {
            std::mem::swap(&mut xs, &mut xe);
            std::mem::swap(&mut ys, &mut ye);
        }
        let s = if dx >= dy {
            (ye - ys) as f64 / dx as f64
        } else {
            (xe - xs) as f64 / dy as f64
        };
        if dx >= dy {
            for d in 0..=dx {
                let t = if flip { dx - d } else { d };
                u.push(t + xs);
                v.push(c_int(ys as f64 + s * t as f64 + 0.5));
            }
        } else {
            for d in 0..=dy {
                let t = if flip { dy - d } else { d };
                v.push(t + ys);
                u.push(c_int(xs as f64 + s * t as f64 + 0.5));
            }
        }
    }
    // points along the y-boundary, downsampled
    let mut a: Vec<u32> = Vec::with_capacity(u.len() + 1);
    for j in 1..u.len() {
        if u[j] == u[j - 1] {
            continue;
        }
        let xd = if u[j] < u[j - 1] { u[j] } else { u[j] - 1 } as f64;
        let xd = (xd + 0.5) / scale - 0.5;
        if xd.floor() != xd || xd < 0.0 || xd > (w as f64 - 1.0) {
            continue;
        }
        let yd = if v[j] < v[j - 1] { v[j] } else { v[j - 1] } as f64;
        let mut yd = (yd + 0.5) / scale - 0.5;
        if yd < 0.0 {
            yd = 0.0;
        } else if yd > h as f64 {
            yd = h as f64;
        }
        let yd = yd.ceil();
        a.push(((xd as i32).wrapping_mul(h as i32).wrapping_add(yd as i32)) as u32);
    }
    finish(&mut a, h, w)
}

fn finish(a: &mut Vec<u32>, h: u32, w: u32) -> Rle {
    a.push(h.wrapping_mul(w));
    a.sort_unstable();
    let mut p = 0u32;
    for t in a.iter_mut() {
        let cur = *t;
        *t = cur.wrapping_sub(p);
        p = cur;
    }
    let mut b: Vec<u32> = Vec::with_capacity(a.len());
    let mut j = 0usize;
    b.push(a[j]);
    j += 1;
    while j < a.len() {
        if a[j] > 0 {
            b.push(a[j]);
            j += 1;
        } else {
            j += 1;
            if j < a.len() {
                let last = b.len() - 1;
                b[last] += a[j];
                j += 1;
            }
        }
    }
    Rle { h, w, counts: b }
}

/// C's `(int)double`: truncation toward zero, saturating (Rust's `as`) where C would be undefined.
fn c_int(v: f64) -> i32 {
    v as i32
}

/// Rasterise a multi-part polygon (COCO `segmentation: [[...], [...]]`): one RLE per part,
/// then their union, as pycocotools' `annToRLE` does.
pub fn rasterize_parts(parts: &[Vec<f64>], h: u32, w: u32) -> Rle {
    let rles: Vec<Rle> = parts.iter().map(|p| rasterize(p, h, w)).collect();
    Rle::merge(&rles, false)
}

/// Area of a polygon by the shoelace formula (for reports; COCO areas come from the RLE).
pub fn shoelace_area(xy: &[f64]) -> f64 {
    let k = xy.len() / 2;
    if k < 3 {
        return 0.0;
    }
    let mut s = 0.0;
    for j in 0..k {
        let (x0, y0) = (xy[2 * j], xy[2 * j + 1]);
        let (x1, y1) = (xy[2 * ((j + 1) % k)], xy[2 * ((j + 1) % k) + 1]);
        s += x0 * y1 - x1 * y0;
    }
    s.abs() / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_square_covers_four_pixels() {
        // pycocotools.md: [0,0, 0,2, 2,2, 2,0] covers x, y in {0, 1}: area 4, bbox [0,0,2,2]
        let r = rasterize(&[0.0, 0.0, 0.0, 2.0, 2.0, 2.0, 2.0, 0.0], 5, 5);
        assert_eq!(r.area(), 4);
        assert_eq!(r.to_bbox().to_array(), [0.0, 0.0, 2.0, 2.0]);
        let m = r.decode();
        assert!(m.get(0, 0) && m.get(1, 1) && !m.get(2, 2));
    }

    #[test]
    fn polygon_outside_the_image_is_empty() {
        let r = rasterize(&[-10.0, -10.0, -5.0, -10.0, -5.0, -5.0], 8, 8);
        assert_eq!(r.area(), 0);
        assert_eq!(r.counts.iter().map(|&c| c as u64).sum::<u64>(), 64);
    }
}
