//! The node's HTTP/JSON API (axum).
//!
//! Every route is in [`routes`], one table that builds the router and that the tests compare
//! with `docs/openapi.json` (served at `GET /openapi.json`): a route missing from either fails
//! them. Every error is `{"error": {"code", "message", "field"}}` ([`ApiError`]), including
//! unknown routes, malformed JSON and bodies over [`MAX_BODY_BYTES`].
//!
//! | method and path | what |
//! |---|---|
//! | `POST /v1/txs` | submit transactions; with `wait`, until committed or a timeout |
//! | `GET /v1/txs/{id}` | `committed` (receipt, block, transaction), `pending`, or 404 |
//! | `GET /v1/accounts/{key}` | the nonce the key's next transaction must carry |
//! | `GET /v1/blocks?from=H&limit=N[&txs=true]` | a page of blocks (with their transactions as hex) |
//! | `GET /v1/blocks/latest`, `GET /v1/blocks/{height or 0xid}` | one block |
//! | `GET /v1/events?subject=ID` | server-sent events of committed transactions |
//! | `GET /v1/identities/{id}`, `/v1/keys/{key}` | an identity, by id or by key |
//! | `GET /v1/identities/{id}/cases`, `/v1/courts/{code}/cases` | case search (`status`, paged) |
//! | `GET /v1/courts`, `/v1/courts/{code}` | courts and their staff |
//! | `GET /v1/cases/{id}`, `/v1/cases/by-number/{number}` | a case: state, members, deadlines, documents, signatures |
//! | `GET /v1/cases/{id}/timeline` | a case's committed acts, paged |
//! | `GET /v1/cases/{id}/events`, `/v1/identities/{id}/events` | live notifications (server-sent events) |
//! | `GET /v1/filings/overdue?court=` | filings past their 7-day review window |
//! | `GET /v1/{evidence,messages,hearings,transcripts,mediations,services,judgments,clues}/{id}` | one object |
//! | `GET /v1/proofs/tx/{id}` | the proof bundle of a committed transaction (`docs/proof-format.md`) |
//! | `GET /v1/proofs/consistency?from=H1&to=H2` | RFC 9162 consistency proof between two headers' history logs |
//! | `GET /v1/proofs/log-inclusion/{tx_id}?at=H` | a transaction's leaf in the history log and its inclusion proof at header `H` |
//! | `GET /v1/status` | chain id, height, round, peers, mempool, sync |
//! | `GET /health` | 200 when the node is in sync with its peers, 503 otherwise |
//! | `GET /metrics` | Prometheus text format |
//! | `GET /openapi.json` | the OpenAPI 3.1 description of all of this |

mod blocks;
mod error;
pub mod guard;
mod ledger;
mod log;
mod proofs;
mod stream;
mod txs;
mod validators;

#[cfg(test)]
mod tests;

use std::sync::atomic::Ordering;
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::{Arc, RwLock, RwLockReadGuard};
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::handler::Handler;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::{Json, Router};
use courtledger_crypto::{ChainId, PublicKey};
use courtledger_storage::Store;
use courtledger_types::Genesis;
use prometheus_client::registry::Registry;
use serde_json::json;
use tokio::sync::{oneshot, Semaphore};

use crate::api::error::{ApiError, ApiPath};
use crate::driver::DriverInput;
use crate::events::Hub;
use crate::status::Status;

/// Largest request body; a larger one is refused with 413.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// Most transactions in one submission.
pub const MAX_SUBMIT_TXS: usize = 4096;
/// How long `POST /v1/txs` with `wait` waits when no `timeout_ms` is given.
pub const DEFAULT_WAIT_MS: u64 = 10_000;
/// The longest `timeout_ms` honoured; a longer one is cut to this.
pub const MAX_WAIT_MS: u64 = 30_000;
/// Blocks in a page of `GET /v1/blocks` when no `limit` is given.
pub const DEFAULT_BLOCK_PAGE: u64 = 20;
/// Most blocks in a page; a larger `limit` is cut to this.
pub const MAX_BLOCK_PAGE: u64 = 100;
/// A page stops after the block that brings its transactions to this many (at least one block
/// is returned), so that a page of full blocks stays small.
pub const MAX_BLOCK_PAGE_TXS: usize = 20_000;
/// With `txs=true`, a page also stops after the block that brings its encoded transactions to
/// this many bytes (at least one block is returned): a page then holds less than this plus one
/// block (`MAX_BLOCK_BYTES`) of transactions, twice that as hex.
pub const MAX_BLOCK_PAGE_TX_BYTES: usize = 4 * 1024 * 1024;
/// Event streams open at once; one more is refused with 503.
pub const MAX_EVENT_STREAMS: usize = 64;
/// Most `subject` parameters of one event stream.
pub const MAX_EVENT_SUBJECTS: usize = 8;
/// Interval of the comment lines that keep an idle event stream open through proxies.
pub const EVENT_KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The OpenAPI 3.1 description of every route, served at `GET /openapi.json`.
pub const OPENAPI: &str = include_str!("../../../docs/openapi.json");

