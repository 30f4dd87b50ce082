//! NIfTI-1 volumes (`.nii`, `.nii.gz`) through the nifti crate, shown slice by slice along the
//! third axis like a multi-frame DICOM: each slice is a [`PixelImage`] at full depth with a
//! [`Scan`] that maps stored values back to the file's values (`scl_slope`/`scl_inter` applied).
//!
//! Display orientation follows the radiological convention where the affine allows it: the
//! patient's right on the image's left, anterior / superior at the top. Label volumes (masks)
//! go through the same flips, so they stay on their voxels.

use super::pixels::{ImageError, ImageHeader, PixelFormat, PixelImage, Pixels, check_dimensions};
use super::scan::{Scan, Spacing};
use nifti::{NiftiHeader, NiftiObject, NiftiType, ReaderOptions};
use std::path::Path;
use std::sync::Arc;

/// Whether a path names a NIfTI file.
pub fn is_nifti_path(p: &Path) -> bool {
    let name = p
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    name.ends_with(".nii") || name.ends_with(".nii.gz")
}

/// Whether the first bytes are an uncompressed NIfTI-1 header (or gzip, for `.nii.gz`).
pub fn is_nifti(head: &[u8], path: &Path) -> bool {
    if head.len() >= 348 && (&head[344..348] == b"n+1\0" || &head[344..348] == b"ni1\0") {
        return true;
    }
    head.len() >= 2 && head[0] == 0x1f && head[1] == 0x8b && is_nifti_path(path)
}

fn err(path_msg: impl std::fmt::Display) -> ImageError {
    ImageError::Corrupt(format!("NIfTI: {path_msg}"))
}

fn header(path: &Path) -> Result<NiftiHeader, ImageError> {
    NiftiHeader::from_file(path).map_err(|e| match e {
        nifti::NiftiError::Io(io) if io.kind() == std::io::ErrorKind::NotFound => ImageError::NotFound,
        e => err(e),
    })
}

struct Geometry {
    nx: usize,
    ny: usize,
    nz: usize,
    flip_cols: bool,
    flip_rows: bool,
    /// Patient direction of display right and display down.
    orientation: Option<(String, String)>,
}

fn geometry(h: &NiftiHeader) -> Result<Geometry, ImageError> {
    let rank = h.dim[0] as usize;
    if !(2..=7).contains(&rank) {
        return Err(err(format!("dim[0] is {rank}: not a 2-D or 3-D volume")));
    }
    let dim = |i: usize| if i <= rank { (h.dim[i] as usize).max(1) } else { 1 };
    if rank > 3 && (4..=rank).any(|i| dim(i) > 1) {
        return Err(ImageError::Unsupported(format!(
            "NIfTI with {rank} dimensions ({}×{}×{}×{}): lightbox shows 2-D and 3-D volumes",
            dim(1),
            dim(2),
            dim(3),
            dim(4)
        )));
    }
    let (nx, ny, nz) = (dim(1), dim(2), dim(3));
    check_dimensions(nx as u64, ny as u64)?;
    if (nx * ny * nz) as u64 > super::dicom::MAX_VOLUME_PIXELS {
        return Err(ImageError::TooLarge {
            width: nx as u64,
            height: (ny * nz) as u64,
        });
    }
    // voxel axes in RAS world space: sform when set, else qform, else none
    let axes: Option<[[f64; 3]; 2]> = if h.sform_code > 0 {
        let c = |k: usize| [h.srow_x[k] as f64, h.srow_y[k] as f64, h.srow_z[k] as f64];
        Some([c(0), c(1)])
    } else if h.qform_code > 0 {
        let (b, c, d) = (h.quatern_b as f64, h.quatern_c as f64, h.quatern_d as f64);
        let a = (1.0 - (b * b + c * c + d * d)).max(0.0).sqrt();
        let r = [
            [
                a * a + b * b - c * c - d * d,
                2.0 * (b * c - a * d),
                2.0 * (b * d + a * c),
            ],
            [
                2.0 * (b * c + a * d),
                a * a + c * c - b * b - d * d,
                2.0 * (c * d - a * b),
            ],
            [
                2.0 * (b * d - a * c),
                2.0 * (c * d + a * b),
                a * a + d * d - c * c - b * b,
            ],
        ];
        Some([[r[0][0], r[1][0], r[2][0]], [r[0][1], r[1][1], r[2][1]]])
    } else {
        None
    };
    use super::scan::{axis_letter, dominant_axis};
    let letter = |d| axis_letter(d, true).to_string();
    let (flip_cols, flip_rows, orientation) = match axes {
        Some([i, j]) => {
            let (di, dj) = (dominant_axis(&i), dominant_axis(&j));
            // radiological: columns run toward the patient's left; rows run posterior / inferior
            let flip_cols = di.0 == 0 && di.1;
            let flip_rows = (dj.0 == 1 || dj.0 == 2) && dj.1;
            let right = if flip_cols { (di.0, !di.1) } else { di };
            let down = if flip_rows { (dj.0, !dj.1) } else { dj };
            (flip_cols, flip_rows, Some((letter(right), letter(down))))
        }
        // no orientation: the usual RAS storage, shown with anterior up
        None => (false, true, None),
    };
    Ok(Geometry {
        nx,
        ny,
        nz,
        flip_cols,
        flip_rows,
        orientation,
    })
}

