//! DICOM images through the dicom-rs crates: CR, DX, CT, MR, secondary capture; uncompressed,
//! RLE, JPEG (baseline, extended, lossless) and JPEG 2000; single- and multi-frame.
//!
//! Pixels are kept at full depth as stored values (signed data offset into u16), and the
//! [`Scan`] beside them says how to turn them into modality units (Rescale Slope/Intercept),
//! whether to invert them (MONOCHROME1), and which windows / VOI LUT the file recommends. Only
//! tags that describe the image are read into it; identifying tags stay in the file.

use super::dicom_structure::{Layout, PixelData};
use super::pixels::{ImageError, ImageHeader, PixelFormat, PixelImage, Pixels, check_dimensions};
use super::scan::{FileWindow, Scan, Spacing, VoiFunction, VoiTable};
use dicom_dictionary_std::tags;
use dicom_object::{DefaultDicomObject, OpenFileOptions};
use dicom_pixeldata::{ConvertOptions, ModalityLutOption, PixelDecoder};
use std::path::Path;
use std::sync::Arc;

/// The largest total pixel count (all frames) lightbox decodes from one file.
pub const MAX_VOLUME_PIXELS: u64 = 1 << 30;

/// Whether a file's first bytes are a DICOM file (128-byte preamble, then "DICM").
pub fn is_dicom(head: &[u8]) -> bool {
    head.len() >= 132 && &head[128..132] == b"DICM"
}

type Tag = dicom_core::Tag;

