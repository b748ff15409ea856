//! The chain audit's checks, with no IO and no trust in the node: [`parse_block`] turns one block
//! of the node's `GET /v1/blocks` answer into a [`BlockRecord`], and an [`Auditor`] checks the
//! records in height order against the genesis file alone.
//!
//! Per block, in this order (the name is what a failure reports):
//!
//! | check | passes when |
//! |---|---|
//! | `format` | the JSON has every field; `header_hex`, `certificate.hex`, the ids and codes decode |
//! | `header_fields` | the JSON's own fields (height, time, parent, proposer, counts, roots, certificate round and signers) are those of `header_hex` and the certificate |
//! | `chain_id` | `header.chain_id` is the genesis chain id |
//! | `height` | the previous block's height + 1 |
//! | `parent_id` | the previous block's id (block 1: the chain id's digest) |
//! | `time` | strictly after the previous block's time (block 1: the genesis time) |
//! | `block_id` | the JSON's `id` is the header's id |
//! | `certificate_height`, `certificate_block_id`, `certificate_signer_order`, `certificate_unknown_signer`, `certificate_quorum` | the certificate is for this height and header, its signers strictly ascending genesis validators holding more than two thirds of the power |
//! | `tx_count` | `header.tx_count` = the number of tx ids = the number of receipt codes (= the number of transactions, when the block carries them) |
//! | `tx_id` | each transaction (`txs`, when the block carries them) decodes, and its id is the tx id at its position |
//! | `tx_root` | the RFC 9162 root over `leaf_hash(tx id)` |
//! | `results_root` | the root over `leaf_hash(encode(Receipt { tx_id, index, height, code }))` |
//! | `log_size`, `log_root` | the history log (every tx id of the chain, one leaf each, in a `Frontier`) after this block |
//! | `set_change_payload` | a transaction whose payload starts with `0xC0` (a validator-set change) decodes as a `SignedSetChange` |
//! | `set_change_admission` | its signer is a validator of the set in force, no other change is pending, fewer than `MAX_SET_CHANGES` were activated (the chain admits nothing else into a block) |
//! | `set_change_approval` | more than two thirds of the set in force approved it (`SignedSetChange::verify`; the reason names the failed `set_change_*` check) |
//! | `set_change_receipt` | its receipt code is the one its activation height gives: `ok` (it becomes the pending change) for `height + 1 ..= height + MAX_SET_CHANGE_DELAY`, `deadline_passed` at or below the height, `invalid_argument` beyond |
//! | `validators_hash` | the hash of the set in force: the genesis set, then the set of each change from its activation height on |
//! | `next_validators_hash` | the hash of the set in force at the next height: another set exactly in block `activation − 1` of a pending change |
//! | `proposer` | a validator of the set in force |
//! | `certificate_signature` | every precommit signature is valid (batch-verified over many blocks, with the acceptance rule of single verification) |
//! | `tx_signature` | every transaction's signature is valid under the chain id (when the block carries them; batch-verified likewise) |
//!
//! The certificate checks use the set in force at the block's height. The auditor follows the
//! validator sets as the chain does (`courtledger_chain::validators`): a set-change transaction
//! with receipt `ok` in block `h` becomes the pending change; after block `activation − 1` its
//! set is in force. An audit that starts above block 1 knows the changes activated up to its
//! last block from the set links it verified from genesis ([`Auditor::resume_with_sets`]).
//!
//! The first failing block is reported, and in it the first failing check; a block's signatures
//! are its last checks, because they are verified in batches across blocks. A transaction's
//! failure also names its position in the block ([`AuditFailure::index`]).
//!
//! The transactions are checked when the node's JSON carries them (`GET /v1/blocks?txs=true`);
//! an auditor made [`Auditor::with_transactions`] requires them (`format` otherwise).

use std::fmt;
use std::time::{Duration, Instant};

use courtledger_codec::Encode;
use courtledger_crypto::{
    verify_batch, BatchItem, ChainId, Digest, Domain, PublicKey, Signature, SignatureError,
};
use courtledger_ledger::Code;
use courtledger_merkle::{self as merkle, ConsistencyProof, Frontier};
use courtledger_proof::verify::{certificate_check, set_change_check};
use courtledger_proof::SetChain;
use courtledger_types::limits::{MAX_SET_CHANGES, MAX_SET_CHANGE_DELAY};
use courtledger_types::{
    BlockHeader, BlockId, CertificateError, CommitCertificate, Genesis, Receipt, SignedSetChange,
    SignedTransaction, TxId, ValidatorSet, CODE_OK,
};
use serde_json::Value;

/// Every check name, in the order they run for one block.
pub const CHECKS: [&str; 29] = [
    "format",
    "header_fields",
    "chain_id",
    "height",
    "parent_id",
    "time",
    "block_id",
    "certificate_height",
    "certificate_block_id",
    "certificate_signer_order",
    "certificate_unknown_signer",
    "certificate_quorum",
    "tx_count",
    "tx_id",
    "tx_root",
    "results_root",
    "log_size",
    "log_root",
    "set_change_payload",
    "set_change_admission",
    "set_change_approval",
    "set_change_receipt",
    "validators_hash",
    "next_validators_hash",
    "proposer",
    "execution",
    "certificate_signature",
    "tx_signature",
    "anchor",
];

