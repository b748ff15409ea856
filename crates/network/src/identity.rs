//! Our keys as libp2p identities.

use courtledger_crypto::{PublicKey, SigningKey};
use libp2p::identity::{ed25519, Keypair};
use libp2p::PeerId;

use crate::NetworkError;

/// The libp2p keypair of a validator: its genesis ed25519 key.
pub(crate) fn keypair(key: &SigningKey) -> Result<Keypair, NetworkError> {
    // `ed25519_from_bytes` zeroes the buffer it is given.
    let mut seed = key.seed();
    Keypair::ed25519_from_bytes(&mut seed)
        .map_err(|error| NetworkError::Identity(error.to_string()))
}

/// The libp2p peer id of a validator key.
pub(crate) fn peer_id(key: &PublicKey) -> Result<PeerId, NetworkError> {
    let public = ed25519::PublicKey::try_from_bytes(key.as_bytes())
        .map_err(|error| NetworkError::Identity(format!("public key {key}: {error}")))?;
    Ok(libp2p::identity::PublicKey::from(public).to_peer_id())
}

#[cfg(test)]
mod tests {
    use courtledger_types::peer_id::peer_id_of;

    use super::*;

    #[test]
    fn libp2p_peer_ids_match_the_genesis_derivation() {
        for n in 0u8..=16 {
            let key = SigningKey::from_seed(&[n; 32]);
            let from_keypair = keypair(&key).unwrap().public().to_peer_id();
            let from_public = peer_id(&key.public_key()).unwrap();
            assert_eq!(from_keypair, from_public);
            assert_eq!(from_keypair.to_string(), peer_id_of(&key.public_key()));
        }
    }

    #[test]
    fn keypair_signs_as_the_genesis_key() {
        let key = SigningKey::from_seed(&[42; 32]);
        let keypair = keypair(&key).unwrap();
        let public = keypair.public().try_into_ed25519().unwrap();
        assert_eq!(&public.to_bytes(), key.public_key().as_bytes());
    }
}
