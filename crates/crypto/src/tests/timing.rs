//! Rough timings of the verification paths, for docs/performance.md. Ignored by default; run
//! `cargo test --release -p courtledger-crypto --lib timing -- --ignored --nocapture`.
//!
//! Times are the test thread's CPU time (Linux `/proc/thread-self/schedstat`), so that other
//! processes on a shared machine inflate them less than they inflate wall-clock time.

/// The CPU time this thread has run, read from Linux's scheduler statistics.
#[derive(Clone, Copy)]
struct Instant(u64);

impl Instant {
    fn now() -> Self {
        let stat = std::fs::read_to_string("/proc/thread-self/schedstat")
            .expect("timings need Linux's /proc/thread-self/schedstat");
        let nanos = stat
            .split_whitespace()
            .next()
            .and_then(|field| field.parse().ok())
            .expect("schedstat starts with the thread's CPU time in nanoseconds");
        Self(nanos)
    }

    fn elapsed(self) -> std::time::Duration {
        std::time::Duration::from_nanos(Self::now().0.saturating_sub(self.0))
    }
}

use crate::signature::{verify_batch_signed_bytes, verify_signed_bytes, SignedBytes};
use crate::{PublicKey, SigningKey};

fn per_item_micros(count: usize, elapsed: std::time::Duration) -> f64 {
    elapsed.as_secs_f64() * 1e6 / f64::from(u32::try_from(count).unwrap_or(u32::MAX))
}

#[test]
#[ignore = "timing, not a test: run it in release"]
fn verification_timings() {
    let count = 2048;
    let keys: Vec<SigningKey> = (0..64u8).map(|i| SigningKey::from_seed(&[i; 32])).collect();
    let messages: Vec<Vec<u8>> = (0..count)
        .map(|i| format!("message {i} of a few hundred bytes {}", "x".repeat(300)).into_bytes())
        .collect();
    let signed: Vec<(PublicKey, crate::Signature)> = messages
        .iter()
        .enumerate()
        .map(|(i, message)| {
            let key = &keys[i % keys.len()];
            let signature = crate::Signature(
                ed25519_dalek::Signer::sign(
                    &ed25519_dalek::SigningKey::from_bytes(&key.seed()),
                    message,
                )
                .to_bytes(),
            );
            (key.public_key(), signature)
        })
        .collect();

    let started = Instant::now();
    for ((key, signature), message) in signed.iter().zip(&messages) {
        verify_signed_bytes(key, message, signature).unwrap();
    }
    println!(
        "verify (rule, one at a time): {:.1} µs",
        per_item_micros(count, started.elapsed())
    );

    let started = Instant::now();
    for ((key, signature), message) in signed.iter().zip(&messages) {
        key.verifying_key()
            .verify_strict(message, &ed25519_dalek::Signature::from_bytes(&signature.0))
            .unwrap();
    }
    println!(
        "ed25519-dalek verify_strict: {:.1} µs",
        per_item_micros(count, started.elapsed())
    );

    for batch in [16, 64, 256, 1024] {
        let items: Vec<SignedBytes<'_>> = signed
            .iter()
            .zip(&messages)
            .map(|((public_key, signature), message)| SignedBytes {
                public_key,
                message,
                signature,
            })
            .collect();
        let started = Instant::now();
        for chunk in items.chunks(batch) {
            verify_batch_signed_bytes(chunk).unwrap();
        }
        println!(
            "verify_batch ({batch}): {:.1} µs",
            per_item_micros(count, started.elapsed())
        );
    }

    let bytes: Vec<[u8; 32]> = keys.iter().map(|key| key.public_key().to_bytes()).collect();
    for key in &bytes {
        PublicKey::from_bytes(key).unwrap();
    }
    let started = Instant::now();
    for i in 0..count {
        PublicKey::from_bytes(&bytes[i % bytes.len()]).unwrap();
    }
    println!(
        "PublicKey::from_bytes (cached): {:.2} µs",
        per_item_micros(count, started.elapsed())
    );
    let hits = bytes
        .iter()
        .filter(|key| crate::keys::key_cache::get(key).is_some())
        .count();
    println!("cached: {hits} of {}", bytes.len());
    let started = Instant::now();
    for i in 0..count {
        std::hint::black_box(crate::keys::key_cache::get(&bytes[i % bytes.len()]));
    }
    println!(
        "key_cache::get: {:.3} µs",
        per_item_micros(count, started.elapsed())
    );
    let started = Instant::now();
    for i in 0..count {
        crate::keys::decode_point(&bytes[i % bytes.len()]).unwrap();
    }
    println!(
        "key validation (uncached): {:.1} µs",
        per_item_micros(count, started.elapsed())
    );
}
