//! What a proven act says, in plain words: its fields, the documents (SHA-256 of files) it
//! records, and block times in UTC and Beijing time.

use courtledger_crypto::Digest;
use courtledger_ledger::act::{Decision, FileRef};
use courtledger_ledger::{Act, ActKind, PartyRef};

/// A field of an act, for people: a `snake_case` name (a path such as `attachments[1].sha256`
/// for nested ones) and its value as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The field's name.
    pub name: String,
    /// Its value: hex for hashes, ids and keys; names for enumerations; RFC 3339 for times.
    pub value: String,
}

/// A file the act records by its SHA-256 (a complaint, an evidence file, a transcript...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// The field that holds the hash (`complaint`, `file.sha256`, `attachments[0].sha256`...).
    pub field: String,
    /// What the file is, in words.
    pub label: String,
    /// The recorded SHA-256.
    pub sha256: Digest,
    /// The recorded size in bytes, when the act records one.
    pub size: Option<u64>,
}

/// What doing the act means, in words ("filed a case", "signed a transcript").
pub fn summary(kind: ActKind) -> &'static str {
    match kind {
        ActKind::RegisterIdentity => "registered an identity (a registrar attests a person's key)",
        ActKind::RotateKey => "moved their identity to a new key",
        ActKind::RevokeIdentity => "revoked an identity",
        ActKind::AddCourt => "added a court",
        ActKind::FileCase => "filed a case",
        ActKind::ReviewFiling => "reviewed a filing",
        ActKind::AssignStaff => "assigned court staff to a case",
        ActKind::AddParty => "added a party to a case",
        ActKind::AppointLawyer => "appointed a lawyer",
        ActKind::LeaveCase => "left a case",
        ActKind::SetEvidenceDeadline => "set the time limit for evidence",
        ActKind::SubmitEvidence => "submitted evidence",
        ActKind::ReceiveEvidence => "acknowledged receipt of evidence",
        ActKind::PostMessage => "posted a message in the case space",
        ActKind::ScheduleHearing => "scheduled a hearing",
        ActKind::HoldHearing => "recorded that a hearing was held",
        ActKind::RecordTranscript => "recorded a hearing transcript",
        ActKind::SignTranscript => "signed a hearing transcript",
        ActKind::ProposeMediation => "proposed a mediation agreement",
        ActKind::SignMediation => "signed a mediation agreement",
        ActKind::ConfirmMediation => "confirmed a mediation agreement",
        ActKind::ServeDocument => "served a document",
        ActKind::AcknowledgeService => "signed for a served document",
        ActKind::IssueJudgment => "issued a judgment or ruling",
        ActKind::PublishJudgment => "published a judgment",
        ActKind::ReportClue => "reported an enforcement clue",
        ActKind::CloseCase => "closed a case",
    }
}

struct Fields(Vec<Field>);

impl Fields {
    fn add(&mut self, name: impl Into<String>, value: impl ToString) -> &mut Self {
        self.0.push(Field {
            name: name.into(),
            value: value.to_string(),
        });
        self
    }

    fn opt(&mut self, name: &str, value: Option<impl ToString>) -> &mut Self {
        let value = value.map_or_else(|| "-".to_owned(), |v| v.to_string());
        self.add(name, value)
    }

    fn time(&mut self, name: &str, ms: u64) -> &mut Self {
        self.add(
            name,
            format!("{} ({})", utc_rfc3339(ms), beijing_rfc3339(ms)),
        )
    }

    fn parties(&mut self, name: &str, parties: &[PartyRef]) -> &mut Self {
        for (i, party) in parties.iter().enumerate() {
            let value = match party {
                PartyRef::Registered(id) => format!("registered identity {id}"),
                PartyRef::Unregistered(commitment) => {
                    format!("unregistered person, identity commitment {commitment}")
                }
            };
            self.add(format!("{name}[{i}]"), value);
        }
        self
    }

    fn list(&mut self, name: &str, ids: &[Digest]) -> &mut Self {
        for (i, id) in ids.iter().enumerate() {
            self.add(format!("{name}[{i}]"), id);
        }
        self
    }

