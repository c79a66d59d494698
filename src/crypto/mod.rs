//! Envelope encryption (ARCHITECTURE §6): master KEK → tenant key (per merchant) → epoch key
//! (per merchant per ISO week of the order's scheduled purge) → DEK (per order).
//!
//! Stored forms are versioned. New rows: `pii:v2:<b64(nonce‖ct‖tag)>` for the PII blob (AAD:
//! the row's identity — merchant, marketplace, connection, external id and our order id — no
//! key id) and `dek:v2:<epoch_key_id>:<b64(nonce‖wrapped‖tag)>` for the
//! DEK, whose AAD binds the row and the epoch key that wraps it, so a DEK can move to another
//! epoch ([`Crypto::rewrap_dek`]) without touching the blob. Older rows are read as they are:
//! `pii:v1:<epoch_key_id>:…` (AAD binds that key id) with `dek:v1:…` (wrapped under that key),
//! or, once re-wrapped, with a `dek:v2:`. Every AAD is re-derived from the row being decrypted,
//! so a ciphertext copied to another row, tenant or field fails to open.
//!
//! Files: `envelope.rs` stored forms and AADs, `rotation.rs` master key rotation, `kek.rs`
//! master keys, `keystore.rs` the key database, `failures.rs` decrypt-failure counts,
//! `aead.rs` AES-256-GCM.
//!
//! Master key versions and rotation, the envelope versions and the purpose of each key kind:
//! `docs/keys.md`.

pub mod aead;
mod envelope;
pub mod failures;
pub mod kek;
pub mod keystore;
mod rotation;

pub use rotation::{KeyVersionStatus, RotationReport};

use aead::{Key32, OpenError};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use envelope::*;
use failures::{DecryptFailures, KeyKind, Reason};
use hmac::{Hmac, KeyInit, Mac};
use kek::{KeyEncryptionKey, MasterKeys};
use keystore::{KeyRow, Keystore};
use ordersync_sdk::{Pii, Secrets};
use secrecy::ExposeSecret;
use sha2::Sha256;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use time::OffsetDateTime;

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error(
        "the master key does not match this keystore (wrong ORDERSYNC_MASTER_KEY? To rotate to a new key, set the current one as ORDERSYNC_MASTER_KEY_PREVIOUS)"
    )]
    WrongMasterKey,
    #[error(
        "ORDERSYNC_MASTER_KEY_PREVIOUS (version {0}) is not a master key version of this keystore"
    )]
    WrongPreviousMasterKey(String),
    #[error(
        "master key version {0} has been retired by `ordersync keys rotate` and is refused; start with the current master key (ORDERSYNC_MASTER_KEY)"
    )]
    RetiredMasterKey(String),
    #[error(
        "a key is wrapped by master key version {version}, which this process does not hold (it holds {held}); restart it with the current ORDERSYNC_MASTER_KEY"
    )]
    MasterKeyUnavailable { version: String, held: String },
    #[error("key rotation did not finish: {0}")]
    RotationIncomplete(String),
    #[error("{0}")]
    Open(#[from] OpenError),
    #[error("malformed ciphertext envelope")]
    Malformed,
    #[error("key {0} has been destroyed (crypto-shredded)")]
    Destroyed(String),
    #[error("keystore: {0}")]
    Keystore(#[from] sqlx::Error),
}

impl CryptoError {
    /// Whether the same call can succeed later without the data changing: a keystore outage,
    /// or a master key version this process does not (or no longer) hold, fixed by restarting
    /// it with the current key. Callers retry these instead of treating the data as lost.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            CryptoError::Keystore(_)
                | CryptoError::MasterKeyUnavailable { .. }
                | CryptoError::RetiredMasterKey(_)
        )
    }

    /// The `reason` label of a decrypt failure (`None`: not a failure of the data or key).
    fn reason(&self) -> Option<Reason> {
        match self {
            CryptoError::Open(_) | CryptoError::WrongMasterKey => Some(Reason::Auth),
            CryptoError::Malformed => Some(Reason::Malformed),
            CryptoError::Destroyed(_) => Some(Reason::KeyDestroyed),
            CryptoError::MasterKeyUnavailable { .. } => Some(Reason::KeyUnavailable),
            CryptoError::RetiredMasterKey(_) => Some(Reason::KeyRetired),
            CryptoError::WrongPreviousMasterKey(_)
            | CryptoError::RotationIncomplete(_)
            | CryptoError::Keystore(_) => None,
        }
    }
}

