//! The tasks that move frames: one writer per peer and channel, one acceptor per channel, one
//! reader per inbound stream.

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use bytes::Bytes;
use courtledger_crypto::PublicKey;
use futures::{AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _, StreamExt as _};
use libp2p::{PeerId, Stream};
use libp2p_stream::{Control, IncomingStreams};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::{sleep, timeout};

use crate::channel::Channel;
use crate::frame::{read_frame, write_frame, FrameError, READY};
use crate::limits::{
    MAX_FRAMES_PER_FLUSH, STREAM_OPEN_TIMEOUT, STREAM_RETRY_INITIAL, STREAM_RETRY_MAX,
};
use crate::{NetworkEvent, Penalty};

/// What readers report to the network task.
#[derive(Debug)]
pub(crate) enum Internal {
    /// A peer broke the protocol.
    Penalty { peer_id: PeerId, penalty: Penalty },
    /// A host name was resolved (or not) for a dial.
    Resolved {
        index: usize,
        result: Result<Vec<std::net::SocketAddr>, String>,
    },
}

/// What readers share.
pub(crate) struct ReaderContext {
    /// The peers' keys by peer id (the network task adds those of added peers).
    pub(crate) keys: RwLock<HashMap<PeerId, PublicKey>>,
    /// The event queue.
    pub(crate) events: mpsc::Sender<NetworkEvent>,
    /// To the network task.
    pub(crate) internal: mpsc::Sender<Internal>,
    /// The current reader of each peer's channel.
    pub(crate) readers: Mutex<HashMap<(PeerId, Channel), JoinHandle<()>>>,
}

impl ReaderContext {
    /// The key of a peer.
    pub(crate) fn key_of(&self, peer_id: &PeerId) -> Option<PublicKey> {
        self.keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(peer_id)
            .copied()
    }

    /// Makes a peer's streams readable.
    pub(crate) fn add_key(&self, peer_id: PeerId, key: PublicKey) {
        self.keys
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(peer_id, key);
    }

