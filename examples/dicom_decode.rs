//! DICOM decode-to-display time: read the file, decode the pixels, rescale to modality units,
//! apply the file's window (MONOCHROME1 inverted) to 8 bits — what lightbox does before it shows
//! a DICOM image. bench/dicom.sh runs it beside pydicom doing the same.
//!
//! `cargo run --release --example dicom_decode -- REPEATS FILE...` prints `name seconds` (median).
// examples: a failed unwrap is a failed run, not a crash in a user's hands
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lightbox::formats::image::{self, Pixels};
use lightbox::render::WindowPreset;
use lightbox::render::window::{ValueStats, display_lut};
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let repeats: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    for f in args {
        let path = std::path::Path::new(&f);
        let mut times = Vec::new();
        let mut checksum = 0u64;
        for _ in 0..repeats {
            let t = Instant::now();
            let img = image::decode(path).unwrap_or_else(|e| panic!("{f}: {e}"));
            let stats = ValueStats::of(&img);
            let w = WindowPreset::File.window_for(&stats, img.scan.as_deref());
            let lut = display_lut(&img, w, WindowPreset::File, false);
            let shown: Vec<u8> = match &img.pixels {
                Pixels::Gray16(p) => p.iter().map(|&v| lut[v as usize]).collect(),
                Pixels::Gray8(p) => p.iter().map(|&v| lut[v as usize]).collect(),
                Pixels::Rgb8(p) => p.clone(),
                Pixels::Rgb16(p) => p.iter().map(|&v| (v >> 8) as u8).collect(),
            };
            times.push(t.elapsed().as_secs_f64());
            checksum = shown.iter().map(|&v| v as u64).sum();
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{} {:.5} {checksum}",
            path.file_name().unwrap().to_string_lossy(),
            times[times.len() / 2]
        );
    }
}
