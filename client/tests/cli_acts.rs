//! The `courtledger` binary for judicial acts: the offline identity commands, and the whole
//! sign-and-submit path against a scripted stand-in for a node's HTTP API (a few lines of
//! `std::net`, no real node): nonce, signature, submission shapes, receipts, exit statuses.

// Helpers outside #[test] functions are test code too.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

use courtledger_crypto::{verify, Digest, Domain, PublicKey, Signature};
use courtledger_ledger::{identity_commitment, possession_message, Act, Possession, Role};
use courtledger_types::{CourtCode, Genesis, SignedTransaction};
use serde_json::{json, Value};

fn genesis_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../genesis/example.json")
}

fn genesis() -> Genesis {
    Genesis::from_json(&std::fs::read_to_string(genesis_path()).unwrap()).unwrap()
}

fn courtledger(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_courtledger"))
        .args(args)
        .stdin(Stdio::null())
        .env_remove("COURTLEDGER_PASSPHRASE")
        .env_remove("COURTLEDGER_NODE")
        .env_remove("COURTLEDGER_KEY")
        .env_remove("COURTLEDGER_GENESIS")
        .output()
        .unwrap()
}

fn json_of(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "stdout is not JSON ({error}): {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn new_key(dir: &Path, name: &str) -> (PathBuf, PublicKey) {
    let path = dir.join(name);
    let out = courtledger(&["keys", "generate", "--out", s(&path), "--json"]);
    assert!(out.status.success());
    let public_key = json_of(&out)["public_key"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    (path, public_key)
}

#[test]
fn identity_commit_prints_salt_and_commitment() {
    let salt = "11".repeat(32);
    let out = courtledger(&[
        "identity",
        "commit",
        "--id-type",
        "resident_id_card",
        "--id-number",
        "110105199001011234",
        "--name",
        "张三",
        "--salt",
        &salt,
        "--json",
    ]);
    assert!(out.status.success(), "{out:?}");
    let result = json_of(&out);
    assert_eq!(result["salt"], salt);
    let expected = identity_commitment(
        &[0x11; 32],
        "resident_id_card",
        "110105199001011234",
        "张三",
    );
    assert_eq!(result["commitment"], expected.to_string());
    // The ID number itself is never printed.
    assert!(!String::from_utf8_lossy(&out.stdout).contains("110105199001011234"));

    // Without --salt: a fresh random salt each time, and the commitment it gives.
    let run = || {
        json_of(&courtledger(&[
            "--json",
            "identity",
            "commit",
            "--id-type",
            "passport",
            "--id-number",
            "E1",
            "--name",
            "Li Si",
        ]))
    };
    let (first, second) = (run(), run());
    assert_ne!(first["salt"], second["salt"]);
    let salt: Digest = first["salt"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        first["commitment"],
        identity_commitment(&salt.0, "passport", "E1", "Li Si").to_string()
    );

    // Human output names both.
    let out = courtledger(&[
        "identity",
        "commit",
        "--id-type",
        "a",
        "--id-number",
        "b",
        "--name",
        "c",
        "--salt",
        &"00".repeat(32),
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("salt") && text.contains("commitment"),
        "{text}"
    );
    // A bad salt is a usage error.
    let out = courtledger(&[
        "--json",
        "identity",
        "commit",
        "--id-type",
        "a",
        "--id-number",
        "b",
        "--name",
        "c",
        "--salt",
        "abc",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(json_of(&out)["error"]["message"].is_string());
}

#[test]
fn identity_possession_signs_the_registration_consent() {
    let dir = tempfile::tempdir().unwrap();
    let (key, public_key) = new_key(dir.path(), "judge.json");
    let commitment = Digest([0x42; 32]);
    let out = courtledger(&[
        "identity",
        "possession",
        "--key",
        s(&key),
        "--genesis",
        s(&genesis_path()),
        "--role",
        "judge",
        "--court",
        "京0105",
        "--commitment",
        &commitment.to_string(),
        "--json",
    ]);
    assert!(out.status.success(), "{out:?}");
    let result = json_of(&out);
    assert_eq!(result["public_key"], public_key.to_string());
    assert_eq!(result["role"], "judge");
    assert_eq!(result["court"], "京0105");
    let signature: Signature = result["possession"].as_str().unwrap().parse().unwrap();
    let court = CourtCode::new("京0105").unwrap();
    let message = possession_message(&Possession::Registration {
        key: &public_key,
        role: Role::Judge,
        court: Some(&court),
        commitment: &commitment,
    });
    verify(
        &public_key,
        Domain::IdentityAttestation,
        &genesis().chain_id(),
        &message,
        &signature,
    )
    .unwrap();

    // Environment defaults for the key and genesis; a judge needs a court, a party none.
    let run = |role: &str, court: Option<&str>| {
        let mut args = vec![
            "--json",
            "identity",
            "possession",
            "--role",
            role,
            "--commitment",
            "4242424242424242424242424242424242424242424242424242424242424242",
        ];
        if let Some(court) = court {
            args.extend(["--court", court]);
        }
        Command::new(env!("CARGO_BIN_EXE_courtledger"))
            .args(&args)
            .stdin(Stdio::null())
            .env_remove("COURTLEDGER_PASSPHRASE")
            .env("COURTLEDGER_KEY", &key)
            .env("COURTLEDGER_GENESIS", genesis_path())
            .output()
            .unwrap()
    };
    let out = run("judge", Some("京0105"));
    assert!(out.status.success(), "{out:?}");
    assert_eq!(json_of(&out)["possession"], signature.to_string());
    let out = run("judge", None);
    assert_eq!(out.status.code(), Some(1));
    assert!(json_of(&out)["error"]["message"]
        .as_str()
        .unwrap()
        .contains("--court"));
    let out = run("party", Some("京0105"));
    assert_eq!(out.status.code(), Some(1));
    let out = run("party", None);
    assert!(out.status.success());
    assert!(json_of(&out)["court"].is_null());
}

#[test]
fn show_id_names_genesis_registrars() {
    let dir = tempfile::tempdir().unwrap();
    let (key, public_key) = new_key(dir.path(), "registrar.json");
    let out = courtledger(&[
        "identity",
        "show-id",
        "--key",
        s(&key),
        "--genesis",
        s(&genesis_path()),
        "--json",
    ]);
    assert!(out.status.success());
    assert!(json_of(&out)["identity_id"].is_null());

    let mut file: Value =
        serde_json::from_str(&std::fs::read_to_string(genesis_path()).unwrap()).unwrap();
    file["registrars"][1]["public_key"] = json!(public_key.to_string());
    let custom = dir.path().join("genesis.json");
    std::fs::write(&custom, file.to_string()).unwrap();
    let out = courtledger(&[
        "identity",
        "show-id",
        "--key",
        s(&key),
        "--genesis",
        s(&custom),
        "--json",
    ]);
    assert!(out.status.success());
    let result = json_of(&out);
    assert_eq!(
        result["identity_id"],
        courtledger_ledger::genesis_identity_id(&public_key).to_string()
    );
    assert_eq!(result["registrar"]["court"], "沪0115");
}

/// One request the stand-in node received.
#[derive(Debug, Clone)]
struct Request {
    method: String,
    path: String,
    body: Value,
}

type Handler = dyn Fn(&Request) -> (u16, Value) + Send + Sync;

/// A stand-in for a node's HTTP API on 127.0.0.1: answers each request with `handler`, one
/// request per connection, and records them all.
struct FakeNode {
    url: String,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl FakeNode {
    fn start(handler: Box<Handler>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                let mut parts = line.split_whitespace();
                let method = parts.next().unwrap_or_default().to_owned();
                let path = parts.next().unwrap_or_default().to_owned();
                let mut length = 0usize;
                loop {
                    let mut header = String::new();
                    if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                        break;
                    }
                    if let Some((name, value)) = header.split_once(':') {
                        if name.eq_ignore_ascii_case("content-length") {
                            length = value.trim().parse().unwrap_or(0);
                        }
                    }
                }
                let mut body = vec![0u8; length];
                reader.read_exact(&mut body).unwrap();
                let request = Request {
                    method,
                    path,
                    body: serde_json::from_slice(&body).unwrap_or(Value::Null),
                };
                let (status, answer) = handler(&request);
                seen.lock().unwrap().push(request);
                let answer = answer.to_string();
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                    answer.len()
                );
            }
        });
        Self { url, requests }
    }

    fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    /// The transaction submitted in the first `POST /v1/txs`.
    fn submitted(&self) -> (SignedTransaction, Value) {
        let request = self
            .requests()
            .into_iter()
            .find(|r| r.method == "POST" && r.path == "/v1/txs")
            .expect("a submission");
        (decode_tx(&request.body), request.body)
    }
}

