//! Bundles of a real chain verify; every way of tampering with one is refused by the check
//! that names it; the verification rate (ignored test, run in release).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeSet;
use std::time::Instant;

use courtledger_codec::Encode;
use courtledger_crypto::sha256;
use courtledger_ledger::{ActKind, Code};
use courtledger_proof::describe::{beijing_rfc3339, utc_rfc3339};
use courtledger_proof::{
    verify, verify_bytes, AssembleError, CertifiedHeader, Outcome, ProofBundle, ProofError,
    FORMAT_VERSION, FORMAT_VERSION_CHECKPOINT, FORMAT_VERSION_SET_LINKS, MAX_PROOF_BUNDLE_V2_BYTES,
    MAX_PROOF_BUNDLE_V3_BYTES,
};
use support::{cases, chain, genesis, set_chain, CHAIN, OTHER_CHAIN, T0};

#[test]
fn every_transaction_of_the_chain_verifies() {
    let (genesis, blocks) = chain(CHAIN);
    for committed in &blocks {
        for (index, tx) in committed.block.txs.iter().enumerate() {
            let index = u32::try_from(index).unwrap();
            let bundle = committed.bundle(index);
            let bytes = bundle.to_bytes();
            assert_eq!(&bytes[..7], b"CLPROOF");
            assert_eq!(bytes[7..9], FORMAT_VERSION.to_be_bytes());
            let decoded = ProofBundle::decode(&bytes).unwrap();
            assert_eq!(decoded, bundle);
            assert_eq!(decoded.to_bytes(), bytes, "decoding is canonical");
            let verified = verify(&decoded, &genesis).unwrap();
            assert_eq!(verified.tx_id, tx.id());
            assert_eq!(verified.tx, *tx);
            assert_eq!(verified.header, committed.block.header);
            assert_eq!(verified.block_id, committed.block.header.id());
            assert_eq!(
                verified.receipt,
                committed.receipts[usize::try_from(index).unwrap()]
            );
            assert_eq!(verified.chain_id, genesis.chain_id());
            assert_eq!(verified.total_power, 4);
            assert_eq!(verified.validator_count, 4);
        }
    }

    // Block 1: all four courts signed; block 2: three of them.
    let first = verify(&blocks[0].bundle(0), &genesis).unwrap();
    let courts: Vec<String> = first
        .signers
        .iter()
        .map(|s| s.court_code.to_string())
        .collect();
    assert_eq!(courts, ["0000", "京", "京01", "京0105"]);
    assert_eq!(first.signed_power, 4);
    assert_eq!(first.act.act_kind(), Some(ActKind::RegisterIdentity));
    assert_eq!(first.header.time_ms, T0);

    let filing = verify(&blocks[1].bundle(0), &genesis).unwrap();
    let courts: Vec<String> = filing
        .signers
        .iter()
        .map(|s| s.court_code.to_string())
        .collect();
    assert_eq!(courts, ["0000", "京", "京0105"]);
    assert_eq!(filing.signed_power, 3);
    assert_eq!(filing.outcome(), Outcome::Applied);
    assert_eq!(filing.outcome().name(), "ok");
    assert_eq!(filing.act.act_kind(), Some(ActKind::FileCase));
    assert_eq!(filing.header.height, 2);

    // A failed act verifies, and says that it failed.
    let review = verify(&blocks[1].bundle(2), &genesis).unwrap();
    assert_eq!(review.act.act_kind(), Some(ActKind::ReviewFiling));
    assert_eq!(review.receipt.code, Code::NotAuthorized.number());
    assert_eq!(
        review.outcome(),
        Outcome::Failed {
            code: 5,
            name: Some("not_authorized")
        }
    );
    assert_eq!(review.outcome().name(), "not_authorized");
}

