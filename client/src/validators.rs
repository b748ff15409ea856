//! `courtledger validators`: read the validator sets, and change them: propose a change (a new
//! court's validator, a validator leaving, voting power moving), have more than two thirds of
//! the current validators approve it with their node keys, and submit it.
//!
//! A change travels between courts as a small text file: the hex of the canonical encoding of
//! the [`SignedSetChange`] (its approvals so far included). Each court checks what it approves:
//! `approve` prints the change in full before it signs.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, ensure, Context as _};
use clap::{Args, Subcommand};
use courtledger_codec::Encode;
use courtledger_crypto::PublicKey;
use courtledger_types::{
    CourtCode, SetChange, SetMember, SignedSetChange, Validator, ValidatorSet,
};
use serde_json::{json, Value};

use crate::http::get_ok;
use crate::output::Printer;
use crate::submit::{submit_payload, Ctx, Signer, TxState, Wait};

/// `validators`.
#[derive(Debug, Subcommand)]
pub enum ValidatorsCommand {
    /// The validator set in force, the pending change and every activated change.
    Show,
    /// Write a proposed change of the set in force to a file (no approvals yet).
    Propose(ProposeArgs),
    /// Print a change file: the set it replaces, the new members, the approvals so far.
    Inspect {
        /// The change file.
        file: PathBuf,
    },
    /// Approve a change with a validator's node key (added to the file).
    Approve {
        /// The change file; rewritten with the approval.
        file: PathBuf,
        /// The validator's node key file.
        #[arg(long)]
        key: PathBuf,
    },
    /// Submit an approved change (signed by a validator of the set in force) and wait for it
    /// to be recorded.
    Submit {
        /// The change file.
        file: PathBuf,
        /// A validator's node key file: the transaction's signer.
        #[arg(long)]
        key: PathBuf,
        /// The chain's genesis file.
        #[arg(long, env = "COURTLEDGER_GENESIS")]
        genesis: PathBuf,
        /// How long to wait for the commit, in seconds.
        #[arg(long, default_value_t = 30)]
        wait_timeout: u64,
    },
}

/// `validators propose`.
#[derive(Debug, Args)]
pub struct ProposeArgs {
    /// Where to write the change file; an existing file is never overwritten.
    #[arg(long)]
    pub out: PathBuf,
    /// The first height the new set signs; at least the next height plus 2 leaves time to
    /// collect approvals. Default: 20 blocks after the node's next height.
    #[arg(long)]
    pub activation_height: Option<u64>,
    /// Add a validator: its node key (64 hex characters).
    #[arg(long, requires_all = ["court", "p2p"])]
    pub add: Option<String>,
    /// The court that runs the added validator.
    #[arg(long)]
    pub court: Option<String>,
    /// Where peers reach the added validator, host:port.
    #[arg(long)]
    pub p2p: Option<String>,
    /// The added validator's voting power.
    #[arg(long, default_value_t = 1)]
    pub power: u64,
    /// Remove the validator with this key (repeatable).
    #[arg(long)]
    pub remove: Vec<String>,
    /// Change a validator's power: KEY=POWER (repeatable).
    #[arg(long)]
    pub set_power: Vec<String>,
}

/// The set in force as a node reports it.
struct Current {
    members: Vec<SetMember>,
    set: ValidatorSet,
    next_height: u64,
}

fn parse_key(text: &str) -> anyhow::Result<PublicKey> {
    text.parse::<PublicKey>()
        .map_err(|error| anyhow::anyhow!("{text} is not a public key: {error}"))
}

