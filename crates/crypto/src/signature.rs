//! Signatures and their verification, one at a time or in batches, under one rule.

use core::fmt;
use core::str::FromStr;

use courtledger_codec::{Decode, DecodeError, Encode, Reader};
use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use sha2::{Digest as _, Sha512};
use thiserror::Error;

use crate::digest::ChainId;
use crate::domain::{signing_message, Domain};
use crate::keys::{decode_point_unchecked_torsion, PointError, PublicKey};
use crate::text::{self, HexError};

/// Length of a signature in bytes.
pub const SIGNATURE_LEN: usize = 64;

/// An ed25519 signature: the encoded point `R` (32 bytes), then the scalar `S` (32 bytes,
/// little-endian).
///
/// Any 64 bytes make a `Signature`; nothing is checked until verification. Shown and parsed as
/// 128 hex characters; encoded as its 64 bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Signature(pub [u8; SIGNATURE_LEN]);

impl Signature {
    /// The signature's bytes.
    pub fn as_bytes(&self) -> &[u8; SIGNATURE_LEN] {
        &self.0
    }

    /// The bytes of `R`.
    fn r_bytes(&self) -> [u8; 32] {
        let mut r = [0u8; 32];
        r.copy_from_slice(&self.0[..32]);
        r
    }

    /// The bytes of `S`.
    fn s_bytes(&self) -> [u8; 32] {
        let mut s = [0u8; 32];
        s.copy_from_slice(&self.0[32..]);
        s
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        text::write(f, &self.0)
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        text::write(f, &self.0)
    }
}

impl FromStr for Signature {
    type Err = HexError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        text::parse(s).map(Self)
    }
}

impl Encode for Signature {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
}

impl Decode for Signature {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        reader.array("signature").map(Self)
    }
}

/// Why a signature was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Error)]
pub enum SignatureError {
    /// `S` is not less than the group order `l`.
    #[error("signature scalar S is not canonical (not below the group order)")]
    NonCanonicalS,
    /// `R` is not an acceptable point.
    #[error("signature point R is invalid: {0}")]
    InvalidR(PointError),
    /// The encodings are acceptable but `[8]([S]B - R - [k]A)` is not the identity: the
    /// signature is not by this key over these bytes (wrong key, message, domain or chain id, or
    /// a forgery).
    #[error("signature does not match the public key and message")]
    Mismatch,
    /// Never returned: when [`verify_batch`]'s equation fails, the items are checked one by one
    /// and the first failing item's own error is reported (the equation cannot fail when every
    /// item verifies alone). Kept so that matches on this error stay exhaustive.
    #[error("batch verification failed although every signature verified alone")]
    BatchInconsistent,
}

