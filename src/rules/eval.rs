//! Evaluating a rule set: every case, for the ground truth and every run, in parallel. A case's
//! masks are built once per source (label-mask pixels plus rasterised instances of the class)
//! and region expressions are cached per case.

use super::expr::{Expr, Length};
use super::kinds;
use super::spec::{BACKGROUND, RegionsFrom, Rule, RuleSet, Severity};
use crate::formats::label_png;
use crate::geometry::{Rle, Runs};
use crate::pack::{Instance, Pack, Source};
use rayon::prelude::*;
use serde::Serialize;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// One broken rule on one case.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flag {
    pub rule: String,
    pub severity: Severity,
    pub case: usize,
    /// The annotations that break it; `None` for flags on the input image itself.
    pub source: Option<Source>,
    /// The instance involved (index into the source's instances of the case), if one.
    pub instance: Option<usize>,
    /// The measured value and the bound it breaks, as people read them.
    pub value: f64,
    pub bound: String,
    /// A sentence for people.
    pub message: String,
    /// What to highlight (the part outside, the extra fragments, the hole), as an RLE.
    #[serde(skip)]
    pub highlight: Option<Rle>,
    /// The slice of a volume it was found on (from 0), for rules checked on every slice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slice: Option<u32>,
}

/// What a kind reports before the rule's identity is attached.
pub struct Finding {
    pub instance: Option<usize>,
    pub value: f64,
    pub bound: String,
    pub message: String,
    pub highlight: Option<Runs>,
}

/// A case's masks for one evaluation, held as runs: each label mask is split into its values'
/// runs in one pass when it is read, and classes and region expressions are built from runs and
/// cached for the case.
pub struct CaseMasks<'a> {
    pub pack: &'a Pack,
    pub rules: &'a RuleSet,
    pub case: usize,
    /// The slice the masks are of (0 unless a volume is checked slice by slice).
    pub slice: u32,
    pub width: u32,
    pub height: u32,
    /// Each source's label-mask values and their pixels (empty without a label mask).
    labels: HashMap<Source, Vec<(u16, Runs)>>,
    /// Classes by (source, class id).
    classes: RefCell<HashMap<(Source, crate::pack::ClassId), Rc<Runs>>>,
    /// Region expressions by (source, text): equal expressions written in two rules are built once.
    cache: RefCell<HashMap<(Source, String), Rc<Runs>>>,
    /// Millimetres per pixel (geometric mean of the two sides) and mm² per pixel: the image's
    /// own spacing with `pixel_spacing_mm = "image"`, else the rules file's.
    pub mm_per_px: Option<f64>,
    pub mm2_per_px: Option<f64>,
}

