//! The history checker: after the network healed and settled, reads every node's chain up to
//! the lowest committed height and checks the recorded history against it.
//!
//! 1. Every acknowledged transaction is, on every node, at its acknowledged height and index,
//!    in the acknowledged block, with the acknowledged receipt code (nothing acknowledged lost).
//! 2. Every node has the same block id at every height up to the lowest height (no fork), and
//!    each block names the previous one as its parent.
//! 3. No transaction id is committed twice; each signer's committed nonces are 1, 2, 3, … in
//!    chain order; every committed transaction is one the workload signed and sent; a
//!    transaction that every node refused (never accepted) is not committed.
//! 4. `courtledger audit chain` passes against every node (run by [`audit`]).
//! 5. Transactions never acknowledged are committed once or not at all (counted).
//! 6. No node recorded equivocation evidence (run by [`equivocations`]): every validator is
//!    honest here, so a double vote or proposal is one that signed twice, e.g. after a restart.
//!    (Except a validator given a torn write, which lost a record it had synced: reported.)
//! 7. No block's time is more than the genesis's `max_clock_drift_ms` ahead of the host's clock
//!    at the moment the block was first seen committed ([`check_block_times`]): a quorum holds
//!    validators on the real clock, each of which refuses a block further ahead of its clock.

use std::collections::{BTreeMap, HashMap};
use std::process::Command;
use std::time::Duration;

use courtledger_crypto::PublicKey;
use courtledger_types::SignedTransaction;
use serde_json::Value;

use crate::cluster::Cluster;
use crate::http::Http;
use crate::workload::{History, Outcome};

/// A committed transaction as the chain holds it.
#[derive(Debug, Clone)]
pub struct ChainTx {
    /// Its id.
    pub id: String,
    /// Its signer.
    pub signer: PublicKey,
    /// Its nonce.
    pub nonce: u64,
}

/// One block as a node serves it.
#[derive(Debug, Clone)]
pub struct BlockView {
    /// Height.
    pub height: u64,
    /// Block id.
    pub id: String,
    /// Parent block id.
    pub parent_id: String,
    /// The header's time (ms since the Unix epoch).
    pub time_ms: u64,
    /// Transaction ids, in order.
    pub tx_ids: Vec<String>,
    /// Receipt codes, in order.
    pub codes: Vec<u64>,
    /// The decoded transactions, in order.
    pub txs: Vec<ChainTx>,
}

/// Node `node`'s blocks 1..=`top` (pages of `GET /v1/blocks?txs=true`).
pub fn fetch_chain(cluster: &Cluster, node: usize, top: u64) -> Result<Vec<BlockView>, String> {
    let http = Http::new(Duration::from_secs(30));
    let mut blocks = Vec::new();
    let mut from = 1u64;
    let mut failures = 0;
    while from <= top {
        let url = format!(
            "{}/v1/blocks?from={from}&limit=100&txs=true",
            cluster.api(node)
        );
        let page = match http.get(&url) {
            Ok((200, page)) => page,
            other => {
                failures += 1;
                if failures > 5 {
                    return Err(format!("node {node}: {url}: {other:?}"));
                }
                std::thread::sleep(Duration::from_secs(1));
                continue;
            }
        };
        let list = page["blocks"].as_array().cloned().unwrap_or_default();
        if list.is_empty() {
            return Err(format!("node {node} has no block at height {from}"));
        }
        for block in &list {
            let view = parse_block(block).map_err(|e| format!("node {node}: {e}"))?;
            if view.height != from {
                return Err(format!(
                    "node {node}: expected height {from}, got {}",
                    view.height
                ));
            }
            from += 1;
            if view.height <= top {
                blocks.push(view);
            }
        }
    }
    Ok(blocks)
}

fn parse_block(block: &Value) -> Result<BlockView, String> {
    let strings = |field: &str| -> Vec<String> {
        block[field]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let height = block["height"].as_u64().ok_or("a block without height")?;
    let mut txs = Vec::new();
    for (index, text) in strings("txs").iter().enumerate() {
        let bytes = hex::decode(text).map_err(|e| format!("block {height} tx {index}: {e}"))?;
        let tx = SignedTransaction::decode(&bytes)
            .map_err(|e| format!("block {height} tx {index}: {e}"))?;
        txs.push(ChainTx {
            id: tx.id().to_string(),
            signer: tx.tx.signer,
            nonce: tx.tx.nonce,
        });
    }
    Ok(BlockView {
        height,
        id: block["id"].as_str().unwrap_or_default().to_owned(),
        parent_id: block["parent_id"].as_str().unwrap_or_default().to_owned(),
        time_ms: block["time_ms"].as_u64().ok_or("a block without time_ms")?,
        tx_ids: strings("tx_ids"),
        codes: block["receipt_codes"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_u64).collect())
            .unwrap_or_default(),
        txs,
    })
}

