//! Hearings (在线开庭) and their transcripts (笔录): scheduling, holding, recording the
//! transcript, and each participant's signature on it (笔录签署).

use std::path::PathBuf;

use anyhow::bail;
use clap::{Args, Subcommand};
use courtledger_ledger::act::{HoldHearing, RecordTranscript, ScheduleHearing, SignTranscript};
use courtledger_ledger::{CaseId, HearingMode, IdentityId, ObjectId};
use serde_json::json;

use super::{hash, BuildAct, Prepared, Signed};
use crate::args;
use crate::submit::{BuildEnv, SignArgs};

/// Hearings and transcripts.
#[derive(Debug, Clone, Subcommand)]
pub enum HearingCommand {
    /// Schedule a hearing of a case (court staff).
    ///
    /// Prints the hearing id.
    Schedule(Signed<Schedule>),
    /// Record that a scheduled hearing was held (court staff).
    Hold(Signed<Hold>),
    /// Record a held hearing's transcript, 笔录, and who must sign it (court staff).
    ///
    /// Prints the transcript id: give it to each signer with the transcript file.
    Transcript(Signed<Transcript>),
    /// Sign a hearing transcript, 笔录签署 (each required signer).
    ///
    /// Give the transcript file you were shown: it is hashed here, and the ledger accepts the
    /// signature only if it is exactly the recorded transcript (else content_mismatch).
    Sign(Signed<Sign>),
}

impl HearingCommand {
    /// The act builder and signing options.
    pub fn as_act(&self) -> (&SignArgs, &dyn BuildAct) {
        match self {
            Self::Schedule(s) => s.parts(),
            Self::Hold(s) => s.parts(),
            Self::Transcript(s) => s.parts(),
            Self::Sign(s) => s.parts(),
        }
    }
}

/// `hearing schedule`.
#[derive(Debug, Clone, Args)]
pub struct Schedule {
    /// The case id.
    #[arg(value_name = "CASE", value_parser = args::digest)]
    pub case: CaseId,
    /// When, as RFC 3339 with its zone, such as 2026-12-01T09:30:00+08:00.
    #[arg(long, value_name = "TIME", value_parser = args::time_ms)]
    pub at: u64,
    /// Online or in a courtroom.
    #[arg(long, value_parser = args::named::<HearingMode>())]
    pub mode: HearingMode,
    /// Where: the courtroom, or the online room's name.
    #[arg(long, value_name = "TEXT")]
    pub location: String,
}

impl BuildAct for Schedule {
    fn build(&self, _env: &BuildEnv<'_>) -> anyhow::Result<Prepared> {
        let act = ScheduleHearing {
            case: self.case,
            at_ms: self.at,
            mode: self.mode,
            location: self.location.clone(),
        };
        let at = args::format_ms(self.at);
        Ok(Prepared::new(
            act,
            format!(
                "scheduled a hearing ({}) of case {} at {at}",
                self.mode, self.case
            ),
        )
        .with("at", json!(at)))
    }
}

/// `hearing hold`.
#[derive(Debug, Clone, Args)]
pub struct Hold {
    /// The hearing id.
    #[arg(value_name = "HEARING", value_parser = args::digest)]
    pub hearing: ObjectId,
}

impl BuildAct for Hold {
    fn build(&self, _env: &BuildEnv<'_>) -> anyhow::Result<Prepared> {
        let act = HoldHearing {
            hearing: self.hearing,
        };
        Ok(Prepared::new(act, format!("held hearing {}", self.hearing)))
    }
}

/// `hearing transcript`.
#[derive(Debug, Clone, Args)]
pub struct Transcript {
    /// The hearing id.
    #[arg(value_name = "HEARING", value_parser = args::digest)]
    pub hearing: ObjectId,
    /// The transcript file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The identity id of a member who must sign it (repeat, or separate with commas).
    #[arg(long, value_name = "ID", value_delimiter = ',', required = true, value_parser = args::digest)]
    pub signer: Vec<IdentityId>,
}

impl BuildAct for Transcript {
    fn build(&self, _env: &BuildEnv<'_>) -> anyhow::Result<Prepared> {
        let signers = distinct(&self.signer)?;
        let hashed = hash(&self.file)?;
        let act = RecordTranscript {
            hearing: self.hearing,
            transcript: hashed.sha256(),
            signers,
        };
        Ok(Prepared::new(
            act,
            format!("recorded the transcript of hearing {}", self.hearing),
        )
        .with("file", hashed.json))
    }
}

/// The ids in order, refusing repeats (the ledger refuses them too).
pub(crate) fn distinct(ids: &[IdentityId]) -> anyhow::Result<Vec<IdentityId>> {
    let mut seen = std::collections::BTreeSet::new();
    for id in ids {
        if !seen.insert(id) {
            bail!("signer {id} is named twice");
        }
    }
    Ok(ids.to_vec())
}

/// `hearing sign`.
#[derive(Debug, Clone, Args)]
pub struct Sign {
    /// The transcript id.
    #[arg(value_name = "TRANSCRIPT", value_parser = args::digest)]
    pub transcript: ObjectId,
    /// The transcript file as you read it.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

impl BuildAct for Sign {
    fn build(&self, _env: &BuildEnv<'_>) -> anyhow::Result<Prepared> {
        let hashed = hash(&self.file)?;
        let act = SignTranscript {
            transcript: self.transcript,
            content: hashed.sha256(),
        };
        Ok(
            Prepared::new(act, format!("signed transcript {}", self.transcript))
                .with("file", hashed.json),
        )
    }
}
