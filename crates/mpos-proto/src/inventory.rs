//! Inventory events to ledger payloads and back.

use mpos_domain::ids::{
    ItemId, LocationId, ModifierId, OrderId, PurchaseOrderId, StaffId, StockItemId, SupplierId,
    TransferId, VariantId,
};
use mpos_domain::inventory::{
    Depletion, Dimension, Ingredient, InventoryChange, InventoryEvent, Location, Movement,
    PurchaseLine, PurchaseOrder, Quantity, Recipe, RecipeFor, SalesStock, StockItem, Supplier,
    TransferLine, Unit,
};
use mpos_domain::{Currency, Money};

use crate::event::{id, opt_id, read_id, read_opt_id};
use crate::v1::{self, inventory_event::Change as W, recipe_target::Kind as Target};
use crate::{DecodeError, field};

pub fn unit_to_wire(u: Unit) -> v1::StockUnit {
    match u {
        Unit::Gram => v1::StockUnit::Gram,
        Unit::Kilogram => v1::StockUnit::Kilogram,
        Unit::Millilitre => v1::StockUnit::Millilitre,
        Unit::Litre => v1::StockUnit::Litre,
        Unit::Each => v1::StockUnit::Each,
    }
}

pub fn unit_from_wire(name: &'static str, u: i32) -> Result<Unit, DecodeError> {
    match v1::StockUnit::try_from(u) {
        Ok(v1::StockUnit::Gram) => Ok(Unit::Gram),
        Ok(v1::StockUnit::Kilogram) => Ok(Unit::Kilogram),
        Ok(v1::StockUnit::Millilitre) => Ok(Unit::Millilitre),
        Ok(v1::StockUnit::Litre) => Ok(Unit::Litre),
        Ok(v1::StockUnit::Each) => Ok(Unit::Each),
        _ => Err(field(name, format!("unknown unit {u}"))),
    }
}

pub fn quantity_to_wire(q: Quantity) -> v1::StockQuantity {
    v1::StockQuantity {
        dimension: match q.dimension {
            Dimension::Mass => v1::StockDimension::Mass,
            Dimension::Volume => v1::StockDimension::Volume,
            Dimension::Count => v1::StockDimension::Count,
        }
        .into(),
        milli: q.milli,
    }
}

pub fn quantity_from_wire(
    name: &'static str,
    q: Option<v1::StockQuantity>,
) -> Result<Quantity, DecodeError> {
    let q = q.ok_or_else(|| field(name, "missing"))?;
    let dimension = match v1::StockDimension::try_from(q.dimension) {
        Ok(v1::StockDimension::Mass) => Dimension::Mass,
        Ok(v1::StockDimension::Volume) => Dimension::Volume,
        Ok(v1::StockDimension::Count) => Dimension::Count,
        _ => return Err(field(name, format!("unknown dimension {}", q.dimension))),
    };
    Ok(Quantity {
        dimension,
        milli: q.milli,
    })
}

pub fn location_to_wire(l: &Location) -> v1::Location {
    v1::Location {
        id: id(l.id.0),
        name: l.name.clone(),
        active: l.active,
    }
}

pub fn location_from_wire(w: v1::Location) -> Result<Location, DecodeError> {
    Ok(Location {
        id: LocationId(read_id("location.id", &w.id)?),
        name: w.name,
        active: w.active,
    })
}

pub fn sales_stock_to_wire(s: Option<SalesStock>) -> v1::SalesStock {
    match s {
        None => v1::SalesStock::default(),
        Some(s) => v1::SalesStock {
            location: id(s.location.0),
            depletion: match s.depletion {
                Depletion::OnSend => v1::StockDepletion::OnSend,
                Depletion::OnClose => v1::StockDepletion::OnClose,
            }
            .into(),
        },
    }
}

pub fn sales_stock_from_wire(w: v1::SalesStock) -> Result<Option<SalesStock>, DecodeError> {
    if w.location.is_empty() {
        return Ok(None);
    }
    let depletion = match v1::StockDepletion::try_from(w.depletion) {
        Ok(v1::StockDepletion::OnSend) => Depletion::OnSend,
        Ok(v1::StockDepletion::OnClose) => Depletion::OnClose,
        _ => {
            return Err(field(
                "sales_stock.depletion",
                format!("unknown depletion {}", w.depletion),
            ));
        }
    };
    Ok(Some(SalesStock {
        location: LocationId(read_id("sales_stock.location", &w.location)?),
        depletion,
    }))
}

