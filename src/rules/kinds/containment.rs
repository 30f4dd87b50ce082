//! `containment`: each instance of the subject classes (each box or instance mask; a class drawn
//! only in a label mask, as a whole) must have at least `min_fraction` of its area inside the
//! region. Highlights the part outside.

use super::Ctx;
use super::text::pct;
use crate::geometry::Runs;
use crate::pack::Instance;
use crate::rules::eval::Finding;
use crate::rules::expr::Expr;

pub(super) fn check(ctx: Ctx, subjects: &[String], region: &Expr, min_fraction: f64) -> Vec<Finding> {
    let Ctx { id, m, source, regions } = ctx;
    // the region is built only when there is something to check against it
    let r = std::cell::OnceCell::new();
    let r = || r.get_or_init(|| m.region(region, regions));
    let mut out = Vec::new();
    for class in subjects {
        let Some(c) = m.pack.class_by_name(class) else { continue };
        let insts: Vec<(usize, &Instance)> = m
            .instances(source)
            .iter()
            .enumerate()
            .filter(|(_, i)| i.class == c.id)
            .collect();
        // findings are checked one by one; a class drawn only as a label mask, as a whole
        let pieces: Vec<(Option<usize>, String, Runs)> = if insts.is_empty() {
            match m.class(class, source) {
                Some(whole) if !whole.is_empty() => vec![(None, class.clone(), (*whole).clone())],
                _ => vec![],
            }
        } else {
            insts
                .iter()
                .map(|(k, i)| {
                    let label = match i.score {
                        Some(s) => format!("{class} #{} (score {s:.2})", k + 1),
                        None => format!("{class} #{}", k + 1),
                    };
                    (Some(*k), label, m.instance_runs(i))
                })
                .collect()
        };
        for (k, label, s) in pieces {
            let area = s.area();
            if area == 0 {
                continue;
            }
            let inside = s.intersection_area(r());
            let frac = inside as f64 / area as f64;
            if frac < min_fraction {
                let outside = s.minus(r());
                out.push(Finding {
                    instance: k,
                    value: frac,
                    bound: format!("≥ {}", pct(min_fraction)),
                    message: format!(
                        "{label}: {} of its area lies outside {region}; rule '{id}' needs at least {} inside",
                        pct(1.0 - frac),
                        pct(min_fraction)
                    ),
                    highlight: Some(outside),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::test_case::{Canvas, messages};

    const RULE: &str = "kind = \"containment\"\nsubject = \"lesion\"\nregion = \"a\"\nmin_fraction = 0.9\n";

    #[test]
    fn a_lesion_outside_its_region_is_flagged_one_inside_is_not() {
        let lung = Canvas::new().rect(0, 0, 16, 32, 1);
        assert!(messages(RULE, &lung, &[[2.0, 2.0, 4.0, 4.0]]).is_empty());
        assert_eq!(
            messages(RULE, &lung, &[[2.0, 2.0, 4.0, 4.0], [20.0, 20.0, 4.0, 4.0]]),
            ["lesion #2: 100% of its area lies outside a; rule 'r' needs at least 90% inside"]
        );
    }

    #[test]
    fn a_class_drawn_only_in_the_label_mask_is_checked_as_a_whole() {
        let rule = "kind = \"containment\"\nsubject = \"b\"\nregion = \"dilate(a, 2px)\"\nmin_fraction = 0.5\n";
        let inside = Canvas::new().rect(0, 0, 16, 32, 1).rect(16, 0, 18, 32, 2);
        assert!(messages(rule, &inside, &[]).is_empty());
        let outside = Canvas::new().rect(0, 0, 16, 32, 1).rect(24, 0, 32, 32, 2);
        assert_eq!(
            messages(rule, &outside, &[]),
            ["b: 100% of its area lies outside dilate(a, 2px); rule 'r' needs at least 50% inside"]
        );
    }
}
