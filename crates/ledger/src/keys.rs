//! The ledger's state keys. Every key starts with `v1/`; ids are 32 raw bytes; a court code is
//! written as `u8 length ‖ UTF-8` so that one code is never a prefix of another's entries;
//! integers in keys are big-endian so that byte order is numeric order.

use courtledger_crypto::{Digest, PublicKey};
use courtledger_types::CourtCode;

/// Prefix of identity records: `v1/identity/ ‖ id` → [`crate::IdentityRecord`].
pub const IDENTITY: &[u8] = b"v1/identity/";
/// Prefix of the key directory: `v1/key/ ‖ public key` → identity id (32 bytes). Rotated keys
/// stay, pointing at their identity.
pub const KEY: &[u8] = b"v1/key/";
/// Prefix of courts: `v1/court/ ‖ code` → [`crate::CourtRecord`].
pub const COURT: &[u8] = b"v1/court/";
/// Prefix of cases: `v1/case/ ‖ id` → [`crate::CaseRecord`].
pub const CASE: &[u8] = b"v1/case/";
/// Prefix of case timelines: `v1/timeline/ ‖ case ‖ u32 seq` → [`crate::TimelineEntry`].
pub const TIMELINE: &[u8] = b"v1/timeline/";
/// Prefix of evidence: `v1/evidence/ ‖ id` → [`crate::EvidenceRecord`].
pub const EVIDENCE: &[u8] = b"v1/evidence/";
/// Prefix of messages: `v1/message/ ‖ id` → [`crate::MessageRecord`].
pub const MESSAGE: &[u8] = b"v1/message/";
/// Prefix of hearings: `v1/hearing/ ‖ id` → [`crate::HearingRecord`].
pub const HEARING: &[u8] = b"v1/hearing/";
/// Prefix of transcripts: `v1/transcript/ ‖ id` → [`crate::TranscriptRecord`].
pub const TRANSCRIPT: &[u8] = b"v1/transcript/";
/// Prefix of mediations: `v1/mediation/ ‖ id` → [`crate::MediationRecord`].
pub const MEDIATION: &[u8] = b"v1/mediation/";
/// Prefix of services: `v1/service/ ‖ id` → [`crate::ServiceRecord`].
pub const SERVICE: &[u8] = b"v1/service/";
/// Prefix of judgments: `v1/judgment/ ‖ id` → [`crate::JudgmentRecord`].
pub const JUDGMENT: &[u8] = b"v1/judgment/";
/// Prefix of clues: `v1/clue/ ‖ id` → [`crate::ClueRecord`].
pub const CLUE: &[u8] = b"v1/clue/";
/// Prefix of case-number serials: `v1/case-serial/ ‖ court ‖ u16 year ‖ u8 kind` → `u32`.
pub const CASE_SERIAL: &[u8] = b"v1/case-serial/";
/// Index of cases by court: `v1/idx/court-case/ ‖ court ‖ case` → empty.
pub const IDX_COURT_CASE: &[u8] = b"v1/idx/court-case/";
/// Index of cases by person: `v1/idx/identity-case/ ‖ identity ‖ case` → empty. Everyone who
/// was ever a member, or named as a registered party.
pub const IDX_IDENTITY_CASE: &[u8] = b"v1/idx/identity-case/";
/// Filings waiting for review, by deadline: `v1/idx/review-due/ ‖ u64 deadline ‖ case` →
/// empty; removed when reviewed.
pub const IDX_REVIEW_DUE: &[u8] = b"v1/idx/review-due/";
/// Case numbers: `v1/idx/case-number/ ‖ UTF-8 number` → case id.
pub const IDX_CASE_NUMBER: &[u8] = b"v1/idx/case-number/";
/// Court staff by court: `v1/idx/court-identity/ ‖ court ‖ identity` → empty.
pub const IDX_COURT_IDENTITY: &[u8] = b"v1/idx/court-identity/";

fn join(parts: &[&[u8]]) -> Vec<u8> {
    let mut key = Vec::with_capacity(parts.iter().map(|p| p.len()).sum());
    for part in parts {
        key.extend_from_slice(part);
    }
    key
}

/// A court code as a key component: `u8 length ‖ UTF-8`.
pub fn court_component(code: &CourtCode) -> Vec<u8> {
    let bytes = code.as_str().as_bytes();
    let len = u8::try_from(bytes.len()).expect("court codes are at most 32 bytes");
    join(&[&[len], bytes])
}

