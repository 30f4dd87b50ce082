//! The dashboard's state and `update`: an [`Action`] changes the state; what the image pane
//! needs is derived from the state ([`App::frame_key`]) and produced by workers, so `update`
//! never touches the disk.

use super::action::Action;
use super::config::Config;
use super::worker::Frame;
use crate::pack::{Level, Pack};
use crate::query::{self, Ctx, Expr};
use crate::render::{Style, View, Viewport, WindowPreset};
use std::sync::Arc;

mod command;
mod compare;
mod flags;
mod keys;
mod metrics;
mod reload;
mod saved;
mod sort;
mod viewport;

pub use flags::critical_summary;
pub use reload::ReloadNote;
pub use sort::SortKey;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Cases,
    Image,
    Details,
}

/// How the ground truth is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GtLook {
    Outline,
    Fill,
    Off,
}

/// The image pane's arrangement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Single,
    /// ground truth | run
    GtRun,
    /// run A | run B
    RunRun,
}

/// A line of input being typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptKind {
    Filter,
    Command,
    /// A note on the case (review mode).
    Note,
    /// Signing: `approve` or `reject`, then an override reason when required cases are open.
    Sign,
    /// Tags on the case: `word` adds, `-word` removes.
    Tag,
    /// Approving with rejected or unsure cases: `question` says what approving then means and
    /// lists them; typing `approve` again signs.
    ConfirmApproval {
        noted: usize,
        override_reason: Option<String>,
        question: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    None,
    Help,
    Sort,
    Prompt { kind: PromptKind, input: String },
}

/// A message in the status bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub text: String,
    pub severity: Option<Level>,
}

/// Everything the image pane needs; when it changes, a worker makes a new frame.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameKey {
    pub case: usize,
    pub views: Vec<View>,
    pub style: Style,
    pub viewport: Viewport,
    /// Cells of the image area.
    pub cells: (u16, u16),
    /// Pixels per cell.
    pub cell: (u16, u16),
    /// The largest graphic the terminal draws: each panel is fitted within it.
    pub limit: Option<(u32, u32)>,
    /// The network's-eye view of this run: the tensor its model receives.
    pub network: Option<usize>,
    /// The frame of a multi-frame image (0 otherwise).
    pub slice: u32,
}

