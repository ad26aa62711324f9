//! `mpos printer ...` (set up printers) and `mpos print ...` (receipts, the queue, reprints).

use anyhow::{Result, anyhow};
use clap::Subcommand;
use mpos_proto::v1;
use serde_json::{Value, json};

use crate::Outcome;
use crate::command::client::{Target, authed, connect, new_id, order_id, refused, show_id};
use crate::command::order::runtime;
use crate::output::{self, say};

#[derive(Debug, Subcommand)]
pub enum PrinterCommand {
    /// Add or change a printer: a network printer (raw TCP, usually port 9100) or a file.
    Add {
        name: String,
        #[arg(
            long,
            value_name = "HOST:PORT",
            conflicts_with = "file",
            required_unless_present = "file"
        )]
        tcp: Option<String>,
        #[arg(long, value_name = "PATH")]
        file: Option<String>,
        /// Kitchen stations whose tickets it prints (ids; a small number n stands for the
        /// id 0…0n, as the demo's stations 1 and 2).
        #[arg(long, value_delimiter = ',')]
        stations: Vec<String>,
        /// It prints receipts.
        #[arg(long)]
        receipts: bool,
        /// 32 (58 mm paper) or 48 (80 mm).
        #[arg(long, default_value_t = 48)]
        columns: u32,
        #[command(flatten)]
        target: Target,
    },
    Remove {
        name: String,
        #[command(flatten)]
        target: Target,
    },
    List {
        #[command(flatten)]
        target: Target,
    },
}

#[derive(Debug, Subcommand)]
pub enum PrintCommand {
    /// Print an order's receipt (with its QR code) on the receipt printers.
    Receipt {
        /// Order id, or `last`.
        order: String,
        #[arg(long)]
        printer: Option<String>,
        #[command(flatten)]
        target: Target,
    },
    /// The print queue, newest first.
    Jobs {
        #[arg(long, default_value_t = 20)]
        limit: u32,
        #[command(flatten)]
        target: Target,
    },
    /// Print a job again (marked as a reprint).
    Reprint {
        job: u64,
        #[command(flatten)]
        target: Target,
    },
}

fn station(text: &str) -> Result<Vec<u8>> {
    if let Ok(n) = text.trim().parse::<u64>() {
        return Ok(u128::from(n).to_be_bytes().to_vec());
    }
    crate::command::client::parse_id(text)
}

fn printer_json(p: &v1::PrinterView) -> Value {
    json!({
        "name": p.name,
        "address": p.address,
        "stations": p.stations.iter().map(|s| show_id(s)).collect::<Vec<_>>(),
        "receipts": p.receipts,
        "columns": p.columns,
    })
}

fn job_json(j: &v1::PrintJobView) -> Value {
    json!({
        "id": j.id, "printer": j.printer, "kind": j.kind, "title": j.title, "state": j.state,
        "attempts": j.attempts, "last_error": j.last_error, "created_at": j.created_at,
        "printed_at": j.printed_at, "reprint_of": j.reprint_of,
    })
}

fn print_job(j: &v1::PrintJobView) {
    let error = if j.last_error.is_empty() {
        String::new()
    } else {
        format!("  ({})", j.last_error)
    };
    say!(
        "{:>6}  {:<8} {:<10} {:<8} {}{error}",
        j.id,
        j.state,
        j.printer,
        j.kind,
        j.title
    );
}

pub fn printer(cmd: PrinterCommand) -> Result<Outcome> {
    runtime()?.block_on(async {
        match cmd {
            PrinterCommand::Add { name, tcp, file, stations, receipts, columns, target } => {
                let address = match (tcp, file) {
                    (Some(t), _) => format!("tcp:{t}"),
                    (None, Some(f)) => {
                        // Absolute, so the node finds it whatever its working directory.
                        let path = std::path::absolute(&f)?;
                        format!("file:{}", path.display())
                    }
                    (None, None) => return Err(anyhow!("give --tcp HOST:PORT or --file PATH")),
                };
                let stations = stations.iter().map(|s| station(s)).collect::<Result<Vec<_>>>()?;
                let mut c = connect(&target.target).await?;
                let p = c
                    .put_printer(authed(v1::PrinterView { name, address, stations, receipts, columns })?)
                    .await
                    .map_err(refused)?
                    .into_inner();
                if target.json {
                    output::json(&printer_json(&p));
                } else {
                    say!("printer {} at {}", p.name, p.address);
                }
            }
            PrinterCommand::Remove { name, target } => {
                let mut c = connect(&target.target).await?;
                let r = c
                    .remove_printer(authed(v1::RemovePrinterRequest { name: name.clone() })?)
                    .await
                    .map_err(refused)?
                    .into_inner();
                if !r.removed {
                    return Err(anyhow!("no printer {name:?}"));
                }
                if target.json {
                    output::json(&json!({ "removed": name }));
                } else {
                    say!("printer {name} removed");
                }
            }
            PrinterCommand::List { target } => {
                let mut c = connect(&target.target).await?;
                let printers = c
                    .list_printers(authed(v1::ListPrintersRequest {})?)
                    .await
                    .map_err(refused)?
                    .into_inner()
                    .printers;
                if target.json {
                    output::json(&json!({ "printers": printers.iter().map(printer_json).collect::<Vec<_>>() }));
                } else if printers.is_empty() {
                    say!("no printers: add one with `mpos printer add NAME --tcp HOST:9100`");
                } else {
                    for p in &printers {
                        let what: Vec<String> = p
                            .stations
                            .iter()
                            .map(|s| format!("station {}", show_id(s)))
                            .chain(p.receipts.then(|| "receipts".to_string()))
                            .collect();
                        say!("{:<10} {:<40} {} cols  {}", p.name, p.address, p.columns, what.join(", "));
                    }
                }
            }
        }
        Ok(Outcome::Ok)
    })
}

pub fn print(cmd: PrintCommand) -> Result<Outcome> {
    runtime()?.block_on(async {
        let (target, jobs) = match cmd {
            PrintCommand::Receipt {
                order,
                printer,
                target,
            } => {
                let mut c = connect(&target.target).await?;
                let jobs = c
                    .print_receipt(authed(v1::PrintReceiptRequest {
                        request_id: new_id(),
                        order: order_id(&order)?,
                        printer: printer.unwrap_or_default(),
                    })?)
                    .await
                    .map_err(refused)?
                    .into_inner()
                    .jobs;
                (target, jobs)
            }
            PrintCommand::Jobs { limit, target } => {
                let mut c = connect(&target.target).await?;
                let jobs = c
                    .list_print_jobs(authed(v1::ListPrintJobsRequest { limit })?)
                    .await
                    .map_err(refused)?
                    .into_inner()
                    .jobs;
                (target, jobs)
            }
            PrintCommand::Reprint { job, target } => {
                let mut c = connect(&target.target).await?;
                let job = c
                    .reprint(authed(v1::ReprintRequest {
                        job,
                        request_id: new_id(),
                    })?)
                    .await
                    .map_err(refused)?
                    .into_inner();
                (target, vec![job])
            }
        };
        if target.json {
            output::json(&json!({ "jobs": jobs.iter().map(job_json).collect::<Vec<_>>() }));
        } else if jobs.is_empty() {
            say!("no print jobs");
        } else {
            for j in &jobs {
                print_job(j);
            }
        }
        Ok(Outcome::Ok)
    })
}
