//! Fixtures of courtledger's benchmarks, shared by the criterion benches (`benches/`) and the
//! machine-bounds binary (`courtledger-bench-bounds`, run by `scripts/bench`).
//!
//! Everything is deterministic (keys from fixed seeds, fixed times), so two runs measure the
//! same work:
//!
//! - [`Ledger`]: a chain of the judicial ledger executed by `courtledger_chain` over a
//!   [`MemoryState`]: a registrar listed in genesis registers `parties` party identities in
//!   block 1; [`Ledger::filings`] then signs case filings by those parties, built like the load
//!   of `courtledger bench` (`client/src/bench.rs`): a civil case against one or two
//!   unregistered defendants, with the SHA-256 of a complaint and a claim summary and one to
//!   three attachments (300 to 600 bytes per transaction). [`Ledger::decide`] commits a block
//!   of the next filings and advances the ledger, so successive blocks extend one chain; each
//!   decided block comes as the node stores it ([`decided`]: a [`CommittedBlock`] with a
//!   certificate of three of the four validators), and block 1 too ([`Ledger::block1`]), so
//!   a store of the fixture chain can be filled from height 1.
//! - [`Vector`]: a checked-in proof bundle of `crates/proof/tests/vectors/` and the genesis it
//!   verifies against.
//!
//! See `docs/performance.md`, "Reproducing".

use std::path::{Path, PathBuf};

use courtledger_chain::{
    build_block, validate_block, BlockError, ChainContext, Execution, LedgerApp, MemoryState,
    Parent,
};
use courtledger_codec::Encode;
use courtledger_crypto::{sha256, ChainId, SigningKey};
use courtledger_ledger::{Act, IdentityId};
use courtledger_proof::ProofBundle;
use courtledger_storage::{CommittedBlock, StateChange};
use courtledger_types::peer_id::peer_id_of;
use courtledger_types::{
    Block, BlockHeader, CommitCertificate, CommitSignature, CourtCode, Genesis, SignedTransaction,
    Transaction, ValidatorSet,
};

/// Block 1's time: 2026-03-02T01:00:00Z.
pub const T0: u64 = 1_772_413_200_000;

/// The courts of the fixture chain; each runs one of the four validators.
const COURTS: [(&str, &str, &str, Option<&str>); 4] = [
    ("0000", "Supreme People's Court", "Supreme", None),
    ("京", "Beijing High People's Court", "High", Some("0000")),
    (
        "京01",
        "Beijing No. 1 Intermediate People's Court",
        "Intermediate",
        Some("京"),
    ),
    (
        "京0105",
        "Beijing Chaoyang District People's Court",
        "Basic",
        Some("京01"),
    ),
];

/// The basic court at which the fixture cases are filed.
pub const FILING_COURT: &str = "京0105";

/// A key derived from a label and a number: the same on every run.
pub fn key(label: &str, n: u64) -> SigningKey {
    let seed = sha256(&[b"courtledger-bench/", label.as_bytes(), &n.to_be_bytes()].concat());
    SigningKey::from_seed(&seed.0)
}

/// The key of validator `i` (0 to 3).
pub fn validator_key(i: u64) -> SigningKey {
    key("validator", i)
}

/// The key of the registrar listed in genesis (the filing office of 京).
pub fn registrar_key() -> SigningKey {
    key("registrar", 0)
}

/// The fixture genesis: four courts that each run a validator, one registrar, blocks of up to
/// 10 000 transactions and 8 MiB.
pub fn genesis() -> Genesis {
    let courts: Vec<serde_json::Value> = COURTS
        .iter()
        .map(|(code, name, level, parent)| {
            let mut court = serde_json::json!({ "code": code, "name": name, "level": level });
            if let Some(parent) = parent {
                court["parent"] = serde_json::json!(parent);
            }
            court
        })
        .collect();
    let validators: Vec<serde_json::Value> = (0u16..4)
        .map(|i| {
            let public_key = validator_key(u64::from(i)).public_key();
            serde_json::json!({
                "court_code": COURTS[usize::from(i)].0,
                "public_key": public_key.to_string(),
                "peer_id": peer_id_of(&public_key),
                "p2p_address": format!("127.0.0.1:{}", 27000 + i),
                "api_address": format!("127.0.0.1:{}", 27100 + i),
                "voting_power": 1,
            })
        })
        .collect();
    let genesis = serde_json::json!({
        "format_version": 1,
        "chain_name": "courtledger-bench",
        "genesis_time": "2026-03-01T00:00:00Z",
        "courts": courts,
        "validators": validators,
        "registrars": [{
            "court_code": "京",
            "name": "Beijing High People's Court filing office",
            "public_key": registrar_key().public_key().to_string(),
        }],
        "consensus": {
            "timeout_propose_ms": 1000, "timeout_prevote_ms": 500, "timeout_precommit_ms": 500,
            "timeout_delta_ms": 250, "max_block_txs": 10000, "max_block_bytes": 8388608,
            "max_clock_drift_ms": 2000
        }
    });
    Genesis::from_json(&genesis.to_string()).expect("the fixture genesis is valid")
}

