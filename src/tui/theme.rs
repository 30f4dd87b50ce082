//! Themes: meanings (`flag.critical`, `overlay.false_positive`, `ui.border_focus`) mapped to
//! colours by TOML files. `themes/` ships dark, light and high-contrast themes, embedded here.

use crate::color::parse_hex;
use ratatui::style::Color;
use serde::Deserialize;

pub const BUILTIN: [(&str, &str); 3] = [
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    ("high-contrast", include_str!("../../themes/high-contrast.toml")),
];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    name: String,
    ui: Ui<String>,
    flag: Flag<String>,
    status: Status<String>,
    overlay: Overlay<String>,
    classes: Classes,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ui<C> {
    pub background: C,
    pub text: C,
    pub dim: C,
    pub accent: C,
    pub border: C,
    pub border_focus: C,
    pub selection: C,
    pub status_background: C,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flag<C> {
    pub critical: C,
    pub major: C,
    pub minor: C,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Status<C> {
    pub ok: C,
    pub warning: C,
    pub error: C,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overlay<C> {
    pub true_positive: C,
    pub false_positive: C,
    pub false_negative: C,
    pub selected: C,
    pub image_background: C,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Classes {
    palette: Vec<String>,
}

/// A parsed theme: terminal colours for the chrome, RGB for pixels.
#[derive(Debug, Clone)]
pub struct Theme {
    pub name: String,
    pub ui: Ui<Color>,
    pub flag: Flag<Color>,
    pub status: Status<Color>,
    pub overlay: Overlay<[u8; 3]>,
    pub class_palette: Vec<[u8; 3]>,
}

fn rgb(field: &str, s: &str) -> Result<[u8; 3], String> {
    parse_hex(s).ok_or_else(|| format!("{field}: {s:?} is not a #rrggbb colour"))
}

fn col(field: &str, s: &str) -> Result<Color, String> {
    rgb(field, s).map(|[r, g, b]| Color::Rgb(r, g, b))
}

impl Theme {
    pub fn parse(text: &str) -> Result<Theme, String> {
        let f: ThemeFile = toml::from_str(text).map_err(|e| e.message().trim().to_string())?;
        let u = &f.ui;
        Ok(Theme {
            name: f.name.clone(),
            ui: Ui {
                background: col("ui.background", &u.background)?,
                text: col("ui.text", &u.text)?,
                dim: col("ui.dim", &u.dim)?,
                accent: col("ui.accent", &u.accent)?,
                border: col("ui.border", &u.border)?,
                border_focus: col("ui.border_focus", &u.border_focus)?,
                selection: col("ui.selection", &u.selection)?,
                status_background: col("ui.status_background", &u.status_background)?,
            },
            flag: Flag {
                critical: col("flag.critical", &f.flag.critical)?,
                major: col("flag.major", &f.flag.major)?,
                minor: col("flag.minor", &f.flag.minor)?,
            },
            status: Status {
                ok: col("status.ok", &f.status.ok)?,
                warning: col("status.warning", &f.status.warning)?,
                error: col("status.error", &f.status.error)?,
            },
            overlay: Overlay {
                true_positive: rgb("overlay.true_positive", &f.overlay.true_positive)?,
                false_positive: rgb("overlay.false_positive", &f.overlay.false_positive)?,
                false_negative: rgb("overlay.false_negative", &f.overlay.false_negative)?,
                selected: rgb("overlay.selected", &f.overlay.selected)?,
                image_background: rgb("overlay.image_background", &f.overlay.image_background)?,
            },
            class_palette: f
                .classes
                .palette
                .iter()
                .enumerate()
                .map(|(i, c)| rgb(&format!("classes.palette[{i}]"), c))
                .collect::<Result<_, _>>()?,
        })
    }

    /// The default theme.
    pub fn dark() -> Theme {
        #[allow(clippy::expect_used)] // every shipped theme parses (every_shipped_theme_parses_and_names_itself)
        Theme::builtin("dark").expect("the dark theme ships")
    }

    #[allow(clippy::expect_used)] // cannot fail: shipped themes parse (tested)
    pub fn builtin(name: &str) -> Option<Theme> {
        BUILTIN
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| Theme::parse(t).expect("shipped themes parse (tested)"))
    }

    /// The render palette for a pack under this theme.
    pub fn palette(&self, pack: &crate::pack::Pack) -> crate::render::Palette {
        let mut p = crate::render::Palette::for_pack(pack, &self.class_palette);
        p.true_positive = self.overlay.true_positive;
        p.false_positive = self.overlay.false_positive;
        p.false_negative = self.overlay.false_negative;
        p.selected = self.overlay.selected;
        p.background = self.overlay.image_background;
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_theme_parses_and_names_itself() {
        for (name, text) in BUILTIN {
            let t = Theme::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(t.name, name);
            assert!(t.class_palette.len() >= 7);
        }
    }

    #[test]
    fn a_bad_colour_is_named() {
        let bad = BUILTIN[0].1.replace("accent = \"#56b4e9\"", "accent = \"blue\"");
        assert!(Theme::parse(&bad).unwrap_err().contains("ui.accent"));
    }
}
