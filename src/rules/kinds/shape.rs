//! `shape`: the subject's solidity (area / convex-hull area) must be at least `min_solidity`,
//! and its box's long/short side ratio at most `max_aspect`. Highlights the hull's missing
//! part (or the subject, for the aspect).

use super::text::pct;
use super::{Ctx, finding};
use crate::rules::eval::Finding;
use crate::rules::expr::Expr;

pub(super) fn check(ctx: Ctx, subjects: &[Expr], min_solidity: Option<f64>, max_aspect: Option<f64>) -> Vec<Finding> {
    let Ctx { id, m, source, .. } = ctx;
    subjects
        .iter()
        .filter_map(|s| {
            let mask = m.region(s, source);
            let area = mask.area();
            if area == 0 {
                return None;
            }
            let hull = mask.convex_hull();
            let solidity = area as f64 / hull.area().max(1) as f64;
            let bb = mask.bbox()?;
            let aspect = bb.w.max(bb.h) / bb.w.min(bb.h).max(1.0);
            if let Some(min) = min_solidity
                && solidity < min
            {
                return Some(finding(
                    solidity,
                    format!("≥ {min:.2}"),
                    format!(
                        "{s} fills only {} of its convex hull (solidity {solidity:.2}); rule '{id}' needs {min:.2}",
                        pct(solidity)
                    ),
                    Some(hull.minus(&mask)),
                ));
            }
            if let Some(max) = max_aspect
                && aspect > max
            {
                return Some(finding(
                    aspect,
                    format!("≤ {max:.1}"),
                    format!("{s} is {aspect:.1}× as long as it is wide; rule '{id}' allows {max:.1}"),
                    Some((*mask).clone()),
                ));
            }
            None
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::test_case::{Canvas, messages};

    #[test]
    fn a_notched_mask_is_flagged_a_compact_one_is_not() {
        let rule = "kind = \"shape\"\nsubject = \"a\"\nmin_solidity = 0.8\n";
        assert!(messages(rule, &Canvas::new().rect(4, 4, 20, 20, 1), &[]).is_empty());
        // an L: two bars of a 16×16 square, the hull's diagonal half empty
        let l = Canvas::new().rect(4, 4, 20, 8, 1).rect(4, 4, 8, 20, 1);
        let m = messages(rule, &l, &[]);
        assert_eq!(m.len(), 1);
        assert!(
            m[0].starts_with("a fills only ") && m[0].ends_with("; rule 'r' needs 0.80"),
            "{}",
            m[0]
        );
    }

    #[test]
    fn a_long_thin_mask_is_flagged_for_its_aspect() {
        let rule = "kind = \"shape\"\nsubject = \"a\"\nmax_aspect = 3\n";
        assert!(messages(rule, &Canvas::new().rect(4, 4, 20, 12, 1), &[]).is_empty());
        assert_eq!(
            messages(rule, &Canvas::new().rect(2, 4, 30, 8, 1), &[]),
            ["a is 7.0× as long as it is wide; rule 'r' allows 3.0"]
        );
    }
}
