//! Commit certificates: the proof that more than two thirds of the voting power precommitted a
//! block.
//!
//! A certificate is compact: the block id, height and round once, then one `(validator index,
//! signature)` pair per signer, strictly ascending by index. Each signature is the validator's
//! precommit `Vote { height, round, Precommit, Some(block_id), validator }` under
//! [`courtledger_crypto::Domain::Vote`], so anyone with the validator set can check it: see
//! [`CommitCertificate::verify`].

use courtledger_codec::{decode_exact, write, Decode, DecodeError, Encode, Reader};
use courtledger_crypto::{
    verify_batch, BatchItem, ChainId, Domain, PublicKey, Signature, SignatureError,
};

use crate::block::BlockId;
use crate::limits::{MAX_CERTIFICATE_BYTES, MAX_VALIDATORS};
use crate::validator::ValidatorSet;
use crate::vote::{Vote, VoteKind};

/// One validator's precommit signature in a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommitSignature {
    /// Position of the validator in the set that signed the block.
    pub validator_index: u16,
    /// The validator's signature over its precommit.
    pub signature: Signature,
}

impl Encode for CommitSignature {
    fn encode_to(&self, out: &mut Vec<u8>) {
        write::u16(out, self.validator_index);
        self.signature.encode_to(out);
    }
}

impl Decode for CommitSignature {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            validator_index: reader.u16("validator index")?,
            signature: Signature::decode_from(reader)?,
        })
    }
}

/// Precommit signatures of more than two thirds of the voting power for one block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitCertificate {
    /// The committed block's height.
    pub height: u64,
    /// The round in which it was committed.
    pub round: u32,
    /// The committed block's id.
    pub block_id: BlockId,
    /// Signatures, strictly ascending by validator index.
    pub signatures: Vec<CommitSignature>,
}

/// Why a certificate does not prove a commit. Each says which check failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    /// The certificate is for another height.
    #[error("certificate is for height {actual}, expected {expected}")]
    WrongHeight { expected: u64, actual: u64 },
    /// The certificate is for another block.
    #[error("certificate is for block {actual}, expected {expected}")]
    WrongBlock { expected: BlockId, actual: BlockId },
    /// Indices are not strictly ascending (a repeat or disorder).
    #[error("signature {position} names validator {index}, not above the previous one")]
    NotAscending { position: usize, index: u16 },
    /// An index outside the validator set.
    #[error("signature {position} names validator {index}, but the set has {set_len}")]
    UnknownValidator {
        position: usize,
        index: u16,
        set_len: usize,
    },
    /// A signature that does not verify.
    #[error("signature of validator {index} is invalid: {error}")]
    BadSignature { index: u16, error: SignatureError },
    /// The signers hold two thirds of the power or less.
    #[error("signers hold {signed} of {total} voting power, not more than two thirds")]
    NoQuorum { signed: u64, total: u64 },
}

