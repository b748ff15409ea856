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

use std::cell::Cell;
use std::collections::BTreeMap;
use std::io;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};

use courtledger_codec::Encode;
use courtledger_consensus::{ConsensusMessage, Evidence, WalEntry};
use courtledger_ledger::{execute, genesis_writes, resolve_signer, Act, Env, StateView};
use courtledger_proof::{CertifiedHeader, ProofBundle};
use courtledger_types::limits::{
    MAX_BLOCK_BYTES, MAX_CERTIFICATE_BYTES, MAX_HEADER_BYTES, MAX_TX_BYTES, MAX_TX_PAYLOAD_BYTES,
};
use courtledger_types::{
    Block, BlockHeader, BlockId, CommitCertificate, Genesis, GenesisFile, Receipt,
    SignedTransaction,
};

// The node is a binary crate: its peer-message decoders and its configuration file are compiled
// here in place, unchanged (each file uses only library crates). If either starts using the
// node's own modules (`crate::...`), this stops compiling: then move it into a library.
#[allow(dead_code)]
#[path = "../../node/src/wire.rs"]
mod node_wire_messages;

#[allow(dead_code)]
#[path = "../../node/src/config.rs"]
mod node_config_file;

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

/// A peer's stream in memory, handing out at most `chunk` bytes per read (as a network does),
/// and counting what was read.
struct Chunked<'a> {
    bytes: &'a [u8],
    position: usize,
    chunk: usize,
}

impl futures::AsyncRead for Chunked<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let rest = &self.bytes[self.position..];
        let count = rest.len().min(buf.len()).min(self.chunk);
        buf[..count].copy_from_slice(&rest[..count]);
        self.position += count;
        Poll::Ready(Ok(count))
    }
}

/// `network_frame`: the frames of one inbound stream. The first byte picks the channel (low two
/// bits) and how many bytes each read returns (1 to 64); the rest is what the peer sent. Frames
/// are read until the end or an error, and:
/// - each frame is within the channel's limit, and writing the frames back gives exactly the
///   bytes they were read from; the reader never reads past a frame's end;
/// - a clean end comes exactly at the end of the input;
/// - `Oversized` exactly when the next length prefix is over the limit;
/// - `Truncated` exactly when the input ends inside a header or a body.
pub fn network_frame(data: &[u8]) {
    use courtledger_network::{read_frame, write_frame, Channel, FrameError};
    use futures::executor::block_on;

    let Some((&control, stream)) = data.split_first() else {
        return;
    };
    let channel = Channel::ALL[usize::from(control & 3)];
    let max = channel.max_message_bytes();
    let mut reader = Chunked {
        bytes: stream,
        position: 0,
        chunk: usize::from(control >> 2) + 1,
    };
    let mut written = futures::io::Cursor::new(Vec::new());
    loop {
        let consumed = written.get_ref().len();
        let rest = &stream[consumed..];
        let announced = rest
            .get(..4)
            .map(|prefix| u32::from_be_bytes(prefix.try_into().expect("4 bytes")));
        match block_on(read_frame(&mut reader, channel)) {
            Ok(Some(payload)) => {
                assert!(
                    u32::try_from(payload.len()).is_ok_and(|len| len <= max),
                    "a frame over the {channel} limit"
                );
                block_on(write_frame(&mut written, &payload)).expect("writes to memory");
                let end = written.get_ref().len();
                assert_eq!(
                    written.get_ref().as_slice(),
                    &stream[..end],
                    "frames do not re-encode to the bytes read"
                );
                assert_eq!(reader.position, end, "the reader read past the frame");
            }
            Ok(None) => {
                assert!(rest.is_empty(), "clean end with {} bytes left", rest.len());
                return;
            }
            Err(FrameError::Oversized {
                channel: reported,
                len,
                max: limit,
            }) => {
                assert_eq!((reported, limit), (channel, max));
                assert_eq!(announced, Some(len));
                assert!(len > max, "refused a frame within the limit");
                return;
            }
            Err(FrameError::Truncated) => {
                assert!(!rest.is_empty(), "truncated at a frame boundary");
                if let Some(len) = announced {
                    assert!(len <= max, "an oversized prefix must be refused as such");
                    let body = usize::try_from(len).expect("u32 fits usize");
                    assert!(rest.len() - 4 < body, "a whole frame called truncated");
                }
                return;
            }
            Err(error) => panic!("an in-memory stream cannot fail: {error}"),
        }
    }
}

