//! Keys: a prompt's line editing and submission, the sort menu, the help overlay's scrolling,
//! review mode's keys (the keymap's review layer), then the keymap's actions.

use super::*;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

impl App {
    /// A key press: overlays take their own keys; review mode the keys of the keymap's review
    /// layer; otherwise the keymap decides. Returns what it asks the event loop to do.
    pub fn key(&mut self, k: KeyEvent) -> Vec<Effect> {
        self.take_key(k);
        self.want_operating();
        self.take_effects()
    }

    fn take_key(&mut self, k: KeyEvent) {
        let app = self;
        match &mut app.overlay {
            Overlay::Prompt { kind, input } => match k.code {
                KeyCode::Esc => app.overlay = Overlay::None,
                KeyCode::Enter => {
                    let (kind, line) = (kind.clone(), std::mem::take(input));
                    app.overlay = Overlay::None;
                    match kind {
                        PromptKind::Filter => app.set_filter(&line),
                        PromptKind::Command => app.command(&line),
                        PromptKind::Note => app.review_note(&line),
                        PromptKind::Sign => app.review_sign(&line),
                        PromptKind::Tag => app.tag(&line),
                        PromptKind::ConfirmApproval {
                            noted, override_reason, ..
                        } => app.review_confirm(&line, noted, override_reason),
                    }
                }
                KeyCode::Backspace => {
                    input.pop();
                }
                // readline's ctrl-u (clear the line) and ctrl-w (the last word)
                KeyCode::Char('u') if k.modifiers.contains(KeyModifiers::CONTROL) => input.clear(),
                KeyCode::Char('w') if k.modifiers.contains(KeyModifiers::CONTROL) => {
                    let kept = input.trim_end().rfind(' ').map_or(0, |i| i + 1);
                    input.truncate(kept);
                }
                KeyCode::Char(c) if !k.modifiers.contains(KeyModifiers::CONTROL) => input.push(c),
                _ => {}
            },
            Overlay::Sort => {
                app.overlay = Overlay::None;
                if let KeyCode::Char(c) = k.code
                    && let Some(key) = SortKey::from_menu_key(c)
                {
                    app.set_sort(key);
                }
            }
            // the help scrolls (small terminals); any other key closes it
            Overlay::Help => match k.code {
                KeyCode::Char('j') | KeyCode::Down | KeyCode::Char(' ') | KeyCode::PageDown => {
                    app.help_scroll += if k.code == KeyCode::Char('j') || k.code == KeyCode::Down {
                        1
                    } else {
                        10
                    }
                }
                KeyCode::Char('k') | KeyCode::Up | KeyCode::PageUp => {
                    app.help_scroll = app
                        .help_scroll
                        .saturating_sub(if k.code == KeyCode::PageUp { 10 } else { 1 })
                }
                _ => app.overlay = Overlay::None,
            },
            Overlay::None => {
                // review mode: a reject's reason, a chosen flag, then the review layer
                if app.review.is_some() && app.review_key(k) {
                    return;
                }
                if let Some(a) = app.config.keymap.action(&k) {
                    app.apply(a);
                }
            }
        }
    }
}
