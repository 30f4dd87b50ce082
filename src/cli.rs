//! Command-line interface: one file per subcommand, each a thin layer over the library.

mod info;
mod init;
mod sample;
mod source;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Review what an image model predicts before it ships.
#[derive(Parser, Debug)]
#[command(name = "lightbox", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Summarise and validate a pack: cases, image sizes and depths, classes, runs, problems.
    Info(info::Args),
    /// Write the lightbox.toml that --images/--gt/--run imply.
    Init(init::Args),
    /// Generate the synthetic chest-phantom sample pack (or a large pack for benchmarks).
    Sample(sample::Args),
}

/// Exit codes shared by every subcommand.
pub const EXIT_OK: u8 = 0;
pub const EXIT_INPUT: u8 = 2;

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_INPUT } else { EXIT_OK });
        }
    };
    let result = match cli.command {
        Command::Info(a) => info::run(a),
        Command::Init(a) => init::run(a),
        Command::Sample(a) => sample::run(a),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_INPUT)
        }
    }
}
