//! The organization's nodes: certificates and revocations, as trust events recorded them.

use mpos_ledger::{NodeCertificate, NodeId};
use mpos_store::{OrganizationNode, RevokedNode, StoreError, TrustUpdate};
use rusqlite::{Connection, Transaction, params};

use crate::row::{get, read_u64, rows};
use crate::{db, sql_int};

pub(crate) fn save_update(
    tx: &Transaction<'_>,
    update: &TrustUpdate<'_>,
) -> Result<(), StoreError> {
    match update {
        TrustUpdate::Certified(c) => {
            // A node's own ledger and the ledger of the node that paired it both carry its
            // certificate: the first one read stands.
            tx.prepare_cached(
                "INSERT INTO organization_node (node_id, name, certified_at, certificate)
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT (node_id) DO NOTHING",
            )
            .map_err(db)?
            .execute(params![
                &c.node.node_id().0[..],
                c.name,
                sql_int(c.issued),
                c.to_bytes()
            ])
            .map_err(db)?;
        }
        TrustUpdate::Revoked { revocation, reason } => {
            // The earliest cut stands if a node was revoked twice.
            tx.prepare_cached(
                "INSERT INTO node_revocation (node_id, standing, revoked_at, reason, revocation)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (node_id) DO UPDATE SET standing = excluded.standing,
                    revoked_at = excluded.revoked_at, reason = excluded.reason,
                    revocation = excluded.revocation
                 WHERE excluded.standing < node_revocation.standing",
            )
            .map_err(db)?
            .execute(params![
                &revocation.node.0[..],
                sql_int(revocation.after),
                sql_int(revocation.time),
                reason,
                &revocation.to_bytes()[..]
            ])
            .map_err(db)?;
        }
    }
    Ok(())
}

fn revoked(r: &rusqlite::Row<'_>) -> Result<RevokedNode, StoreError> {
    let id: Vec<u8> = get(r, "node_id")?;
    let node = <[u8; 16]>::try_from(id.as_slice())
        .map(NodeId)
        .map_err(|_| StoreError::Corrupt("a revoked node id is not 16 bytes".into()))?;
    Ok(RevokedNode {
        node,
        after: read_u64(r, "standing")?,
        at: read_u64(r, "revoked_at")?,
        reason: get(r, "reason")?,
    })
}

pub(crate) fn revocations(conn: &Connection) -> Result<Vec<RevokedNode>, StoreError> {
    rows(
        conn,
        "SELECT node_id, standing, revoked_at, reason FROM node_revocation ORDER BY revoked_at",
        [],
        revoked,
    )
}

pub(crate) fn nodes(conn: &Connection) -> Result<Vec<OrganizationNode>, StoreError> {
    let mut revoked: std::collections::HashMap<NodeId, RevokedNode> = revocations(conn)?
        .into_iter()
        .map(|r| (r.node, r))
        .collect();
    rows(
        conn,
        "SELECT certificate FROM organization_node ORDER BY name, certified_at",
        [],
        |r| {
            let bytes: Vec<u8> = get(r, "certificate")?;
            let certificate = NodeCertificate::from_bytes(&bytes)
                .map_err(|e| StoreError::Corrupt(format!("a stored node certificate: {e}")))?;
            Ok(OrganizationNode {
                revoked: revoked.remove(&certificate.node.node_id()),
                certificate,
            })
        },
    )
}

/// Records the change that now stands for each entity a batch put.
pub(crate) fn save_clock(
    tx: &Transaction<'_>,
    clock: &mpos_store::clock::EntityClock,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO entity_clock (kind, id, hlc, node_id) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (kind, id) DO UPDATE SET hlc = excluded.hlc, node_id = excluded.node_id",
    )
    .map_err(db)?
    .execute(params![
        clock.key.kind,
        clock.key.id,
        sql_int(clock.hlc),
        &clock.node.0[..]
    ])
    .map_err(db)?;
    Ok(())
}

pub(crate) fn entity_clocks(
    conn: &Connection,
    keys: &[mpos_store::clock::EntityKey],
) -> Result<Vec<mpos_store::clock::EntityClock>, StoreError> {
    let mut out = Vec::new();
    for key in keys {
        out.extend(rows(
            conn,
            "SELECT hlc, node_id FROM entity_clock WHERE kind = ?1 AND id = ?2",
            params![key.kind, key.id],
            |r| {
                Ok(mpos_store::clock::EntityClock {
                    key: key.clone(),
                    hlc: read_u64(r, "hlc")?,
                    node: node_of(get(r, "node_id")?)?,
                })
            },
        )?);
    }
    Ok(out)
}

pub(crate) fn node_of(bytes: Vec<u8>) -> Result<NodeId, StoreError> {
    <[u8; 16]>::try_from(bytes.as_slice())
        .map(NodeId)
        .map_err(|_| StoreError::Corrupt("a node id is not 16 bytes".into()))
}

/// Remembers a run of entries of `node` among which are events of an order.
pub(crate) fn save_order_entry(
    tx: &Transaction<'_>,
    node: NodeId,
    order: mpos_domain::ids::OrderId,
    (first, last): (u64, u64),
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT OR IGNORE INTO order_event (order_id, node_id, first_seq, last_seq)
         VALUES (?1, ?2, ?3, ?4)",
    )
    .map_err(db)?
    .execute(params![
        &order.0.to_be_bytes()[..],
        &node.0[..],
        sql_int(first),
        sql_int(last)
    ])
    .map_err(db)?;
    Ok(())
}

pub(crate) fn order_entries(
    conn: &Connection,
    order: mpos_domain::ids::OrderId,
) -> Result<Vec<(NodeId, u64, u64)>, StoreError> {
    rows(
        conn,
        "SELECT node_id, first_seq, last_seq FROM request WHERE order_id = ?1
         UNION ALL SELECT node_id, first_seq, last_seq FROM order_event WHERE order_id = ?1",
        [&order.0.to_be_bytes()[..]],
        |r| {
            Ok((
                node_of(get(r, "node_id")?)?,
                read_u64(r, "first_seq")?,
                read_u64(r, "last_seq")?,
            ))
        },
    )
}

/// Records a PIN change a ledger entry holds.
pub(crate) fn save_pin_change(
    tx: &Transaction<'_>,
    (staff, hlc, node): (mpos_domain::ids::StaffId, u64, NodeId),
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT OR IGNORE INTO pin_change (staff_id, hlc, node_id) VALUES (?1, ?2, ?3)",
    )
    .map_err(db)?
    .execute(params![
        &staff.0.to_be_bytes()[..],
        sql_int(hlc),
        &node.0[..]
    ])
    .map_err(db)?;
    Ok(())
}

pub(crate) fn pin_changes(
    conn: &Connection,
    staff: mpos_domain::ids::StaffId,
) -> Result<Vec<(u64, NodeId)>, StoreError> {
    rows(
        conn,
        "SELECT hlc, node_id FROM pin_change WHERE staff_id = ?1",
        [&staff.0.to_be_bytes()[..]],
        |r| Ok((read_u64(r, "hlc")?, node_of(get(r, "node_id")?)?)),
    )
}
