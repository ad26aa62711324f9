-- Cash drawer sessions, as their events and the cash payments and refunds naming them
-- leave them.
CREATE TABLE drawer (
    id           BLOB PRIMARY KEY,
    name         TEXT    NOT NULL,
    currency     TEXT    NOT NULL,
    float        INTEGER NOT NULL,
    cash_sales   INTEGER NOT NULL,
    cash_refunds INTEGER NOT NULL,
    paid_in      INTEGER NOT NULL,
    paid_out     INTEGER NOT NULL,
    opened_by    BLOB    NOT NULL,
    opened_at    INTEGER NOT NULL,
    counted      INTEGER,
    expected     INTEGER,
    closed_by    BLOB,
    closed_at    INTEGER
);
CREATE INDEX drawer_by_close ON drawer (closed_at, opened_at);

-- Business days closed by a Z-report: which of the node's entries each covered and the
-- summary its DayClosed entry recorded. The report itself is rebuilt from those entries.
CREATE TABLE business_day (
    node_id         BLOB    NOT NULL,
    day             INTEGER NOT NULL,
    from_seq        INTEGER NOT NULL,
    to_seq          INTEGER NOT NULL,
    close_seq       INTEGER NOT NULL,
    closed_by       BLOB    NOT NULL,
    closed_at       INTEGER NOT NULL,
    currency        TEXT    NOT NULL,
    orders          INTEGER NOT NULL,
    sales           INTEGER NOT NULL,
    tax             INTEGER NOT NULL,
    tips            INTEGER NOT NULL,
    refunded        INTEGER NOT NULL,
    cash_variance   INTEGER NOT NULL,
    open_orders     INTEGER NOT NULL,
    open_orders_due INTEGER NOT NULL,
    PRIMARY KEY (node_id, day)
);
