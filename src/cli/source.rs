//! How every command names its pack: a folder, or `--images/--gt/--run` flags.

use lightbox::pack::flags::FlagSources;
use lightbox::pack::{Manifest, Pack};
use std::path::PathBuf;

#[derive(clap::Args, Debug, Clone, Default)]
pub struct PackArgs {
    /// The pack folder (holding lightbox.toml). Omit it to use --images/--gt/--run.
    pub pack: Option<PathBuf>,
    #[command(flatten)]
    pub from: SourceFlags,
}

/// The flag form of a pack (`--images/--gt/--run/--class`), the rules and the problem gate: for
/// commands whose positional arguments are not only the pack folder (`diff PACK A B`).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct SourceFlags {
    /// Image folder (flag form, no manifest needed; defaults to the COCO ground truth's folder).
    #[arg(long, value_name = "DIR")]
    pub images: Option<PathBuf>,
    /// Ground truth: COCO JSON, a folder of PNG masks or YOLO labels, or scores; `KIND:PATH` to say which.
    #[arg(long = "gt", value_name = "[KIND:]PATH")]
    pub gt: Vec<String>,
    /// A run: `NAME` selects one of the pack's runs; `NAME=[KIND:]PATH` adds a run's predictions
    /// (flag form; repeat the name to add sources to one run).
    #[arg(long = "run", value_name = "NAME[=[KIND:]PATH]")]
    pub runs: Vec<String>,
    /// A class, `ID=NAME[:region|finding]` (flag form; COCO categories are used otherwise).
    #[arg(long = "class", value_name = "ID=NAME[:KIND]")]
    pub classes: Vec<String>,
    /// Rules file (overrides the manifest's).
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// Compute even though the pack has errors (files it could not read, values it could not
    /// use): the figures then cover only what loaded, and say so. Without it, such a pack stops
    /// `check` (any error, missing images included) and `metrics` (errors in the annotations;
    /// COCO evaluation needs no image file) with exit status 2; `lightbox info PACK` lists them.
    #[arg(long)]
    pub allow_problems: bool,
}

/// Every error in the pack's files: those found loading it, and those its images' headers and
/// masks show (`lightbox info`'s check: missing or damaged images, masks of the wrong size).
pub fn pack_errors(pack: &Pack) -> Vec<lightbox::pack::Problem> {
    let v = lightbox::pack::validate::validate(pack);
    pack.problems
        .iter()
        .chain(&v.problems)
        .filter(|p| p.severity == lightbox::pack::Level::Error)
        .cloned()
        .collect()
}

/// A pack with errors is not computed on in silence: the errors are said, and unless the user
/// allows it, the command stops with exit status 2. `Some(code)`: stop with it.
pub fn gate(pack: &Pack, command: &str, allow: bool) -> Option<u8> {
    gate_on(pack_errors(pack), command, allow)
}

/// As [`gate`] on every error but those of the case images' files: for figures computed from
/// the annotations alone (COCO evaluation needs no image file, as in pycocotools). Label masks,
/// probability maps and scores are annotations: a mask with an unknown value or of the wrong
/// size read as background made Dice drop without a word.
pub fn gate_loaded(pack: &Pack, command: &str, allow: bool) -> Option<u8> {
    let images: std::collections::HashSet<std::path::PathBuf> =
        pack.cases.iter().map(|c| pack.display_path(&c.image)).collect();
    let errors = pack_errors(pack)
        .into_iter()
        .filter(|p| !images.contains(&p.file))
        .collect();
    gate_on(errors, command, allow)
}

fn gate_on(errors: Vec<lightbox::pack::Problem>, command: &str, allow: bool) -> Option<u8> {
    if errors.is_empty() {
        return None;
    }
    let verb = if allow { "warning" } else { "error" };
    eprintln!(
        "{verb}: the pack has {} error(s); {command} {} on what loaded:",
        errors.len(),
        if allow {
            "goes on, its figures only"
        } else {
            "does not compute"
        }
    );
    for p in errors.iter().take(5) {
        eprintln!("  {p}");
    }
    if errors.len() > 5 {
        eprintln!(
            "  ... {} more (`lightbox info PACK --all` lists them)",
            errors.len() - 5
        );
    }
    if allow {
        None
    } else {
        eprintln!("Fix them, or pass --allow-problems to compute on what loaded");
        Some(super::EXIT_INPUT)
    }
}

impl PackArgs {
    pub fn flags(&self) -> FlagSources {
        FlagSources {
            images: self.from.images.clone(),
            ground_truth: self.from.gt.clone(),
            runs: self.from.runs.iter().filter(|r| r.contains('=')).cloned().collect(),
            classes: self.from.classes.clone(),
            rules: self.from.rules.clone(),
            name: None,
        }
    }

    /// Runs named without a path (`--run candidate`): a selection, not a source.
    pub fn selected_runs(&self) -> Vec<&str> {
        self.from
            .runs
            .iter()
            .filter(|r| !r.contains('='))
            .map(String::as_str)
            .collect()
    }

    /// The index of the selected run (the first `--run NAME`), or the first run of the pack.
    pub fn selected_run(&self, pack: &lightbox::pack::Pack) -> anyhow::Result<Option<usize>> {
        match self.selected_runs().first() {
            Some(name) => pack.run_index(name).map(Some).map_err(anyhow::Error::msg),
            None => Ok((!pack.runs.is_empty()).then_some(0)),
        }
    }

    /// The manifest the flags imply (flag form only).
    pub fn manifest(&self) -> anyhow::Result<Manifest> {
        self.flags().to_manifest().map_err(anyhow::Error::msg)
    }

    /// Open the pack named on the command line.
    pub fn open(&self) -> anyhow::Result<Pack> {
        match &self.pack {
            Some(p) => {
                if !self.flags().is_empty() {
                    anyhow::bail!("give either a pack folder or --images/--gt/--run, not both");
                }
                let mut pack = Pack::open(p)?;
                if let Some(r) = &self.from.rules {
                    pack.manifest.rules = Some(r.clone());
                }
                Ok(pack)
            }
            None if self.flags().is_empty() => {
                anyhow::bail!(
                    "name a pack folder, or give --images DIR with --gt and --run (see `lightbox info --help`)"
                )
            }
            None => Ok(Pack::from_manifest(self.manifest()?)),
        }
    }
}
