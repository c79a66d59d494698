//! Live connector instances per connection, built from the registry with decrypted secrets
//! and rebuilt when the connection's `build_version` moves — in whichever process the change
//! was made (config, secrets set through the API, deletion).
//!
//! A connector's own token rotation moves only `version`, so it rebuilds nothing, here or in
//! another process: rebuilding would drop the instance's access token, its refresh would
//! rotate again and rebuild the others' — a storm. No instance needs it either, since
//! [`RefreshingToken`](ordersync_sdk::RefreshingToken) re-reads the stored refresh token
//! under the connection's fleet-wide refresh lock ([`PersistToConnection`]) before it
//! refreshes.

use crate::crypto::Crypto;
use crate::registry;
use crate::store::{ConnectionRow, Store};
use async_trait::async_trait;
use ordersync_sdk::clock::to_micros;
use ordersync_sdk::{
    Clock, ConnectorDeps, ConnectorError, FleetBudget, RefreshGuard, RefreshHold, Secrets,
    SecretsPersister, Sink, Source, http::HttpClient,
};
use secrecy::{ExposeSecret, SecretString};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// An instance and the `build_version` it was built from (`None`: installed, kept until
/// forgotten).
type Live<T> = (Option<i64>, Arc<T>);

pub struct ConnectorCache {
    store: Arc<dyn Store>,
    crypto: Arc<Crypto>,
    clock: Arc<dyn Clock>,
    http: HttpClient,
    /// The fleet's rate budgets, handed to every connector built here.
    budgets: Arc<dyn FleetBudget>,
    sources: Mutex<HashMap<String, Live<dyn Source>>>,
    sinks: Mutex<HashMap<String, Live<dyn Sink>>>,
}

/// How long a refresh may hold a connection's refresh lock (app clock) before another
/// process may take it over: a token call with its retries, with room to spare.
const REFRESH_LEASE: Duration = Duration::from_secs(120);
/// How long a refresh waits for another process's (wall time) before it fails retriably.
const REFRESH_WAIT: Duration = Duration::from_secs(30);
/// Compare-and-swap rounds of one store attempt (each lost to a concurrent write re-reads).
const SWAP_ROUNDS: usize = 4;

impl ConnectorCache {
    pub fn new(
        store: Arc<dyn Store>,
        crypto: Arc<Crypto>,
        clock: Arc<dyn Clock>,
        http: HttpClient,
    ) -> Self {
        Self {
            budgets: Arc::new(super::DbBudget::new(store.clone(), clock.clone())),
            store,
            crypto,
            clock,
            http,
            sources: Mutex::default(),
            sinks: Mutex::default(),
        }
    }

    async fn inputs(
        &self,
        c: &ConnectionRow,
    ) -> Result<(serde_json::Value, ordersync_sdk::Secrets, ConnectorDeps), ConnectorError> {
        let config: serde_json::Value = serde_json::from_str(&c.config)
            .map_err(|_| ConnectorError::permanent("stored config is not JSON"))?;
        let secrets = match &c.secrets_ct {
            Some(ct) => self
                .crypto
                .open_secrets(&c.merchant_id, &c.id, ct, self.clock.now())
                .await
                .map_err(|e| {
                    let msg = format!("cannot decrypt connection secrets: {e}");
                    // A keystore outage or a master key version this process lacks.
                    if e.is_transient() {
                        ConnectorError::retriable(msg)
                    } else {
                        ConnectorError::permanent(msg)
                    }
                })?,
            None => Default::default(),
        };
        let deps = ConnectorDeps {
            http: self.http.clone(),
            clock: self.clock.clone(),
            secrets: Arc::new(PersistToConnection(Arc::new(Target {
                store: self.store.clone(),
                crypto: self.crypto.clone(),
                clock: self.clock.clone(),
                merchant_id: c.merchant_id.clone(),
                connection_id: c.id.clone(),
            }))),
            budgets: self.budgets.clone(),
        };
        Ok((config, secrets, deps))
    }

