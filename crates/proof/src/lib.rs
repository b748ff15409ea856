//! Offline-verifiable proof bundles.
//!
//! A [`ProofBundle`] is one file that shows, to anyone holding the chain's genesis file and
//! nothing else, that a signed act is in a block the courts agreed on, and what its receipt
//! says: the signed transaction, its receipt, RFC 9162 inclusion proofs of both in the block's
//! trees, the block header and the commit certificate. The format (version 1) is specified
//! byte for byte in `docs/proof-format.md`, with test vectors in `tests/vectors/`.
//!
//! [`verify`] runs the checks in a fixed order and stops at the first that fails, naming it
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
//! 8. the header's `validators_hash` is the genesis validator set's hash;
//! 9. the certificate is for this height and header, and more than two thirds of the genesis
//!    set's voting power signed it (valid, distinct signatures).
//!
//! A failed act (receipt code other than 0) still verifies: the bundle then proves that the
//! attempt was committed and failed. [`describe`] puts the result in plain words.
//!
//! Pure: no IO, no clock, no randomness.

pub mod bundle;
pub mod describe;
pub mod verify;

pub use bundle::{AssembleError, ProofBundle, FORMAT_VERSION, MAGIC};
pub use verify::{verify, verify_bytes, Outcome, ProofError, Signer, Verified};
