//! `cargo bench`: opening a generated pack of 10,000 cases with 1,000,000 predictions, and the
//! pieces that dominate it (results JSON parsing). bench/open_pack.sh runs the side-by-side
//! comparison with pycocotools.
// benchmarks: a failed unwrap is a failed run, not a crash in a user's hands
#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use lightbox::pack::Pack;
use std::hint::black_box;
use std::time::Duration;

fn open_pack(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("lightbox-bench-pack-{}", env!("CARGO_PKG_VERSION")));
    if !dir.join("results.json").exists() {
        lightbox::sample::bench_pack::write(&dir, 10_000, 1_000_000, 7).expect("writing the benchmark pack");
    }
    let mut g = c.benchmark_group("open_pack");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("10k_cases_1M_predictions", |b| {
        b.iter(|| {
            let p = Pack::open(&dir).expect("bench pack opens");
            assert_eq!(p.cases.len(), 10_000);
            black_box(p)
        })
    });
    let bytes = std::fs::read(dir.join("results.json")).unwrap();
    g.bench_function("parse_1M_results_json", |b| {
        b.iter(|| {
            let mut n = 0usize;
            lightbox::formats::coco::parse_run_file(&bytes, |_, a| n += black_box(a).category_id as usize).unwrap();
            black_box(n)
        })
    });
    g.finish();
}

fn geometry(c: &mut Criterion) {
    use lightbox::geometry::{BinaryMask, Rle, polygon};
    let mut m = BinaryMask::new(512, 512);
    for y in 100..400 {
        for x in 80..(200 + y / 2) {
            m.set(x, y, true);
        }
    }
    let r = Rle::encode(&m);
    let mut g = c.benchmark_group("geometry");
    g.bench_function("rle_encode_512", |b| b.iter(|| black_box(Rle::encode(&m))));
    g.bench_function("rle_decode_512", |b| b.iter(|| black_box(r.decode())));
    g.bench_function("rle_iou_512", |b| b.iter(|| black_box(Rle::iou(&r, &r, false))));
    let poly: Vec<f64> = (0..64)
        .flat_map(|k| {
            let a = k as f64 / 64.0 * std::f64::consts::TAU;
            [256.0 + 180.0 * a.cos(), 256.0 + 150.0 * a.sin()]
        })
        .collect();
    g.bench_function("polygon_64pt_512", |b| {
        b.iter(|| black_box(polygon::rasterize(&poly, 512, 512)))
    });
    g.finish();
}

criterion_group!(benches, open_pack, geometry);
criterion_main!(benches);
