//! Connected components and holes of binary masks.
//!
//! Foreground components use 8-connectivity by default (a lung drawn with a diagonal
//! staircase edge is one piece); holes are background regions that do not reach the image
//! border, found with the dual 4-connectivity so that a hole and its rim are never both
//! "connected" through a diagonal.

use super::bbox::BBox;
use super::mask::BinaryMask;
use super::runs::Runs;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connectivity {
    Four,
    Eight,
}

impl Connectivity {
    fn dual(self) -> Self {
        match self {
            Connectivity::Four => Connectivity::Eight,
            Connectivity::Eight => Connectivity::Four,
        }
    }
}

/// One connected region of pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    /// Pixel count.
    pub area: u64,
    /// Tight box (pixel edges).
    pub bbox: BBox,
    /// Centre of mass (pixel centres at `x + 0.5`).
    pub centroid: (f64, f64),
    /// Whether the region touches the image border.
    pub touches_border: bool,
}

/// Labels every pixel equal to `fg` (1 = foreground, 0 = background) inside the window by
/// component, numbering components in the raster order of their first pixel: the window's runs
/// are labelled by [`Runs::label`] and painted into `labels`.
fn label_in(
    mask: &BinaryMask,
    fg: bool,
    conn: Connectivity,
    win: (usize, usize, usize, usize),
    labels: &mut [u32],
    comps: &mut Vec<Component>,
) {
    let w = mask.width() as usize;
    let (wx0, wy0, wx1, wy1) = win;
    let set = Runs::from_mask(mask);
    let runs = if fg {
        set
    } else {
        set.complement_in((wx0 as u32, wy0 as u32, wx1 as u32, wy1 as u32))
    };
    let (ids, found) = runs.label(conn);
    let first = comps.len() as u32 + 1;
    for (s, &id) in runs.spans().iter().zip(&ids) {
        let at = s.y as usize * w;
        labels[at + s.x0 as usize..at + s.x1 as usize].fill(first + id);
    }
    comps.extend(found.into_iter().map(|mut c| {
        // in a background window, the window's edge joins the region outside it, which
        // touches the border; a foreground window is the mask's own box, whose edge does not
        let edge = c.bbox.x as usize == wx0
            || c.bbox.y as usize == wy0
            || c.bbox.x2() as usize == wx1
            || c.bbox.y2() as usize == wy1;
        c.touches_border |= !fg && edge;
        c
    }));
}

/// Labels every pixel equal to `fg` (1 = foreground, 0 = background) by component; returns the
/// label image (0 = not part of any, labels from 1) and the components in scan order.
///
/// Background is flooded only inside the foreground's box grown by one pixel: everything
/// outside it is one region that touches the border (it is labelled as the last component), so
/// holes come out the same at a fraction of the cost.
pub fn label(mask: &BinaryMask, fg: bool, conn: Connectivity) -> (Vec<u32>, Vec<Component>) {
    let (w, h) = (mask.width() as usize, mask.height() as usize);
    let mut labels = vec![0u32; w * h];
    let mut comps = Vec::new();
    let full = (0, 0, w, h);
    let win = if fg {
        // every foreground pixel lies in the mask's box: scan only that
        match mask.bbox() {
            Some(b) => (b.x as usize, b.y as usize, b.x2() as usize, b.y2() as usize),
            None => return (labels, comps),
        }
    } else {
        match mask.bbox() {
            Some(b) => {
                let x0 = (b.x as usize).saturating_sub(1);
                let y0 = (b.y as usize).saturating_sub(1);
                (
                    (x0),
                    (y0),
                    ((b.x2() as usize) + 1).min(w),
                    ((b.y2() as usize) + 1).min(h),
                )
            }
            None => full,
        }
    };
    label_in(mask, fg, conn, win, &mut labels, &mut comps);
    if !fg && win != full {
        // the background outside the window: one region, touching the border
        let id = comps.len() as u32 + 1;
        let (mut area, mut sx2, mut sy2) = (0u64, 0u64, 0u64);
        let mut mark = |labels: &mut [u32], y: usize, a: usize, b: usize| {
            if a < b {
                labels[y * w + a..y * w + b].fill(id);
                let n = (b - a) as u64;
                area += n;
                sx2 += n * (a + b) as u64;
                sy2 += n * (2 * y + 1) as u64;
            }
        };
        for y in 0..h {
            if y < win.1 || y >= win.3 {
                mark(&mut labels, y, 0, w);
            } else {
                mark(&mut labels, y, 0, win.0);
                mark(&mut labels, y, win.2, w);
            }
        }
        if area > 0 {
            comps.push(Component {
                area,
                bbox: BBox::from_corners(0.0, 0.0, w as f64, h as f64),
                centroid: (sx2 as f64 / (2 * area) as f64, sy2 as f64 / (2 * area) as f64),
                touches_border: true,
            });
        }
    }
    (labels, comps)
}

/// The foreground's connected components.
pub fn components(mask: &BinaryMask, conn: Connectivity) -> Vec<Component> {
    label(mask, true, conn).1
}

/// The mask's holes: background regions (dual connectivity) enclosed by foreground.
pub fn holes(mask: &BinaryMask, conn: Connectivity) -> Vec<Component> {
    label(mask, false, conn.dual())
        .1
        .into_iter()
        .filter(|c| !c.touches_border)
        .collect()
}

