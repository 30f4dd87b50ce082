//! Polygon rasterisation exactly as pycocotools' `rleFrPoly` does it: the outline is
//! upsampled ×5, walked with a DDA, and pixel centres are kept where the boundary crosses them.
//! Ported line for line; it is easy to be off by one here, and pycocotools is the reference.

use super::rle::Rle;

/// Rasterise one polygon given as a flat `[x0, y0, x1, y1, ...]` list into an `h` × `w` RLE.
/// An odd trailing coordinate is ignored, as pycocotools does (`len(poly) // 2` points).
///
/// pycocotools walks every point of the ×5 outline, so one vertex at 1e9 makes it (and a plain
/// port) allocate billions of points. This walk gives the same result without storing the
/// outline: only points whose column lies on the image can add a boundary, so each edge is
/// entered where its column first reaches the image (a binary search: the column is monotone
/// along an edge) and, on steep edges, jumps from one column change to the next. Work and
/// memory are O(columns the outline crosses on the image), however far the vertices lie.
/// Coordinates beyond ±4.29e8 saturate where pycocotools' C cast is undefined.
pub fn rasterize(xy: &[f64], h: u32, w: u32) -> Rle {
    let k = xy.len() / 2;
    let scale = 5.0f64;
    if k == 0 {
        return finish(&mut Vec::new(), h, w);
    }
    // (int)(scale*x + .5): C truncation toward zero, not floor
    let mut x: Vec<i64> = (0..k).map(|j| c_int(scale * xy[j * 2] + 0.5) as i64).collect();
    let mut y: Vec<i64> = (0..k).map(|j| c_int(scale * xy[j * 2 + 1] + 0.5) as i64).collect();
    x.push(x[0]);
    y.push(y[0]);
    // columns (in ×5 units) that can add a boundary point, with a margin
    let (lo, hi) = (-1i64, scale as i64 * w as i64 + 1);
    let mut a: Vec<u32> = Vec::new();
    let mut prev: Option<(i64, i64)> = None;
    let mut emit = |prev: &mut Option<(i64, i64)>, (u, v): (i64, i64)| {
        if let Some((pu, pv)) = *prev
            && u != pu
        {
            let xd = if u < pu { u } else { u - 1 } as f64;
            let xd = (xd + 0.5) / scale - 0.5;
            if xd.floor() == xd && xd >= 0.0 && xd <= (w as f64 - 1.0) {
                let yd = if v < pv { v } else { pv } as f64;
                let mut yd = (yd + 0.5) / scale - 0.5;
                if yd < 0.0 {
                    yd = 0.0;
                } else if yd > h as f64 {
                    yd = h as f64;
                }
                let yd = yd.ceil();
                a.push(((xd as i32).wrapping_mul(h as i32).wrapping_add(yd as i32)) as u32);
            }
        }
        *prev = Some((u, v));
    };
    for j in 0..k {
        let (mut xs, mut xe, mut ys, mut ye) = (x[j], x[j + 1], y[j], y[j + 1]);
        let dx = (xe - xs).abs();
        let dy = (ys - ye).abs();
        let flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
        if flip {
            std::mem::swap(&mut xs, &mut xe);
            std::mem::swap(&mut ys, &mut ye);
        }
        let shallow = dx >= dy;
        let n = if shallow { dx } else { dy };
        let s = if shallow {
            (ye - ys) as f64 / dx as f64
        } else {
            (xe - xs) as f64 / dy as f64
        };
        // the d-th point of the edge as pycocotools walks it (from the edge's first vertex)
        let point = |d: i64| -> (i64, i64) {
            let t = if flip { n - d } else { d };
            if shallow {
                (t + xs, c_int(ys as f64 + s * t as f64 + 0.5) as i64)
            } else {
                (c_int(xs as f64 + s * t as f64 + 0.5) as i64, t + ys)
            }
        };
        let col = |d: i64| point(d).0;
        // the column is monotone in d: rising when it ends higher than it starts
        let rising = col(n) >= col(0);
        let before = |d: i64, c: i64| if rising { col(d) < c } else { col(d) > c };
        // first d whose column has reached the image's side the edge comes from
        let first_in = partition(0, n + 1, |d| before(d, if rising { lo } else { hi }));
        let mut d = first_in;
        if d > 0 && d <= n {
            prev = Some(point(d - 1));
        }
        while d <= n {
            let p = point(d);
            if p.0 < lo || p.0 > hi {
                break;
            }
            emit(&mut prev, p);
            // next point with another column: every point between has this one and adds nothing
            let next = if d < n && col(d + 1) != p.0 {
                d + 1
            } else {
                partition(d + 1, n + 1, |e| col(e) == p.0)
            };
            if next > d + 1 && next <= n {
                prev = Some(point(next - 1));
            }
            d = next;
        }
        prev = Some(point(n));
    }
    finish(&mut a, h, w)
}

/// The first index in `lo..hi` where `pred` is false, for a `pred` that is true then false.
fn partition(mut lo: i64, mut hi: i64, pred: impl Fn(i64) -> bool) -> i64 {
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// The same rasterisation walked point by point, as pycocotools does (the test oracle).
#[cfg(test)]
fn rasterize_walked(xy: &[f64], h: u32, w: u32) -> Rle {
    let k = xy.len() / 2;
    let scale = 5.0f64;
    let mut x: Vec<i32> = (0..k).map(|j| c_int(scale * xy[j * 2] + 0.5)).collect();
    let mut y: Vec<i32> = (0..k).map(|j| c_int(scale * xy[j * 2 + 1] + 0.5)).collect();
    if k == 0 {
        return finish(&mut Vec::new(), h, w);
    }
    x.push(x[0]);
    y.push(y[0]);
    let (mut u, mut v): (Vec<i32>, Vec<i32>) = (Vec::new(), Vec::new());
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
    fn a_vertex_at_1e9_costs_nothing() {
        // pycocotools would walk 5e9 points; the result is the triangle's part on the image
        let r = rasterize(&[2.0, 2.0, 1e9, 3.0, 2.0, 9.0], 12, 16);
        assert!(r.area() > 0 && r.counts.iter().map(|&c| c as u64).sum::<u64>() == 192);
        let far = rasterize(&[1e12, -1e12, -1e12, 1e12, 1e12, 1e12], 12, 16);
        assert_eq!(far.counts.iter().map(|&c| c as u64).sum::<u64>(), 192);
    }

    proptest::proptest! {
        /// The clipped walk gives exactly pycocotools' point-by-point result.
        #[test]
        fn clipped_walk_equals_the_full_walk(
            pts in proptest::collection::vec((-80.0f64..120.0, -80.0f64..120.0), 0..9),
            w in 1u32..40, h in 1u32..40,
            snap in proptest::bool::ANY,
        ) {
            let xy: Vec<f64> = pts.iter().flat_map(|&(x, y)| if snap { [x.round(), y.round()] } else { [x, y] }).collect();
            proptest::prop_assert_eq!(rasterize(&xy, h, w), rasterize_walked(&xy, h, w));
        }
    }

    #[test]
    fn polygon_outside_the_image_is_empty() {
        let r = rasterize(&[-10.0, -10.0, -5.0, -10.0, -5.0, -5.0], 8, 8);
        assert_eq!(r.area(), 0);
        assert_eq!(r.counts.iter().map(|&c| c as u64).sum::<u64>(), 64);
    }
}
