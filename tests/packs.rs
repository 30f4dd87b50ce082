//! Packs end to end through the real binary: the bundled sample, the flag form on a COCO file,
//! `init`, every reader (COCO instances and results, RLE, PNG label masks, probability maps,
//! YOLO, class scores, 8/16-bit PNG, JPEG and TIFF images), and real public data when
//! `../shared/data` is present.
// tests: a failed unwrap is a failed run, not a crash in a user's hands
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use assert_cmd::Command;
use lightbox::pack::{Pack, ProbabilitySource};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn lightbox() -> Command {
    Command::cargo_bin("lightbox").unwrap()
}

fn sample_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/chest-phantom")
}

fn info_json(args: &[&str]) -> (i32, Value) {
    let out = lightbox().arg("info").arg("--json").args(args).output().unwrap();
    let v =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap(), v)
}

#[test]
fn sample_pack_info_reports_cases_depths_classes_and_runs() {
    let (code, v) = info_json(&[sample_dir().to_str().unwrap()]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["cases"], 40);
    assert_eq!(v["pixel_formats"]["gray 16-bit"], 8);
    assert_eq!(v["pixel_formats"]["gray 8-bit"], 32);
    assert_eq!(v["errors"], 0);
    let classes: Vec<&str> = v["classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(classes, ["right_lung", "left_lung", "heart", "opacity"]);
    // 38 chest phantoms have lungs in their masks; the bottle and the knee have none
    assert_eq!(v["classes"][0]["gt_mask_cases"], 38);
    let runs: Vec<&str> = v["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(runs, ["baseline", "candidate"]);
    assert_eq!(v["runs"][1]["label_masks"], 40);
    assert!(v["runs"][1]["instance_masks"].as_u64().unwrap() > 0);
}

#[test]
fn sample_table_is_readable() {
    let out = lightbox().arg("info").arg(sample_dir()).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("chest-phantom 1.0.0\n"), "{text}");
    assert!(text.contains("gray 8-bit (32), gray 16-bit (8)"), "{text}");
    assert!(text.contains("problems: 0 errors, 0 warnings"), "{text}");
}

#[test]
fn committed_sample_is_exactly_what_the_generator_writes() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("chest-phantom");
    lightbox().arg("sample").arg(&out).assert().success();
    let mut files = lightbox::pack::paths::walk_files(&out).unwrap();
    files.sort();
    assert!(files.len() > 100);
    for f in files {
        let rel = f.strip_prefix(&out).unwrap();
        let committed =
            std::fs::read(sample_dir().join(rel)).unwrap_or_else(|_| panic!("{} is not committed", rel.display()));
        assert!(
            committed == std::fs::read(&f).unwrap(),
            "{} differs from the generator's output: run `lightbox sample`",
            rel.display()
        );
    }
}

#[test]
fn planted_cases_are_recorded() {
    let text = std::fs::read_to_string(sample_dir().join("planted.toml")).unwrap();
    let planted: lightbox::sample::chest::PlantedFile = toml::from_str(&text).unwrap();
    let kinds: Vec<&str> = planted.planted.iter().map(|p| p.kind.as_str()).collect();
    for k in [
        "finding_outside_region",
        "fragmented_region",
        "wrong_side",
        "hole_in_region",
        "out_of_distribution",
    ] {
        assert!(kinds.contains(&k), "{k} missing from planted.toml");
    }
    let pack = Pack::open(&sample_dir()).unwrap();
    for p in &planted.planted {
        assert!(pack.cases.iter().any(|c| c.id.0 == p.case), "{} is not a case", p.case);
    }
    // the planted abdominal opacity is in the candidate's results, below both lungs
    let c7 = pack.cases.iter().position(|c| c.id.0 == "case-007.jpg").unwrap();
    let cand = pack.run("candidate").unwrap();
    assert!(
        cand.annotations[c7]
            .instances
            .iter()
            .any(|i| i.score == Some(0.91) && i.bbox.y >= 400.0)
    );
}

