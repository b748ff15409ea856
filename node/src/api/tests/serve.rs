//! The API over real TCP connections through its accept loop ([`guard::serve`]): the header
//! timeout, the per-client connection cap, event streams outliving the header timeout, and
//! graceful shutdown. Timeouts are short here; the only timed assertions are generous upper
//! bounds ([`BOUND`]).

use std::net::{Ipv4Addr, SocketAddr};

use axum::routing::get;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::super::guard::{self, ConnectionLimits, ConnectionMetrics};
use super::*;

/// Longer than anything here should take; only reached when something is wrong.
const BOUND: Duration = Duration::from_secs(20);

/// A server of `app` on a loopback port.
struct Server {
    addr: SocketAddr,
    metrics: ConnectionMetrics,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Server {
    async fn start(app: Router, limits: ConnectionLimits) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let metrics = ConnectionMetrics::default();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(guard::serve(
            listener,
            app,
            limits,
            metrics.clone(),
            async {
                let _ = stopped.await;
            },
        ));
        Self {
            addr,
            metrics,
            stop: Some(stop),
            task,
        }
    }

    /// A new connection from `ip` (any 127.0.0.0/8 address routes over loopback on Linux).
    async fn connect_from(&self, ip: Ipv4Addr) -> TcpStream {
        let socket = TcpSocket::new_v4().unwrap();
        socket.bind(SocketAddr::from((ip, 0))).unwrap();
        socket.connect(self.addr).await.unwrap()
    }

    async fn connect(&self) -> TcpStream {
        self.connect_from(Ipv4Addr::LOCALHOST).await
    }
}

fn limits(connections: usize, per_client: usize, header_timeout: Duration) -> ConnectionLimits {
    ConnectionLimits {
        connections,
        per_client,
        header_timeout,
    }
}

/// Writes a keep-alive `GET path`. A failed write (the server closed the connection) shows
/// when reading the answer.
async fn send_get(stream: &mut TcpStream, path: &str) {
    let request = format!("GET {path} HTTP/1.1\r\nhost: x\r\n\r\n");
    let _ = stream.write_all(request.as_bytes()).await;
}

/// Reads a response head, and its body when it has a `content-length`: the status and the
/// body. `None` if the connection ends (or fails) first.
async fn read_response(stream: &mut TcpStream) -> Option<(u16, Vec<u8>)> {
    let mut buffer = Vec::new();
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).to_lowercase();
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let length = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .map_or(0, |value| value.trim().parse::<usize>().unwrap());
    while buffer.len() < head_end + length {
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    Some((status, buffer[head_end..head_end + length].to_vec()))
}

/// `GET path` on `stream`, within [`BOUND`]: the status, or `None` if the connection ended.
async fn get_on(stream: &mut TcpStream, path: &str) -> Option<u16> {
    send_get(stream, path).await;
    tokio::time::timeout(BOUND, read_response(stream))
        .await
        .expect("an answer or the end of the connection in time")
        .map(|(status, _)| status)
}

/// Whether the server closes `stream` within [`BOUND`], whatever it sends before.
async fn closed(stream: &mut TcpStream) -> bool {
    let until_closed = async {
        let mut chunk = [0u8; 4096];
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(BOUND, until_closed).await.is_ok()
}

/// Reads `stream` until `text` has come, within [`BOUND`]; false if it ends first.
async fn read_until(stream: &mut TcpStream, text: &str) -> bool {
    let mut seen = Vec::new();
    let reading = async {
        let mut chunk = [0u8; 4096];
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return false,
                Ok(n) => seen.extend_from_slice(&chunk[..n]),
            }
            if String::from_utf8_lossy(&seen).contains(text) {
                return true;
            }
        }
    };
    tokio::time::timeout(BOUND, reading)
        .await
        .expect("the text or the end of the stream in time")
}