pub struct App {
    pub pack: Arc<Pack>,
    pub config: Config,
    /// Filtered and sorted case indices: the triage queue.
    pub order: Vec<usize>,
    /// Position in `order`.
    pub pos: usize,
    pub focus: Pane,
    pub run: Option<usize>,
    /// The second run: beside the one shown (run | run), or compare mode's pair.
    pub compare: Option<Compare>,
    /// Tags people put on cases (the pack's workspace file); saved by a background thread.
    pub workspace: crate::workspace::Workspace,
    pub gt_look: GtLook,
    pub error_view: bool,
    pub layout: Layout,
    pub style: Style,
    pub viewport: Viewport,
    /// Pixel cursor in image coordinates.
    pub pixel_cursor: Option<(u32, u32)>,
    /// Where a right-button (window/level) drag last was, in cells.
    pub window_drag: Option<(u16, u16)>,
    /// The slice shown of a multi-frame case: (case, frame). Other cases show frame 0.
    pub slice_of: (usize, u32),
    /// Selected prediction (index into the current run's instances of this case).
    pub selected: Option<usize>,
    /// The details pane beside the image (terminals at least [`WIDE`] columns wide).
    pub show_details: bool,
    /// Narrower terminals: the details pane in the image's place (`D` again: the image).
    pub details_instead: bool,
    /// The terminal's size in cells, set by the event loop before each draw (`(0, 0)`: not
    /// known yet, taken as wide).
    pub screen: (u16, u16),
    pub filter: Option<(String, Expr)>,
    pub sort: SortKey,
    pub overlay: Overlay,
    /// First line of the help overlay shown (it scrolls when the terminal is small).
    pub help_scroll: usize,
    /// The details pane scrolled down this many lines, on this case (another case starts at
    /// the top).
    pub details_scroll: (usize, usize),
    pub notice: Option<Notice>,
    pub frame: Option<Arc<Frame>>,
    /// The image area in cells and the pixels per cell, set by the event loop from the terminal.
    pub image_cells: (u16, u16),
    pub cell_pixels: (u16, u16),
    /// The largest image the terminal accepts (frames are scaled to fit; `None`: no limit).
    pub max_graphic: Option<(u32, u32)>,
    pub should_quit: bool,
    /// Per case: (errors, warnings) among the pack's problems.
    pub problem_counts: Vec<(u32, u32)>,
    /// The pack's problems: those found while loading, then those validation finds (it runs in
    /// the background: headers of every image, every label mask).
    pub problems: Vec<crate::pack::Problem>,
    pub validated: bool,
    /// Flags from the rules and the out-of-distribution check (computed in the background).
    pub flags: Vec<crate::rules::Flag>,
    /// The rules checked (their ids, with the input checks'), once the check has run: a
    /// filter naming another rule matches nothing and says so.
    pub rule_ids: Option<Vec<String>>,
    /// Whether the check has finished (and why not, if it failed).
    pub checked: Option<Result<usize, String>>,
    /// `--drift-from`: the pack's drift against that reference, in lines (or why not).
    pub drift: Option<Result<Vec<String>, String>>,
    /// Which protocol draws images (for the status bar and help).
    pub graphics: String,
    /// Per run: its metrics, computed in the background once the pack is open.
    pub metrics: Vec<Option<Arc<crate::metrics::Report>>>,
    /// Whether the metrics computation failed (and why).
    pub metrics_error: Option<String>,
    /// The image pane shows the metrics view (per-class table, confusion, curves).
    pub metrics_view: bool,
    /// Per-case figures and the confusion matrix at the current run and score threshold, and
    /// in the metrics view comparing two runs at both (recomputed in the background when the
    /// run or threshold changes).
    pub operating: Vec<Arc<OperatingAt>>,
    /// What the app has asked of the outside world since the last [`App::take_effects`]:
    /// background work and journal actions (the app itself never blocks).
    pub(super) effects: Vec<Effect>,
    /// The image pane shows the tensor the run's model receives (`v`).
    pub network_view: bool,
    /// Review mode (`lightbox review`): verdicts, progress, signing.
    pub review: Option<super::review::ReviewMode>,
    /// Bumped on every reload: background results computed on an older pack are dropped.
    pub pack_epoch: u64,
    /// The latest reload of the pack (watch), for the status bar.
    pub reloaded: Option<ReloadNote>,
    /// The rules file given on the command line (else the manifest's), for checks after reloads.
    pub rules_file: Option<std::path::PathBuf>,
    /// A review session's plan order (required cases first), the base that filters and sorts
    /// start from while reviewing.
    pub review_order: Option<Vec<usize>>,
    /// Per case: how much worse the candidate is (compare mode), once both runs' metrics are in.
    pub regression: Option<Vec<f64>>,
    /// Per case: disagreement between two runs at a threshold, for (epoch, a, b, threshold).
    pub disagreement: Option<(DisagreementKey, PerCase)>,
    /// Per case: mean entropy of a run's probability maps, for (epoch, run).
    pub entropy: Option<((u64, usize), PerCase)>,
    /// How far the background analysis of this pack has got (the status bar says it).
    pub analysis: Option<Analysis>,
    /// The pack's saved views (`.lightbox/views.json`); no path: views are not kept.
    pub saved_views: super::saved_view::Views,
    /// The view last asked to be written (or restored): a change from it is written.
    pub last_view: Option<super::saved_view::SavedView>,
    /// The view the dashboard opens with when none is saved (`:view reset`).
    pub default_view: Option<super::saved_view::SavedView>,
}

/// A value per case, `None` where it does not apply (computed in the background).
pub type PerCase = Arc<Vec<Option<f64>>>;

/// What a disagreement computation was for: (pack epoch, run a, run b, threshold in 1/1000).
pub type DisagreementKey = (u64, usize, usize, u32);

pub use crate::metrics::operating::OperatingAt;

pub use compare::Compare;
pub use reload::Analysis;

