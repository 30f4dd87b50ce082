//! YOLO text labels and predictions: one `<stem>.txt` per image, a line per box,
//! `class cx cy w h [score]` with coordinates normalised to the image size; each box becomes an
//! [`Instance`] in pixels once the image's size is known.

use crate::geometry::BBox;
use crate::pack::{ClassId, Instance};

/// One box as written in the file (normalised).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct YoloBox {
    pub class_index: usize,
    pub cx: f64,
    pub cy: f64,
    pub w: f64,
    pub h: f64,
    pub score: Option<f64>,
}

/// A line that could not be read: its 1-based number and what is wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct LineError {
    pub line: usize,
    pub message: String,
}

/// Parse a label file; good lines are kept, each bad line is reported.
pub fn parse(text: &str) -> (Vec<YoloBox>, Vec<LineError>) {
    let mut boxes = Vec::new();
    let mut errors = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let err = |m: String| LineError {
            line: i + 1,
            message: m,
        };
        let tok: Vec<&str> = line.split_whitespace().collect();
        if tok.len() != 5 && tok.len() != 6 {
            let m = if tok.len() > 6 && tok.len() % 2 == 1 {
                format!(
                    "{} values: this looks like YOLO segmentation (polygon) format; lightbox reads boxes `class cx cy w h [score]`",
                    tok.len()
                )
            } else {
                format!("{} values where `class cx cy w h [score]` has 5 or 6", tok.len())
            };
            errors.push(err(m));
            continue;
        }
        let Ok(class_index) = tok[0].parse::<usize>() else {
            errors.push(err(format!("class {:?} is not a non-negative integer index", tok[0])));
            continue;
        };
        let mut vals = [0f64; 5];
        let names = ["cx", "cy", "w", "h", "score"];
        let mut bad = None;
        for (k, t) in tok[1..].iter().enumerate() {
            match t.parse::<f64>() {
                Ok(v) if v.is_finite() => vals[k] = v,
                _ => {
                    bad = Some(format!("{} {:?} is not a finite number", names[k], t));
                    break;
                }
            }
        }
        if let Some(m) = bad {
            errors.push(err(m));
            continue;
        }
        let [cx, cy, w, h, s] = vals;
        if w < 0.0 || h < 0.0 {
            errors.push(err(format!("negative box size w={w} h={h}")));
            continue;
        }
        if [cx, cy, w, h].iter().any(|v| *v > 1.5 || *v < -0.5) {
            errors.push(err(format!(
                "coordinates {cx} {cy} {w} {h} are not normalised to [0, 1]; YOLO files hold fractions of the image size"
            )));
            continue;
        }
        boxes.push(YoloBox {
            class_index,
            cx,
            cy,
            w,
            h,
            score: (tok.len() == 6).then_some(s),
        });
    }
    (boxes, errors)
}

/// Something odd about a box that is kept; its `Display` is the sentence for people.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BoxWarning {
    #[error("box (cx {cx}, cy {cy}, w {w}, h {h}) is empty or lies entirely outside the image")]
    OffImage { cx: f64, cy: f64, w: f64, h: f64 },
    #[error("prediction without a score; counted as score 1.0")]
    NoScore,
}

impl BoxWarning {
    /// The kind of oddity, for capping repeats in a problem list.
    pub fn kind(&self) -> &'static str {
        match self {
            BoxWarning::OffImage { .. } => "yolo box off the image",
            BoxWarning::NoScore => "yolo score",
        }
    }

    /// What it means and what to do.
    pub fn hint(&self) -> &'static str {
        match self {
            BoxWarning::OffImage { .. } => "YOLO boxes are centre and size in 0–1 of the image; it can match nothing",
            BoxWarning::NoScore => "Export predictions with `--save-conf` so each line ends with its score",
        }
    }
}

impl YoloBox {
    /// The box in pixels (COCO's `[x, y, w, h]`) on a `width`×`height` image.
    pub fn to_pixels(&self, width: u32, height: u32) -> BBox {
        let (w, h) = (width as f64, height as f64);
        BBox::new(
            (self.cx - self.w / 2.0) * w,
            (self.cy - self.h / 2.0) * h,
            self.w * w,
            self.h * h,
        )
    }

