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

use crate::support::{
    append_txs, assert_log_matches, chain_id, expected_log_records, other_chain_id, tx, Chain,
    KeyValue,
};

const COLUMNS: [&str; 12] = [
    "blocks",
    "headers",
    "certificates",
    "tx_index",
    "receipts",
    "block_index",
    "log",
    "log_leaves",
    "state",
    "state_diffs",
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

/// Moves the pending state and index writes of the store at `path` into their columns
/// (`flush_state`), so that a test can damage or inspect them there: until then, reads see the
/// pending copy.
fn flush(path: &Path) {
    RocksStore::open(path, chain_id())
        .unwrap()
        .flush_state()
        .unwrap();
}

/// Makes the store at `path` what version 4 wrote (and leaves the raw database open for edits
/// toward older versions): its state and index writes in `state` and `tx_index`, no
/// `state_diffs` column family, no `state_height`, and `schema_version` 4.
fn as_version_4(path: &Path) -> DB {
    flush(path);
    let mut db = raw(path);
    db.drop_cf("state_diffs").unwrap();
    let meta = db.cf_handle("meta").unwrap();
    db.delete_cf(meta, b"state_height").unwrap();
    db.put_cf(meta, b"schema_version", 4u32.to_be_bytes())
        .unwrap();
    db
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
            supported: 5
        }
    );
    assert_eq!(
        error.to_string(),
        "database has schema version 9, this build reads version 5"
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

/// A database of layout version 1 (no `receipts`, no `block_index`, no `log`, no `log_leaves`,
/// no `state_diffs`) is refused by its version, and left exactly as it was: no column family is
/// added to it.
#[test]
fn refuses_a_version_1_database_without_changing_it() {
    let dir = tempfile::tempdir().unwrap();
    populate(dir.path());
    {
        let mut db = as_version_4(dir.path());
        db.drop_cf("receipts").unwrap();
        db.drop_cf("block_index").unwrap();
        db.drop_cf("log").unwrap();
        db.drop_cf("log_leaves").unwrap();
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

/// A database of layout version 2 (no `log`, no `log_leaves`, no `state_diffs`) is refused by
/// its version, unchanged.
#[test]
fn refuses_a_version_2_database_without_changing_it() {
    let dir = tempfile::tempdir().unwrap();
    populate(dir.path());
    {
        let mut db = as_version_4(dir.path());
        db.drop_cf("log").unwrap();
        db.drop_cf("log_leaves").unwrap();
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

/// A database of layout version 3 (a `receipts` record per transaction, every log subtree in
/// `log`, no `log_leaves`, no `state_diffs`) is refused by its version, and left exactly as it
/// was: the build that wrote it can still open it.
#[test]
fn refuses_a_version_3_database_without_changing_it() {
    let dir = tempfile::tempdir().unwrap();
    let (_, blocks) = populate(dir.path());
    {
        // What version 3 wrote for block 3 (one transaction): its receipt under (height,
        // position), its leaf and the subtree over the log's two leaves under (level, index).
        let mut db = as_version_4(dir.path());
        db.drop_cf("log_leaves").unwrap();
        let receipts = db.cf_handle("receipts").unwrap();
        db.delete_cf(receipts, 3u64.to_be_bytes()).unwrap();
        let mut key = 3u64.to_be_bytes().to_vec();
        key.extend_from_slice(&0u32.to_be_bytes());
        db.put_cf(receipts, key, blocks[2].receipts[0].to_bytes())
            .unwrap();
        let log = db.cf_handle("log").unwrap();
        for node in &blocks[2].log_nodes {
            let mut key = vec![node.level];
            key.extend_from_slice(&node.index.to_be_bytes());
            db.put_cf(log, key, node.hash).unwrap();
        }
        db.put_cf(
            db.cf_handle("meta").unwrap(),
            b"schema_version",
            3u32.to_be_bytes(),
        )
        .unwrap();
    }
    let before = DB::list_cf(&Options::default(), dir.path()).unwrap();
    assert!(!before.iter().any(|name| name == "log_leaves"));
    let error = RocksStore::open(dir.path(), chain_id()).unwrap_err();
    assert_eq!(
        error,
        StorageError::SchemaVersion {
            found: 3,
            supported: SCHEMA_VERSION
        }
    );
    assert_eq!(SCHEMA_VERSION, 5);
    assert_eq!(
        error.to_string(),
        "database has schema version 3, this build reads version 5"
    );
    assert_eq!(
        DB::list_cf(&Options::default(), dir.path()).unwrap(),
        before
    );
    // Refused again, still unchanged: nothing was migrated or created by the first attempt.
    assert!(matches!(
        RocksStore::open(dir.path(), chain_id()),
        Err(StorageError::SchemaVersion { found: 3, .. })
    ));
}

/// The columns of a version-4 database.
const V4_COLUMNS: [&str; 11] = [
    "blocks",
    "headers",
    "certificates",
    "tx_index",
    "receipts",
    "block_index",
    "log",
    "log_leaves",
    "state",
    "consensus",
    "meta",
];

/// Every record of a database of `columns`, read without writing to it.
fn all_read_only(path: &Path, columns: &[&str]) -> Vec<(String, Vec<KeyValue>)> {
    let db = DB::open_cf_for_read_only(&Options::default(), path, columns, false).unwrap();
    columns
        .iter()
        .map(|column| ((*column).to_owned(), all(&db, column)))
        .collect()
}

/// A database of layout version 4 (state changes and index entries written straight into
/// `state` and `tx_index`, no `state_diffs`, no `state_height`) is refused by its version, and
/// left exactly as it was: no column family or record is added to it.
#[test]
fn refuses_a_version_4_database_without_changing_it() {
    let dir = tempfile::tempdir().unwrap();
    populate(dir.path());
    drop(as_version_4(dir.path()));
    let before = DB::list_cf(&Options::default(), dir.path()).unwrap();
    assert!(!before.iter().any(|name| name == "state_diffs"));
    assert_eq!(before.len(), 12, "{before:?}");
    let records = all_read_only(dir.path(), &V4_COLUMNS);
    // What version 4 holds after block 3: its state change and index entry in their columns.
    let filing = tx(4, 1, b"filing").id();
    let column = |name: &str| {
        records
            .iter()
            .find(|(found, _)| found == name)
            .map(|(_, records)| records.clone())
            .unwrap()
    };
    assert_eq!(column("state"), [(b"case/1".to_vec(), b"filed".to_vec())]);
    assert!(column("tx_index")
        .iter()
        .any(|(key, _)| key == filing.as_bytes()));
    assert!(!column("meta").iter().any(|(key, _)| key == b"state_height"));

    let error = RocksStore::open(dir.path(), chain_id()).unwrap_err();
    assert_eq!(
        error,
        StorageError::SchemaVersion {
            found: 4,
            supported: SCHEMA_VERSION
        }
    );
    assert_eq!(
        error.to_string(),
        "database has schema version 4, this build reads version 5"
    );
    assert_eq!(
        DB::list_cf(&Options::default(), dir.path()).unwrap(),
        before
    );
    assert_eq!(all_read_only(dir.path(), &V4_COLUMNS), records);
    // Refused again, still unchanged.
    assert!(matches!(
        RocksStore::open(dir.path(), chain_id()),
        Err(StorageError::SchemaVersion { found: 4, .. })
    ));
    assert_eq!(all_read_only(dir.path(), &V4_COLUMNS), records);

    // Version 5 without `state_diffs` is damage, not another version.
    {
        let db = DB::open_cf(&Options::default(), dir.path(), V4_COLUMNS).unwrap();
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
            column: "state_diffs",
            reason: Corruption::Missing,
            ..
        })
    ));
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

/// Every record of a column family, in key order.
fn all(db: &DB, column: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    db.iterator_cf(db.cf_handle(column).unwrap(), rocksdb::IteratorMode::Start)
        .map(|item| {
            let (key, value) = item.unwrap();
            (key.to_vec(), value.to_vec())
        })
        .collect()
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
    // The state changes and new index entries of the blocks since the last move (all three
    // here) are in `state_diffs`, one record per block under its height: a u32 count of
    // changes, each a u32-length key, tag 1 and a u32-length value (tag 0 alone: a deletion);
    // a u32 count of index entries, each a tx id and its u32 position. `state` and `tx_index`
    // do not have them yet, and `state_height` (up to which they do) is 0.
    let filing = tx(4, 1, b"filing").id();
    let act = blocks[1].block.txs[0].id();
    let mut diff_2 = vec![0, 0, 0, 0, 0, 0, 0, 1];
    diff_2.extend_from_slice(act.as_bytes());
    diff_2.extend_from_slice(&[0, 0, 0, 0]);
    let mut diff_3 = vec![0, 0, 0, 1];
    diff_3.extend_from_slice(&[0, 0, 0, 6]);
    diff_3.extend_from_slice(b"case/1");
    diff_3.extend_from_slice(&[1, 0, 0, 0, 5]);
    diff_3.extend_from_slice(b"filed");
    diff_3.extend_from_slice(&[0, 0, 0, 1]);
    diff_3.extend_from_slice(filing.as_bytes());
    diff_3.extend_from_slice(&[0, 0, 0, 0]);
    assert_eq!(
        all(&db, "state_diffs"),
        [
            (1u64.to_be_bytes().to_vec(), vec![0; 8]),
            (2u64.to_be_bytes().to_vec(), diff_2),
            (3u64.to_be_bytes().to_vec(), diff_3),
        ]
    );
    assert_eq!(all(&db, "state"), []);
    assert_eq!(all(&db, "tx_index"), []);
    assert_eq!(
        raw_get(&db, "meta", b"state_height"),
        Some(0u64.to_be_bytes().to_vec())
    );
    for committed in &blocks {
        let height = committed.block.header.height;
        assert_eq!(
            raw_get(&db, "block_index", committed.block.header.id().as_bytes()),
            Some(height.to_be_bytes().to_vec())
        );
        // One record per block, under its height: the receipts' encodings, concatenated.
        let concatenated: Vec<u8> = committed
            .receipts
            .iter()
            .flat_map(|receipt| receipt.to_bytes())
            .collect();
        assert_eq!(
            raw_get(&db, "receipts", &height.to_be_bytes()),
            Some(concatenated)
        );
    }
    // An empty block has an empty record.
    assert_eq!(raw_get(&db, "receipts", &1u64.to_be_bytes()), Some(vec![]));
    // Block 3's receipts, byte for byte: one receipt of tx id, u32 index, u64 height, u16 code.
    let mut receipt = filing.as_bytes().to_vec();
    receipt.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0]);
    assert_eq!(raw_get(&db, "receipts", &3u64.to_be_bytes()), Some(receipt));
    let receipt_keys: Vec<Vec<u8>> = db
        .iterator_cf(
            db.cf_handle("receipts").unwrap(),
            rocksdb::IteratorMode::Start,
        )
        .map(|item| item.unwrap().0.to_vec())
        .collect();
    assert_eq!(
        receipt_keys,
        [1u64, 2, 3].map(|height| height.to_be_bytes().to_vec())
    );
    assert_eq!(
        raw_get(&db, "consensus", b"vote"),
        Some(b"precommit".to_vec())
    );
    // The log: blocks 1 to 3 hold 0, 1 and 1 transactions, so it has two leaves, both in
    // chunk 0 of `log_leaves` (key: u64 chunk index; value: the leaf hashes, 32 bytes each).
    // The subtree over both (level 1) is not stored, and `log` holds nothing below level 4.
    let filing_leaf = leaf_hash(filing.as_bytes());
    let first_leaf = leaf_hash(blocks[1].block.txs[0].id().as_bytes());
    assert_eq!(
        all(&db, "log_leaves"),
        [(
            hex::decode("0000000000000000").unwrap(),
            [first_leaf, filing_leaf].concat()
        )]
    );
    assert_eq!(all(&db, "log"), []);
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
    drop(db);

    // After `flush_state`, the writes are in their columns (`tx_index`: tx id → u64 height and
    // u32 position; `state`: the key and value as given), `state_diffs` is empty and
    // `state_height` is the last height.
    flush(dir.path());
    let db = raw(dir.path());
    let location = |height: u64| {
        let mut location = height.to_be_bytes().to_vec();
        location.extend_from_slice(&0u32.to_be_bytes());
        location
    };
    let mut index = vec![
        (act.as_bytes().to_vec(), location(2)),
        (filing.as_bytes().to_vec(), location(3)),
    ];
    index.sort();
    assert_eq!(all(&db, "tx_index"), index);
    assert_eq!(
        raw_get(&db, "tx_index", filing.as_bytes()),
        Some(location(3))
    );
    assert_eq!(all(&db, "state"), [(b"case/1".to_vec(), b"filed".to_vec())]);
    assert_eq!(all(&db, "state_diffs"), []);
    assert_eq!(
        raw_get(&db, "meta", b"state_height"),
        Some(3u64.to_be_bytes().to_vec())
    );
    assert_eq!(
        raw_get(&db, "meta", b"last_height"),
        Some(3u64.to_be_bytes().to_vec())
    );
}

#[test]
fn corrupt_records_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let (_, blocks) = populate(dir.path());
    let path = dir.path();
    // The state and index writes into their columns, where this test damages them.
    flush(path);

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

    // Receipts records (one per block) that do not decode, one with another block's receipt,
    // and a missing one; a block id indexed at the wrong height. (The filing's location and
    // header 1 first get their true values back.)
    raw_put(
        path,
        "headers",
        &1u64.to_be_bytes(),
        &blocks[0].block.header.to_bytes(),
    );
    let mut location = 3u64.to_be_bytes().to_vec();
    location.extend_from_slice(&0u32.to_be_bytes());
    raw_put(path, "tx_index", filing.as_bytes(), &location);
    let block_2_tx = blocks[1].receipts[0].tx_id;
    raw_put(path, "receipts", &2u64.to_be_bytes(), b"short");
    raw_put(
        path,
        "receipts",
        &3u64.to_be_bytes(),
        &blocks[1].receipts[0].to_bytes(),
    );
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
            column: "receipts",
            reason: Corruption::Decode(_),
            ..
        })
    ));
    assert!(matches!(
        store.receipt(&block_2_tx),
        Err(StorageError::Corrupt {
            what: "receipt",
            reason: Corruption::Decode(_),
            ..
        })
    ));
    for error in [
        store.receipts(3).unwrap_err(),
        store.receipt(&filing).unwrap_err(),
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

    // A record of another length than the block's transactions times 46 bytes: one receipt
    // too many, one byte too many or too few, stray bytes under an empty block.
    let filing_receipt = blocks[2].receipts[0].to_bytes();
    let lengths: [(u64, Vec<u8>); 4] = [
        (3, [filing_receipt.clone(), filing_receipt.clone()].concat()),
        (3, [filing_receipt.clone(), vec![0]].concat()),
        (3, filing_receipt[..45].to_vec()),
        (1, vec![0; 46]),
    ];
    for (height, value) in lengths {
        raw_put(path, "receipts", &height.to_be_bytes(), &value);
        let store = RocksStore::open(path, chain_id()).unwrap();
        let error = store.receipts(height).unwrap_err();
        assert!(
            matches!(
                &error,
                StorageError::Corrupt {
                    what: "receipt",
                    column: "receipts",
                    reason: Corruption::Decode(courtledger_codec::DecodeError::Invalid { .. }),
                    key,
                } if key == &height.to_be_bytes()
            ),
            "{error:?}"
        );
        // By tx id, only the receipt's own 46 bytes are read: a record of whole receipts that
        // holds it is read; one of a partial receipt is not.
        if height == 3 {
            let by_id = store.receipt(&filing);
            if value.len() % 46 == 0 {
                assert_eq!(by_id, Ok(Some(blocks[2].receipts[0])));
            } else {
                assert!(
                    matches!(
                        by_id,
                        Err(StorageError::Corrupt {
                            reason: Corruption::Decode(_),
                            ..
                        })
                    ),
                    "{by_id:?}"
                );
            }
        }
        drop(store);
    }
    raw_put(path, "receipts", &1u64.to_be_bytes(), &[]);

    {
        let db = raw(path);
        db.delete_cf(db.cf_handle("receipts").unwrap(), 3u64.to_be_bytes())
            .unwrap();
    }
    let store = RocksStore::open(path, chain_id()).unwrap();
    assert_eq!(store.receipts(1), Ok(Some(vec![])));
    for error in [
        store.receipts(3).unwrap_err(),
        store.receipt(&filing).unwrap_err(),
    ] {
        assert!(
            matches!(
                &error,
                StorageError::Corrupt {
                    what: "receipt",
                    reason: Corruption::Missing,
                    key,
                    ..
                } if key == &3u64.to_be_bytes()
            ),
            "{error:?}"
        );
    }
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

/// The log on disk, block after block, each in a newly opened database: `log_leaves` holds the
/// leaves 16 to a record, the partial last chunk rewritten in full by the next block that adds
/// to it (after a reopen too: the partial chunk is read back when opening); `log` holds only
/// the subtrees of 16 leaves and more; the right edge read back lets the next block append.
#[test]
fn log_records_on_disk_follow_the_chunks_across_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    let mut chain = Chain::new();
    let mut nonce = 0;
    let mut leaves: Vec<courtledger_merkle::Hash> = Vec::new();
    for count in [5, 3, 8, 1, 20, 0, 14, 33, 2] {
        {
            let mut store = RocksStore::open(path, chain_id()).unwrap();
            assert_log_matches(&store, &leaves);
            let committed = append_txs(&mut chain, &mut store, count, &mut nonce);
            leaves.extend(
                committed
                    .block
                    .tx_ids()
                    .iter()
                    .map(|id| leaf_hash(id.as_bytes())),
            );
        }
        let db = raw(path);
        let (chunks, log) = expected_log_records(&leaves);
        assert_eq!(
            all(&db, "log_leaves"),
            chunks,
            "after {} leaves",
            leaves.len()
        );
        assert_eq!(all(&db, "log"), log, "after {} leaves", leaves.len());
    }
    assert_eq!(leaves.len(), 86);
    // 86 leaves: chunks 0 to 5 (the last with 6 leaves); subtrees (4, 0..5), (5, 0), (5, 1),
    // (6, 0).
    let db = raw(path);
    assert_eq!(all(&db, "log_leaves").len(), 6);
    assert_eq!(all(&db, "log_leaves")[5].1.len(), 6 * 32);
    let keys: Vec<String> = all(&db, "log")
        .into_iter()
        .map(|(key, _)| hex::encode(key))
        .collect();
    assert_eq!(
        keys,
        [
            "040000000000000000",
            "040000000000000001",
            "040000000000000002",
            "040000000000000003",
            "040000000000000004",
            "050000000000000000",
            "050000000000000001",
            "060000000000000000",
        ]
    );
    drop(db);
    let store = RocksStore::open(path, chain_id()).unwrap();
    assert_log_matches(&store, &leaves);
}

