//! Behaviours that both stores must show identically. Each is a function of `&mut dyn Store`,
//! run by `both!` once on a `MemoryStore` and once on a `RocksStore` in a temporary directory;
//! those that restart the store or read its records take the store by value (`S: Reopen`).

use courtledger_codec::Encode;
use courtledger_merkle::{leaf_hash, root, Hash, ProofError};
use courtledger_storage::{
    CommittedBlock, ConsensusRecord, LogError, LogView, MemoryStore, RocksStore, StateChange,
    StorageError, Store, TxLocation, MAX_STATE_SCAN,
};
use courtledger_types::limits::{
    MAX_STATE_KEY_BYTES, MAX_STATE_VALUE_BYTES, MAX_TX_PAYLOAD_BYTES, MAX_VALIDATORS,
    STATE_PENDING_MAX_BLOCKS, STATE_PENDING_MAX_BYTES,
};
use courtledger_types::{CommitSignature, SignedTransaction, TxId};

use crate::support::{
    append_txs, apply_changes, assert_log_matches, chain_id, disk_diff_heights, disk_state_height,
    expected_log_records, model_scan, other_chain_id, recertify, state_diff_len, tx, validators,
    Chain, Reopen, Rng, Snapshot, StateModel, BLOCK_SIZE_PATTERNS,
};

macro_rules! both {
    (borrowing: $($name:ident),* $(,)?; owning: $($owned:ident),* $(,)?) => {
        mod memory {
            $(
                #[test]
                fn $name() {
                    let mut store = courtledger_storage::MemoryStore::new(crate::support::chain_id());
                    super::$name(&mut store);
                }
            )*
            $(
                #[test]
                fn $owned() {
                    super::$owned(courtledger_storage::MemoryStore::new(crate::support::chain_id()));
                }
            )*
        }
        mod rocks {
            $(
                #[test]
                fn $name() {
                    let dir = tempfile::tempdir().unwrap();
                    let mut store =
                        courtledger_storage::RocksStore::open(dir.path(), crate::support::chain_id())
                            .unwrap();
                    super::$name(&mut store);
                }
            )*
            $(
                #[test]
                fn $owned() {
                    let dir = tempfile::tempdir().unwrap();
                    super::$owned(
                        courtledger_storage::RocksStore::open(dir.path(), crate::support::chain_id())
                            .unwrap(),
                    );
                }
            )*
        }
    };
}

both!(
    borrowing:
    starts_empty,
    blocks_round_trip,
    refuses_wrong_height,
    refuses_wrong_parent,
    refuses_mismatching_certificate,
    refuses_wrong_chain,
    refuses_transactions_not_matching_header,
    refuses_what_would_not_decode,
    indexes_transactions,
    stores_receipts,
    looks_up_receipts_at_every_position,
    refuses_mismatching_receipts,
    indexes_block_ids,
    scans_state,
    applies_state_changes,
    keeps_consensus_records,
    stores_the_log,
    proves_from_the_stored_log,
    refuses_mismatching_log_nodes;
    owning:
    flushes_state_on_demand,
    replays_pending_writes_on_reopening,
    moves_pending_writes_every_256_blocks,
    moves_pending_writes_at_the_byte_bound,
    refuses_oversized_state_changes,
);

/// Appends blocks of `pattern`'s sizes (cycled; the last one cut to fit) to an empty `store`
/// until its log holds 100 leaves, and checks every subtree after each block.
fn log_up_to_100(store: &mut dyn Store, pattern: &[usize]) {
    let mut chain = Chain::new();
    let mut nonce = 0;
    let mut leaves: Vec<Hash> = Vec::new();
    for &count in pattern.iter().cycle() {
        let count = count.min(100 - leaves.len());
        let committed = append_txs(&mut chain, store, count, &mut nonce);
        leaves.extend(ids(&committed).iter().map(|id| leaf_hash(id.as_bytes())));
        assert_log_matches(store, &leaves);
        if leaves.len() == 100 {
            break;
        }
    }
}

/// `log_node` at every level and index of logs of 1 to 100 leaves, against the leaves.
#[test]
fn log_nodes_at_every_size_in_memory() {
    for pattern in BLOCK_SIZE_PATTERNS {
        log_up_to_100(&mut MemoryStore::new(chain_id()), pattern);
    }
}

/// The same, in RocksDB.
#[test]
fn log_nodes_at_every_size_in_rocksdb() {
    for pattern in BLOCK_SIZE_PATTERNS {
        let dir = tempfile::tempdir().unwrap();
        log_up_to_100(
            &mut RocksStore::open(dir.path(), chain_id()).unwrap(),
            pattern,
        );
    }
}

/// The log's records in a `MemoryStore`: each block rewrites the partial chunk in full, `log`
/// holds the subtrees of 16 leaves and more; reopening the records (what a restart reads)
/// restores the right edge and the partial chunk, so the next block extends them.
#[test]
fn memory_log_records_follow_the_chunks_across_reopens() {
    let mut store = MemoryStore::new(chain_id());
    let mut chain = Chain::new();
    let mut nonce = 0;
    let mut leaves: Vec<Hash> = Vec::new();
    for count in [5, 3, 8, 1, 20, 0, 14, 33, 2] {
        let committed = append_txs(&mut chain, &mut store, count, &mut nonce);
        leaves.extend(ids(&committed).iter().map(|id| leaf_hash(id.as_bytes())));
        let column = |name: &str| -> Vec<(Vec<u8>, Vec<u8>)> {
            store
                .records()
                .into_iter()
                .filter(|(column, _, _)| column == name)
                .map(|(_, key, value)| (key, value))
                .collect()
        };
        let (chunks, log) = expected_log_records(&leaves);
        assert_eq!(
            column("log_leaves"),
            chunks,
            "after {} leaves",
            leaves.len()
        );
        assert_eq!(column("log"), log, "after {} leaves", leaves.len());
        store = MemoryStore::from_records(chain_id(), store.records()).unwrap();
        assert_log_matches(&store, &leaves);
    }
    assert_eq!(leaves.len(), 86);
}

/// Both implementations are usable behind the trait object the node and simulator hold.
#[test]
fn both_are_stores() {
    fn assert_store<S: Store + Send + std::fmt::Debug>() {}
    assert_store::<MemoryStore>();
    assert_store::<RocksStore>();
}

fn ids(committed: &CommittedBlock) -> Vec<TxId> {
    committed.block.tx_ids()
}

fn starts_empty(store: &mut dyn Store) {
    assert_eq!(store.chain_id(), chain_id());
    assert_eq!(store.last_height(), 0);
    assert_eq!(store.last_block_id(), chain_id().0);
    for height in [0, 1, 2, u64::MAX] {
        assert_eq!(store.header(height), Ok(None));
        assert_eq!(store.block(height), Ok(None));
        assert_eq!(store.certificate(height), Ok(None));
    }
    assert_eq!(store.tx_location(&tx(1, 0, b"x").id()), Ok(None));
    assert_eq!(store.receipt(&tx(1, 0, b"x").id()), Ok(None));
    for height in [0, 1, u64::MAX] {
        assert_eq!(store.receipts(height), Ok(None));
    }
    assert_eq!(store.height_of(&chain_id().0), Ok(None));
    assert_eq!(store.state_get(b"key"), Ok(None));
    assert_eq!(store.state_scan(b"", None, 10), Ok(vec![]));
    assert_eq!(store.consensus_get(b"key"), Ok(None));
}

fn blocks_round_trip(store: &mut dyn Store) {
    let mut chain = Chain::new();
    let blocks = chain.append_many(store, 5);
    assert_eq!(store.last_height(), 5);
    assert_eq!(store.last_block_id(), blocks[4].block.header.id());
    for committed in &blocks {
        let height = committed.block.header.height;
        assert_eq!(
            store.header(height),
            Ok(Some(committed.block.header.clone()))
        );
        assert_eq!(store.block(height), Ok(Some(committed.block.clone())));
        assert_eq!(
            store.certificate(height),
            Ok(Some(committed.certificate.clone()))
        );
        // The certificates are real: they verify against the test validators.
        let certificate = store.certificate(height).unwrap().unwrap();
        certificate
            .verify(
                &chain_id(),
                &validators(),
                height,
                &committed.block.header.id(),
            )
            .unwrap();
    }
    assert_eq!(blocks[0].block.txs.len(), 0);
    assert_eq!(blocks[4].block.txs.len(), 4);
    for height in [0, 6, 7, u64::MAX] {
        assert_eq!(store.header(height), Ok(None));
        assert_eq!(store.block(height), Ok(None));
        assert_eq!(store.certificate(height), Ok(None));
    }
}

/// Tries `committed`, expects `expected`, and checks that nothing was written.
fn assert_refused(store: &mut dyn Store, committed: &CommittedBlock, expected: StorageError) {
    let state_keys: Vec<&[u8]> = committed
        .state_changes
        .iter()
        .map(|change| change.key.as_slice())
        .chain([b"kept".as_slice()])
        .collect();
    let before = Snapshot::take(store, &ids(committed), &state_keys);
    assert_eq!(store.append_block(committed), Err(expected));
    assert_eq!(Snapshot::take(store, &ids(committed), &state_keys), before);
    // The refused blocks of these tests hold only new transactions.
    for id in ids(committed) {
        assert_eq!(store.tx_location(&id), Ok(None));
    }
}

