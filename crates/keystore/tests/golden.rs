//! Golden key files: `tests/golden/encrypted-v1.json` (passphrase [`PASSPHRASE`]) and
//! `tests/golden/plain.json`, both holding the seed 00 01 02 ... 1f.
//!
//! The encrypted fixture uses the minimum KDF parameters so that the test is fast; the client
//! writes [`KdfParams::RECOMMENDED`]. With `COURTLEDGER_UPDATE_GOLDEN=1` the fixtures are
//! written instead: a deliberate format change.

// Helpers outside #[test] functions are test code too.
#![allow(clippy::unwrap_used)]

use std::os::unix::fs::PermissionsExt as _;
use std::path::PathBuf;

use courtledger_crypto::SigningKey;
use courtledger_keystore::{
    encrypt_to_json, from_json_with, read_key_file_with, to_json, KdfParams, KeyFileError,
    KeyFileFormat, PassphraseError, Zeroizing, NONCE_LEN, SALT_LEN,
};

const PASSPHRASE: &str = "correct horse battery staple";
const PUBLIC_KEY: &str = "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8";

fn seed() -> [u8; 32] {
    std::array::from_fn(|i| u8::try_from(i).unwrap())
}

fn salt() -> [u8; SALT_LEN] {
    std::array::from_fn(|i| 0xa0 + u8::try_from(i).unwrap())
}

fn nonce() -> [u8; NONCE_LEN] {
    std::array::from_fn(|i| 0xb0 + u8::try_from(i).unwrap())
}

fn golden(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

/// Compares `text` with the fixture, or writes it with `COURTLEDGER_UPDATE_GOLDEN=1`.
fn check_golden(name: &str, text: &str) {
    let path = golden(name);
    if std::env::var_os("COURTLEDGER_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, text).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        text, expected,
        "{name} differs from its golden fixture: a format change must be deliberate"
    );
}

fn passphrase(text: &str) -> Result<Zeroizing<String>, PassphraseError> {
    Ok(Zeroizing::new(text.to_owned()))
}

#[test]
fn the_writer_reproduces_the_fixtures() {
    let key = SigningKey::from_seed(&seed());
    assert_eq!(key.public_key().to_string(), PUBLIC_KEY);
    let encrypted = encrypt_to_json(&key, PASSPHRASE, KdfParams::MIN, salt(), nonce()).unwrap();
    check_golden("encrypted-v1.json", &encrypted);
    check_golden("plain.json", &to_json(&key));
}

#[test]
fn the_encrypted_fixture_decrypts_with_its_passphrase_only() {
    let text = std::fs::read_to_string(golden("encrypted-v1.json")).unwrap();
    let loaded = from_json_with(&text, || passphrase(PASSPHRASE)).unwrap();
    assert_eq!(loaded.format, KeyFileFormat::Encrypted);
    assert_eq!(loaded.key.seed(), seed());
    assert_eq!(loaded.key.public_key().to_string(), PUBLIC_KEY);
    assert!(matches!(
        from_json_with(&text, || passphrase("correct horse battery stapl")),
        Err(KeyFileError::WrongPassphrase)
    ));
}

#[test]
fn the_fixtures_read_from_private_files() {
    // Git does not keep the 0600 mode, so the fixtures are copied into private files first.
    let dir = tempfile::tempdir().unwrap();
    for (name, format) in [
        ("encrypted-v1.json", KeyFileFormat::Encrypted),
        ("plain.json", KeyFileFormat::Plain),
    ] {
        let path = dir.path().join(name);
        std::fs::copy(golden(name), &path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let mut asked = 0;
        let loaded = read_key_file_with(&path, || {
            asked += 1;
            passphrase(PASSPHRASE)
        })
        .unwrap();
        assert_eq!(loaded.format, format);
        assert_eq!(loaded.key.public_key().to_string(), PUBLIC_KEY);
        assert_eq!(asked, usize::from(format == KeyFileFormat::Encrypted));
    }
}
