//! Printers and the durable print queue (`PrintStore`). They belong to the node that
//! drives the printers: every row carries the store's node id, so nodes sharing the
//! database keep apart queues.

use mpos_domain::ids::OrderId;
use mpos_ledger::NodeId;
use mpos_store::columns::{
    id_bytes, job_ids_text, job_state_from, print_request_jobs, stations_bytes, stations_from,
};
use mpos_store::{NewPrintJob, PrintJob, PrintStore, Printer, StoreError};
use postgres::{GenericClient, Row};

use crate::sql::{Sql, big, get, opt_id, opt_u64_at, u32_at, u64_at};
use crate::{PgStore, sql_int};

fn job_row(r: &Row) -> Result<PrintJob, StoreError> {
    Ok(PrintJob {
        id: u64_at(r, "id")?,
        job: NewPrintJob {
            printer: get(r, "printer")?,
            kind: get(r, "kind")?,
            order: opt_id(r, "order_id")?.map(OrderId),
            title: get(r, "title")?,
            bytes: get(r, "bytes")?,
            reprint_of: opt_u64_at(r, "reprint_of")?,
        },
        state: job_state_from(get(r, "state")?)?,
        attempts: u32_at(r, "attempts")?,
        last_error: get(r, "last_error")?,
        created_at: u64_at(r, "created_at")?,
        next_try_at: u64_at(r, "next_try_at")?,
        printed_at: opt_u64_at(r, "printed_at")?,
    })
}

fn insert_job<C: GenericClient>(
    sql: &mut Sql<'_, C>,
    node: NodeId,
    job: &NewPrintJob,
    now: u64,
) -> Result<u64, StoreError> {
    let r = sql.query_one(
        "INSERT INTO print_job (node_id, printer, kind, order_id, title, bytes, state,
            attempts, created_at, next_try_at, reprint_of)
         VALUES ($1, $2, $3, $4, $5, $6, 'queued', 0, $7, $7, $8) RETURNING id",
        &[
            &&node.0[..],
            &job.printer,
            &job.kind,
            &job.order.map(|o| id_bytes(o.0).to_vec()),
            &job.title,
            &job.bytes,
            &sql_int(now),
            &job.reprint_of.map(sql_int),
        ],
    )?;
    u64_at(&r, "id")
}

impl PgStore {
    /// Runs one statement that must change exactly one of this node's print jobs.
    fn set_job(
        &mut self,
        sql: &str,
        id: u64,
        more: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<(), StoreError> {
        let node = self.node;
        let key = sql_int(id);
        let mut params: Vec<&(dyn postgres::types::ToSql + Sync)> = vec![&key];
        let node_bytes = &node.0[..];
        params.push(&node_bytes);
        params.extend_from_slice(more);
        let n = self.with(|s| s.execute(sql, &params))?;
        if n == 1 {
            Ok(())
        } else {
            Err(StoreError::Conflict("no such print job".into()))
        }
    }
}

impl PrintStore for PgStore {
    fn put_printer(&mut self, p: &Printer) -> Result<(), StoreError> {
        let node = self.node;
        self.with(|s| {
            s.execute(
                "INSERT INTO printer (node_id, name, address, stations, receipts, columns)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (node_id, name) DO UPDATE SET address = excluded.address,
                    stations = excluded.stations, receipts = excluded.receipts,
                    columns = excluded.columns",
                &[
                    &&node.0[..],
                    &p.name,
                    &p.address,
                    &stations_bytes(&p.stations),
                    &p.receipts,
                    &i64::from(p.columns),
                ],
            )
        })?;
        Ok(())
    }

    fn remove_printer(&mut self, name: &str) -> Result<bool, StoreError> {
        let node = self.node;
        let n = self.with(|s| {
            s.execute(
                "DELETE FROM printer WHERE node_id = $1 AND name = $2",
                &[&&node.0[..], &name],
            )
        })?;
        Ok(n > 0)
    }

    fn printers(&self) -> Result<Vec<Printer>, StoreError> {
        let node = self.node;
        self.with(|s| {
            s.query(
                "SELECT name, address, stations, receipts, columns FROM printer
                 WHERE node_id = $1 ORDER BY name",
                &[&&node.0[..]],
            )?
            .iter()
            .map(|r| {
                Ok(Printer {
                    name: get(r, "name")?,
                    address: get(r, "address")?,
                    stations: stations_from(get(r, "stations")?)?,
                    receipts: get(r, "receipts")?,
                    columns: u32_at(r, "columns")?,
                })
            })
            .collect()
        })
    }

    fn print_cursor(&self, node: NodeId) -> Result<Option<u64>, StoreError> {
        self.with(|s| {
            s.query_opt(
                "SELECT seq FROM print_cursor WHERE node_id = $1",
                &[&&node.0[..]],
            )?
            .map(|r| u64_at(&r, "seq"))
            .transpose()
        })
    }

