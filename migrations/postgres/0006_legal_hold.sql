-- A legal hold suspends an order's purge (set and lifted through the API, audited).
ALTER TABLE orders ADD COLUMN legal_hold_at BIGINT;
