//! Votes: a validator's prevote or precommit for a block (or for nothing) at a height and round.

use courtledger_codec::{decode_exact, write, Decode, DecodeError, Encode, Reader};
use courtledger_crypto::{
    verify, ChainId, Domain, PublicKey, Signature, SignatureError, SigningKey,
};

use crate::block::BlockId;
use crate::limits::MAX_VOTE_BYTES;

/// The two kinds of Tendermint votes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VoteKind {
    /// First-stage vote.
    Prevote,
    /// Second-stage vote; more than two thirds of precommits for a block commit it.
    Precommit,
}

impl Encode for VoteKind {
    fn encode_to(&self, out: &mut Vec<u8>) {
        write::u8(
            out,
            match self {
                VoteKind::Prevote => 1,
                VoteKind::Precommit => 2,
            },
        );
    }
}

impl Decode for VoteKind {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match reader.u8("vote kind")? {
            1 => Ok(VoteKind::Prevote),
            2 => Ok(VoteKind::Precommit),
            tag => Err(DecodeError::InvalidTag {
                what: "vote kind",
                tag,
            }),
        }
    }
}

/// What a vote says. Signed with [`Domain::Vote`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Vote {
    /// The height voted on.
    pub height: u64,
    /// The round within the height.
    pub round: u32,
    /// Prevote or precommit.
    pub kind: VoteKind,
    /// The block voted for, or `None` for a nil vote.
    pub block_id: Option<BlockId>,
    /// The voter.
    pub validator: PublicKey,
}

impl Vote {
    /// Signs the vote.
    ///
    /// # Panics
    /// If `key` is not the voter's key.
    pub fn sign(self, key: &SigningKey, chain_id: &ChainId) -> SignedVote {
        assert_eq!(
            key.public_key(),
            self.validator,
            "signing a vote with another key"
        );
        let signature = key.sign(Domain::Vote, chain_id, &self.to_bytes());
        SignedVote {
            vote: self,
            signature,
        }
    }

    /// Checks `signature` as the voter's signature over this vote.
    pub fn verify(&self, chain_id: &ChainId, signature: &Signature) -> Result<(), SignatureError> {
        verify(
            &self.validator,
            Domain::Vote,
            chain_id,
            &self.to_bytes(),
            signature,
        )
    }
}

impl Encode for Vote {
    fn encode_to(&self, out: &mut Vec<u8>) {
        write::u64(out, self.height);
        write::u32(out, self.round);
        self.kind.encode_to(out);
        write::option(out, self.block_id.as_ref(), |out, id| id.encode_to(out));
        self.validator.encode_to(out);
    }
}

impl Decode for Vote {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            height: reader.u64("vote height")?,
            round: reader.u32("vote round")?,
            kind: VoteKind::decode_from(reader)?,
            block_id: reader.option("vote block id", BlockId::decode_from)?,
            validator: PublicKey::decode_from(reader)?,
        })
    }
}

/// A vote with its signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SignedVote {
    /// The vote.
    pub vote: Vote,
    /// ed25519 over `Domain::Vote || chain id || encode(vote)`.
    pub signature: Signature,
}

impl SignedVote {
    /// Decodes a signed vote from untrusted bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode_exact(bytes, usize::try_from(MAX_VOTE_BYTES).unwrap_or(usize::MAX))
    }

    /// Checks the signature.
    pub fn verify(&self, chain_id: &ChainId) -> Result<(), SignatureError> {
        self.vote.verify(chain_id, &self.signature)
    }
}

impl Encode for SignedVote {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.vote.encode_to(out);
        self.signature.encode_to(out);
    }
}

impl Decode for SignedVote {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            vote: Vote::decode_from(reader)?,
            signature: Signature::decode_from(reader)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{check_golden, golden_chain_id, key};
    use courtledger_crypto::sha256;

    fn sample(block: Option<BlockId>) -> SignedVote {
        Vote {
            height: 7,
            round: 1,
            kind: VoteKind::Precommit,
            block_id: block,
            validator: key(3).public_key(),
        }
        .sign(&key(3), &golden_chain_id())
    }

    #[test]
    fn round_trip_verify_and_golden() {
        for block in [None, Some(sha256(b"block"))] {
            let vote = sample(block);
            let bytes = vote.to_bytes();
            assert!(bytes.len() <= usize::try_from(MAX_VOTE_BYTES).unwrap());
            assert_eq!(SignedVote::decode(&bytes), Ok(vote));
            assert_eq!(vote.verify(&golden_chain_id()), Ok(()));
            let mut prevote = vote;
            prevote.vote.kind = VoteKind::Prevote;
            assert!(prevote.verify(&golden_chain_id()).is_err());
        }
        check_golden("signed_vote_nil", &sample(None).to_bytes());
        check_golden(
            "signed_vote_block",
            &sample(Some(sha256(b"block"))).to_bytes(),
        );
    }

    #[test]
    fn rejects_bad_tags() {
        let mut bytes = sample(None).to_bytes();
        bytes[12] = 3; // the kind byte follows height (8) and round (4)
        assert!(matches!(
            SignedVote::decode(&bytes),
            Err(DecodeError::InvalidTag { .. })
        ));
    }
}
