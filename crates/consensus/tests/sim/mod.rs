//! A deterministic, single-threaded simulation of N validators running the real consensus
//! machine over a simulated network, with an in-memory durable log per node.
//!
//! One seed drives everything: message delays, drops, duplicates, partitions, crashes and
//! restarts (including a crash between persisting and sending), and Byzantine behaviour. The
//! checker runs after every step: no two honest validators commit different blocks at a height,
//! every commit certificate verifies against the validator set, every piece of evidence
//! verifies; at the end, once the network has healed and every crashed node restarted, all
//! honest validators must have reached the target height within a bounded simulated time.
//!
//! With [`SetChanges::On`] a run follows a seeded schedule of validator sets by height
//! ([`SetSchedule`]): extra keys join, an original validator leaves, voting power moves. Every
//! process runs a machine only at heights whose set includes it (built with that set); at other
//! heights it is a follower that commits certified blocks by sync, verifying each certificate
//! with the set of its height. The checker then verifies every certificate with the set of its
//! height, checks that nobody signs at a height whose set excludes it, that joiners sign
//! certificates after they join and removed validators never after they leave, and that
//! followers reach the target height like validators. The one Byzantine key holds less than a
//! third of every set's power; when it is the removed validator's, it turns zombie: it keeps
//! up with the chain and keeps proposing and voting with its old set, which honest nodes must
//! ignore.

#![allow(
    clippy::unwrap_used,
    clippy::as_conversions,
    clippy::large_enum_variant
)]

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use std::fmt;

use courtledger_codec::Encode;
use courtledger_consensus::{
    Action, Consensus, ConsensusConfig, ConsensusMessage, Evidence, Input, Proposal, ProposedBlock,
    TimeoutId, TimeoutParams, WalEntry,
};
use courtledger_crypto::{sha256, verify, ChainId, Domain, PublicKey, Sha256Hasher, SigningKey};
use courtledger_types::{
    BlockId, CertificateError, CommitCertificate, Validator, ValidatorSet, Vote, VoteKind,
};

/// A small deterministic PRNG (SplitMix64): the simulation needs no dependency for this.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x9e37_79b9_7f4a_7c15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `low..=high`.
    pub fn range(&mut self, low: u64, high: u64) -> u64 {
        low + self.next_u64() % (high - low + 1)
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    pub fn pick(&mut self, len: usize) -> usize {
        (self.next_u64() % len as u64) as usize
    }
}

/// Which faults a run injects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultMix {
    /// A clean network.
    None,
    /// Delays, drops, duplicates, reordering, partitions that heal, an isolated node.
    Network,
    /// Crashes and restarts of honest nodes, some between persisting and sending.
    Crashes,
    /// One proposer sends different blocks and proposals to different peers.
    Equivocator,
    /// One validator sends conflicting votes to different peers.
    DoubleVoter,
    /// One validator sends nothing.
    Silent,
    /// Two processes share one validator key.
    Twins,
    /// Network faults, crashes and one Byzantine validator together.
    Mixed,
    /// Twins for two of four validators plus partitions: more faulty power than tolerated.
    /// Safety violations are expected here; it proves the checker can fail.
    TooManyTwins,
}

impl FaultMix {
    pub const ALL: [FaultMix; 8] = [
        FaultMix::None,
        FaultMix::Network,
        FaultMix::Crashes,
        FaultMix::Equivocator,
        FaultMix::DoubleVoter,
        FaultMix::Silent,
        FaultMix::Twins,
        FaultMix::Mixed,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FaultMix::None => "none",
            FaultMix::Network => "network",
            FaultMix::Crashes => "crashes",
            FaultMix::Equivocator => "equivocator",
            FaultMix::DoubleVoter => "double-voter",
            FaultMix::Silent => "silent",
            FaultMix::Twins => "twins",
            FaultMix::Mixed => "mixed",
            FaultMix::TooManyTwins => "too-many-twins",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .chain([FaultMix::TooManyTwins])
            .find(|mix| mix.name() == name)
    }

    fn network_faults(self) -> bool {
        matches!(
            self,
            FaultMix::Network | FaultMix::Mixed | FaultMix::TooManyTwins
        )
    }

    fn crashes(self) -> bool {
        matches!(self, FaultMix::Crashes | FaultMix::Mixed)
    }
}

/// Whether a run changes its validator set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetChanges {
    /// The genesis set signs every height.
    Off,
    /// A seeded [`SetSchedule`]: joiners, a removal, maybe a power change.
    On,
    /// As `On`, with a planted bug: followers verify synced certificates with the genesis set
    /// instead of the set of the certificate's height. The checker must catch it.
    GenesisFollowers,
}

impl SetChanges {
    pub fn name(self) -> &'static str {
        match self {
            SetChanges::Off => "off",
            SetChanges::On => "on",
            SetChanges::GenesisFollowers => "genesis-followers",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [
            SetChanges::Off,
            SetChanges::On,
            SetChanges::GenesisFollowers,
        ]
        .into_iter()
        .find(|mode| mode.name() == name)
    }

    fn enabled(self) -> bool {
        self != SetChanges::Off
    }

    /// Keys beyond the initial validators: they join later.
    fn joiners(self, validators: usize) -> usize {
        match self {
            SetChanges::Off => 0,
            SetChanges::On | SetChanges::GenesisFollowers => 1 + usize::from(validators >= 7),
        }
    }
}

/// The validator set of every height: the genesis set (the first `n` keys, power 1 each), then
/// the seeded changes, each activated at its height and in force until the next.
#[derive(Clone, Debug)]
pub struct SetSchedule {
    genesis: ValidatorSet,
    /// `(activation height, set)`, heights strictly ascending and above 1.
    changes: Vec<(u64, ValidatorSet)>,
    /// `(key index, first height whose set includes it)` of every joiner.
    joins: Vec<(usize, u64)>,
    /// `(key index, first height whose set excludes it)` of every removed validator.
    removals: Vec<(usize, u64)>,
    /// A one-line summary, for reports.
    description: String,
}

impl SetSchedule {
    /// The genesis set at every height.
    fn fixed(genesis: ValidatorSet) -> Self {
        Self {
            genesis,
            changes: Vec::new(),
            joins: Vec::new(),
            removals: Vec::new(),
            description: String::from("fixed set"),
        }
    }

