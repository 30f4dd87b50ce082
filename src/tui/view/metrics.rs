//! The metrics view (key `m`): the run's COCO figures, per-class precision/recall/F1 at the
//! current score threshold (recomputed live as `+`/`-` move it), the confusion matrix, the
//! segmentation and classification summaries, warnings, and precision–recall curves with the
//! operating point marked.

use super::super::app::{App, Pane};
use super::pane_block;
use crate::metrics::{Report, table};
use ratatui::Frame;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Chart, Dataset, GraphType, Paragraph};

pub fn render(app: &App, f: &mut Frame, area: Rect) {
    let t = &app.config.theme;
    let dim = Style::default().fg(t.ui.dim);
    let thr = app.style.score_threshold;
    let title = match app.run {
        Some(r) => format!(
            " Metrics · {} · score ≥ {thr:.2} (+/-) ",
            app.pack.source_name(crate::pack::Source::Run(r))
        ),
        None => " Metrics ".to_string(),
    };
    let block = pane_block(app, Pane::Image, title);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let Some(r) = app.run else {
        f.render_widget(
            Paragraph::new(format!(
                "Metrics compare a run with the ground truth: choose a run with {}.",
                app.key_or(crate::tui::action::Action::CycleRun, ":run NAME")
            ))
            .style(dim),
            inner,
        );
        return;
    };
    let Some(m) = app.run_metrics() else {
        let text = match &app.metrics_error {
            Some(e) => Line::styled(
                format!("metrics could not be computed: {e}"),
                Style::default().fg(t.status.error),
            ),
            None => Line::styled(
                format!(
                    "computing metrics for {}…",
                    app.pack.source_name(crate::pack::Source::Run(r))
                ),
                dim,
            ),
        };
        f.render_widget(Paragraph::new(text), inner);
        return;
    };
    let lines = text_lines(app, m, inner.width as usize);
    let curves = m.detection.is_some();
    let chart_h = if curves && inner.height >= lines.len() as u16 + 8 {
        inner.height - lines.len() as u16
    } else if curves && inner.height >= 24 {
        inner.height / 2
    } else {
        0
    };
    let parts = Layout::default()
        .direction(Direction::Vertical)
        .constraints([Constraint::Min(1), Constraint::Length(chart_h)])
        .split(inner);
    f.render_widget(Paragraph::new(lines), parts[0]);
    if chart_h > 0 {
        render_curves(app, m, f, parts[1]);
    }
}

fn text_lines<'a>(app: &'a App, m: &'a Report, width: usize) -> Vec<Line<'a>> {
    let t = &app.config.theme;
    let dim = Style::default().fg(t.ui.dim);
    let head = |s: String| Line::styled(s, Style::default().fg(t.ui.accent).add_modifier(Modifier::BOLD));
    let thr = app.style.score_threshold;
    let mut lines = Vec::new();
    for s in &m.coco {
        let kind = match s.iou_type {
            crate::metrics::IouType::Bbox => "bbox",
            crate::metrics::IouType::Segm => "segm",
        };
        let pick = |n: &str| {
            s.stats
                .iter()
                .find(|x| x.0 == n)
                .map(|x| {
                    if x.1 > -1.0 {
                        format!("{:.3}", x.1)
                    } else {
                        "—".into()
                    }
                })
                .unwrap_or_default()
        };
        lines.push(Line::from(vec![
            Span::styled(
                format!("COCO {kind:<5}"),
                Style::default().fg(t.ui.accent).add_modifier(Modifier::BOLD),
            ),
            Span::raw(format!(
                " AP {}  AP50 {}  AP75 {}  AR100 {}",
                pick("AP"),
                pick("AP50"),
                pick("AP75"),
                pick("AR100")
            )),
        ]));
    }
    // the same tables as `lightbox metrics` (metrics::table), at the threshold on screen
    let op = app.operating_now();
    let mut tables: Vec<Option<table::Table>> = Vec::new();
    if let Some(d) = &m.detection {
        tables.push(Some(table::detection(m, d, thr)));
        // the confusion matrix at this threshold is counted in the background
        match op.and_then(|o| o.confusion.as_ref()) {
            Some(cm) => tables.push(table::confusion(cm, &d.classes_names, 8)),
            None => {
                lines.extend(flush(&mut tables, &head, dim, width));
                lines.push(Line::raw(""));
                lines.push(Line::styled("confusion matrix: computing…", dim));
            }
        }
    }
    if let Some(s) = &m.segmentation {
        tables.push(Some(table::segmentation(s)));
    }
    if !m.classification.is_empty() {
        match op.map(|o| &o.classification).filter(|c| !c.is_empty()) {
            Some(c) => tables.push(table::classification(c)),
            None => {
                lines.extend(flush(&mut tables, &head, dim, width));
                lines.push(Line::raw(""));
                lines.push(Line::styled(
                    format!("classification at score ≥ {thr:.2}: computing…"),
                    dim,
                ));
            }
        }
    }
    lines.extend(flush(&mut tables, &head, dim, width));
    for w in &m.warnings {
        lines.push(Line::styled(format!("! {w}"), Style::default().fg(t.status.warning)));
    }
    lines
}

