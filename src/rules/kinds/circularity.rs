//! `circularity`: the isoperimetric ratio 4πA/P² of the hole-filled subject (scikit-image's
//! 4-neighbourhood perimeter; a disc has 1) must be at least `min`. Highlights the outline.

use super::{Ctx, finding};
use crate::geometry::{Runs, measure};
use crate::rules::eval::Finding;
use crate::rules::expr::Expr;

pub(super) fn check(ctx: Ctx, subjects: &[Expr], min: f64) -> Vec<Finding> {
    let Ctx { id, m, source, .. } = ctx;
    subjects
        .iter()
        .filter_map(|s| {
            let mask = m.region(s, source).to_mask();
            let c = measure::circularity(&mask)?;
            (c < min).then(|| {
                let rim = mask.minus(&measure::erode_square(&mask)).unwrap_or(mask);
                finding(
                    c,
                    format!("at least {min}"),
                    format!("{s} has circularity {c:.2} (a disc has 1); rule '{id}' needs at least {min}"),
                    Some(Runs::from_mask(&rim)),
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::test_case::{Canvas, findings, messages};

    #[test]
    fn a_thin_sliver_is_flagged_a_compact_mask_is_not() {
        let rule = "kind = \"circularity\"\nsubject = \"a\"\nmin = 0.5\n";
        assert!(messages(rule, &Canvas::new().rect(8, 8, 24, 24, 1), &[]).is_empty());
        let f = findings(rule, &Canvas::new().rect(2, 10, 30, 12, 1), &[]);
        assert_eq!(f.len(), 1);
        assert!(
            f[0].message.starts_with("a has circularity 0.")
                && f[0].message.ends_with(" (a disc has 1); rule 'r' needs at least 0.5"),
            "{}",
            f[0].message
        );
        assert!(f[0].value < 0.5);
    }
}