/// The first inconsistency: at which height, which check, and what was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditFailure {
    /// The height of the block that fails.
    pub height: u64,
    /// The check's name (one of [`CHECKS`]).
    pub check: &'static str,
    /// The position in the block of the transaction that fails (`tx_id`, `tx_signature`, and
    /// `format` for a transaction that does not decode); `None` for a check of the block.
    pub index: Option<u32>,
    /// What was found.
    pub reason: String,
}

impl AuditFailure {
    /// A failure of the block at `height`.
    pub fn new(height: u64, check: &'static str, reason: impl Into<String>) -> Self {
        Self {
            height,
            check,
            index: None,
            reason: reason.into(),
        }
    }

    /// A failure of the transaction at `index` of the block at `height`.
    pub fn of_tx(height: u64, index: u32, check: &'static str, reason: impl Into<String>) -> Self {
        Self {
            index: Some(index),
            ..Self::new(height, check, reason)
        }
    }
}

impl fmt::Display for AuditFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "block {}", self.height)?;
        if let Some(index) = self.index {
            write!(f, ", transaction {index},")?;
        }
        write!(f, " fails check `{}`: {}", self.check, self.reason)
    }
}

impl std::error::Error for AuditFailure {}

/// One block as the node sent it, decoded: the header from its canonical bytes, the
/// transaction ids and receipt codes in block order, and the certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockRecord {
    /// The block id the node states.
    pub id: BlockId,
    /// The header, from `header_hex`.
    pub header: BlockHeader,
    /// The transaction ids, in block order.
    pub tx_ids: Vec<TxId>,
    /// The receipt codes, in block order.
    pub receipt_codes: Vec<u16>,
    /// The commit certificate, from `certificate.hex`.
    pub certificate: CommitCertificate,
    /// The transactions, in block order, from `txs`; `None` when the JSON has none (the node
    /// sends them for `GET /v1/blocks?txs=true`).
    pub txs: Option<Vec<SignedTransaction>>,
}

fn field<'a>(block: &'a Value, name: &str, height: u64) -> Result<&'a Value, AuditFailure> {
    block
        .get(name)
        .filter(|v| !v.is_null())
        .ok_or_else(|| AuditFailure::new(height, "format", format!("the block has no `{name}`")))
}

fn str_field<'a>(block: &'a Value, name: &str, height: u64) -> Result<&'a str, AuditFailure> {
    field(block, name, height)?
        .as_str()
        .ok_or_else(|| AuditFailure::new(height, "format", format!("`{name}` is not a string")))
}

fn u64_field(block: &Value, name: &str, height: u64) -> Result<u64, AuditFailure> {
    field(block, name, height)?.as_u64().ok_or_else(|| {
        AuditFailure::new(
            height,
            "format",
            format!("`{name}` is not an unsigned integer"),
        )
    })
}

fn hex_bytes(text: &str, what: &str, height: u64) -> Result<Vec<u8>, AuditFailure> {
    hex::decode(text).map_err(|error| {
        AuditFailure::new(height, "format", format!("`{what}` is not hex: {error}"))
    })
}

fn digest(text: &str, what: &str, height: u64) -> Result<Digest, AuditFailure> {
    text.parse::<Digest>().map_err(|error| {
        AuditFailure::new(
            height,
            "format",
            format!("`{what}` is not a 32-byte hex id: {error}"),
        )
    })
}

/// Decodes one block of the node's answer (`GET /v1/blocks`, `GET /v1/blocks/{height}`),
/// expected at `height`: `format` if a part is missing or malformed, `header_fields` if the
/// JSON's fields disagree with the header and certificate they restate.
pub fn parse_block(block: &Value, height: u64) -> Result<BlockRecord, AuditFailure> {
    let header_bytes = hex_bytes(
        str_field(block, "header_hex", height)?,
        "header_hex",
        height,
    )?;
    let header = BlockHeader::decode(&header_bytes).map_err(|error| {
        AuditFailure::new(
            height,
            "format",
            format!("`header_hex` is not a header: {error}"),
        )
    })?;
    let certificate = field(block, "certificate", height)?;
    let certificate_bytes = hex_bytes(
        str_field(certificate, "hex", height)?,
        "certificate.hex",
        height,
    )?;
    let certificate = CommitCertificate::decode(&certificate_bytes).map_err(|error| {
        AuditFailure::new(
            height,
            "format",
            format!("`certificate.hex` is not a certificate: {error}"),
        )
    })?;
    let id = digest(str_field(block, "id", height)?, "id", height)?;
    let tx_ids = field(block, "tx_ids", height)?
        .as_array()
        .ok_or_else(|| AuditFailure::new(height, "format", "`tx_ids` is not an array"))?
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let what = format!("tx_ids[{i}]");
            let text = v.as_str().ok_or_else(|| {
                AuditFailure::new(height, "format", format!("`{what}` is not a string"))
            })?;
            digest(text, &what, height)
        })
        .collect::<Result<Vec<TxId>, AuditFailure>>()?;
    let receipt_codes = field(block, "receipt_codes", height)?
        .as_array()
        .ok_or_else(|| AuditFailure::new(height, "format", "`receipt_codes` is not an array"))?
        .iter()
        .enumerate()
        .map(|(i, v)| {
            v.as_u64()
                .and_then(|code| u16::try_from(code).ok())
                .ok_or_else(|| {
                    AuditFailure::new(
                        height,
                        "format",
                        format!("`receipt_codes[{i}]` is not a code"),
                    )
                })
        })
        .collect::<Result<Vec<u16>, AuditFailure>>()?;
    let txs = match block.get("txs").filter(|v| !v.is_null()) {
        None => None,
        Some(txs) => Some(
            txs.as_array()
                .ok_or_else(|| AuditFailure::new(height, "format", "`txs` is not an array"))?
                .iter()
                .zip(0u32..)
                .map(|(v, index)| parse_tx(v, height, index))
                .collect::<Result<Vec<SignedTransaction>, AuditFailure>>()?,
        ),
    };
    let record = BlockRecord {
        id,
        header,
        tx_ids,
        receipt_codes,
        certificate,
        txs,
    };
    check_fields(block, &record, height)?;
    Ok(record)
}

