//! Every kind of bad input gets a clear one-line error that names the file and the field and
//! says what to do, exit status 2, and never a panic. Each case starts from a small valid pack
//! (which `info` accepts with status 0) and breaks exactly one thing.
// tests: a failed unwrap is a failed run, not a crash in a user's hands
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use assert_cmd::Command;
use common::mini::{GT, MANIFEST, RESULTS, mini_pack, png_gray, write};
use std::path::Path;

fn info(dir: &Path) -> (i32, String) {
    let out = Command::cargo_bin("lightbox")
        .unwrap()
        .arg("info")
        .arg(dir)
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// Run `info` on the broken pack: status 2, no panic, and one line holding every expected part.
fn expect_error(dir: &Path, parts: &[&str]) {
    let (code, text) = info(dir);
    assert!(
        !text.contains("panicked") && !text.contains("stack backtrace"),
        "panic:\n{text}"
    );
    assert_eq!(code, 2, "expected exit 2:\n{text}");
    let line = text.lines().find(|l| parts.iter().all(|p| l.contains(p)));
    assert!(line.is_some(), "no line contains all of {parts:?}:\n{text}");
}

#[test]
fn the_valid_mini_pack_passes() {
    let t = mini_pack();
    let (code, text) = info(t.path());
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("0 errors"), "{text}");
}

macro_rules! bad {
    ($name:ident, |$d:ident| $break_it:block, [$($part:expr),+ $(,)?]) => {
        #[test]
        fn $name() {
            let t = mini_pack();
            let $d = t.path();
            $break_it
            expect_error($d, &[$($part),+]);
        }
    };
}

