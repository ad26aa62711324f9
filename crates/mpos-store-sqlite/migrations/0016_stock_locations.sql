-- Locations stock is kept at, where sales take stock from, what each order took (so a
-- void or refund gives back exactly that), and the value each movement added.
CREATE TABLE stock_location (
    id     BLOB PRIMARY KEY,
    name   TEXT    NOT NULL,
    active INTEGER NOT NULL
);

-- At most one row.
CREATE TABLE stock_sales (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    location  BLOB NOT NULL,
    depletion TEXT NOT NULL
);

CREATE TABLE stock_sale (
    order_id  BLOB    NOT NULL,
    location  BLOB    NOT NULL,
    item      BLOB    NOT NULL,
    dimension TEXT    NOT NULL,
    milli     INTEGER NOT NULL,
    PRIMARY KEY (order_id, location, item)
);

ALTER TABLE stock_delta ADD COLUMN value INTEGER NOT NULL DEFAULT 0;
CREATE INDEX stock_delta_by_time ON stock_delta (at);
