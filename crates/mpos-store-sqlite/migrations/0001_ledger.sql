-- The ledger: append-only, per node. Rows are never updated or deleted (except the chain
-- head, which is a cache of the last committed state so a restart needs no replay).
CREATE TABLE ledger_node (
    node_id    BLOB PRIMARY KEY,
    public_key BLOB NOT NULL
);

CREATE TABLE ledger_entry (
    node_id BLOB    NOT NULL,
    seq     INTEGER NOT NULL,
    hash    BLOB    NOT NULL,
    bytes   BLOB    NOT NULL,
    PRIMARY KEY (node_id, seq)
);

CREATE TABLE ledger_checkpoint (
    node_id   BLOB    NOT NULL,
    tree_size INTEGER NOT NULL,
    signed    BLOB    NOT NULL,
    PRIMARY KEY (node_id, tree_size)
);

CREATE TABLE ledger_witness (
    node_id    BLOB    NOT NULL,
    tree_size  INTEGER NOT NULL,
    witness_id BLOB    NOT NULL,
    signature  BLOB    NOT NULL,
    PRIMARY KEY (node_id, tree_size, witness_id)
);

CREATE TABLE ledger_head (
    node_id BLOB PRIMARY KEY,
    size    INTEGER NOT NULL,
    state   BLOB    NOT NULL
);
