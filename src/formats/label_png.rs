//! PNG label masks for semantic segmentation: one single-channel 8- or 16-bit PNG per image,
//! each pixel's value a class's `mask_value` (0 = background).

use super::pixels::{ImageError, PixelImage, Pixels};
use crate::geometry::runs::SplitByValue;
use crate::geometry::{LabelMask, Runs};
use std::path::Path;

/// Decode a label mask; refuses colour masks with a hint, since their colours are not values.
/// A NIfTI label volume gives its first slice ([`read_frame`] for the others).
pub fn read(path: &Path) -> Result<LabelMask, ImageError> {
    read_frame(path, 0)
}

/// Whether a mask path holds one mask per slice: a NIfTI label volume, or a slice folder (one
/// PNG per slice of a multi-frame DICOM or a DICOM series, named by its 1-based slice number).
pub fn is_volume(path: &Path) -> bool {
    super::nifti::is_nifti_path(path) || path.is_dir()
}

/// The slice number a slice folder's file stands for: the trailing digits of its name
/// (`3.png`, `003.png`, `slice-3.png` are slice 3, frame 2).
pub fn slice_number(file: &Path) -> Option<u32> {
    if !file.extension().is_some_and(|e| e.eq_ignore_ascii_case("png")) {
        return None;
    }
    let stem = file.file_stem()?.to_str()?;
    let digits: String = stem
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_digit())
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    digits.parse().ok().filter(|&n| n > 0)
}

/// A slice folder's masks: (frame, file), frames counted from 0, in order.
pub fn slice_files(dir: &Path) -> Result<Vec<(u32, std::path::PathBuf)>, ImageError> {
    let mut out: Vec<(u32, std::path::PathBuf)> = std::fs::read_dir(dir)
        .map_err(|e| ImageError::Io(format!("{}: {e}", dir.display())))?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter_map(|p| slice_number(&p).map(|n| (n - 1, p)))
        .collect();
    out.sort();
    if let Some(w) = out.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(ImageError::Corrupt(format!(
            "{} and {} are both slice {}: one file per slice",
            w[0].1.display(),
            w[1].1.display(),
            w[0].0 + 1
        )));
    }
    if out.is_empty() {
        return Err(ImageError::Corrupt(format!(
            "{}: a slice folder holds one PNG per slice, named by its number (1.png, 2.png, …); none here",
            dir.display()
        )));
    }
    Ok(out)
}

/// Why a mask cannot be laid on its image's pixel grid, if it cannot: a NIfTI label volume is
/// shown through its affine's radiological flips, which only a NIfTI image shares.
pub fn grid_mismatch(mask: &Path, image: &Path) -> Option<String> {
    (super::nifti::is_nifti_path(mask) && !super::nifti::is_nifti_path(image)).then(|| {
        "a NIfTI label volume on an image that is not NIfTI: their voxel grids are oriented differently, so lightbox does not lay one on the other".to_string()
    })
}

/// Slice `frame` of a label volume (0 for an ordinary label mask). In a slice folder, a slice
/// without a file has no labels: background at the folder's mask size.
#[allow(clippy::expect_used)] // cannot fail: w*h values
pub fn read_frame(path: &Path, frame: u32) -> Result<LabelMask, ImageError> {
    if path.is_dir() {
        let files = slice_files(path)?;
        if let Some((_, f)) = files.iter().find(|(k, _)| *k == frame) {
            return read_frame(f, 0);
        }
        let h = super::image::read_header(&files[0].1)?;
        return Ok(
            LabelMask::new(h.width, h.height, vec![0; h.width as usize * h.height as usize]).expect("w*h values"),
        );
    }
    to_labels(super::image::decode_frame(path, frame)?)
}

/// A decoded frame's label values.
#[allow(clippy::expect_used)] // cannot fail: decoder returns w*h pixels
fn to_labels(img: PixelImage) -> Result<LabelMask, ImageError> {
    let (w, h) = (img.width, img.height);
    // volumes store values offset by their minimum: labels are the file's own values
    let data: Vec<u16> = match (&img.pixels, &img.scan) {
        (Pixels::Gray8(p), None) => p.iter().map(|&v| v as u16).collect(),
        (Pixels::Gray16(p), None) => p.clone(),
        (Pixels::Gray8(p), Some(s)) => p.iter().map(|&v| modality_label(s, v as u16)).collect(),
        (Pixels::Gray16(p), Some(s)) => p.iter().map(|&v| modality_label(s, v)).collect(),
        (Pixels::Rgb8(_) | Pixels::Rgb16(_), _) => return Err(not_single_channel()),
    };
    Ok(LabelMask::new(w, h, data).expect("decoder returns w*h pixels"))
}

