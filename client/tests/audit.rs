//! The chain audit's checks without a network: a small chain of certified blocks (fixed keys,
//! made-up transaction ids), rendered as the node's block JSON (`GET /v1/blocks`), passes; each
//! way of breaking one block is refused at that block's height by the check that names it. Most
//! breaks are certified (the validators signed the bad header), so only the named rule stops
//! them; the others change the node's JSON after the fact.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use courtledger_client::audit::check::{
    frontier_from_consistency, parse_block, AuditFailure, Auditor, BlockRecord, LogState, Tip,
    CHECKS,
};
use courtledger_codec::Encode;
use courtledger_crypto::{sha256, ChainId, Digest, SigningKey};
use courtledger_merkle::{self as merkle, ConsistencyProof, Frontier};
use courtledger_types::peer_id::peer_id_of;
use courtledger_types::{
    BlockHeader, CommitCertificate, CommitSignature, Genesis, Receipt, SignedTransaction,
    Transaction,
};
use serde_json::{json, Value};

fn key(seed: u8) -> SigningKey {
    SigningKey::from_seed(&[seed; 32])
}

fn genesis() -> Genesis {
    let courts = ["0000", "京", "京01", "京0105"];
    let validators: Vec<Value> = courts
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
        "format_version": 1, "chain_name": "audit-test", "genesis_time": "2026-03-01T00:00:00Z",
        "courts": [
            { "code": "0000", "name": "Supreme People's Court", "level": "Supreme" },
            { "code": "京", "name": "Beijing High People's Court", "level": "High", "parent": "0000" },
            { "code": "京01", "name": "Beijing No. 1 Intermediate People's Court", "level": "Intermediate", "parent": "京" },
            { "code": "京0105", "name": "Beijing Chaoyang District People's Court", "level": "Basic", "parent": "京01" },
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

/// What a block is made of before it is certified.
#[derive(Debug, Clone)]
struct Parts {
    header: BlockHeader,
    tx_ids: Vec<Digest>,
    codes: Vec<u16>,
    signers: Vec<u16>,
}

/// A certified block and its JSON.
struct Built {
    header: BlockHeader,
    certificate: CommitCertificate,
    json: Value,
}

fn certify(genesis: &Genesis, header: &BlockHeader, signers: &[u16]) -> CommitCertificate {
    let mut certificate = CommitCertificate {
        height: header.height,
        round: 0,
        block_id: header.id(),
        signatures: Vec::new(),
    };
    for &index in signers {
        let vote = certificate
            .precommit(genesis.validator_set(), index)
            .unwrap();
        certificate.signatures.push(CommitSignature {
            validator_index: index,
            signature: vote
                .sign(&key(u8::try_from(index + 1).unwrap()), &genesis.chain_id())
                .signature,
        });
    }
    certificate
}

/// The node's block JSON (`node/src/api/blocks.rs`).
fn block_json(
    header: &BlockHeader,
    tx_ids: &[Digest],
    codes: &[u16],
    cert: &CommitCertificate,
) -> Value {
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
        "tx_ids": tx_ids.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "receipt_codes": codes,
        "header_hex": hex::encode(header.to_bytes()),
        "certificate": {
            "round": cert.round,
            "signers": cert.signatures.iter().map(|s| s.validator_index).collect::<Vec<_>>(),
            "hex": hex::encode(cert.to_bytes()),
        },
    })
}

const T0: u64 = 1_772_413_200_000;

/// `count` blocks: block `h` holds `h % 4` transactions (so some are empty), certified by
/// validators 0, 1, 3. `change` may alter a block's parts before its roots, id and certificate
/// are computed (`after_roots`: after the roots, to break them).
fn chain(
    count: u64,
    mut change: impl FnMut(u64, &mut Parts),
    mut after_roots: impl FnMut(u64, &mut Parts),
) -> (Genesis, Vec<Built>) {
    let genesis = genesis();
    let chain_id = genesis.chain_id();
    let set = genesis.validator_set().hash();
    let mut frontier = Frontier::new();
    let mut parent = chain_id.0;
    let mut built = Vec::new();
    for height in 1..=count {
        let n = u32::try_from(height % 4).unwrap();
        let tx_ids: Vec<Digest> = (0..n)
            .map(|i| sha256(format!("tx {height}.{i}").as_bytes()))
            .collect();
        let codes: Vec<u16> = (0..n).map(|i| if i == 1 { 5 } else { 0 }).collect();
        let mut parts = Parts {
            header: BlockHeader {
                version: 1,
                chain_id,
                height,
                time_ms: T0 + 1000 * height,
                parent_id: parent,
                proposer: key(u8::try_from(height % 4 + 1).unwrap()).public_key(),
                tx_count: n,
                tx_root: Digest([0; 32]),
                results_root: Digest([0; 32]),
                log_size: 0,
                log_root: Digest([0; 32]),
                state_root: sha256(format!("state {height}").as_bytes()),
                validators_hash: set,
                next_validators_hash: set,
            },
            tx_ids,
            codes,
            signers: vec![0, 1, 3],
        };
        change(height, &mut parts);
        let leaves: Vec<merkle::Hash> = parts
            .tx_ids
            .iter()
            .map(|id| merkle::leaf_hash(id.as_bytes()))
            .collect();
        parts.header.tx_root = Digest(merkle::root(&leaves));
        let receipts: Vec<merkle::Hash> = parts
            .tx_ids
            .iter()
            .zip(&parts.codes)
            .zip(0u32..)
            .map(|((tx_id, code), index)| {
                merkle::leaf_hash(
                    &Receipt {
                        tx_id: *tx_id,
                        index,
                        height: parts.header.height,
                        code: *code,
                    }
                    .to_bytes(),
                )
            })
            .collect();
        parts.header.results_root = Digest(merkle::root(&receipts));
        for leaf in &leaves {
            frontier.append(*leaf);
        }
        parts.header.log_size = frontier.size();
        parts.header.log_root = Digest(frontier.root());
        after_roots(height, &mut parts);
        let certificate = certify(&genesis, &parts.header, &parts.signers);
        parent = parts.header.id();
        built.push(Built {
            json: block_json(&parts.header, &parts.tx_ids, &parts.codes, &certificate),
            header: parts.header,
            certificate,
        });
    }
    (genesis, built)
}

