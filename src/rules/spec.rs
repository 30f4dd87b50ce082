//! The rules file: `[settings]`, named `[regions]` and `[[rule]]` tables. Every mistake (unknown
//! kind, unknown class, bound out of range, missing parameter, misspelled key) is an error with
//! the file, line and column, and a hint. docs/rules.md documents every kind.

use super::expr::{self, Expr};
use crate::pack::Pack;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use toml::Spanned;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Minor,
    Major,
    Critical,
}

impl Severity {
    pub fn name(&self) -> &'static str {
        match self {
            Severity::Minor => "minor",
            Severity::Major => "major",
            Severity::Critical => "critical",
        }
    }
}

/// How "left" and "right" map to the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Orientation {
    /// Radiological display (PA/AP chest films, axial CT/MR): the patient's right is on the image's left.
    #[default]
    Radiological,
    /// The patient's right is on the image's right.
    Anatomical,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    LeftOf,
    RightOf,
    Above,
    Below,
    PatientLeftOf,
    PatientRightOf,
}

/// Where region classes come from when a run is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionsFrom {
    /// The same source as the subject (a run's own predicted regions).
    Same,
    /// The ground truth's regions.
    GroundTruth,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Containment {
        subjects: Vec<String>,
        region: Expr,
        min_fraction: f64,
    },
    Exclusion {
        a: Expr,
        b: Expr,
        max_fraction: f64,
    },
    Components {
        subjects: Vec<Expr>,
        min: u32,
        max: u32,
        min_area: f64,
    },
    Holes {
        subjects: Vec<Expr>,
        max: u32,
        min_area: f64,
    },
    Area {
        subjects: Vec<Expr>,
        min: f64,
        max: f64,
        relative_to: Option<Expr>,
        /// Physical bounds in mm² (need the pixel spacing).
        min_mm2: Option<f64>,
        max_mm2: Option<f64>,
    },
    RelativePosition {
        a: Expr,
        b: Expr,
        relation: Relation,
        margin: f64,
    },
    Enclosure {
        a: Expr,
        b: Expr,
        tolerance: f64,
    },
    Adjacency {
        a: Expr,
        b: Expr,
        touch: bool,
        min_contact: f64,
        max_contact: f64,
    },
    Symmetry {
        a: Expr,
        b: Expr,
        min: f64,
        max: f64,
    },
    /// Width (horizontal extent) of a / width of b in [min, max]: the cardiothoracic ratio.
    WidthRatio {
        a: Expr,
        b: Expr,
        min: f64,
        max: f64,
    },
    Shape {
        subjects: Vec<Expr>,
        min_solidity: Option<f64>,
        max_aspect: Option<f64>,
    },
    Count {
        class: String,
        min: u32,
        max: u32,
        min_score: f64,
    },
    Presence {
        subjects: Vec<Expr>,
        present: bool,
        min_area: f64,
    },
    /// Pixels in holes (8-connected, not reaching the border); `allow_filled_by`: the area of
    /// that class's first piece is expected inside (the cavity inside the myocardium).
    HoleArea {
        subjects: Vec<Expr>,
        max: f64,
        allow_filled_by: Option<Expr>,
    },
    /// Pixels outside the largest 8-connected piece.
    Disconnected {
        subjects: Vec<Expr>,
        max: f64,
    },
    /// Background enclosed jointly by `a` and `b`; counted above the H·W/2¹⁴ noise floor.
    GapBetween {
        a: Expr,
        b: Expr,
        max: f64,
    },
    /// Shortest distance from `a` (grown by one pixel) to `b`, in mm when `mm`.
    GapDistance {
        a: Expr,
        b: Expr,
        max: f64,
        mm: bool,
    },
    /// Pixels of `a` within one pixel (3×3) of `b`.
    Frontier {
        a: Expr,
        b: Expr,
        max: f64,
    },
    /// Depth of the deepest dent of the hole-filled shape, in mm when `mm`.
    ConcavityDepth {
        subjects: Vec<Expr>,
        max: f64,
        mm: bool,
    },
    /// Isoperimetric ratio 4πA/P² of the hole-filled shape.
    Circularity {
        subjects: Vec<Expr>,
        min: f64,
    },
}

