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
    if let Some(pair) = app.metrics_pair() {
        return render_compare(app, f, area, pair);
    }
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
    let (text, chart) = split(inner, &lines, curves, true);
    f.render_widget(Paragraph::new(lines), text);
    if let Some(chart) = chart {
        let name = app.pack.source_name(crate::pack::Source::Run(r));
        render_curves(
            app,
            &[Curves {
                report: m,
                name,
                faint: false,
            }],
            f,
            chart,
        );
    }
}

/// Where the text goes and where the curves (if any): below the text when it leaves them at
/// least 8 rows; else beside it when the pane is wide enough; else, when `halve`, the lower
/// half of a pane of at least 24 rows (the text is cut); else no curves.
fn split(inner: Rect, lines: &[Line], curves: bool, halve: bool) -> (Rect, Option<Rect>) {
    let n = lines.len() as u16;
    let text_w = lines.iter().map(|l| l.width() as u16).max().unwrap_or(0);
    if !curves {
        return (inner, None);
    }
    if inner.height >= n + 8 {
        // a blank row between the text and the chart when there is room
        let gap = u16::from(inner.height >= n + 9);
        let parts = Layout::default()
            .direction(Direction::Vertical)
            .constraints([Constraint::Length(n), Constraint::Length(gap), Constraint::Min(8)])
            .split(inner);
        return (parts[0], Some(parts[2]));
    }
    if inner.width >= text_w + 2 + 40 && inner.height >= 10 {
        let parts = Layout::default()
            .direction(Direction::Horizontal)
            .constraints([Constraint::Length(text_w + 2), Constraint::Min(40)])
            .split(inner);
        return (parts[0], Some(parts[1]));
    }
    if halve && inner.height >= 24 {
        let parts = Layout::default()
            .direction(Direction::Vertical)
            .constraints([Constraint::Min(1), Constraint::Length(inner.height / 2)])
            .split(inner);
        return (parts[0], Some(parts[1]));
    }
    (inner, None)
}

