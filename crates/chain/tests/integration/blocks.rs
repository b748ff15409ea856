//! Building, validating and executing blocks.

use courtledger_chain::keys;
use courtledger_chain::limits::BLOCK_OVERHEAD_BYTES;
use courtledger_chain::{
    decode_changes, encode_changes, encoded_block_len, encoded_tx_len, execute_block,
    genesis_state_root, log_frontier, state_root, try_build_block, validate_block, BlockError,
    ExecError, MemoryState, Parent, StateChange, StateRead, TxReject,
};
use courtledger_codec::{DecodeError, Encode};
use courtledger_crypto::{sha256, ChainId, Digest, SignatureError};
use courtledger_ledger::Invalid;
use courtledger_merkle as merkle;
use courtledger_types::block::tx_root;
use courtledger_types::limits::MAX_BLOCK_BYTES;
use courtledger_types::{Block, BlockHeader, SignedTransaction, TxId};
use proptest::prelude::*;

use crate::support::{chain_id, key, tx, Chain, Fixture, GENESIS_MS};

/// `count` transactions from signers 10.., a few per signer, ascending nonces.
fn txs(count: u64) -> Vec<SignedTransaction> {
    txs_between(0..count)
}

/// Transaction `i` for each `i` in `range`: signer `10 + i % 3`, nonce `1 + i / 3` (each
/// signer's nonces consecutive from 1).
fn txs_between(range: std::ops::Range<u64>) -> Vec<SignedTransaction> {
    range
        .map(|i| {
            let signer = 10 + u8::try_from(i % 3).unwrap();
            tx(signer, 1 + i / 3, format!("anchor {i}").as_bytes())
        })
        .collect()
}

/// Replaces the block's transactions and fixes the header's count and root, so that the
/// validation gets past them.
fn with_txs(block: &Block, txs: Vec<SignedTransaction>) -> Block {
    let mut block = block.clone();
    block.header.tx_count = u32::try_from(txs.len()).unwrap();
    block.txs = txs;
    block.header.tx_root = tx_root(&block.tx_ids());
    block
}

#[test]
fn build_then_validate_round_trips_for_0_1_and_many_txs() {
    let fixture = Fixture::new();
    let mut chain = Chain::new(&fixture);
    for range in [0..0, 0..1, 1..61] {
        let candidates = txs_between(range);
        let (block, execution) = chain.build(candidates.clone());
        assert_eq!(block.txs, candidates, "all candidates are valid and fit");
        assert_eq!(encoded_block_len(&block), block.to_bytes().len());
        assert_eq!(
            Block::decode(&block.to_bytes(), MAX_BLOCK_BYTES),
            Ok(block.clone())
        );
        assert!(block.txs_match_header());
        let validated = chain.validate(&block).unwrap();
        assert_eq!(validated, execution);
        let changes = encode_changes(&execution.changes);
        assert_eq!(
            decode_changes(&changes, changes.len()),
            Ok(execution.changes.clone())
        );
        assert_eq!(execution.receipts.len(), candidates.len());
        for (index, receipt) in execution.receipts.iter().enumerate() {
            assert_eq!(receipt.tx_id, candidates[index].id());
            assert_eq!(usize::try_from(receipt.index).unwrap(), index);
            assert_eq!(receipt.height, block.header.height);
        }
        chain.commit(&block, &validated);
    }
    assert_eq!(chain.parent.height, 3);
    assert_eq!(chain.committed.len(), 61);
}

#[test]
fn header_fields_follow_the_rules() {
    let fixture = Fixture::new();
    let mut chain = Chain::new(&fixture);
    let genesis = chain.parent;
    assert_eq!(genesis.height, 0);
    assert_eq!(genesis.id, chain_id().0);
    assert_eq!(genesis.time_ms, GENESIS_MS);
    assert_eq!(genesis.state_root, genesis_state_root(&chain_id()));

    let candidates = txs(3);
    let (block, execution) = chain.build(candidates.clone());
    let header = &block.header;
    assert_eq!(header.version, 1);
    assert_eq!(header.chain_id, chain_id());
    assert_eq!(header.height, 1);
    assert_eq!(header.time_ms, GENESIS_MS + 1_000);
    assert_eq!(header.parent_id, chain_id().0);
    assert_eq!(header.proposer, key(1).public_key());
    assert_eq!(header.tx_count, 3);
    let ids: Vec<TxId> = candidates.iter().map(SignedTransaction::id).collect();
    assert_eq!(header.tx_root, tx_root(&ids));
    assert_eq!(header.results_root, execution.results_root);
    assert_eq!(header.log_size, 3);
    // After the first block the log is exactly the block's transactions.
    assert_eq!(header.log_root, header.tx_root);
    assert_eq!(
        header.state_root,
        state_root(&genesis_state_root(&chain_id()), &execution.changes)
    );
    assert_eq!(header.validators_hash, fixture.validators.hash());
    assert_eq!(header.next_validators_hash, fixture.validators.hash());
    chain.commit(&block, &execution);
    assert_eq!(Parent::of(&block.header).id, block.header.id());
    assert_eq!(chain.parent.state_root, block.header.state_root);
}

