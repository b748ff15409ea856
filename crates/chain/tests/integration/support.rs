//! Fixtures shared by the integration tests: keys, a small chain, golden files.

use std::path::PathBuf;

use courtledger_chain::AnchorApp;
use courtledger_chain::{
    build_block, validate_block, BlockError, ChainContext, Execution, MemoryState, Parent,
};
use courtledger_crypto::{sha256, ChainId, SigningKey};
use courtledger_types::genesis::ConsensusParams;
use courtledger_types::{Block, SignedTransaction, Transaction, TxId, Validator, ValidatorSet};

/// Genesis time of the fixture chain.
pub const GENESIS_MS: u64 = 1_790_000_000_000;

/// A deterministic key: the seed is `[n; 32]`.
pub fn key(n: u8) -> SigningKey {
    SigningKey::from_seed(&[n; 32])
}

/// The fixture chain id.
pub fn chain_id() -> ChainId {
    ChainId(sha256(b"courtledger-test"))
}

/// A transaction by `key(signer)`, signed for the fixture chain.
pub fn tx(signer: u8, nonce: u64, payload: &[u8]) -> SignedTransaction {
    Transaction {
        signer: key(signer).public_key(),
        nonce,
        payload: payload.to_vec(),
    }
    .sign(&key(signer), &chain_id())
}

/// What a chain context borrows: validators `key(1..=4)`, default parameters.
#[derive(Debug, Clone)]
pub struct Fixture {
    pub chain_id: ChainId,
    pub validators: ValidatorSet,
    pub params: ConsensusParams,
}

impl Fixture {
    pub fn new() -> Self {
        Self::with_validators(4)
    }

    pub fn with_validators(count: u8) -> Self {
        let validators = ValidatorSet::new(
            (1..=count)
                .map(|n| Validator {
                    public_key: key(n).public_key(),
                    voting_power: 1,
                })
                .collect(),
        )
        .unwrap();
        Self {
            chain_id: chain_id(),
            validators,
            params: ConsensusParams::default(),
        }
    }

    pub fn ctx(&self) -> ChainContext<'_> {
        ChainContext {
            chain_id: self.chain_id,
            validators: &self.validators,
            params: &self.params,
            genesis_time_ms: GENESIS_MS,
            app: &AnchorApp,
        }
    }
}

/// A chain being extended: committed state, the last block as parent, every committed id.
#[derive(Debug)]
pub struct Chain<'f> {
    pub fixture: &'f Fixture,
    pub state: MemoryState,
    pub parent: Parent,
    pub committed: Vec<TxId>,
}

impl<'f> Chain<'f> {
    pub fn new(fixture: &'f Fixture) -> Self {
        Self {
            fixture,
            state: MemoryState::new(),
            parent: Parent::genesis(&fixture.ctx()),
            committed: Vec::new(),
        }
    }

    /// The time at which the next block is built: a second after the parent.
    pub fn next_time(&self) -> u64 {
        self.parent.time_ms + 1_000
    }

    /// Builds the next block, proposed by `key(1)`, at [`Chain::next_time`].
    pub fn build(&self, candidates: Vec<SignedTransaction>) -> (Block, Execution) {
        build_block(
            &self.fixture.ctx(),
            &self.parent,
            &self.state,
            candidates,
            key(1).public_key(),
            self.next_time(),
        )
    }

    /// Validates `block` as the next block with the clock at [`Chain::next_time`], checking
    /// every signature.
    pub fn validate(&self, block: &Block) -> Result<Execution, BlockError> {
        validate_block(
            &self.fixture.ctx(),
            &self.parent,
            &self.state,
            block,
            self.next_time(),
            &|_| false,
        )
    }

    /// Commits a validated block.
    pub fn commit(&mut self, block: &Block, execution: &Execution) {
        self.state.apply(&execution.changes);
        self.parent = Parent::of(&block.header);
        self.committed.extend(execution.tx_ids.iter().copied());
    }

    /// Builds, validates and commits the next block from `candidates`.
    pub fn extend(&mut self, candidates: Vec<SignedTransaction>) -> Block {
        let (block, built) = self.build(candidates);
        let validated = self.validate(&block).unwrap();
        assert_eq!(built, validated, "build and validate execute alike");
        self.commit(&block, &validated);
        block
    }
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares `text` with `tests/golden/NAME`; `COURTLEDGER_UPDATE_GOLDEN=1` rewrites it.
pub fn check_golden_text(name: &str, text: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("COURTLEDGER_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, format!("{text}\n")).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|error| {
        panic!(
            "golden fixture {} is missing ({error}); run with COURTLEDGER_UPDATE_GOLDEN=1 once and review it",
            path.display()
        )
    });
    assert_eq!(
        text,
        expected.trim_end(),
        "{name} differs from its golden fixture: a format change must be deliberate"
    );
}

/// Compares `bytes` as hex with `tests/golden/NAME.hex`.
pub fn check_golden(name: &str, bytes: &[u8]) {
    check_golden_text(&format!("{name}.hex"), &hex(bytes));
}
