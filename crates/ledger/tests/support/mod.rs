//! The ledger's test harness: an in-memory state, a [`World`] that executes acts as named
//! actors through the real admission path (signed transactions, `admit`, `execute`), and
//! builders for the stages of a case that the permission table and the flow tests start from.
//!
//! Everything is deterministic: keys come from fixed seeds, transaction ids are the ids of real
//! signed transactions (unique per signer and nonce), and block time moves only when a test
//! moves it.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use courtledger_codec::{decode_exact, Decode, Encode};
use courtledger_crypto::{sha256, ChainId, Digest, PublicKey, SigningKey};
use courtledger_ledger::act::{
    AppointLawyer, AssignStaff, Decision, FileCase, FileRef, HoldHearing, IssueJudgment,
    ProposeMediation, ReceiveEvidence, RecordTranscript, RegisterIdentity, ReviewFiling,
    RevokeIdentity, ScheduleHearing, ServeDocument, SignMediation, SubmitEvidence,
};
use courtledger_ledger::{
    admit, execute, identity_commitment, keys, sign_possession, Act, ActOutcome, CaseId, CaseKind,
    CaseRecord, CaseRole, Code, DocumentKind, Env, HearingMode, IdentityId, IdentityRecord,
    Invalid, JudgmentKind, ObjectId, PartyRef, Possession, Role, StateView, Write,
};
use courtledger_types::peer_id::peer_id_of;
use courtledger_types::{CourtCode, Genesis, GenesisFile, SignedTransaction, Transaction, TxId};

/// Genesis time: 2026-03-01T00:00:00Z.
pub const GENESIS_MS: u64 = 1_772_323_200_000;
/// The first block time of every world: 2026-03-02T01:00:00Z (09:00 in Beijing).
pub const T0: u64 = 1_772_413_200_000;
/// One hour, one day, in milliseconds.
pub const HOUR: u64 = 60 * 60 * 1000;
/// See [`HOUR`].
pub const DAY: u64 = 24 * HOUR;
/// 2026-12-31T16:00:00Z: midnight of 2027-01-01 in Beijing.
pub const BEIJING_2027: u64 = 1_798_732_800_000;

/// The court of the stage case.
pub const CASE_COURT: &str = "京0105";

/// The genesis courts: code, name, level, parent.
pub const COURTS: [(&str, &str, &str, Option<&str>); 7] = [
    ("最高", "Supreme People's Court", "Supreme", None),
    ("京", "Beijing High People's Court", "High", Some("最高")),
    (
        "京01",
        "Beijing No. 1 Intermediate People's Court",
        "Intermediate",
        Some("京"),
    ),
    (
        "京0105",
        "Beijing Chaoyang District People's Court",
        "Basic",
        Some("京01"),
    ),
    ("沪", "Shanghai High People's Court", "High", Some("最高")),
    (
        "沪01",
        "Shanghai No. 1 Intermediate People's Court",
        "Intermediate",
        Some("沪"),
    ),
    (
        "沪0101",
        "Shanghai Huangpu District People's Court",
        "Basic",
        Some("沪01"),
    ),
];

/// A court code (panics on an invalid one: test data).
pub fn court_code(code: &str) -> CourtCode {
    CourtCode::new(code).expect("a valid court code")
}

/// A deterministic digest standing for a document or file.
pub fn doc(label: &str) -> Digest {
    sha256(label.as_bytes())
}

/// A fresh deterministic key (seeds 100 and up are never actors or validators).
pub fn fresh_key(seed: u8) -> SigningKey {
    assert!(
        seed >= 100,
        "seeds below 100 are taken by actors and validators"
    );
    SigningKey::from_seed(&[seed; 32])
}

/// The people of every world. The first eleven are the permission table's columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Who {
    /// Registrar of the Beijing High court (genesis).
    RegJing,
    /// Registrar of the Shanghai High court (genesis).
    RegHu,
    /// Party: the plaintiff, who files.
    P1,
    /// Party: the defendant.
    P2,
    /// Party: an outsider to the case.
    P3,
    /// Lawyer: P1's agent once appointed.
    L1,
    /// Judge of 京0105, assigned to the case.
    J1,
    /// Judge of 京0105, not assigned.
    J2,
    /// Judge of 沪0101.
    J3,
    /// Clerk of 京0105 (not assigned: acts for the court).
    C1,
    /// Mediator of 京0105, assigned to the case.
    M1,
    /// A second lawyer, in no case (not a table column).
    L2,
    /// A party whose identity is revoked (not a table column).
    PX,
}

