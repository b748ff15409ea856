//! Receipt codes: why a committed act failed. Stable: a code's number and name never change
//! meaning; new codes take new numbers.

use std::fmt;

/// Why a valid transaction's act failed. The transaction is still committed, with a receipt
/// carrying [`Code::number`]; the act changed nothing but the signer's nonce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Code {
    /// 1: a court the act names does not exist.
    UnknownCourt,
    /// 2: an identity the act names does not exist.
    UnknownIdentity,
    /// 3: the case does not exist.
    UnknownCase,
    /// 4: the evidence, hearing, transcript, mediation, service or judgment does not exist.
    UnknownObject,
    /// 5: the signer's role or court does not allow this act.
    NotAuthorized,
    /// 6: the signer is not a member of the case in the required capacity.
    NotMember,
    /// 7: the case or object is not in a state that allows this act.
    WrongState,
    /// 8: a time limit for this act has passed.
    DeadlinePassed,
    /// 9: done already (signed, received, member, published, confirmed).
    AlreadyDone,
    /// 10: the key is already registered to an identity.
    KeyInUse,
    /// 11: the key holder's possession signature does not verify.
    BadPossessionProof,
    /// 12: the act's content is inconsistent (no parties, repeats, a time in the past, a court
    /// level that does not fit, a court missing or present against the role).
    InvalidArgument,
    /// 13: the hash the signer saw is not the recorded one.
    ContentMismatch,
    /// 14: an identity the act names is revoked.
    IdentityRevoked,
    /// 15: a court with this code exists already.
    CourtExists,
    /// 16: an identity the act names has the wrong role for it.
    WrongRole,
    /// 17: a precondition is not complete (signatures missing, no judgment, no confirmed
    /// mediation).
    Incomplete,
    /// 18: a bound was reached (members of a case, events of a case, a serial number).
    LimitReached,
}

impl Code {
    /// Every code, in number order.
    pub const ALL: [Code; 18] = [
        Code::UnknownCourt,
        Code::UnknownIdentity,
        Code::UnknownCase,
        Code::UnknownObject,
        Code::NotAuthorized,
        Code::NotMember,
        Code::WrongState,
        Code::DeadlinePassed,
        Code::AlreadyDone,
        Code::KeyInUse,
        Code::BadPossessionProof,
        Code::InvalidArgument,
        Code::ContentMismatch,
        Code::IdentityRevoked,
        Code::CourtExists,
        Code::WrongRole,
        Code::Incomplete,
        Code::LimitReached,
    ];

    /// The receipt's `u16` (never 0, which is success).
    pub fn number(self) -> u16 {
        match self {
            Code::UnknownCourt => 1,
            Code::UnknownIdentity => 2,
            Code::UnknownCase => 3,
            Code::UnknownObject => 4,
            Code::NotAuthorized => 5,
            Code::NotMember => 6,
            Code::WrongState => 7,
            Code::DeadlinePassed => 8,
            Code::AlreadyDone => 9,
            Code::KeyInUse => 10,
            Code::BadPossessionProof => 11,
            Code::InvalidArgument => 12,
            Code::ContentMismatch => 13,
            Code::IdentityRevoked => 14,
            Code::CourtExists => 15,
            Code::WrongRole => 16,
            Code::Incomplete => 17,
            Code::LimitReached => 18,
        }
    }

    /// The code with this number.
    pub fn from_number(number: u16) -> Option<Code> {
        Code::ALL.into_iter().find(|code| code.number() == number)
    }

    /// The stable `snake_case` name.
    pub fn name(self) -> &'static str {
        match self {
            Code::UnknownCourt => "unknown_court",
            Code::UnknownIdentity => "unknown_identity",
            Code::UnknownCase => "unknown_case",
            Code::UnknownObject => "unknown_object",
            Code::NotAuthorized => "not_authorized",
            Code::NotMember => "not_member",
            Code::WrongState => "wrong_state",
            Code::DeadlinePassed => "deadline_passed",
            Code::AlreadyDone => "already_done",
            Code::KeyInUse => "key_in_use",
            Code::BadPossessionProof => "bad_possession_proof",
            Code::InvalidArgument => "invalid_argument",
            Code::ContentMismatch => "content_mismatch",
            Code::IdentityRevoked => "identity_revoked",
            Code::CourtExists => "court_exists",
            Code::WrongRole => "wrong_role",
            Code::Incomplete => "incomplete",
            Code::LimitReached => "limit_reached",
        }
    }

    /// The name of a receipt code: `ok` for 0, the code's name, or `unknown` for a number this
    /// version does not know.
    pub fn describe(number: u16) -> &'static str {
        if number == courtledger_types::CODE_OK {
            return "ok";
        }
        Code::from_number(number).map_or("unknown", Code::name)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_dense_distinct_and_round_trip() {
        for (i, code) in Code::ALL.iter().enumerate() {
            assert_eq!(usize::from(code.number()), i + 1);
            assert_eq!(Code::from_number(code.number()), Some(*code));
        }
        assert_eq!(Code::from_number(0), None);
        assert_eq!(Code::describe(0), "ok");
        assert_eq!(Code::describe(7), "wrong_state");
        assert_eq!(Code::describe(999), "unknown");
    }
}
