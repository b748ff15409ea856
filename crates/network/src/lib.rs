//! The validators' network: each validator connects directly to every other one, and they
//! exchange opaque byte messages on four typed channels.
//!
//! This is the only crate that touches libp2p. Peers are named by their genesis [`PublicKey`];
//! no libp2p type appears in the API.
//!
//! # Transport and identity
//!
//! TCP, then noise (XX handshake) for authentication and encryption, then yamux to multiplex
//! streams; a libp2p ping every [`limits::PING_INTERVAL`] closes connections that stop
//! answering. There is no gossip: with 4 to 7 validators every message is sent straight to each
//! peer, and no libp2p message signature is added on top of the records' own signatures. Each
//! validator's libp2p identity is its genesis ed25519 key, so its libp2p peer id is the one that
//! `courtledger_types::peer_id::peer_id_of` derives and genesis records.
//!
//! # Who may connect
//!
//! Only the peers: the configured ones (the genesis validators) and those added since with
//! [`NetworkHandle::add_peer`], at most [`limits::MAX_PEERS`] in all (the node's own key not
//! counted). A connection from any other peer id is
//! closed right after the noise handshake, as soon as its identity is known, and reported as
//! [`NetworkEvent::PeerRefused`] (at most once per peer id per
//! [`limits::REFUSAL_REPORT_INTERVAL`]). At most [`limits::MAX_PENDING_INCOMING`] handshakes
//! run at once, and at most [`limits::MAX_CONNECTIONS_PER_PEER`] connections per peer.
//!
//! # Changing the validator set
//!
//! When governance adds a validator, [`NetworkHandle::add_peer`] makes it a peer of the running
//! network: it is in [`NetworkHandle::peers`] and reachable by [`NetworkHandle::send`] and
//! [`NetworkHandle::broadcast`] as soon as the call returns, and the network task then admits
//! its connections and dials it, exactly as a configured peer (own queues and streams, score,
//! backoff). Adding a known peer again changes its address; a live connection stays, and the
//! next dial uses the new address (at once if the peer is disconnected). The call never blocks,
//! and an invalid address or a full set ([`AddPeerError::TooManyPeers`]) is refused on the spot.
//! There is no removal: a validator taken out of the set stays a peer until the network
//! restarts (it may keep following the chain); counting votes is not this crate's business.
//!
//! # Dialling and backoff
//!
//! Every node dials every peer's address (`host:port`: an IP address becomes
//! `/ip4/../tcp/..` or `/ip6/../tcp/..`; a host name is resolved with the system resolver before
//! each attempt). While a peer is not connected it is redialled after a delay that starts at
//! [`Backoff::initial`] (100 ms by default) and doubles after each failure up to
//! [`Backoff::max`] (5 s); a connection that lasted at least `max` resets the delay. The delays
//! run on tokio's clock. Two nodes dialling each other at once may end up with two connections;
//! that is harmless (streams use either, and a connection without streams closes after
//! [`limits::IDLE_CONNECTION_TIMEOUT`]), and a third one is refused. [`NetworkEvent::PeerConnected`]
//! is reported when the first connection to a peer opens, [`NetworkEvent::PeerDisconnected`] when
//! the last one closes. They alternate strictly, but a stopping peer may show a short
//! connected-disconnected blip after its disconnection (a dial whose handshake had just
//! finished). The listening socket is bound only if no one else listens on that port: libp2p
//! sets `SO_REUSEPORT`, which would otherwise let a second node on the same port share the
//! connections silently.
//!
//! # Channels, streams and frames
//!
//! Each [`Channel`] is a libp2p stream protocol, `/courtledger/<channel>/1` (`consensus`,
//! `blocks`, `transactions`, `sync`). For each peer and channel the sending node opens one
//! long-lived stream; the receiving node answers with a single ready byte (`0x01`) once it has
//! taken the stream, and then the sender writes frames: a 4-byte big-endian length, then that
//! many bytes. Nothing else is written either way; the sender watches its stream for the
//! receiver's end (a receiver drops a stream after a bad frame) and then opens a new one, so
//! later messages are not written into a dead stream. A frame may be empty. Separate streams per
//! channel mean a 32 MiB block does not queue a vote behind it: yamux interleaves the streams.
//!
//! Limits per channel ([`Channel::max_message_bytes`], defined in [`limits`] from
//! `courtledger_types::limits`): consensus 64 KiB; blocks and sync the largest block plus its
//! certificate and 64 KiB of envelope; transactions 4 MiB. [`NetworkHandle::send`] refuses a
//! longer message ([`SendError::TooLarge`]). A peer that announces a longer frame gets a
//! [`FrameError::Oversized`]: the receiver does not read the body, drops the stream, and lowers
//! the peer's score. Buffers grow with the bytes actually received, never with the announced
//! length alone.
//!
//! # Scores and bans
//!
//! Every peer starts at [`limits::INITIAL_SCORE`] (0). An oversized frame costs
//! [`limits::OVERSIZED_FRAME_PENALTY`] (50) points; a message the node found undecodable or
//! invalid, reported with [`NetworkHandle::penalize`], costs [`limits::INVALID_MESSAGE_PENALTY`]
//! (20). Each is reported as [`NetworkEvent::PeerPenalized`].
//! A penalized peer recovers [`limits::SCORE_RECOVERY_PER_SECOND`] point per second, up to 0. A
//! score at or below [`limits::BAN_SCORE`] (-100) bans the peer for
//! [`NetworkConfig::ban_duration`] (60 s by default): its connections are closed, it is not
//! dialled, and its connections are refused ([`RefusalReason::Banned`]); when the ban ends its
//! score is reset to 0 and it is dialled again.
//!
//! # Queues, backpressure and delivery
//!
//! Every queue is bounded by [`NetworkConfig::queue_depth`] messages (not bytes):
//!
//! - Outbound, one queue per peer and channel. [`NetworkHandle::send`] never blocks: it fails
//!   with [`SendError::NotConnected`] when the peer is not connected, and with
//!   [`SendError::QueueFull`] when the queue is full, which happens when the peer reads slower
//!   than we send (yamux flow control pushes back through the stream). Messages still queued
//!   when the peer disconnects are dropped.
//! - Inbound, the one event queue returned by [`start`]. Stream readers wait for room
//!   (backpressure, no dropping): a full queue stops reading, which fills the yamux window and
//!   then the sender's queue. Consensus is not starved by a flood on another channel: each
//!   stream has its own reader, and tokio's bounded channel hands out free slots in the order
//!   readers asked for them, so every waiting stream gets its turn. Connection and penalty events
//!   are produced by the network task, which must not block: they wait in a side queue of at
//!   most [`limits::MAX_PENDING_STATUS_EVENTS`] (oldest dropped beyond that, with a warning);
//!   [`NetworkHandle::connected_peers`] is always current.
//!
//! Delivery is at most once and best effort: a message queued or in flight when a connection
//! fails, or written just before the receiver dropped the stream, is lost (consensus
//! retransmits and sync catches up). Per peer and channel, the messages
//! delivered are in the order they were sent, with possible gaps at a reconnection: a sender
//! opens a new stream only after the previous one failed, and the receiver stops reading the
//! old stream of a peer's channel (and waits for its reader to end) before reading the new one.
//! A message may be delivered before the [`NetworkEvent::PeerConnected`] of its sender. There is
//! no ordering across channels or peers.

