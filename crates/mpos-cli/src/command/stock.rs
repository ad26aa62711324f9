//! `mpos stock`: locations, stock items, suppliers, par levels, recipes, where sales take
//! stock from, receiving, waste, counts, transfers and purchase orders; the stock view
//! across locations and the usage (food cost) report. Locations, items and suppliers are
//! named by name (or id); quantities are text with a unit ("2.5 kg"; a bare number is in
//! the item's own unit).

use anyhow::{Result, anyhow, bail};
use clap::Subcommand;
use mpos_domain::inventory::{Quantity, Unit};
use mpos_proto::inventory::{unit_from_wire, unit_to_wire};
use mpos_proto::v1;
use mpos_proto::v1::change_stock_request::Change;
use mpos_proto::v1::pos_client::PosClient;
use serde_json::{Value, json};
use tonic::transport::Channel;

use crate::Outcome;
use crate::command::admin::{find_item, get_menu, pick};
use crate::command::client::{
    Target, authed, connect, currency, money, new_id, parse_id, refused, show_id,
};
use crate::command::order::{amount, runtime};
use crate::output::{self, say};

#[derive(Debug, Subcommand)]
pub enum StockCommand {
    /// Levels at every location (or one): quantity, value, par, low, in transit; then
    /// transfers on their way and purchase orders.
    Show {
        /// Only this location.
        #[arg(long = "at")]
        location: Option<String>,
        #[command(flatten)]
        target: Target,
    },
    /// Add a location, or rename, close or reopen the one with this name.
    Location {
        name: String,
        #[arg(long)]
        rename: Option<String>,
        #[arg(long, conflicts_with = "reopen")]
        close: bool,
        #[arg(long)]
        reopen: bool,
        #[command(flatten)]
        target: Target,
    },
    /// Where this node sells: the location (restaurant) its orders, drawers and kitchen
    /// belong to and its sales take stock from, and when: `--on send` (lines sent to the
    /// kitchen) or `--on close` (order paid). `--off`: at no location (a head office,
    /// which sees every location's orders), and sales take no stock.
    Sales {
        #[arg(required_unless_present = "off")]
        location: Option<String>,
        #[arg(long = "on", value_parser = ["send", "close"], default_value = "send")]
        on: String,
        #[arg(long, conflicts_with = "location")]
        off: bool,
        #[command(flatten)]
        target: Target,
    },
    /// Add a stock item counted in a unit (g, kg, ml, l, each), or change the one with
    /// this name.
    Item {
        name: String,
        #[arg(long)]
        unit: Option<String>,
        #[arg(long)]
        rename: Option<String>,
        #[arg(long)]
        archive: bool,
        #[command(flatten)]
        target: Target,
    },
    /// Add a supplier, or change the one with this name.
    Supplier {
        name: String,
        #[arg(long, default_value = "")]
        contact: String,
        #[command(flatten)]
        target: Target,
    },
    /// The level below which an item is low at a location (`--clear` removes it).
    Par {
        item: String,
        level: Option<String>,
        #[arg(long = "at")]
        location: String,
        #[arg(long, conflicts_with = "level")]
        clear: bool,
        #[command(flatten)]
        target: Target,
    },
    /// What one portion of a menu item (or one of its variants, or a modifier option)
    /// uses: `--use "Flour=120 g"`, repeated. No `--use` removes the recipe.
    Recipe {
        /// The menu item (name, SKU or id).
        item: String,
        #[arg(long, conflicts_with = "modifier")]
        variant: Option<String>,
        /// A modifier option of the item's groups: its recipe adds to the item's.
        #[arg(long)]
        modifier: Option<String>,
        #[arg(long = "use")]
        uses: Vec<String>,
        #[command(flatten)]
        target: Target,
    },
    /// Stock received from a supplier.
    Receive {
        item: String,
        #[arg(allow_hyphen_values = true)]
        quantity: String,
        #[arg(long = "at")]
        location: String,
        /// What was paid for the whole quantity.
        #[arg(long)]
        cost: String,
        #[arg(long)]
        supplier: Option<String>,
        #[arg(long, default_value = "")]
        lot: String,
        /// The purchase order it arrived on (its id).
        #[arg(long)]
        po: Option<String>,
        #[command(flatten)]
        target: Target,
    },
    /// Stock thrown away.
    Waste {
        item: String,
        #[arg(allow_hyphen_values = true)]
        quantity: String,
        #[arg(long = "at")]
        location: String,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        target: Target,
    },
    /// A stock-take: what was counted; the variance against the books is shown.
    Count {
        item: String,
        #[arg(allow_hyphen_values = true)]
        counted: String,
        #[arg(long = "at")]
        location: String,
        #[command(flatten)]
        target: Target,
    },
    /// Send stock to another location: `ITEM=QUANTITY`, repeated. It is in transit until
    /// the other location receives it (`mpos stock arrive`).
    Transfer {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        #[arg(required = true)]
        lines: Vec<String>,
        #[command(flatten)]
        target: Target,
    },
    /// Receive a transfer: what arrived (`ITEM=QUANTITY`, repeated; none: all that was
    /// sent). More than was sent needs `--note`.
    Arrive {
        transfer: String,
        lines: Vec<String>,
        #[arg(long, default_value = "")]
        note: String,
        #[command(flatten)]
        target: Target,
    },
    /// Draft a purchase order: `ITEM=QUANTITY@COST`, repeated.
    Order {
        #[arg(long)]
        supplier: String,
        #[arg(long = "at")]
        location: String,
        #[arg(required = true)]
        lines: Vec<String>,
        #[command(flatten)]
        target: Target,
    },
    /// Mark a drafted purchase order as sent to its supplier.
    SendOrder {
        po: String,
        #[command(flatten)]
        target: Target,
    },
    /// What moved over the last days and what it was worth; cost of sales against net
    /// sales (food cost).
    Usage {
        #[arg(long, default_value_t = 7)]
        days: u64,
        #[command(flatten)]
        target: Target,
    },
    /// Food cost per menu item: each recipe priced at today's average costs against its
    /// menu price, and each item sold over the last days against what it sold for.
    FoodCost {
        #[arg(long, default_value_t = 7)]
        days: u64,
        #[command(flatten)]
        target: Target,
    },
}

