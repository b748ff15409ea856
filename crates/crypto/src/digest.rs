//! SHA-256 digests and chain ids.

use core::fmt;
use core::str::FromStr;

use courtledger_codec::{Decode, DecodeError, Encode, Reader};
use sha2::Digest as _;

use crate::text::{self, HexError};

/// Length of a [`Digest`] in bytes.
pub const DIGEST_LEN: usize = 32;

/// A SHA-256 digest.
///
/// Shown (`Display` and `Debug`) as 64 lowercase hex characters; parsed from exactly 64 hex
/// characters of either case; encoded as its 32 bytes, with no prefix.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Digest(pub [u8; DIGEST_LEN]);

impl Digest {
    /// The digest's bytes.
    pub fn as_bytes(&self) -> &[u8; DIGEST_LEN] {
        &self.0
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        text::write(f, &self.0)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        text::write(f, &self.0)
    }
}

impl FromStr for Digest {
    type Err = HexError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        text::parse(s).map(Self)
    }
}

impl Encode for Digest {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
}

impl Decode for Digest {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        reader.array("digest").map(Self)
    }
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> Digest {
    Digest(sha2::Sha256::digest(data).into())
}

/// Incremental SHA-256, for hashing data that is not in one slice.
#[derive(Clone, Default)]
pub struct Sha256Hasher {
    inner: sha2::Sha256,
}

impl Sha256Hasher {
    /// A hasher that has seen no data.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds `data` to the hash; returns the hasher so that calls can be chained.
    pub fn update(&mut self, data: &[u8]) -> &mut Self {
        self.inner.update(data);
        self
    }

    /// The SHA-256 of everything fed so far.
    pub fn finalize(self) -> Digest {
        Digest(self.inner.finalize().into())
    }
}

impl fmt::Debug for Sha256Hasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sha256Hasher").finish_non_exhaustive()
    }
}

/// The identity of one ledger: every signature covers it, so a signature made for one chain is
/// never valid on another.
///
/// Shown, parsed and encoded exactly as a [`Digest`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChainId(pub Digest);

impl ChainId {
    /// The chain id's bytes.
    pub fn as_bytes(&self) -> &[u8; DIGEST_LEN] {
        self.0.as_bytes()
    }
}

impl fmt::Display for ChainId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for ChainId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for ChainId {
    type Err = HexError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(Self)
    }
}

impl Encode for ChainId {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.0.encode_to(out);
    }
}

impl Decode for ChainId {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        reader.array("chain id").map(|bytes| Self(Digest(bytes)))
    }
}