/// `act` signed by `key` with `nonce` for `chain_id`.
pub fn sign(key: &SigningKey, nonce: u64, act: &Act, chain_id: &ChainId) -> SignedTransaction {
    Transaction {
        signer: key.public_key(),
        nonce,
        payload: act.to_bytes(),
    }
    .sign(key, chain_id)
}

/// The registrar's registration of the party with `key`: `courtledger bench`'s registration,
/// with the person drawn from `n` so that fixtures are deterministic.
pub fn registration(key: &SigningKey, n: u64, chain_id: &ChainId) -> Act {
    let salt = sha256(&[b"salt".as_slice(), &n.to_be_bytes()].concat()).0;
    courtledger_client::bench::registration(key, salt, chain_id)
}

/// A civil case filing: `courtledger bench`'s load.
pub use courtledger_client::bench::filing;

/// One signed case filing (its signer need not be registered: for the signature, id and
/// decoding benches).
pub fn sample_filing() -> SignedTransaction {
    let chain_id = genesis().chain_id();
    let court = CourtCode::new(FILING_COURT).expect("a court code");
    let party = key("party", 0);
    let act = filing(sha256(b"a registration"), &court, &sha256(b"sample").0);
    sign(&party, 1, &act, &chain_id)
}

/// A certificate for `header` in round 0, signed by the first three fixture validators in
/// `validators`' order: three of four units of power, a quorum, as the node's certificates
/// usually hold.
///
/// # Panics
/// If fewer than three fixture validators are in `validators`.
pub fn certificate(header: &BlockHeader, validators: &ValidatorSet) -> CommitCertificate {
    let mut certificate = CommitCertificate {
        height: header.height,
        round: 0,
        block_id: header.id(),
        signatures: Vec::new(),
    };
    let mut signers: Vec<(u16, SigningKey)> = (0..4)
        .map(validator_key)
        .filter_map(|key| Some((validators.index_of(&key.public_key())?, key)))
        .collect();
    signers.sort_by_key(|(index, _)| *index);
    assert!(signers.len() >= 3, "the fixture validators are in the set");
    for (index, key) in signers.into_iter().take(3) {
        let vote = certificate
            .precommit(validators, index)
            .expect("an index of the set");
        certificate.signatures.push(CommitSignature {
            validator_index: index,
            signature: vote.sign(&key, &header.chain_id).signature,
        });
    }
    certificate
}

/// A decided block as the node stores it (`node/src/driver.rs`): the block, a [`certificate`]
/// of the validator set in force for it, and its execution's receipts, state changes and
/// history-log nodes.
pub fn decided(block: Block, execution: Execution) -> CommittedBlock {
    let certificate = certificate(&block.header, &execution.validators);
    CommittedBlock {
        block,
        certificate,
        receipts: execution.receipts,
        log_nodes: execution.log_nodes,
        state_changes: execution
            .changes
            .into_iter()
            .map(|change| StateChange {
                key: change.key,
                value: change.value,
            })
            .collect(),
    }
}

/// A registered party of the fixture chain.
#[derive(Debug, Clone)]
pub struct Party {
    /// Its key.
    pub key: SigningKey,
    /// Its identity id (the id of its registration).
    pub id: IdentityId,
}

/// The fixture chain after block 1, which registered the parties, and after the blocks of
/// filings committed since by [`Ledger::decide`] (none on a new ledger).
#[derive(Debug, Clone)]
pub struct Ledger {
    /// Its genesis.
    pub genesis: Genesis,
    /// The judicial ledger of that genesis.
    pub app: LedgerApp,
    /// The committed state after the last block.
    pub state: MemoryState,
    /// The last block: block 1 on a new ledger.
    pub parent: Parent,
    /// The parties registered in block 1.
    pub parties: Vec<Party>,
    /// Block 1 as the node stores it ([`decided`]): the first block appended to a store of
    /// this chain.
    pub block1: CommittedBlock,
    /// How many filings of [`Ledger::filings`] the blocks committed by [`Ledger::decide`]
    /// held: the next filings follow them (nonces and contents).
    pub filed: usize,
}

