//! Random batches of valid signatures with random corruptions at random positions: the batch
//! verdict is the conjunction of the single verdicts, and the reported index and error are those
//! of the first failing signature.

use curve25519_dalek::constants::EIGHT_TORSION;
use curve25519_dalek::scalar::Scalar;
use proptest::prelude::*;

use super::points::non_canonical_encodings;
use super::{add_le, reference_rule, signature_from, test_chain, Signed, TestKey, L};
use crate::{
    sha256, signing_message, verify, verify_batch, BatchError, BatchItem, ChainId, Domain,
    PublicKey, Signature, SigningKey,
};

#[derive(Clone, Debug)]
struct Item {
    key: TestKey,
    public_key: PublicKey,
    domain: Domain,
    chain_id: ChainId,
    body: Vec<u8>,
    signature: Signature,
}

impl Item {
    fn signed_bytes(&self) -> Vec<u8> {
        signing_message(self.domain, &self.chain_id, &self.body)
    }
}

const KINDS: u8 = 12;

/// Applies corruption `kind` (with parameters) to `items[position]`.
fn corrupt(items: &mut [Item], position: usize, kind: u8, param: u16, random: [u8; 64]) {
    let count = items.len();
    let next_signature = items[(position + 1) % count].signature;
    let item = &mut items[position];
    let param = usize::from(param);
    let mut r = [0u8; 32];
    r.copy_from_slice(&item.signature.0[..32]);
    let mut s = [0u8; 32];
    s.copy_from_slice(&item.signature.0[32..]);
    match kind {
        0 => item.signature.0[(param / 8) % 64] ^= 1 << (param % 8),
        1 => match item.body.len() {
            0 => item.body.push(0),
            len => item.body[(param / 8) % len] ^= 1 << (param % 8),
        },
        2 => {
            let index = Domain::ALL
                .iter()
                .position(|d| *d == item.domain)
                .unwrap_or(0);
            item.domain = Domain::ALL[(index + 1 + param % 5) % 6];
        }
        3 => item.chain_id = ChainId(sha256(&param.to_le_bytes())),
        4 => item.public_key = TestKey::new(&param.to_le_bytes()).public,
        5 => {
            // S + l when that fits in 256 bits (S < l unless an earlier corruption changed it),
            // else S with its top bit set: non-canonical either way.
            let mut s_plus_l = s;
            if s[31] < 0x80 {
                s_plus_l = add_le(&s, &L);
            } else {
                s_plus_l[31] |= 0x80;
            }
            item.signature = signature_from(r, s_plus_l);
        }
        6 => {
            let torsion = EIGHT_TORSION[param % 8].compress().to_bytes();
            item.signature = item
                .key
                .sign_with_r(torsion, Scalar::ZERO, &item.signed_bytes());
        }
        7 => {
            item.signature = item
                .key
                .sign_mixed(&random[..8], 1 + param % 7, &item.signed_bytes());
        }
        8 => {
            let encodings = non_canonical_encodings();
            let r_bytes = encodings[param % encodings.len()];
            item.signature = item
                .key
                .sign_with_r(r_bytes, Scalar::ZERO, &item.signed_bytes());
        }
        9 => item.signature = Signature(random),
        10 => {
            // Random R with a canonical S.
            let mut s_random = [0u8; 32];
            s_random.copy_from_slice(&random[32..]);
            let mut r_random = [0u8; 32];
            r_random.copy_from_slice(&random[..32]);
            item.signature =
                signature_from(r_random, Scalar::from_bytes_mod_order(s_random).to_bytes());
        }
        _ => item.signature = next_signature,
    }
}

fn build(specs: &[(u8, usize, Vec<u8>)]) -> Vec<Item> {
    let chain_id = test_chain();
    specs
        .iter()
        .enumerate()
        .map(|(index, (key_index, domain_index, body))| {
            let key = TestKey::new(&[*key_index]);
            let domain = Domain::ALL[domain_index % 6];
            let signed = signing_message(domain, &chain_id, body);
            let signature = key.sign(&index.to_le_bytes(), &signed);
            Item {
                key,
                public_key: key.public,
                domain,
                chain_id,
                body: body.clone(),
                signature,
            }
        })
        .collect()
}

proptest! {
    #[test]
    fn batch_verdict_is_the_first_single_failure(
        specs in prop::collection::vec((0u8..4, 0usize..6, prop::collection::vec(any::<u8>(), 0..24)), 1..12),
        corruptions in prop::collection::vec(
            (any::<prop::sample::Index>(), 0..KINDS, any::<u16>(), any::<[u8; 32]>(), any::<[u8; 32]>()),
            0..4,
        ),
    ) {
        let mut items = build(&specs);
        let mut corrupted = vec![false; items.len()];
        for (position, kind, param, random_r, random_s) in corruptions {
            let position = position.index(items.len());
            corrupted[position] = true;
            let random = signature_from(random_r, random_s).0;
            corrupt(&mut items, position, kind, param, random);
        }
        let singles: Vec<_> = items
            .iter()
            .map(|item| verify(&item.public_key, item.domain, &item.chain_id, &item.body, &item.signature))
            .collect();
        for (item, single) in items.iter().zip(&singles) {
            let signed = Signed {
                public_key: item.public_key,
                message: item.signed_bytes(),
                signature: item.signature,
            };
            prop_assert_eq!(single.is_ok(), reference_rule(&signed));
        }
        for (single, corrupted) in singles.iter().zip(&corrupted) {
            if !corrupted {
                prop_assert_eq!(single, &Ok(()));
            }
        }
        let expected = singles
            .iter()
            .enumerate()
            .find_map(|(index, single)| single.err().map(|error| BatchError { index, error }));
        let batch: Vec<BatchItem<'_>> = items
            .iter()
            .map(|item| BatchItem {
                public_key: &item.public_key,
                domain: item.domain,
                chain_id: &item.chain_id,
                message: &item.body,
                signature: &item.signature,
            })
            .collect();
        prop_assert_eq!(verify_batch(&batch), expected.map_or(Ok(()), Err));
    }

    #[test]
    fn honest_signatures_verify_on_both_paths(
        seeds in prop::collection::vec((any::<[u8; 32]>(), 0usize..6, prop::collection::vec(any::<u8>(), 0..64)), 1..8),
    ) {
        let chain_id = test_chain();
        let signed: Vec<(PublicKey, Domain, Vec<u8>, Signature)> = seeds
            .iter()
            .map(|(seed, domain, body)| {
                let key = SigningKey::from_seed(seed);
                let domain = Domain::ALL[*domain];
                (key.public_key(), domain, body.clone(), key.sign(domain, &chain_id, body))
            })
            .collect();
        for (public_key, domain, body, signature) in &signed {
            prop_assert_eq!(verify(public_key, *domain, &chain_id, body, signature), Ok(()));
        }
        let batch: Vec<BatchItem<'_>> = signed
            .iter()
            .map(|(public_key, domain, body, signature)| BatchItem {
                public_key,
                domain: *domain,
                chain_id: &chain_id,
                message: body,
                signature,
            })
            .collect();
        prop_assert_eq!(verify_batch(&batch), Ok(()));
    }
}
