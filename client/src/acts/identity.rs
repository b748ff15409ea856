//! Real-name registration (实名认证) and courts: identity commitments, the person's consent
//! (possession signature), registration, key rotation, revocation, adding courts.
//!
//! Registration takes three steps, so that the person's private key never leaves them:
//!
//! 1. the registrar checks the person's identity and runs `identity commit` (salt and
//!    commitment; the ledger holds only the commitment);
//! 2. the person runs `identity possession` with their own key and gives the registrar their
//!    public key and the signature it prints;
//! 3. the registrar runs `identity register`, which prints the new identity id.

use std::path::PathBuf;

use anyhow::{bail, Context as _};
use clap::{Args, Subcommand};
use courtledger_crypto::{verify, Digest, Domain, PublicKey, Signature};
use courtledger_ledger::act::{AddCourt, RegisterIdentity, RevokeIdentity, RotateKey};
use courtledger_ledger::{
    genesis_identity_id, identity_commitment, possession_message, sign_possession, IdentityId,
    Possession, Role,
};
use courtledger_types::{CourtCode, CourtLevel, Genesis};
use rand_core::{OsRng, RngCore as _};
use serde_json::{json, Value};

use super::{BuildAct, Prepared, Signed};
use crate::args;
use crate::http::{agent, get_json_with};
use crate::output::{NodeError, Printer};
use crate::submit::BuildEnv;
use crate::{keys, read_genesis};

/// Real-name registration: commitments, consent, registering, rotating and revoking keys.
#[derive(Debug, Clone, Subcommand)]
pub enum IdentityCommand {
    /// Step 1 (registrar): the salted commitment to a verified person's identity (offline).
    ///
    /// The ledger never holds the ID number, only this commitment. Keep the salt with the
    /// person's file: with it, the commitment proves who was registered; without it, it
    /// reveals nothing. Give the commitment to the person.
    Commit(CommitArgs),
    /// Step 2 (the person): sign your consent to be registered, with your own key (offline).
    ///
    /// Give the registrar the public key and the possession signature this prints; your key
    /// file stays with you.
    Possession(PossessionArgs),
    /// Step 3 (registrar): register the person's key with their role.
    ///
    /// Court staff (judge, clerk, mediator, registrar) also need their court. The possession
    /// signature is checked here before anything is sent. Prints the identity id: give it to
    /// the person.
    Register(Box<Signed<Register>>),
    /// Move your identity to a new key (a new device, a key at risk).
    ///
    /// Sign with the old key (--key); the new key file signs its consent here. Afterwards the
    /// old key can sign nothing more.
    Rotate(Signed<Rotate>),
    /// Revoke an identity; its key can sign nothing more (registrar).
    Revoke(Signed<Revoke>),
    /// Print a key's public key and, for a registrar listed in genesis, its identity id.
    ///
    /// Registered identities have the id printed when they were registered.
    ShowId(ShowIdArgs),
}

impl IdentityCommand {
    /// The act builder and signing options, for commands that submit an act.
    pub fn as_act(&self) -> Option<(&crate::submit::SignArgs, &dyn BuildAct)> {
        match self {
            Self::Register(signed) => Some(signed.parts()),
            Self::Rotate(signed) => Some(signed.parts()),
            Self::Revoke(signed) => Some(signed.parts()),
            Self::Commit(_) | Self::Possession(_) | Self::ShowId(_) => None,
        }
    }

    /// Runs the offline commands (the others are acts; see [`Self::as_act`]).
    pub fn run_offline(&self, printer: Printer) -> anyhow::Result<()> {
        match self {
            Self::Commit(args) => commit(args, printer),
            Self::Possession(args) => possession(args, printer),
            Self::ShowId(args) => show_id(args, printer),
            Self::Register(_) | Self::Rotate(_) | Self::Revoke(_) => {
                bail!("this command submits an act")
            }
        }
    }
}

/// Courts.
#[derive(Debug, Clone, Subcommand)]
pub enum CourtCommand {
    /// Add a court directly under your own court, one level below it (registrar).
    Add(Signed<AddCourtArgs>),
}

