//! Canonical, bounded binary encoding.
//!
//! Every value that courtledger signs, hashes, sends or stores has exactly one byte encoding,
//! produced by [`Encode`] and read back by [`Decode`]. The rules (also in `docs/encoding.md`):
//!
//! - Integers are fixed width, big-endian: `u8`, `u16`, `u32`, `u64`, `i64`. No `usize` ever
//!   reaches the wire.
//! - `bool` is one byte, `0x00` or `0x01`; any other byte is an error.
//! - Fixed-size byte arrays (digests, keys, signatures) are written as they are, no prefix.
//! - Variable-length byte strings and UTF-8 strings: a `u32` length, then the bytes.
//! - Sequences: a `u32` item count, then the items.
//! - `Option<T>`: one byte `0x00` (none) or `0x01` followed by `T`.
//! - Enums: a `u8` tag, then the variant's fields. Unknown tags are errors.
//! - Structs: their fields in declaration order, nothing between them.
//!
//! Decoding never trusts the input: every length is checked against a bound that the caller
//! supplies (and that bound comes from `courtledger_types::limits`), no allocation is made
//! before the bytes it would hold are known to be present, and [`decode_exact`] rejects
//! trailing bytes. Decoding is strict, so `decode(encode(x)) == x` and
//! `encode(decode(b)) == b` for every `b` that decodes.
//!
//! This crate does no IO and has no dependencies beyond `thiserror`.

use thiserror::Error;

/// Why bytes could not be decoded. Every variant is an input error, never a bug.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// The whole input is larger than the caller allows for this kind of value.
    #[error("input is {len} bytes, more than the limit of {max}")]
    InputTooLarge { len: usize, max: usize },
    /// The input ended before the value did.
    #[error("input ended while reading {what}: needed {needed} more bytes, {remaining} left")]
    UnexpectedEnd {
        what: &'static str,
        needed: usize,
        remaining: usize,
    },
    /// Bytes were left over after the value.
    #[error("{count} trailing bytes after the value")]
    TrailingBytes { count: usize },
    /// A length or count prefix is larger than the bound for that field.
    #[error("{what} has length {len}, more than the limit of {max}")]
    TooLong {
        what: &'static str,
        len: u64,
        max: u64,
    },
    /// A `bool` byte other than 0 or 1.
    #[error("{what}: invalid boolean byte {byte:#04x}")]
    InvalidBool { what: &'static str, byte: u8 },
    /// An enum or option tag that no variant has.
    #[error("{what}: unknown tag {tag}")]
    InvalidTag { what: &'static str, tag: u8 },
    /// A string field that is not valid UTF-8.
    #[error("{what} is not valid UTF-8")]
    InvalidUtf8 { what: &'static str },
    /// A value that is well-formed bytes but violates a rule of its type.
    #[error("{what}: {reason}")]
    Invalid {
        what: &'static str,
        reason: &'static str,
    },
}

/// Writes the canonical encoding of a value.
pub trait Encode {
    /// Appends the canonical encoding of `self` to `out`.
    fn encode_to(&self, out: &mut Vec<u8>);

    /// The canonical encoding of `self` as a new vector.
    fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_to(&mut out);
        out
    }
}

/// Reads a value from its canonical encoding, with every length bounded.
pub trait Decode: Sized {
    /// Reads one value from the front of `reader`.
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError>;
}

/// Decodes exactly one value from `bytes`, refusing inputs over `max_bytes` and trailing bytes.
pub fn decode_exact<T: Decode>(bytes: &[u8], max_bytes: usize) -> Result<T, DecodeError> {
    if bytes.len() > max_bytes {
        return Err(DecodeError::InputTooLarge {
            len: bytes.len(),
            max: max_bytes,
        });
    }
    let mut reader = Reader::new(bytes);
    let value = T::decode_from(&mut reader)?;
    reader.finish()?;
    Ok(value)
}

/// A cursor over untrusted bytes.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// Succeeds only if every byte was read.
    pub fn finish(&self) -> Result<(), DecodeError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes {
                count: self.rest.len(),
            })
        }
    }

    /// Takes the next `count` bytes.
    pub fn take(&mut self, what: &'static str, count: usize) -> Result<&'a [u8], DecodeError> {
        if count > self.rest.len() {
            return Err(DecodeError::UnexpectedEnd {
                what,
                needed: count,
                remaining: self.rest.len(),
            });
        }
        let (head, tail) = self.rest.split_at(count);
        self.rest = tail;
        Ok(head)
    }

    /// Takes a fixed-size array.
    pub fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], DecodeError> {
        let bytes = self.take(what, N)?;
        let mut array = [0u8; N];
        array.copy_from_slice(bytes);
        Ok(array)
    }

    /// Reads a `u8`.
    pub fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.array::<1>(what)?[0])
    }

    /// Reads a big-endian `u16`.
    pub fn u16(&mut self, what: &'static str) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array(what)?))
    }

    /// Reads a big-endian `u32`.
    pub fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array(what)?))
    }

    /// Reads a big-endian `u64`.
    pub fn u64(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array(what)?))
    }

    /// Reads a big-endian two's complement `i64`.
    pub fn i64(&mut self, what: &'static str) -> Result<i64, DecodeError> {
        Ok(i64::from_be_bytes(self.array(what)?))
    }

    /// Reads a strict boolean (0 or 1).
    pub fn bool(&mut self, what: &'static str) -> Result<bool, DecodeError> {
        match self.u8(what)? {
            0 => Ok(false),
            1 => Ok(true),
            byte => Err(DecodeError::InvalidBool { what, byte }),
        }
    }

    /// Reads a `u32` length prefix and checks it against `max`.
    pub fn length(&mut self, what: &'static str, max: u32) -> Result<usize, DecodeError> {
        let len = self.u32(what)?;
        if len > max {
            return Err(DecodeError::TooLong {
                what,
                len: u64::from(len),
                max: u64::from(max),
            });
        }
        usize::try_from(len).map_err(|_| DecodeError::TooLong {
            what,
            len: u64::from(len),
            max: u64::from(max),
        })
    }

    /// Reads a length-prefixed byte string of at most `max` bytes.
    pub fn bytes(&mut self, what: &'static str, max: u32) -> Result<&'a [u8], DecodeError> {
        let len = self.length(what, max)?;
        self.take(what, len)
    }

    /// Reads a length-prefixed byte string of at most `max` bytes into a new vector.
    pub fn byte_vec(&mut self, what: &'static str, max: u32) -> Result<Vec<u8>, DecodeError> {
        Ok(self.bytes(what, max)?.to_vec())
    }

    /// Reads a length-prefixed UTF-8 string of at most `max` bytes.
    pub fn string(&mut self, what: &'static str, max: u32) -> Result<String, DecodeError> {
        let bytes = self.bytes(what, max)?;
        std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|_| DecodeError::InvalidUtf8 { what })
    }

    /// Reads a count-prefixed sequence of at most `max` items.
    ///
    /// Capacity is reserved for no more items than there are bytes left, so a large count in a
    /// small input cannot make the decoder allocate.
    pub fn seq<T: Decode>(&mut self, what: &'static str, max: u32) -> Result<Vec<T>, DecodeError> {
        let count = self.length(what, max)?;
        let mut items = Vec::with_capacity(count.min(self.remaining()));
        for _ in 0..count {
            items.push(T::decode_from(self)?);
        }
        Ok(items)
    }

    /// Reads an option: tag 0 is none, tag 1 is followed by the value.
    pub fn option<T>(
        &mut self,
        what: &'static str,
        read: impl FnOnce(&mut Self) -> Result<T, DecodeError>,
    ) -> Result<Option<T>, DecodeError> {
        match self.u8(what)? {
            0 => Ok(None),
            1 => read(self).map(Some),
            tag => Err(DecodeError::InvalidTag { what, tag }),
        }
    }
}