/// Two stored blocks and state, so that refusals are checked against a non-empty store.
fn two_blocks(store: &mut dyn Store) -> Chain {
    let mut chain = Chain::new();
    chain.append(
        store,
        vec![tx(1, 1, b"a")],
        vec![StateChange::set("kept", "1")],
    );
    chain.append(store, vec![tx(1, 2, b"b")], vec![]);
    chain
}

fn next(chain: &Chain) -> CommittedBlock {
    chain.peek(
        vec![tx(2, 3, b"refused"), tx(2, 4, b"refused")],
        vec![
            StateChange::set("refused", "x"),
            StateChange::delete("kept"),
        ],
    )
}

fn refuses_wrong_height(store: &mut dyn Store) {
    let mut first = Chain::new().peek(vec![], vec![]);
    first.block.header.height = 2;
    recertify(&mut first);
    assert_refused(
        store,
        &first,
        StorageError::WrongHeight {
            expected: 1,
            actual: 2,
        },
    );

    let chain = two_blocks(store);
    for height in [0, 1, 2, 4, u64::MAX] {
        let mut committed = next(&chain);
        committed.block.header.height = height;
        recertify(&mut committed);
        assert_refused(
            store,
            &committed,
            StorageError::WrongHeight {
                expected: 3,
                actual: height,
            },
        );
    }
    // The same block at the right height is accepted: only the height was wrong.
    store.append_block(&next(&chain)).unwrap();
    assert_eq!(store.last_height(), 3);
}

fn refuses_wrong_parent(store: &mut dyn Store) {
    let mut first = Chain::new().peek(vec![], vec![]);
    let wrong = courtledger_crypto::sha256(b"not the chain id");
    first.block.header.parent_id = wrong;
    recertify(&mut first);
    assert_refused(
        store,
        &first,
        StorageError::WrongParent {
            height: 1,
            expected: chain_id().0,
            actual: wrong,
        },
    );

    let chain = two_blocks(store);
    let expected = store.last_block_id();
    let first_id = store.header(1).unwrap().unwrap().id();
    for parent in [first_id, chain_id().0, wrong] {
        let mut committed = next(&chain);
        committed.block.header.parent_id = parent;
        recertify(&mut committed);
        assert_refused(
            store,
            &committed,
            StorageError::WrongParent {
                height: 3,
                expected,
                actual: parent,
            },
        );
    }
}

fn refuses_mismatching_certificate(store: &mut dyn Store) {
    let chain = two_blocks(store);
    let good = next(&chain);

    let mut wrong_height = good.clone();
    wrong_height.certificate.height = 2;
    assert_refused(
        store,
        &wrong_height,
        StorageError::CertificateWrongHeight {
            expected: 3,
            actual: 2,
        },
    );

    // The certificate of the stored block 2, and one for a sibling of the block at height 3.
    let stored = store.certificate(2).unwrap().unwrap();
    let mut sibling = good.clone();
    sibling.block.header.time_ms += 1;
    recertify(&mut sibling);
    for other in [stored.block_id, sibling.certificate.block_id] {
        let mut wrong_block = good.clone();
        wrong_block.certificate.block_id = other;
        assert_refused(
            store,
            &wrong_block,
            StorageError::CertificateWrongBlock {
                height: 3,
                expected: good.block.header.id(),
                actual: other,
            },
        );
    }
    store.append_block(&good).unwrap();
}

fn refuses_wrong_chain(store: &mut dyn Store) {
    let chain = two_blocks(store);
    let mut committed = next(&chain);
    committed.block.header.chain_id = other_chain_id();
    recertify(&mut committed);
    assert_refused(
        store,
        &committed,
        StorageError::WrongChain {
            expected: chain_id(),
            actual: other_chain_id(),
        },
    );
}

fn refuses_transactions_not_matching_header(store: &mut dyn Store) {
    let chain = two_blocks(store);
    let good = next(&chain);

    let mut missing = good.clone();
    missing.block.txs.pop();
    assert_refused(
        store,
        &missing,
        StorageError::TxCountMismatch {
            height: 3,
            header: 2,
            actual: 1,
        },
    );

    let mut reordered = good.clone();
    reordered.block.txs.swap(0, 1);
    let reordered_ids: Vec<TxId> = reordered.block.tx_ids();
    assert_refused(
        store,
        &reordered,
        StorageError::TxRootMismatch {
            height: 3,
            header: good.block.header.tx_root,
            actual: courtledger_types::block::tx_root(&reordered_ids),
        },
    );

    let mut replaced = good.clone();
    replaced.block.txs[1] = tx(3, 9, b"other");
    assert!(matches!(
        store.append_block(&replaced),
        Err(StorageError::TxRootMismatch { height: 3, .. })
    ));
    assert_eq!(store.last_height(), 2);
}

fn refuses_what_would_not_decode(store: &mut dyn Store) {
    let mut chain = two_blocks(store);

    // A payload over the limit: the block would be unreadable.
    let payload = vec![7u8; usize::try_from(MAX_TX_PAYLOAD_BYTES).unwrap() + 1];
    let oversized = chain.peek(vec![tx(1, 5, &payload)], vec![]);
    let Err(StorageError::NotDecodable { what, error }) = store.append_block(&oversized) else {
        panic!("an oversized transaction must be refused");
    };
    assert_eq!(what, "block");
    assert!(
        matches!(
            error,
            courtledger_codec::DecodeError::TooLong {
                what: "transaction payload",
                ..
            }
        ),
        "{error:?}"
    );

    // More signatures than a validator set can hold: the certificate would be unreadable.
    let mut crowded = chain.peek(vec![], vec![]);
    let signature = crowded.certificate.signatures[0].signature;
    crowded.certificate.signatures = (0..=u16::try_from(MAX_VALIDATORS).unwrap())
        .map(|validator_index| CommitSignature {
            validator_index,
            signature,
        })
        .collect();
    assert!(matches!(
        store.append_block(&crowded),
        Err(StorageError::NotDecodable {
            what: "certificate",
            ..
        })
    ));
    let error = store.append_block(&crowded).unwrap_err();
    assert_refused(store, &crowded, error);

    // The largest payload the limits allow is stored and read back.
    let payload = vec![7u8; usize::try_from(MAX_TX_PAYLOAD_BYTES).unwrap()];
    let largest = chain.append(store, vec![tx(1, 6, &payload)], vec![]);
    assert_eq!(store.block(3), Ok(Some(largest.block.clone())));
    assert!(largest.block.to_bytes().len() > usize::try_from(MAX_TX_PAYLOAD_BYTES).unwrap());
}

fn indexes_transactions(store: &mut dyn Store) {
    let mut chain = Chain::new();
    let blocks = chain.append_many(store, 4);
    for committed in &blocks {
        let height = committed.block.header.height;
        for (position, id) in ids(committed).iter().enumerate() {
            let position = u32::try_from(position).unwrap();
            assert_eq!(
                store.tx_location(id),
                Ok(Some(TxLocation { height, position }))
            );
            let block = store.block(height).unwrap().unwrap();
            let stored: &SignedTransaction = &block.txs[usize::try_from(position).unwrap()];
            assert_eq!(&stored.id(), id);
        }
    }
    assert_eq!(store.tx_location(&tx(9, 9, b"never").id()), Ok(None));

    // A repeated id keeps its first location, within a block and across blocks.
    let first = tx(5, 1, b"filing");
    let again = chain.append(
        store,
        vec![tx(5, 2, b"other"), first.clone(), first.clone()],
        vec![],
    );
    let location = TxLocation {
        height: again.block.header.height,
        position: 1,
    };
    assert_eq!(store.tx_location(&first.id()), Ok(Some(location)));
    assert_eq!(store.receipt(&first.id()), Ok(Some(again.receipts[1])));
    chain.append(store, vec![first.clone()], vec![]);
    assert_eq!(store.tx_location(&first.id()), Ok(Some(location)));
    assert_eq!(store.receipt(&first.id()), Ok(Some(again.receipts[1])));
    assert_eq!(store.block(6).unwrap().unwrap().txs, vec![first]);
}

fn stores_receipts(store: &mut dyn Store) {
    let mut chain = Chain::new();
    let blocks = chain.append_many(store, 5);
    for committed in &blocks {
        let height = committed.block.header.height;
        assert_eq!(store.receipts(height), Ok(Some(committed.receipts.clone())));
        for receipt in &committed.receipts {
            assert_eq!(store.receipt(&receipt.tx_id), Ok(Some(*receipt)));
        }
    }
    assert_eq!(store.receipts(1), Ok(Some(vec![])));
    // Codes are kept as given: block 5 holds a failed act (code 7) at position 2.
    let codes: Vec<u16> = blocks[4].receipts.iter().map(|r| r.code).collect();
    assert_eq!(codes, [0, 0, 7, 0]);
    assert_eq!(
        store
            .receipt(&blocks[4].receipts[2].tx_id)
            .unwrap()
            .unwrap()
            .code,
        7
    );
    for height in [0, 6, u64::MAX] {
        assert_eq!(store.receipts(height), Ok(None));
    }
    assert_eq!(store.receipt(&tx(9, 9, b"never").id()), Ok(None));
}

