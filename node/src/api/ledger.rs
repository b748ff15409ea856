//! The judicial ledger's read API: identities, courts, cases with their members, documents,
//! signatures, deadlines and timelines, searches, and per-case and per-identity event streams.
//!
//! Everything here reads committed state (`courtledger_ledger` records, through the store) and
//! renders it as JSON: ids and hashes as 64 hex characters, times as milliseconds since the Unix
//! epoch, enumerations by their stable `snake_case` names. Pages are bounded by
//! [`MAX_PAGE`]; a page returns `next_after`, to pass as `after` for the next one (absent at
//! the end).

use axum::extract::State;
use axum::response::Response;
use axum::Json;
use courtledger_codec::{decode_exact, Decode};
use courtledger_crypto::{Digest, PublicKey};
use courtledger_ledger::record::{
    CaseRecord, ClueRecord, CourtRecord, EvidenceRecord, HearingRecord, IdentityRecord,
    JudgmentRecord, MediationRecord, Member, MessageRecord, ServiceRecord, SignatureEntry,
    TimelineEntry, TranscriptRecord,
};
use courtledger_ledger::{keys, ActKind, CaseStatus, PartyRef};
use courtledger_types::limits::MAX_RECORD_BYTES;
use courtledger_types::CourtCode;
use serde_json::{json, Value};

use super::error::{ApiError, ApiPath, ApiQuery};
use super::stream::event_stream;
use super::txs::parse_digest;
use super::ApiState;

/// Entries in a page when no `limit` is given.
pub const DEFAULT_PAGE: u64 = 50;
/// Most entries in a page; a larger `limit` is cut to this.
pub const MAX_PAGE: u64 = 500;
/// Index entries one search request reads at most (a rare status among many cases): past it,
/// the page ends early with `next_after` set, so no request scans without bound.
pub const MAX_SCAN_PER_REQUEST: usize = 5_000;
/// Timeline entries read to list a case's documents in `GET /v1/cases/{id}`.
pub const MAX_CASE_DOCUMENT_SCAN: usize = 1000;

fn hex(digest: &Digest) -> String {
    digest.to_string()
}

fn opt_hex(digest: &Option<Digest>) -> Value {
    digest.as_ref().map_or(Value::Null, |d| json!(hex(d)))
}

fn key_hex(key: &PublicKey) -> String {
    ::hex::encode(key.as_bytes())
}

fn decode_record<T: Decode>(bytes: &[u8]) -> Result<T, ApiError> {
    decode_exact(
        bytes,
        usize::try_from(MAX_RECORD_BYTES).unwrap_or(usize::MAX),
    )
    .map_err(|error| ApiError::internal(format!("a ledger record does not decode: {error}")))
}

fn get_record<T: Decode>(state: &ApiState, key: &[u8]) -> Result<Option<T>, ApiError> {
    let bytes = state.store()?.state_get(key).map_err(ApiError::internal)?;
    bytes.map(|bytes| decode_record(&bytes)).transpose()
}

fn found<T>(value: Option<T>, code: &'static str, what: &str) -> Result<T, ApiError> {
    value.ok_or_else(|| ApiError::not_found(code, format!("no such {what}")))
}

fn page_limit(query: &ApiQuery) -> Result<usize, ApiError> {
    let limit = query
        .u64("limit")?
        .unwrap_or(DEFAULT_PAGE)
        .clamp(1, MAX_PAGE);
    Ok(usize::try_from(limit).unwrap_or(usize::MAX))
}

fn parse_court(text: &str) -> Result<CourtCode, ApiError> {
    CourtCode::new(text).map_err(|reason| {
        ApiError::bad_request("invalid_court", format!("not a court code: {reason}"))
            .with_field("court")
    })
}

fn party_json(party: &PartyRef) -> Value {
    match party {
        PartyRef::Registered(id) => json!({ "identity": hex(id) }),
        PartyRef::Unregistered(commitment) => json!({ "unregistered": hex(commitment) }),
    }
}

