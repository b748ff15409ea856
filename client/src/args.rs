//! Parsers for command-line values: ids, keys, signatures, court codes, the ledger's named
//! enumerations (by their stable `snake_case` names), times and `KIND=FILE` attachments.

use std::path::PathBuf;
use std::time::UNIX_EPOCH;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use courtledger_crypto::{Digest, PublicKey, Signature};
use courtledger_ledger::{
    AttachmentKind, CaseKind, CaseRole, ClueKind, DocumentKind, HearingMode, JudgmentKind,
    MessageKind, Outcome, Role,
};
use courtledger_types::{CourtCode, CourtLevel};

fn strip_0x(text: &str) -> &str {
    text.strip_prefix("0x").unwrap_or(text)
}

/// An id (identity, case, evidence, hearing, ...) or a SHA-256: 64 hex characters, `0x`
/// allowed.
pub fn digest(text: &str) -> Result<Digest, String> {
    strip_0x(text.trim())
        .parse::<Digest>()
        .map_err(|error| error.to_string())
}

/// A public key: 64 hex characters.
pub fn public_key(text: &str) -> Result<PublicKey, String> {
    strip_0x(text.trim())
        .parse::<PublicKey>()
        .map_err(|error| error.to_string())
}

/// A signature: 128 hex characters.
pub fn signature(text: &str) -> Result<Signature, String> {
    strip_0x(text.trim())
        .parse()
        .map_err(|error| format!("not a signature: {error}"))
}

/// 32 bytes as 64 hex characters (a salt).
pub fn bytes32(text: &str) -> Result<[u8; 32], String> {
    digest(text).map(|digest| digest.0)
}

/// A court code such as `京0105`.
pub fn court(text: &str) -> Result<CourtCode, String> {
    CourtCode::new(text).map_err(str::to_owned)
}

/// A type with stable `snake_case` names for its values.
pub trait Named: Copy + Clone + Send + Sync + 'static {
    /// Every value.
    fn all() -> &'static [Self];
    /// The value's name.
    fn name(self) -> &'static str;
}

macro_rules! named {
    ($($ty:ty),+) => {
        $(impl Named for $ty {
            fn all() -> &'static [Self] {
                <$ty>::ALL
            }
            fn name(self) -> &'static str {
                <$ty>::name(self)
            }
        })+
    };
}

named!(
    Role,
    CaseKind,
    CaseRole,
    AttachmentKind,
    MessageKind,
    HearingMode,
    DocumentKind,
    JudgmentKind,
    ClueKind,
    Outcome
);

impl Named for CourtLevel {
    fn all() -> &'static [Self] {
        &CourtLevel::ALL
    }
    fn name(self) -> &'static str {
        match self {
            CourtLevel::Supreme => "supreme",
            CourtLevel::High => "high",
            CourtLevel::Intermediate => "intermediate",
            CourtLevel::Basic => "basic",
        }
    }
}

/// The value of `T` named `name`, among `values`.
pub fn from_name<T: Named>(values: &[T], name: &str) -> Option<T> {
    values.iter().copied().find(|value| value.name() == name)
}

/// A clap parser for any value of `T`, by name; `--help` lists the names.
pub fn named<T: Named>() -> impl TypedValueParser<Value = T> {
    named_of(T::all())
}

/// A clap parser for the given values of `T` only, by name.
pub fn named_of<T: Named>(values: &'static [T]) -> impl TypedValueParser<Value = T> {
    PossibleValuesParser::new(values.iter().map(|value| value.name())).try_map(move |name| {
        from_name(values, &name).ok_or_else(|| format!("unknown value {name}"))
    })
}

/// The roles a court assigns to its staff on a case.
pub const STAFF_ROLES: &[CaseRole] = &[CaseRole::Judge, CaseRole::Clerk, CaseRole::Mediator];
/// The roles a party can have on a case.
pub const PARTY_ROLES: &[CaseRole] = &[
    CaseRole::Plaintiff,
    CaseRole::Defendant,
    CaseRole::ThirdParty,
];

