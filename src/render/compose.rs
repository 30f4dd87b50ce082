//! Compositing one panel of a case at the size it is shown: the windowed image, then mask fills
//! and outlines, then boxes with score labels, all in pixels. The same function draws the
//! dashboard's image pane and `lightbox render`'s PNGs.
//!
//! Masks are sampled onto the output grid as per-pixel class sets (a bit per class), so a
//! finding inside a region counts for both, outlines are one output pixel wide at any zoom, and
//! the error view compares the sets: agreement, prediction only, ground truth only.

use super::case_data::CaseData;
use super::font;
use super::palette::Palette;
use super::window::{Window, WindowPreset};
use crate::formats::image::Pixels;
use crate::geometry::{BBox, BinaryMask};
use crate::pack::{ClassId, Instance, Pack};
use image::RgbImage;

pub use crate::pack::Source;

/// How a layer is drawn: ground truth as outline and prediction as fill tells them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Look {
    Outline,
    Fill,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Layer {
    pub source: Source,
    pub look: Look,
}

/// What one panel shows.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Panel {
    /// Layers drawn in order over the image.
    Layers(Vec<Layer>),
    /// A run against the ground truth: agreement, prediction only (false positive), ground truth
    /// only (false negative).
    Error { run: usize },
}

impl Panel {
    /// The source a panel shows first: its filled layer (a run's error view: that run). A flag's
    /// highlight belongs on its own source's panels only, never on another run's or the ground
    /// truth's; `None` for the image alone.
    pub fn owner(&self) -> Option<Source> {
        match self {
            Panel::Layers(layers) => layers.first().map(|l| l.source),
            Panel::Error { run } => Some(Source::Run(*run)),
        }
    }
}

/// Flagged geometry to mark on a panel.
#[derive(Debug, Clone, PartialEq)]
pub struct Highlight {
    pub rle: crate::geometry::Rle,
    pub color: [u8; 3],
    /// The source whose flag it is; `None`: a flag on the input image (drawn on every panel).
    pub source: Option<Source>,
}

/// The overlay settings a person controls.
#[derive(Debug, Clone, PartialEq)]
pub struct Style {
    pub fill: bool,
    pub fill_opacity: f32,
    pub outline: bool,
    pub outline_opacity: f32,
    pub boxes: bool,
    pub scores: bool,
    /// Draw instances (boxes, polygons, instance masks). In the network's-eye view they are the
    /// boxes carried into tensor coordinates (`CaseData::carried`).
    pub instances: bool,
    /// Classes switched off.
    pub hidden: Vec<ClassId>,
    /// Predictions scoring below this are not drawn.
    pub score_threshold: f64,
    /// `None`: the preset's window for this image.
    pub window: Option<Window>,
    pub preset: WindowPreset,
    /// The highlighted prediction.
    pub selected: Option<(Source, usize)>,
    /// A crosshair at this image pixel.
    pub cursor: Option<(u32, u32)>,
    /// Flagged geometry to mark (the part outside, the extra fragments, the hole), with colour.
    /// Each is drawn only on the panels of the source that has the flag (see [`Panel::owner`]).
    pub highlights: Vec<Highlight>,
    pub palette: Palette,
}

impl Style {
    pub fn new(palette: Palette) -> Style {
        Style {
            fill: true,
            fill_opacity: 0.4,
            outline: true,
            outline_opacity: 0.95,
            boxes: true,
            scores: true,
            instances: true,
            hidden: Vec::new(),
            score_threshold: 0.0,
            window: None,
            preset: WindowPreset::File,
            selected: None,
            cursor: None,
            highlights: Vec::new(),
            palette,
        }
    }

    /// Whether an instance is drawn (its class is on and its score clears the threshold).
    pub fn shows(&self, i: &Instance) -> bool {
        self.instances && !self.hidden.contains(&i.class) && i.score.is_none_or(|s| s >= self.score_threshold)
    }
}

/// Zoom and pan: `zoom` 1 fits the image to the panel; `center` is the image point at the
/// panel's centre (`None`: the image's centre).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Viewport {
    pub zoom: f64,
    pub center: Option<(f64, f64)>,
}

impl Viewport {
    pub fn fit() -> Viewport {
        Viewport {
            zoom: 1.0,
            center: None,
        }
    }
}

/// Image-to-panel mapping for one composition.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mapping {
    pub scale: f64,
    pub off_x: f64,
    pub off_y: f64,
    pub image_w: u32,
    pub image_h: u32,
}

