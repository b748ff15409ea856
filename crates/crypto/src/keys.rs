//! Public keys, signing keys and the point checks they share with signature verification.

use core::cmp::Ordering;
use core::fmt;
use core::hash::{Hash, Hasher};
use core::str::FromStr;

use courtledger_codec::{Decode, DecodeError, Encode, Reader};
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::IsIdentity;
use ed25519_dalek::Signer as _;
use thiserror::Error;

use crate::digest::ChainId;
use crate::domain::{signing_message, Domain};
use crate::signature::Signature;
use crate::text::{self, HexError};

/// Length of an encoded public key in bytes.
pub const PUBLIC_KEY_LEN: usize = 32;

/// Why 32 bytes are not an acceptable curve point (a public key `A` or a signature's `R`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Error)]
pub enum PointError {
    /// The bytes do not encode a point of the curve: no `x` exists for that `y`.
    #[error("not a point on the curve")]
    NotOnCurve,
    /// The bytes decode to a point, but are not that point's canonical encoding (`y >= p`, or
    /// the sign bit set for `x = 0`).
    #[error("non-canonical point encoding")]
    NonCanonical,
    /// The point has order dividing 8 (the identity included).
    #[error("point of small order")]
    SmallOrder,
    /// The point has a non-zero torsion component: it is not in the prime-order subgroup.
    #[error("point is not in the prime-order subgroup")]
    Torsion,
}

impl PointError {
    /// A fixed description, for [`DecodeError::Invalid`].
    pub fn reason(self) -> &'static str {
        match self {
            PointError::NotOnCurve => "not a point on the curve",
            PointError::NonCanonical => "non-canonical point encoding",
            PointError::SmallOrder => "point of small order",
            PointError::Torsion => "point is not in the prime-order subgroup",
        }
    }
}

/// Why a public key was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KeyError {
    /// The text is not 64 hex characters.
    #[error("public key is not valid hex: {0}")]
    Hex(#[from] HexError),
    /// The bytes are not an acceptable point.
    #[error("invalid public key: {0}")]
    InvalidPoint(PointError),
}

/// Whether `bytes` is the encoding that `compress` gives for the point it decodes to, if any.
///
/// `decompress` reads `y` (the low 255 bits) modulo `p = 2^255 - 19` and takes the top bit as the
/// sign of `x`, even when `x = 0`. So exactly two kinds of strings decode to a point whose
/// canonical encoding differs: `y >= p`, and the sign bit set with `x = 0`, which happens for
/// `y = 1` and `y = p - 1` only. Equivalent to `point.compress() == bytes` (checked against it in
/// the tests) without the field inversion that `compress` costs.
pub(crate) fn is_canonical_encoding(bytes: &[u8; 32]) -> bool {
    let sign_bit_set = bytes[31] & 0x80 != 0;
    let mut y = *bytes;
    y[31] &= 0x7f;
    // p = 0x7fff..ffed: little-endian ed ff .. ff 7f.
    let top_bits_all_ones = y[1..31].iter().all(|&b| b == 0xff) && y[31] == 0x7f;
    if top_bits_all_ones && y[0] >= 0xed {
        return false; // y >= p
    }
    if sign_bit_set {
        let y_is_one = y[0] == 1 && y[1..].iter().all(|&b| b == 0);
        let y_is_minus_one = top_bits_all_ones && y[0] == 0xec;
        if y_is_one || y_is_minus_one {
            return false; // x = 0 with the sign bit set
        }
    }
    true
}

/// Decodes `bytes` as a point, checking everything except torsion-freeness: on the curve,
/// canonical encoding, not of small order.
pub(crate) fn decode_point_unchecked_torsion(bytes: &[u8; 32]) -> Result<EdwardsPoint, PointError> {
    let point = CompressedEdwardsY(*bytes)
        .decompress()
        .ok_or(PointError::NotOnCurve)?;
    if !is_canonical_encoding(bytes) {
        return Err(PointError::NonCanonical);
    }
    if point.is_small_order() {
        return Err(PointError::SmallOrder);
    }
    Ok(point)
}

/// Whether `point` lies in the prime-order subgroup, i.e. `[l]P` is the identity.
///
/// Computed as `[l - 1]P + P` with a variable-time multiplication (all points checked here are
/// public): about 23 µs against 29 µs for curve25519-dalek's constant-time `is_torsion_free`,
/// whose result it matches (see the tests). `-Scalar::ONE` is the canonical scalar `l - 1`, so
/// no unreduced scalar is needed.
pub(crate) fn is_torsion_free(point: &EdwardsPoint) -> bool {
    let l_minus_one_times_p =
        EdwardsPoint::vartime_double_scalar_mul_basepoint(&-Scalar::ONE, point, &Scalar::ZERO);
    (l_minus_one_times_p + point).is_identity()
}

