//! Integration tests of courtledger-chain, in one binary.

#![allow(clippy::unwrap_used)]

mod blocks;
mod golden;
mod mempool;
mod set_changes;
mod support;
