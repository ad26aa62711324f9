-- When each PIN hash was set (the time of the ledger entry that recorded the change):
-- hashes travel between the organization's nodes, and the later change stands.
ALTER TABLE staff_pin ADD COLUMN changed_at BIGINT NOT NULL DEFAULT 0;

-- The organization's nodes: each node's certificate (the root key vouching for its key,
-- under a name), once however many ledgers carry it, and the revocations the root key
-- signed, also of nodes whose certificate this store never saw. Both are projections of
-- trust events in the ledgers; the signed bytes are kept so they can be shown again.
CREATE TABLE organization_node (
    node_id      BYTEA PRIMARY KEY,
    name         TEXT COLLATE "C" NOT NULL,
    certified_at BIGINT NOT NULL,
    certificate  BYTEA NOT NULL
);
CREATE TABLE node_revocation (
    node_id    BYTEA PRIMARY KEY,
    standing   BIGINT NOT NULL,
    revoked_at BIGINT NOT NULL,
    reason     TEXT NOT NULL,
    revocation BYTEA NOT NULL
);
