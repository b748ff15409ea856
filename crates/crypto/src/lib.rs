//! SHA-256 digests and domain-separated ed25519 signatures whose single and batch verification
//! agree exactly.
//!
//! Every validator verifies every signature, some one at a time ([`verify`]) and some in batches
//! ([`verify_batch`]). If the two could disagree on any input, an attacker could craft a signature
//! that some validators accept and others reject, and split consensus. ed25519 implementations
//! notoriously disagree on edge cases (Chalkias, Garillot, Nikolaenko, "Taming the many EdDSAs",
//! SSR 2020), and ed25519-dalek's own `verify_strict` and `verify_batch` do too. This crate fixes
//! one rule and checks it the same way on both paths.
//!
//! # What is signed
//!
//! A signature is an RFC 8032 ed25519 signature over
//! [`signing_message`]`(domain, chain_id, message)` =
//! `len(tag) as u8 || tag || chain_id (32 bytes) || message`, where the tag names the
//! [`Domain`] (`courtledger/v1/transaction`, ...). So a signature is valid for one purpose on one
//! chain only.
//!
//! # The verification rule
//!
//! Write `l` for the prime order of the base point `B`, `p = 2^255 - 19`. A signature (`R`: 32
//! bytes, then `S`: 32 bytes) by public key `A` over the signed bytes `M` is valid if and only if:
//!
//! 1. `S`, read little-endian, is less than `l`;
//! 2. `R` decodes to a point of the curve, and the bytes are that point's canonical encoding
//!    (`y < p`, and the sign bit clear when `x = 0`);
//! 3. `R` is not of small order (the identity included) and has no torsion component
//!    (`[l]R` is the identity): it is a non-identity point of the prime-order subgroup;
//! 4. `A` satisfies 2 and 3, which [`PublicKey::from_bytes`] guarantees for every [`PublicKey`];
//! 5. the *cofactorless* equation `[S]B = R + [k]A` holds, where
//!    `k = SHA-512(R || A || M) mod l` over the bytes of `R` and `A` as given (canonical by 2
//!    and 4).
//!
//! Where the rule stands among the variants: it is ed25519-dalek's `verify_strict` plus
//! canonical encodings and prime-order-subgroup membership of `A` and `R`. `verify_strict` by
//! itself rejects small-order `A` and `R` and (implicitly, see below) non-canonical or
//! mixed-order `R`, but accepts a mixed-order `A` and a non-canonical encoding of `A`
//! (`VerifyingKey::from_bytes` takes both; vector 3 of the twelve below is such a signature),
//! hence the checks in [`PublicKey::from_bytes`]. The rule rejects every one of the twelve
//! "Taming the many EdDSAs" vectors (their keys are small, mixed-order or non-canonical, or their
//! `S` is not reduced). Signatures by honest signers always pass it.
//!
//! # How each path checks it
//!
//! [`verify`] checks that `S` is canonical, computes `R' = [S]B - [k]A` with one variable-time
//! double-base multiplication (`A` is already decoded and validated, and cached: see
//! [`PublicKey::from_bytes`]), and accepts exactly when `R'` is not the identity and compresses
//! to the bytes of `R`. That is the rule above, not an approximation of it: `A` and `B` are in
//! the prime-order subgroup, so `R'` is too, and bytes that `R'` compresses to are a canonical
//! encoding of a point with no torsion component, of small order only if it is the identity;
//! conversely, when the rule accepts, `R = R'`. So `R` is never decompressed on the way to
//! acceptance. When the check fails, the rule is walked step by step (`S`; `R` on the curve,
//! canonical, not of small order; ed25519-dalek's `verify_strict`; the torsion of `R`) only to
//! name the first rule broken, as a [`SignatureError`].
//!
//! [`verify_batch`] runs that same check on every item and reports the lowest failing index
//! with [`verify`]'s error, so single and batch verification accept exactly the same
//! signatures by construction. It does not use ed25519-dalek's batch equation. That equation
//! (`sum z_i (R_i + [k_i]A_i - [S_i]B) = 0`, with deterministic 128-bit `z_i` from a Merlin
//! transcript) is cofactorless and, by itself, accepts non-canonical encodings of `R`,
//! small-order `R`, and `R` with a torsion component `T` whenever `z_i` is a multiple of `T`'s
//! order (half of the time for order 2): each would be a signature the batch accepts and the
//! single check refuses. Excluding them takes a torsion check of every `R` (a variable-base
//! scalar multiplication, about 23 µs) before the equation, which makes the batch slower than
//! checking the items one by one.
//!
//! Cost, measured on the 2-core development machine (release, per signature;
//! `cargo test --release -p courtledger-crypto --lib timing -- --ignored --nocapture`):
//! [`verify`] about 35 µs (ed25519-dalek's `verify_strict`: 39 µs; the former batch path, the
//! torsion checks and ed25519-dalek's batch equation: 43-48 µs for batches of 64 to 256).
//! Validating a public key costs about 30 µs when it is not in the cache, 0.03 µs when it is.
//! The way to a real batch speed-up is a cofactored rule for both paths (ADR 0002), which
//! changes which signatures are valid.
//!
//! # No IO, no clock, no randomness
//!
//! [`SigningKey::generate`] takes the random generator as an argument; nothing else here reads
//! randomness (ed25519 signing is deterministic, and so is verification). The key cache is
//! process-wide memory, bounded, and cannot change a result.

mod digest;
mod domain;
mod keys;
mod signature;
mod text;

pub use crate::digest::{sha256, ChainId, Digest, Sha256Hasher, DIGEST_LEN};
pub use crate::domain::{signing_message, Domain};
pub use crate::keys::{KeyError, PointError, PublicKey, SigningKey, PUBLIC_KEY_LEN};
pub use crate::signature::{
    verify, verify_batch, BatchError, BatchItem, Signature, SignatureError, SIGNATURE_LEN,
};
pub use crate::text::HexError;

#[cfg(test)]
mod tests;
