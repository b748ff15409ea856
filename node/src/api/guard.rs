//! What keeps a flood of API clients from exhausting the node. The API is served by its own
//! accept loop ([`serve`], HTTP/1 on hyper) so that every limit below is enforced:
//!
//! - at most [`MAX_API_CONNECTIONS`] connections open at once; further clients wait in the
//!   listen backlog;
//! - at most [`MAX_API_CONNECTIONS_PER_IP`] of them from one client address (an IPv4 address,
//!   or an IPv6 /64 network, where one host usually holds many addresses; configurable as
//!   `[api] max_connections_per_ip`): a connection beyond that is closed at once after accept,
//!   counted in `courtledger_api_connections_refused_total` and logged at debug level. HTTP/1
//!   answers one request at a time per connection, so this also bounds one client to that many
//!   of the requests in flight;
//! - a request's headers must arrive in full within [`HEADER_TIMEOUT`] of the connection's
//!   opening or of the end of its previous response, or the connection is closed: a client that
//!   drips its headers (slowloris), connects and sends nothing, or keeps an idle keep-alive
//!   connection open frees its slot after that long. The timeout does not run while a response
//!   is being written, so event streams (server-sent events) stay open;
//! - at most [`MAX_API_IN_FLIGHT`] requests being answered at once (more are refused at once
//!   with 503 `overloaded`), and a deadline for each ([`REQUEST_TIMEOUT`]: a body dripped in
//!   slowly ends with 408 `request_timeout`), enforced by the [`limit`] middleware.
//!
//! Consensus runs on its own thread and the API reaches it only through a bounded inbox, so
//! none of this can stall block production; it keeps the API itself answering.
//!
//! On shutdown [`serve`] stops accepting, closes idle connections, lets the requests being
//! answered finish (the node ends its event streams first), then returns once every connection
//! is closed; a connection still sending its headers is closed by [`HEADER_TIMEOUT`] at the
//! latest.
//!
//! Not covered: a client that stops reading a large response (or an event stream) holds its
//! connection until TCP gives up; the per-client cap bounds how many such connections one
//! client holds, and [`super::MAX_EVENT_STREAMS`] how many event streams exist.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::registry::Registry;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tracing::{debug, trace, warn};

use super::error::ApiError;

/// Most API connections open at once; further clients wait in the listen backlog.
pub const MAX_API_CONNECTIONS: usize = 1024;
/// Most API connections open at once from one client address ([`client_of`]), unless
/// `[api] max_connections_per_ip` says otherwise; more are closed at once.
pub const MAX_API_CONNECTIONS_PER_IP: usize = 64;
/// How long a connection may take to send a request's headers in full, from its opening or
/// from the end of its previous response (so also how long an idle keep-alive connection
/// stays open).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
// node/src/config.rs, also compiled without this module (the fuzz crate), holds copies.
const _: () = assert!(
    crate::config::DEFAULT_CONNECTIONS_PER_IP == MAX_API_CONNECTIONS_PER_IP
        && crate::config::MAX_CONNECTIONS_PER_IP == MAX_API_CONNECTIONS
);
/// Most API requests being answered at once; more are refused with 503 `overloaded`.
pub const MAX_API_IN_FLIGHT: usize = 256;
/// The longest a request may take until its response starts (the longest `wait` of a
/// submission plus a margin); slower ones end with 408 `request_timeout`.
pub const REQUEST_TIMEOUT: Duration = Duration::from_millis(super::MAX_WAIT_MS + 15_000);

/// Refuses a request at once when [`MAX_API_IN_FLIGHT`] (or the state's own bound) are being
/// answered, and ends one that takes longer than [`REQUEST_TIMEOUT`].
pub async fn limit(
    State(permits): State<Arc<Semaphore>>,
    request: Request,
    next: Next,
) -> Response {
    let Ok(_permit) = permits.try_acquire() else {
        return ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded",
            "the node is answering as many requests as it may; retry",
        )
        .into_response();
    };
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            "the request took too long",
        )
        .into_response(),
    }
}

/// The bounds of the API's connections ([`serve`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Most connections open at once.
    pub connections: usize,
    /// Most connections open at once from one client address ([`client_of`]).
    pub per_client: usize,
    /// How long a connection may take to send a request's headers in full, counted from its
    /// opening or from the end of its previous response.
    pub header_timeout: Duration,
}

impl Default for ConnectionLimits {
    /// [`MAX_API_CONNECTIONS`], [`MAX_API_CONNECTIONS_PER_IP`] and [`HEADER_TIMEOUT`].
    fn default() -> Self {
        Self {
            connections: MAX_API_CONNECTIONS,
            per_client: MAX_API_CONNECTIONS_PER_IP,
            header_timeout: HEADER_TIMEOUT,
        }
    }
}

/// What [`serve`] counts.
#[derive(Debug, Clone, Default)]
pub struct ConnectionMetrics {
    /// Connections closed at once because their client had [`ConnectionLimits::per_client`]
    /// open.
    pub refused: Counter,
}

impl ConnectionMetrics {
    /// Creates the metrics and registers them (`courtledger_api_connections_refused_total`).
    pub fn register(registry: &mut Registry) -> Self {
        let metrics = Self::default();
        registry.sub_registry_with_prefix("courtledger").register(
            "api_connections_refused",
            "API connections closed at once because their client had too many open",
            metrics.refused.clone(),
        );
        metrics
    }
}

