//! Whole stories through the ledger, each act admitted and executed as in a block: a civil case
//! from filing to closure by mediation, case numbers, service, judgments, key rotation,
//! revocation, possession proofs, the review index, cross-region filing and receipt subjects.

mod support;

use std::collections::BTreeSet;

use courtledger_codec::Encode;
use courtledger_crypto::{sha256, ChainId, Digest, SigningKey};
use courtledger_ledger::act::{
    AcknowledgeService, AddParty, AppointLawyer, AssignStaff, CloseCase, ConfirmMediation,
    Decision, HoldHearing, IssueJudgment, LeaveCase, PostMessage, ProposeMediation,
    PublishJudgment, ReceiveEvidence, RecordTranscript, ReviewFiling, RevokeIdentity, RotateKey,
    ScheduleHearing, ServeDocument, SetEvidenceDeadline, SignMediation, SignTranscript,
};
use courtledger_ledger::{
    genesis_identity_id, keys, sign_possession, ActKind, CaseId, CaseKind, CaseRole, CaseStatus,
    Code, CourtRecord, DocumentKind, EvidenceRecord, HearingMode, Invalid, JudgmentKind,
    JudgmentRecord, MediationRecord, MessageKind, Outcome, Possession, Role, ServiceRecord,
    TimelineEntry, TranscriptRecord, REVIEW_WINDOW_MS,
};
use courtledger_types::{CourtLevel, Transaction};
use support::{
    court_code, doc, fresh_key, Expect, Stage, Who, World, BEIJING_2027, CASE_COURT, DAY, HOUR,
    SUMMONS, T0, TRANSCRIPT,
};

fn timeline(w: &World, case: &CaseId) -> Vec<TimelineEntry> {
    w.state
        .keys_with_prefix(&keys::timeline_prefix(case))
        .iter()
        .map(|key| w.get(key).expect("an entry"))
        .collect()
}

fn accept(w: &mut World, who: Who, case: CaseId) -> String {
    w.ok(who, World::accept(case));
    w.case_record(&case).number.expect("a number once accepted")
}

fn file(
    w: &mut World,
    who: Who,
    court: &str,
    kind: CaseKind,
    plaintiff: Who,
    defendant: Who,
) -> CaseId {
    let act = w.filing(court, kind, &[plaintiff], &[defendant]);
    w.ok(who, act)
}

