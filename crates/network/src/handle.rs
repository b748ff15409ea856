//! The application's side: queueing messages, and stopping the network.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use courtledger_crypto::PublicKey;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::channel::Channel;
use crate::Penalty;
use crate::SendError;

/// One peer's queues and connection state, shared by the handle, its writers and the network
/// task.
#[derive(Debug)]
pub(crate) struct PeerSlot {
    /// Set by the network task: whether at least one connection to the peer is open.
    pub(crate) connected: watch::Sender<bool>,
    /// One outbound queue per channel, in [`Channel::ALL`] order.
    pub(crate) queues: [mpsc::Sender<Bytes>; 4],
}

/// State shared by every clone of the handle.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) local_key: PublicKey,
    pub(crate) local_addr: SocketAddr,
    pub(crate) peers: BTreeMap<PublicKey, PeerSlot>,
    pub(crate) closed: AtomicBool,
}

/// Commands to the network task.
#[derive(Debug)]
pub(crate) enum Command {
    Shutdown,
    Penalize {
        peer: Box<PublicKey>,
        penalty: Penalty,
    },
}

#[derive(Debug)]
struct Inner {
    shared: Arc<Shared>,
    commands: mpsc::Sender<Command>,
    task: Mutex<Option<JoinHandle<()>>>,
}

/// Sends messages to validators, and stops the network. Cheap to clone; the network stops when
/// [`NetworkHandle::shutdown`] is called on any clone or when every clone is dropped.
#[derive(Debug, Clone)]
pub struct NetworkHandle {
    inner: Arc<Inner>,
}

/// Where a broadcast was queued.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BroadcastReport {
    /// Peers whose queue took the message.
    pub queued: Vec<PublicKey>,
    /// Peers that did not take it, and why (not connected, queue full).
    pub failed: Vec<(PublicKey, SendError)>,
}

impl NetworkHandle {
    pub(crate) fn new(
        shared: Arc<Shared>,
        commands: mpsc::Sender<Command>,
        task: JoinHandle<()>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                shared,
                commands,
                task: Mutex::new(Some(task)),
            }),
        }
    }

    /// Queues `bytes` for the validator `to` on `channel`. Never blocks.
    ///
    /// Fails if `to` is not a peer ([`SendError::UnknownPeer`]), the message is longer than the
    /// channel allows ([`SendError::TooLarge`]), the peer is not connected
    /// ([`SendError::NotConnected`]), its queue for the channel is full
    /// ([`SendError::QueueFull`]), or the network is shut down.
    pub fn send(
        &self,
        to: &PublicKey,
        channel: Channel,
        bytes: impl Into<Bytes>,
    ) -> Result<(), SendError> {
        let bytes = bytes.into();
        check_size(channel, bytes.len())?;
        self.enqueue(to, channel, bytes)
    }

    /// Queues `bytes` for every connected peer on `channel`. Fails as a whole only if the
    /// message is too large or the network is shut down; otherwise reports which peers took it.
    pub fn broadcast(
        &self,
        channel: Channel,
        bytes: impl Into<Bytes>,
    ) -> Result<BroadcastReport, SendError> {
        let bytes = bytes.into();
        check_size(channel, bytes.len())?;
        let mut report = BroadcastReport::default();
        for peer in self.inner.shared.peers.keys() {
            match self.enqueue(peer, channel, bytes.clone()) {
                Ok(()) => report.queued.push(*peer),
                Err(SendError::Shutdown) => return Err(SendError::Shutdown),
                Err(error) => report.failed.push((*peer, error)),
            }
        }
        Ok(report)
    }

    /// Lowers a validator's score for a message the node found invalid (see
    /// [`crate::limits::INVALID_MESSAGE_PENALTY`]); reported as [`crate::NetworkEvent::PeerPenalized`],
    /// and a ban when the score falls far enough. Never blocks: if the network task is busy
    /// with [`crate::limits::COMMAND_QUEUE_DEPTH`] reports already, this one is dropped.
    pub fn penalize(&self, peer: &PublicKey, penalty: Penalty) {
        let _ = self.inner.commands.try_send(Command::Penalize {
            peer: Box::new(*peer),
            penalty,
        });
    }

    /// The validators connected now, in key order.
    pub fn connected_peers(&self) -> Vec<PublicKey> {
        self.inner
            .shared
            .peers
            .iter()
            .filter(|(_, slot)| *slot.connected.borrow())
            .map(|(key, _)| *key)
            .collect()
    }

    /// Whether the validator is connected now.
    pub fn is_connected(&self, peer: &PublicKey) -> bool {
        self.inner
            .shared
            .peers
            .get(peer)
            .is_some_and(|slot| *slot.connected.borrow())
    }

    /// Every configured peer (the node's own key excluded), in key order.
    pub fn peers(&self) -> Vec<PublicKey> {
        self.inner.shared.peers.keys().copied().collect()
    }

    /// The node's own key.
    pub fn local_key(&self) -> PublicKey {
        self.inner.shared.local_key
    }

    /// The address the node listens on (with the actual port when port 0 was configured).
    pub fn local_addr(&self) -> SocketAddr {
        self.inner.shared.local_addr
    }

    /// Stops the network: closes every connection and the listening socket, and ends every
    /// task. Returns once they are gone, so the port can be bound again. The event queue ends
    /// after its last events; other clones of the handle fail with [`SendError::Shutdown`].
    pub async fn shutdown(self) {
        self.inner.shared.closed.store(true, Ordering::Release);
        // An error means the task already stopped.
        let _ = self.inner.commands.send(Command::Shutdown).await;
        let task = self
            .inner
            .task
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(task) = task {
            if let Err(error) = task.await {
                tracing::error!(%error, "network task failed");
            }
        }
    }

    /// Queues without the size check, so tests can send what a faulty peer would.
    #[cfg(test)]
    pub(crate) fn send_unchecked(
        &self,
        to: &PublicKey,
        channel: Channel,
        bytes: impl Into<Bytes>,
    ) -> Result<(), SendError> {
        self.enqueue(to, channel, bytes.into())
    }

    fn enqueue(&self, to: &PublicKey, channel: Channel, bytes: Bytes) -> Result<(), SendError> {
        let shared = &self.inner.shared;
        if shared.closed.load(Ordering::Acquire) {
            return Err(SendError::Shutdown);
        }
        let slot = shared.peers.get(to).ok_or(SendError::UnknownPeer)?;
        if !*slot.connected.borrow() {
            return Err(SendError::NotConnected);
        }
        slot.queues[channel.index()]
            .try_send(bytes)
            .map_err(|error| match error {
                mpsc::error::TrySendError::Full(_) => SendError::QueueFull(channel),
                mpsc::error::TrySendError::Closed(_) => SendError::Shutdown,
            })
    }
}

fn check_size(channel: Channel, len: usize) -> Result<(), SendError> {
    let max = channel.max_message_bytes();
    match u32::try_from(len) {
        Ok(len) if len <= max => Ok(()),
        _ => Err(SendError::TooLarge { channel, len, max }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_check_is_inclusive() {
        for channel in Channel::ALL {
            let max = usize::try_from(channel.max_message_bytes()).unwrap();
            assert_eq!(check_size(channel, max), Ok(()));
            assert_eq!(check_size(channel, 0), Ok(()));
            assert!(matches!(
                check_size(channel, max + 1),
                Err(SendError::TooLarge { len, .. }) if len == max + 1
            ));
        }
    }
}
