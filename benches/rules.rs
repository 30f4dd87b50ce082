//! `cargo bench --bench rules`: evaluating the sample pack's 14 anatomy rules on the ground truth
//! and both runs (40 cases × 3 sources, label masks decoded per case), and the
//! out-of-distribution statistics of its 40 images.
// benchmarks: a failed unwrap is a failed run, not a crash in a user's hands
#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use lightbox::pack::Pack;
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

fn rules(c: &mut Criterion) {
    let pack = Pack::open(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/samples/chest-phantom"))).unwrap();
    let rules = lightbox::check::load_rules(&pack, None).unwrap().unwrap();
    let sources = lightbox::rules::eval::all_sources(&pack);
    let mut g = c.benchmark_group("rules");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    g.bench_function("sample_14_rules_40_cases_3_sources", |b| {
        b.iter(|| black_box(lightbox::rules::evaluate(&pack, &rules, &sources)))
    });
    g.bench_function("sample_ood_stats_40_images", |b| {
        b.iter(|| black_box(lightbox::ood::pack_stats(&pack)))
    });
    g.finish();
}

criterion_group!(benches, rules);
criterion_main!(benches);
