//! The command line: every command, its help text, and [`run`].

use std::path::PathBuf;

use anyhow::bail;
use clap::{Parser, Subcommand};
use serde_json::json;

use crate::acts::case::CaseCommand;
use crate::acts::evidence::{EvidenceCommand, MessageCommand};
use crate::acts::hearing::HearingCommand;
use crate::acts::identity::{CourtCommand, IdentityCommand};
use crate::acts::judgment::{ClueCommand, JudgmentCommand};
use crate::acts::mediation::MediationCommand;
use crate::acts::service::ServiceCommand;
use crate::acts::BuildAct;
use crate::get_ok;
use crate::output::Printer;
use crate::submit::{run_act, Ctx, SignArgs};
use crate::{audit, bench, browse, files, keys, proof, read_genesis};

const LONG_ABOUT: &str = "\
The courtledger client: sign the acts of online litigation on the court ledger, and check them.

Every act (a filing, a piece of evidence, a transcript signature, a receipt for a served
document, a judgment...) is signed on this computer with your own key file and sent to a court's
node; your private key never leaves this computer. Files are never uploaded: only their SHA-256
fingerprint goes on the ledger, so keep the files themselves.

Acts that create something (an identity, a case, evidence, a hearing, a transcript, a mediation
agreement, a service, a judgment, a clue) print its id: keep it, later acts name it.

Every act waits until the courts have committed it and prints the block height and the
receipt code: `ok`, or why the ledger refused it (such as `not_authorized`, `deadline_passed`,
`content_mismatch`); then the command fails (exit status 1).";

const AFTER_HELP: &str = "\
Set-up once: `courtledger keys generate --out me.json --encrypt`, then
  export COURTLEDGER_KEY=me.json COURTLEDGER_GENESIS=genesis.json COURTLEDGER_NODE=http://NODE:27100

Examples:
  courtledger case file --court 京0105 --kind civil --plaintiff MY_ID --defendant THEIR_ID \\
      --claim-summary claims.pdf --complaint complaint.pdf --attach id_document=id.pdf
  courtledger evidence submit CASE_ID contract.pdf
  courtledger hearing sign TRANSCRIPT_ID transcript.pdf
  courtledger service acknowledge SERVICE_ID summons.pdf

Run `courtledger COMMAND --help` for each command.";

/// The courtledger client.
#[derive(Debug, Parser)]
#[command(
    name = "courtledger",
    version,
    about,
    long_about = LONG_ABOUT,
    after_help = AFTER_HELP
)]
pub struct Cli {
    /// Print one machine-readable JSON document on stdout (errors too, as {"error": ...}).
    #[arg(long, global = true, help_heading = "Global options")]
    pub json: bool,
    /// The court node to send acts to and ask (its HTTP API).
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        env = "COURTLEDGER_NODE",
        default_value = "http://127.0.0.1:27100",
        value_name = "URL"
    )]
    pub node: String,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Every command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Your signing keys: generate one, show its public key.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Real-name registration: identity commitments, consent, registering, rotating and
    /// revoking keys.
    #[command(subcommand)]
    Identity(IdentityCommand),
    /// Registrars: add courts.
    #[command(subcommand)]
    Court(CourtCommand),
    /// Cases: file, review, assign staff, add parties, appoint lawyers, evidence time limit,
    /// close.
    #[command(subcommand)]
    Case(CaseCommand),
    /// Evidence: submit a file, acknowledge receipt.
    #[command(subcommand)]
    Evidence(EvidenceCommand),
    /// The case space: post text, voice or image messages.
    #[command(subcommand)]
    Message(MessageCommand),
    /// Hearings: schedule, hold, record the transcript, sign it.
    #[command(subcommand)]
    Hearing(HearingCommand),
    /// Mediation: propose an agreement, sign it, confirm it.
    #[command(subcommand)]
    Mediation(MediationCommand),
    /// Service of documents: serve a document, sign for it.
    #[command(subcommand)]
    Service(ServiceCommand),
    /// Judgments and rulings: issue, publish.
    #[command(subcommand)]
    Judgment(JudgmentCommand),
    /// Enforcement clues: report assets or whereabouts.
    #[command(subcommand)]
    Clue(ClueCommand),
    /// Genesis files: check one and print its chain id.
    #[command(subcommand)]
    Genesis(GenesisCommand),
    /// A node's status.
    Status,
    /// A committed block (the latest without --height).
    Block {
        /// The height.
        #[arg(long)]
        height: Option<u64>,
    },
    /// Load a running network with real judicial acts (case filings by registered parties)
    /// and report throughput, commit latency, refusals and whether anything was lost.
    Bench(bench::BenchArgs),
    /// Where a transaction is: committed (height, position, receipt code), pending or unknown.
    Tx {
        /// The transaction id.
        #[arg(long)]
        id: String,
    },
    /// SHA-256 and size of a file (streamed; a progress bar for large files), and its media
    /// type: what the ledger records of a file.
    Hash {
        /// The file.
        file: PathBuf,
    },
    /// Proof bundles: get one from a node; verify one offline with the genesis file alone;
    /// refresh one with a newer checkpoint.
    #[command(subcommand)]
    Proof(proof::ProofCommand),
    /// Does a file in hand match a document hash recorded by the act of a proof bundle?
    VerifyFile(proof::VerifyFileArgs),
    /// Audits with nothing trusted but the genesis file: check the whole chain, check that
    /// the history log only grew, save a checkpoint.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// A table of blocks: height, time (Beijing), transactions, proposer court, block id.
    Blocks(browse::BlocksArgs),
    /// Validator sets: show them; propose, approve (with node keys) and submit a change.
    #[command(subcommand)]
    Validators(crate::validators::ValidatorsCommand),
}

