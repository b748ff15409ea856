//! Validator-set changes: a court's validator joins or leaves, or voting power moves.
//!
//! A change names the set it replaces (by hash), the first height the new set signs, and the
//! new set's members in canonical order. More than two thirds of the voting power of the set it
//! replaces approve it, each validator signing
//! `Domain::ValidatorSetChange ‖ chain id ‖ encode(SetChange)`. The signed change travels as a
//! transaction payload (see [`SignedSetChange::to_payload`]); the chain records it, and the new
//! set signs every block from the activation height on.
//!
//! A verifier that trusts the genesis set follows the changes one by one: each link is approved
//! by the set before it ([`SignedSetChange::verify`]).

use courtledger_codec::{decode_exact, write, Decode, DecodeError, Encode, Reader};
use courtledger_crypto::{verify_batch, BatchItem, ChainId, Digest, Domain, Signature};

use crate::court::CourtCode;
use crate::genesis::address_problem;
use crate::limits::{MAX_ADDRESS_BYTES, MAX_TX_PAYLOAD_BYTES, MAX_VALIDATORS};
use crate::validator::{Validator, ValidatorSet, ValidatorSetError};

/// The first byte of a transaction payload that carries a [`SignedSetChange`]. No act of the
/// judicial ledger has this tag; the chain handles these payloads itself.
pub const SET_CHANGE_PAYLOAD_TAG: u8 = 0xC0;

/// A member of a validator set: the court, its validator key and power, and where peers reach
/// its node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetMember {
    /// The court that runs the validator.
    pub court_code: CourtCode,
    /// Its key and voting power.
    pub validator: Validator,
    /// Where peers reach the node, `host:port`.
    pub p2p_address: String,
}

impl Encode for SetMember {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.court_code.encode_to(out);
        self.validator.encode_to(out);
        write::string(out, &self.p2p_address);
    }
}

impl Decode for SetMember {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let court_code = CourtCode::decode_from(reader)?;
        let validator = Validator::decode_from(reader)?;
        let p2p_address = reader.string("p2p address", MAX_ADDRESS_BYTES)?;
        if address_problem(&p2p_address).is_some() {
            return Err(DecodeError::Invalid {
                what: "p2p address",
                reason: "not host:port",
            });
        }
        Ok(Self {
            court_code,
            validator,
            p2p_address,
        })
    }
}

/// What the validators approve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetChange {
    /// The hash of the set this change replaces ([`ValidatorSet::hash`]).
    pub from_set_hash: Digest,
    /// The first height that the new set signs.
    pub activation_height: u64,
    /// The new set's members, in its canonical order (a validator's index is its position).
    pub members: Vec<SetMember>,
}

impl SetChange {
    /// The new validator set; an error when the members do not form one (none, too many, a key
    /// twice, zero or too much power).
    pub fn new_set(&self) -> Result<ValidatorSet, ValidatorSetError> {
        ValidatorSet::new(self.members.iter().map(|m| m.validator).collect())
    }

    /// Signs the change as the validator with `key`.
    pub fn approve(
        &self,
        key: &courtledger_crypto::SigningKey,
        chain_id: &ChainId,
        validator_index: u16,
    ) -> SetApproval {
        SetApproval {
            validator_index,
            signature: key.sign(Domain::ValidatorSetChange, chain_id, &self.to_bytes()),
        }
    }
}

impl Encode for SetChange {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.from_set_hash.encode_to(out);
        write::u64(out, self.activation_height);
        write::seq(out, &self.members);
    }
}

impl Decode for SetChange {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            from_set_hash: Digest::decode_from(reader)?,
            activation_height: reader.u64("activation height")?,
            members: reader.seq("set members", MAX_VALIDATORS)?,
        })
    }
}

/// One validator's approval of a change: its index in the set being replaced and its signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetApproval {
    /// The approver's index in the set that the change replaces.
    pub validator_index: u16,
    /// ed25519 over `Domain::ValidatorSetChange ‖ chain id ‖ encode(SetChange)`.
    pub signature: Signature,
}

impl Encode for SetApproval {
    fn encode_to(&self, out: &mut Vec<u8>) {
        write::u16(out, self.validator_index);
        self.signature.encode_to(out);
    }
}

impl Decode for SetApproval {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            validator_index: reader.u16("approver index")?,
            signature: Signature::decode_from(reader)?,
        })
    }
}

/// A change with its approvals, strictly ascending by validator index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedSetChange {
    /// What was approved.
    pub change: SetChange,
    /// Who approved it.
    pub approvals: Vec<SetApproval>,
}

