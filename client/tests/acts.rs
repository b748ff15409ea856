//! Command-line arguments → acts: every act command, parsed by the real command line and built
//! by its real builder, yields exactly the act written out by hand here. Files are hashed for
//! real (temporary files); nothing talks to a node.

// Helpers outside #[test] functions are test code too.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use clap::{CommandFactory as _, Parser as _};
use courtledger_client::acts::Prepared;
use courtledger_client::cli::{Cli, Command};
use courtledger_client::read_genesis;
use courtledger_client::submit::{
    payload, result_json, sign_act, BuildEnv, Committed, Submitted, TxState,
};
use courtledger_crypto::{sha256, ChainId, Digest, SigningKey};
use courtledger_ledger::act::*;
use courtledger_ledger::*;
use courtledger_types::{CourtCode, CourtLevel, Genesis};
use serde_json::json;

fn example_genesis_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../genesis/example.json")
}

struct Fixture {
    dir: tempfile::TempDir,
    genesis: Genesis,
    signer: SigningKey,
}

impl Fixture {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            genesis: read_genesis(&example_genesis_path()).unwrap(),
            signer: SigningKey::from_seed(&[7; 32]),
        }
    }

    fn chain_id(&self) -> ChainId {
        self.genesis.chain_id()
    }

    fn env(&self) -> BuildEnv<'_> {
        BuildEnv {
            chain_id: self.chain_id(),
            genesis: &self.genesis,
            signer: self.signer.public_key(),
            node: None,
        }
    }

    /// Writes a file and returns its path and SHA-256.
    fn file(&self, name: &str, contents: &[u8]) -> (String, Digest) {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents).unwrap();
        (path.to_str().unwrap().to_owned(), sha256(contents))
    }

    /// Parses `args` (after `courtledger`, plus --key and --genesis) and builds the act.
    fn build(&self, args: &[&str]) -> anyhow::Result<Prepared> {
        let command = parse(args).map_err(|error| anyhow::anyhow!("{error}"))?;
        let (sign, builder) = command.as_act().expect("an act command");
        assert_eq!(sign.key, PathBuf::from("signer.json"));
        assert!(!sign.no_wait);
        builder.build(&self.env())
    }

    fn act(&self, args: &[&str]) -> Act {
        let prepared = self
            .build(args)
            .unwrap_or_else(|error| panic!("{args:?}: {error:#}"));
        // Every act the client builds is one the ledger decodes, and fits a transaction.
        let bytes = payload(&prepared.act).unwrap();
        assert_eq!(Act::decode(&bytes).unwrap(), prepared.act);
        prepared.act
    }
}

fn parse(args: &[&str]) -> Result<Command, clap::Error> {
    let mut argv = vec!["courtledger"];
    argv.extend_from_slice(args);
    argv.extend_from_slice(&["--key", "signer.json", "--genesis", "genesis.json"]);
    Cli::try_parse_from(argv).map(|cli| cli.command)
}

fn id(byte: u8) -> Digest {
    Digest([byte; 32])
}

fn hex_id(byte: u8) -> String {
    id(byte).to_string()
}

fn court(code: &str) -> CourtCode {
    CourtCode::new(code).unwrap()
}

#[test]
fn the_command_line_is_well_formed() {
    Cli::command().debug_assert();
}

