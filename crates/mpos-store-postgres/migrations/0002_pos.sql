-- The point of sale's projections, the same rows as the SQLite store's (see its
-- migrations 0002 to 0014), written only in the transaction that appends the ledger
-- entries they come from. Integers are BIGINT, flags BOOLEAN, ids 16 big-endian bytes;
-- names sort bytewise (COLLATE "C"), as they do in SQLite, whatever the server's locale.

-- Orders as flat rows for the register, the kitchen and SQL reports. `version` counts the
-- events that built the order: a node writes an order only where it is still at the
-- version its decision read, so nodes sharing this database never overwrite each other.
CREATE TABLE pos_order (
    id                 BYTEA PRIMARY KEY,
    number             TEXT COLLATE "C" NOT NULL,
    channel            TEXT    NOT NULL,
    kind               TEXT    NOT NULL,
    table_id           BYTEA,
    guests             BIGINT,
    address            TEXT,
    source             TEXT    NOT NULL,
    currency           TEXT    NOT NULL,
    price_mode         TEXT    NOT NULL,
    status             TEXT    NOT NULL,
    service_charge_ppm BIGINT  NOT NULL,
    fired_courses      TEXT    NOT NULL,
    opened_by          BYTEA   NOT NULL,
    opened_at          BIGINT  NOT NULL,
    closed_at          BIGINT,
    total              BIGINT  NOT NULL,
    paid               BIGINT  NOT NULL,
    tips               BIGINT  NOT NULL,
    receipt_code       TEXT,
    version            BIGINT  NOT NULL
);
CREATE INDEX pos_order_open ON pos_order (opened_at, id) WHERE status = 'open';
CREATE INDEX pos_order_by_opened ON pos_order (opened_at, id);
CREATE INDEX pos_order_by_number ON pos_order (lower(number) text_pattern_ops);
CREATE INDEX pos_order_closed ON pos_order (closed_at, id) WHERE status = 'closed';

CREATE TABLE pos_line (
    order_id     BYTEA   NOT NULL REFERENCES pos_order (id),
    position     BIGINT  NOT NULL,
    id           BYTEA   NOT NULL,
    item_id      BYTEA   NOT NULL,
    name         TEXT COLLATE "C" NOT NULL,
    variant_id   BYTEA,
    variant_name TEXT,
    quantity     BIGINT  NOT NULL,
    unit_price   BIGINT  NOT NULL,
    tax_rates    TEXT    NOT NULL, -- parts per million, comma separated
    category_id  BYTEA   NOT NULL,
    seat         BIGINT,
    course       BIGINT  NOT NULL,
    note         TEXT    NOT NULL,
    sent         BOOLEAN NOT NULL,
    voided       BOOLEAN NOT NULL,
    added_by     BYTEA   NOT NULL,
    station      BYTEA,
    round        BIGINT  NOT NULL,
    sent_at      BIGINT,
    ready_at     BIGINT,
    PRIMARY KEY (order_id, position)
);
-- What the kitchen still has to make, and what it bumped lately.
CREATE INDEX pos_line_in_kitchen ON pos_line (ready_at, order_id)
    WHERE sent AND station IS NOT NULL;

CREATE TABLE pos_line_modifier (
    order_id      BYTEA  NOT NULL,
    line_position BIGINT NOT NULL,
    position      BIGINT NOT NULL,
    id            BYTEA  NOT NULL,
    name          TEXT COLLATE "C" NOT NULL,
    price_delta   BIGINT NOT NULL,
    PRIMARY KEY (order_id, line_position, position)
);

CREATE TABLE pos_discount (
    order_id    BYTEA  NOT NULL,
    position    BIGINT NOT NULL,
    id          BYTEA  NOT NULL,
    line_id     BYTEA,
    percent_ppm BIGINT,
    amount      BIGINT,
    reason      TEXT   NOT NULL,
    by_staff    BYTEA  NOT NULL,
    PRIMARY KEY (order_id, position)
);

CREATE TABLE pos_payment (
    order_id      BYTEA  NOT NULL,
    position      BIGINT NOT NULL,
    id            BYTEA  NOT NULL,
    tender        TEXT   NOT NULL,
    tender_detail TEXT   NOT NULL,
    amount        BIGINT NOT NULL,
    tip           BIGINT NOT NULL,
    cash_received BIGINT,
    refunded      BIGINT NOT NULL,
    by_staff      BYTEA  NOT NULL,
    PRIMARY KEY (order_id, position)
);

-- Client requests already applied: a retry gets the entries its first attempt wrote, on
-- whichever node sharing this database it reaches.
CREATE TABLE request (
    id        BYTEA PRIMARY KEY,
    order_id  BYTEA,
    node_id   BYTEA  NOT NULL,
    first_seq BIGINT NOT NULL,
    last_seq  BIGINT NOT NULL,
    action    TEXT   NOT NULL
);

CREATE TABLE menu_settings (
    id         BIGINT PRIMARY KEY CHECK (id = 1),
    name       TEXT COLLATE "C" NOT NULL,
    currency   TEXT NOT NULL,
    price_mode TEXT NOT NULL
);

