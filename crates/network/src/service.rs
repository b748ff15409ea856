//! The network task: owns the libp2p swarm, dials with backoff, tracks connections, scores and
//! bans, and reports status events.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use bytes::Bytes;
use courtledger_crypto::PublicKey;
use futures::StreamExt as _;
use libp2p::allow_block_list::{self, AllowedPeers};
use libp2p::connection_limits::{self, ConnectionLimits};
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::swarm::{ConnectionId, ListenError, NetworkBehaviour, SwarmEvent};
use libp2p::{noise, ping, tcp, yamux, Multiaddr, PeerId, Swarm, SwarmBuilder};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::{sleep_until, timeout, Instant};

use crate::channel::Channel;
use crate::config::{multiaddr_socket, socket_multiaddr, Backoff, NetworkConfig, PeerAddress};
use crate::handle::{Command, NetworkHandle, NewPeer, PeerSlot, Shared};
use crate::identity;
use crate::limits::{
    BAN_SCORE, COMMAND_QUEUE_DEPTH, IDLE_CONNECTION_TIMEOUT, INITIAL_SCORE, INTERNAL_QUEUE_DEPTH,
    LISTEN_TIMEOUT, MAX_CONNECTIONS_PER_PEER, MAX_PEERS, MAX_PENDING_INCOMING,
    MAX_PENDING_STATUS_EVENTS, MAX_REMEMBERED_REFUSALS, PING_INTERVAL, PING_TIMEOUT,
    REFUSAL_REPORT_INTERVAL, RESOLVE_TIMEOUT, SCORE_RECOVERY_PER_SECOND,
};
use crate::streams::{accept_streams, write_queue, Internal, ReaderContext};
use crate::{NetworkError, NetworkEvent, Penalty, RefusalReason};

/// The libp2p behaviours, in the order they see a new connection: the allow list first, so a
/// refused connection never reaches the others.
#[derive(NetworkBehaviour)]
struct Behaviour {
    allow: allow_block_list::Behaviour<AllowedPeers>,
    limits: connection_limits::Behaviour,
    ping: ping::Behaviour,
    streams: libp2p_stream::Behaviour,
}

/// Where a peer's dialling stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dial {
    /// Dial when disconnected and `next_attempt` has come.
    Idle { next_attempt: Instant },
    /// Waiting for the host name to resolve.
    Resolving,
    /// A dial is under way.
    Dialing(ConnectionId),
}

#[derive(Debug)]
struct PeerState {
    key: PublicKey,
    peer_id: PeerId,
    address: PeerAddress,
    connected_since: Option<Instant>,
    dial: Dial,
    /// The delay before the next attempt after a failure.
    delay: Duration,
    score: i32,
    score_updated: Instant,
    banned_until: Option<Instant>,
    /// Its queues and connection flag, shared with the handle.
    slot: Arc<PeerSlot>,
}

impl PeerState {
    /// A new peer, disconnected, to be dialled at once.
    fn new(
        key: PublicKey,
        peer_id: PeerId,
        address: PeerAddress,
        slot: Arc<PeerSlot>,
        backoff: Backoff,
    ) -> Self {
        let now = Instant::now();
        Self {
            key,
            peer_id,
            address,
            connected_since: None,
            dial: Dial::Idle { next_attempt: now },
            delay: backoff.initial,
            score: INITIAL_SCORE,
            score_updated: now,
            banned_until: None,
            slot,
        }
    }
}

/// Starts a peer's writers, one per channel.
fn spawn_writers(
    tasks: &mut JoinSet<()>,
    swarm: &Swarm<Behaviour>,
    peer_id: PeerId,
    slot: &PeerSlot,
    receivers: Vec<mpsc::Receiver<Bytes>>,
) {
    for (channel, queue) in Channel::ALL.into_iter().zip(receivers) {
        tasks.spawn(write_queue(
            peer_id,
            channel,
            swarm.behaviour().streams.new_control(),
            queue,
            slot.connected.subscribe(),
        ));
    }
}

