//! One COCO annotation or result into lightbox's [`Instance`], with pycocotools' semantics:
//! every field is checked once, here, and what is wrong is an [`AnnotationError`] (the
//! annotation is skipped) or an [`AnnotationWarning`] (it is kept), each naming the field
//! below the annotation (`.bbox[2]`) and saying what to do.

use super::{CocoAnnotation, CocoId, CocoSegmentation};
use crate::formats::pixels::{ImageError, check_dimensions};
use crate::geometry::rle::RleError;
use crate::geometry::{BBox, Rle};
use crate::pack::{ClassId, Instance, Segmentation};
use thiserror::Error;

/// Beyond this, `(int)(5 * x + .5)` in pycocotools' C overflows: its rasterisation is undefined.
pub const MAX_COORDINATE: f64 = (i32::MAX / 5) as f64;

/// Why an annotation cannot be used; its `Display` is the sentence for people.
#[derive(Debug, PartialEq, Error)]
pub enum AnnotationError {
    #[error("polygon has an odd number of coordinates ({len})")]
    OddPolygon { part: usize, len: usize },
    #[error("polygon has {points} points; a polygon needs at least 3")]
    ShortPolygon { part: usize, points: usize },
    #[error("coordinate {value} is beyond ±{max:.0}, where pycocotools' rasterisation is undefined", max = MAX_COORDINATE)]
    FarCoordinate { part: usize, index: usize, value: f64 },
    #[error("mask size [{h}, {w}]: {source}")]
    MaskTooLarge { h: u64, w: u64, source: ImageError },
    #[error("mask is [{h}, {w}] (height, width) but the image is {image_w}×{image_h} (width×height)")]
    MaskOffGrid { h: u32, w: u32, image_w: u32, image_h: u32 },
    #[error("{0}")]
    CompressedCounts(RleError),
    #[error("{0}")]
    RunsMismatch(RleError),
    #[error("has {len} numbers; COCO boxes are [x, y, width, height]")]
    BoxLength { len: usize },
    #[error("{value} is beyond ±{max:.0}, where pycocotools' mask IoU is undefined", max = MAX_COORDINATE)]
    FarBox { index: usize, value: f64 },
    #[error("width and height must be ≥ 0, got [{}, {}, {}, {}]", .bbox[0], .bbox[1], .bbox[2], .bbox[3])]
    NegativeBox { bbox: [f64; 4] },
    #[error("has neither `bbox` nor `segmentation`")]
    NoGeometry,
    #[error("detection has no score")]
    NoScore,
    #[error("area {area} is negative")]
    BadArea { area: f64 },
}

impl AnnotationError {
    /// The kind of mistake, for capping repeats in a problem list.
    pub fn kind(&self) -> &'static str {
        use AnnotationError::*;
        match self {
            OddPolygon { .. } | ShortPolygon { .. } => "polygon",
            FarCoordinate { .. } => "coordinate",
            MaskTooLarge { .. } | MaskOffGrid { .. } => "mask size",
            CompressedCounts(_) | RunsMismatch(_) => "rle",
            BoxLength { .. } | FarBox { .. } | NegativeBox { .. } => "bbox",
            NoGeometry => "no geometry",
            NoScore => "score",
            BadArea { .. } => "area",
        }
    }

    /// The field below the annotation that is wrong (`.segmentation[0]`); empty for the
    /// annotation as a whole.
    pub fn field(&self) -> String {
        use AnnotationError::*;
        match self {
            OddPolygon { part, .. } | ShortPolygon { part, .. } => format!(".segmentation[{part}]"),
            FarCoordinate { part, index, .. } => format!(".segmentation[{part}][{index}]"),
            MaskTooLarge { .. } | MaskOffGrid { .. } => ".segmentation.size".into(),
            CompressedCounts(_) | RunsMismatch(_) => ".segmentation.counts".into(),
            BoxLength { .. } | NegativeBox { .. } => ".bbox".into(),
            FarBox { index, .. } => format!(".bbox[{index}]"),
            NoGeometry => String::new(),
            NoScore => ".score".into(),
            BadArea { .. } => ".area".into(),
        }
    }

    /// What to do about it.
    pub fn hint(&self) -> &'static str {
        use AnnotationError::*;
        match self {
            OddPolygon { .. } => "Polygons are flat lists [x0, y0, x1, y1, ...]",
            ShortPolygon { .. } => "Drop degenerate polygons or fix the export",
            FarCoordinate { .. } => "Polygon coordinates are pixels on the image; fix the exporter",
            MaskTooLarge { .. } => "Check the mask's size field",
            MaskOffGrid { .. } => {
                "Masks must be on the image's pixel grid: check the image's width/height or re-encode the mask at full size"
            }
            CompressedCounts(_) => "Re-encode the mask with pycocotools.mask.encode",
            RunsMismatch(_) => "The runs must cover the mask exactly: check the size field or re-encode the mask",
            BoxLength { .. } => "Write boxes as [x, y, width, height]",
            FarBox { .. } => "Boxes are pixels on the image: [x, y, width, height]; fix the exporter",
            NegativeBox { .. } => "COCO boxes are [x, y, width, height], not corners; fix the exporter",
            NoGeometry => "Each annotation needs a box or a mask",
            NoScore => "COCO results need a `score` per detection",
            BadArea { .. } => "Areas are pixel counts ≥ 0",
        }
    }
}

