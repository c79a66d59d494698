-- Reconciliation passes (docs/reconciliation.md): one row per source connection, made lazily
-- by the reconcile loop. A pass re-reads [now - reconcile_days, watermark] from the source and
-- ingests what the pull missed; `pass_*` hold an unfinished pass (its window and where it
-- stopped), so a pass spread over several claims resumes instead of starting over.
CREATE TABLE reconciliations (
    connection_id TEXT PRIMARY KEY REFERENCES connections(id) ON DELETE CASCADE,
    next_at BIGINT NOT NULL,
    last_at BIGINT,
    -- orders the last completed pass had to backfill
    last_gap BIGINT NOT NULL DEFAULT 0,
    gaps_total BIGINT NOT NULL DEFAULT 0,
    -- the latest pass that found a gap: when, and how many orders (the alert in `status`)
    last_gap_at BIGINT,
    last_gap_orders BIGINT NOT NULL DEFAULT 0,
    pass_since BIGINT,
    pass_until BIGINT,
    page_token TEXT,
    pass_found BIGINT NOT NULL DEFAULT 0,
    -- failed attempts in a row (back-off) and the last one's PII-free error
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    updated_at BIGINT NOT NULL
);

-- A source connection's history import (its first window, which reads all history) or a
-- catch-up of more than an hour, as the pull writes it page by page: the oldest `updated_at`
-- read, the end of the window being read, how far it got. `status` derives the percentage.
CREATE TABLE backfills (
    connection_id TEXT PRIMARY KEY REFERENCES connections(id) ON DELETE CASCADE,
    from_at BIGINT,
    to_at BIGINT NOT NULL,
    through_at BIGINT,
    started_at BIGINT NOT NULL,
    done_at BIGINT,
    updated_at BIGINT NOT NULL
);
