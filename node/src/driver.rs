//! The driver: one thread that owns the consensus machine, the mempool and the write side of the
//! store, and carries out the machine's actions in order.
//!
//! Everything that changes the node's state goes through this thread's inbox (network events,
//! API submissions, shutdown), so there is no locking on the write path. Reads from the API use
//! the store through a read lock.
//!
//! Persistence order, as `courtledger_consensus::engine` requires: write-ahead entries are
//! gathered and written in one synced batch before the next broadcast, commit or height change;
//! a block is stored (synced) before the next height starts; a proposed block's body is stored
//! before its id is handed to consensus, so a restarted node can always produce the block it
//! voted for.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context as _};
use courtledger_chain::{
    activated_change, encoded_block_len, try_build_block, validate_block, BlockError, ChainContext,
    Execution, LedgerApp, Mempool, MempoolError, MempoolLimits, Parent, SetState, StateRead,
};
use courtledger_codec::Encode;
use courtledger_consensus::{
    Action, Consensus, ConsensusConfig, ConsensusMessage, Input, ProposedBlock, TimeoutId,
    TimeoutParams, WalEntry,
};
use courtledger_crypto::{sha256, PublicKey};
use courtledger_network::{Channel, NetworkEvent, NetworkHandle, PeerInfo, Penalty};
use courtledger_storage::{CommittedBlock, ConsensusRecord, RocksStore, StateChange, Store};
use courtledger_types::{
    Block, BlockId, CommitCertificate, Genesis, SignedTransaction, TxId, ValidatorSet,
};
use tokio::sync::oneshot;
use tracing::{debug, info, warn};

use crate::events::Hub;
use crate::metrics::Metrics;
use crate::status::Status;
use crate::wire::{ProposedBlockMessage, SyncMessage, TxBatch, MAX_SYNC_BLOCKS, MAX_TX_BATCH};

/// Consensus record key prefixes.
const WAL_PREFIX: &[u8] = b"wal/";
const BLOCK_PREFIX: &[u8] = b"blk/";
const EVIDENCE_PREFIX: &[u8] = b"evd/";

/// The window over which block pacing measures the committed rate: long enough that a burst
/// on a short height does not count as load.
const RATE_WINDOW: Duration = Duration::from_secs(1);
/// How often gossiped transactions are flushed to peers.
const TX_GOSSIP_INTERVAL: Duration = Duration::from_millis(10);
/// How long received transactions (submissions and gossip) may wait to be verified together
/// with later ones: a batch of signatures costs less per signature the larger it is (ADR 0005;
/// 17.5 µs each in batches of 16, 12.3 µs in batches of 1,024 on the reference machine).
const VERIFY_WAIT: Duration = Duration::from_millis(10);
/// Received transactions verified at once, at most: reaching it verifies without waiting.
const VERIFY_BATCH_TXS: usize = 2048;
/// How long a sync request may stay unanswered before another is sent.
const SYNC_RETRY: Duration = Duration::from_millis(500);
/// The "now" for validating a block that the validators already decided: far enough ahead
/// that the proposer-clock bound never refuses it.
const NO_CLOCK_BOUND_MS: u64 = u64::MAX / 2;
/// Blocks of future heights kept until their height comes.
const MAX_FUTURE_BLOCKS: usize = 16;

/// What the driver is asked to do.
#[derive(Debug)]
pub enum DriverInput {
    /// Something happened on the network.
    Network(Box<NetworkEvent>),
    /// A client submits transactions.
    Submit {
        txs: Vec<SignedTransaction>,
        reply: SubmitReply,
    },
    /// Whether transactions are pending.
    Pending {
        ids: Vec<TxId>,
        reply: oneshot::Sender<Vec<bool>>,
    },
    /// The nonce a signer's next transaction should carry (pending ones counted).
    NextNonce {
        signer: Box<PublicKey>,
        reply: oneshot::Sender<Option<u64>>,
    },
    /// Stop after the current action.
    Shutdown,
}

/// What the driver needs.
pub struct DriverConfig {
    /// The checked genesis.
    pub genesis: Genesis,
    /// This validator's consensus configuration.
    pub consensus: ConsensusConfig,
    /// Mempool bounds.
    pub mempool: MempoolLimits,
    /// How long a proposer with no transaction ready for a block waits for one before building
    /// an empty block.
    pub empty_block_wait: Duration,
    /// Fewer, larger blocks under load.
    pub block_pacing: BlockPacing,
}

/// Block pacing: a network under load (committing at least `min_rate` transactions per second
/// over [`RATE_WINDOW`]) builds each block no sooner than `pace` after its height started, so
/// that each block carries more transactions and the validators' fixed work per block is spread
/// over more.
#[derive(Debug, Clone, Copy)]
pub struct BlockPacing {
    /// How long after its height started a proposer under load builds at the earliest; zero
    /// turns pacing off.
    pub pace: Duration,
    /// The committed rate (transactions per second over [`RATE_WINDOW`]) from which on blocks
    /// are paced.
    pub min_rate: u64,
    /// Ready transactions with which a paced proposer builds at once: a block that large gains
    /// little from waiting.
    pub target_txs: usize,
}

impl BlockPacing {
    /// Until when a proposer holding `ready` transactions (that can go into a block), on a
    /// network committing `rate` transactions per second, waits before building, or `None` to
    /// build now; never later than `latest` (before the other validators' propose timeout).
    fn until(
        &self,
        height_started: Instant,
        now: Instant,
        latest: Instant,
        rate: u64,
        ready: usize,
    ) -> Option<Instant> {
        if self.pace.is_zero() || rate < self.min_rate || ready >= self.target_txs {
            return None;
        }
        let until = height_started.checked_add(self.pace)?.min(latest);
        (now < until).then_some(until)
    }
}

/// A proposed block the node holds, validated or built by itself.
struct Pending {
    block: Block,
    execution: Option<Execution>,
}

/// Where a client's submission gets its verdicts.
type SubmitReply = oneshot::Sender<Vec<Result<TxId, MempoolError>>>;

