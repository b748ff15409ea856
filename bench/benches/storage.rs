//! Storing a decided block of 1 000 case filings: `Store::append_block`, the node's write of a
//! decided block (`node/src/driver.rs`), into a `RocksStore` (a fresh RocksDB in a temporary
//! directory) and, for comparison, into a `MemoryStore`: the difference is RocksDB's cost.
//!
//! The append checks the block against the store's tip (chain, height, parent, certificate
//! naming the block, transaction root, receipts, history-log nodes against the header's log
//! root and size, that the block and certificate decode back) and writes one synced batch: the
//! block, header, certificate, block id index, the block's 1 000 receipts (one record), 1 000
//! transaction index entries, the history-log records (the leaves 16 to a record, the subtrees
//! of 16 leaves or more) and the state changes.
//!
//! The blocks are real: [`Ledger::decide`] executes each with the chain's own code on the state
//! after the previous one, so each carries its execution's receipts, state changes and log
//! nodes, and a certificate of three of the four validators. Each append must extend the
//! store's chain, so `BLOCKS` successive blocks are built once; a measured iteration is the
//! append of the next of them, in order, into a store that already holds block 1 (the
//! registrations) and the blocks before it. After `BLOCKS` appends the run starts over on a
//! fresh store. Opening the store, appending block 1 and dropping the store are not timed.

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tempfile::TempDir;

use courtledger_bench::Ledger;
use courtledger_storage::{CommittedBlock, MemoryStore, RocksStore, Store};

/// Filings per block.
const TXS: usize = 1_000;
/// Successive blocks built, appended in order into each fresh store.
const BLOCKS: usize = 30;

/// Times `iters` appends: runs of up to `blocks.len()` appends of `blocks` in order, each run
/// into a fresh store from `open` (with a directory to remove after, if any) that block 1 was
/// appended to first. Only the runs of appends are timed.
fn time_appends<S: Store>(
    iters: u64,
    block1: &CommittedBlock,
    blocks: &[CommittedBlock],
    mut open: impl FnMut() -> (S, Option<TempDir>),
) -> Duration {
    let mut timed = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let run = blocks
            .len()
            .min(usize::try_from(left).unwrap_or(usize::MAX));
        let (mut store, dir) = open();
        store.append_block(block1).expect("block 1");
        let started = Instant::now();
        for committed in &blocks[..run] {
            store.append_block(committed).expect("the next block");
        }
        timed += started.elapsed();
        drop(store);
        drop(dir);
        left -= u64::try_from(run).expect("a count");
    }
    timed
}

fn storage(c: &mut Criterion) {
    let mut ledger = Ledger::new(64);
    let chain_id = ledger.genesis.chain_id();
    let block1 = ledger.block1.clone();
    let blocks = ledger.decide_many(BLOCKS, TXS);

    let mut group = c.benchmark_group("storage/append_block/1000-filings");
    group.sample_size(10);
    group.throughput(Throughput::Elements(u64::try_from(TXS).expect("small")));
    group.bench_function("rocksdb", |b| {
        b.iter_custom(|iters| {
            time_appends(iters, &block1, &blocks, || {
                let dir = tempfile::tempdir().expect("a temporary directory");
                let store = RocksStore::open(dir.path(), chain_id).expect("a new database");
                (store, Some(dir))
            })
        });
    });
    group.bench_function("memory", |b| {
        b.iter_custom(|iters| {
            time_appends(iters, &block1, &blocks, || {
                (MemoryStore::new(chain_id), None)
            })
        });
    });
    group.finish();
}

criterion_group!(benches, storage);
criterion_main!(benches);
