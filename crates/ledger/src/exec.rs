//! Admission and execution of acts.
//!
//! [`admit`] decides whether a transaction may enter a block at all (its act decodes, its
//! signer is a registered identity whose current key it is, and which is not revoked);
//! [`execute`] runs an admitted act against state and either applies it or fails it with a
//! [`Code`]. A failed act writes nothing. Everything here is deterministic: time is the block's,
//! ids are transaction ids.

use std::collections::{BTreeMap, BTreeSet};

use courtledger_codec::{decode_exact, DecodeError, Encode};
use courtledger_crypto::{verify, ChainId, Digest, Domain, PublicKey};
use courtledger_types::hashing::{tagged_hash, HashTag};
use courtledger_types::limits::{
    MAX_ACT_WRITES, MAX_CASE_EVENTS, MAX_CASE_MEMBERS, MAX_RECORD_BYTES,
};
use courtledger_types::{CourtCode, Genesis, SignedTransaction, TxId};
use thiserror::Error;

use crate::act::*;
use crate::code::Code;
use crate::enums::{CaseRole, CaseStatus, Outcome, Role};
use crate::keys;
use crate::record::*;
use crate::time::case_year;

/// How long a court has to review a filing: 7 days.
pub const REVIEW_WINDOW_MS: u64 = 7 * 24 * 60 * 60 * 1000;

/// Most levels walked up the court tree when checking a registrar's jurisdiction (there are
/// four levels; the margin tolerates nothing deeper).
const MAX_COURT_DEPTH: usize = 8;

/// Read access to committed state (with the block's earlier writes).
pub trait StateView {
    /// The value at `key`.
    fn get(&self, key: &[u8]) -> Option<Vec<u8>>;
}

/// State that does not decode as the ledger wrote it: a damaged database, never an input
/// error. The node must stop.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("damaged ledger state at key {key:02x?}: {reason}")]
pub struct Corrupt {
    /// The key.
    pub key: Vec<u8>,
    /// What is wrong.
    pub reason: &'static str,
}

/// Why a transaction can never enter a block on this state.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Invalid {
    /// The payload is not an act.
    #[error("the payload is not a valid act: {0}")]
    Malformed(DecodeError),
    /// The signing key belongs to no identity.
    #[error("the signing key is not registered")]
    UnknownSigner,
    /// The signer's identity is revoked.
    #[error("the signer's identity is revoked")]
    SignerRevoked,
    /// The key was rotated away from: only the identity's current key signs.
    #[error("the signing key was replaced by a newer key")]
    KeyRotated,
    /// State is damaged.
    #[error(transparent)]
    Corrupt(#[from] Corrupt),
}

/// An admitted transaction's signer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signer {
    /// Their identity id.
    pub id: IdentityId,
    /// Their record.
    pub record: IdentityRecord,
}

/// The block context an act executes in.
#[derive(Debug, Clone, Copy)]
pub struct Env<'a> {
    /// The chain id (possession proofs are signed under it).
    pub chain_id: &'a ChainId,
    /// The block's height.
    pub height: u64,
    /// The transaction's position in the block.
    pub index: u32,
    /// The block's time: the ledger's only clock.
    pub time_ms: u64,
    /// The transaction's id: the id of anything the act creates.
    pub tx_id: TxId,
}

/// One state write: a value, or `None` to delete.
pub type Write = (Vec<u8>, Option<Vec<u8>>);

/// What executing an act did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActOutcome {
    /// Applied: these writes, sorted by key.
    Applied {
        /// The writes.
        writes: Vec<Write>,
        /// Ids of the cases and identities concerned, sorted.
        subjects: Vec<Digest>,
    },
    /// Failed: nothing written.
    Failed {
        /// Why.
        code: Code,
        /// Ids concerned (the signer's).
        subjects: Vec<Digest>,
    },
}

/// The identity id of a registrar listed in genesis.
pub fn genesis_identity_id(key: &PublicKey) -> IdentityId {
    tagged_hash(HashTag::GenesisIdentity, key.as_bytes())
}

/// The records genesis puts in state, written by block 1 before its transactions: every court
/// and every registrar (as an identity with role registrar), sorted by key.
pub fn genesis_writes(genesis: &Genesis) -> Vec<Write> {
    let mut writes = BTreeMap::new();
    for court in &genesis.courts {
        let record = CourtRecord {
            name: court.name.clone(),
            level: court.level,
            parent: court.parent.clone(),
            added_by: None,
        };
        writes.insert(keys::court(&court.code), Some(record.to_bytes()));
    }
    for registrar in &genesis.registrars {
        let id = genesis_identity_id(&registrar.public_key);
        let record = IdentityRecord {
            key: registrar.public_key,
            role: Role::Registrar,
            court: Some(registrar.court_code.clone()),
            commitment: courtledger_crypto::sha256(registrar.name.as_bytes()),
            registered_by: None,
            registered_at_ms: genesis.genesis_time_ms,
            previous_keys: Vec::new(),
            revoked_at_ms: None,
            revoked_by: None,
            revocation_reason: String::new(),
        };
        writes.insert(keys::identity(&id), Some(record.to_bytes()));
        writes.insert(keys::key(&registrar.public_key), Some(id.0.to_vec()));
        writes.insert(
            keys::court_identity(&registrar.court_code, &id),
            Some(Vec::new()),
        );
    }
    writes.into_iter().collect()
}

fn decode_record<T: courtledger_codec::Decode>(
    key: &[u8],
    bytes: &[u8],
    reason: &'static str,
) -> Result<T, Corrupt> {
    decode_exact(
        bytes,
        usize::try_from(MAX_RECORD_BYTES).unwrap_or(usize::MAX),
    )
    .map_err(|_| Corrupt {
        key: key.to_vec(),
        reason,
    })
}

