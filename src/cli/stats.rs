//! `lightbox stats`: the out-of-distribution reference of a folder of images (training data), for
//! `lightbox check --ood-reference`.

use super::EXIT_OK;
use anyhow::Context;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A folder of images (searched recursively).
    pub dir: PathBuf,
    /// Where to write the reference (JSON).
    #[arg(short, long)]
    pub out: PathBuf,
    /// Robust z-score beyond which `check` flags an input (the rules file's ood_max_z wins).
    #[arg(long, default_value_t = 6.0)]
    pub max_z: f64,
}

pub fn run(a: Args) -> anyhow::Result<u8> {
    let stats = lightbox::ood::folder_stats(&a.dir).map_err(anyhow::Error::msg)?;
    let mut r = lightbox::ood::Reference::from_stats(&stats, a.max_z);
    r.origin = Some(a.dir.display().to_string());
    let text = serde_json::to_string_pretty(&r)? + "\n";
    lightbox::fsutil::write_atomic(&a.out, text.as_bytes()).with_context(|| format!("writing {}", a.out.display()))?;
    println!("wrote {} (statistics of {} images)", a.out.display(), r.images);
    Ok(EXIT_OK)
}
