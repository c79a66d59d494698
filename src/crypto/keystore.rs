//! The keystore: wrapped tenant, epoch, index and secrets keys, in a database *separate* from
//! the orders database, so that backups of the orders database never hold live key material and
//! destroying an epoch key here shreds every backup copy of that epoch's PII.

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::str::FromStr;
use std::time::Duration;

#[derive(Clone)]
pub enum Keystore {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// One wrapped key row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KeyRow {
    pub key_id: String,
    pub wrapped: String,
    pub destroyed_at: Option<i64>,
}

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS keystore_keys (
    key_id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    scope TEXT NOT NULL,
    wrapped TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    destroyed_at BIGINT,
    UNIQUE (merchant_id, kind, scope)
)";

impl Keystore {
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let ks = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let pool = PgPoolOptions::new()
                .max_connections(4)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await?;
            Keystore::Postgres(pool)
        } else {
            crate::store::sqlite::ensure_parent_dir(url)?;
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10));
            Keystore::Sqlite(
                SqlitePoolOptions::new()
                    .max_connections(4)
                    .connect_with(opts)
                    .await?,
            )
        };
        match &ks {
            Keystore::Sqlite(p) => {
                sqlx::query(SCHEMA).execute(p).await?;
            }
            Keystore::Postgres(p) => {
                sqlx::query(SCHEMA).execute(p).await?;
            }
        }
        Ok(ks)
    }

    /// The key of `(merchant, kind, scope)`, if one exists (destroyed ones included).
    pub async fn get(
        &self,
        merchant: &str,
        kind: &str,
        scope: &str,
    ) -> sqlx::Result<Option<KeyRow>> {
        const Q: &str = "SELECT key_id, wrapped, destroyed_at FROM keystore_keys WHERE merchant_id = $1 AND kind = $2 AND scope = $3";
        match self {
            Keystore::Sqlite(p) => {
                sqlx::query_as(Q)
                    .bind(merchant)
                    .bind(kind)
                    .bind(scope)
                    .fetch_optional(p)
                    .await
            }
            Keystore::Postgres(p) => {
                sqlx::query_as(Q)
                    .bind(merchant)
                    .bind(kind)
                    .bind(scope)
                    .fetch_optional(p)
                    .await
            }
        }
    }

    /// Inserts a key unless another process won the race; returns the row that is stored.
    pub async fn insert_or_get(
        &self,
        row: &KeyRow,
        merchant: &str,
        kind: &str,
        scope: &str,
        now: i64,
    ) -> sqlx::Result<KeyRow> {
        const Q: &str = "INSERT INTO keystore_keys (key_id, merchant_id, kind, scope, wrapped, created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (merchant_id, kind, scope) DO NOTHING";
        match self {
            Keystore::Sqlite(p) => {
                sqlx::query(Q)
                    .bind(&row.key_id)
                    .bind(merchant)
                    .bind(kind)
                    .bind(scope)
                    .bind(&row.wrapped)
                    .bind(now)
                    .execute(p)
                    .await?;
            }
            Keystore::Postgres(p) => {
                sqlx::query(Q)
                    .bind(&row.key_id)
                    .bind(merchant)
                    .bind(kind)
                    .bind(scope)
                    .bind(&row.wrapped)
                    .bind(now)
                    .execute(p)
                    .await?;
            }
        }
        self.get(merchant, kind, scope)
            .await?
            .ok_or(sqlx::Error::RowNotFound)
    }

    /// Destroys a key: the wrapped material is overwritten, the row stays as evidence.
    pub async fn destroy(&self, key_id: &str, now: i64) -> sqlx::Result<u64> {
        const Q: &str = "UPDATE keystore_keys SET wrapped = '', destroyed_at = $2 WHERE key_id = $1 AND destroyed_at IS NULL";
        let r = match self {
            Keystore::Sqlite(p) => sqlx::query(Q)
                .bind(key_id)
                .bind(now)
                .execute(p)
                .await?
                .rows_affected(),
            Keystore::Postgres(p) => sqlx::query(Q)
                .bind(key_id)
                .bind(now)
                .execute(p)
                .await?
                .rows_affected(),
        };
        Ok(r)
    }

    /// Counts of live and destroyed keys by kind (for `keys status`).
    pub async fn counts(&self) -> sqlx::Result<Vec<(String, i64, i64)>> {
        const Q: &str = "SELECT kind, SUM(CASE WHEN destroyed_at IS NULL THEN 1 ELSE 0 END), SUM(CASE WHEN destroyed_at IS NULL THEN 0 ELSE 1 END) FROM keystore_keys GROUP BY kind ORDER BY kind";
        match self {
            Keystore::Sqlite(p) => sqlx::query_as(Q).fetch_all(p).await,
            Keystore::Postgres(p) => sqlx::query_as(Q).fetch_all(p).await,
        }
    }
}