impl CourtCommand {
    /// The act builder and signing options.
    pub fn as_act(&self) -> (&crate::submit::SignArgs, &dyn BuildAct) {
        match self {
            Self::Add(signed) => signed.parts(),
        }
    }
}

/// `identity commit`.
#[derive(Debug, Clone, Args)]
pub struct CommitArgs {
    /// The kind of identity document, such as `resident_id_card` or `passport`.
    #[arg(long, value_name = "TYPE")]
    pub id_type: String,
    /// The document's number, exactly as written on it.
    #[arg(long, value_name = "NUMBER")]
    pub id_number: String,
    /// The person's full name, exactly as on the document.
    #[arg(long)]
    pub name: String,
    /// The salt: 64 hex characters. Give it to recompute an existing commitment; without it a
    /// new random salt is drawn.
    #[arg(long, value_name = "HEX", value_parser = args::bytes32)]
    pub salt: Option<[u8; 32]>,
}

/// Computes the commitment of `args`: the salt used and the commitment.
pub fn commitment_of(args: &CommitArgs) -> ([u8; 32], Digest) {
    let salt = args.salt.unwrap_or_else(|| {
        let mut salt = [0u8; 32];
        OsRng.fill_bytes(&mut salt);
        salt
    });
    let commitment = identity_commitment(&salt, &args.id_type, &args.id_number, &args.name);
    (salt, commitment)
}

fn commit(args: &CommitArgs, printer: Printer) -> anyhow::Result<()> {
    let (salt, commitment) = commitment_of(args);
    let salt = hex::encode(salt);
    printer.result(
        &json!({ "salt": salt, "commitment": commitment.to_string() }),
        &format!(
            "salt        {salt}\ncommitment  {commitment}\nKeep the salt with the person's \
             file; give the commitment to the person for `identity possession`."
        ),
    )
}

/// `identity possession`.
#[derive(Debug, Clone, Args)]
pub struct PossessionArgs {
    /// Your own key file (the key being registered), plain or encrypted.
    #[arg(long, env = "COURTLEDGER_KEY", value_name = "FILE")]
    pub key: PathBuf,
    /// The chain's genesis file: the consent is valid on this chain only.
    #[arg(long, env = "COURTLEDGER_GENESIS", value_name = "FILE")]
    pub genesis: PathBuf,
    /// The role you are being registered with.
    #[arg(long, value_parser = args::named::<Role>())]
    pub role: Role,
    /// Your court, for judges, clerks, mediators and registrars (such as 京0105).
    #[arg(long, value_parser = args::court)]
    pub court: Option<CourtCode>,
    /// The commitment the registrar computed with `identity commit`.
    #[arg(long, value_name = "HEX", value_parser = args::digest)]
    pub commitment: Digest,
}

fn check_court_for_role(role: Role, court: Option<&CourtCode>) -> anyhow::Result<()> {
    match (role.is_court_staff(), court) {
        (true, None) => bail!("a {role} belongs to a court: give --court"),
        (false, Some(_)) => bail!("a {role} belongs to no court: leave out --court"),
        _ => Ok(()),
    }
}

fn possession(args: &PossessionArgs, printer: Printer) -> anyhow::Result<()> {
    let key = keys::load_key(&args.key)?.key;
    let genesis = read_genesis(&args.genesis)?;
    check_court_for_role(args.role, args.court.as_ref())?;
    if let Some(court) = &args.court {
        if !genesis.courts.iter().any(|known| &known.code == court) {
            printer.note(&format!(
                "note: court {court} is not in the genesis file (it may have been added since)"
            ));
        }
    }
    let public_key = key.public_key();
    let signature = sign_possession(
        &key,
        &genesis.chain_id(),
        &Possession::Registration {
            key: &public_key,
            role: args.role,
            court: args.court.as_ref(),
            commitment: &args.commitment,
        },
    );
    printer.result(
        &json!({
            "public_key": public_key.to_string(),
            "role": args.role.name(),
            "court": args.court.as_ref().map(CourtCode::as_str),
            "commitment": args.commitment.to_string(),
            "possession": signature.to_string(),
        }),
        &format!("public key  {public_key}\npossession  {signature}\nGive both to the registrar."),
    )
}

