//! `mpos login`, `mpos menu search`, `mpos order ...`: a register from the command line.

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Subcommand};
use mpos_domain::{Currency, Money};
use mpos_proto::v1;
use mpos_proto::v1::pos_client::PosClient;
use serde_json::json;
use tonic::transport::Channel;

use crate::Outcome;
use crate::command::client::{
    Target, authed, connect, load_session, new_id, order_id, parse_id, refused,
    remember_last_order, save_session, show_id,
};
use crate::output::{self, say};

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Staff member: a name (or its start) as the login screen lists it, or an id.
    #[arg(long)]
    pub staff: String,
    #[arg(long)]
    pub pin: String,
    #[command(flatten)]
    pub target: Target,
}

#[derive(Debug, Subcommand)]
#[allow(
    clippy::large_enum_variant,
    reason = "parsed once per process from the command line"
)]
pub enum MenuCommand {
    /// Find items by name, description, SKU or barcode.
    Search {
        query: String,
        #[arg(long, default_value_t = 10)]
        limit: u32,
        #[command(flatten)]
        target: Target,
    },
    #[command(flatten)]
    Edit(crate::command::admin::MenuEdit),
}

#[derive(Debug, Subcommand)]
pub enum OrderCommand {
    /// Open an order: at a table, takeaway (default) or delivery.
    Open {
        /// The table's name (as `mpos table list` shows it) or id.
        #[arg(long, conflicts_with_all = ["delivery"])]
        table: Option<String>,
        #[arg(long, default_value_t = 1)]
        guests: u32,
        #[arg(long, value_name = "ADDRESS")]
        delivery: Option<String>,
        /// Ticket number shown to the kitchen and the guest (default: made up from the id).
        #[arg(long)]
        number: Option<String>,
        #[command(flatten)]
        target: Target,
    },
    /// Add an item, chosen by name; variants and modifiers by name too.
    Add {
        /// Order id, or `last`.
        order: String,
        item: String,
        #[arg(long)]
        variant: Option<String>,
        #[arg(long = "modifier")]
        modifiers: Vec<String>,
        #[arg(long, default_value_t = 1)]
        qty: u32,
        #[arg(long)]
        seat: Option<u32>,
        #[arg(long, default_value_t = 1)]
        course: u32,
        #[arg(long, default_value = "")]
        note: String,
        #[command(flatten)]
        target: Target,
    },
    /// Send the lines not yet sent to the kitchen.
    Send {
        order: String,
        #[command(flatten)]
        target: Target,
    },
    /// Discount the order, or one line (by its number in `show`).
    Discount {
        order: String,
        #[arg(long, conflicts_with = "amount", required_unless_present = "amount")]
        percent: Option<String>,
        #[arg(long)]
        amount: Option<String>,
        #[arg(long)]
        line: Option<usize>,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        target: Target,
    },
    /// Take a payment: cash (with the cash handed over), card (the terminal's reference)
    /// or another tender. The amount defaults to what is still due.
    Pay {
        order: String,
        #[arg(long)]
        amount: Option<String>,
        #[arg(long, default_value = "0")]
        tip: String,
        #[arg(long, value_name = "RECEIVED", num_args = 0..=1, default_missing_value = "", conflicts_with_all = ["card", "other"])]
        cash: Option<String>,
        #[arg(long, value_name = "REFERENCE", conflicts_with = "other")]
        card: Option<String>,
        #[arg(long, value_name = "TENDER")]
        other: Option<String>,
        #[command(flatten)]
        target: Target,
    },
    /// Void a line (by its number in `show`).
    VoidLine {
        order: String,
        line: usize,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        target: Target,
    },
    /// Void a whole unpaid order.
    Void {
        order: String,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        target: Target,
    },
    /// Refund (part of) a payment (by its number in `show`).
    Refund {
        order: String,
        payment: usize,
        #[arg(long)]
        amount: String,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        target: Target,
    },
    /// How to split the bill: by seat, evenly among N guests, or some lines (by their
    /// numbers in `show`) and the rest. Then pay each share with `pay --amount`.
    Split {
        order: String,
        #[arg(long, conflicts_with_all = ["evenly", "lines"])]
        by_seat: bool,
        #[arg(long, conflicts_with = "lines")]
        evenly: Option<u32>,
        #[arg(long, value_delimiter = ',')]
        lines: Vec<usize>,
        #[command(flatten)]
        target: Target,
    },
    /// Print the receipt (32 or 48 columns) with its signed receipt code.
    Receipt {
        order: String,
        #[arg(long, default_value_t = 48)]
        width: u32,
        #[command(flatten)]
        target: Target,
    },
    /// Show an order with its lines, taxes and payments.
    Show {
        order: String,
        #[command(flatten)]
        target: Target,
    },
    /// Orders a manager must look at: paid twice, closed with a line never paid, or voided
    /// with payments, left by two terminals editing one order at once while apart.
    Conflicts {
        #[command(flatten)]
        target: Target,
    },
}

