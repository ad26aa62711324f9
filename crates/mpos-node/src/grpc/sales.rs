//! The register's order list and the back office's sales charts: reads of closed and
//! recent orders, off the async threads.

use std::collections::HashMap;

use mpos_domain::ids::{LocationId, OrderId};
use mpos_domain::order::Order;
use mpos_domain::sales::Sales;
use mpos_domain::staff::{Actor, Permission};
use mpos_proto::event::{read_id, read_opt_id};
use mpos_proto::v1;
use mpos_proto::view::{order_view, sales_view};
use mpos_store::{InventoryStore, PosStore};
use tonic::Status;

use super::{PosApi, bad, status};
use crate::clock;
use crate::error::NodeError;
use crate::store::node_location;

const DAY_MILLIS: u64 = 24 * 60 * 60 * 1_000;
/// The longest stretch a chart covers: a quarter.
const MAX_DAYS: u64 = 92;
/// Orders one chart may read; past this the stretch is too busy to fold on request.
const MAX_ORDERS: usize = 250_000;
/// The latest orders searched for ones a manager must look at.
const CONFLICTS_SCANNED: usize = 5_000;
/// Orders read under the reader's lock at a time.
const CHUNK: usize = 256;

impl PosApi {
    pub(super) async fn order_list(
        &self,
        actor: Actor,
        r: v1::ListOrdersRequest,
    ) -> Result<v1::ListOrdersReply, Status> {
        Self::require(actor, Permission::Sell, "list orders")?;
        if r.number.len() > 64 {
            return Err(Status::invalid_argument(
                "number: at most 64 characters of an order number",
            ));
        }
        let limit = match r.limit {
            0 => 30,
            n => n.min(200) as usize,
        };
        let before = match r.before {
            0 => None,
            at => Some((
                at,
                OrderId(read_id("before_id", &r.before_id).map_err(bad)?),
            )),
        };
        let number = r.number.trim().to_string();
        let node = self.node;
        let conflicted = r.conflicted;
        self.read(move |store| {
            let here = node_location(store, node)?;
            let orders = if conflicted {
                let mut found = store.recent_orders(here, before, &number, CONFLICTS_SCANNED)?;
                found.retain(|o| !o.conflicts().is_empty());
                found.truncate(limit);
                found
            } else {
                store.recent_orders(here, before, &number, limit)?
            };
            let orders = orders
                .iter()
                .map(order_view)
                .collect::<Result<_, _>>()
                .map_err(|e| NodeError::Internal(e.to_string()))?;
            Ok(v1::ListOrdersReply { orders })
        })
        .await
    }

    pub(super) async fn sales(
        &self,
        actor: Actor,
        r: v1::GetSalesRequest,
    ) -> Result<v1::SalesView, Status> {
        Self::require(actor, Permission::Reports, "see sales")?;
        let to = if r.to == 0 { clock::now_millis() } else { r.to };
        if r.from >= to {
            return Err(Status::invalid_argument("from: must be before to"));
        }
        if to - r.from > MAX_DAYS * DAY_MILLIS {
            return Err(Status::invalid_argument(format!(
                "from, to: at most {MAX_DAYS} days at a time"
            )));
        }
        // Real offsets run from UTC-12:00 to UTC+14:00.
        let offset = r.utc_offset_minutes;
        if !(-720..=840).contains(&offset) {
            return Err(Status::invalid_argument(
                "utc_offset_minutes: between -720 and 840",
            ));
        }
        let local_day = |at: u64| {
            i64::try_from(at)
                .unwrap_or(i64::MAX)
                .saturating_add(i64::from(offset) * 60_000)
                .div_euclid(DAY_MILLIS as i64)
        };
        let days = (local_day(r.from), local_day(to - 1));
        let asked = read_opt_id("location", &r.location)
            .map_err(bad)?
            .map(LocationId);
        let node = self.node;
        let (currency, location) = self
            .read(move |store| {
                let currency = store
                    .settings()?
                    .map(|s| s.currency)
                    .ok_or_else(|| NodeError::NotFound("the restaurant is not set up".into()))?;
                let location = match asked {
                    Some(l) if store.location(l)?.is_none() => {
                        return Err(NodeError::NotFound(format!("no location {l}")));
                    }
                    Some(l) => Some(l),
                    None => node_location(store, node)?,
                };
                Ok((currency, location))
            })
            .await?;
        let mut sales = Sales::new(currency);
        self.each_closed_order(location, r.from, to, |o| {
            sales
                .record(o, offset)
                .map_err(|e| status(NodeError::Internal(e.to_string())))
        })
        .await?;
        self.read(move |store| {
            let (categories, staff) = super::names(store)?;
            let locations: HashMap<LocationId, String> = store
                .locations()?
                .into_iter()
                .map(|l| (l.id, l.name))
                .collect();
            Ok(sales_view(
                &sales,
                days,
                |id| {
                    categories
                        .get(&id)
                        .cloned()
                        .unwrap_or_else(|| id.to_string())
                },
                |id| staff.get(&id).cloned().unwrap_or_else(|| id.to_string()),
                |l| match l {
                    Some(l) => locations.get(&l).cloned().unwrap_or_else(|| l.to_string()),
                    None => String::new(),
                },
            ))
        })
        .await
    }

    /// Every order closed in `[from, to)` at `location` (at any, when none), handed to
    /// `each`. A quarter of a busy
    /// restaurant is tens of thousands of orders: they are read a few hundred at a time,
    /// so the registers' reads go in between.
    pub(super) async fn each_closed_order(
        &self,
        location: Option<LocationId>,
        from: u64,
        to: u64,
        mut each: impl FnMut(&Order) -> Result<(), Status>,
    ) -> Result<(), Status> {
        let ids = self
            .read(move |store| Ok(store.closed_order_ids(location, from, to, MAX_ORDERS + 1)?))
            .await?;
        if ids.len() > MAX_ORDERS {
            return Err(status(NodeError::BadRequest(format!(
                "more than {MAX_ORDERS} orders closed in that stretch: ask for a shorter one"
            ))));
        }
        for chunk in ids.chunks(CHUNK) {
            let chunk = chunk.to_vec();
            let orders = self
                .read(move |store| {
                    let mut out = Vec::with_capacity(chunk.len());
                    for id in chunk {
                        out.extend(store.load_order(id)?);
                    }
                    Ok(out)
                })
                .await?;
            for o in &orders {
                each(o)?;
            }
        }
        Ok(())
    }
}
