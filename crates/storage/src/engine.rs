//! Everything both stores share: opening, the checks on an appended block, the batch it
//! becomes, and decoding (with consistency checks) on read.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Bound;
use std::sync::Mutex;

use courtledger_codec::{decode_exact, DecodeError, Encode};
use courtledger_crypto::{ChainId, Digest};
use courtledger_merkle::{leaf_hash, Frontier, Hash, LogNode};
use courtledger_types::block::tx_root;
use courtledger_types::limits::{
    MAX_BLOCK_BYTES, STATE_PENDING_MAX_BLOCKS, STATE_PENDING_MAX_BYTES,
};
use courtledger_types::{Block, BlockHeader, BlockId, CommitCertificate, Receipt, TxId};

use crate::backend::{Backend, Op};
use crate::error::{Corruption, StorageError};
use crate::layout::{
    chunk_key, chunk_leaves, chunk_subtree, decode_receipt_at, decode_receipts, decode_state_diff,
    encode_receipts, encode_state_diff, height_key, log_key, oversized_change, prefix_end, Column,
    TxLocation, CHAIN_ID_KEY, LAST_HEIGHT_KEY, LEAF_BYTES, LOG_CHUNK_BYTES, LOG_CHUNK_LEAVES,
    LOG_CHUNK_LEVEL, MAX_STATE_SCAN, SCHEMA_VERSION, SCHEMA_VERSION_KEY, STATE_HEIGHT_KEY,
};
use crate::{CommittedBlock, ConsensusRecord, StateChange, StateEntry};

/// A store over some backend: the chain it holds, its tip, and whether it may still write.
#[derive(Debug, Clone)]
pub(crate) struct Engine<B> {
    backend: B,
    chain_id: ChainId,
    last_height: u64,
    /// The id of the header at `last_height`; the chain id's digest while `last_height` is 0.
    last_block_id: BlockId,
    /// The right edge of the history log after `last_height` (its size is that header's
    /// `log_size`): the next block's log nodes are checked against it without a read.
    log: Frontier,
    /// The leaf hashes (32 bytes each) of the log's last chunk if it is partial (`log_size %
    /// 16` of them; empty when the log ends on a chunk boundary): the next block rewrites that
    /// chunk in full without reading it.
    log_tail: Vec<u8>,
    /// The state and index writes of the blocks above `pending.height`, not yet in their
    /// columns.
    pending: Pending,
    /// Values read from the `state` column since it last changed.
    cache: StateCache,
    /// Set when a write failed: its outcome on disk is unknown, so no further write is made.
    needs_reopen: bool,
}

/// The writes of the blocks above `height` to the `state` and `tx_index` columns, which those
/// columns do not hold yet: each block's are in its `state_diffs` record, and all of them here,
/// where reads look first.
///
/// Why: a block's writes land at random places of those columns; writing each block's into
/// RocksDB cost a memtable skiplist search per key, and reading the hot keys back (signers'
/// nonces and identities) another, a fifth of a validator's CPU at peak
/// (`docs/performance.md`). Here they cost a `BTreeMap` operation, and reach RocksDB every few
/// seconds as one batch in key order, which its skiplist inserts in sequence.
#[derive(Debug, Clone, Default)]
struct Pending {
    /// The height up to which the columns hold every block's writes (`state_height` on disk).
    height: u64,
    /// Key → the value after the last block (`None`: deleted).
    state: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    /// Transaction id → its first location, for the transactions first committed above
    /// `height`.
    index: BTreeMap<TxId, TxLocation>,
    /// Bytes of the `state_diffs` records above `height`: the bound on this memory and on the
    /// replay on opening ([`STATE_PENDING_MAX_BYTES`]).
    bytes: usize,
}

/// Values of the `state` column (or their absence) as read since the column last changed:
/// it changes only when pending writes move into it, which clears this. Reads of keys that no
/// recent block wrote (signers' identities, courts) come from here instead of RocksDB's
/// memtable and tables. At most [`STATE_CACHE_ENTRIES`] entries; full, it starts over.
#[derive(Debug, Default)]
struct StateCache(Mutex<HashMap<Vec<u8>, Option<Vec<u8>>>>);

/// Most entries in [`StateCache`]: with values of a few hundred bytes, a few MiB.
const STATE_CACHE_ENTRIES: usize = 16_384;

impl StateCache {
    fn get(&self, key: &[u8]) -> Option<Option<Vec<u8>>> {
        self.0.lock().ok()?.get(key).cloned()
    }

    fn insert(&self, key: &[u8], value: &Option<Vec<u8>>) {
        if let Ok(mut cache) = self.0.lock() {
            if cache.len() >= STATE_CACHE_ENTRIES {
                cache.clear();
            }
            cache.insert(key.to_vec(), value.clone());
        }
    }

    fn clear(&self) {
        if let Ok(mut cache) = self.0.lock() {
            cache.clear();
        }
    }
}

