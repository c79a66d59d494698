//! PostgreSQL: many workers share the work; claims use `FOR UPDATE SKIP LOCKED`.

use super::sql::{conn_cols, impl_store};
use super::*;
use sqlx::postgres::{PgPool, PgPoolOptions};
use std::time::Duration;

pub struct PgStore {
    pub(crate) pool: PgPool,
}

impl PgStore {
    const MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(30))
            .connect(url)
            .await?;
        Ok(Self { pool })
    }
}

impl_store!(
    PgStore,
    sqlx::Postgres,
    " FOR UPDATE SKIP LOCKED",
    "postgres"
);
