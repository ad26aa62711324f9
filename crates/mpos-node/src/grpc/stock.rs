//! Stock over gRPC: changes go through the writer like any sale (request id, ledger,
//! projections); the stock view and the usage report are reads. Quantities arrive as text
//! with a unit and are parsed here, so every client gets the same errors; a bare number
//! is in the stock item's own unit.

use std::collections::HashMap;

use mpos_domain::catalog::Channel;
use mpos_domain::ids::{
    LocationId, ModifierId, PurchaseOrderId, StockItemId, SupplierId, TransferId,
};
use mpos_domain::inventory::food_cost::{FoodCostByItem, cost_of};
use mpos_domain::inventory::{
    Ingredient, InventoryCommand, Location, Quantity, Recipe, RecipeFor, StockItem, StockValue,
    Unit, food_cost_ppm,
};
use mpos_domain::menu::Settings;
use mpos_domain::staff::Permission;
use mpos_domain::tax::tax_line;
use mpos_domain::{Currency, Money};
use mpos_ledger::NodeId;
use mpos_proto::event::{id, read_id, read_opt_id};
use mpos_proto::inventory::{
    location_from_wire, recipe_from_wire, recipe_target_to_wire, sales_stock_from_wire,
    sales_stock_to_wire, stock_item_from_wire, stock_item_to_wire,
};
use mpos_proto::v1::{self, change_stock_request::Change as Wire};
use mpos_store::{InventoryStore, PosStore};
use tonic::{Request as GrpcRequest, Response, Status};

use super::{PosApi, bad, request_id, status};
use crate::clock;
use crate::error::NodeError;
use crate::pos::{Action, Request};
use crate::store::Store;

fn invalid(field: &str, e: impl std::fmt::Display) -> Status {
    Status::invalid_argument(format!("{field}: {e}"))
}

/// Reads "2.5 kg" (any unit of the item's kind) or a bare "12" (in the item's unit).
fn quantity(field: &str, text: &str, unit: Option<Unit>) -> Result<Quantity, Status> {
    let t = text.trim();
    if t.is_empty() {
        return Err(invalid(field, "a quantity is required, e.g. \"2.5 kg\""));
    }
    let bare = t
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-');
    match (bare, unit) {
        (true, Some(u)) => Quantity::parse_in(t, u),
        // An unknown item: the decision names it; the unit is not the problem.
        (true, None) => Quantity::parse_in(t, Unit::Each),
        (false, _) => Quantity::parse(t),
    }
    .map_err(|e| invalid(field, e))
}

fn location(field: &'static str, b: &[u8]) -> Result<LocationId, Status> {
    read_id(field, b).map(LocationId).map_err(bad)
}

fn stock(field: &'static str, b: &[u8]) -> Result<StockItemId, Status> {
    read_id(field, b).map(StockItemId).map_err(bad)
}

/// A level as shown: in the item's unit, with its par and what is on its way.
fn level_view(
    names: &Names,
    (l, i, v): (LocationId, StockItemId, StockValue),
    par: Option<Quantity>,
    in_transit: Option<Quantity>,
) -> v1::StockLevelView {
    let item = names.items.get(&i);
    let unit = item.map_or(Unit::Each, |i| i.unit);
    let shown = |q: Quantity| {
        q.display_in(unit)
            .unwrap_or_else(|_| format!("{} ‰", q.milli))
    };
    let dimension = unit.dimension();
    v1::StockLevelView {
        location: id(l.0),
        location_name: names.location(l),
        item: id(i.0),
        item_name: item.map_or_else(|| i.to_string(), |i| i.name.clone()),
        unit: unit.symbol().into(),
        quantity: shown(Quantity {
            dimension,
            milli: v.milli,
        }),
        milli: v.milli,
        // As decisions weigh it: movements valued apart can leave the sum below zero.
        value: v.settled().value,
        par: par.map(shown).unwrap_or_default(),
        low: par.is_some_and(|p| v.milli < p.milli),
        in_transit: in_transit
            .filter(|q| q.milli != 0)
            .map(shown)
            .unwrap_or_default(),
    }
}

/// Names of locations, stock items and suppliers, for views.
struct Names {
    locations: HashMap<LocationId, String>,
    items: HashMap<StockItemId, StockItem>,
    suppliers: HashMap<SupplierId, String>,
}