/// Decodes `bytes` as a point and applies every check of the verification rule: on the curve,
/// canonical encoding, not of small order, in the prime-order subgroup.
pub(crate) fn decode_point(bytes: &[u8; 32]) -> Result<EdwardsPoint, PointError> {
    let point = decode_point_unchecked_torsion(bytes)?;
    if !is_torsion_free(&point) {
        return Err(PointError::Torsion);
    }
    Ok(point)
}

/// An ed25519 public key that passed every check of the verification rule: canonically encoded,
/// on the curve, not of small order, and in the prime-order subgroup.
///
/// Such a key cannot be constructed otherwise, so holding a `PublicKey` is proof of those checks.
/// Compared, ordered and hashed by its bytes. Shown and parsed as 64 hex characters; encoded as
/// its 32 bytes, and decoding applies the same checks as [`PublicKey::from_bytes`].
#[derive(Clone, Copy)]
pub struct PublicKey {
    bytes: [u8; PUBLIC_KEY_LEN],
    key: ed25519_dalek::VerifyingKey,
}

impl PublicKey {
    /// Validates and parses an encoded public key.
    ///
    /// The result depends on the bytes alone. Keys that passed are remembered in a small
    /// bounded cache ([`key_cache`]), so decoding a key seen recently (a signer's key in every
    /// transaction, block and identity record) costs a lookup instead of the ~35 µs of the
    /// subgroup check; a key that fails is never cached and is checked in full every time.
    pub fn from_bytes(bytes: &[u8; PUBLIC_KEY_LEN]) -> Result<Self, KeyError> {
        if let Some(key) = key_cache::get(bytes) {
            return Ok(Self { bytes: *bytes, key });
        }
        let key = Self::validate(bytes)?;
        key_cache::insert(bytes, &key);
        Ok(Self { bytes: *bytes, key })
    }

    /// The full checks of [`PublicKey::from_bytes`], without the cache.
    fn validate(bytes: &[u8; PUBLIC_KEY_LEN]) -> Result<ed25519_dalek::VerifyingKey, KeyError> {
        decode_point(bytes).map_err(KeyError::InvalidPoint)?;
        // The point is canonical, so `from_bytes` decodes it to the same point and cannot fail;
        // map an error anyway rather than panic.
        ed25519_dalek::VerifyingKey::from_bytes(bytes)
            .map_err(|_| KeyError::InvalidPoint(PointError::NotOnCurve))
    }

    /// The encoded key.
    pub fn to_bytes(&self) -> [u8; PUBLIC_KEY_LEN] {
        self.bytes
    }

    /// The encoded key.
    pub fn as_bytes(&self) -> &[u8; PUBLIC_KEY_LEN] {
        &self.bytes
    }

    pub(crate) fn verifying_key(&self) -> &ed25519_dalek::VerifyingKey {
        &self.key
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}

impl Eq for PublicKey {}

impl PartialOrd for PublicKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for PublicKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.bytes.cmp(&other.bytes)
    }
}

impl Hash for PublicKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.bytes.hash(state);
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        text::write(f, &self.bytes)
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        text::write(f, &self.bytes)
    }
}

impl FromStr for PublicKey {
    type Err = KeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_bytes(&text::parse(s)?)
    }
}

impl Encode for PublicKey {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.bytes);
    }
}

impl Decode for PublicKey {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let bytes = reader.array("public key")?;
        Self::from_bytes(&bytes).map_err(|error| DecodeError::Invalid {
            what: "public key",
            reason: match error {
                KeyError::InvalidPoint(point) => point.reason(),
                KeyError::Hex(_) => "invalid public key",
            },
        })
    }
}

