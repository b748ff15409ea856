//! The canonical encodings of proofs and frontiers: golden bytes, round trips, strictness.
//!
//! The golden fixtures were produced once by this crate from the published RFC 6962 leaves
//! ("", 00, 10, 2021, 3031, 40414243, 5051525354555657, 606162636465666768696a6b6c6d6e6f) and
//! checked in, so that the wire format cannot change silently. The hashes inside them are the
//! published ones (see tests/rfc6962_vectors.rs): inclusion of leaf 5 in the tree of 8 is
//! `bc1a…`, `ca85…`, `d37e…`; consistency from 6 to 8 is `0ebc…`, `ca85…`, `d37e…`; the
//! frontier of 7 leaves is `d37e…`, `0ebc…`, `b086…`.

use courtledger_codec::{decode_exact, write, Decode, DecodeError, Encode, Reader};
use courtledger_merkle::{
    leaf_hash, ConsistencyProof, Frontier, Hash, InclusionProof, ProofError, MAX_PATH_LEN,
};
use proptest::prelude::*;

const LIMIT: usize = 1 << 16;

/// Inclusion proof of leaf 5 in the tree of the 8 published leaves.
const GOLDEN_INCLUSION: &str = "\
    0000000000000005\
    0000000000000008\
    00000003\
    bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b\
    ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0\
    d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7";

/// Consistency proof from the first 6 to all 8 published leaves.
const GOLDEN_CONSISTENCY: &str = "\
    0000000000000006\
    0000000000000008\
    00000003\
    0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a\
    ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0\
    d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7";

/// Frontier of the first 7 published leaves.
const GOLDEN_FRONTIER: &str = "\
    0000000000000007\
    00000003\
    d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7\
    0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a\
    b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f";

