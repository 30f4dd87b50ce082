//! `lightbox infer` with ONNX Runtime loaded at run time: a real published model (PaddleOCR's
//! DBNet text detector, `../shared/data/onnx`) end to end, equal to the reference output of the
//! Python pipeline; and every kind of mismatch between model, card and runtime named clearly.
//! ONNX Runtime comes from the `onnxruntime` wheel that scripts/test.sh installs into .venv.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data")
}

fn runtime_found() -> bool {
    let ok = lightbox::infer::runtime::find(None).is_ok();
    if !ok {
        eprintln!("skipped: no ONNX Runtime (scripts/test.sh installs the onnxruntime wheel into .venv)");
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
    let model = shared().join("onnx/rapidocr/ch_PP-OCRv4_det_infer.onnx");
    if !model.exists() || !runtime_found() {
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
