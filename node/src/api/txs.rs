//! `POST /v1/txs` and `GET /v1/txs/{id}`.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use courtledger_chain::MempoolError;
use courtledger_codec::Encode;
use courtledger_crypto::Digest;
use courtledger_types::limits::MAX_TX_BYTES;
use courtledger_types::{BlockId, SignedTransaction, TxId};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::time::Instant;

use super::error::{ApiError, ApiJson, ApiPath};
use super::{ask, stopping, ApiState, DEFAULT_WAIT_MS, MAX_SUBMIT_TXS, MAX_WAIT_MS};
use crate::driver::DriverInput;
use crate::events::{CommitEvent, Received, Subscription, TxEvent};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SubmitBody {
    txs: Vec<String>,
    #[serde(default)]
    wait: bool,
    #[serde(default)]
    timeout_ms: Option<u64>,
}

/// Where a transaction was committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Committed {
    height: u64,
    index: u32,
    block_id: BlockId,
    code: u16,
}

impl From<&TxEvent> for Committed {
    fn from(event: &TxEvent) -> Self {
        Self {
            height: event.height,
            index: event.index,
            block_id: event.block_id,
            code: event.code,
        }
    }
}

impl Committed {
    /// Adds the fields of a committed transaction to `object`.
    fn fill(&self, object: &mut Value) {
        object["status"] = json!("committed");
        object["height"] = json!(self.height);
        object["index"] = json!(self.index);
        object["block_id"] = json!(self.block_id.to_string());
        object["code"] = json!(self.code);
    }
}

/// Parses a transaction id: 64 hex characters, optionally after `0x`.
pub(super) fn parse_digest(text: &str, field: &str, what: &str) -> Result<Digest, ApiError> {
    let hex = text.strip_prefix("0x").unwrap_or(text);
    hex.parse::<Digest>().map_err(|error| {
        ApiError::bad_request(
            "invalid_id",
            format!("{what} is 64 hex characters: {error}"),
        )
        .with_field(field)
    })
}

/// The stable code of a mempool refusal.
fn rejection_code(error: &MempoolError) -> &'static str {
    match error {
        MempoolError::Duplicate => "duplicate",
        MempoolError::Committed => "already_committed",
        MempoolError::Invalid(_) => "invalid_tx",
        MempoolError::NonceTaken { .. } => "nonce_taken",
        // Back-pressure either way: the same transaction may be accepted later.
        MempoolError::Full { .. } | MempoolError::TooManyWaiting { .. } => "mempool_full",
        MempoolError::Oversized { .. } => "tx_too_large",
        MempoolError::BadSignature(_) => "bad_signature",
    }
}

/// Submits transactions; with `wait`, waits (at most `timeout_ms`, capped at [`MAX_WAIT_MS`])
/// until each accepted one is committed.
pub(super) async fn submit(
    State(state): State<ApiState>,
    ApiJson(body): ApiJson<SubmitBody>,
) -> Result<Response, ApiError> {
    if body.txs.is_empty() || body.txs.len() > MAX_SUBMIT_TXS {
        return Err(ApiError::bad_request(
            "invalid_tx_count",
            format!("submit 1 to {MAX_SUBMIT_TXS} transactions"),
        )
        .with_field("txs"));
    }
    let max_hex = usize::try_from(MAX_TX_BYTES)
        .unwrap_or(usize::MAX)
        .saturating_mul(2);
    let mut txs = Vec::with_capacity(body.txs.len());
    let mut bytes = Vec::new();
    for (index, text) in body.txs.iter().enumerate() {
        let field = || format!("txs[{index}]");
        if text.len() > max_hex {
            return Err(
                ApiError::bad_request("tx_too_large", "larger than a transaction may be")
                    .with_field(field()),
            );
        }
        // Into one buffer, reused: `hex::decode` allocates and collects per transaction.
        bytes.clear();
        bytes.resize(text.len() / 2, 0);
        hex::decode_to_slice(text, &mut bytes).map_err(|error| {
            ApiError::bad_request("invalid_hex", error.to_string()).with_field(field())
        })?;
        let tx = SignedTransaction::decode(&bytes).map_err(|error| {
            ApiError::bad_request("invalid_tx", error.to_string()).with_field(field())
        })?;
        txs.push(tx);
    }
    let ids: Vec<TxId> = txs.iter().map(SignedTransaction::id).collect();
    let wait = body.wait.then(|| {
        Duration::from_millis(body.timeout_ms.unwrap_or(DEFAULT_WAIT_MS).min(MAX_WAIT_MS))
    });

    // Subscribe before submitting, so that no commit of these transactions can be missed.
    let subscription = wait.map(|_| state.events.subscribe());
    let answer = ask(&state, |reply| DriverInput::Submit { txs, reply })?;
    let outcomes = answer.await.map_err(|_| stopping())?;

    let accepted: Vec<TxId> = ids
        .iter()
        .zip(&outcomes)
        .filter(|(_, outcome)| outcome.is_ok())
        .map(|(id, _)| *id)
        .collect();
    let committed = match (subscription, wait) {
        (Some(subscription), Some(timeout)) if !accepted.is_empty() => {
            wait_for_commits(&state, subscription, &accepted, Instant::now() + timeout).await?
        }
        _ => HashMap::new(),
    };

    let all_full = outcomes
        .iter()
        .all(|outcome| outcome.as_ref().is_err_and(MempoolError::is_backpressure));
    let results: Vec<Value> = ids
        .iter()
        .zip(outcomes)
        .enumerate()
        .map(|(index, (id, outcome))| {
            let mut result = json!({ "id": id.to_string() });
            match outcome {
                Ok(_) => {
                    result["accepted"] = json!(true);
                    match committed.get(id) {
                        Some(committed) => committed.fill(&mut result),
                        None => result["status"] = json!("pending"),
                    }
                }
                Err(error) => {
                    result["accepted"] = json!(false);
                    result["status"] = json!("rejected");
                    result["error"] =
                        ApiError::bad_request(rejection_code(&error), error.to_string())
                            .with_field(format!("txs[{index}]"))
                            .object();
                }
            }
            result
        })
        .collect();
    if all_full {
        // Back-pressure: the error shape, with the per-transaction results beside it.
        let error = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "mempool_full",
            "the transaction pool is full; retry later",
        );
        let mut body = error.body();
        body["results"] = Value::Array(results);
        return Ok((StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response());
    }
    Ok(Json(json!({ "results": results })).into_response())
}

