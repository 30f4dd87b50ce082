//! Overlays: the `?` help listing every action and the keys that do it now (from the keymap in
//! force; while reviewing, the review layer first and no key it takes shown as doing anything
//! else), and the sort-key chooser. They are drawn where the image would be; the image is hidden
//! meanwhile. Every help line is whole: long ones wrap under their description.

use super::super::action::{Action, ReviewAction};
use super::super::app::{App, SortKey};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph};

/// One entry of the help: a group's heading, a key and what it does, or a note.
#[derive(Debug, Clone, PartialEq)]
enum Row {
    Head(String),
    Keys {
        keys: String,
        doc: String,
        /// Nothing does it now (every key of the action is taken while reviewing).
        unbound: bool,
    },
    Note(String),
}

/// The key column: two spaces, the keys, at least one space.
const KEY_COLUMN: usize = 16;

/// What the help lists, in order: while reviewing, the review layer first (its keys do nothing
/// else then), and the dashboard's actions with only the keys that still do them.
fn rows(app: &App) -> Vec<Row> {
    let km = &app.config.keymap;
    let reviewing = app.review.is_some();
    let mut rows = Vec::new();
    if reviewing {
        rows.push(Row::Head("Review (these keys do this while reviewing)".into()));
        for (a, _, doc) in ReviewAction::ALL {
            rows.push(Row::Keys {
                keys: km.review_keys(*a).join(" "),
                doc: doc.to_string(),
                unbound: false,
            });
        }
        rows.push(Row::Keys {
            keys: "1…9".into(),
            doc: format!(
                "after {}: the reason, as the status bar numbers them",
                km.review_key(ReviewAction::Reject)
            ),
            unbound: false,
        });
        rows.push(Row::Keys {
            keys: "esc".into(),
            doc: "cancel a reject; take a chosen flag back (verdicts on the whole case)".into(),
            unbound: false,
        });
    }
    let mut group = "";
    for (g, action, _, doc) in Action::ALL {
        if *g != group {
            group = g;
            rows.push(Row::Head(g.to_string()));
        }
        // the nine class toggles read better as one line
        if let Some(k) = action.class_toggle() {
            let all_digits = (0..9).all(|i| {
                Action::ALL
                    .iter()
                    .find(|(_, a, _, _)| a.class_toggle() == Some(i))
                    .is_some_and(|(_, a, _, _)| km.keys_now(*a, reviewing).contains(&(i + 1).to_string()))
            });
            if all_digits {
                if k == 0 {
                    rows.push(Row::Keys {
                        keys: "1…9".into(),
                        doc: "show/hide class N (numbers as in the legend)".into(),
                        unbound: false,
                    });
                }
                continue;
            }
        }
        let keys = km.keys_now(*action, reviewing);
        let taken = if reviewing { km.shadowed(*action) } else { Vec::new() };
        if keys.is_empty() && !taken.is_empty() {
            let by: Vec<String> = taken.iter().map(|(k, ra)| format!("{k} is {}", ra.name())).collect();
            rows.push(Row::Keys {
                keys: "—".into(),
                doc: format!("{doc} (no key while reviewing: {})", by.join(", ")),
                unbound: true,
            });
        } else {
            rows.push(Row::Keys {
                keys: keys.join(" "),
                doc: doc.to_string(),
                unbound: keys.is_empty(),
            });
        }
    }
    rows.push(Row::Note(format!(
        "graphics: {} · keys and theme: docs/keys.md, ~/.config/lightbox/config.toml",
        app.graphics
    )));
    rows
}

/// Words of `text` in lines of at most `width` columns (a word longer than a line is split
/// where the line ends: nothing is cut off).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let w = |s: &str| Span::raw(s).width();
    let mut out = Vec::new();
    let mut line = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let mut word = word.to_string();
        loop {
            let room = if line.is_empty() {
                width
            } else {
                width.saturating_sub(w(&line) + 1)
            };
            if w(&word) <= room {
                if !line.is_empty() {
                    line.push(' ');
                }
                line.push_str(&word);
                break;
            }
            if !line.is_empty() {
                out.push(std::mem::take(&mut line));
                continue;
            }
            // longer than a whole line: split it
            let mut head = String::new();
            let mut rest = word.chars();
            for c in rest.by_ref() {
                if !head.is_empty() && w(&head) + w(&c.to_string()) > width {
                    let tail: String = std::iter::once(c).chain(rest).collect();
                    out.push(std::mem::take(&mut head));
                    word = tail;
                    break;
                }
                head.push(c);
            }
            if head.is_empty() {
                continue;
            }
            out.push(head);
            break;
        }
    }
    if !line.is_empty() || out.is_empty() {
        out.push(line);
    }
    out
}

