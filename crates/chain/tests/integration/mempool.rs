//! The mempool: admission, back-pressure, selection order, pruning.

use std::collections::BTreeMap;

use courtledger_chain::AnchorApp;
use courtledger_chain::{
    encoded_tx_len, validate_block, Mempool, MempoolError, MempoolLimits, TxReject,
};
use courtledger_codec::DecodeError;
use courtledger_crypto::{PublicKey, Signature, SignatureError};
use courtledger_ledger::Invalid;
use courtledger_types::{Block, SignedTransaction, Transaction, TxId};
use proptest::prelude::*;

use crate::support::{chain_id, key, tx, Chain, Fixture};

fn pool(max_txs: usize, max_bytes: usize) -> Mempool {
    Mempool::new(
        MempoolLimits { max_txs, max_bytes },
        std::sync::Arc::new(AnchorApp),
        chain_id(),
        Fixture::new().validators,
    )
}

fn roomy() -> Mempool {
    pool(1_000, 10_000_000)
}

fn insert(mempool: &mut Mempool, tx: &SignedTransaction) -> Result<(), MempoolError> {
    mempool.insert(tx.clone(), tx.id())
}

fn never(_: &TxId) -> bool {
    false
}

#[test]
fn full_pool_pushes_back_by_count_and_by_bytes() {
    let mut mempool = pool(3, 10_000);
    for nonce in 1..=3 {
        insert(&mut mempool, &tx(10, nonce, b"a")).unwrap();
    }
    let full = MempoolError::Full {
        max_txs: 3,
        max_bytes: 10_000,
    };
    assert_eq!(insert(&mut mempool, &tx(10, 4, b"a")), Err(full.clone()));
    assert_eq!(mempool.len(), 3);
    let state = courtledger_chain::MemoryState::new();
    let results = mempool.verify_and_insert(&chain_id(), vec![tx(11, 1, b"b")], &state, &never);
    assert_eq!(results, vec![Err(full)]);
    // Room again after a commit.
    let first = tx(10, 1, b"a").id();
    assert_eq!(mempool.remove_committed(&[first, first]), 1);
    assert_eq!(insert(&mut mempool, &tx(10, 4, b"a")), Ok(()));

    let one = tx(10, 1, b"abc");
    let size = encoded_tx_len(&one);
    let mut mempool = pool(100, 2 * size + 1);
    insert(&mut mempool, &one).unwrap();
    insert(&mut mempool, &tx(10, 2, b"abc")).unwrap();
    assert_eq!(mempool.bytes(), 2 * size);
    assert!(matches!(
        insert(&mut mempool, &tx(10, 3, b"abc")),
        Err(MempoolError::Full { .. })
    ));
    // A transaction larger than the whole pool is not back-pressure: it can never fit.
    assert_eq!(
        insert(&mut mempool, &tx(10, 3, &[0; 500])),
        Err(MempoolError::Oversized {
            bytes: encoded_tx_len(&tx(10, 3, &[0; 500])),
            max: 2 * size + 1
        })
    );
}

#[test]
fn duplicates_committed_stale_and_taken_nonces_are_refused() {
    let fixture = Fixture::new();
    let mut chain = Chain::new(&fixture);
    let committed = tx(10, 1, b"committed");
    chain.extend(vec![committed.clone()]);
    let committed_id = committed.id();
    let is_committed = |id: &TxId| *id == committed_id;

    let mut mempool = roomy();
    let fresh = tx(10, 2, b"fresh");
    let results = mempool.verify_and_insert(
        &chain_id(),
        vec![
            fresh.clone(),
            fresh.clone(),       // again in the same submission
            committed.clone(),   // already committed
            tx(10, 0, b"old"),   // stale nonce
            tx(10, 2, b"rival"), // nonce 2 is taken by `fresh`
            tx(11, 1, b""),      // empty payload
        ],
        &chain.state,
        &is_committed,
    );
    assert_eq!(
        results,
        vec![
            Ok(fresh.id()),
            Err(MempoolError::Duplicate),
            Err(MempoolError::Committed),
            Err(MempoolError::Invalid(TxReject::StaleNonce {
                nonce: 0,
                highest: 1
            })),
            Err(MempoolError::NonceTaken {
                nonce: 2,
                pending: fresh.id()
            }),
            Err(MempoolError::Invalid(TxReject::Act(Invalid::Malformed(
                DecodeError::Invalid {
                    what: "anchor payload",
                    reason: "empty"
                }
            )))),
        ]
    );
    // Submitting it again later.
    assert_eq!(
        mempool.verify_and_insert(
            &chain_id(),
            vec![fresh.clone()],
            &chain.state,
            &is_committed
        ),
        vec![Err(MempoolError::Duplicate)]
    );
    assert_eq!(insert(&mut mempool, &fresh), Err(MempoolError::Duplicate));
    assert_eq!(mempool.len(), 1);
    assert!(mempool.contains(&fresh.id()));
    assert_eq!(mempool.get(&fresh.id()), Some(&fresh));
}

