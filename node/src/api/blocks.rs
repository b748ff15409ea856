//! `GET /v1/blocks`, `GET /v1/blocks/latest`, `GET /v1/blocks/{height or 0xid}`.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use courtledger_codec::Encode;
use courtledger_storage::Store;
use courtledger_types::{Block, CommitCertificate, Receipt};
use serde_json::{json, Value};

use super::error::{ApiError, ApiPath, ApiQuery};
use super::txs::parse_digest;
use super::{
    ApiState, DEFAULT_BLOCK_PAGE, MAX_BLOCK_PAGE, MAX_BLOCK_PAGE_TXS, MAX_BLOCK_PAGE_TX_BYTES,
};

fn block_json(block: &Block, certificate: &CommitCertificate, receipts: &[Receipt]) -> Value {
    let header = &block.header;
    json!({
        "height": header.height,
        "id": header.id().to_string(),
        "time_ms": header.time_ms,
        "parent_id": header.parent_id.to_string(),
        "proposer": header.proposer.to_string(),
        "tx_count": header.tx_count,
        "tx_root": header.tx_root.to_string(),
        "results_root": header.results_root.to_string(),
        "log_size": header.log_size,
        "log_root": header.log_root.to_string(),
        "state_root": header.state_root.to_string(),
        "validators_hash": header.validators_hash.to_string(),
        "next_validators_hash": header.next_validators_hash.to_string(),
        "tx_ids": block.txs.iter().map(|tx| tx.id().to_string()).collect::<Vec<_>>(),
        "receipt_codes": receipts.iter().map(|receipt| receipt.code).collect::<Vec<_>>(),
        "header_hex": hex::encode(header.to_bytes()),
        "certificate": {
            "round": certificate.round,
            "signers": certificate.signatures.iter().map(|s| s.validator_index).collect::<Vec<_>>(),
            "hex": hex::encode(certificate.to_bytes()),
        },
    })
}

/// The block at `height` as JSON, if stored.
fn load(store: &dyn Store, height: u64) -> Result<Option<Value>, ApiError> {
    Ok(load_with_txs(store, height, false)?.map(|(json, _)| json))
}

/// The block at `height` as JSON, if stored, with its encoded transactions as hex in `txs` (in
/// block order) when `with_txs`; and the total size of those encodings, in bytes.
fn load_with_txs(
    store: &dyn Store,
    height: u64,
    with_txs: bool,
) -> Result<Option<(Value, usize)>, ApiError> {
    let (Some(block), Some(certificate), Some(receipts)) = (
        store.block(height)?,
        store.certificate(height)?,
        store.receipts(height)?,
    ) else {
        return Ok(None);
    };
    let mut json = block_json(&block, &certificate, &receipts);
    let mut bytes = 0usize;
    if with_txs {
        let txs: Vec<String> = block
            .txs
            .iter()
            .map(|tx| {
                let encoded = tx.to_bytes();
                bytes = bytes.saturating_add(encoded.len());
                hex::encode(encoded)
            })
            .collect();
        json["txs"] = json!(txs);
    }
    Ok(Some((json, bytes)))
}

/// `true` or `false` (absent: `false`).
fn flag(query: &ApiQuery, name: &str) -> Result<bool, ApiError> {
    match query.single(name)? {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(text) => Err(ApiError::bad_request(
            "invalid_parameter",
            format!("`{name}` must be `true` or `false`, not `{text}`"),
        )
        .with_field(name)),
    }
}

fn no_block(what: impl std::fmt::Display) -> ApiError {
    ApiError::not_found("unknown_block", format!("no block {what} on this node"))
}

/// One block, by decimal height or by id (64 hex characters, with or without `0x`).
pub(super) async fn one(
    State(state): State<ApiState>,
    ApiPath(text): ApiPath,
) -> Result<Response, ApiError> {
    let store = state.store()?;
    let height = if text.starts_with("0x") || text.len() == 64 {
        let id = parse_digest(&text, "block", "a block id")?;
        store
            .height_of(&id)?
            .ok_or_else(|| no_block(format_args!("with id {id}")))?
    } else {
        text.parse::<u64>().map_err(|_| {
            ApiError::bad_request(
                "invalid_block_ref",
                format!("`{text}` is neither a height nor a 0x-prefixed block id"),
            )
            .with_field("block")
        })?
    };
    let block =
        load(&*store, height)?.ok_or_else(|| no_block(format_args!("at height {height}")))?;
    Ok(Json(block).into_response())
}

/// The last stored block.
pub(super) async fn latest(State(state): State<ApiState>) -> Result<Response, ApiError> {
    let store = state.store()?;
    let height = store.last_height();
    let block = load(&*store, height)?.ok_or_else(|| no_block("yet"))?;
    Ok(Json(block).into_response())
}

/// Blocks `from`, `from + 1`, ...: at most `limit` (capped at [`MAX_BLOCK_PAGE`]), stopping
/// after [`MAX_BLOCK_PAGE_TXS`] transactions; `next_from` is where the next page starts, or
/// null when this one reached the last stored block.
///
/// With `txs=true` each block also carries its encoded transactions (`txs`, hex, in block
/// order), and the page also stops after the block that brings those encodings to
/// [`MAX_BLOCK_PAGE_TX_BYTES`], so that the page stays bounded in bytes: below
/// `MAX_BLOCK_PAGE_TX_BYTES + MAX_BLOCK_BYTES` of transactions, twice that in hex.
pub(super) async fn page(
    State(state): State<ApiState>,
    query: ApiQuery,
) -> Result<Response, ApiError> {
    query.only(&["from", "limit", "txs"])?;
    let with_txs = flag(&query, "txs")?;
    let from = query.u64("from")?.unwrap_or(1).max(1);
    let limit = query.u64("limit")?.unwrap_or(DEFAULT_BLOCK_PAGE);
    if limit == 0 {
        return Err(
            ApiError::bad_request("invalid_parameter", "`limit` must be at least 1")
                .with_field("limit"),
        );
    }
    let limit = limit.min(MAX_BLOCK_PAGE);
    let store = state.store()?;
    let last = store.last_height();
    let mut blocks = Vec::new();
    let mut txs = 0usize;
    let mut tx_bytes = 0usize;
    let mut height = from;
    while height <= last
        && height - from < limit
        && txs < MAX_BLOCK_PAGE_TXS
        && tx_bytes < MAX_BLOCK_PAGE_TX_BYTES
    {
        let (block, bytes) = load_with_txs(&*store, height, with_txs)?
            .ok_or_else(|| ApiError::internal(format!("block {height} is missing")))?;
        txs = txs.saturating_add(block["tx_ids"].as_array().map_or(0, Vec::len));
        tx_bytes = tx_bytes.saturating_add(bytes);
        blocks.push(block);
        height += 1;
    }
    let next_from = (height <= last).then_some(height);
    Ok(
        Json(json!({ "blocks": blocks, "next_from": next_from, "last_height": last }))
            .into_response(),
    )
}