/// `node_wire`: the node's messages on the blocks, transactions and sync channels
/// (`node/src/wire.rs`, as the node's driver decodes each frame): canonical, within the channel's
/// limit, and within the counts the decoders promise.
pub fn node_wire(data: &[u8]) {
    use courtledger_network::Channel;
    use node_wire_messages::{
        ProposedBlockMessage, SyncMessage, TxBatch, MAX_SYNC_BLOCKS, MAX_TX_BATCH,
    };

    let limit = |channel: Channel| len(channel.max_message_bytes());
    let decoded = ProposedBlockMessage::decode(data).ok();
    if let Some(message) = &decoded {
        let _ = message.block.txs_match_header();
    }
    canonical(
        "proposed block message",
        data,
        decoded,
        limit(Channel::Blocks),
    );
    let decoded = TxBatch::decode(data).ok();
    if let Some(batch) = &decoded {
        assert!(batch.txs.len() <= len(MAX_TX_BATCH), "batch over its count");
    }
    canonical(
        "transaction batch",
        data,
        decoded,
        limit(Channel::Transactions),
    );
    let decoded = SyncMessage::decode(data).ok();
    if let Some(SyncMessage::Response { blocks }) = &decoded {
        assert!(
            blocks.len() <= len(MAX_SYNC_BLOCKS),
            "sync response over its count"
        );
    }
    canonical("sync message", data, decoded, limit(Channel::Sync));
}

/// `node_config`: the node's `config.toml` (`node/src/config.rs`). Whatever parses writes back
/// (`to_toml`) to a text that parses to the same configuration, and writing that again gives the
/// same text. Text after the first NUL byte is taken as `--set` overrides, one per line, with
/// the same property for the result.
pub fn node_config(data: &[u8]) {
    use node_config_file::Config;

    fn round_trip(config: &Config) {
        let text = config.to_toml();
        let again = Config::parse(&text)
            .unwrap_or_else(|error| panic!("to_toml wrote what parse refuses: {error:#}\n{text}"));
        assert_eq!(
            &again, config,
            "to_toml then parse changed the configuration"
        );
        assert_eq!(again.to_toml(), text, "to_toml is not stable");
    }

    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let (file, overrides) = input.split_once('\0').unwrap_or((input, ""));
    let Ok(config) = Config::parse(file) else {
        return;
    };
    round_trip(&config);
    let overrides: Vec<String> = overrides.lines().map(str::to_owned).collect();
    if let Ok(changed) = config.with_overrides(&overrides) {
        round_trip(&changed);
    }
}

