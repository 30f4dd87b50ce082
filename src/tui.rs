//! The review dashboard: state ([`app`]), actions and keys ([`action`], [`keymap`]), themes
//! and user config, workers that decode and composite off the UI thread ([`worker`]), and a
//! pure view ([`view`]). This module owns the terminal: it restores it on every exit path,
//! panics included, and runs the event loop.

pub mod action;
pub mod app;
pub mod config;
pub mod graphic_limit;
pub mod keymap;
pub mod review;
pub mod saved_view;
pub mod terminal_query;
pub mod theme;
pub mod view;
pub mod worker;

use app::{App, Effect, Pane};
use crossterm::event::{self, Event as TermEvent, KeyEventKind, MouseButton, MouseEventKind};
use ratatui_image::picker::{Picker, ProtocolType};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver};
use worker::{WorkerMsg, Workers};

/// Everything the event loop reacts to, on one channel.
pub enum Message {
    Input(TermEvent),
    Worker(WorkerMsg),
    /// Background validation finished with these problems (for the pack of this epoch).
    Validated(u64, Vec<crate::pack::Problem>),
    /// The rules and out-of-distribution check finished.
    /// The flags, and the ids of the rules checked.
    Checked(u64, Result<(Vec<crate::rules::Flag>, Vec<String>), String>),
    /// `--drift-from`: the pack's drift against the reference, as lines for the metrics view.
    Drift(Result<(bool, Vec<String>), String>),
    /// One run's metrics are computed.
    Metrics(u64, usize, Result<Arc<crate::metrics::Report>, String>),
    /// The watched pack changed and was reopened (or stayed broken: the last good one is kept).
    Reloaded(
        Result<(Arc<crate::pack::Pack>, std::collections::BTreeSet<crate::watch::Target>), crate::watch::WatchError>,
    ),
    /// Per-case figures and the confusion matrix at a run and threshold.
    Operating(Arc<app::OperatingAt>),
    /// The journal thread recorded an action (or could not).
    Reviewed(review::ReviewReply),
    /// The workspace (tags) was written, or could not be.
    WorkspaceSaved(Result<(), String>),
    /// The saved views could not be written (each distinct error once).
    ViewSaved(String),
    /// Disagreement between two runs, per case (a sort key).
    Disagreement(app::DisagreementKey, Arc<Vec<Option<f64>>>),
    /// Entropy of a run's probability maps, per case (a sort key).
    Entropy(u64, usize, Arc<Vec<Option<f64>>>),
    /// A list was written (what was written), or could not be.
    ListExported(Result<String, String>),
    /// An export finished (or could not).
    Exported(Result<crate::export::Outcome, String>),
    /// A background job stopped on a bug (its panic was caught): which job, and the message.
    JobPanicked {
        job: &'static str,
        message: String,
    },
    /// SIGTERM, SIGHUP or SIGINT: quit as `q` does, so the terminal is restored.
    Signal(i32),
}

/// The signal that ended the dashboard, if one did (0: none).
static STOPPED_BY: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

/// The signal that ended the last dashboard session, if one did: the binary exits 128 + it.
pub fn stopped_by() -> Option<i32> {
    match STOPPED_BY.load(std::sync::atomic::Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

/// Turn SIGTERM, SIGHUP and SIGINT into [`Message::Signal`]: the event loop quits, the terminal is
/// restored and the journal thread ends. A second signal (the loop did not answer) restores the
/// terminal here and exits at once.
fn forward_signals(tx: mpsc::Sender<Message>) -> std::io::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGHUP, SIGINT])?;
    let ptx = tx.clone();
    crate::job::spawn(
        "signals",
        move || {
            let mut seen = false;
            for sig in signals.forever() {
                if seen || tx.send(Message::Signal(sig)).is_err() {
                    restore();
                    std::process::exit(128 + sig);
                }
                seen = true;
            }
        },
        move |m| panicked(&ptx, "signals", m),
    )?;
    Ok(())
}

/// How images reach the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Graphics {
    #[default]
    Auto,
    Kitty,
    Sixel,
    Iterm2,
    Halfblocks,
}