/// Size and format without reading the voxels.
pub fn read_header(path: &Path) -> Result<ImageHeader, ImageError> {
    let h = header(path)?;
    let g = geometry(&h)?;
    Ok(ImageHeader {
        width: g.nx as u32,
        height: g.ny as u32,
        format: PixelFormat {
            channels: 1,
            bit_depth: 16,
        },
    })
}

/// `pixdim` in millimetres, from the header.
pub fn read_spacing(path: &Path) -> Option<Spacing> {
    let h = header(path).ok()?;
    let unit_mm = unit_mm(&h);
    let (px, py) = (h.pixdim[1].abs() as f64 * unit_mm, h.pixdim[2].abs() as f64 * unit_mm);
    (px > 0.0 && py > 0.0).then_some(Spacing {
        row_mm: py,
        col_mm: px,
        source: "NIfTI pixdim",
    })
}

fn unit_mm(h: &NiftiHeader) -> f64 {
    match h.xyzt_to_space() {
        Ok(nifti::Unit::Meter) => 1000.0,
        Ok(nifti::Unit::Micron) => 0.001,
        _ => 1.0,
    }
}

/// Slices along the third axis.
pub fn frame_count(path: &Path) -> Result<u32, ImageError> {
    let h = header(path)?;
    Ok(geometry(&h)?.nz as u32)
}

fn values(h: &NiftiHeader, raw: &[u8]) -> Result<Vec<f64>, ImageError> {
    let t = h.data_type().map_err(err)?;
    let big = matches!(h.endianness, nifti::Endianness::Big);
    macro_rules! conv {
        ($ty:ty, $n:expr) => {
            raw.chunks_exact($n)
                .map(|c| {
                    let b: [u8; $n] = c.try_into().expect("chunk size");
                    (if big {
                        <$ty>::from_be_bytes(b)
                    } else {
                        <$ty>::from_le_bytes(b)
                    }) as f64
                })
                .collect()
        };
    }
    let v: Vec<f64> = match t {
        NiftiType::Uint8 => raw.iter().map(|&b| b as f64).collect(),
        NiftiType::Int8 => raw.iter().map(|&b| b as i8 as f64).collect(),
        NiftiType::Int16 => conv!(i16, 2),
        NiftiType::Uint16 => conv!(u16, 2),
        NiftiType::Int32 => conv!(i32, 4),
        NiftiType::Uint32 => conv!(u32, 4),
        NiftiType::Float32 => conv!(f32, 4),
        NiftiType::Float64 => conv!(f64, 8),
        NiftiType::Int64 => conv!(i64, 8),
        NiftiType::Uint64 => conv!(u64, 8),
        other => {
            return Err(ImageError::Unsupported(format!(
                "NIfTI datatype {other:?} (lightbox reads integer and float grey volumes)"
            )));
        }
    };
    let (slope, inter) = (h.scl_slope as f64, h.scl_inter as f64);
    Ok(if slope != 0.0 && slope.is_finite() && (slope != 1.0 || inter != 0.0) {
        v.into_iter().map(|x| x * slope + inter).collect()
    } else {
        v
    })
}

