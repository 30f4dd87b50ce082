//! `components`: the number of 8-connected pieces of the subject of at least `min_area` pixels
//! must lie in [min, max]. Highlights every piece but the largest.

use super::text::range_text;
use super::{Ctx, finding};
use crate::geometry::components::Connectivity;
use crate::rules::eval::Finding;
use crate::rules::expr::Expr;

pub(super) fn check(ctx: Ctx, subjects: &[Expr], min: u32, max: u32, min_area: f64) -> Vec<Finding> {
    let Ctx { id, m, source, .. } = ctx;
    subjects
        .iter()
        .filter_map(|s| {
            let mask = m.region(s, source);
            if mask.is_empty() {
                return None;
            }
            let (ids, comps) = mask.label(Connectivity::Eight);
            let counted: Vec<usize> = (0..comps.len()).filter(|&i| comps[i].area as f64 >= min_area).collect();
            let n = counted.len() as u32;
            if n >= min && n <= max {
                return None;
            }
            let largest = counted.iter().copied().max_by_key(|&i| comps[i].area);
            let extra = Some(mask.select(&ids, |id| Some(id as usize) != largest));
            let big = largest.map(|i| comps[i].area).unwrap_or(0);
            let specks = if min_area > 0.0 {
                format!("; specks under {min_area:.0} px ignored")
            } else {
                String::new()
            };
            Some(finding(
                n as f64,
                range_text(min, max),
                format!(
                    "{s} is in {n} piece{} (largest {big} px{specks}); rule '{id}' allows {}",
                    if n == 1 { "" } else { "s" },
                    range_text(min, max)
                ),
                extra,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::test_case::{Canvas, findings, messages};

    const RULE: &str = "kind = \"components\"\nsubject = \"a\"\nmin = 1\nmax = 1\nmin_area = 4\n";

    #[test]
    fn a_mask_in_two_pieces_is_flagged_one_piece_and_specks_are_not() {
        let one = Canvas::new().rect(0, 0, 8, 8, 1).rect(20, 20, 21, 21, 1);
        assert!(messages(RULE, &one, &[]).is_empty());
        let two = Canvas::new()
            .rect(0, 0, 8, 8, 1)
            .rect(20, 20, 24, 24, 1)
            .rect(30, 30, 31, 31, 1);
        let f = findings(RULE, &two, &[]);
        assert_eq!(
            f[0].message,
            "a is in 2 pieces (largest 64 px; specks under 4 px ignored); rule 'r' allows exactly 1"
        );
        // every piece but the largest, the speck included
        assert_eq!(f[0].highlight.as_ref().map(|h| h.area()), Some(17));
    }
}