fn member_json(member: &Member) -> Value {
    json!({
        "identity": hex(&member.identity),
        "role": member.role.name(),
        "principal": opt_hex(&member.principal),
        "power_of_attorney": opt_hex(&member.power_of_attorney),
        "since_ms": member.since_ms,
    })
}

fn signatures_json(signatures: &[SignatureEntry]) -> Value {
    signatures
        .iter()
        .map(|s| json!({ "identity": hex(&s.identity), "at_ms": s.at_ms }))
        .collect()
}

/// JSON of an identity record.
pub fn identity_json(id: &Digest, record: &IdentityRecord) -> Value {
    json!({
        "id": hex(id),
        "key": key_hex(&record.key),
        "role": record.role.name(),
        "court": record.court.as_ref().map(CourtCode::as_str),
        "commitment": hex(&record.commitment),
        "registered_by": opt_hex(&record.registered_by),
        "registered_at_ms": record.registered_at_ms,
        "previous_keys": record.previous_keys.iter().map(key_hex).collect::<Vec<_>>(),
        "active": record.is_active(),
        "revoked_at_ms": record.revoked_at_ms,
        "revoked_by": opt_hex(&record.revoked_by),
        "revocation_reason": record.revocation_reason,
    })
}

fn court_json(code: &str, record: &CourtRecord) -> Value {
    json!({
        "code": code,
        "name": record.name,
        "level": record.level.to_string().to_lowercase(),
        "parent": record.parent.as_ref().map(CourtCode::as_str),
        "added_by": opt_hex(&record.added_by),
    })
}

fn case_summary_json(id: &Digest, case: &CaseRecord, now_ms: u64) -> Value {
    json!({
        "id": hex(id),
        "number": case.number,
        "court": case.court.as_str(),
        "kind": case.kind.name(),
        "status": case.status.name(),
        "filed_at_ms": case.filed_at_ms,
        "review_overdue": case.status == CaseStatus::PendingReview && now_ms > case.review_deadline_ms,
    })
}

fn case_json(id: &Digest, case: &CaseRecord, now_ms: u64) -> Value {
    json!({
        "id": hex(id),
        "number": case.number,
        "court": case.court.as_str(),
        "receiving_court": case.receiving_court.as_ref().map(CourtCode::as_str),
        "kind": case.kind.name(),
        "status": case.status.name(),
        "filer": hex(&case.filer),
        "filed_at_ms": case.filed_at_ms,
        "deadlines": {
            "review_by_ms": case.review_deadline_ms,
            "review_overdue": case.status == CaseStatus::PendingReview && now_ms > case.review_deadline_ms,
            "evidence_by_ms": case.evidence_deadline_ms,
        },
        "reviewed_at_ms": case.reviewed_at_ms,
        "rejection_reason": case.rejection_reason,
        "plaintiffs": case.plaintiffs.iter().map(party_json).collect::<Vec<_>>(),
        "defendants": case.defendants.iter().map(party_json).collect::<Vec<_>>(),
        "claim_summary": hex(&case.claim_summary),
        "complaint": hex(&case.complaint),
        "attachments": case.attachments.iter().map(|a| json!({
            "kind": a.kind.name(), "sha256": hex(&a.sha256), "size": a.size,
        })).collect::<Vec<_>>(),
        "members": case.members.iter().map(member_json).collect::<Vec<_>>(),
        "judgments": case.judgments,
        "confirmed_mediations": case.confirmed_mediations,
        "outcome": case.outcome.map(|o| o.name()),
        "closed_at_ms": case.closed_at_ms,
        "events": case.events,
    })
}

fn timeline_json(seq: u32, entry: &TimelineEntry) -> Value {
    json!({
        "seq": seq,
        "tx_id": hex(&entry.tx_id),
        "height": entry.height,
        "index": entry.index,
        "time_ms": entry.time_ms,
        "kind": entry.kind.name(),
        "actor": hex(&entry.actor),
    })
}