/// Blocks of 1, 3, 16, 17, 40, 0 and 2 transactions: every receipt is found by its tx id at its
/// position in its block's record, before and after later blocks are appended.
fn looks_up_receipts_at_every_position(store: &mut dyn Store) {
    let mut chain = Chain::new();
    let mut nonce = 0;
    let mut blocks = Vec::new();
    for count in [1, 3, 16, 17, 40, 0, 2] {
        let committed = append_txs(&mut chain, store, count, &mut nonce);
        let height = committed.block.header.height;
        assert_eq!(committed.receipts.len(), count);
        assert_eq!(store.receipts(height), Ok(Some(committed.receipts.clone())));
        for (position, receipt) in committed.receipts.iter().enumerate() {
            assert_eq!(usize::try_from(receipt.index).unwrap(), position);
            assert_eq!(store.receipt(&receipt.tx_id), Ok(Some(*receipt)));
        }
        blocks.push(committed);
    }
    for committed in &blocks {
        let height = committed.block.header.height;
        assert_eq!(store.receipts(height), Ok(Some(committed.receipts.clone())));
        for (id, receipt) in ids(committed).iter().zip(&committed.receipts) {
            assert_eq!(store.receipt(id), Ok(Some(*receipt)));
        }
    }
    // The failed acts (code 7, every third position) keep their codes.
    let codes: Vec<u16> = store
        .receipts(5)
        .unwrap()
        .unwrap()
        .iter()
        .map(|receipt| receipt.code)
        .collect();
    assert_eq!(codes.len(), 40);
    assert!(codes
        .iter()
        .enumerate()
        .all(|(position, code)| *code == if position % 3 == 2 { 7 } else { 0 }));
}

fn refuses_mismatching_receipts(store: &mut dyn Store) {
    let chain = two_blocks(store);
    let good = next(&chain);

    let mut short = good.clone();
    short.receipts.pop();
    assert_refused(
        store,
        &short,
        StorageError::ReceiptCountMismatch {
            height: 3,
            txs: 2,
            receipts: 1,
        },
    );
    let mut long = good.clone();
    long.receipts.push(good.receipts[1]);
    assert_refused(
        store,
        &long,
        StorageError::ReceiptCountMismatch {
            height: 3,
            txs: 2,
            receipts: 3,
        },
    );

    let mut swapped = good.clone();
    swapped.receipts.swap(0, 1);
    assert_refused(
        store,
        &swapped,
        StorageError::ReceiptMismatch {
            height: 3,
            index: 0,
            field: "tx id",
        },
    );
    let mut wrong_index = good.clone();
    wrong_index.receipts[1].index = 0;
    assert_refused(
        store,
        &wrong_index,
        StorageError::ReceiptMismatch {
            height: 3,
            index: 1,
            field: "index",
        },
    );
    let mut wrong_height = good.clone();
    wrong_height.receipts[1].height = 2;
    assert_refused(
        store,
        &wrong_height,
        StorageError::ReceiptMismatch {
            height: 3,
            index: 1,
            field: "height",
        },
    );
    assert_eq!(store.height_of(&good.block.header.id()), Ok(None));

    store.append_block(&good).unwrap();
    assert_eq!(store.receipts(3), Ok(Some(good.receipts.clone())));
}

fn indexes_block_ids(store: &mut dyn Store) {
    let mut chain = Chain::new();
    let blocks = chain.append_many(store, 4);
    for committed in &blocks {
        let id = committed.block.header.id();
        assert_eq!(
            store.height_of(&id),
            Ok(Some(committed.block.header.height))
        );
    }
    assert_eq!(store.height_of(&chain_id().0), Ok(None));
    assert_eq!(
        store.height_of(&chain.peek(vec![], vec![]).block.header.id()),
        Ok(None)
    );
}

fn scans_state(store: &mut dyn Store) {
    let mut chain = Chain::new();
    chain.append(
        store,
        vec![],
        vec![
            StateChange::set("case/1", "a"),
            StateChange::set("case/2", "b"),
            StateChange::set("case/3", "c"),
            StateChange::set("case", "bare"),
            StateChange::set("cases", "other"),
            StateChange::set("court/1", "d"),
            StateChange::set(vec![0xff, 0xff, 1], "high"),
            StateChange::set(vec![0xff, 0xff], "highest prefix"),
        ],
    );
    let entry = |key: &str, value: &str| (key.as_bytes().to_vec(), value.as_bytes().to_vec());
    let all_cases = vec![
        entry("case/1", "a"),
        entry("case/2", "b"),
        entry("case/3", "c"),
    ];
    assert_eq!(store.state_scan(b"case/", None, 10), Ok(all_cases.clone()));
    assert_eq!(
        store.state_scan(b"case/", Some(b"case/1"), 10),
        Ok(all_cases[1..].to_vec())
    );
    // A start before the prefix starts at the prefix; one after it finds nothing.
    assert_eq!(
        store.state_scan(b"case/", Some(b"a"), 10),
        Ok(all_cases.clone())
    );
    assert_eq!(store.state_scan(b"case/", Some(b"case/3"), 10), Ok(vec![]));
    assert_eq!(store.state_scan(b"case/", Some(b"z"), 10), Ok(vec![]));
    assert_eq!(
        store.state_scan(b"case/", None, 2),
        Ok(all_cases[..2].to_vec())
    );
    assert_eq!(store.state_scan(b"case/", None, 0), Ok(vec![]));
    assert_eq!(store.state_scan(b"nothing/", None, 10), Ok(vec![]));
    assert_eq!(store.state_scan(b"", None, 100).unwrap().len(), 8);
    // A prefix of 0xff bytes has no upper bound key; the scan still stops at the prefix.
    assert_eq!(
        store.state_scan(&[0xff, 0xff], None, 10),
        Ok(vec![
            (vec![0xff, 0xff], b"highest prefix".to_vec()),
            (vec![0xff, 0xff, 1], b"high".to_vec()),
        ])
    );
    assert_eq!(
        store.state_scan(&[0xff], Some(&[0xff, 0xff]), 10),
        Ok(vec![(vec![0xff, 0xff, 1], b"high".to_vec())])
    );

    // Deleted keys are gone from scans.
    chain.append(store, vec![], vec![StateChange::delete("case/2")]);
    assert_eq!(
        store.state_scan(b"case/", None, 10),
        Ok(vec![entry("case/1", "a"), entry("case/3", "c")])
    );

    // The limit is capped; paging with the last key returned reaches every entry once.
    let many: Vec<StateChange> = (0..MAX_STATE_SCAN + 5)
        .map(|n| StateChange::set(format!("doc/{n:06}"), "x"))
        .collect();
    chain.append(store, vec![], many);
    let first = store.state_scan(b"doc/", None, usize::MAX).unwrap();
    assert_eq!(first.len(), MAX_STATE_SCAN);
    let rest = store
        .state_scan(b"doc/", Some(&first.last().unwrap().0), usize::MAX)
        .unwrap();
    assert_eq!(rest.len(), 5);
    assert_eq!(rest[0].0, format!("doc/{:06}", MAX_STATE_SCAN).into_bytes());
}

fn applies_state_changes(store: &mut dyn Store) {
    let mut chain = Chain::new();
    chain.append(
        store,
        vec![],
        vec![
            StateChange::set("court/京0105", "Beijing Chaoyang"),
            StateChange::set("case/1", "filed"),
            StateChange::set("case/2", "filed"),
            StateChange::set(Vec::new(), "empty key"),
        ],
    );
    assert_eq!(store.state_get(b"case/1"), Ok(Some(b"filed".to_vec())));
    assert_eq!(
        store.state_get("court/京0105".as_bytes()),
        Ok(Some("Beijing Chaoyang".as_bytes().to_vec()))
    );
    assert_eq!(store.state_get(b""), Ok(Some(b"empty key".to_vec())));

    chain.append(
        store,
        vec![tx(1, 1, b"judgment")],
        vec![
            StateChange::set("case/1", "judged"),
            StateChange::delete("case/2"),
            StateChange::delete("never/set"),
            // Within a block, the later change of a key wins.
            StateChange::set("case/3", "first"),
            StateChange::set("case/3", "second"),
            StateChange::set("case/4", "short-lived"),
            StateChange::delete("case/4"),
        ],
    );
    assert_eq!(store.state_get(b"case/1"), Ok(Some(b"judged".to_vec())));
    assert_eq!(store.state_get(b"case/2"), Ok(None));
    assert_eq!(store.state_get(b"never/set"), Ok(None));
    assert_eq!(store.state_get(b"case/3"), Ok(Some(b"second".to_vec())));
    assert_eq!(store.state_get(b"case/4"), Ok(None));

    chain.append(
        store,
        vec![],
        vec![
            StateChange::set("case/2", "reopened"),
            StateChange::set("case/1", Vec::new()),
        ],
    );
    assert_eq!(store.state_get(b"case/2"), Ok(Some(b"reopened".to_vec())));
    // An empty value is a value, not a deletion.
    assert_eq!(store.state_get(b"case/1"), Ok(Some(Vec::new())));
    assert_eq!(store.state_get(b"case/"), Ok(None));
}

