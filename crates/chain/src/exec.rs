//! Execution: checking transactions against state, applying them, receipts, the history log.

use courtledger_codec::{decode_exact, Encode};
use courtledger_crypto::{ChainId, Digest, PublicKey};
use courtledger_ledger::Invalid;
use courtledger_merkle::{self as merkle, Frontier, LogNode};
use courtledger_types::limits::{
    MAX_BLOCK_TXS, MAX_NONCE_LOOKAHEAD, MAX_TX_BYTES, MAX_TX_PAYLOAD_BYTES,
};
use courtledger_types::{Receipt, SignedSetChange, SignedTransaction, TxId, ValidatorSet, CODE_OK};
use thiserror::Error;

use crate::app::{AppOutcome, Application, Env};
use crate::block::ChainContext;
use crate::keys;
use crate::limits::{MAX_FRONTIER_BYTES, TX_OVERHEAD_BYTES};
use crate::state::{state_root, Overlay, StateChange, StateError, StateRead};
use crate::validators::{activation_outcome, activation_writes, SetChangeReject, SetState};

/// What admitting a transaction needs besides state: the application, the chain id, and the
/// genesis validator set (the set in force until the first change).
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    /// What payloads mean.
    pub app: &'a dyn Application,
    /// The chain.
    pub chain_id: &'a ChainId,
    /// The genesis validator set.
    pub genesis_validators: &'a ValidatorSet,
}

/// Why a transaction cannot be executed. The signature is not checked here (see
/// [`SignedTransaction::verify_signature`]).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TxReject {
    /// The application refuses it: the payload is not a well-formed act, or the signer may not
    /// sign (unregistered, revoked, a rotated key).
    #[error(transparent)]
    Act(Invalid),
    /// The payload is over [`MAX_TX_PAYLOAD_BYTES`].
    #[error("the payload is {len} bytes, more than {max}")]
    PayloadTooLarge { len: usize, max: u32 },
    /// The encoded transaction is over [`MAX_TX_BYTES`].
    #[error("the transaction encodes to {bytes} bytes, more than {max}")]
    TooLarge { bytes: usize, max: u32 },
    /// The nonce is not above the signer's highest committed nonce: a replay, or overtaken.
    #[error("nonce {nonce} is not above the signer's highest committed nonce {highest}")]
    StaleNonce { nonce: u64, highest: u64 },
    /// The nonce skips over nonces not yet committed: it must be the next one.
    #[error("nonce {nonce} is not the next one, {expected}")]
    NonceGap { nonce: u64, expected: u64 },
    /// The nonce is too far ahead of the next one to wait for the ones between.
    #[error("nonce {nonce} is too far ahead of the next one, {expected}")]
    NonceTooFarAhead { nonce: u64, expected: u64 },
    /// The signer's counter is at `u64::MAX`.
    #[error("the signer's transaction counter is at its maximum")]
    CounterOverflow,
    /// A validator-set change that may not enter a block.
    #[error(transparent)]
    SetChange(SetChangeReject),
    /// The signer's records in committed state are damaged.
    #[error(transparent)]
    CorruptState(#[from] StateError),
}

/// Why a list of transactions cannot be executed as a block.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ExecError {
    /// The transaction at `index` (0-based, in block order) is invalid.
    #[error("transaction {index} is invalid: {reason}")]
    InvalidTx { index: usize, reason: TxReject },
    /// More than [`MAX_BLOCK_TXS`] transactions.
    #[error("a block holds at most {max} transactions, not {count}")]
    TooManyTxs { count: usize, max: u32 },
    /// The log already holds `u64::MAX` transactions.
    #[error("the transaction log is full")]
    LogFull,
    /// The log frontier in committed state is damaged.
    #[error(transparent)]
    CorruptState(StateError),
}

/// The canonical encoded length of a signed transaction, computed without encoding it.
pub fn encoded_tx_len(tx: &SignedTransaction) -> usize {
    TX_OVERHEAD_BYTES.saturating_add(tx.tx.payload.len())
}

/// The checks that need no state: the payload is at most [`MAX_TX_PAYLOAD_BYTES`] bytes, the
/// encoding at most [`MAX_TX_BYTES`], and the payload is well-formed: a validator-set change
/// that decodes ([`crate::validators`]), or else what the application finds well-formed
/// ([`Application::check_stateless`]).
pub fn check_tx_stateless(app: &dyn Application, tx: &SignedTransaction) -> Result<(), TxReject> {
    check_tx_size(tx)?;
    match SignedSetChange::from_payload(&tx.tx.payload) {
        Some(Ok(_)) => Ok(()),
        Some(Err(error)) => Err(TxReject::SetChange(SetChangeReject::Malformed(error))),
        None => app.check_stateless(tx).map_err(act_reject),
    }
}

