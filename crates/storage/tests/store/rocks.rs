//! What only a database on disk can show: reopening, refusing another chain or schema, the
//! on-disk layout, and corruption reported as errors.

use std::path::Path;

use courtledger_codec::Encode;
use courtledger_merkle::{leaf_hash, node_hash};
use courtledger_storage::{
    Corruption, LogError, LogView, RocksStore, StateChange, StorageError, Store, TxLocation,
    SCHEMA_VERSION,
};
use rocksdb::{Options, DB};

use crate::support::{chain_id, other_chain_id, tx, Chain};

const COLUMNS: [&str; 10] = [
    "blocks",
    "headers",
    "certificates",
    "tx_index",
    "receipts",
    "block_index",
    "log",
    "state",
    "consensus",
    "meta",
];

/// The database under the store, opened with the raw RocksDB API (the store must be dropped).
fn raw(path: &Path) -> DB {
    DB::open_cf(&Options::default(), path, COLUMNS).unwrap()
}

fn raw_put(path: &Path, column: &str, key: &[u8], value: &[u8]) {
    let db = raw(path);
    db.put_cf(db.cf_handle(column).unwrap(), key, value)
        .unwrap();
}

fn raw_get(db: &DB, column: &str, key: &[u8]) -> Option<Vec<u8>> {
    db.get_cf(db.cf_handle(column).unwrap(), key).unwrap()
}

/// A store at `path` with three blocks, state and consensus records.
fn populate(path: &Path) -> (Chain, Vec<courtledger_storage::CommittedBlock>) {
    let mut store = RocksStore::open(path, chain_id()).unwrap();
    let mut chain = Chain::new();
    let mut blocks = chain.append_many(&mut store, 2);
    blocks.push(chain.append(
        &mut store,
        vec![tx(4, 1, b"filing")],
        vec![StateChange::set("case/1", "filed")],
    ));
    store.consensus_put(b"vote", b"precommit").unwrap();
    (chain, blocks)
}

#[test]
fn reopening_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let (mut chain, blocks) = populate(dir.path());

    let mut store = RocksStore::open(dir.path(), chain_id()).unwrap();
    assert_eq!(store.path(), dir.path());
    assert_eq!(store.last_height(), 3);
    assert_eq!(store.last_block_id(), blocks[2].block.header.id());
    for committed in &blocks {
        let height = committed.block.header.height;
        assert_eq!(store.block(height), Ok(Some(committed.block.clone())));
        assert_eq!(
            store.header(height),
            Ok(Some(committed.block.header.clone()))
        );
        assert_eq!(
            store.certificate(height),
            Ok(Some(committed.certificate.clone()))
        );
    }
    let filing = tx(4, 1, b"filing").id();
    assert_eq!(
        store.tx_location(&filing),
        Ok(Some(TxLocation {
            height: 3,
            position: 0
        }))
    );
    assert_eq!(store.state_get(b"case/1"), Ok(Some(b"filed".to_vec())));
    assert_eq!(
        store.consensus_get(b"vote"),
        Ok(Some(b"precommit".to_vec()))
    );

    // The chain goes on after a reopen, and still refuses a wrong height.
    let repeat = blocks[2].clone();
    assert!(matches!(
        store.append_block(&repeat),
        Err(StorageError::WrongHeight {
            expected: 4,
            actual: 3
        })
    ));
    chain.append(&mut store, vec![], vec![StateChange::delete("case/1")]);
    drop(store);
    let mut store = RocksStore::open(dir.path(), chain_id()).unwrap();
    assert_eq!(store.last_height(), 4);
    assert_eq!(store.state_get(b"case/1"), Ok(None));
    // The log's right edge is read back: the next block's log nodes are checked against it.
    assert_eq!(store.log_size(), 2);
    chain.append(&mut store, vec![tx(4, 2, b"a"), tx(4, 3, b"b")], vec![]);
    assert_eq!(store.log_size(), 4);
    drop(store);
    let store = RocksStore::open(dir.path(), chain_id()).unwrap();
    assert_eq!(store.log_size(), 4);
    assert!(store.log_node(2, 0).unwrap().is_some());
}

#[test]
fn refuses_another_chain() {
    let dir = tempfile::tempdir().unwrap();
    populate(dir.path());
    assert_eq!(
        RocksStore::open(dir.path(), other_chain_id()).unwrap_err(),
        StorageError::ChainIdMismatch {
            stored: chain_id(),
            requested: other_chain_id(),
        }
    );
    // The refusal changed nothing.
    assert_eq!(
        RocksStore::open(dir.path(), chain_id())
            .unwrap()
            .last_height(),
        3
    );
}