#[test]
fn one_bad_signature_refuses_only_its_transaction() {
    let state = courtledger_chain::MemoryState::new();
    let mut txs: Vec<SignedTransaction> = (0..6).map(|i| tx(10 + i, 1, b"act")).collect();
    // Signed by the right key over other bytes.
    txs[2].signature = Transaction {
        payload: b"other".to_vec(),
        ..txs[2].tx.clone()
    }
    .sign(&key(12), &chain_id())
    .signature;
    // S not canonical.
    txs[4].signature.0[63] = 0xff;
    let mut mempool = roomy();
    let results = mempool.verify_and_insert(&chain_id(), txs.clone(), &state, &never);
    for (index, result) in results.iter().enumerate() {
        match index {
            2 => assert_eq!(
                result,
                &Err(MempoolError::BadSignature(SignatureError::Mismatch))
            ),
            4 => assert_eq!(
                result,
                &Err(MempoolError::BadSignature(SignatureError::NonCanonicalS))
            ),
            _ => assert_eq!(result, &Ok(txs[index].id())),
        }
    }
    assert_eq!(mempool.len(), 4);
    assert!(!mempool.contains(&txs[2].id()));

    // A single bad one, and a batch that is all good.
    let mut mempool = roomy();
    let mut lone = tx(20, 1, b"x");
    lone.signature = Signature([0; 64]);
    assert!(matches!(
        mempool.verify_and_insert(&chain_id(), vec![lone], &state, &never)[0],
        Err(MempoolError::BadSignature(_))
    ));
    let good: Vec<SignedTransaction> = (1..=4).map(|i| tx(20, i, b"y")).collect();
    assert!(mempool
        .verify_and_insert(&chain_id(), good, &state, &never)
        .iter()
        .all(Result::is_ok));
    assert_eq!(mempool.len(), 4);
}

#[test]
fn select_orders_each_signer_by_nonce_in_arrival_slots() {
    let mut mempool = roomy();
    // Arrivals: A3, B1, A1, C5, A2, B0.
    let arrivals = [
        tx(10, 3, b"a3"),
        tx(11, 1, b"b1"),
        tx(10, 1, b"a1"),
        tx(12, 5, b"c5"),
        tx(10, 2, b"a2"),
        tx(11, 0, b"b0"),
    ];
    for t in &arrivals {
        insert(&mut mempool, t).unwrap();
    }
    let payloads = |selected: Vec<SignedTransaction>| -> Vec<Vec<u8>> {
        selected.into_iter().map(|t| t.tx.payload).collect()
    };
    // A's slots (1st, 3rd, 5th) get A1, A2, A3; B's (2nd, 6th) get B0, B1.
    assert_eq!(
        payloads(mempool.select(100, 1_000_000)),
        vec![
            b"a1".to_vec(),
            b"b0".to_vec(),
            b"a2".to_vec(),
            b"c5".to_vec(),
            b"a3".to_vec(),
            b"b1".to_vec()
        ]
    );
    assert_eq!(
        payloads(mempool.select(2, 1_000_000)),
        vec![b"a1".to_vec(), b"b0".to_vec()]
    );
    assert!(mempool.select(0, 1_000_000).is_empty());
    assert!(mempool.select(10, 50).is_empty());
}

