//! `count`: the number of detections of a class scoring at least `min_score` (ground truth,
//! which has no scores, counts every instance) must lie in [min, max]. Highlights the
//! detections.

use super::text::range_text;
use super::{Ctx, finding};
use crate::geometry::Runs;
use crate::pack::Instance;
use crate::rules::eval::Finding;

pub(super) fn check(ctx: Ctx, class: &str, min: u32, max: u32, min_score: f64) -> Vec<Finding> {
    let Ctx { id, m, source, .. } = ctx;
    let Some(c) = m.pack.class_by_name(class) else {
        return vec![];
    };
    let found: Vec<&Instance> = m
        .instances(source)
        .iter()
        .filter(|i| i.class == c.id && i.score.is_none_or(|s| s >= min_score))
        .collect();
    let n = found.len() as u32;
    if n >= min && n <= max {
        return vec![];
    }
    let boxes = found
        .iter()
        .fold(Runs::empty(m.width, m.height), |acc, i| acc.union(&m.instance_runs(i)));
    let scored = if min_score > 0.0 {
        format!(" scoring ≥ {min_score:.2}")
    } else {
        String::new()
    };
    vec![finding(
        n as f64,
        range_text(min, max),
        format!(
            "{n} {class} detection{}{scored}; rule '{id}' allows {}",
            if n == 1 { "" } else { "s" },
            range_text(min, max)
        ),
        Some(boxes),
    )]
}

#[cfg(test)]
mod tests {
    use super::super::test_case::{Canvas, findings, messages};

    const RULE: &str = "kind = \"count\"\nsubject = \"lesion\"\nmax = 1\n";

    #[test]
    fn too_many_detections_are_flagged_a_plausible_number_is_not() {
        let blank = Canvas::new();
        assert!(messages(RULE, &blank, &[[2.0, 2.0, 4.0, 4.0]]).is_empty());
        let f = findings(RULE, &blank, &[[2.0, 2.0, 4.0, 4.0], [20.0, 20.0, 4.0, 4.0]]);
        assert_eq!(f[0].message, "2 lesion detections; rule 'r' allows 0 to 1");
        assert_eq!(f[0].highlight.as_ref().map(|h| h.area()), Some(32));
    }
}
