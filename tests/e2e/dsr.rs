//! Data-subject requests (`POST /api/v1/dsr`, `ordersync dsr`): an export finds the buyer's
//! orders on every connection by blind index and returns their PII (with the `pii:read` scope
//! only), an erase removes it at once except under a legal hold, a re-ingest never brings it
//! back, and nothing about the buyer reaches the request log, the audit or a non-export answer.

use crate::api::Api;
use crate::helpers::{
    Backend, TestApp, backends, capture_logs, captured_logs, grep_dir, provision,
};
use ordersync::api::{self, ApiState, admin::hash_token};
use ordersync::crypto::{PiiRow, SealedPii, epoch_of};
use ordersync::dsr::{DsrArgs, DsrCommand, run_cli};
use ordersync::store::{
    ConnectionRow, CursorRow, DeliveryResult, OrderQuery, OrderUpsert, PageCommit,
};
use ordersync_conformance::sim_post;
use ordersync_sdk::{Address, Clock, Pii};
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::Arc;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The API on a random port over `backend`.
async fn spawn_on(backend: Backend) -> Api {
    let t = TestApp::new(backend).await;
    let mut state = ApiState::new(&t.app, t.app.engine(), true);
    state.admin_token_hash = Some(hash_token("operator-secret"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, api::router(state)).await.unwrap() });
    Api {
        base,
        http: reqwest::Client::new(),
        t,
    }
}

/// A buyer whose every PII field is set; all values carry `tag` so a leak is greppable.
fn buyer(tag: &str, email: &str) -> Pii {
    let addr = |kind: &str| Address {
        name: Some(format!("Canary{tag} {kind}")),
        company: Some(format!("Canary{tag} Ltd")),
        line1: Some(format!("1 Canary{tag} Road")),
        line2: Some(format!("Flat {kind}")),
        city: Some("Canaryville".into()),
        region: Some("Kent".into()),
        postal_code: Some("CT1 1AA".into()),
        country_code: Some("GB".into()),
        phone: Some("+441234567890".into()),
    };
    Pii {
        buyer_name: Some(format!("Canary{tag} Buyer")),
        email: Some(email.into()),
        phone: Some("+15550100".into()),
        shipping_address: Some(addr("ship")),
        billing_address: Some(addr("bill")),
        notes: Some(format!("Canary{tag} note")),
    }
}

/// Our id of the order with platform id `ext` (unique per test run: seeded ids are numeric).
fn order_id(ext: u64) -> String {
    format!("00000000-0000-7000-8000-{ext:012}")
}

/// Stores orders with really sealed PII and its blind index, as ingest would.
async fn seed(t: &TestApp, merchant: &str, connection: &str, orders: &[(u64, &Pii)]) {
    let now = t.clock.now();
    let now_us = t.now_us();
    let purge = now + time::Duration::days(90);
    let epoch = epoch_of(purge);
    let ek = t.app.crypto.epoch_key(merchant, &epoch, now).await.unwrap();
    let ik = t.app.crypto.index_key(merchant, now).await.unwrap();
    let mut ups = vec![];
    for (ext, pii) in orders {
        let (ext_s, id) = (ext.to_string(), order_id(*ext));
        let row = PiiRow {
            merchant_id: merchant,
            marketplace: "shopify",
            external_id: &ext_s,
            connection_id: connection,
            order_id: &id,
        };
        let sealed = t.app.crypto.seal_pii_with(&ek, row, pii);
        ups.push(OrderUpsert {
            id: id.clone(),
            merchant_id: merchant.to_string(),
            connection_id: connection.to_string(),
            marketplace: "shopify".into(),
            external_id: ext_s.clone(),
            order_number: format!("#{ext}"),
            status: "open".into(),
            data: "{}".into(),
            content_hash: format!("h-{ext}"),
            version: 1,
            pii_ct: Some(sealed.pii_ct),
            pii_dek: Some(sealed.dek),
            pii_epoch: Some(epoch.clone()),
            pii_fields: pii.field_mask(),
            email_bidx: pii.normalized_email().map(|e| ik.index(&e)),
            buyer_bidx: None,
            source_created_at: now_us,
            source_updated_at: now_us,
            purge_after: ordersync_sdk::clock::to_micros(purge),
            now: now_us,
        });
    }
    t.app
        .store
        .commit_page(&PageCommit {
            connection_id: connection.to_string(),
            now: now_us,
            orders: ups,
            cursor: CursorRow {
                watermark: Some(now_us),
                ..Default::default()
            },
            ..Default::default()
        })
        .await
        .unwrap();
}