/// What the orders table stores for one order's PII.
#[derive(Debug, Clone)]
pub struct SealedPii {
    pub pii_ct: String,
    pub dek: String,
}

/// The identity a PII blob is bound to (its AAD). `v2` envelopes bind all of it; `v1`
/// envelopes (sealed before connection and order ids were bound) only merchant, marketplace
/// and external id, and still open.
#[derive(Debug, Clone, Copy)]
pub struct PiiRow<'a> {
    pub merchant_id: &'a str,
    pub marketplace: &'a str,
    pub external_id: &'a str,
    /// The source connection the order was read from (`orders.connection_id`).
    pub connection_id: &'a str,
    /// Our order id (`orders.id`).
    pub order_id: &'a str,
}

/// How long an unwrapped key is used from memory before the keystore is asked again.
const CACHE_TTL: time::Duration = time::Duration::minutes(5);

/// (merchant, kind, scope) of a cached key.
type CacheKey = (String, &'static str, String);

pub struct Crypto {
    /// The master keys this process holds (current + previous during a rotation), without
    /// the versions found retired at open.
    keys: MasterKeys,
    keystore: Keystore,
    /// Unwrapped tenant/epoch/index keys by (merchant, kind, scope). DEKs are never cached.
    cache: Mutex<HashMap<CacheKey, (String, Key32, OffsetDateTime)>>,
    failures: DecryptFailures,
}

const CHECK_AAD: &[u8] = b"ordersync|kek-check|v1";

impl Crypto {
    /// Opens the hierarchy and proves the master keys belong to this keystore: each master key
    /// version has a check row (a key wrapped under it). The current key must open its own, or,
    /// when the keystore does not know it yet, a previous key must open its own (that is how a
    /// rotation's new key is accepted, and its check row created); a fresh keystore takes the
    /// first key it sees. A wrong key, or a key whose version `keys rotate` retired, refuses to
    /// start, touching nothing else. Previous keys that are retired are dropped (and logged).
    pub async fn open(
        keys: impl Into<MasterKeys>,
        keystore: Keystore,
        now: OffsetDateTime,
    ) -> Result<Self, CryptoError> {
        let mut keys = keys.into();
        let mut checks = keystore.check_rows().await?;
        // A keystore from before versions were recorded: one check row without a version,
        // wrapped (like every tenant key) by the key that opens it.
        if let Some(legacy) = checks
            .iter()
            .find(|r| r.kek_version.is_none() && r.destroyed_at.is_none())
        {
            let blob = decode_b64(&legacy.wrapped)?;
            let k = keys
                .all()
                .find(|k| k.unwrap(&blob, CHECK_AAD).is_ok())
                .ok_or(CryptoError::WrongMasterKey)?;
            keystore.backfill_kek_version(k.version()).await?;
            checks = keystore.check_rows().await?;
        }
        let version_of = |r: &KeyRow| r.kek_version.clone().unwrap_or_default();
        let retired: std::collections::HashSet<String> = checks
            .iter()
            .filter(|r| r.destroyed_at.is_some())
            .map(version_of)
            .collect();
        let live: HashMap<String, &KeyRow> = checks
            .iter()
            .filter(|r| r.destroyed_at.is_none())
            .map(|r| (version_of(r), r))
            .collect();
        let current = keys.current().clone();
        let version = current.version().to_string();
        if retired.contains(&version) {
            return Err(CryptoError::RetiredMasterKey(version));
        }
        let previous: Vec<_> = keys.previous().to_vec();
        for p in previous {
            let v = p.version().to_string();
            if retired.contains(&v) {
                tracing::warn!(version = %v, "ORDERSYNC_MASTER_KEY_PREVIOUS is a retired master key version; it is not used and can be removed.");
                keys.drop_previous(&v);
                continue;
            }
            let row = live
                .get(&v)
                .ok_or_else(|| CryptoError::WrongPreviousMasterKey(v.clone()))?;
            check(&*p, row).map_err(|_| CryptoError::WrongPreviousMasterKey(v.clone()))?;
        }
        match live.get(&version) {
            Some(row) => check(&*current, row)?,
            None => {
                // New to this keystore: the first key of a fresh keystore (scope `""`, so
                // two processes starting with different keys cannot both win), or a
                // rotation's new key, vouched for by a previous key checked above.
                let scope = if checks.is_empty() {
                    ""
                } else if !keys.previous().is_empty() {
                    version.as_str()
                } else {
                    return Err(CryptoError::WrongMasterKey);
                };
                let row = KeyRow {
                    key_id: new_key_id(),
                    wrapped: STANDARD.encode(current.wrap(&Key32::generate(), CHECK_AAD)),
                    destroyed_at: None,
                    kek_version: Some(version.clone()),
                };
                let stored = keystore
                    .insert_or_get_checked(&row, "-", "check", scope, micros(now))
                    .await?
                    .ok_or_else(|| CryptoError::RetiredMasterKey(version.clone()))?;
                if stored.kek_version.as_deref() != Some(&version) || stored.destroyed_at.is_some()
                {
                    return Err(CryptoError::WrongMasterKey);
                }
                check(&*current, &stored)?;
                if !scope.is_empty() {
                    tracing::info!(version = %version, "New master key version registered; `ordersync keys rotate` re-wraps the tenant keys under it and retires the previous one.");
                }
            }
        }
        Ok(Crypto {
            keys,
            keystore,
            cache: Mutex::new(HashMap::new()),
            failures: DecryptFailures::default(),
        })
    }

    pub fn keystore(&self) -> &Keystore {
        &self.keystore
    }

    /// The tenant key of a merchant (created on first use), wrapped by the master key: new ones
    /// by the current version (refused once that version is retired), existing ones unwrapped
    /// by the version their row records.
    async fn tenant_key(
        &self,
        merchant: &str,
        now: OffsetDateTime,
    ) -> Result<(String, Key32), CryptoError> {
        if let Some(k) = self.cached(merchant, "tenant", "", now) {
            return Ok(k);
        }
        let row = match self.keystore.get(merchant, "tenant", "").await? {
            Some(r) => r,
            None => {
                let current = self.keys.current();
                let key_id = new_key_id();
                let aad = tenant_aad(merchant, &key_id);
                let row = KeyRow {
                    wrapped: STANDARD.encode(current.wrap(&Key32::generate(), aad.as_bytes())),
                    key_id,
                    destroyed_at: None,
                    kek_version: Some(current.version().to_string()),
                };
                let stored = self
                    .keystore
                    .insert_or_get_checked(&row, merchant, "tenant", "", micros(now))
                    .await?;
                match stored {
                    Some(r) => r,
                    None => {
                        let e = CryptoError::RetiredMasterKey(current.version().to_string());
                        return Err(self.failed(merchant, KeyKind::Master, e));
                    }
                }
            }
        };
        if row.destroyed_at.is_some() {
            return Err(CryptoError::Destroyed(row.key_id));
        }
        let blob =
            decode_b64(&row.wrapped).map_err(|e| self.failed(merchant, KeyKind::Master, e))?;
        let aad = tenant_aad(merchant, &row.key_id);
        let key = self.unwrap_master(merchant, row.kek_version.as_deref(), &blob, &aad)?;
        Ok(self.remember(merchant, "tenant", "", row.key_id, key, now))
    }

    /// Unwraps a tenant key with the master key version its row records (`None`: from before
    /// versions were recorded, any key held).
    fn unwrap_master(
        &self,
        merchant: &str,
        version: Option<&str>,
        blob: &[u8],
        aad: &str,
    ) -> Result<Key32, CryptoError> {
        let r = match version {
            Some(v) => match self.keys.get(v) {
                Some(k) => k.unwrap(blob, aad.as_bytes()).map_err(CryptoError::from),
                None => Err(CryptoError::MasterKeyUnavailable {
                    version: v.to_string(),
                    held: self.keys.versions(),
                }),
            },
            None => self
                .keys
                .all()
                .find_map(|k| k.unwrap(blob, aad.as_bytes()).ok())
                .ok_or(CryptoError::Open(OpenError)),
        };
        r.map_err(|e| self.failed(merchant, KeyKind::Master, e))
    }

    /// Counts a decrypt failure (not `Destroyed`: see [`Crypto::shredded`]) and returns it.
    fn failed(&self, merchant: &str, kind: KeyKind, e: CryptoError) -> CryptoError {
        if let Some(r) = e.reason()
            && r != Reason::KeyDestroyed
        {
            self.failures.record(merchant, kind, r);
        }
        e
    }

    /// Counts a `Destroyed` met while opening data (looking keys up for sealing meets them
    /// routinely); other errors are counted where they happen.
    fn shredded(&self, merchant: &str, kind: KeyKind, e: CryptoError) -> CryptoError {
        if matches!(e, CryptoError::Destroyed(_)) {
            self.failures.record(merchant, kind, Reason::KeyDestroyed);
        }
        e
    }

    /// Decrypt failures of the last [`failures::WINDOW`] in this process, of one merchant or
    /// of all, by key kind and reason.
    pub fn decrypt_failures(&self, merchant: Option<&str>) -> Vec<failures::FailureCount> {
        self.failures.recent(merchant)
    }

    /// The master keys this process holds.
    pub fn master_keys(&self) -> &MasterKeys {
        &self.keys
    }

    /// A key below the tenant key (`epoch` per purge week, `index`, `secrets`).
    async fn child_key(
        &self,
        merchant: &str,
        kind: &'static str,
        scope: &str,
        create: bool,
        now: OffsetDateTime,
    ) -> Result<(String, Key32), CryptoError> {
        if let Some(k) = self.cached(merchant, kind, scope, now) {
            return Ok(k);
        }
        let (tenant_id, tenant) = self.tenant_key(merchant, now).await?;
        let aad = |id: &str| format!("{kind}|v1|{merchant}|{scope}|{tenant_id}|{id}");
        let (key_id, blob) = self
            .stored_key(merchant, kind, scope, create, now, |k, id| {
                aead::seal(&tenant, k.as_bytes(), aad(id).as_bytes())
            })
            .await?;
        let raw = aead::open(&tenant, &blob, aad(&key_id).as_bytes())
            .map_err(|e| self.failed(merchant, KeyKind::Tenant, e.into()))?;
        let key = Key32::from_slice(&raw).ok_or(CryptoError::Malformed)?;
        Ok(self.remember(merchant, kind, scope, key_id, key, now))
    }

    /// The wrapped key `(merchant, kind, scope)` as stored, created on first use when `create`
    /// (`wrap` seals a fresh key under its parent for a new key id). Concurrent creators
    /// converge on the row that won the insert. Returns the key id and the wrapped bytes.
    async fn stored_key(
        &self,
        merchant: &str,
        kind: &str,
        scope: &str,
        create: bool,
        now: OffsetDateTime,
        wrap: impl FnOnce(&Key32, &str) -> Vec<u8>,
    ) -> Result<(String, Vec<u8>), CryptoError> {
        let row = match self.keystore.get(merchant, kind, scope).await? {
            Some(r) => r,
            None if create => {
                let key_id = new_key_id();
                let wrapped = STANDARD.encode(wrap(&Key32::generate(), &key_id));
                let row = KeyRow {
                    key_id,
                    wrapped,
                    destroyed_at: None,
                    kek_version: None,
                };
                self.keystore
                    .insert_or_get(&row, merchant, kind, scope, micros(now))
                    .await?
            }
            None => return Err(CryptoError::Destroyed(format!("{kind}:{scope}"))),
        };
        if row.destroyed_at.is_some() {
            return Err(CryptoError::Destroyed(row.key_id));
        }
        let blob = STANDARD
            .decode(&row.wrapped)
            .map_err(|_| CryptoError::Malformed)?;
        Ok((row.key_id, blob))
    }

    /// A cached key younger than [`CACHE_TTL`]: a key another process destroyed (an epoch
    /// shredded, a merchant terminated) or re-wrapped (a master key rotation) stops being
    /// usable here within that time, without a restart.
    fn cached(
        &self,
        merchant: &str,
        kind: &'static str,
        scope: &str,
        now: OffsetDateTime,
    ) -> Option<(String, Key32)> {
        let mut c = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        let k = (merchant.to_string(), kind, scope.to_string());
        match c.get(&k) {
            // (A clock that went back also re-reads.)
            Some((id, key, at)) if *at <= now && now - *at < CACHE_TTL => {
                Some((id.clone(), key.clone()))
            }
            Some(_) => {
                c.remove(&k);
                None
            }
            None => None,
        }
    }

    fn remember(
        &self,
        merchant: &str,
        kind: &'static str,
        scope: &str,
        id: String,
        key: Key32,
        now: OffsetDateTime,
    ) -> (String, Key32) {
        let mut c = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        c.insert(
            (merchant.to_string(), kind, scope.to_string()),
            (id.clone(), key.clone(), now),
        );
        (id, key)
    }

    /// Ensures the epoch key exists and returns its id (call once per page, then `seal_pii_with`).
    /// Fails with `Destroyed` once the epoch has been shredded; new PII goes through
    /// [`Crypto::sealing_key`] instead.
    pub async fn epoch_key(
        &self,
        merchant: &str,
        epoch: &str,
        now: OffsetDateTime,
    ) -> Result<EpochKey, CryptoError> {
        let (id, key) = self.child_key(merchant, "epoch", epoch, true, now).await?;
        Ok(EpochKey {
            id,
            key,
            epoch: epoch.to_string(),
        })
    }

    /// The key to seal new PII of `epoch` under: the epoch's own key or, once that has been
    /// destroyed, the first live generation `<epoch>.<n>` of the same week (so a late order
    /// never fails forever, and the generation is shredded like the week). The row stores
    /// [`EpochKey::epoch`] as its `pii_epoch`. Callers pick a week that has not ended
    /// (see `engine::shred::sealing_epoch`), so this fallback is for clock skew only.
    pub async fn sealing_key(
        &self,
        merchant: &str,
        epoch: &str,
        now: OffsetDateTime,
    ) -> Result<EpochKey, CryptoError> {
        // A destroyed tenant key fails here, before any generation is tried.
        self.tenant_key(merchant, now).await?;
        let week = epoch_week(epoch);
        let mut scope = week.to_string();
        let mut last = None;
        for generation in 1..=MAX_EPOCH_GENERATIONS {
            match self.epoch_key(merchant, &scope, now).await {
                Err(CryptoError::Destroyed(id)) => last = Some(id),
                other => return other,
            }
            scope = format!("{week}.{generation}");
        }
        Err(CryptoError::Destroyed(last.unwrap_or_default()))
    }

    /// Encrypts one order's PII under a fresh DEK wrapped by the epoch key. Synchronous and
    /// CPU-only, so a page can be sealed without awaiting per order.
    pub fn seal_pii_with(&self, epoch: &EpochKey, row: PiiRow<'_>, pii: &Pii) -> SealedPii {
        let plaintext = zeroize::Zeroizing::new(serde_json::to_vec(pii).expect("PII serialises"));
        let dek = Key32::generate();
        let ct = aead::seal(&dek, &plaintext, pii_aad_v2(row).as_bytes());
        SealedPii {
            pii_ct: format!("pii:v2:{}", STANDARD.encode(ct)),
            dek: wrap_dek(epoch, row, &dek),
        }
    }

    /// Decrypts the PII of a row. `epoch` is the row's epoch column (the key is looked up by it
    /// and must be the key the DEK envelope names).
    pub async fn open_pii(
        &self,
        row: PiiRow<'_>,
        epoch: &str,
        sealed: &SealedPii,
        now: OffsetDateTime,
    ) -> Result<Pii, CryptoError> {
        let m = row.merchant_id;
        let env = Envelope::parse(row, sealed).map_err(|e| self.failed(m, KeyKind::Dek, e))?;
        let dek = self
            .open_dek(row, epoch, &env, now)
            .await
            .map_err(|e| self.shredded(m, KeyKind::Epoch, e))?;
        let plain = aead::open(&dek, &env.pii_body, env.pii_aad.as_bytes())
            .map_err(|e| self.failed(m, KeyKind::Dek, e.into()))?;
        serde_json::from_slice(&plain)
            .map_err(|_| self.failed(m, KeyKind::Dek, CryptoError::Malformed))
    }

    /// Moves a row's DEK from its epoch (`epoch`, still live) to `to`, leaving the PII blob as
    /// it is: returns the new wrapped DEK (`dek:v2:` naming `to`). The row then stores it with
    /// `to.epoch` as its epoch. One unwrap and one wrap; the PII is never decrypted.
    pub async fn rewrap_dek(
        &self,
        row: PiiRow<'_>,
        epoch: &str,
        sealed: &SealedPii,
        to: &EpochKey,
        now: OffsetDateTime,
    ) -> Result<String, CryptoError> {
        let env = Envelope::parse(row, sealed)?;
        let dek = self.open_dek(row, epoch, &env, now).await?;
        Ok(wrap_dek(to, row, &dek))
    }

    async fn open_dek(
        &self,
        row: PiiRow<'_>,
        epoch: &str,
        env: &Envelope<'_>,
        now: OffsetDateTime,
    ) -> Result<Key32, CryptoError> {
        let (key_id, key) = self
            .child_key(row.merchant_id, "epoch", epoch, false, now)
            .await?;
        let m = row.merchant_id;
        if key_id != env.dek_key_id {
            return Err(self.failed(m, KeyKind::Epoch, CryptoError::Open(OpenError)));
        }
        let raw = aead::open(&key, &env.dek_body, env.dek_aad.as_bytes())
            .map_err(|e| self.failed(m, KeyKind::Epoch, e.into()))?;
        Key32::from_slice(&raw).ok_or(CryptoError::Malformed)
    }

    /// Whether this keystore holds the epoch key a row's PII is sealed under (the upgrade
    /// check of `crate::identity`): the DEK is unwrapped, the PII is not decrypted.
    pub async fn holds_pii_key(
        &self,
        row: PiiRow<'_>,
        epoch: &str,
        sealed: &SealedPii,
        now: OffsetDateTime,
    ) -> Result<bool, CryptoError> {
        let Ok(env) = Envelope::parse(row, sealed) else {
            return Ok(false);
        };
        if !self
            .holds_key(row.merchant_id, "epoch", epoch, env.dek_key_id, now)
            .await?
        {
            return Ok(false);
        }
        match self.open_dek(row, epoch, &env, now).await {
            // Shredded (or the merchant terminated): only the keystore that made the key
            // still has its row, which `holds_key` found.
            Ok(_) | Err(CryptoError::Destroyed(_)) => Ok(true),
            Err(e) if e.is_transient() => Err(e),
            Err(_) => Ok(false),
        }
    }

    /// Whether this keystore holds the secrets key a connection's secrets are sealed under
    /// (unwrapped; the secrets are not decrypted).
    pub async fn holds_secrets_key(
        &self,
        merchant: &str,
        sealed: &str,
        now: OffsetDateTime,
    ) -> Result<bool, CryptoError> {
        let Ok((key_id, _)) = parse_envelope(sealed, "sec") else {
            return Ok(false);
        };
        self.holds_key(merchant, "secrets", "", key_id, now).await
    }

    /// Whether the keystore has key `key_id` as `(merchant, kind, scope)` and, unless it was
    /// destroyed, it unwraps.
    async fn holds_key(
        &self,
        merchant: &str,
        kind: &'static str,
        scope: &str,
        key_id: &str,
        now: OffsetDateTime,
    ) -> Result<bool, CryptoError> {
        match self.keystore.get(merchant, kind, scope).await? {
            Some(r) if r.key_id == key_id => {}
            _ => return Ok(false),
        }
        match self.child_key(merchant, kind, scope, false, now).await {
            Ok(_) | Err(CryptoError::Destroyed(_)) => Ok(true),
            Err(e) if e.is_transient() => Err(e),
            Err(_) => Ok(false),
        }
    }

    /// Blind index of a normalised email: HMAC-SHA256 under the merchant's index key.
    pub async fn blind_index(
        &self,
        merchant: &str,
        normalized_email: &str,
        now: OffsetDateTime,
    ) -> Result<String, CryptoError> {
        let key = self.index_key(merchant, now).await?;
        Ok(key.index(normalized_email))
    }

    pub async fn index_key(
        &self,
        merchant: &str,
        now: OffsetDateTime,
    ) -> Result<IndexKey, CryptoError> {
        let (_, key) = self.child_key(merchant, "index", "", true, now).await?;
        Ok(IndexKey(key))
    }

    /// What an order's content hash is computed and compared with: the merchant's `hash` key
    /// (a key of its own, never the blind-index key), see [`ContentHasher`].
    pub async fn content_hasher(
        &self,
        merchant: &str,
        now: OffsetDateTime,
    ) -> Result<ContentHasher, CryptoError> {
        let (_, key) = self.child_key(merchant, "hash", "", true, now).await?;
        Ok(ContentHasher {
            hash: IndexKey(key),
            legacy: self.index_key(merchant, now).await?,
        })
    }

    /// Encrypts a connection's secrets (write-only through the API).
    pub async fn seal_secrets(
        &self,
        merchant: &str,
        connection_id: &str,
        secrets: &Secrets,
        now: OffsetDateTime,
    ) -> Result<String, CryptoError> {
        let (id, key) = self.child_key(merchant, "secrets", "", true, now).await?;
        let plain: BTreeMap<&str, &str> = secrets
            .iter()
            .map(|(k, v)| (k.as_str(), v.expose_secret()))
            .collect();
        let plaintext =
            zeroize::Zeroizing::new(serde_json::to_vec(&plain).expect("secrets serialise"));
        let aad = format!("secrets|v1|{merchant}|{connection_id}|{id}");
        Ok(format!(
            "sec:v1:{id}:{}",
            STANDARD.encode(aead::seal(&key, &plaintext, aad.as_bytes()))
        ))
    }

    pub async fn open_secrets(
        &self,
        merchant: &str,
        connection_id: &str,
        sealed: &str,
        now: OffsetDateTime,
    ) -> Result<Secrets, CryptoError> {
        let (key_id, body) = parse_envelope(sealed, "sec")
            .map_err(|e| self.failed(merchant, KeyKind::Secrets, e))?;
        let (id, key) = self
            .child_key(merchant, "secrets", "", false, now)
            .await
            .map_err(|e| self.shredded(merchant, KeyKind::Secrets, e))?;
        if id != key_id {
            return Err(self.failed(merchant, KeyKind::Secrets, CryptoError::Open(OpenError)));
        }
        let aad = format!("secrets|v1|{merchant}|{connection_id}|{id}");
        let plain = aead::open(&key, &body, aad.as_bytes())
            .map_err(|e| self.failed(merchant, KeyKind::Secrets, e.into()))?;
        let map: BTreeMap<String, String> =
            serde_json::from_slice(&plain).map_err(|_| CryptoError::Malformed)?;
        Ok(map.into_iter().map(|(k, v)| (k, v.into())).collect())
    }

    /// Destroys a merchant's tenant key (termination): every key below it (epochs, index,
    /// secrets) is sealed under it, so all of the merchant's ciphertext, here and in any
    /// backup of the orders database, is unreadable from now on; a new one is never created
    /// for that merchant (the destroyed row stays). Other processes stop using their cached
    /// copy within `CACHE_TTL` (5 minutes).
    pub async fn destroy_tenant(
        &self,
        merchant: &str,
        now: OffsetDateTime,
    ) -> Result<bool, CryptoError> {
        let row = match self.keystore.get(merchant, "tenant", "").await? {
            Some(r) => r,
            // Never used: record it destroyed so that it is never made either.
            None => {
                let row = KeyRow {
                    key_id: new_key_id(),
                    wrapped: String::new(),
                    destroyed_at: None,
                    kek_version: None,
                };
                self.keystore
                    .insert_or_get(&row, merchant, "tenant", "", micros(now))
                    .await?
            }
        };
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(m, _, _), _| m != merchant);
        Ok(self.keystore.destroy(&row.key_id, micros(now)).await? > 0)
    }

    /// Destroys an epoch key (crypto-shredding); later opens of its rows fail with `Destroyed`.
    pub async fn destroy_epoch(
        &self,
        merchant: &str,
        epoch: &str,
        now: OffsetDateTime,
    ) -> Result<bool, CryptoError> {
        let Some(row) = self.keystore.get(merchant, "epoch", epoch).await? else {
            return Ok(false);
        };
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&(merchant.to_string(), "epoch", epoch.to_string()));
        Ok(self.keystore.destroy(&row.key_id, micros(now)).await? > 0)
    }
}