fn open(path: &Path, header_only: bool) -> Result<(DefaultDicomObject, Layout), ImageError> {
    // lengths are checked against the file before dicom-rs reserves memory for them
    let layout = super::dicom_structure::walk(path, header_only)?;
    let mut options = OpenFileOptions::new();
    if header_only {
        options = options.read_until(tags::PIXEL_DATA);
    }
    let obj = options.open_file(path).map_err(|e| {
        if let Some(io) = std::error::Error::source(&e).and_then(|s| s.downcast_ref::<std::io::Error>())
            && io.kind() == std::io::ErrorKind::NotFound
        {
            return ImageError::NotFound;
        }
        let chain = error_chain(&e);
        if chain.contains("(7FE0,0010)") {
            ImageError::Corrupt(format!("DICOM Pixel Data (7FE0,0010) is truncated or damaged: {chain}"))
        } else {
            ImageError::Corrupt(format!("DICOM: {chain}"))
        }
    })?;
    Ok((obj, layout))
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

fn text(obj: &DefaultDicomObject, tag: Tag) -> Option<String> {
    let e = obj.element_opt(tag).ok().flatten()?;
    let s = e.to_str().ok()?;
    let s = s.trim_matches(|c: char| c.is_whitespace() || c == '\0');
    (!s.is_empty()).then(|| s.to_string())
}

fn floats(obj: &DefaultDicomObject, tag: Tag) -> Option<Vec<f64>> {
    let e = obj.element_opt(tag).ok().flatten()?;
    e.to_multi_float64()
        .ok()
        .filter(|v| !v.is_empty() && v.iter().all(|x| x.is_finite()))
}

/// A required unsigned integer field, with an error naming it when it is missing or not a
/// number.
fn required_int(obj: &DefaultDicomObject, tag: Tag, name: &str) -> Result<u32, ImageError> {
    let e = obj
        .element_opt(tag)
        .ok()
        .flatten()
        .ok_or_else(|| ImageError::Corrupt(format!("DICOM field {name} {tag} is missing")))?;
    e.to_int::<u32>()
        .map_err(|_| ImageError::Corrupt(format!("DICOM field {name} {tag} is not a whole number")))
}

fn optional_int(obj: &DefaultDicomObject, tag: Tag, name: &str, default: u32) -> Result<u32, ImageError> {
    match obj.element_opt(tag).ok().flatten() {
        None => Ok(default),
        Some(e) if dicom_core::header::HasLength::is_empty(e) => Ok(default),
        Some(e) => e
            .to_int::<u32>()
            .map_err(|_| ImageError::Corrupt(format!("DICOM field {name} {tag} is not a whole number"))),
    }
}

struct Geometry {
    rows: u32,
    cols: u32,
    frames: u32,
    samples: u32,
    bits_allocated: u32,
    bits_stored: u32,
    signed: bool,
    photometric: String,
}

fn geometry(obj: &DefaultDicomObject) -> Result<Geometry, ImageError> {
    let rows = required_int(obj, tags::ROWS, "Rows")?;
    let cols = required_int(obj, tags::COLUMNS, "Columns")?;
    let frames = optional_int(obj, tags::NUMBER_OF_FRAMES, "NumberOfFrames", 1)?.max(1);
    let samples = optional_int(obj, tags::SAMPLES_PER_PIXEL, "SamplesPerPixel", 1)?;
    let bits_allocated = required_int(obj, tags::BITS_ALLOCATED, "BitsAllocated")?;
    let bits_stored = optional_int(obj, tags::BITS_STORED, "BitsStored", bits_allocated)?;
    let signed = optional_int(obj, tags::PIXEL_REPRESENTATION, "PixelRepresentation", 0)? == 1;
    let photometric = text(obj, tags::PHOTOMETRIC_INTERPRETATION).unwrap_or_else(|| "MONOCHROME2".into());
    if rows == 0 || cols == 0 {
        return Err(ImageError::Corrupt(format!(
            "DICOM image is {cols}×{rows} pixels (Rows/Columns)"
        )));
    }
    check_dimensions(cols as u64, rows as u64)?;
    if rows as u64 * cols as u64 * frames as u64 > MAX_VOLUME_PIXELS {
        return Err(ImageError::TooLarge {
            width: cols as u64,
            height: rows as u64 * frames as u64,
        });
    }
    if !matches!(samples, 1 | 3) {
        return Err(ImageError::Unsupported(format!("DICOM SamplesPerPixel {samples}")));
    }
    if !matches!(bits_allocated, 8 | 16 | 32) || bits_stored == 0 || bits_stored > bits_allocated {
        return Err(ImageError::Unsupported(format!(
            "DICOM BitsAllocated {bits_allocated} / BitsStored {bits_stored}"
        )));
    }
    if samples == 1 && !photometric.starts_with("MONOCHROME") {
        return Err(ImageError::Unsupported(format!(
            "DICOM PhotometricInterpretation {photometric}"
        )));
    }
    Ok(Geometry {
        rows,
        cols,
        frames,
        samples,
        bits_allocated,
        bits_stored,
        signed,
        photometric,
    })
}

/// Read size and pixel format without touching the pixel data.
pub fn read_header(path: &Path) -> Result<ImageHeader, ImageError> {
    let (obj, _) = open(path, true)?;
    let g = geometry(&obj)?;
    Ok(ImageHeader {
        width: g.cols,
        height: g.rows,
        format: PixelFormat {
            channels: g.samples as u8,
            bit_depth: if g.bits_allocated == 8 && !g.signed { 8 } else { 16 },
        },
    })
}

/// What the header says (modality, body part, view, photometric interpretation, spacing,
/// windows), without decoding pixels.
pub fn read_scan(path: &Path) -> Result<Scan, ImageError> {
    let (obj, _) = open(path, true)?;
    let g = geometry(&obj)?;
    Ok(scan_of(&obj, &g, 0))
}

/// Where a single-frame file sits in a series, from its header.
#[derive(Debug, Clone, PartialEq)]
pub struct SliceInfo {
    pub series: Option<String>,
    /// Image Position (Patient) along the slice normal (row × column direction), in mm.
    pub position: Option<f64>,
    pub instance: Option<i64>,
    pub frames: u32,
    pub rows: u32,
    pub cols: u32,
}

/// Series, position and size of a DICOM file, from its header.
pub fn slice_info(path: &Path) -> Result<SliceInfo, ImageError> {
    let (obj, _) = open(path, true)?;
    let g = geometry(&obj)?;
    let position = match (
        floats(&obj, tags::IMAGE_ORIENTATION_PATIENT),
        floats(&obj, tags::IMAGE_POSITION_PATIENT),
    ) {
        (Some(o), Some(p)) if o.len() == 6 && p.len() == 3 => {
            let n = [
                o[1] * o[5] - o[2] * o[4],
                o[2] * o[3] - o[0] * o[5],
                o[0] * o[4] - o[1] * o[3],
            ];
            Some(n[0] * p[0] + n[1] * p[1] + n[2] * p[2])
        }
        _ => None,
    };
    Ok(SliceInfo {
        series: text(&obj, tags::SERIES_INSTANCE_UID),
        position,
        instance: text(&obj, tags::INSTANCE_NUMBER).and_then(|t| t.trim().parse().ok()),
        frames: g.frames,
        rows: g.rows,
        cols: g.cols,
    })
}

/// The number of frames in a DICOM file (1 for single-frame images), from its header.
pub fn frame_count(path: &Path) -> Result<u32, ImageError> {
    let (obj, _) = open(path, true)?;
    Ok(geometry(&obj)?.frames)
}

fn orientation(obj: &DefaultDicomObject) -> Option<(String, String)> {
    if let Some(po) = text(obj, tags::PATIENT_ORIENTATION) {
        let mut parts = po.split('\\').map(|s| s.trim().to_string());
        if let (Some(r), Some(c)) = (parts.next(), parts.next())
            && !r.is_empty()
            && !c.is_empty()
        {
            return Some((r, c));
        }
    }
    let iop = floats(obj, tags::IMAGE_ORIENTATION_PATIENT)?;
    if iop.len() != 6 {
        return None;
    }
    let letters = |v: &[f64]| super::scan::axis_letter(super::scan::dominant_axis(v), false).to_string();
    Some((letters(&iop[0..3]), letters(&iop[3..6])))
}

fn scan_of(obj: &DefaultDicomObject, g: &Geometry, frame: u32) -> Scan {
    let modality = text(obj, tags::MODALITY);
    let rescale_slope = floats(obj, tags::RESCALE_SLOPE).map(|v| v[0]).filter(|s| *s != 0.0);
    let rescale_intercept = floats(obj, tags::RESCALE_INTERCEPT).map(|v| v[0]);
    let slope = rescale_slope.unwrap_or(1.0);
    let intercept = rescale_intercept.unwrap_or(0.0);
    // signed values are stored offset by 2^(bits_stored-1) so they fit u16
    let bits_stored = g.bits_stored.min(16);
    let offset = if g.signed {
        (1u32 << (bits_stored - 1)) as f64
    } else {
        0.0
    };
    let stored_max = ((1u64 << bits_stored) - 1) as u16;
    let rescale_type = text(obj, tags::RESCALE_TYPE);
    let unit = match (modality.as_deref(), rescale_type.as_deref()) {
        (_, Some("HU")) | (Some("CT"), None) => Some("HU"),
        _ => None,
    };
    let centers = floats(obj, tags::WINDOW_CENTER).unwrap_or_default();
    let widths = floats(obj, tags::WINDOW_WIDTH).unwrap_or_default();
    let explanations: Vec<String> = text(obj, tags::WINDOW_CENTER_WIDTH_EXPLANATION)
        .map(|s| s.split('\\').map(|p| p.trim().to_string()).collect())
        .unwrap_or_default();
    let windows = centers
        .iter()
        .zip(&widths)
        .enumerate()
        .filter(|(_, (_, w))| **w >= 1.0)
        .map(|(i, (&center, &width))| FileWindow {
            center,
            width,
            explanation: explanations.get(i).filter(|s| !s.is_empty()).cloned(),
        })
        .collect();
    let voi_function = match text(obj, tags::VOILUT_FUNCTION).as_deref() {
        Some("SIGMOID") => VoiFunction::Sigmoid,
        Some("LINEAR_EXACT") => VoiFunction::LinearExact,
        _ => VoiFunction::Linear,
    };
    let spacing = |tag: Tag, source: &'static str| {
        floats(obj, tag)
            .filter(|v| v.len() >= 2 && v[0] > 0.0 && v[1] > 0.0)
            .map(|v| Spacing {
                row_mm: v[0],
                col_mm: v[1],
                source,
            })
    };
    let _ = frame;
    Scan {
        format: "DICOM",
        slope,
        intercept: intercept - slope * offset,
        unit,
        invert: g.photometric == "MONOCHROME1",
        stored_min: 0,
        stored_max,
        bits_stored: bits_stored as u8,
        signed: g.signed,
        windows,
        voi_function,
        voi_lut: None,
        spacing: spacing(tags::PIXEL_SPACING, "PixelSpacing")
            .or_else(|| spacing(tags::IMAGER_PIXEL_SPACING, "ImagerPixelSpacing")),
        modality,
        body_part: text(obj, tags::BODY_PART_EXAMINED),
        view_position: text(obj, tags::VIEW_POSITION),
        photometric: g.photometric.clone(),
        transfer_syntax: Some(transfer_syntax_name(obj)),
        orientation: orientation(obj),
        frames: g.frames,
    }
}