impl Clone for StateCache {
    /// A copy starts with nothing cached (a cache is not state).
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl Pending {
    /// Adds one block's writes, whose record is `bytes` long.
    fn apply(&mut self, height: u64, changes: &[StateChange], index: &[(TxId, u32)], bytes: usize) {
        for change in changes {
            self.state.insert(change.key.clone(), change.value.clone());
        }
        for (id, position) in index {
            self.index.insert(
                *id,
                TxLocation {
                    height,
                    position: *position,
                },
            );
        }
        self.bytes = self.bytes.saturating_add(bytes);
    }

    /// The writes that put everything pending into the columns, in key order, then marks
    /// the columns complete up to `height` and deletes the records at or below it.
    fn flush_ops(&self, height: u64, ops: &mut Vec<Op>) {
        ops.reserve(self.state.len() + self.index.len() + 2);
        for (key, value) in &self.state {
            ops.push(state_op(key, value.as_ref()));
        }
        for (id, location) in &self.index {
            ops.push(index_op(id, *location));
        }
        ops.push(Op::DeleteRange {
            column: Column::StateDiffs,
            start: height_key(0).to_vec(),
            end: height_key(height.saturating_add(1)).to_vec(),
        });
        ops.push(put(Column::Meta, STATE_HEIGHT_KEY, height.to_bytes()));
    }
}

impl<B: Backend> Engine<B> {
    /// Opens the store in `backend` for `chain_id`, initializing it if it is empty.
    pub(crate) fn open(mut backend: B, chain_id: ChainId) -> Result<Self, StorageError> {
        let schema = read(
            &backend,
            Column::Meta,
            SCHEMA_VERSION_KEY,
            "schema version",
            |b| decode_exact::<u32>(b, 4),
        )?;
        match schema {
            None => {
                // A new store. Data without a schema version is not something we wrote.
                for column in Column::ALL {
                    if !backend.is_empty(column)? {
                        return Err(corrupt(
                            "schema version",
                            Column::Meta,
                            SCHEMA_VERSION_KEY,
                            Corruption::Missing,
                        ));
                    }
                }
                backend.write(vec![
                    put(
                        Column::Meta,
                        SCHEMA_VERSION_KEY,
                        SCHEMA_VERSION.to_be_bytes().to_vec(),
                    ),
                    put(Column::Meta, CHAIN_ID_KEY, chain_id.to_bytes()),
                    put(Column::Meta, LAST_HEIGHT_KEY, 0u64.to_bytes()),
                    put(Column::Meta, STATE_HEIGHT_KEY, 0u64.to_bytes()),
                ])?;
            }
            Some(found) if found != SCHEMA_VERSION => {
                return Err(StorageError::SchemaVersion {
                    found,
                    supported: SCHEMA_VERSION,
                });
            }
            Some(_) => {
                let stored = read(&backend, Column::Meta, CHAIN_ID_KEY, "chain id", |b| {
                    decode_exact::<ChainId>(b, 32)
                })?
                .ok_or_else(|| missing("chain id", Column::Meta, CHAIN_ID_KEY))?;
                if stored != chain_id {
                    return Err(StorageError::ChainIdMismatch {
                        stored,
                        requested: chain_id,
                    });
                }
            }
        }
        let last_height = read(
            &backend,
            Column::Meta,
            LAST_HEIGHT_KEY,
            "last height",
            |b| decode_exact::<u64>(b, 8),
        )?
        .ok_or_else(|| missing("last height", Column::Meta, LAST_HEIGHT_KEY))?;
        let mut engine = Self {
            backend,
            chain_id,
            last_height,
            last_block_id: chain_id.0,
            log: Frontier::new(),
            log_tail: Vec::new(),
            pending: Pending::default(),
            cache: StateCache::default(),
            needs_reopen: false,
        };
        if last_height > 0 {
            let header = engine.header(last_height)?.ok_or_else(|| {
                missing("block header", Column::Headers, &height_key(last_height))
            })?;
            engine.last_block_id = header.id();
            engine.log = engine.load_frontier(&header)?;
            engine.log_tail = engine.load_log_tail(header.log_size)?;
        }
        engine.pending = engine.load_pending()?;
        Ok(engine)
    }

    /// Reads back the writes of the blocks above `state_height`: exactly one `state_diffs`
    /// record per height up to the last, no more than [`STATE_PENDING_MAX_BLOCKS`] of them.
    fn load_pending(&self) -> Result<Pending, StorageError> {
        let state_height = read(
            &self.backend,
            Column::Meta,
            STATE_HEIGHT_KEY,
            "state height",
            |b| decode_exact::<u64>(b, 8),
        )?
        .ok_or_else(|| missing("state height", Column::Meta, STATE_HEIGHT_KEY))?;
        let behind = self.last_height.checked_sub(state_height);
        if behind.is_none_or(|behind| behind > STATE_PENDING_MAX_BLOCKS) {
            return Err(corrupt(
                "state height",
                Column::Meta,
                STATE_HEIGHT_KEY,
                Corruption::Inconsistent("not within the pending bound below the last height"),
            ));
        }
        let mut pending = Pending {
            height: state_height,
            ..Pending::default()
        };
        // One more than expected, to find a record above the last height.
        let expected = usize::try_from(self.last_height - state_height).unwrap_or(usize::MAX);
        let records = self.backend.range(
            Column::StateDiffs,
            &height_key(state_height.saturating_add(1)),
            None,
            expected.saturating_add(1),
        )?;
        for (offset, (key, value)) in records.iter().enumerate() {
            let height = u64::try_from(offset)
                .ok()
                .and_then(|offset| state_height.checked_add(offset)?.checked_add(1))
                .filter(|height| *height <= self.last_height)
                .ok_or_else(|| {
                    corrupt(
                        "state diff",
                        Column::StateDiffs,
                        key,
                        Corruption::Inconsistent("a record above the last height"),
                    )
                })?;
            if key.as_slice() != height_key(height) {
                return Err(missing(
                    "state diff",
                    Column::StateDiffs,
                    &height_key(height),
                ));
            }
            let diff = decode_state_diff(value).map_err(|error| {
                corrupt(
                    "state diff",
                    Column::StateDiffs,
                    key,
                    Corruption::Decode(error),
                )
            })?;
            pending.apply(height, &diff.changes, &diff.index, value.len());
        }
        if records.len() < expected {
            let height = state_height
                .saturating_add(u64::try_from(records.len()).unwrap_or(u64::MAX))
                .saturating_add(1);
            return Err(missing(
                "state diff",
                Column::StateDiffs,
                &height_key(height),
            ));
        }
        Ok(pending)
    }

