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
use ratatui::widgets::{Block, BorderType, Borders};

/// Where each part of the screen is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub cases: Rect,
    pub image: Rect,
    /// The cells the image itself occupies (inside the border, above the legend).
    pub image_inner: Rect,
    pub legend: Rect,
    pub details: Option<Rect>,
    pub status: Rect,
}

/// Wide enough for the details pane beside the image.
pub const WIDE: u16 = 110;

pub fn areas(app: &App, area: Rect) -> Areas {
    let rows = Layout::default()
        .direction(Direction::Vertical)
        .constraints([Constraint::Min(3), Constraint::Length(1)])
        .split(area);
    let (main, status) = (rows[0], rows[1]);
    let list_w = if area.width >= WIDE { 30 } else { 24 }.min(area.width / 3);
    let details_w = if app.show_details && area.width >= WIDE { 40 } else { 0 };
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
    Areas {
        cases: cols[0],
        image,
        image_inner,
        legend,
        details: (details_w > 0).then_some(cols[2]),
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
    if app.metrics_view {
        metrics::render(app, f, a.image);
    } else {
        image_pane::render(app, f, &a, show_image);
    }
    if let Some(d) = a.details {
        details::render(app, f, d);
    }
    status_bar::render(app, f, a.status);
    match &app.overlay {
        // small terminals: the whole screen above the status bar
        Overlay::Help if f.area().width < WIDE => help::render_help(
            app,
            f,
            Rect {
                height: f.area().height.saturating_sub(1),
                ..f.area()
            },
        ),
        Overlay::Help => help::render_help(app, f, a.image.union(a.details.unwrap_or(a.image))),
        Overlay::Sort => help::render_sort(app, f, a.image),
        _ => {}
    }
}
