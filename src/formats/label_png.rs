//! PNG label masks for semantic segmentation: one single-channel 8- or 16-bit PNG per image,
//! each pixel's value a class's `mask_value` (0 = background).

use super::image::{ImageError, Pixels, decode};
use crate::geometry::LabelMask;
use std::path::Path;

/// Decode a label mask; refuses colour masks with a hint, since their colours are not values.
pub fn read(path: &Path) -> Result<LabelMask, ImageError> {
    let img = decode(path)?;
    let (w, h) = (img.width, img.height);
    let data: Vec<u16> = match img.pixels {
        Pixels::Gray8(p) => p.into_iter().map(u16::from).collect(),
        Pixels::Gray16(p) => p,
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
