//! Command-line interface: one file per subcommand, each a thin layer over the library.

mod check;
mod diff;
mod drift;
mod export;
mod infer;
mod info;
mod init;
mod metrics;
mod open;
mod render;
mod review;
mod sample;
mod source;
mod stats;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Review what an image model predicts before it ships.
#[derive(Parser, Debug)]
#[command(name = "lightbox", version, about, long_about = None, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// `lightbox PACK` opens the dashboard (as `lightbox open PACK`).
    #[command(flatten)]
    open: open::Args,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Open the review dashboard on a pack (also `lightbox PACK`).
    Open(open::Args),
    /// Summarise and validate a pack: cases, image sizes and depths, classes, runs, problems.
    Info(info::Args),
    /// Check the ground truth and runs against the pack's anatomy rules, and flag out-of-distribution inputs.
    ///
    /// Exit status: 0 when no flag is critical, 1 when one is (a gate for CI), 2 on bad input.
    /// Out-of-distribution inputs are major by default and do not fail the gate; make them
    /// critical with `ood_severity = "critical"` in the rules file.
    Check(check::Args),
    /// Metrics for a run: exact COCO evaluation, segmentation, classification; `--reference` makes it a release test.
    Metrics(metrics::Args),
    /// Compare two runs: metric deltas, cases improved/unchanged/worse, new and fixed flags, worst cases first.
    Diff(diff::Args),
    /// Write selected cases (e.g. the hard ones) as a new pack, or append them to one, de-duplicated by image content.
    Export(export::Args),
    /// Run an ONNX model on every case (preprocessing from its model card) and write a run.
    Infer(infer::Args),
    /// What this machine and terminal offer: graphics, terminal size, ONNX Runtime, config files.
    Doctor(infer::DoctorArgs),
    /// Write the lightbox.toml that --images/--gt/--run imply.
    Init(init::Args),
    /// Review a release: verdicts on the required cases, recorded in a journal, then signed.
    Review(review::Args),
    /// Check a signed review record against its journal and the pack as it is now.
    Verify(review::VerifyArgs),
    /// Write a sign-off record's report: Markdown and standalone HTML with the overlays.
    Report(review::ReportArgs),
    /// Render a case as the dashboard's image pane shows it, to a PNG.
    Render(render::Args),
    /// Compute an out-of-distribution reference from a folder of (training) images.
    Stats(stats::Args),
    /// Has a batch of inputs (production images, a new client's pack) drifted from a reference pack or folder? Exits 1 if so.
    Drift(drift::Args),
    /// Generate the synthetic chest-phantom sample pack (or a large pack for benchmarks).
    Sample(sample::Args),
}

/// Exit codes shared by every subcommand.
pub const EXIT_OK: u8 = 0;
pub const EXIT_INPUT: u8 = 2;

pub fn main() -> ExitCode {
    // `lightbox check --json | head`: a closed pipe ends lightbox quietly, as it does any Unix
    // tool (Rust ignores SIGPIPE, so a print to a closed pipe panicked)
    #[cfg(unix)]
    // SAFETY: restores a signal's default disposition; called first, before any thread starts
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_INPUT } else { EXIT_OK });
        }
    };
    let result = match cli.command {
        None => open::run(cli.open),
        Some(Command::Open(a)) => open::run(a),
        Some(Command::Info(a)) => info::run(a),
        Some(Command::Check(a)) => check::run(a),
        Some(Command::Init(a)) => init::run(a),
        Some(Command::Infer(a)) => infer::run(a),
        Some(Command::Doctor(a)) => infer::doctor(a),
        Some(Command::Metrics(a)) => metrics::run(a),
        Some(Command::Diff(a)) => diff::run(a),
        Some(Command::Export(a)) => export::run(a),
        Some(Command::Render(a)) => render::run(a),
        Some(Command::Review(a)) => review::run(a),
        Some(Command::Verify(a)) => review::verify(a),
        Some(Command::Report(a)) => review::report(a),
        Some(Command::Sample(a)) => sample::run(a),
        Some(Command::Stats(a)) => stats::run(a),
        Some(Command::Drift(a)) => drift::run(a),
    };
    if let Some(sig) = lightbox::tui::stopped_by() {
        eprintln!(
            "lightbox: stopped by signal {sig}; the terminal is restored and every recorded verdict is in the journal"
        );
        return ExitCode::from((128 + sig) as u8);
    }
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_INPUT)
        }
    }
}