impl Names {
    fn read(store: &Store) -> Result<Names, NodeError> {
        Ok(Names {
            locations: store
                .locations()?
                .into_iter()
                .map(|l| (l.id, l.name))
                .collect(),
            items: store
                .stock_items()?
                .into_iter()
                .map(|i| (i.id, i))
                .collect(),
            suppliers: store
                .suppliers()?
                .into_iter()
                .map(|s| (s.id, s.name))
                .collect(),
        })
    }

    fn location(&self, l: LocationId) -> String {
        self.locations
            .get(&l)
            .cloned()
            .unwrap_or_else(|| l.to_string())
    }

    fn item(&self, i: StockItemId) -> String {
        self.items
            .get(&i)
            .map_or_else(|| i.to_string(), |s| s.name.clone())
    }

    fn shown(&self, i: StockItemId, q: Quantity) -> String {
        self.items
            .get(&i)
            .and_then(|s| q.display_in(s.unit).ok())
            .unwrap_or_else(|| format!("{} ‰", q.milli))
    }
}

impl PosApi {
    /// The units of the stock items a request names, for bare numbers.
    async fn units(&self, items: Vec<StockItemId>) -> Result<HashMap<StockItemId, Unit>, Status> {
        self.read(move |store| {
            let mut out = HashMap::new();
            for i in items {
                if let Some(s) = store.stock_item(i)? {
                    out.insert(i, s.unit);
                }
            }
            Ok(out)
        })
        .await
    }

