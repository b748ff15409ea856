//! The on-disk layout: column families, keys and the values that are not chain types.
//!
//! Described for operators and auditors in the crate's README; keep the two in step.

use courtledger_codec::{decode_exact, write, Decode, DecodeError, Encode, Reader};
use courtledger_crypto::Digest;
use courtledger_merkle::{node_hash, Hash};
use courtledger_types::limits::{MAX_BLOCK_TXS, MAX_STATE_KEY_BYTES, MAX_STATE_VALUE_BYTES};
use courtledger_types::receipt::RECEIPT_BYTES;
use courtledger_types::{Receipt, TxId};

use crate::StateChange;

/// Version of the on-disk layout (column families, keys, values), stored as a `u32` under
/// `schema_version` in the `meta` column family. A database of another version is refused.
///
/// - 1: blocks, headers, certificates, tx index, state, consensus, meta.
/// - 2: adds `receipts` (each block's receipts, written with it) and `block_index` (block id →
///   height). A version-1 database holds no receipts, and they cannot be derived from it without
///   re-executing every block, so it is refused rather than migrated.
/// - 3: adds `log` (the root of every complete perfect subtree of the history log of all
///   transaction ids, written with the block that completes it), so that inclusion and
///   consistency proofs for any log size take `O(log n)` reads. A version-2 database has no
///   such records; it is refused rather than migrated (start the node from a new data directory
///   and let it sync).
/// - 4: fewer, larger records for what is written per transaction. `receipts` holds one record
///   per block (its receipts' encodings, concatenated) instead of one per transaction; the
///   history log's leaves are kept 16 to a record in the new `log_leaves`, and `log` holds only
///   the subtrees of 16 leaves or more (the levels in between are computed from the leaves on
///   read). A version-3 database is refused rather than migrated (start the node from a new
///   data directory and let it sync).
/// - 5: adds `state_diffs` and the `meta` key `state_height`. A block's state changes and new
///   transaction index entries are written as one record per block in `state_diffs` and kept in
///   memory; every few blocks they go into `state` and `tx_index` at once, in key order, with
///   `state_height` advanced and the records below it deleted, in one atomic batch. Opening
///   replays the records above `state_height`. A version-4 database is refused rather than
///   migrated (start the node from a new data directory and let it sync).
pub const SCHEMA_VERSION: u32 = 5;

/// Level of the history log's subtrees that [`Column::LogLeaves`] records hold the leaves of:
/// a record (a "chunk") holds the `2^LOG_CHUNK_LEVEL = 16` leaves of positions `[16c, 16c +
/// 16)`, and the subtrees below this level are computed from it instead of being stored.
pub(crate) const LOG_CHUNK_LEVEL: u8 = 4;

/// Leaves in a full chunk of the history log: `2^LOG_CHUNK_LEVEL`.
pub(crate) const LOG_CHUNK_LEAVES: u64 = 1 << LOG_CHUNK_LEVEL;

/// Bytes of one leaf hash in a chunk.
pub(crate) const LEAF_BYTES: usize = 32;

/// Bytes of a full chunk: 16 leaf hashes, 512 bytes.
pub(crate) const LOG_CHUNK_BYTES: usize = LEAF_BYTES << LOG_CHUNK_LEVEL;

/// Most entries one [`crate::Store::state_scan`] returns, whatever limit is asked for.
pub const MAX_STATE_SCAN: usize = 1000;

/// `meta` key of the schema version (`u32`, big-endian).
pub(crate) const SCHEMA_VERSION_KEY: &[u8] = b"schema_version";
/// `meta` key of the chain id (32 bytes).
pub(crate) const CHAIN_ID_KEY: &[u8] = b"chain_id";
/// `meta` key of the last stored height (`u64`, big-endian; 0 before the first block).
pub(crate) const LAST_HEIGHT_KEY: &[u8] = b"last_height";
/// `meta` key of the height up to which the `state` and `tx_index` columns hold every block's
/// writes (`u64`, big-endian; at most the last height). The writes of the blocks above it are in
/// their `state_diffs` records.
pub(crate) const STATE_HEIGHT_KEY: &[u8] = b"state_height";

