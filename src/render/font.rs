//! A 3×5 pixel font for the few characters drawn into images (scores and numbers), so labels
//! are part of the pixels and never fight terminal graphics for the same cells.

const GLYPHS: &[(char, [u8; 5])] = &[
    ('0', [0b111, 0b101, 0b101, 0b101, 0b111]),
    ('1', [0b010, 0b110, 0b010, 0b010, 0b111]),
    ('2', [0b111, 0b001, 0b111, 0b100, 0b111]),
    ('3', [0b111, 0b001, 0b111, 0b001, 0b111]),
    ('4', [0b101, 0b101, 0b111, 0b001, 0b001]),
    ('5', [0b111, 0b100, 0b111, 0b001, 0b111]),
    ('6', [0b111, 0b100, 0b111, 0b101, 0b111]),
    ('7', [0b111, 0b001, 0b010, 0b010, 0b010]),
    ('8', [0b111, 0b101, 0b111, 0b101, 0b111]),
    ('9', [0b111, 0b101, 0b111, 0b001, 0b111]),
    ('.', [0b000, 0b000, 0b000, 0b000, 0b010]),
    ('#', [0b101, 0b111, 0b101, 0b111, 0b101]),
    ('-', [0b000, 0b000, 0b111, 0b000, 0b000]),
    ('?', [0b111, 0b001, 0b011, 0b000, 0b010]),
];

fn glyph(c: char) -> [u8; 5] {
    GLYPHS.iter().find(|(g, _)| *g == c).map(|(_, b)| *b).unwrap_or([0; 5])
}

/// Width in pixels of `text` at `scale`.
pub fn text_width(text: &str, scale: u32) -> u32 {
    let n = text.chars().count() as u32;
    if n == 0 { 0 } else { (n * 4 - 1) * scale }
}

pub const HEIGHT: u32 = 5;

/// Draw `text` with its top-left at `(x, y)`; `put(x, y)` sets one pixel.
pub fn draw(text: &str, x: i64, y: i64, scale: u32, mut put: impl FnMut(i64, i64)) {
    for (k, c) in text.chars().enumerate() {
        let g = glyph(c);
        let gx = x + (k as i64) * 4 * scale as i64;
        for (row, bits) in g.iter().enumerate() {
            for col in 0..3 {
                if bits & (0b100 >> col) != 0 {
                    for dy in 0..scale as i64 {
                        for dx in 0..scale as i64 {
                            put(gx + col * scale as i64 + dx, y + row as i64 * scale as i64 + dy);
                        }
                    }
                }
            }
        }
    }
}
