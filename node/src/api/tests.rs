//! The API in process: the router over a `MemoryStore`, a scripted stand-in for the driver and a
//! real events hub, called through `tower::ServiceExt::oneshot`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use courtledger_chain::MempoolError;
use courtledger_codec::Encode;
use courtledger_crypto::{sha256, ChainId, Digest, SigningKey};
use courtledger_merkle::{leaf_hash, Frontier, LogNode};
use courtledger_storage::{CommittedBlock, MemoryStore, Store};
use courtledger_types::block::{tx_root, HEADER_VERSION};
use courtledger_types::{
    Block, BlockHeader, BlockId, CommitCertificate, Receipt, SignedTransaction, Transaction, TxId,
};
use futures::StreamExt as _;
use prometheus_client::registry::Registry;
use serde_json::{json, Value};
use tokio::sync::Semaphore;
use tower::ServiceExt as _;

use super::{
    router, routes, ApiState, MAX_BLOCK_PAGE, MAX_BODY_BYTES, MAX_EVENT_SUBJECTS, OPENAPI,
};
use crate::driver::DriverInput;
use crate::events::{CommitEvent, Hub, TxEvent};
use crate::status::Status;

fn chain_id() -> ChainId {
    ChainId(sha256(b"api tests"))
}

fn key() -> SigningKey {
    SigningKey::from_seed(&[3; 32])
}

fn tx(nonce: u64, payload: &str) -> SignedTransaction {
    Transaction {
        signer: key().public_key(),
        nonce,
        payload: payload.as_bytes().to_vec(),
    }
    .sign(&key(), &chain_id())
}

fn tx_hex(tx: &SignedTransaction) -> String {
    hex::encode(tx.to_bytes())
}

/// The receipt code the stand-in ledger gives a transaction: 5 when its payload says "fail".
fn code_of(tx: &SignedTransaction) -> u16 {
    if tx.tx.payload.starts_with(b"fail") {
        5
    } else {
        0
    }
}

/// The chain behind the API: a memory store and the hub, appended to like the driver does.
struct Ledger {
    store: Arc<RwLock<MemoryStore>>,
    hub: Hub,
}

impl Ledger {
    /// Stores the next block with `txs`; publishes its events when `publish`.
    fn commit(&self, txs: Vec<SignedTransaction>, publish: bool) -> CommittedBlock {
        let mut store = self.store.write().unwrap();
        let height = store.last_height() + 1;
        let ids: Vec<TxId> = txs.iter().map(SignedTransaction::id).collect();
        let (log, log_nodes) = history_log(&*store, &ids);
        let header = BlockHeader {
            version: HEADER_VERSION,
            chain_id: chain_id(),
            height,
            time_ms: 1_790_000_000_000 + height,
            parent_id: store.last_block_id(),
            proposer: key().public_key(),
            tx_count: u32::try_from(txs.len()).unwrap(),
            tx_root: tx_root(&ids),
            results_root: sha256(b"results"),
            log_size: log.size(),
            log_root: Digest(log.root()),
            state_root: sha256(b"state"),
            validators_hash: sha256(b"validators"),
            next_validators_hash: sha256(b"validators"),
        };
        let receipts = txs
            .iter()
            .enumerate()
            .map(|(index, tx)| Receipt {
                tx_id: tx.id(),
                index: u32::try_from(index).unwrap(),
                height,
                code: code_of(tx),
            })
            .collect();
        let committed = CommittedBlock {
            certificate: CommitCertificate {
                height,
                round: 0,
                block_id: header.id(),
                signatures: vec![],
            },
            block: Block { header, txs },
            receipts,
            state_changes: vec![],
            log_nodes,
        };
        store.append_block(&committed).unwrap();
        if publish {
            let subjects = committed
                .block
                .txs
                .iter()
                .map(|tx| vec![sha256(&tx.tx.payload)])
                .collect();
            self.hub.publish_block(
                height,
                committed.block.header.id(),
                &committed.receipts,
                subjects,
            );
        }
        committed
    }
}