/// `key_file`: key files of both formats (`courtledger_keystore::from_json_with`, as the node
/// and the client read them: UTF-8, at most `MAX_KEY_FILE_BYTES`). The passphrase is never
/// given, so no key derivation runs; asking for it means the encrypted file's header passed
/// every check. Asserts:
/// - the passphrase is asked for exactly when the file is an encrypted one whose version,
///   algorithms and field lengths are right and whose KDF parameters lie within
///   `KdfParams::MIN..=MAX` (checked here independently, so an unbounded Argon2 cost can never
///   be reached);
/// - a plain key that reads writes back (`to_json`) to a file that reads as the same key, and
///   that text is a fixed point.
pub fn key_file(data: &[u8]) {
    use courtledger_keystore::{
        detect_format, from_json, from_json_with, to_json, KdfParams, KeyFileError, KeyFileFormat,
        CIPHER_ALGORITHM, ENCRYPTED_VERSION, KDF_ALGORITHM, MAX_KEY_FILE_BYTES, NONCE_LEN,
        SALT_LEN, SEALED_SEED_LEN,
    };

    if u64::try_from(data.len()).map_or(true, |len| len > MAX_KEY_FILE_BYTES) {
        return;
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let asked = Cell::new(false);
    let result = from_json_with(text, || {
        assert!(!asked.replace(true), "passphrase asked for twice");
        Err("fuzzing: no passphrase".into())
    });
    match result {
        Ok(loaded) => {
            assert!(!asked.get(), "read with a passphrase that was refused");
            assert_eq!(loaded.format, KeyFileFormat::Plain);
            assert_eq!(detect_format(text).ok(), Some(KeyFileFormat::Plain));
            let written = to_json(&loaded.key);
            let again = from_json(&written).expect("to_json writes a readable key file");
            assert_eq!(again.seed(), loaded.key.seed(), "to_json changed the key");
            assert_eq!(to_json(&again), written, "to_json is not stable");
        }
        Err(KeyFileError::PassphraseUnavailable(_)) => {
            assert!(asked.get());
            assert_eq!(detect_format(text).ok(), Some(KeyFileFormat::Encrypted));
            let file: serde_json::Value =
                serde_json::from_str(text).expect("a file whose header passed is JSON");
            assert_eq!(file["version"].as_u64(), Some(u64::from(ENCRYPTED_VERSION)));
            assert_eq!(file["kdf"]["algorithm"].as_str(), Some(KDF_ALGORITHM));
            assert_eq!(file["cipher"]["algorithm"].as_str(), Some(CIPHER_ALGORITHM));
            let param = |name: &str| {
                file["kdf"][name]
                    .as_u64()
                    .and_then(|value| u32::try_from(value).ok())
                    .expect("a KDF parameter that passed is a u32")
            };
            let (min, max) = (KdfParams::MIN, KdfParams::MAX);
            for (name, low, high) in [
                ("memory_kib", min.memory_kib, max.memory_kib),
                ("iterations", min.iterations, max.iterations),
                ("parallelism", min.parallelism, max.parallelism),
            ] {
                let value = param(name);
                assert!(
                    (low..=high).contains(&value),
                    "kdf.{name} {value} outside {low}..={high} reached the passphrase"
                );
            }
            for (value, bytes) in [
                (&file["kdf"]["salt"], SALT_LEN),
                (&file["cipher"]["nonce"], NONCE_LEN),
                (&file["sealed_seed"], SEALED_SEED_LEN),
            ] {
                assert_eq!(value.as_str().map(str::len), Some(2 * bytes));
            }
        }
        Err(_) => assert!(!asked.get(), "asked for the passphrase of a refused file"),
    }
}

/// The store that `storage_record` damages: four blocks holding 0, 1, 2 and 1 transactions
/// (a history log of 4 leaves: one partial `log_leaves` chunk, no `log` record), state and
/// consensus records; and the block that would come next.
struct StorageBaseline {
    chain_id: courtledger_crypto::ChainId,
    records: Vec<courtledger_storage::RawRecord>,
    tx_ids: Vec<courtledger_types::TxId>,
    block_ids: Vec<courtledger_types::BlockId>,
    next: courtledger_storage::CommittedBlock,
    /// What every read of the undamaged store returns.
    reads: String,
}

fn storage_baseline() -> &'static StorageBaseline {
    use courtledger_crypto::{sha256, ChainId, Digest, SigningKey};
    use courtledger_merkle::{leaf_hash, Frontier};
    use courtledger_storage::{CommittedBlock, MemoryStore, StateChange, Store};
    use courtledger_types::block::{tx_root, HEADER_VERSION};
    use courtledger_types::{CommitSignature, Transaction, TxId, Validator, ValidatorSet};

    static BASELINE: OnceLock<StorageBaseline> = OnceLock::new();
    BASELINE.get_or_init(|| {
        let chain_id = ChainId(sha256(b"courtledger fuzz storage"));
        let key = |n: u8| SigningKey::from_seed(&[n; 32]);
        let validators = ValidatorSet::new(
            (10u8..14)
                .map(|n| Validator {
                    public_key: key(n).public_key(),
                    voting_power: 1,
                })
                .collect(),
        )
        .expect("a valid set");
        let mut store = MemoryStore::new(chain_id);
        let mut parent = chain_id.0;
        let mut log = Frontier::new();
        let mut tx_ids = Vec::new();
        let mut block_ids = Vec::new();
        let make = |height: u64, tx_count: u64, log: &mut Frontier, parent: BlockId| {
            let txs: Vec<SignedTransaction> = (0..tx_count)
                .map(|nonce| {
                    Transaction {
                        signer: key(1).public_key(),
                        nonce: height * 10 + nonce,
                        payload: format!("act {height}.{nonce}").into_bytes(),
                    }
                    .sign(&key(1), &chain_id)
                })
                .collect();
            let ids: Vec<TxId> = txs.iter().map(SignedTransaction::id).collect();
            let mut log_nodes = Vec::new();
            for id in &ids {
                log.append_recording(leaf_hash(id.as_bytes()), &mut log_nodes)
                    .expect("a small log");
            }
            let header = BlockHeader {
                version: HEADER_VERSION,
                chain_id,
                height,
                time_ms: 1_790_000_000_000 + height * 1_000,
                parent_id: parent,
                proposer: key(10).public_key(),
                tx_count: u32::try_from(txs.len()).expect("few"),
                tx_root: tx_root(&ids),
                results_root: sha256(b"results"),
                log_size: log.size(),
                log_root: Digest(log.root()),
                state_root: sha256(format!("state {height}").as_bytes()),
                validators_hash: validators.hash(),
                next_validators_hash: validators.hash(),
            };
            let mut certificate = CommitCertificate {
                height,
                round: 0,
                block_id: header.id(),
                signatures: Vec::new(),
            };
            for index in 0u16..3 {
                let vote = certificate
                    .precommit(&validators, index)
                    .expect("in the set");
                let signer = key(10 + u8::try_from(index).expect("small"));
                certificate.signatures.push(CommitSignature {
                    validator_index: index,
                    signature: vote.sign(&signer, &chain_id).signature,
                });
            }
            let receipts = ids
                .iter()
                .enumerate()
                .map(|(index, id)| Receipt {
                    tx_id: *id,
                    index: u32::try_from(index).expect("few"),
                    height,
                    code: u16::try_from(index % 2).expect("0 or 1"),
                })
                .collect();
            CommittedBlock {
                block: Block { header, txs },
                certificate,
                receipts,
                state_changes: vec![
                    StateChange::set(format!("case/{height}"), format!("filed at {height}")),
                    StateChange::delete(format!("case/{}", height.saturating_sub(2))),
                ],
                log_nodes,
            }
        };
        for (height, tx_count) in [(1, 0), (2, 1), (3, 2), (4, 1)] {
            let committed = make(height, tx_count, &mut log, parent);
            if height == 4 {
                // Blocks 1 to 3's state and index writes in their columns, block 4's pending in
                // its `state_diffs` record: both kinds of record are there to damage.
                store.flush_state().expect("memory");
            }
            store.append_block(&committed).expect("a valid next block");
            parent = committed.block.header.id();
            block_ids.push(parent);
            tx_ids.extend(committed.block.tx_ids());
        }
        let next = make(5, 2, &mut log.clone(), parent);
        store
            .consensus_put(&5u64.to_be_bytes(), b"wal entry")
            .expect("memory");
        // Ids that were never stored, too.
        tx_ids.push(sha256(b"no such transaction"));
        block_ids.push(sha256(b"no such block"));
        let records = store.records();
        let mut baseline = StorageBaseline {
            chain_id,
            records,
            tx_ids,
            block_ids,
            next,
            reads: String::new(),
        };
        baseline.reads = storage_reads(&store, &baseline);
        baseline
    })
}

