//! lightbox's COCO evaluation against pycocotools' COCOeval itself, on generated datasets that
//! cover crowds, ignored ground truth, score ties, images without ground truth or detections,
//! categories without ground truth, more than 100 detections per image, area-range boundaries,
//! polygons and RLE (`scripts/cocoeval_vectors.py`). Every figure must be identical: the 12
//! stats, per-class AP, the full precision / recall / scores arrays and the per-image matches.
//!
//! The committed copy in `tests/vectors/` runs everywhere; `scripts/test.sh` regenerates it with
//! pycocotools from PyPI and points `LIGHTBOX_COCOEVAL_VECTORS` at the fresh file.
// tests: a failed unwrap is a failed run, not a crash in a user's hands
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lightbox::metrics::coco_eval::{self, IouType, Params};
use lightbox::pack::Pack;
use lightbox::pack::flags::FlagSources;
use serde_json::Value;
use std::collections::HashMap;

fn vectors() -> Value {
    let path = std::env::var("LIGHTBOX_COCOEVAL_VECTORS")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/cocoeval.json").to_string());
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    serde_json::from_str(&text).expect("vectors are JSON")
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

fn unrle(v: &Value) -> Vec<f64> {
    let mut out = Vec::new();
    for pair in v.as_array().unwrap() {
        let x = pair[0].as_f64().unwrap();
        out.extend(std::iter::repeat_n(x, pair[1].as_u64().unwrap() as usize));
    }
    out
}

fn open(dir: &std::path::Path, ds: &Value) -> Pack {
    std::fs::write(dir.join("gt.json"), serde_json::to_vec(&ds["gt"]).unwrap()).unwrap();
    std::fs::write(dir.join("results.json"), serde_json::to_vec(&ds["results"]).unwrap()).unwrap();
    let flags = FlagSources {
        ground_truth: vec![format!("coco:{}", dir.join("gt.json").display())],
        runs: vec![format!("dt=coco:{}", dir.join("results.json").display())],
        ..Default::default()
    };
    let pack = Pack::from_manifest(flags.to_manifest().unwrap());
    let errors: Vec<_> = pack.errors().map(|p| p.to_string()).collect();
    // results in a category the ground truth does not list are dropped, as pycocotools drops them
    assert!(
        errors.iter().all(|e| e.contains("category_id")),
        "{}: unexpected problems {errors:?}",
        ds["name"]
    );
    pack
}

/// `a` equals `b` bit for bit, with the first difference named.
fn same(what: &str, a: &[f64], b: &[f64]) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            x.to_bits() == y.to_bits(),
            "{what}[{i}]: lightbox {x:?}, pycocotools {y:?}"
        );
    }
}

