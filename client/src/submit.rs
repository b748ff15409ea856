//! The one path every act takes: load the key once, take the chain id from genesis, ask the
//! node for the key's next nonce, sign locally, submit, wait for the commit, print the receipt.
//!
//! Only the signed transaction leaves this computer; private keys never do.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use clap::Args;
use courtledger_codec::Encode;
use courtledger_crypto::{ChainId, PublicKey, SigningKey};
use courtledger_ledger::{Act, Code};
use courtledger_types::limits::MAX_TX_PAYLOAD_BYTES;
use courtledger_types::{Genesis, SignedTransaction, Transaction, TxId};
use serde_json::{json, Map, Value};

use crate::acts::{created_label, Prepared};
use crate::http::{agent, agent_with_timeout, get_json_with, get_ok, post_json_with};
use crate::output::{ActError, Printer};
use crate::{keys, read_genesis};

/// What every command needs: the node and the output mode.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The node's HTTP API, without a trailing `/`.
    pub node: String,
    /// Where results go.
    pub printer: Printer,
}

/// The options of every command that signs and submits an act.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Signing and submitting")]
pub struct SignArgs {
    /// Your key file, plain or encrypted (passphrase from COURTLEDGER_PASSPHRASE, else asked).
    /// The act is signed on this computer; the key never leaves it.
    #[arg(long, env = "COURTLEDGER_KEY", value_name = "FILE")]
    pub key: PathBuf,
    /// The chain's genesis file, from your court: the act is signed for this chain only.
    #[arg(long, env = "COURTLEDGER_GENESIS", value_name = "FILE")]
    pub genesis: PathBuf,
    /// Return once the node has accepted the act, without waiting for it to be committed
    /// (check later with `courtledger tx --id TX_ID`).
    #[arg(long)]
    pub no_wait: bool,
    /// How long to wait for the commit, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub wait_timeout: u64,
}

/// A loaded key and the chain it signs for.
#[derive(Debug)]
pub struct Signer {
    /// The signing key.
    pub key: SigningKey,
    /// The checked genesis.
    pub genesis: Genesis,
    /// Its chain id.
    pub chain_id: ChainId,
}

impl Signer {
    /// Loads the key at `key` (first, so a wrong passphrase is reported before anything else)
    /// and the genesis at `genesis`.
    pub fn load(key: &Path, genesis: &Path) -> anyhow::Result<Self> {
        let key = keys::load_key(key)?.key;
        let genesis = read_genesis(genesis)?;
        let chain_id = genesis.chain_id();
        Ok(Self {
            key,
            genesis,
            chain_id,
        })
    }

    /// What building an act may need to know; `node` is the node the act goes to, for acts
    /// that look something up before signing.
    pub fn env<'a>(&'a self, node: Option<&'a str>) -> BuildEnv<'a> {
        BuildEnv {
            chain_id: self.chain_id,
            genesis: &self.genesis,
            signer: self.key.public_key(),
            node,
        }
    }
}

/// What building an act may need: the chain, who signs, and the node to ask.
#[derive(Debug, Clone, Copy)]
pub struct BuildEnv<'a> {
    /// The chain id (possession signatures are made for it).
    pub chain_id: ChainId,
    /// The genesis (its registrars' identity ids).
    pub genesis: &'a Genesis,
    /// The public key that will sign the act.
    pub signer: PublicKey,
    /// The node's HTTP API (without a trailing `/`), for builders that look something up on
    /// the ledger (`identity rotate` without `--identity`); `None` when building offline.
    pub node: Option<&'a str>,
}

/// Checks that `act` is one the ledger can decode (every bound respected) and fits in a
/// transaction; returns its payload.
pub fn payload(act: &Act) -> anyhow::Result<Vec<u8>> {
    let bytes = act.to_bytes();
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > u64::from(MAX_TX_PAYLOAD_BYTES) {
        bail!(
            "the act is {} bytes; a transaction holds at most {MAX_TX_PAYLOAD_BYTES}",
            bytes.len()
        );
    }
    match Act::decode(&bytes) {
        Ok(decoded) if &decoded == act => Ok(bytes),
        Ok(_) => bail!("the act does not survive its own encoding"),
        Err(error) => bail!("the act is not valid: {error}"),
    }
}

/// Signs `act` as transaction number `nonce` of `key` for `chain_id`.
pub fn sign_act(
    key: &SigningKey,
    chain_id: &ChainId,
    nonce: u64,
    act: &Act,
) -> anyhow::Result<SignedTransaction> {
    Ok(Transaction {
        signer: key.public_key(),
        nonce,
        payload: payload(act)?,
    }
    .sign(key, chain_id))
}