fn decode_tx(body: &Value) -> SignedTransaction {
    let hex = body["txs"][0].as_str().unwrap();
    SignedTransaction::decode(&hex::decode(hex).unwrap()).unwrap()
}

/// A node that answers the nonce and every submission with `result(tx id)` merged in.
fn node_answering(result: impl Fn(&str) -> Value + Send + Sync + 'static) -> FakeNode {
    FakeNode::start(Box::new(move |request| {
        if request.path.starts_with("/v1/accounts/") {
            return (200, json!({ "public_key": "x", "next_nonce": 3 }));
        }
        if request.method == "POST" && request.path == "/v1/txs" {
            let id = decode_tx(&request.body).id().to_string();
            let mut entry = json!({ "id": id });
            for (key, value) in result(&id).as_object().unwrap() {
                entry[key] = value.clone();
            }
            return (200, json!({ "results": [entry] }));
        }
        (
            404,
            json!({ "error": { "code": "not_found", "message": "no" } }),
        )
    }))
}

struct Setup {
    dir: tempfile::TempDir,
    key: PathBuf,
    public_key: PublicKey,
    evidence: PathBuf,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let (key, public_key) = new_key(dir.path(), "lawyer.json");
    let evidence = dir.path().join("contract.pdf");
    std::fs::write(&evidence, b"%PDF the contract").unwrap();
    Setup {
        dir,
        key,
        public_key,
        evidence,
    }
}

