//! Exhaustive and randomized checks of proofs and the frontier against `root()`.
//!
//! A proof is only meaningful together with a root that a trusted source states for the size
//! the proof names (see the crate docs). So a proof whose index or sizes were changed is
//! checked against the true roots for the changed sizes: it must fail there. (Checked against
//! the roots of the *original* sizes, some changed sizes still verify, because an RFC 9162
//! path does not commit to the tree size; that is why callers must bind root and size.)

use std::sync::OnceLock;

use courtledger_merkle::{
    empty_root, leaf_hash, root, ConsistencyProof, Frontier, Hash, InclusionProof, ProofError,
};
use proptest::prelude::*;

/// Largest tree size checked exhaustively.
const MAX: usize = 300;
/// Sizes up to which every bit of every path hash is flipped.
const ALL_BITS_MAX: usize = 16;
/// Sizes up to which every proof gets every mutation check.
const ALL_MUTATIONS_MAX: usize = 48;
/// Sizes up to which every pair of sizes gets a consistency proof.
const ALL_PAIRS_MAX: usize = 96;

struct Fixture {
    /// `2 * MAX + 1` distinct leaf hashes, so that changed sizes up to `2 * MAX` have roots.
    leaves: Vec<Hash>,
    /// `roots[n] == root(&leaves[..n])`.
    roots: Vec<Hash>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let leaves: Vec<Hash> = (0..=2 * MAX)
            .map(|i| leaf_hash(format!("leaf {i}").as_bytes()))
            .collect();
        let roots = (0..=leaves.len()).map(|n| root(&leaves[..n])).collect();
        Fixture { leaves, roots }
    })
}

fn u(n: usize) -> u64 {
    u64::try_from(n).expect("fits")
}

fn us(n: u64) -> usize {
    usize::try_from(n).expect("fits")
}

fn flip(hash: &Hash, bit: usize) -> Hash {
    let mut flipped = *hash;
    flipped[bit / 8] ^= 1 << (bit % 8);
    flipped
}

/// The true root of a tree of `size` leaves of the fixture, if the fixture has one.
fn true_root(size: u64) -> Option<&'static Hash> {
    usize::try_from(size)
        .ok()
        .and_then(|size| fixture().roots.get(size))
}

/// Path changes that must always be rejected: a hash removed, added or moved.
fn reshaped_paths(path: &[Hash], extra: Hash) -> Vec<Vec<Hash>> {
    let mut shapes = vec![];
    if let Some((_, tail)) = path.split_first() {
        shapes.push(tail.to_vec());
        shapes.push(path[..path.len() - 1].to_vec());
    }
    let mut longer = path.to_vec();
    longer.push(extra);
    shapes.push(longer);
    let mut longer = vec![extra];
    longer.extend_from_slice(path);
    shapes.push(longer);
    for k in 1..path.len() {
        if path[k - 1] != path[k] {
            let mut swapped = path.to_vec();
            swapped.swap(k - 1, k);
            shapes.push(swapped);
        }
    }
    shapes
}

/// Leaf indices whose proofs get the (costlier) mutation checks in a tree of `n` leaves: all of
/// them up to `ALL_MUTATIONS_MAX` leaves, then a spread including both ends and the middle.
fn mutated_indices(n: usize) -> Vec<usize> {
    if n <= ALL_MUTATIONS_MAX {
        return (0..n).collect();
    }
    let mut picked: Vec<usize> = (0..n).filter(|i| i % 31 == n % 31).collect();
    picked.extend([0, 1, n / 2, n - 2, n - 1]);
    picked.sort_unstable();
    picked.dedup();
    picked
}

// Every index of every size from 1 to MAX, split in two so the test threads share the work.

#[test]
fn inclusion_proof_verifies_for_every_index_of_every_odd_size() {
    inclusion_proofs_verify((1..=MAX).step_by(2));
}

#[test]
fn inclusion_proof_verifies_for_every_index_of_every_even_size() {
    inclusion_proofs_verify((2..=MAX).step_by(2));
}

