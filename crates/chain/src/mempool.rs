//! The pool of signature-checked transactions waiting for a block.

use std::collections::{btree_map, BTreeMap, BTreeSet};
use std::sync::Arc;

use courtledger_crypto::{verify_batch, BatchItem, ChainId, PublicKey, SignatureError};
use courtledger_types::{SignedTransaction, TxId, ValidatorSet};
use thiserror::Error;

use crate::app::Application;
use crate::exec::{
    admit_payload, before_first_block, check_pending_tx_at, check_tx_stateless, encoded_tx_len,
    Rules, SignerState, TxReject,
};
use crate::limits::TX_OVERHEAD_BYTES;
use crate::state::StateRead;

/// How much a [`Mempool`] holds at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MempoolLimits {
    /// Most transactions.
    pub max_txs: usize,
    /// Most bytes, summing the transactions' encoded lengths.
    pub max_bytes: usize,
}

/// Why a transaction was not admitted to the pool.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MempoolError {
    /// The transaction is already in the pool (or earlier in the same submission).
    #[error("the transaction is already pending")]
    Duplicate,
    /// The transaction is already in a committed block.
    #[error("the transaction is already committed")]
    Committed,
    /// The transaction cannot be executed on the committed state (stale nonce, bad payload).
    #[error("the transaction is invalid: {0}")]
    Invalid(TxReject),
    /// Another transaction of the same signer with the same nonce is pending.
    #[error("the signer already has pending transaction {pending} with nonce {nonce}")]
    NonceTaken { nonce: u64, pending: TxId },
    /// The pool is full: back-pressure, the submitter should retry later.
    #[error("the pool is full (at most {max_txs} transactions and {max_bytes} bytes)")]
    Full { max_txs: usize, max_bytes: usize },
    /// The transaction alone is larger than the whole pool may hold.
    #[error("the transaction is {bytes} bytes, more than the pool's {max} bytes")]
    Oversized { bytes: usize, max: usize },
    /// The signature is invalid.
    #[error("the signature is invalid: {0}")]
    BadSignature(SignatureError),
}

/// Whether [`Mempool::admission`] runs the stateless checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stateless {
    /// Run them.
    Check,
    /// The caller has just passed them for this transaction.
    Passed,
}

#[derive(Debug, Clone)]
struct Entry {
    tx: SignedTransaction,
    bytes: usize,
    arrival: u64,
}

/// A bounded pool of transactions whose signatures have been verified.
///
/// Because only verified transactions enter, [`Mempool::contains`] doubles as the verify-once
/// cache: the node passes it as `already_verified` to [`crate::validate_block`].
///
/// At most one transaction per signer and nonce is pending. [`Mempool::select`] gives
/// transactions in arrival order across signers, each signer's in ascending nonce order.
#[derive(Debug, Clone)]
pub struct Mempool {
    app: Arc<dyn Application>,
    chain_id: ChainId,
    genesis_validators: ValidatorSet,
    limits: MempoolLimits,
    entries: BTreeMap<TxId, Entry>,
    /// Per signer: nonce → id, so a signer's transactions iterate in nonce order.
    by_signer: BTreeMap<PublicKey, BTreeMap<u64, TxId>>,
    /// Arrival number → id.
    arrivals: BTreeMap<u64, TxId>,
    next_arrival: u64,
    bytes: usize,
}

impl Mempool {
    /// An empty pool with these limits, for transactions of `app` on the chain `chain_id` whose
    /// genesis validator set is `genesis_validators`.
    pub fn new(
        limits: MempoolLimits,
        app: Arc<dyn Application>,
        chain_id: ChainId,
        genesis_validators: ValidatorSet,
    ) -> Self {
        Self {
            app,
            chain_id,
            genesis_validators,
            limits,
            entries: BTreeMap::new(),
            by_signer: BTreeMap::new(),
            arrivals: BTreeMap::new(),
            next_arrival: 0,
            bytes: 0,
        }
    }

    /// The pool's limits.
    pub fn limits(&self) -> MempoolLimits {
        self.limits
    }

    /// Number of pending transactions.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Sum of the pending transactions' encoded lengths.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Whether `id` is pending (and so its signature was verified).
    pub fn contains(&self, id: &TxId) -> bool {
        self.entries.contains_key(id)
    }

