//! What the ledger keeps in state: one record per identity, court, case and object, each in the
//! canonical encoding of its fields in order (see `docs/ledger.md`).

use courtledger_crypto::{Digest, PublicKey};
use courtledger_types::limits::{
    MAX_ACT_TEXT_BYTES, MAX_CASE_MEMBERS, MAX_CASE_NUMBER_BYTES, MAX_FILING_ATTACHMENTS,
    MAX_PARTIES_PER_SIDE, MAX_REQUIRED_SIGNERS,
};
use courtledger_types::{CourtCode, CourtLevel, TxId};

use crate::act::{ActKind, Attachment, CaseId, FileRef, IdentityId, ObjectId, PartyRef};
use crate::enums::{
    CaseKind, CaseRole, CaseStatus, ClueKind, DocumentKind, HearingMode, JudgmentKind, MessageKind,
    Outcome, Role,
};
use crate::field::codec_struct;

/// Most keys an identity may have rotated away from.
pub const MAX_PREVIOUS_KEYS: u32 = 64;

codec_struct! {
    /// A registered person.
    pub struct IdentityRecord ("identity") {
        /// The current key.
        pub key: PublicKey,
        /// Their role.
        pub role: Role,
        /// Their court (court staff only).
        pub court: Option<CourtCode>,
        /// The salted commitment to their identity.
        pub commitment: Digest,
        /// The registrar who registered them; none for genesis registrars.
        pub registered_by: Option<IdentityId>,
        /// When (block time, ms); genesis time for genesis registrars.
        pub registered_at_ms: u64,
        /// Keys rotated away from, oldest first.
        pub previous_keys: Vec<PublicKey> => MAX_PREVIOUS_KEYS,
        /// When revoked, if revoked.
        pub revoked_at_ms: Option<u64>,
        /// By whom.
        pub revoked_by: Option<IdentityId>,
        /// Why (empty unless revoked).
        pub revocation_reason: String => MAX_ACT_TEXT_BYTES,
    }
}

impl IdentityRecord {
    /// Whether the identity may still act.
    pub fn is_active(&self) -> bool {
        self.revoked_at_ms.is_none()
    }
}

codec_struct! {
    /// A court.
    pub struct CourtRecord ("court") {
        /// Its name.
        pub name: String => MAX_ACT_TEXT_BYTES,
        /// Its level.
        pub level: CourtLevel,
        /// The court directly above it.
        pub parent: Option<CourtCode>,
        /// The registrar who added it; none for genesis courts.
        pub added_by: Option<IdentityId>,
    }
}

codec_struct! {
    /// A member of a case.
    pub struct Member ("member") {
        /// Who.
        pub identity: IdentityId,
        /// In what capacity.
        pub role: CaseRole,
        /// For an agent: the party they act for.
        pub principal: Option<IdentityId>,
        /// For an agent: SHA-256 of the power of attorney.
        pub power_of_attorney: Option<Digest>,
        /// Since when (block time, ms).
        pub since_ms: u64,
    }
}

codec_struct! {
    /// A case, from filing to closure.
    pub struct CaseRecord ("case") {
        /// The court it is filed for.
        pub court: CourtCode,
        /// The court that received a cross-region filing.
        pub receiving_court: Option<CourtCode>,
        /// Its kind.
        pub kind: CaseKind,
        /// Who filed it.
        pub filer: IdentityId,
        /// When (block time, ms).
        pub filed_at_ms: u64,
        /// Review is due by then: filing time + [`crate::REVIEW_WINDOW_MS`].
        pub review_deadline_ms: u64,
        /// Where it stands.
        pub status: CaseStatus,
        /// The case number, once accepted.
        pub number: Option<String> => MAX_CASE_NUMBER_BYTES,
        /// When it was reviewed.
        pub reviewed_at_ms: Option<u64>,
        /// Why it was rejected (empty unless rejected).
        pub rejection_reason: String => MAX_ACT_TEXT_BYTES,
        /// The plaintiffs as filed.
        pub plaintiffs: Vec<PartyRef> => MAX_PARTIES_PER_SIDE,
        /// The defendants as filed.
        pub defendants: Vec<PartyRef> => MAX_PARTIES_PER_SIDE,
        /// SHA-256 of the claim summary.
        pub claim_summary: Digest,
        /// SHA-256 of the complaint.
        pub complaint: Digest,
        /// The filing's attachments.
        pub attachments: Vec<Attachment> => MAX_FILING_ATTACHMENTS,
        /// The current members, in order of joining.
        pub members: Vec<Member> => MAX_CASE_MEMBERS,
        /// The time limit for evidence, if set.
        pub evidence_deadline_ms: Option<u64>,
        /// Judgments and rulings issued.
        pub judgments: u32,
        /// Mediation agreements confirmed.
        pub confirmed_mediations: u32,
        /// How it ended, once closed.
        pub outcome: Option<Outcome>,
        /// When it closed.
        pub closed_at_ms: Option<u64>,
        /// Committed acts on its timeline.
        pub events: u32,
    }
}

impl CaseRecord {
    /// The member record of `identity`.
    pub fn member(&self, identity: &IdentityId) -> Option<&Member> {
        self.members.iter().find(|m| &m.identity == identity)
    }

