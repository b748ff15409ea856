//! Domain-separated hashing of canonical encodings.
//!
//! Every digest that names something (a transaction, a block, a validator set, a chain) is
//! `SHA-256(len(tag) as u8 || tag || canonical bytes)`, with one tag per kind of thing, so that
//! bytes of one kind can never be mistaken for another's. Merkle trees use RFC 9162's own
//! `0x00`/`0x01` prefixes instead (see `courtledger_merkle`).

use courtledger_crypto::{Digest, Sha256Hasher};

/// The kinds of things that are named by a hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashTag {
    /// A signed transaction's id.
    Transaction,
    /// A block header's id.
    BlockHeader,
    /// A validator set's hash.
    ValidatorSet,
    /// The genesis hash, which is the chain id.
    Genesis,
    /// The identity id of a registrar listed in genesis (hash of its public key).
    GenesisIdentity,
}

impl HashTag {
    /// The tag's bytes.
    pub fn tag(self) -> &'static [u8] {
        match self {
            HashTag::Transaction => b"courtledger/v1/tx-id",
            HashTag::BlockHeader => b"courtledger/v1/block-id",
            HashTag::ValidatorSet => b"courtledger/v1/validator-set",
            HashTag::Genesis => b"courtledger/v1/genesis",
            HashTag::GenesisIdentity => b"courtledger/v1/genesis-identity",
        }
    }
}

/// `SHA-256(len(tag) || tag || bytes)`.
pub fn tagged_hash(tag: HashTag, bytes: &[u8]) -> Digest {
    let mut hasher = tagged_hasher(tag);
    hasher.update(bytes);
    hasher.finalize()
}

/// A hasher that has seen `len(tag) || tag`: feeding it `bytes` and finalizing gives
/// [`tagged_hash`]`(tag, bytes)`, for bytes that are not in one slice.
pub fn tagged_hasher(tag: HashTag) -> Sha256Hasher {
    let tag = tag.tag();
    let tag_len = u8::try_from(tag.len()).expect("hash tags are short constants");
    let mut hasher = Sha256Hasher::new();
    hasher.update(&[tag_len]);
    hasher.update(tag);
    hasher
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_distinct() {
        let tags = [
            HashTag::Transaction,
            HashTag::BlockHeader,
            HashTag::ValidatorSet,
            HashTag::Genesis,
            HashTag::GenesisIdentity,
        ];
        for (i, a) in tags.iter().enumerate() {
            for b in &tags[i + 1..] {
                assert_ne!(tagged_hash(*a, b"x"), tagged_hash(*b, b"x"));
            }
        }
    }

    #[test]
    fn golden() {
        assert_eq!(
            tagged_hash(HashTag::Transaction, b"").to_string(),
            courtledger_crypto::sha256(b"\x14courtledger/v1/tx-id").to_string()
        );
    }
}