pub const KINDS: &[&str] = &[
    "containment",
    "exclusion",
    "components",
    "holes",
    "area",
    "relative_position",
    "enclosure",
    "adjacency",
    "symmetry",
    "width_ratio",
    "shape",
    "count",
    "presence",
    "hole_area",
    "disconnected",
    "gap_between",
    "gap_distance",
    "frontier",
    "concavity_depth",
    "circularity",
];

/// The builtin region of the pixels that belong to no class.
pub const BACKGROUND: &str = "background";

#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub id: String,
    pub description: String,
    pub severity: Severity,
    pub kind: Kind,
    pub regions_from: RegionsFrom,
    /// Whether a length or area is given in millimetres (the rule needs the pixel spacing).
    pub uses_mm: bool,
    /// `slices = "each"`: on a volume with masks per slice, checked on every slice (else on the
    /// first, where annotations belong).
    pub each_slice: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RuleSet {
    pub path: PathBuf,
    pub orientation: Orientation,
    /// Millimetres per pixel, when known (needed for `mm` lengths).
    pub pixel_spacing_mm: Option<f64>,
    /// `pixel_spacing_mm = "image"`: each image's own spacing (DICOM Pixel Spacing, NIfTI
    /// pixdim), case by case.
    pub spacing_from_image: bool,
    pub regions: IndexMap<String, Expr>,
    pub rules: Vec<Rule>,
    /// Out-of-distribution check: `None` when switched off.
    pub ood: Option<OodSettings>,
    /// The acquisition a pack expects of its DICOM inputs (`[expect]`).
    pub expect: Option<Expect>,
}

/// How inputs are checked against the out-of-distribution reference.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OodSettings {
    /// Calibrated for a false-alarm rate (`ood_false_alarm_rate`) or fixed (`ood_max_z`);
    /// `None` where the rules file says neither: a reference's own bound (`lightbox stats`),
    /// else calibrated for 1 in 200.
    pub bound: Option<crate::ood::OodBound>,
    /// Of content out of distribution (default major).
    pub severity: Severity,
    /// Of an unusual size, aspect or pixel format (default minor).
    pub acquisition_severity: Severity,
}

impl Default for OodSettings {
    fn default() -> Self {
        OodSettings {
            bound: None,
            severity: Severity::Major,
            acquisition_severity: Severity::Minor,
        }
    }
}

/// `[expect]`: DICOM tags every input must carry one of (empty: anything). A hand radiograph in
/// a chest stream, a lateral view for a frontal-only model, an inverted photometric
/// interpretation: flagged as inputs the model was not made for.
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    #[serde(default)]
    pub modality: Vec<String>,
    #[serde(default)]
    pub body_part: Vec<String>,
    #[serde(default)]
    pub view_position: Vec<String>,
    #[serde(default)]
    pub photometric: Vec<String>,
    /// Severity of a mismatch (default major).
    #[serde(default)]
    pub severity: Option<Severity>,
}

impl RuleSet {
    /// No anatomy rules, out-of-distribution check on (what `check` does without a rules file).
    pub fn empty() -> RuleSet {
        RuleSet {
            path: PathBuf::new(),
            orientation: Orientation::Radiological,
            pixel_spacing_mm: None,
            spacing_from_image: false,
            regions: IndexMap::new(),
            rules: vec![],
            ood: Some(OodSettings::default()),
            expect: None,
        }
    }
}

