//! Building a block from candidate transactions, and validating a received block.

use std::collections::{BTreeSet, HashMap};

use courtledger_crypto::{verify_batch, BatchItem, ChainId, Digest, PublicKey, SignatureError};
use courtledger_types::block::HEADER_VERSION;
use courtledger_types::genesis::ConsensusParams;
use courtledger_types::limits::{MAX_BLOCK_BYTES, MAX_BLOCK_TXS};
use courtledger_types::{
    Block, BlockHeader, BlockId, Genesis, SignedTransaction, TxId, ValidatorSet,
};
use thiserror::Error;

use crate::app::Application;
use crate::exec::{encoded_tx_len, execute_with_ids, ExecError, Execution, Executor, Rules, TxIds};
use crate::limits::{BLOCK_OVERHEAD_BYTES, TX_OVERHEAD_BYTES};
use crate::state::{genesis_state_root, StateRead};
use crate::validators::SetState;

/// What every block of a chain is checked against: fixed by genesis.
#[derive(Debug, Clone, Copy)]
pub struct ChainContext<'a> {
    /// The chain id.
    pub chain_id: ChainId,
    /// The genesis validator set: in force until the first validator-set change; after that,
    /// the set in force is read from state ([`crate::validators`]).
    pub validators: &'a ValidatorSet,
    /// The consensus parameters from genesis (block limits, clock drift).
    pub params: &'a ConsensusParams,
    /// Genesis time, in milliseconds since the Unix epoch: the "parent time" of block 1.
    pub genesis_time_ms: u64,
    /// What payloads mean ([`crate::LedgerApp`] in production).
    pub app: &'a dyn Application,
}

impl<'a> ChainContext<'a> {
    /// The context of the chain that `genesis` starts, executing `app` (for production,
    /// [`crate::LedgerApp::new`] of the same genesis).
    pub fn from_genesis(genesis: &'a Genesis, app: &'a dyn Application) -> Self {
        Self {
            chain_id: genesis.chain_id(),
            validators: genesis.validator_set(),
            params: &genesis.consensus,
            genesis_time_ms: genesis.genesis_time_ms,
            app,
        }
    }

    /// What admitting a transaction needs besides state.
    pub fn rules(&self) -> Rules<'_> {
        Rules {
            app: self.app,
            chain_id: &self.chain_id,
            genesis_validators: self.validators,
        }
    }

    /// Most transactions in a block: the genesis parameter, capped by [`MAX_BLOCK_TXS`].
    pub fn max_block_txs(&self) -> u32 {
        self.params.max_block_txs.min(MAX_BLOCK_TXS)
    }

    /// Largest encoded block: the genesis parameter, capped by [`MAX_BLOCK_BYTES`].
    pub fn max_block_bytes(&self) -> u32 {
        self.params.max_block_bytes.min(MAX_BLOCK_BYTES)
    }
}

/// The block that a new block extends (for height 1, genesis itself: see [`Parent::genesis`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parent {
    /// Its height; 0 for genesis.
    pub height: u64,
    /// Its id; the chain id's digest for genesis.
    pub id: BlockId,
    /// Its time; the genesis time for genesis.
    pub time_ms: u64,
    /// The state root after it; [`genesis_state_root`] for genesis.
    pub state_root: Digest,
}

impl Parent {
    /// The parent of block 1.
    pub fn genesis(ctx: &ChainContext<'_>) -> Self {
        Self {
            height: 0,
            id: ctx.chain_id.0,
            time_ms: ctx.genesis_time_ms,
            state_root: genesis_state_root(&ctx.chain_id),
        }
    }

    /// The parent described by a committed block's header.
    pub fn of(header: &BlockHeader) -> Self {
        Self {
            height: header.height,
            id: header.id(),
            time_ms: header.time_ms,
            state_root: header.state_root,
        }
    }
}

/// The encoded length of `block`, computed without encoding it.
pub fn encoded_block_len(block: &Block) -> usize {
    block.txs.iter().fold(BLOCK_OVERHEAD_BYTES, |sum, tx| {
        sum.saturating_add(encoded_tx_len(tx))
    })
}

