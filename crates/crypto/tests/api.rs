//! The public API: digests, text and binary forms, domain separation, signing and verification,
//! and golden fixtures that must never change.

use courtledger_codec::{decode_exact, DecodeError, Encode};
use courtledger_crypto::{
    sha256, signing_message, verify, verify_batch, BatchError, BatchItem, ChainId, Digest, Domain,
    HexError, KeyError, PointError, PublicKey, Sha256Hasher, Signature, SignatureError, SigningKey,
    DIGEST_LEN,
};

fn chain() -> ChainId {
    ChainId(sha256(b"courtledger-test"))
}

// ---------------------------------------------------------------------------------------------
// Golden fixtures. These bytes are what validators sign and check: a change here is a change of
// protocol, never a refactoring.

const GOLDEN_SEED: [u8; 32] = [7; 32];
const GOLDEN_MESSAGE: &[u8] = b"golden";
/// `sha256(b"courtledger-test")`.
const GOLDEN_CHAIN_ID: &str = "35d6e4bc731766c48f847290d280ebb71d74230f0459f67982bea2bead5a9e72";
const GOLDEN_PUBLIC_KEY: &str = "ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c";
/// `0x1a || "courtledger/v1/transaction" || chain id || "golden"`.
const GOLDEN_SIGNING_MESSAGE: &str = "\
    1a\
    636f7572746c65646765722f76312f7472616e73616374696f6e\
    35d6e4bc731766c48f847290d280ebb71d74230f0459f67982bea2bead5a9e72\
    676f6c64656e";
/// Also produced by OpenSSL 3 (through pyca/cryptography 48) for the same seed and bytes.
const GOLDEN_SIGNATURE: &str = "\
    17f743beba4283e348f4980dc0f758884fcd77a9be27a5ecb79aeba5ca5222eb\
    7be61a4d41b9979fe5257130a961bf89646867c075b8cb7fa52e7b82ef25ba0f";

#[test]
fn golden_fixtures() {
    let key = SigningKey::from_seed(&GOLDEN_SEED);
    let chain_id = chain();
    assert_eq!(chain_id.to_string(), GOLDEN_CHAIN_ID);
    assert_eq!(key.public_key().to_string(), GOLDEN_PUBLIC_KEY);
    assert_eq!(
        hex::encode(signing_message(
            Domain::Transaction,
            &chain_id,
            GOLDEN_MESSAGE
        )),
        GOLDEN_SIGNING_MESSAGE
    );
    let signature = key.sign(Domain::Transaction, &chain_id, GOLDEN_MESSAGE);
    assert_eq!(signature.to_string(), GOLDEN_SIGNATURE);
    // The fixtures verify when parsed back from text.
    let public_key: PublicKey = GOLDEN_PUBLIC_KEY.parse().expect("golden key parses");
    let signature: Signature = GOLDEN_SIGNATURE.parse().expect("golden signature parses");
    assert_eq!(
        verify(
            &public_key,
            Domain::Transaction,
            &chain_id,
            GOLDEN_MESSAGE,
            &signature
        ),
        Ok(())
    );
}

