//! `courtledger`: the client for parties, lawyers, judges and auditors. See [`courtledger_client`].

use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::Parser as _;
use courtledger_client::cli::{run, Cli};
use courtledger_client::output::Printer;
use serde_json::json;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage_error(&error),
    };
    let printer = Printer { json: cli.json };
    match run(cli, printer) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            printer.error(&error);
            ExitCode::FAILURE
        }
    }
}

/// A command line clap refused (or --help, --version): clap's own output, except that with
/// `--json` a refusal becomes a JSON error document.
fn usage_error(error: &clap::Error) -> ExitCode {
    let informational = matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    );
    let json = std::env::args_os().skip(1).any(|arg| arg == "--json");
    if json && !informational {
        let message = error.render().to_string();
        println!("{}", json!({ "error": { "message": message.trim_end() } }));
        return ExitCode::from(2);
    }
    let _ = error.print();
    ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2))
}
