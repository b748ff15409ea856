//! The genesis file: what a chain starts from, and the chain id derived from it.
//!
//! The file is JSON ([`GenesisFile`], documented in `genesis/README.md`); parsing rejects unknown
//! fields, and [`GenesisFile::validate`] turns it into a checked [`Genesis`] or an error that
//! names the offending field. The chain id is the tagged hash of the genesis' canonical binary
//! encoding ([`Genesis::canonical_bytes`]), never of the JSON text, so formatting does not matter.
//! Network addresses are deliberately left out of the chain id: a court may move its node to
//! another host without forking the chain, and a proof verified years later against an old
//! genesis file still checks.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, UNIX_EPOCH};

use courtledger_codec::{write, Encode};
use courtledger_crypto::{ChainId, PublicKey};
use serde::{Deserialize, Serialize};

use crate::court::{CourtCode, CourtLevel};
use crate::hashing::{tagged_hash, HashTag};
use crate::limits::{
    MAX_ADDRESS_BYTES, MAX_BLOCK_BYTES, MAX_BLOCK_TXS, MAX_CHAIN_NAME_BYTES, MAX_CLOCK_DRIFT_MS,
    MAX_GENESIS_BYTES, MAX_GENESIS_COURTS, MAX_GENESIS_REGISTRARS, MAX_NAME_BYTES, MAX_TIMEOUT_MS,
    MAX_VALIDATORS, MIN_BLOCK_BYTES, MIN_TIMEOUT_MS,
};
use crate::peer_id::peer_id_of;
use crate::validator::{Validator, ValidatorSet, ValidatorSetError};

/// The only genesis format version so far.
pub const GENESIS_FORMAT_VERSION: u32 = 1;

/// The genesis file as written in JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisFile {
    /// Always [`GENESIS_FORMAT_VERSION`].
    pub format_version: u32,
    /// A short name: lowercase ASCII letters, digits and `-`.
    pub chain_name: String,
    /// RFC 3339 UTC time, e.g. `2026-11-28T00:00:00Z`; the first block's time must be later.
    pub genesis_time: String,
    /// Every court known at the start, parents before children.
    pub courts: Vec<CourtEntry>,
    /// The validator courts.
    pub validators: Vec<ValidatorEntry>,
    /// Keys that may attest identities from the first block on.
    pub registrars: Vec<RegistrarEntry>,
    /// Consensus parameters.
    pub consensus: ConsensusParams,
}

/// A court in genesis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CourtEntry {
    /// The court's code, unique in the file.
    pub code: String,
    /// The court's name.
    pub name: String,
    /// Its level.
    pub level: CourtLevel,
    /// The code of the court one level above; absent only for the Supreme People's Court.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

/// A validator in genesis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidatorEntry {
    /// The court that runs this validator (one validator per court).
    pub court_code: String,
    /// The node's ed25519 public key, 64 hex characters.
    pub public_key: String,
    /// The libp2p peer id that the key implies; checked against it.
    pub peer_id: String,
    /// Where peers reach the node, `host:port`.
    pub p2p_address: String,
    /// Where clients reach the node's HTTP API, `host:port`.
    pub api_address: String,
    /// Voting power, at least 1.
    pub voting_power: u64,
}

/// A registrar key in genesis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrarEntry {
    /// The court the registrar works for.
    pub court_code: String,
    /// A label for people, e.g. "Chaoyang filing office".
    pub name: String,
    /// The registrar's ed25519 public key, 64 hex characters.
    pub public_key: String,
}

/// Consensus parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsensusParams {
    /// How long to wait for a proposal in round 0.
    pub timeout_propose_ms: u64,
    /// How long to wait for more prevotes after seeing two thirds of any.
    pub timeout_prevote_ms: u64,
    /// How long to wait for more precommits after seeing two thirds of any.
    pub timeout_precommit_ms: u64,
    /// How much each timeout grows per round.
    pub timeout_delta_ms: u64,
    /// Most transactions in a block (at most the hard limit).
    pub max_block_txs: u32,
    /// Largest block in bytes (at most the hard limit).
    pub max_block_bytes: u32,
    /// How far a proposed block's time may be ahead of a validator's clock.
    pub max_clock_drift_ms: u64,
}

