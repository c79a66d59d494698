-- Connection state every process agrees on (docs/architecture.md, "Connection changes reach
-- every process").
-- `version` moves with every write of a connection's config, secrets (a connector's own token
-- rotation included), state or deletion; rotated secrets are written compare-and-swap on it.
-- `build_version` moves only with the writes a live connector instance must be rebuilt for
-- (config, secrets set through the API, deletion): a token rotation leaves every process's
-- instance in place, since each re-reads the stored refresh token before it refreshes.
ALTER TABLE connections ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE connections ADD COLUMN build_version BIGINT NOT NULL DEFAULT 1;
-- One token refresh per connection at a time across the fleet: a lease (owner, expiry) taken
-- with a conditional UPDATE; it expires if its holder dies.
ALTER TABLE connections ADD COLUMN refresh_owner TEXT;
ALTER TABLE connections ADD COLUMN refresh_until BIGINT;
