//! Menu projections: settings, tax categories, categories, modifier groups and items saved
//! as rows (replaced whole on each change), read back by id, and searched by word prefixes
//! through a GIN index; and the staff, PIN and floor rows beside them.

use mpos_domain::catalog::{Category, Item, ModifierGroup, ModifierOption, TaxCategory, Variant};
use mpos_domain::floor::{FloorChange, Table};
use mpos_domain::ids::{
    CategoryId, ItemId, LocationId, ModifierGroupId, ModifierId, StaffId, StationId, TableId,
    TaxCategoryId, VariantId,
};
use mpos_domain::menu::{MenuChange, Settings};
use mpos_domain::staff::{Role, StaffChange, StaffMember};
use mpos_domain::{Currency, Money};
use mpos_store::columns::{
    channel_from, id_bytes, mode_from, mode_text, rates_from, rates_text, search_words,
};
use mpos_store::{PinHash, StoreError};
use postgres::{GenericClient, Row};

use crate::corrupt;
use crate::sql::{Sql, big, get, id, location_key, opt_id, u32_at};

/// Applies one menu change inside the commit's transaction.
pub(crate) fn save_change<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    change: &MenuChange,
) -> Result<(), StoreError> {
    match change {
        MenuChange::SettingsPut(s) => {
            sql.execute(
                "INSERT INTO menu_settings (id, name, currency, price_mode) VALUES (1, $1, $2, $3)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name,
                    currency = excluded.currency, price_mode = excluded.price_mode",
                &[&s.name, &s.currency.code(), &mode_text(s.price_mode)],
            )?;
        }
        MenuChange::TaxCategoryPut(t) => {
            sql.execute(
                "INSERT INTO menu_tax_category (id, name, rates) VALUES ($1, $2, $3)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, rates = excluded.rates",
                &[&&id_bytes(t.id.0)[..], &t.name, &rates_text(&t.rates)],
            )?;
        }
        MenuChange::CategoryPut(c) => {
            sql.execute(
                "INSERT INTO menu_category (id, name, station) VALUES ($1, $2, $3)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, station = excluded.station",
                &[
                    &&id_bytes(c.id.0)[..],
                    &c.name,
                    &c.station.map(|s| id_bytes(s.0).to_vec()),
                ],
            )?;
        }
        MenuChange::ModifierGroupPut(g) => {
            let gid = id_bytes(g.id.0);
            sql.execute(
                "INSERT INTO menu_modifier_group (id, name, min_choices, max_choices)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name,
                    min_choices = excluded.min_choices, max_choices = excluded.max_choices",
                &[&&gid[..], &g.name, &i64::from(g.min), &i64::from(g.max)],
            )?;
            sql.execute(
                "DELETE FROM menu_modifier_option WHERE group_id = $1",
                &[&&gid[..]],
            )?;
            for (i, o) in g.options.iter().enumerate() {
                sql.execute(
                    "INSERT INTO menu_modifier_option (group_id, position, id, name, price_delta)
                     VALUES ($1, $2, $3, $4, $5)",
                    &[
                        &&gid[..],
                        &big(i),
                        &&id_bytes(o.id.0)[..],
                        &o.name,
                        &o.price_delta.minor(),
                    ],
                )?;
            }
        }
        MenuChange::ItemPut(item) => save_item(sql, item)?,
        MenuChange::AvailabilitySet { item, available } => {
            sql.execute(
                "UPDATE menu_item SET available = $2 WHERE id = $1",
                &[&&id_bytes(item.0)[..], available],
            )?;
        }
    }
    Ok(())
}

fn save_item<C: GenericClient>(sql: &mut Sql<'_, C>, item: &Item) -> Result<(), StoreError> {
    let iid = id_bytes(item.id.0);
    sql.execute(
        "INSERT INTO menu_item (id, name, description, category_id, sku, barcode, price,
            tax_category_id, available)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name,
            description = excluded.description, category_id = excluded.category_id,
            sku = excluded.sku, barcode = excluded.barcode, price = excluded.price,
            tax_category_id = excluded.tax_category_id, available = excluded.available",
        &[
            &&iid[..],
            &item.name,
            &item.description,
            &&id_bytes(item.category.0)[..],
            &item.sku,
            &item.barcode,
            &item.price.minor(),
            &&id_bytes(item.tax_category.0)[..],
            &item.available,
        ],
    )?;
    for table in ["menu_item_price", "menu_item_variant", "menu_item_group"] {
        sql.execute(
            &format!("DELETE FROM {table} WHERE item_id = $1"),
            &[&&iid[..]],
        )?;
    }
    for (channel, price) in &item.channel_prices {
        sql.execute(
            "INSERT INTO menu_item_price (item_id, channel, price) VALUES ($1, $2, $3)",
            &[&&iid[..], &channel.name(), &price.minor()],
        )?;
    }
    for (i, v) in item.variants.iter().enumerate() {
        sql.execute(
            "INSERT INTO menu_item_variant (item_id, position, id, name, price_delta)
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &&iid[..],
                &big(i),
                &&id_bytes(v.id.0)[..],
                &v.name,
                &v.price_delta.minor(),
            ],
        )?;
    }
    for (i, g) in item.modifier_groups.iter().enumerate() {
        sql.execute(
            "INSERT INTO menu_item_group (item_id, position, group_id) VALUES ($1, $2, $3)",
            &[&&iid[..], &big(i), &&id_bytes(g.0)[..]],
        )?;
    }
    Ok(())
}