#[test]
fn the_filing_is_described_in_plain_words() {
    let (genesis, blocks) = chain(CHAIN);
    let filing = verify(&blocks[1].bundle(0), &genesis).unwrap();
    let fields = filing.act.fields();
    let get = |name: &str| {
        fields
            .iter()
            .find(|f| f.name == name)
            .unwrap_or_else(|| panic!("no field {name}"))
            .value
            .clone()
    };
    assert_eq!(get("court"), "京0105");
    assert_eq!(get("kind"), "civil");
    assert_eq!(
        get("complaint"),
        sha256(support::COMPLAINT.as_bytes()).to_string()
    );
    assert_eq!(get("attachments[1].kind"), "evidence");
    assert!(get("plaintiffs[0]").starts_with("registered identity "));
    let docs = filing.act.documents();
    let names: Vec<&str> = docs.iter().map(|d| d.field.as_str()).collect();
    assert_eq!(
        names,
        [
            "claim_summary",
            "complaint",
            "attachments[0].sha256",
            "attachments[1].sha256"
        ]
    );
    assert_eq!(docs[1].sha256, sha256(support::COMPLAINT.as_bytes()));
    assert_eq!(
        docs[3].size,
        Some(u64::try_from(support::EVIDENCE.len()).unwrap())
    );
    assert_eq!(
        utc_rfc3339(filing.header.time_ms),
        "2026-03-02T01:01:00.000Z"
    );
    assert_eq!(
        beijing_rfc3339(filing.header.time_ms),
        "2026-03-02T09:01:00.000+08:00"
    );
}

#[test]
fn every_tampering_is_refused_by_its_check() {
    let genesis_a = genesis(CHAIN);
    let genesis_b = genesis(OTHER_CHAIN);
    let mut seen = BTreeSet::new();
    let mut failures = Vec::new();
    for case in cases() {
        let genesis = match case.genesis {
            "genesis.json" => &genesis_a,
            _ => &genesis_b,
        };
        let verdict = match verify_bytes(&case.bytes, genesis) {
            Ok(_) => "ok",
            Err(error) => {
                assert!(!error.to_string().is_empty());
                error.check()
            }
        };
        if verdict != case.expect {
            failures.push(format!(
                "{}: expected {}, got {verdict}",
                case.name, case.expect
            ));
        }
        seen.insert(verdict);
    }
    assert!(failures.is_empty(), "{failures:#?}");
    let all: BTreeSet<&str> = ProofError::CHECKS.into_iter().chain(["ok"]).collect();
    let missing: Vec<_> = all.difference(&seen).collect();
    assert!(
        missing.is_empty(),
        "checks no vector exercises: {missing:?}"
    );
}

#[test]
fn a_bundle_is_bounded_and_the_largest_fits() {
    use courtledger_types::limits::{MAX_PROOF_BUNDLE_BYTES, MAX_TX_PAYLOAD_BYTES};
    let (genesis, blocks) = chain(CHAIN);
    let mut bundle = blocks[1].bundle(0);
    // Largest parts: the longest payload, 16 path hashes each, 128 signatures.
    bundle.tx.tx.payload = vec![0; usize::try_from(MAX_TX_PAYLOAD_BYTES).unwrap()];
    bundle.tx_proof.path = vec![[0; 32]; 16];
    bundle.receipt_proof.path = vec![[0; 32]; 16];
    bundle.certificate.signatures = vec![bundle.certificate.signatures[0]; 128];
    let bytes = bundle.to_bytes();
    assert!(bytes.len() <= usize::try_from(MAX_PROOF_BUNDLE_BYTES).unwrap());
    assert_eq!(ProofBundle::decode(&bytes).unwrap(), bundle);
    // Over the bound (with a valid preamble) is a format error, whatever follows.
    let mut huge = bytes[..9].to_vec();
    huge.resize(usize::try_from(MAX_PROOF_BUNDLE_BYTES).unwrap() + 1, 0);
    let error = verify_bytes(&huge, &genesis).unwrap_err();
    assert_eq!(error.check(), "format");
    assert!(error.to_string().contains("limit"), "{error}");
}

