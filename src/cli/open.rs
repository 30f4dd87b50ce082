//! `lightbox open` (and `lightbox PACK`): the review dashboard.

use super::EXIT_OK;
use super::source::PackArgs;
use anyhow::{Context, bail};
use lightbox::tui::{self, Graphics, config::Config};
use std::io::IsTerminal;

#[derive(clap::Args, Debug, Default)]
pub struct Args {
    #[command(flatten)]
    pub source: PackArgs,
    /// How to draw images: auto-detected, or forced (kitty before 0.28 cannot show kitty
    /// placeholders; auto-detection falls back to halfblocks there).
    #[arg(long, value_enum)]
    pub graphics: Option<Graphics>,
    /// Largest image to send the terminal, WIDTHxHEIGHT pixels (default: what the terminal says;
    /// 1000x1000 for sixel when it does not say, xterm's default maxGraphicSize).
    #[arg(long, value_name = "WxH", value_parser = tui::graphic_limit::parse)]
    pub max_graphic: Option<(u32, u32)>,
    /// Theme: dark, light, high-contrast, or a theme file (overrides the user config).
    #[arg(long)]
    pub theme: Option<String>,
    /// User config file (default: $XDG_CONFIG_HOME/lightbox/config.toml).
    #[arg(long, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
    /// Do not watch the pack's files (by default a rewritten run, ground truth, rules file or
    /// manifest is reloaded in the background).
    #[arg(long)]
    pub no_watch: bool,
    /// Open with the default view instead of the one this pack was last closed with (run,
    /// comparison, layout, filter, sort, threshold and case, kept in .lightbox/views.json).
    #[arg(long)]
    pub fresh: bool,
    /// Compare the pack's inputs with a reference (a pack or a folder of images, e.g. the
    /// training data) and show the drift in the metrics view (`m`), as `lightbox drift` does.
    #[arg(long, value_name = "DIR")]
    pub drift_from: Option<std::path::PathBuf>,
}

pub fn run(a: Args) -> anyhow::Result<u8> {
    let mut config = Config::load(a.config.as_deref())?;
    if a.max_graphic.is_some() {
        config.max_graphic = a.max_graphic;
    }
    if let Some(t) = &a.theme {
        config.theme = tui::config::load_theme(t).map_err(anyhow::Error::msg)?;
    }
    let graphics = match (a.graphics, config.graphics.as_deref()) {
        (Some(g), _) => g,
        (None, Some(name)) => <Graphics as clap::ValueEnum>::from_str(name, true).map_err(|_| {
            anyhow::anyhow!("config: graphics = {name:?} is not one of auto, kitty, sixel, iterm2, halfblocks")
        })?,
        (None, None) => Graphics::Auto,
    };
    let pack = a.source.open()?;
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        bail!("the dashboard needs a terminal; for scripts use `lightbox info` or `lightbox render`");
    }
    // the run named; without one, the saved view's or the newest
    let run = match a.source.selected_runs().first() {
        Some(_) => a.source.selected_run(&pack)?,
        None => None,
    };
    let opening = tui::Opening {
        graphics,
        run,
        rules: a.source.from.rules.clone(),
        watch: !a.no_watch,
        fresh: a.fresh,
        drift_from: a.drift_from.clone(),
    };
    tui::run(pack, config, opening).context("the dashboard stopped")?;
    Ok(EXIT_OK)
}