fn keeps_consensus_records(store: &mut dyn Store) {
    fn record(height: u64, round: u32) -> Vec<u8> {
        let mut key = height.to_be_bytes().to_vec();
        key.extend_from_slice(&round.to_be_bytes());
        key
    }
    assert_eq!(store.consensus_get(&record(1, 0)), Ok(None));
    for height in 1..=4u64 {
        for round in 0..3u32 {
            store
                .consensus_put(
                    &record(height, round),
                    format!("vote {height}/{round}").as_bytes(),
                )
                .unwrap();
        }
    }
    assert_eq!(
        store.consensus_get(&record(2, 1)),
        Ok(Some(b"vote 2/1".to_vec()))
    );
    store.consensus_put(&record(2, 1), b"").unwrap();
    assert_eq!(store.consensus_get(&record(2, 1)), Ok(Some(Vec::new())));

    store.consensus_delete(&record(2, 1)).unwrap();
    assert_eq!(store.consensus_get(&record(2, 1)), Ok(None));
    store.consensus_delete(b"absent").unwrap();

    // Range reads are half-open and ordered.
    let height_3 = store
        .consensus_range(&3u64.to_be_bytes(), &4u64.to_be_bytes())
        .unwrap();
    assert_eq!(
        height_3,
        (0..3u32)
            .map(|round| ConsensusRecord {
                key: record(3, round),
                value: format!("vote 3/{round}").into_bytes(),
            })
            .collect::<Vec<_>>()
    );
    assert_eq!(
        store.consensus_range(&record(4, 0), &record(3, 0)),
        Ok(vec![])
    );
    assert_eq!(
        store.consensus_range(&record(3, 0), &record(3, 0)),
        Ok(vec![])
    );

    // Pruning: everything below height 3 goes, height 3 and above stays.
    store
        .consensus_delete_range(&[], &3u64.to_be_bytes())
        .unwrap();
    let all = store.consensus_range(&[], &[0xff; 13]).unwrap();
    let keys: Vec<Vec<u8>> = all.into_iter().map(|record| record.key).collect();
    let expected: Vec<Vec<u8>> = (3..=4u64)
        .flat_map(|height| (0..3u32).map(move |round| record(height, round)))
        .collect();
    assert_eq!(keys, expected);

    // An empty or inverted range deletes nothing.
    store
        .consensus_delete_range(&record(4, 0), &record(3, 0))
        .unwrap();
    store
        .consensus_delete_range(&record(3, 0), &record(3, 0))
        .unwrap();
    assert_eq!(store.consensus_range(&[], &[0xff; 13]).unwrap().len(), 6);

    // A batch writes every record at once; an empty batch writes nothing.
    let batch: Vec<ConsensusRecord> = (0..3u32)
        .map(|round| ConsensusRecord {
            key: record(5, round),
            value: format!("batch 5/{round}").into_bytes(),
        })
        .collect();
    store.consensus_put_batch(&batch).unwrap();
    store.consensus_put_batch(&[]).unwrap();
    assert_eq!(
        store.consensus_range(&5u64.to_be_bytes(), &6u64.to_be_bytes()),
        Ok(batch)
    );
    store
        .consensus_delete_range(&5u64.to_be_bytes(), &6u64.to_be_bytes())
        .unwrap();

    // Consensus records and chain records are separate keyspaces.
    assert_eq!(store.state_get(&record(3, 0)), Ok(None));
    assert_eq!(store.last_height(), 0);
}

/// Blocks of 0, 1, 3, 0, 5, 8, 2 and 13 transactions (one of them repeated): 32 leaves.
fn log_blocks(store: &mut dyn Store) -> (Vec<CommittedBlock>, Vec<Hash>) {
    let mut chain = Chain::new();
    let mut blocks = Vec::new();
    let mut nonce = 0;
    for count in [0u64, 1, 3, 0, 5, 8, 2, 13] {
        let mut txs: Vec<_> = (0..count)
            .map(|_| {
                nonce += 1;
                tx(6, nonce, b"act")
            })
            .collect();
        if count == 13 {
            // A repeated id is a leaf again: the log has every committed transaction.
            txs[12] = txs[0].clone();
        }
        blocks.push(chain.append(store, txs, vec![]));
    }
    let leaves = blocks
        .iter()
        .flat_map(ids)
        .map(|id| leaf_hash(id.as_bytes()))
        .collect();
    (blocks, leaves)
}

fn stores_the_log(store: &mut dyn Store) {
    assert_eq!(store.log_size(), 0);
    assert_eq!(store.log_node(0, 0), Ok(None));
    let (blocks, leaves) = log_blocks(store);
    assert_eq!(leaves.len(), 32);
    assert_eq!(store.log_size(), 32);
    assert_eq!(blocks.last().unwrap().block.header.log_size, 32);
    // Every complete perfect subtree is stored, and nothing beyond the log.
    for level in 0..=5u8 {
        let width = 1usize << level;
        for index in 0..32 / width {
            let start = index * width;
            assert_eq!(
                store.log_node(level, u64::try_from(index).unwrap()),
                Ok(Some(root(&leaves[start..start + width]))),
                "level {level} index {index}"
            );
        }
        assert_eq!(store.log_node(level, 32 >> level), Ok(None));
    }
    for (level, index) in [(6, 0), (0, u64::MAX), (63, 1), (255, 0), (1, u64::MAX / 2)] {
        assert_eq!(store.log_node(level, index), Ok(None));
    }
    // About two nodes per transaction: 32 leaves and 31 interior nodes.
    let written: usize = blocks.iter().map(|c| c.log_nodes.len()).sum();
    assert_eq!(written, 63);
}

fn proves_from_the_stored_log(store: &mut dyn Store) {
    let (blocks, leaves) = log_blocks(store);
    let view = LogView::new(store);
    assert_eq!(view.size(), 32);
    let heads: Vec<(u64, Hash)> = blocks
        .iter()
        .map(|c| (c.block.header.log_size, c.block.header.log_root.0))
        .collect();
    for (size, log_root) in &heads {
        assert_eq!(view.root(*size), Ok(*log_root));
        let prefix = &leaves[..usize::try_from(*size).unwrap()];
        assert_eq!(*log_root, root(prefix));
        for (index, leaf) in prefix.iter().enumerate() {
            let proof = view
                .prove_inclusion(u64::try_from(index).unwrap(), *size)
                .unwrap();
            proof.verify(leaf, log_root).unwrap();
        }
        for (old_size, old_root) in &heads {
            if *old_size == 0 || old_size > size {
                continue;
            }
            let proof = view.prove_consistency(*old_size, *size).unwrap();
            assert_eq!((proof.old_size, proof.new_size), (*old_size, *size));
            proof.verify(old_root, log_root).unwrap();
        }
    }
    assert_eq!(view.root(0), Ok(courtledger_merkle::empty_root()));
    assert_eq!(
        view.prove_consistency(0, 5),
        Err(LogError::Proof(ProofError::EmptyTree))
    );
    assert_eq!(
        view.prove_consistency(6, 5),
        Err(LogError::Proof(ProofError::InvalidSizes {
            old_size: 6,
            new_size: 5
        }))
    );
    assert_eq!(
        view.prove_inclusion(5, 5),
        Err(LogError::Proof(ProofError::IndexOutOfRange {
            leaf_index: 5,
            tree_size: 5
        }))
    );
    for error in [
        view.root(33).unwrap_err(),
        view.prove_inclusion(0, 33).unwrap_err(),
        view.prove_consistency(1, 33).unwrap_err(),
    ] {
        assert_eq!(
            error,
            LogError::BeyondLog {
                size: 33,
                log_size: 32
            }
        );
    }
}

