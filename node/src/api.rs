//! The node's HTTP/JSON API (axum).
//!
//! | method and path | what |
//! |---|---|
//! | `POST /v1/txs` | submit `{"txs": ["<hex of a SignedTransaction>", ...]}`; per-transaction results |
//! | `GET /v1/txs/{id}` | `committed` (height, position), `pending`, or 404 `unknown` |
//! | `GET /v1/accounts/{key}` | the nonce the key's next transaction must carry |
//! | `GET /v1/blocks/latest`, `GET /v1/blocks/{height}` | header, transaction ids, certificate |
//! | `GET /v1/status` | chain id, height, round, peers, mempool, sync |
//! | `GET /health` | 200 when the node is in sync with its peers, 503 otherwise |
//! | `GET /metrics` | Prometheus text format |

use std::sync::atomic::Ordering;
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::{Arc, RwLock};

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use courtledger_chain::MempoolError;
use courtledger_codec::Encode;
use courtledger_crypto::{ChainId, Digest, PublicKey};
use courtledger_storage::{RocksStore, Store};
use courtledger_types::limits::MAX_TX_BYTES;
use courtledger_types::{Block, CommitCertificate, SignedTransaction, TxId};
use prometheus_client::registry::Registry;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::oneshot;

use crate::driver::DriverInput;
use crate::status::Status;

/// Largest request body: a batch of transactions, hex-encoded.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
/// Most transactions in one submission.
pub const MAX_SUBMIT_TXS: usize = 4096;

/// What the handlers share.
#[derive(Clone)]
pub struct ApiState {
    /// The chain.
    pub chain_id: ChainId,
    /// Read access to the store.
    pub store: Arc<RwLock<RocksStore>>,
    /// The driver's inbox.
    pub driver: SyncSender<DriverInput>,
    /// Live status.
    pub status: Arc<Status>,
    /// Metrics registry.
    pub registry: Arc<Registry>,
}

/// The API's routes.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/v1/txs", post(submit))
        .route("/v1/txs/{id}", get(tx_status))
        .route("/v1/accounts/{key}", get(account))
        .route("/v1/blocks/latest", get(latest_block))
        .route("/v1/blocks/{height}", get(block_at))
        .route("/v1/status", get(status))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

fn error(code: StatusCode, message: impl Into<String>) -> Response {
    (code, Json(json!({ "error": message.into() }))).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SubmitBody {
    txs: Vec<String>,
}

/// Sends a request to the driver; `Err` says why it could not be sent.
fn ask<T>(
    state: &ApiState,
    make: impl FnOnce(oneshot::Sender<T>) -> DriverInput,
) -> Result<oneshot::Receiver<T>, &'static str> {
    let (reply, answer) = oneshot::channel();
    match state.driver.try_send(make(reply)) {
        Ok(()) => Ok(answer),
        Err(TrySendError::Full(_)) => Err("the node is busy; retry"),
        Err(TrySendError::Disconnected(_)) => Err("the node is stopping"),
    }
}

async fn submit(
    State(state): State<ApiState>,
    body: Result<Json<SubmitBody>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Ok(Json(body)) = body else {
        return error(
            StatusCode::BAD_REQUEST,
            "expected {\"txs\": [\"<hex>\", ...]}",
        );
    };
    if body.txs.is_empty() || body.txs.len() > MAX_SUBMIT_TXS {
        return error(
            StatusCode::BAD_REQUEST,
            format!("submit 1 to {MAX_SUBMIT_TXS} transactions"),
        );
    }
    let max_hex = usize::try_from(MAX_TX_BYTES).unwrap_or(usize::MAX) * 2;
    let mut txs = Vec::with_capacity(body.txs.len());
    for (index, text) in body.txs.iter().enumerate() {
        if text.len() > max_hex {
            return error(
                StatusCode::BAD_REQUEST,
                format!("txs[{index}] is larger than a transaction may be"),
            );
        }
        let decoded = hex::decode(text)
            .map_err(|e| e.to_string())
            .and_then(|bytes| SignedTransaction::decode(&bytes).map_err(|e| e.to_string()));
        match decoded {
            Ok(tx) => txs.push(tx),
            Err(reason) => {
                return error(StatusCode::BAD_REQUEST, format!("txs[{index}]: {reason}"))
            }
        }
    }
    let ids: Vec<TxId> = txs.iter().map(SignedTransaction::id).collect();
    let answer = match ask(&state, |reply| DriverInput::Submit { txs, reply }) {
        Ok(answer) => answer,
        Err(reason) => return error(StatusCode::SERVICE_UNAVAILABLE, reason),
    };
    let Ok(results) = answer.await else {
        return error(StatusCode::SERVICE_UNAVAILABLE, "the node is stopping");
    };
    let all_full = results
        .iter()
        .all(|r| matches!(r, Err(MempoolError::Full { .. })));
    let results: Vec<Value> = ids
        .iter()
        .zip(results)
        .map(|(id, result)| match result {
            Ok(_) => json!({ "tx_id": id.to_string(), "accepted": true }),
            Err(reason) => {
                json!({ "tx_id": id.to_string(), "accepted": false, "error": reason.to_string() })
            }
        })
        .collect();
    let code = if all_full {
        StatusCode::TOO_MANY_REQUESTS
    } else {
        StatusCode::OK
    };
    (code, Json(json!({ "results": results }))).into_response()
}

