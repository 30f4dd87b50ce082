//! Out-of-distribution detection on real chest radiographs (../shared/data, where a checkout has
//! it): a reference fitted on two thirds of a public COVID-19 chest X-ray set; held back (never
//! fitted on): the rest of that set, radiographs from another public source, a DICOM radiograph
//! (MONOCHROME1, 15-bit) — at their native sizes and resampled — and anomalies made from them.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;
#[path = "ood_real/harness.rs"]
#[allow(dead_code)]
mod harness;

use lightbox::ood::{self, ImageStats, OodBound, Reference, statistics};

fn data() -> Option<std::path::PathBuf> {
    common::shared_file("cxr_covid_seg_generalblockchain/images")?;
    common::shared_file("cxr_lung_masks_imlab")?;
    common::shared_file("dicom/RG1_J2KI.dcm")?;
    harness::data()
}

#[test]
fn reference_and_evaluation_images_are_disjoint() {
    let Some(d) = data() else { return };
    let (reference, held) = harness::split(&d);
    assert_eq!(reference.len(), 18);
    assert_eq!(held.len(), 14);
    for p in &held {
        assert!(!reference.contains(p), "{} is in both", p.display());
    }
}

#[test]
fn resolution_alone_does_not_move_a_radiograph_and_real_anomalies_stand_out() {
    let Some(d) = data() else { return };
    let (reference, _, rows) = harness::evaluate(&d);
    let row = |what: &str| rows.iter().find(|r| r.what.starts_with(what)).unwrap();
    // the same radiographs at four sizes: the same verdicts, nearly the same scores
    let native = row("held-back chest X-rays, native size");
    for what in [
        "the same, resampled to 512",
        "the same, resampled to 2048",
        "the same, resampled to 256",
    ] {
        let r = row(what);
        for (a, b) in native.verdicts.iter().zip(&r.verdicts) {
            assert_eq!(a.major, b.major, "{what}: {a:?} vs {b:?}");
            // within a quarter of the bound (resampling moves texture a little)
            assert!((a.score - b.score).abs() < 0.25, "{what}: {a:?} vs {b:?}");
        }
    }
    // false alarms: the calibrated 1 in 200 allows none or one of 14 from other sources; one
    // (imlab's 1.jpg, 15% of it at the top of its range) is measured, see docs/rules.md
    assert!(native.majors() <= 1, "{:?}", native.verdicts);
    for what in [
        "rotated 90°",
        "flipped upside down",
        "intensities inverted",
        "a third of a black canvas",
        "flat",
        "photographs (PASCAL VOC)",
        "aerial photographs",
    ] {
        let r = row(what);
        assert_eq!(r.majors(), r.verdicts.len(), "{what}: {:?}", r.verdicts);
    }
    // tiny: an unusual acquisition, whatever it shows
    let tiny = row("tiny");
    assert_eq!(tiny.flagged(), tiny.verdicts.len(), "{:?}", tiny.verdicts);
    assert!(
        (reference.expected_rate() - 0.005).abs() < 1e-3,
        "{}",
        reference.expected_rate()
    );
}

#[test]
fn monochrome1_is_read_the_right_way_round() {
    let Some(d) = data() else { return };
    // the DICOM radiograph is MONOCHROME1: read correctly it looks like the other radiographs
    // (dense is bright); with its stored values turned round it does not
    let (reference_files, _) = harness::split(&d);
    let rs: Vec<ImageStats> = reference_files
        .iter()
        .map(|p| statistics::of_image(&harness::decode(p)))
        .collect();
    let r = Reference::fit(&rs, OodBound::default());
    let img = harness::decode(&d.join("dicom/RG1_J2KI.dcm"));
    assert!(img.scan.as_ref().unwrap().invert, "RG1 is MONOCHROME1");
    let right = r.score(&statistics::of_image(&img));
    let wrong = r.score(&statistics::of_image(&harness::invert(&img)));
    assert!(right < 1.0 && wrong > 1.0, "right way round {right}, inverted {wrong}");
    let found = ood::find(&[Some(statistics::of_image(&harness::invert(&img)))], &r);
    assert_eq!(found.len(), 1);
    assert!(
        found[0].outliers.iter().any(|o| o.0.contains("likeness")),
        "{:?}",
        found[0].outliers
    );
}
