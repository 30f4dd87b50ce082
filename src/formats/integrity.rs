//! Whether a PNG or JPEG file is whole, without decoding its pixels: the checks that catch a
//! truncated copy (`head -c 5000`), a download cut short or a damaged byte. Decoders are lenient
//! here (a truncated baseline JPEG decodes into an image whose missing part is flat grey), so a
//! reviewer could look at a grey field and never know the image was damaged.
//!
//! - PNG: every chunk lies inside the file, every chunk's CRC-32 matches, image data (`IDAT`)
//!   is present and the file ends with `IEND`.
//! - JPEG: the marker segments are walked from `SOI`; each scan's entropy-coded data is skipped
//!   to the next marker; the file must reach `EOI` after at least one scan. Segments are
//!   skipped by their length, so an EXIF thumbnail's own `EOI` is never taken for the image's.
//!
//! Both read the file once, sequentially: far less than decoding it.

use std::path::Path;

/// What is wrong with a file that is not whole.
pub type Damage = String;

/// Check a PNG or JPEG file's structure and a TIFF's first directory; other files are `Ok`
/// (their decoders check them).
pub fn check(path: &Path) -> Result<(), Damage> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read the file: {e}"))?;
    check_bytes(&bytes)
}

pub fn check_bytes(b: &[u8]) -> Result<(), Damage> {
    if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        png(b)
    } else if b.starts_with(&[0xFF, 0xD8]) {
        jpeg(b)
    } else if b.starts_with(b"II") || b.starts_with(b"MM") {
        tiff_directory(b)
    } else {
        Ok(())
    }
}

/// Whether a PNG (its first bytes, through its `PLTE` chunk) is a palette image whose every
/// palette entry is grey (r = g = b) and without transparency: an 8-bit greyscale image stored
/// as a palette, which decoders expand to RGB.
pub fn png_grey_palette(b: &[u8]) -> bool {
    if !b.starts_with(b"\x89PNG\r\n\x1a\n") || b.len() < 33 || b[25] != 3 {
        return false;
    }
    let mut at = 8usize;
    let mut grey = false;
    while at + 8 <= b.len() {
        let len = u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]) as usize;
        let kind = &b[at + 4..at + 8];
        let Some(data) = b.get(at + 8..at + 8 + len) else {
            return false;
        };
        match kind {
            b"PLTE" => grey = !data.is_empty() && data.chunks_exact(3).all(|c| c[0] == c[1] && c[1] == c[2]),
            b"tRNS" => return false,
            b"IDAT" | b"IEND" => return grey,
            _ => {}
        }
        at += 12 + len;
    }
    false
}

/// Deflate expands at most about 1032-fold (a 258-byte match per 2 bits): image data that
/// would have to expand more than this cannot be whole.
const DEFLATE_MAX_RATIO: u64 = 1100;

fn png(b: &[u8]) -> Result<(), Damage> {
    let mut at = 8usize;
    let mut saw_data = false;
    let mut data_bytes = 0u64;
    loop {
        if at + 8 > b.len() {
            return Err(format!(
                "PNG ends after {} bytes, before its IEND chunk: the file is truncated",
                b.len()
            ));
        }
        let len = u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]) as usize;
        let kind = &b[at + 4..at + 8];
        let end = at.checked_add(12).and_then(|v| v.checked_add(len));
        let Some(end) = end.filter(|&e| e <= b.len()) else {
            return Err(format!(
                "PNG chunk {} at byte {at} needs {len} bytes but the file ends after {}: the file is truncated",
                String::from_utf8_lossy(kind),
                b.len()
            ));
        };
        let stored = u32::from_be_bytes([b[end - 4], b[end - 3], b[end - 2], b[end - 1]]);
        if crc32fast::hash(&b[at + 4..end - 4]) != stored {
            return Err(format!(
                "PNG chunk {} at byte {at} fails its CRC check: the file is damaged",
                String::from_utf8_lossy(kind)
            ));
        }
        match kind {
            b"IDAT" => {
                saw_data = true;
                data_bytes += len as u64;
            }
            b"IEND" => {
                if !saw_data {
                    return Err("PNG has no image data (IDAT chunk)".into());
                }
                // a header that claims far more pixels than the data can hold: a decoder
                // would allocate the claimed size first, then fail
                if let Some((w, h, raw)) = png_raw_size(b)
                    && raw > DEFLATE_MAX_RATIO * data_bytes + 4096
                {
                    return Err(format!(
                        "PNG declares {w}×{h} pixels ({raw} bytes) but holds {data_bytes} bytes of compressed data, more than deflate can expand: the file is damaged"
                    ));
                }
                return Ok(());
            }
            _ => {}
        }
        at = end;
    }
}

