//! The metrics view (key `m`): the run's COCO figures, per-class precision/recall/F1 at the
//! current score threshold (recomputed live as `+`/`-` move it), the confusion matrix, the
//! segmentation and classification summaries, warnings, and precision–recall curves with the
//! operating point marked.

use super::super::app::{App, Pane};
use super::pane_block;
use crate::metrics::Report;
use ratatui::Frame;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Chart, Dataset, GraphType, Paragraph};

fn f3(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.3}")).unwrap_or_else(|| "—".into())
}

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
            Paragraph::new("Metrics compare a run with the ground truth: choose a run with r.").style(dim),
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
    let lines = text_lines(app, m);
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

fn text_lines<'a>(app: &'a App, m: &'a Report) -> Vec<Line<'a>> {
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
    if let Some(d) = &m.detection {
        let c = &d.curves;
        let used: Vec<usize> = (0..c.classes.len()).filter(|&k| c.is_used(k)).collect();
        let w = used
            .iter()
            .map(|&k| d.classes_names[k].chars().count())
            .max()
            .unwrap_or(5)
            .max(10);
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            format!(
                "{:<w$} {:>6} {:>5} {:>5} {:>5} {:>9} {:>6} {:>6}",
                "class", "AP", "TP", "FP", "FN", "precision", "recall", "F1"
            ),
            dim,
        ));
        let ap_of = |k: usize| m.coco.first().and_then(|s| s.eval.class_ap(k));
        for &k in &used {
            let p = c.at(k, thr);
            lines.push(Line::raw(format!(
                "{:<w$} {:>6} {:>5} {:>5} {:>5} {:>9} {:>6} {:>6}",
                d.classes_names[k],
                f3(ap_of(k)),
                p.tp,
                p.fp,
                p.fn_,
                f3(p.precision),
                f3(p.recall),
                f3(p.f1)
            )));
        }
        if used.len() > 1 {
            let p = c.overall(thr);
            lines.push(Line::raw(format!(
                "{:<w$} {:>6} {:>5} {:>5} {:>5} {:>9} {:>6} {:>6}",
                "all",
                "",
                p.tp,
                p.fp,
                p.fn_,
                f3(p.precision),
                f3(p.recall),
                f3(p.f1)
            )));
        }
        // the confusion matrix at this threshold (computed in the background)
        match app.operating_now().and_then(|o| o.confusion.as_ref()) {
            Some(cm) => {
                let n = cm.classes.len();
                let shown: Vec<usize> = (0..n)
                    .filter(|&k| (0..=n).any(|j| cm.get(k, j) > 0 || cm.get(j, k) > 0))
                    .collect();
                if !shown.is_empty() && shown.len() <= 8 {
                    let name = |k: usize| d.classes_names.get(k).cloned().unwrap_or_default();
                    let cw = shown.iter().map(|&k| name(k).chars().count()).max().unwrap_or(6).max(7);
                    lines.push(Line::raw(""));
                    lines.push(head(format!(
                        "Confusion at IoU {:.2} (rows: truth, columns: prediction)",
                        cm.iou
                    )));
                    let mut h = format!("{:<w$}", "");
                    for &k in &shown {
                        h.push_str(&format!(" {:>cw$}", name(k)));
                    }
                    h.push_str(&format!(" {:>cw$}", "missed"));
                    lines.push(Line::styled(h, dim));
                    for &g in shown.iter().chain([&n]) {
                        let mut row = format!("{:<w$}", if g == n { "background".into() } else { name(g) });
                        for &k in &shown {
                            row.push_str(&format!(" {:>cw$}", cm.get(g, k)));
                        }
                        let missed = if g == n {
                            "—".to_string()
                        } else {
                            cm.get(g, n).to_string()
                        };
                        row.push_str(&format!(" {missed:>cw$}"));
                        lines.push(Line::raw(row));
                    }
                }
            }
            None => lines.push(Line::styled("confusion matrix: computing…", dim)),
        }
    }
    if let Some(s) = &m.segmentation {
        lines.push(Line::raw(""));
        lines.push(head("Segmentation (mean per case · pooled · HD95 median px)".into()));
        for c in &s.classes {
            lines.push(Line::raw(format!(
                "{:<12} Dice {}  IoU {}  pooled {}  HD95 {}",
                c.name,
                f3(c.mean_dice),
                f3(c.mean_iou),
                f3(c.pooled_dice),
                c.median_hd95.map(|v| format!("{v:.1}")).unwrap_or_else(|| "—".into())
            )));
        }
    }
    if !m.classification.is_empty() {
        lines.push(Line::raw(""));
        lines.push(head("Classification (at score ≥ 0.50; 95% bootstrap)".into()));
        for c in &m.classification {
            let ci = |e: &crate::metrics::classification::Estimate| match (e.value, e.ci95) {
                (Some(v), Some([a, b])) => format!("{v:.3} [{a:.2}–{b:.2}]"),
                (Some(v), None) => format!("{v:.3}"),
                _ => "—".into(),
            };
            lines.push(Line::raw(format!(
                "{:<12} AUC {}  AP {}  sens {}  spec {}",
                c.name,
                ci(&c.roc_auc),
                f3(c.average_precision.value),
                f3(c.sensitivity.value),
                f3(c.specificity.value)
            )));
        }
    }
    for w in &m.warnings {
        lines.push(Line::styled(format!("! {w}"), Style::default().fg(t.status.warning)));
    }
    lines
}

/// At most `n` points of a curve, evenly spaced along it (the last point kept).
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
