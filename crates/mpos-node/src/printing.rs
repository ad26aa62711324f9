//! The print spooler: a thread with its own database connection that turns the kitchen's
//! events in the ledger into tickets per station, and delivers queued jobs to printers
//! (raw TCP, usually port 9100, or a file).
//!
//! A sale never waits for a printer: the writer only records events; the spooler reads
//! them afterwards. Tickets are queued exactly once: the queue and the spooler's ledger
//! cursor move in one transaction. A job is marked `sending` durably before any byte
//! leaves; if the connection cannot be made it goes back to the queue (nothing was sent),
//! but if it breaks after that, or the node stops mid-send, the job is `failed` and only
//! an explicit reprint prints it again: a kitchen cooks what it sees, twice if it sees it
//! twice.

use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::store::Store;
use mpos_domain::Event;
use mpos_domain::ids::{OrderId, StationId};
use mpos_domain::order::{Change, Line, Order, OrderKind, Source};
use mpos_ledger::{EntryRef, NodeId};
use mpos_proto::event::decode;
use mpos_store::{LedgerStore, NewPrintJob, PosStore, PrintStore, Printer, StoreError};

use crate::clock;
use crate::error::NodeError;
use crate::escpos::{Align, Escpos};
use crate::writer::DurableSize;

/// Most ledger entries read per round, so a long backlog does not hold a transaction.
const SCAN_LIMIT: u64 = 2_000;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(200);

/// Why a job did not print.
#[derive(Debug, PartialEq, Eq)]
pub enum SendError {
    /// Nothing reached the printer (it is off or unplugged): safe to retry.
    NotSent(String),
    /// The printer may have received part or all of it: do not retry by itself.
    Uncertain(String),
}

/// Sends `bytes` to a printer address: `tcp:HOST:PORT` or `file:PATH`.
pub fn send(address: &str, bytes: &[u8]) -> Result<(), SendError> {
    if let Some(target) = address.strip_prefix("tcp:") {
        let addr = target
            .to_socket_addrs()
            .map_err(|e| SendError::NotSent(format!("{target}: {e}")))?
            .next()
            .ok_or_else(|| SendError::NotSent(format!("{target}: no address")))?;
        let mut stream = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT)
            .map_err(|e| SendError::NotSent(format!("{target}: {e}")))?;
        stream
            .set_write_timeout(Some(WRITE_TIMEOUT))
            .map_err(|e| SendError::NotSent(e.to_string()))?;
        stream
            .write_all(bytes)
            .and_then(|()| stream.flush())
            .and_then(|()| stream.shutdown(std::net::Shutdown::Write))
            .map_err(|e| SendError::Uncertain(format!("{target}: {e}")))
    } else if let Some(path) = address.strip_prefix("file:") {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| SendError::NotSent(format!("{path}: {e}")))?;
        f.write_all(bytes)
            .and_then(|()| f.sync_all())
            .map_err(|e| SendError::Uncertain(format!("{path}: {e}")))
    } else {
        Err(SendError::NotSent(format!(
            "{address:?} is not a printer address (tcp:HOST:PORT or file:PATH)"
        )))
    }
}

/// Checks a printer address without connecting.
pub fn check_address(address: &str) -> Result<(), String> {
    if let Some(target) = address.strip_prefix("tcp:") {
        let (host, port) = target
            .rsplit_once(':')
            .ok_or_else(|| format!("{target}: give HOST:PORT (raw printers use port 9100)"))?;
        if host.is_empty() || port.parse::<u16>().map_or(true, |p| p == 0) {
            return Err(format!(
                "{target}: give HOST:PORT (raw printers use port 9100)"
            ));
        }
        Ok(())
    } else if let Some(path) = address.strip_prefix("file:") {
        if path.is_empty() {
            return Err("file: needs a path".into());
        }
        Ok(())
    } else {
        Err(format!(
            "{address:?} is not a printer address: tcp:HOST:PORT or file:PATH"
        ))
    }
}

fn time_of_day(millis: u64) -> String {
    let secs = millis / 1000;
    format!("{:02}:{:02}", (secs / 3600) % 24, (secs / 60) % 60)
}

fn header(p: &mut Escpos, printer: &str, order: &Order, table: Option<&str>, at: u64, what: &str) {
    let place = match (&order.kind, table) {
        (OrderKind::DineIn { guests, .. }, Some(name)) => {
            format!("table {name}  {guests} guests")
        }
        (OrderKind::DineIn { guests, .. }, None) => format!("{guests} guests"),
        (OrderKind::Takeaway, _) => "takeaway".into(),
        (OrderKind::Delivery { .. }, _) => "delivery".into(),
    };
    let source = match &order.source {
        Source::Register => "register".to_string(),
        Source::SelfOrder => "self-order".into(),
        Source::Online => "online".into(),
        Source::Aggregator(name) => name.clone(),
    };
    p.align(Align::Center)
        .bold(true)
        .line(&printer.to_uppercase())
        .size(2, 2)
        .line(&format!("#{}", order.number))
        .size(1, 1)
        .bold(false)
        .line(&format!("{place}  {source}  {} UTC", time_of_day(at)));
    if !what.is_empty() {
        p.bold(true).size(2, 1).line(what).size(1, 1).bold(false);
    }
    p.align(Align::Left).line("");
}