    /// From `keys` (the first `n` form the genesis set, the rest join): at `h1` the first
    /// joiner is added at a random position with power 1 or 2; at a later `h2` a random
    /// original validator is removed; a second joiner (if any) is added with the removal or
    /// just after it; then, half of the time, one member's power changes (to 1..=3).
    fn seeded(rng: &mut Rng, genesis: ValidatorSet, keys: &[PublicKey], n: usize) -> Self {
        let mut schedule = Self::fixed(genesis);
        schedule.description.clear();
        let index_of = |key: &PublicKey| keys.iter().position(|k| k == key).unwrap();
        let mut members: Vec<Validator> = schedule.genesis.validators().to_vec();
        let mut notes: Vec<String> = Vec::new();
        let mut joiners = n..keys.len();
        let mut height = 1 + rng.range(1, 3);
        let add =
            |rng: &mut Rng, members: &mut Vec<Validator>, key: usize, notes: &mut Vec<String>| {
                let voting_power = rng.range(1, 2);
                let at = rng.pick(members.len() + 1);
                members.insert(
                    at,
                    Validator {
                        public_key: keys[key],
                        voting_power,
                    },
                );
                notes.push(format!("+k{key}(p{voting_power})@{at}"));
            };
        let first = joiners.next().expect("at least one joiner");
        add(rng, &mut members, first, &mut notes);
        schedule.joins.push((first, height));
        schedule.push(height, &members, &mut notes);

        height += rng.range(1, 3);
        let originals: Vec<usize> = members
            .iter()
            .map(|v| index_of(&v.public_key))
            .filter(|key| *key < n)
            .collect();
        let removed = originals[rng.pick(originals.len())];
        members.retain(|v| v.public_key != keys[removed]);
        notes.push(format!("-k{removed}"));
        schedule.removals.push((removed, height));
        if let Some(second) = joiners.next() {
            if rng.chance(50) {
                schedule.push(height, &members, &mut notes);
                height += rng.range(1, 2);
            }
            add(rng, &mut members, second, &mut notes);
            schedule.joins.push((second, height));
        }
        schedule.push(height, &members, &mut notes);

        if rng.chance(50) {
            height += rng.range(1, 2);
            let at = rng.pick(members.len());
            let old = members[at].voting_power;
            let new = 1 + (old + rng.range(0, 1)) % 3;
            members[at].voting_power = new;
            let key = index_of(&members[at].public_key);
            notes.push(format!("k{key} p{old}->p{new}"));
            schedule.push(height, &members, &mut notes);
        }
        schedule
    }

    /// Activates `members` at `height`, noting the changes made since the last activation.
    fn push(&mut self, height: u64, members: &[Validator], notes: &mut Vec<String>) {
        let set = ValidatorSet::new(members.to_vec()).expect("every scheduled set is valid");
        assert!(
            self.changes.last().is_none_or(|(last, _)| *last < height) && height > 1,
            "activation heights ascend"
        );
        if !self.description.is_empty() {
            self.description.push_str(", ");
        }
        self.description
            .push_str(&format!("h{height}: {}", notes.join(" ")));
        notes.clear();
        self.changes.push((height, set));
    }

    /// The set that signs `height`.
    pub fn set_at(&self, height: u64) -> &ValidatorSet {
        self.changes
            .iter()
            .rev()
            .find(|(activation, _)| *activation <= height)
            .map_or(&self.genesis, |(_, set)| set)
    }

    /// The last activation height (0 for a fixed set).
    fn last_change(&self) -> u64 {
        self.changes.last().map_or(0, |(height, _)| *height)
    }

    /// Whether `faulty` keys hold less than a third of the power of every set.
    fn tolerates(&self, faulty: &[PublicKey]) -> bool {
        std::iter::once(&self.genesis)
            .chain(self.changes.iter().map(|(_, set)| set))
            .all(|set| {
                let power: u64 = set
                    .validators()
                    .iter()
                    .filter(|v| faulty.contains(&v.public_key))
                    .map(|v| v.voting_power)
                    .sum();
                power * 3 < set.total_power()
            })
    }
}

/// How a process behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Behaviour {
    Honest,
    Equivocator,
    DoubleVoter,
    Silent,
    /// A twin: an honest machine whose key another process also runs.
    Twin,
}

/// A simulated block: just enough to be proposed, validated and synced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct SimBlock {
    height: u64,
    proposer: PublicKey,
    id: BlockId,
    valid: bool,
}

#[derive(Clone, Debug)]
enum NetMessage {
    /// Encoded consensus message (decoded on delivery, as on the real wire).
    Consensus(Vec<u8>),
    Block {
        block: SimBlock,
        round: u32,
        valid_round: Option<u32>,
    },
    SyncRequest {
        height: u64,
    },
    SyncResponse {
        block: SimBlock,
        certificate: CommitCertificate,
        peer_height: u64,
    },
}

#[derive(Clone, Debug)]
enum Event {
    Deliver {
        to: usize,
        from: usize,
        message: NetMessage,
    },
    Timer {
        node: usize,
        timeout: TimeoutId,
        generation: u64,
    },
    BlockBuilt {
        node: usize,
        height: u64,
        round: u32,
        block_id: BlockId,
        epoch: u64,
    },
    Crash {
        node: usize,
    },
    Restart {
        node: usize,
    },
    /// A follower asks a peer for its next block.
    Follow {
        node: usize,
        epoch: u64,
    },
}

struct Process {
    key: SigningKey,
    behaviour: Behaviour,
    /// False while crashed. An up process without a machine is a follower.
    up: bool,
    machine: Option<Consensus>,
    /// Bumped at every crash and whenever the process turns follower, so events of a previous
    /// life or machine are ignored.
    epoch: u64,
    // Durable state: survives crashes.
    wal: Vec<WalEntry>,
    committed: BTreeMap<u64, (BlockId, CommitCertificate)>,
    blocks: BTreeMap<BlockId, SimBlock>,
    evidence: BTreeSet<Vec<u8>>,
    // Volatile state.
    timers: BTreeMap<TimeoutId, u64>,
    last_sync_request_ms: u64,
    /// Conflicting blocks an equivocator made, by (height, round).
    twins_of: BTreeMap<(u64, u32), SimBlock>,
}

impl Process {
    fn height(&self) -> u64 {
        self.committed.keys().next_back().map_or(1, |h| h + 1)
    }

    fn is_honest(&self) -> bool {
        self.behaviour == Behaviour::Honest
    }
}

