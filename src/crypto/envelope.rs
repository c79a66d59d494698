//! Stored forms of PII and wrapped DEKs, and the AADs re-derived from the row at decrypt
//! time (docs/keys.md: `pii:v1|v2`, `dek:v1|v2`).

use super::*;

/// The parts of a stored PII blob and its wrapped DEK, with the AADs re-derived from the row.
pub(super) struct Envelope<'a> {
    /// The epoch key the DEK is wrapped under.
    pub(super) dek_key_id: &'a str,
    pub(super) dek_body: Vec<u8>,
    pub(super) dek_aad: String,
    pub(super) pii_body: Vec<u8>,
    pub(super) pii_aad: String,
}

impl<'a> Envelope<'a> {
    /// Accepts `pii:v1` with `dek:v1` (as sealed before re-wrapping existed) or `dek:v2` (a v1
    /// row re-wrapped), and `pii:v2` with `dek:v2`.
    pub(super) fn parse(row: PiiRow<'_>, s: &'a SealedPii) -> Result<Self, CryptoError> {
        let decode = |b: &str| STANDARD.decode(b).map_err(|_| CryptoError::Malformed);
        let (v1_key, pii_body) = match s.pii_ct.strip_prefix("pii:v2:") {
            Some(body) => (None, decode(body)?),
            None => {
                let (id, body) = parse_envelope(&s.pii_ct, "pii")?;
                (Some(id), body)
            }
        };
        let (dek_key_id, dek_body, dek_aad) = if let Some(rest) = s.dek.strip_prefix("dek:v2:") {
            let (id, body) = rest.split_once(':').ok_or(CryptoError::Malformed)?;
            (id, decode(body)?, dek_aad_v2(row, id))
        } else if let Some(body) = s.dek.strip_prefix("dek:v1:") {
            // A v1 DEK is wrapped under the key its v1 blob names.
            let id = v1_key.ok_or(CryptoError::Malformed)?;
            (id, decode(body)?, dek_aad(row))
        } else {
            return Err(CryptoError::Malformed);
        };
        let pii_aad = match v1_key {
            Some(id) => pii_aad(row, id),
            None => pii_aad_v2(row),
        };
        Ok(Envelope {
            dek_key_id,
            dek_body,
            dek_aad,
            pii_body,
            pii_aad,
        })
    }
}

/// `dek:v2:<epoch key id>:<b64>`: the DEK sealed under the epoch key, bound to the row and to
/// that key.
pub(super) fn wrap_dek(epoch: &EpochKey, row: PiiRow<'_>, dek: &Key32) -> String {
    let wrapped = aead::seal(
        &epoch.key,
        dek.as_bytes(),
        dek_aad_v2(row, &epoch.id).as_bytes(),
    );
    format!("dek:v2:{}:{}", epoch.id, STANDARD.encode(wrapped))
}

pub(super) fn pii_aad(row: PiiRow<'_>, key_id: &str) -> String {
    format!(
        "v1|{}|{}|{}|order_pii|{key_id}",
        row.merchant_id, row.marketplace, row.external_id
    )
}

/// AAD of a `pii:v2` blob: the row's whole identity (merchant, marketplace, source
/// connection, external id, our order id). The key is the DEK's, which is bound to its epoch
/// key by [`dek_aad_v2`], so the blob stays valid when the DEK moves epoch.
pub(super) fn pii_aad_v2(row: PiiRow<'_>) -> String {
    format!(
        "v2|{}|{}|{}|{}|{}|order_pii",
        row.merchant_id, row.marketplace, row.connection_id, row.external_id, row.order_id
    )
}

/// AAD of a `dek:v2` wrapped DEK: the row's whole identity (as [`pii_aad_v2`]) and the id of
/// the epoch key wrapping it.
pub(super) fn dek_aad_v2(row: PiiRow<'_>, epoch_key_id: &str) -> String {
    format!(
        "dek|v2|{}|{}|{}|{}|{}|{epoch_key_id}",
        row.merchant_id, row.marketplace, row.connection_id, row.external_id, row.order_id
    )
}

pub(super) fn dek_aad(row: PiiRow<'_>) -> String {
    format!(
        "dek|v1|{}|{}|{}",
        row.merchant_id, row.marketplace, row.external_id
    )
}

pub(super) fn parse_envelope<'a>(
    s: &'a str,
    prefix: &str,
) -> Result<(&'a str, Vec<u8>), CryptoError> {
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

/// AAD of a tenant key wrapped by the master key (any version: the version is on the row).
pub(super) fn tenant_aad(merchant: &str, key_id: &str) -> String {
    format!("tenant|v1|{merchant}|{key_id}")
}

pub(super) fn decode_b64(s: &str) -> Result<Vec<u8>, CryptoError> {
    STANDARD.decode(s).map_err(|_| CryptoError::Malformed)
}
