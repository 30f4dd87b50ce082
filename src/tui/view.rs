//! Drawing the dashboard: a pure function of [`App`] (it changes nothing). The layout is shared
//! with mouse handling through [`areas`].

pub mod case_list;
pub mod details;
pub mod help;
pub mod image_pane;
pub mod metrics;
pub mod status_bar;

use super::app::{App, Overlay, Pane};
use ratatui::Frame;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders};

/// Where each part of the screen is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub cases: Rect,
    pub image: Rect,
    /// The cells the image itself occupies (inside the border, above the legend).
    pub image_inner: Rect,
    /// The cells frames are made for: the image's, also while the details are in its place
    /// (their facts about the image come with its frame).
    pub frame_cells: (u16, u16),
    pub legend: Rect,
    pub details: Option<Rect>,
    /// The details pane is where the image would be (terminals narrower than [`WIDE`]): the
    /// image, its legend and the metrics view are not drawn.
    pub details_instead: bool,
    pub status: Rect,
}

/// Wide enough for the details pane beside the image.
pub const WIDE: u16 = 110;

pub fn areas(app: &App, area: Rect) -> Areas {
    let rows = Layout::default()
        .direction(Direction::Vertical)
        // two rows reviewing (progress and what was recorded are read in full at 80 columns) and
        // in narrow terminals (a notice is read in full on its own row)
        .constraints([
            Constraint::Min(3),
            Constraint::Length(status_bar::rows(app, area.width)),
        ])
        .split(area);
    let (main, status) = (rows[0], rows[1]);
    let list_w = if area.width >= WIDE { 30 } else { 24 }.min(area.width / 3);
    let wide = area.width >= WIDE;
    let details_w = if app.show_details && wide { 40 } else { 0 };
    let instead = app.details_instead && !wide;
    let cols = Layout::default()
        .direction(Direction::Horizontal)
        .constraints([
            Constraint::Length(list_w),
            Constraint::Min(10),
            Constraint::Length(details_w),
        ])
        .split(main);
    let image = cols[1];
    let inner = Rect {
        x: image.x + 1,
        y: image.y + 1,
        width: image.width.saturating_sub(2),
        height: image.height.saturating_sub(2),
    };
    let rows = image_pane::legend_rows(app, inner.width).min(inner.height);
    let legend = Rect {
        x: inner.x,
        y: inner.y + inner.height.saturating_sub(rows),
        width: inner.width,
        height: rows,
    };
    let image_inner = Rect {
        height: inner.height.saturating_sub(rows),
        ..inner
    };
    if instead {
        // no image cells on screen: the mouse finds no image, and a review records nothing as
        // shown (`App::image_drawn`)
        let none = Rect {
            width: 0,
            height: 0,
            ..inner
        };
        return Areas {
            cases: cols[0],
            image,
            image_inner: none,
            frame_cells: (image_inner.width, image_inner.height),
            legend: none,
            details: Some(image),
            details_instead: true,
            status,
        };
    }
    Areas {
        cases: cols[0],
        image,
        image_inner,
        frame_cells: (image_inner.width, image_inner.height),
        legend,
        details: (details_w > 0).then_some(cols[2]),
        details_instead: false,
        status,
    }
}

/// A bordered block, highlighted when its pane has the focus.
pub fn pane_block<'a>(app: &App, pane: Pane, title: impl Into<ratatui::text::Line<'a>>) -> Block<'a> {
    let t = &app.config.theme.ui;
    let focused = app.focus == pane;
    Block::default()
        .borders(Borders::ALL)
        .border_type(if focused { BorderType::Thick } else { BorderType::Plain })
        .border_style(Style::default().fg(if focused { t.border_focus } else { t.border }))
        .title(title)
        .title_style(Style::default().fg(if focused { t.text } else { t.dim }))
        .style(Style::default().bg(t.background).fg(t.text))
}

pub fn view(app: &App, f: &mut Frame) {
    let a = areas(app, f.area());
    let t = &app.config.theme.ui;
    f.render_widget(
        Block::default().style(Style::default().bg(t.background).fg(t.text)),
        f.area(),
    );
    case_list::render(app, f, a.cases);
    // terminal graphics cannot be covered by text: while an overlay is open the image is hidden
    let show_image = matches!(app.overlay, Overlay::None | Overlay::Prompt { .. });
    if a.details_instead {
        // narrow terminals: the details pane in the image's place (its title says how back)
    } else if app.metrics_view {
        metrics::render(app, f, a.image);
    } else {
        image_pane::render(app, f, &a, show_image);
    }
    if let Some(d) = a.details {
        details::render(app, f, d, a.details_instead);
    }
    status_bar::render(app, f, a.status);
    match &app.overlay {
        Overlay::Help => help::render_help(app, f, help_area(f.area(), &a)),
        Overlay::Sort => help::render_sort(app, f, a.image),
        _ => {}
    }
}

