-- Orders a connector could not map, one row per order (re-reads update it, never recount);
-- `connections.rejected_orders` is their count. Reasons are PII-free.
CREATE TABLE rejected_orders (
    connection_id TEXT NOT NULL,
    external_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    seen_at BIGINT NOT NULL,
    PRIMARY KEY (connection_id, external_id)
);
