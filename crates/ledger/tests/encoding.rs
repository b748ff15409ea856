//! Golden fixtures of the act encoding: one act of every kind, built from fixed seeds, compared
//! byte for byte with `tests/golden/<act>.hex` (`COURTLEDGER_UPDATE_GOLDEN=1` rewrites them),
//! decoded back, and refused with a trailing byte or when cut short.

mod support;

use std::collections::BTreeSet;

use courtledger_codec::{DecodeError, Encode};
use courtledger_crypto::{sha256, ChainId, Digest, SigningKey};
use courtledger_ledger::act::*;
use courtledger_ledger::{
    identity_commitment, possession_message, ActKind, AttachmentKind, CaseKind, CaseRole, ClueKind,
    DocumentKind, HearingMode, JudgmentKind, MessageKind, Outcome, Role,
};
use courtledger_types::limits::{MAX_ACT_TEXT_BYTES, MAX_PARTIES_PER_SIDE, MAX_TX_PAYLOAD_BYTES};
use courtledger_types::{CourtCode, CourtLevel};
use support::check_golden_text;

fn key(seed: u8) -> SigningKey {
    SigningKey::from_seed(&[seed; 32])
}

fn chain() -> ChainId {
    ChainId(sha256(b"courtledger-test"))
}

fn id(label: &str) -> Digest {
    sha256(label.as_bytes())
}

fn court(code: &str) -> CourtCode {
    CourtCode::new(code).expect("valid")
}

/// One act of every kind, with every optional field present somewhere.
fn samples() -> Vec<Act> {
    let new_key = key(1);
    let role = Role::Judge;
    let commitment = identity_commitment(&[9; 32], "resident_id", "110105199001011234", "张三");
    let court_0105 = court("京0105");
    let registration = RegisterIdentity {
        key: new_key.public_key(),
        role,
        court: Some(court_0105.clone()),
        commitment,
        possession: sign_possession(
            &new_key,
            &chain(),
            &Possession::Registration {
                key: &new_key.public_key(),
                role,
                court: Some(&court_0105),
                commitment: &commitment,
            },
        ),
    };
    let rotated = key(2);
    let identity = id("identity");
    let rotation = RotateKey {
        new_key: rotated.public_key(),
        possession: sign_possession(
            &rotated,
            &chain(),
            &Possession::Rotation {
                identity: &identity,
                new_key: &rotated.public_key(),
            },
        ),
    };
    let case = id("case");
    vec![
        registration.into(),
        rotation.into(),
        RevokeIdentity {
            identity,
            reason: "证件伪造".into(),
        }
        .into(),
        AddCourt {
            code: court("京02"),
            name: "北京市第二中级人民法院".into(),
            level: CourtLevel::Intermediate,
            parent: court("京"),
        }
        .into(),
        FileCase {
            court: court("京0105"),
            receiving_court: Some(court("沪0101")),
            kind: CaseKind::Civil,
            plaintiffs: vec![PartyRef::Registered(id("plaintiff"))],
            defendants: vec![
                PartyRef::Registered(id("defendant")),
                PartyRef::Unregistered(id("unregistered defendant")),
            ],
            claim_summary: id("claim"),
            complaint: id("complaint"),
            attachments: vec![
                Attachment {
                    kind: AttachmentKind::IdDocument,
                    sha256: id("id card"),
                    size: 204_800,
                },
                Attachment {
                    kind: AttachmentKind::PowerOfAttorney,
                    sha256: id("poa"),
                    size: 1_000,
                },
            ],
            principal: Some(id("plaintiff")),
            power_of_attorney: Some(id("poa")),
        }
        .into(),
        ReviewFiling {
            case,
            decision: Decision::Reject {
                reason: "不属于本院管辖".into(),
            },
        }
        .into(),
        AssignStaff {
            case,
            member: id("judge"),
            role: CaseRole::Judge,
        }
        .into(),
        AddParty {
            case,
            party: id("third party"),
            role: CaseRole::ThirdParty,
        }
        .into(),
        AppointLawyer {
            case,
            lawyer: id("lawyer"),
            power_of_attorney: id("poa"),
        }
        .into(),
        LeaveCase { case }.into(),
        SetEvidenceDeadline {
            case,
            deadline_ms: 1_790_000_000_000,
        }
        .into(),
        SubmitEvidence {
            case,
            file: FileRef {
                sha256: id("contract"),
                size: 3_145_728,
                media_type: "application/pdf".into(),
                title: "借款合同".into(),
            },
        }
        .into(),
        ReceiveEvidence {
            evidence: id("evidence"),
        }
        .into(),
        PostMessage {
            case,
            kind: MessageKind::Voice,
            content: id("voice"),
            for_judge: true,
        }
        .into(),
        ScheduleHearing {
            case,
            at_ms: 1_780_000_000_000,
            mode: HearingMode::Online,
            location: "第三法庭（在线）".into(),
        }
        .into(),
        HoldHearing {
            hearing: id("hearing"),
        }
        .into(),
        RecordTranscript {
            hearing: id("hearing"),
            transcript: id("transcript"),
            signers: vec![id("plaintiff"), id("defendant"), id("judge")],
        }
        .into(),
        SignTranscript {
            transcript: id("transcript record"),
            content: id("transcript"),
        }
        .into(),
        ProposeMediation {
            case,
            agreement: id("agreement"),
            signers: vec![id("plaintiff"), id("defendant")],
        }
        .into(),
        SignMediation {
            mediation: id("mediation"),
            content: id("agreement"),
        }
        .into(),
        ConfirmMediation {
            mediation: id("mediation"),
        }
        .into(),
        ServeDocument {
            case,
            recipient: id("defendant"),
            kind: DocumentKind::Summons,
            document: id("summons"),
        }
        .into(),
        AcknowledgeService {
            service: id("service"),
            document: id("summons"),
        }
        .into(),
        IssueJudgment {
            case,
            kind: JudgmentKind::Judgment,
            document: id("judgment"),
        }
        .into(),
        PublishJudgment {
            judgment: id("judgment record"),
            public_document: id("redacted"),
        }
        .into(),
        ReportClue {
            case,
            kind: ClueKind::Assets,
            content: id("clue"),
        }
        .into(),
        CloseCase {
            case,
            outcome: Outcome::Mediation,
        }
        .into(),
    ]
}