/// Serves `app` over HTTP/1 on `listener` within `limits` until `shutdown` completes, then
/// stops accepting, lets every open connection finish the request it is answering (idle ones
/// are closed at once) and returns once all are closed.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    metrics: ConnectionMetrics,
    shutdown: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(limits.connections));
    let clients = Clients::new(limits.per_client);
    let mut http = http1::Builder::new();
    // The timer is what makes hyper enforce the header timeout.
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer, slot) = tokio::select! {
            () = &mut shutdown => break,
            accepted = accept(&listener, &slots) => accepted,
        };
        let Some(client) = clients.enter(peer.ip()) else {
            metrics.refused.inc();
            debug!(
                client = %peer.ip(),
                limit = limits.per_client,
                "API connection closed: its client has as many open as it may"
            );
            // Dropping the stream closes it; the slot is free again.
            continue;
        };
        let connection = graceful.watch(
            http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone())),
        );
        tokio::spawn(async move {
            // Held until the connection closes.
            let _held = (slot, client);
            if let Err(error) = connection.await {
                // Header timeouts, resets and the like: the client's doing, not ours.
                trace!(%peer, "API connection ended: {error}");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// The next connection, once fewer than the limit are open (its slot), skipping failed
/// accepts.
async fn accept(
    listener: &TcpListener,
    slots: &Arc<Semaphore>,
) -> (TcpStream, SocketAddr, OwnedSemaphorePermit) {
    let slot = Arc::clone(slots)
        .acquire_owned()
        .await
        .expect("the connection semaphore is never closed");
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => return (stream, peer, slot),
            // The client went away before we accepted: nothing to do.
            Err(error)
                if matches!(
                    error.kind(),
                    io::ErrorKind::ConnectionAborted
                        | io::ErrorKind::ConnectionRefused
                        | io::ErrorKind::ConnectionReset
                ) => {}
            // Out of file descriptors, for example: retrying at once would spin.
            Err(error) => {
                warn!("cannot accept an API connection: {error}");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// The address a connection is counted under for the per-client cap: an IPv4 address (also
/// when mapped into IPv6), or the /64 network of an IPv6 address.
pub fn client_of(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => {
            let network = v6.to_bits() & !(u128::from(u64::MAX));
            IpAddr::V6(Ipv6Addr::from_bits(network))
        }
    }
}

/// Open connections per client.
#[derive(Debug, Clone)]
struct Clients {
    limit: usize,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl Clients {
    fn new(limit: usize) -> Self {
        Self {
            limit,
            open: Arc::default(),
        }
    }

    /// A place for one more connection of `ip`'s client, if it has fewer than the limit open.
    fn enter(&self, ip: IpAddr) -> Option<ClientSlot> {
        let client = client_of(ip);
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(client).or_insert(0);
        if *count >= self.limit {
            return None;
        }
        *count += 1;
        Some(ClientSlot {
            clients: self.clone(),
            client,
        })
    }
}

/// One open connection of a client, counted until dropped. The map holds only clients with a
/// connection open, so it has at most [`ConnectionLimits::connections`] entries.
#[derive(Debug)]
struct ClientSlot {
    clients: Clients,
    client: IpAddr,
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut open = self
            .clients
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.client) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.client);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use axum::Router;
    use std::io::{Read as _, Write as _};

    async fn serve(app: Router, connections: usize) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let limits = ConnectionLimits {
            connections,
            ..ConnectionLimits::default()
        };
        tokio::spawn(super::serve(
            listener,
            app,
            limits,
            ConnectionMetrics::default(),
            std::future::pending(),
        ));
        addr
    }

    /// One HTTP/1.1 GET on a new connection; the status code, or `None` if no answer came
    /// within `patience`.
    async fn status_of(addr: SocketAddr, path: &str, patience: Duration) -> Option<u16> {
        let request = format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
        tokio::task::spawn_blocking(move || {
            let mut stream = std::net::TcpStream::connect(addr).ok()?;
            stream.set_read_timeout(Some(patience)).ok()?;
            stream.write_all(request.as_bytes()).ok()?;
            let mut answer = Vec::new();
            stream.read_to_end(&mut answer).ok()?;
            let text = String::from_utf8_lossy(&answer).to_string();
            text.split_whitespace()
                .nth(1)
                .and_then(|code| code.parse().ok())
        })
        .await
        .unwrap()
    }

    fn slow_app(in_flight: usize) -> Router {
        let permits = Arc::new(Semaphore::new(in_flight));
        Router::new()
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_millis(800)).await;
                    "slow"
                }),
            )
            .route("/fast", get(|| async { "fast" }))
            .layer(axum::middleware::from_fn_with_state(permits, limit))
    }

    #[tokio::test]
    async fn requests_beyond_the_in_flight_bound_are_refused_at_once() {
        let addr = serve(slow_app(1), 16).await;
        let slow = tokio::spawn(status_of(addr, "/slow", Duration::from_secs(10)));
        tokio::time::sleep(Duration::from_millis(200)).await;
        // While the slow request holds the only permit, another is refused with 503 at once.
        assert_eq!(
            status_of(addr, "/fast", Duration::from_secs(5)).await,
            Some(503)
        );
        assert_eq!(slow.await.unwrap(), Some(200));
        // And answered once the permit is back.
        assert_eq!(
            status_of(addr, "/fast", Duration::from_secs(5)).await,
            Some(200)
        );
    }

    #[tokio::test]
    async fn connections_beyond_the_bound_wait_until_one_closes() {
        let addr = serve(slow_app(16), 1).await;
        // A client that connects and sends nothing holds the only connection slot.
        let idle = std::net::TcpStream::connect(addr).unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(
            status_of(addr, "/fast", Duration::from_millis(500)).await,
            None,
            "a second connection was served while the slot was taken"
        );
        drop(idle);
        assert_eq!(
            status_of(addr, "/fast", Duration::from_secs(5)).await,
            Some(200)
        );
    }
}