/// The next nonce of `key` as the node sees it (its pending transactions counted).
pub fn next_nonce(node: &str, key: &PublicKey) -> anyhow::Result<u64> {
    let account = get_ok(node, &format!("/v1/accounts/{key}"))
        .context("cannot read this key's next nonce")?;
    match account["next_nonce"].as_u64() {
        Some(nonce) => Ok(nonce),
        None => bail!("cannot read this key's next nonce: {account}"),
    }
}

/// How long to wait for a commit.
#[derive(Debug, Clone, Copy)]
pub struct Wait {
    /// Whether to wait at all.
    pub wait: bool,
    /// For how long.
    pub timeout: Duration,
}

impl From<&SignArgs> for Wait {
    fn from(args: &SignArgs) -> Self {
        Self {
            wait: !args.no_wait,
            timeout: Duration::from_secs(args.wait_timeout.max(1)),
        }
    }
}

/// Where a transaction stands, as a node reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxState {
    /// Accepted into the pool; nothing more said (older nodes, or no wait asked).
    Accepted,
    /// Accepted and not yet committed.
    Pending,
    /// Committed, with its receipt.
    Committed(Committed),
}

/// A committed transaction's place and receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    /// The block's height.
    pub height: u64,
    /// The transaction's position in the block.
    pub index: Option<u64>,
    /// The block's id.
    pub block_id: Option<String>,
    /// The receipt code (0: the act was applied); `None` if the node did not say.
    pub code: Option<u16>,
}

/// The node refused a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The node's stable code (`invalid_tx`, `nonce_taken`, ...), if it gave one.
    pub code: Option<String>,
    /// Its message.
    pub message: String,
}

