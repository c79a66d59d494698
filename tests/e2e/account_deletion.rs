//! eBay Marketplace Account Deletion through the service: the endpoint challenge, eBay's own
//! signed test notice (verified with the key the simulated Notification API publishes), and
//! the erasure of that buyer's synced orders only, once, audited without PII.

use crate::api::spawn_with;
use crate::helpers::{capture_logs, captured_logs, eventually};
use ordersync_conformance::sim_post;
use ordersync_sdk::Clock;
use reqwest::Method;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

const TOKEN: &str = "e2e-verification-token-0123456789abcdef-xyz";
const PATH: &str = "/webhooks/ebay/account-deletion";

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/connectors/ebay/fixtures/notifications/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
    .trim()
    .to_string()
}

#[tokio::test]
async fn ebay_account_deletion_challenge_verification_and_erasure() {
    capture_logs();
    let a = spawn_with(true, |s| {
        s.notification_tokens
            .insert("ebay", TOKEN.to_string().into());
    })
    .await;
    let post = |vector: &'static str, sig: Option<String>| {
        let (http, base) = (a.http.clone(), a.base.clone());
        async move {
            let mut rb = http
                .post(format!("{base}{PATH}"))
                .header("content-type", "application/json")
                .body(fixture(&format!("{vector}.body.json")));
            if let Some(s) = sig.or_else(|| Some(fixture(&format!("{vector}.signature")))) {
                rb = rb.header("x-ebay-signature", s);
            }
            rb.send().await.unwrap().status().as_u16()
        }
    };

    // The challenge hashes the code, the token and the endpoint as this request reached it.
    let code = "a8628072-3d33-45ee-9004-bee86830a22d";
    let r = a
        .http
        .get(format!("{}{PATH}?challenge_code={code}", a.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let body: serde_json::Value = r.json().await.unwrap();
    let want: String = Sha256::digest(format!("{code}{TOKEN}{}{PATH}", a.base))
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(body["challengeResponse"], want.as_str());
    let r = a
        .http
        .get(format!("{}{PATH}", a.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "no challenge code");
    // A malformed signature is refused before anything else; with no eBay connection a
    // well-formed notice is acknowledged (nothing here could be named by it).
    assert_eq!(
        post("valid", Some("bm90LWEtc2lnbmF0dXJl".into())).await,
        412
    );
    assert_eq!(post("valid", None).await, 204);

    // A merchant syncs eight eBay orders; two were placed by eBay user `test_user`, the
    // account eBay's signed test notice names.
    let clock: Arc<dyn Clock> = a.t.clock.clone();
    let sim = ordersync_ebay::sim::spawn(ordersync_ebay::sim::SimOptions::relaxed(), clock)
        .await
        .unwrap();
    sim_post(
        &sim.base_url,
        "/_sim/seed",
        json!({ "count": 8, "seed": 9 }),
    )
    .await;
    let first = ordersync_ebay::sim::FIRST_ID;
    let theirs = [
        ordersync_ebay::sim::order_id(first + 2),
        ordersync_ebay::sim::order_id(first + 5),
    ];
    let changed = sim_post(
        &sim.base_url,
        "/_sim/buyer",
        json!({ "order_ids": theirs, "username": "test_user" }),
    )
    .await;
    assert_eq!(changed["changed"], 2);
    let (m, tok) = a.merchant("ebay seller").await;
    let spec = ordersync_ebay::DESCRIPTOR.sim.unwrap();
    let secrets: serde_json::Map<String, serde_json::Value> = spec
        .demo_secrets
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    let (st, b) = a
        .call(
            Method::POST,
            "/api/v1/connections",
            &tok,
            Some(json!({ "kind": "ebay", "config": (spec.demo_config)(&sim.base_url), "secrets": secrets })),
        )
        .await;
    assert_eq!(st, 201, "{b}");
    let cancel = CancellationToken::new();
    let worker = {
        let (e, c) = (a.t.app.engine(), cancel.clone());
        tokio::spawn(async move { e.run(c).await })
    };
    let store = a.t.app.store.clone();
    assert!(
        eventually(60, || async { store.totals().await.unwrap().orders == 8 }).await,
        "8 orders synced"
    );
    cancel.cancel();
    worker.await.unwrap();
    let orders = |purged: bool| {
        let store = a.t.app.store.clone();
        let m = m.clone();
        async move {
            let q = ordersync::store::OrderQuery {
                merchant_id: m,
                limit: 100,
                ..Default::default()
            };
            let ids: Vec<String> = store
                .list_orders(&q)
                .await
                .unwrap()
                .into_iter()
                .map(|o| o.id)
                .collect();
            let mut ext: Vec<String> = store
                .orders_by_ids(&ids)
                .await
                .unwrap()
                .into_iter()
                .filter(|o| o.pii_purged_at.is_some() == purged)
                .map(|o| o.external_id)
                .collect();
            ext.sort();
            ext
        }
    };
    assert_eq!(orders(true).await.len(), 0);

    // eBay's key service is down: 500, so that eBay retries; nothing is erased.
    sim_post(
        &sim.base_url,
        "/_sim/public_key_outage",
        json!({ "on": true }),
    )
    .await;
    assert_eq!(post("valid", None).await, 500);
    assert_eq!(orders(true).await.len(), 0);
    sim_post(
        &sim.base_url,
        "/_sim/public_key_outage",
        json!({ "on": false }),
    )
    .await;

    // Tampered notices: 412, nothing erased.
    assert_eq!(post("signature_mismatch", None).await, 412);
    assert_eq!(post("invalid", None).await, 412);
    assert_eq!(orders(true).await.len(), 0);

    // eBay's signed notice: 204, and exactly that buyer's two orders lose their PII.
    assert_eq!(post("valid", None).await, 204);
    let mut want = theirs.to_vec();
    want.sort();
    assert_eq!(orders(true).await, want);
    assert_eq!(orders(false).await.len(), 6);
    let audit = || {
        let (store, m) = (a.t.app.store.clone(), m.clone());
        async move {
            store
                .list_audit(&m, 100)
                .await
                .unwrap()
                .into_iter()
                .filter(|r| r.action == "privacy.buyer_account_deleted")
                .map(|r| r.detail.unwrap_or_default())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(audit().await, vec!["2 orders named, 2 erased".to_string()]);
    // eBay redelivers it: acknowledged again, acted on and audited once.
    assert_eq!(post("valid", None).await, 204);
    assert_eq!(audit().await.len(), 1);
    let all = format!("{:?}", a.t.app.store.list_audit(&m, 100).await.unwrap());
    assert!(
        !all.contains("test_user"),
        "no account name in the audit log"
    );
    // The key service outage above was logged: without the token, the app's credentials,
    // the account name or the buyers.
    let logs = captured_logs();
    assert!(logs.contains("Cannot verify a platform notification now"));
    for secret in [
        TOKEN,
        "demo-cert-id",
        "test_user",
        "customer.test",
        "Canary",
    ] {
        assert!(!logs.contains(secret), "{secret} in the logs");
    }
}