#[test]
fn a_civil_case_from_filing_to_closure_by_mediation() {
    let mut w = World::new();
    let (p1, p2, l1, j1, c1, m1) = (
        w.id(Who::P1),
        w.id(Who::P2),
        w.id(Who::L1),
        w.id(Who::J1),
        w.id(Who::C1),
        w.id(Who::M1),
    );

    // Filing.
    let filing = w.civil_filing();
    let case = w.ok(Who::P1, filing.clone());
    let record = w.case_record(&case);
    assert_eq!(record.status, CaseStatus::PendingReview);
    assert_eq!(record.filer, p1);
    assert_eq!(record.filed_at_ms, T0);
    assert_eq!(record.review_deadline_ms, T0 + REVIEW_WINDOW_MS);
    assert_eq!(record.complaint, filing.complaint);
    assert_eq!(record.number, None);
    let members: Vec<_> = record
        .members
        .iter()
        .map(|m| (m.identity, m.role))
        .collect();
    assert_eq!(
        members,
        [(p1, CaseRole::Plaintiff), (p2, CaseRole::Defendant)]
    );
    assert!(w
        .state
        .0
        .contains_key(&keys::court_case(&court_code(CASE_COURT), &case)));
    for party in [p1, p2] {
        assert!(w.state.0.contains_key(&keys::identity_case(&party, &case)));
    }

    // Review: the first civil case of 京0105 in 2026 (Beijing time).
    w.advance(2 * DAY);
    let number = accept(&mut w, Who::C1, case);
    assert_eq!(number, "(2026)京0105民初1号");
    let record = w.case_record(&case);
    assert_eq!(record.status, CaseStatus::Accepted);
    assert_eq!(record.reviewed_at_ms, Some(T0 + 2 * DAY));
    assert_eq!(
        w.get::<[u8; 32]>(&keys::case_number(&number)).map(Digest),
        Some(case)
    );

    // Staff and agents.
    for (who, role) in [
        (Who::J1, CaseRole::Judge),
        (Who::C1, CaseRole::Clerk),
        (Who::M1, CaseRole::Mediator),
    ] {
        let member = w.id(who);
        w.ok(Who::C1, AssignStaff { case, member, role });
    }
    w.ok(
        Who::P1,
        AppointLawyer {
            case,
            lawyer: l1,
            power_of_attorney: doc("poa"),
        },
    );
    let agent = w
        .case_record(&case)
        .member(&l1)
        .cloned()
        .expect("L1 is a member");
    assert_eq!(agent.role, CaseRole::Agent);
    assert_eq!(agent.principal, Some(p1));
    assert_eq!(agent.power_of_attorney, Some(doc("poa")));

    // Evidence, up to the deadline.
    let deadline = w.time_ms + 3 * DAY;
    w.ok(
        Who::J1,
        SetEvidenceDeadline {
            case,
            deadline_ms: deadline,
        },
    );
    let evidence = w.ok(Who::L1, World::evidence(case, "bank statement"));
    w.advance(HOUR);
    w.ok(Who::C1, ReceiveEvidence { evidence });
    let record: EvidenceRecord = w.object(keys::EVIDENCE, &evidence);
    assert_eq!(record.submitter, l1);
    assert_eq!(record.received_by, Some(c1));
    assert_eq!(record.received_at_ms, Some(w.time_ms));
    assert_eq!(
        w.fail(Who::J1, ReceiveEvidence { evidence }),
        Code::AlreadyDone
    );
    w.set_time(deadline);
    w.ok(Who::P2, World::evidence(case, "receipt, at the deadline"));
    w.advance(1);
    assert_eq!(
        w.fail(Who::P2, World::evidence(case, "too late")),
        Code::DeadlinePassed
    );

    // A case-space message for the judge.
    w.ok(
        Who::P2,
        PostMessage {
            case,
            kind: MessageKind::Voice,
            content: doc("voice"),
            for_judge: true,
        },
    );

    // Hearing and transcript: complete only with the last signature.
    let at_ms = w.time_ms + DAY;
    let hearing = w.ok(
        Who::C1,
        ScheduleHearing {
            case,
            at_ms,
            mode: HearingMode::Online,
            location: "room 1".into(),
        },
    );
    w.set_time(at_ms);
    w.ok(Who::J1, HoldHearing { hearing });
    let transcript = w.ok(
        Who::C1,
        RecordTranscript {
            hearing,
            transcript: doc(TRANSCRIPT),
            signers: vec![p1, p2, l1, j1],
        },
    );
    let mut times = Vec::new();
    for who in [Who::P2, Who::P1, Who::L1, Who::J1] {
        let record: TranscriptRecord = w.object(keys::TRANSCRIPT, &transcript);
        assert_eq!(
            record.completed_at_ms,
            None,
            "complete before {} signed",
            who.name()
        );
        w.advance(10 * 60 * 1000);
        times.push((w.id(who), w.time_ms));
        w.ok(
            who,
            SignTranscript {
                transcript,
                content: doc(TRANSCRIPT),
            },
        );
    }
    let record: TranscriptRecord = w.object(keys::TRANSCRIPT, &transcript);
    assert_eq!(record.completed_at_ms, Some(w.time_ms));
    let signed: Vec<_> = record
        .signatures
        .iter()
        .map(|s| (s.identity, s.at_ms))
        .collect();
    assert_eq!(signed, times);
    assert_eq!(
        w.fail(
            Who::P1,
            SignTranscript {
                transcript,
                content: doc(TRANSCRIPT)
            }
        ),
        Code::AlreadyDone
    );

    // Mediation: proposed by the mediator, signed by both parties, confirmed by the judge.
    let mediation = w.ok(
        Who::M1,
        ProposeMediation {
            case,
            agreement: doc("agreement"),
            signers: vec![p1, p2],
        },
    );
    assert_eq!(
        w.fail(Who::J1, ConfirmMediation { mediation }),
        Code::Incomplete
    );
    assert_eq!(
        w.fail(
            Who::J1,
            CloseCase {
                case,
                outcome: Outcome::Mediation
            }
        ),
        Code::Incomplete
    );
    for who in [Who::P1, Who::P2] {
        w.advance(HOUR);
        w.ok(
            who,
            SignMediation {
                mediation,
                content: doc("agreement"),
            },
        );
    }
    w.advance(HOUR);
    w.ok(Who::J1, ConfirmMediation { mediation });
    let record: MediationRecord = w.object(keys::MEDIATION, &mediation);
    assert_eq!(record.proposed_by, m1);
    assert_eq!(record.confirmed_by, Some(j1));
    assert_eq!(record.confirmed_at_ms, Some(w.time_ms));
    assert_eq!(w.case_record(&case).confirmed_mediations, 1);
    assert_eq!(
        w.fail(Who::J1, ConfirmMediation { mediation }),
        Code::AlreadyDone
    );

    // Closure.
    w.advance(HOUR);
    w.ok(
        Who::J1,
        CloseCase {
            case,
            outcome: Outcome::Mediation,
        },
    );
    let record = w.case_record(&case);
    assert_eq!(record.status, CaseStatus::Closed);
    assert_eq!(record.outcome, Some(Outcome::Mediation));
    assert_eq!(record.closed_at_ms, Some(w.time_ms));
    assert_eq!(
        w.fail(Who::P1, World::evidence(case, "after closure")),
        Code::WrongState
    );
    assert_eq!(
        w.fail(
            Who::P1,
            PostMessage {
                case,
                kind: MessageKind::Text,
                content: doc("x"),
                for_judge: false
            }
        ),
        Code::WrongState
    );

    // The timeline holds every successful act, in order, and nothing else.
    let kinds: Vec<ActKind> = timeline(&w, &case).iter().map(|e| e.kind).collect();
    use ActKind as K;
    assert_eq!(
        kinds,
        [
            K::FileCase,
            K::ReviewFiling,
            K::AssignStaff,
            K::AssignStaff,
            K::AssignStaff,
            K::AppointLawyer,
            K::SetEvidenceDeadline,
            K::SubmitEvidence,
            K::ReceiveEvidence,
            K::SubmitEvidence,
            K::PostMessage,
            K::ScheduleHearing,
            K::HoldHearing,
            K::RecordTranscript,
            K::SignTranscript,
            K::SignTranscript,
            K::SignTranscript,
            K::SignTranscript,
            K::ProposeMediation,
            K::SignMediation,
            K::SignMediation,
            K::ConfirmMediation,
            K::CloseCase,
        ]
    );
    assert_eq!(record.events, u32::try_from(kinds.len()).unwrap());
    let entries = timeline(&w, &case);
    assert!(entries
        .windows(2)
        .all(|p| p[0].height < p[1].height && p[0].time_ms <= p[1].time_ms));
    assert_eq!(entries[0].actor, p1);
    assert_eq!(entries[0].tx_id, case);
}

