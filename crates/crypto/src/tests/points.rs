//! The point checks shared by public keys and signatures' `R`.

use courtledger_codec::{decode_exact, DecodeError};
use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::IsIdentity;
use proptest::prelude::*;

use super::{add_le, hash_to_scalar, le, P};
use crate::keys::{decode_point, is_canonical_encoding, is_torsion_free};
use crate::{KeyError, PointError, PublicKey};

/// Every 32-byte string that decodes (or would, if it were on the curve) to a point whose
/// canonical encoding is different: `y = p + j` for `j < 19` with either sign bit, and `y = 1`,
/// `y = p - 1` with the sign bit set (x = 0).
pub(crate) fn non_canonical_encodings() -> Vec<[u8; 32]> {
    let mut out = Vec::new();
    for j in 0..19 {
        let y = add_le(&P, &le(j));
        let mut negative = y;
        negative[31] |= 0x80;
        out.push(y);
        out.push(negative);
    }
    let mut negative_one = le(1);
    negative_one[31] |= 0x80;
    out.push(negative_one);
    let mut negative_minus_one = P;
    negative_minus_one[0] = 0xec;
    negative_minus_one[31] |= 0x80;
    out.push(negative_minus_one);
    out
}

/// The canonical encoding of `y = value` with the sign bit clear.
fn small_y(value: u8) -> [u8; 32] {
    le(value)
}

fn oracle_canonical(bytes: &[u8; 32]) -> Option<bool> {
    CompressedEdwardsY(*bytes)
        .decompress()
        .map(|point| point.compress().to_bytes() == *bytes)
}

fn random_point(label: &[u8]) -> EdwardsPoint {
    EdwardsPoint::mul_base(&hash_to_scalar(&[b"point", label]))
}

#[test]
fn non_canonical_encodings_are_rejected() {
    let mut decodable = 0;
    for bytes in non_canonical_encodings() {
        assert!(!is_canonical_encoding(&bytes), "{}", hex::encode(bytes));
        match oracle_canonical(&bytes) {
            Some(canonical) => {
                decodable += 1;
                assert!(!canonical, "{}", hex::encode(bytes));
                assert_eq!(decode_point(&bytes), Err(PointError::NonCanonical));
                assert_eq!(
                    PublicKey::from_bytes(&bytes),
                    Err(KeyError::InvalidPoint(PointError::NonCanonical))
                );
            }
            None => {
                assert_eq!(decode_point(&bytes), Err(PointError::NotOnCurve));
                assert_eq!(
                    PublicKey::from_bytes(&bytes),
                    Err(KeyError::InvalidPoint(PointError::NotOnCurve))
                );
            }
        }
    }
    // Both kinds occur, so the loop tested something: y = p + 1 (the identity) and the negative
    // zeros decode, for instance.
    assert!(
        decodable >= 4,
        "only {decodable} decodable non-canonical encodings"
    );
}

#[test]
fn canonical_check_matches_compress_on_special_points() {
    let mut checked = 0;
    for value in 0..=255 {
        for sign in [0u8, 0x80] {
            let mut bytes = small_y(value);
            bytes[31] |= sign;
            if let Some(canonical) = oracle_canonical(&bytes) {
                assert_eq!(
                    is_canonical_encoding(&bytes),
                    canonical,
                    "{}",
                    hex::encode(bytes)
                );
                checked += 1;
            }
            let mut high = P;
            high[0] = high[0].wrapping_sub(value);
            high[31] = (high[31] & 0x7f) | sign;
            if let Some(canonical) = oracle_canonical(&high) {
                assert_eq!(
                    is_canonical_encoding(&high),
                    canonical,
                    "{}",
                    hex::encode(high)
                );
                checked += 1;
            }
        }
    }
    for torsion in EIGHT_TORSION {
        let bytes = torsion.compress().to_bytes();
        assert!(is_canonical_encoding(&bytes));
    }
    assert!(checked > 100);
}

#[test]
fn small_order_public_keys_are_rejected() {
    for (i, torsion) in EIGHT_TORSION.iter().enumerate() {
        let bytes = torsion.compress().to_bytes();
        assert_eq!(
            PublicKey::from_bytes(&bytes),
            Err(KeyError::InvalidPoint(PointError::SmallOrder)),
            "torsion point {i}"
        );
    }
    // The identity, canonically encoded.
    assert_eq!(
        PublicKey::from_bytes(&le(1)),
        Err(KeyError::InvalidPoint(PointError::SmallOrder))
    );
}