/// An unwrapped epoch key, held for one page.
#[derive(Clone)]
pub struct EpochKey {
    pub id: String,
    key: Key32,
    /// The epoch (keystore scope) the key belongs to: what a row sealed under it stores as
    /// `pii_epoch` (a week, or a generation of one, see [`Crypto::sealing_key`]).
    pub epoch: String,
}

/// Generations of one week's epoch [`Crypto::sealing_key`] tries before giving up.
const MAX_EPOCH_GENERATIONS: u32 = 16;

/// Content hashes of orders (an unchanged re-read is skipped: nothing stored, nothing
/// delivered). New hashes are `h2:` + HMAC-SHA256 under the merchant's `hash` key, so the
/// blind-index key serves blind indexes only. Hashes stored before the split (no prefix,
/// under the index key) are still compared under the index key: after an upgrade an
/// unchanged order stays unchanged (no new version, no re-delivery); its next real change
/// stores an `h2:` hash. The index key never computes a stored hash again.
#[derive(Clone)]
pub struct ContentHasher {
    hash: IndexKey,
    legacy: IndexKey,
}

impl ContentHasher {
    pub const PREFIX: &'static str = "h2:";

    /// The hash to store for `content`.
    pub fn hash(&self, content: &str) -> String {
        format!("{}{}", Self::PREFIX, self.hash.index(content))
    }