/// The help's rows as screen lines `width` columns wide, in blocks that are kept together in a
/// column (a heading with its first entry, an entry with its wrapped lines).
fn blocks(app: &App, rows: &[Row], width: usize) -> Vec<Vec<Line<'static>>> {
    let t = &app.config.theme;
    let head = Style::default().fg(t.ui.accent).add_modifier(Modifier::BOLD);
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let dim = Style::default().fg(t.ui.dim);
    let doc_w = width.saturating_sub(KEY_COLUMN).max(12);
    let mut out: Vec<Vec<Line<'static>>> = Vec::new();
    let mut pending_head: Option<Vec<Line<'static>>> = None;
    for row in rows {
        let mut block = pending_head.take().unwrap_or_default();
        match row {
            Row::Head(h) => {
                if !out.is_empty() {
                    block.push(Line::raw(""));
                }
                block.extend(wrap(h, width).into_iter().map(|l| Line::styled(l, head)));
                pending_head = Some(block);
                continue;
            }
            Row::Keys { keys, doc, unbound } => {
                let doc_style = if *unbound { dim } else { Style::default() };
                let mut doc_lines = wrap(doc, doc_w).into_iter();
                let key_w = Span::raw(keys.as_str()).width();
                if key_w + 3 > KEY_COLUMN {
                    // a long list of keys gets its own line
                    block.extend(
                        wrap(keys, width.saturating_sub(2))
                            .into_iter()
                            .map(|k| Line::from(Span::styled(format!("  {k}"), bold))),
                    );
                } else {
                    let first = doc_lines.next().unwrap_or_default();
                    let pad = KEY_COLUMN - 2 - key_w;
                    block.push(Line::from(vec![
                        Span::styled(format!("  {keys}{}", " ".repeat(pad)), bold),
                        Span::styled(first, doc_style),
                    ]));
                }
                for l in doc_lines {
                    block.push(Line::from(vec![
                        Span::raw(" ".repeat(KEY_COLUMN)),
                        Span::styled(l, doc_style),
                    ]));
                }
            }
            Row::Note(n) => {
                block.push(Line::raw(""));
                block.extend(wrap(n, width).into_iter().map(|l| Line::styled(l, dim)));
            }
        }
        out.push(block);
    }
    out
}