/// What the checks found.
#[derive(Debug, Default, Clone)]
pub struct Findings {
    /// Violated properties, one line each.
    pub failures: Vec<String>,
    /// The height up to which every node was compared.
    pub checked_height: u64,
    /// Committed transactions up to it.
    pub committed: usize,
    /// Acknowledged transactions (by the `wait` answer, by a lookup).
    pub acked: (usize, usize),
    /// Acknowledged transactions not found where acknowledged on some node.
    pub lost: usize,
    /// Heights at which nodes disagree.
    pub forks: usize,
    /// Transaction ids committed more than once.
    pub duplicates: usize,
    /// Never acknowledged, sent at least once: committed once / not committed.
    pub unacked: (usize, usize),
    /// Signed but never sent (the workload stopped first).
    pub never_sent: usize,
    /// Heights whose block time was checked against the host clock (property 7).
    pub times_checked: usize,
    /// Blocks further ahead of the host clock than the drift bound.
    pub times_ahead: usize,
}

/// At most this many lines per kind of failure.
const MAX_LINES: usize = 10;

fn push(
    failures: &mut Vec<String>,
    counter: &mut BTreeMap<&'static str, usize>,
    kind: &'static str,
    line: String,
) {
    let count = counter.entry(kind).or_insert(0);
    *count += 1;
    if *count <= MAX_LINES {
        failures.push(format!("{kind}: {line}"));
    } else if *count == MAX_LINES + 1 {
        failures.push(format!("{kind}: (more not shown)"));
    }
}

/// Checks properties 1, 2, 3, 5 and 7 on every node's chain up to `top` (the lowest height).
/// `first_seen` and `drift_ms` are those of [`check_block_times`].
pub fn check(
    cluster: &Cluster,
    histories: &[History],
    top: u64,
    first_seen: &[(u64, u64)],
    drift_ms: u64,
) -> Findings {
    let mut chains = Vec::with_capacity(cluster.n);
    for node in 0..cluster.n {
        match fetch_chain(cluster, node, top) {
            Ok(chain) => chains.push(chain),
            Err(error) => {
                return Findings {
                    checked_height: top,
                    failures: vec![format!("unreadable chain: {error}")],
                    ..Findings::default()
                };
            }
        }
    }
    let mut found = check_chains(&chains, histories, top);
    if let Some(reference) = chains.first() {
        let (checked, ahead) = check_block_times(reference, first_seen, drift_ms);
        found.times_checked = checked;
        found.times_ahead = ahead.len();
        let mut kinds = BTreeMap::new();
        for line in ahead {
            push(&mut found.failures, &mut kinds, "block time ahead", line);
        }
    }
    found
}

/// Property 7: each block's time is at most `drift_ms` ahead of the host's wall clock when the
/// block was first seen committed. `first_seen` holds `(height, wall ms)` pairs in order: every
/// height up to `height` was committed by `wall ms` (the harness's samples). Blocks committed
/// after the last sample are not checked. Returns how many blocks were checked, and a line per
/// block too far ahead.
pub fn check_block_times(
    chain: &[BlockView],
    first_seen: &[(u64, u64)],
    drift_ms: u64,
) -> (usize, Vec<String>) {
    let mut checked = 0;
    let mut ahead = Vec::new();
    for block in chain {
        let Some((_, seen_ms)) = first_seen.iter().find(|(h, _)| *h >= block.height) else {
            continue;
        };
        checked += 1;
        let bound = seen_ms.saturating_add(drift_ms);
        if block.time_ms > bound {
            ahead.push(format!(
                "block {} ({}) has time {} ms, {} ms ahead of the host clock when it was first seen committed ({} ms), beyond the {} ms drift bound",
                block.height,
                block.id,
                block.time_ms,
                block.time_ms - seen_ms,
                seen_ms,
                drift_ms
            ));
        }
    }
    (checked, ahead)
}