struct Service {
    swarm: Swarm<Behaviour>,
    peers: Vec<PeerState>,
    by_peer_id: HashMap<PeerId, usize>,
    shared: Arc<Shared>,
    backoff: Backoff,
    ban_duration: Duration,
    commands: mpsc::Receiver<Command>,
    internal: mpsc::Receiver<Internal>,
    internal_sender: mpsc::Sender<Internal>,
    events: mpsc::Sender<NetworkEvent>,
    /// Status events waiting for room in `events`.
    pending: VecDeque<NetworkEvent>,
    /// When each recently refused peer id was last reported.
    refusals: HashMap<PeerId, Instant>,
    /// Writers, acceptors and resolvers.
    tasks: JoinSet<()>,
    readers: Arc<ReaderContext>,
}

pub(crate) async fn start(
    config: NetworkConfig,
) -> Result<(NetworkHandle, mpsc::Receiver<NetworkEvent>), NetworkError> {
    if config.queue_depth == 0 {
        return Err(NetworkError::Config(
            "queue_depth must be at least 1".into(),
        ));
    }
    if config.backoff.initial.is_zero() || config.backoff.max < config.backoff.initial {
        return Err(NetworkError::Config(
            "backoff must have 0 < initial <= max".into(),
        ));
    }
    let local_key = config.key.public_key();
    let keypair = identity::keypair(&config.key)?;
    let mut peers: Vec<PeerState> = Vec::new();
    // The receiving ends of each peer's queues, in the order of `peers`.
    let mut writer_ends = Vec::new();
    for info in &config.peers {
        if info.public_key == local_key {
            continue;
        }
        if peers.iter().any(|peer| peer.key == info.public_key) {
            return Err(NetworkError::Config(format!(
                "peer {} is listed twice",
                info.public_key
            )));
        }
        if peers.len() >= MAX_PEERS {
            return Err(NetworkError::Config(format!(
                "more than {MAX_PEERS} peers (the node's own entry excluded)"
            )));
        }
        let address =
            PeerAddress::parse(&info.address).map_err(|reason| NetworkError::InvalidAddress {
                peer: info.public_key.to_string(),
                address: info.address.clone(),
                reason,
            })?;
        let peer_id = identity::peer_id(&info.public_key)?;
        let (slot, receivers) = PeerSlot::new(config.queue_depth);
        peers.push(PeerState::new(
            info.public_key,
            peer_id,
            address,
            slot,
            config.backoff,
        ));
        writer_ends.push(receivers);
    }

    let mut allow = allow_block_list::Behaviour::<AllowedPeers>::default();
    for peer in &peers {
        allow.allow_peer(peer.peer_id);
    }
    let behaviour = Behaviour {
        allow,
        limits: connection_limits::Behaviour::new(
            ConnectionLimits::default()
                .with_max_pending_incoming(Some(MAX_PENDING_INCOMING))
                .with_max_established_per_peer(Some(MAX_CONNECTIONS_PER_PEER)),
        ),
        ping: ping::Behaviour::new(
            ping::Config::new()
                .with_interval(PING_INTERVAL)
                .with_timeout(PING_TIMEOUT),
        ),
        streams: libp2p_stream::Behaviour::new(),
    };
    let mut swarm = SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|error| NetworkError::Transport(error.to_string()))?
        .with_behaviour(|_| behaviour)
        .map_err(|error: Infallible| match error {})?
        .with_swarm_config(|swarm_config| {
            swarm_config.with_idle_connection_timeout(IDLE_CONNECTION_TIMEOUT)
        })
        .build();

    let (local_addr, early_events) = listen(&mut swarm, config.listen).await?;

    // Queues and connection flags, shared with the handle.
    let slots = peers
        .iter()
        .map(|peer| (peer.key, Arc::clone(&peer.slot)))
        .collect();
    let shared = Arc::new(Shared {
        local_key,
        local_addr,
        queue_depth: config.queue_depth,
        peers: RwLock::new(Arc::new(slots)),
        closed: AtomicBool::new(false),
    });

    let (events, events_receiver) = mpsc::channel(config.queue_depth);
    let (internal_sender, internal) = mpsc::channel(INTERNAL_QUEUE_DEPTH);
    let readers = Arc::new(ReaderContext {
        keys: RwLock::new(peers.iter().map(|peer| (peer.peer_id, peer.key)).collect()),
        events: events.clone(),
        internal: internal_sender.clone(),
        readers: Mutex::new(HashMap::new()),
    });

    let mut tasks = JoinSet::new();
    let mut control = swarm.behaviour().streams.new_control();
    for channel in Channel::ALL {
        let incoming = control
            .accept(channel.protocol())
            .map_err(|error| NetworkError::Transport(error.to_string()))?;
        tasks.spawn(accept_streams(channel, incoming, Arc::clone(&readers)));
    }
    for (peer, receivers) in peers.iter().zip(writer_ends) {
        spawn_writers(&mut tasks, &swarm, peer.peer_id, &peer.slot, receivers);
    }

    let by_peer_id = peers
        .iter()
        .enumerate()
        .map(|(index, peer)| (peer.peer_id, index))
        .collect();
    let (command_sender, commands) = mpsc::channel(COMMAND_QUEUE_DEPTH);
    let mut service = Service {
        swarm,
        peers,
        by_peer_id,
        shared: Arc::clone(&shared),
        backoff: config.backoff,
        ban_duration: config.ban_duration,
        commands,
        internal,
        internal_sender,
        events,
        pending: VecDeque::new(),
        refusals: HashMap::new(),
        tasks,
        readers,
    };
    for event in early_events {
        service.on_swarm_event(event);
    }
    tracing::info!(%local_addr, peer_id = %service.swarm.local_peer_id(), "network started");
    let task = tokio::spawn(service.run());
    Ok((
        NetworkHandle::new(shared, command_sender, task),
        events_receiver,
    ))
}

