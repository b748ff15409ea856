//! Signatures and their verification, one at a time or in batches, under one rule.

use core::fmt;
use core::str::FromStr;

use courtledger_codec::{Decode, DecodeError, Encode, Reader};
use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::scalar::Scalar;
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
    /// Only from [`verify_batch`]: the batch equation failed although every signature verified
    /// alone. The verification rule makes this impossible; it is reported instead of accepting.
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
pub(crate) fn verify_signed_bytes(
    public_key: &PublicKey,
    message: &[u8],
    signature: &Signature,
) -> Result<(), SignatureError> {
    let parsed = parse(signature)?;
    // `verify_strict` re-checks S, R's decoding and small order (all passed), then computes
    // [S]B - [k]A and compares its canonical encoding with R's bytes. With A in the prime-order
    // subgroup that point is in the subgroup too, so an R with a torsion component never passes:
    // the torsion check is needed only to name the error, and is skipped on success.
    match public_key
        .verifying_key()
        .verify_strict(message, &parsed.signature)
    {
        Ok(()) => Ok(()),
        Err(_) if !is_torsion_free(&parsed.r) => Err(SignatureError::InvalidR(PointError::Torsion)),
        Err(_) => Err(SignatureError::Mismatch),
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
    /// What [`verify`] reports for that signature (or [`SignatureError::BatchInconsistent`],
    /// with index 0, in the case that cannot happen).
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
pub(crate) fn verify_batch_signed_bytes(items: &[SignedBytes<'_>]) -> Result<(), BatchError> {
    match items {
        [] => return Ok(()),
        // A batch of one is accepted exactly when the item verifies alone; skip the batch
        // machinery, which would cost a torsion check on top.
        [item] => {
            return verify_signed_bytes(item.public_key, item.message, item.signature)
                .map_err(|error| BatchError { index: 0, error });
        }
        _ => {}
    }
    if batch_equation_holds(items) {
        return Ok(());
    }
    // Something is wrong: find the lowest index that fails alone, with its own error.
    let failure = items.iter().enumerate().find_map(|(index, item)| {
        verify_signed_bytes(item.public_key, item.message, item.signature)
            .err()
            .map(|error| BatchError { index, error })
    });
    debug_assert!(
        failure.is_some(),
        "batch equation failed although every signature verified alone"
    );
    Err(failure.unwrap_or(BatchError {
        index: 0,
        error: SignatureError::BatchInconsistent,
    }))
}

/// The per-item checks of the rule, then ed25519-dalek's batch equation. `false` if any check
/// fails; the caller then finds out which item is at fault.
fn batch_equation_holds(items: &[SignedBytes<'_>]) -> bool {
    let mut signatures = Vec::with_capacity(items.len());
    let mut keys = Vec::with_capacity(items.len());
    let mut messages = Vec::with_capacity(items.len());
    for item in items {
        let Ok(parsed) = parse(item.signature) else {
            return false;
        };
        // Unlike the single check, the batch equation does not reject a torsion component in R
        // by itself: ed25519-dalek sums z_i * (R_i + [k_i]A_i - [S_i]B) with 128-bit z_i and does
        // not multiply by the cofactor, so a torsion point T in R_i vanishes when z_i is a
        // multiple of T's order (half of the time for order 2). Require R in the subgroup.
        if !is_torsion_free(&parsed.r) {
            return false;
        }
        signatures.push(parsed.signature);
        keys.push(*item.public_key.verifying_key());
        messages.push(item.message);
    }
    ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok()
}
