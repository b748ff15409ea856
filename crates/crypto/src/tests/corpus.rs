//! Edge cases built with curve25519-dalek directly: for each, single and batch verification
//! must give the same verdict and error, wherever the case sits in a batch.

use curve25519_dalek::constants::EIGHT_TORSION;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::IsIdentity;

use super::points::non_canonical_encodings;
use super::{
    add_le, assert_paths_agree, challenge, hash_to_scalar, le, raw_dalek_batch, raw_dalek_strict,
    signature_from, test_chain, valid_fillers, verify_batch_owned, Signed, TestKey, L,
};
use crate::{
    sha256, signing_message, verify, verify_batch, BatchError, BatchItem, ChainId, Domain,
    PointError, SignatureError, SigningKey,
};

const BODY: &[u8] = b"corpus message";

fn signer() -> TestKey {
    TestKey::new(b"corpus signer")
}

fn signed_bytes() -> Vec<u8> {
    signing_message(Domain::Transaction, &test_chain(), BODY)
}

/// Checks `case` through the public API too, then every batch position.
fn check(name: &str, case: Signed, expected: Result<(), SignatureError>) {
    assert_eq!(
        case.message,
        signed_bytes(),
        "{name}: corpus cases sign the corpus message"
    );
    let chain = test_chain();
    assert_eq!(
        verify(
            &case.public_key,
            Domain::Transaction,
            &chain,
            BODY,
            &case.signature
        ),
        expected,
        "{name}: public verify"
    );
    let item = BatchItem {
        public_key: &case.public_key,
        domain: Domain::Transaction,
        chain_id: &chain,
        message: BODY,
        signature: &case.signature,
    };
    assert_eq!(
        verify_batch(&[item]),
        expected.map_err(|error| BatchError { index: 0, error }),
        "{name}: public verify_batch"
    );
    assert_paths_agree(name, &case, expected);
}

fn case(signature: crate::Signature) -> Signed {
    Signed {
        public_key: signer().public,
        message: signed_bytes(),
        signature,
    }
}

fn valid_signature() -> crate::Signature {
    signer().sign(b"corpus nonce", &signed_bytes())
}

#[test]
fn valid_signatures() {
    check("valid (test signer)", case(valid_signature()), Ok(()));
    let honest = SigningKey::from_seed(&[3; 32]);
    let signature = honest.sign(Domain::Transaction, &test_chain(), BODY);
    check(
        "valid (SigningKey)",
        Signed {
            public_key: honest.public_key(),
            message: signed_bytes(),
            signature,
        },
        Ok(()),
    );
    // R = B itself (nonce 1).
    let key = signer();
    let r_bytes = EdwardsPoint::mul_base(&Scalar::ONE).compress().to_bytes();
    check(
        "valid, R = B",
        case(key.sign_with_r(r_bytes, Scalar::ONE, &signed_bytes())),
        Ok(()),
    );
}

#[test]
fn non_canonical_s() {
    let valid = valid_signature();
    let mut r = [0u8; 32];
    r.copy_from_slice(&valid.0[..32]);
    let mut s = [0u8; 32];
    s.copy_from_slice(&valid.0[32..]);
    let plus_l = add_le(&s, &L);
    assert_eq!(
        Scalar::from_bytes_mod_order(plus_l).to_bytes(),
        s,
        "S + l reduces to S"
    );
    check(
        "S + l",
        case(signature_from(r, plus_l)),
        Err(SignatureError::NonCanonicalS),
    );
    let plus_2l = add_le(&plus_l, &L);
    check(
        "S + 2l",
        case(signature_from(r, plus_2l)),
        Err(SignatureError::NonCanonicalS),
    );
    let mut high_bit = s;
    high_bit[31] |= 0x80;
    check(
        "S with bit 255",
        case(signature_from(r, high_bit)),
        Err(SignatureError::NonCanonicalS),
    );
    check(
        "S = l",
        case(signature_from(r, L)),
        Err(SignatureError::NonCanonicalS),
    );
    check(
        "S = 2^256 - 1",
        case(signature_from(r, [0xff; 32])),
        Err(SignatureError::NonCanonicalS),
    );
    // S = l - 1 is canonical: then only the equation fails.
    let l_minus_one = (-Scalar::ONE).to_bytes();
    check(
        "S = l - 1",
        case(signature_from(r, l_minus_one)),
        Err(SignatureError::Mismatch),
    );
}

