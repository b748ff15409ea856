//! Wire and log formats of the consensus crate: round trips, strict decoding, golden fixtures.

use std::path::PathBuf;

use courtledger_codec::{DecodeError, Encode};
use courtledger_consensus::messages::{
    PolkaCertificate, RoundCertificate, RoundCertificateKind, RoundVote,
};
use courtledger_consensus::{
    ConsensusMessage, Evidence, Proposal, ProposedBlock, TimeoutId, TimeoutStep, WalEntry,
};
use courtledger_crypto::{sha256, ChainId, SigningKey};
use courtledger_types::{Vote, VoteKind};

fn key(n: u8) -> SigningKey {
    SigningKey::from_seed(&[n; 32])
}

fn chain() -> ChainId {
    ChainId(sha256(b"courtledger-test"))
}

/// Compares with `tests/golden/NAME.hex`; `COURTLEDGER_UPDATE_GOLDEN=1` rewrites it.
fn check_golden(name: &str, bytes: &[u8]) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.hex"));
    let text = hex(bytes);
    if std::env::var_os("COURTLEDGER_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, format!("{text}\n")).expect("write fixture");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("missing fixture {} ({e})", path.display()));
    assert_eq!(
        text,
        expected.trim_end(),
        "{name} differs from its golden fixture"
    );
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn vote(kind: VoteKind, block: Option<u8>, n: u8) -> courtledger_types::vote::SignedVote {
    Vote {
        height: 3,
        round: 1,
        kind,
        block_id: block.map(|b| sha256(&[b])),
        validator: key(n).public_key(),
    }
    .sign(&key(n), &chain())
}

fn proposal(block: u8) -> courtledger_consensus::SignedProposal {
    Proposal {
        height: 3,
        round: 1,
        block_id: sha256(&[block]),
        pol_round: Some(0),
        proposer: key(1).public_key(),
    }
    .sign(&key(1), &chain())
}

fn messages() -> Vec<(&'static str, ConsensusMessage)> {
    vec![
        (
            "message_vote",
            ConsensusMessage::Vote(vote(VoteKind::Prevote, Some(7), 2)),
        ),
        ("message_proposal", ConsensusMessage::Proposal(proposal(7))),
        (
            "message_polka",
            ConsensusMessage::Polka(PolkaCertificate {
                height: 3,
                round: 1,
                block_id: sha256(&[7]),
                signatures: (1..=3)
                    .map(|n| {
                        (
                            key(n).public_key(),
                            vote(VoteKind::Prevote, Some(7), n).signature,
                        )
                    })
                    .collect(),
            }),
        ),
        (
            "message_round",
            ConsensusMessage::Round(RoundCertificate {
                height: 3,
                round: 1,
                kind: RoundCertificateKind::Precommit,
                votes: (1..=3)
                    .map(|n| RoundVote {
                        kind: VoteKind::Precommit,
                        block_id: None,
                        validator: key(n).public_key(),
                        signature: vote(VoteKind::Precommit, None, n).signature,
                    })
                    .collect(),
            }),
        ),
    ]
}

fn wal_entries() -> Vec<(&'static str, WalEntry)> {
    vec![
        (
            "wal_vote",
            WalEntry::Vote(vote(VoteKind::Precommit, Some(7), 2)),
        ),
        ("wal_proposal", WalEntry::Proposal(proposal(7))),
        (
            "wal_proposed_value",
            WalEntry::ProposedValue(ProposedBlock {
                height: 3,
                round: 1,
                valid_round: None,
                proposer: key(1).public_key(),
                block_id: sha256(&[7]),
                valid: true,
            }),
        ),
        (
            "wal_timeout",
            WalEntry::Timeout {
                height: 3,
                timeout: TimeoutId {
                    step: TimeoutStep::Prevote,
                    round: 1,
                },
            },
        ),
    ]
}

#[test]
fn messages_round_trip_and_match_fixtures() {
    for (name, message) in messages() {
        let bytes = message.to_bytes();
        assert_eq!(ConsensusMessage::decode(&bytes), Ok(message), "{name}");
        check_golden(name, &bytes);
    }
}

#[test]
fn wal_entries_round_trip_and_match_fixtures() {
    for (name, entry) in wal_entries() {
        let bytes = entry.to_bytes();
        assert_eq!(WalEntry::decode(&bytes), Ok(entry.clone()), "{name}");
        assert_eq!(entry.height(), 3);
        check_golden(name, &bytes);
    }
}

#[test]
fn decoding_is_strict() {
    for (_, message) in messages() {
        let mut bytes = message.to_bytes();
        bytes.push(0);
        assert_eq!(
            ConsensusMessage::decode(&bytes),
            Err(DecodeError::TrailingBytes { count: 1 })
        );
        let bytes = message.to_bytes();
        for cut in 0..bytes.len() {
            assert!(ConsensusMessage::decode(&bytes[..cut]).is_err());
        }
    }
    assert!(matches!(
        ConsensusMessage::decode(&[9]),
        Err(DecodeError::InvalidTag { .. })
    ));
    assert!(matches!(
        WalEntry::decode(&[0]),
        Err(DecodeError::InvalidTag { .. })
    ));
    let huge = vec![1u8; 70 * 1024];
    assert!(matches!(
        ConsensusMessage::decode(&huge),
        Err(DecodeError::InputTooLarge { .. })
    ));
}

#[test]
fn evidence_verifies_only_real_equivocation() {
    let double_vote = Evidence::DoubleVote(
        vote(VoteKind::Prevote, Some(1), 2),
        vote(VoteKind::Prevote, None, 2),
    );
    assert_eq!(double_vote.verify(&chain()), Ok(()));
    assert_eq!(double_vote.offender(), key(2).public_key());
    check_golden(
        "evidence_double_vote",
        &double_vote.clone().canonical().to_bytes(),
    );
    assert_eq!(
        Evidence::decode(&double_vote.to_bytes()),
        Ok(double_vote.clone())
    );

    let same = Evidence::DoubleVote(
        vote(VoteKind::Prevote, Some(1), 2),
        vote(VoteKind::Prevote, Some(1), 2),
    );
    assert!(same.verify(&chain()).is_err());
    let kinds = Evidence::DoubleVote(
        vote(VoteKind::Prevote, Some(1), 2),
        vote(VoteKind::Precommit, None, 2),
    );
    assert!(kinds.verify(&chain()).is_err());
    let signers = Evidence::DoubleVote(
        vote(VoteKind::Prevote, Some(1), 2),
        vote(VoteKind::Prevote, None, 3),
    );
    assert!(signers.verify(&chain()).is_err());
    let double_proposal = Evidence::DoubleProposal(proposal(1), proposal(2));
    assert_eq!(double_proposal.verify(&chain()), Ok(()));
    let other_chain = ChainId(sha256(b"another chain"));
    assert!(double_proposal.verify(&other_chain).is_err());
    let mut forged = proposal(2);
    forged.signature = proposal(1).signature;
    assert!(Evidence::DoubleProposal(proposal(1), forged)
        .verify(&chain())
        .is_err());
    // Canonical order does not depend on the order seen.
    assert_eq!(
        Evidence::DoubleProposal(proposal(1), proposal(2)).canonical(),
        Evidence::DoubleProposal(proposal(2), proposal(1)).canonical()
    );
}
