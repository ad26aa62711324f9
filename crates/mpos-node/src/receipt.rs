//! Receipts as text for 58 mm (32 columns) and 80 mm (48 columns) paper: what was sold,
//! the taxes per rate, the payments, and the signed receipt code that anyone can check
//! offline (`mpos ledger check-receipt`). Printers and screens show the same text.

use mpos_domain::MoneyError;
use mpos_domain::menu::Settings;
use mpos_domain::order::{Order, OrderKind, Status, Tender};
use mpos_domain::tax::PriceMode;
use mpos_domain::{Money, TaxRate};
use mpos_store::{PosStore, StoreError};

/// Paper widths in characters.
pub const NARROW: usize = 32;
pub const WIDE: usize = 48;

fn amount(m: Money) -> String {
    // Money's Display ends with the currency code; a receipt states it once, at the total.
    let text = m.to_string();
    text.rsplit_once(' ')
        .map_or(text.clone(), |(n, _)| n.to_string())
}

/// `left` and `right` on one line of `width`, the left side cut to fit.
fn row(out: &mut String, width: usize, left: &str, right: &str) {
    let room = width.saturating_sub(right.chars().count() + 1);
    let left: String = left.chars().take(room).collect();
    let pad = width.saturating_sub(left.chars().count() + right.chars().count());
    out.push_str(&left);
    out.push_str(&" ".repeat(pad));
    out.push_str(right);
    out.push('\n');
}

fn centred(out: &mut String, width: usize, text: &str) {
    let text: String = text.chars().take(width).collect();
    let pad = (width - text.chars().count()) / 2;
    out.push_str(&" ".repeat(pad));
    out.push_str(&text);
    out.push('\n');
}

fn rule(out: &mut String, width: usize) {
    out.push_str(&"-".repeat(width));
    out.push('\n');
}

fn rate(r: TaxRate) -> String {
    r.to_string()
}

/// The name of the table a dine-in order sits at (its id if the table is unknown).
pub fn table_name<S: PosStore>(store: &S, order: &Order) -> Result<Option<String>, StoreError> {
    let OrderKind::DineIn {
        table: Some(table), ..
    } = order.kind
    else {
        return Ok(None);
    };
    let name = store
        .tables()?
        .into_iter()
        .find(|t| t.id == table)
        .map_or_else(|| table.to_string(), |t| t.name);
    Ok(Some(name))
}

