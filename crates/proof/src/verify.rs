//! Verification of a bundle against a genesis: the steps of `docs/proof-format.md`, in order,
//! each failure with its own [`ProofError`] variant and check name.

use courtledger_codec::{DecodeError, Encode};
use courtledger_crypto::{verify_batch, BatchItem, ChainId, Digest, PublicKey, SignatureError};
use courtledger_ledger::Code;
use courtledger_merkle as merkle;
use courtledger_types::{
    BlockHeader, BlockId, CertificateError, CommitCertificate, CourtCode, Genesis, LeadingFailure,
    Receipt, SetChangeError, SignedTransaction, TxId, ValidatorSet, CODE_OK,
};

use crate::bundle::{Checkpoint, ProofBundle};
use crate::links::{follow, signer, Roster, SetChain, VerifiedSetChange};

/// Why a bundle does not prove its act. [`ProofError::check`] names the failed check; the
/// message says what was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// Step 1: not a well-formed bundle or checkpoint file (magic, truncation, bounds, a
    /// malformed part, trailing bytes).
    #[error("not well-formed: {0}")]
    Format(#[from] DecodeError),
    /// Step 1: a format version this verifier does not know.
    #[error("format version {found}; this verifier reads versions 1, 2 and 3 of bundles and versions 1 and 2 of checkpoint files")]
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
    /// Step 8 (version 3): set link `link` (0-based) does not activate above the previous one.
    #[error("set link {link} activates at height {activation}, not above the previous link's {previous}: links go in activation order")]
    SetLinkOrder {
        link: usize,
        activation: u64,
        previous: u64,
    },
    /// Step 8: a set link activates above the highest block the bundle proves (the block, or
    /// the checkpoint when there is one).
    #[error("set link {link} activates at height {activation}, above height {limit}, the highest the bundle proves")]
    SetLinkHeight {
        link: usize,
        activation: u64,
        limit: u64,
    },
    /// Step 8: a link's boundary header belongs to another chain.
    #[error("the boundary header of set link {link} belongs to chain {boundary}, not to this genesis' chain {genesis}")]
    SetBoundaryChain {
        link: usize,
        boundary: ChainId,
        genesis: ChainId,
    },
    /// Step 8: a link's boundary header is not the last block before the activation height.
    #[error("the boundary header of set link {link} is block {boundary}; a change activating at height {activation} needs block {activation} − 1")]
    SetBoundaryHeight {
        link: usize,
        boundary: u64,
        activation: u64,
    },
    /// Step 8: the set in force did not approve the link's change.
    #[error("the change of set link {link} does not follow from the set in force: {error}")]
    SetChange { link: usize, error: SetChangeError },
    /// Step 8: a link's boundary header names another set than the one in force.
    #[error("the boundary header of set link {link} names validator set {header}, the set in force is {expected}")]
    SetBoundaryValidatorSet {
        link: usize,
        header: Digest,
        expected: Digest,
    },
    /// Step 8: a link's boundary header names another next set than the change's.
    #[error("the boundary header of set link {link} names next validator set {header}, the change's set is {expected}")]
    SetBoundaryNextValidatorSet {
        link: usize,
        header: Digest,
        expected: Digest,
    },
    /// Step 8: a link's boundary certificate does not show that the set in force committed
    /// the boundary header.
    #[error("the boundary certificate of set link {link} does not hold: {error}")]
    SetBoundaryCertificate {
        link: usize,
        error: CertificateError,
    },
    /// Step 8: the header names another validator set than the one in force at its height
    /// (the genesis set, or the set of the last link activating at or below it).
    #[error(
        "the header's validator set {header} is not the set in force at its height, {expected}"
    )]
    ValidatorSet { header: Digest, expected: Digest },
    /// Step 9: the certificate does not show that the set in force committed the header.
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
    /// Step 10: the checkpoint's header names another validator set than the one in force at
    /// its height.
    #[error(
        "the checkpoint's validator set {header} is not the set in force at its height, {expected}"
    )]
    CheckpointValidatorSet { header: Digest, expected: Digest },
    /// Step 11: the checkpoint's certificate does not show that the set in force committed its
    /// header.
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

