//! PostgreSQL: many workers share the work; claims use `FOR UPDATE SKIP LOCKED`.

use super::sql::{conn_cols, impl_store};
use super::*;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use std::str::FromStr;
use std::time::Duration;

pub struct PgStore {
    pub(crate) pool: PgPool,
}

impl PgStore {
    const MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        // Batched statements carry hundreds of parameters; a generic plan for them (chosen
        // after five executions of a prepared statement) can be far slower than a custom one.
        let opts =
            PgConnectOptions::from_str(url)?.options([("plan_cache_mode", "force_custom_plan")]);
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(opts)
            .await?;
        Ok(Self { pool })
    }
}

/// A `LISTEN` on its own connection, re-established after a failure; each notification
/// wakes the engine's idle loops.
fn listen_work_on(pool: &PgPool, wake: Arc<tokio::sync::Notify>) -> bool {
    let pool = pool.clone();
    tokio::spawn(async move {
        loop {
            let listened = async {
                let mut l = sqlx::postgres::PgListener::connect_with(&pool).await?;
                l.listen(WORK_CHANNEL).await?;
                loop {
                    l.recv().await?;
                    wake.notify_waiters();
                }
                #[allow(unreachable_code)]
                Ok::<(), sqlx::Error>(())
            };
            if let Err(e) = listened.await {
                tracing::debug!(error = %e, "Work notifications interrupted; polling until they are back.");
            }
            if pool.is_closed() {
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    true
}

impl_store!(
    PgStore,
    sqlx::Postgres,
    " FOR UPDATE SKIP LOCKED",
    "postgres"
);
super::history::impl_history_store!(PgStore, sqlx::Postgres, " FOR UPDATE SKIP LOCKED");
