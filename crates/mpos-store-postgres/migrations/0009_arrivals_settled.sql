-- Two registers that record one transfer's arrival apart are settled the same way on
-- every node (`Arrival::replaces`: the first recorded stands), which needs the standing
-- arrival's time and values to take it back when an earlier one is heard later.
-- `arrived_at` NULL: received before arrivals were kept with their time; that one stands.
ALTER TABLE stock_transfer ADD COLUMN arrived_at BIGINT;
-- Two arrivals recorded apart said different things arrived: when the later of them was
-- recorded. A manager checks it until a count of its items at the receiving location,
-- recorded after that, settles it. NULL: no dispute.
ALTER TABLE stock_transfer ADD COLUMN disputed_at BIGINT;
-- The value each line brought, as its node valued it; NULL where it carried none.
ALTER TABLE stock_transfer_received ADD COLUMN value BIGINT;
ALTER TABLE stock_transfer_early ADD COLUMN disputed_at BIGINT;
-- The stock view lists the disputed ones: a few among every transfer ever sent.
CREATE INDEX stock_transfer_disputed ON stock_transfer (id) WHERE disputed_at IS NOT NULL;
