//! The pool of signature-checked transactions waiting for a block.

use std::collections::{btree_map, BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use courtledger_crypto::{verify_batch, BatchItem, ChainId, PublicKey, SignatureError};
use courtledger_types::limits::MEMPOOL_WAITING_SHARE;
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

impl MempoolLimits {
    /// Most transactions that wait for a missing earlier nonce of their signer
    /// ([`MEMPOOL_WAITING_SHARE`]): the rest of the pool is kept for transactions that can go
    /// into the next block.
    pub fn max_waiting_txs(&self) -> usize {
        self.max_txs / MEMPOOL_WAITING_SHARE
    }
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
    /// The transaction would wait for a missing earlier nonce of its signer, and the pool
    /// already holds its most such transactions ([`MempoolLimits::max_waiting_txs`]):
    /// back-pressure, the submitter should send the missing nonce first or retry later.
    #[error(
        "nonce {nonce} waits for the signer's nonce {missing}, and the pool already holds its \
         most ({max}) transactions waiting for an earlier nonce"
    )]
    TooManyWaiting {
        nonce: u64,
        missing: u64,
        max: usize,
    },
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

impl MempoolError {
    /// Whether the refusal is back-pressure (the pool is full, or its share of transactions
    /// waiting for an earlier nonce is): the same transaction may be accepted later.
    pub fn is_backpressure(&self) -> bool {
        matches!(self, Self::Full { .. } | Self::TooManyWaiting { .. })
    }
}

#[derive(Debug, Clone)]
struct Entry {
    tx: SignedTransaction,
    bytes: usize,
    arrival: u64,
    /// An earlier nonce of the signer is neither committed nor pending: the transaction cannot
    /// go into a block until it arrives.
    waiting: bool,
}

/// One signer's pending transactions.
#[derive(Debug, Clone)]
struct SignerPool {
    /// Nonce → id, so that the signer's transactions iterate in nonce order.
    nonces: BTreeMap<u64, TxId>,
    /// The signer's next nonce in committed state, as last read; `None` when only
    /// [`Mempool::insert`] (which reads no state) added the signer's transactions: the lowest
    /// pending nonce is taken for it then.
    next: Option<u64>,
    /// The first nonce, from the signer's next one on, that is not pending: the signer's
    /// transactions below it can be executed in order, those above wait for it.
    ready_end: u64,
}

impl SignerPool {
    /// The nonce whose transaction would go into a block first.
    fn start(&self) -> Option<u64> {
        self.next.or_else(|| self.nonces.keys().next().copied())
    }

    /// The first nonce from `start` on that is not pending.
    fn first_missing(&self, start: u64) -> u64 {
        let mut missing = start;
        while self.nonces.contains_key(&missing) {
            missing = missing.saturating_add(1);
        }
        missing
    }