#[test]
fn a_checkpoint_covers_every_earlier_act_and_round_trips() {
    let (genesis, blocks) = chain(CHAIN);
    let newest = blocks.last().unwrap();
    for committed in &blocks {
        for index in 0..committed.block.header.tx_count {
            let v1 = committed.bundle(index);
            assert_eq!(v1.version(), FORMAT_VERSION);
            let bundle = v1
                .clone()
                .with_checkpoint(newest.checkpoint_of(&blocks, committed, index));
            assert_eq!(bundle.version(), FORMAT_VERSION_CHECKPOINT);
            let bytes = bundle.to_bytes();
            assert_eq!(bytes[7..9], FORMAT_VERSION_CHECKPOINT.to_be_bytes());
            // Version 1's bytes, then the checkpoint.
            assert_eq!(bytes[9..v1.to_bytes().len()], v1.to_bytes()[9..]);
            let decoded = ProofBundle::decode(&bytes).unwrap();
            assert_eq!(decoded, bundle);
            assert_eq!(decoded.to_bytes(), bytes, "decoding is canonical");
            let verified = verify(&decoded, &genesis).unwrap();
            let checkpoint = verified.checkpoint.unwrap();
            assert_eq!(checkpoint.header, newest.block.header);
            assert_eq!(checkpoint.leaf_index, v1.log_leaf_index().unwrap());
            assert_eq!(checkpoint.signed_power, 3);
            // The version 1 bundle says nothing of a checkpoint.
            assert!(verify(&v1, &genesis).unwrap().checkpoint.is_none());
        }
    }
    assert_eq!(ProofError::checks_of(1), ProofError::V1_CHECKS);
    assert_eq!(ProofError::checks_of(2).len(), 32);
    assert_eq!(ProofError::checks_of(3), ProofError::CHECKS);
}

#[test]
fn a_version_2_bundle_is_bounded_and_the_largest_fits() {
    use courtledger_proof::bundle::MAX_LOG_PATH_LEN;
    use courtledger_types::limits::MAX_TX_PAYLOAD_BYTES;
    let (genesis, blocks) = chain(CHAIN);
    let mut bundle = blocks[1]
        .bundle(0)
        .with_checkpoint(blocks[2].checkpoint_of(&blocks, &blocks[1], 0));
    bundle.tx.tx.payload = vec![0; usize::try_from(MAX_TX_PAYLOAD_BYTES).unwrap()];
    bundle.tx_proof.path = vec![[0; 32]; 16];
    bundle.receipt_proof.path = vec![[0; 32]; 16];
    bundle.certificate.signatures = vec![bundle.certificate.signatures[0]; 128];
    let checkpoint = bundle.checkpoint.as_mut().unwrap();
    checkpoint.certificate.signatures = vec![checkpoint.certificate.signatures[0]; 128];
    checkpoint.log_proof.path = vec![[0; 32]; usize::try_from(MAX_LOG_PATH_LEN).unwrap()];
    let bytes = bundle.to_bytes();
    let max = usize::try_from(MAX_PROOF_BUNDLE_V2_BYTES).unwrap();
    assert_eq!(max, 87_828);
    assert!(bytes.len() <= max, "{} > {max}", bytes.len());
    assert_eq!(ProofBundle::decode(&bytes).unwrap(), bundle);
    let mut huge = bytes[..9].to_vec();
    huge.resize(max + 1, 0);
    let error = verify_bytes(&huge, &genesis).unwrap_err();
    assert_eq!(error.check(), "format");
    // A version 1 bundle is bounded by the version 1 bound.
    let mut v1 = huge;
    v1[8] = 1;
    v1.truncate(usize::try_from(courtledger_types::limits::MAX_PROOF_BUNDLE_BYTES).unwrap() + 1);
    assert_eq!(verify_bytes(&v1, &genesis).unwrap_err().check(), "format");
}

