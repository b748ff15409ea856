//! The in-memory store.

use std::collections::BTreeMap;
use std::ops::Bound;

use courtledger_crypto::ChainId;

use crate::backend::{Backend, Entry, Op};
use crate::engine::Engine;
use crate::error::StorageError;
use crate::layout::Column;

/// A [`crate::Store`] in memory, for the consensus simulator and tests.
///
/// It runs the same code as [`crate::RocksStore`] (validation, encodings, consistency checks on
/// read), over ordered maps instead of RocksDB, so it accepts, refuses and returns exactly the
/// same things. Its writes never fail. Cloning it copies the whole store, which a simulator can
/// use to model a crash: the clone is what was "on disk".
#[derive(Debug, Clone)]
pub struct MemoryStore {
    pub(crate) engine: Engine<MemoryBackend>,
}

impl MemoryStore {
    /// An empty store for `chain_id`.
    pub fn new(chain_id: ChainId) -> Self {
        let engine = Engine::open(MemoryBackend::default(), chain_id)
            .expect("opening an empty in-memory store cannot fail: its writes never fail");
        Self { engine }
    }
}

crate::engine::delegate_store!(MemoryStore);

/// Ordered maps, one per column.
#[derive(Debug, Clone, Default)]
pub(crate) struct MemoryBackend {
    columns: BTreeMap<Column, BTreeMap<Vec<u8>, Vec<u8>>>,
}

impl MemoryBackend {
    fn column(&self, column: Column) -> Option<&BTreeMap<Vec<u8>, Vec<u8>>> {
        self.columns.get(&column)
    }
}

impl Backend for MemoryBackend {
    fn get<T>(
        &self,
        column: Column,
        key: &[u8],
        read: impl FnOnce(&[u8]) -> T,
    ) -> Result<Option<T>, StorageError> {
        Ok(self
            .column(column)
            .and_then(|entries| entries.get(key))
            .map(|value| read(value)))
    }

    fn write(&mut self, ops: Vec<Op>) -> Result<(), StorageError> {
        for op in ops {
            match op {
                Op::Put { column, key, value } => {
                    self.columns.entry(column).or_default().insert(key, value);
                }
                Op::Delete { column, key } => {
                    if let Some(entries) = self.columns.get_mut(&column) {
                        entries.remove(&key);
                    }
                }
                Op::DeleteRange { column, start, end } => {
                    if start < end {
                        if let Some(entries) = self.columns.get_mut(&column) {
                            let doomed: Vec<Vec<u8>> = entries
                                .range::<[u8], _>((
                                    Bound::Included(start.as_slice()),
                                    Bound::Excluded(end.as_slice()),
                                ))
                                .map(|(key, _)| key.clone())
                                .collect();
                            for key in doomed {
                                entries.remove(&key);
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn range(
        &self,
        column: Column,
        start: &[u8],
        end: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, StorageError> {
        if end.is_some_and(|end| start >= end) {
            return Ok(Vec::new());
        }
        let upper = end.map_or(Bound::Unbounded, Bound::Excluded);
        Ok(self
            .column(column)
            .map(|entries| {
                entries
                    .range::<[u8], _>((Bound::Included(start), upper))
                    .take(limit)
                    .map(|(key, value)| (key.clone(), value.clone()))
                    .collect()
            })
            .unwrap_or_default())
    }

    fn is_empty(&self, column: Column) -> Result<bool, StorageError> {
        Ok(self.column(column).is_none_or(BTreeMap::is_empty))
    }
}
