//! The node's messages on the `blocks`, `transactions` and `sync` channels (consensus messages
//! are `courtledger_consensus::ConsensusMessage`). Canonical encodings, bounded decoding.
//!
//! ```text
//! ProposedBlockMessage = u32 round, option<u32> valid round, Block
//! TxBatch              = seq<SignedTransaction> (at most MAX_TX_BATCH)
//! SyncMessage          = 1 Request  (u64 from height, u32 max blocks)
//!                      | 2 Response (seq<Block, CommitCertificate>)
//! ```

use courtledger_codec::{decode_exact, write, Decode, DecodeError, Encode, Reader};
use courtledger_network::Channel;
use courtledger_types::limits::MAX_BLOCK_TXS;
use courtledger_types::{Block, CommitCertificate, SignedTransaction};

/// Most transactions in one gossip batch.
pub const MAX_TX_BATCH: u32 = 4096;
/// Most blocks asked for or returned in one sync exchange.
pub const MAX_SYNC_BLOCKS: u32 = 32;

fn max_bytes(channel: Channel) -> usize {
    usize::try_from(channel.max_message_bytes()).unwrap_or(usize::MAX)
}

/// A proposed block, sent by its proposer (or re-sent for a re-proposal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposedBlockMessage {
    /// The round it is proposed in.
    pub round: u32,
    /// The round of the polka that justifies a re-proposal.
    pub valid_round: Option<u32>,
    /// The block.
    pub block: Block,
}

impl ProposedBlockMessage {
    /// Decodes from untrusted bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode_exact(bytes, max_bytes(Channel::Blocks))
    }
}

impl Encode for ProposedBlockMessage {
    fn encode_to(&self, out: &mut Vec<u8>) {
        write::u32(out, self.round);
        write::option(out, self.valid_round.as_ref(), |out, round| {
            write::u32(out, *round)
        });
        self.block.encode_to(out);
    }
}

impl Decode for ProposedBlockMessage {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            round: reader.u32("block round")?,
            valid_round: reader.option("block valid round", |r| r.u32("block valid round"))?,
            block: Block::decode_from(reader)?,
        })
    }
}

/// Transactions gossiped from one mempool to the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxBatch {
    /// The transactions.
    pub txs: Vec<SignedTransaction>,
}

impl TxBatch {
    /// Decodes from untrusted bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode_exact(bytes, max_bytes(Channel::Transactions))
    }
}

impl Encode for TxBatch {
    fn encode_to(&self, out: &mut Vec<u8>) {
        write::seq(out, &self.txs);
    }
}

impl Decode for TxBatch {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            txs: reader.seq("transaction batch", MAX_TX_BATCH.min(MAX_BLOCK_TXS))?,
        })
    }
}

/// Catching up with decided blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncMessage {
    /// Send me the decided blocks from `from_height` on.
    Request {
        /// The first height wanted.
        from_height: u64,
        /// At most this many.
        max_blocks: u32,
    },
    /// Decided blocks, consecutive and ascending, each with its certificate.
    Response {
        /// The blocks.
        blocks: Vec<(Block, CommitCertificate)>,
    },
}

impl SyncMessage {
    /// Decodes from untrusted bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode_exact(bytes, max_bytes(Channel::Sync))
    }
}

impl Encode for SyncMessage {
    fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            SyncMessage::Request {
                from_height,
                max_blocks,
            } => {
                write::u8(out, 1);
                write::u64(out, *from_height);
                write::u32(out, *max_blocks);
            }
            SyncMessage::Response { blocks } => {
                write::u8(out, 2);
                write::length(out, blocks.len());
                for (block, certificate) in blocks {
                    block.encode_to(out);
                    certificate.encode_to(out);
                }
            }
        }
    }
}

impl Decode for SyncMessage {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match reader.u8("sync message")? {
            1 => Ok(SyncMessage::Request {
                from_height: reader.u64("sync from height")?,
                max_blocks: reader.u32("sync max blocks")?,
            }),
            2 => {
                let count = reader.length("sync blocks", MAX_SYNC_BLOCKS)?;
                let mut blocks = Vec::with_capacity(count.min(reader.remaining()));
                for _ in 0..count {
                    blocks.push((
                        Block::decode_from(reader)?,
                        CommitCertificate::decode_from(reader)?,
                    ));
                }
                Ok(SyncMessage::Response { blocks })
            }
            tag => Err(DecodeError::InvalidTag {
                what: "sync message",
                tag,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use courtledger_crypto::{sha256, ChainId, SigningKey};
    use courtledger_types::block::{tx_root, BlockHeader, HEADER_VERSION};
    use courtledger_types::Transaction;

    fn block() -> Block {
        let key = SigningKey::from_seed(&[1; 32]);
        let chain_id = ChainId(sha256(b"courtledger-test"));
        let txs = vec![Transaction {
            signer: key.public_key(),
            nonce: 1,
            payload: b"act".to_vec(),
        }
        .sign(&key, &chain_id)];
        let ids: Vec<_> = txs.iter().map(SignedTransaction::id).collect();
        Block {
            header: BlockHeader {
                version: HEADER_VERSION,
                chain_id,
                height: 1,
                time_ms: 1,
                parent_id: chain_id.0,
                proposer: key.public_key(),
                tx_count: 1,
                tx_root: tx_root(&ids),
                results_root: sha256(b"r"),
                log_size: 1,
                log_root: sha256(b"l"),
                state_root: sha256(b"s"),
                validators_hash: sha256(b"v"),
                next_validators_hash: sha256(b"v"),
            },
            txs,
        }
    }

    #[test]
    fn round_trips_and_strictness() {
        let proposed = ProposedBlockMessage {
            round: 2,
            valid_round: Some(1),
            block: block(),
        };
        assert_eq!(
            ProposedBlockMessage::decode(&proposed.to_bytes()),
            Ok(proposed.clone())
        );
        let batch = TxBatch { txs: block().txs };
        assert_eq!(TxBatch::decode(&batch.to_bytes()), Ok(batch));
        let certificate = CommitCertificate {
            height: 1,
            round: 0,
            block_id: block().header.id(),
            signatures: vec![],
        };
        for message in [
            SyncMessage::Request {
                from_height: 5,
                max_blocks: 32,
            },
            SyncMessage::Response {
                blocks: vec![(block(), certificate)],
            },
        ] {
            let mut bytes = message.to_bytes();
            assert_eq!(SyncMessage::decode(&bytes), Ok(message));
            bytes.push(0);
            assert!(SyncMessage::decode(&bytes).is_err());
        }
        assert!(SyncMessage::decode(&[3]).is_err());
        let mut too_many = vec![2];
        too_many.extend_from_slice(&(MAX_SYNC_BLOCKS + 1).to_be_bytes());
        assert!(matches!(
            SyncMessage::decode(&too_many),
            Err(DecodeError::TooLong { .. })
        ));
    }
}