/// The column families (keyspaces) of a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Column {
    /// height → canonical `Block` (header and transactions).
    Blocks,
    /// height → canonical `BlockHeader`.
    Headers,
    /// height → canonical `CommitCertificate`.
    Certificates,
    /// tx id → [`crate::TxLocation`].
    TxIndex,
    /// height → the block's receipts: their canonical encodings ([`RECEIPT_BYTES`] each)
    /// concatenated in position order ([`encode_receipts`]).
    Receipts,
    /// block id → height (`u64`).
    BlockIndex,
    /// level (at least [`LOG_CHUNK_LEVEL`]) and index of a perfect subtree of the history log
    /// ([`log_key`]) → its root (32 bytes).
    Log,
    /// chunk index `c` (`u64`, [`chunk_key`]) → the leaf hashes of the history log's positions
    /// `[16c, min(16c + 16, log size))`, 32 bytes each, concatenated.
    LogLeaves,
    /// application key → application value, as the ledger wrote them, up to the block at
    /// `state_height`.
    State,
    /// height (above `state_height`) → the block's state changes and new transaction index
    /// entries ([`StateDiff`]), not yet in `state` and `tx_index`.
    StateDiffs,
    /// consensus key → consensus value, as the consensus engine wrote them.
    Consensus,
    /// schema version, chain id, last height.
    Meta,
}

impl Column {
    /// Every column, in a fixed order.
    pub(crate) const ALL: [Column; 12] = [
        Column::Blocks,
        Column::Headers,
        Column::Certificates,
        Column::TxIndex,
        Column::Receipts,
        Column::BlockIndex,
        Column::Log,
        Column::LogLeaves,
        Column::State,
        Column::StateDiffs,
        Column::Consensus,
        Column::Meta,
    ];

    /// The column family's name in RocksDB.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Column::Blocks => "blocks",
            Column::Headers => "headers",
            Column::Certificates => "certificates",
            Column::TxIndex => "tx_index",
            Column::Receipts => "receipts",
            Column::BlockIndex => "block_index",
            Column::Log => "log",
            Column::LogLeaves => "log_leaves",
            Column::State => "state",
            Column::StateDiffs => "state_diffs",
            Column::Consensus => "consensus",
            Column::Meta => "meta",
        }
    }
}

/// The key of a height: `u64` big-endian, so that keys sort in height order.
pub(crate) fn height_key(height: u64) -> [u8; 8] {
    height.to_be_bytes()
}

/// The key of a perfect subtree of the history log: its level (`u8`) and its index at that
/// level (`u64`), big-endian, so that a level's subtrees are contiguous and in log order.
pub(crate) fn log_key(level: u8, index: u64) -> [u8; 9] {
    let mut key = [0u8; 9];
    key[0] = level;
    key[1..].copy_from_slice(&index.to_be_bytes());
    key
}

/// The key of a chunk of the history log's leaves: its index (`u64`, big-endian), so that
/// chunks sort in log order.
pub(crate) fn chunk_key(chunk: u64) -> [u8; 8] {
    chunk.to_be_bytes()
}

/// The value of a block's [`Column::Receipts`] record: the receipts' canonical encodings,
/// concatenated in order, without a length prefix (each is [`RECEIPT_BYTES`]; the block's
/// header gives the count).
pub(crate) fn encode_receipts(receipts: &[Receipt]) -> Vec<u8> {
    let mut out = Vec::with_capacity(receipts.len().saturating_mul(RECEIPT_BYTES));
    for receipt in receipts {
        receipt.encode_to(&mut out);
    }
    out
}

