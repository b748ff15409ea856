//! Golden fixtures: the receipt encoding and the roots of a fixed tiny block.
//!
//! `COURTLEDGER_UPDATE_GOLDEN=1 cargo test -p courtledger-chain` rewrites them: a deliberate
//! format change, to review in the diff.

use courtledger_chain::{encode_changes, genesis_state_root, Receipt};
use courtledger_codec::{DecodeError, Encode};
use courtledger_crypto::sha256;

use crate::support::{chain_id, check_golden, check_golden_text, tx, Chain, Fixture};

#[test]
fn receipt_encoding() {
    let receipt = Receipt {
        tx_id: sha256(b"courtledger receipt"),
        index: 7,
        height: 42,
        code: 0x0102,
    };
    let bytes = receipt.to_bytes();
    assert_eq!(bytes.len(), 46);
    assert_eq!(&bytes[..32], receipt.tx_id.as_bytes());
    assert_eq!(&bytes[32..], &[0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 42, 1, 2]);
    check_golden("receipt", &bytes);
    assert_eq!(Receipt::decode(&bytes), Ok(receipt));
    let mut long = bytes.clone();
    long.push(0);
    assert!(matches!(
        Receipt::decode(&long),
        Err(DecodeError::InputTooLarge { .. })
    ));
    assert!(matches!(
        Receipt::decode(&bytes[..45]),
        Err(DecodeError::UnexpectedEnd { .. })
    ));
}

/// Block 1 of a one-validator chain (`key(1)`, power 1, genesis time 1,790,000,000,000 ms,
/// chain id `SHA-256("courtledger-test")`) holding one transaction: `key(2)`, nonce 1,
/// payload `"anchor"`, built at genesis time + 1 s.
#[test]
fn tiny_block_roots() {
    let fixture = Fixture::with_validators(1);
    let chain = Chain::new(&fixture);
    let (block, execution) = chain.build(vec![tx(2, 1, b"anchor")]);
    assert_eq!(chain.validate(&block).as_ref(), Ok(&execution));
    check_golden_text(
        "tiny_block.genesis_state_root",
        &genesis_state_root(&chain_id()).to_string(),
    );
    check_golden("tiny_block_tx", &block.txs[0].to_bytes());
    check_golden("tiny_block_receipt", &execution.receipts[0].to_bytes());
    check_golden_text(
        "tiny_block.results_root",
        &execution.results_root.to_string(),
    );
    check_golden("tiny_block_changes", &encode_changes(&execution.changes));
    check_golden_text(
        "tiny_block.state_root",
        &block.header.state_root.to_string(),
    );
    check_golden("tiny_block_header", &block.header.to_bytes());
}