/// `identity register`.
#[derive(Debug, Clone, Args)]
pub struct Register {
    /// The person's public key (from `identity possession`).
    #[arg(long, value_name = "HEX", value_parser = args::public_key)]
    pub public_key: PublicKey,
    /// Their role.
    #[arg(long, value_parser = args::named::<Role>())]
    pub role: Role,
    /// Their court: required for judges, clerks, mediators and registrars, absent for parties
    /// and lawyers.
    #[arg(long, value_parser = args::court)]
    pub court: Option<CourtCode>,
    /// The commitment from `identity commit`.
    #[arg(long, value_name = "HEX", value_parser = args::digest)]
    pub commitment: Digest,
    /// The person's possession signature (from `identity possession`).
    #[arg(long, value_name = "SIG_HEX", value_parser = args::signature)]
    pub possession: Signature,
}

impl BuildAct for Register {
    fn build(&self, env: &BuildEnv<'_>) -> anyhow::Result<Prepared> {
        check_court_for_role(self.role, self.court.as_ref())?;
        let message = possession_message(&Possession::Registration {
            key: &self.public_key,
            role: self.role,
            court: self.court.as_ref(),
            commitment: &self.commitment,
        });
        verify(
            &self.public_key,
            Domain::IdentityAttestation,
            &env.chain_id,
            &message,
            &self.possession,
        )
        .map_err(|_| {
            anyhow::anyhow!(
                "the possession signature does not match this public key, role, court and \
                 commitment on this chain; ask the person to sign again with `identity \
                 possession` and exactly these values"
            )
        })?;
        let act = RegisterIdentity {
            key: self.public_key,
            role: self.role,
            court: self.court.clone(),
            commitment: self.commitment,
            possession: self.possession,
        };
        Ok(Prepared::new(act, format!("registered {}", self.role))
            .with("public_key", json!(self.public_key.to_string()))
            .with("role", json!(self.role.name())))
    }
}

/// `identity rotate`.
#[derive(Debug, Clone, Args)]
pub struct Rotate {
    /// The new key file (make one with `keys generate`); it signs its consent here and is
    /// never sent anywhere.
    #[arg(long, value_name = "FILE")]
    pub new_key: PathBuf,
    /// Your identity id (printed when you were registered). Without it, the node is asked
    /// which identity your current key (--key) belongs to.
    #[arg(long, value_name = "ID", value_parser = args::digest)]
    pub identity: Option<IdentityId>,
}

/// The identity `key` belongs to, as `node` reports it (`GET /v1/keys/{key}`): an error unless
/// `key` is the current key of an active identity, since only that key may rotate.
pub fn identity_of_key(node: &str, key: &PublicKey) -> anyhow::Result<IdentityId> {
    let url = format!("{node}/v1/keys/{key}");
    let (status, body) = get_json_with(&agent(), &url)
        .context("cannot look up your identity id; give --identity")?;
    if status == 404 {
        bail!(
            "the ledger knows no identity with key {key}: register it first, or give \
             --identity (the node said: {})",
            body["error"]["message"].as_str().unwrap_or("not found")
        );
    }
    if status != 200 {
        return Err(NodeError {
            message: format!("cannot look up your identity id (the node answered {status})"),
            body,
        }
        .into());
    }
    let identity = &body["identity"];
    let id = identity["id"]
        .as_str()
        .and_then(|id| args::digest(id).ok())
        .with_context(|| format!("the node's answer names no identity id: {body}"))?;
    if identity["active"] == false {
        bail!("identity {id} is revoked: its keys can sign nothing, rotation included");
    }
    if body["current"] == false {
        bail!(
            "key {key} is a previous key of identity {id}; it was rotated away and can sign \
             nothing more: sign with the identity's current key"
        );
    }
    Ok(id)
}

/// The identity id of a registrar listed in `genesis` with `key`, if it is one.
pub fn genesis_registrar_id(genesis: &Genesis, key: &PublicKey) -> Option<IdentityId> {
    genesis
        .registrars
        .iter()
        .any(|registrar| &registrar.public_key == key)
        .then(|| genesis_identity_id(key))
}

