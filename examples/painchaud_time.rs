//! Times Painchaud et al.'s 16 criteria on the parity vectors' 72 short-axis masks (best of N
//! passes), for `bench/painchaud.sh` to compare with the Python computation.
// examples: a failed unwrap is a failed run, not a crash in a user's hands
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lightbox::geometry::{LabelMask, measure};
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_else(|| "tests/vectors/painchaud.json".into());
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("vectors")).expect("json");
    let masks: Vec<(LabelMask, f64)> = v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let (w, h) = (
                c["width"].as_u64().unwrap() as u32,
                c["height"].as_u64().unwrap() as u32,
            );
            let runs: Vec<u64> = c["labels"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap())
                .collect();
            let mut data = Vec::new();
            for p in runs.chunks(2) {
                data.extend(std::iter::repeat_n(p[0] as u16, p[1] as usize));
            }
            (LabelMask::new(w, h, data).unwrap(), c["spacing"].as_f64().unwrap())
        })
        .collect();
    let mut best = f64::INFINITY;
    for _ in 0..n {
        let t = Instant::now();
        let mut sink = 0.0;
        for (seg, spacing) in &masks {
            let (lv, rv, myo, bg) = (seg.binary(3), seg.binary(1), seg.binary(2), seg.binary(0));
            sink += measure::hole_pixels(&lv).0 as f64 + measure::hole_pixels(&rv).0 as f64;
            sink += measure::hole_pixels(&myo).0 as f64 - measure::first_component_area(&lv) as f64;
            for m in [&lv, &rv, &myo] {
                sink += measure::disconnected_pixels(m).0 as f64;
                sink += measure::concavity_depth(m).map(|d| d.0 * spacing).unwrap_or(0.0);
            }
            sink += measure::gap_between(&lv, &myo).0 as f64 + measure::gap_between(&rv, &myo).0 as f64;
            sink += measure::gap_distance(&rv, &myo).unwrap_or(0.0) * spacing;
            sink += measure::frontier(&lv, &rv).0 as f64 + measure::frontier(&lv, &bg).0 as f64;
            sink += measure::circularity(&lv).unwrap_or(0.0) + measure::circularity(&myo).unwrap_or(0.0);
        }
        best = best.min(t.elapsed().as_secs_f64());
        std::hint::black_box(sink);
    }
    println!(
        "lightbox: 16 criteria x {} masks: best {:.1} ms",
        masks.len(),
        best * 1e3
    );
}