/// Binds the listening socket and waits for its address. Returns the events seen meanwhile, to
/// be handled as usual.
async fn listen(
    swarm: &mut Swarm<Behaviour>,
    address: SocketAddr,
) -> Result<(SocketAddr, Vec<SwarmEvent<BehaviourEvent>>), NetworkError> {
    let listen_error = |reason: String| NetworkError::Listen { address, reason };
    // libp2p's listener sets SO_REUSEPORT, so a second node on the same port would bind too and
    // silently share the connections. A plain bind first fails if anyone listens there.
    if address.port() != 0 {
        drop(
            std::net::TcpListener::bind(address)
                .map_err(|error| listen_error(error.to_string()))?,
        );
    }
    swarm
        .listen_on(socket_multiaddr(address))
        .map_err(|error| listen_error(error.to_string()))?;
    let mut early_events = Vec::new();
    let waited = timeout(LISTEN_TIMEOUT, async {
        loop {
            match swarm.select_next_some().await {
                SwarmEvent::NewListenAddr { address: bound, .. } => {
                    return multiaddr_socket(&bound)
                        .map(|socket| SocketAddr::new(address.ip(), socket.port()))
                        .ok_or_else(|| format!("unexpected listen address {bound}"));
                }
                SwarmEvent::ListenerClosed { reason, .. } => {
                    return Err(format!("listener closed: {reason:?}"));
                }
                SwarmEvent::ListenerError { error, .. } => return Err(error.to_string()),
                other => early_events.push(other),
            }
        }
    })
    .await;
    match waited {
        Ok(Ok(local)) => Ok((local, early_events)),
        Ok(Err(reason)) => Err(listen_error(reason)),
        Err(_) => Err(listen_error("timed out".into())),
    }
}

