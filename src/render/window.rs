//! Window/level: which range of stored values maps from black to white. 16-bit radiographs use
//! a few thousand of their 65,536 values; min/max scaling hides what a reader needs, so the
//! default is a percentile window and presets and keys adjust it.

use crate::formats::image::{PixelImage, Pixels};

/// Values at or below `low` show black, at or above `high` white.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    pub low: f64,
    pub high: f64,
}

impl Window {
    pub fn from_center_width(center: f64, width: f64) -> Window {
        let width = width.max(1.0);
        Window {
            low: center - width / 2.0,
            high: center + width / 2.0,
        }
    }

    pub fn center(&self) -> f64 {
        (self.low + self.high) / 2.0
    }

    pub fn width(&self) -> f64 {
        (self.high - self.low).max(1.0)
    }

    /// Map a stored value to 0..=255.
    #[inline]
    pub fn map(&self, v: f64) -> u8 {
        let t = (v - self.low) / (self.high - self.low).max(1e-9);
        (t.clamp(0.0, 1.0) * 255.0 + 0.5) as u8
    }

    /// A lookup table for every 16-bit (or 8-bit) value.
    pub fn lut(&self, depth: u8) -> Vec<u8> {
        let n = if depth == 16 { 65536 } else { 256 };
        (0..n).map(|v| self.map(v as f64)).collect()
    }
}

/// Named windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowPreset {
    /// 0.5th to 99.5th percentile of the image's values (the default).
    Auto,
    /// The full range the image's bit depth can hold.
    Full,
    /// The image's own min..max.
    MinMax,
    /// A narrow window on the middle of the image's range (soft tissue, subtle opacities).
    Narrow,
}

impl WindowPreset {
    pub const ALL: [WindowPreset; 4] = [
        WindowPreset::Auto,
        WindowPreset::Full,
        WindowPreset::MinMax,
        WindowPreset::Narrow,
    ];

    pub fn name(&self) -> &'static str {
        match self {
            WindowPreset::Auto => "auto",
            WindowPreset::Full => "full",
            WindowPreset::MinMax => "min-max",
            WindowPreset::Narrow => "narrow",
        }
    }

    pub fn next(self) -> WindowPreset {
        let i = Self::ALL.iter().position(|p| *p == self).unwrap_or(0);
        Self::ALL[(i + 1) % Self::ALL.len()]
    }

    pub fn window(&self, stats: &ValueStats) -> Window {
        match self {
            WindowPreset::Auto => Window {
                low: stats.p_low,
                high: stats.p_high.max(stats.p_low + 1.0),
            },
            WindowPreset::Full => Window {
                low: 0.0,
                high: stats.full_range,
            },
            WindowPreset::MinMax => Window {
                low: stats.min,
                high: stats.max.max(stats.min + 1.0),
            },
            WindowPreset::Narrow => {
                let c = (stats.p_low + stats.p_high) / 2.0;
                Window::from_center_width(c, (stats.p_high - stats.p_low) * 0.4)
            }
        }
    }
}

/// An image's value distribution, for windows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValueStats {
    pub min: f64,
    pub max: f64,
    pub p_low: f64,
    pub p_high: f64,
    /// 255 or 65535.
    pub full_range: f64,
}

impl ValueStats {
    pub fn of(img: &PixelImage) -> ValueStats {
        let (depth_max, hist): (usize, Vec<u64>) = match &img.pixels {
            Pixels::Gray8(p) => (255, histogram(p.iter().map(|&v| v as usize), 256)),
            Pixels::Rgb8(_) => (
                255,
                histogram(
                    (0..img.width * img.height).map(|i| img.value(i % img.width, i / img.width) as usize),
                    256,
                ),
            ),
            Pixels::Gray16(p) => (65535, histogram(p.iter().map(|&v| v as usize), 65536)),
            Pixels::Rgb16(_) => (
                65535,
                histogram(
                    (0..img.width * img.height).map(|i| img.value(i % img.width, i / img.width) as usize),
                    65536,
                ),
            ),
        };
        let total: u64 = hist.iter().sum();
        let quantile = |q: f64| -> f64 {
            let target = (q * total as f64) as u64;
            let mut acc = 0u64;
            for (v, &n) in hist.iter().enumerate() {
                acc += n;
                if acc > target {
                    return v as f64;
                }
            }
            depth_max as f64
        };
        let min = hist.iter().position(|&n| n > 0).unwrap_or(0) as f64;
        let max = hist.iter().rposition(|&n| n > 0).unwrap_or(depth_max) as f64;
        ValueStats {
            min,
            max,
            p_low: quantile(0.005),
            p_high: quantile(0.995),
            full_range: depth_max as f64,
        }
    }
}

fn histogram(values: impl Iterator<Item = usize>, n: usize) -> Vec<u64> {
    let mut h = vec![0u64; n];
    for v in values {
        h[v.min(n - 1)] += 1;
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twelve_bit_data_gets_a_percentile_window_not_the_full_16_bit_range() {
        let data: Vec<u16> = (0..1000u16).map(|i| 1000 + i * 2).collect();
        let img = PixelImage {
            width: 1000,
            height: 1,
            pixels: Pixels::Gray16(data),
        };
        let s = ValueStats::of(&img);
        let w = WindowPreset::Auto.window(&s);
        assert!(w.low >= 1000.0 && w.high <= 3000.0, "{w:?}");
        assert_eq!(w.map(w.low), 0);
        assert_eq!(w.map(w.high), 255);
        assert_eq!(WindowPreset::Full.window(&s).high, 65535.0);
    }
}
