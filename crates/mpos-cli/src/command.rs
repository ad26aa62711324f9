//! One module per verb.

pub mod bench;
pub mod ledger;
pub mod serve;