fn plain(count: u64) -> (Genesis, Vec<Built>) {
    chain(count, |_, _| {}, |_, _| {})
}

/// The node's page of all `blocks`, audited from genesis.
fn audit(genesis: &Genesis, blocks: &[Value]) -> Result<Auditor, AuditFailure> {
    let records: Vec<Result<BlockRecord, AuditFailure>> = blocks
        .iter()
        .zip(1u64..)
        .map(|(block, height)| parse_block(block, height))
        .collect();
    let mut auditor = Auditor::from_genesis(genesis);
    auditor.check_page(&records)?;
    Ok(auditor)
}

fn jsons(blocks: &[Built]) -> Vec<Value> {
    blocks.iter().map(|b| b.json.clone()).collect()
}

fn expect(result: Result<Auditor, AuditFailure>, height: u64, check: &str) {
    let failure = match result {
        Ok(_) => panic!("expected `{check}` at {height}, the audit passed"),
        Err(failure) => failure,
    };
    assert_eq!(
        (failure.height, failure.check),
        (height, check),
        "{failure}"
    );
    assert!(CHECKS.contains(&failure.check));
    assert!(!failure.reason.is_empty());
}

#[test]
fn a_certified_chain_passes_every_check() {
    let (genesis, blocks) = plain(9);
    let auditor = audit(&genesis, &jsons(&blocks)).unwrap();
    let tip = auditor.tip();
    assert_eq!(tip.height, 9);
    assert_eq!(tip.id, blocks[8].header.id());
    assert_eq!(auditor.signatures, 27);
    assert_eq!(auditor.batches, 1);
    match auditor.log() {
        LogState::Frontier(frontier) => {
            assert_eq!(frontier.size(), blocks[8].header.log_size);
            assert_eq!(Digest(frontier.root()), blocks[8].header.log_root);
        }
        LogState::Fixed { .. } => panic!("a frontier from genesis"),
    }
    // Page by page gives the same.
    let mut auditor = Auditor::from_genesis(&genesis);
    for (chunk, start) in jsons(&blocks).chunks(4).zip((1u64..).step_by(4)) {
        let records: Vec<_> = chunk
            .iter()
            .zip(start..)
            .map(|(b, h)| parse_block(b, h))
            .collect();
        auditor.check_page(&records).unwrap();
    }
    assert_eq!(auditor.tip().height, 9);
    assert_eq!(auditor.batches, 3);
}

/// Certified breaks: the validators signed a header that breaks a rule at block 3.
#[test]
fn each_certified_break_is_refused_by_its_check() {
    type Change = fn(&mut Parts);
    let before_roots: Vec<(&str, Change)> = vec![
        ("chain_id", |p| {
            p.header.chain_id = ChainId(sha256(b"another chain"))
        }),
        ("height", |p| p.header.height = 4),
        ("parent_id", |p| p.header.parent_id.0[0] ^= 1),
        ("time", |p| p.header.time_ms = T0 + 2000),
        ("certificate_quorum", |p| p.signers = vec![0, 3]),
        ("certificate_quorum", |p| p.signers = vec![]),
        ("validators_hash", |p| p.header.validators_hash.0[0] ^= 1),
        ("next_validators_hash", |p| {
            p.header.next_validators_hash.0[0] ^= 1;
        }),
        ("proposer", |p| p.header.proposer = key(99).public_key()),
    ];
    for (check, change) in before_roots {
        let (genesis, blocks) = chain(
            5,
            |h, p| {
                if h == 3 {
                    change(p)
                }
            },
            |_, _| {},
        );
        expect(audit(&genesis, &jsons(&blocks)), 3, check);
    }
    let after_roots: Vec<(&str, Change)> = vec![
        ("tx_count", |p| p.header.tx_count += 1),
        ("tx_root", |p| p.header.tx_root.0[0] ^= 1),
        ("results_root", |p| p.header.results_root.0[0] ^= 1),
        ("log_size", |p| p.header.log_size += 1),
        ("log_root", |p| p.header.log_root.0[0] ^= 1),
    ];
    for (check, change) in after_roots {
        let (genesis, blocks) = chain(
            5,
            |_, _| {},
            |h, p| {
                if h == 3 {
                    change(p)
                }
            },
        );
        expect(audit(&genesis, &jsons(&blocks)), 3, check);
    }
}

/// Replaces block `index`'s JSON field `name` (a path of keys).
fn set(blocks: &mut [Value], index: usize, path: &[&str], value: Value) {
    let mut target = &mut blocks[index];
    for key in path {
        target = &mut target[*key];
    }
    *target = value;
}

/// The certificate of block 3, changed, in the JSON (round and signers kept consistent).
fn with_certificate(blocks: &[Built], change: impl FnOnce(&mut CommitCertificate)) -> Vec<Value> {
    let mut json = jsons(blocks);
    let mut certificate = blocks[2].certificate.clone();
    change(&mut certificate);
    set(
        &mut json,
        2,
        &["certificate", "hex"],
        json!(hex::encode(certificate.to_bytes())),
    );
    set(
        &mut json,
        2,
        &["certificate", "round"],
        json!(certificate.round),
    );
    let signers: Vec<u16> = certificate
        .signatures
        .iter()
        .map(|s| s.validator_index)
        .collect();
    set(&mut json, 2, &["certificate", "signers"], json!(signers));
    json
}

