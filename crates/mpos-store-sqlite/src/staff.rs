//! Staff projection and the PIN-hash secret table.

use mpos_domain::ids::StaffId;
use mpos_domain::staff::{Role, StaffChange, StaffMember};
use mpos_store::{PinHash, StoreError};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::row::from_id;
use crate::{corrupt, db, sql_int};

pub(crate) fn save_change(tx: &Transaction<'_>, change: &StaffChange) -> Result<(), StoreError> {
    if let StaffChange::Put(m) = change {
        tx.prepare_cached(
            "INSERT INTO staff (id, name, role, active) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, role = excluded.role,
                active = excluded.active",
        )
        .map_err(db)?
        .execute(params![
            &m.id.0.to_be_bytes()[..],
            m.name,
            m.role.name(),
            m.active
        ])
        .map_err(db)?;
    }
    Ok(())
}

/// Keeps `pin` unless the stored hash was set later (ties go to the greater hash, so
/// every node keeps the same one).
pub(crate) fn save_pin(tx: &Transaction<'_>, pin: &PinHash) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO staff_pin (staff_id, hash, changed_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (staff_id) DO UPDATE SET hash = excluded.hash,
            changed_at = excluded.changed_at
         WHERE (excluded.changed_at, excluded.hash) > (staff_pin.changed_at, staff_pin.hash)",
    )
    .map_err(db)?
    .execute(params![
        &pin.staff.0.to_be_bytes()[..],
        pin.hash,
        sql_int(pin.changed_at)
    ])
    .map_err(db)?;
    Ok(())
}

pub(crate) fn pin_hashes(conn: &Connection) -> Result<Vec<PinHash>, StoreError> {
    crate::row::rows(
        conn,
        "SELECT staff_id, hash, changed_at FROM staff_pin ORDER BY staff_id",
        [],
        |r| {
            Ok(PinHash {
                staff: StaffId(crate::row::read_id(r, "staff_id")?),
                hash: crate::row::get(r, "hash")?,
                changed_at: crate::row::read_u64(r, "changed_at")?,
            })
        },
    )
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(Vec<u8>, String, String, bool)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

fn member_from(
    (id, name, role, active): (Vec<u8>, String, String, bool),
) -> Result<StaffMember, StoreError> {
    Ok(StaffMember {
        id: StaffId(from_id(&id, "staff id")?),
        name,
        role: Role::parse(&role).ok_or_else(|| corrupt(format!("unknown role {role:?}")))?,
        active,
    })
}

pub(crate) fn member(conn: &Connection, id: StaffId) -> Result<Option<StaffMember>, StoreError> {
    conn.prepare_cached("SELECT id, name, role, active FROM staff WHERE id = ?1")
        .map_err(db)?
        .query_row([&id.0.to_be_bytes()[..]], row)
        .optional()
        .map_err(db)?
        .map(member_from)
        .transpose()
}

pub(crate) fn all(conn: &Connection) -> Result<Vec<StaffMember>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT id, name, role, active FROM staff ORDER BY name")
        .map_err(db)?;
    let rows = stmt.query_map([], row).map_err(db)?;
    rows.map(|r| member_from(r.map_err(db)?)).collect()
}

pub(crate) fn pin_hash(conn: &Connection, id: StaffId) -> Result<Option<String>, StoreError> {
    conn.prepare_cached("SELECT hash FROM staff_pin WHERE staff_id = ?1")
        .map_err(db)?
        .query_row([&id.0.to_be_bytes()[..]], |r| r.get(0))
        .optional()
        .map_err(db)
}