#[test]
fn refuses_another_schema_version() {
    let dir = tempfile::tempdir().unwrap();
    populate(dir.path());
    raw_put(dir.path(), "meta", b"schema_version", &9u32.to_be_bytes());
    let error = RocksStore::open(dir.path(), chain_id()).unwrap_err();
    assert_eq!(
        error,
        StorageError::SchemaVersion {
            found: 9,
            supported: 3
        }
    );
    assert_eq!(
        error.to_string(),
        "database has schema version 9, this build reads version 3"
    );

    // A schema version that is not a u32 at all is corruption.
    raw_put(dir.path(), "meta", b"schema_version", b"one");
    assert!(matches!(
        RocksStore::open(dir.path(), chain_id()),
        Err(StorageError::Corrupt {
            what: "schema version",
            column: "meta",
            reason: Corruption::Decode(_),
            ..
        })
    ));
}

/// A database of layout version 1 (no `receipts`, no `block_index`, no `log`) is refused by its
/// version, and left exactly as it was: no column family is added to it.
#[test]
fn refuses_a_version_1_database_without_changing_it() {
    let dir = tempfile::tempdir().unwrap();
    populate(dir.path());
    {
        let mut db = raw(dir.path());
        db.drop_cf("receipts").unwrap();
        db.drop_cf("block_index").unwrap();
        db.drop_cf("log").unwrap();
        db.put_cf(
            db.cf_handle("meta").unwrap(),
            b"schema_version",
            1u32.to_be_bytes(),
        )
        .unwrap();
    }
    let before = DB::list_cf(&Options::default(), dir.path()).unwrap();
    assert_eq!(before.len(), 8, "{before:?}");
    assert_eq!(
        RocksStore::open(dir.path(), chain_id()).unwrap_err(),
        StorageError::SchemaVersion {
            found: 1,
            supported: SCHEMA_VERSION
        }
    );
    assert_eq!(
        DB::list_cf(&Options::default(), dir.path()).unwrap(),
        before
    );

    // The current version with a column family missing is damage, not another version.
    {
        let v1 = [
            "blocks",
            "headers",
            "certificates",
            "tx_index",
            "state",
            "consensus",
            "meta",
        ];
        let db = DB::open_cf(&Options::default(), dir.path(), v1).unwrap();
        db.put_cf(
            db.cf_handle("meta").unwrap(),
            b"schema_version",
            SCHEMA_VERSION.to_be_bytes(),
        )
        .unwrap();
    }
    assert!(matches!(
        RocksStore::open(dir.path(), chain_id()),
        Err(StorageError::Corrupt {
            what: "column family",
            reason: Corruption::Missing,
            ..
        })
    ));
}

/// A database of layout version 2 (no `log`) is refused by its version, unchanged.
#[test]
fn refuses_a_version_2_database_without_changing_it() {
    let dir = tempfile::tempdir().unwrap();
    populate(dir.path());
    {
        let mut db = raw(dir.path());
        db.drop_cf("log").unwrap();
        db.put_cf(
            db.cf_handle("meta").unwrap(),
            b"schema_version",
            2u32.to_be_bytes(),
        )
        .unwrap();
    }
    let before = DB::list_cf(&Options::default(), dir.path()).unwrap();
    assert!(!before.iter().any(|name| name == "log"));
    assert_eq!(
        RocksStore::open(dir.path(), chain_id()).unwrap_err(),
        StorageError::SchemaVersion {
            found: 2,
            supported: SCHEMA_VERSION
        }
    );
    assert_eq!(
        DB::list_cf(&Options::default(), dir.path()).unwrap(),
        before
    );
}

#[test]
fn refuses_data_without_schema_version_and_foreign_column_families() {
    let dir = tempfile::tempdir().unwrap();
    populate(dir.path());
    {
        let db = raw(dir.path());
        db.delete_cf(db.cf_handle("meta").unwrap(), b"schema_version")
            .unwrap();
    }
    assert!(matches!(
        RocksStore::open(dir.path(), chain_id()),
        Err(StorageError::Corrupt {
            what: "schema version",
            reason: Corruption::Missing,
            ..
        })
    ));

    let foreign = tempfile::tempdir().unwrap();
    {
        let mut options = Options::default();
        options.create_if_missing(true);
        options.create_missing_column_families(true);
        DB::open_cf(&options, foreign.path(), ["accounts"]).unwrap();
    }
    assert_eq!(
        RocksStore::open(foreign.path(), chain_id()).unwrap_err(),
        StorageError::UnknownColumnFamily {
            name: "accounts".into()
        }
    );
}