/// A small COCO dataset: images in a folder, instances and results JSON beside it.
fn coco_dataset(dir: &Path) {
    std::fs::create_dir_all(dir.join("imgs")).unwrap();
    image::RgbImage::from_pixel(40, 30, image::Rgb([10, 20, 30]))
        .save(dir.join("imgs/x.jpg"))
        .unwrap();
    image::GrayImage::from_pixel(40, 30, image::Luma([7]))
        .save(dir.join("imgs/y.png"))
        .unwrap();
    std::fs::write(
        dir.join("instances.json"),
        r#"{"images": [{"id": 5, "file_name": "x.jpg", "width": 40, "height": 30}, {"id": 6, "file_name": "y.png", "width": 40, "height": 30}],
            "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}],
            "annotations": [{"id": 1, "image_id": 5, "category_id": 1, "bbox": [1, 1, 10, 10], "area": 100, "iscrowd": 0, "segmentation": [[1, 1, 11, 1, 11, 11, 1, 11]]},
                            {"id": 2, "image_id": 6, "category_id": 2, "bbox": [0, 0, 5, 5], "area": 25, "iscrowd": 0}]}"#,
    )
    .unwrap();
    // a 5×5 block at the top-left corner, as a compressed RLE
    let rle = lightbox::geometry::Rle {
        h: 30,
        w: 40,
        counts: vec![0, 5, 25, 5, 25, 5, 25, 5, 25, 5, 1075],
    };
    let results = format!(
        r#"[{{"image_id": 5, "category_id": 1, "bbox": [2, 2, 9, 9], "score": 0.8}},
            {{"image_id": 6, "category_id": 2, "segmentation": {{"size": [30, 40], "counts": "{}"}}, "score": 0.3}}]"#,
        rle.to_compressed()
    );
    std::fs::write(dir.join("results.json"), results).unwrap();
}

#[test]
fn flag_form_reads_a_coco_file_without_a_manifest() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    coco_dataset(d);
    let images = d.join("imgs");
    let (code, v) = info_json(&[
        "--images",
        images.to_str().unwrap(),
        "--gt",
        d.join("instances.json").to_str().unwrap(),
        "--run",
        &format!("model={}", d.join("results.json").display()),
    ]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["cases"], 2);
    assert_eq!(v["classes"][0]["name"], "cat");
    assert_eq!(v["classes"][0]["gt_instances"], 1);
    assert_eq!(v["runs"][0]["instances"], 2);
    assert_eq!(v["runs"][0]["instance_masks"], 1);
    assert_eq!(v["pixel_formats"]["RGB 8-bit"], 1);
}

#[test]
fn init_writes_the_manifest_the_flags_imply() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    coco_dataset(d);
    lightbox()
        .current_dir(d)
        .args([
            "init",
            "--images",
            "imgs",
            "--gt",
            "instances.json",
            "--run",
            "model=results.json",
            "--name",
            "pets",
        ])
        .assert()
        .success();
    let text = std::fs::read_to_string(d.join("lightbox.toml")).unwrap();
    assert!(
        text.contains("name = \"pets\"") && text.contains("[runs.model]"),
        "{text}"
    );
    let (code, from_manifest) = info_json(&[d.to_str().unwrap()]);
    assert_eq!(code, 0);
    let (_, from_flags) = lightbox_flags(d);
    for k in ["cases", "classes", "ground_truth", "runs", "sizes"] {
        assert_eq!(from_manifest[k], from_flags[k], "{k}");
    }
    // a second init does not overwrite without --force
    lightbox()
        .current_dir(d)
        .args(["init", "--images", "imgs"])
        .assert()
        .code(2);
}

fn lightbox_flags(d: &Path) -> (i32, Value) {
    let out = lightbox()
        .current_dir(d)
        .args([
            "info",
            "--json",
            "--images",
            "imgs",
            "--gt",
            "instances.json",
            "--run",
            "model=results.json",
        ])
        .output()
        .unwrap();
    (out.status.code().unwrap(), serde_json::from_slice(&out.stdout).unwrap())
}

