//! Deterministic generators: the `chest-phantom` sample pack (synthetic chest radiographs with
//! ground truth, two runs with realistic and planted errors) and large synthetic packs for
//! benchmarks. Nothing here is drawn by hand; the same seed gives the same bytes.

pub mod bench_pack;
pub mod chest;
pub mod phantom;
pub mod rng;
