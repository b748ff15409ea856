//! The bundle and its canonical encoding (format versions 1, 2 and 3, `docs/proof-format.md`).

use courtledger_codec::{write, Decode, DecodeError, Encode, Reader};
use courtledger_merkle::{self as merkle, InclusionProof};
pub use courtledger_types::limits::MAX_PROOF_BUNDLE_V2_BYTES;
use courtledger_types::limits::{
    MAX_PROOF_BUNDLE_BYTES, MAX_PROOF_LOG_INCLUSION_BYTES, MAX_PROOF_LOG_PATH_LEN,
    MAX_PROOF_PATH_LEN,
};
use courtledger_types::{BlockHeader, CommitCertificate, Receipt, SignedTransaction};

use crate::links::{SetLink, MAX_SET_LINKS, MAX_SET_LINK_BYTES};
use crate::ProofError;

/// The first seven bytes of every bundle: ASCII `CLPROOF`.
pub const MAGIC: [u8; 7] = *b"CLPROOF";

/// The format version of a bundle without a checkpoint: what [`ProofBundle::assemble`] makes
/// and what nodes serve.
pub const FORMAT_VERSION: u16 = 1;

/// The format version of a bundle that carries a [`Checkpoint`] (a newer certified head and the
/// transaction's inclusion in the history log of that head).
pub const FORMAT_VERSION_CHECKPOINT: u16 = 2;

/// The format version of a bundle that carries [`SetLink`]s: the chain of validator-set
/// changes from the genesis set to the set that signed the block (and the checkpoint, if any).
pub const FORMAT_VERSION_SET_LINKS: u16 = 3;

/// Largest version 3 bundle, in bytes: a version 2 bundle at its largest
/// ([`MAX_PROOF_BUNDLE_V2_BYTES`], 87,828: version 3 has the same parts, the checkpoint's
/// option tag included), the links' `u32` count (4) and [`MAX_SET_LINKS`] links at their
/// largest ([`MAX_SET_LINK_BYTES`], 61,056 each): 87,828 + 4 + 256 × 61,056 = 15,718,168.
pub const MAX_PROOF_BUNDLE_V3_BYTES: u32 =
    MAX_PROOF_BUNDLE_V2_BYTES + 4 + MAX_SET_LINKS * MAX_SET_LINK_BYTES;

const _: () = assert!(MAX_PROOF_BUNDLE_V3_BYTES == 15_718_168);

/// Bytes before the versioned body: the magic and the `u16` version.
pub const PREAMBLE_BYTES: usize = MAGIC.len() + 2;

/// The most hashes a checkpoint's log inclusion path may have
/// ([`MAX_PROOF_LOG_PATH_LEN`], in `courtledger_types::limits` with the other bounds).
pub const MAX_LOG_PATH_LEN: u32 = MAX_PROOF_LOG_PATH_LEN;

/// Largest encoded log inclusion proof in a checkpoint ([`MAX_PROOF_LOG_INCLUSION_BYTES`]).
pub const MAX_LOG_INCLUSION_BYTES: u32 = MAX_PROOF_LOG_INCLUSION_BYTES;

/// A newer head that covers an older act: the header and certificate of a block at or above the
/// act's, and the inclusion proof of the act's transaction id in the history log of that block
/// (leaf `leaf_hash(tx id)`, tree size `header.log_size`, root `header.log_root`).
///
/// One recent certificate then vouches for many old acts: a verifier that trusts the newer
/// head's certificate sees that the act is in the log the courts agreed on at that height.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The newer block's header.
    pub header: BlockHeader,
    /// The precommits that decided it.
    pub certificate: CommitCertificate,
    /// Inclusion of `leaf_hash(tx id)` in the history log of that block.
    pub log_proof: InclusionProof,
}