#[test]
fn mixed_order_public_keys_are_rejected() {
    let prime = random_point(b"mixed key");
    assert!(PublicKey::from_bytes(&prime.compress().to_bytes()).is_ok());
    for (i, torsion) in EIGHT_TORSION.iter().enumerate().skip(1) {
        let mixed = prime + torsion;
        assert_eq!(
            PublicKey::from_bytes(&mixed.compress().to_bytes()),
            Err(KeyError::InvalidPoint(PointError::Torsion)),
            "torsion point {i}"
        );
    }
}

#[test]
fn point_not_on_curve_is_rejected() {
    let bytes = (2..=255)
        .map(small_y)
        .find(|bytes| CompressedEdwardsY(*bytes).decompress().is_none())
        .expect("some small y is not on the curve");
    assert_eq!(
        PublicKey::from_bytes(&bytes),
        Err(KeyError::InvalidPoint(PointError::NotOnCurve))
    );
}

#[test]
fn torsion_check_matches_dalek() {
    for label in 0u8..8 {
        let prime = random_point(&[label]);
        for (i, torsion) in EIGHT_TORSION.iter().enumerate() {
            let point = prime + torsion;
            assert_eq!(is_torsion_free(&point), i == 0);
            assert_eq!(is_torsion_free(&point), point.is_torsion_free());
            assert_eq!(is_torsion_free(torsion), torsion.is_identity());
        }
    }
    assert!(is_torsion_free(&ED25519_BASEPOINT_POINT));
    assert!(is_torsion_free(&EdwardsPoint::mul_base(&-Scalar::ONE)));
}

#[test]
fn public_key_decode_validates() {
    let valid = random_point(b"decode").compress().to_bytes();
    let key: PublicKey = decode_exact(&valid, 32).expect("valid key decodes");
    assert_eq!(key.to_bytes(), valid);
    let small = EIGHT_TORSION[1].compress().to_bytes();
    assert_eq!(
        decode_exact::<PublicKey>(&small, 32),
        Err(DecodeError::Invalid {
            what: "public key",
            reason: "point of small order"
        })
    );
    let mixed = (random_point(b"decode") + EIGHT_TORSION[4])
        .compress()
        .to_bytes();
    assert_eq!(
        decode_exact::<PublicKey>(&mixed, 32),
        Err(DecodeError::Invalid {
            what: "public key",
            reason: "point is not in the prime-order subgroup"
        })
    );
    assert!(decode_exact::<PublicKey>(&valid[..31], 32).is_err());
}

proptest! {
    #[test]
    fn canonical_check_matches_compress(bytes in any::<[u8; 32]>()) {
        if let Some(canonical) = oracle_canonical(&bytes) {
            prop_assert_eq!(is_canonical_encoding(&bytes), canonical);
        }
    }

    #[test]
    fn from_bytes_accepts_exactly_prime_order_canonical_points(bytes in any::<[u8; 32]>()) {
        let expected = match CompressedEdwardsY(bytes).decompress() {
            None => Err(PointError::NotOnCurve),
            Some(point) if point.compress().to_bytes() != bytes => Err(PointError::NonCanonical),
            Some(point) if point.is_small_order() => Err(PointError::SmallOrder),
            Some(point) if !point.is_torsion_free() => Err(PointError::Torsion),
            Some(_) => Ok(bytes),
        };
        prop_assert_eq!(
            PublicKey::from_bytes(&bytes).map(|key| key.to_bytes()),
            expected.map_err(KeyError::InvalidPoint)
        );
    }

    #[test]
    fn honest_points_are_accepted(scalar in any::<[u8; 32]>()) {
        let scalar = Scalar::from_bytes_mod_order(scalar);
        prop_assume!(scalar != Scalar::ZERO);
        let bytes = EdwardsPoint::mul_base(&scalar).compress().to_bytes();
        prop_assert_eq!(PublicKey::from_bytes(&bytes).map(|key| key.to_bytes()), Ok(bytes));
    }
}
