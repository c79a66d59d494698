-- The blind index of the buyer's marketplace account (eBay's username), so that a platform's
-- account-deletion notice finds that buyer's orders without storing the name in plaintext.
ALTER TABLE orders ADD COLUMN buyer_bidx TEXT;
CREATE INDEX orders_buyer_bidx ON orders (merchant_id, buyer_bidx);