/// A Shopify connection of the merchant, made through the API.
async fn connection(a: &Api, tok: &str, shop: &str) -> String {
    let (st, b) = a
        .call(
            Method::POST,
            "/api/v1/connections",
            tok,
            Some(json!({ "kind": "shopify", "config": { "shop_domain": shop, "api_base_url": "http://127.0.0.1:9" }, "secrets": { "access_token": "shpat_x" } })),
        )
        .await;
    assert_eq!(st, 201, "{b}");
    b["id"].as_str().unwrap().to_string()
}

async fn operator_token(a: &Api, merchant: &str, scopes: Value) -> (u16, Value) {
    a.call(
        Method::POST,
        &format!("/api/v1/merchants/{merchant}/tokens"),
        "operator-secret",
        Some(json!({ "scopes": scopes })),
    )
    .await
}

fn dsr(kind: &str, email: &str) -> Option<Value> {
    Some(json!({ "kind": kind, "email": email }))
}

fn ts(v: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(v.as_str().expect("an RFC 3339 time"), &Rfc3339).unwrap()
}

/// Canary strings of a buyer: none may appear outside an export.
fn leaks(text: &str, tag: &str, email: &str) -> bool {
    let t = text.to_lowercase();
    t.contains(&format!("canary{}", tag.to_lowercase())) || t.contains(&email.to_lowercase())
}