impl Default for ConsensusParams {
    fn default() -> Self {
        Self {
            timeout_propose_ms: 1_000,
            timeout_prevote_ms: 500,
            timeout_precommit_ms: 500,
            timeout_delta_ms: 250,
            max_block_txs: 10_000,
            max_block_bytes: 8 * 1024 * 1024,
            max_clock_drift_ms: 2_000,
        }
    }
}

/// A genesis file that failed a check: the field (a JSON path such as `validators[2].public_key`)
/// and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct GenesisError {
    /// JSON path of the offending field, or `genesis` for the file as a whole.
    pub field: String,
    /// What is wrong.
    pub reason: String,
}

fn err<T>(field: impl Into<String>, reason: impl Into<String>) -> Result<T, GenesisError> {
    Err(GenesisError {
        field: field.into(),
        reason: reason.into(),
    })
}

/// A court as the chain knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Court {
    /// Its code.
    pub code: CourtCode,
    /// Its name.
    pub name: String,
    /// Its level.
    pub level: CourtLevel,
    /// The court above it.
    pub parent: Option<CourtCode>,
}

/// A validator court with its network addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenesisValidator {
    /// The court that runs it.
    pub court_code: CourtCode,
    /// Its key and power.
    pub validator: Validator,
    /// Its libp2p peer id (derived from the key).
    pub peer_id: String,
    /// Where peers reach it.
    pub p2p_address: String,
    /// Where clients reach it.
    pub api_address: String,
}

/// A registrar key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registrar {
    /// The court it works for.
    pub court_code: CourtCode,
    /// Its label.
    pub name: String,
    /// Its key.
    pub public_key: PublicKey,
}

/// A checked genesis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Genesis {
    /// The chain's name.
    pub chain_name: String,
    /// Genesis time in milliseconds since the Unix epoch.
    pub genesis_time_ms: u64,
    /// Courts, in file order.
    pub courts: Vec<Court>,
    /// Validators, in file order (which is the validator set's order).
    pub validators: Vec<GenesisValidator>,
    /// Registrars, in file order.
    pub registrars: Vec<Registrar>,
    /// Consensus parameters.
    pub consensus: ConsensusParams,
    validator_set: ValidatorSet,
    chain_id: ChainId,
}

impl GenesisFile {
    /// Parses genesis JSON, rejecting unknown fields and files over the size limit.
    pub fn from_json(text: &str) -> Result<Self, GenesisError> {
        if text.len() > MAX_GENESIS_BYTES {
            return err(
                "genesis",
                format!("file is larger than {MAX_GENESIS_BYTES} bytes"),
            );
        }
        serde_json::from_str(text).map_err(|error| GenesisError {
            field: "genesis".into(),
            reason: format!("not a valid genesis file: {error}"),
        })
    }

    /// Pretty JSON, as `courtledger-node testnet` writes it.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).expect("genesis serializes")
    }

    /// Checks every field and builds the [`Genesis`].
    pub fn validate(&self) -> Result<Genesis, GenesisError> {
        if self.format_version != GENESIS_FORMAT_VERSION {
            return err(
                "format_version",
                format!(
                    "must be {GENESIS_FORMAT_VERSION}, not {}",
                    self.format_version
                ),
            );
        }
        check_chain_name(&self.chain_name)?;
        let genesis_time_ms = parse_time("genesis_time", &self.genesis_time)?;
        let courts = check_courts(&self.courts)?;
        let by_code: BTreeMap<&CourtCode, &Court> = courts.iter().map(|c| (&c.code, c)).collect();
        let validators = check_validators(&self.validators, &by_code)?;
        let registrars = check_registrars(&self.registrars, &by_code)?;
        check_consensus(&self.consensus)?;
        let validator_set = ValidatorSet::new(validators.iter().map(|v| v.validator).collect())
            .or_else(|error| {
                let field = match &error {
                    ValidatorSetError::ZeroPower { index } => {
                        format!("validators[{index}].voting_power")
                    }
                    ValidatorSetError::DuplicateKey { index, .. } => {
                        format!("validators[{index}].public_key")
                    }
                    _ => "validators".to_owned(),
                };
                err(field, error.to_string())
            })?;
        let mut genesis = Genesis {
            chain_name: self.chain_name.clone(),
            genesis_time_ms,
            courts,
            validators,
            registrars,
            consensus: self.consensus,
            validator_set,
            chain_id: ChainId(courtledger_crypto::Digest::default()),
        };
        genesis.chain_id = ChainId(tagged_hash(HashTag::Genesis, &genesis.canonical_bytes()));
        Ok(genesis)
    }
}