fn current(node: &str) -> anyhow::Result<Current> {
    let answer = get_ok(node, "/v1/validators")?;
    let members = answer["current"]["members"]
        .as_array()
        .context("the node's answer has no members")?
        .iter()
        .map(|member| -> anyhow::Result<SetMember> {
            let text = |field: &str| {
                member[field]
                    .as_str()
                    .with_context(|| format!("a member without {field}"))
            };
            Ok(SetMember {
                court_code: CourtCode::new(text("court_code")?)
                    .map_err(|reason| anyhow::anyhow!("a member's court code: {reason}"))?,
                validator: Validator {
                    public_key: parse_key(text("public_key")?)?,
                    voting_power: member["voting_power"]
                        .as_u64()
                        .context("a member without voting_power")?,
                },
                p2p_address: text("p2p_address")?.to_owned(),
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let set = ValidatorSet::new(members.iter().map(|m| m.validator).collect())
        .context("the node reports an invalid set")?;
    ensure!(
        answer["current"]["set_hash"].as_str() == Some(set.hash().to_string().as_str()),
        "the node's set hash does not match its members"
    );
    Ok(Current {
        members,
        set,
        next_height: answer["next_height"].as_u64().unwrap_or(1),
    })
}

fn read_change(path: &Path) -> anyhow::Result<SignedSetChange> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let bytes = hex::decode(text.trim())
        .with_context(|| format!("{} is not a change file (hex)", path.display()))?;
    SignedSetChange::decode(&bytes)
        .with_context(|| format!("{} does not hold a valid change", path.display()))
}

fn write_change(path: &Path, change: &SignedSetChange) -> anyhow::Result<()> {
    let temporary = path.with_extension("tmp");
    std::fs::write(&temporary, hex::encode(change.to_bytes()) + "\n")
        .with_context(|| format!("cannot write {}", temporary.display()))?;
    std::fs::rename(&temporary, path).with_context(|| format!("cannot write {}", path.display()))
}

fn describe(change: &SignedSetChange, from: Option<&Current>) -> (Value, String) {
    let members: Vec<Value> = change
        .change
        .members
        .iter()
        .map(|m| {
            json!({
                "court_code": m.court_code.to_string(),
                "public_key": m.validator.public_key.to_string(),
                "voting_power": m.validator.voting_power,
                "p2p_address": m.p2p_address,
            })
        })
        .collect();
    let approvals: Vec<u16> = change.approvals.iter().map(|a| a.validator_index).collect();
    let mut text = format!(
        "change of set {} activating at height {}\nnew members:\n",
        change.change.from_set_hash, change.change.activation_height
    );
    for m in &change.change.members {
        let was = from.and_then(|c| c.set.index_of(&m.validator.public_key));
        let mark = match (from, was) {
            (Some(_), None) => "  + ",
            _ => "    ",
        };
        text.push_str(&format!(
            "{mark}{} power {} key {} p2p {}\n",
            m.court_code, m.validator.voting_power, m.validator.public_key, m.p2p_address
        ));
    }
    if let Some(from) = from {
        for m in &from.members {
            if !change
                .change
                .members
                .iter()
                .any(|n| n.validator.public_key == m.validator.public_key)
            {
                text.push_str(&format!(
                    "  - {} key {} leaves\n",
                    m.court_code, m.validator.public_key
                ));
            }
        }
    }
    let approved: u64 = from.map_or(0, |from| {
        approvals
            .iter()
            .filter_map(|i| from.set.get(*i))
            .map(|v| v.voting_power)
            .sum()
    });
    if let Some(from) = from {
        text.push_str(&format!(
            "approved by validators {approvals:?}: {approved} of {} voting power ({} needed)",
            from.set.total_power(),
            from.set.total_power() * 2 / 3 + 1
        ));
    } else {
        text.push_str(&format!("approved by validators {approvals:?}"));
    }
    (
        json!({
            "from_set_hash": change.change.from_set_hash.to_string(),
            "activation_height": change.change.activation_height,
            "members": members,
            "approvals": approvals,
            "approved_power": approved,
        }),
        text,
    )
}

impl ValidatorsCommand {
    /// Runs the command against `node`.
    pub fn run(self, node: &str, printer: Printer) -> anyhow::Result<()> {
        match self {
            ValidatorsCommand::Show => printer.value(&get_ok(node, "/v1/validators")?),
            ValidatorsCommand::Propose(args) => propose(&args, node, printer),
            ValidatorsCommand::Inspect { file } => {
                let change = read_change(&file)?;
                let from = current(node).ok();
                let from = from.filter(|c| c.set.hash() == change.change.from_set_hash);
                let (value, text) = describe(&change, from.as_ref());
                printer.result(&value, &text)
            }
            ValidatorsCommand::Approve { file, key } => {
                let mut change = read_change(&file)?;
                let key = crate::keys::load_key(&key)?.key;
                let from = current(node)?;
                ensure!(
                    from.set.hash() == change.change.from_set_hash,
                    "the change replaces set {}, but the set in force is {}: propose it again",
                    change.change.from_set_hash,
                    from.set.hash()
                );
                let Some(index) = from.set.index_of(&key.public_key()) else {
                    bail!(
                        "key {} is not a validator of the set in force",
                        key.public_key()
                    );
                };
                let genesis_chain = chain_of(node)?;
                let approval = change.change.approve(&key, &genesis_chain, index);
                change.approvals.retain(|a| a.validator_index != index);
                change.approvals.push(approval);
                change.approvals.sort_by_key(|a| a.validator_index);
                write_change(&file, &change)?;
                let (value, text) = describe(&change, Some(&from));
                printer.result(&value, &format!("approved as validator {index}\n{text}"))
            }
            ValidatorsCommand::Submit {
                file,
                key,
                genesis,
                wait_timeout,
            } => {
                let change = read_change(&file)?;
                let signer = Signer::load(&key, &genesis)?;
                let from = current(node)?;
                change
                    .verify(&signer.chain_id, &from.set)
                    .context("the change is not ready")?;
                let ctx = Ctx {
                    node: node.to_owned(),
                    printer,
                };
                let wait = Wait {
                    wait: true,
                    timeout: Duration::from_secs(wait_timeout.max(1)),
                };
                let submitted = submit_payload(&ctx, &signer, change.to_payload(), wait)?;
                let TxState::Committed(committed) = &submitted.state else {
                    bail!("the change was not committed in time");
                };
                let code = committed.code.unwrap_or(0);
                let (mut value, text) = describe(&change, Some(&from));
                value["tx_id"] = json!(submitted.tx_id.to_string());
                value["height"] = json!(committed.height);
                value["code"] = json!(code);
                ensure!(
                    code == 0,
                    "the change was committed at height {} but failed with code {code} ({}): \
                     its activation height is past or too far ahead",
                    committed.height,
                    courtledger_ledger::Code::describe(code)
                );
                printer.result(
                    &value,
                    &format!(
                        "recorded at height {} (transaction {}); the new set signs from height {}\n{text}",
                        committed.height, submitted.tx_id, change.change.activation_height
                    ),
                )
            }
        }
    }
}

/// The chain id the node serves (approvals are signed for it).
fn chain_of(node: &str) -> anyhow::Result<courtledger_crypto::ChainId> {
    let status = get_ok(node, "/v1/status")?;
    let text = status["chain_id"]
        .as_str()
        .context("the node's status has no chain id")?;
    let bytes: [u8; 32] = hex::decode(text)
        .ok()
        .and_then(|b| b.try_into().ok())
        .context("the node's chain id is not 32 bytes of hex")?;
    Ok(courtledger_crypto::ChainId(courtledger_crypto::Digest(
        bytes,
    )))
}

fn propose(args: &ProposeArgs, node: &str, printer: Printer) -> anyhow::Result<()> {
    ensure!(
        !args.out.exists(),
        "{} exists; choose another --out",
        args.out.display()
    );
    let from = current(node)?;
    let mut members = from.members.clone();
    for key in &args.remove {
        let key = parse_key(key)?;
        let before = members.len();
        members.retain(|m| m.validator.public_key != key);
        ensure!(
            members.len() < before,
            "{key} is not a validator of the set in force"
        );
    }
    for entry in &args.set_power {
        let (key, power) = entry
            .split_once('=')
            .with_context(|| format!("--set-power takes KEY=POWER, not {entry}"))?;
        let key = parse_key(key)?;
        let power: u64 = power
            .parse()
            .with_context(|| format!("{power} is not a voting power"))?;
        let member = members
            .iter_mut()
            .find(|m| m.validator.public_key == key)
            .with_context(|| format!("{key} is not a validator of the set in force"))?;
        member.validator.voting_power = power;
    }
    if let Some(key) = &args.add {
        let key = parse_key(key)?;
        let court = args.court.as_deref().context("--add needs --court")?;
        let p2p = args.p2p.as_deref().context("--add needs --p2p")?;
        if let Some(problem) = courtledger_types::genesis::address_problem(p2p) {
            bail!("--p2p {p2p}: {problem}");
        }
        members.push(SetMember {
            court_code: CourtCode::new(court)
                .map_err(|reason| anyhow::anyhow!("--court {court}: {reason}"))?,
            validator: Validator {
                public_key: key,
                voting_power: args.power,
            },
            p2p_address: p2p.to_owned(),
        });
    }
    let activation_height = args
        .activation_height
        .unwrap_or(from.next_height.saturating_add(20));
    ensure!(
        activation_height > from.next_height,
        "the activation height must be above the next height {}",
        from.next_height
    );
    let change = SignedSetChange {
        change: SetChange {
            from_set_hash: from.set.hash(),
            activation_height,
            members,
        },
        approvals: Vec::new(),
    };
    change
        .change
        .new_set()
        .context("the new members are not a valid validator set")?;
    write_change(&args.out, &change)?;
    let (value, text) = describe(&change, Some(&from));
    printer.result(
        &value,
        &format!(
            "wrote {}: have validators approve it (`courtledger validators approve`), then \
             submit it\n{text}",
            args.out.display()
        ),
    )
}
