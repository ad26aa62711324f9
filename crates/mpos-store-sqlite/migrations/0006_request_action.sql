-- What each applied request did (kind, order, the entity it created or named), so an id
-- reused for a different action is refused instead of answered with another's result.
ALTER TABLE request ADD COLUMN action TEXT NOT NULL DEFAULT '';
