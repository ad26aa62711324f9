//! `mpos-ledger` owns M_POS's tamper-evident transaction history, as bytes in and bytes out:
//! node identity (Ed25519), the organization's certificates and revocations of node keys,
//! the entry envelope and its canonical encoding, the per-node hash
//! chain, RFC 9162 Merkle checkpoints, inclusion and consistency proofs, witness
//! countersignatures, signed receipt codes, the export file format and its streaming
//! verifier.
//!
//! Architecture invariant: no I/O beyond `std::io::{Read, Write}` handed in by the caller,
//! no clock, no randomness, no async, no database. An auditor's verifier or a phone links
//! this crate and nothing else of M_POS. Every byte format here is frozen by golden tests
//! (`tests/it/golden.rs`) and documented in `docs/ledger-format.md`.

pub mod chain;
pub mod checkpoint;
pub mod entry;
pub mod error;
pub mod export;
pub mod hash;
pub mod hlc;
pub mod identity;
pub mod merkle;
pub mod organization;
pub mod receipt;
pub mod verify;

pub use chain::{ChainHead, SealedEntry};
pub use checkpoint::{Checkpoint, SignedCheckpoint, WitnessSignature};
pub use entry::{EntryRef, entry_hash};
pub use error::{ChainBreak, LedgerError, ParseError};
pub use export::{ExportReader, ExportWriter, FormatError, Record};
pub use hash::Hash;
pub use hlc::Hlc;
pub use identity::{NodeId, NodeKey, PublicKey};
pub use merkle::{ConsistencyProof, Frontier, InclusionProof, ProofError, RangeHasher};
pub use organization::{NodeCertificate, OrganizationId, Revocation, TrustError};
pub use receipt::{Receipt, ReceiptError};
pub use verify::{
    Finding, NodeSummary, Reason, Summary, VerifyError, VerifyOptions, WitnessTally, verify,
};
