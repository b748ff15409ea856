//! The example genesis in `genesis/` stays valid and matches its documented shape.

use courtledger_types::Genesis;

#[test]
fn example_genesis_is_valid() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../genesis/example.json"
    ))
    .expect("genesis/example.json exists");
    let genesis = Genesis::from_json(&text).expect("genesis/example.json is valid");
    assert_eq!(genesis.validators.len(), 4);
    assert!(genesis.validator_set().is_quorum(3));
    assert!(!genesis.registrars.is_empty());
}
