//! The `courtledger-node` binary end to end: testnet, check, validate-genesis.

use std::path::Path;
use std::process::{Command, Output};

fn node(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_courtledger-node"))
        .args(args)
        .output()
        .expect("run courtledger-node")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

#[test]
fn testnet_writes_four_homes_that_check() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("net");
    let written = node(&["testnet", "--validators", "4", "--out", path(&out)]);
    assert!(written.status.success(), "{}", text(&written));

    let validated = node(&[
        "validate-genesis",
        "--genesis",
        path(&out.join("genesis.json")),
    ]);
    assert!(validated.status.success(), "{}", text(&validated));
    assert!(
        text(&validated).contains("validators: 4"),
        "{}",
        text(&validated)
    );

    for i in 0..4 {
        let home = out.join(format!("node{i}"));
        let checked = node(&["check", "--home", path(&home)]);
        assert!(checked.status.success(), "{}", text(&checked));
    }
    assert!(!out.join("node4").exists());

    let again = node(&["testnet", "--validators", "4", "--out", path(&out)]);
    assert!(!again.status.success(), "overwrote an existing network");
}

#[test]
fn a_bad_genesis_is_refused_with_the_field_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("net");
    assert!(node(&["testnet", "--validators", "4", "--out", path(&out)])
        .status
        .success());
    let genesis_path = out.join("genesis.json");
    let mut genesis: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&genesis_path).unwrap()).unwrap();
    genesis["validators"][2]["public_key"] = genesis["validators"][0]["public_key"].clone();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, genesis.to_string()).unwrap();
    let refused = node(&["validate-genesis", "--genesis", path(&bad)]);
    assert!(!refused.status.success());
    assert!(
        text(&refused).contains("validators[2].public_key"),
        "{}",
        text(&refused)
    );
}

#[test]
fn a_home_whose_key_is_not_a_validator_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("a");
    let second = dir.path().join("b");
    assert!(
        node(&["testnet", "--validators", "1", "--out", path(&first)])
            .status
            .success()
    );
    assert!(
        node(&["testnet", "--validators", "1", "--out", path(&second)])
            .status
            .success()
    );
    // Give node a's home the genesis of network b: its key is not a validator there.
    std::fs::copy(
        second.join("genesis.json"),
        first.join("node0/genesis.json"),
    )
    .unwrap();
    let refused = node(&["check", "--home", path(&first.join("node0"))]);
    assert!(!refused.status.success());
    assert!(
        text(&refused).contains("is not a validator"),
        "{}",
        text(&refused)
    );
}
