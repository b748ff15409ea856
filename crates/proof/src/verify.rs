//! Verification of a bundle against a genesis: the steps of `docs/proof-format.md`, in order,
//! each failure with its own [`ProofError`] variant and check name.

use courtledger_codec::{DecodeError, Encode};
use courtledger_crypto::{ChainId, Digest, PublicKey, SignatureError};
use courtledger_ledger::{Act, Code};
use courtledger_merkle as merkle;
use courtledger_types::{
    BlockHeader, BlockId, CertificateError, CommitCertificate, CourtCode, Genesis, Receipt,
    SignedTransaction, TxId, CODE_OK,
};

use crate::bundle::{Checkpoint, ProofBundle};

/// Why a bundle does not prove its act. [`ProofError::check`] names the failed check; the
/// message says what was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// Step 1: not a well-formed bundle or checkpoint file (magic, truncation, bounds, a
    /// malformed part, trailing bytes).
    #[error("not well-formed: {0}")]
    Format(#[from] DecodeError),
    /// Step 1: a format version this verifier does not know.
    #[error("format version {found}; this verifier reads versions 1 and 2 of bundles and version 1 of checkpoint files")]
    Version { found: u16 },
    /// Step 2: the block belongs to another chain than the genesis file's.
    #[error("the block belongs to chain {bundle}, not to this genesis' chain {genesis}")]
    Chain { bundle: ChainId, genesis: ChainId },
    /// Step 3: the signer's signature over the transaction does not verify on this chain.
    #[error("the signer's signature over the transaction is invalid: {0}")]
    TxSignature(SignatureError),
    /// Step 4: the transaction's payload is not an act.
    #[error("the transaction's payload is not a valid act: {0}")]
    Act(DecodeError),
    /// Step 5: the receipt is for another transaction.
    #[error("the receipt is for transaction {receipt}, not {tx}")]
    ReceiptTxId { receipt: TxId, tx: TxId },
    /// Step 5: the receipt is for another height than the header's.
    #[error("the receipt is for height {receipt}, the header's height is {header}")]
    ReceiptHeight { receipt: u64, header: u64 },
    /// Step 5: the transaction proof is for another position than the receipt's.
    #[error("the transaction proof is for position {proof}, the receipt's is {receipt}")]
    TxProofIndex { receipt: u32, proof: u64 },
    /// Step 5: the receipt proof is for another position than the receipt's.
    #[error("the receipt proof is for position {proof}, the receipt's is {receipt}")]
    ReceiptProofIndex { receipt: u32, proof: u64 },
    /// Step 5: the transaction proof's tree size is not the header's transaction count.
    #[error("the transaction proof is for a tree of {proof} leaves, the header counts {header}")]
    TxTreeSize { proof: u64, header: u32 },
    /// Step 5: the receipt proof's tree size is not the header's transaction count.
    #[error("the receipt proof is for a tree of {proof} leaves, the header counts {header}")]
    ReceiptTreeSize { proof: u64, header: u32 },
    /// Step 6: the transaction is not in the block's transaction tree.
    #[error("the transaction is not in the block (tx_root): {0}")]
    TxInclusion(merkle::ProofError),
    /// Step 7: the receipt is not in the block's receipt tree.
    #[error("the receipt is not the block's (results_root): {0}")]
    ReceiptInclusion(merkle::ProofError),
    /// Step 8: the header names another validator set than genesis'.
    #[error("the header's validator set {header} is not the genesis set {genesis}")]
    ValidatorSet { header: Digest, genesis: Digest },
    /// Step 9: the certificate does not show that the genesis validators committed the header.
    #[error("the commit certificate does not hold: {0}")]
    Certificate(CertificateError),
    /// Step 10 (version 2): the checkpoint's block belongs to another chain.
    #[error("the checkpoint's block belongs to chain {checkpoint}, not to this genesis' chain {genesis}")]
    CheckpointChain {
        checkpoint: ChainId,
        genesis: ChainId,
    },
    /// Step 10: the checkpoint is below the act's block.
    #[error("the checkpoint is block {checkpoint}, below the act's block {block}")]
    CheckpointHeight { checkpoint: u64, block: u64 },
    /// Step 10: the checkpoint's header names another validator set than genesis'.
    #[error("the checkpoint's validator set {header} is not the genesis set {genesis}")]
    CheckpointValidatorSet { header: Digest, genesis: Digest },
    /// Step 11: the checkpoint's certificate does not show that the genesis validators
    /// committed its header.
    #[error("the checkpoint's commit certificate does not hold: {0}")]
    CheckpointCertificate(CertificateError),
    /// Step 12: the log proof is for another leaf than the act's transaction (the block's
    /// `log_size − tx_count + index`).
    #[error("the log proof is for leaf {proof}; the act's transaction is leaf {}", expected.map_or_else(|| "(none: the header's tx_count exceeds its log_size)".to_owned(), |e| e.to_string()))]
    CheckpointLeafIndex { proof: u64, expected: Option<u64> },
    /// Step 12: the log proof's tree size is not the checkpoint's `log_size`.
    #[error("the log proof is for a log of {proof} leaves, the checkpoint's log holds {header}")]
    CheckpointTreeSize { proof: u64, header: u64 },
    /// Step 13: the transaction is not in the checkpoint's history log.
    #[error("the transaction is not in the checkpoint's history log (log_root): {0}")]
    CheckpointInclusion(merkle::ProofError),
}