    /// Whether `stored` is the hash of `content`; `fresh` is [`Self::hash`] of it.
    pub fn unchanged(&self, stored: &str, content: &str, fresh: &str) -> bool {
        if stored.starts_with(Self::PREFIX) {
            stored == fresh
        } else {
            !stored.is_empty() && stored == self.legacy.index(content)
        }
    }

    /// The pre-split hash of `content` (under the index key), as older versions stored it.
    pub fn legacy_hash(&self, content: &str) -> String {
        self.legacy.index(content)
    }
}

/// The per-merchant blind-index key.
#[derive(Clone)]
pub struct IndexKey(Key32);

impl IndexKey {
    /// Blind index of a buyer's marketplace account name (a separate input domain from
    /// emails, so a user name can never match an email's index).
    pub fn buyer(&self, account: &str) -> String {
        self.index(&format!("buyer-account\u{0}{}", account.trim()))
    }

    pub fn index(&self, normalized_email: &str) -> String {
        let mut mac =
            <Hmac<Sha256> as KeyInit>::new_from_slice(self.0.as_bytes()).expect("any key length");
        mac.update(normalized_email.as_bytes());
        STANDARD.encode(mac.finalize().into_bytes())
    }
}

/// The purge epoch of a date: its ISO week, e.g. `2026-W48`.
pub fn epoch_of(t: OffsetDateTime) -> String {
    let (y, w, _) = t.to_iso_week_date();
    format!("{y}-W{w:02}")
}

