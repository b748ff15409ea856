//! Our `Context` for malachite's core: heights, addresses, validators, the block id as the
//! consensus value, proposals, votes, and the ed25519 signing scheme.
//!
//! Votes are signed over exactly the bytes of [`courtledger_types::Vote`] under
//! [`Domain::Vote`], so a precommit signature gathered by the core is directly a signature of our
//! compact [`courtledger_types::CommitCertificate`]. Proposals are signed over
//! [`Proposal`]'s canonical encoding under [`Domain::Proposal`].

use std::fmt;

use courtledger_codec::{write, Decode, DecodeError, Encode, Reader};
use courtledger_crypto::{ChainId, Domain, PublicKey, Signature, SigningKey};
use courtledger_types::{BlockId, ValidatorSet as ChainValidatorSet, Vote as ChainVote, VoteKind};
use malachitebft_core_types as core;
use malachitebft_core_types::{NilOrVal, Round, SignedExtension, VoteType, VotingPower};

use crate::proposer::ProposerSchedule;

/// A height, starting at 1.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Height(pub u64);

impl fmt::Display for Height {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl core::Height for Height {
    const ZERO: Self = Height(0);
    const INITIAL: Self = Height(1);

    fn increment_by(&self, n: u64) -> Self {
        Height(self.0.checked_add(n).expect("height overflow"))
    }

    fn decrement_by(&self, n: u64) -> Option<Self> {
        self.0.checked_sub(n).map(Height)
    }

    fn as_u64(&self) -> u64 {
        self.0
    }
}

/// A validator's address is its public key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Address(pub PublicKey);

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0.to_string();
        f.write_str(text.get(..8).unwrap_or(&text))
    }
}

impl core::Address for Address {}

/// An ed25519 signature, ordered by its bytes (the core wants `Ord`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Sig(pub Signature);

impl PartialOrd for Sig {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Sig {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0 .0.cmp(&other.0 .0)
    }
}

/// The signing scheme as the core names it. Signing and verification happen in our host, with
/// our domain tags and chain id; the core only carries these types.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ed25519;

/// Why the core could not decode key or signature bytes.
#[derive(Debug)]
pub struct SchemeDecodeError(&'static str);

impl fmt::Display for SchemeDecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl core::SigningScheme for Ed25519 {
    type DecodingError = SchemeDecodeError;
    type Signature = Sig;
    type PublicKey = PublicKey;
    type PrivateKey = SigningKey;

    fn decode_signature(bytes: &[u8]) -> Result<Sig, SchemeDecodeError> {
        let bytes: [u8; 64] = bytes
            .try_into()
            .map_err(|_| SchemeDecodeError("a signature is 64 bytes"))?;
        Ok(Sig(Signature(bytes)))
    }

    fn encode_signature(signature: &Sig) -> Vec<u8> {
        signature.0 .0.to_vec()
    }

    fn decode_public_key(bytes: &[u8]) -> Result<PublicKey, SchemeDecodeError> {
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| SchemeDecodeError("a public key is 32 bytes"))?;
        PublicKey::from_bytes(&bytes).map_err(|_| SchemeDecodeError("invalid public key"))
    }

    fn encode_public_key(key: &PublicKey) -> Vec<u8> {
        key.as_bytes().to_vec()
    }
}

/// The consensus value: the id of a block. Blocks travel beside consensus.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BlockValue(pub BlockId);

impl fmt::Display for BlockValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0.to_string();
        f.write_str(text.get(..8).unwrap_or(&text))
    }
}

impl core::Value for BlockValue {
    type Id = BlockValue;

    fn id(&self) -> BlockValue {
        *self
    }
}

/// A validator as the core sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Validator {
    address: Address,
    public_key: PublicKey,
    voting_power: VotingPower,
}

impl core::Validator<Ctx> for Validator {
    fn address(&self) -> &Address {
        &self.address
    }

    fn public_key(&self) -> &PublicKey {
        &self.public_key
    }

    fn voting_power(&self) -> VotingPower {
        self.voting_power
    }
}

/// The validator set of a height, in the chain's canonical order, with its proposer schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatorSet {
    chain: ChainValidatorSet,
    validators: Vec<Validator>,
    schedule: ProposerSchedule,
}

impl ValidatorSet {
    /// Wraps the chain's validator set.
    pub fn new(chain: ChainValidatorSet) -> Self {
        let validators = chain
            .validators()
            .iter()
            .map(|v| Validator {
                address: Address(v.public_key),
                public_key: v.public_key,
                voting_power: v.voting_power,
            })
            .collect();
        let schedule = ProposerSchedule::new(&chain);
        Self {
            chain,
            validators,
            schedule,
        }
    }

    /// The chain's validator set.
    pub fn chain(&self) -> &ChainValidatorSet {
        &self.chain
    }

