//! COCO run-length encoding, ported from pycocotools' `maskApi.c` so that every result
//! (counts, compressed strings, areas, boxes, IoUs, merges) is identical to `pycocotools.mask`.
//!
//! Layout: runs cover the mask in **column-major** order (pixel `(y, x)` is at `x*h + y`),
//! alternating background/foreground and starting with background, so the first count is 0
//! when pixel 0 is set.

use super::bbox::BBox;
use super::mask::BinaryMask;
use thiserror::Error;

/// A run-length encoded binary mask of `h` rows × `w` columns.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rle {
    pub h: u32,
    pub w: u32,
    pub counts: Vec<u32>,
}

/// What can be wrong with an RLE read from a file.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum RleError {
    #[error(
        "the compressed counts string has a character {ch:?} at position {pos} outside COCO's alphabet ('0'..='o')"
    )]
    BadChar { ch: char, pos: usize },
    #[error("the compressed counts string ends in the middle of a number")]
    Truncated,
    #[error("the compressed counts string holds a run length out of range ({value}) at run {run}")]
    RunOutOfRange { value: i64, run: usize },
    #[error("the runs cover {sum} pixels but the mask is {h}×{w} = {expected} pixels")]
    WrongTotal { sum: u64, h: u32, w: u32, expected: u64 },
}

impl Rle {
    /// pycocotools `rleEncode` of a binary mask.
    pub fn encode(mask: &BinaryMask) -> Rle {
        let (w, h) = (mask.width(), mask.height());
        let data = mask.as_slice();
        let mut counts = Vec::new();
        let mut p = false;
        let mut c: u32 = 0;
        for x in 0..w as usize {
            for y in 0..h as usize {
                let v = data[y * w as usize + x] != 0;
                if v != p {
                    counts.push(c);
                    c = 0;
                    p = v;
                }
                c += 1;
            }
        }
        counts.push(c);
        Rle { h, w, counts }
    }

    /// pycocotools `rleDecode`. Runs beyond `h*w` are an error there; here they are refused by
    /// [`Rle::validate`] when the RLE is read, so decoding stops at the mask's end.
    pub fn decode(&self) -> BinaryMask {
        let (w, h) = (self.w as usize, self.h as usize);
        let mut mask = BinaryMask::new(self.w, self.h);
        let data = mask.as_mut_slice();
        let total = w * h;
        let mut pos = 0usize;
        let mut v = false;
        for &c in &self.counts {
            let end = (pos + c as usize).min(total);
            if v {
                for i in pos..end {
                    // column-major index i -> row-major (y, x)
                    let (x, y) = (i / h, i % h);
                    data[y * w + x] = 1;
                }
            }
            pos = end;
            v = !v;
        }
        mask
    }

    /// Refuses runs that do not cover exactly `h*w` pixels.
    pub fn validate(&self) -> Result<(), RleError> {
        let sum: u64 = self.counts.iter().map(|&c| c as u64).sum();
        let expected = self.h as u64 * self.w as u64;
        if sum != expected {
            return Err(RleError::WrongTotal {
                sum,
                h: self.h,
                w: self.w,
                expected,
            });
        }
        Ok(())
    }

    /// pycocotools `rleArea`: the sum of the foreground (odd-indexed) runs.
    pub fn area(&self) -> u32 {
        self.counts
            .iter()
            .skip(1)
            .step_by(2)
            .fold(0u32, |a, &c| a.wrapping_add(c))
    }

    /// pycocotools `rleToBbox` (the fixed version in pycocotools ≥ 2.0.7: zero-length foreground
    /// runs are skipped, and a run crossing a column spans the whole height).
    pub fn to_bbox(&self) -> BBox {
        let (h, w) = (self.h, self.w);
        let m = (self.counts.len() / 2) * 2;
        if m == 0 {
            return BBox::default();
        }
        let (mut xs, mut ys, mut xe, mut ye) = (w, h, 0u32, 0u32);
        let mut cc: u32 = 0;
        for j in 0..m {
            let start = cc;
            cc = cc.wrapping_add(self.counts[j]);
            if j % 2 == 0 || self.counts[j] == 0 {
                continue;
            }
            let y_start = start % h;
            let x_start = (start - y_start) / h;
            let y_end = (cc - 1) % h;
            let x_end = (cc - 1 - y_end) / h;
            xs = xs.min(x_start);
            xe = xe.max(x_end);
            if x_start < x_end {
                ys = 0;
                ye = h - 1;
            } else {
                ys = ys.min(y_start);
                ye = ye.max(y_end);
            }
        }
        // uint arithmetic, as in C (an all-empty foreground wraps, as pycocotools does)
        BBox::new(
            xs as f64,
            ys as f64,
            xe.wrapping_sub(xs).wrapping_add(1) as f64,
            ye.wrapping_sub(ys).wrapping_add(1) as f64,
        )
    }

