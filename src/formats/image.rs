//! Images on disk: PNG, JPEG, TIFF, DICOM and NIfTI; 8- and 16-bit; grayscale and RGB. Headers are read
//! without touching pixels (validation, pack info); decoding keeps 16-bit data at full depth, so
//! window/level works on the values the scanner wrote. This file tells the containers apart and
//! hands DICOM, NIfTI and series folders to their readers; what they all return (pixels, headers,
//! [`ImageError`]) is in [`super::pixels`], re-exported here.

pub use super::pixels::{
    ImageError, ImageHeader, MAX_PIXELS, MAX_SIDE, PixelFormat, PixelImage, Pixels, check_dimensions,
};
use image::{ColorType, ImageDecoder, ImageReader};
use std::path::Path;

/// What reading an image's header may allocate (tag arrays, metadata).
pub const HEADER_ALLOC: u64 = 16 << 20;

fn pixel_format(c: ColorType) -> PixelFormat {
    PixelFormat {
        channels: c.channel_count(),
        bit_depth: (c.bits_per_pixel() / c.channel_count() as u16) as u8,
    }
}

fn open(path: &Path) -> Result<ImageReader<std::io::BufReader<std::fs::File>>, ImageError> {
    let reader = ImageReader::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ImageError::NotFound,
        _ => ImageError::Io(e.to_string()),
    })?;
    reader.with_guessed_format().map_err(|e| ImageError::Io(e.to_string()))
}

fn map_err(e: image::ImageError) -> ImageError {
    match e {
        image::ImageError::Unsupported(u) => ImageError::UnknownFormat(u.to_string()),
        image::ImageError::Limits(l) => ImageError::Corrupt(l.to_string()),
        image::ImageError::IoError(io) => ImageError::Corrupt(io.to_string()),
        other => ImageError::Corrupt(other.to_string()),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Container {
    Raster,
    Dicom,
    Nifti,
    /// A folder of DICOM slices (formats::series).
    Series,
}

/// The first slice of a series folder.
fn first_slice(dir: &Path) -> Result<std::path::PathBuf, ImageError> {
    super::series::open(dir)?
        .slices
        .first()
        .cloned()
        .ok_or_else(|| ImageError::Corrupt(format!("{}: no slices", dir.display())))
}

/// Refuse files whose first bytes are not an image signature (whatever their extension says).
fn sniff(path: &Path) -> Result<Container, ImageError> {
    use std::io::Read;
    if path.is_dir() {
        return Ok(Container::Series);
    }
    let mut head = [0u8; 348];
    let mut f = std::fs::File::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ImageError::NotFound,
        _ => ImageError::Io(e.to_string()),
    })?;
    let mut n = 0;
    while n < head.len() {
        match f.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(ImageError::Io(e.to_string())),
        }
    }
    if super::dicom::is_dicom(&head[..n]) {
        return Ok(Container::Dicom);
    }
    if super::nifti::is_nifti(&head[..n], path) {
        return Ok(Container::Nifti);
    }
    match image::guess_format(&head[..n]) {
        Ok(image::ImageFormat::Png | image::ImageFormat::Jpeg | image::ImageFormat::Tiff) => Ok(Container::Raster),
        Ok(other) => Err(ImageError::UnknownFormat(format!("{other:?} images are not read"))),
        Err(_) => Err(ImageError::UnknownFormat(
            "its first bytes are not a PNG, JPEG, TIFF, DICOM or NIfTI signature".into(),
        )),
    }
}

