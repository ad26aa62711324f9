//! The organization's nodes as the ledger records them: a node's own certificate as the
//! first entry of its ledger, a new terminal paired (certified) by an owner on the node that
//! holds the organization's root key, and a node revoked there. Every trust event, a node's
//! own or a peer's, is checked against the organization's root key before it counts.

use std::collections::HashMap;

use mpos_domain::Event;
use mpos_domain::Refusal;
use mpos_domain::event::{TrustChange, TrustEvent};
use mpos_domain::staff::{Actor, Role};
use mpos_ledger::{NodeCertificate, NodeId, PublicKey, Revocation};
use mpos_store::{PosStore, TrustUpdate};

use super::{PosService, Staged};
use crate::error::NodeError;

/// What an owner asks of the organization's nodes.
#[derive(Debug, Clone)]
pub enum TrustCommand {
    /// Certifies `key` as `name`: a new terminal redeemed its invitation.
    Pair { key: PublicKey, name: String },
    /// Withdraws the organization's trust in `node`: the entries of it this node holds
    /// stand, later ones are refused everywhere.
    Revoke { node: NodeId, reason: String },
}

/// A trust event as checked: its signed statement, parsed.
#[derive(Debug, Clone)]
pub enum Trusted {
    Certified(NodeCertificate),
    Revoked {
        revocation: Revocation,
        reason: String,
    },
}

impl Trusted {
    pub fn update(&self) -> TrustUpdate<'_> {
        match self {
            Trusted::Certified(c) => TrustUpdate::Certified(c),
            Trusted::Revoked { revocation, reason } => TrustUpdate::Revoked { revocation, reason },
        }
    }

    /// Checks a trust event against the organization's root key.
    pub fn check(change: &TrustChange, root: &PublicKey) -> Result<Trusted, String> {
        match change {
            TrustChange::NodeCertified { certificate } => {
                let c = NodeCertificate::from_bytes(certificate).map_err(|e| e.to_string())?;
                c.verify(root)
                    .map_err(|e| format!("node certificate: {e}"))?;
                Ok(Trusted::Certified(c))
            }
            TrustChange::NodeRevoked { revocation, reason } => {
                let r = Revocation::from_bytes(revocation).map_err(|e| e.to_string())?;
                r.verify(root).map_err(|e| format!("revocation: {e}"))?;
                Ok(Trusted::Revoked {
                    revocation: r,
                    reason: reason.clone(),
                })
            }
        }
    }
}

/// The event that begins a certified node's ledger.
pub fn introduction(certificate: &NodeCertificate, now_millis: u64) -> Event {
    Event::Trust(TrustEvent {
        by: None,
        at: now_millis,
        change: TrustChange::NodeCertified {
            certificate: certificate.to_bytes(),
        },
    })
}

fn owner_only(actor: Actor, what: &str) -> Result<(), NodeError> {
    if actor.role != Role::Owner {
        return Err(Refusal::NotAllowed {
            role: actor.role.name(),
            action: what.into(),
        }
        .into());
    }
    Ok(())
}

impl<S: PosStore> PosService<S> {
    /// Begins a certified node's ledger with its certificate, if the ledger is empty: a
    /// node that only takes others' sales is known to its peers (its countersignatures
    /// can then be checked by anyone holding its ledger). Durable once the store syncs.
    pub fn introduce(&mut self, now_millis: u64) -> Result<(), NodeError> {
        let head = self.ledger.head();
        let Some(certificate) = self.ledger.identity().certificate().cloned() else {
            return Ok(());
        };
        if head.size() > 0 {
            return Ok(());
        }
        let mut staged = head.clone();
        let time = staged.last_hlc().max(self.observed).tick(now_millis);
        let entry = staged.append(
            time,
            mpos_proto::event::SCHEMA,
            &mpos_proto::event::encode(&introduction(&certificate, now_millis)),
        )?;
        let batch = mpos_store::LedgerBatch {
            key: self.ledger.key().public(),
            entries: vec![entry],
            checkpoint: staged.checkpoint(self.ledger.key())?,
            head: staged.clone(),
        };
        let projection = mpos_store::Projection {
            trust: vec![TrustUpdate::Certified(&certificate)],
            ..mpos_store::Projection::default()
        };
        self.ledger.store_mut().commit(&batch, &projection, &[])?;
        self.ledger.adopt(staged);
        Ok(())
    }