/// The stable check name of a certificate failure (`certificate_height`, …,
/// `certificate_quorum`), shared with the chain audit.
pub fn certificate_check(error: &CertificateError) -> &'static str {
    match error {
        CertificateError::WrongHeight { .. } => "certificate_height",
        CertificateError::WrongBlock { .. } => "certificate_block_id",
        CertificateError::NotAscending { .. } => "certificate_signer_order",
        CertificateError::UnknownValidator { .. } => "certificate_unknown_signer",
        CertificateError::BadSignature { .. } => "certificate_signature",
        CertificateError::NoQuorum { .. } => "certificate_quorum",
    }
}

fn checkpoint_certificate_check(error: &CertificateError) -> &'static str {
    match error {
        CertificateError::WrongHeight { .. } => "checkpoint_certificate_height",
        CertificateError::WrongBlock { .. } => "checkpoint_certificate_block_id",
        CertificateError::NotAscending { .. } => "checkpoint_certificate_signer_order",
        CertificateError::UnknownValidator { .. } => "checkpoint_certificate_unknown_signer",
        CertificateError::BadSignature { .. } => "checkpoint_certificate_signature",
        CertificateError::NoQuorum { .. } => "checkpoint_certificate_quorum",
    }
}

impl ProofError {
    /// The stable name of the failed check (`format`, `version`, `chain`, `tx_signature`, `act`,
    /// `receipt_tx_id`, `receipt_height`, `tx_proof_index`, `receipt_proof_index`,
    /// `tx_tree_size`, `receipt_tree_size`, `tx_inclusion`, `receipt_inclusion`,
    /// `validator_set`, `certificate_height`, `certificate_block_id`,
    /// `certificate_signer_order`, `certificate_unknown_signer`, `certificate_signature`,
    /// `certificate_quorum`, and for version 2 `checkpoint_chain`, `checkpoint_height`,
    /// `checkpoint_validator_set`, `checkpoint_certificate_*` (the six above),
    /// `checkpoint_leaf_index`, `checkpoint_tree_size`, `checkpoint_inclusion`).
    pub fn check(&self) -> &'static str {
        match self {
            ProofError::Format(_) => "format",
            ProofError::Version { .. } => "version",
            ProofError::Chain { .. } => "chain",
            ProofError::TxSignature(_) => "tx_signature",
            ProofError::Act(_) => "act",
            ProofError::ReceiptTxId { .. } => "receipt_tx_id",
            ProofError::ReceiptHeight { .. } => "receipt_height",
            ProofError::TxProofIndex { .. } => "tx_proof_index",
            ProofError::ReceiptProofIndex { .. } => "receipt_proof_index",
            ProofError::TxTreeSize { .. } => "tx_tree_size",
            ProofError::ReceiptTreeSize { .. } => "receipt_tree_size",
            ProofError::TxInclusion(_) => "tx_inclusion",
            ProofError::ReceiptInclusion(_) => "receipt_inclusion",
            ProofError::ValidatorSet { .. } => "validator_set",
            ProofError::Certificate(error) => certificate_check(error),
            ProofError::CheckpointChain { .. } => "checkpoint_chain",
            ProofError::CheckpointHeight { .. } => "checkpoint_height",
            ProofError::CheckpointValidatorSet { .. } => "checkpoint_validator_set",
            ProofError::CheckpointCertificate(error) => checkpoint_certificate_check(error),
            ProofError::CheckpointLeafIndex { .. } => "checkpoint_leaf_index",
            ProofError::CheckpointTreeSize { .. } => "checkpoint_tree_size",
            ProofError::CheckpointInclusion(_) => "checkpoint_inclusion",
        }
    }

    /// The checks a bundle of format `version` passes, in verification order: the first 20
    /// of [`ProofError::CHECKS`] for version 1, all of them for version 2.
    pub fn checks_of(version: u16) -> &'static [&'static str] {
        if version >= crate::FORMAT_VERSION_CHECKPOINT {
            &Self::CHECKS
        } else {
            &Self::CHECKS[..20]
        }
    }

    /// The checks of a checkpoint file ([`crate::CertifiedHeader`]), in verification order.
    pub const HEAD_CHECKS: [&'static str; 10] = [
        "format",
        "version",
        "chain",
        "validator_set",
        "certificate_height",
        "certificate_block_id",
        "certificate_signer_order",
        "certificate_unknown_signer",
        "certificate_signature",
        "certificate_quorum",
    ];

    /// Every check name, in verification order (steps 10 to 13 only for version 2).
    pub const CHECKS: [&'static str; 32] = [
        "format",
        "version",
        "chain",
        "tx_signature",
        "act",
        "receipt_tx_id",
        "receipt_height",
        "tx_proof_index",
        "receipt_proof_index",
        "tx_tree_size",
        "receipt_tree_size",
        "tx_inclusion",
        "receipt_inclusion",
        "validator_set",
        "certificate_height",
        "certificate_block_id",
        "certificate_signer_order",
        "certificate_unknown_signer",
        "certificate_signature",
        "certificate_quorum",
        "checkpoint_chain",
        "checkpoint_height",
        "checkpoint_validator_set",
        "checkpoint_certificate_height",
        "checkpoint_certificate_block_id",
        "checkpoint_certificate_signer_order",
        "checkpoint_certificate_unknown_signer",
        "checkpoint_certificate_signature",
        "checkpoint_certificate_quorum",
        "checkpoint_leaf_index",
        "checkpoint_tree_size",
        "checkpoint_inclusion",
    ];
}

