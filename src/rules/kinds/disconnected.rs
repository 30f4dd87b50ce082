//! `disconnected`: at most `max` pixels of the subject may lie outside its largest 8-connected
//! piece. Highlights the other pieces.

use super::text::allowance_px;
use super::{Ctx, finding};
use crate::geometry::{Runs, measure};
use crate::rules::eval::Finding;
use crate::rules::expr::Expr;

pub(super) fn check(ctx: Ctx, subjects: &[Expr], max: f64) -> Vec<Finding> {
    let Ctx { id, m, source, .. } = ctx;
    subjects
        .iter()
        .filter_map(|s| {
            let (n, px) = measure::disconnected_pixels(&m.region(s, source).to_mask());
            (n as f64 > max).then(|| {
                finding(
                    n as f64,
                    format!("at most {max:.0} px"),
                    format!(
                        "{n} px of {s} lie outside its largest piece; rule '{id}' allows {}",
                        allowance_px(max)
                    ),
                    Some(Runs::from_mask(&px)),
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::test_case::{Canvas, findings, messages};

    #[test]
    fn pixels_off_the_largest_piece_are_flagged_one_piece_is_not() {
        let rule = "kind = \"disconnected\"\nsubject = \"a\"\n";
        assert!(messages(rule, &Canvas::new().rect(0, 0, 8, 8, 1), &[]).is_empty());
        let two = Canvas::new().rect(0, 0, 8, 8, 1).rect(20, 20, 22, 22, 1);
        let f = findings(rule, &two, &[]);
        assert_eq!(
            f[0].message,
            "4 px of a lie outside its largest piece; rule 'r' allows none"
        );
        assert_eq!(f[0].highlight.as_ref().map(|h| h.area()), Some(4));
    }
}
