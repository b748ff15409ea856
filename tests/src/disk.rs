//! The storage faults: each validator's RocksDB directory on its own tmpfs (so that the harness
//! can make that one disk full), and the damage of the tail of a killed node's newest write-ahead
//! log (a torn last write).
//!
//! Mounting needs root. Every mount is undone by [`Mounts`]' `Drop` (the cluster's, also on a
//! panic); the harness never touches a mount it did not make.

use std::fs::File;
use std::io::{Read as _, Seek as _, SeekFrom};
use std::os::unix::fs::{FileExt as _, MetadataExt as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{bail, ensure, Context as _};

/// The size of each validator's tmpfs outside disk-full faults. A tmpfs only uses the memory
/// of what is written (RocksDB preallocates about 70 MB of write-ahead log per node, and the
/// database grows by some tens of MB in a 30-minute soak).
pub const LARGE_BYTES: u64 = 1 << 30;

/// The page size the tmpfs sizes are rounded to.
const PAGE: u64 = 4096;

/// Runs `program args`, its output captured; an error with its stderr if it fails.
fn run(program: &str, args: &[&str]) -> anyhow::Result<String> {
    let output = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run {program}"))?;
    ensure!(
        output.status.success(),
        "{program} {} failed ({}): {}",
        args.join(" "),
        output.status,
        String::from_utf8_lossy(&output.stderr).trim()
    );
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn path_str(path: &Path) -> anyhow::Result<&str> {
    path.to_str()
        .with_context(|| format!("{} is not UTF-8", path.display()))
}

/// Whether this process can mount a tmpfs (it is root, and mounts are allowed here): mounts a
/// small one in a fresh temporary directory and unmounts it.
pub fn tmpfs_available() -> Result<(), String> {
    let dir = tempfile::Builder::new()
        .prefix("courtledger-nemesis-probe-")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    let path = path_str(dir.path()).map_err(|e| format!("{e:#}"))?;
    run("mount", &["-t", "tmpfs", "-o", "size=1m", "tmpfs", path]).map_err(|e| format!("{e:#}"))?;
    run("umount", &[path]).map_err(|e| format!("{e:#}"))?;
    Ok(())
}

/// The tmpfs mounts the harness made, one per validator; unmounted on drop.
#[derive(Debug, Default)]
pub struct Mounts {
    mounts: Mutex<Vec<Option<PathBuf>>>,
    /// Each mount's contents are copied to a plain directory before it is unmounted (when the
    /// network directory is kept for inspection after a failure).
    preserve: AtomicBool,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Mounts {
    /// No mounts (disk faults off).
    pub fn none() -> Self {
        Self::default()
    }

    /// Mounts a tmpfs of [`LARGE_BYTES`] on each of `dirs` (created if missing), in order.
    pub fn mount(dirs: &[PathBuf]) -> anyhow::Result<Self> {
        let mounts = Self::default();
        for dir in dirs {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            run(
                "mount",
                &[
                    "-t",
                    "tmpfs",
                    "-o",
                    &format!("size={LARGE_BYTES},mode=0755"),
                    "tmpfs",
                    path_str(dir)?,
                ],
            )?;
            lock(&mounts.mounts).push(Some(dir.clone()));
        }
        Ok(mounts)
    }

    /// Whether the disks are tmpfs mounts (disk-full faults possible).
    pub fn active(&self) -> bool {
        lock(&self.mounts).iter().any(Option::is_some)
    }

    /// Node `i`'s mount point, if it has one.
    pub fn path(&self, i: usize) -> Option<PathBuf> {
        lock(&self.mounts).get(i).cloned().flatten()
    }

    /// Copy every mount's contents into a plain directory at its place when unmounting (the
    /// network directory is kept).
    pub fn preserve_on_unmount(&self) {
        self.preserve.store(true, Ordering::SeqCst);
    }

    /// Unmounts every mount (once): no process may still use them. Errors are printed.
    pub fn unmount_all(&self) {
        let preserve = self.preserve.load(Ordering::SeqCst);
        for slot in lock(&self.mounts).iter_mut() {
            let Some(dir) = slot.take() else { continue };
            if preserve {
                if let Err(error) = copy_out(&dir) {
                    eprintln!(
                        "nemesis: cannot copy {} out of its tmpfs: {error:#}",
                        dir.display()
                    );
                }
            }
            if let Err(error) = unmount(&dir) {
                eprintln!("nemesis: {error:#}");
            }
            if preserve {
                let saved = saved_path(&dir);
                if saved.exists() {
                    let _ = std::fs::remove_dir(&dir);
                    let _ = std::fs::rename(&saved, &dir);
                }
            }
        }
    }
}

impl Drop for Mounts {
    fn drop(&mut self) {
        self.unmount_all();
    }
}

fn saved_path(dir: &Path) -> PathBuf {
    let mut name = dir.file_name().unwrap_or_default().to_os_string();
    name.push(".saved");
    dir.with_file_name(name)
}

/// Copies the contents of the mount `dir` to `<dir>.saved`.
fn copy_out(dir: &Path) -> anyhow::Result<()> {
    let saved = saved_path(dir);
    std::fs::create_dir_all(&saved)?;
    let source = format!("{}/.", path_str(dir)?);
    run("cp", &["-a", &source, path_str(&saved)?])?;
    Ok(())
}

/// Unmounts `dir`, retrying for a second (a process that just died may still hold it), then
/// lazily (detached now, freed when the last user goes).
fn unmount(dir: &Path) -> anyhow::Result<()> {
    let path = path_str(dir)?;
    let mut last = None;
    for _ in 0..10 {
        match run("umount", &[path]) {
            Ok(_) => return Ok(()),
            Err(error) => last = Some(error),
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    run("umount", &["-l", path]).with_context(|| {
        format!(
            "cannot unmount the tmpfs on {path}: {}",
            last.map_or(String::new(), |e| format!("{e:#}"))
        )
    })?;
    Ok(())
}

/// Bytes used on the filesystem holding `dir` (`stat -f`: blocks in use times block size).
pub fn used_bytes(dir: &Path) -> anyhow::Result<u64> {
    let out = run("stat", &["-f", "-c", "%S %b %f", path_str(dir)?])?;
    let numbers: Vec<u64> = out
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()
        .with_context(|| format!("stat -f output {out:?}"))?;
    let [size, total, free] = numbers.as_slice() else {
        bail!("stat -f output {out:?}");
    };
    Ok(total.saturating_sub(*free).saturating_mul(*size))
}

/// Sets the size of the tmpfs on `dir` (rounded up to a page).
pub fn resize(dir: &Path, bytes: u64) -> anyhow::Result<()> {
    let bytes = bytes.div_ceil(PAGE) * PAGE;
    run(
        "mount",
        &["-o", &format!("remount,size={bytes}"), path_str(dir)?],
    )?;
    Ok(())
}

/// Releases the space allocated beyond the end of every file under `dir` (RocksDB preallocates
/// its write-ahead log and manifest with `fallocate`; a tmpfs counts that space as used, so
/// without this a disk shrunk to its usage would still take hours of writes). The punched range
/// lies past each file's end, so no byte of any file changes. The writer must be stopped.
/// Returns the bytes released.
pub fn release_preallocation(dir: &Path) -> anyhow::Result<u64> {
    let mut released = 0u64;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current)
            .with_context(|| format!("cannot list {}", current.display()))?
        {
            let entry = entry?;
            let meta = entry.metadata()?;
            if meta.is_dir() {
                pending.push(entry.path());
                continue;
            }
            if !meta.is_file() {
                continue;
            }
            let end = meta.len().div_ceil(PAGE) * PAGE;
            let allocated = meta.blocks().saturating_mul(512);
            if allocated <= end {
                continue;
            }
            let offset = end.to_string();
            let length = (allocated - end + (1 << 30)).to_string();
            run(
                "fallocate",
                &[
                    "--punch-hole",
                    "--offset",
                    &offset,
                    "--length",
                    &length,
                    path_str(&entry.path())?,
                ],
            )?;
            released += allocated - end;
        }
    }
    Ok(released)
}

/// The lines of RocksDB's own log (`LOG` in `dir`, this run's) that tell what recovery did with
/// the damaged write-ahead log `wal` (`000004.log: dropping 360 bytes; Corruption: truncated
/// record body`), shortened to what follows the source location.
pub fn recovery_lines(dir: &Path, wal: &str) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("LOG")).unwrap_or_default();
    text.lines()
        .filter(|l| l.contains(wal) && (l.contains("dropping") || l.contains("Corruption")))
        .map(|l| {
            let rest = l.split_once("] ").map_or(l, |(_, rest)| rest);
            let rest = rest.rsplit_once('/').map_or(rest, |(_, rest)| rest);
            rest.trim().to_owned()
        })
        .collect()
}

/// The newest write-ahead log of the RocksDB database in `dir` (`NNNNNN.log`, the highest
/// number), if there is one.
pub fn newest_wal(dir: &Path) -> anyhow::Result<Option<PathBuf>> {
    let mut best: Option<(u64, PathBuf)> = None;
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let path = entry?.path();
        let number = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".log"))
            .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|n| n.parse::<u64>().ok());
        if let Some(number) = number {
            if best.as_ref().is_none_or(|(b, _)| number > *b) {
                best = Some((number, path));
            }
        }
    }
    Ok(best.map(|(_, path)| path))
}