/// `txs[index]`: hex of a canonical [`SignedTransaction`], else `format` at `index`.
fn parse_tx(value: &Value, height: u64, index: u32) -> Result<SignedTransaction, AuditFailure> {
    let text = value.as_str().ok_or_else(|| {
        AuditFailure::of_tx(
            height,
            index,
            "format",
            format!("`txs[{index}]` is not a string"),
        )
    })?;
    let bytes = hex::decode(text).map_err(|error| {
        AuditFailure::of_tx(
            height,
            index,
            "format",
            format!("`txs[{index}]` is not hex: {error}"),
        )
    })?;
    SignedTransaction::decode(&bytes).map_err(|error| {
        AuditFailure::of_tx(
            height,
            index,
            "format",
            format!("`txs[{index}]` is not a signed transaction: {error}"),
        )
    })
}

/// `header_fields`: what the JSON restates is what the header and certificate say, so that a
/// reader of the JSON (such as `courtledger blocks`) reads what the audit checked.
fn check_fields(block: &Value, record: &BlockRecord, height: u64) -> Result<(), AuditFailure> {
    let h = &record.header;
    let numbers: [(&str, u64); 4] = [
        ("height", h.height),
        ("time_ms", h.time_ms),
        ("tx_count", u64::from(h.tx_count)),
        ("log_size", h.log_size),
    ];
    for (name, value) in numbers {
        let found = u64_field(block, name, height)?;
        if found != value {
            return Err(AuditFailure::new(
                height,
                "header_fields",
                format!("`{name}` is {found}, the header says {value}"),
            ));
        }
    }
    let texts: [(&str, String); 7] = [
        ("parent_id", h.parent_id.to_string()),
        ("proposer", h.proposer.to_string()),
        ("tx_root", h.tx_root.to_string()),
        ("results_root", h.results_root.to_string()),
        ("log_root", h.log_root.to_string()),
        ("state_root", h.state_root.to_string()),
        ("validators_hash", h.validators_hash.to_string()),
    ];
    for (name, value) in texts {
        let found = str_field(block, name, height)?;
        if !found.eq_ignore_ascii_case(&value) {
            return Err(AuditFailure::new(
                height,
                "header_fields",
                format!("`{name}` is {found}, the header says {value}"),
            ));
        }
    }
    let certificate = field(block, "certificate", height)?;
    let round = u64_field(certificate, "round", height)?;
    let signers: Option<Vec<u64>> = certificate
        .get("signers")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_u64).collect());
    let expected: Vec<u64> = record
        .certificate
        .signatures
        .iter()
        .map(|s| u64::from(s.validator_index))
        .collect();
    if round != u64::from(record.certificate.round) || signers.as_ref() != Some(&expected) {
        return Err(AuditFailure::new(
            height,
            "header_fields",
            format!(
                "the certificate's `round` and `signers` ({round}, {signers:?}) are not those of its bytes ({}, {expected:?})",
                record.certificate.round
            ),
        ));
    }
    Ok(())
}

/// The last block checked: what the next one must follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tip {
    /// Its height (0 for genesis).
    pub height: u64,
    /// Its id (the chain id's digest for genesis).
    pub id: BlockId,
    /// Its time (the genesis time for genesis).
    pub time_ms: u64,
}

/// The history log as far as the audit knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogState {
    /// Its right edge: the audit appends every leaf.
    Frontier(Frontier),
    /// Only its size and root (an audit starting above a non-empty log whose frontier could not
    /// be recovered because the log does not grow in the audited range): no leaf may be added.
    Fixed { size: u64, root: Digest },
}

/// One signature waiting for the next batch: a precommit (`index` is the validator's) or a
/// transaction (`index` is its position in the block).
#[derive(Debug)]
struct Pending {
    height: u64,
    index: u32,
    key: PublicKey,
    message: Vec<u8>,
    signature: Signature,
}

/// A validator-set change recorded in the audited range, waiting for its activation height.
#[derive(Debug, Clone)]
struct PendingChange {
    activation_height: u64,
    set: ValidatorSet,
}