#[test]
fn a_certified_header_is_a_checkpoint_file() {
    let (genesis, blocks) = chain(CHAIN);
    let other = support::genesis(OTHER_CHAIN);
    for committed in &blocks {
        let head = CertifiedHeader::new(
            committed.block.header.clone(),
            committed.certificate.clone(),
        );
        let bytes = head.to_bytes();
        assert_eq!(&bytes[..9], b"CLCHKPT\x00\x01");
        assert_eq!(CertifiedHeader::decode(&bytes).unwrap(), head);
        let verified = head.verify(&genesis).unwrap();
        assert_eq!(verified.block_id, committed.block.header.id());
        assert_eq!(verified.total_power, 4);
        assert_eq!(head.verify(&other).unwrap_err().check(), "chain");
        let mut tampered = head.clone();
        tampered.header.log_root.0[0] ^= 1;
        assert_eq!(
            tampered.verify(&genesis).unwrap_err().check(),
            "certificate_block_id"
        );
        let mut tampered = head.clone();
        tampered.header.validators_hash.0[0] ^= 1;
        assert_eq!(
            tampered.verify(&genesis).unwrap_err().check(),
            "validator_set"
        );
        let mut tampered = head.clone();
        tampered.certificate.signatures.truncate(2);
        assert_eq!(
            tampered.verify(&genesis).unwrap_err().check(),
            "certificate_quorum"
        );
        let mut tampered = head.clone();
        tampered.certificate.signatures[1].signature.0[0] ^= 1;
        assert_eq!(
            tampered.verify(&genesis).unwrap_err().check(),
            "certificate_signature"
        );
        for (bad, check) in [
            (Vec::new(), "format"),
            (bytes[..bytes.len() - 1].to_vec(), "format"),
            ([bytes.as_slice(), &[0]].concat(), "format"),
            ([b"CLPROOF".as_slice(), &bytes[7..]].concat(), "format"),
            ([&bytes[..8], &[3], &bytes[9..]].concat(), "version"),
            // Version 2 carries links first: a version 1 body is not one.
            ([&bytes[..8], &[2], &bytes[9..]].concat(), "format"),
        ] {
            assert_eq!(CertifiedHeader::decode(&bad).unwrap_err().check(), check);
        }
    }
}

#[test]
fn assembling_refuses_an_inconsistent_store() {
    let (_, blocks) = chain(CHAIN);
    let committed = &blocks[1];
    let header = &committed.block.header;
    let tx = &committed.block.txs[0];
    let cert = &committed.certificate;
    let mut receipts = committed.receipts.clone();
    assert!(ProofBundle::assemble(header, tx, &receipts, cert, 0).is_ok());
    assert!(matches!(
        ProofBundle::assemble(header, tx, &receipts, cert, 6),
        Err(AssembleError::NoSuchIndex { .. })
    ));
    assert!(matches!(
        ProofBundle::assemble(header, tx, &receipts, cert, 1),
        Err(AssembleError::WrongReceipt { index: 1 })
    ));
    assert!(matches!(
        ProofBundle::assemble(header, tx, &receipts[..5], cert, 0),
        Err(AssembleError::ReceiptCount { .. })
    ));
    receipts[3].code = 9;
    assert!(matches!(
        ProofBundle::assemble(header, tx, &receipts, cert, 0),
        Err(AssembleError::ResultsRoot)
    ));
    let mut other_cert = cert.clone();
    other_cert.height = 1;
    assert!(matches!(
        ProofBundle::assemble(header, tx, &committed.receipts, &other_cert, 0),
        Err(AssembleError::Certificate)
    ));
}