/// The store, as the API reads it (the driver writes it).
pub type SharedStore = Arc<RwLock<dyn Store + Send + Sync>>;

/// What the handlers share.
#[derive(Clone)]
pub struct ApiState {
    /// The chain.
    pub chain_id: ChainId,
    /// Read access to the store.
    pub store: SharedStore,
    /// The driver's inbox.
    pub driver: SyncSender<DriverInput>,
    /// Live status.
    pub status: Arc<Status>,
    /// Metrics registry.
    pub registry: Arc<Registry>,
    /// Commit events, published by the driver after each stored block.
    pub events: Hub,
    /// Permits for event streams: [`MAX_EVENT_STREAMS`].
    pub streams: Arc<Semaphore>,
    /// The chain's genesis (the validator set before any change), when known.
    pub genesis: Option<Arc<Genesis>>,
}

impl ApiState {
    /// The state of an API over these parts, allowing [`MAX_EVENT_STREAMS`] event streams.
    pub fn new(
        chain_id: ChainId,
        store: SharedStore,
        driver: SyncSender<DriverInput>,
        status: Arc<Status>,
        registry: Arc<Registry>,
        events: Hub,
    ) -> Self {
        Self {
            chain_id,
            store,
            driver,
            status,
            registry,
            events,
            streams: Arc::new(Semaphore::new(MAX_EVENT_STREAMS)),
            genesis: None,
        }
    }

    /// The same state, knowing the chain's genesis (needed by `/v1/validators`).
    pub fn with_genesis(mut self, genesis: Arc<Genesis>) -> Self {
        self.genesis = Some(genesis);
        self
    }

    /// A read guard on the store; a poisoned lock (the driver panicked while writing) is a
    /// 500, not a panic here.
    fn store(&self) -> Result<RwLockReadGuard<'_, dyn Store + Send + Sync + 'static>, ApiError> {
        self.store
            .read()
            .map_err(|_| ApiError::internal("the store is unavailable: its writer failed"))
    }
}

/// An HTTP method the API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verb {
    Get,
    Post,
}

impl Verb {
    /// The method as an OpenAPI path item key.
    #[cfg(test)]
    pub fn openapi_key(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::Post => "post",
        }
    }
}

/// One route: method, path (axum's syntax, which is also OpenAPI's) and handler.
pub struct Route {
    // Read by the test that compares the routes with the OpenAPI document.
    #[cfg_attr(not(test), allow(dead_code))]
    pub verb: Verb,
    pub path: &'static str,
    handler: MethodRouter<ApiState>,
}