fn refuses_mismatching_log_nodes(store: &mut dyn Store) {
    let chain = two_blocks(store);
    // The log holds 2 leaves; the next block's 2 complete (0,2), (0,3), (1,1) and (2,0).
    let good = next(&chain);
    let places: Vec<(u8, u64)> = good.log_nodes.iter().map(|n| (n.level, n.index)).collect();
    assert_eq!(places, [(0, 2), (0, 3), (1, 1), (2, 0)]);
    let mismatch = |position, level, index, reason| StorageError::LogNodeMismatch {
        height: 3,
        position,
        level,
        index,
        reason,
    };

    let mut wrong_size = good.clone();
    wrong_size.block.header.log_size = 5;
    recertify(&mut wrong_size);
    assert_refused(
        store,
        &wrong_size,
        StorageError::LogSizeMismatch {
            height: 3,
            expected: 4,
            header: 5,
        },
    );

    let mut short = good.clone();
    short.log_nodes.pop();
    assert_refused(store, &short, mismatch(3, 2, 0, "missing"));
    let mut none = good.clone();
    none.log_nodes.clear();
    assert_refused(store, &none, mismatch(0, 0, 2, "missing"));

    // A node beyond the header's log size.
    let mut extra = good.clone();
    extra.log_nodes.push(courtledger_merkle::LogNode {
        level: 0,
        index: 4,
        hash: [1; 32],
    });
    assert_refused(
        store,
        &extra,
        mismatch(4, 0, 4, "beyond the block's transactions"),
    );

    // Leaves at the wrong indexes (as if the log started again), or out of order.
    let mut restarted = good.clone();
    restarted.log_nodes[0].index = 0;
    assert_refused(
        store,
        &restarted,
        mismatch(0, 0, 2, "another subtree is expected here"),
    );
    let mut reordered = good.clone();
    reordered.log_nodes.swap(2, 3);
    assert_refused(
        store,
        &reordered,
        mismatch(2, 1, 1, "another subtree is expected here"),
    );

    let mut wrong_leaf = good.clone();
    wrong_leaf.log_nodes[1].hash = leaf_hash(b"another transaction");
    assert_refused(
        store,
        &wrong_leaf,
        mismatch(1, 0, 3, "not the leaf hash of its transaction"),
    );
    let mut wrong_node = good.clone();
    wrong_node.log_nodes[3].hash = [7; 32];
    assert_refused(
        store,
        &wrong_node,
        mismatch(3, 2, 0, "not the root of its two halves"),
    );

    let mut wrong_root = good.clone();
    let claimed = courtledger_crypto::sha256(b"another log");
    wrong_root.block.header.log_root = claimed;
    recertify(&mut wrong_root);
    assert_refused(
        store,
        &wrong_root,
        StorageError::LogRootMismatch {
            height: 3,
            header: claimed,
            actual: good.block.header.log_root,
        },
    );

    store.append_block(&good).unwrap();
    assert_eq!(store.log_size(), 4);
    assert_eq!(store.log_node(2, 0), Ok(Some(good.log_nodes[3].hash)));
}

/// The records of a `MemoryStore` edited as a disk could damage them (`from_records`): the same
/// typed errors as from RocksDB, never a panic.
#[test]
fn memory_records_of_the_wrong_length_are_corrupt() {
    use courtledger_storage::{Corruption, RawRecord};

    let mut store = MemoryStore::new(chain_id());
    let mut chain = Chain::new();
    let mut nonce = 0;
    let first = append_txs(&mut chain, &mut store, 18, &mut nonce);
    append_txs(&mut chain, &mut store, 3, &mut nonce);
    let records = store.records();
    let edited = |column: &str, key: &[u8], value: Option<Vec<u8>>| -> Vec<RawRecord> {
        let mut records: Vec<RawRecord> = records
            .iter()
            .filter(|(name, found, _)| !(name == column && found == key))
            .cloned()
            .collect();
        if let Some(value) = value {
            records.push((column.to_owned(), key.to_vec(), value));
        }
        records
    };
    let corrupt = |error: StorageError, what: &str, column: &str, key: &[u8]| match error {
        StorageError::Corrupt {
            what: found_what,
            column: found_column,
            key: found_key,
            reason,
        } => {
            found_what == what
                && found_column == column
                && found_key == key
                && matches!(reason, Corruption::Decode(_) | Corruption::Missing)
        }
        _ => false,
    };

    // A version-3 or version-4 store is refused.
    for version in [3u32, 4] {
        let old = edited(
            "meta",
            b"schema_version",
            Some(version.to_be_bytes().to_vec()),
        );
        assert_eq!(
            MemoryStore::from_records(chain_id(), old).unwrap_err(),
            StorageError::SchemaVersion {
                found: version,
                supported: 5
            }
        );
    }

    // Block 1's receipts: 18 of 46 bytes. One byte more or less, or a receipt more.
    let height = 1u64.to_be_bytes();
    let receipts: Vec<u8> = first.receipts.iter().flat_map(Encode::to_bytes).collect();
    for value in [
        receipts[..receipts.len() - 1].to_vec(),
        [receipts.clone(), vec![0]].concat(),
        [receipts.clone(), receipts[..46].to_vec()].concat(),
    ] {
        let damaged =
            MemoryStore::from_records(chain_id(), edited("receipts", &height, Some(value)))
                .unwrap();
        let error = damaged.receipts(1).unwrap_err();
        assert!(
            corrupt(error.clone(), "receipt", "receipts", &height),
            "{error:?}"
        );
    }
    let damaged = MemoryStore::from_records(chain_id(), edited("receipts", &height, None)).unwrap();
    assert!(corrupt(
        damaged.receipt(&first.receipts[17].tx_id).unwrap_err(),
        "receipt",
        "receipts",
        &height
    ));

    // Chunk 0 (16 leaves) and chunk 1 (the partial one, 5 leaves).
    let chunk_0 = 0u64.to_be_bytes();
    let chunk_1 = 1u64.to_be_bytes();
    let full = records
        .iter()
        .find(|(name, key, _)| name == "log_leaves" && key == &chunk_0)
        .unwrap()
        .2
        .clone();
    assert_eq!(full.len(), 16 * 32);
    for value in [
        Some(full[..16 * 32 - 1].to_vec()),
        Some(full[..15 * 32].to_vec()),
        Some([full.clone(), vec![0; 32]].concat()),
        None,
    ] {
        let damaged =
            MemoryStore::from_records(chain_id(), edited("log_leaves", &chunk_0, value)).unwrap();
        for (level, index) in [(0, 0), (1, 7), (3, 0)] {
            let error = damaged.log_node(level, index).unwrap_err();
            assert!(
                corrupt(error.clone(), "log node", "log_leaves", &chunk_0),
                "{error:?}"
            );
        }
        assert!(damaged.log_node(4, 0).unwrap().is_some());
        assert!(damaged.log_node(0, 16).unwrap().is_some());
    }
    // The partial chunk is read when opening.
    for value in [Some(vec![0; 4 * 32]), Some(vec![0; 5 * 32 + 1]), None] {
        let error = MemoryStore::from_records(chain_id(), edited("log_leaves", &chunk_1, value))
            .unwrap_err();
        assert!(
            corrupt(error.clone(), "log node", "log_leaves", &chunk_1),
            "{error:?}"
        );
    }
}

/// A `state_scan`'s arguments: prefix, start after, limit.
type Scan<'a> = (&'a [u8], Option<&'a [u8]>, usize);

/// An edit of a store's records: column family, key, and the new value (`None`: deleted).
type Edit<'a> = (&'a str, &'a [u8], Option<Vec<u8>>);

/// `key` → `value`, as `state_scan` returns it.
fn entry(key: &str, value: &str) -> (Vec<u8>, Vec<u8>) {
    (key.as_bytes().to_vec(), value.as_bytes().to_vec())
}

/// `flush_state` moves what is pending into the columns and changes no read; with nothing
/// pending (an empty store, twice in a row) it writes nothing.
fn flushes_state_on_demand<S: Reopen>(mut store: S) {
    store.flush_state().unwrap();
    assert_eq!(disk_state_height(&store), Some(0));
    assert_eq!(store.last_height(), 0);

    let mut chain = Chain::new();
    let filing = tx(2, 1, b"filing");
    chain.append(
        &mut store,
        vec![filing.clone()],
        vec![
            StateChange::set("case/1", "filed"),
            StateChange::set("case/2", "filed"),
        ],
    );
    chain.append(&mut store, vec![], vec![StateChange::delete("case/2")]);
    assert_eq!(disk_diff_heights(&store), [1, 2]);
    assert_eq!(store.disk("state"), []);
    assert_eq!(store.disk("tx_index"), []);
    let keys: [&[u8]; 3] = [b"case/1", b"case/2", b"case/3"];
    let before = Snapshot::take(&store, &[filing.id()], &keys);

    store.flush_state().unwrap();
    assert_eq!(Snapshot::take(&store, &[filing.id()], &keys), before);
    assert_eq!(disk_state_height(&store), Some(2));
    assert_eq!(disk_diff_heights(&store), Vec::<u64>::new());
    assert_eq!(store.disk("state"), [entry("case/1", "filed")]);
    let location = TxLocation {
        height: 1,
        position: 0,
    };
    assert_eq!(
        store.disk("tx_index"),
        [(filing.id().as_bytes().to_vec(), location.to_bytes())]
    );

    // Again, with nothing pending: nothing changes.
    let meta = store.disk("meta");
    store.flush_state().unwrap();
    assert_eq!(store.disk("meta"), meta);
    assert_eq!(Snapshot::take(&store, &[filing.id()], &keys), before);
    let store = store.reopen();
    assert_eq!(Snapshot::take(&store, &[filing.id()], &keys), before);
}