/// The kitty version, when running inside kitty (its unicode placeholders need ≥ 0.28).
pub fn kitty_version() -> Option<(u32, u32)> {
    let in_kitty =
        std::env::var("TERM").is_ok_and(|t| t.contains("kitty")) || std::env::var_os("KITTY_WINDOW_ID").is_some();
    if !in_kitty {
        return None;
    }
    let out = std::process::Command::new("kitty").arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let v = text.split_whitespace().nth(1)?;
    let mut parts = v.split('.');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// Inside tmux, graphics reach the outer terminal only with `allow-passthrough` on (off by
/// default since tmux 3.3). `None` when not in tmux or tmux cannot be asked.
pub fn tmux_passthrough() -> Option<bool> {
    std::env::var_os("TMUX")?;
    let out = std::process::Command::new("tmux")
        .args(["show-options", "-gv", "allow-passthrough"])
        .output()
        .ok()?;
    let v = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Some(v == "on" || v == "all")
}

/// Choose the graphics protocol. Must run after entering the alternate screen and before
/// reading input (the terminal answers queries on stdin, see [`terminal_query`]). Returns the
/// picker, the pixels per cell to compose at, a note for the status bar, and what the user
/// typed while the terminal answered.
#[allow(deprecated)] // Picker::from_fontsize: the query is ours (terminal_query says why)
pub fn pick_graphics(choice: Graphics, user_limit: Option<(u32, u32)>) -> Picked {
    let halfblocks = || {
        let mut p = Picker::halfblocks();
        p.set_protocol_type(ProtocolType::Halfblocks);
        p
    };
    let plain = |note: Option<String>, typed: Vec<u8>| Picked {
        picker: halfblocks(),
        cell_pixels: (1, 2),
        note,
        max_graphic: None,
        typed: terminal_query::keys(&typed),
    };
    if choice == Graphics::Halfblocks {
        return plain(None, Vec::new());
    }
    let tmux = tmux_passthrough();
    let in_tmux = std::env::var_os("TMUX").is_some()
        || std::env::var("TERM").is_ok_and(|t| t.starts_with("tmux"))
        || std::env::var("TERM_PROGRAM").is_ok_and(|t| t == "tmux");
    if choice == Graphics::Auto && tmux == Some(false) {
        // nothing passes through to the outer terminal: no query to wait for
        return plain(
            Some(
                "tmux passthrough is off: using halfblocks (`tmux set -g allow-passthrough on` for kitty graphics)"
                    .into(),
            ),
            Vec::new(),
        );
    }
    let answers = match terminal_query::ask(in_tmux, std::time::Duration::from_millis(1500)) {
        Ok(a) => a,
        Err(typed) if choice == Graphics::Auto => {
            return plain(
                Some(
                    "the terminal did not answer the graphics query: using halfblocks (--graphics forces a protocol)"
                        .into(),
                ),
                typed,
            );
        }
        Err(typed) => terminal_query::Answers {
            typed,
            ..Default::default()
        },
    };
    let cell = answers
        .cell
        .filter(|&(w, h)| w > 0 && h > 0)
        .or_else(|| {
            let ws = crossterm::terminal::window_size().ok()?;
            (ws.width > 0 && ws.columns > 0 && ws.rows > 0).then(|| (ws.width / ws.columns, ws.height / ws.rows))
        })
        .filter(|&(w, h)| w > 0 && h > 0)
        .unwrap_or((10, 20));
    let mut picker = Picker::from_fontsize(cell.into());
    // WezTerm and Konsole answer both queries but draw neither well (ratatui-image's findings)
    let unreliable = ["WEZTERM_EXECUTABLE", "KONSOLE_VERSION"]
        .iter()
        .any(|v| std::env::var(v).is_ok_and(|s| !s.is_empty()));
    let detected = if answers.kitty && !unreliable {
        ProtocolType::Kitty
    } else if answers.sixel && !unreliable {
        ProtocolType::Sixel
    } else if iterm2_from_env() {
        ProtocolType::Iterm2
    } else {
        ProtocolType::Halfblocks
    };
    let mut note = None;
    match choice {
        Graphics::Kitty => picker.set_protocol_type(ProtocolType::Kitty),
        Graphics::Sixel => picker.set_protocol_type(ProtocolType::Sixel),
        Graphics::Iterm2 => picker.set_protocol_type(ProtocolType::Iterm2),
        _ => {
            picker.set_protocol_type(detected);
            if detected == ProtocolType::Sixel && in_tmux {
                // sixel is itself a DCS sequence: tmux 3.3 does not carry it to the outer terminal
                picker.set_protocol_type(ProtocolType::Halfblocks);
                note = Some("sixel does not pass through tmux: using halfblocks (--graphics sixel forces it)".into());
            } else if detected == ProtocolType::Kitty
                && let Some((major, minor)) = kitty_version()
                && (major, minor) < (0, 28)
            {
                picker.set_protocol_type(ProtocolType::Halfblocks);
                note = Some(format!(
                    "kitty {major}.{minor} cannot show kitty unicode placeholders (needs 0.28+): using halfblocks"
                ));
            }
        }
    }
    if picker.protocol_type() == ProtocolType::Halfblocks {
        return plain(note, answers.typed);
    }
    // a sixel image larger than the terminal accepts is not drawn at all (xterm: maxGraphicSize)
    let max_graphic = match (user_limit, picker.protocol_type()) {
        (Some(l), _) => Some(l),
        (None, ProtocolType::Sixel) => Some(answers.max_sixel.unwrap_or(graphic_limit::SIXEL_DEFAULT)),
        (None, _) => None,
    };
    let fs = picker.font_size();
    Picked {
        picker,
        cell_pixels: (fs.width.max(1), fs.height.max(1)),
        note,
        max_graphic,
        typed: terminal_query::keys(&answers.typed),
    }
}

/// Terminals that draw iTerm2 inline images, by what they put in the environment.
fn iterm2_from_env() -> bool {
    const PROGRAMS: [&str; 9] = [
        "iTerm",
        "WezTerm",
        "mintty",
        "vscode",
        "Tabby",
        "Hyper",
        "rio",
        "Bobcat",
        "WarpTerminal",
    ];
    std::env::var("TERM_PROGRAM").is_ok_and(|p| PROGRAMS.iter().any(|n| p.contains(n)))
        || std::env::var("LC_TERMINAL").is_ok_and(|t| t.contains("iTerm"))
        || std::env::var("ITERM_SESSION_ID").is_ok_and(|s| !s.is_empty())
}

/// The graphics chosen: the picker, the pixels per cell to compose at, a note for the status
/// bar, the largest image the terminal accepts (each frame is made to fit it), and the keys
/// the user pressed while the terminal was being asked (handed to the dashboard first).
pub struct Picked {
    pub picker: Picker,
    pub cell_pixels: (u16, u16),
    pub note: Option<String>,
    pub max_graphic: Option<(u32, u32)>,
    pub typed: Vec<crossterm::event::KeyEvent>,
}

pub fn protocol_name(p: &Picker) -> &'static str {
    match p.protocol_type() {
        ProtocolType::Halfblocks => "halfblocks",
        ProtocolType::Sixel => "sixel",
        ProtocolType::Kitty => "kitty",
        ProtocolType::Iterm2 => "iTerm2",
    }
}

