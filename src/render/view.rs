//! Named views of a case, as the dashboard and `lightbox render` offer them, and side-by-side
//! composition of several views zoomed and panned together.

use super::case_data::CaseData;
use super::compose::{Layer, Look, Panel, Source, Style, Viewport, compose};
use crate::pack::Pack;
use image::RgbImage;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum View {
    /// Ground truth alone (fill and outline).
    GroundTruth,
    /// One run alone (fill and outline).
    Prediction(usize),
    /// A run's prediction as fill with the ground truth as outline over it.
    Overlay(usize),
    /// The ground truth as fill with a run's prediction as outline over it.
    OverlayGtFill(usize),
    /// A run against the ground truth: agreement, false positives, false negatives.
    Error(usize),
    /// The image alone.
    Image,
}

impl View {
    pub fn panel(&self) -> Panel {
        let l = |source, look| Layer { source, look };
        match *self {
            View::GroundTruth => Panel::Layers(vec![
                l(Source::GroundTruth, Look::Fill),
                l(Source::GroundTruth, Look::Outline),
            ]),
            View::Prediction(r) => Panel::Layers(vec![l(Source::Run(r), Look::Fill), l(Source::Run(r), Look::Outline)]),
            View::Overlay(r) => Panel::Layers(vec![
                l(Source::Run(r), Look::Fill),
                l(Source::GroundTruth, Look::Outline),
            ]),
            View::OverlayGtFill(r) => Panel::Layers(vec![
                l(Source::GroundTruth, Look::Fill),
                l(Source::Run(r), Look::Outline),
            ]),
            View::Error(r) => Panel::Error { run: r },
            View::Image => Panel::Layers(vec![]),
        }
    }

    pub fn title(&self, pack: &Pack) -> String {
        let run = |r: usize| {
            pack.runs
                .get(r)
                .map(|x| x.name.0.clone())
                .unwrap_or_else(|| format!("run {r}"))
        };
        match *self {
            View::GroundTruth => "ground truth".into(),
            View::Prediction(r) => run(r),
            View::Overlay(r) => format!("{} over ground truth", run(r)),
            View::OverlayGtFill(r) => format!("{} outline over ground truth", run(r)),
            View::Error(r) => format!("{} errors", run(r)),
            View::Image => "image".into(),
        }
    }

    /// Parse a view name as `lightbox render --view` takes it.
    pub fn parse(name: &str, run: Option<usize>) -> Result<View, String> {
        let need_run = || run.ok_or_else(|| format!("view {name:?} needs a run (--run NAME)"));
        Ok(match name {
            "gt" | "ground-truth" => View::GroundTruth,
            "pred" | "prediction" => View::Prediction(need_run()?),
            "overlay" => View::Overlay(need_run()?),
            "error" | "errors" => View::Error(need_run()?),
            "image" => View::Image,
            other => {
                return Err(format!("unknown view {other:?} (gt, pred, overlay, error, image)"));
            }
        })
    }
}

/// How the panels of several views share an area. One view fills it; two or more go side by
/// side, or one above the other when that draws each image at least a quarter larger
/// ([`STACK_GAIN`]). See docs/dashboard.md, "Side by side".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Arrangement {
    /// One view, filling the area.
    Single,
    /// Left to right.
    Beside,
    /// Top to bottom.
    Stacked,
}

/// A rectangle on a [`Grid`], in its units (pixels for a PNG, cells in a terminal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Place {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

impl Place {
    pub fn contains(&self, x: u32, y: u32) -> bool {
        x >= self.x && y >= self.y && x < self.x + self.w && y < self.y + self.h
    }
}

/// What panels are laid out on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Grid {
    /// The area, in units.
    pub area: (u32, u32),
    /// Pixels per unit: 1 × 1 for a PNG, the cell size in a terminal.
    pub unit: (u32, u32),
    /// Units between panels: (beside, stacked).
    pub gap: (u32, u32),
    /// Units kept above each of several panels for its title (one view has none: its title is
    /// the pane's).
    pub title: u32,
    /// The largest panel in pixels (a terminal's largest graphic), if any.
    pub limit: Option<(u32, u32)>,
}

impl Grid {
    /// A `w` × `h` pixel image with `gap` pixels between panels and no titles.
    pub fn pixels(w: u32, h: u32, gap: u32) -> Grid {
        Grid {
            area: (w, h),
            unit: (1, 1),
            gap: (gap, gap),
            title: 0,
            limit: None,
        }
    }
}