/// How far the help overlay and the details pane scroll at this terminal size: the event loop
/// keeps their scroll positions within these (so that scrolling back starts at once).
pub fn scroll_limits(app: &App, area: Rect) -> (usize, usize) {
    let a = areas(app, area);
    let help = help::max_scroll(app, help_area(area, &a));
    let details = a.details.map_or(0, |d| details::max_scroll(app, d));
    (help, details)
}

/// Where the help overlay goes: small terminals, the whole screen above the status bar; else
/// the image and details panes.
fn help_area(area: Rect, a: &Areas) -> Rect {
    if area.width < WIDE {
        Rect {
            height: a.status.y.saturating_sub(area.y),
            ..area
        }
    } else {
        a.image.union(a.details.unwrap_or(a.image))
    }
}

/// `line` in lines of at most `width` columns, broken at blanks (a word longer than a line is
/// split where the line ends), the lines after the first `indent` columns in: nothing is cut
/// off at the right edge, and wrapped text stays under where it began (a flag's sentence after
/// its glyph, a value under its value).
pub fn wrap_line(line: Line<'static>, width: usize, indent: usize) -> Vec<Line<'static>> {
    let width = width.max(1);
    if line.width() <= width {
        return vec![line];
    }
    let indent = indent.min(width / 2);
    let line_style = line.style;
    let mut cells: Vec<(char, Style, usize)> = Vec::new();
    for span in &line.spans {
        for c in span.content.chars() {
            let mut buf = [0u8; 4];
            let w = Span::raw(&*c.encode_utf8(&mut buf)).width();
            cells.push((c, span.style, w));
        }
    }
    let to_line = |run: &[(char, Style, usize)], lead: usize| -> Line<'static> {
        let mut spans: Vec<Span<'static>> = Vec::new();
        if lead > 0 {
            spans.push(Span::raw(" ".repeat(lead)));
        }
        let mut text = String::new();
        let mut style = None;
        for &(c, s, _) in run {
            if style.is_some_and(|st| st != s) {
                spans.push(Span::styled(std::mem::take(&mut text), style.unwrap_or_default()));
            }
            style = Some(s);
            text.push(c);
        }
        if !text.is_empty() {
            spans.push(Span::styled(text, style.unwrap_or_default()));
        }
        Line::from(spans).style(line_style)
    };
    let mut out = Vec::new();
    let mut start = 0;
    while start < cells.len() {
        let lead = if out.is_empty() { 0 } else { indent };
        let room = width - lead;
        // how many cells fit
        let (mut end, mut used) = (start, 0);
        while end < cells.len() && used + cells[end].2 <= room {
            used += cells[end].2;
            end += 1;
        }
        if end == cells.len() {
            out.push(to_line(&cells[start..], lead));
            break;
        }
        // break at the last blank that fits (or just after the line, at a blank there)
        let cut = if cells[end].0 == ' ' {
            Some(end)
        } else {
            (start + 1..end).rev().find(|&i| cells[i].0 == ' ')
        };
        // a blank before a word too long for any line is no place to break (a long path after
        // its key stays on the key's line, split where the line ends)
        let cut = cut.filter(|&b| {
            let word = cells[b..].iter().skip_while(|c| c.0 == ' ').take_while(|c| c.0 != ' ');
            word.map(|c| c.2).sum::<usize>() <= width - indent
        });
        let (line_end, next) = match cut {
            Some(b) => (b, b),
            None => (end.max(start + 1), end.max(start + 1)),
        };
        let mut trimmed = line_end;
        while trimmed > start && cells[trimmed - 1].0 == ' ' {
            trimmed -= 1;
        }
        out.push(to_line(&cells[start..trimmed], lead));
        start = next;
        while start < cells.len() && cells[start].0 == ' ' {
            start += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(lines: &[Line]) -> Vec<String> {
        lines
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    #[test]
    fn wrapped_lines_keep_every_word_hang_under_their_start_and_keep_styles() {
        let bold = Style::default().add_modifier(ratatui::style::Modifier::BOLD);
        let line = Line::from(vec![
            Span::raw("● "),
            Span::styled("heart-on-patient-left · candidate: ", bold),
            Span::raw("heart's centre lies 17 px on the patient's right of hull(lungs)'s centre"),
        ]);
        let out = wrap_line(line, 30, 2);
        let t = texts(&out);
        assert_eq!(
            t,
            [
                "● heart-on-patient-left ·",
                "  candidate: heart's centre",
                "  lies 17 px on the patient's",
                "  right of hull(lungs)'s",
                "  centre",
            ]
        );
        assert!(out.iter().all(|l| l.width() <= 30));
        assert_eq!(out[1].spans[1].style, bold, "the prefix stays bold on its second line");
        // a line that fits is left alone; a word longer than a line is split, not dropped
        assert_eq!(texts(&wrap_line(Line::raw("short"), 30, 2)), ["short"]);
        let long = wrap_line(Line::raw("file    /a/very/long/path/without/blanks.png"), 20, 8);
        assert_eq!(
            texts(&long),
            ["file    /a/very/long", "        /path/withou", "        t/blanks.png"]
        );
    }
}
