//! Merkle trees, inclusion proofs and consistency proofs exactly as RFC 9162 section 2.1
//! (Certificate Transparency v2) defines them, with SHA-256.
//!
//! # Hashes
//!
//! Every hash is 32 bytes of SHA-256 ([`Hash`](type@Hash)). Leaves and interior nodes are
//! hashed with different one-byte prefixes, so no leaf can be passed off as a node or the other
//! way round:
//!
//! - leaf hash: `SHA-256(0x00 || data)` ([`leaf_hash`]);
//! - node hash: `SHA-256(0x01 || left || right)` ([`node_hash`]);
//! - root of the empty tree: `SHA-256("")` ([`empty_root`]), that is
//!   `e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855`.
//!
//! # The tree
//!
//! For a list of `n` leaf hashes `D[0..n]` (the caller hashes the leaf data with [`leaf_hash`]
//! first) the Merkle Tree Hash is, as in RFC 9162 2.1.1 but starting from leaf hashes:
//!
//! - `MTH({}) = SHA-256("")`;
//! - `MTH({d}) = d`;
//! - for `n > 1`, with `k` the largest power of two strictly smaller than `n`:
//!   `MTH(D[0..n]) = node_hash(MTH(D[0..k]), MTH(D[k..n]))`.
//!
//! [`root`] computes it from all leaves; [`Frontier`] keeps only the right edge of a growing
//! tree and computes the same value in `O(log n)`.
//!
//! # Proofs
//!
//! [`InclusionProof`] shows that a leaf hash sits at `leaf_index` in the tree of `tree_size`
//! leaves with a given root (RFC 9162 2.1.3). [`ConsistencyProof`] shows that the tree of
//! `old_size` leaves is a prefix of the tree of `new_size` leaves (RFC 9162 2.1.4). Unlike the
//! bare RFC paths, both proof types carry their sizes (and the leaf index), and their encodings
//! are fixed here (see the types). Verification follows the RFC algorithms step by step and
//! additionally checks the path length up front so that a wrong length gets its own error.
//!
//! A proof binds a leaf (or an old root) to a *claimed* root; the path does not commit to the
//! tree size, so it cannot show that the root belongs to a tree of the stated size. For example
//! the proof of leaf 0 in a 3-leaf tree, with its size changed to 4, verifies against the
//! 3-leaf root. Callers must take the root and the size from the same trusted source (in
//! courtledger, a signed block header or tree head) and check that the proof's `tree_size` /
//! `old_size` / `new_size` are the sizes that source states.
//!
//! The hashing and the proofs are those of RFC 6962 as well (RFC 9162 changed neither), so the
//! RFC 6962 SHA-256 hasher of Certificate Transparency libraries computes the same roots and
//! accepts the same paths.
//!
//! # Why not `rs_merkle`
//!
//! `rs_merkle`'s default hasher hashes leaves and nodes without the `0x00` / `0x01` domain
//! separation, and its proofs carry neither the leaf index nor the tree size, so a proof does
//! not say what it proves. The rules are short enough to own, so this crate implements them
//! directly and is checked against the published Certificate Transparency test vectors.
//!
//! This crate does no IO, reads no clock, uses no randomness and never panics on any input.

mod consistency;
mod error;
mod frontier;
mod inclusion;
mod log;

pub use consistency::ConsistencyProof;
pub use error::ProofError;
pub use frontier::Frontier;
pub use inclusion::InclusionProof;
pub use log::{
    log_root, prove_consistency, prove_inclusion, LogNode, LogProofError, SubtreeSource,
};

use sha2::{Digest, Sha256};

/// A SHA-256 digest: a leaf hash, a node hash or a root.
pub type Hash = [u8; 32];

/// The largest number of hashes a proof path may have on the wire, and the largest number of
/// nodes a [`Frontier`] holds.
///
/// An inclusion path never exceeds 64 hashes for any `u64` tree size. A consistency path has at
/// most `ceil(log2(new_size)) + 1` hashes, so 64 covers every tree of up to 2^63 leaves.
pub const MAX_PATH_LEN: u32 = 64;

/// Prefix byte of a leaf hash.
const LEAF_PREFIX: u8 = 0x00;
/// Prefix byte of an interior node hash.
const NODE_PREFIX: u8 = 0x01;

/// The hash of one leaf: `SHA-256(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([LEAF_PREFIX]);
    hasher.update(data);
    hasher.finalize().into()
}

/// The hash of an interior node: `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([NODE_PREFIX]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// The root of the empty tree: `SHA-256` of the empty string.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The Merkle Tree Hash of `leaves`, which are leaf hashes (see [`leaf_hash`]), not leaf data.
///
/// `root(&[])` is [`empty_root`], `root(&[d])` is `d`, and a longer list is split after `k`
/// leaves, `k` the largest power of two strictly smaller than its length, and the two roots
/// combined with [`node_hash`].
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves {
        [] => empty_root(),
        [single] => *single,
        _ => {
            let (left, right) = leaves.split_at(split_point(leaves.len()));
            node_hash(&root(left), &root(right))
        }
    }
}

/// The largest power of two strictly smaller than `n`; `n` must be at least 2 (it is 1 below
/// that, which no caller relies on).
fn split_point(n: usize) -> usize {
    if n < 2 {
        return 1;
    }
    let bits_below = usize::BITS - 1 - (n - 1).leading_zeros();
    1usize << bits_below
}

/// `n` as a `u64`. Slice lengths always fit; the fallback only keeps the conversion total.
fn len_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// The number of hashes in the RFC 9162 inclusion path of leaf `index` in the tree whose last
/// leaf index is `last` (tree size `last + 1`), for `index <= last`.
///
/// The path climbs `bit_length(index ^ last)` levels inside the perfect subtrees that `index`
/// and `last` do not share, then takes one more sibling for every set bit of the shared high
/// part (each is a perfect left subtree).
fn path_len(index: u64, last: u64) -> u64 {
    let inner = u64::BITS - (index ^ last).leading_zeros();
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    u64::from(inner + border)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_point_is_largest_power_of_two_below() {
        for n in 2usize..=1025 {
            let k = split_point(n);
            assert!(k.is_power_of_two() && k < n && 2 * k >= n, "n={n} k={k}");
        }
    }

    #[test]
    fn hashes_are_domain_separated() {
        let a = leaf_hash(b"a");
        let b = leaf_hash(b"b");
        let mut concat = vec![NODE_PREFIX];
        concat.extend_from_slice(&a);
        concat.extend_from_slice(&b);
        let as_leaf_data: Vec<u8> = concat[1..].to_vec();
        assert_ne!(node_hash(&a, &b), leaf_hash(&as_leaf_data));
        assert_eq!(node_hash(&a, &b), <[u8; 32]>::from(Sha256::digest(&concat)));
    }

    #[test]
    fn root_of_small_trees() {
        assert_eq!(root(&[]), empty_root());
        let a = leaf_hash(b"a");
        assert_eq!(root(&[a]), a);
        let b = leaf_hash(b"b");
        let c = leaf_hash(b"c");
        assert_eq!(root(&[a, b, c]), node_hash(&node_hash(&a, &b), &c));
    }
}
