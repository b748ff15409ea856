//! The on-disk layout: column families, keys and the values that are not chain types.
//!
//! Described for operators and auditors in the crate's README; keep the two in step.

use courtledger_codec::{decode_exact, write, Decode, DecodeError, Encode, Reader};

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
pub const SCHEMA_VERSION: u32 = 3;

/// Most entries one [`crate::Store::state_scan`] returns, whatever limit is asked for.
pub const MAX_STATE_SCAN: usize = 1000;

/// `meta` key of the schema version (`u32`, big-endian).
pub(crate) const SCHEMA_VERSION_KEY: &[u8] = b"schema_version";
/// `meta` key of the chain id (32 bytes).
pub(crate) const CHAIN_ID_KEY: &[u8] = b"chain_id";
/// `meta` key of the last stored height (`u64`, big-endian; 0 before the first block).
pub(crate) const LAST_HEIGHT_KEY: &[u8] = b"last_height";

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
    /// height and position ([`receipt_key`]) → canonical `Receipt`.
    Receipts,
    /// block id → height (`u64`).
    BlockIndex,
    /// level and index of a perfect subtree of the history log ([`log_key`]) → its root (32
    /// bytes).
    Log,
    /// application key → application value, as the ledger wrote them.
    State,
    /// consensus key → consensus value, as the consensus engine wrote them.
    Consensus,
    /// schema version, chain id, last height.
    Meta,
}

impl Column {
    /// Every column, in a fixed order.
    pub(crate) const ALL: [Column; 10] = [
        Column::Blocks,
        Column::Headers,
        Column::Certificates,
        Column::TxIndex,
        Column::Receipts,
        Column::BlockIndex,
        Column::Log,
        Column::State,
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
            Column::State => "state",
            Column::Consensus => "consensus",
            Column::Meta => "meta",
        }
    }
}

/// The key of a height: `u64` big-endian, so that keys sort in height order.
pub(crate) fn height_key(height: u64) -> [u8; 8] {
    height.to_be_bytes()
}

/// The key of a receipt: the block's height (`u64`) and the transaction's position in it
/// (`u32`), big-endian, so that a block's receipts are contiguous and in order.
pub(crate) fn receipt_key(height: u64, position: u32) -> [u8; 12] {
    let mut key = [0u8; 12];
    let (high, low) = key.split_at_mut(8);
    high.copy_from_slice(&height.to_be_bytes());
    low.copy_from_slice(&position.to_be_bytes());
    key
}

/// The key of a perfect subtree of the history log: its level (`u8`) and its index at that
/// level (`u64`), big-endian, so that a level's subtrees are contiguous and in log order.
pub(crate) fn log_key(level: u8, index: u64) -> [u8; 9] {
    let mut key = [0u8; 9];
    key[0] = level;
    key[1..].copy_from_slice(&index.to_be_bytes());
    key
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
                "state",
                "consensus",
                "meta"
            ]
        );
    }

    #[test]
    fn height_keys_sort_in_height_order() {
        let heights = [0u64, 1, 2, 255, 256, 65_536, u64::MAX];
        for pair in heights.windows(2) {
            assert!(height_key(pair[0]) < height_key(pair[1]));
        }
        assert_eq!(height_key(258), [0, 0, 0, 0, 0, 0, 1, 2]);
    }

    #[test]
    fn receipt_keys_sort_by_height_then_position() {
        assert_eq!(
            hex::encode(receipt_key(0x0102, 7)),
            "000000000000010200000007"
        );
        let keys = [
            receipt_key(1, 0),
            receipt_key(1, 1),
            receipt_key(1, u32::MAX),
            receipt_key(2, 0),
        ];
        for pair in keys.windows(2) {
            assert!(pair[0] < pair[1]);
        }
        // A height's receipts lie in [height_key(h), height_key(h + 1)).
        assert!(receipt_key(1, u32::MAX).as_slice() < height_key(2).as_slice());
        assert!(receipt_key(2, 0).as_slice() >= height_key(2).as_slice());
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
