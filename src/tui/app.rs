//! The dashboard's state and `update`: an [`Action`] changes the state; what the image pane
//! needs is derived from the state ([`App::frame_key`]) and produced by workers, so `update`
//! never touches the disk.

use super::action::Action;
use super::config::Config;
use super::worker::Frame;
use crate::pack::{Pack, Severity};
use crate::query::{self, Ctx, Expr};
use crate::render::{Style, View, Viewport, WindowPreset};
use std::sync::Arc;

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

/// Keys for sorting the case list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// Pack order.
    Case,
    /// Highest prediction score first.
    MaxScore,
    /// Scores nearest the threshold first (most uncertain).
    Uncertain,
    /// Most predictions first.
    Predictions,
    /// Cases with problems first (errors before warnings).
    Problems,
    /// Flagged cases first, by severity.
    Flags,
    /// Worst errors first: false positives + misses at the score threshold, plus Σ(1 − Dice).
    Error,
    /// Compare mode: how much worse the candidate is than the baseline (`lightbox diff`'s
    /// ranking: error change plus the weight of new flags minus fixed ones), worst first.
    Regression,
    /// Where two runs disagree most (unmatched predictions, 1 − IoU of matched ones and of
    /// label masks); computed in the background.
    Disagreement,
    /// Highest mean entropy of the run's probability maps first; computed in the background.
    Entropy,
    /// Most out-of-distribution inputs first (the largest robust z-score of a flagged input).
    Ood,
    /// Review session: what still needs a verdict first — required and open, then unsure,
    /// rejected, other open cases, accepted.
    Review,
}

impl SortKey {
    pub const ALL: [SortKey; 12] = [
        SortKey::Case,
        SortKey::MaxScore,
        SortKey::Uncertain,
        SortKey::Predictions,
        SortKey::Problems,
        SortKey::Flags,
        SortKey::Error,
        SortKey::Regression,
        SortKey::Disagreement,
        SortKey::Entropy,
        SortKey::Ood,
        SortKey::Review,
    ];

    /// The key that picks it in the sort menu: 1–9, then a, b, ...
    pub fn menu_key(i: usize) -> char {
        if i < 9 {
            char::from(b'1' + i as u8)
        } else {
            char::from(b'a' + (i - 9) as u8)
        }
    }

    /// The sort key a menu key picks.
    pub fn from_menu_key(c: char) -> Option<SortKey> {
        let i = match c {
            '1'..='9' => c as usize - '1' as usize,
            'a'..='z' => 9 + (c as usize - 'a' as usize),
            _ => return None,
        };
        SortKey::ALL.get(i).copied()
    }

    pub fn name(&self) -> &'static str {
        match self {
            SortKey::Case => "case",
            SortKey::MaxScore => "max score",
            SortKey::Uncertain => "uncertain",
            SortKey::Predictions => "predictions",
            SortKey::Problems => "problems",
            SortKey::Flags => "flags",
            SortKey::Error => "error",
            SortKey::Regression => "regression",
            SortKey::Disagreement => "disagreement",
            SortKey::Entropy => "entropy",
            SortKey::Ood => "ood",
            SortKey::Review => "review",
        }
    }
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
    pub severity: Option<Severity>,
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
    /// Pixels to compose, per panel row and column.
    pub pixels: (u32, u32),
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
    pub compare: Option<usize>,
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
    pub show_details: bool,
    pub filter: Option<(String, Expr)>,
    pub sort: SortKey,
    pub overlay: Overlay,
    /// First line of the help overlay shown (it scrolls when the terminal is small).
    pub help_scroll: usize,
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
    /// Which protocol draws images (for the status bar and help).
    pub graphics: String,
    /// Per run: its metrics, computed in the background once the pack is open.
    pub metrics: Vec<Option<Arc<crate::metrics::Report>>>,
    /// Whether the metrics computation failed (and why).
    pub metrics_error: Option<String>,
    /// The image pane shows the metrics view (per-class table, confusion, curves).
    pub metrics_view: bool,
    /// Per-case figures and the confusion matrix at the current run and score threshold
    /// (recomputed in the background when either changes).
    pub operating: Option<Arc<OperatingAt>>,
    /// Work for the event loop to start in the background (the app itself never blocks).
    pub requests: Vec<Request>,
    /// The image pane shows the tensor the run's model receives (`v`).
    pub network_view: bool,
    /// Review mode (`lightbox review`): verdicts, progress, signing.
    pub review: Option<super::review::ReviewMode>,
    /// Actions for the journal thread (drained by the event loop).
    pub review_out: Vec<super::review::ReviewCmd>,
    /// Bumped on every reload: background results computed on an older pack are dropped.
    pub pack_epoch: u64,
    /// The latest reload of the pack (watch), for the status bar.
    pub reloaded: Option<ReloadNote>,
    /// The rules file given on the command line (else the manifest's), for checks after reloads.
    pub rules_file: Option<std::path::PathBuf>,
    /// A review session's plan order (required cases first), the base that filters and sorts
    /// start from while reviewing.
    pub review_order: Option<Vec<usize>>,
    /// Compare mode (`:compare NAME`): (baseline, candidate) run indices.
    pub compare_pair: Option<(usize, usize)>,
    /// Per case: how much worse the candidate is (compare mode), once both runs' metrics are in.
    pub regression: Option<Vec<f64>>,
    /// Per case: disagreement between two runs at a threshold, for (epoch, a, b, threshold).
    pub disagreement: Option<(DisagreementKey, PerCase)>,
    /// Per case: mean entropy of a run's probability maps, for (epoch, run).
    pub entropy: Option<((u64, usize), PerCase)>,
}

/// A value per case, `None` where it does not apply (computed in the background).
pub type PerCase = Arc<Vec<Option<f64>>>;

/// What a disagreement computation was for: (pack epoch, run a, run b, threshold in 1/1000).
pub type DisagreementKey = (u64, usize, usize, u32);

/// A reload of the pack: when, what changed, and (once the check is back) the flags it brought.
#[derive(Debug, Clone, PartialEq)]
pub struct ReloadNote {
    pub at: std::time::Instant,
    /// What changed, in words (`candidate`, `the rules`).
    pub what: String,
    /// Sources whose flags may have changed (by name).
    pub sources: Vec<String>,
    /// Flags of those sources before the reload: (case id, source, rule).
    pub before: std::collections::HashSet<(String, String, String)>,
    /// Flags of those sources after it that were not there before; `None` until checked.
    pub new_flags: Option<usize>,
    /// Flags that went away.
    pub gone_flags: Option<usize>,
}