impl Who {
    /// The permission table's columns, in order.
    pub const TABLE: [Who; 11] = [
        Who::RegJing,
        Who::RegHu,
        Who::P1,
        Who::P2,
        Who::P3,
        Who::L1,
        Who::J1,
        Who::J2,
        Who::J3,
        Who::C1,
        Who::M1,
    ];

    /// Everyone registered after genesis, in registration order.
    pub const REGISTERED: [Who; 11] = [
        Who::P1,
        Who::P2,
        Who::P3,
        Who::L1,
        Who::L2,
        Who::J1,
        Who::J2,
        Who::J3,
        Who::C1,
        Who::M1,
        Who::PX,
    ];

    /// The column heading.
    pub fn name(self) -> &'static str {
        match self {
            Who::RegJing => "R京",
            Who::RegHu => "R沪",
            Who::P1 => "P1",
            Who::P2 => "P2",
            Who::P3 => "P3",
            Who::L1 => "L1",
            Who::J1 => "J1",
            Who::J2 => "J2",
            Who::J3 => "J3",
            Who::C1 => "C1",
            Who::M1 => "M1",
            Who::L2 => "L2",
            Who::PX => "PX",
        }
    }

    /// Role and relation to the stage case, for the documentation.
    pub fn describe(self) -> &'static str {
        match self {
            Who::RegJing => {
                "registrar of 京 (Beijing High court; genesis), covering 京, 京01, 京0105"
            }
            Who::RegHu => {
                "registrar of 沪 (Shanghai High court; genesis), covering 沪, 沪01, 沪0101"
            }
            Who::P1 => "party; the plaintiff, who filed the case",
            Who::P2 => "party; the defendant",
            Who::P3 => "party; not in the case",
            Who::L1 => "lawyer; P1's agent in the case once appointed (from the accepted stage on)",
            Who::J1 => "judge of 京0105 (the case's court); assigned to the case as its judge",
            Who::J2 => "judge of 京0105; not assigned to the case",
            Who::J3 => "judge of 沪0101 (another court)",
            Who::C1 => {
                "clerk of 京0105; not assigned (acts for the court: review, assignment, service)"
            }
            Who::M1 => "mediator of 京0105; assigned to the case as its mediator",
            Who::L2 => "lawyer; in no case",
            Who::PX => "party; revoked",
        }
    }

    /// The registered role.
    pub fn role(self) -> Role {
        match self {
            Who::RegJing | Who::RegHu => Role::Registrar,
            Who::P1 | Who::P2 | Who::P3 | Who::PX => Role::Party,
            Who::L1 | Who::L2 => Role::Lawyer,
            Who::J1 | Who::J2 | Who::J3 => Role::Judge,
            Who::C1 => Role::Clerk,
            Who::M1 => Role::Mediator,
        }
    }

    /// The registered court (court staff only).
    pub fn court(self) -> Option<&'static str> {
        match self {
            Who::RegJing => Some("京"),
            Who::RegHu => Some("沪"),
            Who::J1 | Who::J2 | Who::C1 | Who::M1 => Some("京0105"),
            Who::J3 => Some("沪0101"),
            Who::P1 | Who::P2 | Who::P3 | Who::PX | Who::L1 | Who::L2 => None,
        }
    }

    /// Who registers them.
    fn registrar(self) -> Who {
        match self {
            Who::P3 | Who::J3 => Who::RegHu,
            _ => Who::RegJing,
        }
    }

    fn seed(self) -> u8 {
        match self {
            Who::RegJing => 10,
            Who::RegHu => 11,
            Who::P1 => 20,
            Who::P2 => 21,
            Who::P3 => 22,
            Who::PX => 23,
            Who::L1 => 30,
            Who::L2 => 31,
            Who::J1 => 40,
            Who::J2 => 41,
            Who::J3 => 42,
            Who::C1 => 50,
            Who::M1 => 60,
        }
    }

    /// Their first key.
    pub fn initial_key(self) -> SigningKey {
        SigningKey::from_seed(&[self.seed(); 32])
    }
}

