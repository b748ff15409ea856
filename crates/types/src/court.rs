//! Courts: their codes and levels.

use std::fmt;

use courtledger_codec::{write, Decode, DecodeError, Encode, Reader};
use serde::{Deserialize, Serialize};

use crate::limits::MAX_COURT_CODE_BYTES;

/// The four levels of the people's courts, highest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum CourtLevel {
    /// The Supreme People's Court.
    Supreme,
    /// A high people's court (province level).
    High,
    /// An intermediate people's court (prefecture level).
    Intermediate,
    /// A basic people's court (county or district level).
    Basic,
}

impl CourtLevel {
    /// Every level, highest first.
    pub const ALL: [CourtLevel; 4] = [
        CourtLevel::Supreme,
        CourtLevel::High,
        CourtLevel::Intermediate,
        CourtLevel::Basic,
    ];

    /// The canonical tag: 1 (Supreme) to 4 (Basic).
    pub fn tag(self) -> u8 {
        match self {
            CourtLevel::Supreme => 1,
            CourtLevel::High => 2,
            CourtLevel::Intermediate => 3,
            CourtLevel::Basic => 4,
        }
    }

    /// Whether a court of this level may have a court of `child` level directly under it.
    pub fn may_supervise(self, child: CourtLevel) -> bool {
        child.tag() == self.tag() + 1
    }
}

impl fmt::Display for CourtLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl Encode for CourtLevel {
    fn encode_to(&self, out: &mut Vec<u8>) {
        write::u8(out, self.tag());
    }
}

impl Decode for CourtLevel {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let tag = reader.u8("court level")?;
        CourtLevel::ALL
            .into_iter()
            .find(|level| level.tag() == tag)
            .ok_or(DecodeError::InvalidTag {
                what: "court level",
                tag,
            })
    }
}

/// Characters that structure a case number, which a court code must not contain.
pub const CASE_NUMBER_MARKS: [char; 6] = ['(', ')', '（', '）', '初', '号'];

/// A court's code, such as `京0105` (Beijing Chaoyang District People's Court).
///
/// Non-empty UTF-8 of at most [`MAX_COURT_CODE_BYTES`] bytes, with no whitespace or control
/// characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CourtCode(String);

impl CourtCode {
    /// Checks and wraps a court code.
    pub fn new(code: &str) -> Result<Self, &'static str> {
        if code.is_empty() {
            return Err("a court code must not be empty");
        }
        if code.len() > usize::try_from(MAX_COURT_CODE_BYTES).unwrap_or(usize::MAX) {
            return Err("a court code must be at most 32 bytes");
        }
        if code.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("a court code must not contain whitespace or control characters");
        }
        // Case numbers are `(year)` ‖ court code ‖ kind ‖ 初 ‖ serial ‖ 号: a court code without
        // these characters keeps every case number unambiguous, so no two cases share one.
        if code.chars().any(|c| CASE_NUMBER_MARKS.contains(&c)) {
            return Err("a court code must not contain ( ) （ ） 初 or 号");
        }
        Ok(Self(code.to_owned()))
    }

    /// The code as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CourtCode {
    type Error = &'static str;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        CourtCode::new(&value)
    }
}

impl From<CourtCode> for String {
    fn from(code: CourtCode) -> String {
        code.0
    }
}

impl fmt::Display for CourtCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Encode for CourtCode {
    fn encode_to(&self, out: &mut Vec<u8>) {
        write::string(out, &self.0);
    }
}

impl Decode for CourtCode {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let code = reader.string("court code", MAX_COURT_CODE_BYTES)?;
        CourtCode::new(&code).map_err(|reason| DecodeError::Invalid {
            what: "court code",
            reason,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use courtledger_codec::decode_exact;

    #[test]
    fn level_round_trip_and_hierarchy() {
        for level in CourtLevel::ALL {
            assert_eq!(decode_exact::<CourtLevel>(&level.to_bytes(), 1), Ok(level));
        }
        assert!(decode_exact::<CourtLevel>(&[0], 1).is_err());
        assert!(decode_exact::<CourtLevel>(&[5], 1).is_err());
        assert!(CourtLevel::Supreme.may_supervise(CourtLevel::High));
        assert!(!CourtLevel::Supreme.may_supervise(CourtLevel::Basic));
        assert!(!CourtLevel::Basic.may_supervise(CourtLevel::Basic));
    }

    #[test]
    fn court_codes() {
        assert!(CourtCode::new("京0105").is_ok());
        assert!(CourtCode::new("").is_err());
        assert!(CourtCode::new("a b").is_err());
        for mark in ["京(01)", "京01初", "京01号", "京（01）"] {
            assert!(CourtCode::new(mark).is_err(), "{mark}");
        }
        assert!(CourtCode::new(&"x".repeat(33)).is_err());
        let code = CourtCode::new("京0105").unwrap();
        assert_eq!(hex::encode(code.to_bytes()), "00000007e4baac30313035");
        assert_eq!(decode_exact::<CourtCode>(&code.to_bytes(), 64), Ok(code));
    }
}
