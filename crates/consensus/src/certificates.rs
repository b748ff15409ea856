//! Verification of the certificates the core asks about, and conversion of the core's commit
//! certificate into the chain's compact [`CommitCertificate`].
//!
//! Every check rebuilds the vote each signature covers as a chain [`Vote`] and verifies all
//! signatures of a certificate in one batch.

// The error type is the core's, and the core's resume value requires it as it is.
#![allow(clippy::result_large_err)]

use std::collections::BTreeSet;

use courtledger_codec::Encode;
use courtledger_crypto::{verify_batch, BatchItem, ChainId, Domain, Signature};
use courtledger_types::{BlockId, CommitCertificate, CommitSignature, Vote, VoteKind};
use malachitebft_core_types::{
    self as core, CertificateError, NilOrVal, RoundCertificateType, ThresholdParam, VoteType,
};

use crate::context::{round_u32, Address, Ctx, Sig, ValidatorSet};

/// One signature to check: the signer, the vote it signed, and the core's error for a bad one.
struct Signed {
    address: Address,
    vote: Vote,
    signature: Signature,
    on_bad: CertificateError<Ctx>,
}

/// Checks distinct known signers, every signature (batched), and the threshold.
fn tally(
    chain_id: &ChainId,
    validators: &ValidatorSet,
    threshold: ThresholdParam,
    items: Vec<Signed>,
) -> Result<(), CertificateError<Ctx>> {
    let mut seen = BTreeSet::new();
    let mut signed: u64 = 0;
    for item in &items {
        if !seen.insert(item.address) {
            return Err(CertificateError::DuplicateVote(item.address));
        }
        let index = validators
            .chain()
            .index_of(&item.address.0)
            .ok_or(CertificateError::UnknownValidator(item.address))?;
        let power = validators.chain().get(index).map_or(0, |v| v.voting_power);
        signed = signed
            .checked_add(power)
            .ok_or(CertificateError::VotingPowerOverflow {
                signed,
                added: power,
            })?;
    }
    let messages: Vec<Vec<u8>> = items.iter().map(|item| item.vote.to_bytes()).collect();
    let batch: Vec<BatchItem<'_>> = items
        .iter()
        .zip(&messages)
        .map(|(item, message)| BatchItem {
            public_key: &item.address.0,
            domain: Domain::Vote,
            chain_id,
            message,
            signature: &item.signature,
        })
        .collect();
    if let Err(failure) = verify_batch(&batch) {
        let bad = items
            .into_iter()
            .nth(failure.index)
            .expect("batch index is in range");
        return Err(bad.on_bad);
    }
    let total = validators.chain().total_power();
    if threshold.is_met(signed, total) {
        Ok(())
    } else {
        Err(CertificateError::NotEnoughVotingPower {
            signed,
            total,
            expected: threshold.min_expected(total),
        })
    }
}

fn block_of(value: NilOrVal<crate::context::BlockValue>) -> Option<BlockId> {
    match value {
        NilOrVal::Nil => None,
        NilOrVal::Val(value) => Some(value.0),
    }
}

/// Verifies a core commit certificate.
pub(crate) fn verify_commit(
    chain_id: &ChainId,
    certificate: &core::CommitCertificate<Ctx>,
    validators: &ValidatorSet,
    threshold: ThresholdParam,
) -> Result<(), CertificateError<Ctx>> {
    let items = certificate
        .commit_signatures
        .iter()
        .map(|s| Signed {
            address: s.address,
            vote: Vote {
                height: certificate.height.0,
                round: round_u32(certificate.round),
                kind: VoteKind::Precommit,
                block_id: Some(certificate.value_id.0),
                validator: s.address.0,
            },
            signature: s.signature.0,
            on_bad: CertificateError::InvalidCommitSignature(s.clone()),
        })
        .collect();
    tally(chain_id, validators, threshold, items)
}