/// A validator whose precommit is in the certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signer {
    /// Its index in the genesis validator set.
    pub index: u16,
    /// The court that runs it (genesis `validators[index].court_code`).
    pub court_code: CourtCode,
    /// Its key.
    pub public_key: PublicKey,
    /// Its voting power.
    pub voting_power: u64,
}

/// The outcome of the act, from the receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Code 0: the act was applied.
    Applied,
    /// The act was committed but failed: it changed nothing but the signer's nonce.
    Failed {
        /// The receipt code.
        code: u16,
        /// The ledger's name for it, if this verifier knows the code.
        name: Option<&'static str>,
    },
}

impl Outcome {
    /// The outcome of a receipt code.
    pub fn of(code: u16) -> Self {
        if code == CODE_OK {
            Outcome::Applied
        } else {
            Outcome::Failed {
                code,
                name: Code::from_number(code).map(Code::name),
            }
        }
    }

    /// `ok`, the code's name, or `code_N` for a code this verifier does not know.
    pub fn name(&self) -> String {
        match self {
            Outcome::Applied => "ok".to_owned(),
            Outcome::Failed {
                name: Some(name), ..
            } => (*name).to_owned(),
            Outcome::Failed { code, name: None } => format!("code_{code}"),
        }
    }
}

/// What a verified bundle proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The chain (the genesis' chain id).
    pub chain_id: ChainId,
    /// The chain's name in genesis.
    pub chain_name: String,
    /// The transaction's id.
    pub tx_id: TxId,
    /// The transaction (signer, nonce, payload, signature).
    pub tx: SignedTransaction,
    /// The act, decoded.
    pub act: Act,
    /// The receipt.
    pub receipt: Receipt,
    /// The block's header.
    pub header: BlockHeader,
    /// The block's id.
    pub block_id: BlockId,
    /// The round in which the block was committed.
    pub round: u32,
    /// The validators that signed, in index order.
    pub signers: Vec<Signer>,
    /// Their voting power.
    pub signed_power: u64,
    /// The whole set's voting power.
    pub total_power: u64,
    /// Number of validators in the set.
    pub validator_count: usize,
    /// Version 2: the verified checkpoint.
    pub checkpoint: Option<VerifiedCheckpoint>,
}

