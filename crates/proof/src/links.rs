//! The chain of validator sets from genesis: one [`SetLink`] per activated validator-set change
//! (`docs/proof-format.md`, "Version 3").
//!
//! A link is a signed change and the certified header of the last block before it applies (its
//! *boundary*, at height `activation_height − 1`). Starting from the genesis set `S`, a link
//! holds when the change names `S` and more than two thirds of `S`'s power approved it
//! ([`SignedSetChange::verify`], giving the new set `N`), and more than two thirds of `S`'s power
//! certified the boundary header, which names `S` as its own set and `N` as the next one. Then
//! `N` signs every block from the activation height on, until the next link.
//!
//! [`follow`] walks the links of a bundle or checkpoint file in order and returns every set
//! with the heights it signs ([`SetChain`]); each failure is a [`ProofError`] naming its check.

use courtledger_codec::{Decode, DecodeError, Encode, Reader};
use courtledger_crypto::{ChainId, Digest};
use courtledger_types::limits::{
    MAX_ADDRESS_BYTES, MAX_CERTIFICATE_BYTES, MAX_COURT_CODE_BYTES, MAX_HEADER_BYTES,
    MAX_PROOF_SET_LINKS, MAX_VALIDATORS,
};
use courtledger_types::{
    BlockHeader, BlockId, CommitCertificate, CourtCode, Genesis, SignedSetChange, ValidatorSet,
};

use crate::verify::Signer;
use crate::ProofError;

/// Most links in a bundle or checkpoint file
/// ([`courtledger_types::limits::MAX_PROOF_SET_LINKS`]).
pub const MAX_SET_LINKS: u32 = MAX_PROOF_SET_LINKS;

/// Largest encoded [`SignedSetChange`]: the replaced set's hash (32), the activation height (8),
/// at most [`MAX_VALIDATORS`] members (a court code of at most [`MAX_COURT_CODE_BYTES`] and a p2p
/// address of at most [`MAX_ADDRESS_BYTES`], each with its `u32` length, a key and a power:
/// 336 bytes) and as many approvals (66 bytes each), with their `u32` counts: 51,504 bytes.
pub const MAX_SIGNED_SET_CHANGE_BYTES: u32 = 32
    + 8
    + 4
    + MAX_VALIDATORS * (4 + MAX_COURT_CODE_BYTES + 32 + 8 + 4 + MAX_ADDRESS_BYTES)
    + 4
    + MAX_VALIDATORS * (2 + 64);

/// Largest encoded [`SetLink`]: a signed change, a header and a certificate at their largest
/// (51,504 + 1,024 + 8,528 = 61,056 bytes).
pub const MAX_SET_LINK_BYTES: u32 =
    MAX_SIGNED_SET_CHANGE_BYTES + MAX_HEADER_BYTES + MAX_CERTIFICATE_BYTES;

const _: () = assert!(MAX_SIGNED_SET_CHANGE_BYTES == 51_504);
const _: () = assert!(MAX_SET_LINK_BYTES == 61_056);

/// One validator-set change as a verifier follows it: the signed change, and the header and
/// certificate of the last block the replaced set signs (height `activation_height − 1`),
/// whose `next_validators_hash` names the new set.
///
/// Encoded as `SignedSetChange ‖ BlockHeader ‖ CommitCertificate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetLink {
    /// The change and the approvals of the set it replaces.
    pub change: SignedSetChange,
    /// The header of block `activation_height − 1`.
    pub boundary: BlockHeader,
    /// The precommits that decided it.
    pub certificate: CommitCertificate,
}

impl SetLink {
    /// The first height the new set signs.
    pub fn activation_height(&self) -> u64 {
        self.change.change.activation_height
    }

    /// Decodes one link from untrusted bytes (bounded, no trailing bytes).
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        courtledger_codec::decode_exact(
            bytes,
            usize::try_from(MAX_SET_LINK_BYTES).unwrap_or(usize::MAX),
        )
    }
}

impl Encode for SetLink {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.change.encode_to(out);
        self.boundary.encode_to(out);
        self.certificate.encode_to(out);
    }
}

impl Decode for SetLink {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            change: SignedSetChange::decode_from(reader)?,
            boundary: BlockHeader::decode_from(reader)?,
            certificate: CommitCertificate::decode_from(reader)?,
        })
    }
}

/// A validator set and the court of each member, in set order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roster {
    /// The set.
    pub set: ValidatorSet,
    /// `courts[i]` runs validator `i`.
    pub courts: Vec<CourtCode>,
    /// The first height it signs (1 for the genesis set).
    pub from_height: u64,
}

impl Roster {
    /// The genesis set, with the genesis courts.
    pub fn genesis(genesis: &Genesis) -> Self {
        Self {
            set: genesis.validator_set().clone(),
            courts: genesis
                .validators
                .iter()
                .map(|v| v.court_code.clone())
                .collect(),
            from_height: 1,
        }
    }
}

/// A followed link: what a verifier reports of a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedSetChange {
    /// The first height the new set signs.
    pub activation_height: u64,
    /// The id of the boundary block (`activation_height − 1`).
    pub boundary_block_id: BlockId,
    /// The replaced set's hash.
    pub from_set_hash: Digest,
    /// The new set's hash.
    pub set_hash: Digest,
    /// The new set's courts, in set order.
    pub courts: Vec<CourtCode>,
    /// The new set's total voting power.
    pub total_power: u64,
    /// The validators of the replaced set that approved the change.
    pub approvers: Vec<Signer>,
    /// Their voting power.
    pub approved_power: u64,
}

/// The validator sets of a chain up to some height: the genesis set, then the set of each
/// followed link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetChain {
    rosters: Vec<Roster>,
    changes: Vec<VerifiedSetChange>,
}

