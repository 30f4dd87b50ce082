//! Colours for classes and for the error view. Class colours come from the manifest, else from
//! the Okabe–Ito palette, which stays distinguishable with the common colour-vision deficiencies.

use crate::color::parse_hex;
use crate::pack::{ClassId, Pack};

/// Okabe & Ito (2008), "Color Universal Design": safe for deuteranopia, protanopia, tritanopia.
pub const OKABE_ITO: [[u8; 3]; 7] = [
    [0x00, 0x72, 0xb2], // blue
    [0x00, 0x9e, 0x73], // bluish green
    [0xe6, 0x9f, 0x00], // orange
    [0xcc, 0x79, 0xa7], // reddish purple
    [0x56, 0xb4, 0xe9], // sky blue
    [0xd5, 0x5e, 0x00], // vermillion
    [0xf0, 0xe4, 0x42], // yellow
];

#[derive(Debug, Clone, PartialEq)]
pub struct Palette {
    classes: Vec<(ClassId, [u8; 3])>,
    /// Error view: agreement, prediction only, ground truth only.
    pub true_positive: [u8; 3],
    pub false_positive: [u8; 3],
    pub false_negative: [u8; 3],
    /// Highlight of the selected prediction.
    pub selected: [u8; 3],
    /// Outside the image.
    pub background: [u8; 3],
}

impl Palette {
    /// Class colours for `pack`: manifest colours first, the fallback palette for the rest.
    pub fn for_pack(pack: &Pack, fallback: &[[u8; 3]]) -> Palette {
        let fallback = if fallback.is_empty() { &OKABE_ITO[..] } else { fallback };
        let classes = pack
            .classes
            .iter()
            .enumerate()
            .map(|(i, c)| {
                (
                    c.id,
                    c.color
                        .as_deref()
                        .and_then(parse_hex)
                        .unwrap_or(fallback[i % fallback.len()]),
                )
            })
            .collect();
        Palette {
            classes,
            true_positive: [0x56, 0xb4, 0xe9],
            false_positive: [0xd5, 0x5e, 0x00],
            false_negative: [0xf0, 0xe4, 0x42],
            selected: [0xff, 0xff, 0xff],
            background: [0x12, 0x12, 0x14],
        }
    }

    pub fn class(&self, id: ClassId) -> [u8; 3] {
        self.classes
            .iter()
            .find(|(c, _)| *c == id)
            .map(|(_, rgb)| *rgb)
            .unwrap_or([0xff, 0xff, 0xff])
    }
}
