//! The host-facing consensus state machine: `handle(now, input) -> actions`.
//!
//! [`Consensus`] owns malachite's core `State` and resolves every effect the core yields:
//! signing and verification synchronously (it holds the key and the validator set), everything
//! else by emitting an [`Action`] for the caller to carry out. It does no IO and reads no clock:
//! the caller passes the time in milliseconds with every input.
//!
//! # The caller's contract
//!
//! Actions must be carried out **in order**, and:
//! - every [`Action::Persist`] must be durable before the next [`Action::Broadcast`] or
//!   [`Action::Commit`] is carried out (persists may be batched and synced together). The core
//!   persists each of our votes and proposals before it asks to publish them, so this rule is
//!   what keeps a restarted validator from signing twice;
//! - [`Action::Commit`] must be durable before [`Action::NewHeight`] lets the caller discard the
//!   previous height's log;
//! - after [`Action::NewHeight`] the machine waits for [`Input::StartHeight`] with the validator
//!   set of the new height, which the caller knows once the committed block is executed (a
//!   block may activate a validator-set change). A caller whose key is not in that set stops
//!   running the machine instead (it follows the chain by sync) and builds a new one with
//!   [`Consensus::new`] at the first height whose set includes it again;
//! - after a restart, the caller builds a new machine with [`Consensus::new`], passing the height
//!   after its last committed block and every logged entry it still holds.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use courtledger_codec::Encode;
use courtledger_crypto::{verify, ChainId, Domain, PublicKey, SigningKey};
use courtledger_types::genesis::ConsensusParams;
use courtledger_types::{BlockId, CommitCertificate, ValidatorSet as ChainValidatorSet};
use malachitebft_core_consensus::{
    process, ConsensusMsg, Effect, Error as CoreError, Input as CoreInput, LivenessMsg,
    LocallyProposedValue, Params, PeerId, ProposedValue, Resumable, Resume, State, ValuePayload,
};
use malachitebft_core_types::{
    self as core, Round, SignedMessage, ThresholdParams, Validity, ValueOrigin, ValueResponse,
    VoteExtensionPolicy,
};

use crate::certificates;
use crate::context::{round_opt, round_u32, Address, BlockValue, Ctx, Height, Sig, ValidatorSet};
use crate::evidence::Evidence;
use crate::messages::{
    message_from_core, polka_from_core, polka_to_core, proposal_from_core, proposal_to_core,
    proposed_to_core, round_certificate_from_core, round_certificate_to_core, vote_from_core,
    vote_to_core, wal_entry_from_core, wal_entry_to_core, ConsensusMessage, ProposedBlock,
    TimeoutId, TimeoutStep, WalEntry,
};

/// Future heights whose messages the core buffers.
const QUEUE_HEIGHTS: usize = 4;
/// Messages buffered per future height.
const QUEUE_PER_HEIGHT: usize = 1024;
/// Upper bound of any timeout, in milliseconds.
const MAX_TIMEOUT_MS: u64 = 120_000;

/// Timeout durations, from genesis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeoutParams {
    /// Wait for a proposal.
    pub propose_ms: u64,
    /// Wait for more prevotes.
    pub prevote_ms: u64,
    /// Wait for more precommits.
    pub precommit_ms: u64,
    /// Added per round to each of the above.
    pub delta_ms: u64,
}

impl TimeoutParams {
    /// The genesis consensus parameters' timeouts.
    pub fn from_genesis(params: &ConsensusParams) -> Self {
        Self {
            propose_ms: params.timeout_propose_ms,
            prevote_ms: params.timeout_prevote_ms,
            precommit_ms: params.timeout_precommit_ms,
            delta_ms: params.timeout_delta_ms,
        }
    }

    /// How long `timeout` lasts. Rebroadcast waits a whole round's worth of timeouts.
    pub fn duration_ms(&self, timeout: TimeoutId) -> u64 {
        let base = match timeout.step {
            TimeoutStep::Propose => self.propose_ms,
            TimeoutStep::Prevote => self.prevote_ms,
            TimeoutStep::Precommit => self.precommit_ms,
            TimeoutStep::Rebroadcast => self
                .propose_ms
                .saturating_add(self.prevote_ms)
                .saturating_add(self.precommit_ms),
        };
        base.saturating_add(self.delta_ms.saturating_mul(u64::from(timeout.round)))
            .min(MAX_TIMEOUT_MS)
    }
}

