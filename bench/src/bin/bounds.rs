//! `courtledger-bench-bounds [--seconds S]`: the machine's own bounds, measured on one thread
//! (so one core) in a few seconds, printed as one JSON object for `scripts/bench`:
//!
//! - `ed25519_verify_per_s`: single signature verifications of a case filing
//!   (`courtledger_crypto::verify`, the rule every validator applies to every transaction),
//!   `ed25519_verify_batch_per_s`: signatures per second verified in batches of
//!   [`BATCH`] filings by as many signers (`courtledger_crypto::verify_batch`, how a validator
//!   checks a submission or a gossiped batch), and `ed25519_sign_per_s`;
//! - `sha256_mb_per_s`: SHA-256 over 1 MiB buffers, in MB (10^6 bytes) per second;
//! - `bundles`: per checked-in proof bundle (one of version 1, one of version 2), verifications
//!   per second (`courtledger_proof::verify` on the decoded bundle), the ed25519 signatures one
//!   verification checks, and `ratio_to_bound` = verifications/s ÷ (verifies/s ÷ checks): 1.0
//!   would mean that verifying a bundle costs nothing but its signatures.
//!
//! Rates are per second **on the CPU** (`clock: "thread_cpu"`: the thread's run time from
//! `/proc/thread-self/schedstat`), so that other processes competing for the cores lower them
//! little; where that file is missing, per second of wall time (`clock: "wall"`). Wall-time rates
//! are in `wall_per_s`. The measurements are interleaved in slices of 100 ms, round after round
//! (after one round of warm-up), so that a change of the machine's load affects every one
//! alike and their ratios stay meaningful. Each gets about `S` seconds (default 2) in all.

// Counts become floating-point rates here; precision loss is irrelevant.
#![allow(clippy::as_conversions, clippy::cast_precision_loss)]

use std::hint::black_box;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use courtledger_bench::{genesis, key, sample_filing, Vector, VECTOR_V1, VECTOR_V2};
use courtledger_crypto::{sha256, verify, verify_batch, BatchItem, Domain};
use serde_json::{json, Value};

/// Filings per batch in the batch-verification measurement (the load generator submits 64 per
/// request).
const BATCH: usize = 64;

/// Length of one slice of one measurement.
const SLICE: Duration = Duration::from_millis(100);

/// This thread's time on the CPU so far, in nanoseconds (Linux), if known.
fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// One measured operation and what it has counted so far.
struct Meter<'a> {
    name: &'static str,
    op: Box<dyn FnMut() + 'a>,
    calls: u64,
    wall: Duration,
    cpu_ns: Option<u64>,
}

/// A meter of `op`, nothing counted yet.
fn meter<'a>(name: &'static str, op: Box<dyn FnMut() + 'a>) -> Meter<'a> {
    Meter {
        name,
        op,
        calls: 0,
        wall: Duration::ZERO,
        cpu_ns: thread_cpu_ns().map(|_| 0),
    }
}

impl Meter<'_> {
    /// Runs the operation for one slice; counts it unless `warm_up`.
    fn slice(&mut self, warm_up: bool) {
        let cpu_before = thread_cpu_ns();
        let started = Instant::now();
        let mut calls: u64 = 0;
        // The operations take microseconds or more: check the clock every few calls.
        while started.elapsed() < SLICE {
            for _ in 0..4 {
                (self.op)();
            }
            calls += 4;
        }
        let wall = started.elapsed();
        let cpu = match (cpu_before, thread_cpu_ns()) {
            (Some(before), Some(after)) => after.checked_sub(before),
            _ => None,
        };
        if !warm_up {
            self.calls += calls;
            self.wall += wall;
            self.cpu_ns = match (self.cpu_ns, cpu) {
                (Some(total), Some(cpu)) => Some(total + cpu),
                _ => None,
            };
        }
    }

    fn wall_per_s(&self) -> f64 {
        self.calls as f64 / self.wall.as_secs_f64().max(1e-9)
    }

    /// Calls per second on the CPU, or per second of wall time if the CPU time is unknown.
    fn per_s(&self) -> f64 {
        match self.cpu_ns {
            Some(ns) if ns > 0 => self.calls as f64 / (ns as f64 / 1e9),
            _ => self.wall_per_s(),
        }
    }

    fn cpu_share(&self) -> Option<f64> {
        self.cpu_ns
            .map(|ns| ns as f64 / 1e9 / self.wall.as_secs_f64().max(1e-9))
    }
}

