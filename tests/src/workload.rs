//! The workload: client threads, one per signer, each submitting real signed acts with its own
//! strictly sequential nonces (1, 2, 3, …) to random running nodes, and recording every attempt.
//!
//! Signers: each registrar of the genesis registers new party identities (a fresh key, a salted
//! commitment, the party's possession signature); parties registered during set-up file civil
//! cases against unregistered defendants. A transaction is submitted with `wait` and its
//! outcome recorded: **acknowledged** (committed: height, index, block id, receipt code, from the
//! `wait` answer or, after an uncertain attempt, from `GET /v1/txs/{id}`), or pending after the
//! wait, refused, or an HTTP error or timeout. A client settles one nonce before the next: after
//! an uncertain attempt it looks its candidates up, resubmits one, or (sometimes) signs a
//! **replacement**, a different act with the same nonce, so that two transactions compete for
//! one nonce and at most one may commit.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use courtledger_codec::Encode;
use courtledger_crypto::{sha256, ChainId, PublicKey, SigningKey};
use courtledger_ledger::act::{FileCase, RegisterIdentity};
use courtledger_ledger::{
    identity_commitment, sign_possession, Act, CaseKind, IdentityId, PartyRef, Possession, Role,
};
use courtledger_types::{CourtCode, SignedTransaction, Transaction};
use serde_json::{json, Value};

use crate::cluster::{Cluster, RUNNING};
use crate::http::Http;
use crate::rng::Rng;

/// How long a node is asked to wait for a commit.
pub const WAIT_MS: u64 = 4_000;
/// The HTTP timeout of a submission (beyond the wait).
const SUBMIT_TIMEOUT: Duration = Duration::from_secs(10);
/// Most competing transactions signed for one nonce.
const MAX_CANDIDATES: usize = 3;

/// What a signer does.
#[derive(Debug, Clone)]
pub enum SignerRole {
    /// Registers new parties.
    Registrar,
    /// Files cases as the registered party `id` at `court`.
    Party {
        /// The party's identity id.
        id: IdentityId,
        /// Where the cases are filed.
        court: CourtCode,
    },
}

/// One signer of the workload.
#[derive(Debug, Clone)]
pub struct Signer {
    /// For reports: `registrar0`, `party2`, `probe`.
    pub label: String,
    /// Its key.
    pub key: SigningKey,
    /// What it signs.
    pub role: SignerRole,
}

/// Where a transaction was committed, as a node acknowledged it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    /// Height of the block.
    pub height: u64,
    /// Position in the block.
    pub index: u64,
    /// The block id (hex).
    pub block_id: String,
    /// The receipt code.
    pub code: u64,
    /// The node that answered.
    pub node: usize,
    /// From the `wait` answer (true) or a lookup (false).
    pub by_wait: bool,
    /// Milliseconds since the run started.
    pub at_ms: u64,
}

/// The outcome of one submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Committed within the wait.
    Committed,
    /// Accepted, not committed within the wait.
    Pending,
    /// Refused by the node, with the error code.
    Rejected(String),
    /// No answer: connection refused, reset, timed out, or an unexpected status.
    Failed(String),
}

impl Outcome {
    /// A short name for counts.
    pub fn name(&self) -> String {
        match self {
            Outcome::Committed => "committed".into(),
            Outcome::Pending => "pending after wait".into(),
            Outcome::Rejected(code) => format!("rejected: {code}"),
            Outcome::Failed(_) => "no answer (error/timeout)".into(),
        }
    }
}

/// One submission of a transaction.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// To which node.
    pub node: usize,
    /// Milliseconds since the run started, when it was sent.
    pub at_ms: u64,
    /// What came of it.
    pub outcome: Outcome,
}

/// A signed transaction of the workload and everything that happened to it.
#[derive(Debug, Clone)]
pub struct TxRecord {
    /// The transaction id (hex).
    pub id: String,
    /// Its nonce.
    pub nonce: u64,
    /// Which competing version of this nonce (0: the first).
    pub variant: u32,
    /// Its submissions.
    pub attempts: Vec<Attempt>,
    /// Its acknowledgement, if one came.
    pub ack: Option<Ack>,
}