#[test]
fn every_transaction_of_a_chain_with_set_changes_verifies_with_its_links() {
    let sc = set_chain(CHAIN);
    let genesis = &sc.genesis;
    let courts = |signers: &[courtledger_proof::Signer]| -> Vec<String> {
        signers.iter().map(|s| s.court_code.to_string()).collect()
    };
    for committed in &sc.blocks {
        let height = committed.block.header.height;
        for index in 0..committed.block.header.tx_count {
            let bundle = sc.bundle(height, index);
            let links = bundle.links.len();
            assert_eq!(links, usize::from(height >= 6) + usize::from(height >= 9));
            let bytes = bundle.to_bytes();
            let version = if links > 0 {
                FORMAT_VERSION_SET_LINKS
            } else {
                FORMAT_VERSION
            };
            assert_eq!(bytes[7..9], version.to_be_bytes(), "block {height}");
            let decoded = ProofBundle::decode(&bytes).unwrap();
            assert_eq!(decoded, bundle);
            assert_eq!(decoded.to_bytes(), bytes, "decoding is canonical");
            let tx = &committed.block.txs[usize::try_from(index).unwrap()];
            let verified = verify(&decoded, genesis).unwrap();
            if let Some(change) = courtledger_types::SignedSetChange::from_payload(&tx.tx.payload) {
                // A set change is the validators' act: its bundle proves it like any other.
                assert_eq!(
                    verified.act,
                    courtledger_proof::describe::Deed::SetChange(change.unwrap())
                );
                assert_eq!(verified.act.kind_name(), "change_validator_set");
                assert!(verified.act.documents().is_empty());
            }
            assert_eq!(verified.block_set_changes, links);
            assert_eq!(verified.set_changes.len(), links);
            assert_eq!(verified.format_version(), version);
            let (validators, total) = match height {
                1..=5 => (4, 4),
                6..=8 => (5, 5),
                _ => (4, 4),
            };
            assert_eq!(
                (verified.validator_count, verified.total_power),
                (validators, total)
            );
            // Every version 3 bundle with the checkpoint of block 10 verifies too.
            let with = sc.bundle_at(height, index, 10);
            assert_eq!(with.version(), FORMAT_VERSION_SET_LINKS);
            let v = verify_bytes(&with.to_bytes(), genesis).unwrap();
            let checkpoint = v.checkpoint.unwrap();
            assert_eq!(courts(&checkpoint.signers), ["京", "京0105", "京0108"]);
            assert_eq!(checkpoint.total_power, 4);
            assert_eq!(v.set_changes.len(), 2);
            assert_eq!(v.block_set_changes, links);
            assert_eq!(v.signers, verified.signers);
        }
    }
    // The courts that signed come from the set in force: the five, then the four.
    let six = verify(&sc.bundle(6, 0), genesis).unwrap();
    assert_eq!(courts(&six.signers), ["0000", "京", "京0105", "京0108"]);
    assert_eq!(six.signed_power, 4);
    let nine = verify(&sc.bundle(9, 0), genesis).unwrap();
    assert_eq!(courts(&nine.signers), ["0000", "京", "京0108"]);
    let change = &nine.set_changes[1];
    assert_eq!(change.activation_height, 9);
    assert_eq!(change.courts.len(), 4);
    assert_eq!(
        courts(&change.approvers),
        ["京", "京01", "京0105", "京0108"]
    );
    assert_eq!((change.approved_power, change.total_power), (4, 4));
    assert_eq!(
        nine.checks_passed(),
        ProofError::checks_run(true, false),
        "no checkpoint checks"
    );
    // Without its links the bundle of block 6 names a set the verifier does not know.
    let bare = sc.block(6).bundle(0);
    assert_eq!(verify(&bare, genesis).unwrap_err().check(), "validator_set");
    // A checkpoint file of block 10 needs the links too.
    let head = CertifiedHeader::new(
        sc.block(10).block.header.clone(),
        sc.block(10).certificate.clone(),
    );
    assert_eq!(head.verify(genesis).unwrap_err().check(), "validator_set");
    let head = head.with_links(sc.links_to(10));
    let bytes = head.to_bytes();
    assert_eq!(&bytes[..9], b"CLCHKPT\x00\x02");
    let decoded = CertifiedHeader::decode(&bytes).unwrap();
    assert_eq!(decoded, head);
    let v = decoded.verify(genesis).unwrap();
    assert_eq!(v.set_changes.len(), 2);
    assert_eq!(v.total_power, 4);
    let mut beyond = head.clone();
    beyond.header = sc.block(8).block.header.clone();
    beyond.certificate = sc.block(8).certificate.clone();
    assert_eq!(
        beyond.verify(genesis).unwrap_err().check(),
        "set_link_height"
    );
    let mut empty = bytes[..9].to_vec();
    empty.extend_from_slice(&0u32.to_be_bytes());
    empty.extend_from_slice(
        &CertifiedHeader::new(head.header.clone(), head.certificate.clone()).to_bytes()[9..],
    );
    assert_eq!(
        CertifiedHeader::decode(&empty).unwrap_err().check(),
        "format"
    );
}

