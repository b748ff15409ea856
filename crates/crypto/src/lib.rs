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
//! [`verify`] checks 1 and 2, rejects small-order `R`, then calls ed25519-dalek's
//! `verify_strict`, which recomputes `[S]B - [k]A` and compares its canonical encoding with the
//! bytes of `R`. Because `A` (and `B`) are in the prime-order subgroup, that point is too, so an
//! `R` with a torsion component can never match: check 3 holds whenever the equation does, and
//! the (costly) torsion check of `R` only runs after a failure, to report
//! [`PointError::Torsion`] rather than [`SignatureError::Mismatch`].
//!
//! [`verify_batch`] checks 1, 2 and 3 for every item (the torsion check included: the batch
//! equation needs it), then calls ed25519-dalek's `verify_batch`. That function:
//!
//! - is deterministic: its coefficients `z_i` (128 bits each) come from a Merlin transcript of
//!   every `H(R||A||M)` and every `S`, with no outside randomness;
//! - is cofactorless: it checks `sum z_i (R_i + [k_i]A_i - [S_i]B) = 0` without multiplying by 8;
//! - by itself checks only that `S` is canonical and that `R` decodes. It accepts non-canonical
//!   encodings of `R` (it compares points, while `k` hashes the bytes) and small-order `R`, and
//!   a torsion component `T` of some `R_i` vanishes from the sum whenever `z_i` is a multiple of
//!   `T`'s order (half of the time for order 2). Each would be a signature that the batch accepts
//!   and `verify_strict` rejects; the per-item checks exclude all of them.
//!
//! With every point in the prime-order subgroup the two paths agree:
//!
//! - if every item satisfies the equation, every term of the sum is the identity, so the batch
//!   passes: never a false rejection;
//! - if some item does not, its term is a non-identity element of a group of prime order `l`,
//!   and the sum vanishes for at most one value of its `z_i` modulo `l`: the batch accepts with
//!   probability at most `2^-128`, and since the `z_i` are derived from all inputs, steering them
//!   takes about `2^128` hash evaluations.
//!
//! If the batch is rejected, every item is verified alone and the lowest failing index is
//! reported with the error that [`verify`] gives for it, so the error does not depend on the
//! path either. Should every item pass alone anyway (impossible, by the first point above),
//! [`verify_batch`] still rejects, with [`SignatureError::BatchInconsistent`], and debug builds
//! panic.
//!
//! Cost: the torsion check of `R` is a variable-base scalar multiplication (about 23 µs here),
//! which eats the batch's gain. Measured on the 2-core development machine, per signature:
//! [`verify`] about 42 µs (ed25519-dalek's `verify_strict` alone: 37 µs); [`verify_batch`]
//! about 42-47 µs for batches of 8 to 256 (ed25519-dalek's `verify_batch` alone: 13-18 µs). So
//! a batch costs about as much as verifying its items one by one; what it gives is one call with
//! the single check's exact semantics. A batch of one item is verified as a single signature.
//!
//! # No IO, no clock, no randomness
//!
//! [`SigningKey::generate`] takes the random generator as an argument; nothing else here reads
//! randomness (ed25519 signing is deterministic, and so is ed25519-dalek's batch verification).

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