#[test]
fn build_never_goes_back_in_time() {
    let fixture = Fixture::new();
    let chain = Chain::new(&fixture);
    let ctx = fixture.ctx();
    let state = MemoryState::new();
    // A clock behind genesis: the block still comes after its parent.
    let (block, _) = try_build_block(
        &ctx,
        &chain.parent,
        &state,
        Vec::new(),
        key(2).public_key(),
        GENESIS_MS - 5_000,
    )
    .unwrap();
    assert_eq!(block.header.time_ms, GENESIS_MS + 1);
    assert!(validate_block(&ctx, &chain.parent, &state, &block, GENESIS_MS, &|_| false).is_ok());
}

/// One header field changed, and the error the validation must give.
type Tamper = (&'static str, fn(&mut BlockHeader), fn(&BlockError) -> bool);

#[test]
fn every_header_field_tampered_gives_its_own_error() {
    let fixture = Fixture::new();
    let mut chain = Chain::new(&fixture);
    chain.extend(txs(2));
    let (block, _) = chain.build(txs(5).into_iter().skip(2).collect());
    assert!(chain.validate(&block).is_ok());
    let other = sha256(b"other");
    let now = chain.next_time();
    let drift = fixture.params.max_clock_drift_ms;
    let parent_time = chain.parent.time_ms;
    let cases: Vec<Tamper> = vec![
        (
            "version",
            |h| h.version = 2,
            |e| {
                matches!(
                    e,
                    BlockError::Version {
                        found: 2,
                        expected: 1
                    }
                )
            },
        ),
        (
            "chain_id",
            |h| h.chain_id = ChainId(sha256(b"other")),
            |e| matches!(e, BlockError::ChainId { .. }),
        ),
        (
            "height",
            |h| h.height += 1,
            |e| {
                matches!(
                    e,
                    BlockError::Height {
                        found: 3,
                        expected: 2
                    }
                )
            },
        ),
        (
            "parent_id",
            |h| h.parent_id = sha256(b"other"),
            |e| matches!(e, BlockError::ParentId { .. }),
        ),
        (
            "proposer",
            |h| h.proposer = key(99).public_key(),
            |e| matches!(e, BlockError::ProposerNotValidator { proposer } if **proposer == key(99).public_key()),
        ),
        (
            "tx_count",
            |h| h.tx_count += 1,
            |e| {
                matches!(
                    e,
                    BlockError::TxCount {
                        header: 4,
                        actual: 3
                    }
                )
            },
        ),
        (
            "tx_root",
            |h| h.tx_root = sha256(b"other"),
            |e| matches!(e, BlockError::TxRoot { .. }),
        ),
        (
            "results_root",
            |h| h.results_root = sha256(b"other"),
            |e| matches!(e, BlockError::ResultsRoot { .. }),
        ),
        (
            "log_size",
            |h| h.log_size += 1,
            |e| {
                matches!(
                    e,
                    BlockError::LogSize {
                        found: 6,
                        expected: 5
                    }
                )
            },
        ),
        (
            "log_root",
            |h| h.log_root = sha256(b"other"),
            |e| matches!(e, BlockError::LogRoot { .. }),
        ),
        (
            "state_root",
            |h| h.state_root = sha256(b"other"),
            |e| matches!(e, BlockError::StateRoot { .. }),
        ),
        (
            "validators_hash",
            |h| h.validators_hash = sha256(b"other"),
            |e| matches!(e, BlockError::ValidatorsHash { .. }),
        ),
        (
            "next_validators_hash",
            |h| h.next_validators_hash = sha256(b"other"),
            |e| matches!(e, BlockError::NextValidatorsHash { .. }),
        ),
    ];
    for (field, tamper, expected) in cases {
        let mut tampered = block.clone();
        tamper(&mut tampered.header);
        let error = chain.validate(&tampered).unwrap_err();
        assert!(expected(&error), "{field}: unexpected {error:?}");
    }

    // Time, both ways.
    let mut tampered = block.clone();
    tampered.header.time_ms = parent_time;
    assert_eq!(
        chain.validate(&tampered),
        Err(BlockError::TimeNotAfterParent {
            time_ms: parent_time,
            parent_time_ms: parent_time
        })
    );
    tampered.header.time_ms = now + drift + 1;
    assert_eq!(
        chain.validate(&tampered),
        Err(BlockError::TimeTooFarAhead {
            time_ms: now + drift + 1,
            now_ms: now,
            max_drift_ms: drift
        })
    );
    // At the edges it is valid: just after the parent, exactly at the drift bound.
    tampered.header.time_ms = now + drift;
    assert!(chain.validate(&tampered).is_ok());
    tampered.header.time_ms = parent_time + 1;
    assert!(chain.validate(&tampered).is_ok());
    // Another validator as proposer is a valid block too (who may propose is consensus' call).
    let mut tampered = block.clone();
    tampered.header.proposer = key(3).public_key();
    assert!(chain.validate(&tampered).is_ok());
    assert_ne!(other, block.header.state_root);
}

#[test]
fn blocks_over_the_limits_are_refused_and_never_built() {
    let fixture = Fixture::new();
    let candidates = txs(5);
    let (block, _) = Chain::new(&fixture).build(candidates.clone());
    assert_eq!(block.txs.len(), 5);

    // Fewer transactions allowed than the block has.
    let mut few_txs = Fixture::new();
    few_txs.params.max_block_txs = 4;
    let chain = Chain::new(&few_txs);
    assert_eq!(
        chain.validate(&block),
        Err(BlockError::TooManyTxs { count: 5, max: 4 })
    );
    let (built, _) = chain.build(candidates.clone());
    assert_eq!(built.txs, candidates[..4].to_vec());
    assert!(chain.validate(&built).is_ok());

    // Fewer bytes allowed than the block has.
    let size = encoded_block_len(&block);
    let mut few_bytes = Fixture::new();
    few_bytes.params.max_block_bytes = u32::try_from(size - 1).unwrap();
    let chain = Chain::new(&few_bytes);
    assert_eq!(
        chain.validate(&block),
        Err(BlockError::TooLarge {
            bytes: size,
            max: few_bytes.params.max_block_bytes
        })
    );
    let (built, _) = chain.build(candidates.clone());
    assert_eq!(built.txs, candidates[..4].to_vec());
    assert!(encoded_block_len(&built) < size);
    assert!(chain.validate(&built).is_ok());

    // Exactly at the limit is fine.
    let mut exact = Fixture::new();
    exact.params.max_block_bytes = u32::try_from(size).unwrap();
    assert!(Chain::new(&exact).validate(&block).is_ok());
}

#[test]
fn build_holds_back_a_signer_whose_transaction_does_not_fit() {
    let mut fixture = Fixture::new();
    let big = tx(10, 1, &[7; 900]);
    let after_big = tx(10, 2, b"small");
    let other = tx(11, 1, b"small");
    let room = BLOCK_OVERHEAD_BYTES + encoded_tx_len(&other) + encoded_tx_len(&after_big);
    fixture.params.max_block_bytes = u32::try_from(room).unwrap();
    let chain = Chain::new(&fixture);
    let (block, _) = chain.build(vec![big, after_big, other.clone()]);
    // Signer 10's nonce 2 must not overtake its nonce 1, which did not fit.
    assert_eq!(block.txs, vec![other]);
    assert!(chain.validate(&block).is_ok());
}

#[test]
fn build_skips_invalid_candidates() {
    let fixture = Fixture::new();
    let mut chain = Chain::new(&fixture);
    chain.extend(vec![tx(10, 1, b"a")]);
    let candidates = vec![
        tx(10, 1, b"a"), // replay of a committed transaction
        tx(10, 0, b"b"), // stale nonce
        tx(10, 2, b""),  // empty payload
        tx(10, 2, b"c"), // valid
        tx(10, 2, b"d"), // same nonce as the one just taken
        tx(11, 1, b"e"), // first transaction of a signer: nonce 1
        tx(11, 1, b"e"), // duplicate
        tx(12, 2, b"f"), // a gap: nonce 1 is missing
    ];
    let (block, _) = chain.build(candidates.clone());
    assert_eq!(
        block.txs,
        vec![candidates[3].clone(), candidates[5].clone()]
    );
    assert!(chain.validate(&block).is_ok());
}

#[test]
fn duplicate_transaction_in_a_block_is_refused() {
    let fixture = Fixture::new();
    let chain = Chain::new(&fixture);
    let (block, _) = chain.build(txs(3));
    let mut repeated = block.txs.clone();
    repeated.push(block.txs[1].clone());
    let block = with_txs(&block, repeated);
    assert_eq!(
        chain.validate(&block),
        Err(BlockError::DuplicateTx { index: 3, first: 1 })
    );
}

/// A copy of `tx` whose signature no longer verifies (still canonical: R and S kept valid
/// encodings by changing the message instead).
fn badly_signed(tx: &SignedTransaction) -> SignedTransaction {
    let mut bad = tx.clone();
    bad.signature = courtledger_types::Transaction {
        payload: b"something else".to_vec(),
        ..tx.tx.clone()
    }
    .sign(&key(tx_signer_seed(tx)), &chain_id())
    .signature;
    bad
}

fn tx_signer_seed(tx: &SignedTransaction) -> u8 {
    (0..=255u8)
        .find(|n| key(*n).public_key() == tx.tx.signer)
        .unwrap()
}

#[test]
fn bad_signature_names_its_index() {
    let fixture = Fixture::new();
    let chain = Chain::new(&fixture);
    let (block, _) = chain.build(txs(6));
    for k in [0, 3, 5] {
        let mut txs = block.txs.clone();
        txs[k] = badly_signed(&txs[k]);
        let tampered = with_txs(&block, txs.clone());
        assert_eq!(
            chain.validate(&tampered),
            Err(BlockError::BadSignature {
                index: k,
                error: SignatureError::Mismatch
            }),
            "k = {k}"
        );
        // A transaction already verified (in the mempool) is not checked again.
        let bad_id = txs[k].id();
        let skipped = validate_block(
            &fixture.ctx(),
            &chain.parent,
            &chain.state,
            &tampered,
            chain.next_time(),
            &|id| *id == bad_id,
        );
        assert!(
            matches!(skipped, Err(BlockError::ResultsRoot { .. })),
            "k = {k}: {skipped:?}"
        );
    }
    // Two bad signatures: the lowest index is named.
    let mut two = block.txs.clone();
    two[4] = badly_signed(&two[4]);
    two[2] = badly_signed(&two[2]);
    let mut non_canonical = two[4].signature;
    non_canonical.0[63] = 0xff;
    two[4].signature = non_canonical;
    assert!(matches!(
        chain.validate(&with_txs(&block, two)),
        Err(BlockError::BadSignature { index: 2, .. })
    ));
    // Signatures for another chain are bad signatures.
    let foreign: Vec<SignedTransaction> = block
        .txs
        .iter()
        .map(|t| {
            t.tx.clone()
                .sign(&key(tx_signer_seed(t)), &ChainId(sha256(b"x")))
        })
        .collect();
    assert!(matches!(
        chain.validate(&with_txs(&block, foreign)),
        Err(BlockError::BadSignature { index: 0, .. })
    ));
}

#[test]
fn stale_nonces_are_refused() {
    let fixture = Fixture::new();
    let mut chain = Chain::new(&fixture);
    let first = tx(10, 1, b"a");
    let template = chain.extend(vec![first.clone()]);

    // Replaying a committed transaction.
    let (empty, _) = chain.build(Vec::new());
    let replay = with_txs(&empty, vec![first.clone()]);
    assert_eq!(
        chain.validate(&replay),
        Err(BlockError::Execution(ExecError::InvalidTx {
            index: 0,
            reason: TxReject::StaleNonce {
                nonce: 1,
                highest: 1
            }
        }))
    );
    // The same nonce twice inside one block: the later transaction sees the earlier one's write.
    let twice = with_txs(&empty, vec![tx(11, 1, b"x"), tx(11, 1, b"y")]);
    assert_eq!(
        chain.validate(&twice),
        Err(BlockError::Execution(ExecError::InvalidTx {
            index: 1,
            reason: TxReject::StaleNonce {
                nonce: 1,
                highest: 1
            }
        }))
    );
    // A higher nonce before a lower one: the first skips a nonce.
    let inverted = with_txs(&empty, vec![tx(11, 2, b"x"), tx(11, 1, b"y")]);
    assert_eq!(
        chain.validate(&inverted),
        Err(BlockError::Execution(ExecError::InvalidTx {
            index: 0,
            reason: TxReject::NonceGap {
                nonce: 2,
                expected: 1
            }
        }))
    );
    // An empty payload is invalid too, with its own reason.
    let empty_payload = with_txs(&empty, vec![tx(12, 1, b"")]);
    assert_eq!(
        chain.validate(&empty_payload),
        Err(BlockError::Execution(ExecError::InvalidTx {
            index: 0,
            reason: TxReject::Act(Invalid::Malformed(DecodeError::Invalid {
                what: "anchor payload",
                reason: "empty"
            }))
        }))
    );
    assert_eq!(template.header.height, 1);
}

#[test]
fn execution_overlay_lets_later_transactions_see_earlier_writes() {
    let state = MemoryState::new();
    let signer = key(10).public_key();
    let fixture = Fixture::with_validators(1);
    let execution = execute_block(
        &fixture.ctx(),
        &state,
        &[tx(10, 1, b"a"), tx(10, 2, b"b"), tx(11, 1, b"c")],
        9,
        GENESIS_MS + 9_000,
    )
    .unwrap();
    let get = |key: &[u8]| {
        execution
            .changes
            .iter()
            .find(|change| change.key == key)
            .and_then(|change| change.value.clone())
    };
    assert_eq!(
        get(&keys::signer_count(&signer)),
        Some(2u64.to_be_bytes().to_vec())
    );
    assert_eq!(
        get(&keys::signer_nonce(&signer)),
        Some(2u64.to_be_bytes().to_vec())
    );
    assert_eq!(
        get(&keys::signer_nonce(&key(11).public_key())),
        Some(1u64.to_be_bytes().to_vec())
    );
    // One change per key, sorted: the frontier, two counters, two nonces.
    assert_eq!(execution.changes.len(), 5);
    let keys_written: Vec<&[u8]> = execution.changes.iter().map(|c| c.key.as_slice()).collect();
    let mut sorted = keys_written.clone();
    sorted.sort();
    assert_eq!(keys_written, sorted);
    assert_eq!(keys_written[0], keys::LOG_FRONTIER);

    // Committed counters carry over.
    let mut committed = MemoryState::new();
    committed.apply(&execution.changes);
    let next = execute_block(
        &fixture.ctx(),
        &committed,
        &[tx(10, 3, b"c")],
        10,
        GENESIS_MS + 10_000,
    )
    .unwrap();
    let count = next
        .changes
        .iter()
        .find(|change| change.key == keys::signer_count(&signer))
        .unwrap();
    assert_eq!(count.value, Some(3u64.to_be_bytes().to_vec()));
    assert_eq!(next.log_size(), 4);
}

#[test]
fn log_frontier_covers_every_committed_transaction() {
    let fixture = Fixture::new();
    let mut chain = Chain::new(&fixture);
    let mut nonces = [0u64; 2];
    for (round, count) in [3u64, 0, 1, 7, 2, 0, 5].into_iter().enumerate() {
        let candidates: Vec<SignedTransaction> = (0..count)
            .map(|i| {
                let signer = usize::try_from(i % 2).unwrap();
                nonces[signer] += 1;
                tx(
                    10 + u8::try_from(signer).unwrap(),
                    nonces[signer],
                    format!("r{round} t{i}").as_bytes(),
                )
            })
            .collect();
        let block = chain.extend(candidates);
        let leaves: Vec<merkle::Hash> = chain
            .committed
            .iter()
            .map(|id| merkle::leaf_hash(id.as_bytes()))
            .collect();
        assert_eq!(
            block.header.log_size,
            u64::try_from(chain.committed.len()).unwrap()
        );
        assert_eq!(block.header.log_root, Digest(merkle::root(&leaves)));
        // The stored frontier is the same log.
        let frontier = log_frontier(&chain.state).unwrap();
        assert_eq!(frontier.size(), block.header.log_size);
        assert_eq!(Digest(frontier.root()), block.header.log_root);
        // And the log root is the transaction-tree root over every id ever committed.
        assert_eq!(block.header.log_root, tx_root(&chain.committed));
    }
    assert_eq!(chain.committed.len(), 18);
}

#[test]
fn state_root_chain_is_deterministic() {
    let fixture = Fixture::new();
    let run = |payload_of_last: &[u8]| {
        let mut chain = Chain::new(&fixture);
        let headers = vec![
            chain.extend(vec![tx(10, 1, b"a"), tx(11, 1, b"b")]).header,
            chain.extend(Vec::new()).header,
            chain.extend(vec![tx(10, 2, payload_of_last)]).header,
            chain.extend(vec![tx(11, 2, b"d")]).header,
        ];
        (headers, chain.state)
    };
    let (one, state_one) = run(b"c");
    let (two, state_two) = run(b"c");
    assert_eq!(one, two);
    assert_eq!(state_one, state_two);
    // Each root is the previous one hashed with the block's changes.
    let mut prev = genesis_state_root(&chain_id());
    for header in &one {
        assert_ne!(header.state_root, prev);
        prev = header.state_root;
    }
    // A different act changes that block's root and every later one, not the earlier ones.
    let (three, _) = run(b"C");
    assert_eq!(one[0].state_root, three[0].state_root);
    assert_eq!(one[1].state_root, three[1].state_root);
    assert_ne!(one[2].state_root, three[2].state_root);
    assert_ne!(one[3].state_root, three[3].state_root);
    // Another chain starts from another root.
    assert_ne!(
        genesis_state_root(&chain_id()),
        genesis_state_root(&ChainId(sha256(b"other")))
    );
}

/// A state whose log frontier is garbage.
struct Damaged;

impl StateRead for Damaged {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        (key == keys::LOG_FRONTIER || key.starts_with(keys::SIGNER_COUNT_PREFIX))
            .then(|| vec![1, 2, 3])
    }
}

