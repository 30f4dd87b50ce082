//! A reader for the PNGs label masks almost always are — 8-bit greyscale, not interlaced — that
//! hands out each unfiltered row. Label masks are long stretches of one value, and PNG's
//! sequential filters (Sub, Average, Paeth) cost a dependent step per byte in a general decoder;
//! here a stretch whose filtered bytes are zero above a uniform row is copied eight bytes at a
//! time, which is what makes reading a mask cheap. Everything is checked (chunk CRCs, the zlib
//! checksum, sizes); anything else — another colour type or depth, interlacing, a damaged file —
//! gives `None`, and the general decoder reads the file or says what is wrong with it.

use std::cell::RefCell;

const SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];

thread_local! {
    /// The inflated image of the last file read on this thread, reused so that reading many
    /// masks does not allocate (and fault in) a fresh full-size buffer each time.
    static INFLATED: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Reads an 8-bit greyscale PNG: `start(width, height)` makes a state, then `row` is called with
/// it and each row, top to bottom. `None` (after any number of rows) when the file is not such
/// a PNG or is damaged.
pub fn for_each_row<S>(
    bytes: &[u8],
    start: impl FnOnce(u32, u32) -> S,
    mut row: impl FnMut(&mut S, &[u8]),
) -> Option<S> {
    if bytes.get(..8)? != SIGNATURE {
        return None;
    }
    let mut at = 8;
    let mut size = None;
    let mut idat: Vec<u8> = Vec::new();
    loop {
        let len = u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?) as usize;
        let kind = bytes.get(at + 4..at + 8)?;
        let data = bytes.get(at + 8..at.checked_add(8 + len)?)?;
        let crc = u32::from_be_bytes(bytes.get(at + 8 + len..at + 12 + len)?.try_into().ok()?);
        if crc32fast::hash(&bytes[at + 4..at + 8 + len]) != crc {
            return None;
        }
        match kind {
            b"IHDR" => {
                let d = data.get(..13)?;
                let (w, h) = (
                    u32::from_be_bytes(d[0..4].try_into().ok()?),
                    u32::from_be_bytes(d[4..8].try_into().ok()?),
                );
                // 8-bit, greyscale, deflate, adaptive filtering, not interlaced
                if d[8..13] != [8, 0, 0, 0, 0] || w == 0 || h == 0 || size.is_some() {
                    return None;
                }
                super::pixels::check_dimensions(w as u64, h as u64).ok()?;
                size = Some((w, h));
            }
            b"IDAT" => idat.extend_from_slice(data),
            b"IEND" => break,
            // a palette or transparency changes what the values mean: not a plain label mask
            b"PLTE" | b"tRNS" => return None,
            _ => {}
        }
        at += 12 + len;
    }
    let (w, h) = size?;
    let stride = w as usize;
    let total = (stride + 1).checked_mul(h as usize)?;
    INFLATED.with_borrow_mut(|buf| {
        // grown when needed, never cleared: every byte is written by the inflater (checked below)
        if buf.len() < total {
            buf.resize(total, 0);
        }
        let buf = &mut buf[..total];
        let mut inflate = fdeflate::Decompressor::new();
        let (mut read, mut written) = (0, 0);
        while !inflate.is_done() {
            let (r, n) = inflate.read(&idat[read..], buf, written, true).ok()?;
            if r == 0 && n == 0 {
                return None; // truncated, or more data than the image holds
            }
            (read, written) = (read + r, written + n);
        }
        if written != total {
            return None;
        }
        let mut state = start(w, h);
        let zero = vec![0u8; stride];
        for y in 0..h as usize {
            let (before, rest) = buf.split_at_mut(y * (stride + 1));
            let prev: &[u8] = if y == 0 {
                &zero
            } else {
                &before[before.len() - stride..]
            };
            let (filter, cur) = rest[..stride + 1].split_first_mut()?;
            unfilter(*filter, prev, cur)?;
            row(&mut state, cur);
        }
        Some(state)
    })
}

/// Whether `prev[at - 1..at + 8]` are all `v` and the filtered bytes `cur[at..at + 8]` are all
/// zero: then the next eight bytes are `v` for Sub, Average and Paeth alike.
#[inline]
#[allow(clippy::expect_used)] // cannot fail: chunks_exact(8) gives 8-byte slices
fn flat8(prev: &[u8], cur: &[u8], at: usize, v: u8) -> bool {
    let (Some(p), Some(c)) = (prev.get(at - 1..at + 8), cur.get(at..at + 8)) else {
        return false;
    };
    let splat = u64::from(v) * 0x0101_0101_0101_0101;
    u64::from_le_bytes(c.try_into().expect("8 bytes")) == 0
        && u64::from_le_bytes(p[1..].try_into().expect("8 bytes")) == splat
        && p[0] == v
}