/// Decodes a block's receipts record, which must hold exactly `count` receipts (nothing less,
/// nothing trailing). Allocates only once the bytes are known to be there.
pub(crate) fn decode_receipts(bytes: &[u8], count: u32) -> Result<Vec<Receipt>, DecodeError> {
    let expected = usize::try_from(count)
        .ok()
        .and_then(|count| count.checked_mul(RECEIPT_BYTES));
    if expected != Some(bytes.len()) {
        return Err(DecodeError::Invalid {
            what: "block receipts",
            reason: "length is not the block's transaction count times the receipt size",
        });
    }
    bytes
        .chunks_exact(RECEIPT_BYTES)
        .map(Receipt::decode)
        .collect()
}

/// Decodes the receipt at `position` of a block's receipts record, reading only its
/// [`RECEIPT_BYTES`]. The record's length must be a whole number of receipts and cover
/// `position`.
pub(crate) fn decode_receipt_at(bytes: &[u8], position: u32) -> Result<Receipt, DecodeError> {
    if !bytes.len().is_multiple_of(RECEIPT_BYTES) {
        return Err(DecodeError::Invalid {
            what: "block receipts",
            reason: "length is not a whole number of receipts",
        });
    }
    let start = usize::try_from(position)
        .ok()
        .and_then(|position| position.checked_mul(RECEIPT_BYTES));
    let slice = start
        .and_then(|start| bytes.get(start..start.checked_add(RECEIPT_BYTES)?))
        .ok_or(DecodeError::Invalid {
            what: "block receipts",
            reason: "fewer receipts than the transaction's position needs",
        })?;
    Receipt::decode(slice)
}

/// Leaves that chunk `chunk` holds in a log of `log_size` leaves: `min(16, log_size - 16c)`, 0
/// for a chunk at or beyond the log's end.
pub(crate) fn chunk_leaves(chunk: u64, log_size: u64) -> u64 {
    chunk
        .checked_mul(LOG_CHUNK_LEAVES)
        .map_or(0, |first| log_size.saturating_sub(first))
        .min(LOG_CHUNK_LEAVES)
}

/// The root of the perfect subtree of `2^level` leaves (`level < LOG_CHUNK_LEVEL`) at `offset`
/// in a chunk record of a log of `log_size` leaves. The record must hold exactly
/// [`chunk_leaves`] leaves of 32 bytes, and the subtree must lie within them.
pub(crate) fn chunk_subtree(
    bytes: &[u8],
    chunk: u64,
    log_size: u64,
    level: u8,
    offset: u64,
) -> Result<Hash, DecodeError> {
    if !bytes.len().is_multiple_of(LEAF_BYTES) {
        return Err(DecodeError::Invalid {
            what: "log leaves",
            reason: "length is not a whole number of 32-byte leaves",
        });
    }
    let held = u64::try_from(bytes.len() / LEAF_BYTES).unwrap_or(u64::MAX);
    if held != chunk_leaves(chunk, log_size) {
        return Err(DecodeError::Invalid {
            what: "log leaves",
            reason: "holds another number of leaves than the log's size implies",
        });
    }
    let outside = DecodeError::Invalid {
        what: "log leaves",
        reason: "the subtree is not within the chunk",
    };
    if level >= LOG_CHUNK_LEVEL {
        return Err(outside);
    }
    let width = 1u64 << level;
    let range = offset
        .checked_add(width)
        .filter(|end| *end <= held)
        .and_then(|end| {
            let start = usize::try_from(offset).ok()?.checked_mul(LEAF_BYTES)?;
            let end = usize::try_from(end).ok()?.checked_mul(LEAF_BYTES)?;
            bytes.get(start..end)
        })
        .ok_or(outside)?;
    // At most 8 leaves: fold them pairwise, level by level, in place.
    let mut nodes = [[0u8; 32]; 8];
    for (node, leaf) in nodes.iter_mut().zip(range.chunks_exact(LEAF_BYTES)) {
        node.copy_from_slice(leaf);
    }
    let mut count = usize::try_from(width).unwrap_or(1);
    while count > 1 {
        count /= 2;
        for i in 0..count {
            nodes[i] = node_hash(&nodes[2 * i], &nodes[2 * i + 1]);
        }
    }
    Ok(nodes[0])
}

