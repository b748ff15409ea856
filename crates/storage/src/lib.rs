#![doc = include_str!("../README.md")]

mod backend;
mod engine;
mod error;
mod layout;
mod log;
mod memory;
mod rocks;

use courtledger_crypto::ChainId;
use courtledger_merkle::{Hash, LogNode};
use courtledger_types::{Block, BlockHeader, BlockId, CommitCertificate, Receipt, TxId};

pub use crate::error::{Corruption, LogError, StorageError};
pub use crate::layout::{TxLocation, MAX_STATE_SCAN, SCHEMA_VERSION};
pub use crate::log::LogView;
pub use crate::memory::{MemoryStore, RawRecord};
pub use crate::rocks::RocksStore;

/// A decided block with everything stored with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommittedBlock {
    /// The block.
    pub block: Block,
    /// The precommits that decided it. Stored as given: storage checks that it names this
    /// block and height, not its signatures.
    pub certificate: CommitCertificate,
    /// One receipt per transaction, in block order: receipt `i` has transaction `i`'s id,
    /// index `i` and the block's height (checked). Its code is stored as given.
    pub receipts: Vec<Receipt>,
    /// The application state changes of executing the block, applied in order (a later change
    /// of the same key wins).
    pub state_changes: Vec<StateChange>,
    /// The history log's perfect subtrees that the block's transactions complete, exactly as
    /// execution records them (`courtledger_chain::Execution::log_nodes`,
    /// [`courtledger_merkle::Frontier::append_recording`]): the leaf `leaf_hash(tx id)` of each
    /// transaction at indexes `previous log_size ..`, each followed by the subtrees it closes.
    /// Checked against the block and the stored log, and the resulting log against the
    /// header's `log_size` and `log_root`.
    pub log_nodes: Vec<LogNode>,
}

/// One change of the application state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateChange {
    /// The key, opaque to storage.
    pub key: Vec<u8>,
    /// The new value, or `None` to delete the key.
    pub value: Option<Vec<u8>>,
}

impl StateChange {
    /// Sets `key` to `value`.
    pub fn set(key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) -> Self {
        Self {
            key: key.into(),
            value: Some(value.into()),
        }
    }

    /// Deletes `key`.
    pub fn delete(key: impl Into<Vec<u8>>) -> Self {
        Self {
            key: key.into(),
            value: None,
        }
    }
}

/// A key of the application state and its value, as [`Store::state_scan`] returns them.
pub type StateEntry = (Vec<u8>, Vec<u8>);

/// One record of the consensus engine, as [`Store::consensus_range`] returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsensusRecord {
    /// The key, opaque to storage.
    pub key: Vec<u8>,
    /// The value, opaque to storage.
    pub value: Vec<u8>,
}

/// A node's chain and consensus records. [`RocksStore`] and [`MemoryStore`] implement it with
/// the same checks, errors and results.
///
/// Reads of heights return `Ok(None)` exactly for heights outside `1..=last_height()`; inside,
/// a missing or undecodable record is [`StorageError::Corrupt`].
pub trait Store {
    /// The chain the store holds, fixed when it was created.
    fn chain_id(&self) -> ChainId;

    /// Height of the last stored block; 0 before the first.
    fn last_height(&self) -> u64;

    /// Id of the header at [`Store::last_height`]: the parent id that the next block must carry.
    /// Before the first block, the chain id's digest (the parent id of height 1).
    fn last_block_id(&self) -> BlockId;

    /// Transactions in the history log after the last stored block: that header's `log_size`
    /// (0 before the first block).
    fn log_size(&self) -> u64;

    /// The root of the history log's perfect subtree at `level` and `index` (the `2^level`
    /// leaves from `index · 2^level`), if the stored log covers it: `None` exactly when
    /// `(index + 1) · 2^level > log_size()`; inside, a missing or undecodable record is
    /// [`StorageError::Corrupt`]. [`LogView`] makes proofs from these.
    fn log_node(&self, level: u8, index: u64) -> Result<Option<Hash>, StorageError>;

