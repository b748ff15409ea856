//! Consensus messages on the wire, and the write-ahead log entries, with their canonical
//! encodings and conversions to and from the core's types.
//!
//! Wire layout (tag byte first, then the fields; see `docs/encoding.md` for the rules):
//!
//! ```text
//! ConsensusMessage = 1 SignedVote
//!                  | 2 SignedProposal
//!                  | 3 PolkaCertificate
//!                  | 4 RoundCertificate
//! SignedProposal   = Proposal, [64] signature
//! Proposal         = u64 height, u32 round, [32] block id, option<u32> pol round, [32] proposer
//! PolkaCertificate = u64 height, u32 round, [32] block id, seq<[32] key, [64] signature>
//! RoundCertificate = u64 height, u32 round, u8 kind (1 skip, 2 precommit),
//!                    seq<u8 vote kind, option<[32] block id>, [32] key, [64] signature>
//! WalEntry         = 1 SignedVote | 2 SignedProposal
//!                  | 3 ProposedValue (u64 height, u32 round, option<u32> valid round,
//!                                     [32] proposer, [32] block id, bool valid)
//!                  | 4 Timeout (u64 height, u8 step: 1 propose, 2 prevote, 3 precommit,
//!                               4 rebroadcast; u32 round)
//!                  | 5 PolkaCertificate
//! ```

use courtledger_codec::{decode_exact, write, Decode, DecodeError, Encode, Reader};
use courtledger_crypto::{PublicKey, Signature};
use courtledger_types::limits::MAX_VALIDATORS;
use courtledger_types::vote::SignedVote;
use courtledger_types::{BlockId, VoteKind};
use malachitebft_core_consensus::{ProposedValue, SignedConsensusMsg};
use malachitebft_core_types::{
    self as core, NilOrVal, PolkaCertificate as CorePolka, PolkaSignature, Round,
    RoundCertificate as CoreRoundCertificate, RoundCertificateType, RoundSignature, SignedMessage,
    TimeoutKind, Validity, ValueOrigin, VoteType,
};

use crate::context::{
    round_from_opt, round_opt, round_u32, Address, BlockValue, CoreProposal, CoreVote, Ctx, Height,
    Sig, SignedProposal,
};

/// Largest encoded consensus message or WAL entry, in bytes.
pub const MAX_CONSENSUS_MESSAGE_BYTES: usize = 64 * 1024;

/// Most signatures in a round certificate (a prevote and a precommit per validator).
const MAX_ROUND_SIGNATURES: u32 = 2 * MAX_VALIDATORS;

/// A polka: more than two thirds of prevotes for one block in one round.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolkaCertificate {
    /// Height.
    pub height: u64,
    /// Round.
    pub round: u32,
    /// The block.
    pub block_id: BlockId,
    /// Each prevoter's key and signature over its prevote.
    pub signatures: Vec<(PublicKey, Signature)>,
}

/// Which kind of round certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoundCertificateKind {
    /// More than a third of the power voted in a higher round.
    Skip,
    /// More than two thirds precommitted in the round.
    Precommit,
}

/// One vote inside a round certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoundVote {
    /// Prevote or precommit.
    pub kind: VoteKind,
    /// The block voted for, or nil.
    pub block_id: Option<BlockId>,
    /// The voter.
    pub validator: PublicKey,
    /// Its signature.
    pub signature: Signature,
}

/// The votes that justify entering a round.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoundCertificate {
    /// Height.
    pub height: u64,
    /// Round.
    pub round: u32,
    /// Skip or precommit.
    pub kind: RoundCertificateKind,
    /// The votes.
    pub votes: Vec<RoundVote>,
}

/// A message between validators' consensus engines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConsensusMessage {
    /// A prevote or precommit.
    Vote(SignedVote),
    /// A block proposal (the block itself travels separately).
    Proposal(SignedProposal),
    /// A polka certificate (liveness).
    Polka(PolkaCertificate),
    /// A round certificate (liveness).
    Round(RoundCertificate),
}