/// A mistake in a rules file, with where it is.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}{}: {message}. {hint}", file.display(), if *line > 0 { format!(":{line}:{column}") } else { String::new() })]
pub struct RuleError {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub hint: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    settings: Settings,
    #[serde(default)]
    regions: IndexMap<String, Spanned<String>>,
    #[serde(default)]
    rule: Vec<Spanned<RuleFile>>,
    #[serde(default)]
    expect: Option<Expect>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Settings {
    orientation: Option<Orientation>,
    pixel_spacing_mm: Option<Spanned<SpacingSetting>>,
    /// Out-of-distribution inputs: off with `ood = false`.
    ood: Option<bool>,
    /// A fixed robust z-score beyond which an input is out of distribution (default: calibrated).
    ood_max_z: Option<Spanned<f64>>,
    /// The false-alarm rate the bound is calibrated for (default 0.005: 1 in 200).
    ood_false_alarm_rate: Option<Spanned<f64>>,
    ood_severity: Option<Severity>,
    /// Of an unusual size, aspect or pixel format (default minor).
    ood_acquisition_severity: Option<Severity>,
}

/// `pixel_spacing_mm = 0.14` or `pixel_spacing_mm = "image"`.
#[derive(Deserialize, Clone)]
#[serde(untagged)]
enum SpacingSetting {
    Mm(f64),
    Word(String),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    id: Spanned<String>,
    description: Option<String>,
    kind: Spanned<String>,
    severity: Spanned<Severity>,
    subject: Option<Spanned<OneOrMany>>,
    a: Option<Spanned<String>>,
    b: Option<Spanned<String>>,
    region: Option<Spanned<String>>,
    relative_to: Option<Spanned<String>>,
    min_fraction: Option<Spanned<f64>>,
    max_fraction: Option<Spanned<f64>>,
    min: Option<Spanned<f64>>,
    max: Option<Spanned<f64>>,
    min_area: Option<Spanned<f64>>,
    relation: Option<Spanned<String>>,
    margin: Option<Spanned<f64>>,
    tolerance: Option<Spanned<f64>>,
    touch: Option<bool>,
    min_contact: Option<Spanned<f64>>,
    max_contact: Option<Spanned<f64>>,
    min_solidity: Option<Spanned<f64>>,
    max_aspect: Option<Spanned<f64>>,
    min_score: Option<Spanned<f64>>,
    present: Option<bool>,
    regions_from: Option<Spanned<String>>,
    slices: Option<Spanned<String>>,
    allow_filled_by: Option<Spanned<String>>,
    max_mm: Option<Spanned<f64>>,
    min_mm2: Option<Spanned<f64>>,
    max_mm2: Option<Spanned<f64>>,
}

struct Ctx<'a> {
    file: &'a Path,
    text: &'a str,
    names: Vec<String>,
    classes: Vec<String>,
    spacing: Option<f64>,
    /// Set when a rule being read gives a length or area in mm.
    used_mm: std::cell::Cell<bool>,
}

impl Ctx<'_> {
    fn err(&self, at: usize, message: impl Into<String>, hint: impl Into<String>) -> RuleError {
        let at = at.min(self.text.len());
        let before = &self.text[..at];
        let line = before.matches('\n').count() + 1;
        let column = at - before.rfind('\n').map(|i| i + 1).unwrap_or(0) + 1;
        RuleError {
            file: self.file.to_path_buf(),
            line,
            column,
            message: message.into(),
            hint: hint.into(),
        }
    }

    /// Parse an expression written at `span`, checking every name.
    fn expr(&self, s: &Spanned<String>, what: &str) -> Result<Expr, RuleError> {
        // +1: the opening quote of the TOML string
        let base = s.span().start + 1;
        let e = expr::parse(s.get_ref()).map_err(|(i, m)| {
            self.err(
                base + i,
                format!("{what}: {m}"),
                "docs/rules.md lists the region functions",
            )
        })?;
        if e.uses_mm() && self.spacing.is_none() {
            return Err(self.err(
                base,
                format!("{what}: a length in mm needs the pixel spacing"),
                "Set `pixel_spacing_mm = 0.14` (or \"image\": each DICOM/NIfTI file's own) under [settings], or give the length in px",
            ));
        }
        if e.uses_mm() {
            self.used_mm.set(true);
        }
        let mut names = vec![];
        e.names(&mut names);
        for n in names {
            if !self.names.contains(&n) {
                let offset = s.get_ref().find(&n).unwrap_or(0);
                return Err(self.err(
                    base + offset,
                    format!(
                        "{what}: {n:?} is not a class or region (classes: {})",
                        self.classes.join(", ")
                    ),
                    "Check the spelling against lightbox.toml [classes] and [regions] above",
                ));
            }
        }
        Ok(e)
    }
}

impl RuleSet {
    /// Read a rules file and check it against the pack's classes.
    pub fn load(path: &Path, pack: &Pack) -> Result<RuleSet, RuleError> {
        let text = std::fs::read_to_string(path).map_err(|e| RuleError {
            file: path.to_path_buf(),
            line: 0,
            column: 0,
            message: format!("cannot read: {e}"),
            hint: "Check `rules` in lightbox.toml or --rules".into(),
        })?;
        RuleSet::parse(&text, path, pack)
    }

