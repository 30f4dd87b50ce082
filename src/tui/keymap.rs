//! Keys to actions, from a TOML table (`j = "next_case"`): the shipped defaults
//! (`themes/keymap.toml`) with the user's `[keys]` on top. Its `[review]` table is the review
//! layer (`a = "accept"`): in review mode those keys do the review actions and nothing else, over
//! whatever the same key does in the dashboard; the user's `[keys.review]` goes on top of it.

use super::action::{Action, ReviewAction};
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

/// Which table of a keymap an entry is in: the dashboard's keys, or the review layer
/// (`[review]` in the shipped keymap, `[keys.review]` in the user config).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    Base,
    Review,
}

impl Layer {
    /// The table as the user config spells it.
    pub fn table(&self) -> &'static str {
        match self {
            Layer::Base => "[keys]",
            Layer::Review => "[keys.review]",
        }
    }
}

/// A keymap entry that cannot be used: the layer it is in, and what is wrong with it, naming
/// the key and the action.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct KeymapError {
    pub layer: Layer,
    pub message: String,
}

fn err(layer: Layer, message: String) -> KeymapError {
    KeymapError { layer, message }
}

/// The value that removes a key from a layer (`r = "none"` under `[keys.review]` gives `r`
/// back to the dashboard while reviewing).
pub const UNBOUND: &str = "none";

#[derive(Debug, Clone)]
pub struct Keymap {
    map: HashMap<Key, Action>,
    /// Keys in file order, for help.
    order: Vec<(Key, Action)>,
    /// The review layer, in file order: in review mode these keys come before the others (and a
    /// key bound here does only this while reviewing).
    review: Vec<(Key, ReviewAction)>,
}

/// Within one table, two spellings of one key (`A` and `shift-a`, `space` and `" "`) bound to
/// different actions are an error naming both.
fn bound_once<'a>(
    seen: &mut HashMap<Key, (&'a str, &'a str)>,
    key: &Key,
    spelled: &'a str,
    name: &'a str,
    layer: Layer,
) -> Result<(), KeymapError> {
    match seen.insert(key.clone(), (spelled, name)) {
        Some((first, was)) if was != name => Err(err(
            layer,
            format!(
                "key {first:?} is bound twice: {first:?} = {was:?} and {spelled:?} = {name:?} are the same key \
                 ({}); keep one",
                key.label()
            ),
        )),
        _ => Ok(()),
    }
}

impl Keymap {
    /// Parse a keymap table; errors name the key and the action.
    pub fn parse(text: &str) -> Result<Keymap, KeymapError> {
        let table: toml::Table = toml::from_str(text).map_err(|e| err(Layer::Base, e.message().to_string()))?;
        let mut km = Keymap {
            map: HashMap::new(),
            order: Vec::new(),
            review: Vec::new(),
        };
        km.apply(&table)?;
        Ok(km)
    }

    #[allow(clippy::expect_used)] // cannot fail: the shipped keymap parses (tested)
    pub fn default_keys() -> Keymap {
        Keymap::parse(DEFAULT).expect("the shipped keymap parses (tested)")
    }

