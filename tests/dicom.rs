//! DICOM against pydicom on real public files (`../shared/data/dicom/`, pydicom's bundled test
//! files) and synthetic ones made by scripts/dicom_vectors.py: modality values equal pydicom's
//! `apply_modality_lut(pixel_array)` for every pixel of every frame; compressed files equal
//! their uncompressed twins; MONOCHROME1, VOI LUT tables and sigmoid windows display as the
//! standard says; malformed files give clear errors and never panic; identifying tags never
//! reach what lightbox shows.
//!
//! The vectors come from `scripts/test.sh` (LIGHTBOX_DICOM_VECTORS); without them the tests on
//! those files are skipped with a note.
// tests: a failed unwrap is a failed run, not a crash in a user's hands
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use assert_cmd::Command;
use lightbox::formats::dicom;
use lightbox::formats::image::{self, PixelImage, Pixels};
use lightbox::render::window::{ValueStats, display_lut};
use lightbox::render::{Window, WindowPreset};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn vectors() -> Option<(PathBuf, Value)> {
    let Some(p) = std::env::var_os("LIGHTBOX_DICOM_VECTORS") else {
        common::skip_missing("LIGHTBOX_DICOM_VECTORS (pydicom's DICOM fixtures)");
        return None;
    };
    let p = PathBuf::from(p);
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    Some((p.parent().unwrap().to_path_buf(), v))
}

