//! What keeps a flood of API clients from exhausting the node: a cap on open connections, a cap
//! on requests in flight (more are refused at once with 503 `overloaded`), and a deadline for
//! each request (a body dripped in slowly ends with 408 `request_timeout`). Consensus runs on
//! its own thread and the API reaches it only through a bounded inbox, so none of this can
//! stall block production; it keeps the API itself answering.
//!
//! Not covered: a client that opens connections and never finishes sending their headers holds
//! a connection slot until it gives up (hyper's header timeout is not reachable through
//! `axum::serve`); the connection cap bounds how many such slots exist.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::error::ApiError;

/// Most API connections open at once; further clients wait in the listen backlog.
pub const MAX_API_CONNECTIONS: usize = 1024;
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

/// A TCP listener that holds at most `permits` connections open.
pub struct LimitedListener {
    inner: TcpListener,
    permits: Arc<Semaphore>,
}

impl LimitedListener {
    /// Wraps `inner`, allowing [`MAX_API_CONNECTIONS`] connections.
    pub fn new(inner: TcpListener) -> Self {
        Self::with_limit(inner, MAX_API_CONNECTIONS)
    }

    /// Wraps `inner`, allowing `limit` connections.
    pub fn with_limit(inner: TcpListener, limit: usize) -> Self {
        Self {
            inner,
            permits: Arc::new(Semaphore::new(limit)),
        }
    }
}

impl axum::serve::Listener for LimitedListener {
    type Io = LimitedStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .expect("the connection semaphore is never closed");
        let (stream, addr) = axum::serve::Listener::accept(&mut self.inner).await;
        (
            LimitedStream {
                stream,
                _permit: permit,
            },
            addr,
        )
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// A connection holding one of the listener's permits until it closes.
pub struct LimitedStream {
    stream: TcpStream,
    _permit: OwnedSemaphorePermit,
}

impl AsyncRead for LimitedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for LimitedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
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
        tokio::spawn(async move {
            axum::serve(LimitedListener::with_limit(listener, connections), app)
                .await
                .unwrap();
        });
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
