//! Typed configuration (ARCHITECTURE §9): an optional TOML file overridden by `ORDERSYNC_*`
//! environment variables. Secrets (the master key) come from the environment or a file, never
//! from the TOML.

use anyhow::Context;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `sqlite://…` (default `sqlite://./data/ordersync.db`) or `postgres://…`.
    pub database_url: String,
    /// The separate keystore database (default: `keystore.db` beside the SQLite database;
    /// required with PostgreSQL, see `keystore_identity::keystore_url`).
    pub keystore_url: Option<String>,
    /// `host:port` of the HTTP API.
    pub listen: String,
    /// Externally visible base URL (OAuth redirects, the eBay endpoint string).
    pub public_url: Option<String>,
    pub worker_id: Option<String>,
    /// tracing env-filter, e.g. `info,ordersync=debug`.
    pub log: String,
    /// `text` or `json`.
    pub log_format: String,
    /// Let connector endpoints use `http://` and loopback/private addresses (tests, the demo's
    /// simulators). Off in production: merchant-supplied URLs would reach internal services.
    pub allow_private_endpoints: bool,
    /// `GET /metrics`: where it is served and who may read it (docs/architecture.md).
    pub metrics: MetricsConfig,
    pub engine: EngineConfig,
    pub retention: RetentionDefaults,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// `host:port` of a listener of its own for `/metrics` (the API's listener then has none).
    pub listen: Option<String>,
    /// A file holding the bearer token `/metrics` requires (`ORDERSYNC_METRICS_TOKEN` or
    /// `ORDERSYNC_METRICS_TOKEN_FILE` take precedence; the token itself is never in the TOML).
    pub token_file: Option<PathBuf>,
    /// Seconds the database gauges are reused: a scrape storm reads them once per interval.
    pub cache_secs: u64,
    #[serde(skip)]
    pub token: Option<secrecy::SecretString>,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            listen: None,
            token_file: None,
            cache_secs: 15,
            token: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EngineConfig {
    /// Seconds between pulls of one connection.
    pub poll_interval_secs: u64,
    /// Deliveries claimed per batch.
    pub delivery_batch: i64,
    /// Attempts before a delivery goes to `dead`.
    pub max_attempts: i64,
    /// Seconds between delivery-status checks of a shipped order.
    pub track_interval_secs: i64,
    /// Seconds before a failed delivery-status check is tried again.
    pub track_retry_secs: i64,
    /// Days after the order's creation its parcel is tracked; after that (or once the order is
    /// cancelled) tracking stops and the purge falls back to `days_after_order`.
    pub track_horizon_days: i64,
    /// Seconds a delivery-feed read reaches back before the previous read started (targets'
    /// modification times and our clock are not exact).
    pub feed_overlap_secs: i64,
    /// Seconds between purge sweeps.
    pub purge_interval_secs: u64,
    /// Orders whose PII one purge transaction deletes (larger batches mean fewer commits and
    /// WAL checkpoints on SQLite: docs/benchmarks.md).
    pub purge_batch: i64,
    /// Seconds a claimed lease lasts without renewal.
    pub lease_secs: i64,
    /// Idle wait of the worker loops, in milliseconds.
    pub idle_ms: u64,
    /// Days a webhook's dedupe record is kept (platforms redeliver for up to 48 hours).
    pub webhook_dedupe_days: i64,
    /// Seconds between reconciliation passes of one source connection (docs/reconciliation.md);
    /// 0: only on demand (`POST /api/v1/connections/{id}/reconcile`).
    pub reconcile_interval_secs: u64,
    /// Days a reconciliation pass reaches back (up to what the pull has covered).
    pub reconcile_days: i64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionDefaults {
    pub days_after_delivery: i64,
    pub days_after_order: i64,
    /// Operator bounds for merchant policies.
    pub min_days: i64,
    pub max_days: i64,
    /// Days a terminated merchant's non-PII data (orders, deliveries, connections) is kept
    /// before it is deleted; its PII goes at termination.
    pub termination_grace_days: i64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: "sqlite://./data/ordersync.db".into(),
            keystore_url: None,
            listen: "127.0.0.1:8080".into(),
            public_url: None,
            worker_id: None,
            log: "info".into(),
            log_format: "text".into(),
            allow_private_endpoints: false,
            metrics: MetricsConfig::default(),
            engine: EngineConfig::default(),
            retention: RetentionDefaults::default(),
        }
    }
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            poll_interval_secs: 60,
            delivery_batch: 500,
            max_attempts: 12,
            track_interval_secs: 6 * 3600,
            track_retry_secs: 60,
            track_horizon_days: 60,
            feed_overlap_secs: 3600,
            purge_interval_secs: 3600,
            purge_batch: 5000,
            lease_secs: 120,
            idle_ms: 500,
            webhook_dedupe_days: 7,
            reconcile_interval_secs: 86_400,
            reconcile_days: 7,
        }
    }
}

impl Default for RetentionDefaults {
    fn default() -> Self {
        Self {
            days_after_delivery: 30,
            days_after_order: 90,
            min_days: 1,
            max_days: 90,
            termination_grace_days: 30,
        }
    }
}