impl Genesis {
    /// Parses and checks genesis JSON.
    pub fn from_json(text: &str) -> Result<Self, GenesisError> {
        GenesisFile::from_json(text)?.validate()
    }

    /// The chain id: `tagged_hash(Genesis, canonical_bytes())`.
    pub fn chain_id(&self) -> ChainId {
        self.chain_id
    }

    /// The validator set of height 1.
    pub fn validator_set(&self) -> &ValidatorSet {
        &self.validator_set
    }

    /// The genesis validators as set members (court, key and power, p2p address), in the
    /// set's order: what a validator-set change starts from before any change.
    pub fn set_members(&self) -> Vec<crate::set_change::SetMember> {
        self.validators
            .iter()
            .map(|v| crate::set_change::SetMember {
                court_code: v.court_code.clone(),
                validator: v.validator,
                p2p_address: v.p2p_address.clone(),
            })
            .collect()
    }

    /// The canonical encoding that the chain id hashes. Layout (see `genesis/README.md`):
    /// `u32 format_version, string chain_name, u64 genesis_time_ms,
    ///  seq courts (string code, string name, u8 level, option<string> parent),
    ///  seq validators (string court_code, [32] public_key, u64 voting_power),
    ///  seq registrars (string court_code, string name, [32] public_key),
    ///  u64×4 timeouts (propose, prevote, precommit, delta), u32 max_block_txs,
    ///  u32 max_block_bytes, u64 max_clock_drift_ms`.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        write::u32(&mut out, GENESIS_FORMAT_VERSION);
        write::string(&mut out, &self.chain_name);
        write::u64(&mut out, self.genesis_time_ms);
        write::length(&mut out, self.courts.len());
        for court in &self.courts {
            court.code.encode_to(&mut out);
            write::string(&mut out, &court.name);
            court.level.encode_to(&mut out);
            write::option(&mut out, court.parent.as_ref(), |out, code| {
                code.encode_to(out)
            });
        }
        write::length(&mut out, self.validators.len());
        for validator in &self.validators {
            validator.court_code.encode_to(&mut out);
            validator.validator.encode_to(&mut out);
        }
        write::length(&mut out, self.registrars.len());
        for registrar in &self.registrars {
            registrar.court_code.encode_to(&mut out);
            write::string(&mut out, &registrar.name);
            registrar.public_key.encode_to(&mut out);
        }
        let params = &self.consensus;
        write::u64(&mut out, params.timeout_propose_ms);
        write::u64(&mut out, params.timeout_prevote_ms);
        write::u64(&mut out, params.timeout_precommit_ms);
        write::u64(&mut out, params.timeout_delta_ms);
        write::u32(&mut out, params.max_block_txs);
        write::u32(&mut out, params.max_block_bytes);
        write::u64(&mut out, params.max_clock_drift_ms);
        out
    }

    /// The court with `code`.
    pub fn court(&self, code: &CourtCode) -> Option<&Court> {
        self.courts.iter().find(|court| &court.code == code)
    }
}

fn limit(max: u32) -> usize {
    usize::try_from(max).unwrap_or(usize::MAX)
}