    /// The log's right edge at `header.log_size`, from the `popcount(log_size)` stored subtrees
    /// that cover it, checked against `header.log_root`.
    fn load_frontier(&self, header: &BlockHeader) -> Result<Frontier, StorageError> {
        let size = header.log_size;
        // The frontier's canonical encoding: size, node count, nodes largest first. The
        // subtree for set bit `h` of the size is the `((size >> h) - 1)`th at level `h`.
        let mut bytes = size.to_bytes();
        bytes.extend_from_slice(&size.count_ones().to_be_bytes());
        for level in (0..64u8).rev() {
            if (size >> level) & 1 == 1 {
                let index = (size >> level) - 1;
                let hash = self.read_log_node(level, index, size)?;
                bytes.extend_from_slice(&hash);
            }
        }
        let frontier = decode_exact::<Frontier>(&bytes, bytes.len()).map_err(|error| {
            corrupt("log frontier", Column::Log, &[], Corruption::Decode(error))
        })?;
        if Digest(frontier.root()) != header.log_root {
            return Err(corrupt(
                "log node",
                Column::Log,
                &[],
                Corruption::Inconsistent("the stored log's root is not the last header's log root"),
            ));
        }
        Ok(frontier)
    }

    /// The leaves of the log's last chunk, if it is partial: checked by [`Self::load_frontier`]
    /// already, whose low nodes are folded from them.
    fn load_log_tail(&self, log_size: u64) -> Result<Vec<u8>, StorageError> {
        let chunk = log_size / LOG_CHUNK_LEAVES;
        if log_size.is_multiple_of(LOG_CHUNK_LEAVES) {
            return Ok(Vec::new());
        }
        let key = chunk_key(chunk);
        let expected = usize::try_from(chunk_leaves(chunk, log_size))
            .unwrap_or(usize::MAX)
            .saturating_mul(LEAF_BYTES);
        read(
            &self.backend,
            Column::LogLeaves,
            &key,
            "log node",
            |bytes| {
                if bytes.len() == expected {
                    Ok(bytes.to_vec())
                } else {
                    Err(DecodeError::Invalid {
                        what: "log leaves",
                        reason: "holds another number of leaves than the log's size implies",
                    })
                }
            },
        )?
        .ok_or_else(|| missing("log node", Column::LogLeaves, &key))
    }

    pub(crate) fn backend(&self) -> &B {
        &self.backend
    }

    pub(crate) fn chain_id(&self) -> ChainId {
        self.chain_id
    }

    pub(crate) fn last_height(&self) -> u64 {
        self.last_height
    }

    pub(crate) fn last_block_id(&self) -> BlockId {
        self.last_block_id
    }

    pub(crate) fn log_size(&self) -> u64 {
        self.log.size()
    }

    /// Checks `committed` against the tip and writes it in one durable batch.
    pub(crate) fn append_block(&mut self, committed: &CommittedBlock) -> Result<(), StorageError> {
        self.check_writable()?;
        let Planned {
            ops,
            block_id,
            log,
            log_tail,
            index,
            diff_bytes,
            flushed,
        } = self.plan_append(committed)?;
        self.write(ops)?;
        let height = committed.block.header.height;
        self.last_height = height;
        self.last_block_id = block_id;
        self.log = log;
        self.log_tail = log_tail;
        if flushed {
            self.cache.clear();
            self.pending = Pending {
                height,
                ..Pending::default()
            };
        } else {
            self.pending
                .apply(height, &committed.state_changes, &index, diff_bytes);
        }
        Ok(())
    }

    /// Writes every pending state and index write into its column now, in one synced batch
    /// (as appending does every few blocks): afterwards opening the store replays nothing.
    pub(crate) fn flush_state(&mut self) -> Result<(), StorageError> {
        self.check_writable()?;
        if self.pending.height == self.last_height {
            return Ok(());
        }
        let mut ops = Vec::new();
        self.pending.flush_ops(self.last_height, &mut ops);
        self.write(ops)?;
        self.cache.clear();
        self.pending = Pending {
            height: self.last_height,
            ..Pending::default()
        };
        Ok(())
    }

