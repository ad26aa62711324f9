-- A transfer's arrival that reached this node before its sending did (another node
-- recorded each, and their ledgers travel apart): kept, line by line with the value the
-- arrival carried (NULL: it carried none), until the sending comes and brings it in.
CREATE TABLE stock_transfer_early (
    transfer  BYTEA   NOT NULL,
    position  BIGINT  NOT NULL,
    item      BYTEA   NOT NULL,
    dimension TEXT    NOT NULL,
    milli     BIGINT  NOT NULL,
    value     BIGINT,
    at        BIGINT  NOT NULL,
    PRIMARY KEY (transfer, position)
);
