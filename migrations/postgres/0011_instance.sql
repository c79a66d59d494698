-- The keystore this database's sealed data belongs to (PII, connection secrets, and the blind
-- indexes and content hashes keyed from it): recorded at the first start, compared at every
-- start, so a process pointed at another keystore refuses instead of sealing PII that the
-- other processes cannot open (docs/keys.md §7). One row.
CREATE TABLE instance (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    keystore_id TEXT NOT NULL,
    recorded_at BIGINT NOT NULL
);