/// What one block wrote to the state and the transaction index, as its [`Column::StateDiffs`]
/// record holds it until the writes reach those columns.
///
/// Encoding ([`encode_state_diff`]): a `u32` count of state changes, each a `u32`-length key
/// (at most [`MAX_STATE_KEY_BYTES`]) then a tag byte, 0 for a deletion or 1 followed by a
/// `u32`-length value (at most [`MAX_STATE_VALUE_BYTES`]); then a `u32` count (at most
/// [`MAX_BLOCK_TXS`]) of index entries, each a 32-byte transaction id and its `u32` position in
/// the block (the record's key gives the height). Integers big-endian; nothing may follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StateDiff {
    /// The state changes, in the order the block made them (a later change of a key wins).
    pub(crate) changes: Vec<StateChange>,
    /// The transactions the block is the first location of, and their positions.
    pub(crate) index: Vec<(TxId, u32)>,
}

/// The first state change (by position) that a [`StateDiff`] could not hold: a key or value
/// longer than the limits its decoding enforces.
pub(crate) fn oversized_change(changes: &[StateChange]) -> Option<DecodeError> {
    changes.iter().find_map(|change| {
        let key = change.key.len();
        let value = change.value.as_ref().map_or(0, Vec::len);
        let too_long = |what, len: usize, max: u32| DecodeError::TooLong {
            what,
            len: u64::try_from(len).unwrap_or(u64::MAX),
            max: u64::from(max),
        };
        if u64::try_from(key).map_or(true, |key| key > u64::from(MAX_STATE_KEY_BYTES)) {
            Some(too_long("state key", key, MAX_STATE_KEY_BYTES))
        } else if u64::try_from(value)
            .map_or(true, |value| value > u64::from(MAX_STATE_VALUE_BYTES))
        {
            Some(too_long("state value", value, MAX_STATE_VALUE_BYTES))
        } else {
            None
        }
    })
}

/// The [`StateDiff`] encoding of `changes` and `index` (which [`oversized_change`] and the
/// block's transaction count keep within the limits).
pub(crate) fn encode_state_diff(changes: &[StateChange], index: &[(TxId, u32)]) -> Vec<u8> {
    let bytes: usize = changes
        .iter()
        .map(|change| 9 + change.key.len() + change.value.as_ref().map_or(0, Vec::len))
        .sum();
    let mut out = Vec::with_capacity(8 + bytes + index.len() * 36);
    write::length(&mut out, changes.len());
    for change in changes {
        write::bytes(&mut out, &change.key);
        write::option(&mut out, change.value.as_ref(), |out, value| {
            write::bytes(out, value)
        });
    }
    write::length(&mut out, index.len());
    for (id, position) in index {
        out.extend_from_slice(id.as_bytes());
        write::u32(&mut out, *position);
    }
    out
}

/// Decodes a [`StateDiff`] record from bytes read from disk: every length within its limit,
/// no allocation beyond what the input holds, nothing trailing.
pub(crate) fn decode_state_diff(bytes: &[u8]) -> Result<StateDiff, DecodeError> {
    let mut reader = Reader::new(bytes);
    // Each change takes at least 5 bytes, each index entry 36: a count larger than the input
    // allows fails on reading, and the capacity reserved never exceeds the input.
    let count = reader.length("state changes", u32::MAX)?;
    let mut changes = Vec::with_capacity(count.min(reader.remaining() / 5));
    for _ in 0..count {
        let key = reader.byte_vec("state key", MAX_STATE_KEY_BYTES)?;
        let value = reader.option("state value", |reader| {
            reader.byte_vec("state value", MAX_STATE_VALUE_BYTES)
        })?;
        changes.push(StateChange { key, value });
    }
    let count = reader.length("index entries", MAX_BLOCK_TXS)?;
    let mut index = Vec::with_capacity(count.min(reader.remaining() / 36));
    for _ in 0..count {
        let id = Digest(reader.array("transaction id")?);
        let position = reader.u32("transaction position")?;
        index.push((id, position));
    }
    reader.finish()?;
    Ok(StateDiff { changes, index })
}

