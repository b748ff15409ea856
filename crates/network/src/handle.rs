//! The application's side: queueing messages, and stopping the network.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use bytes::Bytes;
use courtledger_crypto::PublicKey;
use libp2p::PeerId;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::channel::Channel;
use crate::config::{PeerAddress, PeerInfo};
use crate::identity;
use crate::limits::MAX_PEERS;
use crate::{AddPeerError, Penalty, SendError};

/// One peer's queues and connection state, shared by the handle, its writers and the network
/// task.
#[derive(Debug)]
pub(crate) struct PeerSlot {
    /// Set by the network task: whether at least one connection to the peer is open.
    pub(crate) connected: watch::Sender<bool>,
    /// One outbound queue per channel, in [`Channel::ALL`] order.
    pub(crate) queues: [mpsc::Sender<Bytes>; 4],
}

impl PeerSlot {
    /// A disconnected slot with empty queues of `depth` messages, and the receiving ends of its
    /// queues (for its writers), in [`Channel::ALL`] order.
    pub(crate) fn new(depth: usize) -> (Arc<PeerSlot>, Vec<mpsc::Receiver<Bytes>>) {
        let (connected, _) = watch::channel(false);
        let mut receivers = Vec::with_capacity(Channel::ALL.len());
        let queues = std::array::from_fn(|_| {
            let (sender, receiver) = mpsc::channel(depth);
            receivers.push(receiver);
            sender
        });
        (Arc::new(PeerSlot { connected, queues }), receivers)
    }
}

/// The peers' slots by key.
pub(crate) type PeerMap = BTreeMap<PublicKey, Arc<PeerSlot>>;

/// State shared by every clone of the handle.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) local_key: PublicKey,
    pub(crate) local_addr: SocketAddr,
    /// Depth of each new peer's queues.
    pub(crate) queue_depth: usize,
    /// Copy on write: readers clone the current map and let go of the lock at once; adding a
    /// peer replaces the map, under the write lock. No lock is held across an await.
    pub(crate) peers: RwLock<Arc<PeerMap>>,
    pub(crate) closed: AtomicBool,
}

impl Shared {
    /// The peers now.
    pub(crate) fn peers(&self) -> Arc<PeerMap> {
        Arc::clone(&self.peers.read().unwrap_or_else(PoisonError::into_inner))
    }
}

/// Commands to the network task.
#[derive(Debug)]
pub(crate) enum Command {
    Shutdown,
    Penalize {
        peer: Box<PublicKey>,
        penalty: Penalty,
    },
    /// A peer to add, or a known peer's new address.
    AddPeer(Box<NewPeer>),
}

/// What the network task needs to add a peer.
#[derive(Debug)]
pub(crate) struct NewPeer {
    pub(crate) key: PublicKey,
    pub(crate) peer_id: PeerId,
    pub(crate) address: PeerAddress,
    /// For a new peer: its slot, already in [`Shared::peers`], and its queues' receiving ends.
    /// `None` when the key was a peer already (only the address changes).
    pub(crate) slot: Option<(Arc<PeerSlot>, Vec<mpsc::Receiver<Bytes>>)>,
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
        let shared = &self.inner.shared;
        if shared.closed.load(Ordering::Acquire) {
            return Err(SendError::Shutdown);
        }
        for (peer, slot) in shared.peers().iter() {
            match enqueue_in(slot, channel, bytes.clone()) {
                Ok(()) => report.queued.push(*peer),
                Err(SendError::Shutdown) => return Err(SendError::Shutdown),
                Err(error) => report.failed.push((*peer, error)),
            }
        }
        Ok(report)
    }

    /// Adds a validator to the peers while the network runs (a governance transaction added it
    /// to the validator set): from now on the node accepts its connections and dials it, like a
    /// configured peer, and [`NetworkHandle::peers`], [`NetworkHandle::send`] and
    /// [`NetworkHandle::broadcast`] include it as soon as this returns. Adding a known peer
    /// again replaces its address: a live connection stays, the next dial uses the new address
    /// (at once, with the backoff reset, if the peer is disconnected and not banned; a dial
    /// under way finishes first). The node's own key is ignored (`Ok`, nothing changes).
    ///
    /// There is no removal: a validator taken out of the set stays a peer until the network
    /// restarts (it may keep following the chain); the node stops counting its votes, not this
    /// crate.
    ///
    /// Never blocks; the network task admits and dials the peer right after. Fails, changing
    /// nothing, if the address is not `host:port` ([`AddPeerError::InvalidAddress`]), if the
    /// node has [`crate::limits::MAX_PEERS`] peers already ([`AddPeerError::TooManyPeers`]), if
    /// [`crate::limits::COMMAND_QUEUE_DEPTH`] commands already wait for the network task
    /// ([`AddPeerError::Busy`]: try again), or if the network is shut down.
    pub fn add_peer(&self, peer: PeerInfo) -> Result<(), AddPeerError> {
        let shared = &self.inner.shared;
        if peer.public_key == shared.local_key {
            return Ok(());
        }
        let address =
            PeerAddress::parse(&peer.address).map_err(|reason| AddPeerError::InvalidAddress {
                address: peer.address.clone(),
                reason,
            })?;
        let peer_id = identity::peer_id(&peer.public_key)
            .map_err(|error| AddPeerError::InvalidKey(error.to_string()))?;
        if shared.closed.load(Ordering::Acquire) {
            return Err(AddPeerError::Shutdown);
        }
        let permit = self
            .inner
            .commands
            .try_reserve()
            .map_err(|error| match error {
                mpsc::error::TrySendError::Full(()) => AddPeerError::Busy,
                mpsc::error::TrySendError::Closed(()) => AddPeerError::Shutdown,
            })?;
        // The command is sent under the write lock, so the network task sees the additions of
        // one key in the order they took the lock (the first one brings the slot).
        let mut peers = shared.peers.write().unwrap_or_else(PoisonError::into_inner);
        let slot = if peers.contains_key(&peer.public_key) {
            None
        } else {
            if peers.len() >= MAX_PEERS {
                return Err(AddPeerError::TooManyPeers { max: MAX_PEERS });
            }
            let (slot, receivers) = PeerSlot::new(shared.queue_depth);
            Arc::make_mut(&mut peers).insert(peer.public_key, Arc::clone(&slot));
            Some((slot, receivers))
        };
        permit.send(Command::AddPeer(Box::new(NewPeer {
            key: peer.public_key,
            peer_id,
            address,
            slot,
        })));
        Ok(())
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
            .peers()
            .iter()
            .filter(|(_, slot)| *slot.connected.borrow())
            .map(|(key, _)| *key)
            .collect()
    }

    /// Whether the validator is connected now.
    pub fn is_connected(&self, peer: &PublicKey) -> bool {
        self.inner
            .shared
            .peers()
            .get(peer)
            .is_some_and(|slot| *slot.connected.borrow())
    }

    /// Every peer, configured or added with [`NetworkHandle::add_peer`] (the node's own key
    /// excluded), in key order.
    pub fn peers(&self) -> Vec<PublicKey> {
        self.inner.shared.peers().keys().copied().collect()
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
        let peers = shared.peers();
        let slot = peers.get(to).ok_or(SendError::UnknownPeer)?;
        enqueue_in(slot, channel, bytes)
    }
}

fn enqueue_in(slot: &PeerSlot, channel: Channel, bytes: Bytes) -> Result<(), SendError> {
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
