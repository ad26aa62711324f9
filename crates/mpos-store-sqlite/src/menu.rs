//! Menu projections: settings, tax categories, categories, modifier groups and items saved
//! as rows (replaced whole on each change), read back by id, and searched through FTS5.

use mpos_domain::catalog::{
    Category, Channel, Item, ModifierGroup, ModifierOption, TaxCategory, Variant,
};
use mpos_domain::ids::{
    CategoryId, ItemId, ModifierGroupId, ModifierId, StationId, TaxCategoryId, VariantId,
};
use mpos_domain::menu::{MenuChange, Settings};
use mpos_domain::{Currency, Money};
use mpos_store::StoreError;
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use mpos_store::columns::{mode_from, mode_text, rates_from, rates_text, search_words};

use crate::row::{from_id, id_bytes};
use crate::{corrupt, db};

/// Applies one menu change inside the caller's transaction.
pub(crate) fn save_change(tx: &Transaction<'_>, change: &MenuChange) -> Result<(), StoreError> {
    match change {
        MenuChange::SettingsPut(s) => {
            tx.prepare_cached(
                "INSERT INTO menu_settings (id, name, currency, price_mode) VALUES (1, ?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, currency = excluded.currency,
                    price_mode = excluded.price_mode",
            )
            .map_err(db)?
            .execute(params![s.name, s.currency.code(), mode_text(s.price_mode)])
            .map_err(db)?;
        }
        MenuChange::TaxCategoryPut(t) => {
            tx.prepare_cached(
                "INSERT OR REPLACE INTO menu_tax_category (id, name, rates) VALUES (?1, ?2, ?3)",
            )
            .map_err(db)?
            .execute(params![&id_bytes(t.id.0)[..], t.name, rates_text(&t.rates)])
            .map_err(db)?;
        }
        MenuChange::CategoryPut(c) => {
            tx.prepare_cached(
                "INSERT OR REPLACE INTO menu_category (id, name, station) VALUES (?1, ?2, ?3)",
            )
            .map_err(db)?
            .execute(params![
                &id_bytes(c.id.0)[..],
                c.name,
                c.station.map(|s| id_bytes(s.0).to_vec())
            ])
            .map_err(db)?;
        }
        MenuChange::ModifierGroupPut(g) => {
            let gid = id_bytes(g.id.0);
            tx.prepare_cached("INSERT OR REPLACE INTO menu_modifier_group (id, name, min_choices, max_choices) VALUES (?1, ?2, ?3, ?4)").map_err(db)?.execute(
                params![&gid[..], g.name, g.min, g.max],
            )
            .map_err(db)?;
            tx.prepare_cached("DELETE FROM menu_modifier_option WHERE group_id = ?1")
                .map_err(db)?
                .execute([&gid[..]])
                .map_err(db)?;
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO menu_modifier_option (group_id, position, id, name, price_delta) VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(db)?;
            for (i, o) in g.options.iter().enumerate() {
                insert
                    .execute(params![
                        &gid[..],
                        i as i64,
                        &id_bytes(o.id.0)[..],
                        o.name,
                        o.price_delta.minor()
                    ])
                    .map_err(db)?;
            }
        }
        MenuChange::ItemPut(item) => save_item(tx, item)?,
        MenuChange::AvailabilitySet { item, available } => {
            tx.prepare_cached("UPDATE menu_item SET available = ?2 WHERE id = ?1")
                .map_err(db)?
                .execute(params![&id_bytes(item.0)[..], available])
                .map_err(db)?;
        }
    }
    Ok(())
}

