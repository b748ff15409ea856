//! RFC 9162 Merkle trees (courtledger_merkle): a block's transaction root, the history log's
//! frontier (one append per committed transaction) and inclusion proofs (proof bundles).

use std::hint::black_box;

use courtledger_merkle::{leaf_hash, root, Frontier, Hash, InclusionProof};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

fn leaves(count: u64) -> Vec<Hash> {
    (0..count).map(|n| leaf_hash(&n.to_be_bytes())).collect()
}

fn roots(c: &mut Criterion) {
    let mut group = c.benchmark_group("merkle/root");
    group.sample_size(10);
    for count in [1_000u64, 50_000] {
        let leaves = leaves(count);
        group.throughput(Throughput::Elements(count));
        group.bench_function(count.to_string(), |b| b.iter(|| root(black_box(&leaves))));
    }
    group.finish();
}

fn inclusion(c: &mut Criterion) {
    let leaves = leaves(50_000);
    let tree_root = root(&leaves);
    let index = 31_337;
    let proof = InclusionProof::prove(&leaves, index).expect("in range");
    let leaf = leaves[usize::try_from(index).expect("small")];
    let mut group = c.benchmark_group("merkle/inclusion");
    group.bench_function("verify/50000", |b| {
        b.iter(|| black_box(&proof).verify(&leaf, &tree_root).expect("valid"));
    });
    group.sample_size(10);
    group.bench_function("prove/50000", |b| {
        b.iter(|| InclusionProof::prove(black_box(&leaves), index).expect("in range"));
    });
    group.finish();
}

fn frontier(c: &mut Criterion) {
    // Appending to a log of a million transactions, recording the completed subtrees (what the
    // node stores per committed transaction).
    let mut base = Frontier::new();
    for leaf in leaves(1_000_000) {
        base.append(leaf);
    }
    let leaf = leaf_hash(b"the next transaction id");
    let mut group = c.benchmark_group("merkle/frontier");
    group.throughput(Throughput::Elements(1));
    group.bench_function("append_recording", |b| {
        b.iter_batched_ref(
            || (base.clone(), Vec::with_capacity(32)),
            |(frontier, completed)| {
                frontier
                    .append_recording(black_box(leaf), completed)
                    .expect("not full")
            },
            BatchSize::SmallInput,
        );
    });
    group.finish();
}

criterion_group!(benches, roots, inclusion, frontier);
criterion_main!(benches);
