//! Encoded sizes that follow from the layouts, and the bound on state changes that follows from
//! the execution rules. Every chosen bound lives in `courtledger_types::limits`.

/// Encoded length of a [`courtledger_types::BlockHeader`], which has no variable-length field.
pub const HEADER_BYTES: usize = 2 + 32 + 8 + 8 + 32 + 32 + 4 + 32 + 32 + 8 + 32 + 32 + 32 + 32;

/// Bytes a block's encoding takes besides its transactions: the header and the `u32` count.
pub const BLOCK_OVERHEAD_BYTES: usize = HEADER_BYTES + 4;

/// Bytes a signed transaction's encoding takes besides its payload: signer key, nonce, payload
/// length prefix, signature.
pub const TX_OVERHEAD_BYTES: usize = 32 + 8 + 4 + 64;

/// Largest encoded log frontier: size, node count, at most 64 nodes.
pub const MAX_FRONTIER_BYTES: usize = 8 + 4 + 64 * 32;

pub use courtledger_types::limits::{MAX_STATE_KEY_BYTES, MAX_STATE_VALUE_BYTES};

/// Most state changes one block can make under the current execution rules: per transaction
/// the signer's two keys and the act's writes, the log frontier, and in block 1 genesis.
pub const MAX_BLOCK_STATE_CHANGES: u32 = courtledger_types::limits::MAX_BLOCK_TXS
    * (2 + courtledger_types::limits::MAX_ACT_WRITES)
    + 1
    + courtledger_types::limits::MAX_GENESIS_WRITES;