    /// Bind each `key = "action"` of `table` over the current bindings (`"none"` unbinds the
    /// key); its `review` table over the review layer.
    pub fn apply(&mut self, table: &toml::Table) -> Result<(), KeymapError> {
        let base = Layer::Base;
        let mut seen = HashMap::new();
        for (k, v) in table {
            if let Some(t) = v.as_table() {
                if k != "review" {
                    return Err(err(
                        base,
                        format!(
                            "{k:?} is a table: the only table of keys is the review layer, [keys.review]; \
                             other entries are key = \"action\""
                        ),
                    ));
                }
                self.apply_review(t)?;
                continue;
            }
            let key = Key::parse(k).map_err(|e| err(base, format!("key {k:?}: {e}")))?;
            let name = v.as_str().ok_or_else(|| {
                err(
                    base,
                    format!("key {k:?}: the action must be a string like \"next_case\""),
                )
            })?;
            bound_once(&mut seen, &key, k, name, base)?;
            self.order.retain(|(k2, _)| *k2 != key);
            if name == UNBOUND {
                self.map.remove(&key);
                continue;
            }
            let action = Action::from_name(name).ok_or_else(|| {
                err(
                    base,
                    if ReviewAction::from_name(name).is_some() {
                        format!("key {k:?}: {name:?} is a review action: bind it under [keys.review]")
                    } else {
                        format!("key {k:?}: unknown action {name:?} (docs/keys.md lists them)")
                    },
                )
            })?;
            self.order.push((key.clone(), action));
            self.map.insert(key, action);
        }
        Ok(())
    }

    /// Bind each `key = "review action"` of `table` over the review layer; afterwards every
    /// review action must still have a key (a reviewer who cannot reject or sign cannot review).
    fn apply_review(&mut self, table: &toml::Table) -> Result<(), KeymapError> {
        let layer = Layer::Review;
        let names = || {
            ReviewAction::ALL
                .iter()
                .map(|(_, n, _)| *n)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut seen = HashMap::new();
        for (k, v) in table {
            let key = Key::parse(k).map_err(|e| err(layer, format!("key {k:?}: {e}")))?;
            let name = v.as_str().ok_or_else(|| {
                err(
                    layer,
                    format!(
                        "key {k:?}: the review action must be a string like \"accept\" ({})",
                        names()
                    ),
                )
            })?;
            bound_once(&mut seen, &key, k, name, layer)?;
            self.review.retain(|(k2, _)| *k2 != key);
            if name == UNBOUND {
                continue;
            }
            let action = ReviewAction::from_name(name).ok_or_else(|| {
                err(
                    layer,
                    if Action::from_name(name).is_some() {
                        format!(
                            "key {k:?}: {name:?} is a dashboard action, not a review one: bind it under [keys] \
                             (review actions: {})",
                            names()
                        )
                    } else {
                        format!(
                            "key {k:?}: unknown review action {name:?} (review actions: {})",
                            names()
                        )
                    },
                )
            })?;
            self.review.push((key, action));
        }
        for (a, name, _) in ReviewAction::ALL {
            if !self.review.iter().any(|(_, b)| b == a) {
                return Err(err(
                    layer,
                    format!("no key is left for the review action {name:?}: bind one, e.g. x = \"{name}\""),
                ));
            }
        }
        Ok(())
    }

    pub fn action(&self, e: &KeyEvent) -> Option<Action> {
        self.map.get(&Key::from_event(e)).copied()
    }

    /// The review layer's action for a key (review mode asks this before [`Keymap::action`]).
    pub fn review_action(&self, e: &KeyEvent) -> Option<ReviewAction> {
        let key = Key::from_event(e);
        self.review.iter().find(|(k, _)| *k == key).map(|(_, a)| *a)
    }

    /// The keys bound to `action`, as shown in help.
    pub fn keys_for(&self, action: Action) -> Vec<String> {
        self.order
            .iter()
            .filter(|(_, a)| *a == action)
            .map(|(k, _)| k.label())
            .collect()
    }

    /// The keys that do `action` now: while reviewing, those the review layer does not take.
    pub fn keys_now(&self, action: Action, reviewing: bool) -> Vec<String> {
        self.order
            .iter()
            .filter(|(k, a)| *a == action && !(reviewing && self.review.iter().any(|(r, _)| r == k)))
            .map(|(k, _)| k.label())
            .collect()
    }

    /// The keys of `action` that the review layer takes while reviewing, with what they do then.
    pub fn shadowed(&self, action: Action) -> Vec<(String, ReviewAction)> {
        self.order
            .iter()
            .filter(|(_, a)| *a == action)
            .filter_map(|(k, _)| self.review.iter().find(|(r, _)| r == k).map(|(_, ra)| (k.label(), *ra)))
            .collect()
    }

    /// The review layer's keys for `action`, as shown in help and hints.
    pub fn review_keys(&self, action: ReviewAction) -> Vec<String> {
        self.review
            .iter()
            .filter(|(_, a)| *a == action)
            .map(|(k, _)| k.label())
            .collect()
    }

    /// The first review key of `action` (every review action has one: [`Keymap::apply`] checks).
    pub fn review_key(&self, action: ReviewAction) -> String {
        self.review_keys(action)
            .into_iter()
            .next()
            .unwrap_or_else(|| action.name().to_string())
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
        assert!(e.message.contains("fly") && e.message.contains("docs/keys.md"), "{e}");
        assert!(Keymap::parse("hyper-x = \"quit\"").is_err());
        km.apply(&toml::from_str("j = \"none\"").unwrap()).unwrap();
        assert_eq!(km.action(&KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE)), None);
    }