/// The JSON of the object an act created, by the act's kind: `(kind name, record json)`.
fn object_json(state: &ApiState, kind: ActKind, id: &Digest) -> Result<Option<Value>, ApiError> {
    Ok(match kind {
        ActKind::SubmitEvidence => {
            get_record::<EvidenceRecord>(state, &keys::object(keys::EVIDENCE, id))?
                .map(|r| evidence_json(id, &r))
        }
        ActKind::PostMessage => {
            get_record::<MessageRecord>(state, &keys::object(keys::MESSAGE, id))?
                .map(|r| message_json(id, &r))
        }
        ActKind::ScheduleHearing => {
            get_record::<HearingRecord>(state, &keys::object(keys::HEARING, id))?
                .map(|r| hearing_json(id, &r))
        }
        ActKind::RecordTranscript => {
            get_record::<TranscriptRecord>(state, &keys::object(keys::TRANSCRIPT, id))?
                .map(|r| transcript_json(id, &r))
        }
        ActKind::ProposeMediation => {
            get_record::<MediationRecord>(state, &keys::object(keys::MEDIATION, id))?
                .map(|r| mediation_json(id, &r))
        }
        ActKind::ServeDocument => {
            get_record::<ServiceRecord>(state, &keys::object(keys::SERVICE, id))?
                .map(|r| service_json(id, &r))
        }
        ActKind::IssueJudgment => {
            get_record::<JudgmentRecord>(state, &keys::object(keys::JUDGMENT, id))?
                .map(|r| judgment_json(id, &r))
        }
        ActKind::ReportClue => get_record::<ClueRecord>(state, &keys::object(keys::CLUE, id))?
            .map(|r| clue_json(id, &r)),
        _ => None,
    })
}

fn evidence_json(id: &Digest, r: &EvidenceRecord) -> Value {
    json!({
        "id": hex(id), "case": hex(&r.case), "submitter": hex(&r.submitter),
        "sha256": hex(&r.file.sha256), "size": r.file.size, "media_type": r.file.media_type,
        "title": r.file.title, "submitted_at_ms": r.submitted_at_ms,
        "received_at_ms": r.received_at_ms, "received_by": opt_hex(&r.received_by),
    })
}

fn message_json(id: &Digest, r: &MessageRecord) -> Value {
    json!({
        "id": hex(id), "case": hex(&r.case), "author": hex(&r.author), "kind": r.kind.name(),
        "content": hex(&r.content), "for_judge": r.for_judge, "posted_at_ms": r.posted_at_ms,
    })
}

fn hearing_json(id: &Digest, r: &HearingRecord) -> Value {
    json!({
        "id": hex(id), "case": hex(&r.case), "scheduled_by": hex(&r.scheduled_by),
        "at_ms": r.at_ms, "mode": r.mode.name(), "location": r.location,
        "held_at_ms": r.held_at_ms,
    })
}

fn transcript_json(id: &Digest, r: &TranscriptRecord) -> Value {
    json!({
        "id": hex(id), "case": hex(&r.case), "hearing": hex(&r.hearing),
        "content": hex(&r.content), "recorded_by": hex(&r.recorded_by),
        "recorded_at_ms": r.recorded_at_ms,
        "required": r.required.iter().map(hex).collect::<Vec<_>>(),
        "signatures": signatures_json(&r.signatures),
        "complete": r.completed_at_ms.is_some(), "completed_at_ms": r.completed_at_ms,
    })
}

fn mediation_json(id: &Digest, r: &MediationRecord) -> Value {
    json!({
        "id": hex(id), "case": hex(&r.case), "agreement": hex(&r.agreement),
        "proposed_by": hex(&r.proposed_by), "proposed_at_ms": r.proposed_at_ms,
        "required": r.required.iter().map(hex).collect::<Vec<_>>(),
        "signatures": signatures_json(&r.signatures),
        "confirmed_at_ms": r.confirmed_at_ms, "confirmed_by": opt_hex(&r.confirmed_by),
    })
}

