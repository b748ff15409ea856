//! Cases: filing (网上立案), the court's review (立案审查), members (staff, parties, lawyers),
//! the evidence time limit (举证期限) and closing.

use std::path::PathBuf;

use anyhow::bail;
use clap::{Args, Subcommand};
use courtledger_crypto::Digest;
use courtledger_ledger::act::{
    AddParty, AppointLawyer, AssignStaff, Attachment, CloseCase, Decision, FileCase, LeaveCase,
    ReviewFiling, SetEvidenceDeadline,
};
use courtledger_ledger::{
    AttachmentKind, CaseId, CaseKind, CaseRole, IdentityId, Outcome, PartyRef,
};
use courtledger_types::CourtCode;
use serde_json::{json, Value};

use super::{hash, BuildAct, Prepared, Signed};
use crate::args;
use crate::browse::TimelineArgs;
use crate::submit::{BuildEnv, SignArgs};

/// Cases: file, review, members, the evidence time limit, close.
#[derive(Debug, Clone, Subcommand)]
pub enum CaseCommand {
    /// File a case at a court (party, or lawyer for a client).
    ///
    /// The complaint, claim summary and attachments are hashed on this computer; only their
    /// SHA-256 goes on the ledger. Prints the case id: keep it, every later act on the case
    /// names it. A lawyer names the client with --plaintiff and --principal and gives the
    /// power of attorney.
    File(Signed<FileCaseArgs>),
    /// Accept or reject a filing (judge or clerk of the court).
    ///
    /// Accepting gives the case its number; rejecting records the reason for the filer. The
    /// court has 7 days from the filing.
    Review(Signed<Review>),
    /// Assign a judge, clerk or mediator of the court to a case (court staff).
    Assign(Signed<Assign>),
    /// Add a registered party to a case (court staff).
    ///
    /// For a defendant who registered after the filing, or a third party.
    AddParty(Signed<AddPartyArgs>),
    /// Appoint a registered lawyer to act for you in a case (party).
    ///
    /// The power of attorney is hashed here; its SHA-256 is recorded.
    AppointLawyer(Signed<AppointLawyerArgs>),
    /// Leave a case (lawyer or court staff).
    Leave(Signed<Leave>),
    /// Set the time limit for evidence, 举证期限 (judge of the case).
    ///
    /// Evidence submitted after it is refused by the ledger (deadline_passed).
    EvidenceDeadline(Signed<EvidenceDeadline>),
    /// Close a case with its outcome (judge of the case).
    ///
    /// A judgment outcome needs an issued judgment or ruling; a mediation outcome a confirmed
    /// mediation agreement.
    Close(Signed<Close>),
    /// Every committed act of a case, oldest first: sequence number, time (Beijing), act,
    /// actor, transaction id (reads the node; signs nothing).
    Timeline(TimelineArgs),
}

impl CaseCommand {
    /// The act builder and signing options; `None` for `timeline`, which only reads.
    pub fn as_act(&self) -> Option<(&SignArgs, &dyn BuildAct)> {
        Some(match self {
            Self::File(s) => s.parts(),
            Self::Review(s) => s.parts(),
            Self::Assign(s) => s.parts(),
            Self::AddParty(s) => s.parts(),
            Self::AppointLawyer(s) => s.parts(),
            Self::Leave(s) => s.parts(),
            Self::EvidenceDeadline(s) => s.parts(),
            Self::Close(s) => s.parts(),
            Self::Timeline(_) => return None,
        })
    }
}

/// `case file`.
#[derive(Debug, Clone, Args)]
pub struct FileCaseArgs {
    /// The court the case is filed for, such as 京0105.
    #[arg(long, value_parser = args::court)]
    pub court: CourtCode,
    /// For a cross-region filing (跨域立案): the court near you that receives it.
    #[arg(long, value_name = "COURT", value_parser = args::court)]
    pub receiving_court: Option<CourtCode>,
    /// The kind of case.
    #[arg(long, value_parser = args::named::<CaseKind>())]
    pub kind: CaseKind,
    /// A plaintiff's identity id (repeat, or separate with commas). A party filing names
    /// themself; a lawyer names their client.
    #[arg(long, value_name = "ID", value_delimiter = ',', value_parser = args::digest)]
    pub plaintiff: Vec<IdentityId>,
    /// A co-plaintiff who is not registered: the commitment to their identity.
    #[arg(long, value_name = "COMMITMENT", value_delimiter = ',', value_parser = args::digest)]
    pub unregistered_plaintiff: Vec<Digest>,
    /// A registered defendant's identity id (repeat, or separate with commas).
    #[arg(long, value_name = "ID", value_delimiter = ',', value_parser = args::digest)]
    pub defendant: Vec<IdentityId>,
    /// A defendant who is not registered: the commitment to their identity (from
    /// `identity commit`); the court adds them once they register.
    #[arg(long, value_name = "COMMITMENT", value_delimiter = ',', value_parser = args::digest)]
    pub unregistered_defendant: Vec<Digest>,
    /// The claim summary (诉讼请求) file.
    #[arg(long, value_name = "FILE")]
    pub claim_summary: PathBuf,
    /// The complaint (起诉状) file.
    #[arg(long, value_name = "FILE")]
    pub complaint: PathBuf,
    /// An attached file, as KIND=FILE with KIND one of id_document, evidence,
    /// power_of_attorney, other (repeat for each file).
    #[arg(long, value_name = "KIND=FILE", value_parser = args::attachment)]
    pub attach: Vec<(AttachmentKind, PathBuf)>,
    /// Lawyer filing for a client: the client's identity id (also named with --plaintiff).
    #[arg(long, value_name = "ID", value_parser = args::digest, requires = "power_of_attorney")]
    pub principal: Option<IdentityId>,
    /// Lawyer filing for a client: the power of attorney (授权委托书) file.
    #[arg(long, value_name = "FILE", requires = "principal")]
    pub power_of_attorney: Option<PathBuf>,
}