/// The checks of [`check`] on chains already read (`chains[node]`, blocks 1..=`top`).
pub fn check_chains(chains: &[Vec<BlockView>], histories: &[History], top: u64) -> Findings {
    let mut found = Findings {
        checked_height: top,
        ..Findings::default()
    };
    let mut kinds = BTreeMap::new();
    let failures = &mut found.failures;
    let Some(reference) = chains.first() else {
        return found;
    };
    for (node, chain) in chains.iter().enumerate() {
        if u64::try_from(chain.len()).ok() != Some(top) {
            push(
                failures,
                &mut kinds,
                "unreadable chain",
                format!("node {node} served {} blocks, not {top}", chain.len()),
            );
        }
    }

    // 2. No fork: the same block at every height on every node; parents link.
    for height in 1..=top {
        let index = usize::try_from(height - 1).unwrap_or(usize::MAX);
        let ids: Vec<&str> = chains
            .iter()
            .map(|chain| chain.get(index).map_or("(missing)", |b| b.id.as_str()))
            .collect();
        if ids.iter().any(|id| *id != ids[0]) {
            found.forks += 1;
            push(
                failures,
                &mut kinds,
                "fork",
                format!("height {height}: block ids by node {ids:?}"),
            );
        }
    }
    for pair in reference.windows(2) {
        if let [parent, child] = pair {
            if child.parent_id != parent.id {
                push(
                    failures,
                    &mut kinds,
                    "broken parent link",
                    format!(
                        "block {} names parent {}, block {} is {}",
                        child.height, child.parent_id, parent.height, parent.id
                    ),
                );
            }
        }
    }

    // 3. Positions of every committed transaction; unique ids; what was decoded is what is listed.
    let mut positions: HashMap<&str, Vec<(u64, usize)>> = HashMap::new();
    for block in reference {
        let decoded: Vec<&str> = block.txs.iter().map(|t| t.id.as_str()).collect();
        let listed: Vec<&str> = block.tx_ids.iter().map(String::as_str).collect();
        if decoded != listed {
            push(
                failures,
                &mut kinds,
                "inconsistent block",
                format!(
                    "block {}: tx_ids differ from its decoded transactions",
                    block.height
                ),
            );
        }
        for (index, id) in block.tx_ids.iter().enumerate() {
            positions
                .entry(id.as_str())
                .or_default()
                .push((block.height, index));
        }
    }
    found.committed = positions.values().map(Vec::len).sum();
    for (id, places) in &positions {
        if places.len() > 1 {
            found.duplicates += 1;
            push(
                failures,
                &mut kinds,
                "committed twice",
                format!("tx {id} at (height, index) {places:?}"),
            );
        }
    }

    // Every committed transaction is one the workload signed; nonces 1, 2, 3, … per signer.
    let mut ours: HashMap<&str, (&str, u64, bool)> = HashMap::new();
    let mut labels: HashMap<PublicKey, &str> = HashMap::new();
    for history in histories {
        labels.insert(history.key, history.label.as_str());
        for record in &history.txs {
            ours.insert(
                record.id.as_str(),
                (
                    history.label.as_str(),
                    record.nonce,
                    !record.attempts.is_empty(),
                ),
            );
        }
    }
    let mut next_nonce: HashMap<PublicKey, u64> = HashMap::new();
    for block in reference {
        for tx in &block.txs {
            let label = labels
                .get(&tx.signer)
                .copied()
                .unwrap_or("an unknown signer");
            match ours.get(tx.id.as_str()) {
                None => push(
                    failures,
                    &mut kinds,
                    "phantom transaction",
                    format!(
                        "tx {} of {label} nonce {} at height {} was never signed by the workload",
                        tx.id, tx.nonce, block.height
                    ),
                ),
                Some((_, _, false)) => push(
                    failures,
                    &mut kinds,
                    "phantom transaction",
                    format!(
                        "tx {} of {label} at height {} was signed but never sent",
                        tx.id, block.height
                    ),
                ),
                Some((_, nonce, true)) if *nonce != tx.nonce => push(
                    failures,
                    &mut kinds,
                    "phantom transaction",
                    format!(
                        "tx {} carries nonce {} on chain, {nonce} as signed",
                        tx.id, tx.nonce
                    ),
                ),
                Some(_) => {}
            }
            let expected = next_nonce.entry(tx.signer).or_insert(1);
            if tx.nonce != *expected {
                push(
                    failures,
                    &mut kinds,
                    "nonce order",
                    format!(
                        "{label}: nonce {} committed at height {} where {} was next",
                        tx.nonce, block.height, *expected
                    ),
                );
            }
            *expected = tx.nonce.saturating_add(1).max(*expected);
        }
    }

    // 1. Every acknowledged transaction where it was acknowledged, on every node.
    // 5. The others: committed once or not at all. A refused-everywhere one: not at all.
    for history in histories {
        for record in &history.txs {
            let committed = positions.get(record.id.as_str()).map_or(0, Vec::len);
            let Some(ack) = &record.ack else {
                if record.attempts.is_empty() {
                    found.never_sent += 1;
                } else if committed > 0 {
                    found.unacked.0 += 1;
                    let refused_everywhere = record.attempts.iter().all(|a| match &a.outcome {
                        Outcome::Rejected(code) => {
                            !(code == "duplicate"
                                || code == "already_committed"
                                || code.contains("stale"))
                        }
                        _ => false,
                    });
                    if refused_everywhere {
                        push(failures, &mut kinds, "refused but committed", format!("{} nonce {} tx {}: every node refused it ({:?}), yet it is committed", history.label, record.nonce, record.id, record.attempts.iter().map(|a| a.outcome.name()).collect::<Vec<_>>()));
                    }
                } else {
                    found.unacked.1 += 1;
                }
                continue;
            };
            if ack.by_wait {
                found.acked.0 += 1;
            } else {
                found.acked.1 += 1;
            }
            let index = usize::try_from(ack.height.saturating_sub(1)).unwrap_or(usize::MAX);
            let mut lost_here = Vec::new();
            for (node, chain) in chains.iter().enumerate() {
                let position = usize::try_from(ack.index).unwrap_or(usize::MAX);
                let ok = chain.get(index).is_some_and(|block| {
                    block.id == ack.block_id
                        && block.tx_ids.get(position) == Some(&record.id)
                        && block.codes.get(position) == Some(&ack.code)
                });
                if !ok {
                    let actual = chain.get(index).map_or("no block".to_owned(), |b| {
                        format!(
                            "block {} holds {:?} at index {}",
                            b.id,
                            b.tx_ids.get(position),
                            ack.index
                        )
                    });
                    lost_here.push(format!("node {node}: {actual}"));
                }
            }
            if !lost_here.is_empty() {
                found.lost += 1;
                push(
                    failures,
                    &mut kinds,
                    "acknowledged transaction lost",
                    format!(
                        "{} nonce {} tx {} acknowledged by node {} at +{}ms ({}) at height {} index {} block {} code {}; committed at {:?}; {}",
                        history.label, record.nonce, record.id, ack.node, ack.at_ms,
                        if ack.by_wait { "wait" } else { "lookup" },
                        ack.height, ack.index, ack.block_id, ack.code,
                        positions.get(record.id.as_str()), lost_here.join("; ")
                    ),
                );
            }
        }
        for anomaly in &history.anomalies {
            push(failures, &mut kinds, "client anomaly", anomaly.clone());
        }
    }
    found
}