/// Restore the terminal: leave the alternate screen, show the cursor, stop mouse capture.
fn restore() {
    let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
    ratatui::restore();
}

/// How the dashboard opens.
#[derive(Debug, Clone, Default)]
pub struct Opening {
    pub graphics: Graphics,
    /// The run named on the command line (default: the saved view's, else the newest).
    pub run: Option<usize>,
    /// The rules file given on the command line (else the manifest's).
    pub rules: Option<std::path::PathBuf>,
    /// Reload the pack when its files change.
    pub watch: bool,
    /// Open with the default view, not the one the pack was last closed with.
    pub fresh: bool,
    /// Compare the pack's inputs with this reference (a pack or a folder of images) and show
    /// the drift in the metrics view.
    pub drift_from: Option<std::path::PathBuf>,
}

/// Open the dashboard on `pack` and run until the user quits.
pub fn run(pack: crate::pack::Pack, config: config::Config, opening: Opening) -> anyhow::Result<()> {
    run_with(pack, config, opening, None)
}

/// The dashboard in review mode: `session` records every verdict on a journal thread.
pub fn run_review(
    pack: crate::pack::Pack,
    config: config::Config,
    graphics: Graphics,
    run: usize,
    rules: Option<std::path::PathBuf>,
    session: crate::review::Session,
    flags: Vec<crate::rules::Flag>,
) -> anyhow::Result<()> {
    // a sign-off is tied to the files as they were opened: no reloads under a reviewer
    let opening = Opening {
        graphics,
        run: Some(run),
        rules,
        watch: false,
        fresh: true,
        drift_from: None,
    };
    run_with(pack, config, opening, Some((session, flags)))
}

/// The journal thread: it owns the session, appends and fsyncs each action, and answers.
fn journal_thread(
    pack: Arc<crate::pack::Pack>,
    mut session: crate::review::Session,
    flags: Vec<crate::rules::Flag>,
    rx: Receiver<review::ReviewCmd>,
    tx: std::sync::mpsc::Sender<Message>,
) {
    for cmd in rx {
        let reply = apply_review(&pack, &mut session, &flags, cmd);
        if tx.send(Message::Reviewed(reply)).is_err() {
            break;
        }
    }
}

/// Carry out one review action on the session (appended and fsync'd before this returns), with
/// the review core's [`crate::review::action::apply`], as `lightbox review --batch` does.
pub fn apply_review(
    pack: &crate::pack::Pack,
    session: &mut crate::review::Session,
    flags: &[crate::rules::Flag],
    cmd: review::ReviewCmd,
) -> review::ReviewReply {
    match crate::review::action::apply(pack, session, flags, cmd) {
        Ok(done) => review::ReviewReply::Recorded {
            state: Box::new(session.state.clone()),
            progress: session.progress(),
            done,
        },
        Err(e) => review::ReviewReply::Failed(e.to_string()),
    }
}