#[test]
fn prune_drops_what_a_commit_made_stale() {
    let fixture = Fixture::new();
    let mut chain = Chain::new(&fixture);
    let mut mempool = roomy();
    let pending: Vec<SignedTransaction> = (1..=4).map(|n| tx(10, n, b"p")).collect();
    for t in &pending {
        insert(&mut mempool, t).unwrap();
    }
    insert(&mut mempool, &tx(11, 1, b"q")).unwrap();
    // A block (from another proposer) commits other transactions of signer 10 with nonces 1
    // and 2, and our nonce 3.
    let block = chain.extend(vec![
        tx(10, 1, b"elsewhere"),
        tx(10, 2, b"elsewhere"),
        pending[2].clone(),
    ]);
    assert_eq!(block.txs.len(), 3);
    assert_eq!(mempool.remove_committed(&block.tx_ids()), 1);
    let mut pruned = mempool.prune(&chain.state);
    pruned.sort();
    let mut expected = vec![pending[0].id(), pending[1].id()];
    expected.sort();
    assert_eq!(pruned, expected);
    assert_eq!(mempool.len(), 2);
    assert!(mempool.contains(&pending[3].id()));
    assert_eq!(
        mempool.bytes(),
        encoded_tx_len(&pending[3]) + encoded_tx_len(&tx(11, 1, b"q"))
    );
    // What remains builds a valid block.
    let (next, _) = chain.build(mempool.select(100, 1_000_000));
    assert_eq!(next.txs.len(), 2);
    assert!(chain.validate(&next).is_ok());
}

#[test]
fn pool_membership_is_the_verify_once_cache() {
    let fixture = Fixture::new();
    let chain = Chain::new(&fixture);
    let mut mempool = roomy();
    let txs: Vec<SignedTransaction> = (1..=3).map(|n| tx(10, n, b"v")).collect();
    let results = mempool.verify_and_insert(&chain_id(), txs.clone(), &chain.state, &never);
    assert!(results.iter().all(Result::is_ok));
    let (block, _) = chain.build(mempool.select(100, 1_000_000));
    assert_eq!(block.txs, txs);
    let checked = std::cell::RefCell::new(Vec::new());
    let execution = validate_block(
        &fixture.ctx(),
        &chain.parent,
        &chain.state,
        &block,
        chain.next_time(),
        &|id| {
            checked.borrow_mut().push(*id);
            mempool.contains(id)
        },
    )
    .unwrap();
    assert_eq!(checked.into_inner(), execution.tx_ids);
}

/// A transaction with a dummy signature: `insert` trusts its caller, which is all the selection
/// tests need.
fn unsigned(signer: &PublicKey, nonce: u64, payload_len: usize) -> SignedTransaction {
    SignedTransaction {
        tx: Transaction {
            signer: *signer,
            nonce,
            payload: vec![0x5a; payload_len],
        },
        signature: Signature([0; 64]),
    }
}

proptest! {
    /// Selection: within the limits, each signer's transactions in ascending nonce order and
    /// without gaps (a prefix of its pending ones), in its arrival slots; never one that waits
    /// for a missing nonce (without state, a signer's lowest pending nonce is taken for its
    /// next).
    #[test]
    fn selection_keeps_nonce_order(
        arrivals in proptest::collection::vec((0usize..4, 0u64..24, 1usize..200), 0..60),
        max_txs in 0u32..70,
        max_bytes in 0u32..20_000,
    ) {
        let signers: Vec<PublicKey> = (0..4).map(|n| key(40 + n).public_key()).collect();
        let mut mempool = roomy();
        let mut accepted = Vec::new();
        for (signer, nonce, len) in arrivals {
            let t = unsigned(&signers[signer], nonce, len);
            match mempool.insert(t.clone(), t.id()) {
                Ok(()) => accepted.push(t),
                Err(MempoolError::NonceTaken { .. }) | Err(MempoolError::Duplicate) => {}
                Err(other) => prop_assert!(false, "unexpected {other:?}"),
            }
        }
        let mut pending: BTreeMap<PublicKey, Vec<u64>> = BTreeMap::new();
        for t in &accepted {
            pending.entry(t.tx.signer).or_default().push(t.tx.nonce);
        }
        for nonces in pending.values_mut() {
            nonces.sort_unstable();
        }

        // Each signer's ready run: its pending nonces from the lowest on, without a gap.
        let ready: BTreeMap<PublicKey, usize> = pending
            .iter()
            .map(|(signer, nonces)| {
                let run = nonces.windows(2).take_while(|pair| pair[1] == pair[0] + 1).count() + 1;
                (*signer, run)
            })
            .collect();
        let ready_total: usize = ready.values().sum();
        prop_assert_eq!(mempool.waiting(), accepted.len() - ready_total);

        // Unlimited: every ready transaction, in the signer slots as they arrived.
        let all = mempool.select(u32::MAX, u32::MAX);
        prop_assert_eq!(all.len(), ready_total);
        let mut used: BTreeMap<PublicKey, usize> = BTreeMap::new();
        let slots: Vec<PublicKey> = accepted
            .iter()
            .map(|t| t.tx.signer)
            .filter(|signer| {
                let count = used.entry(*signer).or_default();
                *count += 1;
                *count <= ready[signer]
            })
            .collect();
        let selected_slots: Vec<PublicKey> = all.iter().map(|t| t.tx.signer).collect();
        prop_assert_eq!(slots, selected_slots);

        for selection in [all, mempool.select(max_txs, max_bytes)] {
            let mut seen: BTreeMap<PublicKey, Vec<u64>> = BTreeMap::new();
            for t in &selection {
                seen.entry(t.tx.signer).or_default().push(t.tx.nonce);
            }
            for (signer, nonces) in &seen {
                let expected = &pending[signer][..nonces.len()];
                prop_assert_eq!(nonces.as_slice(), expected, "a prefix, in ascending order");
            }
        }
        let limited = mempool.select(max_txs, max_bytes);
        prop_assert!(limited.len() <= usize::try_from(max_txs).unwrap());
        let bytes: usize = limited.iter().map(encoded_tx_len).sum();
        prop_assert!(bytes <= usize::try_from(max_bytes).unwrap());
    }
}