CREATE TABLE menu_tax_category (
    id    BYTEA PRIMARY KEY,
    name  TEXT COLLATE "C" NOT NULL,
    rates TEXT NOT NULL
);

CREATE TABLE menu_category (
    id      BYTEA PRIMARY KEY,
    name    TEXT COLLATE "C" NOT NULL,
    station BYTEA
);

CREATE TABLE menu_modifier_group (
    id          BYTEA PRIMARY KEY,
    name        TEXT COLLATE "C" NOT NULL,
    min_choices BIGINT NOT NULL,
    max_choices BIGINT NOT NULL
);

CREATE TABLE menu_modifier_option (
    group_id    BYTEA  NOT NULL,
    position    BIGINT NOT NULL,
    id          BYTEA  NOT NULL,
    name        TEXT COLLATE "C" NOT NULL,
    price_delta BIGINT NOT NULL,
    PRIMARY KEY (group_id, position)
);

-- Searched by word prefixes of name, description, SKU and barcode through a GIN index.
CREATE TABLE menu_item (
    id              BYTEA PRIMARY KEY,
    name            TEXT COLLATE "C" NOT NULL,
    description     TEXT    NOT NULL,
    category_id     BYTEA   NOT NULL,
    sku             TEXT UNIQUE,
    barcode         TEXT UNIQUE,
    price           BIGINT  NOT NULL,
    tax_category_id BYTEA   NOT NULL,
    available       BOOLEAN NOT NULL,
    words           TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple',
        name || ' ' || description || ' ' || coalesce(sku, '') || ' ' || coalesce(barcode, '')))
        STORED
);
CREATE INDEX menu_item_by_category ON menu_item (category_id, name, id);
CREATE INDEX menu_item_search ON menu_item USING GIN (words);

CREATE TABLE menu_item_price (
    item_id BYTEA  NOT NULL,
    channel TEXT   NOT NULL,
    price   BIGINT NOT NULL,
    PRIMARY KEY (item_id, channel)
);

CREATE TABLE menu_item_variant (
    item_id     BYTEA  NOT NULL,
    position    BIGINT NOT NULL,
    id          BYTEA  NOT NULL,
    name        TEXT COLLATE "C" NOT NULL,
    price_delta BIGINT NOT NULL,
    PRIMARY KEY (item_id, position)
);

CREATE TABLE menu_item_group (
    item_id  BYTEA  NOT NULL,
    position BIGINT NOT NULL,
    group_id BYTEA  NOT NULL,
    PRIMARY KEY (item_id, position)
);

CREATE TABLE staff (
    id     BYTEA PRIMARY KEY,
    name   TEXT COLLATE "C" NOT NULL,
    role   TEXT    NOT NULL,
    active BOOLEAN NOT NULL
);

-- PIN hashes (argon2id, PHC strings): never in the ledger, never synced.
CREATE TABLE staff_pin (
    staff_id BYTEA PRIMARY KEY,
    hash     TEXT NOT NULL
);

CREATE TABLE floor_table (
    id     BYTEA PRIMARY KEY,
    name   TEXT COLLATE "C" NOT NULL,
    seats  BIGINT  NOT NULL,
    area   TEXT COLLATE "C" NOT NULL,
    active BOOLEAN NOT NULL,
    token  TEXT    NOT NULL
);

CREATE TABLE drawer (
    id           BYTEA PRIMARY KEY,
    name         TEXT COLLATE "C" NOT NULL,
    currency     TEXT   NOT NULL,
    float        BIGINT NOT NULL,
    cash_sales   BIGINT NOT NULL,
    cash_refunds BIGINT NOT NULL,
    paid_in      BIGINT NOT NULL,
    paid_out     BIGINT NOT NULL,
    opened_by    BYTEA  NOT NULL,
    opened_at    BIGINT NOT NULL,
    counted      BIGINT,
    expected     BIGINT,
    closed_by    BYTEA,
    closed_at    BIGINT
);
CREATE INDEX drawer_open ON drawer (opened_at, id) WHERE closed_at IS NULL;
CREATE INDEX drawer_by_opened ON drawer (opened_at DESC, id);

CREATE TABLE business_day (
    node_id         BYTEA  NOT NULL,
    day             BIGINT NOT NULL,
    from_seq        BIGINT NOT NULL,
    to_seq          BIGINT NOT NULL,
    close_seq       BIGINT NOT NULL,
    closed_by       BYTEA  NOT NULL,
    closed_at       BIGINT NOT NULL,
    currency        TEXT   NOT NULL,
    orders          BIGINT NOT NULL,
    sales           BIGINT NOT NULL,
    tax             BIGINT NOT NULL,
    tips            BIGINT NOT NULL,
    refunded        BIGINT NOT NULL,
    cash_variance   BIGINT NOT NULL,
    open_orders     BIGINT NOT NULL,
    open_orders_due BIGINT NOT NULL,
    PRIMARY KEY (node_id, day)
);