/// What [`tear_newest_wal`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Torn {
    /// In words.
    pub text: String,
    /// The file name of the damaged log (None: nothing was damaged).
    pub wal: Option<String>,
}

/// Damages the last `bytes` bytes of the newest write-ahead log in `dir` (the process must be
/// dead): cuts them off, or (`overwrite`) inverts every bit of them. Returns what was done.
pub fn tear_newest_wal(dir: &Path, bytes: u64, overwrite: bool) -> anyhow::Result<Torn> {
    let Some(wal) = newest_wal(dir)? else {
        return Ok(Torn {
            text: "no write-ahead log file: nothing torn".to_owned(),
            wal: None,
        });
    };
    let name = wal
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let size = std::fs::metadata(&wal)?.len();
    let n = bytes.min(size);
    if n == 0 {
        return Ok(Torn {
            text: format!("the newest write-ahead log {name} is empty: nothing torn"),
            wal: None,
        });
    }
    let mut file = File::options()
        .read(true)
        .write(true)
        .open(&wal)
        .with_context(|| format!("cannot open {}", wal.display()))?;
    if overwrite {
        let mut tail = vec![0u8; usize::try_from(n)?];
        file.seek(SeekFrom::Start(size - n))?;
        file.read_exact(&mut tail)?;
        for byte in &mut tail {
            *byte = !*byte;
        }
        file.write_all_at(&tail, size - n)?;
        file.sync_all()?;
        Ok(Torn {
            text: format!("inverted the last {n} of {size} bytes of {name}"),
            wal: Some(name),
        })
    } else {
        file.set_len(size - n)?;
        file.sync_all()?;
        Ok(Torn {
            text: format!("cut the last {n} of {size} bytes of {name}"),
            wal: Some(name),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_wal_is_torn_and_nothing_else() {
        let dir = tempfile::tempdir().expect("tempdir");
        let write = |name: &str, bytes: &[u8]| std::fs::write(dir.path().join(name), bytes);
        write("000009.log", b"older").expect("write");
        write("000012.log", &[0x0f; 100]).expect("write");
        write("LOG", b"info log").expect("write");
        write("OPTIONS-000007", b"options").expect("write");
        let newest = newest_wal(dir.path()).expect("list");
        assert_eq!(newest, Some(dir.path().join("000012.log")));

        let done = tear_newest_wal(dir.path(), 7, false).expect("cut");
        assert_eq!(done.wal.as_deref(), Some("000012.log"));
        let done = done.text;
        assert!(
            done.contains("cut the last 7 of 100 bytes of 000012.log"),
            "{done}"
        );
        assert_eq!(
            std::fs::read(dir.path().join("000012.log")).expect("read"),
            vec![0x0f; 93]
        );
        let done = tear_newest_wal(dir.path(), 3, true)
            .expect("overwrite")
            .text;
        assert!(done.contains("inverted the last 3 of 93 bytes"), "{done}");
        let bytes = std::fs::read(dir.path().join("000012.log")).expect("read");
        assert_eq!(bytes.len(), 93);
        assert_eq!(bytes[..90], [0x0f; 90]);
        assert_eq!(bytes[90..], [0xf0; 3]);
        assert_eq!(
            std::fs::read(dir.path().join("000009.log")).expect("read"),
            b"older"
        );
        // More than the file holds: all of it.
        let done = tear_newest_wal(dir.path(), 500, false).expect("cut").text;
        assert!(done.contains("cut the last 93 of 93"), "{done}");
        let done = tear_newest_wal(dir.path(), 5, false).expect("empty").text;
        assert!(done.contains("is empty"), "{done}");

        std::fs::write(
            dir.path().join("LOG"),
            "2026/11/29-07:06:30.806334 32660 [db/db_impl/db_impl_open.cc:1428] Recovering log #12 mode 2\n\
             2026/11/29-07:06:30.806649 32660 [WARN] [db/db_impl/db_impl_open.cc:1168] /tmp/x/data/000012.log: dropping 360 bytes; Corruption: truncated record body\n",
        )
        .expect("write");
        assert_eq!(
            recovery_lines(dir.path(), "000012.log"),
            ["000012.log: dropping 360 bytes; Corruption: truncated record body"]
        );
        assert!(recovery_lines(dir.path(), "000009.log").is_empty());

        let empty = tempfile::tempdir().expect("tempdir");
        assert_eq!(newest_wal(empty.path()).expect("list"), None);
    }

    /// Needs root (skipped otherwise): a mount is made, filled, shrunk, given room back, and
    /// undone, its contents kept when asked.
    #[test]
    fn a_tmpfs_fills_up_and_is_always_unmounted() {
        if let Err(why) = tmpfs_available() {
            eprintln!("skipped: cannot mount a tmpfs here ({why})");
            return;
        }
        let root = tempfile::tempdir().expect("tempdir");
        let dirs = [root.path().join("a"), root.path().join("b")];
        let mounted = |dir: &Path| {
            std::fs::read_to_string("/proc/mounts")
                .unwrap_or_default()
                .lines()
                .any(|l| l.split_whitespace().nth(1) == dir.to_str())
        };
        let mounts = Mounts::mount(&dirs).expect("mount");
        assert!(mounts.active() && mounted(&dirs[0]) && mounted(&dirs[1]));

        // 1 MiB preallocated beyond a 10-byte file counts as used until released.
        let file = dirs[0].join("000001.log");
        std::fs::write(&file, b"0123456789").expect("write");
        run(
            "fallocate",
            &[
                "--keep-size",
                "--length",
                "1MiB",
                file.to_str().expect("utf-8"),
            ],
        )
        .expect("fallocate");
        assert!(used_bytes(&dirs[0]).expect("used") >= 1 << 20);
        let released = release_preallocation(&dirs[0]).expect("release");
        assert!(released >= (1 << 20) - PAGE, "{released}");
        assert_eq!(std::fs::read(&file).expect("read"), b"0123456789");
        let used = used_bytes(&dirs[0]).expect("used");
        assert!(used < 64 * 1024, "{used}");

        // Shrunk to its usage + 8 KiB: a 64 KiB write fails with ENOSPC.
        resize(&dirs[0], used + 8 * 1024).expect("shrink");
        let error = std::fs::write(dirs[0].join("big"), vec![1u8; 64 * 1024])
            .expect_err("the disk is full");
        assert_eq!(error.raw_os_error(), Some(28), "{error}");
        resize(&dirs[0], LARGE_BYTES).expect("grow");
        std::fs::write(dirs[0].join("big"), vec![1u8; 64 * 1024]).expect("room again");

        mounts.preserve_on_unmount();
        drop(mounts);
        assert!(!mounted(&dirs[0]) && !mounted(&dirs[1]));
        assert_eq!(std::fs::read(&file).expect("kept"), b"0123456789");
        assert!(!saved_path(&dirs[0]).exists());

        // Without preserving, the contents go with the mount.
        let mounts = Mounts::mount(&dirs[1..]).expect("mount");
        std::fs::write(dirs[1].join("x"), b"x").expect("write");
        mounts.unmount_all();
        assert!(!mounted(&dirs[1]));
        assert!(!dirs[1].join("x").exists());
        drop(mounts);
    }
}