    fn file(&mut self, name: &str, file: &FileRef) -> &mut Self {
        self.add(format!("{name}.sha256"), file.sha256)
            .add(format!("{name}.size"), file.size)
            .add(format!("{name}.media_type"), &file.media_type)
            .add(format!("{name}.title"), &file.title)
    }
}

/// The act's fields, in encoding order.
pub fn fields(act: &Act) -> Vec<Field> {
    let mut f = Fields(Vec::new());
    match act {
        Act::RegisterIdentity(a) => {
            f.add("key", a.key)
                .add("role", a.role)
                .opt("court", a.court.as_ref())
                .add("commitment", a.commitment)
                .add("possession", a.possession);
        }
        Act::RotateKey(a) => {
            f.add("new_key", a.new_key).add("possession", a.possession);
        }
        Act::RevokeIdentity(a) => {
            f.add("identity", a.identity).add("reason", &a.reason);
        }
        Act::AddCourt(a) => {
            f.add("code", &a.code)
                .add("name", &a.name)
                .add("level", a.level)
                .add("parent", &a.parent);
        }
        Act::FileCase(a) => {
            f.add("court", &a.court)
                .opt("receiving_court", a.receiving_court.as_ref())
                .add("kind", a.kind)
                .parties("plaintiffs", &a.plaintiffs)
                .parties("defendants", &a.defendants)
                .add("claim_summary", a.claim_summary)
                .add("complaint", a.complaint);
            for (i, attachment) in a.attachments.iter().enumerate() {
                f.add(format!("attachments[{i}].kind"), attachment.kind)
                    .add(format!("attachments[{i}].sha256"), attachment.sha256)
                    .add(format!("attachments[{i}].size"), attachment.size);
            }
            f.opt("principal", a.principal)
                .opt("power_of_attorney", a.power_of_attorney);
        }
        Act::ReviewFiling(a) => {
            f.add("case", a.case);
            match &a.decision {
                Decision::Accept => f.add("decision", "accept"),
                Decision::Reject { reason } => f.add("decision", "reject").add("reason", reason),
            };
        }
        Act::AssignStaff(a) => {
            f.add("case", a.case)
                .add("member", a.member)
                .add("role", a.role);
        }
        Act::AddParty(a) => {
            f.add("case", a.case)
                .add("party", a.party)
                .add("role", a.role);
        }
        Act::AppointLawyer(a) => {
            f.add("case", a.case)
                .add("lawyer", a.lawyer)
                .add("power_of_attorney", a.power_of_attorney);
        }
        Act::LeaveCase(a) => {
            f.add("case", a.case);
        }
        Act::SetEvidenceDeadline(a) => {
            f.add("case", a.case).time("deadline", a.deadline_ms);
        }
        Act::SubmitEvidence(a) => {
            f.add("case", a.case).file("file", &a.file);
        }
        Act::ReceiveEvidence(a) => {
            f.add("evidence", a.evidence);
        }
        Act::PostMessage(a) => {
            f.add("case", a.case)
                .add("kind", a.kind)
                .add("content", a.content)
                .add("for_judge", if a.for_judge { "yes" } else { "no" });
        }
        Act::ScheduleHearing(a) => {
            f.add("case", a.case)
                .time("at", a.at_ms)
                .add("mode", a.mode)
                .add("location", &a.location);
        }
        Act::HoldHearing(a) => {
            f.add("hearing", a.hearing);
        }
        Act::RecordTranscript(a) => {
            f.add("hearing", a.hearing)
                .add("transcript", a.transcript)
                .list("signers", &a.signers);
        }
        Act::SignTranscript(a) => {
            f.add("transcript", a.transcript).add("content", a.content);
        }
        Act::ProposeMediation(a) => {
            f.add("case", a.case)
                .add("agreement", a.agreement)
                .list("signers", &a.signers);
        }
        Act::SignMediation(a) => {
            f.add("mediation", a.mediation).add("content", a.content);
        }
        Act::ConfirmMediation(a) => {
            f.add("mediation", a.mediation);
        }
        Act::ServeDocument(a) => {
            f.add("case", a.case)
                .add("recipient", a.recipient)
                .add("kind", a.kind)
                .add("document", a.document);
        }
        Act::AcknowledgeService(a) => {
            f.add("service", a.service).add("document", a.document);
        }
        Act::IssueJudgment(a) => {
            f.add("case", a.case)
                .add("kind", a.kind)
                .add("document", a.document);
        }
        Act::PublishJudgment(a) => {
            f.add("judgment", a.judgment)
                .add("public_document", a.public_document);
        }
        Act::ReportClue(a) => {
            f.add("case", a.case)
                .add("kind", a.kind)
                .add("content", a.content);
        }
        Act::CloseCase(a) => {
            f.add("case", a.case).add("outcome", a.outcome);
        }
    }
    f.0
}

