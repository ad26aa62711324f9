-- The kitchen display: which send put a line on a ticket, the station it went to and when
-- the kitchen bumped it; and each table's self-ordering link.
ALTER TABLE pos_line ADD COLUMN station BLOB;
ALTER TABLE pos_line ADD COLUMN round INTEGER NOT NULL DEFAULT 0;
ALTER TABLE pos_line ADD COLUMN sent_at INTEGER;
ALTER TABLE pos_line ADD COLUMN ready_at INTEGER;
UPDATE pos_line SET round = 1 WHERE sent = 1;
-- What the kitchen still has to make, and what it bumped lately: a small part of the
-- lines, so the display never scans the day's sales.
CREATE INDEX pos_line_in_kitchen ON pos_line (ready_at, order_id)
    WHERE sent = 1 AND station IS NOT NULL;

ALTER TABLE floor_table ADD COLUMN token TEXT NOT NULL DEFAULT '';
CREATE INDEX floor_table_by_token ON floor_table (token) WHERE token != '';
