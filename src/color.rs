//! Colours named in pack files and themes: `#rrggbb` parsing shared by the manifest and render.

/// Parse `#rrggbb` (or `rrggbb`) into RGB.
pub fn parse_hex(s: &str) -> Option<[u8; 3]> {
    let h = s.strip_prefix('#').unwrap_or(s);
    if h.len() != 6 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let v = u32::from_str_radix(h, 16).ok()?;
    Some([(v >> 16) as u8, (v >> 8) as u8, v as u8])
}

#[cfg(test)]
mod tests {
    #[test]
    fn hex_colours() {
        assert_eq!(super::parse_hex("#1f77b4"), Some([0x1f, 0x77, 0xb4]));
        assert_eq!(super::parse_hex("#12345"), None);
        assert_eq!(super::parse_hex("zzzzzz"), None);
    }
}
