//! Every kind of event a node records in its ledger.

use crate::order::OrderEvent;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    Order(OrderEvent),
}
