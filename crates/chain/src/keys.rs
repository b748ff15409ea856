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

use courtledger_crypto::PublicKey;

/// Prefix of a signer's transaction counter.
pub const SIGNER_COUNT_PREFIX: &[u8] = b"v1/signer-count/";

/// Prefix of a signer's highest committed nonce.
pub const SIGNER_NONCE_PREFIX: &[u8] = b"v1/signer-nonce/";

/// The key of the history log's frontier.
pub const LOG_FRONTIER: &[u8] = b"v1/log/frontier";

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
