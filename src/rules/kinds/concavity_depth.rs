//! `concavity_depth`: the hole-filled subject's deepest dent (the largest distance from the
//! hull's outside over the eroded hull ∖ shape) must be at most `max` pixels (`max_mm`
//! millimetres). Highlights the dent.

use super::{Ctx, finding};
use crate::geometry::{Runs, measure};
use crate::rules::eval::Finding;
use crate::rules::expr::Expr;

pub(super) fn check(ctx: Ctx, subjects: &[Expr], max: f64, mm: bool) -> Vec<Finding> {
    let Ctx { id, m, source, .. } = ctx;
    subjects
        .iter()
        .filter_map(|s| {
            let (d, dent) = measure::concavity_depth(&m.region(s, source).to_mask())?;
            let (d, unit) = if mm {
                (d * m.mm_per_px.unwrap_or(1.0), "mm")
            } else {
                (d, "px")
            };
            (d > max).then(|| {
                finding(
                    d,
                    format!("at most {max} {unit}"),
                    format!("{s} has a dent {d:.1} {unit} deep; rule '{id}' allows at most {max} {unit}"),
                    Some(Runs::from_mask(&dent)),
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::test_case::{Canvas, findings, messages};

    #[test]
    fn a_deep_notch_is_flagged_a_convex_mask_is_not() {
        let rule = "kind = \"concavity_depth\"\nsubject = \"a\"\nmax = 2\n";
        assert!(messages(rule, &Canvas::new().rect(4, 4, 28, 28, 1), &[]).is_empty());
        // a U: a 8×16 notch cut from the top
        let u = Canvas::new().rect(4, 4, 28, 28, 1).rect(12, 4, 20, 20, 0);
        let f = findings(rule, &u, &[]);
        assert_eq!(f.len(), 1);
        assert!(
            f[0].message.starts_with("a has a dent ")
                && f[0].message.ends_with(" px deep; rule 'r' allows at most 2 px"),
            "{}",
            f[0].message
        );
        assert!(f[0].value > 2.0 && f[0].highlight.as_ref().is_some_and(|h| h.area() > 0));
    }
}