impl ConsensusMessage {
    /// Decodes a message from untrusted bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode_exact(bytes, MAX_CONSENSUS_MESSAGE_BYTES)
    }

    /// The height the message is about.
    pub fn height(&self) -> u64 {
        match self {
            ConsensusMessage::Vote(vote) => vote.vote.height,
            ConsensusMessage::Proposal(proposal) => proposal.proposal.height,
            ConsensusMessage::Polka(polka) => polka.height,
            ConsensusMessage::Round(round) => round.height,
        }
    }
}

fn vote_kind_tag(kind: VoteKind) -> u8 {
    match kind {
        VoteKind::Prevote => 1,
        VoteKind::Precommit => 2,
    }
}

fn write_polka(out: &mut Vec<u8>, polka: &PolkaCertificate) {
    write::u64(out, polka.height);
    write::u32(out, polka.round);
    polka.block_id.encode_to(out);
    write::length(out, polka.signatures.len());
    for (key, signature) in &polka.signatures {
        key.encode_to(out);
        signature.encode_to(out);
    }
}

fn read_polka(reader: &mut Reader<'_>) -> Result<PolkaCertificate, DecodeError> {
    let height = reader.u64("polka height")?;
    let round = reader.u32("polka round")?;
    let block_id = BlockId::decode_from(reader)?;
    let count = reader.length("polka signatures", MAX_VALIDATORS)?;
    let mut signatures = Vec::with_capacity(count.min(reader.remaining()));
    for _ in 0..count {
        signatures.push((
            PublicKey::decode_from(reader)?,
            Signature::decode_from(reader)?,
        ));
    }
    Ok(PolkaCertificate {
        height,
        round,
        block_id,
        signatures,
    })
}

impl Encode for ConsensusMessage {
    fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            ConsensusMessage::Vote(vote) => {
                write::u8(out, 1);
                vote.encode_to(out);
            }
            ConsensusMessage::Proposal(proposal) => {
                write::u8(out, 2);
                proposal.encode_to(out);
            }
            ConsensusMessage::Polka(polka) => {
                write::u8(out, 3);
                write_polka(out, polka);
            }
            ConsensusMessage::Round(certificate) => {
                write::u8(out, 4);
                write::u64(out, certificate.height);
                write::u32(out, certificate.round);
                write::u8(
                    out,
                    match certificate.kind {
                        RoundCertificateKind::Skip => 1,
                        RoundCertificateKind::Precommit => 2,
                    },
                );
                write::length(out, certificate.votes.len());
                for vote in &certificate.votes {
                    write::u8(out, vote_kind_tag(vote.kind));
                    write::option(out, vote.block_id.as_ref(), |out, id| id.encode_to(out));
                    vote.validator.encode_to(out);
                    vote.signature.encode_to(out);
                }
            }
        }
    }
}

impl Decode for ConsensusMessage {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match reader.u8("consensus message")? {
            1 => Ok(ConsensusMessage::Vote(SignedVote::decode_from(reader)?)),
            2 => Ok(ConsensusMessage::Proposal(SignedProposal::decode_from(
                reader,
            )?)),
            3 => Ok(ConsensusMessage::Polka(read_polka(reader)?)),
            4 => {
                let height = reader.u64("round certificate height")?;
                let round = reader.u32("round certificate round")?;
                let kind = match reader.u8("round certificate kind")? {
                    1 => RoundCertificateKind::Skip,
                    2 => RoundCertificateKind::Precommit,
                    tag => {
                        return Err(DecodeError::InvalidTag {
                            what: "round certificate kind",
                            tag,
                        })
                    }
                };
                let count = reader.length("round certificate votes", MAX_ROUND_SIGNATURES)?;
                let mut votes = Vec::with_capacity(count.min(reader.remaining()));
                for _ in 0..count {
                    votes.push(RoundVote {
                        kind: VoteKind::decode_from(reader)?,
                        block_id: reader.option("round vote block", BlockId::decode_from)?,
                        validator: PublicKey::decode_from(reader)?,
                        signature: Signature::decode_from(reader)?,
                    });
                }
                Ok(ConsensusMessage::Round(RoundCertificate {
                    height,
                    round,
                    kind,
                    votes,
                }))
            }
            tag => Err(DecodeError::InvalidTag {
                what: "consensus message",
                tag,
            }),
        }
    }
}

