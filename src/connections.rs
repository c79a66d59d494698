//! The one connection lifecycle: validate → SSRF check → seal secrets → write → audit → drop
//! cached instances. The admin API and the demo both go through it, so nothing writes a
//! connection row that skipped validation or the audit log.

use crate::crypto::{Crypto, CryptoError};
use crate::engine::ConnectorCache;
use crate::registry;
use crate::store::{ConnectionRow, Store};
use ordersync_sdk::clock::to_micros;
use ordersync_sdk::{Clock, ConnectorDeps, Descriptor, Factory, Secrets};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    /// Bad input; the message names the field, never a secret value.
    #[error("{0}")]
    Invalid(String),
    #[error("no such connection")]
    NotFound,
    /// The connection kept changing under the update (a worker rotating its token).
    #[error("the connection changed meanwhile; try again")]
    Conflict,
    #[error("database: {0}")]
    Store(#[from] sqlx::Error),
    #[error("crypto: {0}")]
    Crypto(#[from] CryptoError),
}

fn invalid(msg: impl Into<String>) -> LifecycleError {
    LifecycleError::Invalid(msg.into())
}

/// A connection to create.
pub struct NewConnection {
    pub kind: String,
    pub name: Option<String>,
    pub config: Value,
    pub secrets: Secrets,
}

/// A partial update. `secrets` are merged into the stored ones, except when a URL-valued
/// field changes: then they *replace* the stored credentials (and must be present), so stored
/// tokens are never sent to a host the merchant did not authorise them for. Only the webhook
/// secret, which is never sent out, is kept.
#[derive(Default, Clone)]
pub struct ConnectionPatch {
    pub name: Option<String>,
    pub config: Option<Value>,
    pub secrets: Option<Secrets>,
    pub state: Option<String>,
}

/// Who acts, for the audit log (`merchant`, `operator`, `demo`).
pub struct Actor<'a>(pub &'a str);

pub struct Lifecycle<'a> {
    pub store: &'a Arc<dyn Store>,
    pub crypto: &'a Crypto,
    pub clock: &'a dyn Clock,
    pub allow_private_endpoints: bool,
    /// Live connector instances to drop after a change (absent in tools without a worker).
    pub cache: Option<&'a ConnectorCache>,
}

fn descriptor(kind: &str) -> Result<&'static Descriptor, LifecycleError> {
    registry::lookup(kind).ok_or_else(|| {
        let known: Vec<&str> = registry::KINDS.iter().map(|k| k.kind).collect();
        invalid(format!(
            "unknown connection kind {kind:?} (known: {})",
            known.join(", ")
        ))
    })
}

/// Every URL-valued config field of the kind, plus any `*_url` field, passes the SSRF guard.
fn check_urls(d: &Descriptor, config: &Value, allow_private: bool) -> Result<(), LifecycleError> {
    let Some(obj) = config.as_object() else {
        return Err(invalid("config must be an object"));
    };
    for (key, v) in obj {
        if !(d.url_fields.contains(&key.as_str()) || key.ends_with("_url")) {
            continue;
        }
        let Some(u) = v.as_str() else {
            if v.is_null() {
                continue;
            }
            return Err(invalid(format!("{key}: must be a string URL")));
        };
        crate::api::ssrf::check(u, allow_private).map_err(|e| invalid(format!("{key}: {e}")))?;
    }
    Ok(())
}

/// Secrets must be non-empty where given (an empty webhook secret would verify nothing), and
/// named as the kind declares them.
fn check_secrets(d: &Descriptor, secrets: &Secrets) -> Result<(), LifecycleError> {
    for (name, v) in secrets {
        if !d.secret_names().any(|n| n == name) {
            let known: Vec<&str> = d.secret_names().collect();
            return Err(invalid(format!(
                "unknown secret {name:?} for kind {} (known: {})",
                d.kind,
                known.join(", ")
            )));
        }
        if v.expose_secret().trim().is_empty() {
            return Err(invalid(format!("secret {name:?} must not be empty")));
        }
    }
    for s in d.secrets.iter().filter(|s| s.required) {
        if !secrets.contains_key(s.name) {
            return Err(invalid(format!("missing secret {:?}", s.name)));
        }
    }
    Ok(())
}

