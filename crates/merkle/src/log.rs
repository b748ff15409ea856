//! Proofs over a stored append-only log, without its leaves in memory.
//!
//! An append-only log of `n` leaves is covered by *perfect subtrees*: the subtree at `level` `h`
//! and `index` `j` holds the `2^h` leaves `j·2^h .. (j+1)·2^h`, and is complete once the log has
//! `(j+1)·2^h` leaves; from then on its root never changes. Storing the root of every complete
//! perfect subtree (about `2n` hashes; [`Frontier::append_recording`] yields the new ones as
//! leaves are appended, `O(1)` amortised per leaf) is enough to produce any RFC 9162 inclusion
//! or consistency proof for any size up to `n` by `O(log n)` lookups: every subtree the RFC's
//! recursion needs is either perfect and aligned (one lookup) or the right edge of a smaller
//! tree (folded from at most `log n` perfect ones).

use crate::{node_hash, ConsistencyProof, Hash, InclusionProof, ProofError, MAX_PATH_LEN};

/// The root of one complete perfect subtree of the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogNode {
    /// Height: the subtree holds `2^level` leaves (0 is a leaf hash).
    pub level: u8,
    /// Position among the subtrees of that level, from the left.
    pub index: u64,
    /// Its root.
    pub hash: Hash,
}

/// Where stored subtree roots come from (a database, a map in tests).
pub trait SubtreeSource {
    /// The root of the complete perfect subtree at (`level`, `index`), if stored.
    fn subtree(&self, level: u8, index: u64) -> Option<Hash>;
}

/// Why a proof could not be made from stored subtrees.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogProofError {
    /// The sizes or index do not allow a proof.
    #[error(transparent)]
    Proof(#[from] ProofError),
    /// A subtree the proof needs is not stored: the store is incomplete or damaged.
    #[error("the log's subtree at level {level}, index {index} is missing")]
    MissingSubtree {
        /// Its level.
        level: u8,
        /// Its index.
        index: u64,
    },
}

fn lookup(source: &dyn SubtreeSource, level: u8, index: u64) -> Result<Hash, LogProofError> {
    source
        .subtree(level, index)
        .ok_or(LogProofError::MissingSubtree { level, index })
}

/// The largest power of two strictly below `n` (`n >= 2`).
fn split(n: u64) -> u64 {
    1u64 << (63 - (n - 1).leading_zeros())
}

/// The root of leaves `start .. start + len`, where `start` is a multiple of the largest power
/// of two not above `len` (true of every range RFC 9162's recursion visits).
fn range_root(source: &dyn SubtreeSource, start: u64, len: u64) -> Result<Hash, LogProofError> {
    if len.is_power_of_two() {
        let level = u8::try_from(len.trailing_zeros()).unwrap_or(u8::MAX);
        return lookup(source, level, start >> level);
    }
    let k = split(len);
    let left = range_root(source, start, k)?;
    let right = range_root(source, start + k, len - k)?;
    Ok(node_hash(&left, &right))
}

/// RFC 9162 `PATH(m, D[start .. start + len])`, leaf to root.
fn path(
    source: &dyn SubtreeSource,
    m: u64,
    start: u64,
    len: u64,
    out: &mut Vec<Hash>,
) -> Result<(), LogProofError> {
    if len <= 1 {
        return Ok(());
    }
    let k = split(len);
    if m < k {
        path(source, m, start, k, out)?;
        out.push(range_root(source, start + k, len - k)?);
    } else {
        path(source, m - k, start + k, len - k, out)?;
        out.push(range_root(source, start, k)?);
    }
    Ok(())
}

/// RFC 9162 `SUBPROOF(m, D[start .. start + len], b)`.
fn subproof(
    source: &dyn SubtreeSource,
    m: u64,
    start: u64,
    len: u64,
    whole: bool,
    out: &mut Vec<Hash>,
) -> Result<(), LogProofError> {
    if m == len {
        if !whole {
            out.push(range_root(source, start, len)?);
        }
        return Ok(());
    }
    let k = split(len);
    if m <= k {
        subproof(source, m, start, k, whole, out)?;
        out.push(range_root(source, start + k, len - k)?);
    } else {
        subproof(source, m - k, start + k, len - k, false, out)?;
        out.push(range_root(source, start, k)?);
    }
    Ok(())
}

