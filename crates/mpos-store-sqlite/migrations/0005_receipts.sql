-- The signed receipt code of each closed order (see docs/ledger-format.md, "Receipt code"),
-- derived from the ledger entry that closed it and the node's key.
ALTER TABLE pos_order ADD COLUMN receipt_code TEXT;