/// The test genesis (JSON, as a court would write it): seven courts, four validators, a
/// registrar at 京 and one at 沪.
pub fn genesis_json() -> String {
    let mut courts = Vec::new();
    for (code, name, level, parent) in COURTS {
        let parent = parent.map_or(String::new(), |p| format!(r#", "parent": "{p}""#));
        courts.push(format!(
            r#"{{"code": "{code}", "name": "{name}", "level": "{level}"{parent}}}"#
        ));
    }
    let mut validators = Vec::new();
    for (i, code) in ["最高", "京", "京01", "京0105"].iter().enumerate() {
        let seed = u8::try_from(i + 1).expect("small");
        let key = SigningKey::from_seed(&[seed; 32]).public_key();
        validators.push(format!(
            r#"{{"court_code": "{code}", "public_key": "{key}", "peer_id": "{peer}",
                "p2p_address": "127.0.0.1:{p2p}", "api_address": "127.0.0.1:{api}",
                "voting_power": 1}}"#,
            peer = peer_id_of(&key),
            p2p = 27000 + i,
            api = 27100 + i,
        ));
    }
    let registrar = |who: Who, name: &str| {
        format!(
            r#"{{"court_code": "{}", "name": "{name}", "public_key": "{}"}}"#,
            who.court().expect("registrars have a court"),
            who.initial_key().public_key()
        )
    };
    format!(
        r#"{{
  "format_version": 1,
  "chain_name": "courtledger-ledger-tests",
  "genesis_time": "2026-03-01T00:00:00Z",
  "courts": [{courts}],
  "validators": [{validators}],
  "registrars": [{r1}, {r2}],
  "consensus": {{
    "timeout_propose_ms": 1000, "timeout_prevote_ms": 500, "timeout_precommit_ms": 500,
    "timeout_delta_ms": 250, "max_block_txs": 10000, "max_block_bytes": 8388608,
    "max_clock_drift_ms": 2000
  }}
}}"#,
        courts = courts.join(", "),
        validators = validators.join(", "),
        r1 = registrar(Who::RegJing, "Beijing High People's Court filing office"),
        r2 = registrar(Who::RegHu, "Shanghai High People's Court filing office"),
    )
}

/// The checked test genesis.
pub fn genesis() -> Genesis {
    GenesisFile::from_json(&genesis_json())
        .and_then(|file| file.validate())
        .expect("the test genesis is valid")
}

/// State in memory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemState(pub BTreeMap<Vec<u8>, Vec<u8>>);

impl StateView for MemState {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.0.get(key).cloned()
    }
}

impl MemState {
    /// Applies writes (a `None` value deletes).
    pub fn apply(&mut self, writes: &[Write]) {
        for (key, value) in writes {
            match value {
                Some(value) => self.0.insert(key.clone(), value.clone()),
                None => self.0.remove(key),
            };
        }
    }

    /// Keys under `prefix`.
    pub fn keys_with_prefix(&self, prefix: &[u8]) -> Vec<Vec<u8>> {
        self.0
            .range(prefix.to_vec()..)
            .take_while(|(key, _)| key.starts_with(prefix))
            .map(|(key, _)| key.clone())
            .collect()
    }
}

/// What a table cell expects: success, or failure with a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Applied.
    Ok,
    /// Failed with this code.
    Fail(Code),
}

impl Expect {
    /// `ok` or the code's stable name.
    pub fn name(self) -> &'static str {
        match self {
            Expect::Ok => "ok",
            Expect::Fail(code) => code.name(),
        }
    }
}

/// One executed transaction.
#[derive(Debug, Clone)]
pub struct Executed {
    /// Its id (the id of anything it created).
    pub tx_id: TxId,
    /// The signer's identity.
    pub signer: IdentityId,
    /// The act as admitted.
    pub act: Act,
    /// What execution returned.
    pub outcome: ActOutcome,
    /// The block it went into.
    pub height: u64,
    /// The block time.
    pub time_ms: u64,
}

