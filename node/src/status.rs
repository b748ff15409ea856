//! What the driver publishes for the API to read without asking it.

use std::sync::atomic::{AtomicBool, AtomicU64};

/// Live status of the node, written by the driver.
#[derive(Debug, Default)]
pub struct Status {
    /// The height being decided.
    pub height: AtomicU64,
    /// Its current round.
    pub round: AtomicU64,
    /// Transactions in the mempool.
    pub mempool: AtomicU64,
    /// Connected validators.
    pub peers: AtomicU64,
    /// Whether the node is fetching decided blocks from peers.
    pub syncing: AtomicBool,
}
