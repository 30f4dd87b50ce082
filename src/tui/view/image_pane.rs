//! The image pane: the finished frame from a worker (never composed here), a clear message when
//! the image cannot be shown, the panels' titles, and a legend row under the image.

use super::super::action::Action;
use super::super::app::{App, GtLook, Pane};
use super::{Areas, pane_block};
use crate::render::View;
use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui_image::Image;

pub fn render(app: &App, f: &mut Frame, a: &Areas, show_image: bool) {
    let t = &app.config.theme;
    let Some(case) = app.case() else {
        let block = pane_block(app, Pane::Image, " Image ");
        f.render_widget(block, a.image);
        let msg = if app.pack.cases.is_empty() {
            "Nothing to show: the pack has no cases.".to_string()
        } else {
            format!(
                "No case matches the filter ({} clears it).",
                app.key_or(Action::ClearFilter, ":filter alone")
            )
        };
        f.render_widget(
            Paragraph::new(msg)
                .alignment(Alignment::Center)
                .style(Style::default().fg(t.ui.dim)),
            centered(a.image_inner, 2),
        );
        return;
    };
    let views = app.views();
    let frame = app.frame.as_ref().filter(|fr| fr.key.case == case);
    // several panels: each has its title above it (those of the frame on screen); one: the
    // pane's title names it
    let zoom = if app.viewport.zoom > 1.0 {
        format!(" · ×{:.1}", app.viewport.zoom)
    } else {
        String::new()
    };
    let mut spans = vec![Span::styled(
        format!(" {} ", app.pack.cases[case].id),
        Style::default().add_modifier(Modifier::BOLD),
    )];
    if app.network_run().is_some() {
        spans.push(Span::styled(
            "· network input (tensor pixels) ",
            Style::default().fg(t.ui.accent).add_modifier(Modifier::BOLD),
        ));
    }
    let single = match views.as_slice() {
        [v] => format!("· {}", panel_title(app, v)),
        _ => String::new(),
    };
    let mut views_at = None;
    if !single.is_empty() || !zoom.is_empty() {
        views_at = Some(spans.len());
        spans.push(Span::styled(
            format!("{}{zoom} ", single).trim_start_matches(' ').to_string(),
            Style::default().fg(t.ui.dim),
        ));
    }
    // review mode: why this case must be seen, and the verdict it has
    if let Some(rv) = &app.review {
        let id = &app.pack.cases[case].id.0;
        if let Some(req) = rv.plan.required.iter().find(|r| &r.case == id) {
            // known-answer cases must not give themselves away
            let mut shown: Vec<&str> = req
                .reasons
                .iter()
                .map(|r| {
                    if r == "known answer" {
                        "random sample"
                    } else {
                        r.as_str()
                    }
                })
                .collect();
            shown.dedup();
            spans.push(Span::styled(
                format!("· required: {} ", shown.join("; ")),
                Style::default().fg(t.status.warning),
            ));
        }
        if let Some(g) = rv.state.case_verdict(id) {
            let text = match &g.reason {
                Some(r) => format!("· {} ({r}) ", g.verdict.name()),
                None => format!("· {} ", g.verdict.name()),
            };
            spans.push(Span::styled(
                text,
                Style::default().fg(t.ui.accent).add_modifier(Modifier::BOLD),
            ));
        }
    }
    // too long for the border: first the views go (the legend says what is drawn), then the
    // end is cut with a visible "…"; why a case is required stays as long as it can
    let room = a.image.width.saturating_sub(2) as usize;
    let width = |s: &[Span]| s.iter().map(|x| x.width()).sum::<usize>();
    if let Some(at) = views_at.filter(|&at| width(&spans) > room && spans.len() > at + 1) {
        spans.remove(at);
    }
    if width(&spans) > room {
        // cut at a blank (never mid-word), with a visible "…"
        let mut left = room.saturating_sub(2);
        let mut cut = Vec::new();
        for s in spans {
            if left == 0 {
                break;
            }
            let all = s.content.chars().count();
            let mut text: String = s.content.chars().take(left).collect();
            if text.chars().count() < all {
                let next_is_blank = s.content.chars().nth(text.chars().count()) == Some(' ');
                if !next_is_blank && let Some(b) = text.rfind(' ') {
                    text.truncate(b + 1);
                }
                left = 0;
            } else {
                left -= all;
            }
            cut.push(Span::styled(text, s.style));
        }
        cut.push(Span::raw("…"));
        spans = cut;
    }
    let title = Line::from(spans);
    let mut block = pane_block(app, Pane::Image, title);
    if app.review.is_some() {
        // the review layer's keys in force (the user's [keys.review] included)
        let key = Style::default().fg(t.ui.accent).add_modifier(Modifier::BOLD);
        // whole keys only: those that do not fit the border go from the end (help lists them)
        let room = a.image.width.saturating_sub(2) as usize;
        let mut hint = Vec::new();
        let mut used = 1; // the closing blank
        for (i, (k, what)) in app.review_hints().into_iter().enumerate() {
            let lead = if i == 0 { " " } else { "  " };
            let w = lead.len() + k.chars().count() + 1 + what.chars().count();
            if used + w > room {
                break;
            }
            used += w;
            hint.push(Span::raw(lead));
            hint.push(Span::styled(format!("{k} "), key));
            hint.push(Span::raw(what));
        }
        if !hint.is_empty() {
            hint.push(Span::raw(" "));
            block = block.title_bottom(Line::from(hint).right_aligned());
        }
    }
    f.render_widget(block, a.image);

    match frame {
        Some(fr) => match (fr.bands.first(), &fr.data.image) {
            (_, Err(msg)) => {
                let text = vec![
                    Line::styled(
                        "This image cannot be shown",
                        Style::default().fg(t.status.error).add_modifier(Modifier::BOLD),
                    ),
                    Line::raw(""),
                    Line::raw(msg.clone()),
                    Line::raw(""),
                    Line::styled(
                        format!(
                            "Its annotations are in the details pane; {} / {} move to other cases.",
                            walk(app, Action::NextCase),
                            walk(app, Action::PrevCase)
                        ),
                        Style::default().fg(t.ui.dim),
                    ),
                ];
                f.render_widget(
                    Paragraph::new(text)
                        .alignment(Alignment::Center)
                        .wrap(Wrap { trim: true }),
                    centered(a.image_inner, 6),
                );
            }
            (Some(_), Ok(_)) if show_image => {
                let r = a.image_inner;
                for band in &fr.bands {
                    let area = Rect {
                        x: r.x + band.col,
                        y: r.y + band.row,
                        width: band.cols,
                        height: band.rows,
                    }
                    .intersection(r);
                    f.render_widget(Image::new(&band.protocol), area);
                }
                render_titles(app, f, r, fr);
            }
            (None, Ok(_)) => {
                f.render_widget(
                    Paragraph::new("The image could not be encoded for this terminal; try --graphics halfblocks.")
                        .alignment(Alignment::Center),
                    centered(a.image_inner, 1),
                );
            }
            _ => {}
        },
        None => {
            let text = format!("loading {} …", app.pack.cases[case].id);
            f.render_widget(
                Paragraph::new(text)
                    .alignment(Alignment::Center)
                    .style(Style::default().fg(t.ui.dim)),
                centered(a.image_inner, 1),
            );
        }
    }
    f.render_widget(Paragraph::new(legend(app, &views)).wrap(Wrap { trim: true }), a.legend);
}