/// What a validator needs to run consensus.
#[derive(Clone, Debug)]
pub struct ConsensusConfig {
    /// The chain.
    pub chain_id: ChainId,
    /// This validator's key.
    pub key: SigningKey,
    /// The validator set of the height the machine starts at; later heights' sets come with
    /// [`Input::StartHeight`].
    pub validators: ChainValidatorSet,
    /// Timeouts.
    pub timeouts: TimeoutParams,
}

/// Something that happened that consensus must know about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// Start the height announced by [`Action::NewHeight`], with its validator set (which must
    /// include this validator: see the module docs).
    StartHeight {
        /// The height announced.
        height: u64,
        /// Its validator set.
        validators: ChainValidatorSet,
    },
    /// A message from another validator, decoded but not yet verified.
    Message(ConsensusMessage),
    /// A timeout that the machine scheduled has fired.
    Timeout(TimeoutId),
    /// The block this validator built after [`Action::RequestBlock`].
    BlockBuilt {
        /// Height asked for.
        height: u64,
        /// Round asked for.
        round: u32,
        /// The block's id; the caller holds the block.
        block_id: BlockId,
    },
    /// A proposed block arrived and was validated (or found invalid).
    BlockReceived(ProposedBlock),
    /// A block obtained by sync for the current height, with its commit certificate. The caller
    /// holds the block and checked that its header matches `certificate.block_id` and that it
    /// is valid; the machine checks the certificate.
    SyncedBlock {
        /// The certificate.
        certificate: CommitCertificate,
        /// The block's proposer.
        proposer: PublicKey,
    },
}

/// What the caller must do. See the module docs for the ordering contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Append to the write-ahead log; durable before the next broadcast or commit.
    Persist(WalEntry),
    /// Send to every other validator.
    Broadcast(ConsensusMessage),
    /// Arm a timer; an existing timer with the same id is replaced.
    ScheduleTimeout {
        /// Which timer.
        timeout: TimeoutId,
        /// When it fires, in the caller's milliseconds.
        at_ms: u64,
    },
    /// Disarm a timer.
    CancelTimeout(TimeoutId),
    /// Disarm every timer.
    CancelAllTimeouts,
    /// Build a block for `(height, round)` and answer with [`Input::BlockBuilt`] before
    /// `deadline_ms`; also send the block to the other validators.
    RequestBlock {
        /// Height.
        height: u64,
        /// Round.
        round: u32,
        /// Answer before this time.
        deadline_ms: u64,
    },
    /// Send the block with this id to the other validators again (a re-proposal).
    GossipBlock {
        /// Height.
        height: u64,
        /// The round it is proposed in.
        round: u32,
        /// The round of the polka that justifies it.
        valid_round: Option<u32>,
        /// The block.
        block_id: BlockId,
    },
    /// The block is decided: store it with its certificate, durably.
    Commit {
        /// Height.
        height: u64,
        /// The block.
        block_id: BlockId,
        /// More than two thirds of the precommits, verifiable with the validator set.
        certificate: CommitCertificate,
    },
    /// The previous height is decided; the log of earlier heights may be discarded. The machine
    /// waits for [`Input::StartHeight`] of `height`.
    NewHeight {
        /// The new height.
        height: u64,
    },
    /// A validator equivocated; keep the evidence.
    Evidence(Box<Evidence>),
    /// A synced certificate for `height` was refused; ask another peer.
    SyncRejected {
        /// Height.
        height: u64,
    },
}

/// A failure that stops the validator: continuing could break safety.
#[derive(Debug, thiserror::Error)]
pub enum ConsensusError {
    /// The core refused to go on (for example, replaying the log would sign something different).
    #[error("consensus core failed: {0}")]
    Core(String),
    /// This node's key is not in the validator set.
    #[error("this node's key is not a validator")]
    NotAValidator,
    /// [`Input::StartHeight`] for a height other than the one announced, or none announced.
    #[error("asked to start height {asked}, but the machine awaits {awaiting:?}")]
    UnexpectedStart {
        /// The height asked for.
        asked: u64,
        /// The height announced by [`Action::NewHeight`], if any.
        awaiting: Option<u64>,
    },
}