/// Received transactions waiting to be verified in one batch ([`VERIFY_WAIT`]).
#[derive(Default)]
struct Unverified {
    txs: Vec<SignedTransaction>,
    /// Each arrival in order: how many of `txs` it brought, and where its verdicts go (`None`
    /// for gossip from a peer, which is not gossiped again and gets no answer).
    arrivals: Vec<(usize, Option<SubmitReply>)>,
    /// When the first of them arrived.
    since: Option<Instant>,
}

/// A block request waiting for transactions.
struct BlockRequest {
    height: u64,
    round: u32,
    build_at: Instant,
    /// Held back by block pacing: built at `build_at` (or once enough transactions are
    /// ready), not as soon as a transaction is pending.
    paced: bool,
}

struct StoreState<'a>(&'a RocksStore);

/// Most keys a [`MemoState`] remembers; reads beyond go to the store each time.
const MAX_MEMO_KEYS: usize = 65_536;

/// Committed state with a memo: a key asked for again is not read from the store again. For
/// the reads of one batch of received transactions or of one block's execution, during which
/// committed state cannot change (this thread is its only writer, and holds the read lock);
/// a signer's records are read once per batch rather than once per transaction.
struct MemoState<'a> {
    store: StoreState<'a>,
    memo: RefCell<HashMap<Vec<u8>, Option<Vec<u8>>>>,
}

impl<'a> MemoState<'a> {
    fn new(store: &'a RocksStore) -> Self {
        Self {
            store: StoreState(store),
            memo: RefCell::new(HashMap::new()),
        }
    }
}

impl StateRead for MemoState<'_> {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        if let Some(value) = self.memo.borrow().get(key) {
            return value.clone();
        }
        let value = self.store.get(key);
        let mut memo = self.memo.borrow_mut();
        if memo.len() < MAX_MEMO_KEYS {
            memo.insert(key.to_vec(), value.clone());
        }
        value
    }
}

impl StateRead for StoreState<'_> {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        // A read failure means the database is unusable: stop the node rather than guess.
        self.0.state_get(key).unwrap_or_else(|error| {
            panic!("state read failed, stopping: {error}");
        })
    }
}

/// The driver's state.
pub struct Driver {
    /// The judicial ledger, which gives transactions their meaning.
    app: Arc<LedgerApp>,
    config: DriverConfig,
    store: Arc<RwLock<RocksStore>>,
    network: NetworkHandle,
    status: Arc<Status>,
    metrics: Arc<Metrics>,
    /// Commit events, published after each stored block.
    events: Hub,
    /// The consensus machine while this node is a validator of the height being decided;
    /// `None` while it only follows the chain (by sync), e.g. before a validator-set change
    /// that adds it takes effect, or after one that removes it.
    machine: Option<Consensus>,
    /// The height being decided: one above the last stored block.
    height: u64,
    mempool: Mempool,
    started: Instant,
    timers: BTreeMap<TimeoutId, Instant>,
    pending_wal: Vec<WalEntry>,
    wal_seq: u64,
    blocks: BTreeMap<BlockId, Pending>,
    future_blocks: VecDeque<ProposedBlockMessage>,
    announced: BTreeSet<(u64, u32, BlockId)>,
    gossip: Vec<SignedTransaction>,
    last_gossip: Instant,
    unverified: Unverified,
    block_request: Option<BlockRequest>,
    sync_requested_at: Option<Instant>,
    height_started: Instant,
    /// When the blocks of about the last [`RATE_WINDOW`] were committed, and their
    /// transactions: the committed rate that block pacing ([`BlockPacing`]) looks at.
    recent_commits: VecDeque<(Instant, usize)>,
    /// Consensus records (write-ahead log, proposed blocks) below this height are deleted
    /// ([`prune_range`]).
    pruned_below: u64,
}

fn wall_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn key(prefix: &[u8], height: u64, rest: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(prefix.len() + 8 + rest.len());
    key.extend_from_slice(prefix);
    key.extend_from_slice(&height.to_be_bytes());
    key.extend_from_slice(rest);
    key
}

/// The heights `from..below` whose consensus records to delete when height `height` starts,
/// all below `pruned_below` being deleted already (0 after a start: whatever an earlier run
/// left). `None` when there is nothing new.
///
/// The ranges of successive heights never overlap. Each is one RocksDB range tombstone, and
/// RocksDB fragments the tombstones of a memtable when it flushes it (on every restart, for
/// the ones still in memory): overlapping ranges `[0, h)` for every height `h`, as this did
/// before, fragment into a quadratic number of pieces. A node that had decided 13,000
/// heights since its consensus column was last flushed then needed more than 20 GB to open
/// its database and never started again (found by the nemesis soak, seed 20261130).
fn prune_range(pruned_below: u64, height: u64) -> Option<(u64, u64)> {
    (pruned_below < height).then_some((pruned_below, height))
}

fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    *end.last_mut().expect("non-empty prefix") += 1;
    end
}

