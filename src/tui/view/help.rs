//! Overlays: the `?` help listing every action and its keys (from the keymap in force), and the
//! sort-key chooser. They are drawn where the image would be; the image is hidden meanwhile.

use super::super::action::Action;
use super::super::app::{App, SortKey};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph};

pub fn render_help(app: &App, f: &mut Frame, area: Rect) {
    let t = &app.config.theme;
    f.render_widget(Clear, area);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Thick)
        .border_style(Style::default().fg(t.ui.border_focus))
        .title(" Keys · esc closes ")
        .style(Style::default().bg(t.ui.background).fg(t.ui.text));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let mut lines: Vec<Line> = Vec::new();
    let mut group = "";
    for (g, action, _, doc) in Action::ALL {
        // the nine class toggles read better as one line
        let (keys, doc) = match action.class_toggle() {
            Some(0) => ("1…9".to_string(), "show/hide class N (numbers as in the legend)"),
            Some(_) => continue,
            None => (app.config.keymap.keys_for(*action).join(" "), *doc),
        };
        if *g != group {
            if !group.is_empty() {
                lines.push(Line::raw(""));
            }
            group = g;
            lines.push(Line::styled(
                g.to_string(),
                Style::default().fg(t.ui.accent).add_modifier(Modifier::BOLD),
            ));
        }
        lines.push(Line::from(vec![
            Span::styled(format!("  {keys:<14}"), Style::default().add_modifier(Modifier::BOLD)),
            Span::raw(doc.to_string()),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        format!(
            "graphics: {} · keys and theme: docs/keys.md, ~/.config/lightbox/config.toml",
            app.graphics
        ),
        Style::default().fg(t.ui.dim),
    ));
    // two columns when the list is taller than the area; else it scrolls (j/k)
    let h = inner.height as usize;
    if lines.len() > h && inner.width < 100 {
        let max_scroll = lines.len().saturating_sub(h.saturating_sub(1));
        let top = app.help_scroll.min(max_scroll);
        let mut shown: Vec<Line> = lines.into_iter().skip(top).take(h.saturating_sub(1)).collect();
        shown.push(Line::styled(
            format!(
                "j/k scroll · line {} of {} · any other key closes",
                top + 1,
                max_scroll + h.saturating_sub(1)
            ),
            Style::default().fg(t.ui.accent),
        ));
        f.render_widget(Paragraph::new(shown), inner);
        return;
    }
    if lines.len() > h && inner.width >= 100 {
        let half = inner.width / 2;
        let split = lines.len().div_ceil(2).max(h.min(lines.len()));
        let right: Vec<Line> = lines.split_off(split.min(lines.len()));
        f.render_widget(Paragraph::new(lines), Rect { width: half, ..inner });
        f.render_widget(
            Paragraph::new(right),
            Rect {
                x: inner.x + half,
                width: inner.width - half,
                ..inner
            },
        );
    } else {
        f.render_widget(Paragraph::new(lines), inner);
    }
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
