//! `GET /v1/proofs/tx/{id}`: the proof bundle of a committed transaction
//! (`docs/proof-format.md`), assembled from the stored block, its receipts and its certificate.
//!
//! After validator-set changes the bundle is version 3: it carries the set links from the
//! genesis set to the set that signed the block ([`set_links`]: each activated change with the
//! stored header and certificate of the last block before its activation). Without a change at
//! or below the block's height it stays version 1, which older verifiers read.

use std::cell::Cell;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use courtledger_chain::{activated_changes, StateRead};
use courtledger_codec::Encode;
use courtledger_proof::links::MAX_SET_LINKS;
use courtledger_proof::{ProofBundle, SetLink};
use courtledger_storage::Store;
use serde_json::{json, Value};

use super::error::{ApiError, ApiPath};
use super::txs::parse_digest;
use super::ApiState;

/// The store's committed state as the chain reads it; a failed read is remembered, so that it
/// is reported instead of being taken for an absent key.
pub(super) struct StoreState<'a> {
    store: &'a dyn Store,
    failed: Cell<bool>,
}

impl<'a> StoreState<'a> {
    /// A view of `store`'s state.
    pub(super) fn new(store: &'a dyn Store) -> Self {
        Self {
            store,
            failed: Cell::new(false),
        }
    }

    /// Whether a read failed (its key was then reported absent).
    pub(super) fn failed(&self) -> bool {
        self.failed.get()
    }
}

impl StateRead for StoreState<'_> {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.store.state_get(key).unwrap_or_else(|_| {
            self.failed.set(true);
            None
        })
    }
}

/// The set links a proof of blocks up to `height` needs: every activated validator-set change
/// whose activation height is at most `height`, oldest first, each with the stored header and
/// certificate of block `activation − 1` (the last block of the set it replaces). Empty when
/// the genesis set signed every block up to `height`. More than [`MAX_SET_LINKS`] is refused
/// (422 `too_many_set_changes`): no bundle may carry them.
pub(super) fn set_links(store: &dyn Store, height: u64) -> Result<Vec<SetLink>, ApiError> {
    let view = StoreState::new(store);
    let changes = activated_changes(&view)
        .map_err(|error| ApiError::internal(format!("the validator-set records: {error}")))?;
    if view.failed() {
        return Err(ApiError::internal(
            "a state read of the validator-set records failed",
        ));
    }
    let changes: Vec<_> = changes
        .into_iter()
        .filter(|change| change.change.activation_height <= height)
        .collect();
    if changes.len() > usize::try_from(MAX_SET_LINKS).unwrap_or(usize::MAX) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "too_many_set_changes",
            format!(
                "{} validator-set changes activated up to height {height}; a proof carries at \
                 most {MAX_SET_LINKS} set links",
                changes.len()
            ),
        ));
    }
    changes
        .into_iter()
        .map(|change| {
            let activation = change.change.activation_height;
            let boundary_height =
                activation
                    .checked_sub(1)
                    .filter(|h| *h > 0)
                    .ok_or_else(|| {
                        ApiError::internal(format!("a change activated at height {activation}"))
                    })?;
            let missing = |what: &str| {
                ApiError::internal(format!(
                    "the {what} of block {boundary_height}, the last before the validator-set \
                     change of height {activation}, is missing"
                ))
            };
            let boundary = store
                .header(boundary_height)?
                .ok_or_else(|| missing("header"))?;
            let certificate = store
                .certificate(boundary_height)?
                .ok_or_else(|| missing("certificate"))?;
            Ok(SetLink {
                change,
                boundary,
                certificate,
            })
        })
        .collect()
}