    /// Whether `identity` is a member with one of `roles`.
    pub fn has_member(&self, identity: &IdentityId, roles: &[CaseRole]) -> bool {
        self.member(identity)
            .is_some_and(|m| roles.contains(&m.role))
    }
}

codec_struct! {
    /// Submitted evidence.
    pub struct EvidenceRecord ("evidence") {
        /// The case.
        pub case: CaseId,
        /// Who submitted it.
        pub submitter: IdentityId,
        /// The file.
        pub file: FileRef,
        /// When.
        pub submitted_at_ms: u64,
        /// When the court acknowledged it.
        pub received_at_ms: Option<u64>,
        /// Who acknowledged it.
        pub received_by: Option<IdentityId>,
    }
}

codec_struct! {
    /// A case-space message.
    pub struct MessageRecord ("message") {
        /// The case.
        pub case: CaseId,
        /// Who posted it.
        pub author: IdentityId,
        /// Its medium.
        pub kind: MessageKind,
        /// SHA-256 of its content.
        pub content: Digest,
        /// Marked for the judge.
        pub for_judge: bool,
        /// When.
        pub posted_at_ms: u64,
    }
}

codec_struct! {
    /// A hearing.
    pub struct HearingRecord ("hearing") {
        /// The case.
        pub case: CaseId,
        /// Who scheduled it.
        pub scheduled_by: IdentityId,
        /// When it is set for.
        pub at_ms: u64,
        /// Online or in court.
        pub mode: HearingMode,
        /// Where.
        pub location: String => MAX_ACT_TEXT_BYTES,
        /// When it was recorded as held.
        pub held_at_ms: Option<u64>,
    }
}

codec_struct! {
    /// One signature of a transcript or agreement: who, and when (block time).
    pub struct SignatureEntry ("signature entry") {
        /// The signer.
        pub identity: IdentityId,
        /// When.
        pub at_ms: u64,
    }
}

codec_struct! {
    /// A hearing transcript and its signatures.
    pub struct TranscriptRecord ("transcript") {
        /// The case.
        pub case: CaseId,
        /// The hearing.
        pub hearing: ObjectId,
        /// SHA-256 of the transcript.
        pub content: Digest,
        /// Who recorded it.
        pub recorded_by: IdentityId,
        /// When.
        pub recorded_at_ms: u64,
        /// Who must sign.
        pub required: Vec<IdentityId> => MAX_REQUIRED_SIGNERS,
        /// Who signed, in order.
        pub signatures: Vec<SignatureEntry> => MAX_REQUIRED_SIGNERS,
        /// When the last required signature came.
        pub completed_at_ms: Option<u64>,
    }
}

codec_struct! {
    /// A mediation agreement, its signatures and confirmation.
    pub struct MediationRecord ("mediation") {
        /// The case.
        pub case: CaseId,
        /// SHA-256 of the agreement.
        pub agreement: Digest,
        /// Who proposed it.
        pub proposed_by: IdentityId,
        /// When.
        pub proposed_at_ms: u64,
        /// Who must sign.
        pub required: Vec<IdentityId> => MAX_REQUIRED_SIGNERS,
        /// Who signed, in order.
        pub signatures: Vec<SignatureEntry> => MAX_REQUIRED_SIGNERS,
        /// When the court confirmed it.
        pub confirmed_at_ms: Option<u64>,
        /// Which judge confirmed it.
        pub confirmed_by: Option<IdentityId>,
    }
}

codec_struct! {
    /// A served document and its receipt.
    pub struct ServiceRecord ("service") {
        /// The case.
        pub case: CaseId,
        /// Who it was served on.
        pub recipient: IdentityId,
        /// What it is.
        pub kind: DocumentKind,
        /// SHA-256 of the document.
        pub document: Digest,
        /// Who served it.
        pub served_by: IdentityId,
        /// When (送达).
        pub served_at_ms: u64,
        /// When the recipient signed for it (签收).
        pub received_at_ms: Option<u64>,
    }
}

codec_struct! {
    /// A judgment or ruling.
    pub struct JudgmentRecord ("judgment") {
        /// The case.
        pub case: CaseId,
        /// Judgment or ruling.
        pub kind: JudgmentKind,
        /// SHA-256 of the document.
        pub document: Digest,
        /// The judge who issued it.
        pub judge: IdentityId,
        /// When.
        pub issued_at_ms: u64,
        /// SHA-256 of the published text, once published.
        pub public_document: Option<Digest>,
        /// When it was published.
        pub published_at_ms: Option<u64>,
    }
}

codec_struct! {
    /// An enforcement clue.
    pub struct ClueRecord ("clue") {
        /// The case.
        pub case: CaseId,
        /// What it is about.
        pub kind: ClueKind,
        /// SHA-256 of the report.
        pub content: Digest,
        /// Who reported it.
        pub reporter: IdentityId,
        /// When.
        pub reported_at_ms: u64,
    }
}

codec_struct! {
    /// One committed successful act on a case's timeline.
    pub struct TimelineEntry ("timeline entry") {
        /// The transaction.
        pub tx_id: TxId,
        /// Its block.
        pub height: u64,
        /// Its position in the block.
        pub index: u32,
        /// The block's time.
        pub time_ms: u64,
        /// What kind of act.
        pub kind: ActKind,
        /// Who did it.
        pub actor: IdentityId,
    }
}
