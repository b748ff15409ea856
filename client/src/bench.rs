//! `courtledger bench`: a load generator against a running network.
//!
//! Signs every transaction before the clock starts, submits them in batches to the given nodes
//! (one submitting thread per node, open loop or at a fixed offered rate), follows the committed
//! blocks of the first node, and reports offered and committed transactions per second, commit
//! latency percentiles (submission to the first observation of the committing block; observation
//! polls every 10 ms), rejections by reason, blocks per second and transactions per block.

// Counts become floating-point rates and percentiles here; precision loss is irrelevant.
#![allow(clippy::as_conversions, clippy::cast_precision_loss)]

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context as _};
use courtledger_codec::Encode;
use courtledger_crypto::{sha256, SigningKey};
use courtledger_types::{Genesis, SignedTransaction, Transaction};
use serde_json::{json, Value};

/// What to run.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Node API base URLs; submissions are spread over them.
    pub nodes: Vec<String>,
    /// Transactions to send.
    pub txs: usize,
    /// Distinct signers.
    pub senders: usize,
    /// Transactions per HTTP submission.
    pub batch: usize,
    /// Offered rate in transactions per second; 0 sends as fast as possible.
    pub rate: u64,
    /// Payload bytes per transaction (acts are 300 to 600 bytes on the wire).
    pub payload_bytes: usize,
    /// Give up waiting for commits after this long.
    pub timeout: Duration,
}

/// The JSON body of a 200 answer, or `None`.
fn get_json(agent: &ureq::Agent, url: &str) -> Option<Value> {
    match crate::get_json_with(agent, url) {
        Ok((200, body)) => Some(body),
        _ => None,
    }
}

fn percentile(sorted: &[f64], fraction: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let last = sorted.len() - 1;
    let rank = (fraction * f64::from(u32::try_from(last).unwrap_or(u32::MAX))).round();
    let index = usize::try_from(rank as u64).unwrap_or(last).min(last);
    sorted[index]
}

/// Signs the load: `txs` transactions spread over `senders` keys, each sender's nonces ascending.
fn sign_load(genesis: &Genesis, options: &BenchOptions) -> Vec<SignedTransaction> {
    let chain_id = genesis.chain_id();
    // Fresh keys for every run (seeded by the time), so each sender's nonces start at 1.
    let run = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(0));
    let keys: Vec<SigningKey> = (0..options.senders)
        .map(|i| SigningKey::from_seed(&sha256(format!("bench sender {i} {run}").as_bytes()).0))
        .collect();
    (0..options.txs)
        .map(|n| {
            let sender = n % options.senders;
            let nonce = 1 + u64::try_from(n / options.senders).unwrap_or(0);
            let mut payload = format!("evidence {n}: ").into_bytes();
            payload.resize(options.payload_bytes.max(payload.len()), b'.');
            Transaction {
                signer: keys[sender].public_key(),
                nonce,
                payload,
            }
            .sign(&keys[sender], &chain_id)
        })
        .collect()
}

