//! Evidence (证据提交) and the case space (一案一空间): submitting and receiving evidence,
//! posting messages.

use std::path::PathBuf;

use anyhow::bail;
use clap::{Args, Subcommand};
use courtledger_crypto::sha256;
use courtledger_ledger::act::{FileRef, PostMessage, ReceiveEvidence, SubmitEvidence};
use courtledger_ledger::{CaseId, MessageKind, ObjectId};
use serde_json::json;

use super::{hash, BuildAct, Prepared, Signed};
use crate::args;
use crate::files::media_type;
use crate::submit::{BuildEnv, SignArgs};

/// Evidence: submit it (party or lawyer), receive it (the court).
#[derive(Debug, Clone, Subcommand)]
pub enum EvidenceCommand {
    /// Submit an evidence file in a case (party or lawyer).
    ///
    /// The file is hashed here; its SHA-256, size, type and title go on the ledger with your
    /// identity and the time. Prints the evidence id. Keep the file: its hash proves it.
    Submit(Signed<Submit>),
    /// Acknowledge receipt of submitted evidence (court staff).
    Receive(Signed<Receive>),
}

impl EvidenceCommand {
    /// The act builder and signing options.
    pub fn as_act(&self) -> (&SignArgs, &dyn BuildAct) {
        match self {
            Self::Submit(s) => s.parts(),
            Self::Receive(s) => s.parts(),
        }
    }
}

/// The case space.
#[derive(Debug, Clone, Subcommand)]
pub enum MessageCommand {
    /// Post a text, voice or image message in the case space (case member).
    ///
    /// Only its SHA-256 goes on the ledger. --for-judge sends the judge a reminder.
    Post(Signed<Post>),
}

impl MessageCommand {
    /// The act builder and signing options.
    pub fn as_act(&self) -> (&SignArgs, &dyn BuildAct) {
        match self {
            Self::Post(s) => s.parts(),
        }
    }
}

/// `evidence submit`.
#[derive(Debug, Clone, Args)]
pub struct Submit {
    /// The case id.
    #[arg(value_name = "CASE", value_parser = args::digest)]
    pub case: CaseId,
    /// The evidence file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Its title (default: the file's name).
    #[arg(long)]
    pub title: Option<String>,
    /// Its media type, such as application/pdf (default: guessed from the file's extension).
    #[arg(long, value_name = "TYPE")]
    pub media_type: Option<String>,
}

impl BuildAct for Submit {
    fn build(&self, _env: &BuildEnv<'_>) -> anyhow::Result<Prepared> {
        let title = match &self.title {
            Some(title) => title.clone(),
            None => self
                .file
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default(),
        };
        let media_type = self
            .media_type
            .clone()
            .unwrap_or_else(|| media_type(&self.file).to_owned());
        let hashed = hash(&self.file)?;
        let act = SubmitEvidence {
            case: self.case,
            file: FileRef {
                sha256: hashed.sha256(),
                size: hashed.digest.size,
                media_type: media_type.clone(),
                title: title.clone(),
            },
        };
        let mut file = hashed.json;
        file["media_type"] = json!(media_type);
        file["title"] = json!(title);
        Ok(Prepared::new(
            act,
            format!("submitted evidence \"{title}\" in case {}", self.case),
        )
        .with("file", file))
    }
}

/// `evidence receive`.
#[derive(Debug, Clone, Args)]
pub struct Receive {
    /// The evidence id (printed when it was submitted).
    #[arg(value_name = "EVIDENCE", value_parser = args::digest)]
    pub evidence: ObjectId,
}

impl BuildAct for Receive {
    fn build(&self, _env: &BuildEnv<'_>) -> anyhow::Result<Prepared> {
        let act = ReceiveEvidence {
            evidence: self.evidence,
        };
        Ok(Prepared::new(
            act,
            format!("received evidence {}", self.evidence),
        ))
    }
}

/// `message post`.
#[derive(Debug, Clone, Args)]
pub struct Post {
    /// The case id.
    #[arg(value_name = "CASE", value_parser = args::digest)]
    pub case: CaseId,
    /// The message's file (a voice recording, an image, a text file).
    #[arg(
        value_name = "FILE",
        required_unless_present = "text",
        conflicts_with = "text"
    )]
    pub file: Option<PathBuf>,
    /// The message's text, instead of a file.
    #[arg(long)]
    pub text: Option<String>,
    /// What the message is (default: text for --text, else guessed from the file's type).
    #[arg(long, value_parser = args::named::<MessageKind>())]
    pub kind: Option<MessageKind>,
    /// Mark it for the judge, who gets a reminder.
    #[arg(long)]
    pub for_judge: bool,
}

impl BuildAct for Post {
    fn build(&self, _env: &BuildEnv<'_>) -> anyhow::Result<Prepared> {
        let (content, kind, detail) = match (&self.file, &self.text) {
            (Some(file), None) => {
                let guessed = match media_type(file).split('/').next() {
                    Some("audio") => MessageKind::Voice,
                    Some("image") => MessageKind::Image,
                    _ => MessageKind::Text,
                };
                let hashed = hash(file)?;
                (hashed.sha256(), self.kind.unwrap_or(guessed), hashed.json)
            }
            (None, Some(text)) => {
                let content = sha256(text.as_bytes());
                (
                    content,
                    self.kind.unwrap_or(MessageKind::Text),
                    json!({ "sha256": content.to_string(), "size": text.len() }),
                )
            }
            _ => bail!("give either a file or --text"),
        };
        let act = PostMessage {
            case: self.case,
            kind,
            content,
            for_judge: self.for_judge,
        };
        let to = if self.for_judge { " for the judge" } else { "" };
        Ok(Prepared::new(
            act,
            format!("posted a {kind} message{to} in case {}", self.case),
        )
        .with("content", detail))
    }
}
