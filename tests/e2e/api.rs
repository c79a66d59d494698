//! The admin API through a real socket: operator-only merchant creation, write-only secrets,
//! tenant isolation (404 for another merchant's objects), no PII in order responses.

use crate::helpers::{Backend, TestApp};
use ordersync::api::{self, ApiState, admin::hash_token};
use serde_json::{Value, json};

pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
    pub t: TestApp,
}

async fn spawn() -> Api {
    spawn_with(true, |_| {}).await
}

/// The API on a random port; `tune` adjusts its state (app secrets, ...).
pub async fn spawn_with(allow_private: bool, tune: impl FnOnce(&mut ApiState)) -> Api {
    let t = TestApp::new(Backend::Sqlite).await;
    let mut state = ApiState::new(&t.app, t.app.engine(), allow_private);
    state.admin_token_hash = Some(hash_token("operator-secret"));
    tune(&mut state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, api::router(state)).await.unwrap() });
    Api {
        base,
        http: reqwest::Client::new(),
        t,
    }
}

impl Api {
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut rb = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn merchant(&self, name: &str) -> (String, String) {
        let (st, b) = self
            .call(
                reqwest::Method::POST,
                "/api/v1/merchants",
                "operator-secret",
                Some(json!({ "name": name })),
            )
            .await;
        assert_eq!(st, 201, "{b}");
        (
            b["id"].as_str().unwrap().to_string(),
            b["api_token"].as_str().unwrap().to_string(),
        )
    }
}

