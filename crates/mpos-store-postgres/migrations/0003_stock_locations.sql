-- Locations stock is kept at, where sales take stock from, what each order took (so a
-- void or refund gives back exactly that), and the value each movement added.
CREATE TABLE stock_location (
    id     BYTEA PRIMARY KEY,
    name   TEXT COLLATE "C" NOT NULL,
    active BOOLEAN NOT NULL
);

-- At most one row.
CREATE TABLE stock_sales (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    location  BYTEA NOT NULL,
    depletion TEXT  NOT NULL
);

CREATE TABLE stock_sale (
    order_id  BYTEA  NOT NULL,
    location  BYTEA  NOT NULL,
    item      BYTEA  NOT NULL,
    dimension TEXT   NOT NULL,
    milli     BIGINT NOT NULL,
    PRIMARY KEY (order_id, location, item)
);

ALTER TABLE stock_delta ADD COLUMN value BIGINT NOT NULL DEFAULT 0;
CREATE INDEX stock_delta_by_time ON stock_delta (at);