/// What `update` asks the event loop to do: start background work (its result comes back as an
/// event) or hand an action to the journal thread.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Per-case figures and confusion of `run` at `threshold`.
    OperatingPoint { run: usize, threshold: f64 },
    /// Write the workspace (tags) to disk.
    SaveWorkspace(crate::workspace::Workspace),
    /// Change the saved views file (the last view, or a named one).
    SaveView(super::saved_view::Change),
    /// Validate, check and measure the pack of this epoch again (after a reload).
    Analyse(u64),
    /// Disagreement between two runs (a sort key), computed from their masks.
    Disagreement(DisagreementKey),
    /// Entropy of a run's probability maps (a sort key).
    Entropy(u64, usize),
    /// Export cases (with every run) to a pack folder, appending when it already is a pack.
    Export(crate::export::Request),
    /// Write the list (one row per case) to a CSV or JSON file.
    ExportList(std::path::PathBuf, Box<crate::case_list::CaseList>),
    /// Record, undo or sign in the review journal (review mode).
    Review(super::review::ReviewCmd),
}

impl App {
    pub fn new(pack: Arc<Pack>, config: Config, graphics: String) -> App {
        let problem_counts = vec![(0u32, 0u32); pack.cases.len()];
        let style = Style::new(config.theme.palette(&pack));
        let run = (!pack.runs.is_empty()).then_some(0);
        let mut app = App {
            order: (0..pack.cases.len()).collect(),
            pack,
            config,
            pos: 0,
            focus: Pane::Cases,
            run,
            compare: None,
            workspace: crate::workspace::Workspace::default(),
            gt_look: GtLook::Outline,
            error_view: false,
            layout: Layout::Single,
            style,
            viewport: Viewport::fit(),
            pixel_cursor: None,
            window_drag: None,
            slice_of: (usize::MAX, 0),
            selected: None,
            show_details: true,
            details_instead: false,
            screen: (0, 0),
            filter: None,
            sort: SortKey::Case,
            overlay: Overlay::None,
            help_scroll: 0,
            details_scroll: (0, 0),
            notice: None,
            frame: None,
            image_cells: (0, 0),
            cell_pixels: (1, 2),
            max_graphic: None,
            should_quit: false,
            problem_counts,
            problems: Vec::new(),
            validated: false,
            flags: Vec::new(),
            rule_ids: None,
            checked: None,
            drift: None,
            analysis: None,
            graphics,
            metrics: Vec::new(),
            metrics_error: None,
            metrics_view: false,
            operating: Vec::new(),
            effects: Vec::new(),
            review: None,
            network_view: false,
            pack_epoch: 0,
            reloaded: None,
            rules_file: None,
            review_order: None,
            regression: None,
            disagreement: None,
            entropy: None,
            saved_views: super::saved_view::Views::default(),
            last_view: None,
            default_view: None,
        };
        let loaded = app.pack.problems.clone();
        app.add_problems(loaded);
        app.refresh_order();
        app
    }

    /// The run whose model's input the image pane shows, when the network's-eye view is on.
    pub fn network_run(&self) -> Option<usize> {
        let r = self.run?;
        (self.network_view && self.pack.runs[r].sources.model_file.is_some()).then_some(r)
    }

    /// The key that does `action` now, for messages that name one: the first the keymap lists
    /// that works (while reviewing, one the review layer leaves the dashboard); else `otherwise`
    /// (a command that does the same, say).
    pub fn key_or(&self, action: Action, otherwise: &str) -> String {
        self.config
            .keymap
            .keys_now(action, self.review.is_some())
            .into_iter()
            .next()
            .unwrap_or_else(|| otherwise.to_string())
    }

    /// The first line of the details pane shown (its scroll applies to the case it was made on).
    pub fn details_top(&self) -> usize {
        match self.details_scroll {
            (c, top) if Some(c) == self.case() => top,
            _ => 0,
        }
    }

    /// Keep the scroll positions within what there is to scroll (the limits come from the
    /// layout: [`super::view::scroll_limits`]).
    pub fn clamp_scrolls(&mut self, (help, details): (usize, usize)) {
        self.help_scroll = self.help_scroll.min(help);
        self.details_scroll.1 = self.details_scroll.1.min(details);
    }

    /// The terminal is too narrow for the details pane beside the image (`D` puts it in the
    /// image's place).
    pub fn narrow(&self) -> bool {
        self.screen.0 > 0 && self.screen.0 < super::view::WIDE
    }

