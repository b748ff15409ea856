//! Inclusion proofs (RFC 9162 2.1.3).

use courtledger_codec::{write, Decode, DecodeError, Encode, Reader};

use crate::{len_u64, node_hash, path_len, root, split_point, Hash, ProofError, MAX_PATH_LEN};

/// Proof that a leaf hash is the leaf at `leaf_index` of the tree of `tree_size` leaves with a
/// given root.
///
/// `path` is RFC 9162's `PATH(m, D[n])`, leaf to root: the sibling of the leaf first, the child
/// of the root last. It has exactly `bit_length(m XOR (n - 1)) + popcount(m >> bit_length(m XOR
/// (n - 1)))` hashes (0 for a one-leaf tree), where `m = leaf_index`, `n = tree_size` and
/// `bit_length(x)` is the number of bits of `x` without leading zeros (`bit_length(0) = 0`).
///
/// # Encoding
///
/// ```text
/// leaf_index  u64, big-endian           8 bytes
/// tree_size   u64, big-endian           8 bytes
/// path count  u32, big-endian           4 bytes, at most MAX_PATH_LEN (64)
/// path        count × 32-byte hashes, leaf to root
/// ```
///
/// Decoding checks only this layout (and the bound); whether the numbers fit together is
/// [`InclusionProof::verify`]'s job, so a decoded proof always re-encodes to the same bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InclusionProof {
    /// Zero-based position of the leaf.
    pub leaf_index: u64,
    /// Number of leaves in the tree whose root the proof leads to.
    pub tree_size: u64,
    /// Sibling hashes from the leaf up to the root.
    pub path: Vec<Hash>,
}

impl InclusionProof {
    /// Proves that `leaves[leaf_index]` is in the tree of all of `leaves` (leaf hashes).
    ///
    /// Fails with [`ProofError::IndexOutOfRange`] if `leaf_index >= leaves.len()` (so always for
    /// no leaves). Takes `O(n)` hashing.
    pub fn prove(leaves: &[Hash], leaf_index: u64) -> Result<Self, ProofError> {
        let tree_size = len_u64(leaves.len());
        let index = usize::try_from(leaf_index)
            .ok()
            .filter(|&index| index < leaves.len())
            .ok_or(ProofError::IndexOutOfRange {
                leaf_index,
                tree_size,
            })?;
        // RFC 9162 2.1.3.1: for n > 1 and k the split point,
        //   PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n])      if m < k
        //   PATH(m, D[n]) = PATH(m - k, D[k:n]) : MTH(D[0:k])  if m >= k
        // Walking down from the root collects the siblings root first; the path is leaf first.
        let mut path = Vec::new();
        let (mut low, mut high) = (0, leaves.len());
        while high - low > 1 {
            let mid = low + split_point(high - low);
            if index < mid {
                path.push(root(&leaves[mid..high]));
                high = mid;
            } else {
                path.push(root(&leaves[low..mid]));
                low = mid;
            }
        }
        path.reverse();
        Ok(Self {
            leaf_index,
            tree_size,
            path,
        })
    }

    /// The number of path hashes a valid proof for `leaf_index` in a tree of `tree_size`
    /// leaves has, or `None` if `leaf_index >= tree_size`.
    pub fn expected_path_len(leaf_index: u64, tree_size: u64) -> Option<u64> {
        (leaf_index < tree_size).then(|| path_len(leaf_index, tree_size - 1))
    }

    /// Checks that `leaf` (a leaf hash) is at `leaf_index` in the tree of `tree_size` leaves
    /// whose root is `root`.
    ///
    /// This is the algorithm of RFC 9162 2.1.3.2:
    ///
    /// 1. fail if `leaf_index >= tree_size` ([`ProofError::IndexOutOfRange`]);
    /// 2. (added) fail unless the path has exactly the length given on [`InclusionProof`]
    ///    ([`ProofError::WrongPathLength`]); the RFC steps below would reject such a path too;
    /// 3. `fn = leaf_index`, `sn = tree_size - 1`, `r = leaf`;
    /// 4. for each `p` in the path: if `sn == 0`, fail. If `fn` is odd or `fn == sn`, set
    ///    `r = node_hash(p, r)` and then, if `fn` is even, shift `fn` and `sn` right together
    ///    until `fn` is odd or zero; otherwise set `r = node_hash(r, p)`. Then shift `fn` and
    ///    `sn` right once;
    /// 5. succeed if `sn == 0` and `r == root`, else fail ([`ProofError::RootMismatch`]).
    ///
    /// `root` must be the root for `tree_size` from a trusted source; see the crate docs.
    pub fn verify(&self, leaf: &Hash, root: &Hash) -> Result<(), ProofError> {
        let expected = Self::expected_path_len(self.leaf_index, self.tree_size).ok_or(
            ProofError::IndexOutOfRange {
                leaf_index: self.leaf_index,
                tree_size: self.tree_size,
            },
        )?;
        let actual = len_u64(self.path.len());
        let wrong_length = ProofError::WrongPathLength { expected, actual };
        if actual != expected {
            return Err(wrong_length);
        }
        let mut f = self.leaf_index;
        let mut s = self.tree_size - 1;
        let mut r = *leaf;
        for p in &self.path {
            if s == 0 {
                return Err(wrong_length);
            }
            if f & 1 == 1 || f == s {
                r = node_hash(p, &r);
                if f & 1 == 0 {
                    while f & 1 == 0 && f != 0 {
                        f >>= 1;
                        s >>= 1;
                    }
                }
            } else {
                r = node_hash(&r, p);
            }
            f >>= 1;
            s >>= 1;
        }
        if s != 0 {
            return Err(wrong_length);
        }
        if r != *root {
            return Err(ProofError::RootMismatch);
        }
        Ok(())
    }
}

impl Encode for InclusionProof {
    fn encode_to(&self, out: &mut Vec<u8>) {
        write::u64(out, self.leaf_index);
        write::u64(out, self.tree_size);
        write::seq(out, &self.path);
    }
}

impl Decode for InclusionProof {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            leaf_index: reader.u64("inclusion proof leaf_index")?,
            tree_size: reader.u64("inclusion proof tree_size")?,
            path: reader.seq("inclusion proof path", MAX_PATH_LEN)?,
        })
    }
}