/// A partition: during `[start, end)`, messages between different groups are dropped.
#[derive(Clone, Debug)]
struct Partition {
    start_ms: u64,
    end_ms: u64,
    group_of: Vec<usize>,
}

/// What a run is asked to do.
#[derive(Clone, Copy, Debug)]
pub struct SimConfig {
    pub seed: u64,
    pub validators: usize,
    pub mix: FaultMix,
    /// After the network heals, every honest node must commit this many more heights.
    pub heights_after_heal: u64,
    /// Whether the validator set changes during the run.
    pub set_changes: SetChanges,
}

impl SimConfig {
    /// The one-line command that replays this run.
    pub fn replay_command(&self) -> String {
        format!(
            "COURTLEDGER_SIM_SEED={} COURTLEDGER_SIM_VALIDATORS={} COURTLEDGER_SIM_MIX={} \
             COURTLEDGER_SIM_SET_CHANGES={} \
             cargo test -p courtledger-consensus --test simulation replay -- --ignored --nocapture",
            self.seed,
            self.validators,
            self.mix.name(),
            self.set_changes.name()
        )
    }
}

/// What a run found.
#[derive(Clone, Debug, Default)]
pub struct SimReport {
    pub violations: Vec<String>,
    pub trace_hash: String,
    pub heights_committed: u64,
    pub events: u64,
    pub end_ms: u64,
    pub evidence: usize,
    /// The validator-set schedule followed.
    pub schedule: String,
    /// Blocks honest followers committed by sync (verified with the set of their height).
    pub follower_commits: u64,
    /// Heights at or after a joiner's first height where an honest node's certificate carries
    /// the joiner's precommit (summed over joiners).
    pub joiner_certificates: u64,
    /// Heights a removed Byzantine validator decided while still signing with its old set.
    pub zombie_commits: u64,
}

impl fmt::Display for SimReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} events, {} simulated ms, {} heights committed by honest nodes, {} evidence, {} violations",
            self.events,
            self.end_ms,
            self.heights_committed,
            self.evidence,
            self.violations.len()
        )?;
        if !self.schedule.is_empty() {
            write!(
                f,
                "; sets [{}], {} follower commits, {} heights signed by joiners, {} zombie commits",
                self.schedule, self.follower_commits, self.joiner_certificates, self.zombie_commits
            )?;
        }
        Ok(())
    }
}

const TIMEOUTS: TimeoutParams = TimeoutParams {
    propose_ms: 300,
    prevote_ms: 100,
    precommit_ms: 100,
    delta_ms: 50,
};
/// Faults happen before this time; after it the network is clean and crashed nodes are back.
const HEAL_MS: u64 = 3_000;
/// After healing, every honest node must reach the target height within this.
const LIVENESS_BOUND_MS: u64 = 30_000;
/// How long a proposer takes to build a block (the block interval, in effect).
const BUILD_MS: (u64, u64) = (20, 120);
/// How often a follower asks a random peer for its next block.
const FOLLOW_MS: u64 = 100;

struct Sim {
    config: SimConfig,
    rng: Rng,
    chain_id: ChainId,
    sets: SetSchedule,
    /// Key holders: the initial validators, then the joiners (twins come after).
    universe: usize,
    processes: Vec<Process>,
    queue: BinaryHeap<Reverse<(u64, u64)>>,
    events: BTreeMap<u64, Event>,
    next_seq: u64,
    now_ms: u64,
    partitions: Vec<Partition>,
    drop_percent: u64,
    duplicate_percent: u64,
    /// The first honest commit of each height.
    decided: BTreeMap<u64, BlockId>,
    /// Heights of the certificates committed by honest nodes that carry each key's precommit.
    signed: BTreeMap<PublicKey, BTreeSet<u64>>,
    /// Precommit signatures the checker already verified: `(height, round, block, signer,
    /// signature)`. Every node's certificate of a height repeats most of them.
    verified: BTreeSet<(u64, u32, BlockId, PublicKey, [u8; 64])>,
    /// Certificate signatures already found not to be a removed validator's precommit:
    /// `(removed key, height, round, block, signature)`. Nodes share most signatures of a height.
    not_removed: BTreeSet<(usize, u64, u32, BlockId, [u8; 64])>,
    /// Set when the network heals: the height every honest node must pass.
    target_height: Option<u64>,
    report: SimReport,
    trace: Sha256Hasher,
}

impl Sim {
    fn new(config: SimConfig) -> Self {
        let mut rng = Rng::new(config.seed);
        let n = config.validators;
        let universe = n + config.set_changes.joiners(n);
        let keys: Vec<SigningKey> = (0..universe)
            .map(|i| {
                let mut seed = [0u8; 32];
                seed[..8].copy_from_slice(&config.seed.to_be_bytes());
                seed[8] = u8::try_from(i).unwrap();
                SigningKey::from_seed(&sha256(&seed).0)
            })
            .collect();
        let genesis = ValidatorSet::new(
            keys[..n]
                .iter()
                .map(|k| Validator {
                    public_key: k.public_key(),
                    voting_power: 1,
                })
                .collect(),
        )
        .unwrap();
        let chain_id = ChainId(sha256(b"courtledger-simulation"));
        let public_keys: Vec<PublicKey> = keys.iter().map(SigningKey::public_key).collect();
        let sets = if config.set_changes.enabled() {
            SetSchedule::seeded(&mut rng, genesis, &public_keys, n)
        } else {
            SetSchedule::fixed(genesis)
        };
        let mut behaviours = vec![Behaviour::Honest; universe];
        let mut twins: Vec<usize> = Vec::new();
        let byzantine = if config.set_changes.enabled() {
            // The one Byzantine key must hold less than a third of every set's power. A third
            // of the time it is the removed validator's, which then keeps signing (a zombie).
            let candidates: Vec<usize> = (0..universe)
                .filter(|i| sets.tolerates(&public_keys[*i..=*i]))
                .collect();
            match sets.removals.first() {
                Some((removed, _)) if rng.chance(33) && candidates.contains(removed) => *removed,
                _ => candidates[rng.pick(candidates.len())],
            }
        } else {
            rng.pick(n)
        };
        match config.mix {
            FaultMix::Equivocator => behaviours[byzantine] = Behaviour::Equivocator,
            FaultMix::DoubleVoter => behaviours[byzantine] = Behaviour::DoubleVoter,
            FaultMix::Silent => behaviours[byzantine] = Behaviour::Silent,
            FaultMix::Mixed => {
                behaviours[byzantine] = [
                    Behaviour::Equivocator,
                    Behaviour::DoubleVoter,
                    Behaviour::Silent,
                ][rng.pick(3)];
            }
            FaultMix::Twins => {
                behaviours[byzantine] = Behaviour::Twin;
                twins.push(byzantine);
            }
            FaultMix::TooManyTwins => {
                let second = (byzantine + 1 + rng.pick(universe - 1)) % universe;
                for index in [byzantine, second] {
                    behaviours[index] = Behaviour::Twin;
                    twins.push(index);
                }
            }
            FaultMix::None | FaultMix::Network | FaultMix::Crashes => {}
        }
        let mut processes: Vec<Process> = keys
            .iter()
            .zip(&behaviours)
            .map(|(key, behaviour)| Process::new(key.clone(), *behaviour))
            .collect();
        for index in &twins {
            processes.push(Process::new(keys[*index].clone(), Behaviour::Twin));
        }
        let mut sim = Sim {
            config,
            rng,
            chain_id,
            sets,
            universe,
            processes,
            queue: BinaryHeap::new(),
            events: BTreeMap::new(),
            next_seq: 0,
            now_ms: 0,
            partitions: Vec::new(),
            drop_percent: 0,
            duplicate_percent: 0,
            decided: BTreeMap::new(),
            signed: BTreeMap::new(),
            not_removed: BTreeSet::new(),
            verified: BTreeSet::new(),
            target_height: None,
            report: SimReport::default(),
            trace: Sha256Hasher::new(),
        };
        sim.plan_faults();
        sim
    }