fn expected_values(case: &Value) -> Vec<f64> {
    let bytes = std::fs::read(case["values"].as_str().unwrap()).unwrap();
    bytes
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

/// Every sample of every frame: modality units for grey images, raw samples for colour.
fn lightbox_values(frames: &[PixelImage]) -> Vec<f64> {
    let mut out = Vec::new();
    for f in frames {
        match &f.pixels {
            Pixels::Gray8(p) => out.extend(p.iter().map(|&v| f.scan.as_ref().unwrap().modality(v as f64))),
            Pixels::Gray16(p) => out.extend(p.iter().map(|&v| f.scan.as_ref().unwrap().modality(v as f64))),
            Pixels::Rgb8(p) => out.extend(p.iter().map(|&v| v as f64)),
            Pixels::Rgb16(p) => out.extend(p.iter().map(|&v| v as f64)),
        }
    }
    out
}

#[test]
fn modality_values_equal_pydicoms_on_every_pixel_of_every_frame() {
    let Some((_, v)) = vectors() else { return };
    let cases = v["cases"].as_object().unwrap();
    let mut checked = 0;
    for (name, case) in cases {
        let file = Path::new(case["file"].as_str().unwrap());
        let frames = dicom::decode_frames(file, None).unwrap_or_else(|e| panic!("{name}: {e}"));
        let (reference, tolerance) = match case.get("twin") {
            Some(twin) => (&cases[twin.as_str().unwrap()], case["tolerance"].as_f64().unwrap()),
            None => (case, 0.0),
        };
        assert_eq!(
            frames.len() as u64,
            reference["frames"].as_u64().unwrap(),
            "{name}: frames"
        );
        assert_eq!(
            frames[0].height as u64,
            reference["rows"].as_u64().unwrap(),
            "{name}: rows"
        );
        assert_eq!(
            frames[0].width as u64,
            reference["columns"].as_u64().unwrap(),
            "{name}: columns"
        );
        let want = expected_values(reference);
        let got = lightbox_values(&frames);
        assert_eq!(got.len(), want.len(), "{name}: sample count");
        let worst = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        assert!(
            worst <= tolerance,
            "{name}: largest difference {worst} (allowed {tolerance})"
        );
        if case.get("twin").is_none() && case["samples"] == 1 {
            let scan = frames[0].scan.as_ref().unwrap();
            let tags = &case["tags"];
            assert_eq!(scan.modality.as_deref(), tags["modality"].as_str(), "{name}: Modality");
            assert_eq!(Some(scan.photometric.as_str()), tags["photometric"].as_str(), "{name}");
            let centers: Vec<f64> = scan.windows.iter().map(|w| w.center).collect();
            let want_c: Vec<f64> = serde_json::from_value(tags["window_centers"].clone()).unwrap();
            assert_eq!(centers, want_c, "{name}: Window Center");
            if let Some(sp) = tags["pixel_spacing"]
                .as_array()
                .filter(|v| v.iter().all(|x| x.as_f64() > Some(0.0)))
            {
                let s = scan
                    .spacing
                    .unwrap_or_else(|| panic!("{name}: spacing {sp:?} not read"));
                assert_eq!((s.row_mm, s.col_mm), (sp[0].as_f64().unwrap(), sp[1].as_f64().unwrap()));
            }
        }
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} files checked");
}

#[test]
fn signed_ct_with_slope_and_intercept_reads_in_hounsfield_units_with_named_windows() {
    let Some((dir, _)) = vectors() else { return };
    let frames = dicom::decode_frames(&dir.join("synthetic_ct_multiframe.dcm"), None).unwrap();
    assert_eq!(frames.len(), 4);
    let s = frames[0].scan.as_ref().unwrap();
    assert_eq!(s.unit, Some("HU"));
    assert!(s.is_ct());
    let hu = |f: &PixelImage, x: u32, y: u32| s.modality(f.value(x, y) as f64);
    assert_eq!(hu(&frames[0], 0, 10), -1000.0, "air");
    assert_eq!(hu(&frames[0], 0, 0), -2048.0, "padding");
    assert_eq!(hu(&frames[3], 30, 10), 30.0, "water on slice 4");
    assert_eq!(hu(&frames[3], 40, 10), 1000.0, "bone on slice 4");
    assert_eq!(
        s.windows
            .iter()
            .map(|w| (w.center, w.width, w.explanation.clone().unwrap()))
            .collect::<Vec<_>>(),
        vec![
            (-600.0, 1500.0, "LUNG".to_string()),
            (40.0, 400.0, "MEDIASTINUM".to_string())
        ]
    );
    let sp = s.spacing.unwrap();
    assert_eq!((sp.row_mm, sp.col_mm, sp.source), (0.7, 0.5, "PixelSpacing"));
    assert_eq!(s.orientation, Some(("L".to_string(), "P".to_string())));
    // one frame alone, as the dashboard asks for a slice
    let third = image::decode_frame(&dir.join("synthetic_ct_multiframe.dcm"), 2).unwrap();
    assert_eq!(third.pixels, frames[2].pixels);
    assert_eq!(image::frame_count(&dir.join("synthetic_ct_multiframe.dcm")).unwrap(), 4);
    // the lung preset and the file's first window agree; mediastinum shows water mid-grey
    let stats = ValueStats::of(&frames[3]);
    let lung = WindowPreset::Lung.window_for(&stats, Some(s));
    assert_eq!((lung.center(), lung.width()), (-600.0, 1500.0));
    let file = WindowPreset::File.window_for(&stats, Some(s));
    assert_eq!((file.center(), file.width()), (-600.0, 1500.0));
    let med = WindowPreset::Mediastinum.window_for(&stats, Some(s));
    let lut = display_lut(&frames[3], med, WindowPreset::Mediastinum, false);
    let shown = |x, y| lut[frames[3].value(x, y) as usize];
    assert_eq!(shown(0, 10), 0, "air is black at mediastinum window");
    assert_eq!(shown(40, 10), 255, "bone is white");
    // 30 HU at C 40 W 400: (30 − (−160)) / 400 × 255 ≈ 121
    assert!(
        (shown(30, 10) as i32 - 121).abs() <= 1,
        "water (30 HU) mid-grey: {}",
        shown(30, 10)
    );
    // CT presets only where values are Hounsfield units
    assert!(!WindowPreset::Lung.applies(None));
    assert_eq!(WindowPreset::Narrow.next_for(Some(s)), WindowPreset::Lung);
    assert_eq!(WindowPreset::Narrow.next_for(None), WindowPreset::Auto);
}

#[test]
fn monochrome1_shows_low_values_white_and_the_full_range_by_default() {
    let Some((dir, _)) = vectors() else { return };
    let img = image::decode(&dir.join("synthetic_dx_monochrome1.dcm")).unwrap();
    let s = img.scan.clone().unwrap();
    assert!(s.invert && s.is_radiograph());
    assert_eq!(s.spacing.unwrap().source, "ImagerPixelSpacing");
    let stats = ValueStats::of(&img);
    let w = WindowPreset::File.window_for(&stats, Some(&s));
    assert_eq!((w.low, w.high), (0.0, 4096.0));
    let lut = display_lut(&img, w, WindowPreset::File, false);
    assert_eq!(lut[0], 255, "stored 0 is white in MONOCHROME1");
    assert_eq!(lut[4095], 0, "the largest value is black");
    // a manual window is inverted too
    let lut = display_lut(&img, Window::from_center_width(1000.0, 200.0), WindowPreset::File, true);
    assert_eq!((lut[800], lut[1200]), (255, 0));
}

#[test]
fn a_voi_lut_table_and_a_sigmoid_window_shape_the_display() {
    let Some((dir, _)) = vectors() else { return };
    let img = image::decode(&dir.join("synthetic_cr_voilut.dcm")).unwrap();
    let s = img.scan.clone().unwrap();
    let t = s.voi_lut.as_ref().expect("VOI LUT");
    assert_eq!((t.first, t.bits, t.data.len()), (100, 12, 256));
    let stats = ValueStats::of(&img);
    let w = WindowPreset::File.window_for(&stats, Some(&s));
    let lut = display_lut(&img, w, WindowPreset::File, false);
    assert_eq!((lut[50], lut[100], lut[355], lut[900]), (0, 0, 255, 255));
    // square-root curve: a quarter of the way in shows at half brightness
    let quarter = lut[100 + 64] as f64;
    assert!((quarter - 255.0 * (64.0f64 / 255.0).sqrt()).abs() <= 1.5, "{quarter}");

    let img = image::decode(&dir.join("synthetic_mr_sigmoid.dcm")).unwrap();
    let s = img.scan.clone().unwrap();
    let stats = ValueStats::of(&img);
    let w = WindowPreset::File.window_for(&stats, Some(&s));
    let lut = display_lut(&img, w, WindowPreset::File, false);
    assert!(
        (lut[500] as i32 - 128).abs() <= 1,
        "centre of a sigmoid is mid-grey: {}",
        lut[500]
    );
    assert!(
        lut[300] > 0 && lut[700] < 255,
        "a sigmoid never clips inside the window"
    );
    assert!(lut[300] < 40 && lut[700] > 215);
}

#[test]
fn files_lightbox_cannot_read_get_a_clear_error_naming_the_field_and_no_panic() {
    let Some((_, v)) = vectors() else { return };
    for (name, r) in v["refuse"].as_object().unwrap() {
        let file = Path::new(r["file"].as_str().unwrap());
        let e = image::decode(file).expect_err(name).to_string();
        let mentions = r["mentions"].as_str().unwrap();
        assert!(e.contains(mentions), "{name}: {e:?} should mention {mentions}");
    }
}

#[test]
fn truncated_and_damaged_files_never_panic() {
    let Some((dir, _)) = vectors() else { return };
    let t = tempfile::tempdir().unwrap();
    for name in [
        "synthetic_ct_multiframe.dcm",
        "synthetic_ct_multiframe_rle.dcm",
        "synthetic_dx_monochrome1.dcm",
    ] {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        let path = t.path().join(name);
        let mut cuts: Vec<usize> = (0..bytes.len()).step_by(53).collect();
        cuts.extend([132, 133, bytes.len() - 1]);
        for cut in cuts {
            std::fs::write(&path, &bytes[..cut]).unwrap();
            let r = std::panic::catch_unwind(|| image::decode(&path).map(|_| ()));
            match r {
                Ok(Ok(())) => {}
                Ok(Err(e)) => assert!(!e.to_string().is_empty()),
                Err(_) => panic!("{name} cut at {cut} bytes panicked"),
            }
        }
        // flipped bytes in the header and the pixel data
        for at in (140..bytes.len()).step_by(97) {
            let mut b = bytes.clone();
            b[at] ^= 0xA5;
            std::fs::write(&path, &b).unwrap();
            let r = std::panic::catch_unwind(|| image::decode(&path).map(|_| ()));
            assert!(r.is_ok(), "{name} with byte {at} flipped panicked");
        }
    }
}

#[test]
fn identifying_tags_never_reach_info_or_render_output() {
    let Some((dir, _)) = vectors() else { return };
    let t = tempfile::tempdir().unwrap();
    for f in ["synthetic_ct_multiframe.dcm", "synthetic_dx_monochrome1.dcm"] {
        std::fs::copy(dir.join(f), t.path().join(f)).unwrap();
    }
    let img = image::decode(&t.path().join("synthetic_dx_monochrome1.dcm")).unwrap();
    let debug = format!("{:?}", img.scan);
    for phi in ["Doe", "PHI-123456", "19700101"] {
        assert!(!debug.contains(phi), "{phi} in the scan metadata");
    }
    let out = Command::cargo_bin("lightbox")
        .unwrap()
        .args(["info", "--images"])
        .arg(t.path())
        .arg("--json")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("synthetic_ct_multiframe.dcm") || text.contains("2"),
        "{text}"
    );
    for phi in ["Doe", "PHI-123456", "19700101"] {
        assert!(!text.contains(phi), "{phi} in `lightbox info`: {text}");
    }
}

