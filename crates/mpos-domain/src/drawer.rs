//! Cash drawers. A drawer session starts with a counted float and ends with counted cash;
//! in between, cash payments and cash refunds (recorded on the order events, naming the
//! drawer) and pay-ins and pay-outs (recorded here) move the cash it should hold. The
//! difference between what was counted and what was expected is the variance a manager
//! answers for on the Z-report.

use crate::ids::{DrawerId, LocationId, StaffId};
use crate::money::{Currency, Money, MoneyError};
use crate::refusal::Refusal;
use crate::staff::{Actor, Permission};

/// How a drawer session was closed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DrawerCount {
    pub counted: Money,
    /// What the drawer should have held when counted.
    pub expected: Money,
    pub by: StaffId,
    pub at: u64,
}

impl DrawerCount {
    /// Counted minus expected: negative when cash is missing.
    pub fn variance(&self) -> Result<Money, MoneyError> {
        self.counted.checked_sub(self.expected)
    }
}

/// One drawer session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Drawer {
    pub id: DrawerId,
    /// Which physical drawer ("front", "bar").
    pub name: String,
    /// The restaurant it is at (the location of the node that opened it).
    pub location: Option<LocationId>,
    pub float: Money,
    /// Cash taken for sales, tips included (what stays in the drawer after change).
    pub cash_sales: Money,
    pub cash_refunds: Money,
    pub paid_in: Money,
    pub paid_out: Money,
    pub opened_by: StaffId,
    pub opened_at: u64,
    pub closed: Option<DrawerCount>,
}

impl Drawer {
    pub fn is_open(&self) -> bool {
        self.closed.is_none()
    }

    pub fn currency(&self) -> Currency {
        self.float.currency()
    }

    /// The cash the drawer should hold now.
    pub fn expected(&self) -> Result<Money, MoneyError> {
        self.float
            .checked_add(self.cash_sales)?
            .checked_sub(self.cash_refunds)?
            .checked_add(self.paid_in)?
            .checked_sub(self.paid_out)
    }

    /// Adds cash taken for a sale (amount and tip).
    pub fn take_cash(&mut self, amount: Money) -> Result<(), MoneyError> {
        self.cash_sales = self.cash_sales.checked_add(amount)?;
        Ok(())
    }

    /// Takes out cash handed back for a refund.
    pub fn give_back_cash(&mut self, amount: Money) -> Result<(), MoneyError> {
        self.cash_refunds = self.cash_refunds.checked_add(amount)?;
        Ok(())
    }