fn set_boundary_certificate_check(error: &CertificateError) -> &'static str {
    match error {
        CertificateError::WrongHeight { .. } => "set_boundary_certificate_height",
        CertificateError::WrongBlock { .. } => "set_boundary_certificate_block_id",
        CertificateError::NotAscending { .. } => "set_boundary_certificate_signer_order",
        CertificateError::UnknownValidator { .. } => "set_boundary_certificate_unknown_signer",
        CertificateError::BadSignature { .. } => "set_boundary_certificate_signature",
        CertificateError::NoQuorum { .. } => "set_boundary_certificate_quorum",
    }
}

/// The stable check name of a set change that does not follow from the set in force
/// (`set_change_from_set`, …, `set_change_quorum`).
pub fn set_change_check(error: &SetChangeError) -> &'static str {
    match error {
        SetChangeError::WrongFromSet { .. } => "set_change_from_set",
        SetChangeError::InvalidSet(_) => "set_change_members",
        SetChangeError::UnsortedApprovals { .. } => "set_change_approval_order",
        SetChangeError::UnknownApprover { .. } => "set_change_unknown_approver",
        SetChangeError::BadSignature { .. } => "set_change_approval_signature",
        SetChangeError::NoQuorum { .. } => "set_change_quorum",
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
    /// `tx_tree_size`, `receipt_tree_size`, `tx_inclusion`, `receipt_inclusion`, for version 3
    /// the set links' ([`ProofError::SET_LINK_CHECKS`]), `validator_set`, `certificate_height`, `certificate_block_id`,
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
            ProofError::SetLinkOrder { .. } => "set_link_order",
            ProofError::SetLinkHeight { .. } => "set_link_height",
            ProofError::SetBoundaryChain { .. } => "set_boundary_chain",
            ProofError::SetBoundaryHeight { .. } => "set_boundary_height",
            ProofError::SetChange { error, .. } => set_change_check(error),
            ProofError::SetBoundaryValidatorSet { .. } => "set_boundary_validator_set",
            ProofError::SetBoundaryNextValidatorSet { .. } => "set_boundary_next_validator_set",
            ProofError::SetBoundaryCertificate { error, .. } => {
                set_boundary_certificate_check(error)
            }
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

    /// The checks a bundle of format `version` passes, in verification order: version 1's
    /// ([`ProofError::V1_CHECKS`]); version 2 adds the checkpoint's; version 3 the set links'
    /// and the checkpoint's (a version 3 bundle without a checkpoint runs fewer: see
    /// [`ProofError::checks_run`]).
    pub fn checks_of(version: u16) -> Vec<&'static str> {
        match version {
            0 | 1 => Self::checks_run(false, false),
            2 => Self::checks_run(false, true),
            _ => Self::checks_run(true, true),
        }
    }

    /// The checks run on a bundle with or without set links and a checkpoint, in order.
    pub fn checks_run(links: bool, checkpoint: bool) -> Vec<&'static str> {
        Self::CHECKS
            .into_iter()
            .filter(|check| {
                (links || !Self::SET_LINK_CHECKS.contains(check))
                    && (checkpoint || !check.starts_with("checkpoint_"))
            })
            .collect()
    }

    /// The checks of the set links (step 8, version 3 bundles and version 2 checkpoint files),
    /// in verification order.
    pub const SET_LINK_CHECKS: [&'static str; 18] = [
        "set_link_order",
        "set_link_height",
        "set_boundary_chain",
        "set_boundary_height",
        "set_change_from_set",
        "set_change_members",
        "set_change_approval_order",
        "set_change_unknown_approver",
        "set_change_approval_signature",
        "set_change_quorum",
        "set_boundary_validator_set",
        "set_boundary_next_validator_set",
        "set_boundary_certificate_height",
        "set_boundary_certificate_block_id",
        "set_boundary_certificate_signer_order",
        "set_boundary_certificate_unknown_signer",
        "set_boundary_certificate_signature",
        "set_boundary_certificate_quorum",
    ];

    /// The checks of a version 1 bundle, in verification order (20).
    pub const V1_CHECKS: [&'static str; 20] = [
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
    ];

    /// The checks of a checkpoint file ([`crate::CertifiedHeader`]), in verification order (the
    /// set links' only for version 2 files).
    pub const HEAD_CHECKS: [&'static str; 28] = [
        "format",
        "version",
        "chain",
        "set_link_order",
        "set_link_height",
        "set_boundary_chain",
        "set_boundary_height",
        "set_change_from_set",
        "set_change_members",
        "set_change_approval_order",
        "set_change_unknown_approver",
        "set_change_approval_signature",
        "set_change_quorum",
        "set_boundary_validator_set",
        "set_boundary_next_validator_set",
        "set_boundary_certificate_height",
        "set_boundary_certificate_block_id",
        "set_boundary_certificate_signer_order",
        "set_boundary_certificate_unknown_signer",
        "set_boundary_certificate_signature",
        "set_boundary_certificate_quorum",
        "validator_set",
        "certificate_height",
        "certificate_block_id",
        "certificate_signer_order",
        "certificate_unknown_signer",
        "certificate_signature",
        "certificate_quorum",
    ];

    /// Every check name, in verification order (the set links' only for version 3, steps 10
    /// to 13 only with a checkpoint).
    pub const CHECKS: [&'static str; 50] = [
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
        "set_link_order",
        "set_link_height",
        "set_boundary_chain",
        "set_boundary_height",
        "set_change_from_set",
        "set_change_members",
        "set_change_approval_order",
        "set_change_unknown_approver",
        "set_change_approval_signature",
        "set_change_quorum",
        "set_boundary_validator_set",
        "set_boundary_next_validator_set",
        "set_boundary_certificate_height",
        "set_boundary_certificate_block_id",
        "set_boundary_certificate_signer_order",
        "set_boundary_certificate_unknown_signer",
        "set_boundary_certificate_signature",
        "set_boundary_certificate_quorum",
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
    /// Its index in the validator set that signed (the genesis set, or a changed set).
    pub index: u16,
    /// The court that runs it (genesis `validators[index].court_code`, or the court of member
    /// `index` of the set change that made the set).
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
    /// The act, decoded: a judicial act or a validator-set change.
    pub act: crate::describe::Deed,
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
    /// Version 3: every validator-set change the bundle follows from genesis, oldest first
    /// (those activating above the block apply to the checkpoint only). Empty for versions 1
    /// and 2: the genesis set signed.
    pub set_changes: Vec<VerifiedSetChange>,
    /// How many of [`Verified::set_changes`] apply at the block's height: the block was signed
    /// by the set of the last of them, or by the genesis set when none.
    pub block_set_changes: usize,
    /// Versions 2 and 3: the verified checkpoint.
    pub checkpoint: Option<VerifiedCheckpoint>,
}