#[test]
fn each_broken_certificate_is_refused_by_its_check() {
    let (genesis, blocks) = plain(5);
    type Change = fn(&mut CommitCertificate);
    let cases: Vec<(&str, Change)> = vec![
        ("certificate_height", (|c| c.height = 4)),
        ("certificate_block_id", (|c| c.block_id.0[0] ^= 1)),
        (
            "certificate_signer_order",
            (|c| c.signatures[2] = c.signatures[1]),
        ),
        (
            "certificate_unknown_signer",
            (|c| c.signatures[2].validator_index = 4),
        ),
        (
            "certificate_quorum",
            (|c| {
                c.signatures.pop();
            }),
        ),
        (
            "certificate_signature",
            (|c| c.signatures[1].signature.0[3] ^= 1),
        ),
        ("certificate_signature", (|c| c.round = 1)),
    ];
    for (check, change) in cases {
        expect(
            audit(&genesis, &with_certificate(&blocks, change)),
            3,
            check,
        );
    }
}

/// The node's JSON changed after the fact (nothing re-certified).
#[test]
fn each_altered_answer_is_refused_by_its_check() {
    let (genesis, blocks) = plain(5);
    let block3 = &blocks[2];
    let other_id = blocks[1].header.id().to_string();
    let cases: Vec<(&str, &[&str], Value)> = vec![
        ("format", &["header_hex"], json!("not hex")),
        ("format", &["header_hex"], json!("00")),
        ("format", &["certificate", "hex"], json!("0011")),
        ("format", &["tx_ids"], Value::Null),
        ("format", &["tx_ids"], json!(["abc"])),
        ("format", &["receipt_codes"], json!([0, 70000, 0])),
        ("format", &["id"], json!(42)),
        (
            "header_fields",
            &["time_ms"],
            json!(block3.header.time_ms + 1),
        ),
        ("header_fields", &["height"], json!(4)),
        ("header_fields", &["tx_root"], json!(other_id)),
        ("header_fields", &["log_size"], json!(0)),
        (
            "header_fields",
            &["proposer"],
            json!(key(99).public_key().to_string()),
        ),
        (
            "header_fields",
            &["certificate", "signers"],
            json!([0, 1, 2]),
        ),
        ("header_fields", &["certificate", "round"], json!(1)),
        ("block_id", &["id"], json!(other_id)),
        (
            "tx_count",
            &["tx_ids"],
            json!([block3.json["tx_ids"][0], block3.json["tx_ids"][1]]),
        ),
        ("tx_count", &["receipt_codes"], json!([0, 5, 0, 0])),
        (
            "tx_root",
            &["tx_ids"],
            json!([
                block3.json["tx_ids"][1],
                block3.json["tx_ids"][0],
                block3.json["tx_ids"][2]
            ]),
        ),
        (
            "tx_root",
            &["tx_ids"],
            json!([block3.json["tx_ids"][0], block3.json["tx_ids"][1], other_id]),
        ),
        ("results_root", &["receipt_codes"], json!([0, 0, 0])),
        ("results_root", &["receipt_codes"], json!([0, 5, 9])),
    ];
    for (check, path, value) in cases {
        let mut json = jsons(&blocks);
        set(&mut json, 2, path, value.clone());
        expect(audit(&genesis, &json), 3, check);
    }
    // A block left out, or the same block twice.
    let mut json = jsons(&blocks);
    json.remove(2);
    expect(audit(&genesis, &json), 3, "height");
    let mut json = jsons(&blocks);
    json.insert(2, json[1].clone());
    expect(audit(&genesis, &json), 3, "height");
}

#[test]
fn the_lowest_failing_block_is_reported_first() {
    // A bad signature in block 2 and a bad tx root in block 4 of the same page: block 2.
    let (genesis, blocks) = plain(5);
    let mut json = jsons(&blocks);
    let mut certificate = blocks[1].certificate.clone();
    certificate.signatures[0].signature.0[9] ^= 1;
    set(
        &mut json,
        1,
        &["certificate", "hex"],
        json!(hex::encode(certificate.to_bytes())),
    );
    set(
        &mut json,
        3,
        &["tx_root"],
        json!(blocks[0].header.id().to_string()),
    );
    expect(audit(&genesis, &json), 2, "certificate_signature");
    // Within a block the signatures come last: block 3 with a bad signature and a bad
    // results root reports the root.
    let mut json = with_certificate(&blocks, |c| c.signatures[0].signature.0[9] ^= 1);
    set(&mut json, 2, &["receipt_codes"], json!([0, 0, 0]));
    expect(audit(&genesis, &json), 3, "results_root");
    // A block that does not decode, after a bad signature: the signature.
    let mut json = with_certificate(&blocks, |c| c.signatures[0].signature.0[9] ^= 1);
    set(&mut json, 3, &["header_hex"], json!("zz"));
    expect(audit(&genesis, &json), 3, "certificate_signature");
}

