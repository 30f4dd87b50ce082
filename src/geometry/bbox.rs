//! Axis-aligned boxes in COCO's `[x, y, width, height]` convention (pixel edges, no +1).

use serde::{Deserialize, Serialize};

/// A box `[x, y, w, h]` in image pixels; `(x, y)` is the top-left corner of the top-left pixel's
/// edge, so a box covering exactly pixels 0..2 has `x = 0, w = 2`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct BBox {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl BBox {
    pub const fn new(x: f64, y: f64, w: f64, h: f64) -> Self {
        BBox { x, y, w, h }
    }

    /// Box from corners `(x1, y1)`–`(x2, y2)`.
    pub fn from_corners(x1: f64, y1: f64, x2: f64, y2: f64) -> Self {
        BBox {
            x: x1,
            y: y1,
            w: x2 - x1,
            h: y2 - y1,
        }
    }

    pub fn area(&self) -> f64 {
        self.w * self.h
    }

    pub fn x2(&self) -> f64 {
        self.x + self.w
    }

    pub fn y2(&self) -> f64 {
        self.y + self.h
    }

    pub fn center(&self) -> (f64, f64) {
        (self.x + self.w / 2.0, self.y + self.h / 2.0)
    }

    pub fn to_array(&self) -> [f64; 4] {
        [self.x, self.y, self.w, self.h]
    }

    /// Every coordinate finite and both sides non-negative.
    pub fn is_valid(&self) -> bool {
        [self.x, self.y, self.w, self.h].iter().all(|v| v.is_finite()) && self.w >= 0.0 && self.h >= 0.0
    }

    /// Intersection over union as pycocotools' `bbIou` computes it (f64, no +1 convention;
    /// touching boxes give 0). With `crowd`, the union is the detection's own area
    /// (pycocotools: a crowd region may cover many detections).
    pub fn iou(&self, gt: &BBox, crowd: bool) -> f64 {
        let d = self;
        let da = d.w * d.h;
        let ga = gt.w * gt.h;
        let w = (d.w + d.x).min(gt.w + gt.x) - d.x.max(gt.x);
        if w <= 0.0 {
            return 0.0;
        }
        let h = (d.h + d.y).min(gt.h + gt.y) - d.y.max(gt.y);
        if h <= 0.0 {
            return 0.0;
        }
        let i = w * h;
        let u = if crowd { da } else { da + ga - i };
        i / u
    }

    /// The box clipped to an image of `width` × `height` pixels.
    pub fn clip(&self, width: u32, height: u32) -> BBox {
        let x1 = self.x.clamp(0.0, width as f64);
        let y1 = self.y.clamp(0.0, height as f64);
        let x2 = self.x2().clamp(0.0, width as f64);
        let y2 = self.y2().clamp(0.0, height as f64);
        BBox::from_corners(x1, y1, x2, y2)
    }
}

/// pycocotools `maskUtils.iou` on boxes: a `dt.len()` × `gt.len()` matrix, row per detection.
pub fn iou_matrix(dt: &[BBox], gt: &[BBox], iscrowd: &[bool]) -> Vec<Vec<f64>> {
    dt.iter()
        .map(|d| {
            gt.iter()
                .enumerate()
                .map(|(g, b)| d.iou(b, iscrowd.get(g).copied().unwrap_or(false)))
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn touching_boxes_do_not_overlap() {
        let a = BBox::new(0.0, 0.0, 2.0, 2.0);
        let b = BBox::new(2.0, 0.0, 2.0, 2.0);
        assert_eq!(a.iou(&b, false), 0.0);
    }

    #[test]
    fn crowd_iou_divides_by_detection_area() {
        let gt = BBox::new(0.0, 0.0, 10.0, 10.0);
        let dt = BBox::new(0.0, 0.0, 2.0, 2.0);
        assert_eq!(dt.iou(&gt, true), 1.0);
        assert_eq!(dt.iou(&gt, false), 0.04);
    }

    #[test]
    fn negative_or_nan_boxes_are_invalid() {
        assert!(!BBox::new(0.0, 0.0, -1.0, 2.0).is_valid());
        assert!(!BBox::new(f64::NAN, 0.0, 1.0, 2.0).is_valid());
        assert!(BBox::new(0.0, 0.0, 0.0, 2.0).is_valid());
    }
}
