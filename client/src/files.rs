//! Hashing files of any size in bounded memory, and guessing their media type.

use std::fs::File;
use std::io::{IsTerminal as _, Read};
use std::path::Path;

use anyhow::Context as _;
use courtledger_crypto::Sha256Hasher;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Bytes read at a time: the most memory hashing a file takes.
pub const CHUNK_BYTES: usize = 1 << 20;

/// Files at least this large get a progress bar (when asked for and stderr is a terminal).
pub const PROGRESS_MIN_BYTES: u64 = 8 << 20;

/// The SHA-256 and size of a file's contents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileDigest {
    /// SHA-256 of the contents.
    pub sha256: [u8; 32],
    /// Bytes hashed.
    pub size: u64,
}

/// Hashes the file at `path` in [`CHUNK_BYTES`] chunks. With `progress`, a file of at least
/// [`PROGRESS_MIN_BYTES`] shows a progress bar on stderr when stderr is a terminal.
pub fn hash_file(path: &Path, progress: bool) -> anyhow::Result<FileDigest> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let metadata = file
        .metadata()
        .with_context(|| format!("cannot read {}", path.display()))?;
    if metadata.is_dir() {
        anyhow::bail!("{} is a directory", path.display());
    }
    let expected = metadata.len();
    let bar = if progress && expected >= PROGRESS_MIN_BYTES && std::io::stderr().is_terminal() {
        let bar = ProgressBar::with_draw_target(Some(expected), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(
            "{msg} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .map(|style| style.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_message("hashing");
        Some(bar)
    } else {
        None
    };
    let result = hash_reader(file, |done| {
        if let Some(bar) = &bar {
            bar.set_position(done);
        }
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    result.with_context(|| format!("cannot read {}", path.display()))
}

/// Hashes everything `reader` yields, one [`CHUNK_BYTES`] chunk at a time, calling `on_progress`
/// with the bytes hashed so far after each chunk.
pub fn hash_reader(
    mut reader: impl Read,
    mut on_progress: impl FnMut(u64),
) -> std::io::Result<FileDigest> {
    let mut buffer = vec![0u8; CHUNK_BYTES];
    let mut hasher = Sha256Hasher::new();
    let mut size: u64 = 0;
    loop {
        let read = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        let chunk = buffer
            .get(..read)
            .ok_or_else(|| std::io::Error::other("the reader returned more bytes than asked"))?;
        hasher.update(chunk);
        size = size.saturating_add(u64::try_from(chunk.len()).unwrap_or(u64::MAX));
        on_progress(size);
    }
    Ok(FileDigest {
        sha256: *hasher.finalize().as_bytes(),
        size,
    })
}

/// Media types by lowercase file extension.
const MEDIA_TYPES: &[(&str, &str)] = &[
    ("pdf", "application/pdf"),
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("png", "image/png"),
    ("mp3", "audio/mpeg"),
    ("m4a", "audio/mp4"),
    ("wav", "audio/wav"),
    ("mp4", "video/mp4"),
    ("txt", "text/plain"),
    ("doc", "application/msword"),
    (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
];

/// The media type for a file, guessed from its extension (any case);
/// `application/octet-stream` when unknown.
pub fn media_type(path: &Path) -> &'static str {
    let extension = path
        .extension()
        .and_then(|extension| extension.to_str())
        .map(str::to_ascii_lowercase);
    extension
        .and_then(|extension| {
            MEDIA_TYPES
                .iter()
                .find(|(known, _)| *known == extension)
                .map(|(_, media_type)| *media_type)
        })
        .unwrap_or("application/octet-stream")
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use sha2::Digest as _;

    use super::*;

    fn hash_bytes(bytes: &[u8]) -> FileDigest {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(bytes).unwrap();
        file.flush().unwrap();
        hash_file(file.path(), true).unwrap()
    }

    #[test]
    fn known_digests() {
        let empty = hash_bytes(b"");
        assert_eq!(
            hex::encode(empty.sha256),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(empty.size, 0);
        let abc = hash_bytes(b"abc");
        assert_eq!(
            hex::encode(abc.sha256),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(abc.size, 3);
    }

    #[test]
    fn multi_chunk_file_matches_sha2() {
        // Two and a half chunks plus a few bytes, of a non-repeating pattern.
        let len = CHUNK_BYTES * 5 / 2 + 7;
        let bytes: Vec<u8> = (0..len)
            .map(|i| u8::try_from((i * 31 + i / 251) % 256).unwrap())
            .collect();
        let digest = hash_bytes(&bytes);
        assert_eq!(
            digest.sha256,
            <[u8; 32]>::from(sha2::Sha256::digest(&bytes))
        );
        assert_eq!(digest.size, u64::try_from(len).unwrap());
    }

    #[test]
    fn progress_is_reported_per_chunk() {
        let bytes = vec![7u8; CHUNK_BYTES * 2 + 1];
        let mut seen = Vec::new();
        let digest = hash_reader(bytes.as_slice(), |done| seen.push(done)).unwrap();
        assert_eq!(digest.size, u64::try_from(bytes.len()).unwrap());
        assert_eq!(seen.last().copied(), Some(digest.size));
        assert!(seen.windows(2).all(|pair| pair[0] < pair[1]));
    }

    #[test]
    fn missing_files_and_directories_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        assert!(hash_file(&dir.path().join("absent"), false).is_err());
        assert!(hash_file(dir.path(), false).is_err());
    }

    #[test]
    fn media_types_by_extension() {
        let cases = [
            ("judgment.pdf", "application/pdf"),
            ("PHOTO.JPG", "image/jpeg"),
            ("scan.jpeg", "image/jpeg"),
            ("scan.png", "image/png"),
            ("hearing.mp3", "audio/mpeg"),
            ("hearing.m4a", "audio/mp4"),
            ("hearing.wav", "audio/wav"),
            ("hearing.mp4", "video/mp4"),
            ("notes.txt", "text/plain"),
            ("brief.doc", "application/msword"),
            (
                "brief.Docx",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            ),
            ("archive.tar.gz", "application/octet-stream"),
            ("README", "application/octet-stream"),
            (".pdf", "application/octet-stream"),
        ];
        for (name, expected) in cases {
            assert_eq!(media_type(Path::new(name)), expected, "{name}");
        }
    }
}
