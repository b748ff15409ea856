//! The canonical types of the courtledger chain.
//!
//! Everything here is pure: no IO, no clock, no randomness. Every type that is signed, hashed,
//! sent or stored implements [`courtledger_codec::Encode`] and [`courtledger_codec::Decode`]
//! with the bounds in [`limits`], and has a golden fixture in its tests.

pub mod block;
pub mod certificate;
pub mod court;
pub mod genesis;
pub mod hashing;
pub mod limits;
pub mod peer_id;
pub mod receipt;
pub mod set_change;
pub mod tx;
pub mod validator;
pub mod vote;

pub use block::{Block, BlockHeader, BlockId};
pub use certificate::{
    CertificateError, CommitCertificate, CommitSignature, LeadingFailure, SignedPrecommit,
};
pub use court::{CourtCode, CourtLevel};
pub use genesis::{Genesis, GenesisError, GenesisFile};
pub use receipt::{Receipt, CODE_OK};
pub use set_change::{SetApproval, SetChange, SetChangeError, SetMember, SignedSetChange};
pub use tx::{SignedTransaction, Transaction, TxId};
pub use validator::{Validator, ValidatorSet};
pub use vote::{Vote, VoteKind};

#[cfg(test)]
pub(crate) mod test_support;
