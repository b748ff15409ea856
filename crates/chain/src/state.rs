//! State access: the committed state behind a trait, pending writes in an overlay, the change set
//! of a block, and the state root chained over change sets.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use courtledger_codec::{decode_exact, write, Decode, DecodeError, Encode, Reader};
use courtledger_crypto::{ChainId, Digest, Sha256Hasher};
use thiserror::Error;

use crate::limits::{MAX_BLOCK_STATE_CHANGES, MAX_STATE_KEY_BYTES, MAX_STATE_VALUE_BYTES};

/// Hash tag of a block's state root: see [`state_root`].
pub const STATE_ROOT_TAG: &[u8] = b"courtledger/v1/state-root";

/// Hash tag of the state root before the first block: see [`genesis_state_root`].
pub const GENESIS_STATE_ROOT_TAG: &[u8] = b"courtledger/v1/genesis-state-root";

/// Read access to the committed state: a map from byte keys to byte values.
///
/// The node implements it over its database (the state after the last committed block); the
/// [`Overlay`] implements it over another `StateRead` plus pending writes.
pub trait StateRead {
    /// The value stored under `key`, or `None` if there is none.
    fn get(&self, key: &[u8]) -> Option<Vec<u8>>;
}

/// One write of a block: `value` is the new value of `key`, or `None` if the key is deleted.
///
/// Encoding: `bytes key (≤ 256), option<bytes value (≤ 65,536)>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateChange {
    /// The key written.
    pub key: Vec<u8>,
    /// Its new value, or `None` for a deletion.
    pub value: Option<Vec<u8>>,
}

impl Encode for StateChange {
    fn encode_to(&self, out: &mut Vec<u8>) {
        write::bytes(out, &self.key);
        write::option(out, self.value.as_ref(), |out, value| {
            write::bytes(out, value)
        });
    }
}

impl Decode for StateChange {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            key: reader.byte_vec("state key", MAX_STATE_KEY_BYTES)?,
            value: reader.option("state value", |reader| {
                reader.byte_vec("state value", MAX_STATE_VALUE_BYTES)
            })?,
        })
    }
}

/// The canonical encoding of a block's change set: `seq<StateChange>`.
pub fn encode_changes(changes: &[StateChange]) -> Vec<u8> {
    let mut out = Vec::new();
    write::seq(&mut out, changes);
    out
}

/// Decodes a change set of at most `max_bytes` bytes, refusing keys that are not strictly
/// ascending (so every change set has one encoding).
pub fn decode_changes(bytes: &[u8], max_bytes: usize) -> Result<Vec<StateChange>, DecodeError> {
    let changes: ChangeSet = decode_exact(bytes, max_bytes)?;
    Ok(changes.0)
}

struct ChangeSet(Vec<StateChange>);

impl Decode for ChangeSet {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let changes: Vec<StateChange> = reader.seq("state changes", MAX_BLOCK_STATE_CHANGES)?;
        if changes.windows(2).any(|pair| pair[0].key >= pair[1].key) {
            return Err(DecodeError::Invalid {
                what: "state changes",
                reason: "keys are not strictly ascending",
            });
        }
        Ok(Self(changes))
    }
}

/// `SHA-256(u8 len(tag) || tag || parts...)`: the workspace's tagged hash with this crate's tags.
fn tagged_hasher(tag: &[u8]) -> Sha256Hasher {
    let tag_len = u8::try_from(tag.len()).expect("hash tags are short constants");
    let mut hasher = Sha256Hasher::new();
    hasher.update(&[tag_len]).update(tag);
    hasher
}

/// The state root before the first block:
/// `SHA-256(u8 len(GENESIS_STATE_ROOT_TAG) || GENESIS_STATE_ROOT_TAG || chain id)`.
pub fn genesis_state_root(chain_id: &ChainId) -> Digest {
    let mut hasher = tagged_hasher(GENESIS_STATE_ROOT_TAG);
    hasher.update(chain_id.as_bytes());
    hasher.finalize()
}