/// Checks blocks in height order.
#[derive(Debug)]
pub struct Auditor {
    chain_id: ChainId,
    /// The set in force: it signs the next block.
    validators: ValidatorSet,
    set_hash: Digest,
    /// The change recorded by a transaction the audit checked, not yet activated.
    pending: Option<PendingChange>,
    /// Changes known from verified set links (an audit that starts above block 1), activating
    /// above the next block: `(activation height, set)`, oldest first.
    known: Vec<PendingChange>,
    /// Changes activated so far (from genesis).
    activated: u32,
    tip: Tip,
    log: LogState,
    signatures_pending: Vec<Pending>,
    pending_txs: Vec<Pending>,
    require_txs: bool,
    /// Precommit signatures verified so far.
    pub signatures: u64,
    /// Batches of precommit signatures verified so far.
    pub batches: u64,
    /// Transaction signatures verified so far.
    pub tx_signatures: u64,
    /// Batches of transaction signatures verified so far.
    pub tx_batches: u64,
    /// Time spent verifying transaction signatures (the cost of `tx_signature`).
    pub tx_signature_time: Duration,
    /// With [`Auditor::with_execution`]: the chain re-executed from genesis.
    replay: Option<Replay>,
    /// Time spent re-executing blocks (the cost of `execution`).
    pub execution_time: Duration,
}

/// The state of a re-execution from genesis: every block's transactions are executed again with
/// the judicial ledger's rules, and the block must come out exactly as its header says (results
/// root, history log, state root, validators hashes).
struct Replay {
    genesis: Genesis,
    app: courtledger_chain::LedgerApp,
    state: courtledger_chain::MemoryState,
    parent: courtledger_chain::Parent,
}

impl fmt::Debug for Replay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Replay")
            .field("parent", &self.parent)
            .finish_non_exhaustive()
    }
}

/// The "now" of a re-executed block: decided blocks are not bounded by the auditor's clock.
const NO_CLOCK_BOUND_MS: u64 = u64::MAX / 2;

impl Auditor {
    /// An audit from genesis: the next block is block 1.
    pub fn from_genesis(genesis: &Genesis) -> Self {
        let chain_id = genesis.chain_id();
        Self::resume(
            genesis,
            Tip {
                height: 0,
                id: chain_id.0,
                time_ms: genesis.genesis_time_ms,
            },
            LogState::Frontier(Frontier::new()),
        )
    }

    /// An audit that continues after `tip` (a block whose certificate the caller verified),
    /// with the history log as of that block.
    pub fn resume(genesis: &Genesis, tip: Tip, log: LogState) -> Self {
        let validators = genesis.validator_set().clone();
        Self {
            chain_id: genesis.chain_id(),
            set_hash: validators.hash(),
            validators,
            pending: None,
            known: Vec::new(),
            activated: 0,
            tip,
            log,
            signatures_pending: Vec::new(),
            pending_txs: Vec::new(),
            require_txs: false,
            signatures: 0,
            batches: 0,
            tx_signatures: 0,
            tx_batches: 0,
            tx_signature_time: Duration::ZERO,
            replay: None,
            execution_time: Duration::ZERO,
        }
    }

    /// An audit that continues after `tip` on a chain whose validator sets changed: `sets`
    /// holds every change activated up to the last block to audit, followed from genesis (set
    /// links verified with [`courtledger_proof::links::follow`]). The next block is checked
    /// against the set in force at its height; a change activating later in the range is
    /// applied after block `activation − 1` even if the transaction that recorded it lies
    /// before the range.
    pub fn resume_with_sets(genesis: &Genesis, tip: Tip, log: LogState, sets: &SetChain) -> Self {
        let mut auditor = Self::resume(genesis, tip, log);
        let next = tip.height.saturating_add(1);
        let current = sets.at(next);
        auditor.validators = current.set.clone();
        auditor.set_hash = current.set.hash();
        let rosters = sets.rosters();
        auditor.activated = u32::try_from(
            rosters
                .iter()
                .skip(1)
                .filter(|r| r.from_height <= next)
                .count(),
        )
        .unwrap_or(u32::MAX);
        auditor.known = rosters
            .iter()
            .filter(|r| r.from_height > next)
            .map(|r| PendingChange {
                activation_height: r.from_height,
                set: r.set.clone(),
            })
            .collect();
        auditor
    }

    /// The hash of the validator set in force after the last block checked (it signs the
    /// next block).
    pub fn set_hash(&self) -> Digest {
        self.set_hash
    }

    /// Validator-set changes activated from genesis up to the last block checked.
    pub fn activated_changes(&self) -> u32 {
        self.activated
    }

    /// Requires every block to carry its transactions (`format` otherwise), which are then
    /// checked (`tx_id`, `tx_signature`); without this, only the blocks that carry them are.
    #[must_use]
    pub fn with_transactions(mut self) -> Self {
        self.require_txs = true;
        self
    }

    /// Re-executes every block from genesis with the judicial ledger's rules (check
    /// `execution`: the block must come out exactly as its header says, its state root
    /// included). Only for an audit from genesis; keeps the whole state in memory. Implies
    /// [`Auditor::with_transactions`].
    #[must_use]
    pub fn with_execution(mut self, genesis: &Genesis) -> Self {
        assert_eq!(self.tip.height, 0, "re-execution starts at genesis");
        let app = courtledger_chain::LedgerApp::new(genesis);
        let parent = courtledger_chain::Parent::genesis(
            &courtledger_chain::ChainContext::from_genesis(genesis, &app),
        );
        self.replay = Some(Replay {
            genesis: genesis.clone(),
            app,
            state: courtledger_chain::MemoryState::new(),
            parent,
        });
        self.require_txs = true;
        self
    }

