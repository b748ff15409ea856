//! A real network of `courtledger-node` processes on 127.0.0.1, every peer link through the
//! harness's proxies, with the faults that act on processes (kill, restart, pause, resume, a
//! restart with a skewed clock) and on their storage (a full disk, a torn write-ahead log).
//!
//! The processes are killed and the tmpfs mounts undone when the [`Cluster`] is dropped, on
//! success, failure or panic; a panic also prints the seed and the tail of every node's log.

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

use crate::disk::Mounts;
use crate::http::Http;
use crate::proxy::Proxies;

/// A node process is running.
pub const RUNNING: u8 = 0;
/// Killed (SIGKILL), not restarted yet.
pub const KILLED: u8 = 1;
/// Stopped with SIGSTOP.
pub const PAUSED: u8 = 2;
/// Exited by itself (found by [`Cluster::reap`]), not restarted yet.
pub const EXITED: u8 = 3;

/// What the cluster can do besides kills, pauses and the proxies' faults.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Put each validator's database on its own tmpfs (root only), for disk-full faults.
    pub tmpfs: bool,
    /// `libfaketime.so.1`, for clock-skew faults.
    pub faketime: Option<PathBuf>,
}

/// A node process that exited by itself.
#[derive(Debug, Clone)]
pub struct Exit {
    /// The validator.
    pub node: usize,
    /// Which start of it (`==== nemesis: start #k`).
    pub run: u8,
    /// When it was found gone, in milliseconds since the cluster started.
    pub at_ms: u64,
    /// Its exit code, if it exited (not killed by a signal).
    pub code: Option<i32>,
    /// How it ended, as the process status says (`exit status: 1`, `signal: 6 (SIGABRT)`).
    pub status: String,
    /// The last lines of its log in that run.
    pub tail: Vec<String>,
}