/// Something odd about an annotation that is kept; its `Display` is the sentence for people.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum AnnotationWarning {
    #[error("vertex ({x}, {y}) lies more than the image's size outside the {image_w}×{image_h} image")]
    FarVertex {
        part: usize,
        index: usize,
        x: f64,
        y: f64,
        image_w: u32,
        image_h: u32,
    },
    #[error("box [{}, {}, {}, {}] lies entirely outside the {image_w}×{image_h} image", .bbox[0], .bbox[1], .bbox[2], .bbox[3])]
    BoxOffImage {
        bbox: [f64; 4],
        image_w: u32,
        image_h: u32,
        is_result: bool,
    },
    #[error("score {score} is outside [0, 1]")]
    ScoreRange { score: f64 },
    #[error("no `area`; using the computed {computed}")]
    NoArea { computed: f64 },
}

impl AnnotationWarning {
    /// The kind of oddity, for capping repeats in a problem list.
    pub fn kind(&self) -> &'static str {
        match self {
            AnnotationWarning::FarVertex { .. } => "far vertex",
            AnnotationWarning::BoxOffImage { .. } => "box off the image",
            AnnotationWarning::ScoreRange { .. } => "score range",
            AnnotationWarning::NoArea { .. } => "no area",
        }
    }

    /// The field below the annotation it concerns.
    pub fn field(&self) -> String {
        match self {
            AnnotationWarning::FarVertex { part, index, .. } => format!(".segmentation[{part}][{index}]"),
            AnnotationWarning::BoxOffImage { .. } => ".bbox".into(),
            AnnotationWarning::ScoreRange { .. } => ".score".into(),
            AnnotationWarning::NoArea { .. } => ".area".into(),
        }
    }

    /// What it means and what to do.
    pub fn hint(&self) -> &'static str {
        match self {
            AnnotationWarning::FarVertex { .. } => {
                "Rasterised as pycocotools does (only its part on the image counts); check the exporter's coordinates"
            }
            AnnotationWarning::BoxOffImage { is_result: true, .. } => {
                "It can match nothing on the image and counts as a false positive; check the exporter's coordinates"
            }
            AnnotationWarning::BoxOffImage { is_result: false, .. } => {
                "No detection on the image can match it, so it counts as a miss; check the annotation's coordinates"
            }
            AnnotationWarning::ScoreRange { .. } => {
                "COCO evaluation only ranks scores, but score thresholds, calibration and uncertainty read them as probabilities; export probabilities"
            }
            AnnotationWarning::NoArea { .. } => {
                "COCO evaluation reads `area` for size ranges; add it to match pycocotools exactly"
            }
        }
    }
}