fn check_chain_name(name: &str) -> Result<(), GenesisError> {
    if name.is_empty() || name.len() > limit(MAX_CHAIN_NAME_BYTES) {
        return err(
            "chain_name",
            format!("must be 1 to {MAX_CHAIN_NAME_BYTES} bytes"),
        );
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return err(
            "chain_name",
            "may hold only lowercase ASCII letters, digits and '-'",
        );
    }
    Ok(())
}

fn parse_time(field: &str, text: &str) -> Result<u64, GenesisError> {
    let time = humantime::parse_rfc3339(text)
        .or_else(|error| err(field, format!("not an RFC 3339 UTC time: {error}")))?;
    let since_epoch = time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    u64::try_from(since_epoch.as_millis()).or_else(|_| err(field, "too far in the future"))
}

fn check_name(field: &str, name: &str) -> Result<(), GenesisError> {
    if name.trim().is_empty() || name.len() > limit(MAX_NAME_BYTES) {
        return err(
            field,
            format!("must be 1 to {MAX_NAME_BYTES} bytes and not blank"),
        );
    }
    if name.chars().any(char::is_control) {
        return err(field, "must not contain control characters");
    }
    Ok(())
}

fn court_code(field: &str, code: &str) -> Result<CourtCode, GenesisError> {
    CourtCode::new(code).or_else(|reason| err(field, reason))
}

fn public_key(field: &str, text: &str) -> Result<PublicKey, GenesisError> {
    text.parse::<PublicKey>()
        .or_else(|error| err(field, format!("not a valid ed25519 public key: {error}")))
}

fn check_address(field: &str, address: &str) -> Result<(), GenesisError> {
    address_problem(address).map_or(Ok(()), |reason| err(field, reason))
}

/// Why `address` is not a network address `host:port` (an IP socket address, or a DNS name and
/// a port 1-65535, at most [`MAX_ADDRESS_BYTES`] bytes), or `None` when it is one.
pub fn address_problem(address: &str) -> Option<String> {
    if address.len() > limit(MAX_ADDRESS_BYTES) {
        return Some(format!("longer than {MAX_ADDRESS_BYTES} bytes"));
    }
    if address.parse::<SocketAddr>().is_ok() {
        return None;
    }
    let Some((host, port)) = address.rsplit_once(':') else {
        return Some("must be host:port".into());
    };
    let host_ok = !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if !host_ok || port.parse::<u16>().map_or(true, |port| port == 0) {
        return Some("must be host:port with an IP address or DNS name and a port 1-65535".into());
    }
    None
}

fn check_courts(entries: &[CourtEntry]) -> Result<Vec<Court>, GenesisError> {
    if entries.len() > limit(MAX_GENESIS_COURTS) {
        return err("courts", format!("at most {MAX_GENESIS_COURTS} courts"));
    }
    let mut courts: Vec<Court> = Vec::with_capacity(entries.len());
    let mut index_of: BTreeMap<CourtCode, usize> = BTreeMap::new();
    for (index, entry) in entries.iter().enumerate() {
        let code = court_code(&format!("courts[{index}].code"), &entry.code)?;
        check_name(&format!("courts[{index}].name"), &entry.name)?;
        if let Some(first) = index_of.get(&code) {
            return err(
                format!("courts[{index}].code"),
                format!("duplicate of courts[{first}].code ({code})"),
            );
        }
        let parent = match (&entry.parent, entry.level) {
            (None, CourtLevel::Supreme) => None,
            (None, level) => {
                return err(
                    format!("courts[{index}].parent"),
                    format!("a {level} court needs a parent"),
                );
            }
            (Some(_), CourtLevel::Supreme) => {
                return err(
                    format!("courts[{index}].parent"),
                    "the Supreme court has no parent",
                );
            }
            (Some(parent), level) => {
                let field = format!("courts[{index}].parent");
                let parent = court_code(&field, parent)?;
                let Some(&parent_index) = index_of.get(&parent) else {
                    return err(field, format!("no earlier court has code {parent}"));
                };
                let parent_level = courts[parent_index].level;
                if !parent_level.may_supervise(level) {
                    return err(
                        field,
                        format!("a {parent_level} court cannot be the parent of a {level} court"),
                    );
                }
                Some(parent)
            }
        };
        index_of.insert(code.clone(), index);
        courts.push(Court {
            code,
            name: entry.name.clone(),
            level: entry.level,
            parent,
        });
    }
    Ok(courts)
}

