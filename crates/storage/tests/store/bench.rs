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
    /// Log nodes the block completes (`log_nodes`, what execution records).
    nodes: usize,
    /// Log records written per block: the chunks of leaves it touches and its subtrees of 16
    /// leaves or more.
    records: usize,
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
    let mut records = 0usize;
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

        let size_before = store.log_size();
        let started = Instant::now();
        store.append_block(&committed).unwrap();
        let elapsed = started.elapsed();
        chain.advance(&committed);
        total += elapsed;
        fastest = fastest.min(elapsed);
        nodes += committed.log_nodes.len();
        let chunks = (store.log_size() - 1) / 16 + 1 - size_before / 16;
        let high = committed.log_nodes.iter().filter(|n| n.level >= 4).count();
        records += usize::try_from(chunks).unwrap() + high;
    }
    let blocks = u128::from(TIMED_BLOCKS);
    Costs {
        append: total.as_nanos() / blocks,
        fastest: fastest.as_nanos(),
        log: log.as_nanos() / blocks,
        decode: decode.as_nanos() / blocks,
        nodes: nodes / usize::try_from(TIMED_BLOCKS).unwrap(),
        records: records / usize::try_from(TIMED_BLOCKS).unwrap(),
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
             check {:>7} ns and block decode {:>9} ns; {} log nodes, {} log records written \
             per block",
            store.log_size() - TIMED_BLOCKS * BLOCK_TXS,
            costs.append,
            costs.fastest,
            costs.log,
            costs.decode,
            costs.nodes,
            costs.records,
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

/// CPU time this thread has run, in nanoseconds (`/proc/thread-self/schedstat`, Linux): unlike
/// wall time, it does not count waiting for the disk or for a core another process holds.
fn thread_cpu_ns() -> u64 {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap();
    stat.split(' ').next().unwrap().parse().unwrap()
}

/// `count` blocks of `BLOCK_TXS` transactions, each with six state changes per transaction
/// (about what a filing writes), built once.
fn cpu_blocks(count: u64) -> Vec<courtledger_storage::CommittedBlock> {
    let mut chain = Chain::new();
    (0..count)
        .map(|n| {
            let first = 1 + n * BLOCK_TXS;
            let changes = (first..first + BLOCK_TXS)
                .flat_map(|nonce| {
                    (0..6u8).map(move |k| {
                        courtledger_storage::StateChange::set(
                            format!("case/{nonce:012}/record/{k}"),
                            vec![k; 80],
                        )
                    })
                })
                .collect();
            let committed = chain.peek(block_txs(first), changes);
            chain.advance(&committed);
            committed
        })
        .collect()
}

/// The mean CPU time of this thread per `append_block`, in microseconds, over `rounds` runs of
/// appending `blocks` in order into a fresh store from `open`. Each run is timed as a whole: the
/// kernel updates a running thread's CPU time at each scheduler tick (every few milliseconds),
/// too coarse for one append.
fn mean_append_cpu<S: Store>(
    blocks: &[courtledger_storage::CommittedBlock],
    rounds: usize,
    mut open: impl FnMut() -> (S, Option<tempfile::TempDir>),
) -> u64 {
    let mut total = 0;
    for _ in 0..rounds {
        let (mut store, dir) = open();
        let started = thread_cpu_ns();
        for committed in blocks {
            store.append_block(committed).unwrap();
        }
        total += thread_cpu_ns() - started;
        drop(store);
        drop(dir);
    }
    total / u64::try_from(rounds * blocks.len()).unwrap() / 1_000
}

/// The CPU (not wall) time of the writing thread per `append_block` of a 1,000-transaction
/// block with 6,000 state changes, the mean of 10 × 30 appends into fresh stores: what a
/// validator's driver thread spends, without waiting for the fsync or for a busy core, so it can
/// be compared on a shared machine. RocksDB's background threads (flushes, compactions) are not
/// counted; 30 such blocks do not fill a memtable. Linux only.
///
/// ```sh
/// cargo test -p courtledger-storage --release --test store -- --ignored --nocapture append_cpu
/// ```
#[test]
#[ignore = "a benchmark: run with --release --nocapture"]
fn append_cpu() {
    let blocks = cpu_blocks(30);
    let memory = mean_append_cpu(&blocks, 10, || (MemoryStore::new(chain_id()), None));
    let rocks = mean_append_cpu(&blocks, 10, || {
        let dir = tempfile::tempdir().unwrap();
        (RocksStore::open(dir.path(), chain_id()).unwrap(), Some(dir))
    });
    println!(
        "append_block CPU of the writing thread, mean: MemoryStore {memory} µs, RocksStore \
         {rocks} µs (RocksDB's share {} µs)",
        rocks.saturating_sub(memory)
    );
}
