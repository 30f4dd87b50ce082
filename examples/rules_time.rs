//! Times evaluating a pack's anatomy rules on the ground truth and every run, N times (for
//! profiling: `perf record target/release/examples/rules_time PACK 20`).

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
}
