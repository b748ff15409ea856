//! The commit events hub: after the driver stores a block, one event per committed transaction
//! and one for the block, on a bounded broadcast channel.
//!
//! Publishing never blocks and never waits for subscribers: a subscriber that falls more than
//! [`EVENT_BUFFER`] events behind loses the oldest ones and is told so
//! ([`Received::Lagged`]); it must then read what it missed from storage. Events are published
//! only after the block is durably stored, so anything an event names can be read back.

use std::sync::Arc;

use courtledger_crypto::Digest;
use courtledger_types::{BlockId, Receipt, TxId};
use serde_json::{json, Value};
use tokio::sync::{broadcast, watch};

/// Events a subscriber may fall behind by before it lags. A block's events are published in one
/// go, so a block of more transactions than this makes every subscriber lag (and resync).
pub const EVENT_BUFFER: usize = 16 * 1024;

/// A committed transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxEvent {
    /// The transaction's id.
    pub tx_id: TxId,
    /// Height of its block.
    pub height: u64,
    /// Its position in the block, from 0.
    pub index: u32,
    /// Its block's id.
    pub block_id: BlockId,
    /// Its receipt code: 0 for success, otherwise the ledger's code of why the act failed.
    pub code: u16,
    /// The ids (cases, identities) its act concerns.
    pub subjects: Vec<Digest>,
}

impl TxEvent {
    /// Whether the act concerns one of `subjects`; every transaction matches an empty list.
    pub fn concerns_any(&self, subjects: &[Digest]) -> bool {
        subjects.is_empty() || self.subjects.iter().any(|s| subjects.contains(s))
    }

    /// The event as the API shows it.
    pub fn to_json(&self) -> Value {
        json!({
            "tx_id": self.tx_id.to_string(),
            "height": self.height,
            "index": self.index,
            "block_id": self.block_id.to_string(),
            "code": self.code,
            "subjects": self.subjects.iter().map(ToString::to_string).collect::<Vec<_>>(),
        })
    }
}

/// A stored block; published after the events of its transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockEvent {
    /// Its height.
    pub height: u64,
    /// Its id.
    pub block_id: BlockId,
    /// How many transactions it holds.
    pub tx_count: usize,
}

/// One event of the hub. Cloned once per subscriber, so the payloads are shared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommitEvent {
    /// A committed transaction.
    Tx(Arc<TxEvent>),
    /// A stored block, after its transactions.
    Block(BlockEvent),
}

/// The sending side, shared by the driver (which publishes) and the API (which subscribes).
#[derive(Debug, Clone)]
pub struct Hub {
    sender: broadcast::Sender<CommitEvent>,
    closed: Arc<watch::Sender<bool>>,
}

impl Default for Hub {
    fn default() -> Self {
        Self::new(EVENT_BUFFER)
    }
}

impl Hub {
    /// A hub whose subscribers may fall `capacity` events behind (at least 1).
    pub fn new(capacity: usize) -> Self {
        let (sender, _) = broadcast::channel(capacity.max(1));
        let (closed, _) = watch::channel(false);
        Self {
            sender,
            closed: Arc::new(closed),
        }
    }

    /// A subscription to the events published from now on.
    pub fn subscribe(&self) -> Subscription {
        Subscription {
            receiver: self.sender.subscribe(),
            closed: self.closed.subscribe(),
        }
    }

    /// Publishes one event; never blocks. With no subscriber the event is dropped.
    pub fn publish(&self, event: CommitEvent) {
        // `send` fails only when nobody listens, which is fine.
        let _ = self.sender.send(event);
    }

    /// Publishes the events of a stored block: one per transaction, in order, then the block's.
    /// `subjects[i]` belongs to `receipts[i]`; a missing entry is an empty list.
    pub fn publish_block(
        &self,
        height: u64,
        block_id: BlockId,
        receipts: &[Receipt],
        subjects: Vec<Vec<Digest>>,
    ) {
        let mut subjects = subjects.into_iter();
        for receipt in receipts {
            self.publish(CommitEvent::Tx(Arc::new(TxEvent {
                tx_id: receipt.tx_id,
                height,
                index: receipt.index,
                block_id,
                code: receipt.code,
                subjects: subjects.next().unwrap_or_default(),
            })));
        }
        self.publish(CommitEvent::Block(BlockEvent {
            height,
            block_id,
            tx_count: receipts.len(),
        }));
    }