/// Everything the effect handler needs, apart from the core state.
#[derive(Debug)]
struct Host {
    chain_id: ChainId,
    key: SigningKey,
    validators: ValidatorSet,
    timeouts: TimeoutParams,
    now_ms: u64,
    replaying: bool,
    actions: Vec<Action>,
    /// Inputs the effects asked for; fed after the current `process!` returns.
    follow_ups: VecDeque<CoreInput<Ctx>>,
    /// A block request that arrived during log replay.
    deferred_request: Option<(u64, u32)>,
    /// Blocks this validator proposed in the current height, by round (from the log after a
    /// restart): a repeated request for a round is answered with the same block.
    own_values: BTreeMap<u32, BlockId>,
    /// Validly signed proposals of the current height, for equivocation evidence the core can
    /// miss (proposal equivocation is lost for some arrival orders in malachite 0.8.2).
    proposals: BTreeMap<(u32, PublicKey), crate::context::SignedProposal>,
    /// Evidence already reported, to report each once.
    reported: BTreeSet<Vec<u8>>,
    /// The height announced by [`Action::NewHeight`] and not started yet.
    awaiting_start: Option<u64>,
}

/// The consensus state machine of one validator.
pub struct Consensus {
    core: State<Ctx>,
    host: Host,
}

impl std::fmt::Debug for Consensus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consensus")
            .field("height", &self.height())
            .field("round", &self.round())
            .finish_non_exhaustive()
    }
}

fn start_height_input(height: u64, validators: &ValidatorSet) -> CoreInput<Ctx> {
    // No finalization window (target time `None`): the core then never reads the clock, and
    // `Finalize` follows `Decide` at once.
    CoreInput::StartHeight(
        Height(height),
        validators.clone(),
        false,
        None,
        VoteExtensionPolicy::Disabled,
    )
}

impl Consensus {
    /// Starts (or restarts) consensus at `height`, replaying `wal`: the logged entries of that
    /// height (entries of other heights are ignored). Returns the machine and the first actions.
    pub fn new(
        config: ConsensusConfig,
        height: u64,
        wal: &[WalEntry],
        now_ms: u64,
    ) -> Result<(Self, Vec<Action>), ConsensusError> {
        let validators = ValidatorSet::new(config.validators);
        let address = Address(config.key.public_key());
        if validators.chain().index_of(&address.0).is_none() {
            return Err(ConsensusError::NotAValidator);
        }
        let params = Params {
            address,
            threshold_params: ThresholdParams::default(),
            value_payload: ValuePayload::ProposalAndParts,
            enabled: true,
        };
        let core = State::new(
            Ctx,
            Height(height),
            validators.clone(),
            params,
            QUEUE_HEIGHTS,
            QUEUE_PER_HEIGHT,
        );
        let own_key = config.key.public_key();
        let entries: Vec<&WalEntry> = wal
            .iter()
            .filter(|entry| entry.height() == height)
            .collect();
        let own_values = entries
            .iter()
            .filter_map(|entry| match entry {
                WalEntry::ProposedValue(value) if value.proposer == own_key => {
                    Some((value.round, value.block_id))
                }
                _ => None,
            })
            .collect();
        let mut machine = Self {
            core,
            host: Host {
                chain_id: config.chain_id,
                key: config.key,
                validators,
                timeouts: config.timeouts,
                now_ms,
                replaying: !entries.is_empty(),
                actions: Vec::new(),
                follow_ups: VecDeque::new(),
                deferred_request: None,
                own_values,
                proposals: BTreeMap::new(),
                reported: BTreeSet::new(),
                awaiting_start: None,
            },
        };
        let start = start_height_input(height, &machine.host.validators);
        machine.feed(start)?;
        if !entries.is_empty() {
            let inputs: Vec<CoreInput<Ctx>> = entries
                .iter()
                .map(|entry| wal_entry_to_core(entry))
                .collect();
            machine
                .core
                .record_recovered_own_precommit_extensions(inputs.iter());
            machine.core.index_wal_entries(inputs.iter());
            for input in inputs {
                machine.feed(input)?;
            }
            machine.core.reset_entries_index();
            machine.host.replaying = false;
            if let Some((height, round)) = machine.host.deferred_request.take() {
                let current = (machine.core.height().0, machine.core.round().as_u32());
                if current == (height, Some(round)) && machine.host.awaiting_start.is_none() {
                    machine.host.request_block(height, round);
                    machine.drain_follow_ups()?;
                }
            }
        }
        let actions = std::mem::take(&mut machine.host.actions);
        Ok((machine, actions))
    }

    /// The height being decided.
    pub fn height(&self) -> u64 {
        self.host
            .awaiting_start
            .unwrap_or_else(|| self.core.height().0)
    }

    /// The current round (`None` before the first round starts).
    pub fn round(&self) -> Option<u32> {
        round_opt(self.core.round())
    }

