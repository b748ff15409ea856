//! Validator-set changes: admission, recording, activation at the named height, headers.

use courtledger_chain::{
    activated_changes, build_block, check_tx, BlockError, SetChangeReject, SetState, TxReject,
};
use courtledger_ledger::Code;
use courtledger_types::{
    CourtCode, SetChange, SetChangeError, SetMember, SignedSetChange, SignedTransaction,
    Transaction, Validator, ValidatorSet, CODE_OK,
};

use crate::support::{chain_id, key, tx, Chain, Fixture};

fn member(n: u8, power: u64) -> SetMember {
    SetMember {
        court_code: CourtCode::new(&format!("京010{n}")).unwrap(),
        validator: Validator {
            public_key: key(n).public_key(),
            voting_power: power,
        },
        p2p_address: format!("127.0.0.1:{}", 7000 + u16::from(n)),
    }
}

/// A change from `from` to the members `to` (keys `key(n)`, power 1), activating at
/// `activation`, approved by the validators at `approvers` (indices into `from`, whose keys are
/// `key(index + 1)` for the genesis set of the fixture).
fn change(from: &ValidatorSet, to: &[u8], activation: u64, approvers: &[u16]) -> SignedSetChange {
    let change = SetChange {
        from_set_hash: from.hash(),
        activation_height: activation,
        members: to.iter().map(|n| member(*n, 1)).collect(),
    };
    let approvals = approvers
        .iter()
        .map(|index| {
            let public_key = from.get(*index).unwrap().public_key;
            let n = (1..=20u8)
                .find(|n| key(*n).public_key() == public_key)
                .unwrap();
            change.approve(&key(n), &chain_id(), *index)
        })
        .collect();
    SignedSetChange { change, approvals }
}

fn submit(signer: u8, nonce: u64, change: &SignedSetChange) -> SignedTransaction {
    Transaction {
        signer: key(signer).public_key(),
        nonce,
        payload: change.to_payload(),
    }
    .sign(&key(signer), &chain_id())
}

fn set_of(members: &[u8]) -> ValidatorSet {
    ValidatorSet::new(
        members
            .iter()
            .map(|n| Validator {
                public_key: key(*n).public_key(),
                voting_power: 1,
            })
            .collect(),
    )
    .unwrap()
}

#[test]
fn a_fifth_validator_joins_at_the_activation_height() {
    let fixture = Fixture::new();
    let genesis = fixture.validators.clone();
    let five = set_of(&[1, 2, 3, 4, 5]);
    let mut chain = Chain::new(&fixture);
    let add = change(&genesis, &[1, 2, 3, 4, 5], 4, &[0, 1, 3]);

    let block1 = chain.extend(vec![submit(2, 1, &add)]);
    let (_, execution) = chain.build(Vec::new());
    assert_eq!(block1.txs.len(), 1, "the change is admitted");
    assert_eq!(block1.header.validators_hash, genesis.hash());
    assert_eq!(block1.header.next_validators_hash, genesis.hash());
    assert_eq!(execution.validators, genesis);
    let pending = SetState::load(&chain.state, &genesis).unwrap();
    assert_eq!(pending.current, genesis);
    assert_eq!(pending.pending.as_ref(), Some(&add));

    // Block 3 is the last of the old set: its header names the new set as the next one.
    let block2 = chain.extend(vec![tx(10, 1, b"a")]);
    assert_eq!(block2.header.next_validators_hash, genesis.hash());
    let block3 = chain.extend(Vec::new());
    assert_eq!(block3.header.validators_hash, genesis.hash());
    assert_eq!(block3.header.next_validators_hash, five.hash());
    let after = SetState::load(&chain.state, &genesis).unwrap();
    assert_eq!(after.current, five);
    assert_eq!(after.activated, 1);
    assert_eq!(after.pending, None);
    assert_eq!(activated_changes(&chain.state).unwrap(), vec![add]);

    // Block 4 is the new set's: the new validator may propose it.
    let (block4, built) = build_block(
        &fixture.ctx(),
        &chain.parent,
        &chain.state,
        Vec::new(),
        key(5).public_key(),
        chain.next_time(),
    );
    assert_eq!(block4.header.validators_hash, five.hash());
    assert_eq!(block4.header.next_validators_hash, five.hash());
    assert_eq!(chain.validate(&block4).unwrap(), built);
}