impl BuildAct for FileCaseArgs {
    fn build(&self, _env: &BuildEnv<'_>) -> anyhow::Result<Prepared> {
        let plaintiffs: Vec<PartyRef> = self
            .plaintiff
            .iter()
            .map(|id| PartyRef::Registered(*id))
            .chain(
                self.unregistered_plaintiff
                    .iter()
                    .map(|c| PartyRef::Unregistered(*c)),
            )
            .collect();
        let defendants: Vec<PartyRef> = self
            .defendant
            .iter()
            .map(|id| PartyRef::Registered(*id))
            .chain(
                self.unregistered_defendant
                    .iter()
                    .map(|c| PartyRef::Unregistered(*c)),
            )
            .collect();
        if plaintiffs.is_empty() {
            bail!("name at least one plaintiff (--plaintiff)");
        }
        if defendants.is_empty() {
            bail!("name at least one defendant (--defendant or --unregistered-defendant)");
        }
        if let Some(principal) = &self.principal {
            if !self.plaintiff.contains(principal) {
                bail!("the principal must also be named as a plaintiff (--plaintiff {principal})");
            }
        }
        if self.receiving_court.as_ref() == Some(&self.court) {
            bail!("the receiving court is the court itself; leave out --receiving-court");
        }
        let claim_summary = hash(&self.claim_summary)?;
        let complaint = hash(&self.complaint)?;
        let mut attachments = Vec::with_capacity(self.attach.len());
        let mut attachment_json = Vec::with_capacity(self.attach.len());
        for (kind, path) in &self.attach {
            let hashed = hash(path)?;
            attachments.push(Attachment {
                kind: *kind,
                sha256: hashed.sha256(),
                size: hashed.digest.size,
            });
            let mut entry = hashed.json;
            entry["kind"] = json!(kind.name());
            attachment_json.push(entry);
        }
        let power_of_attorney = self.power_of_attorney.as_deref().map(hash).transpose()?;
        let act = FileCase {
            court: self.court.clone(),
            receiving_court: self.receiving_court.clone(),
            kind: self.kind,
            plaintiffs,
            defendants,
            claim_summary: claim_summary.sha256(),
            complaint: complaint.sha256(),
            attachments,
            principal: self.principal,
            power_of_attorney: power_of_attorney.as_ref().map(super::Hashed::sha256),
        };
        Ok(
            Prepared::new(act, format!("filed a {} case at {}", self.kind, self.court))
                .with("claim_summary", claim_summary.json)
                .with("complaint", complaint.json)
                .with("attachments", Value::Array(attachment_json))
                .with(
                    "power_of_attorney",
                    power_of_attorney.map_or(Value::Null, |h| h.json),
                ),
        )
    }
}

/// `case review`.
#[derive(Debug, Clone, Args)]
pub struct Review {
    /// The case id.
    #[arg(value_name = "CASE", value_parser = args::digest)]
    pub case: CaseId,
    /// Accept the filing.
    #[arg(long, conflicts_with = "reject", required_unless_present = "reject")]
    pub accept: bool,
    /// Reject the filing, with the reason given to the filer.
    #[arg(long, value_name = "REASON")]
    pub reject: Option<String>,
}

impl BuildAct for Review {
    fn build(&self, _env: &BuildEnv<'_>) -> anyhow::Result<Prepared> {
        let (decision, summary) = match &self.reject {
            Some(reason) if reason.trim().is_empty() => bail!("give the reason for rejecting"),
            Some(reason) => (
                Decision::Reject {
                    reason: reason.clone(),
                },
                "rejected the filing",
            ),
            None => (Decision::Accept, "accepted the filing"),
        };
        let act = ReviewFiling {
            case: self.case,
            decision,
        };
        Ok(Prepared::new(
            act,
            format!("{summary} of case {}", self.case),
        ))
    }
}

