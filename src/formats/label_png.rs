//! PNG label masks for semantic segmentation: one single-channel 8- or 16-bit PNG per image,
//! each pixel's value a class's `mask_value` (0 = background).

use super::image::{ImageError, Pixels};
use crate::geometry::LabelMask;
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
    let img = super::image::decode_frame(path, frame)?;
    let (w, h) = (img.width, img.height);
    // volumes store values offset by their minimum: labels are the file's own values
    let label = |v: u16| -> u16 {
        match &img.scan {
            Some(s) => s.modality(v as f64).round().clamp(0.0, 65535.0) as u16,
            None => v,
        }
    };
    let data: Vec<u16> = match &img.pixels {
        Pixels::Gray8(p) => p.iter().map(|&v| label(v as u16)).collect(),
        Pixels::Gray16(p) => p.iter().map(|&v| label(v)).collect(),
        Pixels::Rgb8(_) | Pixels::Rgb16(_) => {
            return Err(ImageError::Unsupported(
                "RGB (a label mask must be single-channel: each pixel's value is a class; convert colours to values)"
                    .into(),
            ));
        }
    };
    Ok(LabelMask::new(w, h, data).expect("decoder returns w*h pixels"))
}

/// Write a label mask as an 8-bit PNG when every value fits, else 16-bit.
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
