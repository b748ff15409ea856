//! SHA-256 digests and domain-separated ed25519 signatures, verified one at a time or in batches
//! under one rule.
//!
//! Every validator verifies every signature, some one at a time ([`verify`]) and some in batches
//! ([`verify_batch`]). If the two could disagree on any input, an attacker could craft a signature
//! that some validators accept and others reject, and split consensus. ed25519 implementations
//! notoriously disagree on edge cases (Chalkias, Garillot, Nikolaenko, "Taming the many EdDSAs",
//! SSR 2020), and ed25519-dalek's own `verify_strict` and `verify_batch` do too. This crate fixes
//! one rule and checks it on both paths.
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
//! 3. `R` is not of small order (the identity included);
//! 4. `A` is the canonical encoding of a point of the prime-order subgroup other than the
//!    identity, which [`PublicKey::from_bytes`] guarantees for every [`PublicKey`];
//! 5. the *cofactored* equation `[8]([S]B - R - [k]A) = 0` holds, where
//!    `k = SHA-512(R || A || M) mod l` over the bytes of `R` and `A` as given.
//!
//! This is RFC 8032's verification (which allows the cofactored equation) with canonical
//! encodings required, small-order `R` refused and the strict key checks of
//! [`PublicKey::from_bytes`]; it accepts a subset of what ZIP-215 accepts (ZIP-215 also takes
//! non-canonical encodings and small-order keys). ADR 0005 (`docs/adr/`) records why it replaced
//! the cofactorless rule of ADR 0002 in session 4: only a cofactored equation lets a batch check
//! agree with the single check without a scalar multiplication per `R`.
//!
//! What it means for the signatures accepted: every signature that an honest signer makes passes
//! (its `R = [r]B` has no torsion component), and so does every signature that the former
//! cofactorless rule accepted, since `[S]B - R - [k]A = 0` implies the cofactored equation. In
//! addition, a signer may make signatures whose `R` carries a torsion component (`R = [r]B + T`,
//! `S = r + k a`); they are valid here and were not under ADR 0002. Nobody else can: changing
//! `R`'s bytes changes `k`, so a signature cannot be altered into another valid one without the
//! secret key (the cofactored, canonical-`S` scheme is strongly unforgeable: Brendel, Cremers,
//! Jackson and Zhao, "The provable security of Ed25519: theory and practice", IEEE S&P 2021),
//! and with small-order keys refused a signature binds its key and its message (same paper). The twelve
//! "Taming the many EdDSAs" vectors (Chalkias, Garillot, Nikolaenko, SSR 2020) are all still
//! rejected: their keys are small, mixed-order or non-canonical, or their `S` is not reduced.
//!
//! # How each path checks it
//!
//! [`verify`] checks that `S` is canonical and computes `R' = [S]B - [k]A` with one
//! variable-time double-base multiplication (`A` is already decoded and validated, and cached:
//! see [`PublicKey::from_bytes`]). An honest signature has `R = R'`: when `R'` is not the
//! identity and compresses to exactly the bytes of `R`, every check of the rule passes (`R'` is in
//! the prime-order subgroup, as `A` and `B` are, so the bytes are canonical and not of small
//! order, and the equation holds with nothing left over), and `R` is never decompressed.
//! Otherwise `R` is decoded with checks 2 and 3 and `[8](R' - R) = 0` decides.
//!
//! [`verify_batch`] checks `[8] sum_i z_i ([S_i]B - R_i - [k_i]A_i) = 0` with one multiscalar
//! multiplication, after checks 1-3 on every item, with 128-bit coefficients `z_i` derived by
//! SHA-512 from the whole batch (deterministic: every validator reaches the same verdict). If
//! every item passes the single check, each term is the identity and so is the sum: the batch is
//! accepted. If some item does not, its term is a point of order `l` and the sum is the identity
//! for at most one of the 2^127 possible values of its coefficient: the batch is refused except
//! with probability 2^-127, and then the items are checked one by one, so the reported failure
//! is [`verify`]'s error for the lowest failing index. Single and batch verification therefore
//! accept the same signatures, up to that probability, which no signer can raise without
//! 2^127 SHA-512 evaluations. (ed25519-dalek's own `verify_batch` is not used: its equation is
//! cofactorless, so its verdict on a torsion component of `R` depends on the coefficients, which
//! is exactly the disagreement this crate exists to prevent.)
//!
//! Cost, measured on the 2-core development machine (release, per signature;
//! `cargo test --release -p courtledger-crypto --lib timing -- --ignored --nocapture`):
//! [`verify`] about 35 µs, [`verify_batch`] about 18 µs in batches of 16 to 64 and 12 µs from
//! 256 up (`R`'s decompression and the multiscalar multiplication, on curve25519-dalek's
//! AVX-512 IFMA backend where the CPU has it), ed25519-dalek's `verify_strict` about 39 µs.
//! Validating a public key costs about 30 µs when it is not in the cache, 0.03 µs when it is.

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
