//! `adjacency`: the contact between `a` and `b` (`b`'s pixels next to `a`) must lie in
//! [min_contact, max_contact]: at least one pixel when `touch`, none when not, unless bounds are
//! given. Highlights the contact (or `a`, when there is none).

use super::text::bounds_text;
use super::{Ctx, finding};
use crate::rules::eval::Finding;
use crate::rules::expr::Expr;

pub(super) fn check(ctx: Ctx, a: &Expr, b: &Expr, touch: bool, min_contact: f64, max_contact: f64) -> Vec<Finding> {
    let Ctx { id, m, source, regions } = ctx;
    let (ma, mb) = (m.region(a, source), m.region(b, regions));
    if ma.area() == 0 || mb.area() == 0 {
        return vec![];
    }
    let contact = ma.dilate(1.5).intersection(&mb);
    let c = contact.area() as f64;
    if c >= min_contact && c <= max_contact {
        return vec![];
    }
    let msg = if !touch || c > max_contact {
        format!(
            "{a} touches {b} along {c:.0} px; rule '{id}' allows {}",
            if max_contact == 0.0 {
                "no contact".to_string()
            } else {
                format!("at most {max_contact:.0} px")
            }
        )
    } else {
        format!("{a} touches {b} along {c:.0} px; rule '{id}' needs at least {min_contact:.0} px of contact")
    };
    vec![finding(
        c,
        bounds_text(min_contact, max_contact, |x| format!("{x:.0} px")),
        msg,
        Some(if c > 0.0 { contact } else { (*ma).clone() }),
    )]
}

#[cfg(test)]
mod tests {
    use super::super::test_case::{Canvas, messages};

    #[test]
    fn masks_that_must_not_touch_are_flagged_when_they_do() {
        let rule = "kind = \"adjacency\"\na = \"a\"\nb = \"b\"\ntouch = false\n";
        let apart = Canvas::new().rect(0, 0, 8, 8, 1).rect(20, 20, 28, 28, 2);
        assert!(messages(rule, &apart, &[]).is_empty());
        let touching = Canvas::new().rect(0, 0, 8, 8, 1).rect(8, 0, 16, 8, 2);
        assert_eq!(
            messages(rule, &touching, &[]),
            ["a touches b along 8 px; rule 'r' allows no contact"]
        );
    }

    #[test]
    fn masks_that_must_touch_are_flagged_when_they_do_not() {
        let rule = "kind = \"adjacency\"\na = \"a\"\nb = \"b\"\nmin_contact = 3\n";
        let touching = Canvas::new().rect(0, 0, 8, 8, 1).rect(8, 0, 16, 8, 2);
        assert!(messages(rule, &touching, &[]).is_empty());
        let apart = Canvas::new().rect(0, 0, 8, 8, 1).rect(20, 20, 28, 28, 2);
        assert_eq!(
            messages(rule, &apart, &[]),
            ["a touches b along 0 px; rule 'r' needs at least 3 px of contact"]
        );
    }
}