/// The metrics view setting two runs against each other (compare mode, run | run): both runs'
/// figures with the change, as `lightbox diff` prints them (the same table), at the threshold on
/// screen, and both runs' precision–recall curves.
fn render_compare(app: &App, f: &mut Frame, area: Rect, (b, c): (usize, usize)) {
    let t = &app.config.theme;
    let dim = Style::default().fg(t.ui.dim);
    let thr = app.style.score_threshold;
    let name = |r: usize| app.pack.source_name(crate::pack::Source::Run(r));
    let (nb, nc) = (name(b), name(c));
    let title = format!(" Metrics · {nc} against {nb} · score ≥ {thr:.2} (+/-) ");
    let block = pane_block(app, Pane::Image, title);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let (Some(rb), Some(rc)) = (
        app.metrics.get(b).and_then(|m| m.as_ref()),
        app.metrics.get(c).and_then(|m| m.as_ref()),
    ) else {
        let text = match &app.metrics_error {
            Some(e) => Line::styled(
                format!("metrics could not be computed: {e}"),
                Style::default().fg(t.status.error),
            ),
            None => Line::styled(format!("computing metrics for {nb} and {nc}…"), dim),
        };
        f.render_widget(Paragraph::new(text), inner);
        return;
    };
    let head = |s: String| Line::styled(s, Style::default().fg(t.ui.accent).add_modifier(Modifier::BOLD));
    // sensitivity and specificity at this threshold come from each run's operating point
    // (counted in the background); until both are in, the classification rows wait
    let classification = |r: usize, m: &Report| -> Option<Vec<crate::metrics::classification::ClassFigures>> {
        if m.classification.is_empty() {
            return Some(Vec::new());
        }
        if m.classification.iter().all(|x| x.threshold == thr) {
            return Some(m.classification.clone());
        }
        app.operating_of(r)
            .map(|o| o.classification.clone())
            .filter(|v| !v.is_empty())
    };
    let (cb, cc) = (classification(b, rb), classification(c, rc));
    let waiting = cb.is_none() || cc.is_none();
    let none: &[crate::metrics::classification::ClassFigures] = &[];
    let fb = rb.figures_at(thr, Some(cb.as_deref().unwrap_or(none)));
    let fc = rc.figures_at(thr, Some(cc.as_deref().unwrap_or(none)));
    // a figure neither run has says nothing; one only one run has is not a comparison: those
    // are listed after the table
    let (deltas, one_sided): (Vec<_>, Vec<_>) = crate::compare::figure_deltas(&fb, &fc)
        .into_iter()
        .filter(|d| d.baseline.is_some() || d.candidate.is_some())
        .partition(|d| d.baseline.is_some() && d.candidate.is_some());
    let table = crate::compare::figures_table(
        format!("At score ≥ {thr:.2} · change = {nc} − {nb} · worse / better: beyond ±{TOLERANCE}"),
        &deltas,
        &nb,
        &nc,
        TOLERANCE,
    );
    let width = inner.width as usize;
    // what follows the table is wrapped to the table's width (the curves may go beside it)
    let (header, rows) = table.lines();
    let table_w = rows
        .iter()
        .chain([&header, &table.title])
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(width)
        .min(width);
    let mut lines = Vec::new();
    // compare mode's own order: how many cases got worse, first
    if let Some(v) = app.regression.as_ref().filter(|_| app.compare_pair() == Some((b, c))) {
        let u = crate::compare::UNCHANGED;
        let count = |p: &dyn Fn(f64) -> bool| v.iter().filter(|&&x| p(x)).count();
        lines.push(Line::from(vec![
            Span::styled("cases: ", Style::default().fg(t.ui.accent).add_modifier(Modifier::BOLD)),
            Span::raw(format!(
                "{} worse, {} unchanged, {} improved",
                count(&|x| x > u),
                count(&|x| (-u..=u).contains(&x)),
                count(&|x| x < -u)
            )),
            Span::styled(" (as `lightbox diff`; the list's order)", dim),
        ]));
    }
    lines.extend(flush(&mut vec![Some(table)], &head, dim, width));
    if lines.first().is_some_and(|l| l.width() == 0) {
        lines.remove(0);
    }
    if waiting {
        lines.push(Line::styled(
            format!("classification at score ≥ {thr:.2}: computing…"),
            dim,
        ));
    }
    for (run, other, only) in [
        (
            &nb,
            &nc,
            one_sided.iter().filter(|d| d.candidate.is_none()).collect::<Vec<_>>(),
        ),
        (&nc, &nb, one_sided.iter().filter(|d| d.baseline.is_none()).collect()),
    ] {
        if only.is_empty() {
            continue;
        }
        let items: Vec<String> = only
            .iter()
            .map(|d| format!("{} {}", d.name, table::f4(d.baseline.or(d.candidate))))
            .collect();
        // broken between figures, never inside one
        lines.push(Line::raw(""));
        let mut line = format!("only {run} ({other} has none):");
        for item in items {
            if line.chars().count() + 3 + item.chars().count() > table_w.max(40) {
                lines.push(Line::raw(std::mem::take(&mut line)));
                line = item;
            } else {
                let sep = if line.ends_with(':') { " " } else { " · " };
                line = format!("{line}{sep}{item}");
            }
        }
        lines.push(Line::raw(line));
    }
    for (n, m) in [(&nb, rb), (&nc, rc)] {
        for w in &m.warnings {
            lines.push(Line::styled(
                format!("! {n}: {w}"),
                Style::default().fg(t.status.warning),
            ));
        }
    }
    let curves = rb.detection.is_some() || rc.detection.is_some();
    let (text, chart) = split(inner, &lines, curves, false);
    // what does not fit is said, not cut in silence
    let room = text.height as usize;
    let no_curves = curves && chart.is_none();
    if room > 0 && (lines.len() > room || (no_curves && lines.len() == room)) {
        let more = lines.len() - (room - 1);
        lines.truncate(room - 1);
        lines.push(Line::styled(
            format!(
                "… {more} more line{}{}: a taller pane, or `lightbox diff`",
                if more == 1 { "" } else { "s" },
                if no_curves { " and the curves" } else { "" }
            ),
            dim,
        ));
    } else if no_curves {
        lines.push(Line::styled(
            "(precision–recall curves: a taller or wider pane; D hides the details)",
            dim,
        ));
    }
    f.render_widget(Paragraph::new(lines), text);
    if let Some(chart) = chart {
        let sets = [
            Curves {
                report: rc,
                name: nc.clone(),
                faint: false,
            },
            Curves {
                report: rb,
                name: nb.clone(),
                faint: true,
            },
        ];
        render_curves(app, &sets, f, chart);
    }
}

