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
use courtledger_proof::{Checkpoint, ProofBundle};
use courtledger_types::peer_id::peer_id_of;
use courtledger_types::{
    Block, CommitCertificate, CommitSignature, CourtCode, Genesis, Receipt, SignedTransaction,
    Transaction,
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

/// The certificate of `header` by the validators at `signers` (round 0).
pub fn certify(
    chain_id: &ChainId,
    genesis: &Genesis,
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
        let vote = certificate
            .precommit(genesis.validator_set(), index)
            .unwrap();
        let signature = vote
            .sign(&key(u8::try_from(index + 1).unwrap()), chain_id)
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

    for (n, (txs, signers)) in [
        (block1, vec![0, 1, 2, 3]),
        (block2, vec![0, 1, 3]),
        (block3, vec![1, 2, 3]),
    ]
    .into_iter()
    .enumerate()
    {
        let count = txs.len();
        let now = T0 + 60_000 * u64::try_from(n).unwrap();
        let (block, execution) = build_block(
            &ctx,
            &parent,
            &state,
            txs,
            key(u8::try_from(n % 4 + 1).unwrap()).public_key(),
            now,
        );
        assert_eq!(block.txs.len(), count, "every test transaction is admitted");
        state.apply(&execution.changes);
        parent = Parent::of(&block.header);
        let certificate = certify(&chain_id, &genesis, &block, &signers);
        blocks.push(Committed {
            block,
            receipts: execution.receipts,
            certificate,
        });
    }
    (genesis, blocks)
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
/// `S` is not reduced, which the strict rule refuses.
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
    version[8] = 3;
    push(
        "version-3",
        "format version 3 (unknown to a verifier of versions 1 and 2)",
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
