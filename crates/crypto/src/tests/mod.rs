//! Tests that need the crate's internals: signatures crafted with curve25519-dalek directly, the
//! equivalence of single and batch verification on edge cases, and ed25519-dalek's own behaviour.

mod corpus;
mod dalek_behaviour;
mod key_cache;
mod points;
mod props;
mod speccheck;
mod timing;

use curve25519_dalek::constants::EIGHT_TORSION;
use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::scalar::Scalar;
use sha2::{Digest as _, Sha512};

use crate::signature::{verify_batch_signed_bytes, verify_signed_bytes, SignedBytes};
use crate::{sha256, BatchError, ChainId, PublicKey, Signature, SignatureError};

/// The group order l, little-endian.
pub(crate) const L: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/// p = 2^255 - 19, little-endian.
pub(crate) const P: [u8; 32] = {
    let mut p = [0xff; 32];
    p[0] = 0xed;
    p[31] = 0x7f;
    p
};

/// 256-bit little-endian addition; panics on overflow (never reached with the values used).
pub(crate) fn add_le(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut carry = 0u16;
    for i in 0..32 {
        let sum = u16::from(a[i]) + u16::from(b[i]) + carry;
        out[i] = sum.to_le_bytes()[0];
        carry = sum >> 8;
    }
    assert_eq!(carry, 0, "overflow");
    out
}

/// A small little-endian integer as 32 bytes.
pub(crate) fn le(value: u8) -> [u8; 32] {
    let mut out = [0u8; 32];
    out[0] = value;
    out
}

pub(crate) fn hash_to_scalar(parts: &[&[u8]]) -> Scalar {
    let mut hasher = Sha512::new();
    for part in parts {
        hasher.update(part);
    }
    Scalar::from_bytes_mod_order_wide(&hasher.finalize().into())
}

/// A key pair whose secret scalar the tests know, so they can sign with any nonce.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TestKey {
    pub(crate) secret: Scalar,
    pub(crate) public: PublicKey,
}

impl TestKey {
    pub(crate) fn new(label: &[u8]) -> Self {
        let secret = hash_to_scalar(&[b"test key", label]);
        let point = EdwardsPoint::mul_base(&secret);
        let public = PublicKey::from_bytes(&point.compress().to_bytes()).expect("valid key");
        Self { secret, public }
    }

    /// `S = r + k a` with `k = H(R || A || message)` over the given bytes of `R`, whatever point
    /// they encode. If `R = [r]B + T`, the cofactored equation holds, and the cofactorless one
    /// holds exactly when `T` is the identity and `r_bytes` is canonical.
    pub(crate) fn sign_with_r(&self, r_bytes: [u8; 32], r: Scalar, message: &[u8]) -> Signature {
        let k = challenge(&r_bytes, self.public.as_bytes(), message);
        signature_from(r_bytes, (r + k * self.secret).to_bytes())
    }

    /// A valid signature, with a nonce derived from `nonce_label`.
    pub(crate) fn sign(&self, nonce_label: &[u8], message: &[u8]) -> Signature {
        let r = hash_to_scalar(&[b"nonce", nonce_label, message]);
        self.sign_with_r(EdwardsPoint::mul_base(&r).compress().to_bytes(), r, message)
    }

    /// A signature whose `R` is `[r]B + torsion` (canonically encoded) and `S = r + k a`.
    pub(crate) fn sign_mixed(
        &self,
        nonce_label: &[u8],
        torsion: usize,
        message: &[u8],
    ) -> Signature {
        let r = hash_to_scalar(&[b"nonce", nonce_label, message]);
        let point = EdwardsPoint::mul_base(&r) + EIGHT_TORSION[torsion];
        self.sign_with_r(point.compress().to_bytes(), r, message)
    }
}

pub(crate) fn challenge(r_bytes: &[u8; 32], a_bytes: &[u8; 32], message: &[u8]) -> Scalar {
    hash_to_scalar(&[r_bytes, a_bytes, message])
}

pub(crate) fn signature_from(r: [u8; 32], s: [u8; 32]) -> Signature {
    let mut bytes = [0u8; 64];
    bytes[..32].copy_from_slice(&r);
    bytes[32..].copy_from_slice(&s);
    Signature(bytes)
}

pub(crate) fn test_chain() -> ChainId {
    ChainId(sha256(b"courtledger-test"))
}

/// A signature over already domain-separated bytes, owned.
#[derive(Clone, Debug)]
pub(crate) struct Signed {
    pub(crate) public_key: PublicKey,
    pub(crate) message: Vec<u8>,
    pub(crate) signature: Signature,
}

impl Signed {
    pub(crate) fn verify(&self) -> Result<(), SignatureError> {
        verify_signed_bytes(&self.public_key, &self.message, &self.signature)
    }
}

pub(crate) fn verify_batch_owned(items: &[Signed]) -> Result<(), BatchError> {
    let borrowed: Vec<SignedBytes<'_>> = items
        .iter()
        .map(|item| SignedBytes {
            public_key: &item.public_key,
            message: &item.message,
            signature: &item.signature,
        })
        .collect();
    verify_batch_signed_bytes(&borrowed)
}

