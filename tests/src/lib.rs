//! Tests that span crates and processes. This library is the **nemesis harness** (issue #8): it
//! runs a real network of `courtledger-node` validators on 127.0.0.1, drives a workload of real
//! signed acts against their HTTP APIs, injects faults from a seeded schedule (kill -9 and
//! restart, SIGSTOP/SIGCONT, partitions, one-way loss and delays through per-link TCP proxies,
//! a full disk, a torn last write of the write-ahead log, a skewed clock), then heals
//! everything and checks the recorded history against every node's chain. See
//! `docs/nemesis.md`; `tests/nemesis.rs` runs it (a CI-sized run, and the `#[ignore]`d soak that
//! `scripts/soak` starts).
//!
//! Every run prints its seed first (`NEMESIS_SEED=…` replays the same fault schedule and the
//! same workload choices; the timing of a real network is not replayed), and every failure
//! report repeats it, with the fault schedule as executed and the tail of each node's log.

pub mod check;
pub mod clock;
pub mod cluster;
pub mod disk;
pub mod http;
pub mod outcome;
pub mod proxy;
pub mod rng;
pub mod schedule;
pub mod workload;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use courtledger_crypto::sha256;
use courtledger_types::CourtLevel;

use crate::check::Findings;
use crate::cluster::Cluster;
use crate::outcome::Tracker;
use crate::rng::Rng;
use crate::schedule::{Fault, Kinds, Plan, Planned, RECOVERY_GRACE_MS};
use crate::workload::{Ctx, History, Settled, Signer, SignerRole};

/// What to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// The seed of the schedule and the workload.
    pub seed: u64,
    /// Number of validators.
    pub validators: usize,
    /// How long faults are injected.
    pub fault_phase: Duration,
    /// Parties registered in set-up, each filing cases from its own client thread (besides one
    /// client per registrar).
    pub parties: usize,
    /// Whether the schedule may briefly take more than f validators.
    pub allow_over_f: bool,
    /// Blocks every node must add after the heal.
    pub liveness_blocks: u64,
    /// How long the network gets for that, and for each fresh transaction to commit.
    pub liveness_bound: Duration,
}

impl Config {
    /// A run configured from the environment: `NEMESIS_SEED` (decimal or 0x-hex; random if
    /// unset), `NEMESIS_VALIDATORS` (default `validators`), `NEMESIS_SECONDS` (the fault phase,
    /// default `seconds`), `NEMESIS_PARTIES` (default 3), `NEMESIS_OVER_F` (0 to never exceed
    /// f; default on).
    pub fn from_env(validators: usize, seconds: u64) -> Config {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let number = |name: &str| {
            var(name).map(|v| {
                let v = v.trim().to_owned();
                let parsed = match v.strip_prefix("0x") {
                    Some(hex) => u64::from_str_radix(hex, 16),
                    None => v.parse(),
                };
                parsed.unwrap_or_else(|_| panic!("{name}={v}: not a number"))
            })
        };
        let seed = number("NEMESIS_SEED").unwrap_or_else(random_seed);
        let validators = number("NEMESIS_VALIDATORS")
            .and_then(|v| usize::try_from(v).ok())
            .unwrap_or(validators);
        let seconds = number("NEMESIS_SECONDS").unwrap_or(seconds);
        Config {
            seed,
            validators,
            fault_phase: Duration::from_secs(seconds),
            parties: number("NEMESIS_PARTIES")
                .and_then(|v| usize::try_from(v).ok())
                .unwrap_or(3),
            allow_over_f: number("NEMESIS_OVER_F") != Some(0),
            liveness_blocks: 5,
            liveness_bound: Duration::from_secs(90),
        }
    }
}

/// A seed from the clock and the process id (no randomness crate needed).
fn random_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let digest = sha256(
        &[
            nanos.to_le_bytes().as_slice(),
            &std::process::id().to_le_bytes(),
        ]
        .concat(),
    );
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(digest.0.get(..8).unwrap_or(&[0; 8]));
    // Short seeds are easier to copy from a log.
    u64::from_le_bytes(bytes) % 1_000_000_000
}

/// One step of the schedule as it was carried out.
#[derive(Debug, Clone)]
pub struct Executed {
    /// Milliseconds from the start of the fault phase.
    pub at_ms: u64,
    /// What was done.
    pub what: String,
    /// An error, if the harness could not do it.
    pub error: Option<String>,
}