/// The state root after a block:
/// `SHA-256(u8 len(STATE_ROOT_TAG) || STATE_ROOT_TAG || prev_root || encode(seq<StateChange>))`,
/// `changes` being the block's change set (sorted by key, as [`Overlay::into_changes`] gives it).
///
/// It commits to the whole history of writes, so two validators agree on it exactly when they
/// agree on the previous root and on every write of the block.
pub fn state_root(prev_root: &Digest, changes: &[StateChange]) -> Digest {
    let mut hasher = tagged_hasher(STATE_ROOT_TAG);
    hasher.update(prev_root.as_bytes());
    // Streamed: the same bytes as `encode_changes(changes)`, without holding them all.
    let mut buffer = Vec::new();
    write::length(&mut buffer, changes.len());
    hasher.update(&buffer);
    for change in changes {
        buffer.clear();
        change.encode_to(&mut buffer);
        hasher.update(&buffer);
    }
    hasher.finalize()
}

/// Committed state holds a value that the execution rules never write: the database is damaged
/// or was written by other code. Never caused by a block or a transaction.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("committed state is corrupt at key \"{}\": {reason}", .key.escape_ascii())]
pub struct StateError {
    /// The key whose value is wrong.
    pub key: Vec<u8>,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// Pending writes layered over a [`StateRead`]: reads see the latest pending write of a key, or
/// else the base state.
///
/// Used while executing a block, so that each transaction sees the writes of the transactions
/// before it. The base is never modified; [`Overlay::into_changes`] gives the writes.
///
/// The writes are held in a hash map (a block writes thousands of keys with long common
/// prefixes, which an ordered map compares byte by byte on every write and read); they are
/// sorted once, when the change set is taken. Nothing reads them in key order before that.
pub struct Overlay<'a> {
    base: &'a dyn StateRead,
    writes: HashMap<Vec<u8>, Option<Vec<u8>>>,
}

impl<'a> Overlay<'a> {
    /// An overlay with no pending writes over `base`.
    pub fn new(base: &'a dyn StateRead) -> Self {
        Self {
            base,
            writes: HashMap::new(),
        }
    }

    /// Sets `key` to `value`.
    pub fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        debug_assert!(key.len() <= usize::try_from(MAX_STATE_KEY_BYTES).unwrap_or(usize::MAX));
        debug_assert!(value.len() <= usize::try_from(MAX_STATE_VALUE_BYTES).unwrap_or(usize::MAX));
        self.writes.insert(key, Some(value));
    }

    /// Deletes `key`.
    pub fn delete(&mut self, key: Vec<u8>) {
        debug_assert!(key.len() <= usize::try_from(MAX_STATE_KEY_BYTES).unwrap_or(usize::MAX));
        self.writes.insert(key, None);
    }

    /// Makes room for `additional` more keys without growing the pending writes step by step.
    pub fn reserve(&mut self, additional: usize) {
        self.writes.reserve(additional);
    }

    /// Number of keys written.
    pub fn len(&self) -> usize {
        self.writes.len()
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }

    /// The pending writes: one change per key written (its last write), sorted by key bytes.
    ///
    /// A write is kept even if it leaves the value as it was in the base state, so the change
    /// set depends only on what was executed, never on what the base held.
    pub fn changes(&self) -> Vec<StateChange> {
        sorted(
            self.writes
                .iter()
                .map(|(key, value)| StateChange {
                    key: key.clone(),
                    value: value.clone(),
                })
                .collect(),
        )
    }

    /// [`Overlay::changes`], consuming the overlay.
    pub fn into_changes(self) -> Vec<StateChange> {
        sorted(
            self.writes
                .into_iter()
                .map(|(key, value)| StateChange { key, value })
                .collect(),
        )
    }
}

/// `changes` (one per key) sorted by key bytes.
fn sorted(mut changes: Vec<StateChange>) -> Vec<StateChange> {
    // Keys are distinct, so an unstable sort gives the one order there is.
    changes.sort_unstable_by(|a, b| a.key.cmp(&b.key));
    changes
}

