//! Judgments and rulings, their publication (裁判文书公开), and enforcement clues
//! (执行线索举报).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use courtledger_ledger::act::{IssueJudgment, PublishJudgment, ReportClue};
use courtledger_ledger::{CaseId, ClueKind, JudgmentKind, ObjectId};

use super::{hash, BuildAct, Prepared, Signed};
use crate::args;
use crate::submit::{BuildEnv, SignArgs};

/// Judgments and rulings.
#[derive(Debug, Clone, Subcommand)]
pub enum JudgmentCommand {
    /// Issue a judgment or ruling (judge of the case).
    ///
    /// Prints the judgment id.
    Issue(Signed<Issue>),
    /// Publish a judgment for the public record, 裁判文书公开 (court staff).
    ///
    /// Give the redacted public text; its SHA-256 is recorded beside the judgment.
    Publish(Signed<Publish>),
}

impl JudgmentCommand {
    /// The act builder and signing options.
    pub fn as_act(&self) -> (&SignArgs, &dyn BuildAct) {
        match self {
            Self::Issue(s) => s.parts(),
            Self::Publish(s) => s.parts(),
        }
    }
}

/// Enforcement clues.
#[derive(Debug, Clone, Subcommand)]
pub enum ClueCommand {
    /// Report an enforcement clue, 执行线索举报 (anyone registered).
    ///
    /// About assets or whereabouts relevant to enforcing a case. Prints the clue id.
    Report(Signed<Report>),
}

impl ClueCommand {
    /// The act builder and signing options.
    pub fn as_act(&self) -> (&SignArgs, &dyn BuildAct) {
        match self {
            Self::Report(s) => s.parts(),
        }
    }
}

/// `judgment issue`.
#[derive(Debug, Clone, Args)]
pub struct Issue {
    /// The case id.
    #[arg(value_name = "CASE", value_parser = args::digest)]
    pub case: CaseId,
    /// Judgment (判决) or ruling (裁定).
    #[arg(long, value_parser = args::named::<JudgmentKind>())]
    pub kind: JudgmentKind,
    /// The document file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

impl BuildAct for Issue {
    fn build(&self, _env: &BuildEnv<'_>) -> anyhow::Result<Prepared> {
        let hashed = hash(&self.file)?;
        let act = IssueJudgment {
            case: self.case,
            kind: self.kind,
            document: hashed.sha256(),
        };
        Ok(
            Prepared::new(act, format!("issued a {} in case {}", self.kind, self.case))
                .with("file", hashed.json),
        )
    }
}

/// `judgment publish`.
#[derive(Debug, Clone, Args)]
pub struct Publish {
    /// The judgment id.
    #[arg(value_name = "JUDGMENT", value_parser = args::digest)]
    pub judgment: ObjectId,
    /// The public (redacted) text's file.
    #[arg(value_name = "PUBLIC_FILE")]
    pub file: PathBuf,
}

impl BuildAct for Publish {
    fn build(&self, _env: &BuildEnv<'_>) -> anyhow::Result<Prepared> {
        let hashed = hash(&self.file)?;
        let act = PublishJudgment {
            judgment: self.judgment,
            public_document: hashed.sha256(),
        };
        Ok(
            Prepared::new(act, format!("published judgment {}", self.judgment))
                .with("file", hashed.json),
        )
    }
}

/// `clue report`.
#[derive(Debug, Clone, Args)]
pub struct Report {
    /// The case id.
    #[arg(value_name = "CASE", value_parser = args::digest)]
    pub case: CaseId,
    /// What the clue is about.
    #[arg(long, value_parser = args::named::<ClueKind>())]
    pub kind: ClueKind,
    /// The report file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

impl BuildAct for Report {
    fn build(&self, _env: &BuildEnv<'_>) -> anyhow::Result<Prepared> {
        let hashed = hash(&self.file)?;
        let act = ReportClue {
            case: self.case,
            kind: self.kind,
            content: hashed.sha256(),
        };
        Ok(Prepared::new(
            act,
            format!("reported a clue ({}) in case {}", self.kind, self.case),
        )
        .with("file", hashed.json))
    }
}
