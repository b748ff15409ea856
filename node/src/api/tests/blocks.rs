//! `GET /v1/blocks?txs=true`: each block carries its encoded transactions, in block order, and
//! the page stays bounded in bytes.

use courtledger_types::limits::MAX_TX_PAYLOAD_BYTES;

use super::super::{MAX_BLOCK_PAGE_TXS, MAX_BLOCK_PAGE_TX_BYTES};
use super::*;

fn tx_hexes(block: &Value) -> Vec<String> {
    block["txs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tx| tx.as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn pages_carry_each_blocks_transactions_in_block_order() {
    let api = Harness::new();
    let mut nonce = 0;
    let committed: Vec<CommittedBlock> = [0, 3, 1, 5]
        .into_iter()
        .map(|count| {
            let txs = (0..count)
                .map(|_| {
                    nonce += 1;
                    tx(nonce, if nonce == 2 { "fail" } else { "act" })
                })
                .collect();
            api.ledger.commit(txs, false)
        })
        .collect();

    let (status, page) = api.get("/v1/blocks?from=1&limit=10&txs=true").await;
    assert_eq!(status, StatusCode::OK);
    let blocks = page["blocks"].as_array().unwrap();
    assert_eq!(blocks.len(), committed.len());
    for (block, expected) in blocks.iter().zip(&committed) {
        let hexes = tx_hexes(block);
        let wanted: Vec<String> = expected.block.txs.iter().map(tx_hex).collect();
        assert_eq!(hexes, wanted);
        // Each decodes to the transaction whose id the block lists at that position.
        for (hex_text, id) in hexes.iter().zip(block["tx_ids"].as_array().unwrap()) {
            let tx = SignedTransaction::decode(&hex::decode(hex_text).unwrap()).unwrap();
            assert_eq!(&json!(tx.id().to_string()), id);
            tx.verify_signature(&chain_id()).unwrap();
        }
    }
    assert!(page["next_from"].is_null());

    // Without it (or with `false`), the blocks are what they were: no `txs`.
    for query in ["", "&txs=false"] {
        let (status, plain) = api.get(&format!("/v1/blocks?from=1&limit=10{query}")).await;
        assert_eq!(status, StatusCode::OK);
        for (with, without) in blocks.iter().zip(plain["blocks"].as_array().unwrap()) {
            assert!(without.get("txs").is_none());
            let mut with = with.clone();
            with.as_object_mut().unwrap().remove("txs");
            assert_eq!(&with, without);
        }
    }
    // One block, and the same block alone, are unchanged.
    let (_, one) = api.get("/v1/blocks/4").await;
    assert!(one.get("txs").is_none());

    for bad in ["yes", "1", "TRUE", ""] {
        let (status, body) = api.get(&format!("/v1/blocks?txs={bad}")).await;
        assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_parameter");
        assert_eq!(body["error"]["field"], "txs", "{body}");
    }
    let (status, body) = api.get("/v1/blocks?txs=true&txs=true").await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "repeated_parameter");
}

#[tokio::test]
async fn a_page_with_transactions_stops_after_the_byte_bound() {
    let api = Harness::new();
    // Blocks of 24 transactions of ~64 KiB: 1.5 MiB each, so the bound (4 MiB) is reached by the
    // third block, and the page stops after it.
    let payload = "x".repeat(usize::try_from(MAX_TX_PAYLOAD_BYTES).unwrap());
    let per_block = 24u64;
    let block_bytes: usize = (0..5u64)
        .map(|height| {
            let txs: Vec<SignedTransaction> = (0..per_block)
                .map(|n| tx(height * per_block + n, &payload))
                .collect();
            let bytes = txs.iter().map(|tx| tx.to_bytes().len()).sum::<usize>();
            api.ledger.commit(txs, false);
            bytes
        })
        .max()
        .unwrap();
    assert!(
        2 * block_bytes < MAX_BLOCK_PAGE_TX_BYTES && 3 * block_bytes >= MAX_BLOCK_PAGE_TX_BYTES
    );
    assert!(usize::try_from(5 * per_block).unwrap() < MAX_BLOCK_PAGE_TXS);

    let (status, page) = api.get("/v1/blocks?limit=100&txs=true").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["blocks"].as_array().unwrap().len(), 3);
    assert_eq!(page["next_from"], 4);
    let (_, page) = api.get("/v1/blocks?from=4&limit=100&txs=true").await;
    assert_eq!(page["blocks"].as_array().unwrap().len(), 2);
    assert!(page["next_from"].is_null());
    // Without transactions, the byte bound does not apply.
    let (_, page) = api.get("/v1/blocks?limit=100").await;
    assert_eq!(page["blocks"].as_array().unwrap().len(), 5);
}
