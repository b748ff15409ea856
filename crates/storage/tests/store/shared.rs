//! Behaviours that both stores must show identically. Each is a function of `&mut dyn Store`,
//! run by `both!` once on a `MemoryStore` and once on a `RocksStore` in a temporary directory.

use courtledger_codec::Encode;
use courtledger_merkle::{leaf_hash, root, Hash, ProofError};
use courtledger_storage::{
    CommittedBlock, ConsensusRecord, LogError, LogView, MemoryStore, RocksStore, StateChange,
    StorageError, Store, TxLocation, MAX_STATE_SCAN,
};
use courtledger_types::limits::{MAX_TX_PAYLOAD_BYTES, MAX_VALIDATORS};
use courtledger_types::{CommitSignature, SignedTransaction, TxId};

use crate::support::{
    append_txs, assert_log_matches, chain_id, expected_log_records, other_chain_id, recertify, tx,
    validators, Chain, Snapshot, BLOCK_SIZE_PATTERNS,
};

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(
                #[test]
                fn $name() {
                    let mut store = courtledger_storage::MemoryStore::new(crate::support::chain_id());
                    super::$name(&mut store);
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
        }
    };
}

both!(
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
    refuses_mismatching_log_nodes,
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

    // A version-3 store is refused.
    let old = edited("meta", b"schema_version", Some(3u32.to_be_bytes().to_vec()));
    assert_eq!(
        MemoryStore::from_records(chain_id(), old).unwrap_err(),
        StorageError::SchemaVersion {
            found: 3,
            supported: 4
        }
    );

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
