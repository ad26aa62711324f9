-- Grows with every menu, staff or floor change committed (PosStore::catalog_generation).
-- A node alone on its database needs it only to answer like every other store.
CREATE TABLE catalog_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
);
INSERT INTO catalog_generation (id, n) VALUES (1, 0);
