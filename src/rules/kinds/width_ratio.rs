//! `width_ratio`: width(`a`) / width(`b`) must lie in [min, max], widths being horizontal
//! extents (the leftmost to the rightmost pixel). With a = the heart and b = the lungs' hull it
//! is the cardiothoracic ratio of a PA chest radiograph (the heart's widest extent over the
//! thorax's, measured between the lungs' outer edges), which a heart that grows into the lungs
//! raises even where one label per pixel hides the overlap. Highlights a.

use super::{Ctx, finding};
use crate::rules::eval::Finding;
use crate::rules::expr::Expr;

pub(super) fn check(ctx: Ctx, a: &Expr, b: &Expr, min: f64, max: f64) -> Vec<Finding> {
    let Ctx { id, m, source, regions } = ctx;
    let (ma, mb) = (m.region(a, source), m.region(b, regions));
    let (Some(ba), Some(bb)) = (ma.bbox(), mb.bbox()) else {
        // an absent subject is `presence`'s to report
        return vec![];
    };
    let ratio = ba.w / bb.w;
    if ratio >= min && ratio <= max {
        return vec![];
    }
    vec![finding(
        ratio,
        format!("{min:.2}..{max:.2}"),
        format!(
            "{a} is {:.0} px wide, {ratio:.2} of {}'s {:.0} px; rule '{id}' needs {min:.2} to {max:.2}",
            ba.w,
            ctx.region_name(b),
            bb.w
        ),
        Some((*ma).clone()),
    )]
}

#[cfg(test)]
mod tests {
    use super::super::test_case::{Canvas, findings, messages};

    const RULE: &str = "kind = \"width_ratio\"\na = \"a\"\nb = \"b\"\nmin = 0.3\nmax = 0.5\n";

    #[test]
    fn a_wide_subject_is_flagged_with_both_widths_and_a_narrow_enough_one_is_not() {
        // b spans 20 px; a 8 px wide (0.40) passes, 14 px wide (0.70) does not
        let fine = Canvas::new().rect(0, 0, 20, 4, 2).rect(6, 10, 14, 14, 1);
        assert!(messages(RULE, &fine, &[]).is_empty());
        let wide = Canvas::new().rect(0, 0, 20, 4, 2).rect(3, 10, 17, 14, 1);
        let f = findings(RULE, &wide, &[]);
        assert_eq!(
            f[0].message,
            "a is 14 px wide, 0.70 of b's 20 px; rule 'r' needs 0.30 to 0.50"
        );
        assert_eq!(f[0].highlight.as_ref().map(|h| h.area()), Some(56));
        // widths, not areas: a tall narrow subject is narrow
        let tall = Canvas::new().rect(0, 0, 20, 4, 2).rect(8, 5, 14, 32, 1);
        assert!(messages(RULE, &tall, &[]).is_empty());
    }

    #[test]
    fn an_absent_subject_is_not_this_rules_to_report() {
        let only_b = Canvas::new().rect(0, 0, 20, 4, 2);
        assert!(messages(RULE, &only_b, &[]).is_empty());
    }
}