#[test]
fn an_audit_resumes_from_a_certified_block_with_the_frontier_of_a_consistency_proof() {
    let (genesis, blocks) = plain(9);
    let json = jsons(&blocks);
    // Start after block 5 (log of 1+2+3+0+1 = 7 leaves, not a power of two).
    let anchor = &blocks[4].header;
    assert_eq!(anchor.log_size, 7);
    let leaves: Vec<merkle::Hash> = (1..=9u64)
        .flat_map(|h| {
            (0..h % 4).map(move |i| {
                merkle::leaf_hash(sha256(format!("tx {h}.{i}").as_bytes()).as_bytes())
            })
        })
        .collect();
    let proof = ConsistencyProof::prove(&leaves, anchor.log_size).unwrap();
    let frontier =
        frontier_from_consistency(anchor.log_size, &anchor.log_root, Some(&proof)).unwrap();
    let tip = Tip {
        height: 5,
        id: anchor.id(),
        time_ms: anchor.time_ms,
    };
    let records: Vec<_> = json[5..]
        .iter()
        .zip(6u64..)
        .map(|(b, h)| parse_block(b, h))
        .collect();
    let mut auditor = Auditor::resume(&genesis, tip, LogState::Frontier(frontier));
    auditor.check_page(&records).unwrap();
    assert_eq!(auditor.tip().id, blocks[8].header.id());
    // A wrong frontier is caught at the first block that adds a leaf (block 6 adds 2).
    let mut bad = Frontier::new();
    for leaf in &leaves[1..8] {
        bad.append(*leaf);
    }
    let mut auditor = Auditor::resume(&genesis, tip, LogState::Frontier(bad));
    assert_eq!(auditor.check_page(&records).unwrap_err().check, "log_root");
    // A fixed log (the audited range adds nothing) refuses a block that adds leaves.
    let mut auditor = Auditor::resume(
        &genesis,
        tip,
        LogState::Fixed {
            size: anchor.log_size,
            root: anchor.log_root,
        },
    );
    assert_eq!(auditor.check_page(&records).unwrap_err().check, "log_size");
}

// ---- transactions (`GET /v1/blocks?txs=true`) ---------------------------------------------

/// A certified chain whose blocks hold real signed transactions (block `h`: `h % 4`, signed by
/// key 9 under the chain id), and their JSON with `txs`. `spoil` may alter a transaction (by its
/// height and position) before its id goes into the block, so that the block is certified with it.
fn chain_with_txs(
    count: u64,
    mut spoil: impl FnMut(u64, u32, &mut SignedTransaction),
) -> (Genesis, Vec<Built>, Vec<Vec<SignedTransaction>>) {
    let chain_id = genesis().chain_id();
    let mut all: Vec<Vec<SignedTransaction>> = Vec::new();
    let (genesis, mut blocks) = chain(
        count,
        |height, parts| {
            let txs: Vec<SignedTransaction> = (0..parts.header.tx_count)
                .map(|i| {
                    let mut tx = Transaction {
                        signer: key(9).public_key(),
                        nonce: height * 10 + u64::from(i),
                        payload: format!("act {height}.{i}").into_bytes(),
                    }
                    .sign(&key(9), &chain_id);
                    spoil(height, i, &mut tx);
                    tx
                })
                .collect();
            parts.tx_ids = txs.iter().map(SignedTransaction::id).collect();
            all.push(txs);
        },
        |_, _| {},
    );
    for (block, txs) in blocks.iter_mut().zip(&all) {
        block.json["txs"] = json!(txs
            .iter()
            .map(|tx| hex::encode(tx.to_bytes()))
            .collect::<Vec<_>>());
    }
    (genesis, blocks, all)
}

/// Like [`audit`], requiring the transactions as `audit chain` does.
fn audit_txs(genesis: &Genesis, blocks: &[Value]) -> Result<Auditor, AuditFailure> {
    let records: Vec<Result<BlockRecord, AuditFailure>> = blocks
        .iter()
        .zip(1u64..)
        .map(|(block, height)| parse_block(block, height))
        .collect();
    let mut auditor = Auditor::from_genesis(genesis).with_transactions();
    auditor.check_page(&records)?;
    Ok(auditor)
}

fn expect_tx(result: Result<Auditor, AuditFailure>, height: u64, index: u32, check: &str) {
    let failure = match result {
        Ok(_) => panic!("expected `{check}` at {height}.{index}, the audit passed"),
        Err(failure) => failure,
    };
    assert_eq!(
        (failure.height, failure.index, failure.check),
        (height, Some(index), check),
        "{failure}"
    );
    assert!(CHECKS.contains(&failure.check));
    assert!(failure
        .to_string()
        .contains(&format!("transaction {index}")));
}

#[test]
fn a_chain_with_transactions_passes_and_every_signature_is_verified() {
    let (genesis, blocks, txs) = chain_with_txs(9, |_, _, _| {});
    let auditor = audit_txs(&genesis, &jsons(&blocks)).unwrap();
    assert_eq!(auditor.tip().height, 9);
    let count = txs.iter().map(Vec::len).sum::<usize>();
    // Blocks 1 to 9 hold 1, 2, 3, 0, 1, 2, 3, 0 and 1.
    assert_eq!(count, 13);
    assert_eq!(auditor.tx_signatures, u64::try_from(count).unwrap());
    assert_eq!(
        (auditor.signatures, auditor.batches, auditor.tx_batches),
        (27, 1, 1)
    );

    // `audit chain` requires them: a block without `txs` is malformed.
    let mut json = jsons(&blocks);
    json[4].as_object_mut().unwrap().remove("txs");
    expect(audit_txs(&genesis, &json), 5, "format");
    // Fewer transactions than ids.
    let mut json = jsons(&blocks);
    json[2]["txs"].as_array_mut().unwrap().pop();
    expect(audit_txs(&genesis, &json), 3, "tx_count");
    // One that does not decode names its position.
    let mut json = jsons(&blocks);
    json[2]["txs"][1] = json!("00ff");
    expect_tx(audit_txs(&genesis, &json), 3, 1, "format");
}

