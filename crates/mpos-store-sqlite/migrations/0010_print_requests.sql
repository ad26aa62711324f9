-- Print requests already queued (receipts, reprints): a retried request with the same
-- client-chosen id gets the jobs its first attempt queued, and prints nothing again.
CREATE TABLE print_request (
    id     BLOB PRIMARY KEY,
    action TEXT NOT NULL, -- what the request asked: a retry must ask the same
    jobs   TEXT NOT NULL  -- print_job ids, comma separated
);