#[tokio::test]
async fn health_and_operator_auth() {
    let a = spawn().await;
    assert_eq!(
        a.http
            .get(format!("{}/healthz", a.base))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        a.http
            .get(format!("{}/readyz", a.base))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let metrics = a
        .http
        .get(format!("{}/metrics", a.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("ordersync_orders"), "{metrics}");
    let (st, b) = a
        .call(
            reqwest::Method::POST,
            "/api/v1/merchants",
            "wrong",
            Some(json!({ "name": "x" })),
        )
        .await;
    assert_eq!(st, 401);
    assert_eq!(b["error"]["code"], "unauthorized");
    let (st, _) = a
        .call(
            reqwest::Method::GET,
            "/api/v1/connections",
            "os_not_a_token",
            None,
        )
        .await;
    assert_eq!(st, 401);
}

#[tokio::test]
async fn secrets_are_write_only_and_tenants_are_isolated() {
    let a = spawn().await;
    let (_, tok_a) = a.merchant("A").await;
    let (_, tok_b) = a.merchant("B").await;
    let body = json!({
        "kind": "shopify", "name": "My store",
        "config": { "shop_domain": "canary-shop.myshopify.com", "api_base_url": "http://127.0.0.1:9" },
        "secrets": { "access_token": "shpat_canary_secret_value" }
    });
    let (st, created) = a
        .call(
            reqwest::Method::POST,
            "/api/v1/connections",
            &tok_a,
            Some(body),
        )
        .await;
    assert_eq!(st, 201, "{created}");
    let id = created["id"].as_str().unwrap();
    let (st, got) = a
        .call(
            reqwest::Method::GET,
            &format!("/api/v1/connections/{id}"),
            &tok_a,
            None,
        )
        .await;
    assert_eq!(st, 200);
    assert_eq!(got["has_secrets"], true);
    assert!(
        !got.to_string().contains("shpat_canary_secret_value"),
        "secrets must be write-only"
    );
    let (st, _) = a
        .call(
            reqwest::Method::GET,
            &format!("/api/v1/connections/{id}"),
            &tok_b,
            None,
        )
        .await;
    assert_eq!(st, 404, "another merchant's connection is invisible");
    let (st, _) = a
        .call(
            reqwest::Method::DELETE,
            &format!("/api/v1/connections/{id}"),
            &tok_b,
            None,
        )
        .await;
    assert_eq!(st, 404);
    let (st, list) = a
        .call(reqwest::Method::GET, "/api/v1/connections", &tok_b, None)
        .await;
    assert_eq!(
        (st, list["connections"].as_array().unwrap().len()),
        (200, 0)
    );
}

#[tokio::test]
async fn bad_input_gets_clear_errors() {
    let a = spawn().await;
    let (_, tok) = a.merchant("A").await;
    let (st, b) = a
        .call(
            reqwest::Method::POST,
            "/api/v1/connections",
            &tok,
            Some(json!({ "kind": "nosuch" })),
        )
        .await;
    assert_eq!(st, 422, "{b}");
    let (st, b) = a.call(reqwest::Method::POST, "/api/v1/connections", &tok, Some(json!({ "kind": "shopify", "config": { "shop_domain": "not a domain" }, "secrets": { "access_token": "x" } }))).await;
    assert_eq!(st, 422, "{b}");
    let (st, b) = a
        .call(
            reqwest::Method::PUT,
            "/api/v1/retention/shopify",
            &tok,
            Some(json!({ "days_after_delivery": 400 })),
        )
        .await;
    assert_eq!(st, 422, "{b}");
    let (st, b) = a
        .call(
            reqwest::Method::PUT,
            "/api/v1/retention/amazon",
            &tok,
            Some(json!({ "days_after_delivery": 45 })),
        )
        .await;
    assert_eq!(
        st, 422,
        "{b}: Amazon caps retention at 30 days after delivery"
    );
    let (st, b) = a
        .call(
            reqwest::Method::PUT,
            "/api/v1/retention/shopify",
            &tok,
            Some(json!({ "days_after_delivery": 14, "days_after_order": 60 })),
        )
        .await;
    assert_eq!(st, 200, "{b}");
    assert_eq!(b["orders_rescheduled"], 0, "{b}: no orders yet");
    let (_, r) = a
        .call(reqwest::Method::GET, "/api/v1/retention", &tok, None)
        .await;
    assert_eq!(r["policies"][0]["days_after_delivery"], 14);
    // A legal hold names its basis and its end, and an order of this merchant (held
    // orders: store_suite).
    let until = (ordersync_sdk::Clock::now(&*a.t.clock) + time::Duration::days(365))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let until = until.as_str();
    for bad in [
        json!({ "hold": true }),
        json!({ "hold": true, "until": until }),
        json!({ "hold": true, "legal_basis": "", "until": until }),
        json!({ "hold": true, "legal_basis": "tax", "until": "2000-01-01T00:00:00Z" }),
        json!({ "hold": true, "legal_basis": "tax", "until": "tomorrow" }),
    ] {
        let (st, b) = a
            .call(
                reqwest::Method::PUT,
                "/api/v1/orders/nosuch/legal-hold",
                &tok,
                Some(bad.clone()),
            )
            .await;
        assert_eq!(st, 422, "{bad} → {b}");
    }
    let (st, _) = a
        .call(
            reqwest::Method::PUT,
            "/api/v1/orders/nosuch/legal-hold",
            &tok,
            Some(json!({ "hold": true, "legal_basis": "tax", "until": until })),
        )
        .await;
    assert_eq!(st, 404);
    let (st, _) = a
        .call(
            reqwest::Method::PUT,
            "/api/v1/orders/nosuch/legal-hold",
            &tok,
            Some(json!({ "hold": "yes" })),
        )
        .await;
    assert_eq!(st, 422);
}

/// The real binary refuses a malformed or wrong master key with a message, never a panic,
/// and leaves no database behind.
#[test]
fn serve_refuses_bad_master_keys() {
    let dir = crate::helpers::temp_dir();
    let run = |key: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_ordersync"))
            .arg("serve")
            .env("ORDERSYNC_MASTER_KEY", key)
            .env("ORDERSYNC_LISTEN", "127.0.0.1:0")
            .env(
                "ORDERSYNC_DATABASE_URL",
                format!("sqlite://{}", dir.join("o.db").display()),
            )
            .env(
                "ORDERSYNC_KEYSTORE_URL",
                format!("sqlite://{}", dir.join("k.db").display()),
            )
            .output()
            .unwrap()
    };
    let out = run("not-base64");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("master key") && !err.contains("panicked"),
        "{err}"
    );
    assert!(
        !dir.join("o.db").exists() && !dir.join("k.db").exists(),
        "nothing created"
    );

    // a keystore made with one key refuses another
    let first = ordersync::crypto::kek::LocalKek::generate_base64();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let ks = ordersync::crypto::keystore::Keystore::connect(&format!(
            "sqlite://{}",
            dir.join("k.db").display()
        ))
        .await
        .unwrap();
        let kek =
            std::sync::Arc::new(ordersync::crypto::kek::LocalKek::from_base64(&first).unwrap());
        ordersync::crypto::Crypto::open(kek, ks, time::OffsetDateTime::now_utc())
            .await
            .unwrap();
    });
    let out = run(&ordersync::crypto::kek::LocalKek::generate_base64());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("does not match") && !err.contains("panicked"),
        "{err}"
    );
    assert!(
        !dir.join("o.db").exists(),
        "the orders database is not touched"
    );
}