#[test]
fn a_validator_that_left_may_no_longer_propose() {
    let fixture = Fixture::new();
    let genesis = fixture.validators.clone();
    let mut chain = Chain::new(&fixture);
    // Validator 4 leaves; the rest keep power 1. Activation right after the recording block.
    let remove = change(&genesis, &[1, 2, 3], 2, &[0, 1, 2]);
    let block1 = chain.extend(vec![submit(1, 1, &remove)]);
    assert_eq!(
        block1.header.next_validators_hash,
        set_of(&[1, 2, 3]).hash()
    );
    let (block2, _) = build_block(
        &fixture.ctx(),
        &chain.parent,
        &chain.state,
        Vec::new(),
        key(4).public_key(),
        chain.next_time(),
    );
    assert!(matches!(
        chain.validate(&block2),
        Err(BlockError::ProposerNotValidator { .. })
    ));
    // And its transactions as a validator (a further change) are refused.
    let again = change(&set_of(&[1, 2, 3]), &[1, 2, 3, 4], 9, &[0, 1, 2]);
    assert_eq!(
        check_tx(&fixture.ctx().rules(), &chain.state, &submit(4, 1, &again)),
        Err(TxReject::SetChange(SetChangeReject::NotAValidator))
    );
    assert_eq!(
        check_tx(&fixture.ctx().rules(), &chain.state, &submit(1, 2, &again)),
        Ok(())
    );
}

#[test]
fn admission_refuses_each_flaw_with_its_reason() {
    let fixture = Fixture::new();
    let genesis = fixture.validators.clone();
    let mut chain = Chain::new(&fixture);
    let ctx = fixture.ctx();
    let rules = ctx.rules();
    let reject = |tx: &SignedTransaction, state: &courtledger_chain::MemoryState| {
        check_tx(&rules, state, tx)
    };
    let good = change(&genesis, &[1, 2, 3, 4, 5], 10, &[0, 1, 2]);
    assert_eq!(
        reject(&submit(9, 1, &good), &chain.state),
        Err(TxReject::SetChange(SetChangeReject::NotAValidator))
    );
    assert_eq!(
        reject(
            &submit(1, 1, &change(&genesis, &[1, 2, 3, 4, 5], 10, &[0, 1])),
            &chain.state
        ),
        Err(TxReject::SetChange(SetChangeReject::Approval(
            SetChangeError::NoQuorum {
                approved: 2,
                total: 4
            }
        )))
    );
    let mut forged = good.clone();
    forged.change.activation_height = 11;
    assert_eq!(
        reject(&submit(1, 1, &forged), &chain.state),
        Err(TxReject::SetChange(SetChangeReject::Approval(
            SetChangeError::BadSignature { index: 0 }
        )))
    );
    let mut malformed = submit(1, 1, &good);
    malformed.tx.payload.push(0);
    let malformed = Transaction {
        signer: key(1).public_key(),
        nonce: 1,
        payload: malformed.tx.payload,
    }
    .sign(&key(1), &chain_id());
    assert!(matches!(
        reject(&malformed, &chain.state),
        Err(TxReject::SetChange(SetChangeReject::Malformed(_)))
    ));

    // One change pending at a time; a stale change (for the old set) after activation.
    chain.extend(vec![submit(1, 1, &good)]);
    let second = change(&genesis, &[1, 2, 3], 20, &[0, 1, 2]);
    assert_eq!(
        reject(&submit(2, 1, &second), &chain.state),
        Err(TxReject::SetChange(SetChangeReject::Pending {
            activation_height: 10
        }))
    );
    // A block may not carry two changes either: the builder skips the second.
    let (block, _) = chain.build(vec![submit(2, 1, &second)]);
    assert!(block.txs.is_empty());
}

