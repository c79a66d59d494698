-- A legal hold suspends an order's purge until it expires: the merchant (the controller)
-- names the legal basis; set and lifted through the API, audited.
ALTER TABLE orders ADD COLUMN legal_hold_at BIGINT;
ALTER TABLE orders ADD COLUMN legal_hold_until BIGINT;
ALTER TABLE orders ADD COLUMN legal_hold_basis TEXT;