fn run_with(
    pack: crate::pack::Pack,
    config: config::Config,
    opening: Opening,
    review_setup: Option<(crate::review::Session, Vec<crate::rules::Flag>)>,
) -> anyhow::Result<()> {
    let Opening {
        graphics,
        run,
        rules,
        watch,
        fresh,
        drift_from,
    } = opening;
    let mut terminal = ratatui::try_init()?;
    // ratatui's hook restores the screen; ours also stops mouse capture first. A panic on a
    // worker thread is caught there and reported in the status bar: it must not restore the
    // terminal under a dashboard that keeps running.
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        // every background thread is a job (crate::job): its panic is reported as an event
        if crate::job::is_job() {
            return;
        }
        let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
        previous(info);
    }));
    let result = (|| -> anyhow::Result<()> {
        crossterm::execute!(std::io::stdout(), crossterm::event::EnableMouseCapture)?;
        let Picked {
            picker,
            cell_pixels,
            note,
            max_graphic,
            typed,
        } = pick_graphics(graphics, config.max_graphic);
        let (tx, rx) = mpsc::channel();
        // keys pressed while the terminal was asked come first, in order
        for k in typed {
            let _ = tx.send(Message::Input(TermEvent::Key(k)));
        }
        forward_signals(tx.clone())?;
        let (input_tx, ptx) = (tx.clone(), tx.clone());
        crate::job::spawn(
            "input",
            move || {
                while let Ok(ev) = event::read() {
                    if input_tx.send(Message::Input(ev)).is_err() {
                        break;
                    }
                }
            },
            move |m| panicked(&ptx, "input", m),
        )?;
        let pack = Arc::new(pack);
        let analysis = analyse(&pack, 0, rules.clone(), &tx)?;
        if let Some(reference) = drift_from {
            let (dpack, dtx, ptx) = (Arc::clone(&pack), tx.clone(), tx.clone());
            crate::job::spawn(
                "drift",
                move || {
                    crate::job::priority::in_background(|| {
                        let _ = dtx.send(Message::Drift(drift_of(&dpack, &reference)));
                    })
                },
                move |m| panicked(&ptx, "drift", m),
            )?;
        }
        // watch the pack's files: a rewritten run is reopened in the background
        let _watch = match (&pack.root, watch) {
            (Some(root), true) => {
                let (root, wtx) = (root.clone(), tx.clone());
                let mut last_good = Arc::clone(&pack);
                let mut reported: Option<String> = None;
                crate::watch::spawn(&root.clone(), std::time::Duration::from_millis(300), move |paths| {
                    match crate::watch::reload(&root, &last_good, &paths, &crate::watch::BACKOFF) {
                        Ok(r) if r.changed.is_empty() => {}
                        Ok(r) => {
                            reported = None;
                            last_good = Arc::new(r.pack);
                            let _ = wtx.send(Message::Reloaded(Ok((Arc::clone(&last_good), r.changed))));
                        }
                        // one report per distinct error, not one per retry or burst
                        Err(e) if reported.as_ref() == Some(&e.to_string()) => {}
                        Err(e) => {
                            reported = Some(e.to_string());
                            let _ = wtx.send(Message::Reloaded(Err(crate::watch::WatchError::NotReloaded(e))));
                        }
                    }
                })
                .map_err(|e| note_later(&tx, e))
                .ok()
            }
            _ => None,
        };
        let requests_tx = tx.clone();
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            .clamp(1, 4);
        let mut workers = Workers::spawn(Arc::clone(&pack), picker.clone(), threads, tx);
        let mut app = App::new(pack, config, protocol_name(&picker).to_string());
        app.rules_file = rules;
        app.analysis = Some(analysis);
        app.cell_pixels = cell_pixels;
        app.max_graphic = max_graphic;
        let mut workspace_note = None;
        match crate::workspace::Workspace::load(&app.pack) {
            Ok(w) => app.workspace = w,
            // tags stay in memory only: a damaged file is never overwritten
            Err(e) => workspace_note = Some(format!("tags are not saved this session: {e}")),
        }
        // the view: in a review session the plan's; else the one the pack was closed with,
        // the run named on the command line taking precedence, else the manifest's [review] run
        // or the newest (Pack::review_run)
        let mut views_note = None;
        let mut views_writer = None;
        if review_setup.is_some() {
            app.run = run;
            app.refresh_order();
        } else {
            app.run = match run {
                Some(r) => Some(r),
                None => match app.pack.review_run() {
                    Ok(r) => r,
                    Err(e) => {
                        app.caution(e.to_string());
                        app.pack.runs.len().checked_sub(1)
                    }
                },
            };
            app.refresh_order();
            match saved_view::Views::load(app.pack.root.as_deref()) {
                Ok(mut views) => {
                    let named = run.and_then(|r| app.pack.runs.get(r)).map(|r| r.name.0.clone());
                    if fresh {
                        views.last = None;
                    }
                    if let (Some(last), Some(named)) = (&mut views.last, named) {
                        if last.compare.as_ref() == Some(&named) || last.beside.as_ref() == Some(&named) {
                            last.compare = None;
                            last.beside = None;
                        }
                        last.run = Some(named);
                    }
                    if let Some(path) = views.path.clone() {
                        let (vtx, vrx) = mpsc::channel();
                        let (etx, ptx) = (requests_tx.clone(), requests_tx.clone());
                        let handle = crate::job::spawn(
                            "views",
                            move || {
                                saved_view::writer(&path, vrx, |e| {
                                    let _ = etx.send(Message::ViewSaved(e));
                                })
                            },
                            move |m| panicked(&ptx, "views", m),
                        )?;
                        views_writer = Some((vtx, handle));
                    }
                    app.saved_views = views;
                    app.restore_last_view();
                }
                // views stay in memory only: a damaged file is never overwritten
                Err(e) => views_note = Some(format!("views are not kept this session: {e}")),
            }
        }
        if let Some(n) = note {
            app.caution(n);
        } else if app.pack.errors().next().is_some() {
            let n = app.pack.errors().count();
            app.warn(format!(
                "{n} problem{} in this pack's files: sort by problems ({}) or see `lightbox info`",
                if n == 1 { "" } else { "s" },
                app.key_or(action::Action::Sort, ":sort problems")
            ));
        }
        if let Some(n) = workspace_note {
            app.warn(n);
        }
        if let Some(n) = views_note {
            app.caution(n);
        }
        let size = terminal.size()?;
        app.show_details = size.width >= view::WIDE;
        let mut journal_tx = None;
        if let Some((session, flags)) = review_setup {
            let blind_seed = session.blind_seed;
            let mut mode = review::ReviewMode::new(
                session.identity.release.clone(),
                session.identity.reviewer.clone(),
                session.plan.clone(),
                session.state.clone(),
                session.progress(),
                app.pack.manifest.review.reasons.clone(),
            );
            mode.blind_seed = blind_seed;
            app.start_review(mode);
            let (jtx, jrx) = mpsc::channel();
            let (jpack, etx) = (Arc::clone(&app.pack), requests_tx.clone());
            let ptx = etx.clone();
            let handle = crate::job::spawn(
                "journal",
                move || journal_thread(jpack, session, flags, jrx, etx),
                move |message| {
                    let _ = ptx.send(Message::JobPanicked {
                        job: "journal",
                        message,
                    });
                },
            )?;
            journal_tx = Some((jtx, handle));
        }
        let ended = event_loop(
            &mut terminal,
            &mut app,
            &mut workers,
            &rx,
            &requests_tx,
            Outlets {
                journal: journal_tx.as_ref().map(|(t, _)| t),
                views: views_writer.as_ref().map(|(t, _)| t),
            },
        );
        // every action sent is written before the process ends (on `q` and on a signal alike),
        // and the view the pack is left with
        if let Some((jtx, handle)) = journal_tx {
            drop(jtx);
            let _ = handle.join();
        }
        if let Some((vtx, handle)) = views_writer {
            let _ = vtx.send(saved_view::Change::Last(app.saved_view()));
            drop(vtx);
            let _ = handle.join();
        }
        ended
    })();
    restore();
    result
}

fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    app: &mut App,
    workers: &mut Workers,
    rx: &Receiver<Message>,
    tx: &std::sync::mpsc::Sender<Message>,
    out: Outlets,
) -> anyhow::Result<()> {
    loop {
        let size = terminal.size()?;
        app.screen = (size.width, size.height);
        let full = ratatui::layout::Rect::new(0, 0, size.width, size.height);
        app.clamp_scrolls(view::scroll_limits(app, full));
        let areas = view::areas(app, full);
        app.image_cells = areas.frame_cells;
        request_frames(app, workers);
        terminal.draw(|f| view::view(app, f))?;
        // review mode: the case counts as seen once its image has been drawn
        if app.review.is_some()
            && matches!(app.overlay, app::Overlay::None | app::Overlay::Prompt { .. })
            && !app.metrics_view
            && let Some(c) = app.case()
            && app.image_drawn()
        {
            app.review_displayed(c);
        }
        let shown = app.take_effects();
        run_effects(app, shown, tx, &out);
        // wait for something, then drain everything pending before drawing again; while a
        // reload is recent, wake each second so that "reloaded 2 s ago" stays true
        let recent = app.reloaded.as_ref().is_some_and(|r| r.at.elapsed().as_secs() < 600);
        // while background analysis runs, its progress in the status bar is redrawn 4 times a second
        let tick = if app.analysis_text().is_some() {
            Some(std::time::Duration::from_millis(250))
        } else if recent {
            Some(std::time::Duration::from_secs(1))
        } else {
            None
        };
        let first = if let Some(tick) = tick {
            match rx.recv_timeout(tick) {
                Ok(ev) => ev,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => continue,
                Err(e) => return Err(e.into()),
            }
        } else {
            rx.recv()?
        };
        let mut effects = handle(app, workers, first, &areas);
        while let Ok(ev) = rx.try_recv() {
            effects.extend(handle(app, workers, ev, &areas));
        }
        run_effects(app, effects, tx, &out);
        if app.should_quit {
            return Ok(());
        }
    }
}

