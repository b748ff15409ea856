//! Real `courtledger-node` processes on 127.0.0.1: commits, agreement, crashes, catch-up.
//!
//! Each scenario writes a fresh testnet into a temporary directory on free ports, starts the
//! processes, and stops them when it ends (also on failure). Scenarios run one at a time; a
//! failing one prints the tail of every node's log.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use courtledger_codec::Encode;
use courtledger_crypto::{sha256, Digest, SigningKey};
use courtledger_ledger::act::{
    AssignStaff, CloseCase, Decision, FileCase, IssueJudgment, RegisterIdentity, ReviewFiling,
};
use courtledger_ledger::{identity_commitment, sign_possession, Act, Possession, Role};
use courtledger_ledger::{CaseKind, CaseRole, JudgmentKind, Outcome, PartyRef};
use courtledger_types::CourtCode;
use courtledger_types::{Genesis, Transaction};
use serde_json::Value;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

struct Net {
    dir: tempfile::TempDir,
    base_port: u16,
    children: Vec<Option<Child>>,
    genesis: Genesis,
}

fn node_bin() -> &'static str {
    env!("CARGO_BIN_EXE_courtledger-node")
}

/// A base port such that base..base+count and base+100..base+100+count are free now.
fn free_base_port(count: u16) -> u16 {
    let seed = u16::try_from(std::process::id() % 150).unwrap();
    for attempt in 0..300u16 {
        let base = 20_000 + ((seed + attempt * 7) % 300) * 128;
        let ports = (0..count).flat_map(|i| [base + i, base + 100 + i]);
        if ports
            .clone()
            .all(|port| TcpListener::bind(("127.0.0.1", port)).is_ok())
        {
            return base;
        }
    }
    panic!("no free port range found");
}

