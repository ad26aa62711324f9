-- Orders closed on another node whose receipt code has not come yet: asked for again on
-- every pull, newest first.
CREATE INDEX pos_order_without_receipt ON pos_order (closed_at)
    WHERE status = 'closed' AND receipt_code IS NULL;
