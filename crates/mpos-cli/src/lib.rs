//! `mpos-cli` owns the `mpos` command line: one module per verb under `command/`, each a
//! thin layer that parses arguments, calls the node's libraries and prints readable text
//! or `--json`.
//!
//! Exit codes: 0 success; 1 a check found something wrong (a tampered ledger, an invalid
//! receipt or proof); 2 the input could not be used at all (unreadable file, bad
//! arguments, missing data directory).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod command;
mod output;

#[derive(Debug, Parser)]
#[command(
    name = "mpos",
    version,
    about = "M_POS: an offline-first, tamper-evident point of sale"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Set up a demo restaurant with a week of sales and serve it.
    Demo(command::demo::DemoArgs),
    /// Set up a new restaurant in a data directory: its settings and first owner.
    Setup(command::setup::SetupArgs),
    /// Run a node: gRPC and HTTP on one port.
    Serve(command::serve::ServeArgs),
    /// Log in to a node as a staff member (the session is saved for the next commands).
    Login(command::order::LoginArgs),
    /// Look up and edit the menu: settings, taxes, categories, modifiers, items, 86.
    #[command(subcommand)]
    Menu(command::order::MenuCommand),
    /// Staff: add, change roles, mark who left, set PINs.
    #[command(subcommand)]
    Staff(command::admin::StaffCommand),
    /// The floor: tables and the orders open at each.
    #[command(subcommand)]
    Table(command::admin::TableCommand),
    /// Open, fill, send, discount, pay, void and refund orders.
    #[command(subcommand)]
    Order(command::order::OrderCommand),
    /// Cash drawer sessions: open with a float, pay in and out, count and close.
    #[command(subcommand)]
    Drawer(command::day::DrawerCommand),
    /// The X-report (the day so far) and the Z-report (close the business day).
    #[command(subcommand)]
    Report(command::day::ReportCommand),
    /// Set up receipt and kitchen printers.
    #[command(subcommand)]
    Printer(command::print::PrinterCommand),
    /// Print receipts, see the print queue, reprint.
    #[command(subcommand)]
    Print(command::print::PrintCommand),
    /// Export, verify and prove the tamper-evident ledger.
    #[command(subcommand)]
    Ledger(command::ledger::LedgerCommand),
    /// Stock at every location: items, recipes, receiving, waste, counts, transfers,
    /// purchase orders and food cost.
    #[command(subcommand)]
    Stock(command::stock::StockCommand),
    /// Pair a new terminal into the organization with a one-time code.
    #[command(subcommand)]
    Pair(command::pair::PairCommand),
    /// The organization's nodes: where each sells, when it was last heard from; revoke one.
    #[command(subcommand)]
    Node(command::pair::NodeCommand),
    /// Measure the node's throughput.
    #[command(subcommand)]
    Bench(command::bench::BenchCommand),
}

/// Outcome of a command that maps to an exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// The check ran and found a problem (exit 1).
    Failed,
}

pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version are not errors; bad usage exits 2 like any unusable input.
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        Command::Demo(args) => command::demo::run(args),
        Command::Setup(args) => command::setup::run(args),
        Command::Serve(args) => command::serve::run(args),
        Command::Ledger(cmd) => command::ledger::run(cmd),
        Command::Login(args) => command::order::login(args),
        Command::Menu(cmd) => command::order::menu(cmd),
        Command::Order(cmd) => command::order::order(cmd),
        Command::Bench(cmd) => command::bench::run(cmd),
        Command::Staff(cmd) => command::admin::staff(cmd),
        Command::Table(cmd) => command::admin::table(cmd),
        Command::Drawer(cmd) => command::day::drawer(cmd),
        Command::Report(cmd) => command::day::report(cmd),
        Command::Printer(cmd) => command::print::printer(cmd),
        Command::Print(cmd) => command::print::print(cmd),
        Command::Stock(cmd) => command::stock::stock(cmd),
        Command::Pair(cmd) => command::pair::pair(cmd),
        Command::Node(cmd) => command::pair::node(cmd),
    };
    match result {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::Failed) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