fn inclusion_proofs_verify(sizes: impl Iterator<Item = usize>) {
    let Fixture { leaves, roots } = fixture();
    for n in sizes {
        for i in 0..n {
            let proof = InclusionProof::prove(&leaves[..n], u(i)).expect("prove");
            assert_eq!(
                InclusionProof::expected_path_len(u(i), u(n)),
                Some(u(proof.path.len())),
                "n={n} i={i}"
            );
            assert_eq!(proof.verify(&leaves[i], &roots[n]), Ok(()), "n={n} i={i}");
            assert_eq!(
                proof.verify(&leaves[n], &roots[n]),
                Err(ProofError::RootMismatch)
            );
        }
    }
}

#[test]
fn inclusion_proof_rejects_changes() {
    let Fixture { leaves, roots } = fixture();
    for n in 1..=MAX {
        let tree_root = &roots[n];
        for i in mutated_indices(n) {
            let leaf = &leaves[i];
            let proof = InclusionProof::prove(&leaves[..n], u(i)).expect("prove");

            // Wrong roots.
            assert_eq!(
                proof.verify(leaf, &roots[n - 1]),
                Err(ProofError::RootMismatch)
            );
            assert_eq!(
                proof.verify(leaf, &roots[n + 1]),
                Err(ProofError::RootMismatch)
            );

            // Changed leaf index (the root stays right: the tree did not change).
            let (n64, i64) = (u(n), u(i));
            for index in [
                i64 ^ 1,
                i64 + 1,
                i64.wrapping_sub(1),
                n64,
                n64 + i64,
                u64::MAX,
            ] {
                if index == i64 {
                    continue;
                }
                let changed = InclusionProof {
                    leaf_index: index,
                    ..proof.clone()
                };
                assert!(
                    changed.verify(leaf, tree_root).is_err(),
                    "n={n} i={i} index={index}"
                );
            }

            // Changed tree size, checked against the true root of that size.
            for size in [n64 + 1, n64 - 1, 2 * n64, n64 / 2, 0, u64::MAX] {
                if size == n64 {
                    continue;
                }
                let changed = InclusionProof {
                    tree_size: size,
                    ..proof.clone()
                };
                let against = true_root(size).unwrap_or(tree_root);
                assert!(
                    changed.verify(leaf, against).is_err(),
                    "n={n} i={i} size={size}"
                );
            }

            // Every path hash with a bit flipped; every bit while the trees are small.
            for k in 0..proof.path.len() {
                let bits: Vec<usize> = if n <= ALL_BITS_MAX {
                    (0..256).collect()
                } else {
                    vec![(k * 67 + i) % 256]
                };
                for bit in bits {
                    let mut changed = proof.clone();
                    changed.path[k] = flip(&changed.path[k], bit);
                    assert_eq!(
                        changed.verify(leaf, tree_root),
                        Err(ProofError::RootMismatch)
                    );
                }
            }

            // Reshaped paths.
            for path in reshaped_paths(&proof.path, *tree_root) {
                let changed = InclusionProof {
                    path,
                    ..proof.clone()
                };
                assert!(changed.verify(leaf, tree_root).is_err(), "n={n} i={i}");
            }
        }
    }
}

/// Old sizes checked for a new size `n`: all of them up to `ALL_PAIRS_MAX`, then a spread that
/// includes every power of two, both ends and the middle.
fn old_sizes(n: usize) -> Vec<usize> {
    if n <= ALL_PAIRS_MAX {
        return (1..=n).collect();
    }
    let mut picked: Vec<usize> = (1..=n)
        .filter(|m| m % 17 == n % 17 || m.is_power_of_two())
        .collect();
    picked.extend([1, 2, 3, n / 2, n - 2, n - 1, n]);
    picked.sort_unstable();
    picked.dedup();
    picked
}

