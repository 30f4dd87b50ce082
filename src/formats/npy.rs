//! NumPy `.npy` arrays (format versions 1–3), enough to read probability maps: little-endian
//! `f4`, `f8`, `u1`, `u2`, C order, any shape. Every malformed header is an error, not a panic.

use std::path::Path;
use thiserror::Error;

#[derive(Debug, Error, PartialEq)]
pub enum NpyError {
    #[error("cannot read the file: {0}")]
    Io(String),
    #[error("not a .npy file (the magic bytes \\x93NUMPY are missing)")]
    NotNpy,
    #[error("the header is damaged: {0}")]
    BadHeader(String),
    #[error("dtype {0} is not supported (expected <f4, <f8, |u1 or <u2)")]
    Dtype(String),
    #[error("Fortran-ordered arrays are not supported")]
    FortranOrder,
    #[error("the data holds {got} bytes but shape {shape:?} needs {want}")]
    Truncated { got: usize, want: usize, shape: Vec<usize> },
}

#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    pub shape: Vec<usize>,
    /// Values converted to f32 (`u1` / 255, `u2` / 65535: stored probabilities).
    pub data: Vec<f32>,
}

pub fn read(path: &Path) -> Result<NpyArray, NpyError> {
    let bytes = std::fs::read(path).map_err(|e| NpyError::Io(e.to_string()))?;
    parse(&bytes)
}

#[allow(clippy::expect_used)] // cannot fail: chunks_exact(8) gives 8-byte slices
pub fn parse(bytes: &[u8]) -> Result<NpyArray, NpyError> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(NpyError::NotNpy);
    }
    let major = bytes[6];
    let (hlen, start): (usize, usize) = match major {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 => {
            if bytes.len() < 12 {
                return Err(NpyError::BadHeader("too short".into()));
            }
            (
                u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
                12,
            )
        }
        v => return Err(NpyError::BadHeader(format!("unknown format version {v}"))),
    };
    let header = bytes
        .get(start..start.saturating_add(hlen))
        .ok_or_else(|| NpyError::BadHeader("the header runs past the end of the file".into()))?;
    let header = std::str::from_utf8(header).map_err(|_| NpyError::BadHeader("not text".into()))?;
    let descr = dict_value(header, "descr").ok_or_else(|| NpyError::BadHeader("no 'descr'".into()))?;
    let descr = descr.trim_matches(|c| c == '\'' || c == '"').to_string();
    let fortran =
        dict_value(header, "fortran_order").ok_or_else(|| NpyError::BadHeader("no 'fortran_order'".into()))?;
    if fortran.starts_with("True") {
        return Err(NpyError::FortranOrder);
    }
    let shape_txt = dict_value(header, "shape").ok_or_else(|| NpyError::BadHeader("no 'shape'".into()))?;
    let inner = shape_txt.trim().trim_start_matches('(');
    let inner = inner.split(')').next().unwrap_or("");
    let shape: Vec<usize> = inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| NpyError::BadHeader(format!("shape entry {s:?}")))
        })
        .collect::<Result<_, _>>()?;
    let n = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| NpyError::BadHeader("shape overflows".into()))?;
    let body = &bytes[start + hlen..];
    let size = match descr.as_str() {
        "<f4" => 4,
        "<f8" => 8,
        "|u1" | "<u1" => 1,
        "<u2" => 2,
        other => return Err(NpyError::Dtype(other.to_string())),
    };
    let want = n
        .checked_mul(size)
        .ok_or_else(|| NpyError::BadHeader("shape overflows".into()))?;
    if body.len() < want {
        return Err(NpyError::Truncated {
            got: body.len(),
            want,
            shape,
        });
    }
    let body = &body[..want];
    let data: Vec<f32> = match size {
        4 => body
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        8 => body
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")) as f32)
            .collect(),
        1 => body.iter().map(|&v| v as f32 / 255.0).collect(),
        _ => body
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]) as f32 / 65535.0)
            .collect(),
    };
    Ok(NpyArray { shape, data })
}

/// The text after `'key':` in a Python dict literal, up to the end.
fn dict_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let pat1 = format!("'{key}':");
    let pat2 = format!("\"{key}\":");
    let i = header
        .find(&pat1)
        .map(|i| i + pat1.len())
        .or_else(|| header.find(&pat2).map(|i| i + pat2.len()))?;
    let rest = header[i..].trim_start();
    // values end at the next top-level comma (shape tuples contain commas: handle parens)
    let mut depth = 0i32;
    for (j, ch) in rest.char_indices() {
        match ch {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' | '}' if depth == 0 => return Some(rest[..j].trim()),
            _ => {}
        }
    }
    Some(rest.trim())
}

/// Write a float32 C-order array (used by tests and by `infer`).
pub fn write_f32(path: &Path, shape: &[usize], data: &[f32]) -> std::io::Result<()> {
    let shape_txt = match shape {
        [one] => format!("({one},)"),
        _ => format!(
            "({})",
            shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")
        ),
    };
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape_txt}, }}");
    let total = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - total % 64) % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + data.len() * 4);
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in data {
        out.extend_from_slice(&v.to_le_bytes());
    }
    std::fs::write(path, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_truncation() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.npy");
        write_f32(&p, &[2, 3], &[0.0, 0.5, 1.0, 0.25, 0.75, 0.1]).unwrap();
        let a = read(&p).unwrap();
        assert_eq!(a.shape, vec![2, 3]);
        assert_eq!(a.data[1], 0.5);
        let bytes = std::fs::read(&p).unwrap();
        assert!(matches!(
            parse(&bytes[..bytes.len() - 3]),
            Err(NpyError::Truncated { .. })
        ));
        assert_eq!(parse(b"hello world"), Err(NpyError::NotNpy));
    }
}
