//! `courtledger proof get`, `proof verify` and `verify-file`, end to end, on the checked-in
//! proof vectors (`crates/proof/tests/vectors/`). `proof get` talks to a one-shot HTTP stub.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/proof/tests/vectors")
}

fn courtledger(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_courtledger"))
        .args(args)
        .stdin(Stdio::null())
        .env_remove("COURTLEDGER_GENESIS")
        .env_remove("COURTLEDGER_NODE")
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("stdout is not JSON ({error}): {}", stdout(output)))
}

/// The vector `name` written as a binary bundle file in `dir`.
fn bundle(dir: &Path, name: &str) -> String {
    let hex = std::fs::read_to_string(vectors().join(format!("{name}.hex"))).unwrap();
    let path = dir.join(format!("{name}.clproof"));
    std::fs::write(&path, hex::decode(hex.trim()).unwrap()).unwrap();
    path.to_str().unwrap().to_owned()
}

fn vector_file(name: &str) -> String {
    vectors().join(name).to_str().unwrap().to_owned()
}

#[test]
fn verify_says_who_did_what_when_and_who_agreed() {
    let dir = tempfile::tempdir().unwrap();
    let genesis = vector_file("genesis.json");
    let file = bundle(dir.path(), "valid-file-case");
    let out = courtledger(&["proof", "verify", &file, "--genesis", &genesis]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    for expected in [
        "VERIFIED",
        "file_case: filed a case",
        "court: 京0105",
        "complaint: ",
        "outcome  ok",
        "height 2, position 0 of 6",
        "2026-03-02T01:01:00.000Z UTC = 2026-03-02T09:01:00.000+08:00 Beijing",
        "by 3 of 4 validator courts, 3 of 4 voting power (75.0%",
        "0000  power 1",
        "京0105  power 1",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }

    let out = courtledger(&["--json", "proof", "verify", &file, "--genesis", &genesis]);
    assert!(out.status.success());
    let v = json(&out);
    assert_eq!(v["verified"], true);
    assert_eq!(v["act"]["kind"], "file_case");
    assert_eq!(v["block"]["height"], 2);
    assert_eq!(v["block"]["time_beijing"], "2026-03-02T09:01:00.000+08:00");
    assert_eq!(v["receipt"]["outcome"], "ok");
    let courts: Vec<&str> = v["certificate"]["signers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["court_code"].as_str().unwrap())
        .collect();
    assert_eq!(courts, ["0000", "京", "京0105"]);
    assert_eq!(v["certificate"]["signed_power"], 3);

    // A failed act is proven, and said to have failed; the hex form is read too.
    let out = courtledger(&[
        "proof",
        "verify",
        &vector_file("valid-failed-act.hex"),
        "--genesis",
        &genesis,
    ]);
    assert!(out.status.success(), "{out:?}");
    assert!(
        stdout(&out).contains("FAILED: not_authorized (receipt code 5)"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_version_2_bundle_names_its_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let genesis = vector_file("genesis.json");
    let file = bundle(dir.path(), "valid-v2-file-case");
    let out = courtledger(&["proof", "verify", &file, "--genesis", &genesis]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    for expected in [
        "VERIFIED",
        "height 2, position 0 of 6",
        "later    the history log of block 3",
        "holds it as leaf 2 of 10",
        "checkpoint_inclusion",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
    let out = courtledger(&["--json", "proof", "verify", &file, "--genesis", &genesis]);
    let v = json(&out);
    assert_eq!(v["format_version"], 2);
    assert_eq!(v["checkpoint"]["height"], 3);
    assert_eq!(v["checkpoint"]["leaf_index"], 2);
    assert_eq!(v["checks_passed"].as_array().unwrap().len(), 32);
    let courts: Vec<&str> = v["checkpoint"]["signers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["court_code"].as_str().unwrap())
        .collect();
    assert_eq!(courts, ["京", "京01", "京0105"]);
    // A version 1 bundle passes the 20 checks of version 1 and has no checkpoint.
    let v1 = bundle(dir.path(), "valid-file-case");
    let v = json(&courtledger(&[
        "--json",
        "proof",
        "verify",
        &v1,
        "--genesis",
        &genesis,
    ]));
    assert_eq!(v["format_version"], 1);
    assert!(v["checkpoint"].is_null());
    assert_eq!(v["checks_passed"].as_array().unwrap().len(), 20);
    // verify-file reads version 2 too.
    let out = courtledger(&[
        "verify-file",
        &vector_file("complaint.txt"),
        "--proof",
        &file,
        "--genesis",
        &genesis,
    ]);
    assert!(out.status.success(), "{out:?}");
}

#[test]
fn every_vector_gets_its_verdict_and_exit_status() {
    let dir = tempfile::tempdir().unwrap();
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(vectors().join("manifest.json")).unwrap())
            .unwrap();
    for vector in manifest["vectors"].as_array().unwrap() {
        let name = vector["name"].as_str().unwrap();
        let expect = vector["expect"].as_str().unwrap();
        let file = bundle(dir.path(), name);
        let genesis = vector_file(vector["genesis"].as_str().unwrap());
        let out = courtledger(&["--json", "proof", "verify", &file, "--genesis", &genesis]);
        let v = json(&out);
        if expect == "ok" {
            assert!(out.status.success(), "{name}: {v}");
            assert_eq!(v["tx_id"], vector["verified"]["tx_id"], "{name}");
        } else {
            assert_eq!(out.status.code(), Some(1), "{name}: {v}");
            assert_eq!(v["error"]["details"]["check"], expect, "{name}: {v}");
            let message = v["error"]["message"].as_str().unwrap();
            assert!(message.contains(&format!("check `{expect}`")), "{message}");
        }
    }
}

#[test]
fn verify_file_names_the_matching_field() {
    let dir = tempfile::tempdir().unwrap();
    let genesis = vector_file("genesis.json");
    let proof = bundle(dir.path(), "valid-file-case");
    let complaint = vector_file("complaint.txt");
    let out = courtledger(&[
        "verify-file",
        &complaint,
        "--proof",
        &proof,
        "--genesis",
        &genesis,
    ]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    assert!(text.contains("MATCH"), "{text}");
    assert!(text.contains("field `complaint`"), "{text}");
    assert!(text.contains("verified against the genesis file"), "{text}");

    let out = courtledger(&[
        "--json",
        "verify-file",
        &vector_file("evidence.txt"),
        "--proof",
        &proof,
        "--genesis",
        &genesis,
    ]);
    assert!(out.status.success(), "{out:?}");
    let v = json(&out);
    assert_eq!(v["matched"][0]["field"], "attachments[1].sha256");
    assert_eq!(v["matched"][0]["size_matches"], true);
    assert_eq!(v["bundle_verified"], true);
    assert_eq!(v["proof"]["verified"], true);

    // Without the genesis file: the hashes are compared, and the output says the bundle was
    // not verified.
    let out = courtledger(&["verify-file", &complaint, "--proof", &proof]);
    assert!(out.status.success(), "{out:?}");
    assert!(stdout(&out).contains("NOT verified"), "{}", stdout(&out));

    // Another file: no match, exit 1, the recorded hashes listed.
    let other = dir.path().join("other.txt");
    std::fs::write(&other, "not the complaint").unwrap();
    let out = courtledger(&[
        "--json",
        "verify-file",
        other.to_str().unwrap(),
        "--proof",
        &proof,
        "--genesis",
        &genesis,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    let message = v["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("NO MATCH"), "{message}");
    assert!(message.contains("complaint (complaint)"), "{message}");

    // A bundle that does not verify: exit 1, the check named, even though the file matches.
    let tampered = bundle(dir.path(), "certificate-below-threshold");
    let out = courtledger(&[
        "verify-file",
        &complaint,
        "--proof",
        &tampered,
        "--genesis",
        &genesis,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("check `certificate_quorum`"), "{stderr}");
}

/// Serves one HTTP request with `body` as a JSON answer; returns the request line.
fn serve_once(body: String) -> (String, std::thread::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream);
        let mut request_line = String::new();
        reader.read_line(&mut request_line).unwrap();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" || line.is_empty() {
                break;
            }
        }
        let mut stream = reader.into_inner();
        write!(
            stream,
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        stream.flush().unwrap();
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest);
        request_line
    });
    (url, handle)
}

#[test]
fn get_writes_the_nodes_bundle_and_verifies_it() {
    let dir = tempfile::tempdir().unwrap();
    let genesis = vector_file("genesis.json");
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(vectors().join("manifest.json")).unwrap())
            .unwrap();
    let tx_id = manifest["vectors"][0]["verified"]["tx_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let hex = std::fs::read_to_string(vectors().join("valid-file-case.hex")).unwrap();
    let body = serde_json::json!({ "tx_id": tx_id, "bundle": hex.trim() }).to_string();
    let out_file = dir.path().join("filing.clproof");
    let out_path = out_file.to_str().unwrap();

    let (url, server) = serve_once(body);
    let out = courtledger(&[
        "--node",
        &url,
        "proof",
        "get",
        &tx_id,
        "--out",
        out_path,
        "--genesis",
        &genesis,
    ]);
    assert!(out.status.success(), "{out:?}");
    let request = server.join().unwrap();
    assert!(
        request.starts_with(&format!("GET /v1/proofs/tx/{tx_id} ")),
        "{request}"
    );
    assert_eq!(
        std::fs::read(&out_file).unwrap(),
        hex::decode(hex.trim()).unwrap()
    );
    assert!(
        stdout(&out).contains("every check passed"),
        "{}",
        stdout(&out)
    );

    // Never overwrites.
    let out = courtledger(&[
        "--node",
        "http://127.0.0.1:1",
        "proof",
        "get",
        &tx_id,
        "--out",
        out_path,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("never overwritten"));

    // A bundle for another transaction is refused.
    let other = "00".repeat(32);
    let (url, server) = serve_once(serde_json::json!({ "bundle": hex.trim() }).to_string());
    let out = courtledger(&[
        "--node",
        &url,
        "proof",
        "get",
        &other,
        "--out",
        dir.path().join("x").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8(out.stderr).unwrap().contains("not 0000"),
        "refused"
    );
    server.join().unwrap();
    assert!(!dir.path().join("x").exists());
}

#[test]
fn a_version_3_bundle_names_the_sets_that_signed() {
    let dir = tempfile::tempdir().unwrap();
    let genesis = vector_file("genesis.json");
    let file = bundle(dir.path(), "valid-v3-two-changes");
    let out = courtledger(&["proof", "verify", &file, "--genesis", &genesis]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    for expected in [
        "VERIFIED",
        "height 9, position 0 of 1",
        "by 3 of 4 validator courts, 3 of 4 voting power",
        "京0108  power 1",
        "the validator set changed 2 times since genesis",
        "from height 6: 0000, 京, 京01, 京0105, 京0108 (approved by 0000, 京, 京0105, 3 of",
        "from height 9: 0000, 京, 京0105, 京0108 (approved by 京, 京01, 京0105, 京0108, 4 of the previous set's power)  <- signed this block",
        "set_boundary_certificate_quorum",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
    let v = json(&courtledger(&[
        "--json",
        "proof",
        "verify",
        &file,
        "--genesis",
        &genesis,
    ]));
    assert_eq!(v["format_version"], 3);
    assert_eq!(v["certificate"]["validators"], 4);
    assert_eq!(v["certificate"]["validator_set"]["after_changes"], 2);
    assert_eq!(v["certificate"]["validator_set"]["activated_at"], 9);
    assert_eq!(v["set_changes"].as_array().unwrap().len(), 2);
    assert_eq!(v["set_changes"][0]["courts"][4], "京0108");
    // 20 checks of version 1 and 18 of the links, no checkpoint.
    assert_eq!(v["checks_passed"].as_array().unwrap().len(), 38);

    // The filing of block 2 (genesis set) with the checkpoint of block 10 (the four).
    let file = bundle(dir.path(), "valid-v3-checkpoint");
    let out = courtledger(&["proof", "verify", &file, "--genesis", &genesis]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    for expected in [
        "by 3 of 4 validator courts",
        "this block was signed by the genesis set",
        "later    the history log of block 10",
        "signed by 3 of 4 voting power (75.0%)",
        "京0108  power 1",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
    let v = json(&courtledger(&[
        "--json",
        "proof",
        "verify",
        &file,
        "--genesis",
        &genesis,
    ]));
    assert_eq!(v["checks_passed"].as_array().unwrap().len(), 50);
    assert_eq!(v["certificate"]["validator_set"]["genesis"], true);
    assert_eq!(v["checkpoint"]["total_power"], 4);
}

/// The node's block JSON (`node/src/api/blocks.rs`) of a certified header, without its
/// transactions (enough for `fetch_head`).
fn block_json(
    header: &courtledger_types::BlockHeader,
    certificate: &courtledger_types::CommitCertificate,
) -> Value {
    use courtledger_codec::Encode as _;
    serde_json::json!({
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
        "tx_ids": [],
        "receipt_codes": [],
        "header_hex": hex::encode(header.to_bytes()),
        "certificate": {
            "round": certificate.round,
            "signers": certificate.signatures.iter().map(|s| s.validator_index).collect::<Vec<_>>(),
            "hex": hex::encode(certificate.to_bytes()),
        },
    })
}

/// Serves HTTP requests until the test ends, answering each with the body of the first route
/// whose path prefix the request's path starts with (404 otherwise); returns the base URL and
/// the request lines seen.
fn serve_routes(
    routes: Vec<(String, String)>,
) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let mut reader = BufReader::new(stream);
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() || line == "\r\n" || line.is_empty() {
                    break;
                }
            }
            let path = request_line.split(' ').nth(1).unwrap_or("").to_owned();
            log.lock().unwrap().push(path.clone());
            let (status, body) = routes
                .iter()
                .find(|(prefix, _)| path.starts_with(prefix.as_str()))
                .map_or_else(
                    || {
                        (
                            "404 Not Found",
                            r#"{"error":{"code":"not_found"}}"#.to_owned(),
                        )
                    },
                    |(_, body)| ("200 OK", body.clone()),
                );
            let mut stream = reader.into_inner();
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.flush();
        }
    });
    (url, seen)
}

/// The bundle of a vector, decoded.
fn decoded(name: &str) -> courtledger_proof::ProofBundle {
    let hex = std::fs::read_to_string(vectors().join(format!("{name}.hex"))).unwrap();
    courtledger_proof::ProofBundle::decode(&hex::decode(hex.trim()).unwrap()).unwrap()
}

/// `proof refresh` of the version 1 filing to the checkpoint of block 10, signed by the set of
/// the second change: the node's log answer carries the set links, and the refreshed bundle is
/// exactly the version 3 vector.
#[test]
fn refresh_across_set_changes_carries_the_links() {
    use courtledger_codec::Encode as _;
    let dir = tempfile::tempdir().unwrap();
    let genesis = vector_file("genesis.json");
    let target = decoded("valid-v3-checkpoint");
    let checkpoint = target.checkpoint.clone().unwrap();
    let links: Vec<Value> = target
        .links
        .iter()
        .map(|link| {
            serde_json::json!({
                "activation_height": link.activation_height(),
                "boundary_height": link.boundary.height,
                "hex": hex::encode(link.to_bytes()),
            })
        })
        .collect();
    let tx_id = target.tx.id();
    let inclusion = serde_json::json!({
        "tx_id": tx_id.to_string(),
        "at": { "height": 10 },
        "proof_hex": hex::encode(checkpoint.log_proof.to_bytes()),
        "set_links": links,
    });
    let (url, seen) = serve_routes(vec![
        (
            format!("/v1/proofs/log-inclusion/{tx_id}"),
            inclusion.to_string(),
        ),
        (
            "/v1/blocks/10".to_owned(),
            block_json(&checkpoint.header, &checkpoint.certificate).to_string(),
        ),
    ]);
    let v1 = bundle(dir.path(), "valid-file-case");
    let out_file = dir.path().join("refreshed.clproof");
    let out = courtledger(&[
        "--node",
        &url,
        "proof",
        "refresh",
        &v1,
        "--out",
        out_file.to_str().unwrap(),
        "--at",
        "10",
        "--genesis",
        &genesis,
    ]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    assert!(text.contains("format version 3"), "{text}");
    assert!(text.contains("through 2 validator-set changes"), "{text}");
    assert_eq!(std::fs::read(&out_file).unwrap(), target.to_bytes());
    assert_eq!(
        seen.lock().unwrap()[0],
        format!("/v1/proofs/log-inclusion/{tx_id}?at=10")
    );

    // Without the links (a node that sends none) the checkpoint's set is unknown: refused.
    let mut bare = inclusion.clone();
    bare.as_object_mut().unwrap().remove("set_links");
    let (url, _) = serve_routes(vec![
        (
            format!("/v1/proofs/log-inclusion/{tx_id}"),
            bare.to_string(),
        ),
        (
            "/v1/blocks/10".to_owned(),
            block_json(&checkpoint.header, &checkpoint.certificate).to_string(),
        ),
    ]);
    let out = courtledger(&[
        "--node",
        &url,
        "proof",
        "refresh",
        &v1,
        "--out",
        dir.path().join("bare.clproof").to_str().unwrap(),
        "--at",
        "10",
        "--genesis",
        &genesis,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("check `checkpoint_validator_set`"),
        "{stderr}"
    );
}

/// `audit checkpoint` of block 10 (signed by the set of the second change) fetches the set
/// links and writes a version 2 checkpoint file, which `audit consistency` then reads.
#[test]
fn a_checkpoint_after_set_changes_carries_its_links() {
    use courtledger_codec::Encode as _;
    let dir = tempfile::tempdir().unwrap();
    let genesis = vector_file("genesis.json");
    let target = decoded("valid-v3-checkpoint");
    let checkpoint = target.checkpoint.clone().unwrap();
    let links: Vec<Value> = target
        .links
        .iter()
        .map(|link| serde_json::json!({ "activation_height": link.activation_height(), "hex": hex::encode(link.to_bytes()) }))
        .collect();
    let consistency = serde_json::json!({
        "from": { "height": 10 },
        "to": { "height": 10 },
        "proof": { "old_size": checkpoint.header.log_size, "new_size": checkpoint.header.log_size, "path": [] },
        "proof_hex": hex::encode(courtledger_merkle::ConsistencyProof {
            old_size: checkpoint.header.log_size,
            new_size: checkpoint.header.log_size,
            path: vec![],
        }.to_bytes()),
        "set_links": links,
    });
    let (url, seen) = serve_routes(vec![
        (
            "/v1/blocks/10".to_owned(),
            block_json(&checkpoint.header, &checkpoint.certificate).to_string(),
        ),
        ("/v1/proofs/consistency".to_owned(), consistency.to_string()),
        (
            "/v1/status".to_owned(),
            serde_json::json!({ "last_committed_height": 10 }).to_string(),
        ),
    ]);
    let file = dir.path().join("head-10.hex");
    let out = courtledger(&[
        "--node",
        &url,
        "audit",
        "checkpoint",
        "--height",
        "10",
        "--out",
        file.to_str().unwrap(),
        "--genesis",
        &genesis,
    ]);
    assert!(out.status.success(), "{out:?}");
    assert!(
        stdout(&out).contains("carries the 2 validator-set links"),
        "{}",
        stdout(&out)
    );
    assert!(seen
        .lock()
        .unwrap()
        .contains(&"/v1/proofs/consistency?from=10&to=10".to_owned()));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        std::fs::read_to_string(vectors().join("head-v2-block-10.hex")).unwrap()
    );

    let out = courtledger(&[
        "--json",
        "--node",
        &url,
        "audit",
        "consistency",
        "--checkpoint",
        file.to_str().unwrap(),
        "--to",
        "10",
        "--genesis",
        &genesis,
    ]);
    assert!(out.status.success(), "{out:?}");
    let v = json(&out);
    assert_eq!(v["consistent"], true);
    assert_eq!(v["from"]["set_changes"].as_array().unwrap().len(), 2);
    assert_eq!(
        v["to"]["signers"],
        serde_json::json!(["京", "京0105", "京0108"])
    );

    // A checkpoint file whose links were cut: refused with the check that names it.
    let out = courtledger(&[
        "--node",
        &url,
        "audit",
        "consistency",
        "--checkpoint",
        &vector_file("head-v2-link-omitted.hex"),
        "--to",
        "10",
        "--genesis",
        &genesis,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("check `validator_set`"), "{stderr}");
}
