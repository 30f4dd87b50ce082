//! `frontier`: at most `max` pixels of `a` may lie within one pixel (3×3) of `b` (with
//! `b = "background"`: the cavity is closed). Highlights those pixels.

use super::{Ctx, finding};
use crate::geometry::{Runs, measure};
use crate::rules::eval::Finding;
use crate::rules::expr::Expr;

pub(super) fn check(ctx: Ctx, a: &Expr, b: &Expr, max: f64) -> Vec<Finding> {
    let Ctx { id, m, source, regions } = ctx;
    let (n, px) = measure::frontier(&m.region(a, source).to_mask(), &m.region(b, regions).to_mask());
    if n as f64 <= max {
        return vec![];
    }
    vec![finding(
        n as f64,
        format!("at most {max:.0} px"),
        format!("{n} px of {a} touch {b}; rule '{id}' allows at most {max:.0} px"),
        Some(Runs::from_mask(&px)),
    )]
}

#[cfg(test)]
mod tests {
    use super::super::test_case::{Canvas, findings, messages};

    #[test]
    fn pixels_of_a_next_to_b_are_flagged_apart_they_are_not() {
        let rule = "kind = \"frontier\"\na = \"a\"\nb = \"b\"\nmax = 0\n";
        let apart = Canvas::new().rect(0, 0, 8, 8, 1).rect(10, 0, 18, 8, 2);
        assert!(messages(rule, &apart, &[]).is_empty());
        let touching = Canvas::new().rect(0, 0, 8, 8, 1).rect(8, 0, 16, 8, 2);
        let f = findings(rule, &touching, &[]);
        assert_eq!(f[0].message, "8 px of a touch b; rule 'r' allows at most 0 px");
        assert_eq!(f[0].highlight.as_ref().map(|h| h.area()), Some(8));
    }

    #[test]
    fn a_cavity_against_the_background_is_flagged() {
        let rule = "kind = \"frontier\"\na = \"a\"\nb = \"background\"\nmax = 0\n";
        let closed = Canvas::new().rect(4, 4, 20, 20, 2).rect(8, 8, 16, 16, 1);
        assert!(messages(rule, &closed, &[]).is_empty());
        let open = Canvas::new().rect(4, 4, 20, 20, 2).rect(8, 8, 16, 20, 1);
        assert_eq!(
            messages(rule, &open, &[]),
            ["8 px of a touch background; rule 'r' allows at most 0 px"]
        );
    }
}
