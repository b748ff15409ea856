//! What ed25519-dalek 2.2 does by itself, as the crate documentation describes it. If an upgrade
//! changes any of this, the reasoning in the documentation must be revisited.

use curve25519_dalek::constants::EIGHT_TORSION;
use curve25519_dalek::scalar::Scalar;

use super::points::non_canonical_encodings;
use super::{le, raw_dalek_batch, raw_dalek_strict, valid_fillers, Signed, TestKey};

/// Mixed-order R (order-2 torsion) with S = r + k a, for a few messages.
fn mixed_items() -> Vec<Signed> {
    let key = TestKey::new(b"behaviour");
    (0u8..32)
        .map(|i| {
            let message = vec![i; 3];
            let signature = key.sign_mixed(b"behaviour", 4, &message);
            Signed {
                public_key: key.public,
                message,
                signature,
            }
        })
        .collect()
}

#[test]
fn batch_is_cofactorless_and_deterministic() {
    let verdicts: Vec<bool> = mixed_items()
        .iter()
        .map(|item| raw_dalek_batch(std::slice::from_ref(item)))
        .collect();
    // Cofactored, every one would pass; cofactorless with fixed coefficients, none or all would.
    // With coefficients from the transcript, about half pass.
    assert!(
        verdicts.iter().any(|&v| v),
        "some pass: the torsion vanishes when z is even"
    );
    assert!(
        verdicts.iter().any(|&v| !v),
        "some fail: no multiplication by the cofactor"
    );
    // No randomness: the same inputs always give the same verdict.
    for _ in 0..3 {
        let again: Vec<bool> = mixed_items()
            .iter()
            .map(|item| raw_dalek_batch(std::slice::from_ref(item)))
            .collect();
        assert_eq!(again, verdicts);
    }
    // verify_strict rejects all of them.
    assert!(mixed_items().iter().all(|item| !raw_dalek_strict(item)));
}

#[test]
fn batch_accepts_identity_r_in_any_encoding() {
    let key = TestKey::new(b"behaviour");
    let message = b"identity".to_vec();
    let mut identity_encodings = vec![le(1)];
    identity_encodings.extend(non_canonical_encodings().into_iter().filter(|bytes| {
        curve25519_dalek::edwards::CompressedEdwardsY(*bytes)
            .decompress()
            .is_some_and(|point| point == EIGHT_TORSION[0])
    }));
    // 01 00..00, then 01 00..80 and p + 1 with either sign bit.
    assert_eq!(identity_encodings.len(), 4);
    for r_bytes in identity_encodings {
        let signature = key.sign_with_r(r_bytes, Scalar::ZERO, &message);
        let item = Signed {
            public_key: key.public,
            message: message.clone(),
            signature,
        };
        let mut batch = valid_fillers(2);
        batch.push(item.clone());
        assert!(raw_dalek_batch(&batch), "{}", hex::encode(r_bytes));
        assert!(!raw_dalek_strict(&item), "{}", hex::encode(r_bytes));
    }
}

#[test]
fn verifying_key_from_bytes_accepts_weak_keys() {
    for torsion in EIGHT_TORSION {
        let key = ed25519_dalek::VerifyingKey::from_bytes(&torsion.compress().to_bytes())
            .expect("dalek accepts small-order keys");
        assert!(key.is_weak());
    }
    let decodable = non_canonical_encodings()
        .into_iter()
        .filter(|bytes| ed25519_dalek::VerifyingKey::from_bytes(bytes).is_ok())
        .count();
    assert!(decodable >= 4, "dalek accepts non-canonical key encodings");
}
