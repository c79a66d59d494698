//! The PII canary suite (compliance R34): the simulators' buyers are all canaries (names start
//! with `Canary`, emails end in `@customer.test`). A sync with injected faults, webhooks with
//! bad signatures and bodies, every listing of the API, a data-subject erasure and export,
//! bad requests and the purge run with every log line at `trace`, in text and in JSON; then no
//! canary may appear in any log line, any error message, `/metrics`, any API answer but the
//! export's, or the database files in plaintext.

use crate::api::{Api, spawn_with};
use crate::helpers::{eventually, grep_dir, provision};
use ordersync_conformance::sim_post;
use ordersync_sdk::Clock;
use reqwest::Method;
use serde_json::{Value, json};
use std::io::Write;
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;
use tracing_subscriber::layer::SubscriberExt;

const CANARIES: [&str; 2] = ["Canary", "customer.test"];

fn leaks(text: &str) -> Vec<&'static str> {
    CANARIES
        .iter()
        .copied()
        .filter(|c| text.contains(c))
        .collect()
}

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Buf {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Every answer the merchant or operator gets that must hold no PII.
struct Answers(Vec<(String, String)>);

impl Answers {
    async fn get(&mut self, a: &Api, path: &str, token: &str) -> Value {
        let (st, b) = a.call(Method::GET, path, token, None).await;
        assert!(st < 500, "GET {path}: {st} {b}");
        self.0.push((format!("GET {path}"), b.to_string()));
        b
    }

    async fn send(
        &mut self,
        a: &Api,
        m: Method,
        path: &str,
        token: &str,
        body: Value,
    ) -> (u16, Value) {
        let (st, b) = a.call(m.clone(), path, token, Some(body)).await;
        self.0.push((format!("{m} {path}"), b.to_string()));
        (st, b)
    }
}

// One thread: the test's tracing dispatcher (set for this thread) sees every task.
#[tokio::test(flavor = "current_thread")]
async fn no_canary_pii_anywhere_but_the_export() {
    let (text, json_logs) = (Buf::default(), Buf::default());
    let (t1, t2) = (text.clone(), json_logs.clone());
    let subscriber = tracing_subscriber::registry()
        .with(tracing_subscriber::filter::LevelFilter::TRACE)
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(move || t1.clone()),
        )
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .with_writer(move || t2.clone()),
        );
    let _guard = tracing::subscriber::set_default(subscriber);

    let a = spawn_with(true, |s| {
        s.app_secrets
            .insert("shopify", "canary-app-secret".to_string().into());
    })
    .await;
    let clock: Arc<dyn Clock> = a.t.clock.clone();
    let shop =
        ordersync_shopify::sim::spawn(ordersync_shopify::sim::SimOptions::relaxed(), clock.clone())
            .await
            .unwrap();
    let ss =
        ordersync_shipstation::sim::spawn(ordersync_shipstation::sim::SimOptions::relaxed(), clock)
            .await
            .unwrap();
    let shop_cfg = json!({ "shop_domain": "canary.myshopify.com", "api_base_url": shop.base_url });
    let (m, ids) = provision(
        &a.t,
        &[
            (
                "shopify",
                "source",
                shop_cfg.clone(),
                &[("access_token", "shpat_c")],
            ),
            (
                "shipstation",
                "sink",
                json!({ "api_base_url": ss.base_url, "requests_per_minute": 100000 }),
                &[("api_key", "canary-key")],
            ),
        ],
    )
    .await;
    // Failure paths: a fifth of ShipStation's answers are 429s, 5xx, timeouts, resets and
    // malformed bodies, so retries and errors are logged.
    sim_post(
        &ss.base_url,
        "/_sim/faults",
        json!({ "rate": 0.2, "seed": 3 }),
    )
    .await;
    sim_post(
        &shop.base_url,
        "/_sim/seed",
        json!({ "count": 40, "seed": 21 }),
    )
    .await;

    let cancel = CancellationToken::new();
    let worker = {
        let (e, c) = (a.t.app.engine(), cancel.clone());
        tokio::spawn(async move { e.run(c).await })
    };
    let store = a.t.app.store.clone();
    assert!(
        eventually(240, || async {
            let t = store.totals().await.unwrap();
            t.orders == 40 && t.deliveries_done == 40
        })
        .await,
        "40 orders synced and delivered through the faults"
    );

    // Webhooks with bad signatures and bodies that carry PII: refused without echoing it.
    let pii_body =
        r#"{"id":1,"email":"Canary.Hook@customer.test","customer":{"first_name":"CanaryHook"}}"#;
    let mut errors = Vec::new();
    for (path, sig) in [
        ("/webhooks/shopify".to_string(), Some("AAAA")),
        ("/webhooks/shopify".to_string(), None),
        (format!("/webhooks/shopify/{}", ids[0]), Some("bad")),
        (
            "/webhooks/ebay/account-deletion".to_string(),
            Some("bm90LWEtc2lnbmF0dXJl"),
        ),
    ] {
        let mut rb = a
            .http
            .post(format!("{}{path}", a.base))
            .header("content-type", "application/json")
            .header("x-shopify-topic", "customers/redact")
            .header("x-shopify-shop-domain", "canary.myshopify.com")
            .body(pii_body);
        if let Some(s) = sig {
            rb = rb
                .header("x-shopify-hmac-sha256", s)
                .header("x-ebay-signature", s);
        }
        let r = rb.send().await.unwrap();
        assert!(r.status().is_client_error(), "{path}: {}", r.status());
        errors.push(r.text().await.unwrap());
    }

    // Every listing of the API, as the merchant and as the operator.
    let tok_hash = ordersync::api::admin::hash_token("canary-merchant-token");
    a.t.app
        .store
        .add_token(&m, &tok_hash, a.t.now_us())
        .await
        .unwrap();
    let tok = "canary-merchant-token";
    let mut answers = Answers(Vec::new());
    let orders = answers.get(&a, "/api/v1/orders?limit=100", tok).await;
    let order_ids: Vec<String> = orders["orders"]
        .as_array()
        .or_else(|| orders.as_array())
        .expect("an order list")
        .iter()
        .filter_map(|o| o["id"].as_str().map(String::from))
        .collect();
    assert_eq!(order_ids.len(), 40, "{orders}");
    for id in order_ids.iter().take(5) {
        answers.get(&a, &format!("/api/v1/orders/{id}"), tok).await;
        answers
            .get(&a, &format!("/api/v1/orders/{id}/deliveries"), tok)
            .await;
    }
    for path in [
        "/api/v1/deliveries",
        "/api/v1/status",
        "/api/v1/audit",
        "/api/v1/retention",
        "/api/v1/processing-record",
        "/api/v1/connections",
        "/api/v1/routes",
        "/api/v1/tokens",
        "/api/v1/dsr",
    ] {
        answers.get(&a, path, tok).await;
    }
    answers
        .get(&a, &format!("/api/v1/connections/{}", ids[0]), tok)
        .await;

    // A data-subject erasure for one real buyer, and bad requests that carry an email.
    let secrets: ordersync_sdk::Secrets =
        [("access_token".to_string(), "shpat_c".to_string().into())]
            .into_iter()
            .collect();
    let direct = ordersync::registry::build_source(
        "shopify",
        &shop_cfg,
        &secrets,
        &ordersync_sdk::ConnectorDeps::for_simulators(),
    )
    .unwrap();
    let ext =
        a.t.app
            .store
            .orders_by_ids(&order_ids[..1])
            .await
            .unwrap()
            .remove(0)
            .external_id;
    let email = direct
        .fetch(&ext)
        .await
        .unwrap()
        .expect("the order at the shop")
        .pii
        .email
        .expect("a buyer email");
    assert!(email.ends_with("@customer.test"), "a canary buyer");
    let (st, b) = answers
        .send(
            &a,
            Method::POST,
            "/api/v1/dsr",
            tok,
            json!({ "kind": "erase", "email": email }),
        )
        .await;
    assert_eq!(st, 201, "{b}");
    assert!(b["erased"].as_u64().unwrap_or(0) >= 1, "{b}");
    for bad in [
        json!({ "kind": "shred", "email": email }),
        json!({ "kind": "export", "email": email }),
        json!({ "email": email }),
    ] {
        let (st, _) = answers
            .send(&a, Method::POST, "/api/v1/dsr", tok, bad)
            .await;
        assert!((400..500).contains(&st), "{st}");
    }
    let (st, _) = answers
        .send(
            &a,
            Method::PUT,
            "/api/v1/retention/shopify",
            tok,
            json!({ "days_after_delivery": "Canary", "days_after_order": email }),
        )
        .await;
    assert!((400..500).contains(&st));

    // Parcels arrive (tracked), then every window closes (90 days after the order at the
    // latest) and the purge runs.
    a.t.clock.advance(time::Duration::days(5));
    assert!(
        eventually(120, || async {
            store.totals().await.unwrap().delivered_orders > 0
        })
        .await,
        "deliveries tracked"
    );
    a.t.clock.advance(time::Duration::days(95));
    assert!(
        eventually(120, || async {
            store.totals().await.unwrap().pii_purged == 40
        })
        .await,
        "every order purged"
    );
    answers.get(&a, "/api/v1/audit", tok).await;
    let metrics = a
        .http
        .get(format!("{}/metrics", a.base))
        .bearer_auth("operator-secret")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    cancel.cancel();
    worker.await.unwrap();

    // The export is the one answer that carries PII (and proves the canaries are real).
    let (text, json_logs) = (text.text(), json_logs.text());
    assert!(
        text.lines().count() > 100 && text.contains("TRACE"),
        "trace-level logs were captured"
    );
    assert!(
        json_logs
            .lines()
            .all(|l| serde_json::from_str::<Value>(l).is_ok())
    );
    for (name, body) in [
        ("text logs", &text),
        ("JSON logs", &json_logs),
        ("/metrics", &metrics),
    ] {
        let found = leaks(body);
        let line = body
            .lines()
            .find(|l| !leaks(l).is_empty())
            .unwrap_or_default();
        assert!(found.is_empty(), "{name} leak {found:?}: {line}");
    }
    for e in &errors {
        assert!(leaks(e).is_empty(), "webhook error message: {e}");
    }
    for (what, body) in &answers.0 {
        assert!(leaks(body).is_empty(), "{what} answered PII: {body}");
    }
    for needle in ["Canary", "@customer.test"] {
        let hits = grep_dir(&a.t.dir, needle);
        assert!(hits.is_empty(), "plaintext {needle} in {hits:?}");
    }
}
