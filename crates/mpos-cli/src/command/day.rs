//! `mpos drawer ...` and `mpos report ...`: cash drawer sessions and the X and Z reports.

use anyhow::{Result, anyhow};
use clap::Subcommand;
use mpos_proto::v1;
use serde_json::{Value, json};

use crate::Outcome;
use crate::command::client::{
    Target, authed, connect, currency, money, new_id, parse_id, refused, show_id,
};
use crate::command::order::{amount, runtime};
use crate::command::stock::{connect_with_stock, last_days, location as stock_location};
use crate::output::{self, say};

#[derive(Debug, Subcommand)]
pub enum DrawerCommand {
    /// Open a drawer session with the float counted into it.
    Open {
        /// Which physical drawer.
        #[arg(long, default_value = "front")]
        name: String,
        #[arg(long)]
        float: String,
        #[command(flatten)]
        target: Target,
    },
    /// Put cash into the drawer (change from the bank, ...).
    PayIn {
        #[arg(long)]
        amount: String,
        #[arg(long)]
        reason: String,
        /// Session id; default: the one open now.
        #[arg(long)]
        drawer: Option<String>,
        #[command(flatten)]
        target: Target,
    },
    /// Take cash out of the drawer (a supplier paid at the door, ...).
    PayOut {
        #[arg(long)]
        amount: String,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        drawer: Option<String>,
        #[command(flatten)]
        target: Target,
    },
    /// Count the drawer and close its session: shows the variance.
    Close {
        #[arg(long)]
        counted: String,
        #[arg(long)]
        drawer: Option<String>,
        #[command(flatten)]
        target: Target,
    },
    /// The latest drawer sessions.
    List {
        #[arg(long, default_value_t = 10)]
        limit: u32,
        #[command(flatten)]
        target: Target,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// The open business day so far (does not close it).
    X {
        #[command(flatten)]
        target: Target,
    },
    /// Close the business day and print its Z-report.
    Z {
        #[command(flatten)]
        target: Target,
    },
    /// Reprint the Z-report of a closed day.
    Day {
        day: u32,
        #[command(flatten)]
        target: Target,
    },
    /// Sales of the last days: by location, best sellers, categories. This node's
    /// location by default (every location's on a head-office node); `--location` names
    /// another.
    Sales {
        #[arg(long, default_value_t = 7)]
        days: u64,
        #[arg(long)]
        location: Option<String>,
        #[command(flatten)]
        target: Target,
    },
}

async fn sales(days: u64, location: Option<String>, target: Target) -> Result<Outcome> {
    let (mut c, location) = match location {
        Some(name) => {
            let (c, v) = connect_with_stock(&target).await?;
            let at = stock_location(&v, &name)?.location.clone();
            (c, at)
        }
        None => (connect(&target.target).await?, Vec::new()),
    };
    let (from, to) = last_days(days);
    let v = c
        .get_sales(authed(v1::GetSalesRequest {
            from,
            to,
            utc_offset_minutes: 0,
            location,
        })?)
        .await
        .map_err(refused)?
        .into_inner();
    let bars = |b: &[v1::SalesBucket]| {
        b.iter()
            .map(|b| json!({"name": b.key, "count": b.count, "sales_minor": b.sales}))
            .collect::<Vec<_>>()
    };
    if target.json {
        output::json(&json!({
            "currency": v.currency, "orders": v.orders, "total_minor": v.total,
            "locations": bars(&v.locations), "items": bars(&v.items),
            "categories": bars(&v.categories), "staff": bars(&v.staff),
        }));
        return Ok(Outcome::Ok);
    }
    let m = |minor: i64| money(minor, &v.currency);
    say!(
        "SALES  last {days} day(s): {} orders, {}",
        v.orders,
        m(v.total)
    );
    let table = |title: &str, rows: &[v1::SalesBucket], count: &str| {
        if rows.is_empty() {
            return;
        }
        say!("");
        say!("{title}");
        for b in rows.iter().take(10) {
            let name = if b.key.is_empty() {
                "(no location)"
            } else {
                &b.key
            };
            say!("  {name:<28} {:>6} {count}  {:>12}", b.count, m(b.sales));
        }
    };
    table("BY LOCATION", &v.locations, "orders");
    table("BEST SELLERS", &v.items, "sold  ");
    table("BY CATEGORY", &v.categories, "sold  ");
    Ok(Outcome::Ok)
}

fn opt_id(text: &Option<String>) -> Result<Vec<u8>> {
    text.as_deref().map_or(Ok(Vec::new()), parse_id)
}

fn drawer_json(d: &v1::DrawerView) -> Value {
    json!({
        "id": show_id(&d.id),
        "name": d.name,
        "currency": d.currency,
        "float": d.float,
        "cash_sales": d.cash_sales,
        "cash_refunds": d.cash_refunds,
        "paid_in": d.paid_in,
        "paid_out": d.paid_out,
        "expected": d.expected,
        "closed": d.closed,
        "counted": d.counted,
        "variance": d.variance,
        "opened_at": d.opened_at,
        "closed_at": d.closed_at,
    })
}

fn print_drawer(d: &v1::DrawerView) {
    let c = &d.currency;
    let state = if d.closed { "closed" } else { "open" };
    say!("drawer {} ({state})  {}", d.name, show_id(&d.id));
    say!("  float         {:>16}", money(d.float, c));
    say!("  cash sales    {:>16}", money(d.cash_sales, c));
    say!("  cash refunds  {:>16}", money(-d.cash_refunds, c));
    say!("  paid in       {:>16}", money(d.paid_in, c));
    say!("  paid out      {:>16}", money(-d.paid_out, c));
    say!("  expected      {:>16}", money(d.expected, c));
    if let (Some(counted), Some(variance)) = (d.counted, d.variance) {
        say!("  counted       {:>16}", money(counted, c));
        let label = match variance.signum() {
            -1 => "short",
            1 => "over",
            _ => "exact",
        };
        say!("  variance      {:>16}  ({label})", money(variance, c));
    }
}

async fn move_cash(
    out: bool,
    value: &str,
    reason: String,
    drawer: &Option<String>,
    target: &Target,
) -> Result<v1::DrawerReply> {
    let amount = amount(value, &currency()?)?;
    let mut c = connect(&target.target).await?;
    Ok(c.move_cash(authed(v1::MoveCashRequest {
        request_id: new_id(),
        drawer: opt_id(drawer)?,
        out,
        amount,
        reason,
    })?)
    .await
    .map_err(refused)?
    .into_inner())
}

pub fn drawer(cmd: DrawerCommand) -> Result<Outcome> {
    runtime()?.block_on(async {
        let (target, reply) = match cmd {
            DrawerCommand::Open {
                name,
                float,
                target,
            } => {
                let float = amount(&float, &currency()?)?;
                let mut c = connect(&target.target).await?;
                let r = c
                    .open_drawer(authed(v1::OpenDrawerRequest {
                        request_id: new_id(),
                        drawer: new_id(),
                        name,
                        float,
                    })?)
                    .await
                    .map_err(refused)?;
                (target, r.into_inner())
            }
            DrawerCommand::PayIn {
                amount: value,
                reason,
                drawer,
                target,
            } => {
                let r = move_cash(false, &value, reason, &drawer, &target).await?;
                (target, r)
            }
            DrawerCommand::PayOut {
                amount: value,
                reason,
                drawer,
                target,
            } => {
                let r = move_cash(true, &value, reason, &drawer, &target).await?;
                (target, r)
            }
            DrawerCommand::Close {
                counted,
                drawer,
                target,
            } => {
                let counted = amount(&counted, &currency()?)?;
                let mut c = connect(&target.target).await?;
                let r = c
                    .close_drawer(authed(v1::CloseDrawerRequest {
                        request_id: new_id(),
                        drawer: opt_id(&drawer)?,
                        counted,
                    })?)
                    .await
                    .map_err(refused)?;
                (target, r.into_inner())
            }
            DrawerCommand::List { limit, target } => {
                let mut c = connect(&target.target).await?;
                let drawers = c
                    .list_drawers(authed(v1::ListDrawersRequest { limit })?)
                    .await
                    .map_err(refused)?
                    .into_inner()
                    .drawers;
                if target.json {
                    let list: Vec<Value> = drawers.iter().map(drawer_json).collect();
                    output::json(&json!({ "drawers": list }));
                } else if drawers.is_empty() {
                    say!("no drawer sessions yet");
                } else {
                    for d in &drawers {
                        print_drawer(d);
                    }
                }
                return Ok(Outcome::Ok);
            }
        };
        let d = reply
            .drawer
            .ok_or_else(|| anyhow!("the node answered without the drawer"))?;
        if target.json {
            output::json(&json!({ "drawer": drawer_json(&d), "replayed": reply.replayed }));
        } else {
            print_drawer(&d);
        }
        Ok(Outcome::Ok)
    })
}

fn report_json(r: &v1::DayReportView) -> Value {
    json!({
        "day": r.day,
        "closed": r.closed,
        "restaurant": r.restaurant,
        "currency": r.currency,
        "from_seq": r.from_seq,
        "to_seq": r.to_seq,
        "first_at": r.first_at,
        "last_at": r.last_at,
        "orders": r.orders,
        "guests": r.guests,
        "gross_sales": r.gross_sales,
        "discounts": r.discounts,
        "net_sales": r.net_sales,
        "tax": r.tax.iter().map(|t| json!({ "rate_ppm": t.rate_ppm, "amount": t.amount })).collect::<Vec<_>>(),
        "service_charges": r.service_charges,
        "sales_total": r.sales_total,
        "tips": r.tips,
        "tenders": r.tenders.iter().map(|t| json!({
            "tender": t.tender, "payments": t.payments, "amount": t.amount, "tips": t.tips,
            "refunds": t.refunds, "refunded": t.refunded, "net": t.net,
        })).collect::<Vec<_>>(),
        "categories": r.categories.iter().map(|c| json!({
            "category": show_id(&c.category), "name": c.name, "quantity": c.quantity, "sales": c.sales,
        })).collect::<Vec<_>>(),
        "staff": r.staff.iter().map(|s| json!({
            "staff": show_id(&s.staff), "name": s.name, "orders": s.orders, "sales": s.sales,
            "tips": s.tips, "voided": s.voided, "refunded": s.refunded,
        })).collect::<Vec<_>>(),
        "voided_lines": r.voided_lines,
        "voided_lines_amount": r.voided_lines_amount,
        "voided_orders": r.voided_orders,
        "voided_orders_amount": r.voided_orders_amount,
        "refunds": r.refunds,
        "refunded": r.refunded,
        "drawers": r.drawers.iter().map(drawer_json).collect::<Vec<_>>(),
        "cash_outside_drawers": r.cash_outside_drawers,
        "cash_variance": r.cash_variance,
        "open_orders": r.open_orders,
        "open_orders_due": r.open_orders_due,
    })
}

fn percent(ppm: u32) -> String {
    let whole = ppm / 10_000;
    let frac = ppm % 10_000;
    if frac == 0 {
        format!("{whole}%")
    } else {
        format!("{whole}.{}%", format!("{frac:04}").trim_end_matches('0'))
    }
}

fn time(millis: u64) -> String {
    if millis == 0 {
        return "-".into();
    }
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(millis);
    humantime::format_rfc3339_seconds(t).to_string()
}

fn print_report(r: &v1::DayReportView) {
    let c = r.currency.as_str();
    let m = |minor: i64| money(minor, c);
    let kind = if r.closed {
        "Z-REPORT"
    } else {
        "X-REPORT (day still open)"
    };
    say!("{}  {kind}  business day {}", r.restaurant, r.day);
    say!(
        "from {} to {}  (ledger entries {}..={})",
        time(r.first_at),
        time(r.last_at),
        r.from_seq,
        r.to_seq
    );
    say!("");
    say!("SALES");
    say!(
        "  orders closed          {:>8}   guests {}",
        r.orders,
        r.guests
    );
    say!("  gross sales            {:>20}", m(r.gross_sales));
    say!("  discounts              {:>20}", m(-r.discounts));
    say!("  net sales (ex tax)     {:>20}", m(r.net_sales));
    for t in &r.tax {
        say!("  tax {:<18} {:>20}", percent(t.rate_ppm), m(t.amount));
    }
    say!("  service charges        {:>20}", m(r.service_charges));
    say!("  total                  {:>20}", m(r.sales_total));
    say!("  tips                   {:>20}", m(r.tips));
    say!("");
    say!("TENDERS                  payments  amount / tips / refunded / net");
    for t in &r.tenders {
        say!(
            "  {:<22} {:>8}  {} / {} / {} / {}",
            t.tender,
            t.payments,
            m(t.amount),
            m(t.tips),
            m(-t.refunded),
            m(t.net)
        );
    }
    say!("");
    say!("CATEGORIES");
    for cat in &r.categories {
        say!(
            "  {:<22} {:>8}  {:>20}",
            cat.name,
            cat.quantity,
            m(cat.sales)
        );
    }
    say!("");
    say!("STAFF                    orders  sales / tips / voided / refunded");
    for s in &r.staff {
        say!(
            "  {:<22} {:>8}  {} / {} / {} / {}",
            s.name,
            s.orders,
            m(s.sales),
            m(s.tips),
            m(s.voided),
            m(s.refunded)
        );
    }
    say!("");
    say!("VOIDS AND REFUNDS");
    say!(
        "  voided lines           {:>8}  {:>20}",
        r.voided_lines,
        m(r.voided_lines_amount)
    );
    say!(
        "  voided orders          {:>8}  {:>20}",
        r.voided_orders,
        m(r.voided_orders_amount)
    );
    say!(
        "  refunds                {:>8}  {:>20}",
        r.refunds,
        m(r.refunded)
    );
    say!("");
    say!("CASH");
    for d in &r.drawers {
        print_drawer(d);
    }
    if r.cash_outside_drawers != 0 {
        say!(
            "  cash outside any drawer session {:>12}",
            m(r.cash_outside_drawers)
        );
    }
    say!("  cash variance          {:>20}", m(r.cash_variance));
    if r.open_orders > 0 {
        say!("");
        say!(
            "OPEN ORDERS  {} still open, {} due",
            r.open_orders,
            m(r.open_orders_due)
        );
    }
}

pub fn report(cmd: ReportCommand) -> Result<Outcome> {
    runtime()?.block_on(async {
        let (target, r) = match cmd {
            ReportCommand::Sales {
                days,
                location,
                target,
            } => return sales(days, location, target).await,
            ReportCommand::X { target } => {
                let mut c = connect(&target.target).await?;
                let r = c
                    .get_day_report(authed(v1::GetDayReportRequest { day: 0 })?)
                    .await
                    .map_err(refused)?;
                (target, r.into_inner())
            }
            ReportCommand::Z { target } => {
                let mut c = connect(&target.target).await?;
                let r = c
                    .close_day(authed(v1::CloseDayRequest {
                        request_id: new_id(),
                    })?)
                    .await
                    .map_err(refused)?;
                (target, r.into_inner())
            }
            ReportCommand::Day { day, target } => {
                if day == 0 {
                    return Err(anyhow!("business days are numbered from 1"));
                }
                let mut c = connect(&target.target).await?;
                let r = c
                    .get_day_report(authed(v1::GetDayReportRequest { day })?)
                    .await
                    .map_err(refused)?;
                (target, r.into_inner())
            }
        };
        if target.json {
            output::json(&report_json(&r));
        } else {
            print_report(&r);
        }
        Ok(Outcome::Ok)
    })
}
