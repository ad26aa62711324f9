//! The gRPC API (`mpos.v1.Pos`): authenticates the caller from its session, turns wire
//! requests into node requests, queues mutations on the writer and reads from its own
//! connection. `NodeError` maps to a gRPC status in one place (`status`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::store::Store;
use mpos_domain::catalog::Selection;
use mpos_domain::drawer::DrawerCommand;
use mpos_domain::ids::{
    DiscountId, DrawerId, ItemId, LineId, ModifierId, OrderId, PaymentId, StaffId, StationId,
    VariantId,
};
use mpos_domain::order::{Command, DiscountKind, DiscountTarget, OrderKind};
use mpos_domain::staff::{Actor, Permission};
use mpos_domain::{Money, Refusal};
use mpos_proto::DecodeError;
use mpos_proto::event::{
    channel_from_wire, read_id, read_line_ids, read_opt_id, role_to_wire, source_from_wire,
    tender_from_wire,
};
use mpos_proto::v1::{self, pos_server::Pos};
use mpos_proto::view::{day_report_view, drawer_view, order_view};
use mpos_store::{NewPrintJob, PosStore, PrintJob, PrintStore, Printer, StoreError};
use tonic::{Request as GrpcRequest, Response, Status};

use crate::clock;
use crate::error::NodeError;
use crate::pos::{Action, Applied, NewLine, OrderAction, Request};
use crate::staff::{LoginGuard, PinDesk, SessionSigner};
use crate::writer::Writer;

mod back_office;
mod guest;
mod live;
mod nodes;
mod sales;
mod stock;
mod sync;

pub use sync::SyncApi;

pub use guest::GuestApi;

/// A new secret for a table's self-ordering link: 96 random bits, as 24 hex digits.
pub fn new_table_token() -> Result<String, NodeError> {
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes)
        .map_err(|e| NodeError::Internal(format!("no randomness for a table link: {e}")))?;
    Ok(hex::encode(bytes))
}

/// How long a login lasts: one shift.
const SESSION_MILLIS: u64 = 12 * 60 * 60 * 1000;
/// How long a manager's approval at another's register lasts: time to send the one
/// action (and to resend it after a short network drop).
const APPROVAL_MILLIS: u64 = 2 * 60 * 1000;

#[derive(Debug, Clone, Copy)]
struct Session {
    actor: Actor,
    expires_at: u64,
}

/// The service behind `mpos.v1.Pos`.
#[derive(Debug, Clone)]
pub struct PosApi {
    writer: Writer,
    node: mpos_ledger::NodeId,
    reader: Arc<Mutex<Store>>,
    /// The print queue's own connection: printing never waits on the writer.
    print_queue: Arc<Mutex<Store>>,
    logins: Arc<Mutex<LoginGuard>>,
    pins: PinDesk,
    signer: SessionSigner,
    /// True once the node is stopping: live views end so the drain can finish.
    closing: Arc<tokio::sync::watch::Sender<bool>>,
    /// Tokens already checked: a signature is verified once per token, not per call.
    sessions: Arc<Mutex<HashMap<String, Session>>>,
    metrics: Arc<crate::metrics::Metrics>,
    /// The restaurant's settings once set: every order and payment needs the currency.
    /// Settings change only through this API (`forget_settings`).
    settings: Arc<Mutex<Option<mpos_domain::menu::Settings>>>,
    /// The node's key, certificate and organization, for sync and pairing.
    trust: Arc<crate::identity::NodeTrust>,
    /// Terminals invited to pair and not paired yet.
    invitations: Arc<Mutex<crate::pairing::Invitations>>,
    /// Where this node answers sync, once it does.
    sync_address: Arc<Mutex<Option<String>>>,
}

/// One mapping from node errors to gRPC statuses. Internal causes are logged, never sent.
pub fn status(e: NodeError) -> Status {
    match e {
        NodeError::Refused(r) => match r {
            Refusal::NotAllowed { .. } => Status::permission_denied(r.to_string()),
            Refusal::UnknownOrder
            | Refusal::UnknownLine(_)
            | Refusal::UnknownPayment(_)
            | Refusal::UnknownItem(_)
            | Refusal::UnknownTable(_) => Status::not_found(r.to_string()),
            Refusal::OrderClosed(_)
            | Refusal::OrderVoided(_)
            | Refusal::ItemUnavailable { .. }
            | Refusal::AlreadyPaid
            | Refusal::NothingToSend
            | Refusal::CourseNotSent(_)
            | Refusal::CourseAlreadyFired(_)
            | Refusal::NothingToPay
            | Refusal::OrderExists(_) => Status::failed_precondition(r.to_string()),
            Refusal::Inventory(ref e) => {
                use mpos_domain::inventory::InventoryError as I;
                match e {
                    I::UnknownStockItem(_)
                    | I::UnknownSupplier(_)
                    | I::UnknownTransfer(_)
                    | I::UnknownPurchaseOrder(_)
                    | I::UnknownLocation(_) => Status::not_found(r.to_string()),
                    I::TransferExists(_)
                    | I::TransferReceived(_)
                    | I::PurchaseOrderExists(_)
                    | I::PurchaseOrderState { .. }
                    | I::LocationClosed(_) => Status::failed_precondition(r.to_string()),
                    _ => Status::invalid_argument(r.to_string()),
                }
            }
            _ => Status::invalid_argument(r.to_string()),
        },
        NodeError::BadRequest(m) => Status::invalid_argument(m),
        NodeError::NotFound(m) => Status::not_found(m),
        NodeError::WrongPin => Status::unauthenticated(e.to_string()),
        NodeError::Locked { .. } => Status::resource_exhausted(e.to_string()),
        NodeError::Unavailable(m) => Status::unavailable(m),
        NodeError::Peer(_) => Status::invalid_argument(e.to_string()),
        other => {
            tracing::error!(error = %other, "request failed inside the node");
            Status::internal("the node could not complete the request; it was not applied")
        }
    }
}

/// Category and staff names by id, for the reports that cut sales by them.
type Names = (
    HashMap<mpos_domain::ids::CategoryId, String>,
    HashMap<StaffId, String>,
);

