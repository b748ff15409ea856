//! A deterministic, single-threaded simulation of N validators running the real consensus
//! machine over a simulated network, with an in-memory durable log per node.
//!
//! One seed drives everything: message delays, drops, duplicates, partitions, crashes and
//! restarts (including a crash between persisting and sending), and Byzantine behaviour. The
//! checker runs after every step: no two honest validators commit different blocks at a height,
//! every commit certificate verifies against the validator set, every piece of evidence
//! verifies; at the end, once the network has healed and every crashed node restarted, all
//! honest validators must have reached the target height within a bounded simulated time.

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
use courtledger_crypto::{sha256, ChainId, PublicKey, Sha256Hasher, SigningKey};
use courtledger_types::{BlockId, CommitCertificate, Validator, ValidatorSet, Vote};

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
}

struct Process {
    key: SigningKey,
    behaviour: Behaviour,
    machine: Option<Consensus>,
    /// Bumped at every crash, so events of a previous life are ignored.
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
}

impl SimConfig {
    /// The one-line command that replays this run.
    pub fn replay_command(&self) -> String {
        format!(
            "COURTLEDGER_SIM_SEED={} COURTLEDGER_SIM_VALIDATORS={} COURTLEDGER_SIM_MIX={} \
             cargo test -p courtledger-consensus --test simulation replay -- --ignored --nocapture",
            self.seed,
            self.validators,
            self.mix.name()
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
        )
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

struct Sim {
    config: SimConfig,
    rng: Rng,
    chain_id: ChainId,
    validators: ValidatorSet,
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
    /// Set when the network heals: the height every honest node must pass.
    target_height: Option<u64>,
    report: SimReport,
    trace: Sha256Hasher,
}

impl Sim {
    fn new(config: SimConfig) -> Self {
        let mut rng = Rng::new(config.seed);
        let keys: Vec<SigningKey> = (0..config.validators)
            .map(|i| {
                let mut seed = [0u8; 32];
                seed[..8].copy_from_slice(&config.seed.to_be_bytes());
                seed[8] = u8::try_from(i).unwrap();
                SigningKey::from_seed(&sha256(&seed).0)
            })
            .collect();
        let validators = ValidatorSet::new(
            keys.iter()
                .map(|k| Validator {
                    public_key: k.public_key(),
                    voting_power: 1,
                })
                .collect(),
        )
        .unwrap();
        let chain_id = ChainId(sha256(b"courtledger-simulation"));
        let n = config.validators;
        let mut behaviours = vec![Behaviour::Honest; n];
        let mut twins: Vec<usize> = Vec::new();
        let byzantine = rng.pick(n);
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
                let second = (byzantine + 1 + rng.pick(n - 1)) % n;
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
            validators,
            processes,
            queue: BinaryHeap::new(),
            events: BTreeMap::new(),
            next_seq: 0,
            now_ms: 0,
            partitions: Vec::new(),
            drop_percent: 0,
            duplicate_percent: 0,
            decided: BTreeMap::new(),
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
                let node = self.rng.pick(self.config.validators);
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

    fn config_for(&self, node: usize) -> ConsensusConfig {
        ConsensusConfig {
            chain_id: self.chain_id,
            key: self.processes[node].key.clone(),
            validators: self.validators.clone(),
            timeouts: TIMEOUTS,
        }
    }

    fn start_node(&mut self, node: usize) {
        let height = self.processes[node].height();
        let wal = self.processes[node].wal.clone();
        let config = self.config_for(node);
        match Consensus::new(config, height, &wal, self.now_ms) {
            Ok((machine, actions)) => {
                self.processes[node].machine = Some(machine);
                self.execute(node, actions);
            }
            Err(error) => self.violation(format!("node {node} failed to start: {error}")),
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
        // Once the decided block is committed, the next height starts with its set.
        if let Some(height) = start {
            let validators = self.validators.clone();
            self.feed(node, Input::StartHeight { height, validators });
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
        if let Err(error) = certificate.verify(&self.chain_id, &self.validators, height, &block_id)
        {
            self.violation(format!(
                "node {node} committed h{height} with a bad certificate: {error}"
            ));
        }
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
        if self.processes[to].machine.is_none() {
            return;
        }
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
                self.feed(to, Input::Message(message));
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
                if block.height >= height {
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
                let height = self.processes[to]
                    .machine
                    .as_ref()
                    .map_or(0, Consensus::height);
                if block.id != certificate.block_id || block.height != certificate.height {
                    return;
                }
                self.processes[to].blocks.insert(block.id, block);
                if certificate.height == height {
                    self.feed(
                        to,
                        Input::SyncedBlock {
                            certificate,
                            proposer: block.proposer,
                        },
                    );
                    let now_height = self.processes[to]
                        .machine
                        .as_ref()
                        .map_or(0, Consensus::height);
                    if peer_height >= now_height && now_height > height {
                        self.send(to, from, NetMessage::SyncRequest { height: now_height });
                    }
                }
            }
        }
    }

    fn maybe_request_sync(&mut self, node: usize, peer: usize, message_height: u64) {
        let Some(height) = self.processes[node].machine.as_ref().map(Consensus::height) else {
            return;
        };
        let process = &mut self.processes[node];
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
            if self.processes[node].machine.is_none() {
                self.start_node(node);
            }
        }
        let highest = self.decided.keys().next_back().copied().unwrap_or(0);
        self.target_height = Some(highest + self.config.heights_after_heal);
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
                    if self.processes[node].machine.is_none() {
                        self.start_node(node);
                    }
                }
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