fn service_json(id: &Digest, r: &ServiceRecord) -> Value {
    json!({
        "id": hex(id), "case": hex(&r.case), "recipient": hex(&r.recipient),
        "kind": r.kind.name(), "document": hex(&r.document), "served_by": hex(&r.served_by),
        "served_at_ms": r.served_at_ms, "received_at_ms": r.received_at_ms,
    })
}

fn judgment_json(id: &Digest, r: &JudgmentRecord) -> Value {
    json!({
        "id": hex(id), "case": hex(&r.case), "kind": r.kind.name(),
        "document": hex(&r.document), "judge": hex(&r.judge), "issued_at_ms": r.issued_at_ms,
        "public_document": opt_hex(&r.public_document), "published_at_ms": r.published_at_ms,
    })
}

fn clue_json(id: &Digest, r: &ClueRecord) -> Value {
    json!({
        "id": hex(id), "case": hex(&r.case), "kind": r.kind.name(),
        "content": hex(&r.content), "reporter": hex(&r.reporter),
        "reported_at_ms": r.reported_at_ms,
    })
}

/// The time of the latest committed block: "now" for deadlines, the same on every node at the
/// same height.
fn chain_now_ms(state: &ApiState) -> Result<u64, ApiError> {
    let store = state.store()?;
    let height = store.last_height();
    Ok(store
        .header(height)
        .map_err(ApiError::internal)?
        .map_or(0, |header| header.time_ms))
}

/// `GET /v1/identities/{id}`.
pub(super) async fn identity(
    State(state): State<ApiState>,
    ApiPath(id): ApiPath,
) -> Result<Json<Value>, ApiError> {
    let id = parse_digest(&id, "id", "an identity id")?;
    let record: IdentityRecord = found(
        get_record(&state, &keys::identity(&id))?,
        "unknown_identity",
        "identity",
    )?;
    Ok(Json(identity_json(&id, &record)))
}

/// `GET /v1/keys/{key}`: the identity a public key belongs to, and whether it is its current
/// key.
pub(super) async fn key(
    State(state): State<ApiState>,
    ApiPath(key): ApiPath,
) -> Result<Json<Value>, ApiError> {
    let bytes: [u8; 32] = ::hex::decode(key.strip_prefix("0x").unwrap_or(&key))
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| {
            ApiError::bad_request("invalid_key", "a public key is 64 hex characters")
                .with_field("key")
        })?;
    let key = PublicKey::from_bytes(&bytes).map_err(|error| {
        ApiError::bad_request("invalid_key", format!("not a valid public key: {error}"))
            .with_field("key")
    })?;
    let id_bytes = found(
        state
            .store()?
            .state_get(&keys::key(&key))
            .map_err(ApiError::internal)?,
        "unknown_key",
        "registered key",
    )?;
    let id = Digest(
        id_bytes
            .try_into()
            .map_err(|_| ApiError::internal("a key directory entry is not 32 bytes"))?,
    );
    let record: IdentityRecord = found(
        get_record(&state, &keys::identity(&id))?,
        "unknown_identity",
        "identity",
    )?;
    Ok(Json(json!({
        "identity": identity_json(&id, &record),
        "current": record.key == key,
    })))
}

/// `GET /v1/courts?after=CODE&limit=N`: courts in code order.
pub(super) async fn courts(
    State(state): State<ApiState>,
    query: ApiQuery,
) -> Result<Json<Value>, ApiError> {
    query.only(&["after", "limit"])?;
    let limit = page_limit(&query)?;
    let after = query
        .single("after")?
        .map(parse_court)
        .transpose()?
        .map(|code| keys::court(&code));
    let entries = state
        .store()?
        .state_scan(keys::COURT, after.as_deref(), limit.saturating_add(1))
        .map_err(ApiError::internal)?;
    let mut courts = Vec::new();
    for (key, value) in entries.iter().take(limit) {
        let code = String::from_utf8_lossy(&key[keys::COURT.len()..]).into_owned();
        courts.push(court_json(&code, &decode_record(value)?));
    }
    let next_after = (entries.len() > limit)
        .then(|| {
            courts
                .last()
                .and_then(|c| c["code"].as_str().map(str::to_owned))
        })
        .flatten();
    Ok(Json(json!({ "courts": courts, "next_after": next_after })))
}

