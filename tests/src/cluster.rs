//! A real network of `courtledger-node` processes on 127.0.0.1, every peer link through the
//! harness's proxies, with the faults that act on processes (kill, restart, pause, resume).
//!
//! The processes are killed when the [`Cluster`] is dropped, on success, failure or panic; a
//! panic also prints the seed and the tail of every node's log.

use std::io::Write as _;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context as _};
use courtledger_crypto::SigningKey;
use courtledger_types::Genesis;
use serde_json::Value;

use crate::http::Http;
use crate::proxy::Proxies;

/// A node process is running.
pub const RUNNING: u8 = 0;
/// Killed (SIGKILL), not restarted yet.
pub const KILLED: u8 = 1;
/// Stopped with SIGSTOP.
pub const PAUSED: u8 = 2;

/// Where the built binaries are: `cargo build -p courtledger-node -p courtledger-client` is run
/// first (with the `CARGO` and `CARGO_TARGET_DIR` this test runs under), as `client/tests/e2e.rs`
/// does; this crate cannot use another package's `CARGO_BIN_EXE_*`.
///
/// `NEMESIS_BIN_DIR=DIR` skips the build and takes both binaries from `DIR` (to test a fixed
/// build while the working tree changes).
pub fn build_binaries() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("NEMESIS_BIN_DIR").filter(|d| !d.is_empty()) {
        let bin = PathBuf::from(dir);
        ensure!(
            bin.join("courtledger-node").exists() && bin.join("courtledger").exists(),
            "NEMESIS_BIN_DIR={}: no courtledger-node and courtledger there",
            bin.display()
        );
        return Ok(bin);
    }
    let root = workspace_root();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "-p",
            "courtledger-node",
            "-p",
            "courtledger-client",
        ])
        .current_dir(&root)
        .status()
        .context("cannot run cargo build")?;
    ensure!(
        status.success(),
        "cargo build of the node and client failed"
    );
    let target = match std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => dir,
        Some(dir) => root.join(dir),
        // The test binary is TARGET/<profile>/deps/<name>.
        None => std::env::current_exe()
            .ok()
            .and_then(|exe| Some(exe.parent()?.parent()?.parent()?.to_path_buf()))
            .unwrap_or_else(|| root.join("target")),
    };
    let bin = target.join("debug");
    ensure!(
        bin.join("courtledger-node").exists() && bin.join("courtledger").exists(),
        "the binaries are not in {}",
        bin.display()
    );
    Ok(bin)
}

/// The workspace's root directory.
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// A base port such that `base..base+count` and `base+100..base+100+count` are free now; below
/// the system's ephemeral range (where the proxies' ports come from).
fn free_base_port(count: u16, salt: u64) -> anyhow::Result<u16> {
    let start = u16::try_from((u64::from(std::process::id()) ^ salt) % 19).unwrap_or(0);
    for attempt in 0..19u16 {
        let base = 30_000 + ((start + attempt) % 19) * 128;
        let all_free = (0..count)
            .flat_map(|i| [base + i, base + 100 + i])
            .all(|port| TcpListener::bind(("127.0.0.1", port)).is_ok());
        if all_free {
            return Ok(base);
        }
    }
    bail!("no free port range found between 30000 and 32500")
}