/// Validate the pack, check it (rules, out-of-distribution) and compute every run's metrics on
/// background threads; results carry `epoch` so that those of a pack since reloaded are dropped.
///
/// The work runs at a lower priority than the frames (see [`crate::job::priority`]) and says
/// how far it has got in the returned [`app::Analysis`].
fn analyse(
    pack: &Arc<crate::pack::Pack>,
    epoch: u64,
    rules: Option<std::path::PathBuf>,
    tx: &std::sync::mpsc::Sender<Message>,
) -> std::io::Result<app::Analysis> {
    let analysis = app::Analysis::default();
    let (vpack, vtx, ptx) = (Arc::clone(pack), tx.clone(), tx.clone());
    let progress = Arc::clone(&analysis.check);
    crate::job::spawn(
        "validate",
        move || {
            crate::job::priority::in_background(|| {
                let v = crate::pack::validate::validate_with(&vpack, &progress);
                let _ = vtx.send(Message::Validated(epoch, v.problems));
                // then the anatomy rules and the out-of-distribution check, for every source
                let checked = crate::check::load_rules(&vpack, rules.as_deref())
                    .and_then(|r| {
                        let r = r.unwrap_or_else(crate::rules::RuleSet::empty);
                        let sources = crate::rules::eval::all_sources(&vpack);
                        let mut ids: Vec<String> = r.rules.iter().map(|x| x.id.clone()).collect();
                        ids.extend([
                            crate::check::OOD_RULE.to_string(),
                            crate::check::ACQUISITION_RULE.to_string(),
                            crate::check::EXPECT_RULE.to_string(),
                        ]);
                        crate::check::check_with(&vpack, &r, &sources, false, None, &progress)
                            .map(|rep| (rep.flags, ids))
                    })
                    .map_err(|e| e.to_string());
                let _ = vtx.send(Message::Checked(epoch, checked));
            })
        },
        move |message| {
            let _ = ptx.send(Message::Checked(
                epoch,
                Err(format!("the check stopped on a bug: {message} (please report this)")),
            ));
        },
    )?;
    // metrics for every run (exact COCO evaluation, Dice, classification)
    let (mpack, mtx, ptx) = (Arc::clone(pack), tx.clone(), tx.clone());
    let progress = Arc::clone(&analysis.metrics);
    crate::job::spawn(
        "metrics",
        move || {
            crate::job::priority::in_background(|| {
                let options = crate::metrics::Options {
                    bootstrap: crate::metrics::classification::Bootstrap {
                        resamples: 200,
                        ..Default::default()
                    },
                    progress: crate::metrics::report::ProgressRef(Some(progress)),
                    ..Default::default()
                };
                for r in 0..mpack.runs.len() {
                    let m = crate::metrics::compute(&mpack, r, &options)
                        .map(Arc::new)
                        .map_err(|e| e.to_string());
                    if mtx.send(Message::Metrics(epoch, r, m)).is_err() {
                        break;
                    }
                }
            })
        },
        move |message| panicked(&ptx, "metrics", message),
    )?;
    Ok(analysis)
}

/// The pack's drift against `reference` (a pack or a folder of images): whether it drifted,
/// and the summary lines.
fn drift_of(pack: &crate::pack::Pack, reference: &std::path::Path) -> Result<(bool, Vec<String>), String> {
    let r = crate::ood::image_set(reference)?;
    let stats = crate::ood::pack_stats(pack);
    let (names, batch): (Vec<String>, Vec<crate::ood::ImageStats>) = pack
        .cases
        .iter()
        .zip(stats)
        .filter_map(|(c, s)| s.map(|s| (c.id.0.clone(), s)))
        .unzip();
    if batch.len() < 5 {
        return Err(format!(
            "{} of the pack's images decode; drift needs at least 5",
            batch.len()
        ));
    }
    let reference_stats: Vec<crate::ood::ImageStats> = r.images.into_iter().map(|(_, s)| s).collect();
    let report = crate::ood::drift::drift(
        &reference_stats,
        &batch,
        crate::ood::drift::DEFAULT_ALPHA,
        crate::ood::drift::DEFAULT_MIN_EFFECT,
    );
    Ok((report.drifted, report.summary(&reference.display().to_string(), &names)))
}

/// A watch that could not start: said in the status bar once the dashboard is up.
fn note_later(tx: &std::sync::mpsc::Sender<Message>, e: crate::watch::StartError) {
    let _ = tx.send(Message::Reloaded(Err(crate::watch::WatchError::NotWatching(e))));
}

/// A job's panic, reported in the status bar.
fn panicked(tx: &std::sync::mpsc::Sender<Message>, job: &'static str, message: String) {
    let _ = tx.send(Message::JobPanicked { job, message });
}

/// Start `body` as a background job whose panic is reported in the status bar.
fn job(name: &'static str, tx: &std::sync::mpsc::Sender<Message>, body: impl FnOnce() + Send + 'static) {
    let ptx = tx.clone();
    if let Err(e) = crate::job::spawn(name, body, move |m| panicked(&ptx, name, m)) {
        panicked(tx, name, format!("cannot start a thread: {e}"));
    }
}

/// The threads that own a file: the review journal, the saved views.
#[derive(Clone, Copy)]
struct Outlets<'a> {
    journal: Option<&'a std::sync::mpsc::Sender<review::ReviewCmd>>,
    views: Option<&'a std::sync::mpsc::Sender<saved_view::Change>>,
}

/// Carry out what the app asked for: journal actions go to the journal thread, views to their
/// writer, the rest start background jobs whose results arrive as events.
fn run_effects(app: &mut App, effects: Vec<Effect>, tx: &std::sync::mpsc::Sender<Message>, out: &Outlets) {
    for e in effects {
        match e {
            Effect::Review(cmd) => {
                if out.journal.is_none_or(|j| j.send(cmd).is_err()) {
                    app.warn("the journal has stopped: verdicts are NOT being recorded; quit and reopen the review");
                }
            }
            Effect::SaveView(change) => {
                // without a writer (no folder, or a damaged file) views are not kept; said at start
                if let Some(v) = out.views {
                    let _ = v.send(change);
                }
            }
            other => start(app, other, tx.clone()),
        }
    }
}

