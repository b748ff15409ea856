//! `GET /v1/proofs/tx/{id}`: the proof bundle of a committed transaction
//! (`docs/proof-format.md`), assembled from the stored block, its receipts and its certificate.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use courtledger_codec::Encode;
use courtledger_proof::{ProofBundle, FORMAT_VERSION};
use serde_json::json;

use super::error::{ApiError, ApiPath};
use super::txs::parse_digest;
use super::ApiState;

/// The bundle of transaction `id`, as hex: 404 `unknown_tx` unless it is committed here.
pub(super) async fn tx_proof(
    State(state): State<ApiState>,
    ApiPath(text): ApiPath,
) -> Result<Response, ApiError> {
    let id = parse_digest(&text, "id", "a transaction id")?;
    let store = state.store()?;
    let Some(location) = store.tx_location(&id)? else {
        return Err(ApiError::not_found(
            "unknown_tx",
            format!(
                "transaction {id} is not committed on this node (a pending transaction has no proof yet)"
            ),
        ));
    };
    let height = location.height;
    let missing =
        |what: &str| ApiError::internal(format!("the {what} of block {height} is missing"));
    let block = store.block(height)?.ok_or_else(|| missing("block"))?;
    let receipts = store.receipts(height)?.ok_or_else(|| missing("receipts"))?;
    let certificate = store
        .certificate(height)?
        .ok_or_else(|| missing("certificate"))?;
    drop(store);
    let tx = usize::try_from(location.position)
        .ok()
        .and_then(|position| block.txs.get(position))
        .ok_or_else(|| missing("transaction"))?;
    let bundle = ProofBundle::assemble(
        &block.header,
        tx,
        &receipts,
        &certificate,
        location.position,
    )
    .map_err(|error| ApiError::internal(format!("block {height}: {error}")))?;
    Ok(Json(json!({
        "tx_id": id.to_string(),
        "height": height,
        "index": location.position,
        "block_id": block.header.id().to_string(),
        "format_version": FORMAT_VERSION,
        "bundle": hex::encode(bundle.to_bytes()),
    }))
    .into_response())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::mpsc::sync_channel;
    use std::sync::{Arc, RwLock};

    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use courtledger_chain::{build_block, AnchorApp, ChainContext, MemoryState, Parent};
    use courtledger_codec::Encode;
    use courtledger_crypto::{sha256, SigningKey};
    use courtledger_ledger::act::PostMessage;
    use courtledger_ledger::{Act, MessageKind};
    use courtledger_proof::{verify_bytes, ProofBundle};
    use courtledger_storage::{CommittedBlock, MemoryStore, Store};
    use courtledger_types::peer_id::peer_id_of;
    use courtledger_types::{CommitCertificate, CommitSignature, Genesis, Transaction};
    use prometheus_client::registry::Registry;
    use serde_json::{json, Value};
    use tower::ServiceExt as _;

    use crate::api::{router, ApiState};
    use crate::events::Hub;
    use crate::status::Status;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_seed(&[seed; 32])
    }

    fn genesis() -> Genesis {
        let validators: Vec<Value> = ["0000", "京"]
            .iter()
            .zip(1u8..)
            .map(|(code, seed)| {
                let public_key = key(seed).public_key();
                json!({
                    "court_code": code, "public_key": public_key.to_string(),
                    "peer_id": peer_id_of(&public_key), "voting_power": 1,
                    "p2p_address": "127.0.0.1:1", "api_address": "127.0.0.1:2",
                })
            })
            .collect();
        let file = json!({
            "format_version": 1, "chain_name": "proof-api", "genesis_time": "2026-03-01T00:00:00Z",
            "courts": [
                { "code": "0000", "name": "Supreme People's Court", "level": "Supreme" },
                { "code": "京", "name": "Beijing High People's Court", "level": "High", "parent": "0000" },
            ],
            "validators": validators,
            "registrars": [],
            "consensus": {
                "timeout_propose_ms": 1000, "timeout_prevote_ms": 500, "timeout_precommit_ms": 500,
                "timeout_delta_ms": 250, "max_block_txs": 100, "max_block_bytes": 8388608,
                "max_clock_drift_ms": 2000
            }
        });
        Genesis::from_json(&file.to_string()).unwrap()
    }

    async fn get(router: axum::Router, path: &str) -> (StatusCode, Value) {
        let response = router
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    /// A node's store with one block of three transactions, executed by the chain (acts as
    /// payloads under `AnchorApp`, so no registration is needed) and certified by both
    /// validators: the API's bundles verify against the genesis file alone.
    #[tokio::test]
    async fn a_committed_transaction_has_a_bundle_that_verifies() {
        let genesis = genesis();
        let chain_id = genesis.chain_id();
        let ctx = ChainContext::from_genesis(&genesis, &AnchorApp);
        let txs: Vec<_> = (1..=3u64)
            .map(|nonce| {
                let act = Act::from(PostMessage {
                    case: sha256(b"case"),
                    kind: MessageKind::Text,
                    content: sha256(&nonce.to_be_bytes()),
                    for_judge: false,
                });
                Transaction {
                    signer: key(9).public_key(),
                    nonce,
                    payload: act.to_bytes(),
                }
                .sign(&key(9), &chain_id)
            })
            .collect();
        let ids: Vec<_> = txs.iter().map(|tx| tx.id()).collect();
        let (block, execution) = build_block(
            &ctx,
            &Parent::genesis(&ctx),
            &MemoryState::new(),
            txs,
            key(1).public_key(),
            genesis.genesis_time_ms + 1000,
        );
        let mut certificate = CommitCertificate {
            height: 1,
            round: 0,
            block_id: block.header.id(),
            signatures: vec![],
        };
        for index in 0..2u16 {
            let vote = certificate
                .precommit(genesis.validator_set(), index)
                .unwrap();
            certificate.signatures.push(CommitSignature {
                validator_index: index,
                signature: vote
                    .sign(&key(u8::try_from(index + 1).unwrap()), &chain_id)
                    .signature,
            });
        }
        let mut store = MemoryStore::new(chain_id);
        store
            .append_block(&CommittedBlock {
                block: block.clone(),
                certificate,
                receipts: execution.receipts,
                state_changes: vec![],
                log_nodes: execution.log_nodes,
            })
            .unwrap();
        let (driver, _inbox) = sync_channel(1);
        let state = ApiState::new(
            chain_id,
            Arc::new(RwLock::new(store)),
            driver,
            Arc::new(Status::default()),
            Arc::new(Registry::default()),
            Hub::default(),
        );

        for (index, id) in ids.iter().enumerate() {
            let (status, body) = get(router(state.clone()), &format!("/v1/proofs/tx/{id}")).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            assert_eq!(body["tx_id"], id.to_string());
            assert_eq!(body["height"], 1);
            assert_eq!(body["index"], index);
            assert_eq!(body["block_id"], block.header.id().to_string());
            let bytes = hex::decode(body["bundle"].as_str().unwrap()).unwrap();
            let verified = verify_bytes(&bytes, &genesis).unwrap();
            assert_eq!(verified.tx_id, *id);
            assert_eq!(verified.signed_power, 2);
            let courts: Vec<String> = verified
                .signers
                .iter()
                .map(|s| s.court_code.to_string())
                .collect();
            assert_eq!(courts, ["0000", "京"]);
            assert_eq!(ProofBundle::decode(&bytes).unwrap().to_bytes(), bytes);
        }

        let (status, body) = get(
            router(state.clone()),
            &format!("/v1/proofs/tx/0x{}", ids[1]),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "0x prefix: {body}");
        let (status, body) = get(
            router(state.clone()),
            &format!("/v1/proofs/tx/{}", sha256(b"unknown")),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["error"]["code"], "unknown_tx");
        let (status, body) = get(router(state), "/v1/proofs/tx/xyz").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"]["code"], "invalid_id");
        assert_eq!(body["error"]["field"], "id");
    }
}
