//! The node's errors: refusals of a request kept apart from infrastructure failures.

use mpos_domain::Refusal;
use mpos_ledger::LedgerError;
use mpos_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The request itself is wrong (unknown seq, bad size): the caller can fix it.
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    /// Unknown staff, inactive staff or a wrong PIN: deliberately the same answer.
    #[error("wrong staff member or PIN")]
    WrongPin,
    #[error("too many wrong PINs: try again in {} s", retry_after_millis.div_ceil(1000))]
    Locked { retry_after_millis: u64 },
    /// The business rules refuse the command; nothing was written.
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The data directory or its key file is missing, unreadable or unsafe.
    #[error("data directory {path}: {reason}")]
    DataDir { path: String, reason: String },
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The node cannot take the request now (shutting down); retrying with the same
    /// request id is safe.
    #[error("{0}")]
    Unavailable(String),
    /// A peer's entries do not verify (forged, altered, reordered, or of a schema this
    /// node cannot read); nothing of its message was written.
    #[error("refused a peer's entries: {0}")]
    Peer(#[from] crate::pos::ReplicaRefusal),
    /// A failure inside the node; logged, never shown to clients.
    #[error("{0}")]
    Internal(String),
}

impl From<mpos_domain::MoneyError> for NodeError {
    fn from(e: mpos_domain::MoneyError) -> NodeError {
        NodeError::Refused(Refusal::Money(e))
    }
}