/// Builds the next block from `candidates`, which the caller has signature-checked (the
/// mempool's transactions).
///
/// Candidates are taken in order. One that fails [`crate::check_tx`] against the state left by
/// those already taken is skipped, so the block is always valid. One that would push the block
/// over [`ChainContext::max_block_bytes`] is skipped together with every later candidate of the
/// same signer (so that no later nonce of that signer overtakes it). Building stops at
/// [`ChainContext::max_block_txs`] transactions or when not even the smallest transaction would
/// fit. The time is `max(now_ms, parent.time_ms + 1)`.
///
/// # Panics
///
/// If committed state is damaged (the log frontier does not decode) or the log already holds
/// `u64::MAX` transactions: no valid block can be built then, and the node must stop. Use
/// [`try_build_block`] to get these as errors.
pub fn build_block(
    ctx: &ChainContext<'_>,
    parent: &Parent,
    state: &dyn StateRead,
    candidates: impl IntoIterator<Item = SignedTransaction>,
    proposer: PublicKey,
    now_ms: u64,
) -> (Block, Execution) {
    match try_build_block(ctx, parent, state, candidates, proposer, now_ms) {
        Ok(built) => built,
        Err(error) => panic!("cannot build a block on this state: {error}"),
    }
}

/// [`build_block`], returning damaged state ([`ExecError::CorruptState`]) or a full log
/// ([`ExecError::LogFull`]) as an error instead of panicking.
pub fn try_build_block(
    ctx: &ChainContext<'_>,
    parent: &Parent,
    state: &dyn StateRead,
    candidates: impl IntoIterator<Item = SignedTransaction>,
    proposer: PublicKey,
    now_ms: u64,
) -> Result<(Block, Execution), ExecError> {
    let height = parent.height.saturating_add(1);
    let max_txs = usize::try_from(ctx.max_block_txs()).unwrap_or(usize::MAX);
    let max_bytes = usize::try_from(ctx.max_block_bytes()).unwrap_or(usize::MAX);
    let smallest_tx = TX_OVERHEAD_BYTES + 1;

    let time_ms = now_ms.max(parent.time_ms.saturating_add(1));
    let candidates = candidates.into_iter();
    let mut executor = Executor::new(ctx, state, height, time_ms)?;
    executor.reserve(candidates.size_hint().0.min(max_txs));
    let mut txs = Vec::new();
    let mut bytes = BLOCK_OVERHEAD_BYTES;
    let mut held_back: BTreeSet<PublicKey> = BTreeSet::new();
    for tx in candidates {
        if executor.len() >= max_txs || max_bytes.saturating_sub(bytes) < smallest_tx {
            break;
        }
        if held_back.contains(&tx.tx.signer) {
            continue;
        }
        let len = encoded_tx_len(&tx);
        if bytes.saturating_add(len) > max_bytes {
            held_back.insert(tx.tx.signer);
            continue;
        }
        match executor.apply(&tx, tx.id()) {
            Ok(()) => {
                bytes = bytes.saturating_add(len);
                txs.push(tx);
            }
            Err(ExecError::InvalidTx { .. }) => {}
            Err(other) => return Err(other),
        }
    }
    let execution = executor.finish();

    let validators_hash = execution.validators.hash();
    let next_validators_hash = execution.next_validators.hash();
    let header = BlockHeader {
        version: HEADER_VERSION,
        chain_id: ctx.chain_id,
        height,
        time_ms,
        parent_id: parent.id,
        proposer,
        tx_count: u32::try_from(txs.len()).unwrap_or(u32::MAX),
        tx_root: execution.tx_root,
        results_root: execution.results_root,
        log_size: execution.log_size(),
        log_root: execution.log_root(),
        state_root: execution.state_root(&parent.state_root),
        validators_hash,
        next_validators_hash,
    };
    Ok((Block { header, txs }, execution))
}