    pub(super) async fn change_stock_request(
        &self,
        request: GrpcRequest<v1::ChangeStockRequest>,
    ) -> Result<Response<v1::ChangeStockReply>, Status> {
        let actor = self.actor(&request)?;
        let r = request.into_inner();
        let rid = request_id(&r.request_id)?;
        let change = r
            .change
            .ok_or_else(|| Status::invalid_argument("change: say what to change"))?;
        let named: Vec<StockItemId> = match &change {
            Wire::Par(p) => vec![stock("par.item", &p.item)?],
            Wire::Recipe(rc) => rc
                .ingredients
                .iter()
                .map(|i| stock("recipe.ingredients.stock", &i.stock))
                .collect::<Result<_, _>>()?,
            Wire::Receive(x) => vec![stock("receive.item", &x.item)?],
            Wire::Waste(x) => vec![stock("waste.item", &x.item)?],
            Wire::Count(x) => vec![stock("count.item", &x.item)?],
            Wire::SendTransfer(t) => lines_items(&t.lines)?,
            Wire::ReceiveTransfer(t) => lines_items(&t.lines)?,
            Wire::DraftPurchaseOrder(p) => p
                .lines
                .iter()
                .map(|l| stock("draft_purchase_order.lines.item", &l.item))
                .collect::<Result<_, _>>()?,
            _ => Vec::new(),
        };
        let units = self.units(named).await?;
        let unit = |i: StockItemId| units.get(&i).copied();
        let needs_money = matches!(&change, Wire::Receive(_) | Wire::DraftPurchaseOrder(_));
        let currency = if needs_money {
            Some(self.currency().await?)
        } else {
            None
        };
        let money = |minor: i64| currency.map(|c| Money::new(minor, c));
        let lines = |field: &'static str,
                     lines: &[v1::StockLineRequest]|
         -> Result<Vec<(StockItemId, Quantity)>, Status> {
            lines
                .iter()
                .map(|l| {
                    let item = stock(field, &l.item)?;
                    Ok((item, quantity(field, &l.quantity, unit(item))?))
                })
                .collect()
        };
        use InventoryCommand as C;
        let command = match change {
            Wire::Location(l) => C::PutLocation(location_from_wire(l).map_err(bad)?),
            Wire::SalesStock(s) => C::SetSalesStock(sales_stock_from_wire(s).map_err(bad)?),
            Wire::StockItem(i) => C::PutStockItem(stock_item_from_wire(i).map_err(bad)?),
            Wire::Supplier(s) => C::PutSupplier(mpos_domain::inventory::Supplier {
                id: SupplierId(read_id("supplier.id", &s.id).map_err(bad)?),
                name: s.name,
                contact: s.contact,
            }),
            Wire::Par(p) => {
                let item = stock("par.item", &p.item)?;
                C::SetPar {
                    location: location("par.location", &p.location)?,
                    item,
                    level: if p.level.trim().is_empty() {
                        None
                    } else {
                        Some(quantity("par.level", &p.level, unit(item))?)
                    },
                }
            }
            Wire::Recipe(rc) => {
                // The target is read as the ledger reads it; ingredients are parsed here.
                let target = recipe_from_wire(v1::Recipe {
                    target: rc.target,
                    ingredients: Vec::new(),
                })
                .map_err(bad)?
                .target;
                let ingredients = rc
                    .ingredients
                    .iter()
                    .map(|i| {
                        let s = stock("recipe.ingredients.stock", &i.stock)?;
                        Ok(Ingredient {
                            stock: s,
                            quantity: quantity(
                                "recipe.ingredients.quantity",
                                &i.quantity,
                                unit(s),
                            )?,
                        })
                    })
                    .collect::<Result<Vec<_>, Status>>()?;
                C::PutRecipe(Recipe {
                    target,
                    ingredients,
                })
            }
            Wire::Receive(x) => {
                let item = stock("receive.item", &x.item)?;
                C::Receive {
                    location: location("receive.location", &x.location)?,
                    item,
                    quantity: quantity("receive.quantity", &x.quantity, unit(item))?,
                    cost: money(x.cost).ok_or_else(|| Status::internal("no currency"))?,
                    supplier: read_opt_id("receive.supplier", &x.supplier)
                        .map_err(bad)?
                        .map(SupplierId),
                    lot: x.lot,
                    purchase_order: read_opt_id("receive.purchase_order", &x.purchase_order)
                        .map_err(bad)?
                        .map(PurchaseOrderId),
                }
            }
            Wire::Waste(x) => {
                let item = stock("waste.item", &x.item)?;
                C::Waste {
                    location: location("waste.location", &x.location)?,
                    item,
                    quantity: quantity("waste.quantity", &x.quantity, unit(item))?,
                    reason: x.reason,
                }
            }
            Wire::Count(x) => {
                let item = stock("count.item", &x.item)?;
                C::Count {
                    location: location("count.location", &x.location)?,
                    item,
                    counted: quantity("count.counted", &x.counted, unit(item))?,
                }
            }
            Wire::SendTransfer(t) => C::SendTransfer {
                transfer: TransferId(read_id("send_transfer.transfer", &t.transfer).map_err(bad)?),
                from: location("send_transfer.from", &t.from)?,
                to: location("send_transfer.to", &t.to)?,
                lines: lines("send_transfer.lines", &t.lines)?,
            },
            Wire::ReceiveTransfer(t) => C::ReceiveTransfer {
                transfer: TransferId(
                    read_id("receive_transfer.transfer", &t.transfer).map_err(bad)?,
                ),
                lines: lines("receive_transfer.lines", &t.lines)?,
                note: t.note,
            },
            Wire::DraftPurchaseOrder(p) => C::DraftPurchaseOrder {
                po: PurchaseOrderId(read_id("draft_purchase_order.id", &p.id).map_err(bad)?),
                supplier: SupplierId(
                    read_id("draft_purchase_order.supplier", &p.supplier).map_err(bad)?,
                ),
                location: location("draft_purchase_order.location", &p.location)?,
                lines: p
                    .lines
                    .iter()
                    .map(|l| {
                        let item = stock("draft_purchase_order.lines.item", &l.item)?;
                        Ok((
                            item,
                            quantity(
                                "draft_purchase_order.lines.quantity",
                                &l.quantity,
                                unit(item),
                            )?,
                            money(l.cost).ok_or_else(|| Status::internal("no currency"))?,
                        ))
                    })
                    .collect::<Result<_, Status>>()?,
            },
            Wire::SendPurchaseOrder(p) => C::SendPurchaseOrder(PurchaseOrderId(
                read_id("send_purchase_order.id", &p.id).map_err(bad)?,
            )),
        };
        let applied = self
            .writer
            .apply(Request {
                id: rid,
                action: Action::Inventory(command),
                actor: Some(actor),
            })
            .await
            .map_err(status)?;
        // The levels the change moved, read after it.
        let mut touched: Vec<(LocationId, StockItemId)> = Vec::new();
        let mut variance = String::new();
        for e in &applied.events {
            if let mpos_domain::Event::Inventory(ie) = e
                && let mpos_domain::inventory::InventoryChange::Moved(m) = &ie.change
            {
                if let mpos_domain::inventory::Movement::Counted {
                    item, variance: v, ..
                } = m
                {
                    let unit = unit(*item).unwrap_or(Unit::Each);
                    variance = v.display_in(unit).unwrap_or_default();
                }
                let to = match m {
                    mpos_domain::inventory::Movement::TransferReceived { transfer, .. } => {
                        let t = *transfer;
                        self.read(move |store| Ok(store.transfer(t)?.map(|t| t.to)))
                            .await?
                    }
                    _ => None,
                };
                for (l, i, _) in mpos_domain::inventory::deltas(m, |_| to) {
                    if !touched.contains(&(l, i)) {
                        touched.push((l, i));
                    }
                }
            }
        }
        let levels = self
            .read(move |store| {
                let names = Names::read(store)?;
                touched
                    .into_iter()
                    .map(|(l, i)| {
                        Ok(level_view(
                            &names,
                            (l, i, store.stock_level(l, i)?),
                            store.par_level(l, i)?,
                            None,
                        ))
                    })
                    .collect::<Result<Vec<_>, NodeError>>()
            })
            .await?;
        Ok(Response::new(v1::ChangeStockReply {
            replayed: applied.replayed,
            first_seq: applied.first_seq,
            last_seq: applied.last_seq,
            levels,
            variance,
        }))
    }

