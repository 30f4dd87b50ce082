//! The status bar: pack, run, position, filter and sort in force, the latest notice, key hints;
//! or the prompt being typed.

use super::super::app::{App, Overlay, PromptKind};
use crate::pack::Level;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// Narrower than this, the status bar has two rows: the notice gets the second to itself.
pub const TWO_ROWS_BELOW: u16 = 120;

/// The status bar's height: two rows reviewing or in a narrow terminal, else one.
pub fn rows(app: &App, width: u16) -> u16 {
    if app.review.is_some() || width < TWO_ROWS_BELOW {
        2
    } else {
        1
    }
}

pub fn render(app: &App, f: &mut Frame, area: Rect) {
    let t = &app.config.theme;
    let base = Style::default().bg(t.ui.status_background).fg(t.ui.text);
    let dim = Style::default().fg(t.ui.dim);
    if let Overlay::Prompt { kind, input } = &app.overlay {
        let (lead, hint) = match kind {
            PromptKind::ConfirmApproval { question, .. } => ("confirm:", question.as_str()),
            PromptKind::Filter => ("/", "enter apply · esc cancel · e.g. class:opacity score>0.8"),
            PromptKind::Command => (":", "enter run · esc cancel · goto N, run NAME, export DIR"),
            PromptKind::Note => ("note:", "enter record · esc cancel"),
            PromptKind::Tag => ("tags:", "enter apply · esc cancel · words add, -word removes"),
            PromptKind::Sign => (
                "sign:",
                "type approve or reject, then enter · with required cases open, add why: approve <reason>",
            ),
        };
        let line = Line::from(vec![
            Span::styled(
                format!(" {lead} "),
                Style::default().fg(t.ui.accent).add_modifier(Modifier::BOLD),
            ),
            Span::raw(input.clone()),
            Span::styled("▏", Style::default().fg(t.ui.accent)),
            Span::styled(
                format!("   {hint}"),
                if matches!(kind, PromptKind::ConfirmApproval { .. }) {
                    Style::default().fg(t.status.warning).add_modifier(Modifier::BOLD)
                } else {
                    dim
                },
            ),
        ]);
        f.render_widget(Paragraph::new(fit(line.spans, area, None)).style(base), area);
        return;
    }
    if let Some(rv) = app.review.as_ref().filter(|r| r.choosing_reason) {
        let mut spans = vec![Span::styled(
            " reject because: ",
            Style::default().fg(t.status.error).add_modifier(Modifier::BOLD),
        )];
        for (i, r) in rv.reasons.iter().enumerate() {
            spans.push(Span::styled(
                format!("{} ", i + 1),
                Style::default().fg(t.ui.accent).add_modifier(Modifier::BOLD),
            ));
            // a reason is not broken across the two rows
            spans.push(Span::raw(format!("{}   ", r.replace(' ', "\u{a0}"))));
        }
        spans.push(Span::styled("esc cancels", dim));
        f.render_widget(Paragraph::new(fit(spans, area, None)).style(base), area);
        return;
    }
    // reviewing in a narrow terminal, the progress comes first and whole: the pack's name and the
    // position (the case list's title has it) make way
    let narrow_review = app.review.is_some() && area.width < 120;
    let mut spans = if narrow_review {
        vec![Span::raw("")]
    } else {
        vec![Span::styled(
            format!(" {} ", app.pack.manifest.name),
            Style::default().add_modifier(Modifier::BOLD),
        )]
    };
    let sep = || Span::styled(" · ", dim);
    if let Some(rv) = &app.review {
        spans.push(if narrow_review { Span::raw(" ") } else { sep() });
        spans.push(Span::styled(
            format!("review {} · {}", rv.release, rv.progress),
            Style::default().fg(t.ui.accent).add_modifier(Modifier::BOLD),
        ));
        if rv.pending > 0 {
            spans.push(Span::styled(" · recording…", Style::default().fg(t.status.warning)));
        }
    } else if let Some(r) = app.run {
        spans.push(sep());
        spans.push(Span::raw(format!("run {}", app.pack.runs[r].name.0)));
    }
    if !narrow_review {
        spans.push(sep());
        let total = app.order.len();
        spans.push(Span::raw(format!(
            "{} / {}",
            if total == 0 { 0 } else { app.pos + 1 },
            total
        )));
    }
    if let Some(n) = app.frames().filter(|&n| n > 1) {
        spans.push(sep());
        spans.push(Span::styled(
            format!("slice {}/{n}", app.slice() + 1),
            Style::default().fg(t.ui.accent),
        ));
        if app.slice() > 0 {
            spans.push(Span::styled(" (boxes and 2-D masks on slice 1)", dim));
        }
    }
    if let Some((text, _)) = &app.filter {
        spans.push(sep());
        spans.push(Span::styled(format!("filter {text}"), Style::default().fg(t.ui.accent)));
    }
    if app.sort != super::super::app::SortKey::Case {
        spans.push(sep());
        spans.push(Span::raw(format!("sort {}", app.sort.name())));
    }
    // the window in force: always for DICOM/NIfTI, and for other images once it was changed
    let changed = app.style.window.is_some() || app.style.preset != crate::render::WindowPreset::File;
    if (app.scan().is_some() || changed)
        && let Some((w, name)) = app.current_window()
    {
        let unit = app
            .scan()
            .and_then(|s| s.unit)
            .map(|u| format!(" {u}"))
            .unwrap_or_default();
        spans.push(sep());
        spans.push(Span::raw(format!(
            "W {:.0} L {:.0}{unit} ({name})",
            w.width(),
            w.center()
        )));
    }
    // with two rows (reviewing, or a narrow terminal) the notice (what was recorded, what the keys
    // do now) has the second row to itself
    let own_row = area.height >= 2;
    let head = if own_row {
        Some(std::mem::take(&mut spans))
    } else {
        None
    };
    if let Some(n) = &app.notice {
        if !own_row {
            spans.push(sep());
        } else {
            spans.push(Span::raw(" "));
        }
        let color = match n.severity {
            Some(Level::Error) => t.status.error,
            Some(Level::Warning) => t.status.warning,
            None => t.ui.text,
        };
        spans.push(Span::styled(n.text.clone(), Style::default().fg(color)));
    } else if let Some(r) = &app.reloaded {
        spans.push(sep());
        spans.push(Span::styled(
            r.text(std::time::Instant::now()),
            Style::default().fg(t.ui.accent),
        ));
    }
    // background analysis in progress: what it is doing and how far it has got
    if let Some(text) = app.analysis_text() {
        spans.push(sep());
        spans.push(Span::styled(text, dim));
    }
    use crate::tui::action::Action;
    let help = app.key_or(Action::Help, "");
    let hint = match (help.is_empty(), app.key_or(Action::Quit, ":q")) {
        (false, q) => format!(" {help} help · {q} quit "),
        (true, q) => format!(" {q} quit "),
    };
    let hint = Some(Span::styled(hint, dim));
    let lines = match head {
        Some(head) => {
            let row = |y: u16| Rect { y, height: 1, ..area };
            // the key hints: reviewing, beside the notice (the progress comes whole); else on
            // the first row, so that the notice has the second to itself
            let (first, second) = if app.review.is_some() {
                (None, hint)
            } else {
                (hint, None)
            };
            let mut lines = fit(head, row(area.y), first);
            lines.extend(fit(
                spans,
                Rect {
                    height: area.height - 1,
                    ..row(area.y + 1)
                },
                second,
            ));
            lines
        }
        None => fit(spans, area, hint),
    };
    f.render_widget(Paragraph::new(lines).style(base), area);
}

