//! Tendermint consensus for courtledger.
//!
//! We do not invent a BFT protocol: the state machine is malachite's formally specified
//! Tendermint core (`arc-malachitebft-core-consensus`, pinned to 0.8.2), driven by our own pure
//! host, [`Consensus`], with one entry point: [`Consensus::handle`]`(now, input) -> actions`.
//!
//! - [`context`]: our `Context` for the core: heights, validators from genesis, the block id as
//!   the consensus value, proposals and votes signed with our domain tags and chain id.
//! - [`engine`]: the machine, its inputs and actions, and the caller's persistence contract.
//! - [`messages`]: wire messages and write-ahead log entries with canonical encodings.
//! - [`evidence`]: equivocation evidence that anyone can check.
//! - [`proposer`]: deterministic weighted round-robin proposer selection.
//!
//! Nothing here does IO, reads a clock or draws randomness: time comes in with each input.

mod certificates;
pub mod context;
pub mod engine;
pub mod evidence;
pub mod messages;
pub mod proposer;

pub use context::{Proposal, SignedProposal};
pub use engine::{Action, Consensus, ConsensusConfig, ConsensusError, Input, TimeoutParams};
pub use evidence::Evidence;
pub use messages::{ConsensusMessage, ProposedBlock, TimeoutId, TimeoutStep, WalEntry};