#[tokio::test]
async fn dsr_export_returns_the_subjects_pii_from_every_connection_with_pii_read_only() {
    capture_logs();
    for b in backends() {
        let a = spawn_on(b).await;
        let (m, plain) = a.merchant("dsr export").await;
        let c1 = connection(&a, &plain, "one.myshopify.com").await;
        let c2 = connection(&a, &plain, "two.myshopify.com").await;
        let (ada, bob, carol) = (
            buyer("Exada", "exada@customer.test"),
            buyer("Exbob", "exbob@customer.test"),
            buyer("Excarol", "excarol@customer.test"),
        );
        // The same person on the second shop, typed differently: the index normalises.
        let ada2 = Pii {
            email: Some("  ExAda@Customer.TEST ".into()),
            ..ada.clone()
        };
        seed(&a.t, &m, &c1, &[(1001, &ada), (1002, &bob)]).await;
        seed(&a.t, &m, &c2, &[(2001, &ada2), (2002, &carol)]).await;
        // Another merchant's buyer with the same email is another controller's subject.
        let (m2, plain2) = a.merchant("other").await;
        let c3 = connection(&a, &plain2, "three.myshopify.com").await;
        seed(&a.t, &m2, &c3, &[(3001, &ada)]).await;

        // A plain merchant token cannot export, nor grant itself the scope.
        let (st, r) = a
            .call(
                Method::POST,
                "/api/v1/dsr",
                &plain,
                dsr("export", "exada@customer.test"),
            )
            .await;
        assert_eq!(st, 403, "{b:?}: {r}");
        assert_eq!(r["error"]["code"], "forbidden");
        assert!(
            r["error"]["message"].as_str().unwrap().contains("pii:read"),
            "{r}"
        );
        let (st, r) = a
            .call(
                Method::POST,
                "/api/v1/tokens",
                &plain,
                Some(json!({ "scopes": ["pii:read"] })),
            )
            .await;
        assert_eq!(st, 403, "{b:?}: a token cannot grant what it lacks: {r}");
        let (st, r) = operator_token(&a, &m, json!(["nosuch"])).await;
        assert_eq!(st, 422, "{r}");
        let (st, r) = operator_token(&a, "no-such-merchant", json!(["pii:read"])).await;
        assert_eq!(st, 404, "{r}");
        let (st, r) = operator_token(&a, &m, json!(["pii:read"])).await;
        assert_eq!(st, 201, "{r}");
        assert_eq!(r["scopes"], json!(["pii:read"]));
        let reader = r["api_token"].as_str().unwrap().to_string();

        let resp = a
            .http
            .post(format!("{}/api/v1/dsr", a.base))
            .bearer_auth(&reader)
            .json(&json!({ "kind": "export", "email": "ExAda@customer.test" }))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201, "{b:?}");
        assert_eq!(resp.headers()["cache-control"], "no-store");
        let loc = resp.headers()["location"].to_str().unwrap().to_string();
        let r: Value = resp.json().await.unwrap();
        assert_eq!(
            (r["kind"].as_str(), r["status"].as_str()),
            (Some("export"), Some("completed")),
            "{r}"
        );
        assert_eq!(r["orders"], 2, "{b:?}: {r}");
        assert_eq!(loc, format!("/api/v1/dsr/{}", r["id"].as_str().unwrap()));
        assert_eq!(
            ts(&r["due_at"]) - ts(&r["created_at"]),
            time::Duration::days(30)
        );
        let data = r["data"].as_array().unwrap();
        let mut got: Vec<(&str, &str, &str)> = data
            .iter()
            .map(|o| {
                (
                    o["connection_id"].as_str().unwrap(),
                    o["external_id"].as_str().unwrap(),
                    o["order_number"].as_str().unwrap(),
                )
            })
            .collect();
        got.sort();
        let mut want = vec![
            (c1.as_str(), "1001", "#1001"),
            (c2.as_str(), "2001", "#2001"),
        ];
        want.sort();
        assert_eq!(got, want, "{b:?}: both shops' orders, nobody else's");
        for o in data {
            let held = if o["external_id"] == "1001" {
                &ada
            } else {
                &ada2
            };
            assert_eq!(o["pii_readable"], true);
            assert_eq!(o["marketplace"], "shopify");
            assert_eq!(
                o["order_id"],
                order_id(o["external_id"].as_str().unwrap().parse().unwrap())
            );
            // Every field, as held.
            assert_eq!(o["pii"], serde_json::to_value(held).unwrap(), "{b:?}");
        }
        let text = r.to_string();
        assert!(
            !leaks(&text, "Exbob", "exbob@") && !leaks(&text, "Excarol", "excarol@"),
            "{text}"
        );

        // The request's record: clock and counts, never the data; scoped to its merchant.
        let (st, g) = a.call(Method::GET, &loc, &plain, None).await;
        assert_eq!(st, 200, "{g}");
        assert_eq!(
            (g["status"].as_str(), g["orders"].as_i64()),
            (Some("completed"), Some(2))
        );
        assert_eq!(g["due_at"], r["due_at"]);
        assert!(
            g.get("data").is_none() && !leaks(&g.to_string(), "Exada", "exada@"),
            "{g}"
        );
        let (st, _) = a.call(Method::GET, &loc, &plain2, None).await;
        assert_eq!(st, 404, "another merchant's request is invisible");
        let (_, l) = a.call(Method::GET, "/api/v1/dsr", &plain, None).await;
        assert_eq!(l["requests"].as_array().map(Vec::len), Some(1), "{l}");
        let (_, l) = a.call(Method::GET, "/api/v1/dsr", &plain2, None).await;
        assert_eq!(l["requests"], json!([]));

        // Bad input answers without echoing it.
        let (st, e) = a
            .call(
                Method::POST,
                "/api/v1/dsr",
                &reader,
                dsr("export", "Canarynotanemail"),
            )
            .await;
        assert_eq!(st, 422, "{e}");
        assert!(
            !e.to_string().to_lowercase().contains("canarynotanemail"),
            "{e}"
        );
        let (st, e) = a
            .call(
                Method::POST,
                "/api/v1/dsr",
                &reader,
                dsr("rectify", "exada@customer.test"),
            )
            .await;
        assert_eq!(st, 422, "{e}");
        assert!(!e.to_string().contains("exada"), "{e}");

        // A rotation keeps the scope; a narrower token can be asked for and cannot export.
        let (st, rot) = a.call(Method::POST, "/api/v1/tokens", &reader, None).await;
        assert_eq!((st, &rot["scopes"]), (201, &json!(["pii:read"])), "{rot}");
        let (st, narrow) = a
            .call(
                Method::POST,
                "/api/v1/tokens",
                &reader,
                Some(json!({ "scopes": [] })),
            )
            .await;
        assert_eq!((st, &narrow["scopes"]), (201, &json!([])), "{narrow}");
        let (st, _) = a
            .call(
                Method::POST,
                "/api/v1/dsr",
                narrow["api_token"].as_str().unwrap(),
                dsr("export", "exada@customer.test"),
            )
            .await;
        assert_eq!(st, 403);
        let (_, list) = a.call(Method::GET, "/api/v1/tokens", &reader, None).await;
        let scoped = list["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["scopes"] == json!(["pii:read"]))
            .count();
        assert_eq!(scoped, 2, "{list}");
        // The operator can also give a new merchant's first token the scope.
        let (st, nm) = a
            .call(
                Method::POST,
                "/api/v1/merchants",
                "operator-secret",
                Some(json!({ "name": "scoped", "scopes": ["pii:read"] })),
            )
            .await;
        assert_eq!((st, &nm["scopes"]), (201, &json!(["pii:read"])), "{nm}");

        // The routes are in the OpenAPI document.
        let spec: Value = a
            .http
            .get(format!("{}/openapi.json", a.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for path in [
            "/api/v1/dsr",
            "/api/v1/dsr/{id}",
            "/api/v1/merchants/{id}/tokens",
        ] {
            assert!(spec["paths"].get(path).is_some(), "missing {path}");
        }
        assert!(spec["paths"]["/api/v1/dsr"]["post"]["requestBody"].is_object());

        // Audited with counts only; the refusal too. Nothing of the buyer in audit or logs,
        // and the export is not stored anywhere (SQLite: the database files themselves).
        let audit = a.t.app.store.list_audit(&m, 100).await.unwrap();
        let ex: Vec<_> = audit.iter().filter(|r| r.action == "dsr.export").collect();
        assert_eq!(ex.len(), 1, "{audit:?}");
        let detail: Value = serde_json::from_str(ex[0].detail.as_deref().unwrap()).unwrap();
        assert_eq!(
            detail,
            json!({ "status": "completed", "orders": 2, "unreadable": 0 })
        );
        assert_eq!(
            audit.iter().filter(|r| r.action == "dsr.refused").count(),
            2
        );
        assert!(
            !leaks(&format!("{audit:?}"), "Exada", "exada@"),
            "{audit:?}"
        );
        assert!(!leaks(&captured_logs(), "Exada", "exada@"));
        if b == Backend::Sqlite {
            assert_eq!(
                grep_dir(&a.t.dir, "CanaryExada"),
                Vec::<std::path::PathBuf>::new()
            );
        }
    }
}

/// A sink connection of the merchant that already holds order `order` (delivered, with a ref).
async fn delivered_to_sink(t: &TestApp, merchant: &str, order: &str) -> String {
    let now = t.now_us();
    let sink = uuid::Uuid::now_v7().to_string();
    t.app
        .store
        .insert_connection(&ConnectionRow {
            id: sink.clone(),
            merchant_id: merchant.into(),
            kind: "shipstation".into(),
            role: "sink".into(),
            name: "ShipStation".into(),
            config: "{}".into(),
            secrets_ct: None,
            state: "active".into(),
            next_pull_at: now,
            last_pull_at: None,
            last_error: None,
            created_at: now,
            version: 1,
            build_version: 1,
        })
        .await
        .unwrap();
    t.app
        .store
        .enqueue_new_deliveries(
            &[ordersync::store::DeliveryEnqueue {
                id: uuid::Uuid::now_v7().to_string(),
                order_id: order.into(),
                merchant_id: merchant.into(),
                sink_connection_id: sink.clone(),
                version: 1,
                idempotency_key: "k".into(),
            }],
            now,
        )
        .await
        .unwrap();
    let claimed = t
        .app
        .store
        .claim_sink_deliveries("w", &sink, now, now + 60_000_000, 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    t.app
        .store
        .complete_deliveries(
            "w",
            now,
            &[DeliveryResult::Done {
                id: claimed[0].id.clone(),
                external_ref: "se-123".into(),
                version: 1,
                next_track_at: None,
            }],
        )
        .await
        .unwrap();
    sink
}

#[tokio::test]
async fn dsr_erase_removes_the_subject_everywhere_but_under_a_legal_hold() {
    capture_logs();
    for b in backends() {
        let a = spawn_on(b).await;
        let (m, tok) = a.merchant("dsr erase").await;
        let c1 = connection(&a, &tok, "one.myshopify.com").await;
        let c2 = connection(&a, &tok, "two.myshopify.com").await;
        let (eve, bob) = (
            buyer("Ereve", "ereve@customer.test"),
            buyer("Erbob", "erbob@customer.test"),
        );
        seed(&a.t, &m, &c1, &[(4001, &eve), (4002, &bob)]).await;
        seed(&a.t, &m, &c2, &[(4003, &eve), (4004, &eve)]).await;
        let sink = delivered_to_sink(&a.t, &m, &order_id(4001)).await;
        // 4004 is under a legal hold: its PII stays.
        let until = (a.t.clock.now() + time::Duration::days(365))
            .format(&Rfc3339)
            .unwrap();
        let (st, _) = a
            .call(
                Method::PUT,
                &format!("/api/v1/orders/{}/legal-hold", order_id(4004)),
                &tok,
                Some(
                    json!({ "hold": true, "legal_basis": "a court order (test)", "until": until }),
                ),
            )
            .await;
        assert_eq!(st, 200);

        // Erasing needs no PII scope: it reveals nothing.
        let (st, r) = a
            .call(
                Method::POST,
                "/api/v1/dsr",
                &tok,
                dsr("erase", " EREVE@customer.test"),
            )
            .await;
        assert_eq!(st, 201, "{b:?}: {r}");
        assert_eq!(r["status"], "completed");
        assert_eq!(
            (
                r["orders"].as_i64(),
                r["erased"].as_i64(),
                r["held"].as_i64()
            ),
            (Some(3), Some(2), Some(1)),
            "{b:?}: {r}"
        );
        assert_eq!(
            r["recipients"],
            json!([{ "connection_id": sink, "kind": "shipstation", "orders": 1 }]),
            "{r}"
        );
        assert_eq!(
            ts(&r["due_at"]) - ts(&r["created_at"]),
            time::Duration::days(30)
        );
        assert!(r.get("data").is_none(), "{r}");

        let rows =
            a.t.app
                .store
                .orders_by_ids(&[4001, 4002, 4003, 4004].map(order_id))
                .await
                .unwrap();
        let by_ext = |e: &str| rows.iter().find(|o| o.external_id == e).unwrap();
        for gone in ["4001", "4003"] {
            let o = by_ext(gone);
            assert!(
                o.pii_ct.is_none() && o.pii_dek.is_none() && o.pii_purged_at.is_some(),
                "{b:?}: {gone} erased"
            );
        }
        for kept in ["4002", "4004"] {
            let o = by_ext(kept);
            assert!(
                o.pii_ct.is_some() && o.pii_purged_at.is_none(),
                "{b:?}: {kept} kept"
            );
        }
        // The blind index went with the PII: only the held order is still found.
        let (_, reader) = operator_token(&a, &m, json!(["pii:read"])).await;
        let (st, ex) = a
            .call(
                Method::POST,
                "/api/v1/dsr",
                reader["api_token"].as_str().unwrap(),
                dsr("export", "ereve@customer.test"),
            )
            .await;
        assert_eq!(st, 201, "{ex}");
        assert_eq!(ex["orders"], 1, "{ex}");
        assert_eq!(ex["data"][0]["external_id"], "4004");
        let held_until = ts(&ex["data"][0]["legal_hold_until"]) - ts(&json!(until));
        assert!(held_until.abs() < time::Duration::milliseconds(1), "{ex}");
        assert_eq!(ex["data"][0]["pii"]["notes"], "CanaryEreve note");

        // Repeating the erase is harmless and says what is left.
        let (st, again) = a
            .call(
                Method::POST,
                "/api/v1/dsr",
                &tok,
                dsr("erase", "ereve@customer.test"),
            )
            .await;
        assert_eq!(
            (st, again["erased"].as_i64(), again["held"].as_i64()),
            (201, Some(0), Some(1)),
            "{again}"
        );

        // Neither the answers nor the request's record nor the audit name the buyer.
        let id = r["id"].as_str().unwrap();
        let (_, g) = a
            .call(Method::GET, &format!("/api/v1/dsr/{id}"), &tok, None)
            .await;
        assert_eq!(
            (g["erased"].as_i64(), g["held"].as_i64()),
            (Some(2), Some(1)),
            "{g}"
        );
        let (_, l) = a.call(Method::GET, "/api/v1/dsr", &tok, None).await;
        let audit = a.t.app.store.list_audit(&m, 100).await.unwrap();
        for text in [
            r.to_string(),
            again.to_string(),
            g.to_string(),
            l.to_string(),
            format!("{audit:?}"),
        ] {
            assert!(!leaks(&text, "Ereve", "ereve@"), "{b:?}: {text}");
        }
        let er: Vec<Value> = audit
            .iter()
            .filter(|r| r.action == "dsr.erase")
            .map(|r| serde_json::from_str(r.detail.as_deref().unwrap()).unwrap())
            .collect();
        assert!(
            er.contains(&json!({ "status": "completed", "orders": 3, "erased": 2, "held": 1 })),
            "{er:?}"
        );
        // The store's own erasure record, per connection that had some.
        assert_eq!(
            audit.iter().filter(|r| r.action == "pii.erased").count(),
            2,
            "{audit:?}"
        );
        assert!(!leaks(&captured_logs(), "Ereve", "ereve@"));
    }
}

/// Every stored order of a merchant: external id → (version, PII if held).
async fn stored(t: &TestApp, merchant: &str) -> Vec<(String, i64, Option<Pii>)> {
    let q = OrderQuery {
        merchant_id: merchant.to_string(),
        limit: 1000,
        ..OrderQuery::default()
    };
    let summaries = t.app.store.list_orders(&q).await.unwrap();
    let ids: Vec<String> = summaries.iter().map(|s| s.id.clone()).collect();
    let mut out = vec![];
    for row in t.app.store.orders_by_ids(&ids).await.unwrap() {
        let version = summaries.iter().find(|s| s.id == row.id).unwrap().version;
        let pii = match (&row.pii_ct, &row.pii_dek) {
            (Some(ct), Some(dek)) => Some(
                t.app
                    .crypto
                    .open_pii(
                        PiiRow {
                            merchant_id: &row.merchant_id,
                            marketplace: &row.marketplace,
                            external_id: &row.external_id,
                            connection_id: &row.connection_id,
                            order_id: &row.id,
                        },
                        row.pii_epoch.as_deref().unwrap(),
                        &SealedPii {
                            pii_ct: ct.clone(),
                            dek: dek.clone(),
                        },
                        t.clock.now(),
                    )
                    .await
                    .unwrap(),
            ),
            _ => None,
        };
        out.push((row.external_id, version, pii));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Pulls (the real engine, one pass per call) until `done` holds; the clock moves past the
/// poll interval between passes so the connection is due again. No sleeping.
async fn pull_until(
    t: &TestApp,
    merchant: &str,
    done: impl Fn(&[(String, i64, Option<Pii>)]) -> bool,
) {
    let engine = t.app.engine();
    for _ in 0..20 {
        engine.pull_once().await.unwrap();
        if done(&stored(t, merchant).await) {
            return;
        }
        t.clock.advance(time::Duration::seconds(2));
    }
    panic!(
        "the pulls did not reach the expected state: {:?}",
        stored(t, merchant)
            .await
            .iter()
            .map(|o| (&o.0, o.1, o.2.is_some()))
            .collect::<Vec<_>>()
    );
}

/// Through the CLI's function and a real Shopify pull: an erased order that the platform
/// sends again, PII and all, stays without PII; the buyer's other orders elsewhere are
/// untouched.
#[tokio::test]
async fn dsr_erased_orders_get_no_pii_back_on_a_real_reingest() {
    for b in backends() {
        let t = TestApp::new(b).await;
        let clock: Arc<dyn Clock> = t.clock.clone();
        let sim =
            ordersync_shopify::sim::spawn(ordersync_shopify::sim::SimOptions::relaxed(), clock)
                .await
                .unwrap();
        let spec = ordersync_shopify::DESCRIPTOR.sim.unwrap();
        let (merchant, _) = provision(
            &t,
            &[(
                "shopify",
                "source",
                (spec.demo_config)(&sim.base_url),
                spec.demo_secrets,
            )],
        )
        .await;
        sim_post(
            &sim.base_url,
            "/_sim/seed",
            json!({ "count": 4, "seed": 11 }),
        )
        .await;
        pull_until(&t, &merchant, |o| o.len() == 4).await;
        let first = stored(&t, &merchant).await;
        let (target, _, pii) = &first[0];
        let email = pii
            .as_ref()
            .and_then(|p| p.email.clone())
            .expect("the sim sends emails");
        assert!(
            first.iter().all(|o| o.2.is_some()),
            "{b:?}: every order came with PII"
        );

        let cli = |kind: &str| {
            let args = DsrArgs {
                merchant: merchant.clone(),
                email: email.to_uppercase(),
            };
            if kind == "export" {
                DsrCommand::Export(args)
            } else {
                DsrCommand::Erase(args)
            }
        };
        let ex = run_cli(&t.app, cli("export")).await.unwrap();
        assert_eq!(
            (ex["status"].as_str(), ex["actor"].as_str()),
            (Some("completed"), Some("operator")),
            "{ex}"
        );
        assert_eq!(ex["data"][0]["external_id"], target.as_str(), "{b:?}: {ex}");
        assert_eq!(ex["data"][0]["pii"]["email"], email.as_str());
        assert_eq!(
            ts(&ex["due_at"]) - ts(&ex["created_at"]),
            time::Duration::days(30)
        );
        let er = run_cli(&t.app, cli("erase")).await.unwrap();
        assert_eq!(
            (er["erased"].as_i64(), er["held"].as_i64()),
            (Some(1), Some(0)),
            "{b:?}: {er}"
        );
        assert!(
            !er.to_string()
                .to_lowercase()
                .contains(&email.to_lowercase()),
            "{er}"
        );
        // An unknown merchant is refused before any key is made for it.
        let e = run_cli(
            &t.app,
            DsrCommand::Erase(DsrArgs {
                merchant: "no-such-merchant".into(),
                email: email.clone(),
            }),
        )
        .await
        .unwrap_err();
        assert!(!e.to_string().contains(&email), "{e}");

        // The platform changes every order and sends them again, the erased one with its PII.
        t.clock.advance(time::Duration::minutes(1));
        let touched = sim_post(&sim.base_url, "/_sim/update", json!({ "count": 4 })).await;
        assert_eq!(touched["updated"], 4, "{touched}");
        let secrets: ordersync_sdk::Secrets = spec
            .demo_secrets
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string().into()))
            .collect();
        let direct = ordersync::registry::build_source(
            "shopify",
            &(spec.demo_config)(&sim.base_url),
            &secrets,
            &ordersync_sdk::ConnectorDeps::for_simulators(),
        )
        .unwrap();
        let refetched = direct
            .fetch(target)
            .await
            .unwrap()
            .expect("still at Shopify");
        assert_eq!(
            refetched.pii.email.as_deref(),
            Some(email.as_str()),
            "{b:?}: Shopify sends the PII again"
        );
        // Past the connector's settle delay, so the changes are inside a pull window.
        t.clock.advance(time::Duration::minutes(5));
        pull_until(&t, &merchant, |o| o.iter().all(|(_, v, _)| *v >= 2)).await;

        let after = stored(&t, &merchant).await;
        for ((ext, v, pii), (_, _, before)) in after.iter().zip(&first) {
            if ext == target {
                assert!(
                    pii.is_none(),
                    "{b:?}: the erased order {ext} (version {v}) got no PII back"
                );
            } else {
                // The update may change some fields; the buyer stays the same.
                let email = |p: &Option<Pii>| p.as_ref().and_then(|p| p.email.clone());
                assert!(
                    pii.is_some() && email(pii) == email(before),
                    "{b:?}: order {ext} keeps its PII"
                );
            }
        }
        let rows = t
            .app
            .store
            .orders_by_ids(&[order_id_of(&t, &merchant, target).await])
            .await
            .unwrap();
        assert!(
            rows[0].pii_purged_at.is_some() && rows[0].pii_dek.is_none(),
            "{b:?}: still purged"
        );
        let ex = run_cli(&t.app, cli("export")).await.unwrap();
        assert_eq!(ex["orders"], 0, "{b:?}: nothing held about the buyer: {ex}");
    }
}

async fn order_id_of(t: &TestApp, merchant: &str, ext: &str) -> String {
    let q = OrderQuery {
        merchant_id: merchant.to_string(),
        limit: 1000,
        ..OrderQuery::default()
    };
    t.app
        .store
        .list_orders(&q)
        .await
        .unwrap()
        .into_iter()
        .find(|o| o.external_id == ext)
        .unwrap()
        .id
}

/// Export and erase among many stored orders (SQLite), 10 of them each subject's, on two
/// connections: each finds exactly the subject's orders and erases only them. Scaled: the
/// test run seeds 10,000 orders; the latency figure in `docs/benchmarks.md` is this test over
/// 100,000 in release:
/// `ORDERSYNC_BENCH_ORDERS=100000 cargo test --release -p ordersync --test e2e dsr_over_many -- --nocapture`.
#[tokio::test]
async fn dsr_over_many_orders_finds_and_erases_only_the_subjects() {
    let orders = crate::helpers::bench_orders(10_000);
    const SUBJECTS: u64 = 5;
    const PER_SUBJECT: u64 = 10;
    // Subject s owns the first 5 orders of the two halves of its stride, one half per
    // connection.
    let stride = (orders / SUBJECTS).max(2 * PER_SUBJECT) & !1;
    let half = stride / 2;
    let orders = stride * SUBJECTS;
    let t = TestApp::new(Backend::Sqlite).await;
    let (m, conns) = provision(
        &t,
        &[
            (
                "shopify",
                "source",
                json!({ "shop_domain": "a.myshopify.com" }),
                &[],
            ),
            (
                "shopify",
                "source",
                json!({ "shop_domain": "b.myshopify.com" }),
                &[],
            ),
        ],
    )
    .await;
    let subject = |s: u64| format!("subject{s}@customer.test");
    let people: Vec<Pii> = (0..orders)
        .map(|i| {
            let email = if i % half < PER_SUBJECT / 2 {
                subject(i / stride)
            } else {
                format!("buyer{i}@customer.test")
            };
            buyer("Bench", &email)
        })
        .collect();
    let started = std::time::Instant::now();
    for (n, chunk) in (0..orders)
        .collect::<Vec<_>>()
        .chunks(half as usize)
        .enumerate()
    {
        let c = &conns[n % 2];
        let batch: Vec<(u64, &Pii)> = chunk
            .iter()
            .map(|i| (*i + 1, &people[*i as usize]))
            .collect();
        seed(&t, &m, c, &batch).await;
    }
    let seeded = started.elapsed();
    let dsr = ordersync::dsr::Dsr::of(&t.app);
    let mut export = vec![];
    let mut erase = vec![];
    for s in 0..SUBJECTS {
        let at = std::time::Instant::now();
        let out = dsr
            .run(&m, ordersync::dsr::DsrKind::Export, &subject(s), "operator")
            .await
            .unwrap();
        export.push(at.elapsed());
        assert_eq!(out.request.orders, Some(PER_SUBJECT as i64));
        assert!(out.data.iter().all(|o| o.pii.is_some()));
        let at = std::time::Instant::now();
        let out = dsr
            .run(&m, ordersync::dsr::DsrKind::Erase, &subject(s), "operator")
            .await
            .unwrap();
        erase.push(at.elapsed());
        assert_eq!(out.request.erased, Some(PER_SUBJECT as i64));
    }
    assert_eq!(
        t.app.store.totals().await.unwrap().pii_purged,
        (SUBJECTS * PER_SUBJECT) as i64,
        "nobody else's PII went"
    );
    export.sort();
    erase.sort();
    println!(
        "dsr latency over {orders} orders (seeded in {:.1}s), {PER_SUBJECT} orders per subject, {SUBJECTS} subjects: \
         export median {:.1} ms (min {:.1}, max {:.1}); erase median {:.1} ms (min {:.1}, max {:.1})",
        seeded.as_secs_f64(),
        export[export.len() / 2].as_secs_f64() * 1e3,
        export[0].as_secs_f64() * 1e3,
        export[export.len() - 1].as_secs_f64() * 1e3,
        erase[erase.len() / 2].as_secs_f64() * 1e3,
        erase[0].as_secs_f64() * 1e3,
        erase[erase.len() - 1].as_secs_f64() * 1e3,
    );
}

/// The real binary: `ordersync dsr export|erase` prints the JSON answer on stdout (logs go
/// to stderr), reads `--email -` from stdin, and refuses an unknown merchant without
/// naming the email.
#[tokio::test]
async fn dsr_cli_prints_its_answer_as_json() {
    use ordersync::crypto::kek::LocalKek;
    use std::io::Write;
    let dir = crate::helpers::temp_dir();
    let key = LocalKek::generate_base64();
    let db = format!("sqlite://{}", dir.join("ordersync.db").display());
    let ks = format!("sqlite://{}", dir.join("keystore.db").display());
    let cfg = ordersync::config::Config {
        database_url: db.clone(),
        keystore_url: Some(ks.clone()),
        ..Default::default()
    };
    let clock = Arc::new(ordersync_sdk::ManualClock::new());
    let kek = Arc::new(LocalKek::from_base64(&key).unwrap());
    let app = ordersync::app::App::open(cfg, kek, clock.clone())
        .await
        .unwrap();
    let t = TestApp { app, clock, dir };
    let (m, conns) = provision(
        &t,
        &[(
            "shopify",
            "source",
            json!({ "shop_domain": "cli.myshopify.com" }),
            &[],
        )],
    )
    .await;
    let cli = buyer("Clicat", "clicat@customer.test");
    seed(&t, &m, &conns[0], &[(6001, &cli)]).await;

    let run = |args: &[&str], stdin: &str| {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ordersync"))
            .args(args)
            .env("ORDERSYNC_MASTER_KEY", &key)
            .env("ORDERSYNC_DATABASE_URL", &db)
            .env("ORDERSYNC_KEYSTORE_URL", &ks)
            .env_remove("ORDERSYNC_CLOCK_OFFSET_FILE")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let out = run(
        &["dsr", "export", "--merchant", &m, "--email", "-"],
        "CliCat@customer.test\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON document");
    assert_eq!(
        (v["kind"].as_str(), v["orders"].as_i64()),
        (Some("export"), Some(1)),
        "{v}"
    );
    assert_eq!(v["data"][0]["pii"], serde_json::to_value(&cli).unwrap());
    assert!(!leaks(
        &String::from_utf8_lossy(&out.stderr),
        "Clicat",
        "clicat@"
    ));

    let out = run(
        &[
            "dsr",
            "erase",
            "--merchant",
            &m,
            "--email",
            "clicat@customer.test",
        ],
        "",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["erased"].as_i64(), v["actor"].as_str()),
        (Some(1), Some("operator")),
        "{v}"
    );
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!leaks(&text, "Clicat", "clicat@"), "{text}");
    let row = &t.app.store.orders_by_ids(&[order_id(6001)]).await.unwrap()[0];
    assert!(row.pii_ct.is_none() && row.pii_purged_at.is_some());

    let out = run(
        &[
            "dsr",
            "erase",
            "--merchant",
            "nosuch",
            "--email",
            "clicat@customer.test",
        ],
        "",
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no such merchant") && !leaks(&err, "Clicat", "clicat@"),
        "{err}"
    );
}