fn published_leaves() -> Vec<Hash> {
    [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
    .iter()
    .map(|input| leaf_hash(&hex::decode(input).expect("hex")))
    .collect()
}

#[test]
fn golden_inclusion_proof() {
    let proof = InclusionProof::prove(&published_leaves(), 5).expect("prove");
    assert_eq!(hex::encode(proof.to_bytes()), GOLDEN_INCLUSION);
    let bytes = hex::decode(GOLDEN_INCLUSION).expect("hex");
    assert_eq!(decode_exact::<InclusionProof>(&bytes, LIMIT), Ok(proof));
}

#[test]
fn golden_consistency_proof() {
    let proof = ConsistencyProof::prove(&published_leaves(), 6).expect("prove");
    assert_eq!(hex::encode(proof.to_bytes()), GOLDEN_CONSISTENCY);
    let bytes = hex::decode(GOLDEN_CONSISTENCY).expect("hex");
    assert_eq!(decode_exact::<ConsistencyProof>(&bytes, LIMIT), Ok(proof));
}

#[test]
fn golden_frontier() {
    let mut frontier = Frontier::new();
    for leaf in &published_leaves()[..7] {
        frontier.append(*leaf);
    }
    assert_eq!(hex::encode(frontier.to_bytes()), GOLDEN_FRONTIER);
    let bytes = hex::decode(GOLDEN_FRONTIER).expect("hex");
    assert_eq!(decode_exact::<Frontier>(&bytes, LIMIT), Ok(frontier));
}

#[test]
fn empty_values_encode_minimally() {
    let proof = InclusionProof {
        leaf_index: 0,
        tree_size: 1,
        path: vec![],
    };
    assert_eq!(
        hex::encode(proof.to_bytes()),
        "0000000000000000000000000000000100000000"
    );
    assert_eq!(
        hex::encode(Frontier::new().to_bytes()),
        "000000000000000000000000"
    );
    let bytes = Frontier::new().to_bytes();
    assert_eq!(decode_exact::<Frontier>(&bytes, LIMIT), Ok(Frontier::new()));
}

/// Header of a proof or frontier with `count` path hashes, without the hashes.
fn header(first: u64, second: Option<u64>, count: u32) -> Vec<u8> {
    let mut bytes = Vec::new();
    write::u64(&mut bytes, first);
    if let Some(second) = second {
        write::u64(&mut bytes, second);
    }
    write::u32(&mut bytes, count);
    bytes
}

#[test]
fn path_count_is_bounded() {
    for count in [MAX_PATH_LEN + 1, u32::MAX] {
        let mut bytes = header(0, Some(1), count);
        bytes.extend(std::iter::repeat_n(0u8, 32 * 65));
        assert!(matches!(
            decode_exact::<InclusionProof>(&bytes, LIMIT),
            Err(DecodeError::TooLong { max: 64, .. })
        ));
        assert!(matches!(
            decode_exact::<ConsistencyProof>(&bytes, LIMIT),
            Err(DecodeError::TooLong { max: 64, .. })
        ));
    }
    // Exactly MAX_PATH_LEN hashes decode (verification then judges them).
    let mut bytes = header(0, Some(1), MAX_PATH_LEN);
    bytes.extend(std::iter::repeat_n(0u8, 32 * 64));
    let proof = decode_exact::<InclusionProof>(&bytes, LIMIT).expect("decode");
    assert_eq!(proof.path.len(), 64);
    assert_eq!(
        proof.verify(&[0; 32], &[0; 32]),
        Err(ProofError::WrongPathLength {
            expected: 0,
            actual: 64
        })
    );
}

#[test]
fn frontier_node_count_must_be_popcount_of_size() {
    let node = [5u8; 32];
    for (size, count) in [
        (0, 1),
        (1, 0),
        (1, 2),
        (7, 2),
        (7, 4),
        (8, 0),
        (u64::MAX, 63),
    ] {
        let mut bytes = header(size, None, count);
        for _ in 0..count {
            bytes.extend_from_slice(&node);
        }
        assert_eq!(
            decode_exact::<Frontier>(&bytes, LIMIT),
            Err(DecodeError::Invalid {
                what: "frontier",
                reason: "node count is not the number of set bits of the size",
            }),
            "size={size} count={count}"
        );
    }
    // More than 64 nodes is refused by the bound before the count check.
    let bytes = header(u64::MAX, None, 65);
    assert!(matches!(
        decode_exact::<Frontier>(&bytes, LIMIT),
        Err(DecodeError::TooLong { .. })
    ));
}

/// Decodes one kind of value and forgets it.
type DecodeFn = fn(&[u8]) -> Result<(), DecodeError>;

#[test]
fn trailing_and_missing_bytes_are_rejected() {
    let goldens = [GOLDEN_INCLUSION, GOLDEN_CONSISTENCY, GOLDEN_FRONTIER]
        .map(|g| hex::decode(g).expect("hex"));
    let decoders: [DecodeFn; 3] = [
        |b| decode_exact::<InclusionProof>(b, LIMIT).map(drop),
        |b| decode_exact::<ConsistencyProof>(b, LIMIT).map(drop),
        |b| decode_exact::<Frontier>(b, LIMIT).map(drop),
    ];
    for (golden, decode) in goldens.iter().zip(decoders) {
        let mut longer = golden.clone();
        longer.push(0);
        assert_eq!(
            decode(&longer),
            Err(DecodeError::TrailingBytes { count: 1 })
        );
        for cut in 0..golden.len() {
            assert!(
                matches!(
                    decode(&golden[..cut]),
                    Err(DecodeError::UnexpectedEnd { .. })
                ),
                "cut={cut}"
            );
        }
    }
}

#[test]
fn frontier_round_trips_at_every_size() {
    let mut frontier = Frontier::new();
    for i in 0u32..300 {
        let bytes = frontier.to_bytes();
        assert_eq!(bytes.len(), 12 + 32 * frontier.nodes().len());
        assert_eq!(
            decode_exact::<Frontier>(&bytes, LIMIT).as_ref(),
            Ok(&frontier)
        );
        // Decoding from a longer stream leaves the rest for the next value.
        let mut stream = bytes.clone();
        stream.push(0xAB);
        let mut reader = Reader::new(&stream);
        assert_eq!(Frontier::decode_from(&mut reader).as_ref(), Ok(&frontier));
        assert_eq!(reader.remaining(), 1);
        frontier.append(leaf_hash(&i.to_be_bytes()));
    }
}

fn arbitrary_path() -> impl Strategy<Value = Vec<Hash>> {
    prop::collection::vec(any::<[u8; 32]>(), 0..=64)
}

proptest! {
    #[test]
    fn proofs_round_trip(a in any::<u64>(), b in any::<u64>(), path in arbitrary_path()) {
        let inclusion = InclusionProof { leaf_index: a, tree_size: b, path: path.clone() };
        let bytes = inclusion.to_bytes();
        prop_assert_eq!(bytes.len(), 20 + 32 * path.len());
        prop_assert_eq!(decode_exact::<InclusionProof>(&bytes, LIMIT), Ok(inclusion));
        let consistency = ConsistencyProof { old_size: a, new_size: b, path };
        let bytes = consistency.to_bytes();
        prop_assert_eq!(decode_exact::<ConsistencyProof>(&bytes, LIMIT), Ok(consistency));
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_reencode(
        bytes in prop::collection::vec(any::<u8>(), 0..120),
    ) {
        if let Ok(value) = decode_exact::<InclusionProof>(&bytes, LIMIT) {
            prop_assert_eq!(value.to_bytes(), bytes.clone());
        }
        if let Ok(value) = decode_exact::<ConsistencyProof>(&bytes, LIMIT) {
            prop_assert_eq!(value.to_bytes(), bytes.clone());
        }
        if let Ok(value) = decode_exact::<Frontier>(&bytes, LIMIT) {
            prop_assert_eq!(value.to_bytes(), bytes.clone());
            let _ = value.root();
        }
    }

    #[test]
    fn small_headers_with_random_counts_never_panic(
        first in any::<u64>(),
        count in any::<u32>(),
        tail in prop::collection::vec(any::<u8>(), 0..100),
    ) {
        let mut bytes = header(first, Some(first / 2), count);
        bytes.extend_from_slice(&tail);
        let _ = decode_exact::<InclusionProof>(&bytes, LIMIT);
        let _ = decode_exact::<ConsistencyProof>(&bytes, LIMIT);
        let mut bytes = header(first, None, count);
        bytes.extend_from_slice(&tail);
        let _ = decode_exact::<Frontier>(&bytes, LIMIT);
    }
}
