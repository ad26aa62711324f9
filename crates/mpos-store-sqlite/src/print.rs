//! Printers and the durable print queue (`PrintStore`).

use mpos_domain::ids::OrderId;
use mpos_ledger::NodeId;
use mpos_store::{NewPrintJob, PrintJob, PrintStore, Printer, StoreError};
use rusqlite::{OptionalExtension, Row, params};

use mpos_store::columns::{
    job_ids_text, job_state_from, print_request_jobs, stations_bytes, stations_from,
};

use crate::row::{read_opt_id, read_opt_u64, read_u64, rows};
use crate::{SqliteStore, db, sql_int};

fn job_row(r: &Row<'_>) -> Result<PrintJob, StoreError> {
    let order = read_opt_id(r, "order_id")?.map(OrderId);
    let state: String = r.get("state").map_err(db)?;
    Ok(PrintJob {
        id: read_u64(r, "id")?,
        job: NewPrintJob {
            printer: r.get("printer").map_err(db)?,
            kind: r.get("kind").map_err(db)?,
            order,
            title: r.get("title").map_err(db)?,
            bytes: r.get("bytes").map_err(db)?,
            reprint_of: read_opt_u64(r, "reprint_of")?,
        },
        state: job_state_from(&state)?,
        attempts: r.get("attempts").map_err(db)?,
        last_error: r.get("last_error").map_err(db)?,
        created_at: read_u64(r, "created_at")?,
        next_try_at: read_u64(r, "next_try_at")?,
        printed_at: read_opt_u64(r, "printed_at")?,
    })
}

fn insert_job(conn: &rusqlite::Connection, job: &NewPrintJob, now: u64) -> Result<u64, StoreError> {
    conn.prepare_cached(
        "INSERT INTO print_job (printer, kind, order_id, title, bytes, state, attempts,
            created_at, next_try_at, reprint_of)
         VALUES (?1, ?2, ?3, ?4, ?5, 'queued', 0, ?6, ?6, ?7)",
    )
    .map_err(db)?
    .execute(params![
        job.printer,
        job.kind,
        job.order.map(|o| o.0.to_be_bytes().to_vec()),
        job.title,
        job.bytes,
        sql_int(now),
        job.reprint_of.map(sql_int),
    ])
    .map_err(db)?;
    Ok(conn.last_insert_rowid().unsigned_abs())
}

impl SqliteStore {
    fn set_job(&mut self, sql: &str, args: impl rusqlite::Params) -> Result<(), StoreError> {
        let n = self
            .conn()
            .prepare_cached(sql)
            .map_err(db)?
            .execute(args)
            .map_err(db)?;
        if n == 1 {
            Ok(())
        } else {
            Err(StoreError::Conflict("no such print job".into()))
        }
    }
}

impl PrintStore for SqliteStore {
    fn put_printer(&mut self, p: &Printer) -> Result<(), StoreError> {
        let stations = stations_bytes(&p.stations);
        self.conn()
            .prepare_cached(
                "INSERT INTO printer (name, address, stations, receipts, columns)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (name) DO UPDATE SET address = excluded.address,
                    stations = excluded.stations, receipts = excluded.receipts,
                    columns = excluded.columns",
            )
            .map_err(db)?
            .execute(params![p.name, p.address, stations, p.receipts, p.columns])
            .map_err(db)?;
        Ok(())
    }

    fn remove_printer(&mut self, name: &str) -> Result<bool, StoreError> {
        let n = self
            .conn()
            .execute("DELETE FROM printer WHERE name = ?1", params![name])
            .map_err(db)?;
        Ok(n > 0)
    }

    fn printers(&self) -> Result<Vec<Printer>, StoreError> {
        rows(
            self.conn(),
            "SELECT name, address, stations, receipts, columns FROM printer ORDER BY name",
            [],
            |r| {
                let stations: Vec<u8> = r.get("stations").map_err(db)?;
                Ok(Printer {
                    name: r.get("name").map_err(db)?,
                    address: r.get("address").map_err(db)?,
                    stations: stations_from(&stations)?,
                    receipts: r.get("receipts").map_err(db)?,
                    columns: r.get("columns").map_err(db)?,
                })
            },
        )
    }

    fn print_cursor(&self, node: NodeId) -> Result<Option<u64>, StoreError> {
        let seq: Option<i64> = self
            .conn()
            .prepare_cached("SELECT seq FROM print_cursor WHERE node_id = ?1")
            .map_err(db)?
            .query_row(params![&node.0[..]], |r| r.get(0))
            .optional()
            .map_err(db)?;
        Ok(seq.map(i64::unsigned_abs))
    }