fn submit_evidence(setup: &Setup, node: &FakeNode, extra: &[&str]) -> Output {
    let case = "ca".repeat(32);
    let genesis = genesis_path();
    let mut args = vec![
        "evidence",
        "submit",
        &case,
        s(&setup.evidence),
        "--key",
        s(&setup.key),
        "--genesis",
        s(&genesis),
        "--node",
        &node.url,
    ];
    args.extend_from_slice(extra);
    courtledger(&args)
}

#[test]
fn a_committed_act_prints_its_id_height_and_code() {
    let setup = setup();
    let node = node_answering(|_| {
        json!({ "accepted": true, "status": "committed", "height": 9, "index": 1,
                "block_id": "b1".repeat(32), "code": 0, "new_field": true })
    });
    let out = submit_evidence(&setup, &node, &["--json"]);
    assert!(out.status.success(), "{out:?}");
    let result = json_of(&out);
    let (tx, body) = node.submitted();
    // Signed locally for this chain, with the node's next nonce; the node asked to wait.
    tx.verify_signature(&genesis().chain_id()).unwrap();
    assert_eq!(tx.tx.signer, setup.public_key);
    assert_eq!(tx.tx.nonce, 3);
    assert_eq!(body["wait"], true);
    assert_eq!(body["timeout_ms"], 30_000);
    let Act::SubmitEvidence(act) = Act::decode(&tx.tx.payload).unwrap() else {
        panic!("not evidence")
    };
    assert_eq!(
        act.file.sha256,
        courtledger_crypto::sha256(b"%PDF the contract")
    );
    assert_eq!(act.file.media_type, "application/pdf");
    // The result names the evidence by its transaction id.
    assert_eq!(result["act"], "submit_evidence");
    assert_eq!(result["evidence_id"], tx.id().to_string());
    assert_eq!(result["tx_id"], tx.id().to_string());
    assert_eq!(result["status"], "committed");
    assert_eq!(result["height"], 9);
    assert_eq!(result["index"], 1);
    assert_eq!(result["code"], 0);
    assert_eq!(result["code_name"], "ok");
    assert_eq!(result["nonce"], 3);
    assert_eq!(result["file"]["size"], 17);
    // The key never travels: no request carries the key file's secret seed.
    let key_file: Value =
        serde_json::from_str(&std::fs::read_to_string(&setup.key).unwrap()).unwrap();
    let secret = key_file["secret_seed"].as_str().unwrap();
    for request in node.requests() {
        assert!(!request.body.to_string().contains(secret));
        assert!(!request.path.contains(secret));
    }

    // Human output: what was done and the id, then the height and code.
    let out = submit_evidence(&setup, &node, &[]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].starts_with("submitted evidence \"contract.pdf\""),
        "{text}"
    );
    assert!(lines[0].contains(": evidence "), "{text}");
    assert_eq!(lines[1], "committed at height 9 (index 1): code 0 ok");
}

