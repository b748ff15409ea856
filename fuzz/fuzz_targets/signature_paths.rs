#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| courtledger_fuzz::signature_paths(data));