/// Reads everything a node reads from `store` (any result, never a panic), checking that each
/// record read re-encodes to the bytes stored under its key, and returns the results as text.
fn storage_reads(store: &courtledger_storage::MemoryStore, baseline: &StorageBaseline) -> String {
    use std::fmt::Write as _;

    use courtledger_storage::{LogView, RawRecord, Store};

    let records = store.records();
    let stored: BTreeMap<(&str, &[u8]), &[u8]> = records
        .iter()
        .map(|(name, key, value): &RawRecord| ((name.as_str(), key.as_slice()), value.as_slice()))
        .collect();
    let on_disk = |what: &str, column: &str, key: &[u8], bytes: Vec<u8>| {
        assert_eq!(
            stored.get(&(column, key)).copied(),
            Some(bytes.as_slice()),
            "{what} read does not re-encode to its record in {column} at {key:02x?}"
        );
    };
    // The same for a read of part of a record, `bytes` from byte `start` on.
    let in_record = |what: &str, column: &str, key: &[u8], start: usize, bytes: &[u8]| {
        let part = stored
            .get(&(column, key))
            .and_then(|record| record.get(start..start.checked_add(bytes.len())?));
        assert_eq!(
            part,
            Some(bytes),
            "{what} read does not re-encode to bytes {start}.. of its record in {column} at \
             {key:02x?}"
        );
    };
    let mut out = String::new();
    let last = store.last_height();
    let _ = writeln!(
        out,
        "{} {} {}",
        last,
        store.last_block_id(),
        store.log_size()
    );
    for height in 0..=last.saturating_add(1).min(8) {
        let key = height.to_be_bytes();
        let header = store.header(height);
        if let Ok(Some(header)) = &header {
            on_disk("header", "headers", &key, header.to_bytes());
        }
        let block = store.block(height);
        if let Ok(Some(block)) = &block {
            on_disk("block", "blocks", &key, block.to_bytes());
        }
        let certificate = store.certificate(height);
        if let Ok(Some(certificate)) = &certificate {
            on_disk("certificate", "certificates", &key, certificate.to_bytes());
        }
        // One record per height: the receipts' encodings concatenated (empty for an empty
        // block).
        let receipts = store.receipts(height);
        if let Ok(Some(receipts)) = &receipts {
            let bytes = receipts.iter().flat_map(Receipt::to_bytes).collect();
            on_disk("receipts", "receipts", &key, bytes);
        }
        let _ = writeln!(out, "{header:?} {block:?} {certificate:?} {receipts:?}");
    }
    for id in &baseline.tx_ids {
        let location = store.tx_location(id);
        if let Ok(Some(location)) = &location {
            // A location still pending (its block above `state_height`) is read from its
            // block's `state_diffs` record, whose index entries (the tx id, then its position
            // as a `u32` big-endian, 36 bytes each) end the record; any other, from `tx_index`.
            let mut entry = id.as_bytes().to_vec();
            entry.extend_from_slice(&location.position.to_be_bytes());
            let pending = stored
                .get(&("state_diffs", &location.height.to_be_bytes()[..]))
                .is_some_and(|record| record.rchunks_exact(entry.len()).any(|e| e == entry));
            if !pending {
                on_disk(
                    "tx location",
                    "tx_index",
                    id.as_bytes(),
                    location.to_bytes(),
                );
            }
        }
        let receipt = store.receipt(id);
        if let (Ok(Some(location)), Ok(Some(receipt))) = (&location, &receipt) {
            // Read by tx id, a receipt is its 46 bytes of its block's record.
            let start = usize::try_from(location.position).expect("u32 fits usize") * 46;
            in_record(
                "receipt",
                "receipts",
                &location.height.to_be_bytes(),
                start,
                &receipt.to_bytes(),
            );
        }
        let _ = writeln!(out, "{location:?} {receipt:?}");
    }
    for id in &baseline.block_ids {
        let _ = writeln!(out, "{:?}", store.height_of(id));
    }
    // Levels 0 to 3 are folded from the `log_leaves` chunk of 16 leaves, levels 4 and up are
    // `log` records: a leaf read is its 32 bytes of its chunk, a stored subtree its record.
    for level in 0..=4u8 {
        for index in 0..8u64 {
            let node = store.log_node(level, index);
            if let Ok(Some(hash)) = &node {
                if level == 0 {
                    let start = usize::try_from(index % 16).expect("small") * 32;
                    in_record(
                        "log leaf",
                        "log_leaves",
                        &(index / 16).to_be_bytes(),
                        start,
                        hash,
                    );
                } else if level >= 4 {
                    let mut key = vec![level];
                    key.extend_from_slice(&index.to_be_bytes());
                    on_disk("log node", "log", &key, hash.to_vec());
                }
            }
            let _ = write!(out, "{node:?} ");
        }
    }
    let log = LogView::new(store);
    let size = log.size().min(8);
    for tree_size in 0..=size {
        let _ = writeln!(out, "{:?}", log.root(tree_size));
        for other in 0..=tree_size {
            let _ = writeln!(
                out,
                "{:?} {:?}",
                log.prove_inclusion(other, tree_size),
                log.prove_consistency(other, tree_size)
            );
        }
    }
    let _ = writeln!(
        out,
        "{:?} {:?} {:?} {:?}",
        store.state_get(b"case/4"),
        store.state_scan(b"case/", None, 10),
        store.state_scan(b"", Some(b"case/3"), 2),
        store.consensus_range(&[0], &[0xff; 9]),
    );
    out
}