proptest! {
    /// Count, bytes and membership stay consistent through inserts and removals.
    #[test]
    fn accounting_stays_consistent(
        ops in proptest::collection::vec((any::<bool>(), 0usize..3, 0u64..12, 1usize..50), 0..80),
    ) {
        let signers: Vec<PublicKey> = (0..3).map(|n| key(60 + n).public_key()).collect();
        let mut mempool = pool(20, 2_000);
        let mut model: BTreeMap<TxId, usize> = BTreeMap::new();
        for (remove, signer, nonce, len) in ops {
            let t = unsigned(&signers[signer], nonce, len);
            let id = t.id();
            if remove {
                let removed = mempool.remove_committed(&[id]);
                prop_assert_eq!(removed, usize::from(model.remove(&id).is_some()));
            } else if mempool.insert(t.clone(), id).is_ok() {
                model.insert(id, encoded_tx_len(&t));
            }
            prop_assert_eq!(mempool.len(), model.len());
            prop_assert_eq!(mempool.bytes(), model.values().sum::<usize>());
            prop_assert!(mempool.len() <= 20 && mempool.bytes() <= 2_000);
            for id in model.keys() {
                prop_assert!(mempool.contains(id));
            }
            // Everything but the transactions waiting for a missing nonce can be selected.
            prop_assert!(mempool.waiting() <= model.len());
            prop_assert_eq!(
                mempool.select(u32::MAX, u32::MAX).len(),
                model.len() - mempool.waiting()
            );
        }
    }
}

#[test]
fn a_later_nonce_that_arrives_first_waits_for_the_missing_one() {
    let fixture = Fixture::new();
    let mut chain = Chain::new(&fixture);
    let mut mempool = roomy();
    let signer = key(10).public_key();
    assert_eq!(mempool.next_nonce(&signer, &chain.state), Some(1));
    // Nonce 2 arrives first (gossip from another node overtook nonce 1).
    insert(&mut mempool, &tx(10, 2, b"second")).unwrap();
    assert_eq!(mempool.next_nonce(&signer, &chain.state), Some(3));
    let (block, _) = chain.build(mempool.select(100, 1_000_000));
    assert!(block.txs.is_empty(), "nonce 2 cannot go before nonce 1");
    assert!(
        mempool.prune(&chain.state).is_empty(),
        "a waiting nonce is not stale"
    );
    insert(&mut mempool, &tx(10, 1, b"first")).unwrap();
    let block = chain.extend(mempool.select(100, 1_000_000));
    assert_eq!(block.txs.len(), 2, "both commit, in nonce order");
    assert_eq!(block.txs[0].tx.nonce, 1);
    assert_eq!(mempool.remove_committed(&block.tx_ids()), 2);
    assert_eq!(mempool.next_nonce(&signer, &chain.state), Some(3));
    // Too far ahead to wait for.
    let far = 3 + courtledger_types::limits::MAX_NONCE_LOOKAHEAD;
    assert!(matches!(
        mempool.verify_and_insert(&chain_id(), vec![tx(10, far, b"far")], &chain.state, &never)[0],
        Err(MempoolError::Invalid(TxReject::NonceTooFarAhead { .. }))
    ));
}