/// Read an image's size and pixel format from its header only.
pub fn read_header(path: &Path) -> Result<ImageHeader, ImageError> {
    match sniff(path)? {
        Container::Dicom => return super::dicom::read_header(path),
        Container::Nifti => return super::nifti::read_header(path),
        Container::Series => return super::dicom::read_header(&first_slice(path)?),
        Container::Raster => {}
    }
    if is_tiff(path) {
        let bytes = std::fs::read(path).map_err(|e| ImageError::Io(e.to_string()))?;
        super::integrity::tiff_directory(&bytes).map_err(ImageError::Corrupt)?;
    }
    let mut reader = open(path)?;
    // dimensions are judged by the caller (check_dimensions); what a header may make the
    // decoder allocate is bounded (a TIFF's tag arrays have their length in the file)
    let mut limits = image::Limits::default();
    limits.max_image_width = None;
    limits.max_image_height = None;
    limits.max_alloc = Some(HEADER_ALLOC);
    reader.limits(limits);
    let decoder = reader.into_decoder().map_err(map_err)?;
    let (width, height) = decoder.dimensions();
    let format = if grey_palette(path) {
        PixelFormat {
            channels: 1,
            bit_depth: 8,
        }
    } else {
        pixel_format(decoder.color_type())
    };
    Ok(ImageHeader { width, height, format })
}

/// Whether an image file is whole, as far as can be told without decoding it where that is
/// avoidable: PNG and JPEG structure and checksums ([`super::integrity`]); a TIFF is decoded
/// (its strips may lie anywhere in the file); DICOM and NIfTI check their pixel data's length
/// when their header is read.
pub fn verify(path: &Path) -> Result<(), ImageError> {
    if sniff(path)? != Container::Raster {
        return Ok(());
    }
    let bytes = std::fs::read(path).map_err(|e| ImageError::Io(e.to_string()))?;
    plausible_size(&bytes, &read_header(path)?)?;
    if matches!(image::guess_format(&bytes), Ok(image::ImageFormat::Tiff)) {
        return decode(path).map(|_| ());
    }
    super::integrity::check_bytes(&bytes).map_err(ImageError::Corrupt)
}

/// A PNG palette image whose palette is all grey: greyscale, though stored as a palette.
/// Reads the file's first 64 KiB (the palette comes before the image data).
fn grey_palette(path: &Path) -> bool {
    use std::io::Read;
    let mut head = Vec::with_capacity(1 << 16);
    match std::fs::File::open(path) {
        Ok(f) => f.take(1 << 16).read_to_end(&mut head).is_ok() && super::integrity::png_grey_palette(&head),
        Err(_) => false,
    }
}

fn is_tiff(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && matches!(&head, b"II*\0" | b"MM\0*" | b"II+\0" | b"MM\0+")
}

/// Whether a TIFF or JPEG file is large enough to hold the pixels its header claims: decoders
/// allocate the claimed image before reading the data, so a 1 KB file claiming 16384 × 16384
/// would make them allocate a gigabyte and then fail. The bounds are each format's best
/// compression, with slack: a TIFF's LZW codes stand for at most 4096 bytes each (×3000 here);
/// a JPEG spends at least one bit per 8 × 8 block even in a progressive DC scan (512 pixels per
/// byte; ×1024 here). PNG is checked exactly against deflate's limit in [`super::integrity`].
fn plausible_size(bytes: &[u8], h: &ImageHeader) -> Result<(), ImageError> {
    let pixels = h.width as u64 * h.height as u64;
    let raw = pixels * h.format.channels as u64 * h.format.bit_depth.div_ceil(8) as u64;
    let (limit, what) = match image::guess_format(bytes) {
        Ok(image::ImageFormat::Tiff) => (3000 * bytes.len() as u64 + 65_536, raw),
        Ok(image::ImageFormat::Jpeg) => (1024 * bytes.len() as u64 + 65_536, pixels),
        _ => return Ok(()),
    };
    if what > limit {
        return Err(ImageError::Corrupt(format!(
            "the header claims {}×{} pixels, more than a file of {} bytes can hold",
            h.width,
            h.height,
            bytes.len()
        )));
    }
    Ok(())
}

/// Decode a whole image (the first frame of a multi-frame DICOM), refusing oversized ones
/// before allocating.
pub fn decode(path: &Path) -> Result<PixelImage, ImageError> {
    decode_frame(path, 0)
}

