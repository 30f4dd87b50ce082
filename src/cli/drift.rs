//! `lightbox drift`: has a batch of inputs (production images, a new client's pack) drifted
//! away from a reference (the test pack, the training images)?

use super::{EXIT_INPUT, EXIT_OK};
use lightbox::ood::{self, ImageStats, drift};
use std::path::PathBuf;

/// Exit status when the batch has drifted.
pub const EXIT_DRIFT: u8 = 1;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The reference: a pack (a folder with lightbox.toml) or a folder of images.
    pub reference: PathBuf,
    /// The batch: a pack or a folder of images (unlabelled production inputs).
    pub batch: PathBuf,
    /// Family-wise chance of calling an undrifted batch drifted (Bonferroni over the statistics).
    #[arg(long, default_value_t = drift::DEFAULT_ALPHA)]
    pub alpha: f64,
    /// The smallest Kolmogorov–Smirnov distance that counts as drift (0..1).
    #[arg(long, default_value_t = drift::DEFAULT_MIN_EFFECT)]
    pub min_effect: f64,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: Args) -> anyhow::Result<u8> {
    if !(a.alpha.is_finite() && a.alpha > 0.0 && a.alpha < 1.0) {
        eprintln!(
            "error: --alpha {}: give a probability between 0 and 1, e.g. 0.01",
            a.alpha
        );
        return Ok(EXIT_INPUT);
    }
    if !(a.min_effect.is_finite() && (0.0..=1.0).contains(&a.min_effect)) {
        eprintln!(
            "error: --min-effect {}: give a Kolmogorov–Smirnov distance between 0 and 1, e.g. 0.2",
            a.min_effect
        );
        return Ok(EXIT_INPUT);
    }
    let (reference, batch) = match (ood::image_set(&a.reference), ood::image_set(&a.batch)) {
        (Ok(r), Ok(b)) => (r, b),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: {e}");
            return Ok(EXIT_INPUT);
        }
    };
    for (p, why) in reference.left_out.iter().chain(&batch.left_out) {
        eprintln!("warning: {p}: left out: {why}");
    }
    let same = std::fs::canonicalize(&a.reference)
        .ok()
        .is_some_and(|r| std::fs::canonicalize(&a.batch).ok() == Some(r));
    if same {
        eprintln!("note: the reference and the batch are the same folder: nothing can have drifted");
    }
    let rs: Vec<ImageStats> = reference.images.iter().map(|(_, s)| s.clone()).collect();
    let bs: Vec<ImageStats> = batch.images.iter().map(|(_, s)| s.clone()).collect();
    let (batch_left_out, reference_left_out) = (batch.left_out.len(), reference.left_out.len());
    let batch = batch.images;
    let report = drift::drift(&rs, &bs, a.alpha, a.min_effect);
    if a.json {
        let mut v = serde_json::to_value(&report)?;
        v["batch_left_out"] = batch_left_out.into();
        v["reference_left_out"] = reference_left_out.into();
        if let Some(d) = v.get_mut("drivers").and_then(|d| d.as_array_mut()) {
            for (d, r) in d.iter_mut().zip(&report.drivers) {
                d["image"] = serde_json::Value::String(batch[r.index].0.clone());
            }
        }
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        let left = |n: usize| {
            if n == 0 {
                String::new()
            } else {
                format!(", {n} unreadable left out")
            }
        };
        println!(
            "{}: the batch {} ({} images{}) against the reference {} ({} images{})",
            if report.drifted { "DRIFTED" } else { "no drift" },
            a.batch.display(),
            report.batch_images,
            left(batch_left_out),
            a.reference.display(),
            report.reference_images,
            left(reference_left_out)
        );
        if report.batch_images.min(report.reference_images) < 20 {
            println!(
                "note: with fewer than 20 images on a side only large shifts can be seen; \"no drift\" is weak evidence"
            );
        }
        println!(
            "drifted: a content statistic whose distributions differ more than chance explains (p < {} / {}) and by enough to matter (KS distance ≥ {})",
            a.alpha,
            ood::N,
            a.min_effect
        );
        println!();
        for s in &report.shifts {
            println!("  {}", s.line());
        }
        if !report.drivers.is_empty() {
            println!();
            println!("the images that move {} most:", report.drivers[0].statistic);
            for d in &report.drivers {
                println!(
                    "  {}  {:.3} ({}{} robust SD)",
                    batch[d.index].0,
                    d.value,
                    if d.z > 0.0 { "+" } else { "" },
                    ood::fmt_z(d.z)
                );
            }
        }
    }
    Ok(if report.drifted { EXIT_DRIFT } else { EXIT_OK })
}