/// Runs the benchmark and returns its report as JSON.
pub fn run(genesis: &Genesis, options: &BenchOptions) -> anyhow::Result<Value> {
    if options.nodes.is_empty() || options.txs == 0 || options.senders == 0 || options.batch == 0 {
        bail!("need at least one node, transaction, sender and a batch size");
    }
    eprintln!(
        "signing {} transactions from {} senders...",
        options.txs, options.senders
    );
    let txs = sign_load(genesis, options);
    let tx_bytes: usize = txs.iter().map(|tx| tx.to_bytes().len()).sum();
    let agent = crate::agent();
    let start_height = get_json(&agent, &format!("{}/v1/status", options.nodes[0]))
        .and_then(|s| s["last_committed_height"].as_u64())
        .context("cannot read the first node's status")?;

    let submitted: Arc<Mutex<HashMap<String, Instant>>> =
        Arc::new(Mutex::new(HashMap::with_capacity(txs.len())));
    let rejected: Arc<Mutex<BTreeMap<String, u64>>> = Arc::new(Mutex::new(BTreeMap::new()));
    // Each sender submits through one node, as a client would: its transactions then reach
    // every mempool in nonce order.
    let per_node: Vec<Vec<Vec<SignedTransaction>>> = {
        let mut queues: Vec<Vec<SignedTransaction>> = vec![Vec::new(); options.nodes.len()];
        for (n, tx) in txs.iter().enumerate() {
            let sender = n % options.senders;
            queues[sender % options.nodes.len()].push(tx.clone());
        }
        queues
            .into_iter()
            .map(|queue| queue.chunks(options.batch).map(<[_]>::to_vec).collect())
            .collect()
    };
    let started = Instant::now();
    let node_count = u64::try_from(options.nodes.len()).unwrap_or(1);
    let mut senders = Vec::new();
    for (node, batches) in options.nodes.iter().cloned().zip(per_node) {
        let submitted = submitted.clone();
        let rejected = rejected.clone();
        let rate = options.rate;
        senders.push(std::thread::spawn(move || {
            let agent = crate::agent();
            let mut sent: u64 = 0;
            for batch in batches {
                if rate > 0 {
                    // This thread's share of the offered rate.
                    let due = Duration::from_secs_f64(sent as f64 * node_count as f64 / rate as f64);
                    if let Some(wait) = due.checked_sub(started.elapsed()) {
                        std::thread::sleep(wait);
                    }
                }
                let body = json!({ "txs": batch.iter().map(|tx| hex::encode(tx.to_bytes())).collect::<Vec<_>>() });
                let now = Instant::now();
                {
                    let mut submitted = submitted.lock().expect("lock");
                    for tx in &batch {
                        submitted.insert(tx.id().to_string(), now);
                    }
                }
                sent += u64::try_from(batch.len()).unwrap_or(0);
                let answer = agent
                    .post(&format!("{node}/v1/txs"))
                    .send_json(&body)
                    .ok()
                    .and_then(|mut response| response.body_mut().read_json::<Value>().ok());
                let mut rejected = rejected.lock().expect("lock");
                match answer.as_ref().and_then(|a| a["results"].as_array()) {
                    Some(results) => {
                        for result in results {
                            if result["accepted"] != true {
                                let reason = result["error"].as_str().unwrap_or("unknown").to_owned();
                                *rejected.entry(reason).or_insert(0) += 1;
                            }
                        }
                    }
                    None => *rejected.entry("submission failed".to_owned()).or_insert(0) += u64::try_from(batch.len()).unwrap_or(0),
                }
            }
        }));
    }

    // Follow the chain on the first node.
    let mut latencies: Vec<f64> = Vec::with_capacity(txs.len());
    let mut next_height = start_height + 1;
    let mut first_commit: Option<Instant> = None;
    let mut last_commit = started;
    let mut blocks_seen = 0u64;
    let mut submit_done: Option<Instant> = None;
    let mut txs_in_blocks = 0u64;
    let deadline = Instant::now() + options.timeout;
    let total = txs.len();
    loop {
        if Instant::now() > deadline {
            eprintln!("timed out with {} of {total} committed", latencies.len());
            break;
        }
        let all_sent = senders.iter().all(std::thread::JoinHandle::is_finished);
        if all_sent && submit_done.is_none() {
            submit_done = Some(Instant::now());
        }
        let rejected_count = rejected.lock().expect("lock").values().sum::<u64>() as usize;
        if all_sent && latencies.len() + rejected_count >= total {
            break;
        }
        match get_json(
            &agent,
            &format!("{}/v1/blocks/{next_height}", options.nodes[0]),
        ) {
            Some(block) => {
                let now = Instant::now();
                let ids = block["tx_ids"].as_array().cloned().unwrap_or_default();
                blocks_seen += 1;
                txs_in_blocks += u64::try_from(ids.len()).unwrap_or(0);
                let submitted = submitted.lock().expect("lock");
                for id in ids.iter().filter_map(Value::as_str) {
                    if let Some(at) = submitted.get(id) {
                        latencies.push(now.duration_since(*at).as_secs_f64());
                        first_commit.get_or_insert(now);
                        last_commit = now;
                    }
                }
                next_height += 1;
            }
            None => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    for sender in senders {
        let _ = sender.join();
    }
    let submit_seconds = submit_done
        .map_or(started.elapsed(), |at| at.duration_since(started))
        .as_secs_f64()
        .max(1e-9);
    let committed = latencies.len();
    let commit_seconds = last_commit.duration_since(started).as_secs_f64().max(1e-9);
    latencies.sort_by(f64::total_cmp);
    let rejected = rejected.lock().expect("lock").clone();
    let report = json!({
        "nodes": options.nodes,
        "transactions": total,
        "average_tx_bytes": tx_bytes / total,
        "offered_rate_tx_per_s": if options.rate > 0 { options.rate as f64 } else { total as f64 / submit_seconds },
        "committed": committed,
        "committed_tx_per_s": committed as f64 / commit_seconds,
        "latency_ms": {
            "p50": percentile(&latencies, 0.50) * 1e3,
            "p90": percentile(&latencies, 0.90) * 1e3,
            "p99": percentile(&latencies, 0.99) * 1e3,
            "max": latencies.last().copied().unwrap_or(0.0) * 1e3,
        },
        "rejected": rejected,
        "blocks": blocks_seen,
        "blocks_per_s": blocks_seen as f64 / commit_seconds,
        "average_block_txs": if blocks_seen > 0 { txs_in_blocks as f64 / blocks_seen as f64 } else { 0.0 },
        "seconds": commit_seconds,
    });
    Ok(report)
}