impl ReloadNote {
    /// `candidate reloaded 2 s ago: 3 new flags`.
    pub fn text(&self, now: std::time::Instant) -> String {
        let secs = now.saturating_duration_since(self.at).as_secs();
        let ago = match secs {
            0 => "just now".to_string(),
            s if s < 90 => format!("{s} s ago"),
            s => format!("{} min ago", s / 60),
        };
        let flags = match (self.new_flags, self.gone_flags) {
            (None, _) => " · checking…".to_string(),
            (Some(0), Some(0) | None) => ": no new flags".to_string(),
            (Some(n), Some(0) | None) => format!(": {n} new flag{}", if n == 1 { "" } else { "s" }),
            (Some(n), Some(g)) => format!(": {n} new flag{}, {g} gone", if n == 1 { "" } else { "s" }),
        };
        format!("{} reloaded {ago}{flags}", self.what)
    }
}

pub use crate::metrics::operating::OperatingAt;

/// Background work the app asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// Per-case figures and confusion of `run` at `threshold`.
    OperatingPoint { run: usize, threshold: f64 },
    /// Write the workspace (tags) to disk.
    SaveWorkspace(crate::workspace::Workspace),
    /// Validate, check and measure the pack of this epoch again (after a reload).
    Analyse(u64),
    /// Disagreement between two runs (a sort key), computed from their masks.
    Disagreement(DisagreementKey),
    /// Entropy of a run's probability maps (a sort key).
    Entropy(u64, usize),
    /// Export cases (with every run) to a pack folder, appending when it already is a pack.
    Export(crate::export::Request),
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
            filter: None,
            sort: SortKey::Case,
            overlay: Overlay::None,
            help_scroll: 0,
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
            graphics,
            metrics: Vec::new(),
            metrics_error: None,
            metrics_view: false,
            operating: None,
            requests: Vec::new(),
            review: None,
            review_out: Vec::new(),
            network_view: false,
            pack_epoch: 0,
            reloaded: None,
            rules_file: None,
            review_order: None,
            compare_pair: None,
            regression: None,
            disagreement: None,
            entropy: None,
        };
        let loaded = app.pack.problems.clone();
        app.add_problems(loaded);
        app.refresh_order();
        app
    }

    /// Attach problems (from loading or background validation) to their cases.
    pub fn add_problems(&mut self, ps: Vec<crate::pack::Problem>) {
        for p in &ps {
            if let Some(c) = p.case
                && let Some(n) = self.problem_counts.get_mut(c)
            {
                match p.severity {
                    Severity::Error => n.0 += 1,
                    Severity::Warning => n.1 += 1,
                }
            }
        }
        self.problems.extend(ps);
    }

    /// Flags that concern a case under the current run: the input's, the ground truth's, the run's.
    pub fn case_flags(&self, case: usize) -> impl Iterator<Item = &crate::rules::Flag> {
        crate::rules::eval::case_flags(&self.flags, case, self.run)
    }

    /// Take the check's flags (from the background thread).
    pub fn set_flags(&mut self, flags: Vec<crate::rules::Flag>) {
        self.checked = Some(Ok(flags.len()));
        self.flags = flags;
        if let Some(note) = self.reloaded.as_mut().filter(|n| n.new_flags.is_none()) {
            let after: std::collections::HashSet<(String, String, String)> =
                flag_keys(&self.pack, &self.flags, &note.sources).collect();
            note.new_flags = Some(after.difference(&note.before).count());
            note.gone_flags = Some(note.before.difference(&after).count());
        }
        if matches!(self.sort, SortKey::Flags | SortKey::Regression | SortKey::Ood) || self.filter.is_some() {
            self.refresh_order();
        }
    }

    /// Take a reloaded pack (watch): the same case, run, comparison and view stay on screen;
    /// problems, flags and metrics are recomputed in the background (the event loop starts that).
    pub fn replace_pack(&mut self, pack: Arc<Pack>, changed: &std::collections::BTreeSet<crate::watch::Target>) {
        use crate::watch::Target;
        let case_id = self.case().map(|c| self.pack.cases[c].id.clone());
        let name = |p: &Pack, r: Option<usize>| r.and_then(|r| p.runs.get(r)).map(|r| r.name.0.clone());
        let (run_name, compare_name) = (name(&self.pack, self.run), name(&self.pack, self.compare));
        let everything = changed.contains(&Target::Manifest) || changed.contains(&Target::Rules);
        let sources: Vec<String> = if everything {
            crate::rules::eval::all_sources(&pack)
                .into_iter()
                .map(|s| pack.source_name(s))
                .collect()
        } else {
            changed
                .iter()
                .map(|t| match t {
                    Target::Run(r) => r.clone(),
                    _ => pack.source_name(crate::pack::Source::GroundTruth),
                })
                .collect()
        };
        let mut before = flag_keys(&self.pack, &self.flags, &sources).collect();
        let mut what = changed.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(", ");
        // reloaded again before the last reload was checked: count from the flags before that
        if let Some(prev) = self.reloaded.take().filter(|n| n.new_flags.is_none()) {
            before = prev.before;
            if prev.what != what {
                what = format!("{}, {what}", prev.what);
            }
        }
        self.pack = pack;
        self.pack_epoch += 1;
        self.problem_counts = vec![(0, 0); self.pack.cases.len()];
        self.problems.clear();
        self.validated = false;
        let loaded = self.pack.problems.clone();
        self.add_problems(loaded);
        self.flags.clear();
        self.checked = None;
        self.metrics = Vec::new();
        self.metrics_error = None;
        self.operating = None;
        self.selected = None;
        let find = |n: Option<String>| n.and_then(|n| self.pack.run_index(&n).ok());
        self.run = find(run_name).or((!self.pack.runs.is_empty()).then_some(0));
        self.compare = find(compare_name);
        if self.compare.is_none() && self.layout == Layout::RunRun {
            self.layout = Layout::Single;
        }
        if let Some((text, _)) = self.filter.take() {
            // re-parsed: a class may have come or gone with the manifest
            if let Ok(e) = crate::query::parse(&text, &self.pack) {
                self.filter = Some((text, e));
            }
        }
        self.refresh_order();
        if let Some(id) = case_id
            && let Some(p) = self.order.iter().position(|&c| self.pack.cases[c].id == id)
        {
            self.pos = p;
        }
        self.pos = self.pos.min(self.order.len().saturating_sub(1));
        self.notice = None;
        self.reloaded = Some(ReloadNote {
            at: std::time::Instant::now(),
            what,
            sources,
            before,
            new_flags: None,
            gone_flags: None,
        });
    }

    /// The run whose model's input the image pane shows, when the network's-eye view is on.
    pub fn network_run(&self) -> Option<usize> {
        let r = self.run?;
        (self.network_view && self.pack.runs[r].sources.model_file.is_some()).then_some(r)
    }

    /// Enter review mode: the plan's required cases first, in plan order, then the rest; the
    /// first unreviewed required case on screen.
    pub fn start_review(&mut self, mode: super::review::ReviewMode) {
        let order = mode.plan.review_order(&self.pack, mode.blind_seed);
        if mode.blind_seed.is_some() {
            // blind: the run's name and scores hidden (the plan shuffled the order)
            self.style.scores = false;
        }
        self.review_order = Some(order.clone());
        self.order = order;
        self.pos = self
            .order
            .iter()
            .position(|&c| {
                let id = &self.pack.cases[c].id.0;
                mode.required(id) && !mode.state.reviewed(id)
            })
            .unwrap_or(0);
        self.show_details = false;
        let p = mode.progress;
        self.review = Some(mode);
        self.say(format!(
            "review: {p} · a accept · r reject · u unsure · n note · z undo · S sign"
        ));
    }

    /// Seconds the current case has been on screen.
    fn seconds_on_screen(&self) -> f64 {
        match (self.review.as_ref().and_then(|r| r.on_screen), self.case()) {
            (Some((c, since)), Some(now)) if c == now => since.elapsed().as_secs_f64(),
            _ => 0.0,
        }
    }

    /// A verdict on the current case: sent to the journal, then on to the next required case.
    pub fn give_verdict(&mut self, verdict: crate::review::Verdict, reason: Option<String>) {
        let Some(c) = self.case() else { return };
        let case = self.pack.cases[c].id.0.clone();
        let seconds = (self.seconds_on_screen() * 10.0).round() / 10.0;
        let Some(r) = self.review.as_mut() else { return };
        r.choosing_reason = false;
        r.pending += 1;
        let flag = r.flag.take();
        let on_flag = flag.is_some();
        self.review_out
            .push(super::review::ReviewCmd::Record(crate::review::Event::Verdict {
                case: case.clone(),
                verdict,
                flag,
                reason,
                note: None,
                seconds,
            }));
        // a verdict on one flag stays on the case: the case still needs its own verdict
        if on_flag {
            return;
        }
        // advance to the next required case without a verdict (this one counts as done)
        let n = self.order.len();
        let next = (1..n).map(|d| (self.pos + d) % n).find(|&p| {
            let id = &self.pack.cases[self.order[p]].id.0;
            id != &case && r.required(id) && r.state.case_verdict(id).is_none()
        });
        if let Some(p) = next {
            self.pos = p;
            self.selected = None;
        }
    }

    /// Review-mode keys; `true` when the key was taken.
    pub fn review_key(&mut self, c: char) -> bool {
        use crate::review::Verdict;
        let Some(r) = self.review.as_mut() else { return false };
        if r.choosing_reason {
            if let Some(d) = c.to_digit(10)
                && let Some(reason) = r.reasons.get((d as usize).wrapping_sub(1)).cloned()
            {
                self.give_verdict(Verdict::Reject, Some(reason));
            } else {
                r.choosing_reason = false;
                self.say("reject cancelled");
            }
            return true;
        }
        match c {
            'a' => self.give_verdict(Verdict::Accept, None),
            'u' => self.give_verdict(Verdict::Unsure, None),
            'r' => {
                r.choosing_reason = true;
                let list: Vec<String> = r
                    .reasons
                    .iter()
                    .enumerate()
                    .map(|(i, x)| format!("{} {x}", i + 1))
                    .collect();
                self.say(format!("reject because: {} (esc cancels)", list.join(" · ")));
            }
            'f' => {
                // the next flag of this case (input, ground truth or this run), then none
                let rules: Vec<(String, String)> = self
                    .case()
                    .map(|c| {
                        self.case_flags(c)
                            .map(|f| (f.rule.clone(), f.message.clone()))
                            .collect()
                    })
                    .unwrap_or_default();
                let Some(r) = self.review.as_mut() else { return true };
                let next = match &r.flag {
                    None => rules.first(),
                    Some(cur) => rules
                        .iter()
                        .position(|(id, _)| id == cur)
                        .and_then(|i| rules.get(i + 1)),
                };
                match next {
                    Some((id, msg)) => {
                        r.flag = Some(id.clone());
                        let text = format!(
                            "verdict on flag {id}: {msg} · a confirmed · r false alarm · f next · esc whole case"
                        );
                        self.say(text);
                    }
                    None => {
                        r.flag = None;
                        self.say(if rules.is_empty() {
                            "this case has no flags"
                        } else {
                            "verdicts apply to the whole case"
                        });
                    }
                }
            }
            'z' => {
                // back to the case whose verdict is taken back
                let last = r.state.undoable.last().copied();
                let case = last.and_then(|seq| {
                    r.state
                        .verdicts
                        .iter()
                        .find(|(_, g)| g.seq == seq)
                        .map(|((c, _), _)| c.clone())
                });
                r.pending += 1;
                self.review_out.push(super::review::ReviewCmd::Undo);
                if let Some(case) = case
                    && let Some(p) = self.order.iter().position(|&k| self.pack.cases[k].id.0 == case)
                {
                    self.pos = p;
                    self.selected = None;
                }
            }
            'n' => {
                self.overlay = Overlay::Prompt {
                    kind: PromptKind::Note,
                    input: String::new(),
                }
            }
            'S' => {
                self.overlay = Overlay::Prompt {
                    kind: PromptKind::Sign,
                    input: String::new(),
                }
            }
            _ => return false,
        }
        true
    }

    /// A note typed at the prompt.
    pub fn review_note(&mut self, text: &str) {
        let (Some(c), Some(r)) = (self.case(), self.review.as_mut()) else {
            return;
        };
        if text.trim().is_empty() {
            return;
        }
        r.pending += 1;
        self.review_out
            .push(super::review::ReviewCmd::Record(crate::review::Event::Note {
                case: self.pack.cases[c].id.0.clone(),
                text: text.trim().to_string(),
            }));
    }

    /// The sign prompt: `approve` or `reject`, and an override reason if required cases are open.
    /// Approving with rejected or unsure cases asks for a confirmation that lists them first.
    pub fn review_sign(&mut self, line: &str) {
        let Some(r) = self.review.as_mut() else { return };
        let line = line.trim();
        let (word, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let approve = match word {
            "approve" => true,
            "reject" => false,
            _ => {
                self.warn("not signed: type approve or reject (then, if required cases are open, why)");
                return;
            }
        };
        let override_reason = (!rest.trim().is_empty()).then(|| rest.trim().to_string());
        let noted = crate::review::record::noted_cases(&r.state);
        if approve && !noted.is_empty() {
            let meaning = crate::review::record::approval_meaning_of(&noted);
            let list: Vec<String> = noted.iter().map(|n| n.describe()).collect();
            self.overlay = Overlay::Prompt {
                kind: PromptKind::ConfirmApproval {
                    noted: noted.len(),
                    override_reason,
                    question: format!("type approve to sign \"{meaning}\", esc cancels · {}", list.join(", ")),
                },
                input: String::new(),
            };
            return;
        }
        self.send_sign(approve, override_reason, None);
    }

    /// The answer to the approval confirmation.
    pub fn review_confirm(&mut self, line: &str, noted: usize, override_reason: Option<String>) {
        if line.trim() == "approve" {
            self.send_sign(true, override_reason, Some(noted));
        } else {
            self.warn("not signed: type approve to confirm, or esc");
        }
    }

    fn send_sign(&mut self, approve: bool, override_reason: Option<String>, noted: Option<usize>) {
        let Some(r) = self.review.as_mut() else { return };
        r.pending += 1;
        let threshold = self.style.score_threshold;
        self.review_out
            .push(super::review::ReviewCmd::Sign(crate::review::action::SignRequest {
                approve,
                override_reason,
                noted,
                threshold,
            }));
    }

    /// The journal's answer.
    pub fn review_reply(&mut self, reply: super::review::ReviewReply) {
        let Some(r) = self.review.as_mut() else { return };
        r.pending = r.pending.saturating_sub(1);
        match reply {
            super::review::ReviewReply::Recorded { state, progress, done } => {
                use crate::review::action::Did;
                r.state = *state;
                r.progress = progress;
                let said = done.said();
                if matches!(done.did, Did::Signed { .. }) {
                    r.signed = Some(said.clone());
                }
                // a display being recorded is not news
                if !matches!(done.did, Did::Shown { .. }) {
                    self.say(format!("✓ recorded {said}"));
                }
            }
            super::review::ReviewReply::Failed(e) => self.warn(format!("NOT recorded: {e}")),
        }
    }

    /// The image the terminal was sent for the current case is one it draws: the frame is the
    /// one wanted now (same case, views and pane size) and no larger than the terminal's
    /// largest graphic. Only then does a review record the case as shown.
    pub fn image_drawn(&self) -> bool {
        let (Some(fr), Some(want)) = (self.frame.as_ref(), self.frame_key()) else {
            return false;
        };
        fr.key == want
            && fr.data.image.is_ok()
            && !fr.bands.is_empty()
            && super::graphic_limit::accepted(fr.key.pixels, self.max_graphic)
    }

    /// The current case's image is on screen: note the time, and record the display once.
    pub fn review_displayed(&mut self, case: usize) {
        let id = self.pack.cases[case].id.0.clone();
        let Some(r) = self.review.as_mut() else { return };
        if r.on_screen.is_none_or(|(c, _)| c != case) {
            r.on_screen = Some((case, std::time::Instant::now()));
        }
        if r.shown_sent.insert(id.clone()) {
            r.pending += 1;
            self.review_out
                .push(super::review::ReviewCmd::Record(crate::review::Event::Shown {
                    case: id,
                }));
        }
    }

    /// Take one run's metrics (from the background thread).
    pub fn set_metrics(&mut self, run: usize, report: Arc<crate::metrics::Report>) {
        if self.metrics.len() <= run {
            self.metrics.resize(run + 1, None);
        }
        self.metrics[run] = Some(report);
        if self.sort == SortKey::Regression && self.pair().is_some_and(|(b, c)| run == b || run == c) {
            self.refresh_order();
        }
        if self.run == Some(run) {
            self.want_operating();
            if self.sort == SortKey::Error {
                self.refresh_order();
            }
        }
    }

    /// The current run's metrics, once computed.
    pub fn run_metrics(&self) -> Option<&Arc<crate::metrics::Report>> {
        self.metrics.get(self.run?)?.as_ref()
    }

    /// The per-case figures at the current run and threshold, when they are up to date.
    pub fn operating_now(&self) -> Option<&OperatingAt> {
        let o = self.operating.as_deref()?;
        (Some(o.run) == self.run && o.threshold == self.style.score_threshold).then_some(o)
    }

    /// Ask for the operating point of the current run and threshold unless it is known or asked.
    pub fn want_operating(&mut self) {
        let Some(run) = self.run else { return };
        if self.run_metrics().is_none() || self.operating_now().is_some() {
            return;
        }
        let r = Request::OperatingPoint {
            run,
            threshold: self.style.score_threshold,
        };
        if !self.requests.contains(&r) {
            self.requests.push(r);
        }
    }

    /// Take a computed operating point; stale ones (another run or threshold) are dropped.
    pub fn set_operating(&mut self, o: Arc<OperatingAt>) {
        if Some(o.run) == self.run && o.threshold == self.style.score_threshold {
            self.operating = Some(o);
            if self.sort == SortKey::Error {
                self.refresh_order();
            }
        }
    }

    /// A case's error under the current run: false positives + misses at the current threshold
    /// (or the metrics' own threshold until that is computed), plus Σ(1 − Dice).
    pub fn case_error(&self, c: usize) -> Option<f64> {
        let m = self.run_metrics()?;
        let f = m.cases.get(c)?;
        let det = match self.operating_now().and_then(|o| o.cases.get(c)) {
            Some(d) => (d.fp + d.fn_) as f64,
            None => (f.fp.unwrap_or(0) + f.fn_.unwrap_or(0)) as f64,
        };
        Some(det + f.seg_error)
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
            severity: Some(Severity::Warning),
        });
    }

    pub fn warn(&mut self, text: impl Into<String>) {
        self.notice = Some(Notice {
            text: text.into(),
            severity: Some(Severity::Error),
        });
    }

    /// The views the image pane shows, left to right.
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
                let b = self.compare.unwrap_or((r + 1) % self.pack.runs.len().max(1));
                vec![View::Prediction(r), View::Prediction(b)]
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
        // its maxGraphicSize, and the case would count as shown on a blank pane
        let (cells, px) = super::graphic_limit::fit_cells((cols, rows), (fw, fh), self.max_graphic);
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
            cells,
            pixels: px,
            network: self.network_run(),
            slice,
        })
    }

    /// Rebuild the queue after a filter or sort change, keeping the current case when it stays.
    pub fn refresh_order(&mut self) {
        let current = self.case();
        if self.sort == SortKey::Regression {
            self.regression = self.pair().and_then(|(b, c)| {
                let (rb, rc) = (self.metrics.get(b)?.as_ref()?, self.metrics.get(c)?.as_ref()?);
                let d = crate::compare::diff_reports(&self.pack, b, c, rb, rc, &self.flags);
                let mut v = vec![0.0; self.pack.cases.len()];
                for x in &d.cases {
                    v[x.index] = x.worse_by;
                }
                Some(v)
            });
        }
        let review_state = self.review.as_ref().map(|r| &r.state);
        let verdict = move |id: &str| review_state.and_then(|s| s.case_verdict(id)).map(|g| g.verdict);
        let ctx = Ctx {
            pack: &self.pack,
            run: self.run,
            problems: &self.problems,
            flags: &self.flags,
            workspace: Some(&self.workspace),
            verdicts: self.review.is_some().then_some(&verdict as &crate::query::VerdictOf),
        };
        // the base order: the pack's, or in a review session the plan's (required cases first)
        let base: Vec<usize> = match &self.review_order {
            Some(o) if self.review.is_some() => o.clone(),
            _ => (0..self.pack.cases.len()).collect(),
        };
        let mut order: Vec<usize> = base
            .into_iter()
            .filter(|&c| self.filter.as_ref().is_none_or(|(_, e)| e.matches(&ctx, c)))
            .collect();
        let key = |c: usize| -> f64 { self.sort_value(c).unwrap_or(f64::NEG_INFINITY) };
        if self.sort != SortKey::Case {
            // stable: ties keep the base order
            order.sort_by(|&a, &b| key(b).partial_cmp(&key(a)).unwrap_or(std::cmp::Ordering::Equal));
        }
        self.order = order;
        self.pos = current
            .and_then(|c| self.order.iter().position(|&x| x == c))
            .unwrap_or(0);
        self.selected = None;
    }

    /// The active sort key's value for a case (larger sorts first), as shown in the list.
    pub fn sort_value(&self, c: usize) -> Option<f64> {
        let preds = self.run.map(|r| &self.pack.runs[r].annotations[c].instances);
        match self.sort {
            SortKey::Case => None,
            SortKey::MaxScore => preds?.iter().filter_map(|i| i.score).reduce(f64::max),
            SortKey::Uncertain => {
                let t = if self.style.score_threshold > 0.0 {
                    self.style.score_threshold
                } else {
                    0.5
                };
                preds?
                    .iter()
                    .filter_map(|i| i.score)
                    .map(|s| -(s - t).abs())
                    .reduce(f64::max)
            }
            SortKey::Predictions => Some(preds?.len() as f64),
            SortKey::Problems => {
                let (e, w) = self.problem_counts[c];
                Some(e as f64 * 1000.0 + w as f64)
            }
            SortKey::Error => self.case_error(c),
            SortKey::Flags => Some(
                self.case_flags(c)
                    .map(|f| match f.severity {
                        crate::rules::Severity::Critical => 10000.0,
                        crate::rules::Severity::Major => 100.0,
                        crate::rules::Severity::Minor => 1.0,
                    })
                    .sum(),
            ),
            SortKey::Regression => self.regression.as_ref()?.get(c).copied(),
            SortKey::Disagreement => {
                let (key, v) = self.disagreement.as_ref()?;
                (Some(*key) == self.disagreement_key()).then_some(())?;
                *v.get(c)?
            }
            SortKey::Entropy => {
                let ((epoch, run), v) = self.entropy.as_ref()?;
                (*epoch == self.pack_epoch && Some(*run) == self.run).then_some(())?;
                *v.get(c)?
            }
            SortKey::Review => {
                let r = self.review.as_ref()?;
                let id = &self.pack.cases[c].id.0;
                Some(match r.state.case_verdict(id).map(|g| g.verdict) {
                    None if r.required(id) => 4.0,
                    Some(crate::review::Verdict::Unsure) => 3.0,
                    Some(crate::review::Verdict::Reject) => 2.0,
                    None => 1.0,
                    Some(crate::review::Verdict::Accept) => 0.0,
                })
            }
            SortKey::Ood => self
                .flags
                .iter()
                .filter(|f| f.case == c && f.rule == crate::check::OOD_RULE && f.source.is_none())
                .map(|f| f.value)
                .reduce(f64::max),
        }
    }

    fn move_to(&mut self, pos: usize) {
        if self.order.is_empty() {
            return;
        }
        let pos = pos.min(self.order.len() - 1);
        if pos != self.pos {
            self.pos = pos;
            self.selected = None;
            self.pixel_cursor = self.pixel_cursor.map(|_| self.image_center());
        }
    }

    fn image_size(&self) -> Option<(u32, u32)> {
        let f = self.frame.as_ref()?;
        let img = f.data.image.as_ref().ok()?;
        Some((img.width, img.height))
    }

    fn image_center(&self) -> (u32, u32) {
        self.image_size().map(|(w, h)| (w / 2, h / 2)).unwrap_or((0, 0))
    }

    fn move_cursor(&mut self, dx: i64, dy: i64) {
        let Some((w, h)) = self.image_size() else {
            return;
        };
        let (x, y) = self.pixel_cursor.unwrap_or((w / 2, h / 2));
        // one step is about one cell of the pane
        let step = self
            .frame
            .as_ref()
            .map(|f| (1.0 / f.mapping.scale * self.cell_pixels.0 as f64).max(1.0))
            .unwrap_or(1.0) as i64;
        let nx = (x as i64 + dx * step).clamp(0, w as i64 - 1) as u32;
        let ny = (y as i64 + dy * step * 2).clamp(0, h as i64 - 1) as u32;
        self.pixel_cursor = Some((nx, ny));
    }

    fn pan(&mut self, dx: f64, dy: f64) {
        let Some((w, h)) = self.image_size() else {
            return;
        };
        let (cx, cy) = self.viewport.center.unwrap_or((w as f64 / 2.0, h as f64 / 2.0));
        let step = (w.max(h) as f64 / self.viewport.zoom) * 0.1;
        self.viewport.center = Some((
            (cx + dx * step).clamp(0.0, w as f64),
            (cy + dy * step).clamp(0.0, h as f64),
        ));
    }

    fn zoom(&mut self, factor: f64) {
        self.viewport.zoom = (self.viewport.zoom * factor).clamp(1.0, 64.0);
        if self.viewport.zoom <= 1.0 {
            self.viewport.center = None;
        } else if self.viewport.center.is_none() {
            self.viewport.center = self.pixel_cursor.map(|(x, y)| (x as f64, y as f64));
        }
    }

    /// The frame shown of the current case (0 for ordinary images).
    pub fn slice(&self) -> u32 {
        match self.case() {
            Some(c) if self.slice_of.0 == c => self.slice_of.1,
            _ => 0,
        }
    }

    /// Frames of the current case's image, once loaded.
    pub fn frames(&self) -> Option<u32> {
        let f = self.frame.as_ref()?;
        (Some(f.data.case) == self.case()).then_some(f.data.frames)
    }

    fn step_slice(&mut self, by: i64) {
        let (Some(case), Some(n)) = (self.case(), self.frames()) else {
            return;
        };
        if n <= 1 {
            self.say("this image has one frame");
            return;
        }
        let s = (self.slice() as i64 + by).clamp(0, n as i64 - 1) as u32;
        self.slice_of = (case, s);
    }

    /// The loaded image's scan metadata (DICOM/NIfTI), if any.
    pub fn scan(&self) -> Option<&crate::formats::scan::Scan> {
        self.frame.as_ref()?.data.image.as_ref().ok()?.scan.as_deref()
    }

    /// The window in force for the loaded image (modality units), and its name.
    pub fn current_window(&self) -> Option<(crate::render::Window, String)> {
        let stats = self.frame.as_ref()?.data.stats?;
        Some(match self.style.window {
            Some(w) => (w, "manual".to_string()),
            None => {
                let scan = self.scan();
                let preset = self.style.preset.effective(scan);
                let name = match (preset, scan.and_then(|s| s.windows.first())) {
                    (WindowPreset::File, Some(w)) => match &w.explanation {
                        Some(e) => format!("file: {e}"),
                        None => "file".to_string(),
                    },
                    (WindowPreset::File, None) if scan.is_some_and(|s| s.voi_lut.is_some()) => "file VOI LUT".into(),
                    (WindowPreset::File, None) => "file: full range".into(),
                    (p, _) => p.name().to_string(),
                };
                (preset.window_for(&stats, scan), name)
            }
        })
    }

    /// Shift or scale the window: `width_factor` multiplies the width, `level_shift` moves the
    /// centre by that fraction of the width.
    pub fn adjust_window(&mut self, width_factor: f64, level_shift: f64) {
        let Some((w, _)) = self.current_window() else {
            return;
        };
        let width = (w.width() * width_factor).max(2.0);
        let center = w.center() + level_shift * w.width();
        self.style.window = Some(crate::render::Window::from_center_width(center, width));
    }

    /// Mouse drag on the image: right/left widens/narrows, down/up raises/lowers the level, as
    /// on a reading workstation. `dx`, `dy` are in cells.
    pub fn drag_window(&mut self, dx: i32, dy: i32) {
        if dx == 0 && dy == 0 {
            return;
        }
        self.adjust_window(1.04f64.powi(dx), dy as f64 * 0.02);
    }

    fn predictions_len(&self) -> usize {
        match (self.case(), self.run) {
            (Some(c), Some(r)) => self.pack.runs[r].annotations[c].instances.len(),
            _ => 0,
        }
    }

    /// Apply one action.
    pub fn update(&mut self, action: Action) {
        self.apply(action);
        self.want_operating();
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
            PageDown => self.move_to(self.pos + 10),
            PageUp => self.move_to(self.pos.saturating_sub(10)),
            NextPane | PrevPane => {
                let panes: Vec<Pane> = if self.show_details {
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
                    self.warn("the error view compares a run with the ground truth: choose a run with r");
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
                    self.say(if self.network_view {
                        "network's-eye view: the tensor the model receives (v: back to the image)"
                    } else {
                        "the image"
                    });
                }
                Some(r) => self.caution(format!(
                    "run {} has no model_file in lightbox.toml: runs made by `lightbox infer` have one",
                    self.pack.runs[r].name.0
                )),
                None => self.caution("choose a run (r) made by a model to see what it receives"),
            },
            ToggleMetrics => {
                self.metrics_view = !self.metrics_view;
                if self.metrics_view && self.run.is_none() {
                    self.caution("metrics compare a run with the ground truth: choose a run with r");
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

    /// Apply a filter expression typed after `/`.
    /// Add (`word`) or remove (`-word`) tags on the current case; the workspace is saved in the
    /// background and the filter re-applied.
    pub fn tag(&mut self, words: &str) {
        let Some(case) = self.case() else { return };
        let id = self.pack.cases[case].id.0.clone();
        match self.workspace.apply(&id, words) {
            Ok(changed) if changed.is_empty() => self.say("tags unchanged"),
            Ok(changed) => {
                let now: Vec<&str> = self.workspace.tags(&id).collect();
                let text = format!(
                    "{id}: {} (tags: {})",
                    changed.join(" "),
                    if now.is_empty() {
                        "none".to_string()
                    } else {
                        now.join(" ")
                    }
                );
                self.say(text);
                self.requests.push(Request::SaveWorkspace(self.workspace.clone()));
                self.refresh_order();
            }
            Err(e) => self.warn(format!("tag: {e}")),
        }
    }

    /// `:export DIR`: the cases in the list as it stands (filter and all), with every run, into
    /// the pack at DIR (created, or appended to when DIR already holds one). The work happens on
    /// a background thread; its outcome arrives in the status bar.
    pub fn export(&mut self, dir: &str) {
        if dir.is_empty() {
            self.warn("export takes a folder: :export hard-cases (appends when it is already a pack)");
            return;
        }
        if self.order.is_empty() {
            self.warn("no cases in the list to export");
            return;
        }
        let out = std::path::PathBuf::from(dir);
        let filter = self.filter.as_ref().map(|(t, _)| t.clone());
        self.requests.push(Request::Export(crate::export::Request {
            cases: self.order.clone(),
            runs: (0..self.pack.runs.len()).collect(),
            append: out.join(crate::pack::MANIFEST_FILE).is_file(),
            out,
            reason: filter.clone().or_else(|| Some("exported from the dashboard".into())),
            filter,
            ..crate::export::Request::default()
        }));
        self.say(format!("exporting {} cases to {dir} …", self.order.len()));
    }

    /// The rules a filter names (`flag:RULE`) that the check does not know; empty before the
    /// check has run.
    pub fn unknown_rules(&self, e: &query::Expr) -> Vec<String> {
        let Some(ids) = &self.rule_ids else { return Vec::new() };
        let found = std::cell::RefCell::new(Vec::new());
        e.any_term(&|t: &query::Term| {
            if let Some(r) = t.rule()
                && !ids.iter().any(|i| i == r)
            {
                found.borrow_mut().push(r.to_string());
            }
            false
        });
        found.into_inner()
    }

    pub fn set_filter(&mut self, text: &str) {
        if text.trim().is_empty() {
            self.filter = None;
            self.refresh_order();
            return;
        }
        match query::parse(text, &self.pack) {
            Ok(e) => {
                let unknown = self.unknown_rules(&e);
                self.filter = Some((text.trim().to_string(), e));
                self.refresh_order();
                let matched = format!("{} of {} cases match", self.order.len(), self.pack.cases.len());
                match (unknown.first(), &self.rule_ids) {
                    (Some(r), Some(ids)) => {
                        self.warn(format!("{matched}: no rule named {r:?} (rules: {})", ids.join(", ")))
                    }
                    _ => self.say(matched),
                }
            }
            Err(e) => self.warn(format!("filter: {e}")),
        }
    }

    pub fn set_sort(&mut self, key: SortKey) {
        self.sort = key;
        self.refresh_order();
        // a new order starts at its top (the worst case first), not where the old one was
        self.pos = 0;
        let pending = match key {
            SortKey::Disagreement => match self.disagreement_key() {
                None => return self.warn("disagreement compares two runs: this pack has fewer"),
                Some(k) if self.disagreement.as_ref().is_some_and(|(have, _)| *have == k) => false,
                Some(k) => {
                    self.requests.push(Request::Disagreement(k));
                    true
                }
            },
            SortKey::Entropy => match self.run {
                None => return self.warn("entropy is of a run's probability maps: choose a run with r"),
                Some(r)
                    if self
                        .entropy
                        .as_ref()
                        .is_some_and(|(have, _)| *have == (self.pack_epoch, r)) =>
                {
                    false
                }
                Some(r) => {
                    self.requests.push(Request::Entropy(self.pack_epoch, r));
                    true
                }
            },
            SortKey::Review if self.review.is_none() => {
                return self.warn("review order is for a review session (lightbox review)");
            }
            SortKey::Regression if self.pair().is_none() => {
                return self.warn("regression compares two runs: :compare NAME picks the baseline");
            }
            _ => false,
        };
        self.say(if pending {
            format!("sorting by {} (computing…)", key.name())
        } else {
            format!("sorted by {}", key.name())
        });
    }

    /// (baseline, candidate): compare mode's pair, else the run shown against the other run
    /// (the one on the right side by side, or the next one).
    pub fn pair(&self) -> Option<(usize, usize)> {
        if let Some(p) = self.compare_pair {
            return Some(p);
        }
        let r = self.run?;
        let n = self.pack.runs.len();
        let b = self.compare.filter(|&b| b != r).unwrap_or((r + 1) % n.max(1));
        (n >= 2 && b != r).then_some((b, r))
    }

    fn disagreement_key(&self) -> Option<DisagreementKey> {
        let (b, c) = self.pair()?;
        Some((
            self.pack_epoch,
            b,
            c,
            (self.style.score_threshold * 1000.0).round() as u32,
        ))
    }

    /// Take a background disagreement computation (dropped when it is for another pack/pair).
    pub fn set_disagreement(&mut self, key: DisagreementKey, values: Arc<Vec<Option<f64>>>) {
        if key.0 == self.pack_epoch {
            self.disagreement = Some((key, values));
            if self.sort == SortKey::Disagreement {
                self.refresh_order();
                self.say("sorted by disagreement");
            }
        }
    }

    /// Take a background entropy computation.
    pub fn set_entropy(&mut self, epoch: u64, run: usize, values: Arc<Vec<Option<f64>>>) {
        if epoch == self.pack_epoch {
            let none = values.iter().all(Option::is_none);
            self.entropy = Some(((epoch, run), values));
            if self.sort == SortKey::Entropy {
                self.refresh_order();
                if none {
                    self.caution("this run has no probability maps: nothing to sort by entropy");
                } else {
                    self.say("sorted by entropy");
                }
            }
        }
    }

    /// In compare mode, whether a flag is new in the candidate or fixed by it (no flag of the
    /// same rule on the case in the other run).
    pub fn flag_change(&self, f: &crate::rules::Flag) -> Option<&'static str> {
        use crate::pack::Source;
        let (b, c) = self.compare_pair?;
        let other = match f.source {
            Some(Source::Run(r)) if r == c => b,
            Some(Source::Run(r)) if r == b => c,
            _ => return None,
        };
        let in_other = self
            .flags
            .iter()
            .any(|g| g.case == f.case && g.rule == f.rule && g.source == Some(Source::Run(other)));
        match (in_other, f.source == Some(Source::Run(c))) {
            (true, _) => None,
            (false, true) => Some("new"),
            (false, false) => Some("fixed"),
        }
    }

    /// `:compare NAME`: compare mode — the run shown (the candidate) against NAME (the
    /// baseline), side by side, regressions first; `A` flips which run is where.
    pub fn start_compare(&mut self, baseline: &str) {
        if baseline.is_empty() {
            self.compare_pair = None;
            self.compare = None;
            self.regression = None;
            if self.layout == Layout::RunRun {
                self.layout = Layout::Single;
            }
            if self.sort == SortKey::Regression {
                self.sort = SortKey::Case;
            }
            self.refresh_order();
            self.say("compare mode off");
            return;
        }
        let b = match self.pack.run_index(baseline) {
            Ok(b) => b,
            Err(e) => return self.warn(e.to_string()),
        };
        let c = match self.run {
            Some(r) if r != b => r,
            _ => match (0..self.pack.runs.len()).find(|&r| r != b) {
                Some(r) => r,
                None => return self.warn("compare needs a second run to set against the baseline"),
            },
        };
        self.compare_pair = Some((b, c));
        self.run = Some(c);
        self.compare = Some(b);
        self.layout = Layout::RunRun;
        self.sort = SortKey::Regression;
        self.refresh_order();
        self.pos = 0;
        self.say(format!(
            "compare: {} against {} — regressions first · A flips the runs · :compare alone ends it",
            self.pack.runs[c].name.0, self.pack.runs[b].name.0
        ));
    }

    /// `A`: swap the two runs in place (same case, zoom and window): side by side they change
    /// sides; alone, the other run is shown.
    pub fn flip_runs(&mut self) {
        let Some((b, c)) = self.pair() else {
            return self.warn("nothing to flip: :compare NAME sets a baseline against the run shown");
        };
        let shown = self.run.unwrap_or(c);
        let other = if shown == c { b } else { c };
        self.run = Some(other);
        self.compare = Some(shown);
        self.selected = None;
        let role = if other == c { "candidate" } else { "baseline" };
        self.say(format!(
            "showing {} ({role}) · A flips back",
            self.pack.runs[other].name.0
        ));
    }

    /// Run a `:` command.
    pub fn command(&mut self, line: &str) {
        let mut parts = line.split_whitespace();
        let cmd = parts.next().unwrap_or("");
        let arg = parts.collect::<Vec<_>>().join(" ");
        match cmd {
            "" => {}
            "q" | "quit" => self.should_quit = true,
            "goto" | "g" => self.goto(&arg),
            "run" => match self.pack.run_index(&arg) {
                Ok(r) => {
                    self.run = Some(r);
                    self.refresh_order();
                    self.say(format!("run: {arg}"));
                }
                Err(e) => self.warn(e.to_string()),
            },
            "compare" => self.start_compare(&arg),
            "theme" => match super::config::load_theme(&arg) {
                Ok(t) => {
                    self.style.palette = t.palette(&self.pack);
                    self.config.theme = t;
                    self.say(format!("theme: {arg}"));
                }
                Err(e) => self.warn(e),
            },
            "filter" => self.set_filter(&arg),
            "export" => self.export(&arg),
            "sort" => match SortKey::ALL.iter().find(|k| k.name() == arg) {
                Some(k) => self.set_sort(*k),
                None => self.warn(format!("sort keys: {}", SortKey::ALL.iter().map(|k| k.name()).collect::<Vec<_>>().join(", "))),
            },
            "threshold" => match arg.parse::<f64>() {
                Ok(t) if (0.0..=1.0).contains(&t) => self.style.score_threshold = t,
                _ => self.warn("threshold takes a number from 0 to 1"),
            },
            "window" => {
                let nums: Vec<f64> = arg.split([' ', ',']).filter_map(|s| s.parse().ok()).collect();
                match nums[..] {
                    [c, w] if w > 0.0 => self.style.window = Some(crate::render::Window::from_center_width(c, w)),
                    _ => match WindowPreset::from_name(&arg) {
                        Some(p) if !p.applies(self.scan()) && p != WindowPreset::File => {
                            self.warn(format!("the {} window is for CT images in Hounsfield units", p.name()))
                        }
                        Some(p) => {
                            self.style.preset = p;
                            self.style.window = None;
                        }
                        None => self.warn(format!(
                            "window takes CENTER WIDTH, or a preset: {}",
                            WindowPreset::names()
                        )),
                    },
                }
            }
            n if n.parse::<usize>().is_ok() => self.goto(n),
            other => self.warn(format!("unknown command {other:?} (goto N, run NAME, compare NAME, theme NAME, filter EXPR, sort KEY, threshold X, window C W, quit)")),
        }
    }

    fn goto(&mut self, arg: &str) {
        match crate::pack::find_case(&self.pack, arg) {
            Ok(c) => match self.order.iter().position(|&x| x == c) {
                Some(p) => self.move_to(p),
                None => self.warn(format!(
                    "{} is hidden by the filter (ctrl-l clears it)",
                    self.pack.cases[c].id
                )),
            },
            Err(e) => self.warn(e.to_string()),
        }
    }

    /// The pixel value and classes under the cursor, read from the loaded frame.
    pub fn cursor_readout(&self) -> Option<String> {
        let (x, y) = self.pixel_cursor?;
        let f = self.frame.as_ref()?;
        let img = f.data.image.as_ref().ok()?;
        if x >= img.width || y >= img.height {
            return None;
        }
        let value = match img.scan.as_deref() {
            Some(s)
                if matches!(
                    img.pixels,
                    crate::formats::image::Pixels::Gray8(_) | crate::formats::image::Pixels::Gray16(_)
                ) =>
            {
                s.describe_value(img.value(x, y) as f64)
            }
            _ => img.value(x, y).to_string(),
        };
        let classes_at = |m: Option<&crate::geometry::LabelMask>| -> Vec<String> {
            m.map(|m| m.get(x, y))
                .filter(|&v| v != 0)
                .and_then(|v| self.pack.classes.iter().find(|c| c.mask_value == v))
                .map(|c| vec![c.name.clone()])
                .unwrap_or_default()
        };
        let gt = classes_at(f.data.mask(crate::render::Source::GroundTruth));
        let pred = self
            .run
            .map(|r| classes_at(f.data.mask(crate::render::Source::Run(r))))
            .unwrap_or_default();
        let join = |v: Vec<String>| {
            if v.is_empty() { "-".to_string() } else { v.join(",") }
        };
        Some(format!(
            "({x}, {y}) value {value} · gt {} · pred {}",
            join(gt),
            join(pred)
        ))
    }
}

/// Flags of the named sources as (case id, source, rule): what "new flags" are counted by.
fn flag_keys<'a>(
    pack: &'a Pack,
    flags: &'a [crate::rules::Flag],
    sources: &'a [String],
) -> impl Iterator<Item = (String, String, String)> + 'a {
    flags.iter().filter_map(move |f| {
        let source = f.source.map(|s| pack.source_name(s)).unwrap_or_else(|| "input".into());
        (f.source.is_none() || sources.contains(&source))
            .then(|| (pack.cases[f.case].id.0.clone(), source, f.rule.clone()))
    })
}