/// What a verified checkpoint adds: a newer block, certified by the genesis validators, whose
/// history log holds the transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCheckpoint {
    /// The newer block's header.
    pub header: BlockHeader,
    /// Its id.
    pub block_id: BlockId,
    /// The round in which it was committed.
    pub round: u32,
    /// The validators that signed its certificate, in index order.
    pub signers: Vec<Signer>,
    /// Their voting power.
    pub signed_power: u64,
    /// The transaction's leaf in the history log.
    pub leaf_index: u64,
}

impl Verified {
    /// The act's outcome.
    pub fn outcome(&self) -> Outcome {
        Outcome::of(self.receipt.code)
    }
}

/// Decodes `bytes` and verifies the bundle against `genesis`.
pub fn verify_bytes(bytes: &[u8], genesis: &Genesis) -> Result<Verified, ProofError> {
    verify(&ProofBundle::decode(bytes)?, genesis)
}

/// Verifies a decoded bundle against `genesis`: steps 2 to 9 of `docs/proof-format.md` (step 1
/// is [`ProofBundle::decode`]), and steps 10 to 13 for the checkpoint of a version 2 bundle.
/// The first failing step is returned.
///
/// A failed act (receipt code other than 0) is not a verification failure: the bundle proves
/// that the attempt was committed and failed; [`Verified::outcome`] says so.
pub fn verify(bundle: &ProofBundle, genesis: &Genesis) -> Result<Verified, ProofError> {
    let ProofBundle {
        tx,
        receipt,
        tx_proof,
        receipt_proof,
        header,
        certificate,
        checkpoint: _,
    } = bundle;
    let chain_id = genesis.chain_id();

    // 2. The chain.
    if header.chain_id != chain_id {
        return Err(ProofError::Chain {
            bundle: header.chain_id,
            genesis: chain_id,
        });
    }

    // 3. The signer's signature, under this chain's id.
    tx.verify_signature(&chain_id)
        .map_err(ProofError::TxSignature)?;

    // 4. The act.
    let act = Act::decode(&tx.tx.payload).map_err(ProofError::Act)?;

    // 5. The pieces name the same transaction, position, height and tree size.
    let tx_id = tx.id();
    if receipt.tx_id != tx_id {
        return Err(ProofError::ReceiptTxId {
            receipt: receipt.tx_id,
            tx: tx_id,
        });
    }
    if receipt.height != header.height {
        return Err(ProofError::ReceiptHeight {
            receipt: receipt.height,
            header: header.height,
        });
    }
    if tx_proof.leaf_index != u64::from(receipt.index) {
        return Err(ProofError::TxProofIndex {
            receipt: receipt.index,
            proof: tx_proof.leaf_index,
        });
    }
    if receipt_proof.leaf_index != u64::from(receipt.index) {
        return Err(ProofError::ReceiptProofIndex {
            receipt: receipt.index,
            proof: receipt_proof.leaf_index,
        });
    }
    if tx_proof.tree_size != u64::from(header.tx_count) {
        return Err(ProofError::TxTreeSize {
            proof: tx_proof.tree_size,
            header: header.tx_count,
        });
    }
    if receipt_proof.tree_size != u64::from(header.tx_count) {
        return Err(ProofError::ReceiptTreeSize {
            proof: receipt_proof.tree_size,
            header: header.tx_count,
        });
    }

    // 6. The transaction is in the block.
    tx_proof
        .verify(&merkle::leaf_hash(tx_id.as_bytes()), &header.tx_root.0)
        .map_err(ProofError::TxInclusion)?;

    // 7. The receipt is the block's.
    receipt_proof
        .verify(
            &merkle::leaf_hash(&receipt.to_bytes()),
            &header.results_root.0,
        )
        .map_err(ProofError::ReceiptInclusion)?;

    // 8. The header names the genesis validator set.
    let validators = genesis.validator_set();
    let genesis_set = validators.hash();
    if header.validators_hash != genesis_set {
        return Err(ProofError::ValidatorSet {
            header: header.validators_hash,
            genesis: genesis_set,
        });
    }

    // 9. More than two thirds of that set's power precommitted this header.
    let block_id = header.id();
    certificate
        .verify(&chain_id, validators, header.height, &block_id)
        .map_err(ProofError::Certificate)?;

    let (signers, signed_power) = signers_of(certificate, genesis);

    // 10 to 13 (version 2): the checkpoint.
    let checkpoint = bundle
        .checkpoint
        .as_ref()
        .map(|checkpoint| verify_checkpoint(bundle, checkpoint, genesis))
        .transpose()?;

    Ok(Verified {
        chain_id,
        chain_name: genesis.chain_name.clone(),
        tx_id,
        tx: tx.clone(),
        act,
        receipt: *receipt,
        header: header.clone(),
        block_id,
        round: certificate.round,
        signers,
        signed_power,
        total_power: validators.total_power(),
        validator_count: validators.len(),
        checkpoint,
    })
}

