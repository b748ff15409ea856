//! Transactions: one signed act of one person.
//!
//! The envelope is fixed here; the act inside (`payload`) is the canonical encoding of an act
//! whose schema belongs to the judicial ledger. The signature covers
//! `Domain::Transaction || chain id || encode(Transaction)`, so a transaction signed for one chain
//! is worthless on any other.

use courtledger_codec::{decode_exact, Decode, DecodeError, Encode, Reader};
use courtledger_crypto::{
    verify, BatchItem, ChainId, Digest, Domain, PublicKey, Signature, SignatureError, SigningKey,
};

use crate::hashing::{tagged_hasher, HashTag};
use crate::limits::{MAX_TX_BYTES, MAX_TX_PAYLOAD_BYTES};

/// A transaction's id: `tagged_hash(Transaction, encode(SignedTransaction))`.
pub type TxId = Digest;

/// What the signer signs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// Who acts. The ledger checks that this key belongs to a registered, unrevoked identity.
    pub signer: PublicKey,
    /// Chosen by the signer so that two otherwise identical acts have distinct ids.
    pub nonce: u64,
    /// The canonical encoding of the act, at most [`MAX_TX_PAYLOAD_BYTES`].
    pub payload: Vec<u8>,
}

impl Transaction {
    /// Signs the transaction for `chain_id`.
    ///
    /// # Panics
    /// If `key` is not the signer's key: signing someone else's transaction is a bug.
    pub fn sign(self, key: &SigningKey, chain_id: &ChainId) -> SignedTransaction {
        assert_eq!(
            key.public_key(),
            self.signer,
            "signing a transaction with another key"
        );
        let signature = key.sign(Domain::Transaction, chain_id, &self.to_bytes());
        SignedTransaction {
            tx: self,
            signature,
        }
    }
}

/// Length of a [`Transaction`]'s encoding before its payload: signer key, nonce, payload length.
const TX_HEAD_BYTES: usize = 32 + 8 + 4;

impl Transaction {
    /// The encoding's fixed-size head: `[32] signer, u64 nonce, u32 payload length`. The payload
    /// follows it.
    fn encoded_head(&self) -> [u8; TX_HEAD_BYTES] {
        let len = u32::try_from(self.payload.len())
            .expect("encoded length exceeds u32: a limit was not enforced");
        let mut head = [0u8; TX_HEAD_BYTES];
        head[..32].copy_from_slice(self.signer.as_bytes());
        head[32..40].copy_from_slice(&self.nonce.to_be_bytes());
        head[40..].copy_from_slice(&len.to_be_bytes());
        head
    }
}

impl Encode for Transaction {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.reserve(TX_HEAD_BYTES + self.payload.len());
        out.extend_from_slice(&self.encoded_head());
        out.extend_from_slice(&self.payload);
    }
}

impl Decode for Transaction {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            signer: PublicKey::decode_from(reader)?,
            nonce: reader.u64("transaction nonce")?,
            payload: reader.byte_vec("transaction payload", MAX_TX_PAYLOAD_BYTES)?,
        })
    }
}

/// A transaction with its signer's signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedTransaction {
    /// The signed content.
    pub tx: Transaction,
    /// ed25519 over `Domain::Transaction || chain id || encode(tx)`.
    pub signature: Signature,
}

