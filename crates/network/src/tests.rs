//! Nodes on real sockets on 127.0.0.1, each test bounded by timeouts.

use std::collections::BTreeMap;
use std::time::Duration;

use courtledger_crypto::{PublicKey, SigningKey};
use courtledger_types::peer_id::peer_id_of;
use tokio::sync::mpsc;
use tokio::time::{sleep, timeout, timeout_at, Instant};

use crate::limits::MAX_PEERS;
use crate::{
    start, AddPeerError, Backoff, Channel, NetworkConfig, NetworkError, NetworkEvent,
    NetworkHandle, PeerInfo, Penalty, RefusalReason, SendError,
};

/// Generous bound for anything that should take milliseconds; only reached on failure.
const PATIENCE: Duration = Duration::from_secs(10);

/// Key `n` of this test process: test processes running at once (and reusing each other's
/// freed ports) must not share identities.
fn key(n: u8) -> SigningKey {
    let mut seed = [n; 32];
    seed[..4].copy_from_slice(&std::process::id().to_be_bytes());
    SigningKey::from_seed(&seed)
}

/// A port that was free a moment ago, from a test-local range below the ephemeral ports (Linux
/// hands out 32768 and up to outgoing connections, which could take a port between this pick
/// and the bind, or while a restarted node is down). Each test process starts at its own offset.
fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    const FIRST: u32 = 20_000;
    const SPAN: u32 = 12_000;
    static NEXT: AtomicU32 = AtomicU32::new(u32::MAX);
    let _ = NEXT.compare_exchange(
        u32::MAX,
        std::process::id() % 400 * 30,
        Ordering::Relaxed,
        Ordering::Relaxed,
    );
    for _ in 0..SPAN {
        let offset = NEXT.fetch_add(1, Ordering::Relaxed) % SPAN;
        let port = u16::try_from(FIRST + offset).unwrap();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port in {FIRST}..{}", FIRST + SPAN);
}

struct Node {
    key: PublicKey,
    handle: NetworkHandle,
    events: mpsc::Receiver<NetworkEvent>,
}

/// Starts a node listening on `port`, with `set` (keys and ports) as its peers.
async fn start_node(
    key: &SigningKey,
    port: u16,
    set: &[(PublicKey, u16)],
    tweak: impl FnOnce(&mut NetworkConfig),
) -> Node {
    let peers = set
        .iter()
        .map(|(public_key, port)| PeerInfo {
            public_key: *public_key,
            address: format!("127.0.0.1:{port}"),
        })
        .collect();
    let mut config = NetworkConfig::new(key.clone(), ([127, 0, 0, 1], port).into(), peers);
    config.backoff = Backoff {
        initial: Duration::from_millis(50),
        max: Duration::from_millis(500),
    };
    tweak(&mut config);
    let (handle, events) = start(config).await.unwrap();
    assert_eq!(handle.local_addr().port(), port);
    Node {
        key: key.public_key(),
        handle,
        events,
    }
}

/// `count` validators, all started, with their keys and ports.
async fn start_mesh(first_seed: u8, count: u8) -> (Vec<SigningKey>, Vec<u16>, Vec<Node>) {
    let keys: Vec<_> = (first_seed..first_seed + count).map(key).collect();
    let ports: Vec<_> = keys.iter().map(|_| free_port()).collect();
    let set: Vec<_> = keys
        .iter()
        .zip(&ports)
        .map(|(key, port)| (key.public_key(), *port))
        .collect();
    let mut nodes = Vec::new();
    for (key, port) in keys.iter().zip(&ports) {
        nodes.push(start_node(key, *port, &set, |_| {}).await);
    }
    for node in &mut nodes {
        let others: Vec<_> = keys
            .iter()
            .map(SigningKey::public_key)
            .filter(|key| *key != node.key)
            .collect();
        wait_connected(node, &others).await;
    }
    (keys, ports, nodes)
}

fn describe(event: &NetworkEvent) -> String {
    match event {
        NetworkEvent::Message {
            from,
            channel,
            bytes,
        } => format!("Message({from}, {channel}, {} bytes)", bytes.len()),
        other => format!("{other:?}"),
    }
}

/// Reads events until `done` accepts one; returns them all. Panics after [`PATIENCE`].
async fn wait_until(
    node: &mut Node,
    mut done: impl FnMut(&NetworkEvent) -> bool,
) -> Vec<NetworkEvent> {
    let deadline = Instant::now() + PATIENCE;
    let mut seen = Vec::new();
    loop {
        let event = match timeout_at(deadline, node.events.recv()).await {
            Ok(Some(event)) => event,
            Ok(None) => panic!("event queue closed; seen {:?}", summary(&seen)),
            Err(_) => panic!("timed out; seen {:?}", summary(&seen)),
        };
        let finished = done(&event);
        seen.push(event);
        if finished {
            return seen;
        }
    }
}