    /// This validator's key.
    pub fn public_key(&self) -> PublicKey {
        self.host.key.public_key()
    }

    /// The proposer of `round` at `height`.
    pub fn proposer(&self, height: u64, round: u32) -> PublicKey {
        self.host.validators.proposer(height, round)
    }

    /// The height announced by [`Action::NewHeight`] that waits for [`Input::StartHeight`].
    pub fn awaiting_start(&self) -> Option<u64> {
        self.host.awaiting_start
    }

    /// Handles one input at time `now_ms` and returns what to do, in order.
    pub fn handle(&mut self, now_ms: u64, input: Input) -> Result<Vec<Action>, ConsensusError> {
        self.host.now_ms = now_ms;
        if let Input::StartHeight { height, validators } = input {
            if self.host.awaiting_start != Some(height) {
                return Err(ConsensusError::UnexpectedStart {
                    asked: height,
                    awaiting: self.host.awaiting_start,
                });
            }
            let validators = ValidatorSet::new(validators);
            if validators
                .chain()
                .index_of(&self.host.key.public_key())
                .is_none()
            {
                return Err(ConsensusError::NotAValidator);
            }
            self.host.awaiting_start = None;
            self.host.validators = validators;
            let start = start_height_input(height, &self.host.validators);
            self.feed(start)?;
            return Ok(std::mem::take(&mut self.host.actions));
        }
        if let Some(core_input) = self.translate(input) {
            self.feed(core_input)?;
        }
        Ok(std::mem::take(&mut self.host.actions))
    }

    fn translate(&mut self, input: Input) -> Option<CoreInput<Ctx>> {
        let height = self.height();
        match input {
            Input::Message(message) => {
                // Messages of past heights are useless; of far-future heights, unbounded.
                let message_height = message.height();
                let horizon = u64::try_from(QUEUE_HEIGHTS).unwrap_or(u64::MAX);
                if message_height < height || message_height >= height.saturating_add(horizon) {
                    return None;
                }
                match message {
                    ConsensusMessage::Vote(vote) => {
                        // The set of a later height is not known yet: the core buffers those
                        // votes (bounded) and checks them when that height starts.
                        if message_height == height && self.host.awaiting_start.is_none() {
                            self.host
                                .validators
                                .chain()
                                .index_of(&vote.vote.validator)?;
                        }
                        Some(CoreInput::Vote(vote_to_core(&vote)))
                    }
                    ConsensusMessage::Proposal(proposal) => {
                        self.host.check_double_proposal(height, &proposal);
                        Some(CoreInput::Proposal(proposal_to_core(&proposal)))
                    }
                    ConsensusMessage::Polka(polka) => {
                        Some(CoreInput::PolkaCertificate(polka_to_core(&polka)))
                    }
                    ConsensusMessage::Round(certificate) => Some(CoreInput::RoundCertificate(
                        round_certificate_to_core(&certificate),
                    )),
                }
            }
            Input::Timeout(timeout) => Some(CoreInput::TimeoutElapsed(timeout.to_core())),
            Input::BlockBuilt {
                height: built_height,
                round,
                block_id,
            } => Some(CoreInput::Propose(LocallyProposedValue::new(
                Height(built_height),
                Round::new(round),
                BlockValue(block_id),
            ))),
            Input::BlockReceived(block) => {
                let horizon = u64::try_from(QUEUE_HEIGHTS).unwrap_or(u64::MAX);
                if block.height < height || block.height >= height.saturating_add(horizon) {
                    return None;
                }
                Some(CoreInput::ProposedValue(
                    proposed_to_core(&block),
                    ValueOrigin::Consensus,
                ))
            }
            Input::StartHeight { .. } => None,
            Input::SyncedBlock {
                certificate,
                proposer,
            } => {
                if certificate.height != height || self.host.awaiting_start.is_some() {
                    return None;
                }
                let core_certificate = certificates::to_core(&certificate, &self.host.validators)?;
                let peer = peer_of(&proposer)?;
                let value_bytes = bytes::Bytes::copy_from_slice(certificate.block_id.as_bytes());
                Some(CoreInput::SyncValueResponse(ValueResponse::new(
                    peer,
                    value_bytes,
                    core_certificate,
                )))
            }
        }
    }

    fn feed(&mut self, input: CoreInput<Ctx>) -> Result<(), ConsensusError> {
        self.host.follow_ups.push_back(input);
        self.drain_follow_ups()
    }