pub(crate) fn settings<C: GenericClient>(
    sql: &mut Sql<'_, C>,
) -> Result<Option<Settings>, StoreError> {
    let Some(r) = sql.query_opt(
        "SELECT name, currency, price_mode FROM menu_settings WHERE id = 1",
        &[],
    )?
    else {
        return Ok(None);
    };
    Ok(Some(Settings {
        name: get(&r, "name")?,
        currency: Currency::from_code(get(&r, "currency")?).map_err(corrupt)?,
        price_mode: mode_from(get(&r, "price_mode")?)?,
    }))
}

fn currency<C: GenericClient>(sql: &mut Sql<'_, C>) -> Result<Currency, StoreError> {
    settings(sql)?
        .map(|s| s.currency)
        .ok_or_else(|| corrupt("menu rows exist but the restaurant has no settings"))
}

pub(crate) fn tax_category<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    tid: TaxCategoryId,
) -> Result<Option<TaxCategory>, StoreError> {
    sql.query_opt(
        "SELECT name, rates FROM menu_tax_category WHERE id = $1",
        &[&&id_bytes(tid.0)[..]],
    )?
    .map(|r| {
        Ok(TaxCategory {
            id: tid,
            name: get(&r, "name")?,
            rates: rates_from(get(&r, "rates")?)?,
        })
    })
    .transpose()
}

pub(crate) fn category<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    cid: CategoryId,
) -> Result<Option<Category>, StoreError> {
    sql.query_opt(
        "SELECT name, station FROM menu_category WHERE id = $1",
        &[&&id_bytes(cid.0)[..]],
    )?
    .map(|r| {
        Ok(Category {
            id: cid,
            name: get(&r, "name")?,
            station: opt_id(&r, "station")?.map(StationId),
        })
    })
    .transpose()
}

pub(crate) fn modifier_group<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    gid: ModifierGroupId,
) -> Result<Option<ModifierGroup>, StoreError> {
    let key = id_bytes(gid.0);
    let Some(r) = sql.query_opt(
        "SELECT name, min_choices, max_choices FROM menu_modifier_group WHERE id = $1",
        &[&&key[..]],
    )?
    else {
        return Ok(None);
    };
    let c = currency(sql)?;
    let options = sql
        .query(
            "SELECT id, name, price_delta FROM menu_modifier_option WHERE group_id = $1
             ORDER BY position",
            &[&&key[..]],
        )?
        .iter()
        .map(|o| {
            Ok(ModifierOption {
                id: ModifierId(id(o, "id")?),
                name: get(o, "name")?,
                price_delta: Money::new(get(o, "price_delta")?, c),
            })
        })
        .collect::<Result<_, StoreError>>()?;
    Ok(Some(ModifierGroup {
        id: gid,
        name: get(&r, "name")?,
        min: u32_at(&r, "min_choices")?,
        max: u32_at(&r, "max_choices")?,
        options,
    }))
}

const ITEM_COLUMNS: &str =
    "id, name, description, category_id, sku, barcode, price, tax_category_id, available";

