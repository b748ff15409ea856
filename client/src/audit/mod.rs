//! Audits, with nothing trusted but the genesis file: `audit chain` downloads blocks and checks
//! every one ([`check`]); `audit consistency` checks that a later head of the history log only
//! appended to an earlier one; `audit checkpoint` saves a certified header to compare with later.
//!
//! After validator-set changes a header is signed by another set than genesis'. A head is then
//! verified with the set links from genesis to its set (`docs/proof-format.md`, "Version 3"),
//! which the node sends with its log proofs (`set_links` of `GET /v1/proofs/consistency`) and
//! which are verified from the genesis set, link by link; a checkpoint file of such a head
//! carries them (file version 2).

pub mod check;

use std::fs::{File, OpenOptions};
use std::io::{IsTerminal as _, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use clap::{Args, Subcommand};
use courtledger_codec::{decode_exact, Encode};
use courtledger_merkle::ConsistencyProof;
use courtledger_proof::describe::beijing_rfc3339;
use courtledger_proof::head::MAX_CERTIFIED_HEADER_V2_BYTES;
use courtledger_proof::links::{follow, MAX_SET_LINKS};
use courtledger_proof::{CertifiedHeader, ProofError, SetLink, VerifiedHead, HEAD_MAGIC};
use courtledger_types::Genesis;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{json, Value};

use self::check::{
    frontier_from_consistency, parse_block, AuditFailure, Auditor, BlockRecord, LogState, Tip,
};
use crate::http::{agent, get_json_with};
use crate::output::{ActError, NodeError, Printer};
use crate::read_genesis;

/// The most blocks the node sends per page (`GET /v1/blocks`).
pub const PAGE_BLOCKS: u64 = 100;
/// The largest page body read. A page of `GET /v1/blocks?txs=true` stops after the block that
/// brings its transactions to 4 MiB, so it holds less than 4 MiB plus one block (at most
/// `MAX_BLOCK_BYTES`, 32 MiB) of transactions: under 72 MiB as hex, with at most 70,000 tx ids
/// (20,000 before the last block, `MAX_BLOCK_TXS` in it) and 100 headers and certificates.
const MAX_PAGE_BYTES: u64 = 128 * 1024 * 1024;

/// `audit`.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Download every block and check it against the genesis file alone.
    ///
    /// With no trust in the node, the chain must be the one the validators agreed on: heights,
    /// parents and times in order, each header's id, each commit certificate (more than two
    /// thirds of the voting power of the validator set in force at its height, every signature
    /// valid), every transaction (its id, and its signature under the chain id), every
    /// validator-set change (approved by the set in force, activated exactly at its height,
    /// announced by the headers), the transaction and receipt roots, and the history log of
    /// every transaction. Stops at the first inconsistency with its height (and a transaction's
    /// position) and reason (exit 1); otherwise prints a summary with the download and
    /// verification rates, and the time the transaction signatures took.
    Chain(ChainArgs),
    /// Check that the history log of a later block only appended to an earlier one's.
    ///
    /// Nothing committed was rewritten or dropped: both heads' certificates are verified
    /// against genesis, then the node's consistency proof against the certified roots. The
    /// earlier head is block --from, or a checkpoint file (--checkpoint).
    Consistency(ConsistencyArgs),
    /// Save a block's certified header (a checkpoint file), verified against genesis.
    ///
    /// Later, `audit consistency --checkpoint FILE` checks that the chain only grew from it.
    Checkpoint(CheckpointArgs),
}

/// `audit chain`.
#[derive(Debug, Args)]
pub struct ChainArgs {
    /// The chain's genesis file: the only thing trusted.
    #[arg(long, env = "COURTLEDGER_GENESIS", value_name = "FILE")]
    pub genesis: PathBuf,
    /// The first height to check. Above 1, block FROM − 1 is the starting point: its
    /// certificate is verified, and the history log's frontier there is recovered from the
    /// node's consistency proof and checked against its certified root.
    #[arg(long, value_name = "H", default_value_t = 1)]
    pub from: u64,
    /// The last height to check (default: the node's last block when the audit starts).
    #[arg(long, value_name = "H")]
    pub to: Option<u64>,
    /// Also re-execute every transaction from genesis with the judicial ledger's rules and
    /// check that each block comes out exactly as its header says, state root included
    /// (`execution`). Only with --from 1; keeps the whole ledger state in memory.
    #[arg(long)]
    pub execute: bool,
}