#[test]
fn every_act_kind_matches_its_golden_fixture_and_decodes_back() {
    let samples = samples();
    let kinds: BTreeSet<ActKind> = samples.iter().map(Act::kind).collect();
    assert_eq!(kinds.len(), samples.len(), "one sample per kind");
    assert_eq!(
        kinds,
        ActKind::ALL.iter().copied().collect(),
        "every kind has a sample"
    );
    for act in samples {
        let name = act.kind().name();
        let bytes = act.to_bytes();
        check_golden_text(&format!("{name}.hex"), &hex::encode(&bytes));
        assert_eq!(
            bytes[0],
            act.kind().tag(),
            "{name}: the first byte is the tag"
        );
        assert_eq!(
            Act::decode(&bytes).as_ref(),
            Ok(&act),
            "{name}: decodes back"
        );

        let mut trailing = bytes.clone();
        trailing.push(0);
        assert_eq!(
            Act::decode(&trailing),
            Err(DecodeError::TrailingBytes { count: 1 }),
            "{name}: a trailing byte"
        );
        for len in 0..bytes.len() {
            assert!(
                Act::decode(&bytes[..len]).is_err(),
                "{name}: cut to {len} bytes"
            );
        }
    }
}

#[test]
fn possession_messages_and_commitments_match_their_fixtures() {
    let k = key(1);
    let court_0105 = court("京0105");
    let commitment = identity_commitment(&[9; 32], "resident_id", "110105199001011234", "张三");
    check_golden_text(
        "identity_commitment.hex",
        &hex::encode(commitment.as_bytes()),
    );
    let registration = possession_message(&Possession::Registration {
        key: &k.public_key(),
        role: Role::Judge,
        court: Some(&court_0105),
        commitment: &commitment,
    });
    check_golden_text("possession_registration.hex", &hex::encode(&registration));
    let identity = id("identity");
    let rotation = possession_message(&Possession::Rotation {
        identity: &identity,
        new_key: &k.public_key(),
    });
    check_golden_text("possession_rotation.hex", &hex::encode(&rotation));
    assert_eq!(registration[0], 1);
    assert_eq!(rotation[0], 2);
}

#[test]
fn unknown_tags_and_oversized_fields_are_refused() {
    let known: BTreeSet<u8> = ActKind::ALL.iter().map(|kind| kind.tag()).collect();
    for tag in 0..=u8::MAX {
        if !known.contains(&tag) {
            assert_eq!(
                Act::decode(&[tag]),
                Err(DecodeError::InvalidTag {
                    what: "act kind",
                    tag
                })
            );
        }
    }
    // A text one byte over its bound.
    let long = Act::from(RevokeIdentity {
        identity: id("x"),
        reason: "x".repeat(usize::try_from(MAX_ACT_TEXT_BYTES).unwrap() + 1),
    });
    assert!(Act::decode(&long.to_bytes()).is_err());
    let at_bound = Act::from(RevokeIdentity {
        identity: id("x"),
        reason: "x".repeat(usize::try_from(MAX_ACT_TEXT_BYTES).unwrap()),
    });
    assert_eq!(Act::decode(&at_bound.to_bytes()), Ok(at_bound));
    // A side with one party too many.
    let party = PartyRef::Registered(id("p"));
    let mut filing = FileCase {
        court: court("京0105"),
        receiving_court: None,
        kind: CaseKind::Civil,
        plaintiffs: vec![party],
        defendants: vec![party; usize::try_from(MAX_PARTIES_PER_SIDE).unwrap()],
        claim_summary: id("c"),
        complaint: id("c"),
        attachments: Vec::new(),
        principal: None,
        power_of_attorney: None,
    };
    assert!(Act::decode(&Act::from(filing.clone()).to_bytes()).is_ok());
    filing.defendants.push(party);
    assert!(Act::decode(&Act::from(filing).to_bytes()).is_err());
    // A bad enum value inside an act, a bad option tag, a bad bool.
    let mut bytes = Act::from(CloseCase {
        case: id("c"),
        outcome: Outcome::Judgment,
    })
    .to_bytes();
    *bytes.last_mut().unwrap() = 9;
    assert!(Act::decode(&bytes).is_err());
    let mut bytes = Act::from(PostMessage {
        case: id("c"),
        kind: MessageKind::Text,
        content: id("m"),
        for_judge: false,
    })
    .to_bytes();
    *bytes.last_mut().unwrap() = 2;
    assert!(Act::decode(&bytes).is_err());
    // A payload over the transaction bound is refused before it is read.
    let huge = vec![ActKind::LeaveCase.tag(); usize::try_from(MAX_TX_PAYLOAD_BYTES).unwrap() + 1];
    assert!(matches!(
        Act::decode(&huge),
        Err(DecodeError::InputTooLarge { .. })
    ));
}