/// Admission of the payload on `state`: a validator-set change by [`SetState::admit`], any
/// other payload by the application (on state as block 1 sees it when before block 1).
pub(crate) fn admit_payload(
    rules: &Rules<'_>,
    state: &dyn StateRead,
    before_first_block: bool,
    tx: &SignedTransaction,
) -> Result<(), TxReject> {
    match SignedSetChange::from_payload(&tx.tx.payload) {
        Some(Ok(change)) => SetState::load(state, rules.genesis_validators)?
            .admit(rules.chain_id, tx, &change)
            .map_err(TxReject::SetChange),
        Some(Err(error)) => Err(TxReject::SetChange(SetChangeReject::Malformed(error))),
        None => rules
            .app
            .admit(&with_genesis_at(rules.app, state, before_first_block), tx)
            .map_err(act_reject),
    }
}

/// An application's refusal as a [`TxReject`]: damaged state stays damaged state.
fn act_reject(invalid: Invalid) -> TxReject {
    match invalid {
        Invalid::Corrupt(corrupt) => TxReject::CorruptState(StateError {
            key: corrupt.key,
            reason: corrupt.reason,
        }),
        other => TxReject::Act(other),
    }
}

/// The envelope's size limits.
fn check_tx_size(tx: &SignedTransaction) -> Result<(), TxReject> {
    let len = tx.tx.payload.len();
    if u32::try_from(len).map_or(true, |len| len > MAX_TX_PAYLOAD_BYTES) {
        return Err(TxReject::PayloadTooLarge {
            len,
            max: MAX_TX_PAYLOAD_BYTES,
        });
    }
    let bytes = encoded_tx_len(tx);
    if u32::try_from(bytes).map_or(true, |bytes| bytes > MAX_TX_BYTES) {
        return Err(TxReject::TooLarge {
            bytes,
            max: MAX_TX_BYTES,
        });
    }
    Ok(())
}

/// Whether `tx` may be executed on `state`: [`check_tx_stateless`], the signer's nonce
/// ([`SignerState::admits`]), then the payload's admission (a validator-set change's, or the
/// application's: [`Application::admit`]). Everything but the signature.
pub fn check_tx(
    rules: &Rules<'_>,
    state: &dyn StateRead,
    tx: &SignedTransaction,
) -> Result<(), TxReject> {
    check_tx_size(tx)?;
    SignerState::load(state, &tx.tx.signer)?.admits(tx.tx.nonce)?;
    admit_payload(rules, state, before_first_block(state), tx)
}

/// `state` as block 1 will see it: before any block is committed (no log frontier yet), with
/// the application's genesis writes laid over it, so that transactions of the registrars named
/// in genesis are admitted before block 1 has written them.
fn with_genesis<'a>(app: &dyn Application, state: &'a dyn StateRead) -> Overlay<'a> {
    with_genesis_at(app, state, before_first_block(state))
}

/// Whether `state` is before block 1: no log frontier yet.
pub(crate) fn before_first_block(state: &dyn StateRead) -> bool {
    state.get(keys::LOG_FRONTIER).is_none()
}

/// [`with_genesis`], given [`before_first_block`] of `state` (read once for many transactions).
fn with_genesis_at<'a>(
    app: &dyn Application,
    state: &'a dyn StateRead,
    before_first_block: bool,
) -> Overlay<'a> {
    let mut overlay = Overlay::new(state);
    if before_first_block {
        for (key, value) in app.genesis_writes() {
            match value {
                Some(value) => overlay.put(key.clone(), value.clone()),
                None => overlay.delete(key.clone()),
            }
        }
    }
    overlay
}

/// Whether `tx` may wait in a mempool: valid on its own, and its nonce not stale and at most
/// [`MAX_NONCE_LOOKAHEAD`] ahead of the signer's next (the ones between may still arrive).
pub fn check_pending_tx(
    rules: &Rules<'_>,
    state: &dyn StateRead,
    tx: &SignedTransaction,
) -> Result<(), TxReject> {
    check_pending_tx_at(rules, state, before_first_block(state), tx).map(|_| ())
}

/// [`check_pending_tx`], given [`before_first_block`] of `state`; the signer's next nonce in
/// `state` when the transaction passes.
pub(crate) fn check_pending_tx_at(
    rules: &Rules<'_>,
    state: &dyn StateRead,
    before_first_block: bool,
    tx: &SignedTransaction,
) -> Result<u64, TxReject> {
    check_tx_size(tx)?;
    let next_nonce = SignerState::load(state, &tx.tx.signer)?.admits_later(tx.tx.nonce)?;
    admit_payload(rules, state, before_first_block, tx)?;
    Ok(next_nonce)
}