#[test]
fn init_refuses_files_outside_the_pack() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    coco_dataset(d);
    std::fs::create_dir(d.join("pack")).unwrap();
    let out = lightbox()
        .current_dir(d.join("pack"))
        .args(["init", "--images", "../imgs", "--gt", "../instances.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("outside"));
}

#[test]
fn every_reader_attaches_to_its_case() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    std::fs::create_dir_all(d.join("images/sub")).unwrap();
    // 16-bit TIFF, 8-bit PNG in a subfolder
    image::ImageBuffer::<image::Luma<u16>, Vec<u16>>::from_pixel(20, 10, image::Luma([4000]))
        .save(d.join("images/t.tif"))
        .unwrap();
    image::GrayImage::from_pixel(20, 10, image::Luma([9]))
        .save(d.join("images/sub/p.png"))
        .unwrap();
    for dir in ["gt/yolo", "gt/masks/sub", "run/yolo", "run/prob/sub"] {
        std::fs::create_dir_all(d.join(dir)).unwrap();
    }
    std::fs::write(d.join("gt/yolo/t.txt"), "0 0.5 0.5 0.5 0.4\n").unwrap();
    std::fs::write(d.join("gt/yolo/classes.txt"), "nodule\n").unwrap();
    std::fs::write(d.join("run/yolo/t.txt"), "0 0.25 0.5 0.1 0.2 0.77\n").unwrap();
    // 16-bit label mask with a large value
    image::ImageBuffer::<image::Luma<u16>, Vec<u16>>::from_pixel(20, 10, image::Luma([300]))
        .save(d.join("gt/masks/sub/p.png"))
        .unwrap();
    lightbox::formats::npy::write_f32(&d.join("run/prob/t.npy"), &[2, 10, 20], &vec![0.5; 400]).unwrap();
    image::ImageBuffer::<image::Luma<u16>, Vec<u16>>::from_pixel(20, 10, image::Luma([65535]))
        .save(d.join("run/prob/sub/p.organ.png"))
        .unwrap();
    std::fs::write(
        d.join("run/scores.json"),
        r#"[{"image": "sub/p.png", "scores": {"nodule": 0.25, "organ": 0.9}}]"#,
    )
    .unwrap();
    std::fs::write(
        d.join("lightbox.toml"),
        r#"name = "readers"
[[classes]]
id = 1
name = "nodule"
[[classes]]
id = 2
name = "organ"
kind = "region"
mask_value = 300
[ground_truth]
yolo = "gt/yolo"
masks = "gt/masks"
[runs.r]
yolo = "run/yolo"
yolo_classes = ["nodule"]
probabilities = "run/prob"
scores = "run/scores.json"
"#,
    )
    .unwrap();
    let pack = Pack::open(d).unwrap();
    // the TIFF has no ground-truth mask: said once, on its case, as a warning; and no score
    // (said once for the scores file)
    assert_eq!(pack.problems.len(), 2, "{:?}", pack.problems);
    assert!(
        pack.problems[1]
            .message
            .contains("1 of 2 cases have no scores here (the first: t.tif)")
    );
    assert_eq!((pack.problems[0].case, pack.problems[0].is_error()), (Some(1), false));
    assert!(pack.problems[0].message.contains("no ground truth mask"));
    let ids: Vec<&str> = pack.cases.iter().map(|c| c.id.0.as_str()).collect();
    assert_eq!(ids, ["sub/p.png", "t.tif"]);
    let (p, t) = (0, 1);
    // YOLO boxes are placed with the size read from the TIFF header
    let b = pack.ground_truth[t].instances[0].bbox;
    assert_eq!(b.to_array(), [5.0, 3.0, 10.0, 4.0]);
    assert_eq!(pack.runs[0].annotations[t].instances[0].score, Some(0.77));
    assert!(pack.ground_truth[p].label_mask.is_some());
    assert!(matches!(
        pack.runs[0].annotations[t].probabilities[..],
        [ProbabilitySource::AllClasses { .. }]
    ));
    assert!(matches!(
        pack.runs[0].annotations[p].probabilities[..],
        [ProbabilitySource::Class { .. }]
    ));
    assert_eq!(pack.runs[0].annotations[p].scores.len(), 2);
    let v = lightbox::pack::validate::validate(&pack);
    assert!(v.problems.is_empty(), "{:?}", v.problems);
    assert_eq!(v.headers[t].unwrap().format.bit_depth, 16);
    assert_eq!(v.mask_cases.get(&(None, lightbox::pack::ClassId(2))), Some(&1));
    // 16-bit pixels stay 16-bit in memory
    let img = lightbox::formats::image::decode(&pack.cases[t].image).unwrap();
    assert_eq!((img.bit_depth(), img.value(3, 3)), (16, 4000));
}

#[test]
fn instance_masks_convert_as_pycocotools_does() {
    let t = tempfile::tempdir().unwrap();
    coco_dataset(t.path());
    let m = lightbox::pack::flags::FlagSources {
        images: Some(t.path().join("imgs")),
        ground_truth: vec![t.path().join("instances.json").display().to_string()],
        runs: vec![format!("m={}", t.path().join("results.json").display())],
        ..Default::default()
    }
    .to_manifest()
    .unwrap();
    let pack = Pack::from_manifest(m);
    assert!(pack.problems.is_empty(), "{:?}", pack.problems);
    // polygon [1,1 .. 11,11] rasterises to 10×10 pixels, exactly as pycocotools
    let gt = &pack.ground_truth[0].instances[0];
    assert_eq!(gt.segmentation.as_ref().unwrap().to_rle(30, 40).area(), 100);
    assert_eq!(gt.area, 100.0);
    // box results: area = w*h; mask-only results: mask area, bbox from the RLE (pycocotools loadRes)
    let run = &pack.runs[0];
    assert_eq!(run.annotations[0].instances[0].area, 81.0);
    assert_eq!(run.annotations[0].instances[0].id, 1);
    let m = &run.annotations[1].instances[0];
    assert_eq!(m.id, 2);
    assert_eq!(m.area, 25.0);
    assert_eq!(m.bbox.to_array(), [0.0, 0.0, 5.0, 5.0]);
}

fn shared() -> Option<PathBuf> {
    common::shared_data()
}

