//! The `qscale` binary: parse the command line, run it, map errors to
//! exit codes (2 for bad input, 1 for anything else).

use std::process::ExitCode;

use clap::Parser;
use qscale::cli::{self, Cli};

fn main() -> ExitCode {
    let cli = Cli::parse();
    cli::install_interrupt_handler();
    match cli::execute(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(qscale::exit_code(&err))
        }
    }
}