#[tokio::test]
async fn openapi_document_is_generated_from_the_handlers() {
    let a = spawn().await;
    let spec: Value = a
        .http
        .get(format!("{}/openapi.json", a.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        spec["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        spec["openapi"]
    );
    for path in [
        "/api/v1/merchants",
        "/api/v1/connections",
        "/api/v1/connections/{id}",
        "/api/v1/orders",
        "/api/v1/status",
        "/api/v1/retention/{marketplace}",
        "/api/v1/orders/{id}/legal-hold",
        "/api/v1/processing-record",
        "/api/v1/tokens",
        "/api/v1/tokens/{id}",
    ] {
        assert!(spec["paths"].get(path).is_some(), "missing {path}");
    }
    assert!(spec["paths"]["/api/v1/connections"]["post"]["requestBody"].is_object());
}

/// A fresh install into a directory that does not exist yet: `migrate` creates it, the
/// database and the separate keystore beside it.
#[test]
fn migrate_creates_a_fresh_data_dir() {
    let dir = crate::helpers::temp_dir().join("nested/data");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ordersync"))
        .arg("migrate")
        .env(
            "ORDERSYNC_MASTER_KEY",
            ordersync::crypto::kek::LocalKek::generate_base64(),
        )
        .env(
            "ORDERSYNC_DATABASE_URL",
            format!("sqlite://{}", dir.join("ordersync.db").display()),
        )
        .env_remove("ORDERSYNC_KEYSTORE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.join("ordersync.db").exists() && dir.join("keystore.db").exists());
}

#[tokio::test]
async fn tokens_rotate_and_a_revoked_one_is_refused() {
    let a = spawn().await;
    let (_, old) = a.merchant("rotating").await;
    let (st, b) = a
        .call(reqwest::Method::POST, "/api/v1/tokens", &old, None)
        .await;
    assert_eq!(st, 201, "{b}");
    let new = b["api_token"].as_str().unwrap().to_string();
    let new_id = b["id"].as_str().unwrap().to_string();
    let (st, b) = a
        .call(reqwest::Method::GET, "/api/v1/tokens", &new, None)
        .await;
    assert_eq!(st, 200);
    let tokens = b["tokens"].as_array().unwrap();
    assert_eq!(tokens.len(), 2, "{b}");
    let old_id = tokens.iter().find(|t| t["id"] != new_id.as_str()).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        tokens
            .iter()
            .any(|t| t["id"] == new_id.as_str() && t["current"] == true)
    );
    assert!(
        !b.to_string().contains(&new),
        "a token is shown only when made"
    );
    // Another merchant cannot revoke it, nor see it.
    let (_, other) = a.merchant("other").await;
    let (st, _) = a
        .call(
            reqwest::Method::DELETE,
            &format!("/api/v1/tokens/{old_id}"),
            &other,
            None,
        )
        .await;
    assert_eq!(st, 404);
    let (st, _) = a
        .call(
            reqwest::Method::DELETE,
            &format!("/api/v1/tokens/{old_id}"),
            &new,
            None,
        )
        .await;
    assert_eq!(st, 204);
    let (st, _) = a
        .call(reqwest::Method::GET, "/api/v1/connections", &old, None)
        .await;
    assert_eq!(st, 401, "the revoked token is refused");
    let (st, _) = a
        .call(reqwest::Method::GET, "/api/v1/connections", &new, None)
        .await;
    assert_eq!(st, 200);
    let (st, _) = a
        .call(
            reqwest::Method::DELETE,
            &format!("/api/v1/tokens/{old_id}"),
            &new,
            None,
        )
        .await;
    assert_eq!(st, 404, "already gone");
}
