-- The ledgers of every node this database serves: append-only, per node. Rows are never
-- updated or deleted, except the chain head, a cache of the last committed state so a
-- restart needs no replay.
CREATE TABLE ledger_node (
    node_id    BYTEA PRIMARY KEY,
    public_key BYTEA NOT NULL
);

CREATE TABLE ledger_entry (
    node_id BYTEA  NOT NULL,
    seq     BIGINT NOT NULL,
    hash    BYTEA  NOT NULL,
    bytes   BYTEA  NOT NULL,
    PRIMARY KEY (node_id, seq)
);

CREATE TABLE ledger_checkpoint (
    node_id   BYTEA  NOT NULL,
    tree_size BIGINT NOT NULL,
    signed    BYTEA  NOT NULL,
    PRIMARY KEY (node_id, tree_size)
);

CREATE TABLE ledger_witness (
    node_id    BYTEA  NOT NULL,
    tree_size  BIGINT NOT NULL,
    witness_id BYTEA  NOT NULL,
    signature  BYTEA  NOT NULL,
    PRIMARY KEY (node_id, tree_size, witness_id)
);

CREATE TABLE ledger_head (
    node_id BYTEA PRIMARY KEY,
    size    BIGINT NOT NULL,
    state   BYTEA  NOT NULL
);
