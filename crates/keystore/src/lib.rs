//! Key files: one ed25519 key as JSON, for node keys and personal keys alike, in one of two
//! formats (byte by byte in `docs/key-file.md`).
//!
//! The plain format holds the seed in hex:
//! ```json
//! { "public_key": "<64 hex>", "secret_seed": "<64 hex>" }
//! ```
//! The public key is redundant and checked against the seed, so a damaged file is caught before
//! it signs anything.
//!
//! The encrypted format (a top-level `"version"` member tells them apart) holds the seed sealed
//! with ChaCha20-Poly1305 under a key that Argon2id derives from a passphrase; see
//! [`encrypt_to_json`] and [`from_json_with`]. Readers ask for the passphrase only when the file
//! is encrypted.
//!
//! Files of both formats are created with owner-only permissions (0600), are refused when anyone
//! else may read them, and are read only up to [`MAX_KEY_FILE_BYTES`].

mod encrypted;

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Write as _};
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use courtledger_crypto::{PublicKey, SigningKey};
use rand_core::CryptoRngCore;
use serde::{Deserialize, Serialize};

pub use crate::encrypted::{
    encrypt_to_json, encrypt_with_rng, KdfParams, AAD_TAG, CIPHER_ALGORITHM, ENCRYPTED_VERSION,
    KDF_ALGORITHM, NONCE_LEN, SALT_LEN, SEALED_SEED_LEN,
};
pub use zeroize::Zeroizing;

/// Largest key file accepted, in bytes.
pub const MAX_KEY_FILE_BYTES: u64 = 4096;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFileJson {
    public_key: String,
    secret_seed: String,
}

/// The two key file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFileFormat {
    /// The seed in hex, protected only by file permissions.
    Plain,
    /// The seed sealed under a passphrase (Argon2id + ChaCha20-Poly1305).
    Encrypted,
}

/// A key read from a key file, and the file's format.
#[derive(Debug, Clone)]
pub struct LoadedKey {
    /// The signing key.
    pub key: SigningKey,
    /// The format it was stored in.
    pub format: KeyFileFormat,
}

/// Why a passphrase could not be supplied (no terminal, a mismatch when typed twice, ...).
pub type PassphraseError = Box<dyn std::error::Error + Send + Sync>;

/// Why a key file could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
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
    /// The passphrase does not open the file, or the file was changed.
    #[error("wrong passphrase or damaged file")]
    WrongPassphrase,
    /// An encrypted key file of a version this program does not know.
    #[error("unsupported encrypted key file version {0}")]
    UnsupportedVersion(u32),
    /// An algorithm other than the one the version prescribes.
    #[error("unsupported {field} {name:?}")]
    UnsupportedAlgorithm {
        /// The field, e.g. `kdf.algorithm`.
        field: &'static str,
        /// The name found.
        name: String,
    },
    /// A KDF parameter below [`KdfParams::MIN`].
    #[error("kdf.{param} {value} is below the minimum {min}: refusing weak key protection")]
    KdfTooWeak {
        /// The parameter.
        param: &'static str,
        /// Its value in the file.
        value: u32,
        /// The least accepted.
        min: u32,
    },
    /// A KDF parameter above [`KdfParams::MAX`].
    #[error("kdf.{param} {value} is above the maximum {max}")]
    KdfTooCostly {
        /// The parameter.
        param: &'static str,
        /// Its value in the file.
        value: u32,
        /// The most accepted.
        max: u32,
    },
    /// The key derivation failed (for example, its memory could not be allocated).
    #[error("key derivation failed: {0}")]
    Kdf(String),
    /// An encrypted key file must have a passphrase.
    #[error("the passphrase must not be empty")]
    EmptyPassphrase,
    /// The file is encrypted and the passphrase could not be obtained.
    #[error("cannot get the passphrase: {0}")]
    PassphraseUnavailable(PassphraseError),
    /// Others may read the file.
    #[error(
        "key file {path} has permissions {mode:o}; it must be readable by its owner only (chmod 600)"
    )]
    Permissions { path: PathBuf, mode: u32 },
    /// Larger than any key file.
    #[error("key file {path} is larger than {MAX_KEY_FILE_BYTES} bytes")]
    TooLarge { path: PathBuf },
    /// A directory, device or other non-regular file.
    #[error("key file {path} is not a regular file")]
    NotAFile { path: PathBuf },
    /// The file system failed.
    #[error("key file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The plain key file's JSON text for `key`.