impl Service {
    async fn run(mut self) {
        loop {
            self.on_timers(Instant::now());
            let wake = self.next_wakeup();
            let sleep = async move {
                match wake {
                    Some(at) => sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            // An owned permit, so that no branch's output borrows `self`.
            let events = self.events.clone();
            tokio::select! {
                command = self.commands.recv() => match command {
                    Some(Command::Shutdown) | None => break,
                    Some(Command::Penalize { peer, penalty }) => {
                        if let Some(peer_id) = self.peer_id_of_key(&peer) {
                            self.penalize(peer_id, penalty);
                        }
                    }
                    Some(Command::AddPeer(new)) => self.add_peer(*new),
                },
                event = self.swarm.select_next_some() => self.on_swarm_event(event),
                Some(internal) = self.internal.recv() => self.on_internal(internal),
                permit = events.reserve_owned(), if !self.pending.is_empty() => match permit {
                    Ok(permit) => {
                        if let Some(event) = self.pending.pop_front() {
                            permit.send(event);
                        }
                    }
                    // Nobody listens any more; keep the network running for senders.
                    Err(_) => self.pending.clear(),
                },
                () = sleep => {}
            }
        }
        self.stop().await;
    }

    async fn stop(mut self) {
        self.shared.closed.store(true, Ordering::Release);
        // No new readers once the acceptors are gone; then end the readers.
        self.tasks.shutdown().await;
        let readers: Vec<_> = self
            .readers
            .readers()
            .drain()
            .map(|(_, task)| task)
            .collect();
        for reader in readers {
            reader.abort();
            let _ = reader.await;
        }
        for slot in self.shared.peers().values() {
            slot.connected.send_replace(false);
        }
        tracing::info!(peer_id = %self.swarm.local_peer_id(), "network stopped");
        // Dropping the swarm closes the listener and every connection.
    }

    /// Admits and dials a peer added through the handle (its slot is in the shared map
    /// already), or changes a known peer's address.
    fn add_peer(&mut self, new: NewPeer) {
        let NewPeer {
            key,
            peer_id,
            address,
            slot,
        } = new;
        if let Some(&index) = self.by_peer_id.get(&peer_id) {
            let initial = self.backoff.initial;
            let peer = &mut self.peers[index];
            if peer.address != address {
                tracing::info!(peer = %key, old = %peer.address, new = %address, "peer address changed");
                peer.address = address;
            }
            // Try the new address now rather than after a long backoff; a dial under way
            // finishes first, and a ban still holds.
            if peer.connected_since.is_none()
                && peer.banned_until.is_none()
                && matches!(peer.dial, Dial::Idle { .. })
            {
                peer.delay = initial;
                peer.dial = Dial::Idle {
                    next_attempt: Instant::now(),
                };
            }
            return;
        }
        let Some((slot, receivers)) = slot else {
            // The handle sends the slot with the first addition of a key.
            tracing::error!(peer = %key, "added peer without queues; ignored");
            return;
        };
        // Readable before it is allowed in, so its first streams are not turned away.
        self.readers.add_key(peer_id, key);
        spawn_writers(&mut self.tasks, &self.swarm, peer_id, &slot, receivers);
        tracing::info!(peer = %key, %address, "peer added");
        self.by_peer_id.insert(peer_id, self.peers.len());
        self.peers
            .push(PeerState::new(key, peer_id, address, slot, self.backoff));
        self.swarm.behaviour_mut().allow.allow_peer(peer_id);
    }

    fn push_event(&mut self, event: NetworkEvent) {
        if self.pending.len() >= MAX_PENDING_STATUS_EVENTS {
            if let Some(dropped) = self.pending.pop_front() {
                tracing::warn!(
                    ?dropped,
                    "event queue full; dropping the oldest status event"
                );
            }
        }
        self.pending.push_back(event);
    }

    /// The next time a ban ends or a dial is due.
    fn next_wakeup(&self) -> Option<Instant> {
        self.peers
            .iter()
            .filter_map(|peer| match (peer.banned_until, peer.dial) {
                (Some(until), _) => Some(until),
                (None, Dial::Idle { next_attempt }) if peer.connected_since.is_none() => {
                    Some(next_attempt)
                }
                _ => None,
            })
            .min()
    }

    fn on_timers(&mut self, now: Instant) {
        for index in 0..self.peers.len() {
            let peer = &mut self.peers[index];
            if let Some(until) = peer.banned_until {
                if until > now {
                    continue;
                }
                tracing::info!(peer = %peer.key, "ban ended");
                peer.banned_until = None;
                peer.score = INITIAL_SCORE;
                peer.score_updated = now;
                peer.delay = self.backoff.initial;
                peer.dial = Dial::Idle { next_attempt: now };
                let peer_id = peer.peer_id;
                self.swarm.behaviour_mut().allow.allow_peer(peer_id);
            }
            let peer = &self.peers[index];
            let due = matches!(peer.dial, Dial::Idle { next_attempt } if next_attempt <= now);
            if due && peer.connected_since.is_none() {
                self.start_dial(index);
            }
        }
    }

    fn start_dial(&mut self, index: usize) {
        match self.peers[index].address.clone() {
            PeerAddress::Socket(socket) => self.dial(index, vec![socket_multiaddr(socket)]),
            PeerAddress::Host { host, port } => {
                self.peers[index].dial = Dial::Resolving;
                let internal = self.internal_sender.clone();
                self.tasks.spawn(async move {
                    let result = match timeout(
                        RESOLVE_TIMEOUT,
                        tokio::net::lookup_host((host.as_str(), port)),
                    )
                    .await
                    {
                        Ok(Ok(addresses)) => Ok(addresses.collect()),
                        Ok(Err(error)) => Err(error.to_string()),
                        Err(_) => Err("timed out".to_owned()),
                    };
                    let _ = internal.send(Internal::Resolved { index, result }).await;
                });
            }
        }
    }

    fn dial(&mut self, index: usize, addresses: Vec<Multiaddr>) {
        let peer_id = self.peers[index].peer_id;
        if self.swarm.is_connected(&peer_id) {
            // It connected to us meanwhile (the event may not have been handled yet).
            let peer = &mut self.peers[index];
            peer.dial = Dial::Idle {
                next_attempt: Instant::now() + peer.delay,
            };
            return;
        }
        let options = DialOpts::peer_id(peer_id)
            .addresses(addresses)
            .condition(PeerCondition::DisconnectedAndNotDialing)
            // Not from the listening port: two nodes dialling each other at once would otherwise
            // make the same TCP 4-tuple.
            .allocate_new_port()
            .build();
        let connection_id = options.connection_id();
        match self.swarm.dial(options) {
            Ok(()) => self.peers[index].dial = Dial::Dialing(connection_id),
            Err(error) => self.dial_failed(index, &error.to_string()),
        }
    }

    fn dial_failed(&mut self, index: usize, reason: &str) {
        let now = Instant::now();
        let backoff = self.backoff;
        let peer = &mut self.peers[index];
        tracing::debug!(peer = %peer.key, address = %peer.address, delay = ?peer.delay, reason, "dial failed");
        let next_attempt = peer.banned_until.unwrap_or(now + peer.delay);
        peer.dial = Dial::Idle { next_attempt };
        peer.delay = backoff.next(peer.delay);
    }

    fn on_internal(&mut self, internal: Internal) {
        match internal {
            Internal::Penalty { peer_id, penalty } => self.penalize(peer_id, penalty),
            Internal::Resolved { index, result } => {
                if self.peers.get(index).map(|peer| peer.dial) != Some(Dial::Resolving) {
                    return;
                }
                match result {
                    Ok(sockets) if !sockets.is_empty() => {
                        let addresses = sockets.into_iter().map(socket_multiaddr).collect();
                        self.dial(index, addresses);
                    }
                    Ok(_) => self.dial_failed(index, "host name has no address"),
                    Err(reason) => self.dial_failed(index, &reason),
                }
            }
        }
    }

    fn peer_id_of_key(&self, key: &PublicKey) -> Option<PeerId> {
        self.by_peer_id
            .iter()
            .find(|(_, index)| self.peers.get(**index).is_some_and(|peer| &peer.key == key))
            .map(|(peer_id, _)| *peer_id)
    }

    fn penalize(&mut self, peer_id: PeerId, penalty: Penalty) {
        let Some(&index) = self.by_peer_id.get(&peer_id) else {
            return;
        };
        let now = Instant::now();
        let ban_duration = self.ban_duration;
        let peer = &mut self.peers[index];
        if peer.banned_until.is_some() {
            return;
        }
        let recovered = now
            .duration_since(peer.score_updated)
            .as_secs()
            .saturating_mul(SCORE_RECOVERY_PER_SECOND);
        let recovered = i32::try_from(recovered).unwrap_or(i32::MAX);
        peer.score = peer
            .score
            .saturating_add(recovered)
            .min(INITIAL_SCORE)
            .saturating_sub(penalty.points());
        peer.score_updated = now;
        let key = peer.key;
        let score = peer.score;
        let banned_for = if score <= BAN_SCORE {
            peer.banned_until = Some(now + ban_duration);
            peer.dial = Dial::Idle {
                next_attempt: now + ban_duration,
            };
            // Closes its connections; new ones are refused until the ban ends.
            self.swarm.behaviour_mut().allow.disallow_peer(peer_id);
            tracing::warn!(peer = %key, ?penalty, score, ?ban_duration, "peer banned");
            Some(ban_duration)
        } else {
            tracing::warn!(peer = %key, ?penalty, score, "peer penalized");
            None
        };
        self.push_event(NetworkEvent::PeerPenalized {
            peer: key,
            penalty,
            score,
            banned_for,
        });
    }

    fn refused(&mut self, peer_id: PeerId) {
        let now = Instant::now();
        if let Some(last) = self.refusals.get(&peer_id) {
            if now.duration_since(*last) < REFUSAL_REPORT_INTERVAL {
                return;
            }
        }
        if self.refusals.len() >= MAX_REMEMBERED_REFUSALS {
            self.refusals
                .retain(|_, last| now.duration_since(*last) < REFUSAL_REPORT_INTERVAL);
        }
        self.refusals.insert(peer_id, now);
        let banned = self
            .by_peer_id
            .get(&peer_id)
            .is_some_and(|&index| self.peers[index].banned_until.is_some());
        let reason = if banned {
            RefusalReason::Banned
        } else {
            RefusalReason::NotAValidator
        };
        tracing::info!(%peer_id, ?reason, "connection refused");
        self.push_event(NetworkEvent::PeerRefused {
            peer_id: peer_id.to_string(),
            reason,
        });
    }

    fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::ConnectionEstablished {
                peer_id,
                connection_id,
                endpoint,
                num_established,
                ..
            } => {
                let Some(&index) = self.by_peer_id.get(&peer_id) else {
                    return;
                };
                let peer = &mut self.peers[index];
                if peer.dial == Dial::Dialing(connection_id) {
                    peer.dial = Dial::Idle {
                        next_attempt: Instant::now(),
                    };
                }
                tracing::debug!(peer = %peer.key, ?endpoint, num_established, "connection established");
                if num_established.get() == 1 {
                    peer.connected_since = Some(Instant::now());
                    let key = peer.key;
                    peer.slot.connected.send_replace(true);
                    self.push_event(NetworkEvent::PeerConnected(key));
                }
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established,
                cause,
                ..
            } => {
                let Some(&index) = self.by_peer_id.get(&peer_id) else {
                    return;
                };
                let now = Instant::now();
                let backoff = self.backoff;
                let peer = &mut self.peers[index];
                tracing::debug!(peer = %peer.key, ?cause, num_established, "connection closed");
                if num_established > 0 {
                    return;
                }
                let stable = peer
                    .connected_since
                    .take()
                    .is_some_and(|since| now.duration_since(since) >= backoff.max);
                if stable {
                    peer.delay = backoff.initial;
                }
                if let Dial::Idle { .. } = peer.dial {
                    let next_attempt = peer.banned_until.unwrap_or(now + peer.delay);
                    peer.dial = Dial::Idle { next_attempt };
                    peer.delay = backoff.next(peer.delay);
                }
                let key = peer.key;
                peer.slot.connected.send_replace(false);
                self.push_event(NetworkEvent::PeerDisconnected(key));
            }
            SwarmEvent::OutgoingConnectionError {
                connection_id,
                error,
                ..
            } => {
                let index = self
                    .peers
                    .iter()
                    .position(|peer| peer.dial == Dial::Dialing(connection_id));
                if let Some(index) = index {
                    self.dial_failed(index, &error.to_string());
                }
            }
            SwarmEvent::IncomingConnectionError {
                peer_id,
                error,
                send_back_addr,
                ..
            } => match (peer_id, error) {
                (Some(peer_id), ListenError::Denied { cause })
                    if cause
                        .downcast_ref::<allow_block_list::NotAllowed>()
                        .is_some() =>
                {
                    self.refused(peer_id);
                }
                (peer_id, error) => {
                    tracing::debug!(?peer_id, %send_back_addr, %error, "incoming connection failed");
                }
            },
            SwarmEvent::Behaviour(BehaviourEvent::Ping(ping::Event {
                peer,
                connection,
                result: Err(failure),
            })) => {
                tracing::info!(%peer, %failure, "ping failed; closing the connection");
                self.swarm.close_connection(connection);
            }
            SwarmEvent::ListenerClosed { reason, .. } => {
                tracing::error!(?reason, "listener closed");
            }
            SwarmEvent::ListenerError { error, .. } => {
                tracing::warn!(%error, "listener error");
            }
            other => tracing::trace!(?other, "swarm event"),
        }
    }
}