/// Builds the connector once (no I/O) so bad config is refused before anything is stored.
fn build_check(d: &Descriptor, config: &Value, secrets: &Secrets) -> Result<(), LifecycleError> {
    let deps = ConnectorDeps::standalone();
    let res = match d.factory {
        Factory::Source(f) => f(config, secrets, &deps).map(|_| ()),
        Factory::Sink(f) => f(config, secrets, &deps).map(|_| ()),
    };
    res.map_err(|e| invalid(e.to_string()))
}

fn validate(
    d: &Descriptor,
    config: &Value,
    secrets: &Secrets,
    allow_private: bool,
) -> Result<(), LifecycleError> {
    check_urls(d, config, allow_private)?;
    check_secrets(d, secrets)?;
    build_check(d, config, secrets)
}

/// URL-valued fields whose value differs between two configs.
fn moved_urls(d: &Descriptor, old: &Value, new: &Value) -> Vec<String> {
    let mut keys: Vec<&str> = d.url_fields.to_vec();
    for cfg in [old, new] {
        if let Some(o) = cfg.as_object() {
            keys.extend(o.keys().map(String::as_str).filter(|k| k.ends_with("_url")));
        }
    }
    keys.sort_unstable();
    keys.dedup();
    keys.into_iter()
        .filter(|k| old.get(k) != new.get(k))
        .map(str::to_string)
        .collect()
}