#[test]
fn identity_register_checks_the_possession_signature() {
    let f = Fixture::new();
    let person = SigningKey::from_seed(&[9; 32]);
    let person_key = person.public_key();
    let commitment = identity_commitment(&[1; 32], "resident_id_card", "110105", "张三");
    let court_code = court("京0105");
    let possession = sign_possession(
        &person,
        &f.chain_id(),
        &Possession::Registration {
            key: &person_key,
            role: Role::Judge,
            court: Some(&court_code),
            commitment: &commitment,
        },
    );
    let args = |role: &'static str, court: Option<&'static str>| {
        let mut args = vec![
            "identity".to_owned(),
            "register".to_owned(),
            "--public-key".to_owned(),
            person_key.to_string(),
            "--role".to_owned(),
            role.to_owned(),
            "--commitment".to_owned(),
            commitment.to_string(),
            "--possession".to_owned(),
            possession.to_string(),
        ];
        if let Some(court) = court {
            args.extend(["--court".to_owned(), court.to_owned()]);
        }
        args
    };
    let owned = args("judge", Some("京0105"));
    let borrowed: Vec<&str> = owned.iter().map(String::as_str).collect();
    assert_eq!(
        f.act(&borrowed),
        Act::RegisterIdentity(RegisterIdentity {
            key: person_key,
            role: Role::Judge,
            court: Some(court_code),
            commitment,
            possession,
        })
    );
    // The same signature for another role, another court, or no court is refused here.
    for (role, court) in [("clerk", Some("京0105")), ("judge", Some("京01"))] {
        let owned = args(role, court);
        let borrowed: Vec<&str> = owned.iter().map(String::as_str).collect();
        let error = f.build(&borrowed).unwrap_err().to_string();
        assert!(error.contains("possession signature"), "{error}");
    }
    let owned = args("judge", None);
    let borrowed: Vec<&str> = owned.iter().map(String::as_str).collect();
    assert!(f
        .build(&borrowed)
        .unwrap_err()
        .to_string()
        .contains("--court"));
    let owned = args("party", Some("京0105"));
    let borrowed: Vec<&str> = owned.iter().map(String::as_str).collect();
    assert!(f
        .build(&borrowed)
        .unwrap_err()
        .to_string()
        .contains("--court"));
    // Unknown role names are refused by the command line.
    let owned = args("emperor", None);
    let borrowed: Vec<&str> = owned.iter().map(String::as_str).collect();
    assert!(parse(&borrowed).is_err());
}

#[test]
fn identity_rotate_signs_the_new_keys_consent() {
    let f = Fixture::new();
    let new = SigningKey::from_seed(&[3; 32]);
    let new_file = f.dir.path().join("new.json");
    courtledger_keystore::write_key_file(&new_file, &new).unwrap();
    let new_path = new_file.to_str().unwrap();
    let identity = id(0x11);
    let expected = |identity: &Digest| {
        Act::RotateKey(RotateKey {
            new_key: new.public_key(),
            possession: sign_possession(
                &new,
                &f.chain_id(),
                &Possession::Rotation {
                    identity,
                    new_key: &new.public_key(),
                },
            ),
        })
    };
    let act = f.act(&[
        "identity",
        "rotate",
        "--new-key",
        new_path,
        "--identity",
        &identity.to_string(),
    ]);
    assert_eq!(act, expected(&identity));

    // Without --identity: only a registrar listed in genesis knows its id.
    let error = f
        .build(&["identity", "rotate", "--new-key", new_path])
        .unwrap_err()
        .to_string();
    assert!(error.contains("--identity"), "{error}");
    let mut file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(example_genesis_path()).unwrap()).unwrap();
    file["registrars"][0]["public_key"] = json!(f.signer.public_key().to_string());
    let genesis = Genesis::from_json(&file.to_string()).unwrap();
    let env = BuildEnv {
        chain_id: genesis.chain_id(),
        genesis: &genesis,
        signer: f.signer.public_key(),
        node: None,
    };
    let command = parse(&["identity", "rotate", "--new-key", new_path]).unwrap();
    let act = command.as_act().unwrap().1.build(&env).unwrap().act;
    let registrar_id = genesis_identity_id(&f.signer.public_key());
    let Act::RotateKey(rotate) = act else {
        panic!("not a rotation")
    };
    let message = possession_message(&Possession::Rotation {
        identity: &registrar_id,
        new_key: &new.public_key(),
    });
    courtledger_crypto::verify(
        &new.public_key(),
        courtledger_crypto::Domain::IdentityAttestation,
        &genesis.chain_id(),
        &message,
        &rotate.possession,
    )
    .unwrap();

    // Rotating to the signing key itself is refused.
    let same = f.dir.path().join("same.json");
    courtledger_keystore::write_key_file(&same, &f.signer).unwrap();
    assert!(f
        .build(&[
            "identity",
            "rotate",
            "--new-key",
            same.to_str().unwrap(),
            "--identity",
            &identity.to_string(),
        ])
        .is_err());
}

