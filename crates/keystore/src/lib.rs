//! Key files: one ed25519 key as JSON, for node keys and personal keys alike.
//!
//! ```json
//! { "public_key": "<64 hex>", "secret_seed": "<64 hex>" }
//! ```
//! The public key is redundant and checked against the seed, so a damaged file is caught before
//! it signs anything. Files are created with owner-only permissions (0600) and refused when
//! anyone else may read them.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use courtledger_crypto::{PublicKey, SigningKey};
use serde::{Deserialize, Serialize};

/// Largest key file accepted, in bytes.
pub const MAX_KEY_FILE_BYTES: u64 = 4096;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFileJson {
    public_key: String,
    secret_seed: String,
}

/// Why a key file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// Not the expected JSON.
    #[error("not a key file: {0}")]
    Format(String),
    /// The seed is not 64 hex characters.
    #[error("secret_seed must be 64 hex characters")]
    BadSeed,
    /// The public key does not belong to the seed.
    #[error("public_key does not match secret_seed")]
    Mismatch,
    /// Others may read the file.
    #[error(
        "key file {path} has permissions {mode:o}; it must be readable by its owner only (chmod 600)"
    )]
    Permissions { path: PathBuf, mode: u32 },
    /// Larger than any key file.
    #[error("key file {path} is larger than {MAX_KEY_FILE_BYTES} bytes")]
    TooLarge { path: PathBuf },
    /// The file system failed.
    #[error("key file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The key file's JSON text for `key`.
pub fn to_json(key: &SigningKey) -> String {
    let file = KeyFileJson {
        public_key: key.public_key().to_string(),
        secret_seed: hex::encode(key.seed()),
    };
    let mut text = serde_json::to_string_pretty(&file).expect("key file serializes");
    text.push('\n');
    text
}

/// Reads a key from key file JSON.
pub fn from_json(text: &str) -> Result<SigningKey, KeyFileError> {
    let file: KeyFileJson =
        serde_json::from_str(text).map_err(|error| KeyFileError::Format(error.to_string()))?;
    let mut seed = [0u8; 32];
    hex::decode_to_slice(file.secret_seed.trim(), &mut seed).map_err(|_| KeyFileError::BadSeed)?;
    let key = SigningKey::from_seed(&seed);
    let public_key: PublicKey = file
        .public_key
        .parse()
        .map_err(|_| KeyFileError::Mismatch)?;
    if public_key != key.public_key() {
        return Err(KeyFileError::Mismatch);
    }
    Ok(key)
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> KeyFileError + '_ {
    move |source| KeyFileError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Reads a key file, refusing one that others can read or that is not intact.
pub fn read_key_file(path: &Path) -> Result<SigningKey, KeyFileError> {
    let metadata = std::fs::metadata(path).map_err(io_error(path))?;
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyFileError::Permissions {
            path: path.to_path_buf(),
            mode,
        });
    }
    if metadata.len() > MAX_KEY_FILE_BYTES {
        return Err(KeyFileError::TooLarge {
            path: path.to_path_buf(),
        });
    }
    let text = std::fs::read_to_string(path).map_err(io_error(path))?;
    from_json(&text)
}

/// Writes a key file with owner-only permissions and syncs it; never overwrites a file.
pub fn write_key_file(path: &Path, key: &SigningKey) -> Result<(), KeyFileError> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io_error(path))?;
    file.write_all(to_json(key).as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(io_error(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> SigningKey {
        SigningKey::from_seed(&[n; 32])
    }

    #[test]
    fn json_round_trip_and_checks() {
        let text = to_json(&key(9));
        assert_eq!(from_json(&text).unwrap().public_key(), key(9).public_key());
        let swapped = text.replace(
            &key(9).public_key().to_string(),
            &key(8).public_key().to_string(),
        );
        assert!(matches!(from_json(&swapped), Err(KeyFileError::Mismatch)));
        assert!(matches!(from_json("{}"), Err(KeyFileError::Format(_))));
        let short = text.replace(&hex::encode([9u8; 32]), "abcd");
        assert!(matches!(from_json(&short), Err(KeyFileError::BadSeed)));
    }

    #[test]
    fn files_are_private_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.json");
        write_key_file(&path, &key(1)).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(
            read_key_file(&path).unwrap().public_key(),
            key(1).public_key()
        );
        assert!(matches!(
            write_key_file(&path, &key(2)),
            Err(KeyFileError::Io { .. })
        ));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            read_key_file(&path),
            Err(KeyFileError::Permissions { mode: 0o644, .. })
        ));
    }
}