fn names(store: &impl PosStore) -> Result<Names, NodeError> {
    let categories = store
        .categories()?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    let staff = store.staff()?.into_iter().map(|m| (m.id, m.name)).collect();
    Ok((categories, staff))
}

fn bad(e: DecodeError) -> Status {
    Status::invalid_argument(e.to_string())
}

fn request_id(b: &[u8]) -> Result<u128, Status> {
    read_id("request_id", b).map_err(bad)
}

/// Runs a store read (or a login's argon2 check) off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, NodeError> + Send + 'static,
) -> Result<T, Status> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| status(NodeError::Internal(format!("read task failed: {e}"))))?
        .map_err(status)
}

impl PosApi {
    pub fn new(
        writer: Writer,
        reader: Store,
        print_queue: Store,
        pins: PinDesk,
        signer: SessionSigner,
        metrics: Arc<crate::metrics::Metrics>,
        trust: crate::identity::NodeTrust,
    ) -> PosApi {
        PosApi {
            writer,
            node: trust.key.node_id(),
            reader: Arc::new(Mutex::new(reader)),
            print_queue: Arc::new(Mutex::new(print_queue)),
            logins: Arc::new(Mutex::new(LoginGuard::default())),
            pins,
            signer,
            closing: Arc::new(tokio::sync::watch::Sender::new(false)),
            sessions: Arc::new(Mutex::new(HashMap::new())),
            metrics,
            settings: Arc::new(Mutex::new(None)),
            trust: Arc::new(trust),
            invitations: Arc::new(Mutex::new(crate::pairing::Invitations::default())),
            sync_address: Arc::new(Mutex::new(None)),
        }
    }

    /// The node's key, certificate and organization.
    pub fn trust(&self) -> &crate::identity::NodeTrust {
        &self.trust
    }

    /// Where this node answers sync, if it does.
    pub fn sync_address(&self) -> Option<String> {
        self.sync_address.lock().ok().and_then(|a| a.clone())
    }

    pub(crate) fn set_sync_address(&self, addr: String) {
        if let Ok(mut a) = self.sync_address.lock() {
            *a = Some(addr);
        }
    }

    /// Set to true when the node stops: every live view ends (clients reconnect).
    pub fn closing(&self) -> Arc<tokio::sync::watch::Sender<bool>> {
        self.closing.clone()
    }

    fn actor<T>(&self, request: &GrpcRequest<T>) -> Result<Actor, Status> {
        let token = request
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| {
                Status::unauthenticated("log in first: send `authorization: Bearer <token>`")
            })?;
        let token = token.trim();
        let known = self
            .sessions
            .lock()
            .map_err(|_| Status::internal("session table poisoned"))?
            .get(token)
            .copied();
        let session = match known {
            Some(s) => s,
            // Issued before a restart, or by another worker: this node's signature says.
            None => {
                let (actor, expires_at) = self
                    .signer
                    .check(token)
                    .ok_or_else(|| Status::unauthenticated("unknown session: log in again"))?;
                let s = Session { actor, expires_at };
                let now = clock::now_millis();
                let mut sessions = self
                    .sessions
                    .lock()
                    .map_err(|_| Status::internal("session table poisoned"))?;
                sessions.retain(|_, s| s.expires_at > now);
                sessions.insert(token.to_string(), s);
                s
            }
        };
        if session.expires_at > clock::now_millis() {
            Ok(session.actor)
        } else {
            Err(Status::unauthenticated("the session expired: log in again"))
        }
    }

    async fn order_action(
        &self,
        actor: Actor,
        id: u128,
        order: &[u8],
        command: OrderAction,
    ) -> Result<Response<v1::OrderReply>, Status> {
        let order = OrderId(read_id("order", order).map_err(bad)?);
        let applied = self
            .writer
            .apply(Request {
                id,
                action: Action::Order { order, command },
                actor: Some(actor),
            })
            .await
            .map_err(status)?;
        reply(applied)
    }

    async fn command<T>(
        &self,
        request: GrpcRequest<T>,
        build: impl FnOnce(&T) -> Result<(Vec<u8>, Vec<u8>, Command), Status>,
    ) -> Result<Response<v1::OrderReply>, Status> {
        let actor = self.actor(&request)?;
        let (rid, order, command) = build(request.get_ref())?;
        self.order_action(
            actor,
            request_id(&rid)?,
            &order,
            OrderAction::Command(command),
        )
        .await
    }

    /// The restaurant's settings, read once; callers authenticate first.
    async fn settings(&self) -> Result<mpos_domain::menu::Settings, Status> {
        let known = self
            .settings
            .lock()
            .map_err(|_| Status::internal("settings cache poisoned"))?
            .clone();
        if let Some(s) = known {
            return Ok(s);
        }
        let read = self
            .read(move |store| Ok(store.settings()?))
            .await?
            .ok_or_else(|| {
                Status::failed_precondition("the restaurant is not set up yet (no currency)")
            })?;
        *self
            .settings
            .lock()
            .map_err(|_| Status::internal("settings cache poisoned"))? = Some(read.clone());
        Ok(read)
    }

    /// After a settings change: the next request reads them again.
    fn forget_settings(&self) {
        if let Ok(mut s) = self.settings.lock() {
            s.take();
        }
    }

    /// The restaurant's currency; callers authenticate first.
    async fn currency(&self) -> Result<mpos_domain::Currency, Status> {
        Ok(self.settings().await?.currency)
    }
}

impl PosApi {
    async fn drawer_action(
        &self,
        actor: Actor,
        request_id: u128,
        drawer: Option<DrawerId>,
        command: DrawerCommand,
    ) -> Result<Response<v1::DrawerReply>, Status> {
        let applied = self
            .writer
            .apply(Request {
                id: request_id,
                action: Action::Drawer { drawer, command },
                actor: Some(actor),
            })
            .await
            .map_err(status)?;
        let drawer = applied
            .drawer
            .as_ref()
            .map(drawer_view)
            .transpose()
            .map_err(|e| status(NodeError::Internal(e.to_string())))?;
        Ok(Response::new(v1::DrawerReply {
            drawer,
            replayed: applied.replayed,
        }))
    }

