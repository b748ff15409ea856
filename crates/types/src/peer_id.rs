//! libp2p peer ids of validator keys, computed without libp2p.
//!
//! A validator's libp2p identity is its genesis ed25519 key, so its peer id follows from the key
//! alone (libp2p's peer-id spec): the protobuf `PublicKey { Type = Ed25519 (1), Data = key }`
//! is `08 01 12 20 || key` (36 bytes); keys of at most 42 encoded bytes use the identity
//! multihash `00 24 || protobuf`; the peer id is that multihash in base58btc (`12D3KooW…`).

use courtledger_crypto::PublicKey;

/// The libp2p peer id, in its base58 text form, of an ed25519 validator key.
pub fn peer_id_of(key: &PublicKey) -> String {
    let mut multihash = Vec::with_capacity(38);
    // Identity multihash code and digest length.
    multihash.extend_from_slice(&[0x00, 0x24]);
    // Protobuf: field 1 (key type) = 1 (Ed25519); field 2 (data) = 32 bytes.
    multihash.extend_from_slice(&[0x08, 0x01, 0x12, 0x20]);
    multihash.extend_from_slice(key.as_bytes());
    bs58::encode(multihash).into_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::key;

    #[test]
    fn known_form() {
        let id = peer_id_of(&key(1).public_key());
        assert!(id.starts_with("12D3KooW"), "{id}");
        assert_ne!(id, peer_id_of(&key(2).public_key()));
    }
}
