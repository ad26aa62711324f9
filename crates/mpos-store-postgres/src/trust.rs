//! The organization's nodes: certificates and revocations, as trust events recorded them.

use std::collections::HashMap;

use mpos_ledger::{NodeCertificate, NodeId};
use mpos_store::columns::{corrupt, sql_int};
use mpos_store::{OrganizationNode, RevokedNode, StoreError, TrustUpdate};
use postgres::{GenericClient, Row};

use crate::sql::{Sql, get, u64_at};

pub(crate) fn save_update<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    update: &TrustUpdate<'_>,
) -> Result<(), StoreError> {
    match update {
        TrustUpdate::Certified(c) => {
            // A node's own ledger and the ledger of the node that paired it both carry its
            // certificate: the first one read stands.
            sql.execute(
                "INSERT INTO organization_node (node_id, name, certified_at, certificate)
                 VALUES ($1, $2, $3, $4) ON CONFLICT (node_id) DO NOTHING",
                &[
                    &&c.node.node_id().0[..],
                    &c.name,
                    &sql_int(c.issued),
                    &c.to_bytes(),
                ],
            )?;
        }
        TrustUpdate::Revoked { revocation, reason } => {
            // The earliest cut stands if a node was revoked twice.
            sql.execute(
                "INSERT INTO node_revocation (node_id, standing, revoked_at, reason, revocation)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (node_id) DO UPDATE SET standing = excluded.standing,
                    revoked_at = excluded.revoked_at, reason = excluded.reason,
                    revocation = excluded.revocation
                 WHERE excluded.standing < node_revocation.standing",
                &[
                    &&revocation.node.0[..],
                    &sql_int(revocation.after),
                    &sql_int(revocation.time),
                    reason,
                    &&revocation.to_bytes()[..],
                ],
            )?;
        }
    }
    Ok(())
}

fn revoked(r: &Row) -> Result<RevokedNode, StoreError> {
    let node = <[u8; 16]>::try_from(get::<&[u8]>(r, "node_id")?)
        .map(NodeId)
        .map_err(|_| corrupt("a revoked node id is not 16 bytes"))?;
    Ok(RevokedNode {
        node,
        after: u64_at(r, "standing")?,
        at: u64_at(r, "revoked_at")?,
        reason: get(r, "reason")?,
    })
}

pub(crate) fn revocations<C: GenericClient>(
    sql: &mut Sql<'_, C>,
) -> Result<Vec<RevokedNode>, StoreError> {
    sql.query(
        "SELECT node_id, standing, revoked_at, reason FROM node_revocation ORDER BY revoked_at",
        &[],
    )?
    .iter()
    .map(revoked)
    .collect()
}

pub(crate) fn nodes<C: GenericClient>(
    sql: &mut Sql<'_, C>,
) -> Result<Vec<OrganizationNode>, StoreError> {
    let mut revoked: HashMap<NodeId, RevokedNode> =
        revocations(sql)?.into_iter().map(|r| (r.node, r)).collect();
    sql.query(
        "SELECT certificate FROM organization_node ORDER BY name, certified_at",
        &[],
    )?
    .iter()
    .map(|r| {
        let certificate = NodeCertificate::from_bytes(get::<&[u8]>(r, "certificate")?)
            .map_err(|e| corrupt(format!("a stored node certificate: {e}")))?;
        Ok(OrganizationNode {
            revoked: revoked.remove(&certificate.node.node_id()),
            certificate,
        })
    })
    .collect()
}

/// Records the change that now stands for each entity a batch put.
pub(crate) fn save_clock<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    clock: &mpos_store::clock::EntityClock,
) -> Result<(), StoreError> {
    sql.execute(
        "INSERT INTO entity_clock (kind, id, hlc, node_id) VALUES ($1, $2, $3, $4)
         ON CONFLICT (kind, id) DO UPDATE SET hlc = excluded.hlc, node_id = excluded.node_id",
        &[
            &clock.key.kind,
            &clock.key.id,
            &sql_int(clock.hlc),
            &&clock.node.0[..],
        ],
    )?;
    Ok(())
}

pub(crate) fn node_of(bytes: &[u8]) -> Result<NodeId, StoreError> {
    <[u8; 16]>::try_from(bytes)
        .map(NodeId)
        .map_err(|_| corrupt("a node id is not 16 bytes"))
}

pub(crate) fn entity_clocks<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    keys: &[mpos_store::clock::EntityKey],
) -> Result<Vec<mpos_store::clock::EntityClock>, StoreError> {
    let mut out = Vec::new();
    for key in keys {
        if let Some(r) = sql.query_opt(
            "SELECT hlc, node_id FROM entity_clock WHERE kind = $1 AND id = $2",
            &[&key.kind, &key.id],
        )? {
            out.push(mpos_store::clock::EntityClock {
                key: key.clone(),
                hlc: u64_at(&r, "hlc")?,
                node: node_of(get(&r, "node_id")?)?,
            });
        }
    }
    Ok(out)
}

/// Remembers a run of entries of `node` among which are events of an order.
pub(crate) fn save_order_entry<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    node: NodeId,
    order: mpos_domain::ids::OrderId,
    (first, last): (u64, u64),
) -> Result<(), StoreError> {
    sql.execute(
        "INSERT INTO order_event (order_id, node_id, first_seq, last_seq)
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        &[
            &&order.0.to_be_bytes()[..],
            &&node.0[..],
            &sql_int(first),
            &sql_int(last),
        ],
    )?;
    Ok(())
}

pub(crate) fn order_entries<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    order: mpos_domain::ids::OrderId,
) -> Result<Vec<(NodeId, u64, u64)>, StoreError> {
    sql.query(
        "SELECT node_id, first_seq, last_seq FROM request WHERE order_id = $1
         UNION ALL SELECT node_id, first_seq, last_seq FROM order_event WHERE order_id = $1",
        &[&&order.0.to_be_bytes()[..]],
    )?
    .iter()
    .map(|r| {
        Ok((
            node_of(get(r, "node_id")?)?,
            u64_at(r, "first_seq")?,
            u64_at(r, "last_seq")?,
        ))
    })
    .collect()
}

/// Records a PIN change a ledger entry holds.
pub(crate) fn save_pin_change<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    (staff, hlc, node): (mpos_domain::ids::StaffId, u64, NodeId),
) -> Result<(), StoreError> {
    sql.execute(
        "INSERT INTO pin_change (staff_id, hlc, node_id) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING",
        &[&&staff.0.to_be_bytes()[..], &sql_int(hlc), &&node.0[..]],
    )?;
    Ok(())
}

pub(crate) fn pin_changes<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    staff: mpos_domain::ids::StaffId,
) -> Result<Vec<(u64, NodeId)>, StoreError> {
    sql.query(
        "SELECT hlc, node_id FROM pin_change WHERE staff_id = $1",
        &[&&staff.0.to_be_bytes()[..]],
    )?
    .iter()
    .map(|r| Ok((u64_at(r, "hlc")?, node_of(get(r, "node_id")?)?)))
    .collect()
}