/// The history log after the stored blocks and then `ids` (replayed: test chains are short),
/// and the subtrees that `ids` complete.
fn history_log(store: &dyn Store, ids: &[TxId]) -> (Frontier, Vec<LogNode>) {
    let mut log = Frontier::new();
    let mut ignored = Vec::new();
    for height in 1..=store.last_height() {
        for id in store.block(height).unwrap().unwrap().tx_ids() {
            log.append_recording(leaf_hash(id.as_bytes()), &mut ignored)
                .unwrap();
        }
    }
    let mut nodes = Vec::new();
    for id in ids {
        log.append_recording(leaf_hash(id.as_bytes()), &mut nodes)
            .unwrap();
    }
    (log, nodes)
}

/// What the stand-in driver does with a submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Behavior {
    /// Accepts everything (except "reject" payloads, as nonce_taken) and commits nothing.
    Accept,
    /// Accepts and commits the accepted ones in a block (publishing its events) before
    /// answering.
    CommitFirst { publish: bool },
    /// Accepts, answers, then commits them without an event behind a flood of other events.
    CommitLaterLagging,
    /// Refuses everything: the pool is full.
    Full,
}

struct Harness {
    state: ApiState,
    ledger: Arc<Ledger>,
    behavior: Arc<Mutex<Behavior>>,
}

impl Harness {
    fn new() -> Self {
        Self::with_hub(Hub::default())
    }

    fn with_hub(hub: Hub) -> Self {
        let store = Arc::new(RwLock::new(MemoryStore::new(chain_id())));
        let ledger = Arc::new(Ledger {
            store: store.clone(),
            hub: hub.clone(),
        });
        let (driver, inbox) = sync_channel(64);
        let behavior = Arc::new(Mutex::new(Behavior::Accept));
        let pending = Arc::new(Mutex::new(Vec::new()));
        {
            let ledger = ledger.clone();
            let behavior = behavior.clone();
            std::thread::spawn(move || fake_driver(&inbox, &ledger, &behavior, &pending));
        }
        let state = ApiState::new(
            chain_id(),
            store,
            driver,
            Arc::new(Status::default()),
            Arc::new(Registry::default()),
            hub,
        );
        Self {
            state,
            ledger,
            behavior,
        }
    }

    fn router(&self) -> Router {
        router(self.state.clone())
    }

    fn set(&self, behavior: Behavior) {
        *self.behavior.lock().unwrap() = behavior;
    }

    async fn call(&self, request: Request<Body>) -> (StatusCode, Value) {
        let response = self.router().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, value)
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Request::get(path).body(Body::empty()).unwrap())
            .await
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(post_raw(path, "application/json", body.to_string()))
            .await
    }
}

fn post_raw(path: &str, content_type: &str, body: impl Into<Body>) -> Request<Body> {
    Request::post(path)
        .header(header::CONTENT_TYPE, content_type)
        .body(body.into())
        .unwrap()
}