    /// A day's report (the open day when `day` is none) with names, read off the async
    /// threads.
    async fn day_report(&self, day: Option<u32>) -> Result<v1::DayReportView, Status> {
        let node = self.node;
        self.read(move |store| {
            let report = match day {
                None => crate::day::x_report(store, node)?,
                Some(n) => crate::day::closed_report(store, node, n)?
                    .ok_or_else(|| NodeError::NotFound(format!("day {n} has not been closed")))?,
            };
            let (categories, staff) = names(store)?;
            let restaurant = store.settings()?.map(|s| s.name).unwrap_or_default();
            day_report_view(
                &report,
                &restaurant,
                |id| {
                    categories
                        .get(&id)
                        .cloned()
                        .unwrap_or_else(|| id.to_string())
                },
                |id| staff.get(&id).cloned().unwrap_or_else(|| id.to_string()),
            )
            .map_err(|e| NodeError::Internal(e.to_string()))
        })
        .await
    }

    fn require(actor: Actor, p: Permission, what: &str) -> Result<(), Status> {
        if actor.role.may(p) {
            Ok(())
        } else {
            Err(status(NodeError::Refused(Refusal::NotAllowed {
                role: actor.role.name(),
                action: what.into(),
            })))
        }
    }
}

/// A print request id used before for another print is the client's mistake.
fn reused_print(e: StoreError) -> NodeError {
    match e {
        StoreError::Conflict(m) => NodeError::BadRequest(format!("{m}: make a new id per request")),
        other => NodeError::Store(other),
    }
}

fn jobs_by_id(q: &Store, ids: &[u64]) -> Result<Vec<PrintJob>, NodeError> {
    let mut jobs = Vec::with_capacity(ids.len());
    for id in ids {
        jobs.extend(q.print_job(*id)?);
    }
    Ok(jobs)
}

fn job_view(j: &PrintJob) -> v1::PrintJobView {
    v1::PrintJobView {
        id: j.id,
        printer: j.job.printer.clone(),
        kind: j.job.kind.clone(),
        order: j
            .job
            .order
            .map(|o| o.0.to_be_bytes().to_vec())
            .unwrap_or_default(),
        title: j.job.title.clone(),
        state: j.state.name().into(),
        attempts: j.attempts,
        last_error: j.last_error.clone().unwrap_or_default(),
        created_at: j.created_at,
        printed_at: j.printed_at.unwrap_or(0),
        reprint_of: j.job.reprint_of.unwrap_or(0),
    }
}

fn printer_view(p: &Printer) -> v1::PrinterView {
    v1::PrinterView {
        name: p.name.clone(),
        address: p.address.clone(),
        stations: p
            .stations
            .iter()
            .map(|s| s.0.to_be_bytes().to_vec())
            .collect(),
        receipts: p.receipts,
        columns: p.columns,
    }
}

impl PosApi {
    /// Runs a read on the reader connection, off the async threads.
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, NodeError> + Send + 'static,
    ) -> Result<T, Status> {
        self.read_store(f).await.map_err(status)
    }

    /// [`PosApi::read`], for a caller that keeps the node's own error.
    async fn read_store<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, NodeError> + Send + 'static,
    ) -> Result<T, NodeError> {
        let reader = self.reader.clone();
        tokio::task::spawn_blocking(move || {
            let store = reader
                .lock()
                .map_err(|_| NodeError::Internal("reader poisoned".into()))?;
            f(&store)
        })
        .await
        .map_err(|e| NodeError::Internal(format!("read task failed: {e}")))?
    }

    /// Runs `f` on the print queue's connection, off the async threads.
    async fn with_queue<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, NodeError> + Send + 'static,
    ) -> Result<T, Status> {
        let queue = self.print_queue.clone();
        blocking(move || {
            let mut store = queue
                .lock()
                .map_err(|_| NodeError::Internal("print queue poisoned".into()))?;
            f(&mut store)
        })
        .await
    }
}

/// A line as the wire asks for it.
fn new_line(l: v1::NewLine) -> Result<NewLine, Status> {
    let selection = Selection {
        item: ItemId(read_id("item", &l.item).map_err(bad)?),
        variant: read_opt_id("variant", &l.variant)
            .map_err(bad)?
            .map(VariantId),
        modifiers: l
            .modifiers
            .iter()
            .map(|m| read_id("modifiers", m).map(ModifierId))
            .collect::<Result<_, _>>()
            .map_err(bad)?,
        quantity: l.quantity,
    };
    Ok(NewLine {
        line: LineId(read_id("line", &l.line).map_err(bad)?),
        selection,
        seat: (l.seat != 0).then_some(l.seat),
        course: l.course.max(1),
        note: l.note,
    })
}

fn reply(applied: Applied) -> Result<Response<v1::OrderReply>, Status> {
    let order = applied
        .order
        .as_ref()
        .map(order_view)
        .transpose()
        .map_err(|e| status(NodeError::Internal(e.to_string())))?;
    Ok(Response::new(v1::OrderReply {
        order,
        replayed: applied.replayed,
        first_seq: applied.first_seq,
        last_seq: applied.last_seq,
    }))
}

#[tonic::async_trait]
impl Pos for PosApi {
    async fn list_staff(
        &self,
        request: GrpcRequest<v1::ListStaffRequest>,
    ) -> Result<Response<v1::ListStaffReply>, Status> {
        // The login screen lists who works here now; who left is the back office's business.
        let include_inactive = request.get_ref().include_inactive;
        if include_inactive {
            Self::require(
                self.actor(&request)?,
                Permission::ManageStaff,
                "see staff who left",
            )?;
        }
        let staff = self.read(move |store| Ok(store.staff()?)).await?;
        Ok(Response::new(v1::ListStaffReply {
            staff: staff
                .into_iter()
                .filter(|m| m.active || include_inactive)
                .map(|m| v1::StaffEntry {
                    id: m.id.0.to_be_bytes().to_vec(),
                    name: m.name,
                    role: role_to_wire(m.role).into(),
                    active: m.active,
                })
                .collect(),
        }))
    }

