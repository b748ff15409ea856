//! The acts: what a signed transaction's payload says its signer did.
//!
//! A payload is `u8 act tag ‖ the act's fields in order` (see [`Act`] for the tags and
//! `docs/ledger.md` for every layout). Ids of things created by acts (identities, cases,
//! evidence, hearings, ...) are the id of the transaction that created them, so a client knows
//! them as soon as it has signed.

use courtledger_codec::{decode_exact, write, Decode, DecodeError, Encode, Reader};
use courtledger_crypto::{ChainId, Digest, Domain, PublicKey, Signature, SigningKey};
use courtledger_types::limits::{
    MAX_ACT_TEXT_BYTES, MAX_FILING_ATTACHMENTS, MAX_MEDIA_TYPE_BYTES, MAX_PARTIES_PER_SIDE,
    MAX_REQUIRED_SIGNERS, MAX_TITLE_BYTES, MAX_TX_PAYLOAD_BYTES,
};
use courtledger_types::CourtCode;

use crate::enums::{
    AttachmentKind, CaseKind, CaseRole, ClueKind, DocumentKind, HearingMode, JudgmentKind,
    MessageKind, Outcome, Role,
};
use crate::field::codec_struct;

/// An identity's id: the id of the transaction that registered it, or for a registrar listed
/// in genesis `tagged_hash(GenesisIdentity, public key)`.
pub type IdentityId = Digest;
/// A case's id: the id of its filing transaction.
pub type CaseId = Digest;
/// The id of anything else an act creates (evidence, message, hearing, transcript, mediation,
/// service, judgment, clue): the id of the creating transaction.
pub type ObjectId = Digest;

/// A party named in a filing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartyRef {
    /// A registered identity (tag 1, then its id).
    Registered(IdentityId),
    /// A person not registered on the platform (tag 2, then a salted commitment to their
    /// identity, computed like an identity commitment). They can be added as a member once
    /// registered.
    Unregistered(Digest),
}

impl Encode for PartyRef {
    fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            PartyRef::Registered(id) => {
                write::u8(out, 1);
                id.encode_to(out);
            }
            PartyRef::Unregistered(commitment) => {
                write::u8(out, 2);
                commitment.encode_to(out);
            }
        }
    }
}

impl Decode for PartyRef {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match reader.u8("party reference")? {
            1 => Ok(PartyRef::Registered(Digest::decode_from(reader)?)),
            2 => Ok(PartyRef::Unregistered(Digest::decode_from(reader)?)),
            tag => Err(DecodeError::InvalidTag {
                what: "party reference",
                tag,
            }),
        }
    }
}

crate::field::field_via_codec!(PartyRef);

/// A filing review's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Accept (tag 1): the case gets its number.
    Accept,
    /// Reject (tag 2), with the reason given to the filer.
    Reject { reason: String },
}

impl Encode for Decision {
    fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            Decision::Accept => write::u8(out, 1),
            Decision::Reject { reason } => {
                write::u8(out, 2);
                write::string(out, reason);
            }
        }
    }
}

impl Decode for Decision {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match reader.u8("review decision")? {
            1 => Ok(Decision::Accept),
            2 => Ok(Decision::Reject {
                reason: reader.string("rejection reason", MAX_ACT_TEXT_BYTES)?,
            }),
            tag => Err(DecodeError::InvalidTag {
                what: "review decision",
                tag,
            }),
        }
    }
}

crate::field::field_via_codec!(Decision);

codec_struct! {
    /// A file, by content: its SHA-256, size, media type and title.
    pub struct FileRef ("file") {
        /// SHA-256 of the file's bytes.
        pub sha256: Digest,
        /// Its size in bytes.
        pub size: u64,
        /// Its media type, such as `application/pdf`.
        pub media_type: String => MAX_MEDIA_TYPE_BYTES,
        /// Its title.
        pub title: String => MAX_TITLE_BYTES,
    }
}

codec_struct! {
    /// A file attached to a filing.
    pub struct Attachment ("attachment") {
        /// What it is.
        pub kind: AttachmentKind,
        /// SHA-256 of the file.
        pub sha256: Digest,
        /// Its size in bytes.
        pub size: u64,
    }
}