    pub(crate) fn readers(&self) -> MutexGuard<'_, HashMap<(PeerId, Channel), JoinHandle<()>>> {
        self.readers.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Takes the inbound streams of `channel` as fast as they come (libp2p drops those not taken in
/// time) and starts a reader for each.
pub(crate) async fn accept_streams(
    channel: Channel,
    mut incoming: IncomingStreams,
    context: Arc<ReaderContext>,
) {
    while let Some((peer_id, stream)) = incoming.next().await {
        let Some(key) = context.key_of(&peer_id) else {
            // The allow list admits no one else; never read a stranger's stream.
            tracing::warn!(%peer_id, %channel, "stream from a peer that is not a validator");
            continue;
        };
        let mut readers = context.readers();
        let predecessor = readers.remove(&(peer_id, channel));
        let reader = tokio::spawn(read_stream(
            Arc::clone(&context),
            key,
            peer_id,
            channel,
            stream,
            predecessor,
        ));
        readers.insert((peer_id, channel), reader);
    }
}

/// Reads the frames of one inbound stream into the event queue, after the previous reader of
/// the same peer and channel has ended (so messages stay in order).
async fn read_stream(
    context: Arc<ReaderContext>,
    from: PublicKey,
    peer_id: PeerId,
    channel: Channel,
    mut stream: Stream,
    predecessor: Option<JoinHandle<()>>,
) {
    if let Some(predecessor) = predecessor {
        predecessor.abort();
        // Cancelled or finished: either way it delivers nothing more.
        let _ = predecessor.await;
    }
    let ready = timeout(STREAM_OPEN_TIMEOUT, async {
        stream.write_all(&[READY]).await?;
        stream.flush().await
    })
    .await;
    if !matches!(ready, Ok(Ok(()))) {
        tracing::debug!(%peer_id, %channel, "could not acknowledge an inbound stream");
        return;
    }
    loop {
        match read_frame(&mut stream, channel).await {
            Ok(Some(bytes)) => {
                let event = NetworkEvent::Message {
                    from,
                    channel,
                    bytes,
                };
                if context.events.send(event).await.is_err() {
                    return; // Nobody listens any more.
                }
            }
            Ok(None) => return,
            Err(FrameError::Oversized { channel, len, max }) => {
                tracing::warn!(%peer_id, %channel, len, max, "oversized frame; dropping the stream");
                let penalty = Penalty::OversizedFrame { channel, len, max };
                let _ = context
                    .internal
                    .send(Internal::Penalty { peer_id, penalty })
                    .await;
                return;
            }
            Err(error) => {
                tracing::debug!(%peer_id, %channel, %error, "inbound stream ended");
                return;
            }
        }
    }
}

/// Sends the queued messages of one peer and channel, over one stream at a time, opened when
/// the peer is connected and reopened after a failure. Drops the queue when the peer
/// disconnects.
pub(crate) async fn write_queue(
    peer_id: PeerId,
    channel: Channel,
    mut control: Control,
    mut queue: mpsc::Receiver<Bytes>,
    mut connected: watch::Receiver<bool>,
) {
    let mut retry = STREAM_RETRY_INITIAL;
    loop {
        if connected.wait_for(|connected| *connected).await.is_err() {
            return;
        }
        let stream = match open_stream(&mut control, peer_id, channel).await {
            Ok(stream) => {
                retry = STREAM_RETRY_INITIAL;
                stream
            }
            Err(error) => {
                tracing::debug!(%peer_id, %channel, %error, "could not open a stream; retrying");
                tokio::select! {
                    () = sleep(retry) => {}
                    _ = connected.wait_for(|connected| !*connected) => {}
                }
                retry = retry.saturating_mul(2).min(STREAM_RETRY_MAX);
                if !*connected.borrow() {
                    drain(&mut queue);
                }
                continue;
            }
        };
        // The receiver writes nothing after its ready byte: anything readable is its end of
        // the stream (it dropped the stream, for instance after an oversized frame), and frames
        // written after that would be lost. So watch for it, and reopen.
        let (mut receiver_side, mut sender_side) = stream.split();
        let mut probe = [0u8; 1];
        loop {
            tokio::select! {
                biased;
                changed = connected.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    if !*connected.borrow_and_update() {
                        drain(&mut queue);
                        break;
                    }
                }
                closed = receiver_side.read(&mut probe) => {
                    tracing::debug!(%peer_id, %channel, ?closed, "receiver closed the stream; reopening");
                    break;
                }
                message = queue.recv() => {
                    let Some(message) = message else {
                        return;
                    };
                    if let Err(error) = write_batch(&mut sender_side, message, &mut queue).await {
                        tracing::debug!(%peer_id, %channel, %error, "stream failed; reopening");
                        break;
                    }
                }
            }
        }
    }
}

/// Opens a stream and waits for the receiver's ready byte.
async fn open_stream(
    control: &mut Control,
    peer_id: PeerId,
    channel: Channel,
) -> io::Result<Stream> {
    let opened = timeout(STREAM_OPEN_TIMEOUT, async {
        let mut stream = control
            .open_stream(peer_id, channel.protocol())
            .await
            .map_err(|error| io::Error::other(error.to_string()))?;
        let mut ready = [0u8; 1];
        stream.read_exact(&mut ready).await?;
        if ready[0] != READY {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "unexpected first byte from the receiver",
            ));
        }
        Ok(stream)
    })
    .await;
    opened.unwrap_or_else(|_| Err(io::ErrorKind::TimedOut.into()))
}

/// Writes `first` and up to [`MAX_FRAMES_PER_FLUSH`] - 1 more queued messages, then flushes.
async fn write_batch<W: AsyncWrite + Unpin>(
    stream: &mut W,
    first: Bytes,
    queue: &mut mpsc::Receiver<Bytes>,
) -> io::Result<()> {
    write_frame(stream, &first).await?;
    for _ in 1..MAX_FRAMES_PER_FLUSH {
        match queue.try_recv() {
            Ok(next) => write_frame(stream, &next).await?,
            Err(_) => break,
        }
    }
    stream.flush().await
}

fn drain(queue: &mut mpsc::Receiver<Bytes>) {
    let mut dropped = 0usize;
    while queue.try_recv().is_ok() {
        dropped += 1;
    }
    if dropped > 0 {
        tracing::debug!(dropped, "peer disconnected; dropped queued messages");
    }
}
