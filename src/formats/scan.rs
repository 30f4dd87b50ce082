//! What a medical file says about its pixels beyond their values: how stored values map to
//! physical units (Rescale Slope/Intercept: Hounsfield units for CT), whether white means low
//! (MONOCHROME1), the windows and VOI LUT the file recommends, the pixel spacing, the frames,
//! and the acquisition tags the out-of-distribution checks compare. Filled by the DICOM and
//! NIfTI readers; plain PNG/JPEG/TIFF images have none.
//!
//! Identifying tags (patient name, ID, birth date) are deliberately not part of this type, so
//! nothing downstream (dashboard, reports, journals) can show or write them.

use serde::Serialize;

/// A window the file recommends (DICOM Window Center/Width), in modality units.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileWindow {
    pub center: f64,
    pub width: f64,
    /// Window Center & Width Explanation, e.g. "LUNG".
    pub explanation: Option<String>,
}

/// The VOI LUT Function that shapes a file window (C.11.2.1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub enum VoiFunction {
    #[default]
    Linear,
    LinearExact,
    Sigmoid,
}

/// An explicit VOI LUT table (VOI LUT Sequence): modality values from `first` map to
/// `data[v - first]` (clamped at both ends), entries of `bits` bits.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VoiTable {
    pub first: i32,
    pub bits: u8,
    #[serde(skip)]
    pub data: Vec<u16>,
    pub explanation: Option<String>,
}

impl VoiTable {
    /// 0..=255 for a modality value.
    pub fn map(&self, v: f64) -> u8 {
        if self.data.is_empty() {
            return 0;
        }
        let i = (v.floor() as i64 - self.first as i64).clamp(0, self.data.len() as i64 - 1) as usize;
        let max = ((1u32 << self.bits.clamp(1, 16)) - 1) as f64;
        ((self.data[i] as f64 / max).clamp(0.0, 1.0) * 255.0 + 0.5) as u8
    }
}

/// Physical size of a pixel.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spacing {
    /// Millimetres between rows (the height of a pixel).
    pub row_mm: f64,
    /// Millimetres between columns (the width of a pixel).
    pub col_mm: f64,
    /// Which tag it came from: "PixelSpacing", "ImagerPixelSpacing" (at the detector: not
    /// corrected for magnification) or "NIfTI pixdim".
    pub source: &'static str,
}

impl Spacing {
    pub fn pixel_area_mm2(&self) -> f64 {
        self.row_mm * self.col_mm
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scan {
    /// "DICOM" or "NIfTI".
    pub format: &'static str,
    /// Modality value = `slope` × stored + `intercept`, where stored is the value in the
    /// decoded [`PixelImage`](super::pixels::PixelImage) (signed data are offset to fit u16 and
    /// the intercept says so).
    pub slope: f64,
    pub intercept: f64,
    /// "HU" for CT; `None` where the values have no physical unit.
    pub unit: Option<&'static str>,
    /// MONOCHROME1: low values show white.
    pub invert: bool,
    /// The stored values the file's bit depth can hold (for the "full" window).
    pub stored_min: u16,
    pub stored_max: u16,
    pub bits_stored: u8,
    pub signed: bool,
    pub windows: Vec<FileWindow>,
    pub voi_function: VoiFunction,
    pub voi_lut: Option<VoiTable>,
    pub spacing: Option<Spacing>,
    pub modality: Option<String>,
    pub body_part: Option<String>,
    pub view_position: Option<String>,
    pub photometric: String,
    pub transfer_syntax: Option<String>,
    /// Patient orientation of the row and column directions, e.g. ("L", "F") or ("P", "F").
    pub orientation: Option<(String, String)>,
    pub frames: u32,
}

impl Scan {
    /// A plain 16-bit MONOCHROME2 scan with no tags (for tests).
    #[cfg(test)]
    pub fn plain_for_tests() -> Scan {
        Scan {
            format: "DICOM",
            slope: 1.0,
            intercept: 0.0,
            unit: None,
            invert: false,
            stored_min: 0,
            stored_max: 65535,
            bits_stored: 16,
            signed: false,
            windows: vec![],
            voi_function: Default::default(),
            voi_lut: None,
            spacing: None,
            modality: None,
            body_part: None,
            view_position: None,
            photometric: "MONOCHROME2".into(),
            transfer_syntax: None,
            orientation: None,
            frames: 1,
        }
    }

    /// Stored value → modality units.
    #[inline]
    pub fn modality(&self, stored: f64) -> f64 {
        self.slope * stored + self.intercept
    }

    /// Modality units → stored value.
    pub fn stored(&self, modality: f64) -> f64 {
        (modality - self.intercept) / if self.slope == 0.0 { 1.0 } else { self.slope }
    }

    /// Whether this is a CT image in Hounsfield units (CT window presets apply).
    pub fn is_ct(&self) -> bool {
        self.unit == Some("HU")
    }

    /// Projection radiography (CR, DX, MG, RF, XA): full-range default window.
    pub fn is_radiograph(&self) -> bool {
        matches!(
            self.modality.as_deref(),
            Some("CR" | "DX" | "MG" | "RF" | "XA" | "PX" | "IO")
        )
    }

    /// A modality value with its unit, for people.
    pub fn describe_value(&self, stored: f64) -> String {
        let v = self.modality(stored);
        let v = if (v - v.round()).abs() < 1e-6 {
            format!("{v:.0}")
        } else {
            format!("{v:.2}")
        };
        match self.unit {
            Some(u) => format!("{v} {u}"),
            None => v,
        }
    }
}

/// The patient axis a direction follows most: (axis 0/1/2, whether it points the positive way).
pub fn dominant_axis(v: &[f64]) -> (usize, bool) {
    v.iter()
        .take(3)
        .enumerate()
        .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
        .map(|(i, m)| (i, *m >= 0.0))
        .unwrap_or((0, true))
}

/// The letter of a patient direction, from an axis in DICOM's LPS space (+x left, +y posterior,
/// +z head) or, with `ras`, NIfTI's RAS space (+x right, +y anterior, +z head).
pub fn axis_letter((axis, positive): (usize, bool), ras: bool) -> &'static str {
    let lps_positive = if ras && axis < 2 { !positive } else { positive };
    match (axis, lps_positive) {
        (0, true) => "L",
        (0, false) => "R",
        (1, true) => "P",
        (1, false) => "A",
        (2, true) => "H",
        _ => "F",
    }
}
