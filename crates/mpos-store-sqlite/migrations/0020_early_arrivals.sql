-- A transfer's arrival that reached this node before its sending did (another node
-- recorded each, and their ledgers travel apart): kept, line by line with the value the
-- arrival carried (NULL: it carried none), until the sending comes and brings it in.
CREATE TABLE stock_transfer_early (
    transfer  BLOB    NOT NULL,
    position  INTEGER NOT NULL,
    item      BLOB    NOT NULL,
    dimension TEXT    NOT NULL,
    milli     INTEGER NOT NULL,
    value     INTEGER,
    at        INTEGER NOT NULL,
    PRIMARY KEY (transfer, position)
);