/// The holes of at least `min_area` pixels, and their pixels, from one labelling.
#[allow(clippy::expect_used)] // cannot fail: the masks combined here are made at one size
pub fn holes_with_pixels(mask: &BinaryMask, conn: Connectivity, min_area: f64) -> (Vec<Component>, BinaryMask) {
    let (labels, comps) = label(mask, false, conn.dual());
    let keep: Vec<bool> = comps
        .iter()
        .map(|c| !c.touches_border && c.area as f64 >= min_area)
        .collect();
    let data = labels.iter().map(|&l| (l > 0 && keep[l as usize - 1]) as u8).collect();
    let pixels = BinaryMask::from_row_major(mask.width(), mask.height(), data).expect("same size");
    (
        comps
            .into_iter()
            .zip(keep)
            .filter(|(_, k)| *k)
            .map(|(c, _)| c)
            .collect(),
        pixels,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask_from(rows: &[&str]) -> BinaryMask {
        let h = rows.len() as u32;
        let w = rows[0].len() as u32;
        let data = rows.iter().flat_map(|r| r.bytes().map(|b| (b == b'#') as u8)).collect();
        BinaryMask::from_row_major(w, h, data).unwrap()
    }

    /// Pixel-by-pixel flood fill over the whole image: the reference for the run labelling.
    fn flood(mask: &BinaryMask, fg: bool, conn: Connectivity) -> Vec<u32> {
        let (w, h) = (mask.width() as i64, mask.height() as i64);
        let mut labels = vec![0u32; (w * h) as usize];
        let mut next = 0;
        for start in 0..(w * h) {
            if mask.as_slice()[start as usize] != fg as u8 || labels[start as usize] != 0 {
                continue;
            }
            next += 1;
            labels[start as usize] = next;
            let mut stack = vec![start];
            while let Some(i) = stack.pop() {
                let (x, y) = (i % w, i / w);
                for (dx, dy) in [(-1, 0), (1, 0), (0, -1), (0, 1), (-1, -1), (1, -1), (-1, 1), (1, 1)] {
                    if conn == Connectivity::Four && dx != 0 && dy != 0 {
                        continue;
                    }
                    let (nx, ny) = (x + dx, y + dy);
                    if nx < 0 || ny < 0 || nx >= w || ny >= h {
                        continue;
                    }
                    let j = (ny * w + nx) as usize;
                    if mask.as_slice()[j] == fg as u8 && labels[j] == 0 {
                        labels[j] = next;
                        stack.push(j as i64);
                    }
                }
            }
        }
        labels
    }

    proptest::proptest! {
        #[test]
        fn run_labelling_equals_a_flood_fill(w in 1u32..40, h in 1u32..40, seed in 0u64..u64::MAX, density in 0.1f64..0.9) {
            let m = crate::geometry::mask::random_mask(w, h, seed, density);
            for conn in [Connectivity::Four, Connectivity::Eight] {
                // foreground: the same labels, in the same order
                let (labels, comps) = label(&m, true, conn);
                proptest::prop_assert_eq!(&labels, &flood(&m, true, conn));
                let areas: Vec<u64> = (1..=comps.len() as u32)
                    .map(|l| labels.iter().filter(|&&x| x == l).count() as u64)
                    .collect();
                proptest::prop_assert_eq!(comps.iter().map(|c| c.area).collect::<Vec<_>>(), areas);
                // background: the same holes, pixel for pixel (regions that reach the border
                // may be merged: outside the foreground's box they are one region)
                let (bl, _) = label(&m, false, conn);
                let fl = flood(&m, false, conn);
                let mut border = std::collections::BTreeSet::new();
                for (i, &l) in fl.iter().enumerate() {
                    let (x, y) = (i as u32 % w, i as u32 / w);
                    if l > 0 && (x == 0 || y == 0 || x + 1 == w || y + 1 == h) {
                        border.insert(l);
                    }
                }
                let hole = |i: usize| fl[i] > 0 && !border.contains(&fl[i]);
                for i in 0..bl.len() {
                    for j in [i + 1, i + w as usize] {
                        if j < bl.len() && (hole(i) || hole(j)) {
                            proptest::prop_assert_eq!(bl[i] == bl[j], fl[i] == fl[j]);
                        }
                    }
                }
                let holes_ref = fl.iter().filter(|&&l| l > 0).collect::<std::collections::BTreeSet<_>>().len() - border.len();
                let (_, bc) = label(&m, false, conn);
                proptest::prop_assert_eq!(bc.iter().filter(|c| !c.touches_border).count(), holes_ref);
            }
        }
    }

    #[test]
    fn diagonal_pixels_are_one_piece_with_eight_connectivity() {
        let m = mask_from(&["#..", ".#.", "..#"]);
        assert_eq!(components(&m, Connectivity::Eight).len(), 1);
        assert_eq!(components(&m, Connectivity::Four).len(), 3);
    }

    #[test]
    fn ring_has_one_hole_and_open_ring_has_none() {
        let ring = mask_from(&[".....", ".###.", ".#.#.", ".###.", "....."]);
        let h = holes(&ring, Connectivity::Eight);
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].area, 1);
        assert_eq!(h[0].centroid, (2.5, 2.5));
        let open = mask_from(&[".....", ".###.", ".#.#.", ".#.#.", "....."]);
        assert!(holes(&open, Connectivity::Eight).is_empty());
    }

    #[test]
    fn diagonal_gap_does_not_leak_a_hole_under_eight_connectivity() {
        // background at the centre reaches the outside only diagonally: still a hole
        let ring = mask_from(&[".#.", "#.#", ".#."]);
        assert_eq!(holes(&ring, Connectivity::Eight).len(), 1);
        assert!(holes(&ring, Connectivity::Four).is_empty());
    }
}
