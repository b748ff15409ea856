//! The application the chain executes: what a transaction's payload means.
//!
//! The chain's mechanics (envelope limits, nonces, the history log, receipts, roots, block
//! building and validation) do not depend on what acts mean. They ask an [`Application`]
//! whether a transaction may enter a block and what executing it writes. Production uses
//! [`LedgerApp`], the judicial ledger (`courtledger_ledger`); the chain's own tests use
//! [`AnchorApp`], under which any key may record any non-empty payload.

use courtledger_codec::DecodeError;
use courtledger_crypto::Digest;
use courtledger_ledger::{self as ledger, Invalid, StateView, Write};
use courtledger_types::{Genesis, SignedTransaction, CODE_OK};

use crate::state::StateRead;

/// What executing one admitted transaction's act did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppOutcome {
    /// The receipt code: [`CODE_OK`] or why the act failed.
    pub code: u16,
    /// The act's writes (empty when it failed).
    pub writes: Vec<Write>,
    /// The ids (cases, identities) the act concerns.
    pub subjects: Vec<Digest>,
}

/// The block context of one transaction.
pub use courtledger_ledger::Env;

/// The meaning of payloads. Implementations are pure and deterministic: every validator must
/// reach the same verdicts and writes.
pub trait Application: Send + Sync + std::fmt::Debug {
    /// Checks that need no state (the payload is well-formed).
    fn check_stateless(&self, tx: &SignedTransaction) -> Result<(), Invalid>;

    /// Whether the transaction may enter a block on `state` (besides signature and nonce).
    fn admit(&self, state: &dyn StateRead, tx: &SignedTransaction) -> Result<(), Invalid>;

    /// Executes an admitted transaction's act on `state` (which includes the block's earlier
    /// writes). `Err` when the transaction is not admissible after all (the block is invalid),
    /// or [`Invalid::Corrupt`] when state is damaged.
    fn execute(
        &self,
        state: &dyn StateRead,
        env: &Env<'_>,
        tx: &SignedTransaction,
    ) -> Result<AppOutcome, Invalid>;

    /// The writes block 1 makes before its transactions: the state genesis defines.
    fn genesis_writes(&self) -> &[Write];
}

struct View<'a>(&'a dyn StateRead);

impl StateView for View<'_> {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.0.get(key)
    }
}

/// The judicial ledger as the chain's application.
#[derive(Debug, Clone)]
pub struct LedgerApp {
    genesis_writes: Vec<Write>,
}

impl LedgerApp {
    /// The ledger of the chain that `genesis` starts.
    pub fn new(genesis: &Genesis) -> Self {
        Self {
            genesis_writes: ledger::genesis_writes(genesis),
        }
    }
}

impl Application for LedgerApp {
    fn check_stateless(&self, tx: &SignedTransaction) -> Result<(), Invalid> {
        ledger::Act::decode(&tx.tx.payload)
            .map(|_| ())
            .map_err(Invalid::Malformed)
    }

    fn admit(&self, state: &dyn StateRead, tx: &SignedTransaction) -> Result<(), Invalid> {
        ledger::admit(&View(state), tx).map(|_| ())
    }

    fn execute(
        &self,
        state: &dyn StateRead,
        env: &Env<'_>,
        tx: &SignedTransaction,
    ) -> Result<AppOutcome, Invalid> {
        let view = View(state);
        let (act, signer) = ledger::admit(&view, tx)?;
        Ok(match ledger::execute(&view, env, &signer, &act)? {
            ledger::ActOutcome::Applied { writes, subjects } => AppOutcome {
                code: CODE_OK,
                writes,
                subjects,
            },
            ledger::ActOutcome::Failed { code, subjects } => AppOutcome {
                code: code.number(),
                writes: Vec::new(),
                subjects,
            },
        })
    }

    fn genesis_writes(&self) -> &[Write] {
        &self.genesis_writes
    }
}

/// An application for testing the chain's mechanics: any key may record any non-empty payload,
/// which is written nowhere (the chain still keeps nonces, the log and receipts).
#[derive(Debug, Clone, Copy, Default)]
pub struct AnchorApp;

impl Application for AnchorApp {
    fn check_stateless(&self, tx: &SignedTransaction) -> Result<(), Invalid> {
        if tx.tx.payload.is_empty() {
            return Err(Invalid::Malformed(DecodeError::Invalid {
                what: "anchor payload",
                reason: "empty",
            }));
        }
        Ok(())
    }

    fn admit(&self, _state: &dyn StateRead, tx: &SignedTransaction) -> Result<(), Invalid> {
        self.check_stateless(tx)
    }

    fn execute(
        &self,
        _state: &dyn StateRead,
        _env: &Env<'_>,
        tx: &SignedTransaction,
    ) -> Result<AppOutcome, Invalid> {
        self.check_stateless(tx)?;
        Ok(AppOutcome {
            code: CODE_OK,
            writes: Vec::new(),
            subjects: Vec::new(),
        })
    }

    fn genesis_writes(&self) -> &[Write] {
        &[]
    }
}