    /// The checks of [`Self::append_block`] and the batch that stores the block. Writes
    /// nothing.
    fn plan_append(&self, committed: &CommittedBlock) -> Result<Planned, StorageError> {
        let CommittedBlock {
            block,
            certificate,
            receipts,
            state_changes,
            log_nodes,
        } = committed;
        let header = &block.header;
        let height = header.height;
        if header.chain_id != self.chain_id {
            return Err(StorageError::WrongChain {
                expected: self.chain_id,
                actual: header.chain_id,
            });
        }
        if self.last_height.checked_add(1) != Some(height) {
            return Err(StorageError::WrongHeight {
                expected: self.last_height.saturating_add(1),
                actual: height,
            });
        }
        if header.parent_id != self.last_block_id {
            return Err(StorageError::WrongParent {
                height,
                expected: self.last_block_id,
                actual: header.parent_id,
            });
        }
        let block_id = header.id();
        if certificate.height != height {
            return Err(StorageError::CertificateWrongHeight {
                expected: height,
                actual: certificate.height,
            });
        }
        if certificate.block_id != block_id {
            return Err(StorageError::CertificateWrongBlock {
                height,
                expected: block_id,
                actual: certificate.block_id,
            });
        }
        if u32::try_from(block.txs.len()).ok() != Some(header.tx_count) {
            return Err(StorageError::TxCountMismatch {
                height,
                header: header.tx_count,
                actual: block.txs.len(),
            });
        }
        let ids = block.tx_ids();
        let root = tx_root(&ids);
        if root != header.tx_root {
            return Err(StorageError::TxRootMismatch {
                height,
                header: header.tx_root,
                actual: root,
            });
        }

        if receipts.len() != ids.len() {
            return Err(StorageError::ReceiptCountMismatch {
                height,
                txs: ids.len(),
                receipts: receipts.len(),
            });
        }
        for (index, (receipt, id)) in receipts.iter().zip(&ids).enumerate() {
            let field = if receipt.tx_id != *id {
                "tx id"
            } else if usize::try_from(receipt.index).ok() != Some(index) {
                "index"
            } else if receipt.height != height {
                "height"
            } else {
                continue;
            };
            return Err(StorageError::ReceiptMismatch {
                height,
                index,
                field,
            });
        }

        let log = self.check_log(header, &ids, log_nodes)?;

        // Never store what could not be read back: the reads decode with the same limits.
        let block_bytes = block.to_bytes();
        decode_block(&block_bytes).map_err(|error| StorageError::NotDecodable {
            what: "block",
            error,
        })?;
        let certificate_bytes = certificate.to_bytes();
        CommitCertificate::decode(&certificate_bytes).map_err(|error| {
            StorageError::NotDecodable {
                what: "certificate",
                error,
            }
        })?;

        if let Some(error) = oversized_change(state_changes) {
            return Err(StorageError::NotDecodable {
                what: "state changes",
                error,
            });
        }

        let key = height_key(height);
        // The log's records: a chunk per 16 leaves, and a subtree per 16 leaves on average.
        let log_records = ids.len() / 8 + 2;
        let mut ops = Vec::with_capacity(8 + log_records);
        ops.push(put(Column::Blocks, &key, block_bytes));
        ops.push(put(Column::Headers, &key, header.to_bytes()));
        ops.push(put(Column::Certificates, &key, certificate_bytes));
        ops.push(put(
            Column::BlockIndex,
            block_id.as_bytes(),
            height.to_bytes(),
        ));
        // One record per block, empty for an empty block: every stored height has one.
        ops.push(put(Column::Receipts, &key, encode_receipts(receipts)));
        // The index keeps a transaction's first location: a repeat of an id (in this block or
        // an earlier one) does not move it.
        let mut seen: HashSet<TxId> = HashSet::with_capacity(ids.len());
        let mut index = Vec::with_capacity(ids.len());
        for (position, id) in ids.iter().enumerate() {
            if !seen.insert(*id) || self.tx_location(id)?.is_some() {
                continue;
            }
            let position = u32::try_from(position).map_err(|_| StorageError::TxCountMismatch {
                height,
                header: header.tx_count,
                actual: block.txs.len(),
            })?;
            index.push((*id, position));
        }
        let log_tail = self.plan_log_writes(log_nodes, &mut ops);
        ops.push(put(Column::Meta, LAST_HEIGHT_KEY, height.to_bytes()));

        // The state and index writes: into this block's record, or, once the records reach
        // their bound, with everything pending into their columns.
        let diff = encode_state_diff(state_changes, &index);
        let diff_bytes = diff.len();
        let flushed = self.pending.bytes.saturating_add(diff_bytes) >= STATE_PENDING_MAX_BYTES
            || height - self.pending.height >= STATE_PENDING_MAX_BLOCKS;
        if flushed {
            // Pending first, then this block's (a later write of a key wins within a batch).
            self.pending.flush_ops(height, &mut ops);
            for change in state_changes {
                ops.push(state_op(&change.key, change.value.as_ref()));
            }
            for (id, position) in &index {
                let location = TxLocation {
                    height,
                    position: *position,
                };
                ops.push(index_op(id, location));
            }
        } else {
            ops.push(put(Column::StateDiffs, &key, diff));
        }
        Ok(Planned {
            ops,
            block_id,
            log,
            log_tail,
            index,
            diff_bytes,
            flushed,
        })
    }

    /// The writes that store `log_nodes` (checked by [`Self::check_log`]): their leaves (level
    /// 0) into chunks of 16, each chunk the block touches written in full (the stored partial
    /// chunk's leaves come from memory, not a read), and the subtrees of level
    /// [`LOG_CHUNK_LEVEL`] and above as they are. Levels in between are not stored: reads fold
    /// them from the chunk. Returns the leaves of the log's new partial chunk.
    fn plan_log_writes(&self, log_nodes: &[LogNode], ops: &mut Vec<Op>) -> Vec<u8> {
        let mut chunk = self.log.size() / LOG_CHUNK_LEAVES;
        let mut leaves = Vec::with_capacity(LOG_CHUNK_BYTES);
        leaves.extend_from_slice(&self.log_tail);
        let mut touched = false;
        for node in log_nodes {
            if node.level == 0 {
                leaves.extend_from_slice(&node.hash);
                touched = true;
                if leaves.len() == LOG_CHUNK_BYTES {
                    let full = std::mem::replace(&mut leaves, Vec::with_capacity(LOG_CHUNK_BYTES));
                    ops.push(put(Column::LogLeaves, &chunk_key(chunk), full));
                    chunk = chunk.saturating_add(1);
                    touched = false;
                }
            } else if node.level >= LOG_CHUNK_LEVEL {
                ops.push(put(
                    Column::Log,
                    &log_key(node.level, node.index),
                    node.hash.to_vec(),
                ));
            }
        }
        if touched {
            ops.push(put(Column::LogLeaves, &chunk_key(chunk), leaves.clone()));
        }
        leaves
    }