#[test]
fn case_numbers_count_per_court_kind_and_beijing_year() {
    let mut w = World::new();
    let first = file(
        &mut w,
        Who::P1,
        CASE_COURT,
        CaseKind::Civil,
        Who::P1,
        Who::P2,
    );
    let second = file(
        &mut w,
        Who::P3,
        CASE_COURT,
        CaseKind::Civil,
        Who::P3,
        Who::P1,
    );
    let admin = file(
        &mut w,
        Who::P2,
        CASE_COURT,
        CaseKind::Administrative,
        Who::P2,
        Who::P3,
    );
    let private = file(
        &mut w,
        Who::P2,
        CASE_COURT,
        CaseKind::CriminalPrivate,
        Who::P2,
        Who::P1,
    );
    let elsewhere = file(&mut w, Who::P1, "京01", CaseKind::Civil, Who::P1, Who::P2);
    let shanghai = file(&mut w, Who::P1, "沪0101", CaseKind::Civil, Who::P1, Who::P2);
    // Reviewed out of filing order: the serial follows acceptance.
    assert_eq!(accept(&mut w, Who::J2, second), "(2026)京0105民初1号");
    assert_eq!(accept(&mut w, Who::C1, first), "(2026)京0105民初2号");
    assert_eq!(accept(&mut w, Who::J1, admin), "(2026)京0105行初1号");
    assert_eq!(accept(&mut w, Who::J1, private), "(2026)京0105刑初1号");
    assert_eq!(accept(&mut w, Who::J3, shanghai), "(2026)沪0101民初1号");
    // 京01 has no judge or clerk registered: nobody in this world may review its filings.
    for who in [Who::J1, Who::C1, Who::J3, Who::RegJing] {
        let act = World::accept(elsewhere);
        assert_eq!(w.fail(who, act), Code::NotAuthorized);
    }
    let serial = |w: &World, kind: CaseKind| {
        w.state
            .0
            .get(&keys::case_serial(
                &court_code(CASE_COURT),
                2026,
                kind.tag(),
            ))
            .cloned()
    };
    assert_eq!(
        serial(&w, CaseKind::Civil),
        Some(2u32.to_be_bytes().to_vec())
    );
    assert_eq!(
        serial(&w, CaseKind::Administrative),
        Some(1u32.to_be_bytes().to_vec())
    );

    // The last millisecond of 2026 in Beijing (15:59:59.999 UTC) still counts in 2026 ...
    let late = file(
        &mut w,
        Who::P1,
        CASE_COURT,
        CaseKind::Civil,
        Who::P1,
        Who::P3,
    );
    let later = file(
        &mut w,
        Who::P3,
        CASE_COURT,
        CaseKind::Civil,
        Who::P3,
        Who::P2,
    );
    let admin_2027 = file(
        &mut w,
        Who::P3,
        CASE_COURT,
        CaseKind::Administrative,
        Who::P3,
        Who::P2,
    );
    w.set_time(BEIJING_2027 - 1);
    assert_eq!(accept(&mut w, Who::C1, late), "(2026)京0105民初3号");
    // ... and midnight in Beijing starts 2027 (still 2026 in UTC): the serials restart.
    w.set_time(BEIJING_2027);
    assert_eq!(accept(&mut w, Who::C1, later), "(2027)京0105民初1号");
    assert_eq!(accept(&mut w, Who::C1, admin_2027), "(2027)京0105行初1号");
}

#[test]
fn service_and_receipt_are_both_recorded() {
    let mut w = World::at(Stage::Accepted);
    let case = w.case();
    let (p2, c1) = (w.id(Who::P2), w.id(Who::C1));
    let served_at = w.time_ms;
    let service = w.ok(
        Who::C1,
        ServeDocument {
            case,
            recipient: p2,
            kind: DocumentKind::Summons,
            document: doc(SUMMONS),
        },
    );
    let record: ServiceRecord = w.object(keys::SERVICE, &service);
    assert_eq!(
        (record.served_at_ms, record.received_at_ms),
        (served_at, None)
    );
    assert_eq!(record.served_by, c1);
    w.advance(5 * HOUR);
    assert_eq!(
        w.fail(
            Who::P1,
            AcknowledgeService {
                service,
                document: doc(SUMMONS)
            }
        ),
        Code::NotAuthorized
    );
    assert_eq!(
        w.fail(
            Who::P2,
            AcknowledgeService {
                service,
                document: doc("another")
            }
        ),
        Code::ContentMismatch
    );
    w.ok(
        Who::P2,
        AcknowledgeService {
            service,
            document: doc(SUMMONS),
        },
    );
    let record: ServiceRecord = w.object(keys::SERVICE, &service);
    assert_eq!(record.served_at_ms, served_at);
    assert_eq!(record.received_at_ms, Some(served_at + 5 * HOUR));
    w.advance(HOUR);
    assert_eq!(
        w.fail(
            Who::P2,
            AcknowledgeService {
                service,
                document: doc(SUMMONS)
            }
        ),
        Code::AlreadyDone
    );
    let kinds: Vec<_> = timeline(&w, &case)
        .iter()
        .rev()
        .take(2)
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, [ActKind::AcknowledgeService, ActKind::ServeDocument]);
}