#[test]
fn a_failed_act_exits_non_zero_with_its_code() {
    let setup = setup();
    let node = node_answering(|_| {
        json!({ "accepted": true, "status": "committed", "height": 4, "index": 0,
                "block_id": "b1".repeat(32), "code": 8 })
    });
    let out = submit_evidence(&setup, &node, &["--json"]);
    assert_eq!(out.status.code(), Some(1));
    let error = &json_of(&out)["error"];
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("deadline_passed"),
        "{error}"
    );
    assert_eq!(error["details"]["code"], 8);
    assert_eq!(error["details"]["code_name"], "deadline_passed");
    assert_eq!(error["details"]["height"], 4);
    assert!(error["details"]["evidence_id"].is_string());

    let out = submit_evidence(&setup, &node, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("code 8 deadline_passed"), "{stderr}");
}

#[test]
fn a_refused_act_exits_non_zero_with_the_nodes_reason() {
    let setup = setup();
    let node = node_answering(|_| {
        json!({ "accepted": false, "status": "rejected",
                "error": { "code": "invalid_tx", "message": "the signing key is not registered",
                           "field": "txs[0]" } })
    });
    let out = submit_evidence(&setup, &node, &["--json"]);
    assert_eq!(out.status.code(), Some(1));
    let error = &json_of(&out)["error"];
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("invalid_tx"), "{message}");
    assert!(message.contains("not registered"), "{message}");
    assert_eq!(error["details"]["status"], "rejected");
}

