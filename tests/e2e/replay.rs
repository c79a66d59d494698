//! Dead letters come back: deliveries a target refused for good are dead with the target's
//! reason; `POST /api/v1/deliveries/{id}/replay` and `ordersync deliveries replay` re-arm them
//! (audited), and the next delivery pass sends each exactly once. On every backend.

use crate::helpers::{TestApp, api_for, backends, call, shippable, shopify_and_shipstation};
use ordersync::deliveries::{DeliveriesCommand, run};
use ordersync::engine::Engine;
use ordersync_conformance::{sim_get, sim_post};
use serde_json::json;

async fn deliver_all(e: &Engine) {
    for _ in 0..50 {
        if e.deliver_once().await.unwrap().work == 0 {
            return;
        }
    }
    panic!("the deliveries do not end");
}

async fn received(base: &str) -> Vec<String> {
    let mut ids: Vec<String> = sim_get(base, "/_sim/received").await["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["external_order_id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn dead_deliveries_are_replayed_by_the_api_and_the_cli_exactly_once() {
    for b in backends() {
        let t = TestApp::new(b).await;
        let (shop, ss, m, ids) = shopify_and_shipstation(&t, "replay.myshopify.com").await;
        sim_post(
            &shop.base_url,
            "/_sim/seed",
            json!({ "count": 12, "seed": 21 }),
        )
        .await;
        let want = shippable(&shop.base_url).await.len();
        assert!(want >= 4, "{b:?}: the seed ships enough orders ({want})");
        sim_post(&ss.base_url, "/_sim/reject", json!({ "count": 3 })).await;
        let e = t.app.engine();
        e.pull_once().await.unwrap();
        deliver_all(&e).await;

        let dead = t
            .app
            .store
            .list_deliveries(&m, Some("dead"), 100)
            .await
            .unwrap();
        assert_eq!(dead.len(), 3, "{b:?}: {dead:?}");
        assert!(
            dead.iter().all(|d| d.sink_connection_id == ids[1]
                && d.last_error
                    .as_deref()
                    .is_some_and(|r| r.starts_with("permanent"))),
            "{b:?}: dead with the target's reason: {dead:?}"
        );
        assert_eq!(received(&ss.base_url).await.len(), want - 3, "{b:?}");

        // The API re-arms one; a second replay of it finds no dead delivery.
        let (base, token) = api_for(&t, e.clone(), &m).await;
        let url = format!("{base}/api/v1/deliveries/{}/replay", dead[0].id);
        let (code, body) = call(reqwest::Method::POST, url.clone(), &token).await;
        assert_eq!((code, &body), (202, &json!({ "replayed": true })), "{b:?}");
        assert_eq!(
            call(reqwest::Method::POST, url, &token).await.0,
            404,
            "{b:?}"
        );

        // The CLI: an unknown id is reported and fails the command; --all-dead takes the rest.
        let out = run(
            &t.app,
            DeliveriesCommand::Replay {
                merchant: m.clone(),
                ids: vec!["no-such-delivery".into()],
                all_dead: false,
                sink: None,
            },
        )
        .await
        .unwrap();
        assert!(!out.complete, "{b:?}");
        assert_eq!(
            out.json["not_replayed"],
            json!(["no-such-delivery"]),
            "{b:?}"
        );
        // Another merchant's name replays nothing of this one.
        let other = run(
            &t.app,
            DeliveriesCommand::Replay {
                merchant: "someone-else".into(),
                ids: vec![],
                all_dead: true,
                sink: None,
            },
        )
        .await
        .unwrap();
        assert_eq!(other.json["replayed"], 0, "{b:?}");
        let out = run(
            &t.app,
            DeliveriesCommand::Replay {
                merchant: m.clone(),
                ids: vec![],
                all_dead: true,
                sink: Some(ids[1].clone()),
            },
        )
        .await
        .unwrap();
        assert_eq!(out.json["replayed"], 2, "{b:?}");

        deliver_all(&e).await;
        let got = received(&ss.base_url).await;
        let mut unique = got.clone();
        unique.dedup();
        assert_eq!((got.len(), unique.len()), (want, want), "{b:?}: once each");
        let listed = run(
            &t.app,
            DeliveriesCommand::List {
                merchant: m.clone(),
                status: Some("dead".into()),
                limit: 100,
            },
        )
        .await
        .unwrap();
        assert_eq!(listed.json["deliveries"], json!([]), "{b:?}");
        let audit = t.app.store.list_audit(&m, 100).await.unwrap();
        let actions: Vec<_> = audit.iter().map(|a| a.action.as_str()).collect();
        assert!(actions.contains(&"delivery.replayed"), "{b:?}: {actions:?}");
        assert!(
            actions.contains(&"deliveries.replayed"),
            "{b:?}: {actions:?}"
        );

        let bad = run(
            &t.app,
            DeliveriesCommand::List {
                merchant: m.clone(),
                status: Some("lost".into()),
                limit: 10,
            },
        )
        .await;
        assert!(bad.is_err(), "{b:?}: an unknown status is refused");
    }
}
