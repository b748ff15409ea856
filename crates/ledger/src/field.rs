//! Field-by-field canonical encoding for the ledger's structs.
//!
//! Each struct field is written in declaration order with the canonical encoding of
//! `courtledger_codec` (`docs/encoding.md`): fixed-width big-endian integers, `u32`-prefixed
//! strings and sequences with a bound per field, option tag 0/1. [`codec_struct!`] declares a
//! struct and its codec from one field list, so the two cannot drift apart.

use courtledger_codec::{write, DecodeError, Reader};
use courtledger_crypto::{Digest, PublicKey, Signature};
use courtledger_types::{CourtCode, CourtLevel};

/// A type that can be a field of a [`codec_struct!`]. `max` bounds variable-length fields
/// (bytes of a string, items of a sequence) and is ignored by fixed-size ones.
pub trait Field: Sized {
    /// Appends the field's encoding.
    fn write_field(&self, out: &mut Vec<u8>);
    /// Reads the field, within `max` where it has a length.
    fn read_field(
        reader: &mut Reader<'_>,
        what: &'static str,
        max: u32,
    ) -> Result<Self, DecodeError>;
}

macro_rules! field_via_codec {
    ($($ty:ty),+ $(,)?) => {
        $(
            impl $crate::field::Field for $ty {
                fn write_field(&self, out: &mut Vec<u8>) {
                    ::courtledger_codec::Encode::encode_to(self, out);
                }
                fn read_field(
                    reader: &mut ::courtledger_codec::Reader<'_>,
                    _what: &'static str,
                    _max: u32,
                ) -> Result<Self, ::courtledger_codec::DecodeError> {
                    <$ty as ::courtledger_codec::Decode>::decode_from(reader)
                }
            }
        )+
    };
}

pub(crate) use field_via_codec;

field_via_codec!(Digest, PublicKey, Signature, CourtCode, CourtLevel);

macro_rules! field_int {
    ($($ty:ident),+) => {
        $(
            impl Field for $ty {
                fn write_field(&self, out: &mut Vec<u8>) {
                    write::$ty(out, *self);
                }
                fn read_field(
                    reader: &mut Reader<'_>,
                    what: &'static str,
                    _max: u32,
                ) -> Result<Self, DecodeError> {
                    reader.$ty(what)
                }
            }
        )+
    };
}

field_int!(u8, u16, u32, u64, bool);

impl Field for String {
    fn write_field(&self, out: &mut Vec<u8>) {
        write::string(out, self);
    }
    fn read_field(
        reader: &mut Reader<'_>,
        what: &'static str,
        max: u32,
    ) -> Result<Self, DecodeError> {
        reader.string(what, max)
    }
}

impl<T: Field> Field for Vec<T> {
    fn write_field(&self, out: &mut Vec<u8>) {
        write::length(out, self.len());
        for item in self {
            item.write_field(out);
        }
    }
    fn read_field(
        reader: &mut Reader<'_>,
        what: &'static str,
        max: u32,
    ) -> Result<Self, DecodeError> {
        let count = reader.length(what, max)?;
        let mut items = Vec::with_capacity(count.min(reader.remaining()));
        for _ in 0..count {
            items.push(T::read_field(reader, what, 0)?);
        }
        Ok(items)
    }
}

impl<T: Field> Field for Option<T> {
    fn write_field(&self, out: &mut Vec<u8>) {
        write::option(out, self.as_ref(), |out, value| value.write_field(out));
    }
    fn read_field(
        reader: &mut Reader<'_>,
        what: &'static str,
        max: u32,
    ) -> Result<Self, DecodeError> {
        reader.option(what, |reader| T::read_field(reader, what, max))
    }
}

/// Declares a struct whose canonical encoding is its fields in order. A field may give a bound
/// (`=> MAX`) for its length; fields without one must be fixed-size.
macro_rules! codec_struct {
    (
        $(#[$meta:meta])*
        pub struct $name:ident ($what:literal) {
            $($(#[$fmeta:meta])* pub $field:ident : $ty:ty $(=> $max:expr)?,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name {
            $($(#[$fmeta])* pub $field: $ty,)*
        }

        impl ::courtledger_codec::Encode for $name {
            fn encode_to(&self, out: &mut Vec<u8>) {
                $($crate::field::Field::write_field(&self.$field, out);)*
                let _ = out;
            }
        }

        impl ::courtledger_codec::Decode for $name {
            fn decode_from(
                reader: &mut ::courtledger_codec::Reader<'_>,
            ) -> Result<Self, ::courtledger_codec::DecodeError> {
                let _ = &reader;
                Ok(Self {
                    $($field: <$ty as $crate::field::Field>::read_field(
                        reader,
                        concat!($what, ".", stringify!($field)),
                        $crate::field::codec_struct!(@max $($max)?),
                    )?,)*
                })
            }
        }

        impl $crate::field::Field for $name {
            fn write_field(&self, out: &mut Vec<u8>) {
                ::courtledger_codec::Encode::encode_to(self, out);
            }
            fn read_field(
                reader: &mut ::courtledger_codec::Reader<'_>,
                _what: &'static str,
                _max: u32,
            ) -> Result<Self, ::courtledger_codec::DecodeError> {
                <Self as ::courtledger_codec::Decode>::decode_from(reader)
            }
        }
    };
    (@max $max:expr) => { $max };
    (@max) => { 0 };
}

pub(crate) use codec_struct;