#[test]
fn a_transaction_with_a_bad_signature_fails_tx_signature() {
    // Certified: the validators signed a block holding a transaction whose signature is bad
    // (its id, over its bytes, is the one listed); only its signature check stops it.
    let (genesis, blocks, _) = chain_with_txs(6, |height, index, tx| {
        if (height, index) == (6, 1) {
            tx.signature.0[5] ^= 1;
        }
    });
    let json = jsons(&blocks);
    expect_tx(audit_txs(&genesis, &json), 6, 1, "tx_signature");
    let failure = audit_txs(&genesis, &json).unwrap_err();
    assert!(
        failure.reason.contains(&key(9).public_key().to_string()),
        "{failure}"
    );

    // A transaction signed for another chain fails likewise.
    let other = ChainId(sha256(b"another chain"));
    let (genesis, blocks, _) = chain_with_txs(3, |height, index, tx| {
        if (height, index) == (2, 0) {
            *tx = tx.tx.clone().sign(&key(9), &other);
        }
    });
    expect_tx(audit_txs(&genesis, &jsons(&blocks)), 2, 0, "tx_signature");

    // The lowest block first, whichever signature it is: a bad precommit in block 5 after the
    // bad transaction in block 2 reports block 2; a bad precommit in block 2 comes first.
    let (genesis, blocks, _) = chain_with_txs(6, |height, index, tx| {
        if (height, index) == (2, 1) {
            tx.signature.0[40] ^= 1;
        }
    });
    let mut json = jsons(&blocks);
    let mut certificate = blocks[4].certificate.clone();
    certificate.signatures[1].signature.0[9] ^= 1;
    set(
        &mut json,
        4,
        &["certificate", "hex"],
        json!(hex::encode(certificate.to_bytes())),
    );
    expect_tx(audit_txs(&genesis, &json), 2, 1, "tx_signature");
    let mut json = jsons(&blocks);
    let mut certificate = blocks[1].certificate.clone();
    certificate.signatures[1].signature.0[9] ^= 1;
    set(
        &mut json,
        1,
        &["certificate", "hex"],
        json!(hex::encode(certificate.to_bytes())),
    );
    expect(audit_txs(&genesis, &json), 2, "certificate_signature");
}

#[test]
fn a_transaction_that_is_not_the_listed_one_fails_tx_id() {
    let (genesis, blocks, txs) = chain_with_txs(7, |_, _, _| {});
    // The node swaps two transactions of block 7 (3 of them): position 0 is not its id.
    let mut json = jsons(&blocks);
    let swapped = [&txs[6][1], &txs[6][0], &txs[6][2]]
        .map(|tx| hex::encode(tx.to_bytes()))
        .to_vec();
    json[6]["txs"] = json!(swapped);
    expect_tx(audit_txs(&genesis, &json), 7, 0, "tx_id");
    // A validly signed transaction that is not in the block, in its place.
    let mut json = jsons(&blocks);
    let stranger = Transaction {
        signer: key(9).public_key(),
        nonce: 999,
        payload: b"not in the block".to_vec(),
    }
    .sign(&key(9), &genesis.chain_id());
    json[5]["txs"][1] = json!(hex::encode(stranger.to_bytes()));
    expect_tx(audit_txs(&genesis, &json), 6, 1, "tx_id");
    // The id check comes before the signatures: a bad precommit in the same block still
    // reports `tx_id` (the signatures are the block's last checks).
    let mut certificate = blocks[5].certificate.clone();
    certificate.signatures[0].signature.0[3] ^= 1;
    set(
        &mut json,
        5,
        &["certificate", "hex"],
        json!(hex::encode(certificate.to_bytes())),
    );
    expect_tx(audit_txs(&genesis, &json), 6, 1, "tx_id");
}

// ---- validator-set changes -----------------------------------------------------------------

use courtledger_ledger::Code;
use courtledger_proof::links::follow;
use courtledger_proof::SetLink;
use courtledger_types::{
    CourtCode, SetChange, SetMember, SignedSetChange, Validator, ValidatorSet,
};

/// The genesis set (seeds 1 to 4) or the five with 京0108's validator (seed 5).
fn keyed(seeds: &[u8]) -> (ValidatorSet, Vec<u8>) {
    let set = ValidatorSet::new(
        seeds
            .iter()
            .map(|seed| Validator {
                public_key: key(*seed).public_key(),
                voting_power: 1,
            })
            .collect(),
    )
    .unwrap();
    (set, seeds.to_vec())
}

fn certify_by(
    chain_id: &ChainId,
    (set, seeds): &(ValidatorSet, Vec<u8>),
    header: &BlockHeader,
    signers: &[u16],
) -> CommitCertificate {
    let mut certificate = CommitCertificate {
        height: header.height,
        round: 0,
        block_id: header.id(),
        signatures: Vec::new(),
    };
    for &index in signers {
        let vote = certificate.precommit(set, index).unwrap();
        certificate.signatures.push(CommitSignature {
            validator_index: index,
            signature: vote
                .sign(&key(seeds[usize::from(index)]), chain_id)
                .signature,
        });
    }
    certificate
}

/// The change adding 京0108's validator (seed 5) at `activation`, approved by genesis
/// validators `approvers`.
fn add_fifth(genesis: &Genesis, activation: u64, approvers: &[u16]) -> SignedSetChange {
    let mut members = genesis.set_members();
    members.push(SetMember {
        court_code: CourtCode::new("京0108").unwrap(),
        validator: Validator {
            public_key: key(5).public_key(),
            voting_power: 1,
        },
        p2p_address: "127.0.0.1:5".into(),
    });
    let change = SetChange {
        from_set_hash: genesis.validator_set().hash(),
        activation_height: activation,
        members,
    };
    let approvals = approvers
        .iter()
        .map(|&i| change.approve(&key(u8::try_from(i + 1).unwrap()), &genesis.chain_id(), i))
        .collect();
    SignedSetChange { change, approvals }
}

fn submit(genesis: &Genesis, seed: u8, nonce: u64, payload: Vec<u8>) -> SignedTransaction {
    Transaction {
        signer: key(seed).public_key(),
        nonce,
        payload,
    }
    .sign(&key(seed), &genesis.chain_id())
}