#[test]
fn one_handle_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let _store = RocksStore::open(dir.path(), chain_id()).unwrap();
    assert!(matches!(
        RocksStore::open(dir.path(), chain_id()),
        Err(StorageError::Database { .. })
    ));
}

/// The layout the README documents, read with the raw RocksDB API.
#[test]
fn on_disk_layout_is_the_documented_one() {
    let dir = tempfile::tempdir().unwrap();
    let (_, blocks) = populate(dir.path());
    let mut names = DB::list_cf(&Options::default(), dir.path()).unwrap();
    names.sort();
    let mut expected: Vec<String> = COLUMNS
        .iter()
        .map(|name| (*name).to_string())
        .chain(["default".to_string()])
        .collect();
    expected.sort();
    assert_eq!(names, expected);

    let db = raw(dir.path());
    assert_eq!(
        raw_get(&db, "meta", b"schema_version"),
        Some(SCHEMA_VERSION.to_be_bytes().to_vec())
    );
    assert_eq!(
        raw_get(&db, "meta", b"chain_id"),
        Some(chain_id().as_bytes().to_vec())
    );
    assert_eq!(
        raw_get(&db, "meta", b"last_height"),
        Some(3u64.to_be_bytes().to_vec())
    );
    for committed in &blocks {
        let key = committed.block.header.height.to_be_bytes();
        assert_eq!(
            raw_get(&db, "blocks", &key),
            Some(committed.block.to_bytes())
        );
        assert_eq!(
            raw_get(&db, "headers", &key),
            Some(committed.block.header.to_bytes())
        );
        assert_eq!(
            raw_get(&db, "certificates", &key),
            Some(committed.certificate.to_bytes())
        );
    }
    let filing = tx(4, 1, b"filing").id();
    let mut location = 3u64.to_be_bytes().to_vec();
    location.extend_from_slice(&0u32.to_be_bytes());
    assert_eq!(raw_get(&db, "tx_index", filing.as_bytes()), Some(location));
    assert_eq!(raw_get(&db, "state", b"case/1"), Some(b"filed".to_vec()));
    for committed in &blocks {
        let height = committed.block.header.height;
        assert_eq!(
            raw_get(&db, "block_index", committed.block.header.id().as_bytes()),
            Some(height.to_be_bytes().to_vec())
        );
        for receipt in &committed.receipts {
            let mut key = height.to_be_bytes().to_vec();
            key.extend_from_slice(&receipt.index.to_be_bytes());
            assert_eq!(raw_get(&db, "receipts", &key), Some(receipt.to_bytes()));
        }
    }
    // A receipt, byte for byte: tx id, u32 index, u64 height, u16 code.
    let mut receipt_key = 3u64.to_be_bytes().to_vec();
    receipt_key.extend_from_slice(&0u32.to_be_bytes());
    let mut receipt = filing.as_bytes().to_vec();
    receipt.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0]);
    assert_eq!(raw_get(&db, "receipts", &receipt_key), Some(receipt));
    assert_eq!(
        raw_get(&db, "consensus", b"vote"),
        Some(b"precommit".to_vec())
    );
    // The log: blocks 1 to 3 hold 0, 1 and 1 transactions, so it has two leaves and the
    // subtree over both. Key: u8 level, u64 index; value: the 32-byte root.
    let filing_leaf = leaf_hash(filing.as_bytes());
    let first_leaf = leaf_hash(blocks[1].block.txs[0].id().as_bytes());
    let log: Vec<(Vec<u8>, Vec<u8>)> = db
        .iterator_cf(db.cf_handle("log").unwrap(), rocksdb::IteratorMode::Start)
        .map(|item| {
            let (key, value) = item.unwrap();
            (key.to_vec(), value.to_vec())
        })
        .collect();
    assert_eq!(
        log,
        [
            (
                hex::decode("000000000000000000").unwrap(),
                first_leaf.to_vec()
            ),
            (
                hex::decode("000000000000000001").unwrap(),
                filing_leaf.to_vec()
            ),
            (
                hex::decode("010000000000000000").unwrap(),
                node_hash(&first_leaf, &filing_leaf).to_vec()
            ),
        ]
    );
    assert_eq!(
        blocks[2].block.header.log_root.0,
        node_hash(&first_leaf, &filing_leaf)
    );

    // Height keys iterate in height order.
    let heights: Vec<u64> = db
        .iterator_cf(
            db.cf_handle("headers").unwrap(),
            rocksdb::IteratorMode::Start,
        )
        .map(|item| u64::from_be_bytes(item.unwrap().0.as_ref().try_into().unwrap()))
        .collect();
    assert_eq!(heights, [1, 2, 3]);
}