#[test]
fn small_order_r() {
    // R = T, S = k a: [S]B = [k]A, so the cofactored equation holds for every T, and the
    // cofactorless one for the identity. All are rejected for R's small order.
    let key = signer();
    for (i, torsion) in EIGHT_TORSION.iter().enumerate() {
        let r_bytes = torsion.compress().to_bytes();
        let signature = key.sign_with_r(r_bytes, Scalar::ZERO, &signed_bytes());
        let item = case(signature);
        assert!(
            !raw_dalek_strict(&item),
            "verify_strict rejects small-order R {i}"
        );
        if i == 0 {
            assert!(
                raw_dalek_batch(std::slice::from_ref(&item)),
                "dalek's batch accepts R = identity"
            );
        }
        check(
            &format!("small-order R {i}"),
            item,
            Err(SignatureError::InvalidR(PointError::SmallOrder)),
        );
    }
    check(
        "all-zero signature",
        case(signature_from([0; 32], [0; 32])),
        Err(SignatureError::InvalidR(PointError::SmallOrder)),
    );
}

#[test]
fn mixed_order_r_satisfying_the_cofactored_equation() {
    let key = signer();
    let message = signed_bytes();
    for (i, torsion) in EIGHT_TORSION.iter().enumerate().skip(1) {
        let signature = key.sign_mixed(b"mixed", i, &message);
        // The construction is what it claims: cofactored holds, cofactorless fails.
        let r_bytes: [u8; 32] = signature.0[..32].try_into().expect("32 bytes");
        let r_point = CompressedEdwardsY(r_bytes)
            .decompress()
            .expect("on the curve");
        let s = Scalar::from_canonical_bytes(signature.0[32..].try_into().expect("32 bytes"))
            .expect("canonical S");
        let k = challenge(&r_bytes, key.public.as_bytes(), &message);
        let a_point = EdwardsPoint::mul_base(&key.secret);
        let residue = EdwardsPoint::mul_base(&s) - r_point - k * a_point;
        assert_eq!(residue, -torsion);
        assert!(
            residue.mul_by_cofactor().is_identity(),
            "cofactored equation holds"
        );
        assert!(!residue.is_identity(), "cofactorless equation fails");

        // The rule accepts it (ed25519-dalek's cofactorless `verify_strict` does not), on both
        // paths, wherever it sits in a batch.
        let item = case(signature);
        assert!(!raw_dalek_strict(&item));
        check(&format!("mixed-order R, torsion {i}"), item, Ok(()));
    }
}

/// Why the batch equation is cofactored: ed25519-dalek's cofactorless batch equation accepts a
/// mixed-order `R` with an order-`2^j` torsion component exactly when the item's coefficient is
/// a multiple of `2^j`, so its verdict on a signature that its own `verify_strict` refuses
/// depends on the rest of the batch. Grind batches until dalek accepts and until it refuses the
/// same kind of item; this crate accepts every one of them, on both paths, at every position.
#[test]
fn mixed_order_r_verdicts_do_not_depend_on_the_batch() {
    let key = signer();
    for torsion in [4usize, 2, 1] {
        for (fillers, position) in [(0usize, 0usize), (3, 0), (3, 2), (6, 6)] {
            let valid = valid_fillers(fillers);
            let (mut dalek_accepted, mut dalek_refused) = (false, false);
            for attempt in 0u32..200 {
                let message = [b"grind ".as_slice(), &attempt.to_le_bytes()].concat();
                let signature = key.sign_mixed(b"grind", torsion, &message);
                let item = Signed {
                    public_key: key.public,
                    message,
                    signature,
                };
                let mut batch = valid.clone();
                batch.insert(position, item.clone());
                if raw_dalek_batch(&batch) {
                    dalek_accepted = true;
                } else {
                    dalek_refused = true;
                }
                assert!(!raw_dalek_strict(&item), "verify_strict rejects it");
                assert_eq!(item.verify(), Ok(()));
                assert_eq!(verify_batch_owned(&batch), Ok(()));
                if dalek_accepted && dalek_refused {
                    break;
                }
            }
            assert!(
                dalek_accepted && dalek_refused,
                "dalek's batch verdict on torsion {torsion} at {position}/{fillers} never changed"
            );
        }
    }
}

/// Batches large enough for the multiscalar multiplication's other algorithm (Pippenger's, from
/// about 190 points), with one invalid item at several positions, and all valid.
#[test]
fn large_batches() {
    let valid = valid_fillers(300);
    assert_eq!(verify_batch_owned(&valid), Ok(()));
    for position in [0usize, 150, 299] {
        let mut batch = valid.clone();
        batch[position].message.push(0);
        assert_eq!(
            verify_batch_owned(&batch),
            Err(BatchError {
                index: position,
                error: SignatureError::Mismatch
            }),
            "invalid at {position}"
        );
    }
    let mut mixed = valid.clone();
    for (i, item) in mixed.iter_mut().enumerate().step_by(37) {
        let key = TestKey::new(&i.to_le_bytes());
        item.signature = key.sign_mixed(b"large", 1 + i % 7, &item.message);
        assert_eq!(item.public_key, key.public);
    }
    assert_eq!(verify_batch_owned(&mixed), Ok(()));
}

