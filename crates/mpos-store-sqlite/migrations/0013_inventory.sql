-- Inventory projections, written only with the ledger entries of the inventory events
-- they come from. Quantities are thousandths of their dimension's base unit; values are
-- minor units of the restaurant's currency.
CREATE TABLE stock_item (
    id     BLOB PRIMARY KEY,
    name   TEXT    NOT NULL,
    unit   TEXT    NOT NULL,
    active INTEGER NOT NULL
);

CREATE TABLE stock_supplier (
    id      BLOB PRIMARY KEY,
    name    TEXT NOT NULL,
    contact TEXT NOT NULL
);

CREATE TABLE stock_par (
    location  BLOB    NOT NULL,
    item      BLOB    NOT NULL,
    dimension TEXT    NOT NULL,
    milli     INTEGER NOT NULL,
    PRIMARY KEY (location, item)
);

-- target: 'item' (target_id = item, variant_id empty), 'variant' or 'modifier'.
CREATE TABLE stock_recipe (
    target     TEXT    NOT NULL,
    target_id  BLOB    NOT NULL,
    variant_id BLOB    NOT NULL,
    position   INTEGER NOT NULL,
    stock_item BLOB    NOT NULL,
    dimension  TEXT    NOT NULL,
    milli      INTEGER NOT NULL,
    PRIMARY KEY (target, target_id, variant_id, position)
);

-- A location's level of an item (the sum of its movements' deltas) and its value.
CREATE TABLE stock_level (
    location BLOB    NOT NULL,
    item     BLOB    NOT NULL,
    milli    INTEGER NOT NULL,
    value    INTEGER NOT NULL,
    PRIMARY KEY (location, item)
);

-- Every movement's delta per location and item: the level's history.
CREATE TABLE stock_delta (
    id       INTEGER PRIMARY KEY,
    location BLOB    NOT NULL,
    item     BLOB    NOT NULL,
    kind     TEXT    NOT NULL,
    milli    INTEGER NOT NULL,
    at       INTEGER NOT NULL
);
CREATE INDEX stock_delta_by_item ON stock_delta (location, item, at);

CREATE TABLE stock_transfer (
    id            BLOB PRIMARY KEY,
    from_location BLOB    NOT NULL,
    to_location   BLOB    NOT NULL,
    received      INTEGER NOT NULL
);
CREATE INDEX stock_transfer_in_transit ON stock_transfer (to_location) WHERE received = 0;

CREATE TABLE stock_transfer_line (
    transfer  BLOB    NOT NULL,
    position  INTEGER NOT NULL,
    item      BLOB    NOT NULL,
    dimension TEXT    NOT NULL,
    milli     INTEGER NOT NULL,
    value     INTEGER NOT NULL,
    currency  TEXT    NOT NULL,
    PRIMARY KEY (transfer, position)
);

-- What arrived, as the receiving location said it.
CREATE TABLE stock_transfer_received (
    transfer  BLOB    NOT NULL,
    position  INTEGER NOT NULL,
    item      BLOB    NOT NULL,
    dimension TEXT    NOT NULL,
    milli     INTEGER NOT NULL,
    PRIMARY KEY (transfer, position)
);

CREATE TABLE purchase_order (
    id       BLOB PRIMARY KEY,
    supplier BLOB    NOT NULL,
    location BLOB    NOT NULL,
    sent     INTEGER NOT NULL
);

CREATE TABLE purchase_line (
    po             BLOB    NOT NULL,
    position       INTEGER NOT NULL,
    item           BLOB    NOT NULL,
    dimension      TEXT    NOT NULL,
    milli          INTEGER NOT NULL,
    cost           INTEGER NOT NULL,
    currency       TEXT    NOT NULL,
    received_milli INTEGER NOT NULL,
    PRIMARY KEY (po, position)
);