fn modality_label(scan: &super::scan::Scan, v: u16) -> u16 {
    scan.modality(v as f64).round().clamp(0.0, 65535.0) as u16
}

fn not_single_channel() -> ImageError {
    ImageError::Unsupported(
        "RGB (a label mask must be single-channel: each pixel's value is a class; convert colours to values)".into(),
    )
}

/// A label image's width, height, and each non-zero value with its pixels (sorted by value).
pub type LabelRuns = (u32, u32, Vec<(u16, Runs)>);

/// A frame's label values and their pixels as runs, split in one pass over the decoded pixels
/// (8-bit files without widening them to 16 bits): what the rule engine reads.
pub fn read_frame_runs(path: &Path, frame: u32) -> Result<LabelRuns, ImageError> {
    if path.is_dir() {
        let m = read_frame(path, frame)?;
        return Ok((m.width(), m.height(), Runs::by_label(&m)));
    }
    if frame == 0
        && let Some(split) = png_runs(path)
    {
        return Ok(split);
    }
    let img = super::image::decode_frame(path, frame)?;
    let (w, h) = (img.width, img.height);
    match (&img.pixels, &img.scan) {
        (Pixels::Gray8(p), None) => Ok((w, h, Runs::by_value(w, h, p))),
        (Pixels::Gray16(p), None) => Ok((w, h, Runs::by_value(w, h, p))),
        _ => {
            let m = to_labels(img)?;
            Ok((w, h, Runs::by_label(&m)))
        }
    }
}

/// An 8- or 16-bit grey PNG, not interlaced, split into runs row by row as it is inflated: no
/// full-size image is allocated. `None` for any other file, and for a PNG that does not decode
/// (the general decoder then reads it, or says what is wrong with it).
fn png_runs(path: &Path) -> Option<LabelRuns> {
    let is_png = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("png"));
    if !is_png {
        return None;
    }
    let bytes = std::fs::read(path).ok()?;
    if let Some((w, h, split)) = super::grey_png::for_each_row(
        &bytes,
        |w, h| (w, h, SplitByValue::new(w, h)),
        |(_, _, split), row| split.push_row_u8(row),
    ) {
        return Some((w, h, split.finish()));
    }
    let file = std::io::Cursor::new(bytes);
    let mut reader = png::Decoder::new(file).read_info().ok()?;
    let info = reader.info();
    let (w, h) = (info.width, info.height);
    if info.color_type != png::ColorType::Grayscale
        || !matches!(info.bit_depth, png::BitDepth::Eight | png::BitDepth::Sixteen)
        || info.interlaced
        || super::pixels::check_dimensions(w as u64, h as u64).is_err()
    {
        return None;
    }
    let wide = info.bit_depth == png::BitDepth::Sixteen;
    let mut split = SplitByValue::new(w, h);
    let mut row16 = Vec::new();
    let mut rows = 0;
    while let Some(row) = reader.next_row().ok()? {
        let data = row.data();
        if wide {
            row16.clear();
            row16.extend(data.chunks_exact(2).map(|b| u16::from_be_bytes([b[0], b[1]])));
            split.push_row(&row16);
        } else {
            split.push_row_u8(data);
        }
        rows += 1;
    }
    (rows == h).then(|| (w, h, split.finish()))
}

/// Write a label mask as an 8-bit PNG when every value fits, else 16-bit.
#[allow(clippy::expect_used)] // cannot fail: a label mask holds w*h values
pub fn write(path: &Path, mask: &LabelMask) -> Result<(), image::ImageError> {
    let (w, h) = (mask.width(), mask.height());
    if mask.as_slice().iter().all(|&v| v <= 255) {
        let data: Vec<u8> = mask.as_slice().iter().map(|&v| v as u8).collect();
        image::save_buffer(path, &data, w, h, image::ExtendedColorType::L8)
    } else {
        let buf = image::ImageBuffer::<image::Luma<u16>, Vec<u16>>::from_raw(w, h, mask.as_slice().to_vec())
            .expect("a label mask holds w*h values");
        buf.save(path)
    }
}