    #[test]
    fn the_review_layer_binds_every_review_action_and_shadows_the_dashboards_keys() {
        let km = Keymap::default_keys();
        for (a, name, _) in ReviewAction::ALL {
            assert!(!km.review_keys(*a).is_empty(), "{name} has no review key");
        }
        let ev = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
        assert_eq!(km.review_action(&ev('r')), Some(ReviewAction::Reject));
        assert_eq!(km.review_action(&ev('S')), Some(ReviewAction::Sign));
        assert_eq!(km.review_action(&ev('j')), None);
        // the dashboard's meaning of r, n, f is taken while reviewing
        assert_eq!(km.keys_for(Action::CycleRun), ["r"]);
        assert!(km.keys_now(Action::CycleRun, true).is_empty());
        assert_eq!(km.shadowed(Action::CycleRun), [("r".to_string(), ReviewAction::Reject)]);
        assert_eq!(km.keys_now(Action::NextCase, true), ["j", "↓", "space"]);
        assert_eq!(km.keys_now(Action::NextCase, false), ["j", "↓", "space", "n"]);
        // ctrl-r is not r
        let ctrl_r = KeyEvent::new(KeyCode::Char('r'), KeyModifiers::CONTROL);
        assert_eq!(km.review_action(&ctrl_r), None);
    }

    #[test]
    fn two_spellings_of_one_key_in_one_table_are_an_error_naming_both() {
        let e = Keymap::parse("space = \"next_case\"\n\" \" = \"quit\"\n").unwrap_err();
        assert_eq!(e.layer, Layer::Base);
        assert!(
            e.message.contains("\"space\" = \"next_case\"") && e.message.contains("\" \" = \"quit\""),
            "{e}"
        );
        // the same action twice is only redundant
        assert!(Keymap::parse("space = \"next_case\"\n\" \" = \"next_case\"\n").is_ok());
        // a user's key over a shipped one is an override, not a conflict
        let mut km = Keymap::default_keys();
        km.apply(&toml::from_str("[review]\nr = \"accept\"\nx = \"reject\"").unwrap())
            .unwrap();
        let r = KeyEvent::new(KeyCode::Char('r'), KeyModifiers::NONE);
        assert_eq!(km.review_action(&r), Some(ReviewAction::Accept));
        let e = km
            .apply(&toml::from_str("[review]\nbacktab = \"accept\"\nshift-tab = \"sign\"").unwrap())
            .unwrap_err();
        assert_eq!(e.layer, Layer::Review);
        assert!(
            e.message
                .contains("\"backtab\" = \"accept\" and \"shift-tab\" = \"sign\""),
            "{e}"
        );
        let e = km
            .apply(&toml::from_str("[reviw]\na = \"accept\"").unwrap())
            .unwrap_err();
        assert!(
            e.message.contains("reviw") && e.message.contains("[keys.review]"),
            "{e}"
        );
    }
}