/// Convert one COCO annotation (`is_result`: a detection from a results file) of class `class`
/// on an image of `size` (width, height; `None` when unknown) into an [`Instance`], checking
/// every field. A detection's id is `fallback_id` (its 1-based position), as is a ground-truth
/// annotation's without an integer id.
pub fn to_instance(
    a: &CocoAnnotation,
    is_result: bool,
    class: ClassId,
    size: Option<(u32, u32)>,
    fallback_id: i64,
) -> Result<(Instance, Vec<AnnotationWarning>), AnnotationError> {
    let mut warnings = Vec::new();
    let seg = match &a.segmentation {
        None => None,
        Some(CocoSegmentation::Polygons(p)) if p.is_empty() => None,
        Some(CocoSegmentation::Polygons(parts)) => {
            for (k, part) in parts.iter().enumerate() {
                if part.len() % 2 == 1 {
                    return Err(AnnotationError::OddPolygon {
                        part: k,
                        len: part.len(),
                    });
                }
                if part.len() < 6 {
                    return Err(AnnotationError::ShortPolygon {
                        part: k,
                        points: part.len() / 2,
                    });
                }
                if let Some(j) = part.iter().position(|v| v.abs() > MAX_COORDINATE) {
                    return Err(AnnotationError::FarCoordinate {
                        part: k,
                        index: j,
                        value: part[j],
                    });
                }
                if let Some((w, h)) = size
                    && let Some(j) = part.chunks_exact(2).position(|xy| {
                        let (x, y) = (xy[0], xy[1]);
                        x < -(w as f64) || x > 2.0 * w as f64 || y < -(h as f64) || y > 2.0 * h as f64
                    })
                {
                    warnings.push(AnnotationWarning::FarVertex {
                        part: k,
                        index: 2 * j,
                        x: part[2 * j],
                        y: part[2 * j + 1],
                        image_w: w,
                        image_h: h,
                    });
                }
            }
            Some(Segmentation::Polygons(parts.clone()))
        }
        Some(
            s @ (CocoSegmentation::Uncompressed { size: mask_size, .. }
            | CocoSegmentation::Compressed { size: mask_size, .. }),
        ) => {
            let [h, w] = *mask_size;
            check_dimensions(w, h).map_err(|source| AnnotationError::MaskTooLarge { h, w, source })?;
            let (h, w) = (h as u32, w as u32);
            if let Some((image_w, image_h)) = size
                && (image_w, image_h) != (w, h)
            {
                return Err(AnnotationError::MaskOffGrid { h, w, image_w, image_h });
            }
            let rle = match s {
                CocoSegmentation::Uncompressed { counts, .. } => Rle {
                    h,
                    w,
                    counts: counts.clone(),
                },
                CocoSegmentation::Compressed { counts, .. } => {
                    Rle::from_compressed(counts, h, w).map_err(AnnotationError::CompressedCounts)?
                }
                CocoSegmentation::Polygons(_) => unreachable!("matched above"),
            };
            rle.validate().map_err(AnnotationError::RunsMismatch)?;
            Some(Segmentation::Rle(rle))
        }
    };
    let bbox = match &a.bbox {
        Some(v) => {
            if v.len() != 4 {
                return Err(AnnotationError::BoxLength { len: v.len() });
            }
            if let Some(j) = v.iter().position(|c| c.abs() > MAX_COORDINATE) {
                return Err(AnnotationError::FarBox { index: j, value: v[j] });
            }
            let b = BBox::new(v[0], v[1], v[2], v[3]);
            if let Some((w, h)) = size
                && b.is_valid()
                && (b.x >= w as f64 || b.y >= h as f64 || b.x + b.w <= 0.0 || b.y + b.h <= 0.0)
            {
                warnings.push(AnnotationWarning::BoxOffImage {
                    bbox: [v[0], v[1], v[2], v[3]],
                    image_w: w,
                    image_h: h,
                    is_result,
                });
            }
            if !b.is_valid() {
                return Err(AnnotationError::NegativeBox {
                    bbox: [v[0], v[1], v[2], v[3]],
                });
            }
            b
        }
        None => match &seg {
            Some(Segmentation::Rle(r)) => r.to_bbox(),
            Some(Segmentation::Polygons(parts)) => polygon_extent(parts),
            None => return Err(AnnotationError::NoGeometry),
        },
    };
    let score = if is_result {
        match a.score {
            Some(s) => {
                if !(0.0..=1.0).contains(&s) {
                    warnings.push(AnnotationWarning::ScoreRange { score: s });
                }
                Some(s)
            }
            None => return Err(AnnotationError::NoScore),
        }
    } else {
        None
    };
    let area = if is_result {
        // pycocotools loadRes: box results get w*h, mask-only results the mask's area
        if a.bbox.is_some() {
            bbox.w * bbox.h
        } else {
            match (&seg, size) {
                (Some(Segmentation::Rle(r)), _) => r.area() as f64,
                (Some(s @ Segmentation::Polygons(_)), Some((w, h))) => s.to_rle(h, w).area() as f64,
                _ => bbox.area(),
            }
        }
    } else {
        match a.area {
            Some(v) if v.is_finite() && v >= 0.0 => v,
            Some(v) => return Err(AnnotationError::BadArea { area: v }),
            None => {
                let v = match (&seg, size) {
                    (Some(Segmentation::Rle(r)), _) => r.area() as f64,
                    (Some(s @ Segmentation::Polygons(_)), Some((w, h))) => s.to_rle(h, w).area() as f64,
                    _ => bbox.area(),
                };
                warnings.push(AnnotationWarning::NoArea { computed: v });
                v
            }
        }
    };
    let id = match &a.id {
        Some(CocoId::Int(i)) if !is_result => *i,
        _ => fallback_id,
    };
    Ok((
        Instance {
            id,
            class,
            bbox,
            segmentation: seg,
            score,
            iscrowd: a.iscrowd,
            area,
        },
        warnings,
    ))
}

