//! The details pane: the image's facts, the ground truth, the run's predictions (selectable:
//! the selected one is highlighted in the image) and the case's problems. Sections for flags,
//! metrics and verdicts slot in as later features provide them.

use super::super::app::{App, Pane};
use super::pane_block;
use crate::render::Source;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// The pane at `area`; `instead`: in the image's place (narrow terminals), its title saying how
/// to get the image back.
pub fn render(app: &App, f: &mut Frame, area: Rect, instead: bool) {
    let t = &app.config.theme;
    let title = if instead {
        Line::from(vec![
            Span::raw(" Details "),
            Span::styled(
                format!(
                    "· {}: back to the image ",
                    app.key_or(crate::tui::action::Action::ToggleDetails, "toggle_details")
                ),
                Style::default().fg(t.ui.accent),
            ),
        ])
    } else {
        Line::raw(" Details ")
    };
    let block = pane_block(app, Pane::Details, title);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let lines = content(app, inner.width);
    // taller than the pane: it scrolls (page down/up with the focus here), and says so
    let max = lines.len().saturating_sub(inner.height as usize);
    let top = app.details_top().min(max);
    let more_below = top < max;
    f.render_widget(Paragraph::new(lines).scroll((top as u16, 0)), inner);
    if top > 0 || more_below {
        use crate::tui::action::Action;
        let hint = match (top > 0, more_below) {
            (_, true) if app.focus != Pane::Details => format!(
                " ↓ more: {} here, then {} ",
                app.key_or(Action::NextPane, "the mouse"),
                app.key_or(Action::PageDown, "the wheel")
            ),
            (true, true) => format!(
                " ↑ {} · ↓ more: {} ",
                app.key_or(Action::PageUp, "the wheel"),
                app.key_or(Action::PageDown, "the wheel")
            ),
            (false, _) => format!(" ↓ more: {} ", app.key_or(Action::PageDown, "the wheel")),
            (true, false) => format!(" ↑ {}: back up ", app.key_or(Action::PageUp, "the wheel")),
        };
        let w = (Span::raw(hint.as_str()).width() as u16).min(area.width.saturating_sub(2));
        let at = Rect {
            x: area.x + area.width.saturating_sub(w + 1),
            y: area.y + area.height.saturating_sub(1),
            width: w,
            height: 1,
        };
        f.render_widget(
            Paragraph::new(Span::styled(
                hint,
                Style::default().fg(t.ui.accent).add_modifier(Modifier::BOLD),
            )),
            at,
        );
    }
}

/// How far the pane at `area` scrolls: the lines below its last row.
pub fn max_scroll(app: &App, area: Rect) -> usize {
    let inner = pane_block(app, Pane::Details, "").inner(area);
    content(app, inner.width).len().saturating_sub(inner.height as usize)
}

