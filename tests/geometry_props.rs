//! Property tests for the geometry core: round trips, IoU symmetry and bounds, and agreement
//! between the RLE walkers and plain pixel arithmetic.
// tests: a failed unwrap is a failed run, not a crash in a user's hands
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lightbox::geometry::{BinaryMask, Connectivity, Rle, components, polygon};
use proptest::prelude::*;

fn mask_strategy() -> impl Strategy<Value = BinaryMask> {
    (1u32..24, 1u32..24).prop_flat_map(|(w, h)| {
        proptest::collection::vec(prop_oneof![3 => Just(0u8), 1 => Just(1u8)], (w * h) as usize)
            .prop_map(move |bits| BinaryMask::from_row_major(w, h, bits).unwrap())
    })
}

fn pair_strategy() -> impl Strategy<Value = (BinaryMask, BinaryMask)> {
    (1u32..20, 1u32..20).prop_flat_map(|(w, h)| {
        let n = (w * h) as usize;
        (
            proptest::collection::vec(0u8..2, n),
            proptest::collection::vec(0u8..2, n),
        )
            .prop_map(move |(a, b)| {
                (
                    BinaryMask::from_row_major(w, h, a).unwrap(),
                    BinaryMask::from_row_major(w, h, b).unwrap(),
                )
            })
    })
}

proptest! {
    #[test]
    fn encode_decode_round_trips(m in mask_strategy()) {
        let r = Rle::encode(&m);
        prop_assert!(r.validate().is_ok());
        prop_assert_eq!(r.decode(), m.clone());
        prop_assert_eq!(r.area() as u64, m.area());
    }

    #[test]
    fn compressed_string_round_trips(m in mask_strategy()) {
        let r = Rle::encode(&m);
        let s = r.to_compressed();
        prop_assert!(s.bytes().all(|b| (48..=111).contains(&b)));
        prop_assert_eq!(Rle::from_compressed(&s, r.h, r.w).unwrap(), r);
    }

    #[test]
    fn decoding_arbitrary_strings_never_panics(s in "[0-o]{0,40}", h in 1u32..30, w in 1u32..30) {
        if let Ok(r) = Rle::from_compressed(&s, h, w) {
            let _ = r.validate();
            let _ = r.to_bbox();
            let _ = r.area();
        }
    }

    #[test]
    fn iou_is_symmetric_bounded_and_matches_pixels((a, b) in pair_strategy()) {
        let (ra, rb) = (Rle::encode(&a), Rle::encode(&b));
        let ab = Rle::iou(&ra, &rb, false);
        let ba = Rle::iou(&rb, &ra, false);
        prop_assert_eq!(ab, ba);
        prop_assert!((0.0..=1.0).contains(&ab));
        let inter = a.intersection(&b).unwrap().area();
        let union = a.union(&b).unwrap().area();
        let want = if inter == 0 { 0.0 } else { inter as f64 / union as f64 };
        prop_assert_eq!(ab, want);
        if a.area() > 0 {
            prop_assert_eq!(Rle::iou(&ra, &ra, false), 1.0);
        }
    }

    #[test]
    fn merge_is_pixelwise_union_and_intersection((a, b) in pair_strategy()) {
        let (ra, rb) = (Rle::encode(&a), Rle::encode(&b));
        prop_assert_eq!(Rle::merge(&[ra.clone(), rb.clone()], false).decode(), a.union(&b).unwrap());
        prop_assert_eq!(Rle::merge(&[ra, rb], true).decode(), a.intersection(&b).unwrap());
    }

    #[test]
    fn rle_box_equals_mask_box(m in mask_strategy()) {
        let r = Rle::encode(&m);
        match m.bbox() {
            Some(b) => prop_assert_eq!(r.to_bbox(), b),
            None => prop_assert_eq!(r.to_bbox().to_array(), [0.0; 4]),
        }
    }

    #[test]
    fn polygons_stay_inside_the_image(xy in proptest::collection::vec(-50.0f64..150.0, 6..24), h in 1u32..80, w in 1u32..80) {
        let r = polygon::rasterize(&xy, h, w);
        prop_assert!(r.validate().is_ok());
        prop_assert!(r.area() <= h * w);
    }

    #[test]
    fn component_areas_sum_to_mask_area(m in mask_strategy()) {
        for conn in [Connectivity::Four, Connectivity::Eight] {
            let comps = components::components(&m, conn);
            prop_assert_eq!(comps.iter().map(|c| c.area).sum::<u64>(), m.area());
        }
        let holes = components::holes(&m, Connectivity::Eight);
        prop_assert!(holes.iter().all(|h| !h.touches_border));
    }
}

/// Hole pixels by the definition: background (4-connected) not reachable from the border.
fn reference_hole_pixels(m: &BinaryMask) -> Vec<bool> {
    let (w, h) = (m.width() as usize, m.height() as usize);
    let bg = |i: usize| m.as_slice()[i] == 0;
    let mut seen = vec![false; w * h];
    let mut stack: Vec<usize> = (0..w * h)
        .filter(|&i| bg(i) && (i % w == 0 || i % w == w - 1 || i / w == 0 || i / w == h - 1))
        .collect();
    for &i in &stack {
        seen[i] = true;
    }
    while let Some(i) = stack.pop() {
        let (x, y) = (i % w, i / w);
        let mut go = |j: usize| {
            if bg(j) && !seen[j] {
                seen[j] = true;
                stack.push(j);
            }
        };
        if x > 0 {
            go(i - 1);
        }
        if x + 1 < w {
            go(i + 1);
        }
        if y > 0 {
            go(i - w);
        }
        if y + 1 < h {
            go(i + w);
        }
    }
    (0..w * h).map(|i| bg(i) && !seen[i]).collect()
}

proptest! {
    #[test]
    fn windowed_hole_finding_matches_the_definition(m in mask_strategy()) {
        let (_, pixels) = components::holes_with_pixels(&m, Connectivity::Eight, 0.0);
        let want = reference_hole_pixels(&m);
        let got: Vec<bool> = pixels.as_slice().iter().map(|&v| v != 0).collect();
        prop_assert_eq!(got, want);
    }
}