/// Everything a run found and did.
#[derive(Debug, Default)]
pub struct Report {
    /// The seed.
    pub seed: u64,
    /// Number of validators.
    pub validators: usize,
    /// The fault phase.
    pub fault_phase: Duration,
    /// The whole run.
    pub duration: Duration,
    /// Of which building (or checking) the binaries.
    pub build: Duration,
    /// The planned faults.
    pub planned: Vec<Planned>,
    /// The schedule as executed.
    pub executed: Vec<Executed>,
    /// Faults started, by kind.
    pub faults: BTreeMap<&'static str, usize>,
    /// What each client did.
    pub histories: Vec<History>,
    /// The checks' findings.
    pub findings: Findings,
    /// Each node's last committed height at the end.
    pub heights: Vec<Option<u64>>,
    /// Longest time the highest committed height did not move during the fault phase, and the
    /// same outside over-f faults (and their recovery grace), and when that one began, in
    /// milliseconds from the start of the fault phase.
    pub stalls_ms: (u64, u64, u64),
    /// Per kind of fault: how long its validators took after the heal to reach the highest
    /// height at the heal (milliseconds, sampled each second), and how many had not by the end
    /// of the fault phase.
    pub rejoin: BTreeMap<&'static str, (Vec<u64>, usize)>,
    /// Whether each node stopped with status 0 on SIGTERM at the end.
    pub clean_stop: Vec<bool>,
    /// What became of each disk-full, torn-write and clock-skew fault, one line each.
    pub fault_notes: Vec<String>,
    /// Fault kinds this machine cannot make, and why (left out of the schedule).
    pub left_out: Vec<String>,
    /// Things worth knowing that violate no property.
    pub warnings: Vec<String>,
    /// Violated properties and harness errors.
    pub failures: Vec<String>,
    /// The tail of every node's log (on failure).
    pub log_tails: String,
    /// The kept directory (on failure).
    pub kept_dir: Option<PathBuf>,
}

impl Report {
    /// No property was violated.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }

    /// The summary: faults by kind, transactions acknowledged and lost, forks, heights.
    pub fn summary(&self) -> String {
        let f = &self.findings;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "nemesis summary (NEMESIS_SEED={}): {} validators, {} s of faults, {:.0} s in all ({:.0} s of it building the binaries)",
            self.seed,
            self.validators,
            self.fault_phase.as_secs(),
            self.duration.as_secs_f64(),
            self.build.as_secs_f64()
        );
        let faults: Vec<String> = self
            .faults
            .iter()
            .filter(|(k, _)| **k != "over-f")
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        let _ = writeln!(
            out,
            "  faults injected: {}; {} of them beyond f ({} planned)",
            if faults.is_empty() {
                "none".to_owned()
            } else {
                faults.join(", ")
            },
            self.faults.get("over-f").copied().unwrap_or(0),
            self.planned.len()
        );
        for left in &self.left_out {
            let _ = writeln!(out, "  left out of the schedule: {left}");
        }
        let _ = writeln!(
            out,
            "  transactions: {} acknowledged ({} by the wait answer, {} by a lookup after an uncertain attempt), lost {}; never acknowledged: {} committed once, {} not committed; {} signed but never sent",
            f.acked.0 + f.acked.1,
            f.acked.0,
            f.acked.1,
            f.lost,
            f.unacked.0,
            f.unacked.1,
            f.never_sent
        );
        let attempts: Vec<String> = workload::attempt_counts(&self.histories)
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        let _ = writeln!(out, "  submissions: {}", attempts.join(", "));
        let heights: Vec<String> = self
            .heights
            .iter()
            .map(|h| h.map_or("?".to_owned(), |h| h.to_string()))
            .collect();
        let _ = writeln!(
            out,
            "  chain: heights reached [{}], compared up to {}: {} transactions committed, forks {}, duplicates {}; block times checked against the host clock at {} heights, ahead of it beyond the drift bound {}",
            heights.join(", "),
            f.checked_height,
            f.committed,
            f.forks,
            f.duplicates,
            f.times_checked,
            f.times_ahead
        );
        let _ = writeln!(
            out,
            "  progress: longest stall of the highest height {:.1} s; outside over-f faults {:.1} s (from +{:.1}s)",
            ms_to_s(self.stalls_ms.0),
            ms_to_s(self.stalls_ms.1),
            ms_to_s(self.stalls_ms.2)
        );
        let rejoin: Vec<String> = self
            .rejoin
            .iter()
            .map(|(kind, (times, late))| {
                let mut sorted = times.clone();
                sorted.sort_unstable();
                let median = sorted.get(sorted.len() / 2).copied().unwrap_or(0);
                let max = sorted.last().copied().unwrap_or(0);
                let late = if *late > 0 {
                    format!(", {late} not by the end")
                } else {
                    String::new()
                };
                format!(
                    "{kind} median {:.0} s max {:.0} s{late}",
                    ms_to_s(median),
                    ms_to_s(max)
                )
            })
            .collect();
        if !rejoin.is_empty() {
            let _ = writeln!(
                out,
                "  back to the head after a heal: {}",
                rejoin.join("; ")
            );
        }
        for note in &self.fault_notes {
            let _ = writeln!(out, "  {note}");
        }
        let _ = writeln!(out, "  stopped cleanly on SIGTERM: {:?}", self.clean_stop);
        for warning in &self.warnings {
            let _ = writeln!(out, "  warning: {warning}");
        }
        let _ = writeln!(
            out,
            "  result: {}",
            if self.passed() {
                "PASS".to_owned()
            } else {
                format!("FAIL ({} problems)", self.failures.len())
            }
        );
        out
    }

    /// The full failure report: seed, summary, failures, executed schedule, logs.
    pub fn failure_text(&self) -> String {
        let mut out = format!(
            "nemesis FAILED with NEMESIS_SEED={} (replay: NEMESIS_SEED={} cargo test -p courtledger-tests --test nemesis)\n",
            self.seed, self.seed
        );
        out.push_str(&self.summary());
        out.push_str("failures:\n");
        for failure in &self.failures {
            let _ = writeln!(out, "  - {failure}");
        }
        out.push_str(&self.schedule_text());
        if let Some(dir) = &self.kept_dir {
            let _ = writeln!(out, "network directory kept: {}", dir.display());
        }
        out.push_str(&self.log_tails);
        let _ = writeln!(out, "(NEMESIS_SEED={})", self.seed);
        out
    }

    /// The schedule as executed, one line per step.
    pub fn schedule_text(&self) -> String {
        let mut out = format!("fault schedule as executed (seed {}):\n", self.seed);
        for step in &self.executed {
            let _ = writeln!(
                out,
                "  +{:>7.3}s {}{}",
                ms_to_s(step.at_ms),
                step.what,
                step.error
                    .as_ref()
                    .map_or(String::new(), |e| format!("  [error: {e}]"))
            );
        }
        out
    }
}