    /// Nodes revoked, with the entries of each that stand, as this node's store says.
    pub(super) fn revoked(&self) -> Result<HashMap<NodeId, u64>, NodeError> {
        if let Some(r) = self.cache.revoked.borrow().as_ref() {
            return Ok(r.clone());
        }
        let revoked = revocation_cuts(self.ledger.store())?;
        *self.cache.revoked.borrow_mut() = Some(revoked.clone());
        Ok(revoked)
    }

    pub(super) fn trust_events(
        &self,
        actor: Actor,
        command: &TrustCommand,
        trusted: &[Trusted],
        now_millis: u64,
    ) -> Result<Staged, NodeError> {
        let identity = self.ledger.identity();
        let root = identity.root_key().ok_or_else(|| {
            NodeError::BadRequest(
                "this node does not hold the organization's root key: pair and revoke nodes \
                 on the node the organization was founded on"
                    .into(),
            )
        })?;
        let store = self.ledger.store();
        let revoked = self.revoked()?;
        let revoked_in_batch = |node: NodeId| {
            revoked.contains_key(&node)
                || trusted.iter().any(
                    |t| matches!(t, Trusted::Revoked { revocation, .. } if revocation.node == node),
                )
        };
        let change = match command {
            TrustCommand::Pair { key, name } => {
                owner_only(actor, "pair a new terminal")?;
                if key.node_id() == identity.node_id() || revoked_in_batch(key.node_id()) {
                    return Err(NodeError::BadRequest(
                        "that key cannot be paired: it is this node's own, or it was revoked \
                         (a revoked terminal joins again with a new data directory)"
                            .into(),
                    ));
                }
                let certified = |k: &PublicKey| {
                    trusted
                        .iter()
                        .any(|t| matches!(t, Trusted::Certified(c) if c.node == *k))
                };
                if certified(key)
                    || store
                        .organization_nodes()?
                        .iter()
                        .any(|n| n.certificate.node == *key)
                {
                    return Err(NodeError::BadRequest(
                        "that terminal is paired already".into(),
                    ));
                }
                let certificate = NodeCertificate::issue(root, *key, name.trim(), now_millis)
                    .map_err(|e| NodeError::BadRequest(e.to_string()))?;
                TrustChange::NodeCertified {
                    certificate: certificate.to_bytes(),
                }
            }
            TrustCommand::Revoke { node, reason } => {
                owner_only(actor, "revoke a node")?;
                if reason.trim().is_empty() {
                    return Err(NodeError::BadRequest(
                        "say why the node is revoked (--reason)".into(),
                    ));
                }
                if *node == identity.node_id() {
                    return Err(NodeError::BadRequest(
                        "a node cannot revoke itself: the organization's root key lives here"
                            .into(),
                    ));
                }
                let known = store
                    .organization_nodes()?
                    .iter()
                    .any(|n| n.certificate.node.node_id() == *node)
                    || trusted
                        .iter()
                        .any(|t| matches!(t, Trusted::Certified(c) if c.node.node_id() == *node));
                if !known {
                    return Err(NodeError::NotFound(format!(
                        "no node {node} in this organization"
                    )));
                }
                if revoked_in_batch(*node) {
                    return Err(NodeError::BadRequest(format!(
                        "node {node} is revoked already"
                    )));
                }
                let held = store.chain_head(*node)?.map_or(0, |h| h.size());
                TrustChange::NodeRevoked {
                    revocation: Revocation::issue(root, *node, held, now_millis)
                        .to_bytes()
                        .to_vec(),
                    reason: reason.trim().to_string(),
                }
            }
        };
        Ok(Staged::events(vec![Event::Trust(TrustEvent {
            by: Some(actor.staff),
            at: now_millis,
            change,
        })]))
    }
}

/// Each revoked node with the entries of it that stand (its revocation's cut).
pub(crate) fn revocation_cuts<S: PosStore + ?Sized>(
    store: &S,
) -> Result<HashMap<NodeId, u64>, NodeError> {
    Ok(store
        .revocations()?
        .into_iter()
        .map(|r| (r.node, r.after))
        .collect())
}
