//! Certified headers: a block header with its commit certificate, checked against the genesis
//! file alone. An auditor keeps one as a checkpoint file (`courtledger audit checkpoint`) and
//! later checks that the chain only grew from it (`courtledger audit consistency
//! --checkpoint`); the format is in `docs/proof-format.md`, "Checkpoint files". A header signed
//! by a set other than genesis' (after validator-set changes) travels with the [`SetLink`]s
//! from the genesis set to its own (file version 2).

use courtledger_codec::{write, Decode, DecodeError, Encode, Reader};
use courtledger_crypto::ChainId;
use courtledger_types::limits::{MAX_CERTIFICATE_BYTES, MAX_HEADER_BYTES};
use courtledger_types::{BlockHeader, BlockId, CommitCertificate, Genesis};

use crate::links::{follow, SetLink, VerifiedSetChange, MAX_SET_LINKS, MAX_SET_LINK_BYTES};
use crate::verify::{signers_of, Signer};
use crate::ProofError;

/// The first seven bytes of a checkpoint file: ASCII `CLCHKPT`.
pub const HEAD_MAGIC: [u8; 7] = *b"CLCHKPT";

/// The checkpoint file format version of a header signed by the genesis set.
pub const HEAD_FORMAT_VERSION: u16 = 1;

/// The checkpoint file format version that carries set links (a header signed by a set other
/// than genesis').
pub const HEAD_FORMAT_VERSION_SET_LINKS: u16 = 2;

/// Largest version 1 checkpoint file (as bytes): magic, version, header and certificate at
/// their largest (9,561 bytes).
pub const MAX_CERTIFIED_HEADER_BYTES: u32 = 7 + 2 + MAX_HEADER_BYTES + MAX_CERTIFICATE_BYTES;

/// Largest version 2 checkpoint file: version 1's, the links' `u32` count and
/// [`MAX_SET_LINKS`] links at their largest (9,561 + 4 + 256 × 61,056 = 15,639,901 bytes).
pub const MAX_CERTIFIED_HEADER_V2_BYTES: u32 =
    MAX_CERTIFIED_HEADER_BYTES + 4 + MAX_SET_LINKS * MAX_SET_LINK_BYTES;

/// A block header and the certificate that committed it, with the set links from genesis to
/// the set that signed it.
///
/// Encoded as `HEAD_MAGIC ‖ u16 version (1) ‖ BlockHeader ‖ CommitCertificate` without links,
/// `HEAD_MAGIC ‖ u16 version (2) ‖ seq<SetLink> (≥ 1) ‖ BlockHeader ‖ CommitCertificate` with
/// them; a checkpoint file holds that as one line of lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertifiedHeader {
    /// The validator-set changes from genesis to the set that signed the header, oldest first
    /// (none when the genesis set signed it).
    pub links: Vec<SetLink>,
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
    /// The validator-set changes followed from genesis (version 2 files).
    pub set_changes: Vec<VerifiedSetChange>,
}

impl CertifiedHeader {
    /// A header and certificate signed by the genesis set (no links).
    pub fn new(header: BlockHeader, certificate: CommitCertificate) -> Self {
        Self {
            links: Vec::new(),
            header,
            certificate,
        }
    }

    /// The same head with `links` (replacing any it had).
    pub fn with_links(mut self, links: Vec<SetLink>) -> Self {
        self.links = links;
        self
    }

    /// The file format version: 2 with links, 1 without.
    pub fn version(&self) -> u16 {
        if self.links.is_empty() {
            HEAD_FORMAT_VERSION
        } else {
            HEAD_FORMAT_VERSION_SET_LINKS
        }
    }

    /// Decodes a checkpoint file's bytes: `format` (magic, bounds, trailing bytes, a version 2
    /// file without links) or `version`.
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
        let max = match version {
            HEAD_FORMAT_VERSION => MAX_CERTIFIED_HEADER_BYTES,
            HEAD_FORMAT_VERSION_SET_LINKS => MAX_CERTIFIED_HEADER_V2_BYTES,
            found => return Err(ProofError::Version { found }),
        };
        let max = usize::try_from(max).unwrap_or(usize::MAX);
        if bytes.len() > max {
            return Err(ProofError::Format(DecodeError::InputTooLarge {
                len: bytes.len(),
                max,
            }));
        }
        let links = if version == HEAD_FORMAT_VERSION_SET_LINKS {
            let links: Vec<SetLink> = reader.seq("set links", MAX_SET_LINKS)?;
            if links.is_empty() {
                return Err(ProofError::Format(DecodeError::Invalid {
                    what: "set links",
                    reason: "a version 2 checkpoint file carries at least one set link \
                             (without any, it is written as version 1)",
                }));
            }
            links
        } else {
            Vec::new()
        };
        let head = Self {
            links,
            header: BlockHeader::decode_from(&mut reader)?,
            certificate: CommitCertificate::decode_from(&mut reader)?,
        };
        reader.finish()?;
        Ok(head)
    }

    /// Checks the header against `genesis`, in order: `chain` (the header's chain id), the set
    /// links up to the header's height (`set_link_*`, `set_boundary_*`, `set_change_*`: see
    /// [`crate::links::follow`]), `validator_set` (the header names the set in force at its
    /// height), then the certificate (`certificate_height`, `certificate_block_id`,
    /// `certificate_signer_order`, `certificate_unknown_signer`, `certificate_signature`,
    /// `certificate_quorum`).
    pub fn verify(&self, genesis: &Genesis) -> Result<VerifiedHead, ProofError> {
        let chain_id = genesis.chain_id();
        if self.header.chain_id != chain_id {
            return Err(ProofError::Chain {
                bundle: self.header.chain_id,
                genesis: chain_id,
            });
        }
        let sets = follow(&self.links, genesis, self.header.height)?;
        let roster = sets.at(self.header.height);
        let validators = &roster.set;
        let expected = validators.hash();
        if self.header.validators_hash != expected {
            return Err(ProofError::ValidatorSet {
                header: self.header.validators_hash,
                expected,
            });
        }
        let block_id = self.header.id();
        self.certificate
            .verify(&chain_id, validators, self.header.height, &block_id)
            .map_err(ProofError::Certificate)?;
        let (signers, signed_power) = signers_of(&self.certificate, roster);
        Ok(VerifiedHead {
            chain_id,
            header: self.header.clone(),
            block_id,
            round: self.certificate.round,
            signers,
            signed_power,
            total_power: validators.total_power(),
            set_changes: sets.changes().to_vec(),
        })
    }
}

impl Encode for CertifiedHeader {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&HEAD_MAGIC);
        let version = self.version();
        write::u16(out, version);
        if version == HEAD_FORMAT_VERSION_SET_LINKS {
            write::seq(out, &self.links);
        }
        self.header.encode_to(out);
        self.certificate.encode_to(out);
    }
}