    /// The live source of connection `c` (a row just read: a claim's), rebuilt when its
    /// `build_version` moved.
    pub async fn source(&self, c: &ConnectionRow) -> Result<Arc<dyn Source>, ConnectorError> {
        if let Some((v, s)) = self
            .sources
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&c.id)
            && v.is_none_or(|v| v == c.build_version)
        {
            return Ok(s.clone());
        }
        let (config, secrets, deps) = self.inputs(c).await?;
        let s = registry::build_source(&c.kind, &config, &secrets, &deps)?;
        self.sources
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(c.id.clone(), (Some(c.build_version), s.clone()));
        Ok(s)
    }

    /// The live sink of a connection as it is stored now: the row is read (one lookup by
    /// primary key) so that a change made in any process is seen; a deleted sink is
    /// dropped and refused, a paused one refused (retriable), and the instance rebuilt when
    /// the row's `build_version` moved.
    pub async fn sink(&self, sink_id: &str) -> Result<Arc<dyn Sink>, ConnectorError> {
        let row = self
            .store
            .get_connection(sink_id)
            .await
            .map_err(|_| ConnectorError::retriable("database unavailable"))?;
        let c = match row {
            Some(c) if c.state != "deleted" => c,
            _ => {
                self.forget(sink_id);
                return Err(ConnectorError::permanent(
                    "sink connection no longer exists",
                ));
            }
        };
        if c.state != "active" {
            return Err(ConnectorError::retriable(format!(
                "sink connection is {}",
                c.state
            )));
        }
        if let Some((v, s)) = self
            .sinks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(sink_id)
            && v.is_none_or(|v| v == c.build_version)
        {
            return Ok(s.clone());
        }
        let (config, secrets, deps) = self.inputs(&c).await?;
        let s = registry::build_sink(&c.kind, &config, &secrets, &deps)?;
        self.sinks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(c.id.clone(), (Some(c.build_version), s.clone()));
        Ok(s)
    }

    /// Uses `s` as the live source of connection `c` until its `build_version` moves
    /// (embedding, and tests that need a misbehaving connector without a kind in the
    /// registry).
    pub fn install_source(&self, c: &ConnectionRow, s: Arc<dyn Source>) {
        self.sources
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(c.id.clone(), (Some(c.build_version), s));
    }

    /// Uses `s` as the live sink of connection `sink_id` until it is forgotten (see
    /// [`Self::install_source`]); a paused or deleted connection still refuses it.
    pub fn install_sink(&self, sink_id: &str, s: Arc<dyn Sink>) {
        self.sinks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(sink_id.to_string(), (None, s));
    }

    /// Drops cached instances of a connection at once (after a change made in this process;
    /// other processes see its `build_version` move).
    pub fn forget(&self, connection_id: &str) {
        self.sources
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(connection_id);
        self.sinks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(connection_id);
    }
}

/// The connection a persister writes to.
struct Target {
    store: Arc<dyn Store>,
    crypto: Arc<Crypto>,
    clock: Arc<dyn Clock>,
    merchant_id: String,
    connection_id: String,
}

fn db_error(_: sqlx::Error) -> ConnectorError {
    ConnectorError::retriable("database unavailable")
}

impl Target {
    /// The live row and its opened secrets; a deleted connection is a permanent error.
    async fn read(&self) -> Result<(ConnectionRow, Secrets), ConnectorError> {
        let c = self
            .store
            .get_connection(&self.connection_id)
            .await
            .map_err(db_error)?
            .filter(|c| c.state != "deleted")
            .ok_or_else(|| ConnectorError::permanent("connection deleted"))?;
        let secrets = match &c.secrets_ct {
            Some(ct) => self
                .crypto
                .open_secrets(&self.merchant_id, &self.connection_id, ct, self.clock.now())
                .await
                .map_err(|e| {
                    if e.is_transient() {
                        ConnectorError::retriable("cannot decrypt connection secrets")
                    } else {
                        ConnectorError::permanent("cannot decrypt connection secrets")
                    }
                })?,
            None => Secrets::new(),
        };
        Ok((c, secrets))
    }