impl Lifecycle<'_> {
    fn now(&self) -> i64 {
        to_micros(self.clock.now())
    }

    pub async fn create(
        &self,
        merchant: &str,
        actor: Actor<'_>,
        input: NewConnection,
    ) -> Result<ConnectionRow, LifecycleError> {
        let d = descriptor(&input.kind)?;
        let config = if input.config.is_null() {
            json!({})
        } else {
            input.config
        };
        validate(d, &config, &input.secrets, self.allow_private_endpoints)?;
        let name = input.name.unwrap_or_else(|| d.kind.to_string());
        if name.trim().is_empty() || name.len() > 200 {
            return Err(invalid("name must be 1-200 characters"));
        }
        let id = uuid::Uuid::now_v7().to_string();
        let secrets_ct = if input.secrets.is_empty() {
            None
        } else {
            Some(
                self.crypto
                    .seal_secrets(merchant, &id, &input.secrets, self.clock.now())
                    .await?,
            )
        };
        let now = self.now();
        let row = ConnectionRow {
            id: id.clone(),
            merchant_id: merchant.to_string(),
            kind: d.kind.to_string(),
            role: d.role().to_string(),
            name,
            config: config.to_string(),
            secrets_ct,
            state: "active".into(),
            next_pull_at: now,
            last_pull_at: None,
            last_error: None,
            created_at: now,
            version: 1,
            build_version: 1,
        };
        self.store.insert_connection(&row).await?;
        self.store
            .audit(
                Some(merchant),
                actor.0,
                "connection.created",
                Some(&id),
                Some(d.kind),
                now,
            )
            .await?;
        self.forget(&id);
        Ok(row)
    }

    /// The merchant's live connection, or `NotFound` (also for another merchant's id).
    pub async fn owned(&self, merchant: &str, id: &str) -> Result<ConnectionRow, LifecycleError> {
        match self.store.get_connection(id).await? {
            Some(c) if c.merchant_id == merchant && c.state != "deleted" => Ok(c),
            _ => Err(LifecycleError::NotFound),
        }
    }

    pub async fn update(
        &self,
        merchant: &str,
        actor: Actor<'_>,
        id: &str,
        patch: ConnectionPatch,
    ) -> Result<ConnectionRow, LifecycleError> {
        for _ in 0..3 {
            if let Some(row) = self.try_update(merchant, &actor, id, patch.clone()).await? {
                return Ok(row);
            }
        }
        Err(LifecycleError::Conflict)
    }

    /// One attempt of [`Lifecycle::update`]; `None` when the stored secrets changed after
    /// they were read (nothing was written then).
    async fn try_update(
        &self,
        merchant: &str,
        actor: &Actor<'_>,
        id: &str,
        patch: ConnectionPatch,
    ) -> Result<Option<ConnectionRow>, LifecycleError> {
        let mut c = self.owned(merchant, id).await?;
        let d = descriptor(&c.kind)?;
        if let Some(n) = patch.name {
            if n.trim().is_empty() || n.len() > 200 {
                return Err(invalid("name must be 1-200 characters"));
            }
            c.name = n;
        }
        if let Some(st) = patch.state {
            if !["active", "paused"].contains(&st.as_str()) {
                return Err(invalid("state must be active or paused"));
            }
            c.state = st;
        }
        let old_config: Value = serde_json::from_str(&c.config).unwrap_or_else(|_| json!({}));
        let config = match patch.config {
            Some(cfg) if cfg.is_object() => cfg,
            Some(_) => return Err(invalid("config must be an object")),
            None => old_config.clone(),
        };
        let moved = moved_urls(d, &old_config, &config);
        let secrets = match (&patch.secrets, moved.is_empty()) {
            (None, false) => {
                return Err(invalid(format!(
                    "changing {} requires sending the connection's secrets again",
                    moved.join(", ")
                )));
            }
            // The endpoint moved: only the secrets sent with this change go there. The webhook
            // secret is never sent anywhere (it verifies what comes in), so it stays.
            (Some(new), false) => {
                let mut s = new.clone();
                if let (Some(w), Some(ct)) = (d.webhook, &c.secrets_ct) {
                    let old = self
                        .crypto
                        .open_secrets(merchant, id, ct, self.clock.now())
                        .await?;
                    if let Some(v) = old.get(w.secret)
                        && !s.contains_key(w.secret)
                    {
                        s.insert(w.secret.to_string(), v.clone());
                    }
                }
                s
            }
            (new, true) => {
                let mut s = match &c.secrets_ct {
                    Some(ct) => {
                        self.crypto
                            .open_secrets(merchant, id, ct, self.clock.now())
                            .await?
                    }
                    None => Secrets::new(),
                };
                for (k, v) in new.iter().flatten() {
                    s.insert(k.clone(), v.clone());
                }
                s
            }
        };
        validate(d, &config, &secrets, self.allow_private_endpoints)?;
        c.config = config.to_string();
        if patch.secrets.is_some() {
            let sealed = self
                .crypto
                .seal_secrets(merchant, id, &secrets, self.clock.now())
                .await?;
            // Compare-and-swap on the version the merged secrets were read at: a refresh
            // token a worker rotated meanwhile is never overwritten by the used-up one.
            if !self
                .store
                .set_connection_secrets(id, &sealed, c.version)
                .await?
            {
                return Ok(None);
            }
            // New credentials: what waited on the old ones (a rejected token) goes now.
            if c.role == "sink" {
                self.store.rearm_deliveries(id, self.now()).await?;
            }
        }
        self.store.update_connection(&c).await?;
        self.forget(id);
        let detail = (!moved.is_empty()).then(|| format!("moved: {}", moved.join(", ")));
        self.store
            .audit(
                Some(merchant),
                actor.0,
                "connection.updated",
                Some(id),
                detail.as_deref(),
                self.now(),
            )
            .await?;
        self.owned(merchant, id).await.map(Some)
    }

    pub async fn delete(
        &self,
        merchant: &str,
        actor: Actor<'_>,
        id: &str,
    ) -> Result<(), LifecycleError> {
        self.owned(merchant, id).await?;
        self.store.delete_connection(id).await?;
        self.forget(id);
        self.store
            .audit(
                Some(merchant),
                actor.0,
                "connection.deleted",
                Some(id),
                None,
                self.now(),
            )
            .await?;
        Ok(())
    }

    fn forget(&self, id: &str) {
        if let Some(c) = self.cache {
            c.forget(id);
        }
    }
}
