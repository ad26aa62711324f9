//! The back office from the command line: `mpos menu` (settings, taxes, categories,
//! modifier groups, items, 86), `mpos staff` and `mpos table`. Entries are named by name
//! (or id); a change reads the entry, changes what the flags say and puts it back whole.

use anyhow::{Result, anyhow, bail};
use clap::{Args, Subcommand};
use mpos_domain::TaxRate;
use mpos_proto::v1;
use mpos_proto::v1::pos_client::PosClient;
use serde_json::{Value, json};
use tonic::transport::Channel;

use crate::Outcome;
use crate::command::client::{
    Target, authed, connect, currency, money, new_id, parse_id, refused, show_id,
};
use crate::command::order::{amount, runtime};
use crate::output::{self, say};

/// The menu's back office (managers and owners; anyone who sells or cooks may 86).
#[derive(Debug, Subcommand)]
pub enum MenuEdit {
    /// The restaurant's settings, tax categories, categories and modifier groups.
    Show {
        #[command(flatten)]
        target: Target,
    },
    /// A category's items, 50 to a page.
    Items {
        category: String,
        #[arg(long, default_value_t = 1)]
        page: u32,
        #[command(flatten)]
        target: Target,
    },
    /// Set the restaurant's name, currency and whether prices include tax.
    Settings {
        #[arg(long)]
        name: Option<String>,
        /// ISO 4217 code (EUR, USD, JPY...).
        #[arg(long)]
        currency: Option<String>,
        #[arg(long, value_parser = ["inclusive", "exclusive"])]
        prices: Option<String>,
        #[command(flatten)]
        target: Target,
    },
    /// Add a tax category, or change the one with this name.
    Tax {
        name: String,
        /// A rate in percent (`7`, `8.875`); repeat for several rates.
        #[arg(long = "rate", required = true)]
        rates: Vec<String>,
        #[arg(long)]
        rename: Option<String>,
        #[command(flatten)]
        target: Target,
    },
    /// Add a category, or change the one with this name.
    Category {
        name: String,
        /// The kitchen station its items are sent to.
        #[arg(long, conflicts_with = "no_station")]
        station: Option<u32>,
        /// Its items are not sent to the kitchen (bottled drinks, retail).
        #[arg(long)]
        no_station: bool,
        #[arg(long)]
        rename: Option<String>,
        #[command(flatten)]
        target: Target,
    },
    /// Add a modifier group, or change the one with this name. `--option` replaces the
    /// options (an option keeps its id when its name stays).
    Modifiers {
        name: String,
        #[arg(long)]
        min: Option<u32>,
        #[arg(long)]
        max: Option<u32>,
        /// `NAME` or `NAME=PRICE` (the price added), in order; repeat for each option.
        #[arg(long = "option")]
        options: Vec<String>,
        #[arg(long)]
        rename: Option<String>,
        #[command(flatten)]
        target: Target,
    },
    /// Add an item to the menu.
    AddItem {
        name: String,
        #[command(flatten)]
        fields: ItemFields,
        #[command(flatten)]
        target: Target,
    },
    /// Change an item (named by id, SKU, barcode or name): only what the flags say.
    EditItem {
        item: String,
        #[arg(long)]
        rename: Option<String>,
        #[command(flatten)]
        fields: ItemFields,
        #[command(flatten)]
        target: Target,
    },
    /// Mark an item sold out ("86 it").
    #[command(name = "86")]
    EightySix {
        item: String,
        #[command(flatten)]
        target: Target,
    },
    /// Bring an 86'd item back.
    #[command(name = "un86")]
    Restock {
        item: String,
        #[command(flatten)]
        target: Target,
    },
}

