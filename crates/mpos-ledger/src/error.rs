//! Errors of the ledger crate: one enum per concern, each message saying what was wrong.

use thiserror::Error;

/// Text or bytes that do not parse as the thing they claim to be.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ParseError {
    #[error("{what} must be {len} bytes of hex")]
    Hex { what: &'static str, len: usize },
    #[error("{what} is {got} bytes long, expected {expected}")]
    Length {
        what: &'static str,
        got: usize,
        expected: usize,
    },
    #[error(
        "{what} does not start with the expected magic bytes (not an M_POS {what}, or a newer format)"
    )]
    Magic { what: &'static str },
    #[error("{what}: {detail}")]
    Invalid { what: &'static str, detail: String },
}

/// A refusal by the chain writer.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum LedgerError {
    #[error("clock went backwards: entry time {got} is not after the previous entry's {last}")]
    ClockWentBackwards { last: u64, got: u64 },
    #[error("payload of {len} bytes is larger than the {max}-byte limit")]
    PayloadTooLarge { len: usize, max: usize },
    #[error("nothing to checkpoint: the ledger is empty")]
    EmptyLedger,
    #[error("saved chain state is corrupt: {0}")]
    CorruptState(String),
}