pub fn to_json(key: &SigningKey) -> String {
    let seed = Zeroizing::new(key.seed());
    let file = KeyFileJson {
        public_key: key.public_key().to_string(),
        secret_seed: hex::encode(*seed),
    };
    let mut text = serde_json::to_string_pretty(&file).expect("key file serializes");
    text.push('\n');
    text
}

/// Reads a key from plain key file JSON.
pub fn from_json(text: &str) -> Result<SigningKey, KeyFileError> {
    let file: KeyFileJson =
        serde_json::from_str(text).map_err(|error| KeyFileError::Format(error.to_string()))?;
    let mut seed = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(file.secret_seed.trim(), seed.as_mut_slice())
        .map_err(|_| KeyFileError::BadSeed)?;
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

/// Which format `text` is in: encrypted when its top-level object has a `version` member.
pub fn detect_format(text: &str) -> Result<KeyFileFormat, KeyFileError> {
    let object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(text).map_err(|error| KeyFileError::Format(error.to_string()))?;
    Ok(if object.contains_key("version") {
        KeyFileFormat::Encrypted
    } else {
        KeyFileFormat::Plain
    })
}

/// Reads a key from key file JSON of either format. `passphrase` is called only for an
/// encrypted file, at most once, and only after the file's header passed every check (version,
/// algorithms, KDF bounds, field lengths).
pub fn from_json_with<F>(text: &str, passphrase: F) -> Result<LoadedKey, KeyFileError>
where
    F: FnOnce() -> Result<Zeroizing<String>, PassphraseError>,
{
    match detect_format(text)? {
        KeyFileFormat::Plain => Ok(LoadedKey {
            key: from_json(text)?,
            format: KeyFileFormat::Plain,
        }),
        KeyFileFormat::Encrypted => {
            let envelope = encrypted::Envelope::from_json(text)?;
            let passphrase = passphrase().map_err(KeyFileError::PassphraseUnavailable)?;
            Ok(LoadedKey {
                key: envelope.open(&passphrase)?,
                format: KeyFileFormat::Encrypted,
            })
        }
    }
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> KeyFileError + '_ {
    move |source| KeyFileError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The text of a key file: a regular file, owner-only, at most [`MAX_KEY_FILE_BYTES`].
fn read_private(path: &Path) -> Result<Zeroizing<String>, KeyFileError> {
    let file = File::open(path).map_err(io_error(path))?;
    // Checked on the open file, so the file cannot be swapped between check and read.
    let metadata = file.metadata().map_err(io_error(path))?;
    if !metadata.is_file() {
        return Err(KeyFileError::NotAFile {
            path: path.to_path_buf(),
        });
    }
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyFileError::Permissions {
            path: path.to_path_buf(),
            mode,
        });
    }
    let too_large = || KeyFileError::TooLarge {
        path: path.to_path_buf(),
    };
    if metadata.len() > MAX_KEY_FILE_BYTES {
        return Err(too_large());
    }
    let mut bytes = Zeroizing::new(Vec::new());
    file.take(MAX_KEY_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io_error(path))?;
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > MAX_KEY_FILE_BYTES {
        return Err(too_large());
    }
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| KeyFileError::Format("not UTF-8 text".to_owned()))?;
    Ok(Zeroizing::new(text.to_owned()))
}