#[test]
fn a_judgment_is_issued_published_and_closes_the_case() {
    let mut w = World::at(Stage::Accepted);
    let case = w.case();
    let j1 = w.id(Who::J1);
    assert_eq!(
        w.fail(
            Who::J1,
            CloseCase {
                case,
                outcome: Outcome::Judgment
            }
        ),
        Code::Incomplete
    );
    let judgment = w.ok(
        Who::J1,
        IssueJudgment {
            case,
            kind: JudgmentKind::Judgment,
            document: doc("judgment"),
        },
    );
    assert_eq!(w.case_record(&case).judgments, 1);
    let record: JudgmentRecord = w.object(keys::JUDGMENT, &judgment);
    assert_eq!(
        (record.judge, record.issued_at_ms, record.published_at_ms),
        (j1, w.time_ms, None)
    );
    w.advance(DAY);
    w.ok(
        Who::J1,
        CloseCase {
            case,
            outcome: Outcome::Judgment,
        },
    );
    w.advance(DAY);
    // Publication comes after closure, by the court.
    w.ok(
        Who::C1,
        PublishJudgment {
            judgment,
            public_document: doc("redacted judgment"),
        },
    );
    let record: JudgmentRecord = w.object(keys::JUDGMENT, &judgment);
    assert_eq!(record.public_document, Some(doc("redacted judgment")));
    assert_eq!(record.published_at_ms, Some(w.time_ms));
    assert_eq!(
        w.fail(
            Who::J2,
            PublishJudgment {
                judgment,
                public_document: doc("again")
            }
        ),
        Code::AlreadyDone
    );
    assert_eq!(
        w.fail(
            Who::J3,
            PublishJudgment {
                judgment,
                public_document: doc("again")
            }
        ),
        Code::NotAuthorized
    );
    let record = w.case_record(&case);
    assert_eq!(
        (record.status, record.outcome),
        (CaseStatus::Closed, Some(Outcome::Judgment))
    );
}

fn rotation(w: &World, who: Who, new_key: &SigningKey) -> RotateKey {
    let id = w.id(who);
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
}

#[test]
fn a_rotated_key_is_refused_and_the_new_key_signs() {
    let mut w = World::new();
    let p1 = w.id(Who::P1);
    let old = w.key(Who::P1).clone();
    let new = fresh_key(101);
    let act = rotation(&w, Who::P1, &new);
    w.ok(Who::P1, act);
    let record = w.identity_record(&p1);
    assert_eq!(record.key, new.public_key());
    assert_eq!(record.previous_keys, [old.public_key()]);
    // Both keys stay in the key directory, pointing at P1.
    for key in [&old, &new] {
        assert_eq!(
            w.state.0.get(&keys::key(&key.public_key())),
            Some(&p1.0.to_vec())
        );
    }

    let filing = w.civil_filing();
    assert_eq!(
        w.try_with_key(&old, filing.clone()).unwrap_err(),
        Invalid::KeyRotated
    );
    w.set_key(Who::P1, new.clone());
    let case = w.ok(Who::P1, filing);
    assert_eq!(w.case_record(&case).filer, p1);

    // An old key cannot come back, and a second rotation keeps the history.
    let back = rotation(&w, Who::P1, &old);
    assert_eq!(w.fail(Who::P1, back), Code::KeyInUse);
    let newer = fresh_key(102);
    let act = rotation(&w, Who::P1, &newer);
    w.ok(Who::P1, act);
    assert_eq!(
        w.identity_record(&p1).previous_keys,
        [old.public_key(), new.public_key()]
    );
    assert_eq!(
        w.try_with_key(&new, World::evidence(case, "x"))
            .unwrap_err(),
        Invalid::KeyRotated
    );
    w.set_key(Who::P1, newer);
    w.ok(Who::P1, World::evidence(case, "x"));

    // A genesis registrar rotates too, keeping its genesis identity id.
    let registrar = fresh_key(103);
    let act = rotation(&w, Who::RegJing, &registrar);
    w.ok(Who::RegJing, act);
    w.set_key(Who::RegJing, registrar);
    let id = w.id(Who::RegJing);
    assert_eq!(
        id,
        genesis_identity_id(&Who::RegJing.initial_key().public_key())
    );
    let person = fresh_key(104);
    let act = w.register_act(&person, Role::Party, None, "new party");
    let new_party = w.ok(Who::RegJing, act);
    assert_eq!(w.identity_record(&new_party).registered_by, Some(id));
}