/// What ed25519-dalek's own `verify_batch` says, with none of this crate's checks.
pub(crate) fn raw_dalek_batch(items: &[Signed]) -> bool {
    let messages: Vec<&[u8]> = items.iter().map(|item| item.message.as_slice()).collect();
    let signatures: Vec<ed25519_dalek::Signature> = items
        .iter()
        .map(|item| ed25519_dalek::Signature::from_bytes(&item.signature.0))
        .collect();
    let keys: Vec<ed25519_dalek::VerifyingKey> = items
        .iter()
        .map(|item| *item.public_key.verifying_key())
        .collect();
    ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok()
}

/// What ed25519-dalek's own `verify_strict` says.
pub(crate) fn raw_dalek_strict(item: &Signed) -> bool {
    item.public_key
        .verifying_key()
        .verify_strict(
            &item.message,
            &ed25519_dalek::Signature::from_bytes(&item.signature.0),
        )
        .is_ok()
}

/// The verification rule of the crate documentation, checked step by step with
/// curve25519-dalek's constant-time operations: the oracle that `verify`'s computation (which
/// never decompresses `R` on success) and the batch equation are compared with.
pub(crate) fn reference_rule(item: &Signed) -> bool {
    let mut r = [0u8; 32];
    r.copy_from_slice(&item.signature.0[..32]);
    let mut s = [0u8; 32];
    s.copy_from_slice(&item.signature.0[32..]);
    let Some(s) = Option::<Scalar>::from(Scalar::from_canonical_bytes(s)) else {
        return false;
    };
    let Some(r_point) = curve25519_dalek::edwards::CompressedEdwardsY(r).decompress() else {
        return false;
    };
    if r_point.compress().to_bytes() != r || r_point.is_small_order() {
        return false;
    }
    let a_point = curve25519_dalek::edwards::CompressedEdwardsY(item.public_key.to_bytes())
        .decompress()
        .expect("a validated key decodes");
    let k = challenge(&r, item.public_key.as_bytes(), &item.message);
    let residue = EdwardsPoint::mul_base(&s) - r_point - k * a_point;
    curve25519_dalek::traits::IsIdentity::is_identity(&residue.mul_by_cofactor())
}

/// `count` valid signatures by different keys over different messages.
pub(crate) fn valid_fillers(count: usize) -> Vec<Signed> {
    (0..count)
        .map(|i| {
            let label = i.to_le_bytes();
            let key = TestKey::new(&label);
            let message = [b"filler ".as_slice(), &label].concat();
            let signature = key.sign(&label, &message);
            Signed {
                public_key: key.public,
                message,
                signature,
            }
        })
        .collect()
}

/// Asserts that single verification of `case` gives `expected`, and that batch verification
/// agrees with it, with the right index, when `case` is alone, among valid signatures at the
/// start, middle and end of batches of several sizes, and present twice.
pub(crate) fn assert_paths_agree(name: &str, case: &Signed, expected: Result<(), SignatureError>) {
    assert_eq!(case.verify(), expected, "{name}: single verification");
    assert_eq!(
        case.verify().is_ok(),
        reference_rule(case),
        "{name}: the step-by-step rule"
    );
    let at = |index: usize| expected.map_err(|error| BatchError { index, error });
    assert_eq!(
        verify_batch_owned(std::slice::from_ref(case)),
        at(0),
        "{name}: alone"
    );
    for fillers in [1usize, 3, 8] {
        let valid = valid_fillers(fillers);
        for position in [0, fillers / 2, fillers] {
            let mut batch = valid.clone();
            batch.insert(position, case.clone());
            assert_eq!(
                verify_batch_owned(&batch),
                at(position),
                "{name}: at {position} of {}",
                batch.len()
            );
        }
        let mut twice = valid.clone();
        twice.insert(fillers, case.clone());
        twice.insert(1, case.clone());
        assert_eq!(
            verify_batch_owned(&twice),
            at(1),
            "{name}: twice in {}",
            twice.len()
        );
    }
    // Behind an earlier failure, the earlier one is reported.
    let mut wrong = valid_fillers(1).remove(0);
    wrong.message.push(0);
    let behind = [valid_fillers(2), vec![wrong, case.clone()]].concat();
    assert_eq!(
        verify_batch_owned(&behind),
        Err(BatchError {
            index: 2,
            error: SignatureError::Mismatch
        }),
        "{name}: behind a mismatch"
    );
}

#[test]
fn constants_are_what_they_claim() {
    assert_eq!(Scalar::from_bytes_mod_order(L), Scalar::ZERO);
    assert_eq!(add_le(&(-Scalar::ONE).to_bytes(), &le(1)), L);
    assert_eq!(add_le(&P, &le(18)), {
        let mut max = [0xff; 32];
        max[31] = 0x7f;
        max
    });
}

#[test]
fn test_signer_makes_valid_signatures() {
    let key = TestKey::new(b"signer");
    let message = b"message".to_vec();
    let signature = key.sign(b"nonce", &message);
    let item = Signed {
        public_key: key.public,
        message,
        signature,
    };
    assert_eq!(item.verify(), Ok(()));
    assert!(raw_dalek_strict(&item));
    assert!(raw_dalek_batch(&[item]));
    for item in valid_fillers(4) {
        assert_eq!(item.verify(), Ok(()));
    }
}
