//! Masks as runs: each row's set pixels as `[x0, x1)` spans, rows top to bottom. Anatomy masks
//! are a few spans per row, so set operations, areas, moments, components, holes, hulls and disc
//! morphology cost a step per span instead of a step per pixel, and a mask costs a few kilobytes
//! instead of a byte per pixel. This is how the rule engine holds every mask.
//!
//! Invariant: spans are sorted by `(y, x0)`, non-empty, and within a row neither overlap nor
//! touch (`x1 < next.x0`), so two equal pixel sets have equal span lists.

use super::bbox::BBox;
use super::components::{Component, Connectivity};
use super::mask::{BinaryMask, LabelMask};
use super::rle::Rle;

/// The pixels `x0..x1` of row `y`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Span {
    pub y: u32,
    pub x0: u32,
    pub x1: u32,
}

impl Span {
    pub fn len(&self) -> u64 {
        (self.x1 - self.x0) as u64
    }

    pub fn is_empty(&self) -> bool {
        self.x1 <= self.x0
    }
}

/// A binary mask of `width` × `height` pixels, as spans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Runs {
    width: u32,
    height: u32,
    spans: Vec<Span>,
}

/// Appends `s` to `out`, joining it with the last span when they overlap or touch in one row.
/// `s` must not start before the last span of its row.
fn push_joined(out: &mut Vec<Span>, s: Span) {
    if let Some(last) = out.last_mut()
        && last.y == s.y
        && s.x0 <= last.x1
    {
        last.x1 = last.x1.max(s.x1);
        return;
    }
    out.push(s);
}

/// For a disc of radius `r` (pixel centres within Euclidean distance `r`): the largest `dx` with
/// `dx² + dy² ≤ r²`, for `dy = 0..=⌊r⌋`.
fn disc_half_widths(r: f64) -> Vec<i64> {
    let r2 = r * r;
    (0..=r.floor() as i64)
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
        .collect()
}

/// Splits a label image into its values' runs row by row, so a decoder can hand over each row
/// as it is decoded and no full-size image is ever held.
pub struct SplitByValue {
    width: u32,
    height: u32,
    y: u32,
    out: Vec<(u16, Vec<Span>)>,
    /// For values below 256: 1 + the value's index in `out` (0 = not seen yet).
    slot: [u16; 256],
}

/// Whether every value of `block` is `v` (no early exit, so the comparison is vectorised).
#[inline]
fn uniform<T: Copy + Eq>(block: &[T], v: T) -> bool {
    block.iter().fold(true, |all, &p| all & (p == v))
}

impl SplitByValue {
    pub fn new(width: u32, height: u32) -> SplitByValue {
        SplitByValue {
            width,
            height,
            y: 0,
            out: Vec::new(),
            slot: [0; 256],
        }
    }

    /// The next row of 8-bit values: runs are found eight bytes at a time (the first byte that
    /// differs from the run's value is the lowest non-zero byte of a XOR).
    #[allow(clippy::expect_used)] // cannot fail: chunks_exact(8) gives 8-byte slices
    pub fn push_row_u8(&mut self, row: &[u8]) {
        self.split_row(row, |row, mut x| {
            let v = row[x];
            let splat = u64::from(v) * 0x0101_0101_0101_0101;
            while let Some(word) = row.get(x..x + 8) {
                let diff = u64::from_le_bytes(word.try_into().expect("8 bytes")) ^ splat;
                if diff != 0 {
                    return x + (diff.trailing_zeros() / 8) as usize;
                }
                x += 8;
            }
            x + row[x..].iter().take_while(|&&p| p == v).count()
        });
    }

    /// The next row (`width` values; rows beyond `height` are ignored).
    pub fn push_row<T: Copy + Eq + Into<u16>>(&mut self, row: &[T]) {
        const BLOCK: usize = 32;
        self.split_row(row, |row, mut x| {
            let v = row[x];
            while x + BLOCK <= row.len() && uniform(&row[x..x + BLOCK], v) {
                x += BLOCK;
            }
            x + row[x..].iter().take_while(|&&p| p == v).count()
        });
    }

    /// Splits a row into runs; `run_end(row, x)` is where the run of `row[x]` starting at `x` ends.
    fn split_row<T: Copy + Eq + Into<u16>>(&mut self, row: &[T], run_end: impl Fn(&[T], usize) -> usize) {
        if self.y >= self.height {
            return;
        }
        let row = &row[..row.len().min(self.width as usize)];
        let mut x = 0;
        while x < row.len() {
            let end = run_end(row, x);
            self.add(row[x].into(), x, end);
            x = end;
        }
        self.y += 1;
    }

    fn add(&mut self, v: u16, x0: usize, x1: usize) {
        if v == 0 {
            return;
        }
        let known = match self.slot.get(v as usize) {
            Some(&k) if k > 0 => Some(k as usize - 1),
            Some(_) => None,
            None => self.out.iter().position(|(k, _)| *k == v),
        };
        let i = known.unwrap_or_else(|| {
            self.out.push((v, Vec::new()));
            if let Some(k) = self.slot.get_mut(v as usize) {
                *k = self.out.len() as u16;
            }
            self.out.len() - 1
        });
        self.out[i].1.push(Span {
            y: self.y,
            x0: x0 as u32,
            x1: x1 as u32,
        });
    }