impl StateRead for Overlay<'_> {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        match self.writes.get(key) {
            Some(pending) => pending.clone(),
            None => self.base.get(key),
        }
    }
}

impl fmt::Debug for Overlay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Overlay")
            .field("pending_writes", &self.writes.len())
            .finish_non_exhaustive()
    }
}

/// A state held in memory: for tests, tools, and as the reference for storage backends.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryState {
    entries: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl MemoryState {
    /// The empty state (the state before the first block).
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies a block's change set.
    pub fn apply(&mut self, changes: &[StateChange]) {
        for change in changes {
            match &change.value {
                Some(value) => {
                    self.entries.insert(change.key.clone(), value.clone());
                }
                None => {
                    self.entries.remove(&change.key);
                }
            }
        }
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no key is set.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every key and value, sorted by key.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.entries
            .iter()
            .map(|(key, value)| (key.as_slice(), value.as_slice()))
    }
}

impl StateRead for MemoryState {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.entries.get(key).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use courtledger_crypto::sha256;
    use proptest::prelude::*;

    fn change(key: &[u8], value: Option<&[u8]>) -> StateChange {
        StateChange {
            key: key.to_vec(),
            value: value.map(<[u8]>::to_vec),
        }
    }

    #[test]
    fn overlay_reads_its_writes_over_the_base() {
        let mut base = MemoryState::new();
        base.apply(&[change(b"a", Some(b"1")), change(b"b", Some(b"2"))]);
        let mut overlay = Overlay::new(&base);
        assert_eq!(overlay.get(b"a"), Some(b"1".to_vec()));
        overlay.put(b"a".to_vec(), b"10".to_vec());
        overlay.delete(b"b".to_vec());
        overlay.put(b"c".to_vec(), b"3".to_vec());
        overlay.put(b"c".to_vec(), b"30".to_vec());
        assert_eq!(overlay.get(b"a"), Some(b"10".to_vec()));
        assert_eq!(overlay.get(b"b"), None);
        assert_eq!(overlay.get(b"c"), Some(b"30".to_vec()));
        assert_eq!(overlay.get(b"d"), None);
        // The base is untouched.
        assert_eq!(base.get(b"b"), Some(b"2".to_vec()));
        // Re-putting a deleted key revives it.
        overlay.put(b"b".to_vec(), b"22".to_vec());
        assert_eq!(overlay.get(b"b"), Some(b"22".to_vec()));
        overlay.delete(b"b".to_vec());
        let changes = overlay.into_changes();
        assert_eq!(
            changes,
            vec![
                change(b"a", Some(b"10")),
                change(b"b", None),
                change(b"c", Some(b"30")),
            ]
        );
        base.apply(&changes);
        assert_eq!(base.get(b"a"), Some(b"10".to_vec()));
        assert_eq!(base.get(b"b"), None);
        assert_eq!(base.len(), 2);
    }

    #[test]
    fn changes_are_sorted_by_key_bytes_whatever_the_write_order() {
        let base = MemoryState::new();
        let mut one = Overlay::new(&base);
        let mut two = Overlay::new(&base);
        let keys: [&[u8]; 4] = [b"b", b"a\xff", b"a", b"\x00z"];
        for key in keys {
            one.put(key.to_vec(), key.to_vec());
        }
        for key in keys.iter().rev() {
            two.put(key.to_vec(), key.to_vec());
        }
        assert_eq!(one.changes(), two.changes());
        let sorted: Vec<Vec<u8>> = one.changes().into_iter().map(|c| c.key).collect();
        assert_eq!(
            sorted,
            vec![
                b"\x00z".to_vec(),
                b"a".to_vec(),
                b"a\xff".to_vec(),
                b"b".to_vec()
            ]
        );
    }