fn transfer_syntax_name(obj: &DefaultDicomObject) -> String {
    let uid = obj.meta().transfer_syntax().trim_end_matches('\0').to_string();
    use dicom_encoding::transfer_syntax::TransferSyntaxIndex;
    dicom_transfer_syntax_registry::TransferSyntaxRegistry
        .get(&uid)
        .map(|ts| ts.name().to_string())
        .unwrap_or(uid)
}

thread_local! {
    static IN_DECODER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Run a pixel decoder, turning a panic inside it (some decoders index out of bounds on damaged
/// data) into an error that names the Pixel Data. The panic message is kept off the terminal.
fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, ImageError> {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !IN_DECODER.with(|q| q.get()) {
                previous(info);
            }
        }));
    });
    IN_DECODER.with(|q| q.set(true));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    IN_DECODER.with(|q| q.set(false));
    r.map_err(|_| ImageError::Corrupt("DICOM Pixel Data is damaged or truncated (the decoder gave up)".into()))
}

fn decode_error(e: dicom_pixeldata::Error, obj: &DefaultDicomObject) -> ImageError {
    let msg = error_chain(&e);
    if msg.contains("Unsupported") || msg.contains("unsupported") || msg.contains("not supported") {
        ImageError::Unsupported(format!("DICOM transfer syntax {} ({msg})", transfer_syntax_name(obj)))
    } else {
        ImageError::Corrupt(format!("DICOM Pixel Data: {msg}"))
    }
}

