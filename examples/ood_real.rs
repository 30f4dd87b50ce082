//! The table of out-of-distribution false alarms and detections on real chest radiographs in
//! docs/rules.md. Usage: cargo run --release --example ood_real (needs ../shared/data).
#![allow(clippy::unwrap_used, clippy::expect_used)]
#[path = "../tests/ood_real/harness.rs"]
#[allow(dead_code)]
mod harness;

fn main() {
    let Some(data) = harness::data() else {
        eprintln!("needs ../shared/data (the real chest radiographs)");
        std::process::exit(2);
    };
    let t = std::time::Instant::now();
    let (reference, n, rows) = harness::evaluate(&data);
    println!(
        "reference: {n} images; {}; expected rate {:.4}; bounds {:?}",
        reference.bound_text(),
        reference.expected_rate(),
        reference.bounds.iter().map(|b| format!("{b:.1}")).collect::<Vec<_>>()
    );
    println!();
    println!("| images | n | flagged out of distribution (major) | acquisition note only | score (1 = bound) |");
    println!("|---|---|---|---|---|");
    for r in &rows {
        let notes_only = r.verdicts.iter().filter(|v| v.acquisition && !v.major).count();
        println!(
            "| {} | {} | {} | {} | {:.2}–{:.2} |",
            r.what,
            r.verdicts.len(),
            r.majors(),
            notes_only,
            r.min_score(),
            r.max_score()
        );
    }
    eprintln!("({:.1} s)", t.elapsed().as_secs_f64());
}