/// `audit consistency`.
#[derive(Debug, Args)]
pub struct ConsistencyArgs {
    /// The chain's genesis file: the only thing trusted.
    #[arg(long, env = "COURTLEDGER_GENESIS", value_name = "FILE")]
    pub genesis: PathBuf,
    /// The earlier height (its block is fetched from the node and its certificate verified).
    #[arg(
        long,
        value_name = "H1",
        conflicts_with = "checkpoint",
        required_unless_present = "checkpoint"
    )]
    pub from: Option<u64>,
    /// The earlier head from a checkpoint file (`audit checkpoint`) instead of the node.
    #[arg(long, value_name = "FILE")]
    pub checkpoint: Option<PathBuf>,
    /// The later height (default: the node's last block).
    #[arg(long, value_name = "H2")]
    pub to: Option<u64>,
}

/// `audit checkpoint`.
#[derive(Debug, Args)]
pub struct CheckpointArgs {
    /// The chain's genesis file: the header's certificate is verified against it before saving.
    #[arg(long, env = "COURTLEDGER_GENESIS", value_name = "FILE")]
    pub genesis: PathBuf,
    /// The block's height (default: the node's last block).
    #[arg(long, value_name = "H")]
    pub height: Option<u64>,
    /// Where to write the checkpoint file; an existing file is never overwritten.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

impl AuditCommand {
    /// Runs the command.
    pub fn run(self, node: &str, printer: Printer) -> anyhow::Result<()> {
        match self {
            AuditCommand::Chain(args) => chain(&args, node, printer),
            AuditCommand::Consistency(args) => consistency(&args, node, printer),
            AuditCommand::Checkpoint(args) => save_checkpoint(&args, node, printer),
        }
    }
}

/// GET `{node}{path}` with `agent`: the JSON of a 200 answer and the body's size; any other
/// answer is a [`NodeError`].
fn get_page(agent: &ureq::Agent, node: &str, path: &str) -> anyhow::Result<(Value, usize)> {
    let url = format!("{node}{path}");
    let mut response = agent
        .get(&url)
        .call()
        .with_context(|| format!("cannot reach {url}"))?;
    let status = response.status().as_u16();
    let bytes = response
        .body_mut()
        .with_config()
        .limit(MAX_PAGE_BYTES)
        .read_to_vec()
        .with_context(|| format!("cannot read the answer of {url}"))?;
    let body: Value = serde_json::from_slice(&bytes).context("the node's answer is not JSON")?;
    if status != 200 {
        return Err(NodeError {
            message: format!("the node answered {status} to {path}"),
            body,
        }
        .into());
    }
    Ok((body, bytes.len()))
}

fn get_ok_with(agent: &ureq::Agent, node: &str, path: &str) -> anyhow::Result<Value> {
    let (status, body) = get_json_with(agent, &format!("{node}{path}"))?;
    if status != 200 {
        return Err(NodeError {
            message: format!("the node answered {status} to {path}"),
            body,
        }
        .into());
    }
    Ok(body)
}

/// The node's last committed height.
pub fn last_height(agent: &ureq::Agent, node: &str) -> anyhow::Result<u64> {
    get_ok_with(agent, node, "/v1/status")?["last_committed_height"]
        .as_u64()
        .context("the node's status has no last_committed_height")
}

/// The header and certificate of the block at `height`, as the node sends them (decoded, not
/// yet verified).
pub fn fetch_head(agent: &ureq::Agent, node: &str, height: u64) -> anyhow::Result<CertifiedHeader> {
    let body = get_ok_with(agent, node, &format!("/v1/blocks/{height}"))?;
    let record = parse_block(&body, height).map_err(|failure| {
        anyhow::anyhow!("the node's block {height} is malformed: {}", failure.reason)
    })?;
    if record.header.height != height {
        bail!(
            "the node sent block {} when asked for block {height}",
            record.header.height
        );
    }
    Ok(CertifiedHeader::new(record.header, record.certificate))
}

/// The set links of a node's answer (`set_links` of `GET /v1/proofs/consistency` and
/// `GET /v1/proofs/log-inclusion`), decoded, not yet verified: at most [`MAX_SET_LINKS`].
pub fn parse_set_links(answer: &Value) -> anyhow::Result<Vec<SetLink>> {
    let Some(links) = answer.get("set_links") else {
        // A node from before validator-set changes: it has none to send.
        return Ok(Vec::new());
    };
    let links = links
        .as_array()
        .context("the node's `set_links` is not an array")?;
    if links.len() > usize::try_from(MAX_SET_LINKS).unwrap_or(usize::MAX) {
        bail!(
            "the node sent {} set links; a proof carries at most {MAX_SET_LINKS}",
            links.len()
        );
    }
    links
        .iter()
        .enumerate()
        .map(|(i, link)| {
            let bytes = link["hex"]
                .as_str()
                .and_then(|text| hex::decode(text).ok())
                .with_context(|| format!("the node's set_links[{i}] has no hex"))?;
            SetLink::decode(&bytes)
                .with_context(|| format!("the node's set_links[{i}] is not a set link"))
        })
        .collect()
}

/// The set links from genesis up to block `height`, from the node (not yet verified). Only a
/// block whose log holds a transaction can follow a set change (the change is one), so an
/// empty log needs none: `log_size` is the block's.
pub fn fetch_set_links(
    agent: &ureq::Agent,
    node: &str,
    height: u64,
    log_size: u64,
) -> anyhow::Result<Vec<SetLink>> {
    if log_size == 0 {
        return Ok(Vec::new());
    }
    let answer = get_ok_with(
        agent,
        node,
        &format!("/v1/proofs/consistency?from={height}&to={height}"),
    )?;
    let mut links = parse_set_links(&answer)?;
    links.retain(|link| link.activation_height() <= height);
    Ok(links)
}

/// `head` with the set links it needs when the genesis set did not sign it (its
/// `validators_hash` is another set's), fetched from the node; unchanged otherwise.
pub fn with_needed_links(
    agent: &ureq::Agent,
    node: &str,
    genesis: &Genesis,
    head: CertifiedHeader,
) -> anyhow::Result<CertifiedHeader> {
    if !head.links.is_empty() || head.header.validators_hash == genesis.validator_set().hash() {
        return Ok(head);
    }
    let links = fetch_set_links(agent, node, head.header.height, head.header.log_size)?;
    Ok(head.with_links(links))
}

/// Verifies a head against genesis, as an error naming `what` and the failed check.
fn verified_head(
    head: &CertifiedHeader,
    genesis: &Genesis,
    what: &str,
) -> anyhow::Result<VerifiedHead> {
    head.verify(genesis).map_err(|error| {
        ActError {
            message: format!(
                "NOT VERIFIED: {what} (height {}) fails check `{}`: {error}",
                head.header.height,
                error.check()
            ),
            details: json!({
                "verified": false,
                "what": what,
                "height": head.header.height,
                "check": error.check(),
                "reason": error.to_string(),
            }),
        }
        .into()
    })
}

fn head_json(v: &VerifiedHead) -> Value {
    json!({
        "height": v.header.height,
        "block_id": v.block_id.to_string(),
        "time_ms": v.header.time_ms,
        "time_beijing": beijing_rfc3339(v.header.time_ms),
        "log_size": v.header.log_size,
        "log_root": v.header.log_root.to_string(),
        "signers": v.signers.iter().map(|s| s.court_code.to_string()).collect::<Vec<_>>(),
        "signed_power": v.signed_power,
        "total_power": v.total_power,
        "set_changes": v.set_changes.iter().map(|c| json!({
            "activation_height": c.activation_height,
            "set_hash": c.set_hash.to_string(),
            "courts": c.courts.iter().map(ToString::to_string).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

fn courts(v: &VerifiedHead) -> String {
    v.signers
        .iter()
        .map(|s| s.court_code.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

// ---- audit chain -------------------------------------------------------------------------

/// One page of blocks, decoded by the downloader.
struct Page {
    blocks: Vec<Result<BlockRecord, AuditFailure>>,
    txs: u64,
}

/// What the downloader did.
#[derive(Debug, Default, Clone, Copy)]
struct Downloaded {
    /// Time spent requesting, reading and decoding pages.
    busy: Duration,
    bytes: u64,
    pages: u64,
}

/// Fetches pages `from..=to` and decodes them, sending each to the verifier; stops after a
/// block that does not decode (the verifier reports it) or on an error.
fn download(
    agent: &ureq::Agent,
    node: &str,
    from: u64,
    to: u64,
    pages: &SyncSender<anyhow::Result<Page>>,
) -> Downloaded {
    let mut done = Downloaded::default();
    let mut next = from;
    while next <= to {
        let started = Instant::now();
        let limit = (to - next + 1).min(PAGE_BLOCKS);
        let page = get_page(
            agent,
            node,
            &format!("/v1/blocks?from={next}&limit={limit}&txs=true"),
        )
        .and_then(|(body, bytes)| {
            done.bytes += u64::try_from(bytes).unwrap_or(u64::MAX);
            let blocks = body["blocks"]
                .as_array()
                .context("the node's page has no `blocks` array")?;
            if blocks.is_empty() {
                bail!("the node sent no block from height {next} (it should have up to {to})");
            }
            let mut page = Page {
                blocks: Vec::with_capacity(blocks.len()),
                txs: 0,
            };
            for (height, block) in (next..).zip(
                blocks
                    .iter()
                    .take(usize::try_from(to - next + 1).unwrap_or(usize::MAX)),
            ) {
                let record = parse_block(block, height);
                let failed = record.is_err();
                if let Ok(record) = &record {
                    page.txs += u64::try_from(record.tx_ids.len()).unwrap_or(u64::MAX);
                }
                page.blocks.push(record);
                next = height + 1;
                if failed {
                    next = u64::MAX;
                    break;
                }
            }
            Ok(page)
        });
        done.busy += started.elapsed();
        done.pages += 1;
        let stop = page.is_err();
        if pages.send(page).is_err() || stop {
            break;
        }
    }
    done
}

/// Where the audit starts: genesis, or block `from − 1`, verified.
fn start(
    agent: &ureq::Agent,
    node: &str,
    genesis: &Genesis,
    from: u64,
    to: u64,
) -> anyhow::Result<Result<Auditor, AuditFailure>> {
    if from <= 1 {
        return Ok(Ok(Auditor::from_genesis(genesis)));
    }
    let anchor_height = from - 1;
    let anchor = fetch_head(agent, node, anchor_height)?;
    let anchor_failure = |reason: String| AuditFailure::new(anchor_height, "anchor", reason);
    // The set links up to the last audited block: the sets of the anchor and of the range.
    let end = fetch_head(agent, node, to)?;
    let links = fetch_set_links(agent, node, to, end.header.log_size)?;
    let sets = match follow(&links, genesis, to) {
        Ok(sets) => sets,
        Err(error) => {
            return Ok(Err(AuditFailure::new(
                to,
                "anchor",
                format!(
                    "the node's validator-set links up to block {to} fail check `{}`: {error}",
                    error.check()
                ),
            )))
        }
    };
    let upto = |height: u64| -> Vec<SetLink> {
        links
            .iter()
            .filter(|link| link.activation_height() <= height)
            .cloned()
            .collect()
    };
    let anchor = anchor.with_links(upto(anchor_height));
    let end = end.with_links(links.clone());
    if let Err(error) = anchor.verify(genesis) {
        return Ok(Err(anchor_failure(format!(
            "the starting block fails check `{}`: {error}",
            error.check()
        ))));
    }
    let header = &anchor.header;
    let (size, root) = (header.log_size, header.log_root);
    let log = match frontier_from_consistency(size, &root, None) {
        Some(frontier) => LogState::Frontier(frontier),
        None => {
            // The frontier comes from a consistency proof to the last audited block, whose
            // certificate is checked here too.
            if let Err(error) = end.verify(genesis) {
                return Ok(Err(AuditFailure::new(
                    to,
                    "anchor",
                    format!("the last block fails check `{}`: {error}", error.check()),
                )));
            }
            if end.header.log_size == size {
                LogState::Fixed { size, root }
            } else {
                let answer = get_ok_with(
                    agent,
                    node,
                    &format!("/v1/proofs/consistency?from={anchor_height}&to={to}"),
                )?;
                let proof = decode_consistency(&answer)?;
                let verified = proof.old_size == size
                    && proof.new_size == end.header.log_size
                    && proof.verify(&root.0, &end.header.log_root.0).is_ok();
                match frontier_from_consistency(size, &root, Some(&proof)) {
                    Some(frontier) if verified => LogState::Frontier(frontier),
                    _ => {
                        return Ok(Err(anchor_failure(format!(
                            "the node's consistency proof from block {anchor_height} to block {to} does not hold against their certified log roots"
                        ))))
                    }
                }
            }
        }
    };
    Ok(Ok(Auditor::resume_with_sets(
        genesis,
        Tip {
            height: header.height,
            id: header.id(),
            time_ms: header.time_ms,
        },
        log,
        &sets,
    )))
}

fn decode_consistency(answer: &Value) -> anyhow::Result<ConsistencyProof> {
    let text = answer["proof_hex"]
        .as_str()
        .context("the node's consistency answer has no proof_hex")?;
    let bytes = hex::decode(text).context("the node's proof_hex is not hex")?;
    decode_exact(&bytes, bytes.len()).context("the node's proof_hex is not a consistency proof")
}

/// A count as a float, for rates (exact below 2^53).
#[allow(clippy::as_conversions, clippy::cast_precision_loss)]
fn float(count: u64) -> f64 {
    count as f64
}

fn rate(count: u64, time: Duration) -> f64 {
    let seconds = time.as_secs_f64();
    if seconds > 0.0 {
        float(count) / seconds
    } else {
        0.0
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn chain(args: &ChainArgs, node: &str, printer: Printer) -> anyhow::Result<()> {
    let genesis = read_genesis(&args.genesis)?;
    let started = Instant::now();
    let agent = agent();
    let last = last_height(&agent, node)?;
    let to = args.to.unwrap_or(last);
    if to > last {
        bail!("the node's last block is {last}; it cannot be audited up to {to}");
    }
    let from = args.from.max(1);
    if from > to {
        bail!("nothing to audit: --from {from} is above the last height {to}");
    }
    if args.execute && from != 1 {
        bail!("--execute re-executes the chain from genesis: it needs --from 1");
    }
    let mut auditor = match start(&agent, node, &genesis, from, to)? {
        Ok(auditor) if args.execute => auditor.with_execution(&genesis),
        Ok(auditor) => auditor.with_transactions(),
        Err(failure) => return Err(audit_failed(&failure, &json!({}))),
    };
    let total = to - from + 1;
    let bar = (std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        let style =
            ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} blocks {per_sec} eta {eta}")
                .map(|style| style.progress_chars("=> "))
                .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_message("auditing");
        bar
    });

    let mut blocks = 0u64;
    let mut txs = 0u64;
    let mut verifying = Duration::ZERO;
    let mut waiting = Duration::ZERO;
    let (sender, receiver) = sync_channel::<anyhow::Result<Page>>(4);
    let (outcome, downloaded) = std::thread::scope(|scope| {
        let downloader = scope.spawn(|| {
            let sender = sender;
            download(&agent, node, from, to, &sender)
        });
        let outcome = (|| -> anyhow::Result<Result<(), AuditFailure>> {
            while blocks < total {
                let wait = Instant::now();
                let Ok(page) = receiver.recv() else {
                    bail!("the download stopped at height {}", from + blocks);
                };
                waiting += wait.elapsed();
                let page = page?;
                let verify = Instant::now();
                let checked = auditor.check_page(&page.blocks);
                verifying += verify.elapsed();
                if let Err(failure) = checked {
                    return Ok(Err(failure));
                }
                blocks += u64::try_from(page.blocks.len()).unwrap_or(u64::MAX);
                txs += page.txs;
                if let Some(bar) = &bar {
                    bar.set_position(blocks);
                    bar.set_message(format!("{txs} txs"));
                }
            }
            Ok(Ok(()))
        })();
        drop(receiver);
        let downloaded = downloader.join().unwrap_or_default();
        (outcome, downloaded)
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let elapsed = started.elapsed();
    let stats = json!({
        "from": from,
        "to": to,
        "blocks": blocks,
        "transactions": txs,
        "signatures": auditor.signatures,
        "signature_batches": auditor.batches,
        "tx_signatures": auditor.tx_signatures,
        "tx_signature_batches": auditor.tx_batches,
        "tx_signature_s": round2(auditor.tx_signature_time.as_secs_f64()),
        "tx_signature_per_s": round2(rate(auditor.tx_signatures, auditor.tx_signature_time)),
        "executed": auditor.executes(),
        "execution_s": round2(auditor.execution_time.as_secs_f64()),
        "execution_tx_per_s": round2(rate(txs, auditor.execution_time)),
        "elapsed_s": round2(elapsed.as_secs_f64()),
        "blocks_per_s": round2(rate(blocks, elapsed)),
        "tx_per_s": round2(rate(txs, elapsed)),
        "download_s": round2(downloaded.busy.as_secs_f64()),
        "download_bytes": downloaded.bytes,
        "download_pages": downloaded.pages,
        "download_blocks_per_s": round2(rate(blocks, downloaded.busy)),
        "verify_s": round2(verifying.as_secs_f64()),
        "verify_blocks_per_s": round2(rate(blocks, verifying)),
        "verify_tx_per_s": round2(rate(txs, verifying)),
        "verifier_waiting_s": round2(waiting.as_secs_f64()),
    });
    if let Err(failure) = outcome? {
        return Err(audit_failed(&failure, &stats));
    }
    let tip = auditor.tip();
    let (log_size, log_root) = match auditor.log() {
        LogState::Frontier(frontier) => (frontier.size(), hex::encode(frontier.root())),
        LogState::Fixed { size, root } => (*size, root.to_string()),
    };
    let mut result = stats.clone();
    result["verified"] = json!(true);
    result["chain"] = json!({ "id": genesis.chain_id().to_string(), "name": genesis.chain_name });
    result["last"] = json!({
        "height": tip.height,
        "block_id": tip.id.to_string(),
        "time_ms": tip.time_ms,
        "time_beijing": beijing_rfc3339(tip.time_ms),
        "log_size": log_size,
        "log_root": log_root,
    });
    result["checks_passed"] = json!(check::CHECKS[..check::CHECKS.len() - 1]
        .iter()
        .filter(|check| auditor.executes() || **check != "execution")
        .collect::<Vec<_>>());
    result["validator_set"] = json!({
        "activated_changes": auditor.activated_changes(),
        "set_hash": auditor.set_hash().to_string(),
    });
    let text = format!(
        "AUDIT PASSED: blocks {from} to {to} of chain {} ({}) are consistent, and each was \
         certified by more than two thirds of the power of the validator set in force at its \
         height; every transaction is the one its block lists and carries a valid signature.{}\n\
         \n\
         blocks        {blocks}\n\
         validator set {}\n\
         transactions  {txs}\n\
         signatures    {} precommits in {} batches\n\
         tx signatures {} in {} batches: {:.2} s of the verification ({:.1} tx/s)\n\
         elapsed       {:.2} s: {:.1} blocks/s, {:.1} tx/s\n\
         download      {:.2} s busy ({} pages, {:.1} MB): {:.1} blocks/s\n\
         verification  {:.2} s: {:.1} blocks/s, {:.1} tx/s (verification only)\n\
         last block    {} at {} (Beijing), id {}\n\
         history log   {log_size} transactions, root {log_root}",
        genesis.chain_name,
        genesis.chain_id(),
        if auditor.executes() {
            format!(
                " Every block was re-executed from genesis and came out as its header says, \
                 state root included ({:.2} s, {:.1} tx/s).",
                auditor.execution_time.as_secs_f64(),
                rate(txs, auditor.execution_time)
            )
        } else {
            String::new()
        },
        match auditor.activated_changes() {
            0 => "the genesis set throughout".to_owned(),
            n => format!(
                "{n} change{} activated since genesis; set in force now {}",
                if n == 1 { "" } else { "s" },
                auditor.set_hash()
            ),
        },
        auditor.signatures,
        auditor.batches,
        auditor.tx_signatures,
        auditor.tx_batches,
        auditor.tx_signature_time.as_secs_f64(),
        rate(auditor.tx_signatures, auditor.tx_signature_time),
        elapsed.as_secs_f64(),
        rate(blocks, elapsed),
        rate(txs, elapsed),
        downloaded.busy.as_secs_f64(),
        downloaded.pages,
        float(downloaded.bytes) / 1e6,
        rate(blocks, downloaded.busy),
        verifying.as_secs_f64(),
        rate(blocks, verifying),
        rate(txs, verifying),
        tip.height,
        beijing_rfc3339(tip.time_ms),
        tip.id,
    );
    printer.result(&result, &text)
}

/// The audit's failure as the command's error (exit status 1).
fn audit_failed(failure: &AuditFailure, stats: &Value) -> anyhow::Error {
    let mut details = json!({
        "verified": false,
        "height": failure.height,
        "index": failure.index,
        "check": failure.check,
        "reason": failure.reason,
    });
    if let (Some(details), Some(stats)) = (details.as_object_mut(), stats.as_object()) {
        for (key, value) in stats {
            details.insert(key.clone(), value.clone());
        }
    }
    ActError {
        message: format!(
            "AUDIT FAILED at height {}{}: check `{}`: {}",
            failure.height,
            failure
                .index
                .map(|index| format!(", transaction {index}"))
                .unwrap_or_default(),
            failure.check,
            failure.reason
        ),
        details,
    }
    .into()
}

// ---- audit consistency and checkpoint ----------------------------------------------------

/// Reads a checkpoint file: its hex (as `audit checkpoint` writes it) or its bytes.
pub fn read_head_file(path: &Path) -> anyhow::Result<CertifiedHeader> {
    let max = u64::from(MAX_CERTIFIED_HEADER_V2_BYTES);
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(2 * max + 2)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.starts_with(hex::encode(HEAD_MAGIC).as_bytes()) {
        let text = std::str::from_utf8(&bytes)
            .map(str::trim)
            .with_context(|| {
                format!(
                    "{} is neither a checkpoint file nor its hex",
                    path.display()
                )
            })?;
        bytes = hex::decode(text).with_context(|| {
            format!(
                "{} is neither a checkpoint file nor its hex",
                path.display()
            )
        })?;
    }
    CertifiedHeader::decode(&bytes).map_err(|error: ProofError| {
        ActError {
            message: format!(
                "NOT VERIFIED: {} fails check `{}`: {error}",
                path.display(),
                error.check()
            ),
            details: json!({
                "verified": false,
                "file": path.display().to_string(),
                "check": error.check(),
                "reason": error.to_string(),
            }),
        }
        .into()
    })
}

fn consistency(args: &ConsistencyArgs, node: &str, printer: Printer) -> anyhow::Result<()> {
    let genesis = read_genesis(&args.genesis)?;
    let agent = agent();
    let (old, what) = match (&args.from, &args.checkpoint) {
        (Some(height), None) => (
            fetch_head(&agent, node, *height)?,
            format!("block {height}"),
        ),
        (None, Some(file)) => (
            read_head_file(file)?,
            format!("the checkpoint {}", file.display()),
        ),
        _ => bail!("give either --from H1 or --checkpoint FILE"),
    };
    let old = with_needed_links(&agent, node, &genesis, old)?;
    let old_v = verified_head(&old, &genesis, &what)?;
    let old_height = old.header.height;
    if args.checkpoint.is_some() {
        // The node's block at that height must be the checkpoint's: two certified blocks at
        // one height would mean more than a third of the power signed both.
        let node_head = fetch_head(&agent, node, old_height)?;
        if node_head.header.id() != old_v.block_id {
            let node_head = with_needed_links(&agent, node, &genesis, node_head)?;
            let node_v = verified_head(
                &node_head,
                &genesis,
                &format!("the node's block {old_height}"),
            )?;
            return Err(ActError {
                message: format!(
                    "NOT CONSISTENT: the node's block {old_height} is {}, the checkpoint's is {}: \
                     both are certified, so validators signed two blocks at one height",
                    node_v.block_id, old_v.block_id
                ),
                details: json!({
                    "consistent": false,
                    "check": "same_block",
                    "height": old_height,
                    "checkpoint_block_id": old_v.block_id.to_string(),
                    "node_block_id": node_v.block_id.to_string(),
                }),
            }
            .into());
        }
    }
    let to = match args.to {
        Some(to) => to,
        None => last_height(&agent, node)?,
    };
    if to < old_height {
        bail!("--to {to} is below the earlier head's height {old_height}");
    }
    let new = with_needed_links(&agent, node, &genesis, fetch_head(&agent, node, to)?)?;
    let new_v = verified_head(&new, &genesis, &format!("block {to}"))?;
    let (old_size, new_size) = (old.header.log_size, new.header.log_size);
    let fail = |check: &str, reason: String| -> anyhow::Error {
        ActError {
            message: format!(
                "NOT CONSISTENT: the history log of block {to} does not extend that of block {old_height}: check `{check}`: {reason}"
            ),
            details: json!({
                "consistent": false,
                "check": check,
                "reason": reason,
                "from": head_json(&old_v),
                "to": head_json(&new_v),
            }),
        }
        .into()
    };
    let mut path_len = 0usize;
    if old_size > new_size {
        return Err(fail(
            "log_size",
            format!("the log shrank from {old_size} to {new_size} transactions"),
        ));
    }
    if old_size > 0 {
        let answer = get_ok_with(
            &agent,
            node,
            &format!("/v1/proofs/consistency?from={old_height}&to={to}"),
        )?;
        let proof = decode_consistency(&answer)?;
        if proof.old_size != old_size {
            return Err(fail(
                "proof_old_size",
                format!("the proof starts from a log of {} transactions, block {old_height}'s holds {old_size}", proof.old_size),
            ));
        }
        if proof.new_size != new_size {
            return Err(fail(
                "proof_new_size",
                format!(
                    "the proof ends at a log of {} transactions, block {to}'s holds {new_size}",
                    proof.new_size
                ),
            ));
        }
        if let Err(error) = proof.verify(&old.header.log_root.0, &new.header.log_root.0) {
            return Err(fail("consistency", error.to_string()));
        }
        path_len = proof.path.len();
    }
    let result = json!({
        "consistent": true,
        "chain": { "id": genesis.chain_id().to_string(), "name": genesis.chain_name },
        "from": head_json(&old_v),
        "to": head_json(&new_v),
        "appended": new_size - old_size,
        "proof_hashes": path_len,
        "empty_log_at_from": old_size == 0,
    });
    let how = if old_size == 0 {
        "the earlier log is empty, and every log extends the empty one".to_owned()
    } else {
        format!("the node's RFC 9162 consistency proof ({path_len} hashes) holds against both certified roots")
    };
    let text =
        format!(
        "CONSISTENT: the history log of block {to} ({new_size} transactions) extends the log of \
         {what} ({old_size} transactions): nothing committed up to block {old_height} was \
         rewritten or dropped; {} were appended.\n\
         \n\
         from  block {old_height} at {} (Beijing), id {}, log root {}, signed by {}\n\
         to    block {to} at {} (Beijing), id {}, log root {}, signed by {}\n\
         how   both certificates verified against the validators in force at their heights \
         (from genesis{}); {how}",
        new_size - old_size,
        beijing_rfc3339(old.header.time_ms),
        old_v.block_id,
        old.header.log_root,
        courts(&old_v),
        beijing_rfc3339(new.header.time_ms),
        new_v.block_id,
        new.header.log_root,
        courts(&new_v),
        match new_v.set_changes.len() {
            0 => String::new(),
            n => format!(", through {n} validator-set change{}", if n == 1 { "" } else { "s" }),
        },
    );
    printer.result(&result, &text)
}

fn save_checkpoint(args: &CheckpointArgs, node: &str, printer: Printer) -> anyhow::Result<()> {
    let genesis = read_genesis(&args.genesis)?;
    if args.out.exists() {
        bail!(
            "{} exists already (an existing file is never overwritten)",
            args.out.display()
        );
    }
    let agent = agent();
    let height = match args.height {
        Some(height) => height,
        None => last_height(&agent, node)?,
    };
    let head = with_needed_links(&agent, node, &genesis, fetch_head(&agent, node, height)?)?;
    let verified = verified_head(&head, &genesis, &format!("block {height}"))?;
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&args.out)
        .with_context(|| {
            format!(
                "cannot create {} (an existing file is never overwritten)",
                args.out.display()
            )
        })?;
    let text = format!("{}\n", hex::encode(head.to_bytes()));
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    let mut result = head_json(&verified);
    result["file"] = json!(args.out.display().to_string());
    result["verified"] = json!(true);
    printer.result(
        &result,
        &format!(
            "wrote {}: the certified header of block {height} (id {}, {} Beijing, history log of {} \
             transactions, root {}), signed by {}{}.\nLater: courtledger audit consistency \
             --checkpoint {} shows that the chain only grew from it.",
            args.out.display(),
            verified.block_id,
            beijing_rfc3339(head.header.time_ms),
            head.header.log_size,
            head.header.log_root,
            courts(&verified),
            match head.links.len() {
                0 => String::new(),
                n => format!(
                    " (the file carries the {n} validator-set link{} from the genesis set)",
                    if n == 1 { "" } else { "s" }
                ),
            },
            args.out.display(),
        ),
    )
}
