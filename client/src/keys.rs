//! Key files in the client: the one function that loads a key for any command, and the
//! passphrases of encrypted key files (from `COURTLEDGER_PASSPHRASE`, else the terminal).

use std::path::Path;

use anyhow::{bail, Context as _};
use courtledger_crypto::SigningKey;
use courtledger_keystore::{
    read_key_file_with, write_encrypted_key_file, write_key_file, KdfParams, KeyFileFormat,
    LoadedKey, PassphraseError, Zeroizing,
};
use rand_core::OsRng;

/// The environment variable that supplies the passphrase instead of the terminal.
pub const PASSPHRASE_ENV: &str = "COURTLEDGER_PASSPHRASE";

/// The passphrase from [`PASSPHRASE_ENV`], if it is set.
fn env_passphrase() -> Result<Option<Zeroizing<String>>, PassphraseError> {
    match std::env::var(PASSPHRASE_ENV) {
        Ok(passphrase) => Ok(Some(Zeroizing::new(passphrase))),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(format!("{PASSPHRASE_ENV} is not UTF-8").into())
        }
    }
}

/// Asks on the terminal, without echo.
fn prompt(text: &str) -> Result<Zeroizing<String>, PassphraseError> {
    rpassword::prompt_password(text)
        .map(Zeroizing::new)
        .map_err(|error| {
            format!("cannot read it from the terminal ({error}); set {PASSPHRASE_ENV}").into()
        })
}

/// The passphrase to open the key file at `path`: the environment's, else asked once.
fn passphrase_for(path: &Path) -> Result<Zeroizing<String>, PassphraseError> {
    match env_passphrase()? {
        Some(passphrase) => Ok(passphrase),
        None => prompt(&format!("Passphrase for {}: ", path.display())),
    }
}

/// A new passphrase: the environment's, else asked twice on the terminal; never empty.
fn new_passphrase() -> anyhow::Result<Zeroizing<String>> {
    let passphrase = match env_passphrase().map_err(anyhow::Error::from_boxed)? {
        Some(passphrase) => passphrase,
        None => {
            let first = prompt("New passphrase: ").map_err(anyhow::Error::from_boxed)?;
            let second = prompt("Repeat the passphrase: ").map_err(anyhow::Error::from_boxed)?;
            if first != second {
                bail!("the passphrases differ");
            }
            first
        }
    };
    if passphrase.is_empty() {
        bail!("the passphrase must not be empty");
    }
    Ok(passphrase)
}

/// Loads the key file at `path`, plain or encrypted; for an encrypted one the passphrase comes
/// from `COURTLEDGER_PASSPHRASE` or is asked for once on the terminal. Every command that takes
/// `--key` goes through here.
pub fn load_key(path: &Path) -> anyhow::Result<LoadedKey> {
    read_key_file_with(path, || passphrase_for(path))
        .with_context(|| format!("cannot load the key {}", path.display()))
}

/// Generates a key into a new owner-only file at `out`, encrypted under a new passphrase (with
/// [`KdfParams::RECOMMENDED`]) when `encrypt`.
pub fn generate(out: &Path, encrypt: bool) -> anyhow::Result<(SigningKey, KeyFileFormat)> {
    let key = SigningKey::generate(&mut OsRng);
    let format = if encrypt {
        let passphrase = new_passphrase()?;
        write_encrypted_key_file(out, &key, &passphrase, KdfParams::RECOMMENDED, &mut OsRng)?;
        KeyFileFormat::Encrypted
    } else {
        write_key_file(out, &key)?;
        KeyFileFormat::Plain
    };
    Ok((key, format))
}

/// The name of a format in the client's output.
pub fn format_name(format: KeyFileFormat) -> &'static str {
    match format {
        KeyFileFormat::Plain => "plain",
        KeyFileFormat::Encrypted => "encrypted",
    }
}
