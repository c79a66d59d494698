//! Sage's rotating, single-use refresh tokens: the new one is persisted before the access
//! token is used, one refresh at a time per connection, a 401 refreshes once.

use crate::{Keep, build_with, config, env, key, secrets};
use async_trait::async_trait;
use ordersync_conformance::{sample_order, sim_get, sim_post};
use ordersync_sdk::sim::SimStats;
use ordersync_sdk::{ConnectorDeps, ConnectorError, DeliveryRequest, ErrorClass, SecretsPersister};
use secrecy::SecretString;
use serde_json::json;
use std::sync::Arc;

async fn stats(base: &str) -> SimStats {
    serde_json::from_value(sim_get(base, "/_sim/stats").await).unwrap()
}

fn api_calls(s: &SimStats) -> u64 {
    s.by_route
        .iter()
        .filter(|(k, _)| k.contains("/v3.1/"))
        .map(|(_, n)| n)
        .sum()
}

fn refreshes(s: &SimStats) -> u64 {
    s.by_route.get("POST /token").copied().unwrap_or(0)
}

struct Refuse;

#[async_trait]
impl SecretsPersister for Refuse {
    async fn persist(&self, _: &str, _: &SecretString) -> Result<(), ConnectorError> {
        Err(ConnectorError::retriable("secrets store unavailable"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rotated_token_is_persisted_before_it_is_used() {
    let e = env().await;
    let deliver = |sink: Arc<dyn ordersync_sdk::Sink>, n: u64| {
        let o = sample_order(n);
        async move {
            sink.deliver(DeliveryRequest {
                order: &o,
                idempotency_key: &key("v", n),
                object_key: &key("o", n),
                previous_ref: None,
            })
            .await
        }
    };
    // A store that cannot keep the new refresh token: no API call is made with its partner.
    let deps = ConnectorDeps {
        clock: e.clock.clone(),
        secrets: Arc::new(Refuse),
        ..ConnectorDeps::for_simulators()
    };
    let refusing =
        ordersync_sage::build_sink(&config(&e.sim.base_url, json!({})), &secrets("rt-x"), &deps)
            .unwrap();
    assert!(deliver(refusing, 1).await.is_err());
    let s = stats(&e.sim.base_url).await;
    assert_eq!((refreshes(&s), api_calls(&s)), (1, 0));
    // The normal sink persists the rotated token, and the persisted one is the live one.
    deliver(e.sink.clone(), 2).await.unwrap();
    let kept = e.keep.0.lock().unwrap().clone();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].0, "refresh_token");
    let later = build_with(
        &e.sim.base_url,
        &kept[0].1,
        &e.clock,
        Arc::new(Keep::default()),
        json!({}),
    );
    deliver(later, 3)
        .await
        .expect("the persisted refresh token works");
    // ...and the original one is spent.
    let stale = build_with(
        &e.sim.base_url,
        "rt-initial",
        &e.clock,
        Arc::new(Keep::default()),
        json!({}),
    );
    let err = deliver(stale, 4).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Auth);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_refresh_at_a_time_and_once_per_expiry() {
    let e = env().await;
    let tasks: Vec<_> = (0..8u64)
        .map(|n| {
            let sink = e.sink.clone();
            tokio::spawn(async move {
                let o = sample_order(10 + n);
                sink.deliver(DeliveryRequest {
                    order: &o,
                    idempotency_key: &key("c", n),
                    object_key: &key("d", n),
                    previous_ref: None,
                })
                .await
                .map(|_| ())
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(
        refreshes(&stats(&e.sim.base_url).await),
        1,
        "no double refresh"
    );
    // The access token lives ~300 s: after that, one more refresh.
    e.clock.advance(time::Duration::seconds(301));
    let o = sample_order(30);
    e.sink
        .deliver(DeliveryRequest {
            order: &o,
            idempotency_key: &key("c", 30),
            object_key: &key("d", 30),
            previous_ref: None,
        })
        .await
        .unwrap();
    assert_eq!(refreshes(&stats(&e.sim.base_url).await), 2);
    assert_eq!(e.keep.0.lock().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_401_refreshes_once_and_retries() {
    let e = env().await;
    let go = |n: u64| {
        let (sink, o) = (e.sink.clone(), sample_order(40 + n));
        async move {
            sink.deliver(DeliveryRequest {
                order: &o,
                idempotency_key: &key("e", n),
                object_key: &key("f", n),
                previous_ref: None,
            })
            .await
        }
    };
    go(1).await.unwrap();
    let expired: serde_json::Value =
        sim_post(&e.sim.base_url, "/_sim/expire_tokens", json!({})).await;
    assert!(expired["expired"].as_u64().unwrap() >= 1);
    go(2).await.expect("refreshed after the 401");
    assert_eq!(refreshes(&stats(&e.sim.base_url).await), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_401_is_auth() {
    // Tokens that are dead on arrival: the refresh after the first 401 cannot help.
    let e = crate::env_with(ordersync_sage::sim::SimOptions {
        access_ttl_secs: 0,
        ..ordersync_sage::sim::SimOptions::relaxed()
    })
    .await;
    let o = sample_order(50);
    let err = e
        .sink
        .deliver(DeliveryRequest {
            order: &o,
            idempotency_key: &key("g", 1),
            object_key: &key("h", 1),
            previous_ref: None,
        })
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Auth);
    assert_eq!(
        refreshes(&stats(&e.sim.base_url).await),
        2,
        "one refresh per 401, once"
    );
}