/// The running network.
#[derive(Debug)]
pub struct Cluster {
    /// Number of validators.
    pub n: usize,
    /// The seed of the run (printed if the cluster is dropped during a panic).
    pub seed: u64,
    dir: Mutex<Option<tempfile::TempDir>>,
    root: PathBuf,
    bin: PathBuf,
    base_port: u16,
    children: Mutex<Vec<Option<Child>>>,
    states: Vec<AtomicU8>,
    starts: Vec<AtomicU8>,
    started: Instant,
    /// The proxies between the validators.
    pub proxies: Proxies,
    /// The genesis (the same chain id in every home).
    pub genesis: Genesis,
    http: Http,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Cluster {
    /// Writes a testnet of `n` validators into a temporary directory, points each validator's
    /// peers at the proxies, and starts every node.
    pub fn start(bin: PathBuf, n: usize, seed: u64) -> anyhow::Result<Cluster> {
        let count = u16::try_from(n).context("too many validators")?;
        let dir = tempfile::Builder::new()
            .prefix("courtledger-nemesis-")
            .tempdir()
            .context("cannot create a temporary directory")?;
        let root = dir.path().to_path_buf();
        // A private copy of the binaries: every restart runs the same build even if the
        // workspace is rebuilt meanwhile.
        let private = root.join("bin");
        std::fs::create_dir_all(&private)?;
        for name in ["courtledger-node", "courtledger"] {
            std::fs::copy(bin.join(name), private.join(name))
                .with_context(|| format!("cannot copy {}", bin.join(name).display()))?;
        }
        let bin = private;
        let base_port = free_base_port(count, seed)?;
        let out = root.join("net");
        let status = Command::new(bin.join("courtledger-node"))
            .args(["testnet", "--validators", &count.to_string(), "--out"])
            .arg(&out)
            .args(["--base-port", &base_port.to_string()])
            .stdout(Stdio::null())
            .status()
            .context("cannot run courtledger-node testnet")?;
        ensure!(status.success(), "courtledger-node testnet failed");
        let genesis_text = std::fs::read_to_string(out.join("genesis.json"))?;
        let genesis = Genesis::from_json(&genesis_text).context("the testnet's genesis")?;

        let targets: Vec<SocketAddr> = (0..count)
            .map(|i| SocketAddr::from(([127, 0, 0, 1], base_port + i)))
            .collect();
        let proxies = Proxies::start(&targets)?;
        for i in 0..n {
            let home = out.join(format!("node{i}"));
            // Shorter waits for empty blocks than the default (as the other process tests do).
            let config = home.join("config.toml");
            let text = std::fs::read_to_string(&config)?;
            ensure!(
                text.contains("empty_block_wait_ms = 500"),
                "config.toml changed shape: {text}"
            );
            std::fs::write(
                &config,
                text.replace("empty_block_wait_ms = 500", "empty_block_wait_ms = 100"),
            )?;
            // Every peer of node i at the address of its proxy (i, j).
            let mut file: Value = serde_json::from_str(&genesis_text)?;
            let validators = file["validators"]
                .as_array_mut()
                .context("genesis has no validators")?;
            for (j, validator) in validators.iter_mut().enumerate() {
                if j != i {
                    validator["p2p_address"] =
                        Value::from(format!("127.0.0.1:{}", proxies.port(i, j)));
                }
            }
            let rewritten = serde_json::to_string_pretty(&file)? + "\n";
            let check = Genesis::from_json(&rewritten).context("rewritten genesis")?;
            ensure!(
                check.chain_id() == genesis.chain_id(),
                "peer addresses changed the chain id"
            );
            std::fs::write(home.join("genesis.json"), rewritten)?;
        }
        let cluster = Cluster {
            n,
            seed,
            dir: Mutex::new(Some(dir)),
            root,
            bin,
            base_port,
            children: Mutex::new((0..n).map(|_| None).collect()),
            states: (0..n).map(|_| AtomicU8::new(KILLED)).collect(),
            starts: (0..n).map(|_| AtomicU8::new(0)).collect(),
            started: Instant::now(),
            proxies,
            genesis,
            http: Http::new(Duration::from_secs(3)),
        };
        for i in 0..n {
            cluster.restart(i)?;
        }
        Ok(cluster)
    }

    /// The directory holding the network (homes, genesis, logs).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The genesis file every client and auditor uses (the original peer addresses).
    pub fn genesis_path(&self) -> PathBuf {
        self.root.join("net").join("genesis.json")
    }

    /// The `courtledger` client binary.
    pub fn client_bin(&self) -> PathBuf {
        self.bin.join("courtledger")
    }

    /// The key of registrar `k` as the testnet wrote it.
    pub fn registrar(&self, k: usize) -> anyhow::Result<SigningKey> {
        let path = self
            .root
            .join("net")
            .join("registrars")
            .join(format!("registrar{k}.json"));
        courtledger_keystore::read_key_file(&path)
            .with_context(|| format!("cannot read {}", path.display()))
    }

    /// Node `i`'s API base URL.
    pub fn api(&self, i: usize) -> String {
        let offset = u16::try_from(i).unwrap_or(0);
        format!("http://127.0.0.1:{}", self.base_port + 100 + offset)
    }

    /// Every node's API base URL.
    pub fn apis(&self) -> Vec<String> {
        (0..self.n).map(|i| self.api(i)).collect()
    }

    /// Node `i`'s log file (all its runs, one after the other).
    pub fn log_path(&self, i: usize) -> PathBuf {
        self.root.join(format!("node{i}.log"))
    }

    /// [`RUNNING`], [`KILLED`] or [`PAUSED`].
    pub fn state(&self, i: usize) -> u8 {
        self.states
            .get(i)
            .map_or(KILLED, |s| s.load(Ordering::SeqCst))
    }

    /// The nodes whose process runs (not killed, not paused).
    pub fn running(&self) -> Vec<usize> {
        (0..self.n).filter(|i| self.state(*i) == RUNNING).collect()
    }

    fn set_state(&self, i: usize, state: u8) {
        if let Some(s) = self.states.get(i) {
            s.store(state, Ordering::SeqCst);
        }
    }

    fn pid(&self, i: usize) -> Option<u32> {
        lock(&self.children)
            .get(i)
            .and_then(Option::as_ref)
            .map(Child::id)
    }

    /// Starts node `i` (again) on its home; its output is appended to its log.
    pub fn restart(&self, i: usize) -> anyhow::Result<()> {
        let mut children = lock(&self.children);
        let slot = children.get_mut(i).context("no such node")?;
        ensure!(slot.is_none(), "node {i} is already running");
        let run = self
            .starts
            .get(i)
            .map_or(0, |s| s.fetch_add(1, Ordering::SeqCst))
            + 1;
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path(i))?;
        writeln!(
            log,
            "==== nemesis: start #{run} of node {i} at +{:.1}s ====",
            self.started.elapsed().as_secs_f64()
        )?;
        let child = Command::new(self.bin.join("courtledger-node"))
            .args(["start", "--home"])
            .arg(self.root.join("net").join(format!("node{i}")))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("cannot start courtledger-node")?;
        *slot = Some(child);
        self.set_state(i, RUNNING);
        Ok(())
    }

