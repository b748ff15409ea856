//! `courtledger bench`: a load generator of real judicial acts against a running network.
//!
//! **Setup** (not timed): a registrar listed in genesis registers `--parties` new party
//! identities (fresh keys, salted commitments, each party's own possession signature), in
//! batches submitted with `wait`, and every node is given time to reach the block that
//! committed them.
//!
//! **Timed phase**: every transaction is signed before the clock starts. What they are is the
//! `--mix`:
//!
//! - `filings` (the default): each one is a party filing a civil case (`file_case`) against a
//!   defendant who is not registered (a salted commitment), with the SHA-256 of a complaint and
//!   a claim summary and one to three attachments, so that transactions are 300 to 600 bytes
//!   like real acts.
//! - `case-work`: each party's transactions repeat `file_case`, `submit_evidence`,
//!   `post_message`, `submit_evidence`: a filing as above, then acts of the filer on the case
//!   it just filed (its id is the filing's transaction id, known once signed), which is still
//!   pending review, as a party may. Evidence is a file reference (SHA-256, size, media type and
//!   a title; 270 to 360 bytes), a message the SHA-256 of its text (175 bytes: the act has no
//!   more). Every act of the mix succeeds on the ledger.
//! - `lifecycle`: cases that go through the court ([`lifecycle`]): each party files cases and
//!   submits evidence, judges of the registrar's court (registered during set-up as well, one
//!   for every eight parties) accept them, serve a notice of acceptance, schedule and hold a
//!   hearing and record its transcript, and the party acknowledges the service (文书签收) and
//!   signs the transcript (笔录签署). An act that depends on another signer's act (a review on
//!   the filing, a receipt on the service, a signature on the transcript) is held by the load
//!   generator until that act is committed ([`gate`]), as a real party answers only what it was
//!   served; other signers' transactions go past it.
//!
//! Signer `s` (parties first, then staff) submits through node `s mod nodes`, its nonces in
//! order (1, 2, 3, ...), in batches of `--batch`, open loop or at `--rate` transactions per
//! second in total. At a fixed rate a late answer does not lower the offered rate: the next
//! request carries everything that fell due meanwhile.
//!
//! Back-pressure is retried like a real client would: a transaction refused as `mempool_full`
//! (or whose whole request was refused as overloaded) is resubmitted, the same signed
//! transaction, after a backoff (20 ms, doubling while nothing gets through, at most 500 ms),
//! before any new transaction of its sender, so a party's nonces still arrive in order. The
//! rate counts first submissions only, and latency runs from the first submission. Any other
//! refusal is final.
//!
//! Commits are watched on the first node's event stream (`GET /v1/events`, server-sent
//! events): a transaction's latency is from just before its submission to the moment its commit
//! event arrives. If the stream is refused or falls behind, committed blocks are read instead
//! (`GET /v1/blocks?from=` every 50 ms; latency is then up to the moment the block was read).
//!
//! **The end check**: every node's blocks since the start are read back, and every transaction
//! a node accepted must be in them (nothing lost). The report gives offered and committed
//! transactions per second, the mix (`act`) and its count of each act kind (`acts`), latency
//! percentiles, final refusals by the node's error code (`rejected`: back-pressure refusals
//! that a resubmission overcame are not in it; those still refused when the run ended are, as
//! `mempool_full`), how many resubmissions were sent and back-pressure refusals answered,
//! receipt codes, blocks, and the check.

// Counts become floating-point rates and percentiles here; precision loss is irrelevant.
#![allow(clippy::as_conversions, clippy::cast_precision_loss)]

mod gate;
pub mod lifecycle;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use clap::Args;
use courtledger_codec::Encode;
use courtledger_crypto::{sha256, ChainId, SigningKey};
use courtledger_ledger::act::{
    Attachment, CaseId, FileCase, FileRef, PostMessage, RegisterIdentity, SubmitEvidence,
};
use courtledger_ledger::{
    identity_commitment, sign_possession, Act, AttachmentKind, CaseKind, Code, IdentityId,
    MessageKind, PartyRef, Possession, Role,
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

/// The node's per-transaction back-pressure refusal: the pool is full, the same transaction
/// may be accepted later.
const BACKPRESSURE_CODE: &str = "mempool_full";
/// Whole-request refusals (no per-transaction results) of a node that is overloaded for now,
/// answered with 503; like 429, they are back-pressure. (`node_stopping`, also 503, is not.)
const OVERLOADED_CODES: [&str; 2] = ["overloaded", "node_busy"];
/// The first wait before resubmitting back-pressure refusals, and the wait after progress.
const RETRY_BACKOFF_MIN: Duration = Duration::from_millis(20);
/// The longest wait before resubmitting back-pressure refusals.
const RETRY_BACKOFF_MAX: Duration = Duration::from_millis(500);
/// The longest a sender sleeps at once, so that it notices the end of the run.
const SENDER_NAP: Duration = Duration::from_millis(50);
/// How long a sender whose next transactions all wait for commits sleeps before it looks again.
const GATE_NAP: Duration = Duration::from_millis(5);
/// Most transactions a sender holds back at once for a commit they depend on (and their
/// signers' later ones); it reads no further into its queue while this many wait.
const MAX_HELD: usize = 4096;
/// Parties per member of staff in the `lifecycle` mix.
const PARTIES_PER_STAFF: usize = 8;

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
    /// Transactions in the timed phase (what they are: --mix).
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
    /// The acts of the timed phase: only case filings; or each party's filings each followed
    /// by evidence, a message and evidence on the case it filed; or cases through the court,
    /// with judges' acts, service receipts and transcript signatures (`lifecycle`).
    #[arg(long, value_enum, default_value_t = Mix::Filings)]
    pub mix: Mix,
}

/// The acts of the timed phase (`--mix`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Mix {
    /// Every transaction files a new civil case (`file_case`).
    #[default]
    Filings,
    /// Each party repeats `file_case`, `submit_evidence`, `post_message`, `submit_evidence`,
    /// the last three on the case it just filed.
    CaseWork,
    /// Cases through the court: filing and evidence, review, service and its receipt, a
    /// hearing and the signature of its transcript ([`lifecycle`]).
    Lifecycle,
}

impl Mix {
    /// The name in `--mix` and in the report.
    pub fn name(self) -> &'static str {
        match self {
            Mix::Filings => "filings",
            Mix::CaseWork => "case-work",
            Mix::Lifecycle => "lifecycle",
        }
    }
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
    /// The acts of the timed phase.
    pub mix: Mix,
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
        mix: args.mix,
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