/// The pending writes of the blocks above `state_height` come back on opening: the same state,
/// scans, locations and receipts after a restart as before it, and the store goes on from them.
fn replays_pending_writes_on_reopening<S: Reopen>(mut store: S) {
    let mut chain = Chain::new();
    let mut model = StateModel::new();
    let mut ids: Vec<TxId> = Vec::new();
    let mut append = |store: &mut S, txs: Vec<SignedTransaction>, changes: Vec<StateChange>| {
        apply_changes(&mut model, &changes);
        let committed = chain.append(store, txs, changes);
        ids.extend(committed.block.tx_ids());
        model.clone()
    };
    let filing = tx(3, 1, b"filing");
    let ruling = tx(3, 2, b"ruling");
    // Block 1, moved into the columns: what the pending blocks then change.
    append(
        &mut store,
        vec![filing.clone()],
        (1..=4)
            .map(|n| StateChange::set(format!("case/{n}"), "filed"))
            .collect(),
    );
    store.flush_state().unwrap();
    // Blocks 2 to 4, pending: a deletion of a key in the column (case/2), overwrites of one in
    // the column (case/3) and of one set by an earlier pending block (case/5), a key set then
    // deleted by a later block (case/6), one deleted then set again (case/1), a deletion of a
    // key never set; and repeated transaction ids, which keep their first location (in the
    // column for the filing, pending for the ruling).
    append(
        &mut store,
        vec![ruling.clone(), filing.clone()],
        vec![
            StateChange::delete("case/2"),
            StateChange::set("case/3", "heard"),
            StateChange::set("case/5", "new"),
            StateChange::set("case/6", "short-lived"),
        ],
    );
    append(
        &mut store,
        vec![tx(3, 3, b"appeal")],
        vec![
            StateChange::set("case/3", "judged"),
            StateChange::set("case/5", "changed"),
            StateChange::delete("case/6"),
            StateChange::delete("case/1"),
            StateChange::set("court/1", "open"),
        ],
    );
    let model = append(
        &mut store,
        vec![ruling.clone(), tx(3, 4, b"closing")],
        vec![
            StateChange::set("case/1", "refiled"),
            StateChange::delete("never/set"),
            StateChange::set("case/7", Vec::new()),
        ],
    );
    assert_eq!(disk_state_height(&store), Some(1));
    assert_eq!(disk_diff_heights(&store), [2, 3, 4]);
    assert_eq!(
        store.state_scan(b"", None, usize::MAX),
        Ok(vec![
            entry("case/1", "refiled"),
            entry("case/3", "judged"),
            entry("case/4", "filed"),
            entry("case/5", "changed"),
            entry("case/7", ""),
            entry("court/1", "open"),
        ])
    );
    assert_eq!(
        store.tx_location(&filing.id()),
        Ok(Some(TxLocation {
            height: 1,
            position: 0
        }))
    );
    assert_eq!(
        store.tx_location(&ruling.id()),
        Ok(Some(TxLocation {
            height: 2,
            position: 0
        }))
    );

    let keys: Vec<Vec<u8>> = (0..=8)
        .map(|n| format!("case/{n}").into_bytes())
        .chain([b"court/1".to_vec(), b"never/set".to_vec()])
        .collect();
    let key_refs: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
    let scans: [Scan; 7] = [
        (b"case/", None, 10),
        (b"case/", None, 2),
        (b"case/", Some(b"case/1"), 2),
        (b"case/", Some(b"case/2"), 1),
        (b"case/3", None, 10),
        (b"c", Some(b"case/5"), 10),
        (b"court/", None, 10),
    ];
    let check = |store: &S, when: &str| {
        for (prefix, start_after, limit) in scans {
            assert_eq!(
                store.state_scan(prefix, start_after, limit).unwrap(),
                model_scan(&model, prefix, start_after, limit),
                "{when}: scan of {prefix:?} after {start_after:?}, limit {limit}"
            );
        }
        for key in &keys {
            assert_eq!(store.state_get(key), Ok(model.get(key).cloned()), "{when}");
        }
    };
    check(&store, "before the restart");
    let before = Snapshot::take(&store, &ids, &key_refs);
    let ruling_receipt = store.receipt(&ruling.id()).unwrap().unwrap();
    assert_eq!((ruling_receipt.height, ruling_receipt.index), (2, 0));

    let mut store = store.reopen();
    assert_eq!(Snapshot::take(&store, &ids, &key_refs), before);
    check(&store, "after the restart");
    assert_eq!(disk_diff_heights(&store), [2, 3, 4]);

    // The replayed writes are pending again: the next block builds on them (the ruling's id
    // is found there), and a flush moves them all.
    let closing = chain.append(
        &mut store,
        vec![ruling.clone()],
        vec![StateChange::set("case/5", "closed")],
    );
    assert_eq!(
        store.tx_location(&ruling.id()),
        Ok(Some(TxLocation {
            height: 2,
            position: 0
        }))
    );
    assert_eq!(store.receipt(&ruling.id()), Ok(Some(ruling_receipt)));
    assert_eq!(closing.block.header.height, 5);
    let store = store.reopen();
    assert_eq!(disk_diff_heights(&store), [2, 3, 4, 5]);
    assert_eq!(store.state_get(b"case/5"), Ok(Some(b"closed".to_vec())));
    let mut store = store;
    store.flush_state().unwrap();
    assert_eq!(disk_state_height(&store), Some(5));
    assert_eq!(disk_diff_heights(&store), Vec::<u64>::new());
    let after_flush = Snapshot::take(&store, &ids, &key_refs);
    let store = store.reopen();
    assert_eq!(Snapshot::take(&store, &ids, &key_refs), after_flush);
    assert_eq!(store.state_get(b"case/5"), Ok(Some(b"closed".to_vec())));
    assert_eq!(store.state_get(b"case/3"), Ok(Some(b"judged".to_vec())));
    assert_eq!(store.state_get(b"case/2"), Ok(None));
}

/// Whether a test that appends many blocks reads the records on disk after block `height`: the
/// first blocks, around each move of the pending writes, and every 64th.
fn inspects_disk_at(height: u64) -> bool {
    let max = STATE_PENDING_MAX_BLOCKS;
    height <= 2
        || height.is_multiple_of(64)
        || [max, 2 * max].iter().any(|m| m.abs_diff(height) <= 1)
}

/// Small blocks: every `STATE_PENDING_MAX_BLOCKS` (256) blocks, the appending batch moves every
/// pending write into `state` and `tx_index`, sets `state_height` to its height and deletes the
/// `state_diffs` records up to it. Reads are those of a reference model at every height.
fn moves_pending_writes_every_256_blocks<S: Reopen>(mut store: S) {
    let max = STATE_PENDING_MAX_BLOCKS;
    let mut chain = Chain::new();
    let mut model = StateModel::new();
    let mut locations: Vec<(TxId, TxLocation)> = Vec::new();
    let keys: Vec<Vec<u8>> = (0..7).map(|n| format!("n/{n}").into_bytes()).collect();
    let mut state_height = 0;
    for height in 1..=2 * max + 3 {
        // A set and a deletion per block over 7 keys: overwrites and deletions of keys written
        // before and after each move.
        let changes = vec![
            StateChange::set(
                keys[usize::try_from(height % 7).unwrap()].clone(),
                height.to_string(),
            ),
            StateChange::delete(keys[usize::try_from(height * 3 % 7).unwrap()].clone()),
        ];
        let txs = if height % 5 == 0 {
            vec![tx(2, height, b"act")]
        } else {
            vec![]
        };
        let committed = chain.append(&mut store, txs, changes.clone());
        apply_changes(&mut model, &changes);
        for (position, id) in committed.block.tx_ids().into_iter().enumerate() {
            let position = u32::try_from(position).unwrap();
            locations.push((id, TxLocation { height, position }));
        }
        if height % max == 0 {
            state_height = height;
        }

        for key in &keys {
            assert_eq!(
                store.state_get(key),
                Ok(model.get(key).cloned()),
                "after block {height}"
            );
        }
        for (prefix, start_after, limit) in [
            (b"n/".as_slice(), None, 10),
            (b"n/", Some(b"n/2".as_slice()), 3),
            (b"", None, 1),
        ] {
            assert_eq!(
                store.state_scan(prefix, start_after, limit).unwrap(),
                model_scan(&model, prefix, start_after, limit),
                "after block {height}: scan of {prefix:?} after {start_after:?}, limit {limit}"
            );
        }
        for (id, location) in &locations {
            assert_eq!(
                store.tx_location(id),
                Ok(Some(*location)),
                "after block {height}"
            );
        }

        if inspects_disk_at(height) {
            assert_eq!(
                disk_state_height(&store),
                Some(state_height),
                "after block {height}"
            );
            let pending: Vec<u64> = (state_height + 1..=height).collect();
            assert_eq!(disk_diff_heights(&store), pending, "after block {height}");
            if height == state_height {
                // Everything is in the columns: exactly the model, and every location.
                let state: Vec<_> = model.clone().into_iter().collect();
                assert_eq!(store.disk("state"), state, "after block {height}");
                let mut index: Vec<_> = locations
                    .iter()
                    .map(|(id, location)| (id.as_bytes().to_vec(), location.to_bytes()))
                    .collect();
                index.sort();
                assert_eq!(store.disk("tx_index"), index, "after block {height}");
            }
        }
    }
    assert_eq!(state_height, 2 * max);

    let store = store.reopen();
    assert_eq!(
        disk_diff_heights(&store),
        [2 * max + 1, 2 * max + 2, 2 * max + 3]
    );
    assert_eq!(
        store.state_scan(b"", None, usize::MAX),
        Ok(model.into_iter().collect())
    );
    for (id, location) in &locations {
        assert_eq!(store.tx_location(id), Ok(Some(*location)));
    }
}