/// Where each panel goes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Arranged {
    pub arrangement: Arrangement,
    /// One per view, in the views' order (left to right, or top to bottom), all the same size.
    pub panels: Vec<Place>,
}

/// `area` (in units of `unit` pixels) shrunk to fit `limit` pixels, keeping its aspect, in whole
/// units (at least one).
pub fn fit_units(area: (u32, u32), unit: (u32, u32), limit: Option<(u32, u32)>) -> (u32, u32) {
    let (fw, fh) = (unit.0.max(1), unit.1.max(1));
    let Some((mw, mh)) = limit else { return area };
    let (w, h) = (area.0 * fw, area.1 * fh);
    if w <= mw && h <= mh {
        return area;
    }
    let s = (mw as f64 / w.max(1) as f64).min(mh as f64 / h.max(1) as f64);
    let (w, h) = ((w as f64 * s).floor() as u32, (h as f64 * s).floor() as u32);
    ((w / fw).max(1), (h / fh).max(1))
}

/// How much larger (linearly) each image must be stacked than side by side for the panels to
/// be stacked.
pub const STACK_GAIN: f64 = 1.25;

/// Lay out `n` panels of an `image` (width × height in pixels) on `grid`.
///
/// One panel fills the area; where the area is larger than the limit, it is cut to the image
/// fitted within the limit and centred. Several get equal slots
/// side by side, then one above the other, each slot less its title row and the gaps; they are
/// stacked when that slot shows the image at least [`STACK_GAIN`] times larger. Each
/// panel is then cut to the image fitted in its slot (whole units, within the limit), and the
/// group of panels with their titles is centred in the area: no band of a panel is empty at
/// zoom 1, and zooming keeps the panels where they are. In an area too small for the panels
/// (less than a unit each), what does not fit is cut: a panel may then be empty.
pub fn arrange(n: usize, image: (u32, u32), grid: &Grid) -> Arranged {
    let (aw, ah) = grid.area;
    let (fw, fh) = (grid.unit.0.max(1) as f64, grid.unit.1.max(1) as f64);
    let (iw, ih) = (image.0.max(1) as f64, image.1.max(1) as f64);
    if n <= 1 {
        let (w, h) = fit_units(grid.area, grid.unit, grid.limit);
        let (w, h) = (w.min(aw), h.min(ah));
        if (w, h) == (aw, ah) {
            return Arranged {
                arrangement: Arrangement::Single,
                panels: vec![Place { x: 0, y: 0, w, h }],
            };
        }
        // the pane is larger than the terminal's largest graphic: the panel is cut to the image
        // fitted within the limit (whole units) and centred, not left in the top left corner
        let (mw, mh) = grid.limit.unwrap_or((u32::MAX, u32::MAX));
        let s = (aw as f64 * fw / iw)
            .min(ah as f64 * fh / ih)
            .min(mw as f64 / iw)
            .min(mh as f64 / ih);
        let cover = |extent: f64, unit: f64, slot: u32, limit: u32| {
            let most = slot.min((limit as f64 / unit).floor().max(1.0) as u32);
            ((extent * s / unit) - 1e-6).ceil().clamp(1.0, most as f64) as u32
        };
        let (pw, ph) = (cover(iw, fw, aw, mw), cover(ih, fh, ah, mh));
        return Arranged {
            arrangement: Arrangement::Single,
            panels: vec![Place {
                x: (aw - pw) / 2,
                y: (ah - ph) / 2,
                w: pw,
                h: ph,
            }],
        };
    }
    let k = n as u32;
    let (gx, gy) = grid.gap;
    let beside = (aw.saturating_sub(gx * (k - 1)) / k, ah.saturating_sub(grid.title));
    let stacked = (aw, ah.saturating_sub(k * grid.title + gy * (k - 1)) / k);
    // the scale of the image fitted in a slot of `s` units (and within the limit)
    let scale = |s: (u32, u32)| -> f64 {
        let mut v = (s.0 as f64 * fw / iw).min(s.1 as f64 * fh / ih);
        if let Some((mw, mh)) = grid.limit {
            v = v.min(mw as f64 / iw).min(mh as f64 / ih);
        }
        v
    };
    // side by side unless stacking draws each image clearly larger: a pane near square does not
    // flip between the two when a legend row comes or goes
    let (arrangement, slot) = if scale(stacked) >= STACK_GAIN * scale(beside) {
        (Arrangement::Stacked, stacked)
    } else {
        (Arrangement::Beside, beside)
    };
    let s = scale(slot);
    // whole units covering the fitted image, never beyond the slot or the limit
    let units = |extent: f64, unit: f64, slot: u32, limit: Option<u32>| -> u32 {
        let mut u = ((extent * s / unit) - 1e-6).ceil().max(1.0) as u32;
        u = u.min(slot);
        if let Some(l) = limit {
            u = u.min((l as f64 / unit).floor().max(1.0) as u32);
        }
        u
    };
    let w = units(iw, fw, slot.0, grid.limit.map(|l| l.0));
    let h = units(ih, fh, slot.1, grid.limit.map(|l| l.1));
    let t = grid.title;
    let panels: Vec<Place> = match arrangement {
        Arrangement::Stacked => {
            let group = k * (t + h) + gy * (k - 1);
            let (x0, y0) = (aw.saturating_sub(w) / 2, ah.saturating_sub(group) / 2);
            (0..k)
                .map(|i| Place {
                    x: x0,
                    y: y0 + i * (t + h + gy) + t,
                    w,
                    h,
                })
                .collect()
        }
        _ => {
            let group = k * w + gx * (k - 1);
            let (x0, y0) = (aw.saturating_sub(group) / 2, ah.saturating_sub(t + h) / 2);
            (0..k)
                .map(|i| Place {
                    x: x0 + i * (w + gx),
                    y: y0 + t,
                    w,
                    h,
                })
                .collect()
        }
    };
    // an area too small for the panels and their titles: what does not fit is cut (to nothing)
    let panels = panels
        .into_iter()
        .map(|p| {
            let (x, y) = (p.x.min(aw), p.y.min(ah));
            Place {
                x,
                y,
                w: p.w.min(aw - x),
                h: p.h.min(ah - y),
            }
        })
        .collect();
    Arranged { arrangement, panels }
}

