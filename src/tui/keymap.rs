//! Keys to actions, from a flat TOML table (`j = "next_case"`): the shipped defaults
//! (`themes/keymap.toml`) with the user's `[keys]` on top.

use super::action::Action;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::HashMap;

pub const DEFAULT: &str = include_str!("../../themes/keymap.toml");

/// A key as written in keymap files: `j`, `G`, `ctrl-d`, `pagedown`, `shift-tab`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
    pub alt: bool,
}

impl Key {
    pub fn parse(s: &str) -> Result<Key, String> {
        let mut ctrl = false;
        let mut alt = false;
        let mut rest = s;
        loop {
            if let Some(r) = rest.strip_prefix("ctrl-").filter(|r| !r.is_empty()) {
                ctrl = true;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("alt-").filter(|r| !r.is_empty()) {
                alt = true;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("shift-").filter(|r| !r.is_empty()) {
                rest = match r {
                    "tab" => "backtab",
                    _ if r.chars().count() == 1 => {
                        return Ok(Key {
                            code: KeyCode::Char(r.to_uppercase().chars().next().unwrap_or(' ')),
                            ctrl,
                            alt,
                        });
                    }
                    _ => r,
                };
            } else {
                break;
            }
        }
        let code = match rest {
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "enter" => KeyCode::Enter,
            "tab" => KeyCode::Tab,
            "backtab" => KeyCode::BackTab,
            "esc" => KeyCode::Esc,
            "space" => KeyCode::Char(' '),
            "pageup" => KeyCode::PageUp,
            "pagedown" => KeyCode::PageDown,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "backspace" => KeyCode::Backspace,
            "delete" => KeyCode::Delete,
            f if f.starts_with('f') && f.len() > 1 && f[1..].parse::<u8>().is_ok() => {
                KeyCode::F(f[1..].parse().unwrap_or(1))
            }
            c if c.chars().count() == 1 => KeyCode::Char(c.chars().next().unwrap_or(' ')),
            other => return Err(format!("unknown key {other:?}")),
        };
        Ok(Key { code, ctrl, alt })
    }

    pub fn from_event(e: &KeyEvent) -> Key {
        // terminals report shifted letters as uppercase chars: SHIFT is not part of the key
        let code = e.code;
        Key {
            code,
            ctrl: e.modifiers.contains(KeyModifiers::CONTROL),
            alt: e.modifiers.contains(KeyModifiers::ALT),
        }
    }

    /// How the key is shown in help and hints.
    pub fn label(&self) -> String {
        let base = match self.code {
            KeyCode::Char(' ') => "space".to_string(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::Up => "↑".into(),
            KeyCode::Down => "↓".into(),
            KeyCode::Left => "←".into(),
            KeyCode::Right => "→".into(),
            KeyCode::Enter => "enter".into(),
            KeyCode::Tab => "tab".into(),
            KeyCode::BackTab => "shift-tab".into(),
            KeyCode::Esc => "esc".into(),
            KeyCode::PageUp => "pgup".into(),
            KeyCode::PageDown => "pgdn".into(),
            KeyCode::Home => "home".into(),
            KeyCode::End => "end".into(),
            KeyCode::F(n) => format!("F{n}"),
            _ => "?".into(),
        };
        format!(
            "{}{}{}",
            if self.ctrl { "ctrl-" } else { "" },
            if self.alt { "alt-" } else { "" },
            base
        )
    }
}

#[derive(Debug, Clone)]
pub struct Keymap {
    map: HashMap<Key, Action>,
    /// Keys in file order, for help.
    order: Vec<(Key, Action)>,
}

impl Keymap {
    /// Parse a keymap table; errors name the key and the action.
    pub fn parse(text: &str) -> Result<Keymap, String> {
        let table: toml::Table = toml::from_str(text).map_err(|e| e.message().to_string())?;
        let mut km = Keymap {
            map: HashMap::new(),
            order: Vec::new(),
        };
        km.apply(&table)?;
        Ok(km)
    }

    #[allow(clippy::expect_used)] // cannot fail: the shipped keymap parses (tested)
    pub fn default_keys() -> Keymap {
        Keymap::parse(DEFAULT).expect("the shipped keymap parses (tested)")
    }

    /// Bind each `key = "action"` of `table` over the current bindings.
    pub fn apply(&mut self, table: &toml::Table) -> Result<(), String> {
        for (k, v) in table {
            let key = Key::parse(k).map_err(|e| format!("key {k:?}: {e}"))?;
            let name = v
                .as_str()
                .ok_or_else(|| format!("key {k:?}: the action must be a string like \"next_case\""))?;
            let action = Action::from_name(name)
                .ok_or_else(|| format!("key {k:?}: unknown action {name:?} (docs/keys.md lists them)"))?;
            self.order.retain(|(k2, _)| *k2 != key);
            self.order.push((key.clone(), action));
            self.map.insert(key, action);
        }
        Ok(())
    }

    pub fn action(&self, e: &KeyEvent) -> Option<Action> {
        self.map.get(&Key::from_event(e)).copied()
    }

    /// The keys bound to `action`, as shown in help.
    pub fn keys_for(&self, action: Action) -> Vec<String> {
        self.order
            .iter()
            .filter(|(_, a)| *a == action)
            .map(|(k, _)| k.label())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_keymap_parses_and_binds_every_action() {
        let km = Keymap::default_keys();
        for (_, a, name, _) in Action::ALL {
            assert!(!km.keys_for(*a).is_empty(), "{name} has no key");
        }
        let j = KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE);
        assert_eq!(km.action(&j), Some(Action::NextCase));
        let cd = KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL);
        assert_eq!(km.action(&cd), Some(Action::PageDown));
        let big_g = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(km.action(&big_g), Some(Action::LastCase));
    }

    #[test]
    fn user_overrides_replace_single_keys_and_bad_entries_are_named() {
        let mut km = Keymap::default_keys();
        km.apply(&toml::from_str("j = \"quit\"").unwrap()).unwrap();
        assert_eq!(
            km.action(&KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE)),
            Some(Action::Quit)
        );
        let e = km.apply(&toml::from_str("j = \"fly\"").unwrap()).unwrap_err();
        assert!(e.contains("fly") && e.contains("docs/keys.md"), "{e}");
        assert!(Keymap::parse("hyper-x = \"quit\"").is_err());
    }
}