    /// SIGKILL to node `i` (paused or not), and waits for it to be gone.
    pub fn kill(&self, i: usize) -> anyhow::Result<()> {
        let child = lock(&self.children).get_mut(i).and_then(Option::take);
        self.set_state(i, KILLED);
        if let Some(mut child) = child {
            child.kill().context("SIGKILL")?;
            child.wait().context("waiting for a killed node")?;
        }
        Ok(())
    }

    fn signal(&self, i: usize, signal: &str) -> anyhow::Result<()> {
        let pid = self
            .pid(i)
            .with_context(|| format!("node {i} is not running"))?;
        let status = Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .context("cannot run kill")?;
        ensure!(status.success(), "kill {signal} {pid} failed");
        Ok(())
    }

    /// SIGSTOP to node `i`.
    pub fn pause(&self, i: usize) -> anyhow::Result<()> {
        self.set_state(i, PAUSED);
        self.signal(i, "-STOP")
    }

    /// SIGCONT to node `i`.
    pub fn resume(&self, i: usize) -> anyhow::Result<()> {
        self.signal(i, "-CONT")?;
        self.set_state(i, RUNNING);
        Ok(())
    }

    /// Every node running and every link healed.
    pub fn heal_all(&self) -> anyhow::Result<()> {
        self.proxies.heal_all();
        for i in 0..self.n {
            match self.state(i) {
                PAUSED => self.resume(i)?,
                KILLED => self.restart(i)?,
                _ => {}
            }
        }
        Ok(())
    }

    /// SIGTERM to every node; whether each one exited with status 0 within 20 s.
    pub fn stop_all(&self) -> Vec<bool> {
        let mut children = lock(&self.children);
        for child in children.iter().flatten() {
            let _ = Command::new("kill")
                .args(["-CONT", &child.id().to_string()])
                .status();
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut clean = Vec::with_capacity(self.n);
        for (i, slot) in children.iter_mut().enumerate() {
            let Some(mut child) = slot.take() else {
                clean.push(false);
                continue;
            };
            self.set_state(i, KILLED);
            let exited = loop {
                match child.try_wait() {
                    Ok(Some(status)) => break status.success(),
                    Ok(None) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    _ => {
                        let _ = child.kill();
                        let _ = child.wait();
                        break false;
                    }
                }
            };
            clean.push(exited);
        }
        clean
    }

    /// `GET` on node `i`'s API, the body if the answer is 200.
    pub fn get(&self, i: usize, path: &str) -> Option<Value> {
        self.http.get_ok(&format!("{}{path}", self.api(i)))
    }

    /// Node `i`'s last committed height, if it answers.
    pub fn height(&self, i: usize) -> Option<u64> {
        self.get(i, "/v1/status")?["last_committed_height"].as_u64()
    }

    /// Node `i`'s connected peers, if it answers.
    pub fn peers(&self, i: usize) -> Option<u64> {
        self.get(i, "/v1/status")?["peers"].as_u64()
    }

    /// Waits until `condition` holds (checked every 200 ms), at most `timeout`.
    pub fn wait_until(&self, timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if condition() {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The last `lines` lines of each node's log, with a header per node.
    pub fn log_tails(&self, lines: usize) -> String {
        let mut out = String::new();
        for i in 0..self.n {
            let text = std::fs::read_to_string(self.log_path(i)).unwrap_or_default();
            let all: Vec<&str> = text.lines().collect();
            let tail = all.get(all.len().saturating_sub(lines)..).unwrap_or(&[]);
            out.push_str(&format!(
                "---- node {i} log, last {} lines ({}) ----\n",
                tail.len(),
                self.log_path(i).display()
            ));
            for line in tail {
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }

    /// Keeps the directory (homes, databases, logs) after the run; returns its path.
    pub fn keep_dir(&self) -> PathBuf {
        if let Some(dir) = lock(&self.dir).take() {
            let _ = dir.keep();
        }
        self.root.clone()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "nemesis: panicked; NEMESIS_SEED={} replays the schedule\n{}",
                self.seed,
                self.log_tails(40)
            );
        }
        for child in lock(&self.children).iter_mut().flatten() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