    async fn login(
        &self,
        request: GrpcRequest<v1::LoginRequest>,
    ) -> Result<Response<v1::LoginReply>, Status> {
        let r = request.into_inner();
        let staff = StaffId(read_id("staff", &r.staff).map_err(bad)?);
        let (reader, logins) = (self.reader.clone(), self.logins.clone());
        let (pin, approval) = (r.pin, r.approval);
        let (actor, name, currency) = self
            .pins
            .check(move || {
                // Read, then let go of the store: argon2 takes tens of milliseconds, and reads
                // (orders, search) must not wait behind a login.
                let (member, hash, currency) = {
                    let store = reader
                        .lock()
                        .map_err(|_| NodeError::Internal("reader poisoned".into()))?;
                    let currency = store.settings()?.map(|s| s.currency.code().to_string());
                    (store.staff_member(staff)?, store.pin_hash(staff)?, currency)
                };
                let name = member.as_ref().map(|m| m.name.clone()).unwrap_or_default();
                let mut guard = logins
                    .lock()
                    .map_err(|_| NodeError::Internal("login table poisoned".into()))?;
                let actor = guard.check(staff, &pin, member, hash, clock::now_millis())?;
                Ok((actor, name, currency.unwrap_or_default()))
            })
            .await
            .map_err(status)
            .inspect_err(|_| crate::metrics::Metrics::add(&self.metrics.logins_refused, 1))?;
        crate::metrics::Metrics::add(&self.metrics.logins_ok, 1);
        let now = clock::now_millis();
        let expires_at = now
            + if approval {
                APPROVAL_MILLIS
            } else {
                SESSION_MILLIS
            };
        let token = self.signer.issue(actor, expires_at).map_err(status)?;
        let mut sessions = self
            .sessions
            .lock()
            .map_err(|_| Status::internal("session table poisoned"))?;
        // Forget expired sessions as new ones come: the table stays as small as a shift.
        sessions.retain(|_, s| s.expires_at > now);
        sessions.insert(token.clone(), Session { actor, expires_at });
        drop(sessions);
        tracing::info!(staff = %actor.staff, role = actor.role.name(), approval, "logged in");
        Ok(Response::new(v1::LoginReply {
            token,
            staff: Some(v1::StaffEntry {
                id: actor.staff.0.to_be_bytes().to_vec(),
                name,
                role: role_to_wire(actor.role).into(),
                active: true,
            }),
            expires_at,
            currency,
            permissions: mpos_proto::view::permissions_view(actor.role),
        }))
    }

    async fn search_items(
        &self,
        request: GrpcRequest<v1::SearchItemsRequest>,
    ) -> Result<Response<v1::SearchItemsReply>, Status> {
        self.actor(&request)?;
        let r = request.into_inner();
        let limit = if r.limit == 0 { 20 } else { r.limit.min(100) } as usize;
        let items = self
            .read(move |store| {
                store
                    .search_items(&r.query, limit)?
                    .into_iter()
                    .map(|item| back_office::item_view(store, item))
                    .collect::<Result<Vec<_>, _>>()
            })
            .await?;
        Ok(Response::new(v1::SearchItemsReply { items }))
    }

    async fn open_order(
        &self,
        request: GrpcRequest<v1::OpenOrderRequest>,
    ) -> Result<Response<v1::OrderReply>, Status> {
        let actor = self.actor(&request)?;
        let settings = self.settings().await?;
        let r = request.into_inner();
        let kind = match r.kind {
            Some(v1::open_order_request::Kind::DineIn(d)) => OrderKind::DineIn {
                table: read_opt_id("dine_in.table", &d.table)
                    .map_err(bad)?
                    .map(mpos_domain::ids::TableId),
                guests: d.guests,
            },
            Some(v1::open_order_request::Kind::Takeaway(_)) | None => OrderKind::Takeaway,
            Some(v1::open_order_request::Kind::Delivery(d)) => {
                OrderKind::Delivery { address: d.address }
            }
        };
        let command = Command::Open {
            number: r.number,
            channel: channel_from_wire(r.channel).map_err(bad)?,
            kind,
            source: if r.source.is_some() {
                source_from_wire(r.source).map_err(bad)?
            } else {
                mpos_domain::order::Source::Register
            },
            currency: settings.currency,
            mode: settings.price_mode,
            location: None,
        };
        let action = if r.lines.is_empty() {
            OrderAction::Command(command)
        } else {
            OrderAction::OpenWithLines {
                open: command,
                lines: r
                    .lines
                    .into_iter()
                    .map(new_line)
                    .collect::<Result<_, _>>()?,
            }
        };
        self.order_action(actor, request_id(&r.request_id)?, &r.order, action)
            .await
    }

    async fn add_item(
        &self,
        request: GrpcRequest<v1::AddItemRequest>,
    ) -> Result<Response<v1::OrderReply>, Status> {
        let actor = self.actor(&request)?;
        let r = request.into_inner();
        let action = OrderAction::AddItem(new_line(v1::NewLine {
            line: r.line,
            item: r.item,
            variant: r.variant,
            modifiers: r.modifiers,
            quantity: r.quantity,
            seat: r.seat,
            course: r.course,
            note: r.note,
        })?);
        self.order_action(actor, request_id(&r.request_id)?, &r.order, action)
            .await
    }

    async fn send_order(
        &self,
        request: GrpcRequest<v1::SendOrderRequest>,
    ) -> Result<Response<v1::OrderReply>, Status> {
        self.command(request, |r| {
            let lines = read_line_ids("lines", &r.lines).map_err(bad)?;
            Ok((
                r.request_id.clone(),
                r.order.clone(),
                Command::Send { lines },
            ))
        })
        .await
    }

    async fn fire_course(
        &self,
        request: GrpcRequest<v1::FireCourseRequest>,
    ) -> Result<Response<v1::OrderReply>, Status> {
        self.command(request, |r| {
            Ok((
                r.request_id.clone(),
                r.order.clone(),
                Command::FireCourse { course: r.course },
            ))
        })
        .await
    }