/// A progress line on stderr, with the time since the run started.
fn note(started: Instant, what: &str) {
    eprintln!("nemesis: +{:.1}s {what}", started.elapsed().as_secs_f64());
}

fn ms_to_s(ms: u64) -> f64 {
    Duration::from_millis(ms).as_secs_f64()
}

fn now_ms(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Runs the whole harness once.
pub fn run(config: &Config) -> Report {
    let started = Instant::now();
    eprintln!(
        "nemesis: NEMESIS_SEED={} ({} validators, {} s of faults, over-f faults {})",
        config.seed,
        config.validators,
        config.fault_phase.as_secs(),
        if config.allow_over_f { "on" } else { "off" }
    );
    // What this machine can do: a tmpfs per validator (root), libfaketime.
    let mut left_out = Vec::new();
    let tmpfs = match disk::tmpfs_available() {
        Ok(()) => true,
        Err(why) => {
            left_out.push(format!("disk-full (cannot mount a tmpfs: {why})"));
            false
        }
    };
    let faketime = match clock::find_library() {
        None => {
            left_out.push(
                "clock-skew (libfaketime.so.1 not found: apt-get install faketime)".to_owned(),
            );
            None
        }
        Some(library) => match clock::self_check(&library) {
            Ok(()) => Some(library),
            Err(why) => {
                left_out.push(format!(
                    "clock-skew (libfaketime does not work here: {why})"
                ));
                None
            }
        },
    };
    for left in &left_out {
        eprintln!("nemesis: left out of the schedule (each becomes a kill): {left}");
    }
    let kinds = Kinds {
        over_f: config.allow_over_f,
        disk_full: tmpfs,
        clock_skew: faketime.is_some(),
    };
    let plan = schedule::plan(
        config.seed,
        config.validators,
        u64::try_from(config.fault_phase.as_millis()).unwrap_or(u64::MAX),
        kinds,
    );
    let mut report = Report {
        seed: config.seed,
        validators: config.validators,
        fault_phase: config.fault_phase,
        planned: plan.faults.clone(),
        left_out,
        ..Report::default()
    };
    let bin = match cluster::build_binaries() {
        Ok(bin) => bin,
        Err(error) => {
            report.failures.push(format!("harness: {error:#}"));
            return report;
        }
    };
    report.build = started.elapsed();
    let options = cluster::Options { tmpfs, faketime };
    let cluster = match Cluster::start(bin, config.validators, config.seed, options) {
        Ok(cluster) => cluster,
        Err(error) => {
            report
                .failures
                .push(format!("harness: cannot start the network: {error:#}"));
            return report;
        }
    };
    eprintln!("nemesis: network in {}", cluster.root().display());
    let mut tracker = Tracker::new(cluster.genesis.consensus.max_clock_drift_ms);
    if let Err(error) = drive(&cluster, config, &plan, &mut report, &mut tracker, started) {
        report.failures.push(format!("harness: {error:#}"));
    }
    tracker.poll(&cluster);
    report.fault_notes = tracker.lines();
    report
        .failures
        .extend(tracker.findings.iter().map(|f| format!("finding: {f}")));
    report.heights = (0..cluster.n).map(|i| cluster.height(i)).collect();
    if !report.passed() {
        report.log_tails = cluster.log_tails(40);
        report.kept_dir = Some(cluster.keep_dir());
    }
    report.clean_stop = cluster.stop_all();
    report.duration = started.elapsed();
    report
}

fn drive(
    cluster: &Cluster,
    config: &Config,
    plan: &Plan,
    report: &mut Report,
    tracker: &mut Tracker,
    started: Instant,
) -> anyhow::Result<()> {
    let n = cluster.n;
    if !cluster.wait_until(Duration::from_secs(60), || {
        (0..n).all(|i| cluster.height(i).is_some_and(|h| h >= 1))
    }) {
        bail!("the network did not commit its first block within 60 s");
    }
    check_no_bypass(cluster)?;

    // Set-up: registrar 0 registers the parties and the liveness probe.
    let chain_id = cluster.genesis.chain_id();
    let stop = AtomicBool::new(false);
    let ctx = Ctx {
        cluster,
        chain_id,
        stop: &stop,
        started,
        seed: config.seed,
    };
    let courts: Vec<_> = cluster
        .genesis
        .courts
        .iter()
        .filter(|c| c.level == CourtLevel::Basic)
        .map(|c| c.code.clone())
        .collect();
    let registrars: Vec<Signer> = (0..cluster.genesis.registrars.len())
        .map(|k| {
            Ok(Signer {
                label: format!("registrar{k}"),
                key: cluster.registrar(k)?,
                role: SignerRole::Registrar,
            })
        })
        .collect::<anyhow::Result<_>>()?;
    let registrar0 = registrars.first().context("the genesis has no registrar")?;
    let mut setup = History {
        label: registrar0.label.clone(),
        key: registrar0.key.public_key(),
        txs: Vec::new(),
        anomalies: Vec::new(),
    };
    let mut rng = Rng::derive(config.seed, 0xfeed);
    let mut parties = Vec::new();
    let mut top = 0;
    for p in 0..=config.parties {
        let nonce = u64::try_from(p).unwrap_or(0) + 1;
        let deadline = Instant::now() + Duration::from_secs(60);
        if workload::settle(
            &ctx,
            registrar0,
            &mut setup,
            nonce,
            &mut rng,
            Some(0),
            Some(deadline),
        ) != Settled::Acked
        {
            bail!("set-up: registering party {p} did not commit within 60 s");
        }
        let record = setup.txs.last().context("a registration")?;
        let ack = record.ack.clone().context("an acknowledgement")?;
        if ack.code != 0 {
            bail!(
                "set-up: registering party {p} failed on the ledger: code {}",
                ack.code
            );
        }
        top = top.max(ack.height);
        // The registered key is the one `registration` derives from the act's seed.
        let material = [
            config.seed.to_be_bytes().as_slice(),
            registrar0.key.public_key().to_string().as_bytes(),
            &nonce.to_be_bytes(),
            &record.variant.to_be_bytes(),
        ]
        .concat();
        let (key, _) = workload::registration(&chain_id, &sha256(&material).0);
        let id = record.id.parse().context("a tx id")?;
        let label = if p == config.parties {
            "probe".to_owned()
        } else {
            format!("party{p}")
        };
        parties.push(Signer {
            label,
            key,
            role: SignerRole::Party {
                id,
                court: courts
                    .get(p % courts.len().max(1))
                    .cloned()
                    .context("no basic court")?,
            },
        });
    }
    let probe = parties.pop().context("the probe")?;
    if !cluster.wait_until(Duration::from_secs(60), || {
        (0..n).all(|i| cluster.height(i).is_some_and(|h| h >= top))
    }) {
        bail!("set-up: not every node reached height {top} within 60 s");
    }
    let registrar0_next = u64::try_from(config.parties).unwrap_or(0) + 2;

    // The fault phase: clients and the progress monitor run while the schedule executes.
    note(
        started,
        &format!("set-up done; {} s of faults", config.fault_phase.as_secs()),
    );
    let monitor_stop = AtomicBool::new(false);
    let samples: Mutex<Samples> = Mutex::new(Vec::new());
    let phase_start = Instant::now();
    let phase_wall_ms = clock::wall_ms();
    let joined = std::thread::scope(|scope| {
        let monitor = scope.spawn(|| monitor(cluster, &monitor_stop, &samples, phase_start));
        let mut clients = Vec::new();
        for (k, signer) in registrars.iter().enumerate() {
            let first = if k == 0 { registrar0_next } else { 1 };
            let ctx = &ctx;
            let stream = u64::try_from(k).unwrap_or(0) + 1;
            clients.push(scope.spawn(move || workload::run_client(ctx, signer, first, stream)));
        }
        for (p, signer) in parties.iter().enumerate() {
            let ctx = &ctx;
            let stream = 100 + u64::try_from(p).unwrap_or(0);
            clients.push(scope.spawn(move || workload::run_client(ctx, signer, 1, stream)));
        }
        execute(
            cluster,
            plan,
            report,
            tracker,
            phase_start,
            config.fault_phase,
        );
        // Healed: the clients go on a little, so that most uncertain transactions settle.
        std::thread::sleep(Duration::from_secs(5));
        tracker.poll(cluster);
        stop.store(true, Ordering::SeqCst);
        monitor_stop.store(true, Ordering::SeqCst);
        let joined: Vec<Option<History>> = clients
            .into_iter()
            .map(|client| client.join().ok())
            .collect();
        let _ = monitor.join();
        joined
    });
    if joined.iter().any(Option::is_none) {
        bail!("a client thread panicked: its history is lost, nothing can be checked");
    }
    let mut histories: Vec<History> = joined.into_iter().flatten().collect();
    // Registrar 0's set-up transactions come first in its history.
    if let Some(first) = histories.first_mut() {
        let mut all = setup.txs;
        all.append(&mut first.txs);
        first.txs = all;
    }
    let samples = samples.lock().map(|s| s.clone()).unwrap_or_default();
    report.stalls_ms = stalls(&samples, report);
    report.rejoin = rejoin_times(&samples, &report.planned);
    for fault in &report.planned {
        if !matches!(
            fault.fault,
            Fault::DiskFull { .. } | Fault::TornWrite { .. } | Fault::ClockSkew { .. }
        ) {
            continue;
        }
        if let Fault::ClockSkew { node, .. } = fault.fault {
            let window: Vec<&(u64, Vec<Option<u64>>)> = samples
                .iter()
                .filter(|(t, _)| (fault.start_ms..=fault.end_ms).contains(t))
                .collect();
            let own: Vec<u64> = window
                .iter()
                .filter_map(|(_, h)| h.get(node).copied().flatten())
                .collect();
            let top: Vec<u64> = window.iter().filter_map(|(_, h)| highest(h)).collect();
            if let (Some(a), Some(b), Some(c), Some(d)) =
                (own.first(), own.last(), top.first(), top.last())
            {
                tracker.add(
                    fault.id,
                    format!(
                        "while skewed it went from height {a} to {b}, the highest from {c} to {d}"
                    ),
                );
            }
            tracker.add(
                fault.id,
                format!(
                    "longest stall of the highest height while skewed {:.1} s",
                    ms_to_s(stall_within(&samples, fault.start_ms, fault.end_ms))
                ),
            );
        }
        for (_, caught) in rejoin_of(&samples, fault) {
            tracker.add(
                fault.id,
                match caught {
                    Some(ms) => format!("back at the head {:.0} s after the heal", ms_to_s(ms)),
                    None => "not back at the head by the end of the fault phase".to_owned(),
                },
            );
        }
    }
    let first_seen = first_seen(&samples, phase_wall_ms);

    // Liveness after the heal: K more blocks everywhere, then a fresh transaction per node.
    note(started, "healed, clients stopped; checking liveness");
    let heights: Vec<Option<u64>> = (0..n).map(|i| cluster.height(i)).collect();
    let target = heights.iter().flatten().max().copied().unwrap_or(0) + config.liveness_blocks;
    let live = cluster.wait_until(config.liveness_bound, || {
        (0..n).all(|i| cluster.height(i).is_some_and(|h| h >= target))
    });
    if !live {
        let now: Vec<Option<u64>> = (0..n).map(|i| cluster.height(i)).collect();
        report.failures.push(format!(
            "liveness: after the heal not every node reached height {target} within {} s (heights at heal {heights:?}, now {now:?})",
            config.liveness_bound.as_secs()
        ));
    }
    let mut probe_history = History {
        label: probe.label.clone(),
        key: probe.key.public_key(),
        txs: Vec::new(),
        anomalies: Vec::new(),
    };
    for i in 0..n {
        let nonce = u64::try_from(i).unwrap_or(0) + 1;
        let deadline = Instant::now() + config.liveness_bound;
        let settled = workload::settle(
            &ctx,
            &probe,
            &mut probe_history,
            nonce,
            &mut rng,
            Some(i),
            Some(deadline),
        );
        if settled != Settled::Acked {
            report.failures.push(format!(
                "liveness: a fresh transaction submitted to node {i} after the heal was not committed within {} s",
                config.liveness_bound.as_secs()
            ));
            break;
        }
    }
    histories.push(probe_history);
    tracker.poll(cluster);

    // Pending transactions drain (not a property: reported).
    let drained = cluster.wait_until(Duration::from_secs(20), || {
        (0..n).all(|i| {
            cluster
                .get(i, "/v1/status")
                .is_some_and(|s| s["mempool"] == 0)
        })
    });
    if !drained {
        let pools: Vec<_> = (0..n)
            .map(|i| cluster.get(i, "/v1/status").map(|s| s["mempool"].clone()))
            .collect();
        report.warnings.push(format!(
            "mempools not empty 20 s after the workload stopped: {pools:?}"
        ));
    }

    // The history checks, up to the lowest height.
    let heights: Vec<Option<u64>> = (0..n).map(|i| cluster.height(i)).collect();
    let Some(lowest) = heights
        .iter()
        .copied()
        .collect::<Option<Vec<u64>>>()
        .and_then(|h| h.into_iter().min())
    else {
        report.histories = histories;
        bail!("a node does not answer after the heal: heights {heights:?}");
    };
    note(
        started,
        &format!("checking the history up to height {lowest} on {n} nodes"),
    );
    let drift_ms = cluster.genesis.consensus.max_clock_drift_ms;
    report.findings = check::check(cluster, &histories, lowest, &first_seen, drift_ms);
    note(started, "auditing every node's chain");
    report
        .failures
        .extend(report.findings.failures.iter().cloned());
    report.failures.extend(check::audit(cluster, lowest));
    // An equivocation by a validator given a torn write is the expected effect of the synced
    // record it lost (at most f such validators): reported, not a failure.
    let (equivocations, excused) =
        check::equivocations(cluster, lowest, &tracker.torn_keys(cluster));
    report.failures.extend(equivocations);
    report.warnings.extend(excused);
    note(started, "checks done");
    report.histories = histories;
    Ok(())
}

/// Cuts every link of the last validator and checks that it loses all its peers (so no node
/// reaches another except through the proxies), then heals and waits for it to reconnect.
fn check_no_bypass(cluster: &Cluster) -> anyhow::Result<()> {
    let n = cluster.n;
    if n < 2 {
        return Ok(());
    }
    let last = n - 1;
    let full = u64::try_from(n - 1).unwrap_or(0);
    if !cluster.wait_until(Duration::from_secs(30), || {
        (0..n).all(|i| cluster.peers(i) == Some(full))
    }) {
        bail!("not every node connected to all {full} peers within 30 s");
    }
    for j in 0..last {
        cluster.proxies.cut(last, j);
        cluster.proxies.cut(j, last);
    }
    let isolated = cluster.wait_until(Duration::from_secs(15), || cluster.peers(last) == Some(0));
    std::thread::sleep(Duration::from_millis(1_500));
    let still = cluster.peers(last);
    for j in 0..last {
        cluster.proxies.uncut(last, j);
        cluster.proxies.uncut(j, last);
    }
    if !isolated || still != Some(0) {
        bail!("node {last} kept {still:?} peers with all its proxied links cut: it reaches peers around the proxies");
    }
    if !cluster.wait_until(Duration::from_secs(30), || {
        (0..n).all(|i| cluster.peers(i) == Some(full))
    }) {
        bail!("node {last} did not reconnect within 30 s after its links were healed");
    }
    Ok(())
}

/// Each running node's committed height, every second: `(ms since the phase began, heights)`.
type Samples = Vec<(u64, Vec<Option<u64>>)>;

/// Samples every running node's committed height every second.
fn monitor(cluster: &Cluster, stop: &AtomicBool, samples: &Mutex<Samples>, since: Instant) {
    let http = http::Http::new(Duration::from_millis(800));
    while !stop.load(Ordering::SeqCst) {
        let heights: Vec<Option<u64>> = (0..cluster.n)
            .map(|i| {
                if cluster.state(i) != cluster::RUNNING {
                    return None;
                }
                http.get_ok(&format!("{}/v1/status", cluster.api(i)))?["last_committed_height"]
                    .as_u64()
            })
            .collect();
        if let Ok(mut samples) = samples.lock() {
            samples.push((now_ms(since), heights));
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}

fn highest(heights: &[Option<u64>]) -> Option<u64> {
    heights.iter().flatten().max().copied()
}

/// The longest time without a new height, overall and outside over-f faults (with their grace).
fn stalls(samples: &Samples, report: &Report) -> (u64, u64, u64) {
    let over_f: Vec<(u64, u64)> = report
        .planned
        .iter()
        .filter(|p| p.over_f)
        .map(|p| (p.start_ms, p.end_ms + RECOVERY_GRACE_MS))
        .collect();
    let mut longest = (0u64, 0u64, 0u64);
    let mut since: Option<(u64, u64)> = None;
    for (t, heights) in samples {
        let Some(h) = highest(heights) else { continue };
        let Some((t0, h0)) = since else {
            since = Some((*t, h));
            continue;
        };
        if h > h0 {
            since = Some((*t, h));
            continue;
        }
        let stall = t - t0;
        longest.0 = longest.0.max(stall);
        if !over_f.iter().any(|(a, b)| t0 < *b && *a < *t) && stall > longest.1 {
            longest.1 = stall;
            longest.2 = t0;
        }
    }
    longest
}

/// For each kind of fault, how long its validators took after the heal to reach the highest
/// height any node had at the heal (from the samples): the times in milliseconds, and how many
/// had not caught up when the samples end.
fn rejoin_times(
    samples: &Samples,
    planned: &[Planned],
) -> BTreeMap<&'static str, (Vec<u64>, usize)> {
    let mut out: BTreeMap<&'static str, (Vec<u64>, usize)> = BTreeMap::new();
    for fault in planned {
        for (_, caught) in rejoin_of(samples, fault) {
            let entry = out.entry(fault.fault.kind()).or_default();
            match caught {
                Some(ms) => entry.0.push(ms),
                None => entry.1 += 1,
            }
        }
    }
    out
}

/// For each validator of `fault`: how long after the heal it reached the highest height any
/// node had at the heal (None: not within the samples). Empty if no sample follows the heal.
fn rejoin_of(samples: &Samples, fault: &Planned) -> Vec<(usize, Option<u64>)> {
    let after: Vec<&(u64, Vec<Option<u64>>)> =
        samples.iter().filter(|(t, _)| *t >= fault.end_ms).collect();
    let Some(target) = after.first().and_then(|(_, h)| highest(h)) else {
        return Vec::new();
    };
    fault
        .fault
        .faulty()
        .into_iter()
        .map(|node| {
            let caught = after
                .iter()
                .find(|(_, h)| h.get(node).copied().flatten().is_some_and(|x| x >= target))
                .map(|(t, _)| t - fault.end_ms);
            (node, caught)
        })
        .collect()
}

/// The longest time the highest height did not move between `from_ms` and `to_ms` (phase
/// milliseconds), from the samples.
fn stall_within(samples: &Samples, from_ms: u64, to_ms: u64) -> u64 {
    let mut longest = 0;
    let mut since: Option<(u64, u64)> = None;
    for (t, heights) in samples
        .iter()
        .filter(|(t, _)| (from_ms..=to_ms).contains(t))
    {
        let Some(h) = highest(heights) else { continue };
        match since {
            Some((t0, h0)) if h <= h0 => longest = longest.max(t - t0),
            _ => since = Some((*t, h)),
        }
    }
    longest
}

/// For the block-time check: `(height, wall ms)` each time the highest committed height rose in
/// the samples, i.e. each height was committed by then (`phase_wall_ms`: the wall clock at the
/// start of the fault phase, when sample times start).
fn first_seen(samples: &Samples, phase_wall_ms: u64) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = Vec::new();
    for (t, heights) in samples {
        let Some(h) = highest(heights) else { continue };
        if out.last().is_none_or(|(top, _)| h > *top) {
            out.push((h, phase_wall_ms + t));
        }
    }
    out
}

/// Sleeps until `due`, looking for nodes that exited every 200 ms.
fn wait_polling(cluster: &Cluster, tracker: &mut Tracker, due: Instant) {
    loop {
        tracker.poll(cluster);
        let Some(wait) = due.checked_duration_since(Instant::now()) else {
            return;
        };
        std::thread::sleep(wait.min(Duration::from_millis(200)));
    }
}

/// Carries out the schedule in real time, then heals everything at the end of the phase.
fn execute(
    cluster: &Cluster,
    plan: &Plan,
    report: &mut Report,
    tracker: &mut Tracker,
    start: Instant,
    phase: Duration,
) {
    for step in &plan.steps {
        wait_polling(cluster, tracker, start + Duration::from_millis(step.at_ms));
        let Some(planned) = plan.faults.get(step.fault) else {
            continue;
        };
        let result = match tracker.apply(cluster, planned.id, &planned.fault, step.start) {
            Ok(true) => Ok(()),
            Ok(false) => apply(cluster, &planned.fault, step.start),
            Err(error) => Err(error),
        };
        if step.start {
            *report.faults.entry(planned.fault.kind()).or_insert(0) += 1;
            if planned.over_f {
                *report.faults.entry("over-f").or_insert(0) += 1;
            }
        }
        report.executed.push(Executed {
            at_ms: now_ms(start),
            what: format!(
                "{} #{}: {}{}",
                if step.start { "start" } else { "heal " },
                planned.id,
                planned.fault,
                if planned.over_f { " (over f)" } else { "" }
            ),
            error: result.err().map(|e| format!("{e:#}")),
        });
    }
    wait_polling(cluster, tracker, start + phase);
    let result = cluster.heal_all();
    report.executed.push(Executed {
        at_ms: now_ms(start),
        what: "heal everything".to_owned(),
        error: result.err().map(|e| format!("{e:#}")),
    });
}

/// Starts (or heals) one fault.
fn apply(cluster: &Cluster, fault: &Fault, start: bool) -> anyhow::Result<()> {
    let n = cluster.n;
    let proxies = &cluster.proxies;
    let both = |a: usize, b: usize| {
        if start {
            proxies.cut(a, b);
            proxies.cut(b, a);
        } else {
            proxies.uncut(a, b);
            proxies.uncut(b, a);
        }
    };
    match fault {
        Fault::Kill(nodes) => {
            for node in nodes {
                if start {
                    cluster.kill(*node)?;
                } else {
                    cluster.restart(*node)?;
                }
            }
        }
        Fault::Pause(nodes) => {
            for node in nodes {
                if start {
                    cluster.pause(*node)?;
                } else {
                    cluster.resume(*node)?;
                }
            }
        }
        Fault::Partition(side) => {
            for a in side {
                for b in (0..n).filter(|b| !side.contains(b)) {
                    both(*a, b);
                }
            }
        }
        Fault::CutLink(a, b) => both(*a, *b),
        Fault::OneWay { node, outbound } => {
            for other in (0..n).filter(|o| o != node) {
                let (from, to) = if *outbound {
                    (*node, other)
                } else {
                    (other, *node)
                };
                if start {
                    proxies.stall(from, to);
                } else {
                    proxies.unstall(from, to);
                }
            }
        }
        Fault::Slow { node, delay_ms } => {
            for other in (0..n).filter(|o| o != node) {
                for (from, to) in [(*node, other), (other, *node)] {
                    if start {
                        proxies.add_delay(from, to, *delay_ms);
                    } else {
                        proxies.remove_delay(from, to, *delay_ms);
                    }
                }
            }
        }
        Fault::DiskFull { .. } | Fault::TornWrite { .. } | Fault::ClockSkew { .. } => {
            bail!("{fault}: carried out by the outcome tracker")
        }
    }
    Ok(())
}
