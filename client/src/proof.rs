//! Proof bundles (`docs/proof-format.md`): `proof get` fetches one from a node, `proof verify`
//! checks one offline against the genesis file and says in plain words what it proves, `proof
//! refresh` adds a newer checkpoint (format version 2, or 3 with the validator-set links that
//! lead to the checkpoint's signers), and `verify-file` tells whether a file in hand is a
//! document that the proven act recorded.

use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use clap::{Args, Subcommand};
use courtledger_codec::{decode_exact, Encode as _};
use courtledger_crypto::Digest;
use courtledger_merkle::InclusionProof;
use courtledger_proof::describe::{self, beijing_rfc3339, utc_rfc3339};
use courtledger_proof::{
    verify, Checkpoint, Outcome, ProofBundle, ProofError, Verified, VerifiedSetChange, MAGIC,
    MAX_PROOF_BUNDLE_V3_BYTES,
};
use courtledger_types::Genesis;
use serde_json::{json, Value};

use crate::audit::{fetch_head, parse_set_links};
use crate::files::hash_file;
use crate::get_ok;
use crate::http::agent;
use crate::output::{ActError, Printer};
use crate::read_genesis;

/// `proof`.
#[derive(Debug, Subcommand)]
pub enum ProofCommand {
    /// Fetch the proof bundle of a committed transaction from the node into a file. Keep the
    /// file: with the genesis file alone it proves the act years later, without any node.
    Get {
        /// The transaction id.
        tx_id: String,
        /// Where to write the bundle; an existing file is never overwritten.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Also verify the bundle against this genesis file before writing it.
        #[arg(long, env = "COURTLEDGER_GENESIS", value_name = "FILE")]
        genesis: Option<PathBuf>,
    },
    /// Verify a proof bundle offline against the chain's genesis file, and say who did what,
    /// in which block, when, with what outcome, and which courts' validators signed the block.
    /// Exits 0 only when every check passes; a failure names the check.
    Verify {
        /// The bundle (as `proof get` writes it; a file of its hex is accepted too).
        file: PathBuf,
        /// The chain's genesis file: the only thing the bundle is checked against.
        #[arg(long, env = "COURTLEDGER_GENESIS", value_name = "FILE")]
        genesis: PathBuf,
    },
    /// Add a newer checkpoint to a bundle (format version 2; version 3 when validator sets
    /// changed up to the checkpoint).
    ///
    /// The checkpoint is the header and certificate of a recent block and the transaction's
    /// inclusion in that block's history log, so that one recent certificate covers many old
    /// acts. After validator-set changes the bundle also carries the set links from the genesis
    /// set to the checkpoint's signers. The bundle is verified before and after.
    Refresh {
        /// The bundle (version 1, or version 2 or 3 whose checkpoint and links are replaced).
        bundle: PathBuf,
        /// Where to write the refreshed bundle; an existing file is never overwritten.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// The checkpoint's height (default: the node's last block).
        #[arg(long, value_name = "H")]
        at: Option<u64>,
        /// The chain's genesis file.
        #[arg(long, env = "COURTLEDGER_GENESIS", value_name = "FILE")]
        genesis: PathBuf,
    },
}

/// `verify-file`.
#[derive(Debug, Args)]
pub struct VerifyFileArgs {
    /// The file in hand (hashed here, streamed).
    pub file: PathBuf,
    /// The proof bundle of the act that recorded it.
    #[arg(long, value_name = "BUNDLE")]
    pub proof: PathBuf,
    /// The chain's genesis file: verify the bundle too. Without it only the hashes are compared,
    /// and the bundle itself is not checked.
    #[arg(long, env = "COURTLEDGER_GENESIS", value_name = "FILE")]
    pub genesis: Option<PathBuf>,
}

impl ProofCommand {
    /// Runs the command.
    pub fn run(self, node: &str, printer: Printer) -> anyhow::Result<()> {
        match self {
            ProofCommand::Get {
                tx_id,
                out,
                genesis,
            } => get(node, &tx_id, &out, genesis.as_deref(), printer),
            ProofCommand::Verify { file, genesis } => {
                let genesis = read_genesis(&genesis)?;
                let bundle = read_bundle(&file)?;
                let verified = checked(&bundle, &genesis, &file)?;
                printer.result(&verified_json(&verified), &verified_text(&verified))
            }
            ProofCommand::Refresh {
                bundle,
                out,
                at,
                genesis,
            } => refresh(node, &bundle, &out, at, &genesis, printer),
        }
    }
}