    async fn void_line(
        &self,
        request: GrpcRequest<v1::VoidLineRequest>,
    ) -> Result<Response<v1::OrderReply>, Status> {
        self.command(request, |r| {
            let line = LineId(read_id("line", &r.line).map_err(bad)?);
            Ok((
                r.request_id.clone(),
                r.order.clone(),
                Command::VoidLine {
                    line,
                    reason: r.reason.clone(),
                },
            ))
        })
        .await
    }

    async fn apply_discount(
        &self,
        request: GrpcRequest<v1::ApplyDiscountRequest>,
    ) -> Result<Response<v1::OrderReply>, Status> {
        self.actor(&request)?;
        let currency = self.currency().await?;
        self.command(request, |r| {
            let target = match read_opt_id("line", &r.line).map_err(bad)? {
                None => DiscountTarget::Order,
                Some(l) => DiscountTarget::Line(LineId(l)),
            };
            let kind = match r.kind {
                Some(v1::apply_discount_request::Kind::PercentPpm(p)) => DiscountKind::Percent(p),
                Some(v1::apply_discount_request::Kind::Amount(a)) => {
                    DiscountKind::Amount(Money::new(a, currency))
                }
                None => return Err(Status::invalid_argument("kind: give percent_ppm or amount")),
            };
            let discount = DiscountId(read_id("discount", &r.discount).map_err(bad)?);
            Ok((
                r.request_id.clone(),
                r.order.clone(),
                Command::ApplyDiscount {
                    discount,
                    target,
                    kind,
                    reason: r.reason.clone(),
                },
            ))
        })
        .await
    }

    async fn set_service_charge(
        &self,
        request: GrpcRequest<v1::SetServiceChargeRequest>,
    ) -> Result<Response<v1::OrderReply>, Status> {
        self.command(request, |r| {
            Ok((
                r.request_id.clone(),
                r.order.clone(),
                Command::SetServiceCharge { ppm: r.ppm },
            ))
        })
        .await
    }

    async fn take_payment(
        &self,
        request: GrpcRequest<v1::TakePaymentRequest>,
    ) -> Result<Response<v1::OrderReply>, Status> {
        self.actor(&request)?;
        let currency = self.currency().await?;
        self.command(request, |r| {
            let payment = PaymentId(read_id("payment", &r.payment).map_err(bad)?);
            let tender = tender_from_wire(r.tender.clone()).map_err(bad)?;
            Ok((
                r.request_id.clone(),
                r.order.clone(),
                Command::TakePayment {
                    payment,
                    tender,
                    amount: Money::new(r.amount, currency),
                    tip: Money::new(r.tip, currency),
                    cash_received: r.cash_received.map(|c| Money::new(c, currency)),
                    drawer: read_opt_id("drawer", &r.drawer).map_err(bad)?.map(DrawerId),
                },
            ))
        })
        .await
    }

    async fn void_order(
        &self,
        request: GrpcRequest<v1::VoidOrderRequest>,
    ) -> Result<Response<v1::OrderReply>, Status> {
        self.command(request, |r| {
            Ok((
                r.request_id.clone(),
                r.order.clone(),
                Command::VoidOrder {
                    reason: r.reason.clone(),
                },
            ))
        })
        .await
    }

    async fn refund(
        &self,
        request: GrpcRequest<v1::RefundRequest>,
    ) -> Result<Response<v1::OrderReply>, Status> {
        self.actor(&request)?;
        let currency = self.currency().await?;
        self.command(request, |r| {
            let payment = PaymentId(read_id("payment", &r.payment).map_err(bad)?);
            Ok((
                r.request_id.clone(),
                r.order.clone(),
                Command::Refund {
                    payment,
                    amount: Money::new(r.amount, currency),
                    reason: r.reason.clone(),
                    drawer: read_opt_id("drawer", &r.drawer).map_err(bad)?.map(DrawerId),
                },
            ))
        })
        .await
    }

    async fn get_order(
        &self,
        request: GrpcRequest<v1::GetOrderRequest>,
    ) -> Result<Response<v1::OrderView>, Status> {
        self.actor(&request)?;
        let order = OrderId(read_id("order", &request.get_ref().order).map_err(bad)?);
        let found = self
            .read(move |store| Ok(store.load_order(order)?))
            .await?
            .ok_or_else(|| Status::not_found("no such order"))?;
        order_view(&found)
            .map(Response::new)
            .map_err(|e| status(NodeError::Store(StoreError::Corrupt(e.to_string()))))
    }

    async fn get_receipt(
        &self,
        request: GrpcRequest<v1::GetReceiptRequest>,
    ) -> Result<Response<v1::ReceiptReply>, Status> {
        self.actor(&request)?;
        let order = OrderId(read_id("order", &request.get_ref().order).map_err(bad)?);
        let width = match request.get_ref().width {
            0 => crate::receipt::WIDE,
            w => w as usize,
        };
        let (text, code) = self
            .read(move |store| {
                let o = store
                    .load_order(order)?
                    .ok_or_else(|| NodeError::NotFound("no such order".into()))?;
                let settings = store
                    .settings()?
                    .ok_or_else(|| NodeError::NotFound("the restaurant is not set up".into()))?;
                let code = store.receipt_code(order)?;
                let table = crate::receipt::table_name(store, &o)?;
                let text =
                    crate::receipt::render(&o, &settings, table.as_deref(), code.as_deref(), width)
                        .map_err(|e| NodeError::Refused(e.into()))?;
                Ok((text, code.unwrap_or_default()))
            })
            .await?;
        Ok(Response::new(v1::ReceiptReply { text, code }))
    }

