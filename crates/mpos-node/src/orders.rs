//! The order service: the one path by which orders change. For a batch of requests it
//! decides each against the order's current state, records the accepted changes as ledger
//! entries (one signed checkpoint per batch), and commits entries, order projections and
//! request records in one transaction before any reply. A request id seen before is not
//! applied again: its first result is returned.

use std::collections::HashMap;

use mpos_domain::Event;
use mpos_domain::ids::OrderId;
use mpos_domain::order::{Change, Command, Order, OrderEvent, apply, decide};
use mpos_domain::staff::Actor;
use mpos_ledger::{EntryRef, SealedEntry};
use mpos_proto::event::{SCHEMA, decode, encode};
use mpos_store::{AppliedRequest, LedgerBatch, OrderStore, StoreError};

use crate::error::NodeError;
use crate::ledger::Ledger;

/// One command from a client, with the id the client chose for it (a UUIDv7): retrying
/// with the same id is safe.
#[derive(Debug, Clone)]
pub struct Request {
    pub id: u128,
    pub order: OrderId,
    pub command: Command,
    pub actor: Actor,
}

/// What a request did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The changes the request made (on a retry: the changes its first attempt made).
    pub changes: Vec<Change>,
    /// The order's state now.
    pub order: Order,
    /// True when this request id had been applied before.
    pub replayed: bool,
    /// Ledger entries holding the changes.
    pub first_seq: u64,
    pub last_seq: u64,
}

#[derive(Debug)]
pub struct OrderService<S> {
    ledger: Ledger<S>,
}

impl<S: OrderStore> OrderService<S> {
    pub fn new(ledger: Ledger<S>) -> OrderService<S> {
        OrderService { ledger }
    }

    pub fn ledger(&self) -> &Ledger<S> {
        &self.ledger
    }

    pub fn order(&self, id: OrderId) -> Result<Option<Order>, NodeError> {
        Ok(self.ledger.store().load_order(id)?)
    }

    /// Applies one request.
    pub fn execute_one(&mut self, request: Request, now_millis: u64) -> Result<Applied, NodeError> {
        self.execute(vec![request], now_millis)
            .pop()
            .unwrap_or_else(|| Err(NodeError::BadRequest("no request".into())))
    }

    /// Applies a batch of requests in order: one ledger batch, one transaction, one fsync.
    /// Each request gets its own result; a refused one writes nothing and does not stop
    /// the others. If the commit fails, nothing of the batch is written and every request
    /// that would have written gets the failure.
    pub fn execute(
        &mut self,
        requests: Vec<Request>,
        now_millis: u64,
    ) -> Vec<Result<Applied, NodeError>> {
        let mut staged = self.ledger.head().clone();
        let key = self.ledger.key().public();
        let mut working: HashMap<OrderId, Option<Order>> = HashMap::new();
        let mut entries: Vec<SealedEntry> = Vec::new();
        let mut applied: Vec<AppliedRequest> = Vec::new();
        let mut results: Vec<Result<Applied, NodeError>> = Vec::with_capacity(requests.len());
        // Results that only stand if the commit succeeds.
        let mut pending: Vec<usize> = Vec::new();
        let mut time = staged.last_hlc();

        for request in requests {
            let result = (|| -> Result<Applied, NodeError> {
                if let Some(done) = self.ledger.store().applied_request(request.id)? {
                    return self.replay(&request, done);
                }
                if let Some(done) = applied.iter().find(|a| a.request == request.id).copied() {
                    let first = results
                        .iter()
                        .flatten()
                        .find(|a| a.first_seq == done.first_seq && !a.replayed);
                    return first
                        .map(|a| Applied {
                            replayed: true,
                            ..a.clone()
                        })
                        .ok_or_else(|| {
                            NodeError::BadRequest("request repeated in one batch".into())
                        });
                }
                let state = match working.get(&request.order) {
                    Some(s) => s.clone(),
                    None => self.ledger.store().load_order(request.order)?,
                };
                let changes = decide(state.as_ref(), &request.command, request.actor)?;
                let mut order = state;
                let first_seq = staged.size() + 1;
                let mut new_entries = Vec::with_capacity(changes.len());
                let mut head = staged.clone();
                for change in &changes {
                    let event = OrderEvent {
                        order: request.order,
                        by: request.actor.staff,
                        at: now_millis,
                        change: change.clone(),
                    };
                    order = apply(order, &event);
                    time = time.tick(now_millis);
                    new_entries.push(head.append(time, SCHEMA, &encode(&Event::Order(event)))?);
                }
                let order = order
                    .ok_or_else(|| NodeError::BadRequest("the command produced no order".into()))?;
                staged = head;
                entries.extend(new_entries);
                working.insert(request.order, Some(order.clone()));
                applied.push(AppliedRequest {
                    request: request.id,
                    order: request.order,
                    node: key.node_id(),
                    first_seq,
                    last_seq: staged.size(),
                });
                Ok(Applied {
                    changes,
                    order,
                    replayed: false,
                    first_seq,
                    last_seq: staged.size(),
                })
            })();
            if matches!(&result, Ok(a) if !a.replayed) {
                pending.push(results.len());
            }
            results.push(result);
        }

        if entries.is_empty() {
            return results;
        }
        let commit = (|| -> Result<(), NodeError> {
            let checkpoint = staged.checkpoint(self.ledger.key())?;
            let batch = LedgerBatch {
                key,
                entries,
                checkpoint,
                head: staged.clone(),
            };
            let orders: Vec<&Order> = working.values().flatten().collect();
            self.ledger.store_mut().commit(&batch, &orders, &applied)?;
            Ok(())
        })();
        match commit {
            Ok(()) => self.ledger.adopt(staged),
            Err(e) => {
                let message = e.to_string();
                for i in pending {
                    results[i] = Err(NodeError::Store(StoreError::Backend(format!(
                        "not written: {message}"
                    ))));
                }
            }
        }
        results
    }

    /// The first result of a request applied before, rebuilt from its ledger entries.
    fn replay(&self, request: &Request, done: AppliedRequest) -> Result<Applied, NodeError> {
        if done.order != request.order {
            return Err(NodeError::BadRequest(format!(
                "request id {:032x} was already used for another order",
                request.id
            )));
        }
        let mut changes = Vec::new();
        for seq in done.first_seq..=done.last_seq {
            let bytes = self.ledger.store().entry(done.node, seq)?.ok_or_else(|| {
                StoreError::Corrupt(format!("entry {seq} of a recorded request is missing"))
            })?;
            let entry = EntryRef::decode(&bytes).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            match decode(entry.payload).map_err(|e| StoreError::Corrupt(e.to_string()))? {
                Event::Order(e) => changes.push(e.change),
            }
        }
        let order = self
            .ledger
            .store()
            .load_order(request.order)?
            .ok_or_else(|| {
                StoreError::Corrupt("the order of a recorded request is missing".into())
            })?;
        Ok(Applied {
            changes,
            order,
            replayed: true,
            first_seq: done.first_seq,
            last_seq: done.last_seq,
        })
    }
}