/// Why a block is invalid, in the order [`validate_block`] checks.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BlockError {
    /// The header layout version is not [`HEADER_VERSION`].
    #[error("header version {found}, expected {expected}")]
    Version { found: u16, expected: u16 },
    /// The block is for another chain.
    #[error("chain id {found}, expected {expected}")]
    ChainId { found: ChainId, expected: ChainId },
    /// The height is not the parent's plus one.
    #[error("height {found}, expected {expected}")]
    Height { found: u64, expected: u64 },
    /// The block does not extend the parent.
    #[error("parent id {found}, expected {expected}")]
    ParentId { found: BlockId, expected: BlockId },
    /// The proposer is not in the validator set (boxed: a key is large).
    #[error("proposer {proposer} is not a validator")]
    ProposerNotValidator { proposer: Box<PublicKey> },
    /// The time is not after the parent's time.
    #[error("time {time_ms} ms is not after the parent's time {parent_time_ms} ms")]
    TimeNotAfterParent { time_ms: u64, parent_time_ms: u64 },
    /// The time is further ahead of the local clock than the allowed drift.
    #[error(
        "time {time_ms} ms is more than {max_drift_ms} ms ahead of the local clock {now_ms} ms"
    )]
    TimeTooFarAhead {
        time_ms: u64,
        now_ms: u64,
        max_drift_ms: u64,
    },
    /// The header's transaction count is not the number of transactions.
    #[error("header says {header} transactions, the block has {actual}")]
    TxCount { header: u32, actual: usize },
    /// More transactions than [`ChainContext::max_block_txs`].
    #[error("{count} transactions, more than the limit of {max}")]
    TooManyTxs { count: usize, max: u32 },
    /// The encoded block is larger than [`ChainContext::max_block_bytes`].
    #[error("the block encodes to {bytes} bytes, more than the limit of {max}")]
    TooLarge { bytes: usize, max: u32 },
    /// The transaction root does not match the transactions.
    #[error("transaction root {found}, expected {expected}")]
    TxRoot { found: Digest, expected: Digest },
    /// The same transaction twice.
    #[error("transaction {index} repeats transaction {first}")]
    DuplicateTx { index: usize, first: usize },
    /// A transaction's signature is invalid (the lowest such index).
    #[error("transaction {index} has an invalid signature: {error}")]
    BadSignature { index: usize, error: SignatureError },
    /// The transactions cannot be executed (an invalid transaction names its index).
    #[error("execution failed: {0}")]
    Execution(ExecError),
    /// The results root does not match the receipts.
    #[error("results root {found}, expected {expected}")]
    ResultsRoot { found: Digest, expected: Digest },
    /// The log size is not the number of transactions committed up to this block.
    #[error("log size {found}, expected {expected}")]
    LogSize { found: u64, expected: u64 },
    /// The log root does not match the log after this block.
    #[error("log root {found}, expected {expected}")]
    LogRoot { found: Digest, expected: Digest },
    /// The state root does not match the state after this block.
    #[error("state root {found}, expected {expected}")]
    StateRoot { found: Digest, expected: Digest },
    /// The validators hash is not the validator set's.
    #[error("validators hash {found}, expected {expected}")]
    ValidatorsHash { found: Digest, expected: Digest },
    /// The next validators hash is not the next validator set's.
    #[error("next validators hash {found}, expected {expected}")]
    NextValidatorsHash { found: Digest, expected: Digest },
}

