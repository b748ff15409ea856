//! The chain's pure logic: state access, execution, block building and validation, mempool.
//!
//! The node wires this crate to storage (through [`StateRead`]), the network and consensus. It
//! does no IO, reads no clock (time comes in as `now_ms`) and uses no randomness. Everything
//! below is consensus-critical: validators that disagree on any of it fork.
//!
//! # Transactions and the application
//!
//! What a payload means belongs to an [`Application`]: in production the judicial ledger
//! ([`LedgerApp`], crate `courtledger_ledger`), in this crate's own tests [`AnchorApp`] (any key
//! records any non-empty payload). A transaction is valid on a state ([`check_tx`]) when
//!
//! 1. its payload has at most [`MAX_TX_PAYLOAD_BYTES`](courtledger_types::limits::MAX_TX_PAYLOAD_BYTES)
//!    bytes ([`TxReject::PayloadTooLarge`]) and its encoding at most
//!    [`MAX_TX_BYTES`](courtledger_types::limits::MAX_TX_BYTES) ([`TxReject::TooLarge`]);
//! 2. the signer's records in state are well-formed ([`TxReject::CorruptState`]: never the
//!    transaction's fault, but no node can execute it on such a state);
//! 3. its nonce is exactly the signer's next one: 1 for its first transaction, then one more
//!    than its highest committed nonce ([`TxReject::StaleNonce`] below it,
//!    [`TxReject::NonceGap`] above it);
//! 4. the signer's counter is below `u64::MAX` ([`TxReject::CounterOverflow`]);
//! 5. a payload starting with byte `0xC0` is a validator-set change, which the chain admits
//!    itself ([`validators`], [`TxReject::SetChange`]); any other payload the application admits
//!    ([`Application::admit`], [`TxReject::Act`]): for the ledger,
//!    the payload is a well-formed act and the key is the current key of a registered,
//!    unrevoked identity;
//!
//! and its signature verifies (checked separately, see [`validate_block`]). Rule 3 is the replay
//! protection: a committed transaction can never be committed again, and a signer's
//! transactions commit in ascending nonce order.
//!
//! Executing a valid transaction runs its act ([`Application::execute`]), which either applies
//! (its writes go to state) or fails with a receipt code and writes nothing; either way the
//! transaction is committed, the signer's counter becomes its old value (0 if absent) plus one,
//! the signer's highest nonce becomes the transaction's nonce, and the transaction id is
//! appended to the history log. Block 1 first writes the application's genesis state
//! ([`Application::genesis_writes`]: for the ledger, the genesis courts and registrars).
//!
//! # State keys
//!
//! State is a map from byte keys to byte values. Every key starts with `v1/`, the version of the
//! layout (see [`keys`]):
//!
//! | key | value |
//! |---|---|
//! | `v1/signer-count/` ‖ signer public key (32 bytes) | `u64` big-endian: the signer's committed transactions |
//! | `v1/signer-nonce/` ‖ signer public key (32 bytes) | `u64` big-endian: the signer's highest committed nonce |
//! | `v1/log/frontier` | the history log's [`Frontier`](courtledger_merkle::Frontier) encoding |
//! | `v1/validators/…` | validator-set changes: pending and activated ([`validators`]) |
//!
//! The application's keys (`courtledger_ledger::keys`, documented in `docs/ledger.md`) share
//! the map and the `v1/` prefix, under names that never collide with these.
//!
//! The two signer keys are always written together: a signer has both (count ≥ 1) or neither.
//! Anything else, or a value of the wrong length, is [`StateError`] (a damaged database), as is
//! an application record that does not decode.
//!
//! # Executing a block
//!
//! [`execute_block`] runs the block's transactions in order over an [`Overlay`] of the committed
//! state, so each sees the writes of those before it. Every transaction must be valid at its
//! turn; the first invalid one makes the block invalid ([`ExecError::InvalidTx`] names its index).
//! After the last transaction the log frontier is written, in every block, even an empty one.
//!
//! The block's **change set** is one [`StateChange`] per key written, with the key's last
//! written value (or `None` for a deletion), sorted by key bytes (unsigned lexicographic order);
//! a write counts even if it leaves the value unchanged. Committing a block applies its change
//! set to the state.
//!
//! # History log
//!
//! Every committed transaction id, in commit order (block by block, in block order), is a leaf
//! of one RFC 9162 Merkle tree with leaf hash `SHA-256(0x00 ‖ tx id)`, the same leaf as a block's
//! `tx_root` ([`courtledger_types::block::tx_root`]). The state keeps only its frontier
//! (`v1/log/frontier`). A header's `log_size` is the number of transactions committed up to and
//! including the block; its `log_root` the tree's root over them.
//!
//! # Receipts and the results root
//!
//! Each executed transaction gets a [`Receipt`] `{ tx_id, index, height, code }`: its id, its
//! 0-based position in the block, the block height and the act's outcome (0 for success, else
//! the application's code: `courtledger_ledger::Code`),
//! encoded as `[32] tx id, u32 index, u64 height, u16 code` (46 bytes, big-endian). A header's `results_root` is the RFC 9162 root over
//! `SHA-256(0x00 ‖ encode(receipt))` for the block's receipts in order (`SHA-256("")` for none).
//!
//! # State root
//!
//! A hash chain over change sets, with SHA-256 and one-byte-length-prefixed tags as elsewhere:
//!
//! - before block 1: `genesis_state_root(chain_id) =
//!   SHA-256(u8 len ‖ "courtledger/v1/genesis-state-root" ‖ chain id)` ([`genesis_state_root`]);
//! - after a block: `state_root(prev, changes) =
//!   SHA-256(u8 len ‖ "courtledger/v1/state-root" ‖ prev ‖ encode(seq<StateChange>))`
//!   ([`state_root`]), where `StateChange = bytes key, option<bytes value>` in the canonical
//!   encoding (`u32` lengths and count, option tag `0x00`/`0x01`).
//!
//! It commits to every write ever made, so validators agree on it exactly when they agree on the
//! whole history of state; it does not allow proofs of single values.
//!
//! # Blocks
//!
//! [`build_block`] makes a valid block from candidate transactions; [`validate_block`] checks a
//! received one (the order of its checks and the [`BlockError`] of each are in its doc). A
//! header's fields: version 1, the chain id, height = parent height + 1, time after the parent's
//! (the genesis time for block 1) and at most `max_clock_drift_ms` ahead of the validator's
//! clock, parent id (the chain id's digest for block 1), a proposer from the validator set,
//! `tx_count`, `tx_root`, `results_root`, `log_size`, `log_root`, `state_root` as above, and
//! `validators_hash` (the set in force, which signs the block) and `next_validators_hash` (the set
//! that signs the next block: see [`validators`] and `docs/validator-sets.md`). Limits: at most `min(max_block_txs, MAX_BLOCK_TXS)` transactions and
//! `min(max_block_bytes, MAX_BLOCK_BYTES)` bytes of block encoding.
//!
//! # Mempool
//!
//! [`Mempool`] holds signature-checked transactions, bounded in count and bytes, at most one per
//! signer and nonce, and selects them for blocks in arrival order with each signer's nonces
//! ascending. It also holds a signer's transactions whose nonce is ahead of the next one, up to
//! [`MAX_NONCE_LOOKAHEAD`](courtledger_types::limits::MAX_NONCE_LOOKAHEAD) ahead
//! ([`check_pending_tx`]): a nonce that overtook an earlier one on the network waits for it
//! instead of being lost, and commits once the one before it has.

pub mod app;
pub mod block;
pub mod exec;
pub mod keys;
pub mod limits;
pub mod mempool;
pub mod state;
pub mod validators;

pub use app::{AnchorApp, AppOutcome, Application, Env, LedgerApp};
pub use block::{
    build_block, encoded_block_len, try_build_block, validate_block, BlockError, ChainContext,
    Parent,
};
pub use courtledger_types::Receipt;
pub use exec::{
    check_pending_tx, check_tx, check_tx_stateless, encoded_tx_len, execute_block, log_frontier,
    results_root, ExecError, Execution, Rules, SignerState, TxReject,
};
pub use mempool::{Mempool, MempoolError, MempoolLimits};
pub use state::{
    decode_changes, encode_changes, genesis_state_root, state_root, MemoryState, Overlay,
    StateChange, StateError, StateRead, GENESIS_STATE_ROOT_TAG, STATE_ROOT_TAG,
};
pub use validators::{
    activated_change, activated_changes, set_at_height, SetChangeReject, SetState,
};
