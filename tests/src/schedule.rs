//! The fault schedule: a list of timed starts and ends of faults, drawn from the seed alone, so
//! that a failing run can be replayed with the same schedule (`NEMESIS_SEED`).
//!
//! At most `f = (n − 1) / 3` validators are faulty at any instant, counting a validator as
//! faulty from the start of its fault until [`RECOVERY_GRACE_MS`] after its end (a restarted
//! node needs time to open its store and catch up, a healed link to be redialled). Only when over-f faults are allowed, and
//! only while no other fault is active, a short fault may take `f + 1` or more validators (or
//! split the network in halves): safety must hold through it, liveness only after it heals.

use std::collections::BTreeMap;
use std::fmt;

use crate::rng::Rng;

/// How long after a fault ends its validators still count as faulty for the schedule: a
/// restarted node opens its store and catches up, and a healed link is redialled after up to
/// 5 s of backoff (`courtledger-network`'s maximum).
pub const RECOVERY_GRACE_MS: u64 = 6_000;

/// One fault. Node numbers are validator indexes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// SIGKILL, then a restart on the same home when the fault ends.
    Kill(Vec<usize>),
    /// SIGSTOP, then SIGCONT.
    Pause(Vec<usize>),
    /// Every link between `side` and the other validators is cut (both ways).
    Partition(Vec<usize>),
    /// The link between two validators is cut both ways; each still reaches the others.
    CutLink(usize, usize),
    /// One-way loss: the validator's outgoing bytes (`outbound`) or its incoming bytes are held.
    OneWay {
        /// The validator.
        node: usize,
        /// Outgoing (it cannot be heard) or incoming (it cannot hear).
        outbound: bool,
    },
    /// Every link to and from the validator is delayed.
    Slow {
        /// The validator.
        node: usize,
        /// Added latency per direction.
        delay_ms: u64,
    },
}

impl Fault {
    /// A short name of the kind, for counts.
    pub fn kind(&self) -> &'static str {
        match self {
            Fault::Kill(_) => "kill",
            Fault::Pause(_) => "pause",
            Fault::Partition(_) => "partition",
            Fault::CutLink(..) => "cut-link",
            Fault::OneWay { .. } => "one-way",
            Fault::Slow { .. } => "slow",
        }
    }

    /// The validators this fault makes faulty.
    pub fn faulty(&self) -> Vec<usize> {
        match self {
            Fault::Kill(nodes) | Fault::Pause(nodes) | Fault::Partition(nodes) => nodes.clone(),
            Fault::CutLink(a, b) => vec![*a, *b],
            Fault::OneWay { node, .. } | Fault::Slow { node, .. } => vec![*node],
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Kill(nodes) => write!(f, "kill -9 {nodes:?}"),
            Fault::Pause(nodes) => write!(f, "SIGSTOP {nodes:?}"),
            Fault::Partition(side) => write!(f, "partition {side:?} | rest"),
            Fault::CutLink(a, b) => write!(f, "cut link {a} <-> {b}"),
            Fault::OneWay { node, outbound } => {
                if *outbound {
                    write!(f, "one-way: {node}'s outgoing bytes held")
                } else {
                    write!(f, "one-way: {node}'s incoming bytes held")
                }
            }
            Fault::Slow { node, delay_ms } => write!(f, "delay {delay_ms} ms on {node}'s links"),
        }
    }
}

/// A fault of the plan with its times, in milliseconds from the start of the fault phase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// Its number in the plan.
    pub id: usize,
    /// What.
    pub fault: Fault,
    /// When it starts.
    pub start_ms: u64,
    /// When it is healed.
    pub end_ms: u64,
    /// Whether it takes more than f validators (safety only).
    pub over_f: bool,
}

/// A start or an end of a planned fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// When, in milliseconds from the start of the fault phase.
    pub at_ms: u64,
    /// Which fault.
    pub fault: usize,
    /// Start (true) or heal (false).
    pub start: bool,
}

/// A whole schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The faults, by start time.
    pub faults: Vec<Planned>,
    /// Their starts and ends in time order (a heal before a start at the same instant).
    pub steps: Vec<Step>,
}

/// The schedule of a run of `n` validators lasting `duration_ms`, from `seed`.
pub fn plan(seed: u64, n: usize, duration_ms: u64, allow_over_f: bool) -> Plan {
    let f = (n.saturating_sub(1)) / 3;
    let mut rng = Rng::derive(seed, 0x5eed);
    let mut faults = Vec::new();
    // Busy until (ms) per validator, and until when an over-f fault holds the stage.
    let mut busy_until = vec![0u64; n];
    let mut exclusive_until = 0u64;
    let last_start = duration_ms.saturating_sub(3_000);
    let mut t = 1_500u64;
    while t < last_start && n > 1 {
        let free: Vec<usize> = (0..n).filter(|i| busy_until[*i] <= t).collect();
        let busy = n - free.len();
        let nothing_active = busy == 0 && exclusive_until <= t;
        if exclusive_until > t {
            // An over-f fault holds the stage.
        } else if allow_over_f && nothing_active && rng.chance(8) {
            let (fault, duration) = over_f_fault(&mut rng, n, f);
            let end = (t + duration)
                .min(duration_ms.saturating_sub(1_000))
                .max(t + 500);
            for node in fault.faulty() {
                busy_until[node] = end + RECOVERY_GRACE_MS;
            }
            exclusive_until = end + RECOVERY_GRACE_MS;
            let over_f = fault.faulty().len() > f;
            faults.push(Planned {
                id: faults.len(),
                fault,
                start_ms: t,
                end_ms: end,
                over_f,
            });
        } else if busy < f && rng.chance(80) {
            let room = f - busy;
            if let Some((fault, duration)) = regular_fault(&mut rng, n, &free, room) {
                let end = (t + duration)
                    .min(duration_ms.saturating_sub(1_000))
                    .max(t + 500);
                for node in fault.faulty() {
                    busy_until[node] = end + RECOVERY_GRACE_MS;
                }
                faults.push(Planned {
                    id: faults.len(),
                    fault,
                    start_ms: t,
                    end_ms: end,
                    over_f: false,
                });
            }
        }
        t += rng.range(300, 1_500);
    }
    let mut steps: Vec<Step> = faults
        .iter()
        .flat_map(|p| {
            [
                Step {
                    at_ms: p.start_ms,
                    fault: p.id,
                    start: true,
                },
                Step {
                    at_ms: p.end_ms,
                    fault: p.id,
                    start: false,
                },
            ]
        })
        .collect();
    steps.sort_by_key(|s| (s.at_ms, s.start, s.fault));
    Plan { faults, steps }
}

