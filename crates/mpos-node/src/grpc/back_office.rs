//! The back office's calls: the menu, the staff list and the floor. Each change is a
//! request like any sale (request id, ledger, projections); reads go to the reader.

use std::collections::HashMap;

use mpos_domain::floor::{FloorCommand, Table};
use mpos_domain::ids::{CategoryId, ItemId, StaffId, TableId};
use mpos_domain::menu::{MenuChange, MenuCommand};
use mpos_domain::order::Order;
use mpos_domain::staff::{Permission, StaffCommand, StaffMember};
use mpos_proto::event::{
    category_to_wire, group_to_wire, id, menu_from_wire, menu_item_to_wire, read_id,
    role_from_wire, settings_to_wire, table_from_wire, table_to_wire, tax_category_to_wire,
};
use mpos_proto::v1::{self, change_menu_request::Change as Wire, menu_event};
use mpos_proto::view::order_view;
use mpos_store::PosStore;
use tonic::{Request as GrpcRequest, Response, Status};

use super::{PosApi, bad, request_id, status};
use crate::error::NodeError;
use crate::pos::{Action, Applied, Request};

fn change_reply(applied: Applied) -> Response<v1::ChangeReply> {
    Response::new(v1::ChangeReply {
        replayed: applied.replayed,
        first_seq: applied.first_seq,
        last_seq: applied.last_seq,
    })
}

/// The wire's put of a whole entry becomes the menu command that puts it.
fn menu_command(change: MenuChange) -> MenuCommand {
    match change {
        MenuChange::SettingsPut(s) => MenuCommand::PutSettings(s),
        MenuChange::TaxCategoryPut(t) => MenuCommand::PutTaxCategory(t),
        MenuChange::CategoryPut(c) => MenuCommand::PutCategory(c),
        MenuChange::ModifierGroupPut(g) => MenuCommand::PutModifierGroup(g),
        MenuChange::ItemPut(i) => MenuCommand::PutItem(i),
        MenuChange::AvailabilitySet { item, available } => {
            MenuCommand::SetAvailable { item, available }
        }
    }
}

pub(super) fn item_view(
    store: &impl PosStore,
    item: mpos_domain::catalog::Item,
) -> Result<v1::MenuItemView, NodeError> {
    let mut groups = Vec::new();
    for g in &item.modifier_groups {
        groups.extend(store.modifier_group(*g)?);
    }
    Ok(v1::MenuItemView {
        item: Some(menu_item_to_wire(&item)),
        modifier_groups: groups.iter().map(group_to_wire).collect(),
    })
}

impl PosApi {
    async fn apply(
        &self,
        actor: mpos_domain::staff::Actor,
        request_id: u128,
        action: Action,
    ) -> Result<Response<v1::ChangeReply>, Status> {
        let applied = self
            .writer
            .apply(Request {
                id: request_id,
                action,
                actor: Some(actor),
            })
            .await
            .map_err(status)?;
        Ok(change_reply(applied))
    }

    pub(super) async fn apply_menu_change(
        &self,
        request: GrpcRequest<v1::ChangeMenuRequest>,
    ) -> Result<Response<v1::ChangeReply>, Status> {
        let actor = self.actor(&request)?;
        let r = request.into_inner();
        let rid = request_id(&r.request_id)?;
        let change = r
            .change
            .ok_or_else(|| Status::invalid_argument("change: say what to put"))?;
        // Amounts are in the restaurant's currency; settings bring their own.
        let currency = match &change {
            Wire::Settings(_) | Wire::TaxCategory(_) | Wire::Category(_) => String::new(),
            Wire::Availability(_) => String::new(),
            Wire::ModifierGroup(_) | Wire::Item(_) => self.currency().await?.code().to_string(),
        };
        let change = match change {
            Wire::Settings(s) => menu_event::Change::SettingsPut(s),
            Wire::TaxCategory(t) => menu_event::Change::TaxCategoryPut(t),
            Wire::Category(c) => menu_event::Change::CategoryPut(c),
            Wire::ModifierGroup(g) => menu_event::Change::ModifierGroupPut(g),
            Wire::Item(i) => menu_event::Change::ItemPut(i),
            Wire::Availability(a) => menu_event::Change::AvailabilitySet(a),
        };
        let event = menu_from_wire(v1::MenuEvent {
            by: id(actor.staff.0),
            at: 0,
            currency,
            change: Some(change),
        })
        .map_err(bad)?;
        let settings = matches!(event.change, MenuChange::SettingsPut(_));
        let reply = self
            .apply(actor, rid, Action::Menu(menu_command(event.change)))
            .await;
        if settings {
            self.forget_settings();
        }
        reply
    }

    pub(super) async fn read_menu(
        &self,
        request: GrpcRequest<v1::GetMenuRequest>,
    ) -> Result<Response<v1::MenuView>, Status> {
        self.actor(&request)?;
        let (settings, taxes, categories, groups) = self
            .read(|store| {
                Ok((
                    store.settings()?,
                    store.tax_categories()?,
                    store.categories()?,
                    store.modifier_groups()?,
                ))
            })
            .await?;
        Ok(Response::new(v1::MenuView {
            settings: settings.as_ref().map(settings_to_wire),
            tax_categories: taxes.iter().map(tax_category_to_wire).collect(),
            categories: categories.iter().map(category_to_wire).collect(),
            modifier_groups: groups.iter().map(group_to_wire).collect(),
        }))
    }

