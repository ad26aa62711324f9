//! The guest API (`mpos.v1.Guest`): what a customer may do from a table's link. The
//! table's token is the only credential and it opens only this: the menu, ordering to that
//! table, and following the orders placed from it. A guest's round goes through the same
//! writer as a register's (request id, ledger, projections), recorded as `GUEST`.

use mpos_domain::floor::{MIN_TOKEN, Table};
use mpos_domain::ids::{CategoryId, OrderId};
use mpos_domain::order::{Order, OrderKind, Source};
use mpos_domain::staff::{Actor, GUEST, Role};
use mpos_proto::event::{category_to_wire, mode_to_wire, read_id};
use mpos_proto::v1::{self, guest_server::Guest};
use mpos_proto::view::order_view;
use mpos_store::PosStore;
use tonic::{Request as GrpcRequest, Response, Status};

use super::live::Push;
use super::{PosApi, bad, new_line, request_id, status};
use crate::error::NodeError;
use crate::pos::{Action, OrderAction, Request};

/// Most lines in one round from the table: a family's order, not a flood.
const MAX_LINES: usize = 50;

/// The service behind `mpos.v1.Guest`; it shares the register's node handles.
#[derive(Debug, Clone)]
pub struct GuestApi {
    pos: PosApi,
}

fn unknown_link() -> Status {
    Status::not_found("this table link is not valid any more: ask the staff for a new one")
}

fn internal(e: impl std::fmt::Display) -> NodeError {
    NodeError::Internal(e.to_string())
}

/// The order as a guest at `table` may see it: one of theirs, placed from this table.
fn guests_order(order: Option<Order>, table: &Table) -> Result<Order, NodeError> {
    match order {
        Some(o)
            if o.source == Source::SelfOrder
                && matches!(o.kind, OrderKind::DineIn { table: Some(t), .. } if t == table.id) =>
        {
            Ok(o)
        }
        _ => Err(NodeError::NotFound("no such order at this table".into())),
    }
}

impl GuestApi {
    pub fn new(pos: PosApi) -> GuestApi {
        GuestApi { pos }
    }

    /// The table in service whose link carries `token`.
    async fn table(&self, token: &str) -> Result<Table, Status> {
        let token = token.trim().to_string();
        if token.len() < MIN_TOKEN {
            return Err(unknown_link());
        }
        self.pos
            .read(move |store| {
                Ok(store
                    .tables()?
                    .into_iter()
                    .find(|t| t.active && t.token == token))
            })
            .await?
            .ok_or_else(unknown_link)
    }

    async fn order_view(&self, table: Table, order: &[u8]) -> Result<v1::GuestOrderView, Status> {
        let id = OrderId(read_id("order", order).map_err(bad)?);
        self.pos
            .read(move |store| {
                let o = guests_order(store.load_order(id)?, &table)?;
                Ok(v1::GuestOrderView {
                    order: Some(order_view(&o).map_err(internal)?),
                    table: table.name.clone(),
                    replayed: false,
                })
            })
            .await
    }
}

#[tonic::async_trait]
impl Guest for GuestApi {
    async fn get_table(
        &self,
        request: GrpcRequest<v1::GuestTableRequest>,
    ) -> Result<Response<v1::GuestTableView>, Status> {
        let table = self.table(&request.get_ref().token).await?;
        let settings = self.pos.settings().await?;
        let categories = self.pos.read(|store| Ok(store.categories()?)).await?;
        Ok(Response::new(v1::GuestTableView {
            restaurant: settings.name,
            table: table.name,
            currency: settings.currency.code().to_string(),
            mode: mode_to_wire(settings.price_mode).into(),
            categories: categories.iter().map(category_to_wire).collect(),
        }))
    }

    async fn list_items(
        &self,
        request: GrpcRequest<v1::GuestItemsRequest>,
    ) -> Result<Response<v1::SearchItemsReply>, Status> {
        let r = request.into_inner();
        self.table(&r.token).await?;
        let query = r.query.trim().to_string();
        let category = if query.is_empty() {
            Some(CategoryId(read_id("category", &r.category).map_err(bad)?))
        } else {
            None
        };
        let items = self
            .pos
            .read(move |store| {
                let items = match category {
                    Some(c) => store.category_items(c, 0, 200)?,
                    None => store.search_items(&query, 40)?,
                };
                items
                    .into_iter()
                    .map(|item| super::back_office::item_view(store, item))
                    .collect::<Result<Vec<_>, _>>()
            })
            .await?;
        Ok(Response::new(v1::SearchItemsReply { items }))
    }

    async fn place_order(
        &self,
        request: GrpcRequest<v1::PlaceOrderRequest>,
    ) -> Result<Response<v1::GuestOrderView>, Status> {
        let r = request.into_inner();
        let table = self.table(&r.token).await?;
        if r.lines.is_empty() {
            return Err(Status::invalid_argument("the order has no items"));
        }
        if r.lines.len() > MAX_LINES {
            return Err(Status::invalid_argument(format!(
                "at most {MAX_LINES} items at a time; send the rest as another round"
            )));
        }
        // The register's settings check: no order before the restaurant is set up.
        self.pos.settings().await?;
        let rid = request_id(&r.request_id)?;
        let order = OrderId(read_id("order", &r.order).map_err(bad)?);
        let mut lines = r
            .lines
            .into_iter()
            .map(new_line)
            .collect::<Result<Vec<_>, _>>()?;
        for l in &mut lines {
            // A guest orders for the table, not for a seat.
            l.seat = None;
        }
        let tail = order.0.to_be_bytes();
        let applied = self
            .pos
            .writer
            .apply(Request {
                id: rid,
                action: Action::Order {
                    order,
                    command: OrderAction::SelfOrder {
                        table: table.id,
                        number: format!("{}-{}", table.name, hex::encode(&tail[14..])),
                        lines,
                    },
                },
                actor: Some(Actor {
                    staff: GUEST,
                    role: Role::Guest,
                }),
            })
            .await
            .map_err(status)?;
        let o = applied
            .order
            .as_ref()
            .ok_or_else(|| status(internal("a self-order request returned no order")))?;
        Ok(Response::new(v1::GuestOrderView {
            order: Some(order_view(o).map_err(|e| status(internal(e)))?),
            table: table.name,
            replayed: applied.replayed,
        }))
    }

    async fn get_order(
        &self,
        request: GrpcRequest<v1::GuestOrderRequest>,
    ) -> Result<Response<v1::GuestOrderView>, Status> {
        let r = request.into_inner();
        let table = self.table(&r.token).await?;
        Ok(Response::new(self.order_view(table, &r.order).await?))
    }

    type WatchOrderStream = Push<v1::GuestOrderView>;

    async fn watch_order(
        &self,
        request: GrpcRequest<v1::GuestOrderRequest>,
    ) -> Result<Response<Self::WatchOrderStream>, Status> {
        let r = request.into_inner();
        let table = self.table(&r.token).await?;
        // Refuse a bad order id now rather than as the stream's first message.
        self.order_view(table.clone(), &r.order).await?;
        let api = self.clone();
        Ok(Response::new(self.pos.live(
            move || {
                let (api, table, order) = (api.clone(), table.clone(), r.order.clone());
                async move { api.order_view(table, &order).await }
            },
            |_| {},
        )))
    }
}
