//! Live views: the floor and the kitchen display, pushed to clients as server streams.
//! A stream sends the whole view at once, then again after each durable change that
//! alters it, so a client that reconnects is up to date with its first message, and no
//! view shows a write that power loss could take back.

use std::time::Duration;

use mpos_domain::ids::{StationId, TableId};
use mpos_domain::order::Command;
use mpos_domain::staff::Permission;
use mpos_proto::event::{read_line_ids, read_opt_id};
use mpos_proto::v1;
use mpos_proto::view::kitchen_view;
use mpos_store::PosStore;
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request as GrpcRequest, Response, Status};

use super::{PosApi, bad};
use crate::clock;
use crate::error::NodeError;
use crate::store::node_location;

/// How long a live view waits after a change before reading again: under a rush of
/// sales it reads a few times a second, not once per commit.
const SETTLE: Duration = Duration::from_millis(50);

/// Bumped tickets kept on the kitchen display for recall: this long after their bump.
const RECALL_MILLIS: u64 = 30 * 60 * 1000;

pub type Push<T> = ReceiverStream<Result<T, Status>>;

/// Streams what `read` returns now, then again whenever the durable ledger grows and the
/// view it returns is different, until `closing` turns true; `stamp` marks each view sent (with the time, say) after
/// the comparison. Ends when the client goes or a read fails (the client reconnects).
pub fn push<T, F, Fut>(
    mut changes: watch::Receiver<u64>,
    mut closing: watch::Receiver<bool>,
    read: F,
    stamp: impl Fn(&mut T) + Send + 'static,
) -> Push<T>
where
    T: PartialEq + Clone + Send + Sync + 'static,
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, Status>> + Send,
{
    let (tx, rx) = mpsc::channel(2);
    tokio::spawn(async move {
        let mut last: Option<T> = None;
        loop {
            changes.borrow_and_update();
            match read().await {
                Ok(v) if last.as_ref() == Some(&v) => {}
                Ok(v) => {
                    last = Some(v.clone());
                    let mut v = v;
                    stamp(&mut v);
                    if tx.send(Ok(v)).await.is_err() {
                        return;
                    }
                }
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            }
            tokio::select! {
                changed = changes.changed() => {
                    if changed.is_err() {
                        return; // the writer stopped: the node is going down
                    }
                }
                () = tx.closed() => return,
                // The node is stopping: end the stream; the client reconnects to the next.
                _ = closing.wait_for(|c| *c) => return,
            }
            tokio::time::sleep(SETTLE).await;
        }
    });
    ReceiverStream::new(rx)
}

impl PosApi {
    /// A live view over `read` that ends when the node stops (see `push`).
    pub(super) fn live<T, F, Fut>(
        &self,
        read: F,
        stamp: impl Fn(&mut T) + Send + 'static,
    ) -> Push<T>
    where
        T: PartialEq + Clone + Send + Sync + 'static,
        F: Fn() -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, Status>> + Send,
    {
        push(
            self.writer.durable().watch(),
            self.closing.subscribe(),
            read,
            stamp,
        )
    }

    /// The floor: every table with its open orders (and what the kitchen has done).
    pub(super) async fn floor_view(
        &self,
        include_inactive: bool,
    ) -> Result<v1::ListTablesReply, Status> {
        let node = self.node;
        self.read(move |store| {
            let here = node_location(store, node)?;
            let tables: Vec<_> = store
                .tables()?
                .into_iter()
                .filter(|t| here.is_none() || t.location.is_none() || t.location == here)
                .collect();
            let open = store.open_orders(here)?;
            super::back_office::floor_reply(&tables, &open, include_inactive)
        })
        .await
    }

    pub(super) async fn watch_floor(
        &self,
        request: GrpcRequest<v1::ListTablesRequest>,
    ) -> Result<Response<Push<v1::ListTablesReply>>, Status> {
        let actor = self.actor(&request)?;
        Self::require(actor, Permission::Sell, "see the floor")?;
        let include_inactive = request.get_ref().include_inactive;
        let api = self.clone();
        Ok(Response::new(self.live(
            move || {
                let api = api.clone();
                async move { api.floor_view(include_inactive).await }
            },
            |_| {},
        )))
    }

    pub(super) async fn kitchen(
        &self,
        station: Option<StationId>,
        bumped: u32,
    ) -> Result<v1::KitchenView, Status> {
        let bumped = match bumped {
            0 => 8,
            n => n.min(50),
        } as usize;
        let node = self.node;
        self.read(move |store| {
            let now = clock::now_millis();
            let here = node_location(store, node)?;
            let orders = store.kitchen_orders(here, now.saturating_sub(RECALL_MILLIS))?;
            let tables = store.tables()?;
            let name = |t: TableId| {
                tables
                    .iter()
                    .find(|x| x.id == t)
                    .map(|x| x.name.clone())
                    .unwrap_or_default()
            };
            kitchen_view(&orders, station, bumped, now, name)
                .map_err(|e| NodeError::Internal(e.to_string()))
        })
        .await
    }

    fn kitchen_request<T>(
        &self,
        request: &GrpcRequest<T>,
        station: &[u8],
    ) -> Result<Option<StationId>, Status> {
        let actor = self.actor(request)?;
        // Cooks, and whoever runs the pass or sells, see the display; only cooks bump.
        if !actor.role.may(Permission::Kitchen) && !actor.role.may(Permission::Sell) {
            Self::require(actor, Permission::Kitchen, "see the kitchen display")?;
        }
        Ok(read_opt_id("station", station).map_err(bad)?.map(StationId))
    }

    pub(super) async fn get_kitchen_view(
        &self,
        request: GrpcRequest<v1::GetKitchenRequest>,
    ) -> Result<Response<v1::KitchenView>, Status> {
        let station = self.kitchen_request(&request, &request.get_ref().station)?;
        Ok(Response::new(
            self.kitchen(station, request.get_ref().bumped).await?,
        ))
    }

    pub(super) async fn watch_kitchen_view(
        &self,
        request: GrpcRequest<v1::GetKitchenRequest>,
    ) -> Result<Response<Push<v1::KitchenView>>, Status> {
        let station = self.kitchen_request(&request, &request.get_ref().station)?;
        let bumped = request.get_ref().bumped;
        let api = self.clone();
        // Age timers run on the display; the node's clock comes with each change.
        Ok(Response::new(self.live(
            move || {
                let api = api.clone();
                async move {
                    let mut view = api.kitchen(station, bumped).await?;
                    view.now = 0;
                    Ok(view)
                }
            },
            |v| v.now = clock::now_millis(),
        )))
    }

    pub(super) async fn bump(
        &self,
        request: GrpcRequest<v1::BumpTicketRequest>,
        bump: bool,
    ) -> Result<Response<v1::OrderReply>, Status> {
        self.command(request, |r| {
            let lines = read_line_ids("lines", &r.lines).map_err(bad)?;
            let command = if bump {
                Command::Bump { lines }
            } else {
                Command::Recall { lines }
            };
            Ok((r.request_id.clone(), r.order.clone(), command))
        })
        .await
    }
}