#[derive(Debug, Args)]
pub struct ItemFields {
    /// Category name.
    #[arg(long)]
    category: Option<String>,
    /// Tax category name.
    #[arg(long)]
    tax: Option<String>,
    #[arg(long)]
    price: Option<String>,
    #[arg(long)]
    description: Option<String>,
    #[arg(long)]
    sku: Option<String>,
    #[arg(long)]
    barcode: Option<String>,
    /// `NAME=PRICE-DELTA`; repeat for each variant (replaces the variants).
    #[arg(long = "variant")]
    variants: Vec<String>,
    /// Modifier group names offered with the item (replaces the groups).
    #[arg(long = "modifiers")]
    groups: Vec<String>,
    /// `CHANNEL=PRICE` for counter, table, online or delivery (replaces the overrides).
    #[arg(long = "price-on")]
    channel_prices: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum StaffCommand {
    /// Everyone, including staff who left.
    List {
        #[command(flatten)]
        target: Target,
    },
    /// Add a staff member.
    Add {
        name: String,
        #[arg(long, value_parser = ROLES)]
        role: String,
        /// Their PIN (4 to 8 digits), to log in at once.
        #[arg(long)]
        pin: Option<String>,
        #[command(flatten)]
        target: Target,
    },
    /// Rename, change role, or mark as left (they can no longer log in) or back.
    Edit {
        staff: String,
        #[arg(long)]
        rename: Option<String>,
        #[arg(long, value_parser = ROLES)]
        role: Option<String>,
        #[arg(long, conflicts_with = "back")]
        left: bool,
        #[arg(long)]
        back: bool,
        #[command(flatten)]
        target: Target,
    },
    /// Set a PIN (anyone may set their own).
    Pin {
        staff: String,
        #[arg(long)]
        pin: String,
        #[command(flatten)]
        target: Target,
    },
}

const ROLES: [&str; 5] = ["owner", "manager", "cashier", "server", "kitchen"];

#[derive(Debug, Subcommand)]
pub enum TableCommand {
    /// The floor: each table, free or with its open orders.
    List {
        /// Also tables out of service.
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        target: Target,
    },
    /// Put a new table on the floor.
    Add {
        name: String,
        #[arg(long, default_value_t = 4)]
        seats: u32,
        #[arg(long, default_value = "")]
        area: String,
        #[command(flatten)]
        target: Target,
    },
    /// Rename or move a table, or take it out of (or back into) service.
    Edit {
        table: String,
        #[arg(long)]
        rename: Option<String>,
        #[arg(long)]
        seats: Option<u32>,
        #[arg(long)]
        area: Option<String>,
        #[arg(long, conflicts_with = "in_service")]
        out_of_service: bool,
        #[arg(long)]
        in_service: bool,
        /// Retire the table's self-ordering link (its QR code) and make a new one.
        #[arg(long)]
        new_link: bool,
        #[command(flatten)]
        target: Target,
    },
    /// The table's self-ordering link, for its QR code: guests order from it.
    Link {
        table: String,
        #[command(flatten)]
        target: Target,
    },
}

/// One entry among several, by id or by name (case-insensitive; a unique prefix will do).
pub(crate) fn pick<'a, T>(
    what: &str,
    wanted: &str,
    entries: &'a [T],
    id: impl Fn(&T) -> &[u8],
    name: impl Fn(&T) -> &str,
) -> Result<&'a T> {
    if let Ok(bytes) = parse_id(wanted)
        && let Some(e) = entries.iter().find(|e| id(e) == bytes.as_slice())
    {
        return Ok(e);
    }
    let w = wanted.trim().to_lowercase();
    if let Some(e) = entries.iter().find(|e| name(e).to_lowercase() == w) {
        return Ok(e);
    }
    let starting: Vec<&T> = entries
        .iter()
        .filter(|e| name(e).to_lowercase().starts_with(&w))
        .collect();
    match starting.as_slice() {
        [one] => Ok(one),
        [] => bail!("no {what} called {wanted:?}"),
        many => bail!(
            "{wanted:?} could be any of: {}",
            many.iter().map(|e| name(e)).collect::<Vec<_>>().join(", ")
        ),
    }
}

pub(crate) async fn get_menu(c: &mut PosClient<Channel>) -> Result<v1::MenuView> {
    Ok(c.get_menu(authed(v1::GetMenuRequest {})?)
        .await
        .map_err(refused)?
        .into_inner())
}

async fn put(
    c: &mut PosClient<Channel>,
    change: v1::change_menu_request::Change,
) -> Result<v1::ChangeReply> {
    Ok(c.change_menu(authed(v1::ChangeMenuRequest {
        request_id: new_id(),
        change: Some(change),
    })?)
    .await
    .map_err(refused)?
    .into_inner())
}