/// A transaction (and its receipt code) appended to the block at a height.
type Extra = (u64, SignedTransaction, u16);

/// A change to a header before it is certified.
type HeaderChange = fn(&mut BlockHeader);

/// What a test changes in the set-change chain.
#[derive(Default)]
struct Spoil {
    /// Extra transactions appended to blocks.
    extra: Vec<Extra>,
    /// Changes to a header before it is certified, by height.
    header: Option<(u64, HeaderChange)>,
    /// Certifies a block with other signers: (height, set seeds, signers).
    certificate: Option<(u64, Vec<u8>, Vec<u16>)>,
}

/// Seven blocks with real transactions (block `h`: `h % 4` by key 9, as [`chain_with_txs`]);
/// in block 2 the validator of 0000 records the change adding 京0108's validator from height
/// 4 (approved by genesis validators 0, 1 and 2). Headers name the genesis set up to block 3
/// and the five from block 4; block 3 announces the five as the next set. Blocks 1 to 3 are
/// certified by genesis validators 0, 1 and 3, blocks 4 on by the five's 0, 1, 2 and 4 (京0108
/// among them), and block 5 is proposed by 京0108's validator.
fn set_chain(spoil: &Spoil) -> (Genesis, Vec<Built>, SignedSetChange) {
    let genesis = genesis();
    let chain_id = genesis.chain_id();
    let change = add_fifth(&genesis, 4, &[0, 1, 2]);
    let g = keyed(&[1, 2, 3, 4]);
    let five = keyed(&[1, 2, 3, 4, 5]);
    let mut frontier = Frontier::new();
    let mut parent = chain_id.0;
    let mut built = Vec::new();
    for height in 1..=7u64 {
        let mut txs: Vec<SignedTransaction> = (0..height % 4)
            .map(|i| {
                submit(
                    &genesis,
                    9,
                    height * 10 + i,
                    format!("act {height}.{i}").into_bytes(),
                )
            })
            .collect();
        let mut codes: Vec<u16> = vec![0; txs.len()];
        if height == 2 {
            txs.push(submit(&genesis, 1, 1, change.to_payload()));
            codes.push(0);
        }
        for (h, tx, code) in &spoil.extra {
            if *h == height {
                txs.push(tx.clone());
                codes.push(*code);
            }
        }
        let tx_ids: Vec<Digest> = txs.iter().map(SignedTransaction::id).collect();
        let leaves: Vec<merkle::Hash> = tx_ids
            .iter()
            .map(|id| merkle::leaf_hash(id.as_bytes()))
            .collect();
        let receipts: Vec<merkle::Hash> = tx_ids
            .iter()
            .zip(&codes)
            .zip(0u32..)
            .map(|((tx_id, code), index)| {
                merkle::leaf_hash(
                    &Receipt {
                        tx_id: *tx_id,
                        index,
                        height,
                        code: *code,
                    }
                    .to_bytes(),
                )
            })
            .collect();
        for leaf in &leaves {
            frontier.append(*leaf);
        }
        let mut header = BlockHeader {
            version: 1,
            chain_id,
            height,
            time_ms: T0 + 1000 * height,
            parent_id: parent,
            proposer: key(if height == 5 {
                5
            } else {
                u8::try_from(height % 4 + 1).unwrap()
            })
            .public_key(),
            tx_count: u32::try_from(txs.len()).unwrap(),
            tx_root: Digest(merkle::root(&leaves)),
            results_root: Digest(merkle::root(&receipts)),
            log_size: frontier.size(),
            log_root: Digest(frontier.root()),
            state_root: sha256(format!("state {height}").as_bytes()),
            validators_hash: if height < 4 {
                g.0.hash()
            } else {
                five.0.hash()
            },
            next_validators_hash: if height < 3 {
                g.0.hash()
            } else {
                five.0.hash()
            },
        };
        if let Some((h, change)) = spoil.header {
            if h == height {
                change(&mut header);
            }
        }
        let certificate = match &spoil.certificate {
            Some((h, seeds, signers)) if *h == height => {
                certify_by(&chain_id, &keyed(seeds), &header, signers)
            }
            _ if height < 4 => certify_by(&chain_id, &g, &header, &[0, 1, 3]),
            _ => certify_by(&chain_id, &five, &header, &[0, 1, 2, 4]),
        };
        parent = header.id();
        let mut json = block_json(&header, &tx_ids, &codes, &certificate);
        json["txs"] = json!(txs
            .iter()
            .map(|tx| hex::encode(tx.to_bytes()))
            .collect::<Vec<_>>());
        built.push(Built {
            json,
            header,
            certificate,
        });
    }
    (genesis, built, change)
}

#[test]
fn an_audit_follows_a_validator_set_change() {
    let (genesis, blocks, _) = set_chain(&Spoil::default());
    let auditor = audit_txs(&genesis, &jsons(&blocks)).unwrap();
    assert_eq!(auditor.tip().height, 7);
    assert_eq!(auditor.activated_changes(), 1);
    assert_eq!(auditor.set_hash(), keyed(&[1, 2, 3, 4, 5]).0.hash());
    // 3 precommits in blocks 1 to 3, 4 in blocks 4 to 7.
    assert_eq!(auditor.signatures, 3 * 3 + 4 * 4);
    // Block by block gives the same.
    let mut auditor = Auditor::from_genesis(&genesis).with_transactions();
    for (block, height) in jsons(&blocks).iter().zip(1u64..) {
        auditor.check_page(&[parse_block(block, height)]).unwrap();
    }
    assert_eq!(auditor.activated_changes(), 1);
}