/// At most `n` points of a curve, evenly spaced along it (the last point kept).
#[allow(clippy::expect_used)] // cannot fail: the list is checked non-empty before
fn thin(v: Vec<(f64, f64)>, n: usize) -> Vec<(f64, f64)> {
    if v.len() <= n {
        return v;
    }
    let step = v.len() as f64 / n as f64;
    let mut out: Vec<(f64, f64)> = (0..n).map(|i| v[(i as f64 * step) as usize]).collect();
    out.push(*v.last().expect("non-empty"));
    out
}

fn render_curves(app: &App, m: &Report, f: &mut Frame, area: Rect) {
    let Some(d) = &m.detection else { return };
    let t = &app.config.theme;
    let thr = app.style.score_threshold;
    let c = &d.curves;
    let used: Vec<usize> = (0..c.classes.len()).filter(|&k| c.is_used(k)).take(9).collect();
    let curves: Vec<(usize, Vec<(f64, f64)>)> = used.iter().map(|&k| (k, thin(c.curve(k), 400))).collect();
    let points: Vec<(usize, [(f64, f64); 1])> = used
        .iter()
        .filter_map(|&k| {
            let p = c.at(k, thr);
            Some((k, [(p.recall?, p.precision.unwrap_or(0.0))]))
        })
        .collect();
    let color = |k: usize| {
        let [r, g, b] = app.style.palette.class(c.classes[k]);
        Color::Rgb(r, g, b)
    };
    let mut sets: Vec<Dataset> = Vec::new();
    for (k, pts) in &curves {
        sets.push(
            Dataset::default()
                .name(d.classes_names[*k].clone())
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(Style::default().fg(color(*k)))
                .data(pts),
        );
    }
    for (k, p) in &points {
        sets.push(
            Dataset::default()
                .marker(Marker::Block)
                .graph_type(GraphType::Scatter)
                .style(Style::default().fg(color(*k)))
                .data(p),
        );
    }
    let axis = |title: &'static str| {
        Axis::default()
            .title(Span::styled(title, Style::default().fg(t.ui.dim)))
            .style(Style::default().fg(t.ui.dim))
            .bounds([0.0, 1.0])
            .labels(["0", "0.5", "1"])
    };
    let chart = Chart::new(sets)
        .x_axis(axis("recall"))
        .y_axis(axis("precision"))
        .legend_position(Some(ratatui::widgets::LegendPosition::BottomLeft))
        .style(Style::default().bg(t.ui.background).fg(t.ui.text));
    f.render_widget(chart, area);
    // the operating point, in words, on the chart's top line
    let label = format!("■ score ≥ {thr:.2} at IoU {:.2}", d.iou);
    let w = (label.chars().count() as u16).min(area.width);
    f.render_widget(
        Paragraph::new(Span::styled(label, Style::default().fg(t.ui.dim))),
        Rect {
            x: area.x + area.width.saturating_sub(w),
            y: area.y,
            width: w,
            height: 1,
        },
    );
}

/// The tables so far as lines: a blank line, the title (bold), the header (dim), the rows.
/// Narrowed to the pane: the title wraps, intervals are dropped when the rows do not fit (and
/// that is said).
fn flush<'a>(
    tables: &mut Vec<Option<table::Table>>,
    head: &dyn Fn(String) -> Line<'a>,
    dim: Style,
    width: usize,
) -> Vec<Line<'a>> {
    let mut lines = Vec::new();
    for t in tables.drain(..).flatten() {
        let (header, rows, dropped) = t.lines_within(width);
        lines.push(Line::raw(""));
        lines.extend(table::wrap(&t.title, width.max(20)).into_iter().map(head));
        lines.push(Line::styled(header, dim));
        lines.extend(rows.into_iter().map(Line::raw));
        if dropped {
            lines.push(Line::styled(
                "(95% intervals: a wider pane, or `lightbox metrics`)",
                dim,
            ));
        }
    }
    lines
}