fn summary(events: &[NetworkEvent]) -> Vec<String> {
    events.iter().map(describe).collect()
}

/// Waits until `node` is connected to every key of `peers`.
async fn wait_connected(node: &mut Node, peers: &[PublicKey]) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let connected = node.handle.connected_peers();
        if peers.iter().all(|peer| connected.contains(peer)) {
            return;
        }
        match timeout_at(deadline, node.events.recv()).await {
            Ok(Some(NetworkEvent::Message { .. })) => panic!("message before the mesh formed"),
            Ok(Some(_)) => {}
            Ok(None) => panic!("event queue closed"),
            Err(_) => panic!("timed out; connected to {connected:?}, want {peers:?}"),
        }
    }
}

/// Reads `count` messages (skipping status events), then checks that no more arrive for a
/// moment.
async fn messages(node: &mut Node, count: usize) -> Vec<(PublicKey, Channel, Vec<u8>)> {
    let mut received = Vec::new();
    let deadline = Instant::now() + PATIENCE;
    while received.len() < count {
        match timeout_at(deadline, node.events.recv()).await {
            Ok(Some(NetworkEvent::Message {
                from,
                channel,
                bytes,
            })) => received.push((from, channel, bytes)),
            Ok(Some(_)) => {}
            Ok(None) => panic!("event queue closed"),
            Err(_) => panic!("timed out with {} of {count} messages", received.len()),
        }
    }
    assert_no_message(node, Duration::from_millis(200)).await;
    received
}

async fn assert_no_message(node: &mut Node, during: Duration) {
    let deadline = Instant::now() + during;
    while let Ok(event) = timeout_at(deadline, node.events.recv()).await {
        if let Some(event @ NetworkEvent::Message { .. }) = event {
            panic!("unexpected {}", describe(&event));
        }
    }
}