impl BuildAct for Rotate {
    fn build(&self, env: &BuildEnv<'_>) -> anyhow::Result<Prepared> {
        let identity = match (self.identity, env.node) {
            (Some(identity), _) => identity,
            (None, Some(node)) => identity_of_key(node, &env.signer)?,
            (None, None) => genesis_registrar_id(env.genesis, &env.signer)
                .context("give --identity: your identity id, printed when you were registered")?,
        };
        let new_key = keys::load_key(&self.new_key)?.key;
        let new_public = new_key.public_key();
        if new_public == env.signer {
            bail!("the new key is the key you sign with; generate a new one with `keys generate`");
        }
        let possession = sign_possession(
            &new_key,
            &env.chain_id,
            &Possession::Rotation {
                identity: &identity,
                new_key: &new_public,
            },
        );
        let act = RotateKey {
            new_key: new_public,
            possession,
        };
        Ok(Prepared::new(
            act,
            format!("rotated identity {identity} to key {new_public}"),
        )
        .with("identity_id", json!(identity.to_string()))
        .with("new_key", json!(new_public.to_string())))
    }
}

/// `identity revoke`.
#[derive(Debug, Clone, Args)]
pub struct Revoke {
    /// The identity to revoke.
    #[arg(long, value_name = "ID", value_parser = args::digest)]
    pub identity: IdentityId,
    /// Why (recorded on the ledger).
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
}

impl BuildAct for Revoke {
    fn build(&self, _env: &BuildEnv<'_>) -> anyhow::Result<Prepared> {
        if self.reason.trim().is_empty() {
            bail!("give a reason");
        }
        let act = RevokeIdentity {
            identity: self.identity,
            reason: self.reason.clone(),
        };
        Ok(Prepared::new(
            act,
            format!("revoked identity {}", self.identity),
        ))
    }
}

/// `court add`.
#[derive(Debug, Clone, Args)]
pub struct AddCourtArgs {
    /// The new court's code, such as 京0108.
    #[arg(long, value_parser = args::court)]
    pub code: CourtCode,
    /// Its name.
    #[arg(long)]
    pub name: String,
    /// Its level: one below the parent's.
    #[arg(long, value_parser = args::named::<CourtLevel>())]
    pub level: CourtLevel,
    /// The parent court: your own.
    #[arg(long, value_parser = args::court)]
    pub parent: CourtCode,
}

impl BuildAct for AddCourtArgs {
    fn build(&self, _env: &BuildEnv<'_>) -> anyhow::Result<Prepared> {
        let act = AddCourt {
            code: self.code.clone(),
            name: self.name.clone(),
            level: self.level,
            parent: self.parent.clone(),
        };
        Ok(Prepared::new(
            act,
            format!("added court {} under {}", self.code, self.parent),
        ))
    }
}

/// `identity show-id`.
#[derive(Debug, Clone, Args)]
pub struct ShowIdArgs {
    /// The key file.
    #[arg(long, env = "COURTLEDGER_KEY", value_name = "FILE")]
    pub key: PathBuf,
    /// The chain's genesis file.
    #[arg(long, env = "COURTLEDGER_GENESIS", value_name = "FILE")]
    pub genesis: PathBuf,
}

fn show_id(args: &ShowIdArgs, printer: Printer) -> anyhow::Result<()> {
    let key = keys::load_key(&args.key)?.key.public_key();
    let genesis = read_genesis(&args.genesis)?;
    let registrar = genesis
        .registrars
        .iter()
        .find(|registrar| registrar.public_key == key);
    let Some(registrar) = registrar else {
        return printer.result(
            &json!({ "public_key": key.to_string(), "identity_id": Value::Null, "registrar": Value::Null }),
            &format!(
                "public key  {key}\nnot a registrar listed in genesis: an identity's id is the \
                 transaction id printed when it was registered"
            ),
        );
    };
    let id = genesis_identity_id(&key);
    printer.result(
        &json!({
            "public_key": key.to_string(),
            "identity_id": id.to_string(),
            "registrar": { "court": registrar.court_code.as_str(), "name": registrar.name },
        }),
        &format!(
            "public key   {key}\nidentity id  {id} (registrar of {} in genesis: {})",
            registrar.court_code, registrar.name
        ),
    )
}
