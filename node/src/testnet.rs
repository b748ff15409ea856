//! `courtledger-node testnet`: a ready local network in one directory.
//!
//! Layout written under `--out`:
//! - `genesis.json`: the network's genesis (also copied into every home);
//! - `node{i}/`: one home per validator: `config.toml`, `node_key.json` (mode 0600), `genesis.json`;
//! - `registrars/registrar{i}.json`: registrar keys (mode 0600) named in the genesis, for
//!   attesting identities in a local walk-through.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{bail, ensure, Context as _};
use courtledger_crypto::SigningKey;
use courtledger_types::court::CourtLevel;
use courtledger_types::genesis::{
    ConsensusParams, CourtEntry, GenesisFile, RegistrarEntry, ValidatorEntry,
    GENESIS_FORMAT_VERSION,
};
use courtledger_types::peer_id::peer_id_of;
use rand_core::{CryptoRngCore, OsRng};

use crate::config::{Config, CONFIG_FILE};
use crate::home::read_genesis;
use courtledger_keystore::write_key_file;

/// Most validators a local test network may have.
pub const MAX_TESTNET_VALIDATORS: u16 = 32;

/// Options of `courtledger-node testnet`.
#[derive(Debug, Clone)]
pub struct TestnetOptions {
    /// Number of validators.
    pub validators: u16,
    /// Output directory.
    pub out: PathBuf,
    /// Chain name.
    pub chain_name: String,
    /// Host to bind and advertise.
    pub host: IpAddr,
    /// Validator `i` listens for peers on `base_port + i` and for clients on
    /// `base_port + 100 + i`.
    pub base_port: u16,
}

/// What was written.
#[derive(Debug)]
pub struct TestnetSummary {
    /// The genesis file at the top of the output directory.
    pub genesis_path: PathBuf,
    /// The validators' home directories.
    pub homes: Vec<PathBuf>,
    /// The registrar key files.
    pub registrar_keys: Vec<PathBuf>,
    /// The chain id.
    pub chain_id: String,
}

/// The courts of a local network: a small real hierarchy, extended with basic courts when more
/// validators are asked for.
fn courts(count: u16) -> Vec<CourtEntry> {
    let court = |code: &str, name: &str, level, parent: Option<&str>| CourtEntry {
        code: code.to_owned(),
        name: name.to_owned(),
        level,
        parent: parent.map(str::to_owned),
    };
    let mut courts = vec![
        court("0000", "Supreme People's Court", CourtLevel::Supreme, None),
        court(
            "京",
            "Beijing High People's Court",
            CourtLevel::High,
            Some("0000"),
        ),
        court(
            "京01",
            "Beijing No. 1 Intermediate People's Court",
            CourtLevel::Intermediate,
            Some("京"),
        ),
        court(
            "京0105",
            "Beijing Chaoyang District People's Court",
            CourtLevel::Basic,
            Some("京01"),
        ),
        court(
            "沪",
            "Shanghai High People's Court",
            CourtLevel::High,
            Some("0000"),
        ),
        court(
            "沪01",
            "Shanghai No. 1 Intermediate People's Court",
            CourtLevel::Intermediate,
            Some("沪"),
        ),
        court(
            "沪0115",
            "Shanghai Pudong New Area People's Court",
            CourtLevel::Basic,
            Some("沪01"),
        ),
    ];
    for extra in 0..count.saturating_sub(7) {
        let code = format!("沪01{}", 50 + extra);
        courts.push(CourtEntry {
            name: format!("Shanghai Test Basic People's Court {}", extra + 1),
            code,
            level: CourtLevel::Basic,
            parent: Some("沪01".to_owned()),
        });
    }
    courts
}

fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// Writes a test network, generating keys from `rng`.
pub fn write_testnet(
    options: &TestnetOptions,
    rng: &mut impl CryptoRngCore,
) -> anyhow::Result<TestnetSummary> {
    ensure!(
        (1..=MAX_TESTNET_VALIDATORS).contains(&options.validators),
        "--validators must be 1 to {MAX_TESTNET_VALIDATORS}"
    );
    let count = options.validators;
    let api_offset: u16 = 100;
    let last_port = u32::from(options.base_port) + u32::from(api_offset) + u32::from(count);
    ensure!(
        options.base_port >= 1024 && last_port <= 65535,
        "--base-port leaves no room for {count} validators"
    );
    let out = &options.out;
    if out.join("genesis.json").exists() {
        bail!(
            "{} already holds a network; remove it or choose another --out",
            out.display()
        );
    }
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;

    let courts = courts(count);
    let node_keys: Vec<SigningKey> = (0..count).map(|_| SigningKey::generate(rng)).collect();
    let address = |port: u16| SocketAddr::new(options.host, port);
    let validators: Vec<ValidatorEntry> = node_keys
        .iter()
        .zip(&courts)
        .zip(0u16..)
        .map(|((key, court), i)| ValidatorEntry {
            court_code: court.code.clone(),
            public_key: key.public_key().to_string(),
            peer_id: peer_id_of(&key.public_key()),
            p2p_address: address(options.base_port + i).to_string(),
            api_address: address(options.base_port + api_offset + i).to_string(),
            voting_power: 1,
        })
        .collect();
    let registrar_courts: Vec<&CourtEntry> = courts
        .iter()
        .filter(|court| court.level == CourtLevel::Basic)
        .collect();
    let registrar_keys: Vec<SigningKey> = registrar_courts
        .iter()
        .map(|_| SigningKey::generate(rng))
        .collect();
    let registrars = registrar_courts
        .iter()
        .zip(&registrar_keys)
        .map(|(court, key)| RegistrarEntry {
            court_code: court.code.clone(),
            name: format!("{} filing office", court.name),
            public_key: key.public_key().to_string(),
        })
        .collect();
    let file = GenesisFile {
        format_version: GENESIS_FORMAT_VERSION,
        chain_name: options.chain_name.clone(),
        genesis_time: now_rfc3339(),
        courts,
        validators,
        registrars,
        consensus: ConsensusParams::default(),
    };
    let genesis = file
        .validate()
        .context("the generated genesis is invalid (a bug)")?;
    let genesis_json = file.to_json_pretty() + "\n";
    let genesis_path = out.join("genesis.json");

    let mut homes = Vec::with_capacity(usize::from(count));
    for (i, key) in (0u16..).zip(&node_keys) {
        let home = out.join(format!("node{i}"));
        std::fs::create_dir_all(&home)
            .with_context(|| format!("cannot create {}", home.display()))?;
        let mut config = Config::default();
        config.p2p.listen = address(options.base_port + i);
        config.api.listen = address(options.base_port + api_offset + i);
        write_file(&home.join(CONFIG_FILE), &config.to_toml())?;
        write_file(&home.join(&config.node.genesis), &genesis_json)?;
        write_key_file(&home.join(&config.node.key), key)?;
        homes.push(home);
    }
    let registrar_dir = out.join("registrars");
    std::fs::create_dir_all(&registrar_dir)
        .with_context(|| format!("cannot create {}", registrar_dir.display()))?;
    let mut registrar_paths = Vec::with_capacity(registrar_keys.len());
    for (i, key) in registrar_keys.iter().enumerate() {
        let path = registrar_dir.join(format!("registrar{i}.json"));
        write_key_file(&path, key)?;
        registrar_paths.push(path);
    }
    // Written last: its presence marks a complete network.
    write_file(&genesis_path, &genesis_json)?;
    let reread = read_genesis(&genesis_path)?;
    ensure!(
        reread.chain_id() == genesis.chain_id(),
        "genesis changed on its way to disk"
    );
    Ok(TestnetSummary {
        genesis_path,
        homes,
        registrar_keys: registrar_paths,
        chain_id: genesis.chain_id().to_string(),
    })
}

/// Writes a test network with keys from the operating system's generator.
pub fn write_testnet_with_os_keys(options: &TestnetOptions) -> anyhow::Result<TestnetSummary> {
    write_testnet(options, &mut OsRng)
}

