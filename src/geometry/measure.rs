//! Anatomical plausibility measurements with the exact semantics of Painchaud et al.'s
//! criteria as the `vital` library computes them (scikit-image / SciPy conventions): hole and
//! fragment pixel counts, gaps between two structures, frontiers, the depth of the deepest dent
//! and the isoperimetric ratio. `tests/painchaud_parity.rs` checks every value against the
//! Python computation on generated short-axis masks.
//!
//! Conventions that matter for parity, each taken from the reference implementation:
//! - holes: 8-connected components of the complement that do not reach the image border;
//! - fragments: 8-connected components; everything but the largest counts;
//! - gaps: 4-connected background pockets, "outside" being the pocket that contains pixel (0, 0);
//! - 3×3 square structuring elements for frontiers, dilations and the dent erosion (pixels
//!   outside the image count as set for the erosion);
//! - the convex hull through the midpoints of the pixels' edges, keeping the pixels whose
//!   centres lie inside or on it (`skimage.morphology.convex_hull_image`);
//! - perimeter with 4-neighbourhood border pixels weighted by their configuration
//!   (`skimage.measure.perimeter`).

use super::components::{self, Connectivity};
use super::mask::BinaryMask;
use super::morphology;

#[allow(clippy::expect_used)] // cannot fail: the masks combined here are made at one size
fn from_fn(w: u32, h: u32, f: impl Fn(usize, usize) -> bool) -> BinaryMask {
    let (wu, hu) = (w as usize, h as usize);
    let data = (0..hu)
        .flat_map(|y| (0..wu).map(move |x| (x, y)))
        .map(|(x, y)| f(x, y) as u8)
        .collect();
    BinaryMask::from_row_major(w, h, data).expect("same size")
}

/// The window `[x0, x1) × [y0, y1)`: the box of `m` grown by `margin`, clipped to the image.
fn window(m: &BinaryMask, margin: u32) -> Option<(usize, usize, usize, usize)> {
    let b = m.bbox()?;
    let (x0, y0) = ((b.x as u32).saturating_sub(margin), (b.y as u32).saturating_sub(margin));
    let x1 = (b.x2() as u32 + margin).min(m.width());
    let y1 = (b.y2() as u32 + margin).min(m.height());
    Some((x0 as usize, y0 as usize, x1 as usize, y1 as usize))
}

#[allow(clippy::expect_used)] // cannot fail: the window is cut inside the mask
fn crop(m: &BinaryMask, (x0, y0, x1, y1): (usize, usize, usize, usize)) -> BinaryMask {
    let w = m.width() as usize;
    let data = (y0..y1)
        .flat_map(|y| m.as_slice()[y * w + x0..y * w + x1].iter().copied())
        .collect();
    BinaryMask::from_row_major((x1 - x0) as u32, (y1 - y0) as u32, data).expect("window")
}

/// A 3×3 square filter, separably: `or` for dilation, `and` for erosion (pixels outside the
/// image are ignored, which for erosion means they count as set).
#[allow(clippy::expect_used)] // cannot fail: the masks combined here are made at one size
fn square(m: &BinaryMask, or: bool) -> BinaryMask {
    let (w, h) = (m.width() as usize, m.height() as usize);
    let d = m.as_slice();
    let op = |a: u8, b: u8| if or { a | b } else { a & b };
    let mut tmp = vec![0u8; w * h];
    for y in 0..h {
        let (src, dst) = (&d[y * w..(y + 1) * w], &mut tmp[y * w..(y + 1) * w]);
        for x in 0..w {
            let mut v = (src[x] != 0) as u8;
            if x > 0 {
                v = op(v, (src[x - 1] != 0) as u8);
            }
            if x + 1 < w {
                v = op(v, (src[x + 1] != 0) as u8);
            }
            dst[x] = v;
        }
    }
    let mut out = vec![0u8; w * h];
    for y in 0..h {
        out[y * w..(y + 1) * w].copy_from_slice(&tmp[y * w..(y + 1) * w]);
        for yy in [y.wrapping_sub(1), y + 1] {
            if yy < h {
                for x in 0..w {
                    out[y * w + x] = op(out[y * w + x], tmp[yy * w + x]);
                }
            }
        }
    }
    BinaryMask::from_row_major(m.width(), m.height(), out).expect("same size")
}

