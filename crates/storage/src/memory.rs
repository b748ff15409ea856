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

impl MemoryStore {
    /// Every record of the store as a database holds it: column family name (the crate
    /// documentation lists them and their layouts), key and value, in column then key order.
    /// With [`MemoryStore::from_records`], this lets a test or fuzzer damage a store the way a
    /// disk can: a torn, flipped, missing or stray record.
    pub fn records(&self) -> Vec<RawRecord> {
        let backend = self.engine.backend();
        Column::ALL
            .into_iter()
            .flat_map(|column| {
                backend
                    .column(column)
                    .into_iter()
                    .flatten()
                    .map(move |(key, value)| (column.name().to_owned(), key.clone(), value.clone()))
            })
            .collect()
    }

    /// Opens a store over `records` (as [`MemoryStore::records`] lists them) for `chain_id`,
    /// with the checks and reads that opening a database on disk makes, so arbitrary records give
    /// a [`StorageError`], never a panic: [`StorageError::UnknownColumnFamily`] for a name that
    /// is not one of the store's column families, [`StorageError::SchemaVersion`],
    /// [`StorageError::ChainIdMismatch`], [`StorageError::Corrupt`]. No records at all is an
    /// empty store.
    pub fn from_records(
        chain_id: ChainId,
        records: impl IntoIterator<Item = RawRecord>,
    ) -> Result<Self, StorageError> {
        let mut backend = MemoryBackend::default();
        for (name, key, value) in records {
            let column = Column::ALL
                .into_iter()
                .find(|column| column.name() == name)
                .ok_or(StorageError::UnknownColumnFamily { name })?;
            backend
                .columns
                .entry(column)
                .or_default()
                .insert(key, value);
        }
        Ok(Self {
            engine: Engine::open(backend, chain_id)?,
        })
    }
}

/// A record as it lies in a database: column family name, key, value.
pub type RawRecord = (String, Vec<u8>, Vec<u8>);

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

#[cfg(test)]
mod tests {
    use courtledger_crypto::sha256;

    use super::*;
    use crate::error::Corruption;
    use crate::Store as _;

    #[test]
    fn records_reopen_to_the_same_store_and_damage_is_an_error() {
        let chain_id = ChainId(sha256(b"records"));
        let mut store = MemoryStore::new(chain_id);
        store.consensus_put(b"vote", b"1").unwrap();
        let records = store.records();
        assert_eq!(
            records.first().map(|(name, _, _)| name.as_str()),
            Some("consensus")
        );
        let reopened = MemoryStore::from_records(chain_id, records.clone()).unwrap();
        assert_eq!(reopened.records(), records);
        assert_eq!(reopened.consensus_get(b"vote"), Ok(Some(b"1".to_vec())));

        let torn: Vec<RawRecord> = records
            .iter()
            .cloned()
            .map(|(name, key, mut value)| {
                if key == b"last_height" {
                    value.truncate(3);
                }
                (name, key, value)
            })
            .collect();
        assert!(matches!(
            MemoryStore::from_records(chain_id, torn),
            Err(StorageError::Corrupt {
                what: "last height",
                reason: Corruption::Decode(_),
                ..
            })
        ));
        let mut stray = records;
        stray.push(("default".to_owned(), b"k".to_vec(), b"v".to_vec()));
        assert_eq!(
            MemoryStore::from_records(chain_id, stray).unwrap_err(),
            StorageError::UnknownColumnFamily {
                name: "default".to_owned()
            }
        );
    }
}
