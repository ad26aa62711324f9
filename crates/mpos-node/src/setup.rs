//! Setting up a new restaurant on a node: its settings and its first owner. This runs on
//! the node's machine (it needs the data directory), never over the network: until an
//! owner has a PIN, nobody can log in, and the first owner must not be claimable by
//! whoever reaches the port first. Everything else is then done by logged-in staff.

use std::path::Path;

use mpos_domain::ids::StaffId;
use mpos_domain::menu::{MenuCommand, Settings};
use mpos_domain::staff::{Actor, Role, StaffCommand, StaffMember};
use mpos_store::PosStore;

use crate::error::NodeError;
use crate::pos::{Action, PosService, Request};
use crate::{DataDir, Ledger, clock};

/// What `mpos setup` asks for.
#[derive(Debug, Clone)]
pub struct NewRestaurant {
    pub settings: Settings,
    pub owner_name: String,
    pub owner_pin: String,
}

fn random_id() -> Result<u128, NodeError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| NodeError::Internal(format!("no randomness for an id: {e}")))?;
    Ok(u128::from_be_bytes(bytes))
}

/// Creates (or opens) the data directory and records the restaurant's settings and its
/// first owner with a PIN. Refused when someone can already log in: a restaurant is set
/// up once. Nothing is written unless all of it is accepted (one batch).
pub fn set_up(data: &Path, new: &NewRestaurant) -> Result<StaffId, NodeError> {
    // The organization is founded here: this node is the restaurant's first.
    let mut name = String::new();
    for c in new.settings.name.trim().chars().filter(|c| !c.is_control()) {
        if name.len() + c.len_utf8() > 60 {
            break;
        }
        name.push(c);
    }
    let dir = DataDir::open_or_create_named(data, Some(format!("{name} 1").trim()))?;
    let _lock = dir.lock_for_writing()?;
    let store = dir.store()?;
    let mut svc = PosService::new(Ledger::open(store, dir.into_identity())?);
    // A batch commits the requests it accepts: everything that could be refused is checked
    // first, so a bad PIN or name leaves no half set-up restaurant behind.
    mpos_domain::staff::check_pin(&new.owner_pin)?;
    for (what, name) in [
        ("the owner", &new.owner_name),
        ("the restaurant", &new.settings.name),
    ] {
        if name.trim().is_empty() || name.chars().count() > 200 {
            return Err(NodeError::BadRequest(format!(
                "{what} needs a name of at most 200 characters"
            )));
        }
    }
    let already = svc.ledger().store().staff()?;
    if already.iter().any(|m| m.active && m.role == Role::Owner) {
        return Err(NodeError::BadRequest(
            "this restaurant is already set up: log in as an owner to change it".into(),
        ));
    }
    let owner = StaffId(random_id()?);
    let actor = Actor {
        staff: owner,
        role: Role::Owner,
    };
    let requests = vec![
        Request {
            id: random_id()?,
            action: Action::Staff(StaffCommand::Put(StaffMember {
                id: owner,
                name: new.owner_name.trim().to_string(),
                role: Role::Owner,
                active: true,
            })),
            actor: None,
        },
        Request {
            id: random_id()?,
            action: Action::Staff(StaffCommand::SetPin {
                staff: owner,
                pin: new.owner_pin.clone(),
            }),
            actor: None,
        },
        Request {
            id: random_id()?,
            action: Action::Menu(MenuCommand::PutSettings(new.settings.clone())),
            actor: Some(actor),
        },
    ];
    for r in svc.execute(requests, clock::now_millis()) {
        r?;
    }
    Ok(owner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mpos_domain::{Currency, PriceMode};

    fn restaurant(pin: &str) -> NewRestaurant {
        NewRestaurant {
            settings: Settings {
                name: "Noodle Bar".into(),
                currency: Currency::from_code("JPY").unwrap(),
                price_mode: PriceMode::Inclusive,
            },
            owner_name: "Kenji".into(),
            owner_pin: pin.into(),
        }
    }

    #[test]
    fn a_restaurant_is_set_up_once() {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("node");
        assert!(set_up(&data, &restaurant("12")).is_err());
        let nameless = NewRestaurant {
            owner_name: " ".into(),
            ..restaurant("2468")
        };
        assert!(set_up(&data, &nameless).is_err());
        let owner = set_up(&data, &restaurant("2468")).unwrap();
        let again = set_up(&data, &restaurant("1357")).unwrap_err();
        assert!(again.to_string().contains("already set up"), "{again}");
        let store = DataDir::open(&data).unwrap().store().unwrap();
        let staff = store.staff().unwrap();
        assert_eq!(staff.len(), 1);
        assert_eq!((staff[0].id, staff[0].role), (owner, Role::Owner));
        assert!(store.pin_hash(owner).unwrap().is_some());
        assert_eq!(store.settings().unwrap().unwrap().name, "Noodle Bar");
    }
}