#[test]
fn damaged_state_is_an_error_not_a_panic() {
    let fixture = Fixture::new();
    let ctx = fixture.ctx();
    let parent = Parent::genesis(&ctx);
    let built = try_build_block(&ctx, &parent, &Damaged, Vec::new(), key(1).public_key(), 0);
    assert!(matches!(built, Err(ExecError::CorruptState(_))));
    let (block, _) = Chain::new(&fixture).build(Vec::new());
    assert!(matches!(
        validate_block(&ctx, &parent, &Damaged, &block, GENESIS_MS + 1_000, &|_| {
            false
        }),
        Err(BlockError::Execution(ExecError::CorruptState(_)))
    ));
    assert!(matches!(
        courtledger_chain::check_tx(&ctx.rules(), &Damaged, &tx(10, 1, b"a")),
        Err(TxReject::CorruptState(_))
    ));
}

#[test]
fn applying_changes_matches_what_the_overlay_showed() {
    let fixture = Fixture::new();
    let mut chain = Chain::new(&fixture);
    chain.extend(txs(9));
    for (key, value) in chain.state.iter() {
        assert!(key.starts_with(b"v1/"), "every key is versioned");
        assert!(!value.is_empty());
    }
    let deletion = StateChange {
        key: b"v1/x".to_vec(),
        value: None,
    };
    let before = chain.state.clone();
    chain.state.apply(&[deletion]);
    assert_eq!(before, chain.state);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever a block holds, validation returns an error or an execution, never panics.
    #[test]
    fn validation_never_panics(
        seed_txs in proptest::collection::vec(
            (0u8..4, any::<u64>(), proptest::collection::vec(any::<u8>(), 0..40), any::<bool>()),
            0..6,
        ),
        header_noise in proptest::collection::vec(any::<u8>(), 0..8),
        count_delta in 0u32..3,
        signature_noise in any::<[u8; 64]>(),
    ) {
        let fixture = Fixture::new();
        let chain = Chain::new(&fixture);
        let candidates: Vec<SignedTransaction> = seed_txs
            .iter()
            .map(|(signer, nonce, payload, garble)| {
                let mut t = tx(10 + signer, *nonce, payload);
                if *garble {
                    t.signature = courtledger_crypto::Signature(signature_noise);
                }
                t
            })
            .collect();
        let (built, _) = chain.build(Vec::new());
        let mut block = with_txs(&built, candidates);
        block.header.tx_count = block.header.tx_count.wrapping_add(count_delta % 2);
        for (i, byte) in header_noise.iter().enumerate() {
            match i % 4 {
                0 => block.header.time_ms ^= u64::from(*byte),
                1 => block.header.log_size ^= u64::from(*byte),
                2 => block.header.state_root.0[0] ^= byte,
                _ => block.header.height ^= u64::from(*byte & 1),
            }
        }
        let _ = chain.validate(&block);
        let _ = validate_block(&fixture.ctx(), &chain.parent, &chain.state, &block, 0, &|_| true);
    }
}