/// Decode frame `frame` of an image (0 for single-frame files).
pub fn decode_frame(path: &Path, frame: u32) -> Result<PixelImage, ImageError> {
    match sniff(path)? {
        Container::Dicom => return super::dicom::decode(path, frame),
        Container::Nifti => return Ok(super::nifti::decode_frames(path, Some(frame..frame + 1))?.remove(0)),
        Container::Series => return super::series::decode(path, frame),
        Container::Raster => {}
    }
    if frame > 0 {
        return Err(ImageError::Corrupt(format!(
            "frame {frame} asked for, the image has one"
        )));
    }
    let header = read_header(path)?;
    check_dimensions(header.width as u64, header.height as u64)?;
    let bytes = std::fs::read(path).map_err(|e| ImageError::Io(e.to_string()))?;
    // decoders fill what a truncated file lacks (a JPEG's missing part decodes as flat grey)
    super::integrity::check_bytes(&bytes).map_err(ImageError::Corrupt)?;
    plausible_size(&bytes, &header)?;
    let mut reader = ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| ImageError::Io(e.to_string()))?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_PIXELS * 8);
    reader.limits(limits);
    let img = reader.decode().map_err(map_err)?;
    // a grey palette expands to RGB with r = g = b: keep it greyscale, as its header says
    let img = if header.format.channels == 1 && img.color().channel_count() > 1 {
        image::DynamicImage::ImageLuma8(img.into_luma8())
    } else {
        img
    };
    let (width, height) = (img.width(), img.height());
    use image::DynamicImage as D;
    let pixels = match img {
        D::ImageLuma8(b) => Pixels::Gray8(b.into_raw()),
        D::ImageLuma16(b) => Pixels::Gray16(b.into_raw()),
        D::ImageLumaA8(_) => Pixels::Gray8(img.into_luma8().into_raw()),
        D::ImageLumaA16(_) => Pixels::Gray16(img.into_luma16().into_raw()),
        D::ImageRgb8(b) => Pixels::Rgb8(b.into_raw()),
        D::ImageRgba8(_) => Pixels::Rgb8(img.into_rgb8().into_raw()),
        D::ImageRgb16(b) => Pixels::Rgb16(b.into_raw()),
        D::ImageRgba16(_) => Pixels::Rgb16(img.into_rgb16().into_raw()),
        other => return Err(ImageError::Unsupported(format!("{:?}", other.color()))),
    };
    Ok(PixelImage {
        width,
        height,
        pixels,
        scan: None,
    })
}

/// The DICOM file whose header describes an image: the file itself, or a series folder's first
/// slice; `None` for other images.
pub fn dicom_header_file(path: &Path) -> Option<std::path::PathBuf> {
    match sniff(path).ok()? {
        Container::Dicom => Some(path.to_path_buf()),
        Container::Series => first_slice(path).ok(),
        _ => None,
    }
}

/// The pixel spacing a DICOM or NIfTI header states (headers only); `None` for other images.
pub fn read_spacing(path: &Path) -> Option<super::scan::Spacing> {
    match sniff(path).ok()? {
        Container::Dicom => super::dicom::read_scan(path).ok()?.spacing,
        Container::Nifti => super::nifti::read_spacing(path),
        Container::Series => super::dicom::read_scan(&first_slice(path).ok()?).ok()?.spacing,
        Container::Raster => None,
    }
}

/// How many frames (slices) an image holds: 1 except for multi-frame DICOM, NIfTI volumes and
/// DICOM series folders.
pub fn frame_count(path: &Path) -> Result<u32, ImageError> {
    match sniff(path)? {
        Container::Dicom => super::dicom::frame_count(path),
        Container::Nifti => super::nifti::frame_count(path),
        Container::Series => Ok(super::series::open(path)?.slices.len() as u32),
        Container::Raster => Ok(1),
    }
}

/// Image file extensions lightbox looks for when it scans a folder.
pub const EXTENSIONS: &[&str] = &["png", "jpg", "jpeg", "tif", "tiff", "dcm", "dicom", "nii"];

pub fn is_image_path(p: &Path) -> bool {
    super::nifti::is_nifti_path(p)
        || p.extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}
