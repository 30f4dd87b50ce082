//! The triage queue: one row per case, with status glyphs and the sort key's value. Only the
//! visible rows are built, so 10,000 cases scroll without lag.

use super::super::app::{App, Pane, SortKey};
use super::pane_block;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// The first visible row for a list `h` rows high: the selection stays in the middle.
pub fn top_row(app: &App, h: usize) -> usize {
    app.pos
        .saturating_sub(h.saturating_sub(1) / 2)
        .min(app.order.len().saturating_sub(h))
}

pub fn render(app: &App, f: &mut Frame, area: Rect) {
    let t = &app.config.theme;
    let total = app.pack.cases.len();
    let shown = app.order.len();
    let title = if app.filter.is_some() {
        format!(
            " Cases {}/{} of {total} ",
            if shown == 0 { 0 } else { app.pos + 1 },
            shown
        )
    } else {
        format!(" Cases {}/{} ", if shown == 0 { 0 } else { app.pos + 1 }, shown)
    };
    let column = match app.sort {
        _ if app.review.is_some() => "verdict",
        SortKey::Case if app.run.is_some() => "preds",
        SortKey::Case => "",
        k => k.name(),
    };
    let title = Line::from(vec![
        Span::styled(title, Style::default().fg(t.ui.text)),
        Span::styled(
            if column.is_empty() {
                String::new()
            } else {
                format!("· {column} ")
            },
            Style::default().fg(t.ui.dim),
        ),
    ]);
    let block = pane_block(app, Pane::Cases, title);
    let inner = block.inner(area);
    f.render_widget(block, area);
    if inner.height == 0 {
        return;
    }
    if app.order.is_empty() {
        let msg = if total == 0 {
            "This pack has no cases.\nCheck `images` in lightbox.toml.".to_string()
        } else {
            format!(
                "No case matches the filter.\n{} clears it.",
                app.key_or(crate::tui::action::Action::ClearFilter, ":filter alone")
            )
        };
        f.render_widget(Paragraph::new(msg).style(Style::default().fg(t.ui.dim)), inner);
        return;
    }
    let h = inner.height as usize;
    let top = top_row(app, h);
    let w = inner.width as usize;
    let mut lines = Vec::with_capacity(h);
    for (row, &c) in app.order.iter().enumerate().skip(top).take(h) {
        let selected = row == app.pos;
        let worst = app.case_flags(c).map(|f| f.severity).max();
        let flag = match worst {
            Some(crate::rules::Severity::Critical) => Span::styled("●", Style::default().fg(t.flag.critical)),
            Some(crate::rules::Severity::Major) => Span::styled("▲", Style::default().fg(t.flag.major)),
            Some(crate::rules::Severity::Minor) => Span::styled("·", Style::default().fg(t.flag.minor)),
            None => Span::raw(" "),
        };
        let (errors, warnings) = app.problem_counts[c];
        let glyph = if errors > 0 {
            Span::styled("✖", Style::default().fg(t.status.error))
        } else if warnings > 0 {
            Span::styled("!", Style::default().fg(t.status.warning))
        } else {
            Span::raw(" ")
        };
        let mark = app.review.as_ref().and_then(|r| r.mark(&app.pack.cases[c].id.0));
        // + 0.0: no "-0" in the list
        let value = match (app.sort, app.sort_value(c).map(|v| v + 0.0)) {
            _ if mark.is_some() => mark.unwrap_or_default().to_string(),
            (SortKey::Case, _) => app
                .run
                .map(|r| app.pack.runs[r].annotations[c].instances.len())
                .filter(|n| *n > 0)
                .map(|n| format!("{n}"))
                .unwrap_or_default(),
            (SortKey::Uncertain, Some(v)) => format!("{:.2}", -v),
            (SortKey::MaxScore, Some(v)) => format!("{v:.2}"),
            (SortKey::Error, Some(v)) => format!("{v:.1}"),
            (SortKey::Regression, Some(v)) if v.abs() < 0.05 => "0.0".into(),
            (SortKey::Regression, Some(v)) => format!("{v:+.1}"),
            (SortKey::Disagreement | SortKey::Entropy, Some(v)) => format!("{v:.2}"),
            (SortKey::Ood, Some(v)) => format!("{v:.1}"),
            // the sort weighs severities; the list shows how many flags (the glyph, the worst)
            (SortKey::Flags, Some(_)) => match app.case_flags(c).count() {
                0 => String::new(),
                n => n.to_string(),
            },
            (SortKey::Problems, Some(_)) => {
                let (e, w) = app.problem_counts[c];
                match (e, w) {
                    (0, 0) => String::new(),
                    (e, 0) => format!("{e}E"),
                    (0, w) => format!("{w}W"),
                    (e, w) => format!("{e}E{w}W"),
                }
            }
            (_, Some(v)) => format!("{v:.0}"),
            (_, None) => "-".into(),
        };
        let id = &app.pack.cases[c].id.0;
        let avail = w.saturating_sub(6 + value.chars().count() + 1);
        let id_shown: String = if id.chars().count() > avail {
            format!(
                "…{}",
                id.chars()
                    .rev()
                    .take(avail.saturating_sub(1))
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect::<String>()
            )
        } else {
            id.clone()
        };
        // compare mode: `+` before the flag glyph when the candidate has a flag the baseline has not
        let new_flag = app.compare_pair().is_some().then(|| {
            if app
                .flags
                .iter()
                .any(|f| f.case == c && app.flag_change(f) == Some("new"))
            {
                Span::styled("+", Style::default().fg(t.flag.critical).add_modifier(Modifier::BOLD))
            } else {
                Span::raw(" ")
            }
        });
        let pad = w
            .saturating_sub(2 + id_shown.chars().count() + 4 + value.chars().count() + usize::from(new_flag.is_some()));
        let marker = if selected { "▌" } else { " " };
        let mut style = Style::default().fg(t.ui.text);
        if selected {
            style = style.bg(t.ui.selection).add_modifier(Modifier::BOLD);
        }
        lines.push(
            Line::from(vec![
                Span::styled(marker, Style::default().fg(t.ui.accent)),
                Span::raw(" "),
                Span::raw(id_shown),
                Span::raw(" ".repeat(pad)),
                new_flag.unwrap_or_default(),
                flag,
                Span::raw(" "),
                glyph,
                Span::raw(" "),
                Span::styled(value, Style::default().fg(t.ui.dim)),
            ])
            .style(style),
        );
    }
    f.render_widget(Paragraph::new(lines), inner);
}