/// Writers for the pieces of the canonical encoding.
///
/// Lengths are asserted to fit in `u32`: values are built by our own code within the limits, so
/// a longer one is a programming error, not an input error.
pub mod write {
    use super::Encode;

    /// Writes a `u8`.
    pub fn u8(out: &mut Vec<u8>, value: u8) {
        out.push(value);
    }

    /// Writes a big-endian `u16`.
    pub fn u16(out: &mut Vec<u8>, value: u16) {
        out.extend_from_slice(&value.to_be_bytes());
    }

    /// Writes a big-endian `u32`.
    pub fn u32(out: &mut Vec<u8>, value: u32) {
        out.extend_from_slice(&value.to_be_bytes());
    }

    /// Writes a big-endian `u64`.
    pub fn u64(out: &mut Vec<u8>, value: u64) {
        out.extend_from_slice(&value.to_be_bytes());
    }

    /// Writes a big-endian `i64`.
    pub fn i64(out: &mut Vec<u8>, value: i64) {
        out.extend_from_slice(&value.to_be_bytes());
    }

    /// Writes a boolean as one byte.
    pub fn bool(out: &mut Vec<u8>, value: bool) {
        out.push(u8::from(value));
    }

    /// Writes a `u32` length prefix.
    pub fn length(out: &mut Vec<u8>, len: usize) {
        let len = u32::try_from(len).expect("encoded length exceeds u32: a limit was not enforced");
        u32(out, len);
    }

    /// Writes a length-prefixed byte string.
    pub fn bytes(out: &mut Vec<u8>, value: &[u8]) {
        length(out, value.len());
        out.extend_from_slice(value);
    }

    /// Writes a length-prefixed UTF-8 string.
    pub fn string(out: &mut Vec<u8>, value: &str) {
        bytes(out, value.as_bytes());
    }

    /// Writes a count-prefixed sequence.
    pub fn seq<T: Encode>(out: &mut Vec<u8>, items: &[T]) {
        length(out, items.len());
        for item in items {
            item.encode_to(out);
        }
    }