/// Dilation by a 3×3 square.
pub fn dilate_square(m: &BinaryMask) -> BinaryMask {
    square(m, true)
}

/// Erosion by a 3×3 square; pixels outside the image count as set.
pub fn erode_square(m: &BinaryMask) -> BinaryMask {
    square(m, false)
}

/// Pixels of the complement (8-connected) that do not reach the border, and those pixels.
pub fn hole_pixels(m: &BinaryMask) -> (u64, BinaryMask) {
    let (labels, comps) = components::label(m, false, Connectivity::Eight);
    let hole: Vec<bool> = comps.iter().map(|c| !c.touches_border).collect();
    let px = from_fn(m.width(), m.height(), |x, y| {
        let l = labels[y * m.width() as usize + x];
        l > 0 && hole[l as usize - 1]
    });
    (px.area(), px)
}

/// Pixels outside the largest 8-connected component, and those pixels.
pub fn disconnected_pixels(m: &BinaryMask) -> (u64, BinaryMask) {
    let (labels, comps) = components::label(m, true, Connectivity::Eight);
    if comps.len() < 2 {
        return (0, BinaryMask::new(m.width(), m.height()));
    }
    // the first of the largest, as a stable sort by decreasing area keeps it
    let keep = comps
        .iter()
        .enumerate()
        .fold(
            (0usize, 0u64),
            |best, (i, c)| if c.area > best.1 { (i, c.area) } else { best },
        )
        .0 as u32
        + 1;
    let px = from_fn(m.width(), m.height(), |x, y| {
        let l = labels[y * m.width() as usize + x];
        l > 0 && l != keep
    });
    (px.area(), px)
}

/// The area of the first 8-connected component in scan order (0 when empty).
pub fn first_component_area(m: &BinaryMask) -> u64 {
    components::label(m, true, Connectivity::Eight)
        .1
        .first()
        .map(|c| c.area)
        .unwrap_or(0)
}

/// 4-connected background pockets, minus the one that contains pixel (0, 0).
fn pockets(not_set: &BinaryMask) -> (Vec<u32>, usize) {
    let (labels, comps) = components::label(not_set, true, Connectivity::Four);
    (labels, comps.len())
}

/// Background pockets enclosed jointly by `a` and `b` but by neither alone (holes of `a` that
/// hold no `b` pixel and vice versa do not count), before any noise floor; and those pixels.
pub fn gap_between(a: &BinaryMask, b: &BinaryMask) -> (u64, BinaryMask) {
    let (w, h) = (a.width(), a.height());
    let wu = w as usize;
    // holes of x (4-connected pockets of its complement other than the one at (0, 0)) that
    // contain no pixel of y
    let holes_without = |x: &BinaryMask, y: &BinaryMask| -> Vec<bool> {
        let (labels, n) = pockets(&morphology::complement(x));
        let outside = labels.first().copied().unwrap_or(0);
        let mut has_other = vec![false; n + 1];
        for (l, &v) in labels.iter().zip(y.as_slice()) {
            if v != 0 {
                has_other[*l as usize] = true;
            }
        }
        labels
            .iter()
            .map(|&l| l > 0 && l != outside && !has_other[l as usize])
            .collect()
    };
    let ha = holes_without(a, b);
    let hb = holes_without(b, a);
    let filled = from_fn(w, h, |x, y| {
        let i = y * wu + x;
        a.as_slice()[i] != 0 || b.as_slice()[i] != 0 || ha[i] || hb[i]
    });
    let (labels, _) = pockets(&morphology::complement(&filled));
    let outside = labels.first().copied().unwrap_or(0);
    let px = from_fn(w, h, |x, y| {
        let l = labels[y * wu + x];
        l > 0 && l != outside
    });
    (px.area(), px)
}

