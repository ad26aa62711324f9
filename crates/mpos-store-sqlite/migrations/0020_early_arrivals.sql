-- A transfer's arrival that reached this node before its sending did (another node
-- recorded each, and their ledgers travel apart): kept until the sending comes and brings
-- it in. One arrival a transfer: the first heard stands. `valued`: whether the arrival
-- carried its values (each line's `value`).
CREATE TABLE stock_transfer_early (
    transfer BLOB    PRIMARY KEY,
    at       INTEGER NOT NULL,
    valued   INTEGER NOT NULL
);

CREATE TABLE stock_transfer_early_line (
    transfer  BLOB    NOT NULL,
    position  INTEGER NOT NULL,
    item      BLOB    NOT NULL,
    dimension TEXT    NOT NULL,
    milli     INTEGER NOT NULL,
    value     INTEGER NOT NULL,
    PRIMARY KEY (transfer, position)
);