    fn queue_from_ledger(
        &mut self,
        node: NodeId,
        seq: u64,
        jobs: &[NewPrintJob],
        now: u64,
    ) -> Result<(), StoreError> {
        let owner = self.node;
        self.transaction(|s| {
            for job in jobs {
                insert_job(s, owner, job, now)?;
            }
            s.execute(
                "INSERT INTO print_cursor (node_id, seq) VALUES ($1, $2)
                 ON CONFLICT (node_id) DO UPDATE SET seq = excluded.seq",
                &[&&node.0[..], &sql_int(seq)],
            )?;
            Ok(())
        })
    }

    fn queue_job(&mut self, job: &NewPrintJob, now: u64) -> Result<u64, StoreError> {
        let node = self.node;
        self.with(|s| insert_job(s, node, job, now))
    }

    fn print_request(&self, request: u128, action: &str) -> Result<Option<Vec<u64>>, StoreError> {
        let found = self.with(|s| {
            s.query_opt(
                "SELECT action, jobs FROM print_request WHERE id = $1",
                &[&&id_bytes(request)[..]],
            )
        })?;
        let Some(r) = found else {
            return Ok(None);
        };
        print_request_jobs(request, action, get(&r, "action")?, get(&r, "jobs")?).map(Some)
    }

    fn queue_for_request(
        &mut self,
        request: u128,
        action: &str,
        jobs: &[NewPrintJob],
        now: u64,
    ) -> Result<Vec<u64>, StoreError> {
        let node = self.node;
        self.transaction(|s| {
            let ids = jobs
                .iter()
                .map(|job| insert_job(s, node, job, now))
                .collect::<Result<Vec<_>, _>>()?;
            let list = job_ids_text(&ids);
            s.execute(
                "INSERT INTO print_request (id, node_id, action, jobs) VALUES ($1, $2, $3, $4)",
                &[&&id_bytes(request)[..], &&node.0[..], &action, &list],
            )?;
            Ok(ids)
        })
    }

    fn next_job(&self, printer: &str, now: u64) -> Result<Option<PrintJob>, StoreError> {
        let node = self.node;
        let found = self.with(|s| {
            s.query_opt(
                "SELECT * FROM print_job WHERE node_id = $1 AND printer = $2 AND state = 'queued'
                 ORDER BY id LIMIT 1",
                &[&&node.0[..], &printer],
            )
        })?;
        match found {
            Some(r) => {
                let job = job_row(&r)?;
                Ok((job.next_try_at <= now).then_some(job))
            }
            None => Ok(None),
        }
    }

    fn mark_sending(&mut self, id: u64) -> Result<(), StoreError> {
        self.set_job(
            "UPDATE print_job SET state = 'sending', attempts = attempts + 1
             WHERE id = $1 AND node_id = $2 AND state = 'queued'",
            id,
            &[],
        )
    }

    fn mark_printed(&mut self, id: u64, now: u64) -> Result<(), StoreError> {
        self.set_job(
            "UPDATE print_job SET state = 'printed', printed_at = $3, last_error = NULL
             WHERE id = $1 AND node_id = $2",
            id,
            &[&sql_int(now)],
        )
    }

    fn mark_retry(&mut self, id: u64, error: &str, next_try_at: u64) -> Result<(), StoreError> {
        self.set_job(
            "UPDATE print_job SET state = 'queued', last_error = $3, next_try_at = $4
             WHERE id = $1 AND node_id = $2",
            id,
            &[&error, &sql_int(next_try_at)],
        )
    }

    fn mark_failed(&mut self, id: u64, error: &str) -> Result<(), StoreError> {
        self.set_job(
            "UPDATE print_job SET state = 'failed', last_error = $3 WHERE id = $1 AND node_id = $2",
            id,
            &[&error],
        )
    }

    fn fail_interrupted(&mut self) -> Result<usize, StoreError> {
        let node = self.node;
        let n = self.with(|s| {
            s.execute(
                "UPDATE print_job SET state = 'failed',
                    last_error = 'the node stopped while sending: check the printer, reprint if it did not print'
                 WHERE node_id = $1 AND state = 'sending'",
                &[&&node.0[..]],
            )
        })?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    fn print_job(&self, id: u64) -> Result<Option<PrintJob>, StoreError> {
        let node = self.node;
        self.with(|s| {
            s.query_opt(
                "SELECT * FROM print_job WHERE id = $1 AND node_id = $2",
                &[&sql_int(id), &&node.0[..]],
            )?
            .as_ref()
            .map(job_row)
            .transpose()
        })
    }

    fn print_jobs(&self, limit: usize) -> Result<Vec<PrintJob>, StoreError> {
        let node = self.node;
        self.with(|s| {
            s.query(
                "SELECT * FROM print_job WHERE node_id = $1 ORDER BY id DESC LIMIT $2",
                &[&&node.0[..], &big(limit)],
            )?
            .iter()
            .map(job_row)
            .collect()
        })
    }
}