    fn drain_follow_ups(&mut self) -> Result<(), ConsensusError> {
        while let Some(input) = self.host.follow_ups.pop_front() {
            let host = &mut self.host;
            let result: Result<(), CoreError<Ctx>> = process!(
                input: input,
                state: &mut self.core,
                metrics: &(),
                with: effect => host.on_effect(effect)
            );
            result.map_err(|error| ConsensusError::Core(format!("{error:?}")))?;
        }
        Ok(())
    }
}

/// The core's peer id for a validator key (the libp2p identity multihash of the key).
fn peer_of(key: &PublicKey) -> Option<PeerId> {
    let mut bytes = vec![0x00, 0x24, 0x08, 0x01, 0x12, 0x20];
    bytes.extend_from_slice(key.as_bytes());
    PeerId::from_bytes(&bytes).ok()
}

impl Host {
    fn push(&mut self, action: Action) {
        self.actions.push(action);
    }

    fn report(&mut self, evidence: Evidence) {
        let evidence = evidence.canonical();
        if self.reported.insert(evidence.to_bytes()) {
            self.push(Action::Evidence(Box::new(evidence)));
        }
    }

    fn check_double_proposal(&mut self, height: u64, proposal: &crate::context::SignedProposal) {
        if proposal.proposal.height != height || !proposal.verify(&self.chain_id) {
            return;
        }
        let slot = (proposal.proposal.round, proposal.proposal.proposer);
        match self.proposals.get(&slot) {
            Some(first) if first != proposal => {
                let first = *first;
                self.report(Evidence::DoubleProposal(first, *proposal));
            }
            Some(_) => {}
            None => {
                self.proposals.insert(slot, *proposal);
            }
        }
    }

    fn request_block(&mut self, height: u64, round: u32) {
        if let Some(block_id) = self.own_values.get(&round) {
            // Proposed before a restart: propose the very same block again.
            self.follow_ups
                .push_back(CoreInput::Propose(LocallyProposedValue::new(
                    Height(height),
                    Round::new(round),
                    BlockValue(*block_id),
                )));
        } else {
            let deadline_ms = self
                .now_ms
                .saturating_add(self.timeouts.duration_ms(TimeoutId {
                    step: TimeoutStep::Propose,
                    round,
                }));
            self.push(Action::RequestBlock {
                height,
                round,
                deadline_ms,
            });
        }
    }

    fn sign_vote(&self, vote: crate::context::CoreVote) -> core::SignedVote<Ctx> {
        let signature = self
            .key
            .sign(Domain::Vote, &self.chain_id, &vote.to_chain().to_bytes());
        SignedMessage::new(vote, Sig(signature))
    }