impl Net {
    fn start(count: u16) -> Net {
        let dir = tempfile::tempdir().unwrap();
        let base_port = free_base_port(count);
        let out = dir.path().join("net");
        let status = Command::new(node_bin())
            .args(["testnet", "--validators", &count.to_string(), "--out"])
            .arg(&out)
            .args(["--base-port", &base_port.to_string()])
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "testnet failed");
        // Faster rounds and empty blocks than the defaults, to keep scenarios short.
        let genesis_text = std::fs::read_to_string(out.join("genesis.json")).unwrap();
        let genesis = Genesis::from_json(&genesis_text).unwrap();
        let mut net = Net {
            dir,
            base_port,
            children: Vec::new(),
            genesis,
        };
        for i in 0..count {
            let config = net.home(i).join("config.toml");
            let text = std::fs::read_to_string(&config).unwrap();
            let text = text.replace("empty_block_wait_ms = 500", "empty_block_wait_ms = 100");
            std::fs::write(&config, text).unwrap();
            let child = net.spawn(i);
            net.children.push(Some(child));
        }
        net
    }

    fn home(&self, i: u16) -> PathBuf {
        self.dir.path().join("net").join(format!("node{i}"))
    }

    fn log(&self, i: u16) -> PathBuf {
        self.dir.path().join(format!("node{i}.log"))
    }

    fn spawn(&self, i: u16) -> Child {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log(i))
            .unwrap();
        Command::new(node_bin())
            .args(["start", "--home"])
            .arg(self.home(i))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap()
    }

    fn api(&self, i: u16) -> String {
        format!("http://127.0.0.1:{}", self.base_port + 100 + i)
    }

    fn kill(&mut self, i: u16) {
        if let Some(mut child) = self.children[usize::from(i)].take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    fn terminate(&mut self, i: u16) -> bool {
        let Some(mut child) = self.children[usize::from(i)].take() else {
            return true;
        };
        let pid = child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status.success();
            }
            if Instant::now() > deadline {
                child.kill().unwrap();
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn restart(&mut self, i: u16) {
        assert!(self.children[usize::from(i)].is_none());
        let child = self.spawn(i);
        self.children[usize::from(i)] = Some(child);
    }

    fn get(&self, i: u16, path: &str) -> Option<Value> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(3)))
            .http_status_as_error(false)
            .build()
            .into();
        let mut response = agent.get(&format!("{}{path}", self.api(i))).call().ok()?;
        if response.status().as_u16() != 200 {
            return None;
        }
        response.body_mut().read_json().ok()
    }

    fn last_height(&self, i: u16) -> u64 {
        self.get(i, "/v1/status")
            .and_then(|s| s["last_committed_height"].as_u64())
            .unwrap_or(0)
    }

    fn block_id(&self, i: u16, height: u64) -> Option<String> {
        self.get(i, &format!("/v1/blocks/{height}"))
            .and_then(|b| b["id"].as_str().map(str::to_owned))
    }

    /// The key of the first registrar in genesis (the testnet writes it beside the homes).
    fn registrar(&self) -> SigningKey {
        let path = self
            .dir
            .path()
            .join("net")
            .join("registrars")
            .join("registrar0.json");
        courtledger_keystore::read_key_file(&path).unwrap()
    }

    /// An act the registrar may perform any number of times: registering a new party, whose
    /// key is derived from `n` and who signs its consent.
    fn register_act(&self, n: u64) -> Vec<u8> {
        let person = SigningKey::from_seed(sha256(&n.to_be_bytes()).as_bytes());
        let commitment = identity_commitment(&[7; 32], "resident_id", &n.to_string(), "测试当事人");
        let possession = sign_possession(
            &person,
            &self.genesis.chain_id(),
            &Possession::Registration {
                key: &person.public_key(),
                role: Role::Party,
                court: None,
                commitment: &commitment,
            },
        );
        Act::from(RegisterIdentity {
            key: person.public_key(),
            role: Role::Party,
            court: None,
            commitment,
            possession,
        })
        .to_bytes()
    }

    fn submit(&self, i: u16, count: usize, key: &SigningKey) -> Vec<String> {
        let chain_id = self.genesis.chain_id();
        let account = self
            .get(i, &format!("/v1/accounts/{}", key.public_key()))
            .unwrap();
        let next = account["next_nonce"].as_u64().unwrap();
        let txs: Vec<_> = (0..count)
            .map(|n| {
                let nonce = next + u64::try_from(n).unwrap();
                Transaction {
                    signer: key.public_key(),
                    nonce,
                    payload: self.register_act(nonce),
                }
                .sign(key, &chain_id)
            })
            .collect();
        let ids = txs.iter().map(|tx| tx.id().to_string()).collect();
        let body = serde_json::json!({
            "txs": txs.iter().map(|tx| hex::encode(tx.to_bytes())).collect::<Vec<_>>()
        });
        let mut response = ureq::post(&format!("{}/v1/txs", self.api(i)))
            .send_json(&body)
            .unwrap();
        let answer: Value = response.body_mut().read_json().unwrap();
        for result in answer["results"].as_array().unwrap() {
            assert_eq!(result["accepted"], true, "{answer}");
        }
        ids
    }

    /// Submits one transaction with `wait: true` and returns the node's answer for it.
    fn submit_and_wait(&self, i: u16, key: &SigningKey) -> (String, Value) {
        let account = self
            .get(i, &format!("/v1/accounts/{}", key.public_key()))
            .unwrap();
        let nonce = account["next_nonce"].as_u64().unwrap();
        self.send_and_wait(i, key, nonce, self.register_act(nonce))
    }

    /// Signs `act` as `key` with its next nonce, submits it to node `i` and waits for the
    /// commit; returns the transaction id (the id of anything the act creates) and the answer.
    fn perform(&self, i: u16, key: &SigningKey, act: impl Into<Act>) -> (Digest, Value) {
        let account = self
            .get(i, &format!("/v1/accounts/{}", key.public_key()))
            .unwrap();
        let nonce = account["next_nonce"].as_u64().unwrap();
        let (id, answer) = self.send_and_wait(i, key, nonce, act.into().to_bytes());
        (id.parse().unwrap(), answer)
    }

    fn send_and_wait(
        &self,
        i: u16,
        key: &SigningKey,
        nonce: u64,
        payload: Vec<u8>,
    ) -> (String, Value) {
        let tx = Transaction {
            signer: key.public_key(),
            nonce,
            payload,
        }
        .sign(key, &self.genesis.chain_id());
        let body = serde_json::json!({
            "txs": [hex::encode(tx.to_bytes())],
            "wait": true,
            "timeout_ms": 20_000,
        });
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        let mut response = agent
            .post(&format!("{}/v1/txs", self.api(i)))
            .send_json(&body)
            .unwrap();
        let mut answer: Value = response.body_mut().read_json().unwrap();
        (tx.id().to_string(), answer["results"][0].take())
    }

    fn wait_until(&self, what: &str, timeout: Duration, mut condition: impl FnMut() -> bool) {
        let deadline = Instant::now() + timeout;
        while !condition() {
            if Instant::now() > deadline {
                self.dump_logs();
                panic!("timed out waiting until {what}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn dump_logs(&self) {
        for i in 0..u16::try_from(self.children.len()).unwrap() {
            let text = std::fs::read_to_string(self.log(i)).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(40).collect();
            eprintln!("---- node {i} log (last 40 lines) ----");
            for line in tail.iter().rev() {
                eprintln!("{line}");
            }
        }
    }

    /// Every pair of the given nodes holds the same block at every height both have.
    fn assert_agree(&self, nodes: &[u16]) {
        let top = nodes
            .iter()
            .map(|i| self.last_height(*i))
            .min()
            .unwrap_or(0);
        for height in 1..=top {
            let ids: Vec<Option<String>> =
                nodes.iter().map(|i| self.block_id(*i, height)).collect();
            assert!(ids[0].is_some(), "no block at height {height}");
            assert!(
                ids.iter().all(|id| id == &ids[0]),
                "nodes disagree at height {height}: {ids:?}"
            );
        }
    }

    fn evidence_recorded(&self, i: u16) -> u64 {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let Ok(mut response) = agent.get(&format!("{}/metrics", self.api(i))).call() else {
            return 0;
        };
        let text = response.body_mut().read_to_string().unwrap_or_default();
        text.lines()
            .find(|line| line.starts_with("courtledger_evidence_total"))
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|value| value.parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.dump_logs();
        }
        for child in self.children.iter_mut().flatten() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn lock() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[test]
fn four_nodes_commit_transactions_and_agree_then_stop_cleanly() {
    let _guard = lock();
    let mut net = Net::start(4);
    net.wait_until(
        "every node committed a block",
        Duration::from_secs(30),
        || (0..4).all(|i| net.last_height(i) >= 1),
    );
    let key = net.registrar();
    let ids = net.submit(1, 200, &key);
    net.wait_until(
        "all 200 transactions are committed",
        Duration::from_secs(30),
        || {
            ids.iter().all(|id| {
                net.get(3, &format!("/v1/txs/{id}"))
                    .is_some_and(|s| s["status"] == "committed")
            })
        },
    );

    // Submit and wait: the answer says where it was committed, and that block (fetched by its
    // id from another node) holds it with the same receipt code.
    let (id, result) = net.submit_and_wait(2, &key);
    assert_eq!(result["id"], id.as_str(), "{result}");
    assert_eq!(result["status"], "committed", "{result}");
    assert_eq!(result["code"], 0, "{result}");
    let height = result["height"].as_u64().unwrap();
    let index = usize::try_from(result["index"].as_u64().unwrap()).unwrap();
    let block_id = result["block_id"].as_str().unwrap().to_owned();
    net.wait_until("node 3 has the block", Duration::from_secs(30), || {
        net.last_height(3) >= height
    });
    let block = net.get(3, &format!("/v1/blocks/0x{block_id}")).unwrap();
    assert_eq!(block["height"], height);
    assert_eq!(block["id"], block_id.as_str());
    assert_eq!(block["tx_ids"][index], id.as_str());
    assert_eq!(block["receipt_codes"][index], 0);
    let tx = net.get(3, &format!("/v1/txs/{id}")).unwrap();
    assert_eq!(
        (&tx["status"], &tx["height"], &tx["block_id"]),
        (
            &Value::from("committed"),
            &Value::from(height),
            &Value::from(block_id.as_str())
        )
    );

    let target = net.last_height(0) + 2;
    net.wait_until(
        "every node reaches the same height",
        Duration::from_secs(30),
        || (0..4).all(|i| net.last_height(i) >= target),
    );
    net.assert_agree(&[0, 1, 2, 3]);
    for i in 0..4 {
        assert!(net.terminate(i), "node {i} did not exit 0 on SIGTERM");
    }
}

#[test]
fn a_killed_node_catches_up_and_agrees() {
    let _guard = lock();
    let mut net = Net::start(4);
    net.wait_until("blocks are committed", Duration::from_secs(30), || {
        net.last_height(0) >= 2
    });
    net.kill(3);
    let before = net.last_height(0);
    net.wait_until(
        "the other three keep committing",
        Duration::from_secs(30),
        || [0, 1, 2].iter().all(|i| net.last_height(*i) >= before + 5),
    );
    net.restart(3);
    let target = net.last_height(0);
    net.wait_until(
        "the restarted node catches up",
        Duration::from_secs(30),
        || net.last_height(3) >= target,
    );
    net.assert_agree(&[0, 1, 2, 3]);
    assert_eq!((0..4).map(|i| net.evidence_recorded(i)).sum::<u64>(), 0);
}

#[test]
fn two_of_four_down_stops_commits_until_one_returns() {
    let _guard = lock();
    let mut net = Net::start(4);
    net.wait_until("blocks are committed", Duration::from_secs(30), || {
        net.last_height(0) >= 2
    });
    net.kill(2);
    net.kill(3);
    std::thread::sleep(Duration::from_secs(2));
    let stalled = net.last_height(0).max(net.last_height(1));
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        net.last_height(0).max(net.last_height(1)) <= stalled,
        "two of four validators cannot commit alone"
    );
    net.restart(2);
    net.wait_until(
        "commits resume with three of four",
        Duration::from_secs(30),
        || [0, 1, 2].iter().all(|i| net.last_height(*i) >= stalled + 3),
    );
    net.assert_agree(&[0, 1, 2]);
}

#[test]
fn sigkill_while_writing_loses_nothing_and_signs_nothing_twice() {
    let _guard = lock();
    let mut net = Net::start(4);
    net.wait_until("blocks are committed", Duration::from_secs(30), || {
        net.last_height(0) >= 1
    });
    let key = net.registrar();
    let mut committed_before_kill = Vec::new();
    for round in 0..3u64 {
        let ids = net.submit(0, 300, &key);
        std::thread::sleep(Duration::from_millis(150 + 100 * round));
        net.kill(1);
        // What node 0 reports committed now must survive node 1's crash.
        committed_before_kill.push(net.last_height(1).max(net.last_height(0)));
        net.restart(1);
        net.wait_until("the batch is committed", Duration::from_secs(30), || {
            ids.iter().all(|id| {
                net.get(0, &format!("/v1/txs/{id}"))
                    .is_some_and(|s| s["status"] == "committed")
            })
        });
    }
    let target = net.last_height(0);
    net.wait_until(
        "the killed node catches up",
        Duration::from_secs(30),
        || net.last_height(1) >= target,
    );
    net.assert_agree(&[0, 1, 2, 3]);
    assert_eq!(
        (0..4).map(|i| net.evidence_recorded(i)).sum::<u64>(),
        0,
        "a validator signed twice"
    );
}

#[test]
fn garbage_on_the_p2p_port_crashes_nothing() {
    use std::io::Write as _;
    let _guard = lock();
    let net = Net::start(4);
    net.wait_until("blocks are committed", Duration::from_secs(30), || {
        net.last_height(0) >= 1
    });
    for _ in 0..20 {
        if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", net.base_port)) {
            let _ = stream.write_all(&[0xde, 0xad, 0xbe, 0xef].repeat(4096));
        }
    }
    let before = net.last_height(0);
    net.wait_until(
        "the network keeps committing",
        Duration::from_secs(30),
        || (0..4).all(|i| net.last_height(i) >= before + 2),
    );
    net.assert_agree(&[0, 1, 2, 3]);
}

/// Registers `person` with `role` (and `court` for court staff) through the registrar; returns
/// the new identity's id.
fn register(
    net: &Net,
    registrar: &SigningKey,
    person: &SigningKey,
    role: Role,
    court: Option<&CourtCode>,
) -> Digest {
    let commitment = identity_commitment(
        &[9; 32],
        "resident_id",
        &person.public_key().to_string(),
        "某某",
    );
    let possession = sign_possession(
        person,
        &net.genesis.chain_id(),
        &Possession::Registration {
            key: &person.public_key(),
            role,
            court,
            commitment: &commitment,
        },
    );
    let (id, answer) = net.perform(
        0,
        registrar,
        RegisterIdentity {
            key: person.public_key(),
            role,
            court: court.cloned(),
            commitment,
            possession,
        },
    );
    assert_eq!(answer["code"], 0, "registration: {answer}");
    id
}

#[test]
fn a_case_goes_from_filing_to_judgment_and_every_node_serves_it() {
    let _guard = lock();
    let net = Net::start(4);
    net.wait_until(
        "every node committed a block",
        Duration::from_secs(30),
        || (0..4).all(|i| net.last_height(i) >= 1),
    );
    let registrar = net.registrar();
    let court = net.genesis.registrars[0].court_code.clone();
    let [plaintiff, defendant, clerk, judge] =
        [11u8, 12, 13, 14].map(|seed| SigningKey::from_seed(&[seed; 32]));
    let p1 = register(&net, &registrar, &plaintiff, Role::Party, None);
    let p2 = register(&net, &registrar, &defendant, Role::Party, None);
    let c1 = register(&net, &registrar, &clerk, Role::Clerk, Some(&court));
    let j1 = register(&net, &registrar, &judge, Role::Judge, Some(&court));

    let (case, answer) = net.perform(
        1,
        &plaintiff,
        FileCase {
            court: court.clone(),
            receiving_court: None,
            kind: CaseKind::Civil,
            plaintiffs: vec![PartyRef::Registered(p1)],
            defendants: vec![PartyRef::Registered(p2)],
            claim_summary: sha256(b"claim summary"),
            complaint: sha256(b"complaint"),
            attachments: Vec::new(),
            principal: None,
            power_of_attorney: None,
        },
    );
    assert_eq!(answer["code"], 0, "filing: {answer}");
    // Node 3 must have committed the filing before the stream opens there: otherwise the
    // filing's own event reaches the stream too (a race seen in CI).
    let filed_at = answer["height"].as_u64().unwrap();
    net.wait_until("node 3 has the filing", Duration::from_secs(30), || {
        net.last_height(3) >= filed_at
    });

    // Subscribe to the case's notifications before it is accepted.
    let (subscribed, ready) = std::sync::mpsc::channel();
    let events = std::thread::spawn({
        let url = format!("{}/v1/cases/{case}/events", net.api(3));
        move || read_events(&url, 4, &subscribed)
    });
    // The node subscribes before it answers with the stream's headers.
    ready
        .recv_timeout(Duration::from_secs(30))
        .expect("the event stream opened");

    // The plaintiff may not accept their own filing: committed, with a failure receipt.
    let (_, refused) = net.perform(
        2,
        &plaintiff,
        ReviewFiling {
            case,
            decision: Decision::Accept,
        },
    );
    assert_eq!(refused["status"], "committed", "{refused}");
    assert_eq!(
        refused["code"],
        courtledger_ledger::Code::NotAuthorized.number(),
        "{refused}"
    );

    let steps: Vec<(&SigningKey, Act)> = vec![
        (
            &clerk,
            ReviewFiling {
                case,
                decision: Decision::Accept,
            }
            .into(),
        ),
        (
            &clerk,
            AssignStaff {
                case,
                member: j1,
                role: CaseRole::Judge,
            }
            .into(),
        ),
        (
            &judge,
            IssueJudgment {
                case,
                kind: JudgmentKind::Judgment,
                document: sha256(b"judgment"),
            }
            .into(),
        ),
        (
            &judge,
            CloseCase {
                case,
                outcome: Outcome::Judgment,
            }
            .into(),
        ),
    ];
    let mut step_ids = Vec::new();
    for (key, act) in steps {
        let (id, answer) = net.perform(2, key, act);
        assert_eq!(answer["code"], 0, "{answer}");
        step_ids.push(id.to_string());
    }

    // Every node serves the same case once it has the last block.
    let height = net.last_height(2);
    net.wait_until(
        "all nodes have the closing block",
        Duration::from_secs(30),
        || (0..4).all(|i| net.last_height(i) >= height),
    );
    let year = net.get(0, &format!("/v1/cases/{case}")).unwrap()["number"]
        .as_str()
        .unwrap()
        .to_owned();
    for i in 0..4 {
        let view = net.get(i, &format!("/v1/cases/{case}")).unwrap();
        assert_eq!(view["status"], "closed", "{view}");
        assert_eq!(view["outcome"], "judgment", "{view}");
        assert_eq!(view["number"], year.as_str());
        assert!(
            year.ends_with(&format!("{court}民初1号")) && year.starts_with('('),
            "{year}"
        );
        let members: Vec<&str> = view["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["identity"].as_str().unwrap())
            .collect();
        assert!(
            members.contains(&p1.to_string().as_str())
                && members.contains(&j1.to_string().as_str())
        );
        assert_eq!(view["documents"][0]["kind"], "issue_judgment", "{view}");
    }
    let timeline = net.get(1, &format!("/v1/cases/{case}/timeline")).unwrap();
    let kinds: Vec<&str> = timeline["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "file_case",
            "review_filing",
            "assign_staff",
            "issue_judgment",
            "close_case"
        ]
    );
    let by_number = net
        .get(1, &format!("/v1/cases/by-number/{}", urlencode(&year)))
        .unwrap();
    assert_eq!(by_number["id"], case.to_string().as_str());
    let mine = net.get(3, &format!("/v1/identities/{p1}/cases")).unwrap();
    assert_eq!(mine["cases"][0]["id"], case.to_string().as_str());
    let closed = net
        .get(
            3,
            &format!(
                "/v1/courts/{}/cases?status=closed",
                urlencode(court.as_str())
            ),
        )
        .unwrap();
    assert_eq!(closed["cases"][0]["id"], case.to_string().as_str());
    let clerk_view = net.get(0, &format!("/v1/identities/{c1}")).unwrap();
    assert_eq!(clerk_view["role"], "clerk");
    assert_eq!(clerk_view["court"], court.as_str());

    // The case's stream pushed the successful acts in order (the refused review is not one).
    let pushed = events.join().unwrap();
    assert_eq!(pushed, step_ids, "case events");
    net.assert_agree(&[0, 1, 2, 3]);
}

/// Percent-encodes a path segment (court codes and case numbers are not ASCII).
fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Reads a server-sent event stream until `count` `tx` events arrived; returns their tx ids.
fn read_events(url: &str, count: usize, subscribed: &std::sync::mpsc::Sender<()>) -> Vec<String> {
    use std::io::{BufRead, BufReader};
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    let response = agent.get(url).call().unwrap();
    subscribed.send(()).unwrap();
    let reader = BufReader::new(response.into_body().into_reader());
    let mut ids = Vec::new();
    let mut is_tx = false;
    for line in reader.lines() {
        let line = line.unwrap();
        if line == "event: tx" {
            is_tx = true;
        } else if let Some(data) = line.strip_prefix("data: ") {
            if is_tx {
                let event: Value = serde_json::from_str(data).unwrap();
                if event["code"] == 0 {
                    ids.push(event["tx_id"].as_str().unwrap().to_owned());
                }
                if ids.len() == count {
                    break;
                }
            }
            is_tx = false;
        }
    }
    ids
}

/// A node's key, read from its home.
fn node_key(net: &Net, i: u16) -> SigningKey {
    courtledger_keystore::read_key_file(&net.home(i).join("node_key.json")).unwrap()
}

/// A change of `from` (whose validators' keys are `keys`, in set order) to `members`, approved
/// by the validators at `approvers`.
fn approved_change(
    net: &Net,
    from: &courtledger_types::ValidatorSet,
    keys: &[SigningKey],
    members: Vec<courtledger_types::SetMember>,
    activation_height: u64,
    approvers: &[u16],
) -> courtledger_types::SignedSetChange {
    let change = courtledger_types::SetChange {
        from_set_hash: from.hash(),
        activation_height,
        members,
    };
    let approvals = approvers
        .iter()
        .map(|index| change.approve(&keys[usize::from(*index)], &net.genesis.chain_id(), *index))
        .collect();
    courtledger_types::SignedSetChange { change, approvals }
}

#[test]
fn a_fifth_validator_joins_a_running_network_and_then_one_leaves() {
    let _guard = lock();
    let mut net = Net::start(4);
    net.wait_until("the network commits", Duration::from_secs(60), || {
        net.last_height(0) >= 2
    });

    // A new court's node: a home with a fresh key, started before it is a validator. The
    // validators refuse its connections until the change is recorded; it then follows.
    let p2p = format!("127.0.0.1:{}", net.base_port + 4);
    let api = format!("127.0.0.1:{}", net.base_port + 104);
    let status = Command::new(node_bin())
        .args(["init", "--out"])
        .arg(net.home(4))
        .arg("--genesis")
        .arg(net.dir.path().join("net/genesis.json"))
        .args(["--p2p", &p2p, "--api", &api])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "init failed");
    let config = net.home(4).join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("empty_block_wait_ms = 500", "empty_block_wait_ms = 100"),
    )
    .unwrap();
    let child = net.spawn(4);
    net.children.push(Some(child));

    let keys: Vec<SigningKey> = (0..5).map(|i| node_key(&net, i)).collect();
    let genesis_set = net.genesis.validator_set().clone();
    let mut members = net.genesis.set_members();
    members.push(courtledger_types::SetMember {
        court_code: CourtCode::new("京0199").unwrap(),
        validator: courtledger_types::Validator {
            public_key: keys[4].public_key(),
            voting_power: 1,
        },
        p2p_address: p2p.clone(),
    });
    let five_members = members.clone();
    let activation = net.last_height(0) + 8;
    let add = approved_change(&net, &genesis_set, &keys, members, activation, &[0, 1, 3]);
    // Signed by validator 2 (any validator of the set in force may submit it).
    let (_, answer) = net.send_and_wait(2, &keys[2], 1, add.to_payload());
    assert_eq!(answer["status"], "committed", "add: {answer}");
    assert_eq!(answer["code"], 0, "add: {answer}");
    let recorded = answer["height"].as_u64().unwrap();
    assert!(recorded < activation);
    // Node 2 answered once it committed the change; node 0 may commit that height a moment
    // later.
    net.wait_until(
        "node 0 commits the set change",
        Duration::from_secs(30),
        || net.last_height(0) >= recorded,
    );
    let validators = net.get(0, "/v1/validators").unwrap();
    assert_eq!(
        validators["pending"]["activation_height"], activation,
        "{validators}"
    );

    // The fifth node catches up and, from the activation height, signs blocks.
    net.wait_until(
        "the fifth validator signs",
        Duration::from_secs(120),
        || {
            let top = net.last_height(4);
            top > activation + 3
                && (activation..=top).any(|h| {
                    net.get(4, &format!("/v1/blocks/{h}"))
                        .and_then(|b| b["certificate"]["signers"].as_array().cloned())
                        .is_some_and(|signers| signers.iter().any(|s| s == 4))
                })
        },
    );
    let five: courtledger_types::ValidatorSet =
        courtledger_types::ValidatorSet::new(five_members.iter().map(|m| m.validator).collect())
            .unwrap();
    let before = net
        .get(0, &format!("/v1/blocks/{}", activation - 1))
        .unwrap();
    assert_eq!(
        before["next_validators_hash"],
        five.hash().to_string().as_str()
    );
    let after = net.get(0, &format!("/v1/blocks/{activation}")).unwrap();
    assert_eq!(after["validators_hash"], five.hash().to_string().as_str());
    let now = net.get(4, "/v1/validators").unwrap();
    assert_eq!(now["current"]["set_hash"], five.hash().to_string().as_str());
    assert_eq!(now["changes"].as_array().unwrap().len(), 1);

    // Validator 0 leaves: 4 of the 5 approve (more than two thirds), the new court submits.
    let remaining: Vec<_> = five_members[1..].to_vec();
    let four_keys: Vec<SigningKey> = keys.clone();
    let leave_at = net.last_height(1) + 8;
    let leave = approved_change(&net, &five, &four_keys, remaining, leave_at, &[1, 2, 3, 4]);
    let (_, answer) = net.send_and_wait(4, &keys[4], 1, leave.to_payload());
    assert_eq!(answer["code"], 0, "leave: {answer}");
    net.wait_until(
        "the set without validator 0 runs",
        Duration::from_secs(120),
        || net.last_height(1) > leave_at + 3,
    );
    for h in leave_at..=leave_at + 3 {
        let block = net.get(1, &format!("/v1/blocks/{h}")).unwrap();
        let proposer = block["proposer"].as_str().unwrap().to_owned();
        assert_ne!(proposer, keys[0].public_key().to_string(), "h{h}");
    }
    // The node that left follows the chain; stopping it stops nothing.
    let followed = net.last_height(0);
    net.wait_until("the old validator follows", Duration::from_secs(60), || {
        net.last_height(0) > followed + 2
    });
    net.kill(0);
    let top = net.last_height(1);
    net.wait_until(
        "four validators go on without it",
        Duration::from_secs(60),
        || net.last_height(1) > top + 3,
    );
    net.assert_agree(&[1, 2, 3, 4]);
}