    /// pycocotools `rleToString`: COCO's compressed counts string.
    pub fn to_compressed(&self) -> String {
        let mut s = String::with_capacity(self.counts.len() * 2);
        for i in 0..self.counts.len() {
            let mut x = self.counts[i] as i64;
            if i > 2 {
                x -= self.counts[i - 2] as i64;
            }
            let mut more = true;
            while more {
                let mut c = (x & 0x1f) as u8;
                x >>= 5;
                more = if c & 0x10 != 0 { x != -1 } else { x != 0 };
                if more {
                    c |= 0x20;
                }
                s.push((c + 48) as char);
            }
        }
        s
    }

    /// pycocotools `rleFrString`, refusing malformed strings instead of reading past them.
    pub fn from_compressed(s: &str, h: u32, w: u32) -> Result<Rle, RleError> {
        let bytes = s.as_bytes();
        let mut counts: Vec<u32> = Vec::with_capacity(bytes.len());
        let mut p = 0usize;
        while p < bytes.len() {
            let mut x: i64 = 0;
            let mut k = 0u32;
            loop {
                let Some(&b) = bytes.get(p) else {
                    return Err(RleError::Truncated);
                };
                if !(48..=111).contains(&b) {
                    let ch = s[p..].chars().next().unwrap_or('?');
                    return Err(RleError::BadChar { ch, pos: p });
                }
                if k >= 12 {
                    return Err(RleError::RunOutOfRange {
                        value: x,
                        run: counts.len(),
                    });
                }
                let c = (b - 48) as i64;
                x |= (c & 0x1f) << (5 * k);
                p += 1;
                k += 1;
                if c & 0x20 == 0 {
                    if c & 0x10 != 0 {
                        x |= -1i64 << (5 * k);
                    }
                    break;
                }
            }
            let m = counts.len();
            if m > 2 {
                x += counts[m - 2] as i64;
            }
            if !(0..=u32::MAX as i64).contains(&x) {
                return Err(RleError::RunOutOfRange { value: x, run: m });
            }
            counts.push(x as u32);
        }
        Ok(Rle { h, w, counts })
    }

    /// pycocotools `rleFrBbox`: the box rasterised as a 4-point polygon.
    pub fn from_bbox(b: &BBox, h: u32, w: u32) -> Rle {
        let (xs, ys) = (b.x, b.y);
        let (xe, ye) = (xs + b.w, ys + b.h);
        super::polygon::rasterize(&[xs, ys, xs, ye, xe, ye, xe, ys], h, w)
    }

    /// pycocotools `rleMerge`: union (or intersection) of RLEs of one size. Sizes that differ
    /// give an empty 0×0 RLE, as in pycocotools.
    pub fn merge(rles: &[Rle], intersect: bool) -> Rle {
        let Some(first) = rles.first() else {
            return Rle::default();
        };
        if rles.len() == 1 {
            return first.clone();
        }
        let (h, w) = (first.h, first.w);
        let mut cnts: Vec<u32> = first.counts.clone();
        for b in &rles[1..] {
            if b.h != h || b.w != w {
                return Rle {
                    h: 0,
                    w: 0,
                    counts: vec![],
                };
            }
            let a = std::mem::take(&mut cnts);
            let mut out = Vec::with_capacity(a.len() + b.counts.len());
            let mut ca = a.first().copied().unwrap_or(0);
            let mut cb = b.counts.first().copied().unwrap_or(0);
            let (mut v, mut va, mut vb) = (false, false, false);
            let (mut ia, mut ib) = (1usize, 1usize);
            let mut cc: u32 = 0;
            let mut ct: u32 = 1;
            while ct > 0 {
                let c = ca.min(cb);
                cc += c;
                ct = 0;
                ca -= c;
                if ca == 0 && ia < a.len() {
                    ca = a[ia];
                    ia += 1;
                    va = !va;
                }
                ct += ca;
                cb -= c;
                if cb == 0 && ib < b.counts.len() {
                    cb = b.counts[ib];
                    ib += 1;
                    vb = !vb;
                }
                ct += cb;
                let vp = v;
                v = if intersect { va && vb } else { va || vb };
                if v != vp || ct == 0 {
                    out.push(cc);
                    cc = 0;
                }
            }
            cnts = out;
        }
        Rle { h, w, counts: cnts }
    }

    /// pycocotools `rleIou` for one pair: `-1` when the sizes differ (never a match), 0 when the
    /// boxes do not overlap. With `crowd`, the union is the detection's area.
    pub fn iou(dt: &Rle, gt: &Rle, crowd: bool) -> f64 {
        Self::iou_with_boxes(dt, &dt.to_bbox(), gt, &gt.to_bbox(), crowd)
    }

