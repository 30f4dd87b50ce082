//! How every command names its pack: a folder, or `--images/--gt/--run` flags.

use lightbox::pack::flags::FlagSources;
use lightbox::pack::{Manifest, Pack};
use std::path::PathBuf;

#[derive(clap::Args, Debug, Clone, Default)]
pub struct PackArgs {
    /// The pack folder (holding lightbox.toml). Omit it to use --images/--gt/--run.
    pub pack: Option<PathBuf>,
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
}

impl PackArgs {
    pub fn flags(&self) -> FlagSources {
        FlagSources {
            images: self.images.clone(),
            ground_truth: self.gt.clone(),
            runs: self.runs.iter().filter(|r| r.contains('=')).cloned().collect(),
            classes: self.classes.clone(),
            rules: self.rules.clone(),
            name: None,
        }
    }

    /// Runs named without a path (`--run candidate`): a selection, not a source.
    pub fn selected_runs(&self) -> Vec<&str> {
        self.runs
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
                if let Some(r) = &self.rules {
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