    /// Stores block `last_height() + 1` with its certificate, receipts, transaction index
    /// entries, block id index entry, history log nodes and state changes, and advances the
    /// last height: one atomic write, synced to disk before this returns. Costs
    /// `O(block size + log n)`: the log part hashes each new node once and reads nothing.
    ///
    /// Refuses, writing nothing, a block of another chain, a height other than
    /// `last_height() + 1`, a parent id other than [`Store::last_block_id`], a certificate for
    /// another height or block id, transactions that do not match the header's count and root,
    /// receipts that are not one per transaction with its id, position and height, log nodes
    /// that are not exactly the subtrees its transactions complete or a log that does not end at
    /// the header's `log_size` and `log_root`, and a block, certificate or state change (a key
    /// or value longer than `MAX_STATE_KEY_BYTES` or `MAX_STATE_VALUE_BYTES`) that would not
    /// decode under the limits when read back.
    /// Signatures are not verified: that is consensus' job, done before a block is decided.
    fn append_block(&mut self, committed: &CommittedBlock) -> Result<(), StorageError>;

    /// Moves the state changes and transaction index entries of the blocks appended since the
    /// last such move into their columns now, in one synced batch; reads do not change. Appending
    /// does it by itself every few blocks ([`courtledger_types::limits::STATE_PENDING_MAX_BYTES`],
    /// [`courtledger_types::limits::STATE_PENDING_MAX_BLOCKS`]); after a call, opening the
    /// store has no block's writes to replay. For a clean shutdown.
    fn flush_state(&mut self) -> Result<(), StorageError>;

    /// The header at `height`.
    fn header(&self, height: u64) -> Result<Option<BlockHeader>, StorageError>;

    /// The block at `height`.
    fn block(&self, height: u64) -> Result<Option<Block>, StorageError>;

    /// The commit certificate stored with the block at `height`.
    fn certificate(&self, height: u64) -> Result<Option<CommitCertificate>, StorageError>;

    /// Where the transaction `id` was first committed.
    fn tx_location(&self, id: &TxId) -> Result<Option<TxLocation>, StorageError>;

    /// The receipt of the transaction `id`, at the location [`Store::tx_location`] gives.
    fn receipt(&self, id: &TxId) -> Result<Option<Receipt>, StorageError>;

    /// The receipts of the block at `height`, in block order (one per transaction).
    fn receipts(&self, height: u64) -> Result<Option<Vec<Receipt>>, StorageError>;

    /// The height of the stored block whose id (header hash) is `id`.
    fn height_of(&self, id: &BlockId) -> Result<Option<u64>, StorageError>;

    /// The application state's value under `key`, after the last stored block.
    fn state_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError>;

    /// The application state's entries whose key starts with `prefix` and, if `start_after`
    /// is given, is greater than it, in ascending key order: at most `limit` of them, and never
    /// more than [`MAX_STATE_SCAN`]. To page, pass the last key returned as `start_after`.
    fn state_scan(
        &self,
        prefix: &[u8],
        start_after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<StateEntry>, StorageError>;

    /// Stores a consensus record, synced to disk before this returns: a vote must reach the
    /// disk before it reaches the network.
    fn consensus_put(&mut self, key: &[u8], value: &[u8]) -> Result<(), StorageError>;

    /// Writes several consensus records in one atomic write, synced before returning: the
    /// write-ahead entries gathered before a network send cost one fsync, not one each.
    fn consensus_put_batch(&mut self, records: &[ConsensusRecord]) -> Result<(), StorageError>;

    /// The consensus record under `key`.
    fn consensus_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError>;

    /// Deletes the consensus record under `key` (synced; nothing happens if there is none).
    fn consensus_delete(&mut self, key: &[u8]) -> Result<(), StorageError>;

    /// Deletes every consensus record whose key `k` has `start <= k < end` in byte order
    /// (synced). With `start >= end` the range is empty and nothing happens. With keys that
    /// begin with a big-endian height, this prunes the records of the heights below one.
    fn consensus_delete_range(&mut self, start: &[u8], end: &[u8]) -> Result<(), StorageError>;

    /// The consensus records with `start <= key < end`, in ascending key order (empty when
    /// `start >= end`). For recovery after a restart; the caller bounds how much it stores.
    fn consensus_range(
        &self,
        start: &[u8],
        end: &[u8],
    ) -> Result<Vec<ConsensusRecord>, StorageError>;
}
