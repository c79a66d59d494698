//! Master key rotation, envelope v2 binding, purpose-separated keys and decrypt-failure
//! counting. Every keystore test runs on SQLite and, with `ORDERSYNC_TEST_POSTGRES_URL` set,
//! on a fresh PostgreSQL database too.

use super::super::*;
use super::{pii, temp_url};
use kek::LocalKek;
use std::sync::Arc;

fn kek(b64: &str) -> Arc<dyn KeyEncryptionKey> {
    Arc::new(LocalKek::from_base64(b64).unwrap())
}

fn version(b64: &str) -> String {
    kek(b64).version().to_string()
}

/// A SQLite keystore URL and, when configured, a fresh PostgreSQL database's.
async fn keystore_urls() -> Vec<String> {
    let mut v = vec![temp_url("ks.db")];
    if let Some(admin) = std::env::var("ORDERSYNC_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
    {
        use sqlx::Connection;
        let name = format!("ordersync_ks_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .unwrap();
        let mut url = url::Url::parse(&admin).unwrap();
        url.set_path(&name);
        v.push(url.to_string());
    }
    v
}

async fn open(keys: MasterKeys, url: &str) -> Result<Crypto, CryptoError> {
    let ks = Keystore::connect(url).await.unwrap();
    Crypto::open(keys, ks, OffsetDateTime::now_utc()).await
}

fn only(b64: &str) -> MasterKeys {
    MasterKeys::new(kek(b64))
}

fn rotating(new: &str, old: &str) -> MasterKeys {
    MasterKeys::new(kek(new)).with_previous(kek(old))
}

const EPOCH: &str = "2026-W50";

fn row(merchant: &str) -> PiiRow<'_> {
    PiiRow {
        merchant_id: merchant,
        marketplace: "shopify",
        external_id: "1001",
        connection_id: "c1",
        order_id: "o1",
    }
}

async fn seal(c: &Crypto, merchant: &str) -> SealedPii {
    let now = OffsetDateTime::now_utc();
    let ek = c.epoch_key(merchant, EPOCH, now).await.unwrap();
    c.seal_pii_with(&ek, row(merchant), &pii())
}

async fn opens(c: &Crypto, merchant: &str, sealed: &SealedPii) -> Result<Pii, CryptoError> {
    c.open_pii(row(merchant), EPOCH, sealed, OffsetDateTime::now_utc())
        .await
}

fn versions(vs: &[KeyVersionStatus]) -> Vec<(String, bool, i64)> {
    let mut v: Vec<_> = vs
        .iter()
        .map(|v| (v.version.clone(), v.retired, v.tenant_keys))
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn rotation_rewraps_every_tenant_key_and_then_refuses_the_old_version() {
    for url in keystore_urls().await {
        let (k1, k2) = (LocalKek::generate_base64(), LocalKek::generate_base64());
        let (v1, v2) = (version(&k1), version(&k2));
        let now = OffsetDateTime::now_utc();
        let c1 = open(only(&k1), &url).await.unwrap();
        let merchants: Vec<String> = (1..=5).map(|i| format!("m{i}")).collect();
        let mut sealed = vec![];
        for m in &merchants {
            sealed.push(seal(&c1, m).await);
        }
        let mut secrets = Secrets::new();
        secrets.insert("api_key".into(), "canary-secret".to_string().into());
        let sec = c1.seal_secrets("m1", "c1", &secrets, now).await.unwrap();

        // Two processes that only hold the old key: one has m1's keys cached, one has none.
        let warm = open(only(&k1), &url).await.unwrap();
        assert_eq!(opens(&warm, "m1", &sealed[0]).await.unwrap(), pii());
        let cold = open(only(&k1), &url).await.unwrap();

        // The new key is accepted because the old one vouches for it.
        let c2 = open(rotating(&k2, &k1), &url).await.unwrap();
        assert_eq!(
            versions(&c2.key_versions().await.unwrap()),
            {
                let mut v = vec![(v1.clone(), false, 5), (v2.clone(), false, 0)];
                v.sort();
                v
            },
            "{url}"
        );
        // A merchant new during the rotation gets a tenant key under the new version; a
        // process without that version fails clearly (and retriably), naming it.
        let s6 = seal(&c2, "m6").await;
        let e = opens(&cold, "m6", &s6).await.unwrap_err();
        assert!(e.is_transient(), "{e}");
        assert!(
            matches!(&e, CryptoError::MasterKeyUnavailable { version, .. } if *version == v2),
            "{e}"
        );
        assert!(
            e.to_string().contains(&v2) && e.to_string().contains(&v1),
            "{e}"
        );

        // Small batches, so the pagination is exercised.
        let r = c2.rotate(2, now).await.unwrap();
        assert_eq!(r.rewrapped, 5, "{url}: every old tenant key");
        assert_eq!(r.retired, vec![v1.clone()], "{url}");
        assert_eq!(
            versions(&c2.key_versions().await.unwrap()),
            {
                let mut v = vec![(v1.clone(), true, 0), (v2.clone(), false, 6)];
                v.sort();
                v
            },
            "{url}"
        );
        // Converged: a second run has nothing to do.
        let again = c2.rotate(2, now).await.unwrap();
        assert_eq!((again.rewrapped, again.retired.len()), (0, 0));

        // The old process keeps working from its cache ...
        assert_eq!(opens(&warm, "m1", &sealed[0]).await.unwrap(), pii());
        let s1 = seal(&warm, "m1").await;
        assert_eq!(opens(&c2, "m1", &s1).await.unwrap(), pii());
        // ... but what it has not unwrapped yet fails with the version named, not a panic,
        let e = opens(&cold, "m2", &sealed[1]).await.unwrap_err();
        assert!(
            matches!(&e, CryptoError::MasterKeyUnavailable { version, .. } if *version == v2),
            "{e}"
        );
        // and it can no longer add a key under the retired version.
        let e = warm.epoch_key("m7", EPOCH, now).await.err().unwrap();
        assert!(
            matches!(&e, CryptoError::RetiredMasterKey(v) if *v == v1),
            "{url}: {e}"
        );
        assert!(
            cold.decrypt_failures(Some("m2"))
                .iter()
                .any(|f| f.key_kind == "master" && f.reason == "key_unavailable")
        );

        // A process started with only the retired key refuses to start, with a clear message.
        let e = open(only(&k1), &url).await.err().unwrap();
        assert!(
            matches!(&e, CryptoError::RetiredMasterKey(v) if *v == v1),
            "{e}"
        );
        assert!(e.to_string().contains("retired"), "{e}");
        // The new key alone opens everything, from an empty cache.
        let fresh = open(only(&k2), &url).await.unwrap();
        for (m, s) in merchants.iter().zip(&sealed) {
            assert_eq!(opens(&fresh, m, s).await.unwrap(), pii(), "{url}: {m}");
        }
        assert_eq!(opens(&fresh, "m6", &s6).await.unwrap(), pii());
        let back = fresh.open_secrets("m1", "c1", &sec, now).await.unwrap();
        assert_eq!(back["api_key"].expose_secret(), "canary-secret");
        // A leftover ORDERSYNC_MASTER_KEY_PREVIOUS naming the retired key is ignored.
        let leftover = open(rotating(&k2, &k1), &url).await.unwrap();
        assert!(leftover.master_keys().previous().is_empty());
        // A wrong key is still refused, and a wrong previous key too.
        let k3 = LocalKek::generate_base64();
        assert!(matches!(
            open(only(&k3), &url).await,
            Err(CryptoError::WrongMasterKey)
        ));
        assert!(matches!(
            open(rotating(&k2, &k3), &url).await,
            Err(CryptoError::WrongPreviousMasterKey(v)) if v == version(&k3)
        ));
    }
}

/// A process still on the old version adds a tenant key after the re-wrap pass: the version
/// is not retired while that row exists; the next round re-wraps it. Once retired, the
/// keystore refuses new rows under it in the same statement that checks it.
#[tokio::test]
async fn retirement_waits_for_rows_added_under_the_old_version() {
    for url in keystore_urls().await {
        let (k1, k2) = (LocalKek::generate_base64(), LocalKek::generate_base64());
        let v1 = version(&k1);
        let now = OffsetDateTime::now_utc();
        let old = open(only(&k1), &url).await.unwrap();
        let new = open(rotating(&k2, &k1), &url).await.unwrap();
        let s = seal(&old, "late").await;
        let ks = new.keystore();
        assert!(
            !ks.retire_version(&v1, micros(now)).await.unwrap(),
            "{url}: a live tenant key is still under {v1}"
        );
        let r = new.rotate(100, now).await.unwrap();
        assert_eq!((r.rewrapped, r.retired.clone()), (1, vec![v1.clone()]));
        assert_eq!(opens(&new, "late", &s).await.unwrap(), pii());
        let row = KeyRow {
            key_id: new_key_id(),
            wrapped: "x".into(),
            destroyed_at: None,
            kek_version: Some(v1.clone()),
        };
        assert!(
            ks.insert_or_get_checked(&row, "m9", "tenant", "", micros(now))
                .await
                .unwrap()
                .is_none(),
            "{url}: no row under a retired version"
        );
        // Compare-and-swap: a stale read never overwrites.
        let t = ks.get("late", "tenant", "").await.unwrap().unwrap();
        assert!(!ks.rewrap(&t.key_id, "stale", "y", &v1).await.unwrap());
        assert_eq!(
            ks.get("late", "tenant", "").await.unwrap().unwrap().wrapped,
            t.wrapped
        );
    }
}

/// A keystore from before master key versions were recorded (no `kek_version` column) is
/// migrated and its rows attributed to the key that opens its check row; it then rotates.
#[tokio::test]
async fn a_keystore_without_versions_is_migrated_and_rotates() {
    for url in keystore_urls().await {
        let (k1, k2) = (LocalKek::generate_base64(), LocalKek::generate_base64());
        let c = open(only(&k1), &url).await.unwrap();
        let s = seal(&c, "m1").await;
        match c.keystore() {
            Keystore::Sqlite(p) => {
                sqlx::query("ALTER TABLE keystore_keys DROP COLUMN kek_version")
                    .execute(p)
                    .await
                    .unwrap();
            }
            Keystore::Postgres(p) => {
                sqlx::query("ALTER TABLE keystore_keys DROP COLUMN kek_version")
                    .execute(p)
                    .await
                    .unwrap();
            }
        }
        drop(c);
        let c = open(only(&k1), &url).await.unwrap();
        assert_eq!(
            versions(&c.key_versions().await.unwrap()),
            vec![(version(&k1), false, 1)],
            "{url}"
        );
        assert_eq!(opens(&c, "m1", &s).await.unwrap(), pii());
        let c2 = open(rotating(&k2, &k1), &url).await.unwrap();
        assert_eq!(
            c2.rotate(10, OffsetDateTime::now_utc())
                .await
                .unwrap()
                .rewrapped,
            1
        );
        let fresh = open(only(&k2), &url).await.unwrap();
        assert_eq!(opens(&fresh, "m1", &s).await.unwrap(), pii());
    }
}

/// `pii:v2`/`dek:v2` bind the source connection and our order id; `v1` envelopes (existing
/// data) do not and still open.
#[tokio::test]
async fn v2_binds_connection_and_order_ids_and_v1_still_opens() {
    let c = open(only(&LocalKek::generate_base64()), &temp_url("ks.db"))
        .await
        .unwrap();
    let now = OffsetDateTime::now_utc();
    let ek = c.epoch_key("m1", EPOCH, now).await.unwrap();
    let r = row("m1");
    let sealed = c.seal_pii_with(&ek, r, &pii());
    assert!(sealed.pii_ct.starts_with("pii:v2:") && sealed.dek.starts_with("dek:v2:"));
    assert_eq!(c.open_pii(r, EPOCH, &sealed, now).await.unwrap(), pii());
    for other in [
        PiiRow {
            connection_id: "c2",
            ..r
        },
        PiiRow {
            order_id: "o2",
            ..r
        },
    ] {
        assert!(matches!(
            c.open_pii(other, EPOCH, &sealed, now).await,
            Err(CryptoError::Open(_))
        ));
    }
    // Only the blob moved to another order (its own DEK kept) fails too.
    let theirs = c.seal_pii_with(
        &ek,
        PiiRow {
            order_id: "o2",
            ..r
        },
        &pii(),
    );
    let moved = SealedPii {
        pii_ct: sealed.pii_ct.clone(),
        dek: theirs.dek,
    };
    assert!(c.open_pii(r, EPOCH, &moved, now).await.is_err());
    // A v1 envelope opens whatever the connection and order ids are (it never bound them).
    let v1 = super::seal_v1(&ek, r, &pii());
    for any in [
        r,
        PiiRow {
            connection_id: "c9",
            order_id: "o9",
            ..r
        },
    ] {
        assert_eq!(c.open_pii(any, EPOCH, &v1, now).await.unwrap(), pii());
    }
    // Relabelling a v2 blob as v1 does not get around the binding.
    let downgraded = SealedPii {
        pii_ct: sealed
            .pii_ct
            .replacen("pii:v2:", &format!("pii:v1:{}:", ek.id), 1),
        dek: sealed.dek.clone(),
    };
    assert!(c.open_pii(r, EPOCH, &downgraded, now).await.is_err());
}

/// The content hash and the blind index use different keys; hashes stored before the split
/// still compare equal for unchanged content.
#[tokio::test]
async fn content_hash_and_blind_index_use_different_keys() {
    let c = open(only(&LocalKek::generate_base64()), &temp_url("ks.db"))
        .await
        .unwrap();
    let now = OffsetDateTime::now_utc();
    let h = c.content_hasher("m1", now).await.unwrap();
    let idx = c.index_key("m1", now).await.unwrap();
    let content = "ada@customer.test";
    let fresh = h.hash(content);
    assert!(fresh.starts_with(ContentHasher::PREFIX));
    assert_ne!(&fresh[ContentHasher::PREFIX.len()..], idx.index(content));
    assert_ne!(
        fresh,
        c.content_hasher("m2", now).await.unwrap().hash(content)
    );
    // Separate keystore rows: one per purpose.
    let ks = c.keystore();
    let hash_row = ks.get("m1", "hash", "").await.unwrap().unwrap();
    let index_row = ks.get("m1", "index", "").await.unwrap().unwrap();
    assert_ne!(hash_row.key_id, index_row.key_id);
    // Comparisons: the new form, and the old form under the index key.
    assert!(h.unchanged(&fresh, content, &fresh));
    assert!(!h.unchanged(&fresh, "other", &h.hash("other")));
    let legacy = idx.index(content);
    assert_eq!(h.legacy_hash(content), legacy);
    assert!(h.unchanged(&legacy, content, &fresh));
    assert!(!h.unchanged(&legacy, "other", &h.hash("other")));
    assert!(!h.unchanged("", content, &fresh), "purged rows store ''");
}

/// Decrypt failures are counted per key kind and reason, and the metric's labels carry no
/// ids.
#[tokio::test]
async fn decrypt_failures_are_counted_per_key_kind_without_ids() {
    let handle = crate::telemetry::metrics();
    let c = open(only(&LocalKek::generate_base64()), &temp_url("ks.db"))
        .await
        .unwrap();
    let now = OffsetDateTime::now_utc();
    let merchant = "merchant-canary-7f3a";
    let s = seal(&c, merchant).await;
    for i in 0..failures::ALERT_THRESHOLD {
        let mut bad = s.clone();
        let at = bad.pii_ct.len() - 4 - (i % 8);
        let flip = if &bad.pii_ct[at..=at] == "A" {
            "B"
        } else {
            "A"
        };
        bad.pii_ct.replace_range(at..=at, flip);
        assert!(opens(&c, merchant, &bad).await.is_err());
    }
    let mut malformed = s.clone();
    malformed.dek = "dek:v9:x".into();
    assert!(matches!(
        opens(&c, merchant, &malformed).await,
        Err(CryptoError::Malformed)
    ));
    assert!(
        c.open_secrets(merchant, "c1", "sec:v1:nokey:AAAA", now)
            .await
            .is_err()
    );
    let recent = c.decrypt_failures(Some(merchant));
    let count = |k: &str, r: &str| {
        recent
            .iter()
            .find(|f| f.key_kind == k && f.reason == r)
            .map_or(0, |f| f.count)
    };
    assert_eq!(
        count("dek", "auth"),
        failures::ALERT_THRESHOLD as u64,
        "{recent:?}"
    );
    assert_eq!(count("dek", "malformed"), 1, "{recent:?}");
    assert!(c.decrypt_failures(Some("someone-else")).is_empty());
    let rendered = handle.render();
    assert!(
        rendered.contains("ordersync_decrypt_failures_total{key_kind=\"dek\",reason=\"auth\"}"),
        "{rendered}"
    );
    assert!(rendered.contains("ordersync_decrypt_failure_alerts_total{key_kind=\"dek\"}"));
    assert!(!rendered.contains(merchant), "no ids in metrics");
}
