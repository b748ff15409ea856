//! The twelve test vectors of "Taming the many EdDSAs" (Chalkias, Garillot, Nikolaenko,
//! SSR 2020), from `cases.json` of github.com/novifinancial/ed25519-speccheck (the version with
//! twelve cases). They sign raw messages, without our domain separation, so they are checked on
//! the signed-bytes level.
//!
//! Under this crate's rule every one of them is rejected: 0-5 and 8-11 have a small-order,
//! mixed-order or non-canonical public key, which [`PublicKey::from_bytes`] refuses; 6 and 7 have
//! an unreduced `S`.

use super::{assert_paths_agree, Signed};
use crate::{KeyError, PointError, PublicKey, Signature, SignatureError};

struct Vector {
    message: &'static str,
    public_key: &'static str,
    signature: &'static str,
}

const VECTORS: [Vector; 12] = [
    // 0: S = 0, small A, small R.
    Vector {
        message: "8c93255d71dcab10e8f379c26200f3c7bd5f09d9bc3068d3ef4edeb4853022b6",
        public_key: "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
        signature: "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a\
                    0000000000000000000000000000000000000000000000000000000000000000",
    },
    // 1: small A, mixed R.
    Vector {
        message: "9bd9f44f4dcc75bd531b56b2cd280b0bb38fc1cd6d1230e14861d861de092e79",
        public_key: "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
        signature: "f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43\
                    a5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04",
    },
    // 2: mixed A, small R.
    Vector {
        message: "aebf3f2601a0c8c5d39cc7d8911642f740b78168218da8471772b35f9d35b9ab",
        public_key: "f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43",
        signature: "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa\
                    8c4bd45aecaca5b24fb97bc10ac27ac8751a7dfe1baff8b953ec9f5833ca260e",
    },
    // 3: mixed A, mixed R; passes cofactored and cofactorless.
    Vector {
        message: "9bd9f44f4dcc75bd531b56b2cd280b0bb38fc1cd6d1230e14861d861de092e79",
        public_key: "cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d",
        signature: "9046a64750444938de19f227bb80485e92b83fdb4b6506c160484c016cc1852f\
                    87909e14428a7a1d62e9f22f3d3ad7802db02eb2e688b6c52fcd6648a98bd009",
    },
    // 4: mixed A, mixed R; passes cofactored only.
    Vector {
        message: "e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec4011eaccd55b53f56c",
        public_key: "cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d",
        signature: "160a1cb0dc9c0258cd0a7d23e94d8fa878bcb1925f2c64246b2dee1796bed512\
                    5ec6bc982a269b723e0668e540911a9a6a58921d6925e434ab10aa7940551a09",
    },
    // 5: mixed A, prime-order R; passes cofactored iff 8h is not pre-reduced.
    Vector {
        message: "e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec4011eaccd55b53f56c",
        public_key: "cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d",
        signature: "21122a84e0b5fca4052f5b1235c80a537878b38f3142356b2c2384ebad4668b7\
                    e40bc836dac0f71076f9abe3a53f9c03c1ceeeddb658d0030494ace586687405",
    },
    // 6: S > l.
    Vector {
        message: "85e241a07d148b41e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec40",
        public_key: "442aad9f089ad9e14647b1ef9099a1ff4798d78589e66f28eca69c11f582a623",
        signature: "e96f66be976d82e60150baecff9906684aebb1ef181f67a7189ac78ea23b6c0e\
                    547f7690a0e2ddcd04d87dbc3490dc19b3b3052f7ff0538cb68afb369ba3a514",
    },
    // 7: S >> l.
    Vector {
        message: "85e241a07d148b41e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec40",
        public_key: "442aad9f089ad9e14647b1ef9099a1ff4798d78589e66f28eca69c11f582a623",
        signature: "8ce5b96c8f26d0ab6c47958c9e68b937104cd36e13c33566acd2fe8d38aa1942\
                    7e71f98a473474f2f13f06f97c20d58cc3f54b8bd0d272f42b695dd7e89a8c22",
    },
    // 8: non-canonical R, reduced for hashing.
    Vector {
        message: "9bedc267423725d473888631ebf45988bad3db83851ee85c85e241a07d148b41",
        public_key: "f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43",
        signature: "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\
                    03be9678ac102edcd92b0210bb34d7428d12ffc5df5f37e359941266a4e35f0f",
    },
    // 9: non-canonical R, not reduced for hashing.
    Vector {
        message: "9bedc267423725d473888631ebf45988bad3db83851ee85c85e241a07d148b41",
        public_key: "f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43",
        signature: "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\
                    ca8c5b64cd208982aa38d4936621a4775aa233aa0505711d8fdcfdaa943d4908",
    },
    // 10: non-canonical A, reduced for hashing.
    Vector {
        message: "e96b7021eb39c1a163b6da4e3093dcd3f21387da4cc4572be588fafae23c155b",
        public_key: "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        signature: "a9d55260f765261eb9b84e106f665e00b867287a761990d7135963ee0a7d59dc\
                    a5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04",
    },
    // 11: non-canonical A, not reduced for hashing.
    Vector {
        message: "39a591f5321bbe07fd5a23dc2f39d025d74526615746727ceefd6e82ae65c06f",
        public_key: "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        signature: "a9d55260f765261eb9b84e106f665e00b867287a761990d7135963ee0a7d59dc\
                    a5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04",
    },
];

