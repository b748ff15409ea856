//! The node's configuration file, `config.toml` in the node's home.
//!
//! Unknown fields are refused; every setting has a default, so an empty file is a valid
//! configuration. Relative paths are relative to the home directory.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

/// The file name of the configuration inside a home.
pub const CONFIG_FILE: &str = "config.toml";

// This file is also compiled alone (the fuzz crate's `node_config` target), so it holds its own
// copies of the API's bounds; node/src/api/guard.rs checks at compile time that they agree.
/// Default `[api] max_connections_per_ip`: `guard::MAX_API_CONNECTIONS_PER_IP`.
pub const DEFAULT_CONNECTIONS_PER_IP: usize = 64;
/// Largest `[api] max_connections_per_ip`: `guard::MAX_API_CONNECTIONS`, the cap on all API
/// connections.
pub const MAX_CONNECTIONS_PER_IP: usize = 1024;

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Files of the node.
    pub node: NodeSection,
    /// Peer-to-peer networking.
    pub p2p: P2pSection,
    /// The HTTP API.
    pub api: ApiSection,
    /// Logging.
    pub log: LogSection,
    /// The transaction pool.
    pub mempool: MempoolSection,
    /// Block production.
    pub consensus: ConsensusSection,
}

/// `[mempool]`: bounds of the transaction pool; a full pool refuses submissions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MempoolSection {
    /// Most transactions held.
    pub max_txs: usize,
    /// Most bytes held.
    pub max_bytes: usize,
}

impl Default for MempoolSection {
    /// Ten seconds of backlog at 10,000 transactions per second, in about 128 MiB of memory
    /// (a pending transaction takes about twice its encoded size, with its index entries):
    /// beyond, submissions are refused as `full` rather than the node's memory growing with a
    /// backlog it cannot clear (docs/performance.md).
    fn default() -> Self {
        Self {
            max_txs: 100_000,
            max_bytes: 64 * 1024 * 1024,
        }
    }
}

/// `[consensus]`: local block-production policy (not part of consensus rules).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsensusSection {
    /// How long a proposer with no transaction ready for a block (none pending, or only ones
    /// waiting for a missing nonce) waits for one before proposing an empty block.
    pub empty_block_wait_ms: u64,
    /// Block pacing under load: when the network committed at least `block_pace_min_rate`
    /// transactions per second over the last second, a proposer builds no sooner than this
    /// long after its height started (unless `block_pace_target_txs` are ready), so that a busy
    /// network makes fewer, larger blocks. Every block costs every validator a fixed amount of work besides its transactions
    /// (votes, synced writes, state root, commit), about a fifth of the CPU at 5,000 tx/s
    /// without pacing (docs/performance.md, session 6). 0 turns pacing off.
    pub block_pace_ms: u64,
    /// The committed rate (transactions per second over the last second) from which on blocks
    /// are paced (`block_pace_ms`): below it (a lightly loaded network) blocks are built at
    /// once, for the lowest latency. A rate, not a block size, so that pacing does not depend
    /// on how fast the machines decide a height.
    pub block_pace_min_rate: u32,
    /// Transactions ready for a block with which a paced proposer builds at once: a block that
    /// large gains little from waiting, and waiting would only add latency.
    pub block_pace_target_txs: u32,
}

impl Default for ConsensusSection {
    fn default() -> Self {
        Self {
            empty_block_wait_ms: 500,
            block_pace_ms: 150,
            block_pace_min_rate: 2_000,
            block_pace_target_txs: 1_024,
        }
    }
}

/// `[node]`: where the node's files are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NodeSection {
    /// The genesis file.
    pub genesis: PathBuf,
    /// The node's key file (owner-only permissions).
    pub key: PathBuf,
    /// The database directory.
    pub data_dir: PathBuf,
}

impl Default for NodeSection {
    fn default() -> Self {
        Self {
            genesis: PathBuf::from("genesis.json"),
            key: PathBuf::from("node_key.json"),
            data_dir: PathBuf::from("data"),
        }
    }
}

/// `[p2p]`: the validator-to-validator network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct P2pSection {
    /// Address to listen on for peers.
    pub listen: SocketAddr,
}

impl Default for P2pSection {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 27000)),
        }
    }
}

/// `[api]`: the HTTP/JSON API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiSection {
    /// Address to listen on for clients.
    pub listen: SocketAddr,
    /// Most connections open at once from one client address (an IPv4 address or an IPv6
    /// /64); more are closed at once. From 1 to [`MAX_CONNECTIONS_PER_IP`] (1024, the cap on
    /// all connections, which this cannot raise); default [`DEFAULT_CONNECTIONS_PER_IP`] (64).
    /// Raise it when many clients reach the node through one address, e.g. a reverse proxy.
    #[serde(deserialize_with = "connections_per_ip")]
    pub max_connections_per_ip: usize,
}

impl Default for ApiSection {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 28000)),
            max_connections_per_ip: DEFAULT_CONNECTIONS_PER_IP,
        }
    }
}

