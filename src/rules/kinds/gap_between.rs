//! `gap_between`: at most `max` background pixels may be enclosed by `a` and `b` together but
//! by neither alone, counted only above the noise floor of H·W/2¹⁴ pixels. Highlights the gap.

use super::{Ctx, finding};
use crate::geometry::{Runs, measure};
use crate::rules::eval::Finding;
use crate::rules::expr::Expr;

pub(super) fn check(ctx: Ctx, a: &Expr, b: &Expr, max: f64) -> Vec<Finding> {
    let Ctx { id, m, source, regions } = ctx;
    let (n, px) = measure::gap_between(&m.region(a, source).to_mask(), &m.region(b, regions).to_mask());
    // pockets at or under H·W/2^14 pixels are the noise morphology leaves behind
    let floor = ctx.img_area() / 16384.0;
    let n = n as f64;
    if n <= floor || n <= max {
        return vec![];
    }
    vec![finding(
        n,
        format!("at most {:.0} px", max.max(floor)),
        format!(
            "{n:.0} px of background are enclosed between {a} and {b}; rule '{id}' allows at most {:.0} px",
            max.max(floor)
        ),
        Some(Runs::from_mask(&px)),
    )]
}

#[cfg(test)]
mod tests {
    use super::super::test_case::{Canvas, findings, messages};

    const RULE: &str = "kind = \"gap_between\"\na = \"a\"\nb = \"b\"\n";

    #[test]
    fn background_closed_in_by_two_masks_together_is_flagged() {
        // each half of a square ring is open on one side; together they close an 8×8 pocket
        let ring = Canvas::new()
            .rect(4, 4, 12, 20, 1)
            .rect(12, 4, 20, 20, 2)
            .rect(8, 8, 16, 16, 0);
        let f = findings(RULE, &ring, &[]);
        assert_eq!(
            f[0].message,
            "64 px of background are enclosed between a and b; rule 'r' allows at most 0 px"
        );
        assert_eq!(f[0].highlight.as_ref().map(|h| h.area()), Some(64));
        let apart = Canvas::new().rect(4, 4, 12, 20, 1).rect(22, 4, 30, 20, 2);
        assert!(messages(RULE, &apart, &[]).is_empty());
    }
}
