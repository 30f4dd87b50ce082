//! A case's pixels, loaded on demand: the decoded image (at full depth), its value statistics,
//! and the label masks of the ground truth and of every run. Failures are kept as messages so a
//! missing image or a broken mask shows on its case while the rest keeps working.

use super::window::ValueStats;
use crate::formats::image::{self, PixelImage};
use crate::formats::label_png;
use crate::geometry::LabelMask;
use crate::pack::Pack;

#[derive(Debug, Clone)]
pub struct CaseData {
    pub case: usize,
    /// Which frame of a multi-frame image this is (0 otherwise). Annotations and masks belong
    /// to frame 0: other frames carry none.
    pub slice: u32,
    /// How many frames the image has (1 for ordinary images).
    pub frames: u32,
    pub image: Result<PixelImage, String>,
    pub stats: Option<ValueStats>,
    /// Ground-truth label mask: `None` when the ground truth has none.
    pub gt_mask: Option<Result<LabelMask, String>>,
    /// One per run, in run order.
    pub run_masks: Vec<Option<Result<LabelMask, String>>>,
    /// Pixels per label value of the ground truth (first) and of every run's mask, counted once
    /// at load for images that state their pixel spacing (areas in mm²); empty otherwise.
    pub label_pixels: Vec<Option<HashMap<u16, usize>>>,
    /// Annotations carried onto this data's pixel grid when it is not the image's own (the
    /// network's-eye view): drawn instead of the pack's.
    pub carried: Option<Carried>,
}

/// Instances on another pixel grid: the ground truth's and every run's, in run order.
#[derive(Debug, Clone, Default)]
pub struct Carried {
    pub ground_truth: Vec<crate::pack::Instance>,
    pub runs: Vec<Vec<crate::pack::Instance>>,
}

use std::collections::HashMap;

/// Pixels per label value of a mask (background left out).
pub fn label_pixels(m: &LabelMask) -> HashMap<u16, usize> {
    let mut counts = HashMap::new();
    for &v in m.as_slice() {
        if v != 0 {
            *counts.entry(v).or_default() += 1;
        }
    }
    counts
}

impl CaseData {
    /// Decode case `case` of `pack` (disk and decoding: call it off the UI thread). The image
    /// and its label masks decode in parallel; mask sizes are checked once all are in.
    pub fn load(pack: &Pack, case: usize) -> CaseData {
        Self::load_slice(pack, case, 0)
    }

    /// Frame `slice` of a multi-frame image (masks only on frame 0, where annotations belong).
    pub fn load_slice(pack: &Pack, case: usize, slice: u32) -> CaseData {
        use rayon::prelude::*;
        let c = &pack.cases[case];
        let mask_paths: Vec<Option<&std::path::Path>> = std::iter::once(pack.ground_truth[case].label_mask.as_deref())
            .chain(pack.runs.iter().map(|r| r.annotations[case].label_mask.as_deref()))
            // PNG masks belong to frame 0; label volumes have a mask for every slice
            .map(|p| p.filter(|p| slice == 0 || label_png::is_volume(p)))
            .collect();
        let shown = |p: &std::path::Path| pack.display_path(p).display().to_string();
        let ((image, stats), decoded) = rayon::join(
            || {
                let image =
                    image::decode_frame(&c.image, slice).map_err(|e| format!("{}: {e}. {}", shown(&c.image), e.hint()));
                let stats = image.as_ref().ok().map(ValueStats::of);
                (image, stats)
            },
            || {
                mask_paths
                    .par_iter()
                    .map(|p| {
                        p.map(|p| match label_png::grid_mismatch(p, &c.image) {
                            Some(e) => Err(format!("{}: {e}", shown(p))),
                            None => label_png::read_frame(p, if label_png::is_volume(p) { slice } else { 0 })
                                .map_err(|e| format!("{}: {e}", shown(p))),
                        })
                    })
                    .collect::<Vec<_>>()
            },
        );
        let size = image.as_ref().ok().map(|i| (i.width, i.height));
        let check = |p: &std::path::Path, m: Result<LabelMask, String>| -> Result<LabelMask, String> {
            let m = m?;
            match size {
                Some((w, h)) if (m.width(), m.height()) != (w, h) => Err(format!(
                    "{}: the mask is {}×{} but the image is {w}×{h}",
                    shown(p),
                    m.width(),
                    m.height()
                )),
                _ => Ok(m),
            }
        };
        let mut masks = mask_paths
            .iter()
            .zip(decoded)
            .map(|(p, m)| p.zip(m).map(|(p, m)| check(p, m)));
        let gt_mask = masks.next().flatten();
        let run_masks: Vec<Option<Result<LabelMask, String>>> = masks.collect();
        let frames = image
            .as_ref()
            .ok()
            .and_then(|i| i.scan.as_ref())
            .map(|s| s.frames)
            .unwrap_or(1);
        let spacing = image
            .as_ref()
            .ok()
            .and_then(|i| i.scan.as_ref())
            .and_then(|s| s.spacing);
        let label_pixels = if spacing.is_some() {
            let count =
                |m: &Option<Result<LabelMask, String>>| m.as_ref().and_then(|r| r.as_ref().ok()).map(label_pixels);
            std::iter::once(count(&gt_mask))
                .chain(run_masks.iter().map(count))
                .collect()
        } else {
            Vec::new()
        };
        CaseData {
            case,
            slice,
            frames,
            image,
            stats,
            gt_mask,
            run_masks,
            label_pixels,
            carried: None,
        }
    }

    /// Bytes held, for cache accounting.
    pub fn bytes(&self) -> usize {
        use crate::formats::image::Pixels;
        let img = match &self.image {
            Ok(i) => match &i.pixels {
                Pixels::Gray8(p) | Pixels::Rgb8(p) => p.len(),
                Pixels::Gray16(p) | Pixels::Rgb16(p) => p.len() * 2,
            },
            Err(_) => 0,
        };
        let masks: usize = std::iter::once(&self.gt_mask)
            .chain(&self.run_masks)
            .filter_map(|m| m.as_ref().and_then(|r| r.as_ref().ok()))
            .map(|m| m.as_slice().len() * 2)
            .sum();
        img + masks + 256
    }

    /// Pixels per label value of a source's mask, when counted at load.
    pub fn label_pixels(&self, source: super::Source) -> Option<&HashMap<u16, usize>> {
        let i = match source {
            super::Source::GroundTruth => 0,
            super::Source::Run(r) => r + 1,
        };
        self.label_pixels.get(i)?.as_ref()
    }

    /// The label mask of a source (ground truth or a run).
    pub fn mask(&self, source: super::Source) -> Option<&LabelMask> {
        match source {
            super::Source::GroundTruth => self.gt_mask.as_ref()?.as_ref().ok(),
            super::Source::Run(r) => self.run_masks.get(r)?.as_ref()?.as_ref().ok(),
        }
    }
}