    /// Every non-zero value and its pixels, sorted by value.
    pub fn finish(mut self) -> Vec<(u16, Runs)> {
        self.out.sort_by_key(|(v, _)| *v);
        self.out
            .into_iter()
            .map(|(v, spans)| (v, Runs::from_sorted(self.width, self.height, spans)))
            .collect()
    }
}

impl Runs {
    pub fn empty(width: u32, height: u32) -> Runs {
        Runs {
            width,
            height,
            spans: Vec::new(),
        }
    }

    pub fn full(width: u32, height: u32) -> Runs {
        let spans = if width == 0 {
            Vec::new()
        } else {
            (0..height).map(|y| Span { y, x0: 0, x1: width }).collect()
        };
        Runs { width, height, spans }
    }

    /// Spans that already keep the invariant.
    fn from_sorted(width: u32, height: u32, spans: Vec<Span>) -> Runs {
        debug_assert!(
            spans.windows(2).all(|p| p[0].y < p[1].y || p[0].x1 < p[1].x0),
            "spans out of order"
        );
        debug_assert!(spans.iter().all(|s| s.x0 < s.x1 && s.x1 <= width && s.y < height));
        Runs { width, height, spans }
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    pub fn spans(&self) -> &[Span] {
        &self.spans
    }

    pub fn from_mask(mask: &BinaryMask) -> Runs {
        let w = mask.width() as usize;
        let mut spans = Vec::new();
        for (y, row) in mask.as_slice().chunks_exact(w.max(1)).enumerate() {
            spans.extend(super::mask::row_runs(row, true).map(|(s, e)| Span {
                y: y as u32,
                x0: s as u32,
                x1: e as u32,
            }));
        }
        Runs::from_sorted(mask.width(), mask.height(), spans)
    }

    pub fn to_mask(&self) -> BinaryMask {
        let mut m = BinaryMask::new(self.width, self.height);
        let w = self.width as usize;
        let data = m.as_mut_slice();
        for s in &self.spans {
            let at = s.y as usize * w;
            data[at + s.x0 as usize..at + s.x1 as usize].fill(1);
        }
        m
    }

    /// The pixels of an RLE (column-major, as COCO stores instance masks), decoded only inside
    /// the instance's box.
    #[allow(clippy::expect_used)] // cannot fail: the list is checked non-empty before
    pub fn from_rle(rle: &Rle) -> Runs {
        let (h, w) = (rle.h as u64, rle.w as u64);
        if h == 0 || w == 0 {
            return Runs::empty(rle.w, rle.h);
        }
        // foreground runs as [start, end) in column-major order, clipped to the mask
        let mut runs = Vec::new();
        let (mut at, mut fg) = (0u64, false);
        for &c in &rle.counts {
            let end = (at + c as u64).min(h * w);
            if fg && end > at {
                runs.push((at, end));
            }
            at = end;
            fg = !fg;
        }
        let Some(&(first, _)) = runs.first() else {
            return Runs::empty(rle.w, rle.h);
        };
        let last = runs.last().expect("non-empty").1 - 1;
        let (x0, x1) = (first / h, last / h + 1);
        let (mut y0, mut y1) = (h, 0);
        for &(s, e) in &runs {
            if s / h != (e - 1) / h {
                (y0, y1) = (0, h);
                break;
            }
            y0 = y0.min(s % h);
            y1 = y1.max((e - 1) % h + 1);
        }
        let (cw, ch) = ((x1 - x0) as usize, (y1 - y0) as usize);
        let mut crop = vec![0u8; cw * ch];
        for &(s, e) in &runs {
            let mut i = s;
            while i < e {
                let (x, y) = (i / h, i % h);
                let n = (h - y).min(e - i);
                for yy in y..y + n {
                    crop[(yy - y0) as usize * cw + (x - x0) as usize] = 1;
                }
                i += n;
            }
        }
        let mut spans = Vec::new();
        for (dy, row) in crop.chunks_exact(cw).enumerate() {
            spans.extend(super::mask::row_runs(row, true).map(|(s, e)| Span {
                y: (y0 as usize + dy) as u32,
                x0: (x0 as usize + s) as u32,
                x1: (x0 as usize + e) as u32,
            }));
        }
        Runs::from_sorted(rle.w, rle.h, spans)
    }

    /// Column-major COCO RLE of the same pixels.
    pub fn to_rle(&self) -> Rle {
        Rle::encode(&self.to_mask())
    }

    /// Every non-zero value of a label mask and its pixels, in one pass, sorted by value.
    pub fn by_label(mask: &LabelMask) -> Vec<(u16, Runs)> {
        Runs::by_value(mask.width(), mask.height(), mask.as_slice())
    }

    /// The same for row-major values of any integer type (8-bit masks are split as they are).
    pub fn by_value<T: Copy + Eq + Into<u16>>(w: u32, h: u32, data: &[T]) -> Vec<(u16, Runs)> {
        let mut split = SplitByValue::new(w, h);
        data.chunks_exact(w.max(1) as usize)
            .take(h as usize)
            .for_each(|row| split.push_row(row));
        split.finish()
    }

    pub fn area(&self) -> u64 {
        self.spans.iter().map(Span::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Tight box around the pixels (pixel edges), `None` when empty.
    pub fn bbox(&self) -> Option<BBox> {
        let (first, last) = (self.spans.first()?, self.spans.last()?);
        let x0 = self.spans.iter().map(|s| s.x0).min()?;
        let x1 = self.spans.iter().map(|s| s.x1).max()?;
        Some(BBox::from_corners(
            x0 as f64,
            first.y as f64,
            x1 as f64,
            last.y as f64 + 1.0,
        ))
    }

    /// Centre of mass (pixel centres at `x + 0.5`), `None` when empty; exact integer sums.
    pub fn centroid(&self) -> Option<(f64, f64)> {
        let (mut n, mut sx2, mut sy2) = (0u128, 0u128, 0u128);
        for s in &self.spans {
            let k = s.len() as u128;
            n += k;
            sx2 += k * (s.x0 as u128 + s.x1 as u128);
            sy2 += k * (2 * s.y as u128 + 1);
        }
        (n > 0).then(|| (sx2 as f64 / (2 * n) as f64, sy2 as f64 / (2 * n) as f64))
    }

    /// Index of each row's first span: row `y`'s spans are `spans[idx[y]..idx[y + 1]]`.
    fn row_index(&self) -> Vec<usize> {
        let mut idx = vec![0usize; self.height as usize + 1];
        for s in &self.spans {
            idx[s.y as usize + 1] += 1;
        }
        for y in 0..self.height as usize {
            idx[y + 1] += idx[y];
        }
        idx
    }

    pub fn union(&self, other: &Runs) -> Runs {
        let (a, b) = (&self.spans, &other.spans);
        let mut out = Vec::with_capacity(a.len() + b.len());
        let (mut i, mut j) = (0, 0);
        while i < a.len() || j < b.len() {
            let s = if j >= b.len() || (i < a.len() && (a[i].y, a[i].x0) <= (b[j].y, b[j].x0)) {
                i += 1;
                a[i - 1]
            } else {
                j += 1;
                b[j - 1]
            };
            push_joined(&mut out, s);
        }
        Runs::from_sorted(self.width, self.height, out)
    }

    /// Calls `f` with every non-empty overlap of a span of `self` and a span of `other`.
    fn overlaps(&self, other: &Runs, mut f: impl FnMut(Span)) {
        let (a, b) = (&self.spans, &other.spans);
        let (mut i, mut j) = (0, 0);
        while i < a.len() && j < b.len() {
            let (p, q) = (a[i], b[j]);
            if p.y != q.y {
                if p.y < q.y {
                    i += 1;
                } else {
                    j += 1;
                }
                continue;
            }
            let (lo, hi) = (p.x0.max(q.x0), p.x1.min(q.x1));
            if lo < hi {
                f(Span { y: p.y, x0: lo, x1: hi });
            }
            if p.x1 < q.x1 {
                i += 1;
            } else {
                j += 1;
            }
        }
    }

    pub fn intersection(&self, other: &Runs) -> Runs {
        let mut out = Vec::new();
        self.overlaps(other, |s| out.push(s));
        Runs::from_sorted(self.width, self.height, out)
    }

    /// The area of the intersection, without building it.
    pub fn intersection_area(&self, other: &Runs) -> u64 {
        let mut n = 0;
        self.overlaps(other, |s| n += s.len());
        n
    }

    pub fn minus(&self, other: &Runs) -> Runs {
        let b = &other.spans;
        let mut out = Vec::with_capacity(self.spans.len());
        let mut j = 0;
        for p in &self.spans {
            while j < b.len() && (b[j].y < p.y || (b[j].y == p.y && b[j].x1 <= p.x0)) {
                j += 1;
            }
            let mut start = p.x0;
            let mut k = j;
            while k < b.len() && b[k].y == p.y && b[k].x0 < p.x1 {
                if b[k].x0 > start {
                    out.push(Span {
                        y: p.y,
                        x0: start,
                        x1: b[k].x0,
                    });
                }
                start = start.max(b[k].x1);
                k += 1;
            }
            if start < p.x1 {
                out.push(Span {
                    y: p.y,
                    x0: start,
                    x1: p.x1,
                });
            }
        }
        Runs::from_sorted(self.width, self.height, out)
    }

    /// The unset pixels of the window `x0..x1` × `y0..y1`.
    pub(crate) fn complement_in(&self, (wx0, wy0, wx1, wy1): (u32, u32, u32, u32)) -> Runs {
        let idx = self.row_index();
        let mut out = Vec::new();
        for y in wy0..wy1 {
            let mut x = wx0;
            for s in &self.spans[idx[y as usize]..idx[y as usize + 1]] {
                if s.x1 <= wx0 || s.x0 >= wx1 {
                    continue;
                }
                if s.x0 > x {
                    out.push(Span { y, x0: x, x1: s.x0 });
                }
                x = s.x1;
            }
            if x < wx1 {
                out.push(Span { y, x0: x, x1: wx1 });
            }
        }
        Runs::from_sorted(self.width, self.height, out)
    }

    pub fn complement(&self) -> Runs {
        self.complement_in((0, 0, self.width, self.height))
    }

    /// Rows `rows` of the pixels within Euclidean distance `r` of a set pixel: a disc is a stack
    /// of rows, so each output row is the union of the spans of the rows within `r`, each
    /// widened by that row's half-width of the disc.
    fn grow(&self, r: f64, rows: std::ops::Range<u32>) -> Runs {
        let half = disc_half_widths(r);
        let ry = half.len() as i64 - 1;
        let (w, h) = (self.width as i64, self.height as i64);
        let idx = self.row_index();
        let mut out = Vec::new();
        // the row's union so far and a scratch list: each contributing row's spans are sorted,
        // so they are merged in, not sorted
        let mut acc: Vec<(i64, i64)> = Vec::new();
        let mut next: Vec<(i64, i64)> = Vec::new();
        'row: for y in rows {
            // fast path: when each row in reach has at most one span and each widened span
            // overlaps or touches the one before, their union is one span
            let (mut lo, mut hi, mut prev) = (i64::MAX, i64::MIN, None::<(i64, i64)>);
            let mut chained = true;
            for dy in -ry..=ry {
                let sy = y as i64 + dy;
                if sy < 0 || sy >= h {
                    continue;
                }
                let add = &self.spans[idx[sy as usize]..idx[sy as usize + 1]];
                match add {
                    [] => {}
                    [sp] => {
                        let hw = half[dy.unsigned_abs() as usize];
                        let (s, e) = ((sp.x0 as i64 - hw).max(0), (sp.x1 as i64 + hw).min(w));
                        if let Some((ps, pe)) = prev
                            && (s > pe || ps > e)
                        {
                            chained = false;
                            break;
                        }
                        prev = Some((s, e));
                        (lo, hi) = (lo.min(s), hi.max(e));
                    }
                    _ => {
                        chained = false;
                        break;
                    }
                }
            }
            if chained {
                if lo < hi {
                    out.push(Span {
                        y,
                        x0: lo as u32,
                        x1: hi as u32,
                    });
                }
                continue 'row;
            }
            acc.clear();
            for dy in -ry..=ry {
                let sy = y as i64 + dy;
                if sy < 0 || sy >= h {
                    continue;
                }
                let hw = half[dy.unsigned_abs() as usize];
                let add = &self.spans[idx[sy as usize]..idx[sy as usize + 1]];
                if add.is_empty() {
                    continue;
                }
                next.clear();
                let (mut i, mut j) = (0, 0);
                while i < acc.len() || j < add.len() {
                    let take_acc = j >= add.len() || (i < acc.len() && acc[i].0 <= add[j].x0 as i64 - hw);
                    let (s, e) = if take_acc {
                        i += 1;
                        acc[i - 1]
                    } else {
                        j += 1;
                        ((add[j - 1].x0 as i64 - hw).max(0), (add[j - 1].x1 as i64 + hw).min(w))
                    };
                    match next.last_mut() {
                        Some(last) if s <= last.1 => last.1 = last.1.max(e),
                        _ => next.push((s, e)),
                    }
                }
                std::mem::swap(&mut acc, &mut next);
            }
            out.extend(acc.iter().map(|&(s, e)| Span {
                y,
                x0: s as u32,
                x1: e as u32,
            }));
        }
        Runs::from_sorted(self.width, self.height, out)
    }

    /// A radius that reaches every pixel centre of the image from every other: growing or
    /// shrinking by more changes nothing, so a radius of 1e11 px costs what this one does.
    fn reach(&self) -> f64 {
        (self.width as f64).hypot(self.height as f64).ceil() + 1.0
    }

    /// The rows within `r` of the set rows, clipped to the mask.
    fn rows_near(&self, r: f64) -> std::ops::Range<u32> {
        match (self.spans.first(), self.spans.last()) {
            (Some(a), Some(b)) => {
                let ry = r.floor() as u32;
                a.y.saturating_sub(ry)..(b.y + 1).saturating_add(ry).min(self.height)
            }
            _ => 0..0,
        }
    }

    /// Pixels within Euclidean distance `r` of the mask (exact, between pixel centres).
    pub fn dilate(&self, r: f64) -> Runs {
        if r.is_nan() || r <= 0.0 || self.is_empty() {
            return self.clone();
        }
        let r = r.min(self.reach());
        self.grow(r, self.rows_near(r))
    }

    /// Pixels farther than `r` from the background (pixels outside the image are not background).
    pub fn erode(&self, r: f64) -> Runs {
        if r.is_nan() || r <= 0.0 || self.is_empty() {
            return self.clone();
        }
        let r = r.min(self.reach());
        let rows = self.rows_near(0.0);
        let near = self.rows_near(r);
        let background = self.complement_in((0, near.start, self.width, near.end));
        self.minus(&background.grow(r, rows))
    }

    /// The filled convex hull: the pixels whose centres lie in the convex hull of the set pixels'
    /// squares (every set pixel among them). Exact: the hull's corners are pixel corners and each
    /// row's bounds are found in integers.
    pub fn convex_hull(&self) -> Runs {
        if self.is_empty() {
            return self.clone();
        }
        let idx = self.row_index();
        // each row's outermost corners, level by level (the line between rows y - 1 and y holds
        // the bottom corners of row y - 1 and the top corners of row y): only the leftmost and
        // the rightmost of a level can be hull vertices, and they come out in (y, x) order
        let ends = |y: i64| -> Option<(i64, i64)> {
            if y < 0 || y >= self.height as i64 {
                return None;
            }
            let row = &self.spans[idx[y as usize]..idx[y as usize + 1]];
            Some((row.first()?.x0 as i64, row.last()?.x1 as i64))
        };
        let (first, last) = (self.spans[0].y as i64, self.spans[self.spans.len() - 1].y as i64);
        let mut pts: Vec<(i64, i64)> = Vec::with_capacity(2 * (last - first + 2) as usize);
        for level in first..=last + 1 {
            let (l, r) = match (ends(level - 1), ends(level)) {
                (Some(a), Some(b)) => (a.0.min(b.0), a.1.max(b.1)),
                (Some(a), None) | (None, Some(a)) => a,
                (None, None) => continue,
            };
            pts.push((level, l));
            pts.push((level, r));
        }
        // (y, x) order: Andrew's monotone chain works along either axis
        let pts: Vec<(i64, i64)> = pts.into_iter().map(|(y, x)| (x, y)).collect();
        let cross = |o: (i64, i64), a: (i64, i64), b: (i64, i64)| (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0);
        let mut hull: Vec<(i64, i64)> = Vec::new();
        for pass in [
            &mut pts.iter() as &mut dyn Iterator<Item = &(i64, i64)>,
            &mut pts.iter().rev(),
        ] {
            let start = hull.len();
            for &p in pass {
                while hull.len() >= start + 2 && cross(hull[hull.len() - 2], hull[hull.len() - 1], p) <= 0 {
                    hull.pop();
                }
                hull.push(p);
            }
            hull.pop();
        }
        let (ymin, ymax) = (self.spans[0].y as i64, self.spans[self.spans.len() - 1].y as i64 + 1);
        let rows = (ymax - ymin) as usize;
        let (mut lo, mut hi) = (vec![i64::MAX; rows], vec![i64::MIN; rows]);
        for k in 0..hull.len() {
            let (p, q) = (hull[k], hull[(k + 1) % hull.len()]);
            if p.1 == q.1 {
                continue; // a horizontal edge never crosses a row of pixel centres
            }
            let (p, q) = if p.1 < q.1 { (p, q) } else { (q, p) };
            let d = q.1 - p.1;
            // the edge crosses the centre line of row y at x = n / 2d with
            // n = 2·px·d + (qx − px)(2y + 1 − 2py); pixel x is inside when its centre x + ½ lies
            // between the row's two crossings, so the bounds are ⌈(n − d) / 2d⌉ and
            // ⌊(n − d) / 2d⌋ + 1. (n − d) / 2d is carried as quotient and remainder from row to
            // row (it grows by 2(qx − px) / 2d), so there is no division per row.
            let den = 2 * d;
            let first = 2 * p.0 * d + (q.0 - p.0) - d;
            let (mut quot, mut rem) = (first.div_euclid(den), first.rem_euclid(den));
            let step = 2 * (q.0 - p.0);
            let (step_quot, step_rem) = (step.div_euclid(den), step.rem_euclid(den));
            for y in p.1..q.1 {
                let i = (y - ymin) as usize;
                lo[i] = lo[i].min(quot + (rem > 0) as i64);
                hi[i] = hi[i].max(quot + 1);
                quot += step_quot;
                rem += step_rem;
                if rem >= den {
                    quot += 1;
                    rem -= den;
                }
            }
        }
        let mut spans = Vec::with_capacity(rows);
        for (i, (&a, &b)) in lo.iter().zip(&hi).enumerate() {
            let (a, b) = (a.max(0), b.min(self.width as i64));
            if a < b {
                spans.push(Span {
                    y: (ymin + i as i64) as u32,
                    x0: a as u32,
                    x1: b as u32,
                });
            }
        }
        // every set pixel is among them: its centre lies inside its own square
        Runs::from_sorted(self.width, self.height, spans)
    }

    /// Connected components: each span's component (numbered from 0 in the raster order of
    /// their first pixel) and the components. Union–find over the spans of neighbouring rows.
    pub fn label(&self, conn: Connectivity) -> (Vec<u32>, Vec<Component>) {
        let s = &self.spans;
        let mut parent: Vec<u32> = (0..s.len() as u32).collect();
        fn find(parent: &mut [u32], mut i: u32) -> u32 {
            while parent[i as usize] != i {
                let p = parent[parent[i as usize] as usize];
                parent[i as usize] = p;
                i = p;
            }
            i
        }
        let reach = (conn == Connectivity::Eight) as u32;
        // the previous row's spans, and the current row's
        let (mut prev, mut cur) = (0..0, 0..0);
        let mut i = 0;
        while i < s.len() {
            let y = s[i].y;
            let start = i;
            while i < s.len() && s[i].y == y {
                i += 1;
            }
            (prev, cur) = (
                if cur.end > 0 && s[cur.start].y + 1 == y {
                    cur
                } else {
                    0..0
                },
                start..i,
            );
            let mut j = prev.start;
            for c in cur.clone() {
                let Span { x0, x1, .. } = s[c];
                while j < prev.end && s[j].x1 + reach <= x0 {
                    j += 1;
                }
                let mut k = j;
                while k < prev.end && s[k].x0 < x1 + reach {
                    let (a, b) = (find(&mut parent, c as u32), find(&mut parent, k as u32));
                    if a != b {
                        let (lo, hi) = if a < b { (a, b) } else { (b, a) };
                        parent[hi as usize] = lo;
                    }
                    k += 1;
                }
            }
        }
        let _ = prev;
        let mut id_of_root = vec![u32::MAX; s.len()];
        let mut ids = Vec::with_capacity(s.len());
        struct Acc {
            area: u64,
            sx2: u64,
            sy2: u64,
            x0: u32,
            y0: u32,
            x1: u32,
            y1: u32,
        }
        let mut acc: Vec<Acc> = Vec::new();
        for (i, sp) in s.iter().enumerate() {
            let root = find(&mut parent, i as u32) as usize;
            if id_of_root[root] == u32::MAX {
                id_of_root[root] = acc.len() as u32;
                acc.push(Acc {
                    area: 0,
                    sx2: 0,
                    sy2: 0,
                    x0: u32::MAX,
                    y0: sp.y,
                    x1: 0,
                    y1: 0,
                });
            }
            let id = id_of_root[root];
            ids.push(id);
            let a = &mut acc[id as usize];
            let n = sp.len();
            a.area += n;
            a.sx2 += n * (sp.x0 as u64 + sp.x1 as u64);
            a.sy2 += n * (2 * sp.y as u64 + 1);
            a.x0 = a.x0.min(sp.x0);
            a.x1 = a.x1.max(sp.x1);
            a.y1 = sp.y;
        }
        let comps = acc
            .into_iter()
            .map(|a| Component {
                area: a.area,
                bbox: BBox::from_corners(a.x0 as f64, a.y0 as f64, a.x1 as f64, a.y1 as f64 + 1.0),
                centroid: (a.sx2 as f64 / (2 * a.area) as f64, a.sy2 as f64 / (2 * a.area) as f64),
                touches_border: a.x0 == 0 || a.y0 == 0 || a.x1 == self.width || a.y1 + 1 == self.height,
            })
            .collect();
        (ids, comps)
    }

    /// The spans whose component `keep` accepts (`ids` from [`Runs::label`]).
    pub fn select(&self, ids: &[u32], keep: impl Fn(u32) -> bool) -> Runs {
        let spans = self
            .spans
            .iter()
            .zip(ids)
            .filter(|(_, id)| keep(**id))
            .map(|(s, _)| *s)
            .collect();
        Runs::from_sorted(self.width, self.height, spans)
    }

    /// The holes of at least `min_area` pixels — background regions (the dual connectivity of
    /// `conn`) that do not reach the image border — and their pixels. Only the box around the
    /// mask, grown by a pixel, is looked at: everything outside it reaches the border.
    pub fn holes(&self, conn: Connectivity, min_area: f64) -> (Vec<Component>, Runs) {
        let Some(b) = self.bbox() else {
            return (Vec::new(), self.clone());
        };
        let win = (
            (b.x as u32).saturating_sub(1),
            (b.y as u32).saturating_sub(1),
            (b.x2() as u32 + 1).min(self.width),
            (b.y2() as u32 + 1).min(self.height),
        );
        let background = self.complement_in(win);
        let dual = match conn {
            Connectivity::Four => Connectivity::Eight,
            Connectivity::Eight => Connectivity::Four,
        };
        let (ids, comps) = background.label(dual);
        let keep: Vec<bool> = comps
            .iter()
            .map(|c| {
                let edge = c.bbox.x as u32 == win.0
                    || c.bbox.y as u32 == win.1
                    || c.bbox.x2() as u32 == win.2
                    || c.bbox.y2() as u32 == win.3;
                !edge && !c.touches_border && c.area as f64 >= min_area
            })
            .collect();
        let pixels = background.select(&ids, |id| keep[id as usize]);
        let holes = comps
            .into_iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(c, _)| c)
            .collect();
        (holes, pixels)
    }

    /// The mask with its holes (4-connected background enclosed by 8-connected foreground) filled.
    pub fn fill_holes(&self) -> Runs {
        self.union(&self.holes(Connectivity::Eight, 0.0).1)
    }

    /// The largest 8-connected component (the last of equals), or the empty mask.
    pub fn largest_component(&self) -> Runs {
        let (ids, comps) = self.label(Connectivity::Eight);
        let Some((best, _)) = comps.iter().enumerate().max_by_key(|(_, c)| c.area) else {
            return self.clone();
        };
        self.select(&ids, |id| id as usize == best)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::components;
    use crate::geometry::mask::random_mask;
    use proptest::prelude::*;

    fn pair(w: u32, h: u32, seed: u64, density: f64) -> (BinaryMask, BinaryMask) {
        (
            random_mask(w, h, seed, density),
            random_mask(w, h, seed.wrapping_mul(6364136223846793005).wrapping_add(1), density),
        )
    }

    #[test]
    fn a_radius_beyond_the_image_is_the_image_reach() {
        // dilate(x, 99999999999px) allocated a disc of 1e11 rows and aborted
        let m = random_mask(30, 20, 7, 0.1);
        let r = Runs::from_mask(&m);
        assert_eq!(r.dilate(1e11), r.dilate(r.reach()));
        assert_eq!(r.dilate(1e11).area(), 600);
        assert_eq!(r.erode(1e11), r.erode(r.reach()));
        assert_eq!(r.dilate(f64::INFINITY).area(), 600);
        assert_eq!(r.dilate(f64::NAN), r);
        // and the reach is exact: one pixel in a corner grows to the far corner
        let mut one = BinaryMask::new(30, 20);
        one.set(0, 0, true);
        let o = Runs::from_mask(&one);
        assert_eq!(o.dilate(o.reach()).area(), 600);
        assert_eq!(o.dilate(1e11), o.dilate(o.reach()));
    }

    proptest! {
        #[test]
        fn set_operations_equal_the_pixel_ones(w in 1u32..40, h in 1u32..40, seed in 0u64..u64::MAX, d in 0.05f64..0.9) {
            let (a, b) = pair(w, h, seed, d);
            let (ra, rb) = (Runs::from_mask(&a), Runs::from_mask(&b));
            prop_assert_eq!(ra.to_mask(), a.clone());
            prop_assert_eq!(ra.area(), a.area());
            prop_assert_eq!(ra.bbox(), a.bbox());
            prop_assert_eq!(ra.centroid(), a.centroid());
            prop_assert_eq!(ra.union(&rb), Runs::from_mask(&a.union(&b).unwrap()));
            prop_assert_eq!(ra.intersection(&rb), Runs::from_mask(&a.intersection(&b).unwrap()));
            prop_assert_eq!(ra.intersection_area(&rb), a.intersection(&b).unwrap().area());
            prop_assert_eq!(ra.minus(&rb), Runs::from_mask(&a.minus(&b).unwrap()));
            prop_assert_eq!(ra.complement().to_mask(), crate::geometry::morphology::complement(&a));
        }

        #[test]
        fn an_rle_gives_the_pixels_it_decodes_to(w in 1u32..40, h in 1u32..40, seed in 0u64..u64::MAX, d in 0.0f64..0.9) {
            let a = random_mask(w, h, seed, d);
            prop_assert_eq!(Runs::from_rle(&Rle::encode(&a)).to_mask(), a.clone());
            prop_assert_eq!(Runs::from_mask(&a).to_rle(), Rle::encode(&a));
        }

        #[test]
        fn labels_split_into_the_pixel_components(w in 1u32..40, h in 1u32..40, seed in 0u64..u64::MAX, d in 0.05f64..0.8, eight in any::<bool>()) {
            let a = random_mask(w, h, seed, d);
            let conn = if eight { Connectivity::Eight } else { Connectivity::Four };
            let (_, want) = components::label(&a, true, conn);
            let (ids, got) = Runs::from_mask(&a).label(conn);
            prop_assert_eq!(&got, &want);
            // each component's spans are exactly its pixels
            let (pixel_labels, _) = components::label(&a, true, conn);
            let r = Runs::from_mask(&a);
            for (k, _) in got.iter().enumerate() {
                let sel = r.select(&ids, |id| id as usize == k).to_mask();
                let exp: Vec<u8> = pixel_labels.iter().map(|&l| (l == k as u32 + 1) as u8).collect();
                prop_assert_eq!(sel.as_slice(), &exp[..]);
            }
        }

        #[test]
        fn holes_and_fills_equal_the_pixel_ones(w in 1u32..40, h in 1u32..40, seed in 0u64..u64::MAX, d in 0.3f64..0.9, min_area in 0.0f64..4.0) {
            let a = random_mask(w, h, seed, d);
            let (want, want_px) = components::holes_with_pixels(&a, Connectivity::Eight, min_area);
            let (got, got_px) = Runs::from_mask(&a).holes(Connectivity::Eight, min_area);
            prop_assert_eq!(got.iter().map(|c| (c.area, c.bbox)).collect::<Vec<_>>(), want.iter().map(|c| (c.area, c.bbox)).collect::<Vec<_>>());
            prop_assert_eq!(got_px.to_mask(), want_px);
            let (labels, comps) = components::label(&a, false, Connectivity::Four);
            let filled: Vec<u8> = a.as_slice().iter().zip(&labels)
                .map(|(&m, &l)| (m != 0 || (l > 0 && !comps[l as usize - 1].touches_border)) as u8).collect();
            let got_filled = Runs::from_mask(&a).fill_holes().to_mask();
            prop_assert_eq!(got_filled.as_slice(), &filled[..]);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn hull_holds_exactly_the_pixel_centres_inside(w in 1u32..12, h in 1u32..12, seed in 0u64..u64::MAX, d in 0.02f64..0.25) {
            let a = random_mask(w, h, seed, d);
            let hull = Runs::from_mask(&a).convex_hull().to_mask();
            // every corner of every set pixel (doubled, so centres are integers too)
            let mut pts = vec![];
            for y in 0..h { for x in 0..w { if a.get(x, y) {
                for (cx, cy) in [(x, y), (x + 1, y), (x, y + 1), (x + 1, y + 1)] { pts.push((2 * cx as i64, 2 * cy as i64)); }
            }}}
            pts.sort_unstable();
            pts.dedup();
            let edges = supporting_lines(&pts);
            for y in 0..h { for x in 0..w {
                let c = (2 * x as i64 + 1, 2 * y as i64 + 1);
                let inside = !pts.is_empty() && edges.iter().all(|&(p, q)| cross(p, q, c) >= 0);
                prop_assert_eq!(hull.get(x, y), inside, "pixel {},{}", x, y);
            }}
        }
    }

    fn cross(o: (i64, i64), a: (i64, i64), b: (i64, i64)) -> i64 {
        (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0)
    }

    /// Brute force: every pair of points with all points on its left (or on it) bounds the hull.
    fn supporting_lines(pts: &[(i64, i64)]) -> Vec<((i64, i64), (i64, i64))> {
        let mut out = vec![];
        for &p in pts {
            for &q in pts {
                if p != q && pts.iter().all(|&r| cross(p, q, r) >= 0) {
                    out.push((p, q));
                }
            }
        }
        out
    }

    #[test]
    fn labels_of_a_label_mask_come_out_per_value() {
        let data: Vec<u16> = vec![0, 1, 1, 0, 2, 2, 2, 2, 0, 0, 1, 0];
        let m = LabelMask::new(4, 3, data).unwrap();
        let by = Runs::by_label(&m);
        assert_eq!(
            by.iter().map(|(v, r)| (*v, r.area())).collect::<Vec<_>>(),
            [(1, 3), (2, 4)]
        );
        assert_eq!(by[1].1.spans(), [Span { y: 1, x0: 0, x1: 4 }]);
        // long rows take the block-skipping path
        let mut long = vec![3u16; 100];
        long[50] = 0;
        let by = Runs::by_label(&LabelMask::new(100, 1, long).unwrap());
        assert_eq!(
            by[0].1.spans(),
            [Span { y: 0, x0: 0, x1: 50 }, Span { y: 0, x0: 51, x1: 100 }]
        );
        // 16-bit values beyond the 8-bit slots
        let wide = LabelMask::new(5, 1, vec![300, 300, 7, 1000, 300]).unwrap();
        let by = Runs::by_label(&wide);
        let areas: Vec<(u16, u64)> = by.iter().map(|(v, r)| (*v, r.area())).collect();
        assert_eq!(areas, [(7, 1), (300, 3), (1000, 1)]);
    }

    proptest! {
        #[test]
        fn bytes_split_eight_at_a_time_equal_the_generic_split(w in 1u32..70, h in 1u32..6, seed in 0u64..u64::MAX, runs in 1u64..20) {
            // rows of long runs of a few values
            let mut state = seed | 1;
            let mut v = 0u8;
            let data: Vec<u8> = (0..w * h).map(|_| {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17;
                if state % (2 * runs) == 0 { v = (state >> 32) as u8 % 4; }
                v
            }).collect();
            let mut fast = SplitByValue::new(w, h);
            data.chunks_exact(w as usize).for_each(|r| fast.push_row_u8(r));
            prop_assert_eq!(fast.finish(), Runs::by_value(w, h, &data));
        }
    }

    #[test]
    fn a_box_from_an_rle_is_its_rectangle() {
        let b = BBox::from_corners(3.0, 2.0, 7.0, 5.0);
        let r = Runs::from_rle(&Rle::from_bbox(&b, 10, 12));
        assert_eq!(r.area(), 12);
        assert_eq!(r.bbox(), Some(b));
    }
}