    /// The proposer of `round` at `height`.
    pub fn proposer(&self, height: u64, round: u32) -> PublicKey {
        self.chain.validators()[self.schedule.proposer_index(height, round)].public_key
    }
}

impl core::ValidatorSet<Ctx> for ValidatorSet {
    fn count(&self) -> usize {
        self.validators.len()
    }

    fn total_voting_power(&self) -> VotingPower {
        self.chain.total_power()
    }

    fn get_by_address(&self, address: &Address) -> Option<&Validator> {
        self.validators.iter().find(|v| &v.address == address)
    }

    fn get_by_index(&self, index: usize) -> Option<&Validator> {
        self.validators.get(index)
    }
}

/// Converts a core round that must be defined.
///
/// # Panics
/// On `Round::Nil`: the core never hands us a nil round where a defined one is meant.
pub(crate) fn round_u32(round: Round) -> u32 {
    round.as_u32().expect("a defined round")
}

/// Converts an optional round (`None` = nil).
pub(crate) fn round_opt(round: Round) -> Option<u32> {
    round.as_u32()
}

/// Converts back from an optional round.
pub(crate) fn round_from_opt(round: Option<u32>) -> Round {
    round.map_or(Round::Nil, Round::new)
}

/// A block proposal: the proposer's claim that `block_id` is its value for a round.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Proposal {
    /// Height.
    pub height: u64,
    /// Round.
    pub round: u32,
    /// The proposed block.
    pub block_id: BlockId,
    /// The round of the polka that justifies re-proposing a value, if any.
    pub pol_round: Option<u32>,
    /// The proposer.
    pub proposer: PublicKey,
}

impl Proposal {
    /// Signs the proposal under [`Domain::Proposal`].
    pub fn sign(self, key: &SigningKey, chain_id: &ChainId) -> SignedProposal {
        let signature = key.sign(Domain::Proposal, chain_id, &self.to_bytes());
        SignedProposal {
            proposal: self,
            signature,
        }
    }
}

impl Encode for Proposal {
    fn encode_to(&self, out: &mut Vec<u8>) {
        write::u64(out, self.height);
        write::u32(out, self.round);
        self.block_id.encode_to(out);
        write::option(out, self.pol_round.as_ref(), |out, round| {
            write::u32(out, *round)
        });
        self.proposer.encode_to(out);
    }
}

impl Decode for Proposal {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            height: reader.u64("proposal height")?,
            round: reader.u32("proposal round")?,
            block_id: BlockId::decode_from(reader)?,
            pol_round: reader.option("proposal pol round", |r| r.u32("proposal pol round"))?,
            proposer: PublicKey::decode_from(reader)?,
        })
    }
}

/// A proposal with the proposer's signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SignedProposal {
    /// The proposal.
    pub proposal: Proposal,
    /// ed25519 over `Domain::Proposal || chain id || encode(proposal)`.
    pub signature: Signature,
}

impl SignedProposal {
    /// Checks the signature.
    pub fn verify(&self, chain_id: &ChainId) -> bool {
        courtledger_crypto::verify(
            &self.proposal.proposer,
            Domain::Proposal,
            chain_id,
            &self.proposal.to_bytes(),
            &self.signature,
        )
        .is_ok()
    }
}

impl Encode for SignedProposal {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.proposal.encode_to(out);
        self.signature.encode_to(out);
    }
}

impl Decode for SignedProposal {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            proposal: Proposal::decode_from(reader)?,
            signature: Signature::decode_from(reader)?,
        })
    }
}

/// The core's view of a proposal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoreProposal {
    height: Height,
    round: Round,
    value: BlockValue,
    pol_round: Round,
    proposer: Address,
}

impl CoreProposal {
    /// Our proposal for this core proposal.
    pub fn to_chain(&self) -> Proposal {
        Proposal {
            height: self.height.0,
            round: round_u32(self.round),
            block_id: self.value.0,
            pol_round: round_opt(self.pol_round),
            proposer: self.proposer.0,
        }
    }

    /// The core proposal for our proposal.
    pub fn from_chain(proposal: &Proposal) -> Self {
        Self {
            height: Height(proposal.height),
            round: Round::new(proposal.round),
            value: BlockValue(proposal.block_id),
            pol_round: round_from_opt(proposal.pol_round),
            proposer: Address(proposal.proposer),
        }
    }
}

impl core::Proposal<Ctx> for CoreProposal {
    fn height(&self) -> Height {
        self.height
    }

    fn round(&self) -> Round {
        self.round
    }

    fn value(&self) -> &BlockValue {
        &self.value
    }

    fn take_value(self) -> BlockValue {
        self.value
    }

    fn pol_round(&self) -> Round {
        self.pol_round
    }