/// Checks that `block` is the valid next block after `parent` on the committed `state`, and
/// returns its execution (to commit if consensus decides it).
///
/// The checks, in order, each with its own [`BlockError`]: header version; chain id; height =
/// parent height + 1; parent id; proposer in the validator set; time after the parent's and at
/// most `now_ms + max_clock_drift_ms`; transaction count in the header, count and encoded size
/// within the limits; transaction root; no transaction twice; signatures (transactions for which
/// `already_verified` returns true are skipped, the rest are verified as one batch, and the
/// lowest bad index is reported); execution (every transaction valid); results root; log size
/// and root; state root; validators hash and next validators hash.
///
/// Never panics, whatever the block holds.
pub fn validate_block(
    ctx: &ChainContext<'_>,
    parent: &Parent,
    state: &dyn StateRead,
    block: &Block,
    now_ms: u64,
    already_verified: &dyn Fn(&TxId) -> bool,
) -> Result<Execution, BlockError> {
    let header = &block.header;
    let sets = SetState::load(state, ctx.validators)
        .map_err(|error| BlockError::Execution(ExecError::CorruptState(error)))?;
    check_header_fields(ctx, &sets.current, parent, header, now_ms)?;

    if u32::try_from(block.txs.len()).ok() != Some(header.tx_count) {
        return Err(BlockError::TxCount {
            header: header.tx_count,
            actual: block.txs.len(),
        });
    }
    let max_txs = ctx.max_block_txs();
    if u32::try_from(block.txs.len()).map_or(true, |count| count > max_txs) {
        return Err(BlockError::TooManyTxs {
            count: block.txs.len(),
            max: max_txs,
        });
    }
    let bytes = encoded_block_len(block);
    let max_bytes = ctx.max_block_bytes();
    if u32::try_from(bytes).map_or(true, |bytes| bytes > max_bytes) {
        return Err(BlockError::TooLarge {
            bytes,
            max: max_bytes,
        });
    }

    // The ids, their leaves and the root are computed once, here, and reused by execution.
    let ids = TxIds::of(&block.txs);
    if header.tx_root != ids.root {
        return Err(BlockError::TxRoot {
            found: header.tx_root,
            expected: ids.root,
        });
    }
    let mut first_seen: HashMap<TxId, usize> = HashMap::with_capacity(ids.ids.len());
    for (index, id) in ids.ids.iter().enumerate() {
        if let Some(first) = first_seen.insert(*id, index) {
            return Err(BlockError::DuplicateTx { index, first });
        }
    }
    verify_signatures(&ctx.chain_id, &block.txs, &ids.ids, already_verified)?;

    let execution = execute_with_ids(ctx, state, &block.txs, &ids, header.height, header.time_ms)
        .map_err(BlockError::Execution)?;

    check_commitments(parent, header, &execution)?;
    Ok(execution)
}

fn check_header_fields(
    ctx: &ChainContext<'_>,
    validators: &ValidatorSet,
    parent: &Parent,
    header: &BlockHeader,
    now_ms: u64,
) -> Result<(), BlockError> {
    if header.version != HEADER_VERSION {
        return Err(BlockError::Version {
            found: header.version,
            expected: HEADER_VERSION,
        });
    }
    if header.chain_id != ctx.chain_id {
        return Err(BlockError::ChainId {
            found: header.chain_id,
            expected: ctx.chain_id,
        });
    }
    if parent.height.checked_add(1) != Some(header.height) {
        return Err(BlockError::Height {
            found: header.height,
            expected: parent.height.saturating_add(1),
        });
    }
    if header.parent_id != parent.id {
        return Err(BlockError::ParentId {
            found: header.parent_id,
            expected: parent.id,
        });
    }
    if validators.index_of(&header.proposer).is_none() {
        return Err(BlockError::ProposerNotValidator {
            proposer: Box::new(header.proposer),
        });
    }
    if header.time_ms <= parent.time_ms {
        return Err(BlockError::TimeNotAfterParent {
            time_ms: header.time_ms,
            parent_time_ms: parent.time_ms,
        });
    }
    let max_drift_ms = ctx.params.max_clock_drift_ms;
    if header.time_ms > now_ms.saturating_add(max_drift_ms) {
        return Err(BlockError::TimeTooFarAhead {
            time_ms: header.time_ms,
            now_ms,
            max_drift_ms,
        });
    }
    Ok(())
}

