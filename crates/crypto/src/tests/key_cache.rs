//! The validated-key cache never changes what `PublicKey::from_bytes` accepts.

use courtledger_codec::{decode_exact, Encode as _};
use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
use curve25519_dalek::scalar::Scalar;

use crate::keys::key_cache;
use crate::{KeyError, PointError, PublicKey, SigningKey};

fn mixed_order_key(label: u8) -> [u8; 32] {
    let prime = ED25519_BASEPOINT_POINT * Scalar::from(1000u64 + u64::from(label));
    (prime + EIGHT_TORSION[1]).compress().to_bytes()
}

#[test]
fn a_bad_key_is_refused_every_time_and_never_cached() {
    for label in 0..4 {
        let bad = mixed_order_key(label);
        for _ in 0..3 {
            assert_eq!(
                PublicKey::from_bytes(&bad),
                Err(KeyError::InvalidPoint(PointError::Torsion))
            );
            assert!(decode_exact::<PublicKey>(&bad, 32).is_err());
            assert!(key_cache::get(&bad).is_none());
        }
    }
    let identity = {
        let mut bytes = [0u8; 32];
        bytes[0] = 1;
        bytes
    };
    for _ in 0..3 {
        assert_eq!(
            PublicKey::from_bytes(&identity),
            Err(KeyError::InvalidPoint(PointError::SmallOrder))
        );
    }
}

#[test]
fn a_good_key_is_cached_and_decodes_to_the_same_key() {
    let key = SigningKey::from_seed(&[42; 32]).public_key();
    let first = PublicKey::from_bytes(key.as_bytes()).unwrap();
    // Another test may evict the slot in between; the answer must not depend on it.
    let second = decode_exact::<PublicKey>(&key.to_bytes(), 32).unwrap();
    assert_eq!(first, key);
    assert_eq!(second, key);
    assert_eq!(first.verifying_key(), key.verifying_key());
    assert_eq!(second.verifying_key(), key.verifying_key());
    let mut encoded = Vec::new();
    second.encode_to(&mut encoded);
    assert_eq!(encoded, key.to_bytes().to_vec());
}

#[test]
fn keys_that_share_a_slot_evict_each_other_without_mixing_up() {
    // More valid keys than slots: every one must still decode to itself, cached or not, and a
    // bad key in between is still refused.
    let count = key_cache::SLOTS + 500;
    let keys: Vec<PublicKey> = (0..count)
        .map(|i| {
            let mut seed = [7u8; 32];
            seed[..8].copy_from_slice(&u64::try_from(i).unwrap().to_le_bytes());
            SigningKey::from_seed(&seed).public_key()
        })
        .collect();
    for round in 0..2 {
        for (i, key) in keys.iter().enumerate() {
            let decoded = PublicKey::from_bytes(key.as_bytes()).unwrap();
            assert_eq!(decoded.as_bytes(), key.as_bytes(), "round {round}, key {i}");
            assert_eq!(decoded.verifying_key(), key.verifying_key());
            if i % 1000 == 0 {
                assert!(PublicKey::from_bytes(&mixed_order_key(9)).is_err());
            }
        }
    }
}