#[test]
fn non_canonical_r() {
    // R decodes to a point, but not canonically. Sign as if R were that point: for the small
    // order ones (identity, order 2 and 4) use S = k a, which makes dalek's batch equation hold
    // for the identity, and half the time for order 2.
    let key = signer();
    let message = signed_bytes();
    let mut decodable = 0;
    for r_bytes in non_canonical_encodings() {
        let name = format!("non-canonical R {}", hex::encode(r_bytes));
        let point = CompressedEdwardsY(r_bytes).decompress();
        let signature = key.sign_with_r(r_bytes, Scalar::ZERO, &message);
        let item = case(signature);
        let expected = match point {
            Some(point) => {
                decodable += 1;
                if point.is_identity() {
                    assert!(
                        raw_dalek_batch(std::slice::from_ref(&item)),
                        "dalek's batch accepts {name}"
                    );
                }
                PointError::NonCanonical
            }
            None => PointError::NotOnCurve,
        };
        assert!(!raw_dalek_strict(&item));
        check(&name, item, Err(SignatureError::InvalidR(expected)));
    }
    assert!(decodable >= 4);
}

#[test]
fn r_not_on_curve() {
    let bytes = (2..=255)
        .map(le)
        .find(|bytes| CompressedEdwardsY(*bytes).decompress().is_none())
        .expect("some small y is not on the curve");
    let signature = signer().sign_with_r(bytes, Scalar::ZERO, &signed_bytes());
    check(
        "R not on the curve",
        case(signature),
        Err(SignatureError::InvalidR(PointError::NotOnCurve)),
    );
}

#[test]
fn wrong_r_or_s() {
    let valid = valid_signature();
    // -R: the sign bit flipped. Canonical, prime order, wrong.
    let mut negated = valid;
    negated.0[31] ^= 0x80;
    check("R negated", case(negated), Err(SignatureError::Mismatch));
    // R from another nonce.
    let other = signer().sign(b"other nonce", &signed_bytes());
    let mut swapped = valid;
    swapped.0[..32].copy_from_slice(&other.0[..32]);
    check(
        "R from another signature",
        case(swapped),
        Err(SignatureError::Mismatch),
    );
    // S off by one.
    let mut s = [0u8; 32];
    s.copy_from_slice(&valid.0[32..]);
    let s = Scalar::from_canonical_bytes(s).expect("canonical") + Scalar::ONE;
    let mut bumped = valid;
    bumped.0[32..].copy_from_slice(&s.to_bytes());
    check("S + 1", case(bumped), Err(SignatureError::Mismatch));
    // R + T (T of order 8) with S unchanged: k changes with R's bytes, so not even the cofactored
    // equation holds.
    let mut mixed = valid;
    let r_point = CompressedEdwardsY(valid.0[..32].try_into().expect("32 bytes"))
        .decompress()
        .expect("valid R");
    mixed.0[..32].copy_from_slice(&(r_point + EIGHT_TORSION[3]).compress().to_bytes());
    check(
        "R + T, S unchanged",
        case(mixed),
        Err(SignatureError::Mismatch),
    );
}

#[test]
fn wrong_key_message_domain_or_chain() {
    let honest = SigningKey::from_seed(&[9; 32]);
    let chain = test_chain();
    let signature = honest.sign(Domain::Transaction, &chain, BODY);
    let other_key = SigningKey::from_seed(&[10; 32]).public_key();
    check(
        "another key",
        Signed {
            public_key: other_key,
            message: signed_bytes(),
            signature,
        },
        Err(SignatureError::Mismatch),
    );
    // The same signature checked against other signed bytes.
    let wrong_messages = [
        (
            "another domain",
            signing_message(Domain::Vote, &chain, BODY),
        ),
        (
            "another chain",
            signing_message(Domain::Transaction, &ChainId(sha256(b"x")), BODY),
        ),
        (
            "another message",
            signing_message(Domain::Transaction, &chain, b"corpus messagf"),
        ),
        ("raw message", BODY.to_vec()),
    ];
    for (name, message) in wrong_messages {
        assert_paths_agree(
            name,
            &Signed {
                public_key: honest.public_key(),
                message,
                signature,
            },
            Err(SignatureError::Mismatch),
        );
    }
}

#[test]
fn random_signatures_agree() {
    // Arbitrary bytes: mostly off-curve or non-canonical, sometimes a prime-order R.
    let key = signer();
    for i in 0u8..64 {
        let r = hash_to_scalar(&[b"random r", &[i]]).to_bytes();
        let s = hash_to_scalar(&[b"random s", &[i]]).to_bytes();
        let mut s_high = s;
        s_high[31] |= u8::from(i % 4 == 0) << 7;
        let item = Signed {
            public_key: key.public,
            message: signed_bytes(),
            signature: signature_from(r, s_high),
        };
        let expected = item.verify();
        assert!(expected.is_err());
        assert_paths_agree(&format!("random {i}"), &item, expected);
    }
}
