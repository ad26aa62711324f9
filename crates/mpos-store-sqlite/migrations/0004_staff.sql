-- Staff as the ledger records them.
CREATE TABLE staff (
    id     BLOB PRIMARY KEY,
    name   TEXT    NOT NULL,
    role   TEXT    NOT NULL,
    active INTEGER NOT NULL
);

-- PIN hashes (argon2id, PHC strings). A node-local secret like node.key: never in the
-- ledger, never exported, never synced. Written in the same transaction as the ledger
-- entry that records the change, so the two cannot disagree.
CREATE TABLE staff_pin (
    staff_id BLOB PRIMARY KEY,
    hash     TEXT NOT NULL
);