/// Blocks of large values: the pending writes move into the columns once their records reach
/// `STATE_PENDING_MAX_BYTES` (8 MiB), long before 256 blocks, and the records on disk never
/// reach it.
fn moves_pending_writes_at_the_byte_bound<S: Reopen>(mut store: S) {
    const KEYS: u64 = 50;
    const PER_BLOCK: u64 = 16;
    let value_len = 60 * 1024;
    assert!(value_len <= usize::try_from(MAX_STATE_VALUE_BYTES).unwrap());
    let key = |n: u64| format!("big/{:03}", n % KEYS).into_bytes();
    let mut chain = Chain::new();
    let mut model = StateModel::new();
    // The rule, from the documented record length: a block whose record would bring the
    // pending records to the bound moves them, with its own writes, instead of adding a record.
    let (mut state_height, mut pending_bytes, mut moves) = (0u64, 0usize, Vec::new());
    for height in 1..=40u64 {
        let mut changes: Vec<StateChange> = (0..PER_BLOCK)
            .map(|i| {
                let mut value = vec![u8::try_from((height + i) % 251).unwrap(); value_len];
                value[..16].copy_from_slice(&[height.to_be_bytes(), i.to_be_bytes()].concat());
                StateChange::set(key(height * 7 + i), value)
            })
            .collect();
        changes.push(StateChange::delete(key(height * 11)));
        let txs = vec![tx(2, height, b"large")];
        chain.append(&mut store, txs, changes.clone());
        apply_changes(&mut model, &changes);
        let record = state_diff_len(&changes, 1);
        if pending_bytes + record >= STATE_PENDING_MAX_BYTES
            || height - state_height >= STATE_PENDING_MAX_BLOCKS
        {
            state_height = height;
            pending_bytes = 0;
            moves.push(height);
        } else {
            pending_bytes += record;
        }

        assert_eq!(
            disk_state_height(&store),
            Some(state_height),
            "after block {height}"
        );
        let diffs = store.disk("state_diffs");
        let heights: Vec<u64> = diffs
            .iter()
            .map(|(key, _)| u64::from_be_bytes(key.clone().try_into().unwrap()))
            .collect();
        assert_eq!(
            heights,
            (state_height + 1..=height).collect::<Vec<_>>(),
            "after block {height}"
        );
        let on_disk: usize = diffs.iter().map(|(_, value)| value.len()).sum();
        assert_eq!(on_disk, pending_bytes, "after block {height}");
        assert!(on_disk < STATE_PENDING_MAX_BYTES);

        for n in 0..KEYS {
            assert_eq!(
                store.state_get(&key(n)),
                Ok(model.get(&key(n)).cloned()),
                "after block {height}, key {n}"
            );
        }
        let start_after = key(height);
        assert_eq!(
            store.state_scan(b"big/", Some(&start_after), 3).unwrap(),
            model_scan(&model, b"big/", Some(&start_after), 3),
            "after block {height}"
        );
    }
    // About 1 MiB a block: a move every 8 or 9 blocks at 8 MiB.
    assert!(moves.len() >= 2, "{moves:?}");
    assert!(moves[0] < 20, "{moves:?}");
    let store = store.reopen();
    assert_eq!(
        store.state_scan(b"big/", None, usize::MAX),
        Ok(model.into_iter().collect())
    );
}

/// A state change that its `state_diffs` record could not hold (a key over
/// `MAX_STATE_KEY_BYTES`, a value over `MAX_STATE_VALUE_BYTES`) refuses the block, writing
/// nothing; the limits themselves are stored and replayed.
fn refuses_oversized_state_changes<S: Reopen>(mut store: S) {
    let mut chain = two_blocks(&mut store);
    let good = next(&chain);
    let max_key = usize::try_from(MAX_STATE_KEY_BYTES).unwrap();
    let max_value = usize::try_from(MAX_STATE_VALUE_BYTES).unwrap();
    let disk = |store: &S| {
        ["state", "state_diffs", "tx_index", "meta", "blocks"].map(|column| store.disk(column))
    };
    let before = disk(&store);
    let too_long = |what, len: usize, max: usize| StorageError::NotDecodable {
        what: "state changes",
        error: courtledger_codec::DecodeError::TooLong {
            what,
            len: u64::try_from(len).unwrap(),
            max: u64::try_from(max).unwrap(),
        },
    };
    let cases = [
        (
            StateChange::set(vec![b'k'; max_key + 1], "v"),
            too_long("state key", max_key + 1, max_key),
        ),
        (
            StateChange::delete(vec![b'k'; max_key + 1]),
            too_long("state key", max_key + 1, max_key),
        ),
        (
            StateChange::set(vec![b'k'; 10_000], Vec::new()),
            too_long("state key", 10_000, max_key),
        ),
        (
            StateChange::set("case/9", vec![0; max_value + 1]),
            too_long("state value", max_value + 1, max_value),
        ),
    ];
    for (change, expected) in cases {
        let mut oversized = good.clone();
        oversized.state_changes.push(change);
        assert_refused(&mut store, &oversized, expected);
        assert_eq!(store.last_height(), 2);
        assert_eq!(disk(&store), before);
    }

    // The same block without it is stored; a key and a value at the limits are stored, read
    // and replayed after a restart.
    store.append_block(&good).unwrap();
    chain.advance(&good);
    let long_key = vec![b'k'; max_key];
    let large_value = vec![9; max_value];
    chain.append(
        &mut store,
        vec![],
        vec![StateChange::set(long_key.clone(), large_value.clone())],
    );
    assert_eq!(store.last_height(), 4);
    assert_eq!(store.state_get(&long_key), Ok(Some(large_value.clone())));
    assert_eq!(store.state_get(b"refused"), Ok(Some(b"x".to_vec())));
    let store = store.reopen();
    assert_eq!(store.state_get(&long_key), Ok(Some(large_value)));
    assert_eq!(store.state_get(b"kept"), Ok(None));
}

/// The state keys of the property test: few, so that blocks overwrite and delete each other's
/// keys, pending and in the column; nested (`a`, `a/`, `a/1`, `a/10`), empty, and of `0xff`
/// bytes (a prefix without an upper bound).
const KEYS: [&[u8]; 16] = [
    b"",
    b"a",
    b"a/",
    b"a/1",
    b"a/10",
    b"a/2",
    b"a/2/x",
    b"a/3",
    b"ab",
    b"b/1",
    b"b/2",
    b"b/3",
    b"c",
    &[0xff],
    &[0xff, 0x00],
    &[0xff, 0xff],
];

/// The prefixes it scans.
const PREFIXES: [&[u8]; 11] = [
    b"",
    b"a",
    b"a/",
    b"a/1",
    b"a/2",
    b"b/",
    b"b",
    b"c",
    b"d",
    &[0xff],
    &[0xff, 0xff],
];

/// One case of the `state_scan` property: `seed` draws up to `max_blocks` blocks of sets and
/// deletions over [`KEYS`], a `flush_state` or a restart now and then, and after each block
/// scans (a prefix, a start from [`KEYS`] or [`PREFIXES`] or none, a limit of 0 to 10 or
/// unbounded) that must return what a `BTreeMap` model holds. The scan merges the pending
/// writes with the column: what is pending, in the column, or both, set or deleted.
fn scan_case<S: Reopen>(seed: u64, mut store: S, max_blocks: usize) {
    let mut rng = Rng::new(seed);
    let mut chain = Chain::new();
    let mut model = StateModel::new();
    let blocks = 1 + rng.below(max_blocks);
    let mut events = Vec::new();
    for _ in 0..blocks {
        let height = store.last_height() + 1;
        let count = rng.below(9);
        let changes: Vec<StateChange> = (0..count)
            .map(|i| {
                let key = rng.pick(&KEYS).to_vec();
                if rng.chance(35) {
                    StateChange::delete(key)
                } else if rng.chance(5) {
                    StateChange::set(key, Vec::new())
                } else {
                    StateChange::set(key, format!("{height}.{i}"))
                }
            })
            .collect();
        chain.append(&mut store, vec![], changes.clone());
        apply_changes(&mut model, &changes);
        if rng.chance(15) {
            store.flush_state().unwrap();
            events.push(format!("flush after {height}"));
        }
        if rng.chance(4) {
            store = store.reopen();
            events.push(format!("restart after {height}"));
        }
        for _ in 0..8 {
            let prefix = *rng.pick(&PREFIXES);
            let start_after = match rng.below(3) {
                0 => None,
                1 => Some(*rng.pick(&KEYS)),
                _ => Some(*rng.pick(&PREFIXES)),
            };
            let limit = if rng.chance(10) {
                usize::MAX
            } else {
                rng.below(11)
            };
            assert_eq!(
                store.state_scan(prefix, start_after, limit).unwrap(),
                model_scan(&model, prefix, start_after, limit),
                "seed {seed}, after block {height}: scan of {prefix:?} after {start_after:?}, \
                 limit {limit} ({events:?})"
            );
        }
        for key in KEYS {
            assert_eq!(
                store.state_get(key),
                Ok(model.get(key).cloned()),
                "seed {seed}, after block {height}: key {key:?} ({events:?})"
            );
        }
    }
}

