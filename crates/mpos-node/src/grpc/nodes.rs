//! The organization's nodes as staff see them: the list (where each sells, what this node
//! holds of it, when it was last heard from), invitations for new terminals, revocations.

use mpos_domain::Refusal;
use mpos_domain::staff::{Permission, Role};
use mpos_ledger::{NodeId, OrganizationId};
use mpos_proto::v1;
use mpos_store::{InventoryStore, LedgerStore, PosStore};
use tonic::{Request as GrpcRequest, Response, Status};

use super::{PosApi, request_id, status};
use crate::clock;
use crate::error::NodeError;
use crate::pairing::PairingCode;
use crate::pos::{Action, Request, TrustCommand};

fn node_id(bytes: &[u8]) -> Result<NodeId, Status> {
    <[u8; 16]>::try_from(bytes)
        .map(NodeId)
        .map_err(|_| Status::invalid_argument("node_id: a node id is 16 bytes"))
}

impl PosApi {
    pub(super) async fn organization_nodes(
        &self,
        request: GrpcRequest<v1::ListNodesRequest>,
    ) -> Result<Response<v1::ListNodesReply>, Status> {
        let actor = self.actor(&request)?;
        Self::require(actor, Permission::Reports, "see the organization's nodes")?;
        let nodes = self
            .read(|store| {
                let mut out = Vec::new();
                for node in store.organization_nodes()? {
                    let id = node.certificate.node.node_id();
                    let head = store.chain_head(id)?;
                    let last_heard = store
                        .latest_checkpoint(id)?
                        .map_or(0, |c| c.checkpoint.time.millis());
                    let location = store.sales_stock(id)?.map(|s| s.location);
                    let location_name = match location {
                        Some(l) => store.location(l)?.map(|l| l.name).unwrap_or_default(),
                        None => String::new(),
                    };
                    out.push(v1::NodeView {
                        node_id: id.0.to_vec(),
                        name: node.certificate.name.clone(),
                        public_key: node.certificate.node.to_bytes().to_vec(),
                        certified_at: node.certificate.issued,
                        location: location
                            .map(|l| l.0.to_be_bytes().to_vec())
                            .unwrap_or_default(),
                        location_name,
                        entries: head.map_or(0, |h| h.size()),
                        last_heard,
                        revoked: node.revoked.is_some(),
                        revoked_at: node.revoked.as_ref().map_or(0, |r| r.at),
                        revoked_reason: node
                            .revoked
                            .as_ref()
                            .map(|r| r.reason.clone())
                            .unwrap_or_default(),
                        entries_standing: node.revoked.as_ref().map_or(0, |r| r.after),
                    });
                }
                Ok(out)
            })
            .await?;
        Ok(Response::new(v1::ListNodesReply {
            nodes,
            organization: self
                .trust
                .root
                .map(|r| OrganizationId::of(&r).0.to_vec())
                .unwrap_or_default(),
            holds_root_key: self.trust.holds_root_key,
            node_id: self.node.0.to_vec(),
        }))
    }

    pub(super) async fn invite_terminal(
        &self,
        request: GrpcRequest<v1::InviteNodeRequest>,
    ) -> Result<Response<v1::InviteNodeReply>, Status> {
        let actor = self.actor(&request)?;
        if actor.role != Role::Owner {
            return Err(status(NodeError::Refused(Refusal::NotAllowed {
                role: actor.role.name(),
                action: "pair a new terminal".into(),
            })));
        }
        if !self.trust.holds_root_key {
            return Err(Status::failed_precondition(
                "this node does not hold the organization's root key: invite on the node the \
                 organization was founded on",
            ));
        }
        let name = request.into_inner().name;
        let (secret, expires_at) = self
            .invitations
            .lock()
            .map_err(|_| Status::internal("invitations poisoned"))?
            .invite(&name, actor, clock::now_millis())
            .map_err(status)?;
        let code = PairingCode {
            secret,
            fingerprint: crate::tls::fingerprint(&self.trust.key.public()),
        };
        tracing::info!(name = %name.trim(), by = %actor.staff, "invited a terminal to pair");
        Ok(Response::new(v1::InviteNodeReply {
            code: code.to_text(),
            expires_at,
            sync_address: self.sync_address().unwrap_or_default(),
        }))
    }

    pub(super) async fn revoke(
        &self,
        request: GrpcRequest<v1::RevokeNodeRequest>,
    ) -> Result<Response<v1::ChangeReply>, Status> {
        let actor = self.actor(&request)?;
        let r = request.into_inner();
        let id = request_id(&r.request_id)?;
        let node = node_id(&r.node_id)?;
        let applied = self
            .writer
            .apply(Request {
                id,
                action: Action::Trust(TrustCommand::Revoke {
                    node,
                    reason: r.reason,
                }),
                actor: Some(actor),
            })
            .await
            .map_err(status)?;
        Ok(Response::new(v1::ChangeReply {
            replayed: applied.replayed,
            first_seq: applied.first_seq,
            last_seq: applied.last_seq,
        }))
    }
}