    /// Stores `name = value`, compare-and-swap on the row's version (a write that came
    /// between is re-read and merged). With `used`, only while the stored value is still that
    /// one: otherwise someone stored a newer one (the merchant re-authorised), which wins.
    async fn store(
        &self,
        name: &str,
        used: Option<&SecretString>,
        value: &SecretString,
    ) -> Result<(), ConnectorError> {
        for _ in 0..SWAP_ROUNDS {
            let (c, mut secrets) = self.read().await?;
            if let (Some(used), Some(now)) = (used, secrets.get(name))
                && now.expose_secret() != used.expose_secret()
            {
                tracing::info!(connection = %self.connection_id, "A rotated secret was superseded by a newer stored one; the stored one stays.");
                return Ok(());
            }
            secrets.insert(name.to_string(), value.clone());
            let sealed = self
                .crypto
                .seal_secrets(
                    &self.merchant_id,
                    &self.connection_id,
                    &secrets,
                    self.clock.now(),
                )
                .await
                .map_err(|_| ConnectorError::retriable("cannot encrypt connection secrets"))?;
            let swapped = self
                .store
                .swap_connection_secrets(&self.connection_id, &sealed, c.version)
                .await
                .map_err(|e| {
                    tracing::warn!(connection = %self.connection_id, "Storing a rotated secret failed.");
                    db_error(e)
                })?;
            if swapped.is_some() {
                return Ok(());
            }
        }
        Err(ConnectorError::retriable(
            "connection changed while storing a rotated secret",
        ))
    }
}

/// Persists rotated secrets (refresh tokens) of one connection, encrypted, before they are
/// used, and makes refreshes single-flight across every process sharing the database.
struct PersistToConnection(Arc<Target>);

/// The refresh lock of one connection, taken by one refresh (its owner is unique to it).
struct HeldRefresh {
    target: Arc<Target>,
    name: String,
    owner: String,
}

#[async_trait]
impl RefreshHold for HeldRefresh {
    async fn commit(
        &self,
        used: &SecretString,
        value: &SecretString,
    ) -> Result<(), ConnectorError> {
        self.target.store(&self.name, Some(used), value).await
    }

    async fn release(&self) {
        let t = &self.target;
        if t.store
            .unlock_connection_refresh(&t.connection_id, &self.owner)
            .await
            .is_err()
        {
            tracing::warn!(connection = %t.connection_id, "Could not release a refresh lock; it will expire.");
        }
    }
}

#[async_trait]
impl SecretsPersister for PersistToConnection {
    async fn persist(&self, name: &str, value: &SecretString) -> Result<(), ConnectorError> {
        self.0.store(name, None, value).await
    }

    async fn begin_refresh(&self, name: &str) -> Result<RefreshGuard, ConnectorError> {
        let t = &self.0;
        let owner = uuid::Uuid::new_v4().to_string();
        let started = std::time::Instant::now();
        let mut pause = Duration::from_millis(20);
        loop {
            let now = to_micros(t.clock.now());
            let until = now + REFRESH_LEASE.as_micros() as i64;
            if t.store
                .lock_connection_refresh(&t.connection_id, &owner, now, until)
                .await
                .map_err(db_error)?
            {
                break;
            }
            // Another process is refreshing, unless the connection is gone.
            let alive = t
                .store
                .get_connection(&t.connection_id)
                .await
                .map_err(db_error)?
                .is_some_and(|c| c.state != "deleted");
            if !alive {
                return Err(ConnectorError::permanent("connection deleted"));
            }
            if started.elapsed() >= REFRESH_WAIT {
                return Err(ConnectorError::retriable(
                    "another process is refreshing this connection's token",
                ));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(500));
        }
        let held = HeldRefresh {
            target: t.clone(),
            name: name.to_string(),
            owner,
        };
        match t.read().await {
            Ok((_, secrets)) => Ok(RefreshGuard::new(
                secrets.get(name).cloned(),
                Box::new(held),
            )),
            Err(e) => {
                held.release().await;
                Err(e)
            }
        }
    }
}
