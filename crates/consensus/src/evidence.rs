//! Equivocation evidence: two conflicting signed messages from one validator.
//!
//! Each piece of evidence is self-contained: anyone with the chain id can check both signatures
//! and that they conflict ([`Evidence::verify`]), so a court can show a misbehaving validator.
//!
//! Layout: `1 SignedVote SignedVote` (double vote) or `2 SignedProposal SignedProposal`
//! (double proposal).

use courtledger_codec::{decode_exact, write, Decode, DecodeError, Encode, Reader};
use courtledger_crypto::{ChainId, PublicKey};
use courtledger_types::vote::SignedVote;

use crate::context::SignedProposal;
use crate::messages::MAX_CONSENSUS_MESSAGE_BYTES;

/// Proof that a validator signed two conflicting messages.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Evidence {
    /// Two different votes of the same kind for the same height and round.
    DoubleVote(SignedVote, SignedVote),
    /// Two different proposals for the same height and round.
    DoubleProposal(SignedProposal, SignedProposal),
}

/// Why evidence does not prove equivocation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvidenceError {
    /// The two messages are by different validators.
    #[error("the two messages are signed by different validators")]
    DifferentSigners,
    /// The two messages are for different slots (height, round or vote kind).
    #[error("the two messages are for different heights, rounds or vote kinds")]
    DifferentSlots,
    /// The two messages are identical.
    #[error("the two messages do not conflict")]
    NoConflict,
    /// A signature does not verify.
    #[error("signature {0} of the evidence is invalid")]
    BadSignature(usize),
}

impl Evidence {
    /// The validator that equivocated.
    pub fn offender(&self) -> PublicKey {
        match self {
            Evidence::DoubleVote(first, _) => first.vote.validator,
            Evidence::DoubleProposal(first, _) => first.proposal.proposer,
        }
    }

    /// The height of the equivocation.
    pub fn height(&self) -> u64 {
        match self {
            Evidence::DoubleVote(first, _) => first.vote.height,
            Evidence::DoubleProposal(first, _) => first.proposal.height,
        }
    }

    /// The round of the equivocation.
    pub fn round(&self) -> u32 {
        match self {
            Evidence::DoubleVote(first, _) => first.vote.round,
            Evidence::DoubleProposal(first, _) => first.proposal.round,
        }
    }

    /// Checks that the evidence proves equivocation on chain `chain_id`.
    pub fn verify(&self, chain_id: &ChainId) -> Result<(), EvidenceError> {
        match self {
            Evidence::DoubleVote(a, b) => {
                if a.vote.validator != b.vote.validator {
                    return Err(EvidenceError::DifferentSigners);
                }
                if (a.vote.height, a.vote.round, a.vote.kind)
                    != (b.vote.height, b.vote.round, b.vote.kind)
                {
                    return Err(EvidenceError::DifferentSlots);
                }
                if a.vote == b.vote {
                    return Err(EvidenceError::NoConflict);
                }
                a.verify(chain_id)
                    .map_err(|_| EvidenceError::BadSignature(0))?;
                b.verify(chain_id)
                    .map_err(|_| EvidenceError::BadSignature(1))
            }
            Evidence::DoubleProposal(a, b) => {
                if a.proposal.proposer != b.proposal.proposer {
                    return Err(EvidenceError::DifferentSigners);
                }
                if (a.proposal.height, a.proposal.round) != (b.proposal.height, b.proposal.round) {
                    return Err(EvidenceError::DifferentSlots);
                }
                if a.proposal == b.proposal {
                    return Err(EvidenceError::NoConflict);
                }
                if !a.verify(chain_id) {
                    return Err(EvidenceError::BadSignature(0));
                }
                if !b.verify(chain_id) {
                    return Err(EvidenceError::BadSignature(1));
                }
                Ok(())
            }
        }
    }

    /// Decodes evidence from untrusted bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode_exact(bytes, MAX_CONSENSUS_MESSAGE_BYTES)
    }

    /// The same evidence with its two messages in canonical order (by encoding), so that two
    /// validators who saw them in different orders record identical bytes.
    pub fn canonical(self) -> Self {
        match self {
            Evidence::DoubleVote(a, b) if b.to_bytes() < a.to_bytes() => Evidence::DoubleVote(b, a),
            Evidence::DoubleProposal(a, b) if b.to_bytes() < a.to_bytes() => {
                Evidence::DoubleProposal(b, a)
            }
            other => other,
        }
    }
}

impl Encode for Evidence {
    fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            Evidence::DoubleVote(a, b) => {
                write::u8(out, 1);
                a.encode_to(out);
                b.encode_to(out);
            }
            Evidence::DoubleProposal(a, b) => {
                write::u8(out, 2);
                a.encode_to(out);
                b.encode_to(out);
            }
        }
    }
}

impl Decode for Evidence {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match reader.u8("evidence")? {
            1 => Ok(Evidence::DoubleVote(
                SignedVote::decode_from(reader)?,
                SignedVote::decode_from(reader)?,
            )),
            2 => Ok(Evidence::DoubleProposal(
                SignedProposal::decode_from(reader)?,
                SignedProposal::decode_from(reader)?,
            )),
            tag => Err(DecodeError::InvalidTag {
                what: "evidence",
                tag,
            }),
        }
    }
}
