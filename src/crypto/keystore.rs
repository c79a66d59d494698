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
    /// The master key version that wraps it (`tenant` and `check` rows; `None` for keys
    /// wrapped by a tenant key, and for rows written before versions were recorded).
    #[sqlx(default)]
    pub kek_version: Option<String>,
}

/// A tenant key row as the rotation reads it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MasterWrappedRow {
    pub key_id: String,
    pub merchant_id: String,
    pub wrapped: String,
    pub kek_version: Option<String>,
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

/// Facts about the keystore itself: `keystore_id`, its random identity, which the orders
/// database records (`crate::keystore_identity`).
const META_SCHEMA: &str =
    "CREATE TABLE IF NOT EXISTS keystore_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)";

/// Rows wrapped directly by the master key (the others are wrapped by a tenant key).
const LIVE_TENANT: &str = "kind = 'tenant' AND destroyed_at IS NULL AND wrapped <> ''";

/// The same sqlx expression on whichever pool the keystore has: the two pool types differ,
/// so it is written once and expanded for each.
macro_rules! on_pool {
    ($ks:expr, $p:ident => $e:expr) => {
        match $ks {
            Keystore::Sqlite($p) => $e,
            Keystore::Postgres($p) => $e,
        }
    };
}

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
                for q in [SCHEMA, META_SCHEMA] {
                    sqlx::query(q).execute(p).await?;
                }
            }
            // Concurrent `CREATE TABLE IF NOT EXISTS` can fail on PostgreSQL (a unique
            // violation in the catalog): processes starting at once take turns.
            Keystore::Postgres(p) => {
                let mut tx = p.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock(7301042187)")
                    .execute(&mut *tx)
                    .await?;
                for q in [SCHEMA, META_SCHEMA] {
                    sqlx::query(q).execute(&mut *tx).await?;
                }
                tx.commit().await?;
            }
        }
        ks.migrate().await?;
        Ok(ks)
    }

    /// Schema changes after the first version, each applied once (idempotent, safe when
    /// several processes start at the same time).
    /// 1. `kek_version`: the master key version that wraps a row (key rotation).
    async fn migrate(&self) -> sqlx::Result<()> {
        const HAS_SQLITE: &str =
            "SELECT COUNT(*) FROM pragma_table_info('keystore_keys') WHERE name = 'kek_version'";
        const HAS_PG: &str = "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'keystore_keys' AND column_name = 'kek_version'";
        match self {
            Keystore::Sqlite(p) => {
                let has: i64 = sqlx::query_scalar(HAS_SQLITE).fetch_one(p).await?;
                if has == 0
                    && let Err(e) =
                        sqlx::query("ALTER TABLE keystore_keys ADD COLUMN kek_version TEXT")
                            .execute(p)
                            .await
                {
                    // Another process may have added it meanwhile.
                    let has: i64 = sqlx::query_scalar(HAS_SQLITE).fetch_one(p).await?;
                    if has == 0 {
                        return Err(e);
                    }
                }
            }
            Keystore::Postgres(p) => {
                let has: i64 = sqlx::query_scalar(HAS_PG).fetch_one(p).await?;
                if has == 0 {
                    sqlx::query(
                        "ALTER TABLE keystore_keys ADD COLUMN IF NOT EXISTS kek_version TEXT",
                    )
                    .execute(p)
                    .await?;
                }
            }
        }
        Ok(())
    }

    /// This keystore's identity, once [`Self::init_id`] gave it one.
    pub async fn id(&self) -> sqlx::Result<Option<String>> {
        const Q: &str = "SELECT value FROM keystore_meta WHERE name = 'keystore_id'";
        on_pool!(self, p => sqlx::query_scalar(Q).fetch_optional(p).await)
    }

    /// Gives the keystore a random identity unless it has one; returns the one it has (two
    /// processes starting at once agree on the first).
    pub async fn init_id(&self) -> sqlx::Result<String> {
        const Q: &str = "INSERT INTO keystore_meta (name, value) VALUES ('keystore_id', $1) ON CONFLICT (name) DO NOTHING";
        let id = uuid::Uuid::new_v4().to_string();
        on_pool!(self, p => sqlx::query(Q).bind(&id).execute(p).await.map(|_| ()))?;
        self.id().await?.ok_or(sqlx::Error::RowNotFound)
    }

    /// Whether the keystore holds nothing at all: no key (not even a master key's check row)
    /// and no identity, as a keystore created by a wrong URL does.
    pub async fn is_empty(&self) -> sqlx::Result<bool> {
        const Q: &str =
            "SELECT (SELECT COUNT(*) FROM keystore_keys) + (SELECT COUNT(*) FROM keystore_meta)";
        let n: i64 = on_pool!(self, p => sqlx::query_scalar(Q).fetch_one(p).await)?;
        Ok(n == 0)
    }

    /// Whether this database also holds the orders tables (`instance` is the orders
    /// database's, migration 0011): the keystore was pointed at the orders database under
    /// another name (host alias, proxy), which the URL comparison cannot see.
    pub async fn is_orders_database(&self) -> sqlx::Result<bool> {
        const SQLITE: &str =
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'instance'";
        const PG: &str = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'instance'";
        let n: i64 = match self {
            Keystore::Sqlite(p) => sqlx::query_scalar(SQLITE).fetch_one(p).await?,
            Keystore::Postgres(p) => sqlx::query_scalar(PG).fetch_one(p).await?,
        };
        Ok(n > 0)
    }

    /// The key of `(merchant, kind, scope)`, if one exists (destroyed ones included).
    pub async fn get(
        &self,
        merchant: &str,
        kind: &str,
        scope: &str,
    ) -> sqlx::Result<Option<KeyRow>> {
        const Q: &str = "SELECT key_id, wrapped, destroyed_at, kek_version FROM keystore_keys WHERE merchant_id = $1 AND kind = $2 AND scope = $3";
        on_pool!(self, p => {
            sqlx::query_as(Q)
                .bind(merchant)
                .bind(kind)
                .bind(scope)
                .fetch_optional(p)
                .await
        })
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
        self.insert_or_get_checked(row, merchant, kind, scope, now)
            .await?
            .ok_or(sqlx::Error::RowNotFound)
    }

    /// [`Self::insert_or_get`], `None` when nothing is stored because the row's master key
    /// version is retired: the insert is refused in the same statement that checks it, so a
    /// process still holding a retired key can never add a row under it (see `retire_version`).
    pub async fn insert_or_get_checked(
        &self,
        row: &KeyRow,
        merchant: &str,
        kind: &str,
        scope: &str,
        now: i64,
    ) -> sqlx::Result<Option<KeyRow>> {
        const Q: &str = "INSERT INTO keystore_keys (key_id, merchant_id, kind, scope, wrapped, created_at, kek_version) \
            SELECT CAST($1 AS TEXT), CAST($2 AS TEXT), CAST($3 AS TEXT), CAST($4 AS TEXT), CAST($5 AS TEXT), CAST($6 AS BIGINT), CAST($7 AS TEXT) \
            WHERE CAST($7 AS TEXT) IS NULL OR NOT EXISTS (SELECT 1 FROM keystore_keys r WHERE r.kind = 'check' AND r.kek_version = CAST($7 AS TEXT) AND r.destroyed_at IS NOT NULL) \
            ON CONFLICT (merchant_id, kind, scope) DO NOTHING";
        on_pool!(self, p => {
            sqlx::query(Q)
                .bind(&row.key_id)
                .bind(merchant)
                .bind(kind)
                .bind(scope)
                .bind(&row.wrapped)
                .bind(now)
                .bind(&row.kek_version)
                .execute(p)
                .await
                .map(|_| ())
        })?;
        self.get(merchant, kind, scope).await
    }

    /// The check rows, one per master key version (a destroyed one is a retired version).
    pub async fn check_rows(&self) -> sqlx::Result<Vec<KeyRow>> {
        const Q: &str = "SELECT key_id, wrapped, destroyed_at, kek_version FROM keystore_keys WHERE kind = 'check' ORDER BY created_at, key_id";
        on_pool!(self, p => sqlx::query_as(Q).fetch_all(p).await)
    }

    /// Records the master key version of rows written before versions were recorded (all of
    /// them are wrapped by the key that opens the unversioned check row).
    pub async fn backfill_kek_version(&self, version: &str) -> sqlx::Result<u64> {
        const Q: &str = "UPDATE keystore_keys SET kek_version = $1 WHERE kek_version IS NULL AND kind IN ('tenant', 'check')";
        Ok(on_pool!(self, p => sqlx::query(Q)
                .bind(version)
                .execute(p)
                .await?
                .rows_affected()))
    }

    /// Up to `limit` live tenant keys not wrapped by `version`, after `after` in key id order.
    pub async fn tenant_rows_not_at(
        &self,
        version: &str,
        after: &str,
        limit: i64,
    ) -> sqlx::Result<Vec<MasterWrappedRow>> {
        let q = format!(
            "SELECT key_id, merchant_id, wrapped, kek_version FROM keystore_keys WHERE {LIVE_TENANT} AND (kek_version IS NULL OR kek_version <> $1) AND key_id > $2 ORDER BY key_id LIMIT $3"
        );
        let q = sqlx::AssertSqlSafe(q);
        on_pool!(self, p => {
            sqlx::query_as(q)
                .bind(version)
                .bind(after)
                .bind(limit)
                .fetch_all(p)
                .await
        })
    }

    /// Replaces a row's wrapped key by compare-and-swap on the value it was read with; `false`
    /// when it changed meanwhile (destroyed, or re-wrapped by another rotation).
    pub async fn rewrap(
        &self,
        key_id: &str,
        old_wrapped: &str,
        new_wrapped: &str,
        version: &str,
    ) -> sqlx::Result<bool> {
        const Q: &str = "UPDATE keystore_keys SET wrapped = $3, kek_version = $4 WHERE key_id = $1 AND wrapped = $2 AND destroyed_at IS NULL";
        let n = on_pool!(self, p => sqlx::query(Q)
                .bind(key_id)
                .bind(old_wrapped)
                .bind(new_wrapped)
                .bind(version)
                .execute(p)
                .await?
                .rows_affected());
        Ok(n == 1)
    }

    /// Retires a master key version: destroys its check row, only if no live tenant key is
    /// still wrapped by it (or by an unrecorded version). `false` when some are (a process
    /// still holding it added one: re-wrap and try again). The check and the update are one
    /// statement; on PostgreSQL a table lock also waits for inserts in flight and holds off
    /// new ones, whose own check (`insert_or_get_checked`) then sees the version retired.
    pub async fn retire_version(&self, version: &str, now: i64) -> sqlx::Result<bool> {
        const Q: &str = "UPDATE keystore_keys SET wrapped = '', destroyed_at = $2 WHERE kind = 'check' AND kek_version = $1 AND destroyed_at IS NULL \
             AND NOT EXISTS (SELECT 1 FROM keystore_keys t WHERE t.kind = 'tenant' AND t.destroyed_at IS NULL AND t.wrapped <> '' AND (t.kek_version = $1 OR t.kek_version IS NULL))";
        let n = match self {
            Keystore::Sqlite(p) => sqlx::query(Q)
                .bind(version)
                .bind(now)
                .execute(p)
                .await?
                .rows_affected(),
            Keystore::Postgres(p) => {
                let mut tx = p.begin().await?;
                sqlx::query("LOCK TABLE keystore_keys IN SHARE ROW EXCLUSIVE MODE")
                    .execute(&mut *tx)
                    .await?;
                let n = sqlx::query(Q)
                    .bind(version)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                tx.commit().await?;
                n
            }
        };
        Ok(n > 0)
    }

    /// Live tenant keys per master key version (`None`: not recorded yet).
    pub async fn tenant_counts_by_version(&self) -> sqlx::Result<Vec<(Option<String>, i64)>> {
        let q = sqlx::AssertSqlSafe(format!(
            "SELECT kek_version, COUNT(*) FROM keystore_keys WHERE {LIVE_TENANT} GROUP BY kek_version ORDER BY kek_version"
        ));
        on_pool!(self, p => sqlx::query_as(q).fetch_all(p).await)
    }

    /// Destroys a key: the wrapped material is overwritten, the row stays as evidence.
    pub async fn destroy(&self, key_id: &str, now: i64) -> sqlx::Result<u64> {
        const Q: &str = "UPDATE keystore_keys SET wrapped = '', destroyed_at = $2 WHERE key_id = $1 AND destroyed_at IS NULL";
        let r = on_pool!(self, p => sqlx::query(Q)
                .bind(key_id)
                .bind(now)
                .execute(p)
                .await?
                .rows_affected());
        Ok(r)
    }

    /// `(merchant, scope, key_id)` of every live (not destroyed) key of a kind (epoch
    /// destruction walks the live epochs).
    pub async fn live_scopes(&self, kind: &str) -> sqlx::Result<Vec<(String, String, String)>> {
        const Q: &str = "SELECT merchant_id, scope, key_id FROM keystore_keys WHERE kind = $1 AND destroyed_at IS NULL ORDER BY merchant_id, scope";
        on_pool!(self, p => sqlx::query_as(Q).bind(kind).fetch_all(p).await)
    }

    /// Counts of live and destroyed keys by kind (for `keys status`).
    pub async fn counts(&self) -> sqlx::Result<Vec<(String, i64, i64)>> {
        const Q: &str = "SELECT kind, SUM(CASE WHEN destroyed_at IS NULL THEN 1 ELSE 0 END), SUM(CASE WHEN destroyed_at IS NULL THEN 0 ELSE 1 END) FROM keystore_keys GROUP BY kind ORDER BY kind";
        on_pool!(self, p => sqlx::query_as(Q).fetch_all(p).await)
    }
}