#[test]
fn waiting_transactions_take_at_most_a_quarter_of_the_pool() {
    let fixture = Fixture::new();
    let chain = Chain::new(&fixture);
    // At most 8 transactions, of which at most 2 wait for a missing nonce.
    let mut mempool = pool(8, 1_000_000);
    assert_eq!(mempool.limits().max_waiting_txs(), 2);
    let submit = |mempool: &mut Mempool, txs: Vec<SignedTransaction>| {
        mempool.verify_and_insert(&chain_id(), txs, &chain.state, &never)
    };
    // Signer 10's next nonce is 1: nonces 3 and 4 wait, nonce 5 finds no room to wait.
    let results = submit(
        &mut mempool,
        vec![tx(10, 3, b"3"), tx(10, 4, b"4"), tx(10, 5, b"5")],
    );
    assert!(results[0].is_ok() && results[1].is_ok());
    let too_many = MempoolError::TooManyWaiting {
        nonce: 5,
        missing: 1,
        max: 2,
    };
    assert!(too_many.is_backpressure());
    assert_eq!(results[2], Err(too_many));
    assert_eq!(mempool.waiting(), 2);
    // A transaction that can go into the next block still enters, and only it is selected.
    assert!(submit(&mut mempool, vec![tx(11, 1, b"b1")])[0].is_ok());
    let payloads = |selected: Vec<SignedTransaction>| -> Vec<Vec<u8>> {
        selected.into_iter().map(|t| t.tx.payload).collect()
    };
    assert_eq!(
        payloads(mempool.select(100, 1_000_000)),
        vec![b"b1".to_vec()]
    );
    // Nonce 1 arrives: 3 and 4 still wait for 2. Nonce 2 arrives: all of them are ready.
    assert!(submit(&mut mempool, vec![tx(10, 1, b"1")])[0].is_ok());
    assert_eq!(mempool.waiting(), 2);
    assert!(submit(&mut mempool, vec![tx(10, 2, b"2")])[0].is_ok());
    assert_eq!(mempool.waiting(), 0);
    assert!(submit(&mut mempool, vec![tx(10, 5, b"5")])[0].is_ok());
    // Arrivals 3, 4, b1, 1, 2, 5: signer 10's slots (1st, 2nd, 4th, 5th, 6th) get its
    // nonces in order.
    let expected: Vec<Vec<u8>> = [&b"1"[..], b"2", b"b1", b"3", b"4", b"5"]
        .iter()
        .map(|p| p.to_vec())
        .collect();
    assert_eq!(payloads(mempool.select(100, 1_000_000)), expected);
}

#[test]
fn a_commit_of_the_missing_nonces_elsewhere_makes_the_waiting_ones_ready() {
    let fixture = Fixture::new();
    let mut chain = Chain::new(&fixture);
    let mut mempool = roomy();
    let third = tx(10, 3, b"third");
    let results = mempool.verify_and_insert(&chain_id(), vec![third.clone()], &chain.state, &never);
    assert!(results[0].is_ok());
    assert_eq!(mempool.waiting(), 1);
    assert!(mempool.select(100, 1_000_000).is_empty());
    // Another proposer's block commits nonces 1 and 2, which this pool never saw.
    let block = chain.extend(vec![tx(10, 1, b"one"), tx(10, 2, b"two")]);
    assert_eq!(mempool.remove_committed(&block.tx_ids()), 0);
    assert!(mempool.prune(&chain.state).is_empty());
    assert_eq!(mempool.waiting(), 0);
    let next = chain.extend(mempool.select(100, 1_000_000));
    assert_eq!(next.tx_ids(), vec![third.id()]);
}

