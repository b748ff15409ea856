//! The RocksDB store.

use std::fmt;
use std::path::{Path, PathBuf};

use courtledger_codec::decode_exact;
use courtledger_crypto::ChainId;
use courtledger_types::limits::STATE_PENDING_MAX_BYTES;
use rocksdb::{
    BlockBasedOptions, ColumnFamily, ColumnFamilyDescriptor, DBCompressionType, Direction,
    IteratorMode, Options, ReadOptions, WriteBatch, WriteOptions, DB,
};

use crate::backend::{Backend, Entry, Op};
use crate::engine::Engine;
use crate::error::{Corruption, StorageError};
use crate::layout::{Column, SCHEMA_VERSION, SCHEMA_VERSION_KEY};

/// RocksDB keeps this many informational `LOG` files; the default (1000) lets them grow without
/// a useful bound.
const KEEP_LOG_FILES: usize = 10;

/// Bytes of write-ahead log RocksDB keeps before it flushes the memtables that hold the oldest
/// log alive. Its default (four times the sum of all memtables, over 3 GiB for our column
/// families) let a node keep more log than data: a column written rarely (`meta`, `consensus`)
/// pins every log file written since its last flush.
const MAX_TOTAL_WAL_BYTES: u64 = 256 * 1024 * 1024;

/// Bits per key of the Bloom filter on `tx_index`, where most lookups of a new block's ids miss.
const TX_INDEX_BLOOM_BITS_PER_KEY: f64 = 10.0;

/// Memtable size of `state_diffs`: twice the bytes of records that may wait, so that most
/// records are deleted (by the range deletion that moves their writes into `state`) before their
/// memtable is flushed, while the memtable stays smaller than RocksDB's default of 64 MiB.
const STATE_DIFFS_WRITE_BUFFER_BYTES: usize = 2 * STATE_PENDING_MAX_BYTES;

/// Share of a `tx_index` memtable's size given to its whole-key Bloom filter (RocksDB's
/// `memtable_prefix_bloom_size_ratio`: 6.4 MiB for a 64 MiB memtable).
const TX_INDEX_MEMTABLE_BLOOM_RATIO: f64 = 0.1;

/// A [`crate::Store`] in a RocksDB database (layout and fsync policy: the crate documentation).
///
/// One process at a time: RocksDB locks the directory, and a second open fails with
/// [`StorageError::Database`].
pub struct RocksStore {
    pub(crate) engine: Engine<RocksBackend>,
}

impl RocksStore {
    /// Opens the database at `path` for `chain_id`, creating it (and its directory) if there is
    /// none.
    ///
    /// Refuses a database of another chain ([`StorageError::ChainIdMismatch`]), of another
    /// schema version ([`StorageError::SchemaVersion`]), with a column family that courtledger
    /// does not create ([`StorageError::UnknownColumnFamily`]), or whose records are damaged
    /// ([`StorageError::Corrupt`]).
    pub fn open(path: impl AsRef<Path>, chain_id: ChainId) -> Result<Self, StorageError> {
        let path = path.as_ref();
        let mut db_options = Options::default();
        db_options.create_if_missing(true);
        db_options.create_missing_column_families(true);
        db_options.set_keep_log_file_num(KEEP_LOG_FILES);
        db_options.set_max_total_wal_size(MAX_TOTAL_WAL_BYTES);
        // An existing database must hold our column families and no others (`default` always
        // exists). Listing fails when there is no database yet, which is fine.
        if let Ok(names) = DB::list_cf(&db_options, path) {
            if let Some(name) = names.iter().find(|name| {
                *name != rocksdb::DEFAULT_COLUMN_FAMILY_NAME
                    && !Column::ALL.iter().any(|column| column.name() == *name)
            }) {
                return Err(StorageError::UnknownColumnFamily { name: name.clone() });
            }
            let missing = Column::ALL
                .into_iter()
                .find(|column| !names.iter().any(|name| name == column.name()));
            if let Some(missing) = missing {
                if names.iter().any(|name| name == Column::Meta.name()) {
                    // Ours, but of another layout (an older version lacks later column
                    // families): refuse it without creating anything in it.
                    check_version_read_only(path)?;
                    return Err(StorageError::Corrupt {
                        what: "column family",
                        column: missing.name(),
                        key: Vec::new(),
                        reason: Corruption::Missing,
                    });
                }
            }
        }
        let descriptors = Column::ALL
            .map(|column| ColumnFamilyDescriptor::new(column.name(), column_options(column)));
        let db = DB::open_cf_descriptors(&db_options, path, descriptors)
            .map_err(|error| database_error("opening the database", error))?;
        let backend = RocksBackend {
            db,
            path: path.to_path_buf(),
        };
        Ok(Self {
            engine: Engine::open(backend, chain_id)?,
        })
    }

    /// The database's directory.
    pub fn path(&self) -> &Path {
        &self.engine.backend().path
    }
}

crate::engine::delegate_store!(RocksStore);

impl fmt::Debug for RocksStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RocksStore")
            .field("path", &self.engine.backend().path)
            .field("chain_id", &self.engine.chain_id())
            .field("last_height", &self.engine.last_height())
            .finish_non_exhaustive()
    }
}