    /// The nonce a transaction of this signer must carry not to wait, `nonce` being the one of
    /// a transaction about to enter and `next_nonce` the signer's next in committed state if
    /// read.
    fn missing_for(&self, nonce: u64, next_nonce: Option<u64>) -> u64 {
        match (next_nonce, self.next) {
            (Some(next), Some(known)) if next == known => self.ready_end,
            (Some(next), _) => self.first_missing(next),
            (None, Some(_)) => self.ready_end,
            (None, None) => {
                self.first_missing(self.start().map_or(nonce, |start| start.min(nonce)))
            }
        }
    }
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
    /// Id → entry. A hash map: with a full pool (100,000 entries of a few hundred bytes) a
    /// B-tree search missed the cache at every level, and every admission searches it. Never
    /// iterated, so its order is never observed.
    entries: HashMap<TxId, Entry>,
    by_signer: BTreeMap<PublicKey, SignerPool>,
    /// Entries with `waiting` set.
    waiting: usize,
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
            entries: HashMap::new(),
            by_signer: BTreeMap::new(),
            waiting: 0,
            arrivals: BTreeMap::new(),
            next_arrival: 0,
            bytes: 0,
        }
    }

    /// The pool's limits.
    pub fn limits(&self) -> MempoolLimits {
        self.limits
    }

    /// Number of pending transactions waiting for a missing earlier nonce of their signer (at
    /// most [`MempoolLimits::max_waiting_txs`], except after [`Mempool::prune`] found more).
    pub fn waiting(&self) -> usize {
        self.waiting
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
    /// ([`MempoolError::NonceTaken`]), room left ([`MempoolError::Full`]), and room left for
    /// one more transaction waiting for an earlier nonce if it is one
    /// ([`MempoolError::TooManyWaiting`]). It does not look at committed state
    /// ([`Mempool::verify_and_insert`] does): the first pending transaction of a signer is taken
    /// to carry the signer's next nonce, until [`Mempool::prune`] reads the state.
    pub fn insert(&mut self, tx: SignedTransaction, id: TxId) -> Result<(), MempoolError> {
        self.insert_with(tx, id, Stateless::Check, None)
    }

    /// [`Mempool::insert`], skipping the stateless checks when the caller has just passed them
    /// for this very transaction (their verdict depends on the transaction alone), and given
    /// the signer's next nonce in committed state when the caller read it.
    fn insert_with(
        &mut self,
        tx: SignedTransaction,
        id: TxId,
        stateless: Stateless,
        next_nonce: Option<u64>,
    ) -> Result<(), MempoolError> {
        debug_assert_eq!(tx.id(), id, "insert: the id is not the transaction's");
        let bytes = self.admission(&tx, &id, stateless, next_nonce, false)?;
        self.bytes = self.bytes.saturating_add(bytes);
        let arrival = self.next_arrival;
        self.next_arrival = self.next_arrival.saturating_add(1);
        self.arrivals.insert(arrival, id);
        let nonce = tx.tx.nonce;
        let signer_key = tx.tx.signer;
        let signer = self
            .by_signer
            .entry(signer_key)
            .or_insert_with(|| SignerPool {
                nonces: BTreeMap::new(),
                next: next_nonce,
                ready_end: next_nonce.unwrap_or(nonce),
            });
        // Where the signer's ready run starts changed (a commit not yet pruned, or, without
        // state, a nonce below the lowest pending): tell all of the signer's again.
        let restart = match next_nonce {
            Some(next) => signer.next != Some(next),
            None => signer.next.is_none() && signer.start().is_some_and(|start| nonce < start),
        };
        if let Some(next) = next_nonce {
            signer.next = Some(next);
        }
        signer.nonces.insert(nonce, id);
        let waiting = nonce != signer.ready_end;
        if !restart && waiting {
            self.waiting += 1;
        }
        self.entries.insert(
            id,
            Entry {
                tx,
                bytes,
                arrival,
                waiting: !restart && waiting,
            },
        );
        if restart {
            let start = self.by_signer.get(&signer_key).and_then(SignerPool::start);
            if let Some(start) = start {
                self.reclassify(&signer_key, start);
            }
        } else if !waiting {
            // The missing nonce arrived: it and the waiting ones right after it can go now.
            self.promote_after(&signer_key, nonce);
        }
        Ok(())
    }

    /// Makes `signer`'s transactions right after `nonce` (ready) ready, up to the next missing
    /// nonce.
    fn promote_after(&mut self, signer: &PublicKey, nonce: u64) {
        let Some(pool) = self.by_signer.get_mut(signer) else {
            return;
        };
        pool.ready_end = nonce.saturating_add(1);
        while let Some(id) = pool.nonces.get(&pool.ready_end) {
            if let Some(entry) = self.entries.get_mut(id) {
                debug_assert!(
                    entry.waiting,
                    "a transaction after the ready ones was ready"
                );
                if entry.waiting {
                    entry.waiting = false;
                    self.waiting -= 1;
                }
            }
            pool.ready_end = pool.ready_end.saturating_add(1);
        }
    }

    fn rules(&self) -> Rules<'_> {
        Rules {
            app: self.app.as_ref(),
            chain_id: &self.chain_id,
            genesis_validators: &self.genesis_validators,
        }
    }

    /// The checks of [`Mempool::insert`]; the transaction's encoded length if it may enter.
    /// `predecessor_first`: the signer's previous nonce is about to enter before it (earlier
    /// in the same submission), so whether it will wait is left to the check on insertion.
    fn admission(
        &self,
        tx: &SignedTransaction,
        id: &TxId,
        stateless: Stateless,
        next_nonce: Option<u64>,
        predecessor_first: bool,
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
        let signer = self.by_signer.get(&tx.tx.signer);
        if let Some(pending) = signer.and_then(|signer| signer.nonces.get(&tx.tx.nonce)) {
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
        let missing = signer.map_or(next_nonce.unwrap_or(tx.tx.nonce), |signer| {
            signer.missing_for(tx.tx.nonce, next_nonce)
        });
        let max = self.limits.max_waiting_txs();
        if tx.tx.nonce != missing && !predecessor_first && self.waiting >= max {
            return Err(MempoolError::TooManyWaiting {
                nonce: tx.tx.nonce,
                missing,
                max,
            });
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
    /// ([`MempoolError::Duplicate`]); arriving while the pool is full ([`MempoolError::Full`],
    /// before any other check, so that back-pressure costs no state reads); committed
    /// (`is_committed`, [`MempoolError::Committed`]), failing
    /// [`check_pending_tx`](crate::check_pending_tx) on `state` ([`MempoolError::Invalid`], e.g.
    /// a stale nonce), too large for the pool, a taken nonce, or arriving while the pool's share
    /// of transactions waiting for an earlier nonce is full. If the batch fails,
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
        // Signer (its encoding) and nonce of the transactions that passed the checks so far:
        // membership only, no order observed.
        let mut passed: HashSet<([u8; 32], u64)> = HashSet::with_capacity(txs.len());
        let mut results: Vec<Result<TxId, MempoolError>> = Vec::with_capacity(txs.len());
        // Each signer's next nonce in committed state, as `precheck` read it.
        let mut next_nonces: Vec<Option<u64>> = Vec::with_capacity(txs.len());
        // Whether committed state is still before block 1: read once for the submission.
        let before_first_block = before_first_block(state);
        for tx in &txs {
            let id = tx.id();
            let verdict = if !seen.insert(id) {
                Err(MempoolError::Duplicate)
            } else {
                let predecessor_first =
                    tx.tx.nonce.checked_sub(1).is_some_and(|previous| {
                        passed.contains(&(tx.tx.signer.to_bytes(), previous))
                    });
                self.precheck(
                    tx,
                    &id,
                    state,
                    before_first_block,
                    is_committed,
                    predecessor_first,
                )
            };
            if verdict.is_ok() {
                passed.insert((tx.tx.signer.to_bytes(), tx.tx.nonce));
            }
            next_nonces.push(verdict.as_ref().ok().copied());
            results.push(verdict.map(|_| id));
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

        for ((tx, result), next_nonce) in txs.into_iter().zip(results.iter_mut()).zip(next_nonces) {
            if let Ok(id) = result {
                let id = *id;
                // `precheck` passed the stateless checks for this transaction.
                if let Err(error) = self.insert_with(tx, id, Stateless::Passed, next_nonce) {
                    *result = Err(error);
                }
            }
        }
        results
    }

    /// The checks of [`Mempool::verify_and_insert`] before the signature; the signer's next
    /// nonce in committed `state` if the transaction passes.
    fn precheck(
        &self,
        tx: &SignedTransaction,
        id: &TxId,
        state: &dyn StateRead,
        before_first_block: bool,
        is_committed: &dyn Fn(&TxId) -> bool,
        predecessor_first: bool,
    ) -> Result<u64, MempoolError> {
        if self.contains(id) {
            return Err(MempoolError::Duplicate);
        }
        // Back-pressure first: a full pool refuses without reading state or checking the
        // payload (the submitter retries later and hears any other verdict then).
        let bytes = encoded_tx_len(tx);
        if bytes <= self.limits.max_bytes
            && (self.entries.len() >= self.limits.max_txs
                || self.bytes.saturating_add(bytes) > self.limits.max_bytes)
        {
            return Err(self.full());
        }
        // `is_committed` (an index read) is asked only when `check_pending_tx` refuses: a
        // committed transaction always fails it, because its nonce is at or below its signer's
        // highest committed nonce (state and index are committed together). So a transaction
        // that passes is not committed, and the verdicts are those of asking `is_committed`
        // first, without a read per admitted transaction.
        let next_nonce = match check_pending_tx_at(&self.rules(), state, before_first_block, tx) {
            Ok(next_nonce) => next_nonce,
            Err(reject) => {
                if is_committed(id) {
                    return Err(MempoolError::Committed);
                }
                return Err(MempoolError::Invalid(reject));
            }
        };
        // The remaining checks of `insert`, so that no signature is verified in vain.
        self.admission(
            tx,
            id,
            Stateless::Check,
            Some(next_nonce),
            predecessor_first,
        )
        .map(|_| next_nonce)
    }

    /// Up to `max_txs` transactions of at most `max_bytes` encoded bytes in all, for a block.
    ///
    /// The order is arrival order across signers, and each signer's transactions in ascending
    /// nonce order: the k-th transaction of a signer in the selection takes the place where the
    /// signer's k-th arrival was. A transaction that does not fit in the bytes left is skipped
    /// together with the rest of its signer's, so that none of its higher nonces overtakes it.
    /// Transactions waiting for a missing earlier nonce are not selected: no block on the
    /// committed state can hold them.
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
                    .map(|signer| signer.nonces.values())
                    .unwrap_or_default()
            });
            let Some(entry) = cursor.next().and_then(|id| self.entries.get(id)) else {
                continue;
            };
            if entry.waiting || bytes.saturating_add(entry.bytes) > max_bytes {
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
            .and_then(|signer| signer.nonces.keys().next_back())
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
    /// signer that may no longer sign, e.g. revoked); returns their ids. Then tells again, from
    /// each signer's next nonce in `state`, which transactions wait for a missing one.
    pub fn prune(&mut self, state: &dyn StateRead) -> Vec<TxId> {
        let mut stale = Vec::new();
        let mut next_nonces: Vec<(PublicKey, u64)> = Vec::with_capacity(self.by_signer.len());
        // One read for the whole pool, not one per signer.
        let before_first_block = before_first_block(state);
        let rules = self.rules();
        for (signer, SignerPool { nonces, .. }) in &self.by_signer {
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
                Ok(records) => {
                    stale.extend(
                        nonces
                            .iter()
                            .filter(|(nonce, _)| records.admits_later(**nonce).is_err())
                            .map(|(_, id)| *id),
                    );
                    if let Some(next) = records.next_nonce() {
                        next_nonces.push((*signer, next));
                    }
                }
                Err(_) => stale.extend(nonces.values().copied()),
            }
        }
        for id in &stale {
            self.remove(id);
        }
        for (signer, next) in next_nonces {
            let Some(pool) = self.by_signer.get_mut(&signer) else {
                continue;
            };
            // The ready run `[known next, ready_end)` lost only nonces below `next` from its
            // bottom (committed or stale ones; a pending nonce at or above `next` is never stale,
            // being less than `MAX_NONCE_LOOKAHEAD` above a smaller next nonce, and one that
            // leaves from above the bottom lowers `ready_end` in `remove`): when it reaches
            // `next`, what is left of it is still ready, `ready_end` is still missing and every
            // transaction after it still waits. Then nothing needs telling again, and a full
            // pool does not pay a walk over every pending transaction per block.
            let intact = pool.next.is_some_and(|known| known <= next) && pool.ready_end >= next;
            pool.next = Some(next);
            if !intact {
                self.reclassify(&signer, next);
            }
        }
        stale
    }

    /// Tells again which of `signer`'s pending transactions wait for a missing nonce, its ready
    /// run starting at `start`.
    fn reclassify(&mut self, signer: &PublicKey, start: u64) {
        let Some(pool) = self.by_signer.get_mut(signer) else {
            return;
        };
        let mut ready_end = start;
        for (nonce, id) in &pool.nonces {
            let waiting = *nonce != ready_end;
            if !waiting {
                ready_end = ready_end.saturating_add(1);
            }
            if let Some(entry) = self.entries.get_mut(id) {
                match (entry.waiting, waiting) {
                    (false, true) => self.waiting += 1,
                    (true, false) => self.waiting -= 1,
                    _ => {}
                }
                entry.waiting = waiting;
            }
        }
        pool.ready_end = ready_end;
    }

    fn remove(&mut self, id: &TxId) -> Option<SignedTransaction> {
        let entry = self.entries.remove(id)?;
        self.bytes = self.bytes.saturating_sub(entry.bytes);
        self.arrivals.remove(&entry.arrival);
        if entry.waiting {
            self.waiting -= 1;
        }
        let nonce = entry.tx.tx.nonce;
        if let Some(signer) = self.by_signer.get_mut(&entry.tx.tx.signer) {
            signer.nonces.remove(&nonce);
            if signer.nonces.is_empty() {
                self.by_signer.remove(&entry.tx.tx.signer);
            } else if !entry.waiting
                && nonce < signer.ready_end
                && signer
                    .nonces
                    .keys()
                    .next()
                    .is_some_and(|lowest| *lowest < nonce)
            {
                // A ready transaction left from the middle or the top of its signer's run (not
                // the bottom, as a commit takes them): its nonce is missing now, and the ones
                // after it wait for it.
                let old_end = signer.ready_end;
                signer.ready_end = nonce;
                for id in signer.nonces.range(nonce..old_end).map(|(_, id)| id) {
                    if let Some(later) = self.entries.get_mut(id) {
                        if !later.waiting {
                            later.waiting = true;
                            self.waiting += 1;
                        }
                    }
                }
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
