//! Validator-set changes as the chain executes them.
//!
//! A transaction whose payload starts with
//! [`SET_CHANGE_PAYLOAD_TAG`](courtledger_types::set_change::SET_CHANGE_PAYLOAD_TAG) carries a
//! [`SignedSetChange`]; the chain handles it itself, never the application.
//!
//! **Admission** (mempool and block alike, from state alone; a failure is a [`SetChangeReject`]
//! and the transaction cannot enter a block): the payload decodes; the signer is a validator of
//! the set in force; no other change is pending; fewer than [`MAX_SET_CHANGES`] changes were
//! activated; and more than two thirds of the set in force approved it
//! ([`SignedSetChange::verify`]: it names that set's hash, its members form a valid set, the
//! approvals are ascending, known and correctly signed).
//!
//! **Execution** in the block at height `h`: if the activation height is not in
//! `h + 1 ..= h + MAX_SET_CHANGE_DELAY`, the transaction is committed with the receipt code
//! [`Code::DeadlinePassed`] (activation at or below `h`) or [`Code::InvalidArgument`] (too far
//! ahead) and changes nothing else; otherwise it becomes the pending change
//! (`v1/validators/pending`).
//!
//! **Activation**: after the last transaction of block `h`, a pending change whose activation
//! height is `h + 1` is activated: it is appended to `v1/validators/active/` under the next
//! sequence number, the count (`v1/validators/active-count`) grows by one, and the pending key is
//! deleted. The set in force for block `h + 1` is then the change's new set. The header of block
//! `h` carries `validators_hash` = the hash of the set in force for `h` (the one that signs it)
//! and `next_validators_hash` = the hash of the set in force for `h + 1`.
//!
//! The set in force is the new set of the last activated change, or the genesis set when none was.

use courtledger_codec::Encode;
use courtledger_ledger::Code;
use courtledger_types::limits::{MAX_SET_CHANGES, MAX_SET_CHANGE_DELAY};
use courtledger_types::{SetChangeError, SignedSetChange, SignedTransaction, ValidatorSet};
use thiserror::Error;

use crate::keys;
use crate::state::{StateError, StateRead};

/// Why a set-change transaction may not enter a block.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SetChangeReject {
    /// The payload is tagged as a set change but does not decode as one.
    #[error("the payload is not a valid validator-set change: {0}")]
    Malformed(courtledger_codec::DecodeError),
    /// Only a validator of the set in force may submit a change.
    #[error("the signer is not a validator of the set in force")]
    NotAValidator,
    /// Another change is waiting for its activation height.
    #[error("a validator-set change is already pending, activating at height {activation_height}")]
    Pending {
        /// The pending change's activation height.
        activation_height: u64,
    },
    /// The chain's bound on activated changes is reached.
    #[error("the chain has activated {MAX_SET_CHANGES} validator-set changes, its limit")]
    TooMany,
    /// The set in force did not approve it.
    #[error(transparent)]
    Approval(SetChangeError),
}

/// The validator-set records of a state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetState {
    /// The set in force: it signs the next block.
    pub current: ValidatorSet,
    /// How many changes were activated.
    pub activated: u32,
    /// The change waiting for its activation height.
    pub pending: Option<SignedSetChange>,
}

impl SetState {
    /// Reads the records; `genesis` is the set in force before any change.
    pub fn load(state: &dyn StateRead, genesis: &ValidatorSet) -> Result<Self, StateError> {
        let activated = match state.get(keys::VALIDATORS_ACTIVE_COUNT) {
            None => 0,
            Some(bytes) => {
                let bytes: [u8; 4] = bytes.as_slice().try_into().map_err(|_| StateError {
                    key: keys::VALIDATORS_ACTIVE_COUNT.to_vec(),
                    reason: "value is not a u32 (4 bytes)",
                })?;
                u32::from_be_bytes(bytes)
            }
        };
        let current = match activated.checked_sub(1) {
            None => genesis.clone(),
            Some(last) => {
                let change = activated_change(state, last)?.ok_or(StateError {
                    key: keys::validators_active(last),
                    reason: "the last activated change is missing",
                })?;
                change.change.new_set().map_err(|_| StateError {
                    key: keys::validators_active(last),
                    reason: "the activated change's members are not a valid set",
                })?
            }
        };
        let pending = match state.get(keys::VALIDATORS_PENDING) {
            None => None,
            Some(bytes) => Some(SignedSetChange::decode(&bytes).map_err(|_| StateError {
                key: keys::VALIDATORS_PENDING.to_vec(),
                reason: "not a signed validator-set change",
            })?),
        };
        Ok(Self {
            current,
            activated,
            pending,
        })
    }