#[test]
fn a_version_3_bundle_is_bounded_and_the_largest_fits() {
    use courtledger_proof::links::{MAX_SET_LINKS, MAX_SET_LINK_BYTES};
    use courtledger_types::limits::{
        MAX_ADDRESS_BYTES, MAX_COURT_CODE_BYTES, MAX_TX_PAYLOAD_BYTES, MAX_VALIDATORS,
    };
    let sc = set_chain(CHAIN);
    let mut bundle = sc.bundle_at(6, 0, 10);
    bundle.tx.tx.payload = vec![0; usize::try_from(MAX_TX_PAYLOAD_BYTES).unwrap()];
    bundle.tx_proof.path = vec![[0; 32]; 16];
    bundle.receipt_proof.path = vec![[0; 32]; 16];
    bundle.certificate.signatures = vec![bundle.certificate.signatures[0]; 128];
    let checkpoint = bundle.checkpoint.as_mut().unwrap();
    checkpoint.certificate.signatures = vec![checkpoint.certificate.signatures[0]; 128];
    checkpoint.log_proof.path = vec![[0; 32]; 64];
    // The largest link: 128 members with the longest court codes and addresses, 128
    // approvals, 128 boundary signatures.
    let mut link = bundle.links[0].clone();
    let mut member = link.change.change.members[0].clone();
    member.court_code = courtledger_types::CourtCode::new(
        &"京".repeat(usize::try_from(MAX_COURT_CODE_BYTES).unwrap() / 3),
    )
    .unwrap_or(member.court_code);
    // DNS labels of at most 63 bytes: 62 + 62 + 62 + 61 and three dots, then `:65535`.
    let host = [62, 62, 62, 61].map(|n| "a".repeat(n)).join(".");
    member.p2p_address = format!("{host}:65535");
    assert_eq!(
        member.p2p_address.len(),
        usize::try_from(MAX_ADDRESS_BYTES).unwrap()
    );
    link.change.change.members = vec![member; usize::try_from(MAX_VALIDATORS).unwrap()];
    link.change.approvals =
        vec![link.change.approvals[0]; usize::try_from(MAX_VALIDATORS).unwrap()];
    link.certificate.signatures = vec![link.certificate.signatures[0]; 128];
    assert!(link.to_bytes().len() <= usize::try_from(MAX_SET_LINK_BYTES).unwrap());
    bundle.links = vec![link; usize::try_from(MAX_SET_LINKS).unwrap()];
    let bytes = bundle.to_bytes();
    let max = usize::try_from(MAX_PROOF_BUNDLE_V3_BYTES).unwrap();
    assert!(bytes.len() <= max, "{} > {max}", bytes.len());
    assert_eq!(ProofBundle::decode(&bytes).unwrap(), bundle);
    let mut huge = bytes[..9].to_vec();
    huge.resize(max + 1, 0);
    assert_eq!(
        verify_bytes(&huge, &sc.genesis).unwrap_err().check(),
        "format"
    );
}

/// `cargo test --release -p courtledger-proof -- --ignored --nocapture`
#[test]
#[ignore = "timing; run in release with --ignored --nocapture"]
fn verification_rate() {
    let (genesis, blocks) = chain(CHAIN);
    let three = blocks[1].bundle(0).to_bytes();
    let four = blocks[0].bundle(0).to_bytes();
    let sc = set_chain(CHAIN);
    let one = sc.bundle(6, 0).to_bytes();
    let two = sc.bundle(9, 0).to_bytes();
    let v3_checkpoint = sc.bundle_at(2, 0, 10).to_bytes();
    for (label, bytes) in [
        ("v1, 3 of 4 signatures", &three),
        ("v1, 4 of 4 signatures", &four),
        ("v3, 1 set link, 4 of 5 signatures", &one),
        ("v3, 2 set links, 3 of 4 signatures", &two),
        ("v3, 2 set links and a checkpoint", &v3_checkpoint),
    ] {
        for _ in 0..50 {
            verify_bytes(bytes, &genesis).unwrap();
        }
        let rounds = 2000u32;
        let start = Instant::now();
        for _ in 0..rounds {
            verify_bytes(bytes, &genesis).unwrap();
        }
        let elapsed = start.elapsed();
        let per = elapsed / rounds;
        println!(
            "decode + verify, {label} ({} bytes): {:.1} µs per bundle, {:.0} bundles/s on one core",
            bytes.len(),
            per.as_secs_f64() * 1e6,
            f64::from(rounds) / elapsed.as_secs_f64()
        );
    }
}