    fn queue_from_ledger(
        &mut self,
        node: NodeId,
        seq: u64,
        jobs: &[NewPrintJob],
        now: u64,
    ) -> Result<(), StoreError> {
        let tx = self.write_transaction()?;
        for job in jobs {
            insert_job(&tx, job, now)?;
        }
        tx.prepare_cached(
            "INSERT INTO print_cursor (node_id, seq) VALUES (?1, ?2)
             ON CONFLICT (node_id) DO UPDATE SET seq = excluded.seq",
        )
        .map_err(db)?
        .execute(params![&node.0[..], sql_int(seq)])
        .map_err(db)?;
        tx.commit().map_err(db)
    }

    fn queue_job(&mut self, job: &NewPrintJob, now: u64) -> Result<u64, StoreError> {
        insert_job(self.conn(), job, now)
    }

    fn print_request(&self, request: u128, action: &str) -> Result<Option<Vec<u64>>, StoreError> {
        let found: Option<(String, String)> = self
            .conn()
            .prepare_cached("SELECT action, jobs FROM print_request WHERE id = ?1")
            .map_err(db)?
            .query_row([&request.to_be_bytes()[..]], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .map_err(db)?;
        let Some((done, jobs)) = found else {
            return Ok(None);
        };
        print_request_jobs(request, action, &done, &jobs).map(Some)
    }

    fn queue_for_request(
        &mut self,
        request: u128,
        action: &str,
        jobs: &[NewPrintJob],
        now: u64,
    ) -> Result<Vec<u64>, StoreError> {
        let tx = self.write_transaction()?;
        let ids = jobs
            .iter()
            .map(|job| insert_job(&tx, job, now))
            .collect::<Result<Vec<_>, _>>()?;
        let list = job_ids_text(&ids);
        tx.prepare_cached("INSERT INTO print_request (id, action, jobs) VALUES (?1, ?2, ?3)")
            .map_err(db)?
            .execute(params![&request.to_be_bytes()[..], action, list])
            .map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(ids)
    }

    fn next_job(&self, printer: &str, now: u64) -> Result<Option<PrintJob>, StoreError> {
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT * FROM print_job WHERE printer = ?1 AND state = 'queued'
                 ORDER BY id LIMIT 1",
            )
            .map_err(db)?;
        let mut rows = stmt.query(params![printer]).map_err(db)?;
        match rows.next().map_err(db)? {
            Some(r) => {
                let job = job_row(r)?;
                Ok((job.next_try_at <= now).then_some(job))
            }
            None => Ok(None),
        }
    }

    fn mark_sending(&mut self, id: u64) -> Result<(), StoreError> {
        self.set_job(
            "UPDATE print_job SET state = 'sending', attempts = attempts + 1
             WHERE id = ?1 AND state = 'queued'",
            params![sql_int(id)],
        )
    }

    fn mark_printed(&mut self, id: u64, now: u64) -> Result<(), StoreError> {
        self.set_job(
            "UPDATE print_job SET state = 'printed', printed_at = ?2, last_error = NULL
             WHERE id = ?1",
            params![sql_int(id), sql_int(now)],
        )
    }

    fn mark_retry(&mut self, id: u64, error: &str, next_try_at: u64) -> Result<(), StoreError> {
        self.set_job(
            "UPDATE print_job SET state = 'queued', last_error = ?2, next_try_at = ?3
             WHERE id = ?1",
            params![sql_int(id), error, sql_int(next_try_at)],
        )
    }

    fn mark_failed(&mut self, id: u64, error: &str) -> Result<(), StoreError> {
        self.set_job(
            "UPDATE print_job SET state = 'failed', last_error = ?2 WHERE id = ?1",
            params![sql_int(id), error],
        )
    }

    fn fail_interrupted(&mut self) -> Result<usize, StoreError> {
        self.conn()
            .execute(
                "UPDATE print_job SET state = 'failed',
                    last_error = 'the node stopped while sending: check the printer, reprint if it did not print'
                 WHERE state = 'sending'",
                [],
            )
            .map_err(db)
    }

    fn print_job(&self, id: u64) -> Result<Option<PrintJob>, StoreError> {
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT * FROM print_job WHERE id = ?1")
            .map_err(db)?;
        let mut rows = stmt.query(params![sql_int(id)]).map_err(db)?;
        match rows.next().map_err(db)? {
            Some(r) => Ok(Some(job_row(r)?)),
            None => Ok(None),
        }
    }

    fn print_jobs(&self, limit: usize) -> Result<Vec<PrintJob>, StoreError> {
        rows(
            self.conn(),
            "SELECT * FROM print_job ORDER BY id DESC LIMIT ?1",
            params![i64::try_from(limit).unwrap_or(i64::MAX)],
            job_row,
        )
    }
}