/// The registrar's registration of a new person with a fresh key, in `role` (at `court`);
/// returns the key and the act.
fn new_identity(chain_id: &ChainId, role: Role, court: Option<&CourtCode>) -> (SigningKey, Act) {
    let key = SigningKey::generate(&mut OsRng);
    let mut salt = [0u8; 32];
    OsRng.fill_bytes(&mut salt);
    let act = registration_as(&key, salt, chain_id, role, court);
    (key, act)
}

/// The registrar's registration of the party holding `key`: a salted commitment to a
/// plausible person drawn from `salt`, and the party's own possession signature.
pub fn registration(key: &SigningKey, salt: [u8; 32], chain_id: &ChainId) -> Act {
    registration_as(key, salt, chain_id, Role::Party, None)
}

/// The registrar's registration of the person holding `key` in `role` (at `court` for a court's
/// staff), as [`registration`].
fn registration_as(
    key: &SigningKey,
    salt: [u8; 32],
    chain_id: &ChainId,
    role: Role,
    court: Option<&CourtCode>,
) -> Act {
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
            role,
            court,
            commitment: &commitment,
        },
    );
    Act::from(RegisterIdentity {
        key: public_key,
        role,
        court: court.cloned(),
        commitment,
        possession,
    })
}

/// Set-up: the registrar registers `wanted` people in `role` (at `court`), batch after batch,
/// each batch waited for; returns them and the height of the last block that registered one.
fn register(
    genesis: &Genesis,
    registrar: &SigningKey,
    options: &BenchOptions,
    (wanted, role, court): (usize, Role, Option<&CourtCode>),
    verbose: bool,
) -> anyhow::Result<(Vec<Party>, u64)> {
    let chain_id = genesis.chain_id();
    let node = &options.nodes[0];
    let mut nonce = next_nonce(node, &registrar.public_key())?;
    let agent = agent_with_timeout(Duration::from_secs(45));
    let mut parties = Vec::with_capacity(wanted);
    let mut top_height = 0;
    while parties.len() < wanted {
        let count = (wanted - parties.len()).min(SETUP_BATCH);
        let mut keys = Vec::with_capacity(count);
        let mut txs = Vec::with_capacity(count);
        for _ in 0..count {
            let (key, act) = new_identity(&chain_id, role, court);
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
                    "registering a {}: not committed within 30 s or refused: {result} \
                     (is {} a registrar listed in genesis, with enough time?)",
                    role.name(),
                    registrar.public_key()
                );
            }
            let code = result["code"].as_u64().unwrap_or(u64::MAX);
            if code != 0 {
                let name = u16::try_from(code).map_or("unknown", Code::describe);
                bail!(
                    "registering a {} failed on the ledger: code {code} {name}",
                    role.name()
                );
            }
            top_height = top_height.max(result["height"].as_u64().unwrap_or(0));
            parties.push(Party { key, id: tx.id() });
        }
        progress(
            verbose,
            &format!(
                "set-up: {} of {wanted} {}s registered",
                parties.len(),
                role.name()
            ),
        );
    }
    Ok((parties, top_height))
}

/// Set-up: waits until every node has reached `top_height` (the set-up's last block): every
/// node must know the registered people before they sign anything there.
fn await_nodes(options: &BenchOptions, top_height: u64) -> anyhow::Result<()> {
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
    Ok(())
}