/// `case assign`.
#[derive(Debug, Clone, Args)]
pub struct Assign {
    /// The case id.
    #[arg(value_name = "CASE", value_parser = args::digest)]
    pub case: CaseId,
    /// The staff member's identity id.
    #[arg(long, value_name = "ID", value_parser = args::digest)]
    pub member: IdentityId,
    /// Their part in the case.
    #[arg(long, value_parser = args::named_of(args::STAFF_ROLES))]
    pub role: CaseRole,
}

impl BuildAct for Assign {
    fn build(&self, _env: &BuildEnv<'_>) -> anyhow::Result<Prepared> {
        let act = AssignStaff {
            case: self.case,
            member: self.member,
            role: self.role,
        };
        Ok(Prepared::new(
            act,
            format!(
                "assigned {} as {} of case {}",
                self.member, self.role, self.case
            ),
        ))
    }
}

/// `case add-party`.
#[derive(Debug, Clone, Args)]
pub struct AddPartyArgs {
    /// The case id.
    #[arg(value_name = "CASE", value_parser = args::digest)]
    pub case: CaseId,
    /// The party's identity id.
    #[arg(long, value_name = "ID", value_parser = args::digest)]
    pub party: IdentityId,
    /// Their part in the case.
    #[arg(long, value_parser = args::named_of(args::PARTY_ROLES))]
    pub role: CaseRole,
}

impl BuildAct for AddPartyArgs {
    fn build(&self, _env: &BuildEnv<'_>) -> anyhow::Result<Prepared> {
        let act = AddParty {
            case: self.case,
            party: self.party,
            role: self.role,
        };
        Ok(Prepared::new(
            act,
            format!(
                "added {} as {} of case {}",
                self.party, self.role, self.case
            ),
        ))
    }
}

/// `case appoint-lawyer`.
#[derive(Debug, Clone, Args)]
pub struct AppointLawyerArgs {
    /// The case id.
    #[arg(value_name = "CASE", value_parser = args::digest)]
    pub case: CaseId,
    /// The lawyer's identity id.
    #[arg(long, value_name = "ID", value_parser = args::digest)]
    pub lawyer: IdentityId,
    /// The power of attorney (授权委托书) file; its hash is recorded.
    #[arg(long, value_name = "FILE")]
    pub power_of_attorney: PathBuf,
}

impl BuildAct for AppointLawyerArgs {
    fn build(&self, _env: &BuildEnv<'_>) -> anyhow::Result<Prepared> {
        let poa = hash(&self.power_of_attorney)?;
        let act = AppointLawyer {
            case: self.case,
            lawyer: self.lawyer,
            power_of_attorney: poa.sha256(),
        };
        Ok(Prepared::new(
            act,
            format!("appointed lawyer {} in case {}", self.lawyer, self.case),
        )
        .with("power_of_attorney", poa.json))
    }
}

/// `case leave`.
#[derive(Debug, Clone, Args)]
pub struct Leave {
    /// The case id.
    #[arg(value_name = "CASE", value_parser = args::digest)]
    pub case: CaseId,
}

impl BuildAct for Leave {
    fn build(&self, _env: &BuildEnv<'_>) -> anyhow::Result<Prepared> {
        let act = LeaveCase { case: self.case };
        Ok(Prepared::new(act, format!("left case {}", self.case)))
    }
}

/// `case evidence-deadline`.
#[derive(Debug, Clone, Args)]
pub struct EvidenceDeadline {
    /// The case id.
    #[arg(value_name = "CASE", value_parser = args::digest)]
    pub case: CaseId,
    /// The deadline, as RFC 3339 with its zone, such as 2026-12-31T17:00:00+08:00.
    #[arg(long, value_name = "TIME", value_parser = args::time_ms)]
    pub at: u64,
}

impl BuildAct for EvidenceDeadline {
    fn build(&self, _env: &BuildEnv<'_>) -> anyhow::Result<Prepared> {
        let act = SetEvidenceDeadline {
            case: self.case,
            deadline_ms: self.at,
        };
        let at = args::format_ms(self.at);
        Ok(Prepared::new(
            act,
            format!("set the evidence deadline of case {} to {at}", self.case),
        )
        .with("deadline", json!(at)))
    }
}

/// `case close`.
#[derive(Debug, Clone, Args)]
pub struct Close {
    /// The case id.
    #[arg(value_name = "CASE", value_parser = args::digest)]
    pub case: CaseId,
    /// How it ended.
    #[arg(long, value_parser = args::named::<Outcome>())]
    pub outcome: Outcome,
}

impl BuildAct for Close {
    fn build(&self, _env: &BuildEnv<'_>) -> anyhow::Result<Prepared> {
        let act = CloseCase {
            case: self.case,
            outcome: self.outcome,
        };
        Ok(Prepared::new(
            act,
            format!("closed case {} ({})", self.case, self.outcome),
        ))
    }
}