/// The kinds of consensus timeouts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TimeoutStep {
    /// Waiting for a proposal.
    Propose,
    /// Waiting for more prevotes.
    Prevote,
    /// Waiting for more precommits.
    Precommit,
    /// Re-sending our latest votes (liveness after message loss).
    Rebroadcast,
}

/// A timeout: its step and round. Scheduling one with the same id replaces the old one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeoutId {
    /// Which step.
    pub step: TimeoutStep,
    /// Which round.
    pub round: u32,
}

impl TimeoutId {
    pub(crate) fn from_core(timeout: core::Timeout) -> Option<Self> {
        let step = match timeout.kind {
            TimeoutKind::Propose => TimeoutStep::Propose,
            TimeoutKind::Prevote => TimeoutStep::Prevote,
            TimeoutKind::Precommit => TimeoutStep::Precommit,
            TimeoutKind::Rebroadcast => TimeoutStep::Rebroadcast,
            // Only with a finalization window, which we never configure.
            TimeoutKind::FinalizeHeight(_) => return None,
        };
        Some(Self {
            step,
            round: round_opt(timeout.round)?,
        })
    }

    pub(crate) fn to_core(self) -> core::Timeout {
        let kind = match self.step {
            TimeoutStep::Propose => TimeoutKind::Propose,
            TimeoutStep::Prevote => TimeoutKind::Prevote,
            TimeoutStep::Precommit => TimeoutKind::Precommit,
            TimeoutStep::Rebroadcast => TimeoutKind::Rebroadcast,
        };
        core::Timeout {
            kind,
            round: Round::new(self.round),
        }
    }
}

/// A full block value that a node holds for a proposal, with its verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProposedBlock {
    /// Height.
    pub height: u64,
    /// Round of the proposal it belongs to.
    pub round: u32,
    /// Round of the polka that justifies a re-proposal, if any.
    pub valid_round: Option<u32>,
    /// The proposer.
    pub proposer: PublicKey,
    /// The block.
    pub block_id: BlockId,
    /// Whether the block passed validation.
    pub valid: bool,
}

/// One write-ahead log entry: a consensus input that must survive a crash because it changed
/// what this validator may sign.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WalEntry {
    /// A vote (ours or a peer's).
    Vote(SignedVote),
    /// A proposal (ours or a peer's).
    Proposal(SignedProposal),
    /// A block that a proposal refers to, with its verdict.
    ProposedValue(ProposedBlock),
    /// A timeout that fired at a height.
    Timeout {
        /// The height.
        height: u64,
        /// The timeout.
        timeout: TimeoutId,
    },
    /// A polka certificate.
    Polka(PolkaCertificate),
}

impl WalEntry {
    /// Decodes an entry from (trusted but possibly corrupted) bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode_exact(bytes, MAX_CONSENSUS_MESSAGE_BYTES)
    }

    /// The height the entry belongs to.
    pub fn height(&self) -> u64 {
        match self {
            WalEntry::Vote(vote) => vote.vote.height,
            WalEntry::Proposal(proposal) => proposal.proposal.height,
            WalEntry::ProposedValue(value) => value.height,
            WalEntry::Timeout { height, .. } => *height,
            WalEntry::Polka(polka) => polka.height,
        }
    }
}

impl Encode for WalEntry {
    fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            WalEntry::Vote(vote) => {
                write::u8(out, 1);
                vote.encode_to(out);
            }
            WalEntry::Proposal(proposal) => {
                write::u8(out, 2);
                proposal.encode_to(out);
            }
            WalEntry::ProposedValue(value) => {
                write::u8(out, 3);
                write::u64(out, value.height);
                write::u32(out, value.round);
                write::option(out, value.valid_round.as_ref(), |out, r| {
                    write::u32(out, *r)
                });
                value.proposer.encode_to(out);
                value.block_id.encode_to(out);
                write::bool(out, value.valid);
            }
            WalEntry::Timeout { height, timeout } => {
                write::u8(out, 4);
                write::u64(out, *height);
                write::u8(
                    out,
                    match timeout.step {
                        TimeoutStep::Propose => 1,
                        TimeoutStep::Prevote => 2,
                        TimeoutStep::Precommit => 3,
                        TimeoutStep::Rebroadcast => 4,
                    },
                );
                write::u32(out, timeout.round);
            }
            WalEntry::Polka(polka) => {
                write::u8(out, 5);
                write_polka(out, polka);
            }
        }
    }
}