    /// Problems attached to one case.
    pub fn case_problems(&self, case: usize) -> impl Iterator<Item = &crate::pack::Problem> {
        self.problems.iter().filter(move |p| p.case == Some(case))
    }

    /// The case under review, if the queue is not empty.
    pub fn case(&self) -> Option<usize> {
        self.order.get(self.pos).copied()
    }

    pub fn say(&mut self, text: impl Into<String>) {
        self.notice = Some(Notice {
            text: text.into(),
            severity: None,
        });
    }

    pub fn caution(&mut self, text: impl Into<String>) {
        self.notice = Some(Notice {
            text: text.into(),
            severity: Some(Level::Warning),
        });
    }

    pub fn warn(&mut self, text: impl Into<String>) {
        self.notice = Some(Notice {
            text: text.into(),
            severity: Some(Level::Error),
        });
    }

    /// The views the image pane shows, left to right (or top to bottom when stacked).
    pub fn views(&self) -> Vec<View> {
        let single = |run: Option<usize>| -> View {
            match (run, self.error_view, self.gt_look) {
                (Some(r), true, _) => View::Error(r),
                (Some(r), false, GtLook::Off) => View::Prediction(r),
                (Some(r), false, GtLook::Fill) => View::OverlayGtFill(r),
                (Some(r), false, GtLook::Outline) => View::Overlay(r),
                (None, _, GtLook::Off) => View::Image,
                (None, _, _) => View::GroundTruth,
            }
        };
        match (self.layout, self.run) {
            (Layout::GtRun, Some(r)) => vec![
                View::GroundTruth,
                if self.error_view {
                    View::Error(r)
                } else {
                    View::Prediction(r)
                },
            ],
            (Layout::RunRun, Some(r)) => {
                let b = self.beside().unwrap_or((r + 1) % self.pack.runs.len().max(1));
                // the error view of both runs, each against the ground truth
                if self.error_view {
                    vec![View::Error(r), View::Error(b)]
                } else {
                    vec![View::Prediction(r), View::Prediction(b)]
                }
            }
            _ => vec![single(self.run)],
        }
    }

    /// The render style in force (the ground-truth look decides fill vs outline in the overlay).
    pub fn render_style(&self) -> Style {
        let mut s = self.style.clone();
        s.selected = match (self.selected, self.run) {
            (Some(i), Some(r)) => Some((crate::render::Source::Run(r), i)),
            _ => None,
        };
        s.cursor = self.pixel_cursor;
        if let Some(case) = self.case() {
            let colour = |sev: crate::rules::Severity| -> [u8; 3] {
                let c = match sev {
                    crate::rules::Severity::Critical => self.config.theme.flag.critical,
                    crate::rules::Severity::Major => self.config.theme.flag.major,
                    crate::rules::Severity::Minor => self.config.theme.flag.minor,
                };
                match c {
                    ratatui::style::Color::Rgb(r, g, b) => [r, g, b],
                    _ => [255, 80, 40],
                }
            };
            // each panel's own flags: a run's on that run's panel, the ground truth's on its own
            // (compose draws each highlight only on the panels of its source)
            let owners: Vec<crate::pack::Source> = self.views().iter().filter_map(|v| v.panel().owner()).collect();
            let slice = self.slice();
            s.highlights = self
                .flags
                .iter()
                .filter(|f| f.case == case && f.source.is_some_and(|src| owners.contains(&src)))
                // a flag found on a volume's slice is drawn on that slice; others on the first
                .filter(|f| f.slice.unwrap_or(0) == slice)
                .filter_map(|f| {
                    f.highlight.clone().map(|rle| crate::render::compose::Highlight {
                        rle,
                        color: colour(f.severity),
                        source: f.source,
                    })
                })
                .collect();
        }
        s
    }