    /// Whether blocks are re-executed.
    pub fn executes(&self) -> bool {
        self.replay.is_some()
    }

    /// Re-executes `header`'s block (its transactions `txs`) on the replayed state.
    fn replay_block(
        &mut self,
        header: &BlockHeader,
        txs: &[SignedTransaction],
    ) -> Result<(), AuditFailure> {
        let Some(replay) = self.replay.as_mut() else {
            return Ok(());
        };
        let started = Instant::now();
        let block = courtledger_types::Block {
            header: header.clone(),
            txs: txs.to_vec(),
        };
        let ctx = courtledger_chain::ChainContext::from_genesis(&replay.genesis, &replay.app);
        // Signatures are the audit's `tx_signature` check, batched separately.
        let execution = courtledger_chain::validate_block(
            &ctx,
            &replay.parent,
            &replay.state,
            &block,
            NO_CLOCK_BOUND_MS,
            &|_| true,
        )
        .map_err(|error| {
            AuditFailure::new(
                header.height,
                "execution",
                format!("re-executing the block's transactions gives another block: {error}"),
            )
        })?;
        replay.state.apply(&execution.changes);
        replay.parent = courtledger_chain::Parent::of(header);
        self.execution_time += started.elapsed();
        Ok(())
    }

    /// The last block checked (its signatures possibly still pending: see [`Auditor::flush`]).
    pub fn tip(&self) -> Tip {
        self.tip
    }

    /// The history log after the last block checked.
    pub fn log(&self) -> &LogState {
        &self.log
    }

    /// Checks a run of consecutive blocks (a page of the node's answer; an `Err` stands for a
    /// block that did not decode), then verifies all their signatures in one batch. Returns the
    /// first failure by height.
    pub fn check_page(
        &mut self,
        blocks: &[Result<BlockRecord, AuditFailure>],
    ) -> Result<(), AuditFailure> {
        for block in blocks {
            let outcome = match block {
                Ok(record) => self.check_block(record),
                Err(failure) => Err(failure.clone()),
            };
            if let Err(failure) = outcome {
                // An earlier block's bad signature comes first.
                self.flush()?;
                return Err(failure);
            }
        }
        self.flush()
    }

    /// Checks one block, except its signatures, which wait for [`Auditor::flush`].
    pub fn check_block(&mut self, record: &BlockRecord) -> Result<(), AuditFailure> {
        let header = &record.header;
        let expected_height = self.tip.height.saturating_add(1);
        let fail = |check: &'static str, reason: String| -> Result<(), AuditFailure> {
            Err(AuditFailure::new(expected_height, check, reason))
        };
        if header.chain_id != self.chain_id {
            return fail(
                "chain_id",
                format!(
                    "the header is of chain {}, the genesis is chain {}",
                    header.chain_id, self.chain_id
                ),
            );
        }
        if header.height != expected_height {
            return fail(
                "height",
                format!(
                    "the header's height is {}, the previous block's is {}",
                    header.height, self.tip.height
                ),
            );
        }
        if header.parent_id != self.tip.id {
            let previous = if self.tip.height == 0 {
                "the chain id (block 1's parent)".to_owned()
            } else {
                format!("block {}'s id {}", self.tip.height, self.tip.id)
            };
            return fail(
                "parent_id",
                format!("the parent id is {}, not {previous}", header.parent_id),
            );
        }
        if header.time_ms <= self.tip.time_ms {
            return fail(
                "time",
                format!(
                    "the time {} ms is not after {} ms ({})",
                    header.time_ms,
                    self.tip.time_ms,
                    if self.tip.height == 0 {
                        "the genesis time".to_owned()
                    } else {
                        format!("block {}", self.tip.height)
                    }
                ),
            );
        }
        let block_id = header.id();
        if record.id != block_id {
            return fail(
                "block_id",
                format!(
                    "the node names the block {}, its header's id is {block_id}",
                    record.id
                ),
            );
        }
        let signatures = self
            .certificate_structure(&record.certificate, header.height, &block_id)
            .map_err(|error| {
                AuditFailure::new(
                    expected_height,
                    certificate_check(&error),
                    error.to_string(),
                )
            })?;