/// Reads a bundle file (binary, or the hex the API sends), at most one byte more than a bundle
/// may have, so that a huge file is refused without reading it.
pub fn read_bundle_bytes(path: &Path) -> anyhow::Result<Vec<u8>> {
    let max = u64::from(MAX_PROOF_BUNDLE_V3_BYTES);
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(2 * max + 2)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let hex_magic = hex::encode(MAGIC);
    if bytes.starts_with(hex_magic.as_bytes()) {
        let text = std::str::from_utf8(&bytes)
            .map(str::trim)
            .with_context(|| format!("{} is neither a bundle nor its hex", path.display()))?;
        return hex::decode(text)
            .with_context(|| format!("{} is neither a bundle nor its hex", path.display()));
    }
    Ok(bytes)
}

/// Reads and decodes a bundle: step 1 of verification (`format`, `version`).
fn read_bundle(path: &Path) -> anyhow::Result<ProofBundle> {
    let bytes = read_bundle_bytes(path)?;
    ProofBundle::decode(&bytes).map_err(|error| failed(&error, path))
}

/// Steps 2 to 9.
fn checked(bundle: &ProofBundle, genesis: &Genesis, path: &Path) -> anyhow::Result<Verified> {
    verify(bundle, genesis).map_err(|error| failed(&error, path))
}

/// A failed check, named, as the command's error (exit status 1).
fn failed(error: &ProofError, path: &Path) -> anyhow::Error {
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
}

fn get(
    node: &str,
    tx_id: &str,
    out: &Path,
    genesis: Option<&Path>,
    printer: Printer,
) -> anyhow::Result<()> {
    let id: Digest = tx_id
        .strip_prefix("0x")
        .unwrap_or(tx_id)
        .parse()
        .with_context(|| format!("`{tx_id}` is not a transaction id (64 hex characters)"))?;
    if out.exists() {
        bail!(
            "{} exists already (an existing file is never overwritten)",
            out.display()
        );
    }
    let genesis = genesis.map(read_genesis).transpose()?;
    let answer = get_ok(node, &format!("/v1/proofs/tx/{id}"))?;
    let Some(text) = answer["bundle"].as_str() else {
        bail!("the node's answer has no bundle: {answer}");
    };
    let bytes = hex::decode(text).context("the node's bundle is not hex")?;
    let bundle =
        ProofBundle::decode(&bytes).context("the node sent a malformed bundle (check `format`)")?;
    if bundle.tx.id() != id {
        bail!(
            "the node sent the bundle of transaction {}, not {id}",
            bundle.tx.id()
        );
    }
    let verified = match &genesis {
        Some(genesis) => Some(checked(&bundle, genesis, Path::new("the node's bundle"))?),
        None => None,
    };
    write_new(out, &bytes)?;
    let mut text = format!(
        "wrote {} ({} bytes, format version {}): the proof of transaction {id}, block {} \
         position {}",
        out.display(),
        bytes.len(),
        bundle.version(),
        bundle.header.height,
        bundle.receipt.index,
    );
    if !bundle.links.is_empty() {
        let _ = write!(
            text,
            ", with the {} validator-set link{} from the genesis set to the block's signers",
            bundle.links.len(),
            if bundle.links.len() == 1 { "" } else { "s" }
        );
    }
    match &verified {
        Some(_) => text.push_str("\nverified against the genesis file: every check passed"),
        None => text.push_str(&format!(
            "\nnot verified yet: run `courtledger proof verify {} --genesis GENESIS`",
            out.display()
        )),
    }
    printer.result(
        &json!({
            "file": out.display().to_string(),
            "bytes": bytes.len(),
            "tx_id": id.to_string(),
            "height": bundle.header.height,
            "index": bundle.receipt.index,
            "block_id": bundle.header.id().to_string(),
            "format_version": bundle.version(),
            "set_links": bundle.links.len(),
            "verified": verified.is_some(),
        }),
        &text,
    )
}

/// Writes `bytes` to a new file.
fn write_new(out: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(out)
        .with_context(|| {
            format!(
                "cannot create {} (an existing file is never overwritten)",
                out.display()
            )
        })?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", out.display()))
}