    pub fn frame_key(&self) -> Option<FrameKey> {
        let case = self.case()?;
        let (cols, rows) = self.image_cells;
        if cols < 4 || rows < 2 {
            return None;
        }
        let (fw, fh) = self.cell_pixels;
        let mut style = self.render_style();
        // never larger than the terminal draws: xterm shows nothing of a sixel image beyond
        // its maxGraphicSize, and the case would count as shown on a blank pane (the worker
        // fits each panel within it)
        let (_, px) = super::graphic_limit::fit_cells((cols, rows), (fw, fh), self.max_graphic);
        // at halfblock resolution, score digits would be unreadable: the details pane lists them
        if px.0 < 400 {
            style.scores = false;
        }
        let mut views = self.views();
        let slice = self.slice();
        if slice > 0 {
            // annotations belong to frame 0 (flags of rules checked on every slice stay)
            style.instances = false;
        }
        if let Some(r) = self.network_run() {
            // tensor pixels: label masks and boxes are carried there (instance masks are not)
            views = vec![View::Overlay(r)];
            style.highlights.clear();
            style.cursor = None;
        }
        Some(FrameKey {
            case,
            views,
            style,
            viewport: self.viewport,
            cells: (cols, rows),
            cell: (fw, fh),
            limit: self.max_graphic,
            network: self.network_run(),
            slice,
        })
    }

    fn predictions_len(&self) -> usize {
        match (self.case(), self.run) {
            (Some(c), Some(r)) => self.pack.runs[r].annotations[c].instances.len(),
            _ => 0,
        }
    }

    /// Apply one action; returns what it asks the event loop to do.
    pub fn update(&mut self, action: Action) -> Vec<Effect> {
        self.apply(action);
        self.want_operating();
        self.take_effects()
    }

    /// What the app has asked for since the last call (after events that are not actions: a
    /// reload, metrics arriving, a prompt's line).
    pub fn take_effects(&mut self) -> Vec<Effect> {
        self.note_view_change();
        std::mem::take(&mut self.effects)
    }

    /// What has been asked for and not taken yet.
    pub fn pending_effects(&self) -> &[Effect] {
        &self.effects
    }

