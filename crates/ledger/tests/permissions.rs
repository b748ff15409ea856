//! The permission table: every act kind, in the stages where it matters, performed by every
//! actor, each on a fresh copy of the stage's state, against the expected receipt.
//!
//! The expectations are data ([`rows`]); the same data generates the permission table of
//! `docs/ledger.md`, and a test checks that the document holds exactly that table
//! (`COURTLEDGER_UPDATE_GOLDEN=1` rewrites it).

mod support;

use std::collections::{BTreeMap, BTreeSet};

use courtledger_ledger::act::{
    AcknowledgeService, AddCourt, AddParty, AppointLawyer, AssignStaff, CloseCase,
    ConfirmMediation, Decision, HoldHearing, IssueJudgment, LeaveCase, PostMessage,
    ProposeMediation, PublishJudgment, ReceiveEvidence, RecordTranscript, ReportClue,
    RevokeIdentity, RotateKey, ScheduleHearing, ServeDocument, SetEvidenceDeadline, SignMediation,
    SignTranscript,
};
use courtledger_ledger::{act::ReviewFiling, CaseKind};
use courtledger_ledger::{
    keys, sign_possession, Act, ActKind, CaseRole, ClueKind, Code, DocumentKind, HearingMode,
    JudgmentKind, MessageKind, Outcome, Possession, Role, TimelineEntry,
};
use courtledger_types::CourtLevel;
use support::{
    court_code, doc, fresh_key, workspace_path, Executed, Expect, Stage, Who, World, AGREEMENT,
    CASE_COURT, DAY, SUMMONS, TRANSCRIPT,
};

const OK: Expect = Expect::Ok;
const NA: Expect = Expect::Fail(Code::NotAuthorized);
const NM: Expect = Expect::Fail(Code::NotMember);
const WS: Expect = Expect::Fail(Code::WrongState);
const DP: Expect = Expect::Fail(Code::DeadlinePassed);
const AD: Expect = Expect::Fail(Code::AlreadyDone);
const KU: Expect = Expect::Fail(Code::KeyInUse);
const BP: Expect = Expect::Fail(Code::BadPossessionProof);
const IA: Expect = Expect::Fail(Code::InvalidArgument);
const CM: Expect = Expect::Fail(Code::ContentMismatch);
const IR: Expect = Expect::Fail(Code::IdentityRevoked);
const CE: Expect = Expect::Fail(Code::CourtExists);
const WR: Expect = Expect::Fail(Code::WrongRole);
const IN: Expect = Expect::Fail(Code::Incomplete);
const UCT: Expect = Expect::Fail(Code::UnknownCourt);
const UID: Expect = Expect::Fail(Code::UnknownIdentity);
const UO: Expect = Expect::Fail(Code::UnknownObject);

/// One row: an act (built for the actor on the stage's world) and what each column expects.
struct Row {
    kind: ActKind,
    stage: Stage,
    what: &'static str,
    act: fn(&World, Who) -> Act,
    expect: [Expect; 11],
}

fn row(
    kind: ActKind,
    stage: Stage,
    what: &'static str,
    act: fn(&World, Who) -> Act,
    expect: [Expect; 11],
) -> Row {
    Row {
        kind,
        stage,
        what,
        act,
        expect,
    }
}

/// Everyone gets the same receipt.
fn all(expect: Expect) -> [Expect; 11] {
    [expect; 11]
}

/// The registrars get `registrars`, everyone else not_authorized.
fn registrars(r_jing: Expect, r_hu: Expect) -> [Expect; 11] {
    [r_jing, r_hu, NA, NA, NA, NA, NA, NA, NA, NA, NA]
}

/// Judges and clerks of 京0105 (J1, J2, C1) get `staff`, everyone else not_authorized.
fn court_staff(staff: Expect) -> [Expect; 11] {
    //R京 R沪 P1  P2  P3  L1  J1     J2     J3  C1     M1
    [NA, NA, NA, NA, NA, NA, staff, staff, NA, staff, NA]
}

/// J1 (the case's judge) gets `judge`, everyone else not_member.
fn case_judge(judge: Expect) -> [Expect; 11] {
    [NM, NM, NM, NM, NM, NM, judge, NM, NM, NM, NM]
}

/// The parties P1 and P2 get `parties`, everyone else not_member.
fn case_parties(parties: Expect) -> [Expect; 11] {
    [NM, NM, parties, parties, NM, NM, NM, NM, NM, NM, NM]
}

fn mediation_id(w: &World) -> courtledger_ledger::ObjectId {
    w.objects.mediation.expect("a mediation")
}

fn judgment_id(w: &World) -> courtledger_ledger::ObjectId {
    w.objects.judgment.expect("a judgment")
}

fn rotate(w: &World, identity: Who, new_key: &courtledger_crypto::SigningKey) -> Act {
    let id = w.id(identity);
    RotateKey {
        new_key: new_key.public_key(),
        possession: sign_possession(
            new_key,
            &w.chain_id,
            &Possession::Rotation {
                identity: &id,
                new_key: &new_key.public_key(),
            },
        ),
    }
    .into()
}

