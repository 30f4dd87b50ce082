//! Golden PNGs of what the image pane shows, made by the render core that `lightbox render` and
//! the dashboard share. Each test also checks what the pixels mean (colours where they belong),
//! so a golden cannot silently bless a wrong picture. Regenerate after an intended change with
//! `LIGHTBOX_UPDATE_GOLDEN=1 cargo test --test render_golden` and look at the files.
// tests: a failed unwrap is a failed run, not a crash in a user's hands
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use assert_cmd::Command;
use lightbox::pack::Pack;
use lightbox::render::view::compose_side_by_side;
use lightbox::render::{CaseData, Palette, Style, View, Viewport, Window, WindowPreset};
use std::path::Path;

fn sample() -> Pack {
    Pack::open(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/samples/chest-phantom"))).unwrap()
}

fn check(name: &str, img: &image::RgbImage) {
    common::check_golden_png(name, img);
}

fn render(pack: &Pack, case: &str, views: &[View], style: &Style, vp: &Viewport, w: u32, h: u32) -> image::RgbImage {
    let c = lightbox::pack::find_case(pack, case).unwrap();
    let data = CaseData::load(pack, c);
    compose_side_by_side(pack, &data, views, style, vp, w, h, if views.len() > 1 { 4 } else { 0 }).unwrap()
}

fn count(img: &image::RgbImage, rgb: [u8; 3]) -> usize {
    img.pixels().filter(|p| p.0 == rgb).count()
}

#[test]
fn fills_and_outlines_of_the_ground_truth() {
    let pack = sample();
    let style = Style::new(Palette::for_pack(&pack, &[]));
    let img = render(
        &pack,
        "case-001",
        &[View::GroundTruth],
        &style,
        &Viewport::fit(),
        256,
        256,
    );
    check("gt_fill", &img);
    // the right lung (patient's right) is on the image's left, tinted blue
    let left = img.get_pixel(80, 128).0;
    let right = img.get_pixel(176, 128).0;
    assert!(left[2] > left[0] + 20, "right lung is blue-tinted: {left:?}");
    assert!(right[1] > right[0] + 20, "left lung is green-tinted: {right:?}");
}

#[test]
fn contours_only() {
    let pack = sample();
    let mut style = Style::new(Palette::for_pack(&pack, &[]));
    style.fill = false;
    let img = render(
        &pack,
        "case-001",
        &[View::Overlay(1)],
        &style,
        &Viewport::fit(),
        256,
        256,
    );
    check("contours", &img);
    // no fill: the middle of a lung stays gray
    let p = img.get_pixel(80, 128).0;
    assert!(
        (p[0] as i32 - p[2] as i32).abs() < 12,
        "unfilled lung stays gray: {p:?}"
    );
}

#[test]
fn boxes_with_scores() {
    let pack = sample();
    let style = Style::new(Palette::for_pack(&pack, &[]));
    let img = render(
        &pack,
        "case-007",
        &[View::Prediction(1)],
        &style,
        &Viewport::fit(),
        640,
        640,
    );
    check("boxes", &img);
    // the planted opacity box at (300, 430) 56×40 is drawn in the opacity colour (Okabe–Ito orange)
    let s = 640.0 / 512.0;
    let (x, y) = ((300.0 * s) as u32, (430.0 * s + 20.0) as u32);
    assert_eq!(img.get_pixel(x, y).0, [0xe6, 0x9f, 0x00]);
}

#[test]
fn side_by_side_ground_truth_and_run() {
    let pack = sample();
    let style = Style::new(Palette::for_pack(&pack, &[]));
    let img = render(
        &pack,
        "case-013",
        &[View::GroundTruth, View::Prediction(1)],
        &style,
        &Viewport::fit(),
        512,
        256,
    );
    check("side_by_side", &img);
    // zoomed and panned together
    let vp = Viewport {
        zoom: 2.0,
        center: Some((150.0, 200.0)),
    };
    let zoomed = render(
        &pack,
        "case-013",
        &[View::GroundTruth, View::Prediction(1)],
        &style,
        &vp,
        512,
        256,
    );
    check("side_by_side_zoomed", &zoomed);
    // the left halves of both panels show the same image region: compare a background pixel row
    let a = zoomed.get_pixel(10, 5).0;
    let b = zoomed.get_pixel(10 + 254 + 4, 5).0;
    assert_eq!(a, b);
}

/// In an area about twice as high as wide the two panels are stacked, each cut to the square
/// image (no empty bands beside it), with the gap between them, as the dashboard's tall panes.
#[test]
fn side_by_side_in_a_tall_area_is_stacked() {
    use lightbox::render::view::{Arrangement, Grid, arrange};
    let pack = sample();
    let style = Style::new(Palette::for_pack(&pack, &[]));
    let views = [View::GroundTruth, View::Prediction(1)];
    let img = render(&pack, "case-013", &views, &style, &Viewport::fit(), 256, 512);
    check("side_by_side_stacked", &img);
    let placed = arrange(2, (512, 512), &Grid::pixels(256, 512, 4));
    assert_eq!(placed.arrangement, Arrangement::Stacked);
    let (top, bottom) = (placed.panels[0], placed.panels[1]);
    // square panels, one above the other, 4 px apart, filling the height
    assert_eq!((top.w, top.h), (254, 254));
    assert_eq!((bottom.x, bottom.y), (top.x, top.y + 254 + 4));
    let bg = style.palette.background;
    for y in 254..258 {
        assert!(
            (0..256).all(|x| img.get_pixel(x, y).0 == bg),
            "the gap row {y} is background"
        );
    }
    // the image itself in both panels: the same corner pixel (no overlay there)
    let corner = |p: lightbox::render::view::Place| img.get_pixel(p.x + 3, p.y + 3).0;
    assert_eq!(corner(top), corner(bottom));
    assert_ne!(corner(top), bg, "the panels start at the image");
}

#[test]
fn error_view_marks_the_planted_false_positive() {
    let pack = sample();
    let style = Style::new(Palette::for_pack(&pack, &[]));
    let img = render(&pack, "case-007", &[View::Error(1)], &style, &Viewport::fit(), 512, 512);
    check("error_view", &img);
    // the abdominal box has no ground truth: drawn in the "extra" (false positive) colour
    assert_eq!(img.get_pixel(300, 440).0, style.palette.false_positive);
    assert!(count(&img, style.palette.false_positive) > 100);
}

#[test]
fn sixteen_bit_window_level() {
    let pack = sample();
    let mut style = Style::new(Palette::for_pack(&pack, &[]));
    let spread = |img: &image::RgbImage| {
        let v: Vec<u8> = img.pixels().map(|p| p.0[0]).collect();
        let mean = v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64;
        (v.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / v.len() as f64).sqrt()
    };
    style.preset = WindowPreset::Full;
    let full = render(&pack, "case-005", &[View::Image], &style, &Viewport::fit(), 256, 256);
    style.preset = WindowPreset::Auto;
    let auto = render(&pack, "case-005", &[View::Image], &style, &Viewport::fit(), 256, 256);
    style.window = Some(Window::from_center_width(2400.0, 800.0));
    let narrow = render(&pack, "case-005", &[View::Image], &style, &Viewport::fit(), 256, 256);
    check("window_16bit_full", &full);
    check("window_16bit_auto", &auto);
    check("window_16bit_c2400_w800", &narrow);
    // 12-bit data in a 16-bit file is nearly black at the full 16-bit window; auto shows it
    assert!(spread(&full) < 8.0, "full range flattens 12-bit data");
    assert!(spread(&auto) > 40.0, "the auto window shows contrast");
}

#[test]
fn lightbox_render_writes_the_same_pixels() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("o.png");
    Command::cargo_bin("lightbox")
        .unwrap()
        .args([
            "render",
            concat!(env!("CARGO_MANIFEST_DIR"), "/samples/chest-phantom"),
            "--case",
            "case-007",
            "--run",
            "candidate",
            "--view",
            "error",
            "--size",
            "512x512",
            "-o",
        ])
        .arg(&out)
        .assert()
        .success();
    let pack = sample();
    let style = Style::new(Palette::for_pack(&pack, &[]));
    let lib = render(&pack, "case-007", &[View::Error(1)], &style, &Viewport::fit(), 512, 512);
    assert!(
        image::open(&out).unwrap().to_rgb8() == lib,
        "render CLI and render core disagree"
    );
    // bad requests are clear errors
    let o = Command::cargo_bin("lightbox")
        .unwrap()
        .args([
            "render",
            concat!(env!("CARGO_MANIFEST_DIR"), "/samples/chest-phantom"),
            "--case",
            "case-999",
            "-o",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no case \"case-999\""));
}