/// Writes the home of a node that joins an existing chain (a court whose validator a
/// validator-set change will add): a new key (mode 0600), `config.toml` listening on `p2p` and
/// `api`, and a copy of `genesis`. Returns the new key's public key. Until a change adds it,
/// the node follows the chain.
pub fn write_home(
    out: &Path,
    genesis: &Path,
    p2p: SocketAddr,
    api: SocketAddr,
    rng: &mut impl CryptoRngCore,
) -> anyhow::Result<courtledger_crypto::PublicKey> {
    let genesis_text = std::fs::read_to_string(genesis)
        .with_context(|| format!("cannot read {}", genesis.display()))?;
    read_genesis(genesis)?;
    if out.join(CONFIG_FILE).exists() {
        bail!("{} already holds a node home", out.display());
    }
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let key = SigningKey::generate(rng);
    let mut config = Config::default();
    config.p2p.listen = p2p;
    config.api.listen = api;
    write_key_file(&out.join(&config.node.key), &key)?;
    write_file(&out.join(&config.node.genesis), &genesis_text)?;
    // Written last: its presence marks a complete home.
    write_file(&out.join(CONFIG_FILE), &config.to_toml())?;
    Ok(key.public_key())
}

fn write_file(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::home::Home;
    use std::collections::BTreeSet;
    use std::os::unix::fs::PermissionsExt as _;

    fn options(out: &Path, validators: u16) -> TestnetOptions {
        TestnetOptions {
            validators,
            out: out.to_path_buf(),
            chain_name: "courtledger-local".to_owned(),
            host: IpAddr::from([127, 0, 0, 1]),
            base_port: 27000,
        }
    }

    #[test]
    fn writes_loadable_homes_with_distinct_ports_and_private_keys() {
        let dir = tempfile::tempdir().unwrap();
        let summary = write_testnet_with_os_keys(&options(dir.path(), 7)).unwrap();
        assert_eq!(summary.homes.len(), 7);
        let mut ports = BTreeSet::new();
        let mut keys = BTreeSet::new();
        for home_dir in &summary.homes {
            let home = Home::load(home_dir).unwrap();
            assert_eq!(home.genesis.chain_id().to_string(), summary.chain_id);
            assert!(ports.insert(home.config.p2p.listen.port()));
            assert!(ports.insert(home.config.api.listen.port()));
            assert!(keys.insert(home.key.public_key()));
            let validator = home.validator().unwrap();
            assert_eq!(validator.p2p_address, home.config.p2p.listen.to_string());
            let mode = std::fs::metadata(home_dir.join("node_key.json"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(summary.registrar_keys.len(), 2);
    }

    #[test]
    fn refuses_to_overwrite_and_bad_counts() {
        let dir = tempfile::tempdir().unwrap();
        write_testnet_with_os_keys(&options(dir.path(), 4)).unwrap();
        assert!(write_testnet_with_os_keys(&options(dir.path(), 4)).is_err());
        let other = tempfile::tempdir().unwrap();
        assert!(write_testnet_with_os_keys(&options(other.path(), 0)).is_err());
        assert!(write_testnet_with_os_keys(&options(other.path(), 33)).is_err());
    }

    #[test]
    fn more_than_seven_validators_get_their_own_courts() {
        let dir = tempfile::tempdir().unwrap();
        let summary = write_testnet_with_os_keys(&options(dir.path(), 10)).unwrap();
        let genesis = read_genesis(&summary.genesis_path).unwrap();
        assert_eq!(genesis.validator_set().len(), 10);
    }

    #[test]
    fn a_world_readable_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let summary = write_testnet_with_os_keys(&options(dir.path(), 1)).unwrap();
        let key = summary.homes[0].join("node_key.json");
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let error = Home::load(&summary.homes[0]).unwrap_err();
        assert!(format!("{error:#}").contains("chmod 600"), "{error:#}");
    }
}
