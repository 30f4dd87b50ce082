//! `enclosure`: at least 1 − `tolerance` of `a`'s outer border (the ring one pixel outside it)
//! must touch `b`. Highlights the border not in `b`.

use super::text::pct;
use super::{Ctx, finding};
use crate::rules::eval::Finding;
use crate::rules::expr::Expr;

pub(super) fn check(ctx: Ctx, a: &Expr, b: &Expr, tolerance: f64) -> Vec<Finding> {
    let Ctx { id, m, source, regions } = ctx;
    let (ma, mb) = (m.region(a, source), m.region(b, regions));
    if ma.area() == 0 {
        return vec![];
    }
    let ring = ma.dilate(1.5).minus(&ma);
    let n = ring.area();
    if n == 0 {
        return vec![];
    }
    let touching = ring.intersection_area(&mb);
    let frac = touching as f64 / n as f64;
    if frac >= 1.0 - tolerance {
        return vec![];
    }
    let gap = ring.minus(&mb);
    vec![finding(
        frac,
        format!("≥ {}", pct(1.0 - tolerance)),
        format!(
            "{b} surrounds only {} of {a}'s border; rule '{id}' needs {}",
            pct(frac),
            pct(1.0 - tolerance)
        ),
        Some(gap),
    )]
}

#[cfg(test)]
mod tests {
    use super::super::test_case::{Canvas, findings, messages};

    const RULE: &str = "kind = \"enclosure\"\na = \"a\"\nb = \"b\"\n";

    #[test]
    fn a_cavity_open_to_the_outside_is_flagged_a_closed_one_is_not() {
        let closed = Canvas::new().rect(8, 8, 16, 16, 2).rect(10, 10, 14, 14, 1);
        assert!(messages(RULE, &closed, &[]).is_empty());
        // the wall's lower half is missing: the ring under the cavity is background
        let open = Canvas::new().rect(8, 8, 16, 12, 2).rect(10, 10, 14, 14, 1);
        let f = findings(RULE, &open, &[]);
        assert_eq!(f.len(), 1);
        assert!(
            f[0].message.starts_with("b surrounds only ")
                && f[0].message.ends_with(" of a's border; rule 'r' needs 100%"),
            "{}",
            f[0].message
        );
        assert!(f[0].value < 1.0 && f[0].highlight.as_ref().is_some_and(|h| h.area() > 0));
    }
}
