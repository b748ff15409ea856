//! `GET /v1/validators`: the validator set in force, the pending change, and every activated
//! change since genesis (what `courtledger validators` and auditors read).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use courtledger_chain::{activated_changes, SetState};
use courtledger_types::{SetMember, SignedSetChange, ValidatorSet};
use serde_json::{json, Value};

use super::proofs::StoreState;
use super::{ApiError, ApiState};

fn member_json(member: &SetMember) -> Value {
    json!({
        "court_code": member.court_code.to_string(),
        "public_key": member.validator.public_key.to_string(),
        "voting_power": member.validator.voting_power,
        "p2p_address": member.p2p_address,
    })
}

fn set_json(set: &ValidatorSet, members: &[SetMember]) -> Value {
    json!({
        "set_hash": set.hash().to_string(),
        "total_power": set.total_power(),
        "members": members.iter().map(member_json).collect::<Vec<_>>(),
    })
}

fn change_json(change: &SignedSetChange) -> Result<Value, ApiError> {
    let set = change
        .change
        .new_set()
        .map_err(|error| ApiError::internal(format!("a recorded change is invalid: {error}")))?;
    let mut value = set_json(&set, &change.change.members);
    value["from_set_hash"] = json!(change.change.from_set_hash.to_string());
    value["activation_height"] = json!(change.change.activation_height);
    value["approvals"] = json!(change
        .approvals
        .iter()
        .map(|approval| approval.validator_index)
        .collect::<Vec<_>>());
    Ok(value)
}

/// The set in force (it signs the next block), the pending change, and the activated changes
/// oldest first, each with its members' courts, keys, powers and p2p addresses.
pub async fn validators(State(state): State<ApiState>) -> Result<Response, ApiError> {
    let genesis = state
        .genesis
        .clone()
        .ok_or_else(|| ApiError::internal("this API was started without its genesis"))?;
    let (sets, changes, next_height) = {
        let store = state.store()?;
        let view = StoreState::new(&*store);
        let sets = SetState::load(&view, genesis.validator_set()).map_err(ApiError::internal)?;
        let changes = activated_changes(&view).map_err(ApiError::internal)?;
        if view.failed() {
            return Err(ApiError::internal("a state read failed"));
        }
        (sets, changes, store.last_height().saturating_add(1))
    };
    let members: Vec<SetMember> = match changes.last() {
        Some(last) => last.change.members.clone(),
        None => genesis.set_members(),
    };
    let mut current = set_json(&sets.current, &members);
    current["from_height"] = json!(changes
        .last()
        .map_or(1, |last| last.change.activation_height));
    Ok(Json(json!({
        "next_height": next_height,
        "current": current,
        "pending": sets.pending.as_ref().map(change_json).transpose()?,
        "changes": changes.iter().map(change_json).collect::<Result<Vec<_>, _>>()?,
    }))
    .into_response())
}

/// Heights of evidence one `GET /v1/equivocations` reads.
const EQUIVOCATION_WINDOW: u64 = 10_000;
/// Most evidence records one answer holds.
const MAX_EQUIVOCATIONS: usize = 100;

/// `GET /v1/equivocations?from=H`: the equivocation evidence this node recorded (two
/// conflicting signed votes or proposals of one validator for one height and round), from
/// height `H` (default 1), oldest first, at most [`MAX_EQUIVOCATIONS`] from a window of
/// [`EQUIVOCATION_WINDOW`] heights; `next_from` continues. Each carries both signed messages, so
/// anyone can check it.
pub async fn equivocations(
    State(state): State<ApiState>,
    axum::extract::Query(query): axum::extract::Query<std::collections::BTreeMap<String, String>>,
) -> Result<Response, ApiError> {
    let from = match query.get("from") {
        None => 1,
        Some(text) => text.parse::<u64>().map_err(|_| {
            ApiError::bad_request("invalid_height", "from is a height").with_field("from")
        })?,
    };
    let end = from.saturating_add(EQUIVOCATION_WINDOW);
    let key = |height: u64| {
        let mut key = b"evd/".to_vec();
        key.extend_from_slice(&height.to_be_bytes());
        key
    };
    let records = state
        .store()?
        .consensus_range(&key(from), &key(end))
        .map_err(ApiError::internal)?;
    let mut items = Vec::new();
    let mut next_from = (end < u64::MAX).then_some(end);
    for record in records {
        let evidence = courtledger_consensus::Evidence::decode(&record.value)
            .map_err(|error| ApiError::internal(format!("stored evidence is corrupt: {error}")))?;
        if items.len() == MAX_EQUIVOCATIONS {
            next_from = Some(evidence.height());
            break;
        }
        let kind = match &evidence {
            courtledger_consensus::Evidence::DoubleVote(..) => "double_vote",
            courtledger_consensus::Evidence::DoubleProposal(..) => "double_proposal",
        };
        items.push(json!({
            "offender": evidence.offender().to_string(),
            "height": evidence.height(),
            "round": evidence.round(),
            "kind": kind,
            "hex": hex::encode(courtledger_codec::Encode::to_bytes(&evidence)),
        }));
    }
    Ok(Json(json!({ "equivocations": items, "next_from": next_from })).into_response())
}
