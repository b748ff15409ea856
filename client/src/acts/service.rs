//! Service of documents (文书送达) and their signed receipt (文书签收).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use courtledger_ledger::act::{AcknowledgeService, ServeDocument};
use courtledger_ledger::{CaseId, DocumentKind, IdentityId, ObjectId};

use super::{hash, BuildAct, Prepared, Signed};
use crate::args;
use crate::submit::{BuildEnv, SignArgs};

/// Serving documents and signing for them.
#[derive(Debug, Clone, Subcommand)]
pub enum ServiceCommand {
    /// Serve a document on a registered recipient, 文书送达 (court staff).
    ///
    /// Prints the service id: send it to the recipient with the document.
    Serve(Signed<Serve>),
    /// Sign for a served document, 文书签收 (the recipient).
    ///
    /// Give the file you received: it is hashed here, and the ledger accepts the receipt only
    /// if it is exactly the served document (else content_mismatch).
    Acknowledge(Signed<Acknowledge>),
}

impl ServiceCommand {
    /// The act builder and signing options.
    pub fn as_act(&self) -> (&SignArgs, &dyn BuildAct) {
        match self {
            Self::Serve(s) => s.parts(),
            Self::Acknowledge(s) => s.parts(),
        }
    }
}

/// `service serve`.
#[derive(Debug, Clone, Args)]
pub struct Serve {
    /// The case id.
    #[arg(value_name = "CASE", value_parser = args::digest)]
    pub case: CaseId,
    /// The recipient's identity id.
    #[arg(long, value_name = "ID", value_parser = args::digest)]
    pub recipient: IdentityId,
    /// What the document is.
    #[arg(long, value_parser = args::named::<DocumentKind>())]
    pub kind: DocumentKind,
    /// The document file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

impl BuildAct for Serve {
    fn build(&self, _env: &BuildEnv<'_>) -> anyhow::Result<Prepared> {
        let hashed = hash(&self.file)?;
        let act = ServeDocument {
            case: self.case,
            recipient: self.recipient,
            kind: self.kind,
            document: hashed.sha256(),
        };
        Ok(Prepared::new(
            act,
            format!(
                "served a {} on {} in case {}",
                self.kind, self.recipient, self.case
            ),
        )
        .with("file", hashed.json))
    }
}

/// `service acknowledge`.
#[derive(Debug, Clone, Args)]
pub struct Acknowledge {
    /// The service id.
    #[arg(value_name = "SERVICE", value_parser = args::digest)]
    pub service: ObjectId,
    /// The document file as you received it.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

impl BuildAct for Acknowledge {
    fn build(&self, _env: &BuildEnv<'_>) -> anyhow::Result<Prepared> {
        let hashed = hash(&self.file)?;
        let act = AcknowledgeService {
            service: self.service,
            document: hashed.sha256(),
        };
        Ok(
            Prepared::new(act, format!("acknowledged service {}", self.service))
                .with("file", hashed.json),
        )
    }
}
