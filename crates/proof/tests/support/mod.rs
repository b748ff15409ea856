//! A small real chain (the judicial ledger executed by `courtledger_chain`, fixed keys, fixed
//! times), the bundles of its transactions, and every tampered variant with the check that
//! must refuse it. The test vectors in `tests/vectors/` are generated from here.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use courtledger_chain::{build_block, ChainContext, LedgerApp, MemoryState, Parent};
use courtledger_codec::Encode;
use courtledger_crypto::{sha256, ChainId, Digest, Signature, SigningKey};
use courtledger_ledger::act::{
    Attachment, Decision, FileCase, FileRef, PostMessage, RegisterIdentity, ReviewFiling,
    SubmitEvidence,
};
use courtledger_ledger::{
    identity_commitment, sign_possession, Act, AttachmentKind, CaseKind, MessageKind, PartyRef,
    Possession, Role,
};
use courtledger_merkle::{self as merkle, InclusionProof};
use courtledger_proof::{Checkpoint, ProofBundle, SetLink};
use courtledger_types::peer_id::peer_id_of;
use courtledger_types::{
    Block, CommitCertificate, CommitSignature, CourtCode, Genesis, Receipt, SetChange, SetMember,
    SignedSetChange, SignedTransaction, Transaction, Validator, ValidatorSet, CODE_OK,
};

/// 2026-03-02T01:00:00Z (09:00 in Beijing): block 1's time.
pub const T0: u64 = 1_772_413_200_000;

/// The complaint P1 files (its SHA-256 is on the ledger; `tests/vectors/complaint.txt`).
pub const COMPLAINT: &str =
    "Complaint of P1 against P2: unpaid invoice 2026-017, CNY 48,000, due 2026-01-31.\n";
/// The evidence file P1 submits (`tests/vectors/evidence.txt`).
pub const EVIDENCE: &str = "Invoice 2026-017, issued 2026-01-01, CNY 48,000.\n";

/// Validator courts, in set order (keys: seeds 1 to 4).
pub const VALIDATOR_COURTS: [&str; 4] = ["0000", "京", "京01", "京0105"];

pub fn key(seed: u8) -> SigningKey {
    SigningKey::from_seed(&[seed; 32])
}

/// The registrar of 京 (genesis).
pub fn registrar() -> SigningKey {
    key(10)
}
/// Party P1, the plaintiff.
pub fn p1() -> SigningKey {
    key(20)
}
/// Party P2, the defendant.
pub fn p2() -> SigningKey {
    key(21)
}