fn save_item(tx: &Transaction<'_>, item: &Item) -> Result<(), StoreError> {
    let iid = id_bytes(item.id.0);
    tx.prepare_cached("INSERT INTO menu_item (id, name, description, category_id, sku, barcode, price, tax_category_id, available)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, description = excluded.description,
            category_id = excluded.category_id, sku = excluded.sku, barcode = excluded.barcode,
            price = excluded.price, tax_category_id = excluded.tax_category_id,
            available = excluded.available").map_err(db)?.execute(
        params![
            &iid[..],
            item.name,
            item.description,
            &id_bytes(item.category.0)[..],
            item.sku,
            item.barcode,
            item.price.minor(),
            &id_bytes(item.tax_category.0)[..],
            item.available
        ],
    )
    .map_err(db)?;
    for table in ["menu_item_price", "menu_item_variant", "menu_item_group"] {
        tx.execute(
            &format!("DELETE FROM {table} WHERE item_id = ?1"),
            [&iid[..]],
        )
        .map_err(db)?;
    }
    for (channel, price) in &item.channel_prices {
        tx.prepare_cached(
            "INSERT INTO menu_item_price (item_id, channel, price) VALUES (?1, ?2, ?3)",
        )
        .map_err(db)?
        .execute(params![&iid[..], channel.name(), price.minor()])
        .map_err(db)?;
    }
    for (i, v) in item.variants.iter().enumerate() {
        tx.prepare_cached("INSERT INTO menu_item_variant (item_id, position, id, name, price_delta) VALUES (?1, ?2, ?3, ?4, ?5)").map_err(db)?.execute(
            params![&iid[..], i as i64, &id_bytes(v.id.0)[..], v.name, v.price_delta.minor()],
        )
        .map_err(db)?;
    }
    for (i, g) in item.modifier_groups.iter().enumerate() {
        tx.prepare_cached(
            "INSERT INTO menu_item_group (item_id, position, group_id) VALUES (?1, ?2, ?3)",
        )
        .map_err(db)?
        .execute(params![&iid[..], i as i64, &id_bytes(g.0)[..]])
        .map_err(db)?;
    }
    let rowid: i64 = tx
        .prepare_cached("SELECT rowid FROM menu_item WHERE id = ?1")
        .map_err(db)?
        .query_row([&iid[..]], |r| r.get(0))
        .map_err(db)?;
    tx.prepare_cached("DELETE FROM menu_item_search WHERE rowid = ?1")
        .map_err(db)?
        .execute([rowid])
        .map_err(db)?;
    let codes = [item.sku.as_deref(), item.barcode.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    tx.prepare_cached(
        "INSERT INTO menu_item_search (rowid, name, description, codes) VALUES (?1, ?2, ?3, ?4)",
    )
    .map_err(db)?
    .execute(params![rowid, item.name, item.description, codes])
    .map_err(db)?;
    Ok(())
}

pub(crate) fn settings(conn: &Connection) -> Result<Option<Settings>, StoreError> {
    let row: Option<(String, String, String)> = conn
        .prepare_cached("SELECT name, currency, price_mode FROM menu_settings WHERE id = 1")
        .map_err(db)?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()
        .map_err(db)?;
    row.map(|(name, currency, mode)| {
        Ok(Settings {
            name,
            currency: Currency::from_code(&currency).map_err(corrupt)?,
            price_mode: mode_from(&mode)?,
        })
    })
    .transpose()
}

fn currency(conn: &Connection) -> Result<Currency, StoreError> {
    settings(conn)?
        .map(|s| s.currency)
        .ok_or_else(|| corrupt("menu rows exist but the restaurant has no settings"))
}

pub(crate) fn tax_category(
    conn: &Connection,
    tid: TaxCategoryId,
) -> Result<Option<TaxCategory>, StoreError> {
    let row: Option<(String, String)> = conn
        .prepare_cached("SELECT name, rates FROM menu_tax_category WHERE id = ?1")
        .map_err(db)?
        .query_row([&id_bytes(tid.0)[..]], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
        .map_err(db)?;
    row.map(|(name, rates)| {
        Ok(TaxCategory {
            id: tid,
            name,
            rates: rates_from(&rates)?,
        })
    })
    .transpose()
}

pub(crate) fn category(conn: &Connection, cid: CategoryId) -> Result<Option<Category>, StoreError> {
    let row: Option<(String, Option<Vec<u8>>)> = conn
        .prepare_cached("SELECT name, station FROM menu_category WHERE id = ?1")
        .map_err(db)?
        .query_row([&id_bytes(cid.0)[..]], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
        .map_err(db)?;
    row.map(|(name, station)| {
        Ok(Category {
            id: cid,
            name,
            station: station
                .map(|s| from_id(&s, "station").map(StationId))
                .transpose()?,
        })
    })
    .transpose()
}

pub(crate) fn modifier_group(
    conn: &Connection,
    gid: ModifierGroupId,
) -> Result<Option<ModifierGroup>, StoreError> {
    let row: Option<(String, u32, u32)> = conn
        .prepare_cached(
            "SELECT name, min_choices, max_choices FROM menu_modifier_group WHERE id = ?1",
        )
        .map_err(db)?
        .query_row([&id_bytes(gid.0)[..]], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()
        .map_err(db)?;
    let Some((name, min, max)) = row else {
        return Ok(None);
    };
    let c = currency(conn)?;
    let mut stmt = conn
        .prepare_cached("SELECT id, name, price_delta FROM menu_modifier_option WHERE group_id = ?1 ORDER BY position")
        .map_err(db)?;
    let mut rows = stmt.query([&id_bytes(gid.0)[..]]).map_err(db)?;
    let mut options = Vec::new();
    while let Some(r) = rows.next().map_err(db)? {
        let oid: Vec<u8> = r.get(0).map_err(db)?;
        options.push(ModifierOption {
            id: ModifierId(from_id(&oid, "modifier id")?),
            name: r.get(1).map_err(db)?,
            price_delta: Money::new(r.get(2).map_err(db)?, c),
        });
    }
    Ok(Some(ModifierGroup {
        id: gid,
        name,
        min,
        max,
        options,
    }))
}

type ItemRow = (
    Vec<u8>,
    String,
    String,
    Vec<u8>,
    Option<String>,
    Option<String>,
    i64,
    Vec<u8>,
    bool,
);

const ITEM_COLUMNS: &str =
    "id, name, description, category_id, sku, barcode, price, tax_category_id, available";

fn item_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ItemRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
    ))
}

fn complete_item(conn: &Connection, row: ItemRow, c: Currency) -> Result<Item, StoreError> {
    let (iid, name, description, category, sku, barcode, price, tax, available) = row;
    let mut channel_prices = Vec::new();
    let mut stmt = conn
        .prepare_cached(
            "SELECT channel, price FROM menu_item_price WHERE item_id = ?1 ORDER BY channel",
        )
        .map_err(db)?;
    let mut rows = stmt.query([&iid[..]]).map_err(db)?;
    while let Some(r) = rows.next().map_err(db)? {
        let channel: String = r.get(0).map_err(db)?;
        let channel = Channel::ALL
            .into_iter()
            .find(|ch| ch.name() == channel)
            .ok_or_else(|| corrupt(format!("unknown channel {channel:?}")))?;
        channel_prices.push((channel, Money::new(r.get(1).map_err(db)?, c)));
    }
    // Stored sorted by name; put back in the canonical channel order.
    channel_prices.sort_by_key(|(ch, _)| *ch);
    let mut variants = Vec::new();
    let mut stmt = conn
        .prepare_cached("SELECT id, name, price_delta FROM menu_item_variant WHERE item_id = ?1 ORDER BY position")
        .map_err(db)?;
    let mut rows = stmt.query([&iid[..]]).map_err(db)?;
    while let Some(r) = rows.next().map_err(db)? {
        let vid: Vec<u8> = r.get(0).map_err(db)?;
        variants.push(Variant {
            id: VariantId(from_id(&vid, "variant id")?),
            name: r.get(1).map_err(db)?,
            price_delta: Money::new(r.get(2).map_err(db)?, c),
        });
    }
    let mut modifier_groups = Vec::new();
    let mut stmt = conn
        .prepare_cached("SELECT group_id FROM menu_item_group WHERE item_id = ?1 ORDER BY position")
        .map_err(db)?;
    let mut rows = stmt.query([&iid[..]]).map_err(db)?;
    while let Some(r) = rows.next().map_err(db)? {
        let gid: Vec<u8> = r.get(0).map_err(db)?;
        modifier_groups.push(ModifierGroupId(from_id(&gid, "group id")?));
    }
    Ok(Item {
        id: ItemId(from_id(&iid, "item id")?),
        name,
        description,
        category: CategoryId(from_id(&category, "category id")?),
        sku,
        barcode,
        price: Money::new(price, c),
        channel_prices,
        tax_category: TaxCategoryId(from_id(&tax, "tax category id")?),
        variants,
        modifier_groups,
        available,
    })
}

pub(crate) fn item(conn: &Connection, iid: ItemId) -> Result<Option<Item>, StoreError> {
    let row = conn
        .query_row(
            &format!("SELECT {ITEM_COLUMNS} FROM menu_item WHERE id = ?1"),
            [&id_bytes(iid.0)[..]],
            item_row,
        )
        .optional()
        .map_err(db)?;
    match row {
        Some(row) => Ok(Some(complete_item(conn, row, currency(conn)?)?)),
        None => Ok(None),
    }
}

pub(crate) fn item_with_code(conn: &Connection, code: &str) -> Result<Option<ItemId>, StoreError> {
    let found: Option<Vec<u8>> = conn
        .prepare_cached("SELECT id FROM menu_item WHERE sku = ?1 OR barcode = ?1")
        .map_err(db)?
        .query_row([code], |r| r.get(0))
        .optional()
        .map_err(db)?;
    found
        .map(|b| from_id(&b, "item id").map(ItemId))
        .transpose()
}

/// Turns what a cashier typed into an FTS5 query of word prefixes: every word must match
/// the start of a word. Quotes keep user text from being read as FTS5 syntax.
fn fts_query(text: &str) -> Option<String> {
    let words: Vec<String> = search_words(text).map(|w| format!("\"{w}\"*")).collect();
    (!words.is_empty()).then(|| words.join(" "))
}

pub(crate) fn search(conn: &Connection, text: &str, limit: usize) -> Result<Vec<Item>, StoreError> {
    let Some(query) = fts_query(text) else {
        return Ok(Vec::new());
    };
    let c = match settings(conn)? {
        Some(s) => s.currency,
        None => return Ok(Vec::new()),
    };
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {} FROM menu_item_search s JOIN menu_item i ON i.rowid = s.rowid
             WHERE menu_item_search MATCH ?1 LIMIT ?2",
            ITEM_COLUMNS
                .split(", ")
                .map(|c| format!("i.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .map_err(db)?;
    let rows: Vec<ItemRow> = stmt
        .query_map(
            params![query, i64::try_from(limit).unwrap_or(i64::MAX)],
            item_row,
        )
        .map_err(db)?
        .collect::<Result<_, _>>()
        .map_err(db)?;
    let mut items: Vec<Item> = rows
        .into_iter()
        .map(|r| complete_item(conn, r, c))
        .collect::<Result<_, _>>()?;
    // Ranking every match (BM25) before the limit costs milliseconds when a short prefix
    // matches thousands of items; the first matches, in name order, serve a cashier who
    // keeps typing.
    items.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(items)
}

/// The ids in `table`, by name: the few tax categories, categories or modifier groups a
/// restaurant has.
fn ids_by_name(conn: &Connection, table: &str) -> Result<Vec<u128>, StoreError> {
    let mut stmt = conn
        .prepare_cached(&format!("SELECT id FROM {table} ORDER BY name, id"))
        .map_err(db)?;
    let rows = stmt.query_map([], |r| r.get::<_, Vec<u8>>(0)).map_err(db)?;
    rows.map(|r| from_id(&r.map_err(db)?, table)).collect()
}

pub(crate) fn tax_categories(conn: &Connection) -> Result<Vec<TaxCategory>, StoreError> {
    ids_by_name(conn, "menu_tax_category")?
        .into_iter()
        .filter_map(|i| tax_category(conn, TaxCategoryId(i)).transpose())
        .collect()
}

pub(crate) fn categories(conn: &Connection) -> Result<Vec<Category>, StoreError> {
    ids_by_name(conn, "menu_category")?
        .into_iter()
        .filter_map(|i| category(conn, CategoryId(i)).transpose())
        .collect()
}

pub(crate) fn modifier_groups(conn: &Connection) -> Result<Vec<ModifierGroup>, StoreError> {
    ids_by_name(conn, "menu_modifier_group")?
        .into_iter()
        .filter_map(|i| modifier_group(conn, ModifierGroupId(i)).transpose())
        .collect()
}

/// A page of a category's items by name (the index `menu_item_by_category` serves it).
pub(crate) fn category_items(
    conn: &Connection,
    cid: CategoryId,
    offset: usize,
    limit: usize,
) -> Result<Vec<Item>, StoreError> {
    let c = match settings(conn)? {
        Some(s) => s.currency,
        None => return Ok(Vec::new()),
    };
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {ITEM_COLUMNS} FROM menu_item WHERE category_id = ?1
             ORDER BY name, id LIMIT ?2 OFFSET ?3"
        ))
        .map_err(db)?;
    let rows: Vec<ItemRow> = stmt
        .query_map(
            params![
                &id_bytes(cid.0)[..],
                i64::try_from(limit).unwrap_or(i64::MAX),
                i64::try_from(offset).unwrap_or(i64::MAX)
            ],
            item_row,
        )
        .map_err(db)?
        .collect::<Result<_, _>>()
        .map_err(db)?;
    rows.into_iter()
        .map(|r| complete_item(conn, r, c))
        .collect()
}
