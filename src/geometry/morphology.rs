//! Morphology on binary masks: exact Euclidean distance transform (Felzenszwalb & Huttenlocher
//! 2012), dilation and erosion by a disc of any radius in O(pixels), filled convex hull, hole
//! filling and the largest component.

use super::components::{self, Connectivity};
use super::mask::BinaryMask;
use super::polygon;

const INF: f64 = 1e20;

/// Squared Euclidean distance transform along one line (F&H lower envelope of parabolas).
fn edt_1d(f: &[f64], d: &mut [f64], v: &mut [usize], z: &mut [f64]) {
    let n = f.len();
    if n == 0 {
        return;
    }
    let mut k = 0usize;
    v[0] = 0;
    z[0] = -INF;
    z[1] = INF;
    for q in 1..n {
        loop {
            let p = v[k];
            let s = ((f[q] + (q * q) as f64) - (f[p] + (p * p) as f64)) / (2.0 * q as f64 - 2.0 * p as f64);
            if s <= z[k] && k > 0 {
                k -= 1;
                continue;
            }
            if s <= z[k] {
                // k == 0: replace the first parabola
                v[0] = q;
                z[0] = -INF;
                z[1] = INF;
                break;
            }
            k += 1;
            v[k] = q;
            z[k] = s;
            z[k + 1] = INF;
            break;
        }
    }
    k = 0;
    for (q, dq) in d.iter_mut().enumerate().take(n) {
        while z[k + 1] < q as f64 {
            k += 1;
        }
        let p = v[k];
        *dq = (q as f64 - p as f64).powi(2) + f[p];
    }
}

/// Squared distance from every pixel to the nearest foreground pixel (0 on the foreground).
pub fn squared_distance_to(mask: &BinaryMask) -> Vec<f64> {
    let (w, h) = (mask.width() as usize, mask.height() as usize);
    let mut grid: Vec<f64> = mask
        .as_slice()
        .iter()
        .map(|&v| if v != 0 { 0.0 } else { INF })
        .collect();
    let n = w.max(h);
    let (mut f, mut d, mut v, mut z) = (vec![0.0; n], vec![0.0; n], vec![0usize; n], vec![0.0; n + 1]);
    for x in 0..w {
        for y in 0..h {
            f[y] = grid[y * w + x];
        }
        edt_1d(&f[..h], &mut d[..h], &mut v, &mut z);
        for y in 0..h {
            grid[y * w + x] = d[y];
        }
    }
    for y in 0..h {
        f[..w].copy_from_slice(&grid[y * w..(y + 1) * w]);
        edt_1d(&f[..w], &mut d[..w], &mut v, &mut z);
        grid[y * w..(y + 1) * w].copy_from_slice(&d[..w]);
    }
    grid
}

/// The pixels within Euclidean distance `r` of a pixel whose value is `want`, built from runs: a
/// disc is a stack of rows, so each output row is the union of the source runs of the rows within
/// `r`, each widened by that row's half-width of the disc.
fn grow_runs(mask: &BinaryMask, want: u8, r: f64) -> BinaryMask {
    let (w, h) = (mask.width() as usize, mask.height() as usize);
    let r2 = r * r;
    let ry = r.floor() as i64;
    // largest dx with dx² + dy² <= r², for dy = 0..=ry
    let half: Vec<i64> = (0..=ry)
        .map(|dy| {
            let mut dx = (r2 - (dy * dy) as f64).max(0.0).sqrt().floor() as i64;
            while ((dx + 1) * (dx + 1) + dy * dy) as f64 <= r2 {
                dx += 1;
            }
            while dx > 0 && (dx * dx + dy * dy) as f64 > r2 {
                dx -= 1;
            }
            dx
        })
        .collect();
    let runs: Vec<Vec<(i64, i64)>> = mask
        .as_slice()
        .chunks_exact(w.max(1))
        .map(|row| {
            super::mask::row_runs(row, want != 0)
                .map(|(s, e)| (s as i64, e as i64))
                .collect()
        })
        .collect();
    let mut out = BinaryMask::new(mask.width(), mask.height());
    let mut spans: Vec<(i64, i64)> = Vec::new();
    let data = out.as_mut_slice();
    for y in 0..h as i64 {
        spans.clear();
        for dy in -ry..=ry {
            let sy = y + dy;
            if sy < 0 || sy >= h as i64 {
                continue;
            }
            let hw = half[dy.unsigned_abs() as usize];
            spans.extend(
                runs[sy as usize]
                    .iter()
                    .map(|&(s, e)| ((s - hw).max(0), (e + hw).min(w as i64))),
            );
        }
        if spans.is_empty() {
            continue;
        }
        spans.sort_unstable();
        let row = &mut data[y as usize * w..(y as usize + 1) * w];
        let (mut cs, mut ce) = spans[0];
        for &(s, e) in &spans[1..] {
            if s > ce {
                row[cs as usize..ce as usize].fill(1);
                (cs, ce) = (s, e);
            } else {
                ce = ce.max(e);
            }
        }
        row[cs as usize..ce as usize].fill(1);
    }
    out
}

