//! Why a proof could not be made or did not verify.

/// Why a proof could not be produced or did not verify, or a [`crate::Frontier`] could not grow.
///
/// Every variant describes the input; none is a bug. Verification reports the first check that
/// fails, in the order the RFC 9162 algorithm makes them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// A consistency proof from the empty tree (`old_size == 0`). RFC 9162 2.1.4 defines
    /// consistency proofs only for `old_size > 0`: every tree extends the empty tree, so there
    /// is nothing to prove.
    #[error("no consistency proof from the empty tree: there is nothing to prove")]
    EmptyTree,
    /// The leaf index is not below the tree size (including every index of an empty tree).
    #[error("leaf index {leaf_index} is out of range for a tree of {tree_size} leaves")]
    IndexOutOfRange {
        /// The leaf index asked for or claimed.
        leaf_index: u64,
        /// The tree size asked for or claimed.
        tree_size: u64,
    },
    /// The old tree is larger than the new one (for `prove`, larger than the leaves given).
    #[error("old size {old_size} is larger than new size {new_size}")]
    InvalidSizes {
        /// The old tree size.
        old_size: u64,
        /// The new tree size.
        new_size: u64,
    },
    /// The path does not have the number of hashes the sizes (and index) call for.
    #[error("proof path has {actual} hashes, the sizes call for {expected}")]
    WrongPathLength {
        /// The number of hashes a proof for these sizes has.
        expected: u64,
        /// The number of hashes in the path.
        actual: u64,
    },
    /// The root recomputed from the proof is not the given root (for a consistency proof: the
    /// new root; for `old_size == new_size`: the two roots differ).
    #[error("the proof does not lead to the given root")]
    RootMismatch,
    /// The old root recomputed from a consistency proof is not the given old root. When
    /// `old_size` is a power of two the given old root is itself the start of the computation
    /// (RFC 9162 2.1.4.2 step 2), so a wrong one is reported as [`ProofError::RootMismatch`].
    #[error("the consistency proof does not lead to the given old root")]
    OldRootMismatch,
    /// The frontier already holds `u64::MAX` leaves and cannot count another.
    #[error("the tree already holds the maximum number of leaves")]
    TreeFull,
}
