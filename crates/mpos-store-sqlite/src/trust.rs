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