    #[test]
    fn change_set_encoding_round_trips_and_is_strict() {
        let changes = vec![change(b"a", Some(b"xy")), change(b"b", None)];
        let bytes = encode_changes(&changes);
        assert_eq!(
            bytes,
            b"\x00\x00\x00\x02\x00\x00\x00\x01a\x01\x00\x00\x00\x02xy\x00\x00\x00\x01b\x00"
        );
        assert_eq!(decode_changes(&bytes, 1024), Ok(changes.clone()));
        let unsorted = encode_changes(&[changes[1].clone(), changes[0].clone()]);
        assert!(matches!(
            decode_changes(&unsorted, 1024),
            Err(DecodeError::Invalid { .. })
        ));
        let repeated = encode_changes(&[changes[0].clone(), changes[0].clone()]);
        assert!(decode_changes(&repeated, 1024).is_err());
        assert!(matches!(
            decode_changes(&bytes, 4),
            Err(DecodeError::InputTooLarge { .. })
        ));
    }

    #[test]
    fn state_root_hashes_tag_prev_root_and_encoded_changes() {
        let prev = sha256(b"prev");
        let changes = vec![change(b"k", Some(b"v"))];
        let mut preimage = vec![25u8];
        preimage.extend_from_slice(b"courtledger/v1/state-root");
        preimage.extend_from_slice(prev.as_bytes());
        preimage.extend_from_slice(&encode_changes(&changes));
        assert_eq!(state_root(&prev, &changes), sha256(&preimage));
        assert_ne!(state_root(&prev, &changes), state_root(&prev, &[]));
        assert_ne!(state_root(&prev, &[]), state_root(&sha256(b"other"), &[]));

        let chain_id = ChainId(sha256(b"chain"));
        let mut preimage = vec![33u8];
        preimage.extend_from_slice(b"courtledger/v1/genesis-state-root");
        preimage.extend_from_slice(chain_id.as_bytes());
        assert_eq!(genesis_state_root(&chain_id), sha256(&preimage));
    }

    proptest! {
        /// Whatever the writes and their order, reads see the last write of each key (or the
        /// base), and the change set holds each written key once, with its last write, in
        /// ascending key order.
        #[test]
        fn overlay_matches_an_ordered_model(
            base_entries in proptest::collection::vec(
                (
                    proptest::collection::vec(0u8..4, 0..4),
                    proptest::collection::vec(any::<u8>(), 0..4),
                ),
                0..20,
            ),
            writes in proptest::collection::vec(
                (
                    proptest::collection::vec(0u8..4, 0..4),
                    proptest::option::of(proptest::collection::vec(any::<u8>(), 0..4)),
                ),
                0..60,
            ),
        ) {
            let mut base = MemoryState::new();
            let base_changes: Vec<StateChange> = base_entries
                .iter()
                .map(|(key, value)| change(key, Some(value)))
                .collect();
            base.apply(&base_changes);
            let mut overlay = Overlay::new(&base);
            let mut model: BTreeMap<Vec<u8>, Option<Vec<u8>>> = BTreeMap::new();
            for (key, value) in writes {
                match value.clone() {
                    Some(value) => overlay.put(key.clone(), value),
                    None => overlay.delete(key.clone()),
                }
                prop_assert_eq!(overlay.get(&key), value.clone());
                model.insert(key, value);
            }
            // Keys of the base, written or not.
            for (key, _) in &base_entries {
                let expected = model.get(key).cloned().unwrap_or_else(|| base.get(key));
                prop_assert_eq!(overlay.get(key), expected);
            }
            prop_assert_eq!(overlay.len(), model.len());
            let expected: Vec<StateChange> = model
                .into_iter()
                .map(|(key, value)| StateChange { key, value })
                .collect();
            prop_assert_eq!(overlay.changes(), expected.clone());
            prop_assert_eq!(overlay.into_changes(), expected);
        }
    }

    #[test]
    fn state_error_shows_binary_keys_escaped() {
        let error = StateError {
            key: b"v1/x/\x01\xff".to_vec(),
            reason: "bad",
        };
        assert_eq!(
            error.to_string(),
            "committed state is corrupt at key \"v1/x/\\x01\\xff\": bad"
        );
    }
}
