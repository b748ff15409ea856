//! Consistency proofs (RFC 9162 2.1.4).

use courtledger_codec::{write, Decode, DecodeError, Encode, Reader};

use crate::{len_u64, node_hash, path_len, root, split_point, Hash, ProofError, MAX_PATH_LEN};

/// Proof that the tree of `old_size` leaves is a prefix of the tree of `new_size` leaves: the
/// new tree holds the same first `old_size` leaves, in the same order, and more after them.
///
/// `path` is RFC 9162's `PROOF(m, D[n])` for `m = old_size`, `n = new_size`, deepest hash
/// first. For `0 < m < n`, with `t` the number of trailing zero bits of `m`,
/// `f = (m - 1) >> t` and `s = (n - 1) >> t`, it has exactly
/// `bit_length(f XOR s) + popcount(f >> bit_length(f XOR s))` hashes, plus one more if `m` is
/// not a power of two. That extra, first hash is the root of the last `2^t` old leaves (the
/// smallest subtree on the old tree's right edge, the last node of its [`crate::Frontier`]);
/// if `m` is a power of two that subtree is the whole old tree, its root is the old root, and
/// the path leaves it out. For `m == n` the path is empty; `m == 0` has no proof (see
/// [`ProofError::EmptyTree`]).
///
/// # Encoding
///
/// ```text
/// old_size    u64, big-endian           8 bytes
/// new_size    u64, big-endian           8 bytes
/// path count  u32, big-endian           4 bytes, at most MAX_PATH_LEN (64)
/// path        count × 32-byte hashes, in PROOF order
/// ```
///
/// Decoding checks only this layout (and the bound); whether the numbers fit together is
/// [`ConsistencyProof::verify`]'s job, so a decoded proof always re-encodes to the same bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsistencyProof {
    /// Number of leaves in the older tree; at least 1.
    pub old_size: u64,
    /// Number of leaves in the newer tree; at least `old_size`.
    pub new_size: u64,
    /// The proof hashes in RFC 9162 `PROOF` order.
    pub path: Vec<Hash>,
}

impl ConsistencyProof {
    /// Proves that the first `old_size` of `leaves` (leaf hashes) form a prefix of the tree of
    /// all of `leaves`; `new_size` is `leaves.len()`.
    ///
    /// Fails with [`ProofError::EmptyTree`] if `old_size == 0` and with
    /// [`ProofError::InvalidSizes`] if `old_size > leaves.len()`. For
    /// `old_size == leaves.len()` the path is empty. Takes `O(n)` hashing.
    pub fn prove(leaves: &[Hash], old_size: u64) -> Result<Self, ProofError> {
        let new_size = len_u64(leaves.len());
        if old_size == 0 {
            return Err(ProofError::EmptyTree);
        }
        let mut m = usize::try_from(old_size)
            .ok()
            .filter(|&m| m <= leaves.len())
            .ok_or(ProofError::InvalidSizes { old_size, new_size })?;
        // RFC 9162 2.1.4.1: PROOF(m, D[n]) = SUBPROOF(m, D[n], true), and for k the split point
        //   SUBPROOF(m, D[m], true)  = {}
        //   SUBPROOF(m, D[m], false) = {MTH(D[m])}
        //   SUBPROOF(m, D[n], b) = SUBPROOF(m, D[0:k], b) : MTH(D[k:n])          if m <= k
        //   SUBPROOF(m, D[n], b) = SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])  if m > k
        // Walking down collects the hashes top first; PROOF lists them bottom first.
        let mut path = Vec::new();
        let (mut low, mut high) = (0, leaves.len());
        let mut whole_old_tree = true;
        loop {
            let size = high - low;
            if m == size {
                if !whole_old_tree {
                    path.push(root(&leaves[low..high]));
                }
                break;
            }
            let k = split_point(size);
            if m <= k {
                path.push(root(&leaves[low + k..high]));
                high = low + k;
            } else {
                path.push(root(&leaves[low..low + k]));
                low += k;
                m -= k;
                whole_old_tree = false;
            }
        }
        path.reverse();
        Ok(Self {
            old_size,
            new_size,
            path,
        })
    }

    /// The number of path hashes a valid proof from `old_size` to `new_size` has, or `None`
    /// if there is no such proof (`old_size == 0` or `old_size > new_size`).
    pub fn expected_path_len(old_size: u64, new_size: u64) -> Option<u64> {
        if old_size == 0 || old_size > new_size {
            return None;
        }
        if old_size == new_size {
            return Some(0);
        }
        let shift = old_size.trailing_zeros();
        let seed = u64::from(!old_size.is_power_of_two());
        Some(path_len((old_size - 1) >> shift, (new_size - 1) >> shift) + seed)
    }