fn read_id(key: &[u8], bytes: &[u8]) -> Result<Digest, Corrupt> {
    let array: [u8; 32] = bytes.try_into().map_err(|_| Corrupt {
        key: key.to_vec(),
        reason: "not a 32-byte id",
    })?;
    Ok(Digest(array))
}

/// The identity that `key` signs for, if it may sign now.
pub fn resolve_signer(state: &dyn StateView, key: &PublicKey) -> Result<Signer, Invalid> {
    let key_key = keys::key(key);
    let id = match state.get(&key_key) {
        None => return Err(Invalid::UnknownSigner),
        Some(bytes) => read_id(&key_key, &bytes)?,
    };
    let record_key = keys::identity(&id);
    let record: IdentityRecord = match state.get(&record_key) {
        None => {
            return Err(Invalid::Corrupt(Corrupt {
                key: key_key,
                reason: "a key of an identity that does not exist",
            }))
        }
        Some(bytes) => decode_record(&record_key, &bytes, "not an identity record")?,
    };
    if !record.is_active() {
        return Err(Invalid::SignerRevoked);
    }
    if &record.key != key {
        return Err(Invalid::KeyRotated);
    }
    Ok(Signer { id, record })
}

/// Whether `tx` may enter a block on `state` as far as the ledger is concerned: its payload is
/// an act and its signer may sign. (Signature and nonce are the chain's checks.)
pub fn admit(state: &dyn StateView, tx: &SignedTransaction) -> Result<(Act, Signer), Invalid> {
    let act = Act::decode(&tx.tx.payload).map_err(Invalid::Malformed)?;
    let signer = resolve_signer(state, &tx.tx.signer)?;
    Ok((act, signer))
}

/// Executes an admitted act. `Err` only for damaged state.
pub fn execute(
    state: &dyn StateView,
    env: &Env<'_>,
    signer: &Signer,
    act: &Act,
) -> Result<ActOutcome, Corrupt> {
    let mut ctx = Ctx {
        state,
        env,
        signer,
        writes: BTreeMap::new(),
        subjects: BTreeSet::new(),
    };
    ctx.subjects.insert(signer.id);
    match ctx.run(act) {
        Ok(()) => {
            assert!(
                u32::try_from(ctx.writes.len()).is_ok_and(|n| n <= MAX_ACT_WRITES),
                "an act wrote more than MAX_ACT_WRITES keys: the limits are inconsistent"
            );
            Ok(ActOutcome::Applied {
                writes: ctx.writes.into_iter().collect(),
                subjects: ctx.subjects.into_iter().collect(),
            })
        }
        Err(Fail::Code(code)) => Ok(ActOutcome::Failed {
            code,
            subjects: vec![signer.id],
        }),
        Err(Fail::Corrupt(corrupt)) => Err(corrupt),
    }
}

enum Fail {
    Code(Code),
    Corrupt(Corrupt),
}

impl From<Code> for Fail {
    fn from(code: Code) -> Self {
        Fail::Code(code)
    }
}

impl From<Corrupt> for Fail {
    fn from(corrupt: Corrupt) -> Self {
        Fail::Corrupt(corrupt)
    }
}

type R<T> = Result<T, Fail>;

fn ensure(condition: bool, code: Code) -> R<()> {
    if condition {
        Ok(())
    } else {
        Err(Fail::Code(code))
    }
}

struct Ctx<'a> {
    state: &'a dyn StateView,
    env: &'a Env<'a>,
    signer: &'a Signer,
    writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    subjects: BTreeSet<Digest>,
}