#[test]
fn identity_revoke_and_court_add() {
    let f = Fixture::new();
    assert_eq!(
        f.act(&[
            "identity",
            "revoke",
            "--identity",
            &hex_id(4),
            "--reason",
            "key reported stolen",
        ]),
        Act::RevokeIdentity(RevokeIdentity {
            identity: id(4),
            reason: "key reported stolen".to_owned(),
        })
    );
    assert!(f
        .build(&[
            "identity",
            "revoke",
            "--identity",
            &hex_id(4),
            "--reason",
            " "
        ])
        .is_err());
    assert_eq!(
        f.act(&[
            "court",
            "add",
            "--code",
            "京0108",
            "--name",
            "Beijing Haidian District People's Court",
            "--level",
            "basic",
            "--parent",
            "京01",
        ]),
        Act::AddCourt(AddCourt {
            code: court("京0108"),
            name: "Beijing Haidian District People's Court".to_owned(),
            level: CourtLevel::Basic,
            parent: court("京01"),
        })
    );
    assert!(parse(&[
        "court", "add", "--code", "x", "--name", "y", "--level", "Basic", "--parent", "z"
    ])
    .is_err());
}

#[test]
fn case_file_hashes_every_file() {
    let f = Fixture::new();
    let (claims, claims_hash) = f.file("claims.pdf", b"claims");
    let (complaint, complaint_hash) = f.file("complaint.pdf", b"the complaint");
    let (id_doc, id_hash) = f.file("id.jpg", b"id card scan");
    let (evidence, evidence_hash) = f.file("contract.pdf", b"a contract!");
    let (poa, poa_hash) = f.file("poa.pdf", b"power of attorney");
    let attach_id = format!("id_document={id_doc}");
    let attach_evidence = format!("evidence={evidence}");
    let prepared = f
        .build(&[
            "case",
            "file",
            "--court",
            "京0105",
            "--receiving-court",
            "沪0115",
            "--kind",
            "civil",
            "--plaintiff",
            &hex_id(1),
            "--defendant",
            &format!("{},{}", hex_id(2), hex_id(3)),
            "--unregistered-defendant",
            &hex_id(4),
            "--claim-summary",
            &claims,
            "--complaint",
            &complaint,
            "--attach",
            &attach_id,
            "--attach",
            &attach_evidence,
            "--principal",
            &hex_id(1),
            "--power-of-attorney",
            &poa,
        ])
        .unwrap();
    assert_eq!(
        prepared.act,
        Act::FileCase(FileCase {
            court: court("京0105"),
            receiving_court: Some(court("沪0115")),
            kind: CaseKind::Civil,
            plaintiffs: vec![PartyRef::Registered(id(1))],
            defendants: vec![
                PartyRef::Registered(id(2)),
                PartyRef::Registered(id(3)),
                PartyRef::Unregistered(id(4)),
            ],
            claim_summary: claims_hash,
            complaint: complaint_hash,
            attachments: vec![
                Attachment {
                    kind: AttachmentKind::IdDocument,
                    sha256: id_hash,
                    size: 12,
                },
                Attachment {
                    kind: AttachmentKind::Evidence,
                    sha256: evidence_hash,
                    size: 11,
                },
            ],
            principal: Some(id(1)),
            power_of_attorney: Some(poa_hash),
        })
    );
    assert_eq!(
        prepared.details["complaint"]["sha256"],
        complaint_hash.to_string()
    );
    assert_eq!(prepared.details["attachments"][1]["kind"], "evidence");

    // A party filing alone, with the least.
    assert_eq!(
        f.act(&[
            "case",
            "file",
            "--court",
            "京0105",
            "--kind",
            "criminal_private",
            "--plaintiff",
            &hex_id(1),
            "--unregistered-defendant",
            &hex_id(9),
            "--claim-summary",
            &claims,
            "--complaint",
            &complaint,
        ]),
        Act::FileCase(FileCase {
            court: court("京0105"),
            receiving_court: None,
            kind: CaseKind::CriminalPrivate,
            plaintiffs: vec![PartyRef::Registered(id(1))],
            defendants: vec![PartyRef::Unregistered(id(9))],
            claim_summary: claims_hash,
            complaint: complaint_hash,
            attachments: Vec::new(),
            principal: None,
            power_of_attorney: None,
        })
    );

    let base = [
        "case",
        "file",
        "--court",
        "京0105",
        "--kind",
        "civil",
        "--claim-summary",
        &claims,
        "--complaint",
        &complaint,
    ];
    let with = |extra: &[&str]| {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        f.build(&args)
    };
    // No defendant, no plaintiff, a principal who is not a plaintiff, a missing file.
    assert!(with(&["--plaintiff", &hex_id(1)]).is_err());
    assert!(with(&["--defendant", &hex_id(2)]).is_err());
    assert!(with(&[
        "--plaintiff",
        &hex_id(1),
        "--defendant",
        &hex_id(2),
        "--principal",
        &hex_id(5),
        "--power-of-attorney",
        &poa,
    ])
    .is_err());
    let absent = f.dir.path().join("absent.pdf");
    let attach_absent = format!("evidence={}", absent.display());
    assert!(with(&[
        "--plaintiff",
        &hex_id(1),
        "--defendant",
        &hex_id(2),
        "--attach",
        &attach_absent,
    ])
    .is_err());
    // A principal needs a power of attorney (and the reverse); kinds are checked.
    let one = hex_id(1);
    let mut args = base.to_vec();
    args.extend_from_slice(&["--plaintiff", &one, "--principal", &one]);
    assert!(parse(&args).is_err());
    let mut args = base.to_vec();
    args.extend_from_slice(&["--attach", "passport=x.pdf"]);
    assert!(parse(&args).is_err());
    let mut args = base.to_vec();
    args[5] = "criminal";
    assert!(parse(&args).is_err());
}

