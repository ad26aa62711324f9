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

/// Why entries or a checkpoint received from a peer do not continue the chain held of
/// their node: each is a sign of forgery, alteration, reordering or a broken peer.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ChainBreak {
    #[error("entry {seq} is not an entry: {detail}")]
    Malformed { seq: u64, detail: String },
    #[error("entry {seq} belongs to another node's chain")]
    WrongNode { seq: u64 },
    #[error("expected entry {expected} next, got entry {got}")]
    OutOfOrder { expected: u64, got: u64 },
    #[error("entry {seq} does not link to the entry before it (altered or inserted)")]
    BrokenLink { seq: u64 },
    #[error("entry {seq} is not later than the entry before it")]
    ClockWentBackwards { seq: u64 },
    #[error("entry {seq}'s payload of {len} bytes is over the limit")]
    PayloadTooLarge { seq: u64, len: usize },
    #[error("the checkpoint at {tree_size} does not state the entries received: {detail}")]
    CheckpointMismatch {
        tree_size: u64,
        detail: &'static str,
    },
    #[error("the checkpoint at {tree_size} is not signed by its node's key")]
    BadSignature { tree_size: u64 },
    #[error("entries arrived without a checkpoint that covers them")]
    Unsigned,
}