impl Command {
    /// For a command that submits an act: its signing options and its act builder.
    pub fn as_act(&self) -> Option<(&SignArgs, &dyn BuildAct)> {
        match self {
            Command::Identity(command) => command.as_act(),
            Command::Court(command) => Some(command.as_act()),
            Command::Case(command) => command.as_act(),
            Command::Evidence(command) => Some(command.as_act()),
            Command::Message(command) => Some(command.as_act()),
            Command::Hearing(command) => Some(command.as_act()),
            Command::Mediation(command) => Some(command.as_act()),
            Command::Service(command) => Some(command.as_act()),
            Command::Judgment(command) => Some(command.as_act()),
            Command::Clue(command) => Some(command.as_act()),
            Command::Keys(_)
            | Command::Genesis(_)
            | Command::Status
            | Command::Block { .. }
            | Command::Bench(_)
            | Command::Tx { .. }
            | Command::Hash { .. }
            | Command::Proof(_)
            | Command::VerifyFile(_)
            | Command::Audit(_)
            | Command::Validators(_)
            | Command::Blocks(_) => None,
        }
    }
}

/// `keys`.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Generate a new ed25519 key into a file readable only by you.
    Generate {
        /// Where to write the key file; an existing file is never overwritten.
        #[arg(long)]
        out: PathBuf,
        /// Encrypt the key under a passphrase (from COURTLEDGER_PASSPHRASE, else asked twice).
        #[arg(long)]
        encrypt: bool,
    },
    /// Print the public key of a key file, plain or encrypted.
    Show {
        /// The key file.
        #[arg(long)]
        key: PathBuf,
    },
}

/// `genesis`.
#[derive(Debug, Subcommand)]
pub enum GenesisCommand {
    /// Check a genesis file offline and print its chain id.
    Verify {
        /// The genesis file.
        #[arg(long)]
        genesis: PathBuf,
    },
}

/// Runs a parsed command line.
pub fn run(cli: Cli, printer: Printer) -> anyhow::Result<()> {
    let node = cli.node.trim_end_matches('/').to_owned();
    let ctx = Ctx {
        node: node.clone(),
        printer,
    };
    if let Some((sign, build)) = cli.command.as_act() {
        return run_act(&ctx, sign, build);
    }
    match cli.command {
        Command::Identity(command) => command.run_offline(printer)?,
        Command::Keys(KeysCommand::Generate { out, encrypt }) => {
            let (key, format) = keys::generate(&out, encrypt)?;
            let public_key = key.public_key().to_string();
            printer.result(
                &json!({
                    "public_key": public_key,
                    "file": out.display().to_string(),
                    "format": keys::format_name(format),
                }),
                &public_key,
            )?;
        }
        Command::Keys(KeysCommand::Show { key: path }) => {
            let loaded = keys::load_key(&path)?;
            let public_key = loaded.key.public_key().to_string();
            printer.result(
                &json!({
                    "public_key": public_key,
                    "file": path.display().to_string(),
                    "format": keys::format_name(loaded.format),
                }),
                &public_key,
            )?;
        }
        Command::Genesis(GenesisCommand::Verify { genesis }) => {
            let genesis = read_genesis(&genesis)?;
            let mut text = format!("chain {} ({})\n", genesis.chain_id(), genesis.chain_name);
            let mut validators = Vec::new();
            for validator in &genesis.validators {
                text.push_str(&format!(
                    "  validator {} power {} key {}\n",
                    validator.court_code,
                    validator.validator.voting_power,
                    validator.validator.public_key
                ));
                validators.push(json!({
                    "court_code": validator.court_code.to_string(),
                    "voting_power": validator.validator.voting_power,
                    "public_key": validator.validator.public_key.to_string(),
                }));
            }
            printer.result(
                &json!({
                    "chain_id": genesis.chain_id().to_string(),
                    "chain_name": genesis.chain_name,
                    "validators": validators,
                }),
                &text,
            )?;
        }
        Command::Status => printer.value(&get_ok(&node, "/v1/status")?)?,
        Command::Block { height } => {
            let path = height.map_or_else(|| "latest".to_owned(), |h| h.to_string());
            printer.value(&get_ok(&node, &format!("/v1/blocks/{path}"))?)?;
        }
        Command::Bench(args) => bench::run_command(&args, &node, printer)?,
        Command::Tx { id } => printer.value(&get_ok(&node, &format!("/v1/txs/{id}"))?)?,
        Command::Hash { file } => {
            let digest = files::hash_file(&file, true)?;
            let sha256 = hex::encode(digest.sha256);
            let media_type = files::media_type(&file);
            printer.result(
                &json!({
                    "file": file.display().to_string(),
                    "sha256": sha256,
                    "size": digest.size,
                    "media_type": media_type,
                }),
                &format!(
                    "sha256      {sha256}\nsize        {} bytes\nmedia type  {media_type}",
                    digest.size
                ),
            )?;
        }
        Command::Proof(command) => command.run(&node, printer)?,
        Command::VerifyFile(args) => proof::verify_file(&args, printer)?,
        Command::Audit(command) => command.run(&node, printer)?,
        Command::Blocks(args) => browse::blocks(&args, &node, printer)?,
        Command::Validators(command) => command.run(&node, printer)?,
        Command::Case(CaseCommand::Timeline(args)) => browse::timeline(&args, &node, printer)?,
        Command::Court(_)
        | Command::Case(_)
        | Command::Evidence(_)
        | Command::Message(_)
        | Command::Hearing(_)
        | Command::Mediation(_)
        | Command::Service(_)
        | Command::Judgment(_)
        | Command::Clue(_) => bail!("an act command was not dispatched"),
    }
    Ok(())
}
