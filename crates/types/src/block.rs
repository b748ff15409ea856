//! Blocks and their headers.

use courtledger_codec::{decode_exact, write, Decode, DecodeError, Encode, Reader};
use courtledger_crypto::{ChainId, Digest, PublicKey};
use courtledger_merkle as merkle;

use crate::hashing::{tagged_hash, HashTag};
use crate::limits::{MAX_BLOCK_BYTES, MAX_BLOCK_TXS, MAX_HEADER_BYTES};
use crate::tx::{SignedTransaction, TxId};

/// A block's id: `tagged_hash(BlockHeader, encode(header))`.
pub type BlockId = Digest;

/// Version of the header layout below.
pub const HEADER_VERSION: u16 = 1;

/// What validators sign (through their precommits for the header's id).
///
/// The header commits to everything in and around the block: its transactions (through an
/// RFC 9162 tree over their ids), the append-only log of every transaction ever committed, the
/// application state after the block, and the validator sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockHeader {
    /// Layout version, [`HEADER_VERSION`].
    pub version: u16,
    /// The chain this block belongs to.
    pub chain_id: ChainId,
    /// Height, starting at 1.
    pub height: u64,
    /// The agreed time, in milliseconds since the Unix epoch: the proposer's clock, accepted by
    /// the other validators only within the drift bound and above the parent's time.
    pub time_ms: u64,
    /// The parent block's id; for height 1, the chain id's digest.
    pub parent_id: BlockId,
    /// The validator who proposed the block.
    pub proposer: PublicKey,
    /// Number of transactions.
    pub tx_count: u32,
    /// RFC 9162 root over `leaf = tx id` for the block's transactions in order.
    pub tx_root: Digest,
    /// RFC 9162 root over the block's execution receipts in order.
    pub results_root: Digest,
    /// Number of transactions committed in the whole chain up to and including this block.
    pub log_size: u64,
    /// RFC 9162 root of the log of every committed transaction id, after this block.
    pub log_root: Digest,
    /// The application state's root after executing this block.
    pub state_root: Digest,
    /// Hash of the validator set that must sign this block.
    pub validators_hash: Digest,
    /// Hash of the validator set for the next height.
    pub next_validators_hash: Digest,
}

impl BlockHeader {
    /// The block's id.
    pub fn id(&self) -> BlockId {
        tagged_hash(HashTag::BlockHeader, &self.to_bytes())
    }

    /// Decodes a header from untrusted bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode_exact(
            bytes,
            usize::try_from(MAX_HEADER_BYTES).unwrap_or(usize::MAX),
        )
    }
}

impl Encode for BlockHeader {
    fn encode_to(&self, out: &mut Vec<u8>) {
        write::u16(out, self.version);
        self.chain_id.encode_to(out);
        write::u64(out, self.height);
        write::u64(out, self.time_ms);
        self.parent_id.encode_to(out);
        self.proposer.encode_to(out);
        write::u32(out, self.tx_count);
        self.tx_root.encode_to(out);
        self.results_root.encode_to(out);
        write::u64(out, self.log_size);
        self.log_root.encode_to(out);
        self.state_root.encode_to(out);
        self.validators_hash.encode_to(out);
        self.next_validators_hash.encode_to(out);
    }
}

impl Decode for BlockHeader {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let version = reader.u16("header version")?;
        if version != HEADER_VERSION {
            return Err(DecodeError::Invalid {
                what: "header version",
                reason: "unsupported",
            });
        }
        Ok(Self {
            version,
            chain_id: ChainId::decode_from(reader)?,
            height: reader.u64("header height")?,
            time_ms: reader.u64("header time")?,
            parent_id: Digest::decode_from(reader)?,
            proposer: PublicKey::decode_from(reader)?,
            tx_count: reader.u32("header tx count")?,
            tx_root: Digest::decode_from(reader)?,
            results_root: Digest::decode_from(reader)?,
            log_size: reader.u64("header log size")?,
            log_root: Digest::decode_from(reader)?,
            state_root: Digest::decode_from(reader)?,
            validators_hash: Digest::decode_from(reader)?,
            next_validators_hash: Digest::decode_from(reader)?,
        })
    }
}