fn shared(name: &str) -> Option<PathBuf> {
    common::shared_file(&format!("dicom/{name}"))
}

#[test]
fn the_real_cr_chest_radiograph_reads_at_15_bits_monochrome1_from_jpeg_2000() {
    let Some(p) = shared("RG1_J2KI.dcm") else { return };
    let img = image::decode(&p).unwrap();
    assert_eq!((img.width, img.height), (1841, 1955));
    let s = img.scan.clone().unwrap();
    assert_eq!(
        (
            s.modality.as_deref(),
            s.body_part.as_deref(),
            s.view_position.as_deref()
        ),
        (Some("CR"), Some("CHEST"), Some("PA"))
    );
    assert_eq!((s.bits_stored, s.invert), (15, true));
    assert_eq!(s.transfer_syntax.as_deref(), Some("JPEG 2000 Image Compression"));
    let Pixels::Gray16(px) = &img.pixels else {
        panic!("16-bit")
    };
    let max = *px.iter().max().unwrap();
    assert!(max > 255 * 4 && max < 32768, "values above 8 bits kept: max {max}");
    let header = image::read_header(&p).unwrap();
    assert_eq!((header.width, header.height, header.format.bit_depth), (1841, 1955, 16));
}

/// Golden renders of the same CT slice at lung and mediastinum windows, through `lightbox
/// render` (the dashboard's own compositor): lung shows the parenchyma's vessels, mediastinum
/// shows soft tissue and leaves the lungs black.
#[test]
fn golden_ct_slice_at_lung_and_mediastinum_windows() {
    let Some(p) = shared("CT_small.dcm") else { return };
    let t = tempfile::tempdir().unwrap();
    std::fs::copy(&p, t.path().join("CT_small.dcm")).unwrap();
    let mut shots = Vec::new();
    for w in ["lung", "mediastinum"] {
        let out = t.path().join(format!("{w}.png"));
        Command::cargo_bin("lightbox")
            .unwrap()
            .args(["render", "--images"])
            .arg(t.path())
            .args([
                "--case",
                "CT_small.dcm",
                "--view",
                "image",
                "--size",
                "256x256",
                "--window",
                w,
                "-o",
            ])
            .arg(&out)
            .assert()
            .success();
        let img = image::decode(&out).unwrap();
        check_golden(&format!("ct_small_{w}"), &out);
        shots.push(img);
    }
    let mean = |i: &PixelImage, x0: u32, y0: u32| {
        let mut s = 0u64;
        for y in y0..y0 + 8 {
            for x in x0..x0 + 8 {
                s += i.value(x, y) as u64;
            }
        }
        s as f64 / 64.0
    };
    // the upper-left corner of CT_small is lung (about −850 HU)
    let (lung, med) = (&shots[0], &shots[1]);
    assert!(mean(lung, 8, 8) > 20.0, "lung window shows the lung grey, not black");
    assert!(mean(med, 8, 8) < 5.0, "mediastinum window leaves the lung black");
    // the vertebral body (centre top) is bone: bright in both
    assert!(mean(med, 116, 40) > 200.0 && mean(lung, 116, 40) > 200.0);
}

