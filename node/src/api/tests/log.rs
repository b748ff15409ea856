//! `GET /v1/proofs/consistency` and `GET /v1/proofs/log-inclusion/{tx_id}`: every proof the API
//! gives verifies against the roots of the stored headers, for every pair of heights.

use courtledger_codec::decode_exact;
use courtledger_merkle::{ConsistencyProof, Hash, InclusionProof};
use courtledger_types::BlockHeader;

use super::*;

/// Blocks of 0, 0, 1, 3, 0, 2, 5, 1, 0, 8, 4 and 2 transactions (the first ones empty, so the
/// log is empty up to height 2; one act fails, which changes nothing: it is a leaf all the same).
fn chain(api: &Harness) -> (Vec<BlockHeader>, Vec<CommittedBlock>) {
    let mut nonce = 0;
    let blocks: Vec<CommittedBlock> = [0, 0, 1, 3, 0, 2, 5, 1, 0, 8, 4, 2]
        .into_iter()
        .map(|count| {
            let txs = (0..count)
                .map(|_| {
                    nonce += 1;
                    tx(nonce, if nonce == 4 { "fail" } else { "act" })
                })
                .collect();
            api.ledger.commit(txs, false)
        })
        .collect();
    let headers = blocks.iter().map(|c| c.block.header.clone()).collect();
    (headers, blocks)
}

fn hash(value: &Value) -> Hash {
    let bytes = hex::decode(value.as_str().unwrap()).unwrap();
    bytes.try_into().unwrap()
}

fn path(value: &Value) -> Vec<Hash> {
    value.as_array().unwrap().iter().map(hash).collect()
}

fn assert_head(value: &Value, header: &BlockHeader) {
    assert_eq!(
        value,
        &json!({
            "height": header.height,
            "block_id": header.id().to_string(),
            "log_size": header.log_size,
            "log_root": header.log_root.to_string(),
        })
    );
}

#[tokio::test]
async fn consistency_proofs_verify_between_every_pair_of_headers() {
    let api = Harness::new();
    let (headers, _) = chain(&api);
    assert_eq!(headers.last().unwrap().log_size, 26);
    let mut checked = 0;
    for old in &headers {
        for new in headers.iter().filter(|new| new.height >= old.height) {
            let url = format!(
                "/v1/proofs/consistency?from={}&to={}",
                old.height, new.height
            );
            let (status, body) = api.get(&url).await;
            if old.log_size == 0 {
                assert_error(status, &body, StatusCode::UNPROCESSABLE_ENTITY, "empty_log");
                assert_eq!(body["error"]["field"], "from");
                continue;
            }
            assert_eq!(status, StatusCode::OK, "{url}: {body}");
            assert_head(&body["from"], old);
            assert_head(&body["to"], new);
            let proof = ConsistencyProof {
                old_size: body["proof"]["old_size"].as_u64().unwrap(),
                new_size: body["proof"]["new_size"].as_u64().unwrap(),
                path: path(&body["proof"]["path"]),
            };
            let bytes = hex::decode(body["proof_hex"].as_str().unwrap()).unwrap();
            assert_eq!(
                decode_exact::<ConsistencyProof>(&bytes, bytes.len()),
                Ok(proof.clone())
            );
            // Checked against the headers, not against the answer's own roots.
            assert_eq!(
                (proof.old_size, proof.new_size),
                (old.log_size, new.log_size)
            );
            proof
                .verify(&old.log_root.0, &new.log_root.0)
                .unwrap_or_else(|error| panic!("{url}: {error}"));
            if old.log_size < new.log_size {
                assert!(proof.verify(&new.log_root.0, &new.log_root.0).is_err());
            }
            checked += 1;
        }
    }
    // 10 non-empty starting heights.
    assert_eq!(checked, (1..=10).sum::<i32>());
}