/// The smallest key above every key that starts with `prefix`, or `None` when there is none
/// (an empty prefix, or one of `0xff` bytes only).
pub(crate) fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if let Some(next) = last.checked_add(1) {
            end.push(next);
            return Some(end);
        }
    }
    None
}

/// Where a committed transaction is: its block's height and its position in that block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TxLocation {
    /// Height of the block that holds the transaction.
    pub height: u64,
    /// Position of the transaction in the block, from 0.
    pub position: u32,
}

impl TxLocation {
    /// Encoded size: `u64` height, `u32` position.
    pub const ENCODED_LEN: usize = 12;

    /// Decodes a location from untrusted bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode_exact(bytes, Self::ENCODED_LEN)
    }
}

impl Encode for TxLocation {
    fn encode_to(&self, out: &mut Vec<u8>) {
        write::u64(out, self.height);
        write::u32(out, self.position);
    }
}

impl Decode for TxLocation {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            height: reader.u64("tx location height")?,
            position: reader.u32("tx location position")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names_are_distinct_and_stable() {
        let names: Vec<&str> = Column::ALL.iter().map(|column| column.name()).collect();
        assert_eq!(
            names,
            [
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
                "meta"
            ]
        );
    }

    #[test]
    fn state_diff_encoding_is_the_documented_one() {
        let changes = [StateChange::set("k", "vv"), StateChange::delete("gone")];
        let index = [(Digest([7; 32]), 3)];
        let bytes = encode_state_diff(&changes, &index);
        let mut expected = vec![0, 0, 0, 2];
        expected.extend_from_slice(&[0, 0, 0, 1, b'k', 1, 0, 0, 0, 2, b'v', b'v']);
        expected.extend_from_slice(&[0, 0, 0, 4, b'g', b'o', b'n', b'e', 0]);
        expected.extend_from_slice(&[0, 0, 0, 1]);
        expected.extend_from_slice(&[7; 32]);
        expected.extend_from_slice(&[0, 0, 0, 3]);
        assert_eq!(bytes, expected);
        assert_eq!(
            decode_state_diff(&bytes).unwrap(),
            StateDiff {
                changes: changes.to_vec(),
                index: index.to_vec(),
            }
        );
        assert_eq!(encode_state_diff(&[], &[]), [0; 8]);
    }

