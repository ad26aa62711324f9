//! `mpos-domain` owns the restaurant's rules as pure functions: money in integer minor
//! units with its currency, tax (inclusive and exclusive pricing, several rates, per-line
//! rounding), and exact allocation of amounts (discounts, splits) that always sums to the
//! total. Orders, payments, catalog and staff build on these.
//!
//! Architecture invariant: no I/O, no async, no clock, no randomness, no floats. Time and
//! ids come in as arguments. A phone app or a test links this crate and nothing else.

pub mod allocate;
pub mod catalog;
pub mod day;
pub mod drawer;
pub mod event;
pub mod floor;
pub mod ids;
pub mod inventory;
pub mod menu;
pub mod money;
pub mod order;
pub mod refusal;
pub mod sales;
pub mod split;
pub mod staff;
pub mod tax;

pub use allocate::{allocate, split_evenly};
pub use event::Event;
pub use money::{Currency, Money, MoneyError};
pub use refusal::Refusal;
pub use tax::{LineTax, PriceMode, TaxRate, TaxedLine, tax_line};