#[test]
fn a_revoked_identity_cannot_sign_and_cannot_be_named() {
    let mut w = World::at(Stage::Heard);
    let case = w.case();
    let (p1, p2, j1) = (w.id(Who::P1), w.id(Who::P2), w.id(Who::J1));
    let revoked_at = w.time_ms;
    w.ok(
        Who::RegHu,
        RevokeIdentity {
            identity: p2,
            reason: "fraudulent registration".into(),
        },
    );
    let record = w.identity_record(&p2);
    assert_eq!(record.revoked_at_ms, Some(revoked_at));
    assert_eq!(record.revoked_by, Some(w.id(Who::RegHu)));
    assert_eq!(record.revocation_reason, "fraudulent registration");

    // P2's key is refused admission: nothing it signs enters a block.
    let key = w.key(Who::P2).clone();
    let act = World::evidence(case, "by a revoked party");
    assert_eq!(
        w.try_with_key(&key, act).unwrap_err(),
        Invalid::SignerRevoked
    );

    // Acts that name P2 fail.
    let hearing = w.objects.hearing.unwrap();
    let revoked = Code::IdentityRevoked;
    assert_eq!(
        w.fail(
            Who::C1,
            RecordTranscript {
                hearing,
                transcript: doc("t2"),
                signers: vec![p1, p2]
            }
        ),
        revoked
    );
    assert_eq!(
        w.fail(
            Who::M1,
            ProposeMediation {
                case,
                agreement: doc("a"),
                signers: vec![p1, p2]
            }
        ),
        revoked
    );
    assert_eq!(
        w.fail(
            Who::C1,
            ServeDocument {
                case,
                recipient: p2,
                kind: DocumentKind::Notice,
                document: doc("n")
            }
        ),
        revoked
    );
    assert_eq!(
        w.fail(
            Who::C1,
            AddParty {
                case,
                party: p2,
                role: CaseRole::ThirdParty
            }
        ),
        revoked
    );
    let filing = w.filing(CASE_COURT, CaseKind::Civil, &[Who::P1], &[Who::P2]);
    assert_eq!(w.fail(Who::P1, filing), revoked);
    assert_eq!(
        w.fail(
            Who::RegJing,
            RevokeIdentity {
                identity: p2,
                reason: "again".into()
            }
        ),
        Code::AlreadyDone
    );

    // A revoked judge can no longer be assigned, nor sign; a revoked lawyer cannot be appointed.
    w.ok(
        Who::RegJing,
        RevokeIdentity {
            identity: w.id(Who::J2),
            reason: "left the court".into(),
        },
    );
    assert_eq!(
        w.fail(
            Who::C1,
            AssignStaff {
                case,
                member: w.id(Who::J2),
                role: CaseRole::Judge
            }
        ),
        revoked
    );
    w.ok(
        Who::RegJing,
        RevokeIdentity {
            identity: w.id(Who::L2),
            reason: "disbarred".into(),
        },
    );
    assert_eq!(
        w.fail(
            Who::P1,
            AppointLawyer {
                case,
                lawyer: w.id(Who::L2),
                power_of_attorney: doc("p")
            }
        ),
        revoked
    );

    // Acts that do not name P2 go on.
    w.ok(
        Who::C1,
        RecordTranscript {
            hearing,
            transcript: doc("t3"),
            signers: vec![p1, j1],
        },
    );
}

#[test]
fn possession_proofs_must_match_chain_role_court_commitment_and_key() {
    let mut w = World::new();
    let key = fresh_key(110);
    let other_chain = ChainId(sha256(b"another courtledger chain"));
    let valid = w.register_act(&key, Role::Judge, Some(CASE_COURT), "judge");
    let proof = |w: &World,
                 chain: &ChainId,
                 role,
                 court: Option<&str>,
                 commitment: &Digest,
                 signer: &SigningKey| {
        let court = court.map(court_code);
        let _ = w;
        sign_possession(
            signer,
            chain,
            &Possession::Registration {
                key: &key.public_key(),
                role,
                court: court.as_ref(),
                commitment,
            },
        )
    };
    let commitment = valid.commitment;
    let bad = [
        (
            "another chain",
            proof(
                &w,
                &other_chain,
                Role::Judge,
                Some(CASE_COURT),
                &commitment,
                &key,
            ),
        ),
        (
            "another role",
            proof(
                &w,
                &w.chain_id,
                Role::Clerk,
                Some(CASE_COURT),
                &commitment,
                &key,
            ),
        ),
        (
            "another court",
            proof(
                &w,
                &w.chain_id,
                Role::Judge,
                Some("京01"),
                &commitment,
                &key,
            ),
        ),
        (
            "another commitment",
            proof(
                &w,
                &w.chain_id,
                Role::Judge,
                Some(CASE_COURT),
                &doc("x"),
                &key,
            ),
        ),
        (
            "another key",
            proof(
                &w,
                &w.chain_id,
                Role::Judge,
                Some(CASE_COURT),
                &commitment,
                &fresh_key(111),
            ),
        ),
    ];
    for (what, possession) in bad {
        let mut act = valid.clone();
        act.possession = possession;
        assert_eq!(
            w.fail(Who::RegJing, act),
            Code::BadPossessionProof,
            "{what}"
        );
    }
    // A rotation proof is not a registration proof, and vice versa.
    let p1 = w.id(Who::P1);
    let mut act = valid.clone();
    act.possession = sign_possession(
        &key,
        &w.chain_id,
        &Possession::Rotation {
            identity: &p1,
            new_key: &key.public_key(),
        },
    );
    assert_eq!(w.fail(Who::RegJing, act), Code::BadPossessionProof);
    let mut rotate = rotation(&w, Who::P1, &key);
    rotate.possession = valid.possession;
    assert_eq!(w.fail(Who::P1, rotate), Code::BadPossessionProof);
    // A rotation proof for another chain, or signed by the old key instead of the new one.
    let mut rotate = rotation(&w, Who::P1, &key);
    rotate.possession = sign_possession(
        &key,
        &other_chain,
        &Possession::Rotation {
            identity: &p1,
            new_key: &key.public_key(),
        },
    );
    assert_eq!(w.fail(Who::P1, rotate), Code::BadPossessionProof);
    let mut rotate = rotation(&w, Who::P1, &key);
    rotate.possession = sign_possession(
        w.key(Who::P1),
        &w.chain_id,
        &Possession::Rotation {
            identity: &p1,
            new_key: &key.public_key(),
        },
    );
    assert_eq!(w.fail(Who::P1, rotate), Code::BadPossessionProof);

    // Nothing was registered; the valid proof still works.
    assert!(!w.state.0.contains_key(&keys::key(&key.public_key())));
    let id = w.ok(Who::RegJing, valid.clone());
    let record = w.identity_record(&id);
    assert_eq!(
        (record.role, record.court),
        (Role::Judge, Some(court_code(CASE_COURT)))
    );
    assert_eq!(record.commitment, valid.commitment);
    assert_eq!(record.registered_by, Some(w.id(Who::RegJing)));
    assert!(w
        .state
        .0
        .contains_key(&keys::court_identity(&court_code(CASE_COURT), &id)));
    // The new judge signs at once.
    let filing_case = {
        let act = w.civil_filing();
        w.ok(Who::P1, act)
    };
    let done = w
        .try_with_key(
            &key,
            ReviewFiling {
                case: filing_case,
                decision: Decision::Accept,
            },
        )
        .expect("the new judge is admitted");
    assert_eq!(done.result(), Expect::Ok);
    assert_eq!(w.case_record(&filing_case).status, CaseStatus::Accepted);
}