codec_struct! {
    /// A registrar attests that `key` belongs to a verified person with `role`.
    pub struct RegisterIdentity ("register identity") {
        /// The person's public key.
        pub key: PublicKey,
        /// Their role.
        pub role: Role,
        /// Their court: required for judges, clerks, mediators and registrars, absent for
        /// parties and lawyers.
        pub court: Option<CourtCode>,
        /// A salted commitment to the person's identity ([`crate::identity_commitment`]); the
        /// ledger never holds the identity itself.
        pub commitment: Digest,
        /// The person's consent: `key`'s signature over [`possession_message`] of registration.
        pub possession: Signature,
    }
}

codec_struct! {
    /// An identity moves to a new key; the old key can sign nothing more.
    pub struct RotateKey ("rotate key") {
        /// The new key.
        pub new_key: PublicKey,
        /// The new key's signature over [`possession_message`] of rotation.
        pub possession: Signature,
    }
}

codec_struct! {
    /// A registrar revokes an identity: its key can sign nothing more.
    pub struct RevokeIdentity ("revoke identity") {
        /// The identity.
        pub identity: IdentityId,
        /// Why.
        pub reason: String => MAX_ACT_TEXT_BYTES,
    }
}

codec_struct! {
    /// A registrar adds a court directly under its own.
    pub struct AddCourt ("add court") {
        /// The new court's code.
        pub code: CourtCode,
        /// Its name.
        pub name: String => MAX_ACT_TEXT_BYTES,
        /// Its level: one below the parent's.
        pub level: courtledger_types::CourtLevel,
        /// The parent court: the registrar's own.
        pub parent: CourtCode,
    }
}

codec_struct! {
    /// A party (or their lawyer) files a case at a court.
    pub struct FileCase ("file case") {
        /// The court the case is filed for.
        pub court: CourtCode,
        /// For a cross-region filing, the court that received it on the filer's behalf.
        pub receiving_court: Option<CourtCode>,
        /// Civil, administrative or criminal private prosecution.
        pub kind: CaseKind,
        /// The plaintiffs (private prosecutors): at least one.
        pub plaintiffs: Vec<PartyRef> => MAX_PARTIES_PER_SIDE,
        /// The defendants: at least one.
        pub defendants: Vec<PartyRef> => MAX_PARTIES_PER_SIDE,
        /// SHA-256 of the claim summary.
        pub claim_summary: Digest,
        /// SHA-256 of the complaint.
        pub complaint: Digest,
        /// Attached files (ID documents, evidence, power of attorney).
        pub attachments: Vec<Attachment> => MAX_FILING_ATTACHMENTS,
        /// When a lawyer files: the registered plaintiff they act for.
        pub principal: Option<IdentityId>,
        /// When a lawyer files: SHA-256 of the power of attorney.
        pub power_of_attorney: Option<Digest>,
    }
}

codec_struct! {
    /// The target court's judge or clerk accepts or rejects a filing.
    pub struct ReviewFiling ("review filing") {
        /// The case.
        pub case: CaseId,
        /// Accept, or reject with a reason.
        pub decision: Decision,
    }
}

codec_struct! {
    /// The court assigns a judge, clerk or mediator to a case.
    pub struct AssignStaff ("assign staff") {
        /// The case.
        pub case: CaseId,
        /// The person.
        pub member: IdentityId,
        /// Judge, clerk or mediator.
        pub role: CaseRole,
    }
}

codec_struct! {
    /// The court adds a registered party to a case (a defendant who registered after filing).
    pub struct AddParty ("add party") {
        /// The case.
        pub case: CaseId,
        /// The party.
        pub party: IdentityId,
        /// Plaintiff, defendant or third party.
        pub role: CaseRole,
    }
}

codec_struct! {
    /// A party appoints a lawyer as their agent in a case.
    pub struct AppointLawyer ("appoint lawyer") {
        /// The case.
        pub case: CaseId,
        /// The lawyer.
        pub lawyer: IdentityId,
        /// SHA-256 of the power of attorney.
        pub power_of_attorney: Digest,
    }
}

codec_struct! {
    /// A member (an agent or court staff) leaves a case.
    pub struct LeaveCase ("leave case") {
        /// The case.
        pub case: CaseId,
    }
}

codec_struct! {
    /// The case's judge sets the time limit for evidence (举证期限).
    pub struct SetEvidenceDeadline ("set evidence deadline") {
        /// The case.
        pub case: CaseId,
        /// Milliseconds since the Unix epoch; evidence after it is refused.
        pub deadline_ms: u64,
    }
}

