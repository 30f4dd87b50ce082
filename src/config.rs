//! The user's configuration file, read once for every command: `$XDG_CONFIG_HOME/lightbox/config.toml`
//! (else `~/.config/lightbox/config.toml`). It knows nothing of the terminal: the dashboard turns
//! `theme` and `[keys]` into a theme and a keymap (`tui::config`), `infer` reads `onnxruntime`,
//! `review` reads `reviewer` and `role`. A broken file is an error naming the file and the key,
//! for every command, never a silent fall-back to defaults.
//!
//! ```toml
//! theme = "light"                 # dark, light, high-contrast, or a path to a theme file
//! graphics = "auto"               # auto, kitty, sixel, iterm2, halfblocks
//! max_graphic = "1000x1000"       # the largest image sent to the terminal
//! onnxruntime = "/path/to/libonnxruntime.so"
//! reviewer = "Dr Ann Lee"
//! role = "radiologist"
//! [keys]
//! j = "next_case"
//! ```

use serde::Deserialize;
use std::path::{Path, PathBuf};
use thiserror::Error;

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

/// What the user's configuration file says, checked where it can be without a terminal.
#[derive(Debug, Clone, Default)]
pub struct UserConfig {
    /// A built-in theme's name or a theme file's path (resolved by the dashboard).
    pub theme: Option<String>,
    /// auto, kitty, sixel, iterm2 or halfblocks.
    pub graphics: Option<String>,
    /// Largest image to send the terminal, in pixels (`max_graphic = "1000x1000"`).
    pub max_graphic: Option<(u32, u32)>,
    /// ONNX Runtime library for `infer` and the dashboard's model runs.
    pub onnxruntime: Option<PathBuf>,
    /// Who reviews, for `lightbox review`.
    pub reviewer: Option<String>,
    pub role: Option<String>,
    /// `[keys]`: key → action name, applied over the default keymap by the dashboard.
    pub keys: toml::Table,
    /// The file read, if one was there.
    pub path: Option<PathBuf>,
}

/// A configuration file that cannot be used: names the file and the key.
#[derive(Debug, Error, PartialEq)]
pub enum ConfigError {
    #[error("{}: {message}", path.display())]
    Read { path: PathBuf, message: String },
    #[error("{}: {message}", path.display())]
    Syntax { path: PathBuf, message: String },
    #[error("{}: {key}: {message}", path.display())]
    Value {
        path: PathBuf,
        key: String,
        message: String,
    },
}

/// Where the configuration file is looked for.
pub fn config_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".config")))?;
    Some(base.join("lightbox").join("config.toml"))
}

/// `WIDTHxHEIGHT` in pixels, each side 64 to 65535 (`max_graphic`, `--max-graphic`).
pub fn parse_pixel_size(text: &str) -> Result<(u32, u32), String> {
    let (w, h) = text
        .trim()
        .split_once(['x', 'X', '×'])
        .ok_or_else(|| format!("{text:?} is not WIDTHxHEIGHT in pixels (e.g. 1000x1000)"))?;
    let side = |v: &str| -> Result<u32, String> {
        v.trim()
            .parse::<u32>()
            .ok()
            .filter(|&n| (64..=65_535).contains(&n))
            .ok_or_else(|| format!("{text:?}: each side must be 64 to 65535 pixels"))
    };
    Ok((side(w)?, side(h)?))
}

const GRAPHICS: [&str; 5] = ["auto", "kitty", "sixel", "iterm2", "halfblocks"];

impl UserConfig {
    /// Read `path`, else the default location; an absent file gives the defaults.
    pub fn load(path: Option<&Path>) -> Result<UserConfig, ConfigError> {
        let Some(path) = path.map(Path::to_path_buf).or_else(config_path) else {
            return Ok(UserConfig::default());
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(UserConfig::default()),
            Err(e) => {
                return Err(ConfigError::Read {
                    path,
                    message: e.to_string(),
                });
            }
        };
        UserConfig::parse(&text, path)
    }