    pub fn parse(text: &str, path: &Path, pack: &Pack) -> Result<RuleSet, RuleError> {
        let classes: Vec<String> = pack.classes.iter().map(|c| c.name.clone()).collect();
        // `background`: the pixels of no class (a builtin region unless a class has the name)
        let mut names = classes.clone();
        if !names.iter().any(|n| n == BACKGROUND) {
            names.push(BACKGROUND.to_string());
        }
        let mut ctx = Ctx {
            file: path,
            text,
            names,
            classes,
            spacing: None,
            used_mm: std::cell::Cell::new(false),
        };
        let f: File = toml::from_str(text).map_err(|e| {
            let at = e.span().map(|s| s.start).unwrap_or(0);
            let msg = e.message().trim().to_string();
            let hint = if msg.contains("unknown field") {
                "Check the key against docs/rules.md"
            } else {
                "See docs/rules.md for the file's shape"
            };
            ctx.err(at, msg, hint)
        })?;
        let mut spacing_from_image = false;
        ctx.spacing = match f
            .settings
            .pixel_spacing_mm
            .as_ref()
            .map(|s| (s.span().start, s.get_ref()))
        {
            None => None,
            Some((_, SpacingSetting::Mm(v))) => Some(*v),
            Some((_, SpacingSetting::Word(w))) if w == "image" => {
                spacing_from_image = true;
                // lengths are converted case by case; this only says mm is allowed
                Some(1.0)
            }
            Some((at, SpacingSetting::Word(w))) => {
                return Err(ctx.err(
                    at,
                    format!("pixel_spacing_mm = {w:?}"),
                    "Give millimetres per pixel (0.14), or \"image\" to use each DICOM/NIfTI file's own spacing",
                ));
            }
        };
        let mut regions = IndexMap::new();
        for (name, def) in &f.regions {
            if ctx.names.contains(name) {
                return Err(ctx.err(
                    def.span().start,
                    format!("region {name:?} has the name of a class"),
                    "Give the region its own name",
                ));
            }
            let e = ctx.expr(def, &format!("region {name}"))?;
            regions.insert(name.clone(), e);
            ctx.names.push(name.clone());
        }
        let mut rules = Vec::new();
        let mut ids: Vec<String> = Vec::new();
        for r in &f.rule {
            let r = r.get_ref();
            let id = r.id.get_ref().clone();
            if ids.contains(&id) {
                return Err(ctx.err(
                    r.id.span().start,
                    format!("rule id {id:?} is used twice"),
                    "Give each rule its own id",
                ));
            }
            ids.push(id.clone());
            // `min = 3, max = 1` flagged every case ("allows 3 to 1")
            if let (Some(lo), Some(hi)) = (&r.min, &r.max)
                && lo.get_ref() > hi.get_ref()
            {
                return Err(ctx.err(
                    lo.span().start,
                    format!("rule {id:?}: min = {} is above max = {}", lo.get_ref(), hi.get_ref()),
                    "Give min ≤ max",
                ));
            }
            let rule = convert(&ctx, r).map_err(|mut e| {
                e.message = format!("rule {id:?}: {}", e.message);
                e
            })?;
            rules.push(rule);
        }
        if let Some(z) = &f.settings.ood_max_z
            && !(z.get_ref().is_finite() && *z.get_ref() > 0.0)
        {
            return Err(ctx.err(
                z.span().start,
                format!(
                    "ood_max_z = {}: the out-of-distribution bound must be a number above 0",
                    z.get_ref()
                ),
                "Give a robust z-score such as 6, or `ood = false` to switch the check off",
            ));
        }
        if let Some(r) = &f.settings.ood_false_alarm_rate
            && !(r.get_ref().is_finite() && *r.get_ref() >= 1e-6 && *r.get_ref() < 0.5)
        {
            return Err(ctx.err(
                r.span().start,
                format!(
                    "ood_false_alarm_rate = {}: the rate of false alarms must lie from 0.000001 to below 0.5",
                    r.get_ref()
                ),
                "Give a rate such as 0.005 (1 in 200 in-distribution images flagged)",
            ));
        }
        if let (Some(z), Some(_)) = (&f.settings.ood_max_z, &f.settings.ood_false_alarm_rate) {
            return Err(ctx.err(
                z.span().start,
                "ood_max_z and ood_false_alarm_rate are both given".to_string(),
                "Keep one: ood_false_alarm_rate calibrates the bound on the reference, ood_max_z fixes it",
            ));
        }
        let ood = (f.settings.ood != Some(false)).then(|| OodSettings {
            bound: match (&f.settings.ood_max_z, &f.settings.ood_false_alarm_rate) {
                (Some(z), _) => Some(crate::ood::OodBound::MaxZ(*z.get_ref())),
                (None, Some(r)) => Some(crate::ood::OodBound::FalseAlarmRate(*r.get_ref())),
                (None, None) => None,
            },
            severity: f.settings.ood_severity.unwrap_or(Severity::Major),
            acquisition_severity: f.settings.ood_acquisition_severity.unwrap_or(Severity::Minor),
        });
        Ok(RuleSet {
            path: path.to_path_buf(),
            orientation: f.settings.orientation.unwrap_or_default(),
            pixel_spacing_mm: if spacing_from_image { None } else { ctx.spacing },
            spacing_from_image,
            regions,
            rules,
            ood,
            expect: f.expect.clone(),
        })
    }
}