/// One pre-signed transaction of the timed phase.
struct Load {
    tx: SignedTransaction,
    id: String,
    /// Its signer: a party's index, or (`lifecycle`) the number of parties plus a member of
    /// staff's index.
    signer: usize,
    nonce: u64,
    bytes: usize,
    /// The act's kind name (`file_case`, ...).
    kind: &'static str,
    /// The place in the load of another signer's transaction that must be committed before
    /// this one is submitted.
    after: Option<usize>,
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

/// Evidence a party submits on `case`: a file reference (SHA-256, size, media type and a
/// title saying what it is and what it proves). `seed` makes it unique.
pub fn evidence(case: CaseId, seed: &[u8; 32]) -> Act {
    // Media type, extension, what it is, smallest size, size span.
    const FILES: [(&str, &str, &str, u64, u64); 6] = [
        ("application/pdf", "pdf", "借款合同", 80_000, 4_000_000),
        ("application/pdf", "pdf", "银行转账凭证", 40_000, 2_000_000),
        ("image/jpeg", "jpg", "欠条照片", 500_000, 6_000_000),
        ("audio/mpeg", "mp3", "电话录音", 1_000_000, 30_000_000),
        ("image/png", "png", "微信聊天记录截图", 200_000, 3_000_000),
        ("video/mp4", "mp4", "现场视频", 5_000_000, 200_000_000),
    ];
    const PROVES: [&str; 4] = [
        "证明借贷关系成立",
        "证明款项已实际交付",
        "证明被告逾期未还款及原告多次催讨的经过",
        "证明双方约定的利息标准、还款期限以及被告曾承诺分期还款的事实",
    ];
    let (media_type, extension, what, base, span) = FILES[usize::from(seed[0]) % FILES.len()];
    let size = base + u64::from_be_bytes([0, 0, 0, 0, seed[4], seed[5], seed[6], seed[7]]) % span;
    let title = format!(
        "证据{}：{what}（{}年{}月{}日），{}.{extension}",
        1 + seed[1] % 30,
        2015 + u32::from(seed[2] % 10),
        1 + seed[3] % 12,
        1 + seed[8] % 28,
        PROVES[usize::from(seed[9]) % PROVES.len()],
    );
    Act::from(SubmitEvidence {
        case,
        file: FileRef {
            sha256: sha256(&[seed.as_slice(), b"evidence file"].concat()),
            size,
            media_type: media_type.to_owned(),
            title,
        },
    })
}

/// A message a member posts on `case`: mostly text, sometimes marked for the judge. The act
/// carries only the SHA-256 of the content, here of a text drawn from `seed`.
pub fn message(case: CaseId, seed: &[u8; 32]) -> Act {
    const TEXTS: [&str; 4] = [
        "审判员您好，原告已按要求补充提交证据材料，请予审查。",
        "关于开庭时间，原告申请安排在工作日下午，望法院予以考虑。",
        "原告同意在法院主持下进行调解，调解方案可另行协商。",
        "被告的联系地址已变更，新地址见补充材料，请法院据此送达。",
    ];
    let kind = match seed[0] % 8 {
        0 => MessageKind::Voice,
        1 => MessageKind::Image,
        _ => MessageKind::Text,
    };
    let text = format!(
        "{}（{}）",
        TEXTS[usize::from(seed[1]) % TEXTS.len()],
        hex::encode(&seed[2..6])
    );
    Act::from(PostMessage {
        case,
        kind,
        content: sha256(text.as_bytes()),
        for_judge: seed[6].is_multiple_of(4),
    })
}

/// Signs the timed load: transaction `n` is party `n mod parties`'s, with nonces 1, 2, 3, ...
/// Its acts follow `mix`: with [`Mix::CaseWork`], a party's transactions repeat a filing, then
/// evidence, a message and evidence on the case of that filing.
fn sign_load(
    genesis: &Genesis,
    parties: &[Party],
    txs: usize,
    mix: Mix,
) -> anyhow::Result<Vec<Load>> {
    if mix == Mix::Lifecycle {
        bail!("the lifecycle mix needs staff: it is signed by lifecycle::sign");
    }
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
    // Each party's last filed case (the id of its filing transaction).
    let mut cases: Vec<Option<CaseId>> = vec![None; parties.len()];
    (0..txs)
        .map(|n| {
            let party = n % parties.len();
            let turn = n / parties.len();
            let nonce = 1 + u64::try_from(turn).unwrap_or(u64::MAX - 1);
            let seed =
                sha256(&[run.as_slice(), &u64::try_from(n).unwrap_or(0).to_be_bytes()].concat()).0;
            let act = match (mix, turn % 4, cases[party]) {
                (Mix::CaseWork, 1 | 3, Some(case)) => evidence(case, &seed),
                (Mix::CaseWork, 2, Some(case)) => message(case, &seed),
                _ => filing(parties[party].id, &courts[n % courts.len()], &seed),
            };
            let tx = sign_act(&parties[party].key, &chain_id, nonce, &act)?;
            if matches!(act, Act::FileCase(_)) {
                cases[party] = Some(tx.id());
            }
            let bytes = tx.to_bytes().len();
            Ok(Load {
                id: tx.id().to_string(),
                tx,
                signer: party,
                nonce,
                bytes,
                kind: act.kind().name(),
                after: None,
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
    /// First submission time of each transaction id (a resubmission does not change it).
    submitted: Mutex<HashMap<String, Instant>>,
    /// Commits of our transactions.
    seen: Mutex<HashMap<String, Seen>>,
    /// Finally refused transactions: id → (error code, message). Back-pressure refusals come
    /// here only if the run ended before a resubmission was accepted.
    refused: Mutex<HashMap<String, (String, String)>>,
    /// When each sender had every transaction of its share submitted once and answered.
    first_pass_done: Mutex<Vec<Instant>>,
    /// Resubmissions sent, in all.
    resubmitted: AtomicUsize,
    /// Times a transaction was refused as back-pressure (a first submission or a resubmission).
    backpressure_refusals: AtomicUsize,
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

/// A sender's transactions refused as back-pressure, waiting to be resubmitted: their places in
/// the sender's queue, so that they go out in the queue's order (a party's nonces in order),
/// and when they may go. Pure: the caller passes the time.
///
/// The wait starts at [`RETRY_BACKOFF_MIN`]. After an answer to a request that carried
/// resubmissions, it doubles (up to [`RETRY_BACKOFF_MAX`]) if every one of them was refused as
/// back-pressure again, and is back to [`RETRY_BACKOFF_MIN`] otherwise (progress: one got
/// through, or left the backlog with a final answer).
#[derive(Debug)]
struct Backlog {
    /// Places in the queue of the transactions waiting, oldest first.
    waiting: BTreeSet<usize>,
    /// The wait between an answer and the next resubmission.
    backoff: Duration,
    /// When the waiting transactions may be resubmitted.
    resume_at: Option<Instant>,
    /// The resubmissions of the request in flight (from [`Backlog::take`]), until its answer.
    in_flight: BTreeSet<usize>,
}

impl Backlog {
    fn new() -> Self {
        Self {
            waiting: BTreeSet::new(),
            backoff: RETRY_BACKOFF_MIN,
            resume_at: None,
            in_flight: BTreeSet::new(),
        }
    }

    /// Nothing waits.
    fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }

    /// How many transactions wait.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.waiting.len()
    }

    /// The current wait between an answer and the next resubmission.
    #[cfg(test)]
    fn backoff(&self) -> Duration {
        self.backoff
    }

    /// Whether something waits and may be resubmitted at `now`.
    fn due(&self, now: Instant) -> bool {
        !self.waiting.is_empty() && self.resume_at.is_none_or(|at| now >= at)
    }

    /// How long from `now` until something may be resubmitted (`None`: nothing waits).
    fn wait(&self, now: Instant) -> Option<Duration> {
        if self.waiting.is_empty() {
            return None;
        }
        Some(
            self.resume_at
                .map_or(Duration::ZERO, |at| at.saturating_duration_since(now)),
        )
    }

    /// The oldest `max` waiting places, out of the backlog, for one request; its answer goes to
    /// [`Backlog::answered`].
    fn take(&mut self, max: usize) -> Vec<usize> {
        let places: Vec<usize> = (0..max).map_while(|_| self.waiting.pop_first()).collect();
        self.in_flight = places.iter().copied().collect();
        places
    }

    /// The answer to a request, at `now`: `refused` holds the places, resubmitted or new, that
    /// it refused as back-pressure; they wait for the backoff, in their queue order.
    fn answered(&mut self, refused: impl IntoIterator<Item = usize>, now: Instant) {
        let mut retried = std::mem::take(&mut self.in_flight);
        let carried_retries = !retried.is_empty();
        for place in refused {
            retried.remove(&place);
            self.waiting.insert(place);
        }
        if carried_retries {
            self.backoff = if retried.is_empty() {
                // Every resubmission refused again.
                (self.backoff * 2).min(RETRY_BACKOFF_MAX)
            } else {
                RETRY_BACKOFF_MIN
            };
        }
        self.resume_at = if self.waiting.is_empty() {
            self.backoff = RETRY_BACKOFF_MIN;
            None
        } else {
            Some(now.checked_add(self.backoff).unwrap_or(now))
        };
    }

    /// Everything still waiting (and in flight), oldest first; the backlog is left empty.
    fn drain(&mut self) -> Vec<usize> {
        let mut places = std::mem::take(&mut self.waiting);
        places.append(&mut self.in_flight);
        self.resume_at = None;
        self.backoff = RETRY_BACKOFF_MIN;
        places.into_iter().collect()
    }
}

/// First submissions that a sender which has sent `sent` may make after `elapsed`: in the open
/// loop (`rate_share` 0) a batch at once; at a fixed rate nothing until the next one falls due
/// (the second value: how long until then), then everything due by now, at least a batch and at
/// most `most`.
fn schedule(
    sent: usize,
    elapsed: Duration,
    rate_share: f64,
    batch_size: usize,
    most: usize,
) -> (usize, Duration) {
    if rate_share <= 0.0 {
        return (batch_size, Duration::ZERO);
    }
    let due = Duration::from_secs_f64(sent as f64 / rate_share);
    if let Some(wait) = due.checked_sub(elapsed).filter(|wait| !wait.is_zero()) {
        return (0, wait);
    }
    let due_now = (elapsed.as_secs_f64() * rate_share) as usize;
    (
        due_now
            .saturating_sub(sent)
            .clamp(batch_size, most.max(batch_size)),
        Duration::ZERO,
    )
}

/// The places in the queue of the next request at `now`, and how many of them are
/// resubmissions: the due resubmissions first, oldest first, then new transactions from
/// `fresh(n)` (at most `n` places, `n` at most `fresh_wanted`); `most` in all. Nothing (an
/// empty list) while resubmissions wait for their backoff: new transactions never overtake
/// them.
fn next_request(
    backlog: &mut Backlog,
    now: Instant,
    fresh_wanted: usize,
    most: usize,
    fresh: impl FnOnce(usize) -> Vec<usize>,
) -> (Vec<usize>, usize) {
    if !backlog.is_empty() && !backlog.due(now) {
        return (Vec::new(), 0);
    }
    let mut places = backlog.take(most);
    let retries = places.len();
    let room = fresh_wanted.min(most.saturating_sub(retries));
    if room > 0 {
        let new = fresh(room);
        assert!(new.len() <= room, "at most the places asked for");
        places.extend(new);
    }
    (places, retries)
}

/// Whether a refusal of a whole request (no per-transaction results), with HTTP `status` and
/// error `code`, is back-pressure: the same transactions may be accepted later.
fn overloaded(status: u16, code: &str) -> bool {
    status == 429 || (status == 503 && OVERLOADED_CODES.contains(&code))
}

/// Submits one node's share of the load (`queue`, in order; `load` is all of it), in batches of
/// `batch_size`, at its share of the rate (open loop when `rate_share` is 0).
///
/// A transaction that depends on another signer's ([`Load::after`]) is held until that one is
/// committed, with its signer's later ones ([`gate::Gate`]); if that one was finally refused,
/// it is refused as `prerequisite_refused` without being sent, and its signer's later ones as
/// `not_sent`.
///
/// At a fixed rate the offered load does not wait for the node: one request at a time is in
/// flight, so when an answer comes late every transaction that fell due meanwhile goes in the
/// next request (up to [`MAX_CATCH_UP`]), rather than the rate sinking to one batch per round
/// trip. The rate counts first submissions only.
///
/// Back-pressure refusals ([`BACKPRESSURE_CODE`], or an [`overloaded`] request) wait in a
/// [`Backlog`] and are resubmitted, before any new transaction, once its backoff has passed; a
/// request holds at most [`MAX_CATCH_UP`] transactions at a fixed rate (a batch in the open
/// loop), resubmissions included. The sender ends when everything was sent and nothing waits,
/// or when the run ends (`shared.stop`): what still waits is then refused as
/// [`BACKPRESSURE_CODE`].
fn submit_share(
    node: &str,
    (queue, load): (&[&Load], &[Load]),
    batch_size: usize,
    rate_share: f64,
    started: Instant,
    shared: &Shared,
) {
    let agent = agent_with_timeout(Duration::from_secs(60));
    let url = format!("{node}/v1/txs");
    // Most transactions in one request, resubmissions included.
    let most = if rate_share > 0.0 {
        MAX_CATCH_UP.max(batch_size)
    } else {
        batch_size
    };
    // First submissions made.
    let mut sent = 0usize;
    let mut gate = gate::Gate::new(queue.len(), MAX_HELD);
    // Commits and final refusals counted at the gate's last look at its held transactions.
    let mut looked_at = (usize::MAX, usize::MAX);
    let mut backlog = Backlog::new();
    let mut first_pass_noted = false;
    // The node's last back-pressure refusal: its code and message.
    let mut last_pushback = (BACKPRESSURE_CODE.to_owned(), String::new());
    loop {
        if gate.done() && !first_pass_noted {
            lock(&shared.first_pass_done).push(Instant::now());
            first_pass_noted = true;
        }
        if shared.stop.load(Ordering::SeqCst) || (gate.done() && backlog.is_empty()) {
            break;
        }
        let now = Instant::now();
        let (fresh, wait_fresh) = schedule(
            sent,
            now.saturating_duration_since(started),
            rate_share,
            batch_size,
            most,
        );
        let (places, retries) = next_request(&mut backlog, now, fresh, most, |room| {
            pass_gate(&mut gate, &mut looked_at, room, (queue, load), shared)
        });
        if places.is_empty() {
            let wait = backlog.wait(now).unwrap_or(wait_fresh);
            // Everything that could go waits for commits: look again a little later.
            let wait = if wait.is_zero() && gate.holding() > 0 {
                GATE_NAP
            } else {
                wait
            };
            std::thread::sleep(wait.clamp(Duration::from_millis(1), SENDER_NAP));
            continue;
        }
        let batch: Vec<(usize, &Load)> = places
            .iter()
            .filter_map(|place| queue.get(*place).map(|load| (*place, *load)))
            .collect();
        let body = json!({
            "txs": batch.iter().map(|(_, load)| hex::encode(load.tx.to_bytes())).collect::<Vec<_>>()
        });
        let now = Instant::now();
        {
            let mut submitted = lock(&shared.submitted);
            for (_, load) in &batch {
                submitted.entry(load.id.clone()).or_insert(now);
            }
        }
        sent += places.len() - retries;
        shared.resubmitted.fetch_add(retries, Ordering::Relaxed);
        let answer = post_json_with(&agent, &url, &body);
        let mut pushed_back: Vec<usize> = Vec::new();
        {
            let mut refused = lock(&shared.refused);
            let results = answer
                .as_ref()
                .ok()
                .and_then(|(_, body)| body["results"].as_array());
            match (results, &answer) {
                (Some(results), _) => {
                    for ((place, load), result) in batch.iter().zip(results) {
                        if result["accepted"] != true {
                            let error = &result["error"];
                            let code = error["code"].as_str().unwrap_or("unknown").to_owned();
                            let message = error["message"].as_str().unwrap_or_default().to_owned();
                            if code == BACKPRESSURE_CODE {
                                pushed_back.push(*place);
                                last_pushback = (code, message);
                            } else {
                                refused.insert(load.id.clone(), (code, message));
                            }
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
                    if overloaded(*status, &code) {
                        pushed_back.extend(batch.iter().map(|(place, _)| *place));
                        last_pushback = (code, message);
                    } else {
                        for (_, load) in &batch {
                            refused.insert(load.id.clone(), (code.clone(), message.clone()));
                        }
                    }
                }
                (None, Err(error)) => {
                    for (_, load) in &batch {
                        refused.insert(
                            load.id.clone(),
                            ("unreachable".to_owned(), format!("{error:#}")),
                        );
                    }
                }
            }
        }
        shared
            .backpressure_refusals
            .fetch_add(pushed_back.len(), Ordering::Relaxed);
        backlog.answered(pushed_back, Instant::now());
    }
    // The run ended: what still waits was refused as back-pressure until then. (What the gate
    // still holds was never sent.)
    let left = backlog.drain();
    if !left.is_empty() {
        let (code, message) = &last_pushback;
        let message = format!(
            "still refused as back-pressure when the run ended (the node's last answer: {code}: \
             {message})"
        );
        let mut refused = lock(&shared.refused);
        for load in left.iter().filter_map(|place| queue.get(*place)) {
            refused.insert(
                load.id.clone(),
                (BACKPRESSURE_CODE.to_owned(), message.clone()),
            );
        }
    }
}

/// Up to `room` new places of `queue` (a share of `load`) that may be submitted now, from the
/// gate. Held transactions are looked at again only when something was committed or finally
/// refused since the last look (`looked_at`: the counts then). What can never go is recorded
/// as refused here.
fn pass_gate(
    gate: &mut gate::Gate,
    looked_at: &mut (usize, usize),
    room: usize,
    (queue, load): (&[&Load], &[Load]),
    shared: &Shared,
) -> Vec<usize> {
    let seen = lock(&shared.seen);
    let mut refused = lock(&shared.refused);
    let counts = (seen.len(), refused.len());
    let recheck = counts != *looked_at;
    let (places, dropped) = gate.take(
        room,
        recheck,
        |place| queue[place].signer,
        |place| match queue[place].after.map(|after| &load[after].id) {
            None => gate::Ready::Now,
            Some(id) if seen.contains_key(id) => gate::Ready::Now,
            Some(id) if refused.contains_key(id) => gate::Ready::Never,
            Some(_) => gate::Ready::Later,
        },
    );
    // A pass that filled the request may have stopped before some held places: look again
    // next time even if nothing new was committed.
    *looked_at = if places.len() < room {
        counts
    } else {
        (usize::MAX, usize::MAX)
    };
    for (place, refused_prerequisite) in dropped {
        let (code, message) = if refused_prerequisite {
            (
                "prerequisite_refused",
                "not sent: the act it answers was refused",
            )
        } else {
            (
                "not_sent",
                "not sent: an earlier transaction of its signer could not be sent",
            )
        };
        refused.insert(
            queue[place].id.clone(),
            (code.to_owned(), message.to_owned()),
        );
    }
    places
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
    let (parties, mut setup_height) = register(
        genesis,
        registrar,
        options,
        (options.parties, Role::Party, None),
        verbose,
    )?;
    // The lifecycle's cases are filed at the registrar's court, whose judges it registers.
    let court = genesis
        .registrars
        .iter()
        .find(|r| r.public_key == registrar.public_key())
        .map(|r| r.court_code.clone())
        .context("the registrar is listed in genesis")?;
    let staff = if options.mix == Mix::Lifecycle {
        let wanted = options.parties.div_ceil(PARTIES_PER_STAFF);
        let (staff, height) = register(
            genesis,
            registrar,
            options,
            (wanted, Role::Judge, Some(&court)),
            verbose,
        )?;
        setup_height = setup_height.max(height);
        staff
    } else {
        Vec::new()
    };
    await_nodes(options, setup_height)?;
    let setup_seconds = setup_started.elapsed().as_secs_f64();

    progress(
        verbose,
        &format!(
            "signing {} transactions (mix {})...",
            options.txs,
            options.mix.name()
        ),
    );
    let load = if options.mix == Mix::Lifecycle {
        let mut run = [0u8; 32];
        OsRng.fill_bytes(&mut run);
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .context("the clock is before 1970")?
            .as_millis();
        let cast = lifecycle::Cast {
            parties: &parties,
            staff: &staff,
            court: &court,
        };
        lifecycle::sign(
            genesis.chain_id(),
            &cast,
            lifecycle::lag(parties.len(), options.txs),
            options.txs,
            u64::try_from(now_ms).context("the clock is beyond 2^64 ms")?,
            run,
        )?
    } else {
        sign_load(genesis, &parties, options.txs, options.mix)?
    };
    let mut acts: BTreeMap<&str, u64> = BTreeMap::new();
    for l in &load {
        *acts.entry(l.kind).or_insert(0) += 1;
    }
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

    // Each signer submits through one node, so its nonces arrive in order.
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
        queues[l.signer % node_count].push(l);
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
                let load = load.as_slice();
                scope.spawn(move || {
                    submit_share(node, (queue, load), batch, rate_share, started, shared)
                })
            })
            .collect();
        let outcome = loop {
            // Every transaction sent, and no back-pressure refusal left to resubmit.
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
                // Every answer is in: the finally refused transactions, and those stranded
                // behind a refused nonce, will never commit; wait for the others.
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
    // Submitting took until every transaction was submitted once and answered (resubmissions
    // after that are not offered load).
    let first_pass_done = lock(&shared.first_pass_done).clone();
    let submit_done = (first_pass_done.len() == node_count)
        .then(|| first_pass_done.iter().max().copied())
        .flatten()
        .or(submit_done)
        .unwrap_or_else(Instant::now);
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
        "act": options.mix.name(),
        "acts": acts,
        "nodes": options.nodes,
        "parties": parties.len(),
        "staff": staff.len(),
        "setup": {
            "registered": parties.len() + staff.len(),
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
        "resubmitted": shared.resubmitted.load(Ordering::Relaxed),
        "backpressure_refusals": shared.backpressure_refusals.load(Ordering::Relaxed),
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

/// Accepted transactions that can never commit: a signer's transactions after one of its
/// nonces was refused.
fn stranded<'a>(load: &'a [Load], refused: &HashMap<String, (String, String)>) -> HashSet<&'a str> {
    if refused.is_empty() {
        return HashSet::new();
    }
    let mut first_refused: HashMap<usize, u64> = HashMap::new();
    for l in load.iter().filter(|l| refused.contains_key(&l.id)) {
        let nonce = first_refused.entry(l.signer).or_insert(l.nonce);
        *nonce = (*nonce).min(l.nonce);
    }
    load.iter()
        .filter(|l| {
            !refused.contains_key(&l.id)
                && first_refused
                    .get(&l.signer)
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
        "bench: {} acts, mix {} ({}) ({} bytes on average, {}–{}) by {} parties over {} node(s)\n",
        report["transactions"],
        report["act"].as_str().unwrap_or("?"),
        report["acts"]
            .as_object()
            .map(|acts| acts
                .iter()
                .map(|(kind, n)| format!("{kind} {n}"))
                .collect::<Vec<_>>()
                .join(", "))
            .unwrap_or_default(),
        report["tx_bytes"]["average"],
        report["tx_bytes"]["min"],
        report["tx_bytes"]["max"],
        report["parties"],
        report["nodes"].as_array().map_or(0, Vec::len),
    );
    text.push_str(&format!(
        "set-up      {} identities registered in {:.1} s ({} parties, {} judges; not timed)\n",
        report["setup"]["registered"],
        f(&report["setup"]["seconds"]),
        report["parties"],
        report["staff"].as_u64().unwrap_or(0),
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
    text.push_str(&format!(
        "retried     {} resubmissions after {} back-pressure refusals ({BACKPRESSURE_CODE} or overloaded)\n",
        report["resubmitted"].as_u64().unwrap_or(0),
        report["backpressure_refusals"].as_u64().unwrap_or(0),
    ));
    let rejected = report["rejected"].as_object().cloned().unwrap_or_default();
    if rejected.is_empty() {
        text.push_str("rejected    none\n");
    } else {
        for (code, count) in &rejected {
            text.push_str(&format!(
                "rejected    {count} {code} (final): {}\n",
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
        let load = sign_load(&genesis, &parties, 60, Mix::Filings).expect("load");
        for (n, l) in load.iter().enumerate() {
            assert_eq!(l.signer, n % 3);
            assert_eq!(l.nonce, 1 + u64::try_from(n / 3).expect("small"));
            assert!((300..=600).contains(&l.bytes), "{} bytes", l.bytes);
            let Act::FileCase(filing) = Act::decode(&l.tx.tx.payload).expect("an act") else {
                panic!("not a filing");
            };
            assert_eq!(
                filing.plaintiffs,
                vec![PartyRef::Registered(parties[l.signer].id)]
            );
            assert!(matches!(filing.defendants[0], PartyRef::Unregistered(_)));
            assert!((1..=3).contains(&filing.attachments.len()));
            l.tx.verify_signature(&genesis.chain_id()).expect("signed");
        }
        let distinct: HashSet<&str> = load.iter().map(|l| l.id.as_str()).collect();
        assert_eq!(distinct.len(), load.len());
    }

    fn example_genesis() -> Genesis {
        read_genesis(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../genesis/example.json"),
        )
        .expect("example genesis")
    }

    fn test_parties(count: u8) -> Vec<Party> {
        (0..count)
            .map(|i| Party {
                key: SigningKey::from_seed(&[i; 32]),
                id: Digest([i; 32]),
            })
            .collect()
    }

    /// The case an act concerns, if it is evidence or a message.
    fn case_of(act: &Act) -> Option<CaseId> {
        match act {
            Act::SubmitEvidence(a) => Some(a.case),
            Act::PostMessage(a) => Some(a.case),
            _ => None,
        }
    }

    #[test]
    fn filings_mix_yields_only_filings() {
        let genesis = example_genesis();
        let parties = test_parties(3);
        let load = sign_load(&genesis, &parties, 40, Mix::Filings).expect("load");
        assert_eq!(load.len(), 40);
        for l in &load {
            assert_eq!(l.kind, "file_case");
            let act = Act::decode(&l.tx.tx.payload).expect("an act");
            assert!(matches!(act, Act::FileCase(_)), "{act:?}");
        }
    }

    #[test]
    fn case_work_repeats_filing_evidence_message_evidence_on_the_partys_case() {
        let genesis = example_genesis();
        let parties = test_parties(3);
        // 3 parties, 10 transactions each: two and a half rounds of the pattern.
        let load = sign_load(&genesis, &parties, 30, Mix::CaseWork).expect("load");
        assert_eq!(load.len(), 30);
        const PATTERN: [&str; 4] = [
            "file_case",
            "submit_evidence",
            "post_message",
            "submit_evidence",
        ];
        let mut last_filing: HashMap<usize, CaseId> = HashMap::new();
        let mut next_nonce: HashMap<usize, u64> = HashMap::new();
        for (n, l) in load.iter().enumerate() {
            assert_eq!(l.signer, n % 3);
            let turn = n / 3;
            let expected_nonce = next_nonce.entry(l.signer).or_insert(1);
            assert_eq!(l.nonce, *expected_nonce, "transaction {n}");
            assert_eq!(l.tx.tx.nonce, l.nonce);
            *expected_nonce += 1;
            assert_eq!(l.tx.tx.signer, parties[l.signer].key.public_key());
            l.tx.verify_signature(&genesis.chain_id()).expect("signed");
            let act = Act::decode(&l.tx.tx.payload).expect("an act");
            assert_eq!(act.kind().name(), PATTERN[turn % 4], "transaction {n}");
            assert_eq!(l.kind, PATTERN[turn % 4]);
            match &act {
                Act::FileCase(filing) => {
                    assert!((300..=600).contains(&l.bytes), "{} bytes", l.bytes);
                    assert_eq!(
                        filing.plaintiffs,
                        vec![PartyRef::Registered(parties[l.signer].id)]
                    );
                    last_filing.insert(l.signer, l.tx.id());
                }
                Act::SubmitEvidence(evidence) => {
                    assert!((200..=800).contains(&l.bytes), "{} bytes", l.bytes);
                    assert_eq!(evidence.file.sha256.0.len(), 32);
                    assert!(!evidence.file.title.is_empty());
                    assert!(evidence.file.size > 0);
                }
                Act::PostMessage(_) => {
                    // Fixed layout: the act holds the case, a kind, a SHA-256 and a flag.
                    assert_eq!(l.bytes, 175, "{} bytes", l.bytes);
                }
                other => panic!("unexpected act {other:?}"),
            }
            if let Some(case) = case_of(&act) {
                assert_eq!(
                    Some(&case),
                    last_filing.get(&l.signer),
                    "transaction {n} concerns the party's last filing"
                );
            }
        }
        let distinct: HashSet<&str> = load.iter().map(|l| l.id.as_str()).collect();
        assert_eq!(distinct.len(), load.len());
    }

    #[test]
    fn evidence_and_messages_have_realistic_sizes() {
        let key = SigningKey::from_seed(&[7; 32]);
        let chain_id = example_genesis().chain_id();
        let case = Digest([5; 32]);
        let (mut evidence_sizes, mut message_sizes) = (Vec::new(), Vec::new());
        for i in 0..512u32 {
            let seed = sha256(&i.to_be_bytes()).0;
            for (act, sizes) in [
                (evidence(case, &seed), &mut evidence_sizes),
                (message(case, &seed), &mut message_sizes),
            ] {
                let tx = sign_act(&key, &chain_id, 1, &act).expect("signed");
                sizes.push(tx.to_bytes().len());
            }
        }
        let range = |sizes: &[usize]| {
            (
                sizes.iter().min().copied().unwrap_or(0),
                sizes.iter().max().copied().unwrap_or(0),
            )
        };
        let (low, high) = range(&evidence_sizes);
        assert!(200 <= low && high <= 600 && high - low > 50, "{low}–{high}");
        assert_eq!(range(&message_sizes), (175, 175));
        // Deterministic from the seed.
        let seed = [3; 32];
        assert_eq!(evidence(case, &seed), evidence(case, &seed));
        assert_eq!(message(case, &seed), message(case, &seed));
        assert_ne!(evidence(case, &seed), evidence(case, &[4; 32]));
        assert_ne!(message(case, &seed), message(case, &[4; 32]));
    }

    /// The example genesis, with `registrar` as its first registrar (of a basic court).
    pub(in crate::bench) fn genesis_with_registrar(registrar: &SigningKey) -> Genesis {
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../genesis/example.json"),
        )
        .expect("example genesis");
        let mut file = courtledger_types::GenesisFile::from_json(&text).expect("genesis file");
        file.registrars[0].public_key = registrar.public_key().to_string();
        file.validate().expect("genesis")
    }

    #[test]
    fn a_case_work_load_executes_successfully_on_the_ledger() {
        use courtledger_chain::{execute_block, ChainContext, LedgerApp, MemoryState};
        // The example genesis, with a registrar whose key this test holds.
        let registrar = SigningKey::from_seed(&[200; 32]);
        let genesis = genesis_with_registrar(&registrar);
        let chain_id = genesis.chain_id();
        let app = LedgerApp::new(&genesis);
        let ctx = ChainContext::from_genesis(&genesis, &app);
        let mut state = MemoryState::new();

        // Block 1: the registrar registers four parties.
        let mut registrations = Vec::new();
        let mut keys = Vec::new();
        for i in 0..4u8 {
            let key = SigningKey::from_seed(&[i + 1; 32]);
            let act = registration(&key, [i + 100; 32], &chain_id);
            registrations
                .push(sign_act(&registrar, &chain_id, u64::from(i) + 1, &act).expect("signed"));
            keys.push(key);
        }
        let time = genesis.genesis_time_ms + 1_000;
        let block = execute_block(&ctx, &state, &registrations, 1, time).expect("block 1");
        assert!(
            block.receipts.iter().all(|r| r.code == 0),
            "{:?}",
            block.receipts
        );
        state.apply(&block.changes);
        let parties: Vec<Party> = keys
            .into_iter()
            .zip(&registrations)
            .map(|(key, tx)| Party { key, id: tx.id() })
            .collect();

        // Block 2: three rounds of case work by each party, and a filing more.
        let load = sign_load(&genesis, &parties, 4 * 13, Mix::CaseWork).expect("load");
        let txs: Vec<SignedTransaction> = load.iter().map(|l| l.tx.clone()).collect();
        let block = execute_block(&ctx, &state, &txs, 2, time + 1_000).expect("block 2");
        assert_eq!(block.receipts.len(), txs.len());
        for (receipt, l) in block.receipts.iter().zip(&load) {
            assert_eq!(
                receipt.code,
                0,
                "{} failed: {}",
                l.kind,
                Code::describe(receipt.code)
            );
        }
        let kinds: BTreeSet<&str> = load.iter().map(|l| l.kind).collect();
        assert_eq!(kinds.len(), 3, "{kinds:?}");
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
        let load = sign_load(&genesis, &parties, 8, Mix::Filings).expect("load");
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

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn backlog_keeps_the_queue_order() {
        let t0 = Instant::now();
        let mut backlog = Backlog::new();
        assert!(backlog.is_empty());
        assert_eq!(backlog.take(10), Vec::<usize>::new());
        // Refused out of order: they wait in queue order.
        backlog.answered([7, 2, 5], t0);
        assert_eq!(backlog.len(), 3);
        let t1 = t0 + RETRY_BACKOFF_MIN;
        assert!(backlog.due(t1));
        assert_eq!(backlog.take(2), vec![2, 5]);
        // 5 is refused again, and so is a new transaction (9): 5 stays before 7, 7 before 9.
        backlog.answered([9, 5], t1);
        assert_eq!(backlog.take(10), vec![5, 7, 9]);
        backlog.answered([], t1);
        assert!(backlog.is_empty());
    }

    #[test]
    fn backlog_backoff_doubles_to_its_cap_and_resets_after_progress() {
        let mut now = Instant::now();
        let mut backlog = Backlog::new();
        assert!(!backlog.due(now), "nothing waits");
        assert_eq!(backlog.wait(now), None);
        backlog.answered([0, 1], now);
        let mut waits = Vec::new();
        for _ in 0..7 {
            let backoff = backlog.backoff();
            waits.push(backoff.as_millis());
            assert!(!backlog.due(now + backoff - MS), "not before the backoff");
            assert_eq!(backlog.wait(now + MS), Some(backoff - MS));
            now += backoff;
            assert!(backlog.due(now));
            assert_eq!(backlog.take(10), vec![0, 1]);
            // Every resubmission refused again.
            backlog.answered([0, 1], now);
        }
        assert_eq!(waits, [20, 40, 80, 160, 320, 500, 500]);
        assert_eq!(backlog.backoff(), RETRY_BACKOFF_MAX);
        // Progress: one of two gets through.
        now += RETRY_BACKOFF_MAX;
        assert_eq!(backlog.take(10), vec![0, 1]);
        backlog.answered([1], now);
        assert_eq!(backlog.backoff(), RETRY_BACKOFF_MIN);
        assert!(!backlog.due(now + RETRY_BACKOFF_MIN - MS));
        assert!(backlog.due(now + RETRY_BACKOFF_MIN));
        // Refused again: doubled; then the resubmission gets through while a new transaction
        // is refused: progress, reset.
        now += RETRY_BACKOFF_MIN;
        assert_eq!(backlog.take(10), vec![1]);
        backlog.answered([1], now);
        assert_eq!(backlog.backoff(), 2 * RETRY_BACKOFF_MIN);
        now += 2 * RETRY_BACKOFF_MIN;
        assert_eq!(backlog.take(10), vec![1]);
        backlog.answered([4], now);
        assert_eq!(backlog.backoff(), RETRY_BACKOFF_MIN);
        assert_eq!(backlog.wait(now), Some(RETRY_BACKOFF_MIN));
    }

    #[test]
    fn backlog_take_is_bounded_and_drain_empties_it() {
        let now = Instant::now();
        let mut backlog = Backlog::new();
        backlog.answered(0..10, now);
        assert_eq!(backlog.take(4), vec![0, 1, 2, 3]);
        assert_eq!(backlog.len(), 6);
        // Only those 4 were resubmitted: all refused again doubles the backoff.
        backlog.answered([0, 1, 2, 3], now);
        assert_eq!(backlog.backoff(), 2 * RETRY_BACKOFF_MIN);
        assert_eq!(backlog.len(), 10);
        assert_eq!(backlog.take(0), Vec::<usize>::new());
        assert_eq!(backlog.take(3), vec![0, 1, 2]);
        assert_eq!(backlog.drain(), (0..10).collect::<Vec<_>>());
        assert!(backlog.is_empty());
        assert!(!backlog.due(now + RETRY_BACKOFF_MAX));
    }

    #[test]
    fn requests_send_resubmissions_first_and_never_let_new_ones_overtake() {
        // New transactions from place `sent` on, as many as asked for.
        let from = |sent: usize| move |n: usize| (sent..sent + n).collect::<Vec<usize>>();
        let now = Instant::now();
        let mut backlog = Backlog::new();
        // Nothing waits: new transactions only, bounded.
        assert_eq!(
            next_request(&mut backlog, now, 3, 8, from(10)),
            (vec![10, 11, 12], 0)
        );
        assert_eq!(
            next_request(&mut backlog, now, 20, 4, from(10)),
            (vec![10, 11, 12, 13], 0)
        );
        // Fewer new ones than asked for (the rest wait for commits).
        assert_eq!(
            next_request(&mut backlog, now, 5, 8, |_| vec![7]),
            (vec![7], 0)
        );
        backlog.answered([4, 1], now);
        // Waiting for the backoff: nothing goes, not even new transactions.
        assert_eq!(
            next_request(&mut backlog, now, 3, 8, |_| panic!("not asked")),
            (Vec::<usize>::new(), 0)
        );
        assert_eq!(backlog.len(), 2);
        let later = now + RETRY_BACKOFF_MIN;
        // Due: resubmissions first, oldest first, then new ones within the bound.
        assert_eq!(
            next_request(&mut backlog, later, 3, 4, from(10)),
            (vec![1, 4, 10, 11], 2)
        );
        backlog.answered([1, 4, 10, 11], later);
        // More waiting than one request holds: no new transaction behind them.
        let later = later + 2 * RETRY_BACKOFF_MIN;
        assert_eq!(
            next_request(&mut backlog, later, 3, 3, |_| panic!("no room")),
            (vec![1, 4, 10], 3)
        );
        backlog.answered([], later);
        assert_eq!(
            next_request(&mut backlog, later + RETRY_BACKOFF_MIN, 3, 3, from(12)),
            (vec![11, 12, 13], 1)
        );
    }

    #[test]
    fn the_schedule_counts_first_submissions() {
        // Open loop: a batch at once.
        assert_eq!(
            schedule(1000, Duration::ZERO, 0.0, 64, 64),
            (64, Duration::ZERO)
        );
        // 100 tx/s: the 50th falls due after 0.5 s.
        let (n, wait) = schedule(50, Duration::from_millis(400), 100.0, 5, 2048);
        assert_eq!(n, 0);
        assert_eq!(wait.as_millis(), 100);
        // On time: a batch; late: everything due, at most `most`.
        assert_eq!(
            schedule(50, Duration::from_millis(500), 100.0, 5, 2048),
            (5, Duration::ZERO)
        );
        assert_eq!(schedule(50, Duration::from_secs(1), 100.0, 5, 2048).0, 50);
        assert_eq!(
            schedule(50, Duration::from_secs(100), 100.0, 5, 2048).0,
            2048
        );
    }

    #[test]
    fn whole_request_back_pressure() {
        assert!(overloaded(429, "mempool_full"));
        assert!(overloaded(503, "overloaded"));
        assert!(overloaded(503, "node_busy"));
        assert!(!overloaded(503, "node_stopping"));
        assert!(!overloaded(400, "invalid_tx_count"));
        assert!(!overloaded(413, "body_too_large"));
    }

    #[test]
    fn the_text_report_shows_resubmissions_and_final_refusals() {
        let report = json!({
            "resubmitted": 12,
            "backpressure_refusals": 30,
            "rejected": { "mempool_full": 2 },
            "rejection_examples": { "mempool_full": "still refused" },
        });
        let text = report_text(&report);
        assert!(
            text.contains("retried     12 resubmissions after 30 back-pressure refusals"),
            "{text}"
        );
        assert!(
            text.contains("rejected    2 mempool_full (final): still refused"),
            "{text}"
        );
    }
}
