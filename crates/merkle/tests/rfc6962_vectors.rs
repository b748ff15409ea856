//! Published RFC 6962 / RFC 9162 test vectors.
//!
//! Every expected hash in this file was copied from github.com/transparency-dev/merkle
//! (Apache-2.0, Copyright Google LLC); none was computed by this crate:
//!
//! - `LEAF_INPUTS`, `NODE_HASHES`, `ROOTS` and `FRONTIERS` from `testonly/constants.go`
//!   (`LeafInputs`, `NodeHashes`, `RootHashes`, `CompactTrees`) at commit
//!   417fb0c314750d94e53942e9f92e79b6d35915db;
//! - `INCLUSION_PROOFS` and `CONSISTENCY_PROOFS` from `proof/verify_test.go`
//!   (`inclusionProofs`, `consistencyProofs`) at commit
//!   022f84cb1f2655a4399874cfa190c3f1d60b32a8, the last one that has them inline (the same
//!   values now live in `testdata/`, see below). They are the vectors Certificate Transparency
//!   implementations have used since google/certificate-transparency's `merkle_tree_test`;
//! - `vectors/transparency_dev_probes.txt`: the cross-language golden probes of `testdata/
//!   inclusion` and `testdata/consistency` at commit 417fb0c…, converted from JSON to hex.

use courtledger_merkle::{
    empty_root, leaf_hash, node_hash, root, ConsistencyProof, Frontier, Hash, InclusionProof,
    ProofError,
};

/// The eight leaf inputs (`testonly.LeafInputs`).
const LEAF_INPUTS: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