impl SignedTransaction {
    /// Decodes a signed transaction from untrusted bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode_exact(bytes, usize::try_from(MAX_TX_BYTES).unwrap_or(usize::MAX))
    }

    /// The transaction's id.
    pub fn id(&self) -> TxId {
        // The bytes of `encode(self)`, fed to the hash as they lie instead of copied into one
        // buffer first.
        let mut hasher = tagged_hasher(HashTag::Transaction);
        hasher
            .update(&self.tx.encoded_head())
            .update(&self.tx.payload)
            .update(self.signature.as_bytes());
        hasher.finalize()
    }

    /// The bytes that the signature covers, without the domain and chain id.
    pub fn signed_bytes(&self) -> Vec<u8> {
        self.tx.to_bytes()
    }

    /// Checks the signature alone (not whether the signer may act: that is the ledger's job).
    pub fn verify_signature(&self, chain_id: &ChainId) -> Result<(), SignatureError> {
        verify(
            &self.tx.signer,
            Domain::Transaction,
            chain_id,
            &self.signed_bytes(),
            &self.signature,
        )
    }

    /// A batch-verification item for this transaction; `message` must be
    /// [`Self::signed_bytes`], kept alive by the caller.
    pub fn batch_item<'a>(&'a self, chain_id: &'a ChainId, message: &'a [u8]) -> BatchItem<'a> {
        debug_assert_eq!(message, self.signed_bytes().as_slice());
        BatchItem {
            public_key: &self.tx.signer,
            domain: Domain::Transaction,
            chain_id,
            message,
            signature: &self.signature,
        }
    }
}

impl Encode for SignedTransaction {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.reserve(TX_HEAD_BYTES + self.tx.payload.len() + self.signature.as_bytes().len());
        self.tx.encode_to(out);
        self.signature.encode_to(out);
    }
}

impl Decode for SignedTransaction {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            tx: Transaction::decode_from(reader)?,
            signature: Signature::decode_from(reader)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{check_golden, check_golden_text, golden_chain_id, key};
    use proptest::prelude::*;

    fn sample() -> SignedTransaction {
        Transaction {
            signer: key(1).public_key(),
            nonce: 42,
            payload: b"act".to_vec(),
        }
        .sign(&key(1), &golden_chain_id())
    }

    #[test]
    fn round_trip_and_signature() {
        let tx = sample();
        let bytes = tx.to_bytes();
        assert_eq!(SignedTransaction::decode(&bytes), Ok(tx.clone()));
        assert_eq!(tx.verify_signature(&golden_chain_id()), Ok(()));
        let other_chain = ChainId(courtledger_crypto::sha256(b"other chain"));
        assert!(tx.verify_signature(&other_chain).is_err());
        let mut tampered = tx.clone();
        tampered.tx.nonce += 1;
        assert!(tampered.verify_signature(&golden_chain_id()).is_err());
    }

    #[test]
    fn decode_is_bounded_and_strict() {
        let mut bytes = sample().to_bytes();
        bytes.push(0);
        assert_eq!(
            SignedTransaction::decode(&bytes),
            Err(DecodeError::TrailingBytes { count: 1 })
        );
        let huge = vec![0u8; usize::try_from(MAX_TX_BYTES).unwrap() + 1];
        assert!(matches!(
            SignedTransaction::decode(&huge),
            Err(DecodeError::InputTooLarge { .. })
        ));
    }

    proptest! {
        /// The id hashes exactly the transaction's encoding, which is its fixed-size head, the
        /// payload and the signature.
        #[test]
        fn id_is_the_tagged_hash_of_the_encoding(
            seed in any::<u8>(),
            nonce in any::<u64>(),
            payload in proptest::collection::vec(any::<u8>(), 0..600),
            signature in proptest::collection::vec(any::<u8>(), 64),
        ) {
            let tx = SignedTransaction {
                tx: Transaction { signer: key(seed).public_key(), nonce, payload },
                signature: Signature(signature.try_into().expect("64 bytes")),
            };
            let bytes = tx.to_bytes();
            let payload_end = TX_HEAD_BYTES + tx.tx.payload.len();
            prop_assert_eq!(bytes.len(), payload_end + 64);
            prop_assert_eq!(&bytes[TX_HEAD_BYTES..payload_end], tx.tx.payload.as_slice());
            prop_assert_eq!(tx.id(), crate::hashing::tagged_hash(HashTag::Transaction, &bytes));
            prop_assert_eq!(tx.signed_bytes(), bytes[..payload_end].to_vec());
            prop_assert_eq!(SignedTransaction::decode(&bytes), Ok(tx));
        }
    }

    #[test]
    fn golden() {
        let tx = sample();
        check_golden("signed_transaction", &tx.to_bytes());
        check_golden_text("signed_transaction.id", &tx.id().to_string());
    }
}
