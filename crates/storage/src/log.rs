//! Proofs over the stored history log: a read view of a [`Store`] as a
//! [`courtledger_merkle::SubtreeSource`].

use std::cell::RefCell;
use std::fmt;

use courtledger_merkle::{
    self as merkle, ConsistencyProof, Hash, InclusionProof, LogProofError, SubtreeSource,
};

use crate::error::{Corruption, LogError, StorageError};
use crate::layout::{log_key, Column};
use crate::Store;

/// The history log of a [`Store`], read for proofs: every committed transaction id is leaf
/// `leaf_hash(id)` of one append-only RFC 9162 log, and each header carries its `log_size` and
/// `log_root`. Proofs for any size up to [`Store::log_size`] take `O(log n)` reads
/// ([`courtledger_merkle::prove_inclusion`], [`courtledger_merkle::prove_consistency`]).
///
/// Hold it (and the store borrow) only for the proofs at hand: it records the first read error
/// of a lookup, which the proof methods then return.
pub struct LogView<'a> {
    store: &'a dyn Store,
    failure: RefCell<Option<StorageError>>,
}

impl fmt::Debug for LogView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogView")
            .field("log_size", &self.store.log_size())
            .finish_non_exhaustive()
    }
}

impl<'a> LogView<'a> {
    /// A view of `store`'s log.
    pub fn new(store: &'a dyn Store) -> Self {
        Self {
            store,
            failure: RefCell::new(None),
        }
    }

    /// Transactions in the stored log: [`Store::log_size`].
    pub fn size(&self) -> u64 {
        self.store.log_size()
    }

    /// The root of the log's first `size` leaves (the empty root for 0): the `log_root` of the
    /// header whose `log_size` is `size`.
    pub fn root(&self, size: u64) -> Result<Hash, LogError> {
        self.within(size)?;
        self.run(merkle::log_root(self, size))
    }

    /// The RFC 9162 inclusion proof of leaf `leaf_index` in the log's first `tree_size` leaves.
    pub fn prove_inclusion(
        &self,
        leaf_index: u64,
        tree_size: u64,
    ) -> Result<InclusionProof, LogError> {
        self.within(tree_size)?;
        self.run(merkle::prove_inclusion(self, leaf_index, tree_size))
    }

    /// The RFC 9162 consistency proof from the log's first `old_size` leaves to its first
    /// `new_size`; `old_size` 0 (the empty log) is [`merkle::ProofError::EmptyTree`].
    pub fn prove_consistency(
        &self,
        old_size: u64,
        new_size: u64,
    ) -> Result<ConsistencyProof, LogError> {
        self.within(new_size)?;
        self.run(merkle::prove_consistency(self, old_size, new_size))
    }

    fn within(&self, size: u64) -> Result<(), LogError> {
        let log_size = self.size();
        if size > log_size {
            return Err(LogError::BeyondLog { size, log_size });
        }
        Ok(())
    }

    /// The outcome of a proof computation: a recorded read error comes first; a subtree that
    /// the log must hold (every size asked for is within it) but does not is corruption.
    fn run<T>(&self, outcome: Result<T, LogProofError>) -> Result<T, LogError> {
        if let Some(error) = self.failure.borrow_mut().take() {
            return Err(error.into());
        }
        outcome.map_err(|error| match error {
            LogProofError::Proof(error) => LogError::Proof(error),
            LogProofError::MissingSubtree { level, index } => StorageError::Corrupt {
                what: "log node",
                column: Column::Log.name(),
                key: log_key(level, index).to_vec(),
                reason: Corruption::Missing,
            }
            .into(),
        })
    }
}

impl SubtreeSource for LogView<'_> {
    fn subtree(&self, level: u8, index: u64) -> Option<Hash> {
        match self.store.log_node(level, index) {
            Ok(hash) => hash,
            Err(error) => {
                let mut failure = self.failure.borrow_mut();
                if failure.is_none() {
                    *failure = Some(error);
                }
                None
            }
        }
    }
}