        let count = record.tx_ids.len();
        if u32::try_from(count).ok() != Some(header.tx_count) || record.receipt_codes.len() != count
        {
            return fail(
                "tx_count",
                format!(
                    "the header counts {} transactions; the block has {count} tx ids and {} receipt codes",
                    header.tx_count,
                    record.receipt_codes.len()
                ),
            );
        }
        if record.txs.is_none() && self.require_txs {
            return fail(
                "format",
                "the block has no `txs` (its transactions)".to_owned(),
            );
        }
        let tx_signatures = match &record.txs {
            None => Vec::new(),
            Some(txs) => self.transactions(txs, &record.tx_ids, header)?,
        };
        let leaves: Vec<merkle::Hash> = record
            .tx_ids
            .iter()
            .map(|id| merkle::leaf_hash(id.as_bytes()))
            .collect();
        let tx_root = Digest(merkle::root(&leaves));
        if tx_root != header.tx_root {
            return fail(
                "tx_root",
                format!(
                    "the tx ids give root {tx_root}, the header says {}",
                    header.tx_root
                ),
            );
        }
        let receipts: Vec<merkle::Hash> = record
            .tx_ids
            .iter()
            .zip(&record.receipt_codes)
            .zip(0u32..)
            .map(|((tx_id, code), index)| {
                merkle::leaf_hash(
                    &Receipt {
                        tx_id: *tx_id,
                        index,
                        height: header.height,
                        code: *code,
                    }
                    .to_bytes(),
                )
            })
            .collect();
        let results_root = Digest(merkle::root(&receipts));
        if results_root != header.results_root {
            return fail(
                "results_root",
                format!(
                    "the receipts give root {results_root}, the header says {}",
                    header.results_root
                ),
            );
        }
        let log = self.extended_log(&leaves, header, expected_height)?;
        let pending = match &record.txs {
            None => self.pending.clone(),
            Some(txs) => self.set_changes(txs, &record.receipt_codes, header.height)?,
        };
        if header.validators_hash != self.set_hash {
            return fail(
                "validators_hash",
                format!(
                    "the header names validator set {}, the set in force at height {} is {} ({})",
                    header.validators_hash,
                    header.height,
                    self.set_hash,
                    self.describe_set()
                ),
            );
        }
        let next_height = header.height.saturating_add(1);
        let switch = pending
            .as_ref()
            .filter(|p| p.activation_height == next_height)
            .or_else(|| {
                self.known
                    .iter()
                    .find(|k| k.activation_height == next_height)
            })
            .cloned();
        let next_hash = switch.as_ref().map_or(self.set_hash, |c| c.set.hash());
        if header.next_validators_hash != next_hash {
            return fail(
                "next_validators_hash",
                format!(
                    "the header names next validator set {}, the set in force at height \
                     {next_height} is {next_hash} ({})",
                    header.next_validators_hash,
                    if switch.is_some() {
                        format!("the change activating at {next_height}")
                    } else {
                        format!(
                            "no change activates at {next_height}: {}",
                            self.describe_set()
                        )
                    }
                ),
            );
        }
        if self.validators.index_of(&header.proposer).is_none() {
            return fail(
                "proposer",
                format!(
                    "the proposer {} is not a validator of the set in force ({})",
                    header.proposer,
                    self.describe_set()
                ),
            );
        }