/// Waits until every id in `ids` is committed or `deadline` passes; returns the committed ones.
/// The store is read once at the start (a commit may have come before this subscription saw
/// it) and again whenever the subscription lagged and lost events.
async fn wait_for_commits(
    state: &ApiState,
    mut subscription: Subscription,
    ids: &[TxId],
    deadline: Instant,
) -> Result<HashMap<TxId, Committed>, ApiError> {
    let mut remaining: HashSet<TxId> = ids.iter().copied().collect();
    let mut found = HashMap::with_capacity(ids.len());
    read_commits(state, &mut remaining, &mut found)?;
    while !remaining.is_empty() {
        let Ok(received) = tokio::time::timeout_at(deadline, subscription.recv()).await else {
            break;
        };
        match received {
            Received::Event(CommitEvent::Tx(event)) => {
                if remaining.remove(&event.tx_id) {
                    found.insert(event.tx_id, Committed::from(&*event));
                }
            }
            Received::Event(CommitEvent::Block(_)) => {}
            Received::Lagged { .. } => read_commits(state, &mut remaining, &mut found)?,
            Received::Closed => break,
        }
    }
    Ok(found)
}

/// Moves the ids of `remaining` that the store holds as committed into `found`.
fn read_commits(
    state: &ApiState,
    remaining: &mut HashSet<TxId>,
    found: &mut HashMap<TxId, Committed>,
) -> Result<(), ApiError> {
    let store = state.store()?;
    let mut block_ids: HashMap<u64, BlockId> = HashMap::new();
    let mut done = Vec::new();
    for id in remaining.iter() {
        let Some(receipt) = store.receipt(id)? else {
            continue;
        };
        let block_id = match block_ids.get(&receipt.height) {
            Some(block_id) => *block_id,
            None => {
                let header = store.header(receipt.height)?.ok_or_else(|| {
                    ApiError::internal(format!("no header at height {}", receipt.height))
                })?;
                let block_id = header.id();
                block_ids.insert(receipt.height, block_id);
                block_id
            }
        };
        found.insert(
            *id,
            Committed {
                height: receipt.height,
                index: receipt.index,
                block_id,
                code: receipt.code,
            },
        );
        done.push(*id);
    }
    for id in done {
        remaining.remove(&id);
    }
    Ok(())
}

/// `committed` with its receipt, block and bytes; `pending`; or 404 `unknown_tx`.
pub(super) async fn tx_status(
    State(state): State<ApiState>,
    ApiPath(text): ApiPath,
) -> Result<Response, ApiError> {
    let id = parse_digest(&text, "id", "a transaction id")?;
    if let Some(body) = committed_tx(&state, &id)? {
        return Ok(Json(body).into_response());
    }
    let answer = ask(&state, |reply| DriverInput::Pending {
        ids: vec![id],
        reply,
    })?;
    match answer.await {
        Ok(pending) if pending.first() == Some(&true) => {
            Ok(Json(json!({ "id": id.to_string(), "status": "pending" })).into_response())
        }
        Ok(_) => Err(ApiError::not_found(
            "unknown_tx",
            format!("transaction {id} is neither committed nor pending on this node"),
        )),
        Err(_) => Err(stopping()),
    }
}

fn committed_tx(state: &ApiState, id: &TxId) -> Result<Option<Value>, ApiError> {
    let store = state.store()?;
    let Some(receipt) = store.receipt(id)? else {
        return Ok(None);
    };
    let block = store
        .block(receipt.height)?
        .ok_or_else(|| ApiError::internal(format!("no block at height {}", receipt.height)))?;
    let tx = usize::try_from(receipt.index)
        .ok()
        .and_then(|index| block.txs.get(index))
        .ok_or_else(|| {
            ApiError::internal(format!("block {} is missing a transaction", receipt.height))
        })?;
    let mut body = json!({ "id": id.to_string() });
    Committed {
        height: receipt.height,
        index: receipt.index,
        block_id: block.header.id(),
        code: receipt.code,
    }
    .fill(&mut body);
    body["tx"] = json!(hex::encode(tx.to_bytes()));
    Ok(Some(body))
}
