//! Where a cold frame's time goes: decode, composite, encode. Usage: frame_parts PACK CASE
// examples: a failed unwrap is a failed run, not a crash in a user's hands
#![allow(clippy::unwrap_used, clippy::expect_used)]
use lightbox::pack::Pack;
use lightbox::render::{CaseData, Palette, Style, View, Viewport, view::compose_side_by_side};
use std::time::Instant;
#[allow(deprecated)]
fn main() {
    let a: Vec<String> = std::env::args().collect();
    let pack = Pack::open(std::path::Path::new(&a[1])).unwrap();
    let case: usize = a[2].parse().unwrap();
    let t = Instant::now();
    let data = CaseData::load(&pack, case);
    let load = t.elapsed();
    let style = Style::new(Palette::for_pack(&pack, &[]));
    let t = Instant::now();
    let img = compose_side_by_side(
        &pack,
        &data,
        &[View::Overlay(0)],
        &style,
        &Viewport::fit(),
        1100,
        900,
        0,
    )
    .unwrap();
    let compose = t.elapsed();
    let mut p = ratatui_image::picker::Picker::from_fontsize((10, 20).into());
    p.set_protocol_type(ratatui_image::picker::ProtocolType::Sixel);
    let t = Instant::now();
    let _proto = p
        .new_protocol(
            image::DynamicImage::ImageRgb8(img),
            ratatui::layout::Size::new(110, 45),
            ratatui_image::Resize::Fit(None),
        )
        .unwrap();
    let encode = t.elapsed();
    println!(
        "load {:.1} ms · compose {:.1} ms · sixel encode {:.1} ms",
        load.as_secs_f64() * 1e3,
        compose.as_secs_f64() * 1e3,
        encode.as_secs_f64() * 1e3
    );
}