mod channel;
mod config;
mod frame;
mod handle;
mod identity;
pub mod limits;
mod service;
mod streams;

#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::time::Duration;

pub use bytes::Bytes;
use courtledger_crypto::PublicKey;
use tokio::sync::mpsc;

pub use crate::channel::Channel;
pub use crate::config::{Backoff, NetworkConfig, PeerInfo};
pub use crate::frame::{read_frame, write_frame, FrameError};
pub use crate::handle::{BroadcastReport, NetworkHandle};

/// Something that happened on the network.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NetworkEvent {
    /// A message from a validator.
    Message {
        /// The sender (authenticated by the noise handshake).
        from: PublicKey,
        /// The channel it came on.
        channel: Channel,
        /// The payload, at most `channel.max_message_bytes()` long.
        bytes: Vec<u8>,
    },
    /// The first connection to a validator opened.
    PeerConnected(PublicKey),
    /// The last connection to a validator closed.
    PeerDisconnected(PublicKey),
    /// A connection was refused after the handshake.
    PeerRefused {
        /// The remote's libp2p peer id (`12D3KooW…`).
        peer_id: String,
        /// Why.
        reason: RefusalReason,
    },
    /// A validator broke the protocol and lost points.
    PeerPenalized {
        /// The validator.
        peer: PublicKey,
        /// What it did.
        penalty: Penalty,
        /// Its score after the penalty.
        score: i32,
        /// Set when the score fell to [`limits::BAN_SCORE`] or lower: the peer is disconnected
        /// and refused for this long.
        banned_for: Option<Duration>,
    },
}

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RefusalReason {
    /// The remote is not one of the configured validators.
    NotAValidator,
    /// The remote is a validator, but banned for now.
    Banned,
}

