//! `courtledger`: the client for parties, lawyers, judges and auditors.
//!
//! This first slice manages keys and inspects genesis files offline; submitting acts, proofs and
//! audits arrive with the node's API.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use courtledger_crypto::SigningKey;
use courtledger_keystore::{read_key_file, write_key_file};
use courtledger_types::Genesis;
use rand_core::OsRng;

/// The courtledger client.
#[derive(Debug, Parser)]
#[command(name = "courtledger", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Personal signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Genesis files.
    #[command(subcommand)]
    Genesis(GenesisCommand),
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Generate a new ed25519 key into a file readable only by you.
    Generate {
        /// Where to write the key file; an existing file is never overwritten.
        #[arg(long)]
        out: PathBuf,
    },
    /// Print the public key of a key file.
    Show {
        /// The key file.
        #[arg(long)]
        key: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum GenesisCommand {
    /// Check a genesis file offline and print its chain id.
    Verify {
        /// The genesis file.
        #[arg(long)]
        genesis: PathBuf,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Keys(KeysCommand::Generate { out }) => {
            let key = SigningKey::generate(&mut OsRng);
            write_key_file(&out, &key)?;
            println!("{}", key.public_key());
        }
        Command::Keys(KeysCommand::Show { key }) => {
            println!("{}", read_key_file(&key)?.public_key());
        }
        Command::Genesis(GenesisCommand::Verify { genesis }) => {
            let text = std::fs::read_to_string(&genesis)
                .with_context(|| format!("cannot read {}", genesis.display()))?;
            let genesis = Genesis::from_json(&text)
                .with_context(|| format!("invalid genesis file {}", genesis.display()))?;
            println!("chain {} ({})", genesis.chain_id(), genesis.chain_name);
            for validator in &genesis.validators {
                println!(
                    "  validator {} power {} key {}",
                    validator.court_code,
                    validator.validator.voting_power,
                    validator.validator.public_key
                );
            }
        }
    }
    Ok(())
}
