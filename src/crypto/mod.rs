//! Envelope encryption (ARCHITECTURE §6): master KEK → tenant key (per merchant) → epoch key
//! (per merchant per ISO week of the order's scheduled purge) → DEK (per order).
//!
//! Stored forms are versioned: `pii:v1:<epoch_key_id>:<b64(nonce‖ct‖tag)>` for the PII blob and
//! `dek:v1:<b64(nonce‖wrapped‖tag)>` for the wrapped DEK. Every AAD is re-derived from the row
//! being decrypted, so a ciphertext copied to another row, tenant or field fails to open.

pub mod aead;
pub mod kek;
pub mod keystore;

use aead::{Key32, OpenError};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use kek::KeyEncryptionKey;
use keystore::{KeyRow, Keystore};
use ordersync_sdk::{Pii, Secrets};
use secrecy::ExposeSecret;
use sha2::Sha256;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use time::OffsetDateTime;

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("the master key does not match this keystore (wrong ORDERSYNC_MASTER_KEY?)")]
    WrongMasterKey,
    #[error("{0}")]
    Open(#[from] OpenError),
    #[error("malformed ciphertext envelope")]
    Malformed,
    #[error("key {0} has been destroyed (crypto-shredded)")]
    Destroyed(String),
    #[error("keystore: {0}")]
    Keystore(#[from] sqlx::Error),
}

/// What the orders table stores for one order's PII.
#[derive(Debug, Clone)]
pub struct SealedPii {
    pub pii_ct: String,
    pub dek: String,
}

/// The identity a PII blob is bound to (its AAD).
#[derive(Debug, Clone, Copy)]
pub struct PiiRow<'a> {
    pub merchant_id: &'a str,
    pub marketplace: &'a str,
    pub external_id: &'a str,
}

