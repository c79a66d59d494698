-- `/metrics` counts the purged orders from an index of their own: partial, so an order enters
-- it only when its PII is purged (ingestion writes nothing more), and the count reads no order
-- row (SQLite would otherwise scan the table: `orders_purge` lacks `pii_purged_at`).
CREATE INDEX orders_pii_purged ON orders (pii_purged_at) WHERE pii_purged_at IS NOT NULL;