/// The validators whose signatures a (verified) certificate holds, and their power.
pub(crate) fn signers_of(certificate: &CommitCertificate, genesis: &Genesis) -> (Vec<Signer>, u64) {
    let signers: Vec<Signer> = certificate
        .signatures
        .iter()
        .filter_map(|entry| {
            let validator = genesis.validators.get(usize::from(entry.validator_index))?;
            Some(Signer {
                index: entry.validator_index,
                court_code: validator.court_code.clone(),
                public_key: validator.validator.public_key,
                voting_power: validator.validator.voting_power,
            })
        })
        .collect();
    let signed_power = signers.iter().map(|s| s.voting_power).sum();
    (signers, signed_power)
}

/// Steps 10 to 13: the checkpoint of a bundle whose steps 2 to 9 passed.
fn verify_checkpoint(
    bundle: &ProofBundle,
    checkpoint: &Checkpoint,
    genesis: &Genesis,
) -> Result<VerifiedCheckpoint, ProofError> {
    let Checkpoint {
        header,
        certificate,
        log_proof,
    } = checkpoint;
    let chain_id = genesis.chain_id();

    // 10. The same chain, not below the act's block, the genesis validator set.
    if header.chain_id != chain_id {
        return Err(ProofError::CheckpointChain {
            checkpoint: header.chain_id,
            genesis: chain_id,
        });
    }
    if header.height < bundle.header.height {
        return Err(ProofError::CheckpointHeight {
            checkpoint: header.height,
            block: bundle.header.height,
        });
    }
    let validators = genesis.validator_set();
    let genesis_set = validators.hash();
    if header.validators_hash != genesis_set {
        return Err(ProofError::CheckpointValidatorSet {
            header: header.validators_hash,
            genesis: genesis_set,
        });
    }

    // 11. More than two thirds of the genesis power precommitted the checkpoint's header.
    let block_id = header.id();
    certificate
        .verify(&chain_id, validators, header.height, &block_id)
        .map_err(ProofError::CheckpointCertificate)?;

    // 12. The proof is for the act's own leaf, in the checkpoint's log.
    let expected = bundle.log_leaf_index();
    if expected != Some(log_proof.leaf_index) {
        return Err(ProofError::CheckpointLeafIndex {
            proof: log_proof.leaf_index,
            expected,
        });
    }
    if log_proof.tree_size != header.log_size {
        return Err(ProofError::CheckpointTreeSize {
            proof: log_proof.tree_size,
            header: header.log_size,
        });
    }

    // 13. The transaction id is that leaf of the log whose root the checkpoint certifies.
    log_proof
        .verify(
            &merkle::leaf_hash(bundle.tx.id().as_bytes()),
            &header.log_root.0,
        )
        .map_err(ProofError::CheckpointInclusion)?;

    let (signers, signed_power) = signers_of(certificate, genesis);
    Ok(VerifiedCheckpoint {
        header: header.clone(),
        block_id,
        round: certificate.round,
        signers,
        signed_power,
        leaf_index: log_proof.leaf_index,
    })
}