    /// Checks that `log_nodes` are exactly the perfect subtrees that appending the leaves
    /// `leaf_hash(id)` of `ids` to the stored log completes (as
    /// [`Frontier::append_recording`] yields them), and that the log then has the header's
    /// size and root. Returns the log's new right edge. `O(ids + log n)` hashing, no read.
    fn check_log(
        &self,
        header: &BlockHeader,
        ids: &[TxId],
        log_nodes: &[LogNode],
    ) -> Result<Frontier, StorageError> {
        let height = header.height;
        let expected_size = u64::try_from(ids.len())
            .ok()
            .and_then(|count| self.log.size().checked_add(count));
        if expected_size != Some(header.log_size) {
            return Err(StorageError::LogSizeMismatch {
                height,
                expected: expected_size.unwrap_or(u64::MAX),
                header: header.log_size,
            });
        }
        let mut log = self.log.clone();
        let mut expected = Vec::with_capacity(log_nodes.len().max(ids.len()));
        for id in ids {
            // Cannot fail: the size check above leaves room for every leaf.
            log.append_recording(leaf_hash(id.as_bytes()), &mut expected)
                .map_err(|_| StorageError::LogSizeMismatch {
                    height,
                    expected: u64::MAX,
                    header: header.log_size,
                })?;
        }
        let mismatch = |position: usize, node: &LogNode, reason| StorageError::LogNodeMismatch {
            height,
            position,
            level: node.level,
            index: node.index,
            reason,
        };
        for (position, (given, want)) in log_nodes.iter().zip(&expected).enumerate() {
            if (given.level, given.index) != (want.level, want.index) {
                return Err(mismatch(position, want, "another subtree is expected here"));
            }
            if given.hash != want.hash {
                let reason = if want.level == 0 {
                    "not the leaf hash of its transaction"
                } else {
                    "not the root of its two halves"
                };
                return Err(mismatch(position, want, reason));
            }
        }
        if let Some(want) = expected.get(log_nodes.len()) {
            return Err(mismatch(log_nodes.len(), want, "missing"));
        }
        if let Some(extra) = log_nodes.get(expected.len()) {
            return Err(mismatch(
                expected.len(),
                extra,
                "beyond the block's transactions",
            ));
        }
        let root = Digest(log.root());
        if root != header.log_root {
            return Err(StorageError::LogRootMismatch {
                height,
                header: header.log_root,
                actual: root,
            });
        }
        Ok(log)
    }

    /// The root of the log's perfect subtree at (`level`, `index`), if the stored log covers it
    /// (`(index + 1) · 2^level <= log_size`); inside, it must be stored.
    pub(crate) fn log_node(&self, level: u8, index: u64) -> Result<Option<Hash>, StorageError> {
        let covered = 1u64
            .checked_shl(u32::from(level))
            .and_then(|width| index.checked_add(1)?.checked_mul(width))
            .is_some_and(|end| end <= self.log.size());
        if !covered {
            return Ok(None);
        }
        self.read_log_node(level, index, self.log.size()).map(Some)
    }

    /// The root of the subtree at (`level`, `index`) of a log of `log_size` leaves, which must
    /// cover it: from its `log` record at level [`LOG_CHUNK_LEVEL`] and above, folded from its
    /// leaves in their `log_leaves` chunk below. A missing or damaged record is corruption.
    fn read_log_node(&self, level: u8, index: u64, log_size: u64) -> Result<Hash, StorageError> {
        if level >= LOG_CHUNK_LEVEL {
            let key = log_key(level, index);
            return read(&self.backend, Column::Log, &key, "log node", |bytes| {
                decode_exact::<Hash>(bytes, 32)
            })?
            .ok_or_else(|| missing("log node", Column::Log, &key));
        }
        // `level < 4`, so the shift cannot overflow; a subtree never straddles two chunks.
        let first = index.checked_shl(u32::from(level)).unwrap_or(u64::MAX);
        let chunk = first / LOG_CHUNK_LEAVES;
        let key = chunk_key(chunk);
        read(
            &self.backend,
            Column::LogLeaves,
            &key,
            "log node",
            |bytes| chunk_subtree(bytes, chunk, log_size, level, first % LOG_CHUNK_LEAVES),
        )?
        .ok_or_else(|| missing("log node", Column::LogLeaves, &key))
    }

    /// The header at `height`, if `1 <= height <= last_height`.
    pub(crate) fn header(&self, height: u64) -> Result<Option<BlockHeader>, StorageError> {
        let header =
            self.read_height(Column::Headers, height, "block header", BlockHeader::decode)?;
        if let Some(header) = &header {
            self.check_header(Column::Headers, height, header)?;
        }
        Ok(header)
    }

    /// The block at `height`, if `1 <= height <= last_height`.
    pub(crate) fn block(&self, height: u64) -> Result<Option<Block>, StorageError> {
        let block = self.read_height(Column::Blocks, height, "block", decode_block)?;
        if let Some(block) = &block {
            self.check_header(Column::Blocks, height, &block.header)?;
        }
        Ok(block)
    }

    /// The certificate at `height`, if `1 <= height <= last_height`.
    pub(crate) fn certificate(
        &self,
        height: u64,
    ) -> Result<Option<CommitCertificate>, StorageError> {
        let certificate = self.read_height(
            Column::Certificates,
            height,
            "commit certificate",
            CommitCertificate::decode,
        )?;
        if certificate
            .as_ref()
            .is_some_and(|certificate| certificate.height != height)
        {
            return Err(corrupt(
                "commit certificate",
                Column::Certificates,
                &height_key(height),
                Corruption::Inconsistent("certificate height differs from its key"),
            ));
        }
        Ok(certificate)
    }

    pub(crate) fn tx_location(&self, id: &TxId) -> Result<Option<TxLocation>, StorageError> {
        if let Some(location) = self.pending.index.get(id) {
            return Ok(Some(*location));
        }
        let key = id.as_bytes();
        let location = read(
            &self.backend,
            Column::TxIndex,
            key,
            "tx location",
            TxLocation::decode,
        )?;
        if location
            .is_some_and(|location| location.height == 0 || location.height > self.last_height)
        {
            return Err(corrupt(
                "tx location",
                Column::TxIndex,
                key,
                Corruption::Inconsistent("location is above the last height"),
            ));
        }
        Ok(location)
    }

    /// The receipt of the transaction `id`, at its first location.
    pub(crate) fn receipt(&self, id: &TxId) -> Result<Option<Receipt>, StorageError> {
        let Some(location) = self.tx_location(id)? else {
            return Ok(None);
        };
        let key = height_key(location.height);
        let receipt = read(&self.backend, Column::Receipts, &key, "receipt", |bytes| {
            decode_receipt_at(bytes, location.position)
        })?
        .ok_or_else(|| missing("receipt", Column::Receipts, &key))?;
        if receipt.tx_id != *id
            || receipt.height != location.height
            || receipt.index != location.position
        {
            return Err(corrupt(
                "receipt",
                Column::Receipts,
                &key,
                Corruption::Inconsistent("receipt differs from the transaction's location"),
            ));
        }
        Ok(Some(receipt))
    }