/// What a verified checkpoint adds: a newer block, certified by the set in force at its
/// height, whose history log holds the transaction.
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
    /// The voting power of the set that signed it.
    pub total_power: u64,
    /// The transaction's leaf in the history log.
    pub leaf_index: u64,
}

impl Verified {
    /// The act's outcome.
    pub fn outcome(&self) -> Outcome {
        Outcome::of(self.receipt.code)
    }

    /// The format version of the verified bundle: 3 with set links, 2 with a checkpoint,
    /// else 1.
    pub fn format_version(&self) -> u16 {
        if !self.set_changes.is_empty() {
            crate::bundle::FORMAT_VERSION_SET_LINKS
        } else if self.checkpoint.is_some() {
            crate::bundle::FORMAT_VERSION_CHECKPOINT
        } else {
            crate::bundle::FORMAT_VERSION
        }
    }

    /// The checks the bundle passed, in order.
    pub fn checks_passed(&self) -> Vec<&'static str> {
        ProofError::checks_run(!self.set_changes.is_empty(), self.checkpoint.is_some())
    }
}

/// Decodes `bytes` and verifies the bundle against `genesis`.
pub fn verify_bytes(bytes: &[u8], genesis: &Genesis) -> Result<Verified, ProofError> {
    verify(&ProofBundle::decode(bytes)?, genesis)
}