impl Ctx<'_> {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        match self.writes.get(key) {
            Some(value) => value.clone(),
            None => self.state.get(key),
        }
    }

    fn load<T: courtledger_codec::Decode>(
        &self,
        key: &[u8],
        missing: Code,
        what: &'static str,
    ) -> R<T> {
        match self.get(key) {
            None => Err(Fail::Code(missing)),
            Some(bytes) => Ok(decode_record(key, &bytes, what)?),
        }
    }

    fn put<T: Encode>(&mut self, key: Vec<u8>, value: &T) {
        let bytes = value.to_bytes();
        assert!(
            u32::try_from(bytes.len()).is_ok_and(|len| len <= MAX_RECORD_BYTES),
            "a ledger record outgrew MAX_RECORD_BYTES: the limits are inconsistent"
        );
        self.writes.insert(key, Some(bytes));
    }

    fn mark(&mut self, key: Vec<u8>) {
        self.writes.insert(key, Some(Vec::new()));
    }

    fn delete(&mut self, key: Vec<u8>) {
        self.writes.insert(key, None);
    }

    fn me(&self) -> IdentityId {
        self.signer.id
    }

    fn now(&self) -> u64 {
        self.env.time_ms
    }

    fn identity(&self, id: &IdentityId) -> R<IdentityRecord> {
        self.load(
            &keys::identity(id),
            Code::UnknownIdentity,
            "not an identity record",
        )
    }

    fn active_identity(&self, id: &IdentityId) -> R<IdentityRecord> {
        let record = self.identity(id)?;
        ensure(record.is_active(), Code::IdentityRevoked)?;
        Ok(record)
    }

    fn court(&self, code: &CourtCode) -> R<CourtRecord> {
        self.load(&keys::court(code), Code::UnknownCourt, "not a court record")
    }

    fn case(&self, id: &CaseId) -> R<CaseRecord> {
        self.load(&keys::case(id), Code::UnknownCase, "not a case record")
    }

    fn object<T: courtledger_codec::Decode>(&self, prefix: &[u8], id: &ObjectId) -> R<T> {
        self.load(
            &keys::object(prefix, id),
            Code::UnknownObject,
            "not an object record",
        )
    }

    /// Whether the signer is a judge or clerk of `court`.
    fn is_staff_of(&self, court: &CourtCode) -> bool {
        matches!(self.signer.record.role, Role::Judge | Role::Clerk)
            && self.signer.record.court.as_ref() == Some(court)
    }

    /// Whether `court` is the signer's (a registrar's) court or under it.
    fn registrar_covers(&self, court: &CourtCode) -> R<bool> {
        if self.signer.record.role != Role::Registrar {
            return Ok(false);
        }
        let Some(own) = self.signer.record.court.as_ref() else {
            return Ok(false);
        };
        let mut current = court.clone();
        for _ in 0..MAX_COURT_DEPTH {
            if &current == own {
                return Ok(true);
            }
            match self.court(&current)?.parent {
                Some(parent) => current = parent,
                None => return Ok(false),
            }
        }
        Ok(false)
    }

    /// Records a successful act on a case: a timeline entry, and the case and its members as
    /// subjects. The caller saves the case afterwards.
    fn log_case(&mut self, case_id: &CaseId, case: &mut CaseRecord, kind: ActKind) -> R<()> {
        ensure(case.events < MAX_CASE_EVENTS, Code::LimitReached)?;
        let entry = TimelineEntry {
            tx_id: self.env.tx_id,
            height: self.env.height,
            index: self.env.index,
            time_ms: self.now(),
            kind,
            actor: self.me(),
        };
        self.put(keys::timeline(case_id, case.events), &entry);
        case.events += 1;
        self.subjects.insert(*case_id);
        for member in &case.members {
            self.subjects.insert(member.identity);
        }
        for party in case.plaintiffs.iter().chain(&case.defendants) {
            if let PartyRef::Registered(id) = party {
                self.subjects.insert(*id);
            }
        }
        Ok(())
    }

    /// The end of every successful act on a case: its timeline entry ([`Ctx::log_case`]), then
    /// the updated case record.
    fn finish_case_act(&mut self, case_id: &CaseId, case: &mut CaseRecord, kind: ActKind) -> R<()> {
        self.log_case(case_id, case, kind)?;
        self.save_case(case_id, case);
        Ok(())
    }

    fn save_case(&mut self, case_id: &CaseId, case: &CaseRecord) {
        self.put(keys::case(case_id), case);
    }

    fn add_member(&mut self, case_id: &CaseId, case: &mut CaseRecord, member: Member) -> R<()> {
        ensure(case.member(&member.identity).is_none(), Code::AlreadyDone)?;
        ensure(
            u32::try_from(case.members.len()).is_ok_and(|n| n < MAX_CASE_MEMBERS),
            Code::LimitReached,
        )?;
        self.mark(keys::identity_case(&member.identity, case_id));
        self.subjects.insert(member.identity);
        case.members.push(member);
        Ok(())
    }

    fn member(&self, identity: IdentityId, role: CaseRole) -> Member {
        Member {
            identity,
            role,
            principal: None,
            power_of_attorney: None,
            since_ms: self.now(),
        }
    }

    fn check_possession(
        &self,
        key: &PublicKey,
        possession: &Possession<'_>,
        sig: &courtledger_crypto::Signature,
    ) -> R<()> {
        verify(
            key,
            Domain::IdentityAttestation,
            self.env.chain_id,
            &possession_message(possession),
            sig,
        )
        .map_err(|_| Fail::Code(Code::BadPossessionProof))
    }

    fn run(&mut self, act: &Act) -> R<()> {
        match act {
            Act::RegisterIdentity(a) => self.register_identity(a),
            Act::RotateKey(a) => self.rotate_key(a),
            Act::RevokeIdentity(a) => self.revoke_identity(a),
            Act::AddCourt(a) => self.add_court(a),
            Act::FileCase(a) => self.file_case(a),
            Act::ReviewFiling(a) => self.review_filing(a),
            Act::AssignStaff(a) => self.assign_staff(a),
            Act::AddParty(a) => self.add_party(a),
            Act::AppointLawyer(a) => self.appoint_lawyer(a),
            Act::LeaveCase(a) => self.leave_case(a),
            Act::SetEvidenceDeadline(a) => self.set_evidence_deadline(a),
            Act::SubmitEvidence(a) => self.submit_evidence(a),
            Act::ReceiveEvidence(a) => self.receive_evidence(a),
            Act::PostMessage(a) => self.post_message(a),
            Act::ScheduleHearing(a) => self.schedule_hearing(a),
            Act::HoldHearing(a) => self.hold_hearing(a),
            Act::RecordTranscript(a) => self.record_transcript(a),
            Act::SignTranscript(a) => self.sign_transcript(a),
            Act::ProposeMediation(a) => self.propose_mediation(a),
            Act::SignMediation(a) => self.sign_mediation(a),
            Act::ConfirmMediation(a) => self.confirm_mediation(a),
            Act::ServeDocument(a) => self.serve_document(a),
            Act::AcknowledgeService(a) => self.acknowledge_service(a),
            Act::IssueJudgment(a) => self.issue_judgment(a),
            Act::PublishJudgment(a) => self.publish_judgment(a),
            Act::ReportClue(a) => self.report_clue(a),
            Act::CloseCase(a) => self.close_case(a),
        }
    }

    // Identities and courts.

    fn register_identity(&mut self, a: &RegisterIdentity) -> R<()> {
        ensure(
            self.signer.record.role == Role::Registrar,
            Code::NotAuthorized,
        )?;
        match (&a.court, a.role.is_court_staff()) {
            (Some(court), true) => {
                self.court(court)?;
                ensure(self.registrar_covers(court)?, Code::NotAuthorized)?;
            }
            (None, false) => {}
            _ => return Err(Fail::Code(Code::InvalidArgument)),
        }
        ensure(self.get(&keys::key(&a.key)).is_none(), Code::KeyInUse)?;
        self.check_possession(
            &a.key,
            &Possession::Registration {
                key: &a.key,
                role: a.role,
                court: a.court.as_ref(),
                commitment: &a.commitment,
            },
            &a.possession,
        )?;
        let id = self.env.tx_id;
        let record = IdentityRecord {
            key: a.key,
            role: a.role,
            court: a.court.clone(),
            commitment: a.commitment,
            registered_by: Some(self.me()),
            registered_at_ms: self.now(),
            previous_keys: Vec::new(),
            revoked_at_ms: None,
            revoked_by: None,
            revocation_reason: String::new(),
        };
        self.put(keys::identity(&id), &record);
        self.writes.insert(keys::key(&a.key), Some(id.0.to_vec()));
        if let Some(court) = &a.court {
            self.mark(keys::court_identity(court, &id));
        }
        self.subjects.insert(id);
        Ok(())
    }

    fn rotate_key(&mut self, a: &RotateKey) -> R<()> {
        ensure(self.get(&keys::key(&a.new_key)).is_none(), Code::KeyInUse)?;
        let mut record = self.signer.record.clone();
        ensure(
            u32::try_from(record.previous_keys.len()).is_ok_and(|n| n < MAX_PREVIOUS_KEYS),
            Code::LimitReached,
        )?;
        let me = self.me();
        self.check_possession(
            &a.new_key,
            &Possession::Rotation {
                identity: &me,
                new_key: &a.new_key,
            },
            &a.possession,
        )?;
        let old = std::mem::replace(&mut record.key, a.new_key);
        record.previous_keys.push(old);
        self.put(keys::identity(&me), &record);
        self.writes
            .insert(keys::key(&a.new_key), Some(me.0.to_vec()));
        Ok(())
    }

    fn revoke_identity(&mut self, a: &RevokeIdentity) -> R<()> {
        ensure(
            self.signer.record.role == Role::Registrar,
            Code::NotAuthorized,
        )?;
        ensure(!a.reason.is_empty(), Code::InvalidArgument)?;
        let mut record = self.identity(&a.identity)?;
        ensure(record.is_active(), Code::AlreadyDone)?;
        if let Some(court) = &record.court {
            ensure(self.registrar_covers(court)?, Code::NotAuthorized)?;
        }
        record.revoked_at_ms = Some(self.now());
        record.revoked_by = Some(self.me());
        record.revocation_reason = a.reason.clone();
        self.put(keys::identity(&a.identity), &record);
        self.subjects.insert(a.identity);
        Ok(())
    }

    fn add_court(&mut self, a: &AddCourt) -> R<()> {
        ensure(
            self.signer.record.role == Role::Registrar
                && self.signer.record.court.as_ref() == Some(&a.parent),
            Code::NotAuthorized,
        )?;
        ensure(!a.name.is_empty(), Code::InvalidArgument)?;
        let parent = self.court(&a.parent)?;
        ensure(self.get(&keys::court(&a.code)).is_none(), Code::CourtExists)?;
        ensure(parent.level.may_supervise(a.level), Code::InvalidArgument)?;
        let record = CourtRecord {
            name: a.name.clone(),
            level: a.level,
            parent: Some(a.parent.clone()),
            added_by: Some(self.me()),
        };
        self.put(keys::court(&a.code), &record);
        Ok(())
    }

    // Filing and membership.

    fn file_case(&mut self, a: &FileCase) -> R<()> {
        self.court(&a.court)?;
        if let Some(receiving) = &a.receiving_court {
            ensure(receiving != &a.court, Code::InvalidArgument)?;
            self.court(receiving)?;
        }
        ensure(
            !a.plaintiffs.is_empty() && !a.defendants.is_empty(),
            Code::InvalidArgument,
        )?;
        let mut seen = BTreeSet::new();
        for party in a.plaintiffs.iter().chain(&a.defendants) {
            let id = match party {
                PartyRef::Registered(id) | PartyRef::Unregistered(id) => id,
            };
            ensure(seen.insert(*id), Code::InvalidArgument)?;
            if let PartyRef::Registered(id) = party {
                // Parties are identities registered as parties, as for `AddParty`: a judge,
                // clerk or lawyer identity named here would join the case as a party.
                let person = self.active_identity(id)?;
                ensure(person.role == Role::Party, Code::WrongRole)?;
            }
        }
        let me = self.me();
        let agent = match self.signer.record.role {
            Role::Party => {
                ensure(
                    a.plaintiffs.contains(&PartyRef::Registered(me)),
                    Code::NotAuthorized,
                )?;
                ensure(
                    a.principal.is_none() && a.power_of_attorney.is_none(),
                    Code::InvalidArgument,
                )?;
                None
            }
            Role::Lawyer => match (&a.principal, &a.power_of_attorney) {
                (Some(principal), Some(poa))
                    if a.plaintiffs.contains(&PartyRef::Registered(*principal)) =>
                {
                    Some(Member {
                        identity: me,
                        role: CaseRole::Agent,
                        principal: Some(*principal),
                        power_of_attorney: Some(*poa),
                        since_ms: self.now(),
                    })
                }
                _ => return Err(Fail::Code(Code::InvalidArgument)),
            },
            _ => return Err(Fail::Code(Code::NotAuthorized)),
        };
        let case_id = self.env.tx_id;
        let deadline = self.now().saturating_add(REVIEW_WINDOW_MS);
        let mut case = CaseRecord {
            court: a.court.clone(),
            receiving_court: a.receiving_court.clone(),
            kind: a.kind,
            filer: me,
            filed_at_ms: self.now(),
            review_deadline_ms: deadline,
            status: CaseStatus::PendingReview,
            number: None,
            reviewed_at_ms: None,
            rejection_reason: String::new(),
            plaintiffs: a.plaintiffs.clone(),
            defendants: a.defendants.clone(),
            claim_summary: a.claim_summary,
            complaint: a.complaint,
            attachments: a.attachments.clone(),
            members: Vec::new(),
            evidence_deadline_ms: None,
            judgments: 0,
            confirmed_mediations: 0,
            outcome: None,
            closed_at_ms: None,
            events: 0,
        };
        for (side, role) in [
            (&a.plaintiffs, CaseRole::Plaintiff),
            (&a.defendants, CaseRole::Defendant),
        ] {
            for party in side {
                if let PartyRef::Registered(id) = party {
                    let member = self.member(*id, role);
                    self.add_member(&case_id, &mut case, member)?;
                }
            }
        }
        if let Some(agent) = agent {
            self.add_member(&case_id, &mut case, agent)?;
        }
        self.mark(keys::court_case(&a.court, &case_id));
        self.mark(keys::identity_case(&me, &case_id));
        self.mark(keys::review_due(deadline, &case_id));
        self.finish_case_act(&case_id, &mut case, ActKind::FileCase)?;
        Ok(())
    }

    fn review_filing(&mut self, a: &ReviewFiling) -> R<()> {
        let mut case = self.case(&a.case)?;
        ensure(self.is_staff_of(&case.court), Code::NotAuthorized)?;
        ensure(case.status == CaseStatus::PendingReview, Code::WrongState)?;
        match &a.decision {
            Decision::Accept => {
                let year = case_year(self.now()).ok_or(Fail::Code(Code::LimitReached))?;
                let serial_key = keys::case_serial(&case.court, year, case.kind.tag());
                let previous = match self.get(&serial_key) {
                    None => 0,
                    Some(bytes) => {
                        let array: [u8; 4] = bytes.as_slice().try_into().map_err(|_| Corrupt {
                            key: serial_key.clone(),
                            reason: "not a u32 serial",
                        })?;
                        u32::from_be_bytes(array)
                    }
                };
                let serial = previous
                    .checked_add(1)
                    .ok_or(Fail::Code(Code::LimitReached))?;
                self.writes
                    .insert(serial_key, Some(serial.to_be_bytes().to_vec()));
                let number = format!(
                    "({year}){}{}初{serial}号",
                    case.court,
                    case.kind.number_char()
                );
                let number_key = keys::case_number(&number);
                // Court codes exclude the characters that structure a case number
                // (`CASE_NUMBER_MARKS`), and serials only grow: a number is never issued twice.
                assert!(
                    self.get(&number_key).is_none(),
                    "case number {number} issued twice"
                );
                self.writes.insert(number_key, Some(a.case.0.to_vec()));
                case.number = Some(number);
                case.status = CaseStatus::Accepted;
            }
            Decision::Reject { reason } => {
                ensure(!reason.is_empty(), Code::InvalidArgument)?;
                case.rejection_reason = reason.clone();
                case.status = CaseStatus::Rejected;
            }
        }
        case.reviewed_at_ms = Some(self.now());
        self.delete(keys::review_due(case.review_deadline_ms, &a.case));
        self.finish_case_act(&a.case, &mut case, ActKind::ReviewFiling)?;
        Ok(())
    }

    fn assign_staff(&mut self, a: &AssignStaff) -> R<()> {
        let mut case = self.case(&a.case)?;
        ensure(self.is_staff_of(&case.court), Code::NotAuthorized)?;
        ensure(case.status == CaseStatus::Accepted, Code::WrongState)?;
        ensure(a.role.is_staff(), Code::InvalidArgument)?;
        let person = self.active_identity(&a.member)?;
        let fits = match a.role {
            CaseRole::Judge => {
                person.role == Role::Judge && person.court == Some(case.court.clone())
            }
            CaseRole::Clerk => {
                person.role == Role::Clerk && person.court == Some(case.court.clone())
            }
            _ => person.role == Role::Mediator,
        };
        ensure(fits, Code::WrongRole)?;
        let member = self.member(a.member, a.role);
        self.add_member(&a.case, &mut case, member)?;
        self.finish_case_act(&a.case, &mut case, ActKind::AssignStaff)?;
        Ok(())
    }

    fn add_party(&mut self, a: &AddParty) -> R<()> {
        let mut case = self.case(&a.case)?;
        ensure(self.is_staff_of(&case.court), Code::NotAuthorized)?;
        ensure(case.status == CaseStatus::Accepted, Code::WrongState)?;
        ensure(a.role.is_party(), Code::InvalidArgument)?;
        let person = self.active_identity(&a.party)?;
        ensure(person.role == Role::Party, Code::WrongRole)?;
        let member = self.member(a.party, a.role);
        self.add_member(&a.case, &mut case, member)?;
        self.finish_case_act(&a.case, &mut case, ActKind::AddParty)?;
        Ok(())
    }

    fn appoint_lawyer(&mut self, a: &AppointLawyer) -> R<()> {
        let mut case = self.case(&a.case)?;
        let me = self.me();
        ensure(
            case.member(&me).is_some_and(|m| m.role.is_party()),
            Code::NotMember,
        )?;
        ensure(
            matches!(
                case.status,
                CaseStatus::PendingReview | CaseStatus::Accepted
            ),
            Code::WrongState,
        )?;
        let lawyer = self.active_identity(&a.lawyer)?;
        ensure(lawyer.role == Role::Lawyer, Code::WrongRole)?;
        let member = Member {
            identity: a.lawyer,
            role: CaseRole::Agent,
            principal: Some(me),
            power_of_attorney: Some(a.power_of_attorney),
            since_ms: self.now(),
        };
        self.add_member(&a.case, &mut case, member)?;
        self.finish_case_act(&a.case, &mut case, ActKind::AppointLawyer)?;
        Ok(())
    }

    fn leave_case(&mut self, a: &LeaveCase) -> R<()> {
        let mut case = self.case(&a.case)?;
        let me = self.me();
        let role = case
            .member(&me)
            .map(|m| m.role)
            .ok_or(Fail::Code(Code::NotMember))?;
        ensure(!role.is_party(), Code::NotAuthorized)?;
        ensure(
            matches!(
                case.status,
                CaseStatus::PendingReview | CaseStatus::Accepted
            ),
            Code::WrongState,
        )?;
        // Log first, so that the leaving member is still notified of their own departure.
        self.log_case(&a.case, &mut case, ActKind::LeaveCase)?;
        case.members.retain(|m| m.identity != me);
        self.save_case(&a.case, &case);
        Ok(())
    }

    fn set_evidence_deadline(&mut self, a: &SetEvidenceDeadline) -> R<()> {
        let mut case = self.case(&a.case)?;
        ensure(
            case.has_member(&self.me(), &[CaseRole::Judge]),
            Code::NotMember,
        )?;
        ensure(case.status == CaseStatus::Accepted, Code::WrongState)?;
        ensure(a.deadline_ms > self.now(), Code::InvalidArgument)?;
        case.evidence_deadline_ms = Some(a.deadline_ms);
        self.finish_case_act(&a.case, &mut case, ActKind::SetEvidenceDeadline)?;
        Ok(())
    }

    // Evidence and the case space.

    fn submit_evidence(&mut self, a: &SubmitEvidence) -> R<()> {
        let mut case = self.case(&a.case)?;
        ensure(
            case.member(&self.me())
                .is_some_and(|m| m.role.is_party() || m.role == CaseRole::Agent),
            Code::NotMember,
        )?;
        ensure(
            matches!(
                case.status,
                CaseStatus::PendingReview | CaseStatus::Accepted
            ),
            Code::WrongState,
        )?;
        if let Some(deadline) = case.evidence_deadline_ms {
            ensure(self.now() <= deadline, Code::DeadlinePassed)?;
        }
        let record = EvidenceRecord {
            case: a.case,
            submitter: self.me(),
            file: a.file.clone(),
            submitted_at_ms: self.now(),
            received_at_ms: None,
            received_by: None,
        };
        self.put(keys::object(keys::EVIDENCE, &self.env.tx_id), &record);
        self.finish_case_act(&a.case, &mut case, ActKind::SubmitEvidence)?;
        Ok(())
    }

    fn receive_evidence(&mut self, a: &ReceiveEvidence) -> R<()> {
        let mut evidence: EvidenceRecord = self.object(keys::EVIDENCE, &a.evidence)?;
        let mut case = self.case(&evidence.case)?;
        ensure(self.is_staff_of(&case.court), Code::NotAuthorized)?;
        ensure(evidence.received_at_ms.is_none(), Code::AlreadyDone)?;
        evidence.received_at_ms = Some(self.now());
        evidence.received_by = Some(self.me());
        self.put(keys::object(keys::EVIDENCE, &a.evidence), &evidence);
        self.finish_case_act(&evidence.case, &mut case, ActKind::ReceiveEvidence)?;
        Ok(())
    }

    fn post_message(&mut self, a: &PostMessage) -> R<()> {
        let mut case = self.case(&a.case)?;
        ensure(case.member(&self.me()).is_some(), Code::NotMember)?;
        ensure(
            matches!(
                case.status,
                CaseStatus::PendingReview | CaseStatus::Accepted
            ),
            Code::WrongState,
        )?;
        let record = MessageRecord {
            case: a.case,
            author: self.me(),
            kind: a.kind,
            content: a.content,
            for_judge: a.for_judge,
            posted_at_ms: self.now(),
        };
        self.put(keys::object(keys::MESSAGE, &self.env.tx_id), &record);
        self.finish_case_act(&a.case, &mut case, ActKind::PostMessage)?;
        Ok(())
    }

    // Hearings and transcripts.

    fn schedule_hearing(&mut self, a: &ScheduleHearing) -> R<()> {
        let mut case = self.case(&a.case)?;
        ensure(self.is_staff_of(&case.court), Code::NotAuthorized)?;
        ensure(case.status == CaseStatus::Accepted, Code::WrongState)?;
        ensure(a.at_ms > self.now(), Code::InvalidArgument)?;
        let record = HearingRecord {
            case: a.case,
            scheduled_by: self.me(),
            at_ms: a.at_ms,
            mode: a.mode,
            location: a.location.clone(),
            held_at_ms: None,
        };
        self.put(keys::object(keys::HEARING, &self.env.tx_id), &record);
        self.finish_case_act(&a.case, &mut case, ActKind::ScheduleHearing)?;
        Ok(())
    }

    fn hold_hearing(&mut self, a: &HoldHearing) -> R<()> {
        let mut hearing: HearingRecord = self.object(keys::HEARING, &a.hearing)?;
        let mut case = self.case(&hearing.case)?;
        ensure(self.is_staff_of(&case.court), Code::NotAuthorized)?;
        ensure(hearing.held_at_ms.is_none(), Code::AlreadyDone)?;
        ensure(case.status == CaseStatus::Accepted, Code::WrongState)?;
        hearing.held_at_ms = Some(self.now());
        self.put(keys::object(keys::HEARING, &a.hearing), &hearing);
        self.finish_case_act(&hearing.case, &mut case, ActKind::HoldHearing)?;
        Ok(())
    }

    /// Checks a list of required signers: at least one, no repeats, each a current member
    /// with one of `roles` (any role when empty) whose identity is not revoked (a revoked
    /// identity can never sign, so the list could never complete).
    fn check_signers(
        &self,
        case: &CaseRecord,
        signers: &[IdentityId],
        roles: &[CaseRole],
    ) -> R<()> {
        ensure(!signers.is_empty(), Code::InvalidArgument)?;
        let mut seen = BTreeSet::new();
        for signer in signers {
            ensure(seen.insert(*signer), Code::InvalidArgument)?;
            let member = case.member(signer).ok_or(Fail::Code(Code::NotMember))?;
            ensure(
                roles.is_empty() || roles.contains(&member.role),
                Code::WrongRole,
            )?;
            self.active_identity(signer)?;
        }
        Ok(())
    }

    fn record_transcript(&mut self, a: &RecordTranscript) -> R<()> {
        let hearing: HearingRecord = self.object(keys::HEARING, &a.hearing)?;
        let mut case = self.case(&hearing.case)?;
        ensure(self.is_staff_of(&case.court), Code::NotAuthorized)?;
        ensure(hearing.held_at_ms.is_some(), Code::WrongState)?;
        ensure(case.status == CaseStatus::Accepted, Code::WrongState)?;
        self.check_signers(&case, &a.signers, &[])?;
        let record = TranscriptRecord {
            case: hearing.case,
            hearing: a.hearing,
            content: a.transcript,
            recorded_by: self.me(),
            recorded_at_ms: self.now(),
            required: a.signers.clone(),
            signatures: Vec::new(),
            completed_at_ms: None,
        };
        self.put(keys::object(keys::TRANSCRIPT, &self.env.tx_id), &record);
        for signer in &a.signers {
            self.subjects.insert(*signer);
        }
        self.finish_case_act(&hearing.case, &mut case, ActKind::RecordTranscript)?;
        Ok(())
    }

    /// Adds the signer's signature to a required-signature list; returns whether it is now
    /// complete.
    fn sign_required(
        &self,
        required: &[IdentityId],
        signatures: &mut Vec<SignatureEntry>,
    ) -> R<bool> {
        let me = self.me();
        ensure(required.contains(&me), Code::NotAuthorized)?;
        ensure(
            !signatures.iter().any(|s| s.identity == me),
            Code::AlreadyDone,
        )?;
        signatures.push(SignatureEntry {
            identity: me,
            at_ms: self.now(),
        });
        Ok(signatures.len() == required.len())
    }

    fn sign_transcript(&mut self, a: &SignTranscript) -> R<()> {
        let mut transcript: TranscriptRecord = self.object(keys::TRANSCRIPT, &a.transcript)?;
        ensure(transcript.content == a.content, Code::ContentMismatch)?;
        let mut case = self.case(&transcript.case)?;
        let required = transcript.required.clone();
        if self.sign_required(&required, &mut transcript.signatures)? {
            transcript.completed_at_ms = Some(self.now());
        }
        self.put(keys::object(keys::TRANSCRIPT, &a.transcript), &transcript);
        self.finish_case_act(&transcript.case, &mut case, ActKind::SignTranscript)?;
        Ok(())
    }

    // Mediation.

    fn propose_mediation(&mut self, a: &ProposeMediation) -> R<()> {
        let mut case = self.case(&a.case)?;
        ensure(
            case.has_member(&self.me(), &[CaseRole::Judge, CaseRole::Mediator]),
            Code::NotMember,
        )?;
        ensure(case.status == CaseStatus::Accepted, Code::WrongState)?;
        self.check_signers(
            &case,
            &a.signers,
            &[
                CaseRole::Plaintiff,
                CaseRole::Defendant,
                CaseRole::ThirdParty,
                CaseRole::Agent,
            ],
        )?;
        let record = MediationRecord {
            case: a.case,
            agreement: a.agreement,
            proposed_by: self.me(),
            proposed_at_ms: self.now(),
            required: a.signers.clone(),
            signatures: Vec::new(),
            confirmed_at_ms: None,
            confirmed_by: None,
        };
        self.put(keys::object(keys::MEDIATION, &self.env.tx_id), &record);
        self.finish_case_act(&a.case, &mut case, ActKind::ProposeMediation)?;
        Ok(())
    }

    fn sign_mediation(&mut self, a: &SignMediation) -> R<()> {
        let mut mediation: MediationRecord = self.object(keys::MEDIATION, &a.mediation)?;
        ensure(mediation.agreement == a.content, Code::ContentMismatch)?;
        let mut case = self.case(&mediation.case)?;
        ensure(case.status == CaseStatus::Accepted, Code::WrongState)?;
        let required = mediation.required.clone();
        self.sign_required(&required, &mut mediation.signatures)?;
        self.put(keys::object(keys::MEDIATION, &a.mediation), &mediation);
        self.finish_case_act(&mediation.case, &mut case, ActKind::SignMediation)?;
        Ok(())
    }

    fn confirm_mediation(&mut self, a: &ConfirmMediation) -> R<()> {
        let mut mediation: MediationRecord = self.object(keys::MEDIATION, &a.mediation)?;
        let mut case = self.case(&mediation.case)?;
        ensure(
            case.has_member(&self.me(), &[CaseRole::Judge]),
            Code::NotMember,
        )?;
        ensure(mediation.confirmed_at_ms.is_none(), Code::AlreadyDone)?;
        ensure(case.status == CaseStatus::Accepted, Code::WrongState)?;
        ensure(
            mediation.signatures.len() == mediation.required.len(),
            Code::Incomplete,
        )?;
        mediation.confirmed_at_ms = Some(self.now());
        mediation.confirmed_by = Some(self.me());
        case.confirmed_mediations = case
            .confirmed_mediations
            .checked_add(1)
            .ok_or(Fail::Code(Code::LimitReached))?;
        self.put(keys::object(keys::MEDIATION, &a.mediation), &mediation);
        self.finish_case_act(&mediation.case, &mut case, ActKind::ConfirmMediation)?;
        Ok(())
    }

    // Service of documents.

    fn serve_document(&mut self, a: &ServeDocument) -> R<()> {
        let mut case = self.case(&a.case)?;
        ensure(self.is_staff_of(&case.court), Code::NotAuthorized)?;
        ensure(
            matches!(case.status, CaseStatus::Accepted | CaseStatus::Closed),
            Code::WrongState,
        )?;
        self.active_identity(&a.recipient)?;
        let record = ServiceRecord {
            case: a.case,
            recipient: a.recipient,
            kind: a.kind,
            document: a.document,
            served_by: self.me(),
            served_at_ms: self.now(),
            received_at_ms: None,
        };
        self.put(keys::object(keys::SERVICE, &self.env.tx_id), &record);
        self.subjects.insert(a.recipient);
        self.finish_case_act(&a.case, &mut case, ActKind::ServeDocument)?;
        Ok(())
    }

    fn acknowledge_service(&mut self, a: &AcknowledgeService) -> R<()> {
        let mut service: ServiceRecord = self.object(keys::SERVICE, &a.service)?;
        ensure(service.recipient == self.me(), Code::NotAuthorized)?;
        ensure(service.document == a.document, Code::ContentMismatch)?;
        ensure(service.received_at_ms.is_none(), Code::AlreadyDone)?;
        let mut case = self.case(&service.case)?;
        service.received_at_ms = Some(self.now());
        self.put(keys::object(keys::SERVICE, &a.service), &service);
        self.finish_case_act(&service.case, &mut case, ActKind::AcknowledgeService)?;
        Ok(())
    }

    // Judgment, enforcement, closure.

    fn issue_judgment(&mut self, a: &IssueJudgment) -> R<()> {
        let mut case = self.case(&a.case)?;
        ensure(
            case.has_member(&self.me(), &[CaseRole::Judge]),
            Code::NotMember,
        )?;
        ensure(case.status == CaseStatus::Accepted, Code::WrongState)?;
        case.judgments = case
            .judgments
            .checked_add(1)
            .ok_or(Fail::Code(Code::LimitReached))?;
        let record = JudgmentRecord {
            case: a.case,
            kind: a.kind,
            document: a.document,
            judge: self.me(),
            issued_at_ms: self.now(),
            public_document: None,
            published_at_ms: None,
        };
        self.put(keys::object(keys::JUDGMENT, &self.env.tx_id), &record);
        self.finish_case_act(&a.case, &mut case, ActKind::IssueJudgment)?;
        Ok(())
    }

    fn publish_judgment(&mut self, a: &PublishJudgment) -> R<()> {
        let mut judgment: JudgmentRecord = self.object(keys::JUDGMENT, &a.judgment)?;
        let mut case = self.case(&judgment.case)?;
        ensure(self.is_staff_of(&case.court), Code::NotAuthorized)?;
        ensure(judgment.published_at_ms.is_none(), Code::AlreadyDone)?;
        judgment.public_document = Some(a.public_document);
        judgment.published_at_ms = Some(self.now());
        self.put(keys::object(keys::JUDGMENT, &a.judgment), &judgment);
        self.finish_case_act(&judgment.case, &mut case, ActKind::PublishJudgment)?;
        Ok(())
    }

    fn report_clue(&mut self, a: &ReportClue) -> R<()> {
        let mut case = self.case(&a.case)?;
        ensure(
            matches!(case.status, CaseStatus::Accepted | CaseStatus::Closed),
            Code::WrongState,
        )?;
        let record = ClueRecord {
            case: a.case,
            kind: a.kind,
            content: a.content,
            reporter: self.me(),
            reported_at_ms: self.now(),
        };
        self.put(keys::object(keys::CLUE, &self.env.tx_id), &record);
        self.finish_case_act(&a.case, &mut case, ActKind::ReportClue)?;
        Ok(())
    }

    fn close_case(&mut self, a: &CloseCase) -> R<()> {
        let mut case = self.case(&a.case)?;
        ensure(
            case.has_member(&self.me(), &[CaseRole::Judge]),
            Code::NotMember,
        )?;
        ensure(case.status == CaseStatus::Accepted, Code::WrongState)?;
        match a.outcome {
            Outcome::Judgment => ensure(case.judgments > 0, Code::Incomplete)?,
            Outcome::Mediation => ensure(case.confirmed_mediations > 0, Code::Incomplete)?,
            Outcome::Withdrawn | Outcome::Dismissed => {}
        }
        case.status = CaseStatus::Closed;
        case.outcome = Some(a.outcome);
        case.closed_at_ms = Some(self.now());
        self.finish_case_act(&a.case, &mut case, ActKind::CloseCase)?;
        Ok(())
    }
}
