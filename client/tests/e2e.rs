//! End to end, as a user would: a real 4-court network of `courtledger-node` processes on
//! 127.0.0.1, driven only through the `courtledger` binary with `--json`.
//!
//! A registrar registers a plaintiff, a defendant, a clerk and a judge (commitment, each
//! person's possession signature, registration); the plaintiff files a civil case with real
//! files; the defendant's attempt to review it fails with `not_authorized`; the clerk accepts
//! it and assigns the judge; evidence, a hearing with a transcript both parties sign, a served
//! summons and its receipt, a judgment, the closing. The case is then read back from another
//! node, and `courtledger bench` runs a few hundred filings against the same network.
//!
//! The test builds both binaries first (`cargo build -p courtledger-node -p
//! courtledger-client`, with the `CARGO` and `CARGO_TARGET_DIR` it runs under). Every command
//! it runs is printed (see them with `--nocapture`); a failure prints the nodes' logs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Builds the node and the client and returns the directory holding both binaries.
fn build_binaries() -> PathBuf {
    let root = workspace_root();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "-p",
            "courtledger-node",
            "-p",
            "courtledger-client",
        ])
        .current_dir(&root)
        .status()
        .expect("cannot run cargo build");
    assert!(status.success(), "cargo build failed");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map_or_else(
            || root.join("target"),
            |dir| {
                if dir.is_absolute() {
                    dir
                } else {
                    root.join(dir)
                }
            },
        );
    let bin = target.join("debug");
    if bin.join("courtledger-node").exists() && bin.join("courtledger").exists() {
        return bin;
    }
    // Wherever cargo put the client built for this test, the node is beside it.
    Path::new(env!("CARGO_BIN_EXE_courtledger"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A base port such that base..base+count and base+100..base+100+count are free now.
fn free_base_port(count: u16) -> u16 {
    let seed = u16::try_from(std::process::id() % 150).unwrap();
    for attempt in 0..300u16 {
        let base = 40_000 + ((seed + attempt * 11) % 150) * 128;
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

/// A running testnet; its processes are killed when it is dropped, and a failing test prints
/// their logs.
struct Net {
    dir: tempfile::TempDir,
    bin: PathBuf,
    base_port: u16,
    children: Vec<Child>,
}

impl Net {
    fn start(bin: PathBuf, count: u16) -> Net {
        let dir = tempfile::tempdir().unwrap();
        let base_port = free_base_port(count);
        let out = dir.path().join("net");
        let status = Command::new(bin.join("courtledger-node"))
            .args(["testnet", "--validators", &count.to_string(), "--out"])
            .arg(&out)
            .args(["--base-port", &base_port.to_string()])
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "courtledger-node testnet failed");
        let mut net = Net {
            dir,
            bin,
            base_port,
            children: Vec::new(),
        };
        for i in 0..count {
            // Shorter waits for empty blocks than the default, to keep the test short.
            let config = out.join(format!("node{i}")).join("config.toml");
            let text = std::fs::read_to_string(&config).unwrap();
            let text = text.replace("empty_block_wait_ms = 500", "empty_block_wait_ms = 100");
            std::fs::write(&config, text).unwrap();
            let log = std::fs::File::create(net.log(i)).unwrap();
            let child = Command::new(net.bin.join("courtledger-node"))
                .args(["start", "--home"])
                .arg(out.join(format!("node{i}")))
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .unwrap();
            net.children.push(child);
        }
        net
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn log(&self, i: u16) -> PathBuf {
        self.path(&format!("node{i}.log"))
    }

    fn api(&self, i: u16) -> String {
        format!("http://127.0.0.1:{}", self.base_port + 100 + i)
    }

    fn get(&self, i: u16, path: &str) -> Option<Value> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(5)))
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

    fn wait_until(&self, what: &str, timeout: Duration, mut condition: impl FnMut() -> bool) {
        let deadline = Instant::now() + timeout;
        while !condition() {
            assert!(Instant::now() < deadline, "timed out waiting until {what}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Runs `courtledger --json ARGS` (against node 0, with the testnet's genesis, as if the
    /// user had exported COURTLEDGER_NODE and COURTLEDGER_GENESIS).
    fn courtledger(&self, args: &[&str]) -> Output {
        eprintln!("$ courtledger {}", args.join(" "));
        Command::new(self.bin.join("courtledger"))
            .arg("--json")
            .args(args)
            .env("COURTLEDGER_NODE", self.api(0))
            .env("COURTLEDGER_GENESIS", self.path("net/genesis.json"))
            .env_remove("COURTLEDGER_KEY")
            .env_remove("COURTLEDGER_PASSPHRASE")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    /// Runs a command that must succeed; returns its JSON document.
    fn ok(&self, args: &[&str]) -> Value {
        let out = self.courtledger(args);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "courtledger {args:?} failed ({}):\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_str(&stdout)
            .unwrap_or_else(|error| panic!("courtledger {args:?}: not JSON ({error}): {stdout}"))
    }

    /// Runs an act that must succeed, and checks that it was committed with code 0.
    fn act(&self, args: &[&str]) -> Value {
        let result = self.ok(args);
        assert_eq!(result["status"], "committed", "{result}");
        assert_eq!(result["code"], 0, "{result}");
        assert_eq!(result["code_name"], "ok", "{result}");
        assert!(result["height"].as_u64().unwrap() >= 1, "{result}");
        result
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
}

impl Drop for Net {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.dump_logs();
        }
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn id_of(result: &Value, field: &str) -> String {
    let id = result[field]
        .as_str()
        .unwrap_or_else(|| panic!("no {field} in {result}"))
        .to_owned();
    assert_eq!(id.len(), 64, "{field}: {id}");
    assert_eq!(result["tx_id"], id.as_str(), "{result}");
    id
}

/// A person the registrar registers: key file, public key, identity id.
struct Person {
    key: PathBuf,
    id: String,
}

/// `keys generate`, then the three registration steps: the registrar's `identity commit`, the
/// person's `identity possession`, the registrar's `identity register`.
#[allow(clippy::too_many_arguments)]
fn register(
    net: &Net,
    registrar: &Path,
    name: &str,
    id_number: &str,
    file: &str,
    role: &str,
    court: Option<&str>,
) -> Person {
    let key = net.path(file);
    let generated = net.ok(&["keys", "generate", "--out", s(&key)]);
    let public_key = generated["public_key"].as_str().unwrap().to_owned();

    let commit = net.ok(&[
        "identity",
        "commit",
        "--id-type",
        "resident_id_card",
        "--id-number",
        id_number,
        "--name",
        name,
    ]);
    let commitment = commit["commitment"].as_str().unwrap().to_owned();
    assert_eq!(commit["salt"].as_str().unwrap().len(), 64);

    let mut args = vec![
        "identity",
        "possession",
        "--key",
        s(&key),
        "--role",
        role,
        "--commitment",
        &commitment,
    ];
    if let Some(court) = court {
        args.extend(["--court", court]);
    }
    let possession = net.ok(&args);
    assert_eq!(possession["public_key"], public_key.as_str());
    let signature = possession["possession"].as_str().unwrap().to_owned();

    let mut args = vec![
        "identity",
        "register",
        "--key",
        s(registrar),
        "--public-key",
        &public_key,
        "--role",
        role,
        "--commitment",
        &commitment,
        "--possession",
        &signature,
    ];
    if let Some(court) = court {
        args.extend(["--court", court]);
    }
    let registered = net.act(&args);
    assert_eq!(registered["act"], "register_identity");
    assert_eq!(registered["role"], role);
    let id = id_of(&registered, "identity_id");
    Person { key, id }
}

#[test]
fn a_case_from_registration_to_closure_through_the_client_then_a_bench() {
    let started = Instant::now();
    let bin = build_binaries();
    eprintln!(
        "binaries in {} (built in {:?})",
        bin.display(),
        started.elapsed()
    );
    let net = Net::start(bin, 4);
    net.wait_until(
        "every node committed a block",
        Duration::from_secs(30),
        || (0..4).all(|i| net.last_height(i) >= 1),
    );
    let status = net.ok(&["status"]);
    assert!(status["last_committed_height"].as_u64().unwrap() >= 1);

    // The registrar of the first basic court in genesis, and that court.
    let genesis: Value =
        serde_json::from_str(&std::fs::read_to_string(net.path("net/genesis.json")).unwrap())
            .unwrap();
    let court = genesis["registrars"][0]["court_code"]
        .as_str()
        .unwrap()
        .to_owned();
    let registrar = net.path("net/registrars/registrar0.json");

    let plaintiff = register(
        &net,
        &registrar,
        "张三",
        "110105199001011234",
        "plaintiff.json",
        "party",
        None,
    );
    let defendant = register(
        &net,
        &registrar,
        "李四",
        "110105198502023456",
        "defendant.json",
        "party",
        None,
    );
    let clerk = register(
        &net,
        &registrar,
        "王五",
        "110105198803035678",
        "clerk.json",
        "clerk",
        Some(&court),
    );
    let judge = register(
        &net,
        &registrar,
        "赵六",
        "110105197504047890",
        "judge.json",
        "judge",
        Some(&court),
    );

    // The documents of the case, as files.
    let write = |name: &str, text: &str| {
        let path = net.path(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let complaint = write(
        "complaint.txt",
        "民事起诉状：原告张三诉被告李四借款合同纠纷一案。",
    );
    let claims = write(
        "claims.txt",
        "诉讼请求：一、判令被告偿还借款人民币50,000元。",
    );
    let contract = write(
        "contract.txt",
        "借款合同 2025-06-01，借款人李四，出借人张三。",
    );
    let transcript = write(
        "transcript.txt",
        "庭审笔录：原告、被告均到庭，陈述意见如下……",
    );
    let summons = write("summons.txt", "传票：李四，请于指定时间参加在线庭审。");
    let judgment = write(
        "judgment.txt",
        "民事判决书：被告李四于十日内偿还原告张三借款。",
    );

    let filed = net.act(&[
        "case",
        "file",
        "--key",
        s(&plaintiff.key),
        "--court",
        &court,
        "--kind",
        "civil",
        "--plaintiff",
        &plaintiff.id,
        "--defendant",
        &defendant.id,
        "--claim-summary",
        s(&claims),
        "--complaint",
        s(&complaint),
        "--attach",
        &format!("evidence={}", s(&contract)),
    ]);
    assert_eq!(filed["act"], "file_case");
    let case = id_of(&filed, "case_id");

    // The defendant may not review the filing: committed with a failure receipt, exit 1.
    let refused = net.courtledger(&[
        "case",
        "review",
        &case,
        "--accept",
        "--key",
        s(&defendant.key),
    ]);
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
    let error: Value = serde_json::from_slice(&refused.stdout).unwrap();
    assert_eq!(
        error["error"]["details"]["code_name"], "not_authorized",
        "{error}"
    );
    assert_eq!(error["error"]["details"]["status"], "committed", "{error}");
    assert!(error["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not_authorized"));

    net.act(&["case", "review", &case, "--accept", "--key", s(&clerk.key)]);
    net.act(&[
        "case",
        "assign",
        &case,
        "--member",
        &judge.id,
        "--role",
        "judge",
        "--key",
        s(&clerk.key),
    ]);
    let evidence = net.act(&[
        "evidence",
        "submit",
        &case,
        s(&contract),
        "--key",
        s(&plaintiff.key),
    ]);
    let evidence = id_of(&evidence, "evidence_id");

    let tomorrow =
        humantime::format_rfc3339_seconds(SystemTime::now() + Duration::from_secs(86_400))
            .to_string();
    let hearing = net.act(&[
        "hearing",
        "schedule",
        &case,
        "--at",
        &tomorrow,
        "--mode",
        "online",
        "--location",
        "online courtroom 3",
        "--key",
        s(&clerk.key),
    ]);
    let hearing = id_of(&hearing, "hearing_id");
    net.act(&["hearing", "hold", &hearing, "--key", s(&clerk.key)]);
    let recorded = net.act(&[
        "hearing",
        "transcript",
        &hearing,
        s(&transcript),
        "--signer",
        &format!("{},{}", plaintiff.id, defendant.id),
        "--key",
        s(&clerk.key),
    ]);
    let transcript_id = id_of(&recorded, "transcript_id");
    let signed = net.act(&[
        "hearing",
        "sign",
        &transcript_id,
        s(&transcript),
        "--key",
        s(&plaintiff.key),
    ]);
    let signature_tx = signed["tx_id"].as_str().unwrap().to_owned();
    net.act(&[
        "hearing",
        "sign",
        &transcript_id,
        s(&transcript),
        "--key",
        s(&defendant.key),
    ]);

    let served = net.act(&[
        "service",
        "serve",
        &case,
        "--recipient",
        &defendant.id,
        "--kind",
        "summons",
        s(&summons),
        "--key",
        s(&clerk.key),
    ]);
    let service = id_of(&served, "service_id");
    net.act(&[
        "service",
        "acknowledge",
        &service,
        s(&summons),
        "--key",
        s(&defendant.key),
    ]);

    let issued = net.act(&[
        "judgment",
        "issue",
        &case,
        "--kind",
        "judgment",
        s(&judgment),
        "--key",
        s(&judge.key),
    ]);
    let judgment_id = id_of(&issued, "judgment_id");
    let closed = net.act(&[
        "case",
        "close",
        &case,
        "--outcome",
        "judgment",
        "--key",
        s(&judge.key),
    ]);
    let closed_at = closed["height"].as_u64().unwrap();

    // The case, read back from another node once it has the closing block.
    net.wait_until(
        "node 3 has the closing block",
        Duration::from_secs(20),
        || net.last_height(3) >= closed_at,
    );
    let view = net.get(3, &format!("/v1/cases/{case}")).unwrap();
    assert_eq!(view["status"], "closed", "{view}");
    assert_eq!(view["outcome"], "judgment", "{view}");
    // The number's year is the review's year in Beijing time (UTC+8).
    let reviewed_ms = view["reviewed_at_ms"].as_u64().unwrap();
    let beijing = std::time::UNIX_EPOCH + Duration::from_millis(reviewed_ms + 8 * 3_600_000);
    let year = &humantime::format_rfc3339_seconds(beijing).to_string()[..4];
    assert_eq!(view["number"], format!("({year}){court}民初1号"), "{view}");
    let members: Vec<(&str, &str)> = view["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["identity"].as_str().unwrap(), m["role"].as_str().unwrap()))
        .collect();
    for expected in [
        (plaintiff.id.as_str(), "plaintiff"),
        (defendant.id.as_str(), "defendant"),
        (judge.id.as_str(), "judge"),
    ] {
        assert!(members.contains(&expected), "{expected:?} in {members:?}");
    }
    let documents = view["documents"].as_array().unwrap();
    let record = |kind: &str| -> &Value {
        &documents
            .iter()
            .find(|d| d["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind} in {view}"))["record"]
    };
    let transcript_record = record("record_transcript");
    assert_eq!(transcript_record["id"], transcript_id.as_str());
    assert_eq!(transcript_record["complete"], true, "{transcript_record}");
    let signers: Vec<&str> = transcript_record["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["identity"].as_str().unwrap())
        .collect();
    assert_eq!(signers.len(), 2, "{transcript_record}");
    assert!(signers.contains(&plaintiff.id.as_str()) && signers.contains(&defendant.id.as_str()));
    let service_record = record("serve_document");
    assert_eq!(service_record["id"], service.as_str());
    assert_eq!(service_record["recipient"], defendant.id.as_str());
    assert!(
        service_record["received_at_ms"].as_u64().is_some(),
        "{service_record}"
    );
    assert_eq!(record("submit_evidence")["id"], evidence.as_str());
    assert_eq!(record("issue_judgment")["id"], judgment_id.as_str());

    let timeline = net.get(2, &format!("/v1/cases/{case}/timeline")).unwrap();
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
            "submit_evidence",
            "schedule_hearing",
            "hold_hearing",
            "record_transcript",
            "sign_transcript",
            "sign_transcript",
            "serve_document",
            "acknowledge_service",
            "issue_judgment",
            "close_case",
        ]
    );
    let tx = net.ok(&["tx", "--id", closed["tx_id"].as_str().unwrap()]);
    assert_eq!(tx["status"], "committed");
    eprintln!("the case is closed after {:?}", started.elapsed());

    // A short benchmark on the same network: every filing committed on every node.
    let nodes = (0..4).map(|i| net.api(i)).collect::<Vec<_>>().join(",");
    let genesis = net.path("net/genesis.json");
    let bench = |args: &[&str]| {
        let common = [
            "bench",
            "--registrar",
            s(&registrar),
            "--genesis",
            s(&genesis),
            "--nodes",
            &nodes,
        ];
        net.ok(&[&common[..], args].concat())
    };
    let report = bench(&["--parties", "16", "--txs", "400", "--timeout-s", "30"]);
    eprintln!("{report}");
    assert_eq!(report["transactions"], 400, "{report}");
    assert_eq!(report["accepted"], 400, "{report}");
    assert_eq!(report["committed"], 400, "{report}");
    assert_eq!(report["receipt_codes"]["ok"], 400, "{report}");
    assert_eq!(report["rejected"], serde_json::json!({}), "{report}");
    assert_eq!(report["check"]["all_committed"], true, "{report}");
    assert_eq!(report["check"]["lost"], 0, "{report}");
    for node in report["check"]["per_node"].as_array().unwrap() {
        assert_eq!(node["committed"], 400, "{report}");
    }
    assert_eq!(report["latency_ms"]["samples"], 400, "{report}");
    assert!(report["committed_tx_per_s"].as_f64().unwrap() > 0.0);
    let bytes = report["tx_bytes"]["average"].as_u64().unwrap();
    assert!((300..=600).contains(&bytes), "{report}");
    eprintln!("the bench is done after {:?}", started.elapsed());

    // Cases through the court: judges registered in set-up, receipts and signatures held until
    // what they answer is committed, and every act succeeds.
    let report = bench(&[
        "--parties",
        "4",
        "--txs",
        "600",
        "--mix",
        "lifecycle",
        "--timeout-s",
        "60",
    ]);
    eprintln!("{report}");
    assert_eq!(report["act"], "lifecycle", "{report}");
    assert_eq!(report["staff"], 1, "{report}");
    assert_eq!(report["committed"], 600, "{report}");
    assert_eq!(report["receipt_codes"]["ok"], 600, "{report}");
    assert_eq!(report["rejected"], serde_json::json!({}), "{report}");
    assert_eq!(report["check"]["all_committed"], true, "{report}");
    for kind in ["acknowledge_service", "sign_transcript", "review_filing"] {
        assert!(
            report["acts"][kind].as_u64().unwrap() > 10,
            "{kind}: {report}"
        );
    }
    eprintln!("the lifecycle bench is done after {:?}", started.elapsed());

    audit_and_read(&net, &case, &signature_tx, &timeline);
    eprintln!("the audit is done after {:?}", started.elapsed());

    change_voting_power(&net);
    eprintln!("done after {:?}", started.elapsed());
}

/// The courts change the validator set with the client: one proposes giving validator 3 twice
/// the voting power, three of the four approve with their node keys, one submits; the change is
/// pending, then in force from its activation height.
fn change_voting_power(net: &Net) {
    let key = |i: u16| net.path(&format!("net/node{i}/node_key.json"));
    let shown = net.ok(&["validators", "show"]);
    let members = shown["current"]["members"].as_array().unwrap().clone();
    assert_eq!(members.len(), 4, "{shown}");
    let third = members[3]["public_key"].as_str().unwrap().to_owned();
    let file = net.path("power.change");
    let activation = (net.last_height(0) + 12).to_string();
    let proposed = net.ok(&[
        "validators",
        "propose",
        "--out",
        s(&file),
        "--activation-height",
        &activation,
        "--set-power",
        &format!("{third}=2"),
    ]);
    assert_eq!(proposed["approvals"], serde_json::json!([]), "{proposed}");
    // Submitting before a quorum approved is refused on this computer.
    let early = net.courtledger(&["validators", "submit", s(&file), "--key", s(&key(0))]);
    assert!(
        !early.status.success(),
        "a change without approvals was submitted"
    );
    for i in [0u16, 2, 3] {
        let approved = net.ok(&["validators", "approve", s(&file), "--key", s(&key(i))]);
        assert!(approved["approvals"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!(i)));
    }
    let inspected = net.ok(&["validators", "inspect", s(&file)]);
    assert_eq!(inspected["approved_power"], 3, "{inspected}");
    let submitted = net.ok(&["validators", "submit", s(&file), "--key", s(&key(1))]);
    assert_eq!(submitted["code"], 0, "{submitted}");
    let shown = net.ok(&["validators", "show"]);
    assert_eq!(
        shown["pending"]["activation_height"].to_string(),
        activation,
        "{shown}"
    );
    let activation: u64 = activation.parse().unwrap();
    net.wait_until("the change takes effect", Duration::from_secs(60), || {
        net.last_height(0) >= activation
    });
    let shown = net.ok(&["validators", "show"]);
    assert_eq!(shown["current"]["total_power"], 5, "{shown}");
    assert_eq!(shown["current"]["members"][3]["voting_power"], 2, "{shown}");
    assert_eq!(shown["changes"].as_array().unwrap().len(), 1, "{shown}");
    let top = net.last_height(0);
    net.wait_until("the new set commits", Duration::from_secs(60), || {
        (0..4).all(|i| net.last_height(i) > top + 2)
    });

    // The change itself is behaviour evidence of the courts, and the chain still audits from
    // genesis: the audit follows the set through the change.
    let genesis = net.path("net/genesis.json");
    let audit = net.ok(&["audit", "chain", "--genesis", s(&genesis), "--execute"]);
    assert_eq!(audit["verified"], true, "{audit}");
    assert!(audit["to"].as_u64().unwrap() >= activation, "{audit}");
    // Every act of the case and the bench, re-executed from genesis, gave each block's state
    // root as the validators committed it.
    assert_eq!(audit["executed"], true, "{audit}");
    assert!(audit["checks_passed"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!("execution")));
    // A proof of the change's transaction, offline: it carries the set link once refreshed to
    // a checkpoint certified by the new set.
    let tx = submitted["tx_id"].as_str().unwrap();
    let bundle = net.path("change.clproof");
    let refreshed = net.path("change-refreshed.clproof");
    net.ok(&["proof", "get", tx, "--out", s(&bundle)]);
    let refresh = net.ok(&["proof", "refresh", s(&bundle), "--out", s(&refreshed)]);
    assert_eq!(refresh["format_version"], 3, "{refresh}");
    let checkpoint = net.path("after-change.clcheckpoint");
    let height = net.last_height(0).to_string();
    let saved = net.ok(&[
        "audit",
        "checkpoint",
        "--height",
        &height,
        "--out",
        s(&checkpoint),
    ]);
    assert_eq!(saved["verified"], true, "{saved}");
    let grew = net.ok(&["audit", "consistency", "--checkpoint", s(&checkpoint)]);
    assert_eq!(grew["consistent"], true, "{grew}");
}

/// The auditor's commands on the network the case and the bench ran on: read blocks and the
/// case's timeline, refresh the proof of a transcript signature with a newer checkpoint, save a
/// checkpoint, audit the whole chain, and check that the history log only grew.
fn audit_and_read(net: &Net, case: &str, signature_tx: &str, timeline: &Value) {
    let genesis = net.path("net/genesis.json");

    // A checkpoint of block 2, saved now, compared with the chain at the end.
    let checkpoint = net.path("block2.clcheckpoint");
    let saved = net.ok(&[
        "audit",
        "checkpoint",
        "--height",
        "2",
        "--out",
        s(&checkpoint),
    ]);
    assert_eq!(saved["height"], 2, "{saved}");
    assert_eq!(saved["verified"], true, "{saved}");

    // The table of the last blocks.
    let blocks = net.ok(&["blocks", "--limit", "5"]);
    let rows = blocks["blocks"].as_array().unwrap();
    assert_eq!(rows.len(), 5, "{blocks}");
    for pair in rows.windows(2) {
        assert_eq!(
            pair[1]["height"].as_u64().unwrap(),
            pair[0]["height"].as_u64().unwrap() + 1
        );
    }
    assert!(rows[0]["proposer_court"].is_string(), "{blocks}");
    let first = net.ok(&["blocks", "--from", "1", "--limit", "3"]);
    assert_eq!(first["blocks"][0]["height"], 1, "{first}");
    assert_eq!(first["blocks"].as_array().unwrap().len(), 3, "{first}");

    // The case's timeline, through the client: the same acts, in order.
    let read = net.ok(&["case", "timeline", case]);
    let kinds = |events: &Value| -> Vec<String> {
        events
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(kinds(&read["events"]), kinds(&timeline["events"]), "{read}");
    assert!(read["events"][0]["time_beijing"]
        .as_str()
        .unwrap()
        .ends_with("+08:00"));

    // A proof, refreshed with the newest checkpoint, verifies offline.
    let bundle = net.path("sign.clproof");
    let refreshed = net.path("sign-refreshed.clproof");
    net.ok(&["proof", "get", signature_tx, "--out", s(&bundle)]);
    let refresh = net.ok(&["proof", "refresh", s(&bundle), "--out", s(&refreshed)]);
    assert_eq!(refresh["format_version"], 2, "{refresh}");
    let verified = net.ok(&["proof", "verify", s(&refreshed), "--genesis", s(&genesis)]);
    assert_eq!(verified["verified"], true, "{verified}");
    assert_eq!(verified["format_version"], 2, "{verified}");
    assert_eq!(verified["act"]["kind"], "sign_transcript", "{verified}");
    let block = verified["block"]["height"].as_u64().unwrap();
    let at = verified["checkpoint"]["height"].as_u64().unwrap();
    assert!(at > block, "checkpoint {at}, block {block}");
    assert_eq!(
        verified["checkpoint"]["leaf_index"], refresh["checkpoint"]["leaf_index"],
        "{verified}"
    );

    // The whole chain, from genesis, trusting nothing but the genesis file.
    let before = net.last_height(0);
    let audit = net.ok(&["audit", "chain", "--genesis", s(&genesis)]);
    eprintln!("{audit}");
    assert_eq!(audit["verified"], true, "{audit}");
    let to = audit["to"].as_u64().unwrap();
    assert!(to >= before && to <= net.last_height(0), "{audit}");
    assert_eq!(audit["blocks"], to, "{audit}");
    assert_eq!(audit["last"]["height"], to, "{audit}");
    let last = net.get(0, &format!("/v1/blocks/{to}")).unwrap();
    assert_eq!(audit["last"]["block_id"], last["id"], "{audit}");
    assert_eq!(audit["transactions"], last["log_size"], "{audit}");
    assert!(audit["transactions"].as_u64().unwrap() >= 400);
    assert!(
        audit["verify_blocks_per_s"].as_f64().unwrap() > 0.0,
        "{audit}"
    );
    // Part of it, from a certified block in the middle.
    let middle = to / 2 + 1;
    let part = net.ok(&[
        "audit",
        "chain",
        "--from",
        &middle.to_string(),
        "--to",
        &to.to_string(),
    ]);
    assert_eq!(part["blocks"], to - middle + 1, "{part}");
    assert_eq!(part["last"]["block_id"], last["id"], "{part}");

    // The history log only grew: from block 2, and from the checkpoint saved earlier.
    let grew = net.ok(&[
        "audit",
        "consistency",
        "--from",
        "2",
        "--to",
        &to.to_string(),
    ]);
    assert_eq!(grew["consistent"], true, "{grew}");
    assert_eq!(grew["to"]["height"], to, "{grew}");
    assert_eq!(grew["to"]["log_size"], last["log_size"], "{grew}");
    let grew = net.ok(&["audit", "consistency", "--checkpoint", s(&checkpoint)]);
    assert_eq!(grew["consistent"], true, "{grew}");
    assert_eq!(grew["from"]["height"], 2, "{grew}");
}