/// `GET /v1/courts/{code}`: a court and its registered staff (judges, clerks, mediators,
/// registrars; the first [`MAX_PAGE`]).
pub(super) async fn court(
    State(state): State<ApiState>,
    ApiPath(code): ApiPath,
) -> Result<Json<Value>, ApiError> {
    let code = parse_court(&code)?;
    let record: CourtRecord = found(
        get_record(&state, &keys::court(&code))?,
        "unknown_court",
        "court",
    )?;
    let prefix = keys::court_identity_prefix(&code);
    let staff: Vec<String> = state
        .store()?
        .state_scan(
            &prefix,
            None,
            usize::try_from(MAX_PAGE).unwrap_or(usize::MAX),
        )
        .map_err(ApiError::internal)?
        .iter()
        .filter_map(|(key, _)| {
            key.get(prefix.len()..)
                .and_then(|id| <[u8; 32]>::try_from(id).ok())
        })
        .map(|id| hex(&Digest(id)))
        .collect();
    let mut body = court_json(code.as_str(), &record);
    body["staff"] = json!(staff);
    Ok(Json(body))
}

fn load_case(state: &ApiState, id: &Digest) -> Result<CaseRecord, ApiError> {
    found(get_record(state, &keys::case(id))?, "unknown_case", "case")
}

/// `GET /v1/cases/{id}`: the case with its members, deadlines, documents and signatures.
pub(super) async fn case(
    State(state): State<ApiState>,
    ApiPath(id): ApiPath,
) -> Result<Json<Value>, ApiError> {
    let id = parse_digest(&id, "id", "a case id")?;
    let case = load_case(&state, &id)?;
    let mut body = case_json(&id, &case, chain_now_ms(&state)?);
    let entries = state
        .store()?
        .state_scan(&keys::timeline_prefix(&id), None, MAX_CASE_DOCUMENT_SCAN)
        .map_err(ApiError::internal)?;
    let mut documents = Vec::new();
    for (_, value) in &entries {
        let entry: TimelineEntry = decode_record(value)?;
        if let Some(object) = object_json(&state, entry.kind, &entry.tx_id)? {
            documents.push(json!({ "kind": entry.kind.name(), "record": object }));
        }
    }
    body["documents"] = json!(documents);
    Ok(Json(body))
}

/// `GET /v1/cases/by-number/{number}`.
pub(super) async fn case_by_number(
    State(state): State<ApiState>,
    ApiPath(number): ApiPath,
) -> Result<Json<Value>, ApiError> {
    let bytes = found(
        state
            .store()?
            .state_get(&keys::case_number(&number))
            .map_err(ApiError::internal)?,
        "unknown_case",
        "case number",
    )?;
    let id = Digest(
        bytes
            .try_into()
            .map_err(|_| ApiError::internal("a case-number entry is not 32 bytes"))?,
    );
    let case = load_case(&state, &id)?;
    Ok(Json(case_json(&id, &case, chain_now_ms(&state)?)))
}

/// `GET /v1/cases/{id}/timeline?after=SEQ&limit=N`: committed acts on the case, oldest first.
pub(super) async fn timeline(
    State(state): State<ApiState>,
    ApiPath(id): ApiPath,
    query: ApiQuery,
) -> Result<Json<Value>, ApiError> {
    query.only(&["after", "limit"])?;
    let id = parse_digest(&id, "id", "a case id")?;
    load_case(&state, &id)?;
    let limit = page_limit(&query)?;
    let after = query
        .u64("after")?
        .map(|seq| u32::try_from(seq).unwrap_or(u32::MAX))
        .map(|seq| keys::timeline(&id, seq));
    let entries = state
        .store()?
        .state_scan(
            &keys::timeline_prefix(&id),
            after.as_deref(),
            limit.saturating_add(1),
        )
        .map_err(ApiError::internal)?;
    let prefix_len = keys::timeline_prefix(&id).len();
    let mut events = Vec::new();
    let mut last_seq = None;
    for (key, value) in entries.iter().take(limit) {
        let seq = key
            .get(prefix_len..)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(u32::from_be_bytes)
            .ok_or_else(|| ApiError::internal("a timeline key is malformed"))?;
        events.push(timeline_json(seq, &decode_record(value)?));
        last_seq = Some(seq);
    }
    let next_after = if entries.len() > limit {
        last_seq
    } else {
        None
    };
    Ok(Json(json!({ "events": events, "next_after": next_after })))
}

