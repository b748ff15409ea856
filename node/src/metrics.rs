//! Prometheus metrics, served at `/metrics` on the API port.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// The node's metrics. All names are prefixed `courtledger_`.
#[derive(Debug)]
pub struct Metrics {
    /// Height being decided.
    pub height: Gauge,
    /// Current consensus round.
    pub round: Gauge,
    /// Transactions in the mempool.
    pub mempool: Gauge,
    /// Connected validators.
    pub peers: Gauge,
    /// Encoded size of the last committed block.
    pub block_bytes: Gauge,
    /// Transactions in the last committed block.
    pub block_txs: Gauge,
    /// Committed blocks.
    pub blocks: Counter,
    /// Committed transactions (rate() of it is tx/s).
    pub transactions: Counter,
    /// Equivocation evidence recorded.
    pub evidence: Counter,
    /// Time from the start of a height to its commit.
    pub commit_latency_seconds: Histogram,
    /// Time of synced storage writes.
    pub storage_write_seconds: Histogram,
}

impl Metrics {
    /// Creates the metrics and registers them.
    pub fn new(registry: &mut Registry) -> Self {
        let metrics = Self {
            height: Gauge::default(),
            round: Gauge::default(),
            mempool: Gauge::default(),
            peers: Gauge::default(),
            block_bytes: Gauge::default(),
            block_txs: Gauge::default(),
            blocks: Counter::default(),
            transactions: Counter::default(),
            evidence: Counter::default(),
            commit_latency_seconds: Histogram::new(exponential_buckets(0.001, 2.0, 16)),
            storage_write_seconds: Histogram::new(exponential_buckets(0.0001, 2.0, 16)),
        };
        let prefixed = registry.sub_registry_with_prefix("courtledger");
        prefixed.register("height", "Height being decided", metrics.height.clone());
        prefixed.register("round", "Current consensus round", metrics.round.clone());
        prefixed.register(
            "mempool_transactions",
            "Transactions in the mempool",
            metrics.mempool.clone(),
        );
        prefixed.register("peers", "Connected validators", metrics.peers.clone());
        prefixed.register(
            "block_bytes",
            "Encoded size of the last committed block",
            metrics.block_bytes.clone(),
        );
        prefixed.register(
            "block_transactions",
            "Transactions in the last committed block",
            metrics.block_txs.clone(),
        );
        prefixed.register("blocks", "Committed blocks", metrics.blocks.clone());
        prefixed.register(
            "transactions",
            "Committed transactions",
            metrics.transactions.clone(),
        );
        prefixed.register(
            "evidence",
            "Equivocation evidence recorded",
            metrics.evidence.clone(),
        );
        prefixed.register(
            "commit_latency_seconds",
            "Time from the start of a height to its commit",
            metrics.commit_latency_seconds.clone(),
        );
        prefixed.register(
            "storage_write_seconds",
            "Time of synced storage writes",
            metrics.storage_write_seconds.clone(),
        );
        metrics
    }
}