/// Verifies `signature` over the exact bytes `message` (already domain-separated), under the
/// rule of the crate documentation.
///
/// Computes `R' = [S]B - [k]A` (`k = SHA-512(R || A || M) mod l` over the given bytes) with one
/// variable-time double-base multiplication. An honest signature has `R = R'`: when `R'` is not
/// the identity and compresses to exactly the bytes of `R`, every check passes (`R'` is in the
/// prime-order subgroup, as `A` and `B` are, so those bytes are the canonical encoding of a point
/// that is not of small order, and `[8](R' - R)` is the identity) and `R` is never decompressed.
/// Otherwise `R` is decoded with its checks and the cofactored equation `[8](R' - R) = 0` decides;
/// the error names the first check that fails, in the order of the rule.
pub(crate) fn verify_signed_bytes(
    public_key: &PublicKey,
    message: &[u8],
    signature: &Signature,
) -> Result<(), SignatureError> {
    let s = canonical_s(signature).ok_or(SignatureError::NonCanonicalS)?;
    let r_bytes = signature.r_bytes();
    let k = challenge(&r_bytes, public_key, message);
    let minus_a = -public_key.verifying_key().to_edwards();
    let r_expected = EdwardsPoint::vartime_double_scalar_mul_basepoint(&k, &minus_a, &s);
    if !r_expected.is_identity() && r_expected.compress().to_bytes() == r_bytes {
        return Ok(());
    }
    let r = decode_point_unchecked_torsion(&r_bytes).map_err(SignatureError::InvalidR)?;
    if (r_expected - r).mul_by_cofactor().is_identity() {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// `S` as a scalar, if it is below `l`.
fn canonical_s(signature: &Signature) -> Option<Scalar> {
    Option::from(Scalar::from_canonical_bytes(signature.s_bytes()))
}

/// `k = SHA-512(R || A || M) mod l`, over the bytes of `R` and `A` as given.
fn challenge(r_bytes: &[u8; 32], public_key: &PublicKey, message: &[u8]) -> Scalar {
    let mut hasher = Sha512::new();
    hasher.update(r_bytes);
    hasher.update(public_key.as_bytes());
    hasher.update(message);
    Scalar::from_bytes_mod_order_wide(&hasher.finalize().into())
}

/// Verifies one signature by `public_key` over `message` for `domain` on `chain_id`.
///
/// Accepts exactly the signatures that the crate's verification rule accepts (see the crate
/// documentation), and the same ones as [`verify_batch`].
pub fn verify(
    public_key: &PublicKey,
    domain: Domain,
    chain_id: &ChainId,
    message: &[u8],
    signature: &Signature,
) -> Result<(), SignatureError> {
    verify_signed_bytes(
        public_key,
        &signing_message(domain, chain_id, message),
        signature,
    )
}

/// One signature to check in [`verify_batch`]: the same arguments as [`verify`].
#[derive(Debug, Clone, Copy)]
pub struct BatchItem<'a> {
    /// The signer.
    pub public_key: &'a PublicKey,
    /// What the signature is for.
    pub domain: Domain,
    /// The chain it is for.
    pub chain_id: &'a ChainId,
    /// The message, without domain or chain id.
    pub message: &'a [u8],
    /// The signature.
    pub signature: &'a Signature,
}

/// Why a batch was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Error)]
#[error("signature {index} of the batch is invalid: {error}")]
pub struct BatchError {
    /// The lowest index whose signature fails [`verify`]; always less than the batch length.
    pub index: usize,
    /// What [`verify`] reports for that signature.
    pub error: SignatureError,
}

/// One signature over already domain-separated bytes.
pub(crate) struct SignedBytes<'a> {
    pub(crate) public_key: &'a PublicKey,
    pub(crate) message: &'a [u8],
    pub(crate) signature: &'a Signature,
}