/// Payload of message `seq` from node `sender` on `channel`: those three, then padding.
fn payload(sender: usize, channel: Channel, seq: u16, padding: usize) -> Vec<u8> {
    let mut bytes = vec![
        u8::try_from(sender).unwrap(),
        u8::try_from(channel.index()).unwrap(),
    ];
    bytes.extend_from_slice(&seq.to_be_bytes());
    bytes.resize(4 + padding, 0xab);
    bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_nodes_deliver_every_broadcast_once_in_order() {
    const PER_CHANNEL: u16 = 40;
    let (keys, _, mut nodes) = start_mesh(1, 4).await;
    for (sender, node) in nodes.iter().enumerate() {
        for channel in Channel::ALL {
            for seq in 0..PER_CHANNEL {
                // Some large block messages, to interleave yamux frames across channels.
                let padding = match channel {
                    Channel::Blocks if seq % 10 == 0 => 300 * 1024,
                    _ => usize::from(seq) * 13,
                };
                let report = node
                    .handle
                    .broadcast(channel, payload(sender, channel, seq, padding))
                    .unwrap();
                assert_eq!(report.queued.len(), 3, "{:?}", report.failed);
                assert!(report.failed.is_empty());
            }
        }
    }
    let index_of: BTreeMap<PublicKey, usize> = keys
        .iter()
        .enumerate()
        .map(|(index, key)| (key.public_key(), index))
        .collect();
    for (receiver, node) in nodes.iter_mut().enumerate() {
        let received = messages(node, 3 * 4 * usize::from(PER_CHANNEL)).await;
        let mut sequences: BTreeMap<(usize, Channel), Vec<u16>> = BTreeMap::new();
        for (from, channel, bytes) in received {
            let sender = index_of[&from];
            assert_ne!(sender, receiver, "a node received its own broadcast");
            assert_eq!(
                usize::from(bytes[0]),
                sender,
                "payload names another sender"
            );
            assert_eq!(usize::from(bytes[1]), channel.index(), "wrong channel");
            sequences
                .entry((sender, channel))
                .or_default()
                .push(u16::from_be_bytes([bytes[2], bytes[3]]));
        }
        let expected: Vec<u16> = (0..PER_CHANNEL).collect();
        assert_eq!(sequences.len(), 3 * 4);
        for ((sender, channel), sequence) in sequences {
            assert_eq!(
                sequence, expected,
                "from {sender} on {channel} at {receiver}"
            );
        }
    }
    for node in nodes {
        node.handle.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_is_refused_and_cannot_exchange_messages() {
    let (a_key, b_key, stranger_key) = (key(11), key(12), key(13));
    let (a_port, b_port, stranger_port) = (free_port(), free_port(), free_port());
    let set = [(a_key.public_key(), a_port), (b_key.public_key(), b_port)];
    let mut a = start_node(&a_key, a_port, &set, |_| {}).await;
    let mut b = start_node(&b_key, b_port, &set, |_| {}).await;
    wait_connected(&mut a, &[b.key]).await;
    // The stranger believes A is its peer and dials it.
    let stranger_set = [
        (a_key.public_key(), a_port),
        (stranger_key.public_key(), stranger_port),
    ];
    let stranger = start_node(&stranger_key, stranger_port, &stranger_set, |_| {}).await;
    let stranger_peer_id = peer_id_of(&stranger.key);
    let seen = wait_until(&mut a, |event| {
        matches!(event, NetworkEvent::PeerRefused { peer_id, .. } if *peer_id == stranger_peer_id)
    })
    .await;
    assert_eq!(
        seen.last(),
        Some(&NetworkEvent::PeerRefused {
            peer_id: stranger_peer_id,
            reason: RefusalReason::NotAValidator,
        })
    );
    assert!(
        !seen.contains(&NetworkEvent::PeerConnected(stranger.key)),
        "{:?}",
        summary(&seen)
    );
    // Whatever the stranger tries, nothing reaches A; A only knows B.
    for _ in 0..20 {
        let _ = stranger
            .handle
            .send(&a.key, Channel::Consensus, b"let me in".to_vec());
        sleep(Duration::from_millis(25)).await;
    }
    assert_no_message(&mut a, Duration::from_millis(300)).await;
    assert_eq!(a.handle.connected_peers(), vec![b.key]);
    assert_eq!(
        a.handle
            .send(&stranger.key, Channel::Consensus, b"no".to_vec()),
        Err(SendError::UnknownPeer)
    );
    // A and B still talk.
    b.handle
        .send(&a.key, Channel::Consensus, b"still here".to_vec())
        .unwrap();
    let received = messages(&mut a, 1).await;
    assert_eq!(
        received,
        vec![(b.key, Channel::Consensus, b"still here".to_vec())]
    );
    let _ = b.events.try_recv();
    for node in [a, b, stranger] {
        node.handle.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_frame_is_penalized_and_not_delivered() {
    let (_, _, mut nodes) = start_mesh(21, 3).await;
    let (a, b, c) = (nodes[0].key, nodes[1].key, nodes[2].key);
    let max = Channel::Consensus.max_message_bytes();
    let oversized = vec![0u8; usize::try_from(max).unwrap() + 1];
    assert!(matches!(
        nodes[0]
            .handle
            .send(&b, Channel::Consensus, oversized.clone()),
        Err(SendError::TooLarge { .. })
    ));
    nodes[0]
        .handle
        .send_unchecked(&b, Channel::Consensus, oversized)
        .unwrap();
    let seen = wait_until(&mut nodes[1], |event| {
        matches!(event, NetworkEvent::PeerPenalized { .. })
    })
    .await;
    assert_eq!(
        seen.last(),
        Some(&NetworkEvent::PeerPenalized {
            peer: a,
            penalty: Penalty::OversizedFrame {
                channel: Channel::Consensus,
                len: max + 1,
                max,
            },
            score: -50,
            banned_for: None,
        })
    );
    assert!(
        !seen
            .iter()
            .any(|event| matches!(event, NetworkEvent::Message { .. })),
        "{:?}",
        summary(&seen)
    );
    // The offender's next messages go through on a new stream; the others are not affected.
    sleep(Duration::from_millis(100)).await;
    nodes[0]
        .handle
        .send(&b, Channel::Consensus, b"sorry".to_vec())
        .unwrap();
    nodes[2]
        .handle
        .send(&b, Channel::Consensus, b"hello".to_vec())
        .unwrap();
    let mut received = messages(&mut nodes[1], 2).await;
    received.sort();
    let mut expected = vec![
        (a, Channel::Consensus, b"sorry".to_vec()),
        (c, Channel::Consensus, b"hello".to_vec()),
    ];
    expected.sort();
    assert_eq!(received, expected);
    assert_eq!(nodes[1].handle.connected_peers().len(), 2);
    for node in nodes {
        node.handle.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_oversized_frames_ban_the_peer_for_a_while() {
    let keys = [key(31), key(32)];
    let ports = [free_port(), free_port()];
    let set = [
        (keys[0].public_key(), ports[0]),
        (keys[1].public_key(), ports[1]),
    ];
    let ban = Duration::from_millis(1500);
    let mut a = start_node(&keys[0], ports[0], &set, |_| {}).await;
    let mut b = start_node(&keys[1], ports[1], &set, |config| config.ban_duration = ban).await;
    wait_connected(&mut b, &[a.key]).await;
    let oversized =
        vec![0u8; usize::try_from(Channel::Transactions.max_message_bytes()).unwrap() + 1];
    let banned_at;
    loop {
        wait_connected(&mut a, &[b.key]).await;
        a.handle
            .send_unchecked(&b.key, Channel::Transactions, oversized.clone())
            .unwrap();
        let seen = wait_until(&mut b, |event| {
            matches!(event, NetworkEvent::PeerPenalized { .. })
        })
        .await;
        if let Some(NetworkEvent::PeerPenalized {
            banned_for: Some(banned_for),
            score,
            ..
        }) = seen.last()
        {
            assert_eq!(*banned_for, ban);
            assert!(*score <= crate::limits::BAN_SCORE);
            banned_at = Instant::now();
            break;
        }
    }
    // Disconnected, and its attempts to come back are refused as banned.
    let seen = wait_until(&mut b, |event| {
        matches!(event, NetworkEvent::PeerRefused { .. })
    })
    .await;
    assert!(
        seen.contains(&NetworkEvent::PeerDisconnected(a.key)),
        "{:?}",
        summary(&seen)
    );
    assert_eq!(
        seen.last(),
        Some(&NetworkEvent::PeerRefused {
            peer_id: peer_id_of(&a.key),
            reason: RefusalReason::Banned,
        })
    );
    assert!(!b.handle.is_connected(&a.key));
    // After the ban, they connect again and talk.
    wait_until(&mut b, |event| *event == NetworkEvent::PeerConnected(a.key)).await;
    assert!(banned_at.elapsed() >= ban - Duration::from_millis(50));
    wait_connected(&mut a, &[b.key]).await;
    // A's writer may still be reopening its stream; retry until the message is queued.
    let deadline = Instant::now() + PATIENCE;
    while let Err(error) = a.handle.send(&b.key, Channel::Consensus, b"back".to_vec()) {
        assert!(Instant::now() < deadline, "{error}");
        sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        messages(&mut b, 1).await,
        vec![(a.key, Channel::Consensus, b"back".to_vec())]
    );
    a.handle.shutdown().await;
    b.handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_node_is_reconnected_and_messages_flow_again() {
    let (keys, ports, mut nodes) = start_mesh(41, 4).await;
    let restarted = nodes.pop().unwrap();
    let restarted_key = restarted.key;
    let mut old_events = restarted.events;
    restarted.handle.shutdown().await;
    // Its event queue ends once the network has stopped.
    timeout(PATIENCE, async {
        while old_events.recv().await.is_some() {}
    })
    .await
    .expect("event queue of a stopped network ends");
    for node in &mut nodes {
        wait_until(node, |event| {
            *event == NetworkEvent::PeerDisconnected(restarted_key)
        })
        .await;
        // A dial that completed its handshake just before the node stopped may still report a
        // connection, closed at once; so wait for the last word.
        let deadline = Instant::now() + PATIENCE;
        loop {
            match node
                .handle
                .send(&restarted_key, Channel::Consensus, b"anyone?".to_vec())
            {
                Err(SendError::NotConnected) => break,
                other => assert!(Instant::now() < deadline, "{other:?}"),
            }
            sleep(Duration::from_millis(10)).await;
        }
    }
    // Let the others back off a few times before the node comes back on the same port.
    sleep(Duration::from_millis(300)).await;
    let set: Vec<_> = keys
        .iter()
        .zip(&ports)
        .map(|(key, port)| (key.public_key(), *port))
        .collect();
    let mut back = start_node(&keys[3], ports[3], &set, |_| {}).await;
    let others: Vec<_> = nodes.iter().map(|node| node.key).collect();
    wait_connected(&mut back, &others).await;
    for node in &mut nodes {
        wait_connected(node, &[restarted_key]).await;
    }
    let report = back
        .handle
        .broadcast(Channel::Consensus, b"back again".to_vec())
        .unwrap();
    assert_eq!(report.queued.len(), 3, "{:?}", report.failed);
    for node in &mut nodes {
        assert_eq!(
            messages(node, 1).await,
            vec![(restarted_key, Channel::Consensus, b"back again".to_vec())]
        );
        node.handle
            .send(&restarted_key, Channel::Sync, b"welcome".to_vec())
            .unwrap();
    }
    let mut received = messages(&mut back, 3).await;
    received.sort();
    let mut expected: Vec<_> = others
        .iter()
        .map(|key| (*key, Channel::Sync, b"welcome".to_vec()))
        .collect();
    expected.sort();
    assert_eq!(received, expected);
    back.handle.shutdown().await;
    for node in nodes {
        node.handle.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_is_an_error_and_what_was_queued_arrives_in_order() {
    let keys = [key(51), key(52)];
    let ports = [free_port(), free_port()];
    let set = [
        (keys[0].public_key(), ports[0]),
        (keys[1].public_key(), ports[1]),
    ];
    let depth = 4;
    let mut a = start_node(&keys[0], ports[0], &set, |config| {
        config.queue_depth = depth
    })
    .await;
    let mut b = start_node(&keys[1], ports[1], &set, |config| {
        config.queue_depth = depth
    })
    .await;
    wait_connected(&mut a, &[b.key]).await;
    wait_connected(&mut b, &[a.key]).await;
    // B does not read its events: its reader stops, yamux and TCP buffers fill, then A's queue.
    let mut queued: u16 = 0;
    let full = loop {
        let message = payload(0, Channel::Transactions, queued, 1024 * 1024);
        match a.handle.send(&b.key, Channel::Transactions, message) {
            Ok(()) => queued += 1,
            Err(error) => break error,
        }
        assert!(queued < 200, "200 MiB queued without backpressure");
        tokio::task::yield_now().await;
    };
    assert_eq!(full, SendError::QueueFull(Channel::Transactions));
    // Other channels have their own queues and streams: consensus still goes through.
    a.handle
        .send(&b.key, Channel::Consensus, b"vote".to_vec())
        .unwrap();
    let received = messages(&mut b, usize::from(queued) + 1).await;
    let mut sequence = Vec::new();
    let mut votes = 0;
    for (from, channel, bytes) in received {
        assert_eq!(from, a.key);
        match channel {
            Channel::Transactions => sequence.push(u16::from_be_bytes([bytes[2], bytes[3]])),
            Channel::Consensus => votes += 1,
            other => panic!("message on {other}"),
        }
    }
    assert_eq!(votes, 1);
    assert_eq!(sequence, (0..queued).collect::<Vec<_>>());
    a.handle.shutdown().await;
    b.handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_errors_are_typed_and_nothing_blocks() {
    let (own, peer, stranger) = (key(61), key(62), key(63));
    let port = free_port();
    // The peer never starts: it is dialled with backoff in the background.
    let set = [(own.public_key(), port), (peer.public_key(), free_port())];
    let node = start_node(&own, port, &set, |_| {}).await;
    assert_eq!(node.handle.peers(), vec![peer.public_key()]);
    assert_eq!(node.handle.local_key(), own.public_key());
    assert_eq!(
        node.handle
            .send(&peer.public_key(), Channel::Blocks, Vec::new()),
        Err(SendError::NotConnected)
    );
    assert_eq!(
        node.handle
            .send(&stranger.public_key(), Channel::Blocks, Vec::new()),
        Err(SendError::UnknownPeer)
    );
    assert_eq!(
        node.handle
            .send(&own.public_key(), Channel::Blocks, Vec::new()),
        Err(SendError::UnknownPeer)
    );
    let too_large = vec![0u8; 4 * 1024 * 1024 + 1];
    assert_eq!(
        node.handle
            .send(&peer.public_key(), Channel::Transactions, too_large.clone()),
        Err(SendError::TooLarge {
            channel: Channel::Transactions,
            len: too_large.len(),
            max: 4 * 1024 * 1024,
        })
    );
    let report = node.handle.broadcast(Channel::Sync, b"x".to_vec()).unwrap();
    assert!(report.queued.is_empty());
    assert_eq!(
        report.failed,
        vec![(peer.public_key(), SendError::NotConnected)]
    );
    assert!(node.handle.connected_peers().is_empty());
    let clone = node.handle.clone();
    timeout(PATIENCE, node.handle.shutdown()).await.unwrap();
    assert_eq!(
        clone.send(&peer.public_key(), Channel::Sync, Vec::new()),
        Err(SendError::Shutdown)
    );
    assert_eq!(
        clone.broadcast(Channel::Sync, Vec::new()),
        Err(SendError::Shutdown)
    );
    // A second shutdown through another clone returns at once.
    timeout(PATIENCE, clone.shutdown()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_refuses_bad_configurations() {
    let own = key(71);
    let peer = key(72);
    let config = |address: &str| {
        NetworkConfig::new(
            own.clone(),
            ([127, 0, 0, 1], 0).into(),
            vec![PeerInfo {
                public_key: peer.public_key(),
                address: address.into(),
            }],
        )
    };
    assert!(matches!(
        start(config("nowhere")).await.err(),
        Some(NetworkError::InvalidAddress { .. })
    ));
    let mut zero_depth = config("127.0.0.1:1");
    zero_depth.queue_depth = 0;
    assert!(matches!(
        start(zero_depth).await.err(),
        Some(NetworkError::Config(_))
    ));
    let mut twice = config("127.0.0.1:1");
    twice.peers.push(twice.peers[0].clone());
    assert!(matches!(
        start(twice).await.err(),
        Some(NetworkError::Config(_))
    ));
    // A port someone else holds.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut busy = config("127.0.0.1:1");
    busy.listen = taken.local_addr().unwrap();
    assert!(matches!(
        start(busy).await.err(),
        Some(NetworkError::Listen { .. })
    ));
    // Port 0 picks a free port, and host names are accepted.
    let (handle, _events) = start(config("localhost:1")).await.unwrap();
    assert_ne!(handle.local_addr().port(), 0);
    // A second node on the same port is refused, although libp2p's listener sets SO_REUSEPORT.
    let mut same_port = config("127.0.0.1:1");
    same_port.listen = handle.local_addr();
    assert!(matches!(
        start(same_port).await.err(),
        Some(NetworkError::Listen { .. })
    ));
    handle.shutdown().await;
}

#[test]
fn peers_from_genesis_are_every_validator_in_order() {
    use courtledger_types::court::CourtLevel;
    use courtledger_types::genesis::{ConsensusParams, CourtEntry, GenesisFile, ValidatorEntry};

    let courts = [
        ("0000", CourtLevel::Supreme, None),
        ("京", CourtLevel::High, Some("0000")),
        ("京01", CourtLevel::Intermediate, Some("京")),
        ("京0105", CourtLevel::Basic, Some("京01")),
    ];
    let keys: Vec<_> = (81u8..85).map(key).collect();
    let validators = courts
        .iter()
        .zip(&keys)
        .zip(27001u16..)
        .map(|(((code, _, _), key), port)| ValidatorEntry {
            court_code: (*code).into(),
            public_key: key.public_key().to_string(),
            peer_id: peer_id_of(&key.public_key()),
            p2p_address: format!("127.0.0.1:{port}"),
            api_address: format!("127.0.0.1:{}", port + 1000),
            voting_power: 1,
        })
        .collect();
    let file = GenesisFile {
        format_version: 1,
        chain_name: "network-test".into(),
        genesis_time: "2026-11-28T00:00:00Z".into(),
        courts: courts
            .iter()
            .map(|(code, level, parent)| CourtEntry {
                code: (*code).into(),
                name: format!("Court {code}"),
                level: *level,
                parent: parent.map(Into::into),
            })
            .collect(),
        validators,
        registrars: Vec::new(),
        consensus: ConsensusParams::default(),
    };
    let peers = PeerInfo::from_genesis(&file.validate().unwrap());
    assert_eq!(peers.len(), 4);
    for ((peer, key), port) in peers.iter().zip(&keys).zip(27001u16..) {
        assert_eq!(peer.public_key, key.public_key());
        assert_eq!(peer.address, format!("127.0.0.1:{port}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_messages_reported_by_the_node_lower_the_score_until_a_ban() {
    let keys = [key(41), key(42)];
    let ports = [free_port(), free_port()];
    let set = [
        (keys[0].public_key(), ports[0]),
        (keys[1].public_key(), ports[1]),
    ];
    let mut a = start_node(&keys[0], ports[0], &set, |_| {}).await;
    let mut b = start_node(&keys[1], ports[1], &set, |_| {}).await;
    wait_connected(&mut a, &[b.key]).await;
    wait_connected(&mut b, &[a.key]).await;
    let penalty = Penalty::InvalidMessage {
        channel: Channel::Consensus,
    };
    let mut scores = Vec::new();
    loop {
        b.handle.penalize(&a.key, penalty);
        let seen = wait_until(&mut b, |event| {
            matches!(event, NetworkEvent::PeerPenalized { .. })
        })
        .await;
        let Some(NetworkEvent::PeerPenalized {
            peer,
            penalty: reported,
            score,
            banned_for,
        }) = seen.last()
        else {
            unreachable!("wait_until returns on a penalty");
        };
        assert_eq!((*peer, *reported), (a.key, penalty));
        scores.push(*score);
        if banned_for.is_some() {
            break;
        }
    }
    // Each report costs INVALID_MESSAGE_PENALTY (the score may recover a point in between).
    assert!(scores.len() >= 5 && scores.len() <= 6, "{scores:?}");
    assert!(*scores.last().unwrap() <= crate::limits::BAN_SCORE);
    // A penalty for a key outside the set is ignored.
    b.handle.penalize(&key(99).public_key(), penalty);
    a.handle.shutdown().await;
    b.handle.shutdown().await;
}

fn local_peer(key: PublicKey, port: u16) -> PeerInfo {
    PeerInfo {
        public_key: key,
        address: format!("127.0.0.1:{port}"),
    }
}

/// Sends, retrying while the connection or the writer's stream is still being set up.
async fn send_until_queued(handle: &NetworkHandle, to: &PublicKey, channel: Channel, bytes: &[u8]) {
    let deadline = Instant::now() + PATIENCE;
    while let Err(error) = handle.send(to, channel, bytes.to_vec()) {
        assert!(Instant::now() < deadline, "{error}");
        sleep(Duration::from_millis(20)).await;
    }
}

/// One message each way on every channel between two connected nodes.
async fn exchange_on_every_channel(a: &mut Node, b: &mut Node) {
    for (from, to) in [(&*a, &*b), (&*b, &*a)] {
        for channel in Channel::ALL {
            send_until_queued(&from.handle, &to.key, channel, channel.name().as_bytes()).await;
        }
    }
    let (a_key, b_key) = (a.key, b.key);
    for (receiver, sender) in [(a, b_key), (b, a_key)] {
        let mut received = messages(receiver, Channel::ALL.len()).await;
        received.sort();
        let expected: Vec<_> = Channel::ALL
            .into_iter()
            .map(|channel| (sender, channel, channel.name().as_bytes().to_vec()))
            .collect();
        assert_eq!(received, expected);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_added_at_runtime_is_admitted_dialled_and_talks_on_every_channel() {
    let (a_key, b_key) = (key(91), key(92));
    let (a_port, b_port) = (free_port(), free_port());
    // A starts with no peer; B knows A and keeps dialling it.
    let mut a = start_node(&a_key, a_port, &[], |_| {}).await;
    let set = [(a_key.public_key(), a_port), (b_key.public_key(), b_port)];
    let mut b = start_node(&b_key, b_port, &set, |_| {}).await;
    let b_peer_id = peer_id_of(&b.key);
    let seen = wait_until(
        &mut a,
        |event| matches!(event, NetworkEvent::PeerRefused { peer_id, .. } if *peer_id == b_peer_id),
    )
    .await;
    assert_eq!(
        seen.last(),
        Some(&NetworkEvent::PeerRefused {
            peer_id: b_peer_id,
            reason: RefusalReason::NotAValidator,
        })
    );
    assert!(a.handle.peers().is_empty());
    assert!(a.handle.connected_peers().is_empty());
    assert_eq!(
        a.handle.send(&b.key, Channel::Consensus, b"hi".to_vec()),
        Err(SendError::UnknownPeer)
    );

    a.handle.add_peer(local_peer(b.key, b_port)).unwrap();
    // A peer at once for the handle. (Whether it is connected yet is a race with B's next
    // dial, which may already have been admitted: not asserted.)
    assert_eq!(a.handle.peers(), vec![b.key]);
    wait_connected(&mut a, &[b.key]).await;
    wait_connected(&mut b, &[a.key]).await;
    assert_eq!(a.handle.connected_peers(), vec![b.key]);
    exchange_on_every_channel(&mut a, &mut b).await;
    // Broadcasts include the added peer.
    let report = a
        .handle
        .broadcast(Channel::Blocks, b"block".to_vec())
        .unwrap();
    assert_eq!(report.queued, vec![b.key], "{:?}", report.failed);
    assert_eq!(
        messages(&mut b, 1).await,
        vec![(a.key, Channel::Blocks, b"block".to_vec())]
    );
    a.handle.shutdown().await;
    b.handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adding_a_known_peer_again_changes_its_address() {
    let (a_key, b_key) = (key(93), key(94));
    let (a_port, b_port) = (free_port(), free_port());
    // Each knows the other at a port where nobody listens, so neither can reach the other.
    let (nowhere_a, nowhere_b) = (free_port(), free_port());
    let mut a = start_node(
        &a_key,
        a_port,
        &[
            (a_key.public_key(), a_port),
            (b_key.public_key(), nowhere_b),
        ],
        |_| {},
    )
    .await;
    let mut b = start_node(
        &b_key,
        b_port,
        &[
            (a_key.public_key(), nowhere_a),
            (b_key.public_key(), b_port),
        ],
        |_| {},
    )
    .await;
    sleep(Duration::from_millis(300)).await;
    assert!(a.handle.connected_peers().is_empty());
    assert!(b.handle.connected_peers().is_empty());
    // The same address again changes nothing.
    a.handle.add_peer(local_peer(b.key, nowhere_b)).unwrap();
    sleep(Duration::from_millis(200)).await;
    assert!(a.handle.connected_peers().is_empty());
    // B's real address: A dials it, and B admits A (a configured peer).
    a.handle.add_peer(local_peer(b.key, b_port)).unwrap();
    assert_eq!(a.handle.peers(), vec![b.key]);
    wait_connected(&mut a, &[b.key]).await;
    wait_connected(&mut b, &[a.key]).await;
    exchange_on_every_channel(&mut a, &mut b).await;
    // A connected peer keeps its connection when its address changes.
    a.handle.add_peer(local_peer(b.key, nowhere_b)).unwrap();
    sleep(Duration::from_millis(200)).await;
    assert_eq!(a.handle.connected_peers(), vec![b.key]);
    a.handle
        .send(&b.key, Channel::Consensus, b"still".to_vec())
        .unwrap();
    assert_eq!(
        messages(&mut b, 1).await,
        vec![(a.key, Channel::Consensus, b"still".to_vec())]
    );
    a.handle.shutdown().await;
    b.handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peers_beyond_the_cap_are_refused() {
    let own = key(95);
    let others: Vec<PublicKey> = (0..=MAX_PEERS)
        .map(|n| key(100 + u8::try_from(n).unwrap()).public_key())
        .collect();
    // Nobody listens on port 1; dial rarely.
    let slow = |config: &mut NetworkConfig| {
        config.backoff = Backoff {
            initial: Duration::from_secs(10),
            max: Duration::from_secs(10),
        };
    };
    let config = |peers: &[PublicKey]| {
        let mut peers: Vec<_> = peers.iter().map(|key| local_peer(*key, 1)).collect();
        peers.push(local_peer(own.public_key(), 1));
        let mut config = NetworkConfig::new(own.clone(), ([127, 0, 0, 1], 0).into(), peers);
        slow(&mut config);
        config
    };
    // At start: the node's own entry does not count.
    assert!(matches!(
        start(config(&others)).await.err(),
        Some(NetworkError::Config(_))
    ));
    let (handle, _events) = start(config(&others[..MAX_PEERS / 2])).await.unwrap();
    for key in &others[MAX_PEERS / 2..MAX_PEERS] {
        handle.add_peer(local_peer(*key, 1)).unwrap();
    }
    assert_eq!(handle.peers().len(), MAX_PEERS);
    assert_eq!(
        handle.add_peer(local_peer(others[MAX_PEERS], 1)),
        Err(AddPeerError::TooManyPeers { max: MAX_PEERS })
    );
    assert!(!handle.peers().contains(&others[MAX_PEERS]));
    assert_eq!(
        handle.send(&others[MAX_PEERS], Channel::Sync, Vec::new()),
        Err(SendError::UnknownPeer)
    );
    // A known peer's address can still change, and the node's own key is ignored.
    handle.add_peer(local_peer(others[0], 2)).unwrap();
    handle
        .add_peer(local_peer(others[MAX_PEERS - 1], 2))
        .unwrap();
    handle.add_peer(local_peer(own.public_key(), 2)).unwrap();
    assert_eq!(handle.peers().len(), MAX_PEERS);
    let report = handle.broadcast(Channel::Sync, b"x".to_vec()).unwrap();
    assert_eq!(report.failed.len(), MAX_PEERS);
    timeout(PATIENCE, handle.shutdown()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adding_a_peer_with_an_invalid_address_fails_at_once() {
    let (own, peer) = (key(96), key(97));
    let node = start_node(&own, free_port(), &[], |_| {}).await;
    for address in [
        "nowhere",
        "",
        "127.0.0.1:0",
        "bad host:80",
        "[::1:80",
        "host:70000",
    ] {
        let result = node.handle.add_peer(PeerInfo {
            public_key: peer.public_key(),
            address: address.into(),
        });
        assert!(
            matches!(&result, Err(AddPeerError::InvalidAddress { address: given, .. }) if given == address),
            "{address}: {result:?}"
        );
    }
    assert!(node.handle.peers().is_empty());
    // A valid one is taken; after a shutdown nothing is.
    node.handle
        .add_peer(local_peer(peer.public_key(), 1))
        .unwrap();
    assert_eq!(node.handle.peers(), vec![peer.public_key()]);
    let clone = node.handle.clone();
    timeout(PATIENCE, node.handle.shutdown()).await.unwrap();
    assert_eq!(
        clone.add_peer(local_peer(key(98).public_key(), 1)),
        Err(AddPeerError::Shutdown)
    );
}