#[test]
fn case_review_members_deadline_and_close() {
    let f = Fixture::new();
    let case = id(0xca);
    let case_hex = case.to_string();
    assert_eq!(
        f.act(&["case", "review", &case_hex, "--accept"]),
        Act::ReviewFiling(ReviewFiling {
            case,
            decision: Decision::Accept,
        })
    );
    assert_eq!(
        f.act(&["case", "review", &case_hex, "--reject", "no jurisdiction"]),
        Act::ReviewFiling(ReviewFiling {
            case,
            decision: Decision::Reject {
                reason: "no jurisdiction".to_owned()
            },
        })
    );
    assert!(parse(&["case", "review", &case_hex]).is_err());
    assert!(parse(&["case", "review", &case_hex, "--accept", "--reject", "x"]).is_err());

    assert_eq!(
        f.act(&[
            "case",
            "assign",
            &case_hex,
            "--member",
            &hex_id(5),
            "--role",
            "judge"
        ]),
        Act::AssignStaff(AssignStaff {
            case,
            member: id(5),
            role: CaseRole::Judge,
        })
    );
    assert!(parse(&[
        "case",
        "assign",
        &case_hex,
        "--member",
        &hex_id(5),
        "--role",
        "plaintiff"
    ])
    .is_err());
    assert_eq!(
        f.act(&[
            "case",
            "add-party",
            &case_hex,
            "--party",
            &hex_id(6),
            "--role",
            "third_party",
        ]),
        Act::AddParty(AddParty {
            case,
            party: id(6),
            role: CaseRole::ThirdParty,
        })
    );
    assert!(parse(&[
        "case",
        "add-party",
        &case_hex,
        "--party",
        &hex_id(6),
        "--role",
        "judge"
    ])
    .is_err());

    let (poa, poa_hash) = f.file("poa.pdf", b"I appoint");
    assert_eq!(
        f.act(&[
            "case",
            "appoint-lawyer",
            &case_hex,
            "--lawyer",
            &hex_id(7),
            "--power-of-attorney",
            &poa,
        ]),
        Act::AppointLawyer(AppointLawyer {
            case,
            lawyer: id(7),
            power_of_attorney: poa_hash,
        })
    );
    assert_eq!(
        f.act(&["case", "leave", &case_hex]),
        Act::LeaveCase(LeaveCase { case })
    );
    // 2026-12-31T17:00:00+08:00 is 09:00 UTC.
    let prepared = f
        .build(&[
            "case",
            "evidence-deadline",
            &case_hex,
            "--at",
            "2026-12-31T17:00:00+08:00",
        ])
        .unwrap();
    assert_eq!(
        prepared.act,
        Act::SetEvidenceDeadline(SetEvidenceDeadline {
            case,
            deadline_ms: 1_798_707_600_000,
        })
    );
    assert_eq!(prepared.details["deadline"], "2026-12-31T09:00:00.000Z");
    assert!(parse(&[
        "case",
        "evidence-deadline",
        &case_hex,
        "--at",
        "2026-12-31 17:00"
    ])
    .is_err());
    assert_eq!(
        f.act(&["case", "close", &case_hex, "--outcome", "withdrawn"]),
        Act::CloseCase(CloseCase {
            case,
            outcome: Outcome::Withdrawn,
        })
    );
    // Ids are 64 hex characters.
    assert!(parse(&["case", "leave", "abc"]).is_err());
}