codec_struct! {
    /// A party or agent submits evidence.
    pub struct SubmitEvidence ("submit evidence") {
        /// The case.
        pub case: CaseId,
        /// The evidence file.
        pub file: FileRef,
    }
}

codec_struct! {
    /// The court acknowledges evidence.
    pub struct ReceiveEvidence ("receive evidence") {
        /// The evidence (its submission's id).
        pub evidence: ObjectId,
    }
}

codec_struct! {
    /// A member posts a message in the case space.
    pub struct PostMessage ("post message") {
        /// The case.
        pub case: CaseId,
        /// Text, voice or image.
        pub kind: MessageKind,
        /// SHA-256 of the message content.
        pub content: Digest,
        /// Marked for the judge, who gets a reminder.
        pub for_judge: bool,
    }
}

codec_struct! {
    /// The court schedules a hearing.
    pub struct ScheduleHearing ("schedule hearing") {
        /// The case.
        pub case: CaseId,
        /// When, in milliseconds since the Unix epoch: after the block's time.
        pub at_ms: u64,
        /// Online or in court.
        pub mode: HearingMode,
        /// Where (a courtroom, or the online room's name).
        pub location: String => MAX_ACT_TEXT_BYTES,
    }
}

codec_struct! {
    /// The court records that a scheduled hearing was held.
    pub struct HoldHearing ("hold hearing") {
        /// The hearing.
        pub hearing: ObjectId,
    }
}

codec_struct! {
    /// The court records a held hearing's transcript and who must sign it.
    pub struct RecordTranscript ("record transcript") {
        /// The hearing.
        pub hearing: ObjectId,
        /// SHA-256 of the transcript.
        pub transcript: Digest,
        /// The members who must sign it: at least one, no repeats.
        pub signers: Vec<IdentityId> => MAX_REQUIRED_SIGNERS,
    }
}

codec_struct! {
    /// A required signer signs a transcript (笔录签署).
    pub struct SignTranscript ("sign transcript") {
        /// The transcript (its recording's id).
        pub transcript: ObjectId,
        /// SHA-256 of the transcript as the signer saw it: must match the recorded one.
        pub content: Digest,
    }
}

codec_struct! {
    /// A judge or mediator of the case puts a mediation agreement to the parties.
    pub struct ProposeMediation ("propose mediation") {
        /// The case.
        pub case: CaseId,
        /// SHA-256 of the agreement.
        pub agreement: Digest,
        /// The members who must sign it: at least one, no repeats.
        pub signers: Vec<IdentityId> => MAX_REQUIRED_SIGNERS,
    }
}

codec_struct! {
    /// A required signer signs a mediation agreement.
    pub struct SignMediation ("sign mediation") {
        /// The agreement (its proposal's id).
        pub mediation: ObjectId,
        /// SHA-256 of the agreement as the signer saw it: must match.
        pub content: Digest,
    }
}

codec_struct! {
    /// A judge of the case confirms a mediation agreement that everyone signed.
    pub struct ConfirmMediation ("confirm mediation") {
        /// The agreement.
        pub mediation: ObjectId,
    }
}

codec_struct! {
    /// The court serves a document on a recipient (文书送达).
    pub struct ServeDocument ("serve document") {
        /// The case.
        pub case: CaseId,
        /// The recipient: a registered identity.
        pub recipient: IdentityId,
        /// What the document is.
        pub kind: DocumentKind,
        /// SHA-256 of the document.
        pub document: Digest,
    }
}

codec_struct! {
    /// The recipient signs for a served document (文书签收).
    pub struct AcknowledgeService ("acknowledge service") {
        /// The service.
        pub service: ObjectId,
        /// SHA-256 of the document received: must match.
        pub document: Digest,
    }
}

codec_struct! {
    /// A judge of the case issues a judgment or ruling.
    pub struct IssueJudgment ("issue judgment") {
        /// The case.
        pub case: CaseId,
        /// Judgment or ruling.
        pub kind: JudgmentKind,
        /// SHA-256 of the document.
        pub document: Digest,
    }
}

