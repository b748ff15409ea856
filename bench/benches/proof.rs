//! Verifying a proof bundle offline against the genesis file (`courtledger_proof::verify`), on
//! checked-in vectors of `crates/proof/tests/vectors/`: a version 1 bundle (a case filing; its
//! own signature and 3 certificate signatures: 4 ed25519 checks) and a version 2 bundle (the
//! same with a checkpoint). Decoding is measured apart.

use std::hint::black_box;

use courtledger_bench::{Vector, VECTOR_V1, VECTOR_V2};
use courtledger_proof::ProofBundle;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn proof(c: &mut Criterion) {
    let mut group = c.benchmark_group("proof");
    group.throughput(Throughput::Elements(1));
    for name in [VECTOR_V1, VECTOR_V2] {
        let vector = Vector::load(name).expect("the vector verifies");
        group.bench_function(format!("verify/{name}"), |b| {
            b.iter(|| {
                courtledger_proof::verify(black_box(&vector.bundle), &vector.genesis)
                    .expect("verifies")
            });
        });
        group.bench_function(format!("decode/{name}"), |b| {
            b.iter(|| ProofBundle::decode(black_box(&vector.bytes)).expect("decodes"));
        });
    }
    group.finish();
}

criterion_group!(benches, proof);
criterion_main!(benches);