fn refusal(error: Option<&Value>) -> Refusal {
    let code = error
        .and_then(|e| e.get("code"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let message = error
        .and_then(|e| e.get("message").and_then(Value::as_str).map(str::to_owned))
        .or_else(|| error.and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| "no reason given".to_owned());
    Refusal { code, message }
}

/// Reads one transaction's state from a `POST /v1/txs` result or a `GET /v1/txs/{id}` answer.
/// Unknown fields are ignored; both the plain (`accepted`) and the waiting (`status`,
/// `height`, `index`, `block_id`, `code`) shapes are understood.
pub fn read_tx_state(entry: &Value) -> Result<TxState, Refusal> {
    let status = entry.get("status").and_then(Value::as_str);
    let accepted = entry.get("accepted").and_then(Value::as_bool);
    match status {
        Some("committed") => {
            let Some(height) = entry.get("height").and_then(Value::as_u64) else {
                return Err(Refusal {
                    code: None,
                    message: format!("a committed transaction without a height: {entry}"),
                });
            };
            Ok(TxState::Committed(Committed {
                height,
                index: entry
                    .get("index")
                    .or_else(|| entry.get("position"))
                    .and_then(Value::as_u64),
                block_id: entry
                    .get("block_id")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                code: entry
                    .get("code")
                    .and_then(Value::as_u64)
                    .and_then(|code| u16::try_from(code).ok()),
            }))
        }
        Some("pending") if accepted != Some(false) => Ok(TxState::Pending),
        _ if accepted == Some(false)
            || status == Some("rejected")
            || entry.get("error").is_some() =>
        {
            Err(refusal(entry.get("error")))
        }
        _ if accepted == Some(true) => Ok(TxState::Accepted),
        _ => Err(Refusal {
            code: None,
            message: format!("an answer this client does not understand: {entry}"),
        }),
    }
}

/// Reads a `POST /v1/txs` answer for one transaction: its result entry, or the refusal of the
/// whole request (`{"error": ...}`).
pub fn read_submit_answer(http_status: u16, body: &Value) -> Result<TxState, Refusal> {
    match body.get("results").and_then(|results| results.get(0)) {
        Some(entry) => read_tx_state(entry),
        None => {
            let mut refused = refusal(body.get("error"));
            if body.get("error").is_none() {
                refused.message = format!("the node answered {http_status}: {body}");
            }
            Err(refused)
        }
    }
}

/// A signed act the node accepted.
#[derive(Debug, Clone)]
pub struct Submitted {
    /// The transaction's id (also the id of whatever the act creates).
    pub tx_id: TxId,
    /// Who signed.
    pub signer: PublicKey,
    /// Its nonce.
    pub nonce: u64,
    /// Where it stands.
    pub state: TxState,
}

/// Signs `act` with `signer`, submits it to the node and, with `wait`, waits for its commit.
///
/// An error when the node refuses it or it is not committed in time; a committed act that
/// failed on the ledger is returned (with its code) for [`report`] to judge.
pub fn submit_act(ctx: &Ctx, signer: &Signer, act: &Act, wait: Wait) -> anyhow::Result<Submitted> {
    // Checked before the node is asked anything.
    let payload = payload(act)?;
    submit_payload(ctx, signer, payload, wait)
}

/// [`submit_act`] for a payload already encoded (a validator-set change, for instance).
pub fn submit_payload(
    ctx: &Ctx,
    signer: &Signer,
    payload: Vec<u8>,
    wait: Wait,
) -> anyhow::Result<Submitted> {
    let public_key = signer.key.public_key();
    let nonce = next_nonce(&ctx.node, &public_key)?;
    let tx = Transaction {
        signer: public_key,
        nonce,
        payload,
    }
    .sign(&signer.key, &signer.chain_id);
    let tx_id = tx.id();
    let hex = hex::encode(tx.to_bytes());
    let started = Instant::now();
    let deadline = started + wait.timeout;
    let url = format!("{}/v1/txs", ctx.node);
    let (http_status, body) = if wait.wait {
        let timeout_ms = u64::try_from(wait.timeout.as_millis()).unwrap_or(u64::MAX);
        let request = json!({ "txs": [hex], "wait": true, "timeout_ms": timeout_ms });
        let agent = agent_with_timeout(wait.timeout + Duration::from_secs(15));
        let (status, body) = post_json_with(&agent, &url, &request)?;
        if status == 400 && body["error"]["code"] == "invalid_body" {
            // A node that does not know `wait`: submit plainly, then follow the transaction.
            post_json_with(&agent, &url, &json!({ "txs": [hex] }))?
        } else {
            (status, body)
        }
    } else {
        post_json_with(&agent(), &url, &json!({ "txs": [hex] }))?
    };
    let state = read_submit_answer(http_status, &body).map_err(|refused| {
        let code = refused.code.as_deref().unwrap_or("refused");
        ActError {
            message: format!(
                "the node refused the transaction ({code}): {}",
                refused.message
            ),
            details: json!({
                "tx_id": tx_id.to_string(),
                "status": "rejected",
                "answer": body,
            }),
        }
    })?;
    let mut submitted = Submitted {
        tx_id,
        signer: public_key,
        nonce,
        state,
    };
    if wait.wait && !matches!(submitted.state, TxState::Committed(_)) {
        submitted.state = follow(ctx, &tx_id, deadline)?;
        if !matches!(submitted.state, TxState::Committed(_)) {
            return Err(ActError {
                message: format!(
                    "transaction {tx_id} was accepted but not committed within {} s; it may \
                     still be: check with `courtledger tx --id {tx_id}`",
                    wait.timeout.as_secs()
                ),
                details: json!({
                    "tx_id": tx_id.to_string(),
                    "status": "pending",
                    "signer": public_key.to_string(),
                    "nonce": nonce,
                }),
            }
            .into());
        }
    }
    Ok(submitted)
}

/// Asks the node where `tx_id` is until it is committed or `deadline` passes.
fn follow(ctx: &Ctx, tx_id: &TxId, deadline: Instant) -> anyhow::Result<TxState> {
    let agent = agent();
    let url = format!("{}/v1/txs/{tx_id}", ctx.node);
    let mut last = TxState::Pending;
    loop {
        let (status, body) = get_json_with(&agent, &url)?;
        if status == 200 {
            if let Ok(state) = read_tx_state(&body) {
                if matches!(state, TxState::Committed(_)) {
                    return Ok(state);
                }
                last = state;
            }
        }
        if Instant::now() >= deadline {
            return Ok(last);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The result document of a submitted act: what it was, the id it created, and its receipt.
pub fn result_json(prepared: &Prepared, submitted: &Submitted) -> Value {
    let mut object = Map::new();
    let kind = prepared.act.kind();
    object.insert("act".into(), json!(kind.name()));
    object.insert("tx_id".into(), json!(submitted.tx_id.to_string()));
    if let Some(label) = created_label(kind) {
        object.insert(format!("{label}_id"), json!(submitted.tx_id.to_string()));
    }
    object.insert("signer".into(), json!(submitted.signer.to_string()));
    object.insert("nonce".into(), json!(submitted.nonce));
    match &submitted.state {
        TxState::Accepted | TxState::Pending => {
            object.insert("status".into(), json!("pending"));
        }
        TxState::Committed(committed) => {
            object.insert("status".into(), json!("committed"));
            object.insert("height".into(), json!(committed.height));
            object.insert("index".into(), json!(committed.index));
            object.insert("block_id".into(), json!(committed.block_id));
            object.insert("code".into(), json!(committed.code));
            object.insert(
                "code_name".into(),
                json!(committed.code.map(Code::describe)),
            );
        }
    }
    for (key, value) in &prepared.details {
        object.entry(key.clone()).or_insert_with(|| value.clone());
    }
    Value::Object(object)
}

/// Prints the outcome of a submitted act; an error if the act failed on the ledger.
pub fn report(ctx: &Ctx, prepared: &Prepared, submitted: &Submitted) -> anyhow::Result<()> {
    let value = result_json(prepared, submitted);
    let tx_id = submitted.tx_id;
    let first = match created_label(prepared.act.kind()) {
        Some(label) => format!("{}: {label} {tx_id}", prepared.summary),
        None => format!("{} (transaction {tx_id})", prepared.summary),
    };
    let committed = match &submitted.state {
        TxState::Accepted | TxState::Pending => {
            let text = format!(
                "{first}\nsubmitted, not yet committed; check with `courtledger tx --id {tx_id}`"
            );
            return ctx.printer.result(&value, &text);
        }
        TxState::Committed(committed) => committed,
    };
    let place = match committed.index {
        Some(index) => format!("height {} (index {index})", committed.height),
        None => format!("height {}", committed.height),
    };
    match committed.code {
        Some(0) => {
            let text = format!("{first}\ncommitted at {place}: code 0 ok");
            ctx.printer.result(&value, &text)
        }
        None => {
            let text = format!("{first}\ncommitted at {place}; the node did not report a code");
            ctx.printer.result(&value, &text)
        }
        Some(code) => Err(ActError {
            message: format!(
                "the act failed on the ledger: code {code} {} (transaction {tx_id}, committed \
                 at {place}; it changed nothing)",
                Code::describe(code)
            ),
            details: value,
        }
        .into()),
    }
}

/// Builds, signs, submits and reports one act command.
pub fn run_act(
    ctx: &Ctx,
    args: &SignArgs,
    build: &dyn crate::acts::BuildAct,
) -> anyhow::Result<()> {
    let signer = Signer::load(&args.key, &args.genesis)?;
    let prepared = build.build(&signer.env(Some(&ctx.node)))?;
    let submitted = submit_act(ctx, &signer, &prepared.act, Wait::from(args))?;
    report(ctx, &prepared, &submitted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn submit_answers_of_every_shape() {
        // Today's plain shape.
        let plain = json!({ "results": [{ "id": "aa", "accepted": true }] });
        assert_eq!(read_submit_answer(200, &plain), Ok(TxState::Accepted));
        // Waiting: committed, pending.
        let committed = json!({ "results": [{
            "id": "aa", "accepted": true, "status": "committed", "height": 7, "index": 2,
            "block_id": "bb", "code": 5, "something_new": [1]
        }] });
        assert_eq!(
            read_submit_answer(200, &committed),
            Ok(TxState::Committed(Committed {
                height: 7,
                index: Some(2),
                block_id: Some("bb".to_owned()),
                code: Some(5),
            }))
        );
        let pending = json!({ "results": [{ "id": "aa", "status": "pending" }] });
        assert_eq!(read_submit_answer(200, &pending), Ok(TxState::Pending));
        // Rejections: per transaction, with or without `accepted`, and of the whole request.
        let rejected = json!({ "results": [{
            "id": "aa", "accepted": false, "status": "rejected",
            "error": { "code": "invalid_tx", "message": "the signing key is not registered" }
        }] });
        assert_eq!(
            read_submit_answer(200, &rejected),
            Err(Refusal {
                code: Some("invalid_tx".to_owned()),
                message: "the signing key is not registered".to_owned(),
            })
        );
        let rejected = json!({ "results": [{ "id": "aa", "error": { "code": "nonce_taken" } }] });
        assert_eq!(
            read_submit_answer(200, &rejected)
                .unwrap_err()
                .code
                .as_deref(),
            Some("nonce_taken")
        );
        let full = json!({
            "error": { "code": "mempool_full", "message": "full" },
            "results": [{ "id": "aa", "accepted": false, "error": { "code": "mempool_full" } }]
        });
        assert_eq!(
            read_submit_answer(429, &full).unwrap_err().code.as_deref(),
            Some("mempool_full")
        );
        let whole =
            json!({ "error": { "code": "invalid_hex", "message": "odd", "field": "txs[0]" } });
        assert_eq!(
            read_submit_answer(400, &whole),
            Err(Refusal {
                code: Some("invalid_hex".to_owned()),
                message: "odd".to_owned(),
            })
        );
        assert!(read_submit_answer(500, &json!({})).is_err());
        assert!(read_submit_answer(200, &json!({ "results": [{ "id": "aa" }] })).is_err());
    }

    #[test]
    fn transaction_lookups() {
        // GET /v1/txs/{id}: committed with a code, or the older `position`.
        let body = json!({ "id": "aa", "status": "committed", "height": 3, "position": 1 });
        assert_eq!(
            read_tx_state(&body),
            Ok(TxState::Committed(Committed {
                height: 3,
                index: Some(1),
                block_id: None,
                code: None,
            }))
        );
        assert_eq!(
            read_tx_state(&json!({ "id": "aa", "status": "pending" })),
            Ok(TxState::Pending)
        );
    }
}