#[test]
fn a_submission_in_nonce_order_does_not_wait_on_itself() {
    let fixture = Fixture::new();
    let chain = Chain::new(&fixture);
    // No room at all for transactions that wait (8 / 4 = 2, both taken).
    let mut mempool = pool(8, 1_000_000);
    let results = mempool.verify_and_insert(
        &chain_id(),
        vec![tx(11, 5, b"5"), tx(11, 6, b"6")],
        &chain.state,
        &never,
    );
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(mempool.waiting(), 2);
    // Nonces 1, 2, 3 of a new signer in one submission: each follows the one before it.
    let results = mempool.verify_and_insert(
        &chain_id(),
        vec![tx(10, 1, b"1"), tx(10, 2, b"2"), tx(10, 3, b"3")],
        &chain.state,
        &never,
    );
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    // Nonces 5 and 6 after a missing 4: 5 would wait, and so would 6 after it.
    let results = mempool.verify_and_insert(
        &chain_id(),
        vec![tx(10, 5, b"5"), tx(10, 6, b"6")],
        &chain.state,
        &never,
    );
    assert!(matches!(
        results[0],
        Err(MempoolError::TooManyWaiting {
            nonce: 5,
            missing: 4,
            ..
        })
    ));
    assert!(matches!(
        results[1],
        Err(MempoolError::TooManyWaiting {
            nonce: 6,
            missing: 4,
            ..
        })
    ));
    assert_eq!(mempool.len(), 5);
    assert_eq!(mempool.waiting(), 2);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Which transactions wait for a missing nonce stays what a model recomputing it from
    /// scratch says, through submissions (in and out of order, conflicting, stale), commits of
    /// selected transactions and commits of transactions the pool never saw, each followed by
    /// `remove_committed` and `prune` as a node does.
    #[test]
    fn waiting_transactions_match_a_model_through_commits(
        ops in proptest::collection::vec((0u8..4, 0u8..3, 0u64..6, 0usize..6), 1..40),
    ) {
        let fixture = Fixture::new();
        let mut chain = Chain::new(&fixture);
        let mut mempool = roomy();
        // Each signer's next nonce in committed state, and the pending transactions.
        let mut next = [1u64; 3];
        let mut pending: BTreeMap<TxId, (usize, u64)> = BTreeMap::new();
        let mut counter = 0u32;
        for (kind, signer, offset, take) in ops {
            let s = usize::from(signer);
            counter += 1;
            let payload = counter.to_be_bytes();
            let committed: Option<Block> = match kind {
                0 | 1 => {
                    // One below the next nonce (stale) up to four above it.
                    let nonce = (next[s] + offset).saturating_sub(1).max(1);
                    let t = tx(10 + signer, nonce, &payload);
                    let id = t.id();
                    let result =
                        mempool.verify_and_insert(&chain_id(), vec![t], &chain.state, &never);
                    if result[0].is_ok() {
                        pending.insert(id, (s, nonce));
                    }
                    None
                }
                2 => {
                    let selected: Vec<SignedTransaction> =
                        mempool.select(u32::MAX, u32::MAX).into_iter().take(take).collect();
                    let count = selected.len();
                    let block = chain.extend(selected);
                    prop_assert_eq!(block.txs.len(), count, "a selection executes whole");
                    Some(block)
                }
                _ => {
                    let t = tx(10 + signer, next[s], b"elsewhere");
                    Some(chain.extend(vec![t]))
                }
            };
            if let Some(block) = committed {
                for t in &block.txs {
                    let s = (10u8..13)
                        .position(|n| key(n).public_key() == t.tx.signer)
                        .unwrap();
                    next[s] = next[s].max(t.tx.nonce + 1);
                    pending.remove(&t.id());
                }
                mempool.remove_committed(&block.tx_ids());
                let mut pruned = mempool.prune(&chain.state);
                pruned.sort();
                let stale: Vec<TxId> = pending
                    .iter()
                    .filter(|(_, (s, nonce))| *nonce < next[*s])
                    .map(|(id, _)| *id)
                    .collect();
                prop_assert_eq!(&pruned, &stale);
                for id in &stale {
                    pending.remove(id);
                }
            }
            // Ready: a signer's pending nonces that follow its next one without a gap.
            let mut ready = 0usize;
            for (s, first) in next.iter().enumerate() {
                let mut nonce = *first;
                while pending.values().any(|entry| *entry == (s, nonce)) {
                    ready += 1;
                    nonce += 1;
                }
            }
            prop_assert_eq!(mempool.len(), pending.len());
            prop_assert_eq!(mempool.select(u32::MAX, u32::MAX).len(), ready);
            prop_assert_eq!(mempool.waiting(), pending.len() - ready);
        }
    }
}