/// `|a ∩ dilate3×3(b)|` and those pixels.
#[allow(clippy::expect_used)] // cannot fail: the masks combined here are made at one size
pub fn frontier(a: &BinaryMask, b: &BinaryMask) -> (u64, BinaryMask) {
    let px = a.intersection(&dilate_square(b)).expect("same size");
    (px.area(), px)
}

/// The shortest distance (pixels) from `dilate3×3(a)` to `b`; `None` when either is empty.
#[allow(clippy::expect_used)] // cannot fail: both masks have one size, and the union is checked non-empty
pub fn gap_distance(a: &BinaryMask, b: &BinaryMask) -> Option<f64> {
    if a.area() == 0 || b.area() == 0 {
        return None;
    }
    // every distance from a pixel of the window to b is to a pixel of b inside it: exact there
    let grown = dilate_square(a);
    let both = grown.union(b).expect("same size");
    let win = window(&both, 0).expect("not empty");
    let d2 = morphology::squared_distance_to(&crop(b, win));
    let min = crop(&grown, win)
        .as_slice()
        .iter()
        .zip(&d2)
        .filter(|(g, _)| **g != 0)
        .map(|(_, d)| *d)
        .fold(f64::INFINITY, f64::min);
    Some(min.sqrt())
}

/// The convex hull through the midpoints of the pixels' edges: the pixels whose centres lie
/// inside or on it.
pub fn convex_hull_midpoints(m: &BinaryMask) -> BinaryMask {
    let (w, h) = (m.width() as usize, m.height() as usize);
    // doubled coordinates: pixel (x, y) has centre (2x, 2y) and edge midpoints (2x±1, 2y), (2x, 2y±1)
    let mut pts: Vec<(i64, i64)> = Vec::new();
    for (y, row) in m.as_slice().chunks_exact(w.max(1)).enumerate() {
        let (Some(a), Some(b)) = (row.iter().position(|&v| v != 0), row.iter().rposition(|&v| v != 0)) else {
            continue;
        };
        for x in [a, b] {
            let (cx, cy) = (2 * x as i64, 2 * y as i64);
            pts.extend([(cx - 1, cy), (cx + 1, cy), (cx, cy - 1), (cx, cy + 1)]);
        }
    }
    if pts.is_empty() {
        return BinaryMask::new(m.width(), m.height());
    }
    pts.sort_unstable();
    pts.dedup();
    let cross = |o: (i64, i64), a: (i64, i64), b: (i64, i64)| (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0);
    let mut hull: Vec<(i64, i64)> = Vec::new();
    for pass in 0..2 {
        let start = hull.len();
        let it: Box<dyn Iterator<Item = &(i64, i64)>> = if pass == 0 {
            Box::new(pts.iter())
        } else {
            Box::new(pts.iter().rev())
        };
        for &p in it {
            while hull.len() >= start + 2 && cross(hull[hull.len() - 2], hull[hull.len() - 1], p) <= 0 {
                hull.pop();
            }
            hull.push(p);
        }
        hull.pop();
    }
    // counter-clockwise in (x, y): a point is inside or on when it is left of or on every edge
    let n = hull.len();
    let mut out = BinaryMask::new(m.width(), m.height());
    let (ymin, ymax) = hull
        .iter()
        .fold((i64::MAX, i64::MIN), |(a, b), p| (a.min(p.1), b.max(p.1)));
    for y in ((ymin.max(0) + 1) / 2)..=((ymax / 2).min(h as i64 - 1)) {
        let yy = 2 * y;
        // each edge gives a half-plane in x on this row: lo <= X <= hi
        let (mut lo, mut hi) = (i64::MIN, i64::MAX);
        for i in 0..n {
            let (a, b) = (hull[i], hull[(i + 1) % n]);
            let (dx, dy) = (b.0 - a.0, b.1 - a.1);
            // cross((dx, dy), (X - ax, yy - ay)) = dx*(yy-ay) - dy*(X-ax) >= 0
            let c = dx * (yy - a.1) + dy * a.0; // c - dy*X >= 0
            if dy == 0 {
                if c < 0 {
                    lo = i64::MAX;
                }
            } else if dy > 0 {
                hi = hi.min(c.div_euclid(dy)); // X <= c/dy
            } else {
                let k = -dy; // X >= -c/k
                lo = lo.max((-c + k - 1).div_euclid(k));
            }
        }
        if lo > hi {
            continue;
        }
        // X = 2x
        let x0 = (lo.max(0) + 1).div_euclid(2).max(0);
        let x1 = hi.div_euclid(2).min(w as i64 - 1);
        for x in x0..=x1 {
            out.set(x as u32, y as u32, true);
        }
    }
    out
}

