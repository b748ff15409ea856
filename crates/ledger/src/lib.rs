//! The judicial ledger: the acts of online litigation, who may perform them, and what they do
//! to state.
//!
//! Every transaction's payload is one [`Act`], signed by the person who performs it. The chain
//! (`courtledger_chain`) asks this crate two things:
//!
//! - [`admit`]: may the transaction enter a block at all? Its payload must decode as an act
//!   (bounded, no trailing bytes) and its key must be the current key of a registered identity
//!   that is not revoked. A transaction that fails here never enters a block.
//! - [`execute`]: what does the act do? Either it is applied (writes to state, and a timeline
//!   entry on its case) or it fails with a [`Code`] and writes nothing. Either way the
//!   transaction is committed with a receipt carrying the code (0 for success).
//!
//! Who may do what is the permission model, written as a table in `docs/ledger.md` and tested
//! as a table in `tests/permissions.rs`. State layout: [`keys`]; records: [`record`].
//!
//! Pure: no IO, no clock (time is the block's), no randomness (ids are transaction ids).

pub mod act;
pub mod code;
pub mod enums;
pub mod exec;
mod field;
pub mod keys;
pub mod record;
pub mod time;

pub use act::{
    identity_commitment, possession_message, sign_possession, Act, ActKind, CaseId, IdentityId,
    ObjectId, PartyRef, Possession,
};
pub use code::Code;
pub use enums::{
    AttachmentKind, CaseKind, CaseRole, CaseStatus, ClueKind, DocumentKind, HearingMode,
    JudgmentKind, MessageKind, Outcome, Role,
};
pub use exec::{
    admit, execute, genesis_identity_id, genesis_writes, resolve_signer, ActOutcome, Corrupt, Env,
    Invalid, Signer, StateView, Write, REVIEW_WINDOW_MS,
};
pub use record::{
    CaseRecord, ClueRecord, CourtRecord, EvidenceRecord, HearingRecord, IdentityRecord,
    JudgmentRecord, MediationRecord, Member, MessageRecord, ServiceRecord, SignatureEntry,
    TimelineEntry, TranscriptRecord,
};