impl Executed {
    /// Ok, or the code.
    pub fn result(&self) -> Expect {
        match &self.outcome {
            ActOutcome::Applied { .. } => Expect::Ok,
            ActOutcome::Failed { code, .. } => Expect::Fail(*code),
        }
    }

    /// The subjects of the receipt.
    pub fn subjects(&self) -> &[Digest] {
        match &self.outcome {
            ActOutcome::Applied { subjects, .. } | ActOutcome::Failed { subjects, .. } => subjects,
        }
    }

    /// The writes (none for a failed act).
    pub fn writes(&self) -> &[Write] {
        match &self.outcome {
            ActOutcome::Applied { writes, .. } => writes,
            ActOutcome::Failed { .. } => &[],
        }
    }
}

/// Ids of the things the stage builders created.
#[derive(Debug, Clone, Default)]
pub struct Objects {
    /// The case (filed by P1 at 京0105 against P2).
    pub case: Option<CaseId>,
    /// Evidence E1, submitted by P1.
    pub evidence: Option<ObjectId>,
    /// Hearing H1, scheduled by C1.
    pub hearing: Option<ObjectId>,
    /// Transcript T1 of H1.
    pub transcript: Option<ObjectId>,
    /// Mediation agreement proposed by M1.
    pub mediation: Option<ObjectId>,
    /// Summons served on P2.
    pub service: Option<ObjectId>,
    /// Judgment issued by J1.
    pub judgment: Option<ObjectId>,
}

/// Contents of the stage objects.
pub const COMPLAINT: &str = "complaint of P1 against P2";
/// See [`COMPLAINT`].
pub const TRANSCRIPT: &str = "transcript of hearing H1";
/// See [`COMPLAINT`].
pub const AGREEMENT: &str = "mediation agreement P1/P2";
/// See [`COMPLAINT`].
pub const SUMMONS: &str = "summons for P2";
/// See [`COMPLAINT`].
pub const JUDGMENT: &str = "judgment in the case";

/// A chain's state with its people and the clock.
#[derive(Debug, Clone)]
pub struct World {
    /// The genesis.
    pub genesis: Genesis,
    /// Its chain id.
    pub chain_id: ChainId,
    /// Committed state.
    pub state: MemState,
    /// Height of the last block (one act per block).
    pub height: u64,
    /// The next block's time.
    pub time_ms: u64,
    /// Stage objects.
    pub objects: Objects,
    nonces: BTreeMap<PublicKey, u64>,
    ids: BTreeMap<Who, IdentityId>,
    keys: BTreeMap<Who, SigningKey>,
}

impl World {
    /// Genesis state only: courts and the two registrars.
    pub fn genesis_only() -> Self {
        let genesis = genesis();
        let chain_id = genesis.chain_id();
        let mut state = MemState::default();
        state.apply(&courtledger_ledger::genesis_writes(&genesis));
        let mut world = Self {
            genesis,
            chain_id,
            state,
            height: 0,
            time_ms: T0,
            objects: Objects::default(),
            nonces: BTreeMap::new(),
            ids: BTreeMap::new(),
            keys: BTreeMap::new(),
        };
        for who in [Who::RegJing, Who::RegHu] {
            let key = who.initial_key();
            world.ids.insert(
                who,
                courtledger_ledger::genesis_identity_id(&key.public_key()),
            );
            world.keys.insert(who, key);
        }
        world
    }

    /// Everyone registered through `RegisterIdentity` acts, and PX revoked.
    pub fn new() -> Self {
        let mut world = Self::genesis_only();
        for who in Who::REGISTERED {
            let key = who.initial_key();
            let act = world.register_act(&key, who.role(), who.court(), who.name());
            let id = world.ok(who.registrar(), act);
            world.ids.insert(who, id);
            world.keys.insert(who, key);
        }
        let px = world.id(Who::PX);
        world.ok(
            Who::RegJing,
            RevokeIdentity {
                identity: px,
                reason: "identity documents found forged".into(),
            },
        );
        world
    }

