//! `courtledger bench`: a load generator of real judicial acts against a running network.
//!
//! **Setup** (not timed): a registrar listed in genesis registers `--parties` new party
//! identities (fresh keys, salted commitments, each party's own possession signature), in
//! batches submitted with `wait`, and every node is given time to reach the block that
//! committed them.
//!
//! **Timed phase**: every transaction is signed before the clock starts. Each one is a party
//! filing a civil case (`file_case`) against a defendant who is not registered (a salted
//! commitment), with the SHA-256 of a complaint and a claim summary and one to three
//! attachments, so that transactions are 300 to 600 bytes like real acts. Party `p` submits
//! through node `p mod nodes`, its nonces in order (1, 2, 3, ...), in batches of `--batch`,
//! open loop or at `--rate` transactions per second in total. At a fixed rate a late answer
//! does not lower the offered rate: the next request carries everything that fell due
//! meanwhile.
//!
//! Commits are watched on the first node's event stream (`GET /v1/events`, server-sent
//! events): a transaction's latency is from just before its submission to the moment its commit
//! event arrives. If the stream is refused or falls behind, committed blocks are read instead
//! (`GET /v1/blocks?from=` every 50 ms; latency is then up to the moment the block was read).
//!
//! **The end check**: every node's blocks since the start are read back, and every transaction
//! a node accepted must be in them (nothing lost). The report gives offered and committed
//! transactions per second, latency percentiles, refusals by the node's error code, receipt
//! codes, blocks, and the check.

// Counts become floating-point rates and percentiles here; precision loss is irrelevant.
#![allow(clippy::as_conversions, clippy::cast_precision_loss)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use clap::Args;
use courtledger_codec::Encode;
use courtledger_crypto::{sha256, ChainId, SigningKey};
use courtledger_ledger::act::{Attachment, FileCase, RegisterIdentity};
use courtledger_ledger::{
    identity_commitment, sign_possession, Act, AttachmentKind, CaseKind, Code, IdentityId,
    PartyRef, Possession, Role,
};
use courtledger_types::{CourtCode, CourtLevel, Genesis, SignedTransaction};
use rand_core::{OsRng, RngCore as _};
use serde_json::{json, Value};

use crate::http::{agent_with_timeout, get_json_with, post_json_with};
use crate::output::Printer;
use crate::submit::{next_nonce, sign_act};
use crate::{keys, read_genesis};

/// Most transactions in one submission (the node's limit).
pub const MAX_BATCH: usize = 4096;

/// Most transactions a late sender puts in one request at a fixed rate: 2,048 of the bench's
/// acts (at most 600 bytes, 1,200 in hex) make a body of at most about 2.5 MB, within a node's
/// 4 MiB.
const MAX_CATCH_UP: usize = 2048;
/// Registrations per setup submission.
const SETUP_BATCH: usize = 2048;

/// `courtledger bench`: its command-line options.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// The key file of a registrar listed in genesis (a testnet writes them to
    /// `<testnet>/registrars/registrar{i}.json`); it registers the parties during set-up.
    #[arg(long, value_name = "KEY_FILE")]
    pub registrar: PathBuf,
    /// The chain's genesis file.
    #[arg(long, env = "COURTLEDGER_GENESIS", value_name = "FILE")]
    pub genesis: PathBuf,
    /// Node APIs to submit to, comma-separated; commits are watched on the first. Without it,
    /// --node.
    #[arg(long, value_delimiter = ',', value_name = "URLS")]
    pub nodes: Vec<String>,
    /// Party identities registered during set-up; they file the cases.
    #[arg(long, default_value_t = 64)]
    pub parties: usize,
    /// Transactions (case filings) in the timed phase.
    #[arg(long, default_value_t = 10_000)]
    pub txs: usize,
    /// Offered rate in transactions per second, over all nodes (0: as fast as possible).
    #[arg(long, default_value_t = 0)]
    pub rate: u64,
    /// Transactions per submission (at most 4096; with --rate, at most 50 ms of the rate).
    #[arg(long, default_value_t = 256)]
    pub batch: usize,
    /// Seconds to wait for every commit.
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    pub timeout_s: u64,
}

/// What to run.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Node API base URLs, without a trailing `/`; submissions are spread over them and commits
    /// are watched on the first.
    pub nodes: Vec<String>,
    /// Party identities to register.
    pub parties: usize,
    /// Transactions in the timed phase.
    pub txs: usize,
    /// Offered rate in transactions per second; 0 sends as fast as possible.
    pub rate: u64,
    /// Transactions per submission (at a fixed rate, smaller batches are sent about every
    /// 50 ms).
    pub batch: usize,
    /// Give up waiting for commits after this long.
    pub timeout: Duration,
}

/// Runs `courtledger bench` and prints its report.
pub fn run_command(args: &BenchArgs, default_node: &str, printer: Printer) -> anyhow::Result<()> {
    let registrar = keys::load_key(&args.registrar)?.key;
    let genesis = read_genesis(&args.genesis)?;
    let nodes: Vec<String> = if args.nodes.is_empty() {
        vec![default_node.to_owned()]
    } else {
        args.nodes
            .iter()
            .map(|node| node.trim().trim_end_matches('/').to_owned())
            .filter(|node| !node.is_empty())
            .collect()
    };
    let options = BenchOptions {
        nodes,
        parties: args.parties,
        txs: args.txs,
        rate: args.rate,
        batch: args.batch,
        timeout: Duration::from_secs(args.timeout_s.max(1)),
    };
    let report = run(&genesis, &registrar, &options, !printer.json)?;
    printer.result(&report, &report_text(&report))
}