/// A signer's records in state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SignerState {
    /// Transactions committed by the signer (`v1/signer-count/`, absent = 0).
    pub tx_count: u64,
    /// The highest nonce committed by the signer (`v1/signer-nonce/`), `None` before its first.
    pub highest_nonce: Option<u64>,
}

impl SignerState {
    /// Reads the signer's records. Both keys are written together, so exactly one being present
    /// is corruption, as is a value that is not 8 bytes or a zero count.
    pub fn load(state: &dyn StateRead, signer: &PublicKey) -> Result<Self, StateError> {
        let count_key = keys::signer_count(signer);
        let nonce_key = keys::signer_nonce(signer);
        let tx_count = read_u64(state, &count_key)?;
        let highest_nonce = read_u64(state, &nonce_key)?;
        match (tx_count, highest_nonce) {
            (None, None) => Ok(Self::default()),
            (Some(tx_count), Some(highest)) if tx_count > 0 => Ok(Self {
                tx_count,
                highest_nonce: Some(highest),
            }),
            (Some(_), _) => Err(StateError {
                key: count_key,
                reason: "the counter is zero or has no nonce beside it",
            }),
            (None, Some(_)) => Err(StateError {
                key: nonce_key,
                reason: "a nonce without a counter",
            }),
        }
    }

    /// The nonce the signer's next transaction must carry: 1 for a first transaction, then
    /// one more than the highest committed. `None` once nonces are exhausted.
    pub fn next_nonce(&self) -> Option<u64> {
        self.highest_nonce
            .map_or(Some(1), |highest| highest.checked_add(1))
    }

    /// Whether a transaction with `nonce` may be executed now: its nonce is exactly the next
    /// one, and the counter can grow.
    pub fn admits(&self, nonce: u64) -> Result<(), TxReject> {
        let expected = self.admits_later(nonce)?;
        if nonce != expected {
            return Err(TxReject::NonceGap { nonce, expected });
        }
        Ok(())
    }

    /// Whether a transaction with `nonce` may be executed once the signer's transactions before
    /// it are: not stale, and at most [`MAX_NONCE_LOOKAHEAD`] ahead. Returns the next nonce.
    pub fn admits_later(&self, nonce: u64) -> Result<u64, TxReject> {
        let Some(expected) = self.next_nonce() else {
            return Err(TxReject::CounterOverflow);
        };
        if self.tx_count == u64::MAX {
            return Err(TxReject::CounterOverflow);
        }
        if nonce < expected {
            return Err(TxReject::StaleNonce {
                nonce,
                highest: expected - 1,
            });
        }
        if nonce - expected >= MAX_NONCE_LOOKAHEAD {
            return Err(TxReject::NonceTooFarAhead { nonce, expected });
        }
        Ok(expected)
    }
}

fn read_u64(state: &dyn StateRead, key: &[u8]) -> Result<Option<u64>, StateError> {
    let Some(value) = state.get(key) else {
        return Ok(None);
    };
    let bytes: [u8; 8] = value.as_slice().try_into().map_err(|_| StateError {
        key: key.to_vec(),
        reason: "value is not a u64 (8 bytes)",
    })?;
    Ok(Some(u64::from_be_bytes(bytes)))
}

/// The history log's frontier in `state` (`v1/log/frontier`); the empty log if absent.
pub fn log_frontier(state: &dyn StateRead) -> Result<Frontier, StateError> {
    match state.get(keys::LOG_FRONTIER) {
        None => Ok(Frontier::new()),
        Some(bytes) => decode_exact(&bytes, MAX_FRONTIER_BYTES).map_err(|_| StateError {
            key: keys::LOG_FRONTIER.to_vec(),
            reason: "not a canonical frontier encoding",
        }),
    }
}

/// The RFC 9162 root over `leaf_hash(encode(receipt))` for `receipts` in order (the empty root
/// for none).
pub fn results_root(receipts: &[Receipt]) -> Digest {
    let leaves: Vec<merkle::Hash> = receipts
        .iter()
        .map(|receipt| merkle::leaf_hash(&receipt.to_bytes()))
        .collect();
    Digest(merkle::root(&leaves))
}

