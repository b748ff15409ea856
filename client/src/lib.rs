//! The courtledger client, as a library: the `courtledger` binary is a thin wrapper around
//! [`cli::run`]. Keys, genesis checks and file hashes work offline; acts are built from
//! command-line arguments ([`acts`]), signed locally and submitted ([`submit`]).

pub mod acts;
pub mod args;
pub mod audit;
pub mod bench;
pub mod browse;
pub mod cli;
pub mod files;
pub mod http;
pub mod keys;
pub mod output;
pub mod proof;
pub mod submit;
pub mod validators;

use std::path::Path;

use anyhow::{bail, Context as _};
use courtledger_types::limits::MAX_GENESIS_BYTES;
use courtledger_types::Genesis;

pub use http::{agent, get_json_with, get_ok};

/// Reads and checks the genesis file at `path`.
pub fn read_genesis(path: &Path) -> anyhow::Result<Genesis> {
    let size = std::fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    if size > u64::try_from(MAX_GENESIS_BYTES).unwrap_or(u64::MAX) {
        bail!("{} is larger than a genesis file may be", path.display());
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Genesis::from_json(&text).with_context(|| format!("invalid genesis file {}", path.display()))
}