/// `proof refresh`: the bundle with the checkpoint of block `at` (default: the last).
fn refresh(
    node: &str,
    path: &Path,
    out: &Path,
    at: Option<u64>,
    genesis: &Path,
    printer: Printer,
) -> anyhow::Result<()> {
    if out.exists() {
        bail!(
            "{} exists already (an existing file is never overwritten)",
            out.display()
        );
    }
    let genesis = read_genesis(genesis)?;
    let bundle = read_bundle(path)?;
    checked(&bundle, &genesis, path)?;
    let tx_id = bundle.tx.id();
    let mut query = format!("/v1/proofs/log-inclusion/{tx_id}");
    if let Some(at) = at {
        query.push_str(&format!("?at={at}"));
    }
    let answer = get_ok(node, &query)?;
    let height = answer["at"]["height"]
        .as_u64()
        .context("the node's log inclusion answer has no `at.height`")?;
    let proof_bytes = answer["proof_hex"]
        .as_str()
        .and_then(|text| hex::decode(text).ok())
        .context("the node's log inclusion answer has no proof_hex")?;
    let log_proof: InclusionProof = decode_exact(&proof_bytes, proof_bytes.len())
        .context("the node's proof_hex is not an inclusion proof")?;
    // The links up to the checkpoint (they include the block's). A node that sends none keeps
    // the bundle's own: verification below says whether they reach the checkpoint's set.
    let mut links = parse_set_links(&answer)?;
    if links.is_empty() {
        links.clone_from(&bundle.links);
    }
    let head = fetch_head(&agent(), node, height)?;
    let refreshed = bundle
        .with_checkpoint(Checkpoint {
            header: head.header,
            certificate: head.certificate,
            log_proof,
        })
        .with_links(links);
    let verified = checked(&refreshed, &genesis, Path::new("the refreshed bundle"))?;
    let bytes = refreshed.to_bytes();
    write_new(out, &bytes)?;
    let checkpoint = verified
        .checkpoint
        .as_ref()
        .context("a refreshed bundle has a checkpoint")?;
    printer.result(
        &json!({
            "file": out.display().to_string(),
            "bytes": bytes.len(),
            "format_version": refreshed.version(),
            "tx_id": tx_id.to_string(),
            "height": verified.header.height,
            "checkpoint": checkpoint_json(checkpoint),
            "verified": true,
        }),
        &format!(
            "wrote {} ({} bytes, format version {}): the proof of transaction {tx_id} (block {}), \
             now also in the history log of block {} (leaf {} of {}), certified by {}{}\nverified \
             against the genesis file: every check passed",
            out.display(),
            bytes.len(),
            refreshed.version(),
            verified.header.height,
            checkpoint.header.height,
            checkpoint.leaf_index,
            checkpoint.header.log_size,
            checkpoint
                .signers
                .iter()
                .map(|s| s.court_code.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            match refreshed.links.len() {
                0 => String::new(),
                n => format!(
                    " (reached from the genesis validators through {n} validator-set change{})",
                    if n == 1 { "" } else { "s" }
                ),
            },
        ),
    )
}

fn checkpoint_json(c: &courtledger_proof::VerifiedCheckpoint) -> Value {
    json!({
        "height": c.header.height,
        "block_id": c.block_id.to_string(),
        "time_ms": c.header.time_ms,
        "time_utc": utc_rfc3339(c.header.time_ms),
        "time_beijing": beijing_rfc3339(c.header.time_ms),
        "log_size": c.header.log_size,
        "log_root": c.header.log_root.to_string(),
        "leaf_index": c.leaf_index,
        "round": c.round,
        "signers": c.signers.iter().map(|s| json!({
            "court_code": s.court_code.to_string(),
            "validator_index": s.index,
            "public_key": s.public_key.to_string(),
            "voting_power": s.voting_power,
        })).collect::<Vec<_>>(),
        "signed_power": c.signed_power,
        "total_power": c.total_power,
    })
}

fn set_change_json(c: &VerifiedSetChange) -> Value {
    json!({
        "activation_height": c.activation_height,
        "boundary_block_id": c.boundary_block_id.to_string(),
        "from_set_hash": c.from_set_hash.to_string(),
        "set_hash": c.set_hash.to_string(),
        "courts": c.courts.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "total_power": c.total_power,
        "approved_by": c.approvers.iter().map(|s| s.court_code.to_string()).collect::<Vec<_>>(),
        "approved_power": c.approved_power,
    })
}

/// The verified bundle as JSON.
pub fn verified_json(v: &Verified) -> Value {
    let outcome = v.outcome();
    let mut value = json!({
        "verified": true,
        "format_version": v.format_version(),
        "checks_passed": v.checks_passed(),
        "chain": { "id": v.chain_id.to_string(), "name": v.chain_name },
        "tx_id": v.tx_id.to_string(),
        "signer": { "public_key": v.tx.tx.signer.to_string(), "nonce": v.tx.tx.nonce },
        "act": {
            "kind": v.act.kind_name(),
            "summary": v.act.summary(),
            "fields": v.act.fields()
                .into_iter()
                .map(|f| json!({ "name": f.name, "value": f.value }))
                .collect::<Vec<_>>(),
            "documents": documents_json(&v.act),
        },
        "block": {
            "height": v.header.height,
            "id": v.block_id.to_string(),
            "position": v.receipt.index,
            "tx_count": v.header.tx_count,
            "time_ms": v.header.time_ms,
            "time_utc": utc_rfc3339(v.header.time_ms),
            "time_beijing": beijing_rfc3339(v.header.time_ms),
        },
        "receipt": {
            "code": v.receipt.code,
            "outcome": outcome.name(),
            "applied": outcome == Outcome::Applied,
        },
        "certificate": {
            "round": v.round,
            "signers": v.signers.iter().map(|s| json!({
                "court_code": s.court_code.to_string(),
                "validator_index": s.index,
                "public_key": s.public_key.to_string(),
                "voting_power": s.voting_power,
            })).collect::<Vec<_>>(),
            "validators": v.validator_count,
            "signed_power": v.signed_power,
            "total_power": v.total_power,
            "validator_set": match v.block_set_changes {
                0 => json!({ "genesis": true }),
                n => json!({ "genesis": false, "after_changes": n,
                             "activated_at": v.set_changes[n - 1].activation_height }),
            },
        },
        "set_changes": v.set_changes.iter().map(set_change_json).collect::<Vec<_>>(),
    });
    if let Some(checkpoint) = &v.checkpoint {
        value["checkpoint"] = checkpoint_json(checkpoint);
    }
    value
}

fn documents_json(act: &describe::Deed) -> Vec<Value> {
    act.documents()
        .into_iter()
        .map(|d| {
            json!({
                "field": d.field,
                "label": d.label,
                "sha256": d.sha256.to_string(),
                "size": d.size,
            })
        })
        .collect()
}

fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "0%".to_owned();
    }
    // Integer arithmetic: tenths of a percent, rounded down.
    let tenths = u128::from(part) * 1000 / u128::from(whole);
    format!("{}.{}%", tenths / 10, tenths % 10)
}