#[tokio::test]
async fn headers_dripped_past_the_header_timeout_close_the_connection_and_free_its_slot() {
    let api = Harness::new();
    // One connection slot: the dripping client holds it until the server closes it.
    let server = Server::start(api.router(), limits(1, 64, Duration::from_secs(2))).await;
    let stream = server.connect().await;
    let (mut reader, mut writer) = stream.into_split();
    writer
        .write_all(b"GET /v1/status HTTP/1.1\r\nHost: x\r\nx-drip: ")
        .await
        .unwrap();
    // One byte a second, each before the timeout would have run out had it restarted: the
    // headers never end.
    let drip = tokio::spawn(async move {
        while writer.write_all(b"x").await.is_ok() {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    let until_closed = async {
        let mut chunk = [0u8; 64];
        while matches!(reader.read(&mut chunk).await, Ok(n) if n > 0) {}
    };
    assert!(
        tokio::time::timeout(BOUND, until_closed).await.is_ok(),
        "a connection dripping its headers was not closed"
    );
    drip.abort();

    // The slot is free: the next client is served.
    let mut next = server.connect().await;
    assert_eq!(get_on(&mut next, "/v1/status").await, Some(200));
}

#[tokio::test]
async fn idle_keep_alive_connections_are_closed_after_the_header_timeout() {
    let api = Harness::new();
    let server = Server::start(api.router(), limits(1, 64, Duration::from_millis(500))).await;
    let mut idle = server.connect().await;
    assert_eq!(get_on(&mut idle, "/v1/status").await, Some(200));
    // Kept alive, then closed for sending no next request.
    assert!(closed(&mut idle).await, "an idle connection stayed open");
    let mut next = server.connect().await;
    assert_eq!(get_on(&mut next, "/v1/status").await, Some(200));
}

#[tokio::test]
async fn connections_over_the_per_client_cap_are_closed_while_other_clients_are_served() {
    let api = Harness::new();
    let server = Server::start(api.router(), limits(16, 2, Duration::from_secs(30))).await;
    let local = Ipv4Addr::LOCALHOST;
    let other = Ipv4Addr::new(127, 0, 0, 2);

    // Two connections of 127.0.0.1, both served and kept open.
    let mut first = server.connect_from(local).await;
    let mut second = server.connect_from(local).await;
    assert_eq!(get_on(&mut first, "/v1/status").await, Some(200));
    assert_eq!(get_on(&mut second, "/v1/status").await, Some(200));

    // A third is closed without an answer.
    let mut third = server.connect_from(local).await;
    assert_eq!(get_on(&mut third, "/v1/status").await, None);
    assert_eq!(server.metrics.refused.get(), 1);

    // Another client is served meanwhile, and so are the first two.
    let mut elsewhere = server.connect_from(other).await;
    assert_eq!(get_on(&mut elsewhere, "/v1/status").await, Some(200));
    assert_eq!(get_on(&mut first, "/v1/status").await, Some(200));

    // Once 127.0.0.1 closes one, it may open another (when the server has seen the close).
    drop(second);
    let served = async {
        loop {
            let mut again = server.connect_from(local).await;
            if get_on(&mut again, "/v1/status").await == Some(200) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(BOUND, served)
        .await
        .expect("127.0.0.1 was not served again after closing a connection");
}

#[tokio::test]
async fn event_streams_outlive_the_header_timeout() {
    let api = Harness::new();
    let timeout = Duration::from_millis(300);
    let server = Server::start(api.router(), limits(16, 64, timeout)).await;
    let mut stream = server.connect().await;
    send_get(&mut stream, "/v1/events").await;
    assert!(read_until(&mut stream, "text/event-stream").await);

    // Quiet for several header timeouts (keep-alive comments come only every 15 s)...
    tokio::time::sleep(timeout * 5).await;
    // ...and still open: the next event arrives.
    api.state.events.publish(event(1, vec![]));
    assert!(
        read_until(&mut stream, "event: tx").await,
        "the event stream ended"
    );
}

#[tokio::test]
async fn shutdown_finishes_requests_in_flight_ends_event_streams_and_closes_idle_connections() {
    let api = Harness::new();
    let (started, mut in_flight) = tokio::sync::mpsc::channel::<()>(1);
    let app = api.router().route(
        "/slow",
        get(move || {
            let started = started.clone();
            async move {
                let _ = started.send(()).await;
                tokio::time::sleep(Duration::from_millis(500)).await;
                "slow"
            }
        }),
    );
    let mut server = Server::start(app, limits(16, 64, Duration::from_secs(30))).await;

    let mut events = server.connect().await;
    send_get(&mut events, "/v1/events").await;
    assert!(read_until(&mut events, "text/event-stream").await);
    let mut idle = server.connect().await;
    assert_eq!(get_on(&mut idle, "/v1/status").await, Some(200));
    let mut slow = server.connect().await;
    send_get(&mut slow, "/slow").await;
    in_flight.recv().await.unwrap();

    // As the node stops: no more events, then the API's shutdown.
    api.state.events.close();
    server.stop.take().unwrap().send(()).unwrap();

    let answer = tokio::time::timeout(BOUND, read_response(&mut slow))
        .await
        .expect("the request in flight was answered in time");
    assert_eq!(answer, Some((200, b"slow".to_vec())));
    assert!(
        closed(&mut slow).await,
        "the answered connection stayed open"
    );
    assert!(closed(&mut events).await, "the event stream stayed open");
    assert!(closed(&mut idle).await, "the idle connection stayed open");
    tokio::time::timeout(BOUND, &mut server.task)
        .await
        .expect("serve returned in time")
        .unwrap();
    // Nothing listens any more.
    assert!(TcpStream::connect(server.addr).await.is_err());
}