impl Mapping {
    pub fn new(image_w: u32, image_h: u32, vp: &Viewport, w: u32, h: u32) -> Mapping {
        let fit = (w as f64 / image_w.max(1) as f64).min(h as f64 / image_h.max(1) as f64);
        let scale = fit * vp.zoom.max(0.05);
        let (mut cx, mut cy) = vp.center.unwrap_or((image_w as f64 / 2.0, image_h as f64 / 2.0));
        // keep the image in view: centred when it fits, edges clamped when it does not
        let clamp = |c: f64, extent: u32, panel: u32| {
            let half = panel as f64 / 2.0 / scale;
            if extent as f64 <= 2.0 * half {
                extent as f64 / 2.0
            } else {
                c.clamp(half, extent as f64 - half)
            }
        };
        cx = clamp(cx, image_w, w);
        cy = clamp(cy, image_h, h);
        Mapping {
            scale,
            off_x: w as f64 / 2.0 - cx * scale,
            off_y: h as f64 / 2.0 - cy * scale,
            image_w,
            image_h,
        }
    }

    /// The image pixel under panel pixel `(x, y)`.
    pub fn to_image(&self, x: f64, y: f64) -> Option<(u32, u32)> {
        let sx = ((x + 0.5 - self.off_x) / self.scale).floor();
        let sy = ((y + 0.5 - self.off_y) / self.scale).floor();
        (sx >= 0.0 && sy >= 0.0 && sx < self.image_w as f64 && sy < self.image_h as f64)
            .then_some((sx as u32, sy as u32))
    }

    pub fn to_panel(&self, x: f64, y: f64) -> (f64, f64) {
        (self.off_x + x * self.scale, self.off_y + y * self.scale)
    }
}

/// Compose `panel` of `data`'s case into a `w` × `h` RGB image. `None` when the image itself
/// could not be loaded (the caller shows the message instead).
pub fn compose(
    pack: &Pack,
    data: &CaseData,
    panel: &Panel,
    style: &Style,
    vp: &Viewport,
    w: u32,
    h: u32,
) -> Option<RgbImage> {
    let img = data.image.as_ref().ok()?;
    let (w, h) = (w.max(1), h.max(1));
    let map = Mapping::new(img.width, img.height, vp, w, h);
    let mut out = RgbImage::from_pixel(w, h, image::Rgb(style.palette.background));
    draw_image(&mut out, data, style, &map);
    let visible: Vec<bool> = pack.classes.iter().map(|c| !style.hidden.contains(&c.id)).collect();
    match panel {
        Panel::Layers(layers) => {
            for layer in layers {
                let sets = class_sets(pack, data, layer.source, style, &visible, &map, w, h);
                match layer.look {
                    Look::Fill if style.fill => fill(&mut out, &sets, pack, style, style.fill_opacity),
                    Look::Outline if style.outline => outline(&mut out, &sets, pack, style),
                    _ => {}
                }
            }
            if style.boxes {
                for layer in layers {
                    draw_boxes(&mut out, pack, data, layer.source, style, &map, None);
                }
            }
        }
        Panel::Error { run } => {
            let gt = class_sets(pack, data, Source::GroundTruth, style, &visible, &map, w, h);
            let pred = class_sets(pack, data, Source::Run(*run), style, &visible, &map, w, h);
            error_fill(&mut out, &gt, &pred, style);
            if style.boxes {
                let matched = match_boxes(pack, data.case, *run, style);
                draw_boxes(
                    &mut out,
                    pack,
                    data,
                    Source::GroundTruth,
                    style,
                    &map,
                    Some(&matched.gt),
                );
                draw_boxes(
                    &mut out,
                    pack,
                    data,
                    Source::Run(*run),
                    style,
                    &map,
                    Some(&matched.pred),
                );
            }
        }
    }
    let owner = panel.owner();
    for h in style
        .highlights
        .iter()
        .filter(|h| h.source.is_none() || h.source == owner)
    {
        draw_highlight(&mut out, &map, &h.rle, h.color);
    }
    if let Some(c) = style.cursor {
        draw_cursor(&mut out, &map, c);
    }
    Some(out)
}

