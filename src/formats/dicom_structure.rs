//! A DICOM file's element structure, walked before dicom-rs reads it.
//!
//! dicom-rs reserves an element's declared length before it reads the value, so one damaged
//! length field (a flipped byte, a shifted header) makes it reserve up to 4 GiB for a 2 KB file;
//! CI's fuzzer saw 4,080 MiB held at once. This walk reads only element headers (tag, VR,
//! length) and seeks over values, and refuses any length that does not fit in what is left of
//! the file, or of the item or sequence it sits in. It follows dicom-rs's own reading rules:
//! the file meta group in explicit VR little endian, then the data set in its transfer syntax;
//! VRs with a 4-byte length (everything but AE AS AT CS DA DS DT FL FD IS LO LT PN SH SL SS ST
//! TM UI UL US, unknown VRs included); an undefined-length UN read as an implicit VR sequence;
//! a deflated data set inflated (at most 1,100× its compressed size, deflate's limit) and
//! walked. It also measures the pixel data, so a decoder is never asked for more pixels than the
//! file can hold.

use super::pixels::ImageError;
use std::io::{BufReader, Cursor, Read, Seek};
use std::path::Path;

const UNDEFINED: u32 = 0xFFFF_FFFF;
const PIXEL_DATA: (u16, u16) = (0x7FE0, 0x0010);
/// Sequences nest at most this deep (dicom-rs reads them recursively).
pub const MAX_NESTING: u32 = 64;

/// What the file's pixel data element holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelData {
    /// Uncompressed: the value's length in bytes.
    Native { bytes: u64 },
    /// Compressed fragments (the basic offset table excluded): how many, and their total bytes.
    Encapsulated { fragments: u64, bytes: u64 },
}

/// What the walk found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub transfer_syntax: String,
    pub pixel_data: Option<PixelData>,
}

/// Walk `path`'s structure; stop at the pixel data when `until_pixel_data` (a header read).
pub fn walk(path: &Path, until_pixel_data: bool) -> Result<Layout, ImageError> {
    let file = std::fs::File::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ImageError::NotFound,
        _ => ImageError::Io(e.to_string()),
    })?;
    let len = file.metadata().map_err(|e| ImageError::Io(e.to_string()))?.len();
    walk_reader(BufReader::new(file), len, until_pixel_data).map_err(ImageError::Corrupt)
}

/// [`walk`] over bytes in memory.
pub fn walk_bytes(bytes: &[u8], until_pixel_data: bool) -> Result<Layout, String> {
    walk_reader(Cursor::new(bytes), bytes.len() as u64, until_pixel_data)
}

fn walk_reader<R: Read + Seek>(r: R, len: u64, until_pixel_data: bool) -> Result<Layout, String> {
    let mut w = Walker {
        r,
        pos: 0,
        len,
        big_endian: false,
        until_pixel_data,
        pixel_data: None,
        stop: false,
        rle: false,
    };
    w.skip(128, "the preamble")?;
    let mut magic = [0u8; 4];
    w.read(&mut magic, "the DICM magic")?;
    if &magic != b"DICM" {
        return Err("DICOM: no \"DICM\" after the 128-byte preamble".into());
    }
    let transfer_syntax = w.meta()?;
    w.rle = transfer_syntax == RLE;
    match transfer_syntax.as_str() {
        "1.2.840.10008.1.2" => w.dataset(End::File, 0, false)?,
        "1.2.840.10008.1.2.2" => {
            w.big_endian = true;
            w.dataset(End::File, 0, true)?
        }
        "1.2.840.10008.1.2.1.99" => {
            let at = w.pos;
            let compressed = w.len - at;
            let limit = compressed.saturating_mul(1100).saturating_add(1 << 16);
            let mut inflated = Vec::new();
            flate2::read::DeflateDecoder::new(w.r.by_ref().take(compressed))
                .take(limit + 1)
                .read_to_end(&mut inflated)
                .map_err(|e| format!("DICOM: the deflated data set (from byte {at}) does not inflate: {e}"))?;
            if inflated.len() as u64 > limit {
                return Err(format!(
                    "DICOM: the deflated data set inflates to more than {limit} bytes, 1,100× its {compressed} bytes (more than deflate can encode)"
                ));
            }
            let n = inflated.len() as u64;
            let mut inner = Walker {
                r: Cursor::new(inflated),
                pos: 0,
                len: n,
                big_endian: false,
                until_pixel_data,
                pixel_data: None,
                stop: false,
                rle: false,
            };
            inner.dataset(End::File, 0, true)?;
            w.pixel_data = inner.pixel_data;
        }
        // every other transfer syntax (explicit VR little endian, every compressed one) encodes
        // its data set in explicit VR little endian
        _ => w.dataset(End::File, 0, true)?,
    }
    Ok(Layout {
        transfer_syntax,
        pixel_data: w.pixel_data,
    })
}

