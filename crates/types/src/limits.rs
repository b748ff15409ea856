//! Every bound in one place.
//!
//! Decoders take their bounds from here; genesis parameters are checked against them; the node's
//! queues and message sizes derive from them. Changing a value here is a protocol change when it
//! narrows what was accepted before.

/// Largest encoded [`crate::SignedTransaction`], in bytes.
pub const MAX_TX_BYTES: u32 = 64 * 1024;
/// Largest act payload inside a transaction, in bytes (the envelope takes the rest).
pub const MAX_TX_PAYLOAD_BYTES: u32 = MAX_TX_BYTES - 256;
/// Smallest `max_block_bytes` genesis may set: room for the largest transaction, the header and
/// the framing, so that no valid transaction can be too large for every block.
pub const MIN_BLOCK_BYTES: u32 = MAX_TX_BYTES + 1024;
/// Longest key of the application state, in bytes.
pub const MAX_STATE_KEY_BYTES: u32 = 256;
/// Largest value of the application state, in bytes.
pub const MAX_STATE_VALUE_BYTES: u32 = MAX_TX_BYTES;
/// How far ahead of a signer's next nonce the mempool holds transactions (waiting for the
/// missing ones to arrive).
pub const MAX_NONCE_LOOKAHEAD: u64 = 4096;
/// A mempool holds at most one transaction in this many that waits for a missing earlier nonce
/// of its signer (a quarter): the rest of the pool is kept for transactions that can go into the
/// next block, so that transactions whose predecessors never come cannot fill the pool and
/// shut out everyone else.
pub const MEMPOOL_WAITING_SHARE: usize = 4;
/// Most transactions one block may hold, whatever genesis says.
pub const MAX_BLOCK_TXS: u32 = 50_000;
/// Largest encoded block, in bytes, whatever genesis says.
pub const MAX_BLOCK_BYTES: u32 = 32 * 1024 * 1024;
/// Largest encoded block header, in bytes.
pub const MAX_HEADER_BYTES: u32 = 1024;
/// Most validators in a set.
pub const MAX_VALIDATORS: u32 = 128;
/// Largest total voting power; keeps `3 * power` far from overflow.
pub const MAX_TOTAL_VOTING_POWER: u64 = 1 << 48;
/// Most validator-set changes a chain activates over its life (each is a link that proofs and
/// audits follow from genesis).
pub const MAX_SET_CHANGES: u32 = 10_000;
/// Furthest ahead of the block that records it a validator-set change may activate, in blocks.
pub const MAX_SET_CHANGE_DELAY: u64 = 100_000;
/// Largest encoded commit certificate, in bytes.
pub const MAX_CERTIFICATE_BYTES: u32 = 64 + MAX_VALIDATORS * (2 + 64) + 16;
/// Largest encoded vote, in bytes.
pub const MAX_VOTE_BYTES: u32 = 256;
/// Most courts in genesis.
pub const MAX_GENESIS_COURTS: u32 = 10_000;
/// Most registrar keys in genesis.
pub const MAX_GENESIS_REGISTRARS: u32 = 1_000;
/// Largest genesis file, in bytes (JSON and canonical encoding alike).
pub const MAX_GENESIS_BYTES: usize = 4 * 1024 * 1024;
/// Longest chain name, in bytes.
pub const MAX_CHAIN_NAME_BYTES: u32 = 64;
/// Longest court code, in bytes (UTF-8, e.g. `京0105`).
pub const MAX_COURT_CODE_BYTES: u32 = 32;
/// Longest human name (of a court, a registrar), in bytes.
pub const MAX_NAME_BYTES: u32 = 256;
/// Longest network address string (`host:port`), in bytes.
pub const MAX_ADDRESS_BYTES: u32 = 256;
/// Bounds on consensus timeouts set in genesis, in milliseconds.
pub const MIN_TIMEOUT_MS: u64 = 1;
/// See [`MIN_TIMEOUT_MS`].
pub const MAX_TIMEOUT_MS: u64 = 60_000;
/// Largest allowed clock drift between a proposer's block time and a validator's clock.
pub const MAX_CLOCK_DRIFT_MS: u64 = 60_000;

// Storage (`courtledger_storage`).

/// A store keeps the state writes of the blocks it has appended in memory, each block's also in
/// one record of its own, and moves them into its state and transaction index columns in one
/// sorted batch once their records reach this many bytes: the memory they hold and the work of
/// replaying them on opening are bounded by it.
pub const STATE_PENDING_MAX_BYTES: usize = 8 * 1024 * 1024;
/// ... or once this many blocks have been appended since the last such batch, whichever comes
/// first, so that a quiet chain's records do not wait for ever.
pub const STATE_PENDING_MAX_BLOCKS: u64 = 256;

// The judicial ledger's acts and records (`courtledger_ledger`).

