//! The typed message channels and their protocol ids.

use core::fmt;

use libp2p::StreamProtocol;

use crate::limits::{
    MAX_BLOCK_MESSAGE_BYTES, MAX_CONSENSUS_MESSAGE_BYTES, MAX_SYNC_MESSAGE_BYTES,
    MAX_TRANSACTIONS_MESSAGE_BYTES,
};

/// A kind of traffic between validators. Each channel is its own libp2p stream protocol, with
/// its own stream per peer and its own size limit, so a large block never delays a vote behind
/// it on the same stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channel {
    /// Proposals and votes; at most [`MAX_CONSENSUS_MESSAGE_BYTES`].
    Consensus,
    /// Decided or proposed blocks; at most [`MAX_BLOCK_MESSAGE_BYTES`].
    Blocks,
    /// Batches of transactions from mempools; at most [`MAX_TRANSACTIONS_MESSAGE_BYTES`].
    Transactions,
    /// Catching up: requests and block responses; at most [`MAX_SYNC_MESSAGE_BYTES`].
    Sync,
}

impl Channel {
    /// Every channel, in a fixed order.
    pub const ALL: [Channel; 4] = [
        Channel::Consensus,
        Channel::Blocks,
        Channel::Transactions,
        Channel::Sync,
    ];

    /// The largest message this channel carries, in bytes. A longer frame from a peer is a
    /// protocol violation; a longer message given to [`crate::NetworkHandle::send`] is refused.
    pub const fn max_message_bytes(self) -> u32 {
        match self {
            Channel::Consensus => MAX_CONSENSUS_MESSAGE_BYTES,
            Channel::Blocks => MAX_BLOCK_MESSAGE_BYTES,
            Channel::Transactions => MAX_TRANSACTIONS_MESSAGE_BYTES,
            Channel::Sync => MAX_SYNC_MESSAGE_BYTES,
        }
    }

    /// The libp2p protocol id of the channel's streams, `/courtledger/<channel>/1`.
    pub const fn protocol_id(self) -> &'static str {
        match self {
            Channel::Consensus => "/courtledger/consensus/1",
            Channel::Blocks => "/courtledger/blocks/1",
            Channel::Transactions => "/courtledger/transactions/1",
            Channel::Sync => "/courtledger/sync/1",
        }
    }

    /// A short lowercase name, as in the protocol id.
    pub const fn name(self) -> &'static str {
        match self {
            Channel::Consensus => "consensus",
            Channel::Blocks => "blocks",
            Channel::Transactions => "transactions",
            Channel::Sync => "sync",
        }
    }

    /// Position in [`Channel::ALL`].
    pub(crate) const fn index(self) -> usize {
        match self {
            Channel::Consensus => 0,
            Channel::Blocks => 1,
            Channel::Transactions => 2,
            Channel::Sync => 3,
        }
    }

    pub(crate) const fn protocol(self) -> StreamProtocol {
        StreamProtocol::new(self.protocol_id())
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_match_all_and_ids_are_distinct() {
        for (index, channel) in Channel::ALL.iter().enumerate() {
            assert_eq!(channel.index(), index);
            assert_eq!(
                channel.protocol_id(),
                format!("/courtledger/{channel}/1"),
                "protocol id names the channel"
            );
            assert_eq!(channel.protocol().as_ref(), channel.protocol_id());
        }
        let mut ids: Vec<_> = Channel::ALL.iter().map(|c| c.protocol_id()).collect();
        ids.dedup();
        assert_eq!(ids.len(), 4);
    }

    #[test]
    fn limits() {
        assert_eq!(Channel::Consensus.max_message_bytes(), 64 * 1024);
        assert_eq!(Channel::Transactions.max_message_bytes(), 4 * 1024 * 1024);
        assert!(Channel::Blocks.max_message_bytes() > courtledger_types::limits::MAX_BLOCK_BYTES);
        assert_eq!(
            Channel::Sync.max_message_bytes(),
            Channel::Blocks.max_message_bytes()
        );
    }
}