fn fake_driver(
    inbox: &Receiver<DriverInput>,
    ledger: &Ledger,
    behavior: &Mutex<Behavior>,
    pending: &Mutex<Vec<TxId>>,
) {
    while let Ok(input) = inbox.recv() {
        match input {
            DriverInput::Submit { txs, reply } => {
                let behavior = *behavior.lock().unwrap();
                let results: Vec<Result<TxId, MempoolError>> = txs
                    .iter()
                    .map(|tx| match behavior {
                        Behavior::Full => Err(MempoolError::Full {
                            max_txs: 1,
                            max_bytes: 1,
                        }),
                        _ if tx.tx.payload.starts_with(b"reject") => {
                            Err(MempoolError::NonceTaken {
                                nonce: tx.tx.nonce,
                                pending: tx.id(),
                            })
                        }
                        _ => Ok(tx.id()),
                    })
                    .collect();
                let accepted: Vec<SignedTransaction> = txs
                    .into_iter()
                    .zip(&results)
                    .filter(|(_, result)| result.is_ok())
                    .map(|(tx, _)| tx)
                    .collect();
                match behavior {
                    Behavior::CommitFirst { publish } => {
                        ledger.commit(accepted, publish);
                        let _ = reply.send(results);
                    }
                    Behavior::CommitLaterLagging => {
                        let _ = reply.send(results);
                        // Let the handler start waiting, then bury the commit in noise.
                        std::thread::sleep(Duration::from_millis(50));
                        ledger.commit(accepted, false);
                        for n in 0..1000u32 {
                            ledger.hub.publish(CommitEvent::Tx(Arc::new(TxEvent {
                                tx_id: sha256(&n.to_be_bytes()),
                                height: 1,
                                index: n,
                                block_id: sha256(b"noise"),
                                code: 0,
                                subjects: vec![],
                            })));
                        }
                    }
                    Behavior::Accept | Behavior::Full => {
                        pending
                            .lock()
                            .unwrap()
                            .extend(accepted.iter().map(SignedTransaction::id));
                        let _ = reply.send(results);
                    }
                }
            }
            DriverInput::Pending { ids, reply } => {
                let pending = pending.lock().unwrap();
                let _ = reply.send(ids.iter().map(|id| pending.contains(id)).collect());
            }
            DriverInput::NextNonce { reply, .. } => {
                let _ = reply.send(Some(1));
            }
            DriverInput::Network(_) | DriverInput::Shutdown => {}
        }
    }
}

fn assert_error(status: StatusCode, body: &Value, expected: StatusCode, code: &str) {
    assert_eq!(status, expected, "{body}");
    let error = &body["error"];
    assert_eq!(error["code"], code, "{body}");
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(
        error["field"].is_null() || error["field"].is_string(),
        "{body}"
    );
    assert_eq!(body.as_object().unwrap().len(), 1, "only `error`: {body}");
    assert_eq!(error.as_object().unwrap().len(), 3, "{body}");
}

#[tokio::test]
async fn errors_have_one_shape() {
    let api = Harness::new();

    let (status, body) = api.get("/v1/nowhere").await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    assert!(body["error"]["field"].is_null());
    let (status, body) = api.post("/v1/status", json!({})).await;
    assert_error(
        status,
        &body,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    );

    // Malformed JSON, another content type, trailing data, the wrong shape.
    let (status, body) = api
        .call(post_raw("/v1/txs", "application/json", "{\"txs\": ["))
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "malformed_json");
    let (status, body) = api
        .call(post_raw("/v1/txs", "text/plain", "{\"txs\": []}"))
        .await;
    assert_error(
        status,
        &body,
        StatusCode::BAD_REQUEST,
        "unsupported_content_type",
    );
    let (status, body) = api
        .call(Request::post("/v1/txs").body(Body::from("{}")).unwrap())
        .await;
    assert_error(
        status,
        &body,
        StatusCode::BAD_REQUEST,
        "unsupported_content_type",
    );
    let (status, body) = api
        .call(post_raw("/v1/txs", "application/json", "{\"txs\": []} {}"))
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "malformed_json");
    let (status, body) = api
        .post("/v1/txs", json!({ "txs": ["00"], "wait": "yes" }))
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_body");
    assert_eq!(body["error"]["field"], "wait");
    let (status, body) = api.post("/v1/txs", json!({ "txs": ["00", 7] })).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_body");
    assert_eq!(body["error"]["field"], "txs[1]");
    let (status, body) = api.post("/v1/txs", json!({ "txs": [], "extra": 1 })).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_body");

    // Transactions that do not decode name their position.
    let good = tx_hex(&tx(1, "a"));
    let (status, body) = api.post("/v1/txs", json!({ "txs": [good, "zz"] })).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_hex");
    assert_eq!(body["error"]["field"], "txs[1]");
    let (status, body) = api
        .post("/v1/txs", json!({ "txs": [good, good, "abc"] }))
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_hex");
    assert_eq!(body["error"]["field"], "txs[2]");
    let (status, body) = api.post("/v1/txs", json!({ "txs": ["0102"] })).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_tx");
    assert_eq!(body["error"]["field"], "txs[0]");
    let (status, body) = api.post("/v1/txs", json!({ "txs": [] })).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_tx_count");
    assert_eq!(body["error"]["field"], "txs");

    // Bad path and query parameters.
    let (status, body) = api.get("/v1/txs/xyz").await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_id");
    assert_eq!(body["error"]["field"], "id");
    let (status, body) = api.get("/v1/accounts/1234").await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_public_key");
    let (status, body) = api.get("/v1/blocks?from=abc").await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_parameter");
    assert_eq!(body["error"]["field"], "from");
    let (status, body) = api.get("/v1/blocks?form=1").await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "unknown_parameter");
    let (status, body) = api.get("/v1/blocks?from=1&from=2").await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "repeated_parameter");
    let (status, body) = api.get("/v1/blocks?limit=0").await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_parameter");
    let (status, body) = api.get("/v1/blocks/twelve").await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_block_ref");
    let (status, body) = api.get("/v1/blocks/0x1234").await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_id");
    let (status, body) = api.get("/v1/events?subject=nothex").await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_id");
    assert_eq!(body["error"]["field"], "subject");
}