    /// Whether `tx` (whose payload is `change`) may enter a block on this state.
    pub fn admit(
        &self,
        chain_id: &courtledger_crypto::ChainId,
        tx: &SignedTransaction,
        change: &SignedSetChange,
    ) -> Result<(), SetChangeReject> {
        if self.current.index_of(&tx.tx.signer).is_none() {
            return Err(SetChangeReject::NotAValidator);
        }
        if let Some(pending) = &self.pending {
            return Err(SetChangeReject::Pending {
                activation_height: pending.change.activation_height,
            });
        }
        if self.activated >= MAX_SET_CHANGES {
            return Err(SetChangeReject::TooMany);
        }
        change
            .verify(chain_id, &self.current)
            .map(|_| ())
            .map_err(SetChangeReject::Approval)
    }
}

/// The receipt code of an admitted change executed in the block at `height`: `None` when it
/// becomes the pending change.
pub fn activation_outcome(change: &SignedSetChange, height: u64) -> Option<Code> {
    let activation = change.change.activation_height;
    if activation <= height {
        Some(Code::DeadlinePassed)
    } else if activation - height > MAX_SET_CHANGE_DELAY {
        Some(Code::InvalidArgument)
    } else {
        None
    }
}

/// The activated change with sequence number `seq` (0 for the first), if there is one.
pub fn activated_change(
    state: &dyn StateRead,
    seq: u32,
) -> Result<Option<SignedSetChange>, StateError> {
    let key = keys::validators_active(seq);
    match state.get(&key) {
        None => Ok(None),
        Some(bytes) => SignedSetChange::decode(&bytes)
            .map(Some)
            .map_err(|_| StateError {
                key,
                reason: "not a signed validator-set change",
            }),
    }
}

/// Every activated change, oldest first.
pub fn activated_changes(state: &dyn StateRead) -> Result<Vec<SignedSetChange>, StateError> {
    let count = match state.get(keys::VALIDATORS_ACTIVE_COUNT) {
        None => 0,
        Some(bytes) => u32::from_be_bytes(bytes.as_slice().try_into().map_err(|_| StateError {
            key: keys::VALIDATORS_ACTIVE_COUNT.to_vec(),
            reason: "value is not a u32 (4 bytes)",
        })?),
    };
    (0..count)
        .map(|seq| {
            activated_change(state, seq)?.ok_or(StateError {
                key: keys::validators_active(seq),
                reason: "an activated change is missing",
            })
        })
        .collect()
}

/// The validator set that signs block `height`: the new set of the last of the `activated`
/// changes (oldest first) whose activation height is at most `height`, or `genesis` when none.
pub fn set_at_height(
    genesis: &ValidatorSet,
    activated: &[SignedSetChange],
    height: u64,
) -> ValidatorSet {
    activated
        .iter()
        .rev()
        .find(|change| change.change.activation_height <= height)
        .and_then(|change| change.change.new_set().ok())
        .unwrap_or_else(|| genesis.clone())
}

/// The writes that activate `change` as the change with sequence number `seq`.
pub(crate) fn activation_writes(
    change: &SignedSetChange,
    seq: u32,
) -> [(Vec<u8>, Option<Vec<u8>>); 3] {
    let count = seq
        .checked_add(1)
        .expect("admission bounds the number of changes");
    [
        (keys::validators_active(seq), Some(change.to_bytes())),
        (
            keys::VALIDATORS_ACTIVE_COUNT.to_vec(),
            Some(count.to_be_bytes().to_vec()),
        ),
        (keys::VALIDATORS_PENDING.to_vec(), None),
    ]
}
