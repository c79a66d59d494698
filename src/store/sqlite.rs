//! SQLite (embedded, default): WAL, one writer; claims are single `UPDATE … RETURNING`.

use super::sql::{conn_cols, impl_store};
use super::*;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::str::FromStr;
use std::time::Duration;

pub struct SqliteStore {
    pub(crate) pool: SqlitePool,
}

impl SqliteStore {
    const MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        ensure_parent_dir(url)?;
        let opts = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(30))
            .foreign_keys(true)
            // Serve reads from memory (page cache + mmap) instead of pread copies per page.
            .pragma("cache_size", "-65536")
            .pragma("mmap_size", "268435456")
            .pragma("temp_store", "memory");
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await?;
        Ok(Self { pool })
    }
}

/// SQLite creates the file but not its directory: create the directory of a `sqlite://` URL.
pub fn ensure_parent_dir(url: &str) -> std::io::Result<()> {
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .map(|p| p.split('?').next().unwrap_or(p))
        && let Some(dir) = std::path::Path::new(path).parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)?;
    }
    Ok(())
}

/// One process: nothing to listen to.
fn listen_work_on(_: &SqlitePool, _: Arc<tokio::sync::Notify>) -> bool {
    false
}

impl_store!(SqliteStore, sqlx::Sqlite, "", "sqlite");
super::history::impl_history_store!(SqliteStore, sqlx::Sqlite, "");
