//! `symmetry`: area(`a`) / area(`b`) must lie in [min, max] (paired organs of comparable
//! size). Highlights the smaller.

use super::{Ctx, finding};
use crate::rules::eval::Finding;
use crate::rules::expr::Expr;

pub(super) fn check(ctx: Ctx, a: &Expr, b: &Expr, min: f64, max: f64) -> Vec<Finding> {
    let Ctx { id, m, source, regions } = ctx;
    let (ma, mb) = (m.region(a, source), m.region(b, regions));
    let (aa, ab) = (ma.area() as f64, mb.area() as f64);
    if aa == 0.0 || ab == 0.0 {
        return vec![];
    }
    let ratio = aa / ab;
    if ratio >= min && ratio <= max {
        return vec![];
    }
    let smaller = if aa < ab { ma } else { mb };
    vec![finding(
        ratio,
        format!("{min:.2}..{max:.2}"),
        format!(
            "{a} is {ratio:.2}× the area of {}; rule '{id}' needs {min:.2} to {max:.2}",
            ctx.region_name(b)
        ),
        Some((*smaller).clone()),
    )]
}

#[cfg(test)]
mod tests {
    use super::super::test_case::{Canvas, findings, messages};

    const RULE: &str = "kind = \"symmetry\"\na = \"a\"\nb = \"b\"\nmin = 0.5\nmax = 2.0\n";

    #[test]
    fn a_pair_of_very_different_sizes_is_flagged_a_comparable_pair_is_not() {
        let even = Canvas::new().rect(0, 0, 8, 8, 1).rect(20, 0, 28, 8, 2);
        assert!(messages(RULE, &even, &[]).is_empty());
        let uneven = Canvas::new().rect(0, 0, 8, 8, 1).rect(20, 0, 24, 4, 2);
        let f = findings(RULE, &uneven, &[]);
        assert_eq!(f[0].message, "a is 4.00× the area of b; rule 'r' needs 0.50 to 2.00");
        assert_eq!(f[0].highlight.as_ref().map(|h| h.area()), Some(16));
    }
}