/// Verifies a decoded bundle against `genesis`: steps 2 to 9 of `docs/proof-format.md` (step 1
/// is [`ProofBundle::decode`]; step 8 follows the set links of a version 3 bundle), and steps 10
/// to 13 for the checkpoint of a version 2 or 3 bundle.
/// The first failing step is returned.
///
/// A failed act (receipt code other than 0) is not a verification failure: the bundle proves
/// that the attempt was committed and failed; [`Verified::outcome`] says so.
pub fn verify(bundle: &ProofBundle, genesis: &Genesis) -> Result<Verified, ProofError> {
    verify_with(bundle, genesis, &mut CertificateCache::new())
}

/// Commit certificates already verified, so that many bundles certified by the same block (a
/// case's acts refreshed to one checkpoint, or acts of one block) check its signatures once.
///
/// An entry is the SHA-256 of everything the check depended on: the chain id, the hash of the
/// validator set it was checked against (itself derived from genesis and verified links), the
/// height, the block id and the certificate's exact bytes. A hit therefore stands for exactly
/// the check that passed before; anything else is verified in full. At most
/// [`CertificateCache::CAPACITY`] entries are kept (the cache empties when full).
#[derive(Debug, Clone, Default)]
pub struct CertificateCache {
    verified: std::collections::HashSet<Digest>,
    /// Certificates found in the cache.
    pub hits: u64,
    /// Certificates verified in full.
    pub misses: u64,
}

impl CertificateCache {
    /// Most certificates remembered.
    pub const CAPACITY: usize = 4096;

    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    fn check(
        &mut self,
        certificate: &CommitCertificate,
        chain_id: &ChainId,
        validators: &ValidatorSet,
        height: u64,
        block_id: &BlockId,
    ) -> Result<(), CertificateError> {
        self.check_with_leading(None, certificate, chain_id, validators, height, block_id)
            .map_err(|failure| match failure {
                LeadingFailure::Certificate(error) => error,
                LeadingFailure::Leading(_) => unreachable!("no leading signature was given"),
            })
    }

    /// [`Self::check`], with `leading` verified first: in the certificate's batch when the
    /// certificate is not in the cache, alone when it is.
    fn check_with_leading(
        &mut self,
        leading: Option<BatchItem<'_>>,
        certificate: &CommitCertificate,
        chain_id: &ChainId,
        validators: &ValidatorSet,
        height: u64,
        block_id: &BlockId,
    ) -> Result<(), LeadingFailure> {
        let mut hasher = courtledger_crypto::Sha256Hasher::new();
        hasher.update(chain_id.as_bytes());
        hasher.update(validators.hash().as_bytes());
        hasher.update(&height.to_be_bytes());
        hasher.update(block_id.as_bytes());
        hasher.update(&certificate.to_bytes());
        let key = hasher.finalize();
        if self.verified.contains(&key) {
            if let Some(item) = leading {
                verify_batch(&[item]).map_err(|failure| LeadingFailure::Leading(failure.error))?;
            }
            self.hits += 1;
            return Ok(());
        }
        match leading {
            Some(item) => {
                certificate.verify_with_leading(item, chain_id, validators, height, block_id)?;
            }
            None => certificate
                .verify(chain_id, validators, height, block_id)
                .map_err(LeadingFailure::Certificate)?,
        }
        self.misses += 1;
        if self.verified.len() >= Self::CAPACITY {
            self.verified.clear();
        }
        self.verified.insert(key);
        Ok(())
    }
}