-- Printers and print queues belong to the node that drives them: every row names it, so
-- nodes sharing this database keep their own.
CREATE TABLE printer (
    node_id  BYTEA  NOT NULL,
    name     TEXT COLLATE "C" NOT NULL,
    address  TEXT   NOT NULL,
    stations BYTEA  NOT NULL,
    receipts BOOLEAN NOT NULL,
    columns  BIGINT NOT NULL,
    PRIMARY KEY (node_id, name)
);

CREATE TABLE print_job (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    node_id     BYTEA  NOT NULL,
    printer     TEXT   NOT NULL,
    kind        TEXT   NOT NULL,
    order_id    BYTEA,
    title       TEXT   NOT NULL,
    bytes       BYTEA  NOT NULL,
    state       TEXT   NOT NULL,
    attempts    BIGINT NOT NULL,
    last_error  TEXT,
    created_at  BIGINT NOT NULL,
    next_try_at BIGINT NOT NULL,
    printed_at  BIGINT,
    reprint_of  BIGINT
);
CREATE INDEX print_job_due ON print_job (node_id, printer, id) WHERE state = 'queued';
CREATE INDEX print_job_by_node ON print_job (node_id, id);

CREATE TABLE print_cursor (
    node_id BYTEA PRIMARY KEY,
    seq     BIGINT NOT NULL
);

CREATE TABLE print_request (
    id      BYTEA PRIMARY KEY,
    node_id BYTEA NOT NULL,
    action  TEXT  NOT NULL,
    jobs    TEXT  NOT NULL
);

-- Inventory. Quantities are thousandths of their dimension's base unit; values are minor
-- units. A level changes under a row lock, so movements from several nodes add up.
CREATE TABLE stock_item (
    id     BYTEA PRIMARY KEY,
    name   TEXT COLLATE "C" NOT NULL,
    unit   TEXT    NOT NULL,
    active BOOLEAN NOT NULL
);

CREATE TABLE stock_supplier (
    id      BYTEA PRIMARY KEY,
    name    TEXT COLLATE "C" NOT NULL,
    contact TEXT NOT NULL
);

CREATE TABLE stock_par (
    location  BYTEA  NOT NULL,
    item      BYTEA  NOT NULL,
    dimension TEXT   NOT NULL,
    milli     BIGINT NOT NULL,
    PRIMARY KEY (location, item)
);

CREATE TABLE stock_recipe (
    target     TEXT   NOT NULL,
    target_id  BYTEA  NOT NULL,
    variant_id BYTEA  NOT NULL,
    position   BIGINT NOT NULL,
    stock_item BYTEA  NOT NULL,
    dimension  TEXT   NOT NULL,
    milli      BIGINT NOT NULL,
    PRIMARY KEY (target, target_id, variant_id, position)
);

CREATE TABLE stock_level (
    location BYTEA  NOT NULL,
    item     BYTEA  NOT NULL,
    milli    BIGINT NOT NULL,
    value    BIGINT NOT NULL,
    PRIMARY KEY (location, item)
);

CREATE TABLE stock_delta (
    id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    location BYTEA  NOT NULL,
    item     BYTEA  NOT NULL,
    kind     TEXT   NOT NULL,
    milli    BIGINT NOT NULL,
    at       BIGINT NOT NULL
);
CREATE INDEX stock_delta_by_item ON stock_delta (location, item, at);

CREATE TABLE stock_transfer (
    id            BYTEA PRIMARY KEY,
    from_location BYTEA   NOT NULL,
    to_location   BYTEA   NOT NULL,
    received      BOOLEAN NOT NULL
);
CREATE INDEX stock_transfer_in_transit ON stock_transfer (to_location) WHERE NOT received;

CREATE TABLE stock_transfer_line (
    transfer  BYTEA  NOT NULL,
    position  BIGINT NOT NULL,
    item      BYTEA  NOT NULL,
    dimension TEXT   NOT NULL,
    milli     BIGINT NOT NULL,
    value     BIGINT NOT NULL,
    currency  TEXT   NOT NULL,
    PRIMARY KEY (transfer, position)
);

CREATE TABLE stock_transfer_received (
    transfer  BYTEA  NOT NULL,
    position  BIGINT NOT NULL,
    item      BYTEA  NOT NULL,
    dimension TEXT   NOT NULL,
    milli     BIGINT NOT NULL,
    PRIMARY KEY (transfer, position)
);

CREATE TABLE purchase_order (
    id       BYTEA PRIMARY KEY,
    supplier BYTEA   NOT NULL,
    location BYTEA   NOT NULL,
    sent     BOOLEAN NOT NULL
);

CREATE TABLE purchase_line (
    po             BYTEA  NOT NULL,
    position       BIGINT NOT NULL,
    item           BYTEA  NOT NULL,
    dimension      TEXT   NOT NULL,
    milli          BIGINT NOT NULL,
    cost           BIGINT NOT NULL,
    currency       TEXT   NOT NULL,
    received_milli BIGINT NOT NULL,
    PRIMARY KEY (po, position)
);

-- Grows with every menu, staff or floor change any node commits: a node that keeps those
-- rows in memory reads this once per batch to know when to read them again.
CREATE TABLE catalog_generation (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    n  BIGINT NOT NULL
);
INSERT INTO catalog_generation (id, n) VALUES (1, 0);