bad!(
    truncated_ground_truth_json,
    |d| {
        write(d, "gt/instances.json", &GT[..GT.len() / 2]);
    },
    ["gt/instances.json", "ends early", "truncated"]
);
bad!(
    truncated_results_json,
    |d| {
        write(d, "runs/m/results.json", &RESULTS[..40]);
    },
    ["runs/m/results.json", "truncated"]
);
bad!(
    score_of_wrong_type,
    |d| {
        write(d, "runs/m/results.json", &RESULTS.replace("0.9", "\"high\""));
    },
    ["runs/m/results.json", "[0].score", "invalid type"]
);
bad!(
    bbox_of_wrong_type,
    |d| {
        write(d, "gt/instances.json", &GT.replace("[2, 2, 4, 3]", "\"2,2,4,3\""));
    },
    ["gt/instances.json", "annotations[0].bbox", "invalid type"]
);
bad!(
    image_size_of_wrong_type,
    |d| {
        write(
            d,
            "gt/instances.json",
            &GT.replacen("\"width\": 16", "\"width\": \"16\"", 1),
        );
    },
    ["gt/instances.json", "images[0].width"]
);
bad!(
    unknown_image_id,
    |d| {
        write(
            d,
            "runs/m/results.json",
            &RESULTS.replacen("\"image_id\": 1", "\"image_id\": 99", 1),
        );
    },
    ["runs/m/results.json", "[0].image_id", "image_id 99"]
);
bad!(
    unknown_category,
    |d| {
        write(
            d,
            "gt/instances.json",
            &GT.replacen("\"category_id\": 2", "\"category_id\": 7", 1),
        );
    },
    [
        "gt/instances.json",
        "annotations[0].category_id",
        "category_id 7",
        "known: 1, 2",
        "[classes]"
    ]
);
bad!(
    negative_box,
    |d| {
        write(
            d,
            "runs/m/results.json",
            &RESULTS.replace("[2, 2, 4, 4]", "[2, 2, -4, 4]"),
        );
    },
    ["runs/m/results.json", "[0].bbox", "width and height"]
);
bad!(
    nan_in_json,
    |d| {
        write(d, "runs/m/results.json", &RESULTS.replace("0.9", "NaN"));
    },
    ["runs/m/results.json", "NaN"]
);
bad!(
    box_with_three_numbers,
    |d| {
        write(d, "runs/m/results.json", &RESULTS.replace("[2, 2, 4, 4]", "[2, 2, 4]"));
    },
    ["runs/m/results.json", "[0].bbox", "3 numbers"]
);
bad!(
    rle_counts_do_not_cover_the_image,
    |d| {
        write(d, "gt/instances.json", &GT.replace("178]", "100]"));
    },
    ["gt/instances.json", "annotations[1].segmentation.counts", "cover"]
);
bad!(
    rle_of_the_wrong_size,
    |d| {
        write(
            d,
            "gt/instances.json",
            &GT.replace(
                "\"size\": [12, 16], \"counts\": [0, 2, 10, 2, 178]",
                "\"size\": [10, 16], \"counts\": [0, 160]",
            ),
        );
    },
    [
        "gt/instances.json",
        "annotations[1].segmentation.size",
        "image is 16×12"
    ]
);
bad!(
    rle_string_with_bad_characters,
    |d| {
        write(d, "gt/instances.json", &GT.replace("[0, 2, 10, 2, 178]", "\"0~~\""));
    },
    ["gt/instances.json", "segmentation.counts", "alphabet"]
);
bad!(
    polygon_with_two_points,
    |d| {
        write(
            d,
            "gt/instances.json",
            &GT.replace("[[2, 2, 6, 2, 6, 5, 2, 5]]", "[[2, 2, 6, 2]]"),
        );
    },
    ["gt/instances.json", "annotations[0].segmentation[0]", "at least 3"]
);
bad!(
    detection_without_score,
    |d| {
        write(d, "runs/m/results.json", &RESULTS.replace(", \"score\": 0.9", ""));
    },
    ["runs/m/results.json", "[0].score", "no score"]
);
bad!(
    results_not_a_list,
    |d| {
        write(d, "runs/m/results.json", "\"hello\"");
    },
    ["runs/m/results.json", "COCO results array"]
);
bad!(
    results_wrapped_in_an_object,
    |d| {
        // `{"results": [...]}`: loading it as a run without predictions would lose every one
        write(d, "runs/m/results.json", &format!("{{\"results\": {RESULTS}}}"));
    },
    [
        "runs/m/results.json",
        "without `annotations`",
        "JSON array of detections"
    ]
);
bad!(
    mask_png_of_the_wrong_size,
    |d| {
        png_gray(&d.join("gt/masks/a.png"), 8, 8, false, 1);
    },
    ["gt/masks/a.png", "8×8", "16×12"]
);
bad!(
    mask_with_an_unknown_class_value,
    |d| {
        png_gray(&d.join("runs/m/masks/b.png"), 16, 12, false, 9);
    },
    ["runs/m/masks/b.png", "value 9", "1 lung"]
);
bad!(
    colour_mask,
    |d| {
        image::RgbImage::from_pixel(16, 12, image::Rgb([255, 0, 0]))
            .save(d.join("gt/masks/a.png"))
            .unwrap();
    },
    ["gt/masks/a.png", "single-channel"]
);
bad!(
    missing_image_file,
    |d| {
        std::fs::remove_file(d.join("images/b.png")).unwrap();
    },
    ["images/b.png", "not found", "image root"]
);
bad!(
    unreadable_image,
    |d| {
        write(d, "images/a.png", "this is not a png");
    },
    [
        "images/a.png",
        "not an image",
        "PNG, JPEG, TIFF, DICOM or NIfTI signature",
        "Convert it"
    ]
);
bad!(
    truncated_image,
    |d| {
        let bytes = std::fs::read(d.join("images/b.png")).unwrap();
        std::fs::write(d.join("images/b.png"), &bytes[..40]).unwrap();
    },
    ["images/b.png"]
);
bad!(
    image_of_another_size_than_declared,
    |d| {
        png_gray(&d.join("images/a.png"), 20, 12, false, 100);
    },
    ["images/a.png", "20×12", "declares 16×12"]
);
bad!(
    file_name_leaving_the_pack,
    |d| {
        write(d, "gt/instances.json", &GT.replace("\"a.png\"", "\"../../etc/passwd\""));
    },
    ["gt/instances.json", "images[0].file_name", "leaves the pack"]
);
bad!(
    manifest_path_leaving_the_pack,
    |d| {
        write(
            d,
            "lightbox.toml",
            &MANIFEST.replace("\"runs/m/results.json\"", "\"../elsewhere.json\""),
        );
    },
    ["lightbox.toml", "runs.m.coco", "leaves the pack"]
);
bad!(
    absolute_manifest_path,
    |d| {
        write(
            d,
            "lightbox.toml",
            &MANIFEST.replace("\"gt/labels.csv\"", "\"/etc/hosts\""),
        );
    },
    ["lightbox.toml", "ground_truth.scores", "absolute"]
);
bad!(
    misspelled_manifest_key,
    |d| {
        write(d, "lightbox.toml", &MANIFEST.replace("[ground_truth]", "[grund_truth]"));
    },
    ["lightbox.toml", "line 13", "grund_truth", "docs/formats.md"]
);
bad!(
    misspelled_source_key,
    |d| {
        write(
            d,
            "lightbox.toml",
            &MANIFEST.replace("masks = \"gt/masks\"", "maks = \"gt/masks\""),
        );
    },
    ["lightbox.toml", "maks"]
);
bad!(
    manifest_value_of_wrong_type,
    |d| {
        write(d, "lightbox.toml", &MANIFEST.replace("id = 2", "id = \"two\""));
    },
    ["lightbox.toml", "line", "invalid type"]
);
bad!(
    manifest_without_name,
    |d| {
        write(d, "lightbox.toml", &MANIFEST.replace("name = \"mini\"\n", ""));
    },
    ["lightbox.toml", "name"]
);
bad!(
    duplicate_class_id,
    |d| {
        write(d, "lightbox.toml", &MANIFEST.replace("id = 2", "id = 1"));
    },
    ["lightbox.toml", "classes[1].id", "used twice"]
);
bad!(
    huge_image_header,
    |d| {
        std::fs::write(d.join("images/a.png"), huge_png(100_000, 100_000)).unwrap();
    },
    ["images/a.png", "100000×100000", "larger than"]
);
bad!(
    huge_declared_size,
    |d| {
        write(
            d,
            "gt/instances.json",
            &GT.replacen(
                "\"width\": 16, \"height\": 12",
                "\"width\": 100000, \"height\": 100000",
                1,
            ),
        );
    },
    ["gt/instances.json", "images[0].width", "larger than"]
);
bad!(
    scores_csv_with_a_word,
    |d| {
        write(d, "gt/labels.csv", "image,lesion\na.png,yes\n");
    },
    ["gt/labels.csv", "line 2, column lesion", "not a finite number"]
);
bad!(
    scores_for_an_unknown_class,
    |d| {
        write(d, "gt/labels.csv", "image,tumour\na.png,1\n");
    },
    ["gt/labels.csv", "tumour", "not a class"]
);
bad!(
    probability_map_of_the_wrong_size,
    |d| {
        png_gray(&d.join("runs/m/prob/a.lesion.png"), 4, 4, true, 1);
    },
    ["runs/m/prob/a.lesion.png", "4×4"]
);
bad!(
    truncated_npy_probability_map,
    |d| {
        std::fs::remove_file(d.join("runs/m/prob/a.lesion.png")).unwrap();
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (12, 16), }          \n";
        bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
        bytes.extend_from_slice(header.as_bytes());
        bytes.extend_from_slice(&[0u8; 100]);
        std::fs::write(d.join("runs/m/prob/a.lesion.npy"), bytes).unwrap();
    },
    ["runs/m/prob/a.lesion.npy", "100 bytes"]
);
bad!(
    missing_annotation_file,
    |d| {
        std::fs::remove_file(d.join("runs/m/results.json")).unwrap();
    },
    ["runs/m/results.json", "file not found"]
);
bad!(
    missing_mask_folder,
    |d| {
        std::fs::remove_dir_all(d.join("runs/m/masks")).unwrap();
    },
    ["lightbox.toml", "runs.m.masks", "does not exist"]
);
bad!(
    results_from_another_dataset,
    |d| {
        write(
            d,
            "gt/instances.json",
            &GT.replace("\"id\": 1, \"file_name\"", "\"id\": 11, \"file_name\"")
                .replace("\"image_id\": 1,", "\"image_id\": 11,"),
        );
    },
    ["runs/m/results.json", "image_id 1 is not in the ground truth"]
);