/// A key that walks the cases whatever pane has the focus: the last the keymap lists that works
/// now (`n` / `p` by default; `space` / `p` while reviewing, `n` being the note), where `j` / `k`
/// would move the pixel cursor in the image pane.
fn walk(app: &App, action: Action) -> String {
    let keys = app.config.keymap.keys_now(action, app.review.is_some());
    keys.last().cloned().unwrap_or_else(|| ":goto N".to_string())
}

/// A panel's title: the view, with the run's role in compare mode; "prediction" for the run in
/// a blind review.
fn panel_title(app: &App, v: &View) -> String {
    let mut title = v.title(&app.pack);
    let run = match v {
        View::Prediction(r) | View::Overlay(r) | View::OverlayGtFill(r) | View::Error(r) => Some(*r),
        View::GroundTruth | View::Image => None,
    };
    // a frame drawn before a reload may name a run the pack no longer has
    if let Some((r, name)) = run.and_then(|r| Some((r, &app.pack.runs.get(r)?.name.0))) {
        if app.review.as_ref().is_some_and(|rv| rv.blind_seed.is_some()) {
            return title.replace(name.as_str(), "prediction");
        }
        let role = match app.compare_pair() {
            Some((b, _)) if b == r => Some("baseline"),
            Some((_, c)) if c == r => Some("candidate"),
            _ => None,
        };
        if let Some(role) = role.filter(|role| name != role) {
            title = format!("{title} ({role})");
        }
    }
    title
}