pub fn stock_item_to_wire(i: &StockItem) -> v1::StockItem {
    v1::StockItem {
        id: id(i.id.0),
        name: i.name.clone(),
        unit: unit_to_wire(i.unit).into(),
        active: i.active,
    }
}

pub fn stock_item_from_wire(w: v1::StockItem) -> Result<StockItem, DecodeError> {
    Ok(StockItem {
        id: StockItemId(read_id("stock_item.id", &w.id)?),
        name: w.name,
        unit: unit_from_wire("stock_item.unit", w.unit)?,
        active: w.active,
    })
}

fn lines_to_wire(lines: &[(StockItemId, Quantity)]) -> Vec<v1::StockLine> {
    lines
        .iter()
        .map(|(item, q)| v1::StockLine {
            item: id(item.0),
            quantity: Some(quantity_to_wire(*q)),
        })
        .collect()
}

fn lines_from_wire(lines: Vec<v1::StockLine>) -> Result<Vec<(StockItemId, Quantity)>, DecodeError> {
    lines
        .into_iter()
        .map(|l| {
            Ok((
                StockItemId(read_id("stock_line.item", &l.item)?),
                quantity_from_wire("stock_line.quantity", l.quantity)?,
            ))
        })
        .collect()
}

pub fn recipe_target_to_wire(t: RecipeFor) -> v1::RecipeTarget {
    v1::RecipeTarget {
        kind: Some(match t {
            RecipeFor::Item(i) => Target::Item(id(i.0)),
            RecipeFor::Variant(i, v) => Target::Variant(v1::ItemVariant {
                item: id(i.0),
                variant: id(v.0),
            }),
            RecipeFor::Modifier(m) => Target::Modifier(id(m.0)),
        }),
    }
}

pub fn recipe_to_wire(r: &Recipe) -> v1::Recipe {
    v1::Recipe {
        target: Some(recipe_target_to_wire(r.target)),
        ingredients: r
            .ingredients
            .iter()
            .map(|i| v1::Ingredient {
                stock: id(i.stock.0),
                quantity: Some(quantity_to_wire(i.quantity)),
            })
            .collect(),
    }
}

pub fn recipe_from_wire(w: v1::Recipe) -> Result<Recipe, DecodeError> {
    let target = match w.target.and_then(|t| t.kind) {
        Some(Target::Item(i)) => RecipeFor::Item(ItemId(read_id("recipe.item", &i)?)),
        Some(Target::Variant(v)) => RecipeFor::Variant(
            ItemId(read_id("recipe.variant.item", &v.item)?),
            VariantId(read_id("recipe.variant.variant", &v.variant)?),
        ),
        Some(Target::Modifier(m)) => {
            RecipeFor::Modifier(ModifierId(read_id("recipe.modifier", &m)?))
        }
        None => return Err(field("recipe.target", "missing")),
    };
    Ok(Recipe {
        target,
        ingredients: w
            .ingredients
            .into_iter()
            .map(|i| {
                Ok(Ingredient {
                    stock: StockItemId(read_id("ingredient.stock", &i.stock)?),
                    quantity: quantity_from_wire("ingredient.quantity", i.quantity)?,
                })
            })
            .collect::<Result<_, DecodeError>>()?,
    })
}

/// The currency of the amounts in a change, if it has any.
fn currency_of(c: &InventoryChange) -> Option<Currency> {
    match c {
        InventoryChange::Moved(Movement::Received { cost, .. }) => Some(cost.currency()),
        InventoryChange::Moved(Movement::TransferSent { lines, .. }) => {
            lines.first().map(|l| l.value.currency())
        }
        InventoryChange::PurchaseOrderDrafted(po) => po.lines.first().map(|l| l.cost.currency()),
        _ => None,
    }
}

