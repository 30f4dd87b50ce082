//! The dashboard's configuration: the user's file (`crate::config`, read once) turned into a
//! theme and a keymap. A theme that is not built in and not a readable theme file, or a `[keys]`
//! or `[keys.review]` line naming no action, is an error naming the file, the table and the key.

use super::keymap::Keymap;
use super::theme::Theme;
use crate::config::{ConfigError, UserConfig};
use std::path::{Path, PathBuf};

pub use crate::config::config_path;

#[derive(Debug, Clone)]
pub struct Config {
    pub theme: Theme,
    pub keymap: Keymap,
    pub graphics: Option<String>,
    /// Largest image to send the terminal, in pixels (`max_graphic = "1000x1000"`, or
    /// `--max-graphic`); default: what the terminal says (XTSMGRAPHICS), else 1000×1000 for sixel.
    pub max_graphic: Option<(u32, u32)>,
    /// The file read, if any.
    pub path: Option<PathBuf>,
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
            theme: Theme::dark(),
            keymap: Keymap::default_keys(),
            graphics: None,
            max_graphic: None,
            path: None,
        }
    }

    /// Read the user's config file (absent is fine); errors name the file and the key.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        Config::from_user(&UserConfig::load(path)?)
    }

    /// The theme and keymap the user's file asks for.
    pub fn from_user(user: &UserConfig) -> Result<Config, ConfigError> {
        let mut c = Config::defaults();
        let value = |key: &str, message: String| ConfigError::Value {
            path: user.path.clone().unwrap_or_default(),
            key: key.into(),
            message,
        };
        if let Some(t) = &user.theme {
            c.theme = load_theme(t).map_err(|e| value("theme", e))?;
        }
        c.keymap
            .apply(&user.keys)
            .map_err(|e| value(e.layer.table(), e.message))?;
        c.graphics = user.graphics.clone();
        c.max_graphic = user.max_graphic;
        c.path = user.path.clone();
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
        assert!(Config::load(Some(&p)).unwrap_err().to_string().contains("them"));
        assert!(Config::load(Some(&d.path().join("absent.toml"))).is_ok());
    }

    #[test]
    fn a_broken_theme_or_key_names_the_file_and_the_key() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("config.toml");
        std::fs::write(&p, "theme = \"no-such-theme\"\n").unwrap();
        let e = Config::load(Some(&p)).unwrap_err().to_string();
        assert!(e.starts_with(&format!("{}: theme: ", p.display())), "{e}");
        assert!(e.contains("not a built-in theme"), "{e}");
        std::fs::write(&p, "[keys]\nx = \"fly_away\"\n").unwrap();
        let e = Config::load(Some(&p)).unwrap_err().to_string();
        assert!(e.starts_with(&format!("{}: [keys]: ", p.display())), "{e}");
    }

    #[test]
    fn the_review_layer_is_configured_under_keys_review_and_its_errors_say_so() {
        use super::super::action::{Action, ReviewAction};
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("config.toml");
        // reject moves to x; r goes back to the dashboard while reviewing
        std::fs::write(
            &p,
            "[keys]\nj = \"next_case\"\n[keys.review]\nx = \"reject\"\nr = \"none\"\n",
        )
        .unwrap();
        let km = Config::load(Some(&p)).unwrap().keymap;
        assert_eq!(km.review_keys(ReviewAction::Reject), ["x"]);
        assert_eq!(km.keys_now(Action::CycleRun, true), ["r"]);
        assert_eq!(km.review_keys(ReviewAction::Accept), ["a"], "the other defaults stay");
        // a key bound twice in one layer names the key and both actions
        std::fs::write(&p, "[keys.review]\nY = \"accept\"\nshift-y = \"reject\"\n").unwrap();
        let e = Config::load(Some(&p)).unwrap_err().to_string();
        assert!(e.starts_with(&format!("{}: [keys.review]: ", p.display())), "{e}");
        assert!(
            e.contains("\"Y\" = \"accept\"") && e.contains("\"shift-y\" = \"reject\"") && e.contains("bound twice"),
            "{e}"
        );
        // a dashboard action in the review layer, and the other way round
        std::fs::write(&p, "[keys.review]\nx = \"cycle_run\"\n").unwrap();
        let e = Config::load(Some(&p)).unwrap_err().to_string();
        assert!(
            e.contains("[keys.review]: key \"x\"") && e.contains("bind it under [keys]"),
            "{e}"
        );
        std::fs::write(&p, "[keys]\nx = \"accept\"\n").unwrap();
        let e = Config::load(Some(&p)).unwrap_err().to_string();
        assert!(
            e.contains("[keys]: key \"x\"") && e.contains("under [keys.review]"),
            "{e}"
        );
        // unbinding the only key of a review action leaves the reviewer unable to act
        std::fs::write(&p, "[keys.review]\nS = \"none\"\n").unwrap();
        let e = Config::load(Some(&p)).unwrap_err().to_string();
        assert!(
            e.contains("[keys.review]: no key is left for the review action \"sign\""),
            "{e}"
        );
    }
}