/// Decode slices `frames` (all when `None`).
pub fn decode_frames(path: &Path, frames: Option<std::ops::Range<u32>>) -> Result<Vec<PixelImage>, ImageError> {
    let h0 = header(path)?;
    let g = geometry(&h0)?;
    let range = frames.unwrap_or(0..g.nz as u32);
    if range.end as usize > g.nz || range.is_empty() {
        return Err(err(format!(
            "slice {}..{} asked for, the volume has {} (dim[3])",
            range.start, range.end, g.nz
        )));
    }
    let obj = ReaderOptions::new().read_file(path).map_err(|e| match e {
        nifti::NiftiError::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            err(format!("the voxel data is truncated ({io})"))
        }
        e => err(e),
    })?;
    let h = obj.header().clone();
    let raw = obj.into_volume().into_raw_data();
    let need = g.nx * g.ny * g.nz * h.data_type().map_err(err)?.size_of();
    if raw.len() < need {
        return Err(err(format!(
            "the voxel data holds {} bytes, dim × bitpix needs {need}",
            raw.len()
        )));
    }
    let v = values(&h, &raw[..need])?;
    let finite = v.iter().copied().filter(|x| x.is_finite());
    let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(x), b.max(x)));
    let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (0.0, 0.0) };
    // integers spanning ≤ 65,535 are kept exactly (offset by the minimum); anything else is
    // quantised to 16 bits over the volume's range
    let integral = v.iter().all(|x| !x.is_finite() || x.fract() == 0.0) && hi - lo <= 65535.0;
    let (slope, intercept) = if integral {
        (1.0, lo)
    } else {
        ((hi - lo).max(1e-12) / 65535.0, lo)
    };
    let to_stored = |x: f64| -> u16 {
        if !x.is_finite() {
            return 0;
        }
        ((x - intercept) / slope).round().clamp(0.0, 65535.0) as u16
    };
    let descrip = String::from_utf8_lossy(&h.descrip)
        .trim_matches(char::from(0))
        .trim()
        .to_string();
    // Hounsfield units: the description says CT, or integer values that look like them
    let hu =
        integral && (descrip.to_ascii_uppercase().contains("CT") || ((-3100.0..=-900.0).contains(&lo) && hi >= 300.0));
    let unit_mm = unit_mm(&h);
    let (px, py) = (h.pixdim[1].abs() as f64 * unit_mm, h.pixdim[2].abs() as f64 * unit_mm);
    let scan = Arc::new(Scan {
        format: "NIfTI",
        slope,
        intercept,
        unit: hu.then_some("HU"),
        invert: false,
        stored_min: 0,
        stored_max: if integral { (hi - lo) as u16 } else { 65535 },
        bits_stored: 16,
        signed: false,
        windows: vec![],
        voi_function: Default::default(),
        voi_lut: None,
        spacing: (px > 0.0 && py > 0.0).then_some(Spacing {
            row_mm: py,
            col_mm: px,
            source: "NIfTI pixdim",
        }),
        modality: hu.then(|| "CT".to_string()),
        body_part: None,
        view_position: None,
        photometric: "MONOCHROME2".into(),
        transfer_syntax: None,
        orientation: g.orientation.clone(),
        frames: g.nz as u32,
    });
    let plane = g.nx * g.ny;
    Ok(range
        .map(|k| {
            let base = k as usize * plane;
            let mut out = Vec::with_capacity(plane);
            for y in 0..g.ny {
                let j = if g.flip_rows { g.ny - 1 - y } else { y };
                for x in 0..g.nx {
                    let i = if g.flip_cols { g.nx - 1 - x } else { x };
                    out.push(to_stored(v[base + j * g.nx + i]));
                }
            }
            PixelImage {
                width: g.nx as u32,
                height: g.ny as u32,
                pixels: Pixels::Gray16(out),
                scan: Some(scan.clone()),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nifti_paths_include_gzipped_ones() {
        assert!(is_nifti_path(Path::new("a/ct.nii.gz")));
        assert!(is_nifti_path(Path::new("MASK.NII")));
        assert!(!is_nifti_path(Path::new("a.gz")));
    }
}
