//! Network partitions without root: every validator reaches every other one only through a TCP
//! proxy that this process runs on 127.0.0.1, one per ordered pair (dialer, target).
//!
//! `courtledger-network` dials exactly the `p2p_address` that the node's genesis file gives for
//! each peer (no identify, no Kademlia, no mDNS: its behaviours are an allow list, connection
//! limits, ping and streams), and every node dials every peer. So the harness writes, into node
//! `i`'s own copy of the genesis, the address of proxy `(i, j)` for each peer `j` (addresses are
//! not part of the chain id). Proxy `(i, j)` accepts node `i`'s connections and forwards them to
//! node `j`'s real listening port. Each TCP connection carries bytes both ways, so a directed
//! link `from → to` is carried by proxy `(from, to)` (forward half) and by proxy `(to, from)`
//! (backward half).
//!
//! Each directed link has three independent, reference-counted settings, so that overlapping
//! faults compose and heal in any order:
//! - **cut**: every connection carrying the link is closed at once (both halves: TCP cannot lose
//!   one direction only) and new ones are closed right after they are accepted;
//! - **stall**: the link's bytes are held in the proxy (read up to a bounded buffer, then TCP
//!   back-pressure), not forwarded, until healed: a one-way loss. The other direction flows;
//!   libp2p's ping (20 s timeout) eventually closes a connection stalled for long;
//! - **delay**: each chunk is forwarded no earlier than `delay` after it was read.

use std::io::{Read as _, Write as _};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, Instant};

use anyhow::Context as _;

/// Chunks buffered per direction of a connection before the proxy stops reading.
const BUFFERED_CHUNKS: usize = 64;
/// How often a waiting pump or the accept loop looks at the link settings again.
const POLL: Duration = Duration::from_millis(5);

/// The settings of one directed link.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkState {
    /// Active cuts.
    pub cut: u32,
    /// Active stalls.
    pub stall: u32,
    /// Sum of the active delays, in milliseconds.
    pub delay_ms: u64,
}

#[derive(Debug)]
struct Conn {
    dialer: usize,
    target: usize,
    client: TcpStream,
    server: TcpStream,
    dead: AtomicBool,
}

impl Conn {
    fn kill(&self) {
        self.dead.store(true, Ordering::SeqCst);
        let _ = self.client.shutdown(Shutdown::Both);
        let _ = self.server.shutdown(Shutdown::Both);
    }
}

#[derive(Debug)]
struct Shared {
    n: usize,
    links: Mutex<Vec<LinkState>>,
    conns: Mutex<Vec<Weak<Conn>>>,
    stop: AtomicBool,
    accepted: AtomicU64,
    refused: AtomicU64,
    killed: AtomicU64,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    fn link(&self, from: usize, to: usize) -> LinkState {
        lock(&self.links)
            .get(from * self.n + to)
            .copied()
            .unwrap_or_default()
    }