impl Driver {
    /// Recovers from the store and starts consensus at the height after the last stored block.
    pub fn start(
        config: DriverConfig,
        store: Arc<RwLock<RocksStore>>,
        network: NetworkHandle,
        status: Arc<Status>,
        metrics: Arc<Metrics>,
        events: Hub,
    ) -> anyhow::Result<Self> {
        let (height, wal, wal_seq, blocks) = {
            let store = store.read().expect("store lock");
            let height = store.last_height() + 1;
            let records =
                store.consensus_range(&key(WAL_PREFIX, height, &[]), &prefix_end(WAL_PREFIX))?;
            // Keys end with a big-endian sequence number; new entries continue after the last.
            let wal_seq = records
                .last()
                .and_then(|record| record.key.last_chunk::<8>())
                .map_or(0, |seq| u64::from_be_bytes(*seq));
            let wal: Vec<WalEntry> = records
                .iter()
                .map(|record| WalEntry::decode(&record.value))
                .collect::<Result<_, _>>()
                .context("the consensus log is corrupt")?;
            let mut blocks = BTreeMap::new();
            for record in
                store.consensus_range(&key(BLOCK_PREFIX, height, &[]), &prefix_end(BLOCK_PREFIX))?
            {
                let block = Block::decode(&record.value, config.genesis.consensus.max_block_bytes)
                    .context("a stored proposed block is corrupt")?;
                blocks.insert(
                    block.header.id(),
                    Pending {
                        block,
                        execution: None,
                    },
                );
            }
            (height, wal, wal_seq, blocks)
        };
        info!(
            height,
            wal_entries = wal.len(),
            pending_blocks = blocks.len(),
            "starting consensus"
        );
        let started = Instant::now();
        let validators = {
            let store = store.read().expect("store lock");
            SetState::load(&StoreState(&store), config.genesis.validator_set())
                .context("the validator-set records are corrupt")?
                .current
        };
        let (machine, actions) = if validators
            .index_of(&config.consensus.key.public_key())
            .is_some()
        {
            let mut consensus = config.consensus.clone();
            consensus.validators = validators;
            let (machine, actions) =
                Consensus::new(consensus, height, &wal, 0).context("consensus could not start")?;
            (Some(machine), actions)
        } else {
            info!(
                height,
                "this node is not a validator of this height: following the chain"
            );
            (None, Vec::new())
        };
        let app = Arc::new(LedgerApp::new(&config.genesis));
        let mempool = Mempool::new(
            config.mempool,
            app.clone(),
            config.genesis.chain_id(),
            config.genesis.validator_set().clone(),
        );
        let mut driver = Self {
            app,
            config,
            store,
            network,
            status,
            metrics,
            events,
            machine,
            height,
            mempool,
            started,
            timers: BTreeMap::new(),
            pending_wal: Vec::new(),
            wal_seq,
            blocks,
            future_blocks: VecDeque::new(),
            announced: BTreeSet::new(),
            gossip: Vec::new(),
            last_gossip: started,
            unverified: Unverified::default(),
            block_request: None,
            sync_requested_at: None,
            height_started: started,
            recent_commits: VecDeque::new(),
            pruned_below: 0,
        };
        driver.publish_status();
        driver.add_validator_peers()?;
        driver.execute(actions)?;
        Ok(driver)
    }

    /// The validator set in force for the next block (from the stored state).
    fn next_validators(&self) -> anyhow::Result<ValidatorSet> {
        let store = self.store.read().expect("store lock");
        Ok(
            SetState::load(&StoreState(&store), self.config.genesis.validator_set())
                .context("the validator-set records are corrupt")?
                .current,
        )
    }

    /// Makes every validator of the set in force and of a pending change a network peer (the
    /// genesis validators are peers from the start).
    fn add_validator_peers(&self) -> anyhow::Result<()> {
        let members = {
            let store = self.store.read().expect("store lock");
            let state = StoreState(&store);
            let sets = SetState::load(&state, self.config.genesis.validator_set())
                .context("the validator-set records are corrupt")?;
            let mut members = Vec::new();
            if let Some(last) = sets.activated.checked_sub(1) {
                if let Some(change) = activated_change(&state, last)? {
                    members.extend(change.change.members);
                }
            }
            if let Some(pending) = sets.pending {
                members.extend(pending.change.members);
            }
            members
        };
        for member in members {
            let public_key = member.validator.public_key;
            if let Err(error) = self.network.add_peer(PeerInfo {
                public_key,
                address: member.p2p_address,
            }) {
                warn!(peer = %public_key, %error, "cannot add a validator as a peer");
            }
        }
        Ok(())
    }

