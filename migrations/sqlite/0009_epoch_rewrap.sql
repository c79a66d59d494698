-- Epoch crypto-shredding (docs/privacy.md). `pii_rewrap_at` marks an order whose purge date
-- moved after its DEK was wrapped (its delivery became known, its retention changed, a refetch
-- re-sealed a delivered order): the purge sweep re-wraps the DEK into the epoch of the new
-- date and clears the mark.
ALTER TABLE orders ADD COLUMN pii_rewrap_at BIGINT;
CREATE INDEX orders_rewrap ON orders (pii_rewrap_at) WHERE pii_rewrap_at IS NOT NULL;
-- Which epochs still hold a DEK: an epoch key is destroyed only when none of its orders does.
CREATE INDEX orders_epoch ON orders (merchant_id, pii_epoch) WHERE pii_dek IS NOT NULL;
-- Orders delivered before this migration still sit in the epoch of their fallback date.
UPDATE orders SET pii_rewrap_at = 0 WHERE delivered_at IS NOT NULL AND pii_dek IS NOT NULL AND pii_purged_at IS NULL;