fn jpeg(b: &[u8]) -> Result<(), Damage> {
    let truncated = |what: &str| {
        Err(format!(
            "JPEG ends after {} bytes, {what}, before its end-of-image marker: the file is truncated",
            b.len()
        ))
    };
    let mut at = 2usize;
    let mut scans = 0usize;
    loop {
        // a marker: one or more 0xFF fill bytes, then the code
        while at < b.len() && b[at] == 0xFF {
            at += 1;
        }
        if at >= b.len() {
            return truncated(if scans == 0 {
                "in its header"
            } else {
                "in its image data"
            });
        }
        if b[at - 1] != 0xFF {
            return Err(format!(
                "JPEG has no marker at byte {at} where one must be: the file is damaged"
            ));
        }
        let code = b[at];
        at += 1;
        match code {
            0xD9 => {
                return if scans > 0 {
                    Ok(())
                } else {
                    Err("JPEG ends (EOI) before any image data".into())
                };
            }
            // markers without a length
            0x01 | 0xD0..=0xD7 => continue,
            _ => {}
        }
        if at + 2 > b.len() {
            return truncated("in a marker segment");
        }
        let len = u16::from_be_bytes([b[at], b[at + 1]]) as usize;
        if len < 2 || at + len > b.len() {
            return truncated("in a marker segment");
        }
        at += len;
        if code == 0xDA {
            scans += 1;
            // entropy-coded data: up to the next 0xFF not followed by 0x00 or a restart marker
            loop {
                match b[at..].iter().position(|&v| v == 0xFF) {
                    None => return truncated("in its image data"),
                    Some(k) => {
                        at += k;
                        match b.get(at + 1) {
                            None => return truncated("in its image data"),
                            Some(0x00) | Some(0xD0..=0xD7) => at += 2,
                            Some(0xFF) => at += 1,
                            Some(_) => break,
                        }
                    }
                }
            }
        }
    }
}

/// Whether a TIFF's first directory fits its file: every entry's values (count × type size)
/// no larger than the file. The decoder allocates an entry's values from the count the file
/// gives, before any limit applies, so a flipped byte in a count made it allocate 254 MiB for
/// a 1 KB file.
pub fn tiff_directory(b: &[u8]) -> Result<(), Damage> {
    let le = match b.get(0..2) {
        Some(b"II") => true,
        Some(b"MM") => false,
        _ => return Ok(()),
    };
    let u16_at = |i: usize| -> Option<u64> {
        let v = b.get(i..i + 2)?;
        Some(if le {
            u16::from_le_bytes([v[0], v[1]])
        } else {
            u16::from_be_bytes([v[0], v[1]])
        } as u64)
    };
    let u32_at = |i: usize| -> Option<u64> {
        let v: [u8; 4] = b.get(i..i + 4)?.try_into().ok()?;
        Some(if le {
            u32::from_le_bytes(v)
        } else {
            u32::from_be_bytes(v)
        } as u64)
    };
    let u64_at = |i: usize| -> Option<u64> {
        let v: [u8; 8] = b.get(i..i + 8)?.try_into().ok()?;
        Some(if le {
            u64::from_le_bytes(v)
        } else {
            u64::from_be_bytes(v)
        })
    };
    let cut = || {
        format!(
            "TIFF ends after {} bytes, inside its first directory: the file is truncated",
            b.len()
        )
    };
    let big = match u16_at(2) {
        Some(42) => false,
        Some(43) => true,
        _ => return Err("TIFF header has no version 42 (or 43, BigTIFF)".into()),
    };
    let ifd = if big { u64_at(8) } else { u32_at(4) }.ok_or_else(cut)? as usize;
    let (n, first, size) = if big {
        (u64_at(ifd).ok_or_else(cut)?, ifd + 8, 20)
    } else {
        (u16_at(ifd).ok_or_else(cut)?, ifd + 2, 12)
    };
    if (n as u128) * size as u128 + first as u128 > b.len() as u128 {
        return Err(cut());
    }
    for k in 0..n as usize {
        let e = first + k * size;
        let (tag, kind) = (u16_at(e).ok_or_else(cut)?, u16_at(e + 2).ok_or_else(cut)?);
        let count = if big { u64_at(e + 4) } else { u32_at(e + 4) }.ok_or_else(cut)?;
        let unit: u64 = match kind {
            1 | 2 | 6 | 7 => 1,
            3 | 8 => 2,
            4 | 9 | 11 | 13 => 4,
            5 | 10 | 12 | 16 | 17 | 18 => 8,
            _ => 1,
        };
        if count.saturating_mul(unit) > b.len() as u64 {
            return Err(format!(
                "TIFF tag {tag} claims {count} values, more than the file's {} bytes hold: the file is damaged",
                b.len()
            ));
        }
    }
    Ok(())
}

