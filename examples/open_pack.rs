//! Times opening a pack (`Pack::open`): manifest, ground truth and every run, converted into
//! lightbox's types. Used by `bench/open_pack.sh` for the side-by-side with pycocotools.
//!
//! Usage: cargo run --release --example open_pack -- PACK [REPEATS]
// examples: a failed unwrap is a failed run, not a crash in a user's hands
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lightbox::pack::Pack;
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: open_pack PACK [REPEATS]");
        std::process::exit(2);
    };
    let repeats: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(3);
    let mut best = f64::INFINITY;
    for _ in 0..repeats {
        let t = Instant::now();
        let pack = match Pack::open(std::path::Path::new(&path)) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(2);
            }
        };
        let secs = t.elapsed().as_secs_f64();
        best = best.min(secs);
        let preds: usize = pack
            .runs
            .iter()
            .flat_map(|r| &r.annotations)
            .map(|a| a.instances.len())
            .sum();
        eprintln!(
            "opened {} cases, {} predictions in {:.3} s",
            pack.cases.len(),
            preds,
            secs
        );
        drop(pack);
    }
    println!("{best:.4}");
}
