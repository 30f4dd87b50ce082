//! `lightbox init`: write the manifest that `--images/--gt/--run` imply, so the flag form
//! becomes a pack.

use super::EXIT_OK;
use super::source::PackArgs;
use anyhow::Context;
use lightbox::pack::{MANIFEST_FILE, flags};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub source: PackArgs,
    /// Folder to write lightbox.toml into (default: the current folder); every file must be inside it.
    #[arg(short, long, value_name = "DIR", default_value = ".")]
    pub out: PathBuf,
    /// The pack's name.
    #[arg(long)]
    pub name: Option<String>,
    /// Replace an existing lightbox.toml.
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    if args.source.pack.is_some() {
        anyhow::bail!("init writes a manifest from --images/--gt/--run; it takes no pack folder");
    }
    let mut f = args.source.flags();
    f.name = args.name.clone();
    let m = f.to_manifest().map_err(anyhow::Error::msg)?;
    let m = flags::relative_to(&m, &args.out).map_err(anyhow::Error::msg)?;
    let path = args.out.join(MANIFEST_FILE);
    if path.exists() && !args.force {
        anyhow::bail!("{} already exists; pass --force to replace it", path.display());
    }
    let text = format!(
        "# Written by `lightbox init`; every key is described in docs/formats.md.\n{}",
        m.to_toml()
    );
    lightbox::fsutil::write_atomic(&path, text.as_bytes()).with_context(|| format!("writing {}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(EXIT_OK)
}