codec_struct! {
    /// The court publishes a judgment for the public record (裁判文书公开).
    pub struct PublishJudgment ("publish judgment") {
        /// The judgment.
        pub judgment: ObjectId,
        /// SHA-256 of the published (redacted) text.
        pub public_document: Digest,
    }
}

codec_struct! {
    /// Anyone registered reports an enforcement clue about a case (执行线索举报).
    pub struct ReportClue ("report clue") {
        /// The case.
        pub case: CaseId,
        /// What the clue is about.
        pub kind: ClueKind,
        /// SHA-256 of the report.
        pub content: Digest,
    }
}

codec_struct! {
    /// A judge of the case closes it.
    pub struct CloseCase ("close case") {
        /// The case.
        pub case: CaseId,
        /// How it ended.
        pub outcome: Outcome,
    }
}

/// Declares [`Act`], [`ActKind`] and the act codec from one list of `tag => Variant(Type)`.
macro_rules! acts {
    ($($tag:literal => $variant:ident($ty:ident) => $name:literal,)+) => {
        /// One act. Encoded as `u8 tag ‖ fields`.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum Act {
            $(#[doc = concat!("Tag ", stringify!($tag), ": [`", stringify!($ty), "`].")]
            $variant($ty),)+
        }

        crate::enums::byte_enum! {
            /// The kind of an act, without its fields.
            pub enum ActKind ("act kind") {
                $(#[doc = concat!("[`", stringify!($ty), "`].")]
                $variant = $tag => $name,)+
            }
        }

        impl Act {
            /// The act's kind.
            pub fn kind(&self) -> ActKind {
                match self {
                    $(Act::$variant(_) => ActKind::$variant,)+
                }
            }
        }

        impl Encode for Act {
            fn encode_to(&self, out: &mut Vec<u8>) {
                self.kind().encode_to(out);
                match self {
                    $(Act::$variant(act) => act.encode_to(out),)+
                }
            }
        }

        impl Decode for Act {
            fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
                Ok(match ActKind::decode_from(reader)? {
                    $(ActKind::$variant => Act::$variant($ty::decode_from(reader)?),)+
                })
            }
        }

        $(impl From<$ty> for Act {
            fn from(act: $ty) -> Self {
                Act::$variant(act)
            }
        })+
    };
}

acts! {
    1 => RegisterIdentity(RegisterIdentity) => "register_identity",
    2 => RotateKey(RotateKey) => "rotate_key",
    3 => RevokeIdentity(RevokeIdentity) => "revoke_identity",
    4 => AddCourt(AddCourt) => "add_court",
    10 => FileCase(FileCase) => "file_case",
    11 => ReviewFiling(ReviewFiling) => "review_filing",
    12 => AssignStaff(AssignStaff) => "assign_staff",
    13 => AddParty(AddParty) => "add_party",
    14 => AppointLawyer(AppointLawyer) => "appoint_lawyer",
    15 => LeaveCase(LeaveCase) => "leave_case",
    16 => SetEvidenceDeadline(SetEvidenceDeadline) => "set_evidence_deadline",
    20 => SubmitEvidence(SubmitEvidence) => "submit_evidence",
    21 => ReceiveEvidence(ReceiveEvidence) => "receive_evidence",
    22 => PostMessage(PostMessage) => "post_message",
    30 => ScheduleHearing(ScheduleHearing) => "schedule_hearing",
    31 => HoldHearing(HoldHearing) => "hold_hearing",
    32 => RecordTranscript(RecordTranscript) => "record_transcript",
    33 => SignTranscript(SignTranscript) => "sign_transcript",
    40 => ProposeMediation(ProposeMediation) => "propose_mediation",
    41 => SignMediation(SignMediation) => "sign_mediation",
    42 => ConfirmMediation(ConfirmMediation) => "confirm_mediation",
    50 => ServeDocument(ServeDocument) => "serve_document",
    51 => AcknowledgeService(AcknowledgeService) => "acknowledge_service",
    60 => IssueJudgment(IssueJudgment) => "issue_judgment",
    61 => PublishJudgment(PublishJudgment) => "publish_judgment",
    62 => ReportClue(ReportClue) => "report_clue",
    63 => CloseCase(CloseCase) => "close_case",
}

impl Act {
    /// Decodes an act from a transaction payload (untrusted bytes): bounded, and no trailing
    /// bytes.
    pub fn decode(payload: &[u8]) -> Result<Self, DecodeError> {
        decode_exact(
            payload,
            usize::try_from(MAX_TX_PAYLOAD_BYTES).unwrap_or(usize::MAX),
        )
    }