    fn on_effect(&mut self, effect: Effect<Ctx>) -> Result<Resume<Ctx>, ConsensusError> {
        Ok(match effect {
            Effect::CancelAllTimeouts(r) => {
                self.push(Action::CancelAllTimeouts);
                r.resume_with(())
            }
            Effect::CancelTimeout(timeout, r) => {
                if let Some(timeout) = TimeoutId::from_core(timeout) {
                    self.push(Action::CancelTimeout(timeout));
                }
                r.resume_with(())
            }
            Effect::ScheduleTimeout(timeout, r) => {
                if let Some(timeout) = TimeoutId::from_core(timeout) {
                    let at_ms = self
                        .now_ms
                        .saturating_add(self.timeouts.duration_ms(timeout));
                    self.push(Action::ScheduleTimeout { timeout, at_ms });
                }
                r.resume_with(())
            }
            Effect::StartRound(_, _, _, _, r) => r.resume_with(()),
            Effect::PublishConsensusMsg(message, r) => {
                self.push(Action::Broadcast(message_from_core(&message)));
                r.resume_with(())
            }
            Effect::PublishLivenessMsg(message, r) => {
                let message = match message {
                    LivenessMsg::Vote(vote) => ConsensusMessage::Vote(vote_from_core(&vote)),
                    LivenessMsg::PolkaCertificate(polka) => {
                        ConsensusMessage::Polka(polka_from_core(&polka))
                    }
                    LivenessMsg::SkipRoundCertificate(certificate) => {
                        ConsensusMessage::Round(round_certificate_from_core(&certificate))
                    }
                };
                self.push(Action::Broadcast(message));
                r.resume_with(())
            }
            Effect::RepublishVote(vote, r) => {
                self.push(Action::Broadcast(ConsensusMessage::Vote(vote_from_core(
                    &vote,
                ))));
                r.resume_with(())
            }
            Effect::RepublishRoundCertificate(certificate, r) => {
                self.push(Action::Broadcast(ConsensusMessage::Round(
                    round_certificate_from_core(&certificate),
                )));
                r.resume_with(())
            }
            Effect::GetValue(height, round, _timeout, r) => {
                let round = round_u32(round);
                if self.replaying {
                    self.deferred_request = Some((height.0, round));
                } else {
                    self.request_block(height.0, round);
                }
                r.resume_with(())
            }
            Effect::RestreamProposal(height, round, valid_round, _proposer, value, r) => {
                self.push(Action::GossipBlock {
                    height: height.0,
                    round: round_u32(round),
                    valid_round: round_opt(valid_round),
                    block_id: value.0,
                });
                r.resume_with(())
            }
            Effect::CertVerifiedSyncValue(response, proposer, r) => {
                // The caller vouched for the block when it fed it; the certificate is verified.
                let certificate = &response.certificate;
                self.follow_ups.push_back(CoreInput::ProposedValue(
                    ProposedValue {
                        height: certificate.height,
                        round: certificate.round,
                        valid_round: Round::Nil,
                        proposer,
                        value: certificate.value_id,
                        validity: Validity::Valid,
                    },
                    ValueOrigin::Sync,
                ));
                r.resume_with(())
            }
            Effect::CertRejectedSyncValue(_peer, height, _error, r) => {
                self.push(Action::SyncRejected { height: height.0 });
                r.resume_with(())
            }
            Effect::Decide(certificate, _extensions, r) => {
                let compact = certificates::compact(&certificate, &self.validators);
                self.push(Action::Commit {
                    height: certificate.height.0,
                    block_id: certificate.value_id.0,
                    certificate: compact,
                });
                r.resume_with(())
            }
            Effect::Finalize(certificate, _extensions, evidence, r) => {
                for (_, pairs) in evidence.votes.iter() {
                    for (a, b) in pairs {
                        self.report(Evidence::DoubleVote(vote_from_core(a), vote_from_core(b)));
                    }
                }
                for (_, pairs) in evidence.proposals.iter() {
                    for (a, b) in pairs {
                        self.report(Evidence::DoubleProposal(
                            proposal_from_core(a),
                            proposal_from_core(b),
                        ));
                    }
                }
                let next = certificate.height.0 + 1;
                self.own_values.clear();
                self.proposals.clear();
                self.reported.clear();
                self.push(Action::NewHeight { height: next });
                self.awaiting_start = Some(next);
                r.resume_with(())
            }
            Effect::SignVote(vote, r) => r.resume_with(self.sign_vote(vote)),
            Effect::SignProposal(proposal, r) => {
                let signed = proposal.to_chain().sign(&self.key, &self.chain_id);
                r.resume_with(SignedMessage::new(proposal, Sig(signed.signature)))
            }
            Effect::VerifySignature(message, public_key, r) => {
                let valid = match &message.message {
                    ConsensusMsg::Vote(vote) => verify(
                        &public_key,
                        Domain::Vote,
                        &self.chain_id,
                        &vote.to_chain().to_bytes(),
                        &message.signature.0,
                    )
                    .is_ok(),
                    ConsensusMsg::Proposal(proposal) => verify(
                        &public_key,
                        Domain::Proposal,
                        &self.chain_id,
                        &proposal.to_chain().to_bytes(),
                        &message.signature.0,
                    )
                    .is_ok(),
                };
                r.resume_with(valid)
            }
            Effect::VerifyCommitCertificate(certificate, validators, thresholds, r) => r
                .resume_with(certificates::verify_commit(
                    &self.chain_id,
                    &certificate,
                    &validators,
                    thresholds.quorum,
                )),
            Effect::VerifyExtendedCommitCertificate(certificate, validators, thresholds, _, r) => {
                let result = match certificate
                    .commit_signatures
                    .iter()
                    .find(|s| s.extension.is_some())
                {
                    Some(signature) => Err(core::CertificateError::UnexpectedVoteExtension(
                        signature.address,
                    )),
                    None => certificates::verify_commit(
                        &self.chain_id,
                        &certificate.trim_vote_extensions(),
                        &validators,
                        thresholds.quorum,
                    ),
                };
                r.resume_with(result)
            }
            Effect::VerifyPolkaCertificate(certificate, validators, thresholds, r) => r
                .resume_with(certificates::verify_polka(
                    &self.chain_id,
                    &certificate,
                    &validators,
                    thresholds.quorum,
                )),
            Effect::VerifyRoundCertificate(certificate, validators, thresholds, r) => r
                .resume_with(certificates::verify_round(
                    &self.chain_id,
                    &certificate,
                    &validators,
                    thresholds,
                )),
            Effect::WalAppend(height, input, r) => {
                if !self.replaying {
                    if let Some(entry) = wal_entry_from_core(height, &input) {
                        self.push(Action::Persist(entry));
                    }
                }
                r.resume_with(())
            }
            // Vote extensions are disabled: neither is ever asked for.
            Effect::ExtendVote(.., r) => r.resume_with(None),
            Effect::VerifyVoteExtension(.., r) => r.resume_with(Err(
                malachitebft_core_consensus::VoteExtensionError::InvalidVoteExtension,
            )),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use courtledger_crypto::sha256;
    use courtledger_types::Validator;

    fn single_validator() -> ConsensusConfig {
        let key = SigningKey::from_seed(&[1; 32]);
        ConsensusConfig {
            chain_id: ChainId(sha256(b"courtledger-test")),
            validators: ChainValidatorSet::new(vec![Validator {
                public_key: key.public_key(),
                voting_power: 1,
            }])
            .unwrap(),
            key,
            timeouts: TimeoutParams {
                propose_ms: 100,
                prevote_ms: 50,
                precommit_ms: 50,
                delta_ms: 10,
            },
        }
    }

    fn requested(actions: &[Action]) -> Option<(u64, u32)> {
        actions.iter().find_map(|action| match action {
            Action::RequestBlock { height, round, .. } => Some((*height, *round)),
            _ => None,
        })
    }

    /// Every message we broadcast that we signed was persisted earlier in the same list.
    fn assert_persisted_before_sent(actions: &[Action]) {
        for (index, action) in actions.iter().enumerate() {
            let earlier = &actions[..index];
            match action {
                Action::Broadcast(ConsensusMessage::Vote(vote)) => assert!(
                    earlier.contains(&Action::Persist(WalEntry::Vote(*vote))),
                    "vote broadcast before it was persisted"
                ),
                Action::Broadcast(ConsensusMessage::Proposal(proposal)) => assert!(
                    earlier.contains(&Action::Persist(WalEntry::Proposal(*proposal))),
                    "proposal broadcast before it was persisted"
                ),
                _ => {}
            }
        }
    }

    #[test]
    fn a_single_validator_commits_and_persists_before_sending() {
        let config = single_validator();
        let chain_id = config.chain_id;
        let set = config.validators.clone();
        let (mut machine, actions) = Consensus::new(config, 1, &[], 0).unwrap();
        assert_eq!(requested(&actions), Some((1, 0)));
        let block_id = sha256(b"block 1");
        let actions = machine
            .handle(
                5,
                Input::BlockBuilt {
                    height: 1,
                    round: 0,
                    block_id,
                },
            )
            .unwrap();
        assert_persisted_before_sent(&actions);
        let commit = actions.iter().find_map(|action| match action {
            Action::Commit {
                height,
                block_id,
                certificate,
            } => Some((*height, *block_id, certificate.clone())),
            _ => None,
        });
        let (height, committed, certificate) = commit.expect("a single validator decides at once");
        assert_eq!((height, committed), (1, block_id));
        assert_eq!(certificate.verify(&chain_id, &set, 1, &block_id), Ok(()));
        let commit_at = actions
            .iter()
            .position(|a| matches!(a, Action::Commit { .. }))
            .unwrap();
        let new_height_at = actions
            .iter()
            .position(|a| matches!(a, Action::NewHeight { height: 2 }))
            .unwrap();
        assert!(
            commit_at < new_height_at,
            "the commit comes before the next height"
        );
        assert_eq!(machine.height(), 2);
        assert_eq!(machine.awaiting_start(), Some(2));
        assert_eq!(requested(&actions), None, "height 2 waits for its set");
        let actions = machine
            .handle(
                6,
                Input::StartHeight {
                    height: 2,
                    validators: set,
                },
            )
            .unwrap();
        assert_eq!(machine.awaiting_start(), None);
        assert_eq!(requested(&actions), Some((2, 0)));
    }

    #[test]
    fn the_next_height_runs_with_the_set_it_is_given() {
        let config = single_validator();
        let own = config.key.public_key();
        let (mut machine, _) = Consensus::new(config.clone(), 1, &[], 0).unwrap();
        let block_id = sha256(b"block 1");
        let input = Input::BlockBuilt {
            height: 1,
            round: 0,
            block_id,
        };
        machine.handle(5, input).unwrap();
        // Only the announced height may start, and only with a set that holds this validator.
        assert!(matches!(
            machine.handle(
                6,
                Input::StartHeight {
                    height: 3,
                    validators: config.validators.clone()
                }
            ),
            Err(ConsensusError::UnexpectedStart {
                asked: 3,
                awaiting: Some(2)
            })
        ));
        let other = SigningKey::from_seed(&[2; 32]).public_key();
        let without_us = ChainValidatorSet::new(vec![Validator {
            public_key: other,
            voting_power: 1,
        }])
        .unwrap();
        assert!(matches!(
            machine.handle(
                6,
                Input::StartHeight {
                    height: 2,
                    validators: without_us
                }
            ),
            Err(ConsensusError::NotAValidator)
        ));
        // A second validator joins with three times our power: we cannot decide alone any more.
        let two = ChainValidatorSet::new(vec![
            Validator {
                public_key: own,
                voting_power: 1,
            },
            Validator {
                public_key: other,
                voting_power: 3,
            },
        ])
        .unwrap();
        machine
            .handle(
                7,
                Input::StartHeight {
                    height: 2,
                    validators: two,
                },
            )
            .unwrap();
        let proposer = machine.proposer(2, 0);
        let actions = if proposer == own {
            machine
                .handle(
                    8,
                    Input::BlockBuilt {
                        height: 2,
                        round: 0,
                        block_id: sha256(b"block 2"),
                    },
                )
                .unwrap()
        } else {
            Vec::new()
        };
        assert!(
            !actions.iter().any(|a| matches!(a, Action::Commit { .. })),
            "one quarter of the power decided alone"
        );
        assert_eq!(machine.height(), 2);
    }

    #[test]
    fn a_restarted_validator_re_proposes_the_same_block_and_signs_nothing_new() {
        let config = single_validator();
        let (mut machine, _) = Consensus::new(config.clone(), 1, &[], 0).unwrap();
        let block_id = sha256(b"block 1");
        // Feed only up to the proposal: the block arrives, the machine persists and signs.
        let actions = machine
            .handle(
                5,
                Input::BlockBuilt {
                    height: 1,
                    round: 0,
                    block_id,
                },
            )
            .unwrap();
        let wal: Vec<WalEntry> = actions
            .iter()
            .filter_map(|a| match a {
                Action::Persist(entry) => Some(entry.clone()),
                _ => None,
            })
            .collect();
        let sent: Vec<&Action> = actions
            .iter()
            .filter(|a| matches!(a, Action::Broadcast(_)))
            .collect();
        // Crash before the commit was stored; restart from the log of height 1.
        let (_, replayed) = Consensus::new(config, 1, &wal, 10).unwrap();
        // No new block for height 1, the same block decided, and every height-1 message
        // re-sent is one that was sent before.
        assert_ne!(requested(&replayed), Some((1, 0)));
        assert!(replayed.iter().any(|a| matches!(
            a,
            Action::Commit { height: 1, block_id: committed, .. } if *committed == block_id
        )));
        for action in &replayed {
            if let Action::Broadcast(message) = action {
                if message.height() == 1 {
                    assert!(
                        sent.contains(&action),
                        "restart sent something new: {action:?}"
                    );
                }
            }
        }
        // Replay persists nothing twice.
        assert!(!replayed.iter().any(|a| matches!(a, Action::Persist(_))));
    }

    #[test]
    fn a_key_outside_the_set_cannot_run() {
        let mut config = single_validator();
        config.key = SigningKey::from_seed(&[2; 32]);
        assert!(matches!(
            Consensus::new(config, 1, &[], 0),
            Err(ConsensusError::NotAValidator)
        ));
    }

    #[test]
    fn timeouts_grow_per_round_and_are_capped() {
        let params = TimeoutParams {
            propose_ms: 1000,
            prevote_ms: 500,
            precommit_ms: 500,
            delta_ms: 250,
        };
        let id = |step, round| TimeoutId { step, round };
        assert_eq!(params.duration_ms(id(TimeoutStep::Propose, 0)), 1000);
        assert_eq!(params.duration_ms(id(TimeoutStep::Prevote, 2)), 1000);
        assert_eq!(params.duration_ms(id(TimeoutStep::Rebroadcast, 0)), 2000);
        assert_eq!(
            params.duration_ms(id(TimeoutStep::Precommit, u32::MAX)),
            MAX_TIMEOUT_MS
        );
    }
}