/// A certificate cache changes no verdict: every vector, good or tampered, verified in turn
/// with one shared cache (so tampered bundles meet certificates cached from good ones) gets
/// exactly [`verify`]'s verdict; and the bundles of one block check its certificate once.
#[test]
fn a_certificate_cache_changes_no_verdict() {
    let mut cache = courtledger_proof::CertificateCache::new();
    let sc = set_chain(CHAIN);
    let mut bundles = Vec::new();
    for committed in &sc.blocks {
        let height = committed.block.header.height;
        for index in 0..committed.block.header.tx_count {
            bundles.push(sc.bundle(height, index));
            bundles.push(sc.bundle_at(height, index, 10));
        }
    }
    let singles = bundles.len();
    for case in cases() {
        if let Ok(bundle) = ProofBundle::decode(&case.bytes) {
            bundles.push(bundle);
        }
    }
    for (round, bundle) in bundles.iter().enumerate() {
        let plain = verify(bundle, &case_genesis()).map(|v| v.tx_id);
        let cached =
            courtledger_proof::verify_with(bundle, &case_genesis(), &mut cache).map(|v| v.tx_id);
        assert_eq!(plain, cached, "bundle {round}");
    }
    assert!(cache.hits > 0);
    assert!(
        cache.misses < u64::try_from(singles).unwrap(),
        "{} misses for {singles} bundles",
        cache.misses
    );
}

fn case_genesis() -> courtledger_types::Genesis {
    genesis(CHAIN)
}

/// How many bundles per second one core verifies when they share certificates (the acts of a
/// case refreshed to one checkpoint), against verifying each alone.
/// `cargo test --release -p courtledger-proof -- --ignored --nocapture shared`
#[test]
#[ignore = "timing; run in release with --ignored --nocapture"]
fn verification_rate_with_shared_certificates() {
    let (genesis, blocks) = chain(CHAIN);
    let at = u64::try_from(blocks.len()).unwrap();
    let mut bundles = Vec::new();
    for committed in &blocks {
        for index in 0..committed.block.header.tx_count {
            let checkpoint = blocks
                .last()
                .unwrap()
                .checkpoint_of(&blocks, committed, index);
            bundles.push(
                committed
                    .bundle(index)
                    .with_checkpoint(checkpoint)
                    .to_bytes(),
            );
        }
    }
    let rounds = 400u32;
    let alone = Instant::now();
    for _ in 0..rounds {
        for bytes in &bundles {
            verify_bytes(bytes, &genesis).unwrap();
        }
    }
    let alone = alone.elapsed();
    let mut cache = courtledger_proof::CertificateCache::new();
    let shared = Instant::now();
    for _ in 0..rounds {
        for bytes in &bundles {
            courtledger_proof::verify_with(
                &ProofBundle::decode(bytes).unwrap(),
                &genesis,
                &mut cache,
            )
            .unwrap();
        }
    }
    let shared = shared.elapsed();
    let count = f64::from(rounds) * f64::from(u32::try_from(bundles.len()).unwrap());
    println!(
        "{} v2 bundles of {} blocks, one checkpoint (block {at}): alone {:.0} bundles/s, \
         with shared certificates {:.0} bundles/s on one core ({} certificate checks, {} hits)",
        bundles.len(),
        blocks.len(),
        count / alone.as_secs_f64(),
        count / shared.as_secs_f64(),
        cache.misses,
        cache.hits
    );
}
