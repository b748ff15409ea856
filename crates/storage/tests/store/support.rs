//! Real chain types for the tests: signed transactions, linked headers, signed certificates.

use std::collections::BTreeMap;

use courtledger_crypto::{sha256, ChainId, Digest, SigningKey};
use courtledger_merkle::{leaf_hash, root, Frontier, Hash, LogNode};
use courtledger_storage::{
    CommittedBlock, MemoryStore, RocksStore, StateChange, StateEntry, Store, MAX_STATE_SCAN,
};
use courtledger_types::block::{tx_root, HEADER_VERSION};
use courtledger_types::{
    Block, BlockHeader, BlockId, CommitCertificate, CommitSignature, Receipt, SignedTransaction,
    Transaction, TxId, Validator, ValidatorSet,
};

/// The chain the tests store.
pub fn chain_id() -> ChainId {
    ChainId(sha256(b"courtledger storage tests"))
}

/// Another chain.
pub fn other_chain_id() -> ChainId {
    ChainId(sha256(b"another chain"))
}

pub fn key(n: u8) -> SigningKey {
    SigningKey::from_seed(&[n; 32])
}

/// A transaction signed by key `signer` for the test chain.
pub fn tx(signer: u8, nonce: u64, payload: &[u8]) -> SignedTransaction {
    Transaction {
        signer: key(signer).public_key(),
        nonce,
        payload: payload.to_vec(),
    }
    .sign(&key(signer), &chain_id())
}

/// Four validators (keys 10 to 13), one unit of power each.
pub fn validators() -> ValidatorSet {
    ValidatorSet::new(
        (10u8..14)
            .map(|n| Validator {
                public_key: key(n).public_key(),
                voting_power: 1,
            })
            .collect(),
    )
    .expect("a valid set")
}

/// A certificate for `header` signed by validators 0, 1 and 2: a real quorum.
pub fn certificate(header: &BlockHeader) -> CommitCertificate {
    let set = validators();
    let mut certificate = CommitCertificate {
        height: header.height,
        round: 0,
        block_id: header.id(),
        signatures: Vec::new(),
    };
    for index in 0u16..3 {
        let vote = certificate
            .precommit(&set, index)
            .expect("index in the set");
        let signer = key(10 + u8::try_from(index).expect("small index"));
        certificate.signatures.push(CommitSignature {
            validator_index: index,
            signature: vote.sign(&signer, &chain_id()).signature,
        });
    }
    certificate
}

/// Gives `committed` a fresh certificate for its (possibly edited) header.
pub fn recertify(committed: &mut CommittedBlock) {
    committed.certificate = certificate(&committed.block.header);
}

/// One receipt per id; every third act failed with code 7, to tell codes apart.
pub fn receipts(height: u64, ids: &[TxId]) -> Vec<Receipt> {
    ids.iter()
        .enumerate()
        .map(|(index, id)| Receipt {
            tx_id: *id,
            index: u32::try_from(index).expect("few transactions"),
            height,
            code: if index % 3 == 2 { 7 } else { 0 },
        })
        .collect()
}

/// The history log after appending `ids` to `log`, and the subtrees they complete.
pub fn extend_log(log: &Frontier, ids: &[TxId]) -> (Frontier, Vec<LogNode>) {
    let mut log = log.clone();
    let mut nodes = Vec::new();
    for id in ids {
        log.append_recording(leaf_hash(id.as_bytes()), &mut nodes)
            .expect("a small log");
    }
    (log, nodes)
}

/// Builds the blocks that follow a store's tip.
#[derive(Debug, Clone)]
pub struct Chain {
    height: u64,
    parent: BlockId,
    log: Frontier,
}

impl Chain {
    /// A chain that starts at height 1.
    pub fn new() -> Self {
        Self {
            height: 0,
            parent: chain_id().0,
            log: Frontier::new(),
        }
    }

