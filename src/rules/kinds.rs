//! The rule kinds: [`check`] hands a rule to its kind's file (one per kind, `kinds/*.rs`),
//! which measures, compares with the bound and says what is wrong in a sentence a radiologist
//! accepts, with the pixels to highlight. The sentences' shared wording is in `kinds/text.rs`.

mod adjacency;
mod area;
mod circularity;
mod components;
mod concavity_depth;
mod containment;
mod count;
mod disconnected;
mod enclosure;
mod exclusion;
mod frontier;
mod gap_between;
mod gap_distance;
mod hole_area;
mod holes;
mod presence;
mod relative_position;
mod shape;
mod symmetry;
#[cfg(test)]
mod test_case;
mod text;
mod width_ratio;

use super::eval::{CaseMasks, Finding};
use super::spec::{Kind, Rule};
use crate::geometry::Runs;
use crate::pack::Source;
use crate::rules::expr::Expr;

/// What every kind is checked on: the rule's id (its sentences name it), the case's masks, the
/// source being checked (subjects, `a`) and the source of the regions (`region`, `b`,
/// `relative_to`).
#[derive(Clone, Copy)]
struct Ctx<'a, 'p> {
    id: &'a str,
    m: &'a CaseMasks<'p>,
    source: Source,
    regions: Source,
}

impl Ctx<'_, '_> {
    /// A region expression as the sentence names it: "the ground truth's lungs" where the
    /// regions come from the ground truth and the subject from a run.
    fn region_name(&self, e: &Expr) -> String {
        if self.regions != self.source && self.regions == Source::GroundTruth {
            format!("the ground truth's {e}")
        } else {
            e.to_string()
        }
    }

    fn img_area(&self) -> f64 {
        (self.m.width as f64) * (self.m.height as f64)
    }
}

fn finding(value: f64, bound: String, message: String, highlight: Option<Runs>) -> Finding {
    Finding {
        instance: None,
        value,
        bound,
        message,
        highlight,
    }
}

/// Evaluate one rule for one source of one case.
pub fn check(rule: &Rule, m: &CaseMasks, source: Source, regions: Source) -> Vec<Finding> {
    let ctx = Ctx {
        id: &rule.id,
        m,
        source,
        regions,
    };
    match &rule.kind {
        Kind::Containment {
            subjects,
            region,
            min_fraction,
        } => containment::check(ctx, subjects, region, *min_fraction),
        Kind::Exclusion { a, b, max_fraction } => exclusion::check(ctx, a, b, *max_fraction),
        Kind::Components {
            subjects,
            min,
            max,
            min_area,
        } => components::check(ctx, subjects, *min, *max, *min_area),
        Kind::Holes {
            subjects,
            max,
            min_area,
        } => holes::check(ctx, subjects, *max, *min_area),
        Kind::Area {
            subjects,
            min,
            max,
            relative_to,
            min_mm2,
            max_mm2,
        } => area::check(ctx, subjects, *min, *max, relative_to.as_ref(), *min_mm2, *max_mm2),
        Kind::RelativePosition { a, b, relation, margin } => relative_position::check(ctx, a, b, *relation, *margin),
        Kind::Enclosure { a, b, tolerance } => enclosure::check(ctx, a, b, *tolerance),
        Kind::Adjacency {
            a,
            b,
            touch,
            min_contact,
            max_contact,
        } => adjacency::check(ctx, a, b, *touch, *min_contact, *max_contact),
        Kind::Symmetry { a, b, min, max } => symmetry::check(ctx, a, b, *min, *max),
        Kind::WidthRatio { a, b, min, max } => width_ratio::check(ctx, a, b, *min, *max),
        Kind::Shape {
            subjects,
            min_solidity,
            max_aspect,
        } => shape::check(ctx, subjects, *min_solidity, *max_aspect),
        Kind::Count {
            class,
            min,
            max,
            min_score,
        } => count::check(ctx, class, *min, *max, *min_score),
        Kind::Presence {
            subjects,
            present,
            min_area,
        } => presence::check(ctx, subjects, *present, *min_area),
        Kind::HoleArea {
            subjects,
            max,
            allow_filled_by,
        } => hole_area::check(ctx, subjects, *max, allow_filled_by.as_ref()),
        Kind::Disconnected { subjects, max } => disconnected::check(ctx, subjects, *max),
        Kind::GapBetween { a, b, max } => gap_between::check(ctx, a, b, *max),
        Kind::GapDistance { a, b, max, mm } => gap_distance::check(ctx, a, b, *max, *mm),
        Kind::Frontier { a, b, max } => frontier::check(ctx, a, b, *max),
        Kind::ConcavityDepth { subjects, max, mm } => concavity_depth::check(ctx, subjects, *max, *mm),
        Kind::Circularity { subjects, min } => circularity::check(ctx, subjects, *min),
    }
}