/// Verifies every item; accepts exactly when [`verify`] accepts every item.
///
/// On failure reports the lowest index that [`verify`] rejects, with [`verify`]'s error. An empty
/// batch is accepted.
pub fn verify_batch(items: &[BatchItem<'_>]) -> Result<(), BatchError> {
    let messages: Vec<Vec<u8>> = items
        .iter()
        .map(|item| signing_message(item.domain, item.chain_id, item.message))
        .collect();
    let signed: Vec<SignedBytes<'_>> = items
        .iter()
        .zip(&messages)
        .map(|(item, message)| SignedBytes {
            public_key: item.public_key,
            message,
            signature: item.signature,
        })
        .collect();
    verify_batch_signed_bytes(&signed)
}

/// [`verify_batch`] over already domain-separated bytes.
///
/// Checks every item at once with the batch equation ([`batch_equation`]); when it fails (some
/// item is invalid), checks the items one by one with [`verify_signed_bytes`] and reports the
/// lowest failing index with its error. An empty batch is accepted; a batch of one is checked
/// alone.
pub(crate) fn verify_batch_signed_bytes(items: &[SignedBytes<'_>]) -> Result<(), BatchError> {
    if items.len() >= 2 && batch_equation(items) {
        return Ok(());
    }
    for (index, item) in items.iter().enumerate() {
        verify_signed_bytes(item.public_key, item.message, item.signature)
            .map_err(|error| BatchError { index, error })?;
    }
    // Every item verifies alone, so each term of the batch equation is the identity and so is
    // their sum: the equation cannot have failed.
    debug_assert!(
        items.len() < 2,
        "the batch equation failed although every signature verifies alone"
    );
    Ok(())
}

/// Tag of the hash that derives the batch coefficients from the batch (not a signing domain:
/// nothing is signed under it).
const BATCH_COEFFICIENTS_TAG: &[u8] = b"courtledger/v1/batch-coefficients";

/// The batch equation `[8] sum_i z_i ([S_i]B - R_i - [k_i]A_i) = 0`, with each item's `S_i` and
/// `R_i` checked as the rule says (canonical `S`; `R` on the curve, canonically encoded, not of
/// small order). True when every item is valid; when some item is not, false except with
/// probability at most 2^-127 over the coefficients.
///
/// The coefficients `z_i` are 128-bit, odd, and derived from the whole batch: `seed =
/// SHA-512(tag || n || for each item: k_i || R_i || S_i || A_i)`, `z_i = first 16 bytes of
/// SHA-512(seed || i)` (little-endian) with the lowest bit set, `n` and `i` as u64
/// little-endian. `k_i` commits to `R_i`, `A_i` and the message. Deterministic, so every
/// validator reaches the same verdict on the same batch, and fixed only after every item is: to
/// slip an invalid item through, a signer would have to find a batch whose coefficients
/// cancel its nonzero term, a 2^-127 event per try of SHA-512.
///
/// Why it agrees with [`verify_signed_bytes`]: each term `P_i = [8]([S_i]B - R_i - [k_i]A_i)` is
/// in the prime-order subgroup, and is the identity exactly when item `i` passes the single
/// check (given the encoding checks, which both paths apply). If every `P_i` is the identity, so
/// is `sum z_i P_i`. If some `P_j` is not, `sum z_i P_i` is the identity for at most one value of
/// `z_j` modulo `l` given the others, so for at most one of the 2^127 odd 128-bit values.
fn batch_equation(items: &[SignedBytes<'_>]) -> bool {
    let n = items.len();
    // Scalars and points of one multiscalar multiplication: -z_i for R_i, -z_i k_i for A_i, and
    // sum z_i S_i for B.
    let mut scalars: Vec<Scalar> = Vec::with_capacity(2 * n + 1);
    let mut points: Vec<EdwardsPoint> = Vec::with_capacity(2 * n + 1);
    let mut challenges: Vec<Scalar> = Vec::with_capacity(n);
    let mut s_values: Vec<Scalar> = Vec::with_capacity(n);
    let mut seed = Sha512::new();
    seed.update(BATCH_COEFFICIENTS_TAG);
    seed.update(u64::try_from(n).unwrap_or(u64::MAX).to_le_bytes());
    for item in items {
        let Some(s) = canonical_s(item.signature) else {
            return false;
        };
        let r_bytes = item.signature.r_bytes();
        let Ok(r) = decode_point_unchecked_torsion(&r_bytes) else {
            return false;
        };
        let k = challenge(&r_bytes, item.public_key, item.message);
        seed.update(k.as_bytes());
        seed.update(item.signature.as_bytes());
        seed.update(item.public_key.as_bytes());
        challenges.push(k);
        s_values.push(s);
        points.push(r);
    }
    let seed = seed.finalize();

    let mut b_scalar = Scalar::ZERO;
    let mut a_scalars: Vec<Scalar> = Vec::with_capacity(n);
    for (index, (k, s)) in challenges.iter().zip(&s_values).enumerate() {
        let mut hasher = Sha512::new();
        hasher.update(seed);
        hasher.update(u64::try_from(index).unwrap_or(u64::MAX).to_le_bytes());
        let digest = hasher.finalize();
        let mut z_bytes = [0u8; 32];
        z_bytes[..16].copy_from_slice(&digest[..16]);
        z_bytes[0] |= 1;
        let z = Scalar::from_bytes_mod_order(z_bytes);
        b_scalar += z * s;
        scalars.push(-z);
        a_scalars.push(-(z * k));
    }
    scalars.extend(a_scalars);
    for item in items {
        points.push(item.public_key.verifying_key().to_edwards());
    }
    scalars.push(b_scalar);
    points.push(ED25519_BASEPOINT_POINT);
    debug_assert_eq!(scalars.len(), points.len());
    EdwardsPoint::vartime_multiscalar_mul(scalars.iter(), points.iter())
        .mul_by_cofactor()
        .is_identity()
}
