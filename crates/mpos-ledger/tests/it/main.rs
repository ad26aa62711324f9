//! Integration tests of the ledger crate: what the verifier must catch, proofs over a real
//! chain, golden byte vectors, and property tests over random tampering.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a failed unwrap is a failed test"
)]

mod golden;
mod props;
mod support;
mod tamper;
