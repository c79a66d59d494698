//! The master key-encryption key. Behind a trait so a KMS (AWS KMS, Vault transit) can replace
//! the local key without touching the rest of the hierarchy.

use super::aead::{self, Key32, OpenError};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

pub trait KeyEncryptionKey: Send + Sync + 'static {
    fn wrap(&self, key: &Key32, aad: &[u8]) -> Vec<u8>;
    fn unwrap(&self, wrapped: &[u8], aad: &[u8]) -> Result<Key32, OpenError>;
}

/// A master key held in process memory (from `ORDERSYNC_MASTER_KEY` or its `_FILE`).
pub struct LocalKek(Key32);

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
        Key32::from_slice(&raw)
            .map(LocalKek)
            .ok_or(MasterKeyError::WrongLength(raw.len()))
    }

    pub fn generate_base64() -> String {
        STANDARD.encode(Key32::generate().as_bytes())
    }
}

impl KeyEncryptionKey for LocalKek {
    fn wrap(&self, key: &Key32, aad: &[u8]) -> Vec<u8> {
        aead::seal(&self.0, key.as_bytes(), aad)
    }

    fn unwrap(&self, wrapped: &[u8], aad: &[u8]) -> Result<Key32, OpenError> {
        let raw = aead::open(&self.0, wrapped, aad)?;
        Key32::from_slice(&raw).ok_or(OpenError)
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
}