/// Compressed pixel data may expand at most this many times into stored pixel bytes before
/// lightbox believes it: far beyond what RLE (64×), JPEG or a real radiograph's JPEG 2000
/// reach, far below what a damaged Rows or NumberOfFrames asks for.
pub const MAX_EXPANSION: u64 = 1024;

/// The pixel data must hold what Rows × Columns × SamplesPerPixel × NumberOfFrames ×
/// BitsAllocated says, before a decoder allocates for it: exactly (at least) for native data,
/// within [`MAX_EXPANSION`] for compressed fragments.
fn check_pixel_bytes(g: &Geometry, pixel_data: Option<PixelData>) -> Result<(), ImageError> {
    let needed =
        g.rows as u64 * g.cols as u64 * g.samples as u64 * g.frames as u64 * (g.bits_allocated as u64).div_ceil(8);
    match pixel_data {
        Some(PixelData::Native { bytes }) if bytes < needed => Err(ImageError::Corrupt(format!(
            "DICOM Pixel Data (7FE0,0010) holds {bytes} bytes, Rows {} × Columns {} × SamplesPerPixel {} × NumberOfFrames {} × BitsAllocated {} needs {needed}",
            g.rows, g.cols, g.samples, g.frames, g.bits_allocated
        ))),
        Some(PixelData::Encapsulated { fragments: 0, .. }) => Err(ImageError::Corrupt(
            "DICOM Pixel Data (7FE0,0010) is encapsulated but holds no compressed fragment".into(),
        )),
        Some(PixelData::Encapsulated { bytes, .. }) if needed > bytes.saturating_mul(MAX_EXPANSION).max(1 << 20) => {
            Err(ImageError::Corrupt(format!(
                "DICOM Pixel Data (7FE0,0010) is {bytes} compressed bytes, but Rows {} × Columns {} × SamplesPerPixel {} × NumberOfFrames {} × BitsAllocated {} says {needed} bytes: more than {MAX_EXPANSION}× (a damaged header)",
                g.rows, g.cols, g.samples, g.frames, g.bits_allocated
            )))
        }
        _ => Ok(()),
    }
}