/// The depth (pixels) of the deepest dent of the hole-filled mask: the largest distance from the
/// hull's outside among the eroded `hull ∖ mask`; `None` when empty; and the dent's pixels.
#[allow(clippy::expect_used)] // cannot fail: both masks have one size, and the union is checked non-empty
pub fn concavity_depth(m: &BinaryMask) -> Option<(f64, BinaryMask)> {
    let f = morphology::fill_holes(m);
    if f.area() == 0 {
        return None;
    }
    let hull = convex_hull_midpoints(&f);
    let diff = hull.minus(&f).expect("same size");
    let dent = erode_square(&diff);
    let outside = morphology::complement(&hull);
    if outside.area() == 0 {
        return Some((0.0, dent));
    }
    // the nearest pixel outside the hull is never beyond the ring around its box (clamping a
    // farther one onto the ring brings it closer), so the distances are exact in that window
    let win = window(&hull, 1).expect("not empty");
    let d2 = morphology::squared_distance_to(&crop(&outside, win));
    let depth = crop(&dent, win)
        .as_slice()
        .iter()
        .zip(&d2)
        .filter(|(v, _)| **v != 0)
        .map(|(_, d)| d.sqrt())
        .fold(0.0, f64::max);
    Some((depth, diff))
}

/// Perimeter of a binary mask as `skimage.measure.perimeter` computes it (4-neighbourhood).
pub fn perimeter(m: &BinaryMask) -> f64 {
    let (w, h) = (m.width() as usize, m.height() as usize);
    let d = m.as_slice();
    let at = |x: isize, y: isize| -> bool {
        x >= 0 && y >= 0 && (x as usize) < w && (y as usize) < h && d[y as usize * w + x as usize] != 0
    };
    // border pixels: set, with a 4-neighbour unset (outside the image counts as unset)
    let border: Vec<bool> = (0..h * w)
        .map(|i| {
            if d[i] == 0 {
                return false;
            }
            let (x, y) = ((i % w) as isize, (i / w) as isize);
            at(x, y) && !(at(x - 1, y) && at(x + 1, y) && at(x, y - 1) && at(x, y + 1))
        })
        .collect();
    let b = |x: isize, y: isize| -> u32 {
        (x >= 0 && y >= 0 && (x as usize) < w && (y as usize) < h && border[y as usize * w + x as usize]) as u32
    };
    let mut total = 0.0;
    let s2 = std::f64::consts::SQRT_2;
    let Some((x0, y0, x1, y1)) = window(m, 1) else {
        return 0.0;
    };
    for y in y0 as isize..y1 as isize {
        for x in x0 as isize..x1 as isize {
            let code = b(x, y)
                + 2 * (b(x - 1, y) + b(x + 1, y) + b(x, y - 1) + b(x, y + 1))
                + 10 * (b(x - 1, y - 1) + b(x + 1, y - 1) + b(x - 1, y + 1) + b(x + 1, y + 1));
            total += match code {
                5 | 7 | 15 | 17 | 25 | 27 => 1.0,
                21 | 33 => s2,
                13 | 23 => (1.0 + s2) / 2.0,
                _ => 0.0,
            };
        }
    }
    total
}

