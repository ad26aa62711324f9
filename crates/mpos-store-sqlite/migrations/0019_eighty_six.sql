-- Every change of an item's availability (86'd or back) the ledgers hold, with its entry's
-- time and node: whether an item was 86'd when a line of it was sold is read from these,
-- in the organization's time, not from the latest state alone.
CREATE TABLE item_availability (
    item_id   BLOB    NOT NULL,
    hlc       INTEGER NOT NULL,
    node_id   BLOB    NOT NULL,
    available INTEGER NOT NULL,
    PRIMARY KEY (item_id, hlc, node_id)
) WITHOUT ROWID;

-- Lines sold on a register that had not heard yet that another had 86'd the item: flagged
-- for a manager (set and cleared as entries arrive; the same on every node in the end).
CREATE TABLE sold_while_86d (
    order_id BLOB    NOT NULL,
    line_id  BLOB    NOT NULL,
    item_id  BLOB    NOT NULL,
    hlc      INTEGER NOT NULL,
    PRIMARY KEY (order_id, line_id)
) WITHOUT ROWID;
CREATE INDEX sold_while_86d_by_item ON sold_while_86d (item_id, hlc);
