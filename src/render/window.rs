//! Window/level: which range of stored values maps from black to white. 16-bit radiographs use
//! a few thousand of their 65,536 values; min/max scaling hides what a reader needs, so the
//! default is a percentile window and presets and keys adjust it.

use crate::formats::image::{PixelImage, Pixels};
use crate::formats::scan::{Scan, VoiFunction};

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
    /// The window the file recommends (DICOM Window Center/Width or VOI LUT); for files without
    /// one, the full range for radiographs and `auto` for everything else. The default.
    File,
    /// 0.5th to 99.5th percentile of the image's values.
    Auto,
    /// The full range the image's bit depth can hold.
    Full,
    /// The image's own min..max.
    MinMax,
    /// A narrow window on the middle of the image's range (soft tissue, subtle opacities).
    Narrow,
    /// CT lung: C −600 W 1500 HU.
    Lung,
    /// CT mediastinum: C 40 W 400 HU.
    Mediastinum,
    /// CT bone: C 400 W 1800 HU.
    Bone,
    /// CT brain: C 40 W 80 HU.
    Brain,
}

impl WindowPreset {
    pub const ALL: [WindowPreset; 9] = [
        WindowPreset::File,
        WindowPreset::Auto,
        WindowPreset::Full,
        WindowPreset::MinMax,
        WindowPreset::Narrow,
        WindowPreset::Lung,
        WindowPreset::Mediastinum,
        WindowPreset::Bone,
        WindowPreset::Brain,
    ];

    pub fn name(&self) -> &'static str {
        match self {
            WindowPreset::File => "file",
            WindowPreset::Auto => "auto",
            WindowPreset::Full => "full",
            WindowPreset::MinMax => "min-max",
            WindowPreset::Narrow => "narrow",
            WindowPreset::Lung => "lung",
            WindowPreset::Mediastinum => "mediastinum",
            WindowPreset::Bone => "bone",
            WindowPreset::Brain => "brain",
        }
    }

    pub fn from_name(name: &str) -> Option<WindowPreset> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    /// All names, for messages.
    pub fn names() -> String {
        Self::ALL.map(|p| p.name()).join(", ")
    }

    /// CT presets in Hounsfield units (center, width).
    fn hounsfield(&self) -> Option<(f64, f64)> {
        match self {
            WindowPreset::Lung => Some((-600.0, 1500.0)),
            WindowPreset::Mediastinum => Some((40.0, 400.0)),
            WindowPreset::Bone => Some((400.0, 1800.0)),
            WindowPreset::Brain => Some((40.0, 80.0)),
            _ => None,
        }
    }

    /// Whether this preset means something for an image: CT presets need Hounsfield units,
    /// `file` needs a window or VOI LUT in the file (or a radiograph's full range).
    pub fn applies(&self, scan: Option<&Scan>) -> bool {
        match self {
            WindowPreset::File => {
                scan.is_some_and(|s| !s.windows.is_empty() || s.voi_lut.is_some() || s.is_radiograph())
            }
            p if p.hounsfield().is_some() => scan.is_some_and(|s| s.is_ct()),
            _ => true,
        }
    }

    /// The preset actually in force for an image (`file` falls back to `auto`, CT presets on a
    /// non-CT image too).
    pub fn effective(self, scan: Option<&Scan>) -> WindowPreset {
        if self.applies(scan) { self } else { WindowPreset::Auto }
    }

    /// The next preset that applies to this image, after the one in force.
    pub fn next_for(self, scan: Option<&Scan>) -> WindowPreset {
        let start = self.effective(scan);
        let i = Self::ALL.iter().position(|p| *p == start).unwrap_or(0);
        (1..=Self::ALL.len())
            .map(|k| Self::ALL[(i + k) % Self::ALL.len()])
            .find(|p| p.applies(scan))
            .unwrap_or(WindowPreset::Auto)
    }

    pub fn next(self) -> WindowPreset {
        self.next_for(None)
    }

    /// The window this preset gives an image with these value statistics, in modality units.
    pub fn window(&self, stats: &ValueStats) -> Window {
        self.window_for(stats, None)
    }

    #[allow(clippy::expect_used)] // cannot fail: the VOI LUT and the CT preset are checked before
    pub fn window_for(&self, stats: &ValueStats, scan: Option<&Scan>) -> Window {
        match self.effective(scan) {
            WindowPreset::File => match scan {
                Some(s) if !s.windows.is_empty() => Window::from_center_width(s.windows[0].center, s.windows[0].width),
                Some(s) if s.voi_lut.is_some() => {
                    let t = s.voi_lut.as_ref().expect("checked");
                    Window {
                        low: t.first as f64,
                        high: (t.first as f64 + t.data.len() as f64).max(t.first as f64 + 1.0),
                    }
                }
                _ => WindowPreset::Full.window_for(stats, scan),
            },
            WindowPreset::Auto => Window {
                low: stats.p_low,
                high: stats.p_high.max(stats.p_low + 1.0),
            },
            WindowPreset::Full => Window {
                low: stats.full_low,
                high: stats.full_range.max(stats.full_low + 1.0),
            },
            WindowPreset::MinMax => Window {
                low: stats.min,
                high: stats.max.max(stats.min + 1.0),
            },
            WindowPreset::Narrow => {
                let c = (stats.p_low + stats.p_high) / 2.0;
                Window::from_center_width(c, (stats.p_high - stats.p_low) * 0.4)
            }
            p => {
                let (c, w) = p.hounsfield().expect("CT preset");
                Window::from_center_width(c, w)
            }
        }
    }
}