    async fn split_bill(
        &self,
        request: GrpcRequest<v1::SplitBillRequest>,
    ) -> Result<Response<v1::SplitBillReply>, Status> {
        self.actor(&request)?;
        let r = request.into_inner();
        let order = OrderId(read_id("order", &r.order).map_err(bad)?);
        let lines = match &r.by {
            Some(v1::split_bill_request::By::Lines(l)) => {
                read_line_ids("lines", &l.lines).map_err(bad)?
            }
            _ => Vec::new(),
        };
        let o = self
            .read(move |store| {
                store
                    .load_order(order)?
                    .ok_or_else(|| NodeError::NotFound("no such order".into()))
            })
            .await?;
        let invalid = |e: mpos_domain::MoneyError| Status::invalid_argument(e.to_string());
        let t = o.totals().map_err(invalid)?;
        let part = |label: String, amount: Money| v1::SplitPart {
            label,
            amount: amount.minor(),
        };
        let parts = match r.by {
            Some(v1::split_bill_request::By::Seat(_)) => mpos_domain::split::by_seat(&o, &t)
                .map_err(|_| {
                    Status::failed_precondition(
                        "no line has a seat: add lines with seats, or split evenly",
                    )
                })?
                .into_iter()
                .map(|(seat, amount)| part(format!("seat {seat}"), amount))
                .collect(),
            Some(v1::split_bill_request::By::Evenly(n)) => {
                if n == 0 || n > 100 {
                    return Err(Status::invalid_argument("evenly: between 1 and 100 parts"));
                }
                mpos_domain::split::evenly(&t, n as usize)
                    .map_err(invalid)?
                    .into_iter()
                    .enumerate()
                    .map(|(i, amount)| part(format!("guest {}", i + 1), amount))
                    .collect()
            }
            Some(v1::split_bill_request::By::Lines(_)) => {
                if let Some(unknown) = lines.iter().find(|l| o.line(**l).is_none()) {
                    return Err(Status::not_found(format!(
                        "no line {unknown} on this order"
                    )));
                }
                let chosen = mpos_domain::split::by_lines(&o, &t, &lines).map_err(invalid)?;
                let rest = t.total.checked_sub(chosen).map_err(invalid)?;
                vec![
                    part("these lines".into(), chosen),
                    part("the rest".into(), rest),
                ]
            }
            None => return Err(Status::invalid_argument("by: give seat, evenly or lines")),
        };
        Ok(Response::new(v1::SplitBillReply {
            parts,
            total: t.total.minor(),
            balance: t.balance.minor(),
        }))
    }

    async fn open_drawer(
        &self,
        request: GrpcRequest<v1::OpenDrawerRequest>,
    ) -> Result<Response<v1::DrawerReply>, Status> {
        let actor = self.actor(&request)?;
        let currency = self.currency().await?;
        let r = request.into_inner();
        let drawer = DrawerId(read_id("drawer", &r.drawer).map_err(bad)?);
        let command = DrawerCommand::Open {
            name: r.name,
            float: Money::new(r.float, currency),
            location: None,
        };
        self.drawer_action(actor, request_id(&r.request_id)?, Some(drawer), command)
            .await
    }

    async fn move_cash(
        &self,
        request: GrpcRequest<v1::MoveCashRequest>,
    ) -> Result<Response<v1::DrawerReply>, Status> {
        let actor = self.actor(&request)?;
        let currency = self.currency().await?;
        let r = request.into_inner();
        let drawer = read_opt_id("drawer", &r.drawer).map_err(bad)?.map(DrawerId);
        let amount = Money::new(r.amount, currency);
        let command = if r.out {
            DrawerCommand::PayOut {
                amount,
                reason: r.reason,
            }
        } else {
            DrawerCommand::PayIn {
                amount,
                reason: r.reason,
            }
        };
        self.drawer_action(actor, request_id(&r.request_id)?, drawer, command)
            .await
    }

    async fn close_drawer(
        &self,
        request: GrpcRequest<v1::CloseDrawerRequest>,
    ) -> Result<Response<v1::DrawerReply>, Status> {
        let actor = self.actor(&request)?;
        let currency = self.currency().await?;
        let r = request.into_inner();
        let drawer = read_opt_id("drawer", &r.drawer).map_err(bad)?.map(DrawerId);
        let command = DrawerCommand::Close {
            counted: Money::new(r.counted, currency),
        };
        self.drawer_action(actor, request_id(&r.request_id)?, drawer, command)
            .await
    }

    async fn list_drawers(
        &self,
        request: GrpcRequest<v1::ListDrawersRequest>,
    ) -> Result<Response<v1::ListDrawersReply>, Status> {
        let actor = self.actor(&request)?;
        Self::require(actor, Permission::Drawer, "list drawer sessions")?;
        let limit = match request.get_ref().limit {
            0 => 20,
            n => n.min(1_000) as usize,
        };
        let node = self.node;
        let drawers = self
            .read(move |store| {
                let here = crate::store::node_location(store, node)?;
                Ok(store.recent_drawers(here, limit)?)
            })
            .await?;
        let drawers = drawers
            .iter()
            .map(drawer_view)
            .collect::<Result<_, _>>()
            .map_err(|e| status(NodeError::Internal(e.to_string())))?;
        Ok(Response::new(v1::ListDrawersReply { drawers }))
    }

    async fn get_day_report(
        &self,
        request: GrpcRequest<v1::GetDayReportRequest>,
    ) -> Result<Response<v1::DayReportView>, Status> {
        let actor = self.actor(&request)?;
        Self::require(actor, Permission::Reports, "see reports")?;
        let day = match request.get_ref().day {
            0 => None,
            n => Some(n),
        };
        Ok(Response::new(self.day_report(day).await?))
    }

    async fn close_day(
        &self,
        request: GrpcRequest<v1::CloseDayRequest>,
    ) -> Result<Response<v1::DayReportView>, Status> {
        let actor = self.actor(&request)?;
        let id = request_id(&request.get_ref().request_id)?;
        let applied = self
            .writer
            .apply(Request {
                id,
                action: Action::CloseDay,
                actor: Some(actor),
            })
            .await
            .map_err(status)?;
        let day = applied
            .events
            .iter()
            .find_map(|e| match e {
                mpos_domain::Event::DayClosed(d) => Some(d.day),
                _ => None,
            })
            .ok_or_else(|| status(NodeError::Internal("the day was not closed".into())))?;
        Ok(Response::new(self.day_report(Some(day)).await?))
    }

