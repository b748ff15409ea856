//! Receipts: what executing a committed transaction did.
//!
//! A transaction that is valid (signature, chain, nonce, a registered active signer, a
//! well-formed act) is committed whether or not its act succeeds; the receipt says which. The
//! codes themselves belong to the judicial ledger (`courtledger_ledger::Code`); here a code is a
//! `u16`, 0 for success.

use courtledger_codec::{decode_exact, write, Decode, DecodeError, Encode, Reader};
use courtledger_crypto::Digest;

use crate::TxId;

/// Encoded length of a [`Receipt`]: tx id, index, height, code.
pub const RECEIPT_BYTES: usize = 32 + 4 + 8 + 2;

/// The receipt code of a successful act.
pub const CODE_OK: u16 = 0;

/// The outcome of one committed transaction.
///
/// Encoded as `[32] tx id ‖ u32 index ‖ u64 height ‖ u16 code`, big-endian (46 bytes). A block
/// header's `results_root` is the RFC 9162 root over `SHA-256(0x00 ‖ encode(receipt))` for the
/// block's receipts in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Receipt {
    /// The transaction's id.
    pub tx_id: TxId,
    /// Its 0-based position in the block.
    pub index: u32,
    /// The block's height.
    pub height: u64,
    /// [`CODE_OK`], or the ledger's code for why the act failed.
    pub code: u16,
}

impl Receipt {
    /// Decodes a receipt from untrusted bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode_exact(bytes, RECEIPT_BYTES)
    }

    /// Whether the act succeeded.
    pub fn is_ok(&self) -> bool {
        self.code == CODE_OK
    }
}

impl Encode for Receipt {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.tx_id.encode_to(out);
        write::u32(out, self.index);
        write::u64(out, self.height);
        write::u16(out, self.code);
    }
}

impl Decode for Receipt {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            tx_id: Digest::decode_from(reader)?,
            index: reader.u32("receipt index")?,
            height: reader.u64("receipt height")?,
            code: reader.u16("receipt code")?,
        })
    }
}