/// The test genesis: four courts that each run a validator, one registrar.
pub fn genesis_json(chain_name: &str) -> String {
    let courts = [
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
    let courts: Vec<serde_json::Value> = courts
        .iter()
        .map(|(code, name, level, parent)| {
            let mut court = serde_json::json!({ "code": code, "name": name, "level": level });
            if let Some(parent) = parent {
                court["parent"] = serde_json::json!(parent);
            }
            court
        })
        .collect();
    let validators: Vec<serde_json::Value> = VALIDATOR_COURTS
        .iter()
        .enumerate()
        .map(|(i, code)| {
            let public_key = key(u8::try_from(i + 1).unwrap()).public_key();
            serde_json::json!({
                "court_code": code,
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
        "chain_name": chain_name,
        "genesis_time": "2026-03-01T00:00:00Z",
        "courts": courts,
        "validators": validators,
        "registrars": [{
            "court_code": "京",
            "name": "Beijing High People's Court filing office",
            "public_key": registrar().public_key().to_string(),
        }],
        "consensus": {
            "timeout_propose_ms": 1000, "timeout_prevote_ms": 500, "timeout_precommit_ms": 500,
            "timeout_delta_ms": 250, "max_block_txs": 10000, "max_block_bytes": 8388608,
            "max_clock_drift_ms": 2000
        }
    });
    format!("{}\n", serde_json::to_string_pretty(&genesis).unwrap())
}

pub fn genesis(chain_name: &str) -> Genesis {
    Genesis::from_json(&genesis_json(chain_name)).expect("the test genesis is valid")
}

/// The chain of the vectors.
pub const CHAIN: &str = "courtledger-proof-vectors";
/// Another chain, with the same validators and courts.
pub const OTHER_CHAIN: &str = "courtledger-proof-other";

/// A committed block as a node stores it.
#[derive(Debug, Clone)]
pub struct Committed {
    pub block: Block,
    pub receipts: Vec<Receipt>,
    pub certificate: CommitCertificate,
}

/// A validator set with the key seed of each member, in set order.
#[derive(Debug, Clone)]
pub struct Keyed {
    pub set: ValidatorSet,
    pub seeds: Vec<u8>,
}

impl Keyed {
    fn of(seeds: &[u8]) -> Self {
        Self {
            set: ValidatorSet::new(
                seeds
                    .iter()
                    .map(|seed| Validator {
                        public_key: key(*seed).public_key(),
                        voting_power: 1,
                    })
                    .collect(),
            )
            .unwrap(),
            seeds: seeds.to_vec(),
        }
    }
}

/// The court of the fifth validator (key seed 5), which the first set change adds.
pub const FIFTH_COURT: &str = "京0108";

/// The member with key seed `seed` (1 to 5): its court, key, power 1 and p2p address.
fn member(seed: u8) -> SetMember {
    let court = match seed {
        1..=4 => VALIDATOR_COURTS[usize::from(seed - 1)],
        _ => FIFTH_COURT,
    };
    SetMember {
        court_code: CourtCode::new(court).unwrap(),
        validator: Validator {
            public_key: key(seed).public_key(),
            voting_power: 1,
        },
        p2p_address: format!("127.0.0.1:{}", 27000 + u16::from(seed) - 1),
    }
}

/// The change from `from` to the members with key seeds `to`, activating at `activation`,
/// approved by the validators of `from` at `approvers`.
pub fn set_change(
    chain_id: &ChainId,
    from: &Keyed,
    to: &[u8],
    activation: u64,
    approvers: &[u16],
) -> SignedSetChange {
    let change = SetChange {
        from_set_hash: from.set.hash(),
        activation_height: activation,
        members: to.iter().map(|seed| member(*seed)).collect(),
    };
    let approvals = approvers
        .iter()
        .map(|&index| change.approve(&key(from.seeds[usize::from(index)]), chain_id, index))
        .collect();
    SignedSetChange { change, approvals }
}

/// The chain of the version 3 vectors: the three blocks of [`chain`], then two validator-set
/// changes, each recorded by a transaction of a validator and activated by the chain.
#[derive(Debug, Clone)]
pub struct SetChain {
    pub genesis: Genesis,
    /// Blocks 1 to 10.
    pub blocks: Vec<Committed>,
    /// The genesis set (seeds 1 to 4), the set after the first change (1 to 5), after the
    /// second (1, 2, 4, 5).
    pub sets: [Keyed; 3],
    /// The first change: 京0108's validator (seed 5) joins at height 6 (recorded in block 4,
    /// approved by genesis validators 0, 1 and 3).
    pub add: SignedSetChange,
    /// The second change: 京01's validator (seed 3) leaves at height 9 (recorded in block 7,
    /// approved by validators 1 to 4 of the five).
    pub remove: SignedSetChange,
}

impl SetChain {
    /// The block at `height`.
    pub fn block(&self, height: u64) -> &Committed {
        &self.blocks[usize::try_from(height - 1).unwrap()]
    }

    /// The link of the change activating at `activation` (6 or 9).
    pub fn link(&self, activation: u64) -> SetLink {
        let change = if activation == 6 {
            &self.add
        } else {
            &self.remove
        };
        assert_eq!(change.change.activation_height, activation);
        let boundary = self.block(activation - 1);
        SetLink {
            change: change.clone(),
            boundary: boundary.block.header.clone(),
            certificate: boundary.certificate.clone(),
        }
    }

    /// Every link activating at or below `height`, oldest first.
    pub fn links_to(&self, height: u64) -> Vec<SetLink> {
        [6, 9]
            .into_iter()
            .filter(|a| *a <= height)
            .map(|a| self.link(a))
            .collect()
    }

    /// The bundle of the transaction at `index` of block `height`, with the links it needs.
    pub fn bundle(&self, height: u64, index: u32) -> ProofBundle {
        self.block(height)
            .bundle(index)
            .with_links(self.links_to(height))
    }

    /// That bundle with the checkpoint of block `at`, and the links up to `at`.
    pub fn bundle_at(&self, height: u64, index: u32, at: u64) -> ProofBundle {
        let upto: Vec<Committed> = self.blocks[..usize::try_from(at).unwrap()].to_vec();
        self.block(height)
            .bundle(index)
            .with_checkpoint(
                self.block(at)
                    .checkpoint_of(&upto, self.block(height), index),
            )
            .with_links(self.links_to(at))
    }
}

impl Committed {
    /// The bundle of the transaction at `index`.
    pub fn bundle(&self, index: u32) -> ProofBundle {
        ProofBundle::assemble(
            &self.block.header,
            &self.block.txs[usize::try_from(index).unwrap()],
            &self.receipts,
            &self.certificate,
            index,
        )
        .expect("a stored block assembles")
    }

    /// This block as the checkpoint of the transaction at `index` of `block` (an earlier or the
    /// same block of `chain`): its header, its certificate and the transaction's inclusion in
    /// its history log.
    pub fn checkpoint_of(&self, chain: &[Committed], block: &Committed, index: u32) -> Checkpoint {
        let leaves: Vec<merkle::Hash> = chain
            .iter()
            .take_while(|c| c.block.header.height <= self.block.header.height)
            .flat_map(|c| {
                c.block
                    .txs
                    .iter()
                    .map(|tx| merkle::leaf_hash(tx.id().as_bytes()))
            })
            .collect();
        assert_eq!(
            u64::try_from(leaves.len()).unwrap(),
            self.block.header.log_size
        );
        let leaf =
            block.block.header.log_size - u64::from(block.block.header.tx_count) + u64::from(index);
        Checkpoint {
            header: self.block.header.clone(),
            certificate: self.certificate.clone(),
            log_proof: InclusionProof::prove(&leaves, leaf).unwrap(),
        }
    }
}

/// The certificate of `header` by the genesis validators at `signers` (round 0).
pub fn certify(
    chain_id: &ChainId,
    genesis: &Genesis,
    block: &Block,
    signers: &[u16],
) -> CommitCertificate {
    let keyed = Keyed {
        set: genesis.validator_set().clone(),
        seeds: vec![1, 2, 3, 4],
    };
    certify_by(chain_id, &keyed, block, signers)
}

/// The certificate of `header` by the validators of `set` at `signers` (round 0).
pub fn certify_by(
    chain_id: &ChainId,
    set: &Keyed,
    block: &Block,
    signers: &[u16],
) -> CommitCertificate {
    let mut certificate = CommitCertificate {
        height: block.header.height,
        round: 0,
        block_id: block.header.id(),
        signatures: Vec::new(),
    };
    for &index in signers {
        let vote = certificate.precommit(&set.set, index).unwrap();
        let signature = vote
            .sign(&key(set.seeds[usize::from(index)]), chain_id)
            .signature;
        certificate.signatures.push(CommitSignature {
            validator_index: index,
            signature,
        });
    }
    certificate
}

fn sign(
    key: &SigningKey,
    nonce: u64,
    act: impl Into<Act>,
    chain_id: &ChainId,
) -> SignedTransaction {
    Transaction {
        signer: key.public_key(),
        nonce,
        payload: act.into().to_bytes(),
    }
    .sign(key, chain_id)
}

fn register(person: &SigningKey, label: &str, chain_id: &ChainId) -> RegisterIdentity {
    let commitment = identity_commitment(&[7; 32], "resident_id", label, label);
    let possession = sign_possession(
        person,
        chain_id,
        &Possession::Registration {
            key: &person.public_key(),
            role: Role::Party,
            court: None,
            commitment: &commitment,
        },
    );
    RegisterIdentity {
        key: person.public_key(),
        role: Role::Party,
        court: None,
        commitment,
        possession,
    }
}

/// Three blocks of the ledger: block 1 registers P1 and P2 (certificate by all four
/// validators); block 2 holds six acts, some failing (certificate by validators 0, 1 and 3);
/// block 3 two messages (certificate by validators 1, 2 and 3), the checkpoint of version 2
/// bundles.
pub fn chain(chain_name: &str) -> (Genesis, Vec<Committed>) {
    let (genesis, blocks, _) = run(chain_name, false);
    (genesis, blocks)
}

/// The three blocks of [`chain`], then seven more (all executed by the chain with the ledger):
///
/// | block | transactions | signed by |
/// |---|---|---|
/// | 4 | the validator of 京 (seed 2) records the change adding 京0108 (seed 5) from height 6; P2's message | genesis 0, 1, 2 |
/// | 5 | P1's message; the header names the five as the next set (the first boundary) | genesis 0, 2, 3 |
/// | 6 | P2's message, P1's message | the five: 0, 1, 3, 4 |
/// | 7 | 京0108's validator records the change removing 京01 (seed 3) from height 9; P1's message | the five: 0, 1, 2, 4 |
/// | 8 | P2's message; the header names the four as the next set (the second boundary) | the five: 1, 2, 3, 4 |
/// | 9 | P2's message | the four (seeds 1, 2, 4, 5): 0, 1, 3 |
/// | 10 | P1's message | the four: 1, 2, 3 |
pub fn set_chain(chain_name: &str) -> SetChain {
    let (genesis, blocks, changes) = run(chain_name, true);
    let (add, remove) = changes.unwrap();
    SetChain {
        genesis,
        blocks,
        sets: [
            Keyed::of(&[1, 2, 3, 4]),
            Keyed::of(&[1, 2, 3, 4, 5]),
            Keyed::of(&[1, 2, 4, 5]),
        ],
        add,
        remove,
    }
}

type Changes = Option<(SignedSetChange, SignedSetChange)>;

fn run(chain_name: &str, with_changes: bool) -> (Genesis, Vec<Committed>, Changes) {
    let genesis = genesis(chain_name);
    let chain_id = genesis.chain_id();
    let app = LedgerApp::new(&genesis);
    let ctx = ChainContext::from_genesis(&genesis, &app);
    let mut state = MemoryState::new();
    let mut parent = Parent::genesis(&ctx);
    let mut blocks = Vec::new();

    let p1_id = sign(&registrar(), 1, register(&p1(), "P1", &chain_id), &chain_id);
    let p2_id = sign(&registrar(), 2, register(&p2(), "P2", &chain_id), &chain_id);
    let (p1_identity, p2_identity) = (p1_id.id(), p2_id.id());
    let block1 = vec![p1_id, p2_id];

    let filing = sign(
        &p1(),
        1,
        FileCase {
            court: CourtCode::new("京0105").unwrap(),
            receiving_court: None,
            kind: CaseKind::Civil,
            plaintiffs: vec![PartyRef::Registered(p1_identity)],
            defendants: vec![PartyRef::Registered(p2_identity)],
            claim_summary: sha256(b"claim: CNY 48,000 and interest"),
            complaint: sha256(COMPLAINT.as_bytes()),
            attachments: vec![
                Attachment {
                    kind: AttachmentKind::IdDocument,
                    sha256: sha256(b"P1 resident id card scan"),
                    size: 24,
                },
                Attachment {
                    kind: AttachmentKind::Evidence,
                    sha256: sha256(EVIDENCE.as_bytes()),
                    size: u64::try_from(EVIDENCE.len()).unwrap(),
                },
            ],
            principal: None,
            power_of_attorney: None,
        },
        &chain_id,
    );
    let case = filing.id();
    let block2 = vec![
        filing,
        sign(
            &p2(),
            1,
            PostMessage {
                case,
                kind: MessageKind::Text,
                content: sha256(b"I dispute the amount"),
                for_judge: true,
            },
            &chain_id,
        ),
        // A party may not review a filing: committed, and fails.
        sign(
            &p1(),
            2,
            ReviewFiling {
                case,
                decision: Decision::Accept,
            },
            &chain_id,
        ),
        sign(
            &p1(),
            3,
            SubmitEvidence {
                case,
                file: FileRef {
                    sha256: sha256(EVIDENCE.as_bytes()),
                    size: u64::try_from(EVIDENCE.len()).unwrap(),
                    media_type: "text/plain".into(),
                    title: "Invoice 2026-017".into(),
                },
            },
            &chain_id,
        ),
        sign(
            &p2(),
            2,
            FileCase {
                court: CourtCode::new("京0105").unwrap(),
                receiving_court: None,
                kind: CaseKind::Civil,
                plaintiffs: vec![PartyRef::Registered(p2_identity)],
                defendants: vec![PartyRef::Registered(p1_identity)],
                claim_summary: sha256(b"counterclaim: defective goods"),
                complaint: sha256(b"counterclaim of P2"),
                attachments: vec![],
                principal: None,
                power_of_attorney: None,
            },
            &chain_id,
        ),
        sign(
            &p1(),
            4,
            PostMessage {
                case,
                kind: MessageKind::Image,
                content: sha256(b"photo of the delivery note"),
                for_judge: false,
            },
            &chain_id,
        ),
    ];

    let block3 = vec![
        sign(
            &p2(),
            3,
            PostMessage {
                case,
                kind: MessageKind::Text,
                content: sha256(b"I ask for a hearing in person"),
                for_judge: true,
            },
            &chain_id,
        ),
        sign(
            &p1(),
            5,
            PostMessage {
                case,
                kind: MessageKind::Text,
                content: sha256(b"I agree to an online hearing"),
                for_judge: true,
            },
            &chain_id,
        ),
    ];

    let g = Keyed::of(&[1, 2, 3, 4]);
    let five = Keyed::of(&[1, 2, 3, 4, 5]);
    let four = Keyed::of(&[1, 2, 4, 5]);
    // (transactions, proposer seed, certifying set, signers)
    let mut plan = vec![
        (block1, 1, g.clone(), vec![0, 1, 2, 3]),
        (block2, 2, g.clone(), vec![0, 1, 3]),
        (block3, 3, g.clone(), vec![1, 2, 3]),
    ];
    let mut changes = None;
    if with_changes {
        let message = |person: &SigningKey, nonce: u64, text: &str| {
            sign(
                person,
                nonce,
                PostMessage {
                    case,
                    kind: MessageKind::Text,
                    content: sha256(text.as_bytes()),
                    for_judge: true,
                },
                &chain_id,
            )
        };
        let by_validator = |seed: u8, change: &SignedSetChange| {
            Transaction {
                signer: key(seed).public_key(),
                nonce: 1,
                payload: change.to_payload(),
            }
            .sign(&key(seed), &chain_id)
        };
        let add = set_change(&chain_id, &g, &[1, 2, 3, 4, 5], 6, &[0, 1, 3]);
        let remove = set_change(&chain_id, &five, &[1, 2, 4, 5], 9, &[1, 2, 3, 4]);
        plan.extend([
            (
                vec![
                    by_validator(2, &add),
                    message(&p2(), 4, "I propose mediation"),
                ],
                4,
                g.clone(),
                vec![0, 1, 2],
            ),
            (
                vec![message(&p1(), 6, "I accept mediation")],
                1,
                g.clone(),
                vec![0, 2, 3],
            ),
            (
                vec![
                    message(&p2(), 5, "my mediation proposal, revised"),
                    message(&p1(), 7, "I reject the revision"),
                ],
                5,
                five.clone(),
                vec![0, 1, 3, 4],
            ),
            (
                vec![
                    by_validator(5, &remove),
                    message(&p1(), 8, "I ask for a judgment"),
                ],
                2,
                five.clone(),
                vec![0, 1, 2, 4],
            ),
            (
                vec![message(&p2(), 6, "I ask for a judgment too")],
                3,
                five.clone(),
                vec![1, 2, 3, 4],
            ),
            (
                vec![message(&p2(), 7, "my final statement")],
                4,
                four.clone(),
                vec![0, 1, 3],
            ),
            (
                vec![message(&p1(), 9, "my final statement")],
                5,
                four.clone(),
                vec![1, 2, 3],
            ),
        ]);
        changes = Some((add, remove));
    }

    for (n, (txs, proposer, set, signers)) in plan.into_iter().enumerate() {
        let count = txs.len();
        let now = T0 + 60_000 * u64::try_from(n).unwrap();
        let (block, execution) =
            build_block(&ctx, &parent, &state, txs, key(proposer).public_key(), now);
        assert_eq!(block.txs.len(), count, "every test transaction is admitted");
        assert!(
            execution.receipts.iter().all(|r| r.code == CODE_OK) || n == 1,
            "block {}: {:?}",
            n + 1,
            execution.receipts
        );
        assert_eq!(
            block.header.validators_hash,
            set.set.hash(),
            "block {}",
            n + 1
        );
        state.apply(&execution.changes);
        parent = Parent::of(&block.header);
        let certificate = certify_by(&chain_id, &set, &block, &signers);
        blocks.push(Committed {
            block,
            receipts: execution.receipts,
            certificate,
        });
    }
    (genesis, blocks, changes)
}

/// One vector: a bundle (as bytes), the genesis it is checked against, the expected verdict.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    pub description: String,
    /// `genesis.json` or `other-genesis.json`.
    pub genesis: &'static str,
    pub bytes: Vec<u8>,
    /// `ok` or the name of the check that refuses it.
    pub expect: &'static str,
}

fn case(name: &str, description: &str, bytes: Vec<u8>, expect: &'static str) -> Case {
    Case {
        name: name.to_owned(),
        description: description.to_owned(),
        genesis: "genesis.json",
        bytes,
        expect,
    }
}

/// A bundle changed by `change`, re-encoded.
fn tamper(base: &ProofBundle, change: impl FnOnce(&mut ProofBundle)) -> Vec<u8> {
    let mut bundle = base.clone();
    change(&mut bundle);
    bundle.to_bytes()
}

/// The group order ℓ = 2^252 + 27742317777372353535851937790883648493, little-endian.
const ELL: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/// The same signature with `S + ℓ` instead of `S`: it satisfies the verification equation, but
/// `S` is not reduced, which the verification rule refuses.
fn unreduced(signature: &mut Signature) {
    let mut carry = 0u16;
    for (i, ell) in ELL.iter().enumerate() {
        let sum = u16::from(signature.0[32 + i]) + u16::from(*ell) + carry;
        signature.0[32 + i] = u8::try_from(sum & 0xff).unwrap();
        carry = sum >> 8;
    }
    assert_eq!(carry, 0);
}

fn flip(digest: &mut Digest) {
    digest.0[0] ^= 1;
}

/// Every vector: the valid bundles, then each way of tampering with the filing's bundle.
pub fn cases() -> Vec<Case> {
    let (genesis, blocks) = chain(CHAIN);
    let chain_id = genesis.chain_id();
    let (_, other_blocks) = chain(OTHER_CHAIN);
    let filing = blocks[1].bundle(0);

    let mut cases = vec![
        case(
            "valid-file-case",
            "P1 files a case (block 2, position 0, of 6); certificate by 0000, 京 and 京0105",
            filing.to_bytes(),
            "ok",
        ),
        case(
            "valid-failed-act",
            "P1, a party, tries to review the filing: committed with receipt code not_authorized (5); the bundle still verifies",
            blocks[1].bundle(2).to_bytes(),
            "ok",
        ),
        case(
            "valid-last-position",
            "P1 posts an image message (block 2, position 5, the last leaf)",
            blocks[1].bundle(5).to_bytes(),
            "ok",
        ),
        case(
            "valid-register-identity",
            "the registrar of 京 registers P1 (block 1, position 0, of 2); certificate by all four validators",
            blocks[0].bundle(0).to_bytes(),
            "ok",
        ),
    ];

    // Step 1: format and version.
    let bytes = filing.to_bytes();
    let mut push = |name: &str, description: &str, bytes: Vec<u8>, expect: &'static str| {
        cases.push(case(name, description, bytes, expect));
    };
    push("format-empty", "an empty file", Vec::new(), "format");
    push(
        "format-truncated",
        "the valid bundle without its last byte",
        bytes[..bytes.len() - 1].to_vec(),
        "format",
    );
    push(
        "format-truncated-half",
        "the first half of the valid bundle",
        bytes[..bytes.len() / 2].to_vec(),
        "format",
    );
    let mut trailing = bytes.clone();
    trailing.push(0);
    push(
        "format-trailing-byte",
        "the valid bundle with one byte appended",
        trailing,
        "format",
    );
    let mut magic = bytes.clone();
    magic[6] = b'X';
    push("format-magic", "magic CLPROOX", magic, "format");
    let mut version = bytes.clone();
    version[8] = 4;
    push(
        "version-4",
        "format version 4 (unknown to a verifier of versions 1 to 3)",
        version,
        "version",
    );
    let mut v1_as_v2 = bytes.clone();
    v1_as_v2[8] = 2;
    push(
        "format-v2-without-checkpoint-tag",
        "the valid version 1 bundle labelled version 2: the checkpoint's option tag is missing",
        v1_as_v2.clone(),
        "format",
    );
    let mut v2_none = v1_as_v2;
    v2_none.push(0);
    push(
        "format-v2-checkpoint-none",
        "a version 2 bundle with option tag 0 (no checkpoint): such a bundle is written as version 1",
        v2_none,
        "format",
    );
    let mut version0 = bytes.clone();
    version0[8] = 0;
    push("version-0", "format version 0", version0, "version");
    let mut long_path = bytes.clone();
    // The transaction proof's path count: after magic, version, tx, receipt, index and size.
    let at = 9 + filing.tx.to_bytes().len() + 46 + 16;
    long_path[at..at + 4].copy_from_slice(&17u32.to_be_bytes());
    push(
        "format-path-too-long",
        "the transaction proof claims 17 path hashes, more than the bound of 16",
        long_path,
        "format",
    );
    let mut header_version = filing.clone();
    header_version.header.version = 2;
    push(
        "format-header-version",
        "header layout version 2",
        header_version.to_bytes(),
        "format",
    );

    // Step 2: another chain.
    let mut other = case(
        "chain-other-genesis",
        "a valid bundle of another chain (other-genesis.json), checked against genesis.json",
        other_blocks[1].bundle(0).to_bytes(),
        "chain",
    );
    cases.push(other.clone());
    other.name = "valid-other-chain".to_owned();
    other.description =
        "the same bundle checked against its own genesis (other-genesis.json)".to_owned();
    other.genesis = "other-genesis.json";
    other.expect = "ok";
    cases.push(other);
    let mut push = |name: &str, description: &str, bytes: Vec<u8>, expect: &'static str| {
        cases.push(case(name, description, bytes, expect));
    };
    push(
        "chain-header-chain-id",
        "the header's chain id changed",
        tamper(&filing, |b| flip(&mut b.header.chain_id.0)),
        "chain",
    );

    // Step 3: every field of the transaction.
    push(
        "tx-signer",
        "the transaction's signer replaced by P2's key",
        tamper(&filing, |b| b.tx.tx.signer = p2().public_key()),
        "tx_signature",
    );
    push(
        "tx-nonce",
        "the transaction's nonce changed",
        tamper(&filing, |b| b.tx.tx.nonce += 1),
        "tx_signature",
    );
    push(
        "tx-payload",
        "one byte of the act changed",
        tamper(&filing, |b| {
            let last = b.tx.tx.payload.len() - 1;
            b.tx.tx.payload[last] ^= 1;
        }),
        "tx_signature",
    );
    push(
        "tx-signature",
        "one bit of the signature's S flipped",
        tamper(&filing, |b| b.tx.signature.0[40] ^= 1),
        "tx_signature",
    );
    push(
        "tx-signature-s-unreduced",
        "the signature's S replaced by S + ℓ (the equation holds; S is not canonical)",
        tamper(&filing, |b| unreduced(&mut b.tx.signature)),
        "tx_signature",
    );
    push(
        "tx-signature-other-chain",
        "the transaction signed by P1 for another chain",
        tamper(&filing, |b| {
            b.tx =
                b.tx.tx
                    .clone()
                    .sign(&p1(), &ChainId(sha256(b"another chain")));
        }),
        "tx_signature",
    );

    // Step 4: a payload that is not an act, validly signed.
    push(
        "act-not-an-act",
        "P1 signed a payload that is not an act (tag 0)",
        tamper(&filing, |b| {
            let mut tx = b.tx.tx.clone();
            tx.payload = b"\x00not an act".to_vec();
            b.tx = tx.sign(&p1(), &chain_id);
        }),
        "act",
    );
    push(
        "act-trailing-bytes",
        "P1 signed the act followed by one more byte",
        tamper(&filing, |b| {
            let mut tx = b.tx.tx.clone();
            tx.payload.push(0);
            b.tx = tx.sign(&p1(), &chain_id);
        }),
        "act",
    );

    // Step 5: the pieces agree.
    push(
        "receipt-tx-id",
        "the receipt names another transaction",
        tamper(&filing, |b| flip(&mut b.receipt.tx_id)),
        "receipt_tx_id",
    );
    push(
        "receipt-height",
        "the receipt names height 3",
        tamper(&filing, |b| b.receipt.height = 3),
        "receipt_height",
    );
    push(
        "receipt-index",
        "the receipt names position 1",
        tamper(&filing, |b| b.receipt.index = 1),
        "tx_proof_index",
    );
    push(
        "tx-proof-index",
        "the transaction proof names position 1",
        tamper(&filing, |b| b.tx_proof.leaf_index = 1),
        "tx_proof_index",
    );
    push(
        "receipt-proof-index",
        "the receipt proof names position 1",
        tamper(&filing, |b| b.receipt_proof.leaf_index = 1),
        "receipt_proof_index",
    );
    push(
        "tx-proof-tree-size",
        "the transaction proof claims a tree of 7 leaves",
        tamper(&filing, |b| b.tx_proof.tree_size = 7),
        "tx_tree_size",
    );
    push(
        "tx-proof-tree-size-smaller",
        "the transaction proof claims a tree of 5 leaves (the path of leaf 0 has the same length for 5 to 8 leaves)",
        tamper(&filing, |b| b.tx_proof.tree_size = 5),
        "tx_tree_size",
    );
    push(
        "receipt-proof-tree-size",
        "the receipt proof claims a tree of 7 leaves",
        tamper(&filing, |b| b.receipt_proof.tree_size = 7),
        "receipt_tree_size",
    );
    push(
        "header-tx-count",
        "the header counts 7 transactions",
        tamper(&filing, |b| b.header.tx_count = 7),
        "tx_tree_size",
    );
    push(
        "all-indices-moved",
        "the receipt and both proofs consistently name position 1",
        tamper(&filing, |b| {
            b.receipt.index = 1;
            b.tx_proof.leaf_index = 1;
            b.receipt_proof.leaf_index = 1;
        }),
        "tx_inclusion",
    );
    push(
        "index-out-of-range",
        "the receipt and both proofs name position 6 of 6",
        tamper(&filing, |b| {
            b.receipt.index = 6;
            b.tx_proof.leaf_index = 6;
            b.receipt_proof.leaf_index = 6;
        }),
        "tx_inclusion",
    );

    // Steps 6 and 7: every path element, a shortened path, the roots.
    for i in 0..filing.tx_proof.path.len() {
        push(
            &format!("tx-proof-path-{i}"),
            &format!("hash {i} of the transaction proof's path changed"),
            tamper(&filing, |b| b.tx_proof.path[i][31] ^= 1),
            "tx_inclusion",
        );
    }
    push(
        "tx-proof-path-short",
        "the transaction proof's last path hash removed",
        tamper(&filing, |b| {
            b.tx_proof.path.pop();
        }),
        "tx_inclusion",
    );
    push(
        "tx-proof-path-long",
        "a hash appended to the transaction proof's path",
        tamper(&filing, |b| b.tx_proof.path.push([0; 32])),
        "tx_inclusion",
    );
    push(
        "header-tx-root",
        "the header's tx_root changed",
        tamper(&filing, |b| flip(&mut b.header.tx_root)),
        "tx_inclusion",
    );
    for i in 0..filing.receipt_proof.path.len() {
        push(
            &format!("receipt-proof-path-{i}"),
            &format!("hash {i} of the receipt proof's path changed"),
            tamper(&filing, |b| b.receipt_proof.path[i][31] ^= 1),
            "receipt_inclusion",
        );
    }
    push(
        "receipt-proof-path-short",
        "the receipt proof's last path hash removed",
        tamper(&filing, |b| {
            b.receipt_proof.path.pop();
        }),
        "receipt_inclusion",
    );
    push(
        "receipt-code",
        "the receipt's code changed from 0 (ok) to 5 (not_authorized)",
        tamper(&filing, |b| b.receipt.code = 5),
        "receipt_inclusion",
    );
    let failed = blocks[1].bundle(2);
    push(
        "receipt-code-failure-hidden",
        "the failed act's receipt code changed to 0 (ok)",
        tamper(&failed, |b| b.receipt.code = 0),
        "receipt_inclusion",
    );
    push(
        "header-results-root",
        "the header's results_root changed",
        tamper(&filing, |b| flip(&mut b.header.results_root)),
        "receipt_inclusion",
    );

    // Step 8.
    push(
        "header-validators-hash",
        "the header's validators_hash changed",
        tamper(&filing, |b| flip(&mut b.header.validators_hash)),
        "validator_set",
    );

    // Step 9: the other header fields change the block id; the certificate.
    type Change = fn(&mut ProofBundle);
    let header_fields: [(&str, Change); 8] = [
        ("height", |b| b.header.height += 1),
        ("time", |b| b.header.time_ms += 1),
        ("parent-id", |b| flip(&mut b.header.parent_id)),
        ("proposer", |b| b.header.proposer = key(4).public_key()),
        ("log-size", |b| b.header.log_size += 1),
        ("log-root", |b| flip(&mut b.header.log_root)),
        ("state-root", |b| flip(&mut b.header.state_root)),
        ("next-validators-hash", |b| {
            flip(&mut b.header.next_validators_hash)
        }),
    ];
    for (field, change) in header_fields {
        // The receipt names the height too: step 5 notices first.
        let expect = if field == "height" {
            "receipt_height"
        } else {
            "certificate_block_id"
        };
        push(
            &format!("header-{field}"),
            &format!("the header's {} changed: the certificate is for another block (for the height, the receipt is for another height)", field.replace('-', "_")),
            tamper(&filing, change),
            expect,
        );
    }
    push(
        "certificate-height",
        "the certificate names height 3",
        tamper(&filing, |b| b.certificate.height = 3),
        "certificate_height",
    );
    push(
        "certificate-block-id",
        "the certificate names another block",
        tamper(&filing, |b| flip(&mut b.certificate.block_id)),
        "certificate_block_id",
    );
    push(
        "certificate-round",
        "the certificate names round 1 (the precommits were for round 0)",
        tamper(&filing, |b| b.certificate.round = 1),
        "certificate_signature",
    );
    push(
        "certificate-below-threshold",
        "one of the three signatures dropped: 2 of 4 is not more than two thirds",
        tamper(&filing, |b| {
            b.certificate.signatures.pop();
        }),
        "certificate_quorum",
    );
    push(
        "certificate-no-signatures",
        "every signature dropped",
        tamper(&filing, |b| b.certificate.signatures.clear()),
        "certificate_quorum",
    );
    push(
        "certificate-duplicate-signer",
        "validator 1's signature twice instead of validator 3's",
        tamper(&filing, |b| {
            b.certificate.signatures[2] = b.certificate.signatures[1]
        }),
        "certificate_signer_order",
    );
    push(
        "certificate-duplicate-signer-appended",
        "validator 1's signature repeated at the end, as a fourth",
        tamper(&filing, |b| {
            let repeated = b.certificate.signatures[1];
            b.certificate.signatures.push(repeated);
        }),
        "certificate_signer_order",
    );
    push(
        "certificate-unknown-index",
        "a signature by validator index 4 of a set of 4",
        tamper(&filing, |b| b.certificate.signatures[2].validator_index = 4),
        "certificate_unknown_signer",
    );
    push(
        "certificate-non-validator",
        "validator 3's signature replaced by a valid precommit signature of a key outside the set",
        tamper(&filing, |b| {
            let vote = b.certificate.precommit(genesis.validator_set(), 3).unwrap();
            let outsider = key(99);
            b.certificate.signatures[2].signature = outsider.sign(
                courtledger_crypto::Domain::Vote,
                &chain_id,
                &vote.to_bytes(),
            );
        }),
        "certificate_signature",
    );
    push(
        "certificate-bad-signature",
        "one bit of validator 0's signature flipped",
        tamper(&filing, |b| b.certificate.signatures[0].signature.0[5] ^= 1),
        "certificate_signature",
    );
    push(
        "certificate-signature-s-unreduced",
        "validator 0's signature with S + ℓ instead of S",
        tamper(&filing, |b| {
            unreduced(&mut b.certificate.signatures[0].signature)
        }),
        "certificate_signature",
    );
    push(
        "certificate-zero-signature",
        "validator 0's signature replaced by zero bytes",
        tamper(&filing, |b| {
            b.certificate.signatures[0].signature = Signature([0; 64])
        }),
        "certificate_signature",
    );
    cases.extend(checkpoint_cases(&blocks));
    cases.extend(set_link_cases());
    cases
}

