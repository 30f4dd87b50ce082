//! Times a COCO evaluation end to end: reading the ground truth and results JSON, matching,
//! accumulating and summarising (what `pycocotools` does in `COCO()`, `loadRes()`, `evaluate()`,
//! `accumulate()`, `summarize()`). Used by `bench/coco_eval.sh` for the side-by-side with
//! pycocotools and faster-coco-eval.
//!
//! Usage: cargo run --release --example coco_eval -- GT.json RESULTS.json bbox|segm [REPEATS]
//! Prints `{"seconds": best, "load": s, "eval": s, "stats": [...]}` on stdout.
// examples: a failed unwrap is a failed run, not a crash in a user's hands
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lightbox::metrics::coco_eval::{self, IouType, Params};
use lightbox::pack::Pack;
use lightbox::pack::flags::FlagSources;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        eprintln!("usage: coco_eval GT.json RESULTS.json bbox|segm [REPEATS]");
        std::process::exit(2);
    }
    let iou_type: IouType = args[2].parse().unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    });
    let repeats: usize = args.get(3).and_then(|r| r.parse().ok()).unwrap_or(3);
    let flags = FlagSources {
        ground_truth: vec![format!("coco:{}", args[0])],
        runs: vec![format!("dt=coco:{}", args[1])],
        ..Default::default()
    };
    let manifest = flags.to_manifest().unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    });
    let (mut best, mut best_load, mut best_eval) = (f64::INFINITY, 0.0, 0.0);
    let mut stats = Vec::new();
    for _ in 0..repeats {
        let t = Instant::now();
        let pack = Pack::from_manifest(manifest.clone());
        let load = t.elapsed().as_secs_f64();
        let e = coco_eval::evaluate_pack(&pack, 0, &Params::new(iou_type)).unwrap_or_else(|e| {
            eprintln!("{e}");
            std::process::exit(2)
        });
        let total = t.elapsed().as_secs_f64();
        eprintln!("load {load:.3} s, evaluate {:.3} s", total - load);
        if total < best {
            (best, best_load, best_eval) = (total, load, total - load);
        }
        stats = e.stats.clone();
        drop(pack);
    }
    println!(
        "{}",
        serde_json::json!({"seconds": best, "load": best_load, "eval": best_eval, "stats": stats})
    );
}