    /// A world at `stage`.
    pub fn at(stage: Stage) -> Self {
        stage.build()
    }

    /// The identity id of `who`.
    pub fn id(&self, who: Who) -> IdentityId {
        self.ids[&who]
    }

    /// The current signing key of `who`.
    pub fn key(&self, who: Who) -> &SigningKey {
        &self.keys[&who]
    }

    /// Records that `who` now signs with `key` (after a rotation).
    pub fn set_key(&mut self, who: Who, key: SigningKey) {
        self.keys.insert(who, key);
    }

    /// Moves block time forward.
    pub fn advance(&mut self, ms: u64) {
        self.time_ms += ms;
    }

    /// Sets block time (never backwards).
    pub fn set_time(&mut self, time_ms: u64) {
        assert!(time_ms >= self.time_ms, "block time never goes backwards");
        self.time_ms = time_ms;
    }

    /// The stage case.
    pub fn case(&self) -> CaseId {
        self.objects.case.expect("this stage has a case")
    }

    /// A transaction carrying `act`, signed by `key` with its next nonce.
    pub fn sign(&mut self, key: &SigningKey, act: &Act) -> SignedTransaction {
        let nonce = self.nonces.entry(key.public_key()).or_insert(0);
        *nonce += 1;
        Transaction {
            signer: key.public_key(),
            nonce: *nonce,
            payload: act.to_bytes(),
        }
        .sign(key, &self.chain_id)
    }

    /// Admits and executes a signed transaction as the next block, applying its writes if it
    /// succeeds. `Err` when the ledger refuses it admission.
    pub fn submit(&mut self, tx: &SignedTransaction) -> Result<Executed, Invalid> {
        tx.verify_signature(&self.chain_id)
            .expect("test transactions are signed for this chain");
        let (act, signer) = admit(&self.state, tx)?;
        self.height += 1;
        let tx_id = tx.id();
        let env = Env {
            chain_id: &self.chain_id,
            height: self.height,
            index: 0,
            time_ms: self.time_ms,
            tx_id,
        };
        let outcome = execute(&self.state, &env, &signer, &act).expect("state is not damaged");
        if let ActOutcome::Applied { writes, .. } = &outcome {
            assert!(
                writes.windows(2).all(|pair| pair[0].0 < pair[1].0),
                "writes are sorted by key and distinct"
            );
            self.state.apply(writes);
        }
        Ok(Executed {
            tx_id,
            signer: signer.id,
            act,
            outcome,
            height: self.height,
            time_ms: self.time_ms,
        })
    }

    /// Signs `act` with `key` and submits it.
    pub fn try_with_key(
        &mut self,
        key: &SigningKey,
        act: impl Into<Act>,
    ) -> Result<Executed, Invalid> {
        let tx = self.sign(key, &act.into());
        self.submit(&tx)
    }

    /// Executes `act` as `who` (who must be admitted).
    pub fn act(&mut self, who: Who, act: impl Into<Act>) -> Executed {
        let key = self.key(who).clone();
        let act = act.into();
        let kind = act.kind();
        self.try_with_key(&key, act)
            .unwrap_or_else(|invalid| panic!("{} may not sign {kind}: {invalid}", who.name()))
    }

    /// Executes `act` as `who` and requires success; returns the transaction id.
    pub fn ok(&mut self, who: Who, act: impl Into<Act>) -> TxId {
        let done = self.act(who, act);
        assert_eq!(
            done.result(),
            Expect::Ok,
            "{} by {} failed",
            done.act.kind(),
            who.name()
        );
        done.tx_id
    }

    /// Executes `act` as `who` and requires failure; returns the code.
    pub fn fail(&mut self, who: Who, act: impl Into<Act>) -> Code {
        let done = self.act(who, act);
        match done.result() {
            Expect::Fail(code) => code,
            Expect::Ok => panic!("{} by {} succeeded", done.act.kind(), who.name()),
        }
    }

    /// A record at `key`, decoded.
    pub fn get<T: Decode>(&self, key: &[u8]) -> Option<T> {
        self.state
            .get(key)
            .map(|bytes| decode_exact(&bytes, bytes.len()).expect("a well-formed record"))
    }