/// Each panel's title on the row above it, centred over the panel (several panels only).
fn render_titles(app: &App, f: &mut Frame, r: Rect, fr: &super::super::worker::Frame) {
    if fr.key.views.len() < 2 {
        return;
    }
    let t = &app.config.theme;
    for (v, p) in fr.key.views.iter().zip(&fr.arranged.panels) {
        if p.y == 0 || p.w == 0 {
            continue;
        }
        let text = panel_title(app, v);
        let width = p.w as usize;
        let text = if text.chars().count() > width {
            let cut: String = text.chars().take(width.saturating_sub(1)).collect();
            format!("{cut}…")
        } else {
            text
        };
        let area = Rect {
            x: r.x + p.x as u16,
            y: r.y + p.y as u16 - 1,
            width: p.w as u16,
            height: 1,
        }
        .intersection(r);
        f.render_widget(
            Paragraph::new(Span::styled(
                text,
                Style::default().fg(t.ui.text).add_modifier(Modifier::BOLD),
            ))
            .alignment(Alignment::Center),
            area,
        );
    }
}

fn centered(r: Rect, h: u16) -> Rect {
    let h = h.min(r.height);
    Rect {
        x: r.x + 1,
        y: r.y + (r.height - h) / 2,
        width: r.width.saturating_sub(2),
        height: h,
    }
}

/// Rows the legend needs at `width` columns (1 or 2).
pub fn legend_rows(app: &App, width: u16) -> u16 {
    let n: usize = legend(app, &app.views())
        .spans
        .iter()
        .map(|s| s.content.chars().count())
        .sum();
    if n > width as usize { 2 } else { 1 }
}

/// Class colours and what the marks mean, in words.
fn legend(app: &App, views: &[View]) -> Line<'static> {
    let t = &app.config.theme;
    let mut spans = Vec::new();
    for (i, c) in app.pack.classes.iter().enumerate() {
        let [r, g, b] = app.style.palette.class(c.id);
        let hidden = app.style.hidden.contains(&c.id);
        let key = if i < 9 { format!("{}", i + 1) } else { " ".into() };
        spans.push(Span::styled(key, Style::default().fg(t.ui.dim)));
        spans.push(Span::styled(
            if hidden { "□" } else { "■" },
            Style::default().fg(Color::Rgb(r, g, b)),
        ));
        let name_style = if hidden {
            Style::default().fg(t.ui.dim).add_modifier(Modifier::CROSSED_OUT)
        } else {
            Style::default().fg(t.ui.text)
        };
        spans.push(Span::styled(format!("{} ", c.name), name_style));
    }
    let error = views.iter().any(|v| matches!(v, View::Error(_)));
    let dim = Style::default().fg(t.ui.dim);
    if error {
        let sw = |rgb: [u8; 3]| Style::default().fg(Color::Rgb(rgb[0], rgb[1], rgb[2]));
        spans.push(Span::styled("│ ", dim));
        spans.push(Span::styled("■", sw(app.style.palette.true_positive)));
        spans.push(Span::raw("agree "));
        spans.push(Span::styled("■", sw(app.style.palette.false_positive)));
        spans.push(Span::raw("extra "));
        spans.push(Span::styled("■", sw(app.style.palette.false_negative)));
        spans.push(Span::raw("missed "));
    } else if app.run.is_some() {
        spans.push(Span::styled("│ ", dim));
        let (gt, pred) = match app.gt_look {
            GtLook::Outline => ("gt outline/dashed", "pred fill/solid"),
            GtLook::Fill => ("gt fill/dashed", "pred outline/solid"),
            GtLook::Off => ("gt off", "pred fill/solid"),
        };
        spans.push(Span::styled(format!("{gt} · {pred} "), dim));
    }
    if app.style.score_threshold > 0.0 {
        spans.push(Span::styled(format!("│ score ≥ {:.2}", app.style.score_threshold), dim));
    }
    Line::from(spans)
}