/// The last `days` days up to now, in milliseconds since the epoch: `[from, to)`.
pub(crate) fn last_days(days: u64) -> (u64, u64) {
    let to = mpos_node::clock::now_millis().saturating_add(1);
    (to.saturating_sub(days.max(1) * 24 * 60 * 60 * 1_000), to)
}

/// Parts per million as a percentage with one decimal: 72,941 → "7.3%".
fn percent(ppm: u32) -> String {
    let tenths = (ppm + 500) / 1_000;
    format!("{}.{}%", tenths / 10, tenths % 10)
}

async fn view(c: &mut PosClient<Channel>, location: Vec<u8>) -> Result<v1::StockView> {
    Ok(c.get_stock(authed(v1::GetStockRequest { location })?)
        .await
        .map_err(refused)?
        .into_inner())
}

/// A connection to the node and its stock as it stands, to name things in.
pub(crate) async fn connect_with_stock(
    target: &Target,
) -> Result<(PosClient<Channel>, v1::StockView)> {
    let mut c = connect(&target.target).await?;
    let v = view(&mut c, Vec::new()).await?;
    Ok((c, v))
}

async fn change(c: &mut PosClient<Channel>, change: Change) -> Result<v1::ChangeStockReply> {
    Ok(c.change_stock(authed(v1::ChangeStockRequest {
        request_id: new_id(),
        change: Some(change),
    })?)
    .await
    .map_err(refused)?
    .into_inner())
}

pub(crate) fn location<'a>(v: &'a v1::StockView, wanted: &str) -> Result<&'a v1::LocationStock> {
    pick(
        "location",
        wanted,
        &v.locations,
        |l| &l.location,
        |l| &l.name,
    )
}

fn item<'a>(v: &'a v1::StockView, wanted: &str) -> Result<&'a v1::StockItem> {
    pick("stock item", wanted, &v.items, |i| &i.id, |i| &i.name)
}

