-- The floor's tables, written only with the ledger entries of the floor events they come
-- from. Tables are taken out of service (active = 0), never deleted: old orders name them.
CREATE TABLE floor_table (
    id     BLOB PRIMARY KEY,
    name   TEXT    NOT NULL,
    seats  INTEGER NOT NULL,
    area   TEXT    NOT NULL,
    active INTEGER NOT NULL
);
CREATE INDEX floor_table_by_area ON floor_table (area, name);