    fn apply(&mut self, action: Action) {
        use Action::*;
        if !matches!(self.overlay, Overlay::None) && action != Quit {
            // overlays take their own keys (handled by the event loop); anything else closes them
            self.overlay = Overlay::None;
            if matches!(action, Cancel | Help) {
                return;
            }
        }
        match action {
            NextCase | PrevCase => {
                let d: i64 = if action == NextCase { 1 } else { -1 };
                match self.focus {
                    Pane::Image => self.move_cursor(0, d),
                    Pane::Details => {
                        let n = self.predictions_len();
                        if n > 0 {
                            let cur = self.selected.map(|s| s as i64).unwrap_or(-1);
                            self.selected = Some((cur + d).rem_euclid(n as i64) as usize);
                        }
                    }
                    Pane::Cases => self.move_to((self.pos as i64 + d).max(0) as usize),
                }
            }
            Left | Right => {
                let d = if action == Right { 1 } else { -1 };
                if self.focus == Pane::Image {
                    self.move_cursor(d, 0);
                } else if action == Right {
                    self.move_to(self.pos + 1);
                } else {
                    self.move_to(self.pos.saturating_sub(1));
                }
            }
            FirstCase => self.move_to(0),
            LastCase => self.move_to(self.order.len().saturating_sub(1)),
            PageDown | PageUp if self.focus == Pane::Details => {
                let top = self.details_top();
                let top = if action == PageDown {
                    top + 10
                } else {
                    top.saturating_sub(10)
                };
                self.details_scroll = (self.case().unwrap_or(0), top);
            }
            PageDown => self.move_to(self.pos + 10),
            PageUp => self.move_to(self.pos.saturating_sub(10)),
            NextPane | PrevPane => {
                let panes: Vec<Pane> = if self.narrow() && self.details_instead {
                    vec![Pane::Cases, Pane::Details]
                } else if self.show_details && !self.narrow() {
                    vec![Pane::Cases, Pane::Image, Pane::Details]
                } else {
                    vec![Pane::Cases, Pane::Image]
                };
                let i = panes.iter().position(|p| *p == self.focus).unwrap_or(0) as i64;
                let d = if action == NextPane { 1 } else { -1 };
                self.focus = panes[(i + d).rem_euclid(panes.len() as i64) as usize];
                if self.focus == Pane::Image && self.pixel_cursor.is_none() {
                    self.pixel_cursor = Some(self.image_center());
                }
            }
            CycleGroundTruth => {
                self.gt_look = match self.gt_look {
                    GtLook::Outline => GtLook::Fill,
                    GtLook::Fill => GtLook::Off,
                    GtLook::Off => GtLook::Outline,
                };
                self.say(format!(
                    "ground truth: {}",
                    match self.gt_look {
                        GtLook::Outline => "outline",
                        GtLook::Fill => "fill",
                        GtLook::Off => "off",
                    }
                ));
            }
            CycleRun => {
                let n = self.pack.runs.len();
                self.run = match self.run {
                    None if n > 0 => Some(0),
                    Some(r) if r + 1 < n => Some(r + 1),
                    _ => None,
                };
                self.selected = None;
                self.refresh_order();
                let name = self
                    .run
                    .map(|r| self.pack.runs[r].name.0.clone())
                    .unwrap_or_else(|| "none".into());
                self.say(format!("run: {name}"));
            }
            ToggleError => {
                if self.run.is_none() {
                    let key = self.key_or(CycleRun, ":run NAME");
                    self.warn(format!(
                        "the error view compares a run with the ground truth: choose a run with {key}"
                    ));
                } else {
                    self.error_view = !self.error_view;
                }
            }
            FlipRuns => self.flip_runs(),
            CycleLayout => {
                self.layout = match self.layout {
                    Layout::Single if self.run.is_some() => Layout::GtRun,
                    Layout::GtRun if self.pack.runs.len() >= 2 => Layout::RunRun,
                    _ => Layout::Single,
                };
            }
            ToggleFill => self.style.fill = !self.style.fill,
            ToggleOutline => self.style.outline = !self.style.outline,
            ToggleBoxes => self.style.boxes = !self.style.boxes,
            FillMore | FillLess => {
                let d = if action == FillMore { 0.1 } else { -0.1 };
                self.style.fill_opacity = ((self.style.fill_opacity + d) * 10.0).round().clamp(0.0, 10.0) / 10.0;
                self.style.fill = self.style.fill_opacity > 0.0;
                self.say(format!("fill opacity {:.0}%", self.style.fill_opacity * 100.0));
            }
            OutlineMore | OutlineLess => {
                let d = if action == OutlineMore { 0.1 } else { -0.1 };
                self.style.outline_opacity = ((self.style.outline_opacity + d) * 10.0).round().clamp(0.0, 10.0) / 10.0;
                self.style.outline = self.style.outline_opacity > 0.0;
                self.say(format!("outline opacity {:.0}%", self.style.outline_opacity * 100.0));
            }
            ThresholdUp | ThresholdDown => {
                let d = if action == ThresholdUp { 0.05 } else { -0.05 };
                self.style.score_threshold =
                    ((self.style.score_threshold + d) * 100.0).round().clamp(0.0, 100.0) / 100.0;
                self.say(format!("score threshold {:.2}", self.style.score_threshold));
                if self.sort == SortKey::Error || self.sort == SortKey::Uncertain {
                    self.refresh_order();
                }
                if self.sort == SortKey::Disagreement {
                    // predictions below the threshold no longer count: measure again
                    self.set_sort(SortKey::Disagreement);
                }
            }
            ToggleMetrics | ToggleDetails if self.review.as_ref().is_some_and(|r| r.blind_seed.is_some()) => {
                self.caution("blind review: the run's details and metrics stay hidden until you sign");
            }
            ToggleNetwork => match self.run {
                Some(r) if self.pack.runs[r].sources.model_file.is_some() => {
                    self.network_view = !self.network_view;
                    let text = if self.network_view {
                        format!(
                            "network's-eye view: the tensor the model receives ({}: back to the image)",
                            self.key_or(ToggleNetwork, ":q")
                        )
                    } else {
                        "the image".to_string()
                    };
                    self.say(text);
                }
                Some(r) => self.caution(format!(
                    "run {} has no model_file in lightbox.toml: runs made by `lightbox infer` have one",
                    self.pack.runs[r].name.0
                )),
                None => {
                    let key = self.key_or(CycleRun, ":run NAME");
                    self.caution(format!("choose a run ({key}) made by a model to see what it receives"))
                }
            },
            ToggleMetrics => {
                self.metrics_view = !self.metrics_view;
                if self.metrics_view && self.run.is_none() {
                    let key = self.key_or(CycleRun, ":run NAME");
                    self.caution(format!(
                        "metrics compare a run with the ground truth: choose a run with {key}"
                    ));
                }
            }
            ToggleDetails if self.narrow() => {
                // no room beside the image: the details take its place, and give it back
                self.details_instead = !self.details_instead;
                let key = self.key_or(ToggleDetails, "toggle_details");
                if self.details_instead {
                    if self.focus == Pane::Image {
                        self.focus = Pane::Details;
                    }
                    self.say(format!("the details in place of the image ({key}: the image)"));
                } else {
                    if self.focus == Pane::Details {
                        self.focus = Pane::Cases;
                    }
                    self.say(format!("the image ({key}: its details)"));
                }
            }
            ToggleDetails => {
                self.show_details = !self.show_details;
                if !self.show_details && self.focus == Pane::Details {
                    self.focus = Pane::Cases;
                }
            }
            ZoomIn => self.zoom(1.5),
            ZoomOut => self.zoom(1.0 / 1.5),
            ZoomFit => self.viewport = Viewport::fit(),
            PanLeft => self.pan(-1.0, 0.0),
            PanRight => self.pan(1.0, 0.0),
            PanUp => self.pan(0.0, -1.0),
            PanDown => self.pan(0.0, 1.0),
            NextSlice => self.step_slice(1),
            PrevSlice => self.step_slice(-1),
            ToggleCursor => {
                self.pixel_cursor = match self.pixel_cursor {
                    Some(_) => None,
                    None => Some(self.image_center()),
                };
            }
            WindowPreset => {
                self.style.preset = self.style.preset.next_for(self.scan());
                self.style.window = None;
                let name = self
                    .current_window()
                    .map(|(_, n)| n)
                    .unwrap_or_else(|| self.style.preset.name().into());
                self.say(format!("window: {name}"));
            }
            WindowNarrower => self.adjust_window(0.8, 0.0),
            WindowWider => self.adjust_window(1.25, 0.0),
            LevelDown => self.adjust_window(1.0, -0.05),
            LevelUp => self.adjust_window(1.0, 0.05),
            Filter => {
                let input = self.filter.as_ref().map(|(s, _)| s.clone()).unwrap_or_default();
                self.overlay = Overlay::Prompt {
                    kind: PromptKind::Filter,
                    input,
                };
            }
            Sort => self.overlay = Overlay::Sort,
            Tag => {
                if let Some(case) = self.case() {
                    let id = &self.pack.cases[case].id.0;
                    let current: Vec<&str> = self.workspace.tags(id).collect();
                    self.say(if current.is_empty() {
                        "no tags yet: type words to add, -word to remove".to_string()
                    } else {
                        format!("tags: {}", current.join(" "))
                    });
                    self.overlay = Overlay::Prompt {
                        kind: PromptKind::Tag,
                        input: String::new(),
                    };
                }
            }
            Command => {
                self.overlay = Overlay::Prompt {
                    kind: PromptKind::Command,
                    input: String::new(),
                }
            }
            ClearFilter => {
                self.filter = None;
                self.refresh_order();
                self.say("filter cleared");
            }
            Help => {
                self.overlay = Overlay::Help;
                self.help_scroll = 0;
            }
            Cancel => {
                self.notice = None;
                self.selected = None;
            }
            Quit => self.should_quit = true,
            other => {
                if let Some(k) = other.class_toggle() {
                    self.toggle_class(k);
                }
            }
        }
    }

    fn toggle_class(&mut self, k: usize) {
        let Some(c) = self.pack.classes.get(k) else {
            self.warn(format!(
                "there is no class {} (the pack has {})",
                k + 1,
                self.pack.classes.len()
            ));
            return;
        };
        let (id, name) = (c.id, c.name.clone());
        if let Some(i) = self.style.hidden.iter().position(|h| *h == id) {
            self.style.hidden.remove(i);
            self.say(format!("{name} shown"));
        } else {
            self.style.hidden.push(id);
            self.say(format!("{name} hidden"));
        }
    }
}
