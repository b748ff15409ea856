//! A block of 1 000 case filings by 64 registered parties, executed by the judicial ledger over
//! a `MemoryState`: building it (`build_block`: execution, roots; the proposer's candidates
//! come from its mempool, so no signature is verified), and validating it (`validate_block`)
//! with its signatures already verified in the mempool (a validator's common case) or verified
//! here as one batch.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use courtledger_bench::Ledger;

const TXS: usize = 1_000;

fn block(c: &mut Criterion) {
    let ledger = Ledger::new(64);
    let txs = ledger.filings(TXS);
    let (block, execution) = ledger.build(txs.clone());
    assert_eq!(block.txs.len(), TXS, "every filing is admitted");
    assert!(
        execution.receipts.iter().all(|r| r.is_ok()),
        "every filing succeeds"
    );

    let mut group = c.benchmark_group("block/1000-filings");
    group.sample_size(10);
    group.throughput(Throughput::Elements(u64::try_from(TXS).expect("small")));
    group.bench_function("build", |b| {
        b.iter_batched(
            || txs.clone(),
            |txs| ledger.build(txs),
            criterion::BatchSize::LargeInput,
        );
    });
    group.bench_function("validate/signatures-verified", |b| {
        b.iter(|| ledger.validate(&block, true).expect("valid"));
    });
    group.bench_function("validate/with-signatures", |b| {
        b.iter(|| ledger.validate(&block, false).expect("valid"));
    });
    group.finish();
}

criterion_group!(benches, block);
criterion_main!(benches);