fn item_lines(p: &mut Escpos, lines: &[&Line]) {
    let mut course = 0;
    for l in lines {
        if l.course != course {
            course = l.course;
            p.bold(true)
                .line(&format!("-- course {course} --"))
                .bold(false);
        }
        let variant = l
            .item
            .variant
            .as_ref()
            .map(|(_, v)| format!(" ({v})"))
            .unwrap_or_default();
        let seat = l.seat.map(|s| format!("  seat {s}")).unwrap_or_default();
        p.size(1, 2)
            .bold(true)
            .line(&format!(
                "{} x {}{variant}{seat}",
                l.item.quantity, l.item.name
            ))
            .bold(false)
            .size(1, 1);
        for m in &l.item.modifiers {
            p.line(&format!("    + {}", m.name));
        }
        if !l.note.trim().is_empty() {
            p.line(&format!("    NOTE: {}", l.note.trim()));
        }
    }
}

/// A kitchen ticket for one station. `what` is empty for new lines, or says what the
/// ticket asks ("VOID", "FIRE COURSE 2").
pub fn kitchen_ticket(
    printer: &str,
    order: &Order,
    table: Option<&str>,
    lines: &[&Line],
    at: u64,
    what: &str,
) -> Vec<u8> {
    let mut p = Escpos::new();
    header(&mut p, printer, order, table, at, what);
    item_lines(&mut p, lines);
    p.line("").cut();
    p.into_bytes()
}

/// The jobs one ledger event gives the kitchen printers.
fn jobs_for<S: PosStore>(
    store: &S,
    printers: &[Printer],
    order: &Order,
    change: &Change,
    at: u64,
) -> Result<Vec<NewPrintJob>, StoreError> {
    let (ids, what): (Vec<_>, String) = match change {
        Change::LinesSent { lines } => (lines.clone(), String::new()),
        Change::LineVoided { line, .. } => match order.line(*line) {
            Some(l) if l.sent => (vec![*line], "VOID".into()),
            _ => return Ok(Vec::new()),
        },
        Change::CourseFired { course } => (
            order
                .live_lines()
                .filter(|l| l.course == *course && l.sent)
                .map(|l| l.id)
                .collect(),
            format!("FIRE COURSE {course}"),
        ),
        _ => return Ok(Vec::new()),
    };
    // Lines by the station their category sends them to.
    let mut by_station: Vec<(StationId, Vec<&Line>)> = Vec::new();
    for id in ids {
        let Some(line) = order.line(id) else { continue };
        let Some(station) = store.category(line.item.category)?.and_then(|c| c.station) else {
            continue;
        };
        match by_station.iter_mut().find(|(s, _)| *s == station) {
            Some((_, v)) => v.push(line),
            None => by_station.push((station, vec![line])),
        }
    }
    let table = crate::receipt::table_name(store, order)?;
    let mut jobs = Vec::new();
    for (station, lines) in by_station {
        for printer in printers.iter().filter(|p| p.stations.contains(&station)) {
            let kind = if what.is_empty() {
                "new"
            } else {
                what.as_str()
            };
            jobs.push(NewPrintJob {
                printer: printer.name.clone(),
                kind: "kitchen".into(),
                order: Some(order.id),
                title: format!(
                    "#{} {kind} ({} line{})",
                    order.number,
                    lines.len(),
                    if lines.len() == 1 { "" } else { "s" }
                ),
                bytes: kitchen_ticket(&printer.name, order, table.as_deref(), &lines, at, &what),
                reprint_of: None,
            });
        }
    }
    Ok(jobs)
}

/// Most ledger entries the spooler may read past its stored cursor without storing it
/// again: what it rereads after a restart.
const CURSOR_EVERY: u64 = 10_000;

/// How far the spooler has read the ledger. Entries that hold nothing for the kitchen move
/// only the cursor in memory, so a sale that prints nothing costs the spooler no write
/// (and the writer no wait for its lock); the cursor is stored with the next tickets it
/// queues, or after `CURSOR_EVERY` entries. Rereading from the stored cursor after a
/// restart finds nothing new to queue.
#[derive(Debug)]
pub struct KitchenFeed {
    node: NodeId,
    /// The last entry read.
    read: u64,
    /// The last entry read as the store has it.
    stored: u64,
}

impl KitchenFeed {
    pub fn new(store: &impl PrintStore, node: NodeId) -> Result<KitchenFeed, NodeError> {
        let stored = store.print_cursor(node)?.unwrap_or(0);
        Ok(KitchenFeed {
            node,
            read: stored,
            stored,
        })
    }

