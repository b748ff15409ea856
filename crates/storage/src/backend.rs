//! The key-value operations that the two stores differ in; everything else is shared
//! ([`crate::engine`]).

use crate::error::StorageError;
use crate::layout::Column;

/// A key and its value.
pub(crate) type Entry = (Vec<u8>, Vec<u8>);

/// One write in a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Op {
    /// Sets `key` to `value`.
    Put {
        column: Column,
        key: Vec<u8>,
        value: Vec<u8>,
    },
    /// Removes `key`.
    Delete { column: Column, key: Vec<u8> },
    /// Removes every key `k` with `start <= k < end`; the engine only sends `start < end`.
    DeleteRange {
        column: Column,
        start: Vec<u8>,
        end: Vec<u8>,
    },
}

/// Key-value storage with atomic, durable batches.
pub(crate) trait Backend {
    /// Calls `read` with the value under `key`, if any, without copying it where the backend
    /// allows.
    fn get<T>(
        &self,
        column: Column,
        key: &[u8],
        read: impl FnOnce(&[u8]) -> T,
    ) -> Result<Option<T>, StorageError>;

    /// Applies `ops` in order, all or none, and only returns once they are durable (synced to
    /// disk, for a backend that has one).
    fn write(&mut self, ops: Vec<Op>) -> Result<(), StorageError>;

    /// The first `limit` entries with `start <= key < end` (no upper bound when `end` is
    /// `None`), in ascending key order; the engine only asks for `start < end`.
    fn range(
        &self,
        column: Column,
        start: &[u8],
        end: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, StorageError>;

    /// Whether the column holds no entry.
    fn is_empty(&self, column: Column) -> Result<bool, StorageError>;
}