impl CommitCertificate {
    /// Decodes a certificate from untrusted bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode_exact(
            bytes,
            usize::try_from(MAX_CERTIFICATE_BYTES).unwrap_or(usize::MAX),
        )
    }

    /// The precommit that the validator at `index` signed.
    pub fn precommit(&self, validators: &ValidatorSet, index: u16) -> Option<Vote> {
        validators.get(index).map(|validator| Vote {
            height: self.height,
            round: self.round,
            kind: VoteKind::Precommit,
            block_id: Some(self.block_id),
            validator: validator.public_key,
        })
    }

    /// The checks of [`CommitCertificate::verify`] that need no signature verification: the
    /// certificate is for `height` and `block_id`, and its indices are strictly ascending and
    /// inside the set. Returns the precommits whose signatures remain to be verified (under
    /// [`Domain::Vote`]) and the voting power of their signers; the caller checks the quorum
    /// ([`ValidatorSet::is_quorum`]). For verifiers that batch signatures across certificates.
    pub fn signed_precommits(
        &self,
        validators: &ValidatorSet,
        height: u64,
        block_id: &BlockId,
    ) -> Result<(Vec<SignedPrecommit>, u64), CertificateError> {
        if self.height != height {
            return Err(CertificateError::WrongHeight {
                expected: height,
                actual: self.height,
            });
        }
        if &self.block_id != block_id {
            return Err(CertificateError::WrongBlock {
                expected: *block_id,
                actual: self.block_id,
            });
        }
        let mut signed_power: u64 = 0;
        let mut previous: Option<u16> = None;
        let mut precommits = Vec::with_capacity(self.signatures.len());
        for (position, entry) in self.signatures.iter().enumerate() {
            let index = entry.validator_index;
            if previous.is_some_and(|previous| index <= previous) {
                return Err(CertificateError::NotAscending { position, index });
            }
            previous = Some(index);
            let (Some(vote), Some(validator)) =
                (self.precommit(validators, index), validators.get(index))
            else {
                return Err(CertificateError::UnknownValidator {
                    position,
                    index,
                    set_len: validators.len(),
                });
            };
            signed_power += validator.voting_power;
            precommits.push(SignedPrecommit {
                validator_index: index,
                public_key: validator.public_key,
                message: vote.to_bytes(),
                signature: entry.signature,
            });
        }
        Ok((precommits, signed_power))
    }

    /// Checks that the certificate commits `block_id` at `height` for the set `validators` of
    /// chain `chain_id`: indices strictly ascending and inside the set
    /// ([`CommitCertificate::signed_precommits`]), every signature valid (batch-verified), and
    /// the signers' power more than two thirds of the total.
    pub fn verify(
        &self,
        chain_id: &ChainId,
        validators: &ValidatorSet,
        height: u64,
        block_id: &BlockId,
    ) -> Result<(), CertificateError> {
        self.verify_inner(None, chain_id, validators, height, block_id)
            .map_err(|failure| match failure {
                LeadingFailure::Leading(_) => {
                    unreachable!("no leading signature was given")
                }
                LeadingFailure::Certificate(error) => error,
            })
    }

    /// [`CommitCertificate::verify`], with one more signature, `leading`, verified in the same
    /// batch, ahead of the certificate: a verifier that must check both (a proof bundle's
    /// transaction and its block's certificate) pays for one batch instead of a single check and
    /// a batch. The verdicts are those of checking `leading` with `courtledger_crypto::verify`
    /// first and then the certificate: a bad `leading` is reported as
    /// [`LeadingFailure::Leading`] whatever the certificate holds, and the certificate's errors
    /// as [`LeadingFailure::Certificate`] only when `leading` is valid.
    pub fn verify_with_leading(
        &self,
        leading: BatchItem<'_>,
        chain_id: &ChainId,
        validators: &ValidatorSet,
        height: u64,
        block_id: &BlockId,
    ) -> Result<(), LeadingFailure> {
        self.verify_inner(Some(leading), chain_id, validators, height, block_id)
    }

    fn verify_inner(
        &self,
        leading: Option<BatchItem<'_>>,
        chain_id: &ChainId,
        validators: &ValidatorSet,
        height: u64,
        block_id: &BlockId,
    ) -> Result<(), LeadingFailure> {
        let check_leading = || match leading {
            Some(item) => {
                verify_batch(&[item]).map_err(|failure| LeadingFailure::Leading(failure.error))
            }
            None => Ok(()),
        };
        let (precommits, signed_power) = match self.signed_precommits(validators, height, block_id)
        {
            Ok(found) => found,
            Err(error) => {
                check_leading()?;
                return Err(LeadingFailure::Certificate(error));
            }
        };
        let offset = usize::from(leading.is_some());
        let items: Vec<BatchItem<'_>> = leading
            .into_iter()
            .chain(
                precommits
                    .iter()
                    .map(|precommit| precommit.batch_item(chain_id)),
            )
            .collect();
        // The batch reports its lowest failing index, so a bad leading signature (index 0) is
        // reported before any precommit's.
        verify_batch(&items).map_err(|failure| match failure.index.checked_sub(offset) {
            Some(index) => LeadingFailure::Certificate(CertificateError::BadSignature {
                index: precommits[index].validator_index,
                error: failure.error,
            }),
            None => LeadingFailure::Leading(failure.error),
        })?;
        if !validators.is_quorum(signed_power) {
            return Err(LeadingFailure::Certificate(CertificateError::NoQuorum {
                signed: signed_power,
                total: validators.total_power(),
            }));
        }
        Ok(())
    }
}