fn route<H, T>(verb: Verb, path: &'static str, handler: H) -> Route
where
    H: Handler<T, ApiState>,
    T: 'static,
{
    let handler = match verb {
        Verb::Get => get(handler),
        Verb::Post => post(handler),
    };
    Route {
        verb,
        path,
        handler,
    }
}

/// Every route the API serves. Describe a new one in `docs/openapi.json` too (a test checks).
pub fn routes() -> Vec<Route> {
    vec![
        route(Verb::Post, "/v1/txs", txs::submit),
        route(Verb::Get, "/v1/txs/{id}", txs::tx_status),
        route(Verb::Get, "/v1/accounts/{key}", account),
        route(Verb::Get, "/v1/blocks", blocks::page),
        route(Verb::Get, "/v1/blocks/latest", blocks::latest),
        route(Verb::Get, "/v1/blocks/{block}", blocks::one),
        route(Verb::Get, "/v1/events", stream::events),
        route(Verb::Get, "/v1/identities/{id}", ledger::identity),
        route(
            Verb::Get,
            "/v1/identities/{id}/cases",
            ledger::identity_cases,
        ),
        route(
            Verb::Get,
            "/v1/identities/{id}/events",
            ledger::identity_events,
        ),
        route(Verb::Get, "/v1/keys/{key}", ledger::key),
        route(Verb::Get, "/v1/courts", ledger::courts),
        route(Verb::Get, "/v1/courts/{code}", ledger::court),
        route(Verb::Get, "/v1/courts/{code}/cases", ledger::court_cases),
        route(Verb::Get, "/v1/cases/{id}", ledger::case),
        route(
            Verb::Get,
            "/v1/cases/by-number/{number}",
            ledger::case_by_number,
        ),
        route(Verb::Get, "/v1/cases/{id}/timeline", ledger::timeline),
        route(Verb::Get, "/v1/cases/{id}/events", ledger::case_events),
        route(Verb::Get, "/v1/filings/overdue", ledger::overdue),
        route(Verb::Get, "/v1/evidence/{id}", ledger::evidence),
        route(Verb::Get, "/v1/messages/{id}", ledger::message),
        route(Verb::Get, "/v1/hearings/{id}", ledger::hearing),
        route(Verb::Get, "/v1/transcripts/{id}", ledger::transcript),
        route(Verb::Get, "/v1/mediations/{id}", ledger::mediation),
        route(Verb::Get, "/v1/services/{id}", ledger::service),
        route(Verb::Get, "/v1/judgments/{id}", ledger::judgment),
        route(Verb::Get, "/v1/clues/{id}", ledger::clue),
        route(Verb::Get, "/v1/proofs/tx/{id}", proofs::tx_proof),
        route(Verb::Get, "/v1/proofs/consistency", log::consistency),
        route(
            Verb::Get,
            "/v1/proofs/log-inclusion/{tx_id}",
            log::log_inclusion,
        ),
        route(Verb::Get, "/v1/validators", validators::validators),
        route(Verb::Get, "/v1/equivocations", validators::equivocations),
        route(Verb::Get, "/v1/status", status),
        route(Verb::Get, "/health", health),
        route(Verb::Get, "/metrics", metrics),
        route(Verb::Get, "/openapi.json", openapi),
    ]
}

/// The API's router, answering at most [`guard::MAX_API_IN_FLIGHT`] requests at once.
pub fn router(state: ApiState) -> Router {
    router_with_limit(state, guard::MAX_API_IN_FLIGHT)
}

/// [`router`] answering at most `in_flight` requests at once.
pub fn router_with_limit(state: ApiState, in_flight: usize) -> Router {
    let permits = Arc::new(Semaphore::new(in_flight));
    routes()
        .into_iter()
        .fold(Router::new(), |router, route| {
            router.route(route.path, route.handler)
        })
        .method_not_allowed_fallback(error::method_not_allowed)
        .fallback(error::not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(permits, guard::limit))
        .with_state(state)
}

/// Sends a request to the driver without waiting for room in its inbox.
fn ask<T>(
    state: &ApiState,
    make: impl FnOnce(oneshot::Sender<T>) -> DriverInput,
) -> Result<oneshot::Receiver<T>, ApiError> {
    let (reply, answer) = oneshot::channel();
    match state.driver.try_send(make(reply)) {
        Ok(()) => Ok(answer),
        Err(TrySendError::Full(_)) => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "node_busy",
            "the node is busy; retry",
        )),
        Err(TrySendError::Disconnected(_)) => Err(stopping()),
    }
}

fn stopping() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "node_stopping",
        "the node is stopping",
    )
}

async fn account(
    State(state): State<ApiState>,
    ApiPath(key): ApiPath,
) -> Result<Response, ApiError> {
    let signer = key.parse::<PublicKey>().map_err(|error| {
        ApiError::bad_request(
            "invalid_public_key",
            format!("a public key is 64 hex characters: {error}"),
        )
        .with_field("key")
    })?;
    let answer = ask(&state, |reply| DriverInput::NextNonce {
        signer: Box::new(signer),
        reply,
    })?;
    match answer.await {
        Ok(Some(next_nonce)) => Ok(Json(
            json!({ "public_key": signer.to_string(), "next_nonce": next_nonce }),
        )
        .into_response()),
        Ok(None) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "nonces_exhausted",
            "this key can sign no further transaction",
        )),
        Err(_) => Err(stopping()),
    }
}

async fn status(State(state): State<ApiState>) -> Result<Response, ApiError> {
    let last_height = state.store()?.last_height();
    Ok(Json(json!({
        "chain_id": state.chain_id.to_string(),
        "last_committed_height": last_height,
        "height": state.status.height.load(Ordering::Relaxed),
        "round": state.status.round.load(Ordering::Relaxed),
        "peers": state.status.peers.load(Ordering::Relaxed),
        "mempool": state.status.mempool.load(Ordering::Relaxed),
        "syncing": state.status.syncing.load(Ordering::Relaxed),
    }))
    .into_response())
}

async fn health(State(state): State<ApiState>) -> Response {
    let syncing = state.status.syncing.load(Ordering::Relaxed);
    let peers = state.status.peers.load(Ordering::Relaxed);
    let body = Json(json!({
        "in_sync": !syncing,
        "peers": peers,
        "height": state.status.height.load(Ordering::Relaxed),
    }));
    if syncing {
        (StatusCode::SERVICE_UNAVAILABLE, body).into_response()
    } else {
        (StatusCode::OK, body).into_response()
    }
}

async fn metrics(State(state): State<ApiState>) -> Result<Response, ApiError> {
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &state.registry)
        .map_err(ApiError::internal)?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response())
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}