/// Compose `views` in a `w` × `h` image as [`arrange`] places them (`gap` pixels apart), all
/// with the same zoom and pan. `None` when the image could not be loaded.
#[allow(clippy::too_many_arguments)]
pub fn compose_side_by_side(
    pack: &Pack,
    data: &CaseData,
    views: &[View],
    style: &Style,
    vp: &Viewport,
    w: u32,
    h: u32,
    gap: u32,
) -> Option<RgbImage> {
    let img = data.image.as_ref().ok()?;
    let placed = arrange(views.len(), (img.width, img.height), &Grid::pixels(w, h, gap));
    let mut out = RgbImage::from_pixel(w, h, image::Rgb(style.palette.background));
    for (v, p) in views.iter().zip(&placed.panels).filter(|(_, p)| p.w > 0 && p.h > 0) {
        let panel = compose(pack, data, &v.panel(), style, vp, p.w, p.h)?;
        image::imageops::replace(&mut out, &panel, p.x as i64, p.y as i64);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(w: u32, h: u32) -> Grid {
        Grid {
            area: (w, h),
            unit: (10, 20),
            gap: (1, 0),
            title: 1,
            limit: None,
        }
    }

    #[test]
    fn two_square_images_in_a_wide_pane_go_side_by_side_cut_to_the_image() {
        // 100 x 40 cells of 10 x 20 px: slots of 49 x 39 cells (490 x 780 px)
        let a = arrange(2, (512, 512), &cells(100, 40));
        assert_eq!(a.arrangement, Arrangement::Beside);
        // 490 px wide and tall: 49 cells by 24.5 → 25 rows, not the slot's 39
        assert_eq!(
            a.panels[0],
            Place {
                x: 0,
                y: 8,
                w: 49,
                h: 25
            }
        );
        assert_eq!(
            a.panels[1],
            Place {
                x: 50,
                y: 8,
                w: 49,
                h: 25
            }
        );
        // the title row sits right above each panel, inside the area
        assert!(a.panels.iter().all(|p| p.y >= 1 && p.y + p.h <= 40));
    }

    #[test]
    fn a_tall_pane_stacks_the_panels_when_that_makes_the_images_larger() {
        // 60 x 60 cells = 600 x 1200 px: side by side each image is 290 px, stacked 580 px
        let a = arrange(2, (512, 512), &cells(60, 60));
        assert_eq!(a.arrangement, Arrangement::Stacked);
        let (top, bottom) = (a.panels[0], a.panels[1]);
        assert_eq!((top.x, top.w), (bottom.x, bottom.w));
        // one title row between the panels (the lower one's), none overlapping
        assert_eq!(bottom.y, top.y + top.h + 1);
        assert!(top.y >= 1 && bottom.y + bottom.h <= 60);
        // a wide, short image side by side in the same pane: still stacked
        let wide = arrange(2, (1024, 256), &cells(60, 60));
        assert_eq!(wide.arrangement, Arrangement::Stacked);
        // a tall image in a wide pane: side by side
        let tall = arrange(2, (256, 1024), &cells(200, 50));
        assert_eq!(tall.arrangement, Arrangement::Beside);
    }

    #[test]
    fn a_near_square_pane_stays_side_by_side() {
        // 68 x 36 halfblock cells (1 x 2 px): stacked would draw the image 34 px wide, side
        // by side 33: not enough to give up the side-by-side reading
        let g = Grid {
            unit: (1, 2),
            ..cells(68, 36)
        };
        assert_eq!(arrange(2, (512, 512), &g).arrangement, Arrangement::Beside);
        // twice as high as wide: stacked
        let g = Grid {
            unit: (1, 2),
            ..cells(54, 55)
        };
        assert_eq!(arrange(2, (512, 512), &g).arrangement, Arrangement::Stacked);
    }

    #[test]
    fn the_arrangement_shows_each_image_at_the_larger_scale() {
        for (cols, rows, iw, ih) in [
            (100, 40, 512, 512),
            (60, 60, 512, 512),
            (80, 24, 2000, 500),
            (40, 80, 300, 900),
        ] {
            let g = cells(cols, rows);
            let a = arrange(2, (iw, ih), &g);
            let p = a.panels[0];
            let shown = (p.w as f64 * 10.0 / iw as f64).min(p.h as f64 * 20.0 / ih as f64);
            // the other arrangement's slot could not show it larger
            let other = match a.arrangement {
                Arrangement::Beside => (cols, (rows - 2) / 2),
                _ => ((cols - 1) / 2, rows - 1),
            };
            let there = (other.0 as f64 * 10.0 / iw as f64).min(other.1 as f64 * 20.0 / ih as f64);
            // side by side gives way only to a clearly larger image
            let gain = if a.arrangement == Arrangement::Beside {
                STACK_GAIN
            } else {
                1.0
            };
            assert!(shown * gain >= there, "{cols}x{rows} {iw}x{ih}: {a:?}");
        }
    }

    #[test]
    fn one_panel_fills_the_area_within_the_limit() {
        let a = arrange(1, (512, 512), &cells(100, 40));
        assert_eq!(
            (a.arrangement, a.panels[0]),
            (
                Arrangement::Single,
                Place {
                    x: 0,
                    y: 0,
                    w: 100,
                    h: 40
                }
            )
        );
        let mut g = cells(200, 60);
        g.limit = Some((1000, 1000));
        // larger than the limit: the image as large as the limit allows, centred
        assert_eq!(
            arrange(1, (512, 512), &g).panels[0],
            Place {
                x: 50,
                y: 5,
                w: 100,
                h: 50
            }
        );
        // a wide image in a tall pane
        let mut g = cells(120, 90);
        g.limit = Some((1000, 1000));
        let p = arrange(1, (2000, 500), &g).panels[0];
        assert_eq!((p.w, p.h), (100, 13), "{p:?}");
        assert_eq!((p.x, p.y), (10, 38), "{p:?}");
        // several panels: each within the limit
        let a = arrange(2, (512, 512), &g);
        for p in &a.panels {
            assert!(p.w * 10 <= 1000 && p.h * 20 <= 1000, "{p:?}");
        }
    }

    #[test]
    fn panels_never_leave_the_area_or_overlap() {
        for cols in [4u32, 9, 30, 80, 157, 240] {
            for rows in [2u32, 3, 10, 24, 47, 70] {
                for image in [(512, 512), (2000, 300), (300, 2000), (1, 1)] {
                    for n in [2usize, 3] {
                        let a = arrange(n, image, &cells(cols, rows));
                        assert_eq!(a.panels.len(), n);
                        for (i, p) in a.panels.iter().enumerate() {
                            assert!(p.x + p.w <= cols && p.y + p.h <= rows, "{cols}x{rows} {image:?}: {a:?}");
                            // room for a unit per panel with its title and the gaps: nothing is cut
                            let room = (cols + 1 >= 2 * n as u32 && rows >= 2) || rows >= 2 * n as u32;
                            if room {
                                assert!(p.w >= 1 && p.h >= 1, "{cols}x{rows} {image:?}: {a:?}");
                            }
                            for q in &a.panels[i + 1..] {
                                let apart =
                                    p.x + p.w <= q.x || q.x + q.w <= p.x || p.y + p.h <= q.y || q.y + q.h <= p.y;
                                assert!(apart, "{cols}x{rows} {image:?}: {a:?}");
                            }
                        }
                    }
                }
            }
        }
    }
}