/// An RFC 3339 time with an explicit zone (`2026-12-01T09:30:00+08:00` or
/// `2026-12-01T01:30:00Z`), as milliseconds since the Unix epoch.
pub fn time_ms(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let bytes = text.as_bytes();
    // A numeric offset: ...±HH:MM at the end.
    let (utc_text, offset_ms): (String, i64) = if bytes.len() > 6
        && matches!(bytes[bytes.len() - 6], b'+' | b'-')
        && bytes[bytes.len() - 3] == b':'
    {
        let (base, offset) = text.split_at(text.len() - 6);
        let sign: i64 = if offset.starts_with('-') { -1 } else { 1 };
        let hours: i64 = offset[1..3]
            .parse()
            .map_err(|_| format!("{text}: the zone offset is not ±HH:MM"))?;
        let minutes: i64 = offset[4..6]
            .parse()
            .map_err(|_| format!("{text}: the zone offset is not ±HH:MM"))?;
        if hours > 23 || minutes > 59 {
            return Err(format!("{text}: the zone offset is out of range"));
        }
        (
            format!("{base}Z"),
            sign * (hours * 60 + minutes) * 60 * 1000,
        )
    } else if text.ends_with('Z') || text.ends_with('z') {
        (format!("{}Z", &text[..text.len() - 1]), 0)
    } else {
        return Err(format!(
            "{text}: give a full RFC 3339 time with its zone, such as 2026-12-01T09:30:00+08:00"
        ));
    };
    let time = humantime::parse_rfc3339(&utc_text)
        .map_err(|error| format!("{text}: not an RFC 3339 time ({error})"))?;
    let local_ms = time
        .duration_since(UNIX_EPOCH)
        .map_err(|_| format!("{text}: before 1970"))?
        .as_millis();
    let local_ms = i128::try_from(local_ms).map_err(|_| format!("{text}: out of range"))?;
    u64::try_from(local_ms - i128::from(offset_ms)).map_err(|_| format!("{text}: out of range"))
}

/// Milliseconds since the Unix epoch as RFC 3339 UTC, for output.
pub fn format_ms(ms: u64) -> String {
    let time = UNIX_EPOCH + std::time::Duration::from_millis(ms);
    humantime::format_rfc3339_millis(time).to_string()
}

/// A filing attachment: `KIND=FILE`.
pub fn attachment(text: &str) -> Result<(AttachmentKind, PathBuf), String> {
    let names: Vec<&str> = AttachmentKind::ALL.iter().map(|kind| kind.name()).collect();
    let (kind, file) = text
        .split_once('=')
        .ok_or_else(|| format!("expected KIND=FILE, KIND one of {}", names.join(", ")))?;
    let kind = AttachmentKind::from_name(kind).ok_or_else(|| {
        format!(
            "unknown attachment kind {kind}: one of {}",
            names.join(", ")
        )
    })?;
    if file.is_empty() {
        return Err("expected KIND=FILE; the file is missing".to_owned());
    }
    Ok((kind, PathBuf::from(file)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_with_zones() {
        // 2026-12-01T01:30:00Z
        let utc = 1_796_088_600_000;
        assert_eq!(time_ms("2026-12-01T01:30:00Z"), Ok(utc));
        assert_eq!(time_ms("2026-12-01T09:30:00+08:00"), Ok(utc));
        assert_eq!(time_ms("2026-11-30T20:30:00-05:00"), Ok(utc));
        assert_eq!(time_ms("2026-12-01T01:30:00.250Z"), Ok(utc + 250));
        assert!(time_ms("2026-12-01T09:30:00").is_err());
        assert!(time_ms("2026-12-01").is_err());
        assert!(time_ms("tomorrow").is_err());
        assert!(time_ms("2026-12-01T09:30:00+24:00").is_err());
        assert_eq!(format_ms(utc), "2026-12-01T01:30:00.000Z");
    }

    #[test]
    fn attachments_and_names() {
        assert_eq!(
            attachment("id_document=a/b.pdf"),
            Ok((AttachmentKind::IdDocument, PathBuf::from("a/b.pdf")))
        );
        assert!(attachment("passport=a.pdf").is_err());
        assert!(attachment("evidence=").is_err());
        assert!(attachment("a.pdf").is_err());
        assert_eq!(
            from_name(CourtLevel::all(), "basic"),
            Some(CourtLevel::Basic)
        );
        assert_eq!(from_name(STAFF_ROLES, "plaintiff"), None);
        assert_eq!(
            digest(&format!("0x{}", "ab".repeat(32))),
            Ok(Digest([0xab; 32]))
        );
    }
}