/// `max_connections_per_ip`, refused outside 1 to [`MAX_CONNECTIONS_PER_IP`].
fn connections_per_ip<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<usize, D::Error> {
    let value = usize::deserialize(deserializer)?;
    if (1..=MAX_CONNECTIONS_PER_IP).contains(&value) {
        Ok(value)
    } else {
        Err(serde::de::Error::custom(format!(
            "max_connections_per_ip = {value}: must be from 1 to {MAX_CONNECTIONS_PER_IP}"
        )))
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Lines for people.
    #[default]
    Human,
    /// One JSON object per line.
    Json,
}

/// `[log]`: logging.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSection {
    /// Output format.
    pub format: LogFormat,
    /// Filter, e.g. `info` or `courtledger=debug,info`.
    pub level: String,
}

impl Default for LogSection {
    fn default() -> Self {
        Self {
            format: LogFormat::Human,
            level: "info".to_owned(),
        }
    }
}

impl Config {
    /// Parses configuration text.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        toml::from_str(text).context("invalid configuration")
    }

    /// Applies `section.key=value` overrides (the value in TOML syntax; bare words are strings),
    /// as given with `--set` on the command line. Unknown settings are refused like in the file.
    pub fn with_overrides(self, overrides: &[String]) -> anyhow::Result<Self> {
        if overrides.is_empty() {
            return Ok(self);
        }
        let mut table = toml::Table::try_from(&self).context("configuration serializes")?;
        for item in overrides {
            let (path, raw) = item
                .split_once('=')
                .with_context(|| format!("--set {item}: expected section.key=value"))?;
            let (section, key) = path
                .split_once('.')
                .with_context(|| format!("--set {item}: expected section.key=value"))?;
            let value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
                .ok()
                .and_then(|mut parsed| parsed.remove("v"))
                .unwrap_or_else(|| toml::Value::String(raw.to_owned()));
            table
                .entry(section.to_owned())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()))
                .as_table_mut()
                .with_context(|| format!("--set {item}: {section} is not a section"))?
                .insert(key.to_owned(), value);
        }
        Config::deserialize(table).context("invalid --set override")
    }

    /// Reads `config.toml` from `home`.
    pub fn load(home: &Path) -> anyhow::Result<Self> {
        let path = home.join(CONFIG_FILE);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("in {}", path.display()))
    }

    /// The configuration as commented TOML.
    pub fn to_toml(&self) -> String {
        let body = toml::to_string_pretty(self).expect("configuration serializes");
        format!(
            "# courtledger-node configuration. Every setting is optional; unknown settings are \
             refused.\n# Relative paths are relative to this file's directory.\n\n{body}"
        )
    }

    /// Resolves a configured path against `home`.
    pub fn resolve(home: &Path, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            home.join(path)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_reach_every_setting_and_refuse_unknown_ones() {
        let config = Config::default()
            .with_overrides(&[
                "mempool.max_txs=5".to_owned(),
                "p2p.listen=\"127.0.0.1:9\"".to_owned(),
                "log.level=debug".to_owned(),
                "consensus.empty_block_wait_ms=10".to_owned(),
            ])
            .unwrap();
        assert_eq!(config.mempool.max_txs, 5);
        assert_eq!(config.p2p.listen.port(), 9);
        assert_eq!(config.log.level, "debug");
        assert_eq!(config.consensus.empty_block_wait_ms, 10);
        let error = Config::default()
            .with_overrides(&["mempool.size=1".to_owned()])
            .unwrap_err();
        assert!(format!("{error:#}").contains("size"), "{error:#}");
        assert!(Config::default()
            .with_overrides(&["nodot=1".to_owned()])
            .is_err());
        assert!(Config::default()
            .with_overrides(&["mempool.max_txs=many".to_owned()])
            .is_err());
    }

    #[test]
    fn connections_per_ip_are_bounded() {
        let config = Config::parse("[api]\nmax_connections_per_ip = 512\n").unwrap();
        assert_eq!(config.api.max_connections_per_ip, 512);
        assert_eq!(
            Config::default().api.max_connections_per_ip,
            DEFAULT_CONNECTIONS_PER_IP
        );
        for bad in ["0", "1025"] {
            let error =
                Config::parse(&format!("[api]\nmax_connections_per_ip = {bad}\n")).unwrap_err();
            assert!(format!("{error:#}").contains("from 1 to 1024"), "{error:#}");
            assert!(Config::default()
                .with_overrides(&[format!("api.max_connections_per_ip={bad}")])
                .is_err());
        }
    }

    #[test]
    fn empty_file_is_all_defaults() {
        assert_eq!(Config::parse("").unwrap(), Config::default());
    }

    #[test]
    fn round_trip() {
        let mut config = Config::default();
        config.p2p.listen = "127.0.0.1:1234".parse().unwrap();
        config.log.format = LogFormat::Json;
        assert_eq!(Config::parse(&config.to_toml()).unwrap(), config);
    }

    #[test]
    fn unknown_fields_are_refused_by_name() {
        let error =
            Config::parse("[p2p]\nlisten = \"127.0.0.1:1\"\nlisten_port = 3\n").unwrap_err();
        assert!(format!("{error:#}").contains("listen_port"), "{error:#}");
        let error = Config::parse("[storage]\n").unwrap_err();
        assert!(format!("{error:#}").contains("storage"), "{error:#}");
    }
}