impl Ledger {
    /// The chain whose block 1 registers `parties` parties (at least one).
    ///
    /// # Panics
    /// If a registration is not committed with success: the fixture is broken.
    pub fn new(parties: usize) -> Self {
        let genesis = genesis();
        let chain_id = genesis.chain_id();
        let app = LedgerApp::new(&genesis);
        let registrar = registrar_key();
        let mut keys = Vec::with_capacity(parties);
        let mut txs = Vec::with_capacity(parties);
        for n in 0..u64::try_from(parties.max(1)).expect("a count") {
            let party = key("party", n);
            txs.push(sign(
                &registrar,
                n + 1,
                &registration(&party, n, &chain_id),
                &chain_id,
            ));
            keys.push(party);
        }
        let ids: Vec<IdentityId> = txs.iter().map(SignedTransaction::id).collect();
        let mut state = MemoryState::new();
        let ctx = ChainContext::from_genesis(&genesis, &app);
        let (block, execution) = build_block(
            &ctx,
            &Parent::genesis(&ctx),
            &state,
            txs,
            validator_key(0).public_key(),
            T0,
        );
        assert_eq!(
            block.txs.len(),
            keys.len(),
            "every registration is admitted"
        );
        assert!(
            execution.receipts.iter().all(|r| r.is_ok()),
            "every registration succeeds"
        );
        state.apply(&execution.changes);
        let parent = Parent::of(&block.header);
        let block1 = decided(block, execution);
        let parties = keys
            .into_iter()
            .zip(ids)
            .map(|(key, id)| Party { key, id })
            .collect();
        Self {
            genesis,
            app,
            state,
            parent,
            parties,
            block1,
            filed: 0,
        }
    }

    /// The chain context (genesis and ledger).
    pub fn ctx(&self) -> ChainContext<'_> {
        ChainContext::from_genesis(&self.genesis, &self.app)
    }

    /// `count` case filings for the next block: the sequence's filings `filed ..`, where filing
    /// `n` is party `n mod parties`'s, with nonces 1, 2, 3, ... per party in sequence order
    /// (on a new ledger, filings `0 .. count`).
    pub fn filings(&self, count: usize) -> Vec<SignedTransaction> {
        let chain_id = self.genesis.chain_id();
        let court = CourtCode::new(FILING_COURT).expect("a court code");
        (self.filed..self.filed + count)
            .map(|n| {
                let party = &self.parties[n % self.parties.len()];
                let nonce = 1 + u64::try_from(n / self.parties.len()).expect("a count");
                let number = u64::try_from(n).expect("a count");
                let seed = sha256(&[b"filing".as_slice(), &number.to_be_bytes()].concat()).0;
                sign(
                    &party.key,
                    nonce,
                    &filing(party.id, &court, &seed),
                    &chain_id,
                )
            })
            .collect()
    }

    /// The next block's time (block 2's on a new ledger): a minute after the last block.
    pub fn next_time_ms(&self) -> u64 {
        self.parent.time_ms + 60_000
    }

    /// Builds the next block (block 2 on a new ledger) from `txs` (executing them) as
    /// validator 1 would propose it. The ledger does not advance: see [`Ledger::decide`].
    pub fn build(&self, txs: Vec<SignedTransaction>) -> (Block, Execution) {
        build_block(
            &self.ctx(),
            &self.parent,
            &self.state,
            txs,
            validator_key(1).public_key(),
            self.next_time_ms(),
        )
    }

    /// Validates `block` as the next block (executing it again); with `signatures_verified`, as a
    /// validator whose mempool already verified every signature (the node's common case),
    /// otherwise verifying them all as one batch.
    pub fn validate(
        &self,
        block: &Block,
        signatures_verified: bool,
    ) -> Result<Execution, BlockError> {
        validate_block(
            &self.ctx(),
            &self.parent,
            &self.state,
            block,
            self.next_time_ms(),
            &|_| signatures_verified,
        )
    }

    /// Builds the next block from the next `count` [`Ledger::filings`], commits it (applies
    /// its state changes; it becomes the parent) and returns it as the node stores it.
    ///
    /// # Panics
    /// If a filing is not admitted or fails: the fixture is broken.
    pub fn decide(&mut self, count: usize) -> CommittedBlock {
        let (block, execution) = self.build(self.filings(count));
        assert_eq!(block.txs.len(), count, "every filing is admitted");
        assert!(
            execution.receipts.iter().all(|r| r.is_ok()),
            "every filing succeeds"
        );
        self.state.apply(&execution.changes);
        self.parent = Parent::of(&block.header);
        self.filed += count;
        decided(block, execution)
    }

    /// [`Ledger::decide`] `blocks` times: the next `blocks` blocks of `count` filings each, in
    /// chain order.
    pub fn decide_many(&mut self, blocks: usize, count: usize) -> Vec<CommittedBlock> {
        (0..blocks).map(|_| self.decide(count)).collect()
    }
}