fn check_golden(name: &str, actual: &Path) {
    common::check_golden_png(name, &::image::open(actual).unwrap().to_rgb8());
}

/// `[expect]` in the rules file: the hand radiograph and the lateral view in a frontal chest
/// stream are flagged, by name and value; the frontal chest image is not.
#[test]
fn unexpected_acquisitions_are_flagged_from_dicom_tags() {
    let Some((dir, _)) = vectors() else { return };
    let t = tempfile::tempdir().unwrap();
    let images = t.path().join("images");
    std::fs::create_dir(&images).unwrap();
    for f in [
        "synthetic_dx_monochrome1.dcm",
        "synthetic_dx_hand.dcm",
        "synthetic_dx_lateral.dcm",
    ] {
        std::fs::copy(dir.join(f), images.join(f)).unwrap();
    }
    let rules = t.path().join("rules.toml");
    std::fs::write(
        &rules,
        "[expect]\nmodality = [\"CR\", \"DX\"]\nbody_part = [\"CHEST\"]\nview_position = [\"PA\", \"AP\"]\nseverity = \"critical\"\n",
    )
    .unwrap();
    let out = Command::cargo_bin("lightbox")
        .unwrap()
        .args(["check", "--images"])
        .arg(&images)
        .arg("--rules")
        .arg(&rules)
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "critical flags fail the gate: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let flags: Vec<(String, String)> = report["flags"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "input-unexpected-acquisition")
        .map(|f| {
            (
                f["case"].as_str().unwrap_or_default().to_string(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(flags.len(), 2, "{flags:?}");
    let msg = |case: &str| {
        flags
            .iter()
            .find(|(c, _)| c.contains(case))
            .map(|(_, m)| m.clone())
            .unwrap_or_default()
    };
    assert!(
        msg("hand").contains("BodyPartExamined is HAND, the pack expects CHEST"),
        "{flags:?}"
    );
    assert!(
        msg("lateral").contains("ViewPosition is LL, the pack expects PA or AP"),
        "{flags:?}"
    );
}

/// A NIfTI CT volume (gzipped) and its label volume: slices along the third axis, HU kept exactly,
/// radiological display (patient right on the left, anterior up) from the affine, spacing from
/// pixdim, and every slice's mask on its own voxels.
#[test]
fn nifti_volumes_and_label_volumes_read_slice_by_slice() {
    use lightbox::formats::{label_png, nifti};
    let Some((_, v)) = vectors() else { return };
    let n = &v["nifti"];
    let image_path = Path::new(n["image"].as_str().unwrap());
    let frames = nifti::decode_frames(image_path, None).unwrap();
    assert_eq!(frames.len() as u64, n["frames"].as_u64().unwrap());
    assert_eq!(image::frame_count(image_path).unwrap() as usize, frames.len());
    let header = image::read_header(image_path).unwrap();
    assert_eq!(
        (header.width as u64, header.height as u64),
        (n["columns"].as_u64().unwrap(), n["rows"].as_u64().unwrap())
    );
    let want = expected_values(n);
    assert_eq!(
        lightbox_values(&frames),
        want,
        "HU on every voxel, radiologically oriented"
    );
    let s = frames[0].scan.as_ref().unwrap();
    assert_eq!((s.format, s.unit), ("NIfTI", Some("HU")));
    let sp = s.spacing.unwrap();
    assert!(
        (sp.row_mm - 0.9).abs() < 1e-6 && (sp.col_mm - 0.8).abs() < 1e-6,
        "{sp:?}"
    );
    assert_eq!(s.orientation, Some(("L".to_string(), "P".to_string())));
    assert!(
        WindowPreset::Lung.applies(Some(s)),
        "CT presets apply to a volume in HU"
    );
    // one slice alone, through the image API the dashboard uses
    let third = image::decode_frame(image_path, 2).unwrap();
    assert_eq!(third.pixels, frames[2].pixels);
    // the label volume: each slice's labels are the file's own values, on the same grid
    let labels_path = Path::new(n["labels"].as_str().unwrap());
    assert!(label_png::is_volume(labels_path));
    let want_labels: Vec<u16> = {
        let bytes = std::fs::read(n["label_values"].as_str().unwrap()).unwrap();
        bytes
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap()) as u16)
            .collect()
    };
    let plane = (frames[0].width * frames[0].height) as usize;
    for k in 0..frames.len() {
        let m = label_png::read_frame(labels_path, k as u32).unwrap();
        assert_eq!(m.as_slice(), &want_labels[k * plane..(k + 1) * plane], "slice {k}");
        // bone (label 3) sits where the image is 900 HU
        for (i, &l) in m.as_slice().iter().enumerate() {
            let hu = s.modality(match &frames[k].pixels {
                Pixels::Gray16(p) => p[i] as f64,
                _ => unreachable!(),
            });
            assert_eq!(l == 3, hu == 900.0, "slice {k} pixel {i}");
        }
    }
    // a truncated volume is an error naming the file's data, not a panic
    let t = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(labels_path).unwrap();
    let cut = t.path().join("cut.nii");
    std::fs::write(&cut, &bytes[..bytes.len() - 100]).unwrap();
    let e = image::decode(&cut).expect_err("truncated").to_string();
    assert!(e.contains("NIfTI"), "{e}");
    std::fs::write(&cut, &bytes[..200]).unwrap();
    assert!(image::decode(&cut).is_err());
}

/// `pixel_spacing_mm = "image"`: area bounds in mm² use each file's own spacing (NIfTI pixdim
/// here: 0.8 × 0.9 mm), and an image without a spacing says the rule was not evaluated instead
/// of guessing.
#[test]
fn area_rules_in_square_millimetres_use_each_images_spacing() {
    let Some((_, v)) = vectors() else { return };
    let n = &v["nifti"];
    let t = volume_folders(n);
    // a PNG case without any spacing
    ::image::GrayImage::new(32, 24)
        .save(t.path().join("images/plain.png"))
        .unwrap();
    ::image::GrayImage::from_pixel(32, 24, ::image::Luma([1]))
        .save(t.path().join("labels/plain.png"))
        .unwrap();
    std::fs::write(
        t.path().join("lightbox.toml"),
        "name = \"vol\"\nimages = \"images\"\nrules = \"rules.toml\"\n[ground_truth]\nmasks = \"labels\"\n\
         [[classes]]\nid = 1\nname = \"tissue\"\nkind = \"region\"\n[[classes]]\nid = 3\nname = \"bone\"\n",
    )
    .unwrap();
    // bone on slice 1 is 8 × 4 px = 32 × 0.72 mm² = 23 mm²
    std::fs::write(
        t.path().join("rules.toml"),
        "[settings]\npixel_spacing_mm = \"image\"\nood = false\n\n[[rule]]\nid = \"bone-small\"\nkind = \"area\"\n\
         severity = \"major\"\nsubject = \"bone\"\nmax_mm2 = 20\n\n[[rule]]\nid = \"bone-big-enough\"\nkind = \"area\"\n\
         severity = \"minor\"\nsubject = \"bone\"\nmin_mm2 = 10\n",
    )
    .unwrap();
    let out = Command::cargo_bin("lightbox")
        .unwrap()
        .arg("check")
        .arg(t.path())
        .arg("--json")
        .output()
        .unwrap();
    let report: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let flags = report["flags"].as_array().unwrap();
    let on = |case: &str| -> Vec<String> {
        flags
            .iter()
            .filter(|f| f["case"].as_str().is_some_and(|c| c.contains(case)))
            .map(|f| format!("{}: {}", f["rule"].as_str().unwrap(), f["message"].as_str().unwrap()))
            .collect()
    };
    let vol = on("vol");
    assert_eq!(vol.len(), 1, "{vol:?}");
    assert!(
        vol[0].starts_with("bone-small: bone covers 23 mm²; rule 'bone-small' needs"),
        "{vol:?}"
    );
    let plain = on("plain");
    assert_eq!(plain.len(), 2, "both mm rules are reported as not evaluated: {plain:?}");
    assert!(
        plain
            .iter()
            .all(|m| m.contains("not evaluated") && m.contains("no pixel spacing")),
        "{plain:?}"
    );

    // a number is not a word: a typo is an error with line and column
    std::fs::write(
        t.path().join("rules.toml"),
        "[settings]\npixel_spacing_mm = \"imgae\"\n",
    )
    .unwrap();
    let out = Command::cargo_bin("lightbox")
        .unwrap()
        .arg("check")
        .arg(t.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("rules.toml:2:") && e.contains("\"image\""), "{e}");
}

/// `lightbox render --slice N` renders that slice of a volume with its own label slice, and
/// refuses a slice past the end with the count.
#[test]
fn render_draws_the_asked_slice_with_its_labels() {
    let Some((_, v)) = vectors() else { return };
    let n = &v["nifti"];
    let t = volume_folders(n);
    let render = |slice: &str, out: &Path| {
        Command::cargo_bin("lightbox")
            .unwrap()
            .arg("render")
            .arg("--images")
            .arg(t.path().join("images"))
            .arg("--gt")
            .arg(format!("masks:{}", t.path().join("labels").display()))
            .args([
                "--class",
                "1=tissue:region",
                "--class",
                "3=bone:region",
                "--case",
                "vol.nii.gz",
            ])
            .args([
                "--view",
                "gt",
                "--size",
                "32x24",
                "--fill",
                "1",
                "--outline",
                "0",
                "--slice",
                slice,
                "-o",
            ])
            .arg(out)
            .output()
            .unwrap()
    };
    let (a, b) = (t.path().join("1.png"), t.path().join("5.png"));
    assert!(render("1", &a).status.success());
    assert!(render("5", &b).status.success());
    let tinted = |p: &Path| -> usize {
        let img = ::image::open(p).unwrap().to_rgb8();
        img.pixels()
            .filter(|px| px.0 != [0, 0, 0] && px.0[0] != px.0[1])
            .count()
    };
    // tissue grows by one column per slice: slice 5 has 4 × 16 more labelled pixels than slice 1
    assert_eq!(tinted(&b) as i64 - tinted(&a) as i64, 4 * 16);
    let out = render("6", &t.path().join("6.png"));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--slice 6: the image has 5 slices"));
}

/// A NIfTI label volume on a non-NIfTI image would be laid on a differently oriented grid:
/// `lightbox info` refuses it by name instead of showing misplaced labels.
#[test]
fn a_nifti_label_volume_on_a_png_image_is_refused() {
    let Some((_, v)) = vectors() else { return };
    let t = tempfile::tempdir().unwrap();
    for d in ["images", "labels"] {
        std::fs::create_dir(t.path().join(d)).unwrap();
    }
    ::image::GrayImage::new(32, 24)
        .save(t.path().join("images/vol.png"))
        .unwrap();
    std::fs::copy(v["nifti"]["labels"].as_str().unwrap(), t.path().join("labels/vol.nii")).unwrap();
    let out = Command::cargo_bin("lightbox")
        .unwrap()
        .args(["info", "--images"])
        .arg(t.path().join("images"))
        .arg("--gt")
        .arg(format!("masks:{}", t.path().join("labels").display()))
        .args(["--class", "1=tissue", "--class", "3=bone"])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.lines().any(|l| l.contains("vol.nii") && l.contains("not NIfTI")),
        "{text}"
    );
}

/// `images/vol.nii.gz` and `labels/vol.nii` (the synthetic CT volume and its label volume).
fn volume_folders(n: &Value) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    for d in ["images", "labels"] {
        std::fs::create_dir(t.path().join(d)).unwrap();
    }
    std::fs::copy(n["image"].as_str().unwrap(), t.path().join("images/vol.nii.gz")).unwrap();
    std::fs::copy(n["labels"].as_str().unwrap(), t.path().join("labels/vol.nii")).unwrap();
    t
}