/// A page of case ids under an index prefix, filtered by status; the ids are the key's last 32
/// bytes.
fn case_page(state: &ApiState, prefix: &[u8], query: &ApiQuery) -> Result<Json<Value>, ApiError> {
    let limit = page_limit(query)?;
    let status = query
        .single("status")?
        .map(|name| {
            CaseStatus::from_name(name).ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_status",
                    "status is pending_review, rejected, accepted or closed",
                )
                .with_field("status")
            })
        })
        .transpose()?;
    let mut after = query
        .single("after")?
        .map(|text| parse_digest(text, "after", "a case id"))
        .transpose()?
        .map(|id| [prefix, id.as_bytes().as_slice()].concat());
    let now = chain_now_ms(state)?;
    let mut cases = Vec::new();
    let mut next_after = None;
    let mut scanned = 0usize;
    // Scan in bounded chunks until the page is full, the index ends or the scan bound is hit.
    'scan: loop {
        let entries = state
            .store()?
            .state_scan(prefix, after.as_deref(), limit)
            .map_err(ApiError::internal)?;
        let done = entries.len() < limit;
        for (key, _) in &entries {
            after = Some(key.clone());
            let id = key
                .get(key.len().saturating_sub(32)..)
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .map(Digest)
                .ok_or_else(|| ApiError::internal("an index key is malformed"))?;
            let case = load_case(state, &id)?;
            scanned += 1;
            if status.is_none_or(|s| s == case.status) {
                cases.push(case_summary_json(&id, &case, now));
                if cases.len() == limit {
                    next_after = Some(hex(&id));
                    break 'scan;
                }
            }
            if scanned >= MAX_SCAN_PER_REQUEST {
                next_after = Some(hex(&id));
                break 'scan;
            }
        }
        if done {
            break;
        }
    }
    Ok(Json(json!({ "cases": cases, "next_after": next_after })))
}

/// `GET /v1/courts/{code}/cases?status=S&after=ID&limit=N`: a court's cases.
pub(super) async fn court_cases(
    State(state): State<ApiState>,
    ApiPath(code): ApiPath,
    query: ApiQuery,
) -> Result<Json<Value>, ApiError> {
    query.only(&["status", "after", "limit"])?;
    let code = parse_court(&code)?;
    found(
        get_record::<CourtRecord>(&state, &keys::court(&code))?,
        "unknown_court",
        "court",
    )?;
    case_page(&state, &keys::court_case_prefix(&code), &query)
}

/// `GET /v1/identities/{id}/cases?status=S&after=ID&limit=N`: the cases a person is or was in.
pub(super) async fn identity_cases(
    State(state): State<ApiState>,
    ApiPath(id): ApiPath,
    query: ApiQuery,
) -> Result<Json<Value>, ApiError> {
    query.only(&["status", "after", "limit"])?;
    let id = parse_digest(&id, "id", "an identity id")?;
    case_page(&state, &keys::identity_case_prefix(&id), &query)
}

