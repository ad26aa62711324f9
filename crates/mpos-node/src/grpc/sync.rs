//! `mpos.v1.Sync`, both sides of replication. Serving: what this node holds of each
//! node's ledger (`Heads`), the committed batches a peer lacks (`Pull`), merged across
//! nodes in the order of their checkpoints' times, and pairing (`Join`). A node that saw
//! another's entry before writing its own has a later clock, so a peer receives what an
//! entry builds on (an order's opening on another terminal) before the entry itself.
//! Pulling: `PosApi::pull_from`, for as long as the node runs.
//!
//! Only nodes of this node's organization are answered or pulled from: each side shows
//! its node key in TLS (`crate::tls`) and its certificate in the call (the caller in
//! `mpos-certificate-bin`, the answering node in `HeadsReply`), and the certificate must
//! name that key, be signed by the organization's root key and not be revoked.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mpos_domain::Event;
use mpos_domain::event::TrustChange;
use mpos_domain::ids::{OrderId, StaffId};
use mpos_ledger::{NodeCertificate, NodeId, PublicKey, WitnessSignature};
use mpos_proto::v1::{self, sync_client::SyncClient, sync_server::Sync};
use mpos_store::{LedgerStore, PinHash, PosStore};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::metadata::MetadataValue;
use tonic::{Request, Response, Status};

use super::PosApi;
use crate::clock;
use crate::error::NodeError;
use crate::metrics::Metrics;
use crate::pos::{
    Action, FromPeer, PeerBatch, Request as NodeRequest, TrustCommand, VerifiedApart, Verifier,
    Witnessed, batches_after, check_receipts_with, receipt_evidence,
};
use crate::tls::PeerConnection;

/// Most receipt codes asked for in one call.
const MAX_RECEIPTS: usize = 1_000;
/// How many orders still without their receipt code a pull asks for again when it starts.
const RECEIPTS_ASKED_AGAIN: usize = 10 * MAX_RECEIPTS;
/// How long a peer may take to send the receipt codes asked for.
const RECEIPTS_WAIT: Duration = Duration::from_secs(30);
/// How long a pull whose stream ended cleanly waits for the codes still being taken.
const RECEIPTS_DRAIN: Duration = Duration::from_secs(60);

/// The metadata that carries a caller's node certificate.
pub const CERTIFICATE_HEADER: &str = "mpos-certificate-bin";

/// Batches read from the store at a time for one node of a pull.
const READ_AHEAD: usize = 64;

/// The service behind `mpos.v1.Sync`; it shares the register's node handles.
#[derive(Debug, Clone)]
pub struct SyncApi {
    pos: PosApi,
}

impl SyncApi {
    pub fn new(pos: PosApi) -> SyncApi {
        SyncApi { pos }
    }
}

impl PosApi {
    /// Checks a certificate against the organization: issued by its root key for `key`, and
    /// not revoked as far as this node knows.
    async fn check_member(
        &self,
        certificate: &[u8],
        key: PublicKey,
    ) -> Result<NodeCertificate, Status> {
        let root = self.trust.root.ok_or_else(|| {
            Status::failed_precondition("this node belongs to no organization: it does not sync")
        })?;
        let certificate = NodeCertificate::from_bytes(certificate)
            .map_err(|e| Status::unauthenticated(format!("node certificate: {e}")))?;
        certificate.verify_for(&root, &key).map_err(|e| {
            Status::permission_denied(format!("not a node of this organization: {e}"))
        })?;
        self.still_member(key.node_id()).await?;
        Ok(certificate)
    }

    /// Refuses a node the organization revoked. Checked again while a sync connection
    /// stays open, so a revocation heard meanwhile ends it.
    async fn still_member(&self, node: NodeId) -> Result<(), Status> {
        let revoked = self
            .read(move |store| Ok(store.revocations()?.into_iter().any(|r| r.node == node)))
            .await?;
        if revoked {
            return Err(Status::permission_denied(format!(
                "node {node} was revoked by the organization"
            )));
        }
        Ok(())
    }
}

impl SyncApi {
    /// The node calling: the key it showed in TLS, with the certificate it sent for it.
    async fn caller<T>(&self, request: &Request<T>) -> Result<NodeCertificate, Status> {
        let peer = request
            .extensions()
            .get::<PeerConnection>()
            .ok_or_else(|| Status::unauthenticated("sync is answered over TLS only"))?;
        let certificate = request
            .metadata()
            .get_bin(CERTIFICATE_HEADER)
            .ok_or_else(|| {
                Status::unauthenticated(format!(
                    "send the node's certificate in {CERTIFICATE_HEADER}"
                ))
            })?
            .to_bytes()
            .map_err(|_| Status::unauthenticated("the node certificate is not base64"))?;
        self.pos.check_member(&certificate, peer.key).await
    }
}

