-- When each PIN hash was set (the time of the ledger entry that recorded the change):
-- hashes travel between the organization's nodes, and the later change stands.
ALTER TABLE staff_pin ADD COLUMN changed_at INTEGER NOT NULL DEFAULT 0;
-- Every PIN change the ledgers hold (its time and node): a peer's hash is taken only for
-- a change that is in a ledger here, by a node not revoked.
CREATE TABLE pin_change (
    staff_id BLOB NOT NULL,
    hlc      INTEGER NOT NULL,
    node_id  BLOB NOT NULL,
    PRIMARY KEY (staff_id, hlc, node_id)
) WITHOUT ROWID;

-- The organization's nodes: each node's certificate (the root key vouching for its key,
-- under a name), once however many ledgers carry it, and the revocations the root key
-- signed, also of nodes whose certificate this store never saw. Both are projections of
-- trust events in the ledgers; the signed bytes are kept so they can be shown again.
CREATE TABLE organization_node (
    node_id      BLOB PRIMARY KEY,
    name         TEXT NOT NULL,
    certified_at INTEGER NOT NULL,
    certificate  BLOB NOT NULL
);
CREATE TABLE node_revocation (
    node_id    BLOB PRIMARY KEY,
    standing   INTEGER NOT NULL,
    revoked_at INTEGER NOT NULL,
    reason     TEXT NOT NULL,
    revocation BLOB NOT NULL
);

-- When each shared entity (a menu row, a staff member, a table, a stock item...) was last
-- put: the time (HLC) and node of the change that stands. Changes made on several nodes
-- arrive in any order; the latest stands everywhere.
CREATE TABLE entity_clock (
    kind    TEXT NOT NULL,
    id      BLOB NOT NULL,
    hlc     INTEGER NOT NULL,
    node_id BLOB NOT NULL,
    PRIMARY KEY (kind, id)
) WITHOUT ROWID;

-- Runs of other nodes' entries among which are the events of an order (this node's own
-- are found through the request records), one per order and replicated commit: changes
-- to one order from several terminals are folded again in time order when they arrive
-- out of it.
CREATE TABLE order_event (
    order_id  BLOB NOT NULL,
    node_id   BLOB NOT NULL,
    first_seq INTEGER NOT NULL,
    last_seq  INTEGER NOT NULL,
    PRIMARY KEY (order_id, node_id, first_seq)
) WITHOUT ROWID;
CREATE INDEX request_by_order ON request (order_id) WHERE order_id IS NOT NULL;