/// Equivocation evidence (two conflicting signed votes or proposals of one validator for one
/// height and round) recorded by any node: with crash and network faults only, every validator
/// is honest, so any is a validator that signed twice (for example after a restart). Read from
/// `GET /v1/equivocations` (stored evidence) where the node serves it, else from its
/// `courtledger_evidence_total` metric (since its last start). One line per record.
///
/// Records whose offender is one of `excused` (public key as the API prints it, and why) are
/// returned apart, as the second list: the validators given a torn write lost a record they
/// had synced and may sign again what they signed before.
pub fn equivocations(
    cluster: &Cluster,
    top: u64,
    excused: &BTreeMap<String, String>,
) -> (Vec<String>, Vec<String>) {
    let http = Http::new(Duration::from_secs(10));
    let mut failures = Vec::new();
    let mut explained = Vec::new();
    for node in 0..cluster.n {
        let mut from = 1u64;
        loop {
            let url = format!("{}/v1/equivocations?from={from}", cluster.api(node));
            match http.get(&url) {
                Ok((200, page)) => {
                    for item in page["equivocations"].as_array().into_iter().flatten() {
                        let line = format!(
                            "equivocation recorded by node {node}: {} by validator {} at height {} round {} ({})",
                            item["kind"], item["offender"], item["height"], item["round"], item["hex"]
                        );
                        match item["offender"].as_str().and_then(|k| excused.get(k)) {
                            Some(why) => explained.push(format!(
                                "{line}: by {why}, which lost a synced record (expected, at most f such validators)"
                            )),
                            None => failures.push(line),
                        }
                    }
                    match page["next_from"].as_u64() {
                        Some(next) if next > from && next <= top => from = next,
                        _ => break,
                    }
                }
                Ok((404, _)) => {
                    let metric = metric(&http, &cluster.api(node), "courtledger_evidence_total");
                    if metric.is_some_and(|v| v > 0.0) {
                        failures.push(format!(
                            "equivocation: node {node}'s courtledger_evidence_total is {metric:?}"
                        ));
                    }
                    break;
                }
                other => {
                    failures.push(format!("node {node}: {url}: {other:?}"));
                    break;
                }
            }
        }
    }
    (failures, explained)
}