/// The directory of the proof crate's checked-in test vectors.
pub fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/proof/tests/vectors")
}

/// The version 1 vector measured: a case filing in block 2, certified by 3 of the 4 validators.
pub const VECTOR_V1: &str = "valid-file-case";
/// The version 2 vector measured: the same filing with a checkpoint (block 3, certified too).
pub const VECTOR_V2: &str = "valid-v2-file-case";

/// A checked-in proof bundle and the genesis it verifies against.
#[derive(Debug, Clone)]
pub struct Vector {
    /// Its name (the file without `.hex`).
    pub name: String,
    /// The bundle's bytes.
    pub bytes: Vec<u8>,
    /// The bundle, decoded.
    pub bundle: ProofBundle,
    /// `genesis.json` of the vectors.
    pub genesis: Genesis,
}

impl Vector {
    /// Loads `vectors_dir()/NAME.hex` and `genesis.json`, and checks that the bundle verifies.
    pub fn load(name: &str) -> Result<Self, String> {
        let dir = vectors_dir();
        let read = |file: &str| {
            std::fs::read_to_string(dir.join(file))
                .map_err(|error| format!("cannot read {}: {error}", dir.join(file).display()))
        };
        let bytes = hex::decode(read(&format!("{name}.hex"))?.trim())
            .map_err(|error| format!("{name}.hex is not hex: {error}"))?;
        let genesis = Genesis::from_json(&read("genesis.json")?)
            .map_err(|error| format!("the vectors' genesis.json: {error}"))?;
        let bundle = ProofBundle::decode(&bytes)
            .map_err(|error| format!("{name} does not decode: {error}"))?;
        courtledger_proof::verify(&bundle, &genesis)
            .map_err(|error| format!("{name} does not verify: {error}"))?;
        Ok(Self {
            name: name.to_owned(),
            bytes,
            bundle,
            genesis,
        })
    }

    /// The ed25519 signatures that verifying the bundle checks: the transaction's, the
    /// certificate's, the checkpoint certificate's, and each set link's approvals and boundary
    /// certificate. Verifying a bundle can go no faster than this many single verifications.
    pub fn signature_checks(&self) -> usize {
        let bundle = &self.bundle;
        1 + bundle.certificate.signatures.len()
            + bundle
                .checkpoint
                .as_ref()
                .map_or(0, |c| c.certificate.signatures.len())
            + bundle
                .links
                .iter()
                .map(|link| link.change.approvals.len() + link.certificate.signatures.len())
                .sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use courtledger_storage::{MemoryStore, Store};

    use super::*;

    #[test]
    fn filings_execute_and_validate() {
        let ledger = Ledger::new(8);
        let txs = ledger.filings(40);
        for tx in &txs {
            let bytes = tx.to_bytes().len();
            assert!((300..=600).contains(&bytes), "{bytes} bytes");
        }
        let (block, execution) = ledger.build(txs);
        assert_eq!(block.txs.len(), 40, "every filing is admitted");
        assert!(execution.receipts.iter().all(|r| r.is_ok()));
        for verified in [false, true] {
            let validated = ledger.validate(&block, verified).expect("valid block");
            assert_eq!(validated.changes, execution.changes);
        }
    }

    #[test]
    fn decided_blocks_extend_a_store() {
        let mut ledger = Ledger::new(8);
        let chain_id = ledger.genesis.chain_id();
        let mut store = MemoryStore::new(chain_id);
        store.append_block(&ledger.block1).expect("block 1");
        for committed in ledger.decide_many(3, 20) {
            let header = &committed.block.header;
            committed
                .certificate
                .verify(
                    &chain_id,
                    ledger.genesis.validator_set(),
                    header.height,
                    &header.id(),
                )
                .expect("a quorum certificate");
            store.append_block(&committed).expect("the next block");
        }
        assert_eq!(store.last_height(), 4);
        assert_eq!(store.log_size(), 8 + 3 * 20);
        assert_eq!(ledger.filed, 60);
    }

    #[test]
    fn the_measured_vectors_verify() {
        let v1 = Vector::load(VECTOR_V1).expect("version 1 vector");
        assert!(v1.bundle.checkpoint.is_none() && v1.bundle.links.is_empty());
        assert_eq!(v1.signature_checks(), 4);
        let v2 = Vector::load(VECTOR_V2).expect("version 2 vector");
        assert!(v2.bundle.checkpoint.is_some());
    }

    #[test]
    fn sample_filing_is_signed() {
        let tx = sample_filing();
        tx.verify_signature(&genesis().chain_id()).expect("signed");
    }
}
