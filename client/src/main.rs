//! `courtledger`: the client for parties, lawyers, judges and auditors.
//!
//! Keys and genesis checks work offline; `status`, `block`, `anchor` and `tx` talk to a node's
//! HTTP API. Judicial acts, proofs and audits arrive with their issues.

mod bench;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use clap::{Parser, Subcommand};
use courtledger_codec::Encode;
use courtledger_crypto::SigningKey;
use courtledger_keystore::{read_key_file, write_key_file};
use courtledger_types::limits::MAX_GENESIS_BYTES;
use courtledger_types::{Genesis, Transaction};
use rand_core::OsRng;
use serde_json::Value;

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
    /// A node's status.
    Status {
        /// The node's API, e.g. http://127.0.0.1:27100.
        #[arg(long, default_value = "http://127.0.0.1:27100")]
        node: String,
    },
    /// A committed block (the latest without --height).
    Block {
        /// The node's API.
        #[arg(long, default_value = "http://127.0.0.1:27100")]
        node: String,
        /// The height.
        #[arg(long)]
        height: Option<u64>,
    },
    /// Sign and submit an anchor: a hash of a document or text, recorded under your key.
    Anchor {
        /// Your key file.
        #[arg(long)]
        key: PathBuf,
        /// The chain's genesis file (its chain id is signed).
        #[arg(long)]
        genesis: PathBuf,
        /// The node's API.
        #[arg(long, default_value = "http://127.0.0.1:27100")]
        node: String,
        /// The text to anchor (its bytes are the payload).
        #[arg(long)]
        text: String,
        /// Wait until the transaction is committed.
        #[arg(long)]
        wait: bool,
    },
    /// Load a running network with signed transactions and report throughput and latency.
    Bench {
        /// The chain's genesis file.
        #[arg(long)]
        genesis: PathBuf,
        /// Node APIs to submit to, comma-separated; the first is followed for commits.
        #[arg(long, value_delimiter = ',', default_value = "http://127.0.0.1:27100")]
        nodes: Vec<String>,
        /// Transactions to send.
        #[arg(long, default_value_t = 10_000)]
        txs: usize,
        /// Distinct signers.
        #[arg(long, default_value_t = 256)]
        senders: usize,
        /// Transactions per submission.
        #[arg(long, default_value_t = 256)]
        batch: usize,
        /// Offered rate in transactions per second (0: as fast as possible).
        #[arg(long, default_value_t = 0)]
        rate: u64,
        /// Payload bytes per transaction.
        #[arg(long, default_value_t = 300)]
        payload_bytes: usize,
        /// Seconds to wait for every commit.
        #[arg(long, default_value_t = 120)]
        timeout_s: u64,
    },
    /// Where a transaction is: committed (height, position), pending or unknown.
    Tx {
        /// The node's API.
        #[arg(long, default_value = "http://127.0.0.1:27100")]
        node: String,
        /// The transaction id.
        #[arg(long)]
        id: String,
    },
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

fn read_genesis(path: &Path) -> anyhow::Result<Genesis> {
    let size = std::fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    if size > u64::try_from(MAX_GENESIS_BYTES).unwrap_or(u64::MAX) {
        bail!("{} is larger than a genesis file may be", path.display());
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Genesis::from_json(&text).with_context(|| format!("invalid genesis file {}", path.display()))
}

/// The HTTP client of every command: plain HTTP, non-2xx answers returned, 30 s timeout.
pub(crate) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(30)))
        .http_status_as_error(false)
        .build()
        .into()
}

/// GET `url` with `agent`: the status and the JSON body.
pub(crate) fn get_json_with(agent: &ureq::Agent, url: &str) -> anyhow::Result<(u16, Value)> {
    let mut response = agent
        .get(url)
        .call()
        .with_context(|| format!("cannot reach {url}"))?;
    let status = response.status().as_u16();
    let body: Value = response
        .body_mut()
        .read_json()
        .context("the node's answer is not JSON")?;
    Ok((status, body))
}

fn get_json(url: &str) -> anyhow::Result<(u16, Value)> {
    get_json_with(&agent(), url)
}

fn print(value: &Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
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
            let genesis = read_genesis(&genesis)?;
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
        Command::Status { node } => print(&get_json(&format!("{node}/v1/status"))?.1)?,
        Command::Block { node, height } => {
            let path = height.map_or_else(|| "latest".to_owned(), |h| h.to_string());
            let (status, body) = get_json(&format!("{node}/v1/blocks/{path}"))?;
            print(&body)?;
            if status != 200 {
                bail!("the node answered {status}");
            }
        }
        Command::Anchor {
            key,
            genesis,
            node,
            text,
            wait,
        } => {
            let key = read_key_file(&key)?;
            let genesis = read_genesis(&genesis)?;
            // The next nonce of this key, as the node sees it (pending transactions counted).
            let (status, account) = get_json(&format!("{node}/v1/accounts/{}", key.public_key()))?;
            let Some(nonce) = account["next_nonce"].as_u64().filter(|_| status == 200) else {
                bail!("cannot read this key's next nonce: {account}");
            };
            let tx = Transaction {
                signer: key.public_key(),
                nonce,
                payload: text.into_bytes(),
            }
            .sign(&key, &genesis.chain_id());
            let id = tx.id();
            let body = serde_json::json!({ "txs": [hex::encode(tx.to_bytes())] });
            let mut response = agent()
                .post(&format!("{node}/v1/txs"))
                .send_json(&body)
                .with_context(|| format!("cannot reach {node}"))?;
            let answer: Value = response
                .body_mut()
                .read_json()
                .context("the node's answer is not JSON")?;
            let accepted = answer["results"][0]["accepted"].as_bool() == Some(true);
            if !accepted {
                print(&answer)?;
                bail!("the node refused the transaction");
            }
            println!("submitted {id}");
            if wait {
                let deadline = Instant::now() + Duration::from_secs(30);
                loop {
                    let (_, body) = get_json(&format!("{node}/v1/txs/{id}"))?;
                    if body["status"] == "committed" {
                        print(&body)?;
                        break;
                    }
                    if Instant::now() > deadline {
                        bail!("not committed within 30 s: {body}");
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
        Command::Bench {
            genesis,
            nodes,
            txs,
            senders,
            batch,
            rate,
            payload_bytes,
            timeout_s,
        } => {
            let genesis = read_genesis(&genesis)?;
            let options = bench::BenchOptions {
                nodes,
                txs,
                senders,
                batch,
                rate,
                payload_bytes,
                timeout: Duration::from_secs(timeout_s),
            };
            print(&bench::run(&genesis, &options)?)?;
        }
        Command::Tx { node, id } => {
            let (status, body) = get_json(&format!("{node}/v1/txs/{id}"))?;
            print(&body)?;
            if status != 200 {
                bail!("the node answered {status}");
            }
        }
    }
    Ok(())
}