    /// The receipts of the block at `height`, if `1 <= height <= last_height`.
    pub(crate) fn receipts(&self, height: u64) -> Result<Option<Vec<Receipt>>, StorageError> {
        let Some(header) = self.header(height)? else {
            return Ok(None);
        };
        let key = height_key(height);
        let receipts = read(&self.backend, Column::Receipts, &key, "receipt", |bytes| {
            decode_receipts(bytes, header.tx_count)
        })?
        .ok_or_else(|| missing("receipt", Column::Receipts, &key))?;
        for (position, receipt) in receipts.iter().enumerate() {
            if receipt.height != height || usize::try_from(receipt.index).ok() != Some(position) {
                return Err(corrupt(
                    "receipt",
                    Column::Receipts,
                    &key,
                    Corruption::Inconsistent("receipt differs from its place in the record"),
                ));
            }
        }
        Ok(Some(receipts))
    }

    /// The height of the stored block whose id is `id`.
    pub(crate) fn height_of(&self, id: &BlockId) -> Result<Option<u64>, StorageError> {
        let key = id.as_bytes();
        let Some(height) = read(
            &self.backend,
            Column::BlockIndex,
            key,
            "block height",
            |bytes| decode_exact::<u64>(bytes, 8),
        )?
        else {
            return Ok(None);
        };
        let header = self.header(height)?;
        if header.is_none_or(|header| header.id() != *id) {
            return Err(corrupt(
                "block height",
                Column::BlockIndex,
                key,
                Corruption::Inconsistent("no stored block at this height has this id"),
            ));
        }
        Ok(Some(height))
    }

    pub(crate) fn state_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        if let Some(value) = self.pending.state.get(key) {
            return Ok(value.clone());
        }
        if let Some(value) = self.cache.get(key) {
            return Ok(value);
        }
        let value = self.backend.get(Column::State, key, <[u8]>::to_vec)?;
        self.cache.insert(key, &value);
        Ok(value)
    }

    /// At most `min(limit, MAX_STATE_SCAN)` state entries whose key starts with `prefix` and
    /// comes after `start_after`, in ascending key order.
    pub(crate) fn state_scan(
        &self,
        prefix: &[u8],
        start_after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<StateEntry>, StorageError> {
        let limit = limit.min(MAX_STATE_SCAN);
        // The key right after `k` in byte order is `k || 0x00`.
        let start = match start_after {
            Some(after) => {
                let mut next = Vec::with_capacity(after.len().saturating_add(1));
                next.extend_from_slice(after);
                next.push(0);
                next.max(prefix.to_vec())
            }
            None => prefix.to_vec(),
        };
        let end = prefix_end(prefix);
        if limit == 0 || end.as_ref().is_some_and(|end| start >= *end) {
            return Ok(Vec::new());
        }
        // The stored entries, then the pending writes over them. Of the first `limit + d`
        // stored entries (`d` pending deletions in the range) at least `limit` survive, so the
        // merged result's first `limit` never reach past the last of them.
        let pending = self.pending.state.range::<[u8], _>((
            Bound::Included(start.as_slice()),
            end.as_deref().map_or(Bound::Unbounded, Bound::Excluded),
        ));
        let deletions = pending.clone().filter(|(_, value)| value.is_none()).count();
        let fetch = limit.saturating_add(deletions);
        let stored = self
            .backend
            .range(Column::State, &start, end.as_deref(), fetch)?;
        let complete = stored.len() < fetch;
        let mut merged = Vec::with_capacity(limit);
        let mut stored = stored.into_iter().peekable();
        let mut pending = pending.peekable();
        while merged.len() < limit {
            let take_pending = match (stored.peek(), pending.peek()) {
                (None, None) => break,
                (Some(_), None) => false,
                (None, Some(_)) => true,
                (Some((stored_key, _)), Some((pending_key, _))) => {
                    pending_key.as_slice() <= stored_key.as_slice()
                }
            };
            if !take_pending {
                merged.extend(stored.next());
                continue;
            }
            let Some((key, value)) = pending.next() else {
                break;
            };
            if stored.peek().is_none() && !complete {
                // Past the stored entries fetched: the argument above says this is unreachable.
                debug_assert!(false, "state scan ran past its stored entries");
                break;
            }
            if stored
                .peek()
                .is_some_and(|(stored_key, _)| stored_key == key)
            {
                stored.next();
            }
            if let Some(value) = value {
                merged.push((key.clone(), value.clone()));
            }
        }
        Ok(merged)
    }

    pub(crate) fn consensus_put(&mut self, key: &[u8], value: &[u8]) -> Result<(), StorageError> {
        self.check_writable()?;
        self.write(vec![put(Column::Consensus, key, value.to_vec())])
    }

    pub(crate) fn consensus_put_batch(
        &mut self,
        records: &[crate::ConsensusRecord],
    ) -> Result<(), StorageError> {
        self.check_writable()?;
        if records.is_empty() {
            return Ok(());
        }
        self.write(
            records
                .iter()
                .map(|record| put(Column::Consensus, &record.key, record.value.clone()))
                .collect(),
        )
    }

    pub(crate) fn consensus_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        self.backend.get(Column::Consensus, key, <[u8]>::to_vec)
    }

    pub(crate) fn consensus_delete(&mut self, key: &[u8]) -> Result<(), StorageError> {
        self.check_writable()?;
        self.write(vec![Op::Delete {
            column: Column::Consensus,
            key: key.to_vec(),
        }])
    }

    pub(crate) fn consensus_delete_range(
        &mut self,
        start: &[u8],
        end: &[u8],
    ) -> Result<(), StorageError> {
        self.check_writable()?;
        if start >= end {
            return Ok(());
        }
        self.write(vec![Op::DeleteRange {
            column: Column::Consensus,
            start: start.to_vec(),
            end: end.to_vec(),
        }])
    }