/// Start a background job the app asked for; its result arrives as an event.
fn start(app: &mut App, r: Effect, tx: std::sync::mpsc::Sender<Message>) {
    match r {
        Effect::SaveWorkspace(w) => {
            job("workspace", &tx.clone(), move || {
                let _ = tx.send(Message::WorkspaceSaved(w.save().map_err(|e| e.to_string())));
            });
        }
        Effect::Analyse(epoch) => match analyse(&app.pack, epoch, app.rules_file.clone(), &tx) {
            Ok(a) => app.analysis = Some(a),
            Err(e) => {
                let _ = tx.send(Message::Checked(epoch, Err(format!("cannot start the check: {e}"))));
            }
        },
        Effect::Disagreement(key) => {
            let pack = Arc::clone(&app.pack);
            job("disagreement", &tx.clone(), move || {
                let (_, a, b, t) = key;
                let v = crate::uncertainty::disagreement(&pack, a, b, t as f64 / 1000.0);
                let _ = tx.send(Message::Disagreement(key, Arc::new(v)));
            });
        }
        Effect::Entropy(epoch, run) => {
            let pack = Arc::clone(&app.pack);
            job("entropy", &tx.clone(), move || {
                let v = crate::uncertainty::entropies(&pack, run);
                let _ = tx.send(Message::Entropy(epoch, run, Arc::new(v)));
            });
        }
        Effect::ExportList(path, list) => {
            job("export", &tx.clone(), move || {
                let done = list
                    .write(&path)
                    .map(|_| {
                        let full = std::path::absolute(&path).unwrap_or(path.clone());
                        format!("{}: the list of {} cases", full.display(), list.cases.len())
                    })
                    .map_err(|e| e.to_string());
                let _ = tx.send(Message::ListExported(done));
            });
        }
        Effect::Export(req) => {
            let pack = Arc::clone(&app.pack);
            job("export", &tx.clone(), move || {
                let _ = tx.send(Message::Exported(
                    crate::export::export(&pack, &req).map_err(|e| e.to_string()),
                ));
            });
        }
        // handed to their threads by run_effects
        Effect::Review(_) | Effect::SaveView(_) => {}
        Effect::OperatingPoint { run, threshold } => {
            let (Some(report), pack) = (app.metrics.get(run).cloned().flatten(), Arc::clone(&app.pack)) else {
                return;
            };
            job("op", &tx.clone(), move || {
                let o = app::OperatingAt::compute(&pack, &report, run, threshold);
                let _ = tx.send(Message::Operating(Arc::new(o)));
            });
        }
    }
}

/// Ask workers for the frame the state calls for, and prefetch the neighbours' frames.
pub fn request_frames(app: &App, workers: &mut Workers) {
    let Some(key) = app.frame_key() else { return };
    let neighbours = [1i64, -1, 2]
        .iter()
        .filter_map(|d| {
            let p = app.pos as i64 + d;
            let c = *app.order.get(usize::try_from(p).ok()?)?;
            let mut k = key.clone();
            k.case = c;
            k.style.cursor = None;
            k.style.selected = None;
            Some(k)
        })
        .collect();
    workers.request(key, neighbours);
}