    /// As [`Rle::iou`], with the boxes already computed (for IoU matrices).
    pub fn iou_with_boxes(dt: &Rle, db: &BBox, gt: &Rle, gb: &BBox, crowd: bool) -> f64 {
        let o = db.iou(gb, crowd);
        if o <= 0.0 {
            return o;
        }
        if dt.h != gt.h || dt.w != gt.w {
            return -1.0;
        }
        let (i, u) = intersection_union(dt, gt);
        let u = if i == 0 {
            1
        } else if crowd {
            dt.area()
        } else {
            u
        };
        i as f64 / u as f64
    }

    /// Pixels in both masks, and in either.
    pub fn intersection_union_counts(a: &Rle, b: &Rle) -> (u32, u32) {
        intersection_union(a, b)
    }
}

fn intersection_union(dt: &Rle, gt: &Rle) -> (u32, u32) {
    let (ka, kb) = (dt.counts.len(), gt.counts.len());
    let mut ca = dt.counts.first().copied().unwrap_or(0);
    let mut cb = gt.counts.first().copied().unwrap_or(0);
    let (mut va, mut vb) = (false, false);
    let (mut a, mut b) = (1usize, 1usize);
    let (mut i, mut u) = (0u32, 0u32);
    let mut ct: u32 = 1;
    while ct > 0 {
        let c = ca.min(cb);
        if va || vb {
            u = u.wrapping_add(c);
            if va && vb {
                i = i.wrapping_add(c);
            }
        }
        ct = 0;
        ca -= c;
        if ca == 0 && a < ka {
            ca = dt.counts[a];
            a += 1;
            va = !va;
        }
        ct += ca;
        cb -= c;
        if cb == 0 && b < kb {
            cb = gt.counts[b];
            b += 1;
            vb = !vb;
        }
        ct += cb;
    }
    (i, u)
}

/// pycocotools `maskUtils.iou` on RLEs: a `dt.len()` × `gt.len()` matrix, row per detection.
pub fn iou_matrix(dt: &[Rle], gt: &[Rle], iscrowd: &[bool]) -> Vec<Vec<f64>> {
    let db: Vec<BBox> = dt.iter().map(Rle::to_bbox).collect();
    let gb: Vec<BBox> = gt.iter().map(Rle::to_bbox).collect();
    dt.iter()
        .zip(&db)
        .map(|(d, dbx)| {
            gt.iter()
                .zip(&gb)
                .enumerate()
                .map(|(g, (gr, gbx))| Rle::iou_with_boxes(d, dbx, gr, gbx, iscrowd.get(g).copied().unwrap_or(false)))
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_count_is_zero_when_pixel_zero_is_set() {
        let mut m = BinaryMask::new(3, 2);
        m.set(0, 0, true);
        let r = Rle::encode(&m);
        assert_eq!(r.counts, vec![0, 1, 5]);
        assert_eq!(r.area(), 1);
    }

    #[test]
    fn to_bbox_matches_fixed_pycocotools() {
        // pycocotools.md: counts [5, 0, 3, 2] with h=4, w=3 gives [2, 0, 1, 2]
        let r = Rle {
            h: 4,
            w: 3,
            counts: vec![5, 0, 3, 2],
        };
        assert_eq!(r.to_bbox().to_array(), [2.0, 0.0, 1.0, 2.0]);
    }

    #[test]
    fn compressed_string_round_trips_and_rejects_garbage() {
        let r = Rle {
            h: 10,
            w: 10,
            counts: vec![3, 10, 2, 40, 1, 44],
        };
        let s = r.to_compressed();
        assert_eq!(Rle::from_compressed(&s, 10, 10).unwrap(), r);
        assert!(matches!(
            Rle::from_compressed("0~", 10, 10),
            Err(RleError::BadChar { .. })
        ));
        // 'P' = 80 → 32 set: a continuation with nothing after it
        assert_eq!(Rle::from_compressed("P", 10, 10), Err(RleError::Truncated));
    }

    #[test]
    fn counts_must_cover_the_mask_exactly() {
        let r = Rle {
            h: 2,
            w: 2,
            counts: vec![1, 2],
        };
        assert!(matches!(r.validate(), Err(RleError::WrongTotal { sum: 3, .. })));
    }

    #[test]
    fn iou_of_different_sizes_is_minus_one() {
        let a = Rle {
            h: 2,
            w: 2,
            counts: vec![0, 4],
        };
        let b = Rle {
            h: 2,
            w: 3,
            counts: vec![0, 6],
        };
        assert_eq!(Rle::iou(&a, &b, false), -1.0);
    }
}
