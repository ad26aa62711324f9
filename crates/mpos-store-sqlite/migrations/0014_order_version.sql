-- How many events built each order (the domain's Order::version). A node alone on its
-- database never needs it to write safely; it is kept so that every store loads the same
-- order the ledger's events fold into. Orders stored before this migration count on from 0.
ALTER TABLE pos_order ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
