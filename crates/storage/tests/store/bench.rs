//! What appending a block costs as the log grows: `O(block size + log n)`, so a 1,000-tx block
//! costs about the same at log size 10^3 and 10^6; and, at about 10^6, what an inclusion proof
//! of an old transaction and a consistency proof cost to build (from the stored log nodes) and
//! to verify, and their sizes. Ignored (it builds a million transactions);
//! run it optimized, with its output:
//!
//! ```sh
//! cargo test -p courtledger-storage --release --test store -- --ignored --nocapture append_cost
//! ```

use std::time::{Duration, Instant};

use courtledger_codec::Encode;
use courtledger_crypto::Signature;
use courtledger_merkle::leaf_hash;
use courtledger_storage::{LogView, MemoryStore, RocksStore, Store};
use courtledger_types::limits::MAX_BLOCK_BYTES;
use courtledger_types::{Block, SignedTransaction, Transaction};

use crate::support::{chain_id, extend_log, key, Chain};

const BLOCK_TXS: u64 = 1_000;
/// Blocks appended and timed at each log size.
const TIMED_BLOCKS: u64 = 20;

/// `BLOCK_TXS` distinct transactions of about 200 bytes. Storage does not verify signatures, so
/// they carry a dummy one: building a million of them takes seconds, not minutes.
fn block_txs(first_nonce: u64) -> Vec<SignedTransaction> {
    (first_nonce..first_nonce + BLOCK_TXS)
        .map(|nonce| SignedTransaction {
            tx: Transaction {
                signer: key(7).public_key(),
                nonce,
                payload: vec![0x5a; 96],
            },
            signature: Signature([1; 64]),
        })
        .collect()
}

/// Mean times per block, in nanoseconds.
struct Costs {
    /// `append_block`, all of it.
    append: u128,
    /// The fastest `append_block`.
    fastest: u128,
    /// The log part of its checks, done alone: replaying the block's leaves on a copy of the
    /// log's right edge ([`extend_log`], what `append_block` does before comparing).
    log: u128,
    /// Another part, for comparison: decoding the block (its signers' keys are validated),
    /// which `append_block` does to refuse what could not be read back.
    decode: u128,
    /// Log nodes written per block.
    nodes: usize,
}

/// Appends 1,000-tx blocks until the log holds `target` leaves (untimed), then times
/// `TIMED_BLOCKS` more appends.
fn measure(store: &mut dyn Store, chain: &mut Chain, target: u64) -> Costs {
    let mut nonce = store.log_size() + 1;
    while store.log_size() + BLOCK_TXS <= target {
        chain.append(store, block_txs(nonce), vec![]);
        nonce += BLOCK_TXS;
    }
    let mut total = Duration::ZERO;
    let mut fastest = Duration::MAX;
    let mut log = Duration::ZERO;
    let mut decode = Duration::ZERO;
    let mut nodes = 0usize;
    for _ in 0..TIMED_BLOCKS {
        let committed = chain.peek(block_txs(nonce), vec![]);
        nonce += BLOCK_TXS;
        let ids = committed.block.tx_ids();
        let started = Instant::now();
        let replayed = extend_log(chain.log(), &ids);
        log += started.elapsed();
        assert_eq!(replayed.1, committed.log_nodes);
        let bytes = committed.block.to_bytes();
        let started = Instant::now();
        Block::decode(&bytes, MAX_BLOCK_BYTES).unwrap();
        decode += started.elapsed();

        let started = Instant::now();
        store.append_block(&committed).unwrap();
        let elapsed = started.elapsed();
        chain.advance(&committed);
        total += elapsed;
        fastest = fastest.min(elapsed);
        nodes += committed.log_nodes.len();
    }
    let blocks = u128::from(TIMED_BLOCKS);
    Costs {
        append: total.as_nanos() / blocks,
        fastest: fastest.as_nanos(),
        log: log.as_nanos() / blocks,
        decode: decode.as_nanos() / blocks,
        nodes: nodes / usize::try_from(TIMED_BLOCKS).unwrap(),
    }
}

/// The transaction at 0-based position `index` of the log that [`measure`] builds.
fn tx_at(index: u64) -> SignedTransaction {
    let first = index / BLOCK_TXS * BLOCK_TXS + 1;
    block_txs(first)
        .into_iter()
        .nth(usize::try_from(index % BLOCK_TXS).unwrap())
        .unwrap()
}

/// Builds and verifies an inclusion proof of an old transaction and a consistency proof from
/// size 1,000 at the store's current log size; prints their sizes and times.
fn proofs(kind: &str, store: &dyn Store) {
    const RUNS: u32 = 200;
    let log = LogView::new(store);
    let size = log.size();
    let root = log.root(size).unwrap();
    let index = 123_456 % size;
    let leaf = leaf_hash(tx_at(index).id().as_bytes());
    let started = Instant::now();
    for _ in 0..RUNS {
        log.prove_inclusion(index, size).unwrap();
    }
    let prove = started.elapsed() / RUNS;
    let inclusion = log.prove_inclusion(index, size).unwrap();
    let started = Instant::now();
    for _ in 0..RUNS {
        inclusion.verify(&leaf, &root).unwrap();
    }
    let verify = started.elapsed() / RUNS;
    let old_root = log.root(1_000).unwrap();
    let started = Instant::now();
    for _ in 0..RUNS {
        log.prove_consistency(1_000, size).unwrap();
    }
    let prove_consistency = started.elapsed() / RUNS;
    let consistency = log.prove_consistency(1_000, size).unwrap();
    let started = Instant::now();
    for _ in 0..RUNS {
        consistency.verify(&old_root, &root).unwrap();
    }
    let verify_consistency = started.elapsed() / RUNS;
    println!(
        "{kind:>11}: log size {size}: inclusion proof of leaf {index}: {} hashes ({} bytes), \
         built in {prove:?}, verified in {verify:?}; consistency proof 1000 -> {size}: {} hashes \
         ({} bytes), built in {prove_consistency:?}, verified in {verify_consistency:?}",
        inclusion.path.len(),
        inclusion.path.len() * 32,
        consistency.path.len(),
        consistency.path.len() * 32,
    );
}

fn report(kind: &str, store: &mut dyn Store) {
    let mut chain = Chain::new();
    for target in [1_000u64, 1_000_000] {
        let costs = measure(store, &mut chain, target);
        println!(
            "{kind:>11}: log size {:>9}: append {:>9} ns/block (fastest {:>9}), of which log \
             check {:>7} ns and block decode {:>9} ns; {} log nodes written per block",
            store.log_size() - TIMED_BLOCKS * BLOCK_TXS,
            costs.append,
            costs.fastest,
            costs.log,
            costs.decode,
            costs.nodes,
        );
    }
    proofs(kind, store);
}

#[test]
#[ignore = "a benchmark: builds a million transactions; run with --release --nocapture"]
fn append_cost() {
    let mut memory = MemoryStore::new(chain_id());
    report("MemoryStore", &mut memory);
    drop(memory);
    let dir = tempfile::tempdir().unwrap();
    let mut rocks = RocksStore::open(dir.path(), chain_id()).unwrap();
    report("RocksStore", &mut rocks);
}