#[test]
fn yolo_lines_are_checked() {
    let t = mini_pack();
    let d = t.path();
    write(
        d,
        "lightbox.toml",
        &MANIFEST.replace("[runs.m]", "[runs.y]\nyolo = \"runs/y\"\n\n[runs.m]"),
    );
    write(d, "runs/y/classes.txt", "lung\nlesion\n");
    write(
        d,
        "runs/y/a.txt",
        "1 0.5 0.5 0.2 0.2 0.8\n1 0.5 oops 0.2 0.2\n5 0.5 0.5 0.1 0.1 0.3\n",
    );
    expect_error(d, &["runs/y/a.txt", "line 2", "cy \"oops\""]);
    expect_error(d, &["runs/y/a.txt", "class index 5"]);
}

#[test]
fn a_folder_without_a_manifest_says_what_to_do() {
    let t = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("lightbox")
        .unwrap()
        .arg("info")
        .arg(t.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no lightbox.toml") && err.contains("lightbox init"),
        "{err}"
    );
    let out = Command::cargo_bin("lightbox")
        .unwrap()
        .args(["info", "/no/such/pack"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/no/such/pack: no such pack"));
}

#[test]
fn json_output_lists_problems_with_file_and_field() {
    let t = mini_pack();
    write(t.path(), "runs/m/results.json", &RESULTS.replace("0.9", "\"high\""));
    let out = Command::cargo_bin("lightbox")
        .unwrap()
        .args(["info", "--json"])
        .arg(t.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("info --json prints JSON even for a broken pack");
    let p = &v["problems"][0];
    assert_eq!(p["severity"], "error");
    assert_eq!(p["file"], "runs/m/results.json");
    assert_eq!(p["field"], "[0].score");
}

/// A PNG whose header claims `w` × `h` (valid CRC), with no pixel data.
fn huge_png(w: u32, h: u32) -> Vec<u8> {
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend_from_slice(&13u32.to_be_bytes());
    out.extend_from_slice(&ihdr);
    out.extend_from_slice(&crc32(&ihdr).to_be_bytes());
    // a (tiny) IDAT and IEND, as a real file has
    for (kind, data) in [
        (&b"IDAT"[..], &b"\x78\x9c\x03\x00\x00\x00\x00\x01"[..]),
        (&b"IEND"[..], &b""[..]),
    ] {
        let mut chunk = kind.to_vec();
        chunk.extend_from_slice(data);
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend_from_slice(&chunk);
        out.extend_from_slice(&crc32(&chunk).to_be_bytes());
    }
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for &b in data {
        c ^= b as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
        }
    }
    !c
}

/// `check`, `metrics` and `review` do not compute on a pack with errors unless told to: a missing
/// image stops them with exit 2 and names the file (issue 18: `check` over missing images said
/// "0 inputs flagged" and exited 0).
#[test]
fn commands_stop_on_a_pack_with_errors_unless_allowed() {
    let t = mini_pack();
    let d = t.path();
    std::fs::remove_file(d.join("images/a.png")).unwrap();
    let run = |args: &[&str]| {
        let out = Command::cargo_bin("lightbox")
            .unwrap()
            .args(args)
            .arg(d)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout),
        )
    };
    let (code, text) = run(&["check"]);
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("images/a.png") && text.contains("--allow-problems"),
        "{text}"
    );
    let (code, text) = run(&["check", "--allow-problems"]);
    assert!(code != 2 && text.contains("warning: the pack has 1 error(s)"), "{text}");
    // export and diff too
    let out_dir = tempfile::tempdir().unwrap();
    let o = Command::cargo_bin("lightbox")
        .unwrap()
        .arg("export")
        .arg(d)
        .args(["--filter", "all", "-o"])
        .arg(out_dir.path().join("x"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.code() == Some(2) && text.contains("images/a.png"), "{text}");
    let o = Command::cargo_bin("lightbox")
        .unwrap()
        .arg("diff")
        .arg(d)
        .args(["m", "m"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.code() == Some(2) && text.contains("images/a.png"), "{text}");
    // metrics need no image file (COCO evaluation reads annotations), but every annotation
    let (code, text) = run(&["metrics"]);
    assert_eq!(code, 0, "{text}");
    write(d, "runs/m/results.json", &RESULTS.replace(", \"score\": 0.9", ""));
    let (code, text) = run(&["metrics"]);
    assert!(
        code == 2 && text.contains("runs/m/results.json") && text.contains("[0].score"),
        "{text}"
    );
    let (code, text) = run(&["metrics", "--allow-problems"]);
    assert!(code != 2 && text.contains("warning: the pack has"), "{text}");
    let out = Command::cargo_bin("lightbox")
        .unwrap()
        .arg("review")
        .arg(d)
        .args(["--release", "r", "--reviewer", "x", "--batch"])
        .write_stdin("status\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("a sign-off needs a pack that loads whole"));
}

/// Run `lightbox ARGS... PACK` (the pack last unless `pack_first`), returning status and all output.
fn lightbox(args: &[&str], dir: &Path) -> (i32, String) {
    let out = Command::cargo_bin("lightbox")
        .unwrap()
        .args(args)
        .arg(dir)
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !text.contains("panicked") && !text.contains("memory allocation"),
        "{args:?} crashed:\n{text}"
    );
    (out.status.code().unwrap_or(-1), text)
}

/// `info` accepts the pack (status 0) and warns on one line holding every part.
fn expect_warning(dir: &Path, parts: &[&str]) {
    let (code, text) = info(dir);
    assert_eq!(code, 0, "expected exit 0 with a warning:\n{text}");
    let line = text.lines().find(|l| parts.iter().all(|p| l.contains(p)));
    assert!(line.is_some(), "no line contains all of {parts:?}:\n{text}");
}

macro_rules! warns {
    ($name:ident, |$d:ident| $break_it:block, [$($part:expr),+ $(,)?]) => {
        #[test]
        fn $name() {
            let t = mini_pack();
            let $d = t.path();
            $break_it
            expect_warning($d, &[$($part),+]);
        }
    };
}

/// One vertex at 4e8 (1e9 is beyond what pycocotools defines) in the ground truth and in a run made `metrics`, `check` and `render`
/// allocate billions of outline points and abort (issue 18). Now the rasterisation costs what
/// the image does, the result is pycocotools' (the part on the image), and the vertex is named.
#[test]
fn a_vertex_far_outside_the_image_is_rasterised_and_named() {
    let t = mini_pack();
    let d = t.path();
    write(
        d,
        "gt/instances.json",
        &GT.replace("[[2, 2, 6, 2, 6, 5, 2, 5]]", "[[2, 2, 4e8, 2, 6, 5, 2, 5]]"),
    );
    write(
        d,
        "runs/m/results.json",
        r#"[{"image_id": 1, "category_id": 2, "segmentation": [[2, 2, 6, 2, 400000000, 5, 2, 5]], "score": 0.9}]"#,
    );
    expect_warning(
        d,
        &[
            "gt/instances.json",
            "annotations[0].segmentation[0][2]",
            "outside the 16×12 image",
        ],
    );
    expect_warning(d, &["runs/m/results.json", "[0].segmentation[0][4]"]);
    let (code, text) = lightbox(&["metrics"], d);
    assert_eq!(code, 0, "{text}");
    let (code, text) = lightbox(&["check"], d);
    assert!(code == 0 || code == 1, "{text}");
    let png = d.join("a.png");
    let o = Command::cargo_bin("lightbox")
        .unwrap()
        .arg("render")
        .arg(d)
        .args(["--case", "a.png", "-o"])
        .arg(&png)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

bad!(
    coordinate_beyond_what_pycocotools_can_rasterise,
    |d| {
        write(
            d,
            "gt/instances.json",
            &GT.replace("[[2, 2, 6, 2, 6, 5, 2, 5]]", "[[2, 2, 1e12, 2, 6, 5, 2, 5]]"),
        );
    },
    [
        "gt/instances.json",
        "annotations[0].segmentation[0][2]",
        "beyond ±429496729",
        "undefined"
    ]
);
bad!(
    box_coordinate_beyond_what_pycocotools_can_rasterise,
    |d| {
        write(
            d,
            "runs/m/results.json",
            &RESULTS.replace("[2, 2, 4, 4]", "[2, 2, 4e15, 4]"),
        );
    },
    ["runs/m/results.json", "[0].bbox[2]", "beyond"]
);

/// `dilate(x, 99999999999px)` in a rules file aborted `check` allocating a 1e11-row disc.
#[test]
fn a_huge_dilation_radius_costs_what_the_image_does() {
    let t = mini_pack();
    let d = t.path();
    write(
        d,
        "rules.toml",
        r#"[[rule]]
id = "lesion-near-lung"
kind = "containment"
severity = "major"
subject = "lesion"
region = "dilate(lung, 99999999999px)"
min_fraction = 0.5
"#,
    );
    let out = Command::cargo_bin("lightbox")
        .unwrap()
        .arg("check")
        .arg(d)
        .arg("--rules")
        .arg(d.join("rules.toml"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{text}");
    assert!(!text.contains("memory allocation") && !text.contains("error"), "{text}");
}

/// A truncated JPEG decoded as an image whose lower part is flat grey, with exit 0.
#[test]
fn a_truncated_jpeg_is_a_damaged_image() {
    let t = mini_pack();
    let d = t.path();
    let img = image::RgbImage::from_fn(16, 12, |x, y| image::Rgb([(x * 15) as u8, (y * 20) as u8, 90]));
    let mut bytes = std::io::Cursor::new(Vec::new());
    img.write_to(&mut bytes, image::ImageFormat::Jpeg).unwrap();
    let bytes = bytes.into_inner();
    // cut inside the image data (the headers stay whole, so the size is read)
    std::fs::write(d.join("images/a.png"), &bytes[..bytes.len() - 12]).unwrap();
    expect_error(d, &["images/a.png", "truncated", "end-of-image marker"]);
    // check stops on it, and with --allow-problems still names it
    let (code, text) = lightbox(&["check"], d);
    assert!(
        code == 2 && text.contains("images/a.png") && text.contains("truncated"),
        "{text}"
    );
    // render refuses to draw it grey
    let o = Command::cargo_bin("lightbox")
        .unwrap()
        .arg("render")
        .arg(d)
        .args(["--case", "a.png", "-o"])
        .arg(d.join("out.png"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("truncated"), "{err}");
}

bad!(
    truncated_png_data,
    |d| {
        let bytes = std::fs::read(d.join("images/b.png")).unwrap();
        std::fs::write(d.join("images/b.png"), &bytes[..bytes.len() - 20]).unwrap();
    },
    ["images/b.png", "truncated"]
);
bad!(
    duplicate_annotation_id,
    |d| {
        write(
            d,
            "gt/instances.json",
            &GT.replace("{\"id\": 2, \"image_id\": 2", "{\"id\": 1, \"image_id\": 2"),
        );
    },
    [
        "gt/instances.json",
        "annotations[1].id",
        "annotation id 1 is also the id of annotations[0]",
        "pycocotools"
    ]
);
bad!(
    duplicate_score_row,
    |d| {
        write(d, "gt/labels.csv", "image,lesion\na.png,1\nb.png,0\na.png,0\n");
    },
    ["gt/labels.csv", "a.png.lesion", "a second score", "first is 1"]
);
warns!(
    ground_truth_box_off_the_image,
    |d| {
        write(d, "gt/instances.json", &GT.replace("[2, 2, 4, 3]", "[40, 2, 4, 3]"));
    },
    [
        "warning",
        "gt/instances.json",
        "annotations[0].bbox",
        "entirely outside the 16×12 image"
    ]
);
warns!(
    score_outside_zero_one,
    |d| {
        write(d, "runs/m/results.json", &RESULTS.replace("0.9", "7.5"));
    },
    ["warning", "runs/m/results.json", "[0].score", "outside [0, 1]"]
);
warns!(
    yolo_file_named_after_the_image_file,
    |d| {
        write(
            d,
            "lightbox.toml",
            &MANIFEST.replace("[runs.m]", "[runs.y]\nyolo = \"runs/y\"\n\n[runs.m]"),
        );
        write(d, "runs/y/classes.txt", "lung\nlesion\n");
        write(d, "runs/y/a.png.txt", "1 0.5 0.5 0.2 0.2 0.8\n");
        write(d, "runs/y/zzz.txt", "1 0.5 0.5 0.2 0.2 0.8\n");
    },
    ["warning", "runs/y/a.png.txt", "a.txt", "no case reads it"]
);

#[test]
fn an_orphan_yolo_file_is_named() {
    let t = mini_pack();
    let d = t.path();
    write(
        d,
        "lightbox.toml",
        &MANIFEST.replace("[runs.m]", "[runs.y]\nyolo = \"runs/y\"\n\n[runs.m]"),
    );
    write(d, "runs/y/classes.txt", "lung\nlesion\n");
    write(d, "runs/y/zzz.txt", "1 0.5 0.5 0.2 0.2 0.8\n");
    expect_warning(d, &["runs/y/zzz.txt", "no image of the pack has this stem"]);
}

/// A symbolic link inside the pack to a file outside it: loading, `export` and the sign-off
/// record would read, copy or hash a file the pack's author never shipped.
#[cfg(unix)]
#[test]
fn a_link_out_of_the_pack_is_refused_unless_the_manifest_allows_it() {
    let t = mini_pack();
    let d = t.path();
    let elsewhere = tempfile::tempdir().unwrap();
    png_gray(&elsewhere.path().join("secret.png"), 16, 12, false, 200);
    std::fs::remove_file(d.join("images/a.png")).unwrap();
    std::os::unix::fs::symlink(elsewhere.path().join("secret.png"), d.join("images/a.png")).unwrap();
    expect_error(
        d,
        &["images/a.png", "symbolic link", "outside the pack", "read_outside"],
    );
    let out = tempfile::tempdir().unwrap();
    let o = Command::cargo_bin("lightbox")
        .unwrap()
        .arg("export")
        .arg(d)
        .args(["--all", "--allow-problems", "-o"])
        .arg(out.path().join("x"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.code() == Some(2) && err.contains("outside the pack"), "{err}");
    assert!(!out.path().join("x/images/a.png").exists());
    // named explicitly, the archive may be read
    let real = elsewhere.path().canonicalize().unwrap();
    write(
        d,
        "lightbox.toml",
        &MANIFEST.replace(
            "images = \"images\"\n",
            &format!("images = \"images\"\nread_outside = [{:?}]\n", real),
        ),
    );
    let (code, text) = info(d);
    assert_eq!(code, 0, "{text}");
    // a link inside the pack is fine
    write(d, "lightbox.toml", MANIFEST);
    std::fs::remove_file(d.join("images/a.png")).unwrap();
    png_gray(&d.join("store/a.png"), 16, 12, false, 100);
    std::os::unix::fs::symlink(d.join("store/a.png"), d.join("images/a.png")).unwrap();
    let (code, text) = info(d);
    assert_eq!(code, 0, "{text}");
}

/// A folder of the pack that is itself a link out of it: every file in it lies outside, though
/// none of the files is a link (each folder is resolved once, each file checked for a link).
#[cfg(unix)]
#[test]
fn a_linked_folder_out_of_the_pack_is_refused() {
    let t = mini_pack();
    let d = t.path();
    let elsewhere = tempfile::tempdir().unwrap();
    let moved = elsewhere.path().join("images");
    std::fs::create_dir_all(&moved).unwrap();
    for e in std::fs::read_dir(d.join("images")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), moved.join(e.file_name())).unwrap();
    }
    std::fs::remove_dir_all(d.join("images")).unwrap();
    std::os::unix::fs::symlink(&moved, d.join("images")).unwrap();
    expect_error(d, &["images/a.png", "symbolic link", "outside the pack"]);
    // a link to a folder inside the pack is fine
    std::fs::remove_file(d.join("images")).unwrap();
    std::fs::create_dir_all(d.join("store")).unwrap();
    std::fs::rename(&moved, d.join("store/images")).unwrap();
    std::os::unix::fs::symlink(d.join("store/images"), d.join("images")).unwrap();
    let (code, text) = info(d);
    assert_eq!(code, 0, "{text}");
}

/// `ood_max_z = nan` switched the out-of-distribution check off without a word.
#[test]
fn ood_max_z_must_be_a_positive_number() {
    let t = mini_pack();
    let d = t.path();
    for bad in ["nan", "-1.0", "0.0", "inf"] {
        write(d, "rules.toml", &format!("[settings]\nood_max_z = {bad}\n"));
        let (code, text) = lightbox_rules(d);
        assert!(
            code == 2 && text.contains("rules.toml") && text.contains("ood_max_z"),
            "{bad}: {text}"
        );
    }
}

fn lightbox_rules(d: &Path) -> (i32, String) {
    let out = Command::cargo_bin("lightbox")
        .unwrap()
        .arg("check")
        .arg(d)
        .arg("--rules")
        .arg(d.join("rules.toml"))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout),
    )
}

/// A grey palette PNG was reported (and checked) as RGB.
#[test]
fn a_grey_palette_png_is_greyscale() {
    let t = mini_pack();
    let d = t.path();
    let mut bytes = Vec::new();
    {
        let mut e = png::Encoder::new(&mut bytes, 16, 12);
        e.set_color(png::ColorType::Indexed);
        e.set_depth(png::BitDepth::Eight);
        e.set_palette((0..=255u8).flat_map(|v| [v, v, v]).collect::<Vec<u8>>());
        e.write_header().unwrap().write_image_data(&[100u8; 16 * 12]).unwrap();
    }
    std::fs::write(d.join("images/a.png"), bytes).unwrap();
    let (code, text) = lightbox(&["info", "--json"], d);
    assert_eq!(code, 0, "{text}");
    assert!(!text.contains("RGB"), "{text}");
}

/// A crowd RLE whose size is transposed: pycocotools compares it with nothing (IoU -1), so AP
/// differs; lightbox refuses to call figures on such data pycocotools-identical.
#[test]
fn a_transposed_crowd_rle_stops_metrics() {
    let t = mini_pack();
    let d = t.path();
    write(
        d,
        "gt/instances.json",
        &GT.replace("\"size\": [12, 16]", "\"size\": [16, 12]"),
    );
    let (code, text) = lightbox(&["metrics"], d);
    assert!(
        code == 2 && text.contains("annotations[1].segmentation.size") && text.contains("--allow-problems"),
        "{text}"
    );
    let (code, text) = lightbox(&["metrics", "--allow-problems"], d);
    assert!(code != 2, "{text}");
    assert!(!text.contains("identical to pycocotools"), "{text}");
    assert!(text.contains("NOT what pycocotools computes"), "{text}");
}

/// A wrong-size mask: `check` said "lungs missing"; it is a file error.
#[test]
fn check_names_a_wrong_size_mask_as_a_file_error() {
    let t = mini_pack();
    let d = t.path();
    png_gray(&d.join("runs/m/masks/a.png"), 8, 8, false, 1);
    let (code, text) = lightbox(&["check"], d);
    assert!(
        code == 2 && text.contains("runs/m/masks/a.png") && text.contains("8×8"),
        "{text}"
    );
}

// Found by a hostile tester after the first round (issue 18).

/// A shortened ood.lock.json made `check` index past its end (a panic).
#[test]
fn a_damaged_ood_lock_is_an_error_not_a_panic() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("p");
    common::copy_dir(&common::sample(), &d);
    let lock = d.join("ood.lock.json");
    let mut v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&lock).unwrap()).unwrap();
    v["median"].as_array_mut().unwrap().pop();
    std::fs::write(&lock, v.to_string()).unwrap();
    let (code, text) = lightbox(&["check"], &d);
    assert!(
        code == 2 && text.contains("ood.lock.json") && text.contains("--refresh-lock"),
        "{text}"
    );
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("ood.lock.json")).unwrap()).unwrap();
    v["median"].as_array_mut().unwrap().push(serde_json::json!(1.0));
    v["mad"][0] = serde_json::json!(-2.0);
    std::fs::write(&lock, v.to_string()).unwrap();
    let (code, text) = lightbox(&["check"], &d);
    assert!(
        code == 2 && text.contains("ood.lock.json") && text.contains("above 0"),
        "{text}"
    );
}