impl SetChain {
    /// The genesis set alone (no link).
    pub fn genesis(genesis: &Genesis) -> Self {
        Self {
            rosters: vec![Roster::genesis(genesis)],
            changes: Vec::new(),
        }
    }

    /// The set that signs block `height`: the last whose first height is at most `height`.
    pub fn at(&self, height: u64) -> &Roster {
        self.rosters
            .iter()
            .rev()
            .find(|roster| roster.from_height <= height)
            .unwrap_or(&self.rosters[0])
    }

    /// Every set, oldest first: the genesis set, then the set of each followed link.
    pub fn rosters(&self) -> &[Roster] {
        &self.rosters
    }

    /// The changes followed, in order.
    pub fn changes(&self) -> &[VerifiedSetChange] {
        &self.changes
    }

    /// The changes that apply at `height` (activation at or below it).
    pub fn changes_at(&self, height: u64) -> Vec<VerifiedSetChange> {
        self.changes
            .iter()
            .filter(|c| c.activation_height <= height)
            .cloned()
            .collect()
    }
}

/// Follows `links` from the genesis set, for a bundle or checkpoint file that proves blocks up
/// to height `limit`. Checks, in order (`docs/proof-format.md`, step 8):
///
/// 1. over all links: activation heights strictly ascending (`set_link_order`), none above
///    `limit` (`set_link_height`);
/// 2. per link, with `S` the set in force: the boundary header is of this chain
///    (`set_boundary_chain`) and at `activation − 1` (`set_boundary_height`); `S` approved the
///    change (`set_change_*`: [`SignedSetChange::verify`]), giving `N`; the boundary names `S`
///    (`set_boundary_validator_set`) and `N` next (`set_boundary_next_validator_set`); more than
///    two thirds of `S` certified it (`set_boundary_certificate_*`); then `S = N`.
pub fn follow(links: &[SetLink], genesis: &Genesis, limit: u64) -> Result<SetChain, ProofError> {
    let mut previous: Option<u64> = None;
    for (link, item) in links.iter().enumerate() {
        let activation = item.activation_height();
        if let Some(previous) = previous {
            if activation <= previous {
                return Err(ProofError::SetLinkOrder {
                    link,
                    activation,
                    previous,
                });
            }
        }
        previous = Some(activation);
    }
    if let Some((link, item)) = links
        .iter()
        .enumerate()
        .find(|(_, item)| item.activation_height() > limit)
    {
        return Err(ProofError::SetLinkHeight {
            link,
            activation: item.activation_height(),
            limit,
        });
    }

    let chain_id = genesis.chain_id();
    let mut chain = SetChain::genesis(genesis);
    for (link, item) in links.iter().enumerate() {
        let current = chain.rosters.last().unwrap_or(&chain.rosters[0]);
        let (change, set) = follow_one(link, item, current, &chain_id)?;
        let next = Roster {
            set,
            courts: change.courts.clone(),
            from_height: change.activation_height,
        };
        chain.rosters.push(next);
        chain.changes.push(change);
    }
    Ok(chain)
}

/// The checks of one link against the set in force (`current`).
fn follow_one(
    link: usize,
    item: &SetLink,
    current: &Roster,
    chain_id: &ChainId,
) -> Result<(VerifiedSetChange, ValidatorSet), ProofError> {
    let SetLink {
        change,
        boundary,
        certificate,
    } = item;
    let activation = change.change.activation_height;
    if boundary.chain_id != *chain_id {
        return Err(ProofError::SetBoundaryChain {
            link,
            boundary: boundary.chain_id,
            genesis: *chain_id,
        });
    }
    if activation.checked_sub(1) != Some(boundary.height) || boundary.height == 0 {
        return Err(ProofError::SetBoundaryHeight {
            link,
            boundary: boundary.height,
            activation,
        });
    }
    let next = change
        .verify(chain_id, &current.set)
        .map_err(|error| ProofError::SetChange { link, error })?;
    let from_hash = current.set.hash();
    if boundary.validators_hash != from_hash {
        return Err(ProofError::SetBoundaryValidatorSet {
            link,
            header: boundary.validators_hash,
            expected: from_hash,
        });
    }
    let next_hash = next.hash();
    if boundary.next_validators_hash != next_hash {
        return Err(ProofError::SetBoundaryNextValidatorSet {
            link,
            header: boundary.next_validators_hash,
            expected: next_hash,
        });
    }
    let boundary_block_id = boundary.id();
    certificate
        .verify(chain_id, &current.set, boundary.height, &boundary_block_id)
        .map_err(|error| ProofError::SetBoundaryCertificate { link, error })?;
    let approvers: Vec<Signer> = change
        .approvals
        .iter()
        .filter_map(|approval| signer(current, approval.validator_index))
        .collect();
    let approved_power = approvers.iter().map(|s| s.voting_power).sum();
    let total_power = next.total_power();
    let verified = VerifiedSetChange {
        activation_height: activation,
        boundary_block_id,
        from_set_hash: from_hash,
        set_hash: next_hash,
        courts: change
            .change
            .members
            .iter()
            .map(|m| m.court_code.clone())
            .collect(),
        total_power,
        approvers,
        approved_power,
    };
    Ok((verified, next))
}

/// Validator `index` of `roster`, as a signer.
pub(crate) fn signer(roster: &Roster, index: u16) -> Option<Signer> {
    let validator = roster.set.get(index)?;
    Some(Signer {
        index,
        court_code: roster.courts.get(usize::from(index))?.clone(),
        public_key: validator.public_key,
        voting_power: validator.voting_power,
    })
}
