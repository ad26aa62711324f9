//! Integration tests of the `mpos` binary: real processes, real data directories.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a failed unwrap is a failed test"
)]

mod back_office;
mod day;
mod discovery;
mod kitchen;
mod ledger;
mod organization;
mod print;
mod serve;
mod shared;
mod stock;
mod support;
mod sync;