#[tokio::test]
async fn log_inclusion_proofs_verify_at_every_later_header() {
    let api = Harness::new();
    let (headers, blocks) = chain(&api);
    let last = headers.last().unwrap();
    let mut leaf_index = 0u64;
    for committed in &blocks {
        let height = committed.block.header.height;
        for (position, id) in committed.block.tx_ids().iter().enumerate() {
            let leaf = courtledger_merkle::leaf_hash(id.as_bytes());
            let ats = headers
                .iter()
                .filter(|header| header.height >= height)
                .map(|header| (Some(header.height), header))
                .chain([(None, last)]);
            for (at, header) in ats {
                let url = match at {
                    Some(at) => format!("/v1/proofs/log-inclusion/{id}?at={at}"),
                    None => format!("/v1/proofs/log-inclusion/0x{id}"),
                };
                let (status, body) = api.get(&url).await;
                assert_eq!(status, StatusCode::OK, "{url}: {body}");
                assert_eq!(body["tx_id"], id.to_string());
                assert_eq!(body["height"], height);
                assert_eq!(body["index"], position);
                assert_eq!(body["leaf_index"], leaf_index);
                assert_eq!(hash(&body["leaf_hash"]), leaf);
                assert_head(&body["at"], header);
                let proof = InclusionProof {
                    leaf_index: body["proof"]["leaf_index"].as_u64().unwrap(),
                    tree_size: body["proof"]["tree_size"].as_u64().unwrap(),
                    path: path(&body["proof"]["path"]),
                };
                let bytes = hex::decode(body["proof_hex"].as_str().unwrap()).unwrap();
                assert_eq!(
                    decode_exact::<InclusionProof>(&bytes, bytes.len()),
                    Ok(proof.clone())
                );
                assert_eq!(
                    (proof.leaf_index, proof.tree_size),
                    (leaf_index, header.log_size)
                );
                proof
                    .verify(&leaf, &header.log_root.0)
                    .unwrap_or_else(|error| panic!("{url}: {error}"));
                assert!(proof.verify(&[0; 32], &header.log_root.0).is_err());
            }
            leaf_index += 1;
        }
    }
    assert_eq!(leaf_index, last.log_size);
}

#[tokio::test]
async fn log_proof_errors_name_what_is_wrong() {
    let api = Harness::new();
    let (_, blocks) = chain(&api);
    const BAD: StatusCode = StatusCode::BAD_REQUEST;
    const MISSING: StatusCode = StatusCode::NOT_FOUND;
    const NO_PROOF: StatusCode = StatusCode::UNPROCESSABLE_ENTITY;
    // One line per case reads as a table.
    #[rustfmt::skip]
    let cases: [(&str, StatusCode, &str, Option<&str>); 17] = [
        ("consistency?from=3", BAD, "missing_parameter", Some("to")),
        ("consistency?to=3", BAD, "missing_parameter", Some("from")),
        ("consistency?from=5&to=4", BAD, "invalid_range", Some("from")),
        ("consistency?from=x&to=4", BAD, "invalid_parameter", Some("from")),
        ("consistency?from=3&to=4&to=5", BAD, "repeated_parameter", Some("to")),
        ("consistency?from=3&to=4&at=5", BAD, "unknown_parameter", Some("at")),
        ("consistency?from=3&to=13", MISSING, "unknown_block", Some("to")),
        ("consistency?from=0&to=3", MISSING, "unknown_block", Some("from")),
        ("consistency?from=1&to=12", NO_PROOF, "empty_log", Some("from")),
        ("consistency?from=2&to=2", NO_PROOF, "empty_log", Some("from")),
        ("log-inclusion/nothex", BAD, "invalid_id", Some("tx_id")),
        ("log-inclusion/{unknown}", MISSING, "unknown_tx", None),
        ("log-inclusion/{late}?at=9", NO_PROOF, "not_in_log", Some("at")),
        ("log-inclusion/{late}?at=13", MISSING, "unknown_block", Some("at")),
        ("log-inclusion/{late}?at=", BAD, "invalid_parameter", Some("at")),
        ("log-inclusion/{late}?from=1", BAD, "unknown_parameter", Some("from")),
        ("consistency?from=3&to=3", StatusCode::OK, "", None),
    ];
    let late = blocks[9].block.txs[0].id().to_string();
    for (url, expected, code, field) in cases {
        let url = format!("/v1/proofs/{url}")
            .replace("{unknown}", &sha256(b"never").to_string())
            .replace("{late}", &late);
        let (status, body) = api.get(&url).await;
        if expected == StatusCode::OK {
            // The same log on both sides: an empty path.
            assert_eq!(status, StatusCode::OK, "{body}");
            assert_eq!(body["proof"]["path"], json!([]));
            continue;
        }
        assert_error(status, &body, expected, code);
        assert_eq!(body["error"]["field"], json!(field), "{url}: {body}");
    }
}