#[test]
fn the_review_index_holds_pending_filings_until_reviewed() {
    let mut w = World::new();
    let first = file(
        &mut w,
        Who::P1,
        CASE_COURT,
        CaseKind::Civil,
        Who::P1,
        Who::P2,
    );
    w.advance(HOUR);
    let second = file(
        &mut w,
        Who::P3,
        CASE_COURT,
        CaseKind::Civil,
        Who::P3,
        Who::P2,
    );
    let due = |w: &World| w.state.keys_with_prefix(keys::IDX_REVIEW_DUE);
    assert_eq!(
        due(&w),
        [
            keys::review_due(T0 + REVIEW_WINDOW_MS, &first),
            keys::review_due(T0 + HOUR + REVIEW_WINDOW_MS, &second)
        ]
    );
    // Late review is still possible (the window is the court's duty, not a bar).
    w.set_time(T0 + REVIEW_WINDOW_MS + DAY);
    w.ok(
        Who::C1,
        ReviewFiling {
            case: second,
            decision: Decision::Reject {
                reason: "no claim".into(),
            },
        },
    );
    assert_eq!(due(&w), [keys::review_due(T0 + REVIEW_WINDOW_MS, &first)]);
    let record = w.case_record(&second);
    assert_eq!(record.status, CaseStatus::Rejected);
    assert_eq!(record.rejection_reason, "no claim");
    assert_eq!(record.number, None);
    accept(&mut w, Who::J1, first);
    assert!(due(&w).is_empty());
}

#[test]
fn a_cross_region_filing_records_the_receiving_court() {
    let mut w = World::new();
    let mut filing = w.civil_filing();
    filing.receiving_court = Some(court_code("沪0101"));
    let case = w.ok(Who::P1, filing);
    let record = w.case_record(&case);
    assert_eq!(record.court, court_code(CASE_COURT));
    assert_eq!(record.receiving_court, Some(court_code("沪0101")));
    assert!(w
        .state
        .0
        .contains_key(&keys::court_case(&court_code(CASE_COURT), &case)));
    assert!(!w
        .state
        .0
        .contains_key(&keys::court_case(&court_code("沪0101"), &case)));
    // The receiving court's judge does not review it; the target court's does.
    assert_eq!(w.fail(Who::J3, World::accept(case)), Code::NotAuthorized);
    assert_eq!(accept(&mut w, Who::J1, case), "(2026)京0105民初1号");
    let mut filing = w.civil_filing();
    filing.receiving_court = Some(court_code("沪9999"));
    assert_eq!(w.fail(Who::P1, filing), Code::UnknownCourt);
}

#[test]
fn receipts_name_the_case_and_its_members() {
    let mut w = World::at(Stage::Accepted);
    let case = w.case();
    let members: BTreeSet<Digest> = [Who::P1, Who::P2, Who::L1, Who::J1, Who::M1]
        .iter()
        .map(|who| w.id(*who))
        .collect();
    let mut expected = members.clone();
    expected.insert(case);

    let done = w.act(
        Who::P2,
        PostMessage {
            case,
            kind: MessageKind::Image,
            content: doc("i"),
            for_judge: false,
        },
    );
    assert_eq!(
        done.subjects().iter().copied().collect::<BTreeSet<_>>(),
        expected
    );
    assert!(
        done.subjects().windows(2).all(|p| p[0] < p[1]),
        "sorted and distinct"
    );

    // A clue reporter and a recipient outside the case are named too.
    let p3 = w.id(Who::P3);
    let done = w.act(
        Who::P3,
        courtledger_ledger::act::ReportClue {
            case,
            kind: courtledger_ledger::ClueKind::Whereabouts,
            content: doc("seen"),
        },
    );
    let mut with_p3 = expected.clone();
    with_p3.insert(p3);
    assert_eq!(
        done.subjects().iter().copied().collect::<BTreeSet<_>>(),
        with_p3
    );
    let done = w.act(
        Who::C1,
        ServeDocument {
            case,
            recipient: p3,
            kind: DocumentKind::Notice,
            document: doc("n"),
        },
    );
    let mut with_c1 = with_p3.clone();
    with_c1.insert(w.id(Who::C1));
    assert_eq!(
        done.subjects().iter().copied().collect::<BTreeSet<_>>(),
        with_c1
    );

    // A member who leaves is named in the receipt of their departure, not afterwards.
    let l1 = w.id(Who::L1);
    let done = w.act(Who::L1, LeaveCase { case });
    assert!(done.subjects().contains(&l1));
    assert!(w.case_record(&case).member(&l1).is_none());
    assert_eq!(
        w.fail(
            Who::L1,
            PostMessage {
                case,
                kind: MessageKind::Text,
                content: doc("t"),
                for_judge: false
            }
        ),
        Code::NotMember
    );
    let done = w.act(
        Who::P1,
        PostMessage {
            case,
            kind: MessageKind::Text,
            content: doc("t"),
            for_judge: false,
        },
    );
    assert!(!done.subjects().contains(&l1));

    // A failure names only its signer.
    let done = w.act(Who::P3, World::evidence(case, "outsider"));
    assert_eq!(done.result(), Expect::Fail(Code::NotMember));
    assert_eq!(done.subjects(), [p3]);
}