/// What executing a block produced: everything its header commits to except the state root's
/// predecessor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Execution {
    /// The block's height.
    pub height: u64,
    /// The ids of the executed transactions, in order.
    pub tx_ids: Vec<TxId>,
    /// RFC 9162 root over `leaf_hash(tx id)` ([`courtledger_types::block::tx_root`]).
    pub tx_root: Digest,
    /// One receipt per transaction, in order.
    pub receipts: Vec<Receipt>,
    /// [`results_root`] of the receipts.
    pub results_root: Digest,
    /// The history log after the block.
    pub log: Frontier,
    /// The history log's perfect subtrees that this block's transactions completed (leaves
    /// included), smallest first per leaf: stored, they let the node prove inclusion and
    /// consistency at any size without rebuilding the log
    /// ([`courtledger_merkle::prove_inclusion`]).
    pub log_nodes: Vec<LogNode>,
    /// The block's writes, sorted by key; apply them to commit the block.
    pub changes: Vec<StateChange>,
    /// For each transaction, in order: the ids (cases, identities) its act concerns, the keys
    /// under which the node notifies subscribers. Derived from the acts, not committed to by the
    /// header.
    pub subjects: Vec<Vec<Digest>>,
    /// The validator set in force for this block (it signs the block): the header's
    /// `validators_hash` is its hash.
    pub validators: ValidatorSet,
    /// The validator set in force for the next block: the header's `next_validators_hash` is
    /// its hash. Another set when this block activated a change.
    pub next_validators: ValidatorSet,
}

impl Execution {
    /// Transactions in the log after the block: the header's `log_size`.
    pub fn log_size(&self) -> u64 {
        self.log.size()
    }

    /// The log's root after the block: the header's `log_root`.
    pub fn log_root(&self) -> Digest {
        Digest(self.log.root())
    }

    /// The state root after the block, given the state root before it.
    pub fn state_root(&self, prev_root: &Digest) -> Digest {
        state_root(prev_root, &self.changes)
    }
}

/// Executes `txs` in order as the block at `height` over the committed `state`.
///
/// Every transaction must pass [`check_tx`] against the state left by the ones before it;
/// otherwise the block is invalid and the error names the first bad index. Signatures are not
/// checked here.
pub fn execute_block(
    ctx: &ChainContext<'_>,
    state: &dyn StateRead,
    txs: &[SignedTransaction],
    height: u64,
    time_ms: u64,
) -> Result<Execution, ExecError> {
    execute_with_ids(ctx, state, txs, &TxIds::of(txs), height, time_ms)
}

/// The ids of a block's transactions and what follows from them alone, computed once per block:
/// their leaves `leaf_hash(id)`, which are the leaves of both the block's `tx_root` and the
/// history log, and the `tx_root`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TxIds {
    /// `ids[i] = txs[i].id()`.
    pub(crate) ids: Vec<TxId>,
    /// `leaves[i] = leaf_hash(ids[i])`.
    pub(crate) leaves: Vec<merkle::Hash>,
    /// The RFC 9162 root over `leaves` ([`courtledger_types::block::tx_root`] of `ids`).
    pub(crate) root: Digest,
}

impl TxIds {
    /// The ids, leaves and root of `txs`.
    pub(crate) fn of(txs: &[SignedTransaction]) -> Self {
        let ids: Vec<TxId> = txs.iter().map(SignedTransaction::id).collect();
        let leaves: Vec<merkle::Hash> = ids
            .iter()
            .map(|id| merkle::leaf_hash(id.as_bytes()))
            .collect();
        let root = Digest(merkle::root(&leaves));
        Self { ids, leaves, root }
    }
}

/// [`execute_block`] with the transaction ids, their leaves and root already computed
/// (`ids = TxIds::of(txs)`).
pub(crate) fn execute_with_ids(
    ctx: &ChainContext<'_>,
    state: &dyn StateRead,
    txs: &[SignedTransaction],
    ids: &TxIds,
    height: u64,
    time_ms: u64,
) -> Result<Execution, ExecError> {
    debug_assert_eq!(txs.len(), ids.ids.len());
    if u32::try_from(txs.len()).map_or(true, |count| count > MAX_BLOCK_TXS) {
        return Err(ExecError::TooManyTxs {
            count: txs.len(),
            max: MAX_BLOCK_TXS,
        });
    }
    let mut executor = Executor::new(ctx, state, height, time_ms)?;
    executor.reserve(txs.len());
    for ((tx, id), leaf) in txs.iter().zip(&ids.ids).zip(&ids.leaves) {
        executor.apply_with_leaf(tx, *id, *leaf)?;
    }
    Ok(executor.finish_with_tx_root(ids.root))
}

/// Keys a transaction typically writes, to size the overlay: the signer's two, and the act's (a
/// case filing writes five). A hint, not a bound.
const WRITES_PER_TX_HINT: usize = 7;

