//! One function per rule kind: measure, compare with the bound, and say what is wrong in a
//! sentence a radiologist accepts, with the pixels to highlight.

use super::eval::{CaseMasks, Finding};
use super::spec::{Kind, Orientation, Relation, Rule};
use crate::geometry::components::Connectivity;
use crate::geometry::{Runs, measure};
use crate::pack::Source;

fn pct(x: f64) -> String {
    let p = x * 100.0;
    if (p - p.round()).abs() < 0.05 {
        format!("{:.0}%", p)
    } else {
        format!("{p:.1}%")
    }
}

fn range_text(min: u32, max: u32) -> String {
    if min == max {
        format!("exactly {min}")
    } else if max >= 1_000_000 {
        format!("at least {min}")
    } else {
        format!("{min} to {max}")
    }
}

fn bounds_text(min: f64, max: f64, show: impl Fn(f64) -> String) -> String {
    match (min > 0.0, max < f64::MAX / 2.0) {
        (true, true) => format!("between {} and {}", show(min), show(max)),
        (true, false) => format!("at least {}", show(min)),
        (false, true) => format!("at most {}", show(max)),
        (false, false) => "any value".into(),
    }
}

/// "none" or "at most N px", for pixel-count bounds.
fn allowance_px(max: f64) -> String {
    if max == 0.0 {
        "none".to_string()
    } else {
        format!("at most {max:.0} px")
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
    let id = &rule.id;
    let img_area = (m.width as f64) * (m.height as f64);
    match &rule.kind {
        Kind::Containment {
            subjects,
            region,
            min_fraction,
        } => {
            // the region is built only when there is something to check against it
            let r = std::cell::OnceCell::new();
            let r = || r.get_or_init(|| m.region(region, regions));
            let mut out = Vec::new();
            for class in subjects {
                let Some(c) = m.pack.class_by_name(class) else { continue };
                let insts: Vec<(usize, &crate::pack::Instance)> = m
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
                    if frac < *min_fraction {
                        let outside = s.minus(r());
                        out.push(Finding {
                            instance: k,
                            value: frac,
                            bound: format!("≥ {}", pct(*min_fraction)),
                            message: format!(
                                "{label}: {} of its area lies outside {region}; rule '{id}' needs at least {} inside",
                                pct(1.0 - frac),
                                pct(*min_fraction)
                            ),
                            highlight: Some(outside),
                        });
                    }
                }
            }
            out
        }
        Kind::Exclusion { a, b, max_fraction } => {
            let ma = m.region(a, source);
            if ma.is_empty() {
                return vec![];
            }
            let mb = m.region(b, regions);
            let (aa, ab) = (ma.area(), mb.area());
            if ab == 0 {
                return vec![];
            }
            let both = ma.intersection(&mb);
            let frac = both.area() as f64 / aa.min(ab) as f64;
            if frac > *max_fraction {
                return vec![finding(
                    frac,
                    format!("≤ {}", pct(*max_fraction)),
                    format!(
                        "{a} and {b} overlap by {} of the smaller one ({} px); rule '{id}' allows {}",
                        pct(frac),
                        both.area(),
                        pct(*max_fraction)
                    ),
                    Some(both),
                )];
            }
            vec![]
        }
        Kind::Components {
            subjects,
            min,
            max,
            min_area,
        } => subjects
            .iter()
            .filter_map(|s| {
                let mask = m.region(s, source);
                if mask.is_empty() {
                    return None;
                }
                let (ids, comps) = mask.label(Connectivity::Eight);
                let counted: Vec<usize> = (0..comps.len())
                    .filter(|&i| comps[i].area as f64 >= *min_area)
                    .collect();
                let n = counted.len() as u32;
                if n >= *min && n <= *max {
                    return None;
                }
                let largest = counted.iter().copied().max_by_key(|&i| comps[i].area);
                let extra = Some(mask.select(&ids, |id| Some(id as usize) != largest));
                let big = largest.map(|i| comps[i].area).unwrap_or(0);
                let specks = if *min_area > 0.0 {
                    format!("; specks under {min_area:.0} px ignored")
                } else {
                    String::new()
                };
                Some(finding(
                    n as f64,
                    range_text(*min, *max),
                    format!(
                        "{s} is in {n} piece{} (largest {big} px{specks}); rule '{id}' allows {}",
                        if n == 1 { "" } else { "s" },
                        range_text(*min, *max)
                    ),
                    extra,
                ))
            })
            .collect(),
        Kind::Holes {
            subjects,
            max,
            min_area,
        } => subjects
            .iter()
            .filter_map(|s| {
                let mask = m.region(s, source);
                if mask.area() == 0 {
                    return None;
                }
                let (holes, hole_px) = mask.holes(Connectivity::Eight, *min_area);
                let n = holes.len() as u32;
                if n <= *max {
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
                        if *min_area > 0.0 {
                            format!(" larger than {min_area:.0} px")
                        } else {
                            String::new()
                        }
                    ),
                    hole_px,
                ))
            })
            .collect(),
        Kind::Area {
            subjects,
            min,
            max,
            relative_to,
            min_mm2,
            max_mm2,
        } => subjects
            .iter()
            .filter_map(|s| {
                let mask = m.region(s, source);
                let area = mask.area() as f64;
                if area == 0.0 {
                    return None;
                }
                if let (Some(per_px), true) = (m.mm2_per_px, min_mm2.is_some() || max_mm2.is_some()) {
                    let (lo, hi) = (min_mm2.unwrap_or(0.0), max_mm2.unwrap_or(f64::INFINITY));
                    let mm2 = area * per_px;
                    let show = |v: f64| {
                        if v >= 1000.0 {
                            format!("{:.1} cm²", v / 100.0)
                        } else {
                            format!("{v:.0} mm²")
                        }
                    };
                    if mm2 < lo || mm2 > hi {
                        let bound = bounds_text(lo, hi, show);
                        return Some(finding(
                            mm2,
                            bound.clone(),
                            format!("{s} covers {}; rule '{id}' needs {bound}", show(mm2)),
                            Some((*mask).clone()),
                        ));
                    }
                }
                if *min <= 0.0 && max.is_infinite() {
                    return None;
                }
                let (denom, of) = match relative_to {
                    Some(r) => (m.region(r, regions).area() as f64, format!("of {r}")),
                    None => (img_area, "of the image".to_string()),
                };
                if denom == 0.0 {
                    return None;
                }
                let frac = area / denom;
                if frac >= *min && frac <= *max {
                    return None;
                }
                Some(finding(
                    frac,
                    bounds_text(*min, *max, pct),
                    format!(
                        "{s} covers {} {of}; rule '{id}' needs {}",
                        pct(frac),
                        bounds_text(*min, *max, pct)
                    ),
                    Some((*mask).clone()),
                ))
            })
            .collect(),
        Kind::RelativePosition { a, b, relation, margin } => {
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
            if d >= *margin {
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
            let need = if *margin > 0.0 {
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
        Kind::Enclosure { a, b, tolerance } => {
            let (ma, mb) = (m.region(a, source), m.region(b, regions));
            if ma.area() == 0 {
                return vec![];
            }
            let ring = ma.dilate(1.5).minus(&ma);
            let n = ring.area();
            if n == 0 {
                return vec![];
            }
            let touching = ring.intersection_area(&mb);
            let frac = touching as f64 / n as f64;
            if frac >= 1.0 - tolerance {
                return vec![];
            }
            let gap = ring.minus(&mb);
            vec![finding(
                frac,
                format!("≥ {}", pct(1.0 - tolerance)),
                format!(
                    "{b} surrounds only {} of {a}'s border; rule '{id}' needs {}",
                    pct(frac),
                    pct(1.0 - tolerance)
                ),
                Some(gap),
            )]
        }
        Kind::Adjacency {
            a,
            b,
            touch,
            min_contact,
            max_contact,
        } => {
            let (ma, mb) = (m.region(a, source), m.region(b, regions));
            if ma.area() == 0 || mb.area() == 0 {
                return vec![];
            }
            let contact = ma.dilate(1.5).intersection(&mb);
            let c = contact.area() as f64;
            if c >= *min_contact && c <= *max_contact {
                return vec![];
            }
            let msg = if !touch || c > *max_contact {
                format!(
                    "{a} touches {b} along {c:.0} px; rule '{id}' allows {}",
                    if *max_contact == 0.0 {
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
                bounds_text(*min_contact, *max_contact, |x| format!("{x:.0} px")),
                msg,
                Some(if c > 0.0 { contact } else { (*ma).clone() }),
            )]
        }
        Kind::Symmetry { a, b, min, max } => {
            let (ma, mb) = (m.region(a, source), m.region(b, regions));
            let (aa, ab) = (ma.area() as f64, mb.area() as f64);
            if aa == 0.0 || ab == 0.0 {
                return vec![];
            }
            let ratio = aa / ab;
            if ratio >= *min && ratio <= *max {
                return vec![];
            }
            let smaller = if aa < ab { ma } else { mb };
            vec![finding(
                ratio,
                format!("{min:.2}..{max:.2}"),
                format!("{a} is {ratio:.2}× the area of {b}; rule '{id}' needs {min:.2} to {max:.2}"),
                Some((*smaller).clone()),
            )]
        }
        Kind::Shape {
            subjects,
            min_solidity,
            max_aspect,
        } => subjects
            .iter()
            .filter_map(|s| {
                let mask = m.region(s, source);
                let area = mask.area();
                if area == 0 {
                    return None;
                }
                let hull = mask.convex_hull();
                let solidity = area as f64 / hull.area().max(1) as f64;
                let bb = mask.bbox()?;
                let aspect = bb.w.max(bb.h) / bb.w.min(bb.h).max(1.0);
                if let Some(min) = min_solidity
                    && solidity < *min
                {
                    return Some(finding(
                        solidity,
                        format!("≥ {min:.2}"),
                        format!(
                            "{s} fills only {} of its convex hull (solidity {solidity:.2}); rule '{id}' needs {min:.2}",
                            pct(solidity)
                        ),
                        Some(hull.minus(&mask)),
                    ));
                }
                if let Some(max) = max_aspect
                    && aspect > *max
                {
                    return Some(finding(
                        aspect,
                        format!("≤ {max:.1}"),
                        format!("{s} is {aspect:.1}× as long as it is wide; rule '{id}' allows {max:.1}"),
                        Some((*mask).clone()),
                    ));
                }
                None
            })
            .collect(),
        Kind::Count {
            class,
            min,
            max,
            min_score,
        } => {
            let Some(c) = m.pack.class_by_name(class) else {
                return vec![];
            };
            let found: Vec<&crate::pack::Instance> = m
                .instances(source)
                .iter()
                .filter(|i| i.class == c.id && i.score.is_none_or(|s| s >= *min_score))
                .collect();
            let n = found.len() as u32;
            if n >= *min && n <= *max {
                return vec![];
            }
            let boxes = found
                .iter()
                .fold(Runs::empty(m.width, m.height), |acc, i| acc.union(&m.instance_runs(i)));
            let scored = if *min_score > 0.0 {
                format!(" scoring ≥ {min_score:.2}")
            } else {
                String::new()
            };
            vec![finding(
                n as f64,
                range_text(*min, *max),
                format!(
                    "{n} {class} detection{}{scored}; rule '{id}' allows {}",
                    if n == 1 { "" } else { "s" },
                    range_text(*min, *max)
                ),
                Some(boxes),
            )]
        }
        Kind::Presence {
            subjects,
            present,
            min_area,
        } => subjects
            .iter()
            .filter_map(|s| {
                let mask = m.region(s, source);
                let area = mask.area() as f64;
                let is_present = area >= *min_area;
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
            .collect(),
        Kind::HoleArea {
            subjects,
            max,
            allow_filled_by,
        } => subjects
            .iter()
            .filter_map(|s| {
                let mask = m.region(s, source);
                if mask.is_empty() {
                    return None;
                }
                let (mut n, mut px) = measure::hole_pixels(&mask.to_mask());
                let mut expected = String::new();
                if let (Some(allowed), true) = (allow_filled_by, n > 0) {
                    // the allowed class's first piece is expected to fill a hole (vital's MYO rule)
                    let inside = m.region(allowed, source).to_mask();
                    n = n.saturating_sub(measure::first_component_area(&inside));
                    px = px.minus(&inside).unwrap_or(px);
                    expected = format!(" besides {allowed}");
                }
                (n as f64 > *max).then(|| {
                    finding(
                        n as f64,
                        format!("at most {max:.0} px"),
                        format!(
                            "{s} has {n} px of holes{expected}; rule '{id}' allows {}",
                            allowance_px(*max)
                        ),
                        Some(Runs::from_mask(&px)),
                    )
                })
            })
            .collect(),
        Kind::Disconnected { subjects, max } => subjects
            .iter()
            .filter_map(|s| {
                let (n, px) = measure::disconnected_pixels(&m.region(s, source).to_mask());
                (n as f64 > *max).then(|| {
                    finding(
                        n as f64,
                        format!("at most {max:.0} px"),
                        format!(
                            "{n} px of {s} lie outside its largest piece; rule '{id}' allows {}",
                            allowance_px(*max)
                        ),
                        Some(Runs::from_mask(&px)),
                    )
                })
            })
            .collect(),
        Kind::GapBetween { a, b, max } => {
            let (n, px) = measure::gap_between(&m.region(a, source).to_mask(), &m.region(b, regions).to_mask());
            // pockets at or under H·W/2^14 pixels are the noise morphology leaves behind
            let floor = img_area / 16384.0;
            let n = n as f64;
            if n <= floor || n <= *max {
                return vec![];
            }
            vec![finding(
                n,
                format!("at most {:.0} px", max.max(floor)),
                format!(
                    "{n:.0} px of background are enclosed between {a} and {b}; rule '{id}' allows at most {:.0} px",
                    max.max(floor)
                ),
                Some(Runs::from_mask(&px)),
            )]
        }
        Kind::GapDistance { a, b, max, mm } => {
            let (ma, mb) = (m.region(a, source), m.region(b, regions));
            let Some(d) = measure::gap_distance(&ma.to_mask(), &mb.to_mask()) else {
                return vec![];
            };
            let (d, unit) = if *mm {
                (d * m.mm_per_px.unwrap_or(1.0), "mm")
            } else {
                (d, "px")
            };
            if d <= *max {
                return vec![];
            }
            vec![finding(
                d,
                format!("at most {max} {unit}"),
                format!("{a} is {d:.1} {unit} away from {b}; rule '{id}' needs at most {max} {unit}"),
                Some((*ma).clone()),
            )]
        }
        Kind::Frontier { a, b, max } => {
            let (n, px) = measure::frontier(&m.region(a, source).to_mask(), &m.region(b, regions).to_mask());
            if n as f64 <= *max {
                return vec![];
            }
            vec![finding(
                n as f64,
                format!("at most {max:.0} px"),
                format!("{n} px of {a} touch {b}; rule '{id}' allows at most {max:.0} px"),
                Some(Runs::from_mask(&px)),
            )]
        }
        Kind::ConcavityDepth { subjects, max, mm } => subjects
            .iter()
            .filter_map(|s| {
                let (d, dent) = measure::concavity_depth(&m.region(s, source).to_mask())?;
                let (d, unit) = if *mm {
                    (d * m.mm_per_px.unwrap_or(1.0), "mm")
                } else {
                    (d, "px")
                };
                (d > *max).then(|| {
                    finding(
                        d,
                        format!("at most {max} {unit}"),
                        format!("{s} has a dent {d:.1} {unit} deep; rule '{id}' allows at most {max} {unit}"),
                        Some(Runs::from_mask(&dent)),
                    )
                })
            })
            .collect(),
        Kind::Circularity { subjects, min } => subjects
            .iter()
            .filter_map(|s| {
                let mask = m.region(s, source).to_mask();
                let c = measure::circularity(&mask)?;
                (c < *min).then(|| {
                    let rim = mask.minus(&measure::erode_square(&mask)).unwrap_or(mask);
                    finding(
                        c,
                        format!("at least {min}"),
                        format!("{s} has circularity {c:.2} (a disc has 1); rule '{id}' needs at least {min}"),
                        Some(Runs::from_mask(&rim)),
                    )
                })
            })
            .collect(),
    }
}