impl Config {
    /// Loads the TOML file (if any), then applies the environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let mut cfg = match file {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("reading config file {}", p.display()))?;
                toml::from_str(&text)
                    .with_context(|| format!("parsing config file {}", p.display()))?
            }
            None => Config::default(),
        };
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        if let Some(v) = env("ORDERSYNC_DATABASE_URL") {
            cfg.database_url = v;
        }
        if let Some(v) = env("ORDERSYNC_KEYSTORE_URL") {
            cfg.keystore_url = Some(v);
        }
        if let Some(v) = env("ORDERSYNC_LISTEN") {
            cfg.listen = v;
        }
        if let Some(v) = env("ORDERSYNC_PUBLIC_URL") {
            cfg.public_url = Some(v);
        }
        if let Some(v) = env("ORDERSYNC_WORKER_ID") {
            cfg.worker_id = Some(v);
        }
        if let Some(v) = env("ORDERSYNC_LOG") {
            cfg.log = v;
        }
        if let Some(v) = env("ORDERSYNC_LOG_FORMAT") {
            cfg.log_format = v;
        }
        if let Some(v) = env("ORDERSYNC_ALLOW_PRIVATE_ENDPOINTS") {
            cfg.allow_private_endpoints = parse_bool(&v)
                .context("ORDERSYNC_ALLOW_PRIVATE_ENDPOINTS must be true or false")?;
        }
        if let Some(v) = env("ORDERSYNC_METRICS_LISTEN") {
            cfg.metrics.listen = Some(v);
        }
        if let Some(v) = env("ORDERSYNC_METRICS_CACHE_SECS") {
            cfg.metrics.cache_secs = v
                .trim()
                .parse()
                .context("ORDERSYNC_METRICS_CACHE_SECS must be a number of seconds")?;
        }
        cfg.metrics.token = metrics_token(cfg.metrics.token_file.as_deref())?;
        Ok(cfg)
    }

    /// The keystore URL: explicit, else `keystore.db` beside the SQLite database (or `./data`).
    /// Processes open the one `keystore_identity::keystore_url` checks.
    pub fn keystore_url(&self) -> String {
        if let Some(u) = &self.keystore_url {
            return u.clone();
        }
        let dir = self.sqlite_dir().unwrap_or_else(|| PathBuf::from("./data"));
        format!("sqlite://{}", dir.join("keystore.db").display())
    }

    pub fn sqlite_dir(&self) -> Option<PathBuf> {
        let path = self.database_url.strip_prefix("sqlite://")?;
        let path = path.split('?').next().unwrap_or(path);
        Some(
            Path::new(path)
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from(".")),
        )
    }

    pub fn worker_id(&self) -> String {
        self.worker_id.clone().unwrap_or_else(|| {
            format!(
                "worker-{}-{}",
                std::process::id(),
                &uuid::Uuid::new_v4().simple().to_string()[..8]
            )
        })
    }
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// `ORDERSYNC_METRICS_TOKEN`, else the file `ORDERSYNC_METRICS_TOKEN_FILE` or `token_file`
/// names (trimmed); a named file that cannot be read, or is empty, refuses to start.
fn metrics_token(token_file: Option<&Path>) -> anyhow::Result<Option<secrecy::SecretString>> {
    let path = match key_source("ORDERSYNC_METRICS_TOKEN") {
        MasterKeySource::Env(v) => return Ok(Some(v.into())),
        MasterKeySource::File(p) => p,
        MasterKeySource::Missing => match token_file {
            Some(p) => p.to_path_buf(),
            None => return Ok(None),
        },
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("reading the metrics token file {}", path.display()))?;
    let token = text.trim();
    anyhow::ensure!(
        !token.is_empty(),
        "the metrics token file {} is empty",
        path.display()
    );
    Ok(Some(token.to_string().into()))
}

/// Where the master key comes from.
pub enum MasterKeySource {
    Env(String),
    File(PathBuf),
    Missing,
}

pub fn master_key_source() -> MasterKeySource {
    key_source("ORDERSYNC_MASTER_KEY")
}

/// The previous master key, set only during a key rotation (docs/keys.md):
/// `ORDERSYNC_MASTER_KEY_PREVIOUS` or `ORDERSYNC_MASTER_KEY_PREVIOUS_FILE`.
pub fn previous_master_key_source() -> MasterKeySource {
    key_source("ORDERSYNC_MASTER_KEY_PREVIOUS")
}

/// `<var>` (base64) or `<var>_FILE` (a path).
fn key_source(var: &str) -> MasterKeySource {
    if let Ok(v) = std::env::var(var)
        && !v.is_empty()
    {
        return MasterKeySource::Env(v);
    }
    if let Ok(p) = std::env::var(format!("{var}_FILE"))
        && !p.is_empty()
    {
        return MasterKeySource::File(PathBuf::from(p));
    }
    MasterKeySource::Missing
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_endpoints_are_off_unless_configured() {
        assert!(!Config::default().allow_private_endpoints);
        let c: Config = toml::from_str("allow_private_endpoints = true").unwrap();
        assert!(c.allow_private_endpoints);
        assert_eq!(parse_bool(" TRUE "), Some(true));
        assert_eq!(parse_bool("0"), Some(false));
        assert_eq!(parse_bool("maybe"), None);
    }

    #[test]
    fn the_metrics_token_is_never_read_from_the_toml() {
        let c: Config =
            toml::from_str("[metrics]\nlisten = \"10.0.0.2:9100\"\ncache_secs = 5").unwrap();
        assert_eq!(c.metrics.listen.as_deref(), Some("10.0.0.2:9100"));
        assert_eq!(c.metrics.cache_secs, 5);
        assert!(toml::from_str::<Config>("[metrics]\ntoken = \"t\"").is_err());
    }
}