/// The verified bundle in plain words.
pub fn verified_text(v: &Verified) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "VERIFIED: this act is in block {} of chain {} ({}), which the courts agreed on.",
        v.header.height, v.chain_name, v.chain_id
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "who      the holder of key {} signed it (nonce {})",
        v.tx.tx.signer, v.tx.tx.nonce
    );
    let _ = writeln!(out, "did      {}: {}", v.act.kind_name(), v.act.summary());
    for field in v.act.fields() {
        let _ = writeln!(out, "           {}: {}", field.name, field.value);
    }
    match v.outcome() {
        Outcome::Applied => {
            let _ = writeln!(out, "outcome  ok: the act was applied (receipt code 0)");
        }
        failed @ Outcome::Failed { code, .. } => {
            let _ = writeln!(
                out,
                "outcome  FAILED: {} (receipt code {code}). The attempt was committed and is \
                 proven, but the act changed nothing.",
                failed.name()
            );
        }
    }
    let _ = writeln!(
        out,
        "block    height {}, position {} of {}, id {}",
        v.header.height, v.receipt.index, v.header.tx_count, v.block_id
    );
    let _ = writeln!(
        out,
        "time     {} UTC = {} Beijing (the block's agreed time)",
        utc_rfc3339(v.header.time_ms),
        beijing_rfc3339(v.header.time_ms)
    );
    let _ = writeln!(
        out,
        "signed   by {} of {} validator courts, {} of {} voting power ({}; more than two thirds \
         is required):",
        v.signers.len(),
        v.validator_count,
        v.signed_power,
        v.total_power,
        percent(v.signed_power, v.total_power)
    );
    for signer in &v.signers {
        let _ = writeln!(
            out,
            "           {}  power {} ({})  key {}",
            signer.court_code,
            signer.voting_power,
            percent(signer.voting_power, v.total_power),
            signer.public_key
        );
    }
    if !v.set_changes.is_empty() {
        let _ = writeln!(
            out,
            "sets     the validator set changed {} time{} since genesis, each change approved by \
             more than two thirds of the set before it and announced by its last block:",
            v.set_changes.len(),
            if v.set_changes.len() == 1 { "" } else { "s" }
        );
        for (n, change) in v.set_changes.iter().enumerate() {
            let _ = writeln!(
                out,
                "           from height {}: {} (approved by {}, {} of the previous set's power){}",
                change.activation_height,
                change
                    .courts
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                change
                    .approvers
                    .iter()
                    .map(|s| s.court_code.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                change.approved_power,
                if n + 1 == v.block_set_changes {
                    "  <- signed this block"
                } else {
                    ""
                }
            );
        }
        if v.block_set_changes == 0 {
            let _ = writeln!(out, "           this block was signed by the genesis set");
        }
    }
    if let Some(c) = &v.checkpoint {
        let _ = writeln!(
            out,
            "later    the history log of block {} ({} UTC = {} Beijing) holds it as leaf {} of \
             {}; that block was signed by {} of {} voting power ({}):",
            c.header.height,
            utc_rfc3339(c.header.time_ms),
            beijing_rfc3339(c.header.time_ms),
            c.leaf_index,
            c.header.log_size,
            c.signed_power,
            c.total_power,
            percent(c.signed_power, c.total_power),
        );
        for signer in &c.signers {
            let _ = writeln!(
                out,
                "           {}  power {}  key {}",
                signer.court_code, signer.voting_power, signer.public_key
            );
        }
        let _ = writeln!(out, "           block id {}", c.block_id);
    }
    let _ = writeln!(out, "tx id    {}", v.tx_id);
    let _ = writeln!(out, "checks   all passed: {}", v.checks_passed().join(", "));
    out
}