    pub(crate) fn consensus_range(
        &self,
        start: &[u8],
        end: &[u8],
    ) -> Result<Vec<ConsensusRecord>, StorageError> {
        if start >= end {
            return Ok(Vec::new());
        }
        let entries = self
            .backend
            .range(Column::Consensus, start, Some(end), usize::MAX)?;
        Ok(entries
            .into_iter()
            .map(|(key, value)| ConsensusRecord { key, value })
            .collect())
    }

    fn check_writable(&self) -> Result<(), StorageError> {
        if self.needs_reopen {
            Err(StorageError::NeedsReopen)
        } else {
            Ok(())
        }
    }

    /// Writes a batch; a failure leaves the outcome on disk unknown, so this handle stops
    /// writing.
    fn write(&mut self, ops: Vec<Op>) -> Result<(), StorageError> {
        let result = self.backend.write(ops);
        if result.is_err() {
            self.needs_reopen = true;
        }
        result
    }

    /// Reads the record at a height key. Heights outside `1..=last_height` are `None` without a
    /// read; inside, the record must exist.
    fn read_height<T>(
        &self,
        column: Column,
        height: u64,
        what: &'static str,
        decode: impl FnOnce(&[u8]) -> Result<T, DecodeError>,
    ) -> Result<Option<T>, StorageError> {
        if height == 0 || height > self.last_height {
            return Ok(None);
        }
        let key = height_key(height);
        read(&self.backend, column, &key, what, decode)?
            .map(Some)
            .ok_or_else(|| missing(what, column, &key))
    }

    /// A stored header must be of this chain and at the height of its key.
    fn check_header(
        &self,
        column: Column,
        height: u64,
        header: &BlockHeader,
    ) -> Result<(), StorageError> {
        let what = match column {
            Column::Blocks => "block",
            _ => "block header",
        };
        let key = height_key(height);
        if header.height != height {
            return Err(corrupt(
                what,
                column,
                &key,
                Corruption::Inconsistent("header height differs from its key"),
            ));
        }
        if header.chain_id != self.chain_id {
            return Err(corrupt(
                what,
                column,
                &key,
                Corruption::Inconsistent("header is of another chain"),
            ));
        }
        Ok(())
    }
}

/// What [`Engine::plan_append`] found: the batch that stores the block, and the tip after it.
struct Planned {
    ops: Vec<Op>,
    /// The block's id.
    block_id: BlockId,
    /// The log's right edge after the block.
    log: Frontier,
    /// The leaves of the log's partial chunk after the block ([`Engine`]'s `log_tail`).
    log_tail: Vec<u8>,
    /// The transactions the block is the first location of, and their positions.
    index: Vec<(TxId, u32)>,
    /// Bytes of the block's `state_diffs` record.
    diff_bytes: usize,
    /// Whether the batch moves every pending write (and the block's) into the columns.
    flushed: bool,
}

/// Decodes a stored block with the largest bound any block may have.
fn decode_block(bytes: &[u8]) -> Result<Block, DecodeError> {
    Block::decode(bytes, MAX_BLOCK_BYTES)
}

/// Reads and decodes the record under `key`; bytes that do not decode are [`Corruption`].
fn read<B: Backend, T>(
    backend: &B,
    column: Column,
    key: &[u8],
    what: &'static str,
    decode: impl FnOnce(&[u8]) -> Result<T, DecodeError>,
) -> Result<Option<T>, StorageError> {
    match backend.get(column, key, decode)? {
        None => Ok(None),
        Some(Ok(value)) => Ok(Some(value)),
        Some(Err(error)) => Err(corrupt(what, column, key, Corruption::Decode(error))),
    }
}

fn put(column: Column, key: &[u8], value: Vec<u8>) -> Op {
    Op::Put {
        column,
        key: key.to_vec(),
        value,
    }
}

/// The write of a state change into the `state` column.
fn state_op(key: &[u8], value: Option<&Vec<u8>>) -> Op {
    match value {
        Some(value) => put(Column::State, key, value.clone()),
        None => Op::Delete {
            column: Column::State,
            key: key.to_vec(),
        },
    }
}

/// The write of a transaction's first location into the `tx_index` column.
fn index_op(id: &TxId, location: TxLocation) -> Op {
    put(Column::TxIndex, id.as_bytes(), location.to_bytes())
}

fn corrupt(what: &'static str, column: Column, key: &[u8], reason: Corruption) -> StorageError {
    StorageError::Corrupt {
        what,
        column: column.name(),
        key: key.to_vec(),
        reason,
    }
}

fn missing(what: &'static str, column: Column, key: &[u8]) -> StorageError {
    corrupt(what, column, key, Corruption::Missing)
}