    pub(super) async fn stock_view(
        &self,
        request: GrpcRequest<v1::GetStockRequest>,
    ) -> Result<Response<v1::StockView>, Status> {
        let actor = self.actor(&request)?;
        Self::require(actor, Permission::Stock, "see stock")?;
        let only = read_opt_id("location", &request.get_ref().location)
            .map_err(bad)?
            .map(LocationId);
        let currency = self.currency().await?;
        let node = self.node;
        let view = self
            .read(move |store| {
                if let Some(l) = only
                    && store.location(l)?.is_none()
                {
                    return Err(NodeError::NotFound(format!("no location {l}")));
                }
                let names = Names::read(store)?;
                let in_transit = store.transfers_in_transit()?;
                let mut coming: HashMap<(LocationId, StockItemId), Quantity> = HashMap::new();
                for t in &in_transit {
                    for line in &t.sent {
                        let q = coming
                            .entry((t.to, line.item))
                            .or_insert(Quantity::zero(line.quantity.dimension));
                        q.milli = q.milli.saturating_add(line.quantity.milli);
                    }
                }
                // Locations and items are named once; levels point at them by place.
                let places: Vec<Location> = store
                    .locations()?
                    .into_iter()
                    .filter(|l| only.is_none_or(|o| o == l.id))
                    .collect();
                let mut items: Vec<&StockItem> = names.items.values().collect();
                items.sort_by(|a, b| (&a.name, a.id).cmp(&(&b.name, b.id)));
                let place_at: HashMap<LocationId, u32> =
                    places.iter().zip(0u32..).map(|(l, n)| (l.id, n)).collect();
                let item_at: HashMap<StockItemId, u32> =
                    items.iter().zip(0u32..).map(|(i, n)| (i.id, n)).collect();
                let mut rows: Vec<(u32, u32, StockValue, Option<Quantity>, i64)> = Vec::new();
                let mut add = |l: LocationId, i: StockItemId, v: StockValue, par, coming| {
                    if let (Some(&pl), Some(&it)) = (place_at.get(&l), item_at.get(&i)) {
                        rows.push((pl, it, v, par, coming));
                    }
                };
                for r in store.stock_report(only)? {
                    let on_way = coming.remove(&(r.location, r.item)).map_or(0, |q| q.milli);
                    add(r.location, r.item, r.level, r.par, on_way);
                }
                // Goods on the way of an item with no level or par level there yet.
                for ((l, i), q) in coming {
                    if only.is_none_or(|o| o == l) {
                        add(l, i, StockValue::default(), None, q.milli);
                    }
                }
                rows.sort_unstable_by_key(|r| (r.0, r.1));
                let mut totals = vec![(0i64, 0u32); places.len()];
                let levels: Vec<v1::StockLevel> = rows
                    .into_iter()
                    .map(|(location, item, v, par, in_transit)| {
                        let v = v.settled();
                        let low = par.is_some_and(|p| v.milli < p.milli);
                        if let Some(t) = totals.get_mut(location as usize) {
                            t.0 = t.0.saturating_add(v.value);
                            t.1 += u32::from(low);
                        }
                        v1::StockLevel {
                            location,
                            item,
                            milli: v.milli,
                            value: v.value,
                            par: par.map(|p| p.milli),
                            low,
                            in_transit,
                        }
                    })
                    .collect();
                let locations = places
                    .into_iter()
                    .zip(totals)
                    .map(|(l, (value, low))| v1::LocationStock {
                        location: id(l.id.0),
                        name: l.name,
                        active: l.active,
                        value,
                        low,
                    })
                    .collect();
                let line = |item: StockItemId, q: Quantity, value: i64| v1::StockLineView {
                    item: id(item.0),
                    item_name: names.item(item),
                    quantity: names.shown(item, q),
                    value,
                };
                let in_transit = in_transit
                    .iter()
                    .filter(|t| only.is_none_or(|o| o == t.to || o == t.from))
                    .map(|t| v1::TransferView {
                        id: id(t.id.0),
                        from: id(t.from.0),
                        from_name: names.location(t.from),
                        to: id(t.to.0),
                        to_name: names.location(t.to),
                        lines: t
                            .sent
                            .iter()
                            .map(|l| line(l.item, l.quantity, l.value.minor()))
                            .collect(),
                    })
                    .collect();
                let purchase_orders = store
                    .purchase_orders()?
                    .into_iter()
                    .filter(|p| only.is_none_or(|o| o == p.location))
                    .map(|p| v1::PurchaseOrderView {
                        id: id(p.id.0),
                        supplier: id(p.supplier.0),
                        supplier_name: names
                            .suppliers
                            .get(&p.supplier)
                            .cloned()
                            .unwrap_or_else(|| p.supplier.to_string()),
                        location: id(p.location.0),
                        location_name: names.location(p.location),
                        status: p.status().name().into(),
                        lines: p
                            .lines
                            .iter()
                            .map(|l| v1::PurchaseLineView {
                                item: id(l.item.0),
                                item_name: names.item(l.item),
                                quantity: names.shown(l.item, l.quantity),
                                received: names.shown(l.item, l.received),
                                cost: l.cost.minor(),
                            })
                            .collect(),
                    })
                    .collect();
                let mut disputed = Vec::new();
                for tid in store.disputed_transfers()? {
                    // One whose sending has not come yet shows once it has.
                    let Some(t) = store.transfer(tid)? else {
                        continue;
                    };
                    if only.is_some_and(|o| o != t.to && o != t.from) {
                        continue;
                    }
                    disputed.push(v1::DisputedTransfer {
                        id: id(t.id.0),
                        from_name: names.location(t.from),
                        to_name: names.location(t.to),
                        sent: t
                            .sent
                            .iter()
                            .map(|l| line(l.item, l.quantity, l.value.minor()))
                            .collect(),
                        received: t
                            .received
                            .iter()
                            .flatten()
                            .map(|(i, q)| line(*i, *q, t.value_arriving(*i, *q)))
                            .collect(),
                    });
                }
                Ok(v1::StockView {
                    currency: currency.code().into(),
                    locations,
                    items: items.into_iter().map(stock_item_to_wire).collect(),
                    suppliers: store
                        .suppliers()?
                        .into_iter()
                        .map(|s| v1::Supplier {
                            id: id(s.id.0),
                            name: s.name,
                            contact: s.contact,
                        })
                        .collect(),
                    sales: Some(sales_stock_to_wire(store.sales_stock(node)?)),
                    levels,
                    in_transit,
                    purchase_orders,
                    disputed,
                })
            })
            .await?;
        Ok(Response::new(view))
    }

