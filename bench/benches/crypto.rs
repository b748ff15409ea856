//! ed25519 (courtledger_crypto: the rule of ADR 0005) and SHA-256.
//!
//! The bound they set: each validator verifies every transaction's signature once (on mempool
//! entry), so one core commits at most `1 / verify` transactions per second per validator.

use std::hint::black_box;

use courtledger_bench::{genesis, key, sample_filing};
use courtledger_crypto::{sha256, verify, verify_batch, BatchItem, Domain};
use courtledger_types::SignedTransaction;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn ed25519(c: &mut Criterion) {
    let chain_id = genesis().chain_id();
    let tx = sample_filing();
    let message = tx.signed_bytes();
    let signer = key("party", 0);
    let mut group = c.benchmark_group("ed25519");
    group.throughput(Throughput::Elements(1));
    group.bench_function("sign", |b| {
        b.iter(|| signer.sign(Domain::Transaction, &chain_id, black_box(&message)));
    });
    group.bench_function("verify", |b| {
        b.iter(|| {
            verify(
                &tx.tx.signer,
                Domain::Transaction,
                &chain_id,
                black_box(&message),
                black_box(&tx.signature),
            )
            .expect("valid signature")
        });
    });
    // 64 filings by 64 different signers, as a block's transactions.
    let txs: Vec<SignedTransaction> = (0..64u64)
        .map(|n| {
            let key = key("party", n);
            let mut tx = sample_filing().tx;
            tx.signer = key.public_key();
            tx.nonce = n + 1;
            tx.sign(&key, &chain_id)
        })
        .collect();
    let messages: Vec<Vec<u8>> = txs.iter().map(SignedTransaction::signed_bytes).collect();
    let items: Vec<BatchItem<'_>> = txs
        .iter()
        .zip(&messages)
        .map(|(tx, message)| tx.batch_item(&chain_id, message))
        .collect();
    group.throughput(Throughput::Elements(64));
    group.bench_function("verify_batch/64", |b| {
        b.iter(|| verify_batch(black_box(&items)).expect("valid batch"));
    });
    group.finish();
}

fn sha(c: &mut Criterion) {
    let mut group = c.benchmark_group("sha256");
    for (name, len) in [("1KiB", 1usize << 10), ("1MiB", 1 << 20)] {
        let data = vec![0x5a_u8; len];
        group.throughput(Throughput::Bytes(u64::try_from(len).expect("small")));
        group.bench_function(name, |b| b.iter(|| sha256(black_box(&data))));
    }
    group.finish();
}

criterion_group!(benches, ed25519, sha);
criterion_main!(benches);