/// The seeds to run: `COURTLEDGER_STORAGE_SEED` alone if set (to replay a failure), else
/// `0..count`.
fn seeds(count: u64) -> Vec<u64> {
    match std::env::var("COURTLEDGER_STORAGE_SEED") {
        Ok(seed) => vec![seed.parse().expect("a u64 seed")],
        Err(_) => (0..count).collect(),
    }
}

/// The `state_scan` property on `MemoryStore`: many cases, every 16th long enough (up to 600
/// blocks) to cross the automatic moves at 256 and 512 blocks.
#[test]
fn state_scans_match_a_model_in_memory() {
    for seed in seeds(160) {
        let max_blocks = if seed % 16 == 15 { 600 } else { 60 };
        scan_case(seed, MemoryStore::new(chain_id()), max_blocks);
    }
}

/// The same on `RocksStore`: fewer cases (each block is a synced write).
#[test]
fn state_scans_match_a_model_in_rocksdb() {
    for seed in seeds(12) {
        let dir = tempfile::tempdir().unwrap();
        let max_blocks = if seed == 11 { 300 } else { 60 };
        scan_case(
            seed,
            RocksStore::open(dir.path(), chain_id()).unwrap(),
            max_blocks,
        );
    }
}

/// The `state_diffs` records and `state_height` of a `MemoryStore` edited as a disk could damage
/// them (`from_records`): opening is `StorageError::Corrupt`, never a panic.
#[test]
fn memory_state_diff_records_are_checked_on_opening() {
    use courtledger_storage::{Corruption, RawRecord};

    let mut store = MemoryStore::new(chain_id());
    let mut chain = Chain::new();
    chain.append(
        &mut store,
        vec![tx(1, 1, b"a")],
        vec![StateChange::set("k/1", "1")],
    );
    chain.append(&mut store, vec![], vec![StateChange::set("k/2", "2")]);
    store.flush_state().unwrap();
    for n in 3..=5u64 {
        chain.append(
            &mut store,
            vec![tx(1, n, b"a")],
            vec![
                StateChange::set(format!("k/{n}"), "v"),
                StateChange::delete("k/1"),
            ],
        );
    }
    // Records 3, 4 and 5 above `state_height` 2, the last height 5.
    let records = store.records();
    let diff = |height: u64| -> Vec<u8> {
        records
            .iter()
            .find(|(name, key, _)| name == "state_diffs" && key == &height.to_be_bytes())
            .unwrap()
            .2
            .clone()
    };
    let diff_heights: Vec<&[u8]> = records
        .iter()
        .filter(|(name, _, _)| name == "state_diffs")
        .map(|(_, key, _)| key.as_slice())
        .collect();
    assert_eq!(
        diff_heights,
        [3u64, 4, 5].map(u64::to_be_bytes).map(|key| key.to_vec())
    );
    let edited = |edits: &[Edit]| -> Vec<RawRecord> {
        let mut records: Vec<RawRecord> = records
            .iter()
            .filter(|(name, found, _)| {
                !edits
                    .iter()
                    .any(|(column, key, _)| name == column && found == key)
            })
            .cloned()
            .collect();
        for (column, key, value) in edits {
            if let Some(value) = value {
                records.push(((*column).to_owned(), key.to_vec(), value.clone()));
            }
        }
        records
    };
    let open = |edits: &[Edit]| MemoryStore::from_records(chain_id(), edited(edits));
    let is_corrupt = |result: Result<MemoryStore, StorageError>,
                      what: &str,
                      column: &str,
                      key: &[u8],
                      reason: fn(&Corruption) -> bool| match result {
        Err(StorageError::Corrupt {
            what: found_what,
            column: found_column,
            key: found_key,
            reason: found_reason,
        }) => {
            found_what == what
                && found_column == column
                && found_key == key
                && reason(&found_reason)
        }
        other => {
            eprintln!("not the expected corruption: {:?}", other.map(|_| ()));
            false
        }
    };
    let missing: fn(&Corruption) -> bool = |reason| matches!(reason, Corruption::Missing);
    let decode: fn(&Corruption) -> bool = |reason| matches!(reason, Corruption::Decode(_));
    let inconsistent: fn(&Corruption) -> bool =
        |reason| matches!(reason, Corruption::Inconsistent(_));
    let height = |height: u64| height.to_be_bytes();

    // The records as they are open, with the pending writes replayed.
    let reopened = open(&[]).unwrap();
    assert_eq!(reopened.state_get(b"k/1"), Ok(None));
    assert_eq!(reopened.state_get(b"k/5"), Ok(Some(b"v".to_vec())));

    // A missing record: in the middle, the first, the last.
    for missing_height in [4u64, 3, 5] {
        assert!(
            is_corrupt(
                open(&[("state_diffs", &height(missing_height), None)]),
                "state diff",
                "state_diffs",
                &height(missing_height),
                missing
            ),
            "record {missing_height} missing"
        );
    }
    // Record 4 under a key that is not a height: record 4 is missing.
    let mut odd_key = height(4).to_vec();
    odd_key.push(0);
    assert!(is_corrupt(
        open(&[
            ("state_diffs", &height(4), None),
            ("state_diffs", &odd_key, Some(diff(4))),
        ]),
        "state diff",
        "state_diffs",
        &height(4),
        missing
    ));
    // A record above the last height.
    for above in [6u64, 100, u64::MAX] {
        assert!(
            is_corrupt(
                open(&[("state_diffs", &height(above), Some(diff(5)))]),
                "state diff",
                "state_diffs",
                &height(above),
                inconsistent
            ),
            "record {above}"
        );
    }
    // A record that does not decode: garbage, truncated, with a byte more, a key over the limit.
    let record = diff(4);
    let mut long_key = vec![0, 0, 0, 1, 0, 0, 1, 1];
    long_key.extend_from_slice(&[b'k'; 257]);
    long_key.extend_from_slice(&[0, 0, 0, 0, 0]);
    for value in [
        b"garbage".to_vec(),
        Vec::new(),
        record[..record.len() - 1].to_vec(),
        [record.clone(), vec![0]].concat(),
        long_key,
    ] {
        assert!(
            is_corrupt(
                open(&[("state_diffs", &height(4), Some(value.clone()))]),
                "state diff",
                "state_diffs",
                &height(4),
                decode
            ),
            "{value:?}"
        );
    }

    // `state_height` above the last height, missing, not a u64, or below a record deleted by
    // the move at height 2.
    for above in [6u64, u64::MAX] {
        assert!(is_corrupt(
            open(&[("meta", b"state_height", Some(above.to_be_bytes().to_vec()))]),
            "state height",
            "meta",
            b"state_height",
            inconsistent
        ));
    }
    assert!(is_corrupt(
        open(&[("meta", b"state_height", None)]),
        "state height",
        "meta",
        b"state_height",
        missing
    ));
    assert!(is_corrupt(
        open(&[("meta", b"state_height", Some(vec![0; 7]))]),
        "state height",
        "meta",
        b"state_height",
        decode
    ));
    assert!(is_corrupt(
        open(&[("meta", b"state_height", Some(1u64.to_be_bytes().to_vec()))]),
        "state diff",
        "state_diffs",
        &height(2),
        missing
    ));

    // `state_height` more than `STATE_PENDING_MAX_BLOCKS` below the last height: no store
    // leaves that many records.
    let mut long = MemoryStore::new(chain_id());
    let mut chain = Chain::new();
    for _ in 0..=STATE_PENDING_MAX_BLOCKS {
        chain.append(&mut long, vec![], vec![]);
    }
    let records = long.records();
    let state_height = |value: u64| -> Vec<RawRecord> {
        records
            .iter()
            .cloned()
            .map(|(name, key, old)| {
                let value = if key == b"state_height" {
                    value.to_be_bytes().to_vec()
                } else {
                    old
                };
                (name, key, value)
            })
            .collect()
    };
    assert_eq!(long.last_height(), STATE_PENDING_MAX_BLOCKS + 1);
    assert!(MemoryStore::from_records(chain_id(), state_height(STATE_PENDING_MAX_BLOCKS)).is_ok());
    assert!(is_corrupt(
        MemoryStore::from_records(chain_id(), state_height(0)),
        "state height",
        "meta",
        b"state_height",
        inconsistent
    ));
}