/// The 0..=255 display value of every stored value of an image (256 or 65,536 entries): stored
/// → modality units (Rescale) → window (or the file's VOI LUT / sigmoid when `file` is in
/// force) → inverted for MONOCHROME1.
pub fn display_lut(img: &PixelImage, window: Window, preset: WindowPreset, adjusted: bool) -> Vec<u8> {
    let depth = img.bit_depth();
    let Some(scan) = img.scan.as_deref() else {
        return window.lut(depth);
    };
    let n = if depth == 16 { 65536 } else { 256 };
    let file = !adjusted && preset.effective(Some(scan)) == WindowPreset::File;
    let voi = file
        .then_some(())
        .and(scan.voi_lut.as_ref())
        .filter(|_| scan.windows.is_empty());
    let sigmoid = file && !scan.windows.is_empty() && scan.voi_function == VoiFunction::Sigmoid;
    (0..n)
        .map(|v| {
            let m = scan.modality(v as f64);
            let out = if let Some(t) = voi {
                t.map(m)
            } else if sigmoid {
                let y = 1.0 / (1.0 + (-4.0 * (m - window.center()) / window.width()).exp());
                (y * 255.0 + 0.5) as u8
            } else {
                window.map(m)
            };
            if scan.invert { 255 - out } else { out }
        })
        .collect()
}

/// An image's value distribution, for windows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValueStats {
    pub min: f64,
    pub max: f64,
    pub p_low: f64,
    pub p_high: f64,
    /// The lowest value the image's bit depth can hold (0, or the modality value of stored 0).
    pub full_low: f64,
    /// The highest (255, 65535, or the modality value of the largest stored value).
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
        let stats = ValueStats {
            min,
            max,
            p_low: quantile(0.005),
            p_high: quantile(0.995),
            full_low: 0.0,
            full_range: depth_max as f64,
        };
        match img.scan.as_deref() {
            Some(scan) if matches!(img.pixels, Pixels::Gray8(_) | Pixels::Gray16(_)) => {
                let m = |v: f64| scan.modality(v);
                let (lo, hi) = (m(scan.stored_min as f64), m(scan.stored_max as f64));
                ValueStats {
                    min: m(stats.min),
                    max: m(stats.max),
                    p_low: m(stats.p_low),
                    p_high: m(stats.p_high),
                    full_low: lo.min(hi),
                    full_range: lo.max(hi),
                }
            }
            _ => stats,
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
            scan: None,
        };
        let s = ValueStats::of(&img);
        let w = WindowPreset::Auto.window(&s);
        assert!(w.low >= 1000.0 && w.high <= 3000.0, "{w:?}");
        assert_eq!(w.map(w.low), 0);
        assert_eq!(w.map(w.high), 255);
        assert_eq!(WindowPreset::Full.window(&s).high, 65535.0);
    }
}