fn bytes<const N: usize>(text: &str) -> [u8; N] {
    let mut out = [0u8; N];
    hex::decode_to_slice(text.replace(' ', ""), &mut out).expect("valid hex");
    out
}

enum Expected {
    Key(PointError),
    Signature(SignatureError),
}

fn expected(index: usize) -> Expected {
    match index {
        0 | 1 => Expected::Key(PointError::SmallOrder),
        2..=5 | 8 | 9 => Expected::Key(PointError::Torsion),
        6 | 7 => Expected::Signature(SignatureError::NonCanonicalS),
        10 | 11 => Expected::Key(PointError::NonCanonical),
        _ => unreachable!("twelve vectors"),
    }
}

#[test]
fn all_twelve_are_rejected_the_same_way_on_both_paths() {
    for (index, vector) in VECTORS.iter().enumerate() {
        let key_bytes: [u8; 32] = bytes(vector.public_key);
        let signature = Signature(bytes(vector.signature));
        let message = hex::decode(vector.message).expect("valid hex");
        match (expected(index), PublicKey::from_bytes(&key_bytes)) {
            (Expected::Key(error), result) => {
                assert_eq!(result, Err(KeyError::InvalidPoint(error)), "vector {index}");
            }
            (Expected::Signature(error), Ok(public_key)) => {
                let item = Signed {
                    public_key,
                    message,
                    signature,
                };
                assert_paths_agree(&format!("speccheck {index}"), &item, Err(error));
            }
            (Expected::Signature(_), Err(error)) => panic!("vector {index}: key rejected: {error}"),
        }
    }
}

/// ed25519-dalek 2.2 on the vectors, with keys parsed by `VerifyingKey::from_bytes` (which
/// accepts all twelve). This matches the "Dalek" and "Dalek strict" rows of the speccheck
/// results table, and shows why the key checks are needed: `verify_strict` accepts vector 3
/// (mixed-order key and R).
#[test]
fn ed25519_dalek_rows_of_the_results_table() {
    let mut strict = Vec::new();
    let mut plain = Vec::new();
    for vector in &VECTORS {
        let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes(vector.public_key))
            .expect("dalek decodes every vector's key");
        let signature = ed25519_dalek::Signature::from_bytes(&bytes(vector.signature));
        let message = hex::decode(vector.message).expect("valid hex");
        strict.push(key.verify_strict(&message, &signature).is_ok());
        plain.push(ed25519_dalek::Verifier::verify(&key, &message, &signature).is_ok());
    }
    let strict_row = [
        false, false, false, true, false, false, false, false, false, false, false, false,
    ];
    let plain_row = [
        true, true, true, true, false, false, false, false, false, false, false, true,
    ];
    assert_eq!(strict, strict_row);
    assert_eq!(plain, plain_row);
}