fn assign(w: &World, member: Who, role: CaseRole) -> Act {
    AssignStaff {
        case: w.case(),
        member: w.id(member),
        role,
    }
    .into()
}

fn add_party(w: &World, party: Who, role: CaseRole) -> Act {
    AddParty {
        case: w.case(),
        party: w.id(party),
        role,
    }
    .into()
}

fn appoint(w: &World, lawyer: Who) -> Act {
    AppointLawyer {
        case: w.case(),
        lawyer: w.id(lawyer),
        power_of_attorney: doc("power of attorney"),
    }
    .into()
}

fn transcript_for(w: &World, signers: &[Who]) -> Act {
    RecordTranscript {
        hearing: w.objects.hearing.expect("a hearing"),
        transcript: doc("transcript T2"),
        signers: signers.iter().map(|who| w.id(*who)).collect(),
    }
    .into()
}

fn mediation_for(w: &World, signers: &[Who]) -> Act {
    ProposeMediation {
        case: w.case(),
        agreement: doc("agreement 2"),
        signers: signers.iter().map(|who| w.id(*who)).collect(),
    }
    .into()
}

fn serve_on(w: &World, recipient: Who) -> Act {
    ServeDocument {
        case: w.case(),
        recipient: w.id(recipient),
        kind: DocumentKind::Notice,
        document: doc("notice"),
    }
    .into()
}

fn close(w: &World, outcome: Outcome) -> Act {
    CloseCase {
        case: w.case(),
        outcome,
    }
    .into()
}

fn review(w: &World, decision: Decision) -> Act {
    ReviewFiling {
        case: w.case(),
        decision,
    }
    .into()
}

fn reject(w: &World) -> Act {
    review(
        w,
        Decision::Reject {
            reason: "the claim is not specific".into(),
        },
    )
}

fn message(w: &World) -> Act {
    PostMessage {
        case: w.case(),
        kind: MessageKind::Text,
        content: doc("a message"),
        for_judge: true,
    }
    .into()
}

fn hearing_at(w: &World, at_ms: u64) -> Act {
    ScheduleHearing {
        case: w.case(),
        at_ms,
        mode: HearingMode::InCourt,
        location: "courtroom 5".into(),
    }
    .into()
}

fn clue(w: &World) -> Act {
    ReportClue {
        case: w.case(),
        kind: ClueKind::Assets,
        content: doc("a car registered to P2"),
    }
    .into()
}

fn deadline(w: &World, deadline_ms: u64) -> Act {
    SetEvidenceDeadline {
        case: w.case(),
        deadline_ms,
    }
    .into()
}

fn add_court(code: &str, level: CourtLevel, parent: &str) -> Act {
    AddCourt {
        code: court_code(code),
        name: format!("court {code}"),
        level,
        parent: court_code(parent),
    }
    .into()
}