fn draw_image(out: &mut RgbImage, data: &CaseData, style: &Style, map: &Mapping) {
    use rayon::prelude::*;
    let Ok(img) = &data.image else { return };
    let window = style
        .window
        .or_else(|| data.stats.map(|s| style.preset.window_for(&s, img.scan.as_deref())))
        .unwrap_or(Window { low: 0.0, high: 255.0 });
    let lut = super::window::display_lut(img, window, style.preset, style.window.is_some());
    let (w, h) = out.dimensions();
    let iw = img.width as usize;
    // when shrinking, average a 2×2 grid of samples per output pixel (enough to avoid aliasing
    // stripes on ribs and noise, at a quarter of the cost of 4×4)
    let k = if map.scale < 1.0 { 2 } else { 1 };
    let src = |o: u32, off: f64, limit: u32, s: usize| -> Option<usize> {
        let v = ((o as f64 + (s as f64 + 0.5) / k as f64 - off) / map.scale).floor();
        (v >= 0.0 && v < limit as f64).then_some(v as usize)
    };
    let cols: Vec<[Option<usize>; 2]> = (0..w)
        .map(|x| std::array::from_fn(|s| if s < k { src(x, map.off_x, img.width, s) } else { None }))
        .collect();
    let rows: Vec<[Option<usize>; 2]> = (0..h)
        .map(|y| std::array::from_fn(|s| if s < k { src(y, map.off_y, img.height, s) } else { None }))
        .collect();
    let gray: Option<&(dyn Fn(usize) -> u8 + Sync)> = match &img.pixels {
        Pixels::Gray8(p) => Some(&|i: usize| lut[p[i] as usize]),
        Pixels::Gray16(p) => Some(&|i: usize| lut[p[i] as usize]),
        _ => None,
    };
    out.as_mut()
        .par_chunks_mut(w as usize * 3)
        .zip(rows.par_iter())
        .for_each(|(line, r)| {
            if r[0].is_none() && r[k - 1].is_none() {
                return;
            }
            for (x, col) in cols.iter().enumerate() {
                let (mut acc, mut n) = ([0u32; 3], 0u32);
                for ry in r.iter().take(k).flatten() {
                    for cx in col.iter().take(k).flatten() {
                        let i = ry * iw + cx;
                        match gray {
                            Some(g) => {
                                let v = g(i) as u32;
                                acc[0] += v;
                            }
                            None => {
                                let rgb = match &img.pixels {
                                    Pixels::Rgb8(p) => [
                                        lut[p[3 * i] as usize],
                                        lut[p[3 * i + 1] as usize],
                                        lut[p[3 * i + 2] as usize],
                                    ],
                                    Pixels::Rgb16(p) => [
                                        lut[p[3 * i] as usize],
                                        lut[p[3 * i + 1] as usize],
                                        lut[p[3 * i + 2] as usize],
                                    ],
                                    _ => [0; 3],
                                };
                                for c in 0..3 {
                                    acc[c] += rgb[c] as u32;
                                }
                            }
                        }
                        n += 1;
                    }
                }
                if let Some(n) = std::num::NonZeroU32::new(n) {
                    let o = x * 3;
                    if gray.is_some() {
                        let v = (acc[0] / n) as u8;
                        line[o..o + 3].copy_from_slice(&[v, v, v]);
                    } else {
                        for (c, a) in acc.iter().enumerate() {
                            line[o + c] = (*a / n) as u8;
                        }
                    }
                }
            }
        });
}