/// `verify-file`: hashes the file and looks for its hash among the act's documents.
pub fn verify_file(args: &VerifyFileArgs, printer: Printer) -> anyhow::Result<()> {
    let bundle = read_bundle(&args.proof)?;
    let verified = match &args.genesis {
        Some(genesis) => Some(checked(&bundle, &read_genesis(genesis)?, &args.proof)?),
        None => None,
    };
    let act = match &verified {
        Some(verified) => verified.act.clone(),
        None => describe::Deed::decode(&bundle.tx.tx.payload)
            .map_err(|error| failed(&ProofError::Act(error), &args.proof))?,
    };
    let digest = hash_file(&args.file, true)?;
    let sha256 = Digest(digest.sha256);
    let documents = act.documents();
    let matches: Vec<&describe::Document> =
        documents.iter().filter(|d| d.sha256 == sha256).collect();
    let file = args.file.display().to_string();
    let tx_id = bundle.tx.id();
    let mut result = json!({
        "file": file,
        "sha256": sha256.to_string(),
        "size": digest.size,
        "tx_id": tx_id.to_string(),
        "act_kind": act.kind_name(),
        "bundle_verified": verified.is_some(),
        "matched": matches.iter().map(|d| json!({
            "field": d.field,
            "label": d.label,
            "recorded_size": d.size,
            "size_matches": d.size.map(|size| size == digest.size),
        })).collect::<Vec<_>>(),
        "documents": documents_json(&act),
    });
    let trust = match &verified {
        Some(v) => format!(
            "The bundle verified against the genesis file: the act is in block {} (agreed time {} \
             UTC), outcome {}.",
            v.header.height,
            utc_rfc3339(v.header.time_ms),
            v.outcome().name()
        ),
        None => "WARNING: the bundle itself was NOT verified (no --genesis): this only compares \
                 the file with what the bundle claims."
            .to_owned(),
    };
    if matches.is_empty() {
        let mut message = format!(
            "NO MATCH: {file} (sha256 {sha256}, {} bytes) is none of the documents the {} act of \
             transaction {tx_id} records",
            digest.size,
            act.kind_name()
        );
        if documents.is_empty() {
            message.push_str(" (this act records no document)");
        }
        for document in &documents {
            let _ = write!(
                message,
                "\n  {} ({}): {}",
                document.field, document.label, document.sha256
            );
        }
        result["matched"] = json!([]);
        return Err(ActError {
            message,
            details: result,
        }
        .into());
    }
    if let Some(v) = &verified {
        result["proof"] = verified_json(v);
    }
    let mut text = String::new();
    for document in &matches {
        let _ = writeln!(
            text,
            "MATCH: {file} is the {} recorded in field `{}` of the {} act of transaction {tx_id} \
             (sha256 {sha256}).",
            document.label,
            document.field,
            act.kind_name()
        );
        if let Some(size) = document.size {
            if size != digest.size {
                let _ = writeln!(
                    text,
                    "note: the act records a size of {size} bytes; the file has {}.",
                    digest.size
                );
            }
        }
    }
    text.push_str(&trust);
    printer.result(&result, &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_are_exact_tenths() {
        assert_eq!(percent(3, 4), "75.0%");
        assert_eq!(percent(2, 3), "66.6%");
        assert_eq!(percent(1, 7), "14.2%");
        assert_eq!(percent(0, 0), "0%");
    }
}
