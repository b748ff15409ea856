//! The validator set: who signs blocks, and with how much voting power.

use courtledger_codec::{write, Decode, DecodeError, Encode, Reader};
use courtledger_crypto::{Digest, PublicKey};

use crate::hashing::{tagged_hash, HashTag};
use crate::limits::{MAX_TOTAL_VOTING_POWER, MAX_VALIDATORS};

/// One validator: a court's node key and its voting power.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validator {
    /// The key that signs votes and proposals.
    pub public_key: PublicKey,
    /// Voting power, at least 1.
    pub voting_power: u64,
}

impl Encode for Validator {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.public_key.encode_to(out);
        write::u64(out, self.voting_power);
    }
}

impl Decode for Validator {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            public_key: PublicKey::decode_from(reader)?,
            voting_power: reader.u64("voting power")?,
        })
    }
}

/// Why a list of validators is not a valid set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidatorSetError {
    /// No validators at all.
    #[error("a validator set needs at least one validator")]
    Empty,
    /// More than [`MAX_VALIDATORS`].
    #[error("a validator set has at most {MAX_VALIDATORS} validators, not {0}")]
    TooMany(usize),
    /// A validator with no voting power.
    #[error("validator {index} has zero voting power")]
    ZeroPower { index: usize },
    /// The same key twice.
    #[error("validator {index} repeats the key of validator {first}")]
    DuplicateKey { index: usize, first: usize },
    /// The powers add up to more than [`MAX_TOTAL_VOTING_POWER`].
    #[error("total voting power exceeds {MAX_TOTAL_VOTING_POWER}")]
    PowerTooLarge,
}

/// An ordered, non-empty set of validators with distinct keys. A validator's index is its
/// position; certificates name validators by index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatorSet {
    validators: Vec<Validator>,
    total_power: u64,
}

impl ValidatorSet {
    /// Checks and builds a set; the order given is the canonical order.
    pub fn new(validators: Vec<Validator>) -> Result<Self, ValidatorSetError> {
        if validators.is_empty() {
            return Err(ValidatorSetError::Empty);
        }
        if validators.len() > usize::try_from(MAX_VALIDATORS).unwrap_or(usize::MAX) {
            return Err(ValidatorSetError::TooMany(validators.len()));
        }
        let mut total_power: u64 = 0;
        for (index, validator) in validators.iter().enumerate() {
            if validator.voting_power == 0 {
                return Err(ValidatorSetError::ZeroPower { index });
            }
            if let Some(first) = validators[..index]
                .iter()
                .position(|v| v.public_key == validator.public_key)
            {
                return Err(ValidatorSetError::DuplicateKey { index, first });
            }
            total_power = total_power
                .checked_add(validator.voting_power)
                .filter(|total| *total <= MAX_TOTAL_VOTING_POWER)
                .ok_or(ValidatorSetError::PowerTooLarge)?;
        }
        Ok(Self {
            validators,
            total_power,
        })
    }

    /// The validators in canonical order.
    pub fn validators(&self) -> &[Validator] {
        &self.validators
    }

    /// Number of validators (at most [`MAX_VALIDATORS`], so it fits in `u16`).
    pub fn len(&self) -> usize {
        self.validators.len()
    }

    /// Always false: a set is never empty.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The validator at `index`.
    pub fn get(&self, index: u16) -> Option<&Validator> {
        self.validators.get(usize::from(index))
    }

    /// The index of the validator with `key`.
    pub fn index_of(&self, key: &PublicKey) -> Option<u16> {
        self.validators
            .iter()
            .position(|v| &v.public_key == key)
            .and_then(|index| u16::try_from(index).ok())
    }

    /// Sum of all voting power.
    pub fn total_power(&self) -> u64 {
        self.total_power
    }

    /// Whether `power` is more than two thirds of the total: `3 * power > 2 * total`.
    ///
    /// Exact integer arithmetic, no rounded `f`; both sides fit in `u64` because the total is
    /// at most [`MAX_TOTAL_VOTING_POWER`].
    pub fn is_quorum(&self, power: u64) -> bool {
        assert!(
            power <= self.total_power,
            "counted more power than the set has"
        );
        power * 3 > self.total_power * 2
    }

    /// Whether `power` is more than one third of the total (at least one honest validator).
    pub fn is_one_third_plus(&self, power: u64) -> bool {
        assert!(
            power <= self.total_power,
            "counted more power than the set has"
        );
        power * 3 > self.total_power
    }

    /// The set's hash, which block headers carry.
    pub fn hash(&self) -> Digest {
        tagged_hash(HashTag::ValidatorSet, &self.to_bytes())
    }
}

impl Encode for ValidatorSet {
    fn encode_to(&self, out: &mut Vec<u8>) {
        write::seq(out, &self.validators);
    }
}

impl Decode for ValidatorSet {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let validators = reader.seq("validators", MAX_VALIDATORS)?;
        ValidatorSet::new(validators).map_err(|_| DecodeError::Invalid {
            what: "validator set",
            reason: "invalid set",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{check_golden, key};
    use courtledger_codec::decode_exact;

    fn set(powers: &[u64]) -> ValidatorSet {
        ValidatorSet::new(
            powers
                .iter()
                .zip(1u8..)
                .map(|(power, n)| Validator {
                    public_key: key(n).public_key(),
                    voting_power: *power,
                })
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn quorum_is_more_than_two_thirds() {
        let four = set(&[1, 1, 1, 1]);
        assert!(!four.is_quorum(2));
        assert!(four.is_quorum(3));
        let three = set(&[1, 1, 1]);
        assert!(!three.is_quorum(2));
        assert!(three.is_quorum(3));
        // Total 3k: exactly two thirds is not enough.
        let weighted = set(&[2, 2, 2]);
        assert!(!weighted.is_quorum(4));
        assert!(weighted.is_quorum(5));
        let seven = set(&[1; 7]);
        assert!(!seven.is_quorum(4));
        assert!(seven.is_quorum(5));
        assert!(seven.is_one_third_plus(3));
        assert!(!seven.is_one_third_plus(2));
    }

    #[test]
    fn rejects_bad_sets() {
        assert_eq!(ValidatorSet::new(vec![]), Err(ValidatorSetError::Empty));
        let v = Validator {
            public_key: key(1).public_key(),
            voting_power: 1,
        };
        assert_eq!(
            ValidatorSet::new(vec![v, v]),
            Err(ValidatorSetError::DuplicateKey { index: 1, first: 0 })
        );
        assert_eq!(
            ValidatorSet::new(vec![Validator {
                voting_power: 0,
                ..v
            }]),
            Err(ValidatorSetError::ZeroPower { index: 0 })
        );
        let w = Validator {
            public_key: key(2).public_key(),
            voting_power: MAX_TOTAL_VOTING_POWER,
        };
        assert_eq!(
            ValidatorSet::new(vec![v, w]),
            Err(ValidatorSetError::PowerTooLarge)
        );
    }

    #[test]
    fn round_trip_and_golden() {
        let s = set(&[1, 2, 3, 4]);
        assert_eq!(
            decode_exact::<ValidatorSet>(&s.to_bytes(), 10_000),
            Ok(s.clone())
        );
        assert_eq!(s.index_of(&key(3).public_key()), Some(2));
        check_golden("validator_set", &s.to_bytes());
    }
}