#[test]
fn corrupt_records_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let (_, blocks) = populate(dir.path());
    let path = dir.path();

    // Garbage under a header below the tip: the store opens, reading that header fails.
    raw_put(path, "headers", &1u64.to_be_bytes(), b"garbage");
    let store = RocksStore::open(path, chain_id()).unwrap();
    let error = store.header(1).unwrap_err();
    assert!(
        matches!(
            &error,
            StorageError::Corrupt {
                what: "block header",
                column: "headers",
                reason: Corruption::Decode(_),
                key,
            } if key == &1u64.to_be_bytes()
        ),
        "{error:?}"
    );
    assert!(error
        .to_string()
        .starts_with("corrupt block header in column family `headers` at key 0000000000000001:"));
    // The other records are still readable.
    assert_eq!(store.block(1), Ok(Some(blocks[0].block.clone())));
    drop(store);

    // A well-formed header under the wrong height contradicts its key.
    raw_put(
        path,
        "headers",
        &1u64.to_be_bytes(),
        &blocks[1].block.header.to_bytes(),
    );
    raw_put(
        path,
        "blocks",
        &2u64.to_be_bytes(),
        &blocks[2].block.to_bytes(),
    );
    raw_put(
        path,
        "certificates",
        &3u64.to_be_bytes(),
        &blocks[0].certificate.to_bytes(),
    );
    let store = RocksStore::open(path, chain_id()).unwrap();
    for error in [
        store.header(1).unwrap_err(),
        store.block(2).unwrap_err(),
        store.certificate(3).unwrap_err(),
    ] {
        assert!(
            matches!(
                error,
                StorageError::Corrupt {
                    reason: Corruption::Inconsistent(_),
                    ..
                }
            ),
            "{error:?}"
        );
    }
    drop(store);

    // A huge length prefix in a stored block is refused by the bounded decoder.
    let mut huge = blocks[1].block.header.to_bytes();
    huge.extend_from_slice(&u32::MAX.to_be_bytes());
    raw_put(path, "blocks", &2u64.to_be_bytes(), &huge);
    // A location that is too short, and one that points above the tip.
    let filing = tx(4, 1, b"filing").id();
    raw_put(path, "tx_index", filing.as_bytes(), &[0; 11]);
    let stray = tx(4, 2, b"stray").id();
    let mut above = 9u64.to_be_bytes().to_vec();
    above.extend_from_slice(&0u32.to_be_bytes());
    raw_put(path, "tx_index", stray.as_bytes(), &above);
    let store = RocksStore::open(path, chain_id()).unwrap();
    assert!(matches!(
        store.block(2),
        Err(StorageError::Corrupt {
            what: "block",
            reason: Corruption::Decode(courtledger_codec::DecodeError::TooLong { .. }),
            ..
        })
    ));
    assert!(matches!(
        store.tx_location(&filing),
        Err(StorageError::Corrupt {
            what: "tx location",
            reason: Corruption::Decode(_),
            ..
        })
    ));
    assert!(matches!(
        store.tx_location(&stray),
        Err(StorageError::Corrupt {
            reason: Corruption::Inconsistent(_),
            ..
        })
    ));
    drop(store);

    // A receipt that does not decode, one for another transaction, and a missing one; a block
    // id indexed at the wrong height.
    let mut key = 2u64.to_be_bytes().to_vec();
    key.extend_from_slice(&0u32.to_be_bytes());
    raw_put(path, "receipts", &key, b"short");
    let mut key = 3u64.to_be_bytes().to_vec();
    key.extend_from_slice(&0u32.to_be_bytes());
    raw_put(path, "receipts", &key, &blocks[1].receipts[0].to_bytes());
    raw_put(
        path,
        "block_index",
        blocks[0].block.header.id().as_bytes(),
        &2u64.to_be_bytes(),
    );
    let store = RocksStore::open(path, chain_id()).unwrap();
    assert!(matches!(
        store.receipts(2),
        Err(StorageError::Corrupt {
            what: "receipt",
            reason: Corruption::Decode(_),
            ..
        })
    ));
    assert!(matches!(
        store.receipt(&blocks[1].receipts[0].tx_id),
        Err(StorageError::Corrupt {
            what: "receipt",
            reason: Corruption::Decode(_),
            ..
        })
    ));
    for error in [
        store.receipts(3).unwrap_err(),
        store.height_of(&blocks[0].block.header.id()).unwrap_err(),
    ] {
        assert!(
            matches!(
                error,
                StorageError::Corrupt {
                    reason: Corruption::Inconsistent(_),
                    ..
                }
            ),
            "{error:?}"
        );
    }
    drop(store);
    {
        let db = raw(path);
        db.delete_cf(db.cf_handle("receipts").unwrap(), &key)
            .unwrap();
    }
    let store = RocksStore::open(path, chain_id()).unwrap();
    assert!(matches!(
        store.receipts(3),
        Err(StorageError::Corrupt {
            what: "receipt",
            reason: Corruption::Missing,
            ..
        })
    ));
    drop(store);

    // A missing record below the tip.
    {
        let db = raw(path);
        db.delete_cf(db.cf_handle("certificates").unwrap(), 2u64.to_be_bytes())
            .unwrap();
    }
    let store = RocksStore::open(path, chain_id()).unwrap();
    assert!(matches!(
        store.certificate(2),
        Err(StorageError::Corrupt {
            what: "commit certificate",
            reason: Corruption::Missing,
            ..
        })
    ));
    drop(store);

    // Garbage under the tip's header, or the last height: the store refuses to open.
    raw_put(path, "headers", &3u64.to_be_bytes(), &[0xff; 300]);
    assert!(matches!(
        RocksStore::open(path, chain_id()),
        Err(StorageError::Corrupt {
            what: "block header",
            ..
        })
    ));
    raw_put(path, "meta", b"last_height", &[1, 2, 3]);
    assert!(matches!(
        RocksStore::open(path, chain_id()),
        Err(StorageError::Corrupt {
            what: "last height",
            ..
        })
    ));
}

