//! The checks behind each fuzz target, one function per target, so that the libFuzzer
//! binaries (`fuzz_targets/`) stay one line each and the same checks can be replayed on a
//! corpus without libFuzzer (`cargo test` in this workspace replays `corpus/` and
//! `regressions/`).
//!
//! Every target asserts, for arbitrary bytes:
//! - no panic (libFuzzer reports any panic as a crash);
//! - canonical encoding: whatever decodes re-encodes to exactly the input bytes;
//! - bounded work: decoders refuse inputs over their size limit before doing any work, and
//!   libFuzzer's `-timeout` / `-rss_limit_mb` (set by `scripts/fuzz`) catch slow or
//!   memory-hungry inputs.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use courtledger_codec::Encode;
use courtledger_consensus::{ConsensusMessage, Evidence, WalEntry};
use courtledger_ledger::{execute, genesis_writes, resolve_signer, Act, Env, StateView};
use courtledger_proof::{CertifiedHeader, ProofBundle};
use courtledger_types::limits::{
    MAX_BLOCK_BYTES, MAX_CERTIFICATE_BYTES, MAX_HEADER_BYTES, MAX_TX_BYTES, MAX_TX_PAYLOAD_BYTES,
};
use courtledger_types::{
    Block, BlockHeader, CommitCertificate, Genesis, GenesisFile, Receipt, SignedTransaction,
};

/// The genesis the proof vectors verify against.
pub const GENESIS_JSON: &str = include_str!("../../crates/proof/tests/vectors/genesis.json");

fn genesis() -> &'static Genesis {
    static GENESIS: OnceLock<Genesis> = OnceLock::new();
    GENESIS.get_or_init(|| Genesis::from_json(GENESIS_JSON).expect("the vectors' genesis is valid"))
}

/// Asserts that a successful decode re-encodes to the input, and that the input was within
/// `max` bytes.
fn canonical<T: Encode>(what: &str, data: &[u8], decoded: Option<T>, max: usize) {
    if let Some(value) = decoded {
        assert!(
            data.len() <= max,
            "{what}: decoded {} bytes, over its limit {max}",
            data.len()
        );
        assert_eq!(
            value.to_bytes(),
            data,
            "{what}: decoded value does not re-encode to the same bytes"
        );
    }
}

fn len(max: u32) -> usize {
    usize::try_from(max).unwrap_or(usize::MAX)
}

/// `tx`: signed transactions (and receipts, the other per-transaction record).
pub fn tx(data: &[u8]) {
    let decoded = SignedTransaction::decode(data).ok();
    if let Some(tx) = &decoded {
        let _ = tx.id();
        let _ = tx.verify_signature(&genesis().chain_id());
    }
    canonical("signed transaction", data, decoded, len(MAX_TX_BYTES));
    canonical(
        "receipt",
        data,
        Receipt::decode(data).ok(),
        len(MAX_TX_BYTES),
    );
}

/// `act`: act payloads.
pub fn act(data: &[u8]) {
    let decoded = Act::decode(data).ok();
    if let Some(act) = &decoded {
        let _ = act.case();
    }
    canonical("act", data, decoded, len(MAX_TX_PAYLOAD_BYTES));
}

/// `block`: block headers, blocks and commit certificates.
pub fn block(data: &[u8]) {
    canonical(
        "block header",
        data,
        BlockHeader::decode(data).ok(),
        len(MAX_HEADER_BYTES),
    );
    let decoded = Block::decode(data, MAX_BLOCK_BYTES).ok();
    if let Some(block) = &decoded {
        let _ = block.txs_match_header();
    }
    canonical("block", data, decoded, len(MAX_BLOCK_BYTES));
    let decoded = CommitCertificate::decode(data).ok();
    if let Some(certificate) = &decoded {
        // Checking against the genesis validator set must not panic either.
        let _ = certificate.verify(
            &genesis().chain_id(),
            genesis().validator_set(),
            certificate.height,
            &certificate.block_id,
        );
    }
    canonical(
        "commit certificate",
        data,
        decoded,
        len(MAX_CERTIFICATE_BYTES),
    );
}

/// `consensus_message`: consensus messages, WAL entries and evidence.
pub fn consensus_message(data: &[u8]) {
    let decoded = ConsensusMessage::decode(data).ok();
    if let Some(message) = &decoded {
        let _ = message.height();
    }
    canonical("consensus message", data, decoded, usize::MAX);
    let decoded = WalEntry::decode(data).ok();
    if let Some(entry) = &decoded {
        let _ = entry.height();
    }
    canonical("WAL entry", data, decoded, usize::MAX);
    canonical("evidence", data, Evidence::decode(data).ok(), usize::MAX);
}

/// `proof_bundle`: proof bundles and checkpoint files, decoded then verified against the
/// vectors' genesis: any verdict, never a panic.
pub fn proof_bundle(data: &[u8]) {
    let decoded = ProofBundle::decode(data).ok();
    if let Some(bundle) = &decoded {
        let _ = courtledger_proof::verify(bundle, genesis());
    }
    canonical("proof bundle", data, decoded, usize::MAX);
    let decoded = CertifiedHeader::decode(data).ok();
    if let Some(head) = &decoded {
        let _ = head.verify(genesis());
    }
    canonical("checkpoint file", data, decoded, usize::MAX);
}

/// `genesis_json`: genesis files, parsed then validated.
pub fn genesis_json(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(file) = GenesisFile::from_json(text) {
        if let Ok(genesis) = file.validate() {
            let _ = genesis.chain_id();
            let _ = genesis_writes(&genesis);
        }
    }
}

/// A state held in memory.
struct MemState(BTreeMap<Vec<u8>, Vec<u8>>);

impl StateView for MemState {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.0.get(key).cloned()
    }
}

fn genesis_state() -> &'static MemState {
    static STATE: OnceLock<MemState> = OnceLock::new();
    STATE.get_or_init(|| {
        let mut map = BTreeMap::new();
        for (key, value) in genesis_writes(genesis()) {
            if let Some(value) = value {
                map.insert(key, value);
            }
        }
        MemState(map)
    })
}

/// `ledger_exec`: the first byte picks a genesis registrar, the rest is an act payload executed
/// as theirs on the genesis state: Applied or Failed, or Corrupt, never a panic.
pub fn ledger_exec(data: &[u8]) {
    let Some((&who, payload)) = data.split_first() else {
        return;
    };
    let Ok(act) = Act::decode(payload) else {
        return;
    };
    let genesis = genesis();
    let registrars = &genesis.registrars;
    if registrars.is_empty() {
        return;
    }
    let registrar = &registrars[usize::from(who) % registrars.len()];
    let state = genesis_state();
    let signer =
        resolve_signer(state, &registrar.public_key).expect("a genesis registrar resolves");
    let chain_id = genesis.chain_id();
    let env = Env {
        chain_id: &chain_id,
        height: 2,
        index: 0,
        time_ms: genesis.genesis_time_ms + 60_000,
        tx_id: courtledger_crypto::sha256(payload),
    };
    // Ok(Applied | Failed) or Err(Corrupt): any is fine, a panic is not.
    let _ = execute(state, &env, &signer, &act);
}
