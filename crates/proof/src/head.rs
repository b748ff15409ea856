//! Certified headers: a block header with its commit certificate, checked against the genesis
//! file alone. An auditor keeps one as a checkpoint file (`courtledger audit checkpoint`) and
//! later checks that the chain only grew from it (`courtledger audit consistency
//! --checkpoint`); the format is in `docs/proof-format.md`, "Checkpoint files".

use courtledger_codec::{write, Decode, DecodeError, Encode, Reader};
use courtledger_crypto::ChainId;
use courtledger_types::limits::{MAX_CERTIFICATE_BYTES, MAX_HEADER_BYTES};
use courtledger_types::{BlockHeader, BlockId, CommitCertificate, Genesis};

use crate::verify::{signers_of, Signer};
use crate::ProofError;

/// The first seven bytes of a checkpoint file: ASCII `CLCHKPT`.
pub const HEAD_MAGIC: [u8; 7] = *b"CLCHKPT";

/// The checkpoint file format version.
pub const HEAD_FORMAT_VERSION: u16 = 1;

/// Largest checkpoint file (as bytes): magic, version, header and certificate at their
/// largest (9,561 bytes).
pub const MAX_CERTIFIED_HEADER_BYTES: u32 = 7 + 2 + MAX_HEADER_BYTES + MAX_CERTIFICATE_BYTES;

/// A block header and the certificate that committed it.
///
/// Encoded as `HEAD_MAGIC ‖ u16 version (1) ‖ BlockHeader ‖ CommitCertificate`; a checkpoint
/// file holds that as one line of lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertifiedHeader {
    /// The header.
    pub header: BlockHeader,
    /// The precommits that decided it.
    pub certificate: CommitCertificate,
}

/// A certified header that verified against a genesis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedHead {
    /// The chain (the genesis' chain id).
    pub chain_id: ChainId,
    /// The header.
    pub header: BlockHeader,
    /// The block's id.
    pub block_id: BlockId,
    /// The round in which it was committed.
    pub round: u32,
    /// The validators that signed, in index order.
    pub signers: Vec<Signer>,
    /// Their voting power.
    pub signed_power: u64,
    /// The whole set's voting power.
    pub total_power: u64,
}

impl CertifiedHeader {
    /// Decodes a checkpoint file's bytes: `format` (magic, bounds, trailing bytes) or `version`.
    pub fn decode(bytes: &[u8]) -> Result<Self, ProofError> {
        let mut reader = Reader::new(bytes);
        let magic: [u8; 7] = reader.array("checkpoint magic")?;
        if magic != HEAD_MAGIC {
            return Err(ProofError::Format(DecodeError::Invalid {
                what: "checkpoint magic",
                reason: "not a courtledger checkpoint file (it does not start with CLCHKPT)",
            }));
        }
        let version = reader.u16("checkpoint version")?;
        if version != HEAD_FORMAT_VERSION {
            return Err(ProofError::Version { found: version });
        }
        let max = usize::try_from(MAX_CERTIFIED_HEADER_BYTES).unwrap_or(usize::MAX);
        if bytes.len() > max {
            return Err(ProofError::Format(DecodeError::InputTooLarge {
                len: bytes.len(),
                max,
            }));
        }
        let head = Self {
            header: BlockHeader::decode_from(&mut reader)?,
            certificate: CommitCertificate::decode_from(&mut reader)?,
        };
        reader.finish()?;
        Ok(head)
    }

    /// Checks the header against `genesis`, in order: `chain` (the header's chain id),
    /// `validator_set` (the header names the genesis set), then the certificate
    /// (`certificate_height`, `certificate_block_id`, `certificate_signer_order`,
    /// `certificate_unknown_signer`, `certificate_signature`, `certificate_quorum`).
    pub fn verify(&self, genesis: &Genesis) -> Result<VerifiedHead, ProofError> {
        let chain_id = genesis.chain_id();
        if self.header.chain_id != chain_id {
            return Err(ProofError::Chain {
                bundle: self.header.chain_id,
                genesis: chain_id,
            });
        }
        let validators = genesis.validator_set();
        let genesis_set = validators.hash();
        if self.header.validators_hash != genesis_set {
            return Err(ProofError::ValidatorSet {
                header: self.header.validators_hash,
                genesis: genesis_set,
            });
        }
        let block_id = self.header.id();
        self.certificate
            .verify(&chain_id, validators, self.header.height, &block_id)
            .map_err(ProofError::Certificate)?;
        let (signers, signed_power) = signers_of(&self.certificate, genesis);
        Ok(VerifiedHead {
            chain_id,
            header: self.header.clone(),
            block_id,
            round: self.certificate.round,
            signers,
            signed_power,
            total_power: validators.total_power(),
        })
    }
}

impl Encode for CertifiedHeader {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&HEAD_MAGIC);
        write::u16(out, HEAD_FORMAT_VERSION);
        self.header.encode_to(out);
        self.certificate.encode_to(out);
    }
}