    /// Checks that the tree of `old_size` leaves with root `old_root` is a prefix of the tree
    /// of `new_size` leaves with root `new_root`.
    ///
    /// 1. fail if `old_size == 0` ([`ProofError::EmptyTree`]) or `old_size > new_size`
    ///    ([`ProofError::InvalidSizes`]);
    /// 2. if `old_size == new_size`: succeed if the path is empty and `old_root == new_root`,
    ///    else fail ([`ProofError::WrongPathLength`] / [`ProofError::RootMismatch`]);
    /// 3. fail unless the path has exactly the length given on [`ConsistencyProof`]
    ///    ([`ProofError::WrongPathLength`]); this covers the RFC's "empty path" check and
    ///    rejects up front what the steps below would reject anyway;
    ///
    /// then, as RFC 9162 2.1.4.2:
    ///
    /// 4. if `old_size` is a power of two, put `old_root` in front of the path;
    /// 5. `fn = old_size - 1`, `sn = new_size - 1`; while `fn` is odd, shift `fn` and `sn`
    ///    right together;
    /// 6. `fr = sr =` the first hash of the path;
    /// 7. for each following hash `c`: if `sn == 0`, fail. If `fn` is odd or `fn == sn`, set
    ///    `fr = node_hash(c, fr)` and `sr = node_hash(c, sr)` and then, if `fn` is even, shift
    ///    `fn` and `sn` right together until `fn` is odd or zero; otherwise set
    ///    `sr = node_hash(sr, c)`. Then shift `fn` and `sn` right once;
    /// 8. succeed if `sn == 0`, `fr == old_root` (else [`ProofError::OldRootMismatch`]) and
    ///    `sr == new_root` (else [`ProofError::RootMismatch`]).
    ///
    /// Both roots must come from a trusted source for their sizes; see the crate docs.
    pub fn verify(&self, old_root: &Hash, new_root: &Hash) -> Result<(), ProofError> {
        let (old_size, new_size) = (self.old_size, self.new_size);
        if old_size == 0 {
            return Err(ProofError::EmptyTree);
        }
        let expected = Self::expected_path_len(old_size, new_size)
            .ok_or(ProofError::InvalidSizes { old_size, new_size })?;
        let actual = len_u64(self.path.len());
        let wrong_length = ProofError::WrongPathLength { expected, actual };
        if actual != expected {
            return Err(wrong_length);
        }
        if old_size == new_size {
            return if old_root == new_root {
                Ok(())
            } else {
                Err(ProofError::RootMismatch)
            };
        }

        let (seed, rest) = if old_size.is_power_of_two() {
            (old_root, self.path.as_slice())
        } else {
            self.path.split_first().ok_or(wrong_length.clone())?
        };
        let mut f = old_size - 1;
        let mut s = new_size - 1;
        while f & 1 == 1 {
            f >>= 1;
            s >>= 1;
        }
        let mut fr = *seed;
        let mut sr = *seed;
        for c in rest {
            if s == 0 {
                return Err(wrong_length);
            }
            if f & 1 == 1 || f == s {
                fr = node_hash(c, &fr);
                sr = node_hash(c, &sr);
                if f & 1 == 0 {
                    while f & 1 == 0 && f != 0 {
                        f >>= 1;
                        s >>= 1;
                    }
                }
            } else {
                sr = node_hash(&sr, c);
            }
            f >>= 1;
            s >>= 1;
        }
        if s != 0 {
            return Err(wrong_length);
        }
        if fr != *old_root {
            return Err(ProofError::OldRootMismatch);
        }
        if sr != *new_root {
            return Err(ProofError::RootMismatch);
        }
        Ok(())
    }
}

impl Encode for ConsistencyProof {
    fn encode_to(&self, out: &mut Vec<u8>) {
        write::u64(out, self.old_size);
        write::u64(out, self.new_size);
        write::seq(out, &self.path);
    }
}

impl Decode for ConsistencyProof {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            old_size: reader.u64("consistency proof old_size")?,
            new_size: reader.u64("consistency proof new_size")?,
            path: reader.seq("consistency proof path", MAX_PATH_LEN)?,
        })
    }
}
