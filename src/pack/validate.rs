//! Checking a pack's files beyond loading: every image's header exists and matches its declared
//! size and its file is whole (formats::integrity; pixels are not decoded), label masks are on the image's grid and hold only known class
//! values, probability maps have the image's size. Used by `lightbox info` and the dashboard.

use super::annotation::ProbabilitySource;
use super::problem::{Problem, Problems};
use super::{ClassId, Pack};
use crate::formats::image::{self as img, ImageHeader};
use crate::formats::{label_png, probability};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

/// What checking found: per-case headers, which classes each label mask holds, problems.
#[derive(Debug, Clone, Default)]
pub struct Validation {
    /// The image header of each case, `None` where it could not be read.
    pub headers: Vec<Option<ImageHeader>>,
    /// Per source (`None` = ground truth, `Some(run index)`), cases whose label mask holds a class.
    pub mask_cases: BTreeMap<(Option<usize>, ClassId), usize>,
    pub problems: Vec<Problem>,
}

impl Validation {
    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(Problem::is_error)
    }
}

pub fn validate(pack: &Pack) -> Validation {
    validate_with(pack, &crate::job::Progress::default())
}

/// As [`validate`], saying how far it has got in `progress` (and stepping aside there for the
/// dashboard's frame).
pub fn validate_with(pack: &Pack, progress: &crate::job::Progress) -> Validation {
    let shown = |p: &Path| pack.display_path(p);
    let mut problems = Problems::default();

    progress.stage("validating images", pack.cases.len());
    let headers: Vec<Result<ImageHeader, img::ImageError>> = pack
        .cases
        .par_iter()
        .map(|c| {
            progress.step();
            img::read_header(&c.image).and_then(|h| {
                // an oversized claim is said as such, before the data is judged
                img::check_dimensions(h.width as u64, h.height as u64)?;
                img::verify(&c.image).map(|()| h)
            })
        })
        .collect();
    for (i, (case, h)) in pack.cases.iter().zip(&headers).enumerate() {
        match h {
            Err(e) => problems.push_capped(
                "image header",
                Problem::error(shown(&case.image), "", e.to_string())
                    .hint(e.hint())
                    .on_case(i),
            ),
            Ok(h) => {
                if let Err(e) = img::check_dimensions(h.width as u64, h.height as u64) {
                    problems.push_capped(
                        "image too large",
                        Problem::error(shown(&case.image), "header", e.to_string())
                            .hint(e.hint())
                            .on_case(i),
                    );
                }
                if let Some((w, hh)) = case.size()
                    && (w, hh) != (h.width, h.height)
                {
                    problems.push_capped(
                        "image size mismatch",
                        Problem::error(
                            shown(&case.image),
                            "header",
                            format!("the image is {}×{} but the ground truth declares {w}×{hh}", h.width, h.height),
                        )
                        .hint("Fix width/height in the COCO images list, or replace the image with the one that was annotated")
                        .on_case(i),
                    );
                }
                if !matches!(h.format.bit_depth, 8 | 16) || !matches!(h.format.channels, 1..=4) {
                    problems.push_capped(
                        "pixel format",
                        Problem::error(
                            shown(&case.image),
                            "header",
                            format!("pixel format {} is not supported", h.format),
                        )
                        .hint("Convert it to 8- or 16-bit grayscale or RGB")
                        .on_case(i),
                    );
                }
            }
        }
    }
    let size_of = |i: usize| {
        headers[i]
            .as_ref()
            .ok()
            .map(|h| (h.width, h.height))
            .or(pack.cases[i].size())
    };

    let mut mask_cases = BTreeMap::new();
    let sources = std::iter::once((None, &pack.ground_truth))
        .chain(pack.runs.iter().enumerate().map(|(k, r)| (Some(k), &r.annotations)));
    for (src, anns) in sources {
        progress.stage("validating masks", anns.len());
        let checked: Vec<(usize, Vec<Problem>, Vec<ClassId>)> = anns
            .par_iter()
            .enumerate()
            .inspect(|_| progress.step())
            .filter_map(|(i, a)| a.label_mask.as_ref().map(|p| (i, p)))
            .map(|(i, path)| {
                let mut ps = Vec::new();
                let mut present = Vec::new();
                if let Some(e) = label_png::grid_mismatch(path, &pack.cases[i].image) {
                    ps.push(Problem::error(shown(path), "", e).hint("Give a NIfTI image its NIfTI label volume, and other images PNG masks").on_case(i));
                    return (i, ps, present);
                }
                // a slice folder: every slice's file, each within the image's slices
                let files: Vec<(std::path::PathBuf, Result<crate::geometry::LabelMask, img::ImageError>)> = if path.is_dir() {
                    match label_png::slice_files(path) {
                        Ok(fs) => {
                            let frames = img::frame_count(&pack.cases[i].image).unwrap_or(1);
                            fs.into_iter()
                                .map(|(k, f)| {
                                    let m = if k >= frames {
                                        Err(img::ImageError::Corrupt(format!("slice {} of an image with {frames} slice(s)", k + 1)))
                                    } else {
                                        label_png::read(&f)
                                    };
                                    (f, m)
                                })
                                .collect()
                        }
                        Err(e) => vec![(path.clone(), Err(e))],
                    }
                } else {
                    vec![(path.clone(), label_png::read(path))]
                };
                for (path, read) in files {
                let path = &path;
                match read {
                    Err(e) => ps.push(Problem::error(shown(path), "", e.to_string()).hint(e.hint()).on_case(i)),
                    Ok(m) => {
                        if let Some((w, h)) = size_of(i)
                            && (m.width(), m.height()) != (w, h)
                        {
                            ps.push(
                                Problem::error(shown(path), "size", format!("the mask is {}×{} but its image is {w}×{h}", m.width(), m.height()))
                                    .hint("A label mask must have its image's exact size")
                                    .on_case(i),
                            );
                        }
                        for (v, _) in m.histogram() {
                            if v == 0 {
                                continue;
                            }
                            match pack.classes.iter().find(|c| c.mask_value == v) {
                                Some(c) => present.push(c.id),
                                None => ps.push(
                                    Problem::error(shown(path), "pixel values", format!("value {v} is not a class's mask value (known: {})", known_values(pack)))
                                        .hint("Declare the class (lightbox.toml [classes] with mask_value, or --class VALUE=NAME), or fix the mask")
                                        .on_case(i),
                                ),
                            }
                        }
                    }
                }
                }
                present.sort_by_key(|c| c.0);
                present.dedup();
                (i, ps, present)
            })
            .collect();
        for (_, ps, present) in checked {
            for p in ps {
                problems.push_capped("label mask", p);
            }
            for c in present {
                *mask_cases.entry((src, c)).or_insert(0) += 1;
            }
        }
        // probability maps: size and readability
        let prob: Vec<Problem> = anns
            .par_iter()
            .enumerate()
            .flat_map_iter(|(i, a)| a.probabilities.iter().map(move |p| (i, p)))
            .filter_map(|(i, p)| {
                let path = match p {
                    ProbabilitySource::Class { path, .. } | ProbabilitySource::AllClasses { path } => path,
                };
                let is_png = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("png"));
                let size = if is_png {
                    img::read_header(path)
                        .map(|h| (h.width, h.height))
                        .map_err(|e| e.to_string())
                } else {
                    probability::read_npy(path).map(|m| (m[0].width, m[0].height))
                };
                match size {
                    Err(e) => Some(
                        Problem::error(shown(path), "", e)
                            .hint("Re-export the probability map")
                            .on_case(i),
                    ),
                    Ok((w, h)) => match size_of(i) {
                        Some((iw, ih)) if (iw, ih) != (w, h) => Some(
                            Problem::error(
                                shown(path),
                                "size",
                                format!("the map is {w}×{h} but its image is {iw}×{ih}"),
                            )
                            .hint("Probability maps must have their image's size")
                            .on_case(i),
                        ),
                        _ => None,
                    },
                }
            })
            .collect();
        for p in prob {
            problems.push_capped("probability map", p);
        }
    }

    Validation {
        headers: headers.into_iter().map(Result::ok).collect(),
        mask_cases,
        problems: problems.finish(),
    }
}

fn known_values(pack: &Pack) -> String {
    if pack.classes.is_empty() {
        return "no classes declared".into();
    }
    pack.classes
        .iter()
        .map(|c| format!("{} {}", c.mask_value, c.name))
        .collect::<Vec<_>>()
        .join(", ")
}