#[test]
fn consistency_proof_verifies_and_rejects_changes() {
    let Fixture { leaves, roots } = fixture();
    for n in 1..=MAX {
        let tree = &leaves[..n];
        let new_root = &roots[n];
        for m in old_sizes(n) {
            let old_root = &roots[m];
            let proof = ConsistencyProof::prove(tree, u(m)).expect("prove");
            assert_eq!(
                ConsistencyProof::expected_path_len(u(m), u(n)),
                Some(u(proof.path.len())),
                "m={m} n={n}"
            );
            assert_eq!(proof.verify(old_root, new_root), Ok(()), "m={m} n={n}");
            if n > ALL_MUTATIONS_MAX && m % 3 != 0 {
                continue;
            }

            // Wrong roots.
            if m < n {
                assert!(
                    proof.verify(new_root, old_root).is_err(),
                    "swapped m={m} n={n}"
                );
                // A power-of-two old root is the seed of both computations (RFC 9162 2.1.4.2
                // step 2), so a wrong one shows up in the new root.
                let wrong_old = if m.is_power_of_two() {
                    ProofError::RootMismatch
                } else {
                    ProofError::OldRootMismatch
                };
                assert_eq!(proof.verify(&roots[m - 1], new_root), Err(wrong_old));
            }
            assert_eq!(
                proof.verify(old_root, &roots[n - 1]),
                Err(ProofError::RootMismatch)
            );
            assert_eq!(
                proof.verify(old_root, &roots[n + 1]),
                Err(ProofError::RootMismatch)
            );

            // Changed sizes, checked against the true roots of those sizes.
            let (m64, n64) = (u(m), u(n));
            for old_size in [m64 + 1, m64 - 1, m64 ^ 1, n64 + 1, u64::MAX] {
                if old_size == m64 {
                    continue;
                }
                let changed = ConsistencyProof {
                    old_size,
                    ..proof.clone()
                };
                let against = true_root(old_size).unwrap_or(old_root);
                assert!(
                    changed.verify(against, new_root).is_err(),
                    "m={m} n={n} old={old_size}"
                );
            }
            for new_size in [n64 + 1, n64 - 1, 2 * n64, m64 - 1, u64::MAX] {
                if new_size == n64 {
                    continue;
                }
                let changed = ConsistencyProof {
                    new_size,
                    ..proof.clone()
                };
                let against = true_root(new_size).unwrap_or(new_root);
                assert!(
                    changed.verify(old_root, against).is_err(),
                    "m={m} n={n} new={new_size}"
                );
            }

            // Every path hash with a bit flipped; every bit while the trees are small.
            for k in 0..proof.path.len() {
                let bits: Vec<usize> = if n <= ALL_BITS_MAX {
                    (0..256).collect()
                } else {
                    vec![(k * 67 + m) % 256]
                };
                for bit in bits {
                    let mut changed = proof.clone();
                    changed.path[k] = flip(&changed.path[k], bit);
                    assert!(
                        changed.verify(old_root, new_root).is_err(),
                        "m={m} n={n} k={k}"
                    );
                }
            }

            // Reshaped paths.
            for path in reshaped_paths(&proof.path, *old_root) {
                let changed = ConsistencyProof {
                    path,
                    ..proof.clone()
                };
                assert!(changed.verify(old_root, new_root).is_err(), "m={m} n={n}");
            }
        }
    }
}

#[test]
fn prove_rejects_bad_arguments() {
    let Fixture { leaves, .. } = fixture();
    let five = &leaves[..5];
    assert_eq!(
        InclusionProof::prove(&[], 0),
        Err(ProofError::IndexOutOfRange {
            leaf_index: 0,
            tree_size: 0
        })
    );
    for index in [5, 6, u64::MAX] {
        assert_eq!(
            InclusionProof::prove(five, index),
            Err(ProofError::IndexOutOfRange {
                leaf_index: index,
                tree_size: 5
            })
        );
    }
    assert_eq!(ConsistencyProof::prove(five, 0), Err(ProofError::EmptyTree));
    assert_eq!(ConsistencyProof::prove(&[], 0), Err(ProofError::EmptyTree));
    for old_size in [6, u64::MAX] {
        assert_eq!(
            ConsistencyProof::prove(five, old_size),
            Err(ProofError::InvalidSizes {
                old_size,
                new_size: 5
            })
        );
    }
    assert_eq!(
        ConsistencyProof::prove(five, 5),
        Ok(ConsistencyProof {
            old_size: 5,
            new_size: 5,
            path: vec![]
        })
    );
}