/// The status line after the check: critical flags counted per source that has them (the
/// input images, the ground truth, each run), and which of them the list marks (the input's,
/// the ground truth's and the run on screen's). `None` without critical flags.
pub fn critical_summary(
    pack: &Pack,
    flags: &[crate::rules::Flag],
    run: Option<usize>,
    keys: &super::keymap::Keymap,
) -> Option<String> {
    let mut by: Vec<(Option<crate::pack::Source>, usize)> = Vec::new();
    for f in flags.iter().filter(|f| f.severity == crate::rules::Severity::Critical) {
        match by.iter_mut().find(|(s, _)| *s == f.source) {
            Some((_, n)) => *n += 1,
            None => by.push((f.source, 1)),
        }
    }
    if by.is_empty() {
        return None;
    }
    let name = |s: Option<crate::pack::Source>| s.map_or("the input images".to_string(), |s| pack.source_name(s));
    let parts: Vec<String> = by.iter().map(|(s, n)| format!("{} {n}", name(*s))).collect();
    let total: usize = by.iter().map(|(_, n)| n).sum();
    let hidden = by
        .iter()
        .any(|(s, _)| matches!(s, Some(crate::pack::Source::Run(r)) if Some(*r) != run));
    // short enough for an 80-column status bar's remainder at 120 columns
    let tail = match run {
        Some(r) if hidden => format!(
            "list: {}'s{}",
            pack.source_name(crate::pack::Source::Run(r)),
            keys.keys_for(Action::CycleRun)
                .first()
                .map_or(String::new(), |k| format!(" ({k}: next run)"))
        ),
        _ => keys
            .keys_for(Action::Sort)
            .first()
            .map_or("sort by flags puts them first".to_string(), |k| {
                format!("{k} 6 puts them first")
            }),
    };
    Some(format!(
        "{total} critical{}: {} · {tail}",
        if hidden {
            ""
        } else if total == 1 {
            " flag"
        } else {
            " flags"
        },
        parts.join(", "),
    ))
}