/// Why a signed change does not follow from a validator set. Each says which check failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetChangeError {
    /// The change replaces another set.
    #[error("the change replaces set {found}, not the set in force {expected}")]
    WrongFromSet {
        /// The set the change names.
        found: Digest,
        /// The set in force.
        expected: Digest,
    },
    /// The members do not form a validator set.
    #[error("the new members are not a valid set: {0}")]
    InvalidSet(ValidatorSetError),
    /// Approvals not strictly ascending by index.
    #[error("approval {position} is out of order or repeats a validator")]
    UnsortedApprovals {
        /// Position in the approval list.
        position: usize,
    },
    /// An approval names an index outside the set.
    #[error("approval by validator {index}, which the set does not have")]
    UnknownApprover {
        /// The index.
        index: u16,
    },
    /// An approval's signature does not verify.
    #[error("the approval of validator {index} has a bad signature")]
    BadSignature {
        /// The index.
        index: u16,
    },
    /// The approvals hold two thirds of the power or less.
    #[error("approved by {approved} of {total} voting power, not more than two thirds")]
    NoQuorum {
        /// Power that approved.
        approved: u64,
        /// The set's total power.
        total: u64,
    },
}

impl SignedSetChange {
    /// Decodes a signed change from untrusted bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode_exact(
            bytes,
            usize::try_from(MAX_TX_PAYLOAD_BYTES).unwrap_or(usize::MAX),
        )
    }

    /// The transaction payload that carries this change: [`SET_CHANGE_PAYLOAD_TAG`] then the
    /// change's encoding.
    pub fn to_payload(&self) -> Vec<u8> {
        let mut out = vec![SET_CHANGE_PAYLOAD_TAG];
        self.encode_to(&mut out);
        out
    }

    /// The change that `payload` carries: `None` when the payload is not a set change at all
    /// (its first byte is not [`SET_CHANGE_PAYLOAD_TAG`]), `Some(Err)` when it is one that does
    /// not decode.
    pub fn from_payload(payload: &[u8]) -> Option<Result<Self, DecodeError>> {
        match payload.split_first() {
            Some((&SET_CHANGE_PAYLOAD_TAG, rest)) => Some(Self::decode(rest)),
            _ => None,
        }
    }

    /// Checks that `from` (the set in force) approved this change and returns the new set:
    /// the change names `from`'s hash, its members form a valid set, the approvals are strictly
    /// ascending by index, name validators of `from`, carry valid signatures, and hold more
    /// than two thirds of `from`'s power. Checks run in this order; the first failure is
    /// returned.
    pub fn verify(
        &self,
        chain_id: &ChainId,
        from: &ValidatorSet,
    ) -> Result<ValidatorSet, SetChangeError> {
        let expected = from.hash();
        if self.change.from_set_hash != expected {
            return Err(SetChangeError::WrongFromSet {
                found: self.change.from_set_hash,
                expected,
            });
        }
        let new_set = self.change.new_set().map_err(SetChangeError::InvalidSet)?;
        let message = self.change.to_bytes();
        let mut approved: u64 = 0;
        let mut items = Vec::with_capacity(self.approvals.len());
        for (position, approval) in self.approvals.iter().enumerate() {
            if position > 0
                && self.approvals[position - 1].validator_index >= approval.validator_index
            {
                return Err(SetChangeError::UnsortedApprovals { position });
            }
            let validator =
                from.get(approval.validator_index)
                    .ok_or(SetChangeError::UnknownApprover {
                        index: approval.validator_index,
                    })?;
            approved += validator.voting_power;
            items.push(BatchItem {
                public_key: &validator.public_key,
                domain: Domain::ValidatorSetChange,
                chain_id,
                message: &message,
                signature: &approval.signature,
            });
        }
        verify_batch(&items).map_err(|failure| SetChangeError::BadSignature {
            index: self.approvals[failure.index].validator_index,
        })?;
        if !from.is_quorum(approved) {
            return Err(SetChangeError::NoQuorum {
                approved,
                total: from.total_power(),
            });
        }
        Ok(new_set)
    }
}

impl Encode for SignedSetChange {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.change.encode_to(out);
        write::seq(out, &self.approvals);
    }
}

impl Decode for SignedSetChange {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            change: SetChange::decode_from(reader)?,
            approvals: reader.seq("approvals", MAX_VALIDATORS)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{check_golden, golden_chain_id, key};