#[derive(Clone, Copy)]
enum End {
    /// The end of the file (the top-level data set).
    File,
    /// A defined length: this byte offset.
    At(u64),
    /// An undefined length: the delimiter item.
    Delimiter,
}

struct Walker<R> {
    r: R,
    pos: u64,
    len: u64,
    big_endian: bool,
    until_pixel_data: bool,
    pixel_data: Option<PixelData>,
    stop: bool,
    /// RLE Lossless: each fragment starts with a 64-byte header of at most 15 segments.
    rle: bool,
}

/// RLE Lossless (PS3.5 G.2): at most 15 segments, a 64-byte header of 16 little-endian u32s.
const RLE: &str = "1.2.840.10008.1.2.5";
const RLE_MAX_SEGMENTS: u32 = 15;

/// Whether an explicit VR has a 2-byte length (PS3.5 table 7.1-2).
fn short_length(vr: [u8; 2]) -> bool {
    matches!(
        &vr,
        b"AE"
            | b"AS"
            | b"AT"
            | b"CS"
            | b"DA"
            | b"DS"
            | b"DT"
            | b"FL"
            | b"FD"
            | b"IS"
            | b"LO"
            | b"LT"
            | b"PN"
            | b"SH"
            | b"SL"
            | b"SS"
            | b"ST"
            | b"TM"
            | b"UI"
            | b"UL"
            | b"US"
    )
}

/// The VR the standard dictionary gives `tag` (implicit VR files do not say); `UN` for tags it
/// does not know.
fn dictionary_vr(tag: (u16, u16)) -> [u8; 2] {
    use dicom_core::dictionary::{DataDictionary, DataDictionaryEntry};
    dicom_dictionary_std::StandardDataDictionary
        .by_tag(dicom_core::Tag(tag.0, tag.1))
        .map(|e| e.vr().relaxed().to_bytes())
        .unwrap_or(*b"UN")
}

/// The size of one value of a binary VR: its value length must be a multiple of it. dicom-rs
/// reads `length / size` values and so leaves the rest of a ragged value unread, after which it
/// reads the file out of step (and took a pixel byte for a 775 MB length).
fn value_size(vr: [u8; 2]) -> Option<u32> {
    Some(match &vr {
        b"OW" | b"SS" | b"US" => 2,
        b"AT" | b"FL" | b"OF" | b"OL" | b"SL" | b"UL" => 4,
        b"FD" | b"OD" | b"OV" | b"SV" | b"UV" => 8,
        _ => return None,
    })
}

/// A tag as a person reads it: its dictionary name, then its number.
fn name(tag: (u16, u16)) -> String {
    use dicom_core::dictionary::{DataDictionary, DataDictionaryEntry};
    let number = format!("({:04X},{:04X})", tag.0, tag.1);
    if tag == PIXEL_DATA {
        return format!("Pixel Data {number}");
    }
    match dicom_dictionary_std::StandardDataDictionary.by_tag(dicom_core::Tag(tag.0, tag.1)) {
        Some(e) if tag.0 != 0xFFFE => format!("{} {number}", e.alias()),
        _ => number,
    }
}

impl<R: Read + Seek> Walker<R> {
    fn left(&self) -> u64 {
        self.len - self.pos
    }

    fn read(&mut self, buf: &mut [u8], what: &str) -> Result<(), String> {
        if (buf.len() as u64) > self.left() {
            return Err(format!("DICOM: the file ends inside {what} at byte {}", self.pos));
        }
        self.r
            .read_exact(buf)
            .map_err(|e| format!("DICOM: cannot read {what} at byte {}: {e}", self.pos))?;
        self.pos += buf.len() as u64;
        Ok(())
    }

