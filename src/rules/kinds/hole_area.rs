//! `hole_area`: at most `max` pixels may lie in the subject's holes (8-connected pieces of
//! everything else that do not reach the border); with `allow_filled_by`, the area of that
//! region's first piece is expected inside (the cavity in the myocardium, as `vital` counts
//! it). Highlights the holes.

use super::text::allowance_px;
use super::{Ctx, finding};
use crate::geometry::{Runs, measure};
use crate::rules::eval::Finding;
use crate::rules::expr::Expr;

pub(super) fn check(ctx: Ctx, subjects: &[Expr], max: f64, allow_filled_by: Option<&Expr>) -> Vec<Finding> {
    let Ctx { id, m, source, .. } = ctx;
    subjects
        .iter()
        .filter_map(|s| {
            let mask = m.region(s, source);
            if mask.is_empty() {
                return None;
            }
            let (mut n, mut px) = measure::hole_pixels(&mask.to_mask());
            let mut expected = String::new();
            if let (Some(allowed), true) = (allow_filled_by, n > 0) {
                // the allowed class's first piece is expected to fill a hole (vital's MYO rule)
                let inside = m.region(allowed, source).to_mask();
                n = n.saturating_sub(measure::first_component_area(&inside));
                px = px.minus(&inside).unwrap_or(px);
                expected = format!(" besides {allowed}");
            }
            (n as f64 > max).then(|| {
                finding(
                    n as f64,
                    format!("at most {max:.0} px"),
                    format!(
                        "{s} has {n} px of holes{expected}; rule '{id}' allows {}",
                        allowance_px(max)
                    ),
                    Some(Runs::from_mask(&px)),
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::test_case::{Canvas, findings, messages};

    #[test]
    fn pixels_in_holes_are_flagged_a_solid_mask_is_not() {
        let rule = "kind = \"hole_area\"\nsubject = \"a\"\n";
        assert!(messages(rule, &Canvas::new().rect(4, 4, 20, 20, 1), &[]).is_empty());
        let ring = Canvas::new().rect(4, 4, 20, 20, 1).rect(8, 8, 12, 12, 0);
        let f = findings(rule, &ring, &[]);
        assert_eq!(f[0].message, "a has 16 px of holes; rule 'r' allows none");
        assert_eq!(f[0].highlight.as_ref().map(|h| h.area()), Some(16));
    }

    #[test]
    fn a_hole_filled_by_the_allowed_region_is_expected() {
        let rule = "kind = \"hole_area\"\nsubject = \"a\"\nallow_filled_by = \"b\"\n";
        let filled = Canvas::new().rect(4, 4, 20, 20, 1).rect(8, 8, 12, 12, 2);
        assert!(messages(rule, &filled, &[]).is_empty());
        let half = Canvas::new()
            .rect(4, 4, 20, 20, 1)
            .rect(8, 8, 12, 12, 0)
            .rect(8, 8, 12, 10, 2);
        assert_eq!(
            messages(rule, &half, &[]),
            ["a has 8 px of holes besides b; rule 'r' allows none"]
        );
    }
}
