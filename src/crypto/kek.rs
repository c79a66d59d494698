//! The master key-encryption key. Behind a trait so a KMS (AWS KMS, Vault transit) can replace
//! the local key without touching the rest of the hierarchy.

use super::aead::{self, Key32, OpenError};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::sync::Arc;
use zeroize::Zeroizing;

pub trait KeyEncryptionKey: Send + Sync + 'static {
    /// The version id of this key material (what a KMS calls a key version): recorded on
    /// every keystore row it wraps. Not secret, and never enough to recover the key.
    fn version(&self) -> &str;
    fn wrap(&self, key: &Key32, aad: &[u8]) -> Vec<u8>;
    fn unwrap(&self, wrapped: &[u8], aad: &[u8]) -> Result<Key32, OpenError>;
}

/// A master key held in process memory (from `ORDERSYNC_MASTER_KEY` or its `_FILE`). Its
/// version is a fingerprint derived from the key (`mk-` + 12 hex digits of an HMAC of a fixed
/// label), so operators configure only the key itself.
pub struct LocalKek {
    key: Key32,
    version: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    #[error("the master key is not valid base64")]
    NotBase64,
    #[error("the master key must decode to exactly 32 bytes, got {0}")]
    WrongLength(usize),
}

impl LocalKek {
    pub fn from_base64(s: &str) -> Result<Self, MasterKeyError> {
        let raw = Zeroizing::new(
            STANDARD
                .decode(s.trim())
                .map_err(|_| MasterKeyError::NotBase64)?,
        );
        let key = Key32::from_slice(&raw).ok_or(MasterKeyError::WrongLength(raw.len()))?;
        Ok(Self::new(key))
    }

    fn new(key: Key32) -> Self {
        let mut mac =
            <Hmac<Sha256> as KeyInit>::new_from_slice(key.as_bytes()).expect("any key length");
        mac.update(b"ordersync|master-key-version|v1");
        let tag = mac.finalize().into_bytes();
        let version = format!(
            "mk-{}",
            tag[..6]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        LocalKek { key, version }
    }

    pub fn generate_base64() -> String {
        STANDARD.encode(Key32::generate().as_bytes())
    }
}

impl KeyEncryptionKey for LocalKek {
    fn version(&self) -> &str {
        &self.version
    }

    fn wrap(&self, key: &Key32, aad: &[u8]) -> Vec<u8> {
        aead::seal(&self.key, key.as_bytes(), aad)
    }

    fn unwrap(&self, wrapped: &[u8], aad: &[u8]) -> Result<Key32, OpenError> {
        let raw = aead::open(&self.key, wrapped, aad)?;
        Key32::from_slice(&raw).ok_or(OpenError)
    }
}

impl std::fmt::Debug for LocalKek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LocalKek({}, [redacted])", self.version)
    }
}

/// The master keys a process holds: the current one (wraps every new or re-wrapped key) and,
/// during a rotation, the previous ones (only unwrap rows not yet re-wrapped). From
/// `ORDERSYNC_MASTER_KEY` and `ORDERSYNC_MASTER_KEY_PREVIOUS` (docs/keys.md).
#[derive(Clone)]
pub struct MasterKeys {
    current: Arc<dyn KeyEncryptionKey>,
    previous: Vec<Arc<dyn KeyEncryptionKey>>,
}

impl MasterKeys {
    pub fn new(current: Arc<dyn KeyEncryptionKey>) -> Self {
        MasterKeys {
            current,
            previous: Vec::new(),
        }
    }

    /// Adds a previous key (ignored if it is the current one).
    pub fn with_previous(mut self, previous: Arc<dyn KeyEncryptionKey>) -> Self {
        if previous.version() != self.current.version() && self.get(previous.version()).is_none() {
            self.previous.push(previous);
        }
        self
    }

    pub fn current(&self) -> &Arc<dyn KeyEncryptionKey> {
        &self.current
    }

    pub fn previous(&self) -> &[Arc<dyn KeyEncryptionKey>] {
        &self.previous
    }

    /// The key of a version, if this process holds it.
    pub fn get(&self, version: &str) -> Option<&Arc<dyn KeyEncryptionKey>> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.version() == version)
    }

    /// Every key held, the current one first.
    pub fn all(&self) -> impl Iterator<Item = &Arc<dyn KeyEncryptionKey>> {
        std::iter::once(&self.current).chain(&self.previous)
    }

    /// The versions held, for messages (`mk-…, mk-…`).
    pub fn versions(&self) -> String {
        self.all()
            .map(|k| k.version())
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub(super) fn drop_previous(&mut self, version: &str) {
        self.previous.retain(|k| k.version() != version);
    }
}

impl std::fmt::Debug for MasterKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKeys({}, [redacted])", self.versions())
    }
}

impl From<Arc<dyn KeyEncryptionKey>> for MasterKeys {
    fn from(k: Arc<dyn KeyEncryptionKey>) -> Self {
        MasterKeys::new(k)
    }
}

impl<K: KeyEncryptionKey> From<Arc<K>> for MasterKeys {
    fn from(k: Arc<K>) -> Self {
        MasterKeys::new(k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        assert!(LocalKek::from_base64(&LocalKek::generate_base64()).is_ok());
        assert!(matches!(
            LocalKek::from_base64("not-base64"),
            Err(MasterKeyError::NotBase64)
        ));
        assert!(matches!(
            LocalKek::from_base64("AAAA"),
            Err(MasterKeyError::WrongLength(3))
        ));
    }

    #[test]
    fn versions_are_stable_fingerprints_and_debug_hides_the_key() {
        let b64 = LocalKek::generate_base64();
        let a = LocalKek::from_base64(&b64).unwrap();
        let b = LocalKek::from_base64(&b64).unwrap();
        assert_eq!(a.version(), b.version());
        assert!(a.version().starts_with("mk-") && a.version().len() == 15);
        let other = LocalKek::from_base64(&LocalKek::generate_base64()).unwrap();
        assert_ne!(a.version(), other.version());
        let dbg = format!("{a:?}");
        assert!(!dbg.contains(&b64) && dbg.contains("redacted"), "{dbg}");
        let keys = MasterKeys::new(Arc::new(a)).with_previous(Arc::new(other));
        let dbg = format!("{keys:?}");
        assert!(!dbg.contains(&b64) && dbg.contains("redacted"), "{dbg}");
        assert_eq!(keys.previous().len(), 1);
        assert!(keys.get(b.version()).is_some());
    }
}