    fn skip(&mut self, n: u64, what: &str) -> Result<(), String> {
        if n > self.left() {
            return Err(format!("DICOM: the file ends inside {what} at byte {}", self.pos));
        }
        self.r
            .seek_relative(n as i64)
            .map_err(|e| format!("DICOM: cannot read {what} at byte {}: {e}", self.pos))?;
        self.pos += n;
        Ok(())
    }

    fn u16(&mut self, big_endian: bool, what: &str) -> Result<u16, String> {
        let mut b = [0u8; 2];
        self.read(&mut b, what)?;
        Ok(if big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    }

    fn u32(&mut self, big_endian: bool, what: &str) -> Result<u32, String> {
        let mut b = [0u8; 4];
        self.read(&mut b, what)?;
        Ok(if big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    fn tag(&mut self, big_endian: bool) -> Result<(u16, u16), String> {
        Ok((
            self.u16(big_endian, "an element's tag")?,
            self.u16(big_endian, "an element's tag")?,
        ))
    }

    /// The value at `at` of `len` bytes must end by `end` (and by the end of the file).
    fn fits(&self, tag: (u16, u16), at: u64, len: u32, end: End) -> Result<(), String> {
        let limit = match end {
            End::At(e) => e,
            End::File | End::Delimiter => self.len,
        };
        let left = limit.saturating_sub(self.pos);
        if len as u64 > left {
            return Err(match end {
                End::At(_) => format!(
                    "DICOM element {} at byte {at} says its value is {len} bytes, but the item or sequence it is in has only {left} bytes left (a damaged length field)",
                    name(tag)
                ),
                _ => format!(
                    "DICOM element {} at byte {at} says its value is {len} bytes, but the file ends {left} bytes later (truncated, or a damaged length field)",
                    name(tag)
                ),
            });
        }
        Ok(())
    }

    /// The file meta group, read as dicom-rs reads it: explicit VR little endian, starting with
    /// its group length (0002,0000), then whole elements until that many bytes are read (of
    /// whatever group). Returns the transfer syntax.
    fn meta(&mut self) -> Result<String, String> {
        let at = self.pos;
        let tag = self.tag(false)?;
        let mut vr = [0u8; 2];
        self.read(&mut vr, "an element's VR")?;
        let len = if short_length(vr) {
            self.u16(false, "an element's length")? as u32
        } else {
            0
        };
        if tag != (0x0002, 0x0000) || &vr != b"UL" || len != 4 {
            return Err(format!(
                "DICOM file meta must start with FileMetaInformationGroupLength (0002,0000), a 4-byte UL; byte {at} holds {}",
                name(tag)
            ));
        }
        let group_length = self.u32(false, "the file meta group length")?;
        let mut syntax = None;
        let start = self.pos;
        while self.pos - start < group_length as u64 {
            let at = self.pos;
            let tag = self.tag(false)?;
            let len = if tag.0 == 0xFFFE {
                self.u32(false, "an item's length")?
            } else {
                let mut vr = [0u8; 2];
                self.read(&mut vr, "an element's VR")?;
                if short_length(vr) {
                    self.u16(false, "an element's length")? as u32
                } else {
                    self.skip(2, "an element's header")?;
                    self.u32(false, "an element's length")?
                }
            };
            if len == UNDEFINED {
                return Err(format!(
                    "DICOM file meta element {} at byte {at} has an undefined length",
                    name(tag)
                ));
            }
            self.fits(tag, at, len, End::File)?;
            if tag == (0x0002, 0x0010) {
                if len > 64 {
                    return Err(format!(
                        "DICOM Transfer Syntax UID (0002,0010) at byte {at} is {len} bytes (a UID is at most 64)"
                    ));
                }
                let mut v = vec![0u8; len as usize];
                self.read(&mut v, "the Transfer Syntax UID")?;
                syntax = Some(
                    String::from_utf8_lossy(&v)
                        .trim_matches(|c: char| c == '\0' || c.is_whitespace())
                        .to_string(),
                );
            } else {
                self.skip(len as u64, "an element's value")?;
            }
        }
        syntax.ok_or_else(|| "DICOM file meta has no Transfer Syntax UID (0002,0010)".into())
    }

    /// Elements until `end`.
    fn dataset(&mut self, end: End, depth: u32, explicit: bool) -> Result<(), String> {
        if depth > MAX_NESTING {
            return Err(format!(
                "DICOM sequences nest more than {MAX_NESTING} deep at byte {}",
                self.pos
            ));
        }
        let be = self.big_endian;
        loop {
            if self.stop {
                return Ok(());
            }
            match end {
                End::File if self.left() == 0 => return Ok(()),
                End::At(e) if self.pos >= e => return Ok(()),
                _ => {}
            }
            let at = self.pos;
            let tag = self.tag(be)?;
            if tag.0 == 0xFFFE {
                let _len = self.u32(be, "an item's length")?;
                if tag.1 == 0xE00D && matches!(end, End::Delimiter) {
                    return Ok(());
                }
                return Err(format!(
                    "DICOM: an item tag {} at byte {at} where an element was expected",
                    name(tag)
                ));
            }
            let (vr, len) = if explicit {
                let mut vr = [0u8; 2];
                self.read(&mut vr, "an element's VR")?;
                let len = if short_length(vr) {
                    self.u16(be, "an element's length")? as u32
                } else {
                    self.skip(2, "an element's header")?;
                    self.u32(be, "an element's length")?
                };
                (Some(vr), len)
            } else {
                (None, self.u32(be, "an element's length")?)
            };
            let top = depth == 0;
            if len == UNDEFINED {
                if tag == PIXEL_DATA {
                    if top && self.until_pixel_data {
                        self.stop = true;
                        return Ok(());
                    }
                    let (fragments, bytes) = self.items(tag, End::Delimiter, depth, explicit, true)?;
                    if top {
                        self.pixel_data = Some(PixelData::Encapsulated { fragments, bytes });
                    }
                } else {
                    match vr {
                        // dicom-rs reads an undefined-length UN as an implicit VR sequence
                        Some(v) if &v == b"UN" => {
                            self.items(tag, End::Delimiter, depth, false, false)?;
                        }
                        Some(v) if &v == b"SQ" => {
                            self.items(tag, End::Delimiter, depth, explicit, false)?;
                        }
                        None => {
                            self.items(tag, End::Delimiter, depth, false, false)?;
                        }
                        Some(v) => {
                            return Err(format!(
                                "DICOM element {} at byte {at} (VR {}) has an undefined length, which only sequences and pixel data may have",
                                name(tag),
                                String::from_utf8_lossy(&v)
                            ));
                        }
                    }
                }
                continue;
            }
            self.fits(tag, at, len, end)?;
            let vr = vr.unwrap_or_else(|| dictionary_vr(tag));
            if let Some(size) = value_size(vr)
                && len % size != 0
            {
                return Err(format!(
                    "DICOM element {} at byte {at} is {len} bytes of VR {}, not a whole number of {size}-byte values (a damaged VR or length)",
                    name(tag),
                    String::from_utf8_lossy(&vr)
                ));
            }
            if top && tag == PIXEL_DATA {
                if self.until_pixel_data {
                    self.stop = true;
                    return Ok(());
                }
                self.pixel_data = Some(PixelData::Native { bytes: len as u64 });
            }
            if &vr == b"SQ" {
                let stop = self.pos + len as u64;
                self.items(tag, End::At(stop), depth, explicit, false)?;
                if self.pos != stop {
                    return Err(format!(
                        "DICOM sequence {} at byte {at}: its items overrun its length of {len} bytes",
                        name(tag)
                    ));
                }
            } else {
                self.skip(len as u64, "an element's value")?;
            }
        }
    }

    /// Items of the sequence (or the fragments of the pixel data) `tag` until `end`; returns how
    /// many fragments and their bytes (the first item, the offset table, not counted).
    fn items(
        &mut self,
        tag: (u16, u16),
        end: End,
        depth: u32,
        explicit: bool,
        fragments: bool,
    ) -> Result<(u64, u64), String> {
        let be = self.big_endian;
        let (mut count, mut bytes) = (0u64, 0u64);
        let mut first = true;
        loop {
            if let End::At(e) = end
                && self.pos >= e
            {
                return Ok((count, bytes));
            }
            let at = self.pos;
            let item = self.tag(be)?;
            let len = self.u32(be, "an item's length")?;
            match item {
                (0xFFFE, 0xE000) => {
                    if fragments {
                        if len == UNDEFINED {
                            return Err(format!(
                                "DICOM Pixel Data fragment at byte {at} has an undefined length"
                            ));
                        }
                        self.fits(item, at, len, end)?;
                        if self.rle && !first {
                            // dicom-rs allocates the segment table from this count unchecked
                            if len < 64 {
                                return Err(format!(
                                    "DICOM RLE fragment at byte {at} is {len} bytes, shorter than its 64-byte header"
                                ));
                            }
                            let segments = self.u32(false, "an RLE header")?;
                            if segments == 0 || segments > RLE_MAX_SEGMENTS {
                                return Err(format!(
                                    "DICOM RLE fragment at byte {at} says it has {segments} segments (1 to {RLE_MAX_SEGMENTS})"
                                ));
                            }
                            self.skip(len as u64 - 4, "a pixel data fragment")?;
                        } else {
                            self.skip(len as u64, "a pixel data fragment")?;
                        }
                        if !first {
                            count += 1;
                            bytes += len as u64;
                        }
                        first = false;
                    } else if len == UNDEFINED {
                        self.dataset(End::Delimiter, depth + 1, explicit)?;
                    } else {
                        self.fits(item, at, len, end)?;
                        let stop = self.pos + len as u64;
                        self.dataset(End::At(stop), depth + 1, explicit)?;
                        if self.pos != stop {
                            return Err(format!(
                                "DICOM item at byte {at} in {}: its elements overrun its length of {len} bytes",
                                name(tag)
                            ));
                        }
                    }
                }
                (0xFFFE, 0xE0DD) if matches!(end, End::Delimiter) => return Ok((count, bytes)),
                other => {
                    return Err(format!(
                        "DICOM {} at byte {at} holds {} where an item was expected (a damaged length or tag)",
                        name(tag),
                        name(other)
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn explicit(tag: (u16, u16), vr: &[u8; 2], value: &[u8]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&tag.0.to_le_bytes());
        b.extend_from_slice(&tag.1.to_le_bytes());
        b.extend_from_slice(vr);
        if short_length(*vr) {
            b.extend_from_slice(&(value.len() as u16).to_le_bytes());
        } else {
            b.extend_from_slice(&[0, 0]);
            b.extend_from_slice(&(value.len() as u32).to_le_bytes());
        }
        b.extend_from_slice(value);
        b
    }

    fn file(syntax: &str, body: &[u8]) -> Vec<u8> {
        let mut b = vec![0u8; 128];
        b.extend_from_slice(b"DICM");
        let mut uid = syntax.as_bytes().to_vec();
        if uid.len() % 2 == 1 {
            uid.push(0);
        }
        let ts = explicit((0x0002, 0x0010), b"UI", &uid);
        b.extend(explicit((0x0002, 0x0000), b"UL", &(ts.len() as u32).to_le_bytes()));
        b.extend(ts);
        b.extend_from_slice(body);
        b
    }

    #[test]
    fn a_whole_file_walks_and_measures_its_pixels() {
        let mut body = explicit((0x0028, 0x0010), b"US", &4u16.to_le_bytes());
        body.extend(explicit((0x7FE0, 0x0010), b"OW", &[0u8; 32]));
        let l = walk_bytes(&file("1.2.840.10008.1.2.1", &body), false).unwrap();
        assert_eq!(l.transfer_syntax, "1.2.840.10008.1.2.1");
        assert_eq!(l.pixel_data, Some(PixelData::Native { bytes: 32 }));
        let h = walk_bytes(&file("1.2.840.10008.1.2.1", &body), true).unwrap();
        assert_eq!(h.pixel_data, None);
    }

    #[test]
    fn a_length_longer_than_the_file_is_named() {
        let mut body = explicit((0x0010, 0x0010), b"LO", b"ab");
        body.extend(explicit((0x0008, 0x103E), b"UT", b"abcd"));
        let mut f = file("1.2.840.10008.1.2.1", &body);
        let n = f.len();
        f[n - 8..n - 4].copy_from_slice(&0xF000_0000u32.to_le_bytes());
        let e = walk_bytes(&f, false).unwrap_err();
        assert!(e.contains("(0008,103E)") && e.contains("4026531840 bytes"), "{e}");
    }

    #[test]
    fn an_item_longer_than_its_sequence_is_named() {
        let mut item = Vec::new();
        item.extend_from_slice(&0xFFFEu16.to_le_bytes());
        item.extend_from_slice(&0xE000u16.to_le_bytes());
        item.extend_from_slice(&1000u32.to_le_bytes());
        item.extend(explicit((0x0008, 0x0100), b"SH", b"ab"));
        let body = explicit((0x0008, 0x1140), b"SQ", &item);
        let e = walk_bytes(&file("1.2.840.10008.1.2.1", &body), false).unwrap_err();
        assert!(e.contains("(FFFE,E000)") && e.contains("1000 bytes"), "{e}");
    }

    #[test]
    fn encapsulated_fragments_are_counted_without_the_offset_table() {
        let mut px = Vec::new();
        px.extend_from_slice(&0x7FE0u16.to_le_bytes());
        px.extend_from_slice(&0x0010u16.to_le_bytes());
        px.extend_from_slice(b"OB\0\0");
        px.extend_from_slice(&UNDEFINED.to_le_bytes());
        for len in [0u32, 6, 10] {
            px.extend_from_slice(&0xFFFEu16.to_le_bytes());
            px.extend_from_slice(&0xE000u16.to_le_bytes());
            px.extend_from_slice(&len.to_le_bytes());
            px.extend(std::iter::repeat_n(7u8, len as usize));
        }
        px.extend_from_slice(&0xFFFEu16.to_le_bytes());
        px.extend_from_slice(&0xE0DDu16.to_le_bytes());
        px.extend_from_slice(&0u32.to_le_bytes());
        let l = walk_bytes(&file("1.2.840.10008.1.2.4.50", &px), false).unwrap();
        assert_eq!(
            l.pixel_data,
            Some(PixelData::Encapsulated {
                fragments: 2,
                bytes: 16
            })
        );
    }

    #[test]
    fn a_ragged_binary_value_is_refused_before_dicom_rs_reads_out_of_step() {
        let body = explicit((0x0008, 0x0016), b"UL", b"1.2.840.10008.5.1.4.1.1.7\0");
        let e = walk_bytes(&file("1.2.840.10008.1.2.1", &body), false).unwrap_err();
        assert!(
            e.contains("SOPClassUID (0008,0016)") && e.contains("26 bytes of VR UL"),
            "{e}"
        );
        // implicit VR: the dictionary's VR (Rows is US)
        let mut body = Vec::new();
        body.extend_from_slice(&0x0028u16.to_le_bytes());
        body.extend_from_slice(&0x0010u16.to_le_bytes());
        body.extend_from_slice(&3u32.to_le_bytes());
        body.extend_from_slice(&[1, 2, 3]);
        let e = walk_bytes(&file("1.2.840.10008.1.2", &body), false).unwrap_err();
        assert!(e.contains("Rows (0028,0010)") && e.contains("VR US"), "{e}");
    }

    #[test]
    fn the_meta_group_ends_where_its_group_length_says() {
        // a data set element the group length covers is read as meta, as dicom-rs reads it
        let mut f = file("1.2.840.10008.1.2.1", &explicit((0x0028, 0x1051), b"DS", b"4096.0"));
        f.extend(explicit((0x7FE0, 0x0010), b"OW", &[0u8; 8]));
        let l = walk_bytes(&f, false).unwrap();
        assert_eq!(l.pixel_data, Some(PixelData::Native { bytes: 8 }));
        let at = 128 + 4 + 8;
        let n = u32::from_le_bytes(f[at..at + 4].try_into().unwrap());
        f[at..at + 4].copy_from_slice(&(n + 1000).to_le_bytes());
        // the meta group then runs past the pixel data, off the end of the file
        let e = walk_bytes(&f, false).unwrap_err();
        assert!(e.contains("the file ends"), "{e}");
    }

    #[test]
    fn deep_nesting_is_refused_not_recursed() {
        let mut body = Vec::new();
        for _ in 0..200 {
            body.extend_from_slice(&0x0008u16.to_le_bytes());
            body.extend_from_slice(&0x1140u16.to_le_bytes());
            body.extend_from_slice(b"SQ\0\0");
            body.extend_from_slice(&UNDEFINED.to_le_bytes());
            body.extend_from_slice(&0xFFFEu16.to_le_bytes());
            body.extend_from_slice(&0xE000u16.to_le_bytes());
            body.extend_from_slice(&UNDEFINED.to_le_bytes());
        }
        let e = walk_bytes(&file("1.2.840.10008.1.2.1", &body), false).unwrap_err();
        assert!(e.contains("nest more than 64"), "{e}");
    }
}