#[test]
fn an_activation_height_already_passed_or_too_far_is_committed_as_failed() {
    let fixture = Fixture::new();
    let genesis = fixture.validators.clone();
    let mut chain = Chain::new(&fixture);
    chain.extend(Vec::new());
    chain.extend(Vec::new());
    // Recorded in block 3, activating at 3: too late.
    let late = change(&genesis, &[1, 2, 3, 4, 5], 3, &[0, 1, 2]);
    let far = change(
        &genesis,
        &[1, 2, 3, 4, 5],
        3 + courtledger_types::limits::MAX_SET_CHANGE_DELAY + 1,
        &[0, 1, 2],
    );
    let (block, execution) = chain.build(vec![submit(1, 1, &late), submit(1, 2, &far)]);
    assert_eq!(block.txs.len(), 2);
    assert_eq!(execution.receipts[0].code, Code::DeadlinePassed.number());
    assert_eq!(execution.receipts[1].code, Code::InvalidArgument.number());
    chain.commit(&block, &chain.validate(&block).unwrap());
    let sets = SetState::load(&chain.state, &genesis).unwrap();
    assert_eq!((sets.current, sets.pending), (genesis.clone(), None));

    // At the furthest allowed height it is recorded.
    let furthest = change(
        &genesis,
        &[1, 2, 3, 4, 5],
        4 + courtledger_types::limits::MAX_SET_CHANGE_DELAY,
        &[0, 1, 2],
    );
    let (_, execution) = chain.build(vec![submit(1, 3, &furthest)]);
    assert_eq!(execution.receipts[0].code, CODE_OK);
}

#[test]
fn a_chain_of_changes_follows_each_set_in_turn() {
    let fixture = Fixture::new();
    let genesis = fixture.validators.clone();
    let mut chain = Chain::new(&fixture);
    let first = change(&genesis, &[1, 2, 3, 4, 5], 2, &[0, 1, 2]);
    chain.extend(vec![submit(1, 1, &first)]);
    let five = set_of(&[1, 2, 3, 4, 5]);
    // The old set's approvals no longer count: 3 of 5 is not more than two thirds.
    let weak = change(&five, &[2, 3, 4, 5], 5, &[0, 1, 2]);
    assert!(matches!(
        check_tx(&fixture.ctx().rules(), &chain.state, &submit(1, 2, &weak)),
        Err(TxReject::SetChange(SetChangeReject::Approval(
            SetChangeError::NoQuorum { .. }
        )))
    ));
    let second = change(&five, &[2, 3, 4, 5], 5, &[0, 1, 2, 4]);
    chain.extend(vec![submit(1, 2, &second)]);
    chain.extend(Vec::new());
    let block4 = chain.extend(Vec::new());
    assert_eq!(
        block4.header.next_validators_hash,
        set_of(&[2, 3, 4, 5]).hash()
    );
    assert_eq!(
        activated_changes(&chain.state).unwrap(),
        vec![first, second]
    );
}

#[test]
fn a_pending_change_past_its_activation_height_is_damaged_state() {
    let fixture = Fixture::new();
    let genesis = fixture.validators.clone();
    let mut chain = Chain::new(&fixture);
    chain.extend(Vec::new());
    chain.extend(Vec::new());
    // Written as if activation had been skipped: the next block is 3, the change names 2.
    let stale = change(&genesis, &[1, 2, 3, 4, 5], 2, &[0, 1, 2]);
    chain.state.apply(&[courtledger_chain::StateChange {
        key: courtledger_chain::keys::VALIDATORS_PENDING.to_vec(),
        value: Some(courtledger_codec::Encode::to_bytes(&stale)),
    }]);
    let built = courtledger_chain::try_build_block(
        &fixture.ctx(),
        &chain.parent,
        &chain.state,
        Vec::new(),
        key(1).public_key(),
        chain.next_time(),
    );
    assert!(matches!(
        built,
        Err(courtledger_chain::ExecError::CorruptState(_))
    ));
}
