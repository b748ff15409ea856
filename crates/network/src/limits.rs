//! Every bound and timing of the network, in one place.
//!
//! Message sizes derive from `courtledger_types::limits`; the rest (scores, timeouts, connection
//! limits) is local to this crate and changes nothing on the wire except where noted.

use std::time::Duration;

use courtledger_types::limits::{
    MAX_BLOCK_BYTES, MAX_CERTIFICATE_BYTES, MAX_HEADER_BYTES, MAX_TX_BYTES, MAX_VOTE_BYTES,
};

/// Largest message on [`crate::Channel::Consensus`]: proposals, votes and the certificates they
/// may carry. Blocks travel on [`crate::Channel::Blocks`], never here.
pub const MAX_CONSENSUS_MESSAGE_BYTES: u32 = 64 * 1024;

/// What a block message may carry besides the block: its commit certificate and an envelope.
pub const BLOCK_MESSAGE_OVERHEAD_BYTES: u32 = MAX_CERTIFICATE_BYTES + 64 * 1024;

/// Largest message on [`crate::Channel::Blocks`]: one block of the largest size the chain allows,
/// with its certificate.
pub const MAX_BLOCK_MESSAGE_BYTES: u32 = MAX_BLOCK_BYTES + BLOCK_MESSAGE_OVERHEAD_BYTES;

/// Largest message on [`crate::Channel::Transactions`]: a batch of transactions (64 of the
/// largest, or many more small ones).
pub const MAX_TRANSACTIONS_MESSAGE_BYTES: u32 = 4 * 1024 * 1024;

/// Largest message on [`crate::Channel::Sync`]: a request, or a response carrying one block with
/// its certificate.
pub const MAX_SYNC_MESSAGE_BYTES: u32 = MAX_BLOCK_MESSAGE_BYTES;

// The channel limits must hold what the chain's own limits allow.
const _: () = assert!(
    MAX_CONSENSUS_MESSAGE_BYTES >= MAX_VOTE_BYTES + MAX_HEADER_BYTES + MAX_CERTIFICATE_BYTES
);
const _: () = assert!(MAX_TRANSACTIONS_MESSAGE_BYTES >= 16 * MAX_TX_BYTES);
const _: () = assert!(MAX_BLOCK_MESSAGE_BYTES > MAX_BLOCK_BYTES);

/// Size of the big-endian length prefix of a frame.
pub const FRAME_HEADER_BYTES: usize = 4;

/// Default depth of each bounded queue (per peer and channel outbound; inbound events).
pub const DEFAULT_QUEUE_DEPTH: usize = 1024;

/// Default first reconnection delay.
pub const DEFAULT_BACKOFF_INITIAL: Duration = Duration::from_millis(100);
/// Default longest reconnection delay.
pub const DEFAULT_BACKOFF_MAX: Duration = Duration::from_secs(5);

/// Score every peer starts with, and returns to after a ban.
pub const INITIAL_SCORE: i32 = 0;
/// Points lost for a frame longer than its channel allows.
pub const OVERSIZED_FRAME_PENALTY: i32 = 50;
/// Points lost for a message that the node could not decode or that failed its checks
/// (reported by the node through [`crate::NetworkHandle::penalize`]).
pub const INVALID_MESSAGE_PENALTY: i32 = 20;
/// Commands from the handle (penalties reported by the node, added peers) that may wait for the
/// network task.
pub const COMMAND_QUEUE_DEPTH: usize = 64;
/// A peer whose score falls to this or lower is banned for the configured ban duration.
pub const BAN_SCORE: i32 = -100;
/// Points a penalized peer recovers per second of good behaviour, up to [`INITIAL_SCORE`].
pub const SCORE_RECOVERY_PER_SECOND: u64 = 1;
/// Default duration of a ban.
pub const DEFAULT_BAN_DURATION: Duration = Duration::from_secs(60);

/// At most one [`crate::NetworkEvent::PeerRefused`] per peer id per this interval.
pub const REFUSAL_REPORT_INTERVAL: Duration = Duration::from_secs(10);
/// Most peer ids remembered for rate-limiting refusal reports.
pub const MAX_REMEMBERED_REFUSALS: usize = 1024;

/// How long opening a stream, including the receiver's ready byte, may take.
pub const STREAM_OPEN_TIMEOUT: Duration = Duration::from_secs(10);
/// First delay before retrying to open a stream on a live connection.
pub const STREAM_RETRY_INITIAL: Duration = Duration::from_millis(50);
/// Longest delay before retrying to open a stream on a live connection.
pub const STREAM_RETRY_MAX: Duration = Duration::from_secs(1);
/// Most queued messages a writer sends before flushing.
pub const MAX_FRAMES_PER_FLUSH: usize = 64;

/// How long resolving a peer's host name may take.
pub const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// Interval between pings on every connection.
pub const PING_INTERVAL: Duration = Duration::from_secs(5);
/// A ping not answered within this closes the connection (it is presumed dead).
pub const PING_TIMEOUT: Duration = Duration::from_secs(20);
/// A connection without any stream is closed after this long.
pub const IDLE_CONNECTION_TIMEOUT: Duration = Duration::from_secs(60);
/// Most connections still in their handshake from unknown remotes.
pub const MAX_PENDING_INCOMING: u32 = 32;
/// Most peers (validators other than the node itself) a node knows: the configured ones at
/// [`crate::start`] plus those added with [`crate::NetworkHandle::add_peer`]. Each costs one
/// writer task and one outbound queue per channel, and is dialled while disconnected.
pub const MAX_PEERS: usize = 64;
/// Most established connections to one peer (two validators dialling each other at once make
/// two; a third is refused).
pub const MAX_CONNECTIONS_PER_PEER: u32 = 2;
/// How long the listener may take to report its address at start.
pub const LISTEN_TIMEOUT: Duration = Duration::from_secs(10);
/// Most connection, refusal and penalty events waiting for room in the event queue; beyond
/// this the oldest is dropped (with a warning).
pub const MAX_PENDING_STATUS_EVENTS: usize = 1024;
/// Depth of the queue from stream readers to the network task (penalties).
pub const INTERNAL_QUEUE_DEPTH: usize = 64;
