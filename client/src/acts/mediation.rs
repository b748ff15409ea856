//! Mediation (案件调解): the agreement put to the parties, each signature on it, and the
//! court's confirmation.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use courtledger_ledger::act::{ConfirmMediation, ProposeMediation, SignMediation};
use courtledger_ledger::{CaseId, IdentityId, ObjectId};

use super::hearing::distinct;
use super::{hash, BuildAct, Prepared, Signed};
use crate::args;
use crate::submit::{BuildEnv, SignArgs};

/// Mediation agreements.
#[derive(Debug, Clone, Subcommand)]
pub enum MediationCommand {
    /// Put a mediation agreement to the parties (judge or mediator of the case).
    ///
    /// Names who must sign it. Prints the mediation id: give it to each signer with the
    /// agreement file.
    Propose(Signed<Propose>),
    /// Sign a mediation agreement (each required signer).
    ///
    /// Give the agreement file you were shown: it is hashed here, and the ledger accepts the
    /// signature only if it is exactly the proposed agreement (else content_mismatch).
    Sign(Signed<Sign>),
    /// Confirm a mediation agreement everyone has signed (judge of the case).
    Confirm(Signed<Confirm>),
}

impl MediationCommand {
    /// The act builder and signing options.
    pub fn as_act(&self) -> (&SignArgs, &dyn BuildAct) {
        match self {
            Self::Propose(s) => s.parts(),
            Self::Sign(s) => s.parts(),
            Self::Confirm(s) => s.parts(),
        }
    }
}

/// `mediation propose`.
#[derive(Debug, Clone, Args)]
pub struct Propose {
    /// The case id.
    #[arg(value_name = "CASE", value_parser = args::digest)]
    pub case: CaseId,
    /// The agreement file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The identity id of a member who must sign it (repeat, or separate with commas).
    #[arg(long, value_name = "ID", value_delimiter = ',', required = true, value_parser = args::digest)]
    pub signer: Vec<IdentityId>,
}

impl BuildAct for Propose {
    fn build(&self, _env: &BuildEnv<'_>) -> anyhow::Result<Prepared> {
        let signers = distinct(&self.signer)?;
        let hashed = hash(&self.file)?;
        let act = ProposeMediation {
            case: self.case,
            agreement: hashed.sha256(),
            signers,
        };
        Ok(Prepared::new(
            act,
            format!("proposed a mediation agreement in case {}", self.case),
        )
        .with("file", hashed.json))
    }
}

/// `mediation sign`.
#[derive(Debug, Clone, Args)]
pub struct Sign {
    /// The mediation id.
    #[arg(value_name = "MEDIATION", value_parser = args::digest)]
    pub mediation: ObjectId,
    /// The agreement file as you read it.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

impl BuildAct for Sign {
    fn build(&self, _env: &BuildEnv<'_>) -> anyhow::Result<Prepared> {
        let hashed = hash(&self.file)?;
        let act = SignMediation {
            mediation: self.mediation,
            content: hashed.sha256(),
        };
        Ok(Prepared::new(
            act,
            format!("signed mediation agreement {}", self.mediation),
        )
        .with("file", hashed.json))
    }
}

/// `mediation confirm`.
#[derive(Debug, Clone, Args)]
pub struct Confirm {
    /// The mediation id.
    #[arg(value_name = "MEDIATION", value_parser = args::digest)]
    pub mediation: ObjectId,
}

impl BuildAct for Confirm {
    fn build(&self, _env: &BuildEnv<'_>) -> anyhow::Result<Prepared> {
        let act = ConfirmMediation {
            mediation: self.mediation,
        };
        Ok(Prepared::new(
            act,
            format!("confirmed mediation agreement {}", self.mediation),
        ))
    }
}