/// Everything needed to show, with the genesis file alone, that one transaction is in a block
/// the courts agreed on, and what its execution receipt says.
///
/// Encoded as `MAGIC ‖ u16 version ‖ SignedTransaction ‖ Receipt ‖ InclusionProof (tx tree) ‖
/// InclusionProof (receipt tree) ‖ BlockHeader ‖ CommitCertificate`, each part in its canonical
/// encoding (`docs/encoding.md`), nothing between them; version 1 ends there, version 2 goes on
/// with `u8 1 ‖ BlockHeader ‖ CommitCertificate ‖ InclusionProof (history log)` (the
/// [`Checkpoint`]). Version 3 carries `seq<SetLink>` (at least one) right after the version,
/// then version 1's parts, then the checkpoint as an `option` (tag 0 or 1). The version follows
/// from [`ProofBundle::links`] and [`ProofBundle::checkpoint`]: a bundle has exactly one
/// encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofBundle {
    /// The validator-set changes from genesis to the set that signed the block (and the
    /// checkpoint), oldest first (version 3); empty when the set never changed up to there
    /// (versions 1 and 2).
    pub links: Vec<SetLink>,
    /// The transaction: the signer's act and signature.
    pub tx: SignedTransaction,
    /// Its execution receipt.
    pub receipt: Receipt,
    /// Inclusion of `leaf_hash(tx id)` in the block's transaction tree (root `header.tx_root`).
    pub tx_proof: InclusionProof,
    /// Inclusion of `leaf_hash(encode(receipt))` in the block's receipt tree (root
    /// `header.results_root`).
    pub receipt_proof: InclusionProof,
    /// The block's header.
    pub header: BlockHeader,
    /// The precommits that decided the block.
    pub certificate: CommitCertificate,
    /// A newer certified head whose history log includes the transaction (version 2), or none
    /// (version 1).
    pub checkpoint: Option<Checkpoint>,
}

/// Why a bundle could not be assembled from a node's stored block: the store disagrees with
/// itself (never the requester's fault).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssembleError {
    /// The transaction's position is not in the block.
    #[error("position {index} is outside a block of {count} receipts")]
    NoSuchIndex { index: u32, count: usize },
    /// The receipts do not match the header's transaction count.
    #[error("the block has {receipts} receipts but its header counts {tx_count} transactions")]
    ReceiptCount { receipts: usize, tx_count: u32 },
    /// The receipt at the position is not the transaction's.
    #[error("the receipt at position {index} is not this transaction's")]
    WrongReceipt { index: u32 },
    /// The transaction ids of the receipts do not lead to the header's transaction root.
    #[error("the receipts' transaction ids do not lead to the header's tx_root")]
    TxRoot,
    /// The receipts do not lead to the header's results root.
    #[error("the receipts do not lead to the header's results_root")]
    ResultsRoot,
    /// The certificate is for another height or block.
    #[error("the certificate is not for this block")]
    Certificate,
}