/// The store's column families, in `MemoryStore::records` order (the storage crate's
/// `Column::ALL`): `storage_record` adds a record to the one its selector picks, modulo.
const COLUMNS: [&str; 12] = [
    "blocks",
    "headers",
    "certificates",
    "tx_index",
    "receipts",
    "block_index",
    "log",
    "log_leaves",
    "state",
    "state_diffs",
    "consensus",
    "meta",
];

/// `storage_record`: a store whose records were damaged as a disk can damage them, opened and
/// read back. The input is a list of edits of the baseline store's records (`index` counts
/// records in `MemoryStore::records` order, modulo their number):
/// `0 index len:u16 bytes` replaces a value, `1 index n:u16` tears it to its first `n` bytes,
/// `2 index offset:u16 mask` flips bits in it, `3 index` deletes the record, `4 column len:u8 key
/// len:u16 value` adds one (column: one of the twelve column families, modulo). Asserts:
/// - opening and every read give a value or a typed `StorageError`, never a panic;
/// - every header, block, certificate, block's receipts and location read re-encodes to the
///   bytes stored under its key, and every receipt read by tx id, leaf, log subtree and pending
///   location (an entry of its block's `state_diffs` record) to its part of its record (a
///   damaged record is never silently read as something else);
/// - with no change at all, every read gives what the undamaged store gives;
/// - appending the next block either fails with a typed error or stores it, and then its
///   header, block, certificate and receipts read back as given.
pub fn storage_record(data: &[u8]) {
    use courtledger_storage::{MemoryStore, Store};

    let baseline = storage_baseline();
    let mut records = baseline.records.clone();
    let mut input = data;
    // The next `count` bytes, if there are that many; at most `count` with `up_to`.
    let mut take = |count: usize, up_to: bool| -> Option<&[u8]> {
        let count = if up_to { count.min(input.len()) } else { count };
        let (head, tail) = input.split_at_checked(count)?;
        input = tail;
        Some(head)
    };
    let u16_at = |bytes: &[u8]| usize::from(u16::from_be_bytes([bytes[0], bytes[1]]));
    while let Some(&[op]) = take(1, false) {
        let Some(&[selector]) = take(1, false) else {
            break;
        };
        let index = if records.is_empty() {
            None
        } else {
            Some(usize::from(selector) % records.len())
        };
        match (op % 5, index) {
            (0, Some(index)) => {
                let Some(length) = take(2, false).map(u16_at) else {
                    break;
                };
                let value = take(length, true).unwrap_or_default();
                records[index].2 = value.to_vec();
            }
            (1, Some(index)) => {
                let Some(keep) = take(2, false).map(u16_at) else {
                    break;
                };
                records[index].2.truncate(keep);
            }
            (2, Some(index)) => {
                let Some(&[high, low, mask]) = take(3, false) else {
                    break;
                };
                let value = &mut records[index].2;
                if !value.is_empty() {
                    let offset = usize::from(u16::from_be_bytes([high, low])) % value.len();
                    value[offset] ^= mask.max(1);
                }
            }
            (3, Some(index)) => {
                records.remove(index);
            }
            (4, _) => {
                let column = COLUMNS[usize::from(selector) % COLUMNS.len()];
                let Some(&[key_length]) = take(1, false) else {
                    break;
                };
                let Some(key) = take(usize::from(key_length), false).map(<[u8]>::to_vec) else {
                    break;
                };
                let Some(length) = take(2, false).map(u16_at) else {
                    break;
                };
                let value = take(length, true).unwrap_or_default().to_vec();
                records.retain(|(name, old, _)| !(name == column && *old == key));
                records.push((column.to_owned(), key, value));
            }
            _ => {}
        }
    }
    let unchanged = {
        let mut sorted = records.clone();
        sorted.sort();
        let mut original = baseline.records.clone();
        original.sort();
        sorted == original
    };
    let Ok(mut store) = MemoryStore::from_records(baseline.chain_id, records) else {
        assert!(!unchanged, "the undamaged records do not open");
        return;
    };
    let reads = storage_reads(&store, baseline);
    if unchanged {
        assert_eq!(reads, baseline.reads, "the same records read differently");
    }
    let next = &baseline.next;
    match store.append_block(next) {
        Ok(()) => {
            let height = next.block.header.height;
            assert_eq!(store.last_height(), height);
            assert_eq!(store.header(height), Ok(Some(next.block.header.clone())));
            assert_eq!(store.block(height), Ok(Some(next.block.clone())));
            assert_eq!(
                store.certificate(height),
                Ok(Some(next.certificate.clone()))
            );
            // One receipts record per height, written in full: a stray record that was already
            // under the new height (the damage) is replaced.
            assert_eq!(store.receipts(height), Ok(Some(next.receipts.clone())));
        }
        Err(_) => assert!(!unchanged, "the undamaged store refused its next block"),
    }
}

