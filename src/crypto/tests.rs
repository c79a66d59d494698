use super::*;
use kek::LocalKek;
use ordersync_sdk::Address;
use std::sync::Arc;

fn temp_url(name: &str) -> String {
    let dir = std::env::temp_dir().join(format!("ordersync-crypto-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    format!("sqlite://{}", dir.join(name).display())
}

async fn crypto_with(kek_b64: &str, url: &str) -> Result<Crypto, CryptoError> {
    let ks = Keystore::connect(url).await.unwrap();
    Crypto::open(
        Arc::new(LocalKek::from_base64(kek_b64).unwrap()),
        ks,
        OffsetDateTime::now_utc(),
    )
    .await
}

fn pii() -> Pii {
    Pii {
        buyer_name: Some("Canary Ada".into()),
        email: Some("ada@customer.test".into()),
        shipping_address: Some(Address {
            line1: Some("1 Canary Street".into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

const ROW: PiiRow<'static> = PiiRow {
    merchant_id: "m1",
    marketplace: "shopify",
    external_id: "1001",
    connection_id: "c1",
    order_id: "o1",
};

#[tokio::test]
async fn pii_round_trip_and_row_binding() {
    let c = crypto_with(&LocalKek::generate_base64(), &temp_url("ks.db"))
        .await
        .unwrap();
    let now = OffsetDateTime::now_utc();
    let ek = c.epoch_key("m1", "2026-W50", now).await.unwrap();
    let sealed = c.seal_pii_with(&ek, ROW, &pii());
    assert!(sealed.pii_ct.starts_with("pii:v2:"));
    assert!(sealed.dek.starts_with(&format!("dek:v2:{}:", ek.id)));
    assert!(!sealed.pii_ct.contains("customer.test"));
    assert_eq!(
        c.open_pii(ROW, "2026-W50", &sealed, now).await.unwrap(),
        pii()
    );

    // the same ciphertext moved to another order, marketplace or tenant fails closed
    for other in [
        PiiRow {
            external_id: "1002",
            ..ROW
        },
        PiiRow {
            marketplace: "ebay",
            ..ROW
        },
        PiiRow {
            merchant_id: "m2",
            ..ROW
        },
    ] {
        assert!(c.open_pii(other, "2026-W50", &sealed, now).await.is_err());
    }
    // tampering with the blob fails
    let mut bad = sealed.clone();
    bad.pii_ct
        .replace_range(bad.pii_ct.len() - 6..bad.pii_ct.len() - 4, "AA");
    assert!(c.open_pii(ROW, "2026-W50", &bad, now).await.is_err());
    // swapping DEKs between two rows fails
    let other_row = PiiRow {
        external_id: "1002",
        ..ROW
    };
    let sealed2 = c.seal_pii_with(&ek, other_row, &pii());
    let swapped = SealedPii {
        pii_ct: sealed.pii_ct.clone(),
        dek: sealed2.dek.clone(),
    };
    assert!(c.open_pii(ROW, "2026-W50", &swapped, now).await.is_err());
}

#[tokio::test]
async fn wrong_master_key_is_refused_and_right_one_reopens() {
    let url = temp_url("ks.db");
    let key = LocalKek::generate_base64();
    let c = crypto_with(&key, &url).await.unwrap();
    let now = OffsetDateTime::now_utc();
    let ek = c.epoch_key("m1", "2026-W50", now).await.unwrap();
    let sealed = c.seal_pii_with(&ek, ROW, &pii());
    drop(c);
    assert!(matches!(
        crypto_with(&LocalKek::generate_base64(), &url).await,
        Err(CryptoError::WrongMasterKey)
    ));
    let again = crypto_with(&key, &url).await.unwrap();
    assert_eq!(
        again.open_pii(ROW, "2026-W50", &sealed, now).await.unwrap(),
        pii()
    );
}

#[tokio::test]
async fn destroyed_epoch_key_shreds_its_rows() {
    let c = crypto_with(&LocalKek::generate_base64(), &temp_url("ks.db"))
        .await
        .unwrap();
    let now = OffsetDateTime::now_utc();
    let ek = c.epoch_key("m1", "2026-W50", now).await.unwrap();
    let sealed = c.seal_pii_with(&ek, ROW, &pii());
    assert!(c.destroy_epoch("m1", "2026-W50", now).await.unwrap());
    assert!(matches!(
        c.open_pii(ROW, "2026-W50", &sealed, now).await,
        Err(CryptoError::Destroyed(_))
    ));
}

/// Two processes on one keystore: what one destroys, the other stops using once its cached
/// copy is older than `CACHE_TTL`, without a restart.
#[tokio::test]
async fn keys_destroyed_elsewhere_stop_working_here_within_the_cache_ttl() {
    let (kek, url) = (LocalKek::generate_base64(), temp_url("ks.db"));
    let here = crypto_with(&kek, &url).await.unwrap();
    let there = crypto_with(&kek, &url).await.unwrap();
    let now = OffsetDateTime::now_utc();
    let ek = here.epoch_key("m1", "2026-W50", now).await.unwrap();
    let sealed = here.seal_pii_with(&ek, ROW, &pii());
    here.blind_index("m1", "ada@customer.test", now)
        .await
        .unwrap();
    assert!(there.destroy_epoch("m1", "2026-W50", now).await.unwrap());
    let later = now + time::Duration::minutes(4);
    assert!(
        here.open_pii(ROW, "2026-W50", &sealed, later).await.is_ok(),
        "still cached"
    );
    let past_ttl = now + time::Duration::minutes(6);
    assert!(matches!(
        here.open_pii(ROW, "2026-W50", &sealed, past_ttl).await,
        Err(CryptoError::Destroyed(_))
    ));
    // A merchant terminated by another process: its keys go too.
    assert!(there.destroy_tenant("m1", past_ttl).await.unwrap());
    let after = past_ttl + time::Duration::minutes(6);
    assert!(matches!(
        here.blind_index("m1", "ada@customer.test", after).await,
        Err(CryptoError::Destroyed(_))
    ));
}

#[tokio::test]
async fn secrets_and_blind_index() {
    let c = crypto_with(&LocalKek::generate_base64(), &temp_url("ks.db"))
        .await
        .unwrap();
    let now = OffsetDateTime::now_utc();
    let mut s = Secrets::new();
    s.insert("access_token".into(), "shpat_canary".to_string().into());
    let sealed = c.seal_secrets("m1", "c1", &s, now).await.unwrap();
    assert!(!sealed.contains("shpat_canary"));
    let back = c.open_secrets("m1", "c1", &sealed, now).await.unwrap();
    assert_eq!(back["access_token"].expose_secret(), "shpat_canary");
    assert!(c.open_secrets("m1", "c2", &sealed, now).await.is_err());

    let a = c.blind_index("m1", "ada@customer.test", now).await.unwrap();
    assert_eq!(
        a,
        c.blind_index("m1", "ada@customer.test", now).await.unwrap()
    );
    assert_ne!(
        a,
        c.blind_index("m2", "ada@customer.test", now).await.unwrap()
    );
}

#[test]
fn epochs_are_iso_weeks() {
    let t = time::macros::datetime!(2026-12-31 12:00 UTC);
    assert_eq!(epoch_of(t), "2026-W53");
}

/// A row as sealed before envelopes v2: `pii:v1:<epoch key id>:…` (AAD binds the key id) and
/// `dek:v1:…`.
fn seal_v1(ek: &EpochKey, row: PiiRow<'_>, pii: &Pii) -> SealedPii {
    let plaintext = serde_json::to_vec(pii).unwrap();
    let dek = Key32::generate();
    let ct = aead::seal(&dek, &plaintext, pii_aad(row, &ek.id).as_bytes());
    let wrapped = aead::seal(&ek.key, dek.as_bytes(), dek_aad(row).as_bytes());
    SealedPii {
        pii_ct: format!("pii:v1:{}:{}", ek.id, STANDARD.encode(ct)),
        dek: format!("dek:v1:{}", STANDARD.encode(wrapped)),
    }
}

#[tokio::test]
async fn a_dek_moves_to_another_epoch_and_the_old_one_can_then_be_shredded() {
    let c = crypto_with(&LocalKek::generate_base64(), &temp_url("ks.db"))
        .await
        .unwrap();
    let now = OffsetDateTime::now_utc();
    let fallback = c.epoch_key("m1", "2027-W10", now).await.unwrap();
    let delivered = c.epoch_key("m1", "2026-W52", now).await.unwrap();
    let v2 = c.seal_pii_with(&fallback, ROW, &pii());
    let v1 = seal_v1(&fallback, ROW, &pii());
    assert_eq!(c.open_pii(ROW, "2027-W10", &v1, now).await.unwrap(), pii());
    for sealed in [v2, v1] {
        let dek = c
            .rewrap_dek(ROW, "2027-W10", &sealed, &delivered, now)
            .await
            .unwrap();
        assert!(dek.starts_with(&format!("dek:v2:{}:", delivered.id)));
        let moved = SealedPii {
            pii_ct: sealed.pii_ct.clone(),
            dek,
        };
        assert_eq!(
            c.open_pii(ROW, "2026-W52", &moved, now).await.unwrap(),
            pii()
        );
        // The moved DEK names its key: it does not open as a row of the old epoch, nor of
        // another row.
        assert!(c.open_pii(ROW, "2027-W10", &moved, now).await.is_err());
        let other = PiiRow {
            external_id: "1002",
            ..ROW
        };
        assert!(c.open_pii(other, "2026-W52", &moved, now).await.is_err());
        // A DEK that names another key than the row's epoch key is refused before any AEAD.
        let forged = SealedPii {
            pii_ct: sealed.pii_ct.clone(),
            dek: moved.dek.replacen(&delivered.id, &fallback.id, 1),
        };
        assert!(c.open_pii(ROW, "2027-W10", &forged, now).await.is_err());
    }
    // A v2 blob never pairs with a v1 DEK.
    let v2 = c.seal_pii_with(&fallback, ROW, &pii());
    let v1 = seal_v1(&fallback, ROW, &pii());
    let mixed = SealedPii {
        pii_ct: v2.pii_ct,
        dek: v1.dek.clone(),
    };
    assert!(matches!(
        c.open_pii(ROW, "2027-W10", &mixed, now).await,
        Err(CryptoError::Malformed)
    ));

    // Shredding the old epoch does not touch the moved rows; it does shred the rest.
    let moved_dek = c
        .rewrap_dek(ROW, "2027-W10", &v1, &delivered, now)
        .await
        .unwrap();
    let left = c.seal_pii_with(&fallback, ROW, &pii());
    assert!(c.destroy_epoch("m1", "2027-W10", now).await.unwrap());
    let moved = SealedPii {
        pii_ct: v1.pii_ct.clone(),
        dek: moved_dek,
    };
    assert_eq!(
        c.open_pii(ROW, "2026-W52", &moved, now).await.unwrap(),
        pii()
    );
    assert!(matches!(
        c.open_pii(ROW, "2027-W10", &left, now).await,
        Err(CryptoError::Destroyed(_))
    ));
    assert!(matches!(
        c.rewrap_dek(ROW, "2027-W10", &left, &delivered, now).await,
        Err(CryptoError::Destroyed(_))
    ));
}

#[tokio::test]
async fn a_destroyed_epoch_is_sealed_into_a_new_generation_never_again() {
    let url = temp_url("ks.db");
    let key = LocalKek::generate_base64();
    let c = crypto_with(&key, &url).await.unwrap();
    let now = OffsetDateTime::now_utc();
    let first = c.sealing_key("m1", "2026-W48", now).await.unwrap();
    assert_eq!(first.epoch, "2026-W48");
    let old = c.seal_pii_with(&first, ROW, &pii());
    assert!(c.destroy_epoch("m1", "2026-W48", now).await.unwrap());
    // The week's key is gone for good (asking for it again does not make a new one) ...
    assert!(matches!(
        c.epoch_key("m1", "2026-W48", now).await,
        Err(CryptoError::Destroyed(_))
    ));
    // ... so PII of that week goes under a generation of it, a key of its own.
    let next = c.sealing_key("m1", "2026-W48", now).await.unwrap();
    assert_eq!(next.epoch, "2026-W48.1");
    assert_ne!(next.id, first.id);
    let sealed = c.seal_pii_with(&next, ROW, &pii());
    assert_eq!(
        c.open_pii(ROW, "2026-W48.1", &sealed, now).await.unwrap(),
        pii()
    );
    assert!(c.open_pii(ROW, "2026-W48", &sealed, now).await.is_err());
    // Another process (no cache) agrees, and the shredded rows stay shredded.
    drop(c);
    let again = crypto_with(&key, &url).await.unwrap();
    assert_eq!(
        again.sealing_key("m1", "2026-W48", now).await.unwrap().id,
        next.id
    );
    assert!(matches!(
        again.open_pii(ROW, "2026-W48", &old, now).await,
        Err(CryptoError::Destroyed(_))
    ));
    assert!(again.destroy_epoch("m1", "2026-W48.1", now).await.unwrap());
    assert_eq!(
        again
            .sealing_key("m1", "2026-W48", now)
            .await
            .unwrap()
            .epoch,
        "2026-W48.2"
    );
    // Other merchants' epochs of that week are untouched.
    assert_eq!(
        again
            .sealing_key("m2", "2026-W48", now)
            .await
            .unwrap()
            .epoch,
        "2026-W48"
    );
    // A destroyed tenant key is not worked around with generations.
    assert!(again.destroy_tenant("m1", now).await.unwrap());
    assert!(matches!(
        again.sealing_key("m1", "2026-W49", now).await,
        Err(CryptoError::Destroyed(_))
    ));
}

#[test]
fn epoch_weeks_and_their_ends() {
    use time::macros::datetime;
    assert_eq!(epoch_week("2026-W48.3"), "2026-W48");
    assert_eq!(epoch_week("2026-W48"), "2026-W48");
    // 2026-W48 is Monday 23 November to Sunday 29 November 2026.
    assert_eq!(epoch_end("2026-W48"), Some(datetime!(2026-11-30 00:00 UTC)));
    assert_eq!(
        epoch_end("2026-W48.1"),
        Some(datetime!(2026-11-30 00:00 UTC))
    );
    assert_eq!(epoch_of(datetime!(2026-11-29 23:59:59 UTC)), "2026-W48");
    assert_eq!(epoch_of(datetime!(2026-11-30 00:00 UTC)), "2026-W49");
    // ISO years: 2026-12-31 is in 2026-W53, which ends on 4 January 2027.
    assert_eq!(epoch_end("2026-W53"), Some(datetime!(2027-01-04 00:00 UTC)));
    for bad in ["", "2026", "2026-W54", "2026-48", "x-Wy", "2026-W00"] {
        assert_eq!(epoch_end(bad), None, "{bad}");
    }
}

/// Master key rotation, v2 binding, purpose keys, decrypt-failure counting.
mod keys;
