//! Helpers shared by the unit tests: deterministic keys and golden fixtures.

use std::path::PathBuf;

use courtledger_crypto::{sha256, ChainId, SigningKey};

/// A deterministic key for tests: the seed is `[n; 32]`.
pub fn key(n: u8) -> SigningKey {
    SigningKey::from_seed(&[n; 32])
}

/// The chain id used by golden fixtures.
pub fn golden_chain_id() -> ChainId {
    ChainId(sha256(b"courtledger-test"))
}

fn golden_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

/// Compares `bytes` (as lowercase hex) with the checked-in fixture `tests/golden/NAME.hex`.
///
/// With `COURTLEDGER_UPDATE_GOLDEN=1` the fixture is written instead: a deliberate format change.
pub fn check_golden(name: &str, bytes: &[u8]) {
    check_golden_text(&format!("{name}.hex"), &hex::encode(bytes));
}

/// Compares `text` with the checked-in fixture `tests/golden/NAME`.
pub fn check_golden_text(name: &str, text: &str) {
    let path = golden_path(name);
    if std::env::var_os("COURTLEDGER_UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().expect("fixture dir")).expect("create fixture dir");
        std::fs::write(&path, format!("{text}\n")).expect("write fixture");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|error| {
        panic!("golden fixture {} is missing ({error}); run with COURTLEDGER_UPDATE_GOLDEN=1 once and review the diff", path.display())
    });
    assert_eq!(
        text,
        expected.trim_end(),
        "encoding of {name} differs from its golden fixture: a format change must be deliberate"
    );
}