    /// A case record.
    pub fn case_record(&self, id: &CaseId) -> CaseRecord {
        self.get(&keys::case(id)).expect("the case exists")
    }

    /// An identity record.
    pub fn identity_record(&self, id: &IdentityId) -> IdentityRecord {
        self.get(&keys::identity(id)).expect("the identity exists")
    }

    /// An object record.
    pub fn object<T: Decode>(&self, prefix: &[u8], id: &ObjectId) -> T {
        self.get(&keys::object(prefix, id))
            .expect("the object exists")
    }

    // Act builders.

    /// A registration of `key` with its holder's possession signature for this chain.
    pub fn register_act(
        &self,
        key: &SigningKey,
        role: Role,
        court: Option<&str>,
        label: &str,
    ) -> RegisterIdentity {
        let court = court.map(court_code);
        let commitment = identity_commitment(&[7; 32], "resident_id", label, label);
        let possession = sign_possession(
            key,
            &self.chain_id,
            &Possession::Registration {
                key: &key.public_key(),
                role,
                court: court.as_ref(),
                commitment: &commitment,
            },
        );
        RegisterIdentity {
            key: key.public_key(),
            role,
            court,
            commitment,
            possession,
        }
    }

    /// A filing by a party: `plaintiffs` against `defendants` at `court`.
    pub fn filing(
        &self,
        court: &str,
        kind: CaseKind,
        plaintiffs: &[Who],
        defendants: &[Who],
    ) -> FileCase {
        let refs = |side: &[Who]| {
            side.iter()
                .map(|who| PartyRef::Registered(self.id(*who)))
                .collect()
        };
        FileCase {
            court: court_code(court),
            receiving_court: None,
            kind,
            plaintiffs: refs(plaintiffs),
            defendants: refs(defendants),
            claim_summary: doc("claim summary"),
            complaint: doc(COMPLAINT),
            attachments: Vec::new(),
            principal: None,
            power_of_attorney: None,
        }
    }

    /// P1's civil filing at 京0105 against P2.
    pub fn civil_filing(&self) -> FileCase {
        self.filing(CASE_COURT, CaseKind::Civil, &[Who::P1], &[Who::P2])
    }

    /// Accepting `case`.
    pub fn accept(case: CaseId) -> ReviewFiling {
        ReviewFiling {
            case,
            decision: Decision::Accept,
        }
    }

    /// An evidence file.
    pub fn evidence(case: CaseId, title: &str) -> SubmitEvidence {
        SubmitEvidence {
            case,
            file: FileRef {
                sha256: doc(title),
                size: 1024,
                media_type: "application/pdf".into(),
                title: title.into(),
            },
        }
    }

    // Stage steps.

    fn file_stage_case(&mut self) {
        let filing = self.civil_filing();
        self.objects.case = Some(self.ok(Who::P1, filing));
    }

    fn accept_stage_case(&mut self) {
        let case = self.case();
        self.advance(HOUR);
        self.ok(Who::C1, Self::accept(case));
        for (member, role) in [(Who::J1, CaseRole::Judge), (Who::M1, CaseRole::Mediator)] {
            let member = self.id(member);
            self.ok(Who::C1, AssignStaff { case, member, role });
        }
        let lawyer = self.id(Who::L1);
        self.ok(
            Who::P1,
            AppointLawyer {
                case,
                lawyer,
                power_of_attorney: doc("power of attorney P1 -> L1"),
            },
        );
        self.objects.evidence = Some(self.ok(Who::P1, Self::evidence(case, "E1: loan contract")));
        let at_ms = self.time_ms + DAY;
        self.objects.hearing = Some(self.ok(
            Who::C1,
            ScheduleHearing {
                case,
                at_ms,
                mode: HearingMode::Online,
                location: "online room 3".into(),
            },
        ));
    }