    /// Ends every subscription (they receive [`Received::Closed`]): the node is stopping.
    pub fn close(&self) {
        self.closed.send_replace(true);
    }
}

/// What a subscription receives next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// The next event.
    Event(CommitEvent),
    /// The subscriber fell behind and `missed` events are lost to it; it must read what it
    /// needs from storage. Later events follow.
    Lagged { missed: u64 },
    /// The hub is closed: no event will come.
    Closed,
}

/// A subscriber's side of the hub.
#[derive(Debug)]
pub struct Subscription {
    receiver: broadcast::Receiver<CommitEvent>,
    closed: watch::Receiver<bool>,
}

impl Subscription {
    /// Waits for the next event.
    pub async fn recv(&mut self) -> Received {
        if *self.closed.borrow() {
            return Received::Closed;
        }
        tokio::select! {
            received = self.receiver.recv() => match received {
                Ok(event) => Received::Event(event),
                Err(broadcast::error::RecvError::Lagged(missed)) => Received::Lagged { missed },
                Err(broadcast::error::RecvError::Closed) => Received::Closed,
            },
            _ = self.closed.wait_for(|closed| *closed) => Received::Closed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use courtledger_crypto::sha256;

    fn receipts(height: u64, count: u32) -> Vec<Receipt> {
        (0..count)
            .map(|index| Receipt {
                tx_id: sha256(&index.to_be_bytes()),
                index,
                height,
                code: u16::from(index % 2 == 1),
            })
            .collect()
    }

    #[tokio::test]
    async fn a_block_gives_one_event_per_transaction_then_one_for_the_block() {
        let hub = Hub::new(16);
        let mut subscription = hub.subscribe();
        let block_id = sha256(b"block");
        let subject = sha256(b"case");
        hub.publish_block(7, block_id, &receipts(7, 2), vec![vec![subject]]);
        let Received::Event(CommitEvent::Tx(first)) = subscription.recv().await else {
            panic!("a transaction event first");
        };
        assert_eq!(
            *first,
            TxEvent {
                tx_id: sha256(&0u32.to_be_bytes()),
                height: 7,
                index: 0,
                block_id,
                code: 0,
                subjects: vec![subject],
            }
        );
        assert!(first.concerns_any(&[subject]));
        assert!(first.concerns_any(&[]));
        assert!(!first.concerns_any(&[block_id]));
        let Received::Event(CommitEvent::Tx(second)) = subscription.recv().await else {
            panic!("the second transaction");
        };
        assert_eq!(
            (second.index, second.code, second.subjects.len()),
            (1, 1, 0)
        );
        assert_eq!(
            subscription.recv().await,
            Received::Event(CommitEvent::Block(BlockEvent {
                height: 7,
                block_id,
                tx_count: 2
            }))
        );
        assert_eq!(first.to_json()["subjects"][0], subject.to_string());
    }

    #[tokio::test]
    async fn a_slow_subscriber_lags_and_the_publisher_never_waits() {
        let hub = Hub::new(4);
        let mut slow = hub.subscribe();
        // Far more than the buffer, with nobody reading: publishing returns at once.
        for height in 1..=10 {
            hub.publish_block(height, sha256(b"b"), &receipts(height, 3), vec![]);
        }
        assert_eq!(slow.recv().await, Received::Lagged { missed: 36 });
        // Then the newest events, still in the buffer.
        for _ in 0..4 {
            assert!(matches!(slow.recv().await, Received::Event(_)));
        }
        hub.close();
        assert_eq!(slow.recv().await, Received::Closed);
        assert_eq!(hub.subscribe().recv().await, Received::Closed);
    }
}