/// A fault of at most `room` validators among `free`, and its duration.
fn regular_fault(rng: &mut Rng, n: usize, free: &[usize], room: usize) -> Option<(Fault, u64)> {
    let mut pool = free.to_vec();
    rng.shuffle(&mut pool);
    let take = 1 + rng.index(room.min(pool.len()));
    let nodes: Vec<usize> = pool.iter().copied().take(take).collect();
    let node = *nodes.first()?;
    let duration = rng.range(1_000, 7_000);
    // Weights: kill 4, pause 3, partition 3, one-way 2, slow 2, cut link 2 (needs two free).
    let roll = rng.range(0, 15);
    let fault = match roll {
        0..=3 => Fault::Kill(nodes),
        4..=6 => Fault::Pause(nodes),
        7..=9 => Fault::Partition(nodes),
        10..=11 => Fault::OneWay {
            node,
            outbound: rng.chance(50),
        },
        12..=13 => Fault::Slow {
            node,
            delay_ms: rng.range(20, 400),
        },
        _ if room >= 2 && pool.len() >= 2 => {
            let other = *pool.get(1)?;
            Fault::CutLink(node.min(other), node.max(other))
        }
        _ => Fault::Partition(vec![node]),
    };
    debug_assert!(fault.faulty().iter().all(|i| *i < n));
    Some((fault, duration))
}

/// A short fault beyond f, and its duration.
fn over_f_fault(rng: &mut Rng, n: usize, f: usize) -> (Fault, u64) {
    let mut all: Vec<usize> = (0..n).collect();
    rng.shuffle(&mut all);
    let many: Vec<usize> = all.iter().copied().take(f + 1).collect();
    let duration = rng.range(2_000, 6_000);
    let fault = match rng.range(0, 3) {
        0 => Fault::Kill(many),
        1 => Fault::Pause(many),
        2 => Fault::Partition(all.iter().copied().take(n / 2).collect()),
        // A cut link takes two validators: beyond f only when f is 1.
        _ => match (all.first(), all.get(1)) {
            (Some(a), Some(b)) if f == 1 => Fault::CutLink(*a.min(b), *a.max(b)),
            _ => Fault::Partition(many),
        },
    };
    (fault, duration)
}

/// How many faults of each kind a plan (or the executed part of it) holds.
pub fn counts<'a>(faults: impl IntoIterator<Item = &'a Planned>) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::new();
    for planned in faults {
        *counts.entry(planned.fault.kind()).or_insert(0) += 1;
        if planned.over_f {
            *counts.entry("over-f").or_insert(0) += 1;
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The faulty validators at `t`, counting the recovery grace.
    fn faulty_at(plan: &Plan, t: u64) -> Vec<usize> {
        let mut nodes: Vec<usize> = plan
            .faults
            .iter()
            .filter(|p| p.start_ms <= t && t < p.end_ms + RECOVERY_GRACE_MS)
            .flat_map(|p| p.fault.faulty())
            .collect();
        nodes.sort_unstable();
        nodes
    }

    #[test]
    fn a_seed_gives_one_plan_within_the_fault_budget() {
        for seed in 0..200u64 {
            for n in [4usize, 7] {
                let f = (n - 1) / 3;
                let plan = plan(seed, n, 90_000, true);
                assert_eq!(plan, super::plan(seed, n, 90_000, true), "deterministic");
                assert_eq!(plan.steps.len(), 2 * plan.faults.len());
                for window in plan.steps.windows(2) {
                    assert!(window[0].at_ms <= window[1].at_ms);
                }
                for t in (0..90_000).step_by(100) {
                    let faulty = faulty_at(&plan, t);
                    let mut distinct = faulty.clone();
                    distinct.dedup();
                    assert_eq!(distinct, faulty, "seed {seed}: a validator in two faults");
                    let over = plan
                        .faults
                        .iter()
                        .any(|p| p.over_f && p.start_ms <= t && t < p.end_ms + RECOVERY_GRACE_MS);
                    if !over {
                        assert!(faulty.len() <= f, "seed {seed} n {n} t {t}: {faulty:?}");
                    }
                }
                for p in &plan.faults {
                    assert!(p.end_ms < 90_000 && p.start_ms < p.end_ms);
                    assert_eq!(p.over_f, p.fault.faulty().len() > f, "{p:?}");
                }
            }
        }
        let without = plan(3, 4, 90_000, false);
        assert!(without.faults.iter().all(|p| !p.over_f));
        assert!(!without.faults.is_empty());
    }
}