fn node_id(bytes: &[u8]) -> Result<NodeId, Status> {
    let array: [u8; 16] = bytes
        .try_into()
        .map_err(|_| Status::invalid_argument("a node id is 16 bytes"))?;
    Ok(NodeId(array))
}

/// One node's part of a pull: what the peer holds, what was read and not sent yet, and
/// whether the store has more.
struct Cursor {
    key: PublicKey,
    held: u64,
    /// Where this pull stops for the node: what the store held when it started, or the
    /// revocation's cut.
    until: u64,
    queue: VecDeque<PeerBatch>,
    more: bool,
}

/// Every node whose ledger this store holds, with how many of its entries.
fn holding(store: &impl PosStore) -> Result<Vec<(PublicKey, u64)>, NodeError> {
    let mut out = Vec::new();
    for key in store.node_keys()? {
        let size = store.chain_head(key.node_id())?.map_or(0, |h| h.size());
        out.push((key, size));
    }
    Ok(out)
}

/// Every node this store holds more of than `held` says, with what the peer holds. A
/// revoked node's entries go only up to its revocation's cut: what this node took of it
/// beyond, before it heard of the revocation, stays here and goes nowhere.
fn cursors(store: &impl PosStore, held: &HashMap<NodeId, u64>) -> Result<Vec<Cursor>, NodeError> {
    let cuts = crate::pos::revocation_cuts(store)?;
    Ok(holding(store)?
        .into_iter()
        .filter_map(|(key, size)| {
            let have = held.get(&key.node_id()).copied().unwrap_or(0);
            let size = cuts.get(&key.node_id()).map_or(size, |&cut| size.min(cut));
            (size > have).then(|| Cursor {
                key,
                held: have,
                until: size,
                queue: VecDeque::new(),
                more: true,
            })
        })
        .collect())
}

impl PosApi {
    /// Sends everything the store holds beyond `held`, oldest checkpoint time first across
    /// nodes (a k-way merge: a node's next batch goes only once no other node has an
    /// earlier one), updating `held` as it goes. Returns false when the peer left.
    async fn send_lacking(
        &self,
        held: &mut HashMap<NodeId, u64>,
        tx: &mpsc::Sender<Result<v1::SyncBatch, Status>>,
    ) -> Result<bool, Status> {
        let wanted = held.clone();
        let mut cursors = self.read(move |store| cursors(store, &wanted)).await?;
        // This node's own entries go out only once they are on disk here: a peer must never
        // hold an entry that power loss could take from its writer, who would then write
        // another entry under the same seq. Other nodes' entries are durable where they
        // were written, and a copy lost here is pulled again.
        let durable = self.writer.durable().get();
        loop {
            for c in cursors.iter_mut().filter(|c| c.queue.is_empty() && c.more) {
                let (key, from) = (c.key, c.held);
                let mut read = self
                    .read(move |store| Ok(batches_after(store, &key, from, READ_AHEAD)?))
                    .await?;
                c.more = read.len() == READ_AHEAD;
                let until = if key.node_id() == self.node {
                    c.until.min(durable)
                } else {
                    c.until
                };
                let before = read.len();
                read.retain(|b| b.checkpoint.checkpoint.tree_size <= until);
                c.more &= read.len() == before;
                c.queue.extend(read);
            }
            cursors.retain(|c| !c.queue.is_empty());
            let Some(next) = cursors
                .iter_mut()
                .min_by_key(|c| c.queue.front().map(|b| b.checkpoint.checkpoint.time))
            else {
                return Ok(true);
            };
            let Some(batch) = next.queue.pop_front() else {
                return Ok(true);
            };
            next.held = batch.checkpoint.checkpoint.tree_size;
            held.insert(next.key.node_id(), next.held);
            let message = v1::SyncBatch {
                public_key: batch.key.to_bytes().to_vec(),
                entries: batch.entries,
                checkpoint: batch.checkpoint.to_bytes().to_vec(),
            };
            Metrics::add(
                &self.metrics.sync_sent_bytes,
                prost::Message::encoded_len(&message) as u64,
            );
            Metrics::add(
                &self.metrics.sync_sent_entries,
                message.entries.len() as u64,
            );
            if tx.send(Ok(message)).await.is_err() {
                return Ok(false);
            }
        }
    }
}