/// The pane's lines at `width` columns, wrapped.
fn content(app: &App, width: u16) -> Vec<Line<'static>> {
    let t = &app.config.theme;
    let Some(case) = app.case() else { return Vec::new() };
    let pack = &app.pack;
    let head = |s: &str| {
        Line::styled(
            s.to_string(),
            Style::default().fg(t.ui.accent).add_modifier(Modifier::BOLD),
        )
    };
    let dim = Style::default().fg(t.ui.dim);
    let kv = |k: &str, v: String| Line::from(vec![Span::styled(format!("{k:<8}"), dim), Span::raw(v)]);
    let mut lines = Wrapped::new(width);

    // flags first: they are why a reviewer is looking at this case (and the first thing read
    // when the pane is short)
    let flags: Vec<&crate::rules::Flag> = app.case_flags(case).collect();
    if !flags.is_empty() {
        lines.push(head("Flags"));
        for fl in flags {
            let (glyph, color) = match fl.severity {
                crate::rules::Severity::Critical => ("● ", t.flag.critical),
                crate::rules::Severity::Major => ("▲ ", t.flag.major),
                crate::rules::Severity::Minor => ("· ", t.flag.minor),
            };
            let who = match fl.source {
                None => "input".to_string(),
                Some(crate::pack::Source::GroundTruth) => "ground truth".to_string(),
                Some(s) => pack.source_name(s),
            };
            let change = match app.flag_change(fl) {
                Some(c) => Span::styled(
                    format!("{c} "),
                    Style::default()
                        .fg(if c == "new" { t.flag.critical } else { t.ui.dim })
                        .add_modifier(Modifier::BOLD | Modifier::REVERSED),
                ),
                None => Span::raw(""),
            };
            // review mode: the flag the next verdict is on
            let chosen = app.review.as_ref().and_then(|r| r.flag.as_deref()) == Some(fl.rule.as_str());
            let chosen = if chosen {
                Span::styled(
                    "verdict on this flag ",
                    Style::default()
                        .fg(t.ui.accent)
                        .add_modifier(Modifier::BOLD | Modifier::REVERSED),
                )
            } else {
                Span::raw("")
            };
            lines.hang(
                2,
                Line::from(vec![
                    Span::styled(glyph, Style::default().fg(color)),
                    chosen,
                    change,
                    Span::styled(
                        format!("{} · {who}: ", fl.rule),
                        Style::default().fg(color).add_modifier(Modifier::BOLD),
                    ),
                    Span::raw(fl.message.clone()),
                ]),
            );
        }
    } else if app.checked.is_none() {
        lines.push(Line::styled("checking rules…", dim));
    }

    if !lines.0.is_empty() {
        lines.push(Line::raw(""));
    }
    lines.push(head("Image"));
    let c = &pack.cases[case];
    lines.hang(8, kv("file", pack.display_path(&c.image).display().to_string()));
    let tags: Vec<&str> = app.workspace.tags(&c.id.0).collect();
    if !tags.is_empty() {
        lines.hang(8, kv("tags", tags.join(" ")));
    }
    let frame = app.frame.as_ref().filter(|fr| fr.key.case == case);
    match frame.map(|fr| &fr.data.image) {
        Some(Ok(img)) => {
            let kind = match img.pixels {
                crate::formats::image::Pixels::Gray8(_) | crate::formats::image::Pixels::Gray16(_) => "gray",
                _ => "RGB",
            };
            lines.hang(
                8,
                kv(
                    "size",
                    format!("{}×{} {kind} {}-bit", img.width, img.height, img.bit_depth()),
                ),
            );
            if let Some(s) = frame.and_then(|fr| fr.data.stats) {
                let unit = img
                    .scan
                    .as_deref()
                    .and_then(|s| s.unit)
                    .map(|u| format!(" {u}"))
                    .unwrap_or_default();
                lines.hang(8, kv("values", format!("{:.0}..{:.0}{unit}", s.min, s.max)));
                if let Some((w, name)) = app.current_window() {
                    lines.hang(
                        8,
                        kv("window", format!("C {:.0} W {:.0} ({name})", w.center(), w.width())),
                    );
                }
            }
            if let Some(scan) = img.scan.as_deref() {
                for l in scan_lines(scan, &kv) {
                    lines.hang(8, l);
                }
            }
        }
        Some(Err(_)) => lines.push(Line::styled(
            "cannot be read (see the image pane)",
            Style::default().fg(t.status.error),
        )),
        None => lines.push(Line::styled("loading…", dim)),
    }
    if let Some(r) = app.cursor_readout() {
        lines.hang(8, kv("cursor", r));
    }

    // the network's-eye view: what the model receives, next to what the card declares
    if let Some(net) = frame.and_then(|fr| fr.network.as_ref()) {
        lines.push(Line::raw(""));
        lines.push(head("Network input"));
        match net {
            Ok(t) => {
                lines.hang(8, kv("shape", format!("{:?} {}", t.shape, t.dtype)));
                lines.hang(
                    8,
                    kv(
                        "placed",
                        format!(
                            "{}×{} image ×{:.3} at ({:.0}, {:.0})",
                            t.image_size.0,
                            t.image_size.1,
                            t.placement.scale_x,
                            t.placement.offset_x,
                            t.placement.offset_y
                        ),
                    ),
                );
                if t.transposed {
                    lines.hang(8, kv("axes", "transposed (x↔y, card: transpose)".to_string()));
                }
                if let Some(note) = &t.note {
                    lines.hang(8, kv("stages", note.clone()));
                }
                for (c, (lo, hi, mean, std)) in t.channels.iter().enumerate() {
                    let declared = match (t.declared_mean.get(c), t.declared_std.get(c)) {
                        (Some(m), Some(s)) => format!(" (card: mean {m}, std {s})"),
                        _ => String::new(),
                    };
                    lines.hang(
                        8,
                        kv(
                            &format!("ch {c}"),
                            format!("{lo:.2}..{hi:.2} μ {mean:.3} σ {std:.3}{declared}"),
                        ),
                    );
                }
            }
            Err(e) => lines.push(Line::styled(e.clone(), Style::default().fg(t.status.error))),
        }
    }

    // the case's figures under the current run
    if let Some(m) = app.run_metrics() {
        let fig = m.cases.get(case);
        let mut parts: Vec<Span> = Vec::new();
        let thr = app.style.score_threshold;
        match (app.operating_now().and_then(|o| o.cases.get(case)), fig) {
            (Some(d), _) => parts.push(Span::raw(format!(
                "TP {} · FP {} · FN {}  (score ≥ {thr:.2})",
                d.tp, d.fp, d.fn_
            ))),
            (None, Some(f)) if f.tp.is_some() => parts.push(Span::raw(format!(
                "TP {} · FP {} · FN {}  (score ≥ {:.2})",
                f.tp.unwrap_or(0),
                f.fp.unwrap_or(0),
                f.fn_.unwrap_or(0),
                m.detection.as_ref().map_or(0.5, |d| d.threshold)
            ))),
            _ => {}
        }
        let seg = m
            .segmentation
            .as_ref()
            .and_then(|s| s.cases.iter().find(|c| c.case == case));
        let dice: Vec<String> = seg
            .map(|s| {
                s.classes
                    .iter()
                    .filter_map(|c| Some(format!("{} {:.2}", pack.class_name(c.class), c.dice()?)))
                    .collect()
            })
            .unwrap_or_default();
        if !parts.is_empty() || !dice.is_empty() {
            lines.push(Line::raw(""));
            lines.push(head("Metrics"));
            if !parts.is_empty() {
                lines.push(Line::from(parts));
            }
            if !dice.is_empty() {
                lines.hang(8, kv("Dice", dice.join(" · ")));
            }
            if let Some(w) = fig.and_then(|f| f.worst.as_ref()) {
                lines.push(Line::from(vec![
                    Span::styled(format!("{:<8}", "worst"), dim),
                    Span::styled(w.clone(), Style::default().fg(t.status.warning)),
                ]));
            }
        }
    }

    // physical areas where the file states its pixel spacing
    if let Some((sp, data)) =
        frame.and_then(|fr| Some((fr.data.image.as_ref().ok()?.scan.as_ref()?.spacing?, &fr.data)))
    {
        let gt = data.label_pixels(Source::GroundTruth);
        let pred = app.run.and_then(|r| data.label_pixels(Source::Run(r)));
        let mm2 = |n: usize| {
            let a = n as f64 * sp.pixel_area_mm2();
            if a >= 1000.0 {
                format!("{:.1} cm²", a / 100.0)
            } else {
                format!("{a:.0} mm²")
            }
        };
        let mut rows = Vec::new();
        for k in &pack.classes {
            let g = gt.as_ref().and_then(|m| m.get(&k.mask_value).copied());
            let p = pred.as_ref().and_then(|m| m.get(&k.mask_value).copied());
            if g.is_none() && p.is_none() {
                continue;
            }
            let show = |v: Option<usize>| v.map(mm2).unwrap_or_else(|| "-".into());
            rows.push(kv(&k.name, format!("gt {} · pred {}", show(g), show(p))));
        }
        if !rows.is_empty() {
            lines.push(Line::raw(""));
            lines.push(head("Areas"));
            for r in rows {
                lines.hang(8, r);
            }
        }
    }

    lines.push(Line::raw(""));
    lines.push(head("Ground truth"));
    let gt = &pack.ground_truth[case];
    let mut counts: Vec<String> = pack
        .classes
        .iter()
        .filter_map(|k| {
            let n = gt.instances.iter().filter(|i| i.class == k.id).count();
            (n > 0).then(|| format!("{n} {}", k.name))
        })
        .collect();
    if gt.label_mask.is_some() {
        counts.push("label mask".into());
    }
    for (k, s) in &gt.scores {
        if let Some(cl) = pack.class(*k) {
            counts.push(format!("{} = {s}", cl.name));
        }
    }
    lines.push(Line::raw(if counts.is_empty() {
        "none".to_string()
    } else {
        counts.join(", ")
    }));

    if let Some(r) = app.run {
        let run = &pack.runs[r];
        let ann = &run.annotations[case];
        lines.push(Line::raw(""));
        let focus_hint = if app.focus == Pane::Details {
            String::new()
        } else {
            use crate::tui::action::Action;
            format!(
                "  ({} here, {}/{} select)",
                app.key_or(Action::NextPane, "the mouse"),
                app.key_or(Action::NextCase, "?"),
                app.key_or(Action::PrevCase, "?")
            )
        };
        lines.push(Line::from(vec![
            Span::styled(
                format!("Run {}", run.name.0),
                Style::default().fg(t.ui.accent).add_modifier(Modifier::BOLD),
            ),
            Span::styled(focus_hint, dim),
        ]));
        if let Some(m) = &run.sources.model {
            lines.hang(8, kv("model", m.clone()));
        }
        if ann.label_mask.is_some() {
            lines.hang(8, kv("masks", "label mask".into()));
        }
        for (k, s) in &ann.scores {
            if let Some(cl) = pack.class(*k) {
                lines.hang(8, kv("score", format!("{} {s:.3}", cl.name)));
            }
        }
        if ann.instances.is_empty() {
            lines.push(Line::styled("no boxes or instance masks", dim));
        }
        let spacing = frame.and_then(|fr| fr.data.image.as_ref().ok()?.scan.as_ref()?.spacing);
        let mut order: Vec<usize> = (0..ann.instances.len()).collect();
        order.sort_by(|&a, &b| {
            ann.instances[b]
                .score
                .partial_cmp(&ann.instances[a].score)
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        for i in order {
            let inst = &ann.instances[i];
            let cl = pack.class(inst.class);
            let [cr, cg, cb] = app.style.palette.class(inst.class);
            let selected = app.selected == Some(i)
                || app.render_style().selected == Some((Source::Run(r), i)) && app.selected.is_some();
            let below = !app.style.shows(inst);
            let b = inst.bbox;
            let mut style = Style::default();
            if selected {
                style = style.bg(t.ui.selection).add_modifier(Modifier::BOLD);
            }
            if below {
                style = style.fg(t.ui.dim);
            }
            lines.push(
                Line::from(vec![
                    Span::styled(if selected { "▸" } else { " " }, Style::default().fg(t.ui.accent)),
                    Span::styled("■ ", Style::default().fg(Color::Rgb(cr, cg, cb))),
                    Span::raw(format!("{:<9} ", cl.map(|c| c.name.as_str()).unwrap_or("?"))),
                    Span::raw(inst.score.map(|s| format!("{s:.2}")).unwrap_or_default()),
                    Span::styled(format!("  {:.0},{:.0} {:.0}×{:.0}", b.x, b.y, b.w, b.h), dim),
                    Span::styled(
                        spacing
                            .map(|sp| format!(" ({:.0}×{:.0} mm)", b.w * sp.col_mm, b.h * sp.row_mm))
                            .unwrap_or_default(),
                        dim,
                    ),
                    Span::styled(if inst.segmentation.is_some() { " mask" } else { "" }, dim),
                ])
                .style(style),
            );
        }
    }

    let problems: Vec<_> = app.case_problems(case).collect();
    if !problems.is_empty() {
        lines.push(Line::raw(""));
        lines.push(head("Problems"));
        for p in problems {
            let color = if p.is_error() { t.status.error } else { t.status.warning };
            lines.hang(
                2,
                Line::from(vec![
                    Span::styled(if p.is_error() { "✖ " } else { "! " }, Style::default().fg(color)),
                    Span::raw(p.to_string()),
                ]),
            );
        }
    }
    lines.0
}

/// The pane's lines, wrapped to its width as they are added (so that its height is known):
/// nothing is cut off at the right edge.
struct Wrapped(Vec<Line<'static>>, usize);

impl Wrapped {
    fn new(width: u16) -> Self {
        Wrapped(Vec::new(), width as usize)
    }

    fn push(&mut self, line: Line<'static>) {
        self.hang(0, line);
    }

    /// A line whose continuation lines start `indent` columns in (under a key's value, after a
    /// flag's glyph).
    fn hang(&mut self, indent: usize, line: Line<'static>) {
        self.0.extend(super::wrap_line(line, self.1, indent));
    }
}

/// What a DICOM/NIfTI header says about the image (never identifying tags: the scan holds none).
fn scan_lines(scan: &crate::formats::scan::Scan, kv: &dyn Fn(&str, String) -> Line<'static>) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let what: Vec<&str> = [
        scan.modality.as_deref(),
        scan.body_part.as_deref(),
        scan.view_position.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect();
    let what = if what.is_empty() {
        String::new()
    } else {
        format!(" {}", what.join(" "))
    };
    out.push(kv("scan", format!("{}{what} · {}", scan.format, scan.photometric)));
    if scan.slope != 1.0 || scan.intercept != 0.0 || scan.unit.is_some() {
        let unit = scan.unit.map(|u| format!(" → {u}")).unwrap_or_default();
        let intercept = scan.intercept
            + if scan.signed {
                scan.slope * (1u32 << (scan.bits_stored - 1)) as f64
            } else {
                0.0
            };
        out.push(kv("rescale", format!("×{} {:+}{unit}", scan.slope, intercept)));
    }
    if let Some(sp) = scan.spacing {
        out.push(kv("pixel", format!("{:.3}×{:.3} mm", sp.col_mm, sp.row_mm)));
    }
    if let Some((r, c)) = &scan.orientation {
        out.push(kv("orient", format!("right→{r} down→{c}")));
    }
    out
}