impl Decode for WalEntry {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match reader.u8("wal entry")? {
            1 => Ok(WalEntry::Vote(SignedVote::decode_from(reader)?)),
            2 => Ok(WalEntry::Proposal(SignedProposal::decode_from(reader)?)),
            3 => Ok(WalEntry::ProposedValue(ProposedBlock {
                height: reader.u64("proposed value height")?,
                round: reader.u32("proposed value round")?,
                valid_round: reader
                    .option("proposed value valid round", |r| r.u32("valid round"))?,
                proposer: PublicKey::decode_from(reader)?,
                block_id: BlockId::decode_from(reader)?,
                valid: reader.bool("proposed value validity")?,
            })),
            4 => {
                let height = reader.u64("timeout height")?;
                let step = match reader.u8("timeout step")? {
                    1 => TimeoutStep::Propose,
                    2 => TimeoutStep::Prevote,
                    3 => TimeoutStep::Precommit,
                    4 => TimeoutStep::Rebroadcast,
                    tag => {
                        return Err(DecodeError::InvalidTag {
                            what: "timeout step",
                            tag,
                        })
                    }
                };
                let timeout = TimeoutId {
                    step,
                    round: reader.u32("timeout round")?,
                };
                Ok(WalEntry::Timeout { height, timeout })
            }
            5 => Ok(WalEntry::Polka(read_polka(reader)?)),
            tag => Err(DecodeError::InvalidTag {
                what: "wal entry",
                tag,
            }),
        }
    }
}

// Conversions between our types and the core's.

pub(crate) fn vote_to_core(vote: &SignedVote) -> core::SignedVote<Ctx> {
    SignedMessage::new(CoreVote::from_chain(&vote.vote), Sig(vote.signature))
}

pub(crate) fn vote_from_core(vote: &core::SignedVote<Ctx>) -> SignedVote {
    SignedVote {
        vote: vote.message.to_chain(),
        signature: vote.signature.0,
    }
}

pub(crate) fn proposal_to_core(proposal: &SignedProposal) -> core::SignedProposal<Ctx> {
    SignedMessage::new(
        CoreProposal::from_chain(&proposal.proposal),
        Sig(proposal.signature),
    )
}

pub(crate) fn proposal_from_core(proposal: &core::SignedProposal<Ctx>) -> SignedProposal {
    SignedProposal {
        proposal: proposal.message.to_chain(),
        signature: proposal.signature.0,
    }
}

pub(crate) fn polka_to_core(polka: &PolkaCertificate) -> CorePolka<Ctx> {
    CorePolka {
        height: Height(polka.height),
        round: Round::new(polka.round),
        value_id: BlockValue(polka.block_id),
        polka_signatures: polka
            .signatures
            .iter()
            .map(|(key, signature)| PolkaSignature::new(Address(*key), Sig(*signature)))
            .collect(),
    }
}

pub(crate) fn polka_from_core(polka: &CorePolka<Ctx>) -> PolkaCertificate {
    PolkaCertificate {
        height: polka.height.0,
        round: round_u32(polka.round),
        block_id: polka.value_id.0,
        signatures: polka
            .polka_signatures
            .iter()
            .map(|s| (s.address.0, s.signature.0))
            .collect(),
    }
}

fn vote_type(kind: VoteKind) -> VoteType {
    match kind {
        VoteKind::Prevote => VoteType::Prevote,
        VoteKind::Precommit => VoteType::Precommit,
    }
}

fn vote_kind(vote_type: VoteType) -> VoteKind {
    match vote_type {
        VoteType::Prevote => VoteKind::Prevote,
        VoteType::Precommit => VoteKind::Precommit,
    }
}