    /// Starts `height` once the block below it is stored: with the consensus machine when this
    /// node is a validator of the height's set (a new machine if it was following), or as a
    /// follower when it is not.
    fn start_height(&mut self, height: u64) -> anyhow::Result<()> {
        let validators = self.next_validators()?;
        let own = self.config.consensus.key.public_key();
        let is_validator = validators.index_of(&own).is_some();
        if self.machine.is_some() && is_validator {
            return self.feed(Input::StartHeight { height, validators });
        }
        if is_validator {
            info!(height, "this node joins the validator set");
            let wal = {
                let store = self.store.read().expect("store lock");
                store
                    .consensus_range(&key(WAL_PREFIX, height, &[]), &prefix_end(WAL_PREFIX))?
                    .iter()
                    .map(|record| WalEntry::decode(&record.value))
                    .collect::<Result<Vec<_>, _>>()
                    .context("the consensus log is corrupt")?
            };
            let mut config = self.config.consensus.clone();
            config.validators = validators;
            let (machine, actions) = Consensus::new(config, height, &wal, self.now_ms())
                .context("consensus could not start")?;
            self.machine = Some(machine);
            return self.execute(actions);
        }
        if self.machine.take().is_some() {
            info!(
                height,
                "this node left the validator set: following the chain"
            );
            self.timers.clear();
            self.block_request = None;
        }
        Ok(())
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn instant_of(&self, ms: u64) -> Instant {
        self.started + Duration::from_millis(ms)
    }

    /// Runs until shutdown or a fatal error.
    pub fn run(mut self, inbox: Receiver<DriverInput>) -> anyhow::Result<()> {
        loop {
            let next = self.next_deadline();
            let wait = next.map_or(Duration::from_millis(50), |at| {
                at.saturating_duration_since(Instant::now())
            });
            match inbox.recv_timeout(wait) {
                Ok(DriverInput::Shutdown) | Err(RecvTimeoutError::Disconnected) => {
                    info!("driver stopping");
                    return Ok(());
                }
                Ok(DriverInput::Network(event)) => self.on_network(*event)?,
                Ok(DriverInput::Submit { txs, reply }) => self.receive_txs(txs, Some(reply)),
                Ok(DriverInput::NextNonce { signer, reply }) => {
                    // Answers count every transaction received before the question.
                    self.verify_received();
                    let store = self.store.read().expect("store lock");
                    let _ = reply.send(self.mempool.next_nonce(&signer, &StoreState(&store)));
                }
                Ok(DriverInput::Pending { ids, reply }) => {
                    self.verify_received();
                    let _ = reply.send(ids.iter().map(|id| self.mempool.contains(id)).collect());
                }
                Err(RecvTimeoutError::Timeout) => {}
            }
            self.fire_due()?;
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        let timer = self.timers.values().min().copied();
        let build = self.block_request.as_ref().map(|request| request.build_at);
        let gossip = (!self.gossip.is_empty()).then(|| self.last_gossip + TX_GOSSIP_INTERVAL);
        let verify = self.unverified.since.map(|since| since + VERIFY_WAIT);
        [timer, build, gossip, verify].into_iter().flatten().min()
    }

    fn fire_due(&mut self) -> anyhow::Result<()> {
        let now = Instant::now();
        let due: Vec<TimeoutId> = self
            .timers
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(id, _)| *id)
            .collect();
        for timeout in due {
            self.timers.remove(&timeout);
            self.feed(Input::Timeout(timeout))?;
        }
        // Received transactions are verified when they have waited long enough, and before a
        // block is built, so that a proposer does not leave them out.
        if self
            .unverified
            .since
            .is_some_and(|since| since + VERIFY_WAIT <= now)
            || (self.block_request.is_some() && self.unverified.since.is_some())
        {
            self.verify_received();
        }
        if self.block_request.as_ref().is_some_and(|r| {
            r.build_at <= now
                || (!r.paced && self.ready_txs() > 0)
                || self.ready_txs() >= self.config.block_pacing.target_txs
        }) {
            let request = self.block_request.take().expect("checked above");
            self.build(request.height, request.round)?;
        }
        if !self.gossip.is_empty() && now >= self.last_gossip + TX_GOSSIP_INTERVAL {
            self.flush_gossip();
        }
        Ok(())
    }

    fn feed(&mut self, input: Input) -> anyhow::Result<()> {
        let now = self.now_ms();
        let Some(machine) = self.machine.as_mut() else {
            return Ok(());
        };
        let actions = machine.handle(now, input)?;
        self.execute(actions)
    }

    fn execute(&mut self, actions: Vec<Action>) -> anyhow::Result<()> {
        // The height announced by `NewHeight`: started once this list is carried out.
        let mut start = None;
        for action in actions {
            // The log must be durable before anything leaves the node or the height moves on.
            if matches!(
                action,
                Action::Broadcast(_)
                    | Action::GossipBlock { .. }
                    | Action::RequestBlock { .. }
                    | Action::Commit { .. }
                    | Action::NewHeight { .. }
            ) {
                self.flush_wal()?;
            }
            match action {
                Action::Persist(entry) => self.pending_wal.push(entry),
                Action::Broadcast(message) => self.broadcast(message),
                Action::ScheduleTimeout { timeout, at_ms } => {
                    let at = self.instant_of(at_ms);
                    self.timers.insert(timeout, at);
                }
                Action::CancelTimeout(timeout) => {
                    self.timers.remove(&timeout);
                }
                Action::CancelAllTimeouts => self.timers.clear(),
                Action::RequestBlock {
                    height,
                    round,
                    deadline_ms,
                } => {
                    let deadline = self.instant_of(deadline_ms);
                    let wait = self.config.empty_block_wait;
                    let latest = deadline
                        .checked_sub(Duration::from_millis(50))
                        .unwrap_or(deadline);
                    let now = Instant::now();
                    let build_at = (now + wait).min(latest);
                    let ready = self.ready_txs();
                    let rate = self.committed_rate(now);
                    let paced = self.config.block_pacing.until(
                        self.height_started,
                        now,
                        latest,
                        rate,
                        ready,
                    );
                    // Transactions that wait for a missing nonce cannot go into the block: a pool
                    // holding only those is as good as empty (no empty block at once each height).
                    if ready == 0 {
                        self.block_request = Some(BlockRequest {
                            height,
                            round,
                            build_at,
                            paced: false,
                        });
                    } else if let Some(until) = paced {
                        self.block_request = Some(BlockRequest {
                            height,
                            round,
                            build_at: until,
                            paced: true,
                        });
                    } else {
                        self.build(height, round)?;
                    }
                }
                Action::GossipBlock {
                    height: _,
                    round,
                    valid_round,
                    block_id,
                } => {
                    self.send_block(round, valid_round, block_id);
                }
                Action::Commit {
                    height,
                    block_id,
                    certificate,
                } => {
                    self.commit(height, block_id, certificate)?;
                }
                Action::NewHeight { height } => {
                    self.new_height(height)?;
                    start = Some(height);
                }
                Action::Evidence(evidence) => {
                    warn!(offender = %evidence.offender(), height = evidence.height(), "equivocation evidence");
                    let bytes = evidence.to_bytes();
                    let record = ConsensusRecord {
                        key: key(
                            EVIDENCE_PREFIX,
                            evidence.height(),
                            sha256(&bytes).as_bytes(),
                        ),
                        value: bytes,
                    };
                    self.store
                        .write()
                        .expect("store lock")
                        .consensus_put_batch(&[record])?;
                    self.metrics.evidence.inc();
                }
                Action::SyncRejected { height } => {
                    warn!(height, "a synced certificate was refused");
                    self.sync_requested_at = None;
                }
            }
        }
        self.flush_wal()?;
        match start {
            Some(height) => self.start_height(height),
            None => Ok(()),
        }
    }

    fn flush_wal(&mut self) -> anyhow::Result<()> {
        if self.pending_wal.is_empty() {
            return Ok(());
        }
        let records: Vec<ConsensusRecord> = self
            .pending_wal
            .drain(..)
            .map(|entry| {
                self.wal_seq += 1;
                ConsensusRecord {
                    key: key(WAL_PREFIX, entry.height(), &self.wal_seq.to_be_bytes()),
                    value: entry.to_bytes(),
                }
            })
            .collect();
        let started = Instant::now();
        self.store
            .write()
            .expect("store lock")
            .consensus_put_batch(&records)?;
        self.metrics
            .storage_write_seconds
            .observe(started.elapsed().as_secs_f64());
        Ok(())
    }

    fn broadcast(&mut self, message: ConsensusMessage) {
        if let ConsensusMessage::Proposal(proposal) = &message {
            // Our own proposal: make sure its block goes out too (after a restart the block
            // was built in an earlier life).
            if proposal.proposal.proposer == self.config.consensus.key.public_key() {
                self.send_block(
                    proposal.proposal.round,
                    proposal.proposal.pol_round,
                    proposal.proposal.block_id,
                );
            }
        }
        if let Err(error) = self
            .network
            .broadcast(Channel::Consensus, message.to_bytes())
        {
            warn!(%error, "consensus broadcast failed");
        }
    }

    fn send_block(&mut self, round: u32, valid_round: Option<u32>, block_id: BlockId) {
        let Some(pending) = self.blocks.get(&block_id) else {
            debug!(%block_id, "asked to send a block this node does not hold");
            return;
        };
        if !self
            .announced
            .insert((pending.block.header.height, round, block_id))
        {
            return;
        }
        let message = ProposedBlockMessage {
            round,
            valid_round,
            block: pending.block.clone(),
        };
        if let Err(error) = self.network.broadcast(Channel::Blocks, message.to_bytes()) {
            warn!(%error, "block broadcast failed");
        }
    }

    /// Forgets the commits older than [`RATE_WINDOW`] at `now`: `recent_commits` stays bounded
    /// on a node that never proposes.
    fn forget_old_commits(&mut self, now: Instant) {
        while self
            .recent_commits
            .front()
            .is_some_and(|(at, _)| now.duration_since(*at) > RATE_WINDOW)
        {
            self.recent_commits.pop_front();
        }
    }

    /// Transactions committed per second over the [`RATE_WINDOW`] before `now`.
    fn committed_rate(&mut self, now: Instant) -> u64 {
        self.forget_old_commits(now);
        let txs: usize = self.recent_commits.iter().map(|(_, txs)| txs).sum();
        let per_second = u128::try_from(txs)
            .unwrap_or(u128::MAX)
            .saturating_mul(1_000)
            / RATE_WINDOW.as_millis().max(1);
        u64::try_from(per_second).unwrap_or(u64::MAX)
    }

    /// Pending transactions that can go into the next block.
    fn ready_txs(&self) -> usize {
        self.mempool.len().saturating_sub(self.mempool.waiting())
    }

    fn context(&self) -> ChainContext<'_> {
        ChainContext::from_genesis(&self.config.genesis, self.app.as_ref())
    }

