//! Wiring: configuration → master key → keystore → crypto → store (migrated) → the
//! keystore's identity (`keystore_identity`) → engine. The master key is checked before
//! anything is created or migrated, so a wrong key refuses to start and touches nothing.

use crate::config::{Config, MasterKeySource, master_key_source, previous_master_key_source};
use crate::crypto::Crypto;
use crate::crypto::kek::{LocalKek, MasterKeys};
use crate::crypto::keystore::Keystore;
use crate::engine::Engine;
use crate::keystore_identity;
use crate::store::{self, Store};
use anyhow::{Context, bail};
use ordersync_sdk::Clock;
use ordersync_sdk::http::{HttpClient, HttpOptions};
use std::path::Path;
use std::sync::Arc;

pub struct App {
    pub cfg: Config,
    pub store: Arc<dyn Store>,
    pub crypto: Arc<Crypto>,
    pub clock: Arc<dyn Clock>,
    pub http: HttpClient,
}

/// How to obtain the master key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyPolicy {
    /// From the environment only; refuse to start without it.
    Required,
    /// From the environment, else generated once into the data dir (`serve --dev`, demo).
    DevFile,
}

/// The master keys: `ORDERSYNC_MASTER_KEY` (or `_FILE`, or the dev key) and, during a
/// rotation, `ORDERSYNC_MASTER_KEY_PREVIOUS` (or `_FILE`).
pub fn load_master_key(policy: KeyPolicy, data_dir: &Path) -> anyhow::Result<MasterKeys> {
    let b64 = match master_key_source() {
        MasterKeySource::Env(v) => v,
        MasterKeySource::File(p) => std::fs::read_to_string(&p)
            .with_context(|| format!("reading ORDERSYNC_MASTER_KEY_FILE {}", p.display()))?,
        MasterKeySource::Missing if policy == KeyPolicy::DevFile => dev_key(data_dir)?,
        MasterKeySource::Missing => bail!(
            "no master key: set ORDERSYNC_MASTER_KEY (base64 of 32 bytes) or ORDERSYNC_MASTER_KEY_FILE, or use --dev for a local development key"
        ),
    };
    let kek =
        LocalKek::from_base64(&b64).map_err(|e| anyhow::anyhow!("invalid master key: {e}"))?;
    let mut keys = MasterKeys::new(Arc::new(kek));
    let previous = match previous_master_key_source() {
        MasterKeySource::Env(v) => Some(v),
        MasterKeySource::File(p) => Some(std::fs::read_to_string(&p).with_context(|| {
            format!("reading ORDERSYNC_MASTER_KEY_PREVIOUS_FILE {}", p.display())
        })?),
        MasterKeySource::Missing => None,
    };
    if let Some(b64) = previous {
        let kek = LocalKek::from_base64(&b64)
            .map_err(|e| anyhow::anyhow!("invalid previous master key: {e}"))?;
        keys = keys.with_previous(Arc::new(kek));
    }
    Ok(keys)
}

fn dev_key(dir: &Path) -> anyhow::Result<String> {
    let path = dir.join("master.key");
    if let Ok(k) = std::fs::read_to_string(&path) {
        return Ok(k);
    }
    std::fs::create_dir_all(dir)?;
    let key = LocalKek::generate_base64();
    write_private(&path, &key)?;
    tracing::warn!(path = %path.display(), "Generated a development master key; do not use it in production.");
    Ok(key)
}

fn write_private(path: &Path, content: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(content.as_bytes())?;
    Ok(())
}

async fn open_store(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    let store = store::connect(url).await.context("opening the database")?;
    store.migrate().await.context("applying migrations")?;
    Ok(store)
}

impl App {
    /// `keys`: one master key (`Arc<LocalKek>`, …) or [`MasterKeys`] during a rotation.
    pub async fn open(
        cfg: Config,
        keys: impl Into<MasterKeys>,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<App> {
        let keystore_url = keystore_identity::keystore_url(&cfg)?;
        let keystore = Keystore::connect(&keystore_url)
            .await
            .context("opening the keystore")?;
        // A keystore holding nothing yet (a first start, or a mistyped URL) is checked against
        // the orders database before its first key is written, so a wrong URL leaves it empty;
        // no master key can be wrong for it. Otherwise the key is checked first.
        let empty = keystore.is_empty().await.context("reading the keystore")?;
        let (crypto, store) = if empty {
            let store = open_store(&cfg.database_url).await?;
            keystore_identity::refuse_empty_keystore(&*store, &keystore, &keystore_url).await?;
            (Crypto::open(keys, keystore, clock.now()).await?, store)
        } else {
            let crypto = Crypto::open(keys, keystore, clock.now()).await?;
            (crypto, open_store(&cfg.database_url).await?)
        };
        keystore_identity::bind(&*store, &crypto, &keystore_url, clock.now()).await?;
        let http = HttpClient::new(HttpOptions {
            allow_private_endpoints: cfg.allow_private_endpoints,
            ..HttpOptions::default()
        })?;
        Ok(App {
            cfg,
            store,
            crypto: Arc::new(crypto),
            clock,
            http,
        })
    }

    pub fn engine(&self) -> Engine {
        Engine::new(
            self.store.clone(),
            self.crypto.clone(),
            self.clock.clone(),
            self.http.clone(),
            self.cfg.engine.clone(),
            self.cfg.retention.clone(),
            self.cfg.worker_id(),
        )
    }
}