/// Reads a key file of either format, refusing one that others can read or that is not intact.
/// `passphrase` is called only for an encrypted file (see [`from_json_with`]).
pub fn read_key_file_with<F>(path: &Path, passphrase: F) -> Result<LoadedKey, KeyFileError>
where
    F: FnOnce() -> Result<Zeroizing<String>, PassphraseError>,
{
    from_json_with(&read_private(path)?, passphrase)
}

/// Reads a plain key file, refusing one that others can read or that is not intact. An
/// encrypted file is refused with [`KeyFileError::PassphraseUnavailable`]; use
/// [`read_key_file_with`] to read one.
pub fn read_key_file(path: &Path) -> Result<SigningKey, KeyFileError> {
    read_key_file_with(path, || {
        Err("the key file is encrypted and this program reads only unencrypted key files".into())
    })
    .map(|loaded| loaded.key)
}

/// Creates `path` with owner-only permissions, writes `text` and syncs; never overwrites.
fn write_private(path: &Path, text: &str) -> Result<(), KeyFileError> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io_error(path))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(io_error(path))
}

/// Writes a plain key file with owner-only permissions and syncs it; never overwrites a file.
pub fn write_key_file(path: &Path, key: &SigningKey) -> Result<(), KeyFileError> {
    write_private(path, &Zeroizing::new(to_json(key)))
}