/// Per output pixel, the set of classes `source` marks there (bit `i` = `pack.classes[i]`).
#[allow(clippy::too_many_arguments)]
fn class_sets(
    pack: &Pack,
    data: &CaseData,
    source: Source,
    style: &Style,
    visible: &[bool],
    map: &Mapping,
    w: u32,
    h: u32,
) -> Vec<u64> {
    let mut sets = vec![0u64; (w * h) as usize];
    let bit = |ci: usize| {
        if ci < 64 && visible[ci] { 1u64 << ci } else { 0 }
    };
    // image pixel per output column / row (nearest)
    let xs: Vec<Option<u32>> = (0..w).map(|x| col_of(map, x)).collect();
    let ys: Vec<Option<u32>> = (0..h).map(|y| row_of(map, y)).collect();
    if let Some(mask) = data.mask(source) {
        use rayon::prelude::*;
        // a lookup table as long as the largest class value (values beyond it are no class)
        let top = pack.classes.iter().map(|c| c.mask_value as usize).max().unwrap_or(0);
        let mut lut = vec![0u64; top + 1];
        for (ci, c) in pack.classes.iter().enumerate() {
            lut[c.mask_value as usize] |= bit(ci);
        }
        let mw = mask.width() as usize;
        let m = mask.as_slice();
        sets.par_chunks_mut(w as usize)
            .zip(ys.par_iter())
            .for_each(|(row, sy)| {
                let Some(sy) = sy else { return };
                let mrow = &m[*sy as usize * mw..(*sy as usize + 1) * mw];
                for (cell, sx) in row.iter_mut().zip(&xs) {
                    if let Some(sx) = sx {
                        *cell |= lut.get(mrow[*sx as usize] as usize).copied().unwrap_or(0);
                    }
                }
            });
    }
    let anns = shown_annotations(pack, data, source);
    for inst in anns.iter().filter(|i| style.shows(i)) {
        let Some(seg) = &inst.segmentation else {
            continue;
        };
        let Some(ci) = pack.classes.iter().position(|c| c.id == inst.class) else {
            continue;
        };
        let b = bit(ci);
        if b == 0 {
            continue;
        }
        let (iw, ih) = (map.image_w, map.image_h);
        let m: BinaryMask = seg.to_rle(ih, iw).decode();
        if (m.width(), m.height()) != (iw, ih) {
            continue;
        }
        // only the output rows/columns covered by the instance's box
        let bb = inst.bbox;
        let (x0, y0) = map.to_panel(bb.x, bb.y);
        let (x1, y1) = map.to_panel(bb.x2(), bb.y2());
        let (x0, x1) = ((x0.floor().max(0.0)) as usize, (x1.ceil().min(w as f64)) as usize);
        let (y0, y1) = ((y0.floor().max(0.0)) as usize, (y1.ceil().min(h as f64)) as usize);
        for y in y0..y1 {
            let Some(sy) = ys[y] else { continue };
            for x in x0..x1 {
                if let Some(sx) = xs[x]
                    && m.get(sx, sy)
                {
                    sets[y * w as usize + x] |= b;
                }
            }
        }
    }
    sets
}

fn col_of(map: &Mapping, x: u32) -> Option<u32> {
    let v = ((x as f64 + 0.5 - map.off_x) / map.scale).floor();
    (v >= 0.0 && v < map.image_w as f64).then_some(v as u32)
}

fn row_of(map: &Mapping, y: u32) -> Option<u32> {
    let v = ((y as f64 + 0.5 - map.off_y) / map.scale).floor();
    (v >= 0.0 && v < map.image_h as f64).then_some(v as u32)
}

/// The instances drawn for a source: the pack's, or those carried into another pixel grid with
/// the data (the network's-eye view's tensor).
fn shown_annotations<'a>(pack: &'a Pack, data: &'a CaseData, source: Source) -> &'a [Instance] {
    match (&data.carried, source) {
        (Some(c), Source::GroundTruth) => &c.ground_truth,
        (Some(c), Source::Run(r)) => c.runs.get(r).map(|v| v.as_slice()).unwrap_or(&[]),
        (None, _) => annotations(pack, data.case, source),
    }
}

fn annotations(pack: &Pack, case: usize, source: Source) -> &[Instance] {
    match source {
        Source::GroundTruth => &pack.ground_truth[case].instances,
        Source::Run(r) => pack
            .runs
            .get(r)
            .map(|r| r.annotations[case].instances.as_slice())
            .unwrap_or(&[]),
    }
}

#[inline]
fn blend(px: &mut [u8], c: [u8; 3], a: f32) {
    for k in 0..3 {
        px[k] = (px[k] as f32 * (1.0 - a) + c[k] as f32 * a + 0.5) as u8;
    }
}

/// The colour of the topmost class in a set (later classes, usually findings, are on top).
fn top_class(set: u64) -> usize {
    63 - set.leading_zeros() as usize
}

fn fill(out: &mut RgbImage, sets: &[u64], pack: &Pack, style: &Style, alpha: f32) {
    use rayon::prelude::*;
    let colors: Vec<[u8; 3]> = pack.classes.iter().map(|c| style.palette.class(c.id)).collect();
    let w = out.width() as usize;
    out.as_mut()
        .par_chunks_mut(w * 3)
        .zip(sets.par_chunks(w))
        .for_each(|(line, row)| {
            for (x, &s) in row.iter().enumerate() {
                if s != 0 {
                    blend(
                        &mut line[x * 3..x * 3 + 3],
                        colors[top_class(s).min(colors.len() - 1)],
                        alpha,
                    );
                }
            }
        });
}

