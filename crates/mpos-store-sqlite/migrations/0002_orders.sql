-- Order projections: the current state of every order, as flat rows for the register,
-- the kitchen and SQL reports. Written only in the transaction that appends the ledger
-- entries they come from.
CREATE TABLE pos_order (
    id                 BLOB PRIMARY KEY,
    number             TEXT    NOT NULL,
    channel            TEXT    NOT NULL,
    kind               TEXT    NOT NULL,
    table_id           BLOB,
    guests             INTEGER,
    address            TEXT,
    source             TEXT    NOT NULL,
    currency           TEXT    NOT NULL,
    price_mode         TEXT    NOT NULL,
    status             TEXT    NOT NULL,
    service_charge_ppm INTEGER NOT NULL,
    fired_courses      TEXT    NOT NULL,
    opened_by          BLOB    NOT NULL,
    opened_at          INTEGER NOT NULL,
    closed_at          INTEGER,
    -- Figures from the domain's totals, for lists and reports (minor units).
    total              INTEGER NOT NULL,
    paid               INTEGER NOT NULL,
    tips               INTEGER NOT NULL
);
CREATE INDEX pos_order_by_status ON pos_order (status, opened_at);
CREATE INDEX pos_order_by_number ON pos_order (number);

CREATE TABLE pos_line (
    order_id     BLOB    NOT NULL,
    position     INTEGER NOT NULL,
    id           BLOB    NOT NULL,
    item_id      BLOB    NOT NULL,
    name         TEXT    NOT NULL,
    variant_id   BLOB,
    variant_name TEXT,
    quantity     INTEGER NOT NULL,
    unit_price   INTEGER NOT NULL,
    tax_rates    TEXT    NOT NULL, -- parts per million, comma separated
    category_id  BLOB    NOT NULL,
    seat         INTEGER,
    course       INTEGER NOT NULL,
    note         TEXT    NOT NULL,
    sent         INTEGER NOT NULL,
    voided       INTEGER NOT NULL,
    added_by     BLOB    NOT NULL,
    PRIMARY KEY (order_id, position)
);

CREATE TABLE pos_line_modifier (
    order_id      BLOB    NOT NULL,
    line_position INTEGER NOT NULL,
    position      INTEGER NOT NULL,
    id            BLOB    NOT NULL,
    name          TEXT    NOT NULL,
    price_delta   INTEGER NOT NULL,
    PRIMARY KEY (order_id, line_position, position)
);

CREATE TABLE pos_discount (
    order_id    BLOB    NOT NULL,
    position    INTEGER NOT NULL,
    id          BLOB    NOT NULL,
    line_id     BLOB,
    percent_ppm INTEGER,
    amount      INTEGER,
    reason      TEXT    NOT NULL,
    by_staff    BLOB    NOT NULL,
    PRIMARY KEY (order_id, position)
);

CREATE TABLE pos_payment (
    order_id      BLOB    NOT NULL,
    position      INTEGER NOT NULL,
    id            BLOB    NOT NULL,
    tender        TEXT    NOT NULL,
    tender_detail TEXT    NOT NULL,
    amount        INTEGER NOT NULL,
    tip           INTEGER NOT NULL,
    cash_received INTEGER,
    refunded      INTEGER NOT NULL,
    by_staff      BLOB    NOT NULL,
    PRIMARY KEY (order_id, position)
);

-- Client requests already applied: a retry gets the entries its first attempt wrote.
CREATE TABLE request (
    id        BLOB PRIMARY KEY,
    order_id  BLOB, -- none for menu requests
    node_id   BLOB    NOT NULL,
    first_seq INTEGER NOT NULL,
    last_seq  INTEGER NOT NULL
);