#[test]
fn verify_reports_typed_errors() {
    let Fixture { leaves, roots } = fixture();
    let any = leaves[0];
    let proof = |leaf_index, tree_size, len| InclusionProof {
        leaf_index,
        tree_size,
        path: vec![any; len],
    };
    assert_eq!(
        proof(0, 0, 0).verify(&any, &empty_root()),
        Err(ProofError::IndexOutOfRange {
            leaf_index: 0,
            tree_size: 0
        })
    );
    assert_eq!(
        proof(7, 7, 3).verify(&any, &roots[7]),
        Err(ProofError::IndexOutOfRange {
            leaf_index: 7,
            tree_size: 7
        })
    );
    assert_eq!(
        proof(0, 8, 2).verify(&any, &roots[8]),
        Err(ProofError::WrongPathLength {
            expected: 3,
            actual: 2
        })
    );
    assert_eq!(
        proof(0, 1, 1).verify(&any, &any),
        Err(ProofError::WrongPathLength {
            expected: 0,
            actual: 1
        })
    );
    assert_eq!(proof(0, 1, 0).verify(&any, &any), Ok(()));
    // 65 hashes can never be right, whatever the sizes.
    assert!(matches!(
        proof(u64::MAX - 1, u64::MAX, 65).verify(&any, &any),
        Err(ProofError::WrongPathLength { actual: 65, .. })
    ));

    let proof = |old_size, new_size, len| ConsistencyProof {
        old_size,
        new_size,
        path: vec![any; len],
    };
    assert_eq!(
        proof(0, 0, 0).verify(&empty_root(), &empty_root()),
        Err(ProofError::EmptyTree)
    );
    assert_eq!(
        proof(0, 5, 1).verify(&empty_root(), &roots[5]),
        Err(ProofError::EmptyTree)
    );
    assert_eq!(
        proof(6, 5, 0).verify(&roots[6], &roots[5]),
        Err(ProofError::InvalidSizes {
            old_size: 6,
            new_size: 5
        })
    );
    assert_eq!(
        proof(1, 8, 0).verify(&roots[1], &roots[8]),
        Err(ProofError::WrongPathLength {
            expected: 3,
            actual: 0
        })
    );
    assert_eq!(
        proof(3, 7, 3).verify(&roots[3], &roots[7]),
        Err(ProofError::WrongPathLength {
            expected: 4,
            actual: 3
        })
    );
}

#[test]
fn equal_sizes_need_equal_roots_and_an_empty_path() {
    let Fixture { roots, .. } = fixture();
    for size in [1, 2, 3, 8, 300, u64::MAX] {
        let proof = ConsistencyProof {
            old_size: size,
            new_size: size,
            path: vec![],
        };
        let r = roots[5];
        assert_eq!(proof.verify(&r, &r), Ok(()));
        assert_eq!(proof.verify(&r, &roots[6]), Err(ProofError::RootMismatch));
        let with_path = ConsistencyProof {
            path: vec![r],
            ..proof
        };
        assert_eq!(
            with_path.verify(&r, &r),
            Err(ProofError::WrongPathLength {
                expected: 0,
                actual: 1
            })
        );
    }
}