impl<'a> CaseMasks<'a> {
    /// Load the label masks of `sources` for `case`; `None` when the case's size is unknown.
    pub fn load(pack: &'a Pack, rules: &'a RuleSet, case: usize, sources: &[Source]) -> Option<CaseMasks<'a>> {
        Self::load_slice(pack, rules, case, sources, 0)
    }

    /// The same for one slice of a volume: label volumes give that slice, 2-D masks and
    /// instances belong to slice 0 only.
    pub fn load_slice(
        pack: &'a Pack,
        rules: &'a RuleSet,
        case: usize,
        sources: &[Source],
        slice: u32,
    ) -> Option<CaseMasks<'a>> {
        let mut labels = HashMap::new();
        let mut size = pack.cases[case].size();
        for &s in sources.iter().chain(std::iter::once(&Source::GroundTruth)) {
            let m = pack
                .annotations(s, case)
                .and_then(|a| a.label_mask.as_deref())
                .filter(|p| label_png::grid_mismatch(p, &pack.cases[case].image).is_none())
                .filter(|p| slice == 0 || label_png::is_volume(p))
                .and_then(|p| label_png::read_frame_runs(p, if label_png::is_volume(p) { slice } else { 0 }).ok());
            if size.is_none() {
                size = m.as_ref().map(|m| (m.0, m.1));
            }
            labels.insert(s, m);
        }
        if size.is_none() {
            size = crate::formats::image::read_header(&pack.cases[case].image)
                .ok()
                .map(|h| (h.width, h.height));
        }
        let (width, height) = size?;
        // masks of another size than the image are reported by validation; do not use them
        let labels = labels
            .into_iter()
            .map(|(s, m)| {
                let runs = match m {
                    Some((w, h, runs)) if (w, h) == (width, height) => runs,
                    _ => Vec::new(),
                };
                (s, runs)
            })
            .collect();
        let (mm_per_px, mm2_per_px) = if rules.spacing_from_image {
            match crate::formats::image::read_spacing(&pack.cases[case].image) {
                Some(sp) => (Some(sp.pixel_area_mm2().sqrt()), Some(sp.pixel_area_mm2())),
                None => (None, None),
            }
        } else {
            (rules.pixel_spacing_mm, rules.pixel_spacing_mm.map(|v| v * v))
        };
        Some(CaseMasks {
            pack,
            rules,
            case,
            slice,
            width,
            height,
            labels,
            classes: RefCell::new(HashMap::new()),
            cache: RefCell::new(HashMap::new()),
            mm_per_px,
            mm2_per_px,
        })
    }

    pub fn instances(&self, source: Source) -> &'a [Instance] {
        if self.slice > 0 {
            return &[];
        }
        self.pack
            .annotations(source, self.case)
            .map(|a| a.instances.as_slice())
            .unwrap_or(&[])
    }

    /// An instance's pixels: its mask, else its box.
    pub fn instance_runs(&self, inst: &Instance) -> Runs {
        match &inst.segmentation {
            Some(s) => Runs::from_rle(&s.to_rle(self.height, self.width)),
            None => Runs::from_rle(&Rle::from_bbox(&inst.bbox, self.height, self.width)),
        }
    }

    fn empty(&self) -> Runs {
        Runs::empty(self.width, self.height)
    }

    /// A class's pixels in `source`: its label-mask value and its instances; `None` for a name
    /// that is no class.
    pub fn class(&self, name: &str, source: Source) -> Option<Rc<Runs>> {
        let class = self.pack.class_by_name(name)?;
        let key = (source, class.id);
        if let Some(m) = self.classes.borrow().get(&key) {
            return Some(m.clone());
        }
        let mut m = self
            .labels
            .get(&source)
            .and_then(|l| l.iter().find(|(v, _)| *v == class.mask_value))
            .map(|(_, r)| r.clone())
            .unwrap_or_else(|| self.empty());
        for inst in self.instances(source).iter().filter(|i| i.class == class.id) {
            m = m.union(&self.instance_runs(inst));
        }
        let m = Rc::new(m);
        self.classes.borrow_mut().insert(key, m.clone());
        Some(m)
    }

    fn px(&self, l: &Length) -> f64 {
        match *l {
            Length::Px(v) => v,
            // checked when the rules are loaded: mm needs pixel_spacing_mm; rules needing mm are
            // not evaluated on images without a spacing
            Length::Mm(v) => v / self.mm_per_px.unwrap_or(1.0),
        }
    }

    /// Evaluate a region expression on `source`'s masks (cached by its text).
    pub fn region(&self, e: &Expr, source: Source) -> Rc<Runs> {
        if let Expr::Name(n) = e {
            return match self.rules.regions.get(n) {
                Some(def) => self.region(def, source),
                None => match self.class(n, source) {
                    Some(c) => c,
                    None if n == BACKGROUND => {
                        let any = self.pack.classes.iter().fold(self.empty(), |acc, c| {
                            self.class(&c.name, source).map(|m| acc.union(&m)).unwrap_or(acc)
                        });
                        Rc::new(any.complement())
                    }
                    None => Rc::new(self.empty()),
                },
            };
        }
        let key = (source, e.to_string());
        if let Some(m) = self.cache.borrow().get(&key) {
            return m.clone();
        }
        let m = match e {
            Expr::Name(_) => unreachable!("names are resolved above"),
            Expr::Union(v) => v.iter().fold(self.empty(), |acc, x| acc.union(&self.region(x, source))),
            Expr::Intersect(v) => {
                let mut it = v.iter();
                let first = it
                    .next()
                    .map(|x| (*self.region(x, source)).clone())
                    .unwrap_or_else(|| self.empty());
                it.fold(first, |acc, x| acc.intersection(&self.region(x, source)))
            }
            Expr::Minus(a, b) => self.region(a, source).minus(&self.region(b, source)),
            Expr::Hull(a) => self.region(a, source).convex_hull(),
            Expr::FillHoles(a) => self.region(a, source).fill_holes(),
            Expr::Largest(a) => self.region(a, source).largest_component(),
            Expr::Dilate(a, r) => self.region(a, source).dilate(self.px(r)),
            Expr::Erode(a, r) => self.region(a, source).erode(self.px(r)),
        };
        let m = Rc::new(m);
        self.cache.borrow_mut().insert(key, m.clone());
        m
    }
}

