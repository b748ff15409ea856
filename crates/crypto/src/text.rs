//! Hex text forms of fixed-size byte values.

use core::fmt;

use thiserror::Error;

/// Why a hex string could not be parsed into a fixed-size value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HexError {
    /// The string does not have exactly twice as many characters as the value has bytes.
    #[error("expected {expected} hex characters, got {actual}")]
    WrongLength {
        /// Hex characters expected (twice the byte length).
        expected: usize,
        /// Length of the input, in bytes of UTF-8.
        actual: usize,
    },
    /// A character that is not a hex digit (`0-9`, `a-f`, `A-F`).
    #[error("invalid hex character {character:?} at position {index}")]
    InvalidCharacter {
        /// The offending character.
        character: char,
        /// Its byte offset in the input.
        index: usize,
    },
}

/// Parses exactly `2 * N` hex digits (either case) into `N` bytes.
pub(crate) fn parse<const N: usize>(text: &str) -> Result<[u8; N], HexError> {
    let expected = N.saturating_mul(2);
    if text.len() != expected {
        return Err(HexError::WrongLength {
            expected,
            actual: text.len(),
        });
    }
    // Report the first non-hex character ourselves: `hex` reports bytes, not characters, for
    // non-ASCII input.
    if let Some((index, character)) = text.char_indices().find(|(_, c)| !c.is_ascii_hexdigit()) {
        return Err(HexError::InvalidCharacter { character, index });
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(text, &mut out).map_err(|_| HexError::WrongLength {
        expected,
        actual: text.len(),
    })?;
    Ok(out)
}

/// Writes `bytes` as lowercase hex.
pub(crate) fn write(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    for byte in bytes {
        write!(f, "{byte:02x}")?;
    }
    Ok(())
}
