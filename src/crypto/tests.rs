use super::*;
use kek::LocalKek;
use ordersync_sdk::Address;

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
};

#[tokio::test]
async fn pii_round_trip_and_row_binding() {
    let c = crypto_with(&LocalKek::generate_base64(), &temp_url("ks.db"))
        .await
        .unwrap();
    let now = OffsetDateTime::now_utc();
    let ek = c.epoch_key("m1", "2026-W50", now).await.unwrap();
    let sealed = c.seal_pii_with(&ek, ROW, &pii());
    assert!(sealed.pii_ct.starts_with(&format!("pii:v1:{}:", ek.id)));
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
