//! The judicial acts as commands: each command's arguments build exactly one [`Act`], which
//! [`crate::submit`] signs and submits. Files are hashed here, on this computer; only their
//! SHA-256 (and size) goes on the ledger.

pub mod case;
pub mod evidence;
pub mod hearing;
pub mod identity;
pub mod judgment;
pub mod mediation;
pub mod service;

use std::path::Path;

use clap::Args;
use courtledger_crypto::Digest;
use courtledger_ledger::{Act, ActKind};
use serde_json::{json, Map, Value};

use crate::files::{hash_file, FileDigest};
use crate::submit::{BuildEnv, SignArgs};

/// An act ready to sign, with what the command wants to show about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// The act.
    pub act: Act,
    /// What was done, for people ("filed case", "signed transcript").
    pub summary: String,
    /// More fields for the result document (file hashes, times).
    pub details: Map<String, Value>,
}

impl Prepared {
    /// An act with its summary and no details.
    pub fn new(act: impl Into<Act>, summary: impl Into<String>) -> Self {
        Self {
            act: act.into(),
            summary: summary.into(),
            details: Map::new(),
        }
    }

    /// Adds a detail.
    pub fn with(mut self, key: &str, value: Value) -> Self {
        self.details.insert(key.to_owned(), value);
        self
    }
}

/// A command that builds an act.
pub trait BuildAct {
    /// Builds the act (hashing the files it names).
    fn build(&self, env: &BuildEnv<'_>) -> anyhow::Result<Prepared>;
}

/// A command's own arguments and the signing options.
#[derive(Debug, Clone, Args)]
pub struct Signed<T: Args> {
    /// The command's arguments.
    #[command(flatten)]
    pub cmd: T,
    /// Key, genesis and waiting.
    #[command(flatten)]
    pub sign: SignArgs,
}

impl<T: Args + BuildAct> Signed<T> {
    /// The signing options and the act builder.
    pub fn parts(&self) -> (&SignArgs, &dyn BuildAct) {
        (&self.sign, &self.cmd)
    }
}

/// The kind of thing an act creates (its id is the transaction's id), if any.
pub fn created_label(kind: ActKind) -> Option<&'static str> {
    Some(match kind {
        ActKind::RegisterIdentity => "identity",
        ActKind::FileCase => "case",
        ActKind::SubmitEvidence => "evidence",
        ActKind::PostMessage => "message",
        ActKind::ScheduleHearing => "hearing",
        ActKind::RecordTranscript => "transcript",
        ActKind::ProposeMediation => "mediation",
        ActKind::ServeDocument => "service",
        ActKind::IssueJudgment => "judgment",
        ActKind::ReportClue => "clue",
        ActKind::RotateKey
        | ActKind::RevokeIdentity
        | ActKind::AddCourt
        | ActKind::ReviewFiling
        | ActKind::AssignStaff
        | ActKind::AddParty
        | ActKind::AppointLawyer
        | ActKind::LeaveCase
        | ActKind::SetEvidenceDeadline
        | ActKind::ReceiveEvidence
        | ActKind::HoldHearing
        | ActKind::SignTranscript
        | ActKind::SignMediation
        | ActKind::ConfirmMediation
        | ActKind::AcknowledgeService
        | ActKind::PublishJudgment
        | ActKind::CloseCase => return None,
    })
}

/// A file hashed for an act: its digest, and its description for the result document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hashed {
    /// SHA-256 and size.
    pub digest: FileDigest,
    /// `{"file", "sha256", "size"}`.
    pub json: Value,
}

impl Hashed {
    /// The SHA-256 as a ledger digest.
    pub fn sha256(&self) -> Digest {
        Digest(self.digest.sha256)
    }
}

/// Hashes `path` (streamed, with a progress bar for large files).
pub fn hash(path: &Path) -> anyhow::Result<Hashed> {
    let digest = hash_file(path, true)?;
    Ok(Hashed {
        digest,
        json: json!({
            "file": path.display().to_string(),
            "sha256": hex::encode(digest.sha256),
            "size": digest.size,
        }),
    })
}
