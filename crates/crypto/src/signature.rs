//! Signatures and their verification, one at a time or in batches, under one rule.

use core::fmt;
use core::str::FromStr;

use courtledger_codec::{Decode, DecodeError, Encode, Reader};
use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::IsIdentity;
use sha2::{Digest as _, Sha512};
use thiserror::Error;

use crate::digest::ChainId;
use crate::domain::{signing_message, Domain};
use crate::keys::{decode_point_unchecked_torsion, is_torsion_free, PointError, PublicKey};
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
    /// The encodings are acceptable but `[S]B != R + [k]A`: the signature is not by this key
    /// over these bytes (wrong key, message, domain or chain id, or a forgery).
    #[error("signature does not match the public key and message")]
    Mismatch,
    /// Never returned since [`verify_batch`] checks each item with [`verify`]'s check (it was:
    /// the batch equation failed although every signature verified alone). Kept so that
    /// matches on this error stay exhaustive.
    #[error("batch verification failed although every signature verified alone")]
    BatchInconsistent,
}

/// A signature whose encodings passed the cheap checks: `S` canonical; `R` on the curve,
/// canonically encoded, not of small order. Torsion-freeness of `R` is left to the caller.
struct Parsed {
    signature: ed25519_dalek::Signature,
    r: EdwardsPoint,
}

fn parse(signature: &Signature) -> Result<Parsed, SignatureError> {
    // ed25519-dalek checks this too, unless its `legacy_compatibility` feature is on (then it
    // accepts any S below 2^253). Checking here keeps the rule independent of that feature.
    if Option::<Scalar>::from(Scalar::from_canonical_bytes(signature.s_bytes())).is_none() {
        return Err(SignatureError::NonCanonicalS);
    }
    let r =
        decode_point_unchecked_torsion(&signature.r_bytes()).map_err(SignatureError::InvalidR)?;
    Ok(Parsed {
        signature: ed25519_dalek::Signature::from_bytes(&signature.0),
        r,
    })
}

/// Verifies `signature` over the exact bytes `message` (already domain-separated).
///
/// Accepts exactly when [`accepts`] does; a rejection is explained by [`rejection`], which checks
/// the rule step by step so that the error names the first rule the signature breaks.
pub(crate) fn verify_signed_bytes(
    public_key: &PublicKey,
    message: &[u8],
    signature: &Signature,
) -> Result<(), SignatureError> {
    if accepts(public_key, message, signature) {
        return Ok(());
    }
    Err(rejection(public_key, message, signature))
}

/// The verification rule, computed without decoding `R`: `S` is canonical, and the point
/// `R' = [S]B - [k]A` (with `k = SHA-512(R || A || M) mod l` over the given bytes) is not the
/// identity and its canonical encoding is exactly the bytes of `R`.
///
/// This is the rule of the crate documentation, not a variant of it. `A` is in the prime-order
/// subgroup (every [`PublicKey`] is), and so is `B`, hence so is `R'`. If `R'` encodes to the
/// bytes of `R`, those bytes decode to `R'` (decompression inverts compression), they are a
/// canonical encoding (compression only gives those), `R = R'` has no torsion component and,
/// not being the identity of a group of prime order, is not of small order, and the equation
/// `[S]B = R + [k]A` holds: every check of the rule passes. Conversely, if the rule accepts,
/// `R = R'`, so `R'` compresses to the (canonical) bytes of `R` and is not the identity.
///
/// Saves, against `verify_strict` after [`parse`], the two decompressions of `R` and the two
/// small-order checks: one variable-time double-base multiplication, one compression, one
/// SHA-512.
fn accepts(public_key: &PublicKey, message: &[u8], signature: &Signature) -> bool {
    let Some(s) = Option::<Scalar>::from(Scalar::from_canonical_bytes(signature.s_bytes())) else {
        return false;
    };
    let r_bytes = signature.r_bytes();
    let mut hasher = Sha512::new();
    hasher.update(r_bytes);
    hasher.update(public_key.as_bytes());
    hasher.update(message);
    let k = Scalar::from_bytes_mod_order_wide(&hasher.finalize().into());
    let minus_a = -public_key.verifying_key().to_edwards();
    let r = EdwardsPoint::vartime_double_scalar_mul_basepoint(&k, &minus_a, &s);
    !r.is_identity() && r.compress().to_bytes() == r_bytes
}

/// Why the rule rejects `signature`, which [`accepts`] rejected: the checks in the order of the
/// rule (`S`, then `R`'s encoding and order, then the equation, via ed25519-dalek's
/// `verify_strict`), each with its own error.
fn rejection(public_key: &PublicKey, message: &[u8], signature: &Signature) -> SignatureError {
    let parsed = match parse(signature) {
        Ok(parsed) => parsed,
        Err(error) => return error,
    };
    // `verify_strict` re-checks S, R's decoding and small order (all passed), then computes
    // [S]B - [k]A and compares its canonical encoding with R's bytes. With A in the prime-order
    // subgroup that point is in the subgroup too, so an R with a torsion component never passes:
    // the torsion check only names the error.
    match public_key
        .verifying_key()
        .verify_strict(message, &parsed.signature)
    {
        // Unreachable: `accepts` computes the same rule (see there). Reject all the same, so
        // that a signature is never accepted on one path and refused on another.
        Ok(()) => {
            debug_assert!(
                false,
                "verify_strict accepts a signature that `accepts` rejects"
            );
            SignatureError::Mismatch
        }
        Err(_) if !is_torsion_free(&parsed.r) => SignatureError::InvalidR(PointError::Torsion),
        Err(_) => SignatureError::Mismatch,
    }
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
/// Each item is checked with [`verify_signed_bytes`], the single check, so the batch accepts
/// exactly what single verification accepts by construction, and reports the lowest failing
/// index with its own error. ed25519-dalek's batch equation is not used: the rule needs a
/// torsion check of every `R` before it (a variable-base scalar multiplication, see
/// `is_torsion_free`), and with it a batch cost 43-50 µs per signature on the development
/// machine, against about 35 µs for the single check, which needs no decompression of `R`
/// (`docs/performance.md`).
pub(crate) fn verify_batch_signed_bytes(items: &[SignedBytes<'_>]) -> Result<(), BatchError> {
    for (index, item) in items.iter().enumerate() {
        verify_signed_bytes(item.public_key, item.message, item.signature)
            .map_err(|error| BatchError { index, error })?;
    }
    Ok(())
}
