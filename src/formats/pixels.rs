//! Decoded images in lightbox's own terms, whatever file they came from: pixels at the file's
//! own depth ([`Pixels`], [`PixelImage`]), the pixel format and header every reader reports
//! ([`PixelFormat`], [`ImageHeader`]), the size limits every decoder checks before allocating,
//! and the error they all return ([`ImageError`]). The readers (`image.rs` for PNG/JPEG/TIFF,
//! `dicom.rs`, `nifti.rs`, `series.rs`) depend on this file, never on each other.

use super::scan::Scan;
use serde::Serialize;
use std::sync::Arc;
use thiserror::Error;

/// Largest side lightbox will decode (pixels).
pub const MAX_SIDE: u32 = 65_535;
/// Largest image lightbox will decode, in pixels (2^28 = 16384 × 16384).
pub const MAX_PIXELS: u64 = 1 << 28;

/// Why an image cannot be read (or decoded): what every reader returns.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ImageError {
    #[error("file not found")]
    NotFound,
    #[error("cannot read the file: {0}")]
    Io(String),
    #[error("not an image lightbox can read ({0})")]
    UnknownFormat(String),
    #[error("the image data is damaged or truncated: {0}")]
    Corrupt(String),
    #[error(
        "{width}×{height} pixels is larger than lightbox decodes (at most {MAX_SIDE} per side and {MAX_PIXELS} pixels)"
    )]
    TooLarge { width: u64, height: u64 },
    #[error("pixel format {0} is not supported (expected 8- or 16-bit grayscale or RGB)")]
    Unsupported(String),
}

impl ImageError {
    /// What a person should do about it.
    pub fn hint(&self) -> &'static str {
        match self {
            ImageError::NotFound => "Check the image root (`images` in lightbox.toml) and the file name",
            ImageError::Io(_) => "Check the file's permissions",
            ImageError::UnknownFormat(_) => "Convert it to PNG, JPEG, TIFF or DICOM",
            ImageError::Corrupt(_) => "Re-export or re-copy the file",
            ImageError::TooLarge { .. } => "Downsample or tile the image before review",
            ImageError::Unsupported(m) if m.starts_with("DICOM transfer syntax") => {
                "Transcode it to an uncompressed transfer syntax, e.g. `gdcmconv --raw IN OUT` or `dcmdjpeg IN OUT`"
            }
            ImageError::Unsupported(_) => "Convert it to 8- or 16-bit grayscale or RGB",
        }
    }
}

/// Whether `width` × `height` is small enough to decode.
pub fn check_dimensions(width: u64, height: u64) -> Result<(), ImageError> {
    if width > MAX_SIDE as u64 || height > MAX_SIDE as u64 || width * height > MAX_PIXELS {
        return Err(ImageError::TooLarge { width, height });
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PixelFormat {
    pub channels: u8,
    pub bit_depth: u8,
}

impl std::fmt::Display for PixelFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.channels {
            1 => "gray",
            2 => "gray+alpha",
            3 => "RGB",
            4 => "RGBA",
            _ => "?",
        };
        write!(f, "{kind} {}-bit", self.bit_depth)
    }
}

/// What a header says, read without decoding pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ImageHeader {
    pub width: u32,
    pub height: u32,
    pub format: PixelFormat,
}

/// Decoded pixels at the file's own depth.
#[derive(Debug, Clone, PartialEq)]
pub enum Pixels {
    Gray8(Vec<u8>),
    Gray16(Vec<u16>),
    Rgb8(Vec<u8>),
    Rgb16(Vec<u16>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct PixelImage {
    pub width: u32,
    pub height: u32,
    pub pixels: Pixels,
    /// DICOM/NIfTI: modality units, inversion, recommended windows, spacing, tags.
    pub scan: Option<Arc<Scan>>,
}

impl PixelImage {
    pub fn bit_depth(&self) -> u8 {
        match self.pixels {
            Pixels::Gray8(_) | Pixels::Rgb8(_) => 8,
            Pixels::Gray16(_) | Pixels::Rgb16(_) => 16,
        }
    }

    /// The intensity at `(x, y)` (luma for RGB, ITU-R BT.601), at full depth.
    pub fn value(&self, x: u32, y: u32) -> u16 {
        let i = y as usize * self.width as usize + x as usize;
        let luma = |r: u32, g: u32, b: u32| ((299 * r + 587 * g + 114 * b) / 1000) as u16;
        match &self.pixels {
            Pixels::Gray8(p) => p[i] as u16,
            Pixels::Gray16(p) => p[i],
            Pixels::Rgb8(p) => luma(p[3 * i] as u32, p[3 * i + 1] as u32, p[3 * i + 2] as u32),
            Pixels::Rgb16(p) => luma(p[3 * i] as u32, p[3 * i + 1] as u32, p[3 * i + 2] as u32),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_luma_at_full_depth() {
        let grey = PixelImage {
            width: 2,
            height: 1,
            pixels: Pixels::Gray16(vec![10, 4000]),
            scan: None,
        };
        assert_eq!((grey.bit_depth(), grey.value(1, 0)), (16, 4000));
        let rgb = PixelImage {
            width: 1,
            height: 1,
            pixels: Pixels::Rgb8(vec![255, 0, 0]),
            scan: None,
        };
        // ITU-R BT.601: red weighs 0.299
        assert_eq!((rgb.bit_depth(), rgb.value(0, 0)), (8, 76));
    }

    #[test]
    fn formats_and_limits_read_as_people_say_them() {
        let f = PixelFormat {
            channels: 3,
            bit_depth: 16,
        };
        assert_eq!(f.to_string(), "RGB 16-bit");
        assert!(check_dimensions(16384, 16384).is_ok());
        let e = check_dimensions(70_000, 10).unwrap_err();
        assert_eq!(
            e,
            ImageError::TooLarge {
                width: 70_000,
                height: 10
            }
        );
        assert_eq!(e.hint(), "Downsample or tile the image before review");
    }
}