    pub(super) async fn read_category_items(
        &self,
        request: GrpcRequest<v1::ListItemsRequest>,
    ) -> Result<Response<v1::SearchItemsReply>, Status> {
        self.actor(&request)?;
        let r = request.into_inner();
        let category = CategoryId(read_id("category", &r.category).map_err(bad)?);
        let limit = match r.limit {
            0 => 50,
            n => n.min(200),
        } as usize;
        let items = self
            .read(move |store| {
                if store.category(category)?.is_none() {
                    return Err(NodeError::NotFound(format!("no category {category}")));
                }
                store
                    .category_items(category, r.offset as usize, limit)?
                    .into_iter()
                    .map(|i| item_view(store, i))
                    .collect::<Result<Vec<_>, _>>()
            })
            .await?;
        Ok(Response::new(v1::SearchItemsReply { items }))
    }

    pub(super) async fn read_item(
        &self,
        request: GrpcRequest<v1::GetItemRequest>,
    ) -> Result<Response<v1::MenuItemView>, Status> {
        self.actor(&request)?;
        let item = ItemId(read_id("item", &request.get_ref().item).map_err(bad)?);
        let view = self
            .read(move |store| {
                let found = store
                    .item(item)?
                    .ok_or_else(|| NodeError::NotFound(format!("no item {item}")))?;
                item_view(store, found)
            })
            .await?;
        Ok(Response::new(view))
    }

    pub(super) async fn apply_staff(
        &self,
        request: GrpcRequest<v1::PutStaffRequest>,
    ) -> Result<Response<v1::ChangeReply>, Status> {
        let actor = self.actor(&request)?;
        let r = request.into_inner();
        let member = StaffMember {
            id: StaffId(read_id("id", &r.id).map_err(bad)?),
            name: r.name,
            role: role_from_wire(r.role).map_err(bad)?,
            active: r.active,
        };
        let action = Action::Staff(StaffCommand::Put(member));
        self.apply(actor, request_id(&r.request_id)?, action).await
    }

    pub(super) async fn apply_pin(
        &self,
        request: GrpcRequest<v1::SetPinRequest>,
    ) -> Result<Response<v1::ChangeReply>, Status> {
        let actor = self.actor(&request)?;
        let r = request.into_inner();
        let action = Action::Staff(StaffCommand::SetPin {
            staff: StaffId(read_id("staff", &r.staff).map_err(bad)?),
            pin: r.pin,
        });
        self.apply(actor, request_id(&r.request_id)?, action).await
    }

    pub(super) async fn apply_table(
        &self,
        request: GrpcRequest<v1::PutTableRequest>,
    ) -> Result<Response<v1::ChangeReply>, Status> {
        let actor = self.actor(&request)?;
        let r = request.into_inner();
        let table = r
            .table
            .ok_or_else(|| Status::invalid_argument("table: missing"))?;
        let mut table = table_from_wire(table).map_err(bad)?;
        if r.new_link || table.token.is_empty() {
            // An empty token keeps the table's link; a new table, or a new link, gets one.
            let id = table.id;
            let kept = self
                .read(move |store| {
                    Ok(store
                        .tables()?
                        .into_iter()
                        .find(|t| t.id == id)
                        .map(|t| t.token))
                })
                .await?
                .filter(|t| !t.is_empty() && !r.new_link);
            table.token = match kept {
                Some(t) => t,
                None => super::new_table_token().map_err(status)?,
            };
        }
        let action = Action::Floor(FloorCommand::PutTable(table));
        self.apply(actor, request_id(&r.request_id)?, action).await
    }

    pub(super) async fn read_floor(
        &self,
        request: GrpcRequest<v1::ListTablesRequest>,
    ) -> Result<Response<v1::ListTablesReply>, Status> {
        let actor = self.actor(&request)?;
        // The floor view is for whoever seats guests and takes orders.
        Self::require(actor, Permission::Sell, "see the floor")?;
        Ok(Response::new(
            self.floor_view(request.get_ref().include_inactive).await?,
        ))
    }
}

/// Every table (in service, or all) with the open orders seated at it.
pub(super) fn floor_reply(
    tables: &[Table],
    open: &[Order],
    include_inactive: bool,
) -> Result<v1::ListTablesReply, NodeError> {
    let mut at: HashMap<TableId, Vec<v1::OrderView>> = HashMap::new();
    for o in open {
        if let mpos_domain::order::OrderKind::DineIn { table: Some(t), .. } = o.kind {
            at.entry(t)
                .or_default()
                .push(order_view(o).map_err(|e| NodeError::Internal(e.to_string()))?);
        }
    }
    let tables = tables
        .iter()
        .filter(|t| t.active || include_inactive)
        .map(|t| v1::TableView {
            table: Some(table_to_wire(t)),
            orders: at.remove(&t.id).unwrap_or_default(),
        })
        .collect();
    Ok(v1::ListTablesReply { tables })
}