#[test]
fn expected_lengths_stay_within_bounds_for_huge_trees() {
    let sizes = [
        1,
        2,
        3,
        1 << 32,
        (1 << 63) - 1,
        1 << 63,
        (1 << 63) + 1,
        u64::MAX - 1,
        u64::MAX,
    ];
    for &n in &sizes {
        for i in [0, 1, n / 2, n - 1, n.saturating_sub(2)] {
            if let Some(len) = InclusionProof::expected_path_len(i, n) {
                assert!(len <= 64, "i={i} n={n} len={len}");
            }
        }
        for m in [1, 2, 3, n / 2, n - 1, n] {
            if let Some(len) = ConsistencyProof::expected_path_len(m, n) {
                // At most ceil(log2 n) + 1, so 64 for every n up to 2^63.
                let bound = if n <= 1 << 63 { 64 } else { 65 };
                assert!(len <= bound, "m={m} n={n} len={len}");
            }
        }
    }
    assert_eq!(
        InclusionProof::expected_path_len(u64::MAX - 3, u64::MAX),
        Some(64)
    );
    assert_eq!(
        InclusionProof::expected_path_len(u64::MAX - 1, u64::MAX),
        Some(63)
    );
    assert_eq!(InclusionProof::expected_path_len(0, 1 << 63), Some(63));
    assert_eq!(ConsistencyProof::expected_path_len(3, 1 << 63), Some(64));
}

#[test]
fn frontier_root_matches_root_for_every_size() {
    let Fixture { leaves, roots } = fixture();
    let mut frontier = Frontier::new();
    assert_eq!(frontier, Frontier::default());
    for n in 0..=MAX {
        assert_eq!(frontier.size(), u(n));
        assert_eq!(frontier.root(), roots[n], "n={n}");
        assert_eq!(u(frontier.nodes().len()), u64::from(u(n).count_ones()));
        frontier.append(leaves[n]);
    }
}

#[test]
fn frontier_refuses_to_count_past_u64_max() {
    use courtledger_codec::{decode_exact, write, Encode};
    let almost_full = {
        let mut bytes = Vec::new();
        write::u64(&mut bytes, u64::MAX - 1);
        write::seq(&mut bytes, &vec![[7u8; 32]; 63]);
        decode_exact::<Frontier>(&bytes, 4096).expect("decode")
    };
    let mut frontier = almost_full.clone();
    assert_eq!(frontier.try_append([8; 32]), Ok(()));
    assert_eq!(frontier.size(), u64::MAX);
    assert_eq!(frontier.nodes().len(), 64);
    let full = frontier.clone();
    assert_eq!(frontier.try_append([9; 32]), Err(ProofError::TreeFull));
    frontier.append([9; 32]);
    assert_eq!(frontier, full);
    assert_eq!(
        decode_exact::<Frontier>(&full.to_bytes(), 4096),
        Ok(full.clone())
    );
    let _ = full.root();
}

