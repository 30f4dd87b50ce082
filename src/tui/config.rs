//! The user's configuration: `$XDG_CONFIG_HOME/lightbox/config.toml` (else
//! `~/.config/lightbox/config.toml`), overriding the theme and single keys:
//!
//! ```toml
//! theme = "light"          # dark, light, high-contrast, or a path to a theme file
//! graphics = "auto"        # auto, kitty, sixel, iterm2, halfblocks
//! [keys]
//! j = "next_case"
//! ```

use super::keymap::Keymap;
use super::theme::Theme;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    theme: Option<String>,
    graphics: Option<String>,
    max_graphic: Option<String>,
    onnxruntime: Option<PathBuf>,
    reviewer: Option<String>,
    role: Option<String>,
    #[serde(default)]
    keys: toml::Table,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub theme: Theme,
    pub keymap: Keymap,
    pub graphics: Option<String>,
    /// Largest image to send the terminal, in pixels (`max_graphic = "1000x1000"`, or
    /// `--max-graphic`); default: what the terminal says (XTSMGRAPHICS), else 1000×1000 for sixel.
    pub max_graphic: Option<(u32, u32)>,
    /// ONNX Runtime library (`onnxruntime = "/path/to/libonnxruntime.so"`).
    pub onnxruntime: Option<PathBuf>,
    /// Who reviews (`reviewer = "..."`, `role = "..."`), for `lightbox review`.
    pub reviewer: Option<String>,
    pub role: Option<String>,
    /// The file read, if any.
    pub path: Option<PathBuf>,
}

pub fn config_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".config")))?;
    Some(base.join("lightbox").join("config.toml"))
}

/// Load a theme by built-in name or from a file.
pub fn load_theme(name: &str) -> Result<Theme, String> {
    if let Some(t) = Theme::builtin(name) {
        return Ok(t);
    }
    let text = std::fs::read_to_string(name).map_err(|e| {
        format!("theme {name:?}: not a built-in theme (dark, light, high-contrast) and not a readable file ({e})")
    })?;
    Theme::parse(&text).map_err(|e| format!("{name}: {e}"))
}

impl Config {
    pub fn defaults() -> Config {
        Config {
            theme: Theme::builtin("dark").expect("dark ships"),
            keymap: Keymap::default_keys(),
            graphics: None,
            max_graphic: None,
            onnxruntime: None,
            reviewer: None,
            role: None,
            path: None,
        }
    }

    /// Read the user's config file (absent is fine); errors name the file and the key.
    pub fn load(path: Option<&Path>) -> Result<Config, String> {
        let mut c = Config::defaults();
        let Some(path) = path.map(Path::to_path_buf).or_else(config_path) else {
            return Ok(c);
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(c),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        let f: ConfigFile = toml::from_str(&text).map_err(|e| format!("{}: {}", path.display(), e.message().trim()))?;
        if let Some(t) = &f.theme {
            c.theme = load_theme(t).map_err(|e| format!("{}: theme: {e}", path.display()))?;
        }
        c.keymap
            .apply(&f.keys)
            .map_err(|e| format!("{}: [keys] {e}", path.display()))?;
        c.graphics = f.graphics;
        if let Some(m) = &f.max_graphic {
            c.max_graphic =
                Some(super::graphic_limit::parse(m).map_err(|e| format!("{}: max_graphic: {e}", path.display()))?);
        }
        c.onnxruntime = f.onnxruntime;
        c.reviewer = f.reviewer;
        c.role = f.role;
        c.path = Some(path);
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_config_overrides_theme_and_keys() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("config.toml");
        std::fs::write(&p, "theme = \"light\"\n[keys]\nx = \"quit\"\n").unwrap();
        let c = Config::load(Some(&p)).unwrap();
        assert_eq!(c.theme.name, "light");
        assert!(
            c.keymap
                .keys_for(super::super::action::Action::Quit)
                .contains(&"x".to_string())
        );
        std::fs::write(&p, "them = \"light\"\n").unwrap();
        assert!(Config::load(Some(&p)).unwrap_err().contains("them"));
        assert!(Config::load(Some(&d.path().join("absent.toml"))).is_ok());
    }
}