fn check_validators(
    entries: &[ValidatorEntry],
    courts: &BTreeMap<&CourtCode, &Court>,
) -> Result<Vec<GenesisValidator>, GenesisError> {
    if entries.is_empty() {
        return err("validators", "at least one validator is needed");
    }
    if entries.len() > limit(MAX_VALIDATORS) {
        return err("validators", format!("at most {MAX_VALIDATORS} validators"));
    }
    let mut validators: Vec<GenesisValidator> = Vec::with_capacity(entries.len());
    for (index, entry) in entries.iter().enumerate() {
        let field = |name: &str| format!("validators[{index}].{name}");
        let code = court_code(&field("court_code"), &entry.court_code)?;
        if !courts.contains_key(&code) {
            return err(field("court_code"), format!("no court has code {code}"));
        }
        if let Some(first) = validators.iter().position(|v| v.court_code == code) {
            return err(
                field("court_code"),
                format!("court {code} already runs validators[{first}]; one validator per court"),
            );
        }
        let key = public_key(&field("public_key"), &entry.public_key)?;
        if let Some(first) = validators
            .iter()
            .position(|v| v.validator.public_key == key)
        {
            return err(
                field("public_key"),
                format!("duplicate of validators[{first}].public_key"),
            );
        }
        let peer_id = peer_id_of(&key);
        if entry.peer_id != peer_id {
            return err(
                field("peer_id"),
                format!("does not match the public key (expected {peer_id})"),
            );
        }
        check_address(&field("p2p_address"), &entry.p2p_address)?;
        check_address(&field("api_address"), &entry.api_address)?;
        if entry.voting_power == 0 {
            return err(field("voting_power"), "must be at least 1");
        }
        validators.push(GenesisValidator {
            court_code: code,
            validator: Validator {
                public_key: key,
                voting_power: entry.voting_power,
            },
            peer_id,
            p2p_address: entry.p2p_address.clone(),
            api_address: entry.api_address.clone(),
        });
    }
    Ok(validators)
}

fn check_registrars(
    entries: &[RegistrarEntry],
    courts: &BTreeMap<&CourtCode, &Court>,
) -> Result<Vec<Registrar>, GenesisError> {
    if entries.len() > limit(MAX_GENESIS_REGISTRARS) {
        return err(
            "registrars",
            format!("at most {MAX_GENESIS_REGISTRARS} registrars"),
        );
    }
    let mut registrars: Vec<Registrar> = Vec::with_capacity(entries.len());
    for (index, entry) in entries.iter().enumerate() {
        let field = |name: &str| format!("registrars[{index}].{name}");
        let code = court_code(&field("court_code"), &entry.court_code)?;
        if !courts.contains_key(&code) {
            return err(field("court_code"), format!("no court has code {code}"));
        }
        check_name(&field("name"), &entry.name)?;
        let key = public_key(&field("public_key"), &entry.public_key)?;
        if let Some(first) = registrars.iter().position(|r| r.public_key == key) {
            return err(
                field("public_key"),
                format!("duplicate of registrars[{first}].public_key"),
            );
        }
        registrars.push(Registrar {
            court_code: code,
            name: entry.name.clone(),
            public_key: key,
        });
    }
    Ok(registrars)
}

