-- An organization's restaurants. Each order, drawer session and table belongs to the
-- location of the node that opened or set it up (none on a node that sells at no
-- location); each node says where it sells, so nodes of several restaurants can share
-- one store. Where sales took stock from becomes the setting of each node whose ledger
-- is here, and a store of one node places the orders, drawers and tables it already
-- holds there: that is where it sold.
ALTER TABLE pos_order ADD COLUMN location BYTEA;
ALTER TABLE drawer ADD COLUMN location BYTEA;
ALTER TABLE floor_table ADD COLUMN location BYTEA;
UPDATE pos_order SET location = (SELECT location FROM stock_sales)
    WHERE (SELECT count(*) FROM ledger_head) = 1;
UPDATE drawer SET location = (SELECT location FROM stock_sales)
    WHERE (SELECT count(*) FROM ledger_head) = 1;
UPDATE floor_table SET location = (SELECT location FROM stock_sales)
    WHERE (SELECT count(*) FROM ledger_head) = 1;

CREATE TABLE node_sales (
    node_id   BYTEA PRIMARY KEY,
    location  BYTEA NOT NULL,
    depletion TEXT NOT NULL
);
INSERT INTO node_sales (node_id, location, depletion)
    SELECT h.node_id, s.location, s.depletion FROM stock_sales s, ledger_head h;
DROP TABLE stock_sales;
ALTER TABLE node_sales RENAME TO stock_sales;
CREATE INDEX pos_order_by_location ON pos_order (location, opened_at);
