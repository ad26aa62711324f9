//! The order service over a real SQLite store in a real data directory.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a failed unwrap is a failed test"
)]

mod converge;
mod menu;
mod orders;
mod printing;
mod replica;
mod staff;
mod writer;