/// Progress for people, on stderr (stdout holds the report).
fn progress(enabled: bool, text: &str) {
    if enabled {
        eprintln!("{text}");
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The JSON body of a 200 answer, or `None`.
fn get_json(agent: &ureq::Agent, url: &str) -> Option<Value> {
    match get_json_with(agent, url) {
        Ok((200, body)) => Some(body),
        _ => None,
    }
}

fn last_height(agent: &ureq::Agent, node: &str) -> Option<u64> {
    get_json(agent, &format!("{node}/v1/status")).and_then(|s| s["last_committed_height"].as_u64())
}

fn percentile(sorted: &[f64], fraction: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let last = sorted.len() - 1;
    let rank = (fraction * last as f64).round();
    let index = usize::try_from(rank as u64).unwrap_or(last).min(last);
    sorted[index]
}

/// A party of the benchmark: its key and, once registered, its identity id.
struct Party {
    key: SigningKey,
    id: IdentityId,
}

/// A plausible 18-digit resident ID number (region, birth date, serial, check character).
fn id_number(seed: &[u8; 32]) -> String {
    let n = |i: usize| u32::from(seed[i]);
    format!(
        "110{:03}{}{:02}{:02}{:03}{}",
        n(0) % 120,
        1950 + n(1) % 55,
        1 + n(2) % 12,
        1 + n(3) % 28,
        n(4) % 1000,
        ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "X"][usize::from(seed[5] % 11)],
    )
}

fn person_name(seed: &[u8; 32]) -> String {
    const SURNAMES: [&str; 8] = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄"];
    const GIVEN: [&str; 8] = ["伟", "芳", "娜", "敏", "静", "磊", "洋", "勇"];
    format!(
        "{}{}{}",
        SURNAMES[usize::from(seed[6] % 8)],
        GIVEN[usize::from(seed[7] % 8)],
        GIVEN[usize::from(seed[8] % 8)]
    )
}

/// The registrar's registration of a new party with a fresh key; returns the key and the act.
fn new_party(chain_id: &ChainId) -> (SigningKey, Act) {
    let key = SigningKey::generate(&mut OsRng);
    let mut salt = [0u8; 32];
    OsRng.fill_bytes(&mut salt);
    let act = registration(&key, salt, chain_id);
    (key, act)
}

/// The registrar's registration of the party holding `key`: a salted commitment to a
/// plausible person drawn from `salt`, and the party's own possession signature.
pub fn registration(key: &SigningKey, salt: [u8; 32], chain_id: &ChainId) -> Act {
    let person = sha256(&salt).0;
    let commitment = identity_commitment(
        &salt,
        "resident_id_card",
        &id_number(&person),
        &person_name(&person),
    );
    let public_key = key.public_key();
    let possession = sign_possession(
        key,
        chain_id,
        &Possession::Registration {
            key: &public_key,
            role: Role::Party,
            court: None,
            commitment: &commitment,
        },
    );
    Act::from(RegisterIdentity {
        key: public_key,
        role: Role::Party,
        court: None,
        commitment,
        possession,
    })
}

/// Set-up: the registrar registers `count` parties, batch after batch, each batch waited for;
/// then every node is given time to reach the last of those blocks.
fn register_parties(
    genesis: &Genesis,
    registrar: &SigningKey,
    options: &BenchOptions,
    verbose: bool,
) -> anyhow::Result<(Vec<Party>, u64)> {
    let chain_id = genesis.chain_id();
    let node = &options.nodes[0];
    let mut nonce = next_nonce(node, &registrar.public_key())?;
    let agent = agent_with_timeout(Duration::from_secs(45));
    let mut parties = Vec::with_capacity(options.parties);
    let mut top_height = 0;
    while parties.len() < options.parties {
        let count = (options.parties - parties.len()).min(SETUP_BATCH);
        let mut keys = Vec::with_capacity(count);
        let mut txs = Vec::with_capacity(count);
        for _ in 0..count {
            let (key, act) = new_party(&chain_id);
            txs.push(sign_act(registrar, &chain_id, nonce, &act)?);
            keys.push(key);
            nonce += 1;
        }
        let body = json!({
            "txs": txs.iter().map(|tx| hex::encode(tx.to_bytes())).collect::<Vec<_>>(),
            "wait": true,
            "timeout_ms": 30_000,
        });
        let (status, answer) = post_json_with(&agent, &format!("{node}/v1/txs"), &body)?;
        let results = answer["results"].as_array().with_context(|| {
            format!("the node refused the registrations (HTTP {status}): {answer}")
        })?;
        for ((tx, key), result) in txs.iter().zip(keys).zip(results) {
            if result["status"] != "committed" {
                bail!(
                    "registering a party: not committed within 30 s or refused: {result} \
                     (is {} a registrar listed in genesis, with enough time?)",
                    registrar.public_key()
                );
            }
            let code = result["code"].as_u64().unwrap_or(u64::MAX);
            if code != 0 {
                let name = u16::try_from(code).map_or("unknown", Code::describe);
                bail!("registering a party failed on the ledger: code {code} {name}");
            }
            top_height = top_height.max(result["height"].as_u64().unwrap_or(0));
            parties.push(Party { key, id: tx.id() });
        }
        progress(
            verbose,
            &format!(
                "set-up: {} of {} parties registered",
                parties.len(),
                options.parties
            ),
        );
    }
    // Every node must know the parties before they sign anything there.
    let deadline = Instant::now() + Duration::from_secs(30);
    let short = agent_with_timeout(Duration::from_secs(5));
    for node in &options.nodes {
        while last_height(&short, node).unwrap_or(0) < top_height {
            if Instant::now() > deadline {
                bail!("{node} did not reach height {top_height} (the set-up's last block) in 30 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    Ok((parties, top_height))
}

/// One pre-signed filing of the timed phase.
struct Load {
    tx: SignedTransaction,
    id: String,
    party: usize,
    nonce: u64,
    bytes: usize,
}

/// A civil case filed by the registered party `plaintiff` at `court`, against one or two
/// unregistered defendants, with one to three attachments. `seed` makes it unique. The load of
/// `courtledger bench` and of the micro-benchmarks (crate `courtledger-bench`).
pub fn filing(plaintiff: IdentityId, court: &CourtCode, seed: &[u8; 32]) -> Act {
    let pick = |i: usize| u64::from(seed[i]);
    let size = |i: usize, base: u64, span: u64| {
        base + u64::from_be_bytes([0, 0, 0, 0, seed[i], seed[i + 1], seed[i + 2], seed[i + 3]])
            % span
    };
    let defendants = (0..1 + usize::from(seed[0].is_multiple_of(4)))
        .map(|d| {
            let person = sha256(
                &[
                    seed.as_slice(),
                    b"defendant",
                    &[u8::try_from(d).unwrap_or(0)],
                ]
                .concat(),
            )
            .0;
            PartyRef::Unregistered(identity_commitment(
                &person,
                "resident_id_card",
                &id_number(&person),
                &person_name(&person),
            ))
        })
        .collect();
    const KINDS: [AttachmentKind; 4] = [
        AttachmentKind::IdDocument,
        AttachmentKind::Evidence,
        AttachmentKind::Evidence,
        AttachmentKind::Other,
    ];
    let attachments = (0..1 + pick(1) % 3)
        .map(|a| {
            let a = usize::try_from(a).unwrap_or(0);
            Attachment {
                kind: KINDS[(usize::from(seed[2]) + a) % KINDS.len()],
                sha256: sha256(
                    &[
                        seed.as_slice(),
                        b"attachment",
                        &[u8::try_from(a).unwrap_or(0)],
                    ]
                    .concat(),
                ),
                // Scans and photos: 40 KB to 8 MB.
                size: size(4 + 4 * a, 40_000, 8_000_000),
            }
        })
        .collect();
    Act::from(FileCase {
        court: court.clone(),
        receiving_court: None,
        kind: CaseKind::Civil,
        plaintiffs: vec![PartyRef::Registered(plaintiff)],
        defendants,
        claim_summary: sha256(&[seed.as_slice(), b"claim summary"].concat()),
        complaint: sha256(&[seed.as_slice(), b"complaint"].concat()),
        attachments,
        principal: None,
        power_of_attorney: None,
    })
}

/// Signs the timed load: transaction `n` is party `n mod parties`'s, with nonces 1, 2, 3, ...
fn sign_load(genesis: &Genesis, parties: &[Party], txs: usize) -> anyhow::Result<Vec<Load>> {
    let chain_id = genesis.chain_id();
    // Cases go to the basic courts (where civil cases start), in turn.
    let mut courts: Vec<CourtCode> = genesis
        .courts
        .iter()
        .filter(|court| court.level == CourtLevel::Basic)
        .map(|court| court.code.clone())
        .collect();
    if courts.is_empty() {
        courts = genesis
            .courts
            .iter()
            .map(|court| court.code.clone())
            .collect();
    }
    if courts.is_empty() {
        bail!("the genesis has no court to file cases at");
    }
    let mut run = [0u8; 32];
    OsRng.fill_bytes(&mut run);
    (0..txs)
        .map(|n| {
            let party = n % parties.len();
            let nonce = 1 + u64::try_from(n / parties.len()).unwrap_or(u64::MAX - 1);
            let seed =
                sha256(&[run.as_slice(), &u64::try_from(n).unwrap_or(0).to_be_bytes()].concat()).0;
            let act = filing(parties[party].id, &courts[n % courts.len()], &seed);
            let tx = sign_act(&parties[party].key, &chain_id, nonce, &act)?;
            let bytes = tx.to_bytes().len();
            Ok(Load {
                id: tx.id().to_string(),
                tx,
                party,
                nonce,
                bytes,
            })
        })
        .collect()
}

/// A commit this benchmark saw.
#[derive(Debug, Clone, Copy)]
struct Seen {
    /// When its commit event arrived (or the block holding it was read).
    at: Instant,
    /// The block's height.
    height: u64,
}

/// What the event stream, the submitters and the block reader share.
#[derive(Default)]
struct Shared {
    /// Submission time of each transaction id.
    submitted: Mutex<HashMap<String, Instant>>,
    /// Commits of our transactions.
    seen: Mutex<HashMap<String, Seen>>,
    /// Refused transactions: id → (error code, message).
    refused: Mutex<HashMap<String, (String, String)>>,
    /// The event stream lost events (or ended): read blocks.
    lagged: AtomicBool,
    /// Submitters stop early (timeout).
    stop: AtomicBool,
}

/// Reads the server-sent events of `response` and records commits of `ours`.
fn follow_events(
    response: ureq::http::Response<ureq::Body>,
    ours: &HashSet<String>,
    shared: &Shared,
) {
    let reader = BufReader::new(response.into_body().into_reader());
    let mut event = String::new();
    for line in reader.lines() {
        let Ok(line) = line else { break };
        if line.is_empty() {
            event.clear();
        } else if let Some(name) = line.strip_prefix("event:") {
            event = name.trim().to_owned();
            if event == "lagged" {
                shared.lagged.store(true, Ordering::SeqCst);
            }
        } else if let Some(data) = line.strip_prefix("data:") {
            if event != "tx" {
                continue;
            }
            let now = Instant::now();
            let Ok(value) = serde_json::from_str::<Value>(data.trim()) else {
                continue;
            };
            let Some(id) = value["tx_id"].as_str() else {
                continue;
            };
            if ours.contains(id) {
                lock(&shared.seen).entry(id.to_owned()).or_insert(Seen {
                    at: now,
                    height: value["height"].as_u64().unwrap_or(0),
                });
            }
        }
    }
    // The stream ended: whatever comes next must be read from blocks.
    shared.lagged.store(true, Ordering::SeqCst);
}

/// A committed block, as far as this benchmark needs it.
struct BlockInfo {
    height: u64,
    txs: Vec<(String, u16)>,
}

/// The blocks of `node` from `from` to its last one (pages of at most 100).
fn read_blocks(agent: &ureq::Agent, node: &str, from: u64) -> anyhow::Result<Vec<BlockInfo>> {
    let mut blocks = Vec::new();
    let mut next = Some(from);
    while let Some(from) = next {
        let url = format!("{node}/v1/blocks?from={from}&limit=100");
        let (status, page) = get_json_with(agent, &url)?;
        if status != 200 {
            bail!("{url} answered {status}: {page}");
        }
        for block in page["blocks"].as_array().map_or(&[][..], Vec::as_slice) {
            let ids = block["tx_ids"].as_array().map_or(&[][..], Vec::as_slice);
            let codes = block["receipt_codes"]
                .as_array()
                .map_or(&[][..], Vec::as_slice);
            blocks.push(BlockInfo {
                height: block["height"].as_u64().unwrap_or(0),
                txs: ids
                    .iter()
                    .zip(codes.iter().map(Some).chain(std::iter::repeat(None)))
                    .filter_map(|(id, code)| {
                        let code = code
                            .and_then(Value::as_u64)
                            .and_then(|c| u16::try_from(c).ok())
                            .unwrap_or(u16::MAX);
                        id.as_str().map(|id| (id.to_owned(), code))
                    })
                    .collect(),
            });
        }
        next = page["next_from"].as_u64();
    }
    Ok(blocks)
}

/// Submits one node's share of the load (`queue`, in order), in batches of `batch_size`, at its
/// share of the rate (open loop when `rate_share` is 0).
///
/// At a fixed rate the offered load does not wait for the node: one request at a time is in
/// flight, so when an answer comes late every transaction that fell due meanwhile goes in the
/// next request (up to [`MAX_CATCH_UP`]), rather than the rate sinking to one batch per round
/// trip.
fn submit_share(
    node: &str,
    queue: &[&Load],
    batch_size: usize,
    rate_share: f64,
    started: Instant,
    shared: &Shared,
) {
    let agent = agent_with_timeout(Duration::from_secs(60));
    let url = format!("{node}/v1/txs");
    let mut sent = 0usize;
    while sent < queue.len() {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        let mut take = batch_size;
        if rate_share > 0.0 {
            let due = Duration::from_secs_f64(sent as f64 / rate_share);
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                std::thread::sleep(wait);
            }
            // Everything due by now, at least one batch.
            let due_now = (started.elapsed().as_secs_f64() * rate_share) as usize;
            take = due_now
                .saturating_sub(sent)
                .clamp(batch_size, MAX_CATCH_UP.max(batch_size));
        }
        let batch = &queue[sent..queue.len().min(sent + take)];
        let body = json!({
            "txs": batch.iter().map(|load| hex::encode(load.tx.to_bytes())).collect::<Vec<_>>()
        });
        let now = Instant::now();
        {
            let mut submitted = lock(&shared.submitted);
            for load in batch {
                submitted.insert(load.id.clone(), now);
            }
        }
        sent += batch.len();
        let answer = post_json_with(&agent, &url, &body);
        let mut refused = lock(&shared.refused);
        let results = answer
            .as_ref()
            .ok()
            .and_then(|(_, body)| body["results"].as_array());
        match (results, &answer) {
            (Some(results), _) => {
                for (load, result) in batch.iter().zip(results) {
                    if result["accepted"] != true {
                        let error = &result["error"];
                        let code = error["code"].as_str().unwrap_or("unknown").to_owned();
                        let message = error["message"].as_str().unwrap_or_default().to_owned();
                        refused.insert(load.id.clone(), (code, message));
                    }
                }
            }
            (None, Ok((status, body))) => {
                let code = body["error"]["code"]
                    .as_str()
                    .map_or_else(|| format!("http_{status}"), str::to_owned);
                let message = body["error"]["message"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                for load in batch {
                    refused.insert(load.id.clone(), (code.clone(), message.clone()));
                }
            }
            (None, Err(error)) => {
                for load in batch {
                    refused.insert(
                        load.id.clone(),
                        ("unreachable".to_owned(), format!("{error:#}")),
                    );
                }
            }
        }
    }
}

/// Runs the benchmark against `options.nodes` with `registrar` (a registrar listed in
/// `genesis`) and returns its report. `verbose` prints progress on stderr.
pub fn run(
    genesis: &Genesis,
    registrar: &SigningKey,
    options: &BenchOptions,
    verbose: bool,
) -> anyhow::Result<Value> {
    if options.nodes.is_empty() || options.txs == 0 || options.parties == 0 {
        bail!("need at least one node, one transaction and one party");
    }
    if !(1..=MAX_BATCH).contains(&options.batch) {
        bail!("--batch is 1 to {MAX_BATCH}");
    }
    if !genesis
        .registrars
        .iter()
        .any(|r| r.public_key == registrar.public_key())
    {
        bail!(
            "{} is not a registrar listed in the genesis file; give --registrar the key file of \
             one (a testnet writes them to <testnet>/registrars/)",
            registrar.public_key()
        );
    }
    let quick = agent_with_timeout(Duration::from_secs(5));
    let chain_id = genesis.chain_id().to_string();
    for node in &options.nodes {
        let status = get_json(&quick, &format!("{node}/v1/status"))
            .with_context(|| format!("cannot read the status of {node}"))?;
        if status["chain_id"] != chain_id.as_str() {
            bail!(
                "{node} runs chain {}, not this genesis' {chain_id}",
                status["chain_id"]
            );
        }
    }

    // Set-up, not timed.
    progress(
        verbose,
        &format!("set-up: registering {} parties...", options.parties),
    );
    let setup_started = Instant::now();
    let (parties, setup_height) = register_parties(genesis, registrar, options, verbose)?;
    let setup_seconds = setup_started.elapsed().as_secs_f64();

    progress(verbose, &format!("signing {} case filings...", options.txs));
    let load = sign_load(genesis, &parties, options.txs)?;
    let total = load.len();
    let ours: Arc<HashSet<String>> = Arc::new(load.iter().map(|l| l.id.clone()).collect());
    let sizes: Vec<usize> = load.iter().map(|l| l.bytes).collect();
    let start_height = last_height(&quick, &options.nodes[0])
        .context("cannot read the first node's status")?
        .max(setup_height);

    // Watch commits on the first node's event stream, subscribed before the clock starts.
    let shared = Arc::new(Shared::default());
    let stream_agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let events = stream_agent
        .get(&format!("{}/v1/events", options.nodes[0]))
        .call();
    let latency_source = match events {
        Ok(response) if response.status().as_u16() == 200 => {
            let ours = Arc::clone(&ours);
            let shared = Arc::clone(&shared);
            std::thread::spawn(move || follow_events(response, &ours, &shared));
            "events"
        }
        _ => {
            progress(
                verbose,
                "the event stream is not available: reading blocks instead",
            );
            shared.lagged.store(true, Ordering::SeqCst);
            "blocks"
        }
    };

    // Each party submits through one node, so its nonces arrive in order.
    let node_count = options.nodes.len();
    // At a fixed rate, each node's thread sends about every 50 ms, so the load is smooth.
    let rate_share = options.rate as f64 / node_count as f64;
    let batch = if options.rate > 0 {
        options.batch.min(((rate_share / 20.0) as usize).max(1))
    } else {
        options.batch
    };
    let mut queues: Vec<Vec<&Load>> = vec![Vec::new(); node_count];
    for l in &load {
        queues[l.party % node_count].push(l);
    }

    progress(
        verbose,
        &format!("submitting {total} transactions to {node_count} node(s)..."),
    );
    let started = Instant::now();
    let deadline = started + options.timeout;
    let mut submit_done: Option<Instant> = None;
    let mut scan_from = start_height + 1;
    let mut timed_out = false;
    let mut expected: Option<usize> = None;
    let block_agent = agent_with_timeout(Duration::from_secs(30));
    // Without the event stream, or once it lost events, commits are read from blocks.
    let mut poll_blocks = latency_source == "blocks";
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let senders: Vec<_> = options
            .nodes
            .iter()
            .zip(&queues)
            .map(|(node, queue)| {
                let shared = &*shared;
                scope.spawn(move || submit_share(node, queue, batch, rate_share, started, shared))
            })
            .collect();
        let outcome = loop {
            let all_sent = senders.iter().all(|s| s.is_finished());
            if all_sent && submit_done.is_none() {
                submit_done = Some(Instant::now());
            }
            if shared.lagged.swap(false, Ordering::SeqCst) && !poll_blocks {
                progress(
                    verbose,
                    "the event stream fell behind: reading blocks from now on",
                );
                poll_blocks = true;
            }
            if poll_blocks {
                let blocks = match read_blocks(&block_agent, &options.nodes[0], scan_from) {
                    Ok(blocks) => blocks,
                    Err(error) => break Err(error),
                };
                let now = Instant::now();
                let mut seen = lock(&shared.seen);
                for block in &blocks {
                    scan_from = scan_from.max(block.height + 1);
                    for (id, _) in &block.txs {
                        if ours.contains(id) {
                            seen.entry(id.clone()).or_insert(Seen {
                                at: now,
                                height: block.height,
                            });
                        }
                    }
                }
            }
            if all_sent {
                // Every answer is in: the refused transactions, and those stranded behind a
                // refused nonce, will never commit; wait for the others.
                let expected = *expected.get_or_insert_with(|| {
                    let refused = lock(&shared.refused);
                    total - refused.len() - stranded(&load, &refused).len()
                });
                if lock(&shared.seen).len() >= expected {
                    break Ok(());
                }
            }
            if Instant::now() > deadline {
                timed_out = true;
                break Ok(());
            }
            std::thread::sleep(Duration::from_millis(if poll_blocks { 50 } else { 10 }));
        };
        shared.stop.store(true, Ordering::SeqCst);
        for sender in senders {
            let _ = sender.join();
        }
        outcome
    })?;
    let submit_done = submit_done.unwrap_or_else(Instant::now);
    let latency_source = if poll_blocks && latency_source == "events" {
        "events, then blocks"
    } else {
        latency_source
    };
    progress(verbose, "checking every node's blocks...");

    // The end check: every node's blocks since the start.
    let seen = lock(&shared.seen).clone();
    let refused = lock(&shared.refused).clone();
    let submitted = lock(&shared.submitted).clone();
    let top = seen
        .values()
        .map(|s| s.height)
        .max()
        .unwrap_or(start_height);
    let stranded_ids = stranded(&load, &refused);
    let accepted: Vec<&Load> = load
        .iter()
        .filter(|l| submitted.contains_key(&l.id) && !refused.contains_key(&l.id))
        .collect();
    let mut per_node = Vec::new();
    let mut first_blocks = Vec::new();
    let mut committed_everywhere = true;
    let mut lost_ids: Vec<String> = Vec::new();
    for (i, node) in options.nodes.iter().enumerate() {
        let wait_until = Instant::now() + Duration::from_secs(15);
        while last_height(&quick, node).unwrap_or(0) < top && Instant::now() < wait_until {
            std::thread::sleep(Duration::from_millis(50));
        }
        let blocks = read_blocks(&block_agent, node, start_height + 1)?;
        let committed: HashMap<&str, u16> = blocks
            .iter()
            .flat_map(|b| b.txs.iter().map(|(id, code)| (id.as_str(), *code)))
            .collect();
        let missing: Vec<&Load> = accepted
            .iter()
            .copied()
            .filter(|l| !committed.contains_key(l.id.as_str()))
            .collect();
        if !missing.is_empty() {
            committed_everywhere = false;
        }
        if i == 0 {
            lost_ids = missing
                .iter()
                .filter(|l| !stranded_ids.contains(l.id.as_str()))
                .map(|l| l.id.clone())
                .collect();
        }
        per_node.push(json!({
            "node": node,
            "height": blocks.last().map_or(start_height, |b| b.height),
            "committed": accepted.len() - missing.len(),
            "missing": missing.len(),
        }));
        if i == 0 {
            first_blocks = blocks;
        }
    }

    // Receipt codes of our committed transactions, from the first node's blocks.
    let mut codes: BTreeMap<String, u64> = BTreeMap::new();
    let mut committed = 0usize;
    let mut heights: Vec<(u64, usize)> = Vec::new();
    for block in &first_blocks {
        let mut mine = 0usize;
        for (id, code) in &block.txs {
            if ours.contains(id) {
                mine += 1;
                *codes.entry(Code::describe(*code).to_owned()).or_insert(0) += 1;
            }
        }
        committed += mine;
        if mine > 0 {
            heights.push((block.height, block.txs.len()));
        }
    }
    let (first_height, last_height_ours) = (
        heights.first().map_or(0, |h| h.0),
        heights.last().map_or(0, |h| h.0),
    );
    let window: Vec<&BlockInfo> = first_blocks
        .iter()
        .filter(|b| b.height >= first_height && b.height <= last_height_ours)
        .collect();
    let block_count = window.len();
    let block_txs: usize = window.iter().map(|b| b.txs.len()).sum();
    let max_block_txs = window.iter().map(|b| b.txs.len()).max().unwrap_or(0);

    // Latencies: submission to the commit event.
    let mut latencies: Vec<f64> = seen
        .iter()
        .filter_map(|(id, s)| Some(s.at.duration_since(*submitted.get(id)?).as_secs_f64()))
        .collect();
    latencies.sort_by(f64::total_cmp);
    let last_commit = seen.values().map(|s| s.at).max().unwrap_or(submit_done);
    let commit_seconds = last_commit.duration_since(started).as_secs_f64().max(1e-9);
    let submit_seconds = submit_done.duration_since(started).as_secs_f64().max(1e-9);
    let mean = if latencies.is_empty() {
        0.0
    } else {
        latencies.iter().sum::<f64>() / latencies.len() as f64
    };

    let mut rejected: BTreeMap<String, u64> = BTreeMap::new();
    let mut examples: BTreeMap<String, String> = BTreeMap::new();
    for (code, message) in refused.values() {
        *rejected.entry(code.clone()).or_insert(0) += 1;
        examples
            .entry(code.clone())
            .or_insert_with(|| message.clone());
    }
    let all_committed = committed_everywhere && !accepted.is_empty() && refused.is_empty();
    let report = json!({
        "act": "file_case",
        "nodes": options.nodes,
        "parties": parties.len(),
        "setup": {
            "registered": parties.len(),
            "seconds": setup_seconds,
        },
        "transactions": total,
        "tx_bytes": {
            "average": sizes.iter().sum::<usize>() / total.max(1),
            "min": sizes.iter().min().copied().unwrap_or(0),
            "max": sizes.iter().max().copied().unwrap_or(0),
        },
        "target_rate_tx_per_s": (options.rate > 0).then_some(options.rate),
        "batch": batch,
        "submitted": submitted.len(),
        "offered_tx_per_s": submitted.len() as f64 / submit_seconds,
        "submit_seconds": submit_seconds,
        "accepted": accepted.len(),
        "rejected": rejected,
        "rejection_examples": examples,
        "committed": committed,
        "committed_tx_per_s": seen.len() as f64 / commit_seconds,
        "commit_seconds": commit_seconds,
        "receipt_codes": codes,
        "latency_source": latency_source,
        "latency_ms": {
            "samples": latencies.len(),
            "mean": mean * 1e3,
            "p50": percentile(&latencies, 0.50) * 1e3,
            "p90": percentile(&latencies, 0.90) * 1e3,
            "p99": percentile(&latencies, 0.99) * 1e3,
            "max": latencies.last().copied().unwrap_or(0.0) * 1e3,
        },
        "blocks": {
            "count": block_count,
            "first_height": first_height,
            "last_height": last_height_ours,
            "per_s": block_count as f64 / commit_seconds,
            "average_txs": if block_count > 0 { block_txs as f64 / block_count as f64 } else { 0.0 },
            "max_txs": max_block_txs,
        },
        "check": {
            "all_committed": all_committed,
            "lost": lost_ids.len(),
            "lost_examples": lost_ids.iter().take(5).collect::<Vec<_>>(),
            "stranded": stranded_ids.len(),
            "per_node": per_node,
        },
        "timed_out": timed_out,
    });
    Ok(report)
}

/// Accepted transactions that can never commit: a party's transactions after one of its
/// nonces was refused.
fn stranded<'a>(load: &'a [Load], refused: &HashMap<String, (String, String)>) -> HashSet<&'a str> {
    if refused.is_empty() {
        return HashSet::new();
    }
    let mut first_refused: HashMap<usize, u64> = HashMap::new();
    for l in load.iter().filter(|l| refused.contains_key(&l.id)) {
        let nonce = first_refused.entry(l.party).or_insert(l.nonce);
        *nonce = (*nonce).min(l.nonce);
    }
    load.iter()
        .filter(|l| {
            !refused.contains_key(&l.id)
                && first_refused
                    .get(&l.party)
                    .is_some_and(|first| l.nonce > *first)
        })
        .map(|l| l.id.as_str())
        .collect()
}

/// The report for people.
pub fn report_text(report: &Value) -> String {
    let f = |value: &Value| value.as_f64().unwrap_or(0.0);
    let latency = &report["latency_ms"];
    let blocks = &report["blocks"];
    let check = &report["check"];
    let mut text = format!(
        "bench: {} {} acts ({} bytes on average, {}–{}) by {} parties over {} node(s)\n",
        report["transactions"],
        report["act"].as_str().unwrap_or("?"),
        report["tx_bytes"]["average"],
        report["tx_bytes"]["min"],
        report["tx_bytes"]["max"],
        report["parties"],
        report["nodes"].as_array().map_or(0, Vec::len),
    );
    text.push_str(&format!(
        "set-up      {} parties registered in {:.1} s (not timed)\n",
        report["setup"]["registered"],
        f(&report["setup"]["seconds"])
    ));
    let target = report["target_rate_tx_per_s"]
        .as_u64()
        .map_or_else(String::new, |rate| format!(", target {rate} tx/s"));
    text.push_str(&format!(
        "offered     {:.1} tx/s ({} submitted in {:.2} s, batches of {}{target})\n",
        f(&report["offered_tx_per_s"]),
        report["submitted"],
        f(&report["submit_seconds"]),
        report["batch"],
    ));
    text.push_str(&format!(
        "committed   {:.1} tx/s ({} of {} accepted, last commit after {:.2} s)\n",
        f(&report["committed_tx_per_s"]),
        report["committed"],
        report["accepted"],
        f(&report["commit_seconds"])
    ));
    text.push_str(&format!(
        "latency     p50 {:.0} ms  p90 {:.0} ms  p99 {:.0} ms  max {:.0} ms  mean {:.0} ms ({} samples, from {})\n",
        f(&latency["p50"]),
        f(&latency["p90"]),
        f(&latency["p99"]),
        f(&latency["max"]),
        f(&latency["mean"]),
        latency["samples"],
        report["latency_source"].as_str().unwrap_or("?"),
    ));
    let rejected = report["rejected"].as_object().cloned().unwrap_or_default();
    if rejected.is_empty() {
        text.push_str("rejected    none\n");
    } else {
        for (code, count) in &rejected {
            text.push_str(&format!(
                "rejected    {count} {code}: {}\n",
                report["rejection_examples"][code].as_str().unwrap_or("")
            ));
        }
    }
    let codes: Vec<String> = report["receipt_codes"]
        .as_object()
        .map(|codes| {
            codes
                .iter()
                .map(|(name, n)| format!("{name} {n}"))
                .collect()
        })
        .unwrap_or_default();
    text.push_str(&format!(
        "receipts    {}\n",
        if codes.is_empty() {
            "none".to_owned()
        } else {
            codes.join(", ")
        }
    ));
    text.push_str(&format!(
        "blocks      {} (heights {}–{}), {:.2} per s, {:.0} transactions per block on average, {} at most\n",
        blocks["count"],
        blocks["first_height"],
        blocks["last_height"],
        f(&blocks["per_s"]),
        f(&blocks["average_txs"]),
        blocks["max_txs"],
    ));
    if check["all_committed"] == true {
        text.push_str(&format!(
            "check       every accepted transaction is committed on all {} node(s): nothing lost\n",
            check["per_node"].as_array().map_or(0, Vec::len)
        ));
    } else {
        text.push_str(&format!(
            "check       NOT ALL COMMITTED: {} lost, {} stranded behind a refused nonce{}\n",
            check["lost"],
            check["stranded"],
            if report["timed_out"] == true {
                " (timed out)"
            } else {
                ""
            }
        ));
        for node in check["per_node"].as_array().map_or(&[][..], Vec::as_slice) {
            text.push_str(&format!(
                "  {}: {} committed, {} missing\n",
                node["node"].as_str().unwrap_or("?"),
                node["committed"],
                node["missing"]
            ));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use courtledger_crypto::Digest;

    #[test]
    fn percentiles() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&values, 0.5), 51.0);
        assert_eq!(percentile(&values, 0.99), 99.0);
        assert_eq!(percentile(&[], 0.5), 0.0);
    }

    #[test]
    fn filings_are_valid_acts_of_realistic_size() {
        let genesis = read_genesis(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../genesis/example.json"),
        )
        .expect("example genesis");
        let parties: Vec<Party> = (0..3u8)
            .map(|i| Party {
                key: SigningKey::from_seed(&[i; 32]),
                id: Digest([i; 32]),
            })
            .collect();
        let load = sign_load(&genesis, &parties, 60).expect("load");
        for (n, l) in load.iter().enumerate() {
            assert_eq!(l.party, n % 3);
            assert_eq!(l.nonce, 1 + u64::try_from(n / 3).expect("small"));
            assert!((300..=600).contains(&l.bytes), "{} bytes", l.bytes);
            let Act::FileCase(filing) = Act::decode(&l.tx.tx.payload).expect("an act") else {
                panic!("not a filing");
            };
            assert_eq!(
                filing.plaintiffs,
                vec![PartyRef::Registered(parties[l.party].id)]
            );
            assert!(matches!(filing.defendants[0], PartyRef::Unregistered(_)));
            assert!((1..=3).contains(&filing.attachments.len()));
            l.tx.verify_signature(&genesis.chain_id()).expect("signed");
        }
        let distinct: HashSet<&str> = load.iter().map(|l| l.id.as_str()).collect();
        assert_eq!(distinct.len(), load.len());
    }

    #[test]
    fn stranded_transactions_follow_a_refused_nonce() {
        let genesis = read_genesis(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../genesis/example.json"),
        )
        .expect("example genesis");
        let parties: Vec<Party> = (0..2u8)
            .map(|i| Party {
                key: SigningKey::from_seed(&[i; 32]),
                id: Digest([i; 32]),
            })
            .collect();
        let load = sign_load(&genesis, &parties, 8).expect("load");
        // Party 0 has transactions 0, 2, 4, 6 (nonces 1-4); its nonce 2 is refused.
        let refused: HashMap<String, (String, String)> = [(
            load[2].id.clone(),
            ("mempool_full".to_owned(), String::new()),
        )]
        .into();
        let stranded = stranded(&load, &refused);
        let expected: HashSet<&str> = [load[4].id.as_str(), load[6].id.as_str()].into();
        assert_eq!(stranded, expected);
    }
}
