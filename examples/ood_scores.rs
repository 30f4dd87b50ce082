//! Every case's out-of-distribution score against its pack (leave-one-out: each case against
//! the others), the calibrated bound, and the statistics furthest out, to see how far apart
//! normal and unusual inputs lie. Usage: ood_scores PACK
// examples: a failed unwrap is a failed run, not a crash in a user's hands
#![allow(clippy::unwrap_used, clippy::expect_used)]
use lightbox::ood::{FEATURES, ImageStats, OodBound, Reference};

fn main() {
    let pack = lightbox::pack::Pack::open(std::path::Path::new(&std::env::args().nth(1).unwrap())).unwrap();
    let stats: Vec<ImageStats> = lightbox::ood::pack_stats(&pack).into_iter().flatten().collect();
    let all = Reference::fit(&stats, OodBound::default());
    println!("bound: {}", all.bound_text());
    for (i, s) in stats.iter().enumerate() {
        let rest: Vec<ImageStats> = stats
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, s)| s.clone())
            .collect();
        let r = Reference::fit(&rest, OodBound::default());
        let z = r.z(s);
        let mut top: Vec<(usize, f64)> = z.iter().copied().enumerate().collect();
        top.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
        println!(
            "{} score {:6.1}  {}",
            pack.cases[i].id,
            r.score(s),
            top.iter()
                .take(3)
                .map(|(k, v)| format!("{} {v:+.1}", FEATURES[*k]))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
}