fn convert(ctx: &Ctx, r: &RuleFile) -> Result<Rule, RuleError> {
    let kind_name = r.kind.get_ref().as_str();
    let need = |v: &Option<Spanned<String>>, key: &str| -> Result<Expr, RuleError> {
        match v {
            Some(s) => ctx.expr(s, key),
            None => Err(ctx.err(
                r.kind.span().start,
                format!("kind {kind_name:?} needs `{key}`"),
                format!("Add `{key} = \"...\"` (docs/rules.md)"),
            )),
        }
    };
    let num = |v: &Option<Spanned<f64>>, key: &str, default: Option<f64>, lo: f64, hi: f64| -> Result<f64, RuleError> {
        match v {
            Some(s) => {
                let x = *s.get_ref();
                if !(lo..=hi).contains(&x) || !x.is_finite() {
                    return Err(ctx.err(
                        s.span().start,
                        format!("`{key}` = {x} is out of range ({lo}..={hi})"),
                        "Fix the bound",
                    ));
                }
                Ok(x)
            }
            None => default.ok_or_else(|| {
                ctx.err(
                    r.kind.span().start,
                    format!("kind {kind_name:?} needs `{key}`"),
                    format!("Add `{key} = ...` (docs/rules.md)"),
                )
            }),
        }
    };
    let subjects = || -> Result<Vec<Spanned<String>>, RuleError> {
        let s = r.subject.as_ref().ok_or_else(|| {
            ctx.err(
                r.kind.span().start,
                format!("kind {kind_name:?} needs `subject`"),
                "Add `subject = \"class\"` or a list of classes",
            )
        })?;
        let span = s.span();
        Ok(match s.get_ref() {
            OneOrMany::One(x) => vec![Spanned::new(span.clone(), x.clone())],
            OneOrMany::Many(v) => v.iter().map(|x| Spanned::new(span.clone(), x.clone())).collect(),
        })
    };
    let exprs = || -> Result<Vec<Expr>, RuleError> { subjects()?.iter().map(|s| ctx.expr(s, "subject")).collect() };
    let count = |x: f64| x.round().max(0.0) as u32;
    let inf = f64::MAX;
    let kind = match kind_name {
        "containment" => {
            let subjects: Vec<String> = subjects()?
                .iter()
                .map(|s| {
                    if ctx.classes.contains(s.get_ref()) {
                        Ok(s.get_ref().clone())
                    } else {
                        Err(ctx.err(
                            s.span().start,
                            format!(
                                "containment subject {:?} is not a class (classes: {})",
                                s.get_ref(),
                                ctx.classes.join(", ")
                            ),
                            "The subject of a containment rule is a class; its instances are checked one by one",
                        ))
                    }
                })
                .collect::<Result<_, _>>()?;
            Kind::Containment {
                subjects,
                region: need(&r.region, "region")?,
                min_fraction: num(&r.min_fraction, "min_fraction", None, 0.0, 1.0)?,
            }
        }
        "exclusion" => Kind::Exclusion {
            a: need(&r.a, "a")?,
            b: need(&r.b, "b")?,
            max_fraction: num(&r.max_fraction, "max_fraction", Some(0.0), 0.0, 1.0)?,
        },
        "components" => Kind::Components {
            subjects: exprs()?,
            min: count(num(&r.min, "min", Some(1.0), 0.0, 1e6)?),
            max: count(num(&r.max, "max", Some(1.0), 0.0, 1e6)?),
            min_area: num(&r.min_area, "min_area", Some(0.0), 0.0, inf)?,
        },
        "holes" => Kind::Holes {
            subjects: exprs()?,
            max: count(num(&r.max, "max", Some(0.0), 0.0, 1e6)?),
            min_area: num(&r.min_area, "min_area", Some(0.0), 0.0, inf)?,
        },
        "area" => {
            let mm2 = |v: &Option<Spanned<f64>>, key: &str| -> Result<Option<f64>, RuleError> {
                let Some(x) = v else { return Ok(None) };
                if ctx.spacing.is_none() {
                    return Err(ctx.err(
                        x.span().start,
                        format!("`{key}` needs the pixel spacing"),
                        "Set `pixel_spacing_mm = 0.14`, or \"image\" for each DICOM/NIfTI file's own, under [settings]",
                    ));
                }
                ctx.used_mm.set(true);
                num(v, key, None, 0.0, inf).map(Some)
            };
            Kind::Area {
                subjects: exprs()?,
                min: num(&r.min, "min", Some(0.0), 0.0, inf)?,
                max: num(&r.max, "max", Some(inf), 0.0, inf)?,
                relative_to: r.relative_to.as_ref().map(|s| ctx.expr(s, "relative_to")).transpose()?,
                min_mm2: mm2(&r.min_mm2, "min_mm2")?,
                max_mm2: mm2(&r.max_mm2, "max_mm2")?,
            }
        }
        "relative_position" => {
            let rel = r.relation.as_ref().ok_or_else(|| {
                ctx.err(
                    r.kind.span().start,
                    "kind \"relative_position\" needs `relation`",
                    "left_of, right_of, above, below, patient_left_of, patient_right_of",
                )
            })?;
            let relation = match rel.get_ref().as_str() {
                "left_of" => Relation::LeftOf,
                "right_of" => Relation::RightOf,
                "above" => Relation::Above,
                "below" => Relation::Below,
                "patient_left_of" => Relation::PatientLeftOf,
                "patient_right_of" => Relation::PatientRightOf,
                other => {
                    return Err(ctx.err(
                        rel.span().start,
                        format!("unknown relation {other:?}"),
                        "left_of, right_of, above, below, patient_left_of, patient_right_of",
                    ));
                }
            };
            Kind::RelativePosition {
                a: need(&r.a, "a")?,
                b: need(&r.b, "b")?,
                relation,
                margin: num(&r.margin, "margin", Some(0.0), -1e6, 1e6)?,
            }
        }
        "enclosure" => Kind::Enclosure {
            a: need(&r.a, "a")?,
            b: need(&r.b, "b")?,
            tolerance: num(&r.tolerance, "tolerance", Some(0.0), 0.0, 1.0)?,
        },
        "adjacency" => {
            let touch = r.touch.unwrap_or(true);
            Kind::Adjacency {
                a: need(&r.a, "a")?,
                b: need(&r.b, "b")?,
                touch,
                min_contact: num(
                    &r.min_contact,
                    "min_contact",
                    Some(if touch { 1.0 } else { 0.0 }),
                    0.0,
                    inf,
                )?,
                max_contact: num(
                    &r.max_contact,
                    "max_contact",
                    Some(if touch { inf } else { 0.0 }),
                    0.0,
                    inf,
                )?,
            }
        }
        "symmetry" => Kind::Symmetry {
            a: need(&r.a, "a")?,
            b: need(&r.b, "b")?,
            min: num(&r.min, "min", None, 0.0, inf)?,
            max: num(&r.max, "max", None, 0.0, inf)?,
        },
        "width_ratio" => Kind::WidthRatio {
            a: need(&r.a, "a")?,
            b: need(&r.b, "b")?,
            min: num(&r.min, "min", Some(0.0), 0.0, inf)?,
            max: num(&r.max, "max", Some(inf), 0.0, inf)?,
        },
        "shape" => {
            let min_solidity = r
                .min_solidity
                .as_ref()
                .map(|_| num(&r.min_solidity, "min_solidity", None, 0.0, 1.0))
                .transpose()?;
            let max_aspect = r
                .max_aspect
                .as_ref()
                .map(|_| num(&r.max_aspect, "max_aspect", None, 1.0, inf))
                .transpose()?;
            if min_solidity.is_none() && max_aspect.is_none() {
                return Err(ctx.err(
                    r.kind.span().start,
                    "kind \"shape\" needs `min_solidity` or `max_aspect`",
                    "e.g. min_solidity = 0.8",
                ));
            }
            Kind::Shape {
                subjects: exprs()?,
                min_solidity,
                max_aspect,
            }
        }
        "count" => {
            let s = subjects()?;
            let class = s[0].get_ref().clone();
            if !ctx.classes.contains(&class) {
                return Err(ctx.err(
                    s[0].span().start,
                    format!("{class:?} is not a class (classes: {})", ctx.classes.join(", ")),
                    "A count rule counts a class's detections",
                ));
            }
            Kind::Count {
                class,
                min: count(num(&r.min, "min", Some(0.0), 0.0, 1e6)?),
                max: count(num(&r.max, "max", Some(1e6), 0.0, 1e6)?),
                min_score: num(&r.min_score, "min_score", Some(0.0), 0.0, 1.0)?,
            }
        }
        "presence" => Kind::Presence {
            subjects: exprs()?,
            present: r.present.unwrap_or(true),
            min_area: num(&r.min_area, "min_area", Some(1.0), 0.0, inf)?,
        },
        "hole_area" => Kind::HoleArea {
            subjects: exprs()?,
            max: num(&r.max, "max", Some(0.0), 0.0, inf)?,
            allow_filled_by: r
                .allow_filled_by
                .as_ref()
                .map(|s| ctx.expr(s, "allow_filled_by"))
                .transpose()?,
        },
        "disconnected" => Kind::Disconnected {
            subjects: exprs()?,
            max: num(&r.max, "max", Some(0.0), 0.0, inf)?,
        },
        "gap_between" => Kind::GapBetween {
            a: need(&r.a, "a")?,
            b: need(&r.b, "b")?,
            max: num(&r.max, "max", Some(0.0), 0.0, inf)?,
        },
        "frontier" => Kind::Frontier {
            a: need(&r.a, "a")?,
            b: need(&r.b, "b")?,
            max: num(&r.max, "max", Some(1.0), 0.0, inf)?,
        },
        "gap_distance" | "concavity_depth" => {
            let (max, mm) = match (&r.max_mm, &r.max) {
                (Some(s), _) => {
                    if ctx.spacing.is_none() {
                        return Err(ctx.err(
                            s.span().start,
                            "`max_mm` needs the pixel spacing",
                            "Set `pixel_spacing_mm = 1.25` under [settings], or give `max` in px",
                        ));
                    }
                    (num(&r.max_mm, "max_mm", None, 0.0, inf)?, true)
                }
                (None, _) => (num(&r.max, "max", Some(0.0), 0.0, inf)?, false),
            };
            if kind_name == "gap_distance" {
                Kind::GapDistance {
                    a: need(&r.a, "a")?,
                    b: need(&r.b, "b")?,
                    max,
                    mm,
                }
            } else {
                Kind::ConcavityDepth {
                    subjects: exprs()?,
                    max,
                    mm,
                }
            }
        }
        "circularity" => Kind::Circularity {
            subjects: exprs()?,
            min: num(&r.min, "min", None, 0.0, 1.0)?,
        },
        other => {
            return Err(ctx.err(
                r.kind.span().start,
                format!("unknown kind {other:?}"),
                format!("Kinds: {}", KINDS.join(", ")),
            ));
        }
    };
    let regions_from = match r.regions_from.as_ref().map(|s| (s.span().start, s.get_ref().as_str())) {
        None | Some((_, "same")) => RegionsFrom::Same,
        Some((_, "ground_truth")) => RegionsFrom::GroundTruth,
        Some((at, other)) => {
            return Err(ctx.err(
                at,
                format!("regions_from {other:?}"),
                "Use \"same\" (the checked source's own regions) or \"ground_truth\"",
            ));
        }
    };
    let each_slice = match r.slices.as_ref().map(|s| (s.span().start, s.get_ref().as_str())) {
        None | Some((_, "first")) => false,
        Some((_, "each")) => true,
        Some((at, other)) => {
            return Err(ctx.err(
                at,
                format!("slices {other:?}"),
                "Use \"each\" (every slice of a volume with masks per slice) or \"first\" (the default)",
            ));
        }
    };
    Ok(Rule {
        id: r.id.get_ref().clone(),
        description: r.description.clone().unwrap_or_default(),
        severity: *r.severity.get_ref(),
        kind,
        regions_from,
        uses_mm: ctx.used_mm.replace(false),
        each_slice,
    })
}
