//! Marketplace privacy requests: Shopify's mandatory compliance webhooks erase what they
//! name (and only that), are verified on the raw body, are acted on once, and yield to a
//! legal hold.

use crate::api::{Api, spawn_with};
use crate::helpers::eventually;
use ordersync::store::{CursorRow, OrderUpsert, PageCommit};
use ordersync_sdk::Clock;
use ordersync_sdk::webhooks::sign_base64;
use reqwest::Method;
use serde_json::json;

const SHOP: &str = "privacy.myshopify.com";
const SECRET: &[u8] = b"app-secret";

async fn hook(a: &Api, topic: &str, sig: Option<&str>, body: &[u8]) -> u16 {
    let mut rb = a
        .http
        .post(format!("{}/webhooks/shopify", a.base))
        .header("content-type", "application/json")
        .header("x-shopify-topic", topic)
        .header("x-shopify-shop-domain", SHOP);
    if let Some(s) = sig {
        rb = rb.header("x-shopify-hmac-sha256", s);
    }
    rb.body(body.to_vec())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Our id of the order with the (numeric) platform id `ext`.
fn order_id(ext: &str) -> String {
    format!(
        "00000000-0000-7000-8000-{:012}",
        ext.parse::<u64>().unwrap()
    )
}

/// A merchant with a Shopify connection holding orders `ext` (with the given emails).
async fn setup(a: &Api, orders: &[(&str, &str)]) -> (String, String, String) {
    let (m, tok) = a.merchant("privacy").await;
    let (st, b) = a
        .call(
            Method::POST,
            "/api/v1/connections",
            &tok,
            Some(json!({ "kind": "shopify", "config": { "shop_domain": SHOP }, "secrets": { "access_token": "shpat_x" } })),
        )
        .await;
    assert_eq!(st, 201, "{b}");
    let c = b["id"].as_str().unwrap().to_string();
    let now = a.t.now_us();
    let mut ups = Vec::new();
    for (ext, email) in orders {
        let bidx =
            a.t.app
                .crypto
                .blind_index(&m, email, a.t.clock.now())
                .await
                .unwrap();
        ups.push(OrderUpsert {
            id: order_id(ext),
            merchant_id: m.clone(),
            connection_id: c.clone(),
            marketplace: "shopify".into(),
            external_id: ext.to_string(),
            order_number: format!("#{ext}"),
            status: "open".into(),
            data: "{}".into(),
            content_hash: format!("h-{ext}"),
            version: 1,
            pii_ct: Some("pii:v1:k:x".into()),
            pii_dek: Some("dek:v1:x".into()),
            pii_epoch: Some("2026-W50".into()),
            pii_fields: 3,
            email_bidx: Some(bidx),
            buyer_bidx: None,
            source_created_at: now,
            source_updated_at: now,
            purge_after: now + 90 * 86_400_000_000,
            now,
        });
    }
    a.t.app
        .store
        .commit_page(&PageCommit {
            connection_id: c.clone(),
            lease_owner: None,
            now,
            orders: ups,
            deliveries: vec![],
            cursor: CursorRow {
                watermark: Some(now),
                window_until: None,
                page_token: None,
            },
            rejected: vec![],
            rejected_reason: None,
        })
        .await
        .unwrap();
    (m, tok, c)
}

async fn purged(a: &Api, m: &str, ext: &str) -> bool {
    a.t.app
        .store
        .get_order(m, &order_id(ext))
        .await
        .unwrap()
        .unwrap()
        .pii_purged_at
        .is_some()
}

async fn audits(a: &Api, m: &str, action: &str) -> Vec<String> {
    a.t.app
        .store
        .list_audit(m, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.action == action)
        .map(|r| r.detail.unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn shopify_compliance_webhooks_erase_what_they_name_once() {
    let a = spawn_with(true, |s| {
        s.app_secrets
            .insert("shopify", "app-secret".to_string().into());
    })
    .await;
    let (m, tok, _) = setup(
        &a,
        &[
            ("299938", "someone@example.com"),
            ("280263", "else@example.com"),
            ("5001", "john@example.com"),
            ("5002", "other@example.com"),
            ("5003", "john@example.com"),
        ],
    )
    .await;
    // 5003 is under a legal hold: its PII stays whatever the request.
    let until = (a.t.clock.now() + time::Duration::days(365))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let (st, _) = a
        .call(
            Method::PUT,
            &format!("/api/v1/orders/{}/legal-hold", order_id("5003")),
            &tok,
            Some(json!({ "hold": true, "legal_basis": "a court order (test)", "until": until })),
        )
        .await;
    assert_eq!(st, 200);

    // Shopify's own example body (api-specs/shopify/webhooks/customers_redact.json), with
    // the email in another case: the blind index normalises it.
    let body = br#"{"shop_id":954889,"shop_domain":"privacy.myshopify.com","customer":{"id":191167,"email":" John@Example.com","phone":"555-625-1199"},"orders_to_redact":[299938,280263,220458]}"#;
    let sig = sign_base64(SECRET, body);
    assert_eq!(hook(&a, "customers/redact", None, body).await, 401);
    assert_eq!(
        hook(
            &a,
            "customers/redact",
            Some(&sign_base64(b"wrong", body)),
            body
        )
        .await,
        401
    );
    assert!(
        !purged(&a, &m, "299938").await,
        "nothing done for a refused request"
    );
    assert_eq!(hook(&a, "customers/redact", Some(&sig), body).await, 200);
    for ext in ["299938", "280263", "5001"] {
        assert!(purged(&a, &m, ext).await, "{ext} erased");
    }
    assert!(
        !purged(&a, &m, "5002").await,
        "another customer's order is kept"
    );
    assert!(!purged(&a, &m, "5003").await, "a legal hold wins");
    assert_eq!(
        audits(&a, &m, "privacy.customer_redact").await,
        vec!["4 orders named, 3 erased"]
    );
    assert_eq!(audits(&a, &m, "pii.erased").await.len(), 1);
    // A replay is acknowledged and not acted on again.
    assert_eq!(hook(&a, "customers/redact", Some(&sig), body).await, 200);
    assert_eq!(audits(&a, &m, "privacy.customer_redact").await.len(), 1);

    // A data request is audited with what it names, and erases nothing.
    let body = br#"{"shop_id":954889,"shop_domain":"privacy.myshopify.com","orders_requested":[5002],"customer":{"id":191168,"email":"other@example.com","phone":"555-625-1199"},"data_request":{"id":9999}}"#;
    assert_eq!(
        hook(
            &a,
            "customers/data_request",
            Some(&sign_base64(SECRET, body)),
            body
        )
        .await,
        200
    );
    assert_eq!(
        audits(&a, &m, "privacy.data_request").await,
        vec!["1 orders named"]
    );
    assert!(!purged(&a, &m, "5002").await);

    // The shop's redaction erases every order left, in the background; the hold stays.
    let body = br#"{"shop_id":954889,"shop_domain":"privacy.myshopify.com"}"#;
    assert_eq!(
        hook(&a, "shop/redact", Some(&sign_base64(SECRET, body)), body).await,
        200
    );
    let (a2, m2) = (&a, &m);
    assert!(
        eventually(60, || async move { purged(a2, m2, "5002").await }).await,
        "the shop's remaining orders are erased"
    );
    assert!(!purged(&a, &m, "5003").await, "a legal hold wins");
    // No PII reached the audit log.
    let all = a.t.app.store.list_audit(&m, 100).await.unwrap();
    assert!(
        all.iter()
            .all(|r| !format!("{r:?}").to_lowercase().contains("john@")),
        "{all:?}"
    );
}

/// The merchant's record of processing: every mandatory section filled from its own
/// connections and policies, and no personal data in it.
#[tokio::test]
async fn the_processing_record_names_sources_recipients_and_retention() {
    let a = spawn_with(true, |_| {}).await;
    let (_, tok, shop) = setup(&a, &[("7001", "canary.buyer@example.com")]).await;
    let ash = ordersync_aftership::sim::spawn(
        ordersync_aftership::sim::SimOptions::relaxed(),
        a.t.clock.clone(),
    )
    .await
    .unwrap();
    let (st, b) = a
        .call(
            Method::POST,
            "/api/v1/connections",
            &tok,
            Some(json!({ "kind": "aftership", "config": { "api_base_url": ash.base_url }, "secrets": { "api_key": "k" } })),
        )
        .await;
    assert_eq!(st, 201, "{b}");
    let sink = b["id"].as_str().unwrap().to_string();
    let (st, _) = a
        .call(
            Method::PUT,
            "/api/v1/retention/shopify",
            &tok,
            Some(json!({ "days_after_delivery": 45, "days_after_order": 90 })),
        )
        .await;
    assert_eq!(st, 200);
    let (st, r) = a
        .call(Method::GET, "/api/v1/processing-record", &tok, None)
        .await;
    assert_eq!(st, 200, "{r}");
    for section in [
        "data_subjects",
        "categories_of_data",
        "purposes",
        "sources",
        "recipients",
        "retention",
        "security_measures",
    ] {
        assert!(
            r[section].as_array().is_some_and(|v| !v.is_empty()),
            "{section} is empty: {r}"
        );
    }
    assert_eq!(r["sources"][0]["connection_id"], shop.as_str());
    assert_eq!(r["recipients"][0]["connection_id"], sink.as_str());
    assert_eq!(r["retention"][0]["marketplace"], "shopify");
    assert_eq!(r["retention"][0]["days_after_delivery"], 45);
    assert_eq!(r["retention"][0]["set_by"], "merchant policy");
    assert!(!r.to_string().contains("canary"), "{r}");
    // Another merchant's token sees only its own (empty) record.
    let (_, other) = a.merchant("other").await;
    let (_, r) = a
        .call(Method::GET, "/api/v1/processing-record", &other, None)
        .await;
    assert_eq!(r["sources"], json!([]));
}

/// Termination: the merchant's PII goes at once (legal holds end with the processing), its
/// tenant key is destroyed (every key below it with it), its tokens and connections stop;
/// its other data goes after the grace period; the audit log stays.
#[tokio::test]
async fn termination_erases_pii_destroys_the_tenant_key_and_later_the_rest() {
    let a = spawn_with(true, |_| {}).await;
    let (m, tok, c) = setup(&a, &[("8001", "a@example.com"), ("8002", "b@example.com")]).await;
    let until = (a.t.clock.now() + time::Duration::days(365))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let (st, _) = a
        .call(
            Method::PUT,
            &format!("/api/v1/orders/{}/legal-hold", order_id("8002")),
            &tok,
            Some(json!({ "hold": true, "legal_basis": "tax (test)", "until": until })),
        )
        .await;
    assert_eq!(st, 200);
    let path = format!("/api/v1/merchants/{m}");
    let (st, _) = a.call(Method::DELETE, &path, &tok, None).await;
    assert_eq!(st, 401, "a merchant cannot terminate itself");
    let (st, _) = a
        .call(
            Method::DELETE,
            "/api/v1/merchants/nosuch",
            "operator-secret",
            None,
        )
        .await;
    assert_eq!(st, 404);
    let (st, r) = a.call(Method::DELETE, &path, "operator-secret", None).await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["pii_deleted_orders"], 2, "{r}");
    assert_eq!(r["tenant_key_destroyed"], true, "{r}");
    assert!(purged(&a, &m, "8001").await && purged(&a, &m, "8002").await);
    let (st, _) = a.call(Method::GET, "/api/v1/connections", &tok, None).await;
    assert_eq!(st, 401, "its token is revoked");
    let conn = a.t.app.store.get_connection(&c).await.unwrap().unwrap();
    assert_eq!(conn.state, "deleted");
    assert!(
        a.t.app
            .crypto
            .blind_index(&m, "a@example.com", a.t.clock.now())
            .await
            .is_err(),
        "no key of the merchant can be used or made again"
    );
    // A repeat is harmless.
    let (st, r) = a.call(Method::DELETE, &path, "operator-secret", None).await;
    assert_eq!((st, r["pii_deleted_orders"].as_u64()), (200, Some(0)));

    // Within the grace period the non-PII data stays; after it, it goes; the audit stays.
    a.t.clock.advance(time::Duration::days(29));
    a.t.app.engine().purge_once().await.unwrap();
    assert!(
        a.t.app
            .store
            .get_order(&m, &order_id("8001"))
            .await
            .unwrap()
            .is_some()
    );
    a.t.clock.advance(time::Duration::days(2));
    a.t.app.engine().purge_once().await.unwrap();
    assert!(
        a.t.app
            .store
            .get_order(&m, &order_id("8001"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(a.t.app.store.get_connection(&c).await.unwrap().is_none());
    let audit = a.t.app.store.list_audit(&m, 100).await.unwrap();
    assert!(
        audit.iter().any(|r| r.action == "merchant.terminated"),
        "{audit:?}"
    );
}