#[test]
fn signing_message_layout() {
    let chain_id = chain();
    for domain in Domain::ALL {
        let tag = domain.tag();
        let bytes = signing_message(domain, &chain_id, b"body");
        assert_eq!(usize::from(bytes[0]), tag.len());
        assert_eq!(&bytes[1..=tag.len()], tag);
        assert_eq!(
            &bytes[1 + tag.len()..1 + tag.len() + 32],
            chain_id.as_bytes()
        );
        assert_eq!(&bytes[1 + tag.len() + 32..], b"body");
        assert!(tag.starts_with(b"courtledger/v1/"));
    }
    let tags: Vec<&[u8]> = Domain::ALL.iter().map(|d| d.tag()).collect();
    assert_eq!(
        tags,
        [
            b"courtledger/v1/transaction".as_slice(),
            b"courtledger/v1/proposal",
            b"courtledger/v1/vote",
            b"courtledger/v1/checkpoint",
            b"courtledger/v1/validator-set-change",
            b"courtledger/v1/identity-attestation",
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Signing and verification.

#[test]
fn sign_and_verify_every_domain() {
    let key = SigningKey::from_seed(&[1; 32]);
    let public_key = key.public_key();
    let chain_id = chain();
    let message = b"a judgment";
    for domain in Domain::ALL {
        let signature = key.sign(domain, &chain_id, message);
        assert_eq!(
            verify(&public_key, domain, &chain_id, message, &signature),
            Ok(())
        );
        // Deterministic.
        assert_eq!(key.sign(domain, &chain_id, message), signature);
        for other in Domain::ALL.into_iter().filter(|other| *other != domain) {
            assert_eq!(
                verify(&public_key, other, &chain_id, message, &signature),
                Err(SignatureError::Mismatch),
                "{domain:?} signature checked as {other:?}"
            );
        }
        let other_chain = ChainId(sha256(b"another ledger"));
        assert_eq!(
            verify(&public_key, domain, &other_chain, message, &signature),
            Err(SignatureError::Mismatch)
        );
    }
}

#[test]
fn any_flipped_message_bit_fails() {
    let key = SigningKey::from_seed(&[2; 32]);
    let chain_id = chain();
    let message = b"the court finds".to_vec();
    let signature = key.sign(Domain::Vote, &chain_id, &message);
    for bit in 0..message.len() * 8 {
        let mut flipped = message.clone();
        flipped[bit / 8] ^= 1 << (bit % 8);
        assert_eq!(
            verify(
                &key.public_key(),
                Domain::Vote,
                &chain_id,
                &flipped,
                &signature
            ),
            Err(SignatureError::Mismatch)
        );
    }
    let mut longer = message.clone();
    longer.push(0);
    assert_eq!(
        verify(
            &key.public_key(),
            Domain::Vote,
            &chain_id,
            &longer,
            &signature
        ),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn another_key_fails() {
    let chain_id = chain();
    let signature = SigningKey::from_seed(&[3; 32]).sign(Domain::Proposal, &chain_id, b"m");
    let other = SigningKey::from_seed(&[4; 32]).public_key();
    assert_eq!(
        verify(&other, Domain::Proposal, &chain_id, b"m", &signature),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn batches() {
    let chain_id = chain();
    assert_eq!(verify_batch(&[]), Ok(()));
    let keys: Vec<SigningKey> = (0..5u8)
        .map(|i| SigningKey::from_seed(&[i + 20; 32]))
        .collect();
    let public_keys: Vec<PublicKey> = keys.iter().map(SigningKey::public_key).collect();
    let messages: Vec<Vec<u8>> = (0..5u8).map(|i| vec![i; usize::from(i)]).collect();
    let mut signatures: Vec<Signature> = keys
        .iter()
        .zip(&messages)
        .map(|(key, message)| key.sign(Domain::Checkpoint, &chain_id, message))
        .collect();
    let items = |signatures: &[Signature]| -> Result<(), BatchError> {
        let items: Vec<BatchItem<'_>> = (0..5)
            .map(|i| BatchItem {
                public_key: &public_keys[i],
                domain: Domain::Checkpoint,
                chain_id: &chain_id,
                message: &messages[i],
                signature: &signatures[i],
            })
            .collect();
        verify_batch(&items)
    };
    assert_eq!(items(&signatures), Ok(()));
    signatures[3].0[40] ^= 1;
    signatures[4].0[0] ^= 1;
    let error = items(&signatures).expect_err("two bad signatures");
    assert_eq!(error.index, 3);
    assert_eq!(
        Err(error.error),
        verify(
            &public_keys[3],
            Domain::Checkpoint,
            &chain_id,
            &messages[3],
            &signatures[3]
        )
    );
    signatures.swap(0, 1);
    assert_eq!(items(&signatures).map_err(|e| e.index), Err(0));
}

/// A deterministic generator, for `SigningKey::generate` (never use outside tests).
struct CountingRng(u64);

impl rand_core::RngCore for CountingRng {
    fn next_u32(&mut self) -> u32 {
        rand_core::impls::next_u32_via_fill(self)
    }
    fn next_u64(&mut self) -> u64 {
        rand_core::impls::next_u64_via_fill(self)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(32) {
            self.0 += 1;
            let block = sha256(&self.0.to_le_bytes());
            chunk.copy_from_slice(&block.as_bytes()[..chunk.len()]);
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl rand_core::CryptoRng for CountingRng {}

#[test]
fn generated_keys_come_from_the_rng() {
    let mut rng = CountingRng(0);
    let first = SigningKey::generate(&mut rng);
    let second = SigningKey::generate(&mut rng);
    assert_ne!(first.public_key(), second.public_key());
    assert_eq!(first.seed(), *sha256(&1u64.to_le_bytes()).as_bytes());
    let restored = SigningKey::from_seed(&first.seed());
    assert_eq!(restored.public_key(), first.public_key());
    let signature = first.sign(Domain::IdentityAttestation, &chain(), b"x");
    assert_eq!(
        restored.sign(Domain::IdentityAttestation, &chain(), b"x"),
        signature
    );
    // Works through a trait object as well.
    let dynamic: &mut dyn rand_core::CryptoRngCore = &mut rng;
    let _third = SigningKey::generate(dynamic);
}

#[test]
fn signing_key_debug_hides_the_seed() {
    let key = SigningKey::from_seed(&[0xab; 32]);
    let shown = format!("{key:?}");
    assert!(!shown.contains(&hex::encode(key.seed())), "{shown}");
    assert!(!shown.contains("171, 171"), "{shown}");
    assert!(shown.contains(&key.public_key().to_string()), "{shown}");
}

// ---------------------------------------------------------------------------------------------
// Digests.

#[test]
fn sha256_known_answers() {
    assert_eq!(
        sha256(b"").to_string(),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        sha256(b"abc").to_string(),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    let mut hasher = Sha256Hasher::new();
    hasher.update(b"a").update(b"");
    hasher.update(b"bc");
    assert_eq!(hasher.finalize(), sha256(b"abc"));
    assert_eq!(Sha256Hasher::new().finalize(), sha256(b""));
    assert_eq!(DIGEST_LEN, 32);
}

#[test]
fn digest_text_forms() {
    let digest = sha256(b"abc");
    let text = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    assert_eq!(format!("{digest}"), text);
    assert_eq!(format!("{digest:?}"), text);
    assert_eq!(text.parse::<Digest>(), Ok(digest));
    assert_eq!(text.to_uppercase().parse::<Digest>(), Ok(digest));
    assert_eq!(
        text[..62].parse::<Digest>(),
        Err(HexError::WrongLength {
            expected: 64,
            actual: 62
        })
    );
    assert_eq!(
        format!("{text}00").parse::<Digest>(),
        Err(HexError::WrongLength {
            expected: 64,
            actual: 66
        })
    );
    let mut bad = text.to_string();
    bad.replace_range(5..6, "g");
    assert_eq!(
        bad.parse::<Digest>(),
        Err(HexError::InvalidCharacter {
            character: 'g',
            index: 5
        })
    );
    let non_ascii = format!("é{}", &text[2..]);
    assert_eq!(
        non_ascii.parse::<Digest>(),
        Err(HexError::InvalidCharacter {
            character: 'é',
            index: 0
        })
    );
    assert_eq!(format!("{:?}", chain()), chain().to_string());
    assert_eq!(chain().to_string().parse::<ChainId>(), Ok(chain()));
    assert_eq!(Digest::default().to_string(), "0".repeat(64));
}

// ---------------------------------------------------------------------------------------------
// Keys and signatures as text and bytes.

#[test]
fn public_key_text_and_bytes() {
    let public_key = SigningKey::from_seed(&[5; 32]).public_key();
    let text = public_key.to_string();
    assert_eq!(text.len(), 64);
    assert_eq!(format!("{public_key:?}"), text);
    assert_eq!(text.parse::<PublicKey>(), Ok(public_key));
    assert_eq!(PublicKey::from_bytes(public_key.as_bytes()), Ok(public_key));
    assert_eq!(public_key.to_bytes(), *public_key.as_bytes());
    assert_eq!(
        "00".parse::<PublicKey>(),
        Err(KeyError::Hex(HexError::WrongLength {
            expected: 64,
            actual: 2
        }))
    );
    // The identity point.
    let identity = format!("01{}", "0".repeat(62));
    assert_eq!(
        identity.parse::<PublicKey>(),
        Err(KeyError::InvalidPoint(PointError::SmallOrder))
    );
}

#[test]
fn binary_forms() {
    let digest = sha256(b"x");
    assert_eq!(digest.to_bytes(), digest.as_bytes().to_vec());
    assert_eq!(decode_exact::<Digest>(&digest.to_bytes(), 32), Ok(digest));
    assert_eq!(
        decode_exact::<ChainId>(&chain().to_bytes(), 32),
        Ok(chain())
    );
    assert_eq!(chain().to_bytes(), chain().as_bytes().to_vec());

    let key = SigningKey::from_seed(&[6; 32]);
    let public_key = key.public_key();
    assert_eq!(
        public_key.to_bytes().to_vec(),
        Encode::to_bytes(&public_key)
    );
    assert_eq!(
        decode_exact::<PublicKey>(&Encode::to_bytes(&public_key), 32),
        Ok(public_key)
    );
    let mut identity = [0u8; 32];
    identity[0] = 1;
    assert_eq!(
        decode_exact::<PublicKey>(&identity, 32),
        Err(DecodeError::Invalid {
            what: "public key",
            reason: "point of small order"
        })
    );

    let signature = key.sign(Domain::Vote, &chain(), b"v");
    let bytes = Encode::to_bytes(&signature);
    assert_eq!(bytes, signature.as_bytes().to_vec());
    assert_eq!(decode_exact::<Signature>(&bytes, 64), Ok(signature));
    // Decoding does not validate signatures.
    assert_eq!(
        decode_exact::<Signature>(&[0xff; 64], 64),
        Ok(Signature([0xff; 64]))
    );
    assert!(decode_exact::<Signature>(&bytes[..63], 64).is_err());
    let text = signature.to_string();
    assert_eq!(text.len(), 128);
    assert_eq!(format!("{signature:?}"), text);
    assert_eq!(text.parse::<Signature>(), Ok(signature));
}

#[test]
fn errors_display() {
    let error = BatchError {
        index: 2,
        error: SignatureError::InvalidR(PointError::SmallOrder),
    };
    assert_eq!(
        error.to_string(),
        format!(
            "signature 2 of the batch is invalid: signature point R is invalid: {}",
            PointError::SmallOrder
        )
    );
    assert_eq!(
        KeyError::InvalidPoint(PointError::NonCanonical).to_string(),
        "invalid public key: non-canonical point encoding"
    );
}