fn main() -> ExitCode {
    let mut seconds = 2.0_f64;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next().map(|s| s.parse::<f64>())) {
            ("--seconds", Some(Ok(s))) if s > 0.0 && s.is_finite() => seconds = s,
            _ => {
                eprintln!("usage: courtledger-bench-bounds [--seconds S]");
                return ExitCode::from(2);
            }
        }
    }
    let mut vectors = Vec::new();
    for name in [VECTOR_V1, VECTOR_V2] {
        match Vector::load(name) {
            Ok(vector) => vectors.push(vector),
            Err(error) => {
                eprintln!("courtledger-bench-bounds: {error}");
                return ExitCode::FAILURE;
            }
        }
    }

    let chain_id = genesis().chain_id();
    let tx = sample_filing();
    let message = tx.signed_bytes();
    let signer = key("party", 0);
    let batch_txs: Vec<_> = (0..BATCH)
        .map(|i| {
            let party = key("party", u64::try_from(i).unwrap_or(u64::MAX));
            courtledger_types::Transaction {
                signer: party.public_key(),
                nonce: 1,
                payload: tx.tx.payload.clone(),
            }
            .sign(&party, &chain_id)
        })
        .collect();
    let batch_messages: Vec<Vec<u8>> = batch_txs.iter().map(|tx| tx.signed_bytes()).collect();
    let batch_items: Vec<BatchItem<'_>> = batch_txs
        .iter()
        .zip(&batch_messages)
        .map(|(tx, message)| tx.batch_item(&chain_id, message))
        .collect();
    let mib = vec![0x5a_u8; 1 << 20];
    let mut meters = vec![
        meter(
            "ed25519_verify",
            Box::new(|| {
                let ok = verify(
                    black_box(&tx.tx.signer),
                    Domain::Transaction,
                    &chain_id,
                    black_box(&message),
                    black_box(&tx.signature),
                );
                assert!(ok.is_ok(), "the sample signature verifies");
            }),
        ),
        meter(
            "ed25519_verify_batch",
            Box::new(|| {
                let ok = verify_batch(black_box(&batch_items));
                assert!(ok.is_ok(), "the sample batch verifies");
            }),
        ),
        meter(
            "ed25519_sign",
            Box::new(|| {
                black_box(signer.sign(Domain::Transaction, &chain_id, black_box(&message)));
            }),
        ),
        meter(
            "sha256_1mib",
            Box::new(|| {
                black_box(sha256(black_box(&mib)));
            }),
        ),
    ];
    for (vector, name) in vectors.iter().zip(["bundle_v1", "bundle_v2"]) {
        meters.push(meter(
            name,
            Box::new(move || {
                let verified =
                    courtledger_proof::verify(black_box(&vector.bundle), &vector.genesis);
                assert!(verified.is_ok(), "the vector verifies");
            }),
        ));
    }
    let rounds = (seconds / SLICE.as_secs_f64()).ceil().max(1.0) as u64;
    for round in 0..=rounds {
        for meter in &mut meters {
            meter.slice(round == 0);
        }
    }

    let per_s = |name: &str| {
        meters
            .iter()
            .find(|m| m.name == name)
            .map_or(0.0, Meter::per_s)
    };
    let verify_per_s = per_s("ed25519_verify");
    let bundles: Vec<Value> = vectors
        .iter()
        .zip(["bundle_v1", "bundle_v2"])
        .map(|(vector, name)| {
            let checks = vector.signature_checks() as f64;
            let bundle_per_s = per_s(name);
            json!({
                "vector": vector.name,
                "version": u16::from_be_bytes([vector.bytes[7], vector.bytes[8]]),
                "bytes": vector.bytes.len(),
                "verify_per_s": bundle_per_s,
                "signature_checks": vector.signature_checks(),
                "bound_per_s": verify_per_s / checks,
                "ratio_to_bound": bundle_per_s / (verify_per_s / checks),
            })
        })
        .collect();
    let detail: Vec<Value> = meters
        .iter()
        .map(|m| {
            json!({
                "name": m.name,
                "calls": m.calls,
                "per_s": m.per_s(),
                "wall_per_s": m.wall_per_s(),
                "cpu_share": m.cpu_share(),
            })
        })
        .collect();
    let report = json!({
        "threads": 1,
        "clock": if meters.iter().all(|m| m.cpu_ns.is_some()) { "thread_cpu" } else { "wall" },
        "seconds_each": rounds as f64 * SLICE.as_secs_f64(),
        "ed25519_verify_per_s": verify_per_s,
        "ed25519_verify_batch_per_s": per_s("ed25519_verify_batch") * BATCH as f64,
        "batch_size": BATCH,
        "ed25519_sign_per_s": per_s("ed25519_sign"),
        "sha256_mb_per_s": per_s("sha256_1mib") * (1 << 20) as f64 / 1e6,
        "bundles": bundles,
        "measurements": detail,
    });
    println!("{report}");
    ExitCode::SUCCESS
}
