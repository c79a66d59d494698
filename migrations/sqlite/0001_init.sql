-- ordersync schema v1. Timestamps are BIGINT microseconds since the Unix epoch (UTC) in both
-- dialects, ids are UUIDv7 text: the same SQL text runs on SQLite and PostgreSQL.

CREATE TABLE merchants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    terminated_at BIGINT
);

CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    created_at BIGINT NOT NULL
);

CREATE TABLE connections (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    kind TEXT NOT NULL,
    role TEXT NOT NULL,
    name TEXT NOT NULL,
    config TEXT NOT NULL,
    secrets_ct TEXT,
    state TEXT NOT NULL DEFAULT 'active',
    next_pull_at BIGINT NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until BIGINT,
    last_pull_at BIGINT,
    last_error TEXT,
    rejected_orders BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX connections_due ON connections (role, state, next_pull_at);

CREATE TABLE cursors (
    connection_id TEXT PRIMARY KEY REFERENCES connections(id) ON DELETE CASCADE,
    watermark BIGINT,
    window_until BIGINT,
    page_token TEXT,
    updated_at BIGINT NOT NULL
);

CREATE TABLE routes (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    source_connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    sink_connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    UNIQUE (source_connection_id, sink_connection_id)
);

CREATE TABLE orders (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL,
    connection_id TEXT NOT NULL,
    marketplace TEXT NOT NULL,
    external_id TEXT NOT NULL,
    order_number TEXT NOT NULL,
    status TEXT NOT NULL,
    data TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    version BIGINT NOT NULL,
    pii_ct TEXT,
    pii_dek TEXT,
    pii_epoch TEXT,
    pii_fields BIGINT NOT NULL DEFAULT 0,
    email_bidx TEXT,
    source_created_at BIGINT NOT NULL,
    source_updated_at BIGINT NOT NULL,
    ingested_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    delivered_at BIGINT,
    purge_after BIGINT,
    pii_purged_at BIGINT,
    UNIQUE (connection_id, external_id)
);
CREATE INDEX orders_purge ON orders (purge_after) WHERE pii_purged_at IS NULL;
CREATE INDEX orders_bidx ON orders (merchant_id, email_bidx);
CREATE INDEX orders_merchant ON orders (merchant_id, id);

CREATE TABLE deliveries (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    merchant_id TEXT NOT NULL,
    sink_connection_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    idempotency_key TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_owner TEXT,
    lease_until BIGINT,
    external_ref TEXT,
    delivered_version BIGINT,
    last_error TEXT,
    tracked_delivered_at BIGINT,
    next_track_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (order_id, sink_connection_id)
);
CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at);
CREATE INDEX deliveries_track ON deliveries (next_track_at) WHERE next_track_at IS NOT NULL;

CREATE TABLE webhook_events (
    dedupe_key TEXT PRIMARY KEY,
    connection_id TEXT NOT NULL,
    topic TEXT NOT NULL,
    received_at BIGINT NOT NULL
);

CREATE TABLE retention_policies (
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    marketplace TEXT NOT NULL,
    days_after_delivery BIGINT NOT NULL,
    days_after_order BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, marketplace)
);

CREATE TABLE dsr_requests (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants(id),
    kind TEXT NOT NULL,
    subject_bidx TEXT NOT NULL,
    status TEXT NOT NULL,
    result_ct TEXT,
    created_at BIGINT NOT NULL,
    completed_at BIGINT
);

CREATE TABLE audit_log (
    id TEXT PRIMARY KEY,
    merchant_id TEXT,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT,
    detail TEXT
);
CREATE INDEX audit_merchant ON audit_log (merchant_id, at);
