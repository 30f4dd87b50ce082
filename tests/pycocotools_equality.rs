//! lightbox's geometry against vectors written by pycocotools itself
//! (`scripts/pycocotools_vectors.py`). The committed copy in `tests/vectors/` runs everywhere;
//! `scripts/test.sh` regenerates the vectors with pycocotools from PyPI and points
//! `LIGHTBOX_PYCOCOTOOLS_VECTORS` at them, so CI checks against a live pycocotools.
// tests: a failed unwrap is a failed run, not a crash in a user's hands
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lightbox::geometry::{BBox, BinaryMask, Rle, bbox, polygon, rle};
use serde_json::Value;

fn vectors() -> Value {
    let path = std::env::var("LIGHTBOX_PYCOCOTOOLS_VECTORS")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/pycocotools.json").to_string());
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    serde_json::from_str(&text).expect("vectors are JSON")
}

fn u32_of(v: &Value) -> u32 {
    v.as_u64().expect("integer") as u32
}

fn bbox_of(v: &Value) -> [f64; 4] {
    let a: Vec<f64> = v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
    [a[0], a[1], a[2], a[3]]
}

fn rle_of(v: &Value, h: u32, w: u32) -> Rle {
    Rle::from_compressed(v.as_str().unwrap(), h, w).expect("pycocotools strings decode")
}

#[test]
fn encode_area_bbox_and_decode_match_pycocotools() {
    let v = vectors();
    let cases = v["encode"].as_array().unwrap();
    assert!(cases.len() >= 100);
    for (i, c) in cases.iter().enumerate() {
        let (h, w) = (u32_of(&c["h"]), u32_of(&c["w"]));
        let bits: Vec<u8> = c["mask"].as_str().unwrap().bytes().map(|b| b - b'0').collect();
        let mask = BinaryMask::from_row_major(w, h, bits).unwrap();
        let r = Rle::encode(&mask);
        assert_eq!(r.to_compressed(), c["counts"].as_str().unwrap(), "encode case {i}");
        assert_eq!(r.area(), u32_of(&c["area"]), "area case {i}");
        assert_eq!(r.to_bbox().to_array(), bbox_of(&c["bbox"]), "bbox case {i}");
        assert_eq!(rle_of(&c["counts"], h, w).decode(), mask, "decode case {i}");
        assert_eq!(mask.area(), r.area() as u64);
    }
}

#[test]
fn polygon_rasterisation_matches_pycocotools() {
    let v = vectors();
    for (i, c) in v["polygons"].as_array().unwrap().iter().enumerate() {
        let (h, w) = (u32_of(&c["h"]), u32_of(&c["w"]));
        let parts: Vec<Vec<f64>> = c["parts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect())
            .collect();
        for (p, expect) in parts.iter().zip(c["part_counts"].as_array().unwrap()) {
            assert_eq!(
                polygon::rasterize(p, h, w).to_compressed(),
                expect.as_str().unwrap(),
                "polygon {i} part"
            );
        }
        let merged = polygon::rasterize_parts(&parts, h, w);
        assert_eq!(merged.to_compressed(), c["counts"].as_str().unwrap(), "polygon {i}");
        assert_eq!(merged.area(), u32_of(&c["area"]), "polygon {i} area");
        assert_eq!(merged.to_bbox().to_array(), bbox_of(&c["bbox"]), "polygon {i} bbox");
    }
}

#[test]
fn box_rasterisation_matches_pycocotools() {
    let v = vectors();
    for (i, c) in v["frbbox"].as_array().unwrap().iter().enumerate() {
        let (h, w) = (u32_of(&c["h"]), u32_of(&c["w"]));
        let b = bbox_of(&c["bbox"]);
        let r = Rle::from_bbox(&BBox::new(b[0], b[1], b[2], b[3]), h, w);
        assert_eq!(r.to_compressed(), c["counts"].as_str().unwrap(), "frBbox {i}");
        assert_eq!(r.area(), u32_of(&c["area"]));
    }
}

#[test]
fn uncompressed_rle_compresses_and_boxes_like_pycocotools() {
    let v = vectors();
    for (i, c) in v["uncompressed"].as_array().unwrap().iter().enumerate() {
        let (h, w) = (u32_of(&c["h"]), u32_of(&c["w"]));
        let counts: Vec<u32> = c["uncompressed"].as_array().unwrap().iter().map(u32_of).collect();
        let r = Rle { h, w, counts };
        assert_eq!(r.to_compressed(), c["counts"].as_str().unwrap(), "uncompressed {i}");
        assert_eq!(r.area(), u32_of(&c["area"]), "uncompressed {i} area");
        assert_eq!(r.to_bbox().to_array(), bbox_of(&c["bbox"]), "uncompressed {i} bbox");
        assert_eq!(rle_of(&c["counts"], h, w), r, "string round trip {i}");
    }
}

#[test]
fn rle_and_box_ious_match_pycocotools() {
    let v = vectors();
    for (i, c) in v["rle_iou"].as_array().unwrap().iter().enumerate() {
        let (h, w) = (u32_of(&c["h"]), u32_of(&c["w"]));
        let dt: Vec<Rle> = c["dt"].as_array().unwrap().iter().map(|s| rle_of(s, h, w)).collect();
        let gt: Vec<Rle> = c["gt"].as_array().unwrap().iter().map(|s| rle_of(s, h, w)).collect();
        let crowd: Vec<bool> = c["iscrowd"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64() == Some(1))
            .collect();
        let got = rle::iou_matrix(&dt, &gt, &crowd);
        let want: Vec<Vec<f64>> = serde_json::from_value(c["iou"].clone()).unwrap();
        assert_eq!(got, want, "rle iou {i}");
    }
    for (i, c) in v["bbox_iou"].as_array().unwrap().iter().enumerate() {
        let boxes = |k: &str| -> Vec<BBox> {
            c[k].as_array()
                .unwrap()
                .iter()
                .map(|b| {
                    let b = bbox_of(b);
                    BBox::new(b[0], b[1], b[2], b[3])
                })
                .collect()
        };
        let crowd: Vec<bool> = c["iscrowd"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64() == Some(1))
            .collect();
        let got = bbox::iou_matrix(&boxes("dt"), &boxes("gt"), &crowd);
        let want: Vec<Vec<f64>> = serde_json::from_value(c["iou"].clone()).unwrap();
        assert_eq!(got, want, "bbox iou {i}");
    }
}

#[test]
fn merges_match_pycocotools() {
    let v = vectors();
    for (i, c) in v["merge"].as_array().unwrap().iter().enumerate() {
        let (h, w) = (u32_of(&c["h"]), u32_of(&c["w"]));
        let rles: Vec<Rle> = c["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| rle_of(s, h, w))
            .collect();
        let r = Rle::merge(&rles, c["intersect"].as_bool().unwrap());
        assert_eq!(r.to_compressed(), c["counts"].as_str().unwrap(), "merge {i}");
        assert_eq!(r.area(), u32_of(&c["area"]), "merge {i} area");
    }
}