/// The table. Columns: R京 R沪 P1 P2 P3 L1 J1 J2 J3 C1 M1.
#[rustfmt::skip]
fn rows() -> Vec<Row> {
    use ActKind as K;
    use Stage as S;
    vec![
        // Identities and courts.
        row(K::RegisterIdentity, S::Registered, "a new party (no court)",
            |w, _| w.register_act(&fresh_key(100), Role::Party, None, "new party").into(),
            registrars(OK, OK)),
        row(K::RegisterIdentity, S::Registered, "a new judge of 京0105",
            |w, _| w.register_act(&fresh_key(100), Role::Judge, Some("京0105"), "new judge").into(),
            registrars(OK, NA)),
        row(K::RegisterIdentity, S::Registered, "a new registrar of 沪01",
            |w, _| w.register_act(&fresh_key(100), Role::Registrar, Some("沪01"), "new registrar").into(),
            registrars(NA, OK)),
        row(K::RegisterIdentity, S::Registered, "a new judge with no court",
            |w, _| w.register_act(&fresh_key(100), Role::Judge, None, "new judge").into(),
            registrars(IA, IA)),
        row(K::RegisterIdentity, S::Registered, "a new lawyer with a court",
            |w, _| w.register_act(&fresh_key(100), Role::Lawyer, Some("京0105"), "new lawyer").into(),
            registrars(IA, IA)),
        row(K::RegisterIdentity, S::Registered, "a new judge of an unknown court",
            |w, _| w.register_act(&fresh_key(100), Role::Judge, Some("京9999"), "new judge").into(),
            registrars(UCT, UCT)),
        row(K::RegisterIdentity, S::Registered, "P3's key again",
            |w, _| w.register_act(&Who::P3.initial_key(), Role::Party, None, "P3 again").into(),
            registrars(KU, KU)),
        row(K::RegisterIdentity, S::Registered, "proof signed for another role",
            |w, _| {
                let key = fresh_key(100);
                let mut act = w.register_act(&key, Role::Party, None, "new party");
                act.possession = w.register_act(&key, Role::Lawyer, None, "new party").possession;
                act.into()
            },
            registrars(BP, BP)),
        row(K::RotateKey, S::Registered, "to a new key, proof naming the signer",
            |w, who| {
                let column = Who::TABLE.iter().position(|t| *t == who).expect("a column");
                let seed = 150 + u8::try_from(column).expect("11 columns");
                rotate(w, who, &fresh_key(seed))
            },
            all(OK)),
        row(K::RotateKey, S::Registered, "to a new key, proof naming P1",
            |w, _| rotate(w, Who::P1, &fresh_key(100)),
            [BP, BP, OK, BP, BP, BP, BP, BP, BP, BP, BP]),
        row(K::RotateKey, S::Registered, "to P3's key",
            |w, who| rotate(w, who, &Who::P3.initial_key()),
            all(KU)),
        row(K::RevokeIdentity, S::Registered, "P3 (a party)",
            |w, _| RevokeIdentity { identity: w.id(Who::P3), reason: "deceased".into() }.into(),
            registrars(OK, OK)),
        row(K::RevokeIdentity, S::Registered, "J3 (judge of 沪0101)",
            |w, _| RevokeIdentity { identity: w.id(Who::J3), reason: "retired".into() }.into(),
            registrars(NA, OK)),
        row(K::RevokeIdentity, S::Registered, "PX (already revoked)",
            |w, _| RevokeIdentity { identity: w.id(Who::PX), reason: "again".into() }.into(),
            registrars(AD, AD)),
        row(K::RevokeIdentity, S::Registered, "P3 with an empty reason",
            |w, _| RevokeIdentity { identity: w.id(Who::P3), reason: String::new() }.into(),
            registrars(IA, IA)),
        row(K::RevokeIdentity, S::Registered, "an unknown identity",
            |_, _| RevokeIdentity { identity: doc("nobody"), reason: "x".into() }.into(),
            registrars(UID, UID)),
        row(K::AddCourt, S::Registered, "京02 (intermediate) under 京",
            |_, _| add_court("京02", CourtLevel::Intermediate, "京"),
            registrars(OK, NA)),
        row(K::AddCourt, S::Registered, "京01 (exists) under 京",
            |_, _| add_court("京01", CourtLevel::Intermediate, "京"),
            registrars(CE, NA)),
        row(K::AddCourt, S::Registered, "京0199 (basic) directly under 京",
            |_, _| add_court("京0199", CourtLevel::Basic, "京"),
            registrars(IA, NA)),
        row(K::AddCourt, S::Registered, "京0106 (basic) under 京01",
            |_, _| add_court("京0106", CourtLevel::Basic, "京01"),
            registrars(NA, NA)),

        // Filing and review.
        row(K::FileCase, S::Registered, "P1 v P2 at 京0105, no agent",
            |w, _| w.civil_filing().into(),
            //R京 R沪 P1  P2  P3  L1  J1  J2  J3  C1  M1
            [NA, NA, OK, NA, NA, IA, NA, NA, NA, NA, NA]),
        row(K::FileCase, S::Registered, "P1 v P2 at 京0105, by an agent for P1",
            |w, _| {
                let mut act = w.civil_filing();
                act.principal = Some(w.id(Who::P1));
                act.power_of_attorney = Some(doc("power of attorney P1 -> L1"));
                act.into()
            },
            [NA, NA, IA, NA, NA, OK, NA, NA, NA, NA, NA]),
        row(K::FileCase, S::Registered, "P1 v P2 for 京0105, received by 沪0101 (cross-region)",
            |w, _| {
                let mut act = w.civil_filing();
                act.receiving_court = Some(court_code("沪0101"));
                act.into()
            },
            [NA, NA, OK, NA, NA, IA, NA, NA, NA, NA, NA]),
        row(K::FileCase, S::Registered, "P1 v P2 received by 京0105 itself",
            |w, _| {
                let mut act = w.civil_filing();
                act.receiving_court = Some(court_code(CASE_COURT));
                act.into()
            },
            all(IA)),
        row(K::FileCase, S::Registered, "P1 v PX (revoked)",
            |w, _| w.filing(CASE_COURT, CaseKind::Civil, &[Who::P1], &[Who::PX]).into(),
            all(IR)),
        row(K::FileCase, S::Registered, "P1 v J2 (a judge identity)",
            |w, _| w.filing(CASE_COURT, CaseKind::Civil, &[Who::P1], &[Who::J2]).into(),
            all(WR)),
        row(K::FileCase, S::Registered, "P1 v P1",
            |w, _| w.filing(CASE_COURT, CaseKind::Civil, &[Who::P1], &[Who::P1]).into(),
            all(IA)),
        row(K::FileCase, S::Registered, "P1 v nobody",
            |w, _| w.filing(CASE_COURT, CaseKind::Civil, &[Who::P1], &[]).into(),
            all(IA)),
        row(K::FileCase, S::Registered, "P1 v P2 at an unknown court",
            |w, _| w.filing("京9999", CaseKind::Civil, &[Who::P1], &[Who::P2]).into(),
            all(UCT)),
        row(K::ReviewFiling, S::Pending, "accept",
            |w, _| review(w, Decision::Accept),
            court_staff(OK)),
        row(K::ReviewFiling, S::Pending, "reject with a reason",
            |w, _| reject(w),
            court_staff(OK)),
        row(K::ReviewFiling, S::Pending, "reject with an empty reason",
            |w, _| review(w, Decision::Reject { reason: String::new() }),
            court_staff(IA)),
        row(K::ReviewFiling, S::Accepted, "accept",
            |w, _| review(w, Decision::Accept),
            court_staff(WS)),
        row(K::ReviewFiling, S::Rejected, "accept",
            |w, _| review(w, Decision::Accept),
            court_staff(WS)),
        row(K::ReviewFiling, S::Closed, "reject",
            |w, _| reject(w),
            court_staff(WS)),

        // Membership.
        row(K::AssignStaff, S::Accepted, "J2 as judge",
            |w, _| assign(w, Who::J2, CaseRole::Judge),
            court_staff(OK)),
        row(K::AssignStaff, S::Accepted, "C1 as clerk",
            |w, _| assign(w, Who::C1, CaseRole::Clerk),
            court_staff(OK)),
        row(K::AssignStaff, S::Accepted, "J3 (沪0101) as judge",
            |w, _| assign(w, Who::J3, CaseRole::Judge),
            court_staff(WR)),
        row(K::AssignStaff, S::Accepted, "C1 as judge",
            |w, _| assign(w, Who::C1, CaseRole::Judge),
            court_staff(WR)),
        row(K::AssignStaff, S::Accepted, "J1 as judge again",
            |w, _| assign(w, Who::J1, CaseRole::Judge),
            court_staff(AD)),
        row(K::AssignStaff, S::Accepted, "PX (revoked) as mediator",
            |w, _| assign(w, Who::PX, CaseRole::Mediator),
            court_staff(IR)),
        row(K::AssignStaff, S::Accepted, "J2 as plaintiff (not a staff role)",
            |w, _| assign(w, Who::J2, CaseRole::Plaintiff),
            court_staff(IA)),
        row(K::AssignStaff, S::Pending, "J1 as judge",
            |w, _| assign(w, Who::J1, CaseRole::Judge),
            court_staff(WS)),
        row(K::AssignStaff, S::Closed, "J2 as judge",
            |w, _| assign(w, Who::J2, CaseRole::Judge),
            court_staff(WS)),
        row(K::AddParty, S::Accepted, "P3 as third party",
            |w, _| add_party(w, Who::P3, CaseRole::ThirdParty),
            court_staff(OK)),
        row(K::AddParty, S::Accepted, "L2 (a lawyer) as third party",
            |w, _| add_party(w, Who::L2, CaseRole::ThirdParty),
            court_staff(WR)),
        row(K::AddParty, S::Accepted, "P2 as defendant again",
            |w, _| add_party(w, Who::P2, CaseRole::Defendant),
            court_staff(AD)),
        row(K::AddParty, S::Accepted, "PX (revoked) as third party",
            |w, _| add_party(w, Who::PX, CaseRole::ThirdParty),
            court_staff(IR)),
        row(K::AddParty, S::Accepted, "P3 as judge (not a party role)",
            |w, _| add_party(w, Who::P3, CaseRole::Judge),
            court_staff(IA)),
        row(K::AddParty, S::Pending, "P3 as third party",
            |w, _| add_party(w, Who::P3, CaseRole::ThirdParty),
            court_staff(WS)),
        row(K::AddParty, S::Closed, "P3 as third party",
            |w, _| add_party(w, Who::P3, CaseRole::ThirdParty),
            court_staff(WS)),
        row(K::AppointLawyer, S::Pending, "L1",
            |w, _| appoint(w, Who::L1),
            case_parties(OK)),
        row(K::AppointLawyer, S::Accepted, "L2",
            |w, _| appoint(w, Who::L2),
            case_parties(OK)),
        row(K::AppointLawyer, S::Accepted, "L1 (already P1's agent)",
            |w, _| appoint(w, Who::L1),
            case_parties(AD)),
        row(K::AppointLawyer, S::Accepted, "P3 (not a lawyer)",
            |w, _| appoint(w, Who::P3),
            case_parties(WR)),
        row(K::AppointLawyer, S::Accepted, "PX (revoked)",
            |w, _| appoint(w, Who::PX),
            case_parties(IR)),
        row(K::AppointLawyer, S::Closed, "L2",
            |w, _| appoint(w, Who::L2),
            case_parties(WS)),
        row(K::AppointLawyer, S::Rejected, "L2",
            |w, _| appoint(w, Who::L2),
            case_parties(WS)),
        row(K::LeaveCase, S::Pending, "",
            |w, _| LeaveCase { case: w.case() }.into(),
            [NM, NM, NA, NA, NM, NM, NM, NM, NM, NM, NM]),
        row(K::LeaveCase, S::Accepted, "",
            |w, _| LeaveCase { case: w.case() }.into(),
            [NM, NM, NA, NA, NM, OK, OK, NM, NM, NM, OK]),
        row(K::LeaveCase, S::Closed, "",
            |w, _| LeaveCase { case: w.case() }.into(),
            [NM, NM, NA, NA, NM, WS, WS, NM, NM, NM, WS]),
        row(K::SetEvidenceDeadline, S::Accepted, "a day ahead",
            |w, _| deadline(w, w.time_ms + DAY),
            case_judge(OK)),
        row(K::SetEvidenceDeadline, S::Accepted, "now (not ahead)",
            |w, _| deadline(w, w.time_ms),
            case_judge(IA)),
        row(K::SetEvidenceDeadline, S::EvidenceClosed, "a day ahead (reopening)",
            |w, _| deadline(w, w.time_ms + DAY),
            case_judge(OK)),
        row(K::SetEvidenceDeadline, S::Pending, "a day ahead",
            |w, _| deadline(w, w.time_ms + DAY),
            all(NM)),
        row(K::SetEvidenceDeadline, S::Closed, "a day ahead",
            |w, _| deadline(w, w.time_ms + DAY),
            case_judge(WS)),

        // Evidence and the case space.
        row(K::SubmitEvidence, S::Pending, "",
            |w, _| World::evidence(w.case(), "E2").into(),
            case_parties(OK)),
        row(K::SubmitEvidence, S::Accepted, "",
            |w, _| World::evidence(w.case(), "E2").into(),
            [NM, NM, OK, OK, NM, OK, NM, NM, NM, NM, NM]),
        row(K::SubmitEvidence, S::EvidenceClosed, "",
            |w, _| World::evidence(w.case(), "E2").into(),
            [NM, NM, DP, DP, NM, DP, NM, NM, NM, NM, NM]),
        row(K::SubmitEvidence, S::Closed, "",
            |w, _| World::evidence(w.case(), "E2").into(),
            [NM, NM, WS, WS, NM, WS, NM, NM, NM, NM, NM]),
        row(K::SubmitEvidence, S::Rejected, "",
            |w, _| World::evidence(w.case(), "E2").into(),
            case_parties(WS)),
        row(K::ReceiveEvidence, S::Accepted, "E1",
            |w, _| ReceiveEvidence { evidence: w.objects.evidence.expect("a evidence in this stage") }.into(),
            court_staff(OK)),
        row(K::ReceiveEvidence, S::Heard, "E1 (received already)",
            |w, _| ReceiveEvidence { evidence: w.objects.evidence.expect("a evidence in this stage") }.into(),
            court_staff(AD)),
        row(K::ReceiveEvidence, S::Closed, "E1 (submitted before closure)",
            |w, _| ReceiveEvidence { evidence: w.objects.evidence.expect("a evidence in this stage") }.into(),
            court_staff(OK)),
        row(K::ReceiveEvidence, S::Accepted, "unknown evidence",
            |_, _| ReceiveEvidence { evidence: doc("no such evidence") }.into(),
            all(UO)),
        row(K::PostMessage, S::Pending, "",
            |w, _| message(w),
            case_parties(OK)),
        row(K::PostMessage, S::Accepted, "",
            |w, _| message(w),
            [NM, NM, OK, OK, NM, OK, OK, NM, NM, NM, OK]),
        row(K::PostMessage, S::Closed, "",
            |w, _| message(w),
            [NM, NM, WS, WS, NM, WS, WS, NM, NM, NM, WS]),
        row(K::PostMessage, S::Rejected, "",
            |w, _| message(w),
            case_parties(WS)),

        // Hearings and transcripts.
        row(K::ScheduleHearing, S::Accepted, "a day ahead",
            |w, _| hearing_at(w, w.time_ms + DAY),
            court_staff(OK)),
        row(K::ScheduleHearing, S::Accepted, "now (not ahead)",
            |w, _| hearing_at(w, w.time_ms),
            court_staff(IA)),
        row(K::ScheduleHearing, S::Pending, "a day ahead",
            |w, _| hearing_at(w, w.time_ms + DAY),
            court_staff(WS)),
        row(K::ScheduleHearing, S::Closed, "a day ahead",
            |w, _| hearing_at(w, w.time_ms + DAY),
            court_staff(WS)),
        row(K::HoldHearing, S::Accepted, "H1",
            |w, _| HoldHearing { hearing: w.objects.hearing.expect("a hearing in this stage") }.into(),
            court_staff(OK)),
        row(K::HoldHearing, S::Heard, "H1 (held already)",
            |w, _| HoldHearing { hearing: w.objects.hearing.expect("a hearing in this stage") }.into(),
            court_staff(AD)),
        row(K::HoldHearing, S::Closed, "H1 (never held)",
            |w, _| HoldHearing { hearing: w.objects.hearing.expect("a hearing in this stage") }.into(),
            court_staff(WS)),
        row(K::RecordTranscript, S::Heard, "of H1, signers P1 P2",
            |w, _| transcript_for(w, &[Who::P1, Who::P2]),
            court_staff(OK)),
        row(K::RecordTranscript, S::Accepted, "of H1 (not held), signers P1 P2",
            |w, _| transcript_for(w, &[Who::P1, Who::P2]),
            court_staff(WS)),
        row(K::RecordTranscript, S::Heard, "of H1, signers P1 P3 (not a member)",
            |w, _| transcript_for(w, &[Who::P1, Who::P3]),
            court_staff(NM)),
        row(K::RecordTranscript, S::Heard, "of H1, signers P1 P1",
            |w, _| transcript_for(w, &[Who::P1, Who::P1]),
            court_staff(IA)),
        row(K::RecordTranscript, S::Heard, "of H1, no signers",
            |w, _| transcript_for(w, &[]),
            court_staff(IA)),
        row(K::SignTranscript, S::Heard, "T1 as recorded",
            |w, _| SignTranscript { transcript: w.objects.transcript.expect("a transcript in this stage"), content: doc(TRANSCRIPT) }.into(),
            //R京 R沪 P1  P2  P3  L1  J1  J2  J3  C1  M1
            [NA, NA, OK, OK, NA, OK, OK, NA, NA, NA, NA]),
        row(K::SignTranscript, S::Heard, "T1, another text",
            |w, _| SignTranscript { transcript: w.objects.transcript.expect("a transcript in this stage"), content: doc("altered") }.into(),
            all(CM)),

        // Mediation.
        row(K::ProposeMediation, S::Accepted, "signers P1 P2",
            |w, _| mediation_for(w, &[Who::P1, Who::P2]),
            [NM, NM, NM, NM, NM, NM, OK, NM, NM, NM, OK]),
        row(K::ProposeMediation, S::Accepted, "signers P1 L1 (agent)",
            |w, _| mediation_for(w, &[Who::P1, Who::L1]),
            [NM, NM, NM, NM, NM, NM, OK, NM, NM, NM, OK]),
        row(K::ProposeMediation, S::Accepted, "signers P1 J1 (not a party)",
            |w, _| mediation_for(w, &[Who::P1, Who::J1]),
            [NM, NM, NM, NM, NM, NM, WR, NM, NM, NM, WR]),
        row(K::ProposeMediation, S::Accepted, "signers P1 P3 (not a member)",
            |w, _| mediation_for(w, &[Who::P1, Who::P3]),
            all(NM)),
        row(K::ProposeMediation, S::Pending, "signers P1 P2",
            |w, _| mediation_for(w, &[Who::P1, Who::P2]),
            all(NM)),
        row(K::ProposeMediation, S::Closed, "signers P1 P2",
            |w, _| mediation_for(w, &[Who::P1, Who::P2]),
            [NM, NM, NM, NM, NM, NM, WS, NM, NM, NM, WS]),
        row(K::SignMediation, S::MediationProposed, "as proposed",
            |w, _| SignMediation { mediation: mediation_id(w), content: doc(AGREEMENT) }.into(),
            [NA, NA, OK, OK, NA, NA, NA, NA, NA, NA, NA]),
        row(K::SignMediation, S::MediationProposed, "another text",
            |w, _| SignMediation { mediation: mediation_id(w), content: doc("altered") }.into(),
            all(CM)),
        row(K::SignMediation, S::MediationSigned, "as proposed (signed already)",
            |w, _| SignMediation { mediation: mediation_id(w), content: doc(AGREEMENT) }.into(),
            [NA, NA, AD, AD, NA, NA, NA, NA, NA, NA, NA]),
        row(K::SignMediation, S::Closed, "as proposed",
            |w, _| SignMediation { mediation: mediation_id(w), content: doc(AGREEMENT) }.into(),
            all(WS)),
        row(K::ConfirmMediation, S::MediationSigned, "",
            |w, _| ConfirmMediation { mediation: mediation_id(w) }.into(),
            case_judge(OK)),
        row(K::ConfirmMediation, S::MediationProposed, "(unsigned)",
            |w, _| ConfirmMediation { mediation: mediation_id(w) }.into(),
            case_judge(IN)),
        row(K::ConfirmMediation, S::Closed, "(unsigned)",
            |w, _| ConfirmMediation { mediation: mediation_id(w) }.into(),
            case_judge(WS)),

        // Service.
        row(K::ServeDocument, S::Accepted, "a notice on P2",
            |w, _| serve_on(w, Who::P2),
            court_staff(OK)),
        row(K::ServeDocument, S::Accepted, "a notice on P3 (not in the case)",
            |w, _| serve_on(w, Who::P3),
            court_staff(OK)),
        row(K::ServeDocument, S::Accepted, "a notice on PX (revoked)",
            |w, _| serve_on(w, Who::PX),
            court_staff(IR)),
        row(K::ServeDocument, S::Pending, "a notice on P2",
            |w, _| serve_on(w, Who::P2),
            court_staff(WS)),
        row(K::ServeDocument, S::Closed, "a notice on P2",
            |w, _| serve_on(w, Who::P2),
            court_staff(OK)),
        row(K::ServeDocument, S::Rejected, "a notice on P1",
            |w, _| serve_on(w, Who::P1),
            court_staff(WS)),
        row(K::AcknowledgeService, S::Served, "the summons as served",
            |w, _| AcknowledgeService { service: w.objects.service.expect("a service in this stage"), document: doc(SUMMONS) }.into(),
            [NA, NA, NA, OK, NA, NA, NA, NA, NA, NA, NA]),
        row(K::AcknowledgeService, S::Served, "the summons, another text",
            |w, _| AcknowledgeService { service: w.objects.service.expect("a service in this stage"), document: doc("altered") }.into(),
            [NA, NA, NA, CM, NA, NA, NA, NA, NA, NA, NA]),

        // Judgment, enforcement, closure.
        row(K::IssueJudgment, S::Accepted, "",
            |w, _| IssueJudgment { case: w.case(), kind: JudgmentKind::Ruling, document: doc("ruling") }.into(),
            case_judge(OK)),
        row(K::IssueJudgment, S::Pending, "",
            |w, _| IssueJudgment { case: w.case(), kind: JudgmentKind::Ruling, document: doc("ruling") }.into(),
            all(NM)),
        row(K::IssueJudgment, S::Closed, "",
            |w, _| IssueJudgment { case: w.case(), kind: JudgmentKind::Ruling, document: doc("ruling") }.into(),
            case_judge(WS)),
        row(K::PublishJudgment, S::Judged, "",
            |w, _| PublishJudgment { judgment: judgment_id(w), public_document: doc("redacted") }.into(),
            court_staff(OK)),
        row(K::PublishJudgment, S::Closed, "",
            |w, _| PublishJudgment { judgment: judgment_id(w), public_document: doc("redacted") }.into(),
            court_staff(OK)),
        row(K::ReportClue, S::Accepted, "",
            |w, _| clue(w),
            all(OK)),
        row(K::ReportClue, S::Closed, "",
            |w, _| clue(w),
            all(OK)),
        row(K::ReportClue, S::Pending, "",
            |w, _| clue(w),
            all(WS)),
        row(K::ReportClue, S::Rejected, "",
            |w, _| clue(w),
            all(WS)),
        row(K::CloseCase, S::Judged, "outcome judgment",
            |w, _| close(w, Outcome::Judgment),
            case_judge(OK)),
        row(K::CloseCase, S::Accepted, "outcome judgment (none issued)",
            |w, _| close(w, Outcome::Judgment),
            case_judge(IN)),
        row(K::CloseCase, S::MediationSigned, "outcome mediation (none confirmed)",
            |w, _| close(w, Outcome::Mediation),
            case_judge(IN)),
        row(K::CloseCase, S::Accepted, "outcome withdrawn",
            |w, _| close(w, Outcome::Withdrawn),
            case_judge(OK)),
        row(K::CloseCase, S::Accepted, "outcome dismissed",
            |w, _| close(w, Outcome::Dismissed),
            case_judge(OK)),
        row(K::CloseCase, S::Pending, "outcome withdrawn",
            |w, _| close(w, Outcome::Withdrawn),
            all(NM)),
        row(K::CloseCase, S::Closed, "outcome withdrawn",
            |w, _| close(w, Outcome::Withdrawn),
            case_judge(WS)),
    ]
}