        if let Some(txs) = &record.txs {
            self.replay_block(header, txs)?;
        }
        self.signatures_pending.extend(signatures);
        self.pending_txs.extend(tx_signatures);
        self.log = log;
        self.pending = pending;
        if let Some(change) = switch {
            self.validators = change.set;
            self.set_hash = next_hash;
            self.activated = self.activated.saturating_add(1);
            self.pending = None;
            self.known.retain(|k| k.activation_height > next_height);
        }
        self.tip = Tip {
            height: header.height,
            id: block_id,
            time_ms: header.time_ms,
        };
        Ok(())
    }

    /// The set in force, in words.
    fn describe_set(&self) -> String {
        match self.activated {
            0 => "the genesis set".to_owned(),
            n => format!("the set of validator-set change {n}"),
        }
    }

    /// `set_change_*` for a block's validator-set changes (transactions whose payload starts
    /// with `0xC0`), in block order, as the chain executes them: each must be admissible on
    /// the state before it (`set_change_payload`, `set_change_admission`,
    /// `set_change_approval`) and carry the receipt code its activation height gives
    /// (`set_change_receipt`). Returns the pending change after the block's transactions.
    fn set_changes(
        &self,
        txs: &[SignedTransaction],
        codes: &[u16],
        height: u64,
    ) -> Result<Option<PendingChange>, AuditFailure> {
        let mut pending = self.pending.clone();
        for ((tx, code), index) in txs.iter().zip(codes).zip(0u32..) {
            let fail = |check: &'static str, reason: String| {
                Err(AuditFailure::of_tx(height, index, check, reason))
            };
            let change = match SignedSetChange::from_payload(&tx.tx.payload) {
                None => continue,
                Some(Err(error)) => {
                    return fail(
                        "set_change_payload",
                        format!(
                            "the payload is tagged as a validator-set change (0xC0) but is not \
                             one: {error}; the chain admits no such transaction"
                        ),
                    )
                }
                Some(Ok(change)) => change,
            };
            if self.validators.index_of(&tx.tx.signer).is_none() {
                return fail(
                    "set_change_admission",
                    format!(
                        "the signer {} is not a validator of the set in force ({})",
                        tx.tx.signer,
                        self.describe_set()
                    ),
                );
            }
            if let Some(pending) = &pending {
                return fail(
                    "set_change_admission",
                    format!(
                        "a validator-set change is already pending (activating at height {})",
                        pending.activation_height
                    ),
                );
            }
            if self.activated >= MAX_SET_CHANGES {
                return fail(
                    "set_change_admission",
                    format!("the chain has activated {MAX_SET_CHANGES} changes, its limit"),
                );
            }
            let set = match change.verify(&self.chain_id, &self.validators) {
                Ok(set) => set,
                Err(error) => {
                    return fail(
                        "set_change_approval",
                        format!(
                            "the set in force did not approve the change (`{}`): {error}",
                            set_change_check(&error)
                        ),
                    )
                }
            };
            let activation = change.change.activation_height;
            let expected = if activation <= height {
                Code::DeadlinePassed.number()
            } else if activation - height > MAX_SET_CHANGE_DELAY {
                Code::InvalidArgument.number()
            } else {
                CODE_OK
            };
            if *code != expected {
                return fail(
                    "set_change_receipt",
                    format!(
                        "the change activating at height {activation}, recorded at height \
                         {height}, has receipt code {code}; the chain gives it {expected}"
                    ),
                );
            }
            if expected == CODE_OK {
                pending = Some(PendingChange {
                    activation_height: activation,
                    set,
                });
            }
        }
        Ok(pending)
    }

    /// `tx_count` and `tx_id` for a block's transactions: as many as its tx ids, each with the
    /// id at its position. Returns their signatures to verify.
    fn transactions(
        &self,
        txs: &[SignedTransaction],
        tx_ids: &[TxId],
        header: &BlockHeader,
    ) -> Result<Vec<Pending>, AuditFailure> {
        let height = header.height;
        if txs.len() != tx_ids.len() {
            return Err(AuditFailure::new(
                height,
                "tx_count",
                format!(
                    "the header counts {} transactions; the block has {} tx ids and {} transactions",
                    header.tx_count,
                    tx_ids.len(),
                    txs.len()
                ),
            ));
        }
        txs.iter()
            .zip(tx_ids)
            .zip(0u32..)
            .map(|((tx, listed), index)| {
                let id = tx.id();
                if id != *listed {
                    return Err(AuditFailure::of_tx(
                        height,
                        index,
                        "tx_id",
                        format!("the transaction's id is {id}, the block lists {listed} at its position"),
                    ));
                }
                Ok(Pending {
                    height,
                    index,
                    key: tx.tx.signer,
                    message: tx.signed_bytes(),
                    signature: tx.signature,
                })
            })
            .collect()
    }

    /// The log after appending `leaves`, checked against the header.
    fn extended_log(
        &self,
        leaves: &[merkle::Hash],
        header: &BlockHeader,
        height: u64,
    ) -> Result<LogState, AuditFailure> {
        let added = u64::try_from(leaves.len()).unwrap_or(u64::MAX);
        match &self.log {
            LogState::Frontier(frontier) => {
                let size = frontier.size().saturating_add(added);
                if header.log_size != size {
                    return Err(AuditFailure::new(
                        height,
                        "log_size",
                        format!(
                            "the log held {} transactions and the block adds {added}, yet the header says {}",
                            frontier.size(),
                            header.log_size
                        ),
                    ));
                }
                let mut frontier = frontier.clone();
                for leaf in leaves {
                    frontier.append(*leaf);
                }
                let root = Digest(frontier.root());
                if root != header.log_root {
                    return Err(AuditFailure::new(
                        height,
                        "log_root",
                        format!(
                            "the history log of {size} transactions has root {root}, the header says {}",
                            header.log_root
                        ),
                    ));
                }
                Ok(LogState::Frontier(frontier))
            }
            LogState::Fixed { size, root } => {
                if added > 0 || header.log_size != *size {
                    return Err(AuditFailure::new(
                        height,
                        "log_size",
                        format!(
                            "the log holds {size} transactions at both ends of the audit, yet this block adds {added} and its header says {}",
                            header.log_size
                        ),
                    ));
                }
                if header.log_root != *root {
                    return Err(AuditFailure::new(
                        height,
                        "log_root",
                        format!(
                            "the log of {size} transactions has root {root}, the header says {}",
                            header.log_root
                        ),
                    ));
                }
                Ok(self.log.clone())
            }
        }
    }

    /// Every check of `CommitCertificate::verify` but the signatures
    /// ([`CommitCertificate::signed_precommits`]), then the quorum (before the signatures, which
    /// are batched across the page). Returns the signatures to verify.
    fn certificate_structure(
        &self,
        certificate: &CommitCertificate,
        height: u64,
        block_id: &BlockId,
    ) -> Result<Vec<Pending>, CertificateError> {
        let (precommits, power) =
            certificate.signed_precommits(&self.validators, height, block_id)?;
        if !self.validators.is_quorum(power) {
            return Err(CertificateError::NoQuorum {
                signed: power,
                total: self.validators.total_power(),
            });
        }
        Ok(precommits
            .into_iter()
            .map(|precommit| Pending {
                height,
                index: u32::from(precommit.validator_index),
                key: precommit.public_key,
                message: precommit.message,
                signature: precommit.signature,
            })
            .collect())
    }

    /// Verifies every signature waiting, in two batches (the precommits, the transactions):
    /// the lowest block with an invalid one fails, `certificate_signature` before
    /// `tx_signature` within a block.
    pub fn flush(&mut self) -> Result<(), AuditFailure> {
        let pending = std::mem::take(&mut self.signatures_pending);
        let pending_txs = std::mem::take(&mut self.pending_txs);
        let mut failure = None;
        if !pending.is_empty() {
            self.batches += 1;
            self.signatures += u64::try_from(pending.len()).unwrap_or(u64::MAX);
            failure = self.verify(&pending, Domain::Vote).map(|(bad, error)| {
                AuditFailure::new(
                    bad.height,
                    "certificate_signature",
                    format!(
                        "the precommit signature of validator {} is invalid: {error}",
                        bad.index
                    ),
                )
            });
        }
        if !pending_txs.is_empty() {
            let started = Instant::now();
            self.tx_batches += 1;
            self.tx_signatures += u64::try_from(pending_txs.len()).unwrap_or(u64::MAX);
            let tx_failure = self
                .verify(&pending_txs, Domain::Transaction)
                .map(|(bad, error)| {
                    AuditFailure::of_tx(
                        bad.height,
                        bad.index,
                        "tx_signature",
                        format!(
                            "the signature of transaction {} (signer {}) is invalid: {error}",
                            bad.index, bad.key
                        ),
                    )
                });
            self.tx_signature_time += started.elapsed();
            failure = match (failure, tx_failure) {
                (Some(a), Some(b)) if b.height < a.height => Some(b),
                (a, b) => a.or(b),
            };
        }
        failure.map_or(Ok(()), Err)
    }

    /// The first of `pending` whose signature `verify_batch` refuses, with its error.
    fn verify<'p>(
        &self,
        pending: &'p [Pending],
        domain: Domain,
    ) -> Option<(&'p Pending, SignatureError)> {
        let items: Vec<BatchItem<'_>> = pending
            .iter()
            .map(|p| BatchItem {
                public_key: &p.key,
                domain,
                chain_id: &self.chain_id,
                message: &p.message,
                signature: &p.signature,
            })
            .collect();
        verify_batch(&items)
            .err()
            .and_then(|failure| Some((pending.get(failure.index)?, failure.error)))
    }
}

