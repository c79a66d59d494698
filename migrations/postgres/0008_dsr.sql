-- Data-subject requests (compliance R14, R16, R18): each request keeps its DSR clock (due 30
-- days after receipt) and what it found, as counts only. The export itself is never stored.
ALTER TABLE dsr_requests ADD COLUMN due_at BIGINT;
ALTER TABLE dsr_requests ADD COLUMN actor TEXT;
ALTER TABLE dsr_requests ADD COLUMN orders BIGINT;
ALTER TABLE dsr_requests ADD COLUMN erased BIGINT;
ALTER TABLE dsr_requests ADD COLUMN held BIGINT;
CREATE INDEX dsr_requests_merchant ON dsr_requests (merchant_id, created_at);
-- A token's scopes (space-separated, e.g. `pii:read`): reading a buyer's PII through the API
-- needs a token minted for it, so an ordinary merchant token cannot export personal data.
ALTER TABLE api_tokens ADD COLUMN scopes TEXT NOT NULL DEFAULT '';
-- Erasures by email run per connection (`connection_id = ? AND email_bidx = ?`): without this
-- they scan every order of the connection. Partial: a purged order (blind index gone) is not in it.
CREATE INDEX orders_conn_bidx ON orders (connection_id, email_bidx) WHERE email_bidx IS NOT NULL;