    /// Writes an option.
    pub fn option<T>(out: &mut Vec<u8>, value: Option<&T>, write: impl FnOnce(&mut Vec<u8>, &T)) {
        match value {
            None => out.push(0),
            Some(inner) => {
                out.push(1);
                write(out, inner);
            }
        }
    }
}

macro_rules! int_codec {
    ($($ty:ident),*) => {$(
        impl Encode for $ty {
            fn encode_to(&self, out: &mut Vec<u8>) {
                write::$ty(out, *self);
            }
        }
        impl Decode for $ty {
            fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
                reader.$ty(stringify!($ty))
            }
        }
    )*};
}
int_codec!(u8, u16, u32, u64, i64, bool);

impl<const N: usize> Encode for [u8; N] {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
}

impl<const N: usize> Decode for [u8; N] {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        reader.array("byte array")
    }
}

impl<T: Encode + ?Sized> Encode for &T {
    fn encode_to(&self, out: &mut Vec<u8>) {
        (**self).encode_to(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, PartialEq)]
    struct Sample {
        id: u64,
        flag: bool,
        name: String,
        tags: Vec<u16>,
        note: Option<u32>,
    }

    impl Encode for Sample {
        fn encode_to(&self, out: &mut Vec<u8>) {
            write::u64(out, self.id);
            write::bool(out, self.flag);
            write::string(out, &self.name);
            write::seq(out, &self.tags);
            write::option(out, self.note.as_ref(), |out, v| write::u32(out, *v));
        }
    }

    impl Decode for Sample {
        fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
            Ok(Self {
                id: reader.u64("id")?,
                flag: reader.bool("flag")?,
                name: reader.string("name", 16)?,
                tags: reader.seq("tags", 8)?,
                note: reader.option("note", |r| r.u32("note"))?,
            })
        }
    }

    fn sample() -> Sample {
        Sample {
            id: 7,
            flag: true,
            name: "court".into(),
            tags: vec![1, 2],
            note: Some(9),
        }
    }

    #[test]
    fn golden_layout() {
        let bytes = sample().to_bytes();
        let expected = "0000000000000007\
                        01\
                        00000005 636f757274\
                        00000002 0001 0002\
                        01 00000009"
            .replace(' ', "");
        assert_eq!(hex(&bytes), expected);
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn round_trip() {
        let bytes = sample().to_bytes();
        assert_eq!(decode_exact::<Sample>(&bytes, 1024), Ok(sample()));
    }

    #[test]
    fn rejects_trailing_bytes() {
        let mut bytes = sample().to_bytes();
        bytes.push(0);
        assert_eq!(
            decode_exact::<Sample>(&bytes, 1024),
            Err(DecodeError::TrailingBytes { count: 1 })
        );
    }

    #[test]
    fn rejects_oversized_input_before_reading() {
        let bytes = sample().to_bytes();
        assert!(matches!(
            decode_exact::<Sample>(&bytes, 4),
            Err(DecodeError::InputTooLarge { .. })
        ));
    }

    #[test]
    fn rejects_over_long_fields() {
        let mut long = sample();
        long.name = "x".repeat(17);
        assert!(matches!(
            decode_exact::<Sample>(&long.to_bytes(), 1024),
            Err(DecodeError::TooLong {
                what: "name",
                len: 17,
                max: 16
            })
        ));
        let mut many = sample();
        many.tags = vec![0; 9];
        assert!(matches!(
            decode_exact::<Sample>(&many.to_bytes(), 1024),
            Err(DecodeError::TooLong { what: "tags", .. })
        ));
    }

    #[test]
    fn rejects_non_canonical_bool_and_tag() {
        let mut bytes = sample().to_bytes();
        bytes[8] = 2;
        assert_eq!(
            decode_exact::<Sample>(&bytes, 1024),
            Err(DecodeError::InvalidBool {
                what: "flag",
                byte: 2
            })
        );
        let mut bytes = sample().to_bytes();
        let tag_at = bytes.len() - 5;
        bytes[tag_at] = 7;
        assert_eq!(
            decode_exact::<Sample>(&bytes, 1024),
            Err(DecodeError::InvalidTag {
                what: "note",
                tag: 7
            })
        );
    }

    #[test]
    fn huge_count_in_small_input_does_not_allocate() {
        // A count of u32::MAX with a permissive bound must fail on the missing bytes.
        let mut bytes = Vec::new();
        write::u32(&mut bytes, u32::MAX);
        let mut reader = Reader::new(&bytes);
        let result = reader.seq::<u64>("items", u32::MAX);
        assert!(matches!(result, Err(DecodeError::UnexpectedEnd { .. })));
    }

    proptest! {
        #[test]
        fn any_prefix_fails_cleanly(cut in 0usize..30) {
            let bytes = sample().to_bytes();
            let cut = cut.min(bytes.len() - 1);
            prop_assert!(decode_exact::<Sample>(&bytes[..cut], 1024).is_err());
        }

        #[test]
        fn arbitrary_bytes_never_panic_and_reencode(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(value) = decode_exact::<Sample>(&bytes, 1024) {
                prop_assert_eq!(value.to_bytes(), bytes);
            }
        }
    }
}