    fn parent(&self, store: &RocksStore) -> anyhow::Result<Parent> {
        let height = store.last_height();
        Ok(match store.header(height)? {
            Some(header) => Parent {
                height,
                id: header.id(),
                time_ms: header.time_ms,
                state_root: header.state_root,
            },
            None => Parent {
                height: 0,
                id: self.config.genesis.chain_id().0,
                time_ms: self.config.genesis.genesis_time_ms,
                state_root: courtledger_chain::genesis_state_root(&self.config.genesis.chain_id()),
            },
        })
    }

    /// Validates `block` as the next block on the stored chain, at wall time `now_ms`.
    /// Transactions already in the mempool had their signatures checked on entry.
    fn validate(
        &self,
        block: &Block,
        now_ms: u64,
    ) -> anyhow::Result<Result<Execution, BlockError>> {
        let store = self.store.read().expect("store lock");
        let parent = self.parent(&store)?;
        let mempool = &self.mempool;
        Ok(validate_block(
            &self.context(),
            &parent,
            &MemoState::new(&store),
            block,
            now_ms,
            &|id| mempool.contains(id),
        ))
    }

    /// Stores a proposed block's body (synced) before consensus hears of it; a block already
    /// held is not written again.
    fn keep_block(
        &mut self,
        block: Block,
        execution: Option<Execution>,
    ) -> anyhow::Result<BlockId> {
        let id = block.header.id();
        if !self.blocks.contains_key(&id) {
            let record = ConsensusRecord {
                key: key(BLOCK_PREFIX, block.header.height, id.as_bytes()),
                value: block.to_bytes(),
            };
            self.store
                .write()
                .expect("store lock")
                .consensus_put_batch(&[record])?;
            self.blocks.insert(id, Pending { block, execution });
        } else if let Some(pending) = self.blocks.get_mut(&id) {
            // Reloaded after a restart without its execution: keep the one just computed.
            if pending.execution.is_none() {
                pending.execution = execution;
            }
        }
        Ok(id)
    }

    fn build(&mut self, height: u64, round: u32) -> anyhow::Result<()> {
        if height != self.height || self.machine.is_none() {
            return Ok(());
        }
        let params = &self.config.genesis.consensus;
        let candidates = self
            .mempool
            .select(params.max_block_txs, params.max_block_bytes);
        let started = Instant::now();
        let (block, execution) = {
            let store = self.store.read().expect("store lock");
            let parent = self.parent(&store)?;
            // Damaged committed state leaves no valid block to build: stop the node with the
            // reason rather than panic.
            try_build_block(
                &self.context(),
                &parent,
                &MemoState::new(&store),
                candidates,
                self.config.consensus.key.public_key(),
                wall_ms(),
            )
            .map_err(|error| anyhow::anyhow!("cannot build block {height}: {error}"))?
        };
        info!(
            height,
            round,
            txs = block.txs.len(),
            build_ms = started.elapsed().as_millis(),
            "built a block"
        );
        let id = self.keep_block(block, Some(execution))?;
        self.send_block(round, None, id);
        self.feed(Input::BlockBuilt {
            height,
            round,
            block_id: id,
        })
    }

    fn on_proposed_block(&mut self, message: ProposedBlockMessage) -> anyhow::Result<()> {
        let height = self.height;
        let block_height = message.block.header.height;
        if block_height > height {
            if self.future_blocks.len() >= MAX_FUTURE_BLOCKS {
                self.future_blocks.pop_front();
            }
            self.future_blocks.push_back(message);
            return Ok(());
        }
        if block_height < height || self.machine.is_none() {
            return Ok(());
        }
        // Transactions received and not yet verified would otherwise be verified twice: in the
        // block's validation and again on entering the mempool.
        self.verify_received();
        let id = message.block.header.id();
        // A block held with its execution was validated already; one reloaded after a restart
        // (no execution kept) is validated again.
        let validated = self
            .blocks
            .get(&id)
            .is_some_and(|pending| pending.execution.is_some());
        let started = Instant::now();
        let valid = validated
            || match self.validate(&message.block, wall_ms())? {
                Ok(execution) => {
                    info!(
                        height,
                        txs = message.block.txs.len(),
                        validate_ms = started.elapsed().as_millis(),
                        "validated a proposed block"
                    );
                    self.keep_block(message.block, Some(execution))?;
                    true
                }
                Err(error) => {
                    warn!(height, %id, %error, "invalid proposed block");
                    false
                }
            };
        let Some(machine) = self.machine.as_ref() else {
            return Ok(());
        };
        let proposer = machine.proposer(height, message.round);
        self.feed(Input::BlockReceived(ProposedBlock {
            height,
            round: message.round,
            valid_round: message.valid_round,
            proposer,
            block_id: id,
            valid,
        }))
    }