/// Writes an encrypted key file (fresh salt and nonce from `rng`) with owner-only permissions
/// and syncs it; never overwrites a file. Nothing is created if the encryption fails.
pub fn write_encrypted_key_file<R: CryptoRngCore + ?Sized>(
    path: &Path,
    key: &SigningKey,
    passphrase: &str,
    params: KdfParams,
    rng: &mut R,
) -> Result<(), KeyFileError> {
    let text = encrypt_with_rng(key, passphrase, params, rng)?;
    write_private(path, &text)
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

    const PASS: &str = "correct horse battery staple";

    fn pass(text: &str) -> Result<Zeroizing<String>, PassphraseError> {
        Ok(Zeroizing::new(text.to_owned()))
    }

    fn never() -> Result<Zeroizing<String>, PassphraseError> {
        panic!("the passphrase must not be asked for")
    }

    fn encrypted(n: u8) -> String {
        encrypt_to_json(&key(n), PASS, KdfParams::MIN, [3; SALT_LEN], [4; NONCE_LEN]).unwrap()
    }

    #[test]
    fn detects_the_format() {
        assert_eq!(
            detect_format(&to_json(&key(1))).unwrap(),
            KeyFileFormat::Plain
        );
        assert_eq!(
            detect_format(&encrypted(1)).unwrap(),
            KeyFileFormat::Encrypted
        );
        assert!(matches!(detect_format("[1]"), Err(KeyFileError::Format(_))));
        assert!(matches!(detect_format("{"), Err(KeyFileError::Format(_))));
        // A plain file is read without asking for a passphrase.
        let loaded = from_json_with(&to_json(&key(1)), never).unwrap();
        assert_eq!(loaded.format, KeyFileFormat::Plain);
        assert_eq!(loaded.key.public_key(), key(1).public_key());
    }

    #[test]
    fn encrypted_round_trip_and_wrong_passphrase() {
        let text = encrypted(7);
        assert!(
            !text.contains(&hex::encode([7u8; 32])),
            "the seed must not appear"
        );
        let mut asked = 0;
        let loaded = from_json_with(&text, || {
            asked += 1;
            pass(PASS)
        })
        .unwrap();
        assert_eq!(asked, 1);
        assert_eq!(loaded.format, KeyFileFormat::Encrypted);
        assert_eq!(loaded.key.seed(), [7; 32]);
        for wrong in [
            "correct horse battery stapler",
            "",
            "Correct horse battery staple",
        ] {
            let error = from_json_with(&text, || pass(wrong)).unwrap_err();
            assert!(matches!(error, KeyFileError::WrongPassphrase), "{wrong:?}");
            assert_eq!(error.to_string(), "wrong passphrase or damaged file");
        }
        let error = from_json_with(&text, || Err("no terminal".into())).unwrap_err();
        assert!(matches!(error, KeyFileError::PassphraseUnavailable(_)));
        assert!(matches!(
            encrypt_to_json(&key(7), "", KdfParams::MIN, [3; SALT_LEN], [4; NONCE_LEN]),
            Err(KeyFileError::EmptyPassphrase)
        ));
        // Fresh salt and nonce each time from the RNG.
        let a = encrypt_with_rng(&key(7), PASS, KdfParams::MIN, &mut rand_core::OsRng).unwrap();
        let b = encrypt_with_rng(&key(7), PASS, KdfParams::MIN, &mut rand_core::OsRng).unwrap();
        assert_ne!(a, b);
        assert_eq!(
            from_json_with(&a, || pass(PASS)).unwrap().key.seed(),
            [7; 32]
        );
    }

    /// Sets (or adds) `field` (a JSON pointer) of the encrypted file `text` to `value`.
    fn tamper(text: &str, field: &str, value: serde_json::Value) -> String {
        let mut json: serde_json::Value = serde_json::from_str(text).unwrap();
        let (parent, name) = field.rsplit_once('/').unwrap();
        let object = json.pointer_mut(parent).unwrap().as_object_mut().unwrap();
        object.insert(name.to_owned(), value);
        json.to_string()
    }

    fn flip_hex(text: &str, field: &str, index: usize) -> String {
        let json: serde_json::Value = serde_json::from_str(text).unwrap();
        let mut bytes = hex::decode(json.pointer(field).unwrap().as_str().unwrap()).unwrap();
        bytes[index] ^= 0x01;
        tamper(text, field, hex::encode(bytes).into())
    }

    #[test]
    fn every_tampered_header_field_fails() {
        use serde_json::json;
        let text = encrypted(7);
        let other_key = key(8).public_key().to_string();
        let m = KdfParams::MIN;
        // Fields whose change passes every header check: only authentication can catch them.
        let authenticated = [
            (
                "/public_key",
                tamper(&text, "/public_key", json!(other_key)),
            ),
            (
                "/kdf/memory_kib",
                tamper(&text, "/kdf/memory_kib", json!(m.memory_kib + 8)),
            ),
            (
                "/kdf/iterations",
                tamper(&text, "/kdf/iterations", json!(m.iterations + 1)),
            ),
            (
                "/kdf/parallelism",
                tamper(&text, "/kdf/parallelism", json!(2)),
            ),
            ("/kdf/salt", flip_hex(&text, "/kdf/salt", 0)),
            ("/cipher/nonce", flip_hex(&text, "/cipher/nonce", 5)),
            ("/sealed_seed body", flip_hex(&text, "/sealed_seed", 0)),
            ("/sealed_seed tag", flip_hex(&text, "/sealed_seed", 47)),
        ];
        for (field, tampered) in authenticated {
            assert!(
                matches!(
                    from_json_with(&tampered, || pass(PASS)),
                    Err(KeyFileError::WrongPassphrase)
                ),
                "{field}"
            );
        }
        // Fields whose change is refused before the passphrase is asked for.
        let refused = [
            ("/version", tamper(&text, "/version", json!(2))),
            ("/version", tamper(&text, "/version", json!("1"))),
            (
                "/kdf/algorithm",
                tamper(&text, "/kdf/algorithm", json!("argon2i")),
            ),
            (
                "/cipher/algorithm",
                tamper(&text, "/cipher/algorithm", json!("aes-256-gcm")),
            ),
            ("/kdf/salt", tamper(&text, "/kdf/salt", json!("00"))),
            ("/cipher/nonce", tamper(&text, "/cipher/nonce", json!("zz"))),
            (
                "/sealed_seed",
                tamper(&text, "/sealed_seed", json!(hex::encode([0u8; 32]))),
            ),
            ("/public_key", tamper(&text, "/public_key", json!("00"))),
            (
                "/kdf/memory_kib",
                tamper(&text, "/kdf/memory_kib", json!(-1)),
            ),
            ("/kdf", tamper(&text, "/kdf/extra", json!(1))),
            (
                "duplicate /version",
                text.replacen("\"version\": 1,", "\"version\": 1, \"version\": 1,", 1),
            ),
        ];
        for (field, tampered) in refused {
            let error = from_json_with(&tampered, never).unwrap_err();
            assert!(
                !matches!(error, KeyFileError::WrongPassphrase),
                "{field}: {error}"
            );
        }
        assert!(matches!(
            from_json_with(&tamper(&text, "/version", json!(2)), never),
            Err(KeyFileError::UnsupportedVersion(2))
        ));
    }

    #[test]
    fn weak_and_costly_kdf_params_are_refused_before_asking() {
        use serde_json::json;
        let text = encrypted(7);
        let cases = [
            ("/kdf/memory_kib", json!(KdfParams::MIN.memory_kib - 1)),
            ("/kdf/memory_kib", json!(8)),
            ("/kdf/iterations", json!(1)),
            ("/kdf/parallelism", json!(0)),
        ];
        for (field, value) in cases {
            assert!(
                matches!(
                    from_json_with(&tamper(&text, field, value.clone()), never),
                    Err(KeyFileError::KdfTooWeak { .. })
                ),
                "{field} = {value}"
            );
        }
        let cases = [
            ("/kdf/memory_kib", json!(KdfParams::MAX.memory_kib + 1)),
            ("/kdf/memory_kib", json!(u32::MAX)),
            ("/kdf/iterations", json!(KdfParams::MAX.iterations + 1)),
            ("/kdf/parallelism", json!(KdfParams::MAX.parallelism + 1)),
        ];
        for (field, value) in cases {
            assert!(
                matches!(
                    from_json_with(&tamper(&text, field, value.clone()), never),
                    Err(KeyFileError::KdfTooCostly { .. })
                ),
                "{field} = {value}"
            );
        }
        // Writers are held to the same bounds.
        let weak = KdfParams {
            iterations: 1,
            ..KdfParams::MIN
        };
        assert!(matches!(
            encrypt_to_json(&key(7), PASS, weak, [3; SALT_LEN], [4; NONCE_LEN]),
            Err(KeyFileError::KdfTooWeak { .. })
        ));
    }

    #[test]
    fn encrypted_files_are_private_bounded_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.json");
        write_encrypted_key_file(&path, &key(2), PASS, KdfParams::MIN, &mut rand_core::OsRng)
            .unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let loaded = read_key_file_with(&path, || pass(PASS)).unwrap();
        assert_eq!(loaded.key.public_key(), key(2).public_key());
        assert_eq!(loaded.format, KeyFileFormat::Encrypted);
        // The plain-only reader refuses it without a panic.
        assert!(matches!(
            read_key_file(&path),
            Err(KeyFileError::PassphraseUnavailable(_))
        ));
        assert!(matches!(
            write_encrypted_key_file(&path, &key(3), PASS, KdfParams::MIN, &mut rand_core::OsRng),
            Err(KeyFileError::Io { .. })
        ));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        assert!(matches!(
            read_key_file_with(&path, never),
            Err(KeyFileError::Permissions { mode: 0o640, .. })
        ));
        // Oversized files are refused before parsing.
        let big = dir.path().join("big.json");
        std::fs::write(&big, vec![b' '; 5000]).unwrap();
        std::fs::set_permissions(&big, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(matches!(
            read_key_file_with(&big, never),
            Err(KeyFileError::TooLarge { .. })
        ));
        // Directories are refused.
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        std::fs::set_permissions(&sub, std::fs::Permissions::from_mode(0o700)).unwrap();
        assert!(matches!(
            read_key_file_with(&sub, never),
            Err(KeyFileError::NotAFile { .. })
        ));
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
