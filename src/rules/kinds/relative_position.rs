//! `relative_position`: `a`'s centroid must lie `relation` `b`'s centroid by at least `margin`
//! pixels; `left_of`, `right_of`, `above`, `below` are in the image, `patient_left_of` and
//! `patient_right_of` go through the rules file's `orientation`. Highlights `a`.

use super::{Ctx, finding};
use crate::rules::eval::Finding;
use crate::rules::expr::Expr;
use crate::rules::spec::{Orientation, Relation};

pub(super) fn check(ctx: Ctx, a: &Expr, b: &Expr, relation: Relation, margin: f64) -> Vec<Finding> {
    let Ctx { id, m, source, regions } = ctx;
    let (ma, mb) = (m.region(a, source), m.region(b, regions));
    let (Some(ca), Some(cb)) = (ma.centroid(), mb.centroid()) else {
        return vec![];
    };
    let radiological = m.rules.orientation == Orientation::Radiological;
    // the distance in the required direction (positive when satisfied)
    let (d, words) = match relation {
        Relation::LeftOf => (cb.0 - ca.0, "left of"),
        Relation::RightOf => (ca.0 - cb.0, "right of"),
        Relation::Above => (cb.1 - ca.1, "above"),
        Relation::Below => (ca.1 - cb.1, "below"),
        Relation::PatientLeftOf => (
            if radiological { ca.0 - cb.0 } else { cb.0 - ca.0 },
            "on the patient's left of",
        ),
        Relation::PatientRightOf => (
            if radiological { cb.0 - ca.0 } else { ca.0 - cb.0 },
            "on the patient's right of",
        ),
    };
    if d >= margin {
        return vec![];
    }
    let opposite = match relation {
        Relation::LeftOf => "right of",
        Relation::RightOf => "left of",
        Relation::Above => "below",
        Relation::Below => "above",
        Relation::PatientLeftOf => "on the patient's right of",
        Relation::PatientRightOf => "on the patient's left of",
    };
    let now = if d < 0.0 {
        format!("lies {:.0} px {opposite}", -d)
    } else {
        format!("is only {d:.0} px {words}")
    };
    let need = if margin > 0.0 {
        format!("{words} {b}'s centre by at least {margin:.0} px")
    } else {
        format!("{words} {b}'s centre")
    };
    vec![finding(
        d,
        format!("≥ {margin:.0} px"),
        format!("{a}'s centre {now} {b}'s centre; rule '{id}' needs it {need}"),
        Some((*ma).clone()),
    )]
}

#[cfg(test)]
mod tests {
    use super::super::test_case::{Canvas, messages, messages_with};

    #[test]
    fn a_mask_on_the_wrong_side_is_flagged_one_on_the_right_side_is_not() {
        let rule = "kind = \"relative_position\"\na = \"a\"\nb = \"b\"\nrelation = \"left_of\"\n";
        let left = Canvas::new().rect(0, 0, 8, 8, 1).rect(20, 0, 28, 8, 2);
        assert!(messages(rule, &left, &[]).is_empty());
        let right = Canvas::new().rect(20, 0, 28, 8, 1).rect(0, 0, 8, 8, 2);
        assert_eq!(
            messages(rule, &right, &[]),
            ["a's centre lies 20 px right of b's centre; rule 'r' needs it left of b's centre"]
        );
        let rule = "kind = \"relative_position\"\na = \"a\"\nb = \"b\"\nrelation = \"left_of\"\nmargin = 30\n";
        assert_eq!(
            messages(rule, &left, &[]),
            ["a's centre is only 20 px left of b's centre; rule 'r' needs it left of b's centre by at least 30 px"]
        );
    }

    #[test]
    fn the_patients_left_follows_the_orientation() {
        let rule = "kind = \"relative_position\"\na = \"a\"\nb = \"b\"\nrelation = \"patient_left_of\"\n";
        // radiological: the patient's left is on the image's right
        let image_right = Canvas::new().rect(20, 0, 28, 8, 1).rect(0, 0, 8, 8, 2);
        assert!(messages(rule, &image_right, &[]).is_empty());
        let anatomical = "[settings]\norientation = \"anatomical\"\n";
        assert_eq!(
            messages_with(anatomical, rule, &image_right, &[]),
            [
                "a's centre lies 20 px on the patient's right of b's centre; rule 'r' needs it on the patient's left of b's centre"
            ]
        );
    }
}