#[test]
fn plain_acceptance_is_followed_until_committed() {
    let setup = setup();
    // A node answering the plain shape; the client follows GET /v1/txs/{id}.
    let node = FakeNode::start(Box::new(|request| {
        if request.path.starts_with("/v1/accounts/") {
            return (200, json!({ "next_nonce": 1 }));
        }
        if request.method == "POST" {
            let id = decode_tx(&request.body).id().to_string();
            return (200, json!({ "results": [{ "id": id, "accepted": true }] }));
        }
        let id = request.path.trim_start_matches("/v1/txs/");
        (
            200,
            json!({ "id": id, "status": "committed", "height": 2, "index": 0, "code": 0 }),
        )
    }));
    let out = submit_evidence(&setup, &node, &["--json", "--wait-timeout", "5"]);
    assert!(out.status.success(), "{out:?}");
    let result = json_of(&out);
    assert_eq!(result["status"], "committed");
    assert_eq!(result["height"], 2);
    let (tx, body) = node.submitted();
    assert_eq!(body["timeout_ms"], 5_000);
    assert!(node
        .requests()
        .iter()
        .any(|r| r.method == "GET" && r.path == format!("/v1/txs/{}", tx.id())));

    // --no-wait: submitted without waiting, reported as pending, not followed.
    let node = node_answering(|_| json!({ "accepted": true, "status": "pending" }));
    let out = submit_evidence(&setup, &node, &["--json", "--no-wait"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(json_of(&out)["status"], "pending");
    let (_, body) = node.submitted();
    assert!(body.get("wait").is_none());
    assert!(!node
        .requests()
        .iter()
        .any(|r| r.path.starts_with("/v1/txs/")));
    let _ = &setup.dir;
}

#[test]
fn acts_fail_cleanly_before_signing() {
    let setup = setup();
    let node = node_answering(|_| json!({ "accepted": true }));
    // A missing file: nothing is submitted.
    let case = "ca".repeat(32);
    let absent = setup.dir.path().join("absent.pdf");
    let out = courtledger(&[
        "--json",
        "evidence",
        "submit",
        &case,
        s(&absent),
        "--key",
        s(&setup.key),
        "--genesis",
        s(&genesis_path()),
        "--node",
        &node.url,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(json_of(&out)["error"]["message"]
        .as_str()
        .unwrap()
        .contains("absent.pdf"));
    assert!(node.requests().is_empty());
    // No key: a usage error naming --key.
    let out = courtledger(&["--json", "case", "leave", &case, "--genesis", "g.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(json_of(&out)["error"]["message"]
        .as_str()
        .unwrap()
        .contains("--key"));
    // An unreachable node is an error naming it.
    let out = courtledger(&[
        "--json",
        "case",
        "leave",
        &case,
        "--key",
        s(&setup.key),
        "--genesis",
        s(&genesis_path()),
        "--node",
        "http://127.0.0.1:1",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(json_of(&out)["error"]["message"]
        .as_str()
        .unwrap()
        .contains("127.0.0.1:1"));
}

#[test]
fn identity_rotate_asks_the_node_for_the_identity_of_the_old_key() {
    let setup = setup();
    let (new_key, new_public) = new_key(setup.dir.path(), "new.json");
    let identity = Digest([0x5a; 32]);
    let old = setup.public_key;
    let answer_for = move |current: bool, known: bool| {
        move |request: &Request| -> (u16, Value) {
            if request.path == format!("/v1/keys/{old}") {
                if !known {
                    return (
                        404,
                        json!({ "error": { "code": "unknown_key", "message": "no such registered key" } }),
                    );
                }
                return (
                    200,
                    json!({ "identity": { "id": identity.to_string(), "active": true }, "current": current }),
                );
            }
            if request.path.starts_with("/v1/accounts/") {
                return (200, json!({ "next_nonce": 2 }));
            }
            if request.method == "POST" && request.path == "/v1/txs" {
                let id = decode_tx(&request.body).id().to_string();
                return (
                    200,
                    json!({ "results": [{ "id": id, "accepted": true, "status": "committed",
                        "height": 5, "index": 0, "block_id": "b1".repeat(32), "code": 0 }] }),
                );
            }
            (
                404,
                json!({ "error": { "code": "not_found", "message": "no" } }),
            )
        }
    };
    let rotate = |node: &FakeNode| {
        courtledger(&[
            "--json",
            "identity",
            "rotate",
            "--new-key",
            s(&new_key),
            "--key",
            s(&setup.key),
            "--genesis",
            s(&genesis_path()),
            "--node",
            &node.url,
        ])
    };

    let node = FakeNode::start(Box::new(answer_for(true, true)));
    let out = rotate(&node);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(json_of(&out)["identity_id"], identity.to_string());
    let (tx, _) = node.submitted();
    assert_eq!(tx.tx.signer, old);
    let Act::RotateKey(rotation) = Act::decode(&tx.tx.payload).unwrap() else {
        panic!("not a rotation")
    };
    assert_eq!(rotation.new_key, new_public);
    let message = possession_message(&Possession::Rotation {
        identity: &identity,
        new_key: &new_public,
    });
    verify(
        &new_public,
        Domain::IdentityAttestation,
        &genesis().chain_id(),
        &message,
        &rotation.possession,
    )
    .unwrap();

    // A key the ledger does not know, or one already rotated away: nothing is submitted.
    for (current, known, expected) in [(true, false, "--identity"), (false, true, "previous key")] {
        let node = FakeNode::start(Box::new(answer_for(current, known)));
        let out = rotate(&node);
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        let message = json_of(&out)["error"]["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(message.contains(expected), "{message}");
        assert!(!node.requests().iter().any(|r| r.method == "POST"));
    }
}