    fn plan_faults(&mut self) {
        let count = self.processes.len();
        if self.config.mix.network_faults() {
            self.drop_percent = self.rng.range(1, 15);
            self.duplicate_percent = self.rng.range(0, 10);
            let windows = self.rng.range(1, 3);
            for _ in 0..windows {
                let start_ms = self.rng.range(0, HEAL_MS - 500);
                let end_ms = (start_ms + self.rng.range(200, 3_000)).min(HEAL_MS);
                let group_of = match self.rng.pick(3) {
                    // One process isolated.
                    0 => {
                        let alone = self.rng.pick(count);
                        (0..count).map(|i| usize::from(i == alone)).collect()
                    }
                    // A random split into two groups.
                    _ => (0..count).map(|_| self.rng.pick(2)).collect(),
                };
                self.partitions.push(Partition {
                    start_ms,
                    end_ms,
                    group_of,
                });
            }
        }
        if self.config.mix == FaultMix::TooManyTwins {
            // Split so that each side holds one twin of each duplicated key.
            let twin_indices: Vec<usize> = (0..count)
                .filter(|i| self.processes[*i].behaviour == Behaviour::Twin)
                .collect();
            let mut group_of = vec![0; count];
            let mut side_of_key: BTreeMap<PublicKey, usize> = BTreeMap::new();
            for index in twin_indices {
                let key = self.processes[index].key.public_key();
                let side = side_of_key.entry(key).and_modify(|s| *s = 1).or_insert(0);
                group_of[index] = *side;
            }
            for (index, group) in group_of.iter_mut().enumerate() {
                if self.processes[index].behaviour != Behaviour::Twin {
                    *group = self.rng.pick(2);
                }
            }
            self.partitions.push(Partition {
                start_ms: 0,
                end_ms: HEAL_MS,
                group_of,
            });
        }
        if self.config.mix.crashes() {
            let crashes = self.rng.range(1, 4);
            for _ in 0..crashes {
                let node = self.rng.pick(self.universe);
                if !self.processes[node].is_honest() {
                    continue;
                }
                let at = self.rng.range(0, HEAL_MS - 1_000);
                self.schedule(at, Event::Crash { node });
                let back = (at + self.rng.range(50, 1_500)).min(HEAL_MS);
                self.schedule(back, Event::Restart { node });
            }
        }
    }