fn complete_item<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    r: &Row,
    c: Currency,
) -> Result<Item, StoreError> {
    let key: &[u8] = get(r, "id")?;
    let mut channel_prices = sql
        .query(
            "SELECT channel, price FROM menu_item_price WHERE item_id = $1",
            &[&key],
        )?
        .iter()
        .map(|p| {
            Ok((
                channel_from(get(p, "channel")?)?,
                Money::new(get(p, "price")?, c),
            ))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    channel_prices.sort_by_key(|(ch, _)| *ch);
    let variants = sql
        .query(
            "SELECT id, name, price_delta FROM menu_item_variant WHERE item_id = $1
             ORDER BY position",
            &[&key],
        )?
        .iter()
        .map(|v| {
            Ok(Variant {
                id: VariantId(id(v, "id")?),
                name: get(v, "name")?,
                price_delta: Money::new(get(v, "price_delta")?, c),
            })
        })
        .collect::<Result<_, StoreError>>()?;
    let modifier_groups = sql
        .query(
            "SELECT group_id FROM menu_item_group WHERE item_id = $1 ORDER BY position",
            &[&key],
        )?
        .iter()
        .map(|g| Ok(ModifierGroupId(id(g, "group_id")?)))
        .collect::<Result<_, StoreError>>()?;
    Ok(Item {
        id: ItemId(id(r, "id")?),
        name: get(r, "name")?,
        description: get(r, "description")?,
        category: CategoryId(id(r, "category_id")?),
        sku: get(r, "sku")?,
        barcode: get(r, "barcode")?,
        price: Money::new(get(r, "price")?, c),
        channel_prices,
        tax_category: TaxCategoryId(id(r, "tax_category_id")?),
        variants,
        modifier_groups,
        available: get(r, "available")?,
    })
}

fn complete_items<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    rows: &[Row],
) -> Result<Vec<Item>, StoreError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let c = currency(sql)?;
    rows.iter().map(|r| complete_item(sql, r, c)).collect()
}

pub(crate) fn item<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    iid: ItemId,
) -> Result<Option<Item>, StoreError> {
    let rows = sql.query(
        &format!("SELECT {ITEM_COLUMNS} FROM menu_item WHERE id = $1"),
        &[&&id_bytes(iid.0)[..]],
    )?;
    Ok(complete_items(sql, &rows)?.pop())
}

pub(crate) fn item_with_code<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    code: &str,
) -> Result<Option<ItemId>, StoreError> {
    sql.query_opt(
        "SELECT id FROM menu_item WHERE sku = $1 OR barcode = $1 LIMIT 1",
        &[&code],
    )?
    .map(|r| Ok(ItemId(id(&r, "id")?)))
    .transpose()
}

/// What a cashier typed as a text-search query of word prefixes: every word must match
/// the start of a word.
fn prefix_query(text: &str) -> Option<String> {
    let words: Vec<String> = search_words(text)
        .map(|w| format!("{}:*", w.to_lowercase()))
        .collect();
    (!words.is_empty()).then(|| words.join(" & "))
}

pub(crate) fn search<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    text: &str,
    limit: usize,
) -> Result<Vec<Item>, StoreError> {
    let Some(query) = prefix_query(text) else {
        return Ok(Vec::new());
    };
    // The first matches, then in name order, as on SQLite: ranking every match before
    // the limit costs milliseconds when a short prefix matches thousands of items.
    let rows = sql.query(
        &format!(
            "SELECT {ITEM_COLUMNS} FROM menu_item
             WHERE words @@ to_tsquery('simple', $1) LIMIT $2"
        ),
        &[&query, &big(limit)],
    )?;
    let mut items = complete_items(sql, &rows)?;
    items.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(items)
}

/// The ids in `table`, by name: the few tax categories, categories or modifier groups a
/// restaurant has.
fn ids_by_name<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    table: &str,
) -> Result<Vec<u128>, StoreError> {
    sql.query(&format!("SELECT id FROM {table} ORDER BY name, id"), &[])?
        .iter()
        .map(|r| id(r, "id"))
        .collect()
}

pub(crate) fn tax_categories<C: GenericClient>(
    sql: &mut Sql<'_, C>,
) -> Result<Vec<TaxCategory>, StoreError> {
    ids_by_name(sql, "menu_tax_category")?
        .into_iter()
        .filter_map(|i| tax_category(sql, TaxCategoryId(i)).transpose())
        .collect()
}

pub(crate) fn categories<C: GenericClient>(
    sql: &mut Sql<'_, C>,
) -> Result<Vec<Category>, StoreError> {
    ids_by_name(sql, "menu_category")?
        .into_iter()
        .filter_map(|i| category(sql, CategoryId(i)).transpose())
        .collect()
}

pub(crate) fn modifier_groups<C: GenericClient>(
    sql: &mut Sql<'_, C>,
) -> Result<Vec<ModifierGroup>, StoreError> {
    ids_by_name(sql, "menu_modifier_group")?
        .into_iter()
        .filter_map(|i| modifier_group(sql, ModifierGroupId(i)).transpose())
        .collect()
}

pub(crate) fn category_items<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    cid: CategoryId,
    offset: usize,
    limit: usize,
) -> Result<Vec<Item>, StoreError> {
    let rows = sql.query(
        &format!(
            "SELECT {ITEM_COLUMNS} FROM menu_item WHERE category_id = $1
             ORDER BY name, id LIMIT $2 OFFSET $3"
        ),
        &[&&id_bytes(cid.0)[..], &big(limit), &big(offset)],
    )?;
    complete_items(sql, &rows)
}