/// Implements [`crate::Store`] for a type with a field `engine: Engine<_>`.
macro_rules! delegate_store {
    ($store:ty) => {
        impl $crate::Store for $store {
            fn chain_id(&self) -> ::courtledger_crypto::ChainId {
                self.engine.chain_id()
            }
            fn last_height(&self) -> u64 {
                self.engine.last_height()
            }
            fn last_block_id(&self) -> ::courtledger_types::BlockId {
                self.engine.last_block_id()
            }
            fn log_size(&self) -> u64 {
                self.engine.log_size()
            }
            fn log_node(
                &self,
                level: u8,
                index: u64,
            ) -> Result<Option<::courtledger_merkle::Hash>, $crate::StorageError> {
                self.engine.log_node(level, index)
            }
            fn append_block(
                &mut self,
                committed: &$crate::CommittedBlock,
            ) -> Result<(), $crate::StorageError> {
                self.engine.append_block(committed)
            }
            fn flush_state(&mut self) -> Result<(), $crate::StorageError> {
                self.engine.flush_state()
            }
            fn header(
                &self,
                height: u64,
            ) -> Result<Option<::courtledger_types::BlockHeader>, $crate::StorageError> {
                self.engine.header(height)
            }
            fn block(
                &self,
                height: u64,
            ) -> Result<Option<::courtledger_types::Block>, $crate::StorageError> {
                self.engine.block(height)
            }
            fn certificate(
                &self,
                height: u64,
            ) -> Result<Option<::courtledger_types::CommitCertificate>, $crate::StorageError> {
                self.engine.certificate(height)
            }
            fn tx_location(
                &self,
                id: &::courtledger_types::TxId,
            ) -> Result<Option<$crate::TxLocation>, $crate::StorageError> {
                self.engine.tx_location(id)
            }
            fn receipt(
                &self,
                id: &::courtledger_types::TxId,
            ) -> Result<Option<::courtledger_types::Receipt>, $crate::StorageError> {
                self.engine.receipt(id)
            }
            fn receipts(
                &self,
                height: u64,
            ) -> Result<Option<Vec<::courtledger_types::Receipt>>, $crate::StorageError> {
                self.engine.receipts(height)
            }
            fn height_of(
                &self,
                id: &::courtledger_types::BlockId,
            ) -> Result<Option<u64>, $crate::StorageError> {
                self.engine.height_of(id)
            }
            fn state_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, $crate::StorageError> {
                self.engine.state_get(key)
            }
            fn state_scan(
                &self,
                prefix: &[u8],
                start_after: Option<&[u8]>,
                limit: usize,
            ) -> Result<Vec<$crate::StateEntry>, $crate::StorageError> {
                self.engine.state_scan(prefix, start_after, limit)
            }
            fn consensus_put(
                &mut self,
                key: &[u8],
                value: &[u8],
            ) -> Result<(), $crate::StorageError> {
                self.engine.consensus_put(key, value)
            }
            fn consensus_put_batch(
                &mut self,
                records: &[$crate::ConsensusRecord],
            ) -> Result<(), $crate::StorageError> {
                self.engine.consensus_put_batch(records)
            }
            fn consensus_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, $crate::StorageError> {
                self.engine.consensus_get(key)
            }
            fn consensus_delete(&mut self, key: &[u8]) -> Result<(), $crate::StorageError> {
                self.engine.consensus_delete(key)
            }
            fn consensus_delete_range(
                &mut self,
                start: &[u8],
                end: &[u8],
            ) -> Result<(), $crate::StorageError> {
                self.engine.consensus_delete_range(start, end)
            }
            fn consensus_range(
                &self,
                start: &[u8],
                end: &[u8],
            ) -> Result<Vec<$crate::ConsensusRecord>, $crate::StorageError> {
                self.engine.consensus_range(start, end)
            }
        }
    };
}
pub(crate) use delegate_store;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemoryBackend;
    use courtledger_crypto::sha256;

    /// A memory backend whose writes fail while `failing` is set.
    #[derive(Debug, Default)]
    struct Flaky {
        inner: MemoryBackend,
        failing: bool,
    }

    impl Backend for Flaky {
        fn get<T>(
            &self,
            column: Column,
            key: &[u8],
            read: impl FnOnce(&[u8]) -> T,
        ) -> Result<Option<T>, StorageError> {
            self.inner.get(column, key, read)
        }

        fn write(&mut self, ops: Vec<Op>) -> Result<(), StorageError> {
            if self.failing {
                return Err(StorageError::Database {
                    operation: "writing",
                    message: "disk on fire".into(),
                });
            }
            self.inner.write(ops)
        }

        fn range(
            &self,
            column: Column,
            start: &[u8],
            end: Option<&[u8]>,
            limit: usize,
        ) -> Result<Vec<crate::backend::Entry>, StorageError> {
            self.inner.range(column, start, end, limit)
        }

        fn is_empty(&self, column: Column) -> Result<bool, StorageError> {
            self.inner.is_empty(column)
        }
    }

    #[test]
    fn a_failed_write_stops_all_writes_until_reopened() {
        let chain_id = ChainId(sha256(b"flaky"));
        let mut engine = Engine::open(Flaky::default(), chain_id).unwrap();
        engine.consensus_put(b"a", b"1").unwrap();

        engine.backend.failing = true;
        assert!(matches!(
            engine.consensus_put(b"b", b"2"),
            Err(StorageError::Database { .. })
        ));
        engine.backend.failing = false;
        // The disk works again, but this handle cannot know what the failed write left.
        assert_eq!(
            engine.consensus_put(b"c", b"3"),
            Err(StorageError::NeedsReopen)
        );
        assert_eq!(
            engine.consensus_delete(b"a"),
            Err(StorageError::NeedsReopen)
        );
        assert_eq!(
            engine.consensus_delete_range(b"a", b"z"),
            Err(StorageError::NeedsReopen)
        );
        // Reads still work.
        assert_eq!(engine.consensus_get(b"a"), Ok(Some(b"1".to_vec())));

        let reopened = Engine::open(engine.backend, chain_id).unwrap();
        let mut reopened = reopened;
        reopened.consensus_put(b"c", b"3").unwrap();
        assert_eq!(reopened.consensus_get(b"b"), Ok(None));
    }

    #[test]
    fn opening_another_chain_or_schema_is_refused() {
        let chain_id = ChainId(sha256(b"one"));
        let other = ChainId(sha256(b"two"));
        let engine = Engine::open(MemoryBackend::default(), chain_id).unwrap();
        assert_eq!(
            Engine::open(engine.backend.clone(), other).unwrap_err(),
            StorageError::ChainIdMismatch {
                stored: chain_id,
                requested: other
            }
        );
        let mut backend = engine.backend;
        backend
            .write(vec![put(
                Column::Meta,
                SCHEMA_VERSION_KEY,
                7u32.to_be_bytes().to_vec(),
            )])
            .unwrap();
        assert_eq!(
            Engine::open(backend, chain_id).unwrap_err(),
            StorageError::SchemaVersion {
                found: 7,
                supported: SCHEMA_VERSION
            }
        );
    }
}