fn outline(out: &mut RgbImage, sets: &[u64], pack: &Pack, style: &Style) {
    use rayon::prelude::*;
    let (w, h) = (out.width() as usize, out.height() as usize);
    let colors: Vec<[u8; 3]> = pack.classes.iter().map(|c| style.palette.class(c.id)).collect();
    out.as_mut().par_chunks_mut(w * 3).enumerate().for_each(|(y, line)| {
        for x in 0..w {
            let s = sets[y * w + x];
            if s == 0 {
                continue;
            }
            // a class is on its edge here when a 4-neighbour lacks it (or is outside the panel)
            let mut edge = 0u64;
            for (nx, ny) in [(x.wrapping_sub(1), y), (x + 1, y), (x, y.wrapping_sub(1)), (x, y + 1)] {
                let n = if nx < w && ny < h { sets[ny * w + nx] } else { 0 };
                edge |= s & !n;
            }
            if edge != 0 {
                blend(
                    &mut line[x * 3..x * 3 + 3],
                    colors[top_class(edge).min(colors.len() - 1)],
                    style.outline_opacity,
                );
            }
        }
    });
}

fn error_fill(out: &mut RgbImage, gt: &[u64], pred: &[u64], style: &Style) {
    let p = &style.palette;
    let buf = out.as_mut();
    for i in 0..gt.len() {
        let (g, d) = (gt[i], pred[i]);
        // disagreement must jump out; agreement stays faint
        let strong = (style.fill_opacity * 2.0).clamp(0.55, 0.85);
        let (color, a) = if d & !g != 0 {
            (p.false_positive, strong)
        } else if g & !d != 0 {
            (p.false_negative, strong)
        } else if g & d != 0 {
            (p.true_positive, style.fill_opacity * 0.4)
        } else {
            continue;
        };
        blend(&mut buf[i * 3..i * 3 + 3], color, a);
    }
}

/// Box matches for the error view: per class, greedy by score at IoU ≥ 0.5.
struct BoxMatches {
    /// Per GT instance: matched?
    gt: Vec<bool>,
    /// Per prediction: matched?
    pred: Vec<bool>,
}