#[tonic::async_trait]
impl Sync for SyncApi {
    async fn heads(
        &self,
        request: Request<v1::HeadsRequest>,
    ) -> Result<Response<v1::HeadsReply>, Status> {
        self.caller(&request).await?;
        let node = self.pos.node;
        let heads = self
            .pos
            .read(move |store| {
                let mut heads = Vec::new();
                for (key, size) in holding(store)? {
                    let checkpoint = store
                        .latest_checkpoint(key.node_id())?
                        .map(|c| c.to_bytes().to_vec())
                        .unwrap_or_default();
                    heads.push(v1::NodeHead {
                        public_key: key.to_bytes().to_vec(),
                        size,
                        checkpoint,
                    });
                }
                Ok(heads)
            })
            .await?;
        Ok(Response::new(v1::HeadsReply {
            node_id: node.0.to_vec(),
            heads,
            certificate: self
                .pos
                .trust
                .certificate
                .as_ref()
                .map(NodeCertificate::to_bytes)
                .unwrap_or_default(),
        }))
    }

    type PullStream = ReceiverStream<Result<v1::SyncBatch, Status>>;

    async fn pull(
        &self,
        request: Request<v1::PullRequest>,
    ) -> Result<Response<Self::PullStream>, Status> {
        let caller = self.caller(&request).await?;
        tracing::info!(peer = %caller.node.node_id(), name = %caller.name, "a peer pulls");
        let request = request.into_inner();
        let mut held = HashMap::new();
        for h in &request.held {
            held.insert(node_id(&h.node_id)?, h.size);
        }
        let follow = request.follow;
        let (tx, rx) = mpsc::channel(16);
        let api = self.pos.clone();
        let mut durable = api.writer.durable().watch();
        let mut closing = api.closing.subscribe();
        let caller = caller.node.node_id();
        tokio::spawn(async move {
            loop {
                durable.borrow_and_update();
                if let Err(e) = api.still_member(caller).await {
                    tracing::warn!(peer = %caller, "ending the pull of a node revoked meanwhile");
                    let _ = tx.send(Err(e)).await;
                    return;
                }
                match api.send_lacking(&mut held, &tx).await {
                    Ok(true) => {}
                    Ok(false) => return,
                    Err(e) => {
                        let _ = tx.send(Err(e)).await;
                        return;
                    }
                }
                if !follow {
                    return;
                }
                tokio::select! {
                    changed = durable.changed() => {
                        if changed.is_err() {
                            return;
                        }
                    }
                    () = tx.closed() => return,
                    _ = closing.wait_for(|c| *c) => return,
                }
            }
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }

    async fn join(
        &self,
        request: Request<v1::JoinRequest>,
    ) -> Result<Response<v1::JoinReply>, Status> {
        let peer = *request
            .extensions()
            .get::<PeerConnection>()
            .ok_or_else(|| Status::unauthenticated("pairing is answered over TLS only"))?;
        if !self.pos.trust.holds_root_key {
            return Err(Status::failed_precondition(
                "this node does not hold the organization's root key: join through the node \
                 that printed the code",
            ));
        }
        let secret = &request.get_ref().secret;
        let invitation = self
            .pos
            .invitations
            .lock()
            .map_err(|_| Status::internal("invitations poisoned"))?
            .redeem(secret, clock::now_millis());
        let invitation = invitation.map_err(|e| {
            tracing::warn!(from = %peer.addr, "a pairing attempt with a wrong code");
            Status::permission_denied(e.to_string())
        })?;
        // A terminal whose first try was certified but never heard the answer asks again
        // with its same key: it gets the certificate it has, not a second one.
        let key = peer.key;
        let paired = self
            .pos
            .read(move |store| {
                Ok(store
                    .organization_nodes()?
                    .into_iter()
                    .find(|n| n.certificate.node == key))
            })
            .await?;
        if let Some(node) = paired {
            if node.revoked.is_some() {
                return Err(Status::permission_denied(
                    "that terminal's key was revoked: join with a new data directory",
                ));
            }
            tracing::info!(node = %key.node_id(), name = %node.certificate.name, "a paired terminal asked for its certificate again");
            return Ok(Response::new(v1::JoinReply {
                certificate: node.certificate.to_bytes(),
            }));
        }
        let mut id = [0u8; 16];
        getrandom::fill(&mut id).map_err(|e| Status::internal(format!("no randomness: {e}")))?;
        let applied = self
            .pos
            .writer
            .apply(NodeRequest {
                id: u128::from_be_bytes(id),
                action: Action::Trust(TrustCommand::Pair {
                    key: peer.key,
                    name: invitation.name.clone(),
                }),
                actor: Some(invitation.by),
            })
            .await;
        let applied = match applied {
            Ok(a) => a,
            Err(e) => {
                // Nothing was written: the code the owner printed still works.
                if let Ok(mut open) = self.pos.invitations.lock() {
                    open.restore(secret, invitation);
                }
                return Err(super::status(e));
            }
        };
        let certificate = applied
            .events
            .iter()
            .find_map(|e| match e {
                Event::Trust(t) => match &t.change {
                    TrustChange::NodeCertified { certificate } => Some(certificate.clone()),
                    TrustChange::NodeRevoked { .. } => None,
                },
                _ => None,
            })
            .ok_or_else(|| Status::internal("pairing recorded no certificate"))?;
        tracing::info!(node = %peer.key.node_id(), name = %invitation.name, from = %peer.addr, "paired a terminal");
        Ok(Response::new(v1::JoinReply { certificate }))
    }

    async fn witness(
        &self,
        request: Request<v1::WitnessRequest>,
    ) -> Result<Response<v1::WitnessReply>, Status> {
        let certificate = self.caller(&request).await?;
        let caller = certificate.node.node_id();
        let witnesses = request
            .into_inner()
            .witnesses
            .iter()
            .map(countersigned)
            .collect::<Result<Vec<_>, _>>()?;
        if witnesses.iter().any(|w| w.signature.witness != caller) {
            return Err(Status::permission_denied(
                "a node hands over its own countersignatures only",
            ));
        }
        let done = self
            .pos
            .writer
            .replicate(FromPeer {
                witnesses,
                witness: Some(certificate),
                ..FromPeer::default()
            })
            .await
            .map_err(super::status)?;
        Ok(Response::new(v1::WitnessReply {
            kept: done.witnesses_kept,
        }))
    }

    async fn receipts(
        &self,
        request: Request<v1::ReceiptsRequest>,
    ) -> Result<Response<v1::ReceiptsReply>, Status> {
        self.caller(&request).await?;
        let orders = request.into_inner().orders;
        if orders.len() > MAX_RECEIPTS {
            return Err(Status::invalid_argument(format!(
                "at most {MAX_RECEIPTS} orders at a time"
            )));
        }
        let orders = orders
            .iter()
            .map(|o| {
                <[u8; 16]>::try_from(o.as_slice())
                    .map(|b| OrderId(u128::from_be_bytes(b)))
                    .map_err(|_| Status::invalid_argument("an order id is 16 bytes"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let receipts = self
            .pos
            .read(move |store| {
                let mut out = Vec::new();
                for order in orders {
                    if let Some(code) = store.receipt_code(order)? {
                        out.push(v1::OrderReceipt {
                            order: order.0.to_be_bytes().to_vec(),
                            code,
                        });
                    }
                }
                Ok(out)
            })
            .await?;
        Ok(Response::new(v1::ReceiptsReply { receipts }))
    }

    async fn pins(
        &self,
        request: Request<v1::PinsRequest>,
    ) -> Result<Response<v1::PinsReply>, Status> {
        self.caller(&request).await?;
        let pins = self.pos.read(|store| Ok(store.pin_hashes()?)).await?;
        Ok(Response::new(v1::PinsReply {
            pins: pins
                .into_iter()
                .map(|p| v1::StaffPin {
                    staff: p.staff.0.to_be_bytes().to_vec(),
                    hash: p.hash,
                    changed_at: p.changed_at,
                })
                .collect(),
        }))
    }
}

/// A `SyncBatch` as received, before verification.
pub fn peer_batch(message: v1::SyncBatch) -> Result<PeerBatch, Status> {
    let key: [u8; 32] = message
        .public_key
        .as_slice()
        .try_into()
        .map_err(|_| Status::invalid_argument("a public key is 32 bytes"))?;
    let key = PublicKey::from_bytes(&key).map_err(|e| Status::invalid_argument(e.to_string()))?;
    let checkpoint = mpos_ledger::SignedCheckpoint::from_bytes(&message.checkpoint)
        .map_err(|e| Status::invalid_argument(e.to_string()))?;
    Ok(PeerBatch {
        key,
        entries: message.entries,
        checkpoint,
    })
}

/// A countersignature as received.
fn countersigned(c: &v1::Countersigned) -> Result<Witnessed, Status> {
    Ok(Witnessed {
        node: node_id(&c.node_id)?,
        tree_size: c.tree_size,
        signature: WitnessSignature::from_bytes(&c.signature)
            .map_err(|e| Status::invalid_argument(e.to_string()))?,
    })
}

/// A peer's PIN hashes as received: 16-byte staff ids and argon2 PHC strings, or refused.
fn peer_pins(reply: v1::PinsReply) -> Result<Vec<PinHash>, Status> {
    reply
        .pins
        .into_iter()
        .map(|p| {
            let staff = <[u8; 16]>::try_from(p.staff.as_slice())
                .map(|b| StaffId(u128::from_be_bytes(b)))
                .map_err(|_| Status::invalid_argument("a staff id is 16 bytes"))?;
            if !p.hash.starts_with("$argon2") || p.hash.len() > 512 {
                return Err(Status::invalid_argument(
                    "a PIN hash is an argon2 PHC string",
                ));
            }
            Ok(PinHash {
                staff,
                hash: p.hash,
                changed_at: p.changed_at,
            })
        })
        .collect()
}

/// How often a following pull asks for the peer's PIN hashes even when no PIN change came
/// through it (one may have reached the peer from a third node after the change itself).
const PIN_REFRESH: Duration = Duration::from_secs(30);

/// How long a puller waits before trying a peer again: doubling from the first to the
/// last after each failure, back to the first once a pull works.
const RETRY_FIRST: Duration = Duration::from_millis(250);
const RETRY_LAST: Duration = Duration::from_secs(30);
/// Most batches handed to the writer at once.
const REPLICATE_AT_ONCE: usize = 256;
/// Messages a pull has queued to the writer and not had answered yet: with two, the
/// writer commits the next while the one before waits for its sync (`Writer`), instead of
/// idling through every sync and the puller's round trip.
const COMMITS_AHEAD: usize = 2;

/// The writer's answer to a message a pull queued.
type Committing = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<crate::pos::Replicated, NodeError>> + Send>,
>;

impl PosApi {
    /// Pulls from `peer` (`host:port`) for as long as the node runs: everything it holds
    /// that this node lacks, then each batch as it becomes durable there. Starts again by
    /// itself after any failure, from what this node holds then, waiting longer each time.
    /// Aborting the returned handle stops it, and the taking of receipt codes with it.
    pub fn pull_from(&self, peer: String) -> tokio::task::AbortHandle {
        let api = self.clone();
        let pulling = tokio::spawn(async move {
            let mut closing = api.closing.subscribe();
            let mut wait = RETRY_FIRST;
            loop {
                let pulled = tokio::select! {
                    r = api.pull_once(&peer) => r,
                    _ = closing.wait_for(|c| *c) => return,
                };
                // A pull that ended cleanly (the peer stopped) is tried again after the first
                // wait too: a peer that ends every stream at once must not be called in a
                // tight loop.
                let pause = match pulled {
                    Ok(()) => {
                        wait = RETRY_FIRST;
                        wait
                    }
                    Err(e) => {
                        tracing::warn!(%peer, error = %e, retry_in_ms = wait.as_millis() as u64, "sync with a peer failed");
                        let pause = wait;
                        wait = (wait * 2).min(RETRY_LAST);
                        pause
                    }
                };
                tokio::select! {
                    () = tokio::time::sleep(pause) => {}
                    _ = closing.wait_for(|c| *c) => return,
                }
            }
        });
        pulling.abort_handle()
    }

    /// One pull: connects over TLS, checks the peer is a node of the organization, asks
    /// for what this node lacks and follows until the stream ends. A peer's refused
    /// message ends it too (the next pull asks again from what is held, and a peer that
    /// keeps sending forgeries keeps being refused).
    async fn pull_once(&self, peer: &str) -> Result<(), NodeError> {
        let failed = |e: &dyn std::fmt::Display| NodeError::Unavailable(format!("{peer}: {e}"));
        let certificate = self
            .trust
            .certificate
            .as_ref()
            .map(NodeCertificate::to_bytes)
            .ok_or_else(|| NodeError::BadRequest("this node has no certificate".into()))?;
        let seen = Arc::new(Mutex::new(None));
        let tls = crate::tls::pinning_first_key(&self.trust.key)?;
        let channel = crate::tls::channel(tls, peer.to_string(), seen.clone())
            .await
            .map_err(|e| failed(&e))?;
        let header = MetadataValue::from_bytes(&certificate);
        let mut client = SyncClient::with_interceptor(channel, move |mut r: Request<()>| {
            r.metadata_mut()
                .insert_bin(CERTIFICATE_HEADER, header.clone());
            Ok(r)
        })
        .max_decoding_message_size(64 << 20);
        let theirs = client
            .heads(v1::HeadsRequest {})
            .await
            .map_err(|e| failed(&e.message()))?
            .into_inner()
            .certificate;
        let key = seen
            .lock()
            .ok()
            .and_then(|k| *k)
            .ok_or_else(|| failed(&"the peer showed no node key"))?;
        let theirs = self
            .check_member(&theirs, key)
            .await
            .map_err(|e| failed(&e.message()))?;
        let held = self
            .read(|store| {
                Ok(holding(store)?
                    .into_iter()
                    .map(|(key, size)| v1::Held {
                        node_id: key.node_id().0.to_vec(),
                        size,
                    })
                    .collect())
            })
            .await
            .map_err(|e| failed(&e.message()))?;
        let mut stream = client
            .pull(v1::PullRequest { held, follow: true })
            .await
            .map_err(|e| failed(&e.message()))?
            .into_inner();
        tracing::info!(%peer, node = %key.node_id(), name = %theirs.name, "pulling from a peer");
        // The stream is read and verified on a task of its own: a message is verified (chain,
        // checkpoint signatures, certificates, decoding) while the writer commits the ones
        // before, and what already arrived goes to the writer together, one commit per
        // node's run instead of one per batch.
        let root = self
            .trust
            .root
            .ok_or_else(|| NodeError::BadRequest("this node belongs to no organization".into()))?;
        let own = self.node;
        let verifier = self
            .read(move |store| Verifier::new(store, own, root))
            .await
            .map_err(|e| failed(&e.message()))?;
        let (arrived, mut inbox) =
            mpsc::channel::<Result<VerifiedApart, NodeError>>(REPLICATE_AT_ONCE);
        let reading = {
            let (api, peer) = (self.clone(), peer.to_string());
            tokio::spawn(async move {
                let failed =
                    |e: &dyn std::fmt::Display| NodeError::Unavailable(format!("{peer}: {e}"));
                let mut verifier = Some(verifier);
                loop {
                    let next = match stream.message().await {
                        Ok(Some(m)) => peer_batch(m).map_err(|e| failed(&e.message())),
                        Ok(None) => return,
                        Err(e) => Err(failed(&e.message())),
                    };
                    let verified = match (next, verifier.take()) {
                        (Ok(batch), Some(v)) => api.verify_apart(v, batch).await,
                        (Err(e), _) => Err(e),
                        (Ok(_), None) => return,
                    };
                    let verified = verified.map(|(v, batch)| {
                        verifier = Some(v);
                        batch
                    });
                    let stop = verified.is_err();
                    if arrived.send(verified).await.is_err() || stop {
                        return;
                    }
                }
            })
        };
        let _stop_reading = AbortOnDrop(reading);
        // Receipt codes of the orders each message closed are taken beside the stream, so
        // checking their signatures does not hold up the next commit. A code that does not
        // verify ends the pull, as a refused message does. The task ends with the pull
        // (the node stopping, the peer revoked); a stream that ends cleanly lets it finish
        // first, for a while at most.
        let (closings, mut closed) = mpsc::channel::<Vec<OrderId>>(REPLICATE_AT_ONCE);
        let (refusal, mut refused) = mpsc::channel::<Status>(1);
        let mut taking = {
            let (api, mut client) = (self.clone(), client.clone());
            AbortOnDrop(tokio::spawn(async move {
                while let Some(mut orders) = closed.recv().await {
                    while let Ok(more) = closed.try_recv() {
                        orders.extend(more);
                    }
                    if let Err(e) = api.take_receipts(&mut client, &orders).await {
                        let _ = refusal.send(e).await;
                        return;
                    }
                }
            }))
        };
        // Codes an earlier pull did not get to (it ended first, or the peer had not taken
        // them yet itself) are asked for again, newest first.
        let missing = self
            .read(|store| Ok(store.closed_without_receipt(RECEIPTS_ASKED_AGAIN)?))
            .await
            .map_err(|e| failed(&e.message()))?;
        if !missing.is_empty() {
            let _ = closings.send(missing).await;
        }
        let stopped_taking = |refused: &mut mpsc::Receiver<Status>| {
            let why = refused.try_recv().map_or_else(
                |_| "receipt codes are no longer taken".to_string(),
                |e| e.message().to_string(),
            );
            failed(&why)
        };
        // Staff log in at every register: the peer's PIN hashes come first, then again
        // whenever a PIN change comes through, and now and then in case one reached the
        // peer from elsewhere.
        let mut refresh = tokio::time::interval(PIN_REFRESH);
        // Messages queued to the writer, oldest first.
        let mut committing: VecDeque<Committing> = VecDeque::new();
        // The stream ended, or a message was refused: nothing more is queued, and the pull
        // ends (with the refusal) once the messages queued before are in.
        let mut ended: Option<Option<NodeError>> = None;
        loop {
            if let Some(refusal) = ended.take_if(|_| committing.is_empty()) {
                if let Some(e) = refusal {
                    return Err(e);
                }
                drop(closings);
                if tokio::time::timeout(RECEIPTS_DRAIN, &mut taking.0)
                    .await
                    .is_err()
                {
                    tracing::warn!(%peer, "the peer's stream ended before every receipt code was taken; the rest are left");
                }
                return match refused.try_recv() {
                    Ok(e) => Err(failed(&e.message())),
                    Err(_) => Ok(()),
                };
            }
            tokio::select! {
                biased;
                Some(e) = refused.recv() => return Err(failed(&e.message())),
                done = async {
                    match committing.front_mut() {
                        Some(answer) => answer.await,
                        None => std::future::pending().await,
                    }
                }, if !committing.is_empty() => {
                    committing.pop_front();
                    let done = done?;
                    // What was just taken may revoke the very peer it came from. The one
                    // message queued behind it is verified with that revocation followed,
                    // as everything the peer relays is: nothing of the peer's own past its
                    // cut gets in.
                    self.still_member(key.node_id()).await.map_err(|e| failed(&e.message()))?;
                    if done.pins_changed {
                        self.take_pins(&mut client).await.map_err(|e| failed(&e.message()))?;
                    }
                    if !done.closed.is_empty() && closings.send(done.closed).await.is_err() {
                        return Err(stopped_taking(&mut refused));
                    }
                    if !done.witnessed.is_empty() {
                        let witnesses = done
                            .witnessed
                            .iter()
                            .map(|w| v1::Countersigned {
                                node_id: w.node.0.to_vec(),
                                tree_size: w.tree_size,
                                signature: w.signature.to_bytes().to_vec(),
                            })
                            .collect();
                        // The peer keeping them is its business: a refusal ends nothing here.
                        if let Err(e) = client.witness(v1::WitnessRequest { witnesses }).await {
                            tracing::warn!(%peer, error = %e.message(), "the peer did not keep this node's countersignatures");
                        }
                    }
                }
                next = inbox.recv(), if ended.is_none() && committing.len() < COMMITS_AHEAD => {
                    // A refused message ends the pull, after the ones before it are in.
                    let mut verified = match next {
                        Some(Ok(first)) => first,
                        Some(Err(e)) => {
                            ended = Some(Some(e));
                            continue;
                        }
                        None => {
                            ended = Some(None);
                            continue;
                        }
                    };
                    let mut refusal = None;
                    for _ in 1..REPLICATE_AT_ONCE {
                        match inbox.try_recv() {
                            Ok(Ok(m)) => verified.extend(m),
                            Ok(Err(e)) => {
                                refusal = Some(e);
                                break;
                            }
                            Err(_) => break,
                        }
                    }
                    let answer = self
                        .writer
                        .queue_replica(FromPeer {
                            verified: Some(verified),
                            ..FromPeer::default()
                        })
                        .await?;
                    committing.push_back(Box::pin(answer));
                    if refusal.is_some() {
                        ended = Some(refusal);
                    }
                }
                _ = refresh.tick() => {
                    // A revocation may come through another peer too.
                    self.still_member(key.node_id()).await.map_err(|e| failed(&e.message()))?;
                    self.take_pins(&mut client).await.map_err(|e| failed(&e.message()))?;
                }
            }
        }
    }

    /// Verifies a peer's message off the writer and the async threads, first reading the
    /// chains held of nodes the verifier has not followed yet. A refusal is counted here,
    /// as the writer counts those it finds.
    async fn verify_apart(
        &self,
        mut verifier: Verifier,
        batch: PeerBatch,
    ) -> Result<(Verifier, VerifiedApart), NodeError> {
        let unknown = verifier.unknown(std::slice::from_ref(&batch));
        if !unknown.is_empty() {
            verifier = self
                .read_store(move |store| {
                    verifier.hold(store, &unknown)?;
                    Ok(verifier)
                })
                .await?;
        }
        let verified = tokio::task::spawn_blocking(move || {
            let verified = verifier.verify(vec![batch])?;
            Ok::<_, NodeError>((verifier, verified))
        })
        .await
        .map_err(|e| NodeError::Internal(format!("verifying task failed: {e}")))?;
        if let Err(NodeError::Peer(_)) = &verified {
            Metrics::add(&self.metrics.peer_refusals, 1);
        }
        verified
    }

    /// Asks a peer for the receipt codes of orders another node closed, and keeps those that
    /// verify.
    async fn take_receipts<T>(
        &self,
        client: &mut SyncClient<T>,
        orders: &[OrderId],
    ) -> Result<(), Status>
    where
        T: tonic::client::GrpcService<tonic::body::Body>,
        T::Error: Into<tonic::codegen::StdError>,
        T::ResponseBody: tonic::codegen::Body<Data = tonic::codegen::Bytes> + Send + 'static,
        <T::ResponseBody as tonic::codegen::Body>::Error: Into<tonic::codegen::StdError> + Send,
    {
        // A chunk's codes are kept while the next chunk is asked for and checked.
        let mut keeping: Option<tokio::task::JoinHandle<Result<u64, NodeError>>> = None;
        for chunk in orders.chunks(MAX_RECEIPTS) {
            let asked = client.receipts(v1::ReceiptsRequest {
                orders: chunk.iter().map(|o| o.0.to_be_bytes().to_vec()).collect(),
            });
            let reply = tokio::time::timeout(RECEIPTS_WAIT, asked)
                .await
                .map_err(|_| Status::deadline_exceeded("the peer did not send receipt codes"))??
                .into_inner();
            // Only codes of orders asked for, each once: a peer cannot make this node
            // check more than it asked.
            let mut wanted: HashSet<OrderId> = chunk.iter().copied().collect();
            let mut receipts = Vec::with_capacity(reply.receipts.len().min(chunk.len()));
            for r in reply.receipts {
                let order = <[u8; 16]>::try_from(r.order.as_slice())
                    .map(|b| OrderId(u128::from_be_bytes(b)))
                    .map_err(|_| Status::invalid_argument("an order id is 16 bytes"))?;
                if wanted.remove(&order) {
                    receipts.push((order, r.code));
                }
            }
            if !receipts.is_empty() {
                // Checked off the writer (a signature per order), and off the reading
                // connection but for the entries they name.
                let wanted = receipts.clone();
                let evidence = self
                    .read(move |store| receipt_evidence(store, &wanted))
                    .await?;
                let checked = at_low_priority(move || check_receipts_with(&evidence, &receipts))
                    .await
                    .map_err(super::status)?;
                let checked = checked.map_err(|e| {
                    if matches!(e, NodeError::Peer(_)) {
                        Metrics::add(&self.metrics.peer_refusals, 1);
                    }
                    super::status(e)
                })?;
                if let Some(kept) = keeping.take() {
                    kept.await
                        .map_err(|e| Status::internal(e.to_string()))?
                        .map_err(super::status)?;
                }
                let writer = self.writer.clone();
                keeping = Some(tokio::spawn(
                    async move { writer.keep_receipts(checked).await },
                ));
            }
        }
        if let Some(kept) = keeping {
            kept.await
                .map_err(|e| Status::internal(e.to_string()))?
                .map_err(super::status)?;
        }
        Ok(())
    }

    /// Asks a peer for its PIN hashes and keeps those set later than this node's.
    async fn take_pins<T>(&self, client: &mut SyncClient<T>) -> Result<(), Status>
    where
        T: tonic::client::GrpcService<tonic::body::Body>,
        T::Error: Into<tonic::codegen::StdError>,
        T::ResponseBody: tonic::codegen::Body<Data = tonic::codegen::Bytes> + Send + 'static,
        <T::ResponseBody as tonic::codegen::Body>::Error: Into<tonic::codegen::StdError> + Send,
    {
        let pins = peer_pins(client.pins(v1::PinsRequest {}).await?.into_inner())?;
        if !pins.is_empty() {
            self.writer
                .replicate(FromPeer {
                    pins,
                    ..FromPeer::default()
                })
                .await
                .map_err(super::status)?;
        }
        Ok(())
    }
}

/// Runs `f` on a thread of its own at the lowest CPU priority. Receipt codes are checked
/// (a signature each) with what the processor has left: a register catching up takes in
/// the entries, its sales and stock, first, and the codes follow as fast as before when
/// the processor is free.
async fn at_low_priority<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, NodeError> {
    let (done, result) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("mpos-receipts".into())
        .spawn(move || {
            lower_priority();
            let _ = done.send(f());
        })
        .map_err(|e| NodeError::Internal(format!("cannot start a thread: {e}")))?;
    result
        .await
        .map_err(|_| NodeError::Internal("a low-priority thread ended early".into()))
}

/// On Linux a nice value set for a thread's id applies to that thread alone.
#[cfg(target_os = "linux")]
fn lower_priority() {
    if let Err(e) = rustix::process::setpriority_process(Some(rustix::thread::gettid()), 19) {
        tracing::debug!(error = %e, "cannot lower a thread's priority");
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

/// Stops a task when the pull that started it ends.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
