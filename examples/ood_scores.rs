//! Every case's out-of-distribution statistics as robust z-scores against its pack, to see how
//! far apart normal and unusual inputs lie. Usage: ood_scores PACK
// examples: a failed unwrap is a failed run, not a crash in a user's hands
#![allow(clippy::unwrap_used, clippy::expect_used)]
fn main() {
    let pack = lightbox::pack::Pack::open(std::path::Path::new(&std::env::args().nth(1).unwrap())).unwrap();
    let stats = lightbox::ood::pack_stats(&pack);
    let r = lightbox::ood::Reference::from_stats(&stats.iter().flatten().copied().collect::<Vec<_>>(), 6.0);
    for (i, s) in stats.iter().enumerate() {
        let z = r.z(s.as_ref().unwrap());
        let m = z.iter().map(|v| v.abs()).fold(0.0, f64::max);
        println!(
            "{} max|z| {:6.1}  {:?}",
            pack.cases[i].id,
            m,
            z.iter().map(|v| format!("{v:.1}")).collect::<Vec<_>>()
        );
    }
}