/// The differential check of the two verification paths (ADR 0005): a batch of 1 to 8
/// signatures, each honest, honest with bytes flipped, or arbitrary bytes, by one of four keys
/// over messages from the input; `verify_batch` must report exactly what verifying each item
/// alone reports first (or accept when all do), and honest signatures must verify.
///
/// Input: `n`, then per item `mode, key, len, message[len], 64 bytes` (missing bytes are zeros).
pub fn signature_paths(data: &[u8]) {
    use courtledger_crypto::{
        verify, verify_batch, BatchError, BatchItem, ChainId, Domain, Signature, SigningKey,
    };

    fn keys() -> &'static [SigningKey; 4] {
        static KEYS: OnceLock<[SigningKey; 4]> = OnceLock::new();
        KEYS.get_or_init(|| {
            std::array::from_fn(|i| SigningKey::from_seed(&[u8::try_from(i).unwrap_or(0) + 1; 32]))
        })
    }

    let mut bytes = data.iter().copied();
    let mut next = || bytes.next().unwrap_or(0);
    let count = 1 + usize::from(next() % 8);
    let chain_id = ChainId(courtledger_crypto::sha256(b"fuzz chain"));
    let mut items: Vec<(usize, Vec<u8>, Signature, bool)> = Vec::with_capacity(count);
    for _ in 0..count {
        let mode = next() % 4;
        let key = usize::from(next() % 4);
        let len = usize::from(next() % 64);
        let message: Vec<u8> = (0..len).map(|_| next()).collect();
        let noise: [u8; 64] = std::array::from_fn(|_| next());
        let honest = keys()[key].sign(Domain::Transaction, &chain_id, &message);
        let (signature, is_honest) = match mode {
            0 => (honest, true),
            1 => {
                let mut flipped = honest.0;
                for (byte, mask) in flipped.iter_mut().zip(noise) {
                    *byte ^= mask;
                }
                (Signature(flipped), noise == [0; 64])
            }
            2 => (Signature(noise), false),
            _ => {
                // One byte replaced: R's or S's encoding, or the equation, breaks.
                let mut changed = honest.0;
                let at = usize::from(noise[0] % 64);
                changed[at] = noise[1];
                (Signature(changed), changed == honest.0)
            }
        };
        items.push((key, message, signature, is_honest));
    }
    let public: Vec<_> = keys().iter().map(SigningKey::public_key).collect();
    let singles: Vec<_> = items
        .iter()
        .map(|(key, message, signature, _)| {
            verify(
                &public[*key],
                Domain::Transaction,
                &chain_id,
                message,
                signature,
            )
        })
        .collect();
    for ((_, _, _, honest), single) in items.iter().zip(&singles) {
        if *honest {
            assert_eq!(single, &Ok(()), "an honest signature is refused");
        }
    }
    let expected = singles
        .iter()
        .enumerate()
        .find_map(|(index, single)| single.err().map(|error| BatchError { index, error }));
    let batch: Vec<BatchItem<'_>> = items
        .iter()
        .map(|(key, message, signature, _)| BatchItem {
            public_key: &public[*key],
            domain: Domain::Transaction,
            chain_id: &chain_id,
            message,
            signature,
        })
        .collect();
    assert_eq!(
        verify_batch(&batch),
        expected.map_or(Ok(()), Err),
        "batch and single verification disagree"
    );
}