/// `v1/identity/ ‖ id`.
pub fn identity(id: &Digest) -> Vec<u8> {
    join(&[IDENTITY, id.as_bytes()])
}

/// `v1/key/ ‖ public key`.
pub fn key(key: &PublicKey) -> Vec<u8> {
    join(&[KEY, key.as_bytes()])
}

/// `v1/court/ ‖ code` (the code's UTF-8, unprefixed: it is the key's last component).
pub fn court(code: &CourtCode) -> Vec<u8> {
    join(&[COURT, code.as_str().as_bytes()])
}

/// `v1/case/ ‖ id`.
pub fn case(id: &Digest) -> Vec<u8> {
    join(&[CASE, id.as_bytes()])
}

/// `v1/timeline/ ‖ case ‖ u32 seq`.
pub fn timeline(case: &Digest, seq: u32) -> Vec<u8> {
    join(&[TIMELINE, case.as_bytes(), &seq.to_be_bytes()])
}

/// The prefix of one case's timeline.
pub fn timeline_prefix(case: &Digest) -> Vec<u8> {
    join(&[TIMELINE, case.as_bytes()])
}

/// An object record's key: `prefix ‖ id`.
pub fn object(prefix: &[u8], id: &Digest) -> Vec<u8> {
    join(&[prefix, id.as_bytes()])
}

/// `v1/case-serial/ ‖ court ‖ u16 year ‖ u8 kind`.
pub fn case_serial(court: &CourtCode, year: u16, kind: u8) -> Vec<u8> {
    join(&[
        CASE_SERIAL,
        &court_component(court),
        &year.to_be_bytes(),
        &[kind],
    ])
}

/// `v1/idx/court-case/ ‖ court ‖ case`.
pub fn court_case(court: &CourtCode, case: &Digest) -> Vec<u8> {
    join(&[IDX_COURT_CASE, &court_component(court), case.as_bytes()])
}

/// The prefix of one court's cases.
pub fn court_case_prefix(court: &CourtCode) -> Vec<u8> {
    join(&[IDX_COURT_CASE, &court_component(court)])
}

/// `v1/idx/identity-case/ ‖ identity ‖ case`.
pub fn identity_case(identity: &Digest, case: &Digest) -> Vec<u8> {
    join(&[IDX_IDENTITY_CASE, identity.as_bytes(), case.as_bytes()])
}

/// The prefix of one person's cases.
pub fn identity_case_prefix(identity: &Digest) -> Vec<u8> {
    join(&[IDX_IDENTITY_CASE, identity.as_bytes()])
}

/// `v1/idx/review-due/ ‖ u64 deadline ‖ case`.
pub fn review_due(deadline_ms: u64, case: &Digest) -> Vec<u8> {
    join(&[IDX_REVIEW_DUE, &deadline_ms.to_be_bytes(), case.as_bytes()])
}

/// `v1/idx/case-number/ ‖ number`.
pub fn case_number(number: &str) -> Vec<u8> {
    join(&[IDX_CASE_NUMBER, number.as_bytes()])
}

/// `v1/idx/court-identity/ ‖ court ‖ identity`.
pub fn court_identity(court: &CourtCode, identity: &Digest) -> Vec<u8> {
    join(&[
        IDX_COURT_IDENTITY,
        &court_component(court),
        identity.as_bytes(),
    ])
}

/// The prefix of one court's staff.
pub fn court_identity_prefix(court: &CourtCode) -> Vec<u8> {
    join(&[IDX_COURT_IDENTITY, &court_component(court)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use courtledger_types::limits::MAX_STATE_KEY_BYTES;

    #[test]
    fn longest_keys_fit_the_state_key_bound() {
        let code = CourtCode::new(&"京".repeat(10)).expect("30 bytes");
        let id = Digest([7; 32]);
        let max = usize::try_from(MAX_STATE_KEY_BYTES).expect("fits");
        for key in [
            court_case(&code, &id),
            court_identity(&code, &id),
            case_serial(&code, 2026, 1),
            identity_case(&id, &id),
            review_due(u64::MAX, &id),
            timeline(&id, u32::MAX),
            case_number(&"x".repeat(96)),
        ] {
            assert!(key.len() <= max, "{} bytes", key.len());
        }
    }

    #[test]
    fn court_components_do_not_prefix_each_other() {
        let a = CourtCode::new("京01").expect("valid");
        let b = CourtCode::new("京010").expect("valid");
        assert!(!court_case_prefix(&b).starts_with(&court_case_prefix(&a)));
    }
}
