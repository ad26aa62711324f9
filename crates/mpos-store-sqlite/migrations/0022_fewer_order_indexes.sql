-- Every order written writes each of its indexes: two go.
-- Nothing looks an order up by its exact number: the search matches a prefix with LIKE,
-- which is case-insensitive and cannot use this index.
DROP INDEX pos_order_by_number;
-- Only open orders are listed by status: closed ones, nearly every row, need no entry.
DROP INDEX pos_order_by_status;
CREATE INDEX pos_order_open ON pos_order (opened_at) WHERE status = 'open';