/// The case an act concerns in a stage world (none for identity and court acts).
fn case_of(before: &World, done: &Executed) -> Option<courtledger_ledger::CaseId> {
    match &done.act {
        Act::RegisterIdentity(_)
        | Act::RotateKey(_)
        | Act::RevokeIdentity(_)
        | Act::AddCourt(_) => None,
        Act::FileCase(_) => Some(done.tx_id),
        act => Some(act.case().copied().unwrap_or_else(|| before.case())),
    }
}

/// Checks what a cell's execution did beyond its code: a failure writes nothing and concerns
/// only its signer; a success writes a timeline entry on its case (and only then).
fn check_effects(before: &World, after: &World, done: &Executed, cell: &str) {
    match done.result() {
        Expect::Fail(_) => {
            assert_eq!(after.state, before.state, "{cell}: a failed act wrote");
            assert_eq!(
                done.subjects(),
                [done.signer],
                "{cell}: subjects of a failure"
            );
        }
        Expect::Ok => {
            assert!(!done.writes().is_empty(), "{cell}: a success wrote nothing");
            assert!(
                done.subjects().contains(&done.signer),
                "{cell}: signer not a subject"
            );
            match case_of(before, done) {
                None => assert!(
                    done.writes()
                        .iter()
                        .all(|(key, _)| !key.starts_with(keys::TIMELINE)
                            && !key.starts_with(keys::CASE)),
                    "{cell}: an act on no case touched a case"
                ),
                Some(case) => {
                    let events_before = before
                        .get::<courtledger_ledger::CaseRecord>(&keys::case(&case))
                        .map_or(0, |record| record.events);
                    let record = after.case_record(&case);
                    assert_eq!(record.events, events_before + 1, "{cell}: events counter");
                    let entry: TimelineEntry = after
                        .get(&keys::timeline(&case, events_before))
                        .unwrap_or_else(|| panic!("{cell}: no timeline entry"));
                    assert_eq!(entry.kind, done.act.kind(), "{cell}: timeline kind");
                    assert_eq!(entry.actor, done.signer, "{cell}: timeline actor");
                    assert_eq!(entry.tx_id, done.tx_id, "{cell}: timeline tx");
                    assert_eq!(entry.height, done.height, "{cell}: timeline height");
                    assert_eq!(entry.time_ms, done.time_ms, "{cell}: timeline time");
                    let subjects: BTreeSet<_> = done.subjects().iter().copied().collect();
                    assert!(subjects.contains(&case), "{cell}: case not a subject");
                    for member in &record.members {
                        assert!(
                            subjects.contains(&member.identity),
                            "{cell}: a member is not a subject"
                        );
                    }
                }
            }
        }
    }
}