fn doc(field: impl Into<String>, label: impl Into<String>, sha256: Digest) -> Document {
    Document {
        field: field.into(),
        label: label.into(),
        sha256,
        size: None,
    }
}

/// Every file hash the act records. Ids (of cases, identities, objects), keys and identity
/// commitments are not files and are not listed.
pub fn documents(act: &Act) -> Vec<Document> {
    match act {
        Act::FileCase(a) => {
            let mut docs = vec![
                doc("claim_summary", "claim summary", a.claim_summary),
                doc("complaint", "complaint", a.complaint),
            ];
            for (i, attachment) in a.attachments.iter().enumerate() {
                docs.push(Document {
                    field: format!("attachments[{i}].sha256"),
                    label: format!("attachment ({})", attachment.kind),
                    sha256: attachment.sha256,
                    size: Some(attachment.size),
                });
            }
            if let Some(power) = a.power_of_attorney {
                docs.push(doc("power_of_attorney", "power of attorney", power));
            }
            docs
        }
        Act::AppointLawyer(a) => vec![doc(
            "power_of_attorney",
            "power of attorney",
            a.power_of_attorney,
        )],
        Act::SubmitEvidence(a) => vec![Document {
            field: "file.sha256".to_owned(),
            label: format!("evidence file \"{}\" ({})", a.file.title, a.file.media_type),
            sha256: a.file.sha256,
            size: Some(a.file.size),
        }],
        Act::PostMessage(a) => vec![doc(
            "content",
            format!("{} message content", a.kind),
            a.content,
        )],
        Act::RecordTranscript(a) => vec![doc("transcript", "hearing transcript", a.transcript)],
        Act::SignTranscript(a) => vec![doc("content", "hearing transcript (as signed)", a.content)],
        Act::ProposeMediation(a) => {
            vec![doc("agreement", "mediation agreement", a.agreement)]
        }
        Act::SignMediation(a) => vec![doc("content", "mediation agreement (as signed)", a.content)],
        Act::ServeDocument(a) => vec![doc(
            "document",
            format!("served document ({})", a.kind),
            a.document,
        )],
        Act::AcknowledgeService(a) => {
            vec![doc("document", "served document (as received)", a.document)]
        }
        Act::IssueJudgment(a) => vec![doc("document", a.kind.to_string(), a.document)],
        Act::PublishJudgment(a) => vec![doc(
            "public_document",
            "published (redacted) judgment",
            a.public_document,
        )],
        Act::ReportClue(a) => vec![doc(
            "content",
            format!("enforcement clue report ({})", a.kind),
            a.content,
        )],
        Act::RegisterIdentity(_)
        | Act::RotateKey(_)
        | Act::RevokeIdentity(_)
        | Act::AddCourt(_)
        | Act::ReviewFiling(_)
        | Act::AssignStaff(_)
        | Act::AddParty(_)
        | Act::LeaveCase(_)
        | Act::SetEvidenceDeadline(_)
        | Act::ReceiveEvidence(_)
        | Act::ScheduleHearing(_)
        | Act::HoldHearing(_)
        | Act::ConfirmMediation(_)
        | Act::CloseCase(_) => Vec::new(),
    }
}

/// Milliseconds in a day.
const MS_PER_DAY: u64 = 24 * 60 * 60 * 1000;
/// Beijing time is UTC+8 all year.
const BEIJING_OFFSET_MS: u64 = 8 * 60 * 60 * 1000;

/// `(year, month, day)` of `days` days after 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