    /// The pending transaction `id`.
    pub fn get(&self, id: &TxId) -> Option<&SignedTransaction> {
        self.entries.get(id).map(|entry| &entry.tx)
    }

    /// Admits `tx`, whose id is `id` and whose signature the caller has verified.
    ///
    /// Checks, in order: not pending ([`MempoolError::Duplicate`]), the stateless transaction
    /// checks ([`MempoolError::Invalid`]), not larger than the pool
    /// ([`MempoolError::Oversized`]), no pending transaction with the same signer and nonce
    /// ([`MempoolError::NonceTaken`]), room left ([`MempoolError::Full`]). It does not look at
    /// committed state: [`Mempool::verify_and_insert`] does.
    pub fn insert(&mut self, tx: SignedTransaction, id: TxId) -> Result<(), MempoolError> {
        self.insert_with(tx, id, Stateless::Check)
    }

    /// [`Mempool::insert`], skipping the stateless checks when the caller has just passed them
    /// for this very transaction (their verdict depends on the transaction alone).
    fn insert_with(
        &mut self,
        tx: SignedTransaction,
        id: TxId,
        stateless: Stateless,
    ) -> Result<(), MempoolError> {
        debug_assert_eq!(tx.id(), id, "insert: the id is not the transaction's");
        let bytes = self.admission(&tx, &id, stateless)?;
        self.bytes = self.bytes.saturating_add(bytes);
        let arrival = self.next_arrival;
        self.next_arrival = self.next_arrival.saturating_add(1);
        self.arrivals.insert(arrival, id);
        self.by_signer
            .entry(tx.tx.signer)
            .or_default()
            .insert(tx.tx.nonce, id);
        self.entries.insert(id, Entry { tx, bytes, arrival });
        Ok(())
    }

