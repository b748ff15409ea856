//! The history log of all committed transactions: `GET /v1/proofs/consistency?from=&to=` and
//! `GET /v1/proofs/log-inclusion/{tx_id}?at=`.
//!
//! Every committed transaction id is leaf `leaf_hash(id)` of one append-only RFC 9162 log and
//! each header carries the log's `log_size` and `log_root`. Proofs come from the stored perfect
//! subtrees ([`LogView`]) in `O(log n)` reads. A client checks them against headers it trusts
//! (certified by the validators of the genesis, or of the sets that followed it), never against
//! the roots in these answers alone. Both answers carry `set_links`: the validator-set links up
//! to the later block ([`super::proofs::set_links`]), with which a client verifies headers
//! signed after validator-set changes (`proof refresh`, `audit consistency`, `audit
//! checkpoint`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use courtledger_codec::Encode;
use courtledger_merkle::{leaf_hash, Hash};
use courtledger_storage::{LogError, LogView, Store};
use courtledger_types::BlockHeader;
use serde_json::{json, Value};

use super::error::{ApiError, ApiPath, ApiQuery};
use super::proofs::{set_links, set_links_json};
use super::txs::parse_digest;
use super::ApiState;

fn hashes(path: &[Hash]) -> Vec<String> {
    path.iter().map(hex::encode).collect()
}

/// The parts of a header a log proof is checked against.
fn head_json(header: &BlockHeader) -> Value {
    json!({
        "height": header.height,
        "block_id": header.id().to_string(),
        "log_size": header.log_size,
        "log_root": header.log_root.to_string(),
    })
}

/// A height parameter that must be given.
fn required_height(query: &ApiQuery, name: &str) -> Result<u64, ApiError> {
    query.u64(name)?.ok_or_else(|| {
        ApiError::bad_request(
            "missing_parameter",
            format!("query parameter `{name}` (a block height) is required"),
        )
        .with_field(name)
    })
}

/// The stored header at `height`, or 404 `unknown_block` naming the parameter.
fn header_at(store: &dyn Store, height: u64, field: &str) -> Result<BlockHeader, ApiError> {
    store.header(height)?.ok_or_else(|| {
        ApiError::not_found(
            "unknown_block",
            format!(
                "no block at height {height} on this node (last height {})",
                store.last_height()
            ),
        )
        .with_field(field)
    })
}

/// A proof that should exist but could not be made: the store is damaged or inconsistent.
fn log_failure(error: LogError) -> ApiError {
    match error {
        LogError::Storage(error) => error.into(),
        other => ApiError::internal(format!("the history log: {other}")),
    }
}

/// The consistency proof from the log of block `from` to the log of block `to`.
pub(super) async fn consistency(
    State(state): State<ApiState>,
    query: ApiQuery,
) -> Result<Response, ApiError> {
    query.only(&["from", "to"])?;
    let from = required_height(&query, "from")?;
    let to = required_height(&query, "to")?;
    if from > to {
        return Err(ApiError::bad_request(
            "invalid_range",
            format!("`from` ({from}) must not be above `to` ({to})"),
        )
        .with_field("from"));
    }
    let store = state.store()?;
    let old = header_at(&*store, from, "from")?;
    let new = header_at(&*store, to, "to")?;
    if old.log_size == 0 {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "empty_log",
            format!(
                "the log is empty at height {from} (no transaction committed yet): every log \
                 extends the empty one, so there is no proof to give; start from a height whose \
                 log_size is above 0"
            ),
        )
        .with_field("from"));
    }
    let proof = LogView::new(&*store)
        .prove_consistency(old.log_size, new.log_size)
        .map_err(log_failure)?;
    let links = set_links(&*store, to)?;
    Ok(Json(json!({
        "from": head_json(&old),
        "to": head_json(&new),
        "set_links": set_links_json(&links),
        "proof": {
            "old_size": proof.old_size,
            "new_size": proof.new_size,
            "path": hashes(&proof.path),
        },
        "proof_hex": hex::encode(proof.to_bytes()),
    }))
    .into_response())
}

/// The transaction's leaf in the log and its inclusion proof in the log of block `at`
/// (default: the last block).
pub(super) async fn log_inclusion(
    State(state): State<ApiState>,
    ApiPath(text): ApiPath,
    query: ApiQuery,
) -> Result<Response, ApiError> {
    let id = parse_digest(&text, "tx_id", "a transaction id")?;
    query.only(&["at"])?;
    let at = query.u64("at")?;
    let store = state.store()?;
    let location = store.tx_location(&id)?.ok_or_else(|| {
        ApiError::not_found(
            "unknown_tx",
            format!("transaction {id} is not committed on this node"),
        )
    })?;
    let at = at.unwrap_or_else(|| store.last_height());
    let head = header_at(&*store, at, "at")?;
    if at < location.height {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_in_log",
            format!(
                "transaction {id} was committed at height {}, after height {at}: it is in the \
                 log of blocks {} and later",
                location.height, location.height
            ),
        )
        .with_field("at"));
    }
    // The leaves before the block's: the previous header's log size.
    let before = match location.height.checked_sub(1).filter(|h| *h > 0) {
        Some(previous) => {
            store
                .header(previous)?
                .ok_or_else(|| ApiError::internal(format!("no header at height {previous}")))?
                .log_size
        }
        None => 0,
    };
    let leaf_index = before
        .checked_add(u64::from(location.position))
        .ok_or_else(|| ApiError::internal("the log index overflows"))?;
    let leaf = leaf_hash(id.as_bytes());
    if store.log_node(0, leaf_index)? != Some(leaf) {
        return Err(ApiError::internal(format!(
            "the log's leaf {leaf_index} is not transaction {id}"
        )));
    }
    let proof = LogView::new(&*store)
        .prove_inclusion(leaf_index, head.log_size)
        .map_err(log_failure)?;
    let links = set_links(&*store, at)?;
    Ok(Json(json!({
        "set_links": set_links_json(&links),
        "tx_id": id.to_string(),
        "height": location.height,
        "index": location.position,
        "leaf_index": leaf_index,
        "leaf_hash": hex::encode(leaf),
        "at": head_json(&head),
        "proof": {
            "leaf_index": proof.leaf_index,
            "tree_size": proof.tree_size,
            "path": hashes(&proof.path),
        },
        "proof_hex": hex::encode(proof.to_bytes()),
    }))
    .into_response())
}