fn supplier<'a>(v: &'a v1::StockView, wanted: &str) -> Result<&'a v1::Supplier> {
    pick("supplier", wanted, &v.suppliers, |s| &s.id, |s| &s.name)
}

/// `ITEM=QUANTITY` as a wire line.
fn line(v: &v1::StockView, text: &str) -> Result<v1::StockLineRequest> {
    let (name, quantity) = text
        .split_once('=')
        .ok_or_else(|| anyhow!("{text:?}: write ITEM=QUANTITY, e.g. \"Flour=2 kg\""))?;
    Ok(v1::StockLineRequest {
        item: item(v, name)?.id.clone(),
        quantity: quantity.trim().into(),
    })
}

/// A unit as the domain reads it ("kg", "litre", "each"), on the wire.
fn unit_of(name: &str) -> Result<i32> {
    let unit = Unit::parse(name).map_err(|e| anyhow!("{e}"))?;
    Ok(unit_to_wire(unit).into())
}

/// A quantity as typed, with the item's unit when it was a bare number ("25" → "25 kg").
fn with_unit(text: &str, item: &v1::StockItem) -> String {
    let t = text.trim();
    if !t
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
    {
        return t.to_string();
    }
    let unit = unit_from_wire("unit", item.unit).unwrap_or(Unit::Each);
    format!("{t} {unit}")
}

/// What a change did, in a line or as JSON.
fn done(target: &Target, what: String, id: &[u8], reply: &v1::ChangeStockReply) {
    if target.json {
        output::json(&json!({
            "id": show_id(id),
            "replayed": reply.replayed,
            "last_seq": reply.last_seq,
            "variance": reply.variance,
            "levels": reply.levels.iter().map(level_json).collect::<Vec<_>>(),
        }));
        return;
    }
    say!("{what}  (ledger entry {})", reply.last_seq);
    for l in &reply.levels {
        say!("  {} at {}: {}", l.item_name, l.location_name, l.quantity);
    }
}

fn level_json(l: &v1::StockLevelView) -> Value {
    json!({
        "location": show_id(&l.location), "location_name": l.location_name,
        "item": show_id(&l.item), "item_name": l.item_name, "unit": l.unit,
        "quantity": l.quantity, "milli": l.milli, "value_minor": l.value,
        "par": l.par, "low": l.low, "in_transit": l.in_transit,
    })
}

