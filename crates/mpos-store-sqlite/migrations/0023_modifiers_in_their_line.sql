-- A line's modifiers kept in the line's own row, as JSON ([[id in hex, name, price
-- delta], ...] in the order chosen; NULL for none): they are only ever read with their
-- line, and a row of their own each was a third of the rows a sale wrote.
ALTER TABLE pos_line ADD COLUMN modifiers TEXT;

UPDATE pos_line SET modifiers = (
    SELECT json_group_array(json_array(lower(hex(m.id)), m.name, m.price_delta)
                            ORDER BY m.position)
    FROM pos_line_modifier m
    WHERE m.order_id = pos_line.order_id AND m.line_position = pos_line.position
)
WHERE EXISTS (
    SELECT 1 FROM pos_line_modifier m
    WHERE m.order_id = pos_line.order_id AND m.line_position = pos_line.position
);

DROP TABLE pos_line_modifier;