/// The box around polygon parts (pycocotools' `toBbox` of the polygons' extent); empty for
/// no points.
pub fn polygon_extent(parts: &[Vec<f64>]) -> BBox {
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for p in parts {
        for xy in p.chunks_exact(2) {
            x0 = x0.min(xy[0]);
            x1 = x1.max(xy[0]);
            y0 = y0.min(xy[1]);
            y1 = y1.max(xy[1]);
        }
    }
    if x0 > x1 {
        BBox::default()
    } else {
        BBox::from_corners(x0, y0, x1, y1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ann(json: &str) -> CocoAnnotation {
        serde_json::from_str(json).unwrap()
    }

    const CLASS: ClassId = ClassId(3);

    #[test]
    fn a_polygon_keeps_its_parts_and_takes_its_box_from_the_vertices() {
        let a = ann(
            r#"{"id": 7, "image_id": 1, "category_id": 3, "segmentation": [[1, 2, 5, 2, 5, 6, 1, 6]], "area": 16}"#,
        );
        let (inst, warnings) = to_instance(&a, false, CLASS, Some((10, 10)), 99).unwrap();
        assert!(warnings.is_empty());
        assert_eq!(inst.id, 7);
        assert_eq!(inst.class, CLASS);
        assert_eq!(inst.bbox, BBox::new(1.0, 2.0, 4.0, 4.0));
        assert_eq!(
            inst.segmentation,
            Some(Segmentation::Polygons(vec![vec![
                1.0, 2.0, 5.0, 2.0, 5.0, 6.0, 1.0, 6.0
            ]]))
        );
        assert_eq!((inst.area, inst.score, inst.iscrowd), (16.0, None, false));
    }

    #[test]
    fn an_uncompressed_rle_without_area_gets_the_mask_area_and_a_warning() {
        let a =
            ann(r#"{"id": 1, "image_id": 1, "category_id": 3, "segmentation": {"size": [2, 3], "counts": [1, 2, 3]}}"#);
        let (inst, warnings) = to_instance(&a, false, CLASS, Some((3, 2)), 1).unwrap();
        assert_eq!(
            inst.segmentation,
            Some(Segmentation::Rle(Rle {
                h: 2,
                w: 3,
                counts: vec![1, 2, 3]
            }))
        );
        assert_eq!(inst.area, 2.0);
        assert_eq!(warnings, [AnnotationWarning::NoArea { computed: 2.0 }]);
        assert_eq!(warnings[0].to_string(), "no `area`; using the computed 2");
        assert_eq!(
            (warnings[0].kind(), warnings[0].field()),
            ("no area", ".area".to_string())
        );
    }

    #[test]
    fn a_compressed_rle_crowd_region_is_decoded_and_stays_a_crowd() {
        let a = ann(
            r#"{"id": 2, "image_id": 1, "category_id": 3, "segmentation": {"size": [2, 2], "counts": "04"}, "area": 4, "iscrowd": 1}"#,
        );
        let (inst, _) = to_instance(&a, false, CLASS, Some((2, 2)), 1).unwrap();
        assert!(inst.iscrowd);
        assert_eq!(
            inst.segmentation,
            Some(Segmentation::Rle(Rle {
                h: 2,
                w: 2,
                counts: vec![0, 4]
            }))
        );
        assert_eq!(inst.bbox, BBox::new(0.0, 0.0, 2.0, 2.0));
    }

    #[test]
    fn a_box_result_gets_its_position_as_id_and_the_box_area() {
        let a = ann(r#"{"id": 40, "image_id": 1, "category_id": 3, "bbox": [1, 2, 3, 4], "area": 1, "score": 0.75}"#);
        let (inst, warnings) = to_instance(&a, true, CLASS, Some((10, 10)), 5).unwrap();
        assert!(warnings.is_empty());
        // pycocotools loadRes numbers results itself and sets box results' area to w*h
        assert_eq!((inst.id, inst.area, inst.score), (5, 12.0, Some(0.75)));
        assert_eq!(inst.segmentation, None);
        let e = to_instance(
            &ann(r#"{"image_id": 1, "category_id": 3, "bbox": [1, 2, 3, 4]}"#),
            true,
            CLASS,
            None,
            1,
        )
        .unwrap_err();
        assert_eq!(e, AnnotationError::NoScore);
        assert_eq!(
            (e.kind(), e.field(), e.to_string()),
            ("score", ".score".into(), "detection has no score".into())
        );
    }

    #[test]
    fn odd_values_are_kept_with_warnings() {
        let a = ann(r#"{"image_id": 1, "category_id": 3, "bbox": [20, 20, 2, 2], "score": 1.5}"#);
        let (_, warnings) = to_instance(&a, true, CLASS, Some((10, 10)), 1).unwrap();
        assert_eq!(warnings.len(), 2);
        assert_eq!(
            warnings[0].to_string(),
            "box [20, 20, 2, 2] lies entirely outside the 10×10 image"
        );
        assert!(warnings[0].hint().contains("false positive"));
        assert_eq!(warnings[1].to_string(), "score 1.5 is outside [0, 1]");
        let far = ann(r#"{"image_id": 1, "category_id": 3, "segmentation": [[0, 0, 50, 0, 5, 5]], "area": 1}"#);
        let (_, warnings) = to_instance(&far, false, CLASS, Some((10, 10)), 1).unwrap();
        assert_eq!(warnings[0].field(), ".segmentation[0][2]");
        assert_eq!(
            warnings[0].to_string(),
            "vertex (50, 0) lies more than the image's size outside the 10×10 image"
        );
    }

    #[test]
    fn a_bad_field_is_a_typed_error_naming_the_field() {
        let err = |json: &str, size| to_instance(&ann(json), false, CLASS, size, 1).unwrap_err();
        let e = err(r#"{"image_id": 1, "category_id": 3, "bbox": [1, 2, 3]}"#, None);
        assert_eq!(e, AnnotationError::BoxLength { len: 3 });
        assert_eq!((e.kind(), e.field()), ("bbox", ".bbox".to_string()));
        assert_eq!(e.to_string(), "has 3 numbers; COCO boxes are [x, y, width, height]");
        let e = err(r#"{"image_id": 1, "category_id": 3, "bbox": [1, 2, 1e12, 3]}"#, None);
        assert_eq!(e.field(), ".bbox[2]");
        assert_eq!(
            e.to_string(),
            "1000000000000 is beyond ±429496729, where pycocotools' mask IoU is undefined"
        );
        let e = err(r#"{"image_id": 1, "category_id": 3, "bbox": [1, 2, -3, 4]}"#, None);
        assert_eq!(e.to_string(), "width and height must be ≥ 0, got [1, 2, -3, 4]");
        let e = err(
            r#"{"image_id": 1, "category_id": 3, "segmentation": [[0, 0, 1, 0, 1]]}"#,
            None,
        );
        assert_eq!((e.kind(), e.field()), ("polygon", ".segmentation[0]".to_string()));
        let e = err(
            r#"{"image_id": 1, "category_id": 3, "segmentation": [[0, 0, 1, 0, 1, 1], [0, 0, 1, 1]]}"#,
            None,
        );
        assert_eq!(e, AnnotationError::ShortPolygon { part: 1, points: 2 });
        let e = err(
            r#"{"image_id": 1, "category_id": 3, "segmentation": {"size": [4, 4], "counts": [0, 16]}}"#,
            Some((5, 4)),
        );
        assert_eq!(e.field(), ".segmentation.size");
        assert_eq!(
            e.to_string(),
            "mask is [4, 4] (height, width) but the image is 5×4 (width×height)"
        );
        let e = err(
            r#"{"image_id": 1, "category_id": 3, "segmentation": {"size": [2, 2], "counts": [1, 2]}}"#,
            None,
        );
        assert_eq!((e.kind(), e.field()), ("rle", ".segmentation.counts".to_string()));
        assert!(matches!(
            e,
            AnnotationError::RunsMismatch(RleError::WrongTotal { sum: 3, .. })
        ));
        let e = err(
            r#"{"image_id": 1, "category_id": 3, "segmentation": {"size": [2, 2], "counts": "~~"}}"#,
            None,
        );
        assert!(matches!(e, AnnotationError::CompressedCounts(_)), "{e:?}");
        let e = err(
            r#"{"image_id": 1, "category_id": 3, "bbox": [1, 2, 3, 4], "area": -1}"#,
            None,
        );
        assert_eq!(
            (e.field(), e.to_string()),
            (".area".to_string(), "area -1 is negative".to_string())
        );
        let e = err(r#"{"image_id": 1, "category_id": 3}"#, None);
        assert_eq!((e.kind(), e.field()), ("no geometry", String::new()));
    }

    #[test]
    fn the_extent_of_no_points_is_an_empty_box() {
        assert_eq!(polygon_extent(&[]), BBox::default());
        assert_eq!(
            polygon_extent(&[vec![3.0, 1.0, 1.0, 4.0]]),
            BBox::new(1.0, 1.0, 2.0, 3.0)
        );
    }
}
