//! AES-256-GCM with a fresh random 96-bit nonce per message. Stored form: `nonce ‖ ct ‖ tag`.
//! There is deliberately no API that takes a caller-supplied nonce.

use aes_gcm::aead::{Aead, Generate, Key, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use zeroize::Zeroizing;

pub const NONCE_LEN: usize = 12;

/// A 256-bit key, wiped on drop.
#[derive(Clone)]
pub struct Key32(pub Zeroizing<[u8; 32]>);

impl std::fmt::Debug for Key32 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key32([redacted])")
    }
}

impl Key32 {
    pub fn generate() -> Self {
        let k = Key::<Aes256Gcm>::generate();
        let mut out = Zeroizing::new([0u8; 32]);
        out.copy_from_slice(k.as_slice());
        Key32(out)
    }

    pub fn from_slice(b: &[u8]) -> Option<Self> {
        let arr: [u8; 32] = b.try_into().ok()?;
        Some(Key32(Zeroizing::new(arr)))
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("decryption failed (wrong key, tampered data or data moved to another row)")]
pub struct OpenError;

pub fn seal(key: &Key32, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
    let cipher = Aes256Gcm::new_from_slice(key.as_bytes()).expect("32-byte key");
    let nonce = Nonce::generate();
    let ct = cipher
        .encrypt(
            &nonce,
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .expect("AES-GCM encryption of an in-memory buffer cannot fail");
    let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
    out.extend_from_slice(nonce.as_slice());
    out.extend_from_slice(&ct);
    out
}

pub fn open(key: &Key32, blob: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, OpenError> {
    if blob.len() < NONCE_LEN + 16 {
        return Err(OpenError);
    }
    let cipher = Aes256Gcm::new_from_slice(key.as_bytes()).map_err(|_| OpenError)?;
    let nonce = Nonce::try_from(&blob[..NONCE_LEN]).map_err(|_| OpenError)?;
    cipher
        .decrypt(
            &nonce,
            Payload {
                msg: &blob[NONCE_LEN..],
                aad,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| OpenError)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn round_trip_and_failures() {
        let k = Key32::generate();
        let blob = seal(&k, b"canary@customer.test", b"row-1");
        assert_eq!(
            &open(&k, &blob, b"row-1").unwrap()[..],
            b"canary@customer.test"
        );
        assert_eq!(
            open(&k, &blob, b"row-2"),
            Err(OpenError),
            "moved to another row"
        );
        assert_eq!(
            open(&Key32::generate(), &blob, b"row-1"),
            Err(OpenError),
            "wrong key"
        );
        let mut tampered = blob.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert_eq!(open(&k, &tampered, b"row-1"), Err(OpenError), "tampered");
        assert_eq!(open(&k, &blob[..10], b"row-1"), Err(OpenError), "truncated");
    }

    #[test]
    fn nonces_never_repeat_across_100k_encryptions() {
        let k = Key32::generate();
        let mut seen = HashSet::with_capacity(100_000);
        for _ in 0..100_000 {
            let blob = seal(&k, b"x", b"");
            let nonce: [u8; NONCE_LEN] = blob[..NONCE_LEN].try_into().unwrap();
            assert!(seen.insert(nonce), "nonce repeated");
        }
    }
}
