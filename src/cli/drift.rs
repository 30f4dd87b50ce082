//! `lightbox drift`: has a batch of inputs (production images, a new client's pack) drifted
//! away from a reference (the test pack, the training images)?

use super::{EXIT_INPUT, EXIT_OK};
use lightbox::ood::{self, ImageStats, drift};
use std::path::{Path, PathBuf};

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

/// The images of a pack or a folder, by name, with a warning for each one that cannot be read.
fn image_stats(path: &Path) -> Result<Vec<(String, ImageStats)>, String> {
    if path.join(lightbox::pack::MANIFEST_FILE).is_file() {
        let pack = lightbox::pack::Pack::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let stats = ood::pack_stats(&pack);
        let mut out = Vec::new();
        for (c, s) in pack.cases.iter().zip(stats) {
            match s {
                Some(s) => out.push((c.id.0.clone(), s)),
                None => eprintln!("warning: {}: the image cannot be read; left out", c.image.display()),
            }
        }
        if out.len() < 5 {
            return Err(format!(
                "{}: {} images that decode; drift needs at least 5",
                path.display(),
                out.len()
            ));
        }
        Ok(out)
    } else if path.is_dir() {
        let (ok, bad) = ood::folder_stats(path).map_err(|e| e.to_string())?;
        for (p, why) in bad {
            eprintln!("warning: {}: not used: {why}", p.display());
        }
        Ok(ok
            .into_iter()
            .map(|(p, s)| (p.strip_prefix(path).unwrap_or(&p).display().to_string(), s))
            .collect())
    } else {
        Err(format!(
            "{}: not a folder; give a pack or a folder of images",
            path.display()
        ))
    }
}

pub fn run(a: Args) -> anyhow::Result<u8> {
    if !(a.alpha.is_finite() && a.alpha > 0.0 && a.alpha < 1.0) {
        eprintln!("error: --alpha {}: give a probability between 0 and 1, e.g. 0.01", a.alpha);
        return Ok(EXIT_INPUT);
    }
    if !(a.min_effect.is_finite() && (0.0..=1.0).contains(&a.min_effect)) {
        eprintln!(
            "error: --min-effect {}: give a Kolmogorov–Smirnov distance between 0 and 1, e.g. 0.2",
            a.min_effect
        );
        return Ok(EXIT_INPUT);
    }
    let (reference, batch) = match (image_stats(&a.reference), image_stats(&a.batch)) {
        (Ok(r), Ok(b)) => (r, b),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: {e}");
            return Ok(EXIT_INPUT);
        }
    };
    let rs: Vec<ImageStats> = reference.iter().map(|(_, s)| s.clone()).collect();
    let bs: Vec<ImageStats> = batch.iter().map(|(_, s)| s.clone()).collect();
    let report = drift::drift(&rs, &bs, a.alpha, a.min_effect);
    if a.json {
        let mut v = serde_json::to_value(&report)?;
        if let Some(d) = v.get_mut("drivers").and_then(|d| d.as_array_mut()) {
            for (d, r) in d.iter_mut().zip(&report.drivers) {
                d["image"] = serde_json::Value::String(batch[r.index].0.clone());
            }
        }
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        println!(
            "{} ({} images) against {} ({} images): {}",
            a.batch.display(),
            report.batch_images,
            a.reference.display(),
            report.reference_images,
            if report.drifted {
                "DRIFTED"
            } else {
                "no drift"
            }
        );
        println!(
            "drift: a content statistic with p < {} / {} (Bonferroni) and Kolmogorov–Smirnov distance ≥ {}",
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
