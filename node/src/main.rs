//! `courtledger-node`: the courtledger validator.

mod api;
mod config;
mod driver;
mod events;
mod home;
mod metrics;
mod node;
mod status;
mod testnet;
mod wire;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::home::{read_genesis, Home};
use crate::testnet::{write_testnet_with_os_keys, TestnetOptions};

/// jemalloc for the whole process, RocksDB included (the workspace Cargo.toml says why).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// The courtledger validator node.
#[derive(Debug, Parser)]
#[command(name = "courtledger-node", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the validator of a home written by `testnet` (until SIGTERM or Ctrl-C).
    Start {
        /// The node's home directory.
        #[arg(long)]
        home: PathBuf,
        /// Override [p2p] listen.
        #[arg(long = "p2p.listen")]
        p2p_listen: Option<SocketAddr>,
        /// Override [api] listen.
        #[arg(long = "api.listen")]
        api_listen: Option<SocketAddr>,
        /// Override [log] format: human or json.
        #[arg(long = "log.format")]
        log_format: Option<config::LogFormat>,
        /// Override [log] level, e.g. info or courtledger_node=debug,info.
        #[arg(long = "log.level")]
        log_level: Option<String>,
        /// Override any setting: SECTION.KEY=VALUE (repeatable), e.g. mempool.max_txs=50000.
        #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
        set: Vec<String>,
    },
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
    /// Write the home of a node joining an existing chain: a new key, a configuration and a copy
    /// of the genesis. The node follows the chain until a validator-set change adds its key.
    Init {
        /// Directory to write the home into.
        #[arg(long)]
        out: PathBuf,
        /// The chain's genesis file.
        #[arg(long)]
        genesis: PathBuf,
        /// Where to listen for peers (and the address to announce in the set change).
        #[arg(long)]
        p2p: SocketAddr,
        /// Where to listen for clients.
        #[arg(long)]
        api: SocketAddr,
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
        Command::Start {
            home,
            p2p_listen,
            api_listen,
            log_format,
            log_level,
            set,
        } => {
            let mut home = Home::load(&home)?;
            home.config = home.config.with_overrides(&set)?;
            if let Some(listen) = p2p_listen {
                home.config.p2p.listen = listen;
            }
            if let Some(listen) = api_listen {
                home.config.api.listen = listen;
            }
            if let Some(format) = log_format {
                home.config.log.format = format;
            }
            if let Some(level) = log_level {
                home.config.log.level = level;
            }
            node::init_logging(&home.config);
            node::run(home)?;
        }
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
        Command::Init {
            out,
            genesis,
            p2p,
            api,
        } => {
            let key = testnet::write_home(&out, &genesis, p2p, api, &mut rand_core::OsRng)?;
            println!(
                "wrote the home {}: node key {key}, p2p {p2p}, api {api}",
                out.display()
            );
            println!(
                "start it with `courtledger-node start --home {}`; it follows the chain until a \
                 validator-set change adds this key",
                out.display()
            );
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