    fn rules(&self) -> Rules<'_> {
        Rules {
            app: self.app.as_ref(),
            chain_id: &self.chain_id,
            genesis_validators: &self.genesis_validators,
        }
    }

    /// The checks of [`Mempool::insert`]; the transaction's encoded length if it may enter.
    fn admission(
        &self,
        tx: &SignedTransaction,
        id: &TxId,
        stateless: Stateless,
    ) -> Result<usize, MempoolError> {
        if self.contains(id) {
            return Err(MempoolError::Duplicate);
        }
        if stateless == Stateless::Check {
            check_tx_stateless(self.app.as_ref(), tx).map_err(MempoolError::Invalid)?;
        }
        let bytes = encoded_tx_len(tx);
        if bytes > self.limits.max_bytes {
            return Err(MempoolError::Oversized {
                bytes,
                max: self.limits.max_bytes,
            });
        }
        if let Some(pending) = self
            .by_signer
            .get(&tx.tx.signer)
            .and_then(|nonces| nonces.get(&tx.tx.nonce))
        {
            return Err(MempoolError::NonceTaken {
                nonce: tx.tx.nonce,
                pending: *pending,
            });
        }
        if self.entries.len() >= self.limits.max_txs
            || self.bytes.saturating_add(bytes) > self.limits.max_bytes
        {
            return Err(self.full());
        }
        Ok(bytes)
    }

    fn full(&self) -> MempoolError {
        MempoolError::Full {
            max_txs: self.limits.max_txs,
            max_bytes: self.limits.max_bytes,
        }
    }

    /// Admits submitted transactions: checks each against the pool and committed `state`,
    /// verifies the signatures of those that pass as one batch, and inserts the valid ones in
    /// input order. Returns one result per input, in input order.
    ///
    /// Refused before any signature is checked: a transaction pending or earlier in `txs`
    /// ([`MempoolError::Duplicate`]), committed (`is_committed`, [`MempoolError::Committed`]),
    /// failing [`check_pending_tx`](crate::check_pending_tx) on `state` ([`MempoolError::Invalid`], e.g. a stale nonce), too
    /// large for the pool, a taken nonce, or arriving while the pool is full. If the batch fails,
    /// the signatures are checked one by one, so a bad signature refuses only its own
    /// transaction ([`MempoolError::BadSignature`]).
    pub fn verify_and_insert(
        &mut self,
        chain_id: &ChainId,
        txs: Vec<SignedTransaction>,
        state: &dyn StateRead,
        is_committed: &dyn Fn(&TxId) -> bool,
    ) -> Vec<Result<TxId, MempoolError>> {
        let mut seen = BTreeSet::new();
        let mut results: Vec<Result<TxId, MempoolError>> = Vec::with_capacity(txs.len());
        // Whether committed state is still before block 1: read once for the submission.
        let before_first_block = before_first_block(state);
        for tx in &txs {
            let id = tx.id();
            let verdict = if !seen.insert(id) {
                Err(MempoolError::Duplicate)
            } else {
                self.precheck(tx, &id, state, before_first_block, is_committed)
                    .map(|()| id)
            };
            results.push(verdict);
        }

        let candidates: Vec<usize> = results
            .iter()
            .enumerate()
            .filter(|(_, result)| result.is_ok())
            .map(|(index, _)| index)
            .collect();
        for (index, error) in bad_signatures(chain_id, &txs, &candidates) {
            if let Some(result) = results.get_mut(index) {
                *result = Err(MempoolError::BadSignature(error));
            }
        }

        for (tx, result) in txs.into_iter().zip(results.iter_mut()) {
            if let Ok(id) = result {
                let id = *id;
                // `precheck` passed the stateless checks for this transaction.
                if let Err(error) = self.insert_with(tx, id, Stateless::Passed) {
                    *result = Err(error);
                }
            }
        }
        results
    }

    fn precheck(
        &self,
        tx: &SignedTransaction,
        id: &TxId,
        state: &dyn StateRead,
        before_first_block: bool,
        is_committed: &dyn Fn(&TxId) -> bool,
    ) -> Result<(), MempoolError> {
        if self.contains(id) {
            return Err(MempoolError::Duplicate);
        }
        // `is_committed` (an index read) is asked only when `check_pending_tx` refuses: a
        // committed transaction always fails it, because its nonce is at or below its signer's
        // highest committed nonce (state and index are committed together). So a transaction
        // that passes is not committed, and the verdicts are those of asking `is_committed`
        // first, without a read per admitted transaction.
        if let Err(reject) = check_pending_tx_at(&self.rules(), state, before_first_block, tx) {
            if is_committed(id) {
                return Err(MempoolError::Committed);
            }
            return Err(MempoolError::Invalid(reject));
        }
        // The remaining checks of `insert`, so that no signature is verified in vain.
        self.admission(tx, id, Stateless::Check).map(|_| ())
    }

    /// Up to `max_txs` transactions of at most `max_bytes` encoded bytes in all, for a block.
    ///
    /// The order is arrival order across signers, and each signer's transactions in ascending
    /// nonce order: the k-th transaction of a signer in the selection takes the place where the
    /// signer's k-th arrival was. A transaction that does not fit in the bytes left is skipped
    /// together with the rest of its signer's, so that none of its higher nonces overtakes it.
    ///
    /// The limits are a block's ([`crate::ChainContext::max_block_txs`], and
    /// [`crate::ChainContext::max_block_bytes`] less [`crate::limits::BLOCK_OVERHEAD_BYTES`] to
    /// be exact; [`crate::build_block`] enforces the block's own limits anyway).
    pub fn select(&self, max_txs: u32, max_bytes: u32) -> Vec<SignedTransaction> {
        let max_txs = usize::try_from(max_txs).unwrap_or(usize::MAX);
        let max_bytes = usize::try_from(max_bytes).unwrap_or(usize::MAX);
        let smallest_tx = TX_OVERHEAD_BYTES + 1;
        let mut selected = Vec::new();
        let mut bytes: usize = 0;
        let mut cursors: BTreeMap<PublicKey, btree_map::Values<'_, u64, TxId>> = BTreeMap::new();
        let mut held_back: BTreeSet<PublicKey> = BTreeSet::new();
        for id in self.arrivals.values() {
            if selected.len() >= max_txs || max_bytes.saturating_sub(bytes) < smallest_tx {
                break;
            }
            let Some(arrived) = self.entries.get(id) else {
                continue;
            };
            let signer = arrived.tx.tx.signer;
            if held_back.contains(&signer) {
                continue;
            }
            let cursor = cursors.entry(signer).or_insert_with(|| {
                self.by_signer
                    .get(&signer)
                    .map(BTreeMap::values)
                    .unwrap_or_default()
            });
            let Some(entry) = cursor.next().and_then(|id| self.entries.get(id)) else {
                continue;
            };
            if bytes.saturating_add(entry.bytes) > max_bytes {
                held_back.insert(signer);
                continue;
            }
            bytes = bytes.saturating_add(entry.bytes);
            selected.push(entry.tx.clone());
        }
        selected
    }

    /// The nonce `signer`'s next new transaction should carry: one above the highest pending
    /// one, or the next one `state` expects. `None` when the signer's records are damaged or
    /// its nonces are exhausted.
    pub fn next_nonce(&self, signer: &PublicKey, state: &dyn StateRead) -> Option<u64> {
        let committed_next = SignerState::load(state, signer).ok()?.next_nonce()?;
        let pending_next = self
            .by_signer
            .get(signer)
            .and_then(|nonces| nonces.keys().next_back())
            .and_then(|highest| highest.checked_add(1));
        Some(pending_next.map_or(committed_next, |pending| pending.max(committed_next)))
    }

    /// Removes committed transactions; returns how many were pending.
    pub fn remove_committed<'a>(&mut self, ids: impl IntoIterator<Item = &'a TxId>) -> usize {
        ids.into_iter()
            .filter(|id| self.remove(id).is_some())
            .count()
    }

    /// Removes every transaction that [`check_pending_tx`](crate::check_pending_tx) now rejects on `state` (after a commit:
    /// those whose nonce is at or below their signer's highest committed nonce, and all of a
    /// signer that may no longer sign, e.g. revoked); returns their ids.
    pub fn prune(&mut self, state: &dyn StateRead) -> Vec<TxId> {
        let mut stale = Vec::new();
        // One read for the whole pool, not one per signer.
        let before_first_block = before_first_block(state);
        let rules = self.rules();
        for (signer, nonces) in &self.by_signer {
            let admitted = nonces
                .values()
                .next()
                .and_then(|id| self.entries.get(id))
                .is_some_and(|entry| {
                    admit_payload(&rules, state, before_first_block, &entry.tx).is_ok()
                });
            if !admitted {
                stale.extend(nonces.values().copied());
                continue;
            }
            match SignerState::load(state, signer) {
                Ok(records) => stale.extend(
                    nonces
                        .iter()
                        .filter(|(nonce, _)| records.admits_later(**nonce).is_err())
                        .map(|(_, id)| *id),
                ),
                Err(_) => stale.extend(nonces.values().copied()),
            }
        }
        for id in &stale {
            self.remove(id);
        }
        stale
    }

    fn remove(&mut self, id: &TxId) -> Option<SignedTransaction> {
        let entry = self.entries.remove(id)?;
        self.bytes = self.bytes.saturating_sub(entry.bytes);
        self.arrivals.remove(&entry.arrival);
        if let Some(nonces) = self.by_signer.get_mut(&entry.tx.tx.signer) {
            nonces.remove(&entry.tx.tx.nonce);
            if nonces.is_empty() {
                self.by_signer.remove(&entry.tx.tx.signer);
            }
        }
        Some(entry.tx)
    }
}

/// The indices (into `txs`) among `candidates` whose signatures are invalid, with their errors.
///
/// One batch first; if it fails at position `p`, the candidates before `p` are valid (the batch
/// reports the lowest failure), `p` is not, and the rest are checked one by one.
fn bad_signatures(
    chain_id: &ChainId,
    txs: &[SignedTransaction],
    candidates: &[usize],
) -> Vec<(usize, SignatureError)> {
    let messages: Vec<Vec<u8>> = candidates
        .iter()
        .map(|index| txs[*index].signed_bytes())
        .collect();
    let items: Vec<BatchItem<'_>> = candidates
        .iter()
        .zip(&messages)
        .map(|(index, message)| txs[*index].batch_item(chain_id, message))
        .collect();
    let Err(failure) = verify_batch(&items) else {
        return Vec::new();
    };
    let mut bad = Vec::new();
    if let Some(index) = candidates.get(failure.index) {
        bad.push((*index, failure.error));
    }
    for index in candidates.iter().skip(failure.index.saturating_add(1)) {
        if let Err(error) = txs[*index].verify_signature(chain_id) {
            bad.push((*index, error));
        }
    }
    bad
}