    pub(super) async fn stock_usage(
        &self,
        request: GrpcRequest<v1::GetStockUsageRequest>,
    ) -> Result<Response<v1::StockUsageView>, Status> {
        let actor = self.actor(&request)?;
        Self::require(actor, Permission::Reports, "see stock usage")?;
        let r = request.into_inner();
        let to = if r.to == 0 { clock::now_millis() } else { r.to };
        if r.from >= to {
            return Err(Status::invalid_argument("from: must be before to"));
        }
        let currency = self.currency().await?;
        let (usage, names) = self
            .read(move |store| Ok((store.stock_usage(r.from, to)?, Names::read(store)?)))
            .await?;
        let net_sales = self.net_sales(r.from, to).await?;
        let sum = |kinds: &[&str]| -> i64 {
            usage
                .iter()
                .filter(|u| kinds.contains(&u.kind.as_str()))
                .map(|u| u.value)
                .sum()
        };
        // Sales take value away (negative); what they cost is its opposite.
        let cost_of_sales = -sum(&["depleted", "restored"]);
        let waste = -sum(&["wasted"]);
        let lines = usage
            .iter()
            .map(|u| {
                let dimension = names
                    .items
                    .get(&u.item)
                    .map_or(mpos_domain::inventory::Dimension::Count, |i| {
                        i.unit.dimension()
                    });
                v1::StockUsageLine {
                    location: id(u.location.0),
                    location_name: names.location(u.location),
                    item: id(u.item.0),
                    item_name: names.item(u.item),
                    kind: u.kind.clone(),
                    quantity: names.shown(
                        u.item,
                        Quantity {
                            dimension,
                            milli: u.milli,
                        },
                    ),
                    value: u.value,
                }
            })
            .collect();
        Ok(Response::new(v1::StockUsageView {
            currency: currency.code().into(),
            lines,
            cost_of_sales,
            waste,
            net_sales,
            food_cost_ppm: mpos_domain::inventory::food_cost_ppm(
                Money::new(cost_of_sales, currency),
                Money::new(net_sales, currency),
            ),
        }))
    }