/// Renders `order` for `width` columns (`NARROW` or `WIDE`; others are clamped to them).
/// `table` names the order's table.
pub fn render(
    order: &Order,
    settings: &Settings,
    table: Option<&str>,
    receipt_code: Option<&str>,
    width: usize,
) -> Result<String, MoneyError> {
    let width = width.clamp(NARROW, WIDE);
    let t = order.totals()?;
    let mut out = String::new();
    centred(&mut out, width, &settings.name);
    let time = humantime::format_rfc3339_seconds(
        std::time::UNIX_EPOCH + std::time::Duration::from_millis(order.opened_at),
    )
    .to_string();
    let time = time
        .replace('T', " ")
        .trim_end_matches('Z')
        .chars()
        .take(16)
        .collect::<String>();
    row(&mut out, width, &format!("Order {}", order.number), &time);
    match &order.kind {
        OrderKind::DineIn { guests, .. } => match table {
            Some(name) => out.push_str(&format!(
                "Table {name}, {guests} guest{}\n",
                if *guests == 1 { "" } else { "s" }
            )),
            None => out.push_str("Dine in\n"),
        },
        OrderKind::Takeaway => out.push_str("Takeaway\n"),
        OrderKind::Delivery { address } => out.push_str(&format!(
            "Delivery: {}\n",
            address.chars().take(width - 10).collect::<String>()
        )),
    }
    rule(&mut out, width);
    for l in order.live_lines() {
        let figures = t.lines.iter().find(|lt| lt.line == l.id);
        let mut name = format!("{} x {}", l.item.quantity, l.item.name);
        if let Some((_, v)) = &l.item.variant {
            name.push_str(&format!(" ({v})"));
        }
        row(
            &mut out,
            width,
            &name,
            &amount(figures.map_or(l.item.unit_price, |f| f.before_discounts)),
        );
        for m in &l.item.modifiers {
            out.push_str(&format!(
                "  + {}\n",
                m.name.chars().take(width - 4).collect::<String>()
            ));
        }
        if let Some(f) = figures.filter(|f| !f.discount.is_zero()) {
            row(
                &mut out,
                width,
                "  discount",
                &format!("-{}", amount(f.discount)),
            );
        }
    }
    rule(&mut out, width);
    if !t.service_charge.is_zero() {
        row(&mut out, width, "Service charge", &amount(t.service_charge));
    }
    if order.mode == PriceMode::Exclusive {
        row(&mut out, width, "Net", &amount(t.net));
        for (r, m) in &t.tax_by_rate {
            row(&mut out, width, &format!("Tax {}", rate(*r)), &amount(*m));
        }
    }
    row(
        &mut out,
        width,
        &format!("TOTAL {}", order.currency),
        &amount(t.total),
    );
    if order.mode == PriceMode::Inclusive {
        for (r, m) in &t.tax_by_rate {
            row(
                &mut out,
                width,
                &format!("  incl. tax {}", rate(*r)),
                &amount(*m),
            );
        }
    }
    if !order.payments.is_empty() {
        rule(&mut out, width);
    }
    for p in &order.payments {
        let tender = match &p.tender {
            Tender::Cash => "Cash".to_string(),
            Tender::Card { reference } => format!("Card {reference}"),
            Tender::Other { name } => name.clone(),
        };
        row(&mut out, width, &tender, &amount(p.amount));
        if !p.tip.is_zero() {
            row(&mut out, width, "  tip", &amount(p.tip));
        }
        if let Some(change) = p.change_due().filter(|c| !c.is_zero()) {
            row(&mut out, width, "  change", &amount(change));
        }
        if !p.refunded.is_zero() {
            row(
                &mut out,
                width,
                "  refunded",
                &format!("-{}", amount(p.refunded)),
            );
        }
    }
    // Only an open order can owe anything: on a closed one, the difference is what was
    // refunded, shown on its payment above.
    if order.status == Status::Open && !t.balance.is_zero() {
        row(&mut out, width, "Balance due", &amount(t.balance));
    }
    if let Some(code) = receipt_code {
        rule(&mut out, width);
        out.push_str("Receipt code:\n");
        let chars: Vec<char> = code.chars().collect();
        for chunk in chars.chunks(width) {
            out.push_str(&chunk.iter().collect::<String>());
            out.push('\n');
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mpos_domain::Currency;
    use mpos_domain::catalog::{Channel, ChosenModifier, PricedSelection};
    use mpos_domain::ids::{
        CategoryId, ItemId, LineId, ModifierId, OrderId, PaymentId, StaffId, TableId, VariantId,
    };
    use mpos_domain::order::{Line, Payment, Source, Status};

    fn eur(m: i64) -> Money {
        Money::new(m, Currency::from_code("EUR").unwrap())
    }

    fn order() -> Order {
        let line =
            |id: u128, name: &str, unit: i64, qty: u32, variant: Option<&str>, mods: &[&str]| {
                Line {
                    sent_at: None,
                    round: 0,
                    ready_at: None,
                    sold_while_86d: false,
                    id: LineId(id),
                    item: PricedSelection {
                        station: None,
                        item: ItemId(id),
                        name: name.into(),
                        variant: variant.map(|v| (VariantId(1), v.to_string())),
                        modifiers: mods
                            .iter()
                            .map(|m| ChosenModifier {
                                id: ModifierId(1),
                                name: (*m).into(),
                                price_delta: eur(0),
                            })
                            .collect(),
                        quantity: qty,
                        unit_price: eur(unit),
                        tax_rates: vec![TaxRate::from_ppm(if name == "House red" {
                            190_000
                        } else {
                            70_000
                        })],
                        category: CategoryId(1),
                    },
                    seat: None,
                    course: 1,
                    note: String::new(),
                    sent: true,
                    voided: false,
                    added_by: StaffId(3),
                }
            };
        Order {
            id: OrderId(1),
            number: "T5-0042".into(),
            channel: Channel::Table,
            kind: OrderKind::DineIn {
                table: Some(TableId(5)),
                guests: 2,
            },
            source: Source::Register,
            currency: Currency::from_code("EUR").unwrap(),
            mode: PriceMode::Inclusive,
            location: None,
            status: Status::Closed,
            lines: vec![
                line(1, "Flat white", 490, 1, Some("Large"), &["Oat milk"]),
                line(
                    2,
                    "Steak frites with a rather long name",
                    2_450,
                    1,
                    None,
                    &["Medium rare", "Fries"],
                ),
                line(3, "House red", 590, 2, None, &[]),
            ],
            discounts: vec![],
            service_charge_ppm: 0,
            payments: vec![
                Payment {
                    id: PaymentId(1),
                    tender: Tender::Card {
                        reference: "AUTH 4711".into(),
                    },
                    amount: eur(2_000),
                    tip: eur(0),
                    cash_received: None,
                    refunded: eur(0),
                    by: StaffId(3),
                },
                Payment {
                    id: PaymentId(2),
                    tender: Tender::Cash,
                    amount: eur(2_120),
                    tip: eur(150),
                    cash_received: Some(eur(3_000)),
                    refunded: eur(0),
                    by: StaffId(3),
                },
            ],
            fired_courses: vec![],
            opened_by: StaffId(3),
            opened_at: 1_764_000_000_000,
            closed_at: Some(1_764_000_900_000),
            version: 9,
        }
    }

    fn settings() -> Settings {
        Settings {
            name: "Bistro Lumen".into(),
            currency: Currency::from_code("EUR").unwrap(),
            price_mode: PriceMode::Inclusive,
        }
    }

    #[test]
    fn a_narrow_receipt_fits_58mm_paper_and_says_everything() {
        let text = render(
            &order(),
            &settings(),
            Some("T5"),
            Some("MPR1.ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEF"),
            NARROW,
        )
        .unwrap();
        let expected = "          Bistro Lumen
Order T5-0042   2025-11-24 16:00
Table T5, 2 guests
--------------------------------
1 x Flat white (Large)      4.90
  + Oat milk
1 x Steak frites with a ra 24.50
  + Medium rare
  + Fries
2 x House red              11.80
--------------------------------
TOTAL EUR                  41.20
  incl. tax 7%              1.92
  incl. tax 19%             1.88
--------------------------------
Card AUTH 4711             20.00
Cash                       21.20
  tip                       1.50
  change                    7.30
--------------------------------
Receipt code:
MPR1.ABCDEFGHIJKLMNOPQRSTUVWXYZ0
123456789ABCDEF
";
        assert_eq!(text, expected);
        assert!(text.lines().all(|l| l.chars().count() <= NARROW));
    }

    #[test]
    fn a_wide_receipt_uses_80mm_paper() {
        let text = render(&order(), &settings(), Some("T5"), None, WIDE).unwrap();
        assert!(
            text.contains("1 x Steak frites with a rather long name   24.50\n"),
            "{text}"
        );
        assert!(text.lines().all(|l| l.chars().count() <= WIDE));
        assert!(!text.contains("Receipt code"));
    }

    /// A refund on a closed order shows on its payment; the guest owes nothing. While the
    /// order is open, what is still due is printed.
    #[test]
    fn only_an_open_order_shows_a_balance_due() {
        let mut refunded = order();
        refunded.payments[0].refunded = eur(500);
        let text = render(&refunded, &settings(), Some("T5"), None, WIDE).unwrap();
        assert!(text.contains("  refunded"), "{text}");
        assert!(!text.contains("Balance due"), "{text}");
        let mut open = order();
        open.status = Status::Open;
        open.payments.pop();
        open.closed_at = None;
        let text = render(&open, &settings(), Some("T5"), None, WIDE).unwrap();
        assert!(text.contains("Balance due"), "{text}");
        assert!(text.contains("21.20"), "{text}");
    }
}