/// A run's flag is hatched on that run's panel only: the ground-truth panel beside it, and
/// another run's panel, are exactly as without the highlight.
#[test]
fn a_flag_is_hatched_only_on_the_panel_of_its_source() {
    use lightbox::pack::Source;
    use lightbox::render::compose::Highlight;
    let pack = sample();
    let c = lightbox::pack::find_case(&pack, "case-007.jpg").unwrap();
    let cand = pack.run_index("candidate").unwrap();
    let base = pack.run_index("baseline").unwrap();
    let rules = lightbox::check::load_rules(&pack, None).unwrap().unwrap();
    let flags = lightbox::rules::evaluate(&pack, &rules, &[Source::Run(cand)]);
    let f = flags
        .iter()
        .find(|f| f.case == c && f.source == Some(Source::Run(cand)) && f.highlight.is_some())
        .expect("case-007's candidate has a flag with geometry");
    let plain = Style::new(Palette::for_pack(&pack, &[]));
    let mut flagged = plain.clone();
    flagged.highlights = vec![Highlight {
        rle: f.highlight.clone().unwrap(),
        color: [255, 0, 255],
        source: f.source,
    }];
    let views = [View::GroundTruth, View::Prediction(base), View::Prediction(cand)];
    let a = render(&pack, "case-007.jpg", &views, &plain, &Viewport::fit(), 600, 200);
    let b = render(&pack, "case-007.jpg", &views, &flagged, &Viewport::fit(), 600, 200);
    let panel = |img: &image::RgbImage, k: u32| -> Vec<[u8; 3]> {
        let pw = (600 - 2 * 4) / 3;
        (0..200)
            .flat_map(|y| (k * (pw + 4)..k * (pw + 4) + pw).map(move |x| (x, y)))
            .map(|(x, y)| img.get_pixel(x, y).0)
            .collect()
    };
    assert_eq!(panel(&a, 0), panel(&b, 0), "nothing hatched on the ground truth");
    assert_eq!(panel(&a, 1), panel(&b, 1), "nothing hatched on the baseline");
    let changed = panel(&a, 2).iter().zip(panel(&b, 2)).filter(|(x, y)| **x != *y).count();
    assert!(changed > 50, "hatched on the candidate's panel: {changed} pixels");
    // a flag on the input image (no source) is drawn on every panel
    flagged.highlights[0].source = None;
    let c2 = render(&pack, "case-007.jpg", &views, &flagged, &Viewport::fit(), 600, 200);
    assert_ne!(panel(&a, 0), panel(&c2, 0));
}