impl ProofBundle {
    /// Assembles the bundle of the transaction at `index` of a committed block from what a node
    /// stores: its header, the transaction, every receipt of the block (in order) and the
    /// certificate. The proofs are computed from the receipts (whose transaction ids are the
    /// tree's leaves), and checked against the header's roots.
    pub fn assemble(
        header: &BlockHeader,
        tx: &SignedTransaction,
        receipts: &[Receipt],
        certificate: &CommitCertificate,
        index: u32,
    ) -> Result<Self, AssembleError> {
        if u32::try_from(receipts.len()).ok() != Some(header.tx_count) {
            return Err(AssembleError::ReceiptCount {
                receipts: receipts.len(),
                tx_count: header.tx_count,
            });
        }
        let receipt = usize::try_from(index)
            .ok()
            .and_then(|i| receipts.get(i))
            .copied()
            .ok_or(AssembleError::NoSuchIndex {
                index,
                count: receipts.len(),
            })?;
        if receipt.tx_id != tx.id() || receipt.index != index || receipt.height != header.height {
            return Err(AssembleError::WrongReceipt { index });
        }
        let tx_leaves: Vec<merkle::Hash> = receipts
            .iter()
            .map(|r| merkle::leaf_hash(r.tx_id.as_bytes()))
            .collect();
        let receipt_leaves: Vec<merkle::Hash> = receipts
            .iter()
            .map(|r| merkle::leaf_hash(&r.to_bytes()))
            .collect();
        if merkle::root(&tx_leaves) != header.tx_root.0 {
            return Err(AssembleError::TxRoot);
        }
        if merkle::root(&receipt_leaves) != header.results_root.0 {
            return Err(AssembleError::ResultsRoot);
        }
        if certificate.height != header.height || certificate.block_id != header.id() {
            return Err(AssembleError::Certificate);
        }
        let leaf = u64::from(index);
        let no_index = |_| AssembleError::NoSuchIndex {
            index,
            count: receipts.len(),
        };
        Ok(Self {
            links: Vec::new(),
            tx: tx.clone(),
            receipt,
            tx_proof: InclusionProof::prove(&tx_leaves, leaf).map_err(no_index)?,
            receipt_proof: InclusionProof::prove(&receipt_leaves, leaf).map_err(no_index)?,
            header: header.clone(),
            certificate: certificate.clone(),
            checkpoint: None,
        })
    }

    /// The format version this bundle is written in: [`FORMAT_VERSION_SET_LINKS`] with links,
    /// else [`FORMAT_VERSION_CHECKPOINT`] with a checkpoint, else [`FORMAT_VERSION`].
    pub fn version(&self) -> u16 {
        if !self.links.is_empty() {
            FORMAT_VERSION_SET_LINKS
        } else if self.checkpoint.is_some() {
            FORMAT_VERSION_CHECKPOINT
        } else {
            FORMAT_VERSION
        }
    }

    /// The leaf index of the transaction in the history log, from the block's certified header:
    /// the block's transactions are the last `tx_count` of its `log_size` leaves. `None` if the
    /// header's numbers do not allow one (`tx_count` above `log_size`, or an overflow).
    pub fn log_leaf_index(&self) -> Option<u64> {
        self.header
            .log_size
            .checked_sub(u64::from(self.header.tx_count))?
            .checked_add(u64::from(self.receipt.index))
    }

    /// The same bundle with `checkpoint` (replacing any it had): version 2. Checked only by
    /// [`crate::verify()`].
    pub fn with_checkpoint(mut self, checkpoint: Checkpoint) -> Self {
        self.checkpoint = Some(checkpoint);
        self
    }

    /// The same bundle with `links` (replacing any it had): version 3 unless `links` is empty.
    /// Checked only by [`crate::verify()`].
    pub fn with_links(mut self, links: Vec<SetLink>) -> Self {
        self.links = links;
        self
    }