pub(crate) fn round_certificate_to_core(
    certificate: &RoundCertificate,
) -> CoreRoundCertificate<Ctx> {
    CoreRoundCertificate {
        height: Height(certificate.height),
        round: Round::new(certificate.round),
        cert_type: match certificate.kind {
            RoundCertificateKind::Skip => RoundCertificateType::Skip,
            RoundCertificateKind::Precommit => RoundCertificateType::Precommit,
        },
        round_signatures: certificate
            .votes
            .iter()
            .map(|vote| RoundSignature {
                vote_type: vote_type(vote.kind),
                value_id: vote
                    .block_id
                    .map_or(NilOrVal::Nil, |id| NilOrVal::Val(BlockValue(id))),
                address: Address(vote.validator),
                signature: Sig(vote.signature),
            })
            .collect(),
    }
}

pub(crate) fn round_certificate_from_core(
    certificate: &CoreRoundCertificate<Ctx>,
) -> RoundCertificate {
    RoundCertificate {
        height: certificate.height.0,
        round: round_u32(certificate.round),
        kind: match certificate.cert_type {
            RoundCertificateType::Skip => RoundCertificateKind::Skip,
            RoundCertificateType::Precommit => RoundCertificateKind::Precommit,
        },
        votes: certificate
            .round_signatures
            .iter()
            .map(|s| RoundVote {
                kind: vote_kind(s.vote_type),
                block_id: match s.value_id {
                    NilOrVal::Nil => None,
                    NilOrVal::Val(value) => Some(value.0),
                },
                validator: s.address.0,
                signature: s.signature.0,
            })
            .collect(),
    }
}

pub(crate) fn proposed_to_core(block: &ProposedBlock) -> ProposedValue<Ctx> {
    ProposedValue {
        height: Height(block.height),
        round: Round::new(block.round),
        valid_round: round_from_opt(block.valid_round),
        proposer: Address(block.proposer),
        value: BlockValue(block.block_id),
        validity: Validity::from_bool(block.valid),
    }
}

pub(crate) fn proposed_from_core(value: &ProposedValue<Ctx>) -> ProposedBlock {
    ProposedBlock {
        height: value.height.0,
        round: round_u32(value.round),
        valid_round: round_opt(value.valid_round),
        proposer: value.proposer.0,
        block_id: value.value.0,
        valid: value.validity.is_valid(),
    }
}

/// The WAL entry for a core input, if the core's input is one we persist.
pub(crate) fn wal_entry_from_core(
    height: Height,
    input: &malachitebft_core_consensus::Input<Ctx>,
) -> Option<WalEntry> {
    use malachitebft_core_consensus::Input;
    match input {
        Input::Vote(vote) => Some(WalEntry::Vote(vote_from_core(vote))),
        Input::Proposal(proposal) => Some(WalEntry::Proposal(proposal_from_core(proposal))),
        Input::ProposedValue(value, _) => Some(WalEntry::ProposedValue(proposed_from_core(value))),
        Input::TimeoutElapsed(timeout) => {
            TimeoutId::from_core(*timeout).map(|timeout| WalEntry::Timeout {
                height: height.0,
                timeout,
            })
        }
        Input::PolkaCertificate(polka) => Some(WalEntry::Polka(polka_from_core(polka))),
        _ => None,
    }
}

/// The core input that replays a WAL entry.
pub(crate) fn wal_entry_to_core(entry: &WalEntry) -> malachitebft_core_consensus::Input<Ctx> {
    use malachitebft_core_consensus::Input;
    match entry {
        WalEntry::Vote(vote) => Input::Vote(vote_to_core(vote)),
        WalEntry::Proposal(proposal) => Input::Proposal(proposal_to_core(proposal)),
        WalEntry::ProposedValue(value) => {
            Input::ProposedValue(proposed_to_core(value), ValueOrigin::Consensus)
        }
        WalEntry::Timeout { timeout, .. } => Input::TimeoutElapsed(timeout.to_core()),
        WalEntry::Polka(polka) => Input::PolkaCertificate(polka_to_core(polka)),
    }
}

/// Our message for a message the core publishes.
pub(crate) fn message_from_core(message: &SignedConsensusMsg<Ctx>) -> ConsensusMessage {
    match message {
        SignedConsensusMsg::Vote(vote) => ConsensusMessage::Vote(vote_from_core(vote)),
        SignedConsensusMsg::Proposal(proposal) => {
            ConsensusMessage::Proposal(proposal_from_core(proposal))
        }
    }
}