    fn commit(
        &mut self,
        height: u64,
        block_id: BlockId,
        certificate: CommitCertificate,
    ) -> anyhow::Result<()> {
        let started = Instant::now();
        let Some(pending) = self.blocks.remove(&block_id) else {
            bail!("consensus decided block {block_id} at height {height}, which this node does not hold");
        };
        let execution = match pending.execution {
            Some(execution) => execution,
            // Kept from before a restart: the validators decided it, so no clock bound.
            None => self
                .validate(&pending.block, NO_CLOCK_BOUND_MS)?
                .map_err(|error| {
                    anyhow::anyhow!("decided block {block_id} does not execute: {error}")
                })?,
        };
        // The execution of a block holds its transactions' ids in block order (computed once,
        // when it was built or validated), and its length is known without encoding it.
        let tx_count = pending.block.txs.len();
        let block_bytes = encoded_block_len(&pending.block);
        let Execution {
            tx_ids,
            receipts,
            changes,
            subjects,
            log_nodes,
            ..
        } = execution;
        debug_assert_eq!(tx_ids.len(), tx_count, "an execution of another block");
        let committed = CommittedBlock {
            block: pending.block,
            certificate,
            receipts,
            log_nodes,
            state_changes: changes
                .into_iter()
                .map(|change| StateChange {
                    key: change.key,
                    value: change.value,
                })
                .collect(),
        };
        {
            let mut store = self.store.write().expect("store lock");
            store
                .append_block(&committed)
                .context("storing a decided block failed")?;
            self.mempool.remove_committed(&tx_ids);
            self.mempool.prune(&StoreState(&store));
        }
        self.height = height + 1;
        if committed
            .state_changes
            .iter()
            .any(|change| change.key.starts_with(b"v1/validators/"))
        {
            self.add_validator_peers()?;
        }
        // Only once stored: a subscriber may read back anything an event names.
        self.events
            .publish_block(height, block_id, &committed.receipts, subjects);
        let elapsed = started.elapsed();
        self.metrics
            .storage_write_seconds
            .observe(elapsed.as_secs_f64());
        self.metrics.blocks.inc();
        self.metrics
            .transactions
            .inc_by(u64::try_from(tx_count).unwrap_or(0));
        self.metrics
            .block_bytes
            .set(i64::try_from(block_bytes).unwrap_or(i64::MAX));
        self.metrics
            .block_txs
            .set(i64::try_from(tx_count).unwrap_or(i64::MAX));
        let now = Instant::now();
        self.forget_old_commits(now);
        self.recent_commits.push_back((now, tx_count));
        self.metrics
            .commit_latency_seconds
            .observe(self.height_started.elapsed().as_secs_f64());
        info!(
            height,
            %block_id,
            txs = tx_count,
            commit_ms = elapsed.as_millis(),
            "committed"
        );
        Ok(())
    }

    fn new_height(&mut self, height: u64) -> anyhow::Result<()> {
        if let Some((from, below)) = prune_range(self.pruned_below, height) {
            let mut store = self.store.write().expect("store lock");
            for prefix in [WAL_PREFIX, BLOCK_PREFIX] {
                store.consensus_delete_range(&key(prefix, from, &[]), &key(prefix, below, &[]))?;
            }
            self.pruned_below = below;
        }
        self.blocks
            .retain(|_, pending| pending.block.header.height >= height);
        self.announced.retain(|(h, _, _)| *h >= height);
        self.block_request = None;
        self.height_started = Instant::now();
        // Progress without an outstanding sync request: the node is in step with its peers.
        if self
            .sync_requested_at
            .is_none_or(|at| at.elapsed() >= SYNC_RETRY)
        {
            self.status.syncing.store(false, Ordering::Relaxed);
        }
        self.publish_status();
        // Blocks that arrived early for this height.
        let ready: Vec<ProposedBlockMessage> = {
            let (ready, later): (Vec<_>, Vec<_>) = self
                .future_blocks
                .drain(..)
                .filter(|m| m.block.header.height >= height)
                .partition(|m| m.block.header.height == height);
            self.future_blocks = later.into();
            ready
        };
        for message in ready {
            self.on_proposed_block(message)?;
        }
        Ok(())
    }

    fn publish_status(&self) {
        let height = self.height;
        let round = self
            .machine
            .as_ref()
            .and_then(Consensus::round)
            .unwrap_or(0);
        self.status.height.store(height, Ordering::Relaxed);
        self.status.round.store(u64::from(round), Ordering::Relaxed);
        self.status.mempool.store(
            u64::try_from(self.mempool.len()).unwrap_or(0),
            Ordering::Relaxed,
        );
        self.status.peers.store(
            u64::try_from(self.network.connected_peers().len()).unwrap_or(0),
            Ordering::Relaxed,
        );
        self.metrics
            .height
            .set(i64::try_from(height).unwrap_or(i64::MAX));
        self.metrics.round.set(i64::from(round));
        self.metrics
            .mempool
            .set(i64::try_from(self.mempool.len()).unwrap_or(i64::MAX));
        self.metrics
            .peers
            .set(i64::try_from(self.network.connected_peers().len()).unwrap_or(i64::MAX));
    }

