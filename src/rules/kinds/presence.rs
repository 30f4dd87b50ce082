//! `presence`: a required subject (`present = true`, the default) must cover at least
//! `min_area` pixels; a forbidden one (`present = false`) must not. Highlights a forbidden
//! subject.

use super::{Ctx, finding};
use crate::rules::eval::Finding;
use crate::rules::expr::Expr;

pub(super) fn check(ctx: Ctx, subjects: &[Expr], present: bool, min_area: f64) -> Vec<Finding> {
    let Ctx { id, m, source, .. } = ctx;
    subjects
        .iter()
        .filter_map(|s| {
            let mask = m.region(s, source);
            let area = mask.area() as f64;
            let is_present = area >= min_area;
            match (present, is_present) {
                (true, false) => Some(finding(
                    area,
                    format!("≥ {min_area:.0} px"),
                    format!("{s} is missing ({area:.0} px); rule '{id}' needs it present"),
                    None,
                )),
                (false, true) => Some(finding(
                    area,
                    "absent".into(),
                    format!("{s} is present ({area:.0} px); rule '{id}' needs it absent"),
                    Some((*mask).clone()),
                )),
                _ => None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::test_case::{Canvas, messages};

    #[test]
    fn a_missing_structure_is_flagged_a_present_one_is_not() {
        let rule = "kind = \"presence\"\nsubject = \"a\"\nmin_area = 10\n";
        assert!(messages(rule, &Canvas::new().rect(0, 0, 4, 4, 1), &[]).is_empty());
        assert_eq!(
            messages(rule, &Canvas::new().rect(0, 0, 3, 3, 1), &[]),
            ["a is missing (9 px); rule 'r' needs it present"]
        );
    }

    #[test]
    fn a_forbidden_structure_is_flagged_when_present() {
        let rule = "kind = \"presence\"\nsubject = \"b\"\npresent = false\n";
        assert!(messages(rule, &Canvas::new().rect(0, 0, 4, 4, 1), &[]).is_empty());
        assert_eq!(
            messages(rule, &Canvas::new().rect(0, 0, 4, 4, 2), &[]),
            ["b is present (16 px); rule 'r' needs it absent"]
        );
    }
}
