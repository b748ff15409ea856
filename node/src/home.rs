//! A node's home directory: configuration, key, genesis and data.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use courtledger_crypto::SigningKey;
use courtledger_keystore::read_key_file;
use courtledger_types::genesis::GenesisValidator;
use courtledger_types::limits::MAX_GENESIS_BYTES;
use courtledger_types::Genesis;

use crate::config::Config;

/// Everything a node needs from its home, loaded and checked.
#[derive(Debug)]
pub struct Home {
    /// The home directory.
    pub dir: PathBuf,
    /// The configuration.
    pub config: Config,
    /// The checked genesis.
    pub genesis: Genesis,
    /// The node's signing key.
    pub key: SigningKey,
}

impl Home {
    /// Loads and checks a home: the configuration parses, the genesis is valid, and the key file
    /// is intact and owner-only. The key need not be a genesis validator's: a node whose key is
    /// not in the set in force follows the chain until a validator-set change adds it.
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        let config = Config::load(dir)?;
        let genesis = read_genesis(&Config::resolve(dir, &config.node.genesis))?;
        let key = read_key_file(&Config::resolve(dir, &config.node.key))?;
        let home = Self {
            dir: dir.to_path_buf(),
            config,
            genesis,
            key,
        };
        Ok(home)
    }

    /// This node's entry in the genesis validators (an error for a node that is not one).
    pub fn validator(&self) -> anyhow::Result<&GenesisValidator> {
        let public_key = self.key.public_key();
        self.genesis
            .validators
            .iter()
            .find(|v| v.validator.public_key == public_key)
            .with_context(|| format!("node key {public_key} is not a validator in the genesis"))
    }
}

/// Reads and checks a genesis file.
pub fn read_genesis(path: &Path) -> anyhow::Result<Genesis> {
    let size = std::fs::metadata(path)
        .with_context(|| format!("cannot read genesis file {}", path.display()))?
        .len();
    if size > u64::try_from(MAX_GENESIS_BYTES).unwrap_or(u64::MAX) {
        anyhow::bail!(
            "genesis file {} is larger than {MAX_GENESIS_BYTES} bytes",
            path.display()
        );
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read genesis file {}", path.display()))?;
    Genesis::from_json(&text).with_context(|| format!("invalid genesis file {}", path.display()))
}
