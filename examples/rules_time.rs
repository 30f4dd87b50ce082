//! Times evaluating a pack's anatomy rules on the ground truth and every run, N times (for
//! profiling: `perf record target/release/examples/rules_time PACK 20`).
// examples: a failed unwrap is a failed run, not a crash in a user's hands
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lightbox::pack::Pack;
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_else(|| "samples/chest-phantom".into());
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let pack = Pack::open(std::path::Path::new(&path)).expect("pack");
    let rules = lightbox::check::load_rules(&pack, None)
        .expect("rules")
        .expect("a rules file");
    let sources = lightbox::rules::eval::all_sources(&pack);
    let mut best = f64::INFINITY;
    for _ in 0..n {
        let t = Instant::now();
        let flags = lightbox::rules::evaluate(&pack, &rules, &sources);
        best = best.min(t.elapsed().as_secs_f64());
        std::hint::black_box(flags);
    }
    println!(
        "{} rules × {} cases × {} sources: best {:.1} ms ({:.2} ms per case-source)",
        rules.rules.len(),
        pack.cases.len(),
        sources.len(),
        best * 1e3,
        best * 1e3 / (pack.cases.len() * sources.len()) as f64
    );
    // the share of reading the label masks alone (decoding them into runs), same threads
    use rayon::prelude::*;
    let files: Vec<&std::path::Path> = (0..pack.cases.len())
        .flat_map(|c| sources.iter().map(move |&s| (c, s)))
        .filter_map(|(c, s)| pack.annotations(s, c).and_then(|a| a.label_mask.as_deref()))
        .collect();
    let mut read = f64::INFINITY;
    for _ in 0..n {
        let t = Instant::now();
        let n: usize = files
            .par_iter()
            .map(|p| {
                lightbox::formats::label_png::read_frame_runs(p, 0)
                    .map(|r| r.2.len())
                    .unwrap_or(0)
            })
            .sum();
        read = read.min(t.elapsed().as_secs_f64());
        std::hint::black_box(n);
    }
    println!(
        "of which reading {} label masks into runs: {:.1} ms; the rules themselves: {:.1} ms",
        files.len(),
        read * 1e3,
        (best - read) * 1e3
    );
}
