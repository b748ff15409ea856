//! Offline-verifiable proof bundles.
//!
//! A [`ProofBundle`] is one file that shows, to anyone holding the chain's genesis file and
//! nothing else, that a signed act is in a block the courts agreed on, and what its receipt
//! says: the signed transaction, its receipt, RFC 9162 inclusion proofs of both in the block's
//! trees, the block header and the commit certificate. The format (versions 1 and 2) is
//! specified byte for byte in `docs/proof-format.md`, with test vectors in `tests/vectors/`.
//! A version 2 bundle also carries a [`Checkpoint`]: a newer certified block and the
//! transaction's inclusion in that block's history log, so that one recent certificate covers
//! many old acts. A version 3 bundle carries the [`SetLink`]s that lead from the genesis
//! validator set to the set that signed the block (and the checkpoint, if it has one) after
//! validator-set changes: each link a signed change approved by the set before it, and the
//! certified last block of that set, which names the new set as the next one.
//!
//! [`verify()`] runs the checks in a fixed order and stops at the first that fails, naming it
//! ([`ProofError::check`]):
//!
//! 1. the bundle is well-formed: magic, version, bounds, no trailing bytes
//!    ([`ProofBundle::decode`]);
//! 2. the header's chain id is the genesis' chain id;
//! 3. the transaction's signature verifies under that chain id;
//! 4. its payload decodes as an act;
//! 5. the receipt, the two proofs and the header agree on the transaction id, height, position
//!    and tree size;
//! 6. the transaction id is in the header's `tx_root`;
//! 7. the receipt is in the header's `results_root`;
//! 8. (version 3) the set links hold, one by one from the genesis set ([`links::follow`]); then
//!    the header's `validators_hash` is the hash of the set in force at its height (the genesis
//!    set when no link activates at or below it);
//! 9. the certificate is for this height and header, and more than two thirds of that set's
//!    voting power signed it (valid, distinct signatures);
//! 10. to 13. (versions 2 and 3 with a checkpoint) the checkpoint is of this chain, not below
//!     the block, names the set in force at its height, is certified by it like the block, and
//!     its history log holds the transaction at the block's `log_size − tx_count + index`.
//!
//! [`CertifiedHeader`] is a header with its certificate alone: the checkpoint file an auditor
//! keeps to check later that the chain only grew from it.
//!
//! A failed act (receipt code other than 0) still verifies: the bundle then proves that the
//! attempt was committed and failed. [`describe`] puts the result in plain words.
//!
//! Pure: no IO, no clock, no randomness.

pub mod bundle;
pub mod describe;
pub mod head;
pub mod links;
pub mod verify;

pub use bundle::{
    AssembleError, Checkpoint, ProofBundle, FORMAT_VERSION, FORMAT_VERSION_CHECKPOINT,
    FORMAT_VERSION_SET_LINKS, MAGIC, MAX_PROOF_BUNDLE_V2_BYTES, MAX_PROOF_BUNDLE_V3_BYTES,
};
pub use head::{CertifiedHeader, VerifiedHead, HEAD_MAGIC};
pub use links::{SetChain, SetLink, VerifiedSetChange};
pub use verify::{
    verify, verify_bytes, verify_with, CertificateCache, Outcome, ProofError, Signer, Verified,
    VerifiedCheckpoint,
};