fn rfc3339(ms: u64, suffix: &str) -> String {
    let days = ms / MS_PER_DAY;
    let in_day = ms % MS_PER_DAY;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}{suffix}",
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000
    )
}

/// A time in milliseconds since the Unix epoch as RFC 3339 UTC: `2026-03-02T01:00:00.000Z`.
pub fn utc_rfc3339(ms: u64) -> String {
    rfc3339(ms, "Z")
}

/// The same instant in Beijing time (UTC+8): `2026-03-02T09:00:00.000+08:00`.
pub fn beijing_rfc3339(ms: u64) -> String {
    match ms.checked_add(BEIJING_OFFSET_MS) {
        Some(local) => rfc3339(local, "+08:00"),
        None => format!("{ms} ms after the Unix epoch"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(utc_rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(utc_rfc3339(1_772_413_200_000), "2026-03-02T01:00:00.000Z");
        assert_eq!(
            beijing_rfc3339(1_772_413_200_000),
            "2026-03-02T09:00:00.000+08:00"
        );
        // 2026-12-31T16:00:00Z is midnight of 2027-01-01 in Beijing.
        assert_eq!(
            beijing_rfc3339(1_798_732_800_000),
            "2027-01-01T00:00:00.000+08:00"
        );
        assert_eq!(utc_rfc3339(951_825_600_123), "2000-02-29T12:00:00.123Z");
        assert_eq!(utc_rfc3339(4_107_542_399_999), "2100-02-28T23:59:59.999Z");
    }
}

/// What a transaction did: one judicial act, or a validator-set change (a transaction whose
/// payload starts with byte `0xC0`, submitted by a validator; see `docs/validator-sets.md`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deed {
    /// A judicial act (boxed: acts are large).
    Act(Box<Act>),
    /// A validator-set change with its approvals.
    SetChange(courtledger_types::SignedSetChange),
}

impl Deed {
    /// Decodes a transaction's payload.
    pub fn decode(payload: &[u8]) -> Result<Self, courtledger_codec::DecodeError> {
        match courtledger_types::SignedSetChange::from_payload(payload) {
            Some(change) => change.map(Deed::SetChange),
            None => Act::decode(payload).map(|act| Deed::Act(Box::new(act))),
        }
    }

    /// The judicial act's kind (`None` for a set change).
    pub fn act_kind(&self) -> Option<ActKind> {
        match self {
            Deed::Act(act) => Some(act.kind()),
            Deed::SetChange(_) => None,
        }
    }

    /// The act's `snake_case` name (`change_validator_set` for a set change).
    pub fn kind_name(&self) -> &'static str {
        match self {
            Deed::Act(act) => act.kind().name(),
            Deed::SetChange(_) => "change_validator_set",
        }
    }

    /// What the act does, in a few words.
    pub fn summary(&self) -> &'static str {
        match self {
            Deed::Act(act) => summary(act.kind()),
            Deed::SetChange(_) => {
                "submitted a validator-set change approved by the validators named in it"
            }
        }
    }

    /// The act's fields, for people.
    pub fn fields(&self) -> Vec<Field> {
        match self {
            Deed::Act(act) => fields(act),
            Deed::SetChange(signed) => {
                let change = &signed.change;
                let mut out = vec![
                    Field {
                        name: "from_set_hash".into(),
                        value: change.from_set_hash.to_string(),
                    },
                    Field {
                        name: "activation_height".into(),
                        value: change.activation_height.to_string(),
                    },
                ];
                for (index, member) in change.members.iter().enumerate() {
                    out.push(Field {
                        name: format!("members[{index}]"),
                        value: format!(
                            "court {} key {} power {} p2p {}",
                            member.court_code,
                            member.validator.public_key,
                            member.validator.voting_power,
                            member.p2p_address
                        ),
                    });
                }
                out.push(Field {
                    name: "approved_by".into(),
                    value: signed
                        .approvals
                        .iter()
                        .map(|a| a.validator_index.to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                });
                out
            }
        }
    }

    /// The files the act records by hash (none for a set change).
    pub fn documents(&self) -> Vec<Document> {
        match self {
            Deed::Act(act) => documents(act),
            Deed::SetChange(_) => Vec::new(),
        }
    }
}