#[test]
fn evidence_and_messages() {
    let f = Fixture::new();
    let case = id(0xca);
    let case_hex = case.to_string();
    let (file, hash) = f.file("Contract.PDF", b"%PDF contract");
    assert_eq!(
        f.act(&["evidence", "submit", &case_hex, &file]),
        Act::SubmitEvidence(SubmitEvidence {
            case,
            file: FileRef {
                sha256: hash,
                size: 13,
                media_type: "application/pdf".to_owned(),
                title: "Contract.PDF".to_owned(),
            },
        })
    );
    assert_eq!(
        f.act(&[
            "evidence",
            "submit",
            &case_hex,
            &file,
            "--title",
            "Loan contract of 2024-03-01",
            "--media-type",
            "application/x-custom",
        ]),
        Act::SubmitEvidence(SubmitEvidence {
            case,
            file: FileRef {
                sha256: hash,
                size: 13,
                media_type: "application/x-custom".to_owned(),
                title: "Loan contract of 2024-03-01".to_owned(),
            },
        })
    );
    // Titles beyond the ledger's bound are refused before signing.
    let long = "t".repeat(513);
    assert!(f
        .build(&["evidence", "submit", &case_hex, &file, "--title", &long])
        .and_then(|prepared| payload(&prepared.act))
        .is_err());
    assert_eq!(
        f.act(&["evidence", "receive", &hex_id(0xee)]),
        Act::ReceiveEvidence(ReceiveEvidence { evidence: id(0xee) })
    );

    assert_eq!(
        f.act(&[
            "message",
            "post",
            &case_hex,
            "--text",
            "请法官注意",
            "--for-judge"
        ]),
        Act::PostMessage(PostMessage {
            case,
            kind: MessageKind::Text,
            content: sha256("请法官注意".as_bytes()),
            for_judge: true,
        })
    );
    let (voice, voice_hash) = f.file("note.m4a", b"voice bytes");
    assert_eq!(
        f.act(&["message", "post", &case_hex, &voice]),
        Act::PostMessage(PostMessage {
            case,
            kind: MessageKind::Voice,
            content: voice_hash,
            for_judge: false,
        })
    );
    assert_eq!(
        f.act(&["message", "post", &case_hex, &voice, "--kind", "image"]),
        Act::PostMessage(PostMessage {
            case,
            kind: MessageKind::Image,
            content: voice_hash,
            for_judge: false,
        })
    );
    assert!(parse(&["message", "post", &case_hex]).is_err());
    assert!(parse(&["message", "post", &case_hex, &voice, "--text", "x"]).is_err());
}

