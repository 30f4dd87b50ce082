//! Connected components and holes of binary masks.
//!
//! Foreground components use 8-connectivity by default (a lung drawn with a diagonal
//! staircase edge is one piece); holes are background regions that do not reach the image
//! border, found with the dual 4-connectivity so that a hole and its rim are never both
//! "connected" through a diagonal.

use super::bbox::BBox;
use super::mask::BinaryMask;

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

/// Labels every pixel equal to `fg` (1 = foreground, 0 = background) by component; returns the
/// label image (0 = not part of any, labels from 1) and the components in scan order.
fn label_in(
    mask: &BinaryMask,
    fg: bool,
    conn: Connectivity,
    win: (usize, usize, usize, usize),
    labels: &mut [u32],
    comps: &mut Vec<Component>,
) {
    let (w, h) = (mask.width() as usize, mask.height() as usize);
    let (wx0, wy0, wx1, wy1) = win;
    let data = mask.as_slice();
    let mut stack: Vec<usize> = Vec::new();
    let want = fg as u8;
    for start in (wy0..wy1).flat_map(|y| (wx0..wx1).map(move |x| y * w + x)) {
        if data[start] != want || labels[start] != 0 {
            continue;
        }
        let id = comps.len() as u32 + 1;
        labels[start] = id;
        stack.push(start);
        let (mut area, mut sx, mut sy) = (0u64, 0f64, 0f64);
        let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0usize, 0usize);
        while let Some(i) = stack.pop() {
            let (x, y) = (i % w, i / w);
            area += 1;
            sx += x as f64 + 0.5;
            sy += y as f64 + 0.5;
            x0 = x0.min(x);
            x1 = x1.max(x);
            y0 = y0.min(y);
            y1 = y1.max(y);
            let mut visit = |nx: usize, ny: usize| {
                let j = ny * w + nx;
                if data[j] == want && labels[j] == 0 {
                    labels[j] = id;
                    stack.push(j);
                }
            };
            let (l, r, u, d) = (x > wx0, x + 1 < wx1, y > wy0, y + 1 < wy1);
            if l {
                visit(x - 1, y);
            }
            if r {
                visit(x + 1, y);
            }
            if u {
                visit(x, y - 1);
            }
            if d {
                visit(x, y + 1);
            }
            if conn == Connectivity::Eight {
                if l && u {
                    visit(x - 1, y - 1);
                }
                if r && u {
                    visit(x + 1, y - 1);
                }
                if l && d {
                    visit(x - 1, y + 1);
                }
                if r && d {
                    visit(x + 1, y + 1);
                }
            }
        }
        comps.push(Component {
            area,
            bbox: BBox::from_corners(x0 as f64, y0 as f64, x1 as f64 + 1.0, y1 as f64 + 1.0),
            centroid: (sx / area as f64, sy / area as f64),
            // in a background window, the window's edge joins the region outside it, which
            // touches the border; a foreground window is the mask's own box, whose edge does not
            touches_border: (!fg && (x0 == wx0 || y0 == wy0 || x1 + 1 == wx1 || y1 + 1 == wy1))
                || x0 == 0
                || y0 == 0
                || x1 + 1 == w
                || y1 + 1 == h,
        });
    }
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
        let (mut area, mut sx, mut sy) = (0u64, 0f64, 0f64);
        for y in 0..h {
            for x in 0..w {
                if x < win.0 || x >= win.2 || y < win.1 || y >= win.3 {
                    labels[y * w + x] = id;
                    area += 1;
                    sx += x as f64 + 0.5;
                    sy += y as f64 + 0.5;
                }
            }
        }
        if area > 0 {
            comps.push(Component {
                area,
                bbox: BBox::from_corners(0.0, 0.0, w as f64, h as f64),
                centroid: (sx / area as f64, sy / area as f64),
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