pub(crate) fn save_staff<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    change: &StaffChange,
) -> Result<(), StoreError> {
    if let StaffChange::Put(m) = change {
        sql.execute(
            "INSERT INTO staff (id, name, role, active) VALUES ($1, $2, $3, $4)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, role = excluded.role,
                active = excluded.active",
            &[&&id_bytes(m.id.0)[..], &m.name, &m.role.name(), &m.active],
        )?;
    }
    Ok(())
}

/// Keeps `pin` unless the stored hash was set later (ties go to the greater hash, so
/// every node keeps the same one).
pub(crate) fn save_pin<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    pin: &PinHash,
) -> Result<(), StoreError> {
    sql.execute(
        "INSERT INTO staff_pin (staff_id, hash, changed_at) VALUES ($1, $2, $3)
         ON CONFLICT (staff_id) DO UPDATE SET hash = excluded.hash,
            changed_at = excluded.changed_at
         WHERE (excluded.changed_at, excluded.hash COLLATE \"C\")
             > (staff_pin.changed_at, staff_pin.hash COLLATE \"C\")",
        &[
            &&id_bytes(pin.staff.0)[..],
            &pin.hash,
            &mpos_store::columns::sql_int(pin.changed_at),
        ],
    )?;
    Ok(())
}

pub(crate) fn pin_hashes<C: GenericClient>(
    sql: &mut Sql<'_, C>,
) -> Result<Vec<PinHash>, StoreError> {
    sql.query(
        "SELECT staff_id, hash, changed_at FROM staff_pin ORDER BY staff_id",
        &[],
    )?
    .iter()
    .map(|r| {
        Ok(PinHash {
            staff: StaffId(id(r, "staff_id")?),
            hash: get(r, "hash")?,
            changed_at: crate::sql::u64_at(r, "changed_at")?,
        })
    })
    .collect()
}

fn member_from(r: &Row) -> Result<StaffMember, StoreError> {
    let role: &str = get(r, "role")?;
    Ok(StaffMember {
        id: StaffId(id(r, "id")?),
        name: get(r, "name")?,
        role: Role::parse(role).ok_or_else(|| corrupt(format!("unknown role {role:?}")))?,
        active: get(r, "active")?,
    })
}

pub(crate) fn staff_member<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    sid: StaffId,
) -> Result<Option<StaffMember>, StoreError> {
    sql.query_opt(
        "SELECT id, name, role, active FROM staff WHERE id = $1",
        &[&&id_bytes(sid.0)[..]],
    )?
    .as_ref()
    .map(member_from)
    .transpose()
}

pub(crate) fn staff<C: GenericClient>(
    sql: &mut Sql<'_, C>,
) -> Result<Vec<StaffMember>, StoreError> {
    sql.query(
        "SELECT id, name, role, active FROM staff ORDER BY name, id",
        &[],
    )?
    .iter()
    .map(member_from)
    .collect()
}

pub(crate) fn pin_hash<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    sid: StaffId,
) -> Result<Option<String>, StoreError> {
    sql.query_opt(
        "SELECT hash FROM staff_pin WHERE staff_id = $1",
        &[&&id_bytes(sid.0)[..]],
    )?
    .map(|r| get(&r, "hash"))
    .transpose()
}

pub(crate) fn save_floor<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    change: &FloorChange,
) -> Result<(), StoreError> {
    match change {
        FloorChange::TablePut(t) => {
            sql.execute(
                "INSERT INTO floor_table (id, name, seats, area, active, token, location)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, seats = excluded.seats,
                    area = excluded.area, active = excluded.active, token = excluded.token,
                    location = excluded.location",
                &[
                    &&id_bytes(t.id.0)[..],
                    &t.name,
                    &i64::from(t.seats),
                    &t.area,
                    &t.active,
                    &t.token,
                    &location_key(t.location),
                ],
            )?;
        }
    }
    Ok(())
}

/// Every table, in service or not, by area and then name (T2 before T10).
pub(crate) fn tables<C: GenericClient>(sql: &mut Sql<'_, C>) -> Result<Vec<Table>, StoreError> {
    sql.query(
        "SELECT id, name, seats, area, active, token, location FROM floor_table
         ORDER BY area, length(name), name",
        &[],
    )?
    .iter()
    .map(|r| {
        Ok(Table {
            id: TableId(id(r, "id")?),
            name: get(r, "name")?,
            seats: u32_at(r, "seats")?,
            area: get(r, "area")?,
            active: get(r, "active")?,
            token: get(r, "token")?,
            location: opt_id(r, "location")?.map(LocationId),
        })
    })
    .collect()
}
