//! `courtledger-node`: the courtledger validator.

mod config;
mod home;
mod testnet;

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::home::{read_genesis, Home};
use crate::testnet::{write_testnet_with_os_keys, TestnetOptions};

/// The courtledger validator node.
#[derive(Debug, Parser)]
#[command(name = "courtledger-node", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write a ready local network: one home per validator and a shared genesis.
    Testnet {
        /// Number of validators (courts), 1 to 32.
        #[arg(long, default_value_t = 4)]
        validators: u16,
        /// Directory to write the network into; must not already hold one.
        #[arg(long)]
        out: PathBuf,
        /// The chain's name.
        #[arg(long, default_value = "courtledger-local")]
        chain_name: String,
        /// Address to listen on and advertise.
        #[arg(long, default_value = "127.0.0.1")]
        host: IpAddr,
        /// Validator i listens for peers on BASE_PORT+i and for clients on BASE_PORT+100+i.
        #[arg(long, default_value_t = 27000)]
        base_port: u16,
    },
    /// Check a genesis file and print what it defines.
    ValidateGenesis {
        /// The genesis file.
        #[arg(long)]
        genesis: PathBuf,
    },
    /// Check a node home: configuration, genesis, key, and that the key is a validator's.
    Check {
        /// The node's home directory.
        #[arg(long)]
        home: PathBuf,
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
        Command::Testnet {
            validators,
            out,
            chain_name,
            host,
            base_port,
        } => {
            let summary = write_testnet_with_os_keys(&TestnetOptions {
                validators,
                out,
                chain_name,
                host,
                base_port,
            })?;
            println!(
                "wrote a {validators}-validator network, chain id {}",
                summary.chain_id
            );
            println!("  genesis: {}", summary.genesis_path.display());
            for home in &summary.homes {
                println!("  home:    {}", home.display());
            }
            for key in &summary.registrar_keys {
                println!("  registrar key: {}", key.display());
            }
        }
        Command::ValidateGenesis { genesis } => {
            let genesis = read_genesis(&genesis)?;
            print_genesis(&genesis);
        }
        Command::Check { home } => {
            let home = Home::load(&home)?;
            let validator = home.validator()?;
            println!(
                "home {} is valid: validator of court {} ({}), chain id {}, p2p {}, api {}",
                home.dir.display(),
                validator.court_code,
                validator.peer_id,
                home.genesis.chain_id(),
                home.config.p2p.listen,
                home.config.api.listen
            );
        }
    }
    Ok(())
}

fn print_genesis(genesis: &courtledger_types::Genesis) {
    println!("genesis is valid");
    println!("  chain name: {}", genesis.chain_name);
    println!("  chain id:   {}", genesis.chain_id());
    println!("  courts:     {}", genesis.courts.len());
    println!(
        "  validators: {} (total voting power {})",
        genesis.validators.len(),
        genesis.validator_set().total_power()
    );
    for validator in &genesis.validators {
        let name = genesis
            .court(&validator.court_code)
            .map_or("?", |court| court.name.as_str());
        println!(
            "    {} {name}: power {}, p2p {}, api {}",
            validator.court_code,
            validator.validator.voting_power,
            validator.p2p_address,
            validator.api_address
        );
    }
    println!("  registrars: {}", genesis.registrars.len());
}
