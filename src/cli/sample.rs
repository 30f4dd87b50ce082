//! `lightbox sample`: write the synthetic chest-phantom sample pack (deterministic), or with
//! `--bench` a large COCO pack for benchmarks.

use super::EXIT_OK;
use anyhow::Context;
use lightbox::sample::{bench_pack, chest};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Where to write the pack.
    #[arg(default_value = "samples/chest-phantom")]
    pub out: PathBuf,
    /// Number of cases.
    #[arg(long, default_value_t = 40)]
    pub cases: usize,
    /// Random seed (the same seed gives the same pack).
    #[arg(long, default_value_t = chest::DEFAULT_SEED)]
    pub seed: u64,
    /// Write a large COCO pack for benchmarks instead (no images), with this many predictions.
    #[arg(long, value_name = "PREDICTIONS")]
    pub bench: Option<usize>,
}

pub fn run(a: Args) -> anyhow::Result<u8> {
    match a.bench {
        Some(predictions) => {
            bench_pack::write(&a.out, a.cases, predictions, a.seed)
                .with_context(|| format!("writing {}", a.out.display()))?;
            println!(
                "wrote a benchmark pack of {} cases and {predictions} predictions to {}",
                a.cases,
                a.out.display()
            );
        }
        None => {
            let planted =
                chest::write(&a.out, a.cases, a.seed).with_context(|| format!("writing {}", a.out.display()))?;
            println!(
                "wrote {} cases to {} ({} planted errors and inputs, listed in planted.toml)",
                a.cases,
                a.out.display(),
                planted.len()
            );
        }
    }
    Ok(EXIT_OK)
}