/// A bounded cache of public keys that passed [`PublicKey::from_bytes`]'s checks.
///
/// Validation is a pure function of the 32 bytes, so answering from the cache cannot change a
/// result: an entry is only ever written for bytes that passed the full checks, and is returned
/// only for the identical 32 bytes (compared in full, never by hash). Keys that fail are not
/// cached, so a bad key is refused with its full check every time.
///
/// Two-way set-associative with least-recently-used replacement: [`SLOTS`](key_cache::SLOTS)
/// entries in buckets of two, each entry a key and its decoded point. Memory is fixed (about
/// 1.9 MB, touched as used), and the worst case — keys chosen to collide, or more live keys
/// than entries — is a miss, i.e. the cost of validating without a cache. Each bucket has its
/// own lock, taken with `try_lock`: a thread never waits for another; on contention it
/// validates without the cache.
///
/// No IO, no clock, no randomness: the bucket is a fixed mix of the key's bytes.
pub(crate) mod key_cache {
    use std::sync::Mutex;

    use super::PUBLIC_KEY_LEN;

    /// Number of entries (a power of two).
    pub(crate) const SLOTS: usize = 8192;
    const BUCKETS: usize = SLOTS / 2;

    type Entry = Option<([u8; PUBLIC_KEY_LEN], ed25519_dalek::VerifyingKey)>;
    /// The most recently used entry first.
    type Bucket = Mutex<[Entry; 2]>;

    static CACHE: [Bucket; BUCKETS] = [const { Mutex::new([None, None]) }; BUCKETS];

    fn bucket(bytes: &[u8; PUBLIC_KEY_LEN]) -> &'static Bucket {
        // An honest key's bytes are uniformly distributed; fold all of them in anyway.
        let mut mix = 0u64;
        for chunk in bytes.chunks_exact(8) {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            mix = (mix ^ u64::from_le_bytes(word)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
        let index = usize::try_from(mix >> 32).unwrap_or(0) % BUCKETS;
        &CACHE[index]
    }

    /// The decoded key for `bytes`, if these exact bytes passed validation and are still cached.
    pub(crate) fn get(bytes: &[u8; PUBLIC_KEY_LEN]) -> Option<ed25519_dalek::VerifyingKey> {
        let mut entries = bucket(bytes).try_lock().ok()?;
        match &*entries {
            [Some((cached, key)), _] if cached == bytes => Some(*key),
            [_, Some((cached, key))] if cached == bytes => {
                let key = *key;
                entries.swap(0, 1);
                Some(key)
            }
            _ => None,
        }
    }

    /// Remembers `key`, which passed validation, for `bytes`, evicting the bucket's least
    /// recently used entry.
    pub(crate) fn insert(bytes: &[u8; PUBLIC_KEY_LEN], key: &ed25519_dalek::VerifyingKey) {
        if let Ok(mut entries) = bucket(bytes).try_lock() {
            entries[1] = entries[0].take();
            entries[0] = Some((*bytes, *key));
        }
    }
}

/// An ed25519 signing key (the 32-byte seed of RFC 8032).
///
/// `Debug` shows only the public key. The seed is wiped from memory when the key is dropped.
#[derive(Clone)]
pub struct SigningKey {
    inner: ed25519_dalek::SigningKey,
    public: PublicKey,
}

impl SigningKey {
    /// The signing key with this seed.
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Self::from_dalek(ed25519_dalek::SigningKey::from_bytes(seed))
    }

    /// A new signing key from 32 bytes of `rng` (what ed25519-dalek's own `generate` does,
    /// without tying callers to the `rand_core` version it uses).
    pub fn generate<R: rand_core::CryptoRngCore + ?Sized>(rng: &mut R) -> Self {
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        Self::from_seed(&seed)
    }

    fn from_dalek(inner: ed25519_dalek::SigningKey) -> Self {
        let verifying_key = inner.verifying_key();
        // The key is [s]B for a clamped s, which is never 0 modulo l: a multiple of B, so in the
        // prime-order subgroup and not the identity. No check is needed.
        let public = PublicKey {
            bytes: verifying_key.to_bytes(),
            key: verifying_key,
        };
        Self { inner, public }
    }

    /// The seed, for writing a key file. Handle with care.
    pub fn seed(&self) -> [u8; 32] {
        self.inner.to_bytes()
    }

    /// The public key.
    pub fn public_key(&self) -> PublicKey {
        self.public
    }

    /// Signs `message` for `domain` on the chain `chain_id`: an RFC 8032 ed25519 signature over
    /// [`signing_message`]`(domain, chain_id, message)`. Deterministic.
    pub fn sign(&self, domain: Domain, chain_id: &ChainId, message: &[u8]) -> Signature {
        let signed = signing_message(domain, chain_id, message);
        Signature(self.inner.sign(&signed).to_bytes())
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("public_key", &self.public)
            .finish_non_exhaustive()
    }
}