/// Pixels within distance `r` of the mask (a disc-shaped dilation; exact Euclidean distances
/// between pixel centres).
pub fn dilate(mask: &BinaryMask, r: f64) -> BinaryMask {
    if r <= 0.0 || mask.area() == 0 {
        return mask.clone();
    }
    grow_runs(mask, 1, r)
}

/// Pixels farther than `r` from the background (a disc-shaped erosion; pixels outside the image
/// are not background).
pub fn erode(mask: &BinaryMask, r: f64) -> BinaryMask {
    if r <= 0.0 {
        return mask.clone();
    }
    let near_bg = grow_runs(mask, 0, r);
    let data = near_bg
        .as_slice()
        .iter()
        .zip(mask.as_slice())
        .map(|(&n, &m)| (m != 0 && n == 0) as u8)
        .collect();
    BinaryMask::from_row_major(mask.width(), mask.height(), data).expect("same size")
}

pub fn complement(mask: &BinaryMask) -> BinaryMask {
    let data = mask.as_slice().iter().map(|&v| (v == 0) as u8).collect();
    BinaryMask::from_row_major(mask.width(), mask.height(), data).expect("same size")
}

/// The filled convex hull of the foreground (pixel squares), rasterised as pycocotools would.
pub fn convex_hull(mask: &BinaryMask) -> BinaryMask {
    let (w, h) = (mask.width(), mask.height());
    let mut pts: Vec<(i64, i64)> = Vec::new();
    for (y, row) in mask.as_slice().chunks_exact(w.max(1) as usize).enumerate() {
        let (Some(a), Some(b)) = (row.iter().position(|&v| v != 0), row.iter().rposition(|&v| v != 0)) else {
            continue;
        };
        let y = y as i64;
        for x in [a as i64, b as i64 + 1] {
            pts.push((x, y));
            pts.push((x, y + 1));
        }
    }
    if pts.len() < 3 {
        return mask.clone();
    }
    pts.sort_unstable();
    pts.dedup();
    let cross = |o: (i64, i64), a: (i64, i64), b: (i64, i64)| (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0);
    let mut lower: Vec<(i64, i64)> = Vec::new();
    for &p in &pts {
        while lower.len() >= 2 && cross(lower[lower.len() - 2], lower[lower.len() - 1], p) <= 0 {
            lower.pop();
        }
        lower.push(p);
    }
    let mut upper: Vec<(i64, i64)> = Vec::new();
    for &p in pts.iter().rev() {
        while upper.len() >= 2 && cross(upper[upper.len() - 2], upper[upper.len() - 1], p) <= 0 {
            upper.pop();
        }
        upper.push(p);
    }
    lower.pop();
    upper.pop();
    lower.extend(upper);
    let xy: Vec<f64> = lower.iter().flat_map(|&(x, y)| [x as f64, y as f64]).collect();
    // the polygon through pixel corners covers the pixels whose centres lie inside; union with
    // the mask so no foreground pixel is lost on the hull's edge
    let hull = polygon::rasterize(&xy, h, w).decode();
    hull.union(mask).expect("same size")
}

/// The mask with its holes filled.
pub fn fill_holes(mask: &BinaryMask) -> BinaryMask {
    let (labels, comps) = components::label(mask, false, Connectivity::Four);
    let enclosed: Vec<bool> = comps.iter().map(|c| !c.touches_border).collect();
    let data = mask
        .as_slice()
        .iter()
        .zip(&labels)
        .map(|(&m, &l)| (m != 0 || (l > 0 && enclosed[l as usize - 1])) as u8)
        .collect();
    BinaryMask::from_row_major(mask.width(), mask.height(), data).expect("same size")
}