/// Everything one signer did.
#[derive(Debug, Clone)]
pub struct History {
    /// The signer's label.
    pub label: String,
    /// Its public key.
    pub key: PublicKey,
    /// Its transactions, in signing order.
    pub txs: Vec<TxRecord>,
    /// Things a correct network cannot do (each one fails the run).
    pub anomalies: Vec<String>,
}

/// What the client threads share.
#[derive(Debug)]
pub struct Ctx<'a> {
    /// The network.
    pub cluster: &'a Cluster,
    /// The chain id.
    pub chain_id: ChainId,
    /// Set when the workload must stop.
    pub stop: &'a AtomicBool,
    /// When the run started.
    pub started: Instant,
    /// The seed (for the acts' contents).
    pub seed: u64,
}

impl Ctx<'_> {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }
}

/// How a nonce was settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// One candidate was acknowledged.
    Acked,
    /// The workload stopped (or the deadline passed) first.
    Stopped,
    /// The network did something impossible; the signer stops.
    Anomaly,
}

/// The act of `signer`'s transaction `nonce`, version `variant` (deterministic in the seed).
fn act(ctx: &Ctx<'_>, signer: &Signer, nonce: u64, variant: u32) -> Act {
    let material = [
        ctx.seed.to_be_bytes().as_slice(),
        signer.key.public_key().to_string().as_bytes(),
        &nonce.to_be_bytes(),
        &variant.to_be_bytes(),
    ]
    .concat();
    let seed = sha256(&material).0;
    match &signer.role {
        SignerRole::Registrar => registration(&ctx.chain_id, &seed).1,
        SignerRole::Party { id, court } => Act::from(FileCase {
            court: court.clone(),
            receiving_court: None,
            kind: CaseKind::Civil,
            plaintiffs: vec![PartyRef::Registered(*id)],
            defendants: vec![PartyRef::Unregistered(identity_commitment(
                &seed,
                "resident_id_card",
                &hex::encode(seed.get(..9).unwrap_or_default()),
                "被告",
            ))],
            claim_summary: sha256(&[seed.as_slice(), b"claim summary"].concat()),
            complaint: sha256(&[seed.as_slice(), b"complaint"].concat()),
            attachments: Vec::new(),
            principal: None,
            power_of_attorney: None,
        }),
    }
}

/// A registrar's registration of a new party whose key comes from `seed`: the key and the act.
pub fn registration(chain_id: &ChainId, seed: &[u8; 32]) -> (SigningKey, Act) {
    let key = SigningKey::from_seed(&sha256(&[seed.as_slice(), b"party key"].concat()).0);
    let commitment = identity_commitment(
        seed,
        "resident_id_card",
        &hex::encode(seed.get(..9).unwrap_or_default()),
        "当事人",
    );
    let public_key = key.public_key();
    let possession = sign_possession(
        &key,
        chain_id,
        &Possession::Registration {
            key: &public_key,
            role: Role::Party,
            court: None,
            commitment: &commitment,
        },
    );
    let act = Act::from(RegisterIdentity {
        key: public_key,
        role: Role::Party,
        court: None,
        commitment,
        possession,
    });
    (key, act)
}

/// Signs `act` as `key` with `nonce`.
pub fn sign(key: &SigningKey, chain_id: &ChainId, nonce: u64, act: &Act) -> SignedTransaction {
    Transaction {
        signer: key.public_key(),
        nonce,
        payload: act.to_bytes(),
    }
    .sign(key, chain_id)
}

/// A node's answer about one transaction: committed (as an ack), or not.
fn parse_committed(result: &Value, node: usize, by_wait: bool, at_ms: u64) -> Option<Ack> {
    if result["status"] != "committed" {
        return None;
    }
    Some(Ack {
        height: result["height"].as_u64()?,
        index: result["index"].as_u64()?,
        block_id: result["block_id"].as_str()?.to_owned(),
        code: result["code"].as_u64()?,
        node,
        by_wait,
        at_ms,
    })
}