    fn member(n: u8, power: u64) -> SetMember {
        SetMember {
            court_code: CourtCode::new(&format!("京010{n}")).unwrap(),
            validator: Validator {
                public_key: key(n).public_key(),
                voting_power: power,
            },
            p2p_address: format!("127.0.0.1:{}", 7000 + u16::from(n)),
        }
    }

    fn four() -> ValidatorSet {
        ValidatorSet::new((1..=4).map(|n| member(n, 1).validator).collect()).unwrap()
    }

    fn signed_by(from: &ValidatorSet, signers: &[u16]) -> SignedSetChange {
        let change = SetChange {
            from_set_hash: from.hash(),
            activation_height: 10,
            members: (1..=5).map(|n| member(n, 1)).collect(),
        };
        let approvals = signers
            .iter()
            .map(|&i| {
                let n = u8::try_from(i + 1).unwrap();
                change.approve(&key(n), &golden_chain_id(), i)
            })
            .collect();
        SignedSetChange { change, approvals }
    }

    #[test]
    fn three_of_four_approve_a_fifth_validator() {
        let from = four();
        let signed = signed_by(&from, &[0, 1, 3]);
        let new_set = signed.verify(&golden_chain_id(), &from).unwrap();
        assert_eq!(new_set.len(), 5);
        assert_eq!(new_set, signed.change.new_set().unwrap());
    }

    #[test]
    fn every_check_fails_with_its_reason() {
        let from = four();
        let chain = golden_chain_id();
        assert_eq!(
            signed_by(&from, &[0, 1]).verify(&chain, &from),
            Err(SetChangeError::NoQuorum {
                approved: 2,
                total: 4
            })
        );
        assert_eq!(
            signed_by(&from, &[0, 2, 1]).verify(&chain, &from),
            Err(SetChangeError::UnsortedApprovals { position: 2 })
        );
        assert_eq!(
            signed_by(&from, &[0, 0, 1, 2]).verify(&chain, &from),
            Err(SetChangeError::UnsortedApprovals { position: 1 })
        );
        let mut unknown = signed_by(&from, &[0, 1, 2]);
        unknown.approvals[2].validator_index = 9;
        assert_eq!(
            unknown.verify(&chain, &from),
            Err(SetChangeError::UnknownApprover { index: 9 })
        );
        let mut forged = signed_by(&from, &[0, 1, 2]);
        forged.change.activation_height += 1;
        assert_eq!(
            forged.verify(&chain, &from),
            Err(SetChangeError::BadSignature { index: 0 })
        );
        let other_chain = ChainId(courtledger_crypto::sha256(b"another chain"));
        assert_eq!(
            signed_by(&from, &[0, 1, 2]).verify(&other_chain, &from),
            Err(SetChangeError::BadSignature { index: 0 })
        );
        let stale = signed_by(&from, &[0, 1, 2]);
        let next = stale.change.new_set().unwrap();
        assert!(matches!(
            stale.verify(&chain, &next),
            Err(SetChangeError::WrongFromSet { .. })
        ));
        let mut twice = signed_by(&from, &[0, 1, 2]);
        twice.change.members.push(member(1, 1));
        assert!(matches!(
            twice.verify(&chain, &from),
            Err(SetChangeError::InvalidSet(
                ValidatorSetError::DuplicateKey { .. }
            ))
        ));
    }

    #[test]
    fn payload_round_trip_and_strict_decoding() {
        let signed = signed_by(&four(), &[0, 1, 2]);
        let payload = signed.to_payload();
        assert_eq!(payload[0], SET_CHANGE_PAYLOAD_TAG);
        assert_eq!(SignedSetChange::from_payload(&payload), Some(Ok(signed)));
        assert_eq!(SignedSetChange::from_payload(&[1, 2, 3]), None);
        assert_eq!(SignedSetChange::from_payload(&[]), None);
        let mut trailing = payload.clone();
        trailing.push(0);
        assert!(matches!(
            SignedSetChange::from_payload(&trailing),
            Some(Err(DecodeError::TrailingBytes { count: 1 }))
        ));
        let mut bad_address = signed_by(&four(), &[0, 1, 2]);
        bad_address.change.members[0].p2p_address = "nowhere".into();
        assert!(matches!(
            SignedSetChange::from_payload(&bad_address.to_payload()),
            Some(Err(DecodeError::Invalid { .. }))
        ));
    }

    #[test]
    fn golden() {
        check_golden(
            "signed_set_change",
            &signed_by(&four(), &[0, 1, 2]).to_bytes(),
        );
    }
}
