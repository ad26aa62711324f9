//! The floor: the restaurant's tables, where dine-in orders sit. A table is set up once
//! (name, seats, area) and taken out of service rather than deleted, so old orders keep
//! pointing at a table that existed. Which orders are open at a table is not stored here:
//! it is read from the open orders.

use crate::ids::{LocationId, StaffId, TableId};
use crate::refusal::Refusal;
use crate::staff::{Actor, Permission};

/// Longest table or area name: it must fit a button on the floor view and a kitchen ticket.
const MAX_NAME: usize = 40;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    pub id: TableId,
    /// What staff call it: "T4", "Bar 2", "Patio 1". Unique among tables in service.
    pub name: String,
    /// Chairs at the table, a hint for seating (an order may seat more).
    pub seats: u32,
    /// The room or section it stands in ("Terrace"); empty when the floor is one room.
    pub area: String,
    /// False once taken out of service: no new orders, but its history stays.
    pub active: bool,
    /// The secret of the table's self-ordering link (`/t/<token>`); empty: no link.
    pub token: String,
    /// The restaurant it stands in: the location of the node that set it up. Its orders
    /// belong there. None (set up on a node that sold at no location yet): it is on
    /// every restaurant's floor.
    pub location: Option<LocationId>,
}

impl Table {
    /// Whether both stand on one floor: at one restaurant, or one of them at none (on
    /// every floor).
    pub fn shares_floor_with(&self, other: &Table) -> bool {
        self.location.is_none() || other.location.is_none() || self.location == other.location
    }
}

/// Shortest self-ordering token: 96 random bits in base64url is 16 characters.
pub const MIN_TOKEN: usize = 16;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FloorCommand {
    /// Add a table or replace one whole (rename, move, take out of service).
    PutTable(Table),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FloorChange {
    TablePut(Table),
}

/// A change to the floor, with who made it and when (milliseconds since the epoch).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FloorEvent {
    pub by: StaffId,
    pub at: u64,
    pub change: FloorChange,
}