/// Why [`CommitCertificate::verify_with_leading`] refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeadingFailure {
    /// The leading signature is invalid (whatever the certificate holds).
    Leading(SignatureError),
    /// The leading signature is valid; the certificate is not.
    Certificate(CertificateError),
}

/// One precommit of a certificate whose signature remains to be verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedPrecommit {
    /// The signer's index in the set.
    pub validator_index: u16,
    /// The signer's key.
    pub public_key: PublicKey,
    /// The encoded precommit ([`Vote`]) it signed.
    pub message: Vec<u8>,
    /// The signature.
    pub signature: Signature,
}

impl SignedPrecommit {
    /// The batch-verification item of this signature on chain `chain_id`.
    pub fn batch_item<'a>(&'a self, chain_id: &'a ChainId) -> BatchItem<'a> {
        BatchItem {
            public_key: &self.public_key,
            domain: Domain::Vote,
            chain_id,
            message: &self.message,
            signature: &self.signature,
        }
    }
}

impl Encode for CommitCertificate {
    fn encode_to(&self, out: &mut Vec<u8>) {
        write::u64(out, self.height);
        write::u32(out, self.round);
        self.block_id.encode_to(out);
        write::seq(out, &self.signatures);
    }
}

impl Decode for CommitCertificate {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            height: reader.u64("certificate height")?,
            round: reader.u32("certificate round")?,
            block_id: BlockId::decode_from(reader)?,
            signatures: reader.seq("certificate signatures", MAX_VALIDATORS)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{check_golden, golden_chain_id, key};
    use crate::validator::Validator;
    use courtledger_crypto::sha256;