/// Submits `tx` to `node` with `wait`; the outcome, and the ack if it committed.
pub fn submit(
    http: &Http,
    api: &str,
    node: usize,
    tx: &SignedTransaction,
    at_ms: impl Fn() -> u64,
) -> (Outcome, Option<Ack>) {
    let body = json!({
        "txs": [hex::encode(tx.to_bytes())],
        "wait": true,
        "timeout_ms": WAIT_MS,
    });
    let (status, answer) = match http.post(&format!("{api}/v1/txs"), &body) {
        Ok(answer) => answer,
        Err(error) => return (Outcome::Failed(error), None),
    };
    let result = &answer["results"][0];
    if result.is_null() {
        return (Outcome::Failed(format!("HTTP {status}: {answer}")), None);
    }
    if let Some(ack) = parse_committed(result, node, true, at_ms()) {
        return (Outcome::Committed, Some(ack));
    }
    match result["status"].as_str() {
        Some("pending") => (Outcome::Pending, None),
        Some("rejected") => {
            let code = result["error"]["code"].as_str().unwrap_or("?").to_owned();
            let message = result["error"]["message"].as_str().unwrap_or("");
            // A stale nonce is the one refusal that says something with this nonce committed.
            let code = if code == "invalid_tx" && message.contains("not above the signer") {
                "invalid_tx: stale nonce".to_owned()
            } else if code == "nonce_taken" {
                format!("nonce_taken ({message})")
            } else {
                code
            };
            (Outcome::Rejected(code), None)
        }
        _ => (Outcome::Failed(format!("HTTP {status}: {result}")), None),
    }
}

/// One client: settles `signer`'s nonces from `first_nonce` on until the workload stops.
pub fn run_client(ctx: &Ctx<'_>, signer: &Signer, first_nonce: u64, stream: u64) -> History {
    let mut rng = Rng::derive(ctx.seed, stream);
    let mut history = History {
        label: signer.label.clone(),
        key: signer.key.public_key(),
        txs: Vec::new(),
        anomalies: Vec::new(),
    };
    let mut nonce = first_nonce;
    while !ctx.stopped() {
        match settle(ctx, signer, &mut history, nonce, &mut rng, None, None) {
            Settled::Acked => nonce += 1,
            Settled::Stopped | Settled::Anomaly => break,
        }
    }
    history
}