    fn schedule(&mut self, at_ms: u64, event: Event) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.queue.push(Reverse((at_ms, seq)));
        self.events.insert(seq, event);
    }

    fn connected(&self, from: usize, to: usize) -> bool {
        !self.partitions.iter().any(|p| {
            (p.start_ms..p.end_ms).contains(&self.now_ms) && p.group_of[from] != p.group_of[to]
        })
    }

    fn send(&mut self, from: usize, to: usize, message: NetMessage) {
        if from == to || self.processes[from].behaviour == Behaviour::Silent {
            return;
        }
        let faulty = self.now_ms < HEAL_MS;
        if faulty && (!self.connected(from, to) || self.rng.chance(self.drop_percent)) {
            return;
        }
        let copies = if faulty && self.rng.chance(self.duplicate_percent) {
            2
        } else {
            1
        };
        for _ in 0..copies {
            let delay = self.rng.range(1, 20);
            self.schedule(
                self.now_ms + delay,
                Event::Deliver {
                    to,
                    from,
                    message: message.clone(),
                },
            );
        }
    }

    fn broadcast(&mut self, from: usize, message: NetMessage) {
        for to in 0..self.processes.len() {
            self.send(from, to, message.clone());
        }
    }

    fn config_for(&self, node: usize, validators: ValidatorSet) -> ConsensusConfig {
        ConsensusConfig {
            chain_id: self.chain_id,
            key: self.processes[node].key.clone(),
            validators,
            timeouts: TIMEOUTS,
        }
    }

    /// Whether `node`'s key is in the set of `height`.
    fn is_member(&self, node: usize, height: u64) -> bool {
        self.sets
            .set_at(height)
            .index_of(&self.processes[node].key.public_key())
            .is_some()
    }

    /// The set a Byzantine process keeps using at `height` after its key was removed: the
    /// last set that held it. Such a zombie keeps proposing and voting with a key no longer in
    /// the set; honest nodes must ignore it. `None` for honest processes and twins (they
    /// follow), and for members.
    fn zombie_set(&self, node: usize, height: u64) -> Option<ValidatorSet> {
        if !matches!(
            self.processes[node].behaviour,
            Behaviour::Equivocator | Behaviour::DoubleVoter | Behaviour::Silent
        ) || self.is_member(node, height)
        {
            return None;
        }
        let key = self.processes[node].key.public_key();
        (1..height)
            .rev()
            .map(|h| self.sets.set_at(h))
            .find(|set| set.index_of(&key).is_some())
            .cloned()
    }

    /// Starts (or restarts) `node` at the height after its last commit: a machine built with
    /// that height's set if the set includes it, a follower otherwise.
    fn start_node(&mut self, node: usize) {
        self.processes[node].up = true;
        let height = self.processes[node].height();
        if let Some(stale) = self.zombie_set(node, height) {
            self.start_machine(node, height, stale);
        } else if self.is_member(node, height) {
            let validators = self.sets.set_at(height).clone();
            self.start_machine(node, height, validators);
        } else {
            self.become_follower(node);
        }
    }

    fn start_machine(&mut self, node: usize, height: u64, validators: ValidatorSet) {
        let wal = self.processes[node].wal.clone();
        let config = self.config_for(node, validators);
        match Consensus::new(config, height, &wal, self.now_ms) {
            Ok((machine, actions)) => {
                self.processes[node].machine = Some(machine);
                self.execute(node, actions);
            }
            Err(error) => self.violation(format!("node {node} failed to start: {error}")),
        }
    }

    /// Drops `node`'s machine (if any): it follows the chain by sync from now on.
    fn become_follower(&mut self, node: usize) {
        let process = &mut self.processes[node];
        process.machine = None;
        process.epoch += 1;
        process.timers.clear();
        let epoch = process.epoch;
        self.schedule(self.now_ms + FOLLOW_MS, Event::Follow { node, epoch });
    }

    /// A follower asks a random peer for its next block, and asks again later.
    fn follow_tick(&mut self, node: usize, epoch: u64) {
        let process = &self.processes[node];
        if !process.up || process.epoch != epoch || process.machine.is_some() {
            return;
        }
        let height = process.height();
        let mut peer = self.rng.pick(self.processes.len() - 1);
        if peer >= node {
            peer += 1;
        }
        self.processes[node].last_sync_request_ms = self.now_ms;
        self.send(node, peer, NetMessage::SyncRequest { height });
        self.schedule(self.now_ms + FOLLOW_MS, Event::Follow { node, epoch });
    }

    /// A follower (or a zombie) checks a synced block's certificate with the set of its height
    /// and commits it; at the first height whose set includes it, it builds a machine with
    /// that set.
    fn follow(&mut self, node: usize, block: SimBlock, certificate: CommitCertificate) {
        let height = certificate.height;
        let set = match self.config.set_changes {
            // The planted bug: the set the follower started with, whatever the height.
            SetChanges::GenesisFollowers => &self.sets.genesis,
            SetChanges::Off | SetChanges::On => self.sets.set_at(height),
        };
        if certificate
            .verify(&self.chain_id, set, height, &block.id)
            .is_err()
        {
            return;
        }
        self.commit(node, height, block.id, certificate);
        if self.processes[node].is_honest() {
            self.report.follower_commits += 1;
        }
        let next = height + 1;
        self.processes[node]
            .wal
            .retain(|entry| entry.height() >= next);
        if let Some(stale) = self.zombie_set(node, next) {
            // A zombie keeps up with the chain, and signs at its tip with its old set.
            let process = &mut self.processes[node];
            process.epoch += 1;
            process.timers.clear();
            self.start_machine(node, next, stale);
        } else if self.is_member(node, next) {
            let validators = self.sets.set_at(next).clone();
            self.start_machine(node, next, validators);
        }
    }

    fn violation(&mut self, text: String) {
        if self.report.violations.len() < 20 {
            self.report
                .violations
                .push(format!("t={}ms: {text}", self.now_ms));
        }
    }

    fn feed(&mut self, node: usize, input: Input) {
        let Some(machine) = self.processes[node].machine.as_mut() else {
            return;
        };
        match machine.handle(self.now_ms, input) {
            Ok(actions) => self.execute(node, actions),
            Err(error) => {
                self.violation(format!("node {node} stopped: {error}"));
                self.processes[node].machine = None;
            }
        }
    }

    fn crash(&mut self, node: usize) {
        let process = &mut self.processes[node];
        process.up = false;
        process.machine = None;
        process.epoch += 1;
        process.timers.clear();
    }

    fn execute(&mut self, node: usize, actions: Vec<Action>) {
        let crash_midway = self.config.mix.crashes()
            && self.now_ms < HEAL_MS
            && self.processes[node].is_honest()
            && self.rng.chance(1);
        let mut start = None;
        for action in actions {
            if self.processes[node].machine.is_none() {
                return;
            }
            let persisted = matches!(action, Action::Persist(_));
            if let Action::NewHeight { height } = action {
                start = Some(height);
            }
            self.apply(node, action);
            if persisted && crash_midway {
                // Crash between persisting and sending: the rest of the actions are lost.
                self.crash(node);
                let back = self.now_ms + self.rng.range(50, 800);
                self.schedule(back.min(HEAL_MS), Event::Restart { node });
                return;
            }
        }
        // Once the decided block is committed, the next height starts with its set, or the
        // machine stops if that set excludes this node.
        if let Some(height) = start {
            if let Some(validators) = self.zombie_set(node, height) {
                self.feed(node, Input::StartHeight { height, validators });
            } else if self.is_member(node, height) {
                let validators = self.sets.set_at(height).clone();
                self.feed(node, Input::StartHeight { height, validators });
            } else {
                self.become_follower(node);
            }
        }
    }

    fn apply(&mut self, node: usize, action: Action) {
        match action {
            Action::Persist(entry) => {
                // Round-trip through the log's encoding, as a disk would.
                let decoded = WalEntry::decode(&entry.to_bytes()).expect("WAL entry round-trips");
                self.processes[node].wal.push(decoded);
            }
            Action::Broadcast(message) => self.broadcast_consensus(node, message),
            Action::ScheduleTimeout { timeout, at_ms } => {
                let generation = self.next_seq;
                self.processes[node].timers.insert(timeout, generation);
                self.schedule(
                    at_ms,
                    Event::Timer {
                        node,
                        timeout,
                        generation,
                    },
                );
            }
            Action::CancelTimeout(timeout) => {
                self.processes[node].timers.remove(&timeout);
            }
            Action::CancelAllTimeouts => self.processes[node].timers.clear(),
            Action::RequestBlock { height, round, .. } => self.build_block(node, height, round),
            Action::GossipBlock {
                height: _,
                round,
                valid_round,
                block_id,
            } => {
                if let Some(block) = self.processes[node].blocks.get(&block_id).copied() {
                    self.broadcast(
                        node,
                        NetMessage::Block {
                            block,
                            round,
                            valid_round,
                        },
                    );
                }
            }
            Action::Commit {
                height,
                block_id,
                certificate,
            } => self.commit(node, height, block_id, certificate),
            Action::NewHeight { height } => {
                self.processes[node]
                    .wal
                    .retain(|entry| entry.height() >= height);
            }
            Action::Evidence(evidence) => {
                if let Err(error) = evidence.verify(&self.chain_id) {
                    self.violation(format!("node {node} reported invalid evidence: {error}"));
                }
                if self.processes[evidence_offender_index(&self.processes, &evidence)].is_honest() {
                    self.violation(format!(
                        "node {node} accused an honest validator: {evidence:?}"
                    ));
                }
                let evidence =
                    Evidence::decode(&evidence.to_bytes()).expect("evidence round-trips");
                self.processes[node].evidence.insert(evidence.to_bytes());
            }
            Action::SyncRejected { .. } => {}
        }
    }

    fn commit(
        &mut self,
        node: usize,
        height: u64,
        block_id: BlockId,
        certificate: CommitCertificate,
    ) {
        if self.zombie_set(node, height).is_some() {
            // A zombie decides with its stale set: its certificates need not verify (honest
            // nodes that sync from it must refuse them).
            self.processes[node]
                .committed
                .insert(height, (block_id, certificate));
            self.report.zombie_commits += 1;
            return;
        }
        // Every certificate is checked with the set of its own height.
        let verified = self.verify_certificate(height, &block_id, &certificate);
        let set = self.sets.set_at(height);
        if let Err(error) = verified {
            self.violation(format!(
                "node {node} committed h{height} with a bad certificate: {error}"
            ));
        } else if self.processes[node].is_honest() {
            for signature in &certificate.signatures {
                if let Some(signer) = set.get(signature.validator_index) {
                    self.signed
                        .entry(signer.public_key)
                        .or_default()
                        .insert(height);
                }
            }
        }
        self.check_no_removed_signer(node, height, &certificate);
        if !self.processes[node].blocks.contains_key(&block_id) {
            self.violation(format!(
                "node {node} committed h{height} without holding the block"
            ));
        }
        let expected = self.processes[node].height();
        if height != expected {
            self.violation(format!(
                "node {node} committed h{height}, expected h{expected}"
            ));
        }
        self.processes[node]
            .committed
            .insert(height, (block_id, certificate));
        if self.processes[node].is_honest() {
            match self.decided.get(&height) {
                Some(first) if *first != block_id => {
                    self.violation(format!(
                        "SAFETY: honest node {node} committed {block_id} at h{height}, another honest node committed {first}"
                    ));
                }
                Some(_) => {}
                None => {
                    self.decided.insert(height, block_id);
                }
            }
        }
        if self.config.mix == FaultMix::TooManyTwins {
            // With too many faulty keys, twins act for the majority: track every commit.
            if let Some(first) = self.decided.get(&height) {
                if *first != block_id {
                    self.violation(format!(
                        "SAFETY: node {node} committed a conflicting block at h{height}"
                    ));
                }
            } else {
                self.decided.insert(height, block_id);
            }
        }
    }

    /// [`CommitCertificate::verify`] with the set of `height`, each signature verified once per
    /// run: the same checks (height, block, ascending indices inside the set, valid signatures,
    /// more than two thirds of the power), at a fraction of the cost.
    fn verify_certificate(
        &mut self,
        height: u64,
        block_id: &BlockId,
        certificate: &CommitCertificate,
    ) -> Result<(), CertificateError> {
        let set = self.sets.set_at(height);
        let (precommits, signed_power) = certificate.signed_precommits(set, height, block_id)?;
        for precommit in precommits {
            let checked = (
                height,
                certificate.round,
                *block_id,
                precommit.public_key,
                precommit.signature.0,
            );
            if self.verified.contains(&checked) {
                continue;
            }
            verify(
                &precommit.public_key,
                Domain::Vote,
                &self.chain_id,
                &precommit.message,
                &precommit.signature,
            )
            .map_err(|error| CertificateError::BadSignature {
                index: precommit.validator_index,
                error,
            })?;
            self.verified.insert(checked);
        }
        if !set.is_quorum(signed_power) {
            return Err(CertificateError::NoQuorum {
                signed: signed_power,
                total: set.total_power(),
            });
        }
        Ok(())
    }

    /// No signature of a certificate at or after a removal height is the removed validator's
    /// precommit. Checked by signature, not through the set's indices, so a certificate built
    /// or read with a stale set is caught too.
    fn check_no_removed_signer(
        &mut self,
        node: usize,
        height: u64,
        certificate: &CommitCertificate,
    ) {
        let removed: Vec<usize> = self
            .sets
            .removals
            .iter()
            .filter(|(_, from)| height >= *from)
            .map(|(key, _)| *key)
            .collect();
        for key in removed {
            let precommit = Vote {
                height,
                round: certificate.round,
                kind: VoteKind::Precommit,
                block_id: Some(certificate.block_id),
                validator: self.processes[key].key.public_key(),
            };
            let mut signed_by_removed = false;
            for entry in &certificate.signatures {
                let checked = (
                    key,
                    height,
                    certificate.round,
                    certificate.block_id,
                    entry.signature.0,
                );
                if self.not_removed.contains(&checked) {
                    continue;
                }
                if precommit.verify(&self.chain_id, &entry.signature).is_ok() {
                    signed_by_removed = true;
                } else {
                    self.not_removed.insert(checked);
                }
            }
            if signed_by_removed {
                self.violation(format!(
                    "REMOVED: node {node} committed h{height} with a precommit of k{key}, removed from the set before it"
                ));
            }
        }
    }

    /// Every honest joiner's precommit is in some honest node's certificate at or after the
    /// height it joined at: it took part, it did not merely follow.
    fn check_joiners_signed(&mut self) {
        let joins = self.sets.joins.clone();
        for (key, from) in joins {
            if !self.processes[key].is_honest() {
                continue;
            }
            let public_key = self.processes[key].key.public_key();
            let signed = self
                .signed
                .get(&public_key)
                .map_or(0, |heights| heights.range(from..).count());
            self.report.joiner_certificates += signed as u64;
            if signed == 0 {
                let reached = self.processes[key].height() - 1;
                self.violation(format!(
                    "JOINER: k{key} joined at h{from} but its precommit is in no honest certificate (it committed up to h{reached})"
                ));
            }
        }
    }

    fn new_block(&mut self, node: usize, height: u64, round: u32, nonce: u64) -> SimBlock {
        let proposer = self.processes[node].key.public_key();
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&height.to_be_bytes());
        bytes.extend_from_slice(&round.to_be_bytes());
        bytes.extend_from_slice(proposer.as_bytes());
        bytes.extend_from_slice(&(node as u64).to_be_bytes());
        bytes.extend_from_slice(&nonce.to_be_bytes());
        SimBlock {
            height,
            proposer,
            id: sha256(&bytes),
            valid: true,
        }
    }

    fn build_block(&mut self, node: usize, height: u64, round: u32) {
        let block = self.new_block(node, height, round, 0);
        self.processes[node].blocks.insert(block.id, block);
        if self.processes[node].behaviour == Behaviour::Equivocator {
            let other = self.new_block(node, height, round, 1);
            self.processes[node].blocks.insert(other.id, other);
            self.processes[node].twins_of.insert((height, round), other);
            for to in 0..self.processes.len() {
                let sent = if to % 2 == 0 { block } else { other };
                self.send(
                    node,
                    to,
                    NetMessage::Block {
                        block: sent,
                        round,
                        valid_round: None,
                    },
                );
            }
        } else {
            self.broadcast(
                node,
                NetMessage::Block {
                    block,
                    round,
                    valid_round: None,
                },
            );
        }
        let epoch = self.processes[node].epoch;
        let at = self.now_ms + self.rng.range(BUILD_MS.0, BUILD_MS.1);
        self.schedule(
            at,
            Event::BlockBuilt {
                node,
                height,
                round,
                block_id: block.id,
                epoch,
            },
        );
    }

    fn broadcast_consensus(&mut self, node: usize, message: ConsensusMessage) {
        let behaviour = self.processes[node].behaviour;
        let own = self.processes[node].key.public_key();
        let signer = match &message {
            ConsensusMessage::Vote(vote) => Some(vote.vote.validator),
            ConsensusMessage::Proposal(proposal) => Some(proposal.proposal.proposer),
            ConsensusMessage::Polka(_) | ConsensusMessage::Round(_) => None,
        };
        let height = message.height();
        if self.processes[node].is_honest()
            && signer.is_some_and(|key| self.sets.set_at(height).index_of(&key).is_none())
        {
            self.violation(format!(
                "NON-MEMBER: node {node} signed a vote or proposal at h{height}, whose set excludes it"
            ));
        }
        let bytes = message.to_bytes();
        match (&message, behaviour) {
            (ConsensusMessage::Proposal(proposal), Behaviour::Equivocator)
                if proposal.proposal.proposer == own =>
            {
                let slot = (proposal.proposal.height, proposal.proposal.round);
                if let Some(other) = self.processes[node].twins_of.get(&slot).copied() {
                    let forged = Proposal {
                        block_id: other.id,
                        ..proposal.proposal
                    }
                    .sign(&self.processes[node].key, &self.chain_id);
                    let forged = ConsensusMessage::Proposal(forged).to_bytes();
                    for to in 0..self.processes.len() {
                        let sent = if to % 2 == 0 {
                            bytes.clone()
                        } else {
                            forged.clone()
                        };
                        self.send(node, to, NetMessage::Consensus(sent));
                    }
                    return;
                }
            }
            (ConsensusMessage::Vote(vote), Behaviour::DoubleVoter)
                if vote.vote.validator == own =>
            {
                let conflicting = Vote {
                    block_id: match vote.vote.block_id {
                        Some(_) => None,
                        None => Some(sha256(&self.rng.next_u64().to_be_bytes())),
                    },
                    ..vote.vote
                }
                .sign(&self.processes[node].key, &self.chain_id);
                let conflicting = ConsensusMessage::Vote(conflicting).to_bytes();
                for to in 0..self.processes.len() {
                    let sent = if to % 2 == 0 {
                        bytes.clone()
                    } else {
                        conflicting.clone()
                    };
                    self.send(node, to, NetMessage::Consensus(sent));
                }
                return;
            }
            _ => {}
        }
        self.broadcast(node, NetMessage::Consensus(bytes));
    }

    fn deliver(&mut self, to: usize, from: usize, message: NetMessage) {
        if !self.processes[to].up {
            return;
        }
        // A follower only syncs: consensus traffic tells it how far the chain is.
        let follower = self.processes[to].machine.is_none();
        match message {
            NetMessage::Consensus(bytes) => {
                let message = match ConsensusMessage::decode(&bytes) {
                    Ok(message) => message,
                    Err(error) => {
                        self.violation(format!("node {to} could not decode a message: {error}"));
                        return;
                    }
                };
                self.maybe_request_sync(to, from, message.height());
                if !follower {
                    self.feed(to, Input::Message(message));
                }
            }
            NetMessage::Block {
                block,
                round,
                valid_round,
            } => {
                self.processes[to].blocks.insert(block.id, block);
                let height = self.processes[to]
                    .machine
                    .as_ref()
                    .map_or(0, Consensus::height);
                self.maybe_request_sync(to, from, block.height);
                if !follower && block.height >= height {
                    self.feed(
                        to,
                        Input::BlockReceived(ProposedBlock {
                            height: block.height,
                            round,
                            valid_round,
                            proposer: block.proposer,
                            block_id: block.id,
                            valid: block.valid,
                        }),
                    );
                }
            }
            NetMessage::SyncRequest { height } => {
                let process = &self.processes[to];
                if let Some((block_id, certificate)) = process.committed.get(&height) {
                    let block = process.blocks[block_id];
                    let peer_height = process.height() - 1;
                    let certificate = certificate.clone();
                    self.send(
                        to,
                        from,
                        NetMessage::SyncResponse {
                            block,
                            certificate,
                            peer_height,
                        },
                    );
                }
            }
            NetMessage::SyncResponse {
                block,
                certificate,
                peer_height,
            } => {
                let height = match &self.processes[to].machine {
                    Some(machine) => machine.height(),
                    None => self.processes[to].height(),
                };
                if block.id != certificate.block_id || block.height != certificate.height {
                    return;
                }
                self.processes[to].blocks.insert(block.id, block);
                if certificate.height == height {
                    if follower || self.zombie_set(to, height).is_some() {
                        self.follow(to, block, certificate);
                    } else {
                        self.feed(
                            to,
                            Input::SyncedBlock {
                                certificate,
                                proposer: block.proposer,
                            },
                        );
                    }
                    // Whether it still follows or now runs a machine, it commits one height at
                    // a time: ask the same peer for the next one.
                    let now_height = self.processes[to].height();
                    if self.processes[to].up && peer_height >= now_height && now_height > height {
                        self.send(to, from, NetMessage::SyncRequest { height: now_height });
                    }
                }
            }
        }
    }

    fn maybe_request_sync(&mut self, node: usize, peer: usize, message_height: u64) {
        let process = &mut self.processes[node];
        let height = match &process.machine {
            Some(machine) => machine.height(),
            None => process.height(),
        };
        if message_height > height && self.now_ms >= process.last_sync_request_ms + 100 {
            process.last_sync_request_ms = self.now_ms;
            self.send(node, peer, NetMessage::SyncRequest { height });
        }
    }

    fn honest_done(&self) -> bool {
        self.target_height.is_some_and(|target| {
            self.processes
                .iter()
                .filter(|p| p.is_honest())
                .all(|p| p.height() > target)
        })
    }

    /// Faults end: every crashed process comes back, and the liveness target is set.
    fn heal(&mut self) {
        for node in 0..self.processes.len() {
            if !self.processes[node].up {
                self.start_node(node);
            }
        }
        // Every scheduled set change is passed, and the sets it made run for a while.
        let highest = self.decided.keys().next_back().copied().unwrap_or(0);
        let floor = highest.max(self.sets.last_change());
        self.target_height = Some(floor + self.config.heights_after_heal);
    }

    fn trace_event(&mut self, seq: u64, event: &Event) {
        let mut line = format!("{} {seq} ", self.now_ms);
        match event {
            Event::Deliver { to, from, message } => {
                line.push_str(&format!("deliver {from}->{to} "));
                match message {
                    NetMessage::Consensus(bytes) => {
                        line.push_str(&courtledger_crypto::sha256(bytes).to_string())
                    }
                    NetMessage::Block { block, round, .. } => {
                        line.push_str(&format!("block {} r{round}", block.id))
                    }
                    NetMessage::SyncRequest { height } => line.push_str(&format!("sync? {height}")),
                    NetMessage::SyncResponse { block, .. } => {
                        line.push_str(&format!("sync! {}", block.id))
                    }
                }
            }
            Event::Timer { node, timeout, .. } => {
                line.push_str(&format!("timer {node} {timeout:?}"))
            }
            Event::BlockBuilt { node, block_id, .. } => {
                line.push_str(&format!("built {node} {block_id}"))
            }
            Event::Crash { node } => line.push_str(&format!("crash {node}")),
            Event::Restart { node } => line.push_str(&format!("restart {node}")),
            Event::Follow { node, .. } => line.push_str(&format!("follow {node}")),
        }
        self.trace.update(line.as_bytes());
    }

    fn run(mut self) -> SimReport {
        for node in 0..self.processes.len() {
            self.start_node(node);
        }
        let deadline = HEAL_MS + LIVENESS_BOUND_MS;
        while let Some(Reverse((at_ms, seq))) = self.queue.pop() {
            if at_ms > deadline || self.honest_done() {
                break;
            }
            if at_ms >= HEAL_MS && self.target_height.is_none() {
                self.now_ms = HEAL_MS;
                self.heal();
            }
            self.now_ms = at_ms;
            let event = self.events.remove(&seq).expect("scheduled event");
            self.trace_event(seq, &event);
            self.report.events += 1;
            match event {
                Event::Deliver { to, from, message } => self.deliver(to, from, message),
                Event::Timer {
                    node,
                    timeout,
                    generation,
                } => {
                    if self.processes[node].timers.get(&timeout) == Some(&generation) {
                        self.processes[node].timers.remove(&timeout);
                        self.feed(node, Input::Timeout(timeout));
                    }
                }
                Event::BlockBuilt {
                    node,
                    height,
                    round,
                    block_id,
                    epoch,
                } => {
                    if self.processes[node].epoch == epoch {
                        self.feed(
                            node,
                            Input::BlockBuilt {
                                height,
                                round,
                                block_id,
                            },
                        );
                    }
                }
                Event::Crash { node } => self.crash(node),
                Event::Restart { node } => {
                    if !self.processes[node].up {
                        self.start_node(node);
                    }
                }
                Event::Follow { node, epoch } => self.follow_tick(node, epoch),
            }
        }
        let target = self.target_height.unwrap_or(0);
        let laggards: Vec<u64> = self
            .processes
            .iter()
            .filter(|p| p.is_honest())
            .map(Process::height)
            .filter(|h| *h <= target)
            .collect();
        if self.config.mix != FaultMix::TooManyTwins && !laggards.is_empty() {
            self.violation(format!(
                "LIVENESS: honest nodes did not pass height {target} within {LIVENESS_BOUND_MS} ms of the network healing: their next heights are {laggards:?}"
            ));
        }
        if self.config.mix != FaultMix::TooManyTwins {
            self.check_joiners_signed();
        }
        if self.config.set_changes.enabled() {
            self.report.schedule = self.sets.description.clone();
        }
        self.report.end_ms = self.now_ms;
        self.report.heights_committed = self.decided.len() as u64;
        self.report.evidence = self.processes.iter().map(|p| p.evidence.len()).sum();
        self.report.trace_hash = self.trace.clone().finalize().to_string();
        self.report
    }
}

fn evidence_offender_index(processes: &[Process], evidence: &Evidence) -> usize {
    let offender = evidence.offender();
    processes
        .iter()
        .position(|p| p.key.public_key() == offender)
        .expect("offender is a validator")
}

impl Process {
    fn new(key: SigningKey, behaviour: Behaviour) -> Self {
        Self {
            key,
            behaviour,
            up: false,
            machine: None,
            epoch: 0,
            wal: Vec::new(),
            committed: BTreeMap::new(),
            blocks: BTreeMap::new(),
            evidence: BTreeSet::new(),
            timers: BTreeMap::new(),
            last_sync_request_ms: 0,
            twins_of: BTreeMap::new(),
        }
    }
}

/// Runs one simulation.
pub fn run(config: SimConfig) -> SimReport {
    Sim::new(config).run()
}
