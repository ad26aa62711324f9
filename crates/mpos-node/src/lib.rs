//! `mpos-node` owns the running M_POS node: the data directory and the node's identity key,
//! certificate and organization (`data_dir`, `identity`), pairing new terminals
//! (`pairing`) and TLS between nodes (`tls`), the wall clock (`clock`), the ledger service that turns batches of events
//! into durable, signed ledger entries and reads them back as exports and proofs
//! (`ledger`), the point-of-sale service that turns register, back-office, drawer and
//! day commands into events, ledger entries and projections in one transaction (`pos`,
//! fed by one `writer` thread whose WAL is checkpointed by `checkpoint`), reports (`day`), receipts and printing (`receipt`,
//! `escpos`, `printing`), setting up a restaurant (`setup`), the demo (`demo`), and the
//! gRPC, gRPC-Web and HTTP services on one port (`grpc`, `server`, `metrics`), with the web
//! app's files (`web`).
//!
//! Architecture invariant: this is the only crate that reads the wall clock or draws
//! randomness; `mpos-ledger` receives both as arguments.

pub mod checkpoint;
pub mod clock;
pub mod data_dir;
pub mod day;
pub mod demo;
pub mod digest;
pub mod discovery;
pub mod error;
pub mod escpos;
pub mod grpc;
pub mod identity;
pub mod ledger;
pub mod metrics;
pub mod pairing;
pub mod pos;
pub mod printing;
pub mod receipt;
pub mod server;
pub mod setup;
pub mod staff;
pub mod store;
pub mod tls;
pub mod web;
pub mod writer;

pub use data_dir::DataDir;
pub use error::NodeError;
pub use ledger::Ledger;
