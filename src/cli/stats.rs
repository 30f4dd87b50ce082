//! `lightbox stats`: the out-of-distribution reference of a folder of images (training data), for
//! `lightbox check --ood-reference`.

use super::{EXIT_INPUT, EXIT_OK};
use anyhow::Context;
use lightbox::ood::{self, OodBound};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A folder of images (searched recursively), or a pack (its cases' images).
    pub dir: PathBuf,
    /// Where to write the reference (JSON).
    #[arg(short, long)]
    pub out: PathBuf,
    /// A fixed robust z-score beyond which `check` flags an input; it is kept in the reference
    /// and wins over the rules file (default: calibrated, see --false-alarm-rate).
    #[arg(long, conflicts_with = "false_alarm_rate")]
    pub max_z: Option<f64>,
    /// The share of in-distribution images the calibrated bound may flag (default 0.005: 1 in
    /// 200). The rules file's ood_false_alarm_rate or ood_max_z chooses again at `check`.
    #[arg(long)]
    pub false_alarm_rate: Option<f64>,
}

pub fn run(a: Args) -> anyhow::Result<u8> {
    let bound = match (a.max_z, a.false_alarm_rate) {
        (Some(z), _) if !(z.is_finite() && z > 0.0 && z <= 1000.0) => {
            eprintln!("error: --max-z {z}: the bound must be a number above 0 and at most 1000, e.g. 6");
            return Ok(EXIT_INPUT);
        }
        (_, Some(r)) if !(1e-6..0.5).contains(&r) => {
            eprintln!("error: --false-alarm-rate {r}: give a share from 0.000001 to below 0.5, e.g. 0.005 (1 in 200)");
            return Ok(EXIT_INPUT);
        }
        (Some(z), _) => OodBound::MaxZ(z),
        (None, Some(r)) => OodBound::FalseAlarmRate(r),
        (None, None) => OodBound::default(),
    };
    if lightbox::formats::image::is_image_path(&a.out) {
        eprintln!(
            "error: -o {}: that is an image's name; the reference is JSON (e.g. -o reference.json)",
            a.out.display()
        );
        return Ok(EXIT_INPUT);
    }
    let set = match ood::image_set(&a.dir) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(EXIT_INPUT);
        }
    };
    for (p, why) in &set.left_out {
        eprintln!("warning: {p}: not used: {why}");
    }
    let unreadable = set.left_out;
    let all: Vec<ood::ImageStats> = set.images.into_iter().map(|(_, s)| s).collect();
    if all.len() < 20 {
        eprintln!(
            "warning: {} images: the bounds are calibrated on few examples; 20 or more, from every source the model will see, make them trustworthy",
            all.len()
        );
    }
    let mut r = ood::Reference::fit(&all, OodBound::default()).bounded(bound, "lightbox stats --max-z");
    r.origin = Some(
        std::fs::canonicalize(&a.dir)
            .unwrap_or_else(|_| a.dir.clone())
            .display()
            .to_string(),
    );
    let text = serde_json::to_string_pretty(&r)? + "\n";
    lightbox::fsutil::write_atomic(&a.out, text.as_bytes()).with_context(|| format!("writing {}", a.out.display()))?;
    println!(
        "wrote {} (statistics of {} images{}); inputs are flagged beyond {}",
        a.out.display(),
        r.images,
        if unreadable.is_empty() {
            String::new()
        } else {
            format!(", {} unreadable files left out", unreadable.len())
        },
        r.bound_text()
    );
    Ok(EXIT_OK)
}