fn check_consensus(params: &ConsensusParams) -> Result<(), GenesisError> {
    for (name, value) in [
        ("timeout_propose_ms", params.timeout_propose_ms),
        ("timeout_prevote_ms", params.timeout_prevote_ms),
        ("timeout_precommit_ms", params.timeout_precommit_ms),
    ] {
        if !(MIN_TIMEOUT_MS..=MAX_TIMEOUT_MS).contains(&value) {
            return err(
                format!("consensus.{name}"),
                format!("must be {MIN_TIMEOUT_MS} to {MAX_TIMEOUT_MS} ms"),
            );
        }
    }
    if params.timeout_delta_ms > MAX_TIMEOUT_MS {
        return err(
            "consensus.timeout_delta_ms",
            format!("must be at most {MAX_TIMEOUT_MS} ms"),
        );
    }
    if !(1..=MAX_BLOCK_TXS).contains(&params.max_block_txs) {
        return err(
            "consensus.max_block_txs",
            format!("must be 1 to {MAX_BLOCK_TXS}"),
        );
    }
    if !(MIN_BLOCK_BYTES..=MAX_BLOCK_BYTES).contains(&params.max_block_bytes) {
        return err(
            "consensus.max_block_bytes",
            format!(
                "must be {MIN_BLOCK_BYTES} to {MAX_BLOCK_BYTES} (room for the largest transaction)"
            ),
        );
    }
    if !(1..=MAX_CLOCK_DRIFT_MS).contains(&params.max_clock_drift_ms) {
        return err(
            "consensus.max_clock_drift_ms",
            format!("must be 1 to {MAX_CLOCK_DRIFT_MS} ms"),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{check_golden, check_golden_text, key};

    pub(crate) fn sample_file() -> GenesisFile {
        let court = |code: &str, name: &str, level, parent: Option<&str>| CourtEntry {
            code: code.into(),
            name: name.into(),
            level,
            parent: parent.map(Into::into),
        };
        let courts = vec![
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
        ];
        let validators = courts
            .iter()
            .zip(1u8..)
            .map(|(court, n)| {
                let public_key = key(n).public_key();
                ValidatorEntry {
                    court_code: court.code.clone(),
                    public_key: public_key.to_string(),
                    peer_id: peer_id_of(&public_key),
                    p2p_address: format!("127.0.0.1:{}", 27000 + u16::from(n)),
                    api_address: format!("127.0.0.1:{}", 28000 + u16::from(n)),
                    voting_power: 1,
                }
            })
            .collect();
        GenesisFile {
            format_version: 1,
            chain_name: "courtledger-test".into(),
            genesis_time: "2026-11-28T00:00:00Z".into(),
            courts,
            validators,
            registrars: vec![RegistrarEntry {
                court_code: "京0105".into(),
                name: "Chaoyang filing office".into(),
                public_key: key(100).public_key().to_string(),
            }],
            consensus: ConsensusParams::default(),
        }
    }

    /// One data-driven check: mutate the sample, expect an error naming `field`.
    fn check_rejects(mutate: impl FnOnce(&mut GenesisFile), field: &str) {
        let mut file = sample_file();
        mutate(&mut file);
        let error = file
            .validate()
            .expect_err("mutated genesis must be refused");
        assert_eq!(error.field, field, "{error}");
    }

    #[test]
    fn sample_is_valid_and_golden() {
        let genesis = sample_file().validate().unwrap();
        assert_eq!(genesis.validator_set().len(), 4);
        assert_eq!(genesis.genesis_time_ms, 1_795_824_000_000);
        check_golden("genesis_canonical", &genesis.canonical_bytes());
        check_golden_text("genesis.chain_id", &genesis.chain_id().to_string());
    }

    #[test]
    fn json_round_trip_keeps_chain_id() {
        let file = sample_file();
        let json = file.to_json_pretty();
        let parsed = GenesisFile::from_json(&json).unwrap();
        assert_eq!(parsed, file);
        let compact = serde_json::to_string(&file).unwrap();
        assert_eq!(
            Genesis::from_json(&compact).unwrap().chain_id(),
            file.validate().unwrap().chain_id()
        );
    }

    #[test]
    fn addresses_do_not_change_the_chain_id_but_keys_do() {
        let base = sample_file().validate().unwrap().chain_id();
        let mut moved = sample_file();
        moved.validators[0].p2p_address = "court.example.cn:7000".into();
        assert_eq!(moved.validate().unwrap().chain_id(), base);
        let mut more_power = sample_file();
        more_power.validators[0].voting_power = 2;
        assert_ne!(more_power.validate().unwrap().chain_id(), base);
    }

    #[test]
    fn rejects_unknown_fields_naming_them() {
        let mut value = serde_json::to_value(sample_file()).unwrap();
        value["validators"][0]["weight"] = 3.into();
        let error = GenesisFile::from_json(&value.to_string()).unwrap_err();
        assert!(error.reason.contains("unknown field `weight`"), "{error}");
        let mut value = serde_json::to_value(sample_file()).unwrap();
        value["extra"] = true.into();
        assert!(GenesisFile::from_json(&value.to_string())
            .unwrap_err()
            .reason
            .contains("`extra`"));
    }

    #[test]
    fn rejects_bad_fields() {
        check_rejects(|f| f.format_version = 2, "format_version");
        check_rejects(|f| f.chain_name = "Court Ledger".into(), "chain_name");
        check_rejects(|f| f.genesis_time = "yesterday".into(), "genesis_time");
        check_rejects(|f| f.validators.clear(), "validators");
        check_rejects(
            |f| f.validators[1].voting_power = 0,
            "validators[1].voting_power",
        );
        check_rejects(
            |f| f.validators[2].public_key = f.validators[0].public_key.clone(),
            "validators[2].public_key",
        );
        check_rejects(
            |f| f.validators[0].public_key = "abcd".into(),
            "validators[0].public_key",
        );
        check_rejects(
            |f| f.validators[0].public_key = "zz".repeat(32),
            "validators[0].public_key",
        );
        check_rejects(
            |f| f.validators[0].peer_id = "12D3KooWx".into(),
            "validators[0].peer_id",
        );
        check_rejects(
            |f| f.validators[3].court_code = "沪".into(),
            "validators[3].court_code",
        );
        check_rejects(
            |f| f.validators[3].court_code = "京".into(),
            "validators[3].court_code",
        );
        check_rejects(
            |f| f.validators[0].p2p_address = "nowhere".into(),
            "validators[0].p2p_address",
        );
        check_rejects(
            |f| f.validators[0].api_address = "h:0".into(),
            "validators[0].api_address",
        );
        check_rejects(|f| f.courts[1].code = "0000".into(), "courts[1].code");
        check_rejects(
            |f| f.courts[2].parent = Some("0000".into()),
            "courts[2].parent",
        );
        check_rejects(|f| f.courts[1].parent = None, "courts[1].parent");
        check_rejects(
            |f| f.courts[0].parent = Some("京".into()),
            "courts[0].parent",
        );
        check_rejects(|f| f.courts[0].name = " ".into(), "courts[0].name");
        check_rejects(
            |f| f.registrars[0].court_code = "X".into(),
            "registrars[0].court_code",
        );
        check_rejects(
            |f| f.registrars.push(f.registrars[0].clone()),
            "registrars[1].public_key",
        );
        check_rejects(
            |f| f.consensus.timeout_propose_ms = 0,
            "consensus.timeout_propose_ms",
        );
        check_rejects(|f| f.consensus.max_block_txs = 0, "consensus.max_block_txs");
        check_rejects(
            |f| f.consensus.max_block_bytes = 10,
            "consensus.max_block_bytes",
        );
        check_rejects(
            |f| f.consensus.max_clock_drift_ms = 0,
            "consensus.max_clock_drift_ms",
        );
    }

    #[test]
    fn accepts_dns_and_ipv6_addresses() {
        let mut file = sample_file();
        file.validators[0].p2p_address = "[::1]:7000".into();
        file.validators[1].api_address = "node-2.court.example:443".into();
        assert!(file.validate().is_ok());
    }
}