/// `GET /v1/filings/overdue?court=CODE&limit=N`: filings still pending review after their
/// 7-day window, oldest deadline first, as of the latest block's time.
pub(super) async fn overdue(
    State(state): State<ApiState>,
    query: ApiQuery,
) -> Result<Json<Value>, ApiError> {
    query.only(&["court", "limit"])?;
    let court = query.single("court")?.map(parse_court).transpose()?;
    let limit = page_limit(&query)?;
    let now = chain_now_ms(&state)?;
    let mut filings = Vec::new();
    let mut after: Option<Vec<u8>> = None;
    let mut scanned = 0usize;
    let mut truncated = false;
    'scan: loop {
        let entries = state
            .store()?
            .state_scan(keys::IDX_REVIEW_DUE, after.as_deref(), limit)
            .map_err(ApiError::internal)?;
        let done = entries.len() < limit;
        for (key, _) in &entries {
            after = Some(key.clone());
            let rest = &key[keys::IDX_REVIEW_DUE.len()..];
            let (deadline, id) = match (rest.get(..8), rest.get(8..)) {
                (Some(d), Some(id)) if id.len() == 32 => (
                    u64::from_be_bytes(d.try_into().unwrap_or([0; 8])),
                    Digest(id.try_into().unwrap_or([0; 32])),
                ),
                _ => return Err(ApiError::internal("a review index key is malformed")),
            };
            if deadline >= now {
                break 'scan;
            }
            let case = load_case(&state, &id)?;
            scanned += 1;
            if court.as_ref().is_none_or(|c| c == &case.court) {
                filings.push(case_summary_json(&id, &case, now));
                if filings.len() == limit {
                    break 'scan;
                }
            }
            if scanned >= MAX_SCAN_PER_REQUEST {
                truncated = true;
                break 'scan;
            }
        }
        if done {
            break;
        }
    }
    Ok(Json(
        json!({ "as_of_ms": now, "filings": filings, "truncated": truncated }),
    ))
}

macro_rules! object_route {
    ($name:ident, $record:ty, $prefix:expr, $json:ident, $what:literal) => {
        #[doc = concat!("`GET` one ", $what, " by id.")]
        pub(super) async fn $name(
            State(state): State<ApiState>,
            ApiPath(id): ApiPath,
        ) -> Result<Json<Value>, ApiError> {
            let id = parse_digest(&id, "id", concat!("a ", $what, " id"))?;
            let record: $record = found(
                get_record(&state, &keys::object($prefix, &id))?,
                "unknown_object",
                $what,
            )?;
            Ok(Json($json(&id, &record)))
        }
    };
}

object_route!(
    evidence,
    EvidenceRecord,
    keys::EVIDENCE,
    evidence_json,
    "evidence"
);
object_route!(
    message,
    MessageRecord,
    keys::MESSAGE,
    message_json,
    "message"
);
object_route!(
    hearing,
    HearingRecord,
    keys::HEARING,
    hearing_json,
    "hearing"
);
object_route!(
    transcript,
    TranscriptRecord,
    keys::TRANSCRIPT,
    transcript_json,
    "transcript"
);
object_route!(
    mediation,
    MediationRecord,
    keys::MEDIATION,
    mediation_json,
    "mediation"
);
object_route!(
    service,
    ServiceRecord,
    keys::SERVICE,
    service_json,
    "service"
);
object_route!(
    judgment,
    JudgmentRecord,
    keys::JUDGMENT,
    judgment_json,
    "judgment"
);
object_route!(clue, ClueRecord, keys::CLUE, clue_json, "clue");

/// `GET /v1/cases/{id}/events`: server-sent events of the case's committed acts.
pub(super) async fn case_events(
    State(state): State<ApiState>,
    ApiPath(id): ApiPath,
) -> Result<Response, ApiError> {
    let id = parse_digest(&id, "id", "a case id")?;
    event_stream(&state, vec![id])
}

/// `GET /v1/identities/{id}/events`: server-sent events of every committed act that concerns
/// the person (their own, and those on cases they are members of).
pub(super) async fn identity_events(
    State(state): State<ApiState>,
    ApiPath(id): ApiPath,
) -> Result<Response, ApiError> {
    let id = parse_digest(&id, "id", "an identity id")?;
    event_stream(&state, vec![id])
}