/// Version 3: bundles of the chain with two validator-set changes ([`set_chain`]), valid and
/// tampered. `one` is P2's message of block 6 (the first block of the five, one link); `two`
/// P2's message of block 9 (the first block of the four, two links).
fn set_link_cases() -> Vec<Case> {
    let sc = set_chain(CHAIN);
    let chain_id = sc.genesis.chain_id();
    let other = set_chain(OTHER_CHAIN);
    let one = sc.bundle(6, 0);
    let two = sc.bundle(9, 0);
    assert_eq!((one.links.len(), two.links.len()), (1, 2));
    let mut cases = vec![
        case(
            "valid-v3-one-change",
            "version 3: P2's message (block 6, the first block signed by the five validators after 京0108's joined at height 6), with one set link; certificate by 0000, 京, 京0105 and 京0108",
            one.to_bytes(),
            "ok",
        ),
        case(
            "valid-v3-two-changes",
            "version 3: P2's message (block 9, the first block signed by the four validators left after 京01's left at height 9), with two set links; certificate by 0000, 京 and 京0108",
            two.to_bytes(),
            "ok",
        ),
        case(
            "valid-v3-checkpoint",
            "version 3: P1's filing (block 2, signed by the genesis validators) with the checkpoint of block 10 (signed by the four of the second change) and the two links that lead to its set",
            sc.bundle_at(2, 0, 10).to_bytes(),
            "ok",
        ),
        case(
            "valid-v3-one-change-checkpoint",
            "version 3: P2's message of block 6 with the checkpoint of block 9: the first link for the block, both for the checkpoint",
            sc.bundle_at(6, 0, 9).to_bytes(),
            "ok",
        ),
        case(
            "valid-boundary-block",
            "version 1: P1's message of block 5, the last block of the genesis set (its header names the five as the next set): no link is needed",
            sc.bundle(5, 0).to_bytes(),
            "ok",
        ),
    ];
    let mut push = |name: &str, description: &str, bytes: Vec<u8>, expect: &'static str| {
        cases.push(case(name, description, bytes, expect));
    };

    // Step 1.
    let bytes = one.to_bytes();
    let mut no_links = bytes[..9].to_vec();
    no_links.extend_from_slice(&0u32.to_be_bytes());
    no_links.extend_from_slice(&one.clone().with_links(Vec::new()).to_bytes()[9..]);
    no_links.push(0);
    push(
        "format-v3-no-links",
        "a version 3 bundle whose link count is 0 (without links a bundle is written as version 1 or 2)",
        no_links,
        "format",
    );
    let mut too_many = bytes.clone();
    too_many[9..13].copy_from_slice(&257u32.to_be_bytes());
    push(
        "format-v3-too-many-links",
        "the link count claims 257, more than the bound of 256",
        too_many,
        "format",
    );
    let mut trailing = bytes.clone();
    trailing.push(0);
    push(
        "format-v3-trailing-byte",
        "the valid version 3 bundle with one byte appended",
        trailing,
        "format",
    );
    push(
        "format-v3-truncated",
        "the valid version 3 bundle without its last byte (its checkpoint tag)",
        bytes[..bytes.len() - 1].to_vec(),
        "format",
    );
    let mut tag = bytes.clone();
    let last = tag.len() - 1;
    assert_eq!(tag[last], 0);
    tag[last] = 2;
    push(
        "format-v3-checkpoint-tag",
        "the checkpoint's option tag is 2",
        tag,
        "format",
    );

    // Step 8: the links' order and heights.
    push(
        "set-links-out-of-order",
        "the bundle of block 9 with its two links swapped",
        tamper(&two, |b| b.links.swap(0, 1)),
        "set_link_order",
    );
    push(
        "set-link-twice",
        "the bundle of block 9 with the first link twice (and the second left out)",
        tamper(&two, |b| b.links[1] = b.links[0].clone()),
        "set_link_order",
    );
    push(
        "set-link-beyond-block",
        "the bundle of block 6 with both links, the second activating at 9, above the block and with no checkpoint",
        tamper(&one, |b| b.links = sc.links_to(9)),
        "set_link_height",
    );

    // Step 8: the first link's boundary and change.
    push(
        "set-link-other-chain",
        "the bundle of block 6 with the first link of another chain (same validators, other chain id)",
        tamper(&one, |b| b.links[0] = other.link(6)),
        "set_boundary_chain",
    );
    push(
        "set-boundary-chain-id",
        "the first link's boundary header with its chain id changed",
        tamper(&one, |b| flip(&mut b.links[0].boundary.chain_id.0)),
        "set_boundary_chain",
    );
    push(
        "set-boundary-height",
        "the first link with block 4's header and valid certificate as its boundary (activation 6 needs block 5)",
        tamper(&one, |b| {
            b.links[0].boundary = sc.block(4).block.header.clone();
            b.links[0].certificate = sc.block(4).certificate.clone();
        }),
        "set_boundary_height",
    );
    push(
        "set-link-omitted-first",
        "the bundle of block 9 without its first link: the second names the five's set, not genesis'",
        tamper(&two, |b| {
            b.links.remove(0);
        }),
        "set_change_from_set",
    );
    push(
        "set-change-members",
        "the first change lists 0000's member twice (its approvals, over other bytes, are not checked before the members)",
        tamper(&one, |b| {
            let first = b.links[0].change.change.members[0].clone();
            b.links[0].change.change.members.push(first);
        }),
        "set_change_members",
    );
    push(
        "set-change-approval-order",
        "the first change's second approval repeated (validator 1 twice)",
        tamper(&one, |b| {
            let approvals = &mut b.links[0].change.approvals;
            approvals.insert(1, approvals[1]);
        }),
        "set_change_approval_order",
    );
    push(
        "set-change-unknown-approver",
        "the first change's last approval by validator index 4 of a set of 4",
        tamper(&one, |b| b.links[0].change.approvals[2].validator_index = 4),
        "set_change_unknown_approver",
    );
    push(
        "set-change-forged-approval",
        "one bit of the first change's approval by validator 0 flipped",
        tamper(&one, |b| b.links[0].change.approvals[0].signature.0[9] ^= 1),
        "set_change_approval_signature",
    );
    push(
        "set-change-activation-moved",
        "the first change's activation height changed to 5 with its boundary block 4: the approvals are over height 6",
        tamper(&one, |b| {
            b.links[0].change.change.activation_height = 5;
            b.links[0].boundary = sc.block(4).block.header.clone();
            b.links[0].certificate = sc.block(4).certificate.clone();
        }),
        "set_change_approval_signature",
    );
    push(
        "set-change-below-quorum",
        "the first change with two of its three approvals: 2 of 4 is not more than two thirds",
        tamper(&one, |b| {
            b.links[0].change.approvals.pop();
        }),
        "set_change_quorum",
    );
    push(
        "set-boundary-validators-hash",
        "the first link's boundary header names another set than genesis'",
        tamper(&one, |b| flip(&mut b.links[0].boundary.validators_hash)),
        "set_boundary_validator_set",
    );
    push(
        "set-boundary-next-validators-hash",
        "the first link's boundary header names another next set than the change's",
        tamper(&one, |b| {
            flip(&mut b.links[0].boundary.next_validators_hash)
        }),
        "set_boundary_next_validator_set",
    );
    push(
        "set-boundary-not-announcing",
        "the first link with block 5's header replaced by one whose next set is genesis' (a boundary that does not announce the change), validly certified",
        tamper(&one, |b| {
            let mut header = b.links[0].boundary.clone();
            header.next_validators_hash = header.validators_hash;
            b.links[0].certificate =
                certify_by(&chain_id, &sc.sets[0], &Block { header: header.clone(), txs: vec![] }, &[0, 1, 2]);
            b.links[0].boundary = header;
        }),
        "set_boundary_next_validator_set",
    );

    // Step 8: the first link's boundary certificate.
    push(
        "set-boundary-certificate-height",
        "the first link's boundary certificate names height 6",
        tamper(&one, |b| b.links[0].certificate.height = 6),
        "set_boundary_certificate_height",
    );
    push(
        "set-boundary-certificate-block-id",
        "the first link's boundary certificate names another block",
        tamper(&one, |b| flip(&mut b.links[0].certificate.block_id)),
        "set_boundary_certificate_block_id",
    );
    push(
        "set-boundary-certificate-duplicate-signer",
        "validator 2's signature twice in the first link's boundary certificate",
        tamper(&one, |b| {
            let signatures = &mut b.links[0].certificate.signatures;
            signatures[2] = signatures[1];
        }),
        "set_boundary_certificate_signer_order",
    );
    push(
        "set-boundary-certificate-unknown-index",
        "a signature by validator index 4 of a set of 4 in the first link's boundary certificate",
        tamper(&one, |b| {
            b.links[0].certificate.signatures[2].validator_index = 4
        }),
        "set_boundary_certificate_unknown_signer",
    );
    push(
        "set-boundary-certificate-bad-signature",
        "one bit of validator 0's signature in the first link's boundary certificate flipped",
        tamper(&one, |b| {
            b.links[0].certificate.signatures[0].signature.0[5] ^= 1
        }),
        "set_boundary_certificate_signature",
    );
    push(
        "set-boundary-certificate-by-new-set",
        "the first link's boundary certified by the five (0, 1, 3, 4) instead of the genesis set: the new validator is index 4, outside the set that must sign",
        tamper(&one, |b| {
            b.links[0].certificate = certify_by(&chain_id, &sc.sets[1], &sc.block(5).block, &[0, 1, 3, 4]);
        }),
        "set_boundary_certificate_unknown_signer",
    );
    push(
        "set-boundary-certificate-below-threshold",
        "one of the three signatures of the first link's boundary certificate dropped",
        tamper(&one, |b| {
            b.links[0].certificate.signatures.pop();
        }),
        "set_boundary_certificate_quorum",
    );
    push(
        "set-second-change-below-quorum",
        "the second change with three of its four approvals: 3 of the five is not more than two thirds",
        tamper(&two, |b| {
            b.links[1].change.approvals.pop();
        }),
        "set_change_quorum",
    );

    // Steps 8 and 9: the block's set.
    push(
        "set-link-omitted-last",
        "the bundle of block 9 without its second link: the header names the four's set, the links lead to the five's",
        tamper(&two, |b| {
            b.links.pop();
        }),
        "validator_set",
    );
    push(
        "set-links-omitted",
        "the bundle of block 6 without its link (so version 1): the header names the five's set, not genesis'",
        tamper(&one, |b| b.links.clear()),
        "validator_set",
    );
    push(
        "certificate-removed-validator",
        "block 9's certificate with validator 1's signature replaced by the precommit of 京01's validator, removed at height 9, under its old index 2 (index 2 of the four is 京0105's)",
        tamper(&two, |b| {
            let removed = certify_by(&chain_id, &sc.sets[1], &sc.block(9).block, &[2]);
            b.certificate.signatures[1] = removed.signatures[0];
            b.certificate.signatures.sort_by_key(|s| s.validator_index);
        }),
        "certificate_signature",
    );
    push(
        "certificate-by-old-set",
        "block 9 certified by the five of the first change (0, 1, 2, 4): index 4 is outside the four that must sign",
        tamper(&two, |b| {
            b.certificate = certify_by(&chain_id, &sc.sets[1], &sc.block(9).block, &[0, 1, 2, 4]);
        }),
        "certificate_unknown_signer",
    );
    push(
        "certificate-genesis-set-after-change",
        "block 6 certified by genesis validators 0, 1 and 3: 3 of the five's 5 is not more than two thirds",
        tamper(&one, |b| {
            b.certificate = certify_by(&chain_id, &sc.sets[0], &sc.block(6).block, &[0, 1, 3]);
        }),
        "certificate_quorum",
    );

    // Step 10 with links.
    let v3_checkpoint = sc.bundle_at(2, 0, 10);
    push(
        "checkpoint-link-omitted",
        "P1's filing with the checkpoint of block 10 and only the first link: the checkpoint names the four's set, the links lead to the five's",
        tamper(&v3_checkpoint, |b| {
            b.links.pop();
        }),
        "checkpoint_validator_set",
    );
    push(
        "checkpoint-without-links",
        "P1's filing with the checkpoint of block 10 and no link (so version 2): the checkpoint names the four's set, not genesis'",
        tamper(&v3_checkpoint, |b| b.links.clear()),
        "checkpoint_validator_set",
    );
    push(
        "checkpoint-certificate-removed-validator",
        "block 10's certificate (validators 1, 2, 3 of the four) with validator 3's signature replaced by the precommit of 京01's removed validator",
        tamper(&v3_checkpoint, |b| {
            let removed = certify_by(&chain_id, &sc.sets[1], &sc.block(10).block, &[2]);
            let signatures = &mut checkpoint(b).certificate.signatures;
            signatures[2].signature = removed.signatures[0].signature;
        }),
        "checkpoint_certificate_signature",
    );
    cases
}