    /// Holds received transactions until [`Self::verify_received`] verifies them with the
    /// others that arrive within [`VERIFY_WAIT`] (at once when [`VERIFY_BATCH_TXS`] are held).
    /// `reply` is `Some` for a client's submission (answered with its verdicts, and its
    /// accepted transactions gossiped), `None` for a peer's gossip.
    fn receive_txs(&mut self, txs: Vec<SignedTransaction>, reply: Option<SubmitReply>) {
        let unverified = &mut self.unverified;
        unverified.since.get_or_insert_with(Instant::now);
        unverified.arrivals.push((txs.len(), reply));
        unverified.txs.extend(txs);
        if unverified.txs.len() >= VERIFY_BATCH_TXS {
            self.verify_received();
        }
    }

    /// Verifies every held transaction in one batch, enters the good ones in the mempool and
    /// answers each submission.
    fn verify_received(&mut self) {
        let Unverified { txs, arrivals, .. } = std::mem::take(&mut self.unverified);
        if arrivals.is_empty() {
            return;
        }
        let mut gossip = Vec::with_capacity(txs.len());
        for (count, reply) in &arrivals {
            gossip.extend(std::iter::repeat_n(reply.is_some(), *count));
        }
        let mut results = self.submit(txs, &gossip).into_iter();
        for (count, reply) in arrivals {
            let verdicts: Vec<_> = results.by_ref().take(count).collect();
            assert_eq!(
                verdicts.len(),
                count,
                "one verdict per received transaction"
            );
            if let Some(reply) = reply {
                let _ = reply.send(verdicts);
            }
        }
    }

    /// Verifies `txs` in one batch and enters the good ones in the mempool; those whose
    /// `gossip` flag is set are gossiped to the peers.
    fn submit(
        &mut self,
        txs: Vec<SignedTransaction>,
        gossip: &[bool],
    ) -> Vec<Result<TxId, MempoolError>> {
        debug_assert_eq!(txs.len(), gossip.len());
        // Copies of the clients' transactions only: a peer's gossip is not gossiped again.
        let copies: Vec<(usize, SignedTransaction)> = txs
            .iter()
            .zip(gossip)
            .enumerate()
            .filter(|(_, (_, gossip))| **gossip)
            .map(|(index, (tx, _))| (index, tx.clone()))
            .collect();
        let results = {
            let store = self.store.read().expect("store lock");
            let committed = |id: &TxId| store.tx_location(id).ok().flatten().is_some();
            self.mempool.verify_and_insert(
                &self.config.genesis.chain_id(),
                txs,
                &MemoState::new(&store),
                &committed,
            )
        };
        for (index, tx) in copies {
            if results.get(index).is_some_and(Result::is_ok) {
                self.gossip.push(tx);
            }
        }
        if self.gossip.len() >= usize::try_from(MAX_TX_BATCH).unwrap_or(usize::MAX) {
            self.flush_gossip();
        }
        self.metrics
            .mempool
            .set(i64::try_from(self.mempool.len()).unwrap_or(i64::MAX));
        self.status.mempool.store(
            u64::try_from(self.mempool.len()).unwrap_or(0),
            Ordering::Relaxed,
        );
        results
    }

    fn flush_gossip(&mut self) {
        self.last_gossip = Instant::now();
        while !self.gossip.is_empty() {
            let take = self
                .gossip
                .len()
                .min(usize::try_from(MAX_TX_BATCH).unwrap_or(usize::MAX));
            let batch = TxBatch {
                txs: self.gossip.drain(..take).collect(),
            };
            if let Err(error) = self
                .network
                .broadcast(Channel::Transactions, batch.to_bytes())
            {
                warn!(%error, "transaction gossip failed");
            }
        }
    }

    fn on_network(&mut self, event: NetworkEvent) -> anyhow::Result<()> {
        match event {
            NetworkEvent::Message {
                from,
                channel,
                bytes,
            } => match channel {
                Channel::Consensus => match ConsensusMessage::decode(&bytes) {
                    Ok(message) => {
                        let height = message.height();
                        if height > self.height {
                            self.request_sync(from);
                        }
                        self.feed(Input::Message(message))?;
                    }
                    Err(error) => self.invalid_message(from, Channel::Consensus, &error),
                },
                Channel::Blocks => match ProposedBlockMessage::decode(&bytes) {
                    Ok(message) => {
                        if message.block.header.height > self.height {
                            self.request_sync(from);
                        }
                        self.on_proposed_block(message)?;
                    }
                    Err(error) => self.invalid_message(from, Channel::Blocks, &error),
                },
                Channel::Transactions => match TxBatch::decode(&bytes) {
                    Ok(batch) => self.receive_txs(batch.txs, None),
                    Err(error) => self.invalid_message(from, Channel::Transactions, &error),
                },
                Channel::Sync => match SyncMessage::decode(&bytes) {
                    Ok(message) => self.on_sync(from, message)?,
                    Err(error) => self.invalid_message(from, Channel::Sync, &error),
                },
            },
            NetworkEvent::PeerConnected(peer) => {
                info!(%peer, "peer connected");
                self.publish_status();
            }
            NetworkEvent::PeerDisconnected(peer) => {
                info!(%peer, "peer disconnected");
                self.publish_status();
            }
            NetworkEvent::PeerRefused { peer_id, reason } => {
                warn!(%peer_id, ?reason, "refused a connection");
            }
            NetworkEvent::PeerPenalized {
                peer,
                penalty,
                score,
                banned_for,
            } => {
                warn!(%peer, ?penalty, score, ?banned_for, "penalized a peer");
            }
            _ => {}
        }
        Ok(())
    }

    /// A peer sent something undecodable or invalid: log it and lower its score.
    fn invalid_message(&self, from: PublicKey, channel: Channel, error: &dyn std::fmt::Display) {
        warn!(%from, %channel, %error, "invalid message");
        self.network
            .penalize(&from, Penalty::InvalidMessage { channel });
    }

    fn request_sync(&mut self, peer: PublicKey) {
        if self
            .sync_requested_at
            .is_some_and(|at| at.elapsed() < SYNC_RETRY)
        {
            return;
        }
        self.sync_requested_at = Some(Instant::now());
        self.status.syncing.store(true, Ordering::Relaxed);
        let request = SyncMessage::Request {
            from_height: self.height,
            max_blocks: MAX_SYNC_BLOCKS,
        };
        if let Err(error) = self.network.send(&peer, Channel::Sync, request.to_bytes()) {
            debug!(%peer, %error, "sync request not sent");
        }
    }