    /// Refuses to hand out more cash than the drawer should hold.
    pub fn require_cash(&self, amount: Money) -> Result<(), Refusal> {
        let holds = self.expected()?;
        if amount.minor() > holds.minor() {
            return Err(Refusal::Invalid(format!(
                "drawer {} should hold only {holds}, not {amount}",
                self.name
            )));
        }
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DrawerCommand {
    /// The node fills in `location`: the one it sells at.
    Open {
        name: String,
        float: Money,
        location: Option<LocationId>,
    },
    PayIn {
        amount: Money,
        reason: String,
    },
    PayOut {
        amount: Money,
        reason: String,
    },
    Close {
        counted: Money,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DrawerChange {
    Opened {
        name: String,
        float: Money,
        location: Option<LocationId>,
    },
    PaidIn {
        amount: Money,
        reason: String,
    },
    PaidOut {
        amount: Money,
        reason: String,
    },
    /// `expected` is recorded so the ledger itself shows the variance.
    Closed {
        counted: Money,
        expected: Money,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DrawerEvent {
    pub drawer: DrawerId,
    pub by: StaffId,
    pub at: u64,
    pub change: DrawerChange,
}

fn require_amount(m: Money, currency: Currency, what: &str, zero_ok: bool) -> Result<(), Refusal> {
    if m.currency() != currency {
        return Err(MoneyError::CurrencyMismatch(m.currency(), currency).into());
    }
    if m.is_negative() || (!zero_ok && m.is_zero()) {
        return Err(Refusal::Invalid(format!(
            "{what} must be {}",
            if zero_ok { "zero or more" } else { "positive" }
        )));
    }
    Ok(())
}

/// Checks a drawer command. `open` lists the drawer sessions open now: one physical
/// drawer has one session at a time.
pub fn decide_drawer(
    drawer: Option<&Drawer>,
    command: &DrawerCommand,
    actor: Actor,
    currency: Currency,
    open: &[Drawer],
) -> Result<Vec<DrawerChange>, Refusal> {
    if !actor.role.may(Permission::Drawer) {
        return Err(Refusal::NotAllowed {
            role: actor.role.name(),
            action: Permission::Drawer.what().into(),
        });
    }
    let Some(d) = drawer else {
        return match command {
            DrawerCommand::Open {
                name,
                float,
                location,
            } => {
                let name = name.trim();
                if name.is_empty() {
                    return Err(Refusal::Invalid(
                        "name the drawer (\"front\", \"bar\")".into(),
                    ));
                }
                if open.iter().any(|o| o.name.eq_ignore_ascii_case(name)) {
                    return Err(Refusal::Invalid(format!(
                        "drawer {name} is already open: count and close it first"
                    )));
                }
                require_amount(*float, currency, "the float", true)?;
                Ok(vec![DrawerChange::Opened {
                    name: name.to_string(),
                    float: *float,
                    location: *location,
                }])
            }
            _ => Err(Refusal::Invalid("no such drawer session".into())),
        };
    };
    if let DrawerCommand::Open { .. } = command {
        return Err(Refusal::Invalid(format!(
            "drawer session {} already exists",
            d.id
        )));
    }
    if !d.is_open() {
        return Err(Refusal::Invalid(format!(
            "drawer {} was already counted and closed",
            d.name
        )));
    }
    let currency = d.currency();
    match command {
        DrawerCommand::Open { .. } => unreachable!("handled above"),
        DrawerCommand::PayIn { amount, reason } => {
            require_amount(*amount, currency, "a pay-in", false)?;
            if reason.trim().is_empty() {
                return Err(Refusal::ReasonRequired);
            }
            Ok(vec![DrawerChange::PaidIn {
                amount: *amount,
                reason: reason.clone(),
            }])
        }
        DrawerCommand::PayOut { amount, reason } => {
            require_amount(*amount, currency, "a pay-out", false)?;
            if reason.trim().is_empty() {
                return Err(Refusal::ReasonRequired);
            }
            d.require_cash(*amount)?;
            Ok(vec![DrawerChange::PaidOut {
                amount: *amount,
                reason: reason.clone(),
            }])
        }
        DrawerCommand::Close { counted } => {
            require_amount(*counted, currency, "the counted cash", true)?;
            Ok(vec![DrawerChange::Closed {
                counted: *counted,
                expected: d.expected()?,
            }])
        }
    }
}

/// Folds a drawer event in (`None` before the session was opened).
pub fn apply_drawer(drawer: Option<Drawer>, event: &DrawerEvent) -> Option<Drawer> {
    match (drawer, &event.change) {
        (
            None,
            DrawerChange::Opened {
                name,
                float,
                location,
            },
        ) => {
            let zero = Money::zero(float.currency());
            Some(Drawer {
                id: event.drawer,
                name: name.clone(),
                location: *location,
                float: *float,
                cash_sales: zero,
                cash_refunds: zero,
                paid_in: zero,
                paid_out: zero,
                opened_by: event.by,
                opened_at: event.at,
                closed: None,
            })
        }
        (Some(mut d), change) => {
            match change {
                DrawerChange::Opened { .. } => {}
                DrawerChange::PaidIn { amount, .. } => {
                    d.paid_in = d.paid_in.checked_add(*amount).unwrap_or(d.paid_in);
                }
                DrawerChange::PaidOut { amount, .. } => {
                    d.paid_out = d.paid_out.checked_add(*amount).unwrap_or(d.paid_out);
                }
                DrawerChange::Closed { counted, expected } => {
                    let count = DrawerCount {
                        counted: *counted,
                        expected: *expected,
                        by: event.by,
                        at: event.at,
                    };
                    // A register refuses to close a closed drawer, but two registers apart
                    // can each close it: the earlier count stands on every node, whichever
                    // reached it first (ties: the lower staff id, then the lower count).
                    let order = |c: &DrawerCount| (c.at, c.by.0, c.counted.minor());
                    if d.closed.as_ref().is_none_or(|c| order(&count) < order(c)) {
                        d.closed = Some(count);
                    }
                }
            }
            Some(d)
        }
        (None, _) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::staff::Role;

    fn eur() -> Currency {
        Currency::from_code("EUR").unwrap()
    }
    fn m(minor: i64) -> Money {
        Money::new(minor, eur())
    }
    fn actor(role: Role) -> Actor {
        Actor {
            staff: StaffId(7),
            role,
        }
    }
    fn run(d: Option<Drawer>, cmd: DrawerCommand, role: Role) -> Result<Option<Drawer>, Refusal> {
        let open: Vec<Drawer> = d.iter().filter(|d| d.is_open()).cloned().collect();
        let changes = decide_drawer(d.as_ref(), &cmd, actor(role), eur(), &open)?;
        let mut d = d;
        for change in changes {
            d = apply_drawer(
                d,
                &DrawerEvent {
                    drawer: DrawerId(1),
                    by: StaffId(7),
                    at: 5,
                    change,
                },
            );
        }
        Ok(d)
    }

    #[test]
    fn a_session_expects_float_plus_sales_and_pay_ins_less_refunds_and_pay_outs() {
        let open = DrawerCommand::Open {
            name: "front".into(),
            float: m(20_000),
            location: None,
        };
        let mut d = run(None, open, Role::Cashier).unwrap();
        d.as_mut().unwrap().take_cash(m(4_550)).unwrap();
        d.as_mut().unwrap().give_back_cash(m(550)).unwrap();
        let pay_in = DrawerCommand::PayIn {
            amount: m(1_000),
            reason: "change from the bank".into(),
        };
        let d = run(d, pay_in, Role::Cashier).unwrap();
        let pay_out = DrawerCommand::PayOut {
            amount: m(2_500),
            reason: "milk delivery".into(),
        };
        let d = run(d, pay_out, Role::Cashier).unwrap();
        assert_eq!(d.as_ref().unwrap().expected().unwrap(), m(22_500));
        let d = run(
            d,
            DrawerCommand::Close { counted: m(22_300) },
            Role::Cashier,
        )
        .unwrap()
        .unwrap();
        let count = d.closed.clone().unwrap();
        assert_eq!(count.expected, m(22_500));
        assert_eq!(count.variance().unwrap(), m(-200));
        let again = run(
            Some(d),
            DrawerCommand::PayIn {
                amount: m(1),
                reason: "x".into(),
            },
            Role::Cashier,
        );
        assert!(matches!(again, Err(Refusal::Invalid(_))));
    }

    #[test]
    fn a_drawer_closed_on_two_registers_apart_keeps_the_earlier_count_whatever_came_first() {
        let opened = run(
            None,
            DrawerCommand::Open {
                name: "front".into(),
                float: m(10_000),
                location: None,
            },
            Role::Cashier,
        )
        .unwrap();
        let close = |at: u64, by: u128, counted: i64| DrawerEvent {
            drawer: DrawerId(1),
            by: StaffId(by),
            at,
            change: DrawerChange::Closed {
                counted: m(counted),
                expected: m(10_000),
            },
        };
        let (first, second) = (close(100, 9, 9_900), close(200, 7, 10_000));
        let one = apply_drawer(apply_drawer(opened.clone(), &first), &second).unwrap();
        let other = apply_drawer(apply_drawer(opened.clone(), &second), &first).unwrap();
        assert_eq!(one, other);
        assert_eq!(one.closed.as_ref().map(|c| c.at), Some(100));
        // At the same moment: the lower staff id.
        let a = close(100, 3, 9_000);
        let both = apply_drawer(apply_drawer(opened.clone(), &first), &a).unwrap();
        let other = apply_drawer(apply_drawer(opened, &a), &first).unwrap();
        assert_eq!(both, other);
        assert_eq!(both.closed.map(|c| c.by), Some(StaffId(3)));
    }

    #[test]
    fn bad_drawer_commands_are_refused() {
        let open = |float| DrawerCommand::Open {
            name: "front".into(),
            float,
            location: None,
        };
        assert!(matches!(
            run(None, open(m(100)), Role::Server),
            Err(Refusal::NotAllowed { .. })
        ));
        assert!(run(None, open(m(-1)), Role::Cashier).is_err());
        assert!(
            run(
                None,
                open(Money::new(1, Currency::from_code("USD").unwrap())),
                Role::Cashier
            )
            .is_err()
        );
        let d = run(None, open(m(1_000)), Role::Cashier).unwrap();
        // A second session of the same physical drawer while the first is open.
        let open_now = vec![d.clone().unwrap()];
        assert!(decide_drawer(None, &open(m(0)), actor(Role::Cashier), eur(), &open_now).is_err());
        // Paying out more than the drawer holds, or without a reason.
        let too_much = DrawerCommand::PayOut {
            amount: m(1_001),
            reason: "supplier".into(),
        };
        assert!(run(d.clone(), too_much, Role::Cashier).is_err());
        let no_reason = DrawerCommand::PayOut {
            amount: m(10),
            reason: " ".into(),
        };
        assert_eq!(
            run(d, no_reason, Role::Cashier),
            Err(Refusal::ReasonRequired)
        );
    }
}