    async fn put_printer(
        &self,
        request: GrpcRequest<v1::PrinterView>,
    ) -> Result<Response<v1::PrinterView>, Status> {
        let actor = self.actor(&request)?;
        Self::require(actor, Permission::ManageMenu, "set up printers")?;
        let r = request.into_inner();
        let name = r.name.trim().to_string();
        if name.is_empty() {
            return Err(Status::invalid_argument(
                "name the printer (\"kitchen\", \"bar\")",
            ));
        }
        crate::printing::check_address(&r.address).map_err(Status::invalid_argument)?;
        let columns = match r.columns {
            0 | 48 => 48,
            32 => 32,
            n => {
                return Err(Status::invalid_argument(format!(
                    "{n} columns: printers take 32 (58 mm) or 48 (80 mm)"
                )));
            }
        };
        let stations = r
            .stations
            .iter()
            .map(|b| read_id("stations", b).map(StationId))
            .collect::<Result<Vec<_>, _>>()
            .map_err(bad)?;
        if stations.is_empty() && !r.receipts {
            return Err(Status::invalid_argument(
                "a printer prints kitchen tickets of some stations, receipts, or both",
            ));
        }
        let printer = Printer {
            name,
            address: r.address,
            stations,
            receipts: r.receipts,
            columns,
        };
        let view = printer_view(&printer);
        self.with_queue(move |q| Ok(q.put_printer(&printer)?))
            .await?;
        Ok(Response::new(view))
    }

    async fn remove_printer(
        &self,
        request: GrpcRequest<v1::RemovePrinterRequest>,
    ) -> Result<Response<v1::RemovePrinterReply>, Status> {
        let actor = self.actor(&request)?;
        Self::require(actor, Permission::ManageMenu, "set up printers")?;
        let name = request.into_inner().name;
        let removed = self
            .with_queue(move |q| Ok(q.remove_printer(&name)?))
            .await?;
        Ok(Response::new(v1::RemovePrinterReply { removed }))
    }

    async fn list_printers(
        &self,
        request: GrpcRequest<v1::ListPrintersRequest>,
    ) -> Result<Response<v1::ListPrintersReply>, Status> {
        self.actor(&request)?;
        let printers = self.with_queue(|q| Ok(q.printers()?)).await?;
        Ok(Response::new(v1::ListPrintersReply {
            printers: printers.iter().map(printer_view).collect(),
        }))
    }

    async fn print_receipt(
        &self,
        request: GrpcRequest<v1::PrintReceiptRequest>,
    ) -> Result<Response<v1::PrintJobsReply>, Status> {
        let actor = self.actor(&request)?;
        Self::require(actor, Permission::Sell, "print receipts")?;
        let r = request.into_inner();
        let rid = request_id(&r.request_id)?;
        let order = OrderId(read_id("order", &r.order).map_err(bad)?);
        let wanted = r.printer;
        let action = format!("print the receipt of order {order} on {wanted:?}");
        let jobs = self
            .with_queue(move |q| {
                if let Some(done) = q.print_request(rid, &action).map_err(reused_print)? {
                    return jobs_by_id(q, &done);
                }
                let o = q
                    .load_order(order)?
                    .ok_or_else(|| NodeError::NotFound("no such order".into()))?;
                let settings = q
                    .settings()?
                    .ok_or_else(|| NodeError::NotFound("the restaurant is not set up".into()))?;
                let code = q.receipt_code(order)?;
                let printers: Vec<Printer> = q
                    .printers()?
                    .into_iter()
                    .filter(|p| {
                        if wanted.is_empty() {
                            p.receipts
                        } else {
                            p.name == wanted
                        }
                    })
                    .collect();
                if printers.is_empty() {
                    return Err(NodeError::NotFound(if wanted.is_empty() {
                        "no printer prints receipts: add one with `mpos printer add`".into()
                    } else {
                        format!("no printer {wanted:?}")
                    }));
                }
                let table = crate::receipt::table_name(&*q, &o)?;
                let mut jobs = Vec::new();
                for p in printers {
                    let text = crate::receipt::render(
                        &o,
                        &settings,
                        table.as_deref(),
                        code.as_deref(),
                        p.columns as usize,
                    )
                    .map_err(|e| NodeError::Refused(e.into()))?;
                    let job = NewPrintJob {
                        printer: p.name.clone(),
                        kind: "receipt".into(),
                        order: Some(order),
                        title: format!("receipt #{}", o.number),
                        bytes: crate::escpos::receipt(&text, code.as_deref()),
                        reprint_of: None,
                    };
                    jobs.push(job);
                }
                let ids = q.queue_for_request(rid, &action, &jobs, clock::now_millis())?;
                jobs_by_id(q, &ids)
            })
            .await?;
        Ok(Response::new(v1::PrintJobsReply {
            jobs: jobs.iter().map(job_view).collect(),
        }))
    }

    async fn list_print_jobs(
        &self,
        request: GrpcRequest<v1::ListPrintJobsRequest>,
    ) -> Result<Response<v1::PrintJobsReply>, Status> {
        self.actor(&request)?;
        let limit = match request.get_ref().limit {
            0 => 20,
            n => n.min(1_000) as usize,
        };
        let jobs = self.with_queue(move |q| Ok(q.print_jobs(limit)?)).await?;
        Ok(Response::new(v1::PrintJobsReply {
            jobs: jobs.iter().map(job_view).collect(),
        }))
    }

