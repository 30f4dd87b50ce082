//! Morphology on binary masks: exact Euclidean distance transform (Felzenszwalb & Huttenlocher
//! 2012), and, through [`Runs`], dilation and erosion by a disc of any radius, filled convex hull,
//! hole filling and the largest component.

use super::mask::BinaryMask;
use super::runs::Runs;

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

/// Pixels within distance `r` of the mask (a disc-shaped dilation; exact Euclidean distances
/// between pixel centres). Computed on runs ([`Runs::dilate`]).
pub fn dilate(mask: &BinaryMask, r: f64) -> BinaryMask {
    Runs::from_mask(mask).dilate(r).to_mask()
}

/// Pixels farther than `r` from the background (a disc-shaped erosion; pixels outside the image
/// are not background).
pub fn erode(mask: &BinaryMask, r: f64) -> BinaryMask {
    Runs::from_mask(mask).erode(r).to_mask()
}

#[allow(clippy::expect_used)] // cannot fail: the masks combined here are made at one size
pub fn complement(mask: &BinaryMask) -> BinaryMask {
    let data = mask.as_slice().iter().map(|&v| (v == 0) as u8).collect();
    BinaryMask::from_row_major(mask.width(), mask.height(), data).expect("same size")
}

/// The filled convex hull of the foreground: the pixels whose centres lie in the hull of the
/// set pixels' squares ([`Runs::convex_hull`]).
pub fn convex_hull(mask: &BinaryMask) -> BinaryMask {
    Runs::from_mask(mask).convex_hull().to_mask()
}

/// The mask with its holes filled.
pub fn fill_holes(mask: &BinaryMask) -> BinaryMask {
    Runs::from_mask(mask).fill_holes().to_mask()
}

/// The largest connected component (8-connected), or an empty mask.
pub fn largest_component(mask: &BinaryMask) -> BinaryMask {
    Runs::from_mask(mask).largest_component().to_mask()
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

    proptest::proptest! {
        // discs and their unions: rows of one span each, the dilation's fast path
        #[test]
        fn dilating_blobs_equals_the_distance_transform(
            w in 8u32..60, cx in 0.0f64..60.0, cy in 0.0f64..60.0, r0 in 0.0f64..12.0,
            dx in -20.0f64..20.0, r1 in 0.0f64..8.0, r in 0.3f64..14.0
        ) {
            let m = disc(w, cx, cy, r0).union(&disc(w, cx + dx, cy + dx / 2.0, r1)).unwrap();
            let d = squared_distance_to(&m);
            let want: Vec<u8> = d.iter().map(|&v| (v <= r * r) as u8).collect();
            let got = dilate(&m, r);
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