fn verify_signatures(
    chain_id: &ChainId,
    txs: &[SignedTransaction],
    ids: &[TxId],
    already_verified: &dyn Fn(&TxId) -> bool,
) -> Result<(), BlockError> {
    let pending: Vec<usize> = ids
        .iter()
        .enumerate()
        .filter(|(_, id)| !already_verified(id))
        .map(|(index, _)| index)
        .collect();
    let messages: Vec<Vec<u8>> = pending
        .iter()
        .map(|index| txs[*index].signed_bytes())
        .collect();
    let items: Vec<BatchItem<'_>> = pending
        .iter()
        .zip(&messages)
        .map(|(index, message)| txs[*index].batch_item(chain_id, message))
        .collect();
    verify_batch(&items).map_err(|failure| BlockError::BadSignature {
        // `failure.index` is below the batch length, so the lookup succeeds.
        index: pending.get(failure.index).copied().unwrap_or(0),
        error: failure.error,
    })
}

fn check_commitments(
    parent: &Parent,
    header: &BlockHeader,
    execution: &Execution,
) -> Result<(), BlockError> {
    if header.results_root != execution.results_root {
        return Err(BlockError::ResultsRoot {
            found: header.results_root,
            expected: execution.results_root,
        });
    }
    if header.log_size != execution.log_size() {
        return Err(BlockError::LogSize {
            found: header.log_size,
            expected: execution.log_size(),
        });
    }
    let log_root = execution.log_root();
    if header.log_root != log_root {
        return Err(BlockError::LogRoot {
            found: header.log_root,
            expected: log_root,
        });
    }
    let state_root = execution.state_root(&parent.state_root);
    if header.state_root != state_root {
        return Err(BlockError::StateRoot {
            found: header.state_root,
            expected: state_root,
        });
    }
    let validators_hash = execution.validators.hash();
    if header.validators_hash != validators_hash {
        return Err(BlockError::ValidatorsHash {
            found: header.validators_hash,
            expected: validators_hash,
        });
    }
    let next_validators_hash = execution.next_validators.hash();
    if header.next_validators_hash != next_validators_hash {
        return Err(BlockError::NextValidatorsHash {
            found: header.next_validators_hash,
            expected: next_validators_hash,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use courtledger_codec::Encode;
    use courtledger_crypto::{sha256, SigningKey};
    use courtledger_types::Validator;

    #[test]
    fn header_length_constant_matches_the_encoding() {
        let key = SigningKey::from_seed(&[1; 32]).public_key();
        let header = BlockHeader {
            version: HEADER_VERSION,
            chain_id: ChainId(sha256(b"c")),
            height: u64::MAX,
            time_ms: 1,
            parent_id: sha256(b"p"),
            proposer: key,
            tx_count: 0,
            tx_root: sha256(b"t"),
            results_root: sha256(b"r"),
            log_size: 0,
            log_root: sha256(b"l"),
            state_root: sha256(b"s"),
            validators_hash: sha256(b"v"),
            next_validators_hash: sha256(b"n"),
        };
        assert_eq!(header.to_bytes().len(), crate::limits::HEADER_BYTES);
        let block = Block {
            header,
            txs: Vec::new(),
        };
        assert_eq!(block.to_bytes().len(), BLOCK_OVERHEAD_BYTES);
        assert_eq!(encoded_block_len(&block), BLOCK_OVERHEAD_BYTES);
    }

    #[test]
    fn context_caps_genesis_limits_at_the_hard_limits() {
        let validators = ValidatorSet::new(vec![Validator {
            public_key: SigningKey::from_seed(&[1; 32]).public_key(),
            voting_power: 1,
        }])
        .unwrap();
        let params = ConsensusParams {
            max_block_txs: u32::MAX,
            max_block_bytes: u32::MAX,
            ..ConsensusParams::default()
        };
        let ctx = ChainContext {
            chain_id: ChainId(sha256(b"c")),
            validators: &validators,
            params: &params,
            genesis_time_ms: 0,
            app: &crate::AnchorApp,
        };
        assert_eq!(ctx.max_block_txs(), MAX_BLOCK_TXS);
        assert_eq!(ctx.max_block_bytes(), MAX_BLOCK_BYTES);
        let parent = Parent::genesis(&ctx);
        assert_eq!(parent.id, ctx.chain_id.0);
        assert_eq!(parent.state_root, genesis_state_root(&ctx.chain_id));
    }
}