/// Hashes of all perfect subtrees, by level then index (`testonly.NodeHashes`); level 0 holds
/// the leaf hashes.
const NODE_HASHES: [&[&str]; 4] = [
    &[
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    &[
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    &[
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    &["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
];

/// Roots of the trees of the first 0..=8 leaves (`testonly.RootHashes`).
const ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// The compact-range nodes of the trees of 0..=8 leaves, as `(level, index)` into
/// `NODE_HASHES`, largest subtree first (`testonly.CompactTrees`).
const FRONTIERS: [&[(usize, usize)]; 9] = [
    &[],
    &[(0, 0)],
    &[(1, 0)],
    &[(1, 0), (0, 2)],
    &[(2, 0)],
    &[(2, 0), (0, 4)],
    &[(2, 0), (1, 2)],
    &[(2, 0), (1, 2), (0, 6)],
    &[(3, 0)],
];

/// `(leaf, size, path)` with `leaf` ONE-based as upstream (`proof.inclusionProofs`). Upstream's
/// first entry `{0, 0, nil}` is documented there as an invalid path and is not used.
const INCLUSION_PROOFS: [(u64, u64, &[&str]); 5] = [
    (1, 1, &[]),
    (
        1,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        3,
        3,
        &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    ),
    (
        2,
        5,
        &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
];

/// `(old_size, new_size, path)` (`proof.consistencyProofs`).
const CONSISTENCY_PROOFS: [(u64, u64, &[&str]); 5] = [
    (1, 1, &[]),
    (
        1,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
];

const PROBES: &str = include_str!("vectors/transparency_dev_probes.txt");

fn h(hex_str: &str) -> Hash {
    hex::decode(hex_str)
        .expect("hex")
        .try_into()
        .expect("32 bytes")
}

fn hashes(list: &[&str]) -> Vec<Hash> {
    list.iter().map(|s| h(s)).collect()
}

fn leaves() -> Vec<Hash> {
    LEAF_INPUTS
        .iter()
        .map(|input| leaf_hash(&hex::decode(input).expect("hex")))
        .collect()
}

fn usize_of(n: u64) -> usize {
    usize::try_from(n).expect("small")
}

#[test]
fn leaf_hashes_match() {
    assert_eq!(leaves(), hashes(NODE_HASHES[0]));
}

#[test]
fn node_hashes_match() {
    for level in 1..NODE_HASHES.len() {
        let below = hashes(NODE_HASHES[level - 1]);
        for (index, expected) in hashes(NODE_HASHES[level]).iter().enumerate() {
            assert_eq!(
                &node_hash(&below[2 * index], &below[2 * index + 1]),
                expected
            );
        }
    }
}

#[test]
fn roots_match_for_every_size() {
    let leaves = leaves();
    assert_eq!(empty_root(), h(ROOTS[0]));
    for (size, expected) in ROOTS.iter().enumerate() {
        assert_eq!(root(&leaves[..size]), h(expected), "size {size}");
    }
}

#[test]
fn frontier_nodes_and_roots_match() {
    let leaves = leaves();
    let mut frontier = Frontier::new();
    for size in 0..=leaves.len() {
        let expected: Vec<Hash> = FRONTIERS[size]
            .iter()
            .map(|&(level, index)| h(NODE_HASHES[level][index]))
            .collect();
        assert_eq!(frontier.size(), u64::try_from(size).expect("small"));
        assert_eq!(frontier.nodes(), expected.as_slice(), "size {size}");
        assert_eq!(frontier.root(), h(ROOTS[size]), "size {size}");
        if let Some(leaf) = leaves.get(size) {
            frontier.append(*leaf);
        }
    }
}

#[test]
fn inclusion_proofs_match() {
    let leaves = leaves();
    for (leaf, size, path) in INCLUSION_PROOFS {
        let index = leaf - 1;
        let proof = InclusionProof::prove(&leaves[..usize_of(size)], index).expect("prove");
        assert_eq!(
            proof,
            InclusionProof {
                leaf_index: index,
                tree_size: size,
                path: hashes(path)
            }
        );
        assert_eq!(
            proof.verify(&leaves[usize_of(index)], &h(ROOTS[usize_of(size)])),
            Ok(())
        );
    }
}

#[test]
fn consistency_proofs_match() {
    let leaves = leaves();
    for (old_size, new_size, path) in CONSISTENCY_PROOFS {
        let proof =
            ConsistencyProof::prove(&leaves[..usize_of(new_size)], old_size).expect("prove");
        assert_eq!(
            proof,
            ConsistencyProof {
                old_size,
                new_size,
                path: hashes(path)
            }
        );
        let (old_root, new_root) = (h(ROOTS[usize_of(old_size)]), h(ROOTS[usize_of(new_size)]));
        assert_eq!(proof.verify(&old_root, &new_root), Ok(()));
    }
}

/// A byte string of a probe: `~` is empty.
fn bytes(field: &str) -> Vec<u8> {
    if field == "~" {
        Vec::new()
    } else {
        hex::decode(field).expect("hex")
    }
}

/// A probe path: `-` is the empty list.
fn path(field: &str) -> Vec<Vec<u8>> {
    if field == "-" {
        Vec::new()
    } else {
        field.split(',').map(bytes).collect()
    }
}

/// `Some(hash)` if `value` is 32 bytes long; `Hash` cannot hold anything else, so a probe with
/// another length is rejected by the types before any verification.
fn as_hash(value: &[u8]) -> Option<Hash> {
    value.try_into().ok()
}

fn as_hashes(values: &[Vec<u8>]) -> Option<Vec<Hash>> {
    values.iter().map(|value| as_hash(value)).collect()
}

#[test]
fn transparency_dev_probes() {
    let leaves = leaves();
    let roots: Vec<Hash> = ROOTS.iter().map(|r| h(r)).collect();
    let (mut checked, mut unrepresentable) = (0, Vec::new());
    for line in PROBES
        .lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
    {
        let fields: Vec<&str> = line.split(' ').collect();
        let [kind, name, a, b, x, y, proof, want] = fields[..] else {
            panic!("bad probe line: {line}");
        };
        let (a, b): (u64, u64) = (a.parse().expect("u64"), b.parse().expect("u64"));
        let want_ok = match want {
            "ok" => true,
            "err" => false,
            other => panic!("bad expectation {other}"),
        };
        let (x, y, proof) = (bytes(x), bytes(y), path(proof));
        let (Some(x), Some(y), Some(proof)) = (as_hash(&x), as_hash(&y), as_hashes(&proof)) else {
            unrepresentable.push((name, want_ok));
            continue;
        };
        let result = match kind {
            "inclusion" => {
                let p = InclusionProof {
                    leaf_index: a,
                    tree_size: b,
                    path: proof,
                };
                // x is the root, y the leaf hash.
                let result = p.verify(&y, &x);
                if want_ok && usize_of(b) <= leaves.len() && x == roots[usize_of(b)] {
                    assert_eq!(
                        InclusionProof::prove(&leaves[..usize_of(b)], a),
                        Ok(p),
                        "{name}"
                    );
                }
                result
            }
            "consistency" => {
                let p = ConsistencyProof {
                    old_size: a,
                    new_size: b,
                    path: proof,
                };
                let result = p.verify(&x, &y);
                if want_ok && usize_of(b) <= leaves.len() && y == roots[usize_of(b)] {
                    assert_eq!(
                        ConsistencyProof::prove(&leaves[..usize_of(b)], a),
                        Ok(p),
                        "{name}"
                    );
                }
                result
            }
            other => panic!("bad probe kind {other}"),
        };
        assert_eq!(result.is_ok(), want_ok, "{name}: {result:?}");
        checked += 1;
    }
    // Probes whose byte strings are not 32 bytes long cannot be expressed with `Hash`. All but
    // one expect an error. The exception checks that equal sizes with equal (12-byte) roots and
    // an empty proof verify; `equal_sizes_need_equal_roots_and_an_empty_path` in
    // tests/properties.rs covers that rule with 32-byte roots.
    let accepted: Vec<_> = unrepresentable.iter().filter(|(_, ok)| *ok).collect();
    assert_eq!(
        accepted,
        [&(
            "consistency/additional/sizes-are-equal-one-and-proof-is-empty.json",
            true
        )]
    );
    assert_eq!((checked, unrepresentable.len()), (143, 53));
}

#[test]
fn typed_errors_on_published_tree() {
    let leaves = leaves();
    let roots: Vec<Hash> = ROOTS.iter().map(|r| h(r)).collect();
    let proof = InclusionProof::prove(&leaves, 5).expect("prove");
    assert_eq!(
        proof.verify(&leaves[5], &roots[7]),
        Err(ProofError::RootMismatch)
    );
    let proof = ConsistencyProof::prove(&leaves, 6).expect("prove");
    assert_eq!(
        proof.verify(&roots[5], &roots[8]),
        Err(ProofError::OldRootMismatch)
    );
    assert_eq!(
        proof.verify(&roots[6], &roots[7]),
        Err(ProofError::RootMismatch)
    );
}