    /// Sales less tax and refunds of the orders closed in `[from, to)` at every location
    /// (the usage they are set against is every location's), in minor units.
    async fn net_sales(&self, from: u64, to: u64) -> Result<i64, Status> {
        let mut net = 0i64;
        self.each_closed_order(None, from, to, |o| {
            let t = o
                .totals()
                .map_err(|e| status(NodeError::Internal(e.to_string())))?;
            let tax: i64 = t.tax_by_rate.iter().map(|(_, m)| m.minor()).sum();
            let sale = t.total.minor() - tax;
            // Refunds take back their share of the sale, tax included.
            let refunded: i64 = o.payments.iter().map(|p| p.refunded.minor()).sum();
            let back = if t.total.minor() > 0 {
                (i128::from(refunded.min(t.total.minor())) * i128::from(sale)
                    / i128::from(t.total.minor())) as i64
            } else {
                0
            };
            net = net.saturating_add(sale - back);
            Ok(())
        })
        .await?;
        Ok(net)
    }
}

fn lines_items(lines: &[v1::StockLineRequest]) -> Result<Vec<StockItemId>, Status> {
    lines.iter().map(|l| stock("lines.item", &l.item)).collect()
}

/// What the food-cost view reads in one go: the menu side of every recipe.
struct Costing {
    location: LocationId,
    recipes: HashMap<RecipeFor, Recipe>,
    levels: HashMap<StockItemId, StockValue>,
    names: Names,
    /// Each recipe's name, menu price and price before tax (none for a modifier).
    menu: HashMap<RecipeFor, (String, Money, Option<Money>)>,
}

impl Costing {
    /// None while sales take no stock: there is no location whose costs price them.
    fn read(
        store: &Store,
        node: NodeId,
        settings: &Settings,
    ) -> Result<Option<Costing>, NodeError> {
        let Some(sales) = store.sales_stock(node)? else {
            return Ok(None);
        };
        let recipes: HashMap<RecipeFor, Recipe> = store
            .recipes()?
            .into_iter()
            .map(|r| (r.target, r))
            .collect();
        let levels = store
            .stock_levels(Some(sales.location))?
            .into_iter()
            .map(|(_, i, v)| (i, v))
            .collect();
        let options: HashMap<ModifierId, (String, Money)> = store
            .modifier_groups()?
            .into_iter()
            .flat_map(|g| g.options)
            .map(|o| (o.id, (o.name, o.price_delta)))
            .collect();
        let zero = Money::zero(settings.currency);
        let mut menu = HashMap::with_capacity(recipes.len());
        for &target in recipes.keys() {
            let shown = match target {
                RecipeFor::Item(i) | RecipeFor::Variant(i, _) => match store.item(i)? {
                    Some(item) => {
                        let variant = match target {
                            RecipeFor::Variant(_, v) => item.variants.iter().find(|x| x.id == v),
                            _ => None,
                        };
                        let base = item.price_on(Channel::Counter);
                        let price = match variant {
                            Some(v) => base.checked_add(v.price_delta).unwrap_or(base),
                            None => base,
                        };
                        let rates = store
                            .tax_category(item.tax_category)?
                            .map(|t| t.rates)
                            .unwrap_or_default();
                        let net =
                            tax_line(price, &rates, settings.price_mode).map_or(price, |t| t.net);
                        let name = match variant {
                            Some(v) => format!("{} {}", item.name, v.name),
                            None => item.name,
                        };
                        (name, price, Some(net))
                    }
                    None => (i.to_string(), zero, Some(zero)),
                },
                RecipeFor::Modifier(m) => match options.get(&m) {
                    Some((name, delta)) => (name.clone(), *delta, None),
                    None => (m.to_string(), zero, None),
                },
            };
            menu.insert(target, shown);
        }
        Ok(Some(Costing {
            location: sales.location,
            recipes,
            levels,
            names: Names::read(store)?,
            menu,
        }))
    }

