//! Per-pixel probability maps: 16-bit grayscale PNG (value / 65535) or `.npy` arrays, named
//! `<stem>.<class>.png` / `<stem>.<class>.npy` (one class per file), or `<stem>.npy` holding
//! every class as a `(C, H, W)` array in manifest class order.

use super::image::decode;
use super::npy;
use super::pixels::{ImageError, Pixels};
use std::path::Path;

/// One class's probabilities for one image, row-major, in `[0, 1]` when the file is sane.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbabilityMap {
    pub width: u32,
    pub height: u32,
    pub data: Vec<f32>,
}

/// Read a single-class map from a 16-bit (or 8-bit) grayscale PNG.
pub fn read_png(path: &Path) -> Result<ProbabilityMap, String> {
    let img = decode(path).map_err(|e: ImageError| e.to_string())?;
    let data = match img.pixels {
        Pixels::Gray16(p) => p.into_iter().map(|v| v as f32 / 65535.0).collect(),
        Pixels::Gray8(p) => p.into_iter().map(|v| v as f32 / 255.0).collect(),
        _ => return Err("a probability map must be a single-channel (grayscale) PNG".into()),
    };
    Ok(ProbabilityMap {
        width: img.width,
        height: img.height,
        data,
    })
}

/// Read `.npy` maps: a 2-D array is one map, a 3-D `(C, H, W)` array gives C maps.
pub fn read_npy(path: &Path) -> Result<Vec<ProbabilityMap>, String> {
    let a = npy::read(path).map_err(|e| e.to_string())?;
    match a.shape[..] {
        [h, w] => Ok(vec![ProbabilityMap {
            width: w as u32,
            height: h as u32,
            data: a.data,
        }]),
        [c, h, w] => Ok((0..c)
            .map(|k| ProbabilityMap {
                width: w as u32,
                height: h as u32,
                data: a.data[k * h * w..(k + 1) * h * w].to_vec(),
            })
            .collect()),
        _ => Err(format!("shape {:?} is neither (H, W) nor (C, H, W)", a.shape)),
    }
}

/// Write a map as a 16-bit PNG (probabilities clamped to [0, 1]).
#[allow(clippy::expect_used)] // cannot fail: a probability map holds w*h values
pub fn write_png(path: &Path, map: &ProbabilityMap) -> Result<(), image::ImageError> {
    let data: Vec<u16> = map
        .data
        .iter()
        .map(|&p| (p.clamp(0.0, 1.0) * 65535.0).round() as u16)
        .collect();
    let buf = image::ImageBuffer::<image::Luma<u16>, Vec<u16>>::from_raw(map.width, map.height, data)
        .expect("a probability map holds w*h values");
    buf.save(path)
}