/// Reads the schema version of the database at `path` without writing to it, and refuses
/// another version than this build's.
fn check_version_read_only(path: &Path) -> Result<(), StorageError> {
    let db = DB::open_cf_for_read_only(&Options::default(), path, [Column::Meta.name()], false)
        .map_err(|error| database_error("opening the database to read its version", error))?;
    let meta = db
        .cf_handle(Column::Meta.name())
        .ok_or(StorageError::Database {
            operation: "looking up a column family",
            message: format!("column family `{}` is not open", Column::Meta.name()),
        })?;
    let stored = db
        .get_pinned_cf(meta, SCHEMA_VERSION_KEY)
        .map_err(|error| database_error("reading", error))?;
    let corrupt = |reason| StorageError::Corrupt {
        what: "schema version",
        column: Column::Meta.name(),
        key: SCHEMA_VERSION_KEY.to_vec(),
        reason,
    };
    let found = match stored {
        None => return Err(corrupt(Corruption::Missing)),
        Some(bytes) => {
            decode_exact::<u32>(&bytes, 4).map_err(|e| corrupt(Corruption::Decode(e)))?
        }
    };
    if found == SCHEMA_VERSION {
        Ok(())
    } else {
        Err(StorageError::SchemaVersion {
            found,
            supported: SCHEMA_VERSION,
        })
    }
}

fn column_options(column: Column) -> Options {
    let mut options = Options::default();
    // Everywhere, even on the columns of hashes: turning it off there, or on levels 0 and 1,
    // was measured and did not pay (the crate README, "Opening").
    options.set_compression_type(DBCompressionType::Lz4);
    if column == Column::StateDiffs {
        // Records live seconds (until the next move into `state` and `tx_index` deletes
        // them): mostly they die in the memtable, and what a flush writes is soon compacted
        // away, so compressing it is wasted work.
        options.set_compression_type(DBCompressionType::None);
        options.set_write_buffer_size(STATE_DIFFS_WRITE_BUFFER_BYTES);
    }
    if column == Column::TxIndex {
        let mut table = BlockBasedOptions::default();
        table.set_bloom_filter(TX_INDEX_BLOOM_BITS_PER_KEY, false);
        options.set_block_based_table_factory(&table);
        // And in the memtable: appending a block looks up each new id there first, and misses
        // (a skiplist search each, ~3% of a validator's CPU at peak, `docs/performance.md`).
        options.set_memtable_whole_key_filtering(true);
        options.set_memtable_prefix_bloom_ratio(TX_INDEX_MEMTABLE_BLOOM_RATIO);
    }
    options
}

fn database_error(operation: &'static str, error: rocksdb::Error) -> StorageError {
    StorageError::Database {
        operation,
        message: error.into_string(),
    }
}

/// A RocksDB database opened with every column family of [`Column::ALL`].
pub(crate) struct RocksBackend {
    db: DB,
    path: PathBuf,
}

impl fmt::Debug for RocksBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RocksBackend")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl RocksBackend {
    fn handle(&self, column: Column) -> Result<&ColumnFamily, StorageError> {
        self.db
            .cf_handle(column.name())
            .ok_or(StorageError::Database {
                operation: "looking up a column family",
                message: format!("column family `{}` is not open", column.name()),
            })
    }
}

impl Backend for RocksBackend {
    fn get<T>(
        &self,
        column: Column,
        key: &[u8],
        read: impl FnOnce(&[u8]) -> T,
    ) -> Result<Option<T>, StorageError> {
        let value = self
            .db
            .get_pinned_cf(self.handle(column)?, key)
            .map_err(|error| database_error("reading", error))?;
        Ok(value.map(|value| read(&value)))
    }

    fn write(&mut self, ops: Vec<Op>) -> Result<(), StorageError> {
        let mut batch = WriteBatch::default();
        for op in ops {
            match op {
                Op::Put { column, key, value } => batch.put_cf(self.handle(column)?, key, value),
                Op::Delete { column, key } => batch.delete_cf(self.handle(column)?, key),
                Op::DeleteRange { column, start, end } => {
                    batch.delete_range_cf(self.handle(column)?, start, end)
                }
            }
        }
        // The fsync policy: every write of this crate is synced before it returns.
        let mut options = WriteOptions::default();
        options.set_sync(true);
        self.db
            .write_opt(batch, &options)
            .map_err(|error| database_error("writing a synced batch", error))
    }

    fn range(
        &self,
        column: Column,
        start: &[u8],
        end: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, StorageError> {
        let mut options = ReadOptions::default();
        if let Some(end) = end {
            options.set_iterate_upper_bound(end.to_vec());
        }
        self.db
            .iterator_cf_opt(
                self.handle(column)?,
                options,
                IteratorMode::From(start, Direction::Forward),
            )
            .take(limit)
            .map(|item| {
                item.map(|(key, value)| (key.into_vec(), value.into_vec()))
                    .map_err(|error| database_error("iterating", error))
            })
            .collect()
    }

    fn is_empty(&self, column: Column) -> Result<bool, StorageError> {
        match self
            .db
            .iterator_cf(self.handle(column)?, IteratorMode::Start)
            .next()
        {
            None => Ok(true),
            Some(Ok(_)) => Ok(false),
            Some(Err(error)) => Err(database_error("iterating", error)),
        }
    }
}