    /// The case the act names directly, if any.
    pub fn case(&self) -> Option<&CaseId> {
        match self {
            Act::ReviewFiling(a) => Some(&a.case),
            Act::AssignStaff(a) => Some(&a.case),
            Act::AddParty(a) => Some(&a.case),
            Act::AppointLawyer(a) => Some(&a.case),
            Act::LeaveCase(a) => Some(&a.case),
            Act::SetEvidenceDeadline(a) => Some(&a.case),
            Act::SubmitEvidence(a) => Some(&a.case),
            Act::PostMessage(a) => Some(&a.case),
            Act::ScheduleHearing(a) => Some(&a.case),
            Act::ProposeMediation(a) => Some(&a.case),
            Act::ServeDocument(a) => Some(&a.case),
            Act::IssueJudgment(a) => Some(&a.case),
            Act::ReportClue(a) => Some(&a.case),
            Act::CloseCase(a) => Some(&a.case),
            Act::RegisterIdentity(_)
            | Act::RotateKey(_)
            | Act::RevokeIdentity(_)
            | Act::AddCourt(_)
            | Act::FileCase(_)
            | Act::ReceiveEvidence(_)
            | Act::HoldHearing(_)
            | Act::RecordTranscript(_)
            | Act::SignTranscript(_)
            | Act::SignMediation(_)
            | Act::ConfirmMediation(_)
            | Act::AcknowledgeService(_)
            | Act::PublishJudgment(_) => None,
        }
    }
}

/// What a person signs to consent to a key being theirs, with [`Domain::IdentityAttestation`]
/// over the chain id: `u8 purpose ‖ fields`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Possession<'a> {
    /// Purpose 1: registration of `key` with this role, court and commitment.
    Registration {
        key: &'a PublicKey,
        role: Role,
        court: Option<&'a CourtCode>,
        commitment: &'a Digest,
    },
    /// Purpose 2: rotation of `identity` to `new_key`.
    Rotation {
        identity: &'a IdentityId,
        new_key: &'a PublicKey,
    },
}

/// The bytes a key holder signs for [`Possession`].
pub fn possession_message(possession: &Possession<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    match possession {
        Possession::Registration {
            key,
            role,
            court,
            commitment,
        } => {
            write::u8(&mut out, 1);
            key.encode_to(&mut out);
            role.encode_to(&mut out);
            write::option(&mut out, *court, |out, court| court.encode_to(out));
            commitment.encode_to(&mut out);
        }
        Possession::Rotation { identity, new_key } => {
            write::u8(&mut out, 2);
            identity.encode_to(&mut out);
            new_key.encode_to(&mut out);
        }
    }
    out
}

/// Signs a [`Possession`] statement with the key it is about.
pub fn sign_possession(
    key: &SigningKey,
    chain_id: &ChainId,
    possession: &Possession<'_>,
) -> Signature {
    key.sign(
        Domain::IdentityAttestation,
        chain_id,
        &possession_message(possession),
    )
}

/// Tag of [`identity_commitment`].
pub const IDENTITY_COMMITMENT_TAG: &[u8] = b"courtledger/v1/identity-commitment";

/// The salted commitment to a person's identity that the ledger holds instead of it:
/// `SHA-256(u8 len ‖ tag ‖ salt[32] ‖ string id_type ‖ string id_number ‖ string name)`, strings
/// as `u32` length ‖ UTF-8. The salt (32 random bytes) stays with the person and the registrar;
/// revealing it with the identity proves the commitment, and without it the commitment reveals
/// nothing.
pub fn identity_commitment(salt: &[u8; 32], id_type: &str, id_number: &str, name: &str) -> Digest {
    let mut hasher = courtledger_crypto::Sha256Hasher::new();
    let tag_len = u8::try_from(IDENTITY_COMMITMENT_TAG.len()).unwrap_or(u8::MAX);
    hasher.update(&[tag_len]);
    hasher.update(IDENTITY_COMMITMENT_TAG);
    hasher.update(salt);
    for text in [id_type, id_number, name] {
        let mut field = Vec::new();
        write::string(&mut field, text);
        hasher.update(&field);
    }
    hasher.finalize()
}