/// Verifies a core polka certificate.
pub(crate) fn verify_polka(
    chain_id: &ChainId,
    certificate: &core::PolkaCertificate<Ctx>,
    validators: &ValidatorSet,
    threshold: ThresholdParam,
) -> Result<(), CertificateError<Ctx>> {
    let items = certificate
        .polka_signatures
        .iter()
        .map(|s| Signed {
            address: s.address,
            vote: Vote {
                height: certificate.height.0,
                round: round_u32(certificate.round),
                kind: VoteKind::Prevote,
                block_id: Some(certificate.value_id.0),
                validator: s.address.0,
            },
            signature: s.signature.0,
            on_bad: CertificateError::InvalidPolkaSignature(s.clone()),
        })
        .collect();
    tally(chain_id, validators, threshold, items)
}

/// Verifies a core round certificate: a precommit certificate holds only precommits and needs
/// a quorum; a skip certificate needs more than a third.
pub(crate) fn verify_round(
    chain_id: &ChainId,
    certificate: &core::RoundCertificate<Ctx>,
    validators: &ValidatorSet,
    thresholds: core::ThresholdParams,
) -> Result<(), CertificateError<Ctx>> {
    if certificate.cert_type == RoundCertificateType::Precommit {
        if let Some(prevote) = certificate
            .round_signatures
            .iter()
            .find(|s| s.vote_type == VoteType::Prevote)
        {
            return Err(CertificateError::InvalidVoteType(prevote.address));
        }
    }
    let threshold = match certificate.cert_type {
        RoundCertificateType::Precommit => thresholds.quorum,
        RoundCertificateType::Skip => thresholds.honest,
    };
    let items = certificate
        .round_signatures
        .iter()
        .map(|s| Signed {
            address: s.address,
            vote: Vote {
                height: certificate.height.0,
                round: round_u32(certificate.round),
                kind: match s.vote_type {
                    VoteType::Prevote => VoteKind::Prevote,
                    VoteType::Precommit => VoteKind::Precommit,
                },
                block_id: block_of(s.value_id),
                validator: s.address.0,
            },
            signature: s.signature.0,
            on_bad: CertificateError::InvalidRoundSignature(s.clone()),
        })
        .collect();
    tally(chain_id, validators, threshold, items)
}

/// The chain's compact certificate for a core commit certificate: signatures by validator
/// index, ascending.
///
/// # Panics
/// If a signer is not in the set or signed twice: the core builds commit certificates only from
/// votes it verified against this set.
pub(crate) fn compact(
    certificate: &core::CommitCertificate<Ctx>,
    validators: &ValidatorSet,
) -> CommitCertificate {
    let mut signatures: Vec<CommitSignature> = certificate
        .commit_signatures
        .iter()
        .map(|s| CommitSignature {
            validator_index: validators
                .chain()
                .index_of(&s.address.0)
                .expect("the core certifies only validators of the set"),
            signature: s.signature.0,
        })
        .collect();
    signatures.sort_by_key(|s| s.validator_index);
    assert!(
        signatures
            .windows(2)
            .all(|w| w[0].validator_index < w[1].validator_index),
        "a commit certificate from the core names a validator twice"
    );
    CommitCertificate {
        height: certificate.height.0,
        round: round_u32(certificate.round),
        block_id: certificate.value_id.0,
        signatures,
    }
}

/// The core's extended commit certificate for a chain certificate (for sync).
pub(crate) fn to_core(
    certificate: &CommitCertificate,
    validators: &ValidatorSet,
) -> Option<core::ExtendedCommitCertificate<Ctx>> {
    let signatures = certificate
        .signatures
        .iter()
        .map(|s| {
            validators
                .chain()
                .get(s.validator_index)
                .map(|v| core::CommitSignature {
                    address: Address(v.public_key),
                    signature: Sig(s.signature),
                })
        })
        .collect::<Option<Vec<_>>>()?;
    let core_certificate = core::CommitCertificate {
        height: crate::context::Height(certificate.height),
        round: core::Round::new(certificate.round),
        value_id: crate::context::BlockValue(certificate.block_id),
        commit_signatures: signatures,
    };
    Some(
        core::ExtendedCommitCertificate::from_commit_certificate_and_extensions(
            core_certificate,
            core::VoteExtensions::default(),
        ),
    )
}