/// Checks a floor command against the tables now on the floor (a floor is small: the
/// node hands over all of it).
pub fn decide_floor(
    command: &FloorCommand,
    actor: Actor,
    tables: &[Table],
) -> Result<Vec<FloorChange>, Refusal> {
    if !actor.role.may(Permission::ManageMenu) {
        return Err(Refusal::NotAllowed {
            role: actor.role.name(),
            action: "set up tables".into(),
        });
    }
    match command {
        FloorCommand::PutTable(table) => {
            let name = table.name.trim();
            if name.is_empty() {
                return Err(Refusal::Invalid("a table needs a name".into()));
            }
            if name != table.name {
                return Err(Refusal::Invalid(format!(
                    "table name {:?} starts or ends with spaces",
                    table.name
                )));
            }
            if name.chars().count() > MAX_NAME || table.area.chars().count() > MAX_NAME {
                return Err(Refusal::Invalid(format!(
                    "table and area names are at most {MAX_NAME} characters"
                )));
            }
            if table.seats == 0 || table.seats > 100 {
                return Err(Refusal::Invalid(
                    "a table has between 1 and 100 seats".into(),
                ));
            }
            if table.active
                && let Some(other) = tables.iter().find(|t| {
                    t.active
                        && t.id != table.id
                        && t.shares_floor_with(table)
                        && t.name.eq_ignore_ascii_case(name)
                })
            {
                return Err(Refusal::Invalid(format!(
                    "another table in service is already called {}",
                    other.name
                )));
            }
            if !table.token.is_empty()
                && (table.token.len() < MIN_TOKEN
                    || table.token.len() > 64
                    || !table
                        .token
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
            {
                return Err(Refusal::Invalid(format!(
                    "a table's link token is {MIN_TOKEN} to 64 letters, digits, '-' or '_'"
                )));
            }
            if !table.token.is_empty()
                && let Some(other) = tables
                    .iter()
                    .find(|t| t.id != table.id && t.token == table.token)
            {
                return Err(Refusal::Invalid(format!(
                    "table {} already has that link token",
                    other.name
                )));
            }
            if tables.iter().any(|t| t.id == table.id && *t == *table) {
                return Err(Refusal::Invalid(format!(
                    "table {} is already set up like that",
                    table.name
                )));
            }
            Ok(vec![FloorChange::TablePut(table.clone())])
        }
    }
}

/// The floor after `change`.
pub fn apply_floor(tables: &mut Vec<Table>, change: &FloorChange) {
    match change {
        FloorChange::TablePut(table) => match tables.iter_mut().find(|t| t.id == table.id) {
            Some(t) => *t = table.clone(),
            None => tables.push(table.clone()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::staff::Role;

    fn actor(role: Role) -> Actor {
        Actor {
            staff: StaffId(1),
            role,
        }
    }

    fn table(id: u128, name: &str) -> Table {
        Table {
            id: TableId(id),
            name: name.into(),
            seats: 4,
            area: String::new(),
            active: true,
            token: String::new(),
            location: None,
        }
    }

    fn put(t: &Table, floor: &[Table], role: Role) -> Result<Vec<FloorChange>, Refusal> {
        decide_floor(&FloorCommand::PutTable(t.clone()), actor(role), floor)
    }

    #[test]
    fn a_manager_sets_up_and_renames_tables() {
        let mut floor = Vec::new();
        for change in put(&table(1, "T1"), &floor, Role::Manager).unwrap() {
            apply_floor(&mut floor, &change);
        }
        let renamed = Table {
            name: "Window 1".into(),
            ..table(1, "T1")
        };
        for change in put(&renamed, &floor, Role::Owner).unwrap() {
            apply_floor(&mut floor, &change);
        }
        assert_eq!(floor, vec![renamed]);
    }

    #[test]
    fn only_managers_and_owners_set_up_tables() {
        for role in [Role::Cashier, Role::Server, Role::Kitchen] {
            assert!(matches!(
                put(&table(1, "T1"), &[], role),
                Err(Refusal::NotAllowed { .. })
            ));
        }
    }

    #[test]
    fn names_are_unique_among_tables_in_service() {
        let floor = vec![table(1, "T1")];
        let clash = put(&table(2, "t1"), &floor, Role::Manager).unwrap_err();
        assert!(clash.to_string().contains("already called T1"), "{clash}");
        // A table out of service frees its name.
        let retired = vec![Table {
            active: false,
            ..table(1, "T1")
        }];
        assert!(put(&table(2, "T1"), &retired, Role::Manager).is_ok());
    }

    #[test]
    fn each_restaurant_of_an_organization_has_its_own_table_names() {
        let at = |id, location| Table {
            location: Some(LocationId(location)),
            ..table(id, "T1")
        };
        let floor = vec![at(1, 10)];
        assert!(put(&at(2, 11), &floor, Role::Manager).is_ok());
        assert!(put(&at(2, 10), &floor, Role::Manager).is_err());
        // A table placed nowhere is on every floor.
        assert!(put(&table(2, "T1"), &floor, Role::Manager).is_err());
        assert!(put(&at(2, 11), &[table(1, "T1")], Role::Manager).is_err());
    }

    #[test]
    fn bad_tables_are_refused() {
        let empty = table(1, "  ");
        let zero = Table {
            seats: 0,
            ..table(1, "T1")
        };
        let padded = table(1, " T1");
        let long = table(1, &"T".repeat(41));
        for t in [empty, zero, padded, long] {
            assert!(
                matches!(put(&t, &[], Role::Owner), Err(Refusal::Invalid(_))),
                "{t:?}"
            );
        }
        let same = table(1, "T1");
        assert!(put(&same, std::slice::from_ref(&same), Role::Owner).is_err());
    }
}