/// 20,000 nested functions overflowed the stack; 5,000 took minutes.
#[test]
fn deeply_nested_regions_are_refused() {
    let t = mini_pack();
    let d = t.path();
    let deep = format!("{}lung{}", "hull(".repeat(20_000), ")".repeat(20_000));
    write(
        d,
        "rules.toml",
        &format!(
            "[regions]\nnear = \"{deep}\"\n\n[[rule]]\nid = \"r\"\nkind = \"containment\"\nseverity = \"major\"\nsubject = \"lesion\"\nregion = \"near\"\nmin_fraction = 0.5\n"
        ),
    );
    let (code, text) = lightbox_rules(d);
    assert!(
        code == 2 && text.contains("rules.toml") && text.contains("nested more than 32"),
        "{text}"
    );
    write(d, "rules.toml", "[regions]\nnear = \"dilate(lung, nanpx)\"\n");
    let (code, text) = lightbox_rules(d);
    assert!(
        code == 2 && text.contains("rules.toml") && text.contains("nanpx"),
        "{text}"
    );
    write(
        d,
        "rules.toml",
        "[[rule]]\nid = \"r\"\nkind = \"components\"\nseverity = \"major\"\nsubject = \"lung\"\nmin = 3\nmax = 1\n",
    );
    let (code, text) = lightbox_rules(d);
    assert!(code == 2 && text.contains("min = 3 is above max = 1"), "{text}");
}

