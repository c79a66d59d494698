//! Live connector instances per connection, built from the registry with decrypted secrets
//! and rebuilt when a connection's config or secrets change.

use crate::crypto::Crypto;
use crate::registry;
use crate::store::{ConnectionRow, Store};
use async_trait::async_trait;
use ordersync_sdk::{
    Clock, ConnectorDeps, ConnectorError, SecretsPersister, Sink, Source, http::HttpClient,
};
use secrecy::SecretString;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

type Versioned<T> = (u64, Arc<T>);

pub struct ConnectorCache {
    store: Arc<dyn Store>,
    crypto: Arc<Crypto>,
    clock: Arc<dyn Clock>,
    http: HttpClient,
    sources: Mutex<HashMap<String, Versioned<dyn Source>>>,
    sinks: Mutex<HashMap<String, Versioned<dyn Sink>>>,
}

/// Instances are rebuilt when the config changes. Not on secrets changes: a connector's own
/// token rotation rewrites them, and its live instance already holds the new token (an API
/// secrets update calls [`ConnectorCache::forget`]).
fn fingerprint(c: &ConnectionRow) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    c.config.hash(&mut h);
    h.finish()
}

impl ConnectorCache {
    pub fn new(
        store: Arc<dyn Store>,
        crypto: Arc<Crypto>,
        clock: Arc<dyn Clock>,
        http: HttpClient,
    ) -> Self {
        Self {
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
            secrets: Arc::new(PersistToConnection {
                store: self.store.clone(),
                crypto: self.crypto.clone(),
                clock: self.clock.clone(),
                merchant_id: c.merchant_id.clone(),
                connection_id: c.id.clone(),
            }),
        };
        Ok((config, secrets, deps))
    }

    pub async fn source(&self, c: &ConnectionRow) -> Result<Arc<dyn Source>, ConnectorError> {
        let fp = fingerprint(c);
        if let Some((v, s)) = self
            .sources
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&c.id)
            && *v == fp
        {
            return Ok(s.clone());
        }
        let (config, secrets, deps) = self.inputs(c).await?;
        let s = registry::build_source(&c.kind, &config, &secrets, &deps)?;
        self.sources
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(c.id.clone(), (fp, s.clone()));
        Ok(s)
    }

    pub async fn sink(&self, sink_id: &str) -> Result<Arc<dyn Sink>, ConnectorError> {
        if let Some((_, s)) = self
            .sinks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(sink_id)
        {
            return Ok(s.clone());
        }
        let c = self
            .store
            .get_connection(sink_id)
            .await
            .map_err(|_| ConnectorError::retriable("database unavailable"))?
            .ok_or_else(|| ConnectorError::permanent("sink connection no longer exists"))?;
        let (config, secrets, deps) = self.inputs(&c).await?;
        let s = registry::build_sink(&c.kind, &config, &secrets, &deps)?;
        self.sinks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(c.id.clone(), (fingerprint(&c), s.clone()));
        Ok(s)
    }

    /// Uses `s` as the live source of connection `c` until its config changes (embedding, and
    /// tests that need a misbehaving connector without a kind in the registry).
    pub fn install_source(&self, c: &ConnectionRow, s: Arc<dyn Source>) {
        self.sources
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(c.id.clone(), (fingerprint(c), s));
    }

    /// Uses `s` as the live sink of connection `sink_id` (see [`Self::install_source`]).
    pub fn install_sink(&self, sink_id: &str, s: Arc<dyn Sink>) {
        self.sinks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(sink_id.to_string(), (0, s));
    }

    /// Drops cached instances of a connection (after PATCH or a secrets change).
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

/// Persists a rotated secret (refresh token) of one connection, encrypted, before it is used.
struct PersistToConnection {
    store: Arc<dyn Store>,
    crypto: Arc<Crypto>,
    clock: Arc<dyn Clock>,
    merchant_id: String,
    connection_id: String,
}

#[async_trait]
impl SecretsPersister for PersistToConnection {
    async fn persist(&self, name: &str, value: &SecretString) -> Result<(), ConnectorError> {
        let fail = |_| ConnectorError::retriable("cannot persist rotated secret");
        let now = self.clock.now();
        let c = self
            .store
            .get_connection(&self.connection_id)
            .await
            .map_err(fail)?
            .ok_or_else(|| ConnectorError::permanent("connection deleted"))?;
        let mut secrets = match &c.secrets_ct {
            Some(ct) => self
                .crypto
                .open_secrets(&self.merchant_id, &self.connection_id, ct, now)
                .await
                .map_err(|_| ConnectorError::permanent("cannot decrypt connection secrets"))?,
            None => Default::default(),
        };
        secrets.insert(name.to_string(), value.clone());
        let sealed = self
            .crypto
            .seal_secrets(&self.merchant_id, &self.connection_id, &secrets, now)
            .await
            .map_err(|_| ConnectorError::permanent("cannot encrypt connection secrets"))?;
        self.store
            .set_connection_secrets(&self.connection_id, &sealed)
            .await
            .map_err(fail)
    }
}
