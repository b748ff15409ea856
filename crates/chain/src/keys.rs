//! The state keys that the execution rules read and write.
//!
//! Every key starts with `v1/`, the version of the state layout, so that a later layout can live
//! beside this one during a migration. A key is a prefix naming a record kind, then a fixed-size
//! suffix (or none), so no key of one kind is a prefix of a key of another kind.
//!
//! | key | value |
//! |---|---|
//! | `v1/signer-count/` ‖ signer key (32 bytes) | `u64` BE: transactions the signer has committed |
//! | `v1/signer-nonce/` ‖ signer key (32 bytes) | `u64` BE: the highest nonce the signer has committed |
//! | `v1/log/frontier` | the log [`courtledger_merkle::Frontier`]'s canonical encoding |
//! | `v1/validators/pending` | the pending [`courtledger_types::SignedSetChange`]'s encoding |
//! | `v1/validators/active-count` | `u32` BE: validator-set changes activated so far |
//! | `v1/validators/active/` ‖ `u32` BE sequence number | the activated change's encoding |

use courtledger_crypto::PublicKey;

/// Prefix of a signer's transaction counter.
pub const SIGNER_COUNT_PREFIX: &[u8] = b"v1/signer-count/";

/// Prefix of a signer's highest committed nonce.
pub const SIGNER_NONCE_PREFIX: &[u8] = b"v1/signer-nonce/";

/// The key of the history log's frontier.
pub const LOG_FRONTIER: &[u8] = b"v1/log/frontier";

/// The key of the pending validator-set change.
pub const VALIDATORS_PENDING: &[u8] = b"v1/validators/pending";

/// The key of the number of activated validator-set changes.
pub const VALIDATORS_ACTIVE_COUNT: &[u8] = b"v1/validators/active-count";

/// Prefix of the activated validator-set changes.
pub const VALIDATORS_ACTIVE_PREFIX: &[u8] = b"v1/validators/active/";

/// `v1/validators/active/ || seq` (big-endian).
pub fn validators_active(seq: u32) -> Vec<u8> {
    let mut key = VALIDATORS_ACTIVE_PREFIX.to_vec();
    key.extend_from_slice(&seq.to_be_bytes());
    key
}

/// `v1/signer-count/ || signer`.
pub fn signer_count(signer: &PublicKey) -> Vec<u8> {
    with_prefix(SIGNER_COUNT_PREFIX, signer)
}

/// `v1/signer-nonce/ || signer`.
pub fn signer_nonce(signer: &PublicKey) -> Vec<u8> {
    with_prefix(SIGNER_NONCE_PREFIX, signer)
}

fn with_prefix(prefix: &[u8], signer: &PublicKey) -> Vec<u8> {
    let mut key = Vec::with_capacity(prefix.len() + signer.as_bytes().len());
    key.extend_from_slice(prefix);
    key.extend_from_slice(signer.as_bytes());
    key
}
