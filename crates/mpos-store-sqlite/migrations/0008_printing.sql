-- Printers and the durable print queue: node-local device settings and work, like the PIN
-- table never in the ledger. A job moves queued -> sending -> printed; a job that failed
-- after bytes may have reached the printer becomes 'failed' and is only printed again
-- by an explicit reprint (a kitchen cooks what it sees, twice if it sees it twice).
CREATE TABLE printer (
    name     TEXT PRIMARY KEY,
    -- 'tcp:HOST:PORT' (raw ESC/POS, usually port 9100) or 'file:PATH' (appended).
    address  TEXT    NOT NULL,
    -- Kitchen stations whose tickets it prints (16-byte ids, concatenated).
    stations BLOB    NOT NULL,
    receipts INTEGER NOT NULL,
    columns  INTEGER NOT NULL
);

CREATE TABLE print_job (
    id          INTEGER PRIMARY KEY,
    printer     TEXT    NOT NULL,
    kind        TEXT    NOT NULL, -- 'kitchen' | 'receipt'
    order_id    BLOB,
    title       TEXT    NOT NULL,
    bytes       BLOB    NOT NULL,
    state       TEXT    NOT NULL, -- 'queued' | 'sending' | 'printed' | 'failed'
    attempts    INTEGER NOT NULL,
    last_error  TEXT,
    created_at  INTEGER NOT NULL,
    next_try_at INTEGER NOT NULL,
    printed_at  INTEGER,
    reprint_of  INTEGER
);
CREATE INDEX print_job_due ON print_job (state, printer, id);

-- How far the spooler has read the node's ledger for kitchen tickets: advanced in the
-- transaction that queues the tickets, so each is queued exactly once.
CREATE TABLE print_cursor (
    node_id BLOB PRIMARY KEY,
    seq     INTEGER NOT NULL
);
