//! The floor projection: the restaurant's tables.

use mpos_domain::floor::{FloorChange, Table};
use mpos_domain::ids::{LocationId, TableId};
use mpos_store::StoreError;
use rusqlite::{Connection, Transaction, params};

use crate::db;
use crate::row::{from_id, location_key};

pub(crate) fn save_change(tx: &Transaction<'_>, change: &FloorChange) -> Result<(), StoreError> {
    match change {
        FloorChange::TablePut(t) => {
            tx.prepare_cached(
                "INSERT INTO floor_table (id, name, seats, area, active, token, location)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, seats = excluded.seats,
                    area = excluded.area, active = excluded.active, token = excluded.token,
                    location = excluded.location",
            )
            .map_err(db)?
            .execute(params![
                &t.id.0.to_be_bytes()[..],
                t.name,
                t.seats,
                t.area,
                t.active,
                t.token,
                location_key(t.location)
            ])
            .map_err(db)?;
        }
    }
    Ok(())
}

/// Every table, in service or not, by area and then name.
pub(crate) fn all(conn: &Connection) -> Result<Vec<Table>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT id, name, seats, area, active, token, location FROM floor_table
             ORDER BY area, length(name), name",
        )
        .map_err(db)?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, u32>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, bool>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, Option<Vec<u8>>>(6)?,
            ))
        })
        .map_err(db)?;
    rows.map(|r| {
        let (id, name, seats, area, active, token, location) = r.map_err(db)?;
        Ok(Table {
            id: TableId(from_id(&id, "table id")?),
            name,
            seats,
            area,
            active,
            token,
            location: location
                .map(|l| from_id(&l, "table location").map(LocationId))
                .transpose()?,
        })
    })
    .collect()
}
