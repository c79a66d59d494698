-- Rate budgets the fleet shares (connectors/sdk/src/budget.rs): one token bucket per platform
-- limit, keyed by the limit and a hash of the account it counts (never a secret), taken from
-- in one short locked transaction per take.
CREATE TABLE rate_budgets (
    key TEXT PRIMARY KEY,
    tokens REAL NOT NULL,
    -- When `tokens` was last refilled (µs, the engine's clock).
    refilled_at BIGINT NOT NULL
);