/// (merchant, kind, scope) of a cached key.
type CacheKey = (String, &'static str, String);

pub struct Crypto {
    kek: Arc<dyn KeyEncryptionKey>,
    keystore: Keystore,
    /// Unwrapped tenant/epoch/index keys by (merchant, kind, scope). DEKs are never cached.
    cache: Mutex<HashMap<CacheKey, (String, Key32)>>,
}

const CHECK_AAD: &[u8] = b"ordersync|kek-check|v1";

impl Crypto {
    /// Opens the hierarchy and proves the master key is the one this keystore was created with
    /// (a check key wrapped under it); a different master key refuses to start, touching nothing.
    pub async fn open(
        kek: Arc<dyn KeyEncryptionKey>,
        keystore: Keystore,
        now: OffsetDateTime,
    ) -> Result<Self, CryptoError> {
        let c = Crypto {
            kek,
            keystore,
            cache: Mutex::new(HashMap::new()),
        };
        match c.keystore.get("-", "check", "").await? {
            Some(row) => {
                let blob = STANDARD
                    .decode(&row.wrapped)
                    .map_err(|_| CryptoError::Malformed)?;
                c.kek
                    .unwrap(&blob, CHECK_AAD)
                    .map_err(|_| CryptoError::WrongMasterKey)?;
            }
            None => {
                let wrapped = STANDARD.encode(c.kek.wrap(&Key32::generate(), CHECK_AAD));
                let row = KeyRow {
                    key_id: new_key_id(),
                    wrapped,
                    destroyed_at: None,
                };
                let stored = c
                    .keystore
                    .insert_or_get(&row, "-", "check", "", micros(now))
                    .await?;
                let blob = STANDARD
                    .decode(&stored.wrapped)
                    .map_err(|_| CryptoError::Malformed)?;
                c.kek
                    .unwrap(&blob, CHECK_AAD)
                    .map_err(|_| CryptoError::WrongMasterKey)?;
            }
        }
        Ok(c)
    }

    pub fn keystore(&self) -> &Keystore {
        &self.keystore
    }

    /// The tenant key of a merchant (created on first use), wrapped by the master key.
    async fn tenant_key(
        &self,
        merchant: &str,
        now: OffsetDateTime,
    ) -> Result<(String, Key32), CryptoError> {
        if let Some(k) = self.cached(merchant, "tenant", "") {
            return Ok(k);
        }
        let aad = |id: &str| format!("tenant|v1|{merchant}|{id}");
        let (key_id, blob) = self
            .stored_key(merchant, "tenant", "", true, now, |k, id| {
                self.kek.wrap(k, aad(id).as_bytes())
            })
            .await?;
        let key = self
            .kek
            .unwrap(&blob, aad(&key_id).as_bytes())
            .map_err(|_| CryptoError::WrongMasterKey)?;
        Ok(self.remember(merchant, "tenant", "", key_id, key))
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
        if let Some(k) = self.cached(merchant, kind, scope) {
            return Ok(k);
        }
        let (tenant_id, tenant) = self.tenant_key(merchant, now).await?;
        let aad = |id: &str| format!("{kind}|v1|{merchant}|{scope}|{tenant_id}|{id}");
        let (key_id, blob) = self
            .stored_key(merchant, kind, scope, create, now, |k, id| {
                aead::seal(&tenant, k.as_bytes(), aad(id).as_bytes())
            })
            .await?;
        let raw = aead::open(&tenant, &blob, aad(&key_id).as_bytes())?;
        let key = Key32::from_slice(&raw).ok_or(CryptoError::Malformed)?;
        Ok(self.remember(merchant, kind, scope, key_id, key))
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

    fn cached(&self, merchant: &str, kind: &'static str, scope: &str) -> Option<(String, Key32)> {
        let c = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        c.get(&(merchant.to_string(), kind, scope.to_string()))
            .cloned()
    }

    fn remember(
        &self,
        merchant: &str,
        kind: &'static str,
        scope: &str,
        id: String,
        key: Key32,
    ) -> (String, Key32) {
        let mut c = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        c.insert(
            (merchant.to_string(), kind, scope.to_string()),
            (id.clone(), key.clone()),
        );
        (id, key)
    }

    /// Ensures the epoch key exists and returns its id (call once per page, then `seal_pii_with`).
    pub async fn epoch_key(
        &self,
        merchant: &str,
        epoch: &str,
        now: OffsetDateTime,
    ) -> Result<EpochKey, CryptoError> {
        let (id, key) = self.child_key(merchant, "epoch", epoch, true, now).await?;
        Ok(EpochKey { id, key })
    }

    /// Encrypts one order's PII under a fresh DEK wrapped by the epoch key. Synchronous and
    /// CPU-only, so a page can be sealed without awaiting per order.
    pub fn seal_pii_with(&self, epoch: &EpochKey, row: PiiRow<'_>, pii: &Pii) -> SealedPii {
        let plaintext = zeroize::Zeroizing::new(serde_json::to_vec(pii).expect("PII serialises"));
        let dek = Key32::generate();
        let ct = aead::seal(&dek, &plaintext, pii_aad(row, &epoch.id).as_bytes());
        let wrapped = aead::seal(&epoch.key, dek.as_bytes(), dek_aad(row).as_bytes());
        SealedPii {
            pii_ct: format!("pii:v1:{}:{}", epoch.id, STANDARD.encode(ct)),
            dek: format!("dek:v1:{}", STANDARD.encode(wrapped)),
        }
    }

    /// Decrypts the PII of a row. `epoch` is the row's epoch column (the key is looked up by it
    /// and must match the key id in the envelope).
    pub async fn open_pii(
        &self,
        row: PiiRow<'_>,
        epoch: &str,
        sealed: &SealedPii,
        now: OffsetDateTime,
    ) -> Result<Pii, CryptoError> {
        let (key_id, body) = parse_envelope(&sealed.pii_ct, "pii")?;
        let ek = self
            .child_key(row.merchant_id, "epoch", epoch, false, now)
            .await?;
        if ek.0 != key_id {
            return Err(CryptoError::Open(OpenError));
        }
        let wrapped = sealed
            .dek
            .strip_prefix("dek:v1:")
            .ok_or(CryptoError::Malformed)?;
        let wrapped = STANDARD
            .decode(wrapped)
            .map_err(|_| CryptoError::Malformed)?;
        let dek_raw = aead::open(&ek.1, &wrapped, dek_aad(row).as_bytes())?;
        let dek = Key32::from_slice(&dek_raw).ok_or(CryptoError::Malformed)?;
        let plain = aead::open(&dek, &body, pii_aad(row, key_id).as_bytes())?;
        serde_json::from_slice(&plain).map_err(|_| CryptoError::Malformed)
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
        let (key_id, body) = parse_envelope(sealed, "sec")?;
        let (id, key) = self.child_key(merchant, "secrets", "", false, now).await?;
        if id != key_id {
            return Err(CryptoError::Open(OpenError));
        }
        let aad = format!("secrets|v1|{merchant}|{connection_id}|{id}");
        let plain = aead::open(&key, &body, aad.as_bytes())?;
        let map: BTreeMap<String, String> =
            serde_json::from_slice(&plain).map_err(|_| CryptoError::Malformed)?;
        Ok(map.into_iter().map(|(k, v)| (k, v.into())).collect())
    }

    /// Destroys a merchant's tenant key (termination): every key below it (epochs, index,
    /// secrets) is sealed under it, so all of the merchant's ciphertext, here and in any
    /// backup of the orders database, is unreadable from now on; a new one is never created
    /// for that merchant (the destroyed row stays). Other processes drop their cached copy
    /// when they restart.
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

fn pii_aad(row: PiiRow<'_>, key_id: &str) -> String {
    format!(
        "v1|{}|{}|{}|order_pii|{key_id}",
        row.merchant_id, row.marketplace, row.external_id
    )
}

fn dek_aad(row: PiiRow<'_>) -> String {
    format!(
        "dek|v1|{}|{}|{}",
        row.merchant_id, row.marketplace, row.external_id
    )
}

fn parse_envelope<'a>(s: &'a str, prefix: &str) -> Result<(&'a str, Vec<u8>), CryptoError> {
    let mut parts = s.splitn(4, ':');
    let (Some(p), Some("v1"), Some(id), Some(body)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(CryptoError::Malformed);
    };
    if p != prefix {
        return Err(CryptoError::Malformed);
    }
    Ok((
        id,
        STANDARD.decode(body).map_err(|_| CryptoError::Malformed)?,
    ))
}

fn new_key_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

fn micros(t: OffsetDateTime) -> i64 {
    ordersync_sdk::clock::to_micros(t)
}

#[cfg(test)]
mod tests;
