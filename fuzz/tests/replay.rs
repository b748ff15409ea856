//! Replays the checked-in seed corpora and the minimised crash inputs of `regressions/`
//! through the targets' checks, without libFuzzer: `cargo test` in `fuzz/`.

use std::fs;
use std::path::Path;

fn replay(target: &str, check: fn(&[u8])) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut count = 0;
    for dir in ["corpus", "regressions"] {
        let Ok(entries) = fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("directory entry").path();
            let bytes = fs::read(&path).expect("readable input");
            println!("{}", path.display());
            check(&bytes);
            count += 1;
        }
    }
    assert!(count > 0, "no seeds for {target}");
}

macro_rules! replay_tests {
    ($($target:ident),* $(,)?) => {
        $(
            #[test]
            fn $target() {
                replay(stringify!($target), courtledger_fuzz::$target);
            }
        )*
    };
}

replay_tests!(
    tx,
    act,
    block,
    consensus_message,
    proof_bundle,
    genesis_json,
    ledger_exec,
    network_frame,
    node_wire,
    storage_record,
    key_file,
    node_config,
    signature_paths,
);