    /// Decodes a bundle from untrusted bytes: step 1 of verification.
    ///
    /// In order: at least the preamble, else [`ProofError::Format`]; the magic, else
    /// [`ProofError::Format`]; the version (1, 2 or 3), else [`ProofError::Version`] (checked
    /// before the size bound, so that a later, larger format is reported as a version); at most
    /// [`MAX_PROOF_BUNDLE_BYTES`] (version 1), [`MAX_PROOF_BUNDLE_V2_BYTES`] (version 2) or
    /// [`MAX_PROOF_BUNDLE_V3_BYTES`] (version 3); for version 3 one to [`MAX_SET_LINKS`] links;
    /// every part within its bounds; for version 2 the option tag 1 and the checkpoint, for
    /// version 3 the option tag 0 or 1; no trailing bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, ProofError> {
        let mut reader = Reader::new(bytes);
        let magic: [u8; 7] = reader.array("bundle magic")?;
        if magic != MAGIC {
            return Err(ProofError::Format(DecodeError::Invalid {
                what: "bundle magic",
                reason: "not a courtledger proof bundle (the file does not start with CLPROOF)",
            }));
        }
        let version = reader.u16("bundle version")?;
        let max = match version {
            FORMAT_VERSION => MAX_PROOF_BUNDLE_BYTES,
            FORMAT_VERSION_CHECKPOINT => MAX_PROOF_BUNDLE_V2_BYTES,
            FORMAT_VERSION_SET_LINKS => MAX_PROOF_BUNDLE_V3_BYTES,
            found => return Err(ProofError::Version { found }),
        };
        let max = usize::try_from(max).unwrap_or(usize::MAX);
        if bytes.len() > max {
            return Err(ProofError::Format(DecodeError::InputTooLarge {
                len: bytes.len(),
                max,
            }));
        }
        let links: Vec<SetLink> = if version == FORMAT_VERSION_SET_LINKS {
            let links = reader.seq("set links", MAX_SET_LINKS)?;
            if links.is_empty() {
                return Err(ProofError::Format(DecodeError::Invalid {
                    what: "set links",
                    reason: "a version 3 bundle carries at least one set link (without any, a \
                             bundle is written as version 1 or 2)",
                }));
            }
            links
        } else {
            Vec::new()
        };
        let mut bundle = Self {
            links,
            tx: SignedTransaction::decode_from(&mut reader)?,
            receipt: Receipt::decode_from(&mut reader)?,
            tx_proof: read_inclusion(&mut reader, "tx proof", MAX_PROOF_PATH_LEN)?,
            receipt_proof: read_inclusion(&mut reader, "receipt proof", MAX_PROOF_PATH_LEN)?,
            header: BlockHeader::decode_from(&mut reader)?,
            certificate: CommitCertificate::decode_from(&mut reader)?,
            checkpoint: None,
        };
        if version != FORMAT_VERSION {
            let checkpoint = reader.option("checkpoint", |reader| {
                Ok(Checkpoint {
                    header: BlockHeader::decode_from(reader)?,
                    certificate: CommitCertificate::decode_from(reader)?,
                    log_proof: read_inclusion(reader, "checkpoint log proof", MAX_LOG_PATH_LEN)?,
                })
            })?;
            if checkpoint.is_none() && version == FORMAT_VERSION_CHECKPOINT {
                return Err(ProofError::Format(DecodeError::Invalid {
                    what: "checkpoint",
                    reason: "a version 2 bundle carries a checkpoint (without one, a bundle is \
                             written as version 1)",
                }));
            }
            bundle.checkpoint = checkpoint;
        }
        reader.finish()?;
        Ok(bundle)
    }
}

/// An inclusion proof in merkle's layout (`u64 leaf_index ‖ u64 tree_size ‖ seq<[32]> path`),
/// with the path bounded by `max_path` ([`MAX_PROOF_PATH_LEN`] in a block's trees, which are
/// small; [`MAX_LOG_PATH_LEN`] in the history log).
fn read_inclusion(
    reader: &mut Reader<'_>,
    what: &'static str,
    max_path: u32,
) -> Result<InclusionProof, DecodeError> {
    Ok(InclusionProof {
        leaf_index: reader.u64(what)?,
        tree_size: reader.u64(what)?,
        path: reader.seq(what, max_path)?,
    })
}

impl Encode for ProofBundle {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&MAGIC);
        let version = self.version();
        write::u16(out, version);
        if version == FORMAT_VERSION_SET_LINKS {
            write::seq(out, &self.links);
        }
        self.tx.encode_to(out);
        self.receipt.encode_to(out);
        self.tx_proof.encode_to(out);
        self.receipt_proof.encode_to(out);
        self.header.encode_to(out);
        self.certificate.encode_to(out);
        if version != FORMAT_VERSION {
            write::option(out, self.checkpoint.as_ref(), |out, checkpoint| {
                checkpoint.header.encode_to(out);
                checkpoint.certificate.encode_to(out);
                checkpoint.log_proof.encode_to(out);
            });
        }
    }
}
