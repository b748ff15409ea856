//! The storage test suite: the same behaviours checked against `MemoryStore` and `RocksStore`
//! (`shared`), then what only a database on disk can show (`rocks`).

// Test code: a failed unwrap is a failed test. (clippy's allow-unwrap-in-tests covers `#[test]`
// functions only, not the helpers of an integration test crate.)
#![allow(clippy::unwrap_used)]

mod bench;
mod rocks;
mod shared;
mod support;