#[test]
fn a_lawyer_files_for_a_plaintiff() {
    let mut w = World::new();
    let (p1, l1) = (w.id(Who::P1), w.id(Who::L1));
    let mut filing = w.civil_filing();
    filing.principal = Some(p1);
    filing.power_of_attorney = Some(doc("poa"));
    let case = w.ok(Who::L1, filing.clone());
    let record = w.case_record(&case);
    assert_eq!(record.filer, l1);
    let agent = record.member(&l1).expect("the lawyer is a member");
    assert_eq!(
        (agent.role, agent.principal, agent.power_of_attorney),
        (CaseRole::Agent, Some(p1), Some(doc("poa")))
    );
    assert!(w.state.0.contains_key(&keys::identity_case(&l1, &case)));
    // Not for a defendant, and not without a power of attorney.
    filing.principal = Some(w.id(Who::P2));
    assert_eq!(w.fail(Who::L1, filing.clone()), Code::InvalidArgument);
    filing.principal = Some(p1);
    filing.power_of_attorney = None;
    assert_eq!(w.fail(Who::L1, filing), Code::InvalidArgument);
}

#[test]
fn registrars_add_courts_under_their_own() {
    let mut w = World::new();
    let done = w.act(
        Who::RegHu,
        courtledger_ledger::act::AddCourt {
            code: court_code("沪02"),
            name: "Shanghai No. 2 Intermediate People's Court".into(),
            level: CourtLevel::Intermediate,
            parent: court_code("沪"),
        },
    );
    assert_eq!(done.result(), Expect::Ok);
    let record: CourtRecord = w.get(&keys::court(&court_code("沪02"))).expect("added");
    assert_eq!(record.parent, Some(court_code("沪")));
    assert_eq!(record.added_by, Some(w.id(Who::RegHu)));
    // The new court can have staff at once, registered by a registrar above it.
    let judge = fresh_key(120);
    let act = w.register_act(&judge, Role::Judge, Some("沪02"), "judge of 沪02");
    w.ok(Who::RegHu, act);
    let act = w.register_act(&fresh_key(121), Role::Judge, Some("沪02"), "judge of 沪02");
    assert_eq!(w.fail(Who::RegJing, act), Code::NotAuthorized);
    // Cases can be filed there and its judge reviews them.
    let case = file(&mut w, Who::P1, "沪02", CaseKind::Civil, Who::P1, Who::P2);
    w.try_with_key(&judge, World::accept(case))
        .expect("admitted");
    assert_eq!(
        w.case_record(&case).number.as_deref(),
        Some("(2026)沪02民初1号")
    );
}

#[test]
fn genesis_puts_courts_and_registrars_in_state() {
    let w = World::genesis_only();
    for (code, _, _, parent) in support::COURTS {
        let record: CourtRecord = w
            .get(&keys::court(&court_code(code)))
            .expect("a genesis court");
        assert_eq!(record.parent, parent.map(court_code));
        assert_eq!(record.added_by, None);
    }
    for who in [Who::RegJing, Who::RegHu] {
        let id = w.id(who);
        let record = w.identity_record(&id);
        assert_eq!(record.role, Role::Registrar);
        assert_eq!(record.court, who.court().map(court_code));
        assert_eq!(record.registered_by, None);
        assert_eq!(record.registered_at_ms, support::GENESIS_MS);
    }
    let registrar_court: CourtRecord = w.get(&keys::court(&court_code("京"))).unwrap();
    assert_eq!(registrar_court.level, CourtLevel::High);
}

#[test]
fn admission_refuses_unknown_signers_and_malformed_acts() {
    let mut w = World::new();
    let stranger = fresh_key(130);
    let act = w.civil_filing();
    assert_eq!(
        w.try_with_key(&stranger, act).unwrap_err(),
        Invalid::UnknownSigner
    );
    let key = w.key(Who::P1).clone();
    let mut payload = w.civil_filing().to_bytes();
    // A filing's fields without the act tag, then with an unknown tag, then with trailing bytes.
    for bytes in [payload.clone(), [vec![99], payload.clone()].concat(), {
        payload.insert(0, ActKind::FileCase.tag());
        payload.push(0);
        payload.clone()
    }] {
        let tx = Transaction {
            signer: key.public_key(),
            nonce: 1000,
            payload: bytes,
        }
        .sign(&key, &w.chain_id);
        assert!(matches!(w.submit(&tx), Err(Invalid::Malformed(_))));
    }
    payload.pop();
    let tx = Transaction {
        signer: key.public_key(),
        nonce: 1001,
        payload,
    }
    .sign(&key, &w.chain_id);
    assert_eq!(w.submit(&tx).expect("admitted").result(), Expect::Ok);
}

