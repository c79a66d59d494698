//! The connector platform through the API: kinds come from the descriptors, URL-valued
//! fields are SSRF-checked and moving one needs the secrets again, webhook routes check the
//! connection's kind and dedupe on the signed body, and every error is the JSON envelope.

use crate::api::{Api, spawn_with};
use ordersync::registry;
use ordersync_sdk::webhooks::sign_base64;
use reqwest::Method;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

const SHOP: &str = "acc.myshopify.com";

async fn shop_connection(a: &Api, tok: &str, secrets: Value) -> String {
    let (st, b) = a
        .call(
            Method::POST,
            "/api/v1/connections",
            tok,
            Some(
                json!({ "kind": "shopify", "config": { "shop_domain": SHOP }, "secrets": secrets }),
            ),
        )
        .await;
    assert_eq!(st, 201, "{b}");
    b["id"].as_str().unwrap().to_string()
}

async fn webhook(a: &Api, path: &str, secret: &[u8], body: &[u8], extra: &[(&str, &str)]) -> u16 {
    let mut rb = a
        .http
        .post(format!("{}{path}", a.base))
        .header("content-type", "application/json")
        .header("x-shopify-topic", "orders/updated")
        .header("x-shopify-hmac-sha256", sign_base64(secret, body));
    for (k, v) in extra {
        rb = rb.header(*k, *v);
    }
    rb.body(body.to_vec())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn next_pull_at(a: &Api, id: &str) -> i64 {
    a.t.app
        .store
        .get_connection(id)
        .await
        .unwrap()
        .unwrap()
        .next_pull_at
}

/// Claims the connection and finishes its pull with the next one an hour away, as a worker
/// would after a successful pass.
async fn pulled(a: &Api, id: &str) -> i64 {
    let now = a.t.now_us();
    let later = now + 3_600_000_000;
    let claimed =
        a.t.app
            .store
            .claim_due_sources("w", now, later, 10)
            .await
            .unwrap();
    assert!(claimed.iter().any(|c| c.id == id));
    let f = ordersync::store::PullFinish {
        next_pull_at: later,
        last_pull_at: Some(now),
        last_error: None,
        state: None,
    };
    a.t.app.store.finish_pull(id, "w", &f).await.unwrap();
    later
}

#[tokio::test]
async fn kinds_come_from_the_descriptors() {
    let a = spawn_with(true, |_| {}).await;
    let (_, tok) = a.merchant("kinds").await;
    let (st, b) = a.call(Method::GET, "/api/v1/kinds", &tok, None).await;
    assert_eq!(st, 200, "{b}");
    let kinds = b["kinds"].as_array().unwrap();
    assert_eq!(kinds.len(), registry::KINDS.len());
    for d in registry::KINDS {
        let k = kinds.iter().find(|k| k["kind"] == d.kind).unwrap();
        assert_eq!(k["role"], d.role());
        let names: Vec<&str> = k["secrets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, d.secret_names().collect::<Vec<_>>());
        assert!(
            k["config_schema"]["properties"].is_object(),
            "{}: {}",
            d.kind,
            k["config_schema"]
        );
    }
    let (st, _) = a.call(Method::GET, "/api/v1/kinds", "nope", None).await;
    assert_eq!(st, 401);
}

#[tokio::test]
async fn disguised_private_endpoints_are_refused() {
    let a = spawn_with(false, |_| {}).await;
    let (_, tok) = a.merchant("ssrf").await;
    for u in [
        "https://[::ffff:127.0.0.1]/",
        "https://[::ffff:7f00:1]/",
        "https://0.0.0.0/",
        "https://[64:ff9b::7f00:1]/",
        "https://[2002:7f00:1::]/",
        "https://localhost./",
        "https://100.100.100.100/",
        "https://[::]/",
        "https://224.0.0.1/",
        "http://shop.example.com/",
    ] {
        let (st, b) = a
            .call(
                Method::POST,
                "/api/v1/connections",
                &tok,
                Some(json!({ "kind": "shopify", "config": { "shop_domain": SHOP, "api_base_url": u }, "secrets": { "access_token": "shpat_x" } })),
            )
            .await;
        assert_eq!(st, 422, "{u}: {b}");
        assert!(
            b["error"]["message"]
                .as_str()
                .unwrap()
                .contains("api_base_url"),
            "{b}"
        );
    }
}

#[tokio::test]
async fn moving_an_endpoint_needs_the_secrets_again() {
    let a = spawn_with(false, |_| {}).await;
    let (merchant, tok) = a.merchant("patch").await;
    let id = shop_connection(
        &a,
        &tok,
        json!({ "access_token": "shpat_old", "webhook_secret": "whsec" }),
    )
    .await;
    let path = format!("/api/v1/connections/{id}");
    let moved = json!({ "shop_domain": SHOP, "api_base_url": "https://collector.example.net/" });
    let (st, b) = a
        .call(Method::PATCH, &path, &tok, Some(json!({ "config": moved })))
        .await;
    assert_eq!(st, 422, "{b}");
    assert!(
        b["error"]["message"].as_str().unwrap().contains("secrets"),
        "{b}"
    );
    // A rename keeps the endpoint, so it needs no secrets.
    let (st, b) = a
        .call(
            Method::PATCH,
            &path,
            &tok,
            Some(json!({ "name": "renamed" })),
        )
        .await;
    assert_eq!((st, b["name"].as_str()), (200, Some("renamed")), "{b}");
    // A webhook still verifies with the stored secret.
    let body = br#"{"id":1}"#;
    let hook = format!("/webhooks/shopify/{id}");
    assert_eq!(webhook(&a, &hook, b"whsec", body, &[]).await, 200);
    let (st, b) = a
        .call(
            Method::PATCH,
            &path,
            &tok,
            Some(json!({ "config": moved, "secrets": { "access_token": "shpat_new" } })),
        )
        .await;
    assert_eq!(st, 200, "{b}");
    // The move replaced the stored credentials; the webhook secret (never sent out) stays.
    let c = a.t.app.store.get_connection(&id).await.unwrap().unwrap();
    let now = ordersync_sdk::Clock::now(&*a.t.clock);
    let stored =
        a.t.app
            .crypto
            .open_secrets(&merchant, &id, c.secrets_ct.as_deref().unwrap(), now)
            .await
            .unwrap();
    assert_eq!(
        stored.keys().collect::<Vec<_>>(),
        ["access_token", "webhook_secret"]
    );
    assert_eq!(stored["access_token"].expose_secret(), "shpat_new");
    assert_eq!(webhook(&a, &hook, b"whsec", b"{\"id\":2}", &[]).await, 200);
    assert_eq!(webhook(&a, &hook, b"wrong", b"{\"id\":3}", &[]).await, 401);
    let audit = a.call(Method::GET, "/api/v1/audit", &tok, None).await.1;
    assert!(
        audit["audit"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["detail"] == "moved: api_base_url"),
        "{audit}"
    );
}

#[tokio::test]
async fn webhooks_check_the_kind_and_dedupe_on_the_signed_body() {
    let a = spawn_with(true, |_| {}).await;
    let (_, tok) = a.merchant("hooks").await;
    let id = shop_connection(
        &a,
        &tok,
        json!({ "access_token": "shpat_x", "webhook_secret": "whsec" }),
    )
    .await;
    let hook = format!("/webhooks/shopify/{id}");
    let body = br#"{"id":820982911946154508}"#;
    assert_eq!(webhook(&a, &hook, b"wrong", body, &[]).await, 401);
    // Another kind's route does not reach this connection, whatever the signature.
    assert_eq!(
        webhook(
            &a,
            &format!("/webhooks/shipstation/{id}"),
            b"whsec",
            body,
            &[]
        )
        .await,
        404
    );
    assert_eq!(
        webhook(
            &a,
            &format!("/webhooks/nosuchkind/{id}"),
            b"whsec",
            body,
            &[]
        )
        .await,
        404
    );

    let later = pulled(&a, &id).await;
    assert_eq!(next_pull_at(&a, &id).await, later);
    assert_eq!(
        webhook(&a, &hook, b"whsec", body, &[("x-shopify-event-id", "e1")]).await,
        200
    );
    assert!(
        next_pull_at(&a, &id).await <= a.t.now_us(),
        "a fresh hint pulls now"
    );

    let later = pulled(&a, &id).await;
    // The same signed body under a new (unsigned) event id is a replay: no extra pull.
    assert_eq!(
        webhook(&a, &hook, b"whsec", body, &[("x-shopify-event-id", "e2")]).await,
        200
    );
    assert_eq!(next_pull_at(&a, &id).await, later);
    // Dedupe records expire: after the purge sweep past the window, the body counts again.
    a.t.clock.advance(time::Duration::days(8));
    a.t.app.engine().purge_once().await.unwrap();
    assert_eq!(webhook(&a, &hook, b"whsec", body, &[]).await, 200);
    assert!(next_pull_at(&a, &id).await <= a.t.now_us());
}

#[tokio::test]
async fn app_level_webhooks_find_the_connection_by_account() {
    let a = spawn_with(true, |s| {
        s.app_secrets
            .insert("shopify", "app-secret".to_string().into());
    })
    .await;
    let (_, tok) = a.merchant("app").await;
    let id = shop_connection(&a, &tok, json!({ "access_token": "shpat_x" })).await;
    let later = pulled(&a, &id).await;
    let body = br#"{"id":5}"#;
    let shop = [("x-shopify-shop-domain", SHOP)];
    assert_eq!(
        webhook(&a, "/webhooks/shopify", b"not-the-app-secret", body, &shop).await,
        401
    );
    assert_eq!(next_pull_at(&a, &id).await, later);
    assert_eq!(
        webhook(&a, "/webhooks/shopify", b"app-secret", body, &shop).await,
        200
    );
    assert!(next_pull_at(&a, &id).await <= a.t.now_us());
    // Kinds without app webhooks have no such route.
    assert_eq!(
        webhook(&a, "/webhooks/shipstation", b"app-secret", body, &shop).await,
        404
    );
}

#[tokio::test]
async fn every_error_is_the_json_envelope() {
    let a = spawn_with(true, |_| {}).await;
    let (_, tok) = a.merchant("errors").await;
    let url = format!("{}/api/v1/connections", a.base);
    let tok = &tok;
    let send = |rb: reqwest::RequestBuilder| async move {
        let r = rb.bearer_auth(tok).send().await.unwrap();
        let st = r.status().as_u16();
        (st, r.json::<Value>().await.unwrap_or(Value::Null))
    };
    let cases = [
        (
            send(
                a.http
                    .post(&url)
                    .header("content-type", "application/json")
                    .body("{nope"),
            )
            .await,
            400,
        ),
        (send(a.http.post(&url).body("{}")).await, 415),
        (
            send(
                a.http
                    .post(&url)
                    .json(&json!({ "kind": 5, "email": "canary@customer.test" })),
            )
            .await,
            422,
        ),
        (
            send(
                a.http
                    .get(format!("{}/api/v1/orders?limit=notanumber", a.base)),
            )
            .await,
            400,
        ),
        (
            send(a.http.get(format!("{}/api/v1/nothing-here", a.base))).await,
            404,
        ),
        (send(a.http.put(&url)).await, 405),
    ];
    for ((st, body), want) in cases {
        assert_eq!(st, want, "{body}");
        assert!(body["error"]["code"].is_string(), "{body}");
        assert!(body["error"]["message"].is_string(), "{body}");
        assert!(!body.to_string().contains("customer.test"), "{body}");
    }
    let spec: Value = a
        .http
        .get(format!("{}/openapi.json", a.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let post = &spec["paths"]["/api/v1/connections"]["post"]["responses"];
    for code in ["201", "400", "401", "415", "422"] {
        assert!(
            post[code].is_object(),
            "POST /connections lacks {code}: {post}"
        );
    }
    assert!(spec["paths"]["/api/v1/kinds"]["get"]["responses"]["401"].is_object());
}

#[tokio::test]
async fn a_liveness_ping_is_answered_200_and_schedules_nothing() {
    let a = spawn_with(true, |_| {}).await;
    let (_, tok) = a.merchant("ping").await;
    let (st, b) = a
        .call(
            Method::POST,
            "/api/v1/connections",
            &tok,
            Some(json!({
                "kind": "woocommerce",
                "config": { "store_url": "http://127.0.0.1:9" },
                "secrets": { "consumer_key": "ck_x", "consumer_secret": "cs_x", "webhook_secret": "whsec" }
            })),
        )
        .await;
    assert_eq!(st, 201, "{b}");
    let id = b["id"].as_str().unwrap().to_string();
    let later = pulled(&a, &id).await;
    // WooCommerce's creation ping: unsigned, form-encoded, and it must get exactly 200.
    let st = a
        .http
        .post(format!("{}/webhooks/woocommerce/{id}", a.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("webhook_id=42")
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(st, 200);
    assert_eq!(next_pull_at(&a, &id).await, later, "a ping pulls nothing");
}
