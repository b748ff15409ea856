//! Tests.

#[test]
#[ignore]
fn timing_scratch() {
    use crate::*;
    use std::time::Instant;
    let chain = ChainId(sha256(b"c"));
    let keys: Vec<SigningKey> = (0..64u8).map(|i| SigningKey::from_seed(&[i; 32])).collect();
    let pks: Vec<PublicKey> = keys.iter().map(|k| k.public_key()).collect();
    let msgs: Vec<Vec<u8>> = (0..64u8).map(|i| vec![i; 100]).collect();
    let sigs: Vec<Signature> = keys
        .iter()
        .zip(&msgs)
        .map(|(k, m)| k.sign(Domain::Vote, &chain, m))
        .collect();
    let n = 20;
    let t = Instant::now();
    for _ in 0..n {
        for i in 0..64 {
            verify(&pks[i], Domain::Vote, &chain, &msgs[i], &sigs[i]).unwrap();
        }
    }
    println!("single ours: {:?}/sig", t.elapsed() / (n * 64));
    let vks: Vec<_> = pks.iter().map(|p| *p.verifying_key()).collect();
    let dsigs: Vec<_> = sigs
        .iter()
        .map(|s| ed25519_dalek::Signature::from_bytes(&s.0))
        .collect();
    let full: Vec<Vec<u8>> = msgs
        .iter()
        .map(|m| signing_message(Domain::Vote, &chain, m))
        .collect();
    let t = Instant::now();
    for _ in 0..n {
        for i in 0..64 {
            vks[i].verify_strict(&full[i], &dsigs[i]).unwrap();
        }
    }
    println!("verify_strict: {:?}/sig", t.elapsed() / (n * 64));
    let fr: Vec<&[u8]> = full.iter().map(|m| m.as_slice()).collect();
    let t = Instant::now();
    for _ in 0..n {
        ed25519_dalek::verify_batch(&fr, &dsigs, &vks).unwrap();
    }
    println!("dalek batch 64: {:?}/sig", t.elapsed() / (n * 64));
    let items: Vec<BatchItem> = (0..64)
        .map(|i| BatchItem {
            public_key: &pks[i],
            domain: Domain::Vote,
            chain_id: &chain,
            message: &msgs[i],
            signature: &sigs[i],
        })
        .collect();
    let t = Instant::now();
    for _ in 0..n {
        verify_batch(&items).unwrap();
    }
    println!("ours batch 64: {:?}/sig", t.elapsed() / (n * 64));
    let rs: Vec<_> = sigs
        .iter()
        .map(|s| {
            curve25519_dalek::edwards::CompressedEdwardsY(s.0[..32].try_into().unwrap())
                .decompress()
                .unwrap()
        })
        .collect();
    let t = Instant::now();
    for _ in 0..n {
        for r in &rs {
            assert!(crate::keys::is_torsion_free(r));
        }
    }
    println!("vartime torsion: {:?}/pt", t.elapsed() / (n * 64));
    let t = Instant::now();
    for _ in 0..n {
        for r in &rs {
            assert!(r.is_torsion_free());
        }
    }
    println!("ct torsion: {:?}/pt", t.elapsed() / (n * 64));
    let t = Instant::now();
    for _ in 0..n {
        for s in &sigs {
            let b: [u8; 32] = s.0[..32].try_into().unwrap();
            let p = curve25519_dalek::edwards::CompressedEdwardsY(b)
                .decompress()
                .unwrap();
            assert!(p.compress().0 == b);
        }
    }
    println!("decompress+compress: {:?}/pt", t.elapsed() / (n * 64));
}
