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

/// Check a PNG or JPEG file's structure; other files are `Ok` (their decoders check them).
pub fn check(path: &Path) -> Result<(), Damage> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read the file: {e}"))?;
    check_bytes(&bytes)
}

pub fn check_bytes(b: &[u8]) -> Result<(), Damage> {
    if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        png(b)
    } else if b.starts_with(&[0xFF, 0xD8]) {
        jpeg(b)
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

fn png(b: &[u8]) -> Result<(), Damage> {
    let mut at = 8usize;
    let mut saw_data = false;
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
            b"IDAT" => saw_data = true,
            b"IEND" => {
                return if saw_data {
                    Ok(())
                } else {
                    Err("PNG has no image data (IDAT chunk)".into())
                };
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