    /// The box as an instance of `class` numbered `id`, on an image of `size` (width,
    /// height). Ground truth has no score; a prediction without one counts as 1.0. A box that
    /// is empty or off the image is kept (it can match nothing), with a warning.
    pub fn to_instance(&self, size: (u32, u32), class: ClassId, id: i64, is_gt: bool) -> (Instance, Vec<BoxWarning>) {
        let (w, h) = size;
        let bbox = self.to_pixels(w, h);
        let mut warnings = Vec::new();
        if bbox.w <= 0.0
            || bbox.h <= 0.0
            || bbox.x >= w as f64
            || bbox.y >= h as f64
            || bbox.x + bbox.w <= 0.0
            || bbox.y + bbox.h <= 0.0
        {
            warnings.push(BoxWarning::OffImage {
                cx: self.cx,
                cy: self.cy,
                w: self.w,
                h: self.h,
            });
        }
        if !is_gt && self.score.is_none() {
            warnings.push(BoxWarning::NoScore);
        }
        let instance = Instance {
            id,
            class,
            bbox,
            segmentation: None,
            score: if is_gt { None } else { Some(self.score.unwrap_or(1.0)) },
            iscrowd: false,
            area: bbox.area(),
        };
        (instance, warnings)
    }
}

/// The class list in a `classes.txt` (one name per line).
pub fn parse_class_list(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_and_bad_lines() {
        let (b, e) = parse("0 0.5 0.5 0.2 0.1\n1 0.1 0.1 0.1 0.1 0.93\nx 0 0 0 0\n0 0.5 0.5 -0.1 0.1\n0 40 50 10 10\n");
        assert_eq!(b.len(), 2);
        assert_eq!(b[1].score, Some(0.93));
        assert_eq!(e.iter().map(|e| e.line).collect::<Vec<_>>(), vec![3, 4, 5]);
        assert!(e[2].message.contains("normalised"));
    }

    fn yolo(cx: f64, cy: f64, w: f64, h: f64, score: Option<f64>) -> YoloBox {
        YoloBox {
            class_index: 0,
            cx,
            cy,
            w,
            h,
            score,
        }
    }

    #[test]
    fn normalised_boxes_become_pixel_boxes_on_the_image() {
        let b = yolo(0.5, 0.25, 0.25, 0.125, Some(0.9));
        assert_eq!(b.to_pixels(200, 100), BBox::new(75.0, 18.75, 50.0, 12.5));
        let (inst, warnings) = b.to_instance((200, 100), ClassId(2), 7, false);
        assert!(warnings.is_empty());
        assert_eq!(inst.bbox, BBox::new(75.0, 18.75, 50.0, 12.5));
        assert_eq!(
            (inst.id, inst.class, inst.score, inst.area),
            (7, ClassId(2), Some(0.9), 625.0)
        );
        assert_eq!((inst.segmentation, inst.iscrowd), (None, false));
        // ground truth carries no score, even when the line has one
        let (inst, _) = b.to_instance((200, 100), ClassId(2), 1, true);
        assert_eq!(inst.score, None);
    }

    #[test]
    fn boxes_off_the_image_or_empty_are_kept_with_a_warning() {
        // the parser lets coordinates slightly outside 0..1 through; such a box may miss the image
        let (inst, warnings) = yolo(1.25, 0.5, 0.25, 0.25, Some(0.5)).to_instance((100, 100), ClassId(1), 1, false);
        assert_eq!(inst.bbox.x, 112.5);
        assert_eq!(
            warnings,
            [BoxWarning::OffImage {
                cx: 1.25,
                cy: 0.5,
                w: 0.25,
                h: 0.25
            }]
        );
        assert_eq!(
            warnings[0].to_string(),
            "box (cx 1.25, cy 0.5, w 0.25, h 0.25) is empty or lies entirely outside the image"
        );
        assert_eq!(warnings[0].kind(), "yolo box off the image");
        let (_, warnings) = yolo(0.5, 0.5, 0.0, 0.2, Some(0.5)).to_instance((100, 100), ClassId(1), 1, false);
        assert!(matches!(warnings[..], [BoxWarning::OffImage { .. }]));
        // a box reaching into the image is fine
        let (_, warnings) = yolo(-0.05, 0.5, 0.2, 0.2, Some(0.5)).to_instance((100, 100), ClassId(1), 1, false);
        assert!(warnings.is_empty());
    }

    #[test]
    fn a_prediction_without_a_score_counts_as_certain_with_a_warning() {
        let (inst, warnings) = yolo(0.5, 0.5, 0.2, 0.2, None).to_instance((10, 10), ClassId(1), 1, false);
        assert_eq!(inst.score, Some(1.0));
        assert_eq!(warnings, [BoxWarning::NoScore]);
        assert_eq!(
            warnings[0].to_string(),
            "prediction without a score; counted as score 1.0"
        );
        let (_, warnings) = yolo(0.5, 0.5, 0.2, 0.2, None).to_instance((10, 10), ClassId(1), 1, true);
        assert!(warnings.is_empty());
    }
}