/// Runs every cell; returns how many ran.
fn run_table() -> usize {
    let mut stages: BTreeMap<Stage, World> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut cells = 0;
    for row in rows() {
        let world = stages.entry(row.stage).or_insert_with(|| row.stage.build());
        for (who, expected) in Who::TABLE.into_iter().zip(row.expect) {
            let cell = format!(
                "{} [{}] ({}) by {}",
                row.kind,
                row.stage.name(),
                row.what,
                who.name()
            );
            let mut fresh = world.clone();
            let act = (row.act)(&fresh, who);
            assert_eq!(act.kind(), row.kind, "{cell}: the row builds another act");
            let done = fresh.act(who, act);
            cells += 1;
            if done.result() != expected {
                failures.push(format!(
                    "{cell}: expected {}, got {}",
                    expected.name(),
                    done.result().name()
                ));
                continue;
            }
            check_effects(world, &fresh, &done, &cell);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {cells} cells differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    cells
}

#[test]
fn every_act_by_every_actor_in_every_stage_gives_the_expected_receipt() {
    let cells = run_table();
    assert_eq!(cells, rows().len() * Who::TABLE.len());
    println!("{cells} cells checked");
}

#[test]
fn every_act_kind_has_a_row() {
    let rows = rows();
    let covered: BTreeSet<ActKind> = rows.iter().map(|row| row.kind).collect();
    let missing: Vec<&str> = ActKind::ALL
        .iter()
        .filter(|kind| !covered.contains(kind))
        .map(|kind| kind.name())
        .collect();
    assert!(missing.is_empty(), "act kinds with no row: {missing:?}");
    assert_eq!(ActKind::ALL.len(), 27);
    // Every act kind has a success somewhere in the table.
    for kind in ActKind::ALL {
        assert!(
            rows.iter()
                .any(|row| row.kind == *kind && row.expect.contains(&Expect::Ok)),
            "{kind} never succeeds in the table"
        );
    }
    // Rows are distinct.
    let mut seen = BTreeSet::new();
    for row in &rows {
        assert!(
            seen.insert((row.kind, row.stage, row.what)),
            "duplicate row {} {} {}",
            row.kind,
            row.stage.name(),
            row.what
        );
    }
}

const TABLE_BEGIN: &str =
    "<!-- permission-table:begin (generated by crates/ledger/tests/permissions.rs) -->";
const TABLE_END: &str = "<!-- permission-table:end -->";

/// The permission table in markdown, from [`rows`].
fn table_markdown() -> String {
    let mut out = String::new();
    let mut header = String::from("| act | stage | variant |");
    let mut rule = String::from("|---|---|---|");
    for who in Who::TABLE {
        header.push_str(&format!(" {} |", who.name()));
        rule.push_str("---|");
    }
    out.push_str(&header);
    out.push('\n');
    out.push_str(&rule);
    out.push('\n');
    for row in rows() {
        let what = if row.what.is_empty() { "—" } else { row.what };
        let mut line = format!("| `{}` | {} | {} |", row.kind, row.stage.name(), what);
        for expect in row.expect {
            line.push_str(&format!(" {} |", expect.name()));
        }
        out.push_str(&line);
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&format!(
        "{} rows × {} actors = {} cells.\n",
        rows().len(),
        Who::TABLE.len(),
        rows().len() * Who::TABLE.len()
    ));
    out.push_str("\nActors:\n\n");
    for who in Who::TABLE {
        out.push_str(&format!("- **{}**: {}\n", who.name(), who.describe()));
    }
    out.push_str("\nStages (each actor runs the act on a fresh copy of the stage's state):\n\n");
    for stage in Stage::ALL {
        out.push_str(&format!("- **{}**: {}\n", stage.name(), stage.describe()));
    }
    out
}

#[test]
fn docs_ledger_md_holds_exactly_the_tested_permission_table() {
    let path = workspace_path("docs/ledger.md");
    let text = std::fs::read_to_string(&path).expect("docs/ledger.md exists");
    let begin = text
        .find(TABLE_BEGIN)
        .unwrap_or_else(|| panic!("docs/ledger.md lacks the line {TABLE_BEGIN}"));
    let body_start = begin + TABLE_BEGIN.len();
    let end = text[body_start..]
        .find(TABLE_END)
        .map(|offset| body_start + offset)
        .unwrap_or_else(|| panic!("docs/ledger.md lacks the line {TABLE_END}"));
    let generated = format!("\n\n{}\n", table_markdown());
    if support::updating_golden() {
        let updated = format!("{}{generated}{}", &text[..body_start], &text[end..]);
        std::fs::write(&path, updated).expect("rewrite docs/ledger.md");
        return;
    }
    assert!(
        text[body_start..end] == generated,
        "the permission table in docs/ledger.md differs from the one tests/permissions.rs \
         checks; run `COURTLEDGER_UPDATE_GOLDEN=1 cargo test -p courtledger-ledger --test \
         permissions` and review the diff"
    );
}