/// Version 2: the valid bundles with a checkpoint, then each way of tampering with the
/// checkpoint of the filing's bundle (block 2, position 0, checkpoint block 3).
fn checkpoint_cases(blocks: &[Committed]) -> Vec<Case> {
    let with = |block: usize, index: u32, checkpoint: usize| {
        blocks[block]
            .bundle(index)
            .with_checkpoint(blocks[checkpoint].checkpoint_of(blocks, &blocks[block], index))
    };
    let filing = with(1, 0, 2);
    let mut cases = vec![
        case(
            "valid-v2-file-case",
            "version 2: P1's filing (block 2, position 0, log leaf 2) with the checkpoint of block 3 (log of 10, certificate by 京, 京01 and 京0105)",
            filing.to_bytes(),
            "ok",
        ),
        case(
            "valid-v2-register-identity",
            "version 2: the registration of P1 (block 1, log leaf 0) with the checkpoint of block 3",
            with(0, 0, 2).to_bytes(),
            "ok",
        ),
        case(
            "valid-v2-same-block",
            "version 2: P1's filing with its own block 2 as the checkpoint (log of 8)",
            with(1, 0, 1).to_bytes(),
            "ok",
        ),
        case(
            "valid-v2-last-leaf",
            "version 2: P1's message of block 3, position 1, the last leaf (9) of the checkpoint's log",
            with(2, 1, 2).to_bytes(),
            "ok",
        ),
    ];
    let mut push = |name: &str, description: &str, bytes: Vec<u8>, expect: &'static str| {
        cases.push(case(name, description, bytes, expect));
    };

    // Step 1.
    let bytes = filing.to_bytes();
    let mut trailing = bytes.clone();
    trailing.push(0);
    push(
        "format-v2-trailing-byte",
        "the valid version 2 bundle with one byte appended",
        trailing,
        "format",
    );
    push(
        "format-v2-truncated",
        "the valid version 2 bundle without its last byte",
        bytes[..bytes.len() - 1].to_vec(),
        "format",
    );
    let mut tag = bytes.clone();
    let at = {
        let mut v1 = filing.clone();
        v1.checkpoint = None;
        v1.to_bytes().len()
    };
    assert_eq!(tag[at], 1);
    tag[at] = 2;
    push(
        "format-v2-checkpoint-tag",
        "the checkpoint's option tag is 2",
        tag,
        "format",
    );
    let mut long_path = bytes.clone();
    // The log proof's path count: after the tag, the header, the certificate, index and size.
    let cp = filing.checkpoint.as_ref().unwrap();
    let at = at + 1 + cp.header.to_bytes().len() + cp.certificate.to_bytes().len() + 16;
    long_path[at..at + 4].copy_from_slice(&65u32.to_be_bytes());
    push(
        "format-v2-log-path-too-long",
        "the log proof claims 65 path hashes, more than the bound of 64",
        long_path,
        "format",
    );

    // Step 10.
    push(
        "checkpoint-chain",
        "the checkpoint header's chain id changed",
        tamper(&filing, |b| flip(&mut checkpoint(b).header.chain_id.0)),
        "checkpoint_chain",
    );
    push(
        "checkpoint-below-block",
        "the filing (block 2) with block 1 and its valid certificate as the checkpoint",
        tamper(&filing, |b| {
            checkpoint(b).header = blocks[0].block.header.clone();
            checkpoint(b).certificate = blocks[0].certificate.clone();
        }),
        "checkpoint_height",
    );
    push(
        "checkpoint-validators-hash",
        "the checkpoint header's validators_hash changed",
        tamper(&filing, |b| flip(&mut checkpoint(b).header.validators_hash)),
        "checkpoint_validator_set",
    );

    // Step 11.
    push(
        "checkpoint-header-log-root",
        "the checkpoint header's log_root changed: its certificate is for another block",
        tamper(&filing, |b| flip(&mut checkpoint(b).header.log_root)),
        "checkpoint_certificate_block_id",
    );
    push(
        "checkpoint-header-log-size",
        "the checkpoint header's log_size changed: its certificate is for another block",
        tamper(&filing, |b| checkpoint(b).header.log_size += 1),
        "checkpoint_certificate_block_id",
    );
    push(
        "checkpoint-certificate-other-block",
        "block 3's header with block 2's (valid) certificate",
        tamper(&filing, |b| {
            checkpoint(b).certificate = blocks[1].certificate.clone()
        }),
        "checkpoint_certificate_height",
    );
    push(
        "checkpoint-certificate-height",
        "the checkpoint certificate names height 4",
        tamper(&filing, |b| checkpoint(b).certificate.height = 4),
        "checkpoint_certificate_height",
    );
    push(
        "checkpoint-certificate-duplicate-signer",
        "validator 2's signature twice in the checkpoint certificate",
        tamper(&filing, |b| {
            let signatures = &mut checkpoint(b).certificate.signatures;
            signatures[2] = signatures[1];
        }),
        "checkpoint_certificate_signer_order",
    );
    push(
        "checkpoint-certificate-unknown-index",
        "a signature by validator index 4 of a set of 4 in the checkpoint certificate",
        tamper(&filing, |b| {
            checkpoint(b).certificate.signatures[2].validator_index = 4;
        }),
        "checkpoint_certificate_unknown_signer",
    );
    push(
        "checkpoint-certificate-bad-signature",
        "one bit of validator 1's signature in the checkpoint certificate flipped",
        tamper(&filing, |b| {
            checkpoint(b).certificate.signatures[0].signature.0[5] ^= 1;
        }),
        "checkpoint_certificate_signature",
    );
    push(
        "checkpoint-certificate-signature-s-unreduced",
        "validator 1's checkpoint signature with S + ℓ instead of S",
        tamper(&filing, |b| {
            unreduced(&mut checkpoint(b).certificate.signatures[0].signature);
        }),
        "checkpoint_certificate_signature",
    );
    push(
        "checkpoint-certificate-below-threshold",
        "one of the checkpoint certificate's three signatures dropped",
        tamper(&filing, |b| {
            checkpoint(b).certificate.signatures.pop();
        }),
        "checkpoint_certificate_quorum",
    );

    // Step 12.
    push(
        "checkpoint-leaf-index",
        "the log proof names leaf 3 instead of 2",
        tamper(&filing, |b| checkpoint(b).log_proof.leaf_index += 1),
        "checkpoint_leaf_index",
    );
    let other = with(1, 1, 2);
    push(
        "checkpoint-other-transaction",
        "the filing's bundle with the (valid) checkpoint of the next transaction of its block",
        tamper(&filing, |b| b.checkpoint = other.checkpoint.clone()),
        "checkpoint_leaf_index",
    );
    push(
        "checkpoint-tree-size",
        "the log proof claims a log of 9 leaves (the checkpoint's holds 10)",
        tamper(&filing, |b| checkpoint(b).log_proof.tree_size = 9),
        "checkpoint_tree_size",
    );
    let of_block_2 = with(1, 0, 1);
    push(
        "checkpoint-proof-of-older-log",
        "block 3's header and certificate with the (valid) log proof of block 2's log",
        tamper(&filing, |b| {
            checkpoint(b).log_proof = of_block_2.checkpoint.as_ref().unwrap().log_proof.clone();
        }),
        "checkpoint_tree_size",
    );

    // Step 13.
    for i in 0..filing.checkpoint.as_ref().unwrap().log_proof.path.len() {
        push(
            &format!("checkpoint-log-path-{i}"),
            &format!("hash {i} of the log proof's path changed"),
            tamper(&filing, |b| checkpoint(b).log_proof.path[i][31] ^= 1),
            "checkpoint_inclusion",
        );
    }
    push(
        "checkpoint-log-path-short",
        "the log proof's last path hash removed",
        tamper(&filing, |b| {
            checkpoint(b).log_proof.path.pop();
        }),
        "checkpoint_inclusion",
    );
    push(
        "checkpoint-wrong-root",
        "the log proof of leaf 2 in another log of 10 leaves (the last one differs): it leads to another root",
        tamper(&filing, |b| {
            let mut leaves: Vec<merkle::Hash> = blocks
                .iter()
                .flat_map(|c| c.block.txs.iter().map(|tx| merkle::leaf_hash(tx.id().as_bytes())))
                .collect();
            leaves[9] = merkle::leaf_hash(b"another transaction");
            checkpoint(b).log_proof = InclusionProof::prove(&leaves, 2).unwrap();
        }),
        "checkpoint_inclusion",
    );
    push(
        "checkpoint-not-this-transaction",
        "block 2's position 1 bundle carrying the filing's checkpoint with its leaf index set to 3: the leaf is not this transaction",
        tamper(&other, |b| {
            b.checkpoint = filing.checkpoint.clone();
            checkpoint(b).log_proof.leaf_index = 3;
        }),
        "checkpoint_inclusion",
    );
    cases
}

/// The checkpoint of a version 2 bundle.
fn checkpoint(bundle: &mut ProofBundle) -> &mut Checkpoint {
    bundle.checkpoint.as_mut().expect("a version 2 bundle")
}

/// The directory of the checked-in vectors.
pub fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}