/// Decode frames `frames` (all when `None`) of a DICOM file at full depth.
pub fn decode_frames(path: &Path, frames: Option<std::ops::Range<u32>>) -> Result<Vec<PixelImage>, ImageError> {
    let (obj, layout) = open(path, false)?;
    let g = geometry(&obj)?;
    if obj.element_opt(tags::PIXEL_DATA).ok().flatten().is_none() {
        return Err(ImageError::Corrupt(
            "DICOM field PixelData (7FE0,0010) is missing".into(),
        ));
    }
    check_pixel_bytes(&g, layout.pixel_data)?;
    let range = frames.unwrap_or(0..g.frames);
    if range.end > g.frames || range.is_empty() {
        return Err(ImageError::Corrupt(format!(
            "frame {}..{} asked for, the file has {} (NumberOfFrames)",
            range.start, range.end, g.frames
        )));
    }
    let px = guarded(|| obj.decode_pixel_data())?.map_err(|e| decode_error(e, &obj))?;
    let expected = g.rows as usize * g.cols as usize * g.samples as usize * g.frames as usize;
    let bytes_per = (g.bits_allocated as usize).div_ceil(8);
    if px.data().len() < expected * bytes_per {
        return Err(ImageError::Corrupt(format!(
            "DICOM Pixel Data holds {} bytes, Rows × Columns × SamplesPerPixel × NumberOfFrames × BitsAllocated needs {}",
            px.data().len(),
            expected * bytes_per
        )));
    }
    let mut voi_tables = px
        .voi_lut_sequence()
        .ok()
        .flatten()
        .map(|s| s.to_vec())
        .unwrap_or_default();
    let base = {
        let mut s = scan_of(&obj, &g, 0);
        if let Some(t) = voi_tables.drain(..).next() {
            s.voi_lut = Some(VoiTable {
                first: t.min_pixel_value,
                bits: t.bits_stored,
                data: t.data,
                explanation: t.explanation,
            });
        }
        // per-frame rescale (enhanced multi-frame objects) comes from the decoder
        Arc::new(s)
    };
    let rescales = px.rescale().map(|r| r.to_vec()).unwrap_or_default();
    let mut out = Vec::with_capacity(range.len());
    for f in range {
        let scan = match rescales.get(f as usize) {
            Some(r) if rescales.len() > 1 && (r.slope != base.slope || r.intercept != base.intercept) => {
                let offset = if g.signed {
                    (1u32 << (base.bits_stored - 1)) as f64
                } else {
                    0.0
                };
                let mut s = (*base).clone();
                s.slope = if r.slope == 0.0 { 1.0 } else { r.slope };
                s.intercept = r.intercept - s.slope * offset;
                Arc::new(s)
            }
            _ => base.clone(),
        };
        let pixels = if g.samples == 1 {
            let opts = ConvertOptions::new().with_modality_lut(ModalityLutOption::None);
            let raw: Vec<i64> =
                guarded(|| px.to_vec_frame_with_options(f, &opts))?.map_err(|e| decode_error(e, &obj))?;
            let bits = scan.bits_stored as u32;
            let mask = (1i64 << bits) - 1;
            let offset = if g.signed { 1i64 << (bits - 1) } else { 0 };
            let to_u16 = |v: i64| -> u16 {
                let v = if g.signed {
                    // sign-extend from bits_stored, then offset into 0..2^bits
                    let m = v & mask;
                    let s = if m & (1 << (bits - 1)) != 0 { m - (1 << bits) } else { m };
                    s + offset
                } else {
                    v & mask
                };
                v.clamp(0, u16::MAX as i64) as u16
            };
            if g.bits_allocated == 8 && !g.signed {
                Pixels::Gray8(raw.iter().map(|&v| to_u16(v) as u8).collect())
            } else {
                Pixels::Gray16(raw.iter().map(|&v| to_u16(v)).collect())
            }
        } else {
            let img = guarded(|| px.to_dynamic_image(f))?.map_err(|e| decode_error(e, &obj))?;
            if g.bits_allocated > 8 {
                Pixels::Rgb16(img.into_rgb16().into_raw())
            } else {
                Pixels::Rgb8(img.into_rgb8().into_raw())
            }
        };
        out.push(PixelImage {
            width: g.cols,
            height: g.rows,
            pixels,
            scan: Some(scan),
        });
    }
    Ok(out)
}

/// Decode one frame (0 for single-frame images).
pub fn decode(path: &Path, frame: u32) -> Result<PixelImage, ImageError> {
    Ok(decode_frames(path, Some(frame..frame + 1))?.remove(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dicm_magic_sits_after_a_128_byte_preamble() {
        let mut head = vec![0u8; 132];
        assert!(!is_dicom(&head));
        head[128..132].copy_from_slice(b"DICM");
        assert!(is_dicom(&head));
        assert!(!is_dicom(&head[..131]));
    }
}