    fn hold_stage_hearing(&mut self) {
        let hearing = self.objects.hearing.expect("a scheduled hearing");
        let evidence = self.objects.evidence.expect("evidence E1");
        self.ok(Who::C1, ReceiveEvidence { evidence });
        self.advance(DAY);
        self.ok(Who::C1, HoldHearing { hearing });
        let signers = [Who::P1, Who::P2, Who::L1, Who::J1]
            .map(|who| self.id(who))
            .to_vec();
        self.objects.transcript = Some(self.ok(
            Who::C1,
            RecordTranscript {
                hearing,
                transcript: doc(TRANSCRIPT),
                signers,
            },
        ));
    }

    fn propose_stage_mediation(&mut self) {
        let case = self.case();
        let signers = vec![self.id(Who::P1), self.id(Who::P2)];
        self.objects.mediation = Some(self.ok(
            Who::M1,
            ProposeMediation {
                case,
                agreement: doc(AGREEMENT),
                signers,
            },
        ));
    }

    fn sign_stage_mediation(&mut self) {
        let mediation = self.objects.mediation.expect("a proposed mediation");
        for who in [Who::P1, Who::P2] {
            self.ok(
                who,
                SignMediation {
                    mediation,
                    content: doc(AGREEMENT),
                },
            );
        }
    }

    fn serve_stage_summons(&mut self) {
        let case = self.case();
        let recipient = self.id(Who::P2);
        self.objects.service = Some(self.ok(
            Who::C1,
            ServeDocument {
                case,
                recipient,
                kind: DocumentKind::Summons,
                document: doc(SUMMONS),
            },
        ));
    }

    fn issue_stage_judgment(&mut self) {
        let case = self.case();
        self.objects.judgment = Some(self.ok(
            Who::J1,
            IssueJudgment {
                case,
                kind: JudgmentKind::Judgment,
                document: doc(JUDGMENT),
            },
        ));
    }
}

impl Default for World {
    fn default() -> Self {
        Self::new()
    }
}

/// The states a table row starts from. Each builds on the one it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    /// Everyone registered (L2 too), PX revoked; no case.
    Registered,
    /// P1 filed a civil case at 京0105 against P2; not reviewed.
    Pending,
    /// Accepted; J1 judge, M1 mediator, L1 P1's agent; evidence E1; hearing H1 scheduled.
    Accepted,
    /// Accepted, and J1's evidence deadline has passed.
    EvidenceClosed,
    /// Accepted, E1 received, H1 held, transcript T1 recorded for P1, P2, L1, J1; unsigned.
    Heard,
    /// Accepted, M1 proposed an agreement for P1 and P2; nobody signed.
    MediationProposed,
    /// The agreement signed by P1 and P2; not confirmed.
    MediationSigned,
    /// Accepted, a summons served on P2; not acknowledged.
    Served,
    /// Accepted, J1 issued a judgment; not published.
    Judged,
    /// Mediation proposed, judgment issued, then closed by J1 (outcome judgment).
    Closed,
    /// The filing rejected by C1.
    Rejected,
}

impl Stage {
    /// Every stage.
    pub const ALL: [Stage; 11] = [
        Stage::Registered,
        Stage::Pending,
        Stage::Accepted,
        Stage::EvidenceClosed,
        Stage::Heard,
        Stage::MediationProposed,
        Stage::MediationSigned,
        Stage::Served,
        Stage::Judged,
        Stage::Closed,
        Stage::Rejected,
    ];

