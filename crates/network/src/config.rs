//! What a node needs to join the validators' network, and the parsing of peer addresses.

use std::net::SocketAddr;
use std::time::Duration;

use courtledger_crypto::{PublicKey, SigningKey};
use courtledger_types::genesis::Genesis;
use libp2p::multiaddr::Protocol;
use libp2p::Multiaddr;

use crate::limits::{
    DEFAULT_BACKOFF_INITIAL, DEFAULT_BACKOFF_MAX, DEFAULT_BAN_DURATION, DEFAULT_QUEUE_DEPTH,
};

/// A validator to connect to: its genesis key and `p2p_address`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerInfo {
    /// The validator's ed25519 key, which is also its libp2p identity.
    pub public_key: PublicKey,
    /// Where it listens, `host:port` (an IPv4 or bracketed IPv6 address, or a host name).
    pub address: String,
}

impl PeerInfo {
    /// Every validator of a genesis, in its order (the local node's own entry included; the
    /// network skips it).
    pub fn from_genesis(genesis: &Genesis) -> Vec<PeerInfo> {
        genesis
            .validators
            .iter()
            .map(|validator| PeerInfo {
                public_key: validator.validator.public_key,
                address: validator.p2p_address.clone(),
            })
            .collect()
    }
}

/// Reconnection delays: the first retry after `initial`, each further one after twice the
/// previous delay, never more than `max`. Timed with tokio's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first delay.
    pub initial: Duration,
    /// The longest delay. A connection that lasted at least this long resets the delay to
    /// `initial` when it closes.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            initial: DEFAULT_BACKOFF_INITIAL,
            max: DEFAULT_BACKOFF_MAX,
        }
    }
}

impl Backoff {
    /// The delay after `current`: doubled, at most `max`.
    pub fn next(&self, current: Duration) -> Duration {
        current.saturating_mul(2).min(self.max)
    }
}

/// Configuration of [`crate::start`].
#[derive(Debug, Clone)]
pub struct NetworkConfig {
    /// The node's genesis key; its libp2p identity.
    pub key: SigningKey,
    /// Where to listen (port 0 picks a free port; see [`crate::NetworkHandle::local_addr`]).
    pub listen: SocketAddr,
    /// The validators (the genesis set). Only they, and those added later with
    /// [`crate::NetworkHandle::add_peer`], may connect; each is dialled. An entry with the node's
    /// own key is skipped; at most [`crate::limits::MAX_PEERS`] others.
    pub peers: Vec<PeerInfo>,
    /// Depth of every bounded queue: each peer's outbound queue per channel, and the inbound
    /// event queue. At least 1.
    pub queue_depth: usize,
    /// Reconnection delays.
    pub backoff: Backoff,
    /// How long a peer whose score fell to [`crate::limits::BAN_SCORE`] stays disconnected.
    pub ban_duration: Duration,
}

impl NetworkConfig {
    /// A configuration with the default queue depth, backoff and ban duration.
    pub fn new(key: SigningKey, listen: SocketAddr, peers: Vec<PeerInfo>) -> Self {
        Self {
            key,
            listen,
            peers,
            queue_depth: DEFAULT_QUEUE_DEPTH,
            backoff: Backoff::default(),
            ban_duration: DEFAULT_BAN_DURATION,
        }
    }
}

/// A parsed `host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PeerAddress {
    /// An IP address: dialled as `/ip4/../tcp/..` or `/ip6/../tcp/..`.
    Socket(SocketAddr),
    /// A host name, resolved with the system resolver before each dial (so a court can move its
    /// node by changing its DNS record).
    Host { host: String, port: u16 },
}

impl PeerAddress {
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        if let Ok(socket) = text.parse::<SocketAddr>() {
            if socket.port() == 0 {
                return Err("port 0".into());
            }
            return Ok(PeerAddress::Socket(socket));
        }
        let Some((host, port)) = text.rsplit_once(':') else {
            return Err("expected host:port".into());
        };
        let port: u16 = port.parse().map_err(|_| format!("invalid port {port:?}"))?;
        if port == 0 {
            return Err("port 0".into());
        }
        let valid_host = !host.is_empty()
            && host.len() <= 253
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
        if !valid_host {
            return Err(format!("invalid host {host:?}"));
        }
        Ok(PeerAddress::Host {
            host: host.to_owned(),
            port,
        })
    }
}

impl std::fmt::Display for PeerAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PeerAddress::Socket(socket) => write!(f, "{socket}"),
            PeerAddress::Host { host, port } => write!(f, "{host}:{port}"),
        }
    }
}

/// `/ip4/a.b.c.d/tcp/port` or `/ip6/../tcp/port`.
pub(crate) fn socket_multiaddr(socket: SocketAddr) -> Multiaddr {
    Multiaddr::empty()
        .with(Protocol::from(socket.ip()))
        .with(Protocol::Tcp(socket.port()))
}

/// The socket address of a `/ip4|ip6/../tcp/..` multiaddr.
pub(crate) fn multiaddr_socket(address: &Multiaddr) -> Option<SocketAddr> {
    let mut parts = address.iter();
    let ip = match parts.next()? {
        Protocol::Ip4(ip) => std::net::IpAddr::V4(ip),
        Protocol::Ip6(ip) => std::net::IpAddr::V6(ip),
        _ => return None,
    };
    match parts.next()? {
        Protocol::Tcp(port) => Some(SocketAddr::new(ip, port)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: Result<PeerAddress, ()>) {
        assert_eq!(PeerAddress::parse(text).map_err(|_| ()), expected, "{text}");
    }

    #[test]
    fn addresses() {
        let socket = |s: &str| Ok(PeerAddress::Socket(s.parse().unwrap()));
        let host = |h: &str, port| {
            Ok(PeerAddress::Host {
                host: h.into(),
                port,
            })
        };
        check("127.0.0.1:27001", socket("127.0.0.1:27001"));
        check("[::1]:7000", socket("[::1]:7000"));
        check(
            "node-2.court.example:443",
            host("node-2.court.example", 443),
        );
        check("localhost:1", host("localhost", 1));
        check("127.0.0.1:0", Err(()));
        check("host:0", Err(()));
        check("host", Err(()));
        check(":80", Err(()));
        check("host:70000", Err(()));
        check("bad host:80", Err(()));
        check("::1:80", Err(()));
        check("[::1:80", Err(()));
    }

    #[test]
    fn multiaddrs() {
        let v4: SocketAddr = "127.0.0.1:27001".parse().unwrap();
        assert_eq!(socket_multiaddr(v4).to_string(), "/ip4/127.0.0.1/tcp/27001");
        assert_eq!(multiaddr_socket(&socket_multiaddr(v4)), Some(v4));
        let v6: SocketAddr = "[::1]:7000".parse().unwrap();
        assert_eq!(socket_multiaddr(v6).to_string(), "/ip6/::1/tcp/7000");
        assert_eq!(multiaddr_socket(&socket_multiaddr(v6)), Some(v6));
    }

    #[test]
    fn backoff_doubles_up_to_max() {
        let backoff = Backoff::default();
        let mut delay = backoff.initial;
        let mut delays = vec![delay];
        for _ in 0..8 {
            delay = backoff.next(delay);
            delays.push(delay);
        }
        let ms: Vec<_> = delays.iter().map(Duration::as_millis).collect();
        assert_eq!(ms, [100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
        assert_eq!(backoff.next(Duration::MAX), backoff.max);
    }
}