    #[test]
    fn state_diff_decoding_is_bounded_and_exact() {
        let bytes = encode_state_diff(&[StateChange::set("k", "v")], &[]);
        // Trailing bytes, every truncation, a bad tag, and counts past the input all fail.
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(decode_state_diff(&trailing).is_err());
        for end in 0..bytes.len() {
            assert!(
                decode_state_diff(&bytes[..end]).is_err(),
                "truncated at {end}"
            );
        }
        let mut tag = bytes.clone();
        tag[9] = 2;
        assert!(matches!(
            decode_state_diff(&tag),
            Err(DecodeError::InvalidTag { .. })
        ));
        assert!(decode_state_diff(&[0xff; 4]).is_err());
        let mut many = vec![0, 0, 0, 0];
        many.extend_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(
            decode_state_diff(&many),
            Err(DecodeError::TooLong { .. })
        ));
        // A key longer than the limit is refused on reading, and flagged before writing.
        let long = StateChange::set(vec![b'k'; 257], "v");
        let long_bytes = encode_state_diff(std::slice::from_ref(&long), &[]);
        assert!(matches!(
            decode_state_diff(&long_bytes),
            Err(DecodeError::TooLong { .. })
        ));
        assert!(oversized_change(&[StateChange::set("k", "v"), long]).is_some());
        assert!(oversized_change(&[StateChange::set(vec![b'k'; 256], "v")]).is_none());
        let big = StateChange::set(
            "k",
            vec![0; usize::try_from(MAX_STATE_VALUE_BYTES).unwrap() + 1],
        );
        assert!(oversized_change(&[big]).is_some());
    }

    #[test]
    fn height_keys_sort_in_height_order() {
        let heights = [0u64, 1, 2, 255, 256, 65_536, u64::MAX];
        for pair in heights.windows(2) {
            assert!(height_key(pair[0]) < height_key(pair[1]));
        }
        assert_eq!(height_key(258), [0, 0, 0, 0, 0, 0, 1, 2]);
    }

    fn receipt(height: u64, index: u32) -> Receipt {
        Receipt {
            tx_id: courtledger_crypto::sha256(&index.to_be_bytes()),
            index,
            height,
            code: u16::try_from(index % 3).unwrap(),
        }
    }

    #[test]
    fn block_receipts_are_concatenated_encodings() {
        let receipts: Vec<Receipt> = (0..5).map(|index| receipt(9, index)).collect();
        let bytes = encode_receipts(&receipts);
        assert_eq!(bytes.len(), 5 * RECEIPT_BYTES);
        assert_eq!(
            &bytes[RECEIPT_BYTES..2 * RECEIPT_BYTES],
            receipts[1].to_bytes()
        );
        assert_eq!(decode_receipts(&bytes, 5), Ok(receipts.clone()));
        for (position, receipt) in receipts.iter().enumerate() {
            let position = u32::try_from(position).unwrap();
            assert_eq!(decode_receipt_at(&bytes, position), Ok(*receipt));
        }
        assert_eq!(encode_receipts(&[]), Vec::<u8>::new());
        assert_eq!(decode_receipts(&[], 0), Ok(vec![]));

        // Any other length than the count's is refused, as is a position beyond the record.
        fn invalid<T>(error: Result<T, DecodeError>) -> bool {
            matches!(
                error,
                Err(DecodeError::Invalid {
                    what: "block receipts",
                    ..
                })
            )
        }
        for count in [0, 4, 6, u32::MAX] {
            assert!(invalid(decode_receipts(&bytes, count)), "count {count}");
        }
        assert!(invalid(decode_receipts(&bytes[..bytes.len() - 1], 5)));
        let mut long = bytes.clone();
        long.push(0);
        assert!(invalid(decode_receipts(&long, 5)));
        assert!(invalid(decode_receipt_at(&long, 0)));
        assert!(invalid(decode_receipt_at(
            &bytes[..RECEIPT_BYTES * 2 - 1],
            0
        )));
        assert!(invalid(decode_receipt_at(&bytes, 5)));
        assert!(invalid(decode_receipt_at(&bytes, u32::MAX)));
        assert!(invalid(decode_receipt_at(&[], 0)));
    }

    #[test]
    fn chunk_keys_and_sizes() {
        assert_eq!(hex::encode(chunk_key(0x0102)), "0000000000000102");
        assert_eq!(LOG_CHUNK_LEAVES, 16);
        assert_eq!(LOG_CHUNK_BYTES, 512);
        assert_eq!(chunk_leaves(0, 0), 0);
        assert_eq!(chunk_leaves(0, 5), 5);
        assert_eq!(chunk_leaves(0, 16), 16);
        assert_eq!(chunk_leaves(0, 40), 16);
        assert_eq!(chunk_leaves(2, 40), 8);
        assert_eq!(chunk_leaves(3, 40), 0);
        assert_eq!(chunk_leaves(u64::MAX, u64::MAX), 0);
        assert_eq!(chunk_leaves(u64::MAX / 16, u64::MAX), 15);
    }

    #[test]
    fn chunk_subtrees_fold_the_leaves() {
        let leaves: Vec<Hash> = (0u8..16)
            .map(|n| courtledger_merkle::leaf_hash(&[n]))
            .collect();
        let bytes: Vec<u8> = leaves.concat();
        for level in 0..LOG_CHUNK_LEVEL {
            let width = 1usize << level;
            for index in 0..16 / width {
                let offset = u64::try_from(index * width).unwrap();
                assert_eq!(
                    chunk_subtree(&bytes, 1, 40, level, offset),
                    Ok(courtledger_merkle::root(&leaves[index * width..][..width])),
                    "level {level} index {index}"
                );
            }
        }
        // A partial chunk: 5 leaves of a log of 21.
        let partial = &bytes[..5 * LEAF_BYTES];
        assert_eq!(
            chunk_subtree(partial, 1, 21, 2, 0),
            Ok(courtledger_merkle::root(&leaves[..4]))
        );
        assert_eq!(chunk_subtree(partial, 1, 21, 0, 4), Ok(leaves[4]));

        let invalid = |error: Result<Hash, DecodeError>, reason: &str| match error {
            Err(DecodeError::Invalid {
                what: "log leaves",
                reason: found,
            }) => found == reason,
            _ => false,
        };
        let shape = "length is not a whole number of 32-byte leaves";
        let count = "holds another number of leaves than the log's size implies";
        let outside = "the subtree is not within the chunk";
        assert!(invalid(chunk_subtree(&bytes[..31], 0, 1, 0, 0), shape));
        assert!(invalid(chunk_subtree(&bytes[..33], 0, 2, 0, 0), shape));
        // Shorter or longer than the log's size says.
        assert!(invalid(chunk_subtree(partial, 1, 22, 0, 0), count));
        assert!(invalid(chunk_subtree(partial, 1, 20, 0, 0), count));
        assert!(invalid(chunk_subtree(&bytes, 3, 40, 0, 0), count));
        assert!(invalid(
            chunk_subtree(&[bytes.clone(), bytes.clone()].concat(), 1, 64, 0, 0),
            count
        ));
        assert!(invalid(chunk_subtree(&[], 0, 0, 0, 0), outside));
        // Subtrees beyond the leaves held, or not below the chunk's level.
        assert!(invalid(chunk_subtree(partial, 1, 21, 3, 0), outside));
        assert!(invalid(chunk_subtree(partial, 1, 21, 0, 5), outside));
        assert!(invalid(chunk_subtree(&bytes, 1, 40, 4, 0), outside));
        assert!(invalid(chunk_subtree(&bytes, 1, 40, 0, u64::MAX), outside));
    }

    #[test]
    fn log_keys_sort_by_level_then_index() {
        assert_eq!(hex::encode(log_key(3, 0x0102)), "030000000000000102");
        let keys = [
            log_key(0, 0),
            log_key(0, 1),
            log_key(0, u64::MAX),
            log_key(1, 0),
            log_key(63, 0),
        ];
        for pair in keys.windows(2) {
            assert!(pair[0] < pair[1]);
        }
    }

    #[test]
    fn prefix_ends() {
        assert_eq!(prefix_end(b""), None);
        assert_eq!(prefix_end(b"case/"), Some(b"case0".to_vec()));
        assert_eq!(prefix_end(&[1, 0xff, 0xff]), Some(vec![2]));
        assert_eq!(prefix_end(&[0xff, 0xff]), None);
    }

    #[test]
    fn tx_location_layout_and_bounds() {
        let location = TxLocation {
            height: 0x0102,
            position: 7,
        };
        let bytes = location.to_bytes();
        assert_eq!(hex::encode(&bytes), "000000000000010200000007");
        assert_eq!(TxLocation::decode(&bytes), Ok(location));
        assert!(TxLocation::decode(&bytes[..11]).is_err());
        let mut long = bytes.clone();
        long.push(0);
        assert!(matches!(
            TxLocation::decode(&long),
            Err(DecodeError::InputTooLarge { .. })
        ));
    }
}