    /// Reads the ledger after the cursor, up to `durable` entries, and queues the kitchen
    /// tickets it holds. Returns how many entries it read.
    pub fn queue_tickets(
        &mut self,
        store: &mut (impl PosStore + PrintStore),
        durable: u64,
    ) -> Result<u64, NodeError> {
        let node = self.node;
        let from = self.read + 1;
        let head = store.chain_head(node)?.map_or(0, |h| h.size()).min(durable);
        if head < from {
            return Ok(0);
        }
        let to = head.min(from + SCAN_LIMIT - 1);
        let printers = store.printers()?;
        let mut events: Vec<(OrderId, u64, Change)> = Vec::new();
        if printers.iter().any(|p| !p.stations.is_empty()) {
            store.visit_entries(node, from, to, &mut |bytes| {
                let entry =
                    EntryRef::decode(bytes).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                if let Event::Order(e) =
                    decode(entry.payload).map_err(|e| StoreError::Corrupt(e.to_string()))?
                    && matches!(
                        e.change,
                        Change::LinesSent { .. }
                            | Change::LineVoided { .. }
                            | Change::CourseFired { .. }
                    )
                {
                    events.push((e.order, e.at, e.change));
                }
                Ok(())
            })?;
        }
        let mut jobs = Vec::new();
        for (order, at, change) in events {
            if let Some(o) = store.load_order(order)? {
                jobs.extend(jobs_for(&*store, &printers, &o, &change, at)?);
            }
        }
        if !jobs.is_empty() || to - self.stored >= CURSOR_EVERY {
            store.queue_from_ledger(node, to, &jobs, clock::now_millis())?;
            self.stored = to;
        }
        self.read = to;
        Ok(to + 1 - from)
    }

    /// Stores the cursor if it moved (when the spooler stops).
    pub fn store_cursor(&mut self, store: &mut impl PrintStore) -> Result<(), NodeError> {
        if self.read > self.stored {
            store.queue_from_ledger(self.node, self.read, &[], clock::now_millis())?;
            self.stored = self.read;
        }
        Ok(())
    }
}

/// Sends what is due on each printer, oldest job first. Returns how many printed.
pub fn deliver(store: &mut impl PrintStore) -> Result<usize, NodeError> {
    let mut printed = 0;
    for printer in store.printers()? {
        while let Some(job) = store.next_job(&printer.name, clock::now_millis())? {
            store.mark_sending(job.id)?;
            match send(&printer.address, &job.job.bytes) {
                Ok(()) => {
                    store.mark_printed(job.id, clock::now_millis())?;
                    printed += 1;
                }
                Err(SendError::NotSent(e)) => {
                    // Back off: 1 s, 2 s, 4 s ... up to a minute.
                    let wait = 1_000u64 << job.attempts.min(6);
                    tracing::warn!(printer = %printer.name, job = job.id, error = %e, "printer unreachable; will retry");
                    store.mark_retry(job.id, &e, clock::now_millis() + wait.min(60_000))?;
                    break;
                }
                Err(SendError::Uncertain(e)) => {
                    tracing::error!(printer = %printer.name, job = job.id, error = %e, "print failed midway; reprint if needed");
                    store.mark_failed(job.id, &e)?;
                }
            }
        }
    }
    Ok(printed)
}

/// The spooler thread.
#[derive(Debug)]
pub struct Spooler {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Spooler {
    /// Starts spooling for `node` over its own connection `store`, reading the ledger as
    /// far as it is `durable`.
    pub fn start(
        mut store: Store,
        node: NodeId,
        durable: DurableSize,
    ) -> Result<Spooler, NodeError> {
        // The first time: history from before printing was set up is never printed.
        if store.print_cursor(node)?.is_none() {
            let head = store.chain_head(node)?.map_or(0, |h| h.size());
            store.queue_from_ledger(node, head, &[], clock::now_millis())?;
        }
        let interrupted = store.fail_interrupted()?;
        if interrupted > 0 {
            tracing::warn!(
                jobs = interrupted,
                "print jobs were being sent when the node stopped; marked failed, reprint if needed"
            );
        }
        let mut feed = KitchenFeed::new(&store, node)?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("mpos-printer".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    let round = feed
                        .queue_tickets(&mut store, durable.get())
                        .and_then(|read| deliver(&mut store).map(|_| read));
                    match round {
                        // A backlog: go on at once.
                        Ok(read) if read >= SCAN_LIMIT => continue,
                        Ok(_) => {}
                        Err(e) => tracing::error!(error = %e, "print spooler round failed"),
                    }
                    std::thread::sleep(POLL);
                }
                if let Err(e) = feed.store_cursor(&mut store) {
                    tracing::warn!(error = %e, "the print cursor was not stored; the spooler rereads from the last one");
                }
            })?;
        Ok(Spooler {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Spooler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
