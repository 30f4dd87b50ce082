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

/// Compose `views` side by side in a `w` × `h` image (each panel `(w - gaps) / n` wide), all
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
    let n = views.len().max(1) as u32;
    let pw = (w.saturating_sub(gap * (n - 1)) / n).max(1);
    let mut out = RgbImage::from_pixel(w, h, image::Rgb(style.palette.background));
    for (k, v) in views.iter().enumerate() {
        let p = compose(pack, data, &v.panel(), style, vp, pw, h)?;
        image::imageops::replace(&mut out, &p, (k as u32 * (pw + gap)) as i64, 0);
    }
    Some(out)
}