#[test]
fn hearings_and_transcripts() {
    let f = Fixture::new();
    let case = id(0xca);
    assert_eq!(
        f.act(&[
            "hearing",
            "schedule",
            &case.to_string(),
            "--at",
            "2026-12-01T09:30:00+08:00",
            "--mode",
            "online",
            "--location",
            "Online courtroom 3",
        ]),
        Act::ScheduleHearing(ScheduleHearing {
            case,
            at_ms: 1_796_088_600_000,
            mode: HearingMode::Online,
            location: "Online courtroom 3".to_owned(),
        })
    );
    assert_eq!(
        f.act(&["hearing", "hold", &hex_id(0x4e)]),
        Act::HoldHearing(HoldHearing { hearing: id(0x4e) })
    );
    let (transcript, hash) = f.file("transcript.pdf", b"Q: ... A: ...");
    assert_eq!(
        f.act(&[
            "hearing",
            "transcript",
            &hex_id(0x4e),
            &transcript,
            "--signer",
            &hex_id(1),
            "--signer",
            &format!("{},{}", hex_id(2), hex_id(5)),
        ]),
        Act::RecordTranscript(RecordTranscript {
            hearing: id(0x4e),
            transcript: hash,
            signers: vec![id(1), id(2), id(5)],
        })
    );
    assert!(parse(&["hearing", "transcript", &hex_id(0x4e), &transcript]).is_err());
    assert!(f
        .build(&[
            "hearing",
            "transcript",
            &hex_id(0x4e),
            &transcript,
            "--signer",
            &format!("{},{}", hex_id(2), hex_id(2)),
        ])
        .is_err());
    assert_eq!(
        f.act(&["hearing", "sign", &hex_id(0x7e), &transcript]),
        Act::SignTranscript(SignTranscript {
            transcript: id(0x7e),
            content: hash,
        })
    );
}