/// Longest free text in an act (a rejection or revocation reason, a hearing location), in bytes.
pub const MAX_ACT_TEXT_BYTES: u32 = 1024;
/// Longest media type of an evidence file (`application/pdf`), in bytes.
pub const MAX_MEDIA_TYPE_BYTES: u32 = 128;
/// Longest title of an evidence file, in bytes.
pub const MAX_TITLE_BYTES: u32 = 512;
/// Most parties named on one side (plaintiffs, defendants) of a filing.
pub const MAX_PARTIES_PER_SIDE: u32 = 32;
/// Most attachments (hashes of ID documents, evidence) in a filing.
pub const MAX_FILING_ATTACHMENTS: u32 = 64;
/// Most members (parties, agents, judges, clerks, mediators) a case holds at once.
pub const MAX_CASE_MEMBERS: u32 = 128;
/// Most people who must sign one transcript or mediation agreement.
pub const MAX_REQUIRED_SIGNERS: u32 = 64;
/// Most committed acts on one case's timeline.
pub const MAX_CASE_EVENTS: u32 = 1_000_000;
/// Longest case number (`(2026)京0105民初123号`), in bytes.
pub const MAX_CASE_NUMBER_BYTES: u32 = 96;
/// Largest encoded ledger record in state, in bytes.
pub const MAX_RECORD_BYTES: u32 = MAX_STATE_VALUE_BYTES;
/// Most state writes one act makes: a filing writes its case, its timeline entry, the court and
/// review indexes and one index entry per registered party and agent.
pub const MAX_ACT_WRITES: u32 = 2 * MAX_PARTIES_PER_SIDE + 16;
/// Most state writes genesis makes in block 1: a record per court, three per registrar.
pub const MAX_GENESIS_WRITES: u32 = MAX_GENESIS_COURTS + 3 * MAX_GENESIS_REGISTRARS;

// Proof bundles (`courtledger_proof`, `docs/proof-format.md`).

/// Most hashes in an inclusion proof inside a proof bundle. A block's transaction and receipt
/// trees have at most [`MAX_BLOCK_TXS`] leaves, and an RFC 9162 inclusion path in a tree of `n`
/// leaves has at most `ceil(log2 n)` = `bit_length(n - 1)` hashes: 16.
pub const MAX_PROOF_PATH_LEN: u32 = u32::BITS - (MAX_BLOCK_TXS - 1).leading_zeros();
/// Largest encoded inclusion proof inside a proof bundle: `u64` leaf index, `u64` tree size,
/// `u32` path count and at most [`MAX_PROOF_PATH_LEN`] hashes of 32 bytes.
pub const MAX_PROOF_INCLUSION_BYTES: u32 = 8 + 8 + 4 + 32 * MAX_PROOF_PATH_LEN;
/// Largest proof bundle, in bytes: magic (7) and version (2), the signed transaction, the
/// receipt (46), two inclusion proofs, the header and the commit certificate, each at its
/// largest.
pub const MAX_PROOF_BUNDLE_BYTES: u32 = 7
    + 2
    + MAX_TX_BYTES
    + 46
    + 2 * MAX_PROOF_INCLUSION_BYTES
    + MAX_HEADER_BYTES
    + MAX_CERTIFICATE_BYTES;
/// Most hashes in the history log inclusion path of a proof bundle's checkpoint (version 2):
/// the log's size is a `u64`, and an RFC 9162 inclusion path in a tree of `n` leaves has at most
/// `bit_length(n - 1)` hashes: 64 ([`courtledger_merkle::MAX_PATH_LEN`]).
pub const MAX_PROOF_LOG_PATH_LEN: u32 = courtledger_merkle::MAX_PATH_LEN;
/// Largest encoded log inclusion proof in a checkpoint: `u64` leaf index, `u64` tree size,
/// `u32` path count and at most [`MAX_PROOF_LOG_PATH_LEN`] hashes of 32 bytes (2,068 bytes).
pub const MAX_PROOF_LOG_INCLUSION_BYTES: u32 = 8 + 8 + 4 + 32 * MAX_PROOF_LOG_PATH_LEN;
/// Largest version 2 proof bundle (one with a checkpoint), in bytes: a version 1 bundle at its
/// largest ([`MAX_PROOF_BUNDLE_BYTES`], 76,207; its version field takes the same two bytes), the
/// checkpoint's option tag (1), and the checkpoint's header ([`MAX_HEADER_BYTES`], 1,024),
/// commit certificate ([`MAX_CERTIFICATE_BYTES`], 8,528) and log inclusion proof
/// ([`MAX_PROOF_LOG_INCLUSION_BYTES`], 2,068), each at its largest:
/// 76,207 + 1 + 1,024 + 8,528 + 2,068 = 87,828.
pub const MAX_PROOF_BUNDLE_V2_BYTES: u32 = MAX_PROOF_BUNDLE_BYTES
    + 1
    + MAX_HEADER_BYTES
    + MAX_CERTIFICATE_BYTES
    + MAX_PROOF_LOG_INCLUSION_BYTES;

/// Most validator-set links a proof bundle or checkpoint file carries (version 3 bundles,
/// version 2 checkpoint files): the chain of set changes from the genesis set to the set that
/// signed the proven block, one link per change. Below [`MAX_SET_CHANGES`], so that a bundle
/// stays small enough to read whole (about 15.6 MB at most); a node refuses to assemble a
/// bundle that would need more.
pub const MAX_PROOF_SET_LINKS: u32 = 256;

const _: () = assert!(MAX_PROOF_BUNDLE_BYTES == 76_207);
const _: () = assert!(MAX_PROOF_BUNDLE_V2_BYTES == 87_828);