/// Executes transactions one at a time over an overlay; a rejected transaction leaves no trace.
pub(crate) struct Executor<'a> {
    app: &'a dyn Application,
    sets: SetState,
    chain_id: ChainId,
    overlay: Overlay<'a>,
    log: Frontier,
    log_nodes: Vec<LogNode>,
    height: u64,
    time_ms: u64,
    tx_ids: Vec<TxId>,
    /// `leaf_hash` of each id in `tx_ids`: the leaves of the block's `tx_root`.
    tx_leaves: Vec<merkle::Hash>,
    receipts: Vec<Receipt>,
    subjects: Vec<Vec<Digest>>,
}

impl<'a> Executor<'a> {
    /// An executor for block `height` at `time_ms` on `state`. Block 1 first writes the
    /// application's genesis state ([`Application::genesis_writes`]).
    pub(crate) fn new(
        ctx: &ChainContext<'a>,
        state: &'a dyn StateRead,
        height: u64,
        time_ms: u64,
    ) -> Result<Self, ExecError> {
        let overlay = if height == 1 {
            with_genesis(ctx.app, state)
        } else {
            Overlay::new(state)
        };
        let sets = SetState::load(state, ctx.validators).map_err(ExecError::CorruptState)?;
        // Activation happens after block A − 1, so no pending change may reach block A.
        if sets
            .pending
            .as_ref()
            .is_some_and(|pending| pending.change.activation_height <= height)
        {
            return Err(ExecError::CorruptState(StateError {
                key: keys::VALIDATORS_PENDING.to_vec(),
                reason: "a pending validator-set change outlived its activation height",
            }));
        }
        Ok(Self {
            app: ctx.app,
            sets,
            chain_id: ctx.chain_id,
            log: log_frontier(state).map_err(ExecError::CorruptState)?,
            log_nodes: Vec::new(),
            overlay,
            height,
            time_ms,
            tx_ids: Vec::new(),
            tx_leaves: Vec::new(),
            receipts: Vec::new(),
            subjects: Vec::new(),
        })
    }

    /// Makes room for `txs` more transactions and their writes, so that the overlay and the
    /// per-transaction lists do not grow (and rehash or copy) step by step. Only a hint: they
    /// still grow past it if needed.
    pub(crate) fn reserve(&mut self, txs: usize) {
        self.overlay.reserve(txs.saturating_mul(WRITES_PER_TX_HINT));
        self.tx_ids.reserve(txs);
        self.tx_leaves.reserve(txs);
        self.receipts.reserve(txs);
        self.subjects.reserve(txs);
    }

    /// Number of transactions applied so far.
    pub(crate) fn len(&self) -> usize {
        self.tx_ids.len()
    }

    /// Checks `tx` against the state so far and, if it passes, applies it. Every check comes
    /// before the first write, so a failure changes nothing.
    pub(crate) fn apply(&mut self, tx: &SignedTransaction, id: TxId) -> Result<(), ExecError> {
        self.apply_with_leaf(tx, id, merkle::leaf_hash(id.as_bytes()))
    }

    /// [`Executor::apply`] with the id's leaf, `leaf_hash(id)`, already computed.
    fn apply_with_leaf(
        &mut self,
        tx: &SignedTransaction,
        id: TxId,
        leaf: merkle::Hash,
    ) -> Result<(), ExecError> {
        let index = self.tx_ids.len();
        let reject = |reason| ExecError::InvalidTx { index, reason };
        check_tx_size(tx).map_err(reject)?;
        let signer = SignerState::load(&self.overlay, &tx.tx.signer)
            .map_err(|error| reject(TxReject::CorruptState(error)))?;
        signer.admits(tx.tx.nonce).map_err(reject)?;
        let position = u32::try_from(index)
            .ok()
            .filter(|position| *position < MAX_BLOCK_TXS)
            .ok_or(ExecError::TooManyTxs {
                count: index.saturating_add(1),
                max: MAX_BLOCK_TXS,
            })?;
        let tx_count = signer
            .tx_count
            .checked_add(1)
            .ok_or(reject(TxReject::CounterOverflow))?;
        let env = Env {
            chain_id: &self.chain_id,
            height: self.height,
            index: position,
            time_ms: self.time_ms,
            tx_id: id,
        };
        let outcome = match SignedSetChange::from_payload(&tx.tx.payload) {
            Some(Ok(change)) => {
                self.sets
                    .admit(&self.chain_id, tx, &change)
                    .map_err(|error| reject(TxReject::SetChange(error)))?;
                let code = activation_outcome(&change, self.height);
                let mut writes = Vec::new();
                if code.is_none() {
                    writes.push((keys::VALIDATORS_PENDING.to_vec(), Some(change.to_bytes())));
                    self.sets.pending = Some(change);
                }
                AppOutcome {
                    code: code.map_or(CODE_OK, |code| code.number()),
                    writes,
                    subjects: Vec::new(),
                }
            }
            Some(Err(error)) => {
                return Err(reject(TxReject::SetChange(SetChangeReject::Malformed(
                    error,
                ))))
            }
            None => {
                self.app
                    .execute(&self.overlay, &env, tx)
                    .map_err(|invalid| match act_reject(invalid) {
                        TxReject::CorruptState(error) => ExecError::CorruptState(error),
                        other => reject(other),
                    })?
            }
        };
        self.log
            .append_recording(leaf, &mut self.log_nodes)
            .map_err(|_| ExecError::LogFull)?;

        for (key, value) in outcome.writes {
            match value {
                Some(value) => self.overlay.put(key, value),
                None => self.overlay.delete(key),
            }
        }

        self.overlay.put(
            keys::signer_count(&tx.tx.signer),
            tx_count.to_be_bytes().to_vec(),
        );
        self.overlay.put(
            keys::signer_nonce(&tx.tx.signer),
            tx.tx.nonce.to_be_bytes().to_vec(),
        );
        self.tx_ids.push(id);
        self.tx_leaves.push(leaf);
        self.receipts.push(Receipt {
            tx_id: id,
            index: position,
            height: self.height,
            code: outcome.code,
        });
        self.subjects.push(outcome.subjects);
        Ok(())
    }

