//! `gap_distance`: the shortest distance from `a` grown by one pixel (3×3) to `b` must be at
//! most `max` pixels (`max_mm` millimetres, through the pixel spacing). Highlights `a`.

use super::{Ctx, finding};
use crate::geometry::measure;
use crate::rules::eval::Finding;
use crate::rules::expr::Expr;

pub(super) fn check(ctx: Ctx, a: &Expr, b: &Expr, max: f64, mm: bool) -> Vec<Finding> {
    let Ctx { id, m, source, regions } = ctx;
    let (ma, mb) = (m.region(a, source), m.region(b, regions));
    let Some(d) = measure::gap_distance(&ma.to_mask(), &mb.to_mask()) else {
        return vec![];
    };
    let (d, unit) = if mm {
        (d * m.mm_per_px.unwrap_or(1.0), "mm")
    } else {
        (d, "px")
    };
    if d <= max {
        return vec![];
    }
    vec![finding(
        d,
        format!("at most {max} {unit}"),
        format!("{a} is {d:.1} {unit} away from {b}; rule '{id}' needs at most {max} {unit}"),
        Some((*ma).clone()),
    )]
}

#[cfg(test)]
mod tests {
    use super::super::test_case::{Canvas, messages, messages_with};

    #[test]
    fn masks_too_far_apart_are_flagged_neighbours_are_not() {
        let rule = "kind = \"gap_distance\"\na = \"a\"\nb = \"b\"\nmax = 2\n";
        let near = Canvas::new().rect(0, 0, 4, 4, 1).rect(6, 0, 10, 4, 2);
        assert!(messages(rule, &near, &[]).is_empty());
        let far = Canvas::new().rect(0, 0, 4, 4, 1).rect(20, 0, 24, 4, 2);
        assert_eq!(
            messages(rule, &far, &[]),
            ["a is 16.0 px away from b; rule 'r' needs at most 2 px"]
        );
        let rule = "kind = \"gap_distance\"\na = \"a\"\nb = \"b\"\nmax_mm = 10\n";
        assert_eq!(
            messages_with("[settings]\npixel_spacing_mm = 2.0\n", rule, &far, &[]),
            ["a is 32.0 mm away from b; rule 'r' needs at most 10 mm"]
        );
    }
}
