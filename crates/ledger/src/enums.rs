//! One-byte enumerations of acts and records, with stable tags and stable names.

/// Declares a fieldless enum with a one-byte canonical tag and a stable `snake_case` name
/// (used by the API and the client), plus its codec.
macro_rules! byte_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident ($what:literal) {
            $($(#[$vmeta:meta])* $variant:ident = $tag:literal => $text:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every variant, in tag order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The canonical one-byte tag.
            pub fn tag(self) -> u8 {
                match self {
                    $($name::$variant => $tag,)+
                }
            }

            /// The variant with this tag.
            pub fn from_tag(tag: u8) -> Option<Self> {
                match tag {
                    $($tag => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// The stable `snake_case` name.
            pub fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// The variant with this stable name.
            pub fn from_name(name: &str) -> Option<Self> {
                match name {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.name())
            }
        }

        impl ::courtledger_codec::Encode for $name {
            fn encode_to(&self, out: &mut Vec<u8>) {
                ::courtledger_codec::write::u8(out, self.tag());
            }
        }

        impl ::courtledger_codec::Decode for $name {
            fn decode_from(
                reader: &mut ::courtledger_codec::Reader<'_>,
            ) -> Result<Self, ::courtledger_codec::DecodeError> {
                let tag = reader.u8($what)?;
                $name::from_tag(tag)
                    .ok_or(::courtledger_codec::DecodeError::InvalidTag { what: $what, tag })
            }
        }

        $crate::field::field_via_codec!($name);
    };
}

pub(crate) use byte_enum;

byte_enum! {
    /// What a registered person is, as attested by a court registrar.
    pub enum Role ("role") {
        /// A party to cases (a person or the representative of an organisation).
        Party = 1 => "party",
        /// A lawyer, who acts for parties that appoint them.
        Lawyer = 2 => "lawyer",
        /// A judge of a court.
        Judge = 3 => "judge",
        /// A clerk of a court: files, schedules, serves.
        Clerk = 4 => "clerk",
        /// A mediator attached to a court.
        Mediator = 5 => "mediator",
        /// A registrar of a court: attests identities, adds courts under its own.
        Registrar = 6 => "registrar",
    }
}

impl Role {
    /// Whether identities of this role belong to a court (and must name one).
    pub fn is_court_staff(self) -> bool {
        matches!(
            self,
            Role::Judge | Role::Clerk | Role::Mediator | Role::Registrar
        )
    }
}

byte_enum! {
    /// The kind of case filed.
    pub enum CaseKind ("case kind") {
        /// A civil case (民事).
        Civil = 1 => "civil",
        /// An administrative case (行政).
        Administrative = 2 => "administrative",
        /// A criminal private prosecution (刑事自诉).
        CriminalPrivate = 3 => "criminal_private",
    }
}

impl CaseKind {
    /// The character of the case-number form: 民, 行, 刑.
    pub fn number_char(self) -> &'static str {
        match self {
            CaseKind::Civil => "民",
            CaseKind::Administrative => "行",
            CaseKind::CriminalPrivate => "刑",
        }
    }
}

byte_enum! {
    /// Where a case stands.
    pub enum CaseStatus ("case status") {
        /// Filed, waiting for the court's review.
        PendingReview = 1 => "pending_review",
        /// The court refused the filing (final).
        Rejected = 2 => "rejected",
        /// Accepted: the case has its number and proceeds.
        Accepted = 3 => "accepted",
        /// Closed with an outcome (final).
        Closed = 4 => "closed",
    }
}

byte_enum! {
    /// A member's part in a case.
    pub enum CaseRole ("case role") {
        /// A plaintiff (or private prosecutor).
        Plaintiff = 1 => "plaintiff",
        /// A defendant.
        Defendant = 2 => "defendant",
        /// A third party.
        ThirdParty = 3 => "third_party",
        /// A lawyer acting for a party member (its principal).
        Agent = 4 => "agent",
        /// A judge assigned to the case.
        Judge = 5 => "judge",
        /// A clerk assigned to the case.
        Clerk = 6 => "clerk",
        /// A mediator assigned to the case.
        Mediator = 7 => "mediator",
    }
}

impl CaseRole {
    /// Whether this is a party's role (plaintiff, defendant, third party).
    pub fn is_party(self) -> bool {
        matches!(
            self,
            CaseRole::Plaintiff | CaseRole::Defendant | CaseRole::ThirdParty
        )
    }

    /// Whether this is a court staff role (judge, clerk, mediator).
    pub fn is_staff(self) -> bool {
        matches!(self, CaseRole::Judge | CaseRole::Clerk | CaseRole::Mediator)
    }
}

byte_enum! {
    /// What a filing attachment is.
    pub enum AttachmentKind ("attachment kind") {
        /// An identity document of a party.
        IdDocument = 1 => "id_document",
        /// Evidence filed with the complaint.
        Evidence = 2 => "evidence",
        /// A power of attorney.
        PowerOfAttorney = 3 => "power_of_attorney",
        /// Anything else.
        Other = 4 => "other",
    }
}

byte_enum! {
    /// The medium of a case-space message.
    pub enum MessageKind ("message kind") {
        /// Text.
        Text = 1 => "text",
        /// A voice recording.
        Voice = 2 => "voice",
        /// An image.
        Image = 3 => "image",
    }
}

byte_enum! {
    /// How a hearing is held.
    pub enum HearingMode ("hearing mode") {
        /// Online (在线开庭).
        Online = 1 => "online",
        /// In a courtroom.
        InCourt = 2 => "in_court",
    }
}

byte_enum! {
    /// The kind of document served.
    pub enum DocumentKind ("document kind") {
        /// A summons (传票).
        Summons = 1 => "summons",
        /// A notice (通知书).
        Notice = 2 => "notice",
        /// A copy of the complaint for the defendant (起诉状副本).
        ComplaintCopy = 3 => "complaint_copy",
        /// A judgment (判决书).
        Judgment = 4 => "judgment",
        /// A ruling (裁定书).
        Ruling = 5 => "ruling",
        /// A mediation statement (调解书).
        MediationStatement = 6 => "mediation_statement",
        /// Anything else.
        Other = 7 => "other",
    }
}

byte_enum! {
    /// The kind of decision a judge issues.
    pub enum JudgmentKind ("judgment kind") {
        /// A judgment on the merits (判决).
        Judgment = 1 => "judgment",
        /// A ruling (裁定).
        Ruling = 2 => "ruling",
    }
}

byte_enum! {
    /// What an enforcement clue is about.
    pub enum ClueKind ("clue kind") {
        /// Assets of the person subject to enforcement.
        Assets = 1 => "assets",
        /// Their whereabouts.
        Whereabouts = 2 => "whereabouts",
        /// Anything else.
        Other = 3 => "other",
    }
}

byte_enum! {
    /// How a case ended.
    pub enum Outcome ("case outcome") {
        /// By a judgment or ruling issued on the case.
        Judgment = 1 => "judgment",
        /// By a confirmed mediation agreement.
        Mediation = 2 => "mediation",
        /// The plaintiff withdrew (撤诉).
        Withdrawn = 3 => "withdrawn",
        /// Dismissed (驳回起诉).
        Dismissed = 4 => "dismissed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use courtledger_codec::{decode_exact, DecodeError, Encode};

    #[test]
    fn tags_and_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::from_tag(role.tag()), Some(*role));
            assert_eq!(Role::from_name(role.name()), Some(*role));
            assert_eq!(decode_exact::<Role>(&role.to_bytes(), 1), Ok(*role));
        }
        assert_eq!(
            decode_exact::<Role>(&[0], 1),
            Err(DecodeError::InvalidTag {
                what: "role",
                tag: 0
            })
        );
        assert_eq!(
            decode_exact::<Outcome>(&[5], 1),
            Err(DecodeError::InvalidTag {
                what: "case outcome",
                tag: 5
            })
        );
    }
}