#[test]
fn coco_evaluation_is_identical_to_pycocotools() {
    let v = vectors();
    let datasets = v["datasets"].as_array().unwrap();
    assert!(datasets.len() >= 5);
    let mut evals = 0;
    for ds in datasets {
        let name = ds["name"].as_str().unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let pack = open(tmp.path(), ds);
        let case_of_image: HashMap<i64, usize> = pack
            .cases
            .iter()
            .enumerate()
            .map(|(i, c)| match &c.coco_id {
                Some(lightbox::formats::coco::CocoId::Int(id)) => (*id, i),
                other => panic!("{name}: image id {other:?}"),
            })
            .collect();
        for ex in ds["evals"].as_array().unwrap() {
            let iou_type: IouType = ex["iou_type"].as_str().unwrap().parse().unwrap();
            let mut p = Params::new(iou_type);
            p.iou_thrs = floats(&ex["iou_thrs"]);
            p.max_dets = ex["max_dets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m.as_u64().unwrap() as usize)
                .collect();
            let what = format!("{name} {iou_type:?} iou={:?} maxDets={:?}", p.iou_thrs, p.max_dets);
            let e = coco_eval::evaluate_pack(&pack, 0, &p).unwrap();
            same(&format!("{what} stats"), &e.stats, &floats(&ex["stats"]));
            same(&format!("{what} precision"), &e.precision, &unrle(&ex["precision"]));
            same(&format!("{what} scores"), &e.scores, &unrle(&ex["scores"]));
            same(&format!("{what} recall"), &e.recall, &floats(&ex["recall"]));
            for (k, ap) in ex["per_class_ap"].as_array().unwrap().iter().enumerate() {
                assert_eq!(e.class_ap(k), ap.as_f64(), "{what} AP of category #{k}");
            }
            check_matches(&what, &pack, &e, ex, &case_of_image);
            evals += 1;
        }
    }
    assert!(evals >= 9);
}

/// Every non-empty evalImgs entry of pycocotools, compared with lightbox's per-image matches.
fn check_matches(what: &str, pack: &Pack, e: &coco_eval::CocoEval, ex: &Value, case_of_image: &HashMap<i64, usize>) {
    let pos_of_case: HashMap<usize, usize> = e.images.iter().enumerate().map(|(i, im)| (im.case, i)).collect();
    let mut seen = 0;
    for ei in ex["eval_imgs"].as_array().unwrap() {
        let image = ei["image_id"].as_i64().unwrap();
        let case = case_of_image[&image];
        let cat = ei["category_id"].as_i64().unwrap() as u32;
        let k = e.categories.iter().position(|c| c.0 == cat).unwrap();
        let a = e
            .params
            .area_rngs
            .iter()
            .position(|r| r.lo == ei["area"][0].as_f64().unwrap() && r.hi == ei["area"][1].as_f64().unwrap())
            .unwrap();
        let im = &e.images[pos_of_case[&case]];
        let ic = im
            .categories
            .iter()
            .find(|c| c.category as usize == k)
            .unwrap_or_else(|| panic!("{what}: image {image} category {cat} missing"));
        let gt = &pack.ground_truth[case].instances;
        let dt = &pack.runs[0].annotations[case].instances;
        let at = format!("{what}: image {image} category {cat} area #{a}");
        let dt_ids: Vec<i64> = ic.dt.iter().map(|&d| dt[d as usize].id).collect();
        let want_dt: Vec<i64> = ei["dtIds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_i64().unwrap())
            .collect();
        assert_eq!(dt_ids, want_dt, "{at}: detections in score order");
        let am = &ic.areas[a];
        let gt_ids: Vec<i64> = am.gt_order.iter().map(|&g| gt[ic.gt[g as usize] as usize].id).collect();
        let want_gt: Vec<i64> = ei["gtIds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_i64().unwrap())
            .collect();
        assert_eq!(gt_ids, want_gt, "{at}: ground truth in matching order");
        let gt_ig: Vec<i64> = am.gt_ignore.iter().map(|&b| b as i64).collect();
        let want: Vec<i64> = ei["gtIgnore"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_i64().unwrap())
            .collect();
        assert_eq!(gt_ig, want, "{at}: gtIgnore");
        for (t, row) in ei["dtMatches"].as_array().unwrap().iter().enumerate() {
            let bit = 1u64 << t;
            for (d, m) in row.as_array().unwrap().iter().enumerate() {
                let m = m.as_i64().unwrap();
                assert_eq!(am.dt_matched[d] & bit != 0, m != 0, "{at}: dtMatches[{t}][{d}]");
                if a == 0 {
                    let ours = ic.matched_gt(t, d).map(|g| gt[ic.gt[g] as usize].id);
                    if m != 0 {
                        assert_eq!(ours, Some(m), "{at}: dtMatches[{t}][{d}] ground truth");
                    }
                }
                let ig = ei["dtIgnore"][t][d].as_i64().unwrap();
                assert_eq!(am.dt_ignore[d] & bit != 0, ig != 0, "{at}: dtIgnore[{t}][{d}]");
            }
            for (g, m) in ei["gtMatches"][t].as_array().unwrap().iter().enumerate() {
                assert_eq!(
                    am.gt_matched[g] & bit != 0,
                    m.as_i64().unwrap() != 0,
                    "{at}: gtMatches[{t}][{g}]"
                );
            }
        }
        seen += 1;
    }
    // and nothing evaluated that pycocotools did not
    let ours: usize = e.images.iter().map(|im| im.categories.len()).sum::<usize>() * e.params.area_rngs.len();
    assert_eq!(
        ours, seen,
        "{what}: number of evaluated (image, category, area) entries"
    );
}
