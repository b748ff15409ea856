//! Domain separation: what a signature is for, and on which chain.

use crate::digest::ChainId;

/// What a signature is for. Each domain has its own tag in the signed bytes, so a signature made
/// for one purpose is never valid for another, even over identical message bytes.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum Domain {
    /// A client transaction.
    Transaction,
    /// A block proposal by a validator.
    Proposal,
    /// A consensus vote.
    Vote,
    /// A checkpoint of the ledger state.
    Checkpoint,
    /// A change to the validator set.
    ValidatorSetChange,
    /// An attestation binding an identity to a key.
    IdentityAttestation,
}

impl Domain {
    /// Every domain, in declaration order.
    pub const ALL: [Domain; 6] = [
        Domain::Transaction,
        Domain::Proposal,
        Domain::Vote,
        Domain::Checkpoint,
        Domain::ValidatorSetChange,
        Domain::IdentityAttestation,
    ];

    /// The domain's tag. These bytes are part of every signature: they must never change.
    pub fn tag(self) -> &'static [u8] {
        match self {
            Domain::Transaction => b"courtledger/v1/transaction",
            Domain::Proposal => b"courtledger/v1/proposal",
            Domain::Vote => b"courtledger/v1/vote",
            Domain::Checkpoint => b"courtledger/v1/checkpoint",
            Domain::ValidatorSetChange => b"courtledger/v1/validator-set-change",
            Domain::IdentityAttestation => b"courtledger/v1/identity-attestation",
        }
    }
}

/// The bytes that ed25519 signs:
/// `len(tag) as u8 || tag || chain_id (32 bytes) || message`.
///
/// The tag length comes first so that no tag is a prefix of another domain's signed bytes; the
/// chain id has a fixed length, so the message is everything after it.
pub fn signing_message(domain: Domain, chain_id: &ChainId, message: &[u8]) -> Vec<u8> {
    let tag = domain.tag();
    let tag_len = u8::try_from(tag.len()).expect("domain tags are short constants");
    let mut out = Vec::with_capacity(1 + tag.len() + chain_id.as_bytes().len() + message.len());
    out.push(tag_len);
    out.extend_from_slice(tag);
    out.extend_from_slice(chain_id.as_bytes());
    out.extend_from_slice(message);
    out
}