/// `text` cut at word boundaries to `width` columns; continuation lines indented 4 more than
/// the first.
fn wrap_indented(text: &str, width: usize) -> Vec<String> {
    let lead = text.len() - text.trim_start().len();
    let cont = " ".repeat(lead + 4);
    let mut out = Vec::new();
    let mut line = " ".repeat(lead);
    for word in text.split_whitespace() {
        let used = line.chars().count();
        if used > lead && used + 1 + word.chars().count() > width.max(20) {
            out.push(std::mem::replace(&mut line, cont.clone()));
        }
        if line.chars().count() > lead && !line.ends_with(' ') {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push(line);
    out
}

/// How far a figure may move before the comparison calls it worse or better (as `lightbox diff`'s
/// default `--tolerance`).
const TOLERANCE: f64 = 0.01;

fn text_lines<'a>(app: &'a App, m: &'a Report, width: usize) -> Vec<Line<'a>> {
    let t = &app.config.theme;
    let dim = Style::default().fg(t.ui.dim);
    let head = |s: String| Line::styled(s, Style::default().fg(t.ui.accent).add_modifier(Modifier::BOLD));
    let thr = app.style.score_threshold;
    let mut lines = Vec::new();
    // drift first: when the inputs have moved, the figures below are of other data
    if let Some(d) = &app.drift {
        lines.push(head("Drift".to_string()));
        match d {
            Ok(text) => {
                for l in text {
                    lines.extend(wrap_indented(l, width).into_iter().map(Line::raw));
                }
            }
            Err(e) => lines.push(Line::styled(format!("drift could not be computed: {e}"), dim)),
        }
        lines.push(Line::raw(""));
    }
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

/// One run's curves on the chart; `faint` ones (the baseline beside the candidate) are drawn
/// dotted, in their colours half-way to the background.
struct Curves<'a> {
    report: &'a Report,
    name: String,
    faint: bool,
}

/// The precision axis: from the lowest precision plotted, down to a tenth (at most 0.9), to 1,
/// so the curves use the plot's whole height; labelled at both ends and the middle.
fn precision_axis(lowest: Option<f64>) -> ([f64; 2], [String; 3]) {
    let lo = lowest
        .filter(|v| v.is_finite())
        .map(|v| ((v * 10.0 + 1e-9).floor() / 10.0).clamp(0.0, 0.9))
        .unwrap_or(0.0);
    (
        [lo, 1.0],
        [format!("{lo:.2}"), format!("{:.2}", (lo + 1.0) / 2.0), "1.00".into()],
    )
}

/// One curve as drawn: its colour, its name on the chart, its (recall, precision) points, and
/// whether it is drawn faint (dotted).
struct Drawn {
    color: Color,
    name: String,
    points: Vec<(f64, f64)>,
    faint: bool,
}

fn render_curves(app: &App, runs: &[Curves], f: &mut Frame, area: Rect) {
    let t = &app.config.theme;
    let thr = app.style.score_threshold;
    let bg = match t.ui.background {
        Color::Rgb(r, g, b) => [r, g, b],
        _ => [0, 0, 0],
    };
    // per class and run: its colour, its name on the chart, its points
    let mut lines: Vec<Drawn> = Vec::new();
    let mut points: Vec<(Color, [(f64, f64); 1])> = Vec::new();
    let mut iou = None;
    for run in runs {
        let Some(d) = &run.report.detection else { continue };
        iou = iou.or(Some(d.iou));
        let c = &d.curves;
        let color = |k: usize| {
            let [r, g, b] = app.style.palette.class(c.classes[k]);
            if run.faint {
                let mix = |a: u8, z: u8| ((a as u16 + z as u16) / 2) as u8;
                Color::Rgb(mix(r, bg[0]), mix(g, bg[1]), mix(b, bg[2]))
            } else {
                Color::Rgb(r, g, b)
            }
        };
        for k in (0..c.classes.len()).filter(|&k| c.is_used(k)).take(9) {
            let name = if runs.len() > 1 {
                format!("{} {}", d.classes_names[k], run.name)
            } else {
                d.classes_names[k].clone()
            };
            lines.push(Drawn {
                color: color(k),
                name,
                points: thin(c.curve(k), 400),
                faint: run.faint,
            });
            let p = c.at(k, thr);
            if let Some(recall) = p.recall {
                points.push((color(k), [(recall, p.precision.unwrap_or(0.0))]));
            }
        }
    }
    let lowest = lines
        .iter()
        .flat_map(|d| d.points.iter())
        .chain(points.iter().map(|(_, p)| &p[0]))
        .map(|p| p.1)
        .reduce(f64::min);
    let (bounds, labels) = precision_axis(lowest);
    // what the chart shows, on its own rows above it (nothing covers the curves)
    let dim = Style::default().fg(t.ui.dim);
    let mut head = vec![Span::styled("precision ↑ by recall → · ", dim)];
    for d in &lines {
        head.push(Span::styled(
            if d.faint { "•• " } else { "━ " },
            Style::default().fg(d.color),
        ));
        head.push(Span::styled(format!("{}  ", d.name), Style::default().fg(t.ui.text)));
    }
    head.push(Span::styled(
        format!("■ score ≥ {thr:.2} at IoU {:.2}", iou.unwrap_or(0.5)),
        dim,
    ));
    let head = Line::from(head);
    let head_rows = (head.width() as u16).div_ceil(area.width.max(1)).clamp(1, 2);
    if area.height <= head_rows + 3 {
        return;
    }
    let [head_area, plot] = Layout::vertical([Constraint::Length(head_rows), Constraint::Min(3)]).areas(area);
    f.render_widget(
        Paragraph::new(head).wrap(ratatui::widgets::Wrap { trim: true }),
        head_area,
    );
    let mut sets: Vec<Dataset> = Vec::new();
    for d in &lines {
        sets.push(
            Dataset::default()
                .marker(if d.faint { Marker::Dot } else { Marker::Braille })
                .graph_type(GraphType::Line)
                .style(Style::default().fg(d.color))
                .data(&d.points),
        );
    }
    for (color, p) in &points {
        sets.push(
            Dataset::default()
                .marker(Marker::Block)
                .graph_type(GraphType::Scatter)
                .style(Style::default().fg(*color))
                .data(p),
        );
    }
    let axis_style = Style::default().fg(t.ui.dim);
    let chart = Chart::new(sets)
        .x_axis(
            Axis::default()
                .style(axis_style)
                .bounds([0.0, 1.0])
                .labels(["0.00", "0.50", "1.00"]),
        )
        .y_axis(Axis::default().style(axis_style).bounds(bounds).labels(labels))
        .legend_position(None)
        .style(Style::default().bg(t.ui.background).fg(t.ui.text));
    f.render_widget(chart, plot);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_precision_axis_starts_a_tenth_below_the_lowest_precision() {
        let ([lo, hi], labels) = precision_axis(Some(0.795));
        assert_eq!((lo, hi), (0.7, 1.0));
        assert_eq!(labels, ["0.70".to_string(), "0.85".into(), "1.00".into()]);
        // a round value is its own bound; near 1 the axis keeps a tenth
        assert_eq!(precision_axis(Some(0.6)).0, [0.6, 1.0]);
        assert_eq!(precision_axis(Some(0.999)).0, [0.9, 1.0]);
        assert_eq!(precision_axis(Some(1.0)).0, [0.9, 1.0]);
        // a curve down to 0, or none: the whole range
        assert_eq!(precision_axis(Some(0.0)).0, [0.0, 1.0]);
        assert_eq!(precision_axis(Some(0.04)).0, [0.0, 1.0]);
        assert_eq!(precision_axis(None).0, [0.0, 1.0]);
        assert_eq!(precision_axis(Some(f64::NAN)).0, [0.0, 1.0]);
    }
}
