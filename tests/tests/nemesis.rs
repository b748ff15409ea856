//! The nemesis: a real 4-validator network under a seeded schedule of faults (kill -9 and
//! restart, SIGSTOP/SIGCONT, partitions, one-way loss, delays, a full disk, a torn last write of
//! the write-ahead log, a skewed clock) while clients submit signed acts; then the recorded
//! history is checked against every node's chain (see `docs/nemesis.md`). Disk-full faults need
//! root (a tmpfs per validator) and clock skew libfaketime (Debian's `faketime`); without them
//! those faults become kills.
//!
//! `NEMESIS_SEED=<seed>` replays a schedule; `NEMESIS_SECONDS`, `NEMESIS_VALIDATORS`,
//! `NEMESIS_PARTIES` and `NEMESIS_OVER_F=0` change the run. The soak is `scripts/soak`.

use courtledger_tests::{run, Config};

/// CI-sized: 4 validators, 60 s of faults, about 100 s in all; every process it started is
/// stopped, and every tmpfs it mounted unmounted, on success, failure and panic (the cluster's
/// Drop).
#[test]
fn nemesis_four_validators_lose_nothing_and_never_fork() {
    let config = Config::from_env(4, 60);
    let report = run(&config);
    eprintln!("{}{}", report.summary(), report.schedule_text());
    assert!(report.passed(), "{}", report.failure_text());
}

/// The soak that `scripts/soak` runs: `NEMESIS_SECONDS` of faults (default 30 minutes).
#[test]
#[ignore = "long: run with scripts/soak"]
fn nemesis_soak() {
    let config = Config::from_env(4, 30 * 60);
    let report = run(&config);
    println!("{}", report.summary());
    eprintln!("{}", report.schedule_text());
    assert!(report.passed(), "{}", report.failure_text());
}