/// The isoperimetric ratio `4πA / P²` of the hole-filled mask; `None` when empty or without
/// perimeter.
pub fn circularity(m: &BinaryMask) -> Option<f64> {
    let f = morphology::fill_holes(m);
    let area = f.area() as f64;
    let p = perimeter(&f);
    if area < 1e-6 || p < 1e-6 {
        return None;
    }
    Some(4.0 * std::f64::consts::PI * area / (p * p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask(rows: &[&str]) -> BinaryMask {
        let w = rows[0].len() as u32;
        let data = rows.iter().flat_map(|r| r.bytes().map(|b| (b == b'#') as u8)).collect();
        BinaryMask::from_row_major(w, rows.len() as u32, data).unwrap()
    }

    #[test]
    fn a_ring_has_its_inside_as_hole_pixels_and_one_piece() {
        let m = mask(&["......", ".####.", ".#..#.", ".#..#.", ".####.", "......"]);
        assert_eq!(hole_pixels(&m).0, 4);
        assert_eq!(disconnected_pixels(&m).0, 0);
        let two = mask(&["##....", "##..#.", "......"]);
        assert_eq!(disconnected_pixels(&two).0, 1);
    }

    #[test]
    fn hull_of_a_single_pixel_is_the_pixel_and_of_an_l_is_the_triangle() {
        let p = mask(&["...", ".#.", "..."]);
        assert_eq!(convex_hull_midpoints(&p), p);
        let l = mask(&["#....", "#....", "#....", "#####"]);
        let hull = convex_hull_midpoints(&l);
        // the diagonal from the top pixel's top to the right pixel's right passes through centres
        assert!(hull.get(1, 2) && hull.get(2, 3) && !hull.get(3, 1) && !hull.get(1, 0));
    }

    #[test]
    fn perimeter_of_a_square_and_circularity_of_a_disc() {
        let sq = mask(&["....", ".##.", ".##.", "...."]);
        // scikit-image gives 4.0 for a 2×2 square
        assert_eq!(perimeter(&sq), 4.0);
        let mut disc = BinaryMask::new(64, 64);
        for y in 0..64 {
            for x in 0..64 {
                if ((x as f64 - 31.5).powi(2) + (y as f64 - 31.5).powi(2)) < 400.0 {
                    disc.set(x, y, true);
                }
            }
        }
        let c = circularity(&disc).unwrap();
        assert!(c > 0.85 && c <= 1.1, "{c}");
    }

    #[test]
    fn frontier_and_gap_distance() {
        let a = mask(&["##....", "##....", "......"]);
        let b = mask(&["...##.", "...##.", "......"]);
        assert_eq!(frontier(&a, &b).0, 0);
        assert_eq!(gap_distance(&a, &b), Some(1.0)); // dilate(a) reaches column 2, b starts at 3
        let c = mask(&["....##", "....##", "......"]);
        assert_eq!(gap_distance(&a, &c), Some(2.0));
        let touching = mask(&["..##..", "..##..", "......"]);
        assert_eq!(frontier(&a, &touching).0, 2);
    }

    #[test]
    fn a_crack_between_two_pieces_is_a_gap() {
        let a = mask(&["..........", ".###......", ".#........", ".###......", ".........."]);
        let b = mask(&["..........", "....##....", "....##....", "....##....", ".........."]);
        // the pocket at (2,2)-(3,2) is closed by a and b together
        let (n, px) = gap_between(&a, &b);
        assert_eq!(n, 2, "{px:?}");
    }

    #[test]
    fn a_dent_is_as_deep_as_the_hull_allows() {
        let m = mask(&[
            "............",
            ".##########.",
            ".##########.",
            ".###....###.",
            ".###....###.",
            ".###....###.",
            ".###....###.",
            ".###....###.",
            "............",
        ]);
        // the values scipy and scikit-image give
        let (depth, dent) = concavity_depth(&m).unwrap();
        assert_eq!(dent.area(), 20);
        assert_eq!(depth, 4.0);
        let square = mask(&["....", ".##.", ".##.", "...."]);
        assert_eq!(concavity_depth(&square).unwrap().0, 0.0);
    }
}