#[tokio::test]
async fn bodies_over_the_limit_are_413() {
    let api = Harness::new();
    let big = format!("{{\"txs\": [\"{}\"]}}", "0".repeat(MAX_BODY_BYTES));
    let (status, body) = api.call(post_raw("/v1/txs", "application/json", big)).await;
    assert_error(
        status,
        &body,
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
    );
    // Just under the limit is read (and refused for what it holds, not for its size).
    let padding = MAX_BODY_BYTES - 100;
    let under = format!("{{\"txs\": [\"{}\"]}}", "0".repeat(padding));
    let (status, body) = api
        .call(post_raw("/v1/txs", "application/json", under))
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "tx_too_large");
}

#[tokio::test]
async fn submissions_report_each_transaction() {
    let api = Harness::new();
    let (accepted, rejected) = (tx(1, "anchor"), tx(2, "reject me"));
    let (status, body) = api
        .post(
            "/v1/txs",
            json!({ "txs": [tx_hex(&accepted), tx_hex(&rejected)] }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["results"][0],
        json!({ "id": accepted.id().to_string(), "accepted": true, "status": "pending" })
    );
    let refused = &body["results"][1];
    assert_eq!(refused["accepted"], false);
    assert_eq!(refused["status"], "rejected");
    assert_eq!(refused["error"]["code"], "nonce_taken");
    assert_eq!(refused["error"]["field"], "txs[1]");

    // Pending, then unknown.
    let (status, body) = api.get(&format!("/v1/txs/{}", accepted.id())).await;
    assert_eq!(
        (status, &body["status"]),
        (StatusCode::OK, &json!("pending"))
    );
    let (status, body) = api.get(&format!("/v1/txs/0x{}", rejected.id())).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "unknown_tx");

    // A full pool: 429, the error shape with the results beside it.
    api.set(Behavior::Full);
    let (status, body) = api
        .post("/v1/txs", json!({ "txs": [tx_hex(&tx(3, "x"))] }))
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["error"]["code"], "mempool_full");
    assert_eq!(body["results"][0]["error"]["code"], "mempool_full");
}