pub fn stock(cmd: StockCommand) -> Result<Outcome> {
    runtime()?.block_on(async move {
        match cmd {
            StockCommand::Show {
                location: at,
                target,
            } => {
                let mut c = connect(&target.target).await?;
                let all = view(&mut c, Vec::new()).await?;
                let only = match &at {
                    Some(name) => location(&all, name)?.location.clone(),
                    None => Vec::new(),
                };
                let v = if only.is_empty() {
                    all
                } else {
                    view(&mut c, only).await?
                };
                show(&v, target.json);
            }
            StockCommand::Location {
                name,
                rename,
                close,
                reopen,
                target,
            } => {
                let (mut c, v) = connect_with_stock(&target).await?;
                let existing = location(&v, &name).ok();
                let l = v1::Location {
                    id: existing.map_or_else(new_id, |l| l.location.clone()),
                    name: rename
                        .unwrap_or_else(|| existing.map_or(name.clone(), |l| l.name.clone())),
                    active: if close {
                        false
                    } else {
                        reopen || existing.is_none_or(|l| l.active)
                    },
                };
                let reply = change(&mut c, Change::Location(l.clone())).await?;
                let state = if l.active { "open" } else { "closed" };
                done(
                    &target,
                    format!("location {} ({state})", l.name),
                    &l.id,
                    &reply,
                );
            }
            StockCommand::Sales {
                location: at,
                on,
                off,
                target,
            } => {
                let (mut c, v) = connect_with_stock(&target).await?;
                let (sales, what) = match (off, at) {
                    (true, _) | (_, None) => (
                        v1::SalesStock::default(),
                        "this node sells at no location; sales take no stock".to_string(),
                    ),
                    (false, Some(name)) => {
                        let l = location(&v, &name)?;
                        let depletion = if on == "close" {
                            v1::StockDepletion::OnClose
                        } else {
                            v1::StockDepletion::OnSend
                        };
                        (
                            v1::SalesStock {
                                location: l.location.clone(),
                                depletion: depletion.into(),
                            },
                            format!(
                                "this node sells at {}; sales take stock from there when {}",
                                l.name,
                                if on == "close" {
                                    "the order closes"
                                } else {
                                    "lines are sent"
                                }
                            ),
                        )
                    }
                };
                let id = sales.location.clone();
                let reply = change(&mut c, Change::SalesStock(sales)).await?;
                done(&target, what, &id, &reply);
            }
            StockCommand::Item {
                name,
                unit,
                rename,
                archive,
                target,
            } => {
                let (mut c, v) = connect_with_stock(&target).await?;
                let existing = item(&v, &name).ok().filter(|i| {
                    i.name.eq_ignore_ascii_case(name.trim()) || parse_id(&name).is_ok()
                });
                let unit = match (unit, existing) {
                    (Some(u), _) => unit_of(&u)?,
                    (None, Some(i)) => i.unit,
                    (None, None) => bail!("a new stock item needs --unit (g, kg, ml, l or each)"),
                };
                let i = v1::StockItem {
                    id: existing.map_or_else(new_id, |i| i.id.clone()),
                    name: rename
                        .unwrap_or_else(|| existing.map_or(name.clone(), |i| i.name.clone())),
                    unit,
                    active: !archive,
                };
                let reply = change(&mut c, Change::StockItem(i.clone())).await?;
                done(&target, format!("stock item {}", i.name), &i.id, &reply);
            }
            StockCommand::Supplier {
                name,
                contact,
                target,
            } => {
                let (mut c, v) = connect_with_stock(&target).await?;
                let existing = supplier(&v, &name)
                    .ok()
                    .filter(|s| s.name.eq_ignore_ascii_case(name.trim()));
                let s = v1::Supplier {
                    id: existing.map_or_else(new_id, |s| s.id.clone()),
                    name: name.trim().into(),
                    contact,
                };
                let reply = change(&mut c, Change::Supplier(s.clone())).await?;
                done(&target, format!("supplier {}", s.name), &s.id, &reply);
            }
            StockCommand::Par {
                item: name,
                level,
                location: at,
                clear,
                target,
            } => {
                let (mut c, v) = connect_with_stock(&target).await?;
                let i = item(&v, &name)?;
                let l = location(&v, &at)?;
                if level.is_none() && !clear {
                    bail!("give a par level (\"5 kg\") or --clear");
                }
                let par = v1::SetParRequest {
                    location: l.location.clone(),
                    item: i.id.clone(),
                    level: level.clone().unwrap_or_default(),
                };
                let reply = change(&mut c, Change::Par(par)).await?;
                let what = match level {
                    Some(p) => format!("par of {} at {}: {p}", i.name, l.name),
                    None => format!("no par for {} at {}", i.name, l.name),
                };
                done(&target, what, &i.id, &reply);
            }
            StockCommand::Recipe {
                item: menu_item,
                variant,
                modifier,
                uses,
                target,
            } => {
                let (mut c, v) = connect_with_stock(&target).await?;
                let found = find_item(&mut c, &menu_item).await?;
                let kind = if let Some(name) = variant {
                    let var = pick("variant", &name, &found.variants, |x| &x.id, |x| &x.name)?;
                    v1::recipe_target::Kind::Variant(v1::ItemVariant {
                        item: found.id.clone(),
                        variant: var.id.clone(),
                    })
                } else if let Some(name) = modifier {
                    let menu = get_menu(&mut c).await?;
                    let options: Vec<v1::ModifierOption> = menu
                        .modifier_groups
                        .iter()
                        .filter(|g| found.modifier_groups.contains(&g.id))
                        .flat_map(|g| g.options.iter().cloned())
                        .collect();
                    let o = pick("modifier option", &name, &options, |o| &o.id, |o| &o.name)?;
                    v1::recipe_target::Kind::Modifier(o.id.clone())
                } else {
                    v1::recipe_target::Kind::Item(found.id.clone())
                };
                let ingredients = uses
                    .iter()
                    .map(|u| {
                        let l = line(&v, u)?;
                        Ok(v1::IngredientRequest {
                            stock: l.item,
                            quantity: l.quantity,
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                let n = ingredients.len();
                let reply = change(
                    &mut c,
                    Change::Recipe(v1::RecipeRequest {
                        target: Some(v1::RecipeTarget { kind: Some(kind) }),
                        ingredients,
                    }),
                )
                .await?;
                let what = if n == 0 {
                    format!("no recipe for {}", found.name)
                } else {
                    format!("recipe for {}: {}", found.name, uses.join(", "))
                };
                done(&target, what, &found.id, &reply);
            }
            StockCommand::Receive {
                item: name,
                quantity,
                location: at,
                cost,
                supplier: from,
                lot,
                po,
                target,
            } => {
                let (mut c, v) = connect_with_stock(&target).await?;
                let i = item(&v, &name)?;
                let l = location(&v, &at)?;
                let supplier = from
                    .map(|s| supplier(&v, &s).map(|s| s.id.clone()))
                    .transpose()?;
                let receive = v1::ReceiveStockRequest {
                    location: l.location.clone(),
                    item: i.id.clone(),
                    quantity: quantity.clone(),
                    cost: amount(&cost, &v.currency)?,
                    supplier: supplier.unwrap_or_default(),
                    lot,
                    purchase_order: po.map(|p| parse_id(&p)).transpose()?.unwrap_or_default(),
                };
                let reply = change(&mut c, Change::Receive(receive)).await?;
                done(
                    &target,
                    format!(
                        "received {} of {} at {}",
                        with_unit(&quantity, i),
                        i.name,
                        l.name
                    ),
                    &i.id,
                    &reply,
                );
            }
            StockCommand::Waste {
                item: name,
                quantity,
                location: at,
                reason,
                target,
            } => {
                let (mut c, v) = connect_with_stock(&target).await?;
                let i = item(&v, &name)?;
                let l = location(&v, &at)?;
                let waste = v1::WasteStockRequest {
                    location: l.location.clone(),
                    item: i.id.clone(),
                    quantity: quantity.clone(),
                    reason,
                };
                let reply = change(&mut c, Change::Waste(waste)).await?;
                done(
                    &target,
                    format!(
                        "wasted {} of {} at {}",
                        with_unit(&quantity, i),
                        i.name,
                        l.name
                    ),
                    &i.id,
                    &reply,
                );
            }
            StockCommand::Count {
                item: name,
                counted,
                location: at,
                target,
            } => {
                let (mut c, v) = connect_with_stock(&target).await?;
                let i = item(&v, &name)?;
                let l = location(&v, &at)?;
                let count = v1::CountStockRequest {
                    location: l.location.clone(),
                    item: i.id.clone(),
                    counted: counted.clone(),
                };
                let reply = change(&mut c, Change::Count(count)).await?;
                done(
                    &target,
                    format!(
                        "counted {} of {} at {} (variance {})",
                        with_unit(&counted, i),
                        i.name,
                        l.name,
                        reply.variance
                    ),
                    &i.id,
                    &reply,
                );
            }
            StockCommand::Transfer {
                from,
                to,
                lines,
                target,
            } => {
                let (mut c, v) = connect_with_stock(&target).await?;
                let (f, t) = (location(&v, &from)?, location(&v, &to)?);
                let send = v1::SendTransferRequest {
                    transfer: new_id(),
                    from: f.location.clone(),
                    to: t.location.clone(),
                    lines: lines.iter().map(|l| line(&v, l)).collect::<Result<_>>()?,
                };
                let id = send.transfer.clone();
                let reply = change(&mut c, Change::SendTransfer(send)).await?;
                done(
                    &target,
                    format!(
                        "transfer {} sent from {} to {}",
                        show_id(&id),
                        f.name,
                        t.name
                    ),
                    &id,
                    &reply,
                );
            }
            StockCommand::Arrive {
                transfer,
                lines,
                note,
                target,
            } => {
                let (mut c, v) = connect_with_stock(&target).await?;
                let id = parse_id(&transfer)?;
                let lines = if lines.is_empty() {
                    let t = v
                        .in_transit
                        .iter()
                        .find(|t| t.id == id)
                        .ok_or_else(|| anyhow!("no transfer {transfer} is in transit"))?;
                    t.lines
                        .iter()
                        .map(|l| v1::StockLineRequest {
                            item: l.item.clone(),
                            quantity: l.quantity.clone(),
                        })
                        .collect()
                } else {
                    lines.iter().map(|l| line(&v, l)).collect::<Result<_>>()?
                };
                let reply = change(
                    &mut c,
                    Change::ReceiveTransfer(v1::ReceiveTransferRequest {
                        transfer: id.clone(),
                        lines,
                        note,
                    }),
                )
                .await?;
                done(
                    &target,
                    format!("transfer {transfer} received"),
                    &id,
                    &reply,
                );
            }
            StockCommand::Order {
                supplier: from,
                location: at,
                lines,
                target,
            } => {
                let (mut c, v) = connect_with_stock(&target).await?;
                let s = supplier(&v, &from)?;
                let l = location(&v, &at)?;
                let lines = lines
                    .iter()
                    .map(|text| {
                        let (rest, cost) = text.rsplit_once('@').ok_or_else(|| {
                            anyhow!(
                                "{text:?}: write ITEM=QUANTITY@COST, e.g. \"Flour=25 kg@30.00\""
                            )
                        })?;
                        let l = line(&v, rest)?;
                        Ok(v1::PurchaseLineRequest {
                            item: l.item,
                            quantity: l.quantity,
                            cost: amount(cost, &v.currency)?,
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                let po = v1::DraftPurchaseOrderRequest {
                    id: new_id(),
                    supplier: s.id.clone(),
                    location: l.location.clone(),
                    lines,
                };
                let id = po.id.clone();
                let reply = change(&mut c, Change::DraftPurchaseOrder(po)).await?;
                done(
                    &target,
                    format!(
                        "purchase order {} drafted for {} to {}",
                        show_id(&id),
                        s.name,
                        l.name
                    ),
                    &id,
                    &reply,
                );
            }
            StockCommand::SendOrder { po, target } => {
                let mut c = connect(&target.target).await?;
                let id = parse_id(&po)?;
                let reply = change(
                    &mut c,
                    Change::SendPurchaseOrder(v1::PurchaseOrderSent { id: id.clone() }),
                )
                .await?;
                done(&target, format!("purchase order {po} sent"), &id, &reply);
            }
            StockCommand::Usage { days, target } => {
                let mut c = connect(&target.target).await?;
                let (from, to) = last_days(days);
                let u = c
                    .get_stock_usage(authed(v1::GetStockUsageRequest { from, to })?)
                    .await
                    .map_err(refused)?
                    .into_inner();
                if target.json {
                    output::json(&json!({
                        "currency": u.currency, "cost_of_sales_minor": u.cost_of_sales,
                        "waste_minor": u.waste, "net_sales_minor": u.net_sales,
                        "food_cost_ppm": u.food_cost_ppm,
                        "lines": u.lines.iter().map(|l| json!({
                            "location_name": l.location_name, "item_name": l.item_name,
                            "kind": l.kind, "quantity": l.quantity, "value_minor": l.value,
                        })).collect::<Vec<_>>(),
                    }));
                    return Ok(Outcome::Ok);
                }
                let cur = &u.currency;
                say!("Last {days} days");
                for l in &u.lines {
                    say!(
                        "  {:<20} {:<20} {:<18} {:>14} {:>12}",
                        l.location_name,
                        l.item_name,
                        l.kind,
                        l.quantity,
                        money(l.value, cur)
                    );
                }
                say!("Cost of sales  {}", money(u.cost_of_sales, cur));
                say!("Waste          {}", money(u.waste, cur));
                say!("Net sales      {}", money(u.net_sales, cur));
                say!("Food cost      {}", percent(u.food_cost_ppm));
            }
            StockCommand::FoodCost { days, target } => {
                let mut c = connect(&target.target).await?;
                let (from, to) = last_days(days);
                let v = c
                    .get_food_cost(authed(v1::GetFoodCostRequest { from, to })?)
                    .await
                    .map_err(refused)?
                    .into_inner();
                if target.json {
                    output::json(&json!({
                        "currency": v.currency, "location_name": v.location_name,
                        "net_sales_minor": v.net_sales, "cost_minor": v.cost,
                        "food_cost_ppm": v.food_cost_ppm,
                        "recipes": v.recipes.iter().map(|r| json!({
                            "name": r.name, "cost_minor": r.cost, "price_minor": r.price,
                            "net_price_minor": r.net_price, "food_cost_ppm": r.food_cost_ppm,
                            "ingredients": r.ingredients.iter().map(|i| json!({
                                "item_name": i.item_name, "quantity": i.quantity,
                                "cost_minor": i.cost,
                            })).collect::<Vec<_>>(),
                        })).collect::<Vec<_>>(),
                        "items": v.items.iter().map(|i| json!({
                            "name": i.name, "sold": i.sold, "net_sales_minor": i.net_sales,
                            "cost_minor": i.cost, "food_cost_ppm": i.food_cost_ppm,
                        })).collect::<Vec<_>>(),
                    }));
                    return Ok(Outcome::Ok);
                }
                let cur = &v.currency;
                say!("Recipes at {}'s average costs", v.location_name);
                say!(
                    "  {:<28} {:>10} {:>14} {:>9}",
                    "",
                    "portion",
                    "before tax",
                    "food cost"
                );
                for r in &v.recipes {
                    // A modifier is taxed with its item: it has no price before tax.
                    let (price, share) = if r.net_price > 0 {
                        (money(r.net_price, cur), percent(r.food_cost_ppm))
                    } else {
                        (format!("+{}", money(r.price, cur)), String::new())
                    };
                    say!(
                        "  {:<28} {:>10} {:>14} {:>9}",
                        r.name,
                        money(r.cost, cur),
                        price,
                        share
                    );
                }
                say!("Sold over the last {days} days");
                say!(
                    "  {:<28} {:>6} {:>14} {:>10} {:>9}",
                    "",
                    "sold",
                    "net sales",
                    "cost",
                    "food cost"
                );
                for i in &v.items {
                    say!(
                        "  {:<28} {:>6} {:>14} {:>10} {:>9}",
                        i.name,
                        i.sold,
                        money(i.net_sales, cur),
                        money(i.cost, cur),
                        percent(i.food_cost_ppm)
                    );
                }
                say!(
                    "  {:<28} {:>6} {:>14} {:>10} {:>9}",
                    "Total",
                    "",
                    money(v.net_sales, cur),
                    money(v.cost, cur),
                    percent(v.food_cost_ppm)
                );
            }
        }
        Ok(Outcome::Ok)
    })
}

/// The view's levels with their location and item named and their quantities written in
/// each item's unit, as a change's reply gives them.
fn named_levels(v: &v1::StockView) -> Vec<v1::StockLevelView> {
    v.levels
        .iter()
        .filter_map(|l| {
            let place = v.locations.get(l.location as usize)?;
            let item = v.items.get(l.item as usize)?;
            let unit = unit_from_wire("item.unit", item.unit).unwrap_or(Unit::Each);
            let shown = |milli: i64| {
                Quantity {
                    dimension: unit.dimension(),
                    milli,
                }
                .display_in(unit)
                .unwrap_or_else(|_| format!("{milli} ‰"))
            };
            Some(v1::StockLevelView {
                location: place.location.clone(),
                location_name: place.name.clone(),
                item: item.id.clone(),
                item_name: item.name.clone(),
                unit: unit.symbol().into(),
                quantity: shown(l.milli),
                milli: l.milli,
                value: l.value,
                par: l.par.map(shown).unwrap_or_default(),
                low: l.low,
                in_transit: if l.in_transit == 0 {
                    String::new()
                } else {
                    shown(l.in_transit)
                },
            })
        })
        .collect()
}

fn show(v: &v1::StockView, as_json: bool) {
    let levels = named_levels(v);
    if as_json {
        output::json(&json!({
            "currency": v.currency,
            "locations": v.locations.iter().map(|l| json!({
                "id": show_id(&l.location), "name": l.name, "active": l.active,
                "value_minor": l.value, "low": l.low,
            })).collect::<Vec<_>>(),
            "levels": levels.iter().map(level_json).collect::<Vec<_>>(),
            "in_transit": v.in_transit.iter().map(|t| json!({
                "id": show_id(&t.id), "from": t.from_name, "to": t.to_name,
                "lines": t.lines.iter().map(|l| json!({"item": l.item_name, "quantity": l.quantity})).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "disputed": v.disputed.iter().map(|t| json!({
                "id": show_id(&t.id), "from": t.from_name, "to": t.to_name,
                "sent": t.sent.iter().map(|l| json!({"item": l.item_name, "quantity": l.quantity})).collect::<Vec<_>>(),
                "received": t.received.iter().map(|l| json!({"item": l.item_name, "quantity": l.quantity})).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "purchase_orders": v.purchase_orders.iter().map(|p| json!({
                "id": show_id(&p.id), "supplier": p.supplier_name, "location": p.location_name,
                "status": p.status,
                "lines": p.lines.iter().map(|l| json!({"item": l.item_name, "quantity": l.quantity, "received": l.received, "cost_minor": l.cost})).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        }));
        return;
    }
    let cur = currency().unwrap_or_else(|_| v.currency.clone());
    for l in &v.locations {
        let closed = if l.active { "" } else { " (closed)" };
        let low = if l.low > 0 {
            format!(", {} low", l.low)
        } else {
            String::new()
        };
        say!("{}{closed}: {} at cost{low}", l.name, money(l.value, &cur));
        for s in levels.iter().filter(|s| s.location == l.location) {
            let par = if s.par.is_empty() {
                String::new()
            } else {
                format!("par {}", s.par)
            };
            let flag = if s.low { "LOW" } else { "" };
            let coming = if s.in_transit.is_empty() {
                String::new()
            } else {
                format!("+{} on the way", s.in_transit)
            };
            let row = format!(
                "  {:<24} {:>12} {:>12}  {:<12} {:<4} {}",
                s.item_name,
                s.quantity,
                money(s.value, &cur),
                par,
                flag,
                coming
            );
            say!("{}", row.trim_end());
        }
    }
    for t in &v.in_transit {
        let lines: Vec<String> = t
            .lines
            .iter()
            .map(|l| format!("{} {}", l.quantity, l.item_name))
            .collect();
        say!(
            "In transit {} from {} to {}: {}",
            show_id(&t.id),
            t.from_name,
            t.to_name,
            lines.join(", ")
        );
    }
    for t in &v.disputed {
        let lines = |lines: &[v1::StockLineView]| {
            let named: Vec<String> = lines
                .iter()
                .map(|l| format!("{} {}", l.quantity, l.item_name))
                .collect();
            if named.is_empty() {
                "nothing".to_owned()
            } else {
                named.join(", ")
            }
        };
        say!(
            "Check transfer {} from {} to {}: two registers recorded its arrival differently. Kept (recorded first): {}; sent: {}. Counting these items at {} settles it.",
            show_id(&t.id),
            t.from_name,
            t.to_name,
            lines(&t.received),
            lines(&t.sent),
            t.to_name
        );
    }
    for p in &v.purchase_orders {
        let lines: Vec<String> = p
            .lines
            .iter()
            .map(|l| format!("{} {} ({} received)", l.quantity, l.item_name, l.received))
            .collect();
        say!(
            "Purchase order {} from {} to {}: {} — {}",
            show_id(&p.id),
            p.supplier_name,
            p.location_name,
            p.status,
            lines.join(", ")
        );
    }
}