    fn validators(powers: &[u64]) -> ValidatorSet {
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

    fn certificate(set: &ValidatorSet, signers: &[u16]) -> CommitCertificate {
        let chain_id = golden_chain_id();
        let mut cert = CommitCertificate {
            height: 5,
            round: 0,
            block_id: sha256(b"block 5"),
            signatures: vec![],
        };
        for &index in signers {
            let vote = cert.precommit(set, index).unwrap();
            let key = key(u8::try_from(index + 1).unwrap());
            cert.signatures.push(CommitSignature {
                validator_index: index,
                signature: vote.sign(&key, &chain_id).signature,
            });
        }
        cert
    }

    fn check(set: &ValidatorSet, cert: &CommitCertificate) -> Result<(), CertificateError> {
        cert.verify(&golden_chain_id(), set, 5, &sha256(b"block 5"))
    }

    #[test]
    fn quorum_boundaries() {
        let set = validators(&[1, 1, 1, 1]);
        assert_eq!(check(&set, &certificate(&set, &[0, 1, 2])), Ok(()));
        assert_eq!(check(&set, &certificate(&set, &[0, 1, 2, 3])), Ok(()));
        assert_eq!(
            check(&set, &certificate(&set, &[1, 3])),
            Err(CertificateError::NoQuorum {
                signed: 2,
                total: 4
            })
        );
        let weighted = validators(&[5, 1, 1, 1]);
        assert_eq!(check(&weighted, &certificate(&weighted, &[0, 1])), Ok(()));
        assert!(check(&weighted, &certificate(&weighted, &[1, 2, 3])).is_err());
    }

    #[test]
    fn rejects_each_kind_of_forgery() {
        let set = validators(&[1, 1, 1, 1]);
        let good = certificate(&set, &[0, 1, 2]);

        let mut repeated = good.clone();
        repeated.signatures[2] = repeated.signatures[1];
        assert_eq!(
            check(&set, &repeated),
            Err(CertificateError::NotAscending {
                position: 2,
                index: 1
            })
        );

        let mut unknown = good.clone();
        unknown.signatures[2].validator_index = 9;
        assert!(matches!(
            check(&set, &unknown),
            Err(CertificateError::UnknownValidator { .. })
        ));

        let mut swapped = good.clone();
        swapped.signatures[2].signature = swapped.signatures[1].signature;
        assert!(matches!(
            check(&set, &swapped),
            Err(CertificateError::BadSignature { index: 2, .. })
        ));

        assert!(matches!(
            good.verify(&golden_chain_id(), &set, 6, &sha256(b"block 5")),
            Err(CertificateError::WrongHeight { .. })
        ));
        assert!(matches!(
            good.verify(&golden_chain_id(), &set, 5, &sha256(b"other")),
            Err(CertificateError::WrongBlock { .. })
        ));
        let other_chain = ChainId(sha256(b"another chain"));
        assert!(matches!(
            good.verify(&other_chain, &set, 5, &sha256(b"block 5")),
            Err(CertificateError::BadSignature { index: 0, .. })
        ));
        let mut other_round = good.clone();
        other_round.round = 1;
        assert!(matches!(
            check(&set, &other_round),
            Err(CertificateError::BadSignature { .. })
        ));
    }

    /// `verify_with_leading` gives `verify`'s verdict on the certificate when the leading
    /// signature is valid, and the leading signature's error first otherwise.
    #[test]
    fn a_leading_signature_is_checked_first_in_the_same_batch() {
        let set = validators(&[1, 1, 1, 1]);
        let chain_id = golden_chain_id();
        let block_id = sha256(b"block 5");
        let signer = key(40);
        let message = b"a transaction".to_vec();
        let good_signature = signer.sign(Domain::Transaction, &chain_id, &message);
        let mut bad_signature = good_signature;
        bad_signature.0[40] ^= 1;
        let public_key = signer.public_key();
        let leading = |signature| BatchItem {
            public_key: &public_key,
            domain: Domain::Transaction,
            chain_id: &chain_id,
            message: &message,
            signature,
        };
        let single_error = courtledger_crypto::verify(
            &public_key,
            Domain::Transaction,
            &chain_id,
            &message,
            &bad_signature,
        )
        .unwrap_err();

        let good = certificate(&set, &[0, 1, 3]);
        let mut forged = good.clone();
        forged.signatures[2].signature = forged.signatures[1].signature;
        let mut below = good.clone();
        below.signatures.truncate(2);
        let mut unknown = good.clone();
        unknown.signatures[2].validator_index = 9;
        for (name, cert) in [
            ("good", &good),
            ("forged", &forged),
            ("below quorum", &below),
            ("unknown", &unknown),
        ] {
            let alone = cert.verify(&chain_id, &set, 5, &block_id);
            assert_eq!(
                cert.verify_with_leading(leading(&good_signature), &chain_id, &set, 5, &block_id),
                alone.clone().map_err(LeadingFailure::Certificate),
                "{name}, valid leading signature"
            );
            assert_eq!(
                cert.verify_with_leading(leading(&bad_signature), &chain_id, &set, 5, &block_id),
                Err(LeadingFailure::Leading(single_error)),
                "{name}, invalid leading signature"
            );
        }
        assert!(matches!(
            check(&set, &forged),
            Err(CertificateError::BadSignature { index: 3, .. })
        ));
    }

    #[test]
    fn round_trip_and_golden() {
        let set = validators(&[1, 1, 1, 1]);
        let cert = certificate(&set, &[0, 2, 3]);
        let bytes = cert.to_bytes();
        assert_eq!(CommitCertificate::decode(&bytes), Ok(cert));
        check_golden("commit_certificate", &bytes);
        let full = certificate(&validators(&[1; 128]), &(0..128).collect::<Vec<u16>>());
        assert!(full.to_bytes().len() <= usize::try_from(MAX_CERTIFICATE_BYTES).unwrap());
    }
}