    /// The history log after the last block.
    pub fn log(&self) -> &Frontier {
        &self.log
    }

    /// The next block with `txs` and `state_changes`, certified, without advancing.
    pub fn peek(
        &self,
        txs: Vec<SignedTransaction>,
        state_changes: Vec<StateChange>,
    ) -> CommittedBlock {
        let ids: Vec<TxId> = txs.iter().map(SignedTransaction::id).collect();
        let height = self.height + 1;
        let (log, log_nodes) = extend_log(&self.log, &ids);
        let header = BlockHeader {
            version: HEADER_VERSION,
            chain_id: chain_id(),
            height,
            time_ms: 1_790_000_000_000 + height * 1_000,
            parent_id: self.parent,
            proposer: key(10).public_key(),
            tx_count: u32::try_from(txs.len()).expect("few transactions"),
            tx_root: tx_root(&ids),
            results_root: sha256(b"results"),
            log_size: log.size(),
            log_root: Digest(log.root()),
            state_root: sha256(format!("state {height}").as_bytes()),
            validators_hash: validators().hash(),
            next_validators_hash: validators().hash(),
        };
        let certificate = certificate(&header);
        CommittedBlock {
            block: Block { header, txs },
            certificate,
            receipts: receipts(height, &ids),
            state_changes,
            log_nodes,
        }
    }

    /// Records that `committed` (from [`Chain::peek`]) was stored.
    pub fn advance(&mut self, committed: &CommittedBlock) {
        let header = &committed.block.header;
        self.height = header.height;
        self.parent = header.id();
        self.log = extend_log(&self.log, &committed.block.tx_ids()).0;
    }

    /// Builds the next block, appends it to `store` and advances.
    pub fn append(
        &mut self,
        store: &mut dyn Store,
        txs: Vec<SignedTransaction>,
        state_changes: Vec<StateChange>,
    ) -> CommittedBlock {
        let committed = self.peek(txs, state_changes);
        store.append_block(&committed).expect("a valid next block");
        self.advance(&committed);
        committed
    }

    /// Appends `count` blocks, block `h` holding `h - 1` transactions (so block 1 is empty).
    pub fn append_many(&mut self, store: &mut dyn Store, count: u64) -> Vec<CommittedBlock> {
        (0..count)
            .map(|_| {
                let height = self.height + 1;
                let txs = (1..height)
                    .map(|nonce| tx(1, height * 100 + nonce, b"act"))
                    .collect();
                self.append(store, txs, vec![])
            })
            .collect()
    }
}

/// What a store returns for everything a test looks at, to check that a refused append changed
/// nothing.
#[derive(Debug, PartialEq)]
pub struct Snapshot {
    last_height: u64,
    last_block_id: BlockId,
    records: Vec<(
        Option<BlockHeader>,
        Option<Block>,
        Option<CommitCertificate>,
    )>,
    tx_locations: Vec<Option<courtledger_storage::TxLocation>>,
    receipts: Vec<Option<Receipt>>,
    block_receipts: Vec<Option<Vec<Receipt>>>,
    state: Vec<Option<Vec<u8>>>,
    state_entries: Vec<courtledger_storage::StateEntry>,
    log_size: u64,
    log_nodes: Vec<Option<courtledger_merkle::Hash>>,
}

