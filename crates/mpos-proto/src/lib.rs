//! `mpos-proto` owns M_POS's wire contract: the `.proto` files under `proto/`, the prost
//! messages and tonic services generated from them, and the explicit conversions between
//! wire types and domain types (`event`). A Flutter or any other client is generated from
//! the same files.
//!
//! Architecture invariant: wire types never leak into `mpos-domain`; every conversion from
//! the wire is a `TryFrom`/function that validates and returns a `DecodeError` naming the
//! field, never a panic.

pub mod event;
pub mod inventory;
pub mod view;

/// The generated messages and services of package `mpos.v1`.
#[allow(missing_debug_implementations, clippy::all, reason = "generated code")]
pub mod v1 {
    tonic::include_proto!("mpos.v1");
}

/// The compiled descriptor set, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("mpos_descriptor");

/// A wire message that does not make a valid domain value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("not a valid protobuf message: {0}")]
    Protobuf(String),
    #[error("{field}: {problem}")]
    Field {
        field: &'static str,
        problem: String,
    },
}

pub(crate) fn field(field: &'static str, problem: impl Into<String>) -> DecodeError {
    DecodeError::Field {
        field,
        problem: problem.into(),
    }
}