/// [`verify`], remembering verified certificates in `cache` (and trusting those it holds): the
/// verdict is the same as [`verify`]'s for every bundle.
pub fn verify_with(
    bundle: &ProofBundle,
    genesis: &Genesis,
    cache: &mut CertificateCache,
) -> Result<Verified, ProofError> {
    let ProofBundle {
        links: _,
        tx,
        receipt,
        tx_proof: _,
        receipt_proof: _,
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

    // 3. The signer's signature, under this chain's id: checked in one batch with the block's
    // certificate (step 9), which costs less than two checks. So that the verdict is that of
    // checking it here, any failure of steps 4 to 8 first checks the signature alone and reports
    // it if it is bad.
    let tx_message = tx.signed_bytes();
    let tx_item = tx.batch_item(&chain_id, &tx_message);
    let signature_first = |error: ProofError| match tx.verify_signature(&chain_id) {
        Err(signature) => ProofError::TxSignature(signature),
        Ok(()) => error,
    };
    let Stage { act, tx_id, sets } = steps_4_to_8(bundle, genesis).map_err(signature_first)?;
    let roster = sets.at(header.height);
    let validators = &roster.set;

    // 9. More than two thirds of that set's power precommitted this header.
    let block_id = header.id();
    cache
        .check_with_leading(
            Some(tx_item),
            certificate,
            &chain_id,
            validators,
            header.height,
            &block_id,
        )
        .map_err(|failure| match failure {
            LeadingFailure::Leading(error) => ProofError::TxSignature(error),
            LeadingFailure::Certificate(error) => ProofError::Certificate(error),
        })?;

    let (signers, signed_power) = signers_of(certificate, roster);

    // 10 to 13 (versions 2 and 3): the checkpoint.
    let checkpoint = bundle
        .checkpoint
        .as_ref()
        .map(|checkpoint| verify_checkpoint(bundle, checkpoint, &chain_id, &sets, cache))
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
        block_set_changes: sets.changes_at(header.height).len(),
        set_changes: sets.changes().to_vec(),
        checkpoint,
    })
}

/// The validators of `roster` whose signatures a (verified) certificate holds, and their power.
pub(crate) fn signers_of(certificate: &CommitCertificate, roster: &Roster) -> (Vec<Signer>, u64) {
    let signers: Vec<Signer> = certificate
        .signatures
        .iter()
        .filter_map(|entry| signer(roster, entry.validator_index))
        .collect();
    let signed_power = signers.iter().map(|s| s.voting_power).sum();
    (signers, signed_power)
}

/// Steps 10 to 13: the checkpoint of a bundle whose steps 2 to 9 passed.
fn verify_checkpoint(
    bundle: &ProofBundle,
    checkpoint: &Checkpoint,
    chain_id: &ChainId,
    sets: &SetChain,
    cache: &mut CertificateCache,
) -> Result<VerifiedCheckpoint, ProofError> {
    let Checkpoint {
        header,
        certificate,
        log_proof,
    } = checkpoint;
    let chain_id = *chain_id;

    // 10. The same chain, not below the act's block, the set in force at its height.
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
    let roster = sets.at(header.height);
    let validators = &roster.set;
    let expected = validators.hash();
    if header.validators_hash != expected {
        return Err(ProofError::CheckpointValidatorSet {
            header: header.validators_hash,
            expected,
        });
    }

    // 11. More than two thirds of that set's power precommitted the checkpoint's header.
    let block_id = header.id();
    cache
        .check(certificate, &chain_id, validators, header.height, &block_id)
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

    let (signers, signed_power) = signers_of(certificate, roster);
    Ok(VerifiedCheckpoint {
        header: header.clone(),
        block_id,
        round: certificate.round,
        signers,
        signed_power,
        total_power: validators.total_power(),
        leaf_index: log_proof.leaf_index,
    })
}

/// What steps 4 to 8 of [`verify_with`] establish.
struct Stage {
    act: crate::describe::Deed,
    tx_id: TxId,
    sets: SetChain,
}

/// Steps 4 to 8 of [`verify_with`]: the act, the pieces' agreement, the two inclusion proofs,
/// the set links and the header's validator set.
fn steps_4_to_8(bundle: &ProofBundle, genesis: &Genesis) -> Result<Stage, ProofError> {
    let ProofBundle {
        links,
        tx,
        receipt,
        tx_proof,
        receipt_proof,
        header,
        ..
    } = bundle;
    // 4. The act.
    let act = crate::describe::Deed::decode(&tx.tx.payload).map_err(ProofError::Act)?;

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

    // 8. The set links (version 3), from genesis up to the highest block the bundle proves;
    // then the header names the set in force at its height.
    let limit = bundle
        .checkpoint
        .as_ref()
        .map_or(header.height, |c| c.header.height.max(header.height));
    let sets = follow(links, genesis, limit)?;
    let roster = sets.at(header.height);
    let validators = &roster.set;
    let expected = validators.hash();
    if header.validators_hash != expected {
        return Err(ProofError::ValidatorSet {
            header: header.validators_hash,
            expected,
        });
    }

    Ok(Stage { act, tx_id, sets })
}