/// An item named by id, SKU, barcode or (whole or unique) name.
pub(crate) async fn find_item(c: &mut PosClient<Channel>, wanted: &str) -> Result<v1::Item> {
    if let Ok(id) = parse_id(wanted) {
        let found = c.get_item(authed(v1::GetItemRequest { item: id })?).await;
        if let Ok(view) = found {
            return view
                .into_inner()
                .item
                .ok_or_else(|| anyhow!("the node sent an item view without its item"));
        }
    }
    let items: Vec<v1::Item> = c
        .search_items(authed(v1::SearchItemsRequest {
            query: wanted.into(),
            limit: 50,
        })?)
        .await
        .map_err(refused)?
        .into_inner()
        .items
        .into_iter()
        .filter_map(|v| v.item)
        .collect();
    let w = wanted.trim().to_lowercase();
    let exact = items.iter().find(|i| {
        i.name.to_lowercase() == w
            || i.sku.as_deref() == Some(wanted.trim())
            || i.barcode.as_deref() == Some(wanted.trim())
    });
    match (exact, items.as_slice()) {
        (Some(i), _) => Ok(i.clone()),
        (None, [one]) => Ok(one.clone()),
        (None, []) => bail!("no item matches {wanted:?}"),
        (None, many) => bail!(
            "{wanted:?} could be any of: {} (give the whole name or the SKU)",
            many.iter()
                .take(8)
                .map(|i| i.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// `NAME=AMOUNT` (or `NAME`, for nothing extra) in the restaurant's currency.
fn named_amount(text: &str, currency: &str) -> Result<(String, i64)> {
    match text.rsplit_once('=') {
        Some((name, value)) => Ok((name.trim().to_string(), amount(value.trim(), currency)?)),
        None => Ok((text.trim().to_string(), 0)),
    }
}

fn channel(text: &str) -> Result<v1::Channel> {
    Ok(match text.trim() {
        "counter" => v1::Channel::Counter,
        "table" => v1::Channel::Table,
        "online" => v1::Channel::Online,
        "delivery" => v1::Channel::Delivery,
        other => bail!("{other:?} is not a channel: counter, table, online or delivery"),
    })
}

fn rates(texts: &[String]) -> Result<Vec<u32>> {
    texts
        .iter()
        .map(|t| {
            TaxRate::parse_percent(t.trim_end_matches('%'))
                .map(|r| r.ppm())
                .map_err(|e| anyhow!("tax rate {t:?}: {e}"))
        })
        .collect()
}

fn percent(ppm: u32) -> String {
    TaxRate::from_ppm(ppm).to_string()
}

fn station_of(bytes: &[u8]) -> Option<u128> {
    <[u8; 16]>::try_from(bytes).ok().map(u128::from_be_bytes)
}

/// Fills `item` from the flags; `menu` resolves category, tax and modifier group names.
fn apply_fields(
    item: &mut v1::Item,
    f: ItemFields,
    menu: &v1::MenuView,
    currency: &str,
) -> Result<()> {
    if let Some(c) = &f.category {
        item.category = pick("category", c, &menu.categories, |x| &x.id, |x| &x.name)?
            .id
            .clone();
    }
    if let Some(t) = &f.tax {
        item.tax_category = pick(
            "tax category",
            t,
            &menu.tax_categories,
            |x| &x.id,
            |x| &x.name,
        )?
        .id
        .clone();
    }
    if let Some(p) = &f.price {
        item.price = amount(p, currency)?;
    }
    if let Some(d) = f.description {
        item.description = d;
    }
    // An empty flag clears the code.
    if let Some(s) = f.sku {
        item.sku = (!s.trim().is_empty()).then_some(s);
    }
    if let Some(b) = f.barcode {
        item.barcode = (!b.trim().is_empty()).then_some(b);
    }
    if !f.variants.is_empty() {
        let old = std::mem::take(&mut item.variants);
        for v in &f.variants {
            let (name, delta) = named_amount(v, currency)?;
            let id = old
                .iter()
                .find(|o| o.name.eq_ignore_ascii_case(&name))
                .map_or_else(new_id, |o| o.id.clone());
            item.variants.push(v1::Variant {
                id,
                name,
                price_delta: delta,
            });
        }
    }
    if !f.groups.is_empty() {
        item.modifier_groups = f
            .groups
            .iter()
            .map(|g| {
                pick(
                    "modifier group",
                    g,
                    &menu.modifier_groups,
                    |x| &x.id,
                    |x| &x.name,
                )
                .map(|x| x.id.clone())
            })
            .collect::<Result<_>>()?;
    }
    if !f.channel_prices.is_empty() {
        item.channel_prices = f
            .channel_prices
            .iter()
            .map(|cp| {
                let (ch, price) = cp
                    .split_once('=')
                    .ok_or_else(|| anyhow!("--price-on {cp:?}: write CHANNEL=PRICE"))?;
                Ok(v1::ChannelPrice {
                    channel: channel(ch)?.into(),
                    price: amount(price.trim(), currency)?,
                })
            })
            .collect::<Result<_>>()?;
    }
    Ok(())
}

fn item_json(i: &v1::Item) -> Value {
    json!({
        "id": show_id(&i.id),
        "name": i.name,
        "description": i.description,
        "category": show_id(&i.category),
        "tax_category": show_id(&i.tax_category),
        "sku": i.sku,
        "barcode": i.barcode,
        "price_minor": i.price,
        "available": i.available,
        "variants": i.variants.iter().map(|v| json!({"id": show_id(&v.id), "name": v.name, "price_delta_minor": v.price_delta})).collect::<Vec<_>>(),
        "modifier_groups": i.modifier_groups.iter().map(|g| show_id(g)).collect::<Vec<_>>(),
    })
}

fn done(target: &Target, what: String, id: &[u8], reply: &v1::ChangeReply) {
    if target.json {
        output::json(&json!({
            "id": show_id(id),
            "replayed": reply.replayed,
            "first_seq": reply.first_seq,
            "last_seq": reply.last_seq,
        }));
    } else {
        say!("{what}  (ledger entry {})", reply.last_seq);
    }
}

pub fn menu(cmd: MenuEdit) -> Result<Outcome> {
    use v1::change_menu_request::Change;
    runtime()?.block_on(async move {
        match cmd {
            MenuEdit::Show { target } => {
                let mut c = connect(&target.target).await?;
                show_menu(&get_menu(&mut c).await?, target.json);
            }
            MenuEdit::Items {
                category,
                page,
                target,
            } => {
                let mut c = connect(&target.target).await?;
                let menu = get_menu(&mut c).await?;
                let cat = pick(
                    "category",
                    &category,
                    &menu.categories,
                    |x| &x.id,
                    |x| &x.name,
                )?;
                let items = c
                    .list_items(authed(v1::ListItemsRequest {
                        category: cat.id.clone(),
                        offset: page.saturating_sub(1) * 50,
                        limit: 50,
                    })?)
                    .await
                    .map_err(refused)?
                    .into_inner()
                    .items;
                if target.json {
                    let list: Vec<Value> = items
                        .iter()
                        .filter_map(|v| v.item.as_ref())
                        .map(item_json)
                        .collect();
                    output::json(&json!({ "category": cat.name, "page": page, "items": list }));
                } else {
                    let cur = currency()?;
                    say!("{} (page {page})", cat.name);
                    for i in items.iter().filter_map(|v| v.item.as_ref()) {
                        let state = if i.available { "" } else { "  (86'd)" };
                        let code = i.sku.as_deref().unwrap_or("");
                        say!(
                            "  {:<30} {:>10}  {code}{state}",
                            i.name,
                            money(i.price, &cur)
                        );
                    }
                    if items.is_empty() {
                        say!("  (no items on this page)");
                    }
                }
            }
            MenuEdit::Settings {
                name,
                currency,
                prices,
                target,
            } => {
                let mut c = connect(&target.target).await?;
                let mut s = get_menu(&mut c).await?.settings.unwrap_or_default();
                if s.currency.is_empty() && (name.is_none() || currency.is_none()) {
                    bail!("a new restaurant needs --name and --currency");
                }
                if let Some(n) = name {
                    s.name = n;
                }
                if let Some(cur) = currency {
                    s.currency = cur.to_uppercase();
                }
                match prices.as_deref() {
                    Some("exclusive") => s.price_mode = v1::PriceMode::Exclusive.into(),
                    Some(_) => s.price_mode = v1::PriceMode::Inclusive.into(),
                    None => {}
                }
                let reply = put(&mut c, Change::Settings(s.clone())).await?;
                done(
                    &target,
                    format!("settings saved: {} in {}", s.name, s.currency),
                    &[],
                    &reply,
                );
            }
            MenuEdit::Tax {
                name,
                rates: given,
                rename,
                target,
            } => {
                let mut c = connect(&target.target).await?;
                let menu = get_menu(&mut c).await?;
                let mut t = menu
                    .tax_categories
                    .iter()
                    .find(|t| t.name.eq_ignore_ascii_case(&name))
                    .cloned()
                    .unwrap_or_else(|| v1::TaxCategory {
                        id: new_id(),
                        name: name.clone(),
                        rates_ppm: Vec::new(),
                    });
                t.rates_ppm = rates(&given)?;
                if let Some(n) = rename {
                    t.name = n;
                }
                let reply = put(&mut c, Change::TaxCategory(t.clone())).await?;
                let shown: Vec<String> = t.rates_ppm.iter().map(|r| percent(*r)).collect();
                done(
                    &target,
                    format!("tax {}: {}", t.name, shown.join(" + ")),
                    &t.id,
                    &reply,
                );
            }
            MenuEdit::Category {
                name,
                station,
                no_station,
                rename,
                target,
            } => {
                let mut c = connect(&target.target).await?;
                let menu = get_menu(&mut c).await?;
                let mut cat = menu
                    .categories
                    .iter()
                    .find(|x| x.name.eq_ignore_ascii_case(&name))
                    .cloned()
                    .unwrap_or_else(|| v1::Category {
                        id: new_id(),
                        name: name.clone(),
                        station: Vec::new(),
                    });
                if let Some(s) = station {
                    cat.station = u128::from(s).to_be_bytes().to_vec();
                }
                if no_station {
                    cat.station = Vec::new();
                }
                if let Some(n) = rename {
                    cat.name = n;
                }
                let reply = put(&mut c, Change::Category(cat.clone())).await?;
                let to = match station_of(&cat.station) {
                    Some(s) => format!("sent to station {s}"),
                    None => "not sent to the kitchen".into(),
                };
                done(
                    &target,
                    format!("category {}: {to}", cat.name),
                    &cat.id,
                    &reply,
                );
            }
            MenuEdit::Modifiers {
                name,
                min,
                max,
                options,
                rename,
                target,
            } => {
                let cur = currency()?;
                let mut c = connect(&target.target).await?;
                let menu = get_menu(&mut c).await?;
                let existing = menu
                    .modifier_groups
                    .iter()
                    .find(|g| g.name.eq_ignore_ascii_case(&name))
                    .cloned();
                if existing.is_none() && options.is_empty() {
                    bail!("a new modifier group needs its options: --option NAME[=PRICE]");
                }
                let mut g = existing.unwrap_or_else(|| v1::ModifierGroup {
                    id: new_id(),
                    name: name.clone(),
                    min: 0,
                    max: 1,
                    options: Vec::new(),
                });
                if !options.is_empty() {
                    let old = std::mem::take(&mut g.options);
                    for o in &options {
                        let (oname, delta) = named_amount(o, &cur)?;
                        let id = old
                            .iter()
                            .find(|x| x.name.eq_ignore_ascii_case(&oname))
                            .map_or_else(new_id, |x| x.id.clone());
                        g.options.push(v1::ModifierOption {
                            id,
                            name: oname,
                            price_delta: delta,
                        });
                    }
                }
                if let Some(m) = min {
                    g.min = m;
                }
                if let Some(m) = max {
                    g.max = m;
                }
                if let Some(n) = rename {
                    g.name = n;
                }
                let reply = put(&mut c, Change::ModifierGroup(g.clone())).await?;
                done(
                    &target,
                    format!(
                        "modifiers {}: choose {} to {} of {} options",
                        g.name,
                        g.min,
                        g.max,
                        g.options.len()
                    ),
                    &g.id,
                    &reply,
                );
            }
            MenuEdit::AddItem {
                name,
                fields,
                target,
            } => {
                let cur = currency()?;
                if fields.category.is_none() || fields.tax.is_none() || fields.price.is_none() {
                    bail!("a new item needs --category, --tax and --price");
                }
                let mut c = connect(&target.target).await?;
                let menu = get_menu(&mut c).await?;
                let mut item = v1::Item {
                    id: new_id(),
                    name,
                    available: true,
                    ..v1::Item::default()
                };
                apply_fields(&mut item, fields, &menu, &cur)?;
                let reply = put(&mut c, Change::Item(item.clone())).await?;
                done(
                    &target,
                    format!("added {} at {}", item.name, money(item.price, &cur)),
                    &item.id,
                    &reply,
                );
            }
            MenuEdit::EditItem {
                item,
                rename,
                fields,
                target,
            } => {
                let cur = currency()?;
                let mut c = connect(&target.target).await?;
                let mut found = find_item(&mut c, &item).await?;
                let menu = get_menu(&mut c).await?;
                apply_fields(&mut found, fields, &menu, &cur)?;
                if let Some(n) = rename {
                    found.name = n;
                }
                let reply = put(&mut c, Change::Item(found.clone())).await?;
                done(
                    &target,
                    format!("saved {} at {}", found.name, money(found.price, &cur)),
                    &found.id,
                    &reply,
                );
            }
            MenuEdit::EightySix { item, target } => set_available(&item, false, &target).await?,
            MenuEdit::Restock { item, target } => set_available(&item, true, &target).await?,
        }
        Ok(Outcome::Ok)
    })
}

async fn set_available(item: &str, available: bool, target: &Target) -> Result<()> {
    let mut c = connect(&target.target).await?;
    let found = find_item(&mut c, item).await?;
    let reply = put(
        &mut c,
        v1::change_menu_request::Change::Availability(v1::Availability {
            item: found.id.clone(),
            available,
        }),
    )
    .await?;
    let what = if available {
        format!("{} is back on the menu", found.name)
    } else {
        format!("{} is 86'd (sold out)", found.name)
    };
    done(target, what, &found.id, &reply);
    Ok(())
}

fn show_menu(menu: &v1::MenuView, as_json: bool) {
    let station = |c: &v1::Category| station_of(&c.station);
    if as_json {
        output::json(&json!({
            "settings": menu.settings.as_ref().map(|s| json!({
                "name": s.name,
                "currency": s.currency,
                "prices": if s.price_mode == i32::from(v1::PriceMode::Exclusive) { "exclusive" } else { "inclusive" },
            })),
            "tax_categories": menu.tax_categories.iter().map(|t| json!({
                "id": show_id(&t.id), "name": t.name, "rates_ppm": t.rates_ppm,
            })).collect::<Vec<_>>(),
            "categories": menu.categories.iter().map(|c| json!({
                "id": show_id(&c.id), "name": c.name, "station": station(c).map(|s| s.to_string()),
            })).collect::<Vec<_>>(),
            "modifier_groups": menu.modifier_groups.iter().map(|g| json!({
                "id": show_id(&g.id), "name": g.name, "min": g.min, "max": g.max,
                "options": g.options.iter().map(|o| json!({
                    "id": show_id(&o.id), "name": o.name, "price_delta_minor": o.price_delta,
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        }));
        return;
    }
    let Some(s) = &menu.settings else {
        say!("the restaurant is not set up yet: mpos menu settings --name NAME --currency CODE");
        return;
    };
    let mode = if s.price_mode == i32::from(v1::PriceMode::Exclusive) {
        "tax added to prices"
    } else {
        "prices include tax"
    };
    say!("{} ({}, {mode})", s.name, s.currency);
    say!("tax categories");
    for t in &menu.tax_categories {
        let shown: Vec<String> = t.rates_ppm.iter().map(|r| percent(*r)).collect();
        say!("  {:<24} {}", t.name, shown.join(" + "));
    }
    say!("categories");
    for c in &menu.categories {
        let to = station(c).map_or("not sent".to_string(), |s| format!("station {s}"));
        say!("  {:<24} {to}", c.name);
    }
    say!("modifier groups");
    for g in &menu.modifier_groups {
        let options: Vec<String> = g
            .options
            .iter()
            .map(|o| {
                if o.price_delta == 0 {
                    o.name.clone()
                } else {
                    format!("{} (+{})", o.name, money(o.price_delta, &s.currency))
                }
            })
            .collect();
        say!(
            "  {:<24} choose {}..{}: {}",
            g.name,
            g.min,
            g.max,
            options.join(", ")
        );
    }
}

fn role_name(role: i32) -> &'static str {
    match v1::Role::try_from(role) {
        Ok(v1::Role::Owner) => "owner",
        Ok(v1::Role::Manager) => "manager",
        Ok(v1::Role::Cashier) => "cashier",
        Ok(v1::Role::Server) => "server",
        Ok(v1::Role::Kitchen) => "kitchen",
        _ => "?",
    }
}

fn role(name: &str) -> Result<v1::Role> {
    Ok(match name {
        "owner" => v1::Role::Owner,
        "manager" => v1::Role::Manager,
        "cashier" => v1::Role::Cashier,
        "server" => v1::Role::Server,
        "kitchen" => v1::Role::Kitchen,
        other => bail!("{other:?} is not a role: {}", ROLES.join(", ")),
    })
}

async fn all_staff(c: &mut PosClient<Channel>) -> Result<Vec<v1::StaffEntry>> {
    Ok(c.list_staff(authed(v1::ListStaffRequest {
        include_inactive: true,
    })?)
    .await
    .map_err(refused)?
    .into_inner()
    .staff)
}

async fn put_staff(c: &mut PosClient<Channel>, m: &v1::StaffEntry) -> Result<v1::ChangeReply> {
    Ok(c.put_staff(authed(v1::PutStaffRequest {
        request_id: new_id(),
        id: m.id.clone(),
        name: m.name.clone(),
        role: m.role,
        active: m.active,
    })?)
    .await
    .map_err(refused)?
    .into_inner())
}

async fn set_pin(c: &mut PosClient<Channel>, staff: &[u8], pin: &str) -> Result<v1::ChangeReply> {
    Ok(c.set_pin(authed(v1::SetPinRequest {
        request_id: new_id(),
        staff: staff.to_vec(),
        pin: pin.to_string(),
    })?)
    .await
    .map_err(refused)?
    .into_inner())
}

pub fn staff(cmd: StaffCommand) -> Result<Outcome> {
    runtime()?.block_on(async move {
        match cmd {
            StaffCommand::List { target } => {
                let mut c = connect(&target.target).await?;
                let staff = all_staff(&mut c).await?;
                if target.json {
                    let list: Vec<Value> = staff
                        .iter()
                        .map(|m| json!({"id": show_id(&m.id), "name": m.name, "role": role_name(m.role), "active": m.active}))
                        .collect();
                    output::json(&json!({ "staff": list }));
                } else {
                    for m in &staff {
                        let state = if m.active { "" } else { "  (left)" };
                        say!("  {:<24} {:<8} {}{state}", m.name, role_name(m.role), show_id(&m.id));
                    }
                }
            }
            StaffCommand::Add {
                name,
                role: r,
                pin,
                target,
            } => {
                let mut c = connect(&target.target).await?;
                let member = v1::StaffEntry {
                    id: new_id(),
                    name,
                    role: role(&r)?.into(),
                    active: true,
                };
                let mut reply = put_staff(&mut c, &member).await?;
                if let Some(p) = pin {
                    reply = set_pin(&mut c, &member.id, &p).await?;
                }
                done(&target, format!("added {} as {r}", member.name), &member.id, &reply);
            }
            StaffCommand::Edit {
                staff,
                rename,
                role: r,
                left,
                back,
                target,
            } => {
                let mut c = connect(&target.target).await?;
                let everyone = all_staff(&mut c).await?;
                let mut m = pick("staff member", &staff, &everyone, |x| &x.id, |x| &x.name)?.clone();
                if let Some(n) = rename {
                    m.name = n;
                }
                if let Some(r) = &r {
                    m.role = role(r)?.into();
                }
                if left {
                    m.active = false;
                }
                if back {
                    m.active = true;
                }
                let reply = put_staff(&mut c, &m).await?;
                let state = if m.active { "" } else { ", left" };
                done(&target, format!("{}: {}{state}", m.name, role_name(m.role)), &m.id, &reply);
            }
            StaffCommand::Pin { staff, pin, target } => {
                let mut c = connect(&target.target).await?;
                let everyone = all_staff(&mut c).await?;
                let m = pick("staff member", &staff, &everyone, |x| &x.id, |x| &x.name)?.clone();
                let reply = set_pin(&mut c, &m.id, &pin).await?;
                done(&target, format!("PIN set for {}", m.name), &m.id, &reply);
            }
        }
        Ok(Outcome::Ok)
    })
}

/// The floor as the node has it.
pub(crate) async fn floor(c: &mut PosClient<Channel>, all: bool) -> Result<Vec<v1::TableView>> {
    Ok(c.list_tables(authed(v1::ListTablesRequest {
        include_inactive: all,
    })?)
    .await
    .map_err(refused)?
    .into_inner()
    .tables)
}

/// A table named by name or id, in service or not.
pub(crate) async fn find_table(c: &mut PosClient<Channel>, wanted: &str) -> Result<v1::Table> {
    let tables: Vec<v1::Table> = floor(c, true)
        .await?
        .into_iter()
        .filter_map(|t| t.table)
        .collect();
    let w = wanted.trim().to_lowercase();
    // Exact names first: "T1" must not be ambiguous with "T10".
    if let Some(t) = tables
        .iter()
        .find(|t| t.active && t.name.to_lowercase() == w)
    {
        return Ok(t.clone());
    }
    Ok(pick("table", wanted, &tables, |x| &x.id, |x| &x.name)?.clone())
}

async fn put_table(
    c: &mut PosClient<Channel>,
    t: &v1::Table,
    new_link: bool,
) -> Result<v1::ChangeReply> {
    Ok(c.put_table(authed(v1::PutTableRequest {
        request_id: new_id(),
        table: Some(t.clone()),
        new_link,
    })?)
    .await
    .map_err(refused)?
    .into_inner())
}

pub fn table(cmd: TableCommand) -> Result<Outcome> {
    runtime()?.block_on(async move {
        match cmd {
            TableCommand::List { all, target } => {
                let mut c = connect(&target.target).await?;
                let tables = floor(&mut c, all).await?;
                if target.json {
                    let list: Vec<Value> = tables
                        .iter()
                        .filter_map(|v| v.table.as_ref().map(|t| (t, &v.orders)))
                        .map(|(t, orders)| json!({
                            "id": show_id(&t.id), "name": t.name, "seats": t.seats, "area": t.area,
                            "active": t.active,
                            "orders": orders.iter().map(|o| json!({
                                "id": show_id(&o.id), "number": o.number, "guests": o.guests,
                                "total_minor": o.total, "balance_minor": o.balance, "opened_at": o.opened_at,
                            })).collect::<Vec<_>>(),
                        }))
                        .collect();
                    output::json(&json!({ "tables": list }));
                    return Ok(Outcome::Ok);
                }
                let cur = currency()?;
                let mut area = None;
                for v in &tables {
                    let Some(t) = &v.table else { continue };
                    if area != Some(&t.area) {
                        say!("{}", if t.area.is_empty() { "(floor)" } else { &t.area });
                        area = Some(&t.area);
                    }
                    let state = if !t.active {
                        "out of service".to_string()
                    } else if v.orders.is_empty() {
                        "free".to_string()
                    } else {
                        v.orders
                            .iter()
                            .map(|o| format!("#{} {} guests, {} due", o.number, o.guests, money(o.balance, &cur)))
                            .collect::<Vec<_>>()
                            .join("; ")
                    };
                    say!("  {:<10} {:>2} seats  {state}", t.name, t.seats);
                }
                if tables.is_empty() {
                    say!("no tables yet: mpos table add NAME --seats N");
                }
            }
            TableCommand::Add {
                name,
                seats,
                area,
                target,
            } => {
                let mut c = connect(&target.target).await?;
                let t = v1::Table {
                    token: String::new(),
                    location: Vec::new(),
                    id: new_id(),
                    name,
                    seats,
                    area,
                    active: true,
                };
                let reply = put_table(&mut c, &t, false).await?;
                done(&target, format!("table {} ({} seats) added", t.name, t.seats), &t.id, &reply);
            }
            TableCommand::Edit {
                table,
                rename,
                seats,
                area,
                out_of_service,
                in_service,
                new_link,
                target,
            } => {
                let mut c = connect(&target.target).await?;
                let mut t = find_table(&mut c, &table).await?;
                if let Some(n) = rename {
                    t.name = n;
                }
                if let Some(s) = seats {
                    t.seats = s;
                }
                if let Some(a) = area {
                    t.area = a;
                }
                if out_of_service {
                    t.active = false;
                }
                if in_service {
                    t.active = true;
                }
                let reply = put_table(&mut c, &t, new_link).await?;
                let state = if t.active { "in service" } else { "out of service" };
                let link = if new_link { ", new self-ordering link" } else { "" };
                done(&target, format!("table {}: {} seats, {state}{link}", t.name, t.seats), &t.id, &reply);
            }
            TableCommand::Link { table, target } => {
                let mut c = connect(&target.target).await?;
                let t = find_table(&mut c, &table).await?;
                if t.token.is_empty() {
                    anyhow::bail!("table {} has no self-ordering link yet: mpos table edit {} --new-link", t.name, t.name);
                }
                let url = format!("http://{}/t/{}", target.target, t.token);
                if target.json {
                    output::json(&json!({ "table": t.name, "url": url }));
                } else {
                    say!("{url}");
                }
            }
        }
        Ok(Outcome::Ok)
    })
}