impl Snapshot {
    /// Reads heights 0 to `last_height + 2`, the locations of `tx_ids`, and the state under
    /// `state_keys`.
    pub fn take(store: &dyn Store, tx_ids: &[TxId], state_keys: &[&[u8]]) -> Self {
        Self {
            last_height: store.last_height(),
            last_block_id: store.last_block_id(),
            records: (0..store.last_height() + 3)
                .map(|height| {
                    (
                        store.header(height).expect("readable"),
                        store.block(height).expect("readable"),
                        store.certificate(height).expect("readable"),
                    )
                })
                .collect(),
            tx_locations: tx_ids
                .iter()
                .map(|id| store.tx_location(id).expect("readable"))
                .collect(),
            receipts: tx_ids
                .iter()
                .map(|id| store.receipt(id).expect("readable"))
                .collect(),
            block_receipts: (0..store.last_height() + 3)
                .map(|height| store.receipts(height).expect("readable"))
                .collect(),
            state: state_keys
                .iter()
                .map(|key| store.state_get(key).expect("readable"))
                .collect(),
            state_entries: store.state_scan(b"", None, usize::MAX).expect("readable"),
            log_size: store.log_size(),
            // Every subtree of a log up to 64 leaves, stored or not.
            log_nodes: (0..7u8)
                .flat_map(|level| (0..64u64 >> level).map(move |index| (level, index)))
                .map(|(level, index)| store.log_node(level, index).expect("readable"))
                .collect(),
        }
    }
}

/// Block sizes that cross the log's chunks of 16 leaves every way: one leaf at a time, less
/// than a chunk, exactly one, one more, several, and a mix (with empty blocks).
pub const BLOCK_SIZE_PATTERNS: [&[usize]; 6] = [
    &[1],
    &[3],
    &[16],
    &[17],
    &[40],
    &[1, 3, 16, 17, 40, 0, 2, 5, 15, 1],
];

/// Appends `count` fresh transactions (signer 5, nonces from `*nonce + 1`) as the next block.
pub fn append_txs(
    chain: &mut Chain,
    store: &mut dyn Store,
    count: usize,
    nonce: &mut u64,
) -> CommittedBlock {
    let txs = (0..count)
        .map(|_| {
            *nonce += 1;
            tx(5, *nonce, b"log")
        })
        .collect();
    chain.append(store, txs, vec![])
}

/// A record's key and value.
pub type KeyValue = (Vec<u8>, Vec<u8>);

/// The records the history log of `leaves` must have: `log_leaves` (chunk index → the chunk's
/// leaves, concatenated) and `log` (level and index → root, for every complete subtree of 16
/// leaves or more), each in key order.
pub fn expected_log_records(leaves: &[Hash]) -> (Vec<KeyValue>, Vec<KeyValue>) {
    let chunks = leaves
        .chunks(16)
        .zip(0u64..)
        .map(|(chunk, index)| (index.to_be_bytes().to_vec(), chunk.concat()))
        .collect();
    let mut log = Vec::new();
    for level in 4..64u8 {
        let width = 1usize << level;
        if width > leaves.len() {
            break;
        }
        for (subtree, index) in leaves.chunks_exact(width).zip(0u64..) {
            let mut key = vec![level];
            key.extend_from_slice(&index.to_be_bytes());
            log.push((key, root(subtree).to_vec()));
        }
    }
    (chunks, log)
}

/// Checks every subtree the store's log could have against `leaves` (the reference, folded
/// with `courtledger_merkle`): each complete one at levels 0 to 8 is its root, the next two at
/// each level are `None`; and the log's root.
pub fn assert_log_matches(store: &dyn Store, leaves: &[Hash]) {
    let size = leaves.len();
    assert_eq!(store.log_size(), u64::try_from(size).unwrap());
    for level in 0..=8u8 {
        let width = 1usize << level;
        let complete = size / width;
        for index in 0..complete + 2 {
            let expected = (index < complete).then(|| root(&leaves[index * width..][..width]));
            assert_eq!(
                store.log_node(level, u64::try_from(index).unwrap()),
                Ok(expected),
                "log size {size}, level {level}, index {index}"
            );
        }
    }
    let view = courtledger_storage::LogView::new(store);
    assert_eq!(view.root(u64::try_from(size).unwrap()), Ok(root(leaves)));
}

/// A store that can be closed and opened again over what it left (a restart), and whose
/// records can be read as the database holds them: a `MemoryStore` through `records` and
/// `from_records`, a `RocksStore` through its directory.
pub trait Reopen: Store + Sized {
    /// Drops the store and opens what it left.
    fn reopen(self) -> Self;

