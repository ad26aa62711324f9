-- The register's order list (newest first) and the back office's sales charts (orders
-- closed in a stretch of time) read through these, never by scanning every order.
CREATE INDEX pos_order_by_opened ON pos_order (opened_at);
CREATE INDEX pos_order_closed ON pos_order (closed_at) WHERE status = 'closed';