/// A header and the transactions it commits to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The header.
    pub header: BlockHeader,
    /// The transactions, in execution order.
    pub txs: Vec<SignedTransaction>,
}

/// The RFC 9162 root over `leaf_hash(tx id)` for `ids` in order (the empty root for none).
pub fn tx_root(ids: &[TxId]) -> Digest {
    let leaves: Vec<merkle::Hash> = ids
        .iter()
        .map(|id| merkle::leaf_hash(id.as_bytes()))
        .collect();
    Digest(merkle::root(&leaves))
}

impl Block {
    /// Decodes a block from untrusted bytes, at most `max_bytes` (itself capped by
    /// [`MAX_BLOCK_BYTES`]).
    pub fn decode(bytes: &[u8], max_bytes: u32) -> Result<Self, DecodeError> {
        let max = max_bytes.min(MAX_BLOCK_BYTES);
        decode_exact(bytes, usize::try_from(max).unwrap_or(usize::MAX))
    }

    /// The ids of the block's transactions, in order.
    pub fn tx_ids(&self) -> Vec<TxId> {
        self.txs.iter().map(SignedTransaction::id).collect()
    }

    /// Whether the header's transaction count and root match the transactions.
    pub fn txs_match_header(&self) -> bool {
        u32::try_from(self.txs.len()).is_ok_and(|count| count == self.header.tx_count)
            && tx_root(&self.tx_ids()) == self.header.tx_root
    }
}

impl Encode for Block {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.header.encode_to(out);
        write::seq(out, &self.txs);
    }
}

impl Decode for Block {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            header: BlockHeader::decode_from(reader)?,
            txs: reader.seq("block transactions", MAX_BLOCK_TXS)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{check_golden, check_golden_text, golden_chain_id, key};
    use crate::tx::Transaction;
    use courtledger_crypto::sha256;

    pub(crate) fn sample_block() -> Block {
        let chain_id = golden_chain_id();
        let txs: Vec<SignedTransaction> = (0..3u64)
            .map(|nonce| {
                Transaction {
                    signer: key(1).public_key(),
                    nonce,
                    payload: vec![0xab; 5],
                }
                .sign(&key(1), &chain_id)
            })
            .collect();
        let ids: Vec<TxId> = txs.iter().map(SignedTransaction::id).collect();
        let header = BlockHeader {
            version: HEADER_VERSION,
            chain_id,
            height: 1,
            time_ms: 1_790_000_000_000,
            parent_id: chain_id.0,
            proposer: key(2).public_key(),
            tx_count: 3,
            tx_root: tx_root(&ids),
            results_root: sha256(b"results"),
            log_size: 3,
            log_root: tx_root(&ids),
            state_root: sha256(b"state"),
            validators_hash: sha256(b"validators"),
            next_validators_hash: sha256(b"validators"),
        };
        Block { header, txs }
    }

    #[test]
    fn round_trip_and_golden() {
        let block = sample_block();
        assert!(block.txs_match_header());
        let bytes = block.to_bytes();
        assert_eq!(Block::decode(&bytes, MAX_BLOCK_BYTES), Ok(block.clone()));
        let header_bytes = block.header.to_bytes();
        assert!(header_bytes.len() <= usize::try_from(MAX_HEADER_BYTES).unwrap());
        assert_eq!(BlockHeader::decode(&header_bytes), Ok(block.header.clone()));
        check_golden("block_header", &header_bytes);
        check_golden_text("block_header.id", &block.header.id().to_string());
        check_golden("block", &bytes);
    }

    #[test]
    fn detects_tampering_and_bounds() {
        let mut block = sample_block();
        block.txs.swap(0, 1);
        assert!(!block.txs_match_header());
        let bytes = sample_block().to_bytes();
        assert!(matches!(
            Block::decode(&bytes, 10),
            Err(DecodeError::InputTooLarge { .. })
        ));
        let mut header = sample_block().header.to_bytes();
        header[1] = 2;
        assert!(BlockHeader::decode(&header).is_err());
    }

    #[test]
    fn empty_tx_root_is_rfc_empty_root() {
        assert_eq!(tx_root(&[]), Digest(merkle::empty_root()));
    }
}