    /// Parse the text of the file at `path`.
    pub fn parse(text: &str, path: PathBuf) -> Result<UserConfig, ConfigError> {
        let f: ConfigFile = match toml::from_str(text) {
            Ok(f) => f,
            Err(e) => {
                // toml names the line of a syntax error, not always the key of a wrong value:
                // find the key whose value alone does not fit
                let key = text.parse::<toml::Table>().ok().and_then(|t| {
                    t.into_iter().find_map(|(k, v)| {
                        let one: toml::Table = [(k.clone(), v)].into_iter().collect();
                        one.try_into::<ConfigFile>().is_err().then_some(k)
                    })
                });
                let message = e.message().trim().to_string();
                return Err(match key {
                    Some(key) => ConfigError::Value { path, key, message },
                    None => ConfigError::Syntax { path, message },
                });
            }
        };
        let value = |key: &str, message: String| ConfigError::Value {
            path: path.clone(),
            key: key.into(),
            message,
        };
        if let Some(g) = &f.graphics
            && !GRAPHICS.contains(&g.to_ascii_lowercase().as_str())
        {
            return Err(value(
                "graphics",
                format!("{g:?} is not one of {}", GRAPHICS.join(", ")),
            ));
        }
        let max_graphic = match &f.max_graphic {
            Some(m) => Some(parse_pixel_size(m).map_err(|e| value("max_graphic", e))?),
            None => None,
        };
        for (key, name) in [("reviewer", &f.reviewer), ("role", &f.role)] {
            if name.as_ref().is_some_and(|n| n.trim().is_empty()) {
                return Err(value(key, "is empty; give a name or remove the line".into()));
            }
        }
        Ok(UserConfig {
            theme: f.theme,
            graphics: f.graphics,
            max_graphic,
            onnxruntime: f.onnxruntime,
            reviewer: f.reviewer,
            role: f.role,
            keys: f.keys,
            path: Some(path),
        })
    }

    /// "the file (read)", "the default path (absent: defaults)" or "none", for `infer --doctor`.
    pub fn describe(&self) -> String {
        match (&self.path, config_path()) {
            (Some(p), _) => p.display().to_string(),
            (None, Some(p)) => format!("{} (absent: defaults)", p.display()),
            (None, None) => "none".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<UserConfig, ConfigError> {
        UserConfig::parse(text, PathBuf::from("/home/u/.config/lightbox/config.toml"))
    }

    #[test]
    fn every_key_is_read() {
        let c = parse(
            "theme = \"light\"\ngraphics = \"sixel\"\nmax_graphic = \"2000x1500\"\nonnxruntime = \"/opt/ort.so\"\n\
             reviewer = \"Dr Ann Lee\"\nrole = \"radiologist\"\n[keys]\nx = \"quit\"\n",
        )
        .unwrap();
        assert_eq!(c.theme.as_deref(), Some("light"));
        assert_eq!(c.graphics.as_deref(), Some("sixel"));
        assert_eq!(c.max_graphic, Some((2000, 1500)));
        assert_eq!(c.onnxruntime, Some(PathBuf::from("/opt/ort.so")));
        assert_eq!(c.reviewer.as_deref(), Some("Dr Ann Lee"));
        assert_eq!(c.role.as_deref(), Some("radiologist"));
        assert_eq!(c.keys.get("x").and_then(|v| v.as_str()), Some("quit"));
    }

    #[test]
    fn errors_name_the_file_and_the_key() {
        let e = parse("them = \"light\"\n").unwrap_err().to_string();
        assert!(e.starts_with("/home/u/.config/lightbox/config.toml: "), "{e}");
        assert!(e.contains("them"), "{e}");
        assert_eq!(
            parse("max_graphic = \"big\"\n").unwrap_err().to_string(),
            "/home/u/.config/lightbox/config.toml: max_graphic: \"big\" is not WIDTHxHEIGHT in pixels (e.g. 1000x1000)"
        );
        let e = parse("graphics = \"vt100\"\n").unwrap_err().to_string();
        assert!(
            e.contains("graphics: \"vt100\" is not one of auto, kitty, sixel, iterm2, halfblocks"),
            "{e}"
        );
        let e = parse("reviewer = \" \"\n").unwrap_err().to_string();
        assert!(e.contains("reviewer: is empty"), "{e}");
        let e = parse("theme = \"light\"\nreviewer = 3\n").unwrap_err().to_string();
        assert!(e.contains("config.toml: reviewer: ") && e.contains("string"), "{e}");
    }

    #[test]
    fn an_absent_file_gives_the_defaults_and_an_unreadable_one_an_error() {
        let d = tempfile::tempdir().unwrap();
        let c = UserConfig::load(Some(&d.path().join("absent.toml"))).unwrap();
        assert!(c.path.is_none() && c.theme.is_none() && c.keys.is_empty());
        let e = UserConfig::load(Some(d.path())).unwrap_err();
        assert!(matches!(e, ConfigError::Read { .. }), "{e}");
    }

    #[test]
    fn pixel_sizes() {
        assert_eq!(parse_pixel_size("1000x800"), Ok((1000, 800)));
        assert_eq!(parse_pixel_size(" 1000 × 800 "), Ok((1000, 800)));
        assert!(parse_pixel_size("10x10").unwrap_err().contains("64 to 65535"));
        assert!(parse_pixel_size("1000").unwrap_err().contains("WIDTHxHEIGHT"));
    }
}