/// The links as the API sends them: each with its activation height and its canonical
/// encoding (`docs/proof-format.md`, `SetLink`) as hex.
pub(super) fn set_links_json(links: &[SetLink]) -> Value {
    json!(links
        .iter()
        .map(|link| json!({
            "activation_height": link.activation_height(),
            "boundary_height": link.boundary.height,
            "hex": hex::encode(link.to_bytes()),
        }))
        .collect::<Vec<_>>())
}

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
    let links = set_links(&*store, height)?;
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
    .map_err(|error| ApiError::internal(format!("block {height}: {error}")))?
    .with_links(links);
    Ok(Json(json!({
        "tx_id": id.to_string(),
        "height": height,
        "index": location.position,
        "block_id": block.header.id().to_string(),
        "format_version": bundle.version(),
        "set_links": bundle.links.len(),
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
    use courtledger_proof::{verify_bytes, ProofBundle, SetLink};
    use courtledger_storage::{CommittedBlock, MemoryStore, StateChange, Store};
    use courtledger_types::peer_id::peer_id_of;
    use courtledger_types::{
        BlockHeader, CommitCertificate, CommitSignature, CourtCode, Genesis, SetChange, SetMember,
        SignedSetChange, SignedTransaction, Transaction, Validator, ValidatorSet,
    };
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

    fn message(nonce: u64, chain_id: &courtledger_crypto::ChainId) -> SignedTransaction {
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
        .sign(&key(9), chain_id)
    }

    fn certify(
        set: &ValidatorSet,
        seeds: &[u8],
        header: &BlockHeader,
        chain_id: &courtledger_crypto::ChainId,
    ) -> CommitCertificate {
        let mut certificate = CommitCertificate {
            height: header.height,
            round: 0,
            block_id: header.id(),
            signatures: vec![],
        };
        for (index, seed) in (0u16..).zip(seeds) {
            let vote = certificate.precommit(set, index).unwrap();
            certificate.signatures.push(CommitSignature {
                validator_index: index,
                signature: vote.sign(&key(*seed), chain_id).signature,
            });
        }
        certificate
    }

    /// A chain whose validators (0000 and 京) add 京01's (seed 3) from height 3, executed by the
    /// chain and stored with its state: bundles of blocks 1 and 2 stay version 1, block 3's is
    /// version 3 with the link, and the log proofs carry the links up to their later block.
    #[tokio::test]
    async fn after_a_set_change_bundles_carry_the_set_links() {
        let genesis = genesis();
        let chain_id = genesis.chain_id();
        let ctx = ChainContext::from_genesis(&genesis, &AnchorApp);
        let from = genesis.validator_set().clone();
        let mut members = genesis.set_members();
        members.push(SetMember {
            court_code: CourtCode::new("京01").unwrap(),
            validator: Validator {
                public_key: key(3).public_key(),
                voting_power: 1,
            },
            p2p_address: "127.0.0.1:3".into(),
        });
        let change = SetChange {
            from_set_hash: from.hash(),
            activation_height: 3,
            members,
        };
        let approvals = vec![
            change.approve(&key(1), &chain_id, 0),
            change.approve(&key(2), &chain_id, 1),
        ];
        let signed = SignedSetChange { change, approvals };
        let three = signed.change.new_set().unwrap();
        let recording = Transaction {
            signer: key(1).public_key(),
            nonce: 1,
            payload: signed.to_payload(),
        }
        .sign(&key(1), &chain_id);

        let mut store = MemoryStore::new(chain_id);
        let mut state = MemoryState::new();
        let mut parent = Parent::genesis(&ctx);
        let mut ids = Vec::new();
        for (height, txs) in [
            (1u64, vec![recording, message(1, &chain_id)]),
            (2, vec![message(2, &chain_id)]),
            (3, vec![message(3, &chain_id)]),
        ] {
            ids.push(txs.last().unwrap().id());
            let (block, execution) = build_block(
                &ctx,
                &parent,
                &state,
                txs,
                key(1).public_key(),
                genesis.genesis_time_ms + 1000 * height,
            );
            let certificate = if height < 3 {
                certify(&from, &[1, 2], &block.header, &chain_id)
            } else {
                certify(&three, &[1, 2, 3], &block.header, &chain_id)
            };
            state.apply(&execution.changes);
            parent = Parent::of(&block.header);
            store
                .append_block(&CommittedBlock {
                    block,
                    certificate,
                    receipts: execution.receipts,
                    state_changes: execution
                        .changes
                        .iter()
                        .map(|c| StateChange {
                            key: c.key.clone(),
                            value: c.value.clone(),
                        })
                        .collect(),
                    log_nodes: execution.log_nodes,
                })
                .unwrap();
        }
        let (driver, _inbox) = sync_channel(1);
        let state = ApiState::new(
            chain_id,
            Arc::new(RwLock::new(store)),
            driver,
            Arc::new(Status::default()),
            Arc::new(Registry::default()),
            Hub::default(),
        );
        for (height, id) in (1u64..).zip(&ids) {
            let (status, body) = get(router(state.clone()), &format!("/v1/proofs/tx/{id}")).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let links = usize::from(height == 3);
            assert_eq!(body["set_links"], links, "{body}");
            assert_eq!(body["format_version"], if links == 1 { 3 } else { 1 });
            let bytes = hex::decode(body["bundle"].as_str().unwrap()).unwrap();
            let verified = verify_bytes(&bytes, &genesis).unwrap();
            let courts: Vec<String> = verified
                .signers
                .iter()
                .map(|s| s.court_code.to_string())
                .collect();
            let expected: &[&str] = if height == 3 {
                &["0000", "京", "京01"]
            } else {
                &["0000", "京"]
            };
            assert_eq!(courts, expected);
        }
        // The log proofs carry the links up to their later block; each decodes and is the one
        // a bundle of block 3 carries.
        let (status, body) = get(
            router(state.clone()),
            &format!("/v1/proofs/log-inclusion/{}?at=2", ids[0]),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["set_links"], json!([]));
        let (_, body) = get(
            router(state.clone()),
            &format!("/v1/proofs/log-inclusion/{}?at=3", ids[0]),
        )
        .await;
        let links = body["set_links"].as_array().unwrap();
        assert_eq!(links.len(), 1);
        assert_eq!(links[0]["activation_height"], 3);
        assert_eq!(links[0]["boundary_height"], 2);
        let link =
            SetLink::decode(&hex::decode(links[0]["hex"].as_str().unwrap()).unwrap()).unwrap();
        assert_eq!(link.change, signed);
        let (_, body) = get(router(state), "/v1/proofs/consistency?from=1&to=3").await;
        assert_eq!(body["set_links"][0]["hex"], links[0]["hex"]);
    }
}