    fn level(&self, item: StockItemId) -> StockValue {
        self.levels.get(&item).copied().unwrap_or_default()
    }

    /// Every recipe's portion at today's costs, by name.
    fn recipes(&self, currency: Currency) -> Result<Vec<v1::RecipeCost>, NodeError> {
        let mut out = Vec::with_capacity(self.recipes.len());
        for (target, recipe) in &self.recipes {
            let mut ingredients = Vec::with_capacity(recipe.ingredients.len());
            let mut cost = Money::zero(currency);
            for i in &recipe.ingredients {
                let one = cost_of(currency, [(i.stock, i.quantity)], |s| self.level(s))
                    .map_err(|e| NodeError::Internal(e.to_string()))?;
                cost = cost
                    .checked_add(one)
                    .map_err(|e| NodeError::Internal(e.to_string()))?;
                ingredients.push(v1::RecipeIngredientCost {
                    item: id(i.stock.0),
                    item_name: self.names.item(i.stock),
                    quantity: self.names.shown(i.stock, i.quantity),
                    cost: one.minor(),
                });
            }
            let (name, price, net) = self
                .menu
                .get(target)
                .cloned()
                .unwrap_or_else(|| (String::new(), Money::zero(currency), None));
            out.push(v1::RecipeCost {
                target: Some(recipe_target_to_wire(*target)),
                name,
                ingredients,
                cost: cost.minor(),
                price: price.minor(),
                net_price: net.map_or(0, |n| n.minor()),
                food_cost_ppm: net.map_or(0, |n| food_cost_ppm(cost, n)),
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }
}

impl PosApi {
    pub(super) async fn food_cost(
        &self,
        request: GrpcRequest<v1::GetFoodCostRequest>,
    ) -> Result<Response<v1::FoodCostView>, Status> {
        let actor = self.actor(&request)?;
        Self::require(actor, Permission::Reports, "see food cost")?;
        let r = request.into_inner();
        let to = if r.to == 0 { clock::now_millis() } else { r.to };
        if r.from >= to {
            return Err(Status::invalid_argument("from: must be before to"));
        }
        let settings = self.settings().await?;
        let currency = settings.currency;
        let costing = {
            let settings = settings.clone();
            let node = self.node;
            self.read(move |store| Costing::read(store, node, &settings))
                .await?
                .ok_or_else(|| {
                    Status::failed_precondition(
                        "sales take no stock yet: set the location they take it from first",
                    )
                })?
        };
        let recipes = costing.recipes(currency).map_err(status)?;
        let mut by_item = FoodCostByItem::new(currency);
        self.each_closed_order(Some(costing.location), r.from, to, |o| {
            by_item
                .add(
                    o,
                    |t| costing.recipes.get(&t).cloned(),
                    |s| costing.level(s),
                )
                .map_err(|e| status(NodeError::Internal(e.to_string())))
        })
        .await?;
        let items = by_item.items();
        let net_sales: i64 = items.iter().map(|i| i.net_sales.minor()).sum();
        let cost: i64 = items.iter().map(|i| i.cost.minor()).sum();
        Ok(Response::new(v1::FoodCostView {
            currency: currency.code().into(),
            location: id(costing.location.0),
            location_name: costing.names.location(costing.location),
            recipes,
            items: items
                .iter()
                .map(|i| v1::ItemFoodCostView {
                    item: id(i.item.0),
                    variant: i.variant.map(|v| id(v.0)).unwrap_or_default(),
                    name: i.name.clone(),
                    sold: i.sold,
                    net_sales: i.net_sales.minor(),
                    cost: i.cost.minor(),
                    food_cost_ppm: i.food_cost_ppm(),
                })
                .collect(),
            net_sales,
            cost,
            food_cost_ppm: food_cost_ppm(
                Money::new(cost, currency),
                Money::new(net_sales, currency),
            ),
        }))
    }
}