    async fn reprint(
        &self,
        request: GrpcRequest<v1::ReprintRequest>,
    ) -> Result<Response<v1::PrintJobView>, Status> {
        let actor = self.actor(&request)?;
        if !actor.role.may(Permission::Sell) && !actor.role.may(Permission::Kitchen) {
            return Err(status(NodeError::Refused(Refusal::NotAllowed {
                role: actor.role.name(),
                action: "reprint".into(),
            })));
        }
        let r = request.into_inner();
        let (id, rid) = (r.job, request_id(&r.request_id)?);
        let action = format!("reprint job {id}");
        let job = self
            .with_queue(move |q| {
                if let Some(done) = q.print_request(rid, &action).map_err(reused_print)? {
                    return jobs_by_id(q, &done)?
                        .pop()
                        .ok_or_else(|| NodeError::Internal("the reprint vanished".into()));
                }
                let old = q
                    .print_job(id)?
                    .ok_or_else(|| NodeError::NotFound(format!("no print job {id}")))?;
                let mut marked = crate::escpos::Escpos::new();
                marked
                    .align(crate::escpos::Align::Center)
                    .bold(true)
                    .line(&format!("*** REPRINT of job {id} ***"))
                    .bold(false)
                    .align(crate::escpos::Align::Left);
                let mut bytes = marked.into_bytes();
                bytes.extend(&old.job.bytes);
                let job = NewPrintJob {
                    title: format!("reprint: {}", old.job.title),
                    bytes,
                    reprint_of: Some(id),
                    ..old.job
                };
                let new = q.queue_for_request(rid, &action, &[job], clock::now_millis())?;
                jobs_by_id(q, &new)?
                    .pop()
                    .ok_or_else(|| NodeError::Internal("the reprint vanished".into()))
            })
            .await?;
        Ok(Response::new(job_view(&job)))
    }

    async fn change_menu(
        &self,
        request: GrpcRequest<v1::ChangeMenuRequest>,
    ) -> Result<Response<v1::ChangeReply>, Status> {
        self.apply_menu_change(request).await
    }

    async fn get_menu(
        &self,
        request: GrpcRequest<v1::GetMenuRequest>,
    ) -> Result<Response<v1::MenuView>, Status> {
        self.read_menu(request).await
    }

    async fn list_items(
        &self,
        request: GrpcRequest<v1::ListItemsRequest>,
    ) -> Result<Response<v1::SearchItemsReply>, Status> {
        self.read_category_items(request).await
    }

    async fn get_item(
        &self,
        request: GrpcRequest<v1::GetItemRequest>,
    ) -> Result<Response<v1::MenuItemView>, Status> {
        self.read_item(request).await
    }

    async fn put_staff(
        &self,
        request: GrpcRequest<v1::PutStaffRequest>,
    ) -> Result<Response<v1::ChangeReply>, Status> {
        self.apply_staff(request).await
    }

    async fn set_pin(
        &self,
        request: GrpcRequest<v1::SetPinRequest>,
    ) -> Result<Response<v1::ChangeReply>, Status> {
        self.apply_pin(request).await
    }

    async fn put_table(
        &self,
        request: GrpcRequest<v1::PutTableRequest>,
    ) -> Result<Response<v1::ChangeReply>, Status> {
        self.apply_table(request).await
    }

    async fn list_tables(
        &self,
        request: GrpcRequest<v1::ListTablesRequest>,
    ) -> Result<Response<v1::ListTablesReply>, Status> {
        self.read_floor(request).await
    }

    type WatchTablesStream = live::Push<v1::ListTablesReply>;

    async fn watch_tables(
        &self,
        request: GrpcRequest<v1::ListTablesRequest>,
    ) -> Result<Response<Self::WatchTablesStream>, Status> {
        self.watch_floor(request).await
    }

    async fn get_kitchen(
        &self,
        request: GrpcRequest<v1::GetKitchenRequest>,
    ) -> Result<Response<v1::KitchenView>, Status> {
        self.get_kitchen_view(request).await
    }

    type WatchKitchenStream = live::Push<v1::KitchenView>;

    async fn watch_kitchen(
        &self,
        request: GrpcRequest<v1::GetKitchenRequest>,
    ) -> Result<Response<Self::WatchKitchenStream>, Status> {
        self.watch_kitchen_view(request).await
    }

    async fn bump_ticket(
        &self,
        request: GrpcRequest<v1::BumpTicketRequest>,
    ) -> Result<Response<v1::OrderReply>, Status> {
        self.bump(request, true).await
    }

    async fn recall_ticket(
        &self,
        request: GrpcRequest<v1::BumpTicketRequest>,
    ) -> Result<Response<v1::OrderReply>, Status> {
        self.bump(request, false).await
    }

    async fn list_orders(
        &self,
        request: GrpcRequest<v1::ListOrdersRequest>,
    ) -> Result<Response<v1::ListOrdersReply>, Status> {
        let actor = self.actor(&request)?;
        Ok(Response::new(
            self.order_list(actor, request.into_inner()).await?,
        ))
    }

    async fn change_stock(
        &self,
        request: GrpcRequest<v1::ChangeStockRequest>,
    ) -> Result<Response<v1::ChangeStockReply>, Status> {
        self.change_stock_request(request).await
    }

    async fn get_stock(
        &self,
        request: GrpcRequest<v1::GetStockRequest>,
    ) -> Result<Response<v1::StockView>, Status> {
        self.stock_view(request).await
    }

    async fn get_stock_usage(
        &self,
        request: GrpcRequest<v1::GetStockUsageRequest>,
    ) -> Result<Response<v1::StockUsageView>, Status> {
        self.stock_usage(request).await
    }

    async fn get_food_cost(
        &self,
        request: GrpcRequest<v1::GetFoodCostRequest>,
    ) -> Result<Response<v1::FoodCostView>, Status> {
        self.food_cost(request).await
    }

    async fn list_nodes(
        &self,
        request: GrpcRequest<v1::ListNodesRequest>,
    ) -> Result<Response<v1::ListNodesReply>, Status> {
        self.organization_nodes(request).await
    }

    async fn invite_node(
        &self,
        request: GrpcRequest<v1::InviteNodeRequest>,
    ) -> Result<Response<v1::InviteNodeReply>, Status> {
        self.invite_terminal(request).await
    }

    async fn revoke_node(
        &self,
        request: GrpcRequest<v1::RevokeNodeRequest>,
    ) -> Result<Response<v1::ChangeReply>, Status> {
        self.revoke(request).await
    }

    async fn get_sales(
        &self,
        request: GrpcRequest<v1::GetSalesRequest>,
    ) -> Result<Response<v1::SalesView>, Status> {
        let actor = self.actor(&request)?;
        Ok(Response::new(
            self.sales(actor, request.into_inner()).await?,
        ))
    }
}