pub fn inventory_to_wire(e: &InventoryEvent) -> v1::InventoryEvent {
    let change = match &e.change {
        InventoryChange::PutLocation(l) => W::LocationPut(location_to_wire(l)),
        InventoryChange::SetSalesStock(s) => W::SalesStockSet(sales_stock_to_wire(*s)),
        InventoryChange::PutStockItem(i) => W::StockItemPut(stock_item_to_wire(i)),
        InventoryChange::PutSupplier(s) => W::SupplierPut(v1::Supplier {
            id: id(s.id.0),
            name: s.name.clone(),
            contact: s.contact.clone(),
        }),
        InventoryChange::SetPar {
            location,
            item,
            level,
        } => W::ParSet(v1::ParLevel {
            location: id(location.0),
            item: id(item.0),
            level: level.map(quantity_to_wire),
        }),
        InventoryChange::PutRecipe(r) => W::RecipePut(recipe_to_wire(r)),
        InventoryChange::Moved(m) => movement_to_wire(m),
        InventoryChange::PurchaseOrderDrafted(po) => W::PurchaseOrderDrafted(v1::PurchaseOrder {
            id: id(po.id.0),
            supplier: id(po.supplier.0),
            location: id(po.location.0),
            lines: po
                .lines
                .iter()
                .map(|l| v1::PurchaseLine {
                    item: id(l.item.0),
                    quantity: Some(quantity_to_wire(l.quantity)),
                    cost: l.cost.minor(),
                    received: Some(quantity_to_wire(l.received)),
                })
                .collect(),
            sent: po.sent,
        }),
        InventoryChange::PurchaseOrderSent(po) => {
            W::PurchaseOrderSent(v1::PurchaseOrderSent { id: id(po.0) })
        }
    };
    v1::InventoryEvent {
        by: id(e.by.0),
        at: e.at,
        currency: currency_of(&e.change)
            .map(|c| c.code().to_string())
            .unwrap_or_default(),
        change: Some(change),
        values: e.values.clone(),
    }
}

fn movement_to_wire(m: &Movement) -> W {
    match m {
        Movement::Received {
            location,
            item,
            quantity,
            cost,
            supplier,
            lot,
            purchase_order,
        } => W::Received(v1::StockReceived {
            location: id(location.0),
            item: id(item.0),
            quantity: Some(quantity_to_wire(*quantity)),
            cost: cost.minor(),
            supplier: opt_id(supplier.map(|s| s.0)),
            lot: lot.clone(),
            purchase_order: opt_id(purchase_order.map(|p| p.0)),
        }),
        Movement::Wasted {
            location,
            item,
            quantity,
            reason,
        } => W::Wasted(v1::StockWasted {
            location: id(location.0),
            item: id(item.0),
            quantity: Some(quantity_to_wire(*quantity)),
            reason: reason.clone(),
        }),
        Movement::Counted {
            location,
            item,
            counted,
            variance,
        } => W::Counted(v1::StockCounted {
            location: id(location.0),
            item: id(item.0),
            counted: Some(quantity_to_wire(*counted)),
            variance: Some(quantity_to_wire(*variance)),
        }),
        Movement::TransferSent {
            transfer,
            from,
            to,
            lines,
        } => W::TransferSent(v1::TransferSent {
            transfer: id(transfer.0),
            from: id(from.0),
            to: id(to.0),
            lines: lines
                .iter()
                .map(|l| v1::TransferLine {
                    item: id(l.item.0),
                    quantity: Some(quantity_to_wire(l.quantity)),
                    value: l.value.minor(),
                })
                .collect(),
        }),
        Movement::TransferReceived {
            transfer,
            lines,
            note,
        } => W::TransferReceived(v1::TransferReceived {
            transfer: id(transfer.0),
            lines: lines_to_wire(lines),
            note: note.clone(),
        }),
        Movement::Depleted {
            location,
            order,
            lines,
        } => W::Depleted(v1::StockMoved {
            location: id(location.0),
            order: id(order.0),
            lines: lines_to_wire(lines),
        }),
        Movement::Restored {
            location,
            order,
            lines,
        } => W::Restored(v1::StockMoved {
            location: id(location.0),
            order: id(order.0),
            lines: lines_to_wire(lines),
        }),
    }
}

