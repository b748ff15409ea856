//! What can go wrong, each case typed and saying what failed.

use courtledger_codec::DecodeError;
use courtledger_crypto::{ChainId, Digest};
use courtledger_types::BlockId;

/// Why a storage operation failed.
///
/// The first group refuses a block before anything is written: after such an error the store
/// is exactly as it was. The second refuses to open a database. [`StorageError::Corrupt`] means
/// the bytes on disk are not what this crate wrote; [`StorageError::Database`] is an error of
/// the database itself (IO, permissions, a lock held by another process).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    /// The block's header names another chain.
    #[error("block is for chain {actual}, this store holds chain {expected}")]
    WrongChain { expected: ChainId, actual: ChainId },
    /// The block's height is not the one after the last stored height.
    #[error("block has height {actual}, the next height is {expected}")]
    WrongHeight { expected: u64, actual: u64 },
    /// The block's parent id is not the id of the last stored header (for height 1: the chain
    /// id's digest).
    #[error("block {height} has parent {actual}, expected {expected}")]
    WrongParent {
        height: u64,
        expected: BlockId,
        actual: BlockId,
    },
    /// The certificate is for another height than its block.
    #[error("certificate is for height {actual}, its block has height {expected}")]
    CertificateWrongHeight { expected: u64, actual: u64 },
    /// The certificate is for another block than the one it comes with.
    #[error("certificate of block {height} is for block {actual}, the block's id is {expected}")]
    CertificateWrongBlock {
        height: u64,
        expected: BlockId,
        actual: BlockId,
    },
    /// The block holds another number of transactions than its header says.
    #[error("block {height} holds {actual} transactions, its header says {header}")]
    TxCountMismatch {
        height: u64,
        header: u32,
        actual: usize,
    },
    /// The block's transactions do not have the root its header says.
    #[error("transactions of block {height} have root {actual}, its header says {header}")]
    TxRootMismatch {
        height: u64,
        header: Digest,
        actual: Digest,
    },
    /// The block comes with another number of receipts than it holds transactions.
    #[error("block {height} holds {txs} transactions but comes with {receipts} receipts")]
    ReceiptCountMismatch {
        height: u64,
        txs: usize,
        receipts: usize,
    },
    /// A receipt does not describe the transaction at its position: another tx id, position
    /// or height.
    #[error("receipt {index} of block {height} has the wrong {field}")]
    ReceiptMismatch {
        height: u64,
        index: usize,
        /// `"tx id"`, `"index"` or `"height"`.
        field: &'static str,
    },
    /// The header's `log_size` is not the previous block's plus this block's transactions: every
    /// committed transaction is one leaf of the history log.
    #[error("block {height} brings the log to {expected} transactions, its header says {header}")]
    LogSizeMismatch {
        height: u64,
        /// The previous log size plus the block's transaction count (`u64::MAX` on overflow).
        expected: u64,
        header: u64,
    },
    /// The block's log nodes are not exactly the perfect subtrees its transactions complete, in
    /// the order `courtledger_merkle::Frontier::append_recording` yields them: node `position`
    /// is missing, extra (beyond the header's `log_size`), another subtree than (`level`,
    /// `index`), or has another hash than that subtree's root.
    #[error(
        "log node {position} of block {height} (subtree at level {level}, index {index}): {reason}"
    )]
    LogNodeMismatch {
        height: u64,
        /// Position in the block's list of log nodes.
        position: usize,
        /// Level of the subtree expected at `position` (of the given node, if it is extra).
        level: u8,
        /// Index of that subtree at its level.
        index: u64,
        /// `"missing"`, `"beyond the block's transactions"`, `"another subtree is expected
        /// here"`, `"not the leaf hash of its transaction"` or `"not the root of its two
        /// halves"`.
        reason: &'static str,
    },
    /// The log's root after the block is not the header's `log_root`.
    #[error("the log after block {height} has root {actual}, its header says {header}")]
    LogRootMismatch {
        height: u64,
        header: Digest,
        actual: Digest,
    },
    /// The value would not decode under the limits of `courtledger_types::limits` once stored
    /// (too large, too many items, an unsupported version), so it is not stored at all.
    #[error("{what} would not decode when read back, so it is not stored: {error}")]
    NotDecodable {
        what: &'static str,
        error: DecodeError,
    },
    /// An earlier write failed; whether it reached the disk is unknown, so this handle refuses
    /// further writes. Reopening the store reads the truth from disk.
    #[error("an earlier write failed with an unknown outcome on disk; reopen the store")]
    NeedsReopen,

    /// The database was written with a layout this build does not read.
    #[error("database has schema version {found}, this build reads version {supported}")]
    SchemaVersion { found: u32, supported: u32 },
    /// The database belongs to another chain.
    #[error("database holds chain {stored}, but chain {requested} was asked for")]
    ChainIdMismatch { stored: ChainId, requested: ChainId },
    /// The database has a column family that courtledger never creates: it is not ours.
    #[error("database has column family `{name}`, which is not one of courtledger's")]
    UnknownColumnFamily { name: String },

    /// A stored record is missing, does not decode, or contradicts its key.
    #[error("corrupt {what} in column family `{column}` at key {}: {reason}", hex::encode(.key))]
    Corrupt {
        /// The kind of record (`"block header"`, `"last height"`, ...).
        what: &'static str,
        /// The column family it lives in.
        column: &'static str,
        /// Its key.
        key: Vec<u8>,
        /// What is wrong with it.
        reason: Corruption,
    },
    /// The database itself failed.
    #[error("database error while {operation}: {message}")]
    Database {
        operation: &'static str,
        message: String,
    },
}

/// What is wrong with a corrupt record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Corruption {
    /// The bytes do not decode as the record they should be.
    #[error("does not decode: {0}")]
    Decode(DecodeError),
    /// A record that must exist is absent.
    #[error("missing")]
    Missing,
    /// The record decodes but contradicts its key or the rest of the database.
    #[error("{0}")]
    Inconsistent(&'static str),
}

/// Why [`crate::LogView`] could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogError {
    /// A size beyond the stored log: the store holds the log up to its last block only.
    #[error("the stored log holds {log_size} transactions; size {size} is beyond it")]
    BeyondLog {
        /// The size asked for.
        size: u64,
        /// [`crate::Store::log_size`].
        log_size: u64,
    },
    /// The sizes or index admit no proof: a consistency proof from the empty log, an old size
    /// above the new one, a leaf index not below the size.
    #[error(transparent)]
    Proof(#[from] courtledger_merkle::ProofError),
    /// A read failed, or a subtree the log must hold is missing or damaged.
    #[error(transparent)]
    Storage(#[from] StorageError),
}
