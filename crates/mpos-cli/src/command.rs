//! One module per verb.

pub mod admin;
pub mod bench;
pub mod bench_stock;
pub mod bench_sync;
pub mod bench_tickets;
pub mod client;
pub mod day;
pub mod demo;
pub mod ledger;
pub mod order;
pub mod pair;
pub mod print;
pub mod serve;
pub mod setup;
pub mod stock;