pub fn inventory_from_wire(w: v1::InventoryEvent) -> Result<InventoryEvent, DecodeError> {
    let code = w.currency;
    let money = |name: &'static str, minor: i64| -> Result<Money, DecodeError> {
        let c = Currency::from_code(&code).map_err(|e| field(name, e.to_string()))?;
        Ok(Money::new(minor, c))
    };
    let location = |name, b: &[u8]| read_id(name, b).map(LocationId);
    let stock = |name, b: &[u8]| read_id(name, b).map(StockItemId);
    let change = match w.change {
        Some(W::LocationPut(l)) => InventoryChange::PutLocation(location_from_wire(l)?),
        Some(W::SalesStockSet(s)) => InventoryChange::SetSalesStock(sales_stock_from_wire(s)?),
        Some(W::StockItemPut(i)) => InventoryChange::PutStockItem(stock_item_from_wire(i)?),
        Some(W::SupplierPut(s)) => InventoryChange::PutSupplier(Supplier {
            id: SupplierId(read_id("supplier.id", &s.id)?),
            name: s.name,
            contact: s.contact,
        }),
        Some(W::ParSet(p)) => InventoryChange::SetPar {
            location: location("par.location", &p.location)?,
            item: stock("par.item", &p.item)?,
            level: p
                .level
                .map(|l| quantity_from_wire("par.level", Some(l)))
                .transpose()?,
        },
        Some(W::RecipePut(r)) => InventoryChange::PutRecipe(recipe_from_wire(r)?),
        Some(W::Received(r)) => InventoryChange::Moved(Movement::Received {
            location: location("received.location", &r.location)?,
            item: stock("received.item", &r.item)?,
            quantity: quantity_from_wire("received.quantity", r.quantity)?,
            cost: money("received.cost", r.cost)?,
            supplier: read_opt_id("received.supplier", &r.supplier)?.map(SupplierId),
            lot: r.lot,
            purchase_order: read_opt_id("received.purchase_order", &r.purchase_order)?
                .map(PurchaseOrderId),
        }),
        Some(W::Wasted(r)) => InventoryChange::Moved(Movement::Wasted {
            location: location("wasted.location", &r.location)?,
            item: stock("wasted.item", &r.item)?,
            quantity: quantity_from_wire("wasted.quantity", r.quantity)?,
            reason: r.reason,
        }),
        Some(W::Counted(r)) => InventoryChange::Moved(Movement::Counted {
            location: location("counted.location", &r.location)?,
            item: stock("counted.item", &r.item)?,
            counted: quantity_from_wire("counted.counted", r.counted)?,
            variance: quantity_from_wire("counted.variance", r.variance)?,
        }),
        Some(W::TransferSent(t)) => InventoryChange::Moved(Movement::TransferSent {
            transfer: TransferId(read_id("transfer_sent.transfer", &t.transfer)?),
            from: location("transfer_sent.from", &t.from)?,
            to: location("transfer_sent.to", &t.to)?,
            lines: t
                .lines
                .into_iter()
                .map(|l| {
                    Ok(TransferLine {
                        item: stock("transfer_line.item", &l.item)?,
                        quantity: quantity_from_wire("transfer_line.quantity", l.quantity)?,
                        value: money("transfer_line.value", l.value)?,
                    })
                })
                .collect::<Result<_, DecodeError>>()?,
        }),
        Some(W::TransferReceived(t)) => InventoryChange::Moved(Movement::TransferReceived {
            transfer: TransferId(read_id("transfer_received.transfer", &t.transfer)?),
            lines: lines_from_wire(t.lines)?,
            note: t.note,
        }),
        Some(W::Depleted(m)) => InventoryChange::Moved(Movement::Depleted {
            location: location("depleted.location", &m.location)?,
            order: OrderId(read_id("depleted.order", &m.order)?),
            lines: lines_from_wire(m.lines)?,
        }),
        Some(W::Restored(m)) => InventoryChange::Moved(Movement::Restored {
            location: location("restored.location", &m.location)?,
            order: OrderId(read_id("restored.order", &m.order)?),
            lines: lines_from_wire(m.lines)?,
        }),
        Some(W::PurchaseOrderDrafted(po)) => InventoryChange::PurchaseOrderDrafted(PurchaseOrder {
            id: PurchaseOrderId(read_id("purchase_order.id", &po.id)?),
            supplier: SupplierId(read_id("purchase_order.supplier", &po.supplier)?),
            location: location("purchase_order.location", &po.location)?,
            lines: po
                .lines
                .into_iter()
                .map(|l| {
                    Ok(PurchaseLine {
                        item: stock("purchase_line.item", &l.item)?,
                        quantity: quantity_from_wire("purchase_line.quantity", l.quantity)?,
                        cost: money("purchase_line.cost", l.cost)?,
                        received: quantity_from_wire("purchase_line.received", l.received)?,
                    })
                })
                .collect::<Result<_, DecodeError>>()?,
            sent: po.sent,
        }),
        Some(W::PurchaseOrderSent(p)) => InventoryChange::PurchaseOrderSent(PurchaseOrderId(
            read_id("purchase_order_sent.id", &p.id)?,
        )),
        None => return Err(field("inventory_event.change", "missing")),
    };
    Ok(InventoryEvent {
        by: StaffId(read_id("inventory_event.by", &w.by)?),
        at: w.at,
        change,
        values: w.values,
    })
}
