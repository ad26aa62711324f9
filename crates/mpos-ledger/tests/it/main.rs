//! Integration tests of the ledger crate: what the verifier must catch, proofs over a real
//! chain, golden byte vectors, and property tests over random tampering.

mod golden;
mod props;
mod support;
mod tamper;
