//! The right edge of an append-only tree (a "compact range" starting at leaf 0).

use courtledger_codec::{write, Decode, DecodeError, Encode, Reader};

use crate::{empty_root, node_hash, Hash, LogNode, ProofError, MAX_PATH_LEN};

/// The right edge of an append-only Merkle tree: enough to append leaves and compute the root
/// without keeping the leaves.
///
/// For a tree of `size` leaves, write `size` in binary; each set bit `2^h` stands for one
/// perfect subtree of `2^h` leaves, and those subtrees, largest first, cover the leaves left to
/// right. The frontier stores the root of each of them (a leaf hash for `h = 0`), largest
/// (leftmost) first, so it holds exactly `popcount(size)` hashes. For example, 7 leaves
/// `d0..d6` give `[MTH(d0..d3), MTH(d4, d5), d6]`.
///
/// The tree's root folds them from the right: `node_hash(n0, node_hash(n1, … node_hash(n(k-2),
/// n(k-1))))`, which equals [`crate::root`] of all the leaves ([`crate::empty_root`] for none).
///
/// # Encoding
///
/// ```text
/// size        u64, big-endian           8 bytes
/// node count  u32, big-endian           4 bytes, must equal popcount(size) (so at most 64)
/// nodes       count × 32-byte hashes, largest subtree first
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    nodes: Vec<Hash>,
}

impl Frontier {
    /// The frontier of the empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one leaf hash in `O(log n)`.
    ///
    /// A frontier that already holds `u64::MAX` leaves (which only a decoded frontier can;
    /// counting there from zero takes 2^64 appends) is left unchanged; use
    /// [`Frontier::try_append`] to be told.
    pub fn append(&mut self, leaf: Hash) {
        // The only error is TreeFull, for which leaving the frontier as it was is documented.
        let _ = self.try_append(leaf);
    }

    /// Appends one leaf hash in `O(log n)`, or fails with [`ProofError::TreeFull`] (changing
    /// nothing) if the frontier already holds `u64::MAX` leaves.
    pub fn try_append(&mut self, leaf: Hash) -> Result<(), ProofError> {
        let new_size = self.size.checked_add(1).ok_or(ProofError::TreeFull)?;
        // Adding one leaf to `size` carries through the trailing one bits of `size`: each of
        // them is a perfect subtree that merges with the new (equally large) one on its right.
        let mut merged = leaf;
        let mut carry = self.size;
        while carry & 1 == 1 {
            match self.nodes.pop() {
                Some(left) => merged = node_hash(&left, &merged),
                // Unreachable: the invariant nodes.len() == popcount(size) holds.
                None => break,
            }
            carry >>= 1;
        }
        self.nodes.push(merged);
        self.size = new_size;
        Ok(())
    }

    /// [`Frontier::try_append`], also pushing onto `completed` every perfect subtree the leaf
    /// completes (see [`crate::LogNode`]): the leaf itself at level 0, then each subtree it
    /// closes, smallest first. Storing them all is what [`crate::prove_inclusion`] and
    /// [`crate::prove_consistency`] need.
    pub fn append_recording(
        &mut self,
        leaf: Hash,
        completed: &mut Vec<LogNode>,
    ) -> Result<(), ProofError> {
        let index = self.size;
        let new_size = index.checked_add(1).ok_or(ProofError::TreeFull)?;
        completed.push(LogNode {
            level: 0,
            index,
            hash: leaf,
        });
        // As in `try_append`; each merge closes the subtree one level up.
        let mut merged = leaf;
        let mut carry = index;
        let mut level: u8 = 0;
        while carry & 1 == 1 {
            match self.nodes.pop() {
                Some(left) => merged = node_hash(&left, &merged),
                None => break,
            }
            carry >>= 1;
            level += 1;
            completed.push(LogNode {
                level,
                index: index >> level,
                hash: merged,
            });
        }
        self.nodes.push(merged);
        self.size = new_size;
        Ok(())
    }

    /// The number of leaves appended so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The roots of the perfect subtrees on the right edge, largest (leftmost) first.
    pub fn nodes(&self) -> &[Hash] {
        &self.nodes
    }

    /// The root of the tree of all leaves appended so far, in `O(log n)`.
    pub fn root(&self) -> Hash {
        let mut nodes = self.nodes.iter().rev();
        let Some(last) = nodes.next() else {
            return empty_root();
        };
        nodes.fold(*last, |right, left| node_hash(left, &right))
    }
}

impl Encode for Frontier {
    fn encode_to(&self, out: &mut Vec<u8>) {
        write::u64(out, self.size);
        write::seq(out, &self.nodes);
    }
}

impl Decode for Frontier {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let size = reader.u64("frontier size")?;
        let nodes: Vec<Hash> = reader.seq("frontier nodes", MAX_PATH_LEN)?;
        if u64::try_from(nodes.len()).ok() != Some(u64::from(size.count_ones())) {
            return Err(DecodeError::Invalid {
                what: "frontier",
                reason: "node count is not the number of set bits of the size",
            });
        }
        Ok(Self { size, nodes })
    }
}