/// The largest connected component (8-connected), or an empty mask.
pub fn largest_component(mask: &BinaryMask) -> BinaryMask {
    let (labels, comps) = components::label(mask, true, Connectivity::Eight);
    let Some((best, _)) = comps.iter().enumerate().max_by_key(|(_, c)| c.area) else {
        return mask.clone();
    };
    let id = best as u32 + 1;
    let data = labels.iter().map(|&l| (l == id) as u8).collect();
    BinaryMask::from_row_major(mask.width(), mask.height(), data).expect("same size")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disc(w: u32, cx: f64, cy: f64, r: f64) -> BinaryMask {
        let mut m = BinaryMask::new(w, w);
        for y in 0..w {
            for x in 0..w {
                if ((x as f64 - cx).powi(2) + (y as f64 - cy).powi(2)).sqrt() <= r {
                    m.set(x, y, true);
                }
            }
        }
        m
    }

    proptest::proptest! {
        #[test]
        fn run_dilation_and_erosion_equal_the_distance_transform(
            w in 1u32..30, h in 1u32..30, seed in 0u64..u64::MAX, r in 0.3f64..9.0, density in 0.02f64..0.7
        ) {
            let m = crate::geometry::mask::random_mask(w, h, seed, density);
            let d = squared_distance_to(&m);
            let want: Vec<u8> = d.iter().map(|&v| (v <= r * r) as u8).collect();
            let got = dilate(&m, r);
            proptest::prop_assert_eq!(got.as_slice(), &want[..]);
            let inv = squared_distance_to(&complement(&m));
            let want: Vec<u8> = inv.iter().zip(m.as_slice()).map(|(&v, &x)| (x != 0 && v > r * r) as u8).collect();
            let got = erode(&m, r);
            proptest::prop_assert_eq!(got.as_slice(), &want[..]);
        }
    }

    #[test]
    fn dilating_a_point_gives_a_disc_and_erosion_undoes_it() {
        let p = disc(41, 20.0, 20.0, 0.0);
        let d = dilate(&p, 10.0);
        assert_eq!(d, disc(41, 20.0, 20.0, 10.0));
        let e = erode(&d, 10.0);
        assert_eq!(e.area(), 1);
        assert!(e.get(20, 20));
    }

    #[test]
    fn windowed_dilation_equals_the_full_one() {
        let m = disc(80, 20.0, 60.0, 5.0).union(&disc(80, 70.0, 10.0, 3.0)).unwrap();
        for r in [1.0, 1.5, 4.0, 12.0, 30.0] {
            let d = squared_distance_to(&m);
            let full = BinaryMask::from_row_major(80, 80, d.iter().map(|&v| (v <= r * r) as u8).collect()).unwrap();
            assert_eq!(dilate(&m, r), full, "r = {r}");
        }
    }

    #[test]
    fn distance_transform_is_exact_euclidean() {
        let mut m = BinaryMask::new(30, 20);
        m.set(3, 4, true);
        m.set(25, 15, true);
        let d = squared_distance_to(&m);
        for y in 0..20u32 {
            for x in 0..30u32 {
                let a = (x as f64 - 3.0).powi(2) + (y as f64 - 4.0).powi(2);
                let b = (x as f64 - 25.0).powi(2) + (y as f64 - 15.0).powi(2);
                assert_eq!(d[(y * 30 + x) as usize], a.min(b), "at {x},{y}");
            }
        }
    }

    #[test]
    fn hull_of_two_blobs_bridges_them_and_fill_holes_closes_a_ring() {
        let a = disc(60, 15.0, 30.0, 6.0).union(&disc(60, 45.0, 30.0, 6.0)).unwrap();
        let hull = convex_hull(&a);
        assert!(hull.get(30, 30), "the gap between the blobs is inside the hull");
        assert!(!hull.get(30, 10));
        assert!(hull.area() > a.area());
        let ring = disc(40, 20.0, 20.0, 12.0).minus(&disc(40, 20.0, 20.0, 5.0)).unwrap();
        assert_eq!(fill_holes(&ring), disc(40, 20.0, 20.0, 12.0));
        assert_eq!(largest_component(&a).area(), disc(60, 15.0, 30.0, 6.0).area());
    }
}