    /// Activates the pending validator-set change if the next height is its activation height,
    /// writes the log frontier and gathers the results.
    pub(crate) fn finish(self) -> Execution {
        let tx_root = Digest(merkle::root(&self.tx_leaves));
        self.finish_with_tx_root(tx_root)
    }

    /// [`Executor::finish`] with the `tx_root` of the applied transactions already computed.
    fn finish_with_tx_root(mut self, tx_root: Digest) -> Execution {
        debug_assert_eq!(tx_root, Digest(merkle::root(&self.tx_leaves)));
        let validators = self.sets.current.clone();
        let mut next_validators = validators.clone();
        let next_height = self.height.checked_add(1).expect("height below u64::MAX");
        if let Some(pending) = self.sets.pending.take() {
            let activation = pending.change.activation_height;
            assert!(
                activation >= next_height,
                "a pending change activating at {activation} outlived block {}",
                self.height
            );
            if activation == next_height {
                next_validators = pending
                    .change
                    .new_set()
                    .expect("an admitted change's members form a valid set");
                for (key, value) in activation_writes(&pending, self.sets.activated) {
                    match value {
                        Some(value) => self.overlay.put(key, value),
                        None => self.overlay.delete(key),
                    }
                }
            }
        }
        self.overlay
            .put(keys::LOG_FRONTIER.to_vec(), self.log.to_bytes());
        Execution {
            validators,
            next_validators,
            height: self.height,
            tx_root,
            results_root: results_root(&self.receipts),
            tx_ids: self.tx_ids,
            receipts: self.receipts,
            log: self.log,
            log_nodes: self.log_nodes,
            changes: self.overlay.into_changes(),
            subjects: self.subjects,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::AnchorApp;
    use courtledger_types::genesis::ConsensusParams;
    use courtledger_types::{Validator, ValidatorSet};

    fn test_ctx() -> ChainContext<'static> {
        let validators = ValidatorSet::new(vec![Validator {
            public_key: signer(9),
            voting_power: 1,
        }])
        .unwrap();
        ChainContext {
            chain_id: ChainId(sha256(b"c")),
            validators: Box::leak(Box::new(validators)),
            params: Box::leak(Box::new(ConsensusParams::default())),
            genesis_time_ms: 0,
            app: &AnchorApp,
        }
    }
    use crate::state::MemoryState;
    use courtledger_crypto::{sha256, ChainId, Signature, SigningKey};
    use courtledger_types::Transaction;

    fn signer(n: u8) -> PublicKey {
        SigningKey::from_seed(&[n; 32]).public_key()
    }

    fn unsigned(n: u8, nonce: u64, payload: Vec<u8>) -> SignedTransaction {
        SignedTransaction {
            tx: Transaction {
                signer: signer(n),
                nonce,
                payload,
            },
            signature: Signature([0; 64]),
        }
    }

    fn state_with(entries: &[(Vec<u8>, Vec<u8>)]) -> MemoryState {
        let mut state = MemoryState::new();
        let changes: Vec<StateChange> = entries
            .iter()
            .map(|(key, value)| StateChange {
                key: key.clone(),
                value: Some(value.clone()),
            })
            .collect();
        state.apply(&changes);
        state
    }

    #[test]
    fn encoded_tx_len_is_the_encoding_length() {
        for len in [0, 1, 100, 65_280, 70_000] {
            let tx = unsigned(1, 3, vec![7; len]);
            assert_eq!(encoded_tx_len(&tx), tx.to_bytes().len());
        }
        let signed = Transaction {
            signer: signer(1),
            nonce: 1,
            payload: b"x".to_vec(),
        }
        .sign(&SigningKey::from_seed(&[1; 32]), &ChainId(sha256(b"c")));
        assert_eq!(encoded_tx_len(&signed), signed.to_bytes().len());
    }

    #[test]
    fn stateless_rules() {
        assert_eq!(
            check_tx_stateless(&AnchorApp, &unsigned(1, 0, Vec::new())),
            Err(TxReject::Act(Invalid::Malformed(
                courtledger_codec::DecodeError::Invalid {
                    what: "anchor payload",
                    reason: "empty"
                }
            )))
        );
        assert_eq!(
            check_tx_stateless(&AnchorApp, &unsigned(1, 0, vec![0])),
            Ok(())
        );
        let max = usize::try_from(MAX_TX_PAYLOAD_BYTES).unwrap();
        assert_eq!(
            check_tx_stateless(&AnchorApp, &unsigned(1, 0, vec![0; max])),
            Ok(())
        );
        assert_eq!(
            check_tx_stateless(&AnchorApp, &unsigned(1, 0, vec![0; max + 1])),
            Err(TxReject::PayloadTooLarge {
                len: max + 1,
                max: MAX_TX_PAYLOAD_BYTES
            })
        );
        // The largest payload still fits the transaction bound.
        assert!(encoded_tx_len(&unsigned(1, 0, vec![0; max])) <= 64 * 1024);
    }

    #[test]
    fn nonce_rules() {
        let empty = MemoryState::new();
        // A first transaction has nonce 1; later ones may wait in a pool, within the lookahead.
        assert_eq!(
            check_tx(&test_ctx().rules(), &empty, &unsigned(1, 1, vec![1])),
            Ok(())
        );
        assert_eq!(
            check_tx(&test_ctx().rules(), &empty, &unsigned(1, 0, vec![1])),
            Err(TxReject::StaleNonce {
                nonce: 0,
                highest: 0
            })
        );
        assert_eq!(
            check_tx(&test_ctx().rules(), &empty, &unsigned(1, 2, vec![1])),
            Err(TxReject::NonceGap {
                nonce: 2,
                expected: 1
            })
        );
        assert_eq!(
            check_pending_tx(&test_ctx().rules(), &empty, &unsigned(1, 2, vec![1])),
            Ok(())
        );
        assert_eq!(
            check_pending_tx(
                &test_ctx().rules(),
                &empty,
                &unsigned(1, 1 + MAX_NONCE_LOOKAHEAD, vec![1])
            ),
            Err(TxReject::NonceTooFarAhead {
                nonce: 1 + MAX_NONCE_LOOKAHEAD,
                expected: 1
            })
        );
        let state = state_with(&[
            (keys::signer_count(&signer(1)), 2u64.to_be_bytes().to_vec()),
            (keys::signer_nonce(&signer(1)), 10u64.to_be_bytes().to_vec()),
        ]);
        assert_eq!(
            SignerState::load(&state, &signer(1)),
            Ok(SignerState {
                tx_count: 2,
                highest_nonce: Some(10)
            })
        );
        for nonce in [0, 9, 10] {
            assert_eq!(
                check_tx(&test_ctx().rules(), &state, &unsigned(1, nonce, vec![1])),
                Err(TxReject::StaleNonce { nonce, highest: 10 })
            );
            assert!(
                check_pending_tx(&test_ctx().rules(), &state, &unsigned(1, nonce, vec![1]))
                    .is_err()
            );
        }
        assert_eq!(
            check_tx(&test_ctx().rules(), &state, &unsigned(1, 11, vec![1])),
            Ok(())
        );
        assert_eq!(
            check_tx(&test_ctx().rules(), &state, &unsigned(1, 1_000, vec![1])),
            Err(TxReject::NonceGap {
                nonce: 1_000,
                expected: 11
            })
        );
        assert_eq!(
            check_pending_tx(&test_ctx().rules(), &state, &unsigned(1, 1_000, vec![1])),
            Ok(())
        );
        // Other signers are unaffected.
        assert_eq!(
            check_tx(&test_ctx().rules(), &state, &unsigned(2, 1, vec![1])),
            Ok(())
        );
        let full = state_with(&[
            (
                keys::signer_count(&signer(1)),
                u64::MAX.to_be_bytes().to_vec(),
            ),
            (keys::signer_nonce(&signer(1)), 10u64.to_be_bytes().to_vec()),
        ]);
        assert_eq!(
            check_tx(&test_ctx().rules(), &full, &unsigned(1, 11, vec![1])),
            Err(TxReject::CounterOverflow)
        );
    }

    #[test]
    fn damaged_signer_records_are_state_errors() {
        let count = keys::signer_count(&signer(1));
        let nonce = keys::signer_nonce(&signer(1));
        let one = 1u64.to_be_bytes().to_vec();
        let cases = [
            vec![(count.clone(), vec![0; 7]), (nonce.clone(), one.clone())],
            vec![(count.clone(), one.clone()), (nonce.clone(), vec![0; 9])],
            vec![(count.clone(), one.clone())],
            vec![(nonce.clone(), one.clone())],
            vec![(count.clone(), vec![0; 8]), (nonce.clone(), one.clone())],
        ];
        for entries in cases {
            let state = state_with(&entries);
            assert!(
                matches!(
                    check_tx(&test_ctx().rules(), &state, &unsigned(1, 5, vec![1])),
                    Err(TxReject::CorruptState(_))
                ),
                "{entries:?}"
            );
        }
        let state = state_with(&[(keys::LOG_FRONTIER.to_vec(), vec![0; 12])]);
        // size 0 with 0 nodes is the canonical empty frontier.
        assert_eq!(log_frontier(&state), Ok(Frontier::new()));
        let state = state_with(&[(keys::LOG_FRONTIER.to_vec(), vec![0; 13])]);
        assert!(log_frontier(&state).is_err());
        assert!(matches!(
            execute_block(&test_ctx(), &state, &[], 1, 1_000),
            Err(ExecError::CorruptState(_))
        ));
    }

    #[test]
    fn receipt_round_trip_and_results_root() {
        let receipt = Receipt {
            tx_id: sha256(b"t"),
            index: 3,
            height: 9,
            code: 5,
        };
        let bytes = receipt.to_bytes();
        assert_eq!(bytes.len(), courtledger_types::receipt::RECEIPT_BYTES);
        assert_eq!(Receipt::decode(&bytes), Ok(receipt));
        assert_eq!(results_root(&[]), Digest(merkle::empty_root()));
        assert_eq!(results_root(&[receipt]), Digest(merkle::leaf_hash(&bytes)));
    }

    #[test]
    fn tx_ids_are_the_ids_their_leaves_and_the_tx_root() {
        let empty = TxIds::of(&[]);
        assert_eq!(empty.root, courtledger_types::block::tx_root(&[]));
        assert!(empty.ids.is_empty() && empty.leaves.is_empty());

        let txs: Vec<SignedTransaction> = (1..=5).map(|n| unsigned(n, 1, vec![n])).collect();
        let ids = TxIds::of(&txs);
        let expected: Vec<TxId> = txs.iter().map(SignedTransaction::id).collect();
        assert_eq!(ids.ids, expected);
        assert_eq!(ids.root, courtledger_types::block::tx_root(&expected));
        for (id, leaf) in ids.ids.iter().zip(&ids.leaves) {
            assert_eq!(*leaf, merkle::leaf_hash(id.as_bytes()));
        }

        // Executing with them gives what applying one transaction at a time gives.
        let state = MemoryState::new();
        let ctx = test_ctx();
        let mut executor = Executor::new(&ctx, &state, 1, 1_000).unwrap();
        for tx in &txs {
            executor.apply(tx, tx.id()).unwrap();
        }
        let one_by_one = executor.finish();
        assert_eq!(one_by_one.tx_root, ids.root);
        assert_eq!(
            execute_with_ids(&ctx, &state, &txs, &ids, 1, 1_000).unwrap(),
            one_by_one
        );
    }

    #[test]
    fn a_rejected_transaction_leaves_no_trace() {
        let state = MemoryState::new();
        let ctx = test_ctx();
        let mut executor = Executor::new(&ctx, &state, 1, 1_000).unwrap();
        let good = unsigned(1, 1, vec![1]);
        executor.apply(&good, good.id()).unwrap();
        let stale = unsigned(1, 1, vec![2]);
        assert_eq!(
            executor.apply(&stale, stale.id()),
            Err(ExecError::InvalidTx {
                index: 1,
                reason: TxReject::StaleNonce {
                    nonce: 1,
                    highest: 1
                }
            })
        );
        let execution = executor.finish();
        assert_eq!(
            execution,
            execute_block(&ctx, &state, &[good], 1, 1_000).unwrap()
        );
    }
}
