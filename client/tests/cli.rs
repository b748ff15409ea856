//! The `courtledger` binary end to end: key files of both formats, `hash`, `--json` output and
//! errors. Nothing here needs a node; the network errors use a closed port on 127.0.0.1.
//!
//! Every run sets `COURTLEDGER_PASSPHRASE` or has no encrypted key, so no test ever prompts.

// Helpers outside #[test] functions are test code too.
#![allow(clippy::unwrap_used)]

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const PASS: &str = "a passphrase for the tests";
/// A loopback port nothing listens on.
const CLOSED_NODE: &str = "http://127.0.0.1:1";

fn courtledger(args: &[&str], passphrase: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_courtledger"));
    command
        .args(args)
        .stdin(Stdio::null())
        .env_remove("COURTLEDGER_PASSPHRASE")
        .env_remove("COURTLEDGER_NODE");
    if let Some(passphrase) = passphrase {
        command.env("COURTLEDGER_PASSPHRASE", passphrase);
    }
    command.output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("stdout is not JSON ({error}): {}", stdout(output)))
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn plain_keys_generate_and_show() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key.json");
    let out = courtledger(&["keys", "generate", "--out", path(&key)], None);
    assert!(out.status.success());
    let public_key = stdout(&out).trim().to_owned();
    assert_eq!(public_key.len(), 64);
    let show = courtledger(&["keys", "show", "--key", path(&key), "--json"], None);
    assert!(show.status.success());
    let show = json(&show);
    assert_eq!(show["public_key"], public_key.as_str());
    assert_eq!(show["format"], "plain");
    // Never overwrites.
    let again = courtledger(&["--json", "keys", "generate", "--out", path(&key)], None);
    assert!(!again.status.success());
    assert!(json(&again)["error"]["message"].is_string());
}

#[test]
fn encrypted_keys_generate_show_and_refuse_wrong_passphrases() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key.json");
    let out = courtledger(
        &[
            "keys",
            "generate",
            "--out",
            path(&key),
            "--encrypt",
            "--json",
        ],
        Some(PASS),
    );
    assert!(out.status.success(), "{out:?}");
    let generated = json(&out);
    assert_eq!(generated["format"], "encrypted");
    let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let text = std::fs::read_to_string(&key).unwrap();
    assert!(text.contains("\"argon2id\"") && !text.contains("secret_seed"));

    let show = courtledger(&["keys", "show", "--key", path(&key)], Some(PASS));
    assert!(show.status.success());
    assert_eq!(stdout(&show).trim(), generated["public_key"]);

    // Wrong passphrase: a typed message, on stdout as JSON with --json, on stderr otherwise.
    let wrong = courtledger(
        &["keys", "show", "--key", path(&key), "--json"],
        Some("not it"),
    );
    assert!(!wrong.status.success());
    let message = json(&wrong)["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        message.contains("wrong passphrase or damaged file"),
        "{message}"
    );
    assert!(wrong.stderr.is_empty());
    let wrong = courtledger(&["keys", "show", "--key", path(&key)], Some("not it"));
    assert!(!wrong.status.success());
    assert!(wrong.stdout.is_empty());
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("wrong passphrase or damaged file"));

    // Commands that sign load the key the same way, before anything else.
    let case = "ca".repeat(32);
    let act = courtledger(
        &[
            "case",
            "leave",
            &case,
            "--key",
            path(&key),
            "--genesis",
            "/nonexistent",
            "--json",
        ],
        Some("not it"),
    );
    assert!(!act.status.success());
    assert!(json(&act)["error"]["message"]
        .as_str()
        .unwrap()
        .contains("wrong passphrase or damaged file"));

    // An empty passphrase is refused when generating.
    let empty = courtledger(
        &[
            "keys",
            "generate",
            "--out",
            path(&dir.path().join("k2")),
            "--encrypt",
        ],
        Some(""),
    );
    assert!(!empty.status.success());
    assert!(!dir.path().join("k2").exists());
}

#[test]
fn group_readable_key_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key.json");
    assert!(
        courtledger(&["keys", "generate", "--out", path(&key)], None)
            .status
            .success()
    );
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let show = courtledger(&["keys", "show", "--key", path(&key), "--json"], None);
    assert!(!show.status.success());
    assert!(json(&show)["error"]["message"]
        .as_str()
        .unwrap()
        .contains("chmod 600"));
}

#[test]
fn hash_prints_digest_size_and_media_type() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("summons.PDF");
    std::fs::write(&file, b"abc").unwrap();
    let out = courtledger(&["hash", path(&file), "--json"], None);
    assert!(out.status.success());
    let digest = json(&out);
    assert_eq!(
        digest["sha256"],
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(digest["size"], 3);
    assert_eq!(digest["media_type"], "application/pdf");
    let human = stdout(&courtledger(&["hash", path(&file)], None));
    assert!(human.contains("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    assert!(human.contains("3 bytes"));
    let missing = courtledger(&["--json", "hash", path(&dir.path().join("absent"))], None);
    assert!(!missing.status.success());
    assert!(json(&missing)["error"]["message"].is_string());
}

#[test]
fn node_errors_follow_the_output_mode() {
    let out = courtledger(&["status", "--node", CLOSED_NODE, "--json"], None);
    assert!(!out.status.success());
    let message = json(&out)["error"]["message"].as_str().unwrap().to_owned();
    assert!(message.contains("127.0.0.1:1"), "{message}");

    let out = courtledger(&["--node", CLOSED_NODE, "block"], None);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: "));

    // COURTLEDGER_NODE is the default for --node.
    let out = Command::new(env!("CARGO_BIN_EXE_courtledger"))
        .args(["tx", "--id", "00", "--json"])
        .env("COURTLEDGER_NODE", CLOSED_NODE)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(json(&out)["error"]["message"]
        .as_str()
        .unwrap()
        .contains("127.0.0.1:1"));
}

#[test]
fn usage_errors_with_json_are_json() {
    let out = courtledger(&["--json", "keys", "show"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(json(&out)["error"]["message"]
        .as_str()
        .unwrap()
        .contains("--key"));
    let out = courtledger(&["keys", "show"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(courtledger(&["--help"], None).status.success());
}