    fn on_sync(&mut self, from: PublicKey, message: SyncMessage) -> anyhow::Result<()> {
        match message {
            SyncMessage::Request {
                from_height,
                max_blocks,
            } => {
                let mut blocks = Vec::new();
                let mut bytes = 0usize;
                let limit =
                    usize::try_from(Channel::Sync.max_message_bytes()).unwrap_or(usize::MAX) / 2;
                {
                    let store = self.store.read().expect("store lock");
                    let last = store.last_height();
                    let mut height = from_height.max(1);
                    while height <= last
                        && blocks.len()
                            < usize::try_from(max_blocks.min(MAX_SYNC_BLOCKS)).unwrap_or(0)
                    {
                        let (Some(block), Some(certificate)) =
                            (store.block(height)?, store.certificate(height)?)
                        else {
                            break;
                        };
                        bytes += block.to_bytes().len();
                        if !blocks.is_empty() && bytes > limit {
                            break;
                        }
                        blocks.push((block, certificate));
                        height += 1;
                    }
                }
                if !blocks.is_empty() {
                    let response = SyncMessage::Response { blocks };
                    if let Err(error) = self.network.send(&from, Channel::Sync, response.to_bytes())
                    {
                        debug!(%from, %error, "sync response not sent");
                    }
                }
            }
            SyncMessage::Response { blocks } => {
                let full = blocks.len() == usize::try_from(MAX_SYNC_BLOCKS).unwrap_or(0);
                let mut progressed = false;
                for (block, certificate) in blocks {
                    let height = self.height;
                    if block.header.height != height || certificate.height != height {
                        continue;
                    }
                    let id = block.header.id();
                    if certificate.block_id != id {
                        self.invalid_message(
                            from,
                            Channel::Sync,
                            &"a certificate for another block",
                        );
                        break;
                    }
                    let validators = self.next_validators()?;
                    if let Err(error) = certificate.verify(
                        &self.config.genesis.chain_id(),
                        &validators,
                        height,
                        &id,
                    ) {
                        self.invalid_message(from, Channel::Sync, &error);
                        break;
                    }
                    let proposer = block.header.proposer;
                    // The certificate proves the validators agreed; our clock does not bound
                    // an old block.
                    let execution = match self.validate(&block, NO_CLOCK_BOUND_MS)? {
                        Ok(execution) => execution,
                        Err(error) => {
                            warn!(%from, height, %error, "a certified block does not validate here");
                            break;
                        }
                    };
                    self.keep_block(block, Some(execution))?;
                    if self.machine.is_some() {
                        self.feed(Input::SyncedBlock {
                            certificate,
                            proposer,
                        })?;
                    } else {
                        // A follower commits what the certificate proves, without consensus.
                        self.commit(height, id, certificate)?;
                        self.new_height(height + 1)?;
                        self.start_height(height + 1)?;
                    }
                    progressed = self.height > height;
                    if !progressed {
                        break;
                    }
                }
                self.sync_requested_at = None;
                if progressed && full {
                    self.request_sync(from);
                } else {
                    self.status.syncing.store(false, Ordering::Relaxed);
                }
            }
        }
        Ok(())
    }
}

/// Builds the consensus configuration of a node.
pub fn consensus_config(genesis: &Genesis, key: courtledger_crypto::SigningKey) -> ConsensusConfig {
    ConsensusConfig {
        chain_id: genesis.chain_id(),
        key,
        validators: genesis.validator_set().clone(),
        timeouts: TimeoutParams::from_genesis(&genesis.consensus),
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::{prune_range, BlockPacing};

    #[test]
    fn blocks_are_paced_only_under_load() {
        let start = Instant::now();
        let ms = Duration::from_millis;
        let latest = start + ms(950);
        let pacing = BlockPacing {
            pace: ms(150),
            min_rate: 2_000,
            target_txs: 1_024,
        };
        // (now, committed tx/s, ready) -> build at
        let at = |now: Duration, rate: u64, ready: usize| {
            pacing.until(start, start + now, latest, rate, ready)
        };
        // A lightly loaded network builds at once.
        assert_eq!(at(ms(5), 1_999, 40), None);
        // Under load it waits until 150 ms after the height started, then builds.
        assert_eq!(at(ms(5), 2_000, 400), Some(start + ms(150)));
        assert_eq!(at(ms(149), 6_000, 400), Some(start + ms(150)));
        assert_eq!(at(ms(150), 6_000, 400), None);
        // A large enough block ready is built at once.
        assert_eq!(at(ms(5), 6_000, 1_023), Some(start + ms(150)));
        assert_eq!(at(ms(5), 6_000, 1_024), None);
        // Never after `latest`.
        assert_eq!(
            pacing.until(start, start, start + ms(100), 6_000, 1),
            Some(start + ms(100))
        );
        // Pacing off.
        let off = BlockPacing {
            pace: Duration::ZERO,
            ..pacing
        };
        assert_eq!(off.until(start, start, latest, 6_000, 1), None);
    }

    /// The pruned ranges of a run cover every height below the current one exactly once:
    /// contiguous and never overlapping (see `prune_range`).

    #[test]
    fn pruned_ranges_are_contiguous_and_never_overlap() {
        let mut pruned_below = 0;
        let mut covered = Vec::new();
        for height in [1, 2, 3, 3, 7, 8, 8, 20, 21] {
            if let Some((from, below)) = prune_range(pruned_below, height) {
                assert_eq!(from, pruned_below, "starts where the last one ended");
                assert!(from < below);
                covered.extend(from..below);
                pruned_below = below;
            }
            assert_eq!(pruned_below, height);
        }
        assert_eq!(covered, (0..21).collect::<Vec<u64>>());
        // After a restart (0), whatever an earlier run left below the height goes at once.
        assert_eq!(prune_range(0, 500), Some((0, 500)));
        assert_eq!(prune_range(500, 500), None);
    }
}