/// The bar's text in its rows (two while reviewing): wrapped at blanks, and where it still does
/// not fit, cut with a visible `…` (never silently mid-word); `hint` at the right end of the
/// last row when there is room for it.
fn fit(spans: Vec<Span<'static>>, area: Rect, hint: Option<Span<'static>>) -> Vec<Line<'static>> {
    let (w, rows) = (area.width as usize, (area.height as usize).max(1));
    let mut lines = super::wrap_line(Line::from(spans), w, 1);
    if lines.len() > rows {
        lines.truncate(rows);
        if let Some(last) = lines.last_mut() {
            // room for the mark: drop cells from the end, then add it
            let mut keep = w.saturating_sub(2);
            let mut spans = Vec::new();
            for s in std::mem::take(&mut last.spans) {
                let text: String = s.content.chars().take(keep).collect();
                keep -= text.chars().count();
                spans.push(Span::styled(text, s.style));
            }
            spans.push(Span::raw(" …"));
            last.spans = spans;
        }
    }
    if hint.is_some() && lines.len() < rows {
        lines.push(Line::raw(""));
    }
    if let (Some(hint), Some(last)) = (hint, lines.last_mut()) {
        let pad = w.saturating_sub(last.width() + hint.width());
        if pad > 0 {
            last.spans.push(Span::raw(" ".repeat(pad)));
            last.spans.push(hint);
        }
    }
    lines
}