    fn validator_address(&self) -> &Address {
        &self.proposer
    }
}

/// The core's view of a vote. Extensions are never used (policy `Disabled`), so the signed
/// bytes are exactly those of the chain's [`ChainVote`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoreVote {
    vote_type: VoteType,
    height: Height,
    round: Round,
    value: NilOrVal<BlockValue>,
    validator: Address,
    extension: Option<SignedExtension<Ctx>>,
}

impl CoreVote {
    /// The chain vote that this core vote's signature covers.
    pub fn to_chain(&self) -> ChainVote {
        ChainVote {
            height: self.height.0,
            round: round_u32(self.round),
            kind: match self.vote_type {
                VoteType::Prevote => VoteKind::Prevote,
                VoteType::Precommit => VoteKind::Precommit,
            },
            block_id: match self.value {
                NilOrVal::Nil => None,
                NilOrVal::Val(value) => Some(value.0),
            },
            validator: self.validator.0,
        }
    }

    /// The core vote for a chain vote.
    pub fn from_chain(vote: &ChainVote) -> Self {
        Self {
            vote_type: match vote.kind {
                VoteKind::Prevote => VoteType::Prevote,
                VoteKind::Precommit => VoteType::Precommit,
            },
            height: Height(vote.height),
            round: Round::new(vote.round),
            value: vote
                .block_id
                .map_or(NilOrVal::Nil, |id| NilOrVal::Val(BlockValue(id))),
            validator: Address(vote.validator),
            extension: None,
        }
    }
}

impl core::Vote<Ctx> for CoreVote {
    fn height(&self) -> Height {
        self.height
    }

    fn round(&self) -> Round {
        self.round
    }

    fn value(&self) -> &NilOrVal<BlockValue> {
        &self.value
    }

    fn take_value(self) -> NilOrVal<BlockValue> {
        self.value
    }

    fn vote_type(&self) -> VoteType {
        self.vote_type
    }

    fn validator_address(&self) -> &Address {
        &self.validator
    }

    fn extension(&self) -> Option<&SignedExtension<Ctx>> {
        self.extension.as_ref()
    }

    fn take_extension(&mut self) -> Option<SignedExtension<Ctx>> {
        self.extension.take()
    }

    fn extend(self, extension: SignedExtension<Ctx>) -> Self {
        Self {
            extension: Some(extension),
            ..self
        }
    }
}

/// We gossip whole blocks beside consensus; the core never builds a proposal part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NoPart {}

impl core::ProposalPart<Ctx> for NoPart {
    fn is_first(&self) -> bool {
        match *self {}
    }

    fn is_last(&self) -> bool {
        match *self {}
    }
}

/// Placeholder for the core's `Timeouts` type: durations are computed by our machine from the
/// genesis parameters ([`crate::TimeoutParams`]); the core never asks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UnusedTimeouts;

impl core::Timeouts<Ctx> for UnusedTimeouts {
    fn duration_for(&self, _timeout: core::Timeout) -> std::time::Duration {
        unreachable!("the core never computes timeout durations; the machine does")
    }
}

/// The context type.
#[derive(Clone, Copy, Debug, Default)]
pub struct Ctx;

impl core::Context for Ctx {
    type Address = Address;
    type Height = Height;
    type ProposalPart = NoPart;
    type Proposal = CoreProposal;
    type Validator = Validator;
    type ValidatorSet = ValidatorSet;
    type Timeouts = UnusedTimeouts;
    type Value = BlockValue;
    type Vote = CoreVote;
    type Extension = ();
    type SigningScheme = Ed25519;

    fn select_proposer<'a>(
        &self,
        validator_set: &'a ValidatorSet,
        height: Height,
        round: Round,
    ) -> &'a Validator {
        let index = validator_set
            .schedule
            .proposer_index(height.0, round_u32(round));
        &validator_set.validators[index]
    }

    fn new_proposal(
        &self,
        height: Height,
        round: Round,
        value: BlockValue,
        pol_round: Round,
        address: Address,
    ) -> CoreProposal {
        CoreProposal {
            height,
            round,
            value,
            pol_round,
            proposer: address,
        }
    }

    fn new_prevote(
        &self,
        height: Height,
        round: Round,
        value_id: NilOrVal<BlockValue>,
        address: Address,
    ) -> CoreVote {
        CoreVote {
            vote_type: VoteType::Prevote,
            height,
            round,
            value: value_id,
            validator: address,
            extension: None,
        }
    }

    fn new_precommit(
        &self,
        height: Height,
        round: Round,
        value_id: NilOrVal<BlockValue>,
        address: Address,
    ) -> CoreVote {
        CoreVote {
            vote_type: VoteType::Precommit,
            height,
            round,
            value: value_id,
            validator: address,
            extension: None,
        }
    }
}