/// Blocks into `columns` columns of at most `height` lines, never splitting a block; `None`
/// when they do not fit.
fn columns(blocks: &[Vec<Line<'static>>], columns: usize, height: usize) -> Option<Vec<Vec<Line<'static>>>> {
    let mut cols: Vec<Vec<Line<'static>>> = vec![Vec::new()];
    for b in blocks {
        let mut b = b.clone();
        let used = cols.last().map_or(0, |c| c.len());
        if used + b.len() > height {
            if cols.len() == columns {
                return None;
            }
            // a new column does not start with a blank line
            if b.first().is_some_and(|l| l.width() == 0) {
                b.remove(0);
            }
            if b.len() > height {
                return None;
            }
            cols.push(Vec::new());
        }
        cols.last_mut()?.extend(b);
    }
    Some(cols)
}

/// How the help is laid out in an area.
enum Laid {
    /// Every line fits: one column, or two `width` columns wide.
    Columns(Vec<Vec<Line<'static>>>, u16),
    /// Too tall: one column that scrolls.
    Scroll(Vec<Line<'static>>),
}

const GAP: u16 = 3;

/// One column when it fits, else two when the area is wide enough and they fit, else one
/// column that scrolls.
fn lay_out(app: &App, inner: Rect) -> Laid {
    let (w, h) = (inner.width as usize, inner.height as usize);
    let rows = rows(app);
    let one = blocks(app, &rows, w);
    if let Some(cols) = columns(&one, 1, h) {
        return Laid::Columns(cols, inner.width);
    }
    if inner.width >= 100 {
        let col_w = (inner.width - GAP) / 2;
        if let Some(cols) = columns(&blocks(app, &rows, col_w as usize), 2, h) {
            return Laid::Columns(cols, col_w);
        }
    }
    Laid::Scroll(one.into_iter().flatten().collect())
}

fn help_block(app: &App) -> Block<'static> {
    let t = &app.config.theme;
    let title = if app.review.is_some() {
        " Keys while reviewing · esc closes "
    } else {
        " Keys · esc closes "
    };
    Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Thick)
        .border_style(Style::default().fg(t.ui.border_focus))
        .title(title)
        .style(Style::default().bg(t.ui.background).fg(t.ui.text))
}

/// The lines a scrolling help has below its last row (0 when it does not scroll).
pub fn max_scroll(app: &App, area: Rect) -> usize {
    let inner = help_block(app).inner(area);
    match lay_out(app, inner) {
        Laid::Scroll(lines) => lines
            .len()
            .saturating_sub((inner.height as usize).saturating_sub(1).max(1)),
        Laid::Columns(..) => 0,
    }
}

/// The help overlay: every action with the keys that do it now, wrapped so that every line is
/// whole; in one column, in two when the area is wide and one is too tall, else scrolling.
pub fn render_help(app: &App, f: &mut Frame, area: Rect) {
    let t = &app.config.theme;
    f.render_widget(Clear, area);
    let block = help_block(app);
    let inner = block.inner(area);
    f.render_widget(block, area);
    if inner.width == 0 || inner.height == 0 {
        return;
    }
    let lines = match lay_out(app, inner) {
        Laid::Columns(cols, col_w) => {
            for (i, col) in cols.into_iter().enumerate() {
                let x = inner.x + i as u16 * (col_w + GAP);
                f.render_widget(
                    Paragraph::new(col),
                    Rect {
                        x,
                        width: col_w,
                        ..inner
                    },
                );
            }
            return;
        }
        Laid::Scroll(lines) => lines,
    };
    // too tall: one column that scrolls (j/k), the last line saying where it is
    let page = (inner.height as usize).saturating_sub(1).max(1);
    let max_scroll = lines.len().saturating_sub(page);
    let top = app.help_scroll.min(max_scroll);
    let mut shown: Vec<Line> = lines.iter().skip(top).take(page).cloned().collect();
    let more = if top + page < lines.len() { "↓ more · " } else { "" };
    shown.resize(page, Line::raw(""));
    shown.push(Line::styled(
        format!(
            "{more}j/k scroll · lines {}–{} of {} · any other key closes",
            top + 1,
            (top + page).min(lines.len()),
            lines.len()
        ),
        Style::default().fg(t.ui.accent),
    ));
    f.render_widget(Paragraph::new(shown), inner);
}

pub fn render_sort(app: &App, f: &mut Frame, area: Rect) {
    let t = &app.config.theme;
    let h = SortKey::ALL.len() as u16 + 4;
    let w = 44.min(area.width);
    let r = Rect {
        x: area.x + (area.width.saturating_sub(w)) / 2,
        y: area.y + (area.height.saturating_sub(h)) / 2,
        width: w,
        height: h.min(area.height),
    };
    f.render_widget(Clear, area);
    f.render_widget(Block::default().style(Style::default().bg(t.ui.background)), area);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Thick)
        .title(" Sort cases by ")
        .border_style(Style::default().fg(t.ui.border_focus));
    let inner = block.inner(r);
    f.render_widget(block, r);
    let mut lines: Vec<Line> = SortKey::ALL
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let cur = *k == app.sort;
            Line::from(vec![
                Span::styled(
                    format!(" {} ", SortKey::menu_key(i)),
                    Style::default().fg(t.ui.accent).add_modifier(Modifier::BOLD),
                ),
                Span::styled(
                    k.name().to_string(),
                    if cur {
                        Style::default().add_modifier(Modifier::BOLD)
                    } else {
                        Style::default()
                    },
                ),
                Span::raw(if cur { "  (current)" } else { "" }),
            ])
        })
        .collect();
    lines.push(Line::styled(
        format!(
            " 1–9, a–{} choose · esc cancel",
            SortKey::menu_key(SortKey::ALL.len() - 1)
        ),
        Style::default().fg(t.ui.dim),
    ));
    f.render_widget(Paragraph::new(lines), inner);
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn help_text_wraps_at_blanks_and_splits_only_words_longer_than_a_line() {
        assert_eq!(
            wrap("window/level preset: file, auto, full", 16),
            ["window/level", "preset: file,", "auto, full"]
        );
        assert_eq!(
            wrap("~/.config/lightbox/config.toml", 12),
            ["~/.config/li", "ghtbox/confi", "g.toml"]
        );
        assert_eq!(wrap("", 10), [""]);
        for w in 1..40 {
            let text = "swap the two runs in place (compare mode): same case, zoom and window";
            let lines = wrap(text, w);
            assert!(lines.iter().all(|l| l.chars().count() <= w), "{w}: {lines:?}");
            assert_eq!(
                lines.concat().replace(' ', ""),
                text.replace(' ', ""),
                "{w}: every character kept"
            );
        }
    }
}