/// A folder of single-frame CT slices of one series is one case, a volume: its slices in
/// position order (not file-name or Instance Number order) equal the multi-frame twin's frames,
/// pixel for pixel in Hounsfield units; the dashboard's slice count, spacing and the `[expect]`
/// checks see it like a multi-frame file; loose DICOM files beside it stay cases of their own.
#[test]
fn a_series_folder_reads_as_one_volume_in_patient_order() {
    let Some((dir, v)) = vectors() else { return };
    let s = &v["series"];
    let tmp = tempfile::tempdir().unwrap();
    let pack = tmp.path().join("pack");
    let series_dir = pack.join("images/chest-ct");
    std::fs::create_dir_all(&series_dir).unwrap();
    for e in std::fs::read_dir(s["dir"].as_str().unwrap()).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), series_dir.join(e.file_name())).unwrap();
    }
    // a loose radiograph beside the series, and one in a folder of its own
    std::fs::copy(dir.join("synthetic_dx_monochrome1.dcm"), pack.join("images/dx.dcm")).unwrap();
    std::fs::create_dir_all(pack.join("images/more")).unwrap();
    std::fs::copy(
        dir.join("synthetic_dx_monochrome1.dcm"),
        pack.join("images/more/dx2.dcm"),
    )
    .unwrap();
    std::fs::write(
        pack.join("lightbox.toml"),
        "name = \"ct\"\n\n[[classes]]\nid = 1\nname = \"lung\"\n",
    )
    .unwrap();
    let p = lightbox::pack::Pack::open(&pack).unwrap();
    let ids: Vec<&str> = p.cases.iter().map(|c| c.id.0.as_str()).collect();
    assert_eq!(ids, vec!["chest-ct", "dx.dcm", "more/dx2.dcm"]);
    let ct = &p.cases[0].image;
    assert!(ct.is_dir());
    let frames = s["frames"].as_u64().unwrap() as u32;
    assert_eq!(image::frame_count(ct).unwrap(), frames);
    let h = image::read_header(ct).unwrap();
    assert_eq!((h.width, h.height), (48, 40));
    let twin = dicom::decode_frames(&dir.join(s["twin"].as_str().unwrap()), None).unwrap();
    for k in 0..frames {
        let slice = image::decode_frame(ct, k).unwrap();
        assert_eq!(
            lightbox_values(std::slice::from_ref(&slice)),
            lightbox_values(std::slice::from_ref(&twin[k as usize])),
            "slice {k}"
        );
        let scan = slice.scan.as_ref().unwrap();
        assert_eq!(scan.frames, frames);
        assert_eq!(scan.unit, Some("HU"));
    }
    assert!(
        image::decode_frame(ct, frames)
            .unwrap_err()
            .to_string()
            .contains("the series has 4")
    );
    let series = lightbox::formats::series::open(ct).unwrap();
    assert_eq!(series.spacing, Some(s["slice_spacing"].as_f64().unwrap()));
    let sp = image::read_spacing(ct).unwrap();
    assert_eq!((sp.row_mm, sp.col_mm), (0.7, 0.5));
    // the dashboard's data for slice 2: a volume of 4 with that slice's pixels
    let d = lightbox::render::CaseData::load_slice(&p, 0, 2);
    assert_eq!((d.frames, d.slice), (4, 2));
    // `info` validates it like any image, with no identifying tags in its output
    let info = || {
        let o = Command::cargo_bin("lightbox")
            .unwrap()
            .arg("info")
            .arg(&pack)
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
        (o.status.success(), out)
    };
    let (ok, out) = info();
    assert!(ok, "{out}");
    assert!(!out.contains("Doe") && !out.contains("PHI-123456"), "{out}");

    // masks per slice: a slice folder `masks/chest-ct/<n>.png` (n = the slice number shown)
    let masks = pack.join("masks/chest-ct");
    std::fs::create_dir_all(&masks).unwrap();
    let square = |k: usize| {
        let mut m = vec![0u16; 48 * 40];
        for y in 10..20 {
            for x in 10 + 5 * k..20 + 5 * k {
                m[y * 48 + x] = 1;
            }
        }
        lightbox::geometry::LabelMask::new(48, 40, m).unwrap()
    };
    lightbox::formats::label_png::write(&masks.join("002.png"), &square(1)).unwrap();
    lightbox::formats::label_png::write(&masks.join("4.png"), &square(3)).unwrap();
    std::fs::write(
        pack.join("lightbox.toml"),
        "name = \"ct\"\n\n[[classes]]\nid = 1\nname = \"lung\"\n\n[ground_truth]\nmasks = \"masks\"\n",
    )
    .unwrap();
    let p = lightbox::pack::Pack::open(&pack).unwrap();
    assert_eq!(p.ground_truth[0].label_mask.as_deref(), Some(masks.as_path()));
    let on = |slice: u32| {
        let d = lightbox::render::CaseData::load_slice(&p, 0, slice);
        let m = d.gt_mask.expect("a mask source").expect("readable");
        assert_eq!((m.width(), m.height()), (48, 40));
        m.as_slice()
            .iter()
            .enumerate()
            .filter(|(_, v)| **v == 1)
            .map(|(i, _)| i % 48)
            .min()
    };
    // slices 2 and 4 have their own squares; slices 1 and 3 have no file: no labels
    assert_eq!(on(1), Some(15));
    assert_eq!(on(3), Some(25));
    assert_eq!(on(0), None);
    assert_eq!(on(2), None);
    let (ok, out) = info();
    assert!(ok, "{out}");
    // a rule checked on every slice flags the slices whose masks break it, by slice; the same
    // rule on the first slice only sees slice 1 (no labels there)
    std::fs::write(
        pack.join("rules.toml"),
        "[[rule]]\nid = \"small-each\"\ndescription = \"a small section\"\nkind = \"area\"\nseverity = \"major\"\nsubject = \"lung\"\nmax = 0.04\nslices = \"each\"\n\n[[rule]]\nid = \"small-first\"\ndescription = \"a small section\"\nkind = \"area\"\nseverity = \"major\"\nsubject = \"lung\"\nmax = 0.04\n",
    )
    .unwrap();
    let manifest = std::fs::read_to_string(pack.join("lightbox.toml")).unwrap();
    std::fs::write(
        pack.join("lightbox.toml"),
        format!("rules = \"rules.toml\"\n{manifest}"),
    )
    .unwrap();
    let o = Command::cargo_bin("lightbox")
        .unwrap()
        .args(["check", "--json"])
        .arg(&pack)
        .output()
        .unwrap();
    let report: Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)));
    let flags: Vec<(String, u64, String)> = report["flags"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"].as_str().unwrap().starts_with("small"))
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["slice"].as_u64().unwrap_or(0),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        flags.iter().map(|f| (f.0.as_str(), f.1)).collect::<Vec<_>>(),
        vec![("small-each", 2), ("small-each", 4)],
        "{flags:?}"
    );
    assert!(flags[0].2.starts_with("slice 2: "), "{flags:?}");
    // the dashboard draws a slice's flags on that slice only
    let p = lightbox::pack::Pack::open(&pack).unwrap();
    let rules = lightbox::check::load_rules(&p, None).unwrap().unwrap();
    let found = lightbox::rules::evaluate(&p, &rules, &[lightbox::pack::Source::GroundTruth]);
    assert!(found.iter().all(|f| f.slice.is_none_or(|k| k == 1 || k == 3)));
    assert!(
        found
            .iter()
            .filter(|f| f.slice.is_some())
            .all(|f| f.highlight.is_some())
    );
    std::fs::write(pack.join("lightbox.toml"), manifest).unwrap();
    // a slice beyond the volume, and two files for one slice, are named
    lightbox::formats::label_png::write(&masks.join("7.png"), &square(0)).unwrap();
    let (_, out) = info();
    assert!(
        out.contains("7.png") && out.contains("slice 7 of an image with 4 slice(s)"),
        "{out}"
    );
    std::fs::remove_file(masks.join("7.png")).unwrap();
    lightbox::formats::label_png::write(&masks.join("slice-4.png"), &square(0)).unwrap();
    let (ok, out) = info();
    assert!(!ok && out.contains("are both slice 4"), "{out}");
}