/// A Prometheus metric's value from `GET /metrics`.
fn metric(http: &Http, api: &str, name: &str) -> Option<f64> {
    let text = http.get_text(&format!("{api}/metrics"))?;
    text.lines()
        .find(|line| line.split_whitespace().next() == Some(name))
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|value| value.parse().ok())
}

/// Runs `courtledger audit chain --node URL --genesis GENESIS --to TOP` against every node;
/// one line per node that fails (exit status and the end of its output).
pub fn audit(cluster: &Cluster, top: u64) -> Vec<String> {
    let mut failures = Vec::new();
    for node in 0..cluster.n {
        let output = Command::new(cluster.client_bin())
            .args([
                "--json",
                "--node",
                &cluster.api(node),
                "audit",
                "chain",
                "--genesis",
            ])
            .arg(cluster.genesis_path())
            .args(["--to", &top.to_string()])
            .env_remove("COURTLEDGER_NODE")
            .env_remove("COURTLEDGER_GENESIS")
            .output();
        match output {
            Ok(output) if output.status.success() => {}
            Ok(output) => {
                let text = format!(
                    "{}{}",
                    String::from_utf8_lossy(&output.stdout),
                    String::from_utf8_lossy(&output.stderr)
                );
                let tail: String = text
                    .chars()
                    .rev()
                    .take(600)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                failures.push(format!(
                    "audit chain of node {node} failed ({}): {tail}",
                    output.status
                ));
            }
            Err(error) => failures.push(format!("cannot run courtledger audit chain: {error}")),
        }
    }
    failures
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::{Ack, Attempt, TxRecord};
    use courtledger_crypto::SigningKey;

    fn key(n: u8) -> PublicKey {
        SigningKey::from_seed(&[n; 32]).public_key()
    }

    fn tx(id: &str, signer: u8, nonce: u64) -> ChainTx {
        ChainTx {
            id: id.to_owned(),
            signer: key(signer),
            nonce,
        }
    }

    fn block(height: u64, id: &str, parent: &str, txs: Vec<ChainTx>) -> BlockView {
        BlockView {
            height,
            id: id.to_owned(),
            parent_id: parent.to_owned(),
            time_ms: 1_000 * height,
            tx_ids: txs.iter().map(|t| t.id.clone()).collect(),
            codes: txs.iter().map(|_| 0).collect(),
            txs,
        }
    }

    fn sent(id: &str, nonce: u64, ack: Option<(u64, u64, &str)>) -> TxRecord {
        TxRecord {
            id: id.to_owned(),
            nonce,
            variant: 0,
            attempts: vec![Attempt {
                node: 0,
                at_ms: 1,
                outcome: if ack.is_some() {
                    Outcome::Committed
                } else {
                    Outcome::Pending
                },
            }],
            ack: ack.map(|(height, index, block_id)| Ack {
                height,
                index,
                block_id: block_id.to_owned(),
                code: 0,
                node: 0,
                by_wait: true,
                at_ms: 2,
            }),
        }
    }

    fn history(signer: u8, txs: Vec<TxRecord>) -> History {
        History {
            label: format!("signer{signer}"),
            key: key(signer),
            txs,
            anomalies: Vec::new(),
        }
    }

    fn good_chain() -> Vec<BlockView> {
        vec![
            block(1, "b1", "b0", vec![tx("t1", 1, 1)]),
            block(2, "b2", "b1", vec![tx("t2", 1, 2), tx("u1", 2, 1)]),
        ]
    }

    fn good_histories() -> Vec<History> {
        vec![
            history(
                1,
                vec![
                    sent("t1", 1, Some((1, 0, "b1"))),
                    sent("t2", 2, Some((2, 0, "b2"))),
                    sent("t3", 3, None),
                ],
            ),
            history(2, vec![sent("u1", 1, None), sent("u1b", 1, None)]),
        ]
    }

    #[test]
    fn a_consistent_history_passes_and_is_counted() {
        let chain = good_chain();
        let found = check_chains(&[chain.clone(), chain], &good_histories(), 2);
        assert!(found.failures.is_empty(), "{:?}", found.failures);
        assert_eq!(found.acked, (2, 0));
        assert_eq!(found.unacked, (1, 2));
        assert_eq!((found.lost, found.forks, found.duplicates), (0, 0, 0));
        assert_eq!(found.committed, 3);
    }

    #[test]
    fn each_violation_is_found() {
        let chain = good_chain();
        let histories = good_histories();
        let kinds = |chains: &[Vec<BlockView>], histories: &[History]| -> Vec<String> {
            check_chains(chains, histories, 2)
                .failures
                .iter()
                .map(|f| f.split(':').next().unwrap_or_default().to_owned())
                .collect()
        };

        // A fork at height 2 on node 1 (which also loses t2 there).
        let mut forked = chain.clone();
        forked[1] = block(2, "x2", "b1", vec![tx("u1", 2, 1)]);
        let found = kinds(&[chain.clone(), forked], &histories);
        assert!(found.contains(&"fork".to_owned()), "{found:?}");
        assert!(
            found.contains(&"acknowledged transaction lost".to_owned()),
            "{found:?}"
        );

        // An acknowledgement at the wrong index.
        let mut moved = histories.clone();
        moved[0].txs[1].ack.as_mut().unwrap().index = 1;
        let found = kinds(&[chain.clone(), chain.clone()], &moved);
        assert_eq!(found, ["acknowledged transaction lost"]);

        // A transaction committed twice; a nonce gap; a transaction nobody signed.
        let twice = vec![
            chain[0].clone(),
            block(
                2,
                "b2",
                "b1",
                vec![tx("t2", 1, 2), tx("u1", 2, 1), tx("t1", 1, 1)],
            ),
        ];
        let found = kinds(&[twice.clone(), twice], &histories);
        assert!(found.contains(&"committed twice".to_owned()), "{found:?}");
        assert!(found.contains(&"nonce order".to_owned()), "{found:?}");
        let gap = vec![
            chain[0].clone(),
            block(2, "b2", "b1", vec![tx("t3", 1, 3), tx("u1", 2, 1)]),
        ];
        let found = kinds(&[gap.clone(), gap], &histories);
        assert!(found.contains(&"nonce order".to_owned()), "{found:?}");
        let phantom = vec![
            chain[0].clone(),
            block(2, "b2", "b1", vec![tx("t2", 1, 2), tx("zz", 3, 1)]),
        ];
        let found = kinds(&[phantom.clone(), phantom], &histories);
        assert!(
            found.contains(&"phantom transaction".to_owned()),
            "{found:?}"
        );

        // A transaction every node refused, committed anyway.
        let mut refused = histories.clone();
        refused[1].txs[0].attempts[0].outcome = Outcome::Rejected("nonce_taken (x)".into());
        let found = kinds(&[chain.clone(), chain.clone()], &refused);
        assert_eq!(found, ["refused but committed"]);

        // A broken parent link, and a node short of blocks.
        let mut orphan = chain.clone();
        orphan[1].parent_id = "b9".into();
        let found = kinds(&[orphan.clone(), orphan], &histories);
        assert_eq!(found, ["broken parent link"]);
        let found = kinds(&[chain.clone(), chain[..1].to_vec()], &histories);
        assert!(found.contains(&"unreadable chain".to_owned()), "{found:?}");
    }

    #[test]
    fn a_block_too_far_ahead_of_the_clock_is_found() {
        // Blocks 1 and 2 at 1000 and 2000 ms; 1 seen committed by 0 ms, 2 by 500 ms.
        let chain = good_chain();
        let (checked, ahead) = check_block_times(&chain, &[(1, 0), (2, 500)], 2_000);
        assert_eq!((checked, ahead.len()), (2, 0), "{ahead:?}");
        let (checked, ahead) = check_block_times(&chain, &[(2, 0)], 1_500);
        assert_eq!(checked, 2);
        assert_eq!(ahead.len(), 1, "{ahead:?}");
        assert!(ahead[0].starts_with("block 2 (b2)"), "{ahead:?}");
        // Heights committed after the last sample are not checked.
        let (checked, ahead) = check_block_times(&chain, &[(1, 0)], 0);
        assert_eq!(checked, 1);
        assert_eq!(ahead.len(), 1, "{ahead:?}");
        assert_eq!(check_block_times(&chain, &[], 0).0, 0);
    }
}