/// One event: the app's state changes; returns what the app asks for in turn.
fn handle(app: &mut App, workers: &mut Workers, ev: Message, areas: &view::Areas) -> Vec<Effect> {
    match ev {
        Message::Input(TermEvent::Key(k)) if k.kind != KeyEventKind::Release => return app.key(k),
        Message::Input(TermEvent::Mouse(m)) => return handle_mouse(app, m, areas),
        Message::Worker(WorkerMsg::Frame { generation, frame }) => {
            if generation == workers.generation() {
                app.frame = Some(frame);
            }
        }
        Message::Worker(WorkerMsg::Failed {
            generation,
            case,
            message,
        }) => {
            if generation == workers.generation() {
                app.warn(format!(
                    "could not draw {}: {message} (please report this)",
                    app.pack.cases[case].id
                ));
            }
        }
        Message::Validated(epoch, _) | Message::Checked(epoch, _) | Message::Metrics(epoch, ..)
            if epoch != app.pack_epoch => {}
        Message::Reloaded(Ok((pack, changed))) => {
            if app.review.is_none() {
                workers.set_pack(Arc::clone(&pack));
                app.replace_pack(pack, &changed);
                return vec![Effect::Analyse(app.pack_epoch)];
            }
        }
        Message::Reloaded(Err(e @ crate::watch::WatchError::NotWatching(_))) => app.warn(e.to_string()),
        Message::Reloaded(Err(crate::watch::WatchError::NotReloaded(e))) => {
            app.warn(format!("not reloaded, last good data kept: {e}"))
        }
        Message::Checked(_, Ok((flags, ids))) => {
            let said = app::critical_summary(&app.pack, &flags, app.run, &app.config.keymap);
            app.set_flags(flags);
            app.rule_ids = Some(ids);
            // after a reload the status bar tells what the reload brought instead
            if let Some(said) = said
                && app.notice.is_none()
                && app.reloaded.is_none()
            {
                app.warn(said);
            }
        }
        Message::Checked(_, Err(e)) => {
            app.checked = Some(Err(e.clone()));
            app.warn(format!("rules: {e}"));
        }
        Message::Drift(Ok((drifted, lines))) => {
            if drifted {
                app.warn(format!(
                    "the pack's inputs have drifted from the reference: {} shows how",
                    app.key_or(crate::tui::action::Action::ToggleMetrics, ":metrics")
                ));
            }
            app.drift = Some(Ok(lines));
        }
        Message::Drift(Err(e)) => {
            app.warn(format!("drift: {e}"));
            app.drift = Some(Err(e));
        }
        Message::Metrics(_, r, Ok(m)) => app.set_metrics(r, m),
        Message::Metrics(_, r, Err(e)) => {
            let name = app.pack.source_name(crate::pack::Source::Run(r));
            app.metrics_error = Some(format!("{name}: {e}"));
        }
        Message::Operating(o) => app.set_operating(o),
        Message::Reviewed(r) => app.review_reply(r),
        Message::WorkspaceSaved(Ok(())) => {}
        Message::WorkspaceSaved(Err(e)) => app.warn(format!("tags not saved: {e}")),
        Message::ViewSaved(e) => app.caution(format!("the view is not saved: {e}")),
        Message::Disagreement(key, v) => app.set_disagreement(key, v),
        Message::Entropy(epoch, run, v) => app.set_entropy(epoch, run, v),
        Message::Exported(Ok(o)) => app.say(crate::export::describe(&o)),
        Message::ListExported(Ok(what)) => app.say(format!("wrote {what}")),
        Message::ListExported(Err(e)) => app.warn(format!("export failed: {e}")),
        Message::Exported(Err(e)) => app.warn(format!("export failed: {e}")),
        Message::Validated(_, problems) => {
            app.validated = true;
            app.add_problems(problems);
            let n = app.problems.iter().filter(|p| p.is_error()).count();
            if n > 0 && app.notice.is_none() {
                app.warn(format!(
                    "{n} problem{} in this pack's files: sort by problems (s 5) or run `lightbox info`",
                    if n == 1 { "" } else { "s" }
                ));
            }
        }
        Message::JobPanicked { job, message } => {
            let text = format!("{job} stopped on a bug: {message} (please report this)");
            if job == "metrics" {
                app.metrics_error = Some(text.clone());
            }
            if job == "journal" {
                app.warn(format!(
                    "{text}; verdicts are NOT being recorded: quit and reopen the review"
                ));
            } else {
                app.warn(text);
            }
        }
        Message::Signal(sig) => {
            STOPPED_BY.store(sig, std::sync::atomic::Ordering::SeqCst);
            app.should_quit = true;
        }
        Message::Input(TermEvent::Resize(..)) => workers.invalidate(),
        Message::Input(_) => {}
    }
    app.take_effects()
}

fn handle_mouse(app: &mut App, m: crossterm::event::MouseEvent, a: &view::Areas) -> Vec<Effect> {
    let mut effects = Vec::new();
    let inside = |r: ratatui::layout::Rect| {
        m.column >= r.x && m.column < r.x + r.width && m.row >= r.y && m.row < r.y + r.height
    };
    if inside(a.image_inner) {
        // the panel under the pointer, as the frame on screen arranges them
        let image_point = app.frame.as_ref().and_then(|f| {
            f.image_point(m.column - a.image_inner.x, m.row - a.image_inner.y)
                .map(|(_, p)| p)
        });
        match m.kind {
            MouseEventKind::ScrollUp | MouseEventKind::ScrollDown => {
                if let Some((x, y)) = image_point {
                    app.viewport.center = Some((x as f64, y as f64));
                }
                effects.extend(app.update(if m.kind == MouseEventKind::ScrollUp {
                    action::Action::ZoomIn
                } else {
                    action::Action::ZoomOut
                }));
            }
            MouseEventKind::Down(MouseButton::Left) => {
                app.focus = Pane::Image;
                if image_point.is_some() {
                    app.pixel_cursor = image_point;
                }
            }
            // right or middle drag: window/level, as on a reading workstation
            MouseEventKind::Down(MouseButton::Right | MouseButton::Middle) => {
                app.window_drag = Some((m.column, m.row));
            }
            MouseEventKind::Drag(MouseButton::Right | MouseButton::Middle) => {
                if let Some((x0, y0)) = app.window_drag {
                    app.drag_window(m.column as i32 - x0 as i32, m.row as i32 - y0 as i32);
                }
                app.window_drag = Some((m.column, m.row));
            }
            MouseEventKind::Up(_) => app.window_drag = None,
            _ => {}
        }
    } else if inside(a.cases) {
        match m.kind {
            MouseEventKind::ScrollDown => effects.extend(app.update(action::Action::NextCase)),
            MouseEventKind::ScrollUp => effects.extend(app.update(action::Action::PrevCase)),
            MouseEventKind::Down(MouseButton::Left) => {
                app.focus = Pane::Cases;
                let h = a.cases.height.saturating_sub(2) as usize;
                let top = view::case_list::top_row(app, h);
                let row = (m.row as usize).saturating_sub(a.cases.y as usize + 1);
                if m.row > a.cases.y && top + row < app.order.len() {
                    let target = top + row;
                    let cur = app.pos;
                    for _ in 0..target.abs_diff(cur) {
                        effects.extend(app.update(if target > cur {
                            action::Action::NextCase
                        } else {
                            action::Action::PrevCase
                        }));
                    }
                }
            }
            _ => {}
        }
    }
    effects.extend(app.take_effects());
    effects
}
