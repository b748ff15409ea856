#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| courtledger_fuzz::node_wire(data));
