//! The bundle and its canonical encoding (format version 1, `docs/proof-format.md`).

use courtledger_codec::{write, Decode, DecodeError, Encode, Reader};
use courtledger_merkle::{self as merkle, InclusionProof};
use courtledger_types::limits::{MAX_PROOF_BUNDLE_BYTES, MAX_PROOF_PATH_LEN};
use courtledger_types::{BlockHeader, CommitCertificate, Receipt, SignedTransaction};

use crate::ProofError;

/// The first seven bytes of every bundle: ASCII `CLPROOF`.
pub const MAGIC: [u8; 7] = *b"CLPROOF";

/// The format version this crate writes and reads.
pub const FORMAT_VERSION: u16 = 1;

/// Bytes before the versioned body: the magic and the `u16` version.
pub const PREAMBLE_BYTES: usize = MAGIC.len() + 2;

/// Everything needed to show, with the genesis file alone, that one transaction is in a block
/// the courts agreed on, and what its execution receipt says.
///
/// Encoded as `MAGIC ‖ u16 version ‖ SignedTransaction ‖ Receipt ‖ InclusionProof (tx tree) ‖
/// InclusionProof (receipt tree) ‖ BlockHeader ‖ CommitCertificate`, each part in its canonical
/// encoding (`docs/encoding.md`), nothing between them and nothing after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofBundle {
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
            tx: tx.clone(),
            receipt,
            tx_proof: InclusionProof::prove(&tx_leaves, leaf).map_err(no_index)?,
            receipt_proof: InclusionProof::prove(&receipt_leaves, leaf).map_err(no_index)?,
            header: header.clone(),
            certificate: certificate.clone(),
        })
    }

    /// Decodes a bundle from untrusted bytes: step 1 of verification.
    ///
    /// In order: at least the preamble, else [`ProofError::Format`]; the magic, else
    /// [`ProofError::Format`]; the version, else [`ProofError::Version`] (checked before the size
    /// bound, so that a later, larger format is reported as a version); at most
    /// [`MAX_PROOF_BUNDLE_BYTES`]; every part within its bounds; no trailing bytes.
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
        if version != FORMAT_VERSION {
            return Err(ProofError::Version { found: version });
        }
        let max = usize::try_from(MAX_PROOF_BUNDLE_BYTES).unwrap_or(usize::MAX);
        if bytes.len() > max {
            return Err(ProofError::Format(DecodeError::InputTooLarge {
                len: bytes.len(),
                max,
            }));
        }
        let bundle = Self {
            tx: SignedTransaction::decode_from(&mut reader)?,
            receipt: Receipt::decode_from(&mut reader)?,
            tx_proof: read_inclusion(&mut reader, "tx proof")?,
            receipt_proof: read_inclusion(&mut reader, "receipt proof")?,
            header: BlockHeader::decode_from(&mut reader)?,
            certificate: CommitCertificate::decode_from(&mut reader)?,
        };
        reader.finish()?;
        Ok(bundle)
    }
}

/// An inclusion proof in merkle's layout (`u64 leaf_index ‖ u64 tree_size ‖ seq<[32]> path`),
/// with the path bounded by [`MAX_PROOF_PATH_LEN`] (a block's trees are small).
fn read_inclusion(
    reader: &mut Reader<'_>,
    what: &'static str,
) -> Result<InclusionProof, DecodeError> {
    Ok(InclusionProof {
        leaf_index: reader.u64(what)?,
        tree_size: reader.u64(what)?,
        path: reader.seq(what, MAX_PROOF_PATH_LEN)?,
    })
}

impl Encode for ProofBundle {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&MAGIC);
        write::u16(out, FORMAT_VERSION);
        self.tx.encode_to(out);
        self.receipt.encode_to(out);
        self.tx_proof.encode_to(out);
        self.receipt_proof.encode_to(out);
        self.header.encode_to(out);
        self.certificate.encode_to(out);
    }
}