/// The flags that concern `case` when `run` is shown: the input's, the ground truth's, the run's.
pub fn case_flags(flags: &[Flag], case: usize, run: Option<usize>) -> impl Iterator<Item = &Flag> {
    let run = run.map(Source::Run);
    flags
        .iter()
        .filter(move |f| f.case == case && (matches!(f.source, None | Some(Source::GroundTruth)) || f.source == run))
}

/// Every source a pack can be checked for: the ground truth, then each run.
pub fn all_sources(pack: &Pack) -> Vec<Source> {
    std::iter::once(Source::GroundTruth)
        .chain((0..pack.runs.len()).map(Source::Run))
        .collect()
}

/// Evaluate `rules` on every case for each of `sources`. Flags come out in case order.
pub fn evaluate(pack: &Pack, rules: &RuleSet, sources: &[Source]) -> Vec<Flag> {
    evaluate_with(pack, rules, sources, &crate::job::Progress::default())
}

/// As [`evaluate`], saying how far it has got in `progress`.
pub fn evaluate_with(pack: &Pack, rules: &RuleSet, sources: &[Source], progress: &crate::job::Progress) -> Vec<Flag> {
    progress.stage("rules", pack.cases.len());
    let per_case: Vec<Vec<Flag>> = (0..pack.cases.len())
        .into_par_iter()
        .map(|case| {
            progress.step();
            let Some(masks) = CaseMasks::load(pack, rules, case, sources) else {
                return Vec::new();
            };
            let mut out = Vec::new();
            // rules in millimetres on an image that states no pixel spacing: said once, not guessed
            for rule in rules.rules.iter().filter(|r| r.uses_mm && masks.mm_per_px.is_none()) {
                out.push(Flag {
                    rule: rule.id.clone(),
                    severity: Severity::Minor,
                    case,
                    source: None,
                    instance: None,
                    value: 0.0,
                    bound: "pixel spacing".into(),
                    message: format!(
                        "not evaluated: rule '{}' measures in mm and the image states no pixel spacing",
                        rule.id
                    ),
                    highlight: None,
                    slice: None,
                });
            }
            for &source in sources {
                for rule in rules.rules.iter().filter(|r| !r.uses_mm || masks.mm_per_px.is_some()) {
                    let region_source = match rule.regions_from {
                        RegionsFrom::Same => source,
                        RegionsFrom::GroundTruth => Source::GroundTruth,
                    };
                    for f in kinds::check(rule, &masks, source, region_source) {
                        out.push(attach(rule, case, source, f, None));
                    }
                }
            }
            // rules checked on every slice of a volume whose masks have one per slice
            let each: Vec<&Rule> = rules
                .rules
                .iter()
                .filter(|r| r.each_slice && (!r.uses_mm || masks.mm_per_px.is_some()))
                .collect();
            let volume = !each.is_empty()
                && sources.iter().chain(std::iter::once(&Source::GroundTruth)).any(|&s| {
                    pack.annotations(s, case)
                        .and_then(|a| a.label_mask.as_deref())
                        .is_some_and(label_png::is_volume)
                });
            if !each.is_empty() && volume {
                let frames = crate::formats::image::frame_count(&pack.cases[case].image).unwrap_or(1);
                for slice in 1..frames {
                    let Some(masks) = CaseMasks::load_slice(pack, rules, case, sources, slice) else {
                        continue;
                    };
                    for &source in sources {
                        for rule in &each {
                            let region_source = match rule.regions_from {
                                RegionsFrom::Same => source,
                                RegionsFrom::GroundTruth => Source::GroundTruth,
                            };
                            for f in kinds::check(rule, &masks, source, region_source) {
                                out.push(attach(rule, case, source, f, Some(slice)));
                            }
                        }
                    }
                }
                // slice 0's flags of those rules say their slice too
                for f in out
                    .iter_mut()
                    .filter(|f| f.source.is_some() && each.iter().any(|r| r.id == f.rule))
                {
                    if f.slice.is_none() {
                        f.slice = Some(0);
                        f.message = format!("slice 1: {}", f.message);
                    }
                }
            }
            out
        })
        .collect();
    per_case.into_iter().flatten().collect()
}

fn attach(rule: &Rule, case: usize, source: Source, f: Finding, slice: Option<u32>) -> Flag {
    let message = match slice {
        Some(k) => format!("slice {}: {}", k + 1, f.message),
        None => f.message,
    };
    Flag {
        slice,
        rule: rule.id.clone(),
        severity: rule.severity,
        case,
        source: Some(source),
        instance: f.instance,
        value: f.value,
        bound: f.bound,
        message,
        highlight: f.highlight.filter(|m| !m.is_empty()).map(|m| m.to_rle()),
    }
}