async fn tx_status(State(state): State<ApiState>, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<Digest>() else {
        return error(
            StatusCode::BAD_REQUEST,
            "a transaction id is 64 hex characters",
        );
    };
    let location = state.store.read().expect("store lock").tx_location(&id);
    match location {
        Ok(Some(location)) => {
            return Json(json!({
                "tx_id": id.to_string(),
                "status": "committed",
                "height": location.height,
                "position": location.position,
            }))
            .into_response()
        }
        Ok(None) => {}
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
    let answer = match ask(&state, |reply| DriverInput::Pending {
        ids: vec![id],
        reply,
    }) {
        Ok(answer) => answer,
        Err(reason) => return error(StatusCode::SERVICE_UNAVAILABLE, reason),
    };
    match answer.await {
        Ok(pending) if pending.first() == Some(&true) => {
            Json(json!({ "tx_id": id.to_string(), "status": "pending" })).into_response()
        }
        _ => (
            StatusCode::NOT_FOUND,
            Json(json!({ "tx_id": id.to_string(), "status": "unknown" })),
        )
            .into_response(),
    }
}

async fn account(State(state): State<ApiState>, Path(key): Path<String>) -> Response {
    let Ok(signer) = key.parse::<PublicKey>() else {
        return error(StatusCode::BAD_REQUEST, "a public key is 64 hex characters");
    };
    let answer = match ask(&state, |reply| DriverInput::NextNonce {
        signer: Box::new(signer),
        reply,
    }) {
        Ok(answer) => answer,
        Err(reason) => return error(StatusCode::SERVICE_UNAVAILABLE, reason),
    };
    match answer.await {
        Ok(Some(next_nonce)) => {
            Json(json!({ "public_key": signer.to_string(), "next_nonce": next_nonce }))
                .into_response()
        }
        Ok(None) => error(
            StatusCode::CONFLICT,
            "this key can sign no further transaction",
        ),
        Err(_) => error(StatusCode::SERVICE_UNAVAILABLE, "the node is stopping"),
    }
}

fn block_json(block: &Block, certificate: &CommitCertificate) -> Value {
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
        "tx_ids": block.txs.iter().map(|tx| tx.id().to_string()).collect::<Vec<_>>(),
        "header_hex": hex::encode(header.to_bytes()),
        "certificate": {
            "round": certificate.round,
            "signers": certificate.signatures.iter().map(|s| s.validator_index).collect::<Vec<_>>(),
            "hex": hex::encode(certificate.to_bytes()),
        },
    })
}

fn block_response(state: &ApiState, height: u64) -> Response {
    let store = state.store.read().expect("store lock");
    match (store.block(height), store.certificate(height)) {
        (Ok(Some(block)), Ok(Some(certificate))) => {
            Json(block_json(&block, &certificate)).into_response()
        }
        (Ok(None), _) | (_, Ok(None)) => error(
            StatusCode::NOT_FOUND,
            format!("no block at height {height}"),
        ),
        (Err(e), _) | (_, Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

async fn latest_block(State(state): State<ApiState>) -> Response {
    let height = state.store.read().expect("store lock").last_height();
    block_response(&state, height)
}

async fn block_at(State(state): State<ApiState>, Path(height): Path<u64>) -> Response {
    block_response(&state, height)
}

async fn status(State(state): State<ApiState>) -> Response {
    let last_height = state.store.read().expect("store lock").last_height();
    Json(json!({
        "chain_id": state.chain_id.to_string(),
        "last_committed_height": last_height,
        "height": state.status.height.load(Ordering::Relaxed),
        "round": state.status.round.load(Ordering::Relaxed),
        "peers": state.status.peers.load(Ordering::Relaxed),
        "mempool": state.status.mempool.load(Ordering::Relaxed),
        "syncing": state.status.syncing.load(Ordering::Relaxed),
    }))
    .into_response()
}

async fn health(State(state): State<ApiState>) -> Response {
    let syncing = state.status.syncing.load(Ordering::Relaxed);
    let peers = state.status.peers.load(Ordering::Relaxed);
    let body = Json(
        json!({ "in_sync": !syncing, "peers": peers, "height": state.status.height.load(Ordering::Relaxed) }),
    );
    if syncing {
        (StatusCode::SERVICE_UNAVAILABLE, body).into_response()
    } else {
        (StatusCode::OK, body).into_response()
    }
}

async fn metrics(State(state): State<ApiState>) -> Response {
    let mut text = String::new();
    match prometheus_client::encoding::text::encode(&mut text, &state.registry) {
        Ok(()) => (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}