#[test]
fn corrupt_log_nodes_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    {
        let mut store = RocksStore::open(path, chain_id()).unwrap();
        let mut chain = Chain::new();
        chain.append(
            &mut store,
            (1..=5).map(|nonce| tx(4, nonce, b"act")).collect(),
            vec![],
        );
    }
    // The log has 5 leaves: its right edge is (2, 0) and (0, 4). A damaged leaf inside the
    // log: the store opens, a proof that needs it fails.
    raw_put(
        path,
        "log",
        &hex::decode("000000000000000001").unwrap(),
        b"short",
    );
    let store = RocksStore::open(path, chain_id()).unwrap();
    let view = LogView::new(&store);
    let error = view.prove_inclusion(0, 5).unwrap_err();
    assert!(
        matches!(
            &error,
            LogError::Storage(StorageError::Corrupt {
                what: "log node",
                column: "log",
                reason: Corruption::Decode(_),
                ..
            })
        ),
        "{error:?}"
    );
    // Proofs that do not need it still work.
    assert!(view.prove_inclusion(4, 5).is_ok());
    drop(view);
    drop(store);

    // A missing node inside the log.
    {
        let db = raw(path);
        db.delete_cf(
            db.cf_handle("log").unwrap(),
            hex::decode("010000000000000001").unwrap(),
        )
        .unwrap();
    }
    let store = RocksStore::open(path, chain_id()).unwrap();
    assert!(matches!(
        store.log_node(1, 1),
        Err(StorageError::Corrupt {
            what: "log node",
            reason: Corruption::Missing,
            ..
        })
    ));
    // The consistency proof from 2 to 5 leaves needs (1, 1) and (0, 4).
    assert!(matches!(
        LogView::new(&store).prove_consistency(2, 5),
        Err(LogError::Storage(StorageError::Corrupt {
            reason: Corruption::Missing,
            ..
        }))
    ));
    drop(store);

    // The right edge is read when opening: missing or wrong, the store refuses to open.
    raw_put(
        path,
        "log",
        &hex::decode("020000000000000000").unwrap(),
        &[9; 32],
    );
    assert!(matches!(
        RocksStore::open(path, chain_id()),
        Err(StorageError::Corrupt {
            what: "log node",
            reason: Corruption::Inconsistent(_),
            ..
        })
    ));
    {
        let db = raw(path);
        db.delete_cf(
            db.cf_handle("log").unwrap(),
            hex::decode("000000000000000004").unwrap(),
        )
        .unwrap();
    }
    assert!(matches!(
        RocksStore::open(path, chain_id()),
        Err(StorageError::Corrupt {
            what: "log node",
            reason: Corruption::Missing,
            ..
        })
    ));
}
