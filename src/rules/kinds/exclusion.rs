//! `exclusion`: `a` and `b` must not overlap by more than `max_fraction` of the smaller of the
//! two. Highlights the overlap.

use super::text::pct;
use super::{Ctx, finding};
use crate::rules::eval::Finding;
use crate::rules::expr::Expr;

pub(super) fn check(ctx: Ctx, a: &Expr, b: &Expr, max_fraction: f64) -> Vec<Finding> {
    let Ctx { id, m, source, regions } = ctx;
    let ma = m.region(a, source);
    if ma.is_empty() {
        return vec![];
    }
    let mb = m.region(b, regions);
    let (aa, ab) = (ma.area(), mb.area());
    if ab == 0 {
        return vec![];
    }
    let both = ma.intersection(&mb);
    let frac = both.area() as f64 / aa.min(ab) as f64;
    if frac > max_fraction {
        return vec![finding(
            frac,
            format!("≤ {}", pct(max_fraction)),
            format!(
                "{a} and {} overlap by {} of the smaller one ({} px); rule '{id}' allows {}",
                ctx.region_name(b),
                pct(frac),
                both.area(),
                pct(max_fraction)
            ),
            Some(both),
        )];
    }
    vec![]
}

#[cfg(test)]
mod tests {
    use super::super::test_case::{Canvas, messages};

    const RULE: &str = "kind = \"exclusion\"\na = \"lesion\"\nb = \"a\"\nmax_fraction = 0.1\n";

    #[test]
    fn a_lesion_on_the_excluded_region_is_flagged_one_beside_it_is_not() {
        let heart = Canvas::new().rect(0, 0, 16, 32, 1);
        assert!(messages(RULE, &heart, &[[20.0, 20.0, 4.0, 4.0]]).is_empty());
        assert_eq!(
            messages(RULE, &heart, &[[2.0, 2.0, 4.0, 4.0]]),
            ["lesion and a overlap by 100% of the smaller one (16 px); rule 'r' allows 10%"]
        );
    }
}