fn match_boxes(pack: &Pack, case: usize, run: usize, style: &Style) -> BoxMatches {
    let gts = &pack.ground_truth[case].instances;
    let preds = annotations(pack, case, Source::Run(run));
    let mut gt_used = vec![false; gts.len()];
    let mut pred_ok = vec![false; preds.len()];
    let mut order: Vec<usize> = (0..preds.len()).filter(|&i| style.shows(&preds[i])).collect();
    order.sort_by(|&a, &b| {
        preds[b]
            .score
            .partial_cmp(&preds[a].score)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    for d in order {
        let best = (0..gts.len())
            .filter(|&g| !gt_used[g] && gts[g].class == preds[d].class)
            .map(|g| (g, preds[d].bbox.iou(&gts[g].bbox, false)))
            .filter(|(_, iou)| *iou >= 0.5)
            .max_by(|a, b| a.1.partial_cmp(&b.1).unwrap_or(std::cmp::Ordering::Equal));
        if let Some((g, _)) = best {
            gt_used[g] = true;
            pred_ok[d] = true;
        }
    }
    BoxMatches {
        gt: gt_used,
        pred: pred_ok,
    }
}

fn put(out: &mut RgbImage, x: i64, y: i64, c: [u8; 3]) {
    if x >= 0 && y >= 0 && (x as u32) < out.width() && (y as u32) < out.height() {
        out.put_pixel(x as u32, y as u32, image::Rgb(c));
    }
}

fn rect(out: &mut RgbImage, b: &BBox, map: &Mapping, c: [u8; 3], thick: i64, dashed: bool) {
    let (x0, y0) = map.to_panel(b.x, b.y);
    let (x1, y1) = map.to_panel(b.x2(), b.y2());
    let (x0, y0, x1, y1) = (
        x0.round() as i64,
        y0.round() as i64,
        x1.round() as i64 - 1,
        y1.round() as i64 - 1,
    );
    let on = |k: i64| !dashed || (k / 4) % 2 == 0;
    // only the part on the panel is walked: a box corner at 1e8 costs what a visible one does
    let (w, h) = (out.width() as i64, out.height() as i64);
    let (xa, xb) = (x0.max(0), x1.min(w - 1));
    let (ya, yb) = (y0.max(0), y1.min(h - 1));
    for t in 0..thick {
        for x in xa..=xb {
            if on(x - x0) {
                put(out, x, y0 + t, c);
                put(out, x, y1 - t, c);
            }
        }
        for y in ya..=yb {
            if on(y - y0) {
                put(out, x0 + t, y, c);
                put(out, x1 - t, y, c);
            }
        }
    }
}

fn draw_boxes(
    out: &mut RgbImage,
    pack: &Pack,
    data: &CaseData,
    source: Source,
    style: &Style,
    map: &Mapping,
    matched: Option<&Vec<bool>>,
) {
    let anns = shown_annotations(pack, data, source);
    let p = &style.palette;
    let thick = if out.width() >= 600 { 2 } else { 1 };
    let text_scale = if out.width() >= 600 { 2 } else { 1 };
    for (k, inst) in anns.iter().enumerate() {
        if !style.shows(inst) {
            continue;
        }
        let color = match (matched, source) {
            (Some(m), Source::GroundTruth) => {
                if m[k] {
                    p.true_positive
                } else {
                    p.false_negative
                }
            }
            (Some(m), Source::Run(_)) => {
                if m[k] {
                    p.true_positive
                } else {
                    p.false_positive
                }
            }
            _ => p.class(inst.class),
        };
        let is_gt = source == Source::GroundTruth;
        rect(out, &inst.bbox, map, color, thick, is_gt);
        if style.selected == Some((source, k)) {
            let grown = BBox::new(
                inst.bbox.x - 3.0 / map.scale,
                inst.bbox.y - 3.0 / map.scale,
                inst.bbox.w + 6.0 / map.scale,
                inst.bbox.h + 6.0 / map.scale,
            );
            rect(out, &grown, map, p.selected, thick, false);
        }
        if style.scores
            && let Some(s) = inst.score
        {
            let text = format!("{:.2}", s);
            let text = text.trim_start_matches('0');
            let (bx, by) = map.to_panel(inst.bbox.x, inst.bbox.y);
            let tw = font::text_width(text, text_scale) as i64;
            let th = (font::HEIGHT * text_scale) as i64;
            let (tx, mut ty) = (bx.round() as i64, by.round() as i64 - th - 2 * text_scale as i64);
            if ty < 0 {
                ty = by.round() as i64 + 2;
            }
            for yy in ty - 1..ty + th + 1 {
                for xx in tx - 1..tx + tw + 1 {
                    put(out, xx, yy, color);
                }
            }
            let ink = if color.iter().map(|&c| c as u32).sum::<u32>() > 380 {
                [0, 0, 0]
            } else {
                [255, 255, 255]
            };
            font::draw(text, tx, ty, text_scale, |x, y| put(out, x, y, ink));
        }
    }
}

/// Flagged pixels: a strong diagonal hatch with an outline, so they read as "look here" over any
/// fill colour.
fn draw_highlight(out: &mut RgbImage, map: &Mapping, rle: &crate::geometry::Rle, color: [u8; 3]) {
    if (rle.w, rle.h) != (map.image_w, map.image_h) {
        return;
    }
    let m = rle.decode();
    let (w, h) = out.dimensions();
    let at = |x: u32, y: u32| -> bool {
        let sx = ((x as f64 + 0.5 - map.off_x) / map.scale).floor();
        let sy = ((y as f64 + 0.5 - map.off_y) / map.scale).floor();
        sx >= 0.0 && sy >= 0.0 && m.get(sx as u32, sy as u32)
    };
    for y in 0..h {
        for x in 0..w {
            if !at(x, y) {
                continue;
            }
            let edge = x == 0 || y == 0 || !at(x - 1, y) || !at(x + 1, y) || !at(x, y - 1) || !at(x, y + 1);
            let px = out.get_pixel_mut(x, y);
            if edge || (x + y) % 4 < 2 {
                px.0 = color;
            }
        }
    }
}

fn draw_cursor(out: &mut RgbImage, map: &Mapping, (cx, cy): (u32, u32)) {
    let (px, py) = map.to_panel(cx as f64 + 0.5, cy as f64 + 0.5);
    let (px, py) = (px.round() as i64, py.round() as i64);
    let r = 6;
    for d in 2..=r {
        for (x, y) in [(px + d, py), (px - d, py), (px, py + d), (px, py - d)] {
            put(out, x, y, [255, 255, 0]);
        }
    }
}