#[test]
fn real_coco_polygons_from_labelme() {
    let Some(s) = shared() else { return };
    let d = s.join("coco_labelme_voc");
    let (code, v) = info_json(&[
        "--images",
        d.to_str().unwrap(),
        "--gt",
        d.join("annotations.json").to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["cases"], 3);
    let person = v["classes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "person")
        .unwrap();
    assert_eq!(person["gt_instances"], 6);
}

#[test]
fn real_aerial_coco_and_chest_masks_beside_their_images() {
    let Some(s) = shared() else { return };
    let d = s.join("coco_sahi_aerial");
    let (code, v) = info_json(&[
        "--images",
        d.to_str().unwrap(),
        "--gt",
        d.join("terrain1_coco.json").to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["sizes"]["2048×1365"], 1);
    let c = s.join("cxr_lung_masks_imlab");
    let pattern = format!("masks:{}/{{stem}}-mask.png", c.display());
    let (code, v) = info_json(&[
        "--images",
        c.to_str().unwrap(),
        "--gt",
        &pattern,
        "--class",
        "255=lung:region",
    ]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["cases"], 4, "masks beside the images are not cases");
    assert_eq!(v["classes"][0]["gt_mask_cases"], 4);
    // without the class, the 255-valued masks are reported, naming the mask file
    let (code, v) = info_json(&["--images", c.to_str().unwrap(), "--gt", &pattern]);
    assert_eq!(code, 2);
    assert!(v["problems"][0]["message"].as_str().unwrap().contains("value 255"));
}

#[test]
fn an_instances_file_as_a_run_is_matched_by_file_name() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    coco_dataset(d);
    // the run's own ids (70, 71) differ from the ground truth's (5, 6)
    std::fs::write(
        d.join("run.json"),
        r#"{"images": [{"id": 70, "file_name": "y.png", "width": 40, "height": 30}, {"id": 71, "file_name": "elsewhere.png", "width": 40, "height": 30}],
            "annotations": [{"image_id": 70, "category_id": 2, "bbox": [1, 1, 4, 4], "score": 0.6},
                            {"image_id": 71, "category_id": 2, "bbox": [1, 1, 4, 4], "score": 0.6}]}"#,
    )
    .unwrap();
    let m = lightbox::pack::flags::FlagSources {
        images: Some(d.join("imgs")),
        ground_truth: vec![d.join("instances.json").display().to_string()],
        runs: vec![format!("m=coco:{}", d.join("run.json").display())],
        ..Default::default()
    }
    .to_manifest()
    .unwrap();
    let pack = Pack::from_manifest(m);
    let y = pack.cases.iter().position(|c| c.id.0 == "y.png").unwrap();
    assert_eq!(pack.runs[0].annotations[y].instances.len(), 1);
    assert_eq!(pack.runs[0].annotations[y].instances[0].score, Some(0.6));
    let msgs: Vec<String> = pack.problems.iter().map(|p| p.to_string()).collect();
    assert!(
        msgs.iter()
            .any(|m| m.contains("images[1].file_name") && m.contains("elsewhere.png")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("annotations[1].image_id") && m.contains("71")),
        "{msgs:?}"
    );
}

/// The run a reviewer most likely wants: `[review] run`, else the newest run that is not the
/// `[review] baseline`, else the newest; a `[review] run` naming no run names the key.
#[test]
fn the_review_run_is_the_manifests_else_the_newest_that_is_not_the_baseline() {
    let d = tempfile::tempdir().unwrap();
    common::copy_dir(&sample_dir(), d.path());
    let manifest = d.path().join("lightbox.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let name = |p: &Pack| p.review_run().unwrap().map(|r| p.runs[r].name.0.clone());
    let pack = Pack::open(d.path()).unwrap();
    assert_eq!(name(&pack).as_deref(), Some("candidate"), "the newest");
    let with = |review: &str| {
        std::fs::write(&manifest, format!("{text}\n[review]\n{review}\n")).unwrap();
        Pack::open(d.path()).unwrap()
    };
    assert_eq!(name(&with("run = \"baseline\"")).as_deref(), Some("baseline"));
    assert_eq!(name(&with("baseline = \"candidate\"")).as_deref(), Some("baseline"));
    let e = with("run = \"retired\"").review_run().unwrap_err().to_string();
    assert!(
        e.contains("[review] run") && e.contains("\"retired\"") && e.contains("baseline, candidate"),
        "{e}"
    );
    // lightbox review says so and stops
    let out = lightbox()
        .args(["review", &d.path().display().to_string(), "--release", "v1", "--plan"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("[review] run"), "{err}");
    // without [review] run, the plan is of the newest run
    std::fs::write(&manifest, &text).unwrap();
    let out = lightbox()
        .args([
            "review",
            &d.path().display().to_string(),
            "--release",
            "v1",
            "--reviewer",
            "a",
            "--plan",
        ])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && said.contains("candidate"), "{said}");
}