    /// Every record of the column family `column` as it lies in the database, in key order.
    fn disk(&self, column: &str) -> Vec<KeyValue>;
}

impl Reopen for MemoryStore {
    fn reopen(self) -> Self {
        MemoryStore::from_records(chain_id(), self.records()).expect("the records reopen")
    }

    fn disk(&self, column: &str) -> Vec<KeyValue> {
        self.records()
            .into_iter()
            .filter(|(name, _, _)| name == column)
            .map(|(_, key, value)| (key, value))
            .collect()
    }
}

impl Reopen for RocksStore {
    fn reopen(self) -> Self {
        let path = self.path().to_path_buf();
        drop(self);
        RocksStore::open(path, chain_id()).expect("the database reopens")
    }

    fn disk(&self, column: &str) -> Vec<KeyValue> {
        // A read-only instance takes no lock on the directory and reads the synced writes
        // (SST files and the write-ahead log) as a restart would.
        let db = rocksdb::DB::open_cf_for_read_only(
            &rocksdb::Options::default(),
            self.path(),
            [column],
            false,
        )
        .expect("the database opens read-only");
        let handle = db.cf_handle(column).expect("the column family exists");
        db.iterator_cf(handle, rocksdb::IteratorMode::Start)
            .map(|item| {
                let (key, value) = item.expect("readable");
                (key.to_vec(), value.to_vec())
            })
            .collect()
    }
}

/// The `meta` record `state_height` on disk, decoded (`None` when there is none).
pub fn disk_state_height(store: &impl Reopen) -> Option<u64> {
    store
        .disk("meta")
        .into_iter()
        .find(|(key, _)| key == b"state_height")
        .map(|(_, value)| u64::from_be_bytes(value.try_into().expect("8 bytes")))
}

/// The heights of the `state_diffs` records on disk, in key order.
pub fn disk_diff_heights(store: &impl Reopen) -> Vec<u64> {
    store
        .disk("state_diffs")
        .into_iter()
        .map(|(key, _)| u64::from_be_bytes(key.try_into().expect("8-byte keys")))
        .collect()
}

/// The length of a block's `state_diffs` record, from the encoding documented on the crate's
/// `StateDiff`: a `u32` count, per change a `u32`-length key, a tag byte and for a value a
/// `u32`-length value; a `u32` count and 36 bytes per index entry.
pub fn state_diff_len(changes: &[StateChange], index_entries: usize) -> usize {
    let changes: usize = changes
        .iter()
        .map(|change| 4 + change.key.len() + 1 + change.value.as_ref().map_or(0, |v| 4 + v.len()))
        .sum();
    4 + changes + 4 + 36 * index_entries
}

/// The reference the state is checked against: key → value after the last block.
pub type StateModel = BTreeMap<Vec<u8>, Vec<u8>>;

/// Applies `changes` to `model` in order.
pub fn apply_changes(model: &mut StateModel, changes: &[StateChange]) {
    for change in changes {
        match &change.value {
            Some(value) => model.insert(change.key.clone(), value.clone()),
            None => model.remove(&change.key),
        };
    }
}

/// What `Store::state_scan` must return, computed from `model`.
pub fn model_scan(
    model: &StateModel,
    prefix: &[u8],
    start_after: Option<&[u8]>,
    limit: usize,
) -> Vec<StateEntry> {
    model
        .iter()
        .filter(|(key, _)| {
            key.starts_with(prefix) && start_after.is_none_or(|after| key.as_slice() > after)
        })
        .take(limit.min(MAX_STATE_SCAN))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}

/// A small deterministic generator (SplitMix64) for the seeded property tests: a failure
/// reports its seed, and that seed replays the same case.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next_u64() % u64::try_from(n).expect("small")).expect("small")
    }

    /// True with probability `percent / 100`.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    /// One of `items` (not empty).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}
