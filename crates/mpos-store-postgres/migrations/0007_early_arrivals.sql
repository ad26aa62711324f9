-- A transfer's arrival that reached this node before its sending did (another node
-- recorded each, and their ledgers travel apart): kept until the sending comes and brings
-- it in. One arrival a transfer: the first heard stands. `valued`: whether the arrival
-- carried its values (each line's `value`).
CREATE TABLE stock_transfer_early (
    transfer BYTEA   PRIMARY KEY,
    at       BIGINT  NOT NULL,
    valued   BOOLEAN NOT NULL
);

CREATE TABLE stock_transfer_early_line (
    transfer  BYTEA   NOT NULL,
    position  BIGINT  NOT NULL,
    item      BYTEA   NOT NULL,
    dimension TEXT    NOT NULL,
    milli     BIGINT  NOT NULL,
    value     BIGINT  NOT NULL,
    PRIMARY KEY (transfer, position)
);