#[test]
fn mediation_service_judgments_and_clues() {
    let f = Fixture::new();
    let case = id(0xca);
    let case_hex = case.to_string();
    let (agreement, agreement_hash) = f.file("agreement.pdf", b"we agree");
    assert_eq!(
        f.act(&[
            "mediation",
            "propose",
            &case_hex,
            &agreement,
            "--signer",
            &format!("{},{}", hex_id(1), hex_id(2)),
        ]),
        Act::ProposeMediation(ProposeMediation {
            case,
            agreement: agreement_hash,
            signers: vec![id(1), id(2)],
        })
    );
    assert_eq!(
        f.act(&["mediation", "sign", &hex_id(0x3d), &agreement]),
        Act::SignMediation(SignMediation {
            mediation: id(0x3d),
            content: agreement_hash,
        })
    );
    assert_eq!(
        f.act(&["mediation", "confirm", &hex_id(0x3d)]),
        Act::ConfirmMediation(ConfirmMediation {
            mediation: id(0x3d)
        })
    );

    let (summons, summons_hash) = f.file("summons.pdf", b"you are summoned");
    assert_eq!(
        f.act(&[
            "service",
            "serve",
            &case_hex,
            "--recipient",
            &hex_id(2),
            "--kind",
            "summons",
            &summons,
        ]),
        Act::ServeDocument(ServeDocument {
            case,
            recipient: id(2),
            kind: DocumentKind::Summons,
            document: summons_hash,
        })
    );
    assert_eq!(
        f.act(&["service", "acknowledge", &hex_id(0x5e), &summons]),
        Act::AcknowledgeService(AcknowledgeService {
            service: id(0x5e),
            document: summons_hash,
        })
    );

    let (judgment, judgment_hash) = f.file("judgment.pdf", b"judgment text");
    let (public, public_hash) = f.file("public.pdf", b"judgment text, redacted");
    assert_eq!(
        f.act(&["judgment", "issue", &case_hex, "--kind", "ruling", &judgment]),
        Act::IssueJudgment(IssueJudgment {
            case,
            kind: JudgmentKind::Ruling,
            document: judgment_hash,
        })
    );
    assert_eq!(
        f.act(&["judgment", "publish", &hex_id(0x1d), &public]),
        Act::PublishJudgment(PublishJudgment {
            judgment: id(0x1d),
            public_document: public_hash,
        })
    );
    let (clue, clue_hash) = f.file("clue.txt", "a car, plate 京A...".as_bytes());
    assert_eq!(
        f.act(&["clue", "report", &case_hex, "--kind", "assets", &clue]),
        Act::ReportClue(ReportClue {
            case,
            kind: ClueKind::Assets,
            content: clue_hash,
        })
    );
}

#[test]
fn signed_acts_carry_the_created_id_and_receipt() {
    let f = Fixture::new();
    let (claims, _) = f.file("claims.pdf", b"claims");
    let prepared = f
        .build(&[
            "case",
            "file",
            "--court",
            "京0105",
            "--kind",
            "civil",
            "--plaintiff",
            &hex_id(1),
            "--defendant",
            &hex_id(2),
            "--claim-summary",
            &claims,
            "--complaint",
            &claims,
        ])
        .unwrap();
    let tx = sign_act(&f.signer, &f.chain_id(), 4, &prepared.act).unwrap();
    assert_eq!(tx.tx.nonce, 4);
    assert_eq!(tx.tx.signer, f.signer.public_key());
    assert_eq!(Act::decode(&tx.tx.payload).unwrap(), prepared.act);
    let submitted = Submitted {
        tx_id: tx.id(),
        signer: f.signer.public_key(),
        nonce: 4,
        state: TxState::Committed(Committed {
            height: 12,
            index: Some(0),
            block_id: Some("bb".to_owned()),
            code: Some(0),
        }),
    };
    let result = result_json(&prepared, &submitted);
    assert_eq!(result["act"], "file_case");
    assert_eq!(result["case_id"], tx.id().to_string());
    assert_eq!(result["tx_id"], tx.id().to_string());
    assert_eq!(result["height"], 12);
    assert_eq!(result["code"], 0);
    assert_eq!(result["code_name"], "ok");
    assert!(result["claim_summary"]["sha256"].is_string());

    // Acts that create nothing have no `*_id` but the transaction's.
    let prepared = f.build(&["case", "leave", &hex_id(3)]).unwrap();
    let result = result_json(&prepared, &submitted);
    let ids: Vec<&String> = result
        .as_object()
        .unwrap()
        .keys()
        .filter(|key| key.ends_with("_id") && *key != "block_id")
        .collect();
    assert_eq!(ids, vec!["tx_id"]);
}

#[test]
fn offline_commands_are_not_acts() {
    for args in [
        vec![
            "identity",
            "commit",
            "--id-type",
            "a",
            "--id-number",
            "b",
            "--name",
            "c",
        ],
        vec!["keys", "show", "--key", "k"],
        vec!["hash", "file"],
    ] {
        let mut argv = vec!["courtledger"];
        argv.extend(args);
        let cli = Cli::try_parse_from(&argv).unwrap();
        assert!(cli.command.as_act().is_none(), "{argv:?}");
    }
}