/// Width, height and the size of the uncompressed (filtered) image data an IHDR declares.
fn png_raw_size(b: &[u8]) -> Option<(u32, u32, u64)> {
    if b.len() < 33 || &b[12..16] != b"IHDR" {
        return None;
    }
    let w = u32::from_be_bytes([b[16], b[17], b[18], b[19]]);
    let h = u32::from_be_bytes([b[20], b[21], b[22], b[23]]);
    let depth = b[24] as u64;
    let channels = match b[25] {
        0 | 3 => 1,
        2 => 3,
        4 => 2,
        6 => 4,
        _ => return None,
    };
    let row = (w as u64 * channels * depth).div_ceil(8) + 1;
    Some((w, h, row * h as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png_file() -> Vec<u8> {
        let img = image::GrayImage::from_fn(40, 30, |x, y| image::Luma([(x * 7 + y * 3) as u8]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    }

    fn jpeg_file() -> Vec<u8> {
        let img = image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([(x * 3) as u8, (y * 5) as u8, 90]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
        out.into_inner()
    }

    #[test]
    fn a_grey_palette_is_told_from_a_colour_one() {
        let encode = |palette: Vec<u8>| {
            let mut out = Vec::new();
            let mut e = png::Encoder::new(&mut out, 4, 2);
            e.set_color(png::ColorType::Indexed);
            e.set_depth(png::BitDepth::Eight);
            e.set_palette(palette);
            e.write_header()
                .unwrap()
                .write_image_data(&[0, 1, 2, 0, 1, 2, 0, 1])
                .unwrap();
            out
        };
        let grey = encode(vec![0, 0, 0, 128, 128, 128, 255, 255, 255]);
        assert!(png_grey_palette(&grey));
        assert_eq!(check_bytes(&grey), Ok(()));
        assert!(!png_grey_palette(&encode(vec![0, 0, 0, 255, 0, 0, 255, 255, 255])));
        assert!(!png_grey_palette(&png_file()));
    }

    #[test]
    fn whole_files_pass() {
        assert_eq!(check_bytes(&png_file()), Ok(()));
        assert_eq!(check_bytes(&jpeg_file()), Ok(()));
        assert_eq!(check_bytes(b"not an image"), Ok(()));
    }

    #[test]
    fn every_truncation_is_found() {
        for file in [png_file(), jpeg_file()] {
            // shorter than a PNG signature, a file is no PNG (the sniffer refuses it)
            for cut in 8..file.len() {
                assert!(
                    check_bytes(&file[..cut]).is_err(),
                    "cut at {cut} of {} passed",
                    file.len()
                );
            }
        }
    }

    #[test]
    fn a_header_claiming_more_than_the_data_can_hold_is_damaged() {
        // a valid 40×30 file whose IHDR (CRC fixed up) claims 16000×16000
        let mut f = png_file();
        f[16..20].copy_from_slice(&16000u32.to_be_bytes());
        f[20..24].copy_from_slice(&16000u32.to_be_bytes());
        let crc = crc32fast::hash(&f[12..29]);
        f[29..33].copy_from_slice(&crc.to_be_bytes());
        assert!(check_bytes(&f).unwrap_err().contains("16000×16000"));
        // a flat image compresses as far as deflate goes, and still passes
        let flat = image::GrayImage::from_pixel(3000, 3000, image::Luma([7]));
        let mut out = std::io::Cursor::new(Vec::new());
        flat.write_to(&mut out, image::ImageFormat::Png).unwrap();
        assert_eq!(check_bytes(&out.into_inner()), Ok(()));
    }

    #[test]
    fn a_flipped_byte_in_a_png_fails_its_crc() {
        let mut f = png_file();
        let k = f.len() / 2;
        f[k] ^= 0x10;
        assert!(check_bytes(&f).unwrap_err().contains("CRC"));
    }

    #[test]
    fn a_thumbnail_eoi_is_not_the_image_end() {
        // an APP1 segment holding a whole small JPEG (as EXIF thumbnails do), then a cut image
        let thumb = jpeg_file();
        let full = jpeg_file();
        let mut f = vec![0xFF, 0xD8, 0xFF, 0xE1];
        f.extend_from_slice(&((thumb.len() + 2) as u16).to_be_bytes());
        f.extend_from_slice(&thumb);
        f.extend_from_slice(&full[2..]);
        assert_eq!(check_bytes(&f), Ok(()));
        let cut = &f[..f.len() - 100];
        assert!(check_bytes(cut).unwrap_err().contains("truncated"));
    }
}