impl Exit {
    /// Whether its log shows a Rust panic.
    pub fn panicked(&self) -> bool {
        self.code == Some(101) || self.tail.iter().any(|l| l.contains("panicked at"))
    }
}

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
    /// Declared before `dir`: unmounted before the directory is removed.
    mounts: Mounts,
    dir: Mutex<Option<tempfile::TempDir>>,
    root: PathBuf,
    bin: PathBuf,
    base_port: u16,
    children: Mutex<Vec<Option<Child>>>,
    states: Vec<AtomicU8>,
    starts: Vec<AtomicU8>,
    started: Instant,
    faketime: Option<PathBuf>,
    /// Each node's clock offset (ms) in its current run, if skewed.
    skews: Mutex<Vec<Option<i64>>>,
    /// Each node's disk is shrunk (a disk-full fault is on).
    full: Mutex<Vec<bool>>,
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
    /// peers at the proxies, mounts each one's tmpfs (if `options.tmpfs`), and starts every
    /// node.
    pub fn start(bin: PathBuf, n: usize, seed: u64, options: Options) -> anyhow::Result<Cluster> {
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
            ensure!(
                text.contains("data_dir = \"data\""),
                "config.toml changed shape (data_dir): {text}"
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
        // Each database on its own tmpfs, made before the node first starts. Should starting
        // fail from here on, the guard unmounts them before the directory is removed.
        let mounts = if options.tmpfs {
            let dirs: Vec<PathBuf> = (0..n).map(|i| data_dir(&root, i)).collect();
            Mounts::mount(&dirs).context("cannot mount the validators' tmpfs")?
        } else {
            Mounts::none()
        };
        let cluster = Cluster {
            n,
            seed,
            mounts,
            dir: Mutex::new(Some(dir)),
            root,
            bin,
            base_port,
            children: Mutex::new((0..n).map(|_| None).collect()),
            states: (0..n).map(|_| AtomicU8::new(KILLED)).collect(),
            starts: (0..n).map(|_| AtomicU8::new(0)).collect(),
            started: Instant::now(),
            faketime: options.faketime,
            skews: Mutex::new(vec![None; n]),
            full: Mutex::new(vec![false; n]),
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

    /// Node `i`'s database directory (its tmpfs mount point when disks are mounted).
    pub fn data_dir(&self, i: usize) -> PathBuf {
        data_dir(&self.root, i)
    }

    /// Whether each database is on its own tmpfs (disk-full faults possible).
    pub fn has_disks(&self) -> bool {
        self.mounts.active()
    }

    /// Whether nodes can be started with a skewed clock.
    pub fn has_faketime(&self) -> bool {
        self.faketime.is_some()
    }

    /// Milliseconds since the cluster started.
    pub fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// [`RUNNING`], [`KILLED`], [`PAUSED`] or [`EXITED`].
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

    /// Starts node `i` (again) on its home, with the clock offset it was last given (see
    /// [`Cluster::set_skew`]); its output is appended to its log. Returns the number of this
    /// start (`==== nemesis: start #k`).
    pub fn restart(&self, i: usize) -> anyhow::Result<u8> {
        let skew = lock(&self.skews).get(i).copied().flatten();
        let mut children = lock(&self.children);
        let slot = children.get_mut(i).context("no such node")?;
        ensure!(slot.is_none(), "node {i} is already running");
        let run = self
            .starts
            .get(i)
            .map_or(0, |s| s.fetch_add(1, Ordering::SeqCst))
            .wrapping_add(1);
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path(i))?;
        let mut command = Command::new(self.bin.join("courtledger-node"));
        let skewed = match (skew, &self.faketime) {
            (Some(offset), Some(library)) => {
                command.envs(crate::clock::environment(library, offset));
                format!(", clock {}", crate::clock::faketime_spec(offset))
            }
            (Some(_), None) => bail!("node {i}: a clock skew without libfaketime"),
            _ => String::new(),
        };
        writeln!(
            log,
            "==== nemesis: start #{run} of node {i} at +{:.1}s{skewed} ====",
            self.started.elapsed().as_secs_f64()
        )?;
        let child = command
            .args(["start", "--home"])
            .arg(self.root.join("net").join(format!("node{i}")))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("cannot start courtledger-node")?;
        *slot = Some(child);
        self.set_state(i, RUNNING);
        Ok(run)
    }

    /// The number of node `i`'s latest start (`==== nemesis: start #k`).
    pub fn current_run(&self, i: usize) -> u8 {
        self.starts.get(i).map_or(0, |s| s.load(Ordering::SeqCst))
    }

    /// The clock offset node `i` gets from its next start on (`None`: the real clock).
    pub fn set_skew(&self, i: usize, offset_ms: Option<i64>) -> anyhow::Result<()> {
        ensure!(
            offset_ms.is_none() || self.faketime.is_some(),
            "clock skew needs libfaketime"
        );
        if let Some(slot) = lock(&self.skews).get_mut(i) {
            *slot = offset_ms;
        }
        Ok(())
    }

    /// Node `i`'s clock offset in its current run.
    pub fn skew(&self, i: usize) -> Option<i64> {
        lock(&self.skews).get(i).copied().flatten()
    }

    /// The node processes that exited by themselves since the last call (each is then in
    /// state [`EXITED`], to be restarted by whoever decides to).
    pub fn reap(&self) -> Vec<Exit> {
        let mut gone = Vec::new();
        {
            let mut children = lock(&self.children);
            for (i, slot) in children.iter_mut().enumerate() {
                let Some(child) = slot.as_mut() else { continue };
                if let Ok(Some(status)) = child.try_wait() {
                    *slot = None;
                    self.set_state(i, EXITED);
                    let run = self.starts.get(i).map_or(0, |s| s.load(Ordering::SeqCst));
                    gone.push((i, run, status));
                }
            }
        }
        gone.into_iter()
            .map(|(node, run, status)| {
                let lines = self.run_log(node, run);
                let tail = lines
                    .get(lines.len().saturating_sub(8)..)
                    .unwrap_or(&[])
                    .to_vec();
                Exit {
                    node,
                    run,
                    at_ms: self.elapsed_ms(),
                    code: status.code(),
                    status: status.to_string(),
                    tail,
                }
            })
            .collect()
    }

    /// The lines node `i` logged in its start number `run`.
    pub fn run_log(&self, i: usize, run: u8) -> Vec<String> {
        let text = std::fs::read_to_string(self.log_path(i)).unwrap_or_default();
        let marker = format!("==== nemesis: start #{run} of node {i} at");
        let mut lines = Vec::new();
        let mut inside = false;
        for line in text.lines() {
            if line.starts_with("==== nemesis: start #") {
                inside = line.starts_with(&marker);
                continue;
            }
            if inside {
                lines.push(line.to_owned());
            }
        }
        lines
    }

    /// Makes node `i`'s disk full: stops the process for an instant (SIGSTOP), releases the
    /// space RocksDB preallocated beyond its files' ends, shrinks the tmpfs to its usage plus
    /// `margin` bytes, and lets the process go on (SIGCONT). Returns what was done.
    pub fn fill_disk(&self, i: usize, margin: u64) -> anyhow::Result<String> {
        let dir = self
            .mounts
            .path(i)
            .with_context(|| format!("node {i} has no tmpfs"))?;
        let pid = (self.state(i) == RUNNING).then(|| self.pid(i)).flatten();
        let result = (|| {
            if let Some(pid) = pid {
                stop_process(pid)?;
            }
            let released = crate::disk::release_preallocation(&dir)?;
            let used = crate::disk::used_bytes(&dir)?;
            crate::disk::resize(&dir, used + margin)?;
            if let Some(full) = lock(&self.full).get_mut(i) {
                *full = true;
            }
            Ok(format!(
                "{} KiB used (after releasing {} KiB preallocated), disk shrunk to {} KiB",
                used / 1024,
                released / 1024,
                (used + margin).div_ceil(1024)
            ))
        })();
        if let Some(pid) = pid {
            let _ = Command::new("kill")
                .args(["-CONT", &pid.to_string()])
                .status();
        }
        result
    }

    /// Gives node `i`'s disk its room back.
    pub fn unfill_disk(&self, i: usize) -> anyhow::Result<()> {
        let dir = self
            .mounts
            .path(i)
            .with_context(|| format!("node {i} has no tmpfs"))?;
        crate::disk::resize(&dir, crate::disk::LARGE_BYTES)?;
        if let Some(full) = lock(&self.full).get_mut(i) {
            *full = false;
        }
        Ok(())
    }

    /// Damages the tail of node `i`'s newest write-ahead log (the node must be killed).
    pub fn tear_wal(
        &self,
        i: usize,
        bytes: u64,
        overwrite: bool,
    ) -> anyhow::Result<crate::disk::Torn> {
        ensure!(
            self.pid(i).is_none(),
            "node {i} still runs: its log cannot be torn"
        );
        crate::disk::tear_newest_wal(&self.data_dir(i), bytes, overwrite)
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
        ensure!(
            self.state(i) == RUNNING,
            "node {i} is not running (state {})",
            self.state(i)
        );
        self.set_state(i, PAUSED);
        self.signal(i, "-STOP")
    }

    /// SIGCONT to node `i`.
    pub fn resume(&self, i: usize) -> anyhow::Result<()> {
        self.signal(i, "-CONT")?;
        self.set_state(i, RUNNING);
        Ok(())
    }

    /// Every node running on its real clock with a roomy disk, and every link healed.
    pub fn heal_all(&self) -> anyhow::Result<()> {
        self.proxies.heal_all();
        let full: Vec<usize> = (0..self.n)
            .filter(|i| lock(&self.full).get(*i).copied().unwrap_or(false))
            .collect();
        for i in full {
            self.unfill_disk(i)?;
        }
        for i in 0..self.n {
            if self.skew(i).is_some() {
                self.set_skew(i, None)?;
                if self.state(i) != PAUSED {
                    self.kill(i)?;
                }
            }
            match self.state(i) {
                PAUSED => self.resume(i)?,
                KILLED | EXITED => {
                    self.restart(i)?;
                }
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

    /// Keeps the directory (homes, databases, logs) after the run; returns its path. The
    /// databases on tmpfs are copied to plain directories at their places when the cluster is
    /// dropped (and the mounts undone).
    pub fn keep_dir(&self) -> PathBuf {
        if let Some(dir) = lock(&self.dir).take() {
            let _ = dir.keep();
        }
        self.mounts.preserve_on_unmount();
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
            // A paused process dies of SIGKILL too.
            let _ = child.kill();
            let _ = child.wait();
        }
        // No process uses the mounts any more: undo them before the directory is removed.
        self.mounts.unmount_all();
    }
}

/// Node `i`'s database directory under the network directory `root` (`data_dir = "data"` in
/// its home, checked when the network is written).
fn data_dir(root: &Path, i: usize) -> PathBuf {
    root.join("net").join(format!("node{i}")).join("data")
}

/// SIGSTOP to `pid`, and waits (at most 2 s) until every thread of it is stopped.
fn stop_process(pid: u32) -> anyhow::Result<()> {
    let status = Command::new("kill")
        .args(["-STOP", &pid.to_string()])
        .status()
        .context("cannot run kill")?;
    ensure!(status.success(), "kill -STOP {pid} failed");
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let tasks = std::fs::read_dir(format!("/proc/{pid}/task"))
            .map(|dir| dir.flatten().map(|e| e.path()).collect::<Vec<_>>())
            .unwrap_or_default();
        let stopped = tasks.iter().all(|task| {
            std::fs::read_to_string(task.join("stat"))
                .ok()
                .and_then(|stat| {
                    // `pid (comm) S ...`: the state follows the last ')'.
                    let after = stat.rsplit_once(')')?.1.trim_start().chars().next()?;
                    Some(after == 'T' || after == 't')
                })
                .unwrap_or(true)
        });
        if stopped {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("process {pid} did not stop within 2 s of SIGSTOP");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}
