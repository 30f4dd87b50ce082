//! The `lightbox` binary: parse the command line, dispatch to a subcommand, map errors to exit
//! codes (0 ok, 1 a gate failed, 2 bad input or usage).

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