/// Whether `result` is the corruption of a log record in `column` at `key`, for `reason`.
fn log_corrupt<T: std::fmt::Debug>(
    result: Result<T, StorageError>,
    column: &str,
    key: &[u8],
    reason: Reason,
) -> bool {
    match result {
        Err(StorageError::Corrupt {
            what: "log node",
            column: found_column,
            key: found_key,
            reason: found_reason,
        }) => found_column == column && found_key == key && reason(&found_reason),
        other => {
            eprintln!("not the expected corruption: {other:?}");
            false
        }
    }
}

/// Which corruption a test expects.
type Reason = fn(&Corruption) -> bool;

fn decode(reason: &Corruption) -> bool {
    matches!(reason, Corruption::Decode(_))
}

fn missing(reason: &Corruption) -> bool {
    matches!(reason, Corruption::Missing)
}

fn inconsistent(reason: &Corruption) -> bool {
    matches!(reason, Corruption::Inconsistent(_))
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
        chain.append(
            &mut store,
            (6..=21).map(|nonce| tx(4, nonce, b"act")).collect(),
            vec![],
        );
    }
    // The log has 21 leaves: chunk 0 (16 leaves), chunk 1 (5), and in `log` the subtree
    // (4, 0). Its right edge is (4, 0), (2, 4) and (0, 20): the last two from chunk 1.
    let chunk_0 = 0u64.to_be_bytes();
    let chunk_1 = 1u64.to_be_bytes();
    let node_4_0 = hex::decode("040000000000000000").unwrap();
    let (full, partial, high) = {
        let db = raw(path);
        (
            raw_get(&db, "log_leaves", &chunk_0).unwrap(),
            raw_get(&db, "log_leaves", &chunk_1).unwrap(),
            raw_get(&db, "log", &node_4_0).unwrap(),
        )
    };
    assert_eq!(
        (full.len(), partial.len(), high.len()),
        (16 * 32, 5 * 32, 32)
    );
    assert_eq!(all(&raw(path), "log").len(), 1);

    // A full chunk inside the log damaged: the store opens (the right edge does not need it),
    // every node folded from it and every proof that needs one fails; the others work.
    let damaged: [(&str, Vec<u8>); 4] = [
        ("not whole leaves", full[..16 * 32 - 1].to_vec()),
        ("a leaf short", full[..15 * 32].to_vec()),
        ("a leaf too many", [full.clone(), vec![7; 32]].concat()),
        ("empty", vec![]),
    ];
    for (case, value) in damaged {
        raw_put(path, "log_leaves", &chunk_0, &value);
        let store = RocksStore::open(path, chain_id()).unwrap();
        for (level, index) in [(0, 0), (0, 15), (1, 3), (2, 1), (3, 1)] {
            assert!(
                log_corrupt(store.log_node(level, index), "log_leaves", &chunk_0, decode),
                "{case}: ({level}, {index})"
            );
        }
        assert_eq!(
            store.log_node(4, 0),
            Ok(Some(high.clone().try_into().unwrap()))
        );
        let view = LogView::new(&store);
        let error = view.prove_inclusion(3, 21).unwrap_err();
        assert!(
            matches!(
                &error,
                LogError::Storage(StorageError::Corrupt {
                    what: "log node",
                    column: "log_leaves",
                    reason: Corruption::Decode(_),
                    ..
                })
            ),
            "{case}: {error:?}"
        );
        assert!(view.prove_inclusion(20, 21).is_ok(), "{case}");
        assert!(view.prove_consistency(16, 21).is_ok(), "{case}");
        drop(view);
        drop(store);
    }

    // A missing chunk inside the log.
    {
        let db = raw(path);
        db.delete_cf(db.cf_handle("log_leaves").unwrap(), chunk_0)
            .unwrap();
    }
    let store = RocksStore::open(path, chain_id()).unwrap();
    assert!(log_corrupt(
        store.log_node(1, 1),
        "log_leaves",
        &chunk_0,
        missing
    ));
    // The consistency proof from 2 to 21 leaves needs (1, 1), (2, 1) and (3, 1).
    assert!(matches!(
        LogView::new(&store).prove_consistency(2, 21),
        Err(LogError::Storage(StorageError::Corrupt {
            reason: Corruption::Missing,
            ..
        }))
    ));
    drop(store);
    raw_put(path, "log_leaves", &chunk_0, &full);

    // The right edge is read when opening: from `log` and from the partial chunk. Missing,
    // damaged or wrong, the store refuses to open.
    raw_put(path, "log", &node_4_0, &[9; 32]);
    assert!(log_corrupt(
        RocksStore::open(path, chain_id()),
        "log",
        &[],
        inconsistent
    ));
    raw_put(path, "log", &node_4_0, &[9; 31]);
    assert!(log_corrupt(
        RocksStore::open(path, chain_id()),
        "log",
        &node_4_0,
        decode
    ));
    {
        let db = raw(path);
        db.delete_cf(db.cf_handle("log").unwrap(), &node_4_0)
            .unwrap();
    }
    assert!(log_corrupt(
        RocksStore::open(path, chain_id()),
        "log",
        &node_4_0,
        missing
    ));
    raw_put(path, "log", &node_4_0, &high);

    let mut flipped = partial.clone();
    flipped[40] ^= 1;
    // A flipped leaf in the partial chunk changes the right edge's root: inconsistent with the
    // last header (reported in `log`, where the edge is folded). A chunk of another size than
    // the log's 5 leaves there does not decode.
    let tails: [(Vec<u8>, &str, &[u8], Reason); 5] = [
        (flipped, "log", &[], inconsistent),
        (partial[..4 * 32].to_vec(), "log_leaves", &chunk_1, decode),
        (
            [partial.clone(), vec![0; 32]].concat(),
            "log_leaves",
            &chunk_1,
            decode,
        ),
        (
            partial[..5 * 32 - 1].to_vec(),
            "log_leaves",
            &chunk_1,
            decode,
        ),
        (vec![], "log_leaves", &chunk_1, decode),
    ];
    for (value, column, key, reason) in tails {
        raw_put(path, "log_leaves", &chunk_1, &value);
        assert!(
            log_corrupt(RocksStore::open(path, chain_id()), column, key, reason),
            "a tail of {} bytes",
            value.len()
        );
    }
    {
        let db = raw(path);
        db.delete_cf(db.cf_handle("log_leaves").unwrap(), chunk_1)
            .unwrap();
    }
    assert!(log_corrupt(
        RocksStore::open(path, chain_id()),
        "log_leaves",
        &chunk_1,
        missing
    ));

    // Restored, the store opens and goes on.
    raw_put(path, "log_leaves", &chunk_1, &partial);
    let store = RocksStore::open(path, chain_id()).unwrap();
    assert_eq!(store.log_size(), 21);
}