#[test]
fn each_inconsistent_set_change_is_refused_by_its_check() {
    let genesis = genesis();
    let g = [1u8, 2, 3, 4];
    let five = [1u8, 2, 3, 4, 5];
    // Headers: the change not announced in block 3, announced early in block 2, the old set
    // named in block 4 (certified by the five), the new one in block 3.
    let cases: Vec<(Spoil, u64, &str)> = vec![
        (
            Spoil {
                header: Some((3, |h| h.next_validators_hash = h.validators_hash)),
                ..Spoil::default()
            },
            3,
            "next_validators_hash",
        ),
        (
            Spoil {
                header: Some((2, |h| {
                    h.next_validators_hash = keyed(&[1, 2, 3, 4, 5]).0.hash()
                })),
                ..Spoil::default()
            },
            2,
            "next_validators_hash",
        ),
        (
            Spoil {
                header: Some((4, |h| h.validators_hash = keyed(&[1, 2, 3, 4]).0.hash())),
                ..Spoil::default()
            },
            4,
            "validators_hash",
        ),
        (
            Spoil {
                header: Some((3, |h| h.validators_hash = keyed(&[1, 2, 3, 4, 5]).0.hash())),
                ..Spoil::default()
            },
            3,
            "validators_hash",
        ),
        // Certificates: block 4 by the genesis validators (3 of the five's 5 is not a quorum);
        // block 3 by the five (京0108's index 4 is not in the genesis set).
        (
            Spoil {
                certificate: Some((4, g.to_vec(), vec![0, 1, 3])),
                ..Spoil::default()
            },
            4,
            "certificate_quorum",
        ),
        (
            Spoil {
                certificate: Some((3, five.to_vec(), vec![0, 1, 2, 4])),
                ..Spoil::default()
            },
            3,
            "certificate_unknown_signer",
        ),
    ];
    for (spoil, height, check) in cases {
        let (genesis, blocks, _) = set_chain(&spoil);
        expect(audit_txs(&genesis, &jsons(&blocks)), height, check);
    }

    // The recording transactions: each flaw at block 2, naming the transaction's position (2,
    // after block 2's two ordinary ones; 3 for an extra one).
    let chain_id = genesis.chain_id();
    let tx_cases: Vec<(Vec<Extra>, u64, u32, &str)> = vec![
        // Tagged as a set change but not one.
        (
            vec![(3, submit(&genesis, 1, 2, vec![0xC0, 1, 2, 3]), 0)],
            3,
            3,
            "set_change_payload",
        ),
        // Submitted by a key outside the set in force.
        (
            vec![(
                1,
                submit(
                    &genesis,
                    9,
                    99,
                    add_fifth(&genesis, 9, &[0, 1, 2]).to_payload(),
                ),
                0,
            )],
            1,
            1,
            "set_change_admission",
        ),
        // A second change while the first is pending (activation 4, recorded in block 2).
        (
            vec![(
                3,
                submit(
                    &genesis,
                    2,
                    1,
                    add_fifth(&genesis, 9, &[0, 1, 2]).to_payload(),
                ),
                0,
            )],
            3,
            3,
            "set_change_admission",
        ),
        // Approved by two of the four.
        (
            vec![(
                1,
                submit(&genesis, 1, 5, add_fifth(&genesis, 9, &[0, 1]).to_payload()),
                0,
            )],
            1,
            1,
            "set_change_approval",
        ),
        // An approval over another change (its activation height moved after signing).
        (
            vec![(
                1,
                {
                    let mut forged = add_fifth(&genesis, 9, &[0, 1, 2]);
                    forged.change.activation_height = 10;
                    submit(&genesis, 1, 5, forged.to_payload())
                },
                0,
            )],
            1,
            1,
            "set_change_approval",
        ),
        // Recorded in block 1 with activation 9: the chain gives it ok, not deadline_passed.
        (
            vec![(
                1,
                submit(
                    &genesis,
                    1,
                    5,
                    add_fifth(&genesis, 9, &[0, 1, 2]).to_payload(),
                ),
                Code::DeadlinePassed.number(),
            )],
            1,
            1,
            "set_change_receipt",
        ),
        // Activation at its own height: the chain gives it deadline_passed, not ok.
        (
            vec![(
                1,
                submit(
                    &genesis,
                    1,
                    5,
                    add_fifth(&genesis, 1, &[0, 1, 2]).to_payload(),
                ),
                0,
            )],
            1,
            1,
            "set_change_receipt",
        ),
    ];
    for (extra, height, index, check) in tx_cases {
        let (genesis, blocks, _) = set_chain(&Spoil {
            extra,
            ..Spoil::default()
        });
        expect_tx(audit_txs(&genesis, &jsons(&blocks)), height, index, check);
    }
    let _ = chain_id;
}

#[test]
fn a_change_that_came_too_late_changes_nothing() {
    // Block 1 records a change activating at height 1 (already passed): committed as failed
    // (deadline_passed), no set changes, and the later change of block 2 is admitted.
    let genesis = genesis();
    let late = submit(
        &genesis,
        3,
        1,
        add_fifth(&genesis, 1, &[0, 1, 3]).to_payload(),
    );
    let (genesis, blocks, _) = set_chain(&Spoil {
        extra: vec![(1, late, Code::DeadlinePassed.number())],
        ..Spoil::default()
    });
    let auditor = audit_txs(&genesis, &jsons(&blocks)).unwrap();
    assert_eq!(auditor.activated_changes(), 1);
}

