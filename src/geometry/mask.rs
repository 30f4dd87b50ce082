//! Pixel masks held row-major in memory: [`BinaryMask`] (one object or class) and
//! [`LabelMask`] (one class value per pixel, 8- or 16-bit as read from a PNG).

use super::bbox::BBox;

/// A binary mask, row-major, one byte (0 or 1) per pixel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinaryMask {
    width: u32,
    height: u32,
    data: Vec<u8>,
}

impl BinaryMask {
    /// An empty (all-background) mask.
    pub fn new(width: u32, height: u32) -> Self {
        BinaryMask {
            width,
            height,
            data: vec![0; width as usize * height as usize],
        }
    }

    /// From row-major bytes; any non-zero byte is foreground. `None` if the length is wrong.
    pub fn from_row_major(width: u32, height: u32, mut data: Vec<u8>) -> Option<Self> {
        if data.len() != width as usize * height as usize {
            return None;
        }
        for v in &mut data {
            *v = (*v != 0) as u8;
        }
        Some(BinaryMask { width, height, data })
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    pub fn as_slice(&self) -> &[u8] {
        &self.data
    }

    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.data
    }

    #[inline]
    pub fn get(&self, x: u32, y: u32) -> bool {
        x < self.width && y < self.height && self.data[y as usize * self.width as usize + x as usize] != 0
    }

    #[inline]
    pub fn set(&mut self, x: u32, y: u32, v: bool) {
        if x < self.width && y < self.height {
            self.data[y as usize * self.width as usize + x as usize] = v as u8;
        }
    }

    /// Number of foreground pixels.
    pub fn area(&self) -> u64 {
        self.data.iter().map(|&v| v as u64).sum()
    }

    /// Tight box around the foreground (pixel edges), `None` when empty.
    pub fn bbox(&self) -> Option<BBox> {
        let w = self.width as usize;
        let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0usize, 0usize);
        for (y, row) in self.data.chunks_exact(w.max(1)).enumerate() {
            if let Some(first) = row.iter().position(|&v| v != 0) {
                let last = row.iter().rposition(|&v| v != 0).unwrap_or(first);
                x0 = x0.min(first);
                x1 = x1.max(last);
                y0 = y0.min(y);
                y1 = y1.max(y);
            }
        }
        (x0 != usize::MAX).then(|| BBox::from_corners(x0 as f64, y0 as f64, x1 as f64 + 1.0, y1 as f64 + 1.0))
    }

    /// Centre of mass in pixel coordinates (pixel centres at `x + 0.5`), `None` when empty.
    pub fn centroid(&self) -> Option<(f64, f64)> {
        let w = self.width as usize;
        let (mut sx, mut sy, mut n) = (0f64, 0f64, 0u64);
        for (y, row) in self.data.chunks_exact(w.max(1)).enumerate() {
            let mut rn = 0u64;
            for (x, &v) in row.iter().enumerate() {
                if v != 0 {
                    sx += x as f64 + 0.5;
                    rn += 1;
                }
            }
            sy += rn as f64 * (y as f64 + 0.5);
            n += rn;
        }
        (n > 0).then(|| (sx / n as f64, sy / n as f64))
    }

    /// Pixel-wise union, intersection and difference (same size required; `None` otherwise).
    pub fn union(&self, other: &BinaryMask) -> Option<BinaryMask> {
        self.zip(other, |a, b| a | b)
    }

    pub fn intersection(&self, other: &BinaryMask) -> Option<BinaryMask> {
        self.zip(other, |a, b| a & b)
    }

    pub fn minus(&self, other: &BinaryMask) -> Option<BinaryMask> {
        self.zip(other, |a, b| a & (1 - b))
    }

    fn zip(&self, other: &BinaryMask, f: impl Fn(u8, u8) -> u8) -> Option<BinaryMask> {
        if self.width != other.width || self.height != other.height {
            return None;
        }
        let data = self.data.iter().zip(&other.data).map(|(&a, &b)| f(a, b)).collect();
        Some(BinaryMask {
            width: self.width,
            height: self.height,
            data,
        })
    }
}

/// A label mask: one class value per pixel (0 = background by convention), row-major.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelMask {
    width: u32,
    height: u32,
    data: Vec<u16>,
}

impl LabelMask {
    pub fn new(width: u32, height: u32, data: Vec<u16>) -> Option<Self> {
        (data.len() == width as usize * height as usize).then_some(LabelMask { width, height, data })
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    pub fn as_slice(&self) -> &[u16] {
        &self.data
    }

    pub fn get(&self, x: u32, y: u32) -> u16 {
        self.data[y as usize * self.width as usize + x as usize]
    }

    /// The pixels carrying `value`, as a binary mask.
    pub fn binary(&self, value: u16) -> BinaryMask {
        let data = self.data.iter().map(|&v| (v == value) as u8).collect();
        BinaryMask {
            width: self.width,
            height: self.height,
            data,
        }
    }

    /// Distinct values present, sorted, with their pixel counts.
    pub fn histogram(&self) -> Vec<(u16, u64)> {
        let mut counts = std::collections::BTreeMap::new();
        for &v in &self.data {
            *counts.entry(v).or_insert(0u64) += 1;
        }
        counts.into_iter().collect()
    }
}

/// The runs `[start, end)` of a row's pixels that are set (`want` true) or unset.
pub fn row_runs(row: &[u8], want: bool) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut x = 0;
    std::iter::from_fn(move || {
        while x < row.len() && (row[x] != 0) != want {
            x += 1;
        }
        if x >= row.len() {
            return None;
        }
        let s = x;
        while x < row.len() && (row[x] != 0) == want {
            x += 1;
        }
        Some((s, x))
    })
}

/// A pseudo-random mask (xorshift; `density` of the pixels set), for property tests.
#[cfg(test)]
pub fn random_mask(w: u32, h: u32, seed: u64, density: f64) -> BinaryMask {
    let mut state = seed | 1;
    let data = (0..w * h)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ((state % 1000) as f64 / 1000.0 < density) as u8
        })
        .collect();
    BinaryMask::from_row_major(w, h, data).expect("size")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bbox_and_centroid_of_a_block() {
        let mut m = BinaryMask::new(10, 10);
        for y in 2..4 {
            for x in 3..7 {
                m.set(x, y, true);
            }
        }
        assert_eq!(m.bbox().unwrap().to_array(), [3.0, 2.0, 4.0, 2.0]);
        assert_eq!(m.centroid().unwrap(), (5.0, 3.0));
        assert_eq!(m.area(), 8);
        assert!(BinaryMask::new(4, 4).bbox().is_none());
    }

    #[test]
    fn label_mask_splits_into_classes() {
        let l = LabelMask::new(2, 2, vec![0, 1, 2, 1]).unwrap();
        assert_eq!(l.binary(1).area(), 2);
        assert_eq!(l.histogram(), vec![(0, 1), (1, 2), (2, 1)]);
    }
}