/// `metrics` read a label mask's unknown value as background: Dice dropped, exit 0.
#[test]
fn metrics_stop_on_a_bad_label_mask() {
    let t = mini_pack();
    let d = t.path();
    png_gray(&d.join("runs/m/masks/a.png"), 16, 12, false, 7);
    let (code, text) = lightbox(&["metrics"], d);
    assert!(
        code == 2 && text.contains("runs/m/masks/a.png") && text.contains("value 7"),
        "{text}"
    );
}

bad!(
    ground_truth_label_neither_zero_nor_one,
    |d| {
        write(d, "gt/labels.csv", "image,lesion\na.png,0.5\nb.png,0\n");
    },
    ["gt/labels.csv", "a.png.lesion", "label is 0 (absent) or 1 (present)"]
);
warns!(
    a_case_without_a_score_row,
    |d| {
        write(d, "gt/labels.csv", "image,lesion\na.png,1\n");
    },
    ["warning", "gt/labels.csv", "1 of 2 cases have no scores", "b.png"]
);
warns!(
    a_yolo_box_outside_the_image,
    |d| {
        write(
            d,
            "lightbox.toml",
            &MANIFEST.replace("[runs.m]", "[runs.y]\nyolo = \"runs/y\"\n\n[runs.m]"),
        );
        write(d, "runs/y/classes.txt", "lung\nlesion\n");
        write(d, "runs/y/a.txt", "1 1.5 1.5 0.2 0.2 0.8\n");
    },
    ["warning", "runs/y/a.txt", "box 1", "entirely outside the image"]
);
bad!(
    rules_file_that_does_not_exist,
    |d| {
        write(
            d,
            "lightbox.toml",
            &MANIFEST.replace("images = \"images\"\n", "images = \"images\"\nrules = \"nope.toml\"\n"),
        );
    },
    ["lightbox.toml", "rules", "nope.toml does not exist"]
);