#[test]
fn an_audit_from_a_later_block_follows_the_verified_links() {
    let (genesis, blocks, change) = set_chain(&Spoil::default());
    let json = jsons(&blocks);
    let link = SetLink {
        change,
        boundary: blocks[2].header.clone(),
        certificate: blocks[2].certificate.clone(),
    };
    let leaves: Vec<merkle::Hash> = json
        .iter()
        .flat_map(|b| {
            b["tx_ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|id| {
                    let id: Digest = id.as_str().unwrap().parse().unwrap();
                    merkle::leaf_hash(id.as_bytes())
                })
                .collect::<Vec<_>>()
        })
        .collect();
    for anchor_height in [2u64, 3, 4, 5] {
        let anchor = &blocks[usize::try_from(anchor_height - 1).unwrap()].header;
        let proof = ConsistencyProof::prove(&leaves, anchor.log_size).unwrap();
        let frontier =
            frontier_from_consistency(anchor.log_size, &anchor.log_root, Some(&proof)).unwrap();
        let tip = Tip {
            height: anchor_height,
            id: anchor.id(),
            time_ms: anchor.time_ms,
        };
        let records: Vec<_> = json[usize::try_from(anchor_height).unwrap()..]
            .iter()
            .zip(anchor_height + 1..)
            .map(|(b, h)| parse_block(b, h))
            .collect();
        let sets = follow(std::slice::from_ref(&link), &genesis, 7).unwrap();
        let mut auditor =
            Auditor::resume_with_sets(&genesis, tip, LogState::Frontier(frontier.clone()), &sets)
                .with_transactions();
        auditor.check_page(&records).unwrap();
        assert_eq!(auditor.tip().height, 7, "from {anchor_height}");
        assert_eq!(auditor.set_hash(), keyed(&[1, 2, 3, 4, 5]).0.hash());
        // Without the links an audit starting after the recording block does not know the
        // change: block 3 announces a set it cannot explain, or block 4 on is signed by it.
        if anchor_height >= 2 {
            let mut auditor =
                Auditor::resume(&genesis, tip, LogState::Frontier(frontier)).with_transactions();
            let failure = auditor.check_page(&records).unwrap_err();
            let expected = if anchor_height < 3 {
                (3, "next_validators_hash")
            } else {
                (anchor_height + 1, "certificate_unknown_signer")
            };
            assert_eq!((failure.height, failure.check), expected, "{failure}");
        }
    }
}

// ---- re-execution (`audit chain --execute`) ---------------------------------------------

/// Five blocks built by the chain itself with the judicial ledger (so every root, the state
/// root included, is the real one): block 1 records the change adding 京0108's validator from
/// height 4, blocks 2 to 5 are empty; each certified by the set in force. `spoil_state` (a
/// height) replaces that block's state root before it is certified.
fn executed_chain(spoil_state: Option<u64>) -> (Genesis, Vec<Value>) {
    let genesis = genesis();
    let chain_id = genesis.chain_id();
    let app = courtledger_chain::LedgerApp::new(&genesis);
    let ctx = courtledger_chain::ChainContext::from_genesis(&genesis, &app);
    let mut state = courtledger_chain::MemoryState::new();
    let mut parent = courtledger_chain::Parent::genesis(&ctx);
    let change = add_fifth(&genesis, 4, &[0, 1, 2]);
    let mut blocks = Vec::new();
    for height in 1..=5u64 {
        let txs = if height == 1 {
            vec![submit(&genesis, 1, 1, change.to_payload())]
        } else {
            Vec::new()
        };
        let seeds: &[u8] = if height < 4 {
            &[1, 2, 3, 4]
        } else {
            &[1, 2, 3, 4, 5]
        };
        let proposer = key(seeds[usize::try_from(height).unwrap() % seeds.len()]).public_key();
        let (mut block, execution) = courtledger_chain::build_block(
            &ctx,
            &parent,
            &state,
            txs,
            proposer,
            parent.time_ms + 1_000,
        );
        assert_eq!(
            block.txs.len(),
            usize::from(height == 1),
            "the change is admitted"
        );
        if spoil_state == Some(height) {
            block.header.state_root = sha256(b"another state");
        }
        let signers: &[u16] = if height < 4 {
            &[0, 1, 3]
        } else {
            &[0, 1, 2, 4]
        };
        let certificate = certify_by(&chain_id, &keyed(seeds), &block.header, signers);
        let codes: Vec<u16> = execution.receipts.iter().map(|r| r.code).collect();
        let mut json = block_json(&block.header, &block.tx_ids(), &codes, &certificate);
        json["txs"] = json!(block
            .txs
            .iter()
            .map(|tx| hex::encode(tx.to_bytes()))
            .collect::<Vec<_>>());
        blocks.push(json);
        state.apply(&execution.changes);
        parent = courtledger_chain::Parent::of(&block.header);
    }
    (genesis, blocks)
}

fn audit_executing(genesis: &Genesis, blocks: &[Value]) -> Result<Auditor, AuditFailure> {
    let records: Vec<Result<BlockRecord, AuditFailure>> = blocks
        .iter()
        .zip(1u64..)
        .map(|(block, height)| parse_block(block, height))
        .collect();
    let mut auditor = Auditor::from_genesis(genesis).with_execution(genesis);
    auditor.check_page(&records)?;
    Ok(auditor)
}

#[test]
fn re_execution_reproduces_every_block_and_refuses_a_wrong_state_root() {
    let (genesis, blocks) = executed_chain(None);
    let auditor = audit_executing(&genesis, &blocks).unwrap();
    assert!(auditor.executes());
    assert_eq!(auditor.tip().height, 5);
    assert_eq!(auditor.activated_changes(), 1);

    // Certified by the validators, consistent in every other check, but the ledger's rules
    // give another state: only re-execution finds it.
    let (genesis, blocks) = executed_chain(Some(5));
    assert_eq!(
        audit_txs(&genesis, &blocks).unwrap().tip().height,
        5,
        "without re-execution the audit cannot see it"
    );
    expect(audit_executing(&genesis, &blocks), 5, "execution");
}