    /// Its short name (table cells).
    pub fn name(self) -> &'static str {
        match self {
            Stage::Registered => "registered",
            Stage::Pending => "pending",
            Stage::Accepted => "accepted",
            Stage::EvidenceClosed => "evidence_closed",
            Stage::Heard => "heard",
            Stage::MediationProposed => "mediation_proposed",
            Stage::MediationSigned => "mediation_signed",
            Stage::Served => "served",
            Stage::Judged => "judged",
            Stage::Closed => "closed",
            Stage::Rejected => "rejected",
        }
    }

    /// What it holds, for the documentation.
    pub fn describe(self) -> &'static str {
        match self {
            Stage::Registered => "everyone registered through `register_identity` (a second lawyer L2 too); a party PX registered and revoked; no case",
            Stage::Pending => "`registered` + P1 filed a civil case at 京0105 naming P1 plaintiff and P2 defendant; not reviewed",
            Stage::Accepted => "`pending` + C1 accepted it (`(2026)京0105民初1号`), assigned J1 as judge and M1 as mediator; P1 appointed L1; P1 submitted evidence E1; C1 scheduled hearing H1 a day ahead",
            Stage::EvidenceClosed => "`accepted` + J1 set the evidence deadline one hour ahead, and two hours passed",
            Stage::Heard => "`accepted` + C1 received E1; a day later C1 held H1 and recorded transcript T1, to be signed by P1, P2, L1 and J1; nobody signed",
            Stage::MediationProposed => "`accepted` + M1 proposed a mediation agreement to be signed by P1 and P2; nobody signed",
            Stage::MediationSigned => "`mediation_proposed` + P1 and P2 signed it; not confirmed",
            Stage::Served => "`accepted` + C1 served a summons on P2; not acknowledged",
            Stage::Judged => "`accepted` + J1 issued a judgment; not published",
            Stage::Closed => "`mediation_proposed` + J1 issued a judgment (not published) and closed the case with outcome `judgment`",
            Stage::Rejected => "`pending` + C1 rejected the filing",
        }
    }

    /// A world at this stage.
    pub fn build(self) -> World {
        match self {
            Stage::Registered => World::new(),
            Stage::Pending => {
                let mut w = Stage::Registered.build();
                w.file_stage_case();
                w
            }
            Stage::Accepted => {
                let mut w = Stage::Pending.build();
                w.accept_stage_case();
                w
            }
            Stage::EvidenceClosed => {
                let mut w = Stage::Accepted.build();
                let case = w.case();
                let deadline_ms = w.time_ms + HOUR;
                w.ok(
                    Who::J1,
                    courtledger_ledger::act::SetEvidenceDeadline { case, deadline_ms },
                );
                w.advance(2 * HOUR);
                w
            }
            Stage::Heard => {
                let mut w = Stage::Accepted.build();
                w.hold_stage_hearing();
                w
            }
            Stage::MediationProposed => {
                let mut w = Stage::Accepted.build();
                w.propose_stage_mediation();
                w
            }
            Stage::MediationSigned => {
                let mut w = Stage::MediationProposed.build();
                w.sign_stage_mediation();
                w
            }
            Stage::Served => {
                let mut w = Stage::Accepted.build();
                w.serve_stage_summons();
                w
            }
            Stage::Judged => {
                let mut w = Stage::Accepted.build();
                w.issue_stage_judgment();
                w
            }
            Stage::Closed => {
                let mut w = Stage::MediationProposed.build();
                w.issue_stage_judgment();
                let case = w.case();
                w.ok(
                    Who::J1,
                    courtledger_ledger::act::CloseCase {
                        case,
                        outcome: courtledger_ledger::Outcome::Judgment,
                    },
                );
                w
            }
            Stage::Rejected => {
                let mut w = Stage::Pending.build();
                let case = w.case();
                w.ok(
                    Who::C1,
                    ReviewFiling {
                        case,
                        decision: Decision::Reject {
                            reason: "not within this court's jurisdiction".into(),
                        },
                    },
                );
                w
            }
        }
    }
}

/// Path of a file relative to the workspace root.
pub fn workspace_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(relative)
}

/// Whether fixtures and generated documentation should be rewritten.
pub fn updating_golden() -> bool {
    std::env::var_os("COURTLEDGER_UPDATE_GOLDEN").is_some()
}

/// Compares `text` with `crates/ledger/tests/golden/NAME`; `COURTLEDGER_UPDATE_GOLDEN=1`
/// rewrites it.
pub fn check_golden_text(name: &str, text: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if updating_golden() {
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("create tests/golden");
        std::fs::write(&path, format!("{text}\n")).expect("write the fixture");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|error| {
        panic!(
            "golden fixture {} is missing ({error}); run with COURTLEDGER_UPDATE_GOLDEN=1 once and review it",
            path.display()
        )
    });
    assert_eq!(
        text,
        expected.trim_end(),
        "{name} differs from its golden fixture: a format change must be deliberate"
    );
}