/// The frontier of the log of `old_size` leaves with root `old_root`, recovered from a
/// consistency proof to a larger log: the proof's hashes that the RFC 9162 verification
/// hashes into the old root are exactly the roots of the old log's perfect subtrees. Checked:
/// there are `popcount(old_size)` of them and they fold to `old_root`, so they are the log's
/// (short of a SHA-256 collision) whatever the proof's source. A power-of-two log is its own
/// frontier and needs no proof. `None` when the proof does not give it (for example when the
/// log did not grow).
pub fn frontier_from_consistency(
    old_size: u64,
    old_root: &Digest,
    proof: Option<&ConsistencyProof>,
) -> Option<Frontier> {
    if old_size == 0 {
        return Some(Frontier::new());
    }
    let mut nodes: Vec<merkle::Hash> = if old_size.is_power_of_two() {
        vec![old_root.0]
    } else {
        let proof = proof?;
        if proof.old_size != old_size || proof.new_size <= old_size {
            return None;
        }
        let (seed, rest) = proof.path.split_first()?;
        let mut nodes = vec![*seed];
        let mut f = old_size - 1;
        let mut s = proof.new_size - 1;
        while f & 1 == 1 {
            f >>= 1;
            s >>= 1;
        }
        for c in rest {
            if s == 0 {
                return None;
            }
            if f & 1 == 1 || f == s {
                nodes.push(*c);
                if f & 1 == 0 {
                    while f & 1 == 0 && f != 0 {
                        f >>= 1;
                        s >>= 1;
                    }
                }
            }
            f >>= 1;
            s >>= 1;
        }
        nodes
    };
    nodes.reverse();
    let mut bytes = Vec::with_capacity(12 + 32 * nodes.len());
    bytes.extend_from_slice(&old_size.to_be_bytes());
    bytes.extend_from_slice(&u32::try_from(nodes.len()).ok()?.to_be_bytes());
    for node in &nodes {
        bytes.extend_from_slice(node);
    }
    let frontier: Frontier = courtledger_codec::decode_exact(&bytes, bytes.len()).ok()?;
    (frontier.root() == old_root.0).then_some(frontier)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frontier_is_recovered_from_any_consistency_proof() {
        let leaves: Vec<merkle::Hash> = (0u32..48)
            .map(|i| merkle::leaf_hash(&i.to_be_bytes()))
            .collect();
        for old in 1..40u64 {
            let mut expected = Frontier::new();
            for leaf in &leaves[..usize::try_from(old).unwrap()] {
                expected.append(*leaf);
            }
            let root = Digest(expected.root());
            for new in old..48u64 {
                let proof =
                    ConsistencyProof::prove(&leaves[..usize::try_from(new).unwrap()], old).unwrap();
                let found = frontier_from_consistency(old, &root, Some(&proof));
                if new == old && !old.is_power_of_two() {
                    assert_eq!(found, None, "{old} -> {new}");
                } else {
                    assert_eq!(found.as_ref(), Some(&expected), "{old} -> {new}");
                }
            }
            // Another root is refused (a power-of-two log is its root alone).
            if !old.is_power_of_two() {
                let proof = ConsistencyProof::prove(&leaves[..47], old).unwrap();
                assert_eq!(
                    frontier_from_consistency(old, &Digest([7; 32]), Some(&proof)),
                    None
                );
            }
        }
    }
}