fn mutation_case() -> impl Strategy<Value = (usize, usize, usize, usize)> {
    (1..=MAX)
        .prop_flat_map(|n| (Just(n), 0..n, any::<prop::sample::Index>(), 0..256usize))
        .prop_map(|(n, i, k, bit)| (n, i, k.index(64), bit))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn inclusion_rejects_any_flipped_bit((n, i, k, bit) in mutation_case()) {
        let Fixture { leaves, roots } = fixture();
        let mut proof = InclusionProof::prove(&leaves[..n], u(i)).expect("prove");
        prop_assume!(!proof.path.is_empty());
        let k = k % proof.path.len();
        proof.path[k] = flip(&proof.path[k], bit);
        prop_assert_eq!(proof.verify(&leaves[i], &roots[n]), Err(ProofError::RootMismatch));
    }

    #[test]
    fn consistency_rejects_any_flipped_bit((n, m, k, bit) in mutation_case()) {
        let Fixture { leaves, roots } = fixture();
        let m = m + 1;
        let mut proof = ConsistencyProof::prove(&leaves[..n], u(m)).expect("prove");
        prop_assume!(!proof.path.is_empty());
        let k = k % proof.path.len();
        proof.path[k] = flip(&proof.path[k], bit);
        prop_assert!(proof.verify(&roots[m], &roots[n]).is_err());
    }

    #[test]
    fn inclusion_rejects_random_index_and_size(
        (n, i, _, _) in mutation_case(),
        leaf_index in any::<u64>(),
        tree_size in any::<u64>(),
    ) {
        let Fixture { leaves, roots } = fixture();
        let proof = InclusionProof::prove(&leaves[..n], u(i)).expect("prove");
        let changed = InclusionProof { leaf_index, ..proof.clone() };
        if leaf_index != u(i) {
            prop_assert!(changed.verify(&leaves[i], &roots[n]).is_err());
        }
        let changed = InclusionProof { tree_size, ..proof };
        if tree_size != u(n) {
            let against = true_root(tree_size).unwrap_or(&roots[n]);
            prop_assert!(changed.verify(&leaves[i], against).is_err());
        }
    }

    #[test]
    fn consistency_rejects_random_sizes(
        (n, m, _, _) in mutation_case(),
        old_size in any::<u64>(),
        new_size in any::<u64>(),
    ) {
        let Fixture { leaves, roots } = fixture();
        let m = m + 1;
        let proof = ConsistencyProof::prove(&leaves[..n], u(m)).expect("prove");
        if old_size != u(m) {
            let changed = ConsistencyProof { old_size, ..proof.clone() };
            let against = true_root(old_size).unwrap_or(&roots[m]);
            prop_assert!(changed.verify(against, &roots[n]).is_err());
        }
        if new_size != u(n) {
            let changed = ConsistencyProof { new_size, ..proof };
            let against = true_root(new_size).unwrap_or(&roots[n]);
            prop_assert!(changed.verify(&roots[m], against).is_err());
        }
    }

    #[test]
    fn arbitrary_proofs_never_panic(
        a in any::<u64>(),
        b in any::<u64>(),
        small in 0u64..40,
        path in prop::collection::vec(any::<[u8; 32]>(), 0..70),
        x in any::<[u8; 32]>(),
        y in any::<[u8; 32]>(),
    ) {
        // Random hashes never verify (short of a SHA-256 preimage); with equal roots and an
        // empty path, an equal-size consistency proof does.
        for (p, q) in [(a, b), (small, b), (a, small), (small, small / 2), (small / 2, small)] {
            let inclusion = InclusionProof { leaf_index: p, tree_size: q, path: path.clone() };
            prop_assert!(inclusion.verify(&x, &y).is_err());
            let _ = InclusionProof::expected_path_len(p, q);
            let consistency = ConsistencyProof { old_size: p, new_size: q, path: path.clone() };
            prop_assert!(consistency.verify(&x, &y).is_err());
            let trivial = p != 0 && p == q && path.is_empty();
            prop_assert_eq!(consistency.verify(&x, &x).is_ok(), trivial);
            let _ = ConsistencyProof::expected_path_len(p, q);
        }
    }

    #[test]
    fn frontier_of_random_leaves_matches_root(
        data in prop::collection::vec(any::<[u8; 32]>(), 0..80),
    ) {
        let mut frontier = Frontier::new();
        for leaf in &data {
            frontier.append(*leaf);
        }
        prop_assert_eq!(frontier.root(), root(&data));
        prop_assert_eq!(frontier.size(), u(data.len()));
    }
}

#[test]
fn helpers_are_sane() {
    assert_eq!(us(5), 5);
    assert_eq!(flip(&[0; 32], 9)[1], 2);
}

/// The behaviour the crate docs warn about: the path does not commit to the tree size, so the
/// root must come from a source that states the size.
#[test]
fn path_does_not_commit_to_the_tree_size() {
    let Fixture { leaves, roots } = fixture();
    let proof = InclusionProof::prove(&leaves[..3], 0).expect("prove");
    let resized = InclusionProof {
        tree_size: 4,
        ..proof.clone()
    };
    assert_eq!(resized.verify(&leaves[0], &roots[3]), Ok(()));
    assert_eq!(
        resized.verify(&leaves[0], &roots[4]),
        Err(ProofError::RootMismatch)
    );
}