/// The week an epoch belongs to: `2026-W48.1` (a generation, see [`Crypto::sealing_key`]) →
/// `2026-W48`.
pub fn epoch_week(epoch: &str) -> &str {
    epoch.split_once('.').map_or(epoch, |(w, _)| w)
}

/// When the ISO week of an epoch ends (exclusive, UTC); `None` if the name is not an epoch.
pub fn epoch_end(epoch: &str) -> Option<OffsetDateTime> {
    let (y, w) = epoch_week(epoch).split_once("-W")?;
    let date =
        time::Date::from_iso_week_date(y.parse().ok()?, w.parse().ok()?, time::Weekday::Monday)
            .ok()?;
    date.midnight()
        .assume_utc()
        .checked_add(time::Duration::weeks(1))
}

/// Proves `kek` is the master key version of a check row.
fn check(kek: &dyn KeyEncryptionKey, row: &KeyRow) -> Result<(), CryptoError> {
    let blob = decode_b64(&row.wrapped)?;
    kek.unwrap(&blob, CHECK_AAD)
        .map(|_| ())
        .map_err(|_| CryptoError::WrongMasterKey)
}

fn new_key_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

fn micros(t: OffsetDateTime) -> i64 {
    ordersync_sdk::clock::to_micros(t)
}

#[cfg(test)]
mod tests;