#[test]
fn leaving_staff_and_agents_lose_their_powers() {
    let mut w = World::at(Stage::Accepted);
    let case = w.case();
    w.ok(Who::J1, LeaveCase { case });
    assert_eq!(
        w.fail(
            Who::J1,
            IssueJudgment {
                case,
                kind: JudgmentKind::Ruling,
                document: doc("r")
            }
        ),
        Code::NotMember
    );
    // The court (any judge or clerk of it) still acts, and may assign a new judge.
    w.ok(
        Who::C1,
        AssignStaff {
            case,
            member: w.id(Who::J2),
            role: CaseRole::Judge,
        },
    );
    w.ok(
        Who::J2,
        IssueJudgment {
            case,
            kind: JudgmentKind::Ruling,
            document: doc("r"),
        },
    );
    // A party cannot leave.
    assert_eq!(w.fail(Who::P2, LeaveCase { case }), Code::NotAuthorized);
}

#[test]
fn transcript_signing_is_bound_to_the_recorded_text() {
    let mut w = World::at(Stage::Heard);
    let transcript = w.objects.transcript.unwrap();
    assert_eq!(
        w.fail(
            Who::P1,
            SignTranscript {
                transcript,
                content: doc("an altered transcript")
            }
        ),
        Code::ContentMismatch
    );
    let record: TranscriptRecord = w.object(keys::TRANSCRIPT, &transcript);
    assert!(record.signatures.is_empty());
    assert_eq!(
        w.fail(
            Who::P1,
            SignTranscript {
                transcript: doc("unknown"),
                content: doc(TRANSCRIPT)
            }
        ),
        Code::UnknownObject
    );
    assert_eq!(
        w.fail(
            Who::C1,
            HoldHearing {
                hearing: doc("unknown")
            }
        ),
        Code::UnknownObject
    );
    assert_eq!(
        w.fail(
            Who::C1,
            SignTranscript {
                transcript,
                content: doc(TRANSCRIPT)
            }
        ),
        Code::NotAuthorized
    );
    let unknown_case = doc("no such case");
    assert_eq!(
        w.fail(Who::P1, World::evidence(unknown_case, "x")),
        Code::UnknownCase
    );
    assert_eq!(
        w.fail(
            Who::C1,
            AddParty {
                case: w.case(),
                party: doc("nobody"),
                role: CaseRole::ThirdParty
            }
        ),
        Code::UnknownIdentity
    );
}

/// The largest filing the encoding allows (32 registered parties a side, a lawyer, 64
/// attachments) and the largest transcript execute within every bound: no limit assertion in
/// execution can fire on valid input.
#[test]
fn the_largest_filing_and_transcript_fit_every_bound() {
    use courtledger_ledger::act::Attachment;
    use courtledger_ledger::{AttachmentKind, PartyRef};
    use courtledger_types::limits::{
        MAX_ACT_WRITES, MAX_FILING_ATTACHMENTS, MAX_PARTIES_PER_SIDE, MAX_REQUIRED_SIGNERS,
    };
    let mut w = World::new();
    let per_side = usize::try_from(MAX_PARTIES_PER_SIDE).unwrap();
    let mut parties = Vec::new();
    for i in 0..2 * per_side {
        let key = fresh_key(140 + u8::try_from(i).unwrap());
        let act = w.register_act(&key, Role::Party, None, &format!("party {i}"));
        parties.push(w.ok(Who::RegHu, act));
    }
    let mut filing = w.civil_filing();
    filing.plaintiffs = parties[..per_side]
        .iter()
        .map(|id| PartyRef::Registered(*id))
        .collect();
    filing.defendants = parties[per_side..]
        .iter()
        .map(|id| PartyRef::Registered(*id))
        .collect();
    filing.attachments = (0..MAX_FILING_ATTACHMENTS)
        .map(|i| Attachment {
            kind: AttachmentKind::Evidence,
            sha256: doc(&format!("attachment {i}")),
            size: u64::MAX,
        })
        .collect();
    filing.principal = Some(parties[0]);
    filing.power_of_attorney = Some(doc("poa"));
    let done = w.act(Who::L1, filing);
    assert_eq!(done.result(), Expect::Ok);
    assert!(done.writes().len() <= usize::try_from(MAX_ACT_WRITES).unwrap());
    let case = done.tx_id;
    assert_eq!(w.case_record(&case).members.len(), 2 * per_side + 1);
    accept(&mut w, Who::C1, case);
    for (who, role) in [(Who::J1, CaseRole::Judge), (Who::C1, CaseRole::Clerk)] {
        let member = w.id(who);
        w.ok(Who::C1, AssignStaff { case, member, role });
    }
    let at_ms = w.time_ms + HOUR;
    let hearing = w.ok(
        Who::C1,
        ScheduleHearing {
            case,
            at_ms,
            mode: HearingMode::InCourt,
            location: "大法庭".repeat(100),
        },
    );
    w.set_time(at_ms);
    w.ok(Who::C1, HoldHearing { hearing });
    let signers: Vec<_> = parties
        .iter()
        .take(usize::try_from(MAX_REQUIRED_SIGNERS).unwrap())
        .copied()
        .collect();
    let transcript = w.ok(
        Who::C1,
        RecordTranscript {
            hearing,
            transcript: doc(TRANSCRIPT),
            signers: signers.clone(),
        },
    );
    let record: TranscriptRecord = w.object(keys::TRANSCRIPT, &transcript);
    assert_eq!(record.required, signers);
}
