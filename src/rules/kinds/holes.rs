//! `holes`: the subject may have at most `max` holes of at least `min_area` pixels (holes are
//! 4-connected pieces of background it encloses). Highlights the holes.

use super::{Ctx, finding};
use crate::geometry::components::Connectivity;
use crate::rules::eval::Finding;
use crate::rules::expr::Expr;

pub(super) fn check(ctx: Ctx, subjects: &[Expr], max: u32, min_area: f64) -> Vec<Finding> {
    let Ctx { id, m, source, .. } = ctx;
    subjects
        .iter()
        .filter_map(|s| {
            let mask = m.region(s, source);
            if mask.area() == 0 {
                return None;
            }
            let (holes, hole_px) = mask.holes(Connectivity::Eight, min_area);
            let n = holes.len() as u32;
            if n <= max {
                return None;
            }
            let hole_px = Some(hole_px);
            let sizes: Vec<String> = holes.iter().map(|h| format!("{} px", h.area)).collect();
            Some(finding(
                n as f64,
                format!("≤ {max}"),
                format!(
                    "{s} has {n} hole{} ({}); rule '{id}' allows {max}{}",
                    if n == 1 { "" } else { "s" },
                    sizes.join(", "),
                    if min_area > 0.0 {
                        format!(" larger than {min_area:.0} px")
                    } else {
                        String::new()
                    }
                ),
                hole_px,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::test_case::{Canvas, findings, messages};

    const RULE: &str = "kind = \"holes\"\nsubject = \"a\"\nmax = 0\nmin_area = 2\n";

    #[test]
    fn a_mask_with_a_hole_is_flagged_a_solid_one_and_pinholes_are_not() {
        let solid = Canvas::new().rect(4, 4, 20, 20, 1).rect(6, 6, 7, 7, 0);
        assert!(messages(RULE, &solid, &[]).is_empty());
        let ring = Canvas::new().rect(4, 4, 20, 20, 1).rect(8, 8, 12, 12, 0);
        let f = findings(RULE, &ring, &[]);
        assert_eq!(f[0].message, "a has 1 hole (16 px); rule 'r' allows 0 larger than 2 px");
        assert_eq!(f[0].highlight.as_ref().map(|h| h.area()), Some(16));
    }
}
