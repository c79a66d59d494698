-- What a route forwards: order statuses (JSON array of canonical statuses; NULL = open and
-- closed) and a start (orders created at or after it, µs; NULL = all history).
ALTER TABLE routes ADD COLUMN statuses TEXT;
ALTER TABLE routes ADD COLUMN start_at BIGINT;

-- Delivery tracking by feed (targets that list deliveries by modification time): one row per
-- sink connection, leased by the worker reading it. `since` is where the next read starts;
-- `page_token` and `read_started` let a read cut short (a killed worker) go on where it was.
CREATE TABLE track_feeds (
    connection_id TEXT PRIMARY KEY REFERENCES connections(id) ON DELETE CASCADE,
    since BIGINT,
    page_token TEXT,
    read_started BIGINT,
    next_pass_at BIGINT NOT NULL,
    lease_owner TEXT,
    lease_until BIGINT,
    last_error TEXT,
    updated_at BIGINT NOT NULL
);

CREATE INDEX deliveries_ref ON deliveries (sink_connection_id, external_ref);