/// A protocol violation by a peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Penalty {
    /// A message the node could not decode, or that failed its checks.
    InvalidMessage {
        /// The channel it came on.
        channel: Channel,
    },
    /// A frame longer than its channel allows.
    OversizedFrame {
        /// The channel.
        channel: Channel,
        /// The announced length.
        len: u32,
        /// The channel's limit.
        max: u32,
    },
}

impl Penalty {
    /// Points the violation costs.
    pub const fn points(&self) -> i32 {
        match self {
            Penalty::OversizedFrame { .. } => limits::OVERSIZED_FRAME_PENALTY,
            Penalty::InvalidMessage { .. } => limits::INVALID_MESSAGE_PENALTY,
        }
    }
}

/// Why the network could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetworkError {
    /// A configuration value is unusable.
    #[error("invalid network configuration: {0}")]
    Config(String),
    /// A peer's address is not `host:port`.
    #[error("peer {peer}: invalid address {address:?}: {reason}")]
    InvalidAddress {
        /// The peer's key, in hex.
        peer: String,
        /// The address given.
        address: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A key could not be used as a libp2p identity.
    #[error("identity: {0}")]
    Identity(String),
    /// The transport could not be built.
    #[error("transport: {0}")]
    Transport(String),
    /// The listening socket could not be opened.
    #[error("cannot listen on {address}: {reason}")]
    Listen {
        /// The configured address.
        address: SocketAddr,
        /// Why.
        reason: String,
    },
}

/// Why [`NetworkHandle::add_peer`] refused a peer. Nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AddPeerError {
    /// The address is not `host:port`.
    #[error("invalid address {address:?}: {reason}")]
    InvalidAddress {
        /// The address given.
        address: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The key cannot be used as a libp2p identity.
    #[error("{0}")]
    InvalidKey(String),
    /// The node has this many peers already ([`limits::MAX_PEERS`]); a known peer's address
    /// can still be changed.
    #[error("the node has {max} peers already")]
    TooManyPeers {
        /// The limit.
        max: usize,
    },
    /// [`limits::COMMAND_QUEUE_DEPTH`] commands wait for the network task already; try again.
    #[error("the network task is busy")]
    Busy,
    /// The network was shut down.
    #[error("the network is shut down")]
    Shutdown,
}

/// Why a message was not queued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The key is not one of the peers (or is the node's own).
    #[error("not a peer")]
    UnknownPeer,
    /// The peer is not connected now.
    #[error("peer not connected")]
    NotConnected,
    /// The peer's queue for the channel is full.
    #[error("the peer's {0} queue is full")]
    QueueFull(Channel),
    /// The message is longer than the channel allows.
    #[error("message of {len} bytes is over the {channel} channel's limit of {max} bytes")]
    TooLarge {
        /// The channel.
        channel: Channel,
        /// The message's length.
        len: usize,
        /// The channel's limit.
        max: u32,
    },
    /// The network was shut down.
    #[error("the network is shut down")]
    Shutdown,
}

/// Starts the network: binds the listening socket, then connects to the peers in the background.
///
/// Returns the handle and the bounded queue of [`NetworkEvent`]s. Must be called within a tokio
/// runtime; everything runs on tasks of that runtime until [`NetworkHandle::shutdown`] or until
/// every clone of the handle is dropped.
pub async fn start(
    config: NetworkConfig,
) -> Result<(NetworkHandle, mpsc::Receiver<NetworkEvent>), NetworkError> {
    service::start(config).await
}