    /// Closes every live connection that carries `from → to` (in either proxy).
    fn kill_carrying(&self, from: usize, to: usize) {
        let conns: Vec<Arc<Conn>> = lock(&self.conns).iter().filter_map(Weak::upgrade).collect();
        for conn in conns {
            let carries = (conn.dialer, conn.target) == (from, to)
                || (conn.dialer, conn.target) == (to, from);
            if carries && !conn.dead.load(Ordering::SeqCst) {
                conn.kill();
                self.killed.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// The proxies of an `n`-validator network and the settings of its `n·(n−1)` directed links.
#[derive(Debug)]
pub struct Proxies {
    shared: Arc<Shared>,
    ports: Vec<u16>,
}

impl Proxies {
    /// Binds one proxy per ordered pair of distinct validators on 127.0.0.1 (free ports chosen
    /// by the system) forwarding to `targets[j]`, the real peer address of validator `j`.
    pub fn start(targets: &[SocketAddr]) -> anyhow::Result<Self> {
        let n = targets.len();
        let shared = Arc::new(Shared {
            n,
            links: Mutex::new(vec![LinkState::default(); n * n]),
            conns: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
            accepted: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            killed: AtomicU64::new(0),
        });
        let mut ports = vec![0u16; n * n];
        for dialer in 0..n {
            for (target, address) in targets.iter().enumerate() {
                if dialer == target {
                    continue;
                }
                let listener =
                    TcpListener::bind(("127.0.0.1", 0)).context("cannot bind a proxy")?;
                listener.set_nonblocking(true)?;
                ports[dialer * n + target] = listener.local_addr()?.port();
                let shared = Arc::clone(&shared);
                let address = *address;
                std::thread::Builder::new()
                    .name(format!("proxy-{dialer}-{target}"))
                    .spawn(move || accept_loop(&shared, &listener, dialer, target, address))
                    .context("cannot start a proxy thread")?;
            }
        }
        Ok(Self { shared, ports })
    }

    /// The port that validator `dialer` must dial to reach validator `target`.
    pub fn port(&self, dialer: usize, target: usize) -> u16 {
        self.ports
            .get(dialer * self.shared.n + target)
            .copied()
            .unwrap_or(0)
    }

    /// The settings of the directed link `from → to`.
    pub fn link(&self, from: usize, to: usize) -> LinkState {
        self.shared.link(from, to)
    }

    fn update(&self, from: usize, to: usize, change: impl FnOnce(&mut LinkState)) {
        if from == to {
            return;
        }
        if let Some(state) = lock(&self.shared.links).get_mut(from * self.shared.n + to) {
            change(state);
        }
    }

    /// Cuts `from → to`: closes the connections carrying it now and refuses new ones.
    pub fn cut(&self, from: usize, to: usize) {
        self.update(from, to, |s| s.cut += 1);
        self.shared.kill_carrying(from, to);
    }

    /// Undoes one [`Proxies::cut`].
    pub fn uncut(&self, from: usize, to: usize) {
        self.update(from, to, |s| s.cut = s.cut.saturating_sub(1));
    }

    /// Holds the bytes of `from → to` until [`Proxies::unstall`].
    pub fn stall(&self, from: usize, to: usize) {
        self.update(from, to, |s| s.stall += 1);
    }

    /// Undoes one [`Proxies::stall`].
    pub fn unstall(&self, from: usize, to: usize) {
        self.update(from, to, |s| s.stall = s.stall.saturating_sub(1));
    }

    /// Adds `ms` of delay to `from → to`.
    pub fn add_delay(&self, from: usize, to: usize, ms: u64) {
        self.update(from, to, |s| s.delay_ms = s.delay_ms.saturating_add(ms));
    }

    /// Removes `ms` of delay from `from → to`.
    pub fn remove_delay(&self, from: usize, to: usize, ms: u64) {
        self.update(from, to, |s| s.delay_ms = s.delay_ms.saturating_sub(ms));
    }

    /// Every link back to normal (no cut, stall or delay).
    pub fn heal_all(&self) {
        for state in lock(&self.shared.links).iter_mut() {
            *state = LinkState::default();
        }
    }

    /// Connections accepted, refused (link cut) and closed by cuts, since the start.
    pub fn counters(&self) -> (u64, u64, u64) {
        (
            self.shared.accepted.load(Ordering::Relaxed),
            self.shared.refused.load(Ordering::Relaxed),
            self.shared.killed.load(Ordering::Relaxed),
        )
    }
}

impl Drop for Proxies {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        for conn in lock(&self.shared.conns).iter().filter_map(Weak::upgrade) {
            conn.kill();
        }
    }
}

fn accept_loop(
    shared: &Arc<Shared>,
    listener: &TcpListener,
    dialer: usize,
    target: usize,
    address: SocketAddr,
) {
    while !shared.stop.load(Ordering::SeqCst) {
        let client = match listener.accept() {
            Ok((client, _)) => client,
            Err(_) => {
                std::thread::sleep(POLL * 2);
                continue;
            }
        };
        let cut = shared.link(dialer, target).cut > 0 || shared.link(target, dialer).cut > 0;
        if cut {
            shared.refused.fetch_add(1, Ordering::Relaxed);
            let _ = client.shutdown(Shutdown::Both);
            continue;
        }
        // A dead target refuses at once; a paused one still completes the TCP handshake.
        let Ok(server) = TcpStream::connect_timeout(&address, Duration::from_secs(2)) else {
            let _ = client.shutdown(Shutdown::Both);
            continue;
        };
        if connect(shared, client, server, dialer, target).is_err() {
            continue;
        }
        shared.accepted.fetch_add(1, Ordering::Relaxed);
    }
}

fn connect(
    shared: &Arc<Shared>,
    client: TcpStream,
    server: TcpStream,
    dialer: usize,
    target: usize,
) -> std::io::Result<()> {
    client.set_nonblocking(false)?;
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    let conn = Arc::new(Conn {
        dialer,
        target,
        client,
        server,
        dead: AtomicBool::new(false),
    });
    {
        let mut conns = lock(&shared.conns);
        conns.retain(|weak| weak.strong_count() > 0);
        conns.push(Arc::downgrade(&conn));
    }
    // Forward half: the dialer's bytes to the target; backward half: the target's answers.
    pump(shared, &conn, true, dialer, target)?;
    pump(shared, &conn, false, target, dialer)?;
    Ok(())
}

/// Starts the two threads that move one direction of `conn`: a reader that buffers chunks with
/// the time they arrived, and a writer that forwards them when the link `from → to` allows.
fn pump(
    shared: &Arc<Shared>,
    conn: &Arc<Conn>,
    forward: bool,
    from: usize,
    to: usize,
) -> std::io::Result<()> {
    let (sender, receiver) = sync_channel::<Option<(Instant, Vec<u8>)>>(BUFFERED_CHUNKS);
    let mut source = if forward {
        conn.client.try_clone()?
    } else {
        conn.server.try_clone()?
    };
    let reader_conn = Arc::clone(conn);
    std::thread::Builder::new()
        .name(format!("pump-r-{from}-{to}"))
        .spawn(move || {
            let mut buffer = vec![0u8; 64 * 1024];
            loop {
                match source.read(&mut buffer) {
                    Ok(0) | Err(_) => {
                        let _ = sender.send(None);
                        break;
                    }
                    Ok(count) => {
                        let chunk = buffer.get(..count).unwrap_or_default().to_vec();
                        if sender.send(Some((Instant::now(), chunk))).is_err() {
                            break;
                        }
                    }
                }
            }
            drop(reader_conn);
        })?;
    let destination = if forward {
        conn.server.try_clone()?
    } else {
        conn.client.try_clone()?
    };
    let writer_conn = Arc::clone(conn);
    let shared = Arc::clone(shared);
    std::thread::Builder::new()
        .name(format!("pump-w-{from}-{to}"))
        .spawn(move || write_loop(&shared, &writer_conn, &receiver, destination, from, to))?;
    Ok(())
}

fn write_loop(
    shared: &Shared,
    conn: &Conn,
    receiver: &Receiver<Option<(Instant, Vec<u8>)>>,
    mut destination: TcpStream,
    from: usize,
    to: usize,
) {
    while let Ok(item) = receiver.recv() {
        let Some((arrived, chunk)) = item else {
            // End of stream one way: pass the half-close on.
            let _ = destination.shutdown(Shutdown::Write);
            return;
        };
        loop {
            if conn.dead.load(Ordering::SeqCst) || shared.stop.load(Ordering::SeqCst) {
                return;
            }
            let link = shared.link(from, to);
            if link.cut > 0 {
                conn.kill();
                return;
            }
            let due = arrived + Duration::from_millis(link.delay_ms);
            let now = Instant::now();
            if link.stall == 0 && now >= due {
                break;
            }
            let wait = if link.stall > 0 {
                POLL
            } else {
                (due - now).min(POLL)
            };
            std::thread::sleep(wait);
        }
        if destination.write_all(&chunk).is_err() {
            conn.kill();
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn echo_server() -> SocketAddr {
        let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind");
        let address = listener.local_addr().expect("address");
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                std::thread::spawn(move || {
                    let mut stream = stream;
                    let mut buffer = [0u8; 1024];
                    while let Ok(count) = stream.read(&mut buffer) {
                        if count == 0 || stream.write_all(&buffer[..count]).is_err() {
                            break;
                        }
                    }
                });
            }
        });
        address
    }

    fn round_trip(port: u16, timeout: Duration) -> std::io::Result<Vec<u8>> {
        let mut stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_read_timeout(Some(timeout))?;
        stream.write_all(b"ping")?;
        let mut answer = [0u8; 4];
        stream.read_exact(&mut answer)?;
        Ok(answer.to_vec())
    }

    #[test]
    fn forwards_cuts_stalls_and_delays() {
        let echo = echo_server();
        let proxies = Proxies::start(&[echo, echo]).expect("proxies");
        let port = proxies.port(0, 1);
        let second = Duration::from_secs(2);
        assert_eq!(round_trip(port, second).expect("forwarded"), b"ping");

        // A cut of either direction closes the connection.
        proxies.cut(1, 0);
        assert!(round_trip(port, second).is_err());
        proxies.uncut(1, 0);
        assert_eq!(round_trip(port, second).expect("healed"), b"ping");

        // A stalled answer does not arrive; an open connection flows again after the heal.
        let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_millis(300)))
            .expect("timeout");
        proxies.stall(1, 0);
        stream.write_all(b"ping").expect("write");
        let mut answer = [0u8; 4];
        assert!(stream.read_exact(&mut answer).is_err());
        proxies.unstall(1, 0);
        stream.set_read_timeout(Some(second)).expect("timeout");
        stream.read_exact(&mut answer).expect("released");
        assert_eq!(&answer, b"ping");

        proxies.add_delay(0, 1, 300);
        let started = Instant::now();
        assert_eq!(round_trip(port, second).expect("delayed"), b"ping");
        assert!(started.elapsed() >= Duration::from_millis(300));
        proxies.remove_delay(0, 1, 300);
        assert_eq!(proxies.link(0, 1), LinkState::default());
    }
}