/// Submits versions of `signer`'s transaction `nonce` until one is acknowledged (to `fixed`
/// only, if given; else to random running nodes), the workload stops, or `deadline` passes.
#[allow(clippy::too_many_arguments)]
pub fn settle(
    ctx: &Ctx<'_>,
    signer: &Signer,
    history: &mut History,
    nonce: u64,
    rng: &mut Rng,
    fixed: Option<usize>,
    deadline: Option<Instant>,
) -> Settled {
    let http = Http::new(SUBMIT_TIMEOUT);
    let lookup_http = Http::new(Duration::from_secs(3));
    let mut signed: Vec<(usize, SignedTransaction)> = Vec::new();
    let new_candidate = |history: &mut History, signed: &mut Vec<(usize, SignedTransaction)>| {
        let variant = u32::try_from(signed.len()).unwrap_or(u32::MAX);
        let tx = sign(
            &signer.key,
            &ctx.chain_id,
            nonce,
            &act(ctx, signer, nonce, variant),
        );
        history.txs.push(TxRecord {
            id: tx.id().to_string(),
            nonce,
            variant,
            attempts: Vec::new(),
            ack: None,
        });
        signed.push((history.txs.len() - 1, tx));
    };
    new_candidate(history, &mut signed);
    let mut replace = false;
    let mut lookup_at: Option<usize> = None;
    let mut strikes = 0u32;
    loop {
        let expired = deadline.is_some_and(|d| Instant::now() > d);
        if (fixed.is_none() && ctx.stopped()) || expired {
            return Settled::Stopped;
        }
        let running = ctx.cluster.running();
        let node = match fixed.or(lookup_at.take()) {
            Some(node) => node,
            None => match rng.pick(&running) {
                Some(node) => *node,
                None => {
                    std::thread::sleep(Duration::from_millis(200));
                    continue;
                }
            },
        };
        if ctx.cluster.state(node) != RUNNING {
            std::thread::sleep(Duration::from_millis(100));
            continue;
        }
        let api = ctx.cluster.api(node);

        // After an uncertain attempt, first ask this node whether a candidate committed.
        let uncertain = signed.iter().any(|(record, _)| {
            history
                .txs
                .get(*record)
                .is_some_and(|r| !r.attempts.is_empty())
        });
        if uncertain {
            for (record, tx) in &signed {
                let url = format!("{api}/v1/txs/{}", tx.id());
                if let Some(answer) = lookup_http.get_ok(&url) {
                    if let Some(ack) = parse_committed(&answer, node, false, ctx.now_ms()) {
                        if let Some(r) = history.txs.get_mut(*record) {
                            r.ack = Some(ack);
                        }
                        return Settled::Acked;
                    }
                }
            }
            if strikes >= 3 {
                let ids: Vec<String> = signed.iter().map(|(_, tx)| tx.id().to_string()).collect();
                history.anomalies.push(format!(
                    "{} nonce {nonce}: node {node} refused it as already used {strikes} times, \
                     but none of the signer's versions {ids:?} is committed there",
                    signer.label
                ));
                return Settled::Anomaly;
            }
        }

        if replace && signed.len() < MAX_CANDIDATES {
            new_candidate(history, &mut signed);
        }
        replace = false;
        let pick = if rng.chance(70) {
            signed.len() - 1
        } else {
            rng.index(signed.len())
        };
        let Some((record, tx)) = signed.get(pick) else {
            continue;
        };
        let at_ms = ctx.now_ms();
        let (outcome, ack) = submit(&http, &api, node, tx, || ctx.now_ms());
        if let Some(r) = history.txs.get_mut(*record) {
            r.attempts.push(Attempt {
                node,
                at_ms,
                outcome: outcome.clone(),
            });
            if ack.is_some() {
                r.ack = ack;
                return Settled::Acked;
            }
        }
        match &outcome {
            Outcome::Committed => return Settled::Acked,
            Outcome::Pending | Outcome::Failed(_) => {
                replace = rng.chance(25);
                std::thread::sleep(Duration::from_millis(100));
            }
            Outcome::Rejected(code) => {
                if code == "already_committed" || code == "invalid_tx: stale nonce" {
                    strikes += 1;
                    lookup_at = Some(node);
                } else if let Some(rest) = code.strip_prefix("nonce_taken") {
                    let ours = signed
                        .iter()
                        .any(|(_, tx)| rest.contains(&tx.id().to_string()));
                    if !ours {
                        history.anomalies.push(format!(
                            "{} nonce {nonce}: node {node} holds a transaction with this nonce \
                             that the signer never signed: {code}",
                            signer.label
                        ));
                        return Settled::Anomaly;
                    }
                    std::thread::sleep(Duration::from_millis(200));
                } else if code == "mempool_full" {
                    std::thread::sleep(Duration::from_millis(500));
                } else {
                    // A node behind the others (a restarted one) may not know the signer yet,
                    // or see a nonce gap: ask another.
                    std::thread::sleep(Duration::from_millis(300));
                }
            }
        }
    }
}

/// Attempts by outcome over all histories.
pub fn attempt_counts(histories: &[History]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for attempt in histories
        .iter()
        .flat_map(|h| &h.txs)
        .flat_map(|t| &t.attempts)
    {
        let name = match &attempt.outcome {
            Outcome::Rejected(code) if code.starts_with("nonce_taken") => {
                "rejected: nonce_taken".to_owned()
            }
            other => other.name(),
        };
        *counts.entry(name).or_insert(0) += 1;
    }
    counts
}
