//! `area`: the subject's area as a fraction of the image (or of `relative_to`) must lie in
//! [min, max], and its physical area in [min_mm2, max_mm2] when those are given (they need the
//! pixel spacing). Highlights the subject.

use super::text::{bounds_text, pct};
use super::{Ctx, finding};
use crate::rules::eval::Finding;
use crate::rules::expr::Expr;

pub(super) fn check(
    ctx: Ctx,
    subjects: &[Expr],
    min: f64,
    max: f64,
    relative_to: Option<&Expr>,
    min_mm2: Option<f64>,
    max_mm2: Option<f64>,
) -> Vec<Finding> {
    let Ctx { id, m, source, regions } = ctx;
    let img_area = ctx.img_area();
    subjects
        .iter()
        .filter_map(|s| {
            let mask = m.region(s, source);
            let area = mask.area() as f64;
            if area == 0.0 {
                return None;
            }
            if let (Some(per_px), true) = (m.mm2_per_px, min_mm2.is_some() || max_mm2.is_some()) {
                let (lo, hi) = (min_mm2.unwrap_or(0.0), max_mm2.unwrap_or(f64::INFINITY));
                let mm2 = area * per_px;
                let show = |v: f64| {
                    if v >= 1000.0 {
                        format!("{:.1} cm²", v / 100.0)
                    } else {
                        format!("{v:.0} mm²")
                    }
                };
                if mm2 < lo || mm2 > hi {
                    let bound = bounds_text(lo, hi, show);
                    return Some(finding(
                        mm2,
                        bound.clone(),
                        format!("{s} covers {}; rule '{id}' needs {bound}", show(mm2)),
                        Some((*mask).clone()),
                    ));
                }
            }
            if min <= 0.0 && max.is_infinite() {
                return None;
            }
            let (denom, of) = match relative_to {
                Some(r) => (m.region(r, regions).area() as f64, format!("of {r}")),
                None => (img_area, "of the image".to_string()),
            };
            if denom == 0.0 {
                return None;
            }
            let frac = area / denom;
            if frac >= min && frac <= max {
                return None;
            }
            Some(finding(
                frac,
                bounds_text(min, max, pct),
                format!(
                    "{s} covers {} {of}; rule '{id}' needs {}",
                    pct(frac),
                    bounds_text(min, max, pct)
                ),
                Some((*mask).clone()),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::test_case::{Canvas, messages};

    #[test]
    fn a_mask_too_small_for_the_image_is_flagged_a_plausible_one_is_not() {
        let rule = "kind = \"area\"\nsubject = \"a\"\nmin = 0.1\nmax = 0.5\n";
        assert!(messages(rule, &Canvas::new().rect(0, 0, 16, 16, 1), &[]).is_empty());
        assert_eq!(
            messages(rule, &Canvas::new().rect(0, 0, 4, 4, 1), &[]),
            ["a covers 1.6% of the image; rule 'r' needs between 10% and 50%"]
        );
    }

    #[test]
    fn area_relative_to_a_region_and_in_square_millimetres() {
        let rule = "kind = \"area\"\nsubject = \"a\"\nmax = 0.5\nrelative_to = \"b\"\n";
        let ok = Canvas::new().rect(0, 0, 4, 4, 1).rect(8, 0, 16, 8, 2);
        assert!(messages(rule, &ok, &[]).is_empty());
        let big = Canvas::new().rect(0, 0, 8, 8, 1).rect(8, 0, 16, 8, 2);
        assert_eq!(
            messages(rule, &big, &[]),
            ["a covers 100% of b; rule 'r' needs at most 50%"]
        );
        let rule = "kind = \"area\"\nsubject = \"a\"\nmax_mm2 = 100\n";
        let settings = "[settings]\npixel_spacing_mm = 2.0\n";
        let ok = Canvas::new().rect(0, 0, 5, 5, 1);
        assert!(super::super::test_case::messages_with(settings, rule, &ok, &[]).is_empty());
        let big = Canvas::new().rect(0, 0, 20, 20, 1);
        assert_eq!(
            super::super::test_case::messages_with(settings, rule, &big, &[]),
            ["a covers 16.0 cm²; rule 'r' needs at most 100 mm²"]
        );
    }
}