/// The inclusion proof of leaf `leaf_index` in the log's first `tree_size` leaves, from stored
/// subtrees: `O(log n)` lookups.
pub fn prove_inclusion(
    source: &dyn SubtreeSource,
    leaf_index: u64,
    tree_size: u64,
) -> Result<InclusionProof, LogProofError> {
    if leaf_index >= tree_size {
        return Err(ProofError::IndexOutOfRange {
            leaf_index,
            tree_size,
        }
        .into());
    }
    let mut hashes = Vec::new();
    path(source, leaf_index, 0, tree_size, &mut hashes)?;
    debug_assert!(hashes.len() <= usize::try_from(MAX_PATH_LEN).unwrap_or(usize::MAX));
    Ok(InclusionProof {
        leaf_index,
        tree_size,
        path: hashes,
    })
}

/// The consistency proof from the log's first `old_size` leaves to its first `new_size`, from
/// stored subtrees: `O(log n)` lookups.
pub fn prove_consistency(
    source: &dyn SubtreeSource,
    old_size: u64,
    new_size: u64,
) -> Result<ConsistencyProof, LogProofError> {
    if old_size == 0 {
        return Err(ProofError::EmptyTree.into());
    }
    if old_size > new_size {
        return Err(ProofError::InvalidSizes { old_size, new_size }.into());
    }
    let mut hashes = Vec::new();
    if old_size < new_size {
        subproof(source, old_size, 0, new_size, true, &mut hashes)?;
    }
    Ok(ConsistencyProof {
        old_size,
        new_size,
        path: hashes,
    })
}

/// The root of the log's first `size` leaves, from stored subtrees.
pub fn log_root(source: &dyn SubtreeSource, size: u64) -> Result<Hash, LogProofError> {
    if size == 0 {
        return Ok(crate::empty_root());
    }
    range_root(source, 0, size)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::{leaf_hash, root, Frontier};

    #[derive(Default)]
    struct Map(BTreeMap<(u8, u64), Hash>);

    impl SubtreeSource for Map {
        fn subtree(&self, level: u8, index: u64) -> Option<Hash> {
            self.0.get(&(level, index)).copied()
        }
    }

    fn build(n: u64) -> (Vec<Hash>, Map, Frontier) {
        let leaves: Vec<Hash> = (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let mut frontier = Frontier::new();
        let mut nodes = Vec::new();
        for leaf in &leaves {
            frontier.append_recording(*leaf, &mut nodes).unwrap();
        }
        let map = Map(nodes.iter().map(|n| ((n.level, n.index), n.hash)).collect());
        (leaves, map, frontier)
    }

    #[test]
    fn recorded_subtrees_are_exactly_the_complete_perfect_subtrees() {
        for n in 0..130u64 {
            let (leaves, map, _) = build(n);
            let mut expected = 0;
            for level in 0..8u8 {
                let width = 1u64 << level;
                for index in 0..n / width {
                    let start = usize::try_from(index * width).unwrap();
                    let end = usize::try_from((index + 1) * width).unwrap();
                    assert_eq!(
                        map.subtree(level, index),
                        Some(root(&leaves[start..end])),
                        "n={n} level={level} index={index}"
                    );
                    expected += 1;
                }
            }
            assert_eq!(map.0.len(), expected, "n={n}: no extra subtrees");
        }
    }

    #[test]
    fn proofs_from_subtrees_equal_proofs_from_leaves() {
        let (leaves, map, _) = build(300);
        for size in 1..=300u64 {
            let prefix = &leaves[..usize::try_from(size).unwrap()];
            assert_eq!(log_root(&map, size).unwrap(), root(prefix));
            for index in 0..size {
                assert_eq!(
                    prove_inclusion(&map, index, size).unwrap(),
                    InclusionProof::prove(prefix, index).unwrap(),
                    "index {index} size {size}"
                );
            }
            for old in 1..=size {
                assert_eq!(
                    prove_consistency(&map, old, size).unwrap(),
                    ConsistencyProof::prove(prefix, old).unwrap(),
                    "old {old} new {size}"
                );
            }
        }
    }

    #[test]
    fn bad_requests_and_missing_subtrees_are_errors() {
        let (_, mut map, _) = build(10);
        assert!(matches!(
            prove_inclusion(&map, 10, 10),
            Err(LogProofError::Proof(ProofError::IndexOutOfRange { .. }))
        ));
        assert_eq!(
            prove_consistency(&map, 0, 5),
            Err(LogProofError::Proof(ProofError::EmptyTree))
        );
        assert!(matches!(
            prove_consistency(&map, 6, 5),
            Err(LogProofError::Proof(ProofError::InvalidSizes { .. }))
        ));
        map.0.remove(&(3, 0));
        assert_eq!(
            prove_inclusion(&map, 9, 10),
            Err(LogProofError::MissingSubtree { level: 3, index: 0 })
        );
    }
}