/// A tender in a word: "cash", "card" or the other tender's name.
fn tender_name(t: Option<&v1::Tender>) -> String {
    match t.and_then(|t| t.kind.clone()) {
        Some(v1::tender::Kind::Cash(_)) => "cash".into(),
        Some(v1::tender::Kind::CardReference(_)) => "card".into(),
        Some(v1::tender::Kind::Other(o)) => o,
        None => String::new(),
    }
}

/// The order as the node has it now (to resolve line and payment numbers, the currency
/// and what is due).
async fn current_order(c: &mut PosClient<Channel>, id: &[u8]) -> Result<v1::OrderView> {
    Ok(
        c.get_order(authed(v1::GetOrderRequest { order: id.to_vec() })?)
            .await
            .map_err(refused)?
            .into_inner(),
    )
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

pub fn login(args: LoginArgs) -> Result<Outcome> {
    runtime()?.block_on(async {
        let mut c = connect(&args.target.target).await?;
        let staff = c.list_staff(v1::ListStaffRequest::default()).await.map_err(refused)?.into_inner().staff;
        let wanted = args.staff.to_lowercase();
        let chosen = match parse_id(&args.staff) {
            Ok(id) => id,
            Err(_) => {
                let matches: Vec<_> = staff.iter().filter(|s| s.name.to_lowercase().starts_with(&wanted)).collect();
                match matches.as_slice() {
                    [one] => one.id.clone(),
                    [] => bail!("no staff member called {:?}", args.staff),
                    _ => bail!("{:?} matches several staff members: give more of the name", args.staff),
                }
            }
        };
        let reply = c
            .login(v1::LoginRequest { approval: false, staff: chosen, pin: args.pin.clone() })
            .await
            .map_err(refused)?
            .into_inner();
        let who = reply.staff.clone().unwrap_or_default();
        save_session(&json!({
            "target": args.target.target,
            "token": reply.token,
            "staff": show_id(&who.id),
            "name": who.name,
            "expires_at": reply.expires_at,
            "currency": reply.currency,
        }))?;
        if args.target.json {
            output::json(&json!({ "staff": show_id(&who.id), "name": who.name, "expires_at": reply.expires_at }));
        } else {
            say!("logged in as {}", who.name);
        }
        Ok(Outcome::Ok)
    })
}

pub fn menu(cmd: MenuCommand) -> Result<Outcome> {
    let (query, limit, target) = match cmd {
        MenuCommand::Search {
            query,
            limit,
            target,
        } => (query, limit, target),
        MenuCommand::Edit(edit) => return crate::command::admin::menu(edit),
    };
    runtime()?.block_on(async {
        let mut c = connect(&target.target).await?;
        let items = c
            .search_items(authed(v1::SearchItemsRequest { query, limit })?)
            .await
            .map_err(refused)?
            .into_inner()
            .items;
        if target.json {
            let list: Vec<_> = items
                .iter()
                .filter_map(|v| v.item.as_ref())
                .map(|i| json!({ "id": show_id(&i.id), "name": i.name, "price_minor": i.price, "available": i.available }))
                .collect();
            output::json(&json!({ "items": list }));
            return Ok(Outcome::Ok);
        }
        for v in &items {
            let Some(i) = &v.item else { continue };
            let state = if i.available { "" } else { "  (86'd)" };
            say!("{:<28} {:>8}{state}", i.name, minor(i.price));
            if !i.variants.is_empty() {
                say!("    variants: {}", i.variants.iter().map(|x| format!("{} (+{})", x.name, minor(x.price_delta))).collect::<Vec<_>>().join(", "));
            }
            for g in &v.modifier_groups {
                say!(
                    "    {} (choose {}..{}): {}",
                    g.name,
                    g.min,
                    g.max,
                    g.options.iter().map(|o| if o.price_delta == 0 { o.name.clone() } else { format!("{} (+{})", o.name, minor(o.price_delta)) }).collect::<Vec<_>>().join(", ")
                );
            }
        }
        if items.is_empty() {
            say!("nothing on the menu matches");
        }
        Ok(Outcome::Ok)
    })
}

/// Minor units shown with two decimals (the demo's EUR); the JSON carries the integer.
pub(crate) fn minor(m: i64) -> String {
    let sign = if m < 0 { "-" } else { "" };
    format!(
        "{sign}{}.{:02}",
        m.unsigned_abs() / 100,
        m.unsigned_abs() % 100
    )
}

pub(crate) fn amount(text: &str, currency: &str) -> Result<i64> {
    let c = Currency::from_code(currency)?;
    Ok(Money::parse(text, c).map_err(|e| anyhow!("{e}"))?.minor())
}

fn print_order(o: &v1::OrderView, as_json: bool) {
    if as_json {
        output::json(&json!({
            "id": show_id(&o.id),
            "number": o.number,
            "status": v1::OrderStatus::try_from(o.status).map(|s| s.as_str_name()).unwrap_or("?"),
            "currency": o.currency,
            "lines": o.lines.iter().map(|l| json!({
                "id": show_id(&l.id),
                "name": l.item.as_ref().map(|i| i.name.clone()),
                "quantity": l.item.as_ref().map(|i| i.quantity),
                "gross_minor": l.gross,
                "sent": l.sent,
                "voided": l.voided,
            })).collect::<Vec<_>>(),
            "total_minor": o.total,
            "tax_minor": o.taxes.iter().map(|t| t.amount).sum::<i64>(),
            "paid_minor": o.paid,
            "tips_minor": o.tips,
            "balance_minor": o.balance,
            "payments": o.payments.iter().map(|p| json!({"id": show_id(&p.id), "tender": tender_name(p.tender.as_ref()), "amount_minor": p.amount, "change_due_minor": p.change_due, "refunded_minor": p.refunded})).collect::<Vec<_>>(),
            "conflicts": o.conflicts,
        }));
        return;
    }
    let status = v1::OrderStatus::try_from(o.status)
        .map(|s| {
            s.as_str_name()
                .trim_start_matches("ORDER_STATUS_")
                .to_lowercase()
        })
        .unwrap_or_default();
    say!("order {} ({status})  id {}", o.number, show_id(&o.id));
    for (n, l) in o.lines.iter().enumerate() {
        let Some(item) = &l.item else { continue };
        let mut name = format!("{} x {}", item.quantity, item.name);
        if !item.variant_name.is_empty() {
            name.push_str(&format!(" ({})", item.variant_name));
        }
        let flags = match (l.voided, l.sent) {
            (true, _) => "  VOID",
            (false, true) => "  sent",
            _ => "",
        };
        say!("  {:>2}. {:<36} {:>9}{flags}", n + 1, name, minor(l.gross));
        for m in &item.modifiers {
            say!("        + {}", m.name);
        }
        if l.discount > 0 {
            say!("        discount {:>25}", format!("-{}", minor(l.discount)));
        }
    }
    if o.service_charge != 0 {
        say!("  service charge {:>32}", minor(o.service_charge));
    }
    say!("  TOTAL {:>41} {}", minor(o.total), o.currency);
    for t in &o.taxes {
        say!(
            "    incl. tax {:>6}% {:>26}",
            format!("{}.{:02}", t.rate_ppm / 10_000, t.rate_ppm % 10_000 / 100),
            minor(t.amount)
        );
    }
    for (n, p) in o.payments.iter().enumerate() {
        let tender = match p.tender.as_ref().and_then(|t| t.kind.clone()) {
            Some(v1::tender::Kind::Cash(_)) => "cash".to_string(),
            Some(v1::tender::Kind::CardReference(r)) => format!("card {r}"),
            Some(v1::tender::Kind::Other(o)) => o,
            None => "?".into(),
        };
        say!(
            "  payment {}: {:<22} {:>16}",
            n + 1,
            tender,
            minor(p.amount)
        );
        if p.tip > 0 {
            say!("    tip {:>40}", minor(p.tip));
        }
        if p.change_due > 0 {
            say!("    change due {:>33}", minor(p.change_due));
        }
        if p.refunded > 0 {
            say!("    refunded {:>35}", format!("-{}", minor(p.refunded)));
        }
    }
    // A closed order owes nothing; what a refund gave back shows on its payment.
    if o.status == v1::OrderStatus::Open as i32 {
        say!("  balance due {:>35}", minor(o.balance));
    }
    for c in &o.conflicts {
        say!("  NEEDS A MANAGER: {c}");
    }
}

pub fn order(cmd: OrderCommand) -> Result<Outcome> {
    runtime()?.block_on(async move {
        let (target, reply) = match cmd {
            OrderCommand::Open {
                table,
                guests,
                delivery,
                number,
                target,
            } => {
                let mut c = connect(&target.target).await?;
                let id = new_id();
                let table = match &table {
                    Some(t) => Some(crate::command::admin::find_table(&mut c, t).await?),
                    None => None,
                };
                let kind = match (&table, delivery) {
                    (Some(t), _) => v1::open_order_request::Kind::DineIn(v1::DineIn {
                        table: t.id.clone(),
                        guests,
                    }),
                    (None, Some(address)) => {
                        v1::open_order_request::Kind::Delivery(v1::Delivery { address })
                    }
                    (None, None) => v1::open_order_request::Kind::Takeaway(v1::Takeaway {}),
                };
                let channel = match &kind {
                    v1::open_order_request::Kind::DineIn(_) => v1::Channel::Table,
                    v1::open_order_request::Kind::Delivery(_) => v1::Channel::Delivery,
                    v1::open_order_request::Kind::Takeaway(_) => v1::Channel::Counter,
                };
                let number = number.unwrap_or_else(|| {
                    let tail = &hex::encode(&id)[26..];
                    match &table {
                        Some(t) => format!("{}-{tail}", t.name),
                        None => format!("C-{tail}"),
                    }
                });
                let r = c
                    .open_order(authed(v1::OpenOrderRequest {
                        request_id: new_id(),
                        order: id.clone(),
                        number,
                        channel: channel.into(),
                        kind: Some(kind),
                        source: None,
                        lines: Vec::new(),
                    })?)
                    .await
                    .map_err(refused)?;
                remember_last_order(&id)?;
                (target, r.into_inner())
            }
            OrderCommand::Add {
                order,
                item,
                variant,
                modifiers,
                qty,
                seat,
                course,
                note,
                target,
            } => {
                let mut c = connect(&target.target).await?;
                let found = c
                    .search_items(authed(v1::SearchItemsRequest {
                        query: item.clone(),
                        limit: 20,
                    })?)
                    .await
                    .map_err(refused)?
                    .into_inner()
                    .items;
                let wanted = item.to_lowercase();
                let view = found
                    .iter()
                    .find(|v| {
                        v.item
                            .as_ref()
                            .is_some_and(|i| i.name.to_lowercase() == wanted)
                    })
                    .or(found.first())
                    .ok_or_else(|| anyhow!("nothing on the menu matches {item:?}"))?;
                let menu_item = view.item.clone().unwrap_or_default();
                let variant_id = match variant {
                    Some(v) => menu_item
                        .variants
                        .iter()
                        .find(|x| x.name.eq_ignore_ascii_case(&v))
                        .map(|x| x.id.clone())
                        .ok_or_else(|| {
                            anyhow!(
                                "{} has no variant {v:?} (it has: {})",
                                menu_item.name,
                                menu_item
                                    .variants
                                    .iter()
                                    .map(|x| x.name.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )
                        })?,
                    None => Vec::new(),
                };
                let mut modifier_ids = Vec::new();
                for m in &modifiers {
                    let option = view
                        .modifier_groups
                        .iter()
                        .flat_map(|g| g.options.iter())
                        .find(|o| o.name.eq_ignore_ascii_case(m))
                        .ok_or_else(|| anyhow!("{} offers no modifier {m:?}", menu_item.name))?;
                    modifier_ids.push(option.id.clone());
                }
                let line = new_id();
                let r = c
                    .add_item(authed(v1::AddItemRequest {
                        request_id: new_id(),
                        order: order_id(&order)?,
                        line,
                        item: menu_item.id.clone(),
                        variant: variant_id,
                        modifiers: modifier_ids,
                        quantity: qty,
                        seat: seat.unwrap_or(0),
                        course,
                        note,
                    })?)
                    .await
                    .map_err(refused)?;
                (target, r.into_inner())
            }
            OrderCommand::Send { order, target } => {
                let mut c = connect(&target.target).await?;
                let r = c
                    .send_order(authed(v1::SendOrderRequest {
                        request_id: new_id(),
                        order: order_id(&order)?,
                        lines: vec![],
                    })?)
                    .await
                    .map_err(refused)?;
                (target, r.into_inner())
            }
            OrderCommand::Discount {
                order,
                percent,
                amount: value,
                line,
                reason,
                target,
            } => {
                let mut c = connect(&target.target).await?;
                let id = order_id(&order)?;
                let current = current_order(&mut c, &id).await?;
                let kind = match (percent, value) {
                    (Some(p), _) => {
                        let rate = mpos_domain::TaxRate::parse_percent(&p).map_err(|_| {
                            anyhow!("--percent {p:?} is not a percentage such as 10 or 12.5")
                        })?;
                        v1::apply_discount_request::Kind::PercentPpm(rate.ppm())
                    }
                    (None, Some(a)) => {
                        v1::apply_discount_request::Kind::Amount(amount(&a, &current.currency)?)
                    }
                    (None, None) => bail!("give --percent or --amount"),
                };
                let line_id = match line {
                    Some(n) => current
                        .lines
                        .get(n.wrapping_sub(1))
                        .map(|l| l.id.clone())
                        .ok_or_else(|| anyhow!("the order has no line {n}"))?,
                    None => Vec::new(),
                };
                let r = c
                    .apply_discount(authed(v1::ApplyDiscountRequest {
                        request_id: new_id(),
                        order: id,
                        discount: new_id(),
                        line: line_id,
                        kind: Some(kind),
                        reason,
                    })?)
                    .await
                    .map_err(refused)?;
                (target, r.into_inner())
            }
            OrderCommand::Pay {
                order,
                amount: value,
                tip,
                cash,
                card,
                other,
                target,
            } => {
                let mut c = connect(&target.target).await?;
                let id = order_id(&order)?;
                let current = current_order(&mut c, &id).await?;
                let due = match value {
                    Some(a) => amount(&a, &current.currency)?,
                    None => current.balance,
                };
                let tip = amount(&tip, &current.currency)?;
                let (tender, cash_received) = match (cash, card, other) {
                    (Some(received), _, _) => {
                        let received = if received.is_empty() {
                            None
                        } else {
                            Some(amount(&received, &current.currency)?)
                        };
                        (v1::tender::Kind::Cash(v1::TenderCash {}), received)
                    }
                    (None, Some(reference), _) => {
                        (v1::tender::Kind::CardReference(reference), None)
                    }
                    (None, None, Some(name)) => (v1::tender::Kind::Other(name), None),
                    (None, None, None) => {
                        bail!("say how: --cash [RECEIVED], --card REFERENCE or --other TENDER")
                    }
                };
                let r = c
                    .take_payment(authed(v1::TakePaymentRequest { drawer: Vec::new(),
                        request_id: new_id(),
                        order: id,
                        payment: new_id(),
                        tender: Some(v1::Tender { kind: Some(tender) }),
                        amount: due,
                        tip,
                        cash_received,
                    })?)
                    .await
                    .map_err(refused)?;
                (target, r.into_inner())
            }
            OrderCommand::VoidLine {
                order,
                line,
                reason,
                target,
            } => {
                let mut c = connect(&target.target).await?;
                let id = order_id(&order)?;
                let current = current_order(&mut c, &id).await?;
                let line_id = current
                    .lines
                    .get(line.wrapping_sub(1))
                    .map(|l| l.id.clone())
                    .ok_or_else(|| anyhow!("the order has no line {line}"))?;
                let r = c
                    .void_line(authed(v1::VoidLineRequest {
                        request_id: new_id(),
                        order: id,
                        line: line_id,
                        reason,
                    })?)
                    .await
                    .map_err(refused)?;
                (target, r.into_inner())
            }
            OrderCommand::Void {
                order,
                reason,
                target,
            } => {
                let mut c = connect(&target.target).await?;
                let r = c
                    .void_order(authed(v1::VoidOrderRequest {
                        request_id: new_id(),
                        order: order_id(&order)?,
                        reason,
                    })?)
                    .await
                    .map_err(refused)?;
                (target, r.into_inner())
            }
            OrderCommand::Refund {
                order,
                payment,
                amount: value,
                reason,
                target,
            } => {
                let mut c = connect(&target.target).await?;
                let id = order_id(&order)?;
                let current = current_order(&mut c, &id).await?;
                let payment_id = current
                    .payments
                    .get(payment.wrapping_sub(1))
                    .map(|p| p.id.clone())
                    .ok_or_else(|| anyhow!("the order has no payment {payment}"))?;
                let r = c
                    .refund(authed(v1::RefundRequest { drawer: Vec::new(),
                        request_id: new_id(),
                        order: id,
                        payment: payment_id,
                        amount: amount(&value, &current.currency)?,
                        reason,
                    })?)
                    .await
                    .map_err(refused)?;
                (target, r.into_inner())
            }
            OrderCommand::Split { order, by_seat, evenly, lines, target } => {
                let mut c = connect(&target.target).await?;
                let id = order_id(&order)?;
                let by = if by_seat {
                    v1::split_bill_request::By::Seat(v1::SplitBySeat {})
                } else if let Some(n) = evenly {
                    v1::split_bill_request::By::Evenly(n)
                } else if !lines.is_empty() {
                    let current = current_order(&mut c, &id).await?;
                    let ids = lines
                        .iter()
                        .map(|n| current.lines.get(n.wrapping_sub(1)).map(|l| l.id.clone()).ok_or_else(|| anyhow!("the order has no line {n}")))
                        .collect::<Result<Vec<_>>>()?;
                    v1::split_bill_request::By::Lines(v1::SplitByLines { lines: ids })
                } else {
                    bail!("say how: --by-seat, --evenly N or --lines 1,3");
                };
                let r = c.split_bill(authed(v1::SplitBillRequest { order: id, by: Some(by) })?).await.map_err(refused)?.into_inner();
                if target.json {
                    output::json(&json!({
                        "parts": r.parts.iter().map(|p| json!({ "label": p.label, "amount_minor": p.amount })).collect::<Vec<_>>(),
                        "total_minor": r.total,
                        "balance_minor": r.balance,
                    }));
                } else {
                    for p in &r.parts {
                        say!("  {:<20} {:>10}", p.label, minor(p.amount));
                    }
                    say!("  {:<20} {:>10}", "total", minor(r.total));
                    if r.balance != r.total {
                        say!("  {:<20} {:>10}", "still due", minor(r.balance));
                    }
                }
                return Ok(Outcome::Ok);
            }
            OrderCommand::Receipt {
                order,
                width,
                target,
            } => {
                if width != 32 && width != 48 {
                    bail!("--width is 32 (58 mm paper) or 48 (80 mm paper)");
                }
                let mut c = connect(&target.target).await?;
                let r = c
                    .get_receipt(authed(v1::GetReceiptRequest {
                        order: order_id(&order)?,
                        width,
                    })?)
                    .await
                    .map_err(refused)?
                    .into_inner();
                if target.json {
                    output::json(&json!({ "text": r.text, "code": r.code }));
                } else {
                    say!("{}", r.text.trim_end());
                }
                return Ok(Outcome::Ok);
            }
            OrderCommand::Conflicts { target } => {
                let mut c = connect(&target.target).await?;
                let orders = c
                    .list_orders(authed(v1::ListOrdersRequest {
                        limit: 200,
                        conflicted: true,
                        ..Default::default()
                    })?)
                    .await
                    .map_err(refused)?
                    .into_inner()
                    .orders;
                if target.json {
                    output::json(&json!({
                        "orders": orders.iter().map(|o| json!({
                            "id": show_id(&o.id),
                            "number": o.number,
                            "conflicts": o.conflicts,
                        })).collect::<Vec<_>>(),
                    }));
                } else if orders.is_empty() {
                    say!("no order needs a manager");
                }
                for o in orders.iter().filter(|_| !target.json) {
                    say!("{}  {}  {}", o.number, show_id(&o.id), o.conflicts.join("; "));
                }
                return Ok(Outcome::Ok);
            }
            OrderCommand::Show { order, target } => {
                let mut c = connect(&target.target).await?;
                let o = c
                    .get_order(authed(v1::GetOrderRequest {
                        order: order_id(&order)?,
                    })?)
                    .await
                    .map_err(refused)?
                    .into_inner();
                print_order(&o, target.json);
                return Ok(Outcome::Ok);
            }
        };
        let o = reply.order.context("the node sent no order")?;
        print_order(&o, target.json);
        let _ = load_session();
        Ok(Outcome::Ok)
    })
}