#[cfg(test)]
mod tests {
    /// `seed-corpus` names the baseline's records by position: keep it in step.
    #[test]
    fn storage_baseline_records_are_where_the_seeds_expect_them() {
        let records = &super::storage_baseline().records;
        let columns: Vec<&str> = records.iter().map(|(name, _, _)| name.as_str()).collect();
        let expected = [
            ("blocks", 4),
            ("headers", 4),
            ("certificates", 4),
            ("tx_index", 3),
            ("receipts", 4),
            ("block_index", 4),
            ("log", 0),
            ("log_leaves", 1),
            ("state", 2),
            ("state_diffs", 1),
            ("consensus", 1),
            ("meta", 4),
        ];
        let expected: Vec<&str> = expected
            .iter()
            .flat_map(|&(name, count)| std::iter::repeat_n(name, count))
            .collect();
        assert_eq!(columns, expected);
        assert_eq!(records.len(), 32);
        assert_eq!(records[29].1, b"last_height");
    }

    /// Each `storage_record` seed of `seed-corpus` edits the record its name says: its first edit
    /// (`op index ...`) picks the record at `index` (modulo their number), or, adding one (op 4),
    /// the column at `index` (modulo).
    #[test]
    fn storage_seeds_edit_the_records_their_names_say() {
        let records = &super::storage_baseline().records;
        let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/storage_record");
        // Height and chunk keys: `u64` big-endian.
        let key = |n: u64| Some(n.to_be_bytes().to_vec());
        let seeds: [(&str, &str, Option<Vec<u8>>); 14] = [
            ("golden-block", "blocks", key(2)),
            ("golden-header", "headers", key(2)),
            ("golden-certificate", "certificates", key(3)),
            ("golden-receipt", "receipts", key(2)),
            ("receipt-in-empty-block", "receipts", key(1)),
            ("torn-receipts", "receipts", key(3)),
            ("torn-block", "blocks", key(4)),
            ("torn-last-height", "meta", Some(b"last_height".to_vec())),
            ("flipped-log-node", "log_leaves", key(0)),
            ("deleted-log-leaves", "log_leaves", key(0)),
            ("deleted-tx-location", "tx_index", None),
            ("stray-block", "blocks", None),
            ("stray-log-node", "log", None),
            ("stray-log-leaves", "log_leaves", None),
        ];
        for (name, column, key) in seeds {
            let path = corpus.join(format!("seed-{name}"));
            let seed = std::fs::read(&path).unwrap_or_else(|error| panic!("{path:?}: {error}"));
            let (op, index) = (seed[0] % 5, usize::from(seed[1]));
            if op == 4 {
                assert_eq!(
                    super::COLUMNS[index % super::COLUMNS.len()],
                    column,
                    "{name}"
                );
            } else {
                let (stored_column, stored_key, _) = &records[index % records.len()];
                assert_eq!(stored_column, column, "{name}");
                if let Some(key) = key {
                    assert_eq!(stored_key, &key, "{name}");
                }
            }
        }
    }
}
