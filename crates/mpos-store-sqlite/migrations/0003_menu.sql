-- Menu projections, written only with the ledger entries of the menu events they come
-- from. Entries are replaced whole on every change.
CREATE TABLE menu_settings (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    name       TEXT NOT NULL,
    currency   TEXT NOT NULL,
    price_mode TEXT NOT NULL
);

CREATE TABLE menu_tax_category (
    id    BLOB PRIMARY KEY,
    name  TEXT NOT NULL,
    rates TEXT NOT NULL -- parts per million, comma separated
);

CREATE TABLE menu_category (
    id      BLOB PRIMARY KEY,
    name    TEXT NOT NULL,
    station BLOB
);

CREATE TABLE menu_modifier_group (
    id          BLOB PRIMARY KEY,
    name        TEXT    NOT NULL,
    min_choices INTEGER NOT NULL,
    max_choices INTEGER NOT NULL
);

CREATE TABLE menu_modifier_option (
    group_id    BLOB    NOT NULL,
    position    INTEGER NOT NULL,
    id          BLOB    NOT NULL,
    name        TEXT    NOT NULL,
    price_delta INTEGER NOT NULL,
    PRIMARY KEY (group_id, position)
);

CREATE TABLE menu_item (
    id              BLOB PRIMARY KEY,
    name            TEXT    NOT NULL,
    description     TEXT    NOT NULL,
    category_id     BLOB    NOT NULL,
    sku             TEXT UNIQUE,
    barcode         TEXT UNIQUE,
    price           INTEGER NOT NULL,
    tax_category_id BLOB    NOT NULL,
    available       INTEGER NOT NULL
);
CREATE INDEX menu_item_by_category ON menu_item (category_id, name);

CREATE TABLE menu_item_price (
    item_id BLOB    NOT NULL,
    channel TEXT    NOT NULL,
    price   INTEGER NOT NULL,
    PRIMARY KEY (item_id, channel)
);

CREATE TABLE menu_item_variant (
    item_id     BLOB    NOT NULL,
    position    INTEGER NOT NULL,
    id          BLOB    NOT NULL,
    name        TEXT    NOT NULL,
    price_delta INTEGER NOT NULL,
    PRIMARY KEY (item_id, position)
);

CREATE TABLE menu_item_group (
    item_id  BLOB    NOT NULL,
    position INTEGER NOT NULL,
    group_id BLOB    NOT NULL,
    PRIMARY KEY (item_id, position)
);

-- Full-text search by name, description, SKU and barcode; rowid = menu_item's rowid.
CREATE VIRTUAL TABLE menu_item_search USING fts5(name, description, codes, tokenize = 'unicode61 remove_diacritics 2');
