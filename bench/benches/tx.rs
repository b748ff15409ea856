//! A transaction's id (tagged SHA-256 of its encoding) and decoding a signed transaction from
//! untrusted bytes (as the API and the network do for every transaction), on a case filing.

use std::hint::black_box;

use courtledger_bench::sample_filing;
use courtledger_codec::Encode;
use courtledger_types::SignedTransaction;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn tx(c: &mut Criterion) {
    let tx = sample_filing();
    let bytes = tx.to_bytes();
    let mut group = c.benchmark_group("tx");
    group.throughput(Throughput::Elements(1));
    group.bench_function("id", |b| b.iter(|| black_box(&tx).id()));
    // Decoding validates the signer's key; the process-wide cache of validated keys makes
    // every decode after the first a cache hit, as in a running node.
    group.bench_function("decode", |b| {
        b.iter(|| SignedTransaction::decode(black_box(&bytes)).expect("decodes"));
    });
    group.finish();
}

criterion_group!(benches, tx);
criterion_main!(benches);