#[tokio::test]
async fn waiting_returns_the_commit_from_events_or_from_the_store() {
    let api = Harness::new();
    // The filler block puts the next ones at height 2.
    api.ledger.commit(vec![tx(100, "filler")], false);

    // Committed with its events: found through the subscription.
    api.set(Behavior::CommitFirst { publish: true });
    let (ok, failed, refused) = (
        tx(1, "anchor"),
        tx(2, "fail: no such case"),
        tx(3, "reject"),
    );
    let (status, body) = api
        .post(
            "/v1/txs",
            json!({ "txs": [tx_hex(&ok), tx_hex(&failed), tx_hex(&refused)], "wait": true, "timeout_ms": 5000 }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let block_id = api
        .state
        .store
        .read()
        .unwrap()
        .header(2)
        .unwrap()
        .unwrap()
        .id();
    assert_eq!(
        body["results"][0],
        json!({
            "id": ok.id().to_string(), "accepted": true, "status": "committed",
            "height": 2, "index": 0, "block_id": block_id.to_string(), "code": 0,
        })
    );
    assert_eq!(body["results"][1]["status"], "committed");
    assert_eq!(body["results"][1]["index"], 1);
    assert_eq!(body["results"][1]["code"], 5);
    assert_eq!(body["results"][2]["status"], "rejected");

    // Committed before the handler waited, with no event: found in the store.
    api.set(Behavior::CommitFirst { publish: false });
    let silent = tx(4, "silent");
    let (_, body) = api
        .post(
            "/v1/txs",
            json!({ "txs": [tx_hex(&silent)], "wait": true, "timeout_ms": 5000 }),
        )
        .await;
    assert_eq!(body["results"][0]["status"], "committed", "{body}");
    assert_eq!(body["results"][0]["height"], 3);

    // Not committed within the timeout: pending.
    api.set(Behavior::Accept);
    let started = std::time::Instant::now();
    let (_, body) = api
        .post(
            "/v1/txs",
            json!({ "txs": [tx_hex(&tx(5, "slow"))], "wait": true, "timeout_ms": 100 }),
        )
        .await;
    assert_eq!(body["results"][0]["status"], "pending", "{body}");
    assert!(started.elapsed() >= Duration::from_millis(100));

    // The committed transaction, read back.
    let (status, body) = api.get(&format!("/v1/txs/{}", failed.id())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "committed");
    assert_eq!(
        (&body["height"], &body["index"], &body["code"]),
        (&json!(2), &json!(1), &json!(5))
    );
    assert_eq!(body["block_id"], block_id.to_string());
    assert_eq!(body["tx"], tx_hex(&failed));
}

#[tokio::test]
async fn a_waiter_that_lags_finds_its_commit_in_the_store() {
    let api = Harness::with_hub(Hub::new(1));
    api.set(Behavior::CommitLaterLagging);
    let buried = tx(1, "buried");
    let (_, body) = api
        .post(
            "/v1/txs",
            json!({ "txs": [tx_hex(&buried)], "wait": true, "timeout_ms": 10000 }),
        )
        .await;
    assert_eq!(body["results"][0]["status"], "committed", "{body}");
    assert_eq!(body["results"][0]["height"], 1);
}

#[tokio::test]
async fn blocks_by_height_by_id_and_by_page() {
    let api = Harness::new();
    let (status, body) = api.get("/v1/blocks/latest").await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "unknown_block");
    let mut blocks = Vec::new();
    for height in 1..=5u64 {
        let txs = (0..height - 1).map(|n| tx(height * 10 + n, if n == 1 { "fail" } else { "ok" }));
        blocks.push(api.ledger.commit(txs.collect(), false));
    }

    let (status, latest) = api.get("/v1/blocks/latest").await;
    assert_eq!((status, &latest["height"]), (StatusCode::OK, &json!(5)));
    assert_eq!(latest["receipt_codes"], json!([0, 5, 0, 0]));
    assert_eq!(latest["tx_ids"].as_array().unwrap().len(), 4);

    // By id, with or without 0x, and by height: the same block.
    let id: BlockId = blocks[2].block.header.id();
    let (_, by_height) = api.get("/v1/blocks/3").await;
    let (status, by_id) = api.get(&format!("/v1/blocks/0x{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(by_id, by_height);
    assert_eq!(by_id["id"], id.to_string());
    let (_, bare) = api.get(&format!("/v1/blocks/{id}")).await;
    assert_eq!(bare, by_height);
    let (status, body) = api.get(&format!("/v1/blocks/0x{}", sha256(b"nope"))).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "unknown_block");
    let (status, body) = api.get("/v1/blocks/6").await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "unknown_block");

    // Pages.
    let heights = |page: &Value| -> Vec<u64> {
        page["blocks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["height"].as_u64().unwrap())
            .collect()
    };
    let (status, page) = api.get("/v1/blocks?from=2&limit=2").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(heights(&page), [2, 3]);
    assert_eq!(
        (&page["next_from"], &page["last_height"]),
        (&json!(4), &json!(5))
    );
    let (_, page) = api.get("/v1/blocks?from=4&limit=2").await;
    assert_eq!(heights(&page), [4, 5]);
    assert!(page["next_from"].is_null());
    let (_, page) = api.get("/v1/blocks").await;
    assert_eq!(heights(&page), [1, 2, 3, 4, 5]);
    let (_, page) = api.get("/v1/blocks?from=9").await;
    assert_eq!(heights(&page), Vec::<u64>::new());
    assert!(page["next_from"].is_null());

    // The limit is capped.
    for _ in 0..MAX_BLOCK_PAGE + 10 {
        api.ledger.commit(vec![], false);
    }
    let (_, page) = api.get("/v1/blocks?limit=100000").await;
    assert_eq!(
        page["blocks"].as_array().unwrap().len(),
        usize::try_from(MAX_BLOCK_PAGE).unwrap()
    );
    assert_eq!(page["next_from"], MAX_BLOCK_PAGE + 1);
}

/// Reads server-sent events from a streaming body until `count` have arrived.
async fn read_events(body: Body, count: usize) -> Vec<(String, Option<String>, Value)> {
    let mut stream = body.into_data_stream();
    let mut text = String::new();
    let mut events = Vec::new();
    while events.len() < count {
        let chunk = tokio::time::timeout(Duration::from_secs(5), stream.next())
            .await
            .expect("an event in time")
            .expect("the stream goes on")
            .unwrap();
        text.push_str(std::str::from_utf8(&chunk).unwrap());
        while let Some(end) = text.find("\n\n") {
            let frame: String = text.drain(..end + 2).collect();
            let (mut name, mut id, mut data) = (None, None, None);
            for line in frame.lines() {
                if let Some(value) = line.strip_prefix("event: ") {
                    name = Some(value.to_owned());
                } else if let Some(value) = line.strip_prefix("id: ") {
                    id = Some(value.to_owned());
                } else if let Some(value) = line.strip_prefix("data: ") {
                    data = Some(serde_json::from_str(value).unwrap());
                }
            }
            if let (Some(name), Some(data)) = (name, data) {
                events.push((name, id, data));
            }
        }
    }
    events
}

async fn open_stream(api: &Harness, query: &str) -> axum::response::Response {
    api.router()
        .oneshot(
            Request::get(format!("/v1/events{query}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap()
}

fn event(n: u32, subjects: Vec<Digest>) -> CommitEvent {
    CommitEvent::Tx(Arc::new(TxEvent {
        tx_id: sha256(&n.to_be_bytes()),
        height: 7,
        index: n,
        block_id: sha256(b"block 7"),
        code: u16::from(n == 2),
        subjects,
    }))
}

#[tokio::test]
async fn event_streams_filter_by_subject() {
    let api = Harness::new();
    let (case, person, other) = (sha256(b"case"), sha256(b"person"), sha256(b"other"));
    let filtered = open_stream(&api, &format!("?subject={case}&subject=0x{person}")).await;
    assert_eq!(filtered.status(), StatusCode::OK);
    assert_eq!(
        filtered.headers()[header::CONTENT_TYPE],
        "text/event-stream"
    );
    let everything = open_stream(&api, "").await;

    api.state.events.publish(event(0, vec![other]));
    api.state.events.publish(event(1, vec![case]));
    api.state.events.publish(event(2, vec![]));
    api.state.events.publish(event(3, vec![other, person]));
    api.state
        .events
        .publish(CommitEvent::Block(crate::events::BlockEvent {
            height: 7,
            block_id: sha256(b"block 7"),
            tx_count: 4,
        }));
    api.state.events.publish(event(4, vec![case, person]));

    let got = read_events(filtered.into_body(), 3).await;
    let indices: Vec<&Option<String>> = got.iter().map(|(_, id, _)| id).collect();
    assert_eq!(
        indices,
        [
            &Some("7:1".to_owned()),
            &Some("7:3".to_owned()),
            &Some("7:4".to_owned())
        ]
    );
    assert!(got.iter().all(|(name, _, _)| name == "tx"));
    assert_eq!(
        got[0].2,
        json!({
            "tx_id": sha256(&1u32.to_be_bytes()).to_string(),
            "height": 7, "index": 1,
            "block_id": sha256(b"block 7").to_string(),
            "code": 0, "subjects": [case.to_string()],
        })
    );
    let all = read_events(everything.into_body(), 5).await;
    assert_eq!(all.len(), 5);
    assert_eq!(all[2].2["code"], 1);

    // Limits: subjects per stream, and streams at once.
    let many: String = (0..=MAX_EVENT_SUBJECTS)
        .map(|n| format!("subject={}&", sha256(&n.to_be_bytes())))
        .collect();
    let (status, body) = api.get(&format!("/v1/events?{many}")).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "too_many_subjects");
}

#[tokio::test]
async fn event_streams_are_bounded_and_told_when_they_lag() {
    let mut api = Harness::with_hub(Hub::new(2));
    api.state.streams = Arc::new(Semaphore::new(1));
    let stream = open_stream(&api, "").await;
    let (status, body) = api.get("/v1/events").await;
    assert_error(
        status,
        &body,
        StatusCode::SERVICE_UNAVAILABLE,
        "too_many_streams",
    );

    for n in 0..5 {
        api.state.events.publish(event(n, vec![]));
    }
    let got = read_events(stream.into_body(), 3).await;
    assert_eq!(got[0].0, "lagged");
    assert_eq!(got[0].2, json!({ "missed": 3 }));
    assert_eq!(
        (got[1].1.as_deref(), got[2].1.as_deref()),
        (Some("7:3"), Some("7:4"))
    );
    // The stream is gone (its body dropped): its slot is free again.
    let again = open_stream(&api, "").await;
    assert_eq!(again.status(), StatusCode::OK);
    drop(again);

    // Closing the hub ends the streams.
    let stream = open_stream(&api, "").await;
    api.state.events.close();
    let mut body = stream.into_body().into_data_stream();
    let end = tokio::time::timeout(Duration::from_secs(5), body.next())
        .await
        .unwrap();
    assert!(end.is_none());
}

#[test]
fn every_route_is_described_and_every_description_is_a_route() {
    let doc: Value = serde_json::from_str(OPENAPI).expect("docs/openapi.json is JSON");
    assert_eq!(doc["openapi"], "3.1.0");
    let methods = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    let mut described = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if !methods.contains(&method.as_str()) {
                continue;
            }
            described.insert((method.clone(), path.clone()));
            // Path parameters are declared, and only those.
            let in_path: BTreeSet<String> = path
                .split('/')
                .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
                .map(str::to_owned)
                .collect();
            let declared: BTreeSet<String> = operation["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .filter(|p| p["in"] == "path")
                        .map(|p| p["name"].as_str().unwrap().to_owned())
                        .collect()
                })
                .unwrap_or_default();
            assert_eq!(in_path, declared, "{method} {path}: path parameters");
            assert!(
                operation["responses"]["200"].is_object(),
                "{method} {path}: no 200 response"
            );
        }
    }
    let served: BTreeSet<(String, String)> = routes()
        .iter()
        .map(|route| (route.verb.openapi_key().to_owned(), route.path.to_owned()))
        .collect();
    let missing: Vec<_> = served.difference(&described).collect();
    let extra: Vec<_> = described.difference(&served).collect();
    assert!(
        missing.is_empty(),
        "routes missing from docs/openapi.json: {missing:?}"
    );
    assert!(extra.is_empty(), "described but not served: {extra:?}");

    // Every reference resolves.
    fn refs(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref") {
                    out.push(target.clone());
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut targets = Vec::new();
    refs(&doc, &mut targets);
    assert!(!targets.is_empty());
    for target in targets {
        let pointer = target.strip_prefix('#').expect("a local reference");
        assert!(doc.pointer(pointer).is_some(), "{target} does not resolve");
    }
}

/// The table really is what the router serves: each route answers something other than the
/// fallback's 404 and 405.
#[tokio::test]
async fn the_router_serves_every_route_in_the_table() {
    let api = Harness::new();
    api.ledger.commit(vec![tx(1, "a")], false);
    for route in routes() {
        let path = route
            .path
            .replace("{id}", &sha256(b"x").to_string())
            .replace("{key}", &key().public_key().to_string())
            .replace("{block}", "1");
        let method = match route.verb {
            super::Verb::Get => "GET",
            super::Verb::Post => "POST",
        };
        let request = Request::builder()
            .method(method)
            .uri(&path)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("{}"))
            .unwrap();
        let response = api.router().oneshot(request).await.unwrap();
        let status = response.status();
        if status == StatusCode::NOT_FOUND || status == StatusCode::METHOD_NOT_ALLOWED {
            let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
                .await
                .unwrap();
            let body: Value = serde_json::from_slice(&bytes).unwrap();
            assert_ne!(body["error"]["code"], "not_found", "{method} {path}");
            assert_ne!(
                body["error"]["code"], "method_not_allowed",
                "{method} {path}"
            );
        }
    }
    let (status, body) = api.get("/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, serde_json::from_str::<Value>(OPENAPI).unwrap());
}

/// The history log routes (`super::log`).
mod log;

/// `GET /v1/blocks?txs=true` (`super::blocks`).
mod blocks;

/// Arbitrary bodies, path segments and queries: typed answers only.
mod fuzz;
/// The accept loop over TCP (`super::guard::serve`): header timeout, per-client cap, event
/// streams, shutdown.
mod serve;

#[tokio::test]
async fn recorded_equivocations_are_served_with_both_signed_messages() {
    use courtledger_consensus::Evidence;
    use courtledger_storage::ConsensusRecord;
    use courtledger_types::{Vote, VoteKind};

    let harness = Harness::new();
    let offender = SigningKey::from_seed(&[7; 32]);
    let vote = |block: &[u8]| {
        Vote {
            height: 5,
            round: 0,
            kind: VoteKind::Precommit,
            block_id: Some(sha256(block)),
            validator: offender.public_key(),
        }
        .sign(&offender, &chain_id())
    };
    let evidence = Evidence::DoubleVote(vote(b"a"), vote(b"b")).canonical();
    let mut key = b"evd/".to_vec();
    key.extend_from_slice(&5u64.to_be_bytes());
    key.extend_from_slice(sha256(&evidence.to_bytes()).as_bytes());
    harness
        .ledger
        .store
        .write()
        .unwrap()
        .consensus_put_batch(&[ConsensusRecord {
            key,
            value: evidence.to_bytes(),
        }])
        .unwrap();
    let (status, answer) = harness.get("/v1/equivocations").await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let items = answer["equivocations"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{answer}");
    assert_eq!(items[0]["kind"], "double_vote");
    assert_eq!(items[0]["height"], 5);
    assert_eq!(
        items[0]["offender"],
        offender.public_key().to_string().as_str()
    );
    let bytes = hex::decode(items[0]["hex"].as_str().unwrap()).unwrap();
    assert_eq!(
        Evidence::decode(&bytes).unwrap().verify(&chain_id()),
        Ok(())
    );
    let (_, later) = harness.get("/v1/equivocations?from=6").await;
    assert_eq!(later["equivocations"], json!([]));
    let (status, _) = harness.get("/v1/equivocations?from=x").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Without its genesis the API cannot tell the validator sets.
    let (status, _) = harness.get("/v1/validators").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
}