/// Undo one row's filter in place (one byte per pixel), given the row above (unfiltered).
fn unfilter(filter: u8, prev: &[u8], cur: &mut [u8]) -> Option<()> {
    let n = cur.len();
    match filter {
        0 => {}
        // Sub: a copy of the left byte where the filtered bytes are zero
        1 => {
            let mut x = 1;
            while x < n {
                if cur.get(x..x + 8).is_some_and(|c| c.iter().all(|&b| b == 0)) {
                    let v = cur[x - 1];
                    cur[x..x + 8].fill(v);
                    x += 8;
                } else {
                    cur[x] = cur[x].wrapping_add(cur[x - 1]);
                    x += 1;
                }
            }
        }
        2 => cur.iter_mut().zip(prev).for_each(|(c, &p)| *c = c.wrapping_add(p)),
        3 | 4 => {
            let paeth = filter == 4;
            let one = |x: usize, cur: &mut [u8]| {
                let (a, b) = (if x > 0 { cur[x - 1] } else { 0 }, prev[x]);
                let c = if x > 0 { prev[x - 1] } else { 0 };
                let pred = if paeth {
                    let (pa, pb, pc) = (
                        (b as i16 - c as i16).abs(),
                        (a as i16 - c as i16).abs(),
                        (a as i16 + b as i16 - 2 * c as i16).abs(),
                    );
                    if pa <= pb && pa <= pc {
                        a
                    } else if pb <= pc {
                        b
                    } else {
                        c
                    }
                } else {
                    ((a as u16 + b as u16) / 2) as u8
                };
                cur[x] = cur[x].wrapping_add(pred);
            };
            one(0, cur);
            let mut x = 1;
            while x < n {
                let v = cur[x - 1];
                if flat8(prev, cur, x, v) {
                    cur[x..x + 8].fill(v);
                    x += 8;
                    // and on while the stretch lasts
                    while flat8(prev, cur, x, v) {
                        cur[x..x + 8].fill(v);
                        x += 8;
                    }
                } else {
                    one(x, cur);
                    x += 1;
                }
            }
        }
        _ => return None,
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A label image of runs of a few values, with rows that mostly repeat the one above.
    fn labels(w: u32, h: u32, seed: u64) -> Vec<u8> {
        let mut state = seed | 1;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut out: Vec<u8> = Vec::new();
        for y in 0..h as usize {
            if y > 0 && next() % 3 != 0 {
                let above = out[(y - 1) * w as usize..y * w as usize].to_vec();
                let k = (next() % w as u64) as usize;
                out.extend(above);
                out[y * w as usize + k] = (next() % 4) as u8;
                continue;
            }
            let mut v = 0u8;
            for _ in 0..w {
                if next() % 13 == 0 {
                    v = (next() % 4) as u8 * 60;
                }
                out.push(v);
            }
        }
        out
    }

    fn encode(w: u32, h: u32, data: &[u8], filter: png::Filter, chunk: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let mut e = png::Encoder::new(&mut out, w, h);
        e.set_color(png::ColorType::Grayscale);
        e.set_depth(png::BitDepth::Eight);
        e.set_filter(filter);
        let mut wr = e.write_header().unwrap();
        {
            let mut s = wr.stream_writer_with_size(chunk).unwrap();
            std::io::Write::write_all(&mut s, data).unwrap();
            s.finish().unwrap();
        }
        drop(wr);
        out
    }

    fn read(bytes: &[u8]) -> Option<(u32, u32, Vec<u8>)> {
        for_each_row(bytes, |w, h| (w, h, Vec::new()), |s, r| s.2.extend_from_slice(r))
    }

    proptest! {
        #[test]
        fn rows_equal_the_png_crate_for_every_filter(w in 1u32..90, h in 1u32..12, seed in 0u64..u64::MAX, f in 0usize..7, chunk in 16usize..4096) {
            let filters = [png::Filter::NoFilter, png::Filter::Sub, png::Filter::Up, png::Filter::Avg, png::Filter::Paeth, png::Filter::Adaptive, png::Filter::MinEntropy];
            let data = labels(w, h, seed);
            let file = encode(w, h, &data, filters[f], chunk);
            prop_assert_eq!(read(&file), Some((w, h, data)));
        }
    }

    #[test]
    fn anything_else_or_damaged_is_left_to_the_general_decoder() {
        let data = labels(40, 30, 7);
        let file = encode(40, 30, &data, png::Filter::Paeth, 64);
        assert!(read(&file).is_some());
        // truncated anywhere, or one byte flipped anywhere: no rows claimed
        for cut in [0, 7, 20, 40, file.len() / 2, file.len() - 1] {
            assert!(read(&file[..cut]).is_none(), "cut at {cut}");
        }
        for at in (8..file.len()).step_by(7) {
            let mut bad = file.clone();
            bad[at] ^= 0x10;
            assert!(read(&bad).is_none(), "flipped byte {at}");
        }
        // 16-bit and RGB files are not for this reader
        let mut out = Vec::new();
        let mut e = png::Encoder::new(&mut out, 2, 2);
        e.set_color(png::ColorType::Rgb);
        e.set_depth(png::BitDepth::Eight);
        e.write_header().unwrap().write_image_data(&[0; 12]).unwrap();
        assert!(read(&out).is_none());
    }
}
